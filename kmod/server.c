// SPDX-License-Identifier: GPL-2.0
/*
 * Server devices: tscfd's clear UDP data path in the kernel.
 *
 * tscfd creates one (genl srv-new), attaches its UDP tunnel sockets to it
 * (srv-sock-add) and tells it its clear UDP sessions (srv-peer-set).  The
 * device is an accelerator with a fail-closed punt; tscfd keeps every
 * decision (docs/SERVER.md, "Kernel data path"):
 *
 * - Receive: a datagram on an attached socket from a known peer whose
 *   fast flag is set, carrying one well-formed IPv4/IPv6 packet whose
 *   source is the peer's internal address, goes up the server device.
 *   Anything else returns to the socket untouched (encap_rcv > 0), where
 *   tscfd judges and counts it as it does without the module.
 * - Transmit: a packet routed into the device for a fast peer's internal
 *   address goes out of that peer's socket to its outer address.  Anything
 *   else goes, as it is, to the punt device (tscfd's TUN), where tscfd
 *   applies its rules.
 * - An internal address has at most two peers: its session's clear one and
 *   its encrypted one (a TLS tunnel with kTLS, srv_stream.c).  A packet of
 *   a flow the encrypted peer's set names (srv_flow.c) goes there, before
 *   the clear peer's fast flag is even looked at.
 *
 * tscfd clears fast (and the kernel waits with synchronize_net() before it
 * answers, so no packet still in flight takes the fast path) before it
 * binds a flow above level 0: an encrypted-only flow is never carried here.
 * A delete waits for no grace period: the peer is freed after RCU, and a
 * peer added slow waits only if a delete's grace period is still running
 * (see tscf_srv_peer_del()), so a mass expiry costs no grace period each.
 *
 * Locking and lifetime:
 * - Every change (genl commands, the netdevice notifier, teardown) runs
 *   under RTNL; the data path reads peers, sockets and the punt device
 *   under RCU.  A peer is unhashed, then freed by call_rcu() (a stream
 *   peer by a reaper after a grace period, srv_stream.c); teardown waits
 *   once for every peer and socket, and for the reapers.  Module exit
 *   waits for the pending frees (rcu_barrier()).
 * - The device belongs to the netlink socket that created it: when that
 *   socket closes, owner_work unregisters it.  ndo_uninit detaches the
 *   sockets (waiting for receivers), frees the peers and drops the punt
 *   device.
 * - Each attached socket holds a reference on its file from
 *   sockfd_lookup(), released at teardown.
 */
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/siphash.h>
#include <linux/udp.h>
#include <net/dst_cache.h>
#include <net/genetlink.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "compat.h"
#include "device.h"
#include "netlink.h"
#include "netlink-gen.h"
#include "server.h"
#include "srv.h"
#include "tunnel.h"

#define TSCF_SRV_KIND		"tscfsrv"
/* Not the client's 0x54: any value but 0 enables the encap hook. */
#define TSCF_SRV_ENCAP_TYPE	0x53
#define TSCF_SRV_HASH_BITS	16
#define TSCF_SRV_BUCKETS	(1U << TSCF_SRV_HASH_BITS)
/* Above tscfd's own limits; a table flood ends here with ENOSPC. */
#define TSCF_SRV_MAX_PEERS	(1U << 20)
#define TSCF_SRV_MAX_SOCKS	16
#define TSCF_SRV_IDLE_NEVER	U32_MAX

static LIST_HEAD(tscf_srvs);

static const struct net_device_ops tscf_srv_netdev_ops;
static struct rtnl_link_ops tscf_srv_link_ops;

bool tscf_dev_is_srv(const struct net_device *dev)
{
	return dev->netdev_ops == &tscf_srv_netdev_ops;
}

/* --- peer tables -------------------------------------------------------- */

static u32 tscf_srv_outer_hash(const struct tscf_srv *srv,
			       const struct tscf_srv_sock *ss,
			       const struct in6_addr *a, __be16 port)
{
	u64 hi, lo;

	memcpy(&hi, &a->s6_addr[0], 8);
	memcpy(&lo, &a->s6_addr[8], 8);
	return hash_64(siphash_4u64((unsigned long)ss, hi, lo, (__force u16)port,
				    &srv->key), TSCF_SRV_HASH_BITS);
}

static u32 tscf_srv_inner6_hash(const struct tscf_srv *srv,
				const struct in6_addr *a)
{
	u64 hi, lo;

	memcpy(&hi, &a->s6_addr[0], 8);
	memcpy(&lo, &a->s6_addr[8], 8);
	return hash_64(siphash_2u64(hi, lo, &srv->key), TSCF_SRV_HASH_BITS);
}

static u32 tscf_srv_inner4_hash(const struct tscf_srv *srv, __be32 a)
{
	return hash_64(siphash_1u64((__force u32)a, &srv->key),
		       TSCF_SRV_HASH_BITS);
}

static struct tscf_srv_peer *
tscf_srv_peer_by_outer(struct tscf_srv *srv, const struct tscf_srv_sock *ss,
		       const struct in6_addr *a, __be16 port)
{
	struct hlist_head *h = &srv->by_outer[tscf_srv_outer_hash(srv, ss, a, port)];
	struct tscf_srv_peer *p;

	hlist_for_each_entry_rcu(p, h, outer_node, lockdep_rtnl_is_held())
		if (p->ss == ss && p->port == port && ipv6_addr_equal(&p->remote, a))
			return p;
	return NULL;
}

/*
 * An internal address has at most two peers, its session's clear one and
 * its encrypted one: pp[0] and pp[1] (either NULL), in one walk.
 */
static void tscf_srv_peers_by_ip4(struct tscf_srv *srv, __be32 a,
				  struct tscf_srv_peer **pp)
{
	struct hlist_head *h = &srv->by_inner4[tscf_srv_inner4_hash(srv, a)];
	struct tscf_srv_peer *p;

	pp[0] = pp[1] = NULL;
	hlist_for_each_entry_rcu(p, h, inner4_node, lockdep_rtnl_is_held())
		if (p->ip4 == a && !pp[p->encrypted])
			pp[p->encrypted] = p;
}

static void tscf_srv_peers_by_ip6(struct tscf_srv *srv,
				  const struct in6_addr *a,
				  struct tscf_srv_peer **pp)
{
	struct hlist_head *h = &srv->by_inner6[tscf_srv_inner6_hash(srv, a)];
	struct tscf_srv_peer *p;

	pp[0] = pp[1] = NULL;
	hlist_for_each_entry_rcu(p, h, inner6_node, lockdep_rtnl_is_held())
		if (ipv6_addr_equal(&p->ip6, a) && !pp[p->encrypted])
			pp[p->encrypted] = p;
}

/* --- receive ------------------------------------------------------------ */

/* The datagram's outer source, as tscfd's recvfrom() on sk would name it. */
static void tscf_srv_skb_source(const struct sk_buff *skb, struct in6_addr *a,
				__be16 *port)
{
	if (skb->protocol == htons(ETH_P_IP))
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, a);
	else
		*a = ipv6_hdr(skb)->saddr;
	*port = udp_hdr(skb)->source;
}

/*
 * Is the frame at off (after the UDP header, or 0 on a stream) one whole
 * IPv4 packet from the peer's own address?  Stricter than tscfd (which
 * does not insist on the total length): what fails here is tscfd's to
 * judge, never dropped here.
 */
static bool tscf_srv_rx_ip4_ok(const struct tscf_srv_peer *p,
			       struct sk_buff *skb, unsigned int off,
			       unsigned int len)
{
	const struct iphdr *iph;

	if (!p->has_ip4 || len < sizeof(*iph) ||
	    !pskb_may_pull(skb, off + sizeof(*iph)))
		return false;
	iph = (const struct iphdr *)(skb->data + off);
	return iph->version == 4 && iph->ihl >= 5 &&
	       ntohs(iph->tot_len) == len && iph->ihl * 4 <= len &&
	       iph->saddr == p->ip4;
}

