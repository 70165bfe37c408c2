// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * Sockets: listeners on port N (TCP, UDP) and N + 1 (TLS) of each
 * interface, stream framing, and sending frames with backpressure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sock_diag.h>
#include <openssl/err.h>

#include "tscfd.h"

#define STREAM_READ		(128 * 1024)
#define TX_BACKLOG_MAX		(512 * 1024)	/* per stream tunnel */
#define RX_BATCH		32	/* datagrams per recvmmsg */
#define RX_ROUNDS		2	/* recvmmsg calls per event */
#define TX_BATCH		64	/* datagrams per sendmmsg */
#define TX_ARENA		(256 * 1024)	/* their bytes, copied */
#define CORK_MAX		256	/* stream tunnels corked in one round */
/*
 * TLS 1.2: forward secrecy and AEAD only (what kTLS offloads); TLS 1.3
 * suites are all AEAD and keep OpenSSL's default list.
 */
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

int tscfd_epfd = -1, tscfd_tunfd = -1;
static struct tscfd_handle *handles;	/* listeners: 4 per interface at most */
static unsigned int nhandles, maxhandles;
static int reserve_fd = -1;		/* given up to shed a connection on EMFILE */
static bool accept_paused;		/* EMFILE and no reserve: until the next tick */
static bool hs_paused;			/* handshakes at the cap: TLS/DTLS listeners off */
static struct tscfd_tunnel *hs_list;	/* handshakes in flight */
static unsigned int hs_count;
static size_t backlog_bytes;		/* sum of every tunnel's txlen */
static size_t preauth_bytes;		/* rxbuf held by unconfigured tunnels */

static int epoll_set(int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(tscfd_epfd, op, fd, &ev);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int open_listener(struct tscfd_iface *f, int type, uint16_t port)
{
	struct sockaddr_storage ss = f->addr;
	int one = 1, fd;

	set_port(&ss, port);
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, f->addrlen) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* AEAD suites only, for TLS and DTLS alike. */
int tscfd_tls_ciphers(SSL_CTX *ctx)
{
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		tscfd_logp(LOG_ERR, "cannot set the TLS cipher list: %s",
			  ERR_reason_error_string(ERR_get_error()));
		return -1;
	}
	return 0;
}

static SSL_CTX *tls_ctx(struct tscfd_iface *f)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	tscfd_keylog_attach(ctx);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (tscfd_tls_ciphers(ctx)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * The client hands its socket to the kernel right after the
	 * handshake: no session tickets or other post-handshake records.
	 */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_ENABLE_KTLS);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1) {
		tscfd_logp(LOG_ERR, "%s: cannot load certificate/key: %s", f->addr_str,
			  ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * One buffer setting, forced past net.core.[rw]mem_max with CAP_NET_ADMIN
 * (tscfd keeps it), else as much as the sysctl allows; the kernel doubles
 * the value for its bookkeeping.  The size actually set.
 */
static int sockbuf_set(int fd, int force_opt, int opt, int bytes)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
	getsockopt(fd, SOL_SOCKET, opt, &got, &len);
	return got / 2;
}

/*
 * A UDP tunnel socket: room for a burst (udp-socket-buffer), so that a
 * fast TCP flow inside does not lose packets in it and back off, and a
 * count of what the kernel still dropped (drop_rxq_overflow, from the
 * socket's SK_MEMINFO_DROPS).  Not SO_RXQ_OVFL: Debian 12's 6.1 copies that
 * count to userspace straight from the queued skb's control block, which
 * hardened usercopy refuses for an skb of the fclone cache (a TCP skb
 * that tscf.ko sent on as a UDP tunnel datagram): the kernel BUGs in
 * put_cmsg() and the machine panics.  `make bench` hit it on a full queue.
 */
void tscfd_udp_sockopts(int fd, const char *name, bool warn)
{
	int want = (int)tscfd_conf.udp_sockbuf_bytes, rcv, snd;

	rcv = sockbuf_set(fd, SO_RCVBUFFORCE, SO_RCVBUF, want);
	snd = sockbuf_set(fd, SO_SNDBUFFORCE, SO_SNDBUF, want);
	if (warn && (rcv < want || snd < want))
		tscfd_logp(LOG_WARNING, "%s: udp-socket-buffer %d KB, got %d KB receive, "
			   "%d KB send (no CAP_NET_ADMIN: net.core.rmem_max, wmem_max)",
			   name, want / 1024, rcv / 1024, snd / 1024);
}

/* The socket's drop count (it only grows, modulo 2^32): count what is new. */
static void rxq_drops_note(struct tscfd_iface *f, uint32_t drops)
{
	int32_t more = (int32_t)(drops - f->udp_drops_seen);

	if (more <= 0)
		return;
	tscfd_stats.drop_rxq_overflow += (uint32_t)more;
	f->udp_drops_seen = drops;
}

/* The socket's drop count as it is now. */
static void rxq_drops_read(struct tscfd_iface *f)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (f->udp_fd >= 0 &&
	    !getsockopt(f->udp_fd, SOL_SOCKET, SO_MEMINFO, mi, &len) &&
	    len > SK_MEMINFO_DROPS * sizeof(mi[0]))
		rxq_drops_note(f, mi[SK_MEMINFO_DROPS]);
}

