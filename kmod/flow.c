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
 * it can see (and answer) the data.
 *
 * Encrypted-only payload never takes the clear tunnel:
 * - transmit: a LOCAL_OUT hook fails the send with ENETUNREACH while no
 *   encrypted tunnel is up, and the device drops anything that still
 *   reaches it (TX_BLOCKED);
 * - receive: inner packets from the clear tunnel that belong to an
 *   encrypted-only socket are dropped (RX_BLOCKED).
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/netfilter/nf_socket.h>
#include <net/sock.h>

#include "device.h"
#include "enclevel.h"
#include "tunnel.h"

static atomic_t tscf_kernel_seq = ATOMIC_INIT(0);

/* Kernel-originated requests use sequence numbers with the top bit set. */
#define TSCF_KERNEL_SEQ_BIT	0x80000000u

struct tscf_flow_tuple {
	u8 proto;
	u8 family;		/* 4 or 6 */
	__be16 lport, rport;
	union {
		__be32 a4[2];
		struct in6_addr a6[2];	/* local, remote */
	};
};

/* The flow of an outgoing packet, skb->data at its IP header. */
static bool tscf_flow_of(struct sk_buff *skb, const struct sock *sk,
			 struct tscf_flow_tuple *f)
{
	__be16 ports[2], *pp;
	unsigned int thoff;

	memset(f, 0, sizeof(*f));
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		f->family = 4;
		f->proto = iph->protocol;
		f->a4[0] = iph->saddr;
		f->a4[1] = iph->daddr;
		thoff = iph->ihl * 4;
	} else if (skb->protocol == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		f->family = 6;
		f->proto = ip6h->nexthdr;
		f->a6[0] = ip6h->saddr;
		f->a6[1] = ip6h->daddr;
		thoff = sizeof(*ip6h);
	} else {
		return false;
	}
	if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
		return false;
	pp = skb_header_pointer(skb, skb_network_offset(skb) + thoff,
				sizeof(ports), ports);
	if (!pp)
		return false;
	f->lport = pp[0];
	f->rport = pp[1];

	/* An unconnected UDP socket talks to anyone: bind its local end. */
	if (f->proto == IPPROTO_UDP && sk->sk_state != TCP_ESTABLISHED) {
		f->rport = 0;
		memset(f->family == 4 ? (void *)&f->a4[1] : (void *)&f->a6[1], 0,
		       f->family == 4 ? 4 : 16);
	}
	return true;
}

static int tscf_flow_bind_frame(u8 *buf, const struct tscf_flow_tuple *f,
				u64 tsid, u8 level)
{
	unsigned int alen = f->family == 4 ? 4 : 16;
	struct tscf_cm_hdr *h = (struct tscf_cm_hdr *)buf;
	struct tscf_tlv_flow_hdr *fh;
	u8 *p = buf + TSCF_CM_HDR_LEN;

	h->ver_ind = TSCF_CM_BYTE0;
	h->type = TSCF_CM_FLOW_BIND_REQ;
	h->tlv_count = htons(2);
	h->tsid = cpu_to_be64(tsid);
	h->seq = htonl(atomic_inc_return(&tscf_kernel_seq) | TSCF_KERNEL_SEQ_BIT);

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
	bool send;
	u32 hash;
	int len;

	if (!tscf_flow_of(skb, e->sk, &f))
		return;
	hash = jhash(&f, sizeof(f), 0);

	spin_lock_bh(&e->lock);
	send = e->note.tsid != t->tsid || e->note.level != level ||
	       e->note.tuple_hash != hash;
	if (send && !e->note.tsid && level == TSCF_ENC_UNENCRYPTED)
		send = false;
	if (send) {
		e->note.tsid = t->tsid;
		e->note.level = level;
		e->note.tuple_hash = hash;
	}
	spin_unlock_bh(&e->lock);
	if (!send)
		return;

	len = tscf_flow_bind_frame(buf, &f, t->tsid, level);
	if (tscf_tunnel_send_ctrl(t, buf, len, GFP_ATOMIC))
		tscf_cnt_inc(t, TSCF_CNT_TX_DROPPED);
}

/*
 * Whether this socket's last binding went over an encrypted tunnel at a
 * level above unencrypted.  The server lets only an encrypted tunnel
 * lower such a level (the clear one is open to anyone on its path).
 */
