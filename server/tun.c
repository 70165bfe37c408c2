// SPDX-License-Identifier: GPL-2.0
/*
 * The server's TUN device: inner packets to and from the service network.
 * tscfd also configures it (unless "tun-configure no"): the server side of
 * every pool (its .1, which the pool never hands out) with the pool's
 * prefix length, the MTU told to clients, and the link up, over rtnetlink
 * (libnl-route).  An address is added with NLM_F_REPLACE, so a device an
 * admin had already set up is left as it was.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "tscfd.h"

int tscfd_tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The pool's first address, base + 1: the server's side (pool.c). */
void tscfd_pool_gateway(const struct tscfd_pool *p, struct tscf_addr *a)
{
	uint32_t low;

	memset(a, 0, sizeof(*a));
	a->family = p->family;
	if (p->family == 4) {
		memcpy(&low, &p->base, 4);
		a->v4.s_addr = htonl(ntohl(low) + 1);
	} else {
		a->v6 = p->base;
		memcpy(&low, &a->v6.s6_addr[12], 4);
		low = htonl(ntohl(low) + 1);
		memcpy(&a->v6.s6_addr[12], &low, 4);
	}
}

static int add_addr(struct nl_sock *sk, int ifindex, const struct tscfd_pool *p)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct tscf_addr gw;
	struct nl_addr *local;
	int rc;

	if (!ra)
		return -NLE_NOMEM;
	tscfd_pool_gateway(p, &gw);
	local = nl_addr_build(p->family == 4 ? AF_INET : AF_INET6,
			      p->family == 4 ? (void *)&gw.v4 : (void *)&gw.v6,
			      p->family == 4 ? 4 : 16);
	if (!local) {
		rtnl_addr_put(ra);
		return -NLE_NOMEM;
	}
	nl_addr_set_prefixlen(local, (int)p->plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	/* A point-to-point device has no neighbours to detect duplicates with. */
	if (p->family == 6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	rc = rtnl_addr_add(sk, ra, NLM_F_REPLACE);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	return rc;
}

static int link_up(struct nl_sock *sk, int ifindex, unsigned int mtu)
{
	struct rtnl_link *cur, *chg = rtnl_link_alloc();
	int rc;

	if (!chg)
		return -NLE_NOMEM;
	rc = rtnl_link_get_kernel(sk, ifindex, NULL, &cur);
	if (rc) {
		rtnl_link_put(chg);
		return rc;
	}
	rtnl_link_set_mtu(chg, mtu);
	rtnl_link_set_flags(chg, IFF_UP);
	rc = rtnl_link_change(sk, cur, chg, 0);
	rtnl_link_put(cur);
	rtnl_link_put(chg);
	return rc;
}

/* 0, or -1 with the reason logged. */
int tscfd_tun_configure(const struct tscfd_config *conf)
{
	int ifindex = (int)if_nametoindex(conf->tun_name);
	struct nl_sock *sk;
	unsigned int i;
	int rc;

	if (!ifindex) {
		tscfd_logp(LOG_ERR, "TUN device %s: %s", conf->tun_name, strerror(errno));
		return -1;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		tscfd_logp(LOG_ERR, "TUN device %s: out of memory", conf->tun_name);
		return -1;
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (!rc)
		rc = link_up(sk, ifindex, conf->mtu);
	for (i = 0; !rc && i < conf->niface; i++) {
		const struct tscfd_iface *f = &conf->iface[i];

		if (f->pool4.set)
			rc = add_addr(sk, ifindex, &f->pool4);
		if (!rc && f->pool6.set)
			rc = add_addr(sk, ifindex, &f->pool6);
	}
	nl_socket_free(sk);
	if (rc) {
		tscfd_logp(LOG_ERR, "cannot configure TUN device %s: %s", conf->tun_name,
			   nl_geterror(rc));
		return -1;
	}
	tscfd_log("TUN device %s: up, mtu %u, the pools' first addresses set",
		  conf->tun_name, conf->mtu);
	return 0;
}
