// SPDX-License-Identifier: GPL-2.0
/*
 * The internal addresses and MTU on the clear device, over rtnetlink.
 * The helper owns the device's global addresses: a new session's replace
 * whatever an earlier session (or a helper that died) left there.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tscfctl.h"

static int with_route(int (*fn)(struct nl_sock *, void *), void *arg)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk)
		return -NLE_NOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (!rc)
		rc = fn(sk, arg);
	nl_socket_free(sk);
	return rc;
}

struct addr_arg {
	int ifindex;
	int family;
	const void *addr;
	unsigned int plen, mtu;
	bool del;
};

static int do_addr(struct nl_sock *sk, void *p)
{
	struct addr_arg *a = p;
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(a->family, a->addr,
					      a->family == AF_INET ? 4 : 16);
	int rc;

	nl_addr_set_prefixlen(local, (int)a->plen);
	rtnl_addr_set_ifindex(ra, a->ifindex);
	rtnl_addr_set_local(ra, local);
	/* A point-to-point tunnel has no neighbours to detect duplicates with. */
	if (a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
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

static int one_addr(int ifindex, int family, const void *addr, unsigned int plen,
		    bool del)
{
	struct addr_arg a = { .ifindex = ifindex, .family = family, .addr = addr,
			      .plen = plen, .del = del };

	return with_route(do_addr, &a);
}

static int session_ip4(int ifindex, const struct tscf_config *cfg, bool del)
{
	return one_addr(ifindex, AF_INET, &cfg->ip4, cfg->plen4 ? cfg->plen4 : 32, del);
}

static int session_ip6(int ifindex, const struct tscf_config *cfg, bool del)
{
	return one_addr(ifindex, AF_INET6, &cfg->ip6, cfg->plen6 ? cfg->plen6 : 128, del);
}

/* Up, MTU, and the session's addresses; 0 or a libnl error. */
int link_setup(int ifindex, const struct tscf_config *cfg, char *err, size_t errlen)
{
	struct addr_arg a = { .ifindex = ifindex, .mtu = cfg->mtu };
	int rc;

	rc = with_route(do_link, &a);
	if (!rc && cfg->ip4.s_addr)
		rc = session_ip4(ifindex, cfg, false);
	if (rc) {
		snprintf(err, errlen, "cannot set the internal address: %s", nl_geterror(rc));
		return rc;
	}
	/* A device with IPv6 disabled (say) still carries the session's IPv4. */
	if (tscf_config_has_ip6(cfg)) {
		rc = session_ip6(ifindex, cfg, false);
		if (rc)
			snprintf(err, errlen, "cannot set the internal IPv6 address, "
				 "IPv4 only: %s", nl_geterror(rc));
	}
	return 0;
}

int link_unaddr(int ifindex, const struct tscf_config *cfg)
{
	if (cfg->ip4.s_addr)
		session_ip4(ifindex, cfg, true);
	if (tscf_config_has_ip6(cfg))
		session_ip6(ifindex, cfg, true);
	return 0;
}

struct flush_arg {
	int ifindex;
	const struct tscf_config *keep;
};

static bool kept(const struct tscf_config *keep, struct rtnl_addr *ra)
{
	const void *a = nl_addr_get_binary_addr(rtnl_addr_get_local(ra));

	if (rtnl_addr_get_family(ra) == AF_INET)
		return !memcmp(a, &keep->ip4, 4);
	return !memcmp(a, &keep->ip6, 16);
}

static int do_flush(struct nl_sock *sk, void *p)
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
		int family = rtnl_addr_get_family(ra);

		if (rtnl_addr_get_ifindex(ra) != f->ifindex ||
		    (family != AF_INET && family != AF_INET6) ||
		    rtnl_addr_get_scope(ra) != RT_SCOPE_UNIVERSE ||
		    !rtnl_addr_get_local(ra) || kept(f->keep, ra))
			continue;
		rc = rtnl_addr_delete(sk, ra, 0);
	}
	nl_cache_free(cache);
	return rc;
}

/* Remove the device's global addresses other than the session's. */
int link_flush(int ifindex, const struct tscf_config *keep)
{
	struct flush_arg f = { .ifindex = ifindex, .keep = keep };

	return with_route(do_flush, &f);
}
