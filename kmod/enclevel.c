// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket encryption levels (DTTE): the SO_TSCF_ENCLEVEL and
 * SO_TSCF_PATH socket options, the table of marked sockets, and the
 * per-namespace demand for an encrypted tunnel.
 *
 * No module can hook a socket's destruction, so the table holds a
 * reference on each marked socket and a collector (gc_work, every
 * TSCF_GC_MS while the table is not empty) frees the entries of sockets
 * that were closed (SOCK_DEAD).  Entries are never created for a socket
 * left unencrypted, so unmarked applications cost nothing.
 *
 * Locking and lifetime:
 * - Lookups (transmit, receive, getsockopt) run under RCU.
 * - tscf_sk_mutex serialises inserts, level changes and collection, so
 *   the per-net counters change with the table.
 * - An entry is freed after an RCU grace period; its socket reference
 *   is dropped then too.
 *
 * Demand: a namespace "wants encryption" while one of its live sockets
 * is encrypted-only or encrypted-preferred.  The first such socket sends
 * ENC_DEMAND(1) to every clear device there; when the last one goes,
 * ENC_DEMAND(0) follows after the linger time, so an application that
 * closes and reopens its socket does not cost a TLS handshake each time.
 */
#include <linux/netfilter.h>
#include <linux/rhashtable.h>
#include <linux/sockptr.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "tunnel.h"

#define TSCF_GC_MS		1000
#define TSCF_LINGER_MS		5000

static unsigned int enc_linger_ms = TSCF_LINGER_MS;
module_param(enc_linger_ms, uint, 0644);
MODULE_PARM_DESC(enc_linger_ms,
		 "default time an unused encrypted tunnel is kept, in ms");

struct tscf_net {
	struct net *net;
	unsigned int want_enc;		/* live entries wanting encryption */
	unsigned int only;		/* live encrypted-only entries */
	u32 linger_ms;
	bool demand;			/* last ENC_DEMAND sent */
	struct delayed_work linger_work;
};

static unsigned int tscf_net_id __read_mostly;
static DEFINE_MUTEX(tscf_sk_mutex);
static struct rhashtable tscf_sk_table;
static atomic_t tscf_sk_count = ATOMIC_INIT(0);
static struct delayed_work tscf_gc_work;

static const struct rhashtable_params tscf_sk_params = {
	.key_offset = offsetof(struct tscf_sk, sk),
	.key_len = sizeof(struct sock *),
	.head_offset = offsetof(struct tscf_sk, node),
	.automatic_shrinking = true,
};

static struct tscf_net *tscf_net(struct net *net)
{
	return net_generic(net, tscf_net_id);
}

/* Only these counters need the only-count outside the mutex. */
bool tscf_enclevel_has_only(struct net *net)
{
	return READ_ONCE(tscf_net(net)->only) != 0;
}

struct tscf_sk *tscf_sk_lookup(const struct sock *sk)
{
	if (!atomic_read(&tscf_sk_count))
		return NULL;
	return rhashtable_lookup(&tscf_sk_table, &sk, tscf_sk_params);
}

u8 tscf_sk_level(const struct sock *sk)
{
	struct tscf_sk *e;
	u8 level;

	rcu_read_lock();
	e = tscf_sk_lookup(sk);
	level = e ? READ_ONCE(e->level) : TSCF_ENC_UNENCRYPTED;
	rcu_read_unlock();
	return level;
}

static u8 tscf_level_path(struct net *net, u8 level)
{
	bool enc = tscf_net_enc_tunnel_up(net);

	switch (level) {
	case TSCF_ENC_ONLY:
		return enc ? TSCF_PATH_ENCRYPTED : TSCF_PATH_BLOCKED;
	case TSCF_ENC_PREFERRED:
		return enc ? TSCF_PATH_ENCRYPTED : TSCF_PATH_CLEAR;
	default:
		return TSCF_PATH_CLEAR;
	}
}

