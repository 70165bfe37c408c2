// SPDX-License-Identifier: GPL-2.0
/*
 * The "tscf" generic netlink family.  Its spec, docs/netlink/tscf.yaml,
 * documents the commands and attributes; uapi/linux/tscf_genl.h and
 * netlink-gen.[ch] are generated from it.
 *
 * Every command runs under RTNL (taken here: 6.1 genl has no per-op
 * locking) except the device dump, which walks devices under RCU.  All
 * commands, reads included, need CAP_NET_ADMIN in the user namespace that
 * owns the caller's netns, which is the netns of the devices they can
 * name; so does joining any multicast group, since their messages carry
 * TSIDs, control traffic and socket details.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/netdevice.h>
#include <linux/version.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "server.h"
#include "tunnel.h"

/*
 * The policies, the ops table and the multicast group table are generated
 * from docs/netlink/tscf.yaml (make ynl).  netlink-gen.c is built into this
 * file rather than on its own because its group table is static: 6.12's
 * ynl-gen does not emit group flags, so tscf_genl_register() copies the
 * generated groups into tscf_mcgrps and requires CAP_NET_ADMIN to join any
 * of them, as the spec says (selftests/host/72-ynl-spec.sh checks that every
 * group there has uns-admin-perm).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
/*
 * ynl-gen makes the range tables const, as 6.12's struct nla_policy wants;
 * 6.1's points at them without const (and never writes through it).
 */
#undef NLA_POLICY_FULL_RANGE
#define NLA_POLICY_FULL_RANGE(tp, _range) {				\
	.type = NLA_ENSURE_UINT_OR_BINARY_TYPE(tp),		\
	.validation_type = NLA_VALIDATE_RANGE_PTR,			\
	.range = (struct netlink_range_validation *)(_range),		\
}
#endif
#include "netlink-gen.c"

static struct genl_multicast_group tscf_mcgrps[ARRAY_SIZE(tscf_nl_mcgrps)] __ro_after_init;

/*
 * Set once the family is registered, cleared before it is unregistered.
 * Events are built and sent under RCU after testing it, so that
 * unregistration (clear, synchronize_rcu()) never races a send: an event
 * from before registration or after unregistration has no listener.
 */
static bool tscf_genl_live;


/* The tscf device named by IFINDEX or IFNAME; under RTNL. */
static struct net_device *tscf_nl_dev(struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct net_device *dev = NULL;

	if (info->attrs[TSCF_A_IFINDEX])
		dev = __dev_get_by_index(net,
					 nla_get_u32(info->attrs[TSCF_A_IFINDEX]));
	else if (info->attrs[TSCF_A_IFNAME])
		dev = __dev_get_by_name(net, nla_data(info->attrs[TSCF_A_IFNAME]));
	else {
		NL_SET_ERR_MSG_MOD(info->extack, "IFINDEX or IFNAME is required");
		return ERR_PTR(-EINVAL);
	}
	if (!dev) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such device");
		return ERR_PTR(-ENODEV);
	}
	if (dev->rtnl_link_ops != &tscf_link_ops) {
		NL_SET_ERR_MSG_MOD(info->extack, "not a tscf device");
		return ERR_PTR(-EINVAL);
	}
	return dev;
}

static int tscf_nl_put_sockaddr(struct sk_buff *msg, int attr,
				struct sock *sk, bool peer)
{
	const struct inet_sock *inet = inet_sk(sk);

	if (sk->sk_family == AF_INET) {
		struct sockaddr_in sin = {
			.sin_family = AF_INET,
			.sin_port = peer ? inet->inet_dport : inet->inet_sport,
			.sin_addr.s_addr = peer ? inet->inet_daddr : inet->inet_saddr,
		};

		return nla_put(msg, attr, sizeof(sin), &sin);
	}
#if IS_ENABLED(CONFIG_IPV6)
	{
		struct sockaddr_in6 sin6 = {
			.sin6_family = AF_INET6,
			.sin6_port = peer ? inet->inet_dport : inet->inet_sport,
			.sin6_addr = peer ? sk->sk_v6_daddr : sk->sk_v6_rcv_saddr,
		};

		return nla_put(msg, attr, sizeof(sin6), &sin6);
	}
#else
	return 0;
#endif
}

