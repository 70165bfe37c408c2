// SPDX-License-Identifier: GPL-2.0
/*
 * tscfd.conf: global settings, then one "tscf-interface" block per
 * listening address.  Inside a block every line is "key value...".
 * Every error is "FILE:LINE: message" and every check that can be made
 * from the file alone is made here, so that "tscfd -t" and a SIGHUP
 * reload refuse the same files; the certificate files are opened by
 * tscfd_config_check_files() (only -t and the start read them: after the
 * privilege drop a reload may not be able to).  See docs/SERVER.md.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tscfd.h"

/* Settings of each scope; a single-valued one may be given once. */
static const char *const global_keys[] = {
	"tun-name", "control-socket", "keepalive-interval", "stream-idle-timeout",
	"stream-persistent-timeout", "datagram-keepalive-timeout",
	"max-handshakes", "max-preauth-memory", "max-send-backlog", "user",
	"group", "mtu", "tun-configure", "log-level", "syslog", "log-rate-limit",
	"metrics-listen", "metrics-allow-remote", "kernel-datapath", "kernel-device",
	"stream-super-frames", "udp-super-frames",
};
#define NGLOBAL (sizeof(global_keys) / sizeof(global_keys[0]))

static const char *const iface_keys[] = {
	"address", "advertise-address", "port", "certificate", "private-key",
	"local-address-pool-v4", "local-address-pool-v6", "dns", "max-tunnels",
	"assigned-services",
};
#define NIFACE (sizeof(iface_keys) / sizeof(iface_keys[0]))

struct parser {
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
	char *rest;			/* the words after the value */
	unsigned int gseen[NGLOBAL];	/* line a global key was given on */
	unsigned int iseen[NIFACE];	/* the same, for the current block */
	unsigned int metrics_line;
};

/* FILE:LINE: message into p->err; always -EINVAL. */
static int vperr_at(struct parser *p, unsigned int line, const char *fmt, va_list ap)
{
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, line ? line : 1);

	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	return -EINVAL;
}

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vperr_at(p, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Errors about a line other than the current one (checks at block end). */
static int perr_at(struct parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vperr_at(p, line, fmt, ap);
	va_end(ap);
	return rc;
}

static int key_index(const char *const *keys, unsigned int n, const char *key)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(keys[i], key))
			return (int)i;
	return -1;
}

static char *next_word(struct parser *p)
{
	return p->rest ? strtok_r(NULL, " \t\r\n", &p->rest) : NULL;
}

/* A setting that takes exactly one word. */
static int one_value(struct parser *p, const char *key, const char *v)
{
	const char *extra;

	if (!v)
		return perr(p, "%s: missing value", key);
	extra = next_word(p);
	if (extra)
		return perr(p, "%s: unexpected '%s' after the value '%s' (one value only)",
			    key, extra, v);
	return 0;
}

static int parse_uint(struct parser *p, const char *key, const char *v,
		      unsigned int min, unsigned int max, unsigned int *out)
{
	unsigned long n = 0;
	const char *c;

	if (one_value(p, key, v))
		return -EINVAL;
	/* Digits only: strtoul would take "-1", "+5" and leading blanks. */
	for (c = v; *c; c++) {
		if (!isdigit((unsigned char)*c) || n > max) {
			n = (unsigned long)max + 1;
			break;
		}
		n = n * 10 + (unsigned long)(*c - '0');
	}
	if (!*v || n < min || n > max)
		return perr(p, "%s: want a number from %u to %u, got '%s'",
			    key, min, max, v);
	*out = (unsigned int)n;
	return 0;
}

static int parse_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	if (one_value(p, key, v))
		return -EINVAL;
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
		*out = false;
	else
		return perr(p, "%s: want yes or no, got '%s'", key, v);
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

static const uint8_t *addr_bytes(const struct tscfd_pool *pool)
{
	return (const uint8_t *)&pool->base;
}

/* Do the first plen bits of a and b agree? */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned int plen)
{
	unsigned int full = plen / 8, bits = plen % 8;

	if (memcmp(a, b, full))
		return false;
	if (!bits)
		return true;
	return !((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - bits)));
}

