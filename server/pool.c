// SPDX-License-Identifier: GPL-2.0
/*
 * Internal address pools: a bitmap per pool, allocated on first use.
 * Index i is the address base + 2 + i (base + 1 is the server's side).
 * A count of free addresses makes a full pool refuse at once; otherwise
 * the search goes on from where the last one stopped, a 64-bit word at a
 * time, so that addresses are handed out round-robin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tscfd.h"

static void index_to_addr(const struct tscfd_pool *p, uint32_t i,
			  struct tscf_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = p->family;
	if (p->family == 4) {
		uint32_t base;

		memcpy(&base, &p->base, 4);
		a->v4.s_addr = htonl(ntohl(base) + 2 + i);
	} else {
		uint32_t low;

		a->v6 = p->base;
		memcpy(&low, &a->v6.s6_addr[12], 4);
		low = htonl(ntohl(low) + 2 + i);
		memcpy(&a->v6.s6_addr[12], &low, 4);
	}
}

static int addr_to_index(const struct tscfd_pool *p,
			 const struct tscf_addr *a, uint32_t *i)
{
	uint32_t base, v;

	if (a->family != p->family)
		return -EINVAL;
	if (p->family == 4) {
		memcpy(&base, &p->base, 4);
		v = ntohl(a->v4.s_addr) - ntohl(base) - 2;
	} else {
		memcpy(&base, &p->base.s6_addr[12], 4);
		memcpy(&v, &a->v6.s6_addr[12], 4);
		v = ntohl(v) - ntohl(base) - 2;
	}
	if (v >= p->size)
		return -EINVAL;
	*i = v;
	return 0;
}

static bool is_used(const struct tscfd_pool *p, uint32_t i)
{
	return p->used[i / 64] & (1ULL << (i % 64));
}

/* The first free index at or after @from, wrapping; the pool has one. */
static uint32_t find_free(const struct tscfd_pool *p, uint32_t from)
{
	uint32_t words = (p->size + 63) / 64, w = from / 64, n;
	uint64_t bits = ~p->used[w] & (~0ULL << (from % 64));

	for (n = 0; n <= words; n++) {
		if (bits) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);

			if (i < p->size)
				return i;
		}
		w = (w + 1) % words;
		bits = ~p->used[w];
	}
	return p->size;	/* not reached while nfree > 0 */
}

int tscfd_pool_get(struct tscfd_pool *p, struct tscf_addr *a)
{
	uint32_t i;

	if (!p->set)
		return -ENOENT;
	if (!p->used) {
		p->used = calloc((p->size + 63) / 64, sizeof(*p->used));
		if (!p->used)
			return -ENOMEM;
		p->nfree = p->size;
	}
	if (!p->nfree)
		return -ENOSPC;
	i = find_free(p, p->next < p->size ? p->next : 0);
	if (i >= p->size)
		return -ENOSPC;
	p->used[i / 64] |= 1ULL << (i % 64);
	p->nfree--;
	p->next = i + 1;
	index_to_addr(p, i, a);
	return 0;
}

void tscfd_pool_put(struct tscfd_pool *p, const struct tscf_addr *a)
{
	uint32_t i;

	if (p->used && !addr_to_index(p, a, &i) && is_used(p, i)) {
		p->used[i / 64] &= ~(1ULL << (i % 64));
		p->nfree++;
	}
}