static bool tscf_srv_rx_ip6_ok(const struct tscf_srv_peer *p,
			       struct sk_buff *skb, unsigned int off,
			       unsigned int len)
{
	const struct ipv6hdr *ip6h;

	if (!p->has_ip6 || len < sizeof(*ip6h) ||
	    !pskb_may_pull(skb, off + sizeof(*ip6h)))
		return false;
	ip6h = (const struct ipv6hdr *)(skb->data + off);
	return ip6h->version == 6 &&
	       ntohs(ip6h->payload_len) + sizeof(*ip6h) == len &&
	       ipv6_addr_equal(&ip6h->saddr, &p->ip6);
}

/* The inner protocol if the fast path may carry the frame at off, else 0. */
__be16 tscf_srv_rx_proto(const struct tscf_srv_peer *p, struct sk_buff *skb,
			 unsigned int off)
{
	unsigned int len = skb->len - off;

	if (!pskb_may_pull(skb, off + 1))
		return 0;
	switch (skb->data[off] >> 4) {
	case TSCF_FRAME_IPV4:
		return tscf_srv_rx_ip4_ok(p, skb, off, len) ? htons(ETH_P_IP) : 0;
	case TSCF_FRAME_IPV6:
		return tscf_srv_rx_ip6_ok(p, skb, off, len) ? htons(ETH_P_IPV6) : 0;
	default:
		return 0;	/* control frames are tscfd's */
	}
}

/*
 * The inner packet at skb->data up the device.  The caller set its
 * checksum state: what the transport verified, or a super-packet's TCP
 * checksum to be filled in per segment.
 */
void tscf_srv_rx_deliver(struct tscf_srv *srv, struct tscf_srv_peer *p,
			 struct sk_buff *skb, __be16 proto)
{
	struct net_device *dev = srv->dev;
	unsigned int len = skb->len;

	skb_scrub_packet(skb, true);
	skb->protocol = proto;
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	if (skb_is_gso(skb))
		skb_set_transport_header(skb, skb_checksum_start_offset(skb));
	else
		skb_probe_transport_header(skb);

	WRITE_ONCE(p->last_rx, jiffies);
	if (gro_cells_receive(&srv->gro_cells, skb) == NET_RX_SUCCESS) {
		atomic64_inc(&p->rx_packets);
		atomic64_add(len, &p->rx_bytes);
		dev_sw_netstats_rx_add(dev, len);
	} else {
		atomic64_inc(&srv->rx_fast_dropped);
		dev_core_stats_rx_dropped_inc(dev);
	}
}

/*
 * A GSO datagram: a TCP super-frame (PROTOCOL.md 1.3) that a client's
 * module sent whole over a veth on this host, as a UDP tunnel GSO packet.
 * Taken only from a peer that was offered them, and only in the shape
 * that module builds: IP in UDP (the outer checksum left to GSO or not)
 * around one TCP super-packet of the peer's (tscf_srv_rx_proto() checked
 * the IP header and the source) in the shape tscf_super_tcp_thoff()
 * checks on both ends, with payload.  Any other GSO datagram is tscfd's
 * to judge.
 */
#define TSCF_SRV_SUPER_TUNNEL_GSO (SKB_GSO_UDP_TUNNEL | SKB_GSO_UDP_TUNNEL_CSUM)

static bool tscf_srv_rx_super_ok(const struct tscf_srv_peer *p,
				 struct sk_buff *skb, __be16 proto)
{
	unsigned int len = skb->len - sizeof(struct udphdr);
	unsigned int thoff, doff;
	const struct tcphdr *th;

	if (len > READ_ONCE(p->super_frames) || !skb->encapsulation ||
	    !(skb_shinfo(skb)->gso_type & TSCF_SRV_SUPER_TUNNEL_GSO) ||
	    !skb_shinfo(skb)->gso_size)
		return false;
	/* Offsets from the inner IP header, which follows the UDP header. */
	thoff = tscf_super_tcp_thoff(skb, sizeof(struct udphdr), proto,
				     TSCF_SRV_SUPER_TUNNEL_GSO);
	if (!thoff ||
	    !pskb_may_pull(skb, sizeof(struct udphdr) + thoff + sizeof(*th)))
		return false;
	th = (const struct tcphdr *)(skb->data + sizeof(struct udphdr) + thoff);
	doff = th->doff * 4;
	return doff >= sizeof(*th) && thoff + doff < len;
}

/*
 * Hand the TCP super-packet in it on as the inner stack's own: the tunnel
 * GSO bits go, the TCP checksum stays to be filled in per segment where
 * it is cut, and DODGY has that cut recount its segments.
 */
static void tscf_srv_rx_super_unwrap(struct sk_buff *skb)
{
	skb_shinfo(skb)->gso_type &= ~TSCF_SRV_SUPER_TUNNEL_GSO;
	skb_shinfo(skb)->gso_type |= SKB_GSO_DODGY;
	skb->encapsulation = 0;
}

