// SPDX-License-Identifier: GPL-2.0
/*
 * Per-socket encryption levels (DTTE): the SO_TSCF_ENCLEVEL and
 * SO_TSCF_PATH socket options, the per-namespace table of marked
 * sockets, and the per-namespace demand for an encrypted tunnel.
 *
 * Lifetime of a mark (the fail-closed rule, docs/DESIGN.md "Security
 * model"): a socket's mark must outlive its last packet, because a
 * lookup miss means "unmarked" and an unmarked packet may take the clear
 * tunnel.  close() is not that moment: TCP goes on sending and
 * retransmitting its write queue after the socket is SOCK_DEAD, and a
 * datagram can sit in a qdisc.  So each entry holds a reference on its
 * socket, and the collector (gc_work, every TSCF_GC_MS while the table is
 * not empty) frees an entry only once the socket is orphaned (SOCK_DEAD),
 * has no packet in flight anywhere (sk_wmem_alloc back to its base of 1:
 * every skb it ever sent was freed) and, for TCP, is in TCP_CLOSE (its
 * write queue is purged and it will never send again; what a time-wait
 * socket still answers carries no sk of ours and is steered as unknown,
 * see flow.c, so the entry also waits until no time-wait socket is
 * left for its tuple).  We do not replace sk_destruct: sk_clone_lock() copies it
 * into every accepted child, which we cannot hook, so a child could run
 * our code after the module is gone.
 *
 * Children: sockets accepted from a marked listener are not in the table
 * (it is keyed by socket pointer).  The first lookup of an unmarked TCP
 * socket while its namespace has a marked listener looks up the listener
 * of its local address and port and, if that one is marked, enters the
 * child with the parent's level (tscf_sk_inherit).  When a marked
 * listener is collected, the established sockets of its port are
 * adopted first, so a child accepted just before its listener closed
 * still inherits.
 *
 * Unload: every entry holds a module reference, so "rmmod tscf" fails
 * (in use) while any socket is marked; otherwise those sockets would
 * send in the clear once the module is gone.
 *
 * Locking and lifetime, all per namespace (struct tscf_net):
 * - Lookups (transmit, receive, getsockopt) run under rcu_read_lock().
 * - tn->mutex serialises level changes, walks, reports and collection.
 *   Children are inserted from the data path without it; the counters
 *   are atomics and the demand is re-evaluated from demand_work.
 * - An entry is freed after an RCU grace period; its socket reference
 *   and module reference are dropped then too.
 *
 * Events: a SOCK event is sent only when a socket's level or path
 * changes, and at most TSCF_EVENT_BURST per second per namespace; the
 * rest are counted (events_suppressed), so a process looping on
 * setsockopt cannot flood the helper.
 *
 * Demand: a namespace "wants encryption" while one of its sockets is
 * encrypted-only or encrypted-preferred.  The first such socket sends
 * ENC_DEMAND(1) to every clear device there; when the last one goes,
 * ENC_DEMAND(0) follows after the linger time, so an application that
 * closes and reopens its socket does not cost a TLS handshake each time.
 */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/ratelimit.h>
#include <linux/rhashtable.h>
#include <linux/sockptr.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "device.h"
#include "enclevel.h"
#include "netlink.h"
#include "tunnel.h"

#define TSCF_GC_MS		1000
#define TSCF_LINGER_MS		5000
#define TSCF_EVENT_BURST	32	/* SOCK events per second per netns */

static unsigned int enc_linger_ms = TSCF_LINGER_MS;
module_param(enc_linger_ms, uint, 0644);
MODULE_PARM_DESC(enc_linger_ms,
		 "default time an unused encrypted tunnel is kept, in ms");

struct tscf_net {
	struct net *net;
	struct rhashtable table;
	struct mutex mutex;		/* see the header comment */
	atomic_t count;			/* entries in table */
	atomic_t want_enc;		/* live entries wanting encryption */
	atomic_t only;			/* live encrypted-only entries */
	atomic_t listeners;		/* live entries seen listening */
	bool marked_ever;
	bool demand;			/* last ENC_DEMAND sent */
	u32 linger_ms;
	atomic64_t refused;		/* sends refused on a foreign route */
	atomic64_t suppressed;		/* SOCK events over the rate */
	struct ratelimit_state event_rs;
	struct delayed_work gc_work;
	struct delayed_work linger_work;
	struct work_struct demand_work;
};

static unsigned int tscf_net_id __read_mostly;

static const struct rhashtable_params tscf_sk_params = {
	.key_offset = offsetof(struct tscf_sk, sk),
	.key_len = sizeof(struct sock *),
	.head_offset = offsetof(struct tscf_sk, node),
	.automatic_shrinking = true,
};

