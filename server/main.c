// SPDX-License-Identifier: GPL-2.0
/*
 * tscfd: the TSCF tunneling server.  usage() lists the command lines;
 * docs/SERVER.md describes them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tscfd.h"

struct tscfd_config tscfd_conf;
struct tscfd_stats tscfd_stats;

#include "version.h"	/* TSCF_VERSION, made by the Makefile */

static const char usage_text[] =
	"usage: tscfd -c FILE [-v]...        run in the foreground\n"
	"       tscfd -t -c FILE             check the configuration and exit 0/1\n"
	"       tscfd --stats [-j | --format text|json|openmetrics] [-c FILE | -s SOCKET]\n"
	"       tscfd --sessions [-j] [-c FILE | -s SOCKET]\n"
	"       tscfd --disconnect TSID [-c FILE | -s SOCKET]\n"
	"       tscfd -V | --version\n"
	"       tscfd -h | --help\n"
	"  -v: more log detail (notice, then info, then debug); the control\n"
	"  socket is the configured control-socket (default /run/tscfd.sock).\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		 (unsigned long long)ts.tv_nsec / 1000);
	tscfd_notify(msg);
}

/* SIGHUP: new values for new tunnels; existing tunnels keep theirs. */
static void reload(const char *path)
{
	static struct tscfd_config next;
	char err[512];
	unsigned int i, j;

	notify_reloading();
	if (tscfd_config_load(path, &next, err, sizeof(err))) {
		tscfd_logp(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		tscfd_notify("READY=1\nSTATUS=reload failed, running configuration kept");
		return;
	}
	tscfd_conf.log_level = next.log_level;
	tscfd_conf.log_rate = next.log_rate;
	tscfd_conf.use_syslog = next.use_syslog;
	tscfd_log_setup(&tscfd_conf);
	tscfd_conf.keepalive_secs = next.keepalive_secs;
	tscfd_conf.stream_idle_secs = next.stream_idle_secs;
	tscfd_conf.stream_persist_secs = next.stream_persist_secs;
	tscfd_conf.datagram_timeout_secs = next.datagram_timeout_secs;
	tscfd_conf.max_handshakes = next.max_handshakes;
	tscfd_conf.max_preauth_bytes = next.max_preauth_bytes;
	tscfd_conf.max_backlog_bytes = next.max_backlog_bytes;
	tscfd_conf.stream_super_frames = next.stream_super_frames;
	tscfd_conf.udp_super_frames = next.udp_super_frames;
	for (i = 0; i < next.niface; i++) {
		struct tscfd_iface *n = &next.iface[i];

		for (j = 0; j < tscfd_conf.niface; j++) {
			struct tscfd_iface *o = &tscfd_conf.iface[j];

			if (strcmp(o->addr_str, n->addr_str) || o->port != n->port)
				continue;
			o->dtte = n->dtte;
			o->max_tunnels = n->max_tunnels;
			o->ndns = n->ndns;
			memcpy(o->dns, n->dns, sizeof(o->dns));
			break;
		}
		if (j == tscfd_conf.niface)
			tscfd_logp(LOG_WARNING, "reload: new interface %s port %u needs a restart",
				  n->addr_str, n->port);
	}
	tscfd_log("configuration reloaded from %s", path);
	tscfd_notify("READY=1");
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int setup_timer(void)
{
	struct itimerspec its = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd >= 0)
		timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

/*
 * Whom to run as once the sockets are bound: the configured user and group
 * (the user's own group if only the user is named), nobody/nogroup by
 * default; "user root" keeps root.  Only root can change: 0 means no
 * change, 1 a change to uid and gid, -1 a name that does not exist.
 */
int tscfd_drop_target(const struct tscfd_config *conf, uid_t *uid, gid_t *gid)
{
	const char *uname = conf->user[0] ? conf->user : "nobody";
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0 || !strcmp(uname, "root"))
		return 0;
	pw = getpwnam(uname);
	if (!pw) {
		tscfd_logp(LOG_ERR, "user '%s' does not exist", uname);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (conf->group[0] || !conf->user[0]) {
		const char *gname = conf->group[0] ? conf->group : "nogroup";

		gr = getgrnam(gname);
		if (gr)
			*gid = gr->gr_gid;
		else if (conf->group[0]) {
			tscfd_logp(LOG_ERR, "group '%s' does not exist", gname);
			return -1;
		}
	}
	return 1;
}

/*
 * After binding: become the unprivileged user, keeping CAP_NET_ADMIN only
 * (the TUN device and the sockets are already open).  Every other
 * capability leaves the bounding set too, so nothing can regain it.
 */
static int drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uid_t uid;
	gid_t gid;
	int cap, rc = tscfd_drop_target(&tscfd_conf, &uid, &gid);

	if (rc <= 0)
		return rc;
	for (cap = 0; cap <= 63; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno != EINVAL)
			goto fail;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(1, &gid) ||
	    setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		goto fail;
	data[0].effective = data[0].permitted = 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &hdr, data) || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		goto fail;
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer inspects the process at exit: let it. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	tscfd_log("running as uid %u gid %u with CAP_NET_ADMIN only",
		  (unsigned int)uid, (unsigned int)gid);
	return 0;
fail:
	tscfd_logp(LOG_ERR, "cannot drop privileges: %s", strerror(errno));
	return -1;
}

