/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libtscfproto: encoder, decoder and stream framer for the TSCF wire
 * format (docs/PROTOCOL.md, uapi/linux/tscf_wire.h).  Used by tscfd,
 * tscfctl and the test client.  Nothing here allocates: decoded TLVs
 * point into the caller's buffer, encoders write into the caller's buffer.
 * Functions return 0 (or a length) on success and a negative errno:
 *   -EAGAIN  stream framer needs more bytes
 *   -EPROTO  malformed frame / TLV
 *   -EMSGSIZE frame larger than the limits in tscf_wire.h, or no room
 */
#ifndef TSCF_PROTO_H
#define TSCF_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/tscf_wire.h>

struct tscf_tlv {
	uint16_t type;
	uint16_t len;
	const uint8_t *val;	/* points into the decoded frame */
};

struct tscf_msg {
	uint8_t type;		/* enum tscf_cm_type */
	uint64_t tsid;
	uint32_t seq;
	unsigned int ntlv;
	struct tscf_tlv tlv[TSCF_MAX_TLVS];
};

/* Kind of frame from its first nibble; TSCF_FRAME_INVALID if len == 0. */
enum tscf_frame_kind tscf_frame_kind(const uint8_t *buf, size_t len);

/*
 * Stream framing (TCP/TLS): length of the frame that starts at buf, given
 * avail bytes so far.  0 and *frame_len set, -EAGAIN (need more), -EPROTO
 * (the stream cannot be parsed: close it), -EMSGSIZE (over the limits).
 */
int tscf_frame_len(const uint8_t *buf, size_t avail, size_t *frame_len);

/*
 * Decode one whole control frame of exactly len bytes.  Checks byte 0,
 * that TLV_Count TLVs fit exactly in len, and TSCF_MAX_TLVS.  Unknown TLV
 * types are kept in msg->tlv (callers skip them).
 */
int tscf_msg_decode(const uint8_t *buf, size_t len, struct tscf_msg *msg);

/* First TLV of this type after 'prev' (NULL: from the start), or NULL. */
const struct tscf_tlv *tscf_msg_find(const struct tscf_msg *msg,
				     uint16_t type,
				     const struct tscf_tlv *prev);

/* Fixed-size TLV readers: -EPROTO if the TLV length is not exact. */
int tscf_tlv_u8(const struct tscf_tlv *t, uint8_t *v);
int tscf_tlv_u16(const struct tscf_tlv *t, uint16_t *v);
int tscf_tlv_u32(const struct tscf_tlv *t, uint32_t *v);
int tscf_tlv_u64(const struct tscf_tlv *t, uint64_t *v);
int tscf_tlv_in4(const struct tscf_tlv *t, struct in_addr *a);
int tscf_tlv_in6(const struct tscf_tlv *t, struct in6_addr *a);

/* An address of either family (DNS servers, connection info, flows). */
struct tscf_addr {
	uint8_t family;		/* 4 or 6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

struct tscf_conn_info {
	uint8_t transport;	/* TSCF_TRANSPORT_TLS or _DTLS */
	uint16_t port;		/* host order */
	struct tscf_addr addr;
};

struct tscf_flow {
	uint8_t proto;		/* IPPROTO_UDP / IPPROTO_TCP */
	uint16_t local_port;	/* host order */
	uint16_t remote_port;	/* host order; 0 = wildcard */
	struct tscf_addr local;
	struct tscf_addr remote; /* same family as local; zeros = wildcard */
};

int tscf_tlv_addr(const struct tscf_tlv *t, struct tscf_addr *a);
int tscf_tlv_conn_info(const struct tscf_tlv *t, struct tscf_conn_info *ci);
int tscf_tlv_flow(const struct tscf_tlv *t, struct tscf_flow *f);

/*
 * Encoder.  Errors are sticky: after the first failure every call is a
 * no-op and tscf_enc_finish() returns the error, so callers check once.
 */
struct tscf_enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t ntlv;
	int err;
};

void tscf_enc_init(struct tscf_enc *e, uint8_t *buf, size_t cap,
		   uint8_t type, uint64_t tsid, uint32_t seq);
void tscf_enc_tlv(struct tscf_enc *e, uint16_t type, const void *val,
		  uint16_t len);
void tscf_enc_u8(struct tscf_enc *e, uint16_t type, uint8_t v);
void tscf_enc_u16(struct tscf_enc *e, uint16_t type, uint16_t v);
void tscf_enc_u32(struct tscf_enc *e, uint16_t type, uint32_t v);
void tscf_enc_u64(struct tscf_enc *e, uint16_t type, uint64_t v);
void tscf_enc_addr(struct tscf_enc *e, uint16_t type,
		   const struct tscf_addr *a);
void tscf_enc_conn_info(struct tscf_enc *e, const struct tscf_conn_info *ci);
void tscf_enc_flow(struct tscf_enc *e, const struct tscf_flow *f);
/*
 * Append a PADDING TLV (zeros) so that the frame is at least min_len bytes
 * (a UDP CONFIG_REQ: TSCF_DGRAM_CONFIG_MIN_LEN); nothing if it already is.
 */
void tscf_enc_pad(struct tscf_enc *e, size_t min_len);
/* Writes TLV_Count into the header; returns the frame length or -errno. */
int tscf_enc_finish(struct tscf_enc *e);

/* Names for logs and tscfctl output ("CONFIG_REQ", "SUCCESS", ...). */
const char *tscf_cm_type_name(uint8_t type);
const char *tscf_response_name(uint16_t code);

#endif /* TSCF_PROTO_H */
