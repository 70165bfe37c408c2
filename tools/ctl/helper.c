// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device helper ("tscfctl up"): brings the clear tunnel up, keeps
 * it alive, and brings the encrypted twin up and down as the kernel asks
 * (ENC_DEMAND), the patent's DTTE sequence:
 *
 *   SERVICE_REQ(ENABLE_DTTE) on the clear tunnel -> SERVICE_RESP with the
 *   reserved TSID and port N+1 -> TLS (kTLS) or DTLS (the kernel's
 *   records, dtls.c) -> CONFIG_REQ naming both TSIDs -> CONFIG_RESP ->
 *   the socket (and for DTLS its record keys) goes to the twin device.
 *
 * Keepalives are the helper's: KEEPALIVE_REQ every interval the server
 * gave, through the kernel (CTRL_SEND); three intervals without an answer
 * and the tunnel is re-established, with backoff from 1 s to 30 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "tscfctl.h"

#define BACKOFF_MAX	30
#define RELEASE_WAIT	1

struct tunnel_state {
	bool up;
	uint64_t tsid;
	time_t last_answer;
	time_t retry_at;
	unsigned int backoff;
	time_t since;			/* up since (the encrypted tunnel's keys) */
};

struct helper {
	const struct helper_opts *o;
	bool enc_only;			/* "up DEV encrypted": no clear tunnel */
	int ifindex, twin;
	struct tscf_nl cmd, ev;
	struct tscf_config cfg;
	struct tscf_secrets sec;	/* this session's: resume and DTTE */
	struct tunnel_state clear, enc;
	bool demand;
	uint32_t svc_seq;		/* outstanding SERVICE_REQ */
	time_t svc_deadline;
	uint32_t rel_seq;		/* outstanding RELEASE_REQ on the twin */
	time_t rel_deadline;
	bool stop;
	struct helper_reg reg;		/* RUNDIR/DEV.pid, DEV.state */
	char last_error[512];
	char published[2048];		/* the state file's content */
};

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A failure: logged, and kept for "show" as the last error. */
static void __attribute__((format(printf, 3, 4)))
herr(struct helper *h, int prio, const char *fmt, ...)
{
	size_t n = strlen(h->o->dev);
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	logp(prio, "%s", text);
	/* "DEV: why": the state file is DEV's already */
	snprintf(h->last_error, sizeof(h->last_error), "%s",
		 !strncmp(text, h->o->dev, n) && !strncmp(text + n, ": ", 2) ?
		 text + n + 2 : text);
	/* one line per key in the state file */
	for (n = 0; h->last_error[n]; n++)
		if (h->last_error[n] == '\n')
			h->last_error[n] = ' ';
}

static void backoff(struct tunnel_state *s)
{
	s->backoff = s->backoff ? s->backoff * 2 : 1;
	if (s->backoff > BACKOFF_MAX)
		s->backoff = BACKOFF_MAX;
	s->retry_at = now() + s->backoff;
}

static int send_ctrl(struct helper *h, int ifindex, uint8_t type, uint64_t tsid,
		     uint32_t seq, uint16_t svc)
{
	uint8_t buf[128], commit[TSCF_COMMIT_LEN];
	struct tscf_enc e;
	int len;

	tscf_enc_init(&e, buf, sizeof(buf), type, tsid, seq);
	if (svc)
		tscf_enc_u16(&e, TSCF_TLV_SERVICE_TYPE, svc);
	if (svc == TSCF_SERVICE_ENABLE_DTTE) {
		/* Only the commitment in clear: the secret goes inside TLS. */
		secret_commit(h->sec.dtte, commit);
		tscf_enc_tlv(&e, TSCF_TLV_DTTE_COMMIT, commit, TSCF_COMMIT_LEN);
	}
	len = tscf_enc_finish(&e);
	if (len < 0)
		return len;
	return tnl_ctrl_send(&h->cmd, ifindex, buf, (size_t)len);
}

/*
 * Configure a fresh transport: resume the session the helper had, if the
 * server still holds it, or else start a new one.  A new one may come with
 * another address: the old ones leave the device only then.
 */
