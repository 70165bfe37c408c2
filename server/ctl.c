// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The control socket: "tscfd --stats", "--sessions" and "--disconnect"
 * connect, send one request line, read the answer until the server
 * closes.  Requests:
 *   stats text|json|openmetrics
 *   sessions text|json
 *   disconnect TSID          (16 hex digits; answers "ok" or "error: ...")
 * The socket is the admin's interface (--disconnect ends sessions): it is
 * created mode 0600, owned by the user tscfd runs as, and a connection
 * whose peer is neither root nor that user is refused (SO_PEERCRED).
 * A request is answered inline, blocking with a short timeout: only root
 * or the service user can connect, so only they can make the loop wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "tscfd.h"

static uid_t ctl_uid;	/* the user tscfd runs as, besides root */

int tscfd_ctl_listen(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket is replaced; anything else at the path is not ours. */
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode)) {
		close(fd);
		return -EEXIST;
	}
	unlink(path);
	old = umask(0177);	/* born 0600: no window with a wider mode */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, 8) < 0 || chown(path, uid, gid) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	ctl_uid = uid;
	return fd;
}

static const char *const gauge_help[][2] = {
	{ "tunnels", "Tunnels open." },
	{ "sessions", "Sessions (clear tunnels with a configuration)." },
	{ "encrypted_tunnels", "Sessions with an encrypted tunnel up." },
	{ "flows", "Flow bindings of all sessions." },
	{ "handshakes", "TLS and DTLS handshakes in flight." },
	{ "preauth_bytes", "Bytes buffered by unconfigured stream tunnels." },
	{ "backlog_bytes", "Send backlog of all tunnels, bytes." },
	{ "heap_bytes", "Heap in use (mallinfo2), bytes." },
	{ "timer_tick_us", "Duration of the last timer tick that looked at tunnels, microseconds." },
	{ "timer_tick_max_us", "Longest timer tick, microseconds." },
	{ "timer_tick_max_cpu_us", "Most CPU time of one timer tick, microseconds." },
	{ "timer_tick_tunnels", "Tunnels the last timer tick looked at." },
	{ "timer_tunnels", "Tunnels looked at by all timer ticks." },
	{ "kernel_datapath", "1 if tscf.ko's server device carries clear UDP tunnels." },
	{ "kernel_peers", "Clear UDP tunnels known to the kernel data path." },
	{ "kernel_fast_peers", "Of them, tunnels whose packets the kernel carries itself." },
};

/* malloc's own count: what tunnels and sessions cost, without page noise */
static uint64_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

static void gauges(uint64_t *v)
{
	struct tscfd_timer_stats ts;
	unsigned int enc, flows;

	tscfd_kdp_sync_all();	/* the packets the kernel carried, counted */
	tscfd_sessions_stats(&enc, &flows);
	v[0] = tscfd_tunnel_count();
	v[1] = tscfd_session_count();
	v[2] = enc;
	v[3] = flows;
	v[4] = tscfd_handshakes();
	v[5] = tscfd_preauth_bytes();
	v[6] = tscfd_backlog_bytes();
	v[7] = heap_bytes();
	tscfd_timer_stats(&ts);
	v[8] = ts.last_us;
	v[9] = ts.max_us;
	v[10] = ts.max_cpu_us;
	v[11] = ts.last_tunnels;
	v[12] = ts.tunnels;
	v[13] = tscfd_kdp_on();
	tscfd_kdp_counts(&v[14], &v[15]);
}

#define NGAUGES (sizeof(gauge_help) / sizeof(gauge_help[0]))

