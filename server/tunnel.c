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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>

#include "tscfd.h"

#define HASH_BITS	16
#define HASH_SIZE	(1u << HASH_BITS)
#define INNER_MTU	1399	/* tscf.ko's device MTU */

static struct tscfd_tunnel *by_tsid[HASH_SIZE];
static struct tscfd_tunnel *by_peer[HASH_SIZE];
static struct tscfd_session *by_ip[HASH_SIZE];
static struct tscfd_tunnel *all_tunnels;
struct tscfd_tunnel *tscfd_current;
bool tscfd_current_closed;
static unsigned int ntunnels, nsessions;

void tscfd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tscfd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint32_t hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (uint32_t)v & (HASH_SIZE - 1);
}

static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ *b++) * 1099511628211ULL;
	return hash64(h);
}

static const char *peer_str(const struct tscfd_tunnel *t)
{
	static char buf[INET6_ADDRSTRLEN + 8];
	char a[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;

	if (t->peer.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&t->peer;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (t->peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&t->peer;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
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
	struct tscfd_tunnel *t = by_tsid[hash64(tsid)];

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

static void tsid_link(struct tscfd_tunnel *t, uint64_t tsid)
{
	uint32_t h = hash64(tsid);

	t->tsid = tsid;
	t->hnext_tsid = by_tsid[h];
	by_tsid[h] = t;
}

static void tsid_unlink(struct tscfd_tunnel *t)
{
	struct tscfd_tunnel **pp = &by_tsid[hash64(t->tsid)];

	for (; *pp; pp = &(*pp)->hnext_tsid)
		if (*pp == t) {
			*pp = t->hnext_tsid;
			return;
		}
}

static uint32_t peer_hash(const struct sockaddr *sa, socklen_t len)
{
	return hash_bytes(sa, len);
}

struct tscfd_tunnel *tscfd_tunnel_by_peer(const struct sockaddr *peer,
					  socklen_t len)
{
	struct tscfd_tunnel *t = by_peer[peer_hash(peer, len)];

	while (t && (t->peerlen != len || memcmp(&t->peer, peer, len)))
		t = t->hnext_peer;
	return t;
}

static uint32_t ip_hash(const struct tscf_addr *a)
{
	return a->family == 4 ? hash_bytes(&a->v4, 4) : hash_bytes(&a->v6, 16);
}

bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4.s_addr == b->v4.s_addr :
				!memcmp(&a->v6, &b->v6, 16);
}

static void session_link_ip(struct tscfd_session *s, const struct tscf_addr *a)
{
	uint32_t h = ip_hash(a);

	s->hnext4 = by_ip[h];
	by_ip[h] = s;
}

struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a)
{
	struct tscfd_session *s = by_ip[ip_hash(a)];

	for (; s; s = s->hnext4)
		if (tscfd_addr_eq(&s->ip4, a) || tscfd_addr_eq(&s->ip6, a))
			return s;
	return NULL;
}

static void session_unlink_ip(struct tscfd_session *s, const struct tscf_addr *a)
{
	struct tscfd_session **pp = &by_ip[ip_hash(a)];

	for (; *pp; pp = &(*pp)->hnext4)
		if (*pp == s) {
			*pp = s->hnext4;
			return;
		}
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

/* --- tunnel lifetime ------------------------------------------------- */

struct tscfd_tunnel *tscfd_tunnel_new(struct tscfd_iface *iface, int kind,
				      int fd, const struct sockaddr *peer,
				      socklen_t peerlen)
{
	struct tscfd_tunnel *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->evtype = EV_TUNNEL;
	t->kind = kind;
	t->fd = fd;
	t->iface = iface;
	t->encrypted = kind == TK_TLS || kind == TK_DTLS;
	memcpy(&t->peer, peer, peerlen);
	t->peerlen = peerlen;
	t->created = t->last_rx = time(NULL);
	if (kind == TK_UDP) {
		uint32_t h = peer_hash(peer, peerlen);

		t->hnext_peer = by_peer[h];
		by_peer[h] = t;
	}
	t->next = all_tunnels;
	if (all_tunnels)
		all_tunnels->prev = t;
	all_tunnels = t;
	ntunnels++;
	iface->ntunnels++;
	tscfd_stats.tunnels_opened++;
	return t;
}

static void session_free(struct tscfd_session *s)
{
	if (s->ip4.family) {
		session_unlink_ip(s, &s->ip4);
		tscfd_pool_put(&s->iface->pool4, &s->ip4);
	}
	if (s->ip6.family) {
		session_unlink_ip(s, &s->ip6);
		tscfd_pool_put(&s->iface->pool6, &s->ip6);
	}
	tscfd_flows_free(s);
	free(s);
	nsessions--;
}

void tscfd_tunnel_close(struct tscfd_tunnel *t, const char *why)
{
	struct tscfd_session *s = t->session;

	tscfd_log("tunnel %016llx %s peer %s closed: %s",
		  (unsigned long long)t->tsid, kind_str(t->kind), peer_str(t), why);
	if (s && s->clear == t) {
		if (s->enc)
			tscfd_tunnel_close(s->enc, "its clear tunnel closed");
		session_free(s);
	} else if (s && s->enc == t) {
		s->enc = NULL;
	}
	if (t->configured)
		tsid_unlink(t);
	if (t->kind == TK_UDP) {
		struct tscfd_tunnel **pp = &by_peer[peer_hash((void *)&t->peer, t->peerlen)];

		for (; *pp; pp = &(*pp)->hnext_peer)
			if (*pp == t) {
				*pp = t->hnext_peer;
				break;
			}
	}
	if (t->prev)
		t->prev->next = t->next;
	else
		all_tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	tscfd_net_forget(t);
	if (t->ssl) {
		if (!t->handshaking)
			SSL_shutdown(t->ssl);	/* close_notify, best effort */
		SSL_free(t->ssl);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t->rxbuf);
	free(t->txbuf);
	if (t == tscfd_current)
		tscfd_current_closed = true;
	t->iface->ntunnels--;
	ntunnels--;
	tscfd_stats.tunnels_closed++;
	free(t);
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

static void put_config(struct tscf_enc *e, struct tscfd_session *s)
{
	struct tscfd_iface *f = s->iface;
	unsigned int i;

	tscf_enc_u16(e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
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
	tscf_enc_u16(e, TSCF_TLV_MTU, INNER_MTU);
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
		if (s->ip4.family)
			tscfd_pool_put(&f->pool4, &s->ip4);
		free(s);
		tscfd_stats.refused_pool++;
		return NULL;
	}
	if (s->ip4.family)
		session_link_ip(s, &s->ip4);
	if (s->ip6.family)
		session_link_ip(s, &s->ip6);
	nsessions++;
	return s;
}

static bool same_host(const struct tscfd_tunnel *a, const struct tscfd_tunnel *b)
{
	if (a->peer.ss_family != b->peer.ss_family)
		return false;
	if (a->peer.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->peer)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)&b->peer)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)&a->peer)->sin6_addr,
		       &((const struct sockaddr_in6 *)&b->peer)->sin6_addr, 16);
}