static int parse_pool(struct parser *p, const char *key, const char *v,
		      uint8_t family, struct tscfd_pool *pool)
{
	char buf[64], *slash;
	struct tscf_addr a;
	unsigned int plen, max = family == 4 ? 30 : 120, alen = family == 4 ? 4 : 16;
	uint8_t net[16];

	if (one_value(p, key, v))
		return -EINVAL;
	if (strlen(v) >= sizeof(buf))
		return perr(p, "%s: want PREFIX/LEN", key);
	strcpy(buf, v);
	slash = strchr(buf, '/');
	if (!slash)
		return perr(p, "%s: want PREFIX/LEN, got '%s'", key, v);
	*slash = 0;
	if (parse_addr(buf, &a) || a.family != family)
		return perr(p, "%s: '%s' is not an IPv%u prefix", key, buf, family);
	p->rest = NULL;		/* the length is the last word: checked above */
	if (parse_uint(p, key, slash + 1, family == 4 ? 8 : 64, max, &plen))
		return -EINVAL;
	memset(pool, 0, sizeof(*pool));
	pool->set = true;
	pool->family = family;
	memcpy(&pool->base, family == 4 ? (void *)&a.v4 : (void *)&a.v6, alen);
	pool->plen = plen;
	/* Host bits: the addresses would start mid-prefix; say what was meant. */
	memset(net, 0, sizeof(net));
	memcpy(net, addr_bytes(pool), plen / 8);
	if (plen % 8)
		net[plen / 8] = addr_bytes(pool)[plen / 8] & (uint8_t)(0xff << (8 - plen % 8));
	if (memcmp(net, addr_bytes(pool), alen)) {
		char s[INET6_ADDRSTRLEN];

		inet_ntop(family == 4 ? AF_INET : AF_INET6, net, s, sizeof(s));
		return perr(p, "%s: '%s' has host bits set (the prefix is %s/%u)",
			    key, v, s, plen);
	}
	/* Leave out the network address and .1 (the server's side). */
	pool->size = (family == 4 ? (1u << (32 - plen)) - 3 :
		      (plen < 112 ? 65536 : (1u << (128 - plen)) - 2));
	return 0;
}

static bool addr_unspecified(const struct tscf_addr *a)
{
	return a->family == 4 ? !a->v4.s_addr : IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

static void iface_bound(const struct tscfd_iface *f, struct tscf_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (f->addr.ss_family == AF_INET) {
		a->family = 4;
		a->v4 = ((const struct sockaddr_in *)&f->addr)->sin_addr;
	} else {
		a->family = 6;
		a->v6 = ((const struct sockaddr_in6 *)&f->addr)->sin6_addr;
	}
}

/*
 * The address CONN_INFO names for port N+1: advertise-address, else the
 * bound one.  A wildcard bind has no address a client could use (nor
 * does a NATed one, which is what advertise-address is for).
 */
static int iface_advertise(struct parser *p, struct tscfd_iface *f)
{
	struct tscf_addr bound;

	if (f->advertise.family)
		return 0;
	iface_bound(f, &bound);
	if (addr_unspecified(&bound) && f->dtte)
		return perr_at(p, f->line, "tscf-interface: a wildcard address with DTTE "
			       "needs advertise-address (the address clients reach)");
	f->advertise = bound;
	return 0;
}

static int set_sockaddr(const struct tscf_addr *a, uint16_t port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr = a->v4;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->v6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	}
	return 0;
}

