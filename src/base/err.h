/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_ERR_H
#define DOMUD_ERR_H

/*
 * An error object that each layer can add context to, as crun does:
 * the lowest layer sets it, callers prefix "context: ".
 * status is an errno value or a negative libxl error code (0 = none).
 */
struct err {
	int	 status;
	char	 msg[512];
};

#define ERR_INIT { 0, "" }

int  err_set(struct err *, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int  err_wrap(struct err *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *);

#endif
