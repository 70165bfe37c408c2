// SPDX-License-Identifier: GPL-2.0
/*
 * Flows: the bindings FLOW_BIND makes in a session, and the choice of
 * tunnel for each inner packet, in both directions (docs/PROTOCOL.md).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "tscfd.h"

static bool addr_any(const struct tscf_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->family == 4 ? (const void *)&a->v4 : (const void *)&a->v6,
		       zero, a->family == 4 ? 4 : 16);
}

static struct tscfd_flow *flow_find(struct tscfd_session *s,
				    const struct tscfd_flow *k, bool wildcard)
{
	unsigned int i;

	for (i = 0; i < s->nflows; i++) {
		struct tscfd_flow *f = &s->flows[i];

		if (f->proto != k->proto || f->lport != k->lport ||
		    !tscfd_addr_eq(&f->local, &k->local))
			continue;
		if (wildcard ? !f->rport :
		    f->rport == k->rport && tscfd_addr_eq(&f->remote, &k->remote))
			return f;
	}
	return NULL;
}

uint16_t tscfd_flow_bind(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	struct tscfd_session *s = t->session;
	const struct tscf_tlv *tf = tscf_msg_find(m, TSCF_TLV_FLOW, NULL);
	const struct tscf_tlv *tl = tscf_msg_find(m, TSCF_TLV_ENC_LEVEL, NULL);
	struct tscfd_flow k, *f;
	struct tscf_flow wf;
	uint8_t level;

	if (!tf || !tl || tscf_tlv_flow(tf, &wf) || tscf_tlv_u8(tl, &level) ||
	    level > TSCF_ENC_PREFERRED)
		return TSCF_RESP_BAD_REQUEST;
	if (!tscfd_addr_eq(&wf.local, &s->ip4) && !tscfd_addr_eq(&wf.local, &s->ip6))
		return TSCF_RESP_NOT_ALLOWED;
	k.proto = wf.proto;
	k.lport = wf.local_port;
	k.rport = wf.remote_port;
	k.local = wf.local;
	k.remote = wf.remote;
	k.level = level;
	if (!k.rport || addr_any(&k.remote))
		k.rport = 0;	/* wildcard remote */

	f = flow_find(s, &k, !k.rport);
	if (level == TSCF_ENC_UNENCRYPTED) {
		if (f)
			*f = s->flows[--s->nflows];
		return TSCF_RESP_SUCCESS;
	}
	if (f) {
		f->level = level;
		return TSCF_RESP_SUCCESS;
	}
	if (!s->flows) {
		s->flows = calloc(TSCFD_MAX_FLOWS, sizeof(*s->flows));
		if (!s->flows)
			return TSCF_RESP_NO_RESOURCES;
	}
	if (s->nflows == TSCFD_MAX_FLOWS)
		return TSCF_RESP_NO_RESOURCES;
	s->flows[s->nflows++] = k;
	return TSCF_RESP_SUCCESS;
}

void tscfd_flows_free(struct tscfd_session *s)
{
	free(s->flows);
	s->flows = NULL;
	s->nflows = 0;
}

unsigned int tscfd_flow_count(const struct tscfd_session *s)
{
	return s->nflows;
}

/* --- inner packets --------------------------------------------------- */

/* Source, destination and ports of an inner packet; false if not IP. */
static bool packet_flow(const uint8_t *p, size_t len, struct tscfd_flow *f,
			bool from_client)
{
	struct tscf_addr src, dst;
	size_t thoff;
	uint16_t sport = 0, dport = 0;

	memset(f, 0, sizeof(*f));
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	if ((p[0] >> 4) == 4) {
		if (len < 20 || (size_t)(p[0] & 0xf) * 4 > len)
			return false;
		src.family = dst.family = 4;
		memcpy(&src.v4, p + 12, 4);
		memcpy(&dst.v4, p + 16, 4);
		f->proto = p[9];
		thoff = (p[0] & 0xf) * 4;
	} else if ((p[0] >> 4) == 6) {
		if (len < 40)
			return false;
		src.family = dst.family = 6;
		memcpy(&src.v6, p + 8, 16);
		memcpy(&dst.v6, p + 24, 16);
		f->proto = p[6];
		thoff = 40;
	} else {
		return false;
	}
	if ((f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP) && len >= thoff + 4) {
		sport = (uint16_t)(p[thoff] << 8 | p[thoff + 1]);
		dport = (uint16_t)(p[thoff + 2] << 8 | p[thoff + 3]);
	}
	/* "local" is always the client's end. */
	f->local = from_client ? src : dst;
	f->remote = from_client ? dst : src;
	f->lport = from_client ? sport : dport;
	f->rport = from_client ? dport : sport;
	return true;
}

static uint8_t flow_level(struct tscfd_session *s, const struct tscfd_flow *k)
{
	struct tscfd_flow *f;

	if (!s->nflows)
		return TSCF_ENC_UNENCRYPTED;
	f = flow_find(s, k, false);
	if (!f)
		f = flow_find(s, k, true);
	return f ? f->level : TSCF_ENC_UNENCRYPTED;
}

void tscfd_flow_inner(struct tscfd_tunnel *t, const uint8_t *p, size_t len)
{
	struct tscfd_session *s = t->session;
	struct tscfd_flow k;

	if (!t->configured || !s) {
		tscfd_stats.drop_no_session++;
		return;
	}
	if (!packet_flow(p, len, &k, true)) {
		tscfd_stats.drop_malformed++;
		return;
	}
	/* Anti-spoofing: the source must be the session's own address. */
	if (!tscfd_addr_eq(&k.local, &s->ip4) && !tscfd_addr_eq(&k.local, &s->ip6)) {
		tscfd_stats.drop_spoofed++;
		return;
	}
	if (!t->encrypted && flow_level(s, &k) == TSCF_ENC_ONLY) {
		tscfd_stats.drop_enc_only_clear++;
		return;
	}
	if (write(tscfd_tunfd, p, len) == (ssize_t)len)
		tscfd_stats.rx_packets++;
}

/* A packet from the service network: to the tunnel its flow is bound to. */
void tscfd_tun_packet(const uint8_t *p, size_t len)
{
	struct tscfd_session *s;
	struct tscfd_tunnel *t;
	struct tscfd_flow k;
	uint8_t level;

	if (!len || !packet_flow(p, len, &k, false)) {
		tscfd_stats.drop_malformed++;
		return;
	}
	s = tscfd_session_by_ip(&k.local);
	if (!s) {
		tscfd_stats.drop_no_session++;
		return;
	}
	level = flow_level(s, &k);
	if (level == TSCF_ENC_ONLY)
		t = s->enc;		/* never the clear tunnel */
	else if (level == TSCF_ENC_PREFERRED && s->enc)
		t = s->enc;
	else
		t = s->clear;
	if (!t || !t->configured) {
		tscfd_stats.drop_no_tunnel++;
		return;
	}
	if (!tscfd_send_frame(t, p, len))
		tscfd_stats.tx_packets++;
}