/*
 * Once a second: so that the drops of a burst are counted even when no
 * datagram comes after it (on_datagram() reads the count after each batch).
 */
static void rxq_drops_poll(void)
{
	unsigned int i;

	for (i = 0; i < tscfd_conf.niface; i++)
		rxq_drops_read(&tscfd_conf.iface[i]);
}

static int add_handle(int type, int fd, struct tscfd_iface *f)
{
	struct tscfd_handle *h;

	if (nhandles == maxhandles)
		return -ENOSPC;	/* sized from the configuration: not reached */
	h = &handles[nhandles++];

	h->type = type;
	h->fd = fd;
	h->iface = f;
	return epoll_set(EPOLL_CTL_ADD, fd, EPOLLIN, h);
}

int tscfd_listen_all(struct tscfd_config *conf)
{
	unsigned int i;

	/* TCP, UDP, TLS and DTLS listeners per interface. */
	maxhandles = conf->niface * 4;
	handles = calloc(maxhandles, sizeof(*handles));
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!handles || reserve_fd < 0) {
		tscfd_logp(LOG_ERR, "out of memory or file descriptors at start");
		return -1;
	}
	for (i = 0; i < conf->niface; i++) {
		struct tscfd_iface *f = &conf->iface[i];

		f->tls_fd = f->dtls_fd = -1;
		f->tcp_fd = open_listener(f, SOCK_STREAM, f->port);
		f->udp_fd = open_listener(f, SOCK_DGRAM, f->port);
		if (f->tcp_fd < 0 || f->udp_fd < 0) {
			tscfd_logp(LOG_ERR, "%s port %u: cannot listen: %s", f->addr_str,
				  f->port, strerror(-(f->tcp_fd < 0 ? f->tcp_fd : f->udp_fd)));
			return -1;
		}
		tscfd_udp_sockopts(f->udp_fd, f->addr_str, true);
		add_handle(EV_TCP_LISTEN, f->tcp_fd, f);
		add_handle(EV_UDP, f->udp_fd, f);
		if (f->cert[0]) {
			f->tls_ctx = tls_ctx(f);
			if (!f->tls_ctx)
				return -1;
			f->tls_fd = open_listener(f, SOCK_STREAM, f->port + 1);
			if (f->tls_fd < 0) {
				tscfd_logp(LOG_ERR, "%s port %u: cannot listen: %s", f->addr_str,
					  f->port + 1, strerror(-f->tls_fd));
				return -1;
			}
			add_handle(EV_TLS_LISTEN, f->tls_fd, f);
			if (tscfd_dtls_open(f)) {
				tscfd_logp(LOG_ERR, "%s port %u: cannot set up DTLS", f->addr_str,
					  f->port + 1);
				return -1;
			}
			add_handle(EV_DTLS_LISTEN, f->dtls_fd, f);
		}
		tscfd_log("interface %s: tcp+udp %u%s, DTTE %s", f->addr_str, f->port,
			  f->cert[0] ? ", tls+dtls N+1" : "", f->dtte ? "enabled" : "disabled");
	}
	return 0;
}

