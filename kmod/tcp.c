// SPDX-License-Identifier: GPL-2.0
/*
 * Stream tunnels: TCP, and TCP with kTLS (the encrypted twin).
 *
 * On a kTLS socket the TCP read_sock/sendpage paths would see ciphertext,
 * so both kinds use only sock_recvmsg()/kernel_sendmsg(), from work items
 * because kTLS sleeps.  Frames delimit themselves (tscf_wire_frame_len(),
 * uapi/linux/tscf_frame.h).
 *
 * Receive, clear TCP: sk_data_ready reads the socket with tcp_read_sock()
 * in the softirq that queued the bytes, as strparser does: no worker hop
 * on the round trip.  A socket that a task holds (rx_work itself, or
 * tx_work's sendmsg) gets rx_work instead, which reads under lock_sock.
 * Receive, kTLS: only recvmsg() sees plaintext, and it sleeps, so
 * sk_data_ready queues rx_work, which reads into the same kind of buffer.
 * Either way one reader at a time cuts a per-tunnel buffer into frames:
 * the socket's lock (clear) or the one work item (kTLS) serializes them.
 * Transmit, clear TCP: a frame with nothing queued ahead of it is written
 * at once from the sender's context (BHs off, bh_lock_sock, as ovpn does),
 * unless a task holds the socket.  What cannot go now, and every kTLS
 * frame, is queued on t->txq; rx_work's twin, tx_work, writes the queue
 * with MSG_DONTWAIT.  Bit 0 of t->tx_busy makes one writer at a time own
 * the queue's head, so frames leave in order.  A partial write keeps its
 * offset and resumes from sk_write_space.  A long queue stops the device
 * queue, so the qdisc holds packets back instead of dropping them.
 */
#include <linux/sizes.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include "compat.h"
#include "device.h"
#include "tunnel.h"

/* Frames moved per work run before yielding the worker. */
#define TSCF_RX_BUDGET	64
/*
 * Frames cut per softirq read before the rest goes to the worker, and
 * the bytes copied at a time, which bound how far past it a read goes.
 */
#define TSCF_RX_SOFTIRQ_FRAMES	256
#define TSCF_RX_CHUNK		SZ_16K
/* t->tx_busy: a writer (tx_work or a direct send) owns the socket. */
#define TSCF_TX_BUSY	0
/*
 * The lockdep subclass of a tunnel socket's bh lock taken on transmit:
 * the sender may hold its own socket's (TCP takes SINGLE_DEPTH_NESTING
 * in its receive path, whose ACKs can come through the tunnel).
 */
#define TSCF_TCP_TX_NESTING	(SINGLE_DEPTH_NESTING + 1)

static void tscf_tcp_read_frames(struct tscf_tunnel *t, bool softirq);

static void tscf_tcp_data_ready(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_tunnel *t;

	rcu_read_lock();
	t = rcu_dereference_sk_user_data(sk);
	if (t) {
		saved = t->saved_data_ready;
		/*
		 * Clear TCP, socket not held by a task: the caller holds
		 * bh_lock_sock (TCP's receive softirq), read here.
		 */
		if (!READ_ONCE(t->dead)) {
			if (t->transport == TSCF_TRANSPORT_TCP &&
			    !sock_owned_by_user_nocheck(sk))
				tscf_tcp_read_frames(t, true);
			else
				queue_work(tscf_wq, &t->rx_work);
		}
	}
	rcu_read_unlock();
	/* kTLS's own data_ready runs its record parser: always chain. */
	if (saved)
		saved(sk);
	else if (sk->sk_data_ready != tscf_tcp_data_ready)
		sk->sk_data_ready(sk);
}

