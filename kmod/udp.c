// SPDX-License-Identifier: GPL-2.0
/*
 * UDP tunnels: one datagram is one frame.  Receive through the UDP
 * encapsulation hook (softirq, no copy); transmit by pushing the outer
 * UDP/IP headers onto the inner packet with the UDP tunnel helpers.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/ip_tunnels.h>
#include <net/udp_tunnel.h>

#include "device.h"
#include "tunnel.h"

/* Any value but 0 enables the encap hook; this one is ours ("T"). */
#define TSCF_UDP_ENCAP_TYPE	0x54

static int tscf_udp_encap_recv(struct sock *sk, struct sk_buff *skb)
{
	struct tscf_tunnel *t = rcu_dereference_sk_user_data(sk);

	if (unlikely(!t || READ_ONCE(t->dead)))
		return 1;	/* detaching: leave it to the socket */
	if (t->dtls) {
		tscf_dtls_rx(t, skb);
		return 0;
	}

	if (!pskb_may_pull(skb, sizeof(struct udphdr) + 1)) {
		tscf_cnt_inc(t, TSCF_CNT_RX_MALFORMED);
		kfree_skb(skb);
		return 0;
	}
	/*
	 * The UDP layer verifies a datagram's checksum before it calls the
	 * encap hook; a zero checksum (IPv4 "none") verified nothing, and
	 * then the inner stack checks the inner packet itself.
	 */
	if (udp_hdr(skb)->check)
		tscf_rx_mark_verified(skb);
	else
		skb->ip_summed = CHECKSUM_NONE;
	__skb_pull(skb, sizeof(struct udphdr));
	tscf_tunnel_rx_frame(t, skb);
	return 0;
}

int tscf_udp_attach(struct tscf_tunnel *t)
{
	struct udp_tunnel_sock_cfg cfg = {
		.sk_user_data = t,
		.encap_type = TSCF_UDP_ENCAP_TYPE,
		.encap_rcv = tscf_udp_encap_recv,
	};
	int err;

	err = dst_cache_init(&t->dst_cache, GFP_KERNEL);
	if (err)
		return err;
	setup_udp_tunnel_sock(sock_net(t->sock->sk), t->sock, &cfg);
	return 0;
}

void tscf_udp_detach(struct tscf_tunnel *t)
{
	struct sock *sk = t->sock->sk;

	lock_sock(sk);
	WRITE_ONCE(udp_sk(sk)->encap_type, 0);
	WRITE_ONCE(udp_sk(sk)->encap_rcv, NULL);
	rcu_assign_sk_user_data(sk, NULL);
	release_sock(sk);
	/* No encap_rcv or transmit is still looking at t after this. */
	synchronize_net();
	dst_cache_destroy(&t->dst_cache);
}

/*
 * Room in front of skb for the outer headers, on the lower device: a
 * copy of the head only if the inner stack left too little.  The device
 * then asks it to leave that much (needed_headroom) in front of the
 * packets that follow, as ip_tunnel does: no copy for them.
 */
static int tscf_udp_make_room(struct tscf_tunnel *t, struct sk_buff *skb,
			      const struct net_device *lower,
			      unsigned int outer_len)
{
	unsigned int room = LL_RESERVED_SPACE(lower) + outer_len;

	if (room > READ_ONCE(t->dev->needed_headroom))
		WRITE_ONCE(t->dev->needed_headroom, room);
	return skb_cow_head(skb, room);
}

/*
 * A TCP super-frame (device.c let it through, PROTOCOL.md 1.3) leaves as
 * a UDP tunnel GSO packet, as FOU's IP-in-UDP does: a lower device that
 * carries it whole (a veth) hands it whole to the server, which offered
 * to take it; any other has the stack or the NIC cut it into ordinary
 * frames, each with its own inner and outer checksums.
 */
