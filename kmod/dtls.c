// SPDX-License-Identifier: GPL-2.0
/*
 * DTLS 1.2 records for the encrypted twin (RFC 6347, RFC 5288 AES-GCM):
 * the kTLS split applied to datagrams.  tscfctl does the handshake with
 * OpenSSL on a connected UDP socket, derives the record keys from the
 * session, and hands the socket, the keys, the epoch and the next
 * sequence numbers to the module.  From then on each frame is one record
 * of type 23 (application_data) in one UDP datagram, sent through the
 * UDP tunnel path of udp.c and received in its encapsulation hook.
 *
 * Record:  type(1) version(2, 0xfefd) epoch(2) seq(6) length(2)
 *          explicit nonce(8) = epoch||seq, ciphertext, tag(16)
 * Nonce:   implicit salt(4) || explicit nonce(8)
 * AAD:     epoch||seq(8) type(1) version(2) plaintext length(2)
 *
 * Fail closed: a record of another version or epoch, of a type other
 * than application_data or alert, or not exactly one record in the
 * datagram, is dropped (rx-malformed); one whose tag does not verify is
 * dropped silently (rx-auth-failed, never an answer to the peer); one
 * already seen or left behind by the window is dropped (rx-replayed).
 * The window moves only after the tag verified, so forged records
 * cannot push it.  An authenticated close_notify or fatal alert takes
 * the tunnel down; the helper then makes a new one.  When the write
 * sequence would pass 2^48 - 1 nothing more is sent and the tunnel goes
 * down (proto-error): a sequence number is never reused under one key.
 *
 * The AEAD is synchronous (CRYPTO_ALG_ASYNC in the mask): both paths run
 * with BHs off and finish before they return; the key lives in the tfm,
 * which crypto_free_aead() frees with kfree_sensitive().
 *
 * Lifetime: t->dtls is made before the socket's encap hook is set and
 * freed after udp.c's detach has waited for every reader (synchronize_net).
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/udp.h>

#include "compat.h"
#include "device.h"
#include "tunnel.h"

#define TSCF_DTLS_TYPE_ALERT	21
#define TSCF_DTLS_TYPE_DATA	23
#define TSCF_DTLS_VERSION	0xfefd		/* DTLS 1.2 */
#define TSCF_DTLS_HDR_LEN	13
#define TSCF_DTLS_SALT_LEN	4
#define TSCF_DTLS_EXPLICIT_LEN	8
#define TSCF_DTLS_TAG_LEN	16
#define TSCF_DTLS_AAD_LEN	13
#define TSCF_DTLS_IV_LEN	(TSCF_DTLS_SALT_LEN + TSCF_DTLS_EXPLICIT_LEN)
#define TSCF_DTLS_OVERHEAD	(TSCF_DTLS_HDR_LEN + TSCF_DTLS_EXPLICIT_LEN + \
				 TSCF_DTLS_TAG_LEN)
#define TSCF_DTLS_SEQ_MAX	((1ULL << 48) - 1)
#define TSCF_DTLS_WINDOW	64	/* bits of rx_seen */

#define TSCF_ALERT_FATAL	2
#define TSCF_ALERT_CLOSE_NOTIFY	0

struct tscf_dtls {
	struct crypto_aead *tx_aead;
	struct crypto_aead *rx_aead;
	u8 tx_salt[TSCF_DTLS_SALT_LEN];
	u8 rx_salt[TSCF_DTLS_SALT_LEN];
	u16 epoch;
	atomic64_t tx_seq;		/* the next sequence number written */

	/* Anti-replay (RFC 6347 4.1.2.6): bit i of rx_seen is rx_top - i. */
	spinlock_t rx_lock;
	u64 rx_top;
	u64 rx_seen;

	atomic64_t rx_auth_failed;
	atomic64_t rx_replayed;
};

static struct crypto_aead *tscf_dtls_aead(const u8 *key, unsigned int len)
{
	struct crypto_aead *aead;
	int err;

	aead = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_ALG_ASYNC);
	if (IS_ERR(aead))
		return aead;
	err = crypto_aead_setkey(aead, key, len);
	if (!err)
		err = crypto_aead_setauthsize(aead, TSCF_DTLS_TAG_LEN);
	if (err) {
		crypto_free_aead(aead);
		return ERR_PTR(err);
	}
	return aead;
}

void tscf_dtls_free(struct tscf_dtls *d)
{
	if (!d)
		return;
	if (!IS_ERR_OR_NULL(d->tx_aead))
		crypto_free_aead(d->tx_aead);
	if (!IS_ERR_OR_NULL(d->rx_aead))
		crypto_free_aead(d->rx_aead);
	kfree_sensitive(d);
}

