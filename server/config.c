// SPDX-License-Identifier: GPL-2.0
/*
 * tscfd.conf: global settings, then one "tscf-interface" block per
 * listening address.  Inside a block every line is "key value...".
 * An error names its line.  See docs/SERVER.md.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tscfd.h"

struct parser {
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);
	va_list ap;

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_uint(struct parser *p, const char *key, const char *v,
		      unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v ? v : "", &end, 10);
	if (!v || *end || errno || n < min || n > max)
		return perr(p, "%s: want a number from %u to %u, got '%s'",
			    key, min, max, v ? v : "");
	*out = (unsigned int)n;
	return 0;
}

static int parse_addr(const char *s, struct tscf_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}

static int parse_pool(struct parser *p, const char *key, const char *v,
		      uint8_t family, struct tscfd_pool *pool)
{
	char buf[64], *slash;
	struct tscf_addr a;
	unsigned int plen, max = family == 4 ? 30 : 120;

	if (!v || strlen(v) >= sizeof(buf))
		return perr(p, "%s: want PREFIX/LEN", key);
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (!slash)
		return perr(p, "%s: want PREFIX/LEN, got '%s'", key, v);
	*slash = 0;
	if (parse_addr(buf, &a) || a.family != family)
		return perr(p, "%s: '%s' is not an IPv%u prefix", key, buf, family);
	if (parse_uint(p, key, slash + 1, family == 4 ? 8 : 64, max, &plen))
		return -EINVAL;
	memset(pool, 0, sizeof(*pool));
	pool->set = true;
	pool->family = family;
	memcpy(&pool->base, family == 4 ? (void *)&a.v4 : (void *)&a.v6,
	       family == 4 ? 4 : 16);
	pool->plen = plen;
	/* Leave out the network address and .1 (the server's side). */
	pool->size = (family == 4 ? (1u << (32 - plen)) - 3 :
		      (plen < 112 ? 65536 : (1u << (128 - plen)) - 2));
	return 0;
}

