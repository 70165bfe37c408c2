// SPDX-License-Identifier: GPL-2.0
/*
 * Flows: the bindings FLOW_BIND makes in a session, and the choice of
 * tunnel for each inner packet, in both directions (docs/PROTOCOL.md).
 *
 * The promise is that an encrypted-only flow never crosses the clear
 * tunnel, so the classification fails closed: a packet whose flow cannot
 * be read (a non-first fragment whose first fragment was not seen, an
 * IPv6 header chain that cannot be walked, an ICMP error whose quote
 * cannot be read) is treated, in a session with any encrypted-only
 * binding, as encrypted-only.  Non-first fragments take the level of
 * their first fragment; ICMP errors the level of the datagram they quote.
 *
 * Bindings live in a per-session hash table that grows with them; only
 * the encrypted tunnel may lower a level it set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <linux/tscf.h>

#include "siphash.h"
#include "tscfd.h"

#define FLOW_BUCKETS_MIN	2	/* most sessions bind one or two flows */
#define FLOW_BUCKETS_MAX	1024
#define FRAG_SLOTS		64	/* first fragments remembered per session */
#define FRAG_SECS		10	/* how long a first fragment is remembered */
#define IP6_MAX_EXT		8	/* longer extension header chains: unknown */

/*
 * A binding: 42 bytes, kept in an array that grows with the bindings
 * (a session at its 1,024 costs about 45 KiB; one with a binding about
 * 180 bytes: the table, 2 buckets and 2 slots), chained into buckets by
 * index.  Nothing is allocated before the first binding.
 */
struct flow {
	uint16_t next;			/* index + 1 of the next in the chain */
	uint8_t proto, level, family;
	bool by_enc;			/* set over the encrypted tunnel */
	uint16_t lport, rport;		/* rport 0: any remote */
	uint8_t local[16], remote[16];	/* remote zero when rport is 0 */
};

/* The first fragment of a datagram, for the fragments that follow it. */
struct frag {
	struct tscf_addr src, dst;
	uint32_t id;
	uint8_t proto, level;
	time_t until;			/* monotonic; 0: free */
};

struct tscfd_flowtab {
	unsigned int n, cap, nbuckets;
	unsigned int at_level[3];	/* bindings per level */
	struct flow *slots;		/* n used of cap */
	uint16_t *buckets;		/* index + 1 of the first; 0: empty */
	struct frag *frags;		/* FRAG_SLOTS, on the first fragment */
};

/* What one inner packet says about its flow. */
struct pkt {
	struct tscf_addr src, dst;
	uint8_t proto;
	bool frag, first;		/* a fragment; the first one */
	uint8_t frag_proto;		/* IPv4 protocol, IPv6 fragment next header */
	uint32_t frag_id;
	const uint8_t *l4;		/* NULL: this packet has no L4 header */
	size_t l4len;
};

enum { CLASS_FLOW, CLASS_UNKNOWN };

/* --- keyed hash ------------------------------------------------------ */

static struct siphash_key hash_key;

/*
 * A keyed SipHash-2-4, so that a client cannot choose flows that all fall
 * in one bucket: the key is drawn once from getrandom, as for the server's
 * other tables; without it tscfd stops rather than hash with a known key.
 */
uint64_t tscfd_flow_hash(const void *p, size_t n)
{
	static bool keyed;

	if (!keyed) {
		if (getrandom(&hash_key, sizeof(hash_key), 0) != sizeof(hash_key)) {
			tscfd_log("getrandom failed: cannot key the flow tables");
			abort();
		}
		keyed = true;
	}
	return siphash24(&hash_key, p, n);
}

/* --- bindings -------------------------------------------------------- */

static bool addr_any(const struct tscf_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->family == 4 ? (const void *)&a->v4 : (const void *)&a->v6,
		       zero, a->family == 4 ? 4 : 16);
}

/* Encrypted-only protects most, preferred less, unencrypted not at all. */
static int level_rank(uint8_t level)
{
	return level == TSCF_ENC_ONLY ? 2 : level == TSCF_ENC_PREFERRED ? 1 : 0;
}

static void addr_bytes(uint8_t *out, const struct tscf_addr *a)
{
	memset(out, 0, 16);
	if (a->family == 4)
		memcpy(out, &a->v4, 4);
	else if (a->family == 6)
		memcpy(out, &a->v6, 16);
}

