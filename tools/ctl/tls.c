// SPDX-License-Identifier: GPL-2.0
/*
 * TLS for the encrypted tunnel: OpenSSL does the handshake and installs
 * kTLS in both directions, then the socket goes to the kernel.  Linux 6.1
 * takes kTLS RX only for TLS 1.2, so the client stays at TLS 1.2 with an
 * AES-GCM suite.  The server certificate is always verified, against
 * the name the user configured and the CA the user gave (the system store
 * only on request): never against what the clear tunnel said.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <poll.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/x509v3.h>

#include "tscfctl.h"

/* The identity the certificate must prove: server-name, else server. */
static const char *verify_name(const struct helper_opts *o)
{
	return o->server_name ? o->server_name : o->server;
}

static bool addr_is(const struct sockaddr *sa, const struct tscf_addr *a)
{
	if (sa->sa_family == AF_INET && a->family == 4)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == a->v4.s_addr;
	if (sa->sa_family == AF_INET6 && a->family == 6)
		return !memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, &a->v6, 16);
	return false;
}

/*
 * CONN_INFO comes over the clear tunnel, which anyone on the path can
 * rewrite: the encrypted tunnel goes only to an address of the server the
 * user named (unless allow-redirect), and whatever the address, the
 * certificate is verified against the configured name with the configured
 * CA.  Fills host with CONN_INFO's address.
 */
static int check_target(const struct helper_opts *o, const struct tscf_conn_info *ci,
			char *host, size_t hostlen, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	bool found = false;
	int rc;

	if (!inet_ntop(ci->addr.family == 4 ? AF_INET : AF_INET6, &ci->addr.v4,
		       host, hostlen)) {
		snprintf(err, errlen, "the server's connection info has no valid address");
		return -1;
	}
	if (!verify_name(o)) {
		snprintf(err, errlen, "no name to verify the server against: "
			 "give 'server NAME' or 'server-name NAME'");
		return -1;
	}
	if (!o->ca && !o->system_ca) {
		snprintf(err, errlen, "the encrypted tunnel needs 'ca FILE' to verify "
			 "the server (or 'system-ca' to trust the system store)");
		return -1;
	}
	if (o->allow_redirect)
		return 0;
	if (!o->server) {
		snprintf(err, errlen, "cannot check the address the server named (%s): "
			 "give 'server ADDR', or 'allow-redirect'", host);
		return -1;
	}
	rc = getaddrinfo(o->server, NULL, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", o->server, gai_strerror(rc));
		return -1;
	}
	for (p = ai; p && !found; p = p->ai_next)
		found = addr_is(p->ai_addr, &ci->addr);
	freeaddrinfo(ai);
	if (!found) {
		snprintf(err, errlen, "refused: the server named %s for the encrypted "
			 "tunnel, which is not %s ('allow-redirect' permits it)",
			 host, o->server);
		return -1;
	}
	return 0;
}

static bool load_trust(SSL_CTX *ctx, const struct helper_opts *o, char *err,
		       size_t errlen)
{
	if (o->ca ? SSL_CTX_load_verify_locations(ctx, o->ca, NULL) == 1 :
		    SSL_CTX_set_default_verify_paths(ctx) == 1)
		return true;
	snprintf(err, errlen, "cannot load CA %s", o->ca ? o->ca : "(system store)");
	return false;
}

/* The certificate must be valid for this name or IP address. */
static int set_identity(SSL *ssl, const char *name, char *err, size_t errlen)
{
	unsigned char ip[16];
	int ok;

	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	} else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(ssl, name) && SSL_set_tlsext_host_name(ssl, name);
	}
	if (ok != 1)
		snprintf(err, errlen, "cannot verify against '%s'", name);
	return ok == 1 ? 0 : -1;
}

/* OpenSSL's reason, or the socket's when a syscall failed and left none. */
static const char *ssl_reason(int sys_errno)
{
	const char *r = ERR_reason_error_string(ERR_get_error());

	if (r)
		return r;
	return sys_errno ? strerror(sys_errno) : "connection closed";
}

