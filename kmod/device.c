// SPDX-License-Identifier: GPL-2.0
/*
 * The tscf netdevices and the "tscf" rtnl link kind.
 *
 * "ip link add tscf0 type tscf" registers two devices: tscf0, which will
 * carry the clear tunnel, and tscf0s, its encrypted twin.  They live and
 * die together: deleting either one, deleting their namespace or
 * unloading the module unregisters both in the same batch.
 *
 * Locking and lifetime:
 * - Creation and deletion run under RTNL; so do writes of tscf_dev.twin.
 * - The transmit path reads tscf_dev.twin under RCU (rcu_read_lock_bh is
 *   held by the core around ndo_start_xmit).  Unregistration waits for
 *   RCU readers before the device memory is freed.
 * - Per-CPU stats (dev->tstats, pcpu_stat_type TSTATS) are allocated by
 *   register_netdevice() and freed by the core after the last device
 *   reference is gone, so they outlive any in-flight transmit and any
 *   stats reader.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/icmp.h>

#include "compat.h"
#include "device.h"
#include "netlink.h"
#include "tunnel.h"

static int tscf_dev_init(struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);

	/* Receive goes through GRO cells, which drop while the device is down. */
	return gro_cells_init(&td->gro_cells, dev);
}

/*
 * Without a tunnel there is nowhere to send to: drop, count, and tell the
 * sender at once with an ICMP unreachable rather than letting it time out.
 */
void tscf_xmit_no_tunnel(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);

	if (skb->protocol == htons(ETH_P_IP))
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	else if (skb->protocol == htons(ETH_P_IPV6))
		icmpv6_ndo_send(skb, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
	kfree_skb(skb);
}

/*
 * What a segment of a GSO packet may keep: page fragments shared with the
 * super-packet (SG: only the headers are copied) and a checksum still to
 * fill in (HW_CSUM: tscf_tunnel_xmit() fills it, once, in one read).
 * Without them skb_segment() would copy every byte into a fresh linear
 * skb and checksum it on the way.
 */
#define TSCF_SEGMENT_FEATURES	(NETIF_F_SG | NETIF_F_HW_CSUM)

static void tscf_xmit_gso(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct sk_buff *segs, *seg, *next;

	/* Each segment is one inner packet, one frame on the wire. */
	segs = skb_gso_segment(skb, TSCF_SEGMENT_FEATURES);
	if (IS_ERR_OR_NULL(segs)) {
		dev_core_stats_tx_dropped_inc(t->dev);
		kfree_skb(skb);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		tscf_tunnel_xmit(t, seg);
	}
}

/*
 * The shape of a TCP super-packet (PROTOCOL.md 1.3), the same on both
 * ends: the sender's module checks it before sending one whole, the
 * server's device (server.c) before taking one.  The inner IP header
 * starts ipoff bytes into skb->data, already pulled.  GSO types are TCP's
 * plus @more_gso and nothing else (never DODGY: a packet socket's GSO
 * header is not trusted); the TCP checksum is left to be filled in at the
 * TCP header; no frag_list; over IPv4 TCP and not a fragment, over IPv6
 * TCP right after the fixed header.  Returns the TCP header's offset from
 * the IP header, 0 when the packet is not of that shape.
 */
#define TSCF_SUPER_GSO_TYPES	(SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | \
				 SKB_GSO_TCP_ECN | SKB_GSO_TCP_FIXEDID)

unsigned int tscf_super_tcp_thoff(const struct sk_buff *skb,
				  unsigned int ipoff, __be16 proto,
				  unsigned int more_gso)
{
	unsigned int gso_type = skb_shinfo(skb)->gso_type;
	unsigned int thoff;

	if (!(gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6)) ||
	    (gso_type & ~(TSCF_SUPER_GSO_TYPES | more_gso)) ||
	    skb->ip_summed != CHECKSUM_PARTIAL ||
	    skb->csum_offset != offsetof(struct tcphdr, check) ||
	    skb_has_frag_list(skb))
		return 0;
	if (proto == htons(ETH_P_IP)) {
		const struct iphdr *iph = (const void *)(skb->data + ipoff);

		if (iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
			return 0;
		thoff = iph->ihl * 4;
	} else if (proto == htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6h = (const void *)(skb->data + ipoff);

		if (ip6h->nexthdr != IPPROTO_TCP)
			return 0;
		thoff = sizeof(*ip6h);
	} else {
		return 0;
	}
	return skb_checksum_start_offset(skb) == ipoff + thoff ? thoff : 0;
}