static struct tscf_net *tscf_net(const struct net *net)
{
	return net_generic(net, tscf_net_id);
}

bool tscf_enclevel_has_only(struct net *net)
{
	return atomic_read(&tscf_net(net)->only) != 0;
}

bool tscf_enclevel_marked_ever(struct net *net)
{
	return READ_ONCE(tscf_net(net)->marked_ever);
}

void tscf_enclevel_count_refused(struct net *net)
{
	atomic64_inc(&tscf_net(net)->refused);
}

u64 tscf_enclevel_refused(struct net *net)
{
	return atomic64_read(&tscf_net(net)->refused);
}

u64 tscf_enclevel_events_suppressed(struct net *net)
{
	return atomic64_read(&tscf_net(net)->suppressed);
}

/* Counter bookkeeping for a level change of a live entry. */
static void tscf_count_level(struct tscf_net *tn, u8 level, int delta)
{
	if (level != TSCF_ENC_UNENCRYPTED)
		atomic_add(delta, &tn->want_enc);
	if (level == TSCF_ENC_ONLY)
		atomic_add(delta, &tn->only);
}

static void tscf_sk_mark_listener(struct tscf_net *tn, struct tscf_sk *e)
{
	struct sock *sk = e->sk;

	if (READ_ONCE(e->listener) || sk->sk_protocol != IPPROTO_TCP ||
	    READ_ONCE(sk->sk_state) != TCP_LISTEN)
		return;
	spin_lock_bh(&e->lock);
	if (!e->listener && !e->dead) {
		e->listen_port = inet_sk(sk)->inet_sport;
		WRITE_ONCE(e->listener, true);
		atomic_inc(&tn->listeners);
	}
	spin_unlock_bh(&e->lock);
}

static struct tscf_sk *tscf_sk_alloc(struct sock *sk, u8 level, gfp_t gfp)
{
	struct tscf_sk *e = kzalloc(sizeof(*e), gfp);

	if (!e)
		return NULL;
	e->sk = sk;
	e->level = level;
	/*
	 * sock_i_ino() takes sk_callback_lock, which the data path may
	 * already hold for this socket: children get theirs from the
	 * collector.
	 */
	if (gfpflags_allow_blocking(gfp))
		e->ino = sock_i_ino(sk);
	e->cookie = atomic64_read(&sk->sk_cookie);
	spin_lock_init(&e->lock);
	return e;
}

/*
 * Link a new entry; holds the socket and the module until it is freed.
 * Returns the entry in the table (another one if a racing insert won).
 */
static struct tscf_sk *tscf_sk_insert(struct tscf_net *tn, struct tscf_sk *e)
{
	struct tscf_sk *old;

	sock_hold(e->sk);
	__module_get(THIS_MODULE);
	old = rhashtable_lookup_get_insert_fast(&tn->table, &e->node,
						tscf_sk_params);
	if (old) {
		module_put(THIS_MODULE);
		sock_put(e->sk);
		kfree(e);
		return IS_ERR(old) ? NULL : old;
	}
	tscf_count_level(tn, e->level, 1);
	WRITE_ONCE(tn->marked_ever, true);
	if (atomic_inc_return(&tn->count) == 1)
		mod_delayed_work(system_wq, &tn->gc_work,
				 msecs_to_jiffies(TSCF_GC_MS));
	return e;
}

/* The marked listener of a TCP socket's local address and port. */
static struct tscf_sk *tscf_sk_parent(struct tscf_net *tn, struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct sock *lsk = NULL;

	if (sk->sk_family == AF_INET)
		lsk = __inet_lookup_listener(net, hinfo, NULL, 0, sk->sk_daddr,
					     sk->sk_dport, sk->sk_rcv_saddr,
					     sk->sk_num, sk->sk_bound_dev_if, 0);
#if IS_ENABLED(CONFIG_IPV6)
	else if (sk->sk_family == AF_INET6)
		lsk = inet6_lookup_listener(net, hinfo, NULL, 0, &sk->sk_v6_daddr,
					    sk->sk_dport, &sk->sk_v6_rcv_saddr,
					    sk->sk_num, sk->sk_bound_dev_if, 0);
#endif
	if (IS_ERR_OR_NULL(lsk))
		return NULL;
	/* Pointer compare only: an entry pins its socket, so a hit is it. */
	return rhashtable_lookup(&tn->table, &lsk, tscf_sk_params);
}