static void tscf_tcp_write_space(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_tunnel *t;

	rcu_read_lock();
	t = rcu_dereference_sk_user_data(sk);
	if (t) {
		saved = t->saved_write_space;
		if (!READ_ONCE(t->dead))
			queue_work(tscf_wq, &t->tx_work);
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (sk->sk_write_space != tscf_tcp_write_space)
		sk->sk_write_space(sk);
}

static void tscf_tcp_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_tunnel *t;

	rcu_read_lock();
	t = rcu_dereference_sk_user_data(sk);
	if (t) {
		saved = t->saved_state_change;
		if (!READ_ONCE(t->dead)) {
			/*
			 * A FIN: drain what is left, rx_work sees the end.
			 * A reset or error: down at once.
			 */
			if (sk->sk_state == TCP_CLOSE_WAIT)
				queue_work(tscf_wq, &t->rx_work);
			else if (sk->sk_state == TCP_CLOSE)
				tscf_tunnel_schedule_down(t, sk->sk_err ?
							  TSCF_DOWN_SOCK_ERROR :
							  TSCF_DOWN_PEER_CLOSED);
		}
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (sk->sk_state_change != tscf_tcp_state_change)
		sk->sk_state_change(sk);
}

/*
 * Read what the socket has into the receive buffer: bytes read, 0 at the
 * end of the stream, -EAGAIN when empty, -EPROTO for a TLS record that is
 * not application data (an alert), else the socket's error.
 */
static int tscf_tcp_recv(struct tscf_tunnel *t)
{
	u8 cbuf[CMSG_SPACE(sizeof(u8))] __aligned(sizeof(size_t));
	struct kvec iov = {
		.iov_base = t->rxbuf + t->rxlen,
		.iov_len = TSCF_RXBUF_SIZE - t->rxlen,
	};
	struct msghdr msg = {};
	int n;

	if (t->transport == TSCF_TRANSPORT_TLS) {
		/* Without a control buffer kTLS fails non-data records. */
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		msg.msg_control_is_user = false;
	}
	n = kernel_recvmsg(t->sock, &msg, &iov, 1, iov.iov_len, MSG_DONTWAIT);
	if (n > 0 && t->transport == TSCF_TRANSPORT_TLS &&
	    msg.msg_controllen < sizeof(cbuf)) {
		struct cmsghdr *cmsg = (struct cmsghdr *)cbuf;

		if (cmsg->cmsg_level == SOL_TLS &&
		    cmsg->cmsg_type == TLS_GET_RECORD_TYPE &&
		    *(u8 *)CMSG_DATA(cmsg) != TLS_RECORD_TYPE_DATA)
			return -EPROTO;
	}
	return n;
}

/*
 * Cut the receive buffer into frames; keep an incomplete tail.  The
 * number of frames cut, or a negative error for an unparsable stream.
 */
static int tscf_tcp_parse(struct tscf_tunnel *t, gfp_t gfp)
{
	size_t off = 0, flen;
	struct sk_buff *skb;
	int err = 0, frames = 0;

	while (off < t->rxlen) {
		err = tscf_wire_frame_len(t->rxbuf + off, t->rxlen - off, &flen);
		if (err == -EAGAIN || (!err && off + flen > t->rxlen)) {
			err = 0;
			break;
		}
		if (err)
			break;

		skb = alloc_skb(flen + NET_SKB_PAD, gfp);
		if (skb) {
			skb_reserve(skb, NET_SKB_PAD);
			skb_put_data(skb, t->rxbuf + off, flen);
			/* TCP checked each segment; kTLS also its tag. */
			tscf_rx_mark_verified(skb);
			/* A work item is preemptible: per-CPU state needs BHs off. */
			local_bh_disable();
			tscf_tunnel_rx_frame(t, skb);
			local_bh_enable();
		} else {
			dev_core_stats_rx_dropped_inc(t->dev);
		}
		off += flen;
		frames++;
	}
	if (off) {
		memmove(t->rxbuf, t->rxbuf + off, t->rxlen - off);
		t->rxlen -= off;
	}
	return err ?: frames;
}

static void tscf_tcp_rx_unparsable(struct tscf_tunnel *t)
{
	netdev_warn_once(t->dev, "unparsable stream from the server: closing the tunnel\n");
	tscf_cnt_inc(t, TSCF_CNT_RX_MALFORMED);
	tscf_tunnel_schedule_down(t, TSCF_DOWN_PROTO_ERROR);
}

/*
 * tcp_read_sock()'s actor: copy a chunk into the receive buffer, cut
 * frames out of it, again until this skb's bytes are all taken.  An
 * unparsable stream stops the read (desc->error); the tunnel goes down.
 * desc->count is a budget of frames: once it is spent the actor takes
 * nothing more, which ends the read, even in the middle of an skb.
 */
static int tscf_tcp_read_actor(read_descriptor_t *desc, struct sk_buff *skb,
			       unsigned int offset, size_t len)
{
	struct tscf_tunnel *t = desc->arg.data;
	size_t taken = 0, n;
	int frames;

	if (desc->error || !desc->count)
		return 0;
	while (taken < len && desc->count) {
		n = min_t(size_t, min_t(size_t, len - taken, TSCF_RX_CHUNK),
			  TSCF_RXBUF_SIZE - t->rxlen);
		/* Two largest frames fit: a full buffer always parses. */
		if (!n || skb_copy_bits(skb, offset + taken, t->rxbuf + t->rxlen, n)) {
			desc->error = -EPROTO;
			break;
		}
		t->rxlen += n;
		taken += n;
		/* Atomic: the softirq's read and the worker's share this. */
		frames = tscf_tcp_parse(t, GFP_ATOMIC);
		if (frames < 0) {
			desc->error = -EPROTO;
			break;
		}
		desc->count -= min_t(size_t, desc->count, frames);
	}
	return taken;
}

/*
 * What the socket has, as frames; the caller holds the socket's lock
 * (bh_lock_sock in the receive softirq, or lock_sock).  The softirq
 * stops after a budget of frames and leaves the rest to rx_work: TCP
 * coalesces what fills a hole in its out-of-order queue into large skbs,
 * and a server's tiny frames must not hold a CPU for a receive buffer.
 */
static void tscf_tcp_read_frames(struct tscf_tunnel *t, bool softirq)
{
	read_descriptor_t desc = {
		.arg.data = t,
		.count = softirq ? TSCF_RX_SOFTIRQ_FRAMES : SIZE_MAX,
	};

	tcp_read_sock(t->sock->sk, &desc, tscf_tcp_read_actor);
	if (desc.error)
		tscf_tcp_rx_unparsable(t);
	else if (!desc.count)
		queue_work(tscf_wq, &t->rx_work);
}

/*
 * Clear TCP's worker: the bytes a task's hold on the socket kept from the
 * softirq, those queued before the tunnel was attached, and the end of
 * the stream (read_sock takes the FIN; recvmsg would have returned 0).
 */
static void tscf_tcp_rx_work_clear(struct work_struct *work)
{
	struct tscf_tunnel *t = container_of(work, struct tscf_tunnel, rx_work);
	struct sock *sk = t->sock->sk;
	u8 reason = 0;

	lock_sock(sk);
	if (!READ_ONCE(t->dead)) {
		tscf_tcp_read_frames(t, false);
		if (sk->sk_err)
			reason = TSCF_DOWN_SOCK_ERROR;
		else if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
			 skb_queue_empty(&sk->sk_receive_queue))
			reason = TSCF_DOWN_PEER_CLOSED;
	}
	release_sock(sk);
	if (reason)
		tscf_tunnel_schedule_down(t, reason);
}