static void flow_set_addrs(struct flow *f, const struct tscf_addr *local,
			   const struct tscf_addr *remote)
{
	f->family = local->family;
	addr_bytes(f->local, local);
	if (f->rport)
		addr_bytes(f->remote, remote);
	else
		memset(f->remote, 0, sizeof(f->remote));
}

static unsigned int flow_bucket(const struct tscfd_flowtab *tab,
				const struct flow *k)
{
	uint8_t key[38];

	key[0] = k->proto;
	key[1] = k->family;
	memcpy(key + 2, &k->lport, 2);
	memcpy(key + 4, &k->rport, 2);
	memcpy(key + 6, k->local, 16);
	memcpy(key + 22, k->remote, 16);
	return tscfd_flow_hash(key, sizeof(key)) & (tab->nbuckets - 1);
}

static bool flow_same(const struct flow *a, const struct flow *b)
{
	return a->proto == b->proto && a->family == b->family &&
	       a->lport == b->lport && a->rport == b->rport &&
	       !memcmp(a->local, b->local, 16) && !memcmp(a->remote, b->remote, 16);
}

/* The binding of exactly this key (wildcard remote if k->rport is 0). */
static struct flow *flow_find(const struct tscfd_flowtab *tab,
			      const struct flow *k)
{
	unsigned int i = tab->buckets[flow_bucket(tab, k)];

	for (; i; i = tab->slots[i - 1].next)
		if (flow_same(&tab->slots[i - 1], k))
			return &tab->slots[i - 1];
	return NULL;
}

/* The binding a packet of flow k follows: its own, else its socket's. */
static struct flow *flow_match(const struct tscfd_flowtab *tab,
			       const struct flow *k)
{
	struct flow w = *k, *f = NULL;

	if (k->rport)
		f = flow_find(tab, k);
	if (!f) {
		w.rport = 0;
		memset(w.remote, 0, sizeof(w.remote));
		f = flow_find(tab, &w);
	}
	return f;
}

/* The link that points at slot i (index + 1) in its chain. */
static uint16_t *flow_link(struct tscfd_flowtab *tab, unsigned int i)
{
	uint16_t *pp = &tab->buckets[flow_bucket(tab, &tab->slots[i])];

	while (*pp != i + 1)
		pp = &tab->slots[*pp - 1].next;
	return pp;
}

/* Unlinks f; the last slot moves into its place. */
static void flow_remove(struct tscfd_flowtab *tab, struct flow *f)
{
	unsigned int i = (unsigned int)(f - tab->slots), last = tab->n - 1;

	*flow_link(tab, i) = f->next;
	tab->at_level[f->level]--;
	if (i != last) {
		*flow_link(tab, last) = (uint16_t)(i + 1);
		tab->slots[i] = tab->slots[last];
	}
	tab->n--;
}

static void flow_rehash(struct tscfd_flowtab *tab)
{
	unsigned int i, h;

	memset(tab->buckets, 0, tab->nbuckets * sizeof(*tab->buckets));
	for (i = 0; i < tab->n; i++) {
		h = flow_bucket(tab, &tab->slots[i]);
		tab->slots[i].next = tab->buckets[h];
		tab->buckets[h] = (uint16_t)(i + 1);
	}
}

/* Room for one more binding: the array and the buckets double. */
static bool flow_room(struct tscfd_flowtab *tab)
{
	unsigned int cap = tab->cap ? tab->cap * 2 : 2;
	struct flow *slots;
	uint16_t *b;

	if (tab->n >= TSCFD_MAX_FLOWS)
		return false;
	if (tab->n == tab->cap) {
		slots = realloc(tab->slots, cap * sizeof(*slots));
		if (!slots)
			return false;
		tab->slots = slots;
		tab->cap = cap;
	}
	if (tab->n >= tab->nbuckets && tab->nbuckets < FLOW_BUCKETS_MAX) {
		b = calloc(tab->nbuckets * 2, sizeof(*b));
		if (b) {	/* else longer chains, still correct */
			free(tab->buckets);
			tab->buckets = b;
			tab->nbuckets *= 2;
			flow_rehash(tab);
		}
	}
	return true;
}

static struct tscfd_flowtab *flowtab_get(struct tscfd_session *s)
{
	struct tscfd_flowtab *tab = s->flows;

