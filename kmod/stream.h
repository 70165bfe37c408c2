/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A frame stream over a TCP socket, clear or with kTLS: the receive and
 * transmit machinery that a client's stream tunnel (tcp.c) and a server
 * device's stream peer share.  Its owner embeds a struct tscf_stream,
 * claims the socket's sk_user_data for it and is told, through
 * tscf_stream_ops, of each frame, each frame sent or dropped, the queue
 * running low and the stream's end.
 */
#ifndef _TSCF_STREAM_H
#define _TSCF_STREAM_H

#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <linux/tscf_frame.h>

/*
 * The frame queue stops its senders at TSCF_TXQ_STOP frames or
 * TSCF_TXQ_STOP_BYTES, whichever comes first, and lets them go once below
 * both WAKE marks; four times STOP drops.  The byte bound is what holds
 * with large frames: 256 super-frames of 64 KiB would be 16 MiB.
 */
#define TSCF_TXQ_STOP		256
#define TSCF_TXQ_WAKE		64
#define TSCF_TXQ_STOP_BYTES	(512 * 1024)
#define TSCF_TXQ_WAKE_BYTES	(128 * 1024)
/* A stream receive buffer holds at least one largest frame. */
#define TSCF_RXBUF_SIZE		(2 * TSCF_MAX_FRAME_LEN)
/*
 * A lean stream's (rx_in_worker, clear) buffer while no frame larger than
 * an MTU-sized packet is pending: it grows to TSCF_RXBUF_SIZE for one that
 * is, and is freed whenever it holds nothing (stream.c).
 */
#define TSCF_RXBUF_LEAN		SZ_8K

struct tscf_stream;

struct tscf_stream_ops {
	/* One whole frame (not checked beyond its length); BHs off. */
	void (*rx_frame)(struct tscf_stream *s, struct sk_buff *skb);
	/* A frame was cut but there was no memory to keep it. */
	void (*rx_dropped)(struct tscf_stream *s);
	/* Bytes that are not frames: the stream cannot go on. */
	void (*malformed)(struct tscf_stream *s);
	/*
	 * The stream is over (TSCF_DOWN_*): from any context, the owner
	 * detaches later, from process context.
	 */
	void (*down)(struct tscf_stream *s, u8 reason);
	/* skb went out whole (sent) or was dropped; BHs off.  Consumes it. */
	void (*tx_done)(struct tscf_stream *s, struct sk_buff *skb, bool sent);
	/* The queue fell below both wake marks: senders may go on. */
	void (*tx_wake)(struct tscf_stream *s);
	/*
	 * Optional: true while the owner can take no frame (rx_in_worker
	 * streams only).  The reader then cuts none and reads no more, so
	 * TCP closes the window; the owner calls tscf_stream_rx_resume().
	 */
	bool (*rx_held)(struct tscf_stream *s);
};

struct tscf_stream {
	struct socket *sock;
	const struct tscf_stream_ops *ops;
	bool tls;			/* kTLS: recvmsg/sendmsg from workers */
	/*
	 * Clear TCP too is read by rx_work only, never in the softirq that
	 * queued the bytes: set by an owner whose frames cost more to take
	 * than to queue (a server's), so that the work moves off the
	 * sender's CPU and is done for many frames at a time.
	 */
	bool rx_in_worker;
	unsigned long rx_active;	/* bit 0: rx_work is reading (stream.c) */
	bool dead;			/* READ_ONCE/WRITE_ONCE */
	struct sk_buff_head txq;
	atomic_t txq_bytes;		/* sum of skb->len over txq */
	unsigned int tx_off;		/* bytes of txq's head already sent */
	bool tx_cut;			/* a frame was cut short: send no more */
	unsigned long tx_busy;		/* bit 0: a sender owns the socket */
	gfp_t saved_allocation;		/* the socket's own sk_allocation */
	bool saved_use_task_frag;	/* and sk_use_task_frag */
	int saved_rcvlowat;		/* and sk_rcvlowat */
	struct work_struct tx_work;
	struct work_struct rx_work;
	u8 *rxbuf;			/* NULL: a lean stream holding nothing */
	size_t rxsize;			/* rxbuf's size */
	size_t rxlen;			/* bytes of an incomplete frame in it */
	bool rx_grow;			/* the read stopped: rxbuf is full */
	/*
	 * The stream did not parse: it is going down, and nothing more is
	 * read or cut (READ_ONCE/WRITE_ONCE; set by the reader).
	 */
	bool rx_broken;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
};

extern struct workqueue_struct *tscf_wq;

void tscf_stream_init(struct tscf_stream *s, const struct tscf_stream_ops *ops);
void tscf_stream_exit(void);
int tscf_stream_attach(struct tscf_stream *s, struct socket *sock, bool tls,
		       const void *rest, size_t rest_len);
void tscf_stream_start(struct tscf_stream *s);
void tscf_stream_rx_resume(struct tscf_stream *s);
void tscf_stream_detach(struct tscf_stream *s);
void tscf_stream_unhook(struct tscf_stream *s);
void tscf_stream_release(struct tscf_stream *s);
bool tscf_stream_xmit(struct tscf_stream *s, struct sk_buff *skb);
bool tscf_stream_txq_low(struct tscf_stream *s);
bool tscf_stream_txq_full(struct tscf_stream *s);
bool tscf_stream_sock_is_ours(const struct sock *sk);

static inline unsigned int tscf_stream_txq_bytes(struct tscf_stream *s)
{
	return atomic_read(&s->txq_bytes);
}

#endif /* _TSCF_STREAM_H */
