// SPDX-License-Identifier: GPL-2.0
/*
 * libtscfproto: the TSCF wire format of docs/PROTOCOL.md.  No allocation:
 * decoded TLVs point into the caller's frame, the encoder writes into the
 * caller's buffer.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/tscf_frame.h>

#include "tscf_proto.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

enum tscf_frame_kind tscf_frame_kind(const uint8_t *buf, size_t len)
{
	if (!len)
		return TSCF_FRAME_INVALID;
	switch (buf[0] >> 4) {
	case TSCF_FRAME_CTRL:
		return TSCF_FRAME_CTRL;
	case TSCF_FRAME_IPV4:
		return TSCF_FRAME_IPV4;
	case TSCF_FRAME_IPV6:
		return TSCF_FRAME_IPV6;
	default:
		return TSCF_FRAME_INVALID;
	}
}

/* The framer is shared with tscf.ko: uapi/linux/tscf_frame.h. */
int tscf_frame_len(const uint8_t *buf, size_t avail, size_t *frame_len)
{
	return tscf_wire_frame_len(buf, avail, frame_len);
}

int tscf_msg_decode(const uint8_t *buf, size_t len, struct tscf_msg *msg)
{
	size_t off = TSCF_CM_HDR_LEN;
	unsigned int i, count;

	if (len > TSCF_MAX_CTRL_LEN)
		return -EMSGSIZE;
	if (len < TSCF_CM_HDR_LEN || buf[0] != TSCF_CM_BYTE0)
		return -EPROTO;
	count = get16(buf + 2);
	if (count > TSCF_MAX_TLVS)
		return -EMSGSIZE;

	msg->type = buf[1];
	msg->tsid = get64(buf + 4);
	msg->seq = get32(buf + 12);
	msg->ntlv = count;
	for (i = 0; i < count; i++) {
		struct tscf_tlv *t = &msg->tlv[i];

		if (len - off < TSCF_TLV_HDR_LEN)
			return -EPROTO;
		t->type = get16(buf + off);
		t->len = get16(buf + off + 2);
		off += TSCF_TLV_HDR_LEN;
		if (len - off < t->len)
			return -EPROTO;	/* overruns the frame */
		t->val = buf + off;
		off += t->len;
	}
	return off == len ? 0 : -EPROTO;	/* no trailing bytes */
}

const struct tscf_tlv *tscf_msg_find(const struct tscf_msg *msg,
				     uint16_t type,
				     const struct tscf_tlv *prev)
{
	unsigned int i = prev ? (unsigned int)(prev - msg->tlv) + 1 : 0;

	for (; i < msg->ntlv; i++)
		if (msg->tlv[i].type == type)
			return &msg->tlv[i];
	return NULL;
}

int tscf_tlv_u8(const struct tscf_tlv *t, uint8_t *v)
{
	if (t->len != 1)
		return -EPROTO;
	*v = t->val[0];
	return 0;
}

int tscf_tlv_u16(const struct tscf_tlv *t, uint16_t *v)
{
	if (t->len != 2)
		return -EPROTO;
	*v = get16(t->val);
	return 0;
}

int tscf_tlv_u32(const struct tscf_tlv *t, uint32_t *v)
{
	if (t->len != 4)
		return -EPROTO;
	*v = get32(t->val);
	return 0;
}

int tscf_tlv_u64(const struct tscf_tlv *t, uint64_t *v)
{
	if (t->len != 8)
		return -EPROTO;
	*v = get64(t->val);
	return 0;
}

int tscf_tlv_in4(const struct tscf_tlv *t, struct in_addr *a)
{
	if (t->len != 4)
		return -EPROTO;
	memcpy(a, t->val, 4);
	return 0;
}

int tscf_tlv_in6(const struct tscf_tlv *t, struct in6_addr *a)
{
	if (t->len != 16)
		return -EPROTO;
	memcpy(a, t->val, 16);
	return 0;
}

static int read_addr(const uint8_t *p, uint8_t family, struct tscf_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == 4)
		memcpy(&a->v4, p, 4);
	else
		memcpy(&a->v6, p, 16);
	return 0;
}

int tscf_tlv_addr(const struct tscf_tlv *t, struct tscf_addr *a)
{
	if (t->len != 4 && t->len != 16)
		return -EPROTO;
	return read_addr(t->val, t->len == 4 ? 4 : 6, a);
}

