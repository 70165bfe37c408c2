// SPDX-License-Identifier: GPL-2.0
/*
 * Flow steering: which tunnel a packet of a marked socket takes, and the
 * FLOW_BIND frames that tell the server about it (docs/PROTOCOL.md).
 *
 * The move of a socket is the choice made here per packet, from the
 * socket's level and whether the encrypted twin has a tunnel: nothing
 * about the socket itself changes (same fd, addresses, TCP state).
 *
 * Before the first packet of a flow goes out on a tunnel where the server
 * does not expect it, a FLOW_BIND_REQ is queued ahead of it on that same
 * tunnel, so that on a stream tunnel the server has the binding before
 * it can see (and answer) the data.  The tuple comes from the socket
 * where the packet cannot be trusted to carry it (UDP, and any IPv4 or
 * IPv6 fragment); IPv6 extension headers are skipped.
 *
 * Fail closed (docs/DESIGN.md, "Security model").  Every packet has a
 * level:
 * - a packet of a full user socket has that socket's level (enclevel.c
 *   keeps the mark until the socket's last packet is freed, and gives
 *   accepted children their listener's level);
 * - any other packet (no socket, a kernel socket such as TCP's reset and
 *   time-wait ACK sender or ICMP, a request socket) has the level of the
 *   socket that owns its tuple, found by a socket lookup; if none is
 *   found or the tuple cannot be read (not TCP/UDP, later fragment) its
 *   level is UNKNOWN.
 * An UNKNOWN packet is treated as encrypted-only on a tscf device while
 * the namespace holds an encrypted-only socket: it takes the encrypted
 * tunnel or is dropped, never the clear one.
 *
 * Encrypted-only payload never leaves in the clear:
 * - egress: LOCAL_OUT and POST_ROUTING hooks fail the send with
 *   ENETUNREACH when the packet's device is a tscf device without an
 *   encrypted tunnel (TX_BLOCKED on that device) or any device other than
 *   a tscf device or loopback (a route that leads elsewhere; counted per
 *   namespace as tx_refused);
 * - the clear device drops anything that still reaches it (TX_BLOCKED);
 * - receive: inner packets from the clear tunnel are dropped when their
 *   destination is not the session's internal address, when they belong
 *   to an encrypted-only socket, or to an encrypted-preferred connection
 *   while the encrypted tunnel is up (RX_BLOCKED).
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_socket.h>
#include <net/udp.h>
#include <net/sock.h>

#include "device.h"
#include "enclevel.h"
#include "tunnel.h"

/* Kernel-originated requests use sequence numbers with the top bit set. */
#define TSCF_KERNEL_SEQ_BIT	0x80000000u
#define TSCF_KERNEL_SEQ_MASK	(TSCF_KERNEL_SEQ_BIT - 1)

struct tscf_flow_tuple {
	u8 proto;
	u8 family;		/* 4 or 6 */
	__be16 lport, rport;
	union {
		__be32 a4[2];
		struct in6_addr a6[2];	/* local, remote */
	};
};

/* Where an IP packet's transport header is, skb->data at its IP header. */
struct tscf_l4 {
	u8 proto;
	bool later_frag;	/* a fragment other than the first: no ports */
	unsigned int thoff;
};

static bool tscf_l4_of(const struct sk_buff *skb, struct tscf_l4 *l4)
{
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		l4->proto = iph->protocol;
		l4->later_frag = iph->frag_off & htons(IP_OFFSET);
		l4->thoff = skb_network_offset(skb) + iph->ihl * 4;
		return true;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (skb->protocol == htons(ETH_P_IPV6)) {
		u8 nexthdr = ipv6_hdr(skb)->nexthdr;
		__be16 frag_off = 0;
		int off;

		off = ipv6_skip_exthdr(skb, skb_network_offset(skb) +
				       sizeof(struct ipv6hdr), &nexthdr, &frag_off);
		if (off < 0)
			return false;
		l4->proto = nexthdr;
		l4->later_frag = frag_off & htons(IP6_OFFSET);
		l4->thoff = off;
		return true;
	}
#endif
	return false;
}

