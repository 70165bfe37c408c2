// SPDX-License-Identifier: GPL-2.0
/*
 * tscf-load: opens many clear TSCF tunnels to one tscfd and reports how
 * many came up, how fast, and what they cost the server.
 *
 *   tscf-load --transport udp|tcp --server 127.0.0.1 --port 4000 --count N
 *             [--sockets S] [--window W] [--flows-share PCT]
 *             [--hold-secs H] [--keepalive-secs K] [--max-secs T]
 *             [--pid PID] [--max-bytes-per-tunnel B] [--release]
 *
 * Bounded on purpose: the server must be a loopback address (127.0.0.0/8)
 * and every source address is one too, the count is capped
 * (LOAD_MAX_UDP, LOAD_MAX_TCP) and the whole run stops at --max-secs
 * (at most LOAD_MAX_SECS).  Exit 0 only if every tunnel asked for came up
 * (and every flow binding was accepted, and the memory bound held).
 *
 * UDP: tscfd knows a tunnel by its source address and port, so S sockets
 * bound to the wildcard address on S ports send from many 127.x.y.z
 * addresses (IP_PKTINFO); tunnel i is socket i % S, address i / S.
 * Each goes through the cookie exchange (PROTOCOL.md 2.6) and CONFIG_REQ.
 * TCP: one connection per tunnel, spread over source addresses so that
 * the ephemeral ports of one address do not run out.
 *
 * A window of W requests is in flight; over UDP a request unanswered for
 * a second is sent again, three times, then counted as a timeout; over TCP
 * (the kernel retransmits, SYN included) it is given 15 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tscf_proto.h"

#define LOAD_MAX_UDP	262144
#define LOAD_MAX_TCP	65536
#define LOAD_MAX_SECS	3600
#define LOAD_MAX_SOCKETS 256
#define LOAD_MAX_WINDOW	4096
#define LOAD_TRIES	4		/* sends of one request before a timeout */
#define LOAD_RETRY_MS	1000
#define LOAD_TCP_WAIT_MS 15000		/* TCP: the kernel retransmits; we wait */
#define LOAD_RXCAP	1024		/* TCP: bytes of partial frames kept */
#define LOAD_SRC_BASE	0x7f010000u	/* UDP sources from 127.1.0.0 */
#define LOAD_TCP_SRC_BASE 0x7f020000u	/* TCP sources from 127.2.0.0 */
#define LOAD_TCP_PER_SRC 1000		/* connections per TCP source address */
#define LOAD_FLOW_PORT	40000		/* inner port of the bound flow */

enum tstate { ST_NEW, ST_CONNECTING, ST_COOKIE, ST_CONFIG, ST_UP, ST_FLOW,
	      ST_FAILED };
enum phase { PH_CONFIG, PH_FLOW };

struct tun {
	uint64_t tsid;
	uint32_t seq;
	uint32_t ip4;			/* internal address, network order */
	int fd;				/* TCP only */
	uint8_t cookie[TSCF_COOKIE_LEN];	/* UDP: for a CONFIG_REQ sent again */
	uint16_t slot;			/* in flight: index + 1 in the window */
	uint8_t state, tries;
	bool flow_ok;
};

struct opts {
	bool tcp, release;
	struct in_addr server;
	uint16_t port;
	unsigned int count, sockets, window, flows_share;
	unsigned int hold_secs, keepalive_secs, max_secs;
	long max_bytes;
	int pid;
	const char *linger;		/* after the report: hold the tunnels */
};

struct failures {
	unsigned long timeout, refused[16], bad_reply, send, connect, closed;
};

static struct opts o = { .port = 4000, .sockets = 16, .window = 512,
			 .keepalive_secs = 10, .max_secs = 600, .max_bytes = -1 };
static struct tun *tuns;
static uint32_t *window_ring;		/* tunnel index + 1 per slot; 0: free */
static uint64_t *window_sent;		/* ms of the last send per slot */
static unsigned int inflight;
static int *udp_fds;
static uint16_t *udp_ports;
static int epfd = -1;
static uint8_t (*tcp_rx)[LOAD_RXCAP];
static uint16_t *tcp_rxlen;
static struct failures fail;
static unsigned long kp_sent, kp_answered, flows_asked, flows_bound;
static uint64_t deadline_ms;
static uint32_t next_seq = 1;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *msg)
{
	fprintf(stderr, "tscf-load: %s\n", msg);
	exit(2);
}

