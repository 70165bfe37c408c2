// SPDX-License-Identifier: GPL-2.0
/*
 * rtp172: RTP-size UDP packets at saturation, for make bench.
 *
 *   rtp172 send DST PORT SECONDS
 *	sends 172-byte UDP payloads to DST:PORT as fast as the socket takes
 *	them for SECONDS; a full queue (ENOBUFS, EAGAIN) or a tunnel that
 *	stops its queue (ENETDOWN) costs that packet only, as it would cost
 *	an RTP sender.  Prints what it sent and what the kernel refused.
 *
 *   rtp172 recv ADDR PORT SECONDS
 *	binds ADDR:PORT, waits up to 20 s for the first packet, lets the
 *	flow settle for half a second, then counts what arrives at the
 *	socket during SECONDS (read, or dropped by its full queue) and
 *	prints the packets per second.  Exits 1 when nothing arrives (a row
 *	that cannot be measured is a failure, never a 0).
 *
 * The sender must run at least SECONDS + 1 s so that the receiver's
 * window lies inside the flow.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <linux/sock_diag.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 172
#define FIRST_PACKET_MS 20000
#define SETTLE_S 0.5
#ifndef RCVBUF
#define RCVBUF (4 << 20)
#endif

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int udp_socket(const char *addr, const char *port, struct sockaddr_in *sin)
{
	int fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "rtp172: bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("rtp172: socket");
		exit(2);
	}
	return fd;
}

/* Errors that drop one packet; anything else ends the run. */
static int transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == ENETDOWN ||
	       err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH;
}

static int blast(const char *dst, const char *port, double secs)
{
	unsigned char buf[PAYLOAD] = { 0x80, 0 };	/* RTP version 2 */
	unsigned long sent = 0, refused = 0;
	struct sockaddr_in sin;
	uint32_t seq = 0;
	double end;
	int fd;

	fd = udp_socket(dst, port, &sin);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("rtp172: connect");
		return 2;
	}
	end = now_s() + secs;
	for (;;) {
		int i;

		for (i = 0; i < 64; i++) {
			seq++;
			memcpy(buf + 4, &seq, sizeof(seq));
			if (send(fd, buf, sizeof(buf), 0) == sizeof(buf)) {
				sent++;
			} else if (transient(errno)) {
				refused++;
			} else {
				perror("rtp172: send");
				return 2;
			}
		}
		if (now_s() >= end)
			break;
	}
	printf("sent %lu refused %lu\n", sent, refused);
	return sent ? 0 : 1;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* recv_one: one queued packet, if any; 0 when the queue is empty. */
static int recv_one(int fd)
{
	unsigned char buf[2048];

	return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0;
}

/*
 * Packets the socket's full receive queue dropped so far (SK_MEMINFO_DROPS).
 * Not SO_RXQ_OVFL: Debian 12's 6.1 copies that count from the queued
 * skb's control block, which hardened usercopy refuses for an skb of the
 * fclone cache, and the kernel panics (server/net.c says more).
 */
static uint32_t sock_drops(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(mi[0]))
		return 0;
	return mi[SK_MEMINFO_DROPS];
}

/*
 * What arrives at the socket, not what this loop manages to read: a
 * counter slower than the path would otherwise measure itself.  Packets
 * the full queue dropped in the window count as arrived (the path
 * delivered them); the window is the packets read in SECONDS after the
 * settling time, plus the drops counted between its start and its end.
 */
static int count(const char *addr, const char *port, double secs)
{
	uint32_t drops, drops0;
	unsigned long n = 0;
	struct sockaddr_in sin;
	int fd, sz = RCVBUF;
	double start, end;

	fd = udp_socket(addr, port, &sin);
	/* Root in the VM: a receive buffer that absorbs bursts. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("rtp172: bind");
		return 2;
	}
	if (!wait_readable(fd, FIRST_PACKET_MS)) {
		fprintf(stderr, "rtp172: no packet within %d ms\n", FIRST_PACKET_MS);
		return 1;
	}
	start = now_s() + SETTLE_S;
	while (now_s() < start)
		if (wait_readable(fd, 100))
			recv_one(fd);
	drops0 = sock_drops(fd);
	end = start + secs;
	while (now_s() < end) {
		if (!wait_readable(fd, 100))
			continue;
		while (recv_one(fd)) {
			n++;
			if ((n & 63) == 0 && now_s() >= end)
				break;
		}
	}
	drops = sock_drops(fd);
	if (!n) {
		fprintf(stderr, "rtp172: nothing arrived in the window\n");
		return 1;
	}
	fprintf(stderr, "rtp172: read %lu, dropped by the full queue %u\n",
		n, drops - drops0);
	printf("%.0f\n", (n + (drops - drops0)) / secs);
	return 0;
}

int main(int argc, char **argv)
{
	double secs;

	if (argc != 5 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: rtp172 send DST PORT SECONDS | recv ADDR PORT SECONDS\n");
		return 2;
	}
	secs = atof(argv[4]);
	if (secs <= 0) {
		fprintf(stderr, "rtp172: SECONDS must be positive\n");
		return 2;
	}
	if (!strcmp(argv[1], "send"))
		return blast(argv[2], argv[3], secs);
	return count(argv[2], argv[3], secs);
}
