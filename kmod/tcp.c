// SPDX-License-Identifier: GPL-2.0
/*
 * A client's stream tunnels, TCP and TCP with kTLS (the encrypted twin):
 * a frame stream (stream.c) whose frames go to and come from a tscf
 * device.  This file is the glue: frames up to tunnel.c, counters, the
 * device queue stopped and woken with the stream's queue, the tunnel
 * taken down when the stream ends.
 */
#include <linux/netdevice.h>
#include <net/sock.h>

#include "device.h"
#include "tunnel.h"

static struct tscf_tunnel *tscf_tcp_tunnel(struct tscf_stream *s)
{
	return container_of(s, struct tscf_tunnel, stream);
}

static void tscf_tcp_rx_frame(struct tscf_stream *s, struct sk_buff *skb)
{
	tscf_tunnel_rx_frame(tscf_tcp_tunnel(s), skb);
}

static void tscf_tcp_rx_dropped(struct tscf_stream *s)
{
	dev_core_stats_rx_dropped_inc(tscf_tcp_tunnel(s)->dev);
}

static void tscf_tcp_malformed(struct tscf_stream *s)
{
	struct tscf_tunnel *t = tscf_tcp_tunnel(s);

	netdev_warn_once(t->dev, "unparsable stream from the server: closing the tunnel\n");
	tscf_cnt_inc(t, TSCF_CNT_RX_MALFORMED);
}

static void tscf_tcp_down(struct tscf_stream *s, u8 reason)
{
	tscf_tunnel_schedule_down(tscf_tcp_tunnel(s), reason);
}

static void tscf_tcp_tx_done(struct tscf_stream *s, struct sk_buff *skb,
			     bool sent)
{
	struct tscf_tunnel *t = tscf_tcp_tunnel(s);

	if (!sent) {
		tscf_tunnel_tx_drop(t, skb);
		return;
	}
	dev_sw_netstats_tx_add(t->dev, 1, skb->len);
	consume_skb(skb);
}

/* Both devices of the pair: a sender on either may have stopped. */
static void tscf_tcp_tx_wake(struct tscf_stream *s)
{
	struct tscf_tunnel *t = tscf_tcp_tunnel(s);
	struct tscf_dev *td = netdev_priv(t->dev);
	struct net_device *twin;

	if (netif_queue_stopped(t->dev))
		netif_wake_queue(t->dev);
	rcu_read_lock();
	twin = rcu_dereference(td->twin);
	if (twin && netif_queue_stopped(twin))
		netif_wake_queue(twin);
	rcu_read_unlock();
}

static const struct tscf_stream_ops tscf_tcp_stream_ops = {
	.rx_frame	= tscf_tcp_rx_frame,
	.rx_dropped	= tscf_tcp_rx_dropped,
	.malformed	= tscf_tcp_malformed,
	.down		= tscf_tcp_down,
	.tx_done	= tscf_tcp_tx_done,
	.tx_wake	= tscf_tcp_tx_wake,
};

/* A frame onto the stream; from ndo_start_xmit (BHs off) or CTRL_SEND. */
void tscf_tcp_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct net_device *from = skb->dev;

	if (!tscf_stream_xmit(&t->stream, skb) || !from ||
	    from->rtnl_link_ops != &tscf_link_ops)
		return;
	netif_stop_queue(from);
	/* The worker may have drained the queue meanwhile. */
	smp_mb__after_atomic();
	if (tscf_stream_txq_low(&t->stream))
		netif_wake_queue(from);
}

/* Under lock_sock, with sk_user_data already claimed for &t->stream. */
int tscf_tcp_attach(struct tscf_tunnel *t)
{
	tscf_stream_init(&t->stream, &tscf_tcp_stream_ops);
	return tscf_stream_attach(&t->stream, t->sock,
				  t->transport == TSCF_TRANSPORT_TLS, NULL, 0);
}

void tscf_tcp_detach(struct tscf_tunnel *t)
{
	tscf_stream_detach(&t->stream);
}
