// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel data path: tscf.ko's server device carries the inner packets
 * of clear UDP and clear TCP sessions between their sockets and the
 * service network, and hands everything else to tscfd (docs/SERVER.md,
 * "Kernel data path").  tscfd keeps every decision: which sessions the
 * kernel may carry (fast), when it must stop (before a flow binding above
 * level 0), and all control traffic.
 *
 * Two generic netlink sockets, opened before privileges are dropped.  The
 * first owns the server device, so the device and its peers go when tscfd
 * exits, however it exits; its requests are synchronous: clearing fast
 * returns only once the kernel has stopped using it.  The second only
 * receives: the frames of TCP sessions that the kernel does not carry
 * (srv-frame events, after srv-listen), read from the event loop.
 *
 * A TCP session is handed over once configured (tscfd_kdp_stream(), from
 * net.c when nothing of tscfd's waits to be written): from then on the
 * kernel owns its byte stream, tscfd gets its other frames as events and
 * sends its own with srv-peer-send, and watches the fd only for the end.
 * A TLS tunnel with kTLS both ways is handed over the same way, as an
 * encrypted peer: tscfd gives it the session's flows after each binding
 * (tscfd_kdp_flows()) and acknowledges each control frame it handled
 * (frame-seq), behind which the kernel holds the tunnel's packets.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <linux/tscf.h>
#include <linux/tscf_genl.h>

#include "tscfd.h"

static struct nl_sock *kdp_sk;
static struct nl_sock *kdp_ev;		/* srv-frame events only */
static struct tscfd_handle kdp_ev_handle = { .type = EV_KDP, .fd = -1 };
static int kdp_family;
static int kdp_ifindex;
static char kdp_name[IFNAMSIZ];
/* Handed-over TCP tunnels by their fd, which srv-frame events name. */
static struct tscfd_tunnel **kdp_by_fd;
static size_t kdp_by_fd_len;
/* What the event socket may hold: a burst of frames of slow sessions. */
#define KDP_EV_RCVBUF	(8 << 20)

bool tscfd_kdp_on(void)
{
	return kdp_ifindex > 0;
}

int tscfd_kdp_ifindex(void)
{
	return kdp_ifindex;
}

const char *tscfd_kdp_name(void)
{
	return kdp_name;
}

/* The kernel's reason for the last refusal (its extended ACK), or "". */
static char kdp_why[160];

/* ": reason" for a log line, when the kernel gave one. */
static const char *kdp_reason(void)
{
	static char buf[sizeof(kdp_why) + 2];

	if (!kdp_why[0])
		return "";
	snprintf(buf, sizeof(buf), ": %s", kdp_why);
	return buf;
}

/* A refusal: its errno as it is (libnl's mapping loses most), its message. */
static int kdp_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	const struct nlmsghdr *h = (const void *)((const char *)e - NLMSG_HDRLEN);
	const struct nlattr *a;
	size_t off = sizeof(*e), len;
	int rem;

	(void)who;
	*(int *)arg = e->error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	len = h->nlmsg_len - NLMSG_HDRLEN;
	if (off >= len)
		return NL_STOP;
	nla_for_each_attr(a, (struct nlattr *)((char *)e + off), (int)(len - off), rem)
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
			snprintf(kdp_why, sizeof(kdp_why), "%.*s", nla_len(a), (const char *)nla_data(a));
	return NL_STOP;
}

static int kdp_acked(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(bool *)arg = true;
	return NL_STOP;
}

/*
 * One request, its replies to cb; 0 or a negative errno.  Reads until the
 * request's own ACK: a reply comes before it, in another read, and an ACK
 * left behind would answer the next request.
 */