/* The ports at the transport header, if the packet carries them. */
static bool tscf_l4_ports(const struct sk_buff *skb, const struct tscf_l4 *l4,
			  __be16 *sport, __be16 *dport)
{
	__be16 buf[2], *pp;

	if (l4->later_frag ||
	    (l4->proto != IPPROTO_TCP && l4->proto != IPPROTO_UDP))
		return false;
	pp = skb_header_pointer(skb, l4->thoff, sizeof(buf), buf);
	if (!pp)
		return false;
	*sport = pp[0];
	*dport = pp[1];
	return true;
}

/*
 * The flow of an outgoing packet of sk, skb->data at its IP header.
 * Addresses come from the IP header (every fragment has them).  UDP
 * ports come from the socket, which fragments cannot lie about; TCP
 * ports from the header (the socket may be the listener of a SYN-ACK),
 * and a TCP fragment, which the stack never makes, is not announced.
 */
static bool tscf_flow_of(struct sk_buff *skb, const struct sock *sk,
			 struct tscf_flow_tuple *f)
{
	bool connected = sk->sk_state == TCP_ESTABLISHED;
	struct tscf_l4 l4;

	memset(f, 0, sizeof(*f));
	if (!tscf_l4_of(skb, &l4))
		return false;
	if (skb->protocol == htons(ETH_P_IP)) {
		f->family = 4;
		f->a4[0] = ip_hdr(skb)->saddr;
		f->a4[1] = ip_hdr(skb)->daddr;
	} else {
		f->family = 6;
		f->a6[0] = ipv6_hdr(skb)->saddr;
		f->a6[1] = ipv6_hdr(skb)->daddr;
	}
	f->proto = sk->sk_protocol;
	if (f->proto == IPPROTO_TCP) {
		if (l4.proto != IPPROTO_TCP ||
		    !tscf_l4_ports(skb, &l4, &f->lport, &f->rport))
			return false;
		return true;
	}
	if (f->proto != IPPROTO_UDP || (!l4.later_frag && l4.proto != IPPROTO_UDP))
		return false;
	f->lport = inet_sk(sk)->inet_sport;
	f->rport = connected ? inet_sk(sk)->inet_dport : 0;
	/* An unconnected UDP socket talks to anyone: bind its local end. */
	if (!connected)
		memset(f->family == 4 ? (void *)&f->a4[1] : (void *)&f->a6[1], 0,
		       f->family == 4 ? 4 : 16);
	return true;
}

static int tscf_flow_bind_frame(u8 *buf, const struct tscf_flow_tuple *f,
				u64 tsid, u32 seq, u8 level)
{
	unsigned int alen = f->family == 4 ? 4 : 16;
	struct tscf_cm_hdr *h = (struct tscf_cm_hdr *)buf;
	struct tscf_tlv_flow_hdr *fh;
	u8 *p = buf + TSCF_CM_HDR_LEN;

	h->ver_ind = TSCF_CM_BYTE0;
	h->type = TSCF_CM_FLOW_BIND_REQ;
	h->tlv_count = htons(2);
	h->tsid = cpu_to_be64(tsid);
	h->seq = htonl(seq | TSCF_KERNEL_SEQ_BIT);

	put_unaligned_be16(TSCF_TLV_FLOW, p);
	put_unaligned_be16(sizeof(*fh) + 2 * alen, p + 2);
	fh = (struct tscf_tlv_flow_hdr *)(p + TSCF_TLV_HDR_LEN);
	fh->proto = f->proto;
	fh->family = f->family;
	fh->reserved = 0;
	fh->local_port = f->lport;
	fh->remote_port = f->rport;
	p += TSCF_TLV_HDR_LEN + sizeof(*fh);
	memcpy(p, f->family == 4 ? (void *)&f->a4[0] : (void *)&f->a6[0], alen);
	memcpy(p + alen, f->family == 4 ? (void *)&f->a4[1] : (void *)&f->a6[1],
	       alen);
	p += 2 * alen;

	put_unaligned_be16(TSCF_TLV_ENC_LEVEL, p);
	put_unaligned_be16(1, p + 2);
	p[4] = level;
	p += TSCF_TLV_HDR_LEN + 1;
	return p - buf;
}