static int tscf_nl_put_stats(struct sk_buff *msg, struct tscf_tunnel *t)
{
	struct nlattr *nest;
	int i;

	BUILD_BUG_ON(TSCF_CNT_MAX != TSCF_STATS_A_PAD - TSCF_STATS_A_TX_PACKETS);
	nest = nla_nest_start(msg, TSCF_TUNNEL_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < TSCF_CNT_MAX; i++)
		if (nla_put_u64_64bit(msg, TSCF_STATS_A_TX_PACKETS + i,
				      atomic64_read(&t->cnt[i]),
				      TSCF_STATS_A_PAD))
			return -EMSGSIZE;
	if (t->dtls &&
	    (nla_put_u64_64bit(msg, TSCF_STATS_A_RX_AUTH_FAILED,
			       tscf_dtls_rx_auth_failed(t->dtls), TSCF_STATS_A_PAD) ||
	     nla_put_u64_64bit(msg, TSCF_STATS_A_RX_REPLAYED,
			       tscf_dtls_rx_replayed(t->dtls), TSCF_STATS_A_PAD)))
		return -EMSGSIZE;
	if (t->super_frames &&
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_SUPER_FRAMES,
			      atomic64_read(&t->tx_super), TSCF_STATS_A_PAD))
		return -EMSGSIZE;
	if ((t->transport == TSCF_TRANSPORT_TCP ||
	     t->transport == TSCF_TRANSPORT_TLS) &&
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TXQ_BYTES,
			      tscf_stream_txq_bytes(&t->stream), TSCF_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* Under RTNL or RCU: detach waits for RCU before it releases t->sock. */
static int tscf_nl_put_tunnel(struct sk_buff *msg, struct tscf_tunnel *t)
{
	struct sock *sk = t->sock->sk;
	struct nlattr *nest;

	nest = nla_nest_start(msg, TSCF_A_TUNNEL);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(msg, TSCF_TUNNEL_A_TSID, t->tsid, TSCF_TUNNEL_A_PAD) ||
	    nla_put_u8(msg, TSCF_TUNNEL_A_TRANSPORT, t->transport) ||
	    (t->internal_ip4 &&
	     nla_put_in_addr(msg, TSCF_TUNNEL_A_INTERNAL_IPV4, t->internal_ip4)) ||
	    (!ipv6_addr_any(&t->internal_ip6) &&
	     nla_put_in6_addr(msg, TSCF_TUNNEL_A_INTERNAL_IPV6, &t->internal_ip6)) ||
	    tscf_nl_put_sockaddr(msg, TSCF_TUNNEL_A_LOCAL, sk, false) ||
	    tscf_nl_put_sockaddr(msg, TSCF_TUNNEL_A_PEER, sk, true) ||
	    (t->super_frames &&
	     nla_put_u16(msg, TSCF_TUNNEL_A_SUPER_FRAMES, t->super_frames)) ||
	    tscf_nl_put_stats(msg, t))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int tscf_nl_put_dev_stats(struct sk_buff *msg, struct net_device *dev)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct rtnl_link_stats64 st;
	struct nlattr *nest;

	dev_get_stats(dev, &st);
	nest = nla_nest_start(msg, TSCF_A_STATS);
	if (!nest ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_PACKETS, st.tx_packets, TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_BYTES, st.tx_bytes, TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_RX_PACKETS, st.rx_packets, TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_RX_BYTES, st.rx_bytes, TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_DROPPED, st.tx_dropped, TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_MALFORMED,
			      atomic64_read(&td->tx_malformed), TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_TX_BLOCKED,
			      atomic64_read(&td->tx_blocked), TSCF_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_STATS_A_RX_BLOCKED,
			      atomic64_read(&td->rx_blocked), TSCF_STATS_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int tscf_nl_fill_dev(struct sk_buff *msg, struct net_device *dev,
			    u32 portid, u32 seq, int flags)
{
	struct tscf_dev *td = netdev_priv(dev);
	struct net_device *twin;
	struct tscf_tunnel *t;
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &tscf_genl_family, flags,
			  TSCF_CMD_DEV_GET);
	if (!hdr)
		return -EMSGSIZE;

	rcu_read_lock();
	twin = rcu_dereference(td->twin);
	t = rcu_dereference(td->tunnel);
	if (nla_put_u32(msg, TSCF_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(msg, TSCF_A_IFNAME, dev->name) ||
	    nla_put_u8(msg, TSCF_A_ENCRYPTED, td->encrypted) ||
	    (twin && nla_put_u32(msg, TSCF_A_TWIN_IFINDEX, twin->ifindex)) ||
	    (!td->encrypted &&
	     (nla_put_u8(msg, TSCF_A_DEMAND, tscf_enclevel_demand(dev_net(dev))) ||
	      nla_put_u32(msg, TSCF_A_ENC_LINGER_MS,
			  tscf_enclevel_linger(dev_net(dev))) ||
	      nla_put_u64_64bit(msg, TSCF_A_TX_REFUSED,
				tscf_enclevel_refused(dev_net(dev)), TSCF_A_PAD) ||
	      nla_put_u64_64bit(msg, TSCF_A_EVENTS_SUPPRESSED,
				tscf_enclevel_events_suppressed(dev_net(dev)),
				TSCF_A_PAD))) ||
	    tscf_nl_put_dev_stats(msg, dev) ||
	    (t && tscf_nl_put_tunnel(msg, t))) {
		rcu_read_unlock();
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	rcu_read_unlock();
	genlmsg_end(msg, hdr);
	return 0;
}

int tscf_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev;
	struct sk_buff *msg;
	int err;

	msg = nlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	rtnl_lock();
	dev = tscf_nl_dev(info);
	if (IS_ERR(dev))
		err = PTR_ERR(dev);
	else
		err = tscf_nl_fill_dev(msg, dev, info->snd_portid,
				       info->snd_seq, 0);
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

int tscf_nl_dev_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct net_device *dev;
	long idx = 0, start = cb->args[0];

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (dev->rtnl_link_ops != &tscf_link_ops)
			continue;
		if (idx >= start &&
		    tscf_nl_fill_dev(skb, dev, NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
		idx++;
	}
	rcu_read_unlock();
	cb->args[0] = idx;
	return skb->len;
}

/*
 * The tunnel nest has one attribute set for dev-get's answer and for
 * attach, so the generated policy accepts its read-only members: attach
 * refuses them rather than ignore what the caller cannot set.
 */
static int tscf_nl_tunnel_refuse_ro(struct nlattr **tb,
				    struct netlink_ext_ack *extack)
{
	static const int ro[] = {
		TSCF_TUNNEL_A_TRANSPORT, TSCF_TUNNEL_A_LOCAL,
		TSCF_TUNNEL_A_PEER, TSCF_TUNNEL_A_STATS,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		if (tb[ro[i]]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[ro[i]],
					    "read-only attribute");
			return -EINVAL;
		}
	}
	return 0;
}

static const int tscf_nl_dtls_attrs[] = {
	TSCF_TUNNEL_A_DTLS_TX_KEY, TSCF_TUNNEL_A_DTLS_RX_KEY,
	TSCF_TUNNEL_A_DTLS_TX_SALT, TSCF_TUNNEL_A_DTLS_RX_SALT,
	TSCF_TUNNEL_A_DTLS_EPOCH, TSCF_TUNNEL_A_DTLS_TX_SEQ,
	TSCF_TUNNEL_A_DTLS_RX_SEQ,
};

/*
 * The DTLS keys, if any: all seven attributes or none.  Returns 1 if
 * there are keys (d filled, pointing into the request), 0 if none.
 */
static int tscf_nl_parse_dtls(struct nlattr **tb, struct tscf_dtls_cfg *d,
			      struct netlink_ext_ack *extack)
{
	const u64 seq_end = 1ULL << 48;
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(tscf_nl_dtls_attrs); i++)
		n += !!tb[tscf_nl_dtls_attrs[i]];
	if (!n)
		return 0;
	if (n != ARRAY_SIZE(tscf_nl_dtls_attrs)) {
		NL_SET_ERR_MSG_MOD(extack, "DTLS needs both keys, both salts, the epoch and both sequence numbers");
		return -EINVAL;
	}
	d->key_len = nla_len(tb[TSCF_TUNNEL_A_DTLS_TX_KEY]);
	if ((d->key_len != 16 && d->key_len != 32) ||
	    nla_len(tb[TSCF_TUNNEL_A_DTLS_RX_KEY]) != d->key_len) {
		NL_SET_ERR_MSG_MOD(extack, "DTLS keys are AES-128 or AES-256 (16 or 32 bytes), both alike");
		return -EINVAL;
	}
	d->tx_key = nla_data(tb[TSCF_TUNNEL_A_DTLS_TX_KEY]);
	d->rx_key = nla_data(tb[TSCF_TUNNEL_A_DTLS_RX_KEY]);
	d->tx_salt = nla_data(tb[TSCF_TUNNEL_A_DTLS_TX_SALT]);
	d->rx_salt = nla_data(tb[TSCF_TUNNEL_A_DTLS_RX_SALT]);
	d->epoch = nla_get_u16(tb[TSCF_TUNNEL_A_DTLS_EPOCH]);
	d->tx_seq = nla_get_u64(tb[TSCF_TUNNEL_A_DTLS_TX_SEQ]);
	d->rx_seq = nla_get_u64(tb[TSCF_TUNNEL_A_DTLS_RX_SEQ]);
	if (d->tx_seq >= seq_end || d->rx_seq > seq_end) {
		NL_SET_ERR_MSG_MOD(extack, "DTLS sequence numbers are 48 bits");
		return -EINVAL;
	}
	return 1;
}

/* The request's copy of the keys: nobody needs it after the attach. */
static void tscf_nl_wipe_dtls(struct nlattr **tb)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (tb[tscf_nl_dtls_attrs[i]])
			memzero_explicit(nla_data(tb[tscf_nl_dtls_attrs[i]]),
					 nla_len(tb[tscf_nl_dtls_attrs[i]]));
}