static int tscf_udp_gso_prepare(struct sk_buff *skb)
{
	int err;

	if (!skb_is_gso(skb))
		return 0;
	err = iptunnel_handle_offloads(skb, SKB_GSO_UDP_TUNNEL_CSUM);
	if (err)
		return err;
	skb_set_inner_ipproto(skb, skb->protocol == htons(ETH_P_IP) ?
			      IPPROTO_IPIP : IPPROTO_IPV6);
	return 0;
}

static void tscf_udp4_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct sock *sk = t->sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct rtable *rt;
	__be32 saddr;

	rt = dst_cache_get_ip4(&t->dst_cache, &saddr);
	if (!rt) {
		struct flowi4 fl4 = {
			.daddr = inet->inet_daddr,
			.saddr = inet->inet_saddr,
			.flowi4_oif = sk->sk_bound_dev_if,
			.flowi4_mark = sk->sk_mark,
			.flowi4_proto = IPPROTO_UDP,
			.fl4_sport = inet->inet_sport,
			.fl4_dport = inet->inet_dport,
		};

		rt = ip_route_output_key(sock_net(sk), &fl4);
		if (IS_ERR(rt)) {
			tscf_tunnel_tx_drop(t, skb);
			return;
		}
		if (tscf_dev_is_tscf(rt->dst.dev)) {
			ip_rt_put(rt);
			tscf_tunnel_tx_drop(t, skb);
			return;
		}
		saddr = fl4.saddr;
		dst_cache_set_ip4(&t->dst_cache, &rt->dst, saddr);
	}

	if (tscf_udp_make_room(t, skb, rt->dst.dev,
			       sizeof(struct iphdr) + sizeof(struct udphdr)) ||
	    tscf_udp_gso_prepare(skb)) {
		ip_rt_put(rt);
		tscf_tunnel_tx_drop(t, skb);
		return;
	}
	udp_tunnel_xmit_skb(rt, sk, skb, saddr, inet->inet_daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, inet->inet_sport,
			    inet->inet_dport, false, false);
}

#if IS_ENABLED(CONFIG_IPV6)
static void tscf_udp6_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct sock *sk = t->sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst;
	struct in6_addr saddr;

	dst = dst_cache_get_ip6(&t->dst_cache, &saddr);
	if (!dst) {
		struct flowi6 fl6 = {
			.daddr = sk->sk_v6_daddr,
			.saddr = sk->sk_v6_rcv_saddr,
			.flowi6_oif = sk->sk_bound_dev_if,
			.flowi6_mark = sk->sk_mark,
			.flowi6_proto = IPPROTO_UDP,
			.fl6_sport = inet->inet_sport,
			.fl6_dport = inet->inet_dport,
		};

		dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6,
						      NULL);
		if (IS_ERR(dst)) {
			tscf_tunnel_tx_drop(t, skb);
			return;
		}
		if (tscf_dev_is_tscf(dst->dev)) {
			dst_release(dst);
			tscf_tunnel_tx_drop(t, skb);
			return;
		}
		saddr = fl6.saddr;
		dst_cache_set_ip6(&t->dst_cache, dst, &saddr);
	}

	if (tscf_udp_make_room(t, skb, dst->dev,
			       sizeof(struct ipv6hdr) + sizeof(struct udphdr)) ||
	    tscf_udp_gso_prepare(skb)) {
		dst_release(dst);
		tscf_tunnel_tx_drop(t, skb);
		return;
	}
	udp_tunnel6_xmit_skb(dst, sk, skb, t->dev, &saddr, &sk->sk_v6_daddr,
			     0, ip6_dst_hoplimit(dst), 0, inet->inet_sport,
			     inet->inet_dport, false);
}
#endif

/* Called with BHs off; consumes skb. */
void tscf_udp_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	skb->dev = t->dev;	/* the UDP tunnel helpers count on it */

#if IS_ENABLED(CONFIG_IPV6)
	if (t->sock->sk->sk_family == AF_INET6) {
		tscf_udp6_xmit(t, skb);
		return;
	}
#endif
	tscf_udp4_xmit(t, skb);
}