static void tscf_flow_send_bind(struct tscf_tunnel *t, const u8 *buf, int len)
{
	if (tscf_tunnel_send_ctrl(t, buf, len, GFP_ATOMIC))
		tscf_cnt_inc(t, TSCF_CNT_TX_DROPPED);
}

/*
 * Tell the server, once per change, where this socket's flow goes and at
 * which level, on the tunnel about to carry it.  A socket never marked
 * encrypted needs no binding: the server's default is the clear tunnel.
 */
static void tscf_flow_announce(struct tscf_sk *e, struct tscf_tunnel *t,
			       struct sk_buff *skb, u8 level)
{
	u8 buf[TSCF_CM_HDR_LEN + 2 * TSCF_TLV_HDR_LEN + 40 + 1];
	struct tscf_flow_tuple f;
	bool send, stream;
	u32 hash, seq;
	int len;

	if (!tscf_flow_of(skb, e->sk, &f))
		return;
	hash = jhash(&f, sizeof(f), 0);

	spin_lock_bh(&e->lock);
	send = e->note.tsid != t->tsid || e->note.level != level ||
	       e->note.tuple_hash != hash;
	if (send && !e->note.tsid && level == TSCF_ENC_UNENCRYPTED)
		send = false;
	if (!send) {
		spin_unlock_bh(&e->lock);
		return;
	}
	/*
	 * Numbered under the tunnel's bind_lock, and on a stream tunnel also
	 * handed to tcp.c under it (written at once or queued, in the order
	 * given), so that the numbers go out in order and an answer to one
	 * says the server has read every earlier one (tscf_flow_lowered()).
	 * The receive path takes neither lock, so a direct send holding them
	 * cannot wait on it.  A datagram tunnel has no order to keep, and
	 * its send runs the IP stack: after the locks.
	 */
	stream = !tscf_tunnel_is_dgram(t);
	spin_lock(&t->bind_lock);
	seq = ++t->bind_seq & TSCF_KERNEL_SEQ_MASK;
	e->note.tsid = t->tsid;
	e->note.level = level;
	e->note.tuple_hash = hash;
	e->note.seq = seq;
	len = tscf_flow_bind_frame(buf, &f, t->tsid, seq, level);
	if (stream)
		tscf_flow_send_bind(t, buf, len);
	spin_unlock(&t->bind_lock);
	spin_unlock_bh(&e->lock);
	if (!stream)
		tscf_flow_send_bind(t, buf, len);
}

/* A FLOW_BIND_RESP to one of the module's own requests on t. */
void tscf_flow_rx_ctrl(struct tscf_tunnel *t, const u8 *frame, unsigned int len)
{
	const struct tscf_cm_hdr *h = (const struct tscf_cm_hdr *)frame;
	u32 seq;

	if (len < TSCF_CM_HDR_LEN || h->type != TSCF_CM_FLOW_BIND_RESP)
		return;
	seq = ntohl(h->seq);
	if (!(seq & TSCF_KERNEL_SEQ_BIT) || be64_to_cpu(h->tsid) != t->tsid)
		return;
	WRITE_ONCE(t->bind_acked, seq & TSCF_KERNEL_SEQ_MASK);
}

/* Where a lowered (unencrypted) socket's packets may go, from its note. */
enum tscf_lowered {
	TSCF_LOWERED_CLEAR,	/* nothing bound above unencrypted */
	TSCF_LOWERED_BOUND_ENC,	/* still bound encrypted: unbind over enc */
	TSCF_LOWERED_UNBINDING,	/* unbound over enc, not yet answered there */
};

/*
 * A level above unencrypted that this socket bound over an encrypted
 * tunnel can only be lowered over an encrypted tunnel (the server refuses
 * the clear one, which anyone on its path can write).  Once unbound over
 * enc, the socket's packets stay there, behind the unbinding, until the
 * server has answered it: on the clear tunnel they could overtake it and
 * be dropped there as encrypted-only.  Staying encrypted longer never
 * exposes anything; an answer forged on the clear tunnel cannot end the
 * wait (answers count per tunnel), and one that never comes ends with the
 * encrypted tunnel.
 */
