// SPDX-License-Identifier: GPL-2.0
/* "tscfctl show" and "tscfctl monitor", for people and (-j) for programs. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netlink/genl/ctrl.h>

#include "json.h"
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
	[TSCF_STATS_A_RX_AUTH_FAILED] = "rx_auth_failed",
	[TSCF_STATS_A_RX_REPLAYED] = "rx_replayed",
	[TSCF_STATS_A_TX_SUPER_FRAMES] = "tx_super_frames",
	[TSCF_STATS_A_TXQ_BYTES] = "txq_bytes",
};
static const char *const levels[] = { "unencrypted", "encrypted-only", "encrypted-preferred" };
static const char *const paths[] = { "clear", "encrypted", "blocked" };
static const char *const transports[] = { "?", "udp", "tcp", "tls", "dtls" };

/* enum tscf_down_reason, uapi/linux/tscf.h: the name `show -j` and the
 * logs print, and the words the helper logs beside it. */
static const struct {
	const char *name;
	const char *text;
} reasons[] = {
	[TSCF_DOWN_DETACHED] = { "detached", "detached" },
	[TSCF_DOWN_PEER_CLOSED] = { "peer-closed", "closed by the server" },
	[TSCF_DOWN_SOCK_ERROR] = { "sock-error", "transport error" },
	[TSCF_DOWN_PROTO_ERROR] = { "proto-error", "protocol error" },
	[TSCF_DOWN_DEV_GONE] = { "dev-gone", "device gone" },
	[TSCF_DOWN_OWNER_GONE] = { "owner-gone", "its owner went away" },
};

static bool down_reason_known(unsigned int reason)
{
	return reason < ARRAY_SIZE(reasons) && reasons[reason].name;
}

const char *down_reason_name(unsigned int reason)
{
	static char unknown[24];

	if (!reason)
		return "none";
	if (down_reason_known(reason))
		return reasons[reason].name;
	/* a newer module's: say which, rather than nothing */
	snprintf(unknown, sizeof(unknown), "reason-%u", reason);
	return unknown;
}

const char *down_reason_text(unsigned int reason)
{
	return down_reason_known(reason) ? reasons[reason].text : "kernel event";
}

struct out {
	bool json;
	struct json_writer w;
	int ifindex, twin;		/* the device asked for and its twin; 0: all */
	unsigned int shown;
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

static void print_stats(struct out *o, struct nlattr *nest, const char *title)
{
	struct nlattr *a;
	int rem, n = 0;

	if (o->json)
		json_obj_begin(&o->w, "stats");
	else
		printf("  %s:", title);
	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a);

		if (t < 1 || t >= (int)ARRAY_SIZE(stat_names) || !stat_names[t])
			continue;
		if (o->json)
			json_u64(&o->w, stat_names[t], nla_get_u64(a));
		else
			printf("%s%s: %llu", n % 5 ? "  " : "\n    ", stat_names[t],
			       (unsigned long long)nla_get_u64(a));
		n++;
	}
	if (o->json)
		json_obj_end(&o->w);
	else
		printf("\n");
}

static void print_helper(struct out *o, const char *dev)
{
	struct helper_state st;
	long long t = (long long)time(NULL);
	char line[512];
	int n;

	if (state_read(dev, &st)) {
		if (o->json)
			json_null(&o->w, "helper");
		else
			printf("  helper: none\n");
		return;
	}
	if (o->json) {
		json_obj_begin(&o->w, "helper");
		json_i64(&o->w, "pid", st.pid);
		json_str(&o->w, "state", st.valid && st.state[0] ? st.state : "starting");
		if (st.valid) {
			json_str(&o->w, "encrypted", st.enc);
			if (st.last_error[0])
				json_str(&o->w, "last_error", st.last_error);
			else
				json_null(&o->w, "last_error");
			if (st.retry_at)
				json_i64(&o->w, "retry_in", st.retry_at > t ? st.retry_at - t : 0);
			if (st.last_answer)
				json_i64(&o->w, "keepalive_age", t - st.last_answer);
			json_u64(&o->w, "keepalive", st.keepalive);
		}
		json_obj_end(&o->w);
		return;
	}
	n = snprintf(line, sizeof(line), "  helper: pid %d, %s", (int)st.pid,
		     st.valid && st.state[0] ? st.state : "starting");
	if (st.valid) {
		n += snprintf(line + n, sizeof(line) - (size_t)n, ", encrypted %s", st.enc);
		if (st.retry_at)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", retry in %llds",
				      st.retry_at > t ? st.retry_at - t : 0);
		if (st.last_answer)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      ", last answer %llds ago (keepalive %us)",
				      t - st.last_answer, st.keepalive);
	}
	printf("%s\n", line);
	if (st.valid && st.last_error[0])
		printf("  last error: %s\n", st.last_error);
}

