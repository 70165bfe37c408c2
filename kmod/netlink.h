/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_NETLINK_H
#define _TSCF_NETLINK_H

#include <linux/types.h>

struct net_device;
struct tscf_tunnel;

int tscf_genl_register(void);
void tscf_genl_unregister(void);

/* Multicast to the "events" group; any context. */
void tscf_nl_notify_ctrl(struct tscf_tunnel *t, const void *frame, size_t len);
void tscf_nl_notify_tunnel(struct net_device *dev, u64 tsid, u8 event,
			   u8 reason);

#endif /* _TSCF_NETLINK_H */
