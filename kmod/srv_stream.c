// SPDX-License-Identifier: GPL-2.0
/*
 * Stream peers of a server device: a clear TCP tunnel, or a TLS tunnel
 * with kTLS both ways (an encrypted peer), that tscfd accepted and
 * configured, then handed to the kernel (srv-peer-set with the
 * connection's fd), so that its inner packets cross no userspace.
 * docs/SERVER.md, "Kernel data path", has the whole contract; an
 * encrypted peer carries every packet from its session's address (it
 * arrived encrypted), but none past a control frame tscfd has not
 * handled yet (events_done), and it is read and written through kTLS only.
 *
 * The kernel owns the byte stream from the attach on; stream.c cuts it:
 * - A frame that the fast path may carry goes up the server device: the
 *   peer is fast, the frame is one whole IPv4/IPv6 packet from the peer's
 *   own address (server.c's checks, as for a UDP datagram), at most the
 *   MTU, or a TCP super-frame of the shape PROTOCOL.md 1.3 gives, if the
 *   peer was offered them; the TCP checksum of its segments is filled in
 *   when it is cut.
 * - Every other frame (control, a slow peer's, anything those checks
 *   refuse) goes to tscfd whole, as an srv-frame event to the netlink
 *   socket that sent srv-listen, and tscfd judges it as if it had read it
 *   itself.  If it cannot go (no listener, the listener's buffer full),
 *   the connection is shut, and no frame after it is carried or handed
 *   on meanwhile: a stream never loses a frame silently.
 * - tscfd's own frames (control answers, a slow peer's packets) go with
 *   srv-peer-send, queued with the kernel's: the stream stays in order.
 * - The end of the stream (a FIN, a reset, an error, bytes that are not
 *   frames) shuts the connection both ways; tscfd sees that on its fd
 *   (EPOLLRDHUP or EPOLLHUP) and deletes the peer.  Deleting a peer that
 *   was attached shuts its connection as well: the kernel may hold part
 *   of a frame, and nobody can go on from there.
 *
 * Lifetime: the stream is allocated with its peer, under RTNL.  A delete
 * (srv-peer-del) unhashes the peer and unhooks the stream (dead: no new
 * callback reaches it, no frame is taken from then on) and waits for
 * nothing: a reaper, after a grace period, stops the workers, shuts the
 * connection and frees both, so a mass expiry holds RTNL for no grace
 * period per stream.  Device teardown deletes its streams the same way
 * and waits for every reaper (srv->reaping) before the device goes.  The
 * stream holds the file reference sockfd_lookup() took until it is freed.
 */
#include <linux/file.h>
#include <linux/tcp.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/ip6_checksum.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include "netlink.h"
#include "srv.h"
#include "stream.h"
#include "tunnel.h"

struct tscf_srv_stream {
	struct tscf_srv_sock ss;
	struct tscf_stream stream;
	struct tscf_srv_peer *peer;	/* set before the stream starts */
	u32 fd;				/* tscfd's number for it, in events */
	bool attached;
	bool broken;			/* a frame was lost: nothing after it */
	/*
	 * srv-frame events sent, the last one of a control frame (the reader
	 * alone writes both), and how far tscfd has handled them (srv-peer-set
	 * frame-seq).  Until tscfd is past the last control frame, an
	 * encrypted peer hands it every frame: tscf_srv_stream_rx_frame().
	 */
	u32 events_sent;
	u32 events_ctl;
	u32 events_done;		/* READ_ONCE/WRITE_ONCE */
	/*
	 * A frame that found tscfd's event socket full: the stream waits
	 * with it (rx_held) and retry_dwork offers it again.
	 */
	struct sk_buff *waiting;	/* smp_store_release/smp_load_acquire */
	bool waiting_ctl;
	unsigned long waiting_since;	/* jiffies */
	struct delayed_work retry_dwork;
	struct work_struct shut_work;
	struct rcu_work reap_rwork;	/* the rest of a delete */
};

static const struct tscf_stream_ops tscf_srv_stream_ops;

