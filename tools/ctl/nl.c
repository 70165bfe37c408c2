// SPDX-License-Identifier: GPL-2.0
/* The "tscf" generic netlink family, through libnl-genl-3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>

#include "tscfctl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static const char *const tnl_group_names[] = {
	[TNL_GRP_CTRL_BIT] = TSCF_MCGRP_CTRL,
	[TNL_GRP_TUNNEL_BIT] = TSCF_MCGRP_TUNNEL,
	[TNL_GRP_SOCK_BIT] = TSCF_MCGRP_SOCK,
};

/*
 * groups: the TNL_GRP_* multicast groups to join.  Each kind of event has
 * its own group, so a socket that joins only what it needs (the helper:
 * control frames and tunnel events) never loses those to a flood of
 * another kind (socket events, which any process can cause).
 */
int tnl_open(struct tscf_nl *nl, unsigned int groups)
{
	unsigned int i;
	int one = 1, grp;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk || genl_connect(nl->sk))
		return -ENOMEM;
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, TSCF_GENL_NAME);
	if (nl->family < 0)
		return -ENOENT;
	if (groups)
		nl_socket_disable_seq_check(nl->sk);
	for (i = 0; i < sizeof(tnl_group_names) / sizeof(tnl_group_names[0]); i++) {
		if (!(groups & (1u << i)))
			continue;
		grp = genl_ctrl_resolve_grp(nl->sk, TSCF_GENL_NAME, tnl_group_names[i]);
		if (grp < 0)
			return -ENOENT;
		if (nl_socket_add_membership(nl->sk, grp))
			return -EPERM;
	}
	return 0;
}

void tnl_close(struct tscf_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

const char *tnl_strerror(int err)
{
	if (err == -ENOENT)
		return "module tscf not loaded (genl family 'tscf' not found): modprobe tscf";
	if (err == -EPERM)
		return "operation not permitted: tscfctl needs CAP_NET_ADMIN";
	return strerror(-err);
}

struct ack {
	int err;
	char *msg;
	size_t msglen;
	bool done;
};

/* Keep the kernel's extack message along with the error. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct ack *a = arg;
	size_t off = sizeof(*e);
	struct nlattr *at;
	int rem;

	(void)nla;
	a->err = e->error;
	a->done = true;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || !a->msg)
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= h->nlmsg_len - NLMSG_HDRLEN)
		return NL_STOP;
	rem = (int)(h->nlmsg_len - NLMSG_HDRLEN - off);
	for (at = (struct nlattr *)((char *)e + off); nla_ok(at, rem);
	     at = nla_next(at, &rem))
		if (nla_type(at) == NLMSGERR_ATTR_MSG)
			snprintf(a->msg, a->msglen, "%s", (char *)nla_data(at));
	return NL_STOP;
}

static int on_ack(struct nl_msg *m, void *arg)
{
	struct ack *a = arg;

	(void)m;
	a->done = true;
	return NL_STOP;
}

/* Send a request and wait for its ack; errno-style result. */
static int request(struct tscf_nl *nl, struct nl_msg *msg, char *err,
		   size_t errlen, nl_recvmsg_msg_cb_t valid, void *varg)
{
	struct ack a = { .msg = err, .msglen = errlen };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc;

	if (err && errlen)
		err[0] = 0;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &a);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &a);
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, varg);
	rc = nl_send_auto(nl->sk, msg);
	/* A tunnel-attach may carry DTLS keys: leave no copy behind. */
	explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	while (rc >= 0 && !a.done)
		rc = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (rc < 0 && !a.err)
		return -EIO;
	return a.err;
}

static struct nl_msg *new_msg(struct tscf_nl *nl, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg)
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			    flags | NLM_F_ACK, cmd, TSCF_GENL_VERSION);
	return msg;
}

static void put_dtls(struct nl_msg *msg, const struct dtls_keys *k)
{
	nla_put(msg, TSCF_TUNNEL_A_DTLS_TX_KEY, (int)k->key_len, k->tx_key);
	nla_put(msg, TSCF_TUNNEL_A_DTLS_RX_KEY, (int)k->key_len, k->rx_key);
	nla_put(msg, TSCF_TUNNEL_A_DTLS_TX_SALT, 4, k->tx_salt);
	nla_put(msg, TSCF_TUNNEL_A_DTLS_RX_SALT, 4, k->rx_salt);
	nla_put_u16(msg, TSCF_TUNNEL_A_DTLS_EPOCH, k->epoch);
	nla_put_u64(msg, TSCF_TUNNEL_A_DTLS_TX_SEQ, k->tx_seq);
	nla_put_u64(msg, TSCF_TUNNEL_A_DTLS_RX_SEQ, k->rx_seq);
}