/*
 * An unmarked TCP socket of a namespace with marked listeners: if it was
 * accepted from one, it gets the parent's level now.  If the entry cannot
 * be allocated, the parent's entry answers (right level, shared note).
 */
static struct tscf_sk *tscf_sk_inherit(struct tscf_net *tn, struct sock *sk)
{
	struct tscf_sk *pe, *e;
	int state = READ_ONCE(sk->sk_state);
	u8 level;

	if (!atomic_read(&tn->listeners) || sk->sk_protocol != IPPROTO_TCP ||
	    sk->sk_kern_sock || state == TCP_LISTEN || state == TCP_CLOSE)
		return NULL;
	pe = tscf_sk_parent(tn, sk);
	if (!pe || pe->sk == sk)
		return NULL;
	level = READ_ONCE(pe->level);
	if (level == TSCF_ENC_UNENCRYPTED)
		return NULL;
	e = tscf_sk_alloc(sk, level, GFP_ATOMIC);
	if (e)
		e = tscf_sk_insert(tn, e);
	if (!e)
		return pe;
	schedule_work(&tn->demand_work);
	return e;
}

struct tscf_sk *tscf_sk_lookup(struct sock *sk)
{
	struct tscf_net *tn = tscf_net(sock_net(sk));
	struct tscf_sk *e;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "tscf_sk_lookup without rcu_read_lock");
	if (!atomic_read(&tn->count))
		return NULL;
	e = rhashtable_lookup(&tn->table, &sk, tscf_sk_params);
	if (e) {
		tscf_sk_mark_listener(tn, e);
		return e;
	}
	return tscf_sk_inherit(tn, sk);
}

u8 tscf_sk_level(struct sock *sk)
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

