/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A server device's insides, shared by server.c (the device, its UDP
 * sockets, its peers, genl) and srv_stream.c (peers on a TCP connection
 * of their own).  Locking and lifetime: server.c's header comment.
 */
#ifndef _TSCF_SRV_H
#define _TSCF_SRV_H

#include <linux/netdevice.h>
#include <linux/siphash.h>
#include <net/dst_cache.h>
#include <net/gro_cells.h>

struct tscf_srv;
struct tscf_srv_flows;
struct genl_info;

/* A socket the device reads: a UDP socket of tscfd's, or a stream's. */
struct tscf_srv_sock {
	struct list_head node;		/* tscf_srv.socks (UDP only), RTNL */
	struct tscf_srv *srv;
	struct socket *sock;
	bool stream;			/* a TCP peer's own (srv_stream.c) */
};

struct tscf_srv_peer {
	struct hlist_node outer_node;
	struct hlist_node inner4_node, inner6_node;
	struct list_head node;		/* tscf_srv.peers, RTNL */
	struct tscf_srv_sock *ss;
	struct in6_addr remote;		/* IPv4 as v4-mapped */
	__be16 port;
	bool has_ip4, has_ip6;
	__be32 ip4;
	struct in6_addr ip6;
	u64 tsid;
	bool encrypted;			/* a session's kTLS tunnel (stream) */
	struct tscf_srv_flows __rcu *flows;	/* encrypted only; srv_flow.c */
	bool fast;			/* READ_ONCE/WRITE_ONCE */
	u16 super_frames;		/* READ_ONCE/WRITE_ONCE; 0: none */
	unsigned long last_rx;		/* jiffies; 0: never */
	atomic64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	struct dst_cache dst_cache;
	struct rcu_head rcu;
};

struct tscf_srv {
	struct net_device *dev;
	struct net_device __rcu *punt;	/* held; NULL once it unregisters */
	u32 owner_portid;
	u32 event_portid;		/* srv-listen; 0: none. READ/WRITE_ONCE */
	struct list_head node;		/* tscf_srvs: RTNL, RCU readers */
	struct list_head socks;
	struct list_head peers;
	unsigned int nsocks, npeers;
	siphash_key_t key;
	struct hlist_head *by_outer, *by_inner4, *by_inner6;
	struct gro_cells gro_cells;
	struct work_struct owner_work;
	unsigned long del_gp;		/* RCU state at the last peer delete */
	atomic64_t tx_punted, rx_fast_dropped, events_failed;
	atomic64_t events_waited, events_paused;
	atomic_t reaping;		/* stream peers deleted, not yet freed */
};

/* server.c, for srv_stream.c */
__be16 tscf_srv_rx_proto(const struct tscf_srv_peer *p, struct sk_buff *skb,
			 unsigned int off);
void tscf_srv_rx_deliver(struct tscf_srv *srv, struct tscf_srv_peer *p,
			 struct sk_buff *skb, __be16 proto);
void tscf_srv_tx_drop(struct tscf_srv *srv, struct sk_buff *skb);
int tscf_srv_put_remote(struct sk_buff *msg, const struct tscf_srv_peer *p);
void tscf_srv_peer_free(struct tscf_srv_peer *p);

/* srv_flow.c */
struct tscf_srv_flows *tscf_srv_flows_parse(const struct nlattr *a,
					    const struct tscf_srv_peer *p,
					    struct netlink_ext_ack *extack);
void tscf_srv_flows_set(struct tscf_srv_peer *p, struct tscf_srv_flows *fl);
void tscf_srv_flows_free(struct tscf_srv_peer *p);
bool tscf_srv_flows_match(const struct tscf_srv_peer *p,
			  const struct sk_buff *skb);

/* srv_stream.c */
bool tscf_srv_sock_is_tcp(const struct socket *sock);
struct tscf_srv_sock *tscf_srv_stream_find(struct tscf_srv *srv,
					   struct socket *sock);
struct tscf_srv_sock *tscf_srv_stream_new(struct tscf_srv *srv,
					  struct socket *sock, u32 fd,
					  const struct in6_addr *remote,
					  __be16 port,
					  struct netlink_ext_ack *extack);
int tscf_srv_stream_start(struct tscf_srv_sock *ss, struct tscf_srv_peer *p,
			  const void *rx_rest, size_t rest_len,
			  struct netlink_ext_ack *extack);
void tscf_srv_stream_free(struct tscf_srv_sock *ss);
void tscf_srv_stream_del(struct tscf_srv_sock *ss, struct tscf_srv_peer *p);
void tscf_srv_stream_wait_reaped(struct tscf_srv *srv);
void tscf_srv_stream_xmit(struct tscf_srv_peer *p, struct sk_buff *skb);
void tscf_srv_stream_frames_done(struct tscf_srv_peer *p, u32 seq);
int tscf_srv_stream_send(struct tscf_srv_peer *p, const void *frame,
			 size_t len, struct netlink_ext_ack *extack);

#endif /* _TSCF_SRV_H */