/* A closing tunnel: no more events, no handshake slot, no backlog share. */
static ssize_t stream_write(struct tscfd_tunnel *t, const uint8_t *buf, size_t len);
static bool stream_handoff(struct tscfd_tunnel *t);

void tscfd_net_forget(struct tscfd_tunnel *t)
{
	/* What this round held back goes before the close (an answer to
	 * RELEASE_REQ may be behind inner packets), as far as it fits. */
	if (t->corked && t->txlen && !t->handshaking)
		stream_write(t, t->txbuf, t->txlen);
	t->corked = false;
	if (t->fd >= 0)
		epoll_ctl(tscfd_epfd, EPOLL_CTL_DEL, t->fd, NULL);
	tscfd_handshake_end(t);
	backlog_bytes -= t->txlen;
	t->txlen = 0;
}

size_t tscfd_backlog_bytes(void)
{
	return backlog_bytes;
}

size_t tscfd_preauth_bytes(void)
{
	return preauth_bytes;
}

/* --- limits: handshakes in flight, accept on EMFILE ------------------- */

static void listeners_set(int type, uint32_t events)
{
	unsigned int i;

	for (i = 0; i < nhandles; i++)
		if (handles[i].type == type)
			epoll_set(EPOLL_CTL_MOD, handles[i].fd, events, &handles[i]);
}

unsigned int tscfd_handshakes(void)
{
	return hs_count;
}

/*
 * Each TLS or DTLS handshake costs CPU in the one loop and OpenSSL's
 * buffers: at max-handshakes in flight the TLS and DTLS listeners stop
 * being read, so new clients wait in the kernel until a slot frees.
 */
void tscfd_handshake_begin(struct tscfd_tunnel *t)
{
	t->handshaking = true;
	t->hs_next = hs_list;
	if (hs_list)
		hs_list->hs_pprev = &t->hs_next;
	hs_list = t;
	t->hs_pprev = &hs_list;
	if (++hs_count >= tscfd_conf.max_handshakes && !hs_paused) {
		hs_paused = true;
		tscfd_stats.handshakes_deferred++;
		listeners_set(EV_TLS_LISTEN, 0);
		listeners_set(EV_DTLS_LISTEN, 0);
	}
}

void tscfd_handshake_end(struct tscfd_tunnel *t)
{
	if (!t->hs_pprev)
		return;
	*t->hs_pprev = t->hs_next;
	if (t->hs_next)
		t->hs_next->hs_pprev = t->hs_pprev;
	t->hs_next = NULL;
	t->hs_pprev = NULL;
	hs_count--;
	if (hs_paused && hs_count < tscfd_conf.max_handshakes) {
		hs_paused = false;
		listeners_set(EV_TLS_LISTEN, EPOLLIN);
		listeners_set(EV_DTLS_LISTEN, EPOLLIN);
	}
}

/* Once a second: DTLS retransmissions, and listeners paused on EMFILE. */
void tscfd_net_tick(void)
{
	struct tscfd_tunnel *t;

	rxq_drops_poll();
	for (t = hs_list; t; t = t->hs_next)
		if (t->kind == TK_DTLS)
			DTLSv1_handle_timeout(t->ssl);
	if (accept_paused) {
		if (reserve_fd < 0)
			reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		accept_paused = false;
		listeners_set(EV_TCP_LISTEN, EPOLLIN);
		if (!hs_paused)
			listeners_set(EV_TLS_LISTEN, EPOLLIN);
	}
}

/*
 * Out of file descriptors: the pending connection would keep the listener
 * readable and the loop spinning.  Give up the reserve descriptor, take
 * the connection and close it at once, and take the reserve back; with no
 * reserve left, stop accepting until the next tick.
 */
static void accept_shed(struct tscfd_handle *h)
{
	int fd;

	tscfd_stats.accept_emfile++;
	if (reserve_fd >= 0) {
		close(reserve_fd);
		fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (reserve_fd >= 0)
			return;
	}
	accept_paused = true;
	listeners_set(EV_TCP_LISTEN, 0);
	listeners_set(EV_TLS_LISTEN, 0);
}