/* Under tn->mutex. */
static void tscf_demand_update(struct tscf_net *tn)
{
	lockdep_assert_held(&tn->mutex);
	if (atomic_read(&tn->want_enc)) {
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

static void tscf_demand_work(struct work_struct *work)
{
	struct tscf_net *tn = container_of(work, struct tscf_net, demand_work);

	mutex_lock(&tn->mutex);
	tscf_demand_update(tn);
	mutex_unlock(&tn->mutex);
}

static void tscf_linger_work(struct work_struct *work)
{
	struct tscf_net *tn = container_of(to_delayed_work(work),
					   struct tscf_net, linger_work);

	mutex_lock(&tn->mutex);
	if (!atomic_read(&tn->want_enc) && tn->demand) {
		tn->demand = false;
		tscf_dev_notify_demand(tn->net, false);
	}
	mutex_unlock(&tn->mutex);
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

/* A SOCK event, within the namespace's rate; under tn->mutex. */
static void tscf_sk_notify(struct tscf_net *tn, struct tscf_sk *e, u8 event)
{
	if (!__ratelimit(&tn->event_rs)) {
		atomic64_inc(&tn->suppressed);
		return;
	}
	tscf_nl_notify_sock(tn->net, e, event);
}

/* Report a socket whose path changed (or whose level just changed). */
static void tscf_sk_report(struct tscf_net *tn, struct tscf_sk *e, bool force)
{
	u8 path = tscf_level_path(tn->net, e->level);

	if (!force && path == e->path)
		return;
	e->path = path;
	tscf_sk_notify(tn, e, path == TSCF_PATH_BLOCKED ?
			      TSCF_EVENT_SOCK_BLOCKED : TSCF_EVENT_SOCK_MOVED);
}

/*
 * Call fn on every entry of tn, under tn->mutex, until it returns false.
 * A resize during the walk may show an entry twice: every fn copes.
 */
static void tscf_sk_walk(struct tscf_net *tn,
			 bool (*fn)(struct tscf_net *tn, struct tscf_sk *e, void *arg),
			 void *arg)
{
	struct rhashtable_iter iter;
	struct tscf_sk *e;

	lockdep_assert_held(&tn->mutex);
	rhashtable_walk_enter(&tn->table, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter)))
		if (!IS_ERR(e) && !fn(tn, e, arg))
			break;
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

static bool tscf_sk_rereport(struct tscf_net *tn, struct tscf_sk *e, void *unused)
{
	if (!e->dead)
		tscf_sk_report(tn, e, false);
	return true;
}

void tscf_enclevel_tunnels_changed(struct net *net)
{
	struct tscf_net *tn = tscf_net(net);

	mutex_lock(&tn->mutex);
	tscf_sk_walk(tn, tscf_sk_rereport, NULL);
	mutex_unlock(&tn->mutex);
}

static int tscf_sk_set_level(struct sock *sk, u8 level)
{
	struct tscf_net *tn = tscf_net(sock_net(sk));
	struct tscf_sk *e;
	int err = 0;

	mutex_lock(&tn->mutex);
	rcu_read_lock();
	e = tscf_sk_lookup(sk);		/* a child gets its parent's level */
	rcu_read_unlock();
	if (e && e->sk != sk)
		e = NULL;		/* parent's entry: the child needs its own */
	if (!e && level == TSCF_ENC_UNENCRYPTED)
		goto out;	/* the default: nothing to remember */
	if (!e) {
		e = tscf_sk_alloc(sk, level, GFP_KERNEL);
		e = e ? tscf_sk_insert(tn, e) : NULL;
		if (!e) {
			err = -ENOMEM;
			goto out;
		}
		tscf_sk_mark_listener(tn, e);
		tscf_sk_report(tn, e, true);
	} else if (e->level != level && !e->dead) {
		tscf_count_level(tn, e->level, -1);
		tscf_count_level(tn, level, 1);
		WRITE_ONCE(e->level, level);
		tscf_sk_report(tn, e, true);
	}
	/* Same level again: nothing changed, nothing to tell anyone. */
	tscf_demand_update(tn);
out:
	mutex_unlock(&tn->mutex);
	return err;
}

static void tscf_sk_free_rcu(struct rcu_head *rcu)
{
	struct tscf_sk *e = container_of(rcu, struct tscf_sk, rcu);

	sock_put(e->sk);
	kfree(e);
	module_put(THIS_MODULE);	/* rmmod waits for us in rcu_barrier() */
}

/* Under tn->mutex: unlink one entry; its memory goes after RCU. */
static void tscf_sk_remove(struct tscf_net *tn, struct tscf_sk *e)
{
	if (rhashtable_remove_fast(&tn->table, &e->node, tscf_sk_params))
		return;
	spin_lock_bh(&e->lock);
	e->dead = true;
	if (e->listener)
		atomic_dec(&tn->listeners);
	spin_unlock_bh(&e->lock);
	tscf_count_level(tn, e->level, -1);
	tscf_sk_notify(tn, e, TSCF_EVENT_SOCK_RELEASED);
	tscf_demand_update(tn);
	atomic_dec(&tn->count);
	call_rcu(&e->rcu, tscf_sk_free_rcu);
}

/* Does a time-wait socket still answer for this closed TCP socket? */
static bool tscf_sk_in_timewait(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	/* inet_num is zeroed when the closed socket gives its port back. */
	u16 port = ntohs(inet_sk(sk)->inet_sport);
	struct sock *found = NULL;
	bool tw;

	if (!port)
		return false;
	rcu_read_lock();
	if (sk->sk_family == AF_INET)
		found = __inet_lookup_established(net, hinfo, sk->sk_daddr,
						  sk->sk_dport, sk->sk_rcv_saddr,
						  port, sk->sk_bound_dev_if, 0);
#if IS_ENABLED(CONFIG_IPV6)
	else if (sk->sk_family == AF_INET6)
		found = __inet6_lookup_established(net, hinfo, &sk->sk_v6_daddr,
						   sk->sk_dport, &sk->sk_v6_rcv_saddr,
						   port, sk->sk_bound_dev_if, 0);
#endif
	rcu_read_unlock();
	if (!found)
		return false;
	tw = found->sk_state == TCP_TIME_WAIT;
	sock_gen_put(found);
	return tw;
}

/*
 * Has the socket sent its last packet?  Closed by its owner, nothing of
 * it in flight (every skb it charged is freed) and, for TCP, nothing
 * left to send or retransmit, and no time-wait socket left answering for
 * its tuple (those answers are steered as UNKNOWN, which stays fail-closed
 * only while the namespace counts this socket as encrypted-only).
 */
static bool tscf_sk_finished(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD))
		return false;
	if (refcount_read(&sk->sk_wmem_alloc) > 1)
		return false;
	if (sk->sk_protocol != IPPROTO_TCP)
		return true;
	return READ_ONCE(sk->sk_state) == TCP_CLOSE && !tscf_sk_in_timewait(sk);
}

