// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging in the style of OpenBSD daemons: stderr under -d, syslog otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_debug_mode = 1;
static int log_verbose;
static int log_stamps;

void
log_init(int debug, int verbose, const char *ident)
{
	log_debug_mode = debug;
	log_verbose = verbose;
	log_stamps = debug && ident && strcmp(ident, "domud") == 0;
	if (!debug)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

int
log_getverbose(void)
{
	return log_verbose;
}

/* under -d only: wall-clock time of day, for reading a log beside others */
static void
log_stamp(char *buf, size_t sz)
{
	struct timespec ts;
	struct tm tm;

	buf[0] = '\0';
	if (!log_stamps)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sz, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	if (log_debug_mode) {
		char ts[32], line[2048];

		/* one fprintf per line: lines from builder threads stay whole */
		log_stamp(ts, sizeof(ts));
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s%s\n", ts, line);
	} else
		vsyslog(pri, fmt, ap);
}

static void
vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char buf[1024], ts[32];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_stamp(ts, sizeof(ts));
	if (log_debug_mode)
		fprintf(stderr, "%s%s: %s\n", ts, buf, strerror(saved));
	else
		syslog(pri, "%s: %s", buf, strerror(saved));
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