static bool tscf_flow_bound_enc(struct tscf_sk *e, struct tscf_tunnel *clear)
{
	bool bound;

	spin_lock_bh(&e->lock);
	bound = e->note.tsid && e->note.tsid != clear->tsid &&
		e->note.level != TSCF_ENC_UNENCRYPTED;
	spin_unlock_bh(&e->lock);
	return bound;
}

static void tscf_flow_block(struct net_device *dev, struct sk_buff *skb)
{
	struct tscf_dev *td = netdev_priv(dev);

	atomic64_inc(&td->tx_blocked);
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
}

/* ndo_start_xmit of a clear device: pick the tunnel for this packet. */
void tscf_flow_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct tscf_tunnel *clear, *enc = NULL;
	struct net_device *twin;
	struct sock *sk = skb_to_full_sk(skb);
	struct tscf_sk *e = NULL;
	u8 level = TSCF_ENC_UNENCRYPTED;

	if (sk && sk_fullsock(sk)) {
		e = tscf_sk_lookup(sk);
		if (e)
			level = READ_ONCE(e->level);
	}
	clear = rcu_dereference_bh(td->tunnel);
	twin = rcu_dereference_bh(td->twin);
	if (twin && e)
		enc = rcu_dereference_bh(((struct tscf_dev *)netdev_priv(twin))->tunnel);

	if (level != TSCF_ENC_UNENCRYPTED) {
		if (enc) {
			tscf_flow_announce(e, enc, skb, level);
			tscf_dev_xmit_tunnel(enc, skb);
			return;
		}
		if (level == TSCF_ENC_ONLY) {
			tscf_flow_block(dev, skb);
			return;
		}
	}
	if (!clear) {
		tscf_xmit_no_tunnel(skb, dev);
		return;
	}
	/*
	 * A socket lowered to unencrypted is unbound over the encrypted
	 * tunnel, and the packet that caused it follows there, in order, so
	 * the server has the unbinding before the flow takes the clear
	 * tunnel.  Without an encrypted tunnel the note stays, for the next
	 * one: a clear unbinding would only be refused.
	 */
	if (e && level == TSCF_ENC_UNENCRYPTED && tscf_flow_bound_enc(e, clear)) {
		if (enc) {
			tscf_flow_announce(e, enc, skb, TSCF_ENC_UNENCRYPTED);
			tscf_dev_xmit_tunnel(enc, skb);
			return;
		}
	} else if (e) {
		tscf_flow_announce(e, clear, skb, level);
	}
	tscf_dev_xmit_tunnel(clear, skb);
}

/*
 * An inner packet from a clear tunnel for an encrypted-only socket: the
 * server should never send one; if it does, it goes no further.
 */
bool tscf_flow_rx_blocked(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net *net = dev_net(t->dev);
	struct sock *sk = NULL;
	bool blocked;

	if (!tscf_enclevel_has_only(net))
		return false;
	if (skb->protocol == htons(ETH_P_IP))
		sk = nf_sk_lookup_slow_v4(net, skb, t->dev);
#if IS_ENABLED(CONFIG_IPV6)
	else if (skb->protocol == htons(ETH_P_IPV6))
		sk = nf_sk_lookup_slow_v6(net, skb, t->dev);
#endif
	if (!sk)
		return false;
	blocked = sk_fullsock(sk) && tscf_sk_level(sk) == TSCF_ENC_ONLY;
	sock_gen_put(sk);
	return blocked;
}

/* Fail the send of an encrypted-only socket at once while it is blocked. */
static unsigned int tscf_flow_local_out(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state)
{
	struct dst_entry *dst = skb_dst(skb);
	struct sock *sk;

	if (!tscf_enclevel_has_only(state->net) || !dst || !dst->dev ||
	    dst->dev->rtnl_link_ops != &tscf_link_ops)
		return NF_ACCEPT;
	sk = skb_to_full_sk(skb);
	if (!sk || !sk_fullsock(sk) || tscf_sk_level(sk) != TSCF_ENC_ONLY)
		return NF_ACCEPT;
	if (tscf_dev_enc_path_up(dst->dev))
		return NF_ACCEPT;
	atomic64_inc(&((struct tscf_dev *)netdev_priv(dst->dev))->tx_blocked);
	return NF_DROP_ERR(-ENETUNREACH);
}

static const struct nf_hook_ops tscf_flow_nf_ops[] = {
	{
		.hook = tscf_flow_local_out,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_LAST - 1,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook = tscf_flow_local_out,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_OUT,
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