/* Every sequence number below rx_seq counts as seen. */
static void tscf_dtls_window_init(struct tscf_dtls *d, u64 rx_seq)
{
	spin_lock_init(&d->rx_lock);
	d->rx_top = rx_seq ? rx_seq - 1 : 0;
	d->rx_seen = rx_seq ? ~0ULL : 0;
}

struct tscf_dtls *tscf_dtls_new(const struct tscf_dtls_cfg *cfg,
				struct netlink_ext_ack *extack)
{
	struct tscf_dtls *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return ERR_PTR(-ENOMEM);
	d->tx_aead = tscf_dtls_aead(cfg->tx_key, cfg->key_len);
	d->rx_aead = IS_ERR(d->tx_aead) ? NULL :
		     tscf_dtls_aead(cfg->rx_key, cfg->key_len);
	if (IS_ERR(d->tx_aead) || IS_ERR(d->rx_aead)) {
		int err = PTR_ERR(IS_ERR(d->tx_aead) ? d->tx_aead : d->rx_aead);

		NL_SET_ERR_MSG_MOD(extack, "kernel has no usable gcm(aes)");
		tscf_dtls_free(d);
		return ERR_PTR(err);
	}
	memcpy(d->tx_salt, cfg->tx_salt, TSCF_DTLS_SALT_LEN);
	memcpy(d->rx_salt, cfg->rx_salt, TSCF_DTLS_SALT_LEN);
	d->epoch = cfg->epoch;
	atomic64_set(&d->tx_seq, cfg->tx_seq);
	tscf_dtls_window_init(d, cfg->rx_seq);
	return d;
}

u64 tscf_dtls_rx_auth_failed(const struct tscf_dtls *d)
{
	return atomic64_read(&d->rx_auth_failed);
}

u64 tscf_dtls_rx_replayed(const struct tscf_dtls *d)
{
	return atomic64_read(&d->rx_replayed);
}

/* Is seq new to the window?  Under rx_lock, or as a cheap early test. */
static bool tscf_dtls_window_fresh(const struct tscf_dtls *d, u64 seq)
{
	u64 top = READ_ONCE(d->rx_top), back;

	if (seq > top)
		return true;
	back = top - seq;
	return back < TSCF_DTLS_WINDOW && !(READ_ONCE(d->rx_seen) & BIT_ULL(back));
}

/*
 * Mark seq seen, once its record authenticated; false if another CPU
 * took the same record meanwhile.
 */
static bool tscf_dtls_window_take(struct tscf_dtls *d, u64 seq)
{
	bool fresh;

	spin_lock(&d->rx_lock);
	fresh = tscf_dtls_window_fresh(d, seq);
	if (fresh && seq > d->rx_top) {
		u64 shift = seq - d->rx_top;

		d->rx_seen = shift >= TSCF_DTLS_WINDOW ? 0 : d->rx_seen << shift;
		d->rx_seen |= 1;
		d->rx_top = seq;
	} else if (fresh) {
		d->rx_seen |= BIT_ULL(d->rx_top - seq);
	}
	spin_unlock(&d->rx_lock);
	return fresh;
}

/* epoch||seq, the first 8 bytes of the AAD and the explicit nonce. */
static void tscf_dtls_put_seq(u8 *p, u16 epoch, u64 seq)
{
	put_unaligned_be16(epoch, p);
	put_unaligned_be16(seq >> 32, p + 2);
	put_unaligned_be32((u32)seq, p + 4);
}

static void tscf_dtls_put_aad(u8 *aad, u16 epoch, u64 seq, u8 type, u16 len)
{
	tscf_dtls_put_seq(aad, epoch, seq);
	aad[8] = type;
	put_unaligned_be16(TSCF_DTLS_VERSION, aad + 9);
	put_unaligned_be16(len, aad + 11);
}

/*
 * One AEAD operation in place over buf = AAD || text || tag; text_len
 * without the tag.  Synchronous tfm: done when it returns.
 */
