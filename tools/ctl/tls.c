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
#include <openssl/err.h>
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

static void verify_error(SSL *ssl, const char *what, const char *name,
			 const char *host, uint16_t port, char *err, size_t errlen)
{
	long vr = SSL_get_verify_result(ssl);

	if (vr != X509_V_OK)
		snprintf(err, errlen, "certificate verify failed for %s: %s", name,
			 X509_verify_cert_error_string(vr));
	else
		snprintf(err, errlen, "%s handshake with %s port %u failed: %s", what,
			 host, port, ERR_reason_error_string(ERR_get_error()));
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

/* DTLS for probing a server's datagram encrypted transport. */
int dtls_connect(struct tscf_conn *c, const struct helper_opts *o,
		 const struct tscf_conn_info *ci, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 1 };
	char host[INET6_ADDRSTRLEN];
	SSL_CTX *ctx;
	BIO *bio;

	c->fd = -1;
	c->ssl = NULL;
	if (check_target(o, ci, host, sizeof(host), err, errlen) ||
	    conn_open(c, host, ci->port, false, err, errlen))
		return -1;
	ctx = SSL_CTX_new(DTLS_client_method());
	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (!load_trust(ctx, o, err, errlen)) {
		SSL_CTX_free(ctx);
		goto fail;
	}
	keylog_setup(ctx);
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	bio = BIO_new_dgram(c->fd, BIO_NOCLOSE);
	BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_RECV_TIMEOUT, 0, &tv);
	{
		/* The socket is connected: tell the BIO, or it has no peer. */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		BIO_ADDR *peer = BIO_ADDR_new();

		getpeername(c->fd, (struct sockaddr *)&ss, &sl);
		if (ss.ss_family == AF_INET)
			BIO_ADDR_rawmake(peer, AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
					 4, ((struct sockaddr_in *)&ss)->sin_port);
		else
			BIO_ADDR_rawmake(peer, AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
					 16, ((struct sockaddr_in6 *)&ss)->sin6_port);
		BIO_ctrl_set_connected(bio, peer);
		BIO_ADDR_free(peer);
	}
	SSL_set_bio(c->ssl, bio, bio);
	if (set_identity(c->ssl, verify_name(o), err, errlen))
		goto fail;
	if (SSL_connect(c->ssl) != 1) {
		verify_error(c->ssl, "DTLS", verify_name(o), host, ci->port, err, errlen);
		goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}
