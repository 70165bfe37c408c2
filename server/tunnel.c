// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnels, sessions and the TSCF control messages (docs/PROTOCOL.md).
 *
 * A session is one client: its clear tunnel, the internal addresses it
 * was given, its flow bindings and, only once a DTTE service request asks
 * for it, its encrypted tunnel.  Nothing encrypted is allocated before.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "siphash.h"
#include "tscfd.h"

#define HASH_MIN	256	/* buckets of a table at its first entry */
#define HASH_MAX	(1u << 20)
#define WHEEL_SLOTS	1024	/* timer wheel: one slot per second */

/*
 * A chained hash table that doubles when it holds more entries than
 * buckets, so that a chain stays about one long from ten tunnels to
 * 200,000, and an idle server pays for no buckets.  The chain link sits
 * in the object, at next_off; hash() is the full hash of an object.
 */
struct htab {
	void **b;
	unsigned int size, n;	/* size: 0 or a power of two */
	size_t next_off;
	uint32_t (*hash)(const void *obj);
};

#define HNEXT(tab, obj) (*(void **)((char *)(obj) + (tab)->next_off))

static uint32_t tunnel_tsid_hash(const void *obj);
static uint32_t tunnel_peer_hash(const void *obj);
static uint32_t session_ip4_hash(const void *obj);
static uint32_t session_ip6_hash(const void *obj);

static struct htab by_tsid = {
	.next_off = offsetof(struct tscfd_tunnel, hnext_tsid), .hash = tunnel_tsid_hash };
static struct htab by_peer = {
	.next_off = offsetof(struct tscfd_tunnel, hnext_peer), .hash = tunnel_peer_hash };
static struct htab by_ip4 = {
	.next_off = offsetof(struct tscfd_session, hnext4), .hash = session_ip4_hash };
static struct htab by_ip6 = {
	.next_off = offsetof(struct tscfd_session, hnext6), .hash = session_ip6_hash };
static struct tscfd_tunnel *all_tunnels;
static struct tscfd_tunnel *reap_list;	/* closed, freed after the batch */
static unsigned int ntunnels, nsessions;

/* The chain head of hash h; NULL while the table has no buckets. */
static void **htab_head(const struct htab *tab, uint32_t h)
{
	return tab->size ? &tab->b[h & (tab->size - 1)] : NULL;
}

/* Twice the buckets; on failure the chains only get longer. */
static void htab_grow(struct htab *tab)
{
	unsigned int size = tab->size ? tab->size * 2 : HASH_MIN, i;
	void **b, *o, *next;

	if (size > HASH_MAX)
		return;
	b = calloc(size, sizeof(*b));
	if (!b)
		return;
	for (i = 0; i < tab->size; i++)
		for (o = tab->b[i]; o; o = next) {
			void **head = &b[tab->hash(o) & (size - 1)];

			next = HNEXT(tab, o);
			HNEXT(tab, o) = *head;
			*head = o;
		}
	free(tab->b);
	tab->b = b;
	tab->size = size;
}

/* false only if the table has no buckets and none could be allocated */
static bool htab_add(struct htab *tab, void *obj)
{
	void **head;

	if (tab->n >= tab->size)
		htab_grow(tab);
	head = htab_head(tab, tab->hash(obj));
	if (!head)
		return false;
	HNEXT(tab, obj) = *head;
	*head = obj;
	tab->n++;
	return true;
}

static void htab_del(struct htab *tab, void *obj)
{
	void **pp = htab_head(tab, tab->hash(obj));

	for (; pp && *pp; pp = &HNEXT(tab, *pp))
		if (*pp == obj) {
			*pp = HNEXT(tab, obj);
			tab->n--;
			return;
		}
}

static uint32_t hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (uint32_t)v;
}

/*
 * Peers and addresses come from clients: a keyed SipHash, its key drawn at
 * start, so that nobody can pick values that all land in one chain.
 */
static uint32_t hash_bytes(const void *p, size_t n)
{
	static struct siphash_key key;
	static bool keyed;

	if (!keyed) {
		if (getrandom(&key, sizeof(key), 0) != sizeof(key)) {
			tscfd_logp(LOG_ERR, "getrandom failed: cannot key the hash tables");
			abort();
		}
		keyed = true;
	}
	return (uint32_t)siphash24(&key, p, n);
}

static uint32_t tunnel_tsid_hash(const void *obj)
{
	return hash64(((const struct tscfd_tunnel *)obj)->tsid);
}

static uint32_t tunnel_peer_hash(const void *obj)
{
	const struct tscfd_tunnel *t = obj;

	return hash_bytes(&t->peer, t->peerlen);
}

static uint32_t session_ip4_hash(const void *obj)
{
	return hash_bytes(&((const struct tscfd_session *)obj)->ip4.v4, 4);
}

static uint32_t session_ip6_hash(const void *obj)
{
	return hash_bytes(&((const struct tscfd_session *)obj)->ip6.v6, 16);
}

static const char *peer_str(const struct tscfd_tunnel *t)
{
	static char buf[INET6_ADDRSTRLEN + 8];
	char a[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (t->peer.ss_family == AF_INET) {
		inet_ntop(AF_INET, &t->peer.in.sin_addr, a, sizeof(a));
		port = ntohs(t->peer.in.sin_port);
	} else if (t->peer.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &t->peer.in6.sin6_addr, a, sizeof(a));
		port = ntohs(t->peer.in6.sin6_port);
	}
	snprintf(buf, sizeof(buf), "%s:%u", a, port);
	return buf;
}

