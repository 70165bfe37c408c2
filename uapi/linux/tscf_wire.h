/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * TSCF wire format shared by tscf.ko, tscfctl and tscfd.
 * docs/PROTOCOL.md is the normative description; this header only gives
 * the numbers.  Every multi-byte field on the wire is big-endian.
 *
 * A frame is one of:
 *   - an inner IPv4 packet   (first nibble 4), sent as is
 *   - an inner IPv6 packet   (first nibble 6), sent as is
 *   - a control message      (first nibble 1): 16-byte header + TLVs
 *
 * Control header:
 *   byte 0      version (high nibble, = 1) | indication (bit 3, 0 = control)
 *               | reserved (bits 2..0, 0)
 *   byte 1      CM_Type      (enum tscf_cm_type)
 *   bytes 2-3   TLV_Count
 *   bytes 4-11  TSID         (all ones in a configuration request)
 *   bytes 12-15 Sequence     (a response echoes its request's)
 * TLV: Type u16, Length u16 (value bytes), Value.
 */
#ifndef _UAPI_LINUX_TSCF_WIRE_H
#define _UAPI_LINUX_TSCF_WIRE_H

#include <linux/types.h>

#define TSCF_CM_VERSION		1
#define TSCF_CM_BYTE0		(TSCF_CM_VERSION << 4)	/* version 1, control */
#define TSCF_CM_HDR_LEN		16
#define TSCF_TLV_HDR_LEN	4
#define TSCF_TSID_NONE		0xffffffffffffffffULL	/* configuration request */
#define TSCF_MAX_CTRL_LEN	4096	/* larger control frames are rejected */
#define TSCF_MAX_TLVS		64	/* more TLVs in one message: rejected */
#define TSCF_MAX_FRAME_LEN	65535	/* largest inner IP packet carried */

/*
 * Control protocol version, negotiated by the VERSION TLV of CONFIG_REQ
 * (the header's version nibble stays 1: it is the frame format).  A
 * CONFIG_REQ without VERSION is version 1, which no server accepts any more.
 */
#define TSCF_PROTO_VERSION	2
/*
 * A CONFIG_REQ over UDP is at least this long (PADDING TLV), so that no
 * answer to an unverified source is larger than what it sent.
 */
#define TSCF_DGRAM_CONFIG_MIN_LEN	128
#define TSCF_COOKIE_LEN		16	/* COOKIE value */
#define TSCF_SECRET_LEN		32	/* DTTE_SECRET, RESUME_SECRET */
#define TSCF_COMMIT_LEN		32	/* SHA-256 of a secret */

/* First nibble of every frame. */
enum tscf_frame_kind {
	TSCF_FRAME_INVALID = 0,
	TSCF_FRAME_CTRL = 1,
	TSCF_FRAME_IPV4 = 4,
	TSCF_FRAME_IPV6 = 6,
};

struct tscf_cm_hdr {
	__u8	ver_ind;	/* TSCF_CM_BYTE0 */
	__u8	type;
	__be16	tlv_count;
	__be64	tsid;
	__be32	seq;
} __attribute__((packed));

enum tscf_cm_type {
	TSCF_CM_CONFIG_REQ = 1,
	TSCF_CM_CONFIG_RESP = 2,
	TSCF_CM_RELEASE_REQ = 3,
	TSCF_CM_RELEASE_RESP = 4,
	TSCF_CM_KEEPALIVE_REQ = 5,
	TSCF_CM_KEEPALIVE_RESP = 6,
	TSCF_CM_SERVICE_REQ = 7,
	TSCF_CM_SERVICE_RESP = 8,
	/* flow binding of a socket whose encryption level changed */
	TSCF_CM_FLOW_BIND_REQ = 9,
	TSCF_CM_FLOW_BIND_RESP = 10,
	/* server: return-routability cookie for a UDP CONFIG_REQ */
	TSCF_CM_COOKIE = 11,
	__TSCF_CM_MAX,
};

enum tscf_tlv_type {
	TSCF_TLV_INTERNAL_IPV4 = 1,	/* 4: address */
	TSCF_TLV_INTERNAL_IPV4_MASK = 2, /* 4: netmask */
	TSCF_TLV_INTERNAL_IPV6 = 3,	/* 16: address */
	TSCF_TLV_INTERNAL_IPV6_PLEN = 4, /* 1: prefix length */
	TSCF_TLV_DNS_SERVER = 5,	/* 4 or 16, may repeat */
	TSCF_TLV_KEEPALIVE = 6,		/* 4: keepalive interval, seconds */
	TSCF_TLV_SERVICE_TYPE = 7,	/* 2: enum tscf_service_type */
	TSCF_TLV_RESPONSE_CODE = 8,	/* 2: enum tscf_response_code */
	TSCF_TLV_CONN_INFO = 9,		/* 12 or 24: struct tscf_tlv_conn_info + address */
	TSCF_TLV_ASSOC_TSID = 10,	/* 8: the associated clear tunnel */
	TSCF_TLV_RESERVED_TSID = 11,	/* 8: TSID reserved for the encrypted tunnel */
	TSCF_TLV_FLOW = 12,		/* 16 or 40: struct tscf_tlv_flow_hdr + addresses */
	TSCF_TLV_ENC_LEVEL = 13,	/* 1: enum tscf_enc_level */
	TSCF_TLV_MTU = 14,		/* 2: inner MTU */
	TSCF_TLV_ERROR_TEXT = 15,	/* 1..255: UTF-8, not NUL-terminated */
	TSCF_TLV_VERSION = 16,		/* 1: control protocol version */
	TSCF_TLV_PADDING = 17,		/* any: zeros, ignored */
	TSCF_TLV_COOKIE = 18,		/* TSCF_COOKIE_LEN: from TSCF_CM_COOKIE */
	TSCF_TLV_DTTE_COMMIT = 19,	/* 32: SHA-256 of the DTTE secret */
	TSCF_TLV_DTTE_SECRET = 20,	/* 32: only ever inside TLS/DTLS */
	TSCF_TLV_RESUME_COMMIT = 21,	/* 32: SHA-256 of the next resume secret */
	TSCF_TLV_RESUME_SECRET = 22,	/* 32: proves a resume, used once */
	TSCF_TLV_LIFETIME = 23,		/* 4: seconds a reservation is held */
	TSCF_TLV_SUPER_FRAMES = 24,	/* 2: largest TCP super-frame taken on a stream */
	__TSCF_TLV_MAX,
};

enum tscf_service_type {
	TSCF_SERVICE_ENABLE_DTTE = 1,
	TSCF_SERVICE_DISABLE_DTTE = 2,
};

enum tscf_response_code {
	TSCF_RESP_SUCCESS = 0,
	TSCF_RESP_BAD_REQUEST = 1,
	TSCF_RESP_SERVICE_UNAVAILABLE = 2,
	TSCF_RESP_UNKNOWN_TSID = 3,
	TSCF_RESP_NO_RESOURCES = 4,	/* address pool or max-tunnels exhausted */
	TSCF_RESP_NOT_ALLOWED = 5,	/* e.g. a flow not owned by the session */
	TSCF_RESP_UNSUPPORTED_VERSION = 6, /* VERSION says which one the server speaks */
};

/* Encryption level of an application socket (SO_TSCF_ENCLEVEL). */
enum tscf_enc_level {
	TSCF_ENC_UNENCRYPTED = 0,
	TSCF_ENC_ONLY = 1,
	TSCF_ENC_PREFERRED = 2,
};

enum tscf_transport {
	TSCF_TRANSPORT_UDP = 1,
	TSCF_TRANSPORT_TCP = 2,
	TSCF_TRANSPORT_TLS = 3,
	TSCF_TRANSPORT_DTLS = 4,
};

/* TSCF_TLV_CONN_INFO value: one per encrypted transport offered. */
struct tscf_tlv_conn_info {
	__u8	transport;	/* enum tscf_transport: TLS or DTLS */
	__u8	family;		/* 4 or 6 */
	__be16	port;		/* N + 1 */
	__u8	reserved[4];	/* 0 */
	/* followed by the address: 4 bytes (family 4) or 16 (family 6) */
} __attribute__((packed));

/*
 * TSCF_TLV_FLOW value.  "local" is the client's inner socket; a remote
 * address of all zeros and port 0 is a wildcard (unconnected UDP socket).
 */
struct tscf_tlv_flow_hdr {
	__u8	proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u8	family;		/* 4 or 6 */
	__be16	reserved;	/* 0 */
	__be16	local_port;
	__be16	remote_port;
	/* followed by local then remote address, 4 or 16 bytes each */
} __attribute__((packed));

#endif /* _UAPI_LINUX_TSCF_WIRE_H */
