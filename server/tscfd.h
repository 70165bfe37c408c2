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
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
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
	/* where in the file (errors of the checks that come later) */
	unsigned int line, port_line, cert_line, key_line, pool_line[2];
	/* runtime */
	int tcp_fd, udp_fd, tls_fd, dtls_fd;
	SSL_CTX *tls_ctx, *dtls_ctx;
	SSL *dtls_listen;		/* waits for the next cookie exchange */
	unsigned int ntunnels;
	uint32_t udp_drops_seen;	/* the UDP socket's SK_MEMINFO_DROPS, last read */
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
	size_t udp_sockbuf_bytes;	/* SO_RCVBUF/SO_SNDBUF of the UDP sockets */
	/* privileges: drop to these after binding; "" keeps root */
	char user[64], group[64];
	bool user_set;			/* "user" given: no nobody default */
	unsigned int user_line, group_line;	/* for tscfd -t's checks */
	/* the TUN device: tscfd sets address, MTU and link up itself */
	unsigned int mtu;		/* also told to clients (CONFIG_RESP) */
	bool tun_configure;
	bool stream_super_frames;	/* offer SUPER_FRAMES on TCP and TLS */
	bool udp_super_frames;		/* offer SUPER_FRAMES on clear UDP */
	/* logging (server/log.c) */
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	bool use_syslog;
	unsigned int log_rate;		/* per-tunnel lines a second; 0: no cap */
	/* OpenMetrics over HTTP (server/metrics.c) */
	bool metrics_set, metrics_allow_remote;
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_addrlen;
	char metrics_str[INET6_ADDRSTRLEN + 8];
	/* the kernel data path (server/kdp.c): enum tscfd_kdp_mode */
	int kdp_mode;
	char kdp_name[16];
};

enum tscfd_kdp_mode { TSCFD_KDP_AUTO, TSCFD_KDP_YES, TSCFD_KDP_NO };

/*
 * Counters shown by tscfd --stats, as text, JSON and OpenMetrics
 * (tscfd_NAME_total): one list, with the HELP text of each.
 */
#define TSCFD_COUNTERS(X) \
	X(tunnels_opened, "Tunnels opened (accepted connections and UDP peers).") \
	X(tunnels_closed, "Tunnels closed.") \
	X(config_req, "CONFIG_REQ messages.") \
	X(release_req, "RELEASE_REQ messages.") \
	X(keepalive_req, "KEEPALIVE_REQ messages.") \
	X(service_req, "SERVICE_REQ messages.") \
	X(dtte_granted, "DTTE service requests granted.") \
	X(dtte_refused, "DTTE service requests refused.") \
	X(resumed, "Sessions resumed on a new transport.") \
	X(refused_resume, "Resume attempts refused.") \
	X(flow_bind, "FLOW_BIND messages.") \
	X(rx_packets, "Inner packets from clients to the service network.") \
	X(tx_packets, "Inner packets from the service network to clients.") \
	X(drop_rxq_overflow, "Datagrams the UDP and DTLS tunnel sockets lost in the kernel (receive buffer full).") \
	X(drop_send, "Datagrams the UDP tunnel socket or a DTLS client socket refused to send.") \
	X(drop_malformed, "Packets dropped: malformed.") \
	X(drop_bad_nibble, "Frames dropped: wrong version nibble.") \
	X(drop_wrong_tsid, "Frames dropped: wrong TSID.") \
	X(drop_spoofed, "Inner packets dropped: source not the session's address.") \
	X(drop_too_big, "Inner packets dropped: longer than the MTU and not a TCP super-frame the tunnel may send.") \
	X(rx_super_frames, "TCP super-frames from clients written to the TUN in one piece.") \
	X(drop_no_session, "Packets from the service network for no session.") \
	X(drop_enc_only_clear, "Encrypted-only packets dropped on the clear tunnel.") \
	X(drop_unknown_type, "Frames dropped: unknown message type.") \
	X(drop_no_tunnel, "Packets dropped: their tunnel is not up.") \
	X(drop_tls, "Datagrams on the DTLS port that are not a ClientHello.") \
	X(refused_max_tunnels, "Tunnels refused at max-tunnels.") \
	X(refused_pool, "Sessions refused: address pool full.") \
	X(accept_emfile, "Connections closed at accept for lack of descriptors.") \
	X(handshakes_deferred, "Times the TLS/DTLS listeners paused at max-handshakes.") \
	X(drop_preauth, "Tunnels closed over the pre-authentication limits.") \
	X(drop_backlog, "Frames dropped over the send backlog limits.") \
	X(refused_flow_lower, "FLOW_BIND lowering refused on the clear tunnel.") \
	X(unclassified, "Inner packets that could not be classified.") \
	X(drop_unclassified, "Unclassified packets dropped (encrypted-only session).") \
	X(unverified_rx_bytes, "Bytes received from UDP peers before their cookie.") \
	X(unverified_tx_bytes, "Bytes sent to UDP peers before their cookie.") \
	X(cookie_sent, "COOKIE answers sent.") \
	X(drop_unverified, "UDP requests without a valid cookie dropped.") \
	X(refused_version, "CONFIG_REQ refused: unsupported protocol version.") \
	X(config_resent, "Retransmitted CONFIG_REQ answered again.") \
	X(refused_dtte_binding, "Encrypted tunnels refused: no proof of the DTTE binding.") \
	X(refused_disable_dtte, "DISABLE_DTTE refused while the encrypted tunnel is up.")

