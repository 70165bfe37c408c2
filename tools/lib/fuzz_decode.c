// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the control-message decoder and every TLV reader. */
#include <stddef.h>
#include <stdint.h>

#include "tscf_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tscf_msg m;
	unsigned int i;

	if (tscf_msg_decode(data, size, &m))
		return 0;
	for (i = 0; i < m.ntlv; i++) {
		const struct tscf_tlv *t = &m.tlv[i];
		struct tscf_conn_info ci;
		struct tscf_flow f;
		struct tscf_addr a;
		struct in6_addr a6;
		struct in_addr a4;
		uint64_t v64;
		uint32_t v32;
		uint16_t v16;
		uint8_t v8;

		tscf_tlv_u8(t, &v8);
		tscf_tlv_u16(t, &v16);
		tscf_tlv_u32(t, &v32);
		tscf_tlv_u64(t, &v64);
		tscf_tlv_in4(t, &a4);
		tscf_tlv_in6(t, &a6);
		tscf_tlv_addr(t, &a);
		tscf_tlv_conn_info(t, &ci);
		tscf_tlv_flow(t, &f);
	}
	tscf_msg_find(&m, TSCF_TLV_FLOW, NULL);
	return 0;
}