static int clear_config(struct helper *h, struct tscf_conn *c, bool *resumed,
			char *err, size_t errlen)
{
	struct tscf_config cfg;
	int rc;

	*resumed = false;
	if (conn_open(c, h->o->server, h->o->port, h->o->stream, err, errlen))
		return -1;
	if (h->clear.tsid) {
		rc = conn_resume(c, h->clear.tsid, &h->sec, &cfg, err, errlen);
		if (!rc) {
			*resumed = true;
			h->cfg = cfg;
			return 0;
		}
		conn_close(c);
		if (rc != -ENOENT)
			return -1;
		log_notice("%s: the server no longer holds tunnel %016llx: new session",
		       h->o->dev, (unsigned long long)h->clear.tsid);
		h->clear.tsid = 0;
		if (conn_open(c, h->o->server, h->o->port, h->o->stream, err, errlen))
			return -1;
	}
	/* A new session: new secrets, none of the old session's is reused. */
	if (secret_new(h->sec.dtte)) {
		snprintf(err, errlen, "no randomness for the session secrets");
		return -1;
	}
	if (conn_config(c, &h->sec, &cfg, err, errlen))
		return -1;
	rc = link_flush(h->ifindex, &cfg);
	if (rc)
		log_warn("%s: cannot remove old addresses: %s", h->o->dev, nl_geterror(rc));
	h->cfg = cfg;
	return 0;
}

static int clear_up(struct helper *h)
{
	struct tscf_conn c;
	bool resumed;
	char err[256];
	int rc;

	if (clear_config(h, &c, &resumed, err, sizeof(err))) {
		conn_close(&c);
		herr(h, LOG_WARNING, "%s: %s", h->o->dev, err);
		return -1;
	}
	err[0] = 0;
	rc = link_setup(h->ifindex, &h->cfg, err, sizeof(err));
	if (rc && err[0])
		herr(h, LOG_WARNING, "%s: %s", h->o->dev, err);
	else if (err[0])	/* e.g. IPv6 disabled on DEV: carrying on */
		log_notice("%s: %s", h->o->dev, err);
	if (rc) {
		conn_close(&c);
		return -1;
	}
	rc = tnl_attach(&h->cmd, h->ifindex, c.fd, &h->cfg, NULL, err, sizeof(err));
	close(c.fd);
	if (rc) {
		herr(h, LOG_WARNING, "%s: attach failed: %s%s%s", h->o->dev, tnl_strerror(rc),
		       err[0] ? ": " : "", err);
		return -1;
	}
	h->clear.up = true;
	h->clear.tsid = h->cfg.tsid;
	h->clear.last_answer = now();
	h->clear.backoff = 0;
	log_notice("%s: clear tunnel up%s, TSID %016llx, internal %s/%u, keepalive %us",
	       h->o->dev, resumed ? " (resumed)" : "", (unsigned long long)h->cfg.tsid,
	       inet_ntoa(h->cfg.ip4), h->cfg.plen4, h->cfg.keepalive);
	return 0;
}

static void enc_request(struct helper *h)
{
	if (h->svc_seq || h->enc.up || !h->clear.up)
		return;
	h->svc_seq = next_seq();
	h->svc_deadline = now() + 5;
	if (send_ctrl(h, h->ifindex, TSCF_CM_SERVICE_REQ, h->clear.tsid,
		      h->svc_seq, TSCF_SERVICE_ENABLE_DTTE)) {
		herr(h, LOG_WARNING, "%s: cannot send the DTTE service request", h->o->dev);
		h->svc_seq = 0;
		backoff(&h->enc);
	}
}

/*
 * Without "enc": auto over a UDP clear tunnel (real-time traffic keeps
 * datagram semantics, the default), TLS over a TCP one, and TLS
 * for "up DEV encrypted", which does not know the clear tunnel's
 * transport.
 */
static bool enc_auto_default(const struct helper_opts *o, bool enc_only)
{
	return !o->dtls && !o->enc_tls && !o->stream && !enc_only;
}

/* The encrypted transport in force, as "enc" spells it. */
static const char *enc_choice_name(const struct helper_opts *o, bool enc_only)
{
	if (o->dtls)
		return "dtls";
	return o->enc_auto || enc_auto_default(o, enc_only) ? "auto" : "tls";
}

/*
 * The encrypted transports to try, in order: "enc dtls" or "enc tls"
 * alone; "enc auto" DTLS first when the clear tunnel is UDP (real-time
 * traffic then keeps datagram semantics), TLS if DTLS does not come up,
 * as OpenConnect falls back from DTLS to its TLS channel.
 */
