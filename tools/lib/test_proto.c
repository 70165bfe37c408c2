// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of libtscfproto against byte vectors written here by hand
 * (docs/PROTOCOL.md section 6 among them), not produced by the encoder.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "tscf_proto.h"

static int failures, cases;

#define CHECK(name, cond) do {						\
	cases++;							\
	if (cond) {							\
		printf("ok - %s\n", name);				\
	} else {							\
		failures++;						\
		printf("not ok - %s (%s:%d)\n", name, __FILE__, __LINE__); \
	}								\
} while (0)

/* docs/PROTOCOL.md section 6. */
static const uint8_t config_req[] = {
	0x10, 0x01, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x10, 0x00, 0x01, 0x02,
};

static const uint8_t config_resp[] = {
	0x10, 0x02, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44,
	0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x08, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x10, 0x00, 0x01, 0x02,
	0x00, 0x01, 0x00, 0x04, 0x0a, 0x64, 0x00, 0x02,
	0x00, 0x02, 0x00, 0x04, 0xff, 0xff, 0x00, 0x00,
	0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x00, 0x1e,
	0x00, 0x0e, 0x00, 0x02, 0x05, 0x77,
};

static const uint8_t ipv4_udp[28] = {
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
	0x0a, 0x64, 0x00, 0x02, 0x0a, 0x64, 0x00, 0x01,
	0x17, 0x70, 0x1b, 0x58, 0x00, 0x08, 0x00, 0x00,
};

static const uint8_t ipv6_hdr_only[48] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40,
	[40] = 0x17, 0x70, 0x1b, 0x58, 0x00, 0x08, 0x00, 0x00,
};

static void test_decode(void)
{
	struct tscf_msg m;
	const struct tscf_tlv *t;
	struct in_addr a;
	uint32_t v32;
	uint16_t v16;

	CHECK("decode config request", !tscf_msg_decode(config_req, sizeof(config_req), &m) &&
	      m.type == TSCF_CM_CONFIG_REQ && m.tsid == TSCF_TSID_NONE &&
	      m.seq == 1 && m.ntlv == 1);
	t = tscf_msg_find(&m, TSCF_TLV_VERSION, NULL);
	CHECK("config request names version 2", t && t->len == 1 && t->val[0] == 2);
	CHECK("decode config response", !tscf_msg_decode(config_resp, sizeof(config_resp), &m) &&
	      m.type == TSCF_CM_CONFIG_RESP && m.tsid == 0x1122334455667788ULL &&
	      m.ntlv == 6);
	t = tscf_msg_find(&m, TSCF_TLV_INTERNAL_IPV4, NULL);
	CHECK("internal address", t && !tscf_tlv_in4(t, &a) &&
	      a.s_addr == htonl(0x0a640002));
	t = tscf_msg_find(&m, TSCF_TLV_KEEPALIVE, NULL);
	CHECK("keepalive", t && !tscf_tlv_u32(t, &v32) && v32 == 30);
	t = tscf_msg_find(&m, TSCF_TLV_MTU, NULL);
	CHECK("mtu", t && !tscf_tlv_u16(t, &v16) && v16 == 1399);
	CHECK("wrong-size reader", t && tscf_tlv_u32(t, &v32) == -EPROTO);
	CHECK("find absent", !tscf_msg_find(&m, TSCF_TLV_FLOW, NULL));
}

static void test_bad_frames(void)
{
	uint8_t f[sizeof(config_resp) + 8];
	struct tscf_msg m;

	memcpy(f, config_resp, sizeof(config_resp));
	f[0] = 0x20;
	CHECK("header nibble 2 rejected (the version is a TLV)",
	      tscf_msg_decode(f, sizeof(config_resp), &m) == -EPROTO);
	f[0] = 0x18;
	CHECK("indication bit rejected", tscf_msg_decode(f, sizeof(config_resp), &m) == -EPROTO);
	f[0] = 0x11;
	CHECK("reserved bit rejected", tscf_msg_decode(f, sizeof(config_resp), &m) == -EPROTO);
	f[0] = 0x10;
	CHECK("truncated: TLV overruns", tscf_msg_decode(f, sizeof(config_resp) - 1, &m) == -EPROTO);
	f[sizeof(config_resp)] = 0;
	CHECK("trailing byte rejected", tscf_msg_decode(f, sizeof(config_resp) + 1, &m) == -EPROTO);
	f[3] = 7;	/* claims one TLV more than there is */
	CHECK("TLV count too high", tscf_msg_decode(f, sizeof(config_resp), &m) == -EPROTO);
	f[2] = 0x01;
	f[3] = 0x00;	/* 256 TLVs */
	CHECK("too many TLVs", tscf_msg_decode(f, sizeof(config_resp), &m) == -EMSGSIZE);
	CHECK("short header", tscf_msg_decode(config_req, 15, &m) == -EPROTO);
}