/*
 * A frame that found the event socket full is offered again every
 * TSCF_SRV_EVENT_RETRY for TSCF_SRV_EVENT_PATIENCE, then counted lost
 * (tscfd is not reading: its sessions cannot go on anyway).
 */
#define TSCF_SRV_EVENT_RETRY	msecs_to_jiffies(10)
#define TSCF_SRV_EVENT_PATIENCE	(5 * HZ)

static struct tscf_srv_stream *tscf_srv_stream_of(struct tscf_stream *s)
{
	return container_of(s, struct tscf_srv_stream, stream);
}

static struct tscf_srv_stream *tscf_srv_ss_stream(const struct tscf_srv_sock *ss)
{
	return container_of(ss, struct tscf_srv_stream, ss);
}

bool tscf_srv_sock_is_tcp(const struct socket *sock)
{
	const struct sock *sk = sock->sk;

	return sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

/* --- receive ------------------------------------------------------------ */

/*
 * Make a TCP super-frame (PROTOCOL.md 1.3) a GSO packet that the stack
 * cuts into segments of at most mtu bytes, each with its TCP checksum:
 * one TCP segment with payload, not an IPv4 fragment, TCP right after an
 * IPv6 fixed header, no longer than the peer's offer.  The client's
 * checksum field is not a checksum; the pseudo header's sum goes there.
 * false: not such a frame (tscfd's to judge).
 */
static bool tscf_srv_stream_super(const struct tscf_srv_peer *p,
				  struct sk_buff *skb, __be16 proto,
				  unsigned int mtu)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int len = skb->len, l3, thl;
	struct tcphdr *th;

	if (len > READ_ONCE(p->super_frames))
		return false;
	if (proto == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
			return false;
		l3 = iph->ihl * 4;
	} else {
		if (ipv6_hdr(skb)->nexthdr != IPPROTO_TCP)
			return false;
		l3 = sizeof(struct ipv6hdr);
	}
	if (!pskb_may_pull(skb, l3 + sizeof(*th)))
		return false;
	thl = ((struct tcphdr *)(skb->data + l3))->doff * 4;
	if (thl < sizeof(*th) || l3 + thl >= len || l3 + thl >= mtu ||
	    !pskb_may_pull(skb, l3 + thl))
		return false;
	skb_set_transport_header(skb, l3);
	th = tcp_hdr(skb);
	if (proto == htons(ETH_P_IP))
		th->check = ~tcp_v4_check(len - l3, ip_hdr(skb)->saddr,
					  ip_hdr(skb)->daddr, 0);
	else
		th->check = ~tcp_v6_check(len - l3, &ipv6_hdr(skb)->saddr,
					  &ipv6_hdr(skb)->daddr, 0);
	if (!skb_partial_csum_set(skb, l3, offsetof(struct tcphdr, check)))
		return false;
	shinfo->gso_size = mtu - l3 - thl;
	shinfo->gso_type = (proto == htons(ETH_P_IP) ? SKB_GSO_TCPV4 :
						       SKB_GSO_TCPV6) |
			   (th->cwr ? SKB_GSO_TCP_ECN : 0) | SKB_GSO_DODGY;
	shinfo->gso_segs = 0;
	return true;
}

