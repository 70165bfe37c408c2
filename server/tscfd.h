/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tscfd: the TSCF tunneling server.  One process, one epoll loop.
 * docs/SERVER.md describes the configuration and behaviour.
 */
#ifndef TSCFD_H
#define TSCFD_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <openssl/ssl.h>

#include "tscf_proto.h"

#define TSCFD_MAX_IFACES	16
#define TSCFD_MAX_DNS		4
#define TSCFD_MAX_FLOWS		1024	/* per session */
#define TSCFD_RESERVE_SECS	30	/* unused DTTE reservation expires */
#define TSCFD_HANDSHAKE_SECS	10	/* no configuration by then: closed */
#define TSCFD_PREAUTH_FRAME	TSCF_MAX_CTRL_LEN /* largest frame before configuration */
#define TSCFD_COOKIE_SLOT_SECS	60	/* cookie secret rotation; valid 1-2 slots */

struct tscfd_pool {
	bool set;
	uint8_t family;
	struct in6_addr base;		/* v4 in the first 4 bytes */
	unsigned int plen;
	uint32_t size;			/* usable addresses */
	uint32_t next;			/* next index to try */
	uint32_t nfree;			/* a full pool refuses in O(1) */
	uint64_t *used;			/* bitmap, allocated on first use */
};

struct tscfd_iface {
	char addr_str[INET6_ADDRSTRLEN];
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint16_t port;			/* N: TCP and UDP; N + 1: TLS, DTLS */
	struct tscf_addr advertise;	/* in CONN_INFO: advertise-address or address */
	char cert[256], key[256];
	struct tscfd_pool pool4, pool6;
	struct tscf_addr dns[TSCFD_MAX_DNS];
	unsigned int ndns;
	unsigned int max_tunnels;
	bool dtte;			/* assigned-services contains DTTE */
	/* runtime */
	int tcp_fd, udp_fd, tls_fd, dtls_fd;
	SSL_CTX *tls_ctx, *dtls_ctx;
	SSL *dtls_listen;		/* waits for the next cookie exchange */
	unsigned int ntunnels;
};

struct tscfd_config {
	char tun_name[16];
	char ctl_path[108];
	unsigned int keepalive_secs;	/* told to clients */
	unsigned int stream_idle_secs;	/* silence before "persistent" */
	unsigned int stream_persist_secs; /* then closed after this much more */
	unsigned int datagram_timeout_secs;
	unsigned int niface;
	struct tscfd_iface iface[TSCFD_MAX_IFACES];
	/* limits (docs/SERVER.md, "Limits") */
	unsigned int max_handshakes;	/* TLS/DTLS handshakes in flight */
	size_t max_preauth_bytes;	/* buffered by unconfigured tunnels */
	size_t max_backlog_bytes;	/* send backlog of all tunnels */
	/* privileges: drop to these after binding; "" keeps root */
	char user[64], group[64];
	bool user_set;			/* "user" given: no nobody default */
};

/* Counters shown by tscfd --stats. */
struct tscfd_stats {
	uint64_t tunnels_opened, tunnels_closed;
	uint64_t config_req, release_req, keepalive_req, service_req;
	uint64_t dtte_granted, dtte_refused;
	uint64_t resumed, refused_resume;
	uint64_t flow_bind;
	uint64_t rx_packets, tx_packets;
	uint64_t drop_malformed, drop_bad_nibble, drop_wrong_tsid;
	uint64_t drop_spoofed, drop_no_session, drop_enc_only_clear;
	uint64_t drop_unknown_type, drop_no_tunnel, drop_tls;
	uint64_t refused_max_tunnels, refused_pool;
	uint64_t accept_emfile, handshakes_deferred, drop_preauth, drop_backlog;
	uint64_t refused_flow_lower, unclassified, drop_unclassified;
	/* before a UDP peer proved its address (docs/PROTOCOL.md 2.6) */
	uint64_t unverified_rx_bytes, unverified_tx_bytes;
	uint64_t cookie_sent, drop_unverified, refused_version, config_resent;
	uint64_t refused_dtte_binding, refused_disable_dtte;
};

enum tscfd_transport_kind { TK_UDP = 1, TK_TCP, TK_TLS, TK_DTLS };

struct tscfd_session;

/* What an epoll event points at: the first member of each kind. */
enum tscfd_ev_type {
	EV_TCP_LISTEN = 1, EV_UDP, EV_TLS_LISTEN, EV_DTLS_LISTEN, EV_TUN, EV_CTL,
	EV_SIGNAL,
	EV_TIMER, EV_TUNNEL,
};

struct tscfd_handle {
	int type;			/* enum tscfd_ev_type */
	int fd;
	struct tscfd_iface *iface;
};