static unsigned int enc_order(const struct helper_opts *o, bool enc_only,
			      uint8_t order[2])
{
	if (o->dtls) {
		order[0] = TSCF_TRANSPORT_DTLS;
		return 1;
	}
	if ((o->enc_auto || enc_auto_default(o, enc_only)) && !o->stream) {
		order[0] = TSCF_TRANSPORT_DTLS;
		order[1] = TSCF_TRANSPORT_TLS;
		return 2;
	}
	order[0] = TSCF_TRANSPORT_TLS;
	return 1;
}

static bool find_conn_info(const struct tscf_msg *m, uint8_t transport,
			   struct tscf_conn_info *ci)
{
	const struct tscf_tlv *t;

	for (t = NULL; (t = tscf_msg_find(m, TSCF_TLV_CONN_INFO, t));)
		if (!tscf_tlv_conn_info(t, ci) && ci->transport == transport)
			return true;
	return false;
}

/*
 * One encrypted transport: handshake, CONFIG_REQ/RESP inside it, and
 * for DTLS the record state the kernel goes on with.  On success the
 * socket c->fd is the kernel's to take (the TLS state is forgotten).
 */
static int enc_open(struct helper *h, const struct tscf_conn_info *ci,
		    uint64_t reserved, struct tscf_conn *c, struct tscf_config *cfg,
		    struct dtls_keys *keys, char *err, size_t errlen)
{
	bool dtls = ci->transport == TSCF_TRANSPORT_DTLS;

	if (dtls ? dtls_connect(c, h->o, ci, err, errlen) :
		   tls_connect(c, h->o, ci, true, err, errlen))
		return -1;
	if (conn_config_enc(c, h->clear.tsid, reserved, &h->sec, cfg, err, errlen) ||
	    (dtls && dtls_export(c, keys, err, errlen))) {
		conn_close(c);
		return -1;
	}
	tls_handover(c);
	return 0;
}

/* The twin takes the socket (and for DTLS its keys). */
static int enc_attach(struct helper *h, struct tscf_conn *c, const struct tscf_config *cfg,
		      const struct dtls_keys *keys, char *err, size_t errlen)
{
	int rc;

	/* The twin carries no address of its own, but must be up to receive. */
	rc = link_setup(h->twin, &(struct tscf_config){ .mtu = cfg->mtu }, err, errlen);
	if (!rc)
		rc = tnl_attach(&h->cmd, h->twin, c->fd, cfg, keys, err, errlen);
	close(c->fd);
	return rc;
}

/* SERVICE_RESP arrived: (D)TLS to N+1, configuration, attach to the twin. */
static void enc_connect(struct helper *h, const struct tscf_msg *m)
{
	const struct tscf_tlv *t = tscf_msg_find(m, TSCF_TLV_RESPONSE_CODE, NULL);
	struct tscf_conn_info ci = {};
	struct tscf_config cfg;
	struct dtls_keys keys;
	struct tscf_conn c;
	uint64_t reserved = 0;
	char host[64], where[96], err[256] = "";
	uint16_t code = TSCF_RESP_BAD_REQUEST;
	uint8_t order[2];
	unsigned int i, n;
	int rc;

	h->svc_seq = 0;
	if (t)
		tscf_tlv_u16(t, &code);
	if (code != TSCF_RESP_SUCCESS) {
		herr(h, LOG_WARNING, "%s: server answered %s%s", h->o->dev, tscf_response_name(code),
		       code == TSCF_RESP_SERVICE_UNAVAILABLE ?
		       ": DTTE is not enabled on this interface" : "");
		backoff(&h->enc);
		return;
	}
	t = tscf_msg_find(m, TSCF_TLV_RESERVED_TSID, NULL);
	if (t)
		tscf_tlv_u64(t, &reserved);
	if (!reserved) {
		herr(h, LOG_WARNING, "%s: service response without a reserved TSID", h->o->dev);
		backoff(&h->enc);
		return;
	}
	n = enc_order(h->o, h->enc_only, order);
	for (i = 0; i < n; i++) {
		const char *name = order[i] == TSCF_TRANSPORT_DTLS ? "DTLS" : "TLS";

		where[0] = 0;
		if (!find_conn_info(m, order[i], &ci)) {
			snprintf(err, sizeof(err), "the server offers no %s", name);
		} else {
			inet_ntop(ci.addr.family == 4 ? AF_INET : AF_INET6, &ci.addr.v4,
				  host, sizeof(host));
			snprintf(where, sizeof(where), " to %s port %u", host, ci.port);
			if (!enc_open(h, &ci, reserved, &c, &cfg, &keys, err, sizeof(err)))
				break;
		}
		if (i + 1 < n)
			log_warn("%s: encrypted tunnel over %s: %s; trying TLS", h->o->dev,
				 name, err);
	}
	if (i == n) {
		/* Where the last try went: a filtered port is told by its number. */
		herr(h, LOG_WARNING, "%s: encrypted tunnel%s: %s", h->o->dev, where, err);
		backoff(&h->enc);
		return;
	}
	rc = enc_attach(h, &c, &cfg, order[i] == TSCF_TRANSPORT_DTLS ? &keys : NULL,
			err, sizeof(err));
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (rc) {
		herr(h, LOG_WARNING, "%s: attach to the twin failed: %s%s%s", h->o->dev,
		       tnl_strerror(rc), err[0] ? ": " : "", err);
		backoff(&h->enc);
		return;
	}
	h->enc.up = true;
	h->enc.tsid = cfg.tsid;
	h->enc.since = now();
	h->enc.last_answer = h->enc.since;
	h->enc.backoff = 0;
	log_notice("%s: encrypted tunnel up (DTTE), TSID %016llx, %s to %s port %u",
	       h->o->dev, (unsigned long long)cfg.tsid,
	       order[i] == TSCF_TRANSPORT_DTLS ? "DTLS" : "TLS", host, ci.port);
}