/* The encrypted tunnel names its clear tunnel and the reserved TSID. */
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
	    time(NULL) > s->reserve_until)
		return TSCF_RESP_UNKNOWN_TSID;
	if (!same_host(clear, t))
		return TSCF_RESP_NOT_ALLOWED;
	if (s->enc)
		tscfd_tunnel_close(s->enc, "replaced by a new encrypted tunnel");
	s->reserved_tsid = 0;
	s->enc = t;
	t->session = s;
	tsid_link(t, reserved);
	return TSCF_RESP_SUCCESS;
}

/*
 * A client whose transport broke names its clear tunnel's TSID on a new
 * one: the session (addresses, encrypted tunnel, flows) moves over and the
 * old transport is closed, so the client's sockets keep their address.
 * Knowing the TSID is the proof, as it is for every frame of a clear
 * tunnel: an on-path observer could read and inject those anyway.
 */
static uint16_t config_resume(struct tscfd_tunnel *t, uint64_t tsid)
{
	struct tscfd_tunnel *old = tunnel_by_tsid(tsid);
	struct tscfd_session *s = old ? old->session : NULL;

	if (!s || s->clear != old || old->iface != t->iface) {
		tscfd_stats.refused_resume++;
		return TSCF_RESP_UNKNOWN_TSID;
	}
	tscfd_log("tunnel %016llx %s peer %s moves to %s peer %s",
		  (unsigned long long)tsid, kind_str(old->kind), peer_str(old),
		  kind_str(t->kind), peer_str(t));
	old->session = NULL;
	tscfd_tunnel_close(old, "resumed on a new transport");
	t->session = s;
	s->clear = t;
	tsid_link(t, tsid);
	tscfd_stats.resumed++;
	return TSCF_RESP_SUCCESS;
}