int tnl_attach(struct tscf_nl *nl, int ifindex, int fd, const struct tscf_config *cfg,
	       const struct dtls_keys *dtls, char *err, size_t errlen)
{
	struct nl_msg *msg = new_msg(nl, TSCF_CMD_TUNNEL_ATTACH, 0);
	struct nlattr *nest;

	nla_put_u32(msg, TSCF_A_IFINDEX, ifindex);
	nest = nla_nest_start(msg, TSCF_A_TUNNEL);
	nla_put_u32(msg, TSCF_TUNNEL_A_FD, fd);
	nla_put_u64(msg, TSCF_TUNNEL_A_TSID, cfg->tsid);
	if (cfg->ip4.s_addr)
		nla_put(msg, TSCF_TUNNEL_A_INTERNAL_IPV4, 4, &cfg->ip4);
	if (tscf_config_has_ip6(cfg))
		nla_put(msg, TSCF_TUNNEL_A_INTERNAL_IPV6, 16, &cfg->ip6);
	/* If this helper dies, nobody keeps the tunnel alive: let it go too. */
	nla_put_flag(msg, TSCF_TUNNEL_A_OWNED);
	if (dtls)
		put_dtls(msg, dtls);
	else if (cfg->super_frames)
		nla_put_u16(msg, TSCF_TUNNEL_A_SUPER_FRAMES, cfg->super_frames);
	nla_nest_end(msg, nest);
	return request(nl, msg, err, errlen, NULL, NULL);
}

int tnl_detach(struct tscf_nl *nl, int ifindex)
{
	struct nl_msg *msg = new_msg(nl, TSCF_CMD_TUNNEL_DETACH, 0);

	nla_put_u32(msg, TSCF_A_IFINDEX, ifindex);
	return request(nl, msg, NULL, 0, NULL, NULL);
}

int tnl_set_linger(struct tscf_nl *nl, int ifindex, uint32_t ms, char *err,
		   size_t errlen)
{
	struct nl_msg *msg = new_msg(nl, TSCF_CMD_DEV_SET, 0);

	nla_put_u32(msg, TSCF_A_IFINDEX, ifindex);
	nla_put_u32(msg, TSCF_A_ENC_LINGER_MS, ms);
	return request(nl, msg, err, errlen, NULL, NULL);
}

int tnl_ctrl_send(struct tscf_nl *nl, int ifindex, const void *frame, size_t len)
{
	struct nl_msg *msg = new_msg(nl, TSCF_CMD_CTRL_SEND, 0);

	nla_put_u32(msg, TSCF_A_IFINDEX, ifindex);
	nla_put(msg, TSCF_A_FRAME, (int)len, frame);
	return request(nl, msg, NULL, 0, NULL, NULL);
}

struct twin_arg {
	int twin;
	uint64_t tsid;
};

static int on_dev(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1], *tt[TSCF_TUNNEL_A_MAX + 1];
	struct twin_arg *a = arg;

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL))
		return NL_SKIP;
	if (tb[TSCF_A_TWIN_IFINDEX])
		a->twin = (int)nla_get_u32(tb[TSCF_A_TWIN_IFINDEX]);
	if (tb[TSCF_A_TUNNEL] &&
	    !nla_parse_nested(tt, TSCF_TUNNEL_A_MAX, tb[TSCF_A_TUNNEL], NULL) &&
	    tt[TSCF_TUNNEL_A_TSID])
		a->tsid = nla_get_u64(tt[TSCF_TUNNEL_A_TSID]);
	return NL_OK;
}

int tnl_dev_twin(struct tscf_nl *nl, int ifindex, int *twin, uint64_t *tsid)
{
	struct nl_msg *msg = new_msg(nl, TSCF_CMD_DEV_GET, 0);
	struct twin_arg a = {};
	int err;

	nla_put_u32(msg, TSCF_A_IFINDEX, ifindex);
	err = request(nl, msg, NULL, 0, on_dev, &a);
	*twin = a.twin;
	*tsid = a.tsid;
	return err;
}

struct ev_arg {
	tscf_ev_fn fn;
	void *arg;
};

static int on_event(struct nl_msg *m, void *arg)
{
	struct nlattr *tb[TSCF_A_MAX + 1];
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(m));
	struct ev_arg *ea = arg;
	struct tscf_ev ev = { .cmd = g->cmd };

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, TSCF_A_MAX, NULL))
		return NL_SKIP;
	if (tb[TSCF_A_IFINDEX])
		ev.ifindex = (int)nla_get_u32(tb[TSCF_A_IFINDEX]);
	if (tb[TSCF_A_TSID])
		ev.tsid = nla_get_u64(tb[TSCF_A_TSID]);
	if (tb[TSCF_A_EVENT])
		ev.event = nla_get_u8(tb[TSCF_A_EVENT]);
	if (tb[TSCF_A_REASON])
		ev.reason = nla_get_u8(tb[TSCF_A_REASON]);
	if (tb[TSCF_A_DEMAND])
		ev.demand = nla_get_u8(tb[TSCF_A_DEMAND]);
	if (tb[TSCF_A_FRAME]) {
		ev.frame = nla_data(tb[TSCF_A_FRAME]);
		ev.frame_len = (size_t)nla_len(tb[TSCF_A_FRAME]);
	}
	ev.sock = tb[TSCF_A_SOCK];
	ea->fn(&ev, ea->arg);
	return NL_OK;
}

static int no_seq_check(struct nl_msg *m, void *arg)
{
	(void)m;
	(void)arg;
	return NL_OK;
}

/* Read what is pending on an events socket (non-blocking). */
int tnl_events(struct tscf_nl *nl, tscf_ev_fn fn, void *arg)
{
	struct ev_arg ea = { .fn = fn, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int rc;

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &ea);
	/* Notifications carry no sequence number of ours. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	rc = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	return rc;
}
