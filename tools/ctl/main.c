// SPDX-License-Identifier: GPL-2.0
/*
 * tscfctl: configure tscf tunnels (see docs/tscfctl.md).
 *
 *   tscfctl [OPTIONS] up DEV [-c FILE] [WORDS...]
 *   tscfctl [OPTIONS] down DEV
 *   tscfctl [OPTIONS] set DEV linger MS
 *   tscfctl [OPTIONS] show [DEV]
 *   tscfctl [OPTIONS] monitor
 *   tscfctl [OPTIONS] probe server ADDR port N transport udp|tcp [TRUST] [enc tls|dtls]
 *
 * OPTIONS: -j/--json, -v/--verbose, --log-level LEVEL, --version, --help
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>

#include "tscfctl.h"

static bool use_syslog;
static int log_threshold = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_to_syslog(void)
{
	openlog("tscfctl", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

int log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(level_names); i++)
		if (level_names[i] && !strcmp(level_names[i], name))
			return (int)i;
	return -1;
}

void log_set_level(int prio)
{
	log_threshold = prio;
}

/*
 * Rate limit: a line identical to one logged less than LOG_QUIET_SECS ago
 * is counted, not logged (a reconnect loop repeats the same few lines for
 * as long as the server is away); the next time it is let through it
 * says how many were held back.  Errors that end the program are never
 * held back (die() bypasses this).
 */
#define LOG_RECENT	8
#define LOG_QUIET_SECS	60

struct recent_line {
	char text[1024];
	time_t at;
	unsigned long held;
};

static struct recent_line recent[LOG_RECENT];

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Returns how many identical lines were held back, or -1 to hold this one. */
static long ratelimit(const char *text)
{
	struct recent_line *r, *oldest = &recent[0];
	time_t t = mono_now();
	unsigned long held;
	size_t i;

	for (i = 0; i < LOG_RECENT; i++) {
		r = &recent[i];
		if (r->at && !strcmp(r->text, text)) {
			if (t - r->at < LOG_QUIET_SECS) {
				r->held++;
				return -1;
			}
			held = r->held;
			r->held = 0;
			r->at = t;
			return (long)held;
		}
		if (r->at < oldest->at)
			oldest = r;
	}
	snprintf(oldest->text, sizeof(oldest->text), "%s", text);
	oldest->at = t;
	oldest->held = 0;
	return 0;
}

static void emit(int prio, const char *text)
{
	if (use_syslog)
		syslog(prio, "%s", text);
	else
		fprintf(stderr, "tscfctl: %s\n", text);
}

static void vlog(int prio, bool limit, const char *fmt, va_list ap)
{
	char text[1024];
	long held = 0;

	if (prio > log_threshold)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (limit && prio <= LOG_WARNING) {	/* warning and more severe */
		held = ratelimit(text);
		if (held < 0)
			return;
	}
	if (held > 0) {
		char more[1100];

		snprintf(more, sizeof(more), "%s (%ld more like this held back)", text, held);
		emit(prio, more);
	} else {
		emit(prio, text);
	}
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, false, fmt, ap);
	va_end(ap);
	exit(1);
}

void logp(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, true, fmt, ap);
	va_end(ap);
}

static const char usage_text[] =
	"usage: tscfctl [OPTIONS] up DEV [-c FILE] [SETTINGS] [--daemon] [--pidfile FILE]\n"
	"       tscfctl [OPTIONS] up DEV encrypted server ADDR [TRUST] [--daemon]\n"
	"       tscfctl [OPTIONS] down DEV\n"
	"       tscfctl [OPTIONS] set DEV linger MS\n"
	"       tscfctl [OPTIONS] show [DEV]\n"
	"       tscfctl [OPTIONS] monitor\n"
	"       tscfctl [OPTIONS] probe server ADDR port N transport udp|tcp [TRUST] [enc tls|dtls]\n"
	"SETTINGS: server ADDR, port N (1-65535), transport udp|tcp, [TRUST],\n"
	"          [enc|encrypted tls|dtls|auto] (the encrypted tunnel; default auto\n"
	"          over UDP: DTLS, else TLS; tls over TCP),\n"
	"          [key-lifetime SECONDS] (10-604800; default 3600),\n"
	"          [log-level LEVEL] (also the words of a -c FILE, one per line)\n"
	"TRUST: ca FILE (or system-ca), [server-name NAME] [allow-redirect]\n"
	"OPTIONS: -j|--json  -v|--verbose  --log-level err|warning|notice|info|debug\n"
	"         --version  -h|--help\n";

