// SPDX-License-Identifier: GPL-2.0
/* "tscfctl show" and "tscfctl monitor", for people and (-j) for programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <netlink/genl/ctrl.h>

#include "tscfctl.h"

static const char *const stat_names[] = {
	[TSCF_STATS_A_TX_PACKETS] = "tx_packets", [TSCF_STATS_A_TX_BYTES] = "tx_bytes",
	[TSCF_STATS_A_RX_PACKETS] = "rx_packets", [TSCF_STATS_A_RX_BYTES] = "rx_bytes",
	[TSCF_STATS_A_TX_CTRL] = "tx_ctrl", [TSCF_STATS_A_RX_CTRL] = "rx_ctrl",
	[TSCF_STATS_A_RX_MALFORMED] = "rx_malformed",
	[TSCF_STATS_A_TX_DROPPED] = "tx_dropped",
	[TSCF_STATS_A_TX_BLOCKED] = "tx_blocked",
	[TSCF_STATS_A_RX_BLOCKED] = "rx_blocked",
	[TSCF_STATS_A_TX_MALFORMED] = "tx_malformed",
};
static const char *const levels[] = { "unencrypted", "encrypted-only", "encrypted-preferred" };
static const char *const paths[] = { "clear", "encrypted", "blocked" };
static const char *const transports[] = { "?", "udp", "tcp", "tls", "dtls" };
static const char *const reasons[] = { "-", "detached", "peer-closed", "sock-error",
				       "proto-error", "dev-gone", "owner-gone" };

struct out {
	bool json;
	bool first;
	const char *filter;
};

static void sockaddr_str(const struct nlattr *a, char *buf, size_t len)
{
	const struct sockaddr_in *sin = nla_data(a);
	const struct sockaddr_in6 *sin6 = nla_data(a);
	char ip[INET6_ADDRSTRLEN];

	if (sin->sin_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	}
}

static void print_stats(struct nlattr *nest, bool json, const char *indent)
{
	struct nlattr *a;
	int rem, n = 0;

	if (json)
		printf(", \"stats\": {");
	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a);

		if (t < 1 || t >= (int)(sizeof(stat_names) / sizeof(stat_names[0])) ||
		    !stat_names[t])
			continue;
		if (json)
			printf("%s\"%s\": %llu", n ? ", " : "", stat_names[t],
			       (unsigned long long)nla_get_u64(a));
		else
			printf("%s%s%s: %llu", n % 5 ? "  " : "\n", n % 5 ? "" : indent,
			       stat_names[t], (unsigned long long)nla_get_u64(a));
		n++;
	}
	printf(json ? "}" : "\n");
}

static int on_dev(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1], *tt[TSCF_TUNNEL_A_MAX + 1];
	struct out *o = arg;
	char twin[IF_NAMESIZE] = "", local[64] = "", peer[64] = "", ip[16] = "";
	const char *name;

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL) || !tb[TSCF_A_IFNAME])
		return NL_SKIP;
	name = nla_get_string(tb[TSCF_A_IFNAME]);
	if (o->filter && strcmp(o->filter, name) &&
	    !(strlen(name) == strlen(o->filter) + 1 && !strncmp(name, o->filter, strlen(o->filter))))
		return NL_OK;
	if (tb[TSCF_A_TWIN_IFINDEX])
		if_indextoname(nla_get_u32(tb[TSCF_A_TWIN_IFINDEX]), twin);
	if (o->json) {
		printf("%s{\"ifname\": \"%s\", \"encrypted\": %s, \"twin\": \"%s\"",
		       o->first ? "" : ", ", name,
		       nla_get_u8(tb[TSCF_A_ENCRYPTED]) ? "true" : "false", twin);
		if (tb[TSCF_A_DEMAND])
			printf(", \"demand\": %s", nla_get_u8(tb[TSCF_A_DEMAND]) ? "true" : "false");
		if (tb[TSCF_A_ENC_LINGER_MS])
			printf(", \"linger_ms\": %u", nla_get_u32(tb[TSCF_A_ENC_LINGER_MS]));
	} else {
		printf("device: %s (%s, twin %s)%s\n", name,
		       nla_get_u8(tb[TSCF_A_ENCRYPTED]) ? "encrypted" : "clear", twin,
		       tb[TSCF_A_DEMAND] && nla_get_u8(tb[TSCF_A_DEMAND]) ?
		       ", encryption wanted" : "");
		if (tb[TSCF_A_ENC_LINGER_MS])
			printf("  encrypted tunnel linger: %u ms\n",
			       nla_get_u32(tb[TSCF_A_ENC_LINGER_MS]));
	}
	o->first = false;
	if (tb[TSCF_A_STATS]) {
		if (!o->json)
			printf("  device counters:");
		print_stats(tb[TSCF_A_STATS], o->json, "    ");
	}
	if (tb[TSCF_A_TUNNEL] &&
	    !nla_parse_nested(tt, TSCF_TUNNEL_A_MAX, tb[TSCF_A_TUNNEL], NULL)) {
		unsigned int tr = nla_get_u8(tt[TSCF_TUNNEL_A_TRANSPORT]);

		if (tt[TSCF_TUNNEL_A_LOCAL])
			sockaddr_str(tt[TSCF_TUNNEL_A_LOCAL], local, sizeof(local));
		if (tt[TSCF_TUNNEL_A_PEER])
			sockaddr_str(tt[TSCF_TUNNEL_A_PEER], peer, sizeof(peer));
		if (tt[TSCF_TUNNEL_A_INTERNAL_IPV4])
			inet_ntop(AF_INET, nla_data(tt[TSCF_TUNNEL_A_INTERNAL_IPV4]), ip, sizeof(ip));
		if (o->json)
			printf(", \"tunnel\": {\"tsid\": \"%016llx\", \"transport\": \"%s\", "
			       "\"local\": \"%s\", \"peer\": \"%s\", \"internal_ipv4\": \"%s\", "
			       "\"state\": \"up\"",
			       (unsigned long long)nla_get_u64(tt[TSCF_TUNNEL_A_TSID]),
			       transports[tr < 5 ? tr : 0], local, peer, ip);
		else
			printf("  tunnel: up, TSID %016llx, %s %s -> %s, internal %s\n",
			       (unsigned long long)nla_get_u64(tt[TSCF_TUNNEL_A_TSID]),
			       transports[tr < 5 ? tr : 0], local, peer, ip[0] ? ip : "-");
		if (tt[TSCF_TUNNEL_A_STATS]) {
			if (!o->json)
				printf("  tunnel counters:");
			print_stats(tt[TSCF_TUNNEL_A_STATS], o->json, "    ");
		}
		if (o->json)
			printf("}");
	} else if (!o->json) {
		printf("  tunnel: none\n");
	}
	if (o->json)
		printf("}");
	return NL_OK;
}

static void print_sock(struct nlattr *nest, bool json, const char *event)
{
	struct nlattr *sa[TSCF_SOCK_A_MAX + 1];
	char local[64] = "", remote[64] = "";
	unsigned int level, path;

	if (nla_parse_nested(sa, TSCF_SOCK_A_MAX, nest, NULL))
		return;
	level = nla_get_u8(sa[TSCF_SOCK_A_LEVEL]);
	path = nla_get_u8(sa[TSCF_SOCK_A_PATH]);
	if (sa[TSCF_SOCK_A_LOCAL])
		sockaddr_str(sa[TSCF_SOCK_A_LOCAL], local, sizeof(local));
	if (sa[TSCF_SOCK_A_REMOTE])
		sockaddr_str(sa[TSCF_SOCK_A_REMOTE], remote, sizeof(remote));
	if (json)
		printf("{%s%s%s\"inode\": %llu, \"cookie\": %llu, \"proto\": \"%s\", "
		       "\"local\": \"%s\", \"remote\": \"%s\", \"level\": \"%s\", \"path\": \"%s\"}",
		       event ? "\"event\": \"" : "", event ? event : "", event ? "\", " : "",
		       (unsigned long long)nla_get_u64(sa[TSCF_SOCK_A_INODE]),
		       (unsigned long long)nla_get_u64(sa[TSCF_SOCK_A_COOKIE]),
		       nla_get_u8(sa[TSCF_SOCK_A_PROTO]) == 6 ? "tcp" : "udp",
		       local, remote, levels[level % 3], paths[path % 3]);
	else
		printf("%s%ssocket inode %llu %s %s -> %s: %s, %s\n",
		       event ? event : "  ", event ? ": " : "",
		       (unsigned long long)nla_get_u64(sa[TSCF_SOCK_A_INODE]),
		       nla_get_u8(sa[TSCF_SOCK_A_PROTO]) == 6 ? "tcp" : "udp",
		       local, remote, levels[level % 3], paths[path % 3]);
}

static int on_sock(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1];
	struct out *o = arg;

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL) || !tb[TSCF_A_SOCK])
		return NL_SKIP;
	if (o->json && !o->first)
		printf(", ");
	o->first = false;
	print_sock(tb[TSCF_A_SOCK], o->json, NULL);
	return NL_OK;
}

static int dump(struct tscf_nl *nl, int cmd, nl_recvmsg_msg_cb_t fn, struct out *o)
{
	struct nl_msg *msg = nlmsg_alloc();
	int rc;

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, NLM_F_DUMP, cmd,
		    TSCF_GENL_VERSION);
	nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, fn, o);
	rc = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_recvmsgs_default(nl->sk);
	return rc < 0 ? rc : 0;
}

int cmd_show(const char *dev, bool json)
{
	struct out o = { .json = json, .first = true, .filter = dev };
	struct tscf_nl nl;
	int rc;

	rc = tnl_open(&nl, 0);
	if (rc)
		die("%s", tnl_strerror(rc));
	if (json)
		printf("{\"devices\": [");
	rc = dump(&nl, TSCF_CMD_DEV_GET, on_dev, &o);
	if (rc)
		die("show: %s", rc == -NLE_PERM ? tnl_strerror(-EPERM) : nl_geterror(rc));
	o.first = true;
	printf(json ? "], \"sockets\": [" : "sockets:\n");
	dump(&nl, TSCF_CMD_SOCK_GET, on_sock, &o);
	printf(json ? "]}\n" : "");
	tnl_close(&nl);
	return 0;
}

static const char *cmd_names[] = {
	[TSCF_CMD_CTRL_RECV] = "ctrl", [TSCF_CMD_TUNNEL_EVENT] = "tunnel",
	[TSCF_CMD_ENC_DEMAND] = "demand", [TSCF_CMD_SOCK_EVENT] = "socket",
};
static const char *event_names[] = { "?", "up", "down", "moved", "blocked", "released" };

static void on_monitor(const struct tscf_ev *ev, void *arg)
{
	bool json = *(bool *)arg;
	char dev[IF_NAMESIZE] = "-";
	const char *event = event_names[ev->event < ARRAY_SIZE(event_names) ? ev->event : 0];
	const char *reason = reasons[ev->reason < ARRAY_SIZE(reasons) ? ev->reason : 0];
	struct tscf_msg m;

	if (ev->ifindex)
		if_indextoname(ev->ifindex, dev);
	if (ev->cmd == TSCF_CMD_SOCK_EVENT && ev->sock) {
		print_sock(ev->sock, json, event);
		if (json)
			printf("\n");
	} else if (ev->cmd == TSCF_CMD_CTRL_RECV && !tscf_msg_decode(ev->frame, ev->frame_len, &m)) {
		printf(json ? "{\"event\": \"ctrl\", \"dev\": \"%s\", \"type\": \"%s\", \"tsid\": \"%016llx\", \"seq\": %u}\n" :
		       "%s: control %s TSID %016llx seq %u\n", dev, tscf_cm_type_name(m.type),
		       (unsigned long long)m.tsid, m.seq);
	} else if (ev->cmd == TSCF_CMD_TUNNEL_EVENT) {
		printf(json ? "{\"event\": \"tunnel-%s\", \"dev\": \"%s\", \"tsid\": \"%016llx\", \"reason\": \"%s\"}\n" :
		       "%s: tunnel %s TSID %016llx (%s)\n",
		       json ? event : dev, json ? dev : event, (unsigned long long)ev->tsid, reason);
	} else if (ev->cmd == TSCF_CMD_ENC_DEMAND) {
		printf(json ? "{\"event\": \"demand\", \"dev\": \"%s\", \"demand\": %u}\n" :
		       "%s: encryption demand %u\n", dev, ev->demand);
	} else if ((size_t)ev->cmd < ARRAY_SIZE(cmd_names) && cmd_names[ev->cmd]) {
		printf("%s: %s\n", dev, cmd_names[ev->cmd]);
	}
	fflush(stdout);
}

int cmd_monitor(bool json)
{
	struct tscf_nl nl;
	int rc;

	rc = tnl_open(&nl, TNL_GRP_CTRL | TNL_GRP_TUNNEL | TNL_GRP_SOCK);
	if (rc)
		die("%s", tnl_strerror(rc));
	for (;;) {
		rc = tnl_events(&nl, on_monitor, &json);
		if (rc < 0 && rc != -NLE_AGAIN)
			die("monitor: %s", nl_geterror(rc));
	}
}
