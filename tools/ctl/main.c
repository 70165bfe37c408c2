// SPDX-License-Identifier: GPL-2.0
/*
 * tscfctl: configure tscf tunnels (see docs/tscfctl.md).
 *
 *   tscfctl up DEV server ADDR port N transport udp|tcp [ca FILE] [--pidfile F]
 *   tscfctl up DEV encrypted [ca FILE]
 *   tscfctl down DEV
 *   tscfctl show [DEV] [-j]
 *   tscfctl monitor [-j]
 *   tscfctl probe server ADDR port N transport udp|tcp [ca FILE] [enc tls|dtls]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tscfctl.h"

static void vlog(const char *fmt, va_list ap)
{
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
		"usage: tscfctl up DEV server ADDR port N transport udp|tcp [ca FILE] [--pidfile F]\n"
		"       tscfctl up DEV encrypted [ca FILE]\n"
		"       tscfctl down DEV\n"
		"       tscfctl show [DEV] [-j]\n"
		"       tscfctl monitor [-j]\n"
		"       tscfctl probe server ADDR port N transport udp|tcp [ca FILE] [enc tls|dtls]\n");
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
		if (!v)
			usage();
		if (!strcmp(k, "server"))
			o->server = v;
		else if (!strcmp(k, "port"))
			o->port = (uint16_t)atoi(v);
		else if (!strcmp(k, "transport") && (!strcmp(v, "udp") || !strcmp(v, "tcp")))
			o->stream = !strcmp(v, "tcp");
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