	if (tab)
		return tab;
	tab = calloc(1, sizeof(*tab));
	if (!tab)
		return NULL;
	tab->nbuckets = FLOW_BUCKETS_MIN;
	tab->buckets = calloc(tab->nbuckets, sizeof(*tab->buckets));
	if (!tab->buckets) {
		free(tab);
		return NULL;
	}
	s->flows = tab;
	return tab;
}

static uint16_t flow_key(const struct tscfd_session *s, const struct tscf_msg *m,
			 struct flow *k, uint8_t *level)
{
	const struct tscf_tlv *tf = tscf_msg_find(m, TSCF_TLV_FLOW, NULL);
	const struct tscf_tlv *tl = tscf_msg_find(m, TSCF_TLV_ENC_LEVEL, NULL);
	struct tscf_flow wf;

	if (!tf || !tl || tscf_tlv_flow(tf, &wf) || tscf_tlv_u8(tl, level) ||
	    *level > TSCF_ENC_PREFERRED)
		return TSCF_RESP_BAD_REQUEST;
	if (!tscfd_addr_eq(&wf.local, &s->ip4) && !tscfd_addr_eq(&wf.local, &s->ip6))
		return TSCF_RESP_NOT_ALLOWED;
	memset(k, 0, sizeof(*k));
	k->proto = wf.proto;
	k->lport = wf.local_port;
	k->rport = wf.remote_port;
	if (!k->rport || addr_any(&wf.remote))
		k->rport = 0;	/* wildcard remote */
	flow_set_addrs(k, &wf.local, &wf.remote);
	return TSCF_RESP_SUCCESS;
}

/*
 * The clear tunnel is readable and writable by anyone on its path: it may
 * raise a level, but not lower what the encrypted tunnel set, neither on
 * the binding itself nor by a narrower binding in front of it.
 */
static bool lowers_encrypted(const struct tscfd_flowtab *tab,
			     const struct flow *k, uint8_t level)
{
	const struct flow *cur = tab ? flow_match(tab, k) : NULL;

	return cur && cur->by_enc && level_rank(level) < level_rank(cur->level);
}

static uint16_t flow_bind(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	struct tscfd_session *s = t->session;
	struct tscfd_flowtab *tab = s->flows;
	struct flow k, *f;
	uint8_t level;
	uint16_t code;

	code = flow_key(s, m, &k, &level);
	if (code != TSCF_RESP_SUCCESS)
		return code;
	if (!t->encrypted && lowers_encrypted(tab, &k, level)) {
		tscfd_stats.refused_flow_lower++;
		return TSCF_RESP_NOT_ALLOWED;
	}
	/*
	 * The kernel stops carrying the session before the binding exists
	 * (and before it is answered): from here on tscfd sees each packet.
	 */
	if (level != TSCF_ENC_UNENCRYPTED && !tscfd_kdp_slow(s))
		return TSCF_RESP_NO_RESOURCES;
	f = tab ? flow_find(tab, &k) : NULL;
	if (level == TSCF_ENC_UNENCRYPTED) {
		if (f)
			flow_remove(tab, f);
		return TSCF_RESP_SUCCESS;
	}
	if (f) {
		tab->at_level[f->level]--;
		f->level = level;
		tab->at_level[level]++;
		f->by_enc |= t->encrypted;
		return TSCF_RESP_SUCCESS;
	}
	tab = flowtab_get(s);
	if (!tab || !flow_room(tab))
		return TSCF_RESP_NO_RESOURCES;
	f = &tab->slots[tab->n];
	*f = k;
	f->level = level;
	f->by_enc = t->encrypted;
	f->next = tab->buckets[flow_bucket(tab, f)];
	tab->buckets[flow_bucket(tab, f)] = (uint16_t)(++tab->n);
	tab->at_level[level]++;
	return TSCF_RESP_SUCCESS;
}

/* A binding changed: so does the encrypted peer's set in the kernel. */
uint16_t tscfd_flow_bind(struct tscfd_tunnel *t, const struct tscf_msg *m)
{
	uint16_t code = flow_bind(t, m);

	if (code == TSCF_RESP_SUCCESS)
		tscfd_kdp_flows(t->session);
	return code;
}

/*
 * The session's bindings as a server device's encrypted peer takes them
 * (struct tscf_srv_flow), at most max of them.  Every binding is above
 * level 0: each one the kernel has goes to the encrypted tunnel, as here.
 * Those past max are left to tscfd, which is always right.
 */