static void on_config_req(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	uint8_t buf[512];
	struct tscf_enc e;
	uint16_t code = TSCF_RESP_SUCCESS;
	bool resume = m->tsid != TSCF_TSID_NONE;

	tscfd_stats.config_req++;
	if (t->configured || (resume && t->encrypted)) {
		reply_code(t, TSCF_CM_CONFIG_RESP, TSCF_TSID_NONE, m->seq,
			   TSCF_RESP_BAD_REQUEST);
		return;
	}
	if (resume) {
		code = config_resume(t, m->tsid);
	} else if (t->encrypted) {
		code = config_encrypted(t, m);
	} else if (t->iface->ntunnels > t->iface->max_tunnels) {
		code = TSCF_RESP_NO_RESOURCES;
		tscfd_stats.refused_max_tunnels++;
	} else {
		t->session = session_new(t->iface, &code);
		if (t->session) {
			code = TSCF_RESP_SUCCESS;
			t->session->clear = t;
			tsid_link(t, new_tsid());
		}
	}
	if (code != TSCF_RESP_SUCCESS) {
		reply_code(t, TSCF_CM_CONFIG_RESP, TSCF_TSID_NONE, m->seq, code);
		tscfd_tunnel_close(t, tscf_response_name(code));
		return;
	}
	t->configured = true;
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, t->tsid, m->seq);
	put_config(&e, t->session);
	reply(t, &e);
	{
		char a[INET6_ADDRSTRLEN] = "-";

		if (t->session->ip4.family)
			inet_ntop(AF_INET, &t->session->ip4.v4, a, sizeof(a));
		tscfd_log("tunnel %016llx %s peer %s up: %s, internal %s",
			  (unsigned long long)t->tsid, kind_str(t->kind), peer_str(t),
			  t->encrypted ? "encrypted (DTTE)" :
			  resume ? "clear (resumed)" : "clear", a);
	}
}

static void on_service_req(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	const struct tscf_tlv *tt = tscf_msg_find(m, TSCF_TLV_SERVICE_TYPE, NULL);
	struct tscfd_session *s = t->session;
	struct tscfd_iface *f = t->iface;
	uint8_t buf[256];
	struct tscf_enc e;
	uint16_t type;

	tscfd_stats.service_req++;
	if (!tt || tscf_tlv_u16(tt, &type) || t->encrypted ||
	    (type != TSCF_SERVICE_ENABLE_DTTE && type != TSCF_SERVICE_DISABLE_DTTE)) {
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq,
			   TSCF_RESP_BAD_REQUEST);
		return;
	}
	if (type == TSCF_SERVICE_DISABLE_DTTE) {
		s->reserved_tsid = 0;
		if (s->enc)
			tscfd_tunnel_close(s->enc, "DTTE disabled by the client");
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq, TSCF_RESP_SUCCESS);
		return;
	}
	if (!s->dtte || !f->cert[0] || f->tls_fd < 0) {
		tscfd_stats.dtte_refused++;
		tscfd_log("tunnel %016llx peer %s: DTTE refused: not in assigned-services",
			  (unsigned long long)t->tsid, peer_str(t));
		reply_code(t, TSCF_CM_SERVICE_RESP, t->tsid, m->seq,
			   TSCF_RESP_SERVICE_UNAVAILABLE);
		return;
	}
	tscfd_stats.dtte_granted++;
	s->reserved_tsid = new_tsid();
	s->reserve_until = time(NULL) + TSCFD_RESERVE_SECS;
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_SERVICE_RESP, t->tsid, m->seq);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u64(&e, TSCF_TLV_RESERVED_TSID, s->reserved_tsid);
	{
		struct tscf_conn_info ci = { .transport = TSCF_TRANSPORT_TLS,
					     .port = f->port + 1, .addr = f->advertise };

		tscf_enc_conn_info(&e, &ci);
		if (f->dtls_fd >= 0) {
			ci.transport = TSCF_TRANSPORT_DTLS;
			tscf_enc_conn_info(&e, &ci);
		}
	}
	reply(t, &e);
	tscfd_log("tunnel %016llx peer %s: DTTE granted, encrypted tunnel %016llx reserved",
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
	if (m.tsid != t->tsid) {
		/* The patent: drop the message and terminate the tunnel. */
		tscfd_stats.drop_wrong_tsid++;
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
	case TSCF_CM_CONFIG_REQ:
		on_config_req(t, &m);
		break;
	default:
		tscfd_stats.drop_unknown_type++;
	}
}

void tscfd_tunnel_frame(struct tscfd_tunnel *t, const uint8_t *frame, size_t len)
{
	t->last_rx = time(NULL);
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

static const char *expired(const struct tscfd_tunnel *t, time_t now)
{
	time_t idle = now - t->last_rx;

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

void tscfd_tick(time_t now)
{
	struct tscfd_tunnel *t;
	const char *why;

	for (t = all_tunnels; t; t = t->next)
		if (t->kind == TK_DTLS && t->handshaking)
			DTLSv1_handle_timeout(t->ssl);
	/* Closing one tunnel may close its sibling: rescan after each. */
restart:
	for (t = all_tunnels; t; t = t->next) {
		why = expired(t, now);
		if (why) {
			tscfd_tunnel_close(t, why);
			goto restart;
		}
	}
}