/*
 * May this GSO packet go out whole, as one TCP super-frame?  Only on a
 * TCP or clear UDP tunnel whose server offered them, no longer than the
 * server takes, and only a packet the local stack built in the shape
 * above.  The server computes every segment's checksum when it cuts it.
 * Everything else is cut here as before.
 */
static bool tscf_xmit_super_ok(const struct tscf_tunnel *t,
			       const struct sk_buff *skb)
{
	unsigned int thoff;

	if (!t->super_frames || skb->len > t->super_frames)
		return false;
	thoff = tscf_super_tcp_thoff(skb, 0, skb->protocol, 0);
	return thoff && skb_transport_offset(skb) == thoff;
}

void tscf_dev_xmit_tunnel(struct tscf_tunnel *t, struct sk_buff *skb)
{
	if (!skb_is_gso(skb))
		tscf_tunnel_xmit(t, skb);
	else if (tscf_xmit_super_ok(t, skb))
		tscf_tunnel_xmit_super(t, skb);
	else
		tscf_xmit_gso(t, skb);
}

/* Is this a whole IPv4 packet, its length the skb's? */
static bool tscf_xmit_ipv4_ok(struct sk_buff *skb)
{
	const struct iphdr *iph;
	unsigned int hlen;

	if (!pskb_may_pull(skb, sizeof(*iph)))
		return false;
	iph = ip_hdr(skb);
	hlen = iph->ihl * 4;
	if (iph->version != 4 || hlen < sizeof(*iph) || !pskb_may_pull(skb, hlen))
		return false;
	iph = ip_hdr(skb);	/* the pull may have moved the head */
	return ntohs(iph->tot_len) == skb->len;
}

/* Is this a whole IPv6 packet (no jumbogram), its length the skb's? */
static bool tscf_xmit_ipv6_ok(struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h;

	if (!pskb_may_pull(skb, sizeof(*ip6h)))
		return false;
	ip6h = ipv6_hdr(skb);
	return ip6h->version == 6 && ip6h->payload_len &&
	       ntohs(ip6h->payload_len) + sizeof(*ip6h) == skb->len;
}

/*
 * Only a well-formed IPv4 or IPv6 packet enters a tunnel.  The first
 * nibble of a frame names its kind on the wire (docs/PROTOCOL.md), so
 * anything else written to the device (by an AF_PACKET or raw socket)
 * would forge a control frame or desynchronise the server's stream
 * parser.  Control frames never come this way: the module and CTRL_SEND
 * hand them to the tunnel directly.
 */
static bool tscf_xmit_well_formed(struct sk_buff *skb)
{
	skb_reset_network_header(skb);	/* no link-layer header here */
	if (skb->protocol == htons(ETH_P_IP))
		return tscf_xmit_ipv4_ok(skb);
	if (skb->protocol == htons(ETH_P_IPV6))
		return tscf_xmit_ipv6_ok(skb);
	return false;
}

/*
 * A packet of a stream tunnel's own socket routed back into a tscf device
 * would be framed into that same socket forever: attach refuses such a
 * route, and a route that changes later ends here.
 */
static bool tscf_xmit_loops(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;

	return sk && sk_fullsock(sk) && tscf_stream_sock_is_ours(sk);
}

