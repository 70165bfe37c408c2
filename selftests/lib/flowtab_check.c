// SPDX-License-Identifier: GPL-2.0
/*
 * tscfd's flow table against a model: server/flow.c linked with stubs
 * for the rest of tscfd; random binds and unbinds (exact and wildcard,
 * over either tunnel) while every port's return packet is checked to
 * take the tunnel its level says, and the count to match; each binding
 * that takes effect is told to the kernel's encrypted peer (stubbed), and
 * the set it would get (tscfd_flow_export) is the model's, up to its
 * maximum.  Exits non-zero with a message on the first difference.
 *
 *   cc -O1 -g -fsanitize=address,undefined -Iserver -Iuapi -Itools/lib \
 *      selftests/lib/flowtab_check.c server/flow.c server/siphash.c \
 *      tools/lib/libtscfproto.a
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/tscf.h>

#include "tscfd.h"

#define PORTS	1500		/* more than TSCFD_MAX_FLOWS */
#define REMOTES	3		/* remote port 0 (wildcard), 7000, 7001 */

struct tscfd_stats tscfd_stats;
struct tscfd_config tscfd_conf = { .mtu = 1399 };	/* its packets are shorter */
int tscfd_tunfd = -1;
static struct tscfd_session sess;
static struct tscfd_tunnel clear_t, enc_t, *last_sent;
static int model[PORTS][REMOTES];	/* level + 1 of each binding; 0: none */
static bool model_enc[PORTS][REMOTES];	/* set over the encrypted tunnel */

bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b)
{
	return a->family == b->family && a->family == 4 &&
	       a->v4.s_addr == b->v4.s_addr;
}

struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a)
{
	return tscfd_addr_eq(a, &sess.ip4) ? &sess : NULL;
}

void tscfd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int tscfd_send_inner(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	(void)buf, (void)len;
	last_sent = t;
	return 0;
}

/* The bindings changed: an encrypted peer in the kernel would get them. */
static int kdp_flows_calls;

void tscfd_kdp_flows(struct tscfd_session *s)
{
	if (s != &sess)
		exit(2);
	kdp_flows_calls++;
}

/* No kernel data path here: nothing to take off the fast path. */
bool tscfd_kdp_slow(struct tscfd_session *s)
{
	(void)s;
	return true;
}

int tscfd_tun_write(const uint8_t *p, size_t len, bool checked)
{
	(void)p, (void)checked;
	return len ? 0 : -1;
}

/* Never reached: no packet here is longer than the MTU. */
int tscfd_tun_write_super(const uint8_t *p, size_t len, unsigned int mtu)
{
	(void)p, (void)len, (void)mtu;
	return -EINVAL;
}

static uint16_t flow_bind(struct tscfd_tunnel *t, int port, int r, uint8_t level)
{
	struct tscf_flow f = { .proto = IPPROTO_UDP, .local_port = (uint16_t)(10000 + port),
			       .remote_port = r ? (uint16_t)(6999 + r) : 0,
			       .local = sess.ip4, .remote = { .family = 4 } };
	uint8_t buf[128];
	struct tscf_enc e;
	struct tscf_msg m;
	int len;

	if (r)
		inet_pton(AF_INET, "10.100.0.1", &f.remote.v4);
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_REQ, 1, 1);
	tscf_enc_flow(&e, &f);
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, level);
	len = tscf_enc_finish(&e);
	if (len < 0 || tscf_msg_decode(buf, (size_t)len, &m))
		exit(2);
	return tscfd_flow_bind(t, &m);
}

static int rank(int level)
{
	return level == TSCF_ENC_ONLY ? 2 : level == TSCF_ENC_PREFERRED ? 1 : 0;
}

/* The level a packet from remote port r gets: its own binding, else the wildcard. */
static int model_level(int port, int r)
{
	if (model[port][r])
		return model[port][r] - 1;
	return model[port][0] ? model[port][0] - 1 : 0;
}

static int model_count(void)
{
	int p, r, n = 0;

	for (p = 0; p < PORTS; p++)
		for (r = 0; r < REMOTES; r++)
			n += !!model[p][r];
	return n;
}

static void model_bind(bool enc, int port, int r, int level, uint16_t code)
{
	int cur = model[port][r] ? model[port][r] - 1 : -1;
	bool cur_enc = model_enc[port][r];
	uint16_t want = TSCF_RESP_SUCCESS;

	if (r && cur < 0 && model[port][0]) {	/* what it would shadow */
		cur = model[port][0] - 1;
		cur_enc = model_enc[port][0];
	}
	if (!enc && cur >= 0 && cur_enc && rank(level) < rank(cur))
		want = TSCF_RESP_NOT_ALLOWED;
	else if (level && !model[port][r] && model_count() >= TSCFD_MAX_FLOWS)
		want = TSCF_RESP_NO_RESOURCES;
	if (code != want) {
		fprintf(stderr, "bind port %d remote %d level %d over %s: %u, want %u\n",
			port, r, level, enc ? "enc" : "clear", code, want);
		exit(1);
	}
	if (want != TSCF_RESP_SUCCESS)
		return;
	if (!level) {
		model[port][r] = 0;
		model_enc[port][r] = false;
		return;
	}
	model_enc[port][r] = model[port][r] ? model_enc[port][r] || enc : enc;
	model[port][r] = level + 1;
}