static enum tscf_lowered tscf_flow_lowered(struct tscf_sk *e,
					   const struct tscf_tunnel *clear,
					   const struct tscf_tunnel *enc)
{
	enum tscf_lowered state = TSCF_LOWERED_CLEAR;
	u32 acked;

	spin_lock_bh(&e->lock);
	if (e->note.tsid && e->note.tsid != clear->tsid &&
	    e->note.level != TSCF_ENC_UNENCRYPTED) {
		state = TSCF_LOWERED_BOUND_ENC;
	} else if (enc && e->note.tsid == enc->tsid &&
		   e->note.level == TSCF_ENC_UNENCRYPTED) {
		acked = READ_ONCE(enc->bind_acked);
		/* 31-bit serial numbers (RFC 1982): is acked before seq? */
		if ((acked - e->note.seq) & (TSCF_KERNEL_SEQ_BIT >> 1))
			state = TSCF_LOWERED_UNBINDING;
	}
	spin_unlock_bh(&e->lock);
	return state;
}

static void tscf_flow_block(struct net_device *dev, struct sk_buff *skb)
{
	struct tscf_dev *td = netdev_priv(dev);

	atomic64_inc(&td->tx_blocked);
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
}

/* Under RCU: the level of the socket that owns this TCP 4-tuple. */
static u8 tscf_flow_tcp_owner(struct net *net, const struct sk_buff *skb,
			      __be16 sport, __be16 dport, int dif)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct sock *sk = NULL, *full;
	u8 level = TSCF_ENC_UNKNOWN;

	/* Outgoing: the owner's local end is the packet's source. */
	if (skb->protocol == htons(ETH_P_IP))
		sk = __inet_lookup_established(net, hinfo, ip_hdr(skb)->daddr,
					       dport, ip_hdr(skb)->saddr,
					       ntohs(sport), dif, 0);
#if IS_ENABLED(CONFIG_IPV6)
	else
		sk = __inet6_lookup_established(net, hinfo, &ipv6_hdr(skb)->daddr,
						dport, &ipv6_hdr(skb)->saddr,
						ntohs(sport), dif, 0);
#endif
	if (!sk)
		return level;
	full = sk_to_full_sk(sk);	/* a request socket's listener */
	if (full && sk_fullsock(full) && !full->sk_kern_sock)
		level = tscf_sk_level(full);
	sock_gen_put(sk);		/* time-wait: stays UNKNOWN */
	return level;
}

/* Under RCU: the level of the UDP socket that sent from this port. */
static u8 tscf_flow_udp_owner(struct net *net, const struct sk_buff *skb,
			      __be16 sport, __be16 dport, int dif)
{
	struct sock *sk = NULL;
	u8 level = TSCF_ENC_UNKNOWN;

	if (skb->protocol == htons(ETH_P_IP))
		sk = udp4_lib_lookup(net, ip_hdr(skb)->daddr, dport,
				     ip_hdr(skb)->saddr, sport, dif);
#if IS_ENABLED(CONFIG_IPV6)
	else
		sk = udp6_lib_lookup(net, &ipv6_hdr(skb)->daddr, dport,
				     &ipv6_hdr(skb)->saddr, sport, dif);
#endif
	if (!sk)
		return level;
	if (!sk->sk_kern_sock)
		level = tscf_sk_level(sk);
	sock_put(sk);
	return level;
}

/* A packet that carries no user socket: find the owner of its tuple. */
static u8 tscf_flow_level_by_tuple(struct net *net, const struct sk_buff *skb,
				   int dif)
{
	__be16 sport, dport;
	struct tscf_l4 l4;

	if (!tscf_l4_of(skb, &l4) || !tscf_l4_ports(skb, &l4, &sport, &dport))
		return TSCF_ENC_UNKNOWN;
	if (l4.proto == IPPROTO_TCP)
		return tscf_flow_tcp_owner(net, skb, sport, dport, dif);
	return tscf_flow_udp_owner(net, skb, sport, dport, dif);
}

/*
 * Under rcu_read_lock(): the level of an outgoing packet (see the header
 * comment) and, when it has one, the entry of its socket.
 */
static u8 tscf_flow_level(struct net *net, struct sk_buff *skb, int dif,
			  struct tscf_sk **ep)
{
	struct sock *sk = skb_to_full_sk(skb);
	struct tscf_sk *e;

