// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration exchange on a fresh transport, before the socket is
 * handed to the kernel (docs/PROTOCOL.md).  UDP requests are retried once
 * a second; a stream is read frame by frame so that nothing beyond the
 * answer is consumed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "tscfctl.h"

#define ANSWER_MS	5000
/* A firewall that drops SYNs must not stall the helper for minutes. */
#define CONNECT_MS	5000

uint32_t next_seq(void)
{
	static uint32_t seq;

	if (!seq && getrandom(&seq, sizeof(seq), 0) != sizeof(seq))
		seq = (uint32_t)time(NULL);
	seq = (seq + 1) & 0x7fffffff;	/* top bit: the kernel's own requests */
	return seq;
}

/*
 * The module sends a stream tunnel's frames with MSG_MORE while more are
 * queued and without it on the last one, which must leave at once: with
 * Nagle on, a voice frame queued behind unacknowledged bulk data would
 * wait for the server's (delayed) ACK.
 */
static void stream_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		log_warn("TCP_NODELAY on the tunnel socket: %s", strerror(errno));
}

/* connect() that gives up after CONNECT_MS; the socket stays blocking. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int flags = fcntl(fd, F_GETFL), soerr = 0;
	socklen_t sl = sizeof(soerr);
	int rc;

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, sa, len) ? -errno : 0;
	if (rc == -EINPROGRESS) {
		rc = poll(&p, 1, CONNECT_MS);
		if (rc > 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			rc = -soerr;
		else
			rc = rc ? -errno : -ETIMEDOUT;
	}
	fcntl(fd, F_SETFL, flags);
	return rc;
}

int conn_open(struct tscf_conn *c, const char *addr, uint16_t port,
	      bool stream, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char ports[8];
	int rc;

	memset(c, 0, sizeof(*c));
	c->stream = stream;
	snprintf(ports, sizeof(ports), "%u", port);
	rc = getaddrinfo(addr, ports, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	rc = c->fd < 0 ? -errno : connect_bounded(c->fd, ai->ai_addr, ai->ai_addrlen);
	if (!rc && stream)
		stream_nodelay(c->fd);
	if (rc) {
		snprintf(err, errlen, "cannot reach server %s port %u/%s: %s", addr,
			 port, stream ? "tcp" : "udp",
			 rc == -ETIMEDOUT ? "no answer (filtered?)" : strerror(-rc));
		freeaddrinfo(ai);
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	freeaddrinfo(ai);
	return 0;
}

void conn_close(struct tscf_conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int conn_write(struct tscf_conn *c, const uint8_t *buf, size_t len)
{
	if (c->ssl)
		return SSL_write(c->ssl, buf, (int)len) == (int)len ? 0 : -EIO;
	return send(c->fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static int wait_readable(struct tscf_conn *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (c->ssl && SSL_pending(c->ssl))
		return 1;
	return poll(&p, 1, ms);
}

/* One whole frame into c->buf[0..len); 0, -ETIMEDOUT or -errno. */
static int conn_read_frame(struct tscf_conn *c, size_t *flen, int ms)
{
	ssize_t n;
	int rc;

	if (!c->stream) {
		if (wait_readable(c, ms) <= 0)
			return -ETIMEDOUT;
		if (c->ssl)
			n = SSL_read(c->ssl, c->buf, sizeof(c->buf));
		else
			n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		*flen = (size_t)n;
		c->len = 0;
		return 0;
	}
	for (;;) {
		rc = tscf_frame_len(c->buf, c->len, flen);
		if (!rc && *flen <= c->len)
			return 0;
		if (rc && rc != -EAGAIN)
			return -EPROTO;
		if (wait_readable(c, ms) <= 0)
			return -ETIMEDOUT;
		if (c->ssl)
			n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
		else
			n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n <= 0)
			return -ECONNRESET;
		c->len += (size_t)n;
	}
}

static void consume(struct tscf_conn *c, size_t flen)
{
	if (c->stream) {
		memmove(c->buf, c->buf + flen, c->len - flen);
		c->len -= flen;
	}
}