static size_t addr_len(uint8_t family)
{
	return family == 4 ? 4 : family == 6 ? 16 : 0;
}

int tscf_tlv_conn_info(const struct tscf_tlv *t, struct tscf_conn_info *ci)
{
	const struct tscf_tlv_conn_info *h = (const void *)t->val;
	size_t alen;

	if (t->len < sizeof(*h))
		return -EPROTO;
	alen = addr_len(h->family);
	if (!alen || t->len != sizeof(*h) + alen)
		return -EPROTO;
	if (h->transport != TSCF_TRANSPORT_TLS &&
	    h->transport != TSCF_TRANSPORT_DTLS)
		return -EPROTO;
	ci->transport = h->transport;
	ci->port = get16(t->val + 2);
	return read_addr(t->val + sizeof(*h), h->family, &ci->addr);
}

int tscf_tlv_flow(const struct tscf_tlv *t, struct tscf_flow *f)
{
	const struct tscf_tlv_flow_hdr *h = (const void *)t->val;
	size_t alen;

	if (t->len < sizeof(*h))
		return -EPROTO;
	alen = addr_len(h->family);
	if (!alen || t->len != sizeof(*h) + 2 * alen)
		return -EPROTO;
	if (h->proto != IPPROTO_UDP && h->proto != IPPROTO_TCP)
		return -EPROTO;
	if (t->val[2] || t->val[3])
		return -EPROTO;	/* reserved */
	f->proto = h->proto;
	f->local_port = get16(t->val + 4);
	f->remote_port = get16(t->val + 6);
	read_addr(t->val + sizeof(*h), h->family, &f->local);
	return read_addr(t->val + sizeof(*h) + alen, h->family, &f->remote);
}

void tscf_enc_init(struct tscf_enc *e, uint8_t *buf, size_t cap,
		   uint8_t type, uint64_t tsid, uint32_t seq)
{
	e->buf = buf;
	e->cap = cap < TSCF_MAX_CTRL_LEN ? cap : TSCF_MAX_CTRL_LEN;
	e->len = 0;
	e->ntlv = 0;
	e->err = 0;
	if (e->cap < TSCF_CM_HDR_LEN) {
		e->err = -EMSGSIZE;
		return;
	}
	buf[0] = TSCF_CM_BYTE0;
	buf[1] = type;
	put16(buf + 2, 0);
	put64(buf + 4, tsid);
	put32(buf + 12, seq);
	e->len = TSCF_CM_HDR_LEN;
}

/* Room for a TLV of len value bytes; sets the sticky error if none. */
static uint8_t *enc_reserve(struct tscf_enc *e, uint16_t type, size_t len)
{
	uint8_t *p;

	if (e->err)
		return NULL;
	if (e->ntlv >= TSCF_MAX_TLVS || len > 0xffff ||
	    e->cap - e->len < TSCF_TLV_HDR_LEN + len) {
		e->err = -EMSGSIZE;
		return NULL;
	}
	p = e->buf + e->len;
	put16(p, type);
	put16(p + 2, (uint16_t)len);
	e->len += TSCF_TLV_HDR_LEN + len;
	e->ntlv++;
	return p + TSCF_TLV_HDR_LEN;
}

void tscf_enc_tlv(struct tscf_enc *e, uint16_t type, const void *val,
		  uint16_t len)
{
	uint8_t *p = enc_reserve(e, type, len);

	if (p && len)
		memcpy(p, val, len);
}

void tscf_enc_u8(struct tscf_enc *e, uint16_t type, uint8_t v)
{
	tscf_enc_tlv(e, type, &v, 1);
}

void tscf_enc_u16(struct tscf_enc *e, uint16_t type, uint16_t v)
{
	uint8_t *p = enc_reserve(e, type, 2);

	if (p)
		put16(p, v);
}

void tscf_enc_u32(struct tscf_enc *e, uint16_t type, uint32_t v)
{
	uint8_t *p = enc_reserve(e, type, 4);

	if (p)
		put32(p, v);
}

void tscf_enc_u64(struct tscf_enc *e, uint16_t type, uint64_t v)
{
	uint8_t *p = enc_reserve(e, type, 8);

	if (p)
		put64(p, v);
}

static void write_addr(uint8_t *p, const struct tscf_addr *a)
{
	if (a->family == 4)
		memcpy(p, &a->v4, 4);
	else
		memcpy(p, &a->v6, 16);
}