	if (ep)
		*ep = NULL;
	if (sk && sk_fullsock(sk) && !sk->sk_kern_sock) {
		e = tscf_sk_lookup(sk);
		if (!e)
			return TSCF_ENC_UNENCRYPTED;
		if (ep)
			*ep = e;
		return READ_ONCE(e->level);
	}
	if (!tscf_enclevel_marked_ever(net))
		return TSCF_ENC_UNENCRYPTED;
	return tscf_flow_level_by_tuple(net, skb, dif);
}

/* An UNKNOWN packet is treated as encrypted-only while such sockets live. */
static u8 tscf_flow_resolve_unknown(struct net *net, u8 level)
{
	if (level != TSCF_ENC_UNKNOWN)
		return level;
	return tscf_enclevel_has_only(net) ? TSCF_ENC_ONLY : TSCF_ENC_UNENCRYPTED;
}

static struct tscf_tunnel *tscf_flow_enc_tunnel(struct tscf_dev *td)
{
	struct net_device *twin = rcu_dereference(td->twin);

	if (!twin)
		return NULL;
	return rcu_dereference(((struct tscf_dev *)netdev_priv(twin))->tunnel);
}

/* ndo_start_xmit of a clear device: pick the tunnel for this packet. */
void tscf_flow_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct tscf_tunnel *clear, *enc;
	struct tscf_sk *e;
	u8 level;

	rcu_read_lock();
	level = tscf_flow_level(dev_net(dev), skb, dev->ifindex, &e);
	level = tscf_flow_resolve_unknown(dev_net(dev), level);
	clear = rcu_dereference(td->tunnel);
	enc = tscf_flow_enc_tunnel(td);

	if (level != TSCF_ENC_UNENCRYPTED) {
		if (enc) {
			if (e)
				tscf_flow_announce(e, enc, skb, level);
			tscf_dev_xmit_tunnel(enc, skb);
			goto out;
		}
		if (level == TSCF_ENC_ONLY) {
			tscf_flow_block(dev, skb);
			goto out;
		}
	}
	if (!clear) {
		tscf_xmit_no_tunnel(skb, dev);
		goto out;
	}
	/*
	 * Without an encrypted tunnel a socket still bound encrypted keeps
	 * its note, for the next one: a clear unbinding would only be
	 * refused.
	 */
	switch (e && level == TSCF_ENC_UNENCRYPTED ?
		tscf_flow_lowered(e, clear, enc) : TSCF_LOWERED_CLEAR) {
	case TSCF_LOWERED_BOUND_ENC:
		if (enc) {
			tscf_flow_announce(e, enc, skb, TSCF_ENC_UNENCRYPTED);
			tscf_dev_xmit_tunnel(enc, skb);
			goto out;
		}
		break;
	case TSCF_LOWERED_UNBINDING:
		tscf_dev_xmit_tunnel(enc, skb);
		goto out;
	case TSCF_LOWERED_CLEAR:
		if (e)
			tscf_flow_announce(e, clear, skb, level);
		break;
	}
	tscf_dev_xmit_tunnel(clear, skb);
out:
	rcu_read_unlock();
}

/*
 * Is the inner destination the address this session was given?  A tunnel
 * attached without internal addresses (the helper did not say) is not
 * checked; one with an address of the other family only takes none of
 * this family.
 */
static bool tscf_flow_rx_dst_ok(const struct tscf_tunnel *t,
				const struct sk_buff *skb)
{
	bool has4 = t->internal_ip4, has6 = !ipv6_addr_any(&t->internal_ip6);

	if (!has4 && !has6)
		return true;
	if (skb->protocol == htons(ETH_P_IP))
		return has4 && ip_hdr(skb)->daddr == t->internal_ip4;
	if (skb->protocol == htons(ETH_P_IPV6))
		return has6 &&
		       ipv6_addr_equal(&ipv6_hdr(skb)->daddr, &t->internal_ip6);
	return false;
}

