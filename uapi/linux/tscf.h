/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * tscf generic netlink API (family "tscf", version 1), and the socket
 * options that mark application sockets.  Documentation/netlink/specs
 * style description: docs/tscf.yaml; keep both in step.
 *
 * Objects:
 *   device   a tscf netdevice: tscf0 (clear) or its twin tscf0s (encrypted)
 *   tunnel   the transport socket attached to one device, with its TSID;
 *            at most one per device
 *   sock     an application socket whose encryption level was set
 *
 * Commands (all but GET/SOCK_GET need CAP_NET_ADMIN in the device's netns):
 *   TSCF_CMD_DEV_GET       doit by IFINDEX or IFNAME, or dump: device,
 *                          its twin, its tunnel (nested) and counters
 *   TSCF_CMD_DEV_SET       IFINDEX + settings (ENC_LINGER_MS)
 *   TSCF_CMD_TUNNEL_ATTACH IFINDEX + TUNNEL{FD, TSID, [INTERNAL_IPV4],
 *                          [INTERNAL_IPV6], [KEEPALIVE_MS]}: the
 *                          connected socket becomes the device's tunnel.
 *                          The clear device takes UDP or TCP; the
 *                          encrypted twin takes only TCP with kTLS TX and
 *                          RX installed.
 *   TSCF_CMD_TUNNEL_DETACH IFINDEX
 *   TSCF_CMD_CTRL_SEND     IFINDEX + FRAME: a control frame (first nibble
 *                          1) sent on the device's tunnel, in order with
 *                          data
 *   TSCF_CMD_SOCK_GET      dump: marked sockets (cookie, inode, level,
 *                          where their traffic goes)
 * Notifications, one multicast group per kind (joining any needs
 * CAP_NET_ADMIN), so that a flood of socket events, which any process can
 * cause, never crowds control frames out of the helper's receive buffer:
 *   group "ctrl":
 *   TSCF_CMD_CTRL_RECV     IFINDEX, TSID, FRAME: a control frame received
 *   group "tunnel":
 *   TSCF_CMD_TUNNEL_EVENT  IFINDEX, TSID, EVENT (up/down), REASON
 *   TSCF_CMD_ENC_DEMAND    IFINDEX (clear device), DEMAND (1: a socket
 *                          wants encryption and the twin has no tunnel;
 *                          0: no socket wants it any more, linger over)
 *   group "sock":
 *   TSCF_CMD_SOCK_EVENT    SOCK{COOKIE, INODE, LEVEL, PATH}, EVENT
 */
#ifndef _UAPI_LINUX_TSCF_H
#define _UAPI_LINUX_TSCF_H

#include <linux/types.h>

#define TSCF_GENL_NAME		"tscf"
#define TSCF_GENL_VERSION	1
#define TSCF_MCGRP_CTRL		"ctrl"		/* CTRL_RECV */
#define TSCF_MCGRP_TUNNEL	"tunnel"	/* TUNNEL_EVENT, ENC_DEMAND */
#define TSCF_MCGRP_SOCK		"sock"		/* SOCK_EVENT */

enum tscf_cmd {
	TSCF_CMD_UNSPEC,
	TSCF_CMD_DEV_GET,
	TSCF_CMD_DEV_SET,
	TSCF_CMD_TUNNEL_ATTACH,
	TSCF_CMD_TUNNEL_DETACH,
	TSCF_CMD_CTRL_SEND,
	TSCF_CMD_SOCK_GET,
	TSCF_CMD_CTRL_RECV,
	TSCF_CMD_TUNNEL_EVENT,
	TSCF_CMD_ENC_DEMAND,
	TSCF_CMD_SOCK_EVENT,
	__TSCF_CMD_MAX,
};
#define TSCF_CMD_MAX (__TSCF_CMD_MAX - 1)

enum tscf_attr {
	TSCF_A_UNSPEC,
	TSCF_A_IFINDEX,		/* u32 */
	TSCF_A_IFNAME,		/* string */
	TSCF_A_ENCRYPTED,	/* u8: 1 on the encrypted twin */
	TSCF_A_TWIN_IFINDEX,	/* u32 */
	TSCF_A_TUNNEL,		/* nest: enum tscf_tunnel_attr */
	TSCF_A_FRAME,		/* binary: one control frame */
	TSCF_A_TSID,		/* u64 */
	TSCF_A_EVENT,		/* u8: enum tscf_event */
	TSCF_A_REASON,		/* u8: enum tscf_down_reason */
	TSCF_A_STATS,		/* nest: enum tscf_stats_attr */
	TSCF_A_DEMAND,		/* u8 */
	TSCF_A_SOCK,		/* nest: enum tscf_sock_attr */
	TSCF_A_ENC_LINGER_MS,	/* u32 */
	TSCF_A_PAD,
	TSCF_A_TX_REFUSED,	/* u64: encrypted-only sends refused on a
				 * route that is not a tscf device (netns) */
	TSCF_A_EVENTS_SUPPRESSED, /* u64: SOCK events over the rate (netns) */
	__TSCF_A_MAX,
};
#define TSCF_A_MAX (__TSCF_A_MAX - 1)

enum tscf_tunnel_attr {
	TSCF_TUNNEL_A_UNSPEC,
	TSCF_TUNNEL_A_FD,		/* u32, attach only */
	TSCF_TUNNEL_A_TSID,		/* u64 */
	TSCF_TUNNEL_A_TRANSPORT,	/* u8: enum tscf_transport (read) */
	TSCF_TUNNEL_A_INTERNAL_IPV4,	/* be32 */
	TSCF_TUNNEL_A_INTERNAL_IPV6,	/* binary, 16 bytes */
	TSCF_TUNNEL_A_LOCAL,		/* binary: struct sockaddr_in/_in6 (read) */
	TSCF_TUNNEL_A_PEER,		/* binary: struct sockaddr_in/_in6 (read) */
	TSCF_TUNNEL_A_STATS,		/* nest: enum tscf_stats_attr (read) */
	TSCF_TUNNEL_A_PAD,
	TSCF_TUNNEL_A_OWNED,		/* flag, attach only: detach when the
					 * attaching netlink socket closes */
	__TSCF_TUNNEL_A_MAX,
};
#define TSCF_TUNNEL_A_MAX (__TSCF_TUNNEL_A_MAX - 1)

/* Counters, all u64. */
enum tscf_stats_attr {
	TSCF_STATS_A_UNSPEC,
	TSCF_STATS_A_TX_PACKETS,	/* inner packets sent on the tunnel */
	TSCF_STATS_A_TX_BYTES,
	TSCF_STATS_A_RX_PACKETS,	/* inner packets received */
	TSCF_STATS_A_RX_BYTES,
	TSCF_STATS_A_TX_CTRL,		/* control frames sent */
	TSCF_STATS_A_RX_CTRL,		/* control frames received */
	TSCF_STATS_A_RX_MALFORMED,	/* frames dropped: bad nibble/length */
	TSCF_STATS_A_TX_DROPPED,	/* dropped on transmit (no tunnel, error) */
	TSCF_STATS_A_TX_BLOCKED,	/* encrypted-only traffic refused in clear */
	TSCF_STATS_A_RX_BLOCKED,	/* encrypted-only traffic arriving in clear */
	TSCF_STATS_A_PAD,
	TSCF_STATS_A_TX_MALFORMED,	/* device: not a well-formed IPv4/IPv6
					 * packet, dropped on transmit (also
					 * counted in the link's tx_errors) */
	__TSCF_STATS_A_MAX,
};
#define TSCF_STATS_A_MAX (__TSCF_STATS_A_MAX - 1)

enum tscf_sock_attr {
	TSCF_SOCK_A_UNSPEC,
	TSCF_SOCK_A_COOKIE,	/* u64: socket cookie (SO_COOKIE) */
	TSCF_SOCK_A_INODE,	/* u64: socket inode, as in /proc/<pid>/fd */
	TSCF_SOCK_A_LEVEL,	/* u8: enum tscf_enc_level */
	TSCF_SOCK_A_PATH,	/* u8: enum tscf_sock_path */
	TSCF_SOCK_A_PROTO,	/* u8: IPPROTO_TCP / IPPROTO_UDP */
	TSCF_SOCK_A_LOCAL,	/* binary: struct sockaddr_in/_in6 */
	TSCF_SOCK_A_REMOTE,	/* binary: struct sockaddr_in/_in6 */
	TSCF_SOCK_A_PAD,
	__TSCF_SOCK_A_MAX,
};
#define TSCF_SOCK_A_MAX (__TSCF_SOCK_A_MAX - 1)

enum tscf_event {
	TSCF_EVENT_UP = 1,
	TSCF_EVENT_DOWN = 2,
	TSCF_EVENT_SOCK_MOVED = 3,
	TSCF_EVENT_SOCK_BLOCKED = 4,
	TSCF_EVENT_SOCK_RELEASED = 5,
};

enum tscf_down_reason {
	TSCF_DOWN_DETACHED = 1,		/* TUNNEL_DETACH */
	TSCF_DOWN_PEER_CLOSED = 2,	/* the server closed the connection */
	TSCF_DOWN_SOCK_ERROR = 3,	/* transport error (reset, timeout) */
	TSCF_DOWN_PROTO_ERROR = 4,	/* unparsable stream, TLS alert */
	TSCF_DOWN_DEV_GONE = 5,		/* device deleted, its netns gone,
					 * module unloaded */
	TSCF_DOWN_OWNER_GONE = 6,	/* its owner's netlink socket closed */
};

/* Where an application socket's traffic goes now. */
enum tscf_sock_path {
	TSCF_PATH_CLEAR = 0,
	TSCF_PATH_ENCRYPTED = 1,
	TSCF_PATH_BLOCKED = 2,		/* encrypted-only, no encrypted tunnel */
};

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

#endif /* _UAPI_LINUX_TSCF_H */