static void render_stats(FILE *out, bool json)
{
	struct json_writer w;
	uint64_t g[NGAUGES];
	unsigned int i;

	gauges(g);
	if (!json) {
		for (i = 0; i < NGAUGES; i++)
			fprintf(out, "%s: %" PRIu64 "\n", gauge_help[i][0], g[i]);
#define X(c, help) fprintf(out, #c ": %" PRIu64 "\n", tscfd_stats.c);
		TSCFD_COUNTERS(X)
#undef X
		return;
	}
	json_init(&w, out);
	json_obj_begin(&w, NULL);
	for (i = 0; i < NGAUGES; i++)
		json_u64(&w, gauge_help[i][0], g[i]);
#define X(c, help) json_u64(&w, #c, tscfd_stats.c);
	TSCFD_COUNTERS(X)
#undef X
	json_obj_end(&w);
	json_finish(&w);
}

static void om_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# TYPE tscfd_%s %s\n# HELP tscfd_%s %s\n", name, type, name, help);
}

/* Label values: backslash, quote and newline escaped (OpenMetrics). */
static void om_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void om_iface_labels(FILE *out, const struct tscfd_iface *f, const char *extra)
{
	fputs("{address=\"", out);
	om_label(out, f->addr_str);
	fprintf(out, "\",port=\"%u\"%s}", f->port, extra);
}

/*
 * OpenMetrics 1.0 text: a family per counter (its sample ends in
 * _total), gauges, per-interface series labelled address and port, and
 * the closing "# EOF".
 */
void tscfd_metrics_render(FILE *out)
{
	uint64_t g[NGAUGES];
	unsigned int i, k;

	gauges(g);
	for (i = 0; i < NGAUGES; i++) {
		om_family(out, gauge_help[i][0], "gauge", gauge_help[i][1]);
		fprintf(out, "tscfd_%s %" PRIu64 "\n", gauge_help[i][0], g[i]);
	}
#define X(c, help) om_family(out, #c, "counter", help); \
	fprintf(out, "tscfd_" #c "_total %" PRIu64 "\n", tscfd_stats.c);
	TSCFD_COUNTERS(X)
#undef X
	om_family(out, "interface_tunnels", "gauge", "Tunnels open per tscf-interface.");
	for (i = 0; i < tscfd_conf.niface; i++) {
		fputs("tscfd_interface_tunnels", out);
		om_iface_labels(out, &tscfd_conf.iface[i], "");
		fprintf(out, " %u\n", tscfd_conf.iface[i].ntunnels);
	}
	om_family(out, "interface_max_tunnels", "gauge", "max-tunnels per tscf-interface.");
	for (i = 0; i < tscfd_conf.niface; i++) {
		fputs("tscfd_interface_max_tunnels", out);
		om_iface_labels(out, &tscfd_conf.iface[i], "");
		fprintf(out, " %u\n", tscfd_conf.iface[i].max_tunnels);
	}
	om_family(out, "interface_dtte_enabled", "gauge",
		  "1 if assigned-services has DTTE on the tscf-interface.");
	for (i = 0; i < tscfd_conf.niface; i++) {
		fputs("tscfd_interface_dtte_enabled", out);
		om_iface_labels(out, &tscfd_conf.iface[i], "");
		fprintf(out, " %d\n", tscfd_conf.iface[i].dtte);
	}
	om_family(out, "pool_addresses_free", "gauge",
		  "Free addresses in a tscf-interface's pool.");
	for (i = 0; i < tscfd_conf.niface; i++)
		for (k = 0; k < 2; k++) {
			const struct tscfd_pool *p = k ? &tscfd_conf.iface[i].pool6 :
							 &tscfd_conf.iface[i].pool4;

			if (!p->set)
				continue;
			fputs("tscfd_pool_addresses_free", out);
			om_iface_labels(out, &tscfd_conf.iface[i],
					k ? ",family=\"ipv6\"" : ",family=\"ipv4\"");
			/* nfree counts from the pool's first use */
			fprintf(out, " %u\n", p->used ? p->nfree : p->size);
		}
	fputs("# EOF\n", out);
}

static const char *dtte_state(const struct tscfd_session *s)
{
	if (s->enc)
		return "up";
	if (s->reserved_tsid && s->reserve_until >= tscfd_now())
		return "reserved";
	return s->dtte ? "available" : "off";
}

static const char *addr_str(const struct tscf_addr *a, char *buf, size_t len)
{
	if (!a->family)
		return NULL;
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6,
		  a->family == 4 ? (const void *)&a->v4 : (const void *)&a->v6, buf, len);
	return buf;
}