static void tscf_tcp_rx_work(struct work_struct *work)
{
	struct tscf_tunnel *t = container_of(work, struct tscf_tunnel, rx_work);
	int i, n;

	for (i = 0; i < TSCF_RX_BUDGET; i++) {
		if (READ_ONCE(t->dead))
			return;
		n = tscf_tcp_recv(t);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			tscf_tunnel_schedule_down(t, TSCF_DOWN_PEER_CLOSED);
			return;
		}
		if (n < 0) {
			tscf_tunnel_schedule_down(t, n == -EPROTO || n == -EIO ||
						  n == -EBADMSG ?
						  TSCF_DOWN_PROTO_ERROR :
						  TSCF_DOWN_SOCK_ERROR);
			return;
		}
		t->rxlen += n;
		if (tscf_tcp_parse(t, GFP_KERNEL) < 0) {
			tscf_tcp_rx_unparsable(t);
			return;
		}
	}
	queue_work(tscf_wq, &t->rx_work);	/* more to read: yield first */
}

/* The skb's head and page fragments as one bio_vec array: no copy. */
static int tscf_skb_bvec(struct sk_buff *skb, struct bio_vec *bvec)
{
	int i, n = 0;

	if (skb_headlen(skb)) {
		bvec[n].bv_page = virt_to_page(skb->data);
		bvec[n].bv_offset = offset_in_page(skb->data);
		bvec[n].bv_len = skb_headlen(skb);
		n++;
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		bvec[n].bv_page = skb_frag_page(frag);
		bvec[n].bv_offset = skb_frag_off(frag);
		bvec[n].bv_len = skb_frag_size(frag);
		n++;
	}
	return n;
}

