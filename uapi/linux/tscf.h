/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The tscf kernel API: the generic netlink family "tscf" (version 1) and
 * the socket options that mark application sockets.
 *
 * The netlink family is specified in docs/netlink/tscf.yaml, which documents
 * every command, attribute, enum and multicast group; <linux/tscf_genl.h>
 * is generated from it (make ynl; never edit it by hand).  In short:
 *
 * Objects:
 *   device   a tscf netdevice: tscf0 (clear) or its twin tscf0s (encrypted)
 *   tunnel   the transport socket attached to one device, with its TSID;
 *            at most one per device
 *   sock     an application socket whose encryption level was set
 *
 * Commands.  Every one, reads included, needs CAP_NET_ADMIN in the user
 * namespace that owns the caller's netns (GENL_UNS_ADMIN_PERM); without
 * it they fail with EPERM:
 *   TSCF_CMD_DEV_GET       doit by IFINDEX or IFNAME, or dump: the device,
 *                          its twin, its netns settings and counters
 *                          (DEMAND, ENC_LINGER_MS, TX_REFUSED,
 *                          EVENTS_SUPPRESSED, on the clear device), STATS
 *                          and its TUNNEL (nested)
 *   TSCF_CMD_DEV_SET       IFINDEX or IFNAME + ENC_LINGER_MS
 *   TSCF_CMD_TUNNEL_ATTACH IFINDEX or IFNAME + TUNNEL{FD, TSID,
 *                          [INTERNAL_IPV4], [INTERNAL_IPV6], [OWNED]}: the
 *                          connected socket becomes the device's tunnel.
 *                          The clear device takes UDP or TCP; the
 *                          encrypted twin takes only TCP with kTLS TX and
 *                          RX installed.
 *   TSCF_CMD_TUNNEL_DETACH IFINDEX or IFNAME
 *   TSCF_CMD_CTRL_SEND     IFINDEX or IFNAME + FRAME: a control frame (first
 *                          nibble 1) sent on the device's tunnel, in order
 *                          with data
 *   TSCF_CMD_SOCK_GET      dump: marked sockets (cookie, inode, level,
 *                          where their traffic goes)
 * Notifications, one multicast group per kind (joining any needs the same
 * CAP_NET_ADMIN), so that a flood of socket events, which any process can
 * cause, never crowds control frames out of the helper's receive buffer:
 *   group "ctrl":
 *   TSCF_CMD_CTRL_RECV     IFINDEX, TSID, FRAME: a control frame received
 *   group "tunnel":
 *   TSCF_CMD_TUNNEL_EVENT  IFINDEX, IFNAME, TSID, EVENT (up/down), REASON
 *   TSCF_CMD_ENC_DEMAND    IFINDEX, IFNAME (clear device), DEMAND (1: a
 *                          socket wants encryption and the twin has no
 *                          tunnel; 0: no socket wants it any more, linger
 *                          over)
 *   group "sock":
 *   TSCF_CMD_SOCK_EVENT    EVENT, SOCK{COOKIE, INODE, LEVEL, PATH, PROTO,
 *                          LOCAL, REMOTE}
 */
#ifndef _UAPI_LINUX_TSCF_H
#define _UAPI_LINUX_TSCF_H

#include <linux/types.h>
#include <linux/tscf_genl.h>

/*
 * Socket options, at SOL_IP (IPv4 and IPv6 sockets) or SOL_IPV6 (IPv6
 * sockets), for UDP and TCP sockets; value an int.
 *   SO_TSCF_ENCLEVEL  get/set: enum tscf_enc_level (uapi/linux/tscf_wire.h)
 *   SO_TSCF_PATH      get only: enum tscf_sock_path
 * Bad value or length: EINVAL.  Sending on an encrypted-only socket while
 * no encrypted tunnel is up fails with ENETUNREACH (TSCF_BLOCKED_ERRNO).
 */
#define SO_TSCF_ENCLEVEL	0x5453
#define SO_TSCF_PATH		0x5454
#define TSCF_SOCKOPT_MIN	SO_TSCF_ENCLEVEL
#define TSCF_SOCKOPT_MAX	(SO_TSCF_PATH + 1)

/*
 * TSCF_SRV_PEER_A_FLOWS: one flow binding whose packets from the service
 * network a server device sends on an encrypted stream peer (docs/SERVER.md,
 * "Encrypted sessions").  "local" is the client's end.  A packet matches an
 * entry of its protocol and family whose local address and port are its
 * destination's, and whose remote address and port are its source's, or
 * whose rport is 0 (any remote).  Bytes past an IPv4 address and pad are 0.
 */
struct tscf_srv_flow {
	__u8	proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8	family;		/* AF_INET or AF_INET6 */
	__be16	lport;		/* the client's port */
	__be16	rport;		/* the service side's port; 0: any remote */
	__u16	pad;
	__u8	local[16];	/* the client's internal address */
	__u8	remote[16];	/* the service side's; all 0 when rport is 0 */
};

#define TSCF_SRV_MAX_FLOWS	64

/*
 * A server device's stream peer hands tscfd at most this many srv-frame
 * events beyond the last one tscfd said it handled (srv-peer-set
 * frame-seq), then reads no more of its connection until tscfd does.
 */
#define TSCF_SRV_EVENTS_AHEAD	32

#endif /* _UAPI_LINUX_TSCF_H */