/* 0: consumed; 1: the socket's reader (tscfd) gets it, untouched. */
static int tscf_srv_encap_recv(struct sock *sk, struct sk_buff *skb)
{
	struct tscf_srv_sock *ss = rcu_dereference_sk_user_data(sk);
	struct tscf_srv_peer *p;
	struct in6_addr from;
	__be16 port, proto;

	if (unlikely(!ss) || !netif_running(ss->srv->dev))
		return 1;
	tscf_srv_skb_source(skb, &from, &port);
	p = tscf_srv_peer_by_outer(ss->srv, ss, &from, port);
	if (!p || !READ_ONCE(p->fast))
		return 1;
	proto = tscf_srv_rx_proto(p, skb, sizeof(struct udphdr));
	if (!proto)
		return 1;
	if (skb_is_gso(skb)) {
		if (!tscf_srv_rx_super_ok(p, skb, proto))
			return 1;
		tscf_srv_rx_super_unwrap(skb);
	} else if (skb->len - sizeof(struct udphdr) > READ_ONCE(ss->srv->dev->mtu)) {
		return 1;	/* a reassembled super-frame, or too big: tscfd's */
	}
	/*
	 * As for a client's UDP tunnel (udp.c): a checked UDP sum covers it.
	 * A super-packet keeps its TCP checksum to be filled in.
	 */
	if (!skb_is_gso(skb)) {
		if (udp_hdr(skb)->check)
			tscf_rx_mark_verified(skb);
		else
			skb->ip_summed = CHECKSUM_NONE;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	tscf_srv_rx_deliver(ss->srv, p, skb, proto);
	return 0;
}

/* --- transmit ----------------------------------------------------------- */

void tscf_srv_tx_drop(struct tscf_srv *srv, struct sk_buff *skb)
{
	dev_core_stats_tx_dropped_inc(srv->dev);
	kfree_skb(skb);
}

/* To tscfd's TUN, as it is: tscfd decides.  No punt device: dropped. */
static void tscf_srv_punt(struct tscf_srv *srv, struct sk_buff *skb)
{
	struct net_device *tun = rcu_dereference_bh(srv->punt);

	if (unlikely(!tun)) {
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	atomic64_inc(&srv->tx_punted);
	skb->dev = tun;
	dev_queue_xmit(skb);
}

/* Would a packet on this route come back into a tscf device? */
static bool tscf_srv_route_loops(const struct net_device *dev)
{
	return tscf_dev_is_tscf(dev) || tscf_dev_is_srv(dev);
}

static void tscf_srv_xmit4(struct tscf_srv *srv, struct tscf_srv_peer *p,
			   struct sk_buff *skb)
{
	struct sock *sk = p->ss->sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	__be32 daddr = p->remote.s6_addr32[3];
	struct rtable *rt;
	__be32 saddr;

	rt = dst_cache_get_ip4(&p->dst_cache, &saddr);
	if (!rt) {
		struct flowi4 fl4 = {
			.daddr = daddr,
			.saddr = inet->inet_saddr,
			.flowi4_oif = sk->sk_bound_dev_if,
			.flowi4_mark = sk->sk_mark,
			.flowi4_proto = IPPROTO_UDP,
			.fl4_sport = inet->inet_sport,
			.fl4_dport = p->port,
		};

		rt = ip_route_output_key(sock_net(sk), &fl4);
		if (IS_ERR(rt)) {
			tscf_srv_tx_drop(srv, skb);
			return;
		}
		if (tscf_srv_route_loops(rt->dst.dev)) {
			ip_rt_put(rt);
			tscf_srv_tx_drop(srv, skb);
			return;
		}
		saddr = fl4.saddr;
		dst_cache_set_ip4(&p->dst_cache, &rt->dst, saddr);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			 sizeof(struct iphdr) + sizeof(struct udphdr))) {
		ip_rt_put(rt);
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	udp_tunnel_xmit_skb(rt, sk, skb, saddr, daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, inet->inet_sport,
			    p->port, false, false);
}

#if IS_ENABLED(CONFIG_IPV6)
static void tscf_srv_xmit6(struct tscf_srv *srv, struct tscf_srv_peer *p,
			   struct sk_buff *skb)
{
	struct sock *sk = p->ss->sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst;
	struct in6_addr saddr;

	dst = dst_cache_get_ip6(&p->dst_cache, &saddr);
	if (!dst) {
		struct flowi6 fl6 = {
			.daddr = p->remote,
			.saddr = sk->sk_v6_rcv_saddr,
			.flowi6_oif = sk->sk_bound_dev_if,
			.flowi6_mark = sk->sk_mark,
			.flowi6_proto = IPPROTO_UDP,
			.fl6_sport = inet->inet_sport,
			.fl6_dport = p->port,
		};

		dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6,
						      NULL);
		if (IS_ERR(dst)) {
			tscf_srv_tx_drop(srv, skb);
			return;
		}
		if (tscf_srv_route_loops(dst->dev)) {
			dst_release(dst);
			tscf_srv_tx_drop(srv, skb);
			return;
		}
		saddr = fl6.saddr;
		dst_cache_set_ip6(&p->dst_cache, dst, &saddr);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(dst->dev) +
			 sizeof(struct ipv6hdr) + sizeof(struct udphdr))) {
		dst_release(dst);
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	udp_tunnel6_xmit_skb(dst, sk, skb, srv->dev, &saddr, &p->remote, 0,
			     ip6_dst_hoplimit(dst), 0, inet->inet_sport, p->port,
			     false);
}
#endif

/* One inner packet to one peer; its checksum travels complete. */
static void tscf_srv_xmit_one(struct tscf_srv *srv, struct tscf_srv_peer *p,
			      struct sk_buff *skb)
{
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	atomic64_inc(&p->tx_packets);
	atomic64_add(skb->len, &p->tx_bytes);
	if (p->ss->stream) {
		tscf_srv_stream_xmit(p, skb);
		return;
	}
	skb->dev = srv->dev;	/* the UDP tunnel helpers count on it */
#if IS_ENABLED(CONFIG_IPV6)
	if (p->ss->sock->sk->sk_family == AF_INET6) {
		tscf_srv_xmit6(srv, p, skb);
		return;
	}
#endif
	tscf_srv_xmit4(srv, p, skb);
}

static void tscf_srv_xmit_peer(struct tscf_srv *srv, struct tscf_srv_peer *p,
			       struct sk_buff *skb)
{
	struct sk_buff *segs, *seg, *next;

	if (!skb_is_gso(skb)) {
		tscf_srv_xmit_one(srv, p, skb);
		return;
	}
	/* One inner packet per datagram; segments share the pages. */
	segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);
	if (IS_ERR_OR_NULL(segs)) {
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		tscf_srv_xmit_one(srv, p, seg);
	}
}

/*
 * The peers a packet is for (clear, encrypted: see tscf_srv_peers_by_ip4),
 * if it is a well-formed IPv4/IPv6 packet (its length the skb's) to an
 * internal address; false if it is not.
 */
static bool tscf_srv_tx_peers(struct tscf_srv *srv, struct sk_buff *skb,
			      struct tscf_srv_peer **pp)
{
	skb_reset_network_header(skb);
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph;

		if (!pskb_may_pull(skb, sizeof(*iph)))
			return false;
		iph = ip_hdr(skb);
		if (iph->version != 4 || iph->ihl < 5 ||
		    ntohs(iph->tot_len) != skb->len)
			return false;
		tscf_srv_peers_by_ip4(srv, iph->daddr, pp);
		return true;
	}
	if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h;

		if (!pskb_may_pull(skb, sizeof(*ip6h)))
			return false;
		ip6h = ipv6_hdr(skb);
		if (ip6h->version != 6 ||
		    ntohs(ip6h->payload_len) + sizeof(*ip6h) != skb->len)
			return false;
		tscf_srv_peers_by_ip6(srv, &ip6h->daddr, pp);
		return true;
	}
	return false;
}

/*
 * The outer families must agree: an IPv4 peer seen (v4-mapped) on an
 * IPv6 socket is left to tscfd, which sends from that socket itself.  A
 * stream peer's connection is its own.
 */
static bool tscf_srv_peer_can_xmit(const struct tscf_srv_peer *p)
{
	bool mapped = ipv6_addr_v4mapped(&p->remote);

	return p->ss->stream ||
	       (p->ss->sock->sk->sk_family == AF_INET) == mapped;
}

static netdev_tx_t tscf_srv_start_xmit(struct sk_buff *skb,
				       struct net_device *dev)
{
	struct tscf_srv *srv = netdev_priv(dev);
	struct tscf_srv_peer *pp[2];

	if (!tscf_srv_tx_peers(srv, skb, pp))
		goto punt;
	/*
	 * A flow bound to the encrypted tunnel goes there, whatever the
	 * clear peer's fast flag says: looked at first.
	 */
	if (pp[1] && tscf_srv_flows_match(pp[1], skb)) {
		tscf_srv_xmit_peer(srv, pp[1], skb);
		return NETDEV_TX_OK;
	}
	if (pp[0] && READ_ONCE(pp[0]->fast) && tscf_srv_peer_can_xmit(pp[0])) {
		tscf_srv_xmit_peer(srv, pp[0], skb);
		return NETDEV_TX_OK;
	}
punt:
	tscf_srv_punt(srv, skb);
	return NETDEV_TX_OK;
}

/* --- peers: add, change, delete ----------------------------------------- */

static void tscf_srv_peer_unhash(struct tscf_srv *srv, struct tscf_srv_peer *p)
{
	hlist_del_init_rcu(&p->outer_node);
	if (p->has_ip4)
		hlist_del_init_rcu(&p->inner4_node);
	if (p->has_ip6)
		hlist_del_init_rcu(&p->inner6_node);
	list_del(&p->node);
	srv->npeers--;
}

/* No reader still sees p: after a grace period, or from an RCU callback. */
void tscf_srv_peer_free(struct tscf_srv_peer *p)
{
	tscf_srv_flows_free(p);
	dst_cache_destroy(&p->dst_cache);
	kfree(p);
}

static void tscf_srv_peer_free_rcu(struct rcu_head *head)
{
	tscf_srv_peer_free(container_of(head, struct tscf_srv_peer, rcu));
}

/*
 * Unhash p and free it once readers are done, without waiting: a mass
 * expiry of N sessions must not cost N grace periods under RTNL.  Safe
 * because a reader that found p before the unhash only finishes handling
 * a packet it had already accepted under p's rules (fast, addresses): a
 * packet that looks up after the unhash does not find p, so a session
 * that gets p's addresses next is never served by p.  p->ss outlives p:
 * sockets go only at teardown, after a grace period.  Where tscfd relies
 * on no fast packet being in flight any more (a peer that starts slow,
 * see tscf_srv_wait_deleted()), it waits then, once for all deletes.
 */