/*
 * 0 when the whole skb went out, -EAGAIN to resume later, else error.
 * locked: the caller holds bh_lock_sock, BHs off (the direct send).
 */
static int tscf_tcp_send_skb(struct tscf_tunnel *t, struct sk_buff *skb,
			     bool more, bool locked)
{
	struct bio_vec bvec[MAX_SKB_FRAGS + 1];
	struct msghdr msg = {};
	int n, ret;

	/* A frag_list is rare after segmentation: flatten it. */
	if (skb_has_frag_list(skb) && skb_linearize(skb))
		return -ENOMEM;
	n = tscf_skb_bvec(skb, bvec);

	while (t->tx_off < skb->len) {
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
				(more ? MSG_MORE : 0);
		iov_iter_bvec(&msg.msg_iter, WRITE, bvec, n, skb->len);
		iov_iter_advance(&msg.msg_iter, t->tx_off);
		/* MSG_NOSIGNAL matters: current is whichever task sent. */
		ret = locked ? tcp_sendmsg_locked(t->sock->sk, &msg,
						  msg_data_left(&msg)) :
			       sock_sendmsg(t->sock, &msg);
		if (ret < 0)
			return ret;
		t->tx_off += ret;
	}
	t->tx_off = 0;
	return 0;
}

static struct sk_buff *tscf_txq_peek(struct tscf_tunnel *t, bool *more)
{
	struct sk_buff *skb;

	spin_lock_bh(&t->txq.lock);
	skb = skb_peek(&t->txq);
	*more = skb && !skb_queue_is_last(&t->txq, skb);
	spin_unlock_bh(&t->txq.lock);
	return skb;
}

/* The queue and its byte count change together, in these three only. */
static void tscf_txq_tail(struct tscf_tunnel *t, struct sk_buff *skb)
{
	atomic_add(skb->len, &t->txq_bytes);
	skb_queue_tail(&t->txq, skb);
}

static void tscf_txq_head(struct tscf_tunnel *t, struct sk_buff *skb)
{
	atomic_add(skb->len, &t->txq_bytes);
	skb_queue_head(&t->txq, skb);
}

static void tscf_txq_unlink(struct tscf_tunnel *t, struct sk_buff *skb)
{
	skb_unlink(skb, &t->txq);
	atomic_sub(skb->len, &t->txq_bytes);
}

/* At or over MULT times the stop marks, in frames or in bytes. */
static bool tscf_txq_over(struct tscf_tunnel *t, unsigned int mult)
{
	return skb_queue_len_lockless(&t->txq) >= mult * TSCF_TXQ_STOP ||
	       atomic_read(&t->txq_bytes) >= mult * TSCF_TXQ_STOP_BYTES;
}

static bool tscf_txq_low(struct tscf_tunnel *t)
{
	return skb_queue_len_lockless(&t->txq) <= TSCF_TXQ_WAKE &&
	       atomic_read(&t->txq_bytes) <= TSCF_TXQ_WAKE_BYTES;
}

static void tscf_tcp_tx_wake(struct tscf_tunnel *t)
{
	struct tscf_dev *td = netdev_priv(t->dev);
	struct net_device *twin;

	if (!tscf_txq_low(t))
		return;
	if (netif_queue_stopped(t->dev))
		netif_wake_queue(t->dev);
	rcu_read_lock();
	twin = rcu_dereference(td->twin);
	if (twin && netif_queue_stopped(twin))
		netif_wake_queue(twin);
	rcu_read_unlock();
}

