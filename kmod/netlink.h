/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_NETLINK_H
#define _TSCF_NETLINK_H

#include <linux/types.h>

struct net_device;
struct tscf_tunnel;
struct tscf_sk;
struct net;
struct sk_buff;
struct netlink_callback;
struct genl_family;

extern struct genl_family tscf_genl_family;

int tscf_genl_register(void);
void tscf_genl_unregister(void);

/* Multicast to the group of their kind (uapi/linux/tscf.h); any context. */
void tscf_nl_notify_ctrl(struct tscf_tunnel *t, const void *frame, size_t len);
void tscf_nl_notify_tunnel(struct net_device *dev, u64 tsid, u8 event,
			   u8 reason);
void tscf_nl_notify_demand(struct net_device *dev, bool demand);
void tscf_nl_notify_sock(struct net *net, struct tscf_sk *e, u8 event);
int tscf_nl_fill_sock(struct sk_buff *skb, struct tscf_sk *e,
		      struct netlink_callback *cb);

#endif /* _TSCF_NETLINK_H */