/* --- what the server spends ------------------------------------------ */

/* A field of /proc/PID/status in kB; -1 without --pid or on error. */
static long proc_kb(const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	if (o.pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", o.pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* --- messages -------------------------------------------------------- */

static int build_config(uint8_t *buf, size_t cap, uint32_t seq,
			const uint8_t *cookie)
{
	struct tscf_enc e;

	tscf_enc_init(&e, buf, cap, TSCF_CM_CONFIG_REQ, TSCF_TSID_NONE, seq);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	if (cookie)
		tscf_enc_tlv(&e, TSCF_TLV_COOKIE, cookie, TSCF_COOKIE_LEN);
	if (!o.tcp)
		tscf_enc_pad(&e, TSCF_DGRAM_CONFIG_MIN_LEN);
	return tscf_enc_finish(&e);
}

/* Binds one UDP socket of the client's inner address, any remote. */
static int build_flow(uint8_t *buf, size_t cap, const struct tun *t)
{
	struct tscf_flow f = { .proto = IPPROTO_UDP,
			       .local_port = LOAD_FLOW_PORT,
			       .local = { .family = 4 },
			       .remote = { .family = 4 } };
	struct tscf_enc e;

	f.local.v4.s_addr = t->ip4;
	tscf_enc_init(&e, buf, cap, TSCF_CM_FLOW_BIND_REQ, t->tsid, t->seq);
	tscf_enc_flow(&e, &f);
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, TSCF_ENC_PREFERRED);
	return tscf_enc_finish(&e);
}

static int build_simple(uint8_t *buf, size_t cap, uint8_t type,
			const struct tun *t, uint32_t seq)
{
	struct tscf_enc e;

	tscf_enc_init(&e, buf, cap, type, t->tsid, seq);
	return tscf_enc_finish(&e);
}

/* --- transports ------------------------------------------------------ */

static struct in_addr udp_source(unsigned int i)
{
	struct in_addr a = { htonl(LOAD_SRC_BASE + i / o.sockets) };

	return a;
}

static int send_udp(unsigned int i, const uint8_t *buf, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = o.server,
				   .sin_port = htons(o.port) };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = &dst, .msg_namelen = sizeof(dst),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { .ipi_spec_dst = udp_source(i) };

	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	for (;;) {
		if (sendmsg(udp_fds[i % o.sockets], &mh, 0) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN && errno != ENOBUFS)
			return -1;
		poll(NULL, 0, 1);	/* the socket buffer is full: let it drain */
	}
}

static int send_tcp(struct tun *t, const uint8_t *buf, size_t len)
{
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);

	return n == (ssize_t)len ? 0 : -1;	/* small frames: all or error */
}

static int send_frame(unsigned int i, const uint8_t *buf, int len)
{
	if (len <= 0)
		return -1;
	return o.tcp ? send_tcp(&tuns[i], buf, (size_t)len) :
		       send_udp(i, buf, (size_t)len);
}

static void udp_open(void)
{
	unsigned int s;
	int one = 1, big = 8 << 20;

	udp_fds = calloc(o.sockets, sizeof(*udp_fds));
	udp_ports = calloc(o.sockets, sizeof(*udp_ports));
	if (!udp_fds || !udp_ports)
		die("out of memory");
	for (s = 0; s < o.sockets; s++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t alen = sizeof(a);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = s };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		if (fd < 0 ||
		    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
		    bind(fd, (void *)&a, sizeof(a)) ||
		    getsockname(fd, (void *)&a, &alen))
			die("cannot open a UDP socket");
		/* best effort: a bigger buffer only loses fewer answers */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		udp_fds[s] = fd;
		udp_ports[s] = ntohs(a.sin_port);
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev))
			die("epoll_ctl");
	}
}

