// SPDX-License-Identifier: GPL-2.0
/*
 * systemd's readiness protocol without libsystemd: one AF_UNIX datagram
 * of "KEY=VALUE" lines to the socket $NOTIFY_SOCKET names (a path, or an
 * abstract name written with a leading '@').  Without the variable this
 * does nothing.  Used for Type=notify (docs/SERVER.md, "systemd").
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tscfd.h"

void tscfd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t alen;
	int fd;

	if (!path || !*path)
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		tscfd_logp(LOG_WARNING, "NOTIFY_SOCKET '%s' is not a socket path", path);
		return;
	}
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = 0;	/* abstract: no trailing NUL counted */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sun, alen) < 0)
		tscfd_logp(LOG_WARNING, "cannot notify %s: %s", path, strerror(errno));
	close(fd);
}