int tscf_nl_tunnel_attach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[TSCF_TUNNEL_A_MAX + 1];
	struct nlattr *nest = info->attrs[TSCF_A_TUNNEL];
	struct tscf_tunnel_cfg cfg = {};
	struct tscf_dtls_cfg dtls;
	struct net_device *dev;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_TUNNEL))
		return -EINVAL;
	BUILD_BUG_ON(ARRAY_SIZE(tscf_tunnel_nl_policy) != TSCF_TUNNEL_A_MAX + 1);
	err = nla_parse_nested(tb, TSCF_TUNNEL_A_MAX, nest, tscf_tunnel_nl_policy,
			       info->extack);
	if (err)
		return err;
	err = tscf_nl_tunnel_refuse_ro(tb, info->extack);
	if (!err && (NL_REQ_ATTR_CHECK(info->extack, nest, tb, TSCF_TUNNEL_A_FD) ||
		     NL_REQ_ATTR_CHECK(info->extack, nest, tb, TSCF_TUNNEL_A_TSID)))
		err = -EINVAL;
	if (!err)
		err = tscf_nl_parse_dtls(tb, &dtls, info->extack);
	if (err < 0)
		goto out;
	if (err)
		cfg.dtls = &dtls;
	cfg.fd = nla_get_u32(tb[TSCF_TUNNEL_A_FD]);
	cfg.tsid = nla_get_u64(tb[TSCF_TUNNEL_A_TSID]);
	if (tb[TSCF_TUNNEL_A_INTERNAL_IPV4])
		cfg.ip4 = nla_get_in_addr(tb[TSCF_TUNNEL_A_INTERNAL_IPV4]);
	if (tb[TSCF_TUNNEL_A_INTERNAL_IPV6])
		cfg.ip6 = nla_data(tb[TSCF_TUNNEL_A_INTERNAL_IPV6]);
	if (nla_get_flag(tb[TSCF_TUNNEL_A_OWNED]))
		cfg.owner_portid = info->snd_portid;
	if (tb[TSCF_TUNNEL_A_SUPER_FRAMES])
		cfg.super_frames = nla_get_u16(tb[TSCF_TUNNEL_A_SUPER_FRAMES]);

	rtnl_lock();
	dev = tscf_nl_dev(info);
	if (IS_ERR(dev))
		err = PTR_ERR(dev);
	else
		err = tscf_tunnel_attach(dev, &cfg, info->extack);
	rtnl_unlock();