static bool addr_unspecified(const struct tscf_addr *a)
{
	return a->family == 4 ? !a->v4.s_addr : IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

/*
 * The address CONN_INFO names for port N+1: advertise-address, else the
 * bound one.  A wildcard bind has no address a client could use (nor
 * does a NATed one, which is what advertise-address is for).
 */
static int iface_advertise(struct parser *p, struct tscfd_iface *f)
{
	struct tscf_addr bound = {};

	if (f->advertise.family)
		return 0;
	if (f->addr.ss_family == AF_INET) {
		bound.family = 4;
		bound.v4 = ((struct sockaddr_in *)&f->addr)->sin_addr;
	} else {
		bound.family = 6;
		bound.v6 = ((struct sockaddr_in6 *)&f->addr)->sin6_addr;
	}
	if (addr_unspecified(&bound) && f->dtte)
		return perr(p, "tscf-interface ending here: a wildcard address with DTTE "
			    "needs advertise-address (the address clients reach)");
	f->advertise = bound;
	return 0;
}

static int iface_key(struct parser *p, struct tscfd_iface *f, const char *key,
		     char *v, char *rest)
{
	if (!strcmp(key, "address")) {
		struct tscf_addr a;

		if (!v || parse_addr(v, &a))
			return perr(p, "address: '%s' is not an IP address", v ? v : "");
		snprintf(f->addr_str, sizeof(f->addr_str), "%s", v);
		memset(&f->addr, 0, sizeof(f->addr));
		if (a.family == 4) {
			struct sockaddr_in *sin = (void *)&f->addr;

			sin->sin_family = AF_INET;
			sin->sin_addr = a.v4;
			f->addrlen = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (void *)&f->addr;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = a.v6;
			f->addrlen = sizeof(*sin6);
		}
		return 0;
	}
	if (!strcmp(key, "advertise-address")) {
		if (!v || parse_addr(v, &f->advertise) || addr_unspecified(&f->advertise))
			return perr(p, "advertise-address: '%s' is not a usable IP address",
				    v ? v : "");
		return 0;
	}
	if (!strcmp(key, "port")) {
		unsigned int port;

		if (parse_uint(p, key, v, 1, 65534, &port))
			return -EINVAL;
		f->port = port;
		return 0;
	}
	if (!strcmp(key, "certificate") || !strcmp(key, "private-key")) {
		char *dst = key[0] == 'c' ? f->cert : f->key;

		if (!v || strlen(v) >= sizeof(f->cert))
			return perr(p, "%s: want a file name", key);
		strcpy(dst, v);
		return 0;
	}
	if (!strcmp(key, "local-address-pool-v4"))
		return parse_pool(p, key, v, 4, &f->pool4);
	if (!strcmp(key, "local-address-pool-v6"))
		return parse_pool(p, key, v, 6, &f->pool6);
	if (!strcmp(key, "dns")) {
		for (; v; v = strtok_r(NULL, " \t", &rest)) {
			if (f->ndns == TSCFD_MAX_DNS)
				return perr(p, "dns: at most %d servers", TSCFD_MAX_DNS);
			if (parse_addr(v, &f->dns[f->ndns]))
				return perr(p, "dns: '%s' is not an IP address", v);
			f->ndns++;
		}
		return 0;
	}
	if (!strcmp(key, "max-tunnels"))
		return parse_uint(p, key, v, 1, 200000, &f->max_tunnels);
	if (!strcmp(key, "assigned-services")) {
		f->dtte = false;
		for (; v; v = strtok_r(NULL, " \t,", &rest)) {
			if (!strcmp(v, "DTTE"))
				f->dtte = true;
			else
				return perr(p, "assigned-services: unknown service '%s'", v);
		}
		return 0;
	}
	return perr(p, "unknown tscf-interface setting '%s'", key);
}

static int global_key(struct parser *p, struct tscfd_config *c, const char *key,
		      const char *v)
{
	if (!strcmp(key, "tun-name")) {
		if (!v || strlen(v) >= sizeof(c->tun_name))
			return perr(p, "tun-name: want a name of at most 15 characters");
		strcpy(c->tun_name, v);
		return 0;
	}
	if (!strcmp(key, "control-socket")) {
		if (!v || strlen(v) >= sizeof(c->ctl_path))
			return perr(p, "control-socket: want a path");
		strcpy(c->ctl_path, v);
		return 0;
	}
	if (!strcmp(key, "keepalive-interval"))
		return parse_uint(p, key, v, 1, 3600, &c->keepalive_secs);
	if (!strcmp(key, "stream-idle-timeout"))
		return parse_uint(p, key, v, 1, 86400, &c->stream_idle_secs);
	if (!strcmp(key, "stream-persistent-timeout"))
		return parse_uint(p, key, v, 0, 86400, &c->stream_persist_secs);
	if (!strcmp(key, "datagram-keepalive-timeout"))
		return parse_uint(p, key, v, 1, 86400, &c->datagram_timeout_secs);
	if (!strcmp(key, "max-handshakes"))
		return parse_uint(p, key, v, 1, 100000, &c->max_handshakes);
	if (!strcmp(key, "max-preauth-memory") || !strcmp(key, "max-send-backlog")) {
		unsigned int kb;

		if (parse_uint(p, key, v, 64, 16 * 1024 * 1024, &kb))
			return -EINVAL;
		*(key[4] == 'p' ? &c->max_preauth_bytes : &c->max_backlog_bytes) =
			(size_t)kb * 1024;
		return 0;
	}
	if (!strcmp(key, "user") || !strcmp(key, "group")) {
		char *dst = key[0] == 'u' ? c->user : c->group;

		if (!v || strlen(v) >= sizeof(c->user))
			return perr(p, "%s: want a name", key);
		strcpy(dst, v);
		c->user_set = true;
		return 0;
	}
	return perr(p, "unknown setting '%s'", key);
}

static void defaults(struct tscfd_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->tun_name, "tscfs0");
	strcpy(c->ctl_path, "/run/tscfd.sock");
	c->keepalive_secs = 30;
	c->stream_idle_secs = 300;	/* the commercial server's defaults */
	c->stream_persist_secs = 330;
	c->datagram_timeout_secs = 90;
	c->max_handshakes = 64;
	c->max_preauth_bytes = 16u << 20;
	c->max_backlog_bytes = 256u << 20;
}

static int check_iface(struct parser *p, struct tscfd_iface *f)
{
	if (!f->addrlen)
		return perr(p, "tscf-interface ending here has no address");
	if (!f->port)
		return perr(p, "tscf-interface ending here has no port");
	if (!f->pool4.set && !f->pool6.set)
		return perr(p, "tscf-interface ending here has no local-address-pool");
	if (!f->cert[0] != !f->key[0])
		return perr(p, "tscf-interface ending here: certificate and private-key go together");
	return iface_advertise(p, f);
}

int tscfd_config_load(const char *path, struct tscfd_config *conf,
		      char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen };
	struct tscfd_iface *cur = NULL;
	char line[1024];
	FILE *f;
	int rc = 0;

	defaults(conf);
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *rest, *key, *v, *hash;
		bool indented = isspace((unsigned char)line[0]);

		p.line++;
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		key = strtok_r(line, " \t\r\n", &rest);
		if (!key)
			continue;
		v = strtok_r(NULL, " \t\r\n", &rest);
		if (!strcmp(key, "tscf-interface")) {
			if (cur && (rc = check_iface(&p, cur)))
				break;
			if (conf->niface == TSCFD_MAX_IFACES) {
				rc = perr(&p, "at most %d tscf-interface blocks", TSCFD_MAX_IFACES);
				break;
			}
			cur = &conf->iface[conf->niface++];
			cur->max_tunnels = 200000;
			continue;
		}
		if (indented && cur)
			rc = iface_key(&p, cur, key, v, rest);
		else if (!indented)
			rc = global_key(&p, conf, key, v);
		else
			rc = perr(&p, "indented setting outside a tscf-interface block");
	}
	fclose(f);
	if (!rc && cur)
		rc = check_iface(&p, cur);
	if (!rc && !conf->niface) {
		p.line = 0;
		rc = perr(&p, "no tscf-interface defined");
	}
	return rc;
}
