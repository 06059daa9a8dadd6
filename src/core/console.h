/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONSOLE_H
#define DOMUD_CONSOLE_H

/*
 * Console capture: domud is the only reader of each DomU's console PTY and
 * appends what it reads to LOG_DIR/SERVICE.log. When the file would pass
 * console_log_max it is renamed to SERVICE.log.1 (replacing the older one),
 * so a run costs at most twice that on disk (the previous run's log is
 * kept as well: console_new_run). Reads are bounded per poll
 * round so that a flooding guest cannot starve the others. A log that
 * cannot be written (a full disk) is said once; the console, its channel
 * and its followers go on, and logging resumes, with a note of what was
 * lost, when it can. Log files are never opened through a link.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct gio;
struct gio_chan;

#define CONSOLE_READ_CHUNK	16384
#define CONSOLE_READS_PER_ROUND	4
#define CONSOLE_TAIL_MAX	(512 * 1024)	/* bytes returned by logs */

struct console {
	int		 fd;
	int		 logfd;		/* -1: opened again at the next write */
	int		 log_errno;	/* the log failed (said once); 0 = fine */
	int		 log_quiet;	/* a note's: failures are not said */
	uint64_t	 log_lost;	/* bytes not logged since it failed */
	char		*tty;
	char		*logpath;
	char		*oldpath;
	uint64_t	 logsize;
	uint64_t	 max;
	uint64_t	 bytes_in;	/* read from the guest, total */
	uint64_t	 reads;		/* reads that brought bytes */
	int		 hup;
	struct gio_chan	*chan;		/* memres: the stream goes to the
					 * guest I/O process (chan/gio.h) */
	char		*svc;
	uint8_t		 in[4096];	/* typed input for a plain console */
	size_t		 inlen;
	void		(*ready_cb)(void *);
	void		*ready_arg;
};

struct console	*console_open(const char *tty, const char *logdir,
		    const char *svc, uint64_t max, struct err *);
void		 console_close(struct console *);
/* a standby booted ahead: NAME.log.next, taken as the run's log at the
 * handover (console_take_next, after console_new_run) */
struct console	*console_open_next(const char *tty, const char *logdir,
		    const char *svc, uint64_t max, struct err *);
void		 console_take_next(const char *logdir, const char *svc);
/* read what is there (bounded); -1 on hang-up or error */
int		 console_read(struct console *);
/* memres: the channel takes the stream; what is not a frame is logged.
 * vxn: the guest speaks meta-virtualization's markers */
void		 console_attach_channel(struct console *, int vxn,
		    void (*on_ready)(void *), void *arg);
/* memres: what was read is logged (back from the guest I/O process) */
void		 console_settle(struct console *);
/* the guest I/O process the channels are parsed in */
void		 console_set_gio(struct gio *);
/* it can take what a read brings (else the guest's output waits in
 * its console ring) */
int		 console_want_read(const struct console *);
/* write what the channel queued; 1 while more is pending */
int		 console_write(struct console *);
int		 console_want_write(const struct console *);
/* input typed into an attached console; -1 when its queue is full */
int		 console_input(struct console *, const uint8_t *, size_t);
/* every console's guest output also goes to fn (logs -f) */
void		 console_set_tap(void (*fn)(void *, const char *svc,
		    const char *, size_t), void *arg);
/* append a note from domud itself (start, stop) to the log */
void		 console_note(const char *logdir, const char *svc, uint64_t max,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The last `lines` lines of the log, neutralised unless raw: escape
 * sequences and control characters become visible text, invalid UTF-8
 * becomes U+FFFD. Returns a malloc'd NUL-terminated string. */
char		*console_tail(const char *logdir, const char *svc, size_t lines,
		    int raw, int previous, struct err *);
/* a new run of the service: SERVICE.log (and .log.1) become the previous
 * run's, SERVICE.log.prev (and .log.prev.1), which `logs --previous`
 * shows; so a guest costs at most four times console_log_max on disk */
void		 console_new_run(const char *logdir, const char *svc);

#endif