static void json_tunnel(struct json_writer *w, const struct tscfd_tunnel *t, time_t now)
{
	char tsid[17];

	snprintf(tsid, sizeof(tsid), "%016" PRIx64, t->tsid);
	json_str(w, "tsid", tsid);
	json_str(w, "peer", tscfd_peer_str(t));
	json_str(w, "transport", tscfd_kind_str(t->kind));
	json_u64(w, "age_secs", (uint64_t)(now - t->created));
	json_u64(w, "rx_packets", t->rx_packets);
	json_u64(w, "rx_bytes", t->rx_bytes);
	json_u64(w, "tx_packets", t->tx_packets);
	json_u64(w, "tx_bytes", t->tx_bytes);
}

static void text_tunnel(FILE *out, const struct tscfd_tunnel *t, const char *inner,
			const char *dtte, time_t now)
{
	fprintf(out, "%016" PRIx64 "  %-22s %-5s %-32s %-9s %6lld %8" PRIu64 " %10" PRIu64
		" %8" PRIu64 " %10" PRIu64 "\n", t->tsid, tscfd_peer_str(t),
		tscfd_kind_str(t->kind), inner, dtte, (long long)(now - t->created),
		t->rx_packets, t->rx_bytes, t->tx_packets, t->tx_bytes);
}

/*
 * One entry per session, named by its clear tunnel; its encrypted tunnel
 * (if up) is listed with it.  Rows of the text form are tunnels.
 */
static void render_sessions(FILE *out, bool json)
{
	struct json_writer w;
	struct tscfd_tunnel *t;
	time_t now = tscfd_now();

	tscfd_kdp_sync_all();	/* the packets the kernel carried, counted */
	if (json) {
		json_init(&w, out);
		json_obj_begin(&w, NULL);
		json_arr_begin(&w, "sessions");
	} else {
		fprintf(out, "%-16s  %-22s %-5s %-32s %-9s %6s %8s %10s %8s %10s\n", "TSID",
			"PEER", "TRANS", "INNER", "DTTE", "AGE", "RX_PKTS", "RX_BYTES",
			"TX_PKTS", "TX_BYTES");
	}
	for (t = tscfd_tunnel_first(); t; t = t->next) {
		const struct tscfd_session *s = t->session;
		char a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN], inner[2 * INET6_ADDRSTRLEN + 2];
		const char *ip4, *ip6;

		if (t->dead || !s || s->clear != t || !t->configured)
			continue;
		ip4 = addr_str(&s->ip4, a4, sizeof(a4));
		ip6 = addr_str(&s->ip6, a6, sizeof(a6));
		if (!json) {
			snprintf(inner, sizeof(inner), "%s%s%s", ip4 ? ip4 : "",
				 ip4 && ip6 ? "," : "", ip6 ? ip6 : "");
			text_tunnel(out, t, inner, dtte_state(s), now);
			if (s->enc)
				text_tunnel(out, s->enc, "  (encrypted tunnel)", "", now);
			continue;
		}
		json_obj_begin(&w, NULL);
		json_tunnel(&w, t, now);
		if (ip4)
			json_str(&w, "ipv4", ip4);
		else
			json_null(&w, "ipv4");
		if (ip6)
			json_str(&w, "ipv6", ip6);
		else
			json_null(&w, "ipv6");
		json_str(&w, "dtte", dtte_state(s));
		json_u64(&w, "flows", tscfd_flow_count(s));
		if (s->enc) {
			json_obj_begin(&w, "encrypted");
			json_tunnel(&w, s->enc, now);
			json_obj_end(&w);
		} else {
			json_null(&w, "encrypted");
		}
		json_obj_end(&w);
	}
	if (json) {
		json_arr_end(&w);
		json_obj_end(&w);
		json_finish(&w);
	}
}