static int tscf_dtls_crypt(struct crypto_aead *aead, const u8 *salt,
			   const u8 *explicit, u8 *buf, unsigned int text_len,
			   bool enc)
{
	struct aead_request *req;
	struct scatterlist sg;
	u8 *iv;
	int err;

	req = kmalloc(sizeof(*req) + crypto_aead_reqsize(aead) +
		      TSCF_DTLS_IV_LEN, GFP_ATOMIC);
	if (!req)
		return -ENOMEM;
	iv = (u8 *)(req + 1) + crypto_aead_reqsize(aead);
	memcpy(iv, salt, TSCF_DTLS_SALT_LEN);
	memcpy(iv + TSCF_DTLS_SALT_LEN, explicit, TSCF_DTLS_EXPLICIT_LEN);

	sg_init_one(&sg, buf, TSCF_DTLS_AAD_LEN + text_len + TSCF_DTLS_TAG_LEN);
	aead_request_set_tfm(req, aead);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, TSCF_DTLS_AAD_LEN);
	aead_request_set_crypt(req, &sg, &sg,
			       enc ? text_len : text_len + TSCF_DTLS_TAG_LEN, iv);
	err = enc ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	kfree_sensitive(req);	/* the request holds GHASH state of the key */
	return err;
}

/* A private, linear skb with room for the record around its data. */
static int tscf_dtls_make_room(struct sk_buff *skb)
{
	int head, tail;

	if (skb_linearize(skb))
		return -ENOMEM;
	head = TSCF_DTLS_HDR_LEN + TSCF_DTLS_EXPLICIT_LEN - skb_headroom(skb);
	tail = TSCF_DTLS_TAG_LEN - skb_tailroom(skb);
	if (head > 0 || tail > 0 || skb_cloned(skb))
		return pskb_expand_head(skb, max(head, 0), max(tail, 0), GFP_ATOMIC);
	return 0;
}

/*
 * Seal skb (one frame) into one application_data record.  The AAD is
 * written just in front of the plaintext, over where the header's tail
 * and the explicit nonce go, so that AAD, text and tag are one span;
 * the header is written once the tag is.
 */
static int tscf_dtls_seal(struct tscf_dtls *d, struct sk_buff *skb, u64 seq)
{
	unsigned int len = skb->len;
	u8 explicit[TSCF_DTLS_EXPLICIT_LEN];
	u8 *hdr;
	int err;

	if (len > U16_MAX - TSCF_DTLS_EXPLICIT_LEN - TSCF_DTLS_TAG_LEN)
		return -EMSGSIZE;
	err = tscf_dtls_make_room(skb);
	if (err)
		return err;
	hdr = skb_push(skb, TSCF_DTLS_HDR_LEN + TSCF_DTLS_EXPLICIT_LEN);
	skb_put(skb, TSCF_DTLS_TAG_LEN);
	tscf_dtls_put_seq(explicit, d->epoch, seq);
	tscf_dtls_put_aad(hdr + 8, d->epoch, seq, TSCF_DTLS_TYPE_DATA, len);
	err = tscf_dtls_crypt(d->tx_aead, d->tx_salt, explicit, hdr + 8, len, true);
	if (err)
		return err;
	hdr[0] = TSCF_DTLS_TYPE_DATA;
	put_unaligned_be16(TSCF_DTLS_VERSION, hdr + 1);
	tscf_dtls_put_seq(hdr + 3, d->epoch, seq);
	put_unaligned_be16(len + TSCF_DTLS_EXPLICIT_LEN + TSCF_DTLS_TAG_LEN,
			   hdr + 11);
	memcpy(hdr + TSCF_DTLS_HDR_LEN, explicit, TSCF_DTLS_EXPLICIT_LEN);
	return 0;
}

/* BHs off; consumes skb. */
void tscf_dtls_xmit(struct tscf_tunnel *t, struct sk_buff *skb)
{
	struct tscf_dtls *d = t->dtls;
	u64 seq = atomic64_fetch_inc(&d->tx_seq);

	if (unlikely(seq > TSCF_DTLS_SEQ_MAX)) {
		/* Never reuse a nonce: this key is done. */
		tscf_tunnel_schedule_down(t, TSCF_DOWN_PROTO_ERROR);
		goto drop;
	}
	if (tscf_dtls_seal(d, skb, seq))
		goto drop;
	/*
	 * The record is the tunnel's datagram, no longer the application's
	 * packet: under the application socket's name, the egress check
	 * (flow.c) would refuse an encrypted-only socket's record on the
	 * outer device.
	 */
	skb_orphan(skb);
	tscf_udp_xmit(t, skb);
	return;
drop:
	tscf_tunnel_tx_drop(t, skb);
}

struct tscf_dtls_rec {
	u8 type;
	u64 seq;
	unsigned int text_len;		/* plaintext, without nonce and tag */
};

