// SPDX-License-Identifier: GPL-2.0
/*
 * DTLS on port N+1.  One UDP socket listens; DTLSv1_listen() answers every
 * ClientHello with a stateless cookie (HMAC of the peer's address), so a
 * spoofed flood costs no state.  A client that returns the cookie gets its
 * own UDP socket, bound to N+1 with SO_REUSEPORT and connected to it: the
 * kernel then delivers that peer's datagrams to it, and the handshake and
 * the tunnel go on there.  One DTLS record carries one frame.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/random.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include "tscfd.h"

static uint8_t cookie_secret[32];

static int cookie_of(SSL *ssl, unsigned char *out, unsigned int *len)
{
	BIO_ADDR *peer = BIO_ADDR_new();
	unsigned char raw[32];
	size_t rawlen = sizeof(raw) - 2;
	unsigned short port;

	if (!peer || BIO_dgram_get_peer(SSL_get_rbio(ssl), peer) <= 0 ||
	    !BIO_ADDR_rawaddress(peer, raw, &rawlen)) {
		BIO_ADDR_free(peer);
		return 0;
	}
	port = BIO_ADDR_rawport(peer);
	memcpy(raw + rawlen, &port, 2);
	BIO_ADDR_free(peer);
	return HMAC(EVP_sha256(), cookie_secret, sizeof(cookie_secret), raw,
		    rawlen + 2, out, len) != NULL;
}

static int cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	return cookie_of(ssl, cookie, len);
}

static int cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
	unsigned char want[EVP_MAX_MD_SIZE];
	unsigned int wlen;

	return cookie_of(ssl, want, &wlen) && wlen == len &&
	       CRYPTO_memcmp(want, cookie, len) == 0;
}

static SSL_CTX *dtls_ctx(struct tscfd_iface *f)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_server_method());

	if (!ctx)
		return NULL;
	tscfd_keylog_attach(ctx);
	SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
	if (tscfd_tls_ciphers(ctx)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_COOKIE_EXCHANGE);
	SSL_CTX_set_cookie_generate_cb(ctx, cookie_generate);
	SSL_CTX_set_cookie_verify_cb(ctx, cookie_verify);
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int reuse_socket(struct tscfd_iface *f)
{
	struct sockaddr_storage ss = f->addr;
	int one = 1, fd;
	uid_t uid;
	gid_t gid;

	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(f->port + 1);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(f->port + 1);
	/*
	 * SO_REUSEPORT joins only sockets of one owner: when tscfd will drop
	 * to another user, the listener is that user's from the start, so
	 * that the per-client sockets made after the drop can join it.
	 */
	if (tscfd_drop_target(&tscfd_conf, &uid, &gid) > 0)
		setfsuid(uid);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (geteuid() == 0)
		setfsuid(0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, f->addrlen) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static SSL *listen_ssl(struct tscfd_iface *f)
{
	SSL *ssl = SSL_new(f->dtls_ctx);
	BIO *bio;

	if (!ssl)
		return NULL;
	bio = BIO_new_dgram(f->dtls_fd, BIO_NOCLOSE);

	if (!bio) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_options(ssl, SSL_OP_COOKIE_EXCHANGE);
	return ssl;
}

int tscfd_dtls_open(struct tscfd_iface *f)
{
	if (getrandom(cookie_secret, sizeof(cookie_secret), 0) != sizeof(cookie_secret))
		return -EIO;
	f->dtls_ctx = dtls_ctx(f);
	if (!f->dtls_ctx)
		return -EINVAL;
	f->dtls_fd = reuse_socket(f);
	if (f->dtls_fd < 0)
		return f->dtls_fd;
	f->dtls_listen = listen_ssl(f);
	return f->dtls_listen ? 0 : -ENOMEM;
}

