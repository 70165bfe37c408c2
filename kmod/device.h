/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_DEVICE_H
#define _TSCF_DEVICE_H

#include <linux/netdevice.h>
#include <net/gro_cells.h>
#include <net/rtnetlink.h>

struct tscf_tunnel;

#define TSCF_DRV_NAME		"tscf"
#define TSCF_DRV_VERSION	"0.1"

/*
 * Room for the worst outer encapsulation of one inner packet:
 * IPv6 (40) + TCP with timestamps (32) + a TLS 1.2 AES-GCM record
 * header, explicit nonce and tag (5 + 8 + 16).
 */
#define TSCF_ENCAP_OVERHEAD	(40 + 32 + 29)
#define TSCF_DEFAULT_MTU	(ETH_DATA_LEN - TSCF_ENCAP_OVERHEAD)
#define TSCF_MAX_MTU		(IP_MAX_MTU - TSCF_ENCAP_OVERHEAD)
/* Packets the qdisc holds while a tunnel's transmit queue is stopped. */
#define TSCF_TX_QUEUE_LEN	1000

/*
 * One tscf link is a pair of netdevices created and destroyed together:
 * the clear one (named by the user, e.g. tscf0) and its encrypted twin
 * (the same name plus "s").  Each points at the other; the pointers are
 * written under RTNL and read under RCU from the data path.
 */
struct tscf_dev {
	struct net_device *dev;
	struct net_device __rcu *twin;
	struct tscf_tunnel __rcu *tunnel;	/* tunnel.c */
	bool encrypted;
	struct gro_cells gro_cells;	/* receive; drops while down */
	atomic64_t tx_malformed;	/* not a well-formed IP packet */
	atomic64_t tx_blocked;	/* encrypted-only traffic kept out of clear */
	atomic64_t rx_blocked;
};

extern struct rtnl_link_ops tscf_link_ops;

static inline bool tscf_dev_is_tscf(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &tscf_link_ops;
}

void tscf_xmit_no_tunnel(struct sk_buff *skb, struct net_device *dev);
void tscf_dev_xmit_tunnel(struct tscf_tunnel *t, struct sk_buff *skb);
unsigned int tscf_super_tcp_thoff(const struct sk_buff *skb,
				  unsigned int ipoff, __be16 proto,
				  unsigned int more_gso);
bool tscf_dev_enc_path_up(struct net_device *dev);
bool tscf_net_enc_tunnel_up(struct net *net);
void tscf_dev_notify_demand(struct net *net, bool demand);

/* flow.c */
void tscf_flow_xmit(struct net_device *dev, struct sk_buff *skb);
bool tscf_flow_rx_blocked(struct tscf_tunnel *t, struct sk_buff *skb);
void tscf_flow_rx_ctrl(struct tscf_tunnel *t, const u8 *frame, unsigned int len);
int tscf_flow_net_init(struct net *net);
void tscf_flow_net_exit(struct net *net);

#endif /* _TSCF_DEVICE_H */