/* Send a request (resent on UDP) and decode the answer with its seq. */
static int transact(struct tscf_conn *c, const uint8_t *req, size_t len,
		    uint32_t seq, struct tscf_msg *m, uint8_t *copy)
{
	int tries = c->stream ? 1 : ANSWER_MS / 1000;
	size_t flen;
	int rc;

	while (tries--) {
		rc = conn_write(c, req, len);
		if (rc)
			return rc;
		for (;;) {
			rc = conn_read_frame(c, &flen, c->stream ? ANSWER_MS : 1000);
			if (rc == -ETIMEDOUT)
				break;
			if (rc)
				return rc;
			memcpy(copy, c->buf, flen);
			consume(c, flen);
			if (!tscf_msg_decode(copy, flen, m) && m->seq == seq)
				return 0;
		}
	}
	return -ETIMEDOUT;
}

static uint16_t response_code(const struct tscf_msg *m)
{
	const struct tscf_tlv *t = tscf_msg_find(m, TSCF_TLV_RESPONSE_CODE, NULL);
	uint16_t code = TSCF_RESP_BAD_REQUEST;

	if (t)
		tscf_tlv_u16(t, &code);
	return code;
}

int secret_new(uint8_t *secret)
{
	return getrandom(secret, TSCF_SECRET_LEN, 0) == TSCF_SECRET_LEN ? 0 : -EIO;
}

void secret_commit(const uint8_t *secret, uint8_t *commit)
{
	SHA256(secret, TSCF_SECRET_LEN, commit);
}

/* What a CONFIG_REQ carries beyond its TSID. */
struct config_args {
	uint64_t assoc, reserved;	/* encrypted tunnel */
	const uint8_t *dtte_secret;	/* encrypted tunnel, inside TLS */
	const uint8_t *resume_secret;	/* resume: the proof */
	const uint8_t *next_resume;	/* clear: commit to it */
};

static bool plain_datagram(const struct tscf_conn *c)
{
	return !c->stream && !c->ssl;
}

static int config_req(struct tscf_conn *c, uint8_t *req, size_t cap, uint64_t tsid,
		      uint32_t seq, const struct config_args *a)
{
	uint8_t commit[TSCF_COMMIT_LEN];
	struct tscf_enc e;

	tscf_enc_init(&e, req, cap, TSCF_CM_CONFIG_REQ, tsid, seq);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	if (a && a->assoc) {
		tscf_enc_u64(&e, TSCF_TLV_ASSOC_TSID, a->assoc);
		tscf_enc_u64(&e, TSCF_TLV_RESERVED_TSID, a->reserved);
		tscf_enc_tlv(&e, TSCF_TLV_DTTE_SECRET, a->dtte_secret, TSCF_SECRET_LEN);
	}
	if (a && a->resume_secret)
		tscf_enc_tlv(&e, TSCF_TLV_RESUME_SECRET, a->resume_secret, TSCF_SECRET_LEN);
	if (a && a->next_resume) {
		secret_commit(a->next_resume, commit);
		tscf_enc_tlv(&e, TSCF_TLV_RESUME_COMMIT, commit, TSCF_COMMIT_LEN);
	}
	if (c->has_cookie)
		tscf_enc_tlv(&e, TSCF_TLV_COOKIE, c->cookie, TSCF_COOKIE_LEN);
	if (plain_datagram(c))
		tscf_enc_pad(&e, TSCF_DGRAM_CONFIG_MIN_LEN);
	return tscf_enc_finish(&e);
}

/* A COOKIE answer: keep the cookie for the next request; 0 or -EPROTO. */
static int take_cookie(struct tscf_conn *c, const struct tscf_msg *m)
{
	const struct tscf_tlv *t = tscf_msg_find(m, TSCF_TLV_COOKIE, NULL);

	if (!t || t->len != TSCF_COOKIE_LEN)
		return -EPROTO;
	memcpy(c->cookie, t->val, TSCF_COOKIE_LEN);
	c->has_cookie = true;
	return 0;
}

/*
 * Over plain UDP, a request without secrets first, answered by a COOKIE
 * (its source address proven), so that nothing is revealed to a server
 * that would not answer; then the real request with the cookie.  A COOKIE
 * again (the server's secret rotated, a NAT rebound) is taken once more.
 */
