// SPDX-License-Identifier: GPL-2.0
/*
 * rtpvoice: one voice call's RTP stream, for make bench-voice.
 *
 *   rtpvoice send DST PORT COUNT
 *	sends COUNT packets of 172 bytes (an RTP packet of 20 ms G.711: a
 *	12-byte header and 160 bytes of audio) to DST:PORT, one every
 *	20 ms on an absolute schedule (50 pps).  Each carries its index,
 *	the schedule's start and its send time (CLOCK_MONOTONIC, ns).  A
 *	packet the kernel refuses is not retried (as an RTP sender would
 *	not); prints what it sent and refused.
 *
 *   rtpvoice recv ADDR PORT COUNT
 *	binds ADDR:PORT, waits up to 30 s for the first packet, then takes
 *	packets until 3 s after the last one was due, and prints one JSON
 *	object: packets received, lost, duplicated, out of order; one-way
 *	latency p50/p99/max in ms; RFC 3550 interarrival jitter in ms; how
 *	many arrived more than PLAYOUT_MS past their nominal time, so that
 *	a playout buffer of that depth drops them too; and how far the
 *	sender itself fell behind its schedule at worst.
 *
 * Sender and receiver must share one CLOCK_MONOTONIC (one machine, any
 * network namespaces).  The nominal arrival of a packet is its send time
 * plus the smallest one-way latency of the call (the path's fixed delay,
 * which a playout buffer adapts to): late means a latency above that by
 * more than PLAYOUT_MS.  The send time, not start + i * 20 ms: a sender
 * that slips (a pause of the VM under TCG) would count against every
 * path alike and measure the machine, not the path; its worst slip is
 * reported beside (send_slip_max_ms).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 172
#define RTP_HEADER 12
#define PTIME_NS 20000000LL		/* 20 ms of audio per packet */
#define RTP_CLOCK_PER_PACKET 160	/* 8 kHz G.711 */
#define PLAYOUT_MS 60
#define FIRST_PACKET_MS 30000
#define GRACE_NS 3000000000LL		/* after the last packet is due */
#define MAX_COUNT 1000000

/* What the audio bytes carry, right after the RTP header. */
struct stamp {
	uint32_t index;
	uint32_t magic;
	int64_t start_ns;		/* the schedule's origin */
	int64_t sent_ns;		/* this packet's send time */
} __attribute__((packed));

#define STAMP_MAGIC 0x72747076		/* "rtpv" */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int udp_socket(const char *addr, const char *port, struct sockaddr_in *sin)
{
	char *end;
	long p = strtol(port, &end, 10);
	int fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (*end || p <= 0 || p > 65535) {
		fprintf(stderr, "rtpvoice: bad port '%s'\n", port);
		exit(2);
	}
	sin->sin_port = htons(p);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "rtpvoice: bad IPv4 address '%s'\n", addr);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("rtpvoice: socket");
		exit(2);
	}
	return fd;
}

/* Errors that cost one packet; anything else ends the call. */
static int transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == ENETDOWN ||
	       err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH;
}

static void rtp_header(unsigned char *buf, uint32_t i)
{
	uint16_t seq = htons(i & 0xffff);
	uint32_t ts = htonl(i * RTP_CLOCK_PER_PACKET);
	uint32_t ssrc = htonl(0x74736366);

	buf[0] = 0x80;		/* version 2 */
	buf[1] = 0;		/* PT 0, PCMU */
	memcpy(buf + 2, &seq, 2);
	memcpy(buf + 4, &ts, 4);
	memcpy(buf + 8, &ssrc, 4);
}

static int send_call(const char *dst, const char *port, uint32_t count)
{
	unsigned char buf[PAYLOAD] = { 0 };
	unsigned long sent = 0, refused = 0;
	struct sockaddr_in sin;
	struct stamp st = { .magic = STAMP_MAGIC };
	int64_t start;
	uint32_t i;
	int fd;

	fd = udp_socket(dst, port, &sin);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("rtpvoice: connect");
		return 2;
	}
	start = now_ns();
	st.start_ns = start;
	for (i = 0; i < count; i++) {
		sleep_until(start + i * PTIME_NS);
		rtp_header(buf, i);
		st.index = i;
		st.sent_ns = now_ns();
		memcpy(buf + RTP_HEADER, &st, sizeof(st));
		if (send(fd, buf, sizeof(buf), 0) == sizeof(buf)) {
			sent++;
		} else if (transient(errno)) {
			refused++;
		} else {
			perror("rtpvoice: send");
			return 2;
		}
	}
	printf("sent %lu refused %lu\n", sent, refused);
	return sent ? 0 : 1;
}

struct call {
	uint32_t count;
	int64_t start_ns;
	int64_t *arrival;	/* per index, 0 = not received */
	int64_t *latency;	/* per index, arrival - send time */
	int64_t slip_max;	/* the sender's worst lag behind its schedule */
	unsigned long received, duplicates, reordered;
	int64_t last_arrival, last_nominal;	/* for the jitter */
	uint32_t highest;
	double jitter_ns;
	int any;
};

/*
 * RFC 3550 section 6.4.1: D is the difference of the transit times of two
 * consecutive arrivals, J += (|D| - J) / 16.  The RTP timestamp clock is
 * the nominal schedule (i * 20 ms), so a sender that slips shows too.
 */