void tscf_enc_addr(struct tscf_enc *e, uint16_t type,
		   const struct tscf_addr *a)
{
	size_t alen = addr_len(a->family);
	uint8_t *p;

	if (!alen) {
		if (!e->err)
			e->err = -EINVAL;
		return;
	}
	p = enc_reserve(e, type, alen);
	if (p)
		write_addr(p, a);
}

void tscf_enc_conn_info(struct tscf_enc *e, const struct tscf_conn_info *ci)
{
	size_t alen = addr_len(ci->addr.family);
	uint8_t *p;

	if (!alen) {
		if (!e->err)
			e->err = -EINVAL;
		return;
	}
	p = enc_reserve(e, TSCF_TLV_CONN_INFO,
			sizeof(struct tscf_tlv_conn_info) + alen);
	if (!p)
		return;
	memset(p, 0, sizeof(struct tscf_tlv_conn_info));
	p[0] = ci->transport;
	p[1] = ci->addr.family;
	put16(p + 2, ci->port);
	write_addr(p + sizeof(struct tscf_tlv_conn_info), &ci->addr);
}

void tscf_enc_flow(struct tscf_enc *e, const struct tscf_flow *f)
{
	size_t alen = addr_len(f->local.family);
	uint8_t *p;

	if (!alen || f->remote.family != f->local.family) {
		if (!e->err)
			e->err = -EINVAL;
		return;
	}
	p = enc_reserve(e, TSCF_TLV_FLOW,
			sizeof(struct tscf_tlv_flow_hdr) + 2 * alen);
	if (!p)
		return;
	p[0] = f->proto;
	p[1] = f->local.family;
	put16(p + 2, 0);
	put16(p + 4, f->local_port);
	put16(p + 6, f->remote_port);
	write_addr(p + 8, &f->local);
	write_addr(p + 8 + alen, &f->remote);
}

void tscf_enc_pad(struct tscf_enc *e, size_t min_len)
{
	size_t need;
	uint8_t *p;

	if (e->err || e->len >= min_len)
		return;
	/* The TLV header counts towards the length: at least an empty TLV. */
	need = min_len - e->len;
	need = need > TSCF_TLV_HDR_LEN ? need - TSCF_TLV_HDR_LEN : 0;
	p = enc_reserve(e, TSCF_TLV_PADDING, need);
	if (p)
		memset(p, 0, need);
}

int tscf_enc_finish(struct tscf_enc *e)
{
	if (e->err)
		return e->err;
	put16(e->buf + 2, e->ntlv);
	return (int)e->len;
}

const char *tscf_cm_type_name(uint8_t type)
{
	static const char *const names[] = {
		[TSCF_CM_CONFIG_REQ] = "CONFIG_REQ",
		[TSCF_CM_CONFIG_RESP] = "CONFIG_RESP",
		[TSCF_CM_RELEASE_REQ] = "RELEASE_REQ",
		[TSCF_CM_RELEASE_RESP] = "RELEASE_RESP",
		[TSCF_CM_KEEPALIVE_REQ] = "KEEPALIVE_REQ",
		[TSCF_CM_KEEPALIVE_RESP] = "KEEPALIVE_RESP",
		[TSCF_CM_SERVICE_REQ] = "SERVICE_REQ",
		[TSCF_CM_SERVICE_RESP] = "SERVICE_RESP",
		[TSCF_CM_FLOW_BIND_REQ] = "FLOW_BIND_REQ",
		[TSCF_CM_FLOW_BIND_RESP] = "FLOW_BIND_RESP",
		[TSCF_CM_COOKIE] = "COOKIE",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "UNKNOWN";
}

const char *tscf_response_name(uint16_t code)
{
	static const char *const names[] = {
		[TSCF_RESP_SUCCESS] = "SUCCESS",
		[TSCF_RESP_BAD_REQUEST] = "BAD_REQUEST",
		[TSCF_RESP_SERVICE_UNAVAILABLE] = "SERVICE_UNAVAILABLE",
		[TSCF_RESP_UNKNOWN_TSID] = "UNKNOWN_TSID",
		[TSCF_RESP_NO_RESOURCES] = "NO_RESOURCES",
		[TSCF_RESP_NOT_ALLOWED] = "NOT_ALLOWED",
		[TSCF_RESP_UNSUPPORTED_VERSION] = "UNSUPPORTED_VERSION",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "UNKNOWN";
}