static void __attribute__((noreturn)) usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fputs("tscfctl: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(" (tscfctl --help for usage)\n", stderr);
		exit(2);
	}
	fputs(usage_text, stderr);
	exit(2);
}

/*
 * One setting of "up" or "probe" (the same words on the command line and
 * in a config file): words[0] is the key.  Returns how many words it
 * used, or -1 with a message in err.
 */
static int parse_uint(const char *what, const char *val, unsigned long min,
		      unsigned long max, unsigned long *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (!*val || *end || val[0] == '-' || val[0] == '+' || errno) {
		snprintf(err, errlen, "%s: '%s' is not a number", what, val);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s: %s is out of range (%lu to %lu)", what, val,
			 min, max);
		return -1;
	}
	*out = v;
	return 0;
}

enum word_ctx { WORDS_UP, WORDS_PROBE, WORDS_FILE };

/* The words "enc" takes; probe's range is checked where enc is parsed. */
static bool is_enc_choice(const char *v)
{
	return !strcmp(v, "tls") || !strcmp(v, "dtls") || !strcmp(v, "auto");
}

static int parse_setting(char **w, int n, struct helper_opts *o, bool *enc,
			 enum word_ctx ctx, char *err, size_t errlen)
{
	const char *k = w[0], *v = n > 1 ? w[1] : NULL;
	unsigned long num;
	int lvl;

	if (!strcmp(k, "system-ca")) {
		o->system_ca = true;
		return 1;
	}
	if (!strcmp(k, "allow-redirect")) {
		o->allow_redirect = true;
		return 1;
	}
	if (ctx != WORDS_PROBE && (!strcmp(k, "--daemon") || !strcmp(k, "daemon"))) {
		o->daemon = true;
		return 1;
	}
	/*
	 * "encrypted tls|dtls|auto" is the transport choice (the issue's
	 * spelling of "enc"); "encrypted" before anything else is up's mode.
	 */
	if (!strcmp(k, "encrypted") && v && is_enc_choice(v))
		k = "enc";
	else if (ctx == WORDS_UP && !strcmp(k, "encrypted")) {
		*enc = true;
		return 1;
	}
	if (strcmp(k, "server") && strcmp(k, "port") && strcmp(k, "transport") &&
	    strcmp(k, "server-name") && strcmp(k, "ca") &&
	    strcmp(k, "enc") && (ctx == WORDS_PROBE || strcmp(k, "key-lifetime")) &&
	    !(ctx != WORDS_PROBE && (!strcmp(k, "pidfile") || !strcmp(k, "--pidfile"))) &&
	    strcmp(k, "log-level")) {
		snprintf(err, errlen, "unknown setting '%s'", k);
		return -1;
	}
	if (!v) {
		snprintf(err, errlen, "'%s' needs a value", k);
		return -1;
	}
	if (!strcmp(k, "server")) {
		o->server = v;
	} else if (!strcmp(k, "port")) {
		if (parse_uint("port", v, 1, 65535, &num, err, errlen))
			return -1;
		o->port = (uint16_t)num;
	} else if (!strcmp(k, "transport")) {
		if (strcmp(v, "udp") && strcmp(v, "tcp")) {
			snprintf(err, errlen, "transport: '%s' is neither udp nor tcp", v);
			return -1;
		}
		o->stream = !strcmp(v, "tcp");
	} else if (!strcmp(k, "server-name")) {
		o->server_name = v;
	} else if (!strcmp(k, "ca")) {
		o->ca = v;
	} else if (!strcmp(k, "enc")) {
		if (strcmp(v, "tls") && strcmp(v, "dtls") &&
		    (ctx == WORDS_PROBE || strcmp(v, "auto"))) {
			snprintf(err, errlen, "enc: '%s' is not tls or dtls%s", v,
				 ctx == WORDS_PROBE ? "" : " or auto");
			return -1;
		}
		o->dtls = !strcmp(v, "dtls");
		o->enc_auto = !strcmp(v, "auto");
		o->enc_tls = !strcmp(v, "tls");
	} else if (!strcmp(k, "key-lifetime")) {
		if (parse_uint("key-lifetime", v, KEY_LIFETIME_MIN, KEY_LIFETIME_MAX, &num,
			       err, errlen))
			return -1;
		o->key_lifetime = (unsigned int)num;
	} else if (!strcmp(k, "log-level")) {
		lvl = log_level_parse(v);
		if (lvl < 0) {
			snprintf(err, errlen, "log-level: '%s' is not one of err, warning, notice, info, debug", v);
			return -1;
		}
		log_set_level(lvl);
	} else {
		o->pidfile = v;
	}
	return 2;
}

