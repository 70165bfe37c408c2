/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	docs/netlink/tscf.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_TSCF_GENL_H
#define _UAPI_LINUX_TSCF_GENL_H

#define TSCF_GENL_NAME		"tscf"
#define TSCF_GENL_VERSION	1

/**
 * enum tscf_event - What happened, in tunnel-event and sock-event.
 * @TSCF_EVENT_UP: a tunnel was attached
 * @TSCF_EVENT_DOWN: a tunnel went away (reason says why)
 * @TSCF_EVENT_SOCK_MOVED: a marked socket's traffic changed path
 * @TSCF_EVENT_SOCK_BLOCKED: an encrypted-only socket has no encrypted tunnel
 *   to use
 * @TSCF_EVENT_SOCK_RELEASED: a marked socket was closed
 */
enum tscf_event {
	TSCF_EVENT_UP = 1,
	TSCF_EVENT_DOWN,
	TSCF_EVENT_SOCK_MOVED,
	TSCF_EVENT_SOCK_BLOCKED,
	TSCF_EVENT_SOCK_RELEASED,
};

/**
 * enum tscf_down_reason - Why a tunnel went down.
 * @TSCF_DOWN_DETACHED: tunnel-detach
 * @TSCF_DOWN_PEER_CLOSED: the server closed the connection
 * @TSCF_DOWN_SOCK_ERROR: transport error (reset, timeout)
 * @TSCF_DOWN_PROTO_ERROR: unparsable stream, TLS alert
 * @TSCF_DOWN_DEV_GONE: the device was deleted, its netns is gone or the module
 *   was unloaded
 * @TSCF_DOWN_OWNER_GONE: its owner's netlink socket closed
 */
enum tscf_down_reason {
	TSCF_DOWN_DETACHED = 1,
	TSCF_DOWN_PEER_CLOSED,
	TSCF_DOWN_SOCK_ERROR,
	TSCF_DOWN_PROTO_ERROR,
	TSCF_DOWN_DEV_GONE,
	TSCF_DOWN_OWNER_GONE,
};

/**
 * enum tscf_sock_path - Where an application socket's traffic goes now.
 * @TSCF_PATH_CLEAR: the clear device's tunnel
 * @TSCF_PATH_ENCRYPTED: the encrypted twin's tunnel
 * @TSCF_PATH_BLOCKED: encrypted-only, and no encrypted tunnel is up
 */
enum tscf_sock_path {
	TSCF_PATH_CLEAR,
	TSCF_PATH_ENCRYPTED,
	TSCF_PATH_BLOCKED,
};

enum tscf_attr {
	TSCF_A_UNSPEC,
	TSCF_A_IFINDEX,
	TSCF_A_IFNAME,
	TSCF_A_ENCRYPTED,
	TSCF_A_TWIN_IFINDEX,
	TSCF_A_TUNNEL,
	TSCF_A_FRAME,
	TSCF_A_TSID,
	TSCF_A_EVENT,
	TSCF_A_REASON,
	TSCF_A_STATS,
	TSCF_A_DEMAND,
	TSCF_A_SOCK,
	TSCF_A_ENC_LINGER_MS,
	TSCF_A_PAD,
	TSCF_A_TX_REFUSED,
	TSCF_A_EVENTS_SUPPRESSED,

	__TSCF_A_MAX
};
#define TSCF_A_MAX (__TSCF_A_MAX - 1)

enum tscf_tunnel_attr {
	TSCF_TUNNEL_A_UNSPEC,
	TSCF_TUNNEL_A_FD,
	TSCF_TUNNEL_A_TSID,
	TSCF_TUNNEL_A_TRANSPORT,
	TSCF_TUNNEL_A_INTERNAL_IPV4,
	TSCF_TUNNEL_A_INTERNAL_IPV6,
	TSCF_TUNNEL_A_LOCAL,
	TSCF_TUNNEL_A_PEER,
	TSCF_TUNNEL_A_STATS,
	TSCF_TUNNEL_A_PAD,
	TSCF_TUNNEL_A_OWNED,
	TSCF_TUNNEL_A_DTLS_TX_KEY,
	TSCF_TUNNEL_A_DTLS_RX_KEY,
	TSCF_TUNNEL_A_DTLS_TX_SALT,
	TSCF_TUNNEL_A_DTLS_RX_SALT,
	TSCF_TUNNEL_A_DTLS_EPOCH,
	TSCF_TUNNEL_A_DTLS_TX_SEQ,
	TSCF_TUNNEL_A_DTLS_RX_SEQ,

	__TSCF_TUNNEL_A_MAX
};
#define TSCF_TUNNEL_A_MAX (__TSCF_TUNNEL_A_MAX - 1)

enum tscf_stats_attr {
	TSCF_STATS_A_UNSPEC,
	TSCF_STATS_A_TX_PACKETS,
	TSCF_STATS_A_TX_BYTES,
	TSCF_STATS_A_RX_PACKETS,
	TSCF_STATS_A_RX_BYTES,
	TSCF_STATS_A_TX_CTRL,
	TSCF_STATS_A_RX_CTRL,
	TSCF_STATS_A_RX_MALFORMED,
	TSCF_STATS_A_TX_DROPPED,
	TSCF_STATS_A_TX_BLOCKED,
	TSCF_STATS_A_RX_BLOCKED,
	TSCF_STATS_A_PAD,
	TSCF_STATS_A_TX_MALFORMED,
	TSCF_STATS_A_RX_AUTH_FAILED,
	TSCF_STATS_A_RX_REPLAYED,

	__TSCF_STATS_A_MAX
};
#define TSCF_STATS_A_MAX (__TSCF_STATS_A_MAX - 1)

enum tscf_sock_attr {
	TSCF_SOCK_A_UNSPEC,
	TSCF_SOCK_A_COOKIE,
	TSCF_SOCK_A_INODE,
	TSCF_SOCK_A_LEVEL,
	TSCF_SOCK_A_PATH,
	TSCF_SOCK_A_PROTO,
	TSCF_SOCK_A_LOCAL,
	TSCF_SOCK_A_REMOTE,
	TSCF_SOCK_A_PAD,

	__TSCF_SOCK_A_MAX
};
#define TSCF_SOCK_A_MAX (__TSCF_SOCK_A_MAX - 1)

enum tscf_cmd {
	TSCF_CMD_DEV_GET = 1,
	TSCF_CMD_DEV_SET,
	TSCF_CMD_TUNNEL_ATTACH,
	TSCF_CMD_TUNNEL_DETACH,
	TSCF_CMD_CTRL_SEND,
	TSCF_CMD_SOCK_GET,
	TSCF_CMD_CTRL_RECV,
	TSCF_CMD_TUNNEL_EVENT,
	TSCF_CMD_ENC_DEMAND,
	TSCF_CMD_SOCK_EVENT,

	__TSCF_CMD_MAX
};
#define TSCF_CMD_MAX (__TSCF_CMD_MAX - 1)

#define TSCF_MCGRP_CTRL		"ctrl"
#define TSCF_MCGRP_TUNNEL	"tunnel"
#define TSCF_MCGRP_SOCK		"sock"

#endif /* _UAPI_LINUX_TSCF_GENL_H */