static const char *kind_str(int kind)
{
	static const char *const names[] = { "?", "udp", "tcp", "tls", "dtls" };

	return names[kind <= TK_DTLS ? kind : 0];
}

/* --- registries ------------------------------------------------------ */

static struct tscfd_tunnel *tunnel_by_tsid(uint64_t tsid)
{
	void **head = htab_head(&by_tsid, hash64(tsid));
	struct tscfd_tunnel *t = head ? *head : NULL;

	while (t && t->tsid != tsid)
		t = t->hnext_tsid;
	return t;
}

static uint64_t new_tsid(void)
{
	uint64_t v;

	do {
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
	} while (!v || v == TSCF_TSID_NONE || tunnel_by_tsid(v));
	return v;
}

static bool tsid_link(struct tscfd_tunnel *t, uint64_t tsid)
{
	t->tsid = tsid;
	return htab_add(&by_tsid, t);
}

static void tsid_unlink(struct tscfd_tunnel *t)
{
	htab_del(&by_tsid, t);
}

struct tscfd_tunnel *tscfd_tunnel_by_peer(const struct sockaddr *peer,
					  socklen_t len)
{
	void **head = htab_head(&by_peer, hash_bytes(peer, len));
	struct tscfd_tunnel *t = head ? *head : NULL;

	while (t && (t->peerlen != len || memcmp(&t->peer, peer, len)))
		t = t->hnext_peer;
	return t;
}

bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4.s_addr == b->v4.s_addr :
				!memcmp(&a->v6, &b->v6, 16);
}

struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a)
{
	struct tscfd_session *s;
	void **head;

	if (a->family == 4) {
		head = htab_head(&by_ip4, hash_bytes(&a->v4, 4));
		for (s = head ? *head : NULL; s; s = s->hnext4)
			if (tscfd_addr_eq(&s->ip4, a))
				return s;
	} else if (a->family == 6) {
		head = htab_head(&by_ip6, hash_bytes(&a->v6, 16));
		for (s = head ? *head : NULL; s; s = s->hnext6)
			if (tscfd_addr_eq(&s->ip6, a))
				return s;
	}
	return NULL;
}

unsigned int tscfd_tunnel_count(void)
{
	return ntunnels;
}

unsigned int tscfd_session_count(void)
{
	return nsessions;
}

void tscfd_sessions_stats(unsigned int *with_enc, unsigned int *flows)
{
	struct tscfd_tunnel *t;

	*with_enc = *flows = 0;
	for (t = all_tunnels; t; t = t->next)
		if (t->session && t->session->clear == t) {
			*with_enc += !!t->session->enc;
			*flows += tscfd_flow_count(t->session);
		}
}

/* For the control socket (ctl.c): walking, naming and finding tunnels. */
struct tscfd_tunnel *tscfd_tunnel_first(void)
{
	return all_tunnels;
}

struct tscfd_tunnel *tscfd_tunnel_find(uint64_t tsid)
{
	return tunnel_by_tsid(tsid);
}

const char *tscfd_peer_str(const struct tscfd_tunnel *t)
{
	return peer_str(t);
}

const char *tscfd_kind_str(int kind)
{
	return kind_str(kind);
}

/* --- tunnel lifetime ------------------------------------------------- */

time_t tscfd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct tscfd_tunnel *tscfd_tunnel_new(struct tscfd_iface *iface, int kind,
				      int fd, const struct sockaddr *peer,
				      socklen_t peerlen)
{
	struct tscfd_tunnel *t;

	if (peerlen > sizeof(t->peer))
		return NULL;	/* not IPv4 or IPv6: no tunnel */
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->evtype = EV_TUNNEL;
	t->kind = kind;
	t->fd = fd;
	t->iface = iface;
	t->encrypted = kind == TK_TLS || kind == TK_DTLS;
	memcpy(&t->peer, peer, peerlen);
	t->peerlen = peerlen;
	t->created = t->last_rx = tscfd_now();
	if (kind == TK_UDP && !htab_add(&by_peer, t)) {
		free(t);
		return NULL;
	}
	t->next = all_tunnels;
	if (all_tunnels)
		all_tunnels->prev = t;
	all_tunnels = t;
	ntunnels++;
	iface->ntunnels++;
	tscfd_stats.tunnels_opened++;
	tscfd_timer_arm(t);
	return t;
}

/* The session's addresses go back to the pool as soon as it ends. */
static void session_release(struct tscfd_session *s)
{
	if (s->ip4.family) {
		htab_del(&by_ip4, s);
		tscfd_pool_put(&s->iface->pool4, &s->ip4);
	}
	if (s->ip6.family) {
		htab_del(&by_ip6, s);
		tscfd_pool_put(&s->iface->pool6, &s->ip6);
	}
	nsessions--;
}

/* Its memory only in tscfd_reap(), with the clear tunnel that owned it. */
static void session_destroy(struct tscfd_session *s)
{
	tscfd_flows_free(s);
	free(s);
}

static void timer_unlink(struct tscfd_tunnel *t);

/*
 * End a tunnel: out of every table, out of epoll, counted as closed.  Its
 * memory, socket and TLS state stay valid until tscfd_reap() after the
 * epoll batch: an event of this batch may still point at it (it sees
 * dead), and so may the handler that called us.
 */