size_t tscfd_flow_export(const struct tscfd_session *s,
			 struct tscf_srv_flow *out, size_t max)
{
	const struct tscfd_flowtab *tab = s->flows;
	const struct flow *f;
	size_t i, n = 0;

	for (i = 0; tab && i < tab->n && n < max; i++) {
		f = &tab->slots[i];
		if (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].proto = f->proto;
		out[n].family = f->family == 4 ? AF_INET : AF_INET6;
		out[n].lport = htons(f->lport);
		out[n].rport = htons(f->rport);
		memcpy(out[n].local, f->local, sizeof(out[n].local));
		memcpy(out[n].remote, f->remote, sizeof(out[n].remote));
		n++;
	}
	return n;
}

void tscfd_flows_free(struct tscfd_session *s)
{
	struct tscfd_flowtab *tab = s->flows;

	if (!tab)
		return;
	free(tab->slots);
	free(tab->buckets);
	free(tab->frags);
	free(tab);
	s->flows = NULL;
}

/* Bindings that send packets to the encrypted tunnel or keep them off clear. */
unsigned int tscfd_flow_encrypted_bindings(const struct tscfd_session *s)
{
	const struct tscfd_flowtab *tab = s->flows;

	return tab ? tab->at_level[TSCF_ENC_ONLY] + tab->at_level[TSCF_ENC_PREFERRED] : 0;
}

unsigned int tscfd_flow_count(const struct tscfd_session *s)
{
	return s->flows ? s->flows->n : 0;
}

/* --- parsing inner packets ------------------------------------------- */

static bool parse_ip4(const uint8_t *p, size_t len, struct pkt *k)
{
	size_t hl = (size_t)(p[0] & 0xf) * 4;
	uint16_t frag;

	if (len < 20 || hl < 20 || hl > len)
		return false;
	k->src.family = k->dst.family = 4;
	memcpy(&k->src.v4, p + 12, 4);
	memcpy(&k->dst.v4, p + 16, 4);
	k->proto = p[9];
	frag = (uint16_t)(p[6] << 8 | p[7]);
	k->frag = frag & 0x3fff;	/* more fragments, or an offset */
	k->first = !(frag & 0x1fff);
	k->frag_id = (uint32_t)(p[4] << 8 | p[5]);
	k->frag_proto = k->proto;
	if (k->first) {
		k->l4 = p + hl;
		k->l4len = len - hl;
	}
	return true;
}

/*
 * Walks the IPv6 extension headers to the upper-layer header.  A chain it
 * cannot walk (too long, truncated, ESP) leaves l4 NULL: not classified.
 */
static bool parse_ip6(const uint8_t *p, size_t len, struct pkt *k)
{
	size_t off = 40;
	uint8_t nh;
	int i;

	if (len < 40)
		return false;
	k->src.family = k->dst.family = 6;
	memcpy(&k->src.v6, p + 8, 16);
	memcpy(&k->dst.v6, p + 24, 16);
	nh = p[6];
	for (i = 0; i <= IP6_MAX_EXT; i++) {
		k->proto = nh;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 2 > len)
				return true;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (off + 2 > len)
				return true;
			nh = p[off];
			off += ((size_t)p[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				return true;
			nh = p[off];
			k->frag = true;
			k->first = !((p[off + 2] << 8 | p[off + 3]) & 0xfff8);
			k->frag_proto = nh;
			memcpy(&k->frag_id, p + off + 4, 4);
			off += 8;
			if (!k->first) {
				k->proto = nh;
				return true;
			}
			break;
		case IPPROTO_ESP:
		case IPPROTO_NONE:
			return true;
		default:
			if (off > len)
				return true;
			k->l4 = p + off;
			k->l4len = len - off;
			return true;
		}
	}
	return true;
}

static bool parse_ip(const uint8_t *p, size_t len, struct pkt *k)
{
	memset(k, 0, sizeof(*k));
	if (!len)
		return false;
	if ((p[0] >> 4) == 4)
		return parse_ip4(p, len, k);
	if ((p[0] >> 4) == 6)
		return parse_ip6(p, len, k);
	return false;
}

static bool icmp_error(const struct pkt *k)
{
	if (!k->l4 || k->l4len < 8)
		return false;
	if (k->proto == IPPROTO_ICMP && k->src.family == 4)
		return k->l4[0] == 3 || k->l4[0] == 4 || k->l4[0] == 5 ||
		       k->l4[0] == 11 || k->l4[0] == 12;
	if (k->proto == IPPROTO_ICMPV6 && k->src.family == 6)
		return k->l4[0] < 128;
	return false;
}

