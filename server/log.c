// SPDX-License-Identifier: GPL-2.0
/*
 * Logging with syslog priorities.  Three sinks, chosen at start:
 *  - syslog(3), with "syslog yes";
 *  - stderr read by journald (JOURNAL_STREAM names stderr's device and
 *    inode): each line starts with "<N>", which journald takes as its
 *    priority and strips;
 *  - plain stderr: each line starts with a UTC timestamp.
 * Lines about single tunnels (tscfd_tlog) are the ones a client, or a
 * flood of them, controls: they go through a per-second budget
 * (log-rate-limit) and what is over it is counted and summarised once
 * a second, so a flood cannot fill the disk or stall the loop on writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "tscfd.h"

enum sink { SINK_STDERR, SINK_JOURNAL, SINK_SYSLOG };

static enum sink sink;
static int level = LOG_NOTICE;
static int verbose;			/* -v given this many times */
static unsigned int rate;		/* per-tunnel lines a second */
static time_t window;			/* the second being counted */
static unsigned int in_window;
static unsigned long long suppressed;

static const char *const names[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert", [LOG_CRIT] = "critical",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* Is stderr the stream JOURNAL_STREAM ("DEV:INODE") describes? */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void tscfd_log_verbose(int n)
{
	verbose = n;
}

/* From the configuration, at start and on every reload. */
void tscfd_log_setup(const struct tscfd_config *c)
{
	level = c->log_level + verbose;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	rate = c->log_rate;
	if (c->use_syslog) {
		if (sink != SINK_SYSLOG)
			openlog("tscfd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		sink = SINK_SYSLOG;
	} else {
		if (sink == SINK_SYSLOG)
			closelog();
		sink = stderr_is_journal() ? SINK_JOURNAL : SINK_STDERR;
	}
}

bool tscfd_log_enabled(int prio)
{
	return prio <= level;
}

/* One write per line: stderr is unbuffered, and a flood logs a lot. */
static void emit(int prio, const char *msg)
{
	char line[600], ts[40];
	struct timespec now;
	struct tm tm;
	int n;

	if (sink == SINK_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	if (sink == SINK_JOURNAL) {
		n = snprintf(line, sizeof(line), "<%d>%s\n", prio, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s.%03ldZ tscfd: %s%s%s\n", ts,
			     now.tv_nsec / 1000000,
			     prio <= LOG_WARNING ? names[prio] : "",
			     prio <= LOG_WARNING ? ": " : "", msg);
	}
	if (n < 0)
		return;
	if (n >= (int)sizeof(line)) {
		n = sizeof(line);
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;	/* nowhere to report it */
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(prio, msg);
}

void tscfd_logp(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!tscfd_log_enabled(prio))
		return;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

void tscfd_log(const char *fmt, ...)
{
	va_list ap;

	if (!tscfd_log_enabled(LOG_NOTICE))
		return;
	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
}

/* Once a second (the timer tick) and when a new second's lines begin. */
void tscfd_log_tick(void)
{
	time_t now = tscfd_now();

	if (now == window)
		return;
	if (suppressed) {
		char msg[128];

		snprintf(msg, sizeof(msg), "suppressed %llu per-tunnel log lines "
			 "(log-rate-limit %u a second)", suppressed, rate);
		emit(LOG_NOTICE, msg);
		suppressed = 0;
	}
	window = now;
	in_window = 0;
}

void tscfd_tlog(int prio, const char *fmt, ...)
{
	va_list ap;

	if (!tscfd_log_enabled(prio))
		return;
	tscfd_log_tick();
	if (rate && in_window >= rate) {
		suppressed++;
		return;
	}
	in_window++;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}