static void tscf_demand_update(struct tscf_net *tn)
{
	if (tn->want_enc) {
		cancel_delayed_work(&tn->linger_work);
		if (!tn->demand) {
			tn->demand = true;
			tscf_dev_notify_demand(tn->net, true);
		}
	} else if (tn->demand) {
		mod_delayed_work(system_wq, &tn->linger_work,
				 msecs_to_jiffies(tn->linger_ms));
	}
}

static void tscf_linger_work(struct work_struct *work)
{
	struct tscf_net *tn = container_of(to_delayed_work(work),
					   struct tscf_net, linger_work);

	mutex_lock(&tscf_sk_mutex);
	if (!tn->want_enc && tn->demand) {
		tn->demand = false;
		tscf_dev_notify_demand(tn->net, false);
	}
	mutex_unlock(&tscf_sk_mutex);
}

bool tscf_enclevel_demand(struct net *net)
{
	return READ_ONCE(tscf_net(net)->demand);
}

void tscf_enclevel_set_linger(struct net *net, u32 ms)
{
	WRITE_ONCE(tscf_net(net)->linger_ms, ms);
}

u32 tscf_enclevel_linger(struct net *net)
{
	return READ_ONCE(tscf_net(net)->linger_ms);
}

/* Counter bookkeeping for a level change of a live entry; under mutex. */
static void tscf_count_level(struct tscf_net *tn, u8 level, int delta)
{
	if (level != TSCF_ENC_UNENCRYPTED)
		tn->want_enc += delta;
	if (level == TSCF_ENC_ONLY)
		WRITE_ONCE(tn->only, tn->only + delta);
}

/* Report a socket whose path changed (or that was just marked). */
static void tscf_sk_report(struct tscf_sk *e, bool force)
{
	struct net *net = sock_net(e->sk);
	u8 path = tscf_level_path(net, e->level);
	u8 event;

	if (!force && path == e->path)
		return;
	e->path = path;
	event = path == TSCF_PATH_BLOCKED ? TSCF_EVENT_SOCK_BLOCKED :
					    TSCF_EVENT_SOCK_MOVED;
	tscf_nl_notify_sock(net, e, event);
}

/*
 * Call fn on every entry, under tscf_sk_mutex, until it returns false.
 * A resize during the walk may show an entry twice: every fn copes.
 */
static void tscf_sk_walk(bool (*fn)(struct tscf_sk *e, void *arg), void *arg)
{
	struct rhashtable_iter iter;
	struct tscf_sk *e;

	lockdep_assert_held(&tscf_sk_mutex);
	rhashtable_walk_enter(&tscf_sk_table, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter)))
		if (!IS_ERR(e) && !fn(e, arg))
			break;
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

static bool tscf_sk_rereport(struct tscf_sk *e, void *net)
{
	if (!e->dead && net_eq(sock_net(e->sk), net))
		tscf_sk_report(e, false);
	return true;
}

void tscf_enclevel_tunnels_changed(struct net *net)
{
	mutex_lock(&tscf_sk_mutex);
	tscf_sk_walk(tscf_sk_rereport, net);
	mutex_unlock(&tscf_sk_mutex);
}

static struct tscf_sk *tscf_sk_new(struct sock *sk)
{
	struct tscf_sk *e = kzalloc(sizeof(*e), GFP_KERNEL);
	int err;

	if (!e)
		return ERR_PTR(-ENOMEM);
	sock_hold(sk);
	e->sk = sk;
	e->ino = sock_i_ino(sk);
	e->cookie = atomic64_read(&sk->sk_cookie);
	spin_lock_init(&e->lock);
	err = rhashtable_insert_fast(&tscf_sk_table, &e->node, tscf_sk_params);
	if (err) {
		sock_put(sk);
		kfree(e);
		return ERR_PTR(err);
	}
	if (atomic_inc_return(&tscf_sk_count) == 1)
		mod_delayed_work(system_wq, &tscf_gc_work,
				 msecs_to_jiffies(TSCF_GC_MS));
	return e;
}

