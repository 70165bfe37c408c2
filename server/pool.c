// SPDX-License-Identifier: GPL-2.0
/*
 * Internal address pools: a bitmap per pool, allocated on first use.
 * Index i is the address base + 2 + i (base + 1 is the server's side).
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

int tscfd_pool_get(struct tscfd_pool *p, struct tscf_addr *a)
{
	uint32_t n;

	if (!p->set)
		return -ENOENT;
	if (!p->used) {
		p->used = calloc((p->size + 7) / 8, 1);
		if (!p->used)
			return -ENOMEM;
	}
	for (n = 0; n < p->size; n++) {
		uint32_t i = (p->next + n) % p->size;

		if (!(p->used[i / 8] & (1u << (i % 8)))) {
			p->used[i / 8] |= 1u << (i % 8);
			p->next = i + 1;
			index_to_addr(p, i, a);
			return 0;
		}
	}
	return -ENOSPC;
}

void tscfd_pool_put(struct tscfd_pool *p, const struct tscf_addr *a)
{
	uint32_t i;

	if (p->used && !addr_to_index(p, a, &i))
		p->used[i / 8] &= ~(1u << (i % 8));
}
