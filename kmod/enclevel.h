/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TSCF_ENCLEVEL_H
#define _TSCF_ENCLEVEL_H

#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <net/sock.h>

struct tscf_tunnel;

/*
 * Not a level a user can set: what steering must assume for a packet it
 * cannot tie to a socket (no socket, a kernel or time-wait socket, a
 * non-first fragment).  See flow.c.
 */
#define TSCF_ENC_UNKNOWN	0xff

/*
 * What the flow binding of a marked socket was last announced as, so a
 * FLOW_BIND goes to the server once per change, ahead of the data.
 */
struct tscf_flow_note {
	u64 tsid;		/* tunnel it was announced on, 0: never */
	u32 tuple_hash;
	u32 seq;		/* of that FLOW_BIND_REQ (tunnel's bind_seq) */
	u8 level;
};

/* One application socket whose encryption level was set or inherited. */
struct tscf_sk {
	struct rhash_head node;
	struct sock *sk;	/* key; holds a reference until collected */
	struct rcu_head rcu;
	unsigned long ino;
	u64 cookie;
	u8 level;		/* enum tscf_enc_level, READ_ONCE */
	u8 path;		/* enum tscf_sock_path last reported */
	bool dead;		/* unlinked, counters already dropped */
	bool listener;		/* was seen listening: children inherit */
	__be16 listen_port;
	spinlock_t lock;	/* note */
	struct tscf_flow_note note;
};

int tscf_enclevel_init(void);
void tscf_enclevel_exit(void);

/*
 * Under RCU: the socket's entry, or NULL when it is not marked.  A TCP
 * socket accepted from a marked listener is given its parent's level on
 * the first lookup (GFP_ATOMIC), so it is never seen as unmarked.
 */
struct tscf_sk *tscf_sk_lookup(struct sock *sk);
u8 tscf_sk_level(struct sock *sk);

/* Encrypted tunnels came or went in net: re-evaluate every socket there. */
void tscf_enclevel_tunnels_changed(struct net *net);
/* Does any live socket in net want encryption? */
bool tscf_enclevel_demand(struct net *net);
/* Does net hold an encrypted-only socket (or one not yet collected)? */
bool tscf_enclevel_has_only(struct net *net);
/* Was any socket of net ever marked?  Then every receive is checked. */
bool tscf_enclevel_marked_ever(struct net *net);
/* Count a packet of an encrypted-only socket refused on a foreign route. */
void tscf_enclevel_count_refused(struct net *net);
u64 tscf_enclevel_refused(struct net *net);
u64 tscf_enclevel_events_suppressed(struct net *net);
void tscf_enclevel_set_linger(struct net *net, u32 ms);
u32 tscf_enclevel_linger(struct net *net);
int tscf_enclevel_dump(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _TSCF_ENCLEVEL_H */