/* --- sending --------------------------------------------------------- */

static ssize_t stream_write(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (t->kind == TK_TCP) {
		n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return n;
	}
	ERR_clear_error();
	n = SSL_write(t->ssl, buf, (int)len);
	if (n > 0)
		return n;
	switch (SSL_get_error(t->ssl, (int)n)) {
	case SSL_ERROR_WANT_WRITE:
	case SSL_ERROR_WANT_READ:
		return 0;
	default:
		return -1;
	}
}

/* Room for len more bytes in t's send buffer, within both limits? */
static int txbuf_room(struct tscfd_tunnel *t, size_t len)
{
	if (t->txlen + len > TX_BACKLOG_MAX ||
	    backlog_bytes + len > tscfd_conf.max_backlog_bytes) {
		tscfd_stats.drop_backlog++;
		return -ENOBUFS;
	}
	return 0;
}

/* Append to t's send buffer (the backlog and the cork share it). */
static int txbuf_append(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	uint8_t *nb = realloc(t->txbuf, t->txlen + len);

	if (!nb)
		return -ENOMEM;
	memcpy(nb + t->txlen, buf, len);
	t->txbuf = nb;
	t->txlen += len;
	backlog_bytes += len;
	return 0;
}

static int backlog(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	int rc = txbuf_room(t, len);

	if (!rc)
		rc = txbuf_append(t, buf, len);
	if (rc)
		return rc;
	epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN | EPOLLOUT, t);
	return 0;
}

static void flush_backlog(struct tscfd_tunnel *t)
{
	ssize_t n;

	while (t->txlen) {
		n = stream_write(t, t->txbuf, t->txlen);
		if (n < 0) {
			tscfd_tunnel_close(t, "write error");
			return;
		}
		if (!n)
			return;
		memmove(t->txbuf, t->txbuf + n, t->txlen - n);
		t->txlen -= n;
		backlog_bytes -= n;
	}
	free(t->txbuf);
	t->txbuf = NULL;
	epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN, t);
	if (t->kdp_want)
		stream_handoff(t);
}

/*
 * Datagrams out are queued and sent together (sendmmsg) when the event
 * loop has handled what was ready (tscfd_net_flush), or when the queue is
 * full: one system call for what one round produced.  Each keeps its own
 * copy of the frame and the peer, so a tunnel closed meanwhile changes
 * nothing; what the kernel refuses is dropped and counted (drop_send),
 * as a failed sendto() was dropped before.
 */
static struct {
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iovs[TX_BATCH];
	struct sockaddr_storage peers[TX_BATCH];
	int fds[TX_BATCH];
	unsigned int n;
	size_t used;
	uint8_t arena[TX_ARENA];
} txq;

/* Entries from..to-1, all of one socket. */
static void txq_send_run(unsigned int from, unsigned int to)
{
	int r;

	while (from < to) {
		r = sendmmsg(txq.fds[from], &txq.msgs[from], to - from, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == ENOMEM)) {
			/* The socket is full: so it is for the rest too. */
			tscfd_stats.drop_send += to - from;
			return;
		}
		if (r <= 0) {
			r = 1;	/* this one was refused: drop it, go on */
			tscfd_stats.drop_send++;
		}
		from += (unsigned int)r;
	}
}

/*
 * Inner packets for a TLS or TCP tunnel are held (corked) in its send
 * buffer until the round's end, then written together: one SSL_write, so
 * one TLS record of up to 16 KB for what was ready together, not one
 * record (and one system call) per 40-byte ACK.  Only inner packets are
 * held; control frames go at once, behind them.  The buffer is the send
 * backlog's, under its limits; what the socket does not take stays there
 * and waits for EPOLLOUT as before.
 */
static struct tscfd_tunnel *corked[CORK_MAX];
static unsigned int ncorked;

