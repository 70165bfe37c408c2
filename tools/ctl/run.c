// SPDX-License-Identifier: GPL-2.0
/*
 * The helper registry and the state the helper publishes.
 *
 * Every helper, however started (foreground or --daemon, with or without
 * --pidfile), registers in RUNDIR/DEV.pid (RUNDIR is /run/tscf, or
 * $TSCF_RUNDIR for tests; DEV-encrypted.pid for "up DEV encrypted"):
 * it holds an exclusive flock() on that file for as long as it runs and
 * removes it on the way out.  A second helper for DEV finds the lock
 * taken and refuses before it touches anything.
 *
 * "down" and "show" never trust the PID in a file alone, which could be a
 * stale file's (a helper killed with SIGKILL) whose PID was reused: the
 * PID counts only if /proc/PID/cmdline is "tscfctl ... up DEV" and one of
 * /proc/PID/fd is this very file (same device and inode).  A reused PID
 * fails both, so an unrelated process is never signalled.
 *
 * RUNDIR/DEV.state: key=value lines the helper rewrites (a temporary
 * file renamed over it, so a reader sees a whole one) when its state
 * changes; times are seconds since the epoch.  See docs/tscfctl.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tscfctl.h"

const char *run_dir(void)
{
	const char *d = getenv("TSCF_RUNDIR");

	return d && *d ? d : "/run/tscf";
}

void run_path(char *path, size_t len, const char *dev, bool enc_only, const char *ext)
{
	snprintf(path, len, "%s/%s%s.%s", run_dir(), dev, enc_only ? "-encrypted" : "",
		 ext);
}

static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || pid <= 0 || pid > INT_MAX)
		return 0;
	return (pid_t)pid;
}

/* Lock PATH for this process and write its PID: 0, -EEXIST (*holder), -errno. */
static int claim_one(const char *path, int *fdp, pid_t *holder)
{
	struct stat a, b;
	int fd, tries;

	for (tries = 0; tries < 10; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int e = errno;

			*holder = read_pid(fd);
			close(fd);
			return e == EWOULDBLOCK ? -EEXIST : -e;
		}
		/* A helper on its way out may have removed it meanwhile. */
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			int rc = write_pid(fd);

			if (rc) {
				close(fd);
				return rc;
			}
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

int reg_claim(struct helper_reg *r, const char *dev, bool enc_only,
	      const char *user_pidfile, pid_t *holder, char *err, size_t errlen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = r->user_fd = -1;
	*holder = 0;
	if (mkdir(run_dir(), 0755) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", run_dir(), strerror(errno));
		return -errno;
	}
	run_path(r->path, sizeof(r->path), dev, enc_only, "pid");
	run_path(r->state, sizeof(r->state), dev, enc_only, "state");
	rc = claim_one(r->path, &r->fd, holder);
	if (rc) {
		snprintf(err, errlen, "%s: %s", r->path, strerror(-rc));
		return rc;
	}
	if (user_pidfile) {
		snprintf(r->user, sizeof(r->user), "%s", user_pidfile);
		rc = claim_one(r->user, &r->user_fd, holder);
		if (rc) {
			snprintf(err, errlen, "%s: %s", r->user,
				 rc == -EEXIST ? "held by another running process" :
				 strerror(-rc));
			r->user[0] = 0;
			reg_release(r);
			return rc == -EEXIST ? -EBUSY : rc;
		}
	}
	return 0;
}

/* After daemon(): the lock came along (flock is per open file), the PID did not. */
void reg_update_pid(struct helper_reg *r)
{
	if (r->fd >= 0)
		write_pid(r->fd);
	if (r->user_fd >= 0)
		write_pid(r->user_fd);
}

void reg_release(struct helper_reg *r)
{
	/* Removed while still locked: nobody can mistake it for a live one. */
	if (r->fd >= 0) {
		unlink(r->path);
		unlink(r->state);
		close(r->fd);
		r->fd = -1;
	}
	if (r->user_fd >= 0) {
		unlink(r->user);
		close(r->user_fd);
		r->user_fd = -1;
	}
}

/* Is the word after w (in a cmdline ending at end) a transport, as in
 * "encrypted dtls", which is not the encrypted-only mode? */
static bool enc_choice_follows(const char *w, const char *end)
{
	const char *next = w + strlen(w) + 1;

	return next < end && (!strcmp(next, "tls") || !strcmp(next, "dtls") ||
			      !strcmp(next, "auto"));
}

/* Is PID a "tscfctl ... up DEV" (and, for enc_only, "... encrypted")? */
static bool is_helper_cmdline(pid_t pid, const char *dev, bool enc_only)
{
	char path[64], buf[4096], *w, *end, *prog;
	bool up = false, dev_seen = false, enc = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	end = buf + n;
	prog = strrchr(buf, '/');
	prog = prog ? prog + 1 : buf;
	if (strcmp(prog, "tscfctl"))
		return false;
	for (w = buf + strlen(buf) + 1; w < end; w += strlen(w) + 1) {
		if (!up && !strcmp(w, "up"))
			up = true;
		else if (up && !dev_seen && !strcmp(w, dev))
			dev_seen = true;
		else if (up && !dev_seen)
			return false;
		else if (!strcmp(w, "encrypted") && !enc_choice_follows(w, end))
			enc = true;
	}
	return up && dev_seen && enc == enc_only;
}

/* Does PID hold a descriptor of the file st is of? */
static bool holds_file(pid_t pid, const struct stat *st)
{
	char path[64], fdpath[352];
	struct dirent *de;
	struct stat fs;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		found = !stat(fdpath, &fs) && fs.st_dev == st->st_dev &&
			fs.st_ino == st->st_ino;
	}
	closedir(d);
	return found;
}

