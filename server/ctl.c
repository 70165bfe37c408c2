// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * The control socket: "tscfd --stats" connects, the server writes its
 * counters (text or JSON, chosen by the first byte the client sends) and
 * closes.  Answered inline: the reply is small.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tscfd.h"

int tscfd_ctl_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 8) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

#define COUNTERS(X) \
	X(tunnels_opened) X(tunnels_closed) X(config_req) X(release_req) \
	X(keepalive_req) X(service_req) X(dtte_granted) X(dtte_refused) \
	X(resumed) X(refused_resume) \
	X(flow_bind) X(rx_packets) X(tx_packets) X(drop_malformed) \
	X(drop_bad_nibble) X(drop_wrong_tsid) X(drop_spoofed) \
	X(drop_no_session) X(drop_enc_only_clear) X(drop_unknown_type) \
	X(drop_no_tunnel) X(drop_tls) X(refused_max_tunnels) X(refused_pool) \
	X(accept_emfile) X(handshakes_deferred) X(drop_preauth) X(drop_backlog) \
	X(refused_flow_lower) X(unclassified) X(drop_unclassified) \
	X(unverified_rx_bytes) X(unverified_tx_bytes) X(cookie_sent) \
	X(drop_unverified) X(refused_version) X(config_resent) \
	X(refused_dtte_binding) X(refused_disable_dtte)

static int render(char *buf, size_t len, bool json)
{
	unsigned int enc, flows;
	int n;

	tscfd_sessions_stats(&enc, &flows);
	if (json) {
		n = snprintf(buf, len, "{\"tunnels\": %u, \"sessions\": %u, "
			     "\"encrypted_tunnels\": %u, \"flows\": %u, "
			     "\"handshakes\": %u, \"preauth_bytes\": %zu, "
			     "\"backlog_bytes\": %zu",
			     tscfd_tunnel_count(), tscfd_session_count(), enc, flows,
			     tscfd_handshakes(), tscfd_preauth_bytes(),
			     tscfd_backlog_bytes());
#define X(c) n += snprintf(buf + n, len - n, ", \"" #c "\": %llu", \
			   (unsigned long long)tscfd_stats.c);
		COUNTERS(X)
#undef X
		n += snprintf(buf + n, len - n, "}\n");
		return n;
	}
	n = snprintf(buf, len, "tunnels: %u\nsessions: %u\nencrypted_tunnels: %u\nflows: %u\n"
		     "handshakes: %u\npreauth_bytes: %zu\nbacklog_bytes: %zu\n",
		     tscfd_tunnel_count(), tscfd_session_count(), enc, flows,
		     tscfd_handshakes(), tscfd_preauth_bytes(), tscfd_backlog_bytes());
#define X(c) n += snprintf(buf + n, len - n, #c ": %llu\n", \
			   (unsigned long long)tscfd_stats.c);
	COUNTERS(X)
#undef X
	return n;
}

void tscfd_ctl_accept(int lfd)
{
	char buf[4096], mode = 't';
	int fd, n;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* The client sends its mode first; do not wait long for it. */
	struct timeval tv = { .tv_sec = 1 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read(fd, &mode, 1) != 1)
		mode = 't';
	n = render(buf, sizeof(buf), mode == 'j');
	if (n > 0 && write(fd, buf, (size_t)n) < 0)
		tscfd_log("control socket: write: %s", strerror(errno));
	close(fd);
}

int tscfd_ctl_query(const char *path, bool json)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096], mode = json ? 'j' : 't';
	ssize_t n;
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "tscfd: cannot reach the server at %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	if (write(fd, &mode, 1) != 1)
		return 1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
