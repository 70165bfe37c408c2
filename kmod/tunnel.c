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
 * - Attach checks the socket and claims its sk_user_data under lock_sock,
 *   the claim itself under sk_callback_lock, as every other kernel user
 *   of sk_user_data does: the test that it is free and the takeover are
 *   one step.  RTNL is taken before lock_sock.
 * - A tunnel whose netns is left with nothing but tunnel sockets is
 *   detached by the reaper (below), since its socket keeps the netns and
 *   so the device alive and no netns exit would ever run.
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
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/tls.h>

#include "compat.h"
#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "tunnel.h"

struct workqueue_struct *tscf_wq;

/*
 * Tunnels whose network namespace is gone.  A tunnel holds its socket and
 * the socket holds its netns, where the tunnel's device lives: once the
 * netns has no process and no name left, those tunnels are all that keep
 * it (and its devices, and the server's connections) alive, and no netns
 * exit can run to release them.  So the reaper looks every few seconds
 * while tunnels exist: a netns held by nothing but tunnel sockets gets its
 * tunnels detached; it then exits and takes its devices with it.  Someone
 * who could still reach the netns holds a reference of their own, so a
 * netns in use is never reaped (a transient reference only delays it).
 * tscf_tunnels is under tscf_tunnels_lock, taken after RTNL.
 */
#define TSCF_REAP_INTERVAL	(2 * HZ)

static LIST_HEAD(tscf_tunnels);
static DEFINE_MUTEX(tscf_tunnels_lock);
static void tscf_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(tscf_reap_work, tscf_reap);

/* References on net held by tunnel sockets; under tscf_tunnels_lock. */
static unsigned int tscf_net_tunnel_refs(const struct net *net)
{
	struct tscf_tunnel *t;
	unsigned int n = 0;

	list_for_each_entry(t, &tscf_tunnels, node)
		if (net_eq(sock_net(t->sock->sk), net) && t->sock->sk->sk_net_refcnt)
			n++;
	return n;
}

static void tscf_reap(struct work_struct *work)
{
	struct tscf_tunnel *t;
	struct net *net;

	mutex_lock(&tscf_tunnels_lock);
	list_for_each_entry(t, &tscf_tunnels, node) {
		net = sock_net(t->sock->sk);
		if (refcount_read(&net->ns.count) <= tscf_net_tunnel_refs(net))
			tscf_tunnel_schedule_down(t, TSCF_DOWN_DEV_GONE);
	}
	if (!list_empty(&tscf_tunnels))
		queue_delayed_work(tscf_wq, &tscf_reap_work, TSCF_REAP_INTERVAL);
	mutex_unlock(&tscf_tunnels_lock);
}

static void tscf_tunnel_list_add(struct tscf_tunnel *t)
{
	mutex_lock(&tscf_tunnels_lock);
	list_add(&t->node, &tscf_tunnels);
	queue_delayed_work(tscf_wq, &tscf_reap_work, TSCF_REAP_INTERVAL);
	mutex_unlock(&tscf_tunnels_lock);
}

static void tscf_tunnel_list_del(struct tscf_tunnel *t)
{
	mutex_lock(&tscf_tunnels_lock);
	list_del(&t->node);
	mutex_unlock(&tscf_tunnels_lock);
}

/* After every device is gone, so no tunnel is left to look at. */
void tscf_tunnel_exit(void)
{
	cancel_delayed_work_sync(&tscf_reap_work);
}

static void tscf_tunnel_get(struct tscf_tunnel *t)
{
	refcount_inc(&t->refs);
}

