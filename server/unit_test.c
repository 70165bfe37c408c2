// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tscfd pieces that need no sockets:
 *  - SipHash-2-4 against the paper's test vectors;
 *  - address pools: every address handed out once, a full pool refuses,
 *    a freed address comes back, and refusing from a full pool of a
 *    million addresses takes constant time (it was a scan of the bitmap).
 * Prints one line per check; exits non-zero on the first failure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "siphash.h"
#include "tscfd.h"

static int failures;

static void expect(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	failures += !ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_siphash(void)
{
	struct siphash_key k = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t msg[64];
	unsigned int i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* The paper's appendix A example: 15 bytes 00..0e. */
	expect(siphash24(&k, msg, 15) == 0xa129ca6149be45e5ULL, "siphash24 15-byte vector");
	/* The reference vectors' first (empty) and ninth (8-byte) entries. */
	expect(siphash24(&k, msg, 0) == 0x726fdb47dd0e0e31ULL, "siphash24 empty vector");
	expect(siphash24(&k, msg, 8) == 0x93f5f5799a932462ULL, "siphash24 8-byte vector");
	k.k0 ^= 1;
	expect(siphash24(&k, msg, 15) != 0xa129ca6149be45e5ULL, "another key, another hash");
}

static void pool_init(struct tscfd_pool *p, const char *base, unsigned int plen)
{
	memset(p, 0, sizeof(*p));
	p->set = true;
	p->family = 4;
	inet_pton(AF_INET, base, &p->base);
	p->plen = plen;
	p->size = (1u << (32 - plen)) - 3;
}

static void test_pool_small(void)
{
	struct tscfd_pool p;
	struct tscf_addr a[13], b;
	unsigned int i, j, dup = 0, got = 0;

	pool_init(&p, "10.1.0.0", 28);
	for (i = 0; i < 13; i++)
		got += !tscfd_pool_get(&p, &a[i]);
	for (i = 0; i < 13; i++)
		for (j = i + 1; j < 13; j++)
			dup += a[i].v4.s_addr == a[j].v4.s_addr;
	expect(got == 13 && !dup, "a /28 gives 13 distinct addresses");
	expect(ntohl(a[0].v4.s_addr) == 0x0a010002 && ntohl(a[12].v4.s_addr) == 0x0a01000e,
	       "from .2 to .14");
	expect(tscfd_pool_get(&p, &b) != 0, "the 14th is refused");
	tscfd_pool_put(&p, &a[5]);
	tscfd_pool_put(&p, &a[5]);	/* a double release changes nothing */
	expect(!tscfd_pool_get(&p, &b) && b.v4.s_addr == a[5].v4.s_addr,
	       "a released address comes back");
	expect(tscfd_pool_get(&p, &b) != 0, "full again after a double release");
	free(p.used);
}

static void test_pool_full_refusal(void)
{
	struct tscfd_pool p;
	struct tscf_addr a;
	unsigned int i, n = 0, refused = 0;
	double t0, us;

	pool_init(&p, "10.0.0.0", 12);	/* 1,048,573 addresses */
	for (i = 0; i < p.size; i++)
		n += !tscfd_pool_get(&p, &a);
	expect(n == p.size, "a /12 fills completely");
	t0 = now();
	for (i = 0; i < 2000; i++)
		refused += tscfd_pool_get(&p, &a) != 0;
	us = (now() - t0) * 1e6 / 2000;
	printf("# refusal from a full pool of %u: %.3f us each\n", p.size, us);
	expect(refused == 2000, "a full pool refuses");
	expect(us < 5, "refusal from a full pool takes constant time (< 5 us)");
	free(p.used);
}

int main(void)
{
	test_siphash();
	test_pool_small();
	test_pool_full_refusal();
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