static void take(struct call *c, const struct stamp *st, int64_t at)
{
	int64_t nominal = (int64_t)st->index * PTIME_NS;
	int64_t d;

	if (c->arrival[st->index]) {
		c->duplicates++;
		return;
	}
	c->arrival[st->index] = at;
	c->latency[st->index] = at - st->sent_ns;
	if (st->sent_ns - (c->start_ns + nominal) > c->slip_max)
		c->slip_max = st->sent_ns - (c->start_ns + nominal);
	c->received++;
	if (c->any) {
		if (st->index < c->highest)
			c->reordered++;
		d = (at - c->last_arrival) - (nominal - c->last_nominal);
		if (d < 0)
			d = -d;
		c->jitter_ns += (d - c->jitter_ns) / 16.0;
	}
	if (!c->any || st->index > c->highest)
		c->highest = st->index;
	c->any = 1;
	c->last_arrival = at;
	c->last_nominal = nominal;
}

/* One datagram; 0 when it is not one of this call's packets. */
static int parse(const unsigned char *buf, ssize_t n, const struct call *c,
		 struct stamp *st)
{
	if (n != PAYLOAD || buf[0] != 0x80)
		return 0;
	memcpy(st, buf + RTP_HEADER, sizeof(*st));
	if (st->magic != STAMP_MAGIC || st->index >= c->count)
		return 0;
	return !c->any || st->start_ns == c->start_ns;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of n sorted values (nearest rank). */
static double quantile_ms(const int64_t *v, unsigned long n, double q)
{
	unsigned long k = (unsigned long)(q * n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1] / 1e6;
}

static void report(struct call *c, unsigned long foreign)
{
	int64_t *lat = malloc(sizeof(*lat) * (c->received + 1));
	int64_t base = INT64_MAX;
	unsigned long n = 0, late = 0;
	uint32_t i;

	if (!lat) {
		perror("rtpvoice: malloc");
		exit(2);
	}
	for (i = 0; i < c->count; i++)
		if (c->arrival[i]) {
			lat[n++] = c->latency[i];
			if (c->latency[i] < base)
				base = c->latency[i];
		}
	/* Late: after its send time + the path's smallest delay + the buffer. */
	for (i = 0; i < c->count; i++)
		if (c->arrival[i] && c->latency[i] > base + PLAYOUT_MS * 1000000LL)
			late++;
	qsort(lat, n, sizeof(*lat), cmp64);
	printf("{\"count\": %u, \"received\": %lu, \"lost\": %lu, \"late\": %lu, "
	       "\"playout_ms\": %d, \"lost_or_late\": %lu, \"duplicates\": %lu, "
	       "\"reordered\": %lu, \"foreign\": %lu, \"base_ms\": %.3f, "
	       "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
	       "\"jitter_ms\": %.3f, \"send_slip_max_ms\": %.3f}\n",
	       c->count, c->received, c->count - c->received, late, PLAYOUT_MS,
	       c->count - c->received + late, c->duplicates, c->reordered, foreign,
	       base / 1e6, quantile_ms(lat, n, 0.50), quantile_ms(lat, n, 0.99),
	       lat[n - 1] / 1e6, c->jitter_ns / 1e6, c->slip_max / 1e6);
	free(lat);
}

static int wait_readable(int fd, int64_t until)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left = until - now_ns();

	if (left <= 0)
		return 0;
	return poll(&p, 1, left / 1000000 + 1) == 1;
}

static int recv_call(const char *addr, const char *port, uint32_t count)
{
	struct call c = { .count = count };
	unsigned char buf[2048];
	unsigned long foreign = 0;
	struct sockaddr_in sin;
	int64_t until;
	int fd;

	c.arrival = calloc(count, sizeof(*c.arrival));
	c.latency = calloc(count, sizeof(*c.latency));
	if (!c.arrival || !c.latency) {
		perror("rtpvoice: calloc");
		return 2;
	}
	fd = udp_socket(addr, port, &sin);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("rtpvoice: bind");
		return 2;
	}
	until = now_ns() + FIRST_PACKET_MS * 1000000LL;
	while (wait_readable(fd, until)) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int64_t at = now_ns();
		struct stamp st;

		if (n < 0)
			continue;
		if (!parse(buf, n, &c, &st)) {
			foreign++;
			continue;
		}
		if (!c.any) {
			c.start_ns = st.start_ns;
			until = st.start_ns + (int64_t)count * PTIME_NS + GRACE_NS;
		}
		take(&c, &st, at);
	}
	if (!c.any) {
		fprintf(stderr, "rtpvoice: no packet of the call within %d ms\n",
			FIRST_PACKET_MS);
		return 1;
	}
	report(&c, foreign);
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long count;

	if (argc != 5 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: rtpvoice send DST PORT COUNT | recv ADDR PORT COUNT\n");
		return 2;
	}
	count = strtoul(argv[4], &end, 10);
	if (*end || !count || count > MAX_COUNT) {
		fprintf(stderr, "rtpvoice: COUNT must be 1 to %d packets\n", MAX_COUNT);
		return 2;
	}
	if (!strcmp(argv[1], "send"))
		return send_call(argv[2], argv[3], count);
	return recv_call(argv[2], argv[3], count);
}
