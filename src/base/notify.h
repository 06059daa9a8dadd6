/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_NOTIFY_H
#define DOMUD_NOTIFY_H

/*
 * systemd's service notification (sd_notify(3)), without libsystemd: one
 * datagram per message to $NOTIFY_SOCKET. Everything is a no-op when the
 * service manager did not ask for it, so the same binary runs under
 * sysvinit, BusyBox init or by hand.
 */
#include <stdint.h>

struct notify {
	int		 fd;		/* -1: nobody listens */
	char		 path[108];	/* '@' first: abstract namespace */
	uint64_t	 watchdog_ms;	/* 0: no watchdog asked for */
	uint64_t	 watchdog_next;	/* monotonic ms */
	char		 status[160];	/* the last STATUS= sent */
};

/* read and unset NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID (children,
 * such as hotplug scripts, must not inherit them) */
void	notify_open(struct notify *);
void	notify_close(struct notify *);
/* "READY=1", "RELOADING=1", "STOPPING=1", ...: 0, or -1 when not sent */
int	notify_send(struct notify *, const char *msg);
/* STATUS=text, only when it changed */
void	notify_status(struct notify *, const char *text);
/* WATCHDOG=1 when due; the ms until the next is due (-1: no watchdog),
 * for the poll timeout */
int	notify_watchdog(struct notify *, uint64_t now_ms);

#endif