static int config_transact(struct tscf_conn *c, uint64_t tsid,
			   const struct config_args *a, struct tscf_msg *m,
			   uint8_t *ans)
{
	static uint8_t req[512];
	uint32_t seq;
	int round, len, rc;

	for (round = 0; round < 3; round++) {
		bool probe = plain_datagram(c) && !c->has_cookie;

		seq = next_seq();
		len = config_req(c, req, sizeof(req), probe ? TSCF_TSID_NONE : tsid,
				 seq, probe ? NULL : a);
		if (len < 0)
			return len;
		rc = transact(c, req, (size_t)len, seq, m, ans);
		if (rc)
			return rc;
		if (m->type != TSCF_CM_COOKIE)	/* a probe's success: a server
						 * that wants no cookie (version 1) */
			return probe && response_code(m) == TSCF_RESP_SUCCESS ?
			       -EPROTO : 0;
		if (!plain_datagram(c) || take_cookie(c, m))
			return -EPROTO;
	}
	return -EPROTO;
}

/*
 * CONFIG_REQ with TSID (all ones, or a tunnel to resume); 0, -ENOENT when
 * the server does not know the TSID or refuses the proof, or -1; err says why.
 */
static int config_exchange(struct tscf_conn *c, uint64_t tsid,
			   const struct config_args *a, struct tscf_config *cfg,
			   char *err, size_t errlen)
{
	static uint8_t ans[8192];
	const struct tscf_tlv *t;
	struct tscf_msg m;
	uint32_t mask = 0;
	uint8_t plen6, version = 0;
	uint16_t code;
	int rc;

	rc = config_transact(c, tsid, a, &m, ans);
	if (rc) {
		snprintf(err, errlen, "configuration request: %s",
			 rc == -ETIMEDOUT ? "no answer from the server" :
			 rc == -EPROTO ? "the server does not speak this protocol" :
			 strerror(-rc));
		return -1;
	}
	code = response_code(&m);
	if (m.type != TSCF_CM_CONFIG_RESP || code != TSCF_RESP_SUCCESS) {
		t = tscf_msg_find(&m, TSCF_TLV_VERSION, NULL);
		if (t)
			tscf_tlv_u8(t, &version);
		snprintf(err, errlen, "server refused the configuration: %s%s",
			 tscf_response_name(code),
			 code == TSCF_RESP_UNSUPPORTED_VERSION ?
			 (version > TSCF_PROTO_VERSION ? " (it speaks a newer one)" :
			  " (it speaks an older one)") : "");
		return code == TSCF_RESP_UNKNOWN_TSID ||
		       (tsid != TSCF_TSID_NONE && code == TSCF_RESP_NOT_ALLOWED) ?
		       -ENOENT : -1;
	}
	t = tscf_msg_find(&m, TSCF_TLV_VERSION, NULL);
	if (!t || tscf_tlv_u8(t, &version) || version != TSCF_PROTO_VERSION) {
		snprintf(err, errlen, "the server does not speak protocol version %d",
			 TSCF_PROTO_VERSION);
		return -1;
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->tsid = m.tsid;
	t = tscf_msg_find(&m, TSCF_TLV_INTERNAL_IPV4, NULL);
	if (t)
		tscf_tlv_in4(t, &cfg->ip4);
	t = tscf_msg_find(&m, TSCF_TLV_INTERNAL_IPV4_MASK, NULL);
	if (t && !tscf_tlv_u32(t, &mask))
		cfg->plen4 = (unsigned int)__builtin_popcount(mask);
	t = tscf_msg_find(&m, TSCF_TLV_INTERNAL_IPV6, NULL);
	if (t)
		tscf_tlv_in6(t, &cfg->ip6);
	t = tscf_msg_find(&m, TSCF_TLV_INTERNAL_IPV6_PLEN, NULL);
	if (t && !tscf_tlv_u8(t, &plen6))
		cfg->plen6 = plen6;
	t = tscf_msg_find(&m, TSCF_TLV_KEEPALIVE, NULL);
	if (!t || tscf_tlv_u32(t, &cfg->keepalive) || !cfg->keepalive)
		cfg->keepalive = 30;
	t = tscf_msg_find(&m, TSCF_TLV_MTU, NULL);
	if (t)
		tscf_tlv_u16(t, &cfg->mtu);
	/*
	 * TCP super-frames (PROTOCOL.md 1.3): only an offer above the MTU
	 * means anything.  A DTLS tunnel never passes it on (tnl_attach()).
	 */
	t = tscf_msg_find(&m, TSCF_TLV_SUPER_FRAMES, NULL);
	if (t && !tscf_tlv_u16(t, &cfg->super_frames) &&
	    cfg->super_frames <= cfg->mtu)
		cfg->super_frames = 0;
	if (!cfg->tsid || cfg->tsid == TSCF_TSID_NONE ||
	    (tsid != TSCF_TSID_NONE && cfg->tsid != tsid)) {
		snprintf(err, errlen, "server assigned an invalid TSID");
		return -1;
	}
	return 0;
}

int conn_config(struct tscf_conn *c, struct tscf_secrets *sec,
		struct tscf_config *cfg, char *err, size_t errlen)
{
	struct config_args a = { .next_resume = sec->next_resume };

	if (secret_new(sec->next_resume)) {
		snprintf(err, errlen, "no randomness for the session secrets");
		return -1;
	}
	if (config_exchange(c, TSCF_TSID_NONE, &a, cfg, err, errlen))
		return -1;
	memcpy(sec->resume, sec->next_resume, TSCF_SECRET_LEN);
	return 0;
}

int conn_config_enc(struct tscf_conn *c, uint64_t assoc, uint64_t reserved,
		    const struct tscf_secrets *sec, struct tscf_config *cfg,
		    char *err, size_t errlen)
{
	struct config_args a = { .assoc = assoc, .reserved = reserved,
				 .dtte_secret = sec->dtte };

	return config_exchange(c, TSCF_TSID_NONE, &a, cfg, err, errlen) ? -1 : 0;
}

int conn_resume(struct tscf_conn *c, uint64_t tsid, struct tscf_secrets *sec,
		struct tscf_config *cfg, char *err, size_t errlen)
{
	struct config_args a = { .resume_secret = sec->resume,
				 .next_resume = sec->next_resume };
	int rc;

	if (secret_new(sec->next_resume)) {
		snprintf(err, errlen, "no randomness for the session secrets");
		return -1;
	}
	rc = config_exchange(c, tsid, &a, cfg, err, errlen);
	if (!rc)	/* the server now holds the next commitment */
		memcpy(sec->resume, sec->next_resume, TSCF_SECRET_LEN);
	return rc;
}

int conn_service(struct tscf_conn *c, uint64_t tsid, const struct tscf_secrets *sec,
		 uint64_t *reserved, struct tscf_conn_info *ci, uint8_t transport,
		 char *err, size_t errlen)
{
	static uint8_t req[128], ans[8192];
	uint8_t commit[TSCF_COMMIT_LEN];
	const struct tscf_tlv *t;
	struct tscf_msg m;
	struct tscf_enc e;
	uint32_t seq = next_seq();
	uint16_t code;
	int len, rc;

	secret_commit(sec->dtte, commit);
	tscf_enc_init(&e, req, sizeof(req), TSCF_CM_SERVICE_REQ, tsid, seq);
	tscf_enc_u16(&e, TSCF_TLV_SERVICE_TYPE, TSCF_SERVICE_ENABLE_DTTE);
	tscf_enc_tlv(&e, TSCF_TLV_DTTE_COMMIT, commit, TSCF_COMMIT_LEN);
	len = tscf_enc_finish(&e);
	rc = transact(c, req, (size_t)len, seq, &m, ans);
	if (rc) {
		snprintf(err, errlen, "service request: %s", strerror(-rc));
		return -1;
	}
	code = response_code(&m);
	if (code != TSCF_RESP_SUCCESS) {
		snprintf(err, errlen, "server answered %s%s", tscf_response_name(code),
			 code == TSCF_RESP_SERVICE_UNAVAILABLE ?
			 ": DTTE is not enabled on this interface" : "");
		return -1;
	}
	t = tscf_msg_find(&m, TSCF_TLV_RESERVED_TSID, NULL);
	if (!t || tscf_tlv_u64(t, reserved)) {
		snprintf(err, errlen, "service response without a reserved TSID");
		return -1;
	}
	for (t = NULL; (t = tscf_msg_find(&m, TSCF_TLV_CONN_INFO, t));)
		if (!tscf_tlv_conn_info(t, ci) && ci->transport == transport)
			return 0;
	snprintf(err, errlen, "server offers no %s transport for DTTE",
		 transport == TSCF_TRANSPORT_DTLS ? "DTLS" : "TLS");
	return -1;
}

int conn_release(struct tscf_conn *c, uint64_t tsid)
{
	uint8_t req[32], ans[8192];
	struct tscf_msg m;
	struct tscf_enc e;
	uint32_t seq = next_seq();
	int len;

	tscf_enc_init(&e, req, sizeof(req), TSCF_CM_RELEASE_REQ, tsid, seq);
	len = tscf_enc_finish(&e);
	return transact(c, req, (size_t)len, seq, &m, ans);
}
