// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	docs/netlink/tscf.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/tscf_genl.h>
#include <linux/tscf_wire.h>
#include <linux/tscf_wire.h>

/* Integer value ranges */
static const struct netlink_range_validation tscf_a_enc_linger_ms_range = {
	.max	= 3600000ULL,
};

/* Common nested types */
const struct nla_policy tscf_srv_peer_nl_policy[TSCF_SRV_PEER_A_FRAME_SEQ + 1] = {
	[TSCF_SRV_PEER_A_REMOTE] = { .type = NLA_BINARY, },
	[TSCF_SRV_PEER_A_FD] = { .type = NLA_U32, },
	[TSCF_SRV_PEER_A_TSID] = { .type = NLA_U64, },
	[TSCF_SRV_PEER_A_INTERNAL_IPV4] = { .type = NLA_U32, },
	[TSCF_SRV_PEER_A_INTERNAL_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[TSCF_SRV_PEER_A_FAST] = NLA_POLICY_MAX(NLA_U8, 1),
	[TSCF_SRV_PEER_A_RX_PACKETS] = { .type = NLA_U64, },
	[TSCF_SRV_PEER_A_RX_BYTES] = { .type = NLA_U64, },
	[TSCF_SRV_PEER_A_TX_PACKETS] = { .type = NLA_U64, },
	[TSCF_SRV_PEER_A_TX_BYTES] = { .type = NLA_U64, },
	[TSCF_SRV_PEER_A_RX_IDLE_MS] = { .type = NLA_U32, },
	[TSCF_SRV_PEER_A_SUPER_FRAMES] = { .type = NLA_U16, },
	[TSCF_SRV_PEER_A_RX_REST] = { .type = NLA_BINARY, },
	[TSCF_SRV_PEER_A_ENCRYPTED] = { .type = NLA_FLAG, },
	[TSCF_SRV_PEER_A_FLOWS] = { .type = NLA_BINARY, },
	[TSCF_SRV_PEER_A_FRAME_SEQ] = { .type = NLA_U32, },
};

const struct nla_policy tscf_stats_nl_policy[TSCF_STATS_A_TXQ_BYTES + 1] = {
	[TSCF_STATS_A_TX_PACKETS] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_BYTES] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_PACKETS] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_BYTES] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_CTRL] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_CTRL] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_MALFORMED] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_DROPPED] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_BLOCKED] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_BLOCKED] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_MALFORMED] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_AUTH_FAILED] = { .type = NLA_U64, },
	[TSCF_STATS_A_RX_REPLAYED] = { .type = NLA_U64, },
	[TSCF_STATS_A_TX_SUPER_FRAMES] = { .type = NLA_U64, },
	[TSCF_STATS_A_TXQ_BYTES] = { .type = NLA_U64, },
};

const struct nla_policy tscf_tunnel_nl_policy[TSCF_TUNNEL_A_SUPER_FRAMES + 1] = {
	[TSCF_TUNNEL_A_FD] = { .type = NLA_U32, },
	[TSCF_TUNNEL_A_TSID] = { .type = NLA_U64, },
	[TSCF_TUNNEL_A_TRANSPORT] = NLA_POLICY_RANGE(NLA_U8, 1, 4),
	[TSCF_TUNNEL_A_INTERNAL_IPV4] = { .type = NLA_U32, },
	[TSCF_TUNNEL_A_INTERNAL_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[TSCF_TUNNEL_A_LOCAL] = { .type = NLA_BINARY, },
	[TSCF_TUNNEL_A_PEER] = { .type = NLA_BINARY, },
	[TSCF_TUNNEL_A_STATS] = NLA_POLICY_NESTED(tscf_stats_nl_policy),
	[TSCF_TUNNEL_A_OWNED] = { .type = NLA_FLAG, },
	[TSCF_TUNNEL_A_DTLS_TX_KEY] = { .type = NLA_BINARY, },
	[TSCF_TUNNEL_A_DTLS_RX_KEY] = { .type = NLA_BINARY, },
	[TSCF_TUNNEL_A_DTLS_TX_SALT] = NLA_POLICY_EXACT_LEN(4),
	[TSCF_TUNNEL_A_DTLS_RX_SALT] = NLA_POLICY_EXACT_LEN(4),
	[TSCF_TUNNEL_A_DTLS_EPOCH] = NLA_POLICY_MIN(NLA_U16, 1),
	[TSCF_TUNNEL_A_DTLS_TX_SEQ] = { .type = NLA_U64, },
	[TSCF_TUNNEL_A_DTLS_RX_SEQ] = { .type = NLA_U64, },
	[TSCF_TUNNEL_A_SUPER_FRAMES] = { .type = NLA_U16, },
};

/* Global operation policy for tscf */
const struct nla_policy tscf_nl_policy[TSCF_A_SRV_PEER + 1] = {
	[TSCF_A_IFINDEX] = { .type = NLA_U32, },
	[TSCF_A_IFNAME] = { .type = NLA_NUL_STRING, .len = 15, },
	[TSCF_A_TUNNEL] = NLA_POLICY_NESTED(tscf_tunnel_nl_policy),
	[TSCF_A_FRAME] = { .type = NLA_BINARY, },
	[TSCF_A_ENC_LINGER_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &tscf_a_enc_linger_ms_range),
	[TSCF_A_PUNT_IFINDEX] = { .type = NLA_U32, },
	[TSCF_A_SOCK_FD] = { .type = NLA_U32, },
	[TSCF_A_SRV_PEER] = NLA_POLICY_NESTED(tscf_srv_peer_nl_policy),
};

/* Ops table for tscf */
const struct genl_small_ops tscf_nl_ops[13] = {
	{
		.cmd	= TSCF_CMD_DEV_GET,
		.doit	= tscf_nl_dev_get_doit,
		.dumpit	= tscf_nl_dev_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_DEV_SET,
		.doit	= tscf_nl_dev_set_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_TUNNEL_ATTACH,
		.doit	= tscf_nl_tunnel_attach_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_TUNNEL_DETACH,
		.doit	= tscf_nl_tunnel_detach_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_CTRL_SEND,
		.doit	= tscf_nl_ctrl_send_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SOCK_GET,
		.dumpit	= tscf_nl_sock_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_NEW,
		.doit	= tscf_nl_srv_new_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_SOCK_ADD,
		.doit	= tscf_nl_srv_sock_add_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_PEER_SET,
		.doit	= tscf_nl_srv_peer_set_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_PEER_DEL,
		.doit	= tscf_nl_srv_peer_del_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_PEER_GET,
		.doit	= tscf_nl_srv_peer_get_doit,
		.dumpit	= tscf_nl_srv_peer_get_dumpit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_LISTEN,
		.doit	= tscf_nl_srv_listen_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= TSCF_CMD_SRV_PEER_SEND,
		.doit	= tscf_nl_srv_peer_send_doit,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group tscf_nl_mcgrps[] = {
	[TSCF_NLGRP_CTRL] = { "ctrl", },
	[TSCF_NLGRP_TUNNEL] = { "tunnel", },
	[TSCF_NLGRP_SOCK] = { "sock", },
};
