// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * "metrics-listen ADDR:PORT": the OpenMetrics text of tscfd --stats
 * --format openmetrics on "GET /metrics", HTTP/1.0, one request per
 * connection.  It lives in the one event loop, so nothing here blocks and
 * nothing a scraper does can grow without bound: at most METRICS_CONNS
 * connections (more wait in the listen backlog), a request of at most
 * METRICS_REQ bytes, METRICS_SECS seconds per connection, the answer
 * rendered once and written as the socket takes it.  The address is
 * loopback unless metrics-allow-remote (config.c): the numbers are not
 * secret, but they describe the server's load to whoever asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tscfd.h"

#define METRICS_CONNS	8
#define METRICS_REQ	1024
#define METRICS_SECS	5

struct metrics_conn {
	int type;			/* EV_METRICS_CONN */
	int fd;
	bool used;
	time_t started;
	size_t rxlen;
	char rx[METRICS_REQ];
	char *tx;			/* response, once the request is in */
	size_t txlen, txoff;
};

static struct tscfd_handle listener = { .type = EV_METRICS_LISTEN, .fd = -1 };
static struct metrics_conn conns[METRICS_CONNS];
static unsigned int nconns;
static bool listener_paused;

static void listener_watch(bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.ptr = &listener };

	if (listener.fd >= 0 && on == listener_paused) {
		epoll_ctl(tscfd_epfd, EPOLL_CTL_MOD, listener.fd, &ev);
		listener_paused = !on;
	}
}

int tscfd_metrics_listen(const struct tscfd_config *conf)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener };
	int one = 1, fd;

	if (!conf->metrics_set)
		return 0;
	fd = socket(conf->metrics_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (conf->metrics_addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&conf->metrics_addr, conf->metrics_addrlen) ||
	    listen(fd, 16) || epoll_ctl(tscfd_epfd, EPOLL_CTL_ADD, fd, &ev))
		goto fail;
	listener.fd = fd;
	tscfd_log("metrics: OpenMetrics on http://%s/metrics", conf->metrics_str);
	return 0;
fail:
	tscfd_logp(LOG_ERR, "metrics-listen %s: %s", conf->metrics_str, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void conn_close(struct metrics_conn *c)
{
	epoll_ctl(tscfd_epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->tx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	nconns--;
	listener_watch(true);
}

static void on_accept(void)
{
	unsigned int i;
	int fd;

	while (nconns < METRICS_CONNS) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct metrics_conn *c = NULL;

		for (i = 0; i < METRICS_CONNS && !c; i++)
			if (!conns[i].used)
				c = &conns[i];
		if (!c)
			break;	/* not reached: nconns counts the used slots */
		fd = accept4(listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		memset(c, 0, sizeof(*c));
		c->type = EV_METRICS_CONN;
		c->fd = fd;
		c->used = true;
		c->started = tscfd_now();
		ev.data.ptr = c;
		if (epoll_ctl(tscfd_epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->used = false;
			continue;
		}
		nconns++;
	}
	/* Full: the rest wait in the backlog until a slot frees. */
	listener_watch(false);
}

static void respond(struct metrics_conn *c, const char *status, const char *type,
		    const char *body, size_t blen)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	FILE *f = open_memstream(&c->tx, &c->txlen);

	if (!f) {
		conn_close(c);
		return;
	}
	fprintf(f, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", status, type, blen);
	fwrite(body, 1, blen, f);
	if (fclose(f)) {
		c->tx = NULL;
		conn_close(c);
		return;
	}
	epoll_ctl(tscfd_epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_request(struct metrics_conn *c)
{
	char *body = NULL, *sp1, *sp2;
	size_t blen = 0;
	FILE *f;

	/* "GET /metrics HTTP/1.x"; a query string is ignored. */
	sp1 = strchr(c->rx, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		static const char m[] = "bad request\n";

		respond(c, "400 Bad Request", "text/plain", m, sizeof(m) - 1);
		return;
	}
	if (sp1 - c->rx != 3 || memcmp(c->rx, "GET", 3)) {
		static const char m[] = "only GET\n";

		respond(c, "405 Method Not Allowed", "text/plain", m, sizeof(m) - 1);
		return;
	}
	*sp2 = 0;
	if (strcmp(sp1 + 1, "/metrics") && strncmp(sp1 + 1, "/metrics?", 9)) {
		static const char m[] = "not found: try /metrics\n";

		respond(c, "404 Not Found", "text/plain", m, sizeof(m) - 1);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f) {
		conn_close(c);
		return;
	}
	tscfd_metrics_render(f);
	if (fclose(f)) {
		conn_close(c);
		return;
	}
	respond(c, "200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8",
		body, blen);
	free(body);
}

static void on_readable(struct metrics_conn *c)
{
	ssize_t n = read(c->fd, c->rx + c->rxlen, sizeof(c->rx) - 1 - c->rxlen);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	c->rxlen += (size_t)n;
	c->rx[c->rxlen] = 0;
	if (strstr(c->rx, "\r\n\r\n") || strstr(c->rx, "\n\n")) {
		on_request(c);
		return;
	}
	if (c->rxlen == sizeof(c->rx) - 1) {
		static const char m[] = "request too large\n";

		respond(c, "431 Request Header Fields Too Large", "text/plain", m,
			sizeof(m) - 1);
	}
}

static void on_writable(struct metrics_conn *c)
{
	ssize_t n = write(c->fd, c->tx + c->txoff, c->txlen - c->txoff);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->txoff += (size_t)n;
	if (c->txoff == c->txlen) {
		shutdown(c->fd, SHUT_WR);
		conn_close(c);
	}
}

void tscfd_metrics_event(void *ptr, uint32_t events)
{
	struct metrics_conn *c = ptr;

	if (ptr == &listener) {
		on_accept();
		return;
	}
	if (!c->used)
		return;		/* closed earlier in this batch */
	if (c->tx)
		on_writable(c);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable(c);
}

/* A scraper that sends nothing, or reads nothing, loses its slot. */
void tscfd_metrics_tick(void)
{
	time_t now = tscfd_now();
	unsigned int i;

	for (i = 0; i < METRICS_CONNS; i++)
		if (conns[i].used && now - conns[i].started > METRICS_SECS)
			conn_close(&conns[i]);
}