pid_t reg_find(const char *dev, bool enc_only)
{
	char path[PATH_MAX];
	struct stat st;
	pid_t pid;
	int fd;

	run_path(path, sizeof(path), dev, enc_only, "pid");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	pid = read_pid(fd);
	if (fstat(fd, &st))
		pid = 0;
	close(fd);
	if (pid <= 0 || pid == getpid())
		return 0;
	if (!is_helper_cmdline(pid, dev, enc_only) || !holds_file(pid, &st)) {
		logp(LOG_DEBUG, "%s: pid %d is not this device's helper: ignored", path,
		     (int)pid);
		return 0;
	}
	return pid;
}

/* SIGTERM to DEV's helper, if there is one; true once it has gone. */
bool reg_stop(const char *dev, bool enc_only)
{
	pid_t pid = reg_find(dev, enc_only), cur;
	int i;

	if (!pid)
		return false;
	logp(LOG_INFO, "%s: stopping its helper, pid %d", dev, (int)pid);
	if (kill(pid, SIGTERM))
		return false;
	/*
	 * Until its registration is gone (the file closes with the process).
	 * A --daemon helper caught before it detached leaves a child that
	 * did not inherit the pending signal: the registry names the child
	 * then, and it is told too.
	 */
	for (i = 0; i < 100; i++) {
		cur = reg_find(dev, enc_only);
		/*
		 * The registry goes a moment before the process: "down" returns
		 * once the process is gone too (a zombie has no cmdline).
		 */
		if (!cur && !is_helper_cmdline(pid, dev, enc_only))
			return true;
		if (!cur) {
			usleep(20000);
			continue;
		}
		if (cur != pid) {
			pid = cur;
			kill(pid, SIGTERM);
		}
		usleep(100000);
	}
	logp(LOG_WARNING, "%s: helper pid %d did not stop within 10 s", dev, (int)pid);
	return false;
}

/* Write the state file whole: a temporary file renamed over it. */
void state_publish(const struct helper_reg *r, const char *text)
{
	char tmp[PATH_MAX + 8];
	int fd;
	size_t len = strlen(text);

	if (r->fd < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->state);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, r->state))
		unlink(tmp);
}

/* Reads DEV's state file into st, if its writer is DEV's live helper. */
int state_read(const char *dev, struct helper_state *st)
{
	char path[PATH_MAX], line[1024], *eq;
	FILE *f;

	memset(st, 0, sizeof(*st));
	st->pid = reg_find(dev, false);
	if (!st->pid)
		return -ENOENT;
	run_path(path, sizeof(path), dev, false, "state");
	f = fopen(path, "r");
	if (!f)
		return 0;	/* registered, nothing published yet */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = 0;
		if (!strcmp(line, "pid") && atoi(eq) != (int)st->pid)
			break;	/* an older helper's */
		if (!strcmp(line, "state"))
			snprintf(st->state, sizeof(st->state), "%s", eq);
		else if (!strcmp(line, "encrypted"))
			snprintf(st->enc, sizeof(st->enc), "%s", eq);
		else if (!strcmp(line, "last_error"))
			snprintf(st->last_error, sizeof(st->last_error), "%s", eq);
		else if (!strcmp(line, "retry_at"))
			st->retry_at = strtoll(eq, NULL, 10);
		else if (!strcmp(line, "last_answer"))
			st->last_answer = strtoll(eq, NULL, 10);
		else if (!strcmp(line, "keepalive"))
			st->keepalive = (unsigned int)strtoul(eq, NULL, 10);
		st->valid = true;
	}
	fclose(f);
	return 0;
}