void tscfd_tunnel_close(struct tscfd_tunnel *t, const char *why)
{
	struct tscfd_session *s = t->session;

	if (t->dead)
		return;
	t->dead = true;
	tscfd_kdp_forget(t);	/* before its addresses go back to the pool */
	tscfd_tlog(LOG_INFO, "tunnel %016llx %s peer %s closed: %s",
		  (unsigned long long)t->tsid, kind_str(t->kind), peer_str(t), why);
	if (s && s->clear == t) {
		s->clear = NULL;
		if (s->enc)
			tscfd_tunnel_close(s->enc, "its clear tunnel closed");
		session_release(s);
		t->owns_session = true;
	} else if (s && s->enc == t) {
		s->enc = NULL;
	}
	if (t->configured)
		tsid_unlink(t);
	if (t->kind == TK_UDP)
		htab_del(&by_peer, t);
	if (t->prev)
		t->prev->next = t->next;
	else
		all_tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	timer_unlink(t);
	tscfd_net_forget(t);	/* out of epoll and the handshake list */
	/* Not on a connection the kernel wrote: its records are not OpenSSL's. */
	if (t->ssl && !t->handshaking && !t->kdp_stream)
		SSL_shutdown(t->ssl);	/* close_notify, best effort */
	t->iface->ntunnels--;
	ntunnels--;
	tscfd_stats.tunnels_closed++;
	t->reap_next = reap_list;
	reap_list = t;
}

/* After each epoll batch: free what was closed during it. */
void tscfd_reap(void)
{
	struct tscfd_tunnel *t;

	while ((t = reap_list)) {
		reap_list = t->reap_next;
		if (t->owns_session)
			session_destroy(t->session);
		if (t->ssl)
			SSL_free(t->ssl);
		if (t->fd >= 0)
			close(t->fd);
		tscfd_preauth_release(t);
		free(t->rxbuf);
		free(t->txbuf);
		free(t);
	}
}

/* --- control messages ------------------------------------------------ */

static void reply(struct tscfd_tunnel *t, struct tscf_enc *e)
{
	int len = tscf_enc_finish(e);

	if (len > 0)
		tscfd_send_frame(t, e->buf, len);
}

static void reply_code(struct tscfd_tunnel *t, uint8_t type, uint64_t tsid,
		       uint32_t seq, uint16_t code)
{
	uint8_t buf[64];
	struct tscf_enc e;

	tscf_enc_init(&e, buf, sizeof(buf), type, tsid, seq);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, code);
	reply(t, &e);
}

/* The client speaks at least our version (it names the highest it has). */
static bool version_ok(const struct tscf_msg *m)
{
	const struct tscf_tlv *t = tscf_msg_find(m, TSCF_TLV_VERSION, NULL);
	uint8_t v;

	return t && !tscf_tlv_u8(t, &v) && v >= TSCF_PROTO_VERSION;
}

/* SHA-256 of the SECRET TLV of this type equals commit (constant time). */
static bool secret_opens(const struct tscf_msg *m, uint16_t type,
			 const uint8_t *commit)
{
	const struct tscf_tlv *t = tscf_msg_find(m, type, NULL);
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (!t || t->len != TSCF_SECRET_LEN)
		return false;
	SHA256(t->val, t->len, md);
	return CRYPTO_memcmp(md, commit, TSCF_COMMIT_LEN) == 0;
}

/* A COMMIT TLV of this type into out; false if absent or malformed. */
static bool get_commit(const struct tscf_msg *m, uint16_t type, uint8_t *out)
{
	const struct tscf_tlv *t = tscf_msg_find(m, type, NULL);

	if (!t || t->len != TSCF_COMMIT_LEN)
		return false;
	memcpy(out, t->val, TSCF_COMMIT_LEN);
	return true;
}

/* --- return-routability cookies (UDP) --------------------------------- */

struct cookie_key {
	bool set;
	uint64_t slot;
	uint8_t key[32];
};

/* Slot s uses cookie_keys[s & 1]: the current and the previous slot. */
static struct cookie_key cookie_keys[2];

static uint64_t cookie_slot(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec / TSCFD_COOKIE_SLOT_SECS;
}

/* A slot's secret; a fresh random one when the current slot begins. */
static const uint8_t *cookie_key_of(uint64_t slot, bool current)
{
	struct cookie_key *k = &cookie_keys[slot & 1];

	if (k->set && k->slot == slot)
		return k->key;
	if (!current ||
	    getrandom(k->key, sizeof(k->key), 0) != (ssize_t)sizeof(k->key))
		return NULL;
	k->slot = slot;
	k->set = true;
	return k->key;
}

/* HMAC-SHA256(slot secret, slot | family | address | port), truncated. */
static bool cookie_of(uint64_t slot, bool current, const struct sockaddr *peer,
		      uint8_t *out)
{
	const uint8_t *key = cookie_key_of(slot, current);
	uint8_t in[8 + 2 + 16 + 2], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n = 0;
	int i;

	if (!key)
		return false;
	for (i = 7; i >= 0; i--)
		in[n++] = (uint8_t)(slot >> (i * 8));
	in[n++] = 0;
	in[n++] = (uint8_t)peer->sa_family;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)peer;

		memcpy(in + n, &s->sin_addr, 4);
		memcpy(in + n + 4, &s->sin_port, 2);
		n += 6;
	} else {
		const struct sockaddr_in6 *s = (const void *)peer;

		memcpy(in + n, &s->sin6_addr, 16);
		memcpy(in + n + 16, &s->sin6_port, 2);
		n += 18;
	}
	if (!HMAC(EVP_sha256(), key, 32, in, n, md, &mdlen) ||
	    mdlen < TSCF_COOKIE_LEN)
		return false;
	memcpy(out, md, TSCF_COOKIE_LEN);
	return true;
}

