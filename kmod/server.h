/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_SERVER_H
#define _TSCF_SERVER_H

#include <linux/types.h>

struct net;
struct net_device;

int tscf_srv_init(void);
void tscf_srv_exit(void);
bool tscf_dev_is_srv(const struct net_device *dev);
void tscf_srv_owner_gone(struct net *net, u32 portid);

#endif /* _TSCF_SERVER_H */