static void cork_flush(struct tscfd_tunnel *t)
{
	ssize_t n;

	t->corked = false;
	if (t->dead || !t->txlen)
		return;
	n = stream_write(t, t->txbuf, t->txlen);
	if (n < 0) {
		tscfd_tunnel_close(t, "write error");
		return;
	}
	memmove(t->txbuf, t->txbuf + n, t->txlen - n);
	t->txlen -= n;
	backlog_bytes -= n;
	if (!t->txlen) {
		free(t->txbuf);
		t->txbuf = NULL;
		return;
	}
	epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN | EPOLLOUT, t);
}

static void corked_flush(void)
{
	unsigned int i;

	for (i = 0; i < ncorked; i++)
		cork_flush(corked[i]);
	ncorked = 0;
}

static int cork_append(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	int rc = txbuf_room(t, len);

	if (rc)
		return rc;
	if (!t->corked && ncorked == CORK_MAX)
		corked_flush();
	rc = txbuf_append(t, buf, len);
	if (rc)
		return rc;
	if (!t->corked) {
		t->corked = true;
		corked[ncorked++] = t;
	}
	return 0;
}

int tscfd_send_inner(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	if (t->kdp_stream && !t->dead)
		return tscfd_kdp_stream_send(t, buf, len);
	if (t->dead || t->handshaking || (t->kind != TK_TCP && t->kind != TK_TLS))
		return tscfd_send_frame(t, buf, len);
	if (t->txlen && !t->corked)	/* waiting for EPOLLOUT: behind that */
		return tscfd_send_frame(t, buf, len);
	return cork_append(t, buf, len);
}

void tscfd_net_flush(void)
{
	unsigned int i, from = 0;

	corked_flush();

	for (i = 1; i <= txq.n; i++)
		if (i == txq.n || txq.fds[i] != txq.fds[from]) {
			txq_send_run(from, i);
			from = i;
		}
	txq.n = 0;
	txq.used = 0;
}

/* A datagram for fd's round; no peer (peerlen 0): fd is connected. */
int tscfd_dgram_queue(int fd, const void *peer, socklen_t peerlen,
		      const uint8_t *buf, size_t len)
{
	unsigned int i;

	if (len > TX_ARENA)
		return -1;
	if (txq.n == TX_BATCH || txq.used + len > TX_ARENA)
		tscfd_net_flush();
	i = txq.n++;
	memcpy(txq.arena + txq.used, buf, len);
	if (peerlen)	/* none: a connected socket's (DTLS) */
		memcpy(&txq.peers[i], peer, peerlen);
	txq.iovs[i].iov_base = txq.arena + txq.used;
	txq.iovs[i].iov_len = len;
	memset(&txq.msgs[i], 0, sizeof(txq.msgs[i]));
	txq.msgs[i].msg_hdr.msg_name = peerlen ? &txq.peers[i] : NULL;
	txq.msgs[i].msg_hdr.msg_namelen = peerlen;
	txq.msgs[i].msg_hdr.msg_iov = &txq.iovs[i];
	txq.msgs[i].msg_hdr.msg_iovlen = 1;
	txq.fds[i] = fd;
	txq.used += len;
	return 0;
}

int tscfd_send_frame(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (t->dead)
		return -1;
	if (t->kdp_stream)
		return tscfd_kdp_stream_send(t, buf, len);
	if (t->kind == TK_UDP)
		return tscfd_dgram_queue(t->iface->udp_fd, &t->peer, t->peerlen, buf, len);
	if (t->handshaking)
		return -1;
	/* A datagram (queued by the batch BIO): no backlog, loss is allowed. */
	if (t->kind == TK_DTLS)
		return SSL_write(t->ssl, buf, (int)len) == (int)len ? 0 : -1;
	if (t->txlen)
		return backlog(t, buf, len);
	n = stream_write(t, buf, len);
	if (n < 0)
		return -1;	/* the read side sees the error and closes */
	if ((size_t)n < len)
		return backlog(t, buf + n, len - n);
	return 0;
}

/* --- receiving ------------------------------------------------------- */