/* The request carries the cookie of this peer for this or the last slot. */
static bool cookie_valid(const struct tscf_msg *m, const struct sockaddr *peer)
{
	const struct tscf_tlv *t = tscf_msg_find(m, TSCF_TLV_COOKIE, NULL);
	uint64_t slot = cookie_slot();
	uint8_t want[TSCF_COOKIE_LEN];

	if (!t || t->len != TSCF_COOKIE_LEN)
		return false;
	if (cookie_of(slot, true, peer, want) &&
	    !CRYPTO_memcmp(want, t->val, TSCF_COOKIE_LEN))
		return true;
	return slot && cookie_of(slot - 1, false, peer, want) &&
	       !CRYPTO_memcmp(want, t->val, TSCF_COOKIE_LEN);
}

/*
 * An answer to a source that has not proven its address: never more
 * bytes than it sent (no reflection amplification), else nothing.
 */
static void send_unverified(struct tscfd_iface *f, const struct sockaddr *peer,
			    socklen_t peerlen, struct tscf_enc *e, size_t req_len)
{
	int len = tscf_enc_finish(e);

	if (len <= 0 || (size_t)len > req_len) {
		tscfd_stats.drop_unverified++;
		return;
	}
	if (sendto(f->udp_fd, e->buf, (size_t)len, MSG_DONTWAIT, peer,
		   peerlen) == len)
		tscfd_stats.unverified_tx_bytes += (uint64_t)len;
}

/*
 * A datagram from a UDP peer without a tunnel.  No state is kept and no
 * address taken until a CONFIG_REQ of our version, at least
 * TSCF_DGRAM_CONFIG_MIN_LEN long, returns the cookie of its source.
 */
void tscfd_udp_unverified(struct tscfd_iface *f, const uint8_t *buf, size_t len,
			  const struct sockaddr *peer, socklen_t peerlen)
{
	uint8_t out[64], cookie[TSCF_COOKIE_LEN];
	struct tscfd_tunnel *t;
	struct tscf_msg m;
	struct tscf_enc e;

	tscfd_stats.unverified_rx_bytes += len;
	if (len < TSCF_CM_HDR_LEN || buf[0] != TSCF_CM_BYTE0 ||
	    buf[1] != TSCF_CM_CONFIG_REQ) {
		tscfd_stats.drop_no_session++;
		return;
	}
	if (len < TSCF_DGRAM_CONFIG_MIN_LEN || tscf_msg_decode(buf, len, &m)) {
		tscfd_stats.drop_unverified++;
		return;
	}
	if (!version_ok(&m)) {
		tscfd_stats.refused_version++;
		tscf_enc_init(&e, out, sizeof(out), TSCF_CM_CONFIG_RESP,
			      TSCF_TSID_NONE, m.seq);
		tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_UNSUPPORTED_VERSION);
		tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
		send_unverified(f, peer, peerlen, &e, len);
		return;
	}
	if (!cookie_valid(&m, peer)) {
		if (!cookie_of(cookie_slot(), true, peer, cookie)) {
			tscfd_stats.drop_unverified++;
			return;
		}
		tscf_enc_init(&e, out, sizeof(out), TSCF_CM_COOKIE, TSCF_TSID_NONE,
			      m.seq);
		tscf_enc_tlv(&e, TSCF_TLV_COOKIE, cookie, TSCF_COOKIE_LEN);
		tscfd_stats.cookie_sent++;
		send_unverified(f, peer, peerlen, &e, len);
		return;
	}
	t = tscfd_tunnel_new(f, TK_UDP, -1, peer, peerlen);
	if (t)
		tscfd_tunnel_frame(t, buf, len);
}

/* --- configuration ---------------------------------------------------- */

/*
 * A TCP, TLS or clear UDP tunnel may send TCP super-frames (PROTOCOL.md
 * 1.3) if the TUN can take them whole (a virtio_net_hdr, whose GSO fields
 * have the kernel cut them) and the configuration allows it.  Never DTLS:
 * its records are the module's own, cut to the MTU.
 */
static bool super_frames_offer(const struct tscfd_tunnel *t)
{
	if (!tscfd_tun_vnet())
		return false;
	if (t->kind == TK_TCP || t->kind == TK_TLS)
		return tscfd_conf.stream_super_frames;
	return t->kind == TK_UDP && tscfd_conf.udp_super_frames;
}