/*
 * Values read from a config file live as long as the program; a static
 * list keeps them reachable (LeakSanitizer scans globals, and the helper
 * may exit from anywhere).
 */
static char *kept_values[64];
static unsigned int nkept;

static char *keep(const char *s)
{
	char *d;

	if (nkept == ARRAY_SIZE(kept_values))
		die("too many settings");
	d = strdup(s);
	if (!d)
		die("out of memory");
	kept_values[nkept++] = d;
	return d;
}

/*
 * A client config file: "key value..." per line, the words of "up";
 * '#' starts a comment.  Errors are FILE:LINE: message, exit 1.
 */
static void read_config(const char *path, struct helper_opts *o, bool *enc)
{
	char line[1024], err[256], *words[8], *p, *save;
	unsigned int lineno = 0;
	FILE *f = fopen(path, "r");
	int n, used;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			die("%s:%u: line too long", path, lineno);
		p = strchr(line, '#');
		if (p)
			*p = 0;
		n = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p;
		     p = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == (int)ARRAY_SIZE(words))
				die("%s:%u: too many words", path, lineno);
			words[n++] = p;
		}
		if (!n)
			continue;
		if (words[0][0] == '-')
			die("%s:%u: unknown setting '%s' (options belong on the command line)",
			    path, lineno, words[0]);
		used = parse_setting(words, n, o, enc, WORDS_FILE, err, sizeof(err));
		if (used < 0)
			die("%s:%u: %s", path, lineno, err);
		if (used < n)
			die("%s:%u: extra word '%s' after '%s'", path, lineno, words[used],
			    words[0]);
		if (n < 2)
			continue;
		if (o->server == words[1])
			o->server = keep(words[1]);
		if (o->server_name == words[1])
			o->server_name = keep(words[1]);
		if (o->ca == words[1])
			o->ca = keep(words[1]);
		if (o->pidfile == words[1])
			o->pidfile = keep(words[1]);
	}
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	fclose(f);
}

static void parse_words(int argc, char **argv, struct helper_opts *o, bool *enc,
			enum word_ctx ctx)
{
	char err[256];
	int i, used;

	for (i = 0; i < argc; i += used) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			used = 1;
			continue;
		}
		if (ctx == WORDS_UP && !strcmp(argv[i], "-c")) {
			if (i + 1 >= argc)
				usage("-c needs a FILE");
			read_config(argv[i + 1], o, enc);
			used = 2;
			continue;
		}
		used = parse_setting(argv + i, argc - i, o, enc, ctx, err, sizeof(err));
		if (used < 0)
			usage("%s", err);
	}
}

static int cmd_set_linger(const char *dev, const char *val)
{
	struct tscf_nl nl;
	char err[256] = "";
	unsigned long ms;
	int ifindex, rc;

	if (parse_uint("linger", val, 0, UINT32_MAX, &ms, err, sizeof(err)))
		usage("%s (milliseconds)", err);
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex)
		die("Device \"%s\" does not exist.", dev);
	rc = tnl_open(&nl, 0);
	if (!rc)
		rc = tnl_set_linger(&nl, ifindex, (uint32_t)ms, err, sizeof(err));
	tnl_close(&nl);
	if (rc)
		die("%s: %s%s%s", dev, tnl_strerror(rc), err[0] ? ": " : "", err);
	return 0;
}

