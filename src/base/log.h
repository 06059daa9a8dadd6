/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_LOG_H
#define DOMUD_LOG_H

#include <stdarg.h>

/* stderr when debug (foreground), syslog otherwise */
void log_init(int debug, int verbose, const char *ident);
int  log_getverbose(void);

/* log_warn appends strerror(errno); the x variants don't */
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void vlog(int pri, const char *, va_list) __attribute__((format(printf, 2, 0)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