static bool tscf_tcp_tx_own(struct tscf_tunnel *t)
{
	return !test_and_set_bit_lock(TSCF_TX_BUSY, &t->tx_busy);
}

/* Let go of the socket; a frame queued meanwhile needs a writer. */
static void tscf_tcp_tx_release(struct tscf_tunnel *t)
{
	clear_bit_unlock(TSCF_TX_BUSY, &t->tx_busy);
	smp_mb__after_atomic();
	if (!skb_queue_empty_lockless(&t->txq))
		queue_work(tscf_wq, &t->tx_work);
}

static void tscf_tcp_tx_sent(struct tscf_tunnel *t, struct sk_buff *skb)
{
	dev_sw_netstats_tx_add(t->dev, 1, skb->len);
	consume_skb(skb);
}

static void tscf_tcp_tx_work(struct work_struct *work)
{
	struct tscf_tunnel *t = container_of(work, struct tscf_tunnel, tx_work);
	struct sk_buff *skb;
	bool more;
	int err;

	/* A direct send owns the socket: its release requeues us. */
	if (!tscf_tcp_tx_own(t))
		return;
	/*
	 * No direct send while we own it: the worker may sleep to reclaim,
	 * so memory pressure cannot leave a frame waiting for a write_space
	 * that nothing in flight will bring.
	 */
	WRITE_ONCE(t->sock->sk->sk_allocation, t->saved_allocation);
	while (!READ_ONCE(t->dead) && (skb = tscf_txq_peek(t, &more))) {
		err = tscf_tcp_send_skb(t, skb, more, false);
		if (err == -EAGAIN)
			break;		/* sk_write_space requeues us */
		if (err == -ENOMEM && !t->tx_off) {
			tscf_txq_unlink(t, skb);
			tscf_tunnel_tx_drop(t, skb);
			continue;
		}
		if (err) {
			tscf_tunnel_schedule_down(t, TSCF_DOWN_SOCK_ERROR);
			break;
		}
		tscf_txq_unlink(t, skb);
		local_bh_disable();	/* per-CPU stats, from a work item */
		tscf_tcp_tx_sent(t, skb);
		local_bh_enable();
		tscf_tcp_tx_wake(t);
	}
	if (t->transport == TSCF_TRANSPORT_TCP)
		WRITE_ONCE(t->sock->sk->sk_allocation, GFP_ATOMIC);
	clear_bit_unlock(TSCF_TX_BUSY, &t->tx_busy);
	tscf_tcp_tx_wake(t);
}

/*
 * Clear TCP: write skb now if nothing is queued ahead of it and no task
 * holds the socket.  false: the caller queues it.  BHs are off.
 */
static bool tscf_tcp_xmit_direct(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct sock *sk = t->sock->sk;
	int err;

	if (t->transport != TSCF_TRANSPORT_TCP ||
	    !skb_queue_empty_lockless(&t->txq) || !tscf_tcp_tx_own(t))
		return false;
	/* Owning the socket, the queue can only grow: look again. */
	if (!skb_queue_empty_lockless(&t->txq) || READ_ONCE(t->dead)) {
		tscf_tcp_tx_release(t);
		return false;
	}
	spin_lock_nested(&sk->sk_lock.slock, TSCF_TCP_TX_NESTING);
	if (sock_owned_by_user(sk)) {
		bh_unlock_sock(sk);
		tscf_tcp_tx_release(t);
		return false;
	}
	err = tscf_tcp_send_skb(t, skb, false, true);
	bh_unlock_sock(sk);

	if (!err) {
		tscf_tcp_tx_sent(t, skb);
	} else if (err == -EAGAIN) {
		/* The rest, first in line; sk_write_space calls tx_work. */
		tscf_txq_head(t, skb);
	} else {
		/* Part of a frame on the wire: the stream is cut. */
		if (err != -ENOMEM || t->tx_off)
			tscf_tunnel_schedule_down(t, TSCF_DOWN_SOCK_ERROR);
		t->tx_off = 0;
		tscf_tunnel_tx_drop(t, skb);
	}
	tscf_tcp_tx_release(t);
	return true;
}