static void enc_release_start(struct helper *h)
{
	if (!h->enc.up || h->rel_seq)
		return;
	h->rel_seq = next_seq();
	h->rel_deadline = now() + RELEASE_WAIT;
	if (send_ctrl(h, h->twin, TSCF_CM_RELEASE_REQ, h->enc.tsid, h->rel_seq, 0))
		h->rel_deadline = 0;
}

static void enc_release_finish(struct helper *h)
{
	h->rel_seq = 0;
	tnl_detach(&h->cmd, h->twin);
	h->enc.up = false;
	log_info("%s: encrypted tunnel released", h->o->dev);
}

static void tunnel_lost(struct helper *h, bool twin, const char *why)
{
	struct tunnel_state *s = twin ? &h->enc : &h->clear;

	if (!s->up)
		return;
	tnl_detach(&h->cmd, twin ? h->twin : h->ifindex);
	/* The address stays: the session may be resumed on a new transport. */
	s->up = false;
	herr(h, LOG_WARNING, "%s: %s tunnel down: %s", h->o->dev, twin ? "encrypted" : "clear", why);
	backoff(s);
	if (twin)
		s->retry_at = now();	/* the clear tunnel still works: retry now */
}

/*
 * The encrypted tunnel's keys have been used for key-lifetime seconds:
 * the tunnel is released and made anew with a fresh handshake.  Neither
 * kTLS (TLS 1.2) nor the module's DTLS records can change keys in place,
 * and DTLS's 48-bit record numbers are not the only limit worth having.
 * Until the new tunnel is attached the twin has none, so encrypted-only
 * sockets fail to send (ENETUNREACH) and nothing of theirs can take the
 * clear tunnel; their flow bindings move to the new tunnel when it comes.
 */
static void enc_rekey(struct helper *h)
{
	log_notice("%s: the encrypted tunnel's keys reached their lifetime (%us): a new handshake",
		   h->o->dev, h->o->key_lifetime);
	send_ctrl(h, h->twin, TSCF_CM_RELEASE_REQ, h->enc.tsid, next_seq(), 0);
	tnl_detach(&h->cmd, h->twin);
	h->enc.up = false;
	h->enc.backoff = 0;
	h->enc.retry_at = now();
	if (h->demand)
		enc_request(h);
}

static void on_ctrl(struct helper *h, const struct tscf_ev *ev)
{
	bool twin = ev->ifindex == h->twin;
	struct tunnel_state *s = twin ? &h->enc : &h->clear;
	struct tscf_msg m;

	if (tscf_msg_decode(ev->frame, ev->frame_len, &m))
		return;
	if (m.tsid != s->tsid) {
		/*
		 * The patent: a wrong TSID terminates the tunnel; but not a
		 * UDP one, where anyone can send a datagram from the server's
		 * address (and a late COOKIE carries no TSID): dropped.
		 */
		if (!twin && !h->o->stream) {
			log_warn("%s: dropped a %s with a wrong TSID", h->o->dev,
			       tscf_cm_type_name(m.type));
			return;
		}
		tunnel_lost(h, twin, "control message with a wrong TSID");
		return;
	}
	s->last_answer = now();
	if (m.type == TSCF_CM_SERVICE_RESP && !twin && h->svc_seq == m.seq)
		enc_connect(h, &m);
	else if (m.type == TSCF_CM_RELEASE_RESP && twin && h->rel_seq == m.seq)
		enc_release_finish(h);
	else if (m.type == TSCF_CM_FLOW_BIND_RESP) {
		const struct tscf_tlv *t = tscf_msg_find(&m, TSCF_TLV_RESPONSE_CODE, NULL);
		uint16_t code = 0;

		if (t && !tscf_tlv_u16(t, &code) && code)
			log_warn("%s: server refused a flow binding: %s", h->o->dev,
			       tscf_response_name(code));
	}
}