struct tscfd_tunnel {
	int evtype;			/* EV_TUNNEL */
	uint64_t tsid;
	int kind;			/* enum tscfd_transport_kind */
	int fd;				/* own socket; -1 for UDP */
	SSL *ssl;
	bool handshaking, configured, encrypted;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tscfd_iface *iface;
	struct tscfd_session *session;
	time_t created, last_rx;
	uint32_t config_seq;		/* Sequence of the CONFIG_REQ it answered */
	uint8_t *rxbuf;			/* stream: partial frame, on demand */
	size_t rxlen;
	uint8_t *txbuf;			/* stream: bytes the socket refused */
	size_t txlen;
	struct tscfd_tunnel *hnext_tsid, *hnext_peer;
	struct tscfd_tunnel *prev, *next;	/* all tunnels */
	/*
	 * Lifetime: tscfd_tunnel_close() unlinks the tunnel from every table
	 * and epoll and marks it dead; it is freed by tscfd_reap() once the
	 * epoll batch is over, so a pending event never sees freed memory.
	 * Every handler checks dead after anything that may close.
	 */
	bool dead;
	bool owns_session;		/* freed with it: it was the clear one */
	struct tscfd_tunnel *reap_next;
	/* timer wheel slot (tunnel.c), deadline in monotonic seconds */
	struct tscfd_tunnel *wnext, **wpprev;
	time_t deadline;
	/* TLS/DTLS handshakes in flight (net.c) */
	struct tscfd_tunnel *hs_next, **hs_pprev;
	size_t rxcap;			/* allocated size of rxbuf */
	size_t rx_preauth;		/* of it, counted as pre-authentication */
};

struct tscfd_session {
	struct tscfd_tunnel *clear, *enc;
	struct tscf_addr ip4, ip6;	/* family 0: none */
	struct tscfd_iface *iface;
	bool dtte;			/* assigned-services when it came up */
	uint64_t reserved_tsid;
	time_t reserve_until;
	struct tscfd_flowtab *flows;	/* flow.c; on the first FLOW_BIND */
	bool has_dtte_commit, has_resume_commit;
	uint8_t dtte_commit[TSCF_COMMIT_LEN];	/* pinned by the first SERVICE_REQ */
	uint8_t resume_commit[TSCF_COMMIT_LEN];	/* the next resume's secret, hashed */
	struct tscfd_session *hnext4;
};

extern struct tscfd_config tscfd_conf;
extern struct tscfd_stats tscfd_stats;

/* config.c */
int tscfd_config_load(const char *path, struct tscfd_config *conf,
		      char *err, size_t errlen);

/* pool.c */
int tscfd_pool_get(struct tscfd_pool *p, struct tscf_addr *a);
void tscfd_pool_put(struct tscfd_pool *p, const struct tscf_addr *a);

/* tun.c */
int tscfd_tun_open(const char *name);

/* tunnel.c */
time_t tscfd_now(void);		/* monotonic seconds: never steps */
void tscfd_timer_arm(struct tscfd_tunnel *t);
void tscfd_reap(void);
void tscfd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct tscfd_tunnel *tscfd_tunnel_new(struct tscfd_iface *iface, int kind,
				      int fd, const struct sockaddr *peer,
				      socklen_t peerlen);
void tscfd_tunnel_close(struct tscfd_tunnel *t, const char *why);
struct tscfd_tunnel *tscfd_tunnel_by_peer(const struct sockaddr *peer,
					  socklen_t len);
void tscfd_tunnel_frame(struct tscfd_tunnel *t, const uint8_t *frame,
			size_t len);
bool tscfd_tick(void);	/* true: more timer work, call again soon */
void tscfd_udp_unverified(struct tscfd_iface *f, const uint8_t *buf, size_t len,
			  const struct sockaddr *peer, socklen_t peerlen);
unsigned int tscfd_tunnel_count(void);
unsigned int tscfd_session_count(void);
void tscfd_sessions_stats(unsigned int *with_enc, unsigned int *flows);
bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b);
struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a);

/* flow.c: flow bindings and the tunnel each inner packet takes */
uint16_t tscfd_flow_bind(struct tscfd_tunnel *t, const struct tscf_msg *m);
void tscfd_flow_inner(struct tscfd_tunnel *t, const uint8_t *pkt, size_t len);
void tscfd_tun_packet(const uint8_t *pkt, size_t len);
void tscfd_flows_free(struct tscfd_session *s);
unsigned int tscfd_flow_count(const struct tscfd_session *s);
uint64_t tscfd_flow_hash(const void *p, size_t len);

/* net.c */
extern int tscfd_epfd, tscfd_tunfd;
int tscfd_listen_all(struct tscfd_config *conf);
void tscfd_event(void *ptr, uint32_t events);
int tscfd_send_frame(struct tscfd_tunnel *t, const uint8_t *buf, size_t len);
void tscfd_net_forget(struct tscfd_tunnel *t);
void tscfd_tunnel_watch(struct tscfd_tunnel *t);
void tscfd_tunnel_handshake(struct tscfd_tunnel *t);
void tscfd_handshake_begin(struct tscfd_tunnel *t);
void tscfd_handshake_end(struct tscfd_tunnel *t);
unsigned int tscfd_handshakes(void);
void tscfd_net_tick(void);
int tscfd_tls_ciphers(SSL_CTX *ctx);
void tscfd_preauth_release(struct tscfd_tunnel *t);
size_t tscfd_backlog_bytes(void);
size_t tscfd_preauth_bytes(void);

/* main.c */
int tscfd_drop_target(const struct tscfd_config *conf, uid_t *uid, gid_t *gid);

/* dtls.c */
int tscfd_dtls_open(struct tscfd_iface *f);
void tscfd_dtls_accept(struct tscfd_handle *h);
void tscfd_dtls_read(struct tscfd_tunnel *t);

/* ctl.c */
int tscfd_ctl_listen(const char *path);
void tscfd_ctl_accept(int lfd);
int tscfd_ctl_query(const char *path, bool json);

#endif /* TSCFD_H */