static int on_dev(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1], *tt[TSCF_TUNNEL_A_MAX + 1];
	struct out *o = arg;
	char twin[IF_NAMESIZE] = "", local[64] = "", peer[64] = "", ip[16] = "";
	char ip6[INET6_ADDRSTRLEN] = "", tsid[17];
	const char *name;
	bool encrypted;
	int ifindex;

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL) || !tb[TSCF_A_IFNAME] ||
	    !tb[TSCF_A_IFINDEX])
		return NL_SKIP;
	name = nla_get_string(tb[TSCF_A_IFNAME]);
	ifindex = (int)nla_get_u32(tb[TSCF_A_IFINDEX]);
	/* By index: "show tscf0" is tscf0 and its twin, never tscf01. */
	if (o->ifindex && ifindex != o->ifindex && ifindex != o->twin)
		return NL_OK;
	o->shown++;
	encrypted = tb[TSCF_A_ENCRYPTED] && nla_get_u8(tb[TSCF_A_ENCRYPTED]);
	if (tb[TSCF_A_TWIN_IFINDEX])
		if_indextoname(nla_get_u32(tb[TSCF_A_TWIN_IFINDEX]), twin);
	if (o->json) {
		json_obj_begin(&o->w, NULL);
		json_str(&o->w, "ifname", name);
		json_bool(&o->w, "encrypted", encrypted);
		json_str(&o->w, "twin", twin);
		if (tb[TSCF_A_DEMAND])
			json_bool(&o->w, "demand", nla_get_u8(tb[TSCF_A_DEMAND]));
		if (tb[TSCF_A_ENC_LINGER_MS])
			json_u64(&o->w, "linger_ms", nla_get_u32(tb[TSCF_A_ENC_LINGER_MS]));
	} else {
		printf("device: %s (%s, twin %s)%s\n", name,
		       encrypted ? "encrypted" : "clear", twin,
		       tb[TSCF_A_DEMAND] && nla_get_u8(tb[TSCF_A_DEMAND]) ?
		       ", encryption wanted" : "");
		if (tb[TSCF_A_ENC_LINGER_MS])
			printf("  encrypted tunnel linger: %u ms\n",
			       nla_get_u32(tb[TSCF_A_ENC_LINGER_MS]));
	}
	/* The helper keeps the clear device; the twin follows it. */
	if (!encrypted)
		print_helper(o, name);
	if (tb[TSCF_A_STATS])
		print_stats(o, tb[TSCF_A_STATS], "device counters");
	if (tb[TSCF_A_TUNNEL] &&
	    !nla_parse_nested(tt, TSCF_TUNNEL_A_MAX, tb[TSCF_A_TUNNEL], NULL)) {
		unsigned int tr = tt[TSCF_TUNNEL_A_TRANSPORT] ?
				  nla_get_u8(tt[TSCF_TUNNEL_A_TRANSPORT]) : 0;
		unsigned int super = tt[TSCF_TUNNEL_A_SUPER_FRAMES] ?
				     nla_get_u16(tt[TSCF_TUNNEL_A_SUPER_FRAMES]) : 0;

		if (tt[TSCF_TUNNEL_A_LOCAL])
			sockaddr_str(tt[TSCF_TUNNEL_A_LOCAL], local, sizeof(local));
		if (tt[TSCF_TUNNEL_A_PEER])
			sockaddr_str(tt[TSCF_TUNNEL_A_PEER], peer, sizeof(peer));
		if (tt[TSCF_TUNNEL_A_INTERNAL_IPV4] &&
		    nla_len(tt[TSCF_TUNNEL_A_INTERNAL_IPV4]) >= 4)
			inet_ntop(AF_INET, nla_data(tt[TSCF_TUNNEL_A_INTERNAL_IPV4]), ip, sizeof(ip));
		if (tt[TSCF_TUNNEL_A_INTERNAL_IPV6] &&
		    nla_len(tt[TSCF_TUNNEL_A_INTERNAL_IPV6]) >= 16 &&
		    !IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)nla_data(tt[TSCF_TUNNEL_A_INTERNAL_IPV6])))
			inet_ntop(AF_INET6, nla_data(tt[TSCF_TUNNEL_A_INTERNAL_IPV6]), ip6, sizeof(ip6));
		snprintf(tsid, sizeof(tsid), "%016llx", tt[TSCF_TUNNEL_A_TSID] ?
			 (unsigned long long)nla_get_u64(tt[TSCF_TUNNEL_A_TSID]) : 0ULL);
		if (o->json) {
			json_obj_begin(&o->w, "tunnel");
			json_str(&o->w, "tsid", tsid);
			json_str(&o->w, "transport", transports[tr < 5 ? tr : 0]);
			json_str(&o->w, "local", local);
			json_str(&o->w, "peer", peer);
			json_str(&o->w, "internal_ipv4", ip);
			if (ip6[0])
				json_str(&o->w, "internal_ipv6", ip6);
			else
				json_null(&o->w, "internal_ipv6");
			json_str(&o->w, "state", "up");
			json_u64(&o->w, "super_frames", super);
		} else {
			printf("  tunnel: up, TSID %s, %s %s -> %s, internal %s%s%s\n",
			       tsid, transports[tr < 5 ? tr : 0], local, peer,
			       ip[0] ? ip : "-", ip6[0] ? " " : "", ip6);
			if (super)
				printf("  super-frames: up to %u bytes (the server cuts them)\n",
				       super);
		}
		if (tt[TSCF_TUNNEL_A_STATS])
			print_stats(o, tt[TSCF_TUNNEL_A_STATS], "tunnel counters");
		if (o->json)
			json_obj_end(&o->w);
	} else if (o->json) {
		json_null(&o->w, "tunnel");
	} else {
		printf("  tunnel: none\n");
	}
	if (o->json)
		json_obj_end(&o->w);
	return NL_OK;
}