static void verify_error(SSL *ssl, const char *what, const char *name,
			 const char *host, uint16_t port, char *err, size_t errlen)
{
	long vr = SSL_get_verify_result(ssl);

	if (vr != X509_V_OK)
		snprintf(err, errlen, "certificate verify failed for %s: %s", name,
			 X509_verify_cert_error_string(vr));
	else
		snprintf(err, errlen, "%s handshake with %s port %u failed: %s", what,
			 host, port, ssl_reason(errno));
}

/*
 * SSLKEYLOGFILE (lab captures only): every TLS/DTLS session's secrets are
 * appended to that file, in the key log format Wireshark reads, so that
 * anyone who can read it can decrypt the tunnel.  Said loudly, once.
 */
static FILE *keylog_file;

static void keylog_line(const SSL *ssl, const char *line)
{
	(void)ssl;
	if (keylog_file) {
		fprintf(keylog_file, "%s\n", line);
		fflush(keylog_file);
	}
}

void keylog_setup(SSL_CTX *ctx)
{
	static bool tried;
	const char *path = getenv("SSLKEYLOGFILE");

	if (!path || !*path)
		return;
	if (!tried) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		tried = true;
		keylog_file = fd >= 0 ? fdopen(fd, "a") : NULL;
		if (!keylog_file) {
			log_warn("SSLKEYLOGFILE=%s: %s: no key log written", path,
				 strerror(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		log_warn("SSLKEYLOGFILE is set: writing TLS/DTLS session keys to %s; "
			 "anyone who can read it can decrypt the encrypted tunnel (lab use only)",
			 path);
	}
	if (keylog_file)
		SSL_CTX_set_keylog_callback(ctx, keylog_line);
}

static SSL_CTX *client_ctx(const struct helper_opts *o, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
				"ECDHE-RSA-AES128-GCM-SHA256:"
				"ECDHE-ECDSA-AES256-GCM-SHA384:"
				"ECDHE-RSA-AES256-GCM-SHA384");
	SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (!load_trust(ctx, o, err, errlen)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	keylog_setup(ctx);
	return ctx;
}

int tls_connect(struct tscf_conn *c, const struct helper_opts *o,
		const struct tscf_conn_info *ci, bool need_ktls, char *err,
		size_t errlen)
{
	const struct timeval hs_timeout = { .tv_sec = 5 }, no_timeout = {};
	char host[INET6_ADDRSTRLEN];
	SSL_CTX *ctx;
	int rc;

	c->fd = -1;
	c->ssl = NULL;
	if (check_target(o, ci, host, sizeof(host), err, errlen) ||
	    conn_open(c, host, ci->port, true, err, errlen))
		return -1;
	ctx = client_ctx(o, err, errlen);
	if (!ctx)
		goto fail;
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (set_identity(c->ssl, verify_name(o), err, errlen))
		goto fail;
	/* A server that accepts but never answers must not hang the helper. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &hs_timeout, sizeof(hs_timeout));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &hs_timeout, sizeof(hs_timeout));
	rc = SSL_connect(c->ssl);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &no_timeout, sizeof(no_timeout));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &no_timeout, sizeof(no_timeout));
	if (rc != 1) {
		verify_error(c->ssl, "TLS", verify_name(o), host, ci->port, err, errlen);
		goto fail;
	}
	if (need_ktls && (!BIO_get_ktls_send(SSL_get_wbio(c->ssl)) ||
			  !BIO_get_ktls_recv(SSL_get_rbio(c->ssl)))) {
		snprintf(err, errlen, "kernel lacks kTLS for %s (modprobe tls)",
			 SSL_get_cipher_name(c->ssl));
		goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}

/* The kernel owns the socket now: forget the TLS state without a word. */
void tls_handover(struct tscf_conn *c)
{
	SSL_set_quiet_shutdown(c->ssl, 1);
	SSL_free(c->ssl);
	c->ssl = NULL;
}

/*
 * DTLS record numbers, from the record headers OpenSSL reports
 * (SSL3_RT_HEADER: type, version, epoch(2), seq(6), length): the kernel
 * must go on where OpenSSL stopped, in both directions, or it would
 * reuse a nonce (write) or take a replayed record (read).  The read side
 * sees headers before they are authenticated: a forged high number only
 * makes the kernel drop the peer's records, which anyone on the path can
 * do anyway.
 */
static void dtls_track(int write_p, int version, int content_type,
		       const void *buf, size_t len, SSL *ssl, void *arg)
{
	struct tscf_conn *c = SSL_get_app_data(ssl);
	const uint8_t *h = buf;
	uint64_t seq, *next;
	uint16_t epoch;

	(void)version;
	(void)arg;
	if (content_type != SSL3_RT_HEADER || len < DTLS1_RT_HEADER_LENGTH || !c)
		return;
	epoch = (uint16_t)(h[3] << 8 | h[4]);
	seq = 0;
	for (int i = 5; i < 11; i++)
		seq = seq << 8 | h[i];
	if (!epoch)
		return;
	next = write_p ? &c->dtls_tx_next : &c->dtls_rx_next;
	if (epoch > c->dtls_epoch) {
		c->dtls_epoch = epoch;
		c->dtls_tx_next = c->dtls_rx_next = 0;
	}
	if (epoch == c->dtls_epoch && seq + 1 > *next)
		*next = seq + 1;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The handshake within total_ms, retransmitting on OpenSSL's timer: a
 * UDP port that drops everything must fail in seconds, not minutes.
 * Returns 0, -ETIMEDOUT when nothing came back in time (the helper's log
 * must tell a filtered port from a refused one), or -1 with errno or
 * OpenSSL's error queue saying why.
 */
static int dtls_handshake(SSL *ssl, int fd, long total_ms)
{
	long deadline = ms_now() + total_ms;
	int flags = fcntl(fd, F_GETFL), rc;

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timeval tv;
		long wait = 100, left;
		int e;

		ERR_clear_error();
		rc = SSL_connect(ssl);
		if (rc == 1)
			break;
		e = SSL_get_error(ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			if (e != SSL_ERROR_SYSCALL)
				errno = 0;	/* the reason is in OpenSSL's queue */
			break;
		}
		left = deadline - ms_now();
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (DTLSv1_get_timeout(ssl, &tv))
			wait = tv.tv_sec * 1000 + tv.tv_usec / 1000;
		if (poll(&p, 1, (int)(wait < left ? wait : left)) == 0)
			DTLSv1_handle_timeout(ssl);
	}
	fcntl(fd, F_SETFL, flags);
	if (rc == 1)
		return 0;
	return rc == -ETIMEDOUT ? rc : -1;
}

/* The socket is connected: tell the BIO, or it has no peer. */
static void dtls_bio_connected(BIO *bio, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	BIO_ADDR *peer = BIO_ADDR_new();

	getpeername(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET)
		BIO_ADDR_rawmake(peer, AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
				 4, ((struct sockaddr_in *)&ss)->sin_port);
	else
		BIO_ADDR_rawmake(peer, AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
				 16, ((struct sockaddr_in6 *)&ss)->sin6_port);
	BIO_ctrl_set_connected(bio, peer);
	BIO_ADDR_free(peer);
}

/*
 * DTLS 1.2 to the encrypted transport: for a probe, and for the kernel's
 * DTLS tunnel, which takes only AES-GCM records, so only those suites
 * are offered; no tickets and no renegotiation (the kernel could not
 * follow a new handshake).
 */
int dtls_connect(struct tscf_conn *c, const struct helper_opts *o,
		 const struct tscf_conn_info *ci, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 1 };
	char host[INET6_ADDRSTRLEN];
	SSL_CTX *ctx;
	BIO *bio;
	int rc;

	c->fd = -1;
	c->ssl = NULL;
	c->dtls_epoch = 0;
	c->dtls_tx_next = c->dtls_rx_next = 0;
	if (check_target(o, ci, host, sizeof(host), err, errlen) ||
	    conn_open(c, host, ci->port, false, err, errlen))
		return -1;
	ctx = SSL_CTX_new(DTLS_client_method());
	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
				"ECDHE-RSA-AES128-GCM-SHA256:"
				"ECDHE-ECDSA-AES256-GCM-SHA384:"
				"ECDHE-RSA-AES256-GCM-SHA384");
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (!load_trust(ctx, o, err, errlen)) {
		SSL_CTX_free(ctx);
		goto fail;
	}
	keylog_setup(ctx);
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	SSL_set_app_data(c->ssl, c);
	SSL_set_msg_callback(c->ssl, dtls_track);
	bio = BIO_new_dgram(c->fd, BIO_NOCLOSE);
	BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_RECV_TIMEOUT, 0, &tv);
	dtls_bio_connected(bio, c->fd);
	SSL_set_bio(c->ssl, bio, bio);
	if (set_identity(c->ssl, verify_name(o), err, errlen))
		goto fail;
	rc = dtls_handshake(c->ssl, c->fd, DTLS_HANDSHAKE_MS);
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "DTLS handshake with %s port %u: no answer, timed out after %d ms",
			 host, ci->port, DTLS_HANDSHAKE_MS);
		goto fail;
	}
	if (rc) {
		verify_error(c->ssl, "DTLS", verify_name(o), host, ci->port, err, errlen);
		goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}