static void test_tlv_readers(void)
{
	static const uint8_t flow4[] = {
		17, 4, 0, 0, 0x17, 0x71, 0, 0, 10, 100, 0, 2, 0, 0, 0, 0,
	};
	static const uint8_t flow_bad_family[] = {
		17, 5, 0, 0, 0x17, 0x71, 0, 0, 10, 100, 0, 2, 0, 0, 0, 0,
	};
	static const uint8_t flow_icmp[] = {
		1, 4, 0, 0, 0x17, 0x71, 0, 0, 10, 100, 0, 2, 0, 0, 0, 0,
	};
	static const uint8_t ci4[] = { 3, 4, 0x0f, 0xa1, 0, 0, 0, 0, 10, 10, 0, 2 };
	static const uint8_t ci_udp[] = { 1, 4, 0x0f, 0xa1, 0, 0, 0, 0, 10, 10, 0, 2 };
	struct tscf_tlv t = { .type = TSCF_TLV_FLOW, .len = sizeof(flow4), .val = flow4 };
	struct tscf_conn_info ci;
	struct tscf_flow f;
	struct tscf_addr a;

	CHECK("flow v4", !tscf_tlv_flow(&t, &f) && f.proto == 17 && f.local_port == 6001 &&
	      f.remote_port == 0 && f.local.family == 4 &&
	      f.local.v4.s_addr == htonl(0x0a640002));
	t.len = 15;
	CHECK("flow short", tscf_tlv_flow(&t, &f) == -EPROTO);
	t.val = flow_bad_family;
	t.len = sizeof(flow_bad_family);
	CHECK("flow bad family", tscf_tlv_flow(&t, &f) == -EPROTO);
	t.val = flow_icmp;
	CHECK("flow bad protocol", tscf_tlv_flow(&t, &f) == -EPROTO);
	t.val = ci4;
	t.len = sizeof(ci4);
	CHECK("conn info", !tscf_tlv_conn_info(&t, &ci) && ci.transport == TSCF_TRANSPORT_TLS &&
	      ci.port == 4001 && ci.addr.v4.s_addr == htonl(0x0a0a0002));
	t.len = 11;
	CHECK("conn info short", tscf_tlv_conn_info(&t, &ci) == -EPROTO);
	t.val = ci_udp;
	t.len = sizeof(ci_udp);
	CHECK("conn info not encrypted", tscf_tlv_conn_info(&t, &ci) == -EPROTO);
	t.len = 4;
	CHECK("addr v4", !tscf_tlv_addr(&t, &a) && a.family == 4);
	t.len = 5;
	CHECK("addr odd length", tscf_tlv_addr(&t, &a) == -EPROTO);
}

/* Every split point of a frame: -EAGAIN until complete, then its length. */
static int split_ok(const uint8_t *frame, size_t len)
{
	size_t got, i;

	for (i = 0; i < len; i++) {
		int rc = tscf_frame_len(frame, i, &got);

		if (rc == 0 && got <= i)
			return 0;	/* claimed complete too early */
		if (rc && rc != -EAGAIN)
			return 0;
	}
	return !tscf_frame_len(frame, len, &got) && got == len;
}