/* The flow of a parsed packet; "local" is always the client's end. */
static int pkt_flow(const struct pkt *k, bool from_client, struct flow *f)
{
	uint16_t sport = 0, dport = 0;

	memset(f, 0, sizeof(*f));
	if (!k->l4)
		return CLASS_UNKNOWN;
	f->proto = k->proto;
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) {
		if (k->l4len < 4)
			return CLASS_UNKNOWN;
		sport = (uint16_t)(k->l4[0] << 8 | k->l4[1]);
		dport = (uint16_t)(k->l4[2] << 8 | k->l4[3]);
	}
	f->lport = from_client ? sport : dport;
	f->rport = from_client ? dport : sport;
	f->family = k->src.family;
	addr_bytes(f->local, from_client ? &k->src : &k->dst);
	addr_bytes(f->remote, from_client ? &k->dst : &k->src);
	return CLASS_FLOW;
}

/*
 * An ICMP error belongs to the flow of the datagram it quotes, which went
 * the other way.  A quote that cannot be read, or that is not the same
 * client's, is not classified.
 */
static int icmp_flow(const struct pkt *k, bool from_client, struct flow *f)
{
	uint8_t client[16];
	struct pkt q;

	if (!parse_ip(k->l4 + 8, k->l4len - 8, &q) || q.src.family != k->src.family ||
	    icmp_error(&q) || pkt_flow(&q, !from_client, f) != CLASS_FLOW)
		return CLASS_UNKNOWN;
	addr_bytes(client, from_client ? &k->src : &k->dst);
	return memcmp(f->local, client, 16) ? CLASS_UNKNOWN : CLASS_FLOW;
}

/* --- fragments ------------------------------------------------------- */

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct frag *frag_slot(struct tscfd_flowtab *tab, const struct pkt *k,
			      bool *match)
{
	uint8_t key[37];
	struct frag *fr;

	addr_bytes(key, &k->src);
	addr_bytes(key + 16, &k->dst);
	memcpy(key + 32, &k->frag_id, 4);
	key[36] = k->frag_proto;
	fr = &tab->frags[tscfd_flow_hash(key, sizeof(key)) % FRAG_SLOTS];
	*match = fr->until && fr->until >= mono_now() && fr->proto == k->frag_proto &&
		 fr->id == k->frag_id && tscfd_addr_eq(&fr->src, &k->src) &&
		 tscfd_addr_eq(&fr->dst, &k->dst);
	return fr;
}

/*
 * Remembers the level of a first fragment.  Two datagrams with the same
 * identification keep the higher level, so that a forged first fragment
 * cannot lower the fragments of another.  An evicted entry only makes its
 * fragments unknown, which fails closed.
 */
static void frag_note(struct tscfd_flowtab *tab, const struct pkt *k,
		      uint8_t level)
{
	struct frag *fr;
	bool match;

	if (!tab->frags) {
		tab->frags = calloc(FRAG_SLOTS, sizeof(*tab->frags));
		if (!tab->frags)
			return;
	}
	fr = frag_slot(tab, k, &match);
	if (match && level_rank(fr->level) > level_rank(level))
		level = fr->level;
	fr->src = k->src;
	fr->dst = k->dst;
	fr->id = k->frag_id;
	fr->proto = k->frag_proto;
	fr->level = level;
	fr->until = mono_now() + FRAG_SECS;
}

static bool frag_level(struct tscfd_flowtab *tab, const struct pkt *k,
		       uint8_t *level)
{
	struct frag *fr;
	bool match;

	if (!tab->frags)
		return false;
	fr = frag_slot(tab, k, &match);
	if (match)
		*level = fr->level;
	return match;
}

/* --- the level of a packet ------------------------------------------- */

/* What an unclassified packet gets: the most any binding of the session asks. */
static uint8_t unknown_level(const struct tscfd_flowtab *tab)
{
	if (tab->at_level[TSCF_ENC_ONLY])
		return TSCF_ENC_ONLY;
	if (tab->at_level[TSCF_ENC_PREFERRED])
		return TSCF_ENC_PREFERRED;
	return TSCF_ENC_UNENCRYPTED;
}