static int tscf_sk_set_level(struct sock *sk, u8 level)
{
	struct tscf_net *tn = tscf_net(sock_net(sk));
	struct tscf_sk *e;
	int err = 0;

	mutex_lock(&tscf_sk_mutex);
	e = rhashtable_lookup_fast(&tscf_sk_table, &sk, tscf_sk_params);
	if (!e && level == TSCF_ENC_UNENCRYPTED)
		goto out;	/* the default: nothing to remember */
	if (!e) {
		e = tscf_sk_new(sk);
		if (IS_ERR(e)) {
			err = PTR_ERR(e);
			goto out;
		}
	}
	if (!e->dead) {
		tscf_count_level(tn, e->level, -1);
		tscf_count_level(tn, level, 1);
	}
	WRITE_ONCE(e->level, level);
	tscf_sk_report(e, true);
	tscf_demand_update(tn);
out:
	mutex_unlock(&tscf_sk_mutex);
	return err;
}

static void tscf_sk_free_rcu(struct rcu_head *rcu)
{
	struct tscf_sk *e = container_of(rcu, struct tscf_sk, rcu);

	sock_put(e->sk);
	kfree(e);
}

/* Under mutex: unlink one entry; its memory goes after RCU. */
static void tscf_sk_remove(struct tscf_sk *e)
{
	struct tscf_net *tn = tscf_net(sock_net(e->sk));

	if (rhashtable_remove_fast(&tscf_sk_table, &e->node, tscf_sk_params))
		return;
	if (!e->dead) {
		e->dead = true;
		tscf_count_level(tn, e->level, -1);
		tscf_nl_notify_sock(sock_net(e->sk), e, TSCF_EVENT_SOCK_RELEASED);
		tscf_demand_update(tn);
	}
	atomic_dec(&tscf_sk_count);
	call_rcu(&e->rcu, tscf_sk_free_rcu);
}

static bool tscf_sk_collect(struct tscf_sk *e, void *unused)
{
	if (sock_flag(e->sk, SOCK_DEAD))
		tscf_sk_remove(e);
	return true;
}

static void tscf_gc(struct work_struct *work)
{
	mutex_lock(&tscf_sk_mutex);
	tscf_sk_walk(tscf_sk_collect, NULL);
	mutex_unlock(&tscf_sk_mutex);

	if (atomic_read(&tscf_sk_count))
		mod_delayed_work(system_wq, &tscf_gc_work,
				 msecs_to_jiffies(TSCF_GC_MS));
}

static bool tscf_sockopt_sock_ok(const struct sock *sk)
{
	return (sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP) ||
	       (sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP);
}

static int tscf_sockopt_set(struct sock *sk, int optval, sockptr_t arg,
			    unsigned int len)
{
	int level;

	if (optval != SO_TSCF_ENCLEVEL)
		return -ENOPROTOOPT;	/* SO_TSCF_PATH is read-only */
	if (!tscf_sockopt_sock_ok(sk))
		return -ENOPROTOOPT;
	if (len != sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&level, arg, sizeof(level)))
		return -EFAULT;
	if (level < TSCF_ENC_UNENCRYPTED || level > TSCF_ENC_PREFERRED)
		return -EINVAL;
	return tscf_sk_set_level(sk, level);
}

static int tscf_sockopt_get(struct sock *sk, int optval, void __user *user,
			    int *len)
{
	int val;
	u8 level;

	if (!tscf_sockopt_sock_ok(sk))
		return -ENOPROTOOPT;
	if (*len < (int)sizeof(int))
		return -EINVAL;
	level = tscf_sk_level(sk);
	val = optval == SO_TSCF_ENCLEVEL ? level :
	      tscf_level_path(sock_net(sk), level);
	if (copy_to_user(user, &val, sizeof(val)))
		return -EFAULT;
	*len = sizeof(val);
	return 0;
}