/* A session ends with its clear tunnel, and takes its encrypted one along. */
static void disconnect(FILE *out, const char *arg)
{
	struct tscfd_tunnel *t;
	uint64_t tsid;
	char *end;

	errno = 0;
	tsid = strtoull(arg ? arg : "", &end, 16);
	if (!arg || !*arg || *end || errno || strlen(arg) > 16) {
		fprintf(out, "error: '%s' is not a TSID (16 hex digits)\n", arg ? arg : "");
		return;
	}
	t = tscfd_tunnel_find(tsid);
	if (!t || t->dead) {
		fprintf(out, "error: no tunnel %016" PRIx64 "\n", tsid);
		return;
	}
	if (t->session && t->session->clear)
		t = t->session->clear;
	tscfd_logp(LOG_NOTICE, "tunnel %016llx peer %s: disconnected by the administrator",
		   (unsigned long long)t->tsid, tscfd_peer_str(t));
	tscfd_tunnel_close(t, "disconnected by the administrator");
	fprintf(out, "ok\n");
}

static void answer(FILE *out, char *req)
{
	char *rest, *cmd = strtok_r(req, " \t\r\n", &rest);
	char *arg = strtok_r(NULL, " \t\r\n", &rest);

	if (cmd && !strcmp(cmd, "stats") && arg && !strcmp(arg, "openmetrics"))
		tscfd_metrics_render(out);
	else if (cmd && !strcmp(cmd, "stats"))
		render_stats(out, arg && !strcmp(arg, "json"));
	else if (cmd && !strcmp(cmd, "sessions"))
		render_sessions(out, arg && !strcmp(arg, "json"));
	else if (cmd && !strcmp(cmd, "disconnect"))
		disconnect(out, arg);
	else
		fprintf(out, "error: unknown request\n");
}

static bool peer_allowed(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	return cr.uid == 0 || cr.uid == ctl_uid || cr.uid == geteuid();
}

void tscfd_ctl_accept(int lfd)
{
	struct timeval tv = { .tv_sec = 1 };
	char req[128], *buf = NULL;
	size_t len = 0, got = 0;
	FILE *out;
	ssize_t n;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!peer_allowed(fd)) {
		tscfd_logp(LOG_WARNING, "control socket: connection from a user that is "
			   "neither root nor tscfd's: refused");
		close(fd);
		return;
	}
	/* The client sends its request first; do not wait long for it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tv.tv_sec = 2;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1 && !memchr(req, '\n', got) &&
	       (n = read(fd, req + got, sizeof(req) - 1 - got)) > 0)
		got += (size_t)n;
	req[got] = 0;
	out = open_memstream(&buf, &len);
	if (!out) {
		close(fd);
		return;
	}
	answer(out, req);
	if (fclose(out) == 0) {
		size_t off = 0;

		while (off < len && (n = write(fd, buf + off, len - off)) > 0)
			off += (size_t)n;
		if (off < len)
			tscfd_logp(LOG_WARNING, "control socket: write: %s",
				   n < 0 ? strerror(errno) : "short write");
	}
	free(buf);
	close(fd);
}

/* 0: answered; 1: cannot reach the server, or it answered "error: ...". */
int tscfd_ctl_query(const char *path, const char *request)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	bool first = true, error = false;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tscfd: control socket path too long: %s\n", path);
		return 1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "tscfd: cannot reach the server at %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	snprintf(buf, sizeof(buf), "%s\n", request);
	if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		fprintf(stderr, "tscfd: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n >= 6 && !memcmp(buf, "error:", 6))
			error = true;
		first = false;
		fwrite(buf, 1, (size_t)n, error ? stderr : stdout);
	}
	close(fd);
	if (first) {
		fprintf(stderr, "tscfd: %s: the server closed the connection without "
			"an answer\n", path);
		return 1;
	}
	return error ? 1 : 0;
}