static void accept_stream(struct tscfd_handle *h, int kind)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tscfd_tunnel *t;
	int fd, one = 1;

	fd = accept4(h->fd, (struct sockaddr *)&ss, &len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			accept_shed(h);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t = tscfd_tunnel_new(h->iface, kind, fd, (struct sockaddr *)&ss, len);
	if (!t) {
		close(fd);
		return;
	}
	if (kind == TK_TLS) {
		t->ssl = SSL_new(h->iface->tls_ctx);
		if (!t->ssl) {
			tscfd_tunnel_close(t, "out of memory");
			return;
		}
		SSL_set_fd(t->ssl, fd);
		SSL_set_accept_state(t->ssl);
		tscfd_handshake_begin(t);
	}
	epoll_set(EPOLL_CTL_ADD, fd, EPOLLIN, t);
}

/* One datagram of a batch read: what it says and who sent it. */
static void datagram_in(struct tscfd_handle *h, struct mmsghdr *m)
{
	struct sockaddr *peer = m->msg_hdr.msg_name;
	socklen_t len = m->msg_hdr.msg_namelen;
	uint8_t *buf = m->msg_hdr.msg_iov[0].iov_base;
	struct tscfd_tunnel *t;

	if (m->msg_hdr.msg_flags & MSG_TRUNC) {	/* over 64 KB: not a frame */
		tscfd_stats.drop_malformed++;
		return;
	}
	t = tscfd_tunnel_by_peer(peer, len);
	if (!t) {
		/* Only a cookie-proven CONFIG_REQ opens a UDP tunnel. */
		tscfd_udp_unverified(h->iface, buf, m->msg_len, peer, len);
		return;
	}
	tscfd_tunnel_frame(t, buf, m->msg_len);
}

/*
 * Datagrams are read RX_BATCH at a time (recvmmsg), up to RX_ROUNDS
 * batches per event so that the other sockets are served too.  Each is
 * still judged alone, in order: looked up by its source, then every check
 * of tscfd_tunnel_frame().
 */