static void put_config(struct tscf_enc *e, const struct tscfd_tunnel *t)
{
	struct tscfd_session *s = t->session;
	struct tscfd_iface *f = s->iface;
	unsigned int i;

	tscf_enc_u16(e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u8(e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	if (s->ip4.family) {
		uint32_t mask = f->pool4.plen ? htonl(~0u << (32 - f->pool4.plen)) : 0;

		tscf_enc_addr(e, TSCF_TLV_INTERNAL_IPV4, &s->ip4);
		tscf_enc_tlv(e, TSCF_TLV_INTERNAL_IPV4_MASK, &mask, 4);
	}
	if (s->ip6.family) {
		tscf_enc_addr(e, TSCF_TLV_INTERNAL_IPV6, &s->ip6);
		tscf_enc_u8(e, TSCF_TLV_INTERNAL_IPV6_PLEN, f->pool6.plen);
	}
	for (i = 0; i < f->ndns; i++)
		tscf_enc_addr(e, TSCF_TLV_DNS_SERVER, &f->dns[i]);
	tscf_enc_u32(e, TSCF_TLV_KEEPALIVE, tscfd_conf.keepalive_secs);
	tscf_enc_u16(e, TSCF_TLV_MTU, (uint16_t)tscfd_conf.mtu);
	if (t->super_frames)
		tscf_enc_u16(e, TSCF_TLV_SUPER_FRAMES, TSCF_MAX_FRAME_LEN);
}

static struct tscfd_session *session_new(struct tscfd_iface *f, uint16_t *code)
{
	struct tscfd_session *s = calloc(1, sizeof(*s));

	*code = TSCF_RESP_NO_RESOURCES;
	if (!s)
		return NULL;
	s->iface = f;
	s->dtte = f->dtte;
	if ((f->pool4.set && tscfd_pool_get(&f->pool4, &s->ip4)) ||
	    (f->pool6.set && tscfd_pool_get(&f->pool6, &s->ip6))) {
		tscfd_stats.refused_pool++;
		goto put;
	}
	if (s->ip4.family && !htab_add(&by_ip4, s))
		goto put;
	if (s->ip6.family && !htab_add(&by_ip6, s))
		goto unlink4;
	nsessions++;
	return s;
unlink4:
	if (s->ip4.family)
		htab_del(&by_ip4, s);
put:
	if (s->ip4.family)
		tscfd_pool_put(&f->pool4, &s->ip4);
	if (s->ip6.family)
		tscfd_pool_put(&f->pool6, &s->ip6);
	free(s);
	return NULL;
}

static bool same_host(const struct tscfd_tunnel *a, const struct tscfd_tunnel *b)
{
	if (a->peer.ss_family != b->peer.ss_family)
		return false;
	if (a->peer.ss_family == AF_INET)
		return a->peer.in.sin_addr.s_addr == b->peer.in.sin_addr.s_addr;
	return !memcmp(&a->peer.in6.sin6_addr, &b->peer.in6.sin6_addr, 16);
}

/*
 * The encrypted tunnel names its clear tunnel and the reserved TSID, and
 * proves it belongs to the client that asked for it by revealing, inside
 * TLS, the secret whose SHA-256 that client committed to in its clear
 * SERVICE_REQ.  What travels in clear (the TSIDs, the commitment) does
 * not let anyone else claim it.
 */
static uint16_t config_encrypted(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	const struct tscf_tlv *ta = tscf_msg_find(m, TSCF_TLV_ASSOC_TSID, NULL);
	const struct tscf_tlv *tr = tscf_msg_find(m, TSCF_TLV_RESERVED_TSID, NULL);
	struct tscfd_tunnel *clear;
	struct tscfd_session *s;
	uint64_t assoc, reserved;

	if (!ta || !tr || tscf_tlv_u64(ta, &assoc) || tscf_tlv_u64(tr, &reserved))
		return TSCF_RESP_BAD_REQUEST;
	clear = tunnel_by_tsid(assoc);
	if (!clear || clear->encrypted || !clear->session)
		return TSCF_RESP_UNKNOWN_TSID;
	s = clear->session;
	if (!s->reserved_tsid || s->reserved_tsid != reserved ||
	    tscfd_now() > s->reserve_until)
		return TSCF_RESP_UNKNOWN_TSID;
	if (!s->has_dtte_commit ||
	    !secret_opens(m, TSCF_TLV_DTTE_SECRET, s->dtte_commit)) {
		tscfd_stats.refused_dtte_binding++;
		tscfd_tlog(LOG_INFO, "tunnel %016llx peer %s: encrypted tunnel refused: no proof of the DTTE secret",
			  (unsigned long long)assoc, peer_str(t));
		return TSCF_RESP_NOT_ALLOWED;
	}
	if (!same_host(clear, t))
		return TSCF_RESP_NOT_ALLOWED;
	/* Only the secret's holder gets here: it may replace its own tunnel. */
	if (s->enc)
		tscfd_tunnel_close(s->enc, "replaced by a new encrypted tunnel");
	s->reserved_tsid = 0;
	s->enc = t;
	t->session = s;
	if (!tsid_link(t, reserved))
		return TSCF_RESP_NO_RESOURCES;	/* closing t unlinks it */
	return TSCF_RESP_SUCCESS;
}

/*
 * A client whose transport broke names its clear tunnel's TSID on a new
 * one and reveals the resume secret it committed to (in its first
 * CONFIG_REQ or its last resume); the request commits to the next one.
 * Each secret works once, so one seen in clear is worth nothing later.
 * The session (addresses, encrypted tunnel, flows) moves over and the old
 * transport is closed, so the client's sockets keep their address.
 */
static uint16_t config_resume(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	struct tscfd_tunnel *old = tunnel_by_tsid(m->tsid);
	struct tscfd_session *s = old ? old->session : NULL;

	if (!s || s->clear != old || old->iface != t->iface) {
		tscfd_stats.refused_resume++;
		return TSCF_RESP_UNKNOWN_TSID;
	}
	if (!s->has_resume_commit ||
	    !secret_opens(m, TSCF_TLV_RESUME_SECRET, s->resume_commit)) {
		tscfd_stats.refused_resume++;
		tscfd_tlog(LOG_INFO, "tunnel %016llx: resume from %s refused: no proof of the resume secret",
			  (unsigned long long)m->tsid, peer_str(t));
		return TSCF_RESP_NOT_ALLOWED;
	}
	s->has_resume_commit = get_commit(m, TSCF_TLV_RESUME_COMMIT, s->resume_commit);
	tscfd_tlog(LOG_INFO, "tunnel %016llx %s peer %s moves to %s peer %s",
		  (unsigned long long)m->tsid, kind_str(old->kind), peer_str(old),
		  kind_str(t->kind), peer_str(t));
	old->session = NULL;
	tscfd_tunnel_close(old, "resumed on a new transport");
	t->session = s;
	s->clear = t;
	if (!tsid_link(t, m->tsid))
		return TSCF_RESP_NO_RESOURCES;	/* closing t ends the session */
	tscfd_stats.resumed++;
	return TSCF_RESP_SUCCESS;
}

/* A new clear session; its resume commitment, if any, is kept. */
static uint16_t config_clear(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	uint16_t code;

	if (t->iface->ntunnels > t->iface->max_tunnels) {
		tscfd_stats.refused_max_tunnels++;
		return TSCF_RESP_NO_RESOURCES;
	}
	t->session = session_new(t->iface, &code);
	if (!t->session)
		return code;
	t->session->clear = t;
	t->session->has_resume_commit =
		get_commit(m, TSCF_TLV_RESUME_COMMIT, t->session->resume_commit);
	if (!tsid_link(t, new_tsid()))
		return TSCF_RESP_NO_RESOURCES;	/* closing t ends the session */
	return TSCF_RESP_SUCCESS;
}

static void send_config(struct tscfd_tunnel *t, uint32_t seq)
{
	uint8_t buf[512];
	struct tscf_enc e;

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, t->tsid, seq);
	put_config(&e, t);
	reply(t, &e);
}

/* Refused: TSID all ones, the reason, and the tunnel is closed. */
static void refuse_config(struct tscfd_tunnel *t, uint32_t seq, uint16_t code)
{
	uint8_t buf[64];
	struct tscf_enc e;

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, TSCF_TSID_NONE, seq);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, code);
	if (code == TSCF_RESP_UNSUPPORTED_VERSION)
		tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	reply(t, &e);
	tscfd_tunnel_close(t, tscf_response_name(code));
}