/* The kernel's ceiling for RLIMIT_NOFILE (fs.nr_open). */
static rlim_t nr_open(void)
{
	unsigned long v = 1048576;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 1048576;
		fclose(f);
	}
	return v;
}

/*
 * A stream tunnel is a descriptor: room for every interface's max-tunnels
 * and some to spare.  Still root here, so the hard limit may go up too;
 * without the privilege, the soft limit goes as far as the hard one.
 */
static void raise_nofile(void)
{
	rlim_t want = 1024;
	struct rlimit rl;
	unsigned int i;

	for (i = 0; i < tscfd_conf.niface; i++)
		want += tscfd_conf.iface[i].max_tunnels;
	if (want > nr_open())
		want = nr_open();
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_max < want) {
		struct rlimit up = { want, want };

		if (!setrlimit(RLIMIT_NOFILE, &up))
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void on_tun(void)
{
	static uint8_t buf[65536 + 64];
	uint8_t *pkt;
	ssize_t n;
	int i;

	for (i = 0; i < 64; i++) {
		n = tscfd_tun_read(buf, sizeof(buf), &pkt);
		if (n < 0)
			return;
		if (n)
			tscfd_tun_packet(pkt, (size_t)n);
	}
}

static int run(const char *path)
{
	struct tscfd_handle tun = { .type = EV_TUN }, ctl = { .type = EV_CTL },
			    sig = { .type = EV_SIGNAL }, tim = { .type = EV_TIMER };
	struct tscfd_handle *hs[] = { &tun, &ctl, &sig, &tim };
	struct epoll_event evs[256];
	unsigned int i;
	bool timer_work = false;
	uid_t uid = geteuid();	/* the control socket's owner: who tscfd becomes */
	gid_t gid = getegid();
	int n;

	raise_nofile();
	if (tscfd_drop_target(&tscfd_conf, &uid, &gid) < 0 || tscfd_keylog_open())
		return 1;
	tscfd_epfd = epoll_create1(EPOLL_CLOEXEC);
	sig.fd = setup_signals();
	tim.fd = setup_timer();
	tscfd_tunfd = tun.fd = tscfd_tun_open(tscfd_conf.tun_name);
	if (tun.fd < 0) {
		tscfd_logp(LOG_ERR, "cannot open TUN device %s: %s", tscfd_conf.tun_name,
			  strerror(-tun.fd));
		return 1;
	}
	/* Before privileges go: the genl socket keeps its opener's rights. */
	if (tscfd_kdp_open(&tscfd_conf))
		return 1;
	if (tscfd_conf.tun_configure && tscfd_tun_configure(&tscfd_conf))
		return 1;
	ctl.fd = tscfd_ctl_listen(tscfd_conf.ctl_path, uid, gid);
	if (ctl.fd < 0) {
		tscfd_logp(LOG_ERR, "cannot listen on %s: %s", tscfd_conf.ctl_path,
			  strerror(-ctl.fd));
		return 1;
	}
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = hs[i] };

		epoll_ctl(tscfd_epfd, EPOLL_CTL_ADD, hs[i]->fd, &ev);
	}
	if (tscfd_listen_all(&tscfd_conf) || tscfd_metrics_listen(&tscfd_conf) ||
	    tscfd_kdp_attach(&tscfd_conf) || drop_privileges())
		return 1;
	tscfd_log("ready: TUN %s, control socket %s", tscfd_conf.tun_name,
		  tscfd_conf.ctl_path);
	tscfd_notify("READY=1\nSTATUS=serving");

	for (;;) {
		tscfd_net_flush();	/* the datagrams the last batch queued */
		tscfd_reap();	/* what the last batch closed */
		/* Expiries left over: serve what is ready, then go on with them. */
		n = epoll_wait(tscfd_epfd, evs, 256, timer_work ? 0 : -1);
		if (timer_work)
			timer_work = tscfd_tick();
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
			struct tscfd_handle *h = evs[i].data.ptr;
			struct signalfd_siginfo si;
			uint64_t ticks;

			switch (h->type) {
			case EV_TUN:
				on_tun();
				break;
			case EV_CTL:
				tscfd_ctl_accept(h->fd);
				break;
			case EV_TIMER:
				if (read(h->fd, &ticks, sizeof(ticks)) > 0) {
					tscfd_kdp_check(&tscfd_conf);
					timer_work = tscfd_tick();
					tscfd_log_tick();
					tscfd_metrics_tick();
				}
				break;
			case EV_METRICS_LISTEN:
			case EV_METRICS_CONN:
				tscfd_metrics_event(h, evs[i].events);
				break;
			case EV_SIGNAL:
				if (read(h->fd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					reload(path);
					break;
				}
				tscfd_net_flush();
				tscfd_notify("STOPPING=1");
				tscfd_log("exiting on signal %u", si.ssi_signo);
				unlink(tscfd_conf.ctl_path);
				return 0;
			case EV_KDP:
				tscfd_kdp_events();
				break;
			default:
				tscfd_event(h, evs[i].events);
			}
		}
	}
}