static void on_datagram(struct tscfd_handle *h)
{
	static uint8_t bufs[RX_BATCH][65536];
	static struct sockaddr_storage peers[RX_BATCH];
	static struct iovec iovs[RX_BATCH];
	static struct mmsghdr msgs[RX_BATCH];
	int i, n, round;

	for (round = 0; round < RX_ROUNDS; round++) {
		for (i = 0; i < RX_BATCH; i++) {
			iovs[i].iov_base = bufs[i];
			iovs[i].iov_len = sizeof(bufs[i]);
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
			msgs[i].msg_hdr.msg_iov = &iovs[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(h->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			rxq_drops_read(h->iface);
		for (i = 0; i < n; i++)
			datagram_in(h, &msgs[i]);
		if (n < RX_BATCH)
			return;
	}
}

/*
 * Before its configuration a stream may only send control frames: a frame
 * announced longer than a control frame ends it, and what all unconfigured
 * tunnels keep buffered is capped (max-preauth-memory).
 */
static int rx_alloc(struct tscfd_tunnel *t, size_t cap)
{
	size_t charge = t->configured ? 0 : cap;

	if (charge && preauth_bytes + charge > tscfd_conf.max_preauth_bytes) {
		tscfd_stats.drop_preauth++;
		tscfd_tunnel_close(t, "pre-authentication memory cap reached");
		return -1;
	}
	t->rxbuf = malloc(cap);
	if (!t->rxbuf) {
		tscfd_tunnel_close(t, "out of memory");
		return -1;
	}
	t->rxcap = cap;
	t->rx_preauth = charge;
	preauth_bytes += charge;
	return 0;
}

void tscfd_preauth_release(struct tscfd_tunnel *t)
{
	preauth_bytes -= t->rx_preauth;
	t->rx_preauth = 0;
}

static void rx_free(struct tscfd_tunnel *t)
{
	tscfd_preauth_release(t);
	free(t->rxbuf);
	t->rxbuf = NULL;
	t->rxlen = t->rxcap = 0;
}

/* Frames longer than this are refused on this tunnel now. */
static size_t frame_limit(const struct tscfd_tunnel *t)
{
	return t->configured ? TSCF_MAX_FRAME_LEN : TSCFD_PREAUTH_FRAME;
}

/* Cut what arrived into frames; keep a partial frame for later. */
static int stream_frames(struct tscfd_tunnel *t, uint8_t *buf, size_t len)
{
	size_t off = 0, flen = 0, cap;
	int err = 0;

	while (off < len) {
		err = tscf_frame_len(buf + off, len - off, &flen);
		if (!err && flen > frame_limit(t)) {
			tscfd_stats.drop_preauth++;
			tscfd_tunnel_close(t, "frame too long before configuration");
			return -1;
		}
		if (err == -EAGAIN || (!err && off + flen > len))
			break;
		if (err) {
			tscfd_stats.drop_malformed++;
			tscfd_tunnel_close(t, "unparsable stream");
			return -1;
		}
		tscfd_tunnel_frame(t, buf + off, flen);
		off += flen;
		if (t->dead)	/* by a control message */
			return -1;
	}
	rx_free(t);
	if (off == len)
		return 0;
	/*
	 * A partial frame: room for all of it when its length is known, so
	 * the rest is read straight in behind it (each byte copied once);
	 * else for the longest frame header that is allowed.
	 */
	cap = !err ? flen : TSCF_MAX_CTRL_LEN;
	if (rx_alloc(t, cap))
		return -1;
	memcpy(t->rxbuf, buf + off, len - off);
	t->rxlen = len - off;
	return 0;
}

static ssize_t stream_read(struct tscfd_tunnel *t, uint8_t *buf, size_t len)
{
	int n;

	if (t->kind == TK_TCP) {
		ssize_t r = recv(t->fd, buf, len, MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		return r < 0 ? -errno : r;
	}
	ERR_clear_error();
	n = SSL_read(t->ssl, buf, (int)len);
	if (n > 0)
		return n;
	switch (SSL_get_error(t->ssl, n)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		tscfd_stats.drop_tls++;
		return -EPROTO;
	}
}

/*
 * The rest of a partial frame whose length is known goes into rxbuf, which
 * has room for all of it: 1 after progress, 0 if the length is not known.
 */
static int stream_fill(struct tscfd_tunnel *t)
{
	size_t flen;
	ssize_t n;

	if (tscf_frame_len(t->rxbuf, t->rxlen, &flen) || flen > t->rxcap)
		return 0;	/* length unknown yet: the copying path */
	n = stream_read(t, t->rxbuf + t->rxlen, flen - t->rxlen);
	if (n == -EAGAIN)
		return -EAGAIN;
	if (n <= 0) {
		tscfd_tunnel_close(t, n == 0 ? "closed by the peer" :
				   n == -EPROTO ? "TLS error" : "read error");
		return -EPIPE;
	}
	t->rxlen += n;
	if (t->rxlen < flen)
		return 1;	/* read on: TLS may hold the next record */
	tscfd_tunnel_frame(t, t->rxbuf, flen);
	if (t->dead)
		return -EPIPE;
	rx_free(t);
	return 1;
}

static void on_stream(struct tscfd_tunnel *t)
{
	static uint8_t buf[STREAM_READ + TSCF_MAX_CTRL_LEN];
	ssize_t n;
	size_t have;
	int rounds, r;

	for (rounds = 0; rounds < 16 && !t->dead; rounds++) {
		if (t->rxlen) {
			r = stream_fill(t);
			if (r < 0)
				return;
			if (r)
				continue;
		}
		/* Only a header shorter than a control frame is copied. */
		have = t->rxlen;
		if (have > TSCF_MAX_CTRL_LEN) {	/* stream_fill() takes those */
			tscfd_tunnel_close(t, "internal error: partial frame");
			return;
		}
		if (have)
			memcpy(buf, t->rxbuf, have);
		n = stream_read(t, buf + have, STREAM_READ);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			tscfd_tunnel_close(t, n == 0 ? "closed by the peer" :
					   n == -EPROTO ? "TLS error" : "read error");
			return;
		}
		if (stream_frames(t, buf, have + n))
			return;
		if (t->kdp_want && stream_handoff(t))
			return;		/* the kernel reads it from here on */
	}
}

/*
 * A configured clear TCP tunnel's connection to the kernel (kdp.c), once
 * nothing of tscfd's waits to be written: the kernel's frames would pass
 * it.  The start of a frame tscfd holds goes with it.  true: handed over;
 * tscfd watches the fd for its end only.  false: not now (tried again
 * when the backlog is written) or refused (tscfd carries it, as before).
 */
static bool stream_handoff(struct tscfd_tunnel *t)
{
	ssize_t n;

	if (t->dead)
		return false;
	/* Plaintext OpenSSL still holds would be skipped: read it first. */
	if (t->ssl && (SSL_pending(t->ssl) || SSL_has_pending(t->ssl)))
		return false;
	if (t->txlen) {
		n = stream_write(t, t->txbuf, t->txlen);
		if (n < 0)
			return false;	/* the read side sees the error */
		memmove(t->txbuf, t->txbuf + n, t->txlen - n);
		t->txlen -= n;
		backlog_bytes -= n;
		if (t->txlen) {
			epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN | EPOLLOUT, t);
			return false;
		}
		free(t->txbuf);
		t->txbuf = NULL;
	}
	if (!tscfd_kdp_stream(t, t->rxbuf, t->rxlen))
		return false;
	rx_free(t);
	/*
	 * The kernel's now: only EPOLLHUP and EPOLLERR, which need no
	 * asking.  The client's FIN (EPOLLRDHUP) is not the end yet: the
	 * kernel may still hold frames sent before it, and shuts the
	 * connection both ways once it has cut them all.
	 */
	epoll_set(EPOLL_CTL_MOD, t->fd, 0, t);
	return true;
}

void tscfd_tunnel_watch(struct tscfd_tunnel *t)
{
	epoll_set(EPOLL_CTL_ADD, t->fd, EPOLLIN, t);
}

static void on_handshake(struct tscfd_tunnel *t)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		if (t->kind == TK_DTLS && tscfd_dtls_established(t)) {
			tscfd_tunnel_close(t, "out of memory");
			return;
		}
		t->handshaking = false;
		tscfd_handshake_end(t);
		tscfd_tlog(LOG_DEBUG, "tls peer: handshake done, %s %s", SSL_get_version(t->ssl),
			  SSL_get_cipher_name(t->ssl));
		epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN, t);
		if (t->kind == TK_DTLS)
			tscfd_dtls_read(t);
		else
			on_stream(t);
		return;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN, t);
		return;
	case SSL_ERROR_WANT_WRITE:
		epoll_set(EPOLL_CTL_MOD, t->fd, EPOLLIN | EPOLLOUT, t);
		return;
	default:
		tscfd_stats.drop_tls++;
		tscfd_tunnel_close(t, "TLS handshake failed");
	}
}