void tscf_tunnel_put(struct tscf_tunnel *t)
{
	if (refcount_dec_and_test(&t->refs))
		kfree_rcu(t, rcu);
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

/*
 * An inner packet up the stack of t's device.  A device that is down
 * takes nothing: GRO cells drop then too, but the socket lookup of the
 * receive block need not run for a packet that goes nowhere.
 */
static void tscf_rx_inner(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net_device *dev = t->dev;
	struct tscf_dev *td = netdev_priv(dev);
	unsigned int len = skb->len;
	__be16 proto;

	if (unlikely(!netif_running(dev))) {
		dev_core_stats_rx_dropped_inc(dev);
		kfree_skb(skb);
		return;
	}
	proto = tscf_rx_inner_proto(skb);
	if (!proto) {
		tscf_rx_drop_malformed(t, skb);
		return;
	}

	skb->protocol = proto;
	skb_reset_network_header(skb);
	if (!td->encrypted && tscf_flow_rx_blocked(t, skb)) {
		atomic64_inc(&td->rx_blocked);
		tscf_cnt_inc(t, TSCF_CNT_RX_BLOCKED);
		dev_core_stats_rx_dropped_inc(dev);
		kfree_skb(skb);
		return;
	}

	skb_scrub_packet(skb, true);
	skb->dev = dev;
	skb->pkt_type = PACKET_HOST;
	/* ip_summed: as the transport left it (tscf_rx_mark_verified()). */
	skb_reset_mac_header(skb);
	skb_probe_transport_header(skb);

	if (gro_cells_receive(&td->gro_cells, skb) == NET_RX_SUCCESS) {
		tscf_cnt_inc(t, TSCF_CNT_RX_PACKETS);
		tscf_cnt_add(t, TSCF_CNT_RX_BYTES, len);
		dev_sw_netstats_rx_add(dev, len);
	} else {
		dev_core_stats_rx_dropped_inc(dev);
	}
}

/*
 * The outer layer checked every byte of this frame (a TCP or verified UDP
 * checksum, or a kTLS tag): the inner stack need not checksum it again.
 * As WireGuard does after decryption, every level counts as checked.
 */
void tscf_rx_mark_verified(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->csum_level = SKB_MAX_CSUM_LEVEL;
}

/*
 * One received frame, skb->data at its first byte and skb->len its exact
 * length.  Control frames go to userspace; inner packets up the stack.
 * BHs off (GRO cells and per-CPU stats need it).
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
		tscf_flow_rx_ctrl(t, skb->data, skb->len);
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

/* A frame t's transport could not take: counted on t and its device. */
void tscf_tunnel_tx_drop(struct tscf_tunnel *t, struct sk_buff *skb)
{
	tscf_cnt_inc(t, TSCF_CNT_TX_DROPPED);
	dev_core_stats_tx_dropped_inc(t->dev);
	kfree_skb(skb);
}

/* One frame onto t's transport; BHs off, consumes skb. */
static void tscf_tunnel_send(struct tscf_tunnel *t, struct sk_buff *skb)
{
	switch (t->transport) {
	case TSCF_TRANSPORT_UDP:
		tscf_udp_xmit(t, skb);
		return;
	case TSCF_TRANSPORT_DTLS:
		tscf_dtls_xmit(t, skb);
		return;
	default:
		tscf_tcp_xmit(t, skb);
	}
}

void tscf_tunnel_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	/*
	 * The inner checksum travels on the wire: the server hands the
	 * packet as it is to a TUN device and the service network checks
	 * it.  The device takes CHECKSUM_PARTIAL (HW_CSUM, and the segments
	 * of GSO keep it) so that it is summed here once, in one read.
	 */
	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		tscf_tunnel_tx_drop(t, skb);
		return;
	}

	tscf_cnt_inc(t, TSCF_CNT_TX_PACKETS);
	tscf_cnt_add(t, TSCF_CNT_TX_BYTES, skb->len);
	tscf_tunnel_send(t, skb);
}

/*
 * A TCP super-frame (device.c decided it may go): as it is, its checksum
 * field holding the pseudo-header's sum, for the server to cut.  Only its
 * bytes are read from here on; its GSO state is left alone, as TCP's
 * retransmit queue shares it with this clone.
 */
void tscf_tunnel_xmit_super(struct tscf_tunnel *t, struct sk_buff *skb)
{
	tscf_cnt_inc(t, TSCF_CNT_TX_PACKETS);
	tscf_cnt_add(t, TSCF_CNT_TX_BYTES, skb->len);
	atomic64_inc(&t->tx_super);
	tscf_tunnel_send(t, skb);
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
	tscf_tunnel_send(t, skb);
	local_bh_enable();
	return 0;
}

/* Only a TCP socket has an inet_connection_sock to look at. */
static bool tscf_sock_is_ktls(struct sock *sk)
{
	const struct tcp_ulp_ops *ulp = inet_csk(sk)->icsk_ulp_ops;

	return ulp && !strcmp(ulp->name, "tls");
}

/* What kind of transport the socket is, from its immutable fields. */
static int tscf_sock_kind(struct socket *sock, struct net_device *dev,
			  struct netlink_ext_ack *extack)
{
	struct sock *sk = sock->sk;

