// SPDX-License-Identifier: GPL-2.0
/*
 * The cost of tscfd's per-packet flow lookup alone: server/flow.c linked
 * with stubs for the rest of tscfd, one session holding 1,024 bindings
 * (the maximum), return packets of an unbound flow (the longest lookup)
 * and of a bound one.  Prints CPU nanoseconds per packet.
 *
 *   cc -O2 -Iserver -Iuapi -Itools/lib selftests/bench/flow_lookup.c \
 *      server/flow.c server/siphash.c tools/lib/libtscfproto.a -o /tmp/flow_lookup
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tscfd.h"

struct tscfd_stats tscfd_stats;
int tscfd_tunfd = -1;
static struct tscfd_session sess;
static struct tscfd_tunnel clear_t, enc_t;
static unsigned long sent;

bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4.s_addr == b->v4.s_addr :
				!memcmp(&a->v6, &b->v6, 16);
}

struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a)
{
	return tscfd_addr_eq(a, &sess.ip4) ? &sess : NULL;
}

struct tscfd_config tscfd_conf = { .mtu = 1399 };

int tscfd_send_inner(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	sent++;
	return 0;
}

/* The rest of tscfd, which a return packet's lookup does not reach. */
void tscfd_log(const char *fmt, ...)
{
	(void)fmt;
}

bool tscfd_kdp_slow(struct tscfd_session *s)
{
	(void)s;
	return true;
}

void tscfd_kdp_flows(struct tscfd_session *s)
{
	(void)s;
}

int tscfd_tun_write(const uint8_t *p, size_t len, bool checked)
{
	(void)p, (void)len, (void)checked;
	return 0;
}

int tscfd_tun_write_super(const uint8_t *p, size_t len, unsigned int mtu)
{
	(void)p, (void)len, (void)mtu;
	return 0;
}

static void bind_port(uint16_t port)
{
	struct tscf_flow f = { .proto = IPPROTO_UDP, .local_port = port,
			       .local = sess.ip4, .remote = { .family = 4 } };
	uint8_t buf[128];
	struct tscf_enc e;
	struct tscf_msg m;
	int len;

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_REQ, 1, port);
	tscf_enc_flow(&e, &f);
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, TSCF_ENC_ONLY);
	len = tscf_enc_finish(&e);
	if (len < 0 || tscf_msg_decode(buf, (size_t)len, &m) ||
	    tscfd_flow_bind(&enc_t, &m) != TSCF_RESP_SUCCESS) {
		fprintf(stderr, "bind %u failed\n", port);
		exit(1);
	}
}

static double per_packet(uint16_t dport, unsigned long n)
{
	uint8_t p[48] = { 0x45, 0, 0, 48, 0, 0, 0x40, 0, 64, IPPROTO_UDP };
	struct timespec a, b;
	unsigned long i;

	inet_pton(AF_INET, "10.100.0.1", p + 12);
	memcpy(p + 16, &sess.ip4.v4, 4);
	p[20] = 7000 >> 8, p[21] = 7000 & 0xff;
	p[22] = dport >> 8, p[23] = dport & 0xff;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < n; i++)
		tscfd_tun_packet(p, sizeof(p));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(void)
{
	unsigned long n = 2000000;
	unsigned int i;

	sess.ip4.family = 4;
	inet_pton(AF_INET, "10.100.0.2", &sess.ip4.v4);
	clear_t.configured = enc_t.configured = enc_t.encrypted = true;
	clear_t.session = enc_t.session = &sess;
	sess.clear = &clear_t;
	sess.enc = &enc_t;
	for (i = 0; i < TSCFD_MAX_FLOWS; i++)
		bind_port((uint16_t)(10000 + i));
	printf("unbound: %.1f ns/packet\n", per_packet(9999, n));
	printf("bound:   %.1f ns/packet\n", per_packet(10500, n));
	return sent == 2 * n ? 0 : 1;
}
