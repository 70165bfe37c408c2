/* SPDX-License-Identifier: GPL-2.0 */
/* SipHash-2-4 (Aumasson, Bernstein: "SipHash: a fast short-input PRF"). */
#ifndef TSCFD_SIPHASH_H
#define TSCFD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif /* TSCFD_SIPHASH_H */
