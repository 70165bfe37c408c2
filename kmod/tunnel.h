/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_TUNNEL_H
#define _TSCF_TUNNEL_H

#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/dst_cache.h>
#include <linux/tscf.h>
#include <linux/tscf_wire.h>
#include <linux/tscf_frame.h>

#include "stream.h"

struct tscf_dev;
struct tscf_dtls;

enum tscf_tunnel_counter {
	TSCF_CNT_TX_PACKETS,
	TSCF_CNT_TX_BYTES,
	TSCF_CNT_RX_PACKETS,
	TSCF_CNT_RX_BYTES,
	TSCF_CNT_TX_CTRL,
	TSCF_CNT_RX_CTRL,
	TSCF_CNT_RX_MALFORMED,
	TSCF_CNT_TX_DROPPED,
	TSCF_CNT_TX_BLOCKED,
	TSCF_CNT_RX_BLOCKED,
	TSCF_CNT_MAX,
};

/* The largest UDP super-frame: 16-bit IP lengths, outer IPv6 and UDP. */
#define TSCF_UDP_SUPER_MAX	(U16_MAX - 40 - 8)
/*
 * A transport socket attached to one tscf device.  Lifetime rules are in
 * tunnel.c's header comment.
 */
struct tscf_tunnel {
	refcount_t refs;
	struct rcu_head rcu;
	struct list_head node;		/* tscf_tunnels, while attached */
	struct net_device *dev;
	struct socket *sock;
	u8 transport;			/* enum tscf_transport */
	u64 tsid;
	__be32 internal_ip4;
	struct in6_addr internal_ip6;
	bool dead;
	u32 owner_portid;		/* netlink socket that owns it, or 0 */

	atomic64_t cnt[TSCF_CNT_MAX];

	/*
	 * The module's own FLOW_BIND_REQs on this tunnel: numbered in the
	 * order they are queued (bind_lock), and the newest the server has
	 * answered.  On a stream tunnel the server answers in that order.
	 */
	spinlock_t bind_lock;
	u32 bind_seq;
	u32 bind_acked;			/* READ_ONCE/WRITE_ONCE */

	/* UDP and DTLS */
	struct dst_cache dst_cache;
	struct tscf_dtls *dtls;		/* DTLS: record state (dtls.c) */

	/* TCP, kTLS and clear UDP */
	u16 super_frames;		/* the server's SUPER_FRAMES, 0: none */
	atomic64_t tx_super;		/* frames that went out whole */

	/* TCP and kTLS */
	struct tscf_stream stream;
	/* Deferred detach from contexts that cannot take RTNL. */
	struct work_struct down_work;
	u8 down_reason;
};


static inline void tscf_cnt_add(struct tscf_tunnel *t,
				enum tscf_tunnel_counter c, u64 v)
{
	atomic64_add(v, &t->cnt[c]);
}

static inline void tscf_cnt_inc(struct tscf_tunnel *t,
				enum tscf_tunnel_counter c)
{
	atomic64_inc(&t->cnt[c]);
}

/* The record keys of a DTLS tunnel, as tunnel-attach gives them. */
struct tscf_dtls_cfg {
	const u8 *tx_key;
	const u8 *rx_key;
	unsigned int key_len;		/* 16 or 32 */
	const u8 *tx_salt;		/* 4 bytes each */
	const u8 *rx_salt;
	u16 epoch;
	u64 tx_seq;
	u64 rx_seq;
};

/* What TUNNEL_ATTACH asks for. */
struct tscf_tunnel_cfg {
	int fd;
	u64 tsid;
	__be32 ip4;
	const struct in6_addr *ip6;
	u32 owner_portid;	/* 0: none; else its close detaches the tunnel */
	const struct tscf_dtls_cfg *dtls;	/* NULL: not DTLS */
	u16 super_frames;	/* TCP, clear UDP: largest super-frame, 0: none */
};

void tscf_tunnel_exit(void);
int tscf_tunnel_attach(struct net_device *dev, const struct tscf_tunnel_cfg *cfg,
		       struct netlink_ext_ack *extack);
void tscf_tunnel_owner_gone(struct net *net, u32 portid);
void tscf_tunnel_detach(struct net_device *dev, u8 reason);
void tscf_tunnel_schedule_down(struct tscf_tunnel *t, u8 reason);
void tscf_tunnel_put(struct tscf_tunnel *t);
int tscf_sock_claim(struct sock *sk, void *user, struct netlink_ext_ack *extack);

/* Data path, called under RCU. */
void tscf_tunnel_xmit(struct tscf_tunnel *t, struct sk_buff *skb);
void tscf_tunnel_tx_drop(struct tscf_tunnel *t, struct sk_buff *skb);
void tscf_tunnel_xmit_super(struct tscf_tunnel *t, struct sk_buff *skb);
int tscf_tunnel_send_ctrl(struct tscf_tunnel *t, const void *frame,
			  size_t len, gfp_t gfp);
void tscf_tunnel_rx_frame(struct tscf_tunnel *t, struct sk_buff *skb);
void tscf_rx_mark_verified(struct sk_buff *skb);

/* udp.c */
int tscf_udp_attach(struct tscf_tunnel *t);
void tscf_udp_detach(struct tscf_tunnel *t);
void tscf_udp_xmit(struct tscf_tunnel *t, struct sk_buff *skb);

/* A datagram tunnel: one frame per UDP datagram, clear or DTLS. */
static inline bool tscf_tunnel_is_dgram(const struct tscf_tunnel *t)
{
	return t->transport == TSCF_TRANSPORT_UDP ||
	       t->transport == TSCF_TRANSPORT_DTLS;
}

/* dtls.c */
struct tscf_dtls *tscf_dtls_new(const struct tscf_dtls_cfg *cfg,
				struct netlink_ext_ack *extack);
void tscf_dtls_free(struct tscf_dtls *d);
void tscf_dtls_xmit(struct tscf_tunnel *t, struct sk_buff *skb);
void tscf_dtls_rx(struct tscf_tunnel *t, struct sk_buff *skb);
u64 tscf_dtls_rx_auth_failed(const struct tscf_dtls *d);
u64 tscf_dtls_rx_replayed(const struct tscf_dtls *d);

/* tcp.c */
int tscf_tcp_attach(struct tscf_tunnel *t);
void tscf_tcp_detach(struct tscf_tunnel *t);
void tscf_tcp_xmit(struct tscf_tunnel *t, struct sk_buff *skb);

#endif /* _TSCF_TUNNEL_H */
