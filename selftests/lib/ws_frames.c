// SPDX-License-Identifier: GPL-2.0
/*
 * ws_frames: control frames of every message type, made with the
 * project's own encoder (tools/lib), for the Wireshark dissector's test
 * (selftests/host/71-wireshark-dissector.sh).  Prints one frame a line:
 *   NAME HEX
 * The test puts them in a pcap and checks what tscf.lua decodes against
 * the values below, so a change here must change the test's expectations.
 * Built by the test:
 *   cc -I uapi -I tools/lib selftests/lib/ws_frames.c tools/lib/libtscfproto.a
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tscf_proto.h"

#define TSID	 0x1122334455667788ULL
#define RESERVED 0x99aabbccddeeff01ULL

static void emit(const char *name, struct tscf_enc *e)
{
	int len = tscf_enc_finish(e);
	int i;

	if (len < 0) {
		fprintf(stderr, "ws_frames: %s: encoder error %d\n", name, len);
		exit(1);
	}
	printf("%s ", name);
	for (i = 0; i < len; i++)
		printf("%02x", e->buf[i]);
	printf("\n");
}

/* n bytes counting up from first: cookies, commitments, secrets. */
static void *counting(uint8_t *buf, uint8_t first, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(first + i);
	return buf;
}

static struct tscf_addr addr(const char *s)
{
	struct tscf_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, &a.v4) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, &a.v6) == 1) {
		a.family = 6;
	} else {
		fprintf(stderr, "ws_frames: bad address %s\n", s);
		exit(1);
	}
	return a;
}