/* *unknown: the packet could not be classified (and got unknown_level). */
static uint8_t pkt_level(struct tscfd_session *s, const struct pkt *k,
			 bool from_client, bool *unknown)
{
	struct tscfd_flowtab *tab = s->flows;
	struct flow f, *b;
	uint8_t level = TSCF_ENC_UNENCRYPTED;
	int class;

	*unknown = false;
	if (!tab || !tab->n)
		return TSCF_ENC_UNENCRYPTED;
	if (k->frag && !k->first) {
		if (frag_level(tab, k, &level))
			return level;
		*unknown = true;
		tscfd_stats.unclassified++;
		return unknown_level(tab);
	}
	class = icmp_error(k) ? icmp_flow(k, from_client, &f) :
				pkt_flow(k, from_client, &f);
	if (class != CLASS_FLOW) {
		*unknown = true;
		tscfd_stats.unclassified++;
		level = unknown_level(tab);
	} else {
		b = flow_match(tab, &f);
		level = b ? b->level : TSCF_ENC_UNENCRYPTED;
	}
	if (k->frag)
		frag_note(tab, k, level);
	return level;
}

/* --- both directions ------------------------------------------------- */

static void inner_counted(struct tscfd_tunnel *t, size_t len)
{
	tscfd_stats.rx_packets++;
	t->rx_packets++;
	t->rx_bytes += len;
}

/*
 * Longer than the MTU: only a TCP super-frame (PROTOCOL.md 1.3) on a
 * tunnel whose CONFIG_RESP offered them goes on, whole, for the TUN to
 * cut.  Everything else is dropped: written as it is, the service side
 * would fragment it or lose it.
 */
static void inner_super(struct tscfd_tunnel *t, const uint8_t *p, size_t len)
{
	int err = -EINVAL;

	if (t->super_frames)
		err = tscfd_tun_write_super(p, len, tscfd_conf.mtu);
	if (err == -EINVAL) {
		tscfd_stats.drop_too_big++;
		return;
	}
	if (!err) {
		tscfd_stats.rx_super_frames++;
		inner_counted(t, len);
	}
}

void tscfd_flow_inner(struct tscfd_tunnel *t, const uint8_t *p, size_t len)
{
	struct tscfd_session *s = t->session;
	struct pkt k;
	uint8_t level;
	bool unknown;

	if (!t->configured || !s) {
		tscfd_stats.drop_no_session++;
		return;
	}
	if (!parse_ip(p, len, &k)) {
		tscfd_stats.drop_malformed++;
		return;
	}
	/* Anti-spoofing: the source must be the session's own address. */
	if (!tscfd_addr_eq(&k.src, &s->ip4) && !tscfd_addr_eq(&k.src, &s->ip6)) {
		tscfd_stats.drop_spoofed++;
		return;
	}
	level = pkt_level(s, &k, true, &unknown);
	if (!t->encrypted && level == TSCF_ENC_ONLY) {
		if (unknown)
			tscfd_stats.drop_unclassified++;
		else
			tscfd_stats.drop_enc_only_clear++;
		return;
	}
	if (len > tscfd_conf.mtu) {
		inner_super(t, p, len);
		return;
	}
	if (!tscfd_tun_write(p, len, t->kind != TK_UDP ||
			     t->peer.ss_family == AF_INET6))
		inner_counted(t, len);
}

/* A packet from the service network: to the tunnel its flow is bound to. */
void tscfd_tun_packet(const uint8_t *p, size_t len)
{
	struct tscfd_session *s;
	struct tscfd_tunnel *t;
	struct pkt k;
	uint8_t level;
	bool unknown;

	if (!parse_ip(p, len, &k)) {
		tscfd_stats.drop_malformed++;
		return;
	}
	s = tscfd_session_by_ip(&k.dst);
	if (!s) {
		tscfd_stats.drop_no_session++;
		return;
	}
	level = pkt_level(s, &k, false, &unknown);
	if (level == TSCF_ENC_ONLY)
		t = s->enc;		/* never the clear tunnel */
	else if (level == TSCF_ENC_PREFERRED && s->enc)
		t = s->enc;
	else
		t = s->clear;
	if (!t || !t->configured) {
		if (unknown)
			tscfd_stats.drop_unclassified++;
		else
			tscfd_stats.drop_no_tunnel++;
		return;
	}
	if (!tscfd_send_inner(t, p, len)) {
		tscfd_stats.tx_packets++;
		t->tx_packets++;
		t->tx_bytes += len;
	}
}