static netdev_tx_t tscf_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct tscf_tunnel *t;

	if (unlikely(!tscf_xmit_well_formed(skb))) {
		atomic64_inc(&td->tx_malformed);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	if (unlikely(tscf_xmit_loops(skb))) {
		net_warn_ratelimited("%s: a tunnel socket routed into a tscf device: dropped\n",
				     dev->name);
		dev_core_stats_tx_dropped_inc(dev);
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	/* The clear device decides per socket (flow.c). */
	if (!td->encrypted) {
		tscf_flow_xmit(dev, skb);
		return NETDEV_TX_OK;
	}
	t = rcu_dereference_bh(td->tunnel);
	if (t)
		tscf_dev_xmit_tunnel(t, skb);
	else
		tscf_xmit_no_tunnel(skb, dev);
	return NETDEV_TX_OK;
}

/* Is there an encrypted tunnel for traffic routed to this device? */
bool tscf_dev_enc_path_up(struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct net_device *enc;
	bool up;

	rcu_read_lock();
	enc = td->encrypted ? dev : rcu_dereference(td->twin);
	up = enc && rcu_access_pointer(((struct tscf_dev *)netdev_priv(enc))->tunnel);
	rcu_read_unlock();
	return up;
}

bool tscf_net_enc_tunnel_up(struct net *net)
{
	struct net_device *dev;
	bool up = false;

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (dev->rtnl_link_ops == &tscf_link_ops &&
		    ((struct tscf_dev *)netdev_priv(dev))->encrypted &&
		    tscf_dev_enc_path_up(dev)) {
			up = true;
			break;
		}
	}
	rcu_read_unlock();
	return up;
}

/* Tell the helpers of every clear device in net whether to keep a twin. */
void tscf_dev_notify_demand(struct net *net, bool demand)
{
	struct net_device *dev;

	rcu_read_lock();
	for_each_netdev_rcu(net, dev)
		if (dev->rtnl_link_ops == &tscf_link_ops &&
		    !((struct tscf_dev *)netdev_priv(dev))->encrypted)
			tscf_nl_notify_demand(dev, demand);
	rcu_read_unlock();
}

/* Every way a device goes away (del, netns exit, rmmod) comes here. */
static void tscf_dev_uninit(struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);

	tscf_tunnel_detach(dev, TSCF_DOWN_DEV_GONE);
	/* Drops what receive left queued: those skbs point at dev. */
	gro_cells_destroy(&td->gro_cells);
}

/* Malformed packets refused on transmit are transmit errors. */
static void tscf_get_stats64(struct net_device *dev,
			     struct rtnl_link_stats64 *stats)
{
	struct tscf_dev *td = netdev_priv(dev);

	dev_get_tstats64(dev, stats);
	stats->tx_errors += atomic64_read(&td->tx_malformed);
}

static int tscf_get_iflink(const struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct net_device *twin;
	int iflink = 0;

	rcu_read_lock();
	twin = rcu_dereference(td->twin);
	if (twin)
		iflink = twin->ifindex;
	rcu_read_unlock();
	return iflink;
}

static const struct net_device_ops tscf_netdev_ops = {
	.ndo_init		= tscf_dev_init,
	.ndo_uninit		= tscf_dev_uninit,
	.ndo_start_xmit		= tscf_start_xmit,
	.ndo_get_stats64	= tscf_get_stats64,
	.ndo_get_iflink		= tscf_get_iflink,
};

static void tscf_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info)
{
	strscpy(info->driver, TSCF_DRV_NAME, sizeof(info->driver));
	strscpy(info->version, TSCF_DRV_VERSION, sizeof(info->version));
}

static const struct ethtool_ops tscf_ethtool_ops = {
	.get_drvinfo		= tscf_get_drvinfo,
	.get_link		= ethtool_op_get_link,
};

static void tscf_setup(struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);

	td->dev = dev;
	dev->netdev_ops = &tscf_netdev_ops;
	dev->ethtool_ops = &tscf_ethtool_ops;
	dev->rtnl_link_ops = &tscf_link_ops;

	/* An L3 tunnel: no link-layer header, no neighbours. */
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	/*
	 * A real qdisc: a stream tunnel stops the queue when its frame queue
	 * is long (tcp.c) and the qdisc holds packets back instead of
	 * failing their senders.  A tx_queue_len of 0 here would make the
	 * core give the device noqueue, where a stopped queue fails every
	 * sender with ENETDOWN ("Virtual device asks to queue packet!").
	 */
	dev->tx_queue_len = TSCF_TX_QUEUE_LEN;
	/* icmp_ndo_send() needs the route of the packet it answers. */
	dev->priv_flags &= ~IFF_XMIT_DST_RELEASE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->mtu = TSCF_DEFAULT_MTU;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = TSCF_MAX_MTU;

	/* udp_tunnel_xmit_skb() counts our transmits in dev->tstats. */
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	tscf_compat_set_lltx(dev);
	/*
	 * Both twins must stay in the namespace their tunnel sockets were
	 * created for, and stay together.
	 */
	tscf_compat_set_netns_immutable(dev);
	/* Take GSO packets and checksum late: cheaper than the stack's split. */
	dev->features |= NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
			 NETIF_F_GSO_SOFTWARE;
	dev->hw_features |= NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA |
			    NETIF_F_GSO_SOFTWARE;
	dev->needs_free_netdev = true;
}