/* The TLS 1.2 PRF (RFC 5246 5) with the suite's hash, by OpenSSL's KDF. */
static int tls12_prf(const EVP_MD *md, const uint8_t *secret, size_t slen,
		     const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
						      (void *)secret, slen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
						      (void *)seed, seedlen);
	params[3] = OSSL_PARAM_construct_end();
	ok = kctx && EVP_KDF_derive(kctx, out, outlen, params) == 1;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

/*
 * The record state of c's DTLS session for the kernel: the key block
 * (RFC 5246 6.3: PRF(master, "key expansion", server_random +
 * client_random); AES-GCM has no MAC keys: client key, server key,
 * client IV, server IV, the IVs 4 bytes), the epoch and the next record
 * numbers.  Nothing may be read or written on c after this.
 */
int dtls_export(struct tscf_conn *c, struct dtls_keys *k, char *err, size_t errlen)
{
	static const char label[] = "key expansion";
	const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
	uint8_t master[SSL_MAX_MASTER_KEY_LENGTH], seed[sizeof(label) - 1 + 64];
	uint8_t block[2 * 32 + 2 * 4];
	size_t mlen;
	int nid = cipher ? SSL_CIPHER_get_cipher_nid(cipher) : NID_undef;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (nid != NID_aes_128_gcm && nid != NID_aes_256_gcm) {
		snprintf(err, errlen, "DTLS suite %s is not AES-GCM",
			 cipher ? SSL_CIPHER_get_name(cipher) : "(none)");
		return -1;
	}
	if (SSL_version(c->ssl) != DTLS1_2_VERSION || c->dtls_epoch != 1 ||
	    SSL_pending(c->ssl)) {
		snprintf(err, errlen, "DTLS session is not a fresh DTLS 1.2 epoch 1");
		return -1;
	}
	k->key_len = nid == NID_aes_128_gcm ? 16 : 32;
	mlen = SSL_SESSION_get_master_key(SSL_get_session(c->ssl), master, sizeof(master));
	memcpy(seed, label, sizeof(label) - 1);
	SSL_get_server_random(c->ssl, seed + sizeof(label) - 1, 32);
	SSL_get_client_random(c->ssl, seed + sizeof(label) - 1 + 32, 32);
	if (mlen && !tls12_prf(SSL_CIPHER_get_handshake_digest(cipher), master, mlen,
			       seed, sizeof(seed), block, 2 * k->key_len + 8)) {
		memcpy(k->tx_key, block, k->key_len);
		memcpy(k->rx_key, block + k->key_len, k->key_len);
		memcpy(k->tx_salt, block + 2 * k->key_len, 4);
		memcpy(k->rx_salt, block + 2 * k->key_len + 4, 4);
		k->epoch = c->dtls_epoch;
		k->tx_seq = c->dtls_tx_next;
		k->rx_seq = c->dtls_rx_next;
		rc = 0;
	} else {
		snprintf(err, errlen, "cannot derive the DTLS record keys");
	}
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(block, sizeof(block));
	return rc;
}
