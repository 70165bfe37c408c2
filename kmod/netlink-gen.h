/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	docs/netlink/tscf.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_TSCF_GEN_H
#define _LINUX_TSCF_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/tscf_genl.h>
#include <linux/tscf_wire.h>
#include <linux/tscf_wire.h>

/* Common nested types */
extern const struct nla_policy tscf_srv_peer_nl_policy[TSCF_SRV_PEER_A_FRAME_SEQ + 1];
extern const struct nla_policy tscf_stats_nl_policy[TSCF_STATS_A_TXQ_BYTES + 1];
extern const struct nla_policy tscf_tunnel_nl_policy[TSCF_TUNNEL_A_SUPER_FRAMES + 1];

/* Global operation policy for tscf */
extern const struct nla_policy tscf_nl_policy[TSCF_A_SRV_PEER + 1];

/* Ops table for tscf */
extern const struct genl_small_ops tscf_nl_ops[13];

int tscf_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int tscf_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_tunnel_attach_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_tunnel_detach_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_ctrl_send_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_sock_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int tscf_nl_srv_new_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_sock_add_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_peer_set_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_peer_del_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_peer_get_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_peer_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int tscf_nl_srv_listen_doit(struct sk_buff *skb, struct genl_info *info);
int tscf_nl_srv_peer_send_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	TSCF_NLGRP_CTRL,
	TSCF_NLGRP_TUNNEL,
	TSCF_NLGRP_SOCK,
};

#endif /* _LINUX_TSCF_GEN_H */