/* Starts the connection of tunnel i; its answer comes as EPOLLOUT. */
static int tcp_connect(unsigned int i)
{
	struct sockaddr_in src = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(LOAD_TCP_SRC_BASE + i / LOAD_TCP_PER_SRC) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = o.server,
				   .sin_port = htons(o.port) };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = i };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (void *)&src, sizeof(src)) ||
	    (connect(fd, (void *)&dst, sizeof(dst)) && errno != EINPROGRESS) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		return -1;
	}
	tuns[i].fd = fd;
	return 0;
}

/* --- the window of requests in flight -------------------------------- */

static void window_put(unsigned int i)
{
	unsigned int s;

	for (s = 0; s < o.window && window_ring[s]; s++)
		;
	window_ring[s] = i + 1;
	window_sent[s] = now_ms();
	tuns[i].slot = (uint16_t)(s + 1);
	inflight++;
}

static void window_done(unsigned int i)
{
	struct tun *t = &tuns[i];

	if (!t->slot)
		return;
	window_ring[t->slot - 1] = 0;
	t->slot = 0;
	inflight--;
}

static void tunnel_fail(unsigned int i, unsigned long *counter)
{
	struct tun *t = &tuns[i];

	window_done(i);
	(*counter)++;
	t->state = ST_FAILED;
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
}

/* (Re)sends the request tunnel i waits on. */
static void request_send(unsigned int i)
{
	struct tun *t = &tuns[i];
	uint8_t buf[512];
	int len;

	if (o.tcp && t->state == ST_CONFIG)
		return;	/* a stream loses nothing: the answer is only late */
	if (t->state == ST_CONFIG) {
		/* the same Sequence: a configured server answers it again */
		len = build_config(buf, sizeof(buf), t->seq, t->cookie);
	} else if (t->state == ST_FLOW) {
		t->seq = next_seq++;
		len = build_flow(buf, sizeof(buf), t);
	} else {
		t->seq = next_seq++;
		t->state = o.tcp ? ST_CONFIG : ST_COOKIE;
		len = build_config(buf, sizeof(buf), t->seq, NULL);
	}
	if (send_frame(i, buf, len))
		tunnel_fail(i, &fail.send);
}

static void request_start(unsigned int i, enum phase ph)
{
	struct tun *t = &tuns[i];

	t->tries = 1;
	window_put(i);
	if (ph == PH_FLOW) {
		t->state = ST_FLOW;
		flows_asked++;
		request_send(i);
	} else if (o.tcp) {
		t->state = ST_CONNECTING;
		if (tcp_connect(i))
			tunnel_fail(i, &fail.connect);
	} else {
		request_send(i);
	}
}

/* A request unanswered for LOAD_RETRY_MS is sent again, or given up. */
static void window_expire(void)
{
	uint64_t now = now_ms();
	unsigned int s, i;

	for (s = 0; s < o.window; s++) {
		if (!window_ring[s] || now - window_sent[s] < LOAD_RETRY_MS)
			continue;
		i = window_ring[s] - 1;
		if (o.tcp) {
			if (now - window_sent[s] >= LOAD_TCP_WAIT_MS)
				tunnel_fail(i, &fail.timeout);
			continue;
		}
		if (tuns[i].tries >= LOAD_TRIES) {
			tunnel_fail(i, &fail.timeout);
			continue;
		}
		tuns[i].tries++;
		window_sent[s] = now;
		request_send(i);
	}
}

/* --- answers --------------------------------------------------------- */

static uint16_t response_code(const struct tscf_msg *m)
{
	const struct tscf_tlv *c = tscf_msg_find(m, TSCF_TLV_RESPONSE_CODE, NULL);
	uint16_t v;

	return c && !tscf_tlv_u16(c, &v) ? v : 0xffff;
}

static void on_cookie(unsigned int i, const struct tscf_msg *m)
{
	const struct tscf_tlv *c = tscf_msg_find(m, TSCF_TLV_COOKIE, NULL);
	struct tun *t = &tuns[i];
	uint8_t buf[512];

	if ((t->state != ST_COOKIE && t->state != ST_CONFIG) || !c ||
	    c->len != TSCF_COOKIE_LEN)
		return;	/* a late or duplicate COOKIE */
	t->state = ST_CONFIG;
	t->seq = next_seq++;
	memcpy(t->cookie, c->val, TSCF_COOKIE_LEN);
	if (send_frame(i, buf, build_config(buf, sizeof(buf), t->seq, t->cookie)))
		tunnel_fail(i, &fail.send);
}