static void tscf_srv_peer_del(struct tscf_srv *srv, struct tscf_srv_peer *p)
{
	tscf_srv_peer_unhash(srv, p);
	/* A stream's reader takes nothing once it is dead (srv_stream.c). */
	if (p->ss->stream)
		tscf_srv_stream_del(p->ss, p);
	else
		call_rcu(&p->rcu, tscf_srv_peer_free_rcu);
	srv->del_gp = get_state_synchronize_rcu();
}

/*
 * A peer that starts slow may get a flow binding at once, and tscfd then
 * clears no fast flag (so waits for nothing): a fast packet of a deleted
 * peer with the same addresses, still in flight, would break the promise.
 * Wait for the grace period that began at the last delete, if it has not
 * already ended (it has, unless deletes and adds are back to back).
 */
static void tscf_srv_wait_deleted(struct tscf_srv *srv)
{
	cond_synchronize_rcu_expedited(srv->del_gp);
}

struct tscf_srv_peer_cfg {
	struct tscf_srv_sock *ss;	/* NULL: a new stream on sock */
	struct socket *sock;		/* a TCP socket: held, the caller puts */
	u32 fd;
	struct in6_addr remote;
	__be16 port;
	bool has_ip4, has_ip6, has_fast, fast, has_super, encrypted;
	u16 super_frames;
	__be32 ip4;
	struct in6_addr ip6;
	u64 tsid;
	const struct nlattr *rx_rest;
	const struct nlattr *flows;
	const struct nlattr *frame_seq;
};

static bool tscf_srv_peer_same_inner(const struct tscf_srv_peer *p,
				     const struct tscf_srv_peer_cfg *c)
{
	return p->has_ip4 == c->has_ip4 && p->has_ip6 == c->has_ip6 &&
	       (!c->has_ip4 || p->ip4 == c->ip4) &&
	       (!c->has_ip6 || ipv6_addr_equal(&p->ip6, &c->ip6));
}

/*
 * Clearing fast returns only once every CPU is past any packet that read
 * the old value: tscfd may then bind a flow and rely on seeing each of
 * the peer's packets itself.
 */
static void tscf_srv_peer_set_fast(struct tscf_srv_peer *p, bool fast)
{
	bool was = p->fast;

	WRITE_ONCE(p->fast, fast);
	if (was && !fast)
		synchronize_net();
}

static int tscf_srv_peer_add(struct tscf_srv *srv,
			     const struct tscf_srv_peer_cfg *c,
			     struct tscf_srv_peer **pp,
			     struct netlink_ext_ack *extack)
{
	struct tscf_srv_peer *p, *pp4[2] = {}, *pp6[2] = {};
	int err;

	if (srv->npeers >= TSCF_SRV_MAX_PEERS) {
		NL_SET_ERR_MSG_MOD(extack, "the server device's peer table is full");
		return -ENOSPC;
	}
	if (c->has_ip4)
		tscf_srv_peers_by_ip4(srv, c->ip4, pp4);
	if (c->has_ip6)
		tscf_srv_peers_by_ip6(srv, &c->ip6, pp6);
	/* One clear and one encrypted peer per address: a session's two. */
	if (pp4[c->encrypted] || pp6[c->encrypted]) {
		NL_SET_ERR_MSG_MOD(extack, "another peer has this internal address");
		return -EEXIST;
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	err = dst_cache_init(&p->dst_cache, GFP_KERNEL);
	if (err) {
		kfree(p);
		return err;
	}
	p->ss = c->ss;
	p->remote = c->remote;
	p->port = c->port;
	p->has_ip4 = c->has_ip4;
	p->has_ip6 = c->has_ip6;
	p->ip4 = c->ip4;
	p->ip6 = c->ip6;
	p->tsid = c->tsid;
	p->encrypted = c->encrypted;
	p->fast = c->has_fast && c->fast;
	p->super_frames = c->super_frames;
	if (!p->fast)
		tscf_srv_wait_deleted(srv);

	list_add(&p->node, &srv->peers);
	srv->npeers++;
	if (p->has_ip4)
		hlist_add_head_rcu(&p->inner4_node,
				   &srv->by_inner4[tscf_srv_inner4_hash(srv, p->ip4)]);
	if (p->has_ip6)
		hlist_add_head_rcu(&p->inner6_node,
				   &srv->by_inner6[tscf_srv_inner6_hash(srv, &p->ip6)]);
	/* Last: a receive that finds p finds it whole. */
	hlist_add_head_rcu(&p->outer_node,
			   &srv->by_outer[tscf_srv_outer_hash(srv, p->ss, &p->remote,
							      p->port)]);
	*pp = p;
	return 0;
}

/*
 * A peer on a TCP connection of its own.  It is published slow, so that
 * neither direction touches the stream before it is attached; the
 * attach starts reading (rx_rest first), then fast goes on if asked.
 */
static int tscf_srv_stream_peer_add(struct tscf_srv *srv,
				    struct tscf_srv_peer_cfg *c,
				    struct netlink_ext_ack *extack)
{
	bool fast = c->has_fast && c->fast;
	struct tscf_srv_flows *fl = NULL;
	struct tscf_srv_peer *p;
	struct tscf_srv_sock *ss;
	int err;

	ss = tscf_srv_stream_new(srv, c->sock, c->fd, &c->remote, c->port,
				 extack);
	if (IS_ERR(ss))
		return PTR_ERR(ss);
	c->sock = NULL;		/* the stream's now */
	c->ss = ss;
	c->fast = false;
	err = tscf_srv_peer_add(srv, c, &p, extack);
	if (err) {
		tscf_srv_stream_free(ss);
		return err;
	}
	if (c->flows) {
		fl = tscf_srv_flows_parse(c->flows, p, extack);
		if (IS_ERR(fl)) {
			tscf_srv_peer_del(srv, p);	/* frees the stream too */
			return PTR_ERR(fl);
		}
	}
	err = tscf_srv_stream_start(ss, p, c->rx_rest ? nla_data(c->rx_rest) : NULL,
				    c->rx_rest ? nla_len(c->rx_rest) : 0, extack);
	if (err) {
		kfree(fl);
		tscf_srv_peer_del(srv, p);
		return err;
	}
	/* Attached: now the transmit path may send on it. */
	if (fl)
		tscf_srv_flows_set(p, fl);
	WRITE_ONCE(p->fast, fast);
	return 0;
}

/* What srv-peer-set may not ask of this kind of peer; RTNL held. */
static int tscf_srv_peer_cfg_check(const struct tscf_srv_peer_cfg *c,
				   const struct tscf_srv_peer *p,
				   struct netlink_ext_ack *extack)
{
	bool encrypted = p ? p->encrypted : c->encrypted;

	if (c->encrypted && (p ? !p->encrypted : c->ss && !c->ss->stream)) {
		NL_SET_ERR_MSG_MOD(extack, "only a new stream peer can be encrypted");
		return -EINVAL;
	}
	if (encrypted && c->has_fast && c->fast) {
		NL_SET_ERR_MSG_MOD(extack, "an encrypted peer is never fast: its flows say what it carries");
		return -EINVAL;
	}
	if (!encrypted && c->flows) {
		NL_SET_ERR_MSG_MOD(extack, "flows are for an encrypted peer only");
		return -EINVAL;
	}
	if (c->frame_seq && (!p || !p->ss->stream)) {
		NL_SET_ERR_MSG_MOD(extack, "frame-seq is for a stream peer that exists");
		return -EINVAL;
	}
	return 0;
}

static int tscf_srv_peer_set(struct tscf_srv *srv,
			     struct tscf_srv_peer_cfg *c,
			     struct netlink_ext_ack *extack)
{
	struct tscf_srv_flows *fl;
	struct tscf_srv_peer *p;
	int err;

