// SPDX-License-Identifier: GPL-2.0
/*
 * SSLKEYLOGFILE, for lab captures only: with the variable set, the TLS
 * and DTLS secrets of every handshake are appended to that file in the
 * NSS key log format Wireshark reads, which decrypts every encrypted
 * tunnel of the capture.  The file is opened once at start (as root,
 * mode 0600, before the privilege drop) and the start warns loudly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tscfd.h"

static int keylog_fd = -1;

int tscfd_keylog_open(void)
{
	const char *path = getenv("SSLKEYLOGFILE");

	if (!path || !*path)
		return 0;
	keylog_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (keylog_fd < 0) {
		tscfd_logp(LOG_ERR, "SSLKEYLOGFILE %s: %s", path, strerror(errno));
		return -1;
	}
	tscfd_logp(LOG_WARNING, "SSLKEYLOGFILE is set: the TLS/DTLS secrets of every "
		   "tunnel are written to %s; anyone who reads it decrypts the "
		   "encrypted tunnels. For lab captures only: never in production", path);
	return 0;
}

static void keylog_line(const SSL *ssl, const char *line)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = strlen(line) },
		{ .iov_base = "\n", .iov_len = 1 },
	};

	(void)ssl;
	/* One writev with O_APPEND: lines of two handshakes never mix. */
	if (writev(keylog_fd, iov, 2) < 0)
		return;	/* a lab aid: the tunnel goes on without it */
}

void tscfd_keylog_attach(SSL_CTX *ctx)
{
	if (keylog_fd >= 0)
		SSL_CTX_set_keylog_callback(ctx, keylog_line);
}