static void on_config_req(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	bool resume = m->tsid != TSCF_TSID_NONE;
	char a[INET6_ADDRSTRLEN] = "-";
	uint16_t code;

	tscfd_stats.config_req++;
	if (!version_ok(m)) {
		tscfd_stats.refused_version++;
		refuse_config(t, m->seq, TSCF_RESP_UNSUPPORTED_VERSION);
		return;
	}
	if (resume && t->encrypted)
		code = TSCF_RESP_BAD_REQUEST;
	else if (resume)
		code = config_resume(t, m);
	else if (t->encrypted)
		code = config_encrypted(t, m);
	else
		code = config_clear(t, m);
	if (code != TSCF_RESP_SUCCESS) {
		refuse_config(t, m->seq, code);
		return;
	}
	t->configured = true;
	t->config_seq = m->seq;
	t->super_frames = super_frames_offer(t);	/* its answer says the same */
	tscfd_kdp_push(t);
	send_config(t, m->seq);
	if (t->session->ip4.family)
		inet_ntop(AF_INET, &t->session->ip4.v4, a, sizeof(a));
	tscfd_tlog(LOG_INFO, "tunnel %016llx %s peer %s up: %s, internal %s",
		  (unsigned long long)t->tsid, kind_str(t->kind), peer_str(t),
		  t->encrypted ? "encrypted (DTTE)" :
		  resume ? "clear (resumed)" : "clear", a);
}

/*
 * A CONFIG_REQ on a configured tunnel: the retransmission of the one it
 * answered (same Sequence) gets the same answer again; any other is
 * dropped on UDP (anyone can send it) and refused on a stream.
 */
static void config_again(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	if (m->seq == t->config_seq &&
	    (m->tsid == TSCF_TSID_NONE || m->tsid == t->tsid)) {
		tscfd_stats.config_resent++;
		send_config(t, m->seq);
		return;
	}
	if (t->kind == TK_UDP) {
		tscfd_stats.drop_wrong_tsid++;
		return;
	}
	reply_code(t, TSCF_CM_CONFIG_RESP, TSCF_TSID_NONE, m->seq,
		   TSCF_RESP_BAD_REQUEST);
}

