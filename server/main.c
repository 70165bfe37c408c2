// SPDX-License-Identifier: GPL-2.0
/*
 * tscfd: the TSCF tunneling server.
 *
 *   tscfd -c FILE            run (foreground; logs to stderr)
 *   tscfd -c FILE -t         check the configuration and exit
 *   tscfd --stats [-j] [-c FILE | -s SOCKET]   counters of a running server
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

static void usage(void)
{
	fprintf(stderr,
		"usage: tscfd -c FILE [-t]\n"
		"       tscfd --stats [-j] [-c FILE | -s SOCKET]\n");
	exit(2);
}

/* SIGHUP: new values for new tunnels; existing tunnels keep theirs. */
static void reload(const char *path)
{
	static struct tscfd_config next;
	char err[512];
	unsigned int i, j;

	if (tscfd_config_load(path, &next, err, sizeof(err))) {
		tscfd_log("reload failed, keeping the running configuration: %s", err);
		return;
	}
	tscfd_conf.keepalive_secs = next.keepalive_secs;
	tscfd_conf.stream_idle_secs = next.stream_idle_secs;
	tscfd_conf.stream_persist_secs = next.stream_persist_secs;
	tscfd_conf.datagram_timeout_secs = next.datagram_timeout_secs;
	tscfd_conf.max_handshakes = next.max_handshakes;
	tscfd_conf.max_preauth_bytes = next.max_preauth_bytes;
	tscfd_conf.max_backlog_bytes = next.max_backlog_bytes;
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
			tscfd_log("reload: new interface %s port %u needs a restart",
				  n->addr_str, n->port);
	}
	tscfd_log("configuration reloaded from %s", path);
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
		tscfd_log("user '%s' does not exist", uname);
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
			tscfd_log("group '%s' does not exist", gname);
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
	tscfd_log("cannot drop privileges: %s", strerror(errno));
	return -1;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void on_tun(void)
{
	static uint8_t pkt[65536];
	ssize_t n;
	int i;

	for (i = 0; i < 64; i++) {
		n = read(tscfd_tunfd, pkt, sizeof(pkt));
		if (n <= 0)
			return;
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
	int n;

	raise_nofile();
	tscfd_epfd = epoll_create1(EPOLL_CLOEXEC);
	sig.fd = setup_signals();
	tim.fd = setup_timer();
	tscfd_tunfd = tun.fd = tscfd_tun_open(tscfd_conf.tun_name);
	if (tun.fd < 0) {
		tscfd_log("cannot open TUN device %s: %s", tscfd_conf.tun_name,
			  strerror(-tun.fd));
		return 1;
	}
	ctl.fd = tscfd_ctl_listen(tscfd_conf.ctl_path);
	if (ctl.fd < 0) {
		tscfd_log("cannot listen on %s: %s", tscfd_conf.ctl_path,
			  strerror(-ctl.fd));
		return 1;
	}
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = hs[i] };

		epoll_ctl(tscfd_epfd, EPOLL_CTL_ADD, hs[i]->fd, &ev);
	}
	if (tscfd_listen_all(&tscfd_conf) || drop_privileges())
		return 1;
	tscfd_log("ready: TUN %s, control socket %s", tscfd_conf.tun_name,
		  tscfd_conf.ctl_path);

	for (;;) {
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
				if (read(h->fd, &ticks, sizeof(ticks)) > 0)
					timer_work = tscfd_tick();
				break;
			case EV_SIGNAL:
				if (read(h->fd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					reload(path);
					break;
				}
				tscfd_log("exiting on signal %u", si.ssi_signo);
				unlink(tscfd_conf.ctl_path);
				return 0;
			default:
				tscfd_event(h, evs[i].events);
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stats", no_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *conf = NULL, *sock = NULL;
	bool stats = false, json = false, test = false;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "c:s:jth", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sock = optarg; break;
		case 'S': stats = true; break;
		case 'j': json = true; break;
		case 't': test = true; break;
		default: usage();
		}
	}
	if (stats) {
		if (!sock && conf) {
			if (tscfd_config_load(conf, &tscfd_conf, err, sizeof(err))) {
				fprintf(stderr, "tscfd: %s\n", err);
				return 1;
			}
			sock = tscfd_conf.ctl_path;
		}
		return tscfd_ctl_query(sock ? sock : "/run/tscfd.sock", json);
	}
	if (!conf)
		usage();
	if (tscfd_config_load(conf, &tscfd_conf, err, sizeof(err))) {
		fprintf(stderr, "tscfd: %s\n", err);
		return 1;
	}
	if (test) {
		printf("tscfd: %s: OK, %u interface(s)\n", conf, tscfd_conf.niface);
		return 0;
	}
	return run(conf);
}