static int tscf_validate(struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		NL_SET_ERR_MSG_MOD(extack, "tscf devices have no link-layer address");
		return -EINVAL;
	}
	return 0;
}

/* The twin of "tscf0" is "tscf0s"; refuse names with no room for the 's'. */
static int tscf_twin_name(const struct net_device *dev, char *name,
			  struct netlink_ext_ack *extack)
{
	int n = snprintf(name, IFNAMSIZ, "%ss", dev->name);

	if (n >= IFNAMSIZ) {
		NL_SET_ERR_MSG_MOD(extack,
				   "name leaves no room for the encrypted twin's 's' suffix");
		return -ENAMETOOLONG;
	}
	if (__dev_get_by_name(dev_net(dev), name)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the encrypted twin's name (<name>s) is already in use");
		return -EEXIST;
	}
	return 0;
}

static struct net_device *tscf_create_twin(struct net_device *dev,
					   const char *name,
					   struct netlink_ext_ack *extack)
{
	struct net_device *twin;
	int err;

	twin = alloc_netdev(sizeof(struct tscf_dev), name, NET_NAME_USER,
			    tscf_setup);
	if (!twin)
		return ERR_PTR(-ENOMEM);
	dev_net_set(twin, dev_net(dev));
	((struct tscf_dev *)netdev_priv(twin))->encrypted = true;

	err = register_netdevice(twin);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot register the encrypted twin");
		free_netdev(twin);
		return ERR_PTR(err);
	}
	return twin;
}

static int tscf_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct tscf_dev *td = netdev_priv(dev);
	char twin_name[IFNAMSIZ];
	struct net_device *twin;
	int err;

	/* Resolve a "tscf%d" template now: the twin's name derives from it. */
	if (strchr(dev->name, '%')) {
		err = dev_alloc_name(dev, dev->name);
		if (err < 0)
			return err;
	}
	err = tscf_twin_name(dev, twin_name, extack);
	if (err)
		return err;

	err = register_netdevice(dev);
	if (err)
		return err;

	twin = tscf_create_twin(dev, twin_name, extack);
	if (IS_ERR(twin)) {
		/* Registered: the core frees it once unregistered. */
		unregister_netdevice(dev);
		return PTR_ERR(twin);
	}

	rcu_assign_pointer(td->twin, twin);
	rcu_assign_pointer(((struct tscf_dev *)netdev_priv(twin))->twin, dev);
	return 0;
}

static void tscf_dellink(struct net_device *dev, struct list_head *head)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct net_device *twin = rtnl_dereference(td->twin);

	RCU_INIT_POINTER(td->twin, NULL);
	unregister_netdevice_queue(dev, head);
	if (twin) {
		struct tscf_dev *tt = netdev_priv(twin);

		RCU_INIT_POINTER(tt->twin, NULL);
		unregister_netdevice_queue(twin, head);
	}
}

static struct net *tscf_get_link_net(const struct net_device *dev)
{
	return dev_net(dev);
}

struct rtnl_link_ops tscf_link_ops __read_mostly = {
	.kind		= TSCF_DRV_NAME,
	.priv_size	= sizeof(struct tscf_dev),
	.setup		= tscf_setup,
	.validate	= tscf_validate,
	.newlink	= tscf_newlink,
	.dellink	= tscf_dellink,
	.get_link_net	= tscf_get_link_net,
};