/* The module's version, if loaded, and the netlink family's. */
static int cmd_version(void)
{
	char modver[64] = "";
	struct nl_sock *sk;
	struct genl_family *fam = NULL;
	FILE *f = fopen("/sys/module/tscf/version", "r");

	printf("tscfctl %s\n", TSCFCTL_VERSION);
	if (f) {
		if (fgets(modver, sizeof(modver), f))
			modver[strcspn(modver, "\n")] = 0;
		fclose(f);
	}
	printf("module tscf: %s\n", modver[0] ? modver : "not loaded");
	sk = nl_socket_alloc();
	if (sk && !genl_connect(sk)) {
		struct nl_cache *cache;

		if (!genl_ctrl_alloc_cache(sk, &cache)) {
			fam = genl_ctrl_search_by_name(cache, TSCF_GENL_NAME);
			if (fam) {
				printf("netlink family %s: version %u (tscfctl speaks %u)\n",
				       TSCF_GENL_NAME, genl_family_get_version(fam),
				       TSCF_GENL_VERSION);
				genl_family_put(fam);
			}
			nl_cache_free(cache);
		}
	}
	if (!fam)
		printf("netlink family %s: not registered (tscfctl speaks %u)\n",
		       TSCF_GENL_NAME, TSCF_GENL_VERSION);
	if (sk)
		nl_socket_free(sk);
	return 0;
}

static void need_dev(const char *cmd, int argc, int at)
{
	if (at >= argc)
		usage("%s needs a device name", cmd);
}

int main(int argc, char **argv)
{
	struct helper_opts o = { .key_lifetime = KEY_LIFETIME_DEFAULT };
	bool json = false, enc = false;
	const char *cmd;
	int i, lvl, first;

	/*
	 * OpenSSL writes TLS records with plain send(): a server that reset
	 * the connection must cost a write error and a reconnect, not the
	 * helper's life (the encrypted-only sockets it serves would stay
	 * blocked until someone restarted it).
	 */
	signal(SIGPIPE, SIG_IGN);

	/* Options before the command; -j is also understood after it. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			return cmd_version();
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--log-level")) {
			if (i + 1 >= argc)
				usage("--log-level needs a LEVEL");
			lvl = log_level_parse(argv[++i]);
			if (lvl < 0)
				usage("--log-level: '%s' is not one of err, warning, notice, info, debug",
				      argv[i]);
			log_set_level(lvl);
		} else {
			usage("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc)
		usage(NULL);
	cmd = argv[i];
	first = i + 1;
	for (i = first; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "up")) {
		need_dev(cmd, argc, first);
		o.dev = argv[first];
		if (strlen(o.dev) >= IF_NAMESIZE || o.dev[0] == '-')
			usage("'%s' is not a device name", o.dev);
		parse_words(argc - first - 1, argv + first + 1, &o, &enc, WORDS_UP);
		if (enc)
			return helper_run(&o, true);
		if (!o.server)
			usage("up needs 'server ADDR'");
		if (!o.port)
			usage("up needs 'port N'");
		return helper_run(&o, false);
	}
	if (!strcmp(cmd, "down")) {
		need_dev(cmd, argc, first);
		if (argc != first + 1)
			usage("down takes one device name");
		return cmd_down(argv[first]);
	}
	if (!strcmp(cmd, "set")) {
		if (argc != first + 3 || strcmp(argv[first + 1], "linger"))
			usage("set DEV linger MS");
		return cmd_set_linger(argv[first], argv[first + 2]);
	}
	if (!strcmp(cmd, "show")) {
		const char *dev = NULL;

		for (i = first; i < argc; i++) {
			if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
				continue;
			if (dev || argv[i][0] == '-')
				usage("show takes at most one device name");
			dev = argv[i];
		}
		return cmd_show(dev, json);
	}
	if (!strcmp(cmd, "monitor")) {
		for (i = first; i < argc; i++)
			if (strcmp(argv[i], "-j") && strcmp(argv[i], "--json"))
				usage("monitor takes no argument but -j");
		return cmd_monitor(json);
	}
	if (!strcmp(cmd, "probe")) {
		parse_words(argc - first, argv + first, &o, NULL, WORDS_PROBE);
		if (!o.server)
			usage("probe needs 'server ADDR'");
		if (!o.port)
			usage("probe needs 'port N'");
		return cmd_probe(&o, json);
	}
	usage("unknown command '%s'", cmd);
}
