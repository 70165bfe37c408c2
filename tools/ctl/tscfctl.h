/* SPDX-License-Identifier: GPL-2.0 */
/* tscfctl: the tscf netlink CLI and per-device helper. */
#ifndef TSCFCTL_H
#define TSCFCTL_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <netlink/genl/genl.h>
#include <linux/tscf.h>

#include "tscf_proto.h"

#ifndef TSCFCTL_VERSION
#define TSCFCTL_VERSION "0.1"
#endif

#include <limits.h>
#include <syslog.h>
#include <sys/types.h>

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* syslog priorities (LOG_ERR..LOG_DEBUG); repeated lines are rate-limited */
void logp(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)	logp(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	logp(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)	logp(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	logp(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	logp(LOG_DEBUG, __VA_ARGS__)
int log_level_parse(const char *name);
void log_set_level(int prio);

/* nl.c: the genl family */
struct tscf_nl {
	struct nl_sock *sk;
	int family;
};

/* Multicast groups to join (uapi/linux/tscf.h), for tnl_open(). */
enum { TNL_GRP_CTRL_BIT, TNL_GRP_TUNNEL_BIT, TNL_GRP_SOCK_BIT };
#define TNL_GRP_CTRL	(1u << TNL_GRP_CTRL_BIT)	/* CTRL_RECV */
#define TNL_GRP_TUNNEL	(1u << TNL_GRP_TUNNEL_BIT)	/* TUNNEL_EVENT, ENC_DEMAND */
#define TNL_GRP_SOCK	(1u << TNL_GRP_SOCK_BIT)	/* SOCK_EVENT */

int tnl_open(struct tscf_nl *nl, unsigned int groups);
void tnl_close(struct tscf_nl *nl);
struct tscf_config;
struct dtls_keys;
/* dtls: the record state of a DTLS socket, else NULL */
int tnl_attach(struct tscf_nl *nl, int ifindex, int fd, const struct tscf_config *cfg,
	       const struct dtls_keys *dtls, char *err, size_t errlen);
int tnl_detach(struct tscf_nl *nl, int ifindex);
int tnl_set_linger(struct tscf_nl *nl, int ifindex, uint32_t ms, char *err,
		   size_t errlen);
int tnl_ctrl_send(struct tscf_nl *nl, int ifindex, const void *frame, size_t len);
int tnl_dev_twin(struct tscf_nl *nl, int ifindex, int *twin, uint64_t *tsid);
const char *tnl_strerror(int err);

/* An event from one of the multicast groups, decoded. */
struct tscf_ev {
	int cmd;
	int ifindex;
	uint64_t tsid;
	uint8_t event, reason, demand;
	const uint8_t *frame;
	size_t frame_len;
	struct nlattr *sock;		/* TSCF_A_SOCK nest */
};

typedef void (*tscf_ev_fn)(const struct tscf_ev *ev, void *arg);
int tnl_events(struct tscf_nl *nl, tscf_ev_fn fn, void *arg);

/* client.c: the configuration exchange on a fresh transport */
struct tscf_conn {
	int fd;
	SSL *ssl;
	bool stream;
	bool has_cookie;		/* UDP: the server's return-routability cookie */
	uint8_t cookie[TSCF_COOKIE_LEN];
	uint8_t buf[8192];
	size_t len;
	/* DTLS: the newest epoch seen and the next record numbers in it */
	uint16_t dtls_epoch;
	uint64_t dtls_tx_next, dtls_rx_next;
};

/* A DTLS session's record state, for the kernel's DTLS tunnel. */
struct dtls_keys {
	uint8_t tx_key[32], rx_key[32];
	unsigned int key_len;		/* 16 or 32 */
	uint8_t tx_salt[4], rx_salt[4];
	uint16_t epoch;
	uint64_t tx_seq, rx_seq;
};

/* How long a DTLS handshake may take before auto falls back to TLS. */
#define DTLS_HANDSHAKE_MS	4000

struct tscf_config {
	uint64_t tsid;
	struct in_addr ip4;
	unsigned int plen4;
	struct in6_addr ip6;		/* :: when the server gave none */
	unsigned int plen6;
	uint32_t keepalive;
	uint16_t mtu;
	uint16_t super_frames;		/* TCP, clear UDP: the server's SUPER_FRAMES, 0: none */
};

/*
 * The secrets of one client session (docs/PROTOCOL.md 2.7): only their
 * SHA-256 travels in clear; DTTE is revealed only inside TLS, a resume
 * secret once, when it is used.
 */
struct tscf_secrets {
	uint8_t resume[TSCF_SECRET_LEN];	/* the server holds its commitment */
	uint8_t next_resume[TSCF_SECRET_LEN];	/* committed by the request in flight */
	uint8_t dtte[TSCF_SECRET_LEN];
};

static inline bool tscf_config_has_ip6(const struct tscf_config *cfg)
{
	return !IN6_IS_ADDR_UNSPECIFIED(&cfg->ip6);
}

int secret_new(uint8_t *secret);
void secret_commit(const uint8_t *secret, uint8_t *commit);
int conn_open(struct tscf_conn *c, const char *addr, uint16_t port,
	      bool stream, char *err, size_t errlen);
/* A new clear session: commits to sec->next_resume (fresh). */
int conn_config(struct tscf_conn *c, struct tscf_secrets *sec,
		struct tscf_config *cfg, char *err, size_t errlen);
/* The encrypted tunnel (inside TLS): reveals sec->dtte. */
int conn_config_enc(struct tscf_conn *c, uint64_t assoc, uint64_t reserved,
		    const struct tscf_secrets *sec, struct tscf_config *cfg,
		    char *err, size_t errlen);
/*
 * Resume clear tunnel TSID on this transport, revealing sec->resume and
 * committing to a fresh sec->next_resume: 0, -ENOENT if the server holds
 * no such tunnel or refuses the proof (start afresh), -1.
 */
int conn_resume(struct tscf_conn *c, uint64_t tsid, struct tscf_secrets *sec,
		struct tscf_config *cfg, char *err, size_t errlen);
int conn_release(struct tscf_conn *c, uint64_t tsid);
int conn_service(struct tscf_conn *c, uint64_t tsid, const struct tscf_secrets *sec,
		 uint64_t *reserved, struct tscf_conn_info *ci, uint8_t transport,
		 char *err, size_t errlen);
void conn_close(struct tscf_conn *c);
uint32_t next_seq(void);

/* tls.c: the encrypted tunnel to the address CONN_INFO names, verified
 * as the server the user configured */
struct helper_opts;
int tls_connect(struct tscf_conn *c, const struct helper_opts *o,
		const struct tscf_conn_info *ci, bool need_ktls, char *err,
		size_t errlen);
void tls_handover(struct tscf_conn *c);
int dtls_connect(struct tscf_conn *c, const struct helper_opts *o,
		 const struct tscf_conn_info *ci, char *err, size_t errlen);
int dtls_export(struct tscf_conn *c, struct dtls_keys *k, char *err, size_t errlen);

/* addr.c: rtnetlink */
int link_setup(int ifindex, const struct tscf_config *cfg, char *err, size_t errlen);
int link_unaddr(int ifindex, const struct tscf_config *cfg);
int link_flush(int ifindex, const struct tscf_config *keep);

/* helper.c */
struct helper_opts {
	const char *dev;
	const char *server;
	uint16_t port;
	bool stream;
	const char *ca;
	const char *server_name;	/* the identity verified; default server */
	bool system_ca;			/* trust the system store (opt-in) */
	bool allow_redirect;		/* CONN_INFO may name another address */
	const char *pidfile;
	bool daemon;			/* detach once up, log to syslog */
	bool dtls;			/* the encrypted tunnel over DTLS ("enc dtls") */
	bool enc_auto;			/* "enc auto": DTLS if the clear tunnel is UDP, else TLS */
	bool enc_tls;			/* "enc tls" given */
	unsigned int key_lifetime;	/* s an encrypted tunnel's keys are used at most */
};

#define KEY_LIFETIME_DEFAULT	3600
#define KEY_LIFETIME_MIN	10
#define KEY_LIFETIME_MAX	604800

int helper_run(const struct helper_opts *o, bool enc_only);
void log_to_syslog(void);
int cmd_down(const char *dev);
int cmd_probe(const struct helper_opts *o, bool json);

/* run.c: the helper registry (RUNDIR/DEV.pid) and state file (DEV.state) */
struct helper_reg {
	int fd, user_fd;		/* locked for the helper's lifetime */
	char path[PATH_MAX], user[PATH_MAX], state[PATH_MAX];
};

struct helper_state {
	pid_t pid;			/* the verified helper; 0: none */
	bool valid;			/* it published a state */
	char state[32], enc[32], last_error[512];
	long long retry_at, last_answer;	/* epoch seconds, 0: none */
	unsigned int keepalive;
};

const char *run_dir(void);
void run_path(char *path, size_t len, const char *dev, bool enc_only, const char *ext);
int reg_claim(struct helper_reg *r, const char *dev, bool enc_only,
	      const char *user_pidfile, pid_t *holder, char *err, size_t errlen);
void reg_update_pid(struct helper_reg *r);
void reg_release(struct helper_reg *r);
pid_t reg_find(const char *dev, bool enc_only);
bool reg_stop(const char *dev, bool enc_only);
void state_publish(const struct helper_reg *r, const char *text);
int state_read(const char *dev, struct helper_state *st);

/* show.c */
int cmd_show(const char *dev, bool json);
int cmd_monitor(bool json);
const char *down_reason_name(unsigned int reason);
const char *down_reason_text(unsigned int reason);

/* tls.c: SSLKEYLOGFILE, for lab captures only */
void keylog_setup(SSL_CTX *ctx);

#endif /* TSCFCTL_H */