/* The record header at off; false if it is not one record we take. */
static bool tscf_dtls_parse(const struct tscf_dtls *d, const struct sk_buff *skb,
			    unsigned int off, struct tscf_dtls_rec *r)
{
	const u8 *h = skb->data + off;
	unsigned int len = get_unaligned_be16(h + 11);

	r->type = h[0];
	r->seq = ((u64)get_unaligned_be16(h + 5) << 32) | get_unaligned_be32(h + 7);
	if (get_unaligned_be16(h + 1) != TSCF_DTLS_VERSION ||
	    get_unaligned_be16(h + 3) != d->epoch ||
	    (r->type != TSCF_DTLS_TYPE_DATA && r->type != TSCF_DTLS_TYPE_ALERT) ||
	    len != skb->len - off - TSCF_DTLS_HDR_LEN ||
	    len < TSCF_DTLS_EXPLICIT_LEN + TSCF_DTLS_TAG_LEN)
		return false;
	r->text_len = len - TSCF_DTLS_EXPLICIT_LEN - TSCF_DTLS_TAG_LEN;
	return true;
}

/* Open the record in place: AAD over the header's tail and the nonce. */
static int tscf_dtls_open(struct tscf_dtls *d, struct sk_buff *skb,
			  unsigned int off, const struct tscf_dtls_rec *r)
{
	u8 *hdr = skb->data + off;
	u8 explicit[TSCF_DTLS_EXPLICIT_LEN];

	memcpy(explicit, hdr + TSCF_DTLS_HDR_LEN, TSCF_DTLS_EXPLICIT_LEN);
	tscf_dtls_put_aad(hdr + 8, d->epoch, r->seq, r->type, r->text_len);
	return tscf_dtls_crypt(d->rx_aead, d->rx_salt, explicit, hdr + 8,
			       r->text_len, false);
}

/* An authenticated alert: close_notify or fatal ends the tunnel. */
static void tscf_dtls_rx_alert(struct tscf_tunnel *t, struct sk_buff *skb)
{
	if (skb->len == 2 && skb->data[1] == TSCF_ALERT_CLOSE_NOTIFY)
		tscf_tunnel_schedule_down(t, TSCF_DOWN_PEER_CLOSED);
	else if (skb->len != 2 || skb->data[0] == TSCF_ALERT_FATAL)
		tscf_tunnel_schedule_down(t, TSCF_DOWN_PROTO_ERROR);
	consume_skb(skb);
}

static void tscf_dtls_rx_drop(struct tscf_tunnel *t, struct sk_buff *skb,
			      atomic64_t *counter)
{
	if (counter)
		atomic64_inc(counter);
	else
		tscf_cnt_inc(t, TSCF_CNT_RX_MALFORMED);
	dev_core_stats_rx_dropped_inc(t->dev);
	kfree_skb(skb);
}

/*
 * From udp.c's encap hook, skb->data at the UDP header; consumes skb.
 * Softirq.
 */
void tscf_dtls_rx(struct tscf_tunnel *t, struct sk_buff *skb)
{
	const unsigned int off = sizeof(struct udphdr);
	struct tscf_dtls *d = t->dtls;
	struct tscf_dtls_rec r;
	int err;

	if (!pskb_may_pull(skb, off + TSCF_DTLS_HDR_LEN) ||
	    !tscf_dtls_parse(d, skb, off, &r)) {
		tscf_dtls_rx_drop(t, skb, NULL);
		return;
	}
	if (!tscf_dtls_window_fresh(d, r.seq)) {
		tscf_dtls_rx_drop(t, skb, &d->rx_replayed);
		return;
	}
	/* In place: a clone (a capture's) or shared pages get a copy first. */
	if (skb_linearize_cow(skb)) {
		tscf_dtls_rx_drop(t, skb, NULL);
		return;
	}
	err = tscf_dtls_open(d, skb, off, &r);
	if (err) {
		tscf_dtls_rx_drop(t, skb, err == -EBADMSG ? &d->rx_auth_failed : NULL);
		return;
	}
	if (!tscf_dtls_window_take(d, r.seq)) {
		tscf_dtls_rx_drop(t, skb, &d->rx_replayed);
		return;
	}
	__skb_pull(skb, off + TSCF_DTLS_HDR_LEN + TSCF_DTLS_EXPLICIT_LEN);
	__skb_trim(skb, r.text_len);
	if (r.type == TSCF_DTLS_TYPE_ALERT) {
		tscf_dtls_rx_alert(t, skb);
		return;
	}
	/* The tag covered every byte. */
	tscf_rx_mark_verified(skb);
	tscf_tunnel_rx_frame(t, skb);
}