/* Queue a frame; from ndo_start_xmit (BHs off) or CTRL_SEND. */
void tscf_tcp_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net_device *from = skb->dev;

	if (tscf_tcp_xmit_direct(t, skb))
		return;
	if (unlikely(tscf_txq_over(t, 4))) {
		/* Only a sender that ignores a stopped queue gets here. */
		tscf_tunnel_tx_drop(t, skb);
		return;
	}
	tscf_txq_tail(t, skb);
	if (tscf_txq_over(t, 1) && from &&
	    from->rtnl_link_ops == &tscf_link_ops) {
		netif_stop_queue(from);
		/* The worker may have drained the queue meanwhile. */
		smp_mb__after_atomic();
		if (tscf_txq_low(t))
			netif_wake_queue(from);
	}
	queue_work(tscf_wq, &t->tx_work);
}

/* Is sk a stream tunnel's socket?  Its callbacks are ours then. */
bool tscf_tcp_sock_is_tunnel(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP &&
	       READ_ONCE(sk->sk_data_ready) == tscf_tcp_data_ready;
}

/* Under lock_sock, with sk_user_data already claimed for t. */
int tscf_tcp_attach(struct tscf_tunnel *t)
{
	struct sock *sk = t->sock->sk;

	t->rxbuf = kvmalloc(TSCF_RXBUF_SIZE, GFP_KERNEL);
	if (!t->rxbuf)
		return -ENOMEM;
	INIT_WORK(&t->rx_work, t->transport == TSCF_TRANSPORT_TCP ?
		  tscf_tcp_rx_work_clear : tscf_tcp_rx_work);
	INIT_WORK(&t->tx_work, tscf_tcp_tx_work);

	/*
	 * The direct send allocates in atomic context (tx_work puts the
	 * socket's own flags back while it writes), and copies into the
	 * socket's own page fragment: current->task_frag belongs to
	 * whichever task the send interrupted or runs in (6.12's
	 * sk_page_frag() looks at sk_use_task_frag alone).
	 */
	t->saved_allocation = sk->sk_allocation;
	t->saved_use_task_frag = sk->sk_use_task_frag;
	/*
	 * TCP calls sk_data_ready only once SO_RCVLOWAT bytes are queued:
	 * with the helper's value, the frames at the end of a burst would
	 * wait for more bytes that may never come.  Every byte is ours.
	 */
	t->saved_rcvlowat = sk->sk_rcvlowat;
	WRITE_ONCE(sk->sk_rcvlowat, 1);
	if (t->transport == TSCF_TRANSPORT_TCP) {
		sk->sk_allocation = GFP_ATOMIC;
		sk->sk_use_task_frag = false;
	}

	write_lock_bh(&sk->sk_callback_lock);
	t->saved_data_ready = sk->sk_data_ready;
	t->saved_write_space = sk->sk_write_space;
	t->saved_state_change = sk->sk_state_change;
	WRITE_ONCE(sk->sk_data_ready, tscf_tcp_data_ready);
	sk->sk_write_space = tscf_tcp_write_space;
	sk->sk_state_change = tscf_tcp_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

void tscf_tcp_detach(struct tscf_tunnel *t)
{
	struct sock *sk = t->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_data_ready, t->saved_data_ready);
	sk->sk_write_space = t->saved_write_space;
	sk->sk_state_change = t->saved_state_change;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);

	synchronize_net();
	cancel_work_sync(&t->rx_work);
	cancel_work_sync(&t->tx_work);
	skb_queue_purge(&t->txq);
	atomic_set(&t->txq_bytes, 0);
	/* No direct send is left (synchronize_net): the socket's own again. */
	lock_sock(sk);
	sk->sk_allocation = t->saved_allocation;
	sk->sk_use_task_frag = t->saved_use_task_frag;
	WRITE_ONCE(sk->sk_rcvlowat, t->saved_rcvlowat);
	release_sock(sk);
	kvfree(t->rxbuf);
	t->rxbuf = NULL;
}
