/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The TSCF stream framer (docs/PROTOCOL.md "Framing"), header-only so that
 * tscf.ko, tools/lib (tscfctl, tscfd) and the userspace fuzzers
 * (tools/lib/fuzz_stream.c) run the very same code on untrusted bytes.
 *
 * tscf_wire_frame_len(p, avail, &len) looks at the avail bytes at p, the
 * start of a frame, and returns:
 *   0        *len is the frame's length (it may exceed avail: read more)
 *   -EAGAIN  too few bytes to know the length yet
 *   -EPROTO  not a frame: bad first nibble or byte, impossible length
 *   -EMSGSIZE a frame longer than this side accepts
 * A stream that returns anything but 0 or -EAGAIN cannot be resynchronised
 * and must be closed.  It reads at most avail bytes and never allocates.
 */
#ifndef _UAPI_LINUX_TSCF_FRAME_H
#define _UAPI_LINUX_TSCF_FRAME_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stddef.h>
#include <linux/types.h>
#endif
#include <linux/tscf_wire.h>

#define TSCF_IPV4_HDR_LEN	20
#define TSCF_IPV6_HDR_LEN	40

static inline __u16 tscf_wire_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* A control frame's length: its header and every TLV its count names. */
static inline int tscf_wire_ctrl_len(const __u8 *p, size_t avail, size_t *len)
{
	size_t off = TSCF_CM_HDR_LEN;
	unsigned int i, count;

	if (p[0] != TSCF_CM_BYTE0)
		return -EPROTO;
	if (avail < TSCF_CM_HDR_LEN)
		return -EAGAIN;
	count = tscf_wire_get16(p + 2);
	if (count > TSCF_MAX_TLVS)
		return -EMSGSIZE;
	for (i = 0; i < count; i++) {
		if (off + TSCF_TLV_HDR_LEN > TSCF_MAX_CTRL_LEN)
			return -EMSGSIZE;
		if (avail < off + TSCF_TLV_HDR_LEN)
			return -EAGAIN;
		off += TSCF_TLV_HDR_LEN + tscf_wire_get16(p + off + 2);
	}
	if (off > TSCF_MAX_CTRL_LEN)
		return -EMSGSIZE;
	*len = off;
	return 0;
}

static inline int tscf_wire_frame_len(const __u8 *p, size_t avail, size_t *len)
{
	size_t n;

	if (!avail)
		return -EAGAIN;
	switch (p[0] >> 4) {
	case TSCF_FRAME_CTRL:
		return tscf_wire_ctrl_len(p, avail, len);
	case TSCF_FRAME_IPV4:
		if (avail < TSCF_IPV4_HDR_LEN)
			return -EAGAIN;
		/* IHL below 5 or past the total length: not IPv4. */
		n = tscf_wire_get16(p + 2);
		if ((p[0] & 0xf) < 5 || n < (size_t)(p[0] & 0xf) * 4)
			return -EPROTO;
		break;
	case TSCF_FRAME_IPV6:
		if (avail < TSCF_IPV6_HDR_LEN)
			return -EAGAIN;
		n = tscf_wire_get16(p + 4);
		if (!n)		/* a jumbogram: never carried */
			return -EPROTO;
		n += TSCF_IPV6_HDR_LEN;
		break;
	default:
		return -EPROTO;
	}
	if (n > TSCF_MAX_FRAME_LEN)
		return -EMSGSIZE;
	*len = n;
	return 0;
}

#endif /* _UAPI_LINUX_TSCF_FRAME_H */