	if (!net_eq(sock_net(sk), dev_net(dev))) {
		NL_SET_ERR_MSG_MOD(extack, "socket belongs to another network namespace");
		return -EINVAL;
	}
	if (sk->sk_family != AF_INET && sk->sk_family != AF_INET6) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not IPv4 or IPv6");
		return -EAFNOSUPPORT;
	}
	if (sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP)
		return TSCF_TRANSPORT_UDP;
	if (sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP)
		return TSCF_TRANSPORT_TCP;
	NL_SET_ERR_MSG_MOD(extack, "socket is neither UDP nor TCP");
	return -EPROTONOSUPPORT;
}

/* A TCP socket is plain TCP or kTLS in both directions; nothing else. */
static int tscf_sock_tcp_kind(struct sock *sk, struct netlink_ext_ack *extack)
{
	if (tscf_sock_is_ktls(sk)) {
		if (tls_sw_has_ctx_tx(sk) && tls_sw_has_ctx_rx(sk))
			return TSCF_TRANSPORT_TLS;
		NL_SET_ERR_MSG_MOD(extack, "kTLS must be installed for both TX and RX");
		return -EINVAL;
	}
	if (inet_csk(sk)->icsk_ulp_ops) {
		NL_SET_ERR_MSG_MOD(extack, "TCP socket carries an unsupported ULP");
		return -EINVAL;
	}
	return TSCF_TRANSPORT_TCP;
}

/*
 * Would the socket's own packets leave through a tscf device?  Its frames
 * would then come back to a tscf device's transmit forever.
 */
static bool tscf_sock_route_loops(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct net_device *out;
	bool loops;

	if (sk->sk_family == AF_INET) {
		struct flowi4 fl4;
		struct rtable *rt;

		rt = ip_route_output_ports(sock_net(sk), &fl4, sk,
					   inet->inet_daddr, inet->inet_saddr,
					   inet->inet_dport, inet->inet_sport,
					   sk->sk_protocol, ip_sock_rt_tos(sk),
					   sk->sk_bound_dev_if);
		if (IS_ERR(rt))
			return false;	/* no route: sends fail, nothing loops */
		out = rt->dst.dev;
		loops = out && tscf_dev_is_tscf(out);
		ip_rt_put(rt);
		return loops;
	}
#if IS_ENABLED(CONFIG_IPV6)
	{
		struct flowi6 fl6 = {
			.daddr = sk->sk_v6_daddr,
			.saddr = sk->sk_v6_rcv_saddr,
			.flowi6_oif = sk->sk_bound_dev_if,
			.flowi6_mark = sk->sk_mark,
			.flowi6_proto = sk->sk_protocol,
			.fl6_sport = inet->inet_sport,
			.fl6_dport = inet->inet_dport,
		};
		struct dst_entry *dst;

		dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6, NULL);
		if (IS_ERR(dst))
			return false;
		loops = dst->dev && tscf_dev_is_tscf(dst->dev);
		dst_release(dst);
		return loops;
	}
#else
	return false;
#endif
}

/*
 * Checks that need the socket lock (its state, ULP and route), and the
 * final transport of t; under lock_sock.
 */
static int tscf_sock_check_locked(struct tscf_tunnel *t,
				  struct netlink_ext_ack *extack)
{
	struct sock *sk = t->sock->sk;
	int transport = t->transport;

	if (sk->sk_state != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "socket is not connected");
		return -ENOTCONN;
	}
	if (sk->sk_family == AF_INET6 && ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		NL_SET_ERR_MSG_MOD(extack, "v4-mapped IPv6 sockets are not supported");
		return -EAFNOSUPPORT;
	}
	if (transport == TSCF_TRANSPORT_TCP) {
		transport = tscf_sock_tcp_kind(sk, extack);
		if (transport < 0)
			return transport;
	}
	if (tscf_sock_route_loops(sk)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the socket's route leaves through a tscf device: it would loop");
		return -ELOOP;
	}
	t->transport = transport;
	return 0;
}

/*
 * Make user the socket's user, atomically with the test that it has none,
 * under the lock every other kernel user of sk_user_data writes it with.
 * Client tunnels and server devices' sockets alike.
 */
int tscf_sock_claim(struct sock *sk, void *user,
			   struct netlink_ext_ack *extack)
{
	int err = 0;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		NL_SET_ERR_MSG_MOD(extack, "socket is already used by a kernel tunnel");
		err = -EBUSY;
	} else {
		rcu_assign_sk_user_data(sk, user);
	}
	write_unlock_bh(&sk->sk_callback_lock);
	return err;
}

