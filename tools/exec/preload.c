// SPDX-License-Identifier: GPL-2.0
/*
 * libtscf-preload.so: sets SO_TSCF_ENCLEVEL on the sockets an unmodified
 * program creates (LD_PRELOAD, see tscf-exec).
 *
 *   TSCF_LEVEL  unencrypted | encrypted-only | encrypted-preferred (or 0-2)
 *   TSCF_PORTS  optional: "5060,10000-20000"; only sockets that bind or
 *               connect to one of these ports are marked, at that moment
 *
 * A socket that should be encrypted but cannot be marked (module not
 * loaded, say) is refused: the call fails with the setsockopt error
 * rather than letting the program talk in the clear unknowingly.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tscf.h>

#define MAX_RANGES 32

static struct {
	int level;			/* -1: not configured */
	int nranges;
	unsigned short lo[MAX_RANGES], hi[MAX_RANGES];
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*connect)(int, const struct sockaddr *, socklen_t);
} cfg = { .level = -1 };

static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;

static int parse_level(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "unencrypted") || !strcmp(s, "0"))
		return 0;
	if (!strcmp(s, "encrypted-only") || !strcmp(s, "only") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "encrypted-preferred") || !strcmp(s, "preferred") ||
	    !strcmp(s, "2"))
		return 2;
	fprintf(stderr, "tscf-preload: bad TSCF_LEVEL '%s'\n", s);
	return -1;
}

static void parse_ports(const char *s)
{
	char *copy, *tok, *save;

	if (!s || !*s)
		return;
	copy = strdup(s);
	for (tok = strtok_r(copy, ",", &save); tok && cfg.nranges < MAX_RANGES;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int lo, hi;

		if (sscanf(tok, "%u-%u", &lo, &hi) != 2)
			hi = lo = (unsigned int)atoi(tok);
		if (lo && lo <= hi && hi < 65536) {
			cfg.lo[cfg.nranges] = lo;
			cfg.hi[cfg.nranges++] = hi;
		}
	}
	free(copy);
}

static void cfg_init(void)
{
	cfg.socket = dlsym(RTLD_NEXT, "socket");
	cfg.bind = dlsym(RTLD_NEXT, "bind");
	cfg.connect = dlsym(RTLD_NEXT, "connect");
	cfg.level = parse_level(getenv("TSCF_LEVEL"));
	parse_ports(getenv("TSCF_PORTS"));
}

static int inet_stream_or_dgram(int domain, int type)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type == SOCK_STREAM || type == SOCK_DGRAM);
}

/* 0, or -1 with errno when a socket that must be marked cannot be. */
static int mark(int fd, int domain)
{
	int level = cfg.level;
	int sol = domain == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;

	if (setsockopt(fd, sol, SO_TSCF_ENCLEVEL, &level, sizeof(level)) == 0)
		return 0;
	fprintf(stderr, "tscf-preload: cannot mark socket %d (%s)%s\n", fd,
		strerror(errno),
		errno == ENOPROTOOPT ? ": is the tscf module loaded?" : "");
	return level ? -1 : 0;
}

static int port_listed(const struct sockaddr *sa)
{
	unsigned short port;
	int i;

	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return 0;
	for (i = 0; i < cfg.nranges; i++)
		if (port >= cfg.lo[i] && port <= cfg.hi[i])
			return 1;
	return 0;
}

int socket(int domain, int type, int protocol)
{
	int fd, err;

	pthread_once(&cfg_once, cfg_init);
	fd = cfg.socket(domain, type, protocol);
	if (fd < 0 || cfg.level < 0 || cfg.nranges ||
	    !inet_stream_or_dgram(domain, type))
		return fd;
	if (mark(fd, domain)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* With TSCF_PORTS, mark when the socket's port becomes known. */
static int mark_if_listed(int fd, const struct sockaddr *sa)
{
	if (cfg.level < 0 || !cfg.nranges || !port_listed(sa))
		return 0;
	return mark(fd, sa->sa_family);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	pthread_once(&cfg_once, cfg_init);
	if (mark_if_listed(fd, sa))
		return -1;
	return cfg.bind(fd, sa, len);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	pthread_once(&cfg_once, cfg_init);
	if (mark_if_listed(fd, sa))
		return -1;
	return cfg.connect(fd, sa, len);
}