static void on_event(const struct tscf_ev *ev, void *arg)
{
	struct helper *h = arg;

	if (ev->ifindex != h->ifindex && ev->ifindex != h->twin)
		return;
	switch (ev->cmd) {
	case TSCF_CMD_CTRL_RECV:
		on_ctrl(h, ev);
		break;
	case TSCF_CMD_TUNNEL_EVENT:
		if (ev->event == TSCF_EVENT_DOWN) {
			char text[96];

			snprintf(text, sizeof(text), "%s (%s)",
				 down_reason_text(ev->reason),
				 down_reason_name(ev->reason));
			tunnel_lost(h, ev->ifindex == h->twin, text);
		}
		break;
	case TSCF_CMD_ENC_DEMAND:
		if (ev->ifindex != h->ifindex || h->enc_only)
			break;
		h->demand = ev->demand;
		log_info("%s: %s", h->o->dev, h->demand ?
		       "a socket wants encryption: requesting DTTE" :
		       "no socket wants encryption any more");
		if (h->demand) {
			h->enc.backoff = 0;
			enc_request(h);
		} else {
			enc_release_start(h);
		}
		break;
	}
}

static void keepalive(struct helper *h, bool twin)
{
	struct tunnel_state *s = twin ? &h->enc : &h->clear;
	time_t t = now();

	if (!s->up)
		return;
	if (t - s->last_answer > 3 * (time_t)h->cfg.keepalive) {
		tunnel_lost(h, twin, "no keepalive answer");
		return;
	}
	send_ctrl(h, twin ? h->twin : h->ifindex, TSCF_CM_KEEPALIVE_REQ, s->tsid,
		  next_seq(), 0);
}

/* Monotonic seconds to epoch seconds, for readers in other processes. */
static long long wall(time_t mono)
{
	/* one offset, so that a steady state reads the same every second */
	static long long offset;

	if (!offset)
		offset = (long long)time(NULL) - (long long)now();
	return mono ? offset + (long long)mono : 0;
}

/*
 * What "show" prints about the helper: rewritten only when it changes
 * (the times in it are absolute, so a steady state is one write).
 */
static void publish(struct helper *h, const char *state)
{
	const struct tunnel_state *s = h->enc_only ? &h->enc : &h->clear;
	char text[sizeof(h->published)];
	const char *enc;

	if (!state)
		state = s->up ? "up" : s->retry_at ? "retrying" : "connecting";
	enc = h->enc.up ? (h->rel_seq ? "releasing" : "up") :
	      h->svc_seq ? "requested" : h->demand ? "wanted" : "down";
	snprintf(text, sizeof(text),
		 "pid=%d\nstate=%s\nencrypted=%s\nlast_error=%s\nretry_at=%lld\n"
		 "last_answer=%lld\nkeepalive=%u\n",
		 (int)getpid(), state, enc, h->last_error,
		 s->up ? 0 : wall(s->retry_at), s->up ? wall(s->last_answer) : 0,
		 h->cfg.keepalive);
	if (!strcmp(text, h->published))
		return;
	snprintf(h->published, sizeof(h->published), "%s", text);
	state_publish(&h->reg, text);
}

