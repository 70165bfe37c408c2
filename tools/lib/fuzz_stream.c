// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the stream framer as a TCP/TLS receiver uses it.  The first
 * byte of the input picks chunk sizes; the rest arrives in those chunks
 * into a reassembly buffer, is cut into frames, and each control frame is
 * decoded.  A frame must never be claimed longer than the bytes present.
 * tscf_frame_len() is uapi/linux/tscf_frame.h, the framer tscf.ko runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tscf_proto.h"

static uint8_t buf[2 * TSCF_MAX_FRAME_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t have = 0, off = 0, chunk, flen;
	unsigned int seed;
	struct tscf_msg m;

	if (!size)
		return 0;
	seed = data[0];
	data++;
	size--;
	while (off < size) {
		chunk = 1 + (seed = seed * 1103515245u + 12345u) % 97;
		if (chunk > size - off)
			chunk = size - off;
		if (have + chunk > sizeof(buf))
			return 0;
		memcpy(buf + have, data + off, chunk);
		have += chunk;
		off += chunk;
		for (;;) {
			int rc = tscf_frame_len(buf, have, &flen);

			if (rc == -EAGAIN || (!rc && flen > have))
				break;
			if (rc)
				return 0;	/* the stream would be closed */
			if (!flen || flen > TSCF_MAX_FRAME_LEN)
				abort();
			if (tscf_frame_kind(buf, flen) == TSCF_FRAME_CTRL)
				tscf_msg_decode(buf, flen, &m);
			memmove(buf, buf + flen, have - flen);
			have -= flen;
		}
	}
	return 0;
}