out:
	tscf_nl_wipe_dtls(tb);
	memzero_explicit(&dtls, sizeof(dtls));
	return err;
}

int tscf_nl_tunnel_detach_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev;
	int err = 0;

	rtnl_lock();
	dev = tscf_nl_dev(info);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
	} else if (!rtnl_dereference(((struct tscf_dev *)netdev_priv(dev))->tunnel)) {
		NL_SET_ERR_MSG_MOD(info->extack, "device has no tunnel");
		err = -ENOENT;
	} else {
		tscf_tunnel_detach(dev, TSCF_DOWN_DETACHED);
	}
	rtnl_unlock();
	return err;
}

static int tscf_nl_check_ctrl(const struct nlattr *attr,
			      struct netlink_ext_ack *extack)
{
	const u8 *p = nla_data(attr);
	size_t len = nla_len(attr), flen;

	if (len < TSCF_CM_HDR_LEN || p[0] != TSCF_CM_BYTE0 ||
	    tscf_wire_frame_len(p, len, &flen) || flen != len) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "FRAME is not one well-formed control frame");
		return -EINVAL;
	}
	return 0;
}

int tscf_nl_ctrl_send_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *frame = info->attrs[TSCF_A_FRAME];
	struct net_device *dev;
	struct tscf_tunnel *t;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSCF_A_FRAME))
		return -EINVAL;
	err = tscf_nl_check_ctrl(frame, info->extack);
	if (err)
		return err;

	rtnl_lock();
	dev = tscf_nl_dev(info);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
		goto out;
	}
	t = rtnl_dereference(((struct tscf_dev *)netdev_priv(dev))->tunnel);
	if (!t) {
		NL_SET_ERR_MSG_MOD(info->extack, "device has no tunnel");
		err = -ENOTCONN;
		goto out;
	}
	err = tscf_tunnel_send_ctrl(t, nla_data(frame), nla_len(frame),
				    GFP_KERNEL);
