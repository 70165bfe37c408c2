// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnels: a connected transport socket, taken from userspace by fd and
 * attached to one tscf device, carrying TSCF frames (docs/PROTOCOL.md).
 *
 * Locking and lifetime:
 * - tscf_dev.tunnel is written under RTNL only (attach, detach) and read
 *   under RCU by the transmit path and the socket callbacks.
 * - A tunnel holds a reference on its socket's file from sockfd_lookup()
 *   until detach; userspace may close its fd at any time after attach.
 * - Detach runs under RTNL: unpublish, restore the socket's callbacks,
 *   wait for RCU readers, cancel the rx/tx work, purge queues, release
 *   the socket, then drop the device's reference on the tunnel.  It is
 *   reached from TUNNEL_DETACH, from ndo_uninit (device deleted, netns
 *   gone, module unloaded) and from down_work.
 * - Contexts that cannot take RTNL (socket callbacks, the rx/tx work,
 *   which detach cancels, the netlink notifier when an owner's socket
 *   closes) ask for a detach with tscf_tunnel_schedule_down():
 *   down_work holds a tunnel reference and a device reference, takes RTNL
 *   and detaches only if the tunnel is still the device's.
 * - t->dead is set first thing in detach; the work items test it so they
 *   never requeue themselves on a dying tunnel.
 * - The tunnel memory is freed after an RCU grace period when the last
 *   reference goes.
 */
#include <linux/file.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tls.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "tunnel.h"

struct workqueue_struct *tscf_wq;

static void tscf_tunnel_get(struct tscf_tunnel *t)
{
	refcount_inc(&t->refs);
}

void tscf_tunnel_put(struct tscf_tunnel *t)
{
	if (refcount_dec_and_test(&t->refs))
		kfree_rcu(t, rcu);
}

/*
 * Length of the TSCF frame at p (docs/PROTOCOL.md "Framing"), the kernel's
 * twin of tscf_frame_len() in tools/lib.  0 and *len, -EAGAIN when more
 * bytes are needed, -EPROTO when the stream cannot be parsed.
 */
int tscf_frame_len(const u8 *p, size_t avail, size_t *len)
{
	size_t off, n;
	unsigned int i, count;

	if (!avail)
		return -EAGAIN;

	switch (p[0] >> 4) {
	case TSCF_FRAME_IPV4:
		if (avail < sizeof(struct iphdr))
			return -EAGAIN;
		n = get_unaligned_be16(p + 2);
		if (n < sizeof(struct iphdr) || n < (p[0] & 0xf) * 4u)
			return -EPROTO;
		break;
	case TSCF_FRAME_IPV6:
		if (avail < sizeof(struct ipv6hdr))
			return -EAGAIN;
		n = get_unaligned_be16(p + 4);
		if (!n)		/* jumbogram: not carried */
			return -EPROTO;
		n += sizeof(struct ipv6hdr);
		break;
	case TSCF_FRAME_CTRL:
		if (p[0] != TSCF_CM_BYTE0)
			return -EPROTO;
		if (avail < TSCF_CM_HDR_LEN)
			return -EAGAIN;
		count = get_unaligned_be16(p + 2);
		if (count > TSCF_MAX_TLVS)
			return -EPROTO;
		off = TSCF_CM_HDR_LEN;
		for (i = 0; i < count; i++) {
			if (off + TSCF_TLV_HDR_LEN > TSCF_MAX_CTRL_LEN)
				return -EPROTO;
			if (avail < off + TSCF_TLV_HDR_LEN)
				return -EAGAIN;
			off += TSCF_TLV_HDR_LEN + get_unaligned_be16(p + off + 2);
		}
		if (off > TSCF_MAX_CTRL_LEN)
			return -EPROTO;
		n = off;
		break;
	default:
		return -EPROTO;
	}
	if (n > TSCF_MAX_FRAME_LEN)
		return -EPROTO;
	*len = n;
	return 0;
}

static void tscf_rx_drop_malformed(struct tscf_tunnel *t, struct sk_buff *skb)
{
	tscf_cnt_inc(t, TSCF_CNT_RX_MALFORMED);
	dev_core_stats_rx_dropped_inc(t->dev);
	kfree_skb(skb);
}

