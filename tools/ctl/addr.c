// SPDX-License-Identifier: GPL-2.0
/* The internal address and MTU on the clear device, over rtnetlink. */
#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tscfctl.h"

static int with_route(int (*fn)(struct nl_sock *, void *), void *arg)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk || nl_connect(sk, NETLINK_ROUTE))
		return -EIO;
	rc = fn(sk, arg);
	nl_socket_free(sk);
	return rc;
}

struct addr_arg {
	int ifindex;
	const struct in_addr *ip4;
	unsigned int plen, mtu;
	bool del;
};

static int do_addr(struct nl_sock *sk, void *p)
{
	struct addr_arg *a = p;
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, a->ip4, 4);
	int rc;

	nl_addr_set_prefixlen(local, (int)a->plen);
	rtnl_addr_set_ifindex(ra, a->ifindex);
	rtnl_addr_set_local(ra, local);
	rc = a->del ? rtnl_addr_delete(sk, ra, 0) : rtnl_addr_add(sk, ra, NLM_F_REPLACE);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	return rc;
}

static int do_link(struct nl_sock *sk, void *p)
{
	struct addr_arg *a = p;
	struct rtnl_link *cur, *chg = rtnl_link_alloc();
	int rc;

	rc = rtnl_link_get_kernel(sk, a->ifindex, NULL, &cur);
	if (rc)
		return rc;
	rtnl_link_set_flags(chg, IFF_UP);
	if (a->mtu)
		rtnl_link_set_mtu(chg, a->mtu);
	rc = rtnl_link_change(sk, cur, chg, 0);
	rtnl_link_put(cur);
	rtnl_link_put(chg);
	return rc;
}

int link_setup(int ifindex, const struct in_addr *ip4, unsigned int plen,
	       unsigned int mtu)
{
	struct addr_arg a = { .ifindex = ifindex, .ip4 = ip4, .plen = plen ? plen : 32,
			      .mtu = mtu };
	int rc;

	rc = with_route(do_link, &a);
	if (!rc && ip4->s_addr)
		rc = with_route(do_addr, &a);
	return rc;
}

struct flush_arg {
	int ifindex;
	struct in_addr keep;
};

static int do_flush4(struct nl_sock *sk, void *p)
{
	struct flush_arg *f = p;
	struct nl_cache *cache;
	struct nl_object *o;
	int rc;

	rc = rtnl_addr_alloc_cache(sk, &cache);
	if (rc)
		return rc;
	for (o = nl_cache_get_first(cache); o && !rc; o = nl_cache_get_next(o)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(ra);

		if (rtnl_addr_get_ifindex(ra) != f->ifindex ||
		    rtnl_addr_get_family(ra) != AF_INET || !local ||
		    !memcmp(nl_addr_get_binary_addr(local), &f->keep, 4))
			continue;
		rc = rtnl_addr_delete(sk, ra, 0);
	}
	nl_cache_free(cache);
	return rc;
}

/*
 * The helper owns the device's IPv4 addresses: a new session's address
 * replaces whatever an earlier session (or a helper that died) left.
 */
int link_flush4(int ifindex, const struct in_addr *keep)
{
	struct flush_arg f = { .ifindex = ifindex, .keep = *keep };

	return with_route(do_flush4, &f);
}

int link_unaddr(int ifindex, const struct in_addr *ip4, unsigned int plen)
{
	struct addr_arg a = { .ifindex = ifindex, .ip4 = ip4, .plen = plen ? plen : 32,
			      .del = true };

	return ip4->s_addr ? with_route(do_addr, &a) : 0;
}