static void on_config(unsigned int i, const struct tscf_msg *m)
{
	const struct tscf_tlv *a = tscf_msg_find(m, TSCF_TLV_INTERNAL_IPV4, NULL);
	struct tun *t = &tuns[i];
	struct in_addr ip;
	uint16_t code;

	if (t->state != ST_CONFIG)
		return;
	code = response_code(m);
	if (code != TSCF_RESP_SUCCESS) {
		tunnel_fail(i, code < 16 ? &fail.refused[code] : &fail.bad_reply);
		return;
	}
	if (!a || tscf_tlv_in4(a, &ip) || m->tsid == TSCF_TSID_NONE) {
		tunnel_fail(i, &fail.bad_reply);
		return;
	}
	t->tsid = m->tsid;
	t->ip4 = ip.s_addr;
	t->state = ST_UP;
	window_done(i);
}

static void on_flow(unsigned int i, const struct tscf_msg *m)
{
	struct tun *t = &tuns[i];

	if (t->state != ST_FLOW)
		return;
	t->state = ST_UP;
	window_done(i);
	t->flow_ok = response_code(m) == TSCF_RESP_SUCCESS;
	flows_bound += t->flow_ok;
}

static void on_frame(unsigned int i, const uint8_t *buf, size_t len)
{
	struct tscf_msg m;

	if (tscf_msg_decode(buf, len, &m)) {
		fail.bad_reply++;
		return;
	}
	if (m.seq != tuns[i].seq && m.type != TSCF_CM_KEEPALIVE_RESP)
		return;	/* the answer to an earlier try */
	switch (m.type) {
	case TSCF_CM_COOKIE:
		on_cookie(i, &m);
		break;
	case TSCF_CM_CONFIG_RESP:
		on_config(i, &m);
		break;
	case TSCF_CM_FLOW_BIND_RESP:
		on_flow(i, &m);
		break;
	case TSCF_CM_KEEPALIVE_RESP:
		kp_answered++;
		break;
	case TSCF_CM_RELEASE_RESP:
		break;
	default:
		fail.bad_reply++;
	}
}

/* The tunnel a datagram is for: its socket and destination address. */
static long udp_tunnel_of(unsigned int s, const struct msghdr *mh)
{
	struct cmsghdr *c;
	uint32_t a;
	unsigned long i;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&a, &((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr, 4);
		a = ntohl(a) - LOAD_SRC_BASE;
		i = (unsigned long)a * o.sockets + s;
		return i < o.count ? (long)i : -1;
	}
	return -1;
}

static void udp_read(unsigned int s)
{
	enum { BATCH = 64 };
	static uint8_t bufs[BATCH][2048];
	static char cbufs[BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int n, k;
	long i;

	do {
		memset(mm, 0, sizeof(mm));
		for (k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){ bufs[k], sizeof(bufs[k]) };
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			mm[k].msg_hdr.msg_control = cbufs[k];
			mm[k].msg_hdr.msg_controllen = sizeof(cbufs[k]);
		}
		n = recvmmsg(udp_fds[s], mm, BATCH, MSG_DONTWAIT, NULL);
		for (k = 0; k < n; k++) {
			i = udp_tunnel_of(s, &mm[k].msg_hdr);
			if (i < 0)
				fail.bad_reply++;
			else
				on_frame((unsigned int)i, bufs[k], mm[k].msg_len);
		}
	} while (n == BATCH);
}

static void tcp_event(unsigned int i, uint32_t events)
{
	struct tun *t = &tuns[i];
	size_t flen;
	ssize_t n;

	if (t->fd < 0)
		return;
	if (t->state == ST_CONNECTING && (events & (EPOLLOUT | EPOLLERR))) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || epoll_ctl(epfd, EPOLL_CTL_MOD, t->fd, &ev)) {
			tunnel_fail(i, &fail.connect);
			return;
		}
		request_send(i);
		return;
	}
	for (;;) {
		n = recv(t->fd, tcp_rx[i] + tcp_rxlen[i], LOAD_RXCAP - tcp_rxlen[i], 0);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			tunnel_fail(i, &fail.closed);
			return;
		}
		if (n < 0)
			return;
		tcp_rxlen[i] += (uint16_t)n;
		while (tcp_rxlen[i] &&
		       !tscf_frame_len(tcp_rx[i], tcp_rxlen[i], &flen)) {
			on_frame(i, tcp_rx[i], flen);
			if (t->fd < 0)
				return;
			memmove(tcp_rx[i], tcp_rx[i] + flen, tcp_rxlen[i] - flen);
			tcp_rxlen[i] -= (uint16_t)flen;
		}
		if (tcp_rxlen[i] == LOAD_RXCAP) {
			tunnel_fail(i, &fail.bad_reply);
			return;
		}
	}
}