/* An inner packet is exactly one frame: its IP length must say so. */
static __be16 tscf_rx_inner_proto(struct sk_buff *skb)
{
	if ((skb->data[0] >> 4) == TSCF_FRAME_IPV4) {
		const struct iphdr *iph;

		if (!pskb_may_pull(skb, sizeof(*iph)))
			return 0;
		iph = (const struct iphdr *)skb->data;
		if (iph->ihl < 5 || ntohs(iph->tot_len) != skb->len)
			return 0;
		return htons(ETH_P_IP);
	}
	if ((skb->data[0] >> 4) == TSCF_FRAME_IPV6) {
		const struct ipv6hdr *ip6h;

		if (!pskb_may_pull(skb, sizeof(*ip6h)))
			return 0;
		ip6h = (const struct ipv6hdr *)skb->data;
		if (ntohs(ip6h->payload_len) + sizeof(*ip6h) != skb->len)
			return 0;
		return htons(ETH_P_IPV6);
	}
	return 0;
}

static void tscf_rx_inner(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net_device *dev = t->dev;
	unsigned int len = skb->len;
	__be16 proto;

	proto = tscf_rx_inner_proto(skb);
	if (!proto) {
		tscf_rx_drop_malformed(t, skb);
		return;
	}

	skb->protocol = proto;
	skb_reset_network_header(skb);
	if (!((struct tscf_dev *)netdev_priv(dev))->encrypted &&
	    tscf_flow_rx_blocked(t, skb)) {
		atomic64_inc(&((struct tscf_dev *)netdev_priv(dev))->rx_blocked);
		tscf_cnt_inc(t, TSCF_CNT_RX_BLOCKED);
		dev_core_stats_rx_dropped_inc(dev);
		kfree_skb(skb);
		return;
	}

	skb_scrub_packet(skb, true);
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	skb->ip_summed = CHECKSUM_NONE;
	skb_reset_mac_header(skb);
	skb_probe_transport_header(skb);

	if (netif_rx(skb) == NET_RX_SUCCESS) {
		tscf_cnt_inc(t, TSCF_CNT_RX_PACKETS);
		tscf_cnt_add(t, TSCF_CNT_RX_BYTES, len);
		dev_sw_netstats_rx_add(dev, len);
	} else {
		dev_core_stats_rx_dropped_inc(dev);
	}
}

/*
 * One received frame, skb->data at its first byte and skb->len its exact
 * length.  Control frames go to userspace; inner packets up the stack.
 */
void tscf_tunnel_rx_frame(struct tscf_tunnel *t, struct sk_buff *skb)
{
	if (!skb->len) {
		tscf_rx_drop_malformed(t, skb);
		return;
	}

	switch (skb->data[0] >> 4) {
	case TSCF_FRAME_CTRL:
		if (skb->len < TSCF_CM_HDR_LEN || skb->data[0] != TSCF_CM_BYTE0 ||
		    skb->len > TSCF_MAX_CTRL_LEN || skb_linearize(skb)) {
			tscf_rx_drop_malformed(t, skb);
			return;
		}
		tscf_cnt_inc(t, TSCF_CNT_RX_CTRL);
		tscf_nl_notify_ctrl(t, skb->data, skb->len);
		consume_skb(skb);
		return;
	case TSCF_FRAME_IPV4:
	case TSCF_FRAME_IPV6:
		tscf_rx_inner(t, skb);
		return;
	default:
		tscf_rx_drop_malformed(t, skb);
	}
}

void tscf_tunnel_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	/* The device offers HW_CSUM so that it may take GSO; do it here. */
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		tscf_cnt_inc(t, TSCF_CNT_TX_DROPPED);
		dev_core_stats_tx_dropped_inc(t->dev);
		kfree_skb(skb);
		return;
	}

	tscf_cnt_inc(t, TSCF_CNT_TX_PACKETS);
	tscf_cnt_add(t, TSCF_CNT_TX_BYTES, skb->len);
	if (t->transport == TSCF_TRANSPORT_UDP)
		tscf_udp_xmit(t, skb);
	else
		tscf_tcp_xmit(t, skb);
}

/* A control frame from userspace (CTRL_SEND), in order with the data. */
int tscf_tunnel_send_ctrl(struct tscf_tunnel *t, const void *frame,
			  size_t len, gfp_t gfp)
{
	unsigned int headroom = LL_MAX_HEADER + sizeof(struct ipv6hdr) + 8;
	struct sk_buff *skb;

	skb = alloc_skb(headroom + len, gfp);
	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, headroom);
	skb_put_data(skb, frame, len);
	skb->dev = t->dev;
	skb_reset_network_header(skb);
	tscf_cnt_inc(t, TSCF_CNT_TX_CTRL);

	local_bh_disable();
	if (t->transport == TSCF_TRANSPORT_UDP)
		tscf_udp_xmit(t, skb);
	else
		tscf_tcp_xmit(t, skb);
	local_bh_enable();
	return 0;
}

