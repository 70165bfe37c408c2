// SPDX-License-Identifier: GPL-2.0
/*
 * TLS for the encrypted tunnel: OpenSSL does the handshake and installs
 * kTLS in both directions, then the socket goes to the kernel.  Linux 6.1
 * takes kTLS RX only for TLS 1.2, so the client stays at TLS 1.2 with an
 * AES-GCM suite.  The server certificate is always verified.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tscfctl.h"

static SSL_CTX *client_ctx(const char *ca, char *err, size_t errlen)
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
	if ((ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) ||
	    (!ca && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		snprintf(err, errlen, "cannot load CA %s", ca ? ca : "(system store)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int tls_connect(struct tscf_conn *c, const char *host, uint16_t port,
		const char *ca, bool need_ktls, char *err, size_t errlen)
{
	const struct timeval hs_timeout = { .tv_sec = 5 }, no_timeout = {};
	unsigned char ip[16];
	SSL_CTX *ctx;
	long vr;
	int rc;

	if (conn_open(c, host, port, true, err, errlen))
		return -1;
	ctx = client_ctx(ca, err, errlen);
	if (!ctx)
		goto fail;
	c->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	else
		SSL_set1_host(c->ssl, host);
	SSL_set_tlsext_host_name(c->ssl, host);
	/* A server that accepts but never answers must not hang the helper. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &hs_timeout, sizeof(hs_timeout));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &hs_timeout, sizeof(hs_timeout));
	rc = SSL_connect(c->ssl);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &no_timeout, sizeof(no_timeout));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &no_timeout, sizeof(no_timeout));
	if (rc != 1) {
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK)
			snprintf(err, errlen, "certificate verify failed: %s",
				 X509_verify_cert_error_string(vr));
		else
			snprintf(err, errlen, "TLS handshake with %s port %u failed: %s",
				 host, port, ERR_reason_error_string(ERR_get_error()));
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
int dtls_connect(struct tscf_conn *c, const char *host, uint16_t port,
		 const char *ca, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = 1 };
	SSL_CTX *ctx;
	BIO *bio;

	if (conn_open(c, host, port, false, err, errlen))
		return -1;
	ctx = SSL_CTX_new(DTLS_client_method());
	if (!ctx)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) ||
	    (!ca && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		snprintf(err, errlen, "cannot load CA %s", ca ? ca : "(system store)");
		SSL_CTX_free(ctx);
		goto fail;
	}
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
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	if (SSL_connect(c->ssl) != 1) {
		long vr = SSL_get_verify_result(c->ssl);

		snprintf(err, errlen, "DTLS handshake with %s port %u failed: %s", host, port,
			 vr != X509_V_OK ? X509_verify_cert_error_string(vr) :
			 ERR_reason_error_string(ERR_get_error()));
		goto fail;
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}