	ASSERT_RTNL();
	p = c->ss ? tscf_srv_peer_by_outer(srv, c->ss, &c->remote, c->port) : NULL;
	err = tscf_srv_peer_cfg_check(c, p, extack);
	if (err)
		return err;
	if (!c->ss)
		return tscf_srv_stream_peer_add(srv, c, extack);
	if (c->rx_rest) {
		NL_SET_ERR_MSG_MOD(extack, "rx-rest is for a new stream peer only");
		return -EINVAL;
	}
	if (!p)
		return tscf_srv_peer_add(srv, c, &p, extack);
	if ((c->has_ip4 || c->has_ip6) && !tscf_srv_peer_same_inner(p, c)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the peer exists with other internal addresses: delete it first");
		return -EBUSY;
	}
	if (c->flows) {
		fl = tscf_srv_flows_parse(c->flows, p, extack);
		if (IS_ERR(fl))
			return PTR_ERR(fl);
		tscf_srv_flows_set(p, fl);
	}
	/* After the flows: what tscfd handled may have changed them. */
	if (c->frame_seq)
		tscf_srv_stream_frames_done(p, nla_get_u32(c->frame_seq));
	if (c->has_super)
		WRITE_ONCE(p->super_frames, c->super_frames);
	if (c->has_fast)
		tscf_srv_peer_set_fast(p, c->fast);
	return 0;
}

/* --- sockets ------------------------------------------------------------ */

static int tscf_srv_sock_check(struct tscf_srv *srv, struct socket *sock,
			       struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	struct tscf_srv_sock *ss;

	if (!net_eq(sock_net(sk), dev_net(srv->dev))) {
		NL_SET_ERR_MSG_MOD(extack, "socket belongs to another network namespace");
		return -EINVAL;
	}
	if ((sk->sk_family != AF_INET && sk->sk_family != AF_INET6) ||
	    sk->sk_type != SOCK_DGRAM || sk->sk_protocol != IPPROTO_UDP) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not an IPv4/IPv6 UDP socket");
		return -EPROTOTYPE;
	}
	if (!inet_sk(sk)->inet_sport) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not bound");
		return -EINVAL;
	}
	list_for_each_entry(ss, &srv->socks, node)
		if (ss->sock == sock) {
			NL_SET_ERR_MSG_MOD(extack, "socket is already attached");
			return -EEXIST;
		}
	if (srv->nsocks >= TSCF_SRV_MAX_SOCKS) {
		NL_SET_ERR_MSG_MOD(extack, "too many sockets on this server device");
		return -ENOSPC;
	}
	return 0;
}

static int tscf_srv_sock_add(struct tscf_srv *srv, int fd,
			     struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg cfg = {
		.encap_type = TSCF_SRV_ENCAP_TYPE,
		.encap_rcv = tscf_srv_encap_recv,
	};
	struct tscf_srv_sock *ss;
	struct socket *sock;
	int err;

	ASSERT_RTNL();
	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG_MOD(extack, "fd is not a socket of the caller");
		return err;
	}
	err = tscf_srv_sock_check(srv, sock, extack);
	if (err)
		goto err_put;
	err = -ENOMEM;
	ss = kzalloc(sizeof(*ss), GFP_KERNEL);
	if (!ss)
		goto err_put;
	ss->srv = srv;
	ss->sock = sock;
	err = tscf_sock_claim(sock->sk, ss, extack);
	if (err) {
		kfree(ss);
		goto err_put;
	}
	cfg.sk_user_data = ss;
	setup_udp_tunnel_sock(dev_net(srv->dev), sock, &cfg);
	list_add(&ss->node, &srv->socks);
	srv->nsocks++;
	return 0;

err_put:
	sockfd_put(sock);
	return err;
}

/* Receive stops on every socket; the caller waits (synchronize_net()). */
static void tscf_srv_sock_unhook(struct tscf_srv_sock *ss)
{
	struct sock *sk = ss->sock->sk;

	lock_sock(sk);
	WRITE_ONCE(udp_sk(sk)->encap_type, 0);
	WRITE_ONCE(udp_sk(sk)->encap_rcv, NULL);
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
}

/* Everything a server device holds, once it is down and unlisted. */
static void tscf_srv_release_all(struct tscf_srv *srv)
{
	struct tscf_srv_peer *p, *pn;
	struct tscf_srv_sock *ss, *sn;
	LIST_HEAD(gone);

	list_for_each_entry(ss, &srv->socks, node)
		tscf_srv_sock_unhook(ss);
	list_for_each_entry_safe(p, pn, &srv->peers, node) {
		tscf_srv_peer_unhash(srv, p);
		/* As a delete: the reapers wait for the grace period at once. */
		if (p->ss->stream)
			tscf_srv_stream_del(p->ss, p);
		else
			list_add(&p->node, &gone);
	}
	/* No receive or transmit looks at a peer or UDP socket now. */
	synchronize_net();
	list_for_each_entry_safe(p, pn, &gone, node)
		tscf_srv_peer_free(p);
	list_for_each_entry_safe(ss, sn, &srv->socks, node) {
		list_del(&ss->node);
		sockfd_put(ss->sock);
		kfree(ss);
	}
	srv->nsocks = 0;
	/* The streams' workers may still run on srv: it outlives them. */
	tscf_srv_stream_wait_reaped(srv);
}

/* --- the device --------------------------------------------------------- */

static void tscf_srv_free_tables(struct tscf_srv *srv)
{
	kvfree(srv->by_outer);
	kvfree(srv->by_inner4);
	kvfree(srv->by_inner6);
	srv->by_outer = srv->by_inner4 = srv->by_inner6 = NULL;
}

static int tscf_srv_dev_init(struct net_device *dev)
{
	struct tscf_srv *srv = netdev_priv(dev);
	int err;

	srv->by_outer = kvcalloc(TSCF_SRV_BUCKETS, sizeof(struct hlist_head),
				 GFP_KERNEL);
	srv->by_inner4 = kvcalloc(TSCF_SRV_BUCKETS, sizeof(struct hlist_head),
				  GFP_KERNEL);
	srv->by_inner6 = kvcalloc(TSCF_SRV_BUCKETS, sizeof(struct hlist_head),
				  GFP_KERNEL);
	if (!srv->by_outer || !srv->by_inner4 || !srv->by_inner6) {
		tscf_srv_free_tables(srv);
		return -ENOMEM;
	}
	err = gro_cells_init(&srv->gro_cells, dev);
	if (err) {
		tscf_srv_free_tables(srv);
		return err;
	}
	list_add_rcu(&srv->node, &tscf_srvs);
	return 0;
}

/* Every way a server device goes (owner gone, del, netns exit, rmmod). */
static void tscf_srv_dev_uninit(struct net_device *dev)
{
	struct tscf_srv *srv = netdev_priv(dev);
	struct net_device *punt = rtnl_dereference(srv->punt);

	list_del_rcu(&srv->node);
	tscf_srv_release_all(srv);
	RCU_INIT_POINTER(srv->punt, NULL);
	if (punt)
		dev_put(punt);
	gro_cells_destroy(&srv->gro_cells);
	tscf_srv_free_tables(srv);
}

static void tscf_srv_get_drvinfo(struct net_device *dev,
				 struct ethtool_drvinfo *info)
{
	strscpy(info->driver, TSCF_SRV_KIND, sizeof(info->driver));
	strscpy(info->version, TSCF_DRV_VERSION, sizeof(info->version));
}

/*
 * ethtool -S: what the device did that its netdev counters do not say.
 * The order of the names is the order of the values.
 */
static const char tscf_srv_stat_names[][ETH_GSTRING_LEN] = {
	"peers",		/* now */
	"streams_reaping",	/* stream peers deleted, not yet freed */
	"tx_punted",		/* routed in, sent to the punt device */
	"rx_fast_dropped",	/* fast-path packets the device could not take */
	"srv_frames_lost",	/* frames that could not reach tscfd */
	"srv_frames_waited",	/* frames that waited for room to reach it */
	"srv_streams_paused",	/* a stream's reader stopped, tscfd behind */
};