static int kdp_request_on(struct nl_sock *sk, struct nl_msg *msg,
			  nl_recvmsg_msg_cb_t cb, void *arg)
{
	struct nl_cb *ncb = nl_cb_alloc(NL_CB_DEFAULT);
	bool acked = false;
	int rc, reads = 0, error = 0;

	kdp_why[0] = '\0';
	if (!ncb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(ncb, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	nl_cb_set(ncb, NL_CB_ACK, NL_CB_CUSTOM, kdp_acked, &acked);
	nl_cb_err(ncb, NL_CB_CUSTOM, kdp_error, &error);
	rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	/* nl_recvmsgs() returns 0 after each read that did not fail. */
	while (rc >= 0 && !acked && reads++ < 64)
		rc = nl_recvmsgs(sk, ncb);
	nl_cb_put(ncb);
	if (error < 0)
		return error;
	if (rc >= 0 && !acked)
		rc = -NLE_FAILURE;
	if (rc < 0)
		return rc == -NLE_OBJ_NOTFOUND ? -ENOENT :
		       rc == -NLE_EXIST ? -EEXIST :
		       rc == -NLE_PERM ? -EPERM :
		       rc == -NLE_NOMEM ? -ENOMEM :
		       rc == -NLE_INVAL ? -EINVAL : -EIO;
	return 0;
}

static int kdp_request(struct nl_msg *msg, nl_recvmsg_msg_cb_t cb, void *arg)
{
	return kdp_request_on(kdp_sk, msg, cb, arg);
}

static int kdp_ignore(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static struct nl_msg *kdp_msg(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, kdp_family, 0, 0,
				cmd, TSCF_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int kdp_new_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1];

	(void)arg;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TSCF_A_MAX, NULL) ||
	    !tb[TSCF_A_IFINDEX])
		return NL_SKIP;
	kdp_ifindex = (int)nla_get_u32(tb[TSCF_A_IFINDEX]);
	if (tb[TSCF_A_IFNAME])
		snprintf(kdp_name, sizeof(kdp_name), "%s", nla_get_string(tb[TSCF_A_IFNAME]));
	return NL_OK;
}