int main(void)
{
	uint8_t buf[TSCF_MAX_CTRL_LEN], v[64];
	struct tscf_conn_info ci;
	struct tscf_flow fl;
	struct tscf_addr a;
	struct tscf_enc e;
	const char *text = "clear tunnel cannot lower";

	/* The cookie-less probe over UDP: VERSION and PADDING to 128. */
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, TSCF_TSID_NONE, 1);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_pad(&e, TSCF_DGRAM_CONFIG_MIN_LEN);
	emit("config_req_probe", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_COOKIE, TSCF_TSID_NONE, 1);
	tscf_enc_tlv(&e, TSCF_TLV_COOKIE, counting(v, 0xc0, 16), 16);
	emit("cookie", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, TSCF_TSID_NONE, 2);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_tlv(&e, TSCF_TLV_COOKIE, counting(v, 0xc0, 16), 16);
	tscf_enc_tlv(&e, TSCF_TLV_RESUME_COMMIT, counting(v, 0xa0, 32), 32);
	tscf_enc_pad(&e, TSCF_DGRAM_CONFIG_MIN_LEN);
	emit("config_req_cookie", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, TSID, 2);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	a = addr("10.100.0.2");
	tscf_enc_addr(&e, TSCF_TLV_INTERNAL_IPV4, &a);
	a = addr("255.255.0.0");
	tscf_enc_addr(&e, TSCF_TLV_INTERNAL_IPV4_MASK, &a);
	a = addr("fd00:100::2");
	tscf_enc_addr(&e, TSCF_TLV_INTERNAL_IPV6, &a);
	tscf_enc_u8(&e, TSCF_TLV_INTERNAL_IPV6_PLEN, 64);
	a = addr("10.100.0.1");
	tscf_enc_addr(&e, TSCF_TLV_DNS_SERVER, &a);
	a = addr("fd00:100::1");
	tscf_enc_addr(&e, TSCF_TLV_DNS_SERVER, &a);
	tscf_enc_u32(&e, TSCF_TLV_KEEPALIVE, 30);
	tscf_enc_u16(&e, TSCF_TLV_MTU, 1399);
	emit("config_resp", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_SERVICE_REQ, TSID, 3);
	tscf_enc_u16(&e, TSCF_TLV_SERVICE_TYPE, TSCF_SERVICE_ENABLE_DTTE);
	tscf_enc_tlv(&e, TSCF_TLV_DTTE_COMMIT, counting(v, 0xd0, 32), 32);
	emit("service_req", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_SERVICE_RESP, TSID, 3);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u64(&e, TSCF_TLV_RESERVED_TSID, RESERVED);
	tscf_enc_u32(&e, TSCF_TLV_LIFETIME, 30);
	ci.transport = TSCF_TRANSPORT_TLS;
	ci.port = 4465;
	ci.addr = addr("10.10.0.2");
	tscf_enc_conn_info(&e, &ci);
	ci.transport = TSCF_TRANSPORT_DTLS;
	ci.addr = addr("fd10::2");
	tscf_enc_conn_info(&e, &ci);
	emit("service_resp", &e);

	/* In-band, as tscf.ko sends it: the Sequence's top bit set. */
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_REQ, TSID, 0x80000004);
	memset(&fl, 0, sizeof(fl));
	fl.proto = IPPROTO_UDP;
	fl.local_port = 5004;
	fl.local = addr("10.100.0.2");
	fl.remote = addr("0.0.0.0");
	tscf_enc_flow(&e, &fl);
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, TSCF_ENC_ONLY);
	emit("flow_bind_req", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_RESP, TSID, 0x80000004);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	emit("flow_bind_resp", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_REQ, TSID, 5);
	fl.proto = IPPROTO_TCP;
	fl.local_port = 40022;
	fl.remote_port = 443;
	fl.local = addr("fd00:100::2");
	fl.remote = addr("fd00:100::1");
	tscf_enc_flow(&e, &fl);
	tscf_enc_u8(&e, TSCF_TLV_ENC_LEVEL, TSCF_ENC_PREFERRED);
	emit("flow_bind_req6", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_FLOW_BIND_RESP, TSID, 5);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_NOT_ALLOWED);
	tscf_enc_tlv(&e, TSCF_TLV_ERROR_TEXT, text, (uint16_t)strlen(text));
	emit("flow_bind_resp_refused", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_KEEPALIVE_REQ, TSID, 6);
	emit("keepalive_req", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_KEEPALIVE_RESP, TSID, 6);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	emit("keepalive_resp", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_RELEASE_REQ, TSID, 7);
	emit("release_req", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_RELEASE_RESP, TSID, 7);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	emit("release_resp", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, TSCF_TSID_NONE, 8);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_UNSUPPORTED_VERSION);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	emit("config_resp_unsupported", &e);

	/* The encrypted tunnel's request: only ever inside TLS or DTLS. */
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, RESERVED, 9);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_u64(&e, TSCF_TLV_ASSOC_TSID, TSID);
	tscf_enc_u64(&e, TSCF_TLV_RESERVED_TSID, RESERVED);
	tscf_enc_tlv(&e, TSCF_TLV_DTTE_SECRET, counting(v, 0x30, 32), 32);
	emit("config_req_encrypted", &e);

	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_RESP, RESERVED, 9);
	tscf_enc_u16(&e, TSCF_TLV_RESPONSE_CODE, TSCF_RESP_SUCCESS);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	a = addr("10.100.0.2");
	tscf_enc_addr(&e, TSCF_TLV_INTERNAL_IPV4, &a);
	emit("config_resp_encrypted", &e);

	/* A resume on a new clear transport reveals its one-time secret. */
	tscf_enc_init(&e, buf, sizeof(buf), TSCF_CM_CONFIG_REQ, TSID, 10);
	tscf_enc_u8(&e, TSCF_TLV_VERSION, TSCF_PROTO_VERSION);
	tscf_enc_tlv(&e, TSCF_TLV_RESUME_SECRET, counting(v, 0x50, 32), 32);
	tscf_enc_tlv(&e, TSCF_TLV_RESUME_COMMIT, counting(v, 0x70, 32), 32);
	emit("config_req_resume", &e);
	return 0;
}
