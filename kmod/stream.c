// SPDX-License-Identifier: GPL-2.0
/*
 * Frame streams over TCP, clear or with kTLS (stream.h): what a client's
 * stream tunnel (tcp.c) and a server device's stream peer share.
 *
 * On a kTLS socket the TCP read_sock/sendpage paths would see ciphertext,
 * so kTLS uses only sock_recvmsg()/kernel_sendmsg(), from work items
 * because kTLS sleeps.  Frames delimit themselves (tscf_wire_frame_len(),
 * uapi/linux/tscf_frame.h).
 *
 * Receive, clear TCP: sk_data_ready reads the socket with tcp_read_sock()
 * in the softirq that queued the bytes, as strparser does: no worker hop
 * on the round trip.  A socket that a task holds (rx_work itself, or
 * tx_work's sendmsg) gets rx_work instead, which reads under lock_sock;
 * so does every read of a stream whose owner set rx_in_worker (a server
 * device's stream peers: the worker, on another CPU, takes many frames
 * at a time where the softirq would take each on the sender's CPU).
 * Receive, kTLS: only recvmsg() sees plaintext, and it sleeps, so
 * sk_data_ready queues rx_work, which reads into the same kind of buffer.
 * Either way one reader at a time cuts a per-stream buffer into frames:
 * the socket's lock (clear) or the one work item (kTLS) serializes them.
 * Transmit, clear TCP: a frame with nothing queued ahead of it is written
 * at once from the sender's context (BHs off, bh_lock_sock, as ovpn does),
 * unless a task holds the socket.  What cannot go now, and every kTLS
 * frame, is queued on s->txq; rx_work's twin, tx_work, writes the queue
 * with MSG_DONTWAIT.  Bit 0 of s->tx_busy makes one writer at a time own
 * the queue's head, so frames leave in order.  A partial write keeps its
 * offset and resumes from sk_write_space.  A long queue tells the sender
 * to stop (tscf_stream_xmit()), so a qdisc holds packets back instead of
 * dropping them.
 *
 * Lifetime: the owner claims sk_user_data for the stream, attaches under
 * lock_sock, starts it once published, and detaches it from process
 * context (which waits for every callback, work item and direct send).
 * s->dead is set first thing in detach; the workers test it so they
 * never requeue themselves on a dying stream.
 */
#include <linux/sizes.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tls.h>

#include <linux/tscf_genl.h>

#include "compat.h"
#include "stream.h"
#include "tunnel.h"

/* Frames moved per work run before yielding the worker. */
#define TSCF_RX_BUDGET	64
/*
 * Frames cut per softirq read before the rest goes to the worker, and
 * the bytes copied at a time, which bound how far past it a read goes.
 */
#define TSCF_RX_SOFTIRQ_FRAMES	256
#define TSCF_RX_CHUNK		SZ_16K
/* s->tx_busy: a writer (tx_work or a direct send) owns the socket. */
#define TSCF_TX_BUSY	0
/*
 * s->rx_active (rx_in_worker streams): rx_work reads, and looks at the
 * queue again before it stops, so bytes that arrive meanwhile need no
 * work queued: a busy stream costs the sender's CPU no wake-up per
 * segment.
 */
#define TSCF_RX_ACTIVE	0
/*
 * The lockdep subclass of a stream socket's bh lock taken on transmit:
 * the sender may hold its own socket's (TCP takes SINGLE_DEPTH_NESTING
 * in its receive path, whose ACKs can come through the stream).
 */
#define TSCF_TCP_TX_NESTING	(SINGLE_DEPTH_NESTING + 1)

static void tscf_stream_read_frames(struct tscf_stream *s, bool softirq);

/* The owner takes no frame now (tscf_stream_ops.rx_held). */
static bool tscf_stream_rx_held(struct tscf_stream *s)
{
	return s->ops->rx_held && s->ops->rx_held(s);
}

/*
 * A send copies the frame into a page fragment.  The socket's own
 * (sk_frag, since the direct send may not use the task's) would keep a
 * page of up to 32 KiB per connection for as long as it lives: 640 MiB
 * for 20,000 idle sessions on a server.  A direct send runs with BHs off,
 * so one fragment per CPU serves them all, lent to the socket for the
 * send (swapped in and back: a send nested in it, through a stacked
 * tunnel, does the same with what it finds, and restores it).  tx_work
 * writes with its own task's fragment.  Freed at module exit.
 */