/* Serves the sockets for up to ms milliseconds. */
static void serve(int ms)
{
	struct epoll_event evs[256];
	int n, k;

	n = epoll_wait(epfd, evs, 256, ms);
	for (k = 0; k < n; k++) {
		if (o.tcp)
			tcp_event(evs[k].data.u32, evs[k].events);
		else
			udp_read(evs[k].data.u32);
	}
}

static bool out_of_time(void)
{
	return now_ms() >= deadline_ms;
}

/*
 * Keepalives to every tunnel that is up, one round per --keepalive-secs,
 * spread evenly over it, from the first request to the end of --hold-secs:
 * tunnels made early must not time out while the rest are being set up.
 */
static uint64_t kp_start, kp_cursor;

static void keepalive_pace(void)
{
	uint64_t period = (uint64_t)o.keepalive_secs * 1000;
	uint64_t due = (now_ms() - kp_start) * o.count / period;
	uint8_t buf[64];

	for (; kp_cursor < due; kp_cursor++) {
		unsigned int i = (unsigned int)(kp_cursor % o.count);

		if (tuns[i].state != ST_UP)
			continue;
		kp_sent++;
		if (send_frame(i, buf, build_simple(buf, sizeof(buf),
			       TSCF_CM_KEEPALIVE_REQ, &tuns[i], next_seq++)))
			fail.send++;
	}
}

/* Starts a request on each tunnel selected, W at a time, until all end. */
static void run_phase(enum phase ph)
{
	unsigned int next = 0;

	for (;;) {
		while (inflight < o.window && next < o.count) {
			unsigned int i = next++;

			if (ph == PH_FLOW &&
			    (tuns[i].state != ST_UP || i % 100 >= o.flows_share))
				continue;
			request_start(i, ph);
		}
		if (!inflight && next >= o.count)
			return;
		if (out_of_time()) {
			fprintf(stderr, "tscf-load: --max-secs reached\n");
			return;
		}
		serve(10);
		window_expire();
		keepalive_pace();
	}
}

static void hold(void)
{
	uint64_t end = now_ms() + (uint64_t)o.hold_secs * 1000;

	while (now_ms() < end && !out_of_time()) {
		keepalive_pace();
		serve(10);
	}
	serve(200);
}

static void release_all(void)
{
	uint8_t buf[64];
	unsigned int i;

	for (i = 0; i < o.count; i++) {
		if (tuns[i].state != ST_UP)
			continue;
		send_frame(i, buf, build_simple(buf, sizeof(buf),
			   TSCF_CM_RELEASE_REQ, &tuns[i], next_seq++));
		if (i % 256 == 0)
			serve(0);
	}
	serve(200);
}

/*
 * The tunnels stay (TCP: connections open), silent, so that the server can
 * be measured with them and then let them expire.
 */
static void linger(void)
{
	FILE *f;

	fflush(stdout);
	f = fopen(o.linger, "w");
	if (!f)
		return;
	fclose(f);
	while (!access(o.linger, F_OK) && !out_of_time())
		poll(NULL, 0, 100);
}

/* --- options and the report ------------------------------------------ */

static unsigned long num(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v > max) {
		fprintf(stderr, "tscf-load: %s: want 0 to %lu, got '%s'\n", what, max, s);
		exit(2);
	}
	return v;
}