/* The encrypted transports offered on N+1, and how long the TSID is held. */
static void put_dtte_offer(struct tscf_enc *e, struct tscfd_session *s)
{
	struct tscfd_iface *f = s->iface;
	struct tscf_conn_info ci = { .transport = TSCF_TRANSPORT_TLS,
				     .port = f->port + 1, .addr = f->advertise };

	tscf_enc_u16(e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u64(e, TSCF_TLV_RESERVED_TSID, s->reserved_tsid);
	tscf_enc_u32(e, TSCF_TLV_LIFETIME, TSCFD_RESERVE_SECS);
	tscf_enc_conn_info(e, &ci);
	if (f->dtls_fd >= 0) {
		ci.transport = TSCF_TRANSPORT_DTLS;
		tscf_enc_conn_info(e, &ci);
	}
}

/*
 * DISABLE_DTTE on the clear tunnel only cancels a reservation: an
 * encrypted tunnel that is up closes itself (RELEASE_REQ on it), so that
 * nothing said in clear lowers what was set up encrypted.
 */
static uint16_t disable_dtte(struct tscfd_tunnel *t)
{
	struct tscfd_session *s = t->session;

	if (s->enc) {
		tscfd_stats.refused_disable_dtte++;
		tscfd_tlog(LOG_INFO, "tunnel %016llx peer %s: DISABLE_DTTE refused: the encrypted tunnel is up",
			  (unsigned long long)t->tsid, peer_str(t));
		return TSCF_RESP_NOT_ALLOWED;
	}
	s->reserved_tsid = 0;
	return TSCF_RESP_SUCCESS;
}

/*
 * The session's DTTE commitment is pinned by its first ENABLE_DTTE: a
 * later request (a new reservation) must commit to the same secret, so
 * that whoever else speaks on the clear tunnel cannot reserve the
 * encrypted tunnel for a secret of its own.
 */
static uint16_t pin_dtte_commit(struct tscfd_session *s, const struct tscf_msg *m)
{
	uint8_t commit[TSCF_COMMIT_LEN];

	if (!get_commit(m, TSCF_TLV_DTTE_COMMIT, commit))
		return TSCF_RESP_BAD_REQUEST;
	if (s->has_dtte_commit &&
	    CRYPTO_memcmp(commit, s->dtte_commit, TSCF_COMMIT_LEN)) {
		tscfd_stats.refused_dtte_binding++;
		return TSCF_RESP_NOT_ALLOWED;
	}
	memcpy(s->dtte_commit, commit, TSCF_COMMIT_LEN);
	s->has_dtte_commit = true;
	return TSCF_RESP_SUCCESS;
}

static void on_service_req(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	const struct tscf_tlv *tt = tscf_msg_find(m, TSCF_TLV_SERVICE_TYPE, NULL);
	struct tscfd_session *s = t->session;
	struct tscfd_iface *f = t->iface;
	uint8_t buf[256];
	struct tscf_enc e;
	uint16_t type, code;

	tscfd_stats.service_req++;
	if (!tt || tscf_tlv_u16(tt, &type) || t->encrypted ||
	    (type != TSCF_SERVICE_ENABLE_DTTE && type != TSCF_SERVICE_DISABLE_DTTE)) {
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq,
			   TSCF_RESP_BAD_REQUEST);
		return;
	}
	if (type == TSCF_SERVICE_DISABLE_DTTE) {
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq, disable_dtte(t));
		return;
	}
	if (!s->dtte || !f->cert[0] || f->tls_fd < 0) {
		tscfd_stats.dtte_refused++;
		tscfd_tlog(LOG_INFO, "tunnel %016llx peer %s: DTTE refused: not in assigned-services",
			  (unsigned long long)t->tsid, peer_str(t));
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq,
			   TSCF_RESP_SERVICE_UNAVAILABLE);
		return;
	}
	code = pin_dtte_commit(s, m);
	if (code != TSCF_RESP_SUCCESS) {
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq, code);
		return;
	}
	tscfd_stats.dtte_granted++;
	s->reserved_tsid = new_tsid();
	s->reserve_until = tscfd_now() + TSCFD_RESERVE_SECS;
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_SERVICE_RESP, t->tsid, m->seq);
	put_dtte_offer(&e, s);
	reply(t, &e);
	tscfd_tlog(LOG_INFO, "tunnel %016llx peer %s: DTTE granted, encrypted tunnel %016llx reserved",
		  (unsigned long long)t->tsid, peer_str(t),
		  (unsigned long long)s->reserved_tsid);
}

static void on_control(struct tscfd_tunnel *t, const uint8_t *frame, size_t len)
{
	struct tscf_msg m;

	if (tscf_msg_decode(frame, len, &m)) {
		tscfd_stats.drop_malformed++;
		return;
	}
	if (!t->configured) {
		if (m.type == TSCF_CM_CONFIG_REQ)
			on_config_req(t, &m);
		else
			tscfd_stats.drop_no_session++;
		return;
	}
	if (m.type == TSCF_CM_CONFIG_REQ) {
		config_again(t, &m);
		return;
	}
	if (m.tsid != t->tsid) {
		/*
		 * The patent: drop the message and terminate the tunnel.  Not
		 * on UDP, where anyone can send a datagram from the client's
		 * address: there it is only dropped and counted.
		 */
		tscfd_stats.drop_wrong_tsid++;
		if (t->kind != TK_UDP)
			tscfd_tunnel_close(t, "control message with a wrong TSID");
		return;
	}
	switch (m.type) {
	case TSCF_CM_KEEPALIVE_REQ:
		tscfd_stats.keepalive_req++;
		reply_code(t, TSCF_CM_KEEPALIVE_RESP, t->tsid, m.seq,
			   TSCF_RESP_SUCCESS);
		break;
	case TSCF_CM_RELEASE_REQ:
		tscfd_stats.release_req++;
		reply_code(t, TSCF_CM_RELEASE_RESP, t->tsid, m.seq,
			   TSCF_RESP_SUCCESS);
		tscfd_tunnel_close(t, "released by the client");
		break;
	case TSCF_CM_SERVICE_REQ:
		on_service_req(t, &m);
		break;
	case TSCF_CM_FLOW_BIND_REQ:
		tscfd_stats.flow_bind++;
		reply_code(t, TSCF_CM_FLOW_BIND_RESP, t->tsid, m.seq,
			   tscfd_flow_bind(t, &m));
		break;
	default:
		tscfd_stats.drop_unknown_type++;
	}
}

void tscfd_tunnel_frame(struct tscfd_tunnel *t, const uint8_t *frame, size_t len)
{
	t->last_rx = tscfd_now();
	switch (tscf_frame_kind(frame, len)) {
	case TSCF_FRAME_CTRL:
		on_control(t, frame, len);
		break;
	case TSCF_FRAME_IPV4:
	case TSCF_FRAME_IPV6:
		tscfd_flow_inner(t, frame, len);
		break;
	default:
		tscfd_stats.drop_bad_nibble++;
	}
}

/* --- timers ---------------------------------------------------------- */

/*
 * A hashed timer wheel of one-second slots on the monotonic clock.  Each
 * tunnel sits in the slot of the earliest second it could expire; traffic
 * only updates last_rx, and a tunnel found alive when its slot comes round
 * moves to the slot of its new deadline.  A tick costs what is due in the
 * seconds it covers, not the number of tunnels, and a step of the wall
 * clock changes nothing.
 */
static struct tscfd_tunnel *wheel[WHEEL_SLOTS];
static time_t wheel_done;	/* every slot up to this second is handled */