static DEFINE_PER_CPU(struct page_frag, tscf_tx_frag);

void tscf_stream_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct page_frag *pf = per_cpu_ptr(&tscf_tx_frag, cpu);

		if (pf->page)
			put_page(pf->page);
		pf->page = NULL;
	}
}

static void tscf_stream_data_ready(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_stream *s;

	rcu_read_lock();
	s = rcu_dereference_sk_user_data(sk);
	if (s) {
		saved = s->saved_data_ready;
		/*
		 * Clear TCP, socket not held by a task: the caller holds
		 * bh_lock_sock (TCP's receive softirq), read here.
		 */
		if (!READ_ONCE(s->dead) && !READ_ONCE(s->rx_broken)) {
			if (!s->tls && !s->rx_in_worker &&
			    !sock_owned_by_user_nocheck(sk))
				tscf_stream_read_frames(s, true);
			else if (!s->rx_in_worker ||
				 (!test_bit(TSCF_RX_ACTIVE, &s->rx_active) &&
				  !tscf_stream_rx_held(s)))
				queue_work(tscf_wq, &s->rx_work);
		}
	}
	rcu_read_unlock();
	/* kTLS's own data_ready runs its record parser: always chain. */
	if (saved)
		saved(sk);
	else if (sk->sk_data_ready != tscf_stream_data_ready)
		sk->sk_data_ready(sk);
}

static void tscf_stream_write_space(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_stream *s;

	rcu_read_lock();
	s = rcu_dereference_sk_user_data(sk);
	if (s) {
		saved = s->saved_write_space;
		if (!READ_ONCE(s->dead))
			queue_work(tscf_wq, &s->tx_work);
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (sk->sk_write_space != tscf_stream_write_space)
		sk->sk_write_space(sk);
}

static void tscf_stream_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct tscf_stream *s;

	rcu_read_lock();
	s = rcu_dereference_sk_user_data(sk);
	if (s) {
		saved = s->saved_state_change;
		if (!READ_ONCE(s->dead)) {
			/*
			 * A FIN: drain what is left, rx_work sees the end.
			 * A reset or error: down at once.
			 */
			if (sk->sk_state == TCP_CLOSE_WAIT)
				queue_work(tscf_wq, &s->rx_work);
			else if (sk->sk_state == TCP_CLOSE)
				s->ops->down(s, sk->sk_err ?
					     TSCF_DOWN_SOCK_ERROR :
					     TSCF_DOWN_PEER_CLOSED);
		}
	}
	rcu_read_unlock();
	if (saved)
		saved(sk);
	else if (sk->sk_state_change != tscf_stream_state_change)
		sk->sk_state_change(sk);
}

/*
 * A server has a stream per client, most of them idle most of the time:
 * one that holds a whole receive buffer each would pin 128 KiB per
 * session (2.5 GiB for 20,000).  So a lean stream, read in process
 * context only (rx_in_worker, clear TCP), has a buffer only while part of
 * a frame waits in it: TSCF_RXBUF_LEAN at first, the full size once a
 * frame does not fit, freed when a read leaves nothing.
 */
static bool tscf_stream_rx_lean(const struct tscf_stream *s)
{
	return s->rx_in_worker && !s->tls;
}

/* A buffer with room for need bytes, what it held kept; process context. */
static int tscf_stream_rxbuf_fit(struct tscf_stream *s, size_t need)
{
	size_t size = need <= TSCF_RXBUF_LEAN ? TSCF_RXBUF_LEAN : TSCF_RXBUF_SIZE;
	u8 *buf;

	if (need <= s->rxsize)
		return 0;
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (s->rxlen)
		memcpy(buf, s->rxbuf, s->rxlen);
	kvfree(s->rxbuf);
	s->rxbuf = buf;
	s->rxsize = size;
	return 0;
}

static void tscf_stream_rxbuf_free(struct tscf_stream *s)
{
	kvfree(s->rxbuf);
	s->rxbuf = NULL;
	s->rxsize = 0;
}

/*
 * Read what the socket has into the receive buffer: bytes read, 0 at the
 * end of the stream, -EAGAIN when empty, -EPROTO for a TLS record that is
 * not application data (an alert), else the socket's error.
 */