static int iface_key(struct parser *p, struct tscfd_iface *f, const char *key,
		     char *v)
{
	if (!strcmp(key, "address")) {
		struct tscf_addr a;

		if (one_value(p, key, v))
			return -EINVAL;
		if (parse_addr(v, &a))
			return perr(p, "address: '%s' is not an IP address", v);
		snprintf(f->addr_str, sizeof(f->addr_str), "%s", v);
		return set_sockaddr(&a, 0, &f->addr, &f->addrlen);
	}
	if (!strcmp(key, "advertise-address")) {
		if (one_value(p, key, v))
			return -EINVAL;
		if (parse_addr(v, &f->advertise) || addr_unspecified(&f->advertise))
			return perr(p, "advertise-address: '%s' is not a usable IP address", v);
		return 0;
	}
	if (!strcmp(key, "port")) {
		unsigned int port;

		if (parse_uint(p, key, v, 1, 65534, &port))
			return -EINVAL;
		f->port = port;
		f->port_line = p->line;
		return 0;
	}
	if (!strcmp(key, "certificate") || !strcmp(key, "private-key")) {
		char *dst = key[0] == 'c' ? f->cert : f->key;

		if (one_value(p, key, v))
			return -EINVAL;
		if (strlen(v) >= sizeof(f->cert))
			return perr(p, "%s: file name longer than %zu characters",
				    key, sizeof(f->cert) - 1);
		strcpy(dst, v);
		*(key[0] == 'c' ? &f->cert_line : &f->key_line) = p->line;
		return 0;
	}
	if (!strcmp(key, "local-address-pool-v4")) {
		f->pool_line[0] = p->line;
		return parse_pool(p, key, v, 4, &f->pool4);
	}
	if (!strcmp(key, "local-address-pool-v6")) {
		f->pool_line[1] = p->line;
		return parse_pool(p, key, v, 6, &f->pool6);
	}
	if (!strcmp(key, "dns")) {
		if (!v)
			return perr(p, "dns: missing value (one to %d addresses)",
				    TSCFD_MAX_DNS);
		for (; v; v = next_word(p)) {
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
		f->dtte = false;	/* no value: none */
		if (v && !strcmp(v, "none"))
			return one_value(p, key, v);
		for (; v; v = p->rest ? strtok_r(NULL, " \t\r\n,", &p->rest) : NULL) {
			if (!strcmp(v, "DTTE"))
				f->dtte = true;
			else
				return perr(p, "assigned-services: unknown service '%s'", v);
		}
		return 0;
	}
	return perr(p, "unknown tscf-interface setting '%s'", key);
}

/* A name the kernel takes for a device (dev_valid_name), and no template. */
static bool valid_ifname(const char *s)
{
	if (!*s || strlen(s) >= 16 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == '%' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return false;
	return true;
}

static const char *const log_levels[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int tscfd_log_level_parse(const char *s)
{
	int i;

	for (i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (log_levels[i] && !strcmp(s, log_levels[i]))
			return i;
	return -1;
}

/* ADDR:PORT or [ADDR6]:PORT */
static int parse_listen(struct parser *p, const char *key, const char *v,
			struct tscfd_config *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *host = buf, *colon;
	struct tscf_addr a;
	unsigned int port;
	char *saved_rest;

	if (one_value(p, key, v))
		return -EINVAL;
	if (strlen(v) >= sizeof(buf))
		return perr(p, "%s: want ADDR:PORT, got '%s'", key, v);
	strcpy(buf, v);
	colon = strrchr(buf, ':');
	if (!colon)
		return perr(p, "%s: want ADDR:PORT (IPv6: [ADDR]:PORT), got '%s'", key, v);
	*colon = 0;
	if (*host == '[') {
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			return perr(p, "%s: want [ADDR]:PORT, got '%s'", key, v);
		host[n - 1] = 0;
		host++;
	}
	if (parse_addr(host, &a))
		return perr(p, "%s: '%s' is not an IP address", key, host);
	saved_rest = p->rest;
	p->rest = NULL;
	if (parse_uint(p, key, colon + 1, 1, 65535, &port))
		return -EINVAL;
	p->rest = saved_rest;
	set_sockaddr(&a, (uint16_t)port, &c->metrics_addr, &c->metrics_addrlen);
	snprintf(c->metrics_str, sizeof(c->metrics_str), "%s", v);
	c->metrics_set = true;
	p->metrics_line = p->line;
	return 0;
}

static int global_key(struct parser *p, struct tscfd_config *c, const char *key,
		      const char *v)
{
	if (!strcmp(key, "tun-name")) {
		if (one_value(p, key, v))
			return -EINVAL;
		if (!valid_ifname(v))
			return perr(p, "tun-name: '%s' is not a device name (1 to 15 "
				    "characters, no '/', ':', '%%' or blanks)", v);
		strcpy(c->tun_name, v);
		return 0;
	}
	if (!strcmp(key, "control-socket")) {
		if (one_value(p, key, v))
			return -EINVAL;
		if (strlen(v) >= sizeof(c->ctl_path) || v[0] != '/')
			return perr(p, "control-socket: want an absolute path of at most %zu "
				    "characters, got '%s'", sizeof(c->ctl_path) - 1, v);
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
	if (!strcmp(key, "udp-socket-buffer")) {
		unsigned int kb;

		if (parse_uint(p, key, v, 64, 256 * 1024, &kb))
			return -EINVAL;
		c->udp_sockbuf_bytes = (size_t)kb * 1024;
		return 0;
	}
	if (!strcmp(key, "user") || !strcmp(key, "group")) {
		char *dst = key[0] == 'u' ? c->user : c->group;

		if (one_value(p, key, v))
			return -EINVAL;
		if (strlen(v) >= sizeof(c->user))
			return perr(p, "%s: name longer than %zu characters", key,
				    sizeof(c->user) - 1);
		strcpy(dst, v);
		*(key[0] == 'u' ? &c->user_line : &c->group_line) = p->line;
		c->user_set = true;
		return 0;
	}
	if (!strcmp(key, "mtu"))
		return parse_uint(p, key, v, 576, 65535, &c->mtu);
	if (!strcmp(key, "tun-configure"))
		return parse_bool(p, key, v, &c->tun_configure);
	if (!strcmp(key, "stream-super-frames"))
		return parse_bool(p, key, v, &c->stream_super_frames);
	if (!strcmp(key, "udp-super-frames"))
		return parse_bool(p, key, v, &c->udp_super_frames);
	if (!strcmp(key, "kernel-datapath")) {
		if (one_value(p, key, v))
			return -EINVAL;
		if (!strcmp(v, "auto"))
			c->kdp_mode = TSCFD_KDP_AUTO;
		else if (!strcmp(v, "yes"))
			c->kdp_mode = TSCFD_KDP_YES;
		else if (!strcmp(v, "no"))
			c->kdp_mode = TSCFD_KDP_NO;
		else
			return perr(p, "kernel-datapath: want auto, yes or no, got '%s'", v);
		return 0;
	}
	if (!strcmp(key, "kernel-device")) {
		if (one_value(p, key, v))
			return -EINVAL;
		if (!valid_ifname(v))
			return perr(p, "kernel-device: '%s' is not a valid interface name", v);
		strcpy(c->kdp_name, v);
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		if (one_value(p, key, v))
			return -EINVAL;
		c->log_level = tscfd_log_level_parse(v);
		if (c->log_level < 0)
			return perr(p, "log-level: want error, warning, notice, info or "
				    "debug, got '%s'", v);
		return 0;
	}
	if (!strcmp(key, "syslog"))
		return parse_bool(p, key, v, &c->use_syslog);
	if (!strcmp(key, "log-rate-limit"))
		return parse_uint(p, key, v, 0, 1000000, &c->log_rate);
	if (!strcmp(key, "metrics-listen"))
		return parse_listen(p, key, v, c);
	if (!strcmp(key, "metrics-allow-remote"))
		return parse_bool(p, key, v, &c->metrics_allow_remote);
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
	c->udp_sockbuf_bytes = 4u << 20;	/* a burst of a fast TCP flow fits */
	c->mtu = 1399;			/* tscf.ko's device MTU */
	c->tun_configure = true;
	c->stream_super_frames = true;
	c->udp_super_frames = true;
	c->kdp_mode = TSCFD_KDP_AUTO;
	strcpy(c->kdp_name, "tscfsrv0");
	c->log_level = LOG_NOTICE;
	c->log_rate = 20;
}

static int check_iface(struct parser *p, struct tscfd_iface *f)
{
	if (!f->addrlen)
		return perr_at(p, f->line, "tscf-interface has no address");
	if (!f->port)
		return perr_at(p, f->line, "tscf-interface has no port");
	if (!f->pool4.set && !f->pool6.set)
		return perr_at(p, f->line, "tscf-interface has no local-address-pool-v4 "
			       "or local-address-pool-v6");
	if (!f->cert[0] != !f->key[0])
		return perr_at(p, f->cert_line ? f->cert_line : f->key_line,
			       "certificate and private-key go together");
	if (f->dtte && !f->cert[0])
		return perr_at(p, f->line, "tscf-interface: assigned-services DTTE needs "
			       "certificate and private-key (the encrypted tunnel is TLS)");
	return iface_advertise(p, f);
}

static bool same_or_wildcard(const struct tscfd_iface *a, const struct tscfd_iface *b)
{
	struct tscf_addr x, y;

	iface_bound(a, &x);
	iface_bound(b, &y);
	if (x.family != y.family)
		return false;
	return addr_unspecified(&x) || addr_unspecified(&y) ||
	       !memcmp(x.family == 4 ? (void *)&x.v4 : (void *)&x.v6,
		       y.family == 4 ? (void *)&y.v4 : (void *)&y.v6,
		       x.family == 4 ? 4 : 16);
}

/* Across blocks: listeners that would collide, pools that would overlap. */
static int check_all(struct parser *p, struct tscfd_config *c)
{
	unsigned int i, j, k;

	for (i = 0; i < c->niface; i++) {
		struct tscfd_iface *a = &c->iface[i];

		for (j = 0; j < i; j++) {
			struct tscfd_iface *b = &c->iface[j];
			const struct tscfd_pool *pa[2] = { &a->pool4, &a->pool6 };
			const struct tscfd_pool *pb[2] = { &b->pool4, &b->pool6 };

			/* Each block listens on N and N+1. */
			if (same_or_wildcard(a, b) &&
			    (a->port == b->port || a->port == b->port + 1 ||
			     a->port + 1 == b->port))
				return perr_at(p, a->port_line,
					       "%s port %u (and %u) collides with %s port %u "
					       "(and %u) of the tscf-interface at line %u",
					       a->addr_str, a->port, a->port + 1,
					       b->addr_str, b->port, b->port + 1, b->line);
			for (k = 0; k < 2; k++) {
				unsigned int plen;

				if (!pa[k]->set || !pb[k]->set)
					continue;
				plen = pa[k]->plen < pb[k]->plen ? pa[k]->plen : pb[k]->plen;
				if (prefix_eq(addr_bytes(pa[k]), addr_bytes(pb[k]), plen))
					return perr_at(p, a->pool_line[k],
						       "local-address-pool-v%c overlaps the pool "
						       "of the tscf-interface at line %u (line %u)",
						       k ? '6' : '4', b->line, b->pool_line[k]);
			}
		}
		if (a->pool6.set && c->mtu < 1280)
			return perr_at(p, a->pool_line[1], "local-address-pool-v6 needs "
				       "mtu 1280 or more (IPv6's minimum), mtu is %u", c->mtu);
	}
	for (i = 0; c->metrics_set && i < c->niface; i++) {
		struct tscfd_iface *a = &c->iface[i], m = { .addr = c->metrics_addr };
		uint16_t port = ntohs(c->metrics_addr.ss_family == AF_INET ?
				      ((struct sockaddr_in *)&c->metrics_addr)->sin_port :
				      ((struct sockaddr_in6 *)&c->metrics_addr)->sin6_port);

		if (same_or_wildcard(a, &m) && (port == a->port || port == a->port + 1))
			return perr_at(p, p->metrics_line, "metrics-listen %s collides with "
				       "port %u or %u of the tscf-interface at line %u",
				       c->metrics_str, a->port, a->port + 1, a->line);
	}
	if (c->metrics_set && !c->metrics_allow_remote) {
		const struct sockaddr_storage *ss = &c->metrics_addr;
		bool loop = ss->ss_family == AF_INET ?
			(ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127 :
			IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);

		if (!loop)
			return perr_at(p, p->metrics_line, "metrics-listen %s is not a "
				       "loopback address: the metrics are unauthenticated "
				       "(metrics-allow-remote yes to serve them anyway)",
				       c->metrics_str);
	}
	return 0;
}

/* A line in the wrong scope gets told where it belongs. */
static int wrong_scope(struct parser *p, const char *key, bool indented,
		       const struct tscfd_iface *cur)
{
	if (!indented && key_index(iface_keys, NIFACE, key) >= 0) {
		if (cur)
			return perr(p, "'%s' is not indented, so it is read as a global "
				    "setting; it is a tscf-interface setting: indent it "
				    "to belong to the block at line %u", key, cur->line);
		return perr(p, "'%s' is a tscf-interface setting: put it, indented, "
			    "under a 'tscf-interface' line", key);
	}
	if (indented && key_index(global_keys, NGLOBAL, key) >= 0)
		return perr(p, "'%s' is a global setting: write it unindented, before "
			    "the first tscf-interface block", key);
	return 0;
}

/* A second "port" in one block would silently replace the first. */
static int once(struct parser *p, const char *key, bool global)
{
	int i = global ? key_index(global_keys, NGLOBAL, key) :
			 key_index(iface_keys, NIFACE, key);
	unsigned int *seen = global ? p->gseen : p->iseen;

	if (i < 0 || !strcmp(key, "dns"))
		return 0;
	if (seen[i])
		return perr(p, "'%s' is given twice (first on line %u)", key, seen[i]);
	seen[i] = p->line;
	return 0;
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
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *key, *v, *hash;
		bool indented = isspace((unsigned char)line[0]);

		p.line++;
		/* fgets splits a long line: its tail would pass as a line of its own */
		if (!strchr(line, '\n') && !feof(f)) {
			rc = perr(&p, "line longer than %zu characters", sizeof(line) - 2);
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		key = strtok_r(line, " \t\r\n", &p.rest);
		if (!key)
			continue;
		v = next_word(&p);
		if (!strcmp(key, "tscf-interface")) {
			if (indented || v) {
				rc = perr(&p, "'tscf-interface' stands alone, unindented, "
					  "on its line");
				break;
			}
			if (cur && (rc = check_iface(&p, cur)))
				break;
			if (conf->niface == TSCFD_MAX_IFACES) {
				rc = perr(&p, "at most %d tscf-interface blocks", TSCFD_MAX_IFACES);
				break;
			}
			cur = &conf->iface[conf->niface++];
			cur->max_tunnels = 200000;
			cur->line = p.line;
			memset(p.iseen, 0, sizeof(p.iseen));
			continue;
		}
		rc = wrong_scope(&p, key, indented, cur);
		if (rc)
			break;
		if (indented && !cur) {
			rc = perr(&p, "indented setting '%s' outside a tscf-interface block",
				  key);
			break;
		}
		rc = once(&p, key, !indented);
		if (rc)
			break;
		if (indented)
			rc = iface_key(&p, cur, key, v);
		else
			rc = global_key(&p, conf, key, v);
	}
	if (!rc && ferror(f))
		rc = perr(&p, "read error");
	fclose(f);
	if (!rc && cur)
		rc = check_iface(&p, cur);
	if (!rc && !conf->niface)
		rc = perr(&p, "no tscf-interface defined");
	if (!rc)
		rc = check_all(&p, conf);
	return rc;
}

static const char *ssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "no reason given";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/* Readable, and a regular file: say why not with errno, not OpenSSL. */
static FILE *open_pem(struct parser *p, unsigned int line, const char *what,
		      const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		perr_at(p, line, "%s %s: %s", what, path, strerror(errno));
	return f;
}

/*
 * What only the files can tell: the certificate and key load, belong
 * together and the certificate is within its validity period.  For -t;
 * the start loads them again (net.c) and fails the same way.
 */
int tscfd_config_check_files(const char *path, const struct tscfd_config *conf,
			     char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen };
	unsigned int i;
	int rc = 0;

	/* The start would stop at a name that does not exist (main.c). */
	if (conf->user[0] && strcmp(conf->user, "root") && !getpwnam(conf->user))
		return perr_at(&p, conf->user_line, "user '%s' does not exist", conf->user);
	if (conf->group[0] && !getgrnam(conf->group))
		return perr_at(&p, conf->group_line, "group '%s' does not exist", conf->group);
	for (i = 0; i < conf->niface && !rc; i++) {
		const struct tscfd_iface *f = &conf->iface[i];
		EVP_PKEY *key = NULL;
		SSL_CTX *ctx;
		FILE *fp;
		X509 *x;

		if (!f->cert[0])
			continue;
		fp = open_pem(&p, f->cert_line, "certificate", f->cert);
		if (!fp)
			return -EINVAL;
		fclose(fp);
		fp = open_pem(&p, f->key_line, "private-key", f->key);
		if (!fp)
			return -EINVAL;
		ERR_clear_error();
		key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
		if (!key)
			return perr_at(&p, f->key_line, "private-key %s: not a PEM private "
				       "key (or encrypted): %s", f->key, ssl_error());
		ctx = SSL_CTX_new(TLS_server_method());
		if (!ctx) {
			EVP_PKEY_free(key);
			return perr_at(&p, f->cert_line, "out of memory");
		}
		ERR_clear_error();
		if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1)
			rc = perr_at(&p, f->cert_line, "certificate %s: cannot load: %s",
				     f->cert, ssl_error());
		else if (SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
			 SSL_CTX_check_private_key(ctx) != 1)
			rc = perr_at(&p, f->key_line, "private-key %s does not match "
				     "certificate %s", f->key, f->cert);
		else if ((x = SSL_CTX_get0_certificate(ctx)) &&
			 X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
			rc = perr_at(&p, f->cert_line, "certificate %s has expired", f->cert);
		else if (x && X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
			rc = perr_at(&p, f->cert_line, "certificate %s is not valid yet",
				     f->cert);
		EVP_PKEY_free(key);
		SSL_CTX_free(ctx);
	}
	return rc;
}