/*
 * What the kernel's encrypted peer would get (tscfd_flow_export): as many
 * entries as bindings, up to TSCF_SRV_MAX_FLOWS, each one a binding of
 * the model, none twice, all of the session's address.
 */
static void check_export(int step)
{
	struct tscf_srv_flow out[TSCF_SRV_MAX_FLOWS];
	static bool seen[PORTS][REMOTES];
	size_t n = tscfd_flow_export(&sess, out, TSCF_SRV_MAX_FLOWS), i;
	int want = model_count(), port, r;

	if (want > TSCF_SRV_MAX_FLOWS)
		want = TSCF_SRV_MAX_FLOWS;
	if ((int)n != want) {
		fprintf(stderr, "step %d: %zu flows exported, want %d\n", step, n, want);
		exit(1);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		port = ntohs(out[i].lport) - 10000;
		r = out[i].rport ? ntohs(out[i].rport) - 6999 : 0;
		if (out[i].proto != IPPROTO_UDP || out[i].family != AF_INET || out[i].pad ||
		    port < 0 || port >= PORTS || r < 0 || r >= REMOTES ||
		    !model[port][r] || seen[port][r] ||
		    memcmp(out[i].local, &sess.ip4.v4, 4)) {
			fprintf(stderr, "step %d: exported flow %zu (port %d, remote %d) is not a binding\n",
				step, i, port, r);
			exit(1);
		}
		seen[port][r] = true;
	}
}

static void check_packet(int port, int r)
{
	uint8_t p[28] = { 0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, IPPROTO_UDP };
	int level = model_level(port, r), rport = r ? 6999 + r : 7100;
	struct tscfd_tunnel *want = level ? &enc_t : &clear_t;

	inet_pton(AF_INET, "10.100.0.1", p + 12);
	memcpy(p + 16, &sess.ip4.v4, 4);
	p[20] = (uint8_t)(rport >> 8), p[21] = (uint8_t)rport;
	p[22] = (uint8_t)((10000 + port) >> 8), p[23] = (uint8_t)(10000 + port);
	last_sent = NULL;
	tscfd_tun_packet(p, sizeof(p));
	if (last_sent != want) {
		fprintf(stderr, "port %d remote %d: sent on %s, level %d wants %s\n",
			port, r, last_sent == &enc_t ? "enc" : last_sent ? "clear" : "none",
			level, want == &enc_t ? "enc" : "clear");
		exit(1);
	}
}

int main(void)
{
	int i, port, r;

	srand(1);
	sess.ip4.family = 4;
	inet_pton(AF_INET, "10.100.0.2", &sess.ip4.v4);
	clear_t.configured = enc_t.configured = enc_t.encrypted = true;
	clear_t.session = enc_t.session = &sess;
	sess.clear = &clear_t;
	sess.enc = &enc_t;
	for (i = 0; i < 100000; i++) {
		bool enc = rand() % 2;
		int level = rand() % 3;

		port = rand() % PORTS;
		r = rand() % REMOTES;
		/* Mostly binds at first, to fill the table; then churn. */
		if (i < 3000 && !level)
			level = 1 + rand() % 2;
		int calls = kdp_flows_calls;
		uint16_t code = flow_bind(enc ? &enc_t : &clear_t, port, r, (uint8_t)level);

		model_bind(enc, port, r, level, code);
		if ((int)tscfd_flow_count(&sess) != model_count()) {
			fprintf(stderr, "step %d: %u bindings, model %d\n", i,
				tscfd_flow_count(&sess), model_count());
			exit(1);
		}
		/* Every binding that took effect is told to the kernel. */
		if (kdp_flows_calls != calls + (code == TSCF_RESP_SUCCESS)) {
			fprintf(stderr, "step %d: answer %u, kernel told %d times\n", i, code,
				kdp_flows_calls - calls);
			exit(1);
		}
		check_export(i);
		check_packet(port, 1 + rand() % (REMOTES - 1));
		check_packet(rand() % PORTS, rand() % REMOTES);
	}
	for (port = 0; port < PORTS; port++)
		for (r = 0; r < REMOTES; r++)
			check_packet(port, r);
	tscfd_flows_free(&sess);
	printf("%d operations, %d bindings at the end, all as the model\n", i, model_count());
	return 0;
}