static int query(const char *conf, const char *sock, const char *request)
{
	char err[512];

	if (!sock && conf) {
		if (tscfd_config_load(conf, &tscfd_conf, err, sizeof(err))) {
			fprintf(stderr, "tscfd: %s\n", err);
			return 1;
		}
		sock = tscfd_conf.ctl_path;
	}
	return tscfd_ctl_query(sock ? sock : "/run/tscfd.sock", request);
}

int main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_SESSIONS, OPT_DISCONNECT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 'S' },
		{ "sessions", no_argument, NULL, OPT_SESSIONS },
		{ "disconnect", required_argument, NULL, OPT_DISCONNECT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *conf = NULL, *sock = NULL, *format = NULL, *tsid = NULL;
	bool stats = false, sessions = false, test = false;
	char err[512], req[64];
	int c, verbose = 0, commands;

	while ((c = getopt_long(argc, argv, "c:s:jtvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sock = optarg; break;
		case 'S': stats = true; break;
		case OPT_SESSIONS: sessions = true; break;
		case OPT_DISCONNECT: tsid = optarg; break;
		case 'j': format = "json"; break;
		case OPT_FORMAT: format = optarg; break;
		case 't': test = true; break;
		case 'v': verbose++; break;
		case 'V':
			printf("tscfd %s\n", TSCF_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default: usage();
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tscfd: unexpected argument '%s'\n", argv[optind]);
		usage();
	}
	commands = stats + sessions + !!tsid + test;
	if (commands > 1) {
		fprintf(stderr, "tscfd: --stats, --sessions, --disconnect and -t go alone\n");
		usage();
	}
	if (format && strcmp(format, "text") && strcmp(format, "json") &&
	    (strcmp(format, "openmetrics") || !stats)) {
		fprintf(stderr, "tscfd: --format: want text or json%s, got '%s'\n",
			stats ? " or openmetrics" : "", format);
		return 2;
	}
	if (format && !stats && !sessions) {
		fprintf(stderr, "tscfd: -j and --format go with --stats or --sessions\n");
		return 2;
	}
	if (stats || sessions) {
		snprintf(req, sizeof(req), "%s %s", stats ? "stats" : "sessions",
			 format ? format : "text");
		return query(conf, sock, req);
	}
	if (tsid) {
		if (strlen(tsid) > 16 || strspn(tsid, "0123456789abcdefABCDEF") != strlen(tsid) ||
		    !*tsid) {
			fprintf(stderr, "tscfd: --disconnect: '%s' is not a TSID (16 hex digits)\n",
				tsid);
			return 2;
		}
		snprintf(req, sizeof(req), "disconnect %s", tsid);
		return query(conf, sock, req);
	}
	if (!conf)
		usage();
	tscfd_log_verbose(verbose);
	if (tscfd_config_load(conf, &tscfd_conf, err, sizeof(err)) ||
	    (test && tscfd_config_check_files(conf, &tscfd_conf, err, sizeof(err)))) {
		fprintf(stderr, "tscfd: %s\n", err);
		return 1;
	}
	if (test) {
		printf("tscfd: %s: OK, %u interface(s)\n", conf, tscfd_conf.niface);
		return 0;
	}
	tscfd_log_setup(&tscfd_conf);
	return run(conf);
}
