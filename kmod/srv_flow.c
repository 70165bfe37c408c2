// SPDX-License-Identifier: GPL-2.0
/*
 * The flows of an encrypted stream peer: which packets from the service
 * network a server device sends on a session's encrypted (kTLS) tunnel by
 * itself (docs/SERVER.md, "Encrypted sessions").  tscfd gives the whole
 * set with srv-peer-set, as an array of struct tscf_srv_flow, and gives
 * it again whenever a binding of the session changes; the transmit path
 * reads it under RCU.
 *
 * Only a plain TCP or UDP packet (not an IPv4 fragment, no IPv6 extension
 * header) can match.  Anything else, and anything that matches no entry,
 * goes to tscfd, which applies every rule of the bindings.  Every binding
 * tscfd keeps is above level 0, so a match sends encrypted, which is what
 * tscfd does with it while the encrypted tunnel is up: a set that is late,
 * short or empty only leaves more packets to tscfd, never one to clear.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/tscf.h>
#include <net/genetlink.h>
#include <net/ip.h>

#include "srv.h"

struct tscf_srv_flows {
	struct rcu_head rcu;
	unsigned int n;
	struct tscf_srv_flow f[];
};

static const u8 tscf_srv_zero16[16];

/* The entry's own address of p's session, its padding zero, its ports sane. */
static bool tscf_srv_flow_ok(const struct tscf_srv_flow *f,
			     const struct tscf_srv_peer *p)
{
	unsigned int alen;

	if ((f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) || f->pad)
		return false;
	if (f->family == AF_INET) {
		alen = 4;
		if (!p->has_ip4 || memcmp(f->local, &p->ip4, 4))
			return false;
	} else if (f->family == AF_INET6) {
		alen = 16;
		if (!p->has_ip6 || memcmp(f->local, &p->ip6, 16))
			return false;
	} else {
		return false;
	}
	if (memcmp(f->local + alen, tscf_srv_zero16, 16 - alen) ||
	    memcmp(f->remote + alen, tscf_srv_zero16, 16 - alen))
		return false;
	return f->rport || !memcmp(f->remote, tscf_srv_zero16, 16);
}

/*
 * The set in attribute a, for p (an encrypted peer); NULL for an empty
 * one.  RTNL held.
 */
struct tscf_srv_flows *tscf_srv_flows_parse(const struct nlattr *a,
					    const struct tscf_srv_peer *p,
					    struct netlink_ext_ack *extack)
{
	unsigned int len = nla_len(a), n, i;
	struct tscf_srv_flows *fl;

	if (len % sizeof(struct tscf_srv_flow)) {
		NL_SET_ERR_MSG_ATTR(extack, a, "not an array of struct tscf_srv_flow");
		return ERR_PTR(-EINVAL);
	}
	n = len / sizeof(struct tscf_srv_flow);
	if (n > TSCF_SRV_MAX_FLOWS) {
		NL_SET_ERR_MSG_ATTR(extack, a, "more than TSCF_SRV_MAX_FLOWS flows");
		return ERR_PTR(-E2BIG);
	}
	if (!n)
		return NULL;
	fl = kmalloc(struct_size(fl, f, n), GFP_KERNEL);
	if (!fl)
		return ERR_PTR(-ENOMEM);
	memcpy(fl->f, nla_data(a), len);
	for (i = 0; i < n; i++) {
		if (!tscf_srv_flow_ok(&fl->f[i], p)) {
			kfree(fl);
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "a flow is not TCP or UDP of the peer's own internal address, or not zero where it must be");
			return ERR_PTR(-EINVAL);
		}
	}
	fl->n = n;
	return fl;
}

/* p's set becomes fl (NULL: none); RTNL held. */
void tscf_srv_flows_set(struct tscf_srv_peer *p, struct tscf_srv_flows *fl)
{
	struct tscf_srv_flows *old = rtnl_dereference(p->flows);

	rcu_assign_pointer(p->flows, fl);
	if (old)
		kfree_rcu(old, rcu);
}

/* With p, once no reader can see it. */
void tscf_srv_flows_free(struct tscf_srv_peer *p)
{
	kfree(rcu_dereference_protected(p->flows, true));
}

/*
 * Does skb match one of p's flows?  It is an IPv4 or IPv6 packet whose
 * length is the skb's and whose fixed header is pulled (tscf_srv_tx_peers),
 * to p's internal address.  "local" is the client's end: the destination.
 * From ndo_start_xmit: RCU-bh read side.
 */
bool tscf_srv_flows_match(const struct tscf_srv_peer *p,
			  const struct sk_buff *skb)
{
	const struct tscf_srv_flows *fl = rcu_dereference_bh(p->flows);
	const struct tscf_srv_flow *f;
	u8 local[16] = {}, remote[16] = {}, proto, family;
	unsigned int l4, i;
	__be16 ports[2];	/* source, destination */

	if (!fl)
		return false;
	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		if (ip_is_fragment(iph))
			return false;
		proto = iph->protocol;
		family = AF_INET;
		memcpy(local, &iph->daddr, 4);
		memcpy(remote, &iph->saddr, 4);
		l4 = iph->ihl * 4;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		proto = ip6h->nexthdr;
		family = AF_INET6;
		memcpy(local, &ip6h->daddr, 16);
		memcpy(remote, &ip6h->saddr, 16);
		l4 = sizeof(*ip6h);
	}
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    skb_copy_bits(skb, skb_network_offset(skb) + l4, ports, sizeof(ports)))
		return false;
	for (i = 0; i < fl->n; i++) {
		f = &fl->f[i];
		if (f->proto != proto || f->family != family ||
		    f->lport != ports[1] || memcmp(f->local, local, 16))
			continue;
		/* Its own binding or its socket's (any remote): encrypted both. */
		if (!f->rport ||
		    (f->rport == ports[0] && !memcmp(f->remote, remote, 16)))
			return true;
	}
	return false;
}