out:
	rtnl_unlock();
	return err;
}

int tscf_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev;
	int err = 0;

	rtnl_lock();
	dev = tscf_nl_dev(info);
	if (IS_ERR(dev))
		err = PTR_ERR(dev);
	else if (info->attrs[TSCF_A_ENC_LINGER_MS])
		tscf_enclevel_set_linger(dev_net(dev),
					 nla_get_u32(info->attrs[TSCF_A_ENC_LINGER_MS]));
	rtnl_unlock();
	return err;
}

static int tscf_nl_put_sock(struct sk_buff *msg, struct tscf_sk *e)
{
	struct sock *sk = e->sk;
	struct nlattr *nest;

	nest = nla_nest_start(msg, TSCF_A_SOCK);
	if (!nest ||
	    nla_put_u64_64bit(msg, TSCF_SOCK_A_COOKIE,
			      e->cookie ?: atomic64_read(&sk->sk_cookie),
			      TSCF_SOCK_A_PAD) ||
	    nla_put_u64_64bit(msg, TSCF_SOCK_A_INODE, e->ino, TSCF_SOCK_A_PAD) ||
	    nla_put_u8(msg, TSCF_SOCK_A_LEVEL, READ_ONCE(e->level)) ||
	    nla_put_u8(msg, TSCF_SOCK_A_PATH, e->path) ||
	    nla_put_u8(msg, TSCF_SOCK_A_PROTO, sk->sk_protocol) ||
	    tscf_nl_put_sockaddr(msg, TSCF_SOCK_A_LOCAL, sk, false) ||
	    tscf_nl_put_sockaddr(msg, TSCF_SOCK_A_REMOTE, sk, true))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int tscf_nl_fill_sock(struct sk_buff *skb, struct tscf_sk *e,
		      struct netlink_callback *cb)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &tscf_genl_family, NLM_F_MULTI, TSCF_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (tscf_nl_put_sock(skb, e)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int tscf_nl_sock_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	return tscf_enclevel_dump(skb, cb);
}

struct genl_family tscf_genl_family __ro_after_init = {
	.name = TSCF_GENL_NAME,
	.version = TSCF_GENL_VERSION,
	/* The generated policy covers what requests carry, up to its size. */
	.maxattr = ARRAY_SIZE(tscf_nl_policy) - 1,
	.policy = tscf_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = tscf_nl_ops,
	.n_small_ops = ARRAY_SIZE(tscf_nl_ops),
	.resv_start_op = TSCF_CMD_DEV_GET,
	.mcgrps = tscf_mcgrps,
	.n_mcgrps = ARRAY_SIZE(tscf_mcgrps),
};

static struct sk_buff *tscf_nl_event_new(size_t payload, u8 cmd, void **hdr)
{
	struct sk_buff *msg = genlmsg_new(payload, GFP_ATOMIC);

	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &tscf_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void tscf_nl_event_send(struct net *net, struct sk_buff *msg, void *hdr,
			       int grp)
{
	genlmsg_end(msg, hdr);
	rcu_read_lock();
	/* No listener is not an error: the helper may be restarting. */
	if (READ_ONCE(tscf_genl_live))
		genlmsg_multicast_netns(&tscf_genl_family, net, msg, 0, grp,
					GFP_ATOMIC);
	else
		nlmsg_free(msg);
	rcu_read_unlock();
}

void tscf_nl_notify_ctrl(struct tscf_tunnel *t, const void *frame, size_t len)
{
	struct sk_buff *msg;
	void *hdr;

	msg = tscf_nl_event_new(nla_total_size(len) + 64, TSCF_CMD_CTRL_RECV,
				&hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TSCF_A_IFINDEX, t->dev->ifindex) ||
	    nla_put_u64_64bit(msg, TSCF_A_TSID, t->tsid, TSCF_A_PAD) ||
	    nla_put(msg, TSCF_A_FRAME, len, frame)) {
		nlmsg_free(msg);
		return;
	}
	tscf_nl_event_send(dev_net(t->dev), msg, hdr, TSCF_NLGRP_CTRL);
}

void tscf_nl_notify_tunnel(struct net_device *dev, u64 tsid, u8 event,
			   u8 reason)
{
	struct sk_buff *msg;
	void *hdr;

	msg = tscf_nl_event_new(128, TSCF_CMD_TUNNEL_EVENT, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TSCF_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(msg, TSCF_A_IFNAME, dev->name) ||
	    nla_put_u64_64bit(msg, TSCF_A_TSID, tsid, TSCF_A_PAD) ||
	    nla_put_u8(msg, TSCF_A_EVENT, event) ||
	    (reason && nla_put_u8(msg, TSCF_A_REASON, reason))) {
		nlmsg_free(msg);
		return;
	}
	tscf_nl_event_send(dev_net(dev), msg, hdr, TSCF_NLGRP_TUNNEL);
}

void tscf_nl_notify_demand(struct net_device *dev, bool demand)
{
	struct sk_buff *msg;
	void *hdr;

	msg = tscf_nl_event_new(64, TSCF_CMD_ENC_DEMAND, &hdr);
	if (!msg)
		return;
	if (nla_put_u32(msg, TSCF_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(msg, TSCF_A_IFNAME, dev->name) ||
	    nla_put_u8(msg, TSCF_A_DEMAND, demand)) {
		nlmsg_free(msg);
		return;
	}
	tscf_nl_event_send(dev_net(dev), msg, hdr, TSCF_NLGRP_TUNNEL);
}

void tscf_nl_notify_sock(struct net *net, struct tscf_sk *e, u8 event)
{
	struct sk_buff *msg;
	void *hdr;

	msg = tscf_nl_event_new(256, TSCF_CMD_SOCK_EVENT, &hdr);
	if (!msg)
		return;
	if (nla_put_u8(msg, TSCF_A_EVENT, event) || tscf_nl_put_sock(msg, e)) {
		nlmsg_free(msg);
		return;
	}
	tscf_nl_event_send(net, msg, hdr, TSCF_NLGRP_SOCK);
}

/* A helper's netlink socket closed: the tunnels it owned go with it. */
static int tscf_nl_urelease(struct notifier_block *nb, unsigned long state,
			    void *ptr)
{
	struct netlink_notify *n = ptr;

	if (state == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid) {
		tscf_tunnel_owner_gone(n->net, n->portid);
		tscf_srv_owner_gone(n->net, n->portid);
	}
	return NOTIFY_DONE;
}

static struct notifier_block tscf_nl_notifier = {
	.notifier_call = tscf_nl_urelease,
};

int tscf_genl_register(void)
{
	int err, i;

	for (i = 0; i < ARRAY_SIZE(tscf_mcgrps); i++) {
		tscf_mcgrps[i] = tscf_nl_mcgrps[i];
		tscf_mcgrps[i].flags = GENL_MCAST_CAP_NET_ADMIN;
	}
	err = genl_register_family(&tscf_genl_family);

	if (err)
		return err;
	err = netlink_register_notifier(&tscf_nl_notifier);
	if (err) {
		genl_unregister_family(&tscf_genl_family);
		return err;
	}
	WRITE_ONCE(tscf_genl_live, true);
	return 0;
}

void tscf_genl_unregister(void)
{
	WRITE_ONCE(tscf_genl_live, false);
	synchronize_rcu();	/* events already past the test are sent */
	netlink_unregister_notifier(&tscf_nl_notifier);
	genl_unregister_family(&tscf_genl_family);
}