/* Give a closing listener's established children their own entries. */
static void tscf_sk_adopt_port(struct tscf_net *tn, struct tscf_sk *pe)
{
	struct inet_hashinfo *hinfo = tn->net->ipv4.tcp_death_row.hashinfo;
	struct hlist_nulls_node *node;
	struct tscf_sk *e;
	struct sock *sk;
	unsigned int i;

	for (i = 0; i <= hinfo->ehash_mask; i++) {
		struct inet_ehash_bucket *head = &hinfo->ehash[i];

		if (hlist_nulls_empty(&head->chain))
			continue;
		spin_lock_bh(inet_ehash_lockp(hinfo, i));
		sk_nulls_for_each(sk, node, &head->chain) {
			if (!sk_fullsock(sk) || sk->sk_state == TCP_LISTEN ||
			    !net_eq(sock_net(sk), tn->net) ||
			    inet_sk(sk)->inet_sport != pe->listen_port ||
			    rhashtable_lookup_fast(&tn->table, &sk, tscf_sk_params))
				continue;
			e = tscf_sk_alloc(sk, pe->level, GFP_ATOMIC);
			if (e)
				tscf_sk_insert(tn, e);
		}
		spin_unlock_bh(inet_ehash_lockp(hinfo, i));
	}
}

static bool tscf_sk_collect(struct tscf_net *tn, struct tscf_sk *e, void *unused)
{
	if (!e->dead) {
		tscf_sk_mark_listener(tn, e);
		if (!e->ino)
			e->ino = sock_i_ino(e->sk);
	}
	if (e->dead || !tscf_sk_finished(e->sk))
		return true;
	if (e->listener && e->level != TSCF_ENC_UNENCRYPTED)
		tscf_sk_adopt_port(tn, e);
	tscf_sk_remove(tn, e);
	return true;
}

static void tscf_gc(struct work_struct *work)
{
	struct tscf_net *tn = container_of(to_delayed_work(work),
					   struct tscf_net, gc_work);

	mutex_lock(&tn->mutex);
	tscf_sk_walk(tn, tscf_sk_collect, NULL);
	mutex_unlock(&tn->mutex);

	if (atomic_read(&tn->count))
		mod_delayed_work(system_wq, &tn->gc_work,
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
	long idx, start;
};

static bool tscf_sk_dump_one(struct tscf_net *tn, struct tscf_sk *e, void *arg)
{
	struct tscf_dump *d = arg;

	if (e->dead)
		return true;
	if (d->idx >= d->start && tscf_nl_fill_sock(d->skb, e, d->cb))
		return false;	/* message full: resume here next time */
	d->idx++;
	return true;
}

int tscf_enclevel_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tscf_net *tn = tscf_net(sock_net(skb->sk));
	struct tscf_dump d = { .skb = skb, .cb = cb, .start = cb->args[0] };

	mutex_lock(&tn->mutex);
	tscf_sk_walk(tn, tscf_sk_dump_one, &d);
	mutex_unlock(&tn->mutex);
	cb->args[0] = d.idx;
	return skb->len;
}

static __net_init int tscf_net_init(struct net *net)
{
	struct tscf_net *tn = tscf_net(net);
	int err;

	tn->net = net;
	tn->linger_ms = READ_ONCE(enc_linger_ms);
	mutex_init(&tn->mutex);
	ratelimit_state_init(&tn->event_rs, HZ, TSCF_EVENT_BURST);
	ratelimit_set_flags(&tn->event_rs, RATELIMIT_MSG_ON_RELEASE);
	INIT_DELAYED_WORK(&tn->gc_work, tscf_gc);
	INIT_DELAYED_WORK(&tn->linger_work, tscf_linger_work);
	INIT_WORK(&tn->demand_work, tscf_demand_work);
	err = rhashtable_init(&tn->table, &tscf_sk_params);
	if (err)
		return err;
	err = tscf_flow_net_init(net);
	if (err)
		rhashtable_destroy(&tn->table);
	return err;
}

/* Entries left at netns exit (only sockets that do not pin their netns). */
static void tscf_sk_free_now(void *ptr, void *arg)
{
	struct tscf_sk *e = ptr;

	sock_put(e->sk);
	kfree(e);
	module_put(THIS_MODULE);
}

static __net_exit void tscf_net_exit(struct net *net)
{
	struct tscf_net *tn = tscf_net(net);

	tscf_flow_net_exit(net);
	cancel_delayed_work_sync(&tn->gc_work);
	cancel_delayed_work_sync(&tn->linger_work);
	cancel_work_sync(&tn->demand_work);
	rhashtable_free_and_destroy(&tn->table, tscf_sk_free_now, NULL);
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

	err = register_pernet_subsys(&tscf_net_ops);
	if (err)
		return err;
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
	return err;
}

void tscf_enclevel_exit(void)
{
	nf_unregister_sockopt(&tscf_sockopts[1]);
	nf_unregister_sockopt(&tscf_sockopts[0]);
	unregister_pernet_subsys(&tscf_net_ops);
	rcu_barrier();		/* entries already queued for freeing */
}