struct tscfd_stats {
#define X(name, help) uint64_t name;
	TSCFD_COUNTERS(X)
#undef X
};

enum tscfd_transport_kind { TK_UDP = 1, TK_TCP, TK_TLS, TK_DTLS };

struct tscfd_session;

/* What an epoll event points at: the first member of each kind. */
enum tscfd_ev_type {
	EV_TCP_LISTEN = 1, EV_UDP, EV_TLS_LISTEN, EV_DTLS_LISTEN, EV_TUN, EV_CTL,
	EV_SIGNAL,
	EV_TIMER, EV_TUNNEL, EV_METRICS_LISTEN, EV_METRICS_CONN, EV_KDP,
};

struct tscfd_handle {
	int type;			/* enum tscfd_ev_type */
	int fd;
	struct tscfd_iface *iface;
};

/*
 * A peer's address: IPv4 or IPv6 only (a sockaddr_storage is 128 bytes,
 * this 28).  ss_family overlays every member's family, as in a
 * sockaddr_storage.
 */
union tscfd_sockaddr {
	sa_family_t ss_family;
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct tscfd_tunnel {
	int evtype;			/* EV_TUNNEL */
	uint64_t tsid;
	int kind;			/* enum tscfd_transport_kind */
	int fd;				/* own socket; -1 for UDP */
	SSL *ssl;
	bool handshaking, configured, encrypted;
	bool corked;			/* stream: inner packets held to the round's end */
	bool super_frames;		/* SUPER_FRAMES offered in its CONFIG_RESP */
	union tscfd_sockaddr peer;
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
	uint32_t rxq_drops_seen;	/* DTLS: own socket's SK_MEMINFO_DROPS, last read */
	size_t rx_preauth;		/* of it, counted as pre-authentication */
	/* inner packets carried (tscfd --sessions) */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	/* kernel data path (kdp.c): a peer there, carried fast, its counters seen */
	bool kdp_pushed, kdp_fast;
	/*
	 * A clear TCP tunnel, or an encrypted TLS one with kTLS both ways:
	 * kdp_want once configured, until net.c hands the connection over
	 * (kdp_stream: the kernel reads and writes it, tscfd watches its fd
	 * for the end only).
	 */
	bool kdp_want, kdp_stream;
	/* The last of its srv-frame events the kernel knows tscfd handled. */
	uint32_t kdp_frame_seq;
	uint64_t kdp_seen[4];		/* rx packets, rx bytes, tx packets, tx bytes */
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
	struct tscfd_session *hnext4, *hnext6;	/* by_ip4, by_ip6 chains */
};

extern struct tscfd_config tscfd_conf;
extern struct tscfd_stats tscfd_stats;

/* config.c */
int tscfd_config_load(const char *path, struct tscfd_config *conf,
		      char *err, size_t errlen);
int tscfd_config_check_files(const char *path, const struct tscfd_config *conf,
			     char *err, size_t errlen);
int tscfd_log_level_parse(const char *s);

/* pool.c */
int tscfd_pool_get(struct tscfd_pool *p, struct tscf_addr *a);
void tscfd_pool_put(struct tscfd_pool *p, const struct tscf_addr *a);

/* tun.c */
int tscfd_tun_open(const char *name);
ssize_t tscfd_tun_read(uint8_t *buf, size_t cap, uint8_t **pkt);
int tscfd_tun_write(const uint8_t *p, size_t len, bool checked);
bool tscfd_tun_vnet(void);
int tscfd_tun_write_super(const uint8_t *p, size_t len, unsigned int mtu);
int tscfd_tun_configure(const struct tscfd_config *conf);
void tscfd_pool_gateway(const struct tscfd_pool *p, struct tscf_addr *a);

/* tunnel.c */
time_t tscfd_now(void);		/* monotonic seconds: never steps */
void tscfd_timer_arm(struct tscfd_tunnel *t);
void tscfd_reap(void);
struct tscfd_tunnel *tscfd_tunnel_new(struct tscfd_iface *iface, int kind,
				      int fd, const struct sockaddr *peer,
				      socklen_t peerlen);
void tscfd_tunnel_close(struct tscfd_tunnel *t, const char *why);
struct tscfd_tunnel *tscfd_tunnel_by_peer(const struct sockaddr *peer,
					  socklen_t len);
void tscfd_tunnel_frame(struct tscfd_tunnel *t, const uint8_t *frame,
			size_t len);
bool tscfd_tick(void);	/* true: more timer work, call again soon */
struct tscfd_timer_stats {
	uint64_t last_us, max_us;	/* the last and the longest tick, µs */
	uint64_t max_cpu_us;		/* the most CPU time of one tick, µs */
	uint64_t last_tunnels;		/* tunnels the last tick looked at */
	uint64_t tunnels;		/* looked at by all ticks */
};
void tscfd_timer_stats(struct tscfd_timer_stats *out);
void tscfd_udp_unverified(struct tscfd_iface *f, const uint8_t *buf, size_t len,
			  const struct sockaddr *peer, socklen_t peerlen);
unsigned int tscfd_tunnel_count(void);
struct tscfd_tunnel *tscfd_tunnel_first(void);	/* then ->next */
struct tscfd_tunnel *tscfd_tunnel_find(uint64_t tsid);
const char *tscfd_peer_str(const struct tscfd_tunnel *t); /* static buffer */
const char *tscfd_kind_str(int kind);
unsigned int tscfd_session_count(void);
void tscfd_sessions_stats(unsigned int *with_enc, unsigned int *flows);
bool tscfd_addr_eq(const struct tscf_addr *a, const struct tscf_addr *b);
struct tscfd_session *tscfd_session_by_ip(const struct tscf_addr *a);

/* flow.c: flow bindings and the tunnel each inner packet takes */
uint16_t tscfd_flow_bind(struct tscfd_tunnel *t, const struct tscf_msg *m);
struct tscf_srv_flow;
size_t tscfd_flow_export(const struct tscfd_session *s,
			 struct tscf_srv_flow *out, size_t max);
void tscfd_flow_inner(struct tscfd_tunnel *t, const uint8_t *pkt, size_t len);
void tscfd_tun_packet(const uint8_t *pkt, size_t len);
void tscfd_flows_free(struct tscfd_session *s);
unsigned int tscfd_flow_count(const struct tscfd_session *s);
uint64_t tscfd_flow_hash(const void *p, size_t len);

unsigned int tscfd_flow_encrypted_bindings(const struct tscfd_session *s);

/* kdp.c: the kernel data path */
int tscfd_kdp_open(const struct tscfd_config *conf);
int tscfd_kdp_attach(const struct tscfd_config *conf);
bool tscfd_kdp_on(void);
int tscfd_kdp_ifindex(void);
const char *tscfd_kdp_name(void);
void tscfd_kdp_push(struct tscfd_tunnel *t);
void tscfd_kdp_sync(struct tscfd_tunnel *t);
void tscfd_kdp_sync_all(void);
void tscfd_kdp_forget(struct tscfd_tunnel *t);
bool tscfd_kdp_slow(struct tscfd_session *s);
void tscfd_kdp_flows(struct tscfd_session *s);
void tscfd_kdp_counts(uint64_t *peers, uint64_t *fast);
void tscfd_kdp_check(const struct tscfd_config *conf);
bool tscfd_kdp_stream(struct tscfd_tunnel *t, const uint8_t *rest, size_t len);
int tscfd_kdp_stream_send(struct tscfd_tunnel *t, const uint8_t *buf, size_t len);
void tscfd_kdp_events(void);

/* net.c */
extern int tscfd_epfd, tscfd_tunfd;
int tscfd_listen_all(struct tscfd_config *conf);
void tscfd_event(void *ptr, uint32_t events);
void tscfd_udp_sockopts(int fd, const char *name, bool warn);
void tscfd_net_flush(void);	/* what the round queued: out */
int tscfd_send_frame(struct tscfd_tunnel *t, const uint8_t *buf, size_t len);
int tscfd_dgram_queue(int fd, const void *peer, socklen_t peerlen,
		      const uint8_t *buf, size_t len);
int tscfd_send_inner(struct tscfd_tunnel *t, const uint8_t *buf, size_t len);
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

/* log.c: priorities are syslog's (LOG_ERR .. LOG_DEBUG) */
void tscfd_log_setup(const struct tscfd_config *c);
void tscfd_log_verbose(int n);
bool tscfd_log_enabled(int prio);
void tscfd_log_tick(void);
void tscfd_logp(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* LOG_NOTICE */
void tscfd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* about one tunnel: rate-limited (log-rate-limit) */
void tscfd_tlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* main.c */
int tscfd_drop_target(const struct tscfd_config *conf, uid_t *uid, gid_t *gid);

/* dtls.c */
int tscfd_dtls_open(struct tscfd_iface *f);
void tscfd_dtls_accept(struct tscfd_handle *h);
void tscfd_dtls_read(struct tscfd_tunnel *t);
int tscfd_dtls_established(struct tscfd_tunnel *t);

/* ctl.c */
int tscfd_ctl_listen(const char *path, uid_t uid, gid_t gid);
void tscfd_ctl_accept(int lfd);
/* request: "stats text|json|openmetrics", "sessions text|json", "disconnect TSID" */
int tscfd_ctl_query(const char *path, const char *request);
/* the OpenMetrics text of the running server */
void tscfd_metrics_render(FILE *out);

/* metrics.c: GET /metrics over HTTP/1.0 (metrics-listen) */
int tscfd_metrics_listen(const struct tscfd_config *conf);
void tscfd_metrics_event(void *ptr, uint32_t events);
void tscfd_metrics_tick(void);

/* keylog.c: SSLKEYLOGFILE (lab captures) */
int tscfd_keylog_open(void);
void tscfd_keylog_attach(SSL_CTX *ctx);

/* notify.c: systemd's sd_notify datagrams, without libsystemd */
void tscfd_notify(const char *state);

#endif /* TSCFD_H */