static void test_framer(void)
{
	static const uint8_t garbage[] = { 0x7f, 0, 0, 0 };
	uint8_t big[TSCF_CM_HDR_LEN + 8] = { 0x10, 1, 0, 2 };
	uint8_t short4[20];
	size_t len;

	CHECK("framer: control at every split", split_ok(config_resp, sizeof(config_resp)));
	CHECK("framer: IPv4 at every split", split_ok(ipv4_udp, sizeof(ipv4_udp)));
	CHECK("framer: IPv6 at every split", split_ok(ipv6_hdr_only, sizeof(ipv6_hdr_only)));
	CHECK("framer: bad nibble", tscf_frame_len(garbage, sizeof(garbage), &len) == -EPROTO);
	memcpy(short4, ipv4_udp, 20);
	short4[3] = 10;
	CHECK("framer: IPv4 length < header", tscf_frame_len(short4, 20, &len) == -EPROTO);
	/* Two TLVs of 4000 bytes: over the control limit. */
	big[16 + 2] = 0x0f;
	big[16 + 3] = 0xa0;
	CHECK("framer: oversize control", tscf_frame_len(big, 20, &len) == -EMSGSIZE ||
	      tscf_frame_len(big, 20, &len) == -EAGAIN);
	CHECK("framer: empty", tscf_frame_len(big, 0, &len) == -EAGAIN);
	CHECK("kind", tscf_frame_kind(ipv4_udp, 1) == TSCF_FRAME_IPV4 &&
	      tscf_frame_kind(garbage, 1) == TSCF_FRAME_INVALID &&
	      tscf_frame_kind(config_req, 0) == TSCF_FRAME_INVALID);
}

static void test_encoder(void)
{
	uint8_t buf[256];
	struct tscf_enc e;
	struct tscf_addr a = { .family = 4 };
	uint32_t mask = htonl(0xffff0000);
	int len;

	a.v4.s_addr = htonl(0x0a640002);
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, 0x1122334455667788ULL, 1);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, 0);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_addr(&e, TSCF_TLV_INTERNAL_IPV4, &a);
	tscf_enc_tlv(&e, TSCF_TLV_INTERNAL_IPV4_MASK, &mask, 4);
	tscf_enc_u32(&e, TSCF_TLV_KEEPALIVE, 30);
	tscf_enc_u16(&e, TSCF_TLV_MTU, 1399);
	len = tscf_enc_finish(&e);
	CHECK("encoder: exact bytes of the worked example",
	      len == (int)sizeof(config_resp) && !memcmp(buf, config_resp, sizeof(config_resp)));

	tscf_enc_init(&e, buf, 24, TSCF_CM_KEEPALIVE_REQ, 1, 2);
	tscf_enc_u32(&e, TSCF_TLV_KEEPALIVE, 1);	/* 16 + 8 = 24: fits */
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, 1);	/* does not */
	tscf_enc_u16(&e, TSCF_TLV_MTU, 1);	/* sticky */
	CHECK("encoder: overflow is sticky", tscf_enc_finish(&e) == -EMSGSIZE);
	tscf_enc_init(&e, buf, 8, TSCF_CM_KEEPALIVE_REQ, 1, 2);
	CHECK("encoder: no room for the header", tscf_enc_finish(&e) == -EMSGSIZE);
	/* 16 + VERSION (5) = 21, then PADDING 00 11 00 67 + 103 zeros = 128. */
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, TSCF_TSID_NONE, 1);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_pad(&e, TSCF_DGRAM_CONFIG_MIN_LEN);
	len = tscf_enc_finish(&e);
	CHECK("encoder: padding to the datagram minimum",
	      len == TSCF_DGRAM_CONFIG_MIN_LEN && buf[3] == 2 &&
	      !memcmp(buf + 16, "\x00\x10\x00\x01\x02\x00\x11\x00\x67", 9) &&
	      buf[127] == 0);
	tscf_enc_pad(&e, 64);	/* already longer: no second TLV */
	CHECK("encoder: no padding when long enough", tscf_enc_finish(&e) == len && buf[3] == 2);
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, TSCF_TSID_NONE, 1);
	tscf_enc_pad(&e, 18);	/* 2 short: an empty TLV, 20 bytes */
	CHECK("encoder: padding shorter than a TLV header", tscf_enc_finish(&e) == 20);
	CHECK("names of version 2", !strcmp(tscf_cm_type_name(TSCF_CM_COOKIE), "COOKIE") &&
	      !strcmp(tscf_response_name(TSCF_RESP_UNSUPPORTED_VERSION),
		      "UNSUPPORTED_VERSION"));
	CHECK("names", !strcmp(tscf_cm_type_name(TSCF_CM_SERVICE_REQ), "SERVICE_REQ") &&
	      !strcmp(tscf_cm_type_name(200), "UNKNOWN") &&
	      !strcmp(tscf_response_name(TSCF_RESP_SERVICE_UNAVAILABLE), "SERVICE_UNAVAILABLE"));
}

int main(void)
{
	test_decode();
	test_bad_frames();
	test_tlv_readers();
	test_framer();
	test_encoder();
	printf("%d passed, %d failed\n", cases - failures, failures);
	return failures ? 1 : 0;
}