static struct nf_sockopt_ops tscf_sockopts[] = {
	{
		.pf = PF_INET,
		.set_optmin = TSCF_SOCKOPT_MIN,
		.set_optmax = TSCF_SOCKOPT_MAX,
		.set = tscf_sockopt_set,
		.get_optmin = TSCF_SOCKOPT_MIN,
		.get_optmax = TSCF_SOCKOPT_MAX,
		.get = tscf_sockopt_get,
		.owner = THIS_MODULE,
	},
	{
		.pf = PF_INET6,
		.set_optmin = TSCF_SOCKOPT_MIN,
		.set_optmax = TSCF_SOCKOPT_MAX,
		.set = tscf_sockopt_set,
		.get_optmin = TSCF_SOCKOPT_MIN,
		.get_optmax = TSCF_SOCKOPT_MAX,
		.get = tscf_sockopt_get,
		.owner = THIS_MODULE,
	},
};

/* SOCK_GET dump: the entries of the caller's netns, resumable by count. */
struct tscf_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct net *net;
	long idx, start;
};

static bool tscf_sk_dump_one(struct tscf_sk *e, void *arg)
{
	struct tscf_dump *d = arg;

	if (e->dead || !net_eq(sock_net(e->sk), d->net))
		return true;
	if (d->idx >= d->start && tscf_nl_fill_sock(d->skb, e, d->cb))
		return false;	/* message full: resume here next time */
	d->idx++;
	return true;
}

int tscf_enclevel_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tscf_dump d = {
		.skb = skb, .cb = cb, .net = sock_net(skb->sk), .start = cb->args[0],
	};

	mutex_lock(&tscf_sk_mutex);
	tscf_sk_walk(tscf_sk_dump_one, &d);
	mutex_unlock(&tscf_sk_mutex);
	cb->args[0] = d.idx;
	return skb->len;
}

static __net_init int tscf_net_init(struct net *net)
{
	struct tscf_net *tn = tscf_net(net);

	tn->net = net;
	tn->linger_ms = READ_ONCE(enc_linger_ms);
	INIT_DELAYED_WORK(&tn->linger_work, tscf_linger_work);
	return tscf_flow_net_init(net);
}

static __net_exit void tscf_net_exit(struct net *net)
{
	tscf_flow_net_exit(net);
	cancel_delayed_work_sync(&tscf_net(net)->linger_work);
}

static struct pernet_operations tscf_net_ops = {
	.init = tscf_net_init,
	.exit = tscf_net_exit,
	.id = &tscf_net_id,
	.size = sizeof(struct tscf_net),
};

int tscf_enclevel_init(void)
{
	int err;

	INIT_DELAYED_WORK(&tscf_gc_work, tscf_gc);
	err = rhashtable_init(&tscf_sk_table, &tscf_sk_params);
	if (err)
		return err;
	err = register_pernet_subsys(&tscf_net_ops);
	if (err)
		goto err_table;
	err = nf_register_sockopt(&tscf_sockopts[0]);
	if (err)
		goto err_pernet;
	err = nf_register_sockopt(&tscf_sockopts[1]);
	if (err)
		goto err_sockopt4;
	return 0;

err_sockopt4:
	nf_unregister_sockopt(&tscf_sockopts[0]);
err_pernet:
	unregister_pernet_subsys(&tscf_net_ops);
err_table:
	rhashtable_destroy(&tscf_sk_table);
	return err;
}

static void tscf_sk_free_now(void *ptr, void *arg)
{
	struct tscf_sk *e = ptr;

	sock_put(e->sk);
	kfree(e);
}

void tscf_enclevel_exit(void)
{
	nf_unregister_sockopt(&tscf_sockopts[1]);
	nf_unregister_sockopt(&tscf_sockopts[0]);
	cancel_delayed_work_sync(&tscf_gc_work);
	unregister_pernet_subsys(&tscf_net_ops);
	rcu_barrier();		/* entries already queued for freeing */
	rhashtable_free_and_destroy(&tscf_sk_table, tscf_sk_free_now, NULL);
}