static bool tscf_sock_is_ktls(struct sock *sk)
{
	const struct tcp_ulp_ops *ulp = inet_csk(sk)->icsk_ulp_ops;

	return ulp && !strcmp(ulp->name, "tls");
}

/* What kind of transport the socket is, or a negative errno with a why. */
static int tscf_sock_transport(struct socket *sock, struct net_device *dev,
			       struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;
	int transport;

	if (!net_eq(sock_net(sk), dev_net(dev))) {
		NL_SET_ERR_MSG_MOD(extack, "socket belongs to another network namespace");
		return -EINVAL;
	}
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not IPv4 or IPv6");
		return -EAFNOSUPPORT;
	}
	if (sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP) {
		transport = TSCF_TRANSPORT_UDP;
	} else if (sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP) {
		transport = TSCF_TRANSPORT_TCP;
	} else {
		NL_SET_ERR_MSG_MOD(extack, "socket is neither UDP nor TCP");
		return -EPROTONOSUPPORT;
	}

	lock_sock(sk);
	if (READ_ONCE(sk->sk_user_data)) {
		NL_SET_ERR_MSG_MOD(extack, "socket is already used by a kernel tunnel");
		transport = -EBUSY;
	} else if (sk->sk_state != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not connected");
		transport = -ENOTCONN;
	} else if (sk->sk_family == AF_INET6 &&
		   ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		NL_SET_ERR_MSG_MOD(extack, "v4-mapped IPv6 sockets are not supported");
		transport = -EAFNOSUPPORT;
	} else if (transport == TSCF_TRANSPORT_TCP && tscf_sock_is_ktls(sk)) {
		if (tls_sw_has_ctx_tx(sk) && tls_sw_has_ctx_rx(sk)) {
			transport = TSCF_TRANSPORT_TLS;
		} else {
			NL_SET_ERR_MSG_MOD(extack, "kTLS must be installed for both TX and RX");
			transport = -EINVAL;
		}
	} else if (inet_csk(sk)->icsk_ulp_ops && transport == TSCF_TRANSPORT_TCP) {
		NL_SET_ERR_MSG_MOD(extack, "TCP socket carries an unsupported ULP");
		transport = -EINVAL;
	}
	release_sock(sk);
	return transport;
}

static int tscf_check_role(struct tscf_dev *td, int transport,
			   struct netlink_ext_ack *extack)
{
	if (td->encrypted && transport != TSCF_TRANSPORT_TLS) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the encrypted twin takes only a TCP socket with kTLS TX and RX");
		return -EINVAL;
	}
	if (!td->encrypted && transport == TSCF_TRANSPORT_TLS) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a kTLS socket belongs on the encrypted twin, not the clear device");
		return -EINVAL;
	}
	return 0;
}

static void tscf_tunnel_down_work(struct work_struct *work)
{
	struct tscf_tunnel *t = container_of(work, struct tscf_tunnel, down_work);
	struct net_device *dev = t->dev;
	struct tscf_dev *td = netdev_priv(dev);

	rtnl_lock();
	if (rtnl_dereference(td->tunnel) == t)
		tscf_tunnel_detach(dev, READ_ONCE(t->down_reason));
	rtnl_unlock();
	dev_put(dev);
	tscf_tunnel_put(t);
}

void tscf_tunnel_schedule_down(struct tscf_tunnel *t, u8 reason)
{
	if (READ_ONCE(t->dead))
		return;
	/* The first reason given is the one reported. */
	cmpxchg(&t->down_reason, 0, reason);
	tscf_tunnel_get(t);
	dev_hold(t->dev);
	if (!queue_work(tscf_wq, &t->down_work)) {
		dev_put(t->dev);
		tscf_tunnel_put(t);
	}
}

static struct tscf_tunnel *tscf_tunnel_alloc(struct net_device *dev,
					     struct socket *sock, int transport,
					     const struct tscf_tunnel_cfg *cfg)
{
	struct tscf_tunnel *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	refcount_set(&t->refs, 1);
	t->dev = dev;
	t->sock = sock;
	t->transport = transport;
	t->tsid = cfg->tsid;
	t->owner_portid = cfg->owner_portid;
	t->internal_ip4 = cfg->ip4;
	if (cfg->ip6)
		t->internal_ip6 = *cfg->ip6;
	skb_queue_head_init(&t->txq);
	INIT_WORK(&t->down_work, tscf_tunnel_down_work);
	return t;
}

