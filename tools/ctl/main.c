// SPDX-License-Identifier: GPL-2.0
/*
 * tscfctl: configure tscf tunnels (see docs/tscfctl.md).
 *
 *   tscfctl up DEV server ADDR port N transport udp|tcp [TRUST] [--pidfile F] [--daemon]
 *   tscfctl up DEV encrypted server ADDR [TRUST] [--daemon]
 *   tscfctl down DEV
 *   tscfctl set DEV linger MS
 *   tscfctl show [DEV] [-j]
 *   tscfctl monitor [-j]
 *   tscfctl probe server ADDR port N transport udp|tcp [TRUST] [enc tls|dtls]
 *
 * TRUST: ca FILE | system-ca, [server-name NAME], [allow-redirect]
 */
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tscfctl.h"

static bool use_syslog;

void log_to_syslog(void)
{
	openlog("tscfctl", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

static void vlog(const char *fmt, va_list ap)
{
	if (use_syslog) {
		vsyslog(LOG_INFO, fmt, ap);
		return;
	}
	fputs("tscfctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tscfctl up DEV server ADDR port N transport udp|tcp [TRUST] [--pidfile F] [--daemon]\n"
		"       tscfctl up DEV encrypted server ADDR [TRUST] [--daemon]\n"
		"       tscfctl down DEV\n"
		"       tscfctl set DEV linger MS\n"
		"       tscfctl show [DEV] [-j]\n"
		"       tscfctl monitor [-j]\n"
		"       tscfctl probe server ADDR port N transport udp|tcp [TRUST] [enc tls|dtls]\n"
		"TRUST: ca FILE (or system-ca), [server-name NAME] [allow-redirect]\n");
	exit(2);
}

/* "key value" pairs after the command, in any order. */
static void parse_kv(int argc, char **argv, struct helper_opts *o, bool *enc)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "encrypted") && enc) {
			*enc = true;
			continue;
		}
		if (!strcmp(k, "--daemon") && enc) {
			o->daemon = true;
			continue;
		}
		if (!strcmp(k, "system-ca") || !strcmp(k, "allow-redirect")) {
			*(k[0] == 's' ? &o->system_ca : &o->allow_redirect) = true;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(k, "server"))
			o->server = v;
		else if (!strcmp(k, "port"))
			o->port = (uint16_t)atoi(v);
		else if (!strcmp(k, "transport") && (!strcmp(v, "udp") || !strcmp(v, "tcp")))
			o->stream = !strcmp(v, "tcp");
		else if (!strcmp(k, "server-name"))
			o->server_name = v;
		else if (!strcmp(k, "ca"))
			o->ca = v;
		else if (!strcmp(k, "enc") && (!strcmp(v, "tls") || !strcmp(v, "dtls")))
			o->dtls = !strcmp(v, "dtls");
		else if (!strcmp(k, "--pidfile"))
			o->pidfile = v;
		else
			usage();
		i++;
	}
}

/* How long the encrypted tunnel outlives the last socket that wanted it. */
static int cmd_set_linger(const char *dev, const char *val)
{
	struct tscf_nl nl;
	char err[256] = "", *end;
	unsigned long ms = strtoul(val, &end, 10);
	int ifindex = (int)if_nametoindex(dev), rc;

	if (!*val || *end || ms > UINT32_MAX)
		die("linger: '%s' is not a number of milliseconds", val);
	if (!ifindex)
		die("%s: no such device", dev);
	rc = tnl_open(&nl, 0);
	if (!rc)
		rc = tnl_set_linger(&nl, ifindex, (uint32_t)ms, err, sizeof(err));
	tnl_close(&nl);
	if (rc)
		die("%s: %s%s%s", dev, tnl_strerror(rc), err[0] ? ": " : "", err);
	return 0;
}

int main(int argc, char **argv)
{
	struct helper_opts o = {};
	bool json = false, enc = false;
	int i;

	if (argc < 2)
		usage();
	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json = true;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "up") && argc >= 3) {
		o.dev = argv[2];
		parse_kv(argc - 3, argv + 3, &o, &enc);
		if (enc)
			return helper_run(&o, true);
		if (!o.server || !o.port)
			usage();
		return helper_run(&o, false);
	}
	if (!strcmp(argv[1], "down") && argc == 3)
		return cmd_down(argv[2]);
	if (!strcmp(argv[1], "set") && argc == 5 && !strcmp(argv[3], "linger"))
		return cmd_set_linger(argv[2], argv[4]);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc > 2 && argv[2][0] != '-' ? argv[2] : NULL, json);
	if (!strcmp(argv[1], "monitor"))
		return cmd_monitor(json);
	if (!strcmp(argv[1], "probe")) {
		parse_kv(argc - 2, argv + 2, &o, NULL);
		if (!o.server || !o.port)
			usage();
		return cmd_probe(&o);
	}
	usage();
}