/* A client proved its address: give it a connected socket of its own. */
static void dtls_adopt(struct tscfd_iface *f, SSL *ssl, BIO_ADDR *peer)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	struct tscfd_tunnel *t;
	size_t alen = 16;
	int fd;

	ss.ss_family = BIO_ADDR_family(peer);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		BIO_ADDR_rawaddress(peer, &sin->sin_addr, &alen);
		sin->sin_port = BIO_ADDR_rawport(peer);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		BIO_ADDR_rawaddress(peer, &sin6->sin6_addr, &alen);
		sin6->sin6_port = BIO_ADDR_rawport(peer);
		len = sizeof(*sin6);
	}
	fd = reuse_socket(f);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (fd >= 0)
			close(fd);
		SSL_free(ssl);
		return;
	}
	/*
	 * The client's records arrive on this socket alone: it needs the
	 * clear UDP socket's room for a burst, or a fast TCP flow inside
	 * the encrypted tunnel loses records in it and backs off.  (The
	 * clear socket's warning said already if the room is short.)
	 */
	tscfd_udp_sockopts(fd, f->addr_str, false);
	BIO_set_fd(SSL_get_rbio(ssl), fd, BIO_NOCLOSE);
	BIO_ctrl(SSL_get_rbio(ssl), BIO_CTRL_DGRAM_SET_CONNECTED, 0, peer);
	t = tscfd_tunnel_new(f, TK_DTLS, fd, (struct sockaddr *)&ss, len);
	if (!t) {
		close(fd);
		SSL_free(ssl);
		return;
	}
	t->ssl = ssl;
	tscfd_handshake_begin(t);
	tscfd_tunnel_watch(t);
	tscfd_tunnel_handshake(t);
}

/*
 * Only a ClientHello may reach DTLSv1_listen(), which drops anything else
 * silently: drop and count the rest here.  DTLS record: type 22
 * (handshake), version 0xfeXX, ..., handshake type 1 at byte 13.
 */
static bool next_is_client_hello(int fd)
{
	uint8_t h[14];
	ssize_t n = recv(fd, h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);

	if (n < 0)
		return true;	/* nothing there: let OpenSSL see EAGAIN */
	if (n == (ssize_t)sizeof(h) && h[0] == 22 && h[1] == 0xfe && h[13] == 1)
		return true;
	recv(fd, h, 1, MSG_DONTWAIT);	/* consume the datagram */
	tscfd_stats.drop_tls++;
	return false;
}

void tscfd_dtls_accept(struct tscfd_handle *h)
{
	struct tscfd_iface *f = h->iface;
	BIO_ADDR *peer = BIO_ADDR_new();
	int i, rc;

	/* At max-handshakes the listener is off; more may be queued. */
	for (i = 0; i < 64 && peer && tscfd_handshakes() < tscfd_conf.max_handshakes; i++) {
		if (!next_is_client_hello(f->dtls_fd))
			continue;
		ERR_clear_error();
		rc = DTLSv1_listen(f->dtls_listen, peer);
		if (rc < 0)
			tscfd_stats.drop_tls++;	/* not a DTLS ClientHello */
		if (rc <= 0)
			break;	/* 0: a cookie went out, or nothing left */
		dtls_adopt(f, f->dtls_listen, peer);
		f->dtls_listen = listen_ssl(f);
		if (!f->dtls_listen)
			break;
	}
	BIO_ADDR_free(peer);
}

/* A datagram tunnel: each record is one frame. */
void tscfd_dtls_read(struct tscfd_tunnel *t)
{
	static uint8_t buf[TSCF_MAX_FRAME_LEN];
	int i, n;

	for (i = 0; i < 64 && !t->dead; i++) {
		ERR_clear_error();
		n = SSL_read(t->ssl, buf, sizeof(buf));
		if (n <= 0) {
			int e = SSL_get_error(t->ssl, n);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return;
			tscfd_stats.drop_tls += e != SSL_ERROR_ZERO_RETURN;
			tscfd_tunnel_close(t, e == SSL_ERROR_ZERO_RETURN ?
					   "closed by the peer" : "DTLS error");
			return;
		}
		tscfd_tunnel_frame(t, buf, (size_t)n);
	}
}