static void tick(struct helper *h, unsigned long *secs)
{
	time_t t = now();

	(*secs)++;
	if (!h->enc_only && !h->clear.up && t >= h->clear.retry_at &&
	    clear_up(h))
		backoff(&h->clear);
	if (h->svc_seq && t > h->svc_deadline) {
		herr(h, LOG_WARNING, "%s: no answer to the DTTE service request", h->o->dev);
		h->svc_seq = 0;
		backoff(&h->enc);
	}
	if (!h->enc_only && h->demand && !h->enc.up && !h->svc_seq &&
	    t >= h->enc.retry_at)
		enc_request(h);
	if (h->rel_seq && t >= h->rel_deadline)
		enc_release_finish(h);
	if (!h->enc_only && h->enc.up && !h->rel_seq &&
	    t - h->enc.since >= (time_t)h->o->key_lifetime)
		enc_rekey(h);
	if (h->cfg.keepalive && *secs % h->cfg.keepalive == 0) {
		if (!h->enc_only)
			keepalive(h, false);
		keepalive(h, true);
	}
	publish(h, NULL);
}

static void shutdown_tunnels(struct helper *h)
{
	struct pollfd p = { .fd = nl_socket_get_fd(h->ev.sk), .events = POLLIN };
	time_t end = now() + RELEASE_WAIT;

	if (h->enc.up)
		send_ctrl(h, h->twin, TSCF_CM_RELEASE_REQ, h->enc.tsid, next_seq(), 0);
	if (h->clear.up && !h->enc_only)
		send_ctrl(h, h->ifindex, TSCF_CM_RELEASE_REQ, h->clear.tsid,
			  next_seq(), 0);
	/* Give the releases a moment to leave before the sockets go. */
	while (now() <= end && poll(&p, 1, 200) >= 0)
		tnl_events(&h->ev, on_event, h);
	if (h->enc.up)
		tnl_detach(&h->cmd, h->twin);
	if (h->clear.up && !h->enc_only)
		tnl_detach(&h->cmd, h->ifindex);
	/* Kept while the tunnel was down, for a resume: not any more. */
	if (!h->enc_only)
		link_unaddr(h->ifindex, &h->cfg);
	log_notice("%s: released and detached", h->o->dev);
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int helper_init(struct helper *h)
{
	uint64_t tsid;
	int rc;

	h->ifindex = (int)if_nametoindex(h->o->dev);
	if (!h->ifindex) {
		herr(h, LOG_ERR, "%s: no such device (ip link add %s type tscf)", h->o->dev, h->o->dev);
		return -1;
	}
	rc = tnl_open(&h->cmd, 0);
	if (!rc)
		rc = tnl_open(&h->ev, TNL_GRP_CTRL | TNL_GRP_TUNNEL);
	if (rc) {
		herr(h, LOG_ERR, "%s", tnl_strerror(rc));
		return -1;
	}
	nl_socket_set_nonblocking(h->ev.sk);
	rc = tnl_dev_twin(&h->cmd, h->ifindex, &h->twin, &tsid);
	if (rc) {
		herr(h, LOG_ERR, "%s: %s", h->o->dev, tnl_strerror(rc));
		return -1;
	}
	if (!h->enc_only && tsid) {
		/*
		 * Someone else's tunnel (a helper from before the registry, a
		 * test's own netlink client): a new session would take the
		 * device's addresses from under it.  Refuse, touching nothing.
		 */
		herr(h, LOG_ERR, "%s: already has a tunnel (TSID %016llx): tscfctl down %s first",
		     h->o->dev, (unsigned long long)tsid, h->o->dev);
		return -1;
	}
	if (h->enc_only) {
		/* The twin hangs off a clear tunnel someone else keeps. */
		if (!tsid) {
			herr(h, LOG_ERR, "%s: has no clear tunnel (tscfctl up %s server ...)",
			     h->o->dev, h->o->dev);
			return -1;
		}
		if (secret_new(h->sec.dtte)) {
			herr(h, LOG_ERR, "%s: no randomness for the DTTE secret", h->o->dev);
			return -1;
		}
		h->clear.up = true;
		h->clear.tsid = tsid;
		h->cfg.keepalive = 30;
		h->demand = true;
	}
	return 0;
}

static int helper_loop(struct helper *h, int sigfd)
{
	struct itimerspec its = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	const struct helper_opts *o = h->o;
	struct pollfd p[3];
	unsigned long secs = 0;
	uint64_t ticks;

	if (!o->ca && !o->system_ca)
		log_warn("%s: no 'ca FILE': an encrypted tunnel will be refused", o->dev);
	if (!h->enc_only && clear_up(h))
		return 1;
	if (h->enc_only) {
		enc_request(h);
		while (h->svc_seq && now() <= h->svc_deadline) {
			struct pollfd e = { .fd = nl_socket_get_fd(h->ev.sk), .events = POLLIN };

			if (poll(&e, 1, 500) > 0)
				tnl_events(&h->ev, on_event, h);
		}
		if (!h->enc.up) {
			herr(h, LOG_ERR, "%s: encrypted tunnel not established", o->dev);
			return 1;
		}
		h->demand = false;	/* this process keeps it until told */
	}
	/* Detach only now, so that the exit status says whether it came up. */
	if (o->daemon) {
		if (daemon(0, 0)) {
			herr(h, LOG_ERR, "%s: cannot detach: %s", o->dev, strerror(errno));
			shutdown_tunnels(h);
			return 1;
		}
		log_to_syslog();
		reg_update_pid(&h->reg);
	}
	publish(h, NULL);
	p[0].fd = nl_socket_get_fd(h->ev.sk);
	p[1].fd = sigfd;
	p[2].fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	timerfd_settime(p[2].fd, 0, &its, NULL);
	p[0].events = p[1].events = p[2].events = POLLIN;

	while (!h->stop) {
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			tnl_events(&h->ev, on_event, h);
		if (p[1].revents) {
			struct signalfd_siginfo si;

			if (read(p[1].fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("%s: %s: shutting down", o->dev, strsignal((int)si.ssi_signo));
				h->stop = true;
			}
		}
		if (p[2].revents && read(p[2].fd, &ticks, sizeof(ticks)) > 0)
			tick(h, &secs);
	}
	publish(h, "stopping");
	shutdown_tunnels(h);
	close(p[2].fd);
	return 0;
}

int helper_run(const struct helper_opts *o, bool enc_only)
{
	struct helper h = { .o = o, .enc_only = enc_only };
	char err[PATH_MAX + 64];
	pid_t holder;
	int rc, sigfd;

	log_debug("%s: settings: server %s port %u transport %s%s%s%s%s%s%s%s%s%s, enc %s%s", o->dev,
		  o->server ? o->server : "-", o->port, o->stream ? "tcp" : "udp",
		  o->ca ? ", ca " : "", o->ca ? o->ca : "",
		  o->system_ca ? ", system-ca" : "",
		  o->server_name ? ", server-name " : "", o->server_name ? o->server_name : "",
		  o->allow_redirect ? ", allow-redirect" : "",
		  o->pidfile ? ", pidfile " : "", o->pidfile ? o->pidfile : "",
		  o->daemon ? ", daemon" : "", enc_choice_name(o, enc_only),
		  enc_only ? ", mode encrypted" : "");
	/* SIGTERM from "down" while starting ends the start, cleanly. */
	sigfd = signal_fd();
	rc = reg_claim(&h.reg, o->dev, enc_only, o->pidfile, &holder, err, sizeof(err));
	if (rc == -EEXIST) {
		log_err("%s: already up: its %shelper is pid %d (tscfctl down %s first)",
			o->dev, enc_only ? "encrypted " : "", (int)holder, o->dev);
		return 1;
	}
	if (rc) {
		log_err("%s: cannot register the helper: %s", o->dev, err);
		return 1;
	}
	rc = 1;
	if (!helper_init(&h))
		rc = helper_loop(&h, sigfd);
	tnl_close(&h.cmd);
	tnl_close(&h.ev);
	reg_release(&h.reg);
	close(sigfd);
	return rc;
}

int cmd_down(const char *dev)
{
	struct tscf_nl nl;
	int twin, rc, ifindex;
	bool stopped;
	uint64_t tsid;

	/* The registry finds the helper however it was started. */
	reg_stop(dev, true);
	stopped = reg_stop(dev, false);
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex)
		die("Device \"%s\" does not exist.", dev);
	if (stopped)
		return 0;
	/* No helper: detach whatever is attached. */
	rc = tnl_open(&nl, 0);
	if (rc)
		die("%s", tnl_strerror(rc));
	rc = tnl_dev_twin(&nl, ifindex, &twin, &tsid);
	if (rc)
		die("%s: %s", dev, tnl_strerror(rc));
	tnl_detach(&nl, twin);
	tnl_detach(&nl, ifindex);
	tnl_close(&nl);
	return 0;
}

int cmd_probe(const struct helper_opts *o, bool json)
{
	struct tscf_config cfg, ecfg;
	struct tscf_secrets sec;
	struct tscf_conn_info ci;
	struct tscf_conn c, e;
	struct json_writer w;
	uint64_t reserved;
	char err[256], host[64], ip[INET6_ADDRSTRLEN], tsid[17];
	const char *enc = o->dtls ? "DTLS" : "TLS";

	if (secret_new(sec.dtte))
		die("no randomness for the session secrets");
	if (conn_open(&c, o->server, o->port, o->stream, err, sizeof(err)) ||
	    conn_config(&c, &sec, &cfg, err, sizeof(err)))
		die("%s", err);
	inet_ntop(AF_INET, &cfg.ip4, ip, sizeof(ip));
	snprintf(tsid, sizeof(tsid), "%016llx", (unsigned long long)cfg.tsid);
	if (json) {
		json_init(&w, stdout);
		json_obj_begin(&w, NULL);
		json_obj_begin(&w, "clear");
		json_str(&w, "transport", o->stream ? "tcp" : "udp");
		json_str(&w, "tsid", tsid);
		json_str(&w, "internal_ipv4", ip);
		json_u64(&w, "prefix_len", cfg.plen4);
		if (tscf_config_has_ip6(&cfg)) {
			char ip6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &cfg.ip6, ip6, sizeof(ip6));
			json_str(&w, "internal_ipv6", ip6);
		}
		json_u64(&w, "keepalive", cfg.keepalive);
		json_obj_end(&w);
	} else {
		printf("clear tunnel: %s, TSID %s, internal %s/%u, keepalive %us\n",
		       o->stream ? "tcp" : "udp", tsid, ip, cfg.plen4, cfg.keepalive);
	}
	if (conn_service(&c, cfg.tsid, &sec, &reserved, &ci,
			 o->dtls ? TSCF_TRANSPORT_DTLS : TSCF_TRANSPORT_TLS,
			 err, sizeof(err))) {
		if (json) {
			json_obj_begin(&w, "dtte");
			json_bool(&w, "granted", false);
			json_str(&w, "error", err);
			json_obj_end(&w);
			json_obj_end(&w);
			json_finish(&w);
		} else {
			printf("DTTE: unavailable (%s)\n", err);
		}
		conn_release(&c, cfg.tsid);
		conn_close(&c);
		return 0;
	}
	inet_ntop(ci.addr.family == 4 ? AF_INET : AF_INET6, &ci.addr.v4, host,
		  sizeof(host));
	if ((o->dtls ? dtls_connect(&e, o, &ci, err, sizeof(err)) :
	     tls_connect(&e, o, &ci, false, err, sizeof(err)))) {
		conn_release(&c, cfg.tsid);
		die("DTTE granted, but the encrypted tunnel failed: %s", err);
	}
	if (json) {
		json_obj_begin(&w, "dtte");
		json_bool(&w, "granted", true);
		json_str(&w, "transport", o->dtls ? "dtls" : "tls");
		json_str(&w, "address", host);
		json_u64(&w, "port", ci.port);
		json_str(&w, "protocol", SSL_get_version(e.ssl));
		json_str(&w, "cipher", SSL_get_cipher_name(e.ssl));
		json_bool(&w, "ktls_tx", BIO_get_ktls_send(SSL_get_wbio(e.ssl)));
		json_bool(&w, "ktls_rx", BIO_get_ktls_recv(SSL_get_rbio(e.ssl)));
		json_obj_end(&w);
	} else {
		printf("DTTE: granted, %s to %s port %u, %s %s, kTLS tx %s rx %s\n",
		       enc, host, ci.port, SSL_get_version(e.ssl),
		       SSL_get_cipher_name(e.ssl),
		       BIO_get_ktls_send(SSL_get_wbio(e.ssl)) ? "yes" : "no",
		       BIO_get_ktls_recv(SSL_get_rbio(e.ssl)) ? "yes" : "no");
	}
	if (conn_config_enc(&e, cfg.tsid, reserved, &sec, &ecfg, err, sizeof(err)))
		die("encrypted configuration: %s", err);
	inet_ntop(AF_INET, &ecfg.ip4, ip, sizeof(ip));
	snprintf(tsid, sizeof(tsid), "%016llx", (unsigned long long)ecfg.tsid);
	if (json) {
		json_obj_begin(&w, "encrypted");
		json_str(&w, "tsid", tsid);
		json_str(&w, "internal_ipv4", ip);
		json_obj_end(&w);
		json_obj_end(&w);
		json_finish(&w);
	} else {
		printf("encrypted tunnel: TSID %s, internal %s\n", tsid, ip);
	}
	conn_release(&e, ecfg.tsid);
	conn_release(&c, cfg.tsid);
	conn_close(&e);
	conn_close(&c);
	return 0;
}