static void usage(int rc)
{
	fputs("usage: tscf-load --transport udp|tcp --server 127.x.y.z --port N --count N\n"
	      "       [--sockets S] [--window W] [--flows-share PCT] [--hold-secs H]\n"
	      "       [--keepalive-secs K] [--max-secs T] [--pid PID]\n"
	      "       [--max-bytes-per-tunnel B] [--release] [--linger FILE]\n"
	      "--linger FILE: after the report, create FILE and keep the sockets\n"
	      "open, silent, until FILE is removed (or --max-secs)\n", rc ? stderr : stdout);
	exit(rc);
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "transport", 1, NULL, 't' }, { "server", 1, NULL, 's' },
		{ "port", 1, NULL, 'p' }, { "count", 1, NULL, 'n' },
		{ "sockets", 1, NULL, 'S' }, { "window", 1, NULL, 'w' },
		{ "flows-share", 1, NULL, 'f' }, { "hold-secs", 1, NULL, 'H' },
		{ "keepalive-secs", 1, NULL, 'k' }, { "max-secs", 1, NULL, 'T' },
		{ "pid", 1, NULL, 'P' }, { "max-bytes-per-tunnel", 1, NULL, 'B' },
		{ "release", 0, NULL, 'r' }, { "linger", 1, NULL, 'L' },
		{ "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "udp") && strcmp(optarg, "tcp"))
				usage(2);
			o.tcp = !strcmp(optarg, "tcp");
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o.server) != 1 ||
			    (ntohl(o.server.s_addr) >> 24) != 127)
				die("--server: only a loopback address (127.0.0.0/8)");
			break;
		case 'p': o.port = (uint16_t)num(optarg, 65535, "--port"); break;
		case 'n': o.count = (unsigned int)num(optarg, LOAD_MAX_UDP, "--count"); break;
		case 'S': o.sockets = (unsigned int)num(optarg, LOAD_MAX_SOCKETS, "--sockets"); break;
		case 'w': o.window = (unsigned int)num(optarg, LOAD_MAX_WINDOW, "--window"); break;
		case 'f': o.flows_share = (unsigned int)num(optarg, 100, "--flows-share"); break;
		case 'H': o.hold_secs = (unsigned int)num(optarg, LOAD_MAX_SECS, "--hold-secs"); break;
		case 'k': o.keepalive_secs = (unsigned int)num(optarg, 3600, "--keepalive-secs"); break;
		case 'T': o.max_secs = (unsigned int)num(optarg, LOAD_MAX_SECS, "--max-secs"); break;
		case 'P': o.pid = (int)num(optarg, 1u << 30, "--pid"); break;
		case 'B': o.max_bytes = (long)num(optarg, 1u << 30, "--max-bytes-per-tunnel"); break;
		case 'r': o.release = true; break;
		case 'L': o.linger = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || !o.server.s_addr || !o.count || !o.sockets ||
	    !o.window || !o.keepalive_secs || !o.max_secs)
		usage(2);
	if (o.tcp && o.count > LOAD_MAX_TCP)
		die("--count: at most 65536 TCP tunnels");
	if (o.max_bytes >= 0 && o.pid <= 0)
		die("--max-bytes-per-tunnel needs --pid");
	if (!o.tcp && (o.count - 1) / o.sockets >= 0xfeffffu)
		die("--count: more sources than 127.1.0.0/8 holds: raise --sockets");
}

/* TCP: a descriptor per tunnel, so the limit must allow count of them. */
static void raise_nofile(void)
{
	struct rlimit rl = { o.count + 256, o.count + 256 };
	struct rlimit cur;

	if (!o.tcp || (!getrlimit(RLIMIT_NOFILE, &cur) && cur.rlim_cur >= rl.rlim_cur))
		return;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("cannot raise RLIMIT_NOFILE to --count + 256 (needs root)");
}

static void alloc_state(void)
{
	unsigned int i;

	tuns = calloc(o.count, sizeof(*tuns));
	window_ring = calloc(o.window, sizeof(*window_ring));
	window_sent = calloc(o.window, sizeof(*window_sent));
	if (o.tcp) {
		tcp_rx = calloc(o.count, sizeof(*tcp_rx));
		tcp_rxlen = calloc(o.count, sizeof(*tcp_rxlen));
	}
	if (!tuns || !window_ring || !window_sent || (o.tcp && (!tcp_rx || !tcp_rxlen)))
		die("out of memory");
	for (i = 0; i < o.count; i++)
		tuns[i].fd = -1;
	epfd = epoll_create1(0);
	if (epfd < 0)
		die("epoll_create1");
}