static int tscf_stream_recv(struct tscf_stream *s)
{
	u8 cbuf[CMSG_SPACE(sizeof(u8))] __aligned(sizeof(size_t));
	struct kvec iov = {
		.iov_base = s->rxbuf + s->rxlen,
		.iov_len = s->rxsize - s->rxlen,
	};
	struct msghdr msg = {};
	int n;

	if (s->tls) {
		/* Without a control buffer kTLS fails non-data records. */
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		msg.msg_control_is_user = false;
	}
	n = kernel_recvmsg(s->sock, &msg, &iov, 1, iov.iov_len, MSG_DONTWAIT);
	if (n > 0 && s->tls &&
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
 * One frame's bytes as an skb.  A frame that fits a page is linear; a
 * larger one (a super-frame, up to 64 KiB) has its headers linear and the
 * rest in pages of at most PAGE_ALLOC_COSTLY_ORDER: no high-order
 * allocation in atomic context, and no 128 KiB block zeroed for 64 KiB.
 */
#define TSCF_FRAME_LINEAR_MAX	(SKB_WITH_OVERHEAD(PAGE_SIZE) - NET_SKB_PAD)
#define TSCF_FRAME_HEAD		128	/* IPv4 with options, TCP with options */

static struct sk_buff *tscf_stream_frame_skb(const u8 *data, size_t flen,
					     gfp_t gfp)
{
	size_t rest = flen - TSCF_FRAME_HEAD;
	struct sk_buff *skb;
	int err;

	if (flen <= TSCF_FRAME_LINEAR_MAX) {
		skb = alloc_skb(flen + NET_SKB_PAD, gfp);
		if (!skb)
			return NULL;
		skb_reserve(skb, NET_SKB_PAD);
		skb_put_data(skb, data, flen);
		return skb;
	}
	skb = alloc_skb_with_frags(NET_SKB_PAD + TSCF_FRAME_HEAD, rest,
				   PAGE_ALLOC_COSTLY_ORDER, &err, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, NET_SKB_PAD);
	skb_put_data(skb, data, TSCF_FRAME_HEAD);
	skb->data_len = rest;
	skb->len += rest;
	if (skb_store_bits(skb, TSCF_FRAME_HEAD, data + TSCF_FRAME_HEAD, rest)) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

/*
 * Cut the receive buffer into frames; keep an incomplete tail.  The
 * number of frames cut, or a negative error for an unparsable stream.
 */
static int tscf_stream_parse(struct tscf_stream *s, gfp_t gfp)
{
	size_t off = 0, flen;
	struct sk_buff *skb;
	int err = 0, frames = 0;

	while (off < s->rxlen) {
		/* The rest waits in the buffer for tscf_stream_rx_resume(). */
		if (tscf_stream_rx_held(s))
			break;
		err = tscf_wire_frame_len(s->rxbuf + off, s->rxlen - off, &flen);
		if (err == -EAGAIN || (!err && off + flen > s->rxlen)) {
			err = 0;
			break;
		}
		if (err)
			break;

		skb = tscf_stream_frame_skb(s->rxbuf + off, flen, gfp);
		if (skb) {
			/* TCP checked each segment; kTLS also its tag. */
			tscf_rx_mark_verified(skb);
			/* A work item is preemptible: per-CPU state needs BHs off. */
			local_bh_disable();
			s->ops->rx_frame(s, skb);
			local_bh_enable();
		} else {
			s->ops->rx_dropped(s);
		}
		off += flen;
		frames++;
	}
	if (off) {
		memmove(s->rxbuf, s->rxbuf + off, s->rxlen - off);
		s->rxlen -= off;
	}
	return err ?: frames;
}

/*
 * Once: the stream is marked broken, so that no reader copies or parses
 * its bytes again (each data_ready or worker round would) while the
 * owner takes it down.
 */
static void tscf_stream_rx_unparsable(struct tscf_stream *s)
{
	if (READ_ONCE(s->rx_broken))
		return;
	WRITE_ONCE(s->rx_broken, true);
	s->rxlen = 0;
	s->ops->malformed(s);
	s->ops->down(s, TSCF_DOWN_PROTO_ERROR);
}

/*
 * tcp_read_sock()'s actor: copy a chunk into the receive buffer, cut
 * frames out of it, again until this skb's bytes are all taken.  An
 * unparsable stream stops the read (desc->error); the stream goes down.
 * desc->count is a budget of frames: once it is spent the actor takes
 * nothing more, which ends the read, even in the middle of an skb.
 */
static int tscf_stream_read_actor(read_descriptor_t *desc, struct sk_buff *skb,
			       unsigned int offset, size_t len)
{
	struct tscf_stream *s = desc->arg.data;
	size_t taken = 0, n;
	int frames;

	if (desc->error || !desc->count)
		return 0;
	while (taken < len && desc->count) {
		if (tscf_stream_rx_held(s)) {
			desc->count = 0;
			break;
		}
		n = min_t(size_t, min_t(size_t, len - taken, TSCF_RX_CHUNK),
			  s->rxsize - s->rxlen);
		if (!n && tscf_stream_rx_lean(s) && s->rxsize < TSCF_RXBUF_SIZE) {
			/* The reader grows it (it may sleep) and reads on. */
			s->rx_grow = true;
			desc->count = 0;
			break;
		}
		/* Two largest frames fit: a full buffer always parses. */
		if (!n || skb_copy_bits(skb, offset + taken, s->rxbuf + s->rxlen, n)) {
			desc->error = -EPROTO;
			break;
		}
		s->rxlen += n;
		taken += n;
		/* Atomic: the softirq's read and the worker's share this. */
		frames = tscf_stream_parse(s, GFP_ATOMIC);
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
static void tscf_stream_read_frames(struct tscf_stream *s, bool softirq)
{
	read_descriptor_t desc = {
		.arg.data = s,
		.count = softirq ? TSCF_RX_SOFTIRQ_FRAMES : SIZE_MAX,
	};
	bool grow;

again:
	tcp_read_sock(s->sock->sk, &desc, tscf_stream_read_actor);
	grow = s->rx_grow;
	s->rx_grow = false;
	if (desc.error) {
		tscf_stream_rx_unparsable(s);
	} else if (grow) {
		/* A lean stream, in process context: room for one more frame. */
		if (!tscf_stream_rxbuf_fit(s, s->rxsize ? TSCF_RXBUF_SIZE : 1)) {
			desc.count = SIZE_MAX;
			goto again;
		}
		net_warn_ratelimited("tscf: no memory for a stream's receive buffer: closing it\n");
		s->ops->down(s, TSCF_DOWN_SOCK_ERROR);
	} else if (!desc.count && !tscf_stream_rx_held(s)) {
		queue_work(tscf_wq, &s->rx_work);
	}
}

/*
 * The frames a hold left in the buffer, first, in process context.
 * false: the stream is unparsable (and going down) or still held.
 */
static bool tscf_stream_rx_buffered(struct tscf_stream *s)
{
	if (READ_ONCE(s->rx_broken))
		return false;
	if (s->rxlen && tscf_stream_parse(s, GFP_KERNEL) < 0) {
		tscf_stream_rx_unparsable(s);
		return false;
	}
	return !tscf_stream_rx_held(s);
}

/*
 * Clear TCP's worker: the bytes a task's hold on the socket kept from the
 * softirq, those queued before the stream was attached, and the end of
 * the stream (read_sock takes the FIN; recvmsg would have returned 0).
 */
static void tscf_stream_rx_work_clear(struct work_struct *work)
{
	struct tscf_stream *s = container_of(work, struct tscf_stream, rx_work);
	struct sock *sk = s->sock->sk;
	unsigned int rounds = 0;
	u8 reason;

again:
	reason = 0;
	if (s->rx_in_worker)
		set_bit(TSCF_RX_ACTIVE, &s->rx_active);
	lock_sock(sk);
	if (!READ_ONCE(s->dead) && tscf_stream_rx_buffered(s)) {
		tscf_stream_read_frames(s, false);
		if (sk->sk_err)
			reason = TSCF_DOWN_SOCK_ERROR;
		/*
		 * The end, once every frame before it is cut: a held
		 * stream may have read the last bytes into its buffer.
		 */
		else if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
			 skb_queue_empty(&sk->sk_receive_queue) &&
			 !tscf_stream_rx_held(s))
			reason = TSCF_DOWN_PEER_CLOSED;
	}
	if (!s->rxlen && tscf_stream_rx_lean(s))
		tscf_stream_rxbuf_free(s);
	release_sock(sk);	/* the backlog's bytes: in the queue now */
	if (s->rx_in_worker) {
		clear_bit(TSCF_RX_ACTIVE, &s->rx_active);
		smp_mb__after_atomic();
		/* What sk_data_ready left to us while we were active. */
		if (!reason && !READ_ONCE(s->dead) && !READ_ONCE(s->rx_broken) &&
		    !tscf_stream_rx_held(s) &&
		    !skb_queue_empty_lockless(&sk->sk_receive_queue)) {
			if (++rounds < TSCF_RX_BUDGET)
				goto again;
			queue_work(tscf_wq, &s->rx_work);	/* yield first */
		}
	}
	if (reason)
		s->ops->down(s, reason);
}

static void tscf_stream_rx_work(struct work_struct *work)
{
	struct tscf_stream *s = container_of(work, struct tscf_stream, rx_work);
	int i, n;

	if (READ_ONCE(s->dead) || !tscf_stream_rx_buffered(s))
		return;
	for (i = 0; i < TSCF_RX_BUDGET; i++) {
		/* Held: recvmsg() into a full buffer would read as the end. */
		if (READ_ONCE(s->dead) || tscf_stream_rx_held(s))
			return;
		n = tscf_stream_recv(s);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			s->ops->down(s, TSCF_DOWN_PEER_CLOSED);
			return;
		}
		if (n < 0) {
			s->ops->down(s, n == -EPROTO || n == -EIO ||
				     n == -EBADMSG ? TSCF_DOWN_PROTO_ERROR :
				     TSCF_DOWN_SOCK_ERROR);
			return;
		}
		s->rxlen += n;
		if (tscf_stream_parse(s, GFP_KERNEL) < 0) {
			tscf_stream_rx_unparsable(s);
			return;
		}
	}
	queue_work(tscf_wq, &s->rx_work);	/* more to read: yield first */
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
static int tscf_stream_send_skb(struct tscf_stream *s, struct sk_buff *skb,
			     bool more, bool locked)
{
	struct bio_vec bvec[MAX_SKB_FRAGS + 1];
	struct msghdr msg = {};
	int n, ret;

	/* A frag_list is rare after segmentation: flatten it. */
	if (skb_has_frag_list(skb) && skb_linearize(skb))
		return -ENOMEM;
	n = tscf_skb_bvec(skb, bvec);

	while (s->tx_off < skb->len) {
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
				(more ? MSG_MORE : 0);
		iov_iter_bvec(&msg.msg_iter, WRITE, bvec, n, skb->len);
		iov_iter_advance(&msg.msg_iter, s->tx_off);
		/* MSG_NOSIGNAL matters: current is whichever task sent. */
		ret = locked ? tcp_sendmsg_locked(s->sock->sk, &msg,
						  msg_data_left(&msg)) :
			       sock_sendmsg(s->sock, &msg);
		if (ret < 0)
			return ret;
		/*
		 * Nothing taken and no error: never ask again at once (the
		 * direct send holds the socket's lock in a softirq); the
		 * next write_space resumes.
		 */
		if (!ret)
			return -EAGAIN;
		s->tx_off += ret;
	}
	s->tx_off = 0;
	return 0;
}

static struct sk_buff *tscf_txq_peek(struct tscf_stream *s, bool *more)
{
	struct sk_buff *skb;

	spin_lock_bh(&s->txq.lock);
	skb = skb_peek(&s->txq);
	*more = skb && !skb_queue_is_last(&s->txq, skb);
	spin_unlock_bh(&s->txq.lock);
	return skb;
}

/* The queue and its byte count change together, in these three only. */
static void tscf_txq_tail(struct tscf_stream *s, struct sk_buff *skb)
{
	atomic_add(skb->len, &s->txq_bytes);
	skb_queue_tail(&s->txq, skb);
}

static void tscf_txq_head(struct tscf_stream *s, struct sk_buff *skb)
{
	atomic_add(skb->len, &s->txq_bytes);
	skb_queue_head(&s->txq, skb);
}

static void tscf_txq_unlink(struct tscf_stream *s, struct sk_buff *skb)
{
	skb_unlink(skb, &s->txq);
	atomic_sub(skb->len, &s->txq_bytes);
}

/* At or over MULT times the stop marks, in frames or in bytes. */
static bool tscf_txq_over(struct tscf_stream *s, unsigned int mult)
{
	return skb_queue_len_lockless(&s->txq) >= mult * TSCF_TXQ_STOP ||
	       atomic_read(&s->txq_bytes) >= mult * TSCF_TXQ_STOP_BYTES;
}

static bool tscf_txq_low(struct tscf_stream *s)
{
	return skb_queue_len_lockless(&s->txq) <= TSCF_TXQ_WAKE &&
	       atomic_read(&s->txq_bytes) <= TSCF_TXQ_WAKE_BYTES;
}

bool tscf_stream_txq_low(struct tscf_stream *s)
{
	return tscf_txq_low(s);
}

/* Would tscf_stream_xmit() drop the next frame? */
bool tscf_stream_txq_full(struct tscf_stream *s)
{
	return tscf_txq_over(s, 4);
}

static void tscf_stream_tx_wake(struct tscf_stream *s)
{
	if (tscf_txq_low(s))
		s->ops->tx_wake(s);
}

static bool tscf_stream_tx_own(struct tscf_stream *s)
{
	return !test_and_set_bit_lock(TSCF_TX_BUSY, &s->tx_busy);
}

/* Let go of the socket; a frame queued meanwhile needs a writer. */
static void tscf_stream_tx_release(struct tscf_stream *s)
{
	clear_bit_unlock(TSCF_TX_BUSY, &s->tx_busy);
	smp_mb__after_atomic();
	if (!skb_queue_empty_lockless(&s->txq))
		queue_work(tscf_wq, &s->tx_work);
}

static void tscf_stream_tx_work(struct work_struct *work)
{
	struct tscf_stream *s = container_of(work, struct tscf_stream, tx_work);
	struct sk_buff *skb;
	bool more;
	int err;

	/* A direct send owns the socket: its release requeues us. */
	if (!tscf_stream_tx_own(s))
		return;
	/*
	 * No direct send while we own it: the worker may sleep to reclaim,
	 * so memory pressure cannot leave a frame waiting for a write_space
	 * that nothing in flight will bring.
	 */
	WRITE_ONCE(s->sock->sk->sk_allocation, s->saved_allocation);
	s->sock->sk->sk_use_task_frag = true;	/* the worker's own */
	while (!READ_ONCE(s->dead) && (skb = tscf_txq_peek(s, &more))) {
		err = tscf_stream_send_skb(s, skb, more, false);
		if (err == -EAGAIN)
			break;		/* sk_write_space requeues us */
		if (err == -ENOMEM && !s->tx_off) {
			tscf_txq_unlink(s, skb);
			local_bh_disable();
			s->ops->tx_done(s, skb, false);
			local_bh_enable();
			continue;
		}
		if (err) {
			s->ops->down(s, TSCF_DOWN_SOCK_ERROR);
			break;
		}
		tscf_txq_unlink(s, skb);
		local_bh_disable();	/* per-CPU stats, from a work item */
		s->ops->tx_done(s, skb, true);
		local_bh_enable();
		tscf_stream_tx_wake(s);
	}
	if (!s->tls) {
		WRITE_ONCE(s->sock->sk->sk_allocation, GFP_ATOMIC);
		s->sock->sk->sk_use_task_frag = false;
	}
	clear_bit_unlock(TSCF_TX_BUSY, &s->tx_busy);
	tscf_stream_tx_wake(s);
}

/*
 * Clear TCP: write skb now if nothing is queued ahead of it and no task
 * holds the socket.  false: the caller queues it.  BHs are off.
 */
static bool tscf_stream_xmit_direct(struct tscf_stream *s, struct sk_buff *skb)
{
	struct sock *sk = s->sock->sk;
	int err;

	if (s->tls ||
	    !skb_queue_empty_lockless(&s->txq) || !tscf_stream_tx_own(s))
		return false;
	/* Owning the socket, the queue can only grow: look again. */
	if (!skb_queue_empty_lockless(&s->txq) || READ_ONCE(s->dead)) {
		tscf_stream_tx_release(s);
		return false;
	}
	spin_lock_nested(&sk->sk_lock.slock, TSCF_TCP_TX_NESTING);
	if (sock_owned_by_user(sk)) {
		bh_unlock_sock(sk);
		tscf_stream_tx_release(s);
		return false;
	}
	swap(sk->sk_frag, *this_cpu_ptr(&tscf_tx_frag));
	err = tscf_stream_send_skb(s, skb, false, true);
	swap(sk->sk_frag, *this_cpu_ptr(&tscf_tx_frag));
	bh_unlock_sock(sk);

	if (!err) {
		s->ops->tx_done(s, skb, true);
	} else if (err == -EAGAIN) {
		/* The rest, first in line; sk_write_space calls tx_work. */
		tscf_txq_head(s, skb);
	} else {
		/* Part of a frame on the wire: the stream is cut. */
		if (err != -ENOMEM || s->tx_off) {
			s->tx_cut = true;
			s->ops->down(s, TSCF_DOWN_SOCK_ERROR);
		}
		s->tx_off = 0;
		s->ops->tx_done(s, skb, false);
	}
	tscf_stream_tx_release(s);
	return true;
}

/*
 * Send a frame, now or after what is queued; BHs off.  Consumes skb.
 * true: the queue is over its stop marks, the caller should stop sending
 * until tx_wake (and check tscf_stream_txq_low() once it has stopped).
 */
bool tscf_stream_xmit(struct tscf_stream *s, struct sk_buff *skb)
{
	if (tscf_stream_xmit_direct(s, skb))
		return false;
	if (unlikely(tscf_txq_over(s, 4))) {
		/* Only a sender that ignores a stopped queue gets here. */
		s->ops->tx_done(s, skb, false);
		return true;
	}
	tscf_txq_tail(s, skb);
	queue_work(tscf_wq, &s->tx_work);
	return tscf_txq_over(s, 1);
}

/* Is sk a stream's socket?  Its callbacks are ours then. */
bool tscf_stream_sock_is_ours(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP &&
	       READ_ONCE(sk->sk_data_ready) == tscf_stream_data_ready;
}

void tscf_stream_init(struct tscf_stream *s, const struct tscf_stream_ops *ops)
{
	s->ops = ops;
	skb_queue_head_init(&s->txq);
}

/*
 * Take the socket's callbacks; under lock_sock, with sk_user_data already
 * claimed for s.  rest: bytes already read from the socket (the start of
 * a frame), cut first; less than one largest frame.  The socket's queued
 * bytes wait for tscf_stream_start().
 */
int tscf_stream_attach(struct tscf_stream *s, struct socket *sock, bool tls,
		       const void *rest, size_t rest_len)
{
	struct sock *sk = sock->sk;

	if (rest_len >= TSCF_MAX_FRAME_LEN)
		return -EINVAL;
	s->sock = sock;
	s->tls = tls;
	s->rxlen = 0;
	s->rx_broken = false;
	if (tscf_stream_rxbuf_fit(s, tscf_stream_rx_lean(s) ? rest_len :
				  TSCF_RXBUF_SIZE))
		return -ENOMEM;
	if (rest_len)
		memcpy(s->rxbuf, rest, rest_len);
	s->rxlen = rest_len;
	INIT_WORK(&s->rx_work, tls ? tscf_stream_rx_work : tscf_stream_rx_work_clear);
	INIT_WORK(&s->tx_work, tscf_stream_tx_work);
	/*
	 * The direct send allocates in atomic context (tx_work puts the
	 * socket's own flags back while it writes), and copies into
	 * sk_frag, where it lends the CPU's fragment (tscf_tx_frag):
	 * current->task_frag belongs to whichever task the send
	 * interrupted or runs in (6.12's sk_page_frag() looks at
	 * sk_use_task_frag alone).
	 */
	s->saved_allocation = sk->sk_allocation;
	s->saved_use_task_frag = sk->sk_use_task_frag;
	/*
	 * TCP calls sk_data_ready only once SO_RCVLOWAT bytes are queued:
	 * with the helper's value, the frames at the end of a burst would
	 * wait for more bytes that may never come.  Every byte is ours.
	 */
	s->saved_rcvlowat = sk->sk_rcvlowat;
	WRITE_ONCE(sk->sk_rcvlowat, 1);
	if (!tls) {
		sk->sk_allocation = GFP_ATOMIC;
		sk->sk_use_task_frag = false;
	}

	write_lock_bh(&sk->sk_callback_lock);
	s->saved_data_ready = sk->sk_data_ready;
	s->saved_write_space = sk->sk_write_space;
	s->saved_state_change = sk->sk_state_change;
	WRITE_ONCE(sk->sk_data_ready, tscf_stream_data_ready);
	sk->sk_write_space = tscf_stream_write_space;
	sk->sk_state_change = tscf_stream_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

/* The bytes queued before the attach, and the end of the stream. */
void tscf_stream_start(struct tscf_stream *s)
{
	queue_work(tscf_wq, &s->rx_work);
}

/* The owner takes frames again: what is buffered, then the socket. */
void tscf_stream_rx_resume(struct tscf_stream *s)
{
	if (!READ_ONCE(s->dead))
		queue_work(tscf_wq, &s->rx_work);
}

/*
 * The queue, once nothing else sends on the socket (the workers stopped,
 * a grace period since the unhook), handed to TCP whole and in order, as
 * close() leaves a send buffer to TCP: a delete must not eat the frames
 * sent just before it (tscfd answers a RELEASE_REQ, then deletes the
 * peer).  The send buffer is raised for them, as SO_SNDBUFFORCE would:
 * the queue is bounded (TSCF_TXQ_STOP_BYTES), and its memory is only
 * moving to TCP.  Never waits: a client that reads nothing holds TCP's
 * buffer, as any peer that stops reading does, not the reaper.  Nothing
 * follows a frame that could not be finished (cut); what does not go is
 * dropped and counted.
 */
static void tscf_stream_tx_flush(struct tscf_stream *s)
{
	struct sock *sk = s->sock->sk;
	bool go = !s->tx_cut;
	struct sk_buff *skb;
	int sndbuf, need;
	bool more;

	if (skb_queue_empty(&s->txq))
		return;
	lock_sock(sk);
	sndbuf = sk->sk_sndbuf;
	need = sk->sk_wmem_queued + 2 * atomic_read(&s->txq_bytes) +
	       skb_queue_len(&s->txq) * SKB_TRUESIZE(MAX_TCP_HEADER);
	WRITE_ONCE(sk->sk_sndbuf, max(sndbuf, need));
	release_sock(sk);
	/* Each frame pushed (no MSG_MORE): the last may be the last sent. */
	while ((skb = tscf_txq_peek(s, &more))) {
		if (go)
			go = !tscf_stream_send_skb(s, skb, false, false);
		tscf_txq_unlink(s, skb);
		local_bh_disable();	/* per-CPU stats, from a work item */
		s->ops->tx_done(s, skb, go);
		local_bh_enable();
	}
	s->tx_off = 0;
	lock_sock(sk);
	WRITE_ONCE(sk->sk_sndbuf, sndbuf);
	release_sock(sk);
}

/*
 * The first half of a detach: the socket's callbacks are its own again,
 * and s is dead, so no callback that starts from now on reaches s.
 * Process context; the owner has unpublished s (no new sends).
 */
void tscf_stream_unhook(struct tscf_stream *s)
{
	struct sock *sk = s->sock->sk;

	WRITE_ONCE(s->dead, true);
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(sk->sk_data_ready, s->saved_data_ready);
	sk->sk_write_space = s->saved_write_space;
	sk->sk_state_change = s->saved_state_change;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Process context; the owner has unpublished s (no new sends). */
void tscf_stream_detach(struct tscf_stream *s)
{
	tscf_stream_unhook(s);
	synchronize_net();
	tscf_stream_release(s);
}

/*
 * The second half, once a grace period has passed since the unhook (no
 * callback or direct send is still running): stop the workers, drop the
 * queue, give the socket its own settings back.  Process context.
 */
void tscf_stream_release(struct tscf_stream *s)
{
	struct sock *sk = s->sock->sk;

	cancel_work_sync(&s->rx_work);
	cancel_work_sync(&s->tx_work);
	/* No direct send is left (a grace period): the socket's own again. */
	lock_sock(sk);
	sk->sk_allocation = s->saved_allocation;
	sk->sk_use_task_frag = s->saved_use_task_frag;
	WRITE_ONCE(sk->sk_rcvlowat, s->saved_rcvlowat);
	release_sock(sk);
	tscf_stream_tx_flush(s);
	tscf_stream_rxbuf_free(s);
}
