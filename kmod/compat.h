/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels tscf is built for: 6.1
 * (Debian 12) and 6.12 (Debian 13).
 *
 * The rest of the module is written against 6.12's API; this file, and
 * only this file, tests the kernel version or a kernel feature, and gives
 * 6.1 what it lacks under the 6.12 name, or a tscf_compat_* helper where
 * 6.12 changed a struct field (which no macro can imitate).  Include it
 * after the <linux/...> and <net/...> headers of a .c file.
 *
 * Needing nothing here, because Debian's 6.1 (6.1.192) has them already:
 * dev->pcpu_stat_type (the core allocates dev->tstats), genl_small_ops
 * with resv_start_op, GENL_MCAST_CAP_NET_ADMIN, dev_core_stats_*(),
 * sockptr_t in nf_sockopt_ops.
 */
#ifndef _TSCF_COMPAT_H
#define _TSCF_COMPAT_H

#include <linux/netdevice.h>
#include <linux/version.h>
#include <net/route.h>

/*
 * Version tests, not __has_include(): sparse (make sparse) does not know
 * the latter.
 */

/* 6.12 moved the unaligned access helpers to <linux/unaligned.h>. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* 6.5 moved skb_gso_segment() and friends out of netdevice.h. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#include <net/gso.h>
#endif

/*
 * 6.6 moved the TLS record types (TLS_RECORD_TYPE_DATA...) from
 * <net/tls.h> to <net/tls_prot.h>.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#include <net/tls_prot.h>
#else
#include <net/tls.h>
#endif

/*
 * 6.12 turned the lockless-transmit and fixed-namespace feature flags
 * (NETIF_F_LLTX, NETIF_F_NETNS_LOCAL) into net_device bits.  6.12's
 * stable series renamed netns_local to netns_immutable (as in 6.14);
 * Debian 13's 6.12 has the new name.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
static inline void tscf_compat_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}

static inline void tscf_compat_set_netns_immutable(struct net_device *dev)
{
	dev->netns_immutable = true;
}
#else
static inline void tscf_compat_set_lltx(struct net_device *dev)
{
	dev->features |= NETIF_F_LLTX;
}

static inline void tscf_compat_set_netns_immutable(struct net_device *dev)
{
	dev->features |= NETIF_F_NETNS_LOCAL;
}
#endif

/*
 * ip_route_output_ports() takes the socket's TOS, ip_sock_rt_tos(sk).
 * Until RT_CONN_FLAGS() went away, the routing scope of a SO_DONTROUTE
 * socket rode in that TOS byte (RTO_ONLINK) and ip_route_output_ports()
 * itself always asked for universe scope: there the socket's TOS must
 * be RT_CONN_FLAGS(sk).  From then on the scope comes from
 * ip_sock_rt_scope(sk) inside ip_route_output_ports().
 */
#ifdef RT_CONN_FLAGS
#define ip_sock_rt_tos(sk) RT_CONN_FLAGS(sk)
#endif

#endif /* _TSCF_COMPAT_H */