/* Bytes per tunnel of the growth from before to after, or -1. */
static long per_tunnel(long before_kb, long after_kb, unsigned long n)
{
	if (before_kb < 0 || after_kb < 0 || !n)
		return -1;
	return (after_kb - before_kb) * 1024 / (long)n;
}

int main(int argc, char **argv)
{
	/* rss: RssAnon, what the server's own memory is; data: VmRSS */
	long rss0, rss1, rss2 = -1, data0, data1, data2 = -1, bpt, bpt_flows = -1;
	unsigned long up = 0, refused = 0;
	uint64_t t0, t1;
	unsigned int i;
	int rc = 0;

	parse(argc, argv);
	raise_nofile();
	alloc_state();
	if (!o.tcp)
		udp_open();
	deadline_ms = now_ms() + (uint64_t)o.max_secs * 1000;
	rss0 = proc_kb("RssAnon");
	data0 = proc_kb("VmRSS");

	t0 = kp_start = now_ms();
	run_phase(PH_CONFIG);
	t1 = now_ms();
	for (i = 0; i < o.count; i++)
		up += tuns[i].state == ST_UP;
	rss1 = proc_kb("RssAnon");
	data1 = proc_kb("VmRSS");
	if (o.flows_share && !out_of_time()) {
		run_phase(PH_FLOW);
		rss2 = proc_kb("RssAnon");
		data2 = proc_kb("VmRSS");
	}
	if (o.hold_secs)
		hold();
	if (o.release)
		release_all();

	for (i = 0; i < 16; i++)
		refused += fail.refused[i];
	bpt = per_tunnel(rss0, rss1, up);
	if (rss2 >= 0)
		bpt_flows = per_tunnel(rss0, rss2, up);
	printf("transport: %s\n", o.tcp ? "tcp" : "udp");
	printf("tunnels_asked: %u\ntunnels_up: %lu\n", o.count, up);
	printf("config_secs: %.3f\n", (double)(t1 - t0) / 1000);
	printf("config_per_sec: %.0f\n", t1 > t0 ? up * 1000.0 / (double)(t1 - t0) : 0.0);
	printf("fail_timeout: %lu\nfail_refused: %lu\nfail_bad_reply: %lu\n",
	       fail.timeout, refused, fail.bad_reply);
	printf("fail_send: %lu\nfail_connect: %lu\nfail_closed: %lu\n",
	       fail.send, fail.connect, fail.closed);
	for (i = 0; i < 16; i++)
		if (fail.refused[i])
			printf("fail_refused_%s: %lu\n", tscf_response_name((uint16_t)i),
			       fail.refused[i]);
	printf("flows_asked: %lu\nflows_bound: %lu\n", flows_asked, flows_bound);
	printf("keepalives_sent: %lu\nkeepalives_answered: %lu\n", kp_sent, kp_answered);
	if (o.pid > 0) {
		/* before, with the tunnels, with the flows too (-1: not run) */
		printf("server_rss_anon_kb: %ld %ld %ld\n", rss0, rss1, rss2);
		printf("server_vmrss_kb: %ld %ld %ld\n", data0, data1, data2);
		printf("bytes_per_tunnel: %ld\n", bpt);
		printf("bytes_per_tunnel_flows: %ld\n", bpt_flows);
	}
	if (up < o.count) {
		fprintf(stderr, "tscf-load: %lu of %u tunnels up\n", up, o.count);
		rc = 1;
	}
	if (flows_bound < flows_asked) {
		fprintf(stderr, "tscf-load: %lu of %lu flows bound\n", flows_bound, flows_asked);
		rc = 1;
	}
	if (o.max_bytes >= 0 && (bpt < 0 || bpt > o.max_bytes ||
				 bpt_flows > o.max_bytes)) {
		fprintf(stderr, "tscf-load: %ld (%ld with flows) bytes per tunnel, over %ld\n",
			bpt, bpt_flows, o.max_bytes);
		rc = 1;
	}
	if (o.linger)
		linger();
	return rc;
}