int tscf_tunnel_attach(struct net_device *dev, const struct tscf_tunnel_cfg *cfg,
		       struct netlink_ext_ack *extack)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct tscf_tunnel *t;
	struct socket *sock;
	int transport, err;

	ASSERT_RTNL();
	if (rtnl_dereference(td->tunnel)) {
		NL_SET_ERR_MSG_MOD(extack, "device already has a tunnel: detach it first");
		return -EEXIST;
	}
	if (!cfg->tsid || cfg->tsid == TSCF_TSID_NONE) {
		NL_SET_ERR_MSG_MOD(extack, "TSID 0 and all-ones are never assigned");
		return -EINVAL;
	}

	sock = sockfd_lookup(cfg->fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG_MOD(extack, "fd is not a socket of the caller");
		return err;
	}
	transport = tscf_sock_transport(sock, dev, extack);
	if (transport < 0) {
		err = transport;
		goto err_put;
	}
	err = tscf_check_role(td, transport, extack);
	if (err)
		goto err_put;

	err = -ENOMEM;
	t = tscf_tunnel_alloc(dev, sock, transport, cfg);
	if (!t)
		goto err_put;

	if (transport == TSCF_TRANSPORT_UDP)
		err = tscf_udp_attach(t);
	else
		err = tscf_tcp_attach(t);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot take over the socket");
		kfree(t);
		goto err_put;
	}

	rcu_assign_pointer(td->tunnel, t);
	if (transport != TSCF_TRANSPORT_UDP)
		queue_work(tscf_wq, &t->rx_work);	/* bytes already queued */
	netdev_info(dev, "tunnel up: TSID %016llx over %s\n", cfg->tsid,
		    transport == TSCF_TRANSPORT_UDP ? "UDP" :
		    transport == TSCF_TRANSPORT_TCP ? "TCP" : "kTLS");
	tscf_nl_notify_tunnel(dev, cfg->tsid, TSCF_EVENT_UP, 0);
	if (td->encrypted)
		tscf_enclevel_tunnels_changed(dev_net(dev));
	else if (tscf_enclevel_demand(dev_net(dev)))
		tscf_nl_notify_demand(dev, true);
	return 0;

err_put:
	sockfd_put(sock);
	return err;
}

/*
 * The netlink socket portid in net closed: the tunnels it owned have no
 * helper any more.  Atomic context (the netlink notifier chain): the
 * detach itself runs from down_work.
 */
void tscf_tunnel_owner_gone(struct net *net, u32 portid)
{
	struct net_device *dev;
	struct tscf_tunnel *t;

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (dev->rtnl_link_ops != &tscf_link_ops)
			continue;
		t = rcu_dereference(((struct tscf_dev *)netdev_priv(dev))->tunnel);
		if (t && t->owner_portid == portid)
			tscf_tunnel_schedule_down(t, TSCF_DOWN_OWNER_GONE);
	}
	rcu_read_unlock();
}

static void tscf_wake_pair(struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct net_device *twin = rtnl_dereference(td->twin);

	if (netif_queue_stopped(dev))
		netif_wake_queue(dev);
	if (twin && netif_queue_stopped(twin))
		netif_wake_queue(twin);
}

void tscf_tunnel_detach(struct net_device *dev, u8 reason)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct tscf_tunnel *t;

	ASSERT_RTNL();
	t = rtnl_dereference(td->tunnel);
	if (!t)
		return;

	RCU_INIT_POINTER(td->tunnel, NULL);
	WRITE_ONCE(t->dead, true);
	if (t->transport == TSCF_TRANSPORT_UDP)
		tscf_udp_detach(t);
	else
		tscf_tcp_detach(t);

	netdev_info(dev, "tunnel down: TSID %016llx, reason %u\n", t->tsid,
		    reason);
	tscf_nl_notify_tunnel(dev, t->tsid, TSCF_EVENT_DOWN, reason);
	sockfd_put(t->sock);
	t->sock = NULL;
	tscf_wake_pair(dev);
	tscf_tunnel_put(t);
	if (td->encrypted)
		tscf_enclevel_tunnels_changed(dev_net(dev));
}