static void tscf_sock_unclaim(struct sock *sk)
{
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

static int tscf_check_role(struct tscf_dev *td, int transport,
			   struct netlink_ext_ack *extack)
{
	bool encrypted = transport == TSCF_TRANSPORT_TLS ||
			 transport == TSCF_TRANSPORT_DTLS;

	if (td->encrypted && !encrypted) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the encrypted twin takes only a TCP socket with kTLS TX and RX, or a UDP socket with DTLS keys");
		return -EINVAL;
	}
	if (!td->encrypted && encrypted) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a kTLS or DTLS socket belongs on the encrypted twin, not the clear device");
		return -EINVAL;
	}
	return 0;
}

/*
 * Validate the socket and take it over, all under its lock, so that
 * nothing (a setsockopt, another attach) changes it between the checks
 * and the takeover.  Called under RTNL, which orders before lock_sock.
 */
static int tscf_sock_take(struct tscf_tunnel *t, struct netlink_ext_ack *extack)
{
	struct sock *sk = t->sock->sk;
	int err;

	lock_sock(sk);
	err = tscf_sock_check_locked(t, extack);
	if (!err)
		err = tscf_check_role(netdev_priv(t->dev), t->transport, extack);
	if (!err)
		/* A stream's callbacks find the stream, a datagram's t. */
		err = tscf_sock_claim(sk, tscf_tunnel_is_dgram(t) ?
				      (void *)t : &t->stream, extack);
	if (err)
		goto out;
	if (tscf_tunnel_is_dgram(t))
		err = tscf_udp_attach(t);
	else
		err = tscf_tcp_attach(t);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot take over the socket");
		tscf_sock_unclaim(sk);
	}
out:
	release_sock(sk);
	return err;
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
	/*
	 * A UDP super-frame is one datagram: with the outer headers (IPv6's
	 * the larger) its IP length must still fit in 16 bits.
	 */
	t->super_frames = transport == TSCF_TRANSPORT_UDP ?
			  min_t(u16, cfg->super_frames, TSCF_UDP_SUPER_MAX) :
			  cfg->super_frames;
	if (cfg->ip6)
		t->internal_ip6 = *cfg->ip6;
	spin_lock_init(&t->bind_lock);
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
	transport = tscf_sock_kind(sock, dev, extack);
	if (transport < 0) {
		err = transport;
		goto err_put;
	}
	if (cfg->dtls && transport != TSCF_TRANSPORT_UDP) {
		NL_SET_ERR_MSG_MOD(extack, "DTLS keys need a UDP socket");
		err = -EINVAL;
		goto err_put;
	}
	if (cfg->dtls)
		transport = TSCF_TRANSPORT_DTLS;
	if (cfg->super_frames && transport == TSCF_TRANSPORT_DTLS) {
		NL_SET_ERR_MSG_MOD(extack, "super-frames are for TCP and clear UDP tunnels only");
		err = -EINVAL;
		goto err_put;
	}

	err = -ENOMEM;
	t = tscf_tunnel_alloc(dev, sock, transport, cfg);
	if (!t)
		goto err_put;
	/* The record state exists before the encap hook can run. */
	if (cfg->dtls) {
		t->dtls = tscf_dtls_new(cfg->dtls, extack);
		if (IS_ERR(t->dtls)) {
			err = PTR_ERR(t->dtls);
			t->dtls = NULL;
			goto err_free;
		}
	}
	err = tscf_sock_take(t, extack);
	if (err)
		goto err_free;
	transport = t->transport;

	rcu_assign_pointer(td->tunnel, t);
	tscf_tunnel_list_add(t);
	if (!tscf_tunnel_is_dgram(t))
		tscf_stream_start(&t->stream);	/* bytes already queued */
	netdev_info(dev, "tunnel up: TSID %016llx over %s\n", cfg->tsid,
		    transport == TSCF_TRANSPORT_UDP ? "UDP" :
		    transport == TSCF_TRANSPORT_DTLS ? "DTLS" :
		    transport == TSCF_TRANSPORT_TCP ? "TCP" : "kTLS");
	tscf_nl_notify_tunnel(dev, cfg->tsid, TSCF_EVENT_UP, 0);
	if (td->encrypted)
		tscf_enclevel_tunnels_changed(dev_net(dev));
	else if (tscf_enclevel_demand(dev_net(dev)))
		tscf_nl_notify_demand(dev, true);
	return 0;

err_free:
	tscf_dtls_free(t->dtls);
	tscf_tunnel_put(t);
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
	tscf_tunnel_list_del(t);
	if (tscf_tunnel_is_dgram(t)) {
		tscf_udp_detach(t);	/* waits for every reader of t */
		tscf_dtls_free(t->dtls);
		t->dtls = NULL;
	} else {
		tscf_tcp_detach(t);
	}

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