void tscfd_tunnel_handshake(struct tscfd_tunnel *t)
{
	on_handshake(t);
}

static void on_tunnel(struct tscfd_tunnel *t, uint32_t events)
{
	if (t->dead)	/* closed earlier in this epoll batch */
		return;
	if (t->kdp_stream) {	/* the kernel's: only its end is ours */
		if (events & (EPOLLHUP | EPOLLERR))
			tscfd_tunnel_close(t, "closed (kernel data path)");
		return;
	}
	if (t->handshaking) {
		on_handshake(t);
		return;
	}
	if (t->kind == TK_DTLS) {
		tscfd_dtls_read(t);
		return;
	}
	if (events & EPOLLOUT) {
		flush_backlog(t);
		return;		/* the tunnel may be gone; EPOLLIN comes again */
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_stream(t);
}

void tscfd_event(void *ptr, uint32_t events)
{
	int type = *(int *)ptr;

	switch (type) {
	case EV_TCP_LISTEN:
		accept_stream(ptr, TK_TCP);
		break;
	case EV_TLS_LISTEN:
		accept_stream(ptr, TK_TLS);
		break;
	case EV_UDP:
		on_datagram(ptr);
		break;
	case EV_DTLS_LISTEN:
		tscfd_dtls_accept(ptr);
		break;
	case EV_TUNNEL:
		on_tunnel(ptr, events);
		break;
	}
}