/* Under RCU: does the receiving socket refuse clear traffic now? */
static bool tscf_flow_rx_sk_blocked(struct tscf_tunnel *t, struct sock *sk)
{
	struct sock *full = sk_to_full_sk(sk);	/* request: its listener */
	struct tscf_sk *e;
	u8 level;

	if (!full || !sk_fullsock(full) || full->sk_kern_sock)
		return false;		/* time-wait: nothing to deliver to */
	e = tscf_sk_lookup(full);
	level = e ? READ_ONCE(e->level) : TSCF_ENC_UNENCRYPTED;
	if (level == TSCF_ENC_ONLY)
		return true;
	/*
	 * An encrypted-preferred connection rides the encrypted tunnel while
	 * it is up: the server sends it nothing on the clear one.  A listener
	 * has no flow yet: its SYNs may arrive on either.
	 */
	return level == TSCF_ENC_PREFERRED && full->sk_state != TCP_LISTEN &&
	       tscf_dev_enc_path_up(t->dev);
}

/*
 * An inner packet from a clear tunnel: refused when it is not for this
 * session's address, or for a socket that takes no clear traffic.
 */
bool tscf_flow_rx_blocked(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net *net = dev_net(t->dev);
	struct sock *sk = NULL;
	bool blocked;

	if (!tscf_flow_rx_dst_ok(t, skb))
		return true;
	if (!tscf_enclevel_marked_ever(net))
		return false;
	rcu_read_lock();
	if (skb->protocol == htons(ETH_P_IP))
		sk = nf_sk_lookup_slow_v4(net, skb, t->dev);
#if IS_ENABLED(CONFIG_IPV6)
	else if (skb->protocol == htons(ETH_P_IPV6))
		sk = nf_sk_lookup_slow_v6(net, skb, t->dev);
#endif
	blocked = sk && tscf_flow_rx_sk_blocked(t, sk);
	rcu_read_unlock();
	if (sk)
		sock_gen_put(sk);
	return blocked;
}

/* The device a locally generated packet leaves by, at this hook. */
static struct net_device *tscf_flow_out_dev(const struct sk_buff *skb,
					    const struct nf_hook_state *state)
{
	if (state->out)
		return state->out;
	return skb_dst(skb) ? skb_dst(skb)->dev : NULL;
}

/*
 * Egress of encrypted-only traffic, on LOCAL_OUT (so the sender gets
 * ENETUNREACH at once) and again on POST_ROUTING (the final device).
 * Allowed: a tscf device whose encrypted tunnel is up (the clear device
 * steers it there), and loopback, which never leaves the host.
 */
static unsigned int tscf_flow_egress(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct net_device *out = tscf_flow_out_dev(skb, state);
	bool tscf_out;
	u8 level;

	if (!tscf_enclevel_has_only(state->net) || !out ||
	    (out->flags & IFF_LOOPBACK))
		return NF_ACCEPT;
	tscf_out = out->rtnl_link_ops == &tscf_link_ops;
	rcu_read_lock();
	level = tscf_flow_level(state->net, skb, out->ifindex, NULL);
	rcu_read_unlock();
	/* An UNKNOWN packet on a tscf device is the clear device's to steer. */
	if (level != TSCF_ENC_ONLY)
		return NF_ACCEPT;
	if (tscf_out) {
		if (tscf_dev_enc_path_up(out))
			return NF_ACCEPT;
		atomic64_inc(&((struct tscf_dev *)netdev_priv(out))->tx_blocked);
	} else {
		tscf_enclevel_count_refused(state->net);
	}
	return NF_DROP_ERR(-ENETUNREACH);
}

static const struct nf_hook_ops tscf_flow_nf_ops[] = {
	{
		.hook = tscf_flow_egress,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_LAST - 1,
	},
	{
		.hook = tscf_flow_egress,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_LAST - 1,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook = tscf_flow_egress,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP6_PRI_LAST - 1,
	},
	{
		.hook = tscf_flow_egress,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP6_PRI_LAST - 1,
	},
#endif
};

int tscf_flow_net_init(struct net *net)
{
	return nf_register_net_hooks(net, tscf_flow_nf_ops,
				     ARRAY_SIZE(tscf_flow_nf_ops));
}

void tscf_flow_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, tscf_flow_nf_ops,
				ARRAY_SIZE(tscf_flow_nf_ops));
}