static int kdp_create(const struct tscfd_config *conf)
{
	int tun = (int)if_nametoindex(conf->tun_name);
	struct nl_msg *msg;

	if (!tun)
		return -ENODEV;
	msg = kdp_msg(TSCF_CMD_SRV_NEW);
	if (!msg || nla_put_string(msg, TSCF_A_IFNAME, conf->kdp_name) ||
	    nla_put_u32(msg, TSCF_A_PUNT_IFINDEX, (uint32_t)tun)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return kdp_request(msg, kdp_new_reply, NULL);
}

static void kdp_close(void)
{
	if (kdp_ev) {
		epoll_ctl(tscfd_epfd, EPOLL_CTL_DEL, nl_socket_get_fd(kdp_ev), NULL);
		nl_socket_free(kdp_ev);
	}
	kdp_ev = NULL;
	if (kdp_sk)
		nl_socket_free(kdp_sk);	/* the device goes with its owner */
	kdp_sk = NULL;
	kdp_ifindex = 0;
}

/* The "tscf" family, or a negative errno (-ENOENT: no module). */
static int kdp_connect(void)
{
	int one = 1;

	kdp_sk = nl_socket_alloc();
	if (!kdp_sk)
		return -ENOMEM;
	if (genl_connect(kdp_sk)) {
		kdp_close();
		return -EIO;
	}
	/* The kernel says why it refuses (logged); without it, errno only. */
	setsockopt(nl_socket_get_fd(kdp_sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	kdp_family = genl_ctrl_resolve(kdp_sk, TSCF_GENL_NAME);
	if (kdp_family < 0) {
		kdp_close();
		return -ENOENT;
	}
	return 0;
}

static int kdp_on_frame(struct nl_msg *msg, void *arg);

/*
 * The event socket: srv-listen on it, a receive buffer that a burst of
 * frames fits in (SO_RCVBUFFORCE while tscfd may), nonblocking, in epoll.
 * A frame that finds it full waits in the kernel, and its connection
 * with it (ethtool -S: srv_frames_waited), so the buffer is generous;
 * each connection may be at most TSCF_SRV_EVENTS_AHEAD events ahead of
 * tscfd (kdp_frames_done()), so no one client fills it alone.
 */
static int kdp_listen(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &kdp_ev_handle };
	int size = KDP_EV_RCVBUF, fd, rc;
	struct nl_msg *msg;

	kdp_ev = nl_socket_alloc();
	if (!kdp_ev || genl_connect(kdp_ev))
		return -EIO;
	fd = nl_socket_get_fd(kdp_ev);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	msg = kdp_msg(TSCF_CMD_SRV_LISTEN);
	if (!msg || nla_put_u32(msg, TSCF_A_IFINDEX, (uint32_t)kdp_ifindex)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	rc = kdp_request_on(kdp_ev, msg, kdp_ignore, NULL);
	if (rc)
		return rc;
	/* Events have no sequence number; only they come here now. */
	nl_socket_disable_seq_check(kdp_ev);
	nl_socket_modify_cb(kdp_ev, NL_CB_VALID, NL_CB_CUSTOM, kdp_on_frame, NULL);
	if (nl_socket_set_nonblocking(kdp_ev) ||
	    epoll_ctl(tscfd_epfd, EPOLL_CTL_ADD, fd, &ev))
		return -EIO;
	kdp_ev_handle.fd = fd;
	return 0;
}

/*
 * Before the TUN is configured and before privileges go.  auto: the
 * module's path if it can be had, else userspace; yes: it or nothing;
 * no: never.  0, or -1 (logged) when tscfd must not start.
 */
int tscfd_kdp_open(const struct tscfd_config *conf)
{
	int rc;

	if (conf->kdp_mode == TSCFD_KDP_NO)
		return 0;
	rc = kdp_connect();
	if (!rc)
		rc = kdp_create(conf);
	if (!rc && kdp_ifindex > 0)
		rc = kdp_listen();
	if (!rc && kdp_ifindex > 0) {
		tscfd_log("kernel data path: server device %s for clear UDP and TCP tunnels",
			  kdp_name);
		return 0;
	}
	kdp_close();
	if (conf->kdp_mode == TSCFD_KDP_YES) {
		tscfd_logp(LOG_ERR, "kernel-datapath yes: cannot create server device %s: %s",
			   conf->kdp_name, rc == -ENOENT ? "the tscf module is not loaded" :
			   strerror(rc < 0 ? -rc : EIO));
		return -1;
	}
	tscfd_log("kernel data path not available (%s): clear UDP tunnels in userspace",
		  rc == -ENOENT ? "no tscf module" : strerror(rc < 0 ? -rc : EIO));
	return 0;
}

/* Every interface's UDP socket to the device; after binding. */
int tscfd_kdp_attach(const struct tscfd_config *conf)
{
	unsigned int i;
	int rc;

	for (i = 0; tscfd_kdp_on() && i < conf->niface; i++) {
		struct nl_msg *msg = kdp_msg(TSCF_CMD_SRV_SOCK_ADD);

		if (conf->iface[i].udp_fd < 0) {
			nlmsg_free(msg);
			continue;
		}
		if (!msg || nla_put_u32(msg, TSCF_A_IFINDEX, (uint32_t)kdp_ifindex) ||
		    nla_put_u32(msg, TSCF_A_SOCK_FD, (uint32_t)conf->iface[i].udp_fd)) {
			nlmsg_free(msg);
			rc = -ENOMEM;
		} else {
			rc = kdp_request(msg, kdp_ignore, NULL);
		}
		if (rc) {
			tscfd_logp(LOG_ERR, "kernel data path: cannot attach the UDP socket of %s: %s",
				   conf->iface[i].addr_str, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* May the kernel carry this session's packets?  Only with no binding above 0. */
static bool kdp_fast_ok(const struct tscfd_session *s)
{
	return !tscfd_flow_encrypted_bindings(s);
}

/* A UDP tunnel's peer is on the interface's socket, a TCP or TLS one on its own. */
static int kdp_peer_fd(const struct tscfd_tunnel *t)
{
	return t->kind == TK_TCP || t->kind == TK_TLS ? t->fd : t->iface->udp_fd;
}

/* An encrypted tunnel's bindings, as the kernel takes them (at most its maximum). */
static int kdp_put_flows(struct nl_msg *msg, const struct tscfd_tunnel *t)
{
	struct tscf_srv_flow flows[TSCF_SRV_MAX_FLOWS];
	size_t n = tscfd_flow_export(t->session, flows, TSCF_SRV_MAX_FLOWS);

	return nla_put(msg, TSCF_SRV_PEER_A_FLOWS, (int)(n * sizeof(flows[0])), flows);
}

/* What else a request about an encrypted peer carries (kdp_put_peer). */
#define KDP_FLOWS	1	/* its flows */
#define KDP_SEQ		2	/* the events handled (frame-seq) */

/*
 * full: a new peer (its TSID, addresses and offer; encrypted, with its
 * flows, for an encrypted tunnel).  extra: KDP_FLOWS, KDP_SEQ.
 */
static int kdp_put_peer(struct nl_msg *msg, const struct tscfd_tunnel *t,
			bool full, int extra, int fast, const uint8_t *rest,
			size_t restlen)
{
	const struct tscfd_session *s = t->session;
	struct nlattr *nest;

	if (nla_put_u32(msg, TSCF_A_IFINDEX, (uint32_t)kdp_ifindex))
		return -1;
	nest = nla_nest_start(msg, TSCF_A_SRV_PEER);
	if (!nest || nla_put(msg, TSCF_SRV_PEER_A_REMOTE, (int)t->peerlen, &t->peer) ||
	    nla_put_u32(msg, TSCF_SRV_PEER_A_FD, (uint32_t)kdp_peer_fd(t)))
		return -1;
	if (full && (nla_put_u64(msg, TSCF_SRV_PEER_A_TSID, t->tsid) ||
		     (s->ip4.family &&
		      nla_put_u32(msg, TSCF_SRV_PEER_A_INTERNAL_IPV4, s->ip4.v4.s_addr)) ||
		     (s->ip6.family &&
		      nla_put(msg, TSCF_SRV_PEER_A_INTERNAL_IPV6, 16, &s->ip6.v6)) ||
		     /* The offer of its CONFIG_RESP: whole ones on the fast path. */
		     (t->super_frames &&
		      nla_put_u16(msg, TSCF_SRV_PEER_A_SUPER_FRAMES, TSCF_MAX_FRAME_LEN)) ||
		     (t->encrypted && nla_put_flag(msg, TSCF_SRV_PEER_A_ENCRYPTED))))
		return -1;
	if (t->encrypted && (full || (extra & KDP_FLOWS)) && kdp_put_flows(msg, t))
		return -1;
	if ((extra & KDP_SEQ) &&
	    nla_put_u32(msg, TSCF_SRV_PEER_A_FRAME_SEQ, t->kdp_frame_seq))
		return -1;
	if (fast >= 0 && nla_put_u8(msg, TSCF_SRV_PEER_A_FAST, (uint8_t)fast))
		return -1;
	if (restlen && nla_put(msg, TSCF_SRV_PEER_A_RX_REST, (int)restlen, rest))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static int kdp_peer_cmd(const struct tscfd_tunnel *t, uint8_t cmd, bool full,
			int fast, nl_recvmsg_msg_cb_t cb, void *arg)
{
	struct nl_msg *msg = kdp_msg(cmd);

	if (!msg || kdp_put_peer(msg, t, full, 0, fast, NULL, 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return kdp_request(msg, cb ? cb : kdp_ignore, arg);
}

static void kdp_index(struct tscfd_tunnel *t, bool add)
{
	size_t fd = (size_t)t->fd, n;
	struct tscfd_tunnel **nb;

	if (!add) {
		if (fd < kdp_by_fd_len && kdp_by_fd[fd] == t)
			kdp_by_fd[fd] = NULL;
		return;
	}
	if (fd >= kdp_by_fd_len) {
		n = fd < 1024 ? 1024 : fd * 2;
		nb = realloc(kdp_by_fd, n * sizeof(*nb));
		if (!nb)
			return;		/* its events are dropped: logged there */
		memset(nb + kdp_by_fd_len, 0, (n - kdp_by_fd_len) * sizeof(*nb));
		kdp_by_fd = nb;
		kdp_by_fd_len = n;
	}
	kdp_by_fd[fd] = t;
}

/*
 * kTLS in both directions on a TLS tunnel's socket (OpenSSL installs it
 * after the handshake, for TLS 1.2 AES-GCM): the kernel can then read and
 * write it through TLS.  TLS 1.3 gets TX only on the kernels this targets.
 */
static bool kdp_ktls_both(const struct tscfd_tunnel *t)
{
	return t->ssl && BIO_get_ktls_send(SSL_get_wbio(t->ssl)) > 0 &&
	       BIO_get_ktls_recv(SSL_get_rbio(t->ssl)) > 0;
}

/*
 * A configured clear UDP tunnel (new or resumed): to the kernel.  A clear
 * TCP tunnel, or an encrypted TLS tunnel with kTLS both ways, is marked:
 * net.c hands its connection over with tscfd_kdp_stream() once nothing of
 * tscfd's waits to be written.
 */
void tscfd_kdp_push(struct tscfd_tunnel *t)
{
	bool fast;
	int rc;

	if (!tscfd_kdp_on() || !t->session || t->kdp_pushed)
		return;
	if (t->encrypted) {
		t->kdp_want = t->kind == TK_TLS && kdp_ktls_both(t);
		return;
	}
	if (t->kind == TK_TCP) {
		t->kdp_want = true;
		return;
	}
	if (t->kind != TK_UDP)
		return;
	fast = kdp_fast_ok(t->session);
	rc = kdp_peer_cmd(t, TSCF_CMD_SRV_PEER_SET, true, fast, NULL, NULL);
	if (rc) {
		/* Not carried by the kernel: tscfd sees every packet, as without it. */
		tscfd_tlog(LOG_WARNING, "tunnel %016llx: kernel data path refused the peer: %s%s",
			   (unsigned long long)t->tsid, strerror(-rc), kdp_reason());
		return;
	}
	t->kdp_pushed = true;
	t->kdp_fast = fast;
}

/* Kernel counters since the last look: into the tunnel's and tscfd's. */
static int kdp_counters(struct nl_msg *msg, void *arg)
{
	struct tscfd_tunnel *t = arg;
	struct nlattr *tb[TSCF_A_MAX + 1], *pb[TSCF_SRV_PEER_A_MAX + 1];
	uint64_t v[4];
	int i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, TSCF_A_MAX, NULL) ||
	    !tb[TSCF_A_SRV_PEER] ||
	    nla_parse_nested(pb, TSCF_SRV_PEER_A_MAX, tb[TSCF_A_SRV_PEER], NULL)) {
		tscfd_tlog(LOG_WARNING, "kernel data path: a peer answer without a peer");
		return NL_SKIP;
	}
	for (i = 0; i < 4; i++) {
		if (!pb[TSCF_SRV_PEER_A_RX_PACKETS + i]) {
			tscfd_tlog(LOG_WARNING, "kernel data path: a peer answer without counters");
			return NL_SKIP;
		}
		v[i] = nla_get_u64(pb[TSCF_SRV_PEER_A_RX_PACKETS + i]);
	}
	tscfd_stats.rx_packets += v[0] - t->kdp_seen[0];
	tscfd_stats.tx_packets += v[2] - t->kdp_seen[2];
	t->rx_packets += v[0] - t->kdp_seen[0];
	t->rx_bytes += v[1] - t->kdp_seen[1];
	t->tx_packets += v[2] - t->kdp_seen[2];
	t->tx_bytes += v[3] - t->kdp_seen[3];
	memcpy(t->kdp_seen, v, sizeof(v));
	if (pb[TSCF_SRV_PEER_A_RX_IDLE_MS]) {
		uint32_t idle = nla_get_u32(pb[TSCF_SRV_PEER_A_RX_IDLE_MS]);
		time_t at = tscfd_now() - (time_t)(idle / 1000);

		/* Traffic only the kernel saw keeps the tunnel alive too. */
		if (idle != UINT32_MAX && at > t->last_rx)
			t->last_rx = at;
	}
	return NL_OK;
}

void tscfd_kdp_sync(struct tscfd_tunnel *t)
{
	int rc;

	if (!t->kdp_pushed)
		return;
	rc = kdp_peer_cmd(t, TSCF_CMD_SRV_PEER_GET, false, -1, kdp_counters, t);
	if (rc)
		tscfd_tlog(LOG_WARNING, "tunnel %016llx: kernel data path: cannot read the peer's counters: %s",
			   (unsigned long long)t->tsid, strerror(-rc));
}

void tscfd_kdp_sync_all(void)
{
	struct tscfd_tunnel *t;

	if (!tscfd_kdp_on())
		return;
	for (t = tscfd_tunnel_first(); t; t = t->next)
		tscfd_kdp_sync(t);
}

/* Closing: out of the kernel before its address can go to another session. */
void tscfd_kdp_forget(struct tscfd_tunnel *t)
{
	int rc;

	if (t->kdp_stream)
		kdp_index(t, false);
	if (!t->kdp_pushed)
		return;
	rc = kdp_peer_cmd(t, TSCF_CMD_SRV_PEER_DEL, false, -1, kdp_counters, t);
	if (rc && rc != -ENOENT)
		tscfd_logp(LOG_ERR, "tunnel %016llx: kernel data path: cannot delete the peer: %s",
			   (unsigned long long)t->tsid, strerror(-rc));
	t->kdp_pushed = t->kdp_fast = false;
}

/*
 * Before a binding above level 0: the kernel stops carrying the session's
 * packets, and has stopped when this returns (it waits for every CPU).
 * false: it could not be told, and the binding must be refused.
 */
bool tscfd_kdp_slow(struct tscfd_session *s)
{
	struct tscfd_tunnel *t = s->clear;
	int rc;

	if (!t || !t->kdp_pushed || !t->kdp_fast)
		return true;
	rc = kdp_peer_cmd(t, TSCF_CMD_SRV_PEER_SET, false, 0, NULL, NULL);
	if (rc == -ENOENT) {
		t->kdp_pushed = false;
		rc = 0;
	}
	if (rc) {
		tscfd_logp(LOG_ERR, "tunnel %016llx: kernel data path: cannot clear fast: %s",
			   (unsigned long long)t->tsid, strerror(-rc));
		return false;
	}
	t->kdp_fast = false;
	tscfd_tlog(LOG_INFO, "tunnel %016llx: flow binding: every packet through tscfd now",
		   (unsigned long long)t->tsid);
	return true;
}

/*
 * Once a second: is the server device still there?  It goes without
 * tscfd when tscf.ko is unloaded (rmmod deletes it) or an administrator
 * deletes it.  Then the UDP sockets are back in tscfd's hands (the module
 * unhooked them) but the pools' addresses went with the device, so the
 * service network's packets to clients would go nowhere: tscfd falls back
 * to its userspace path, puts the pools on its TUN and says so (log, and
 * the kernel_datapath gauge to 0).
 */
void tscfd_kdp_check(const struct tscfd_config *conf)
{
	char name[IF_NAMESIZE];
	struct tscfd_tunnel *t;

	if (!tscfd_kdp_on() || if_indextoname((unsigned int)kdp_ifindex, name))
		return;
	tscfd_logp(LOG_ERR, "kernel data path: server device %s is gone (tscf module unloaded?): every clear UDP packet through tscfd now",
		   kdp_name);
	kdp_close();
	for (t = tscfd_tunnel_first(); t; t = t->next)
		t->kdp_pushed = t->kdp_fast = false;
	tscfd_tun_configure(conf);	/* the pools on the TUN; logs any failure */
}

void tscfd_kdp_counts(uint64_t *peers, uint64_t *fast)
{
	struct tscfd_tunnel *t;

	*peers = *fast = 0;
	for (t = tscfd_tunnel_first(); t; t = t->next) {
		*peers += t->kdp_pushed;
		*fast += t->kdp_fast;
	}
}

/*
 * Hand a configured clear TCP tunnel's connection to the kernel.  rest:
 * the start of a frame tscfd read past its last whole one, which the
 * kernel cuts first.  false: the kernel refused it (logged), tscfd goes
 * on reading and writing the connection itself, as without the module.
 */
bool tscfd_kdp_stream(struct tscfd_tunnel *t, const uint8_t *rest, size_t len)
{
	struct nl_msg *msg = kdp_msg(TSCF_CMD_SRV_PEER_SET);
	/* An encrypted peer is never fast: its flows say what it carries. */
	bool fast = !t->encrypted && kdp_fast_ok(t->session);
	int rc;

	t->kdp_want = false;
	if (!tscfd_kdp_on() || !msg ||
	    kdp_put_peer(msg, t, true, 0, t->encrypted ? -1 : fast, rest, len)) {
		nlmsg_free(msg);
		return false;
	}
	rc = kdp_request(msg, kdp_ignore, NULL);
	if (rc) {
		tscfd_tlog(LOG_WARNING, "tunnel %016llx: kernel data path refused the %s peer: %s%s",
			   (unsigned long long)t->tsid, t->encrypted ? "TLS" : "TCP", strerror(-rc),
			   kdp_reason());
		return false;
	}
	t->kdp_pushed = t->kdp_stream = true;
	t->kdp_fast = fast;
	kdp_index(t, true);
	tscfd_tlog(LOG_DEBUG, "tunnel %016llx: its connection is the kernel's now",
		   (unsigned long long)t->tsid);
	return true;
}

/* srv-peer-set of a stream peer: what extra names (KDP_FLOWS, KDP_SEQ). */
static int kdp_peer_update(const struct tscfd_tunnel *t, int extra)
{
	struct nl_msg *msg = kdp_msg(TSCF_CMD_SRV_PEER_SET);

	if (!msg || kdp_put_peer(msg, t, false, extra, -1, NULL, 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return kdp_request(msg, kdp_ignore, NULL);
}

/*
 * The session's bindings changed: its encrypted peer in the kernel gets
 * the new set.  If it cannot, the kernel's set is stale: a binding it
 * lacks goes through tscfd, one it still has goes encrypted; never clear.
 */
void tscfd_kdp_flows(struct tscfd_session *s)
{
	struct tscfd_tunnel *t = s->enc;
	int rc;

	if (!t || t->dead || !t->kdp_pushed || !t->kdp_stream)
		return;
	rc = kdp_peer_update(t, KDP_FLOWS);
	if (rc)
		tscfd_logp(LOG_WARNING, "tunnel %016llx: kernel data path: cannot update the encrypted peer's flows: %s%s",
			   (unsigned long long)t->tsid, strerror(-rc), kdp_reason());
}

/* A frame of tscfd's on a handed-over connection, in order with the kernel's. */
int tscfd_kdp_stream_send(struct tscfd_tunnel *t, const uint8_t *buf, size_t len)
{
	struct nl_msg *msg;
	int rc;

	if (!t->kdp_pushed)
		return -1;	/* the device went: the connection is cut */
	msg = kdp_msg(TSCF_CMD_SRV_PEER_SEND);
	if (!msg || kdp_put_peer(msg, t, false, 0, -1, NULL, 0) ||
	    nla_put(msg, TSCF_A_FRAME, (int)len, buf)) {
		nlmsg_free(msg);
		return -1;
	}
	rc = kdp_request(msg, kdp_ignore, NULL);
	if (rc == -ENOMEM) {		/* ENOBUFS: the peer's queue is full */
		tscfd_stats.drop_backlog++;
		return -1;
	}
	if (rc) {
		tscfd_tlog(LOG_WARNING, "tunnel %016llx: kernel data path: cannot send a frame: %s",
			   (unsigned long long)t->tsid, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Is a (the kernel's REMOTE) t's peer: family, address and port? */
static bool kdp_same_peer(const struct nlattr *a, const struct tscfd_tunnel *t)
{
	const union tscfd_sockaddr *r = nla_data(a);
	size_t len = (size_t)nla_len(a);

	if (len < sizeof(sa_family_t) || r->ss_family != t->peer.ss_family)
		return false;
	if (r->ss_family == AF_INET)
		return len == sizeof(r->in) && r->in.sin_port == t->peer.in.sin_port &&
		       r->in.sin_addr.s_addr == t->peer.in.sin_addr.s_addr;
	return len == sizeof(r->in6) && r->in6.sin6_port == t->peer.in6.sin6_port &&
	       !memcmp(&r->in6.sin6_addr, &t->peer.in6.sin6_addr, 16);
}

/*
 * tscfd has handled a stream peer's events up to seq; the kernel hears of
 * it when it matters:
 * - an encrypted peer's control frame: from behind it, the kernel hands
 *   tscfd every frame (the packets behind a FLOW_BIND must not overtake
 *   it) until it hears so;
 * - every TSCF_SRV_EVENTS_AHEAD / 2 events: the kernel reads no more of a
 *   connection whose events tscfd is TSCF_SRV_EVENTS_AHEAD behind.
 * If it cannot be told, the next event tries again: meanwhile the kernel
 * hands over more, or waits; it never carries anything elsewhere.
 */
static void kdp_frames_done(struct tscfd_tunnel *t, uint32_t seq, bool ctl)
{
	uint32_t told = t->kdp_frame_seq;
	int rc;

	if (t->dead || !t->kdp_pushed)
		return;
	if (!(ctl && t->encrypted) &&
	    seq - t->kdp_frame_seq < TSCF_SRV_EVENTS_AHEAD / 2)
		return;
	t->kdp_frame_seq = seq;
	rc = kdp_peer_update(t, KDP_SEQ);
	if (!rc)
		return;
	t->kdp_frame_seq = told;
	tscfd_tlog(LOG_WARNING, "tunnel %016llx: kernel data path: cannot tell the kernel which frames were handled: %s%s",
		   (unsigned long long)t->tsid, strerror(-rc), kdp_reason());
}

/*
 * An srv-frame event: a frame of a handed-over connection, for tscfd to
 * judge.  Named by fd, TSID and remote: an event still queued for a
 * closed tunnel is never taken for the next one on the same fd.
 */
static int kdp_on_frame(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1], *pb[TSCF_SRV_PEER_A_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct tscfd_tunnel *t = NULL;
	const uint8_t *frame;
	uint32_t fd;
	size_t len;

	(void)arg;
	if (gh->cmd != TSCF_CMD_SRV_FRAME ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, TSCF_A_MAX, NULL) ||
	    !tb[TSCF_A_SRV_PEER] || !tb[TSCF_A_FRAME] ||
	    nla_parse_nested(pb, TSCF_SRV_PEER_A_MAX, tb[TSCF_A_SRV_PEER], NULL) ||
	    !pb[TSCF_SRV_PEER_A_FD] || !pb[TSCF_SRV_PEER_A_TSID] ||
	    !pb[TSCF_SRV_PEER_A_REMOTE])
		return NL_SKIP;
	fd = nla_get_u32(pb[TSCF_SRV_PEER_A_FD]);
	if (fd < kdp_by_fd_len)
		t = kdp_by_fd[fd];
	/* Closed meanwhile (its events may still be queued): nothing to do. */
	if (!t || t->dead || !t->kdp_stream ||
	    nla_get_u64(pb[TSCF_SRV_PEER_A_TSID]) != t->tsid ||
	    !kdp_same_peer(pb[TSCF_SRV_PEER_A_REMOTE], t))
		return NL_SKIP;
	frame = nla_data(tb[TSCF_A_FRAME]);
	len = (size_t)nla_len(tb[TSCF_A_FRAME]);
	tscfd_tunnel_frame(t, frame, len);
	if (pb[TSCF_SRV_PEER_A_FRAME_SEQ])
		kdp_frames_done(t, nla_get_u32(pb[TSCF_SRV_PEER_A_FRAME_SEQ]),
				!len || (frame[0] >> 4 != TSCF_FRAME_IPV4 &&
					 frame[0] >> 4 != TSCF_FRAME_IPV6));
	return NL_OK;
}

/* The event socket is readable: every event it holds, a bounded number of reads. */
void tscfd_kdp_events(void)
{
	int rc = 0, reads = 0;

	while (kdp_ev && reads++ < 64 && (rc = nl_recvmsgs_default(kdp_ev)) >= 0)
		;
	/* ENOBUFS: a frame found no room; the kernel holds it and offers it again. */
	if (rc == -NLE_NOMEM)
		tscfd_logp(LOG_WARNING, "kernel data path: the event socket was full: TCP sessions wait for tscfd to catch up");
}