static time_t deadline_of(const struct tscfd_tunnel *t)
{
	time_t d;

	if (t->kind == TK_UDP || t->kind == TK_DTLS)
		d = t->last_rx + (time_t)tscfd_conf.datagram_timeout_secs + 1;
	else
		d = t->last_rx + (time_t)(tscfd_conf.stream_idle_secs +
					  tscfd_conf.stream_persist_secs) + 1;
	if (!t->configured && t->created + TSCFD_HANDSHAKE_SECS + 1 < d)
		d = t->created + TSCFD_HANDSHAKE_SECS + 1;
	return d;
}

static void timer_unlink(struct tscfd_tunnel *t)
{
	if (!t->wpprev)
		return;
	*t->wpprev = t->wnext;
	if (t->wnext)
		t->wnext->wpprev = t->wpprev;
	t->wnext = NULL;
	t->wpprev = NULL;
}

static void timer_link(struct tscfd_tunnel **head, struct tscfd_tunnel *t)
{
	t->wnext = *head;
	if (*head)
		(*head)->wpprev = &t->wnext;
	*head = t;
	t->wpprev = head;
}

void tscfd_timer_arm(struct tscfd_tunnel *t)
{
	timer_unlink(t);
	if (t->dead)
		return;
	t->deadline = deadline_of(t);
	if (!wheel_done)
		wheel_done = tscfd_now();
	/* A deadline already past is looked at on the next tick. */
	if (t->deadline <= wheel_done)
		t->deadline = wheel_done + 1;
	timer_link(&wheel[t->deadline % WHEEL_SLOTS], t);
}

static const char *expired(struct tscfd_tunnel *t, time_t now)
{
	time_t idle;

	/* Packets the kernel carried count as traffic (kdp.c). */
	if (t->kdp_pushed && now - t->last_rx > (time_t)tscfd_conf.datagram_timeout_secs)
		tscfd_kdp_sync(t);
	idle = now - t->last_rx;

	if (!t->configured && now - t->created > TSCFD_HANDSHAKE_SECS)
		return "no configuration request in time";
	if ((t->kind == TK_UDP || t->kind == TK_DTLS) &&
	    idle > (time_t)tscfd_conf.datagram_timeout_secs)
		return "keepalive timeout";
	if (t->kind != TK_UDP && t->kind != TK_DTLS &&
	    idle > (time_t)(tscfd_conf.stream_idle_secs +
			    tscfd_conf.stream_persist_secs))
		return "idle timeout";
	return NULL;
}

/*
 * Tunnels of the slots whose second has come, still to be looked at.  At
 * most TICK_BUDGET are looked at per call: a mass expiry is spread over
 * several loop iterations, with the sockets served in between.
 */
static struct tscfd_tunnel *due;
#define TICK_BUDGET	256

/* Close what expired, move the rest to their new deadline; false if the
 * budget ran out first. */
static bool run_due(time_t now, unsigned int *budget)
{
	struct tscfd_tunnel *t;
	const char *why;

	while ((t = due)) {
		if (!*budget)
			return false;
		--*budget;
		timer_unlink(t);
		why = expired(t, now);
		if (why)
			tscfd_tunnel_close(t, why);
		else if (deadline_of(t) > now)
			tscfd_timer_arm(t);
		else
			timer_link(&wheel[(now + 1) % WHEEL_SLOTS], t);
	}
	return true;
}

/* What the last timer tick that looked at tunnels cost (tscfd --stats). */
static struct tscfd_timer_stats timer_stats;

void tscfd_timer_stats(struct tscfd_timer_stats *out)
{
	*out = timer_stats;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool wheel_run(time_t now, unsigned int *budget);

/*
 * Once a second, and again at once while it returns true (work left).
 * Each call looks at TICK_BUDGET tunnels at most and is timed.
 */
bool tscfd_tick(void)
{
	unsigned int budget = TICK_BUDGET;
	uint64_t start, cpu, us;
	bool more;

	if (!due)
		tscfd_net_tick();
	start = now_ns(CLOCK_MONOTONIC);
	cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	more = wheel_run(tscfd_now(), &budget);
	if (budget == TICK_BUDGET)
		return more;	/* nothing was due: no sweep to note */
	/* wall time is what the sockets waited; CPU time what it cost */
	us = (now_ns(CLOCK_MONOTONIC) - start) / 1000;
	cpu = (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu) / 1000;
	timer_stats.last_us = us;
	timer_stats.last_tunnels = TICK_BUDGET - budget;
	if (us > timer_stats.max_us)
		timer_stats.max_us = us;
	if (cpu > timer_stats.max_cpu_us)
		timer_stats.max_cpu_us = cpu;
	timer_stats.tunnels += TICK_BUDGET - budget;
	return more;
}

/*
 * A slot's tunnels move to the due list first: closing one may close its
 * sibling, which then leaves that list too.
 */
static bool wheel_run(time_t now, unsigned int *budget)
{
	unsigned int slot;
	time_t sec;

	if (!wheel_done)
		wheel_done = now;
	if (!run_due(now, budget))
		return true;
	/* After a long stop, each slot once is every tunnel once. */
	if (now - wheel_done > WHEEL_SLOTS)
		wheel_done = now - WHEEL_SLOTS;
	for (sec = wheel_done + 1; sec <= now; sec++) {
		wheel_done = sec;
		slot = (unsigned int)(sec % WHEEL_SLOTS);
		due = wheel[slot];
		wheel[slot] = NULL;
		if (due)
			due->wpprev = &due;
		if (!run_due(now, budget))
			return true;
	}
	return false;
}