static int tscf_srv_get_sset_count(struct net_device *dev, int sset)
{
	return sset == ETH_SS_STATS ? ARRAY_SIZE(tscf_srv_stat_names) :
				      -EOPNOTSUPP;
}

static void tscf_srv_get_strings(struct net_device *dev, u32 sset, u8 *buf)
{
	if (sset == ETH_SS_STATS)
		memcpy(buf, tscf_srv_stat_names, sizeof(tscf_srv_stat_names));
}

/* Under RTNL (ethtool's ioctl and netlink), which npeers changes under. */
static void tscf_srv_get_ethtool_stats(struct net_device *dev,
				       struct ethtool_stats *stats, u64 *data)
{
	struct tscf_srv *srv = netdev_priv(dev);
	unsigned int i = 0;

	data[i++] = srv->npeers;
	data[i++] = atomic_read(&srv->reaping);
	data[i++] = atomic64_read(&srv->tx_punted);
	data[i++] = atomic64_read(&srv->rx_fast_dropped);
	data[i++] = atomic64_read(&srv->events_failed);
	data[i++] = atomic64_read(&srv->events_waited);
	data[i++] = atomic64_read(&srv->events_paused);
}

static const struct ethtool_ops tscf_srv_ethtool_ops = {
	.get_drvinfo		= tscf_srv_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_sset_count		= tscf_srv_get_sset_count,
	.get_strings		= tscf_srv_get_strings,
	.get_ethtool_stats	= tscf_srv_get_ethtool_stats,
};

static const struct net_device_ops tscf_srv_netdev_ops = {
	.ndo_init		= tscf_srv_dev_init,
	.ndo_uninit		= tscf_srv_dev_uninit,
	.ndo_start_xmit		= tscf_srv_start_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
};

static void tscf_srv_owner_work(struct work_struct *work)
{
	struct tscf_srv *srv = container_of(work, struct tscf_srv, owner_work);
	struct net_device *dev = srv->dev;

	rtnl_lock();
	if (dev->reg_state == NETREG_REGISTERED)
		unregister_netdevice(dev);
	/*
	 * The reference taken when the work was queued goes before
	 * rtnl_unlock(): that runs the unregister's todo, which waits for
	 * every reference, ours included, and the device (this work with
	 * it) is freed there.  Put after it, this worker would wait for
	 * itself forever, re-announcing NETDEV_UNREGISTER every second.
	 */
	dev_put(dev);
	rtnl_unlock();
}

static void tscf_srv_setup(struct net_device *dev)
{
	struct tscf_srv *srv = netdev_priv(dev);

	srv->dev = dev;
	INIT_LIST_HEAD(&srv->socks);
	INIT_LIST_HEAD(&srv->peers);
	INIT_LIST_HEAD(&srv->node);
	INIT_WORK(&srv->owner_work, tscf_srv_owner_work);
	srv->del_gp = get_state_synchronize_rcu();
	get_random_bytes(&srv->key, sizeof(srv->key));

	dev->netdev_ops = &tscf_srv_netdev_ops;
	dev->ethtool_ops = &tscf_srv_ethtool_ops;
	dev->rtnl_link_ops = &tscf_srv_link_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	/* It never stops its queue: sends go straight to a socket or the TUN. */
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->needed_headroom = LL_MAX_HEADER + sizeof(struct ipv6hdr) +
			       sizeof(struct udphdr);
	dev->mtu = TSCF_DEFAULT_MTU;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = TSCF_MAX_MTU;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	tscf_compat_set_lltx(dev);
	/* Its sockets and its punt device are in this namespace. */
	tscf_compat_set_netns_immutable(dev);
	dev->features |= NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
			 NETIF_F_GSO_SOFTWARE;
	dev->hw_features |= NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
			    NETIF_F_GSO_SOFTWARE;
	dev->needs_free_netdev = true;
}

/* Only tscfd makes these (genl srv-new), owned by its netlink socket. */
static int tscf_srv_validate(struct nlattr *tb[], struct nlattr *data[],
			     struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_MOD(extack, "server devices are created by tscfd (genl srv-new)");
	return -EOPNOTSUPP;
}

static struct rtnl_link_ops tscf_srv_link_ops __read_mostly = {
	.kind		= TSCF_SRV_KIND,
	.priv_size	= sizeof(struct tscf_srv),
	.setup		= tscf_srv_setup,
	.validate	= tscf_srv_validate,
};

/* Atomic context (the netlink notifier chain): unregister from a work. */
void tscf_srv_owner_gone(struct net *net, u32 portid)
{
	struct tscf_srv *srv;

	rcu_read_lock();
	list_for_each_entry_rcu(srv, &tscf_srvs, node) {
		if (!net_eq(dev_net(srv->dev), net))
			continue;
		/* A portid is reused: no stream's frames to the next owner. */
		if (READ_ONCE(srv->event_portid) == portid)
			WRITE_ONCE(srv->event_portid, 0);
		if (srv->owner_portid != portid)
			continue;
		dev_hold(srv->dev);
		if (!queue_work(tscf_wq, &srv->owner_work))
			dev_put(srv->dev);
	}
	rcu_read_unlock();
}

/* The punt device is going: packets for tscfd are dropped from now on. */
static int tscf_srv_netdev_event(struct notifier_block *nb,
				 unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct tscf_srv *srv;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	list_for_each_entry(srv, &tscf_srvs, node) {
		if (rtnl_dereference(srv->punt) != dev)
			continue;
		RCU_INIT_POINTER(srv->punt, NULL);
		netdev_warn(srv->dev, "punt device %s unregistered: packets for tscfd are dropped\n",
			    dev->name);
		dev_put(dev);
	}
	return NOTIFY_DONE;
}

static struct notifier_block tscf_srv_netdev_notifier = {
	.notifier_call = tscf_srv_netdev_event,
};

int tscf_srv_init(void)
{
	int err;

	err = rtnl_link_register(&tscf_srv_link_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&tscf_srv_netdev_notifier);
	if (err)
		rtnl_link_unregister(&tscf_srv_link_ops);
	return err;
}

void tscf_srv_exit(void)
{
	/* Unregisters every server device, in every namespace. */
	rtnl_link_unregister(&tscf_srv_link_ops);
	unregister_netdevice_notifier(&tscf_srv_netdev_notifier);
	rcu_barrier();	/* peers deleted by call_rcu() are freed */
}

/* --- genl commands ------------------------------------------------------ */

/* The server device named by IFINDEX; under RTNL. */
static struct tscf_srv *tscf_srv_nl_get(struct genl_info *info)
{
	struct net_device *dev;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_IFINDEX))
		return ERR_PTR(-EINVAL);
	dev = __dev_get_by_index(genl_info_net(info),
				 nla_get_u32(info->attrs[TSCF_A_IFINDEX]));
	if (!dev || !tscf_dev_is_srv(dev)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TSCF_A_IFINDEX],
				    "no such server device");
		return ERR_PTR(-ENODEV);
	}
	return netdev_priv(dev);
}

static struct net_device *tscf_srv_nl_punt(struct genl_info *info)
{
	struct nlattr *a = info->attrs[TSCF_A_PUNT_IFINDEX];
	struct net_device *punt;

	punt = __dev_get_by_index(genl_info_net(info), nla_get_u32(a));
	if (!punt) {
		NL_SET_ERR_MSG_ATTR(info->extack, a, "no such punt device");
		return ERR_PTR(-ENODEV);
	}
	if (tscf_srv_route_loops(punt) || (punt->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "the punt device must be tscfd's TUN, not a tscf or loopback device");
		return ERR_PTR(-EINVAL);
	}
	return punt;
}