static void print_sock(struct nlattr *nest, struct json_writer *w, const char *event)
{
	struct nlattr *sa[TSCF_SOCK_A_MAX + 1];
	char local[64] = "", remote[64] = "";
	unsigned int level, path;
	const char *proto;

	if (nla_parse_nested(sa, TSCF_SOCK_A_MAX, nest, NULL) || !sa[TSCF_SOCK_A_INODE] ||
	    !sa[TSCF_SOCK_A_LEVEL] || !sa[TSCF_SOCK_A_PATH] || !sa[TSCF_SOCK_A_PROTO])
		return;
	level = nla_get_u8(sa[TSCF_SOCK_A_LEVEL]);
	path = nla_get_u8(sa[TSCF_SOCK_A_PATH]);
	proto = nla_get_u8(sa[TSCF_SOCK_A_PROTO]) == 6 ? "tcp" : "udp";
	if (sa[TSCF_SOCK_A_LOCAL])
		sockaddr_str(sa[TSCF_SOCK_A_LOCAL], local, sizeof(local));
	if (sa[TSCF_SOCK_A_REMOTE])
		sockaddr_str(sa[TSCF_SOCK_A_REMOTE], remote, sizeof(remote));
	if (w) {
		json_obj_begin(w, NULL);
		if (event)
			json_str(w, "event", event);
		json_u64(w, "inode", nla_get_u64(sa[TSCF_SOCK_A_INODE]));
		json_u64(w, "cookie", sa[TSCF_SOCK_A_COOKIE] ?
			 nla_get_u64(sa[TSCF_SOCK_A_COOKIE]) : 0);
		json_str(w, "proto", proto);
		json_str(w, "local", local);
		json_str(w, "remote", remote);
		json_str(w, "level", levels[level % 3]);
		json_str(w, "path", paths[path % 3]);
		json_obj_end(w);
	} else {
		printf("%s%ssocket inode %llu %s %s -> %s: %s, %s\n",
		       event ? event : "  ", event ? ": " : "",
		       (unsigned long long)nla_get_u64(sa[TSCF_SOCK_A_INODE]),
		       proto, local, remote, levels[level % 3], paths[path % 3]);
	}
}