static int tscf_srv_stream_put_peer(struct sk_buff *msg,
				    const struct tscf_srv_stream *st)
{
	const struct tscf_srv_peer *p = st->peer;
	struct nlattr *nest;

	if (nla_put_u32(msg, TSCF_A_IFINDEX, st->ss.srv->dev->ifindex))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, TSCF_A_SRV_PEER);
	if (!nest || tscf_srv_put_remote(msg, p) ||
	    nla_put_u32(msg, TSCF_SRV_PEER_A_FD, st->fd) ||
	    nla_put_u32(msg, TSCF_SRV_PEER_A_FRAME_SEQ, st->events_sent + 1) ||
	    nla_put_u64_64bit(msg, TSCF_SRV_PEER_A_TSID, p->tsid,
			      TSCF_SRV_PEER_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/*
 * frame as an srv-frame event for tscfd; BHs off.  0 once it is queued
 * on the event socket, else the error (frame is still the caller's).
 */
static int tscf_srv_stream_event(struct tscf_srv_stream *st,
				 const struct sk_buff *frame, bool ctl)
{
	struct tscf_srv *srv = st->ss.srv;
	u32 portid = READ_ONCE(srv->event_portid);
	struct sk_buff *msg;
	struct nlattr *a;
	void *hdr;
	int err;

	if (!portid)
		return -ENOTCONN;
	msg = genlmsg_new(nla_total_size(frame->len) + NLMSG_DEFAULT_SIZE / 16,
			  GFP_ATOMIC);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &tscf_genl_family, 0, TSCF_CMD_SRV_FRAME);
	if (!hdr || tscf_srv_stream_put_peer(msg, st))
		goto too_big;
	a = nla_reserve(msg, TSCF_A_FRAME, frame->len);
	if (!a || skb_copy_bits(frame, 0, nla_data(a), frame->len))
		goto too_big;
	genlmsg_end(msg, hdr);
	err = genlmsg_unicast(dev_net(srv->dev), msg, portid);
	if (err)
		return err;		/* msg freed */
	st->events_sent++;
	if (ctl)
		st->events_ctl = st->events_sent;
	if (st->events_sent - READ_ONCE(st->events_done) == TSCF_SRV_EVENTS_AHEAD)
		atomic64_inc(&srv->events_paused);
	return 0;

too_big:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* A frame tscfd cannot have: the stream would have a hole.  Shut it. */
static void tscf_srv_stream_lost(struct tscf_srv_stream *st,
				 struct sk_buff *frame, int err)
{
	struct tscf_srv *srv = st->ss.srv;

	kfree_skb(frame);
	WRITE_ONCE(st->broken, true);
	atomic64_inc(&srv->events_failed);
	net_warn_ratelimited("%s: a stream peer's frame cannot reach tscfd (%d): closing its connection\n",
			     srv->dev->name, err);
	st->stream.ops->down(&st->stream, TSCF_DOWN_SOCK_ERROR);
}

/* Room may come (tscfd reads on): the frame waits, the stream with it. */
static bool tscf_srv_event_may_wait(int err)
{
	return err == -EAGAIN || err == -ENOMEM;
}

/*
 * A frame for tscfd; BHs off.  A full event socket (another client's
 * burst, say) holds this stream back rather than closing it: the frame
 * waits, and the reader cuts nothing behind it meanwhile.
 */
static void tscf_srv_stream_to_tscfd(struct tscf_srv_stream *st,
				     struct sk_buff *frame, bool ctl)
{
	int err = tscf_srv_stream_event(st, frame, ctl);

	if (!err) {
		consume_skb(frame);
		return;
	}
	if (!tscf_srv_event_may_wait(err)) {
		tscf_srv_stream_lost(st, frame, err);
		return;
	}
	atomic64_inc(&st->ss.srv->events_waited);
	st->waiting_ctl = ctl;
	st->waiting_since = jiffies;
	smp_store_release(&st->waiting, frame);
	queue_delayed_work(tscf_wq, &st->retry_dwork, TSCF_SRV_EVENT_RETRY);
}

/* The waiting frame, offered again; the reader is held meanwhile. */
static void tscf_srv_stream_retry_work(struct work_struct *work)
{
	struct tscf_srv_stream *st = container_of(to_delayed_work(work),
						  struct tscf_srv_stream,
						  retry_dwork);
	struct sk_buff *frame = st->waiting;
	int err;

	if (!frame || READ_ONCE(st->stream.dead))
		return;		/* the reaper frees it */
	local_bh_disable();
	err = tscf_srv_stream_event(st, frame, st->waiting_ctl);
	local_bh_enable();
	if (tscf_srv_event_may_wait(err) &&
	    time_before(jiffies, st->waiting_since + TSCF_SRV_EVENT_PATIENCE)) {
		queue_delayed_work(tscf_wq, &st->retry_dwork,
				   TSCF_SRV_EVENT_RETRY);
		return;
	}
	/* events_sent is written before the reader may see no frame waiting. */
	smp_store_release(&st->waiting, NULL);
	if (err) {
		local_bh_disable();
		tscf_srv_stream_lost(st, frame, err);
		local_bh_enable();
		return;
	}
	consume_skb(frame);
	tscf_stream_rx_resume(&st->stream);
}

/*
 * The reader cuts no frame while one waits for room, nor while tscfd is
 * TSCF_SRV_EVENTS_AHEAD events behind this stream: one client's burst of
 * frames for tscfd (control frames, a slow session's packets, forgeries)
 * can take at most that much of the event socket that every session
 * shares.  TCP closes that client's window meanwhile.
 */
static bool tscf_srv_stream_rx_held(struct tscf_stream *s)
{
	struct tscf_srv_stream *st = tscf_srv_stream_of(s);

	return smp_load_acquire(&st->waiting) ||
	       (s32)(st->events_sent - READ_ONCE(st->events_done)) >=
	       TSCF_SRV_EVENTS_AHEAD;
}

static void tscf_srv_stream_rx_frame(struct tscf_stream *s, struct sk_buff *skb)
{
	struct tscf_srv_stream *st = tscf_srv_stream_of(s);
	struct tscf_srv_peer *p = st->peer;
	struct tscf_srv *srv = st->ss.srv;
	unsigned int mtu = READ_ONCE(srv->dev->mtu);
	bool carry, ctl;
	__be16 proto = 0;

	/*
	 * After a hole, until the connection is shut, or after a delete,
	 * until the reaper stops this reader: none of it counts.  BHs are
	 * off: a delete's grace period waits for a frame that passed here.
	 */
	if (unlikely(READ_ONCE(st->broken) || READ_ONCE(s->dead))) {
		dev_core_stats_rx_dropped_inc(srv->dev);
		kfree_skb(skb);
		return;
	}
	/* Not an IPv4/IPv6 packet: a control frame (or not a frame at all). */
	ctl = !pskb_may_pull(skb, 1) ||
	      ((skb->data[0] >> 4) != TSCF_FRAME_IPV4 &&
	       (skb->data[0] >> 4) != TSCF_FRAME_IPV6);
	/*
	 * An encrypted peer's packets are the kernel's to carry, except
	 * behind a control frame tscfd has not handled yet: a client sends
	 * its FLOW_BIND ahead of the flow's first packet on the same stream,
	 * so that the binding exists before anything can answer that packet
	 * (kmod/flow.c).  tscfd gets them too, in order, until it is past
	 * that frame; the packets it got meanwhile do not hold back the next.
	 */
	if (p->encrypted)
		carry = (s32)(READ_ONCE(st->events_done) - st->events_ctl) >= 0;
	else
		carry = READ_ONCE(p->fast);
	if (carry && !ctl && netif_running(srv->dev))
		proto = tscf_srv_rx_proto(p, skb, 0);
	if (proto) {
		skb_reset_network_header(skb);
		if (skb->len > mtu && !tscf_srv_stream_super(p, skb, proto, mtu))
			proto = 0;
	}
	if (!proto) {
		tscf_srv_stream_to_tscfd(st, skb, ctl);
		return;
	}
	tscf_srv_rx_deliver(srv, p, skb, proto);
}

static void tscf_srv_stream_rx_dropped(struct tscf_stream *s)
{
	dev_core_stats_rx_dropped_inc(tscf_srv_stream_of(s)->ss.srv->dev);
}

static void tscf_srv_stream_malformed(struct tscf_stream *s)
{
	struct tscf_srv *srv = tscf_srv_stream_of(s)->ss.srv;

	dev_core_stats_rx_dropped_inc(srv->dev);
	net_warn_ratelimited("%s: unparsable stream from a client: closing its connection\n",
			     srv->dev->name);
}

/* --- the end of the stream ---------------------------------------------- */

static void tscf_srv_stream_down(struct tscf_stream *s, u8 reason)
{
	if (!READ_ONCE(s->dead))
		queue_work(tscf_wq, &tscf_srv_stream_of(s)->shut_work);
}

/* Both ways: the client sees the end, tscfd an EPOLLHUP on its fd. */
static void tscf_srv_stream_shut_work(struct work_struct *work)
{
	struct tscf_srv_stream *st = container_of(work, struct tscf_srv_stream,
						  shut_work);

	kernel_sock_shutdown(st->ss.sock, SHUT_RDWR);
}

/* --- transmit ----------------------------------------------------------- */

static void tscf_srv_stream_tx_done(struct tscf_stream *s, struct sk_buff *skb,
				    bool sent)
{
	struct tscf_srv *srv = tscf_srv_stream_of(s)->ss.srv;

	if (!sent) {
		tscf_srv_tx_drop(srv, skb);
		return;
	}
	dev_sw_netstats_tx_add(srv->dev, 1, skb->len);
	consume_skb(skb);
}

/* The device never stops its queue: past the drop mark, frames drop. */
static void tscf_srv_stream_tx_wake(struct tscf_stream *s)
{
}

/* One whole inner packet, its checksum complete; BHs off. */
void tscf_srv_stream_xmit(struct tscf_srv_peer *p, struct sk_buff *skb)
{
	tscf_stream_xmit(&tscf_srv_ss_stream(p->ss)->stream, skb);
}

/*
 * tscfd has handled the events up to seq (srv-peer-set): a reader held
 * for it goes on.  RTNL held.
 */
void tscf_srv_stream_frames_done(struct tscf_srv_peer *p, u32 seq)
{
	struct tscf_srv_stream *st = tscf_srv_ss_stream(p->ss);

	WRITE_ONCE(st->events_done, seq);
	if (st->attached)
		tscf_stream_rx_resume(&st->stream);
}

/* A frame of tscfd's (srv-peer-send); RTNL held. */
int tscf_srv_stream_send(struct tscf_srv_peer *p, const void *frame,
			 size_t len, struct netlink_ext_ack *extack)
{
	struct tscf_srv_stream *st = tscf_srv_ss_stream(p->ss);
	struct sk_buff *skb;
	size_t flen;

	if (tscf_wire_frame_len(frame, len, &flen) || flen != len) {
		NL_SET_ERR_MSG_MOD(extack, "not exactly one frame");
		return -EINVAL;
	}
	if (READ_ONCE(st->stream.dead) || tscf_stream_txq_full(&st->stream)) {
		NL_SET_ERR_MSG_MOD(extack, "the peer's queue is full");
		return -ENOBUFS;
	}
	skb = alloc_skb(len, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	skb_put_data(skb, frame, len);
	local_bh_disable();
	tscf_stream_xmit(&st->stream, skb);
	local_bh_enable();
	return 0;
}

static const struct tscf_stream_ops tscf_srv_stream_ops = {
	.rx_frame	= tscf_srv_stream_rx_frame,
	.rx_dropped	= tscf_srv_stream_rx_dropped,
	.malformed	= tscf_srv_stream_malformed,
	.down		= tscf_srv_stream_down,
	.tx_done	= tscf_srv_stream_tx_done,
	.tx_wake	= tscf_srv_stream_tx_wake,
	.rx_held	= tscf_srv_stream_rx_held,
};

/* --- attach and release ------------------------------------------------- */

/* The stream peer of srv on sock, if it is one; RTNL held. */
struct tscf_srv_sock *tscf_srv_stream_find(struct tscf_srv *srv,
					   struct socket *sock)
{
	struct tscf_srv_sock *found = NULL;
	struct sock *sk = sock->sk;
	struct tscf_stream *s;

	rcu_read_lock();
	if (tscf_stream_sock_is_ours(sk)) {
		s = rcu_dereference_sk_user_data(sk);
		if (s && s->ops == &tscf_srv_stream_ops &&
		    tscf_srv_stream_of(s)->ss.srv == srv)
			found = &tscf_srv_stream_of(s)->ss;
	}
	rcu_read_unlock();
	return found;
}

/* The connection's far end, as the peer names it. */
static bool tscf_srv_stream_remote_is(const struct sock *sk,
				      const struct in6_addr *remote,
				      __be16 port)
{
	struct in6_addr a;

	if (sk->sk_family == AF_INET)
		ipv6_addr_set_v4mapped(sk->sk_daddr, &a);
	else
		a = sk->sk_v6_daddr;
	return ipv6_addr_equal(&a, remote) && sk->sk_dport == port;
}

/*
 * A stream for sock (a TCP socket, held by the caller; the stream's own
 * once this returns one).  Not attached yet: tscf_srv_stream_start().
 */
struct tscf_srv_sock *tscf_srv_stream_new(struct tscf_srv *srv,
					  struct socket *sock, u32 fd,
					  const struct in6_addr *remote,
					  __be16 port,
					  struct netlink_ext_ack *extack)
{
	struct tscf_srv_stream *st;
	struct sock *sk = sock->sk;

	if (!net_eq(sock_net(sk), dev_net(srv->dev))) {
		NL_SET_ERR_MSG_MOD(extack, "socket belongs to another network namespace");
		return ERR_PTR(-EINVAL);
	}
	/* Looked at again under the socket's lock, at the attach. */
	if (READ_ONCE(sk->sk_state) != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "the TCP connection is not established");
		return ERR_PTR(-ENOTCONN);
	}
	if (!tscf_srv_stream_remote_is(sk, remote, port)) {
		NL_SET_ERR_MSG_MOD(extack, "remote is not the TCP connection's far end");
		return ERR_PTR(-EINVAL);
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&st->ss.node);
	st->ss.srv = srv;
	st->ss.sock = sock;
	st->ss.stream = true;
	st->fd = fd;
	INIT_WORK(&st->shut_work, tscf_srv_stream_shut_work);
	INIT_DELAYED_WORK(&st->retry_dwork, tscf_srv_stream_retry_work);
	tscf_stream_init(&st->stream, &tscf_srv_stream_ops);
	/*
	 * Not in the softirq: on the sending CPU it would carry every
	 * client frame up the service side's stack one at a time (3 times
	 * fewer RTP-size packets than tscfd in userspace, BENCH.md).
	 */
	st->stream.rx_in_worker = true;
	return &st->ss;
}

/*
 * What the kernel cannot take over; under lock_sock.  A clear peer's
 * connection is plain TCP; an encrypted peer's has kTLS both ways, so the
 * kernel only ever reads and writes it through TLS.
 */
static int tscf_srv_stream_check_locked(struct sock *sk, bool encrypted,
					struct netlink_ext_ack *extack)
{
	const struct tcp_ulp_ops *ulp = inet_csk(sk)->icsk_ulp_ops;

	if (sk->sk_state != TCP_ESTABLISHED) {
		NL_SET_ERR_MSG_MOD(extack, "the TCP connection is not established");
		return -ENOTCONN;
	}
	if (!encrypted && ulp) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the socket has an upper layer (kTLS) and the peer is not encrypted");
		return -EOPNOTSUPP;
	}
	if (encrypted && (!ulp || strcmp(ulp->name, "tls") ||
			  !tls_sw_has_ctx_tx(sk) || !tls_sw_has_ctx_rx(sk))) {
		NL_SET_ERR_MSG_MOD(extack,
				   "an encrypted peer needs kTLS installed for both TX and RX");
		return -EINVAL;
	}
	return 0;
}


/* Is it the start of a frame, and no more than that? */
static bool tscf_srv_stream_rest_ok(const u8 *rest, size_t len)
{
	size_t flen;
	int err;

	if (!len)
		return true;
	err = tscf_wire_frame_len(rest, len, &flen);
	return err == -EAGAIN || (!err && flen > len);
}

/*
 * Attach the stream of p and start reading: rx_rest first (bytes tscfd
 * read past its last whole frame), then the socket.  On failure nothing
 * was taken, and the socket is tscfd's as it was.  RTNL held.
 */
int tscf_srv_stream_start(struct tscf_srv_sock *ss, struct tscf_srv_peer *p,
			  const void *rx_rest, size_t rest_len,
			  struct netlink_ext_ack *extack)
{
	struct tscf_srv_stream *st = tscf_srv_ss_stream(ss);
	struct sock *sk = ss->sock->sk;
	int err;

	if (!tscf_srv_stream_rest_ok(rx_rest, rest_len)) {
		NL_SET_ERR_MSG_MOD(extack, "rx-rest is not the start of a frame (nor less than one)");
		return -EINVAL;
	}
	st->peer = p;
	lock_sock(sk);
	err = tscf_srv_stream_check_locked(sk, p->encrypted, extack);
	if (!err)
		err = tscf_sock_claim(sk, &st->stream, extack);
	if (!err) {
		err = tscf_stream_attach(&st->stream, ss->sock, p->encrypted,
					 rx_rest, rest_len);
		if (err) {
			write_lock_bh(&sk->sk_callback_lock);
			rcu_assign_sk_user_data(sk, NULL);
			write_unlock_bh(&sk->sk_callback_lock);
			NL_SET_ERR_MSG_MOD(extack, "cannot take over the socket");
		}
	}
	release_sock(sk);
	if (err)
		return err;
	st->attached = true;
	tscf_stream_start(&st->stream);
	return 0;
}

/* Once no callback or direct send runs: stop, shut, free. */
static void tscf_srv_stream_release(struct tscf_srv_stream *st)
{
	if (st->attached) {
		/* Before the workers stop: a retry may resume the reader. */
		cancel_delayed_work_sync(&st->retry_dwork);
		kfree_skb(st->waiting);
		tscf_stream_release(&st->stream);
		cancel_work_sync(&st->shut_work);
		/* Cut somewhere in a frame, maybe: nobody can go on. */
		kernel_sock_shutdown(st->ss.sock, SHUT_RDWR);
	}
	sockfd_put(st->ss.sock);
	kfree(st);
}

/* A stream never attached (its peer could not be added); RTNL held. */
void tscf_srv_stream_free(struct tscf_srv_sock *ss)
{
	struct tscf_srv_stream *st = tscf_srv_ss_stream(ss);

	WARN_ON_ONCE(st->attached);
	tscf_srv_stream_release(st);
}

static void tscf_srv_stream_reap(struct work_struct *work)
{
	struct tscf_srv_stream *st = container_of(to_rcu_work(work),
						  struct tscf_srv_stream,
						  reap_rwork);
	struct tscf_srv_peer *p = st->peer;
	struct tscf_srv *srv = st->ss.srv;

	tscf_srv_stream_release(st);
	tscf_srv_peer_free(p);
	/* The device waits for this count before it goes. */
	if (atomic_dec_and_test(&srv->reaping))
		wake_up_var(&srv->reaping);
}

/*
 * Delete the stream peer p, already unhashed, without waiting: the reaper
 * frees both after a grace period.  RTNL held.
 */
void tscf_srv_stream_del(struct tscf_srv_sock *ss, struct tscf_srv_peer *p)
{
	struct tscf_srv_stream *st = tscf_srv_ss_stream(ss);

	st->peer = p;
	if (st->attached)
		tscf_stream_unhook(&st->stream);
	atomic_inc(&ss->srv->reaping);
	INIT_RCU_WORK(&st->reap_rwork, tscf_srv_stream_reap);
	queue_rcu_work(tscf_wq, &st->reap_rwork);
}

/* Teardown, RTNL held: every reaper of an earlier delete is done. */
void tscf_srv_stream_wait_reaped(struct tscf_srv *srv)
{
	wait_var_event(&srv->reaping, !atomic_read(&srv->reaping));
}