static int tscf_srv_nl_reply_new(struct genl_info *info, struct net_device *dev)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(4) + nla_total_size(IFNAMSIZ), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tscf_genl_family, 0, TSCF_CMD_SRV_NEW);
	if (!hdr || nla_put_u32(msg, TSCF_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(msg, TSCF_A_IFNAME, dev->name)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static struct net_device *tscf_srv_create(struct genl_info *info,
					  struct net_device *punt)
{
	const char *name = nla_data(info->attrs[TSCF_A_IFNAME]);
	struct net_device *dev;
	struct tscf_srv *srv;
	int err;

	dev = alloc_netdev(sizeof(struct tscf_srv), name, NET_NAME_USER,
			   tscf_srv_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev_net_set(dev, genl_info_net(info));
	srv = netdev_priv(dev);
	srv->owner_portid = info->snd_portid;
	dev_hold(punt);
	RCU_INIT_POINTER(srv->punt, punt);
	err = register_netdevice(dev);
	if (err) {
		/* ndo_uninit did not run: the punt reference is still ours. */
		if (rtnl_dereference(srv->punt))
			dev_put(punt);
		free_netdev(dev);
		return ERR_PTR(err);
	}
	return dev;
}

int tscf_nl_srv_new_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *punt, *dev;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_IFNAME) ||
	    GENL_REQ_ATTR_CHECK(info, TSCF_A_PUNT_IFINDEX))
		return -EINVAL;
	rtnl_lock();
	punt = tscf_srv_nl_punt(info);
	if (IS_ERR(punt)) {
		rtnl_unlock();
		return PTR_ERR(punt);
	}
	dev = tscf_srv_create(info, punt);
	rtnl_unlock();
	if (IS_ERR(dev)) {
		NL_SET_ERR_MSG_MOD(info->extack, "cannot register the server device");
		return PTR_ERR(dev);
	}
	err = tscf_srv_nl_reply_new(info, dev);
	if (err) {
		rtnl_lock();
		unregister_netdevice(dev);
		rtnl_unlock();
	}
	return err;
}

int tscf_nl_srv_sock_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tscf_srv *srv;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_SOCK_FD))
		return -EINVAL;
	rtnl_lock();
	srv = tscf_srv_nl_get(info);
	if (IS_ERR(srv))
		err = PTR_ERR(srv);
	else
		err = tscf_srv_sock_add(srv, nla_get_u32(info->attrs[TSCF_A_SOCK_FD]),
					info->extack);
	rtnl_unlock();
	return err;
}

static int tscf_srv_nl_remote(const struct nlattr *a, struct tscf_srv_peer_cfg *c,
			      struct netlink_ext_ack *extack)
{
	const struct sockaddr_in6 *sin6 = nla_data(a);
	const struct sockaddr_in *sin = nla_data(a);

	if (nla_len(a) == sizeof(*sin) && sin->sin_family == AF_INET) {
		ipv6_addr_set_v4mapped(sin->sin_addr.s_addr, &c->remote);
		c->port = sin->sin_port;
	} else if (nla_len(a) == sizeof(*sin6) && sin6->sin6_family == AF_INET6) {
		c->remote = sin6->sin6_addr;
		c->port = sin6->sin6_port;
	} else {
		NL_SET_ERR_MSG_ATTR(extack, a, "not a sockaddr_in or sockaddr_in6");
		return -EINVAL;
	}
	if (!c->port) {
		NL_SET_ERR_MSG_ATTR(extack, a, "port 0");
		return -EINVAL;
	}
	return 0;
}

/*
 * The socket behind the caller's fd, into c->ss: an attached UDP socket,
 * or a TCP socket that carries a stream peer here.  A TCP socket that
 * does not yet (create): c->ss NULL and c->sock held for the new stream.
 */
static int tscf_srv_nl_sock(struct tscf_srv *srv, const struct nlattr *a,
			    bool create, struct tscf_srv_peer_cfg *c,
			    struct netlink_ext_ack *extack)
{
	struct tscf_srv_sock *ss;
	struct socket *sock;
	int err;

	sock = sockfd_lookup(nla_get_u32(a), &err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(extack, a, "fd is not a socket of the caller");
		return err;
	}
	if (tscf_srv_sock_is_tcp(sock)) {
		c->ss = tscf_srv_stream_find(srv, sock);
		if (c->ss || !create) {
			sockfd_put(sock);	/* a stream holds its own */
			if (c->ss)
				return 0;
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "TCP socket is not a stream peer of this device");
			return -ENOENT;
		}
		c->sock = sock;
		c->fd = nla_get_u32(a);
		return 0;
	}
	list_for_each_entry(ss, &srv->socks, node)
		if (ss->sock == sock)
			c->ss = ss;
	sockfd_put(sock);
	if (!c->ss) {
		NL_SET_ERR_MSG_ATTR(extack, a, "socket is not attached to this device");
		return -ENOENT;
	}
	return 0;
}

/*
 * Parse srv-peer into c; RTNL held (the socket list).  create: a TCP
 * socket may be new here (c->sock, which the caller puts if still set).
 */
static int tscf_srv_nl_peer(struct tscf_srv *srv, struct genl_info *info,
			    bool create, struct tscf_srv_peer_cfg *c)
{
	struct nlattr *tb[TSCF_SRV_PEER_A_MAX + 1];
	struct nlattr *nest = info->attrs[TSCF_A_SRV_PEER];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_SRV_PEER))
		return -EINVAL;
	err = nla_parse_nested(tb, TSCF_SRV_PEER_A_MAX, nest,
			       tscf_srv_peer_nl_policy, info->extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(info->extack, nest, tb, TSCF_SRV_PEER_A_REMOTE) ||
	    NL_REQ_ATTR_CHECK(info->extack, nest, tb, TSCF_SRV_PEER_A_FD))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	err = tscf_srv_nl_remote(tb[TSCF_SRV_PEER_A_REMOTE], c, info->extack);
	if (err)
		return err;
	err = tscf_srv_nl_sock(srv, tb[TSCF_SRV_PEER_A_FD], create, c,
			       info->extack);
	if (err)
		return err;
	c->rx_rest = tb[TSCF_SRV_PEER_A_RX_REST];
	c->encrypted = nla_get_flag(tb[TSCF_SRV_PEER_A_ENCRYPTED]);
	c->flows = tb[TSCF_SRV_PEER_A_FLOWS];
	c->frame_seq = tb[TSCF_SRV_PEER_A_FRAME_SEQ];
	if (tb[TSCF_SRV_PEER_A_TSID])
		c->tsid = nla_get_u64(tb[TSCF_SRV_PEER_A_TSID]);
	if (tb[TSCF_SRV_PEER_A_INTERNAL_IPV4]) {
		c->has_ip4 = true;
		c->ip4 = nla_get_in_addr(tb[TSCF_SRV_PEER_A_INTERNAL_IPV4]);
	}
	if (tb[TSCF_SRV_PEER_A_INTERNAL_IPV6]) {
		c->has_ip6 = true;
		c->ip6 = nla_get_in6_addr(tb[TSCF_SRV_PEER_A_INTERNAL_IPV6]);
	}
	if (tb[TSCF_SRV_PEER_A_FAST]) {
		c->has_fast = true;
		c->fast = nla_get_u8(tb[TSCF_SRV_PEER_A_FAST]);
	}
	if (tb[TSCF_SRV_PEER_A_SUPER_FRAMES]) {
		c->has_super = true;
		c->super_frames = nla_get_u16(tb[TSCF_SRV_PEER_A_SUPER_FRAMES]);
	}
	return 0;
}

int tscf_nl_srv_peer_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tscf_srv_peer_cfg c = {};
	struct tscf_srv *srv;
	int err;

	rtnl_lock();
	srv = tscf_srv_nl_get(info);
	if (IS_ERR(srv)) {
		err = PTR_ERR(srv);
		goto out;
	}
	err = tscf_srv_nl_peer(srv, info, true, &c);
	if (err)
		goto out;
	if ((!c.ss || !tscf_srv_peer_by_outer(srv, c.ss, &c.remote, c.port)) &&
	    !c.has_ip4 && !c.has_ip6) {
		NL_SET_ERR_MSG_MOD(info->extack, "a new peer needs an internal address");
		err = -EINVAL;
		goto out;
	}
	err = tscf_srv_peer_set(srv, &c, info->extack);