static int on_sock(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1];
	struct out *o = arg;

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL) || !tb[TSCF_A_SOCK])
		return NL_SKIP;
	print_sock(tb[TSCF_A_SOCK], o->json ? &o->w : NULL, NULL);
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
	struct out o = { .json = json };
	struct tscf_nl nl;
	uint64_t tsid;
	int rc;

	if (dev) {
		/* as "ip link show DEV" does */
		o.ifindex = (int)if_nametoindex(dev);
		if (!o.ifindex)
			die("Device \"%s\" does not exist.", dev);
	}
	rc = tnl_open(&nl, 0);
	if (rc)
		die("%s", tnl_strerror(rc));
	if (dev) {
		rc = tnl_dev_twin(&nl, o.ifindex, &o.twin, &tsid);
		if (rc)
			die("%s: %s", dev, tnl_strerror(rc));
	}
	if (json) {
		json_init(&o.w, stdout);
		json_obj_begin(&o.w, NULL);
		json_arr_begin(&o.w, "devices");
	}
	rc = dump(&nl, TSCF_CMD_DEV_GET, on_dev, &o);
	if (rc)
		die("show: %s", rc == -NLE_PERM ? tnl_strerror(-EPERM) : nl_geterror(rc));
	if (dev && !o.shown)
		die("%s: not a tscf device", dev);
	if (json) {
		json_arr_end(&o.w);
		json_arr_begin(&o.w, "sockets");
	} else {
		printf("sockets:\n");
	}
	dump(&nl, TSCF_CMD_SOCK_GET, on_sock, &o);
	if (json) {
		json_arr_end(&o.w);
		json_obj_end(&o.w);
		if (json_finish(&o.w))
			die("show: malformed JSON");
	}
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
	char dev[IF_NAMESIZE] = "-", tsid[17], name[32];
	const char *event = event_names[ev->event < ARRAY_SIZE(event_names) ? ev->event : 0];
	struct json_writer w;
	struct tscf_msg m;

	if (ev->ifindex)
		if_indextoname(ev->ifindex, dev);
	json_init(&w, stdout);
	snprintf(tsid, sizeof(tsid), "%016llx", (unsigned long long)ev->tsid);
	if (ev->cmd == TSCF_CMD_SOCK_EVENT && ev->sock) {
		if (json) {
			print_sock(ev->sock, &w, event);
			json_finish(&w);
		} else {
			print_sock(ev->sock, NULL, event);
		}
	} else if (ev->cmd == TSCF_CMD_CTRL_RECV && !tscf_msg_decode(ev->frame, ev->frame_len, &m)) {
		snprintf(tsid, sizeof(tsid), "%016llx", (unsigned long long)m.tsid);
		if (json) {
			json_obj_begin(&w, NULL);
			json_str(&w, "event", "ctrl");
			json_str(&w, "dev", dev);
			json_str(&w, "type", tscf_cm_type_name(m.type));
			json_str(&w, "tsid", tsid);
			json_u64(&w, "seq", m.seq);
			json_obj_end(&w);
			json_finish(&w);
		} else {
			printf("%s: control %s TSID %s seq %u\n", dev,
			       tscf_cm_type_name(m.type), tsid, m.seq);
		}
	} else if (ev->cmd == TSCF_CMD_TUNNEL_EVENT) {
		if (json) {
			snprintf(name, sizeof(name), "tunnel-%s", event);
			json_obj_begin(&w, NULL);
			json_str(&w, "event", name);
			json_str(&w, "dev", dev);
			json_str(&w, "tsid", tsid);
			if (ev->event == TSCF_EVENT_DOWN)
				json_str(&w, "reason", down_reason_name(ev->reason));
			json_obj_end(&w);
			json_finish(&w);
		} else if (ev->event == TSCF_EVENT_DOWN) {
			printf("%s: tunnel down TSID %s (%s)\n", dev, tsid,
			       down_reason_name(ev->reason));
		} else {
			printf("%s: tunnel %s TSID %s\n", dev, event, tsid);
		}
	} else if (ev->cmd == TSCF_CMD_ENC_DEMAND) {
		if (json) {
			json_obj_begin(&w, NULL);
			json_str(&w, "event", "demand");
			json_str(&w, "dev", dev);
			json_bool(&w, "demand", ev->demand);
			json_obj_end(&w);
			json_finish(&w);
		} else {
			printf("%s: encryption demand %u\n", dev, ev->demand);
		}
	} else if ((size_t)ev->cmd < ARRAY_SIZE(cmd_names) && cmd_names[ev->cmd]) {
		if (json) {
			json_obj_begin(&w, NULL);
			json_str(&w, "event", cmd_names[ev->cmd]);
			json_str(&w, "dev", dev);
			json_obj_end(&w);
			json_finish(&w);
		} else {
			printf("%s: %s\n", dev, cmd_names[ev->cmd]);
		}
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