out:
	rtnl_unlock();
	if (c.sock)
		sockfd_put(c.sock);	/* no stream took it */
	return err;
}

static u32 tscf_srv_peer_idle_ms(const struct tscf_srv_peer *p)
{
	unsigned long last = READ_ONCE(p->last_rx);
	unsigned int ms;

	if (!last)
		return TSCF_SRV_IDLE_NEVER;
	ms = jiffies_to_msecs(jiffies - last);
	return min_t(unsigned int, ms, TSCF_SRV_IDLE_NEVER - 1);
}

int tscf_srv_put_remote(struct sk_buff *msg, const struct tscf_srv_peer *p)
{
	if (ipv6_addr_v4mapped(&p->remote)) {
		struct sockaddr_in sin = {
			.sin_family = AF_INET,
			.sin_port = p->port,
			.sin_addr.s_addr = p->remote.s6_addr32[3],
		};

		return nla_put(msg, TSCF_SRV_PEER_A_REMOTE, sizeof(sin), &sin);
	} else {
		struct sockaddr_in6 sin6 = {
			.sin6_family = AF_INET6,
			.sin6_port = p->port,
			.sin6_addr = p->remote,
		};

		return nla_put(msg, TSCF_SRV_PEER_A_REMOTE, sizeof(sin6), &sin6);
	}
}

static int tscf_srv_put_counters(struct sk_buff *msg, const struct tscf_srv_peer *p)
{
	return nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_RX_PACKETS,
				 atomic64_read(&p->rx_packets), TSCF_SRV_PEER_A_PAD) ||
	       nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_RX_BYTES,
				 atomic64_read(&p->rx_bytes), TSCF_SRV_PEER_A_PAD) ||
	       nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_TX_PACKETS,
				 atomic64_read(&p->tx_packets), TSCF_SRV_PEER_A_PAD) ||
	       nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_TX_BYTES,
				 atomic64_read(&p->tx_bytes), TSCF_SRV_PEER_A_PAD) ||
	       nla_put_u32(msg, TSCF_SRV_PEER_A_RX_IDLE_MS, tscf_srv_peer_idle_ms(p));
}

static int tscf_srv_put_peer(struct sk_buff *msg, const struct tscf_srv *srv,
			     const struct tscf_srv_peer *p)
{
	struct nlattr *nest;

	if (nla_put_u32(msg, TSCF_A_IFINDEX, srv->dev->ifindex))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, TSCF_A_SRV_PEER);
	if (!nest || tscf_srv_put_remote(msg, p) ||
	    nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_TSID, p->tsid, TSCF_SRV_PEER_A_PAD) ||
	    (p->has_ip4 && nla_put_in_addr(msg, TSCF_SRV_PEER_A_INTERNAL_IPV4, p->ip4)) ||
	    (p->has_ip6 && nla_put_in6_addr(msg, TSCF_SRV_PEER_A_INTERNAL_IPV6, &p->ip6)) ||
	    nla_put_u8(msg, TSCF_SRV_PEER_A_FAST, READ_ONCE(p->fast)) ||
	    (p->encrypted && nla_put_flag(msg, TSCF_SRV_PEER_A_ENCRYPTED)) ||
	    (READ_ONCE(p->super_frames) &&
	     nla_put_u16(msg, TSCF_SRV_PEER_A_SUPER_FRAMES, READ_ONCE(p->super_frames))) ||
	    tscf_srv_put_counters(msg, p))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static struct sk_buff *tscf_srv_peer_msg(struct genl_info *info, u8 cmd,
					 const struct tscf_srv *srv,
					 const struct tscf_srv_peer *p)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	hdr = genlmsg_put_reply(msg, info, &tscf_genl_family, 0, cmd);
	if (!hdr || tscf_srv_put_peer(msg, srv, p)) {
		nlmsg_free(msg);
		return ERR_PTR(-EMSGSIZE);
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/* Look up the peer a request names; RTNL held. */
static struct tscf_srv_peer *tscf_srv_nl_find(struct genl_info *info,
					      struct tscf_srv **srvp)
{
	struct tscf_srv_peer_cfg c = {};
	struct tscf_srv_peer *p;
	int err;

	*srvp = tscf_srv_nl_get(info);
	if (IS_ERR(*srvp))
		return ERR_CAST(*srvp);
	err = tscf_srv_nl_peer(*srvp, info, false, &c);
	if (err)
		return ERR_PTR(err);
	p = tscf_srv_peer_by_outer(*srvp, c.ss, &c.remote, c.port);
	if (!p) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such peer");
		return ERR_PTR(-ENOENT);
	}
	return p;
}

int tscf_nl_srv_peer_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tscf_srv_peer *p;
	struct tscf_srv *srv;
	struct sk_buff *msg;

	rtnl_lock();
	p = tscf_srv_nl_find(info, &srv);
	if (IS_ERR(p)) {
		rtnl_unlock();
		return PTR_ERR(p);
	}
	/* Its last counters, while RTNL keeps it ours. */
	msg = tscf_srv_peer_msg(info, TSCF_CMD_SRV_PEER_DEL, srv, p);
	tscf_srv_peer_del(srv, p);
	rtnl_unlock();
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

int tscf_nl_srv_peer_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tscf_srv_peer *p;
	struct tscf_srv *srv;
	struct sk_buff *msg;

	rtnl_lock();
	p = tscf_srv_nl_find(info, &srv);
	msg = IS_ERR(p) ? ERR_CAST(p) :
			  tscf_srv_peer_msg(info, TSCF_CMD_SRV_PEER_GET, srv, p);
	rtnl_unlock();
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

static int tscf_srv_dump_peer(struct sk_buff *skb, struct netlink_callback *cb,
			      const struct tscf_srv *srv,
			      const struct tscf_srv_peer *p)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &tscf_genl_family, NLM_F_MULTI, TSCF_CMD_SRV_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (tscf_srv_put_peer(skb, srv, p)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * Every peer of every server device of the netns, under RTNL (the peer
 * lists).  cb->args: [0] server devices done, [1] peers of the next done.
 */
int tscf_nl_srv_peer_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct tscf_srv_peer *p;
	struct net_device *dev;
	struct tscf_srv *srv;
	long idx = 0, n;

	rtnl_lock();
	for_each_netdev(net, dev) {
		if (!tscf_dev_is_srv(dev) || idx++ < cb->args[0])
			continue;
		srv = netdev_priv(dev);
		n = 0;
		list_for_each_entry(p, &srv->peers, node) {
			if (n++ < cb->args[1])
				continue;
			if (tscf_srv_dump_peer(skb, cb, srv, p))
				goto out;
			cb->args[1] = n;
		}
		cb->args[0] = idx;
		cb->args[1] = 0;
	}
out:
	rtnl_unlock();
	return skb->len;
}

/* This socket gets the device's srv-frame events from now on. */
int tscf_nl_srv_listen_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tscf_srv *srv;

	rtnl_lock();
	srv = tscf_srv_nl_get(info);
	if (!IS_ERR(srv))
		WRITE_ONCE(srv->event_portid, info->snd_portid);
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(srv);
}

int tscf_nl_srv_peer_send_doit(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *frame = info->attrs[TSCF_A_FRAME];
	struct tscf_srv_peer *p;
	struct tscf_srv *srv;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_FRAME))
		return -EINVAL;
	rtnl_lock();
	p = tscf_srv_nl_find(info, &srv);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
	} else if (!p->ss->stream) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "not a stream peer: a UDP peer's frames go from the UDP socket");
		err = -EOPNOTSUPP;
	} else {
		err = tscf_srv_stream_send(p, nla_data(frame), nla_len(frame),
					   info->extack);
	}
	rtnl_unlock();
	return err;
}
