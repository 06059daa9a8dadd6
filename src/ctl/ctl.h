/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CTL_H
#define DOMUD_CTL_H

/* domuctl: argument handling and rendering, kept apart from main() so the
 * unit tests can drive them. */
#include <stdio.h>

#include <yajl_tree.h>

#include "proto/proto.h"

/* exit codes, documented in docs/domuctl.8 */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,	/* the daemon answered with an error */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_NODAEMON = 3,	/* not running, or no socket */
	CTL_EXIT_TIMEOUT = 4,	/* no (complete) answer in time */
	CTL_EXIT_DENIED = 5,	/* not allowed */
	CTL_EXIT_BUSY = 6,	/* running, but too busy to take us */
	/* exec: otherwise the command's own exit status */
	CTL_EXIT_EXEC_TIMEOUT = 124,	/* killed for its timeout */
	CTL_EXIT_EXEC_ERROR = 125,	/* domud or the agent could not run it */
	CTL_EXIT_EXEC_NOEXEC = 126,	/* found, not executable */
	CTL_EXIT_EXEC_NOTFOUND = 127,
	CTL_EXIT_EXEC_SIGNAL = 128,	/* + the signal that killed it */
	CTL_EXIT_EXEC_CANCELLED = 130,	/* Ctrl-C */
};

#define CTL_RUN_DIR		"/run/domud"
#define CTL_BUSY_RETRY_MS	2000	/* how long a busy daemon is retried */
#define CTL_TIMEOUT_MS		10000

/* name is one word, or two for a subcommand ("update stage") */
struct ctl_cmd {
	const char	*name;
	const char	*args;
	const char	*help;
};

struct ctl_opts {
	const char		*run_dir;
	int			 json;
	int			 timeout_ms;
	const struct ctl_cmd	*cmd;
	struct request		 req;
	int			 raw;		/* exec: output as it is */
	/* cp: one side is SERVICE:PATH in the guest */
	const char		*cp_local;
	const char		*cp_remote;	/* the path in the guest */
	int			 cp_to_guest;
	uint64_t		 cp_max;	/* bytes */
	int			 wait;		/* start/stop/restart --wait */
	int			 top_iter;	/* top -n: rounds, 0 = until ^C */
	int			 top_delay_ms;	/* top -d */
	int			 timeout_set;	/* -t given */
	int			 batch;		/* exec --batch: commands from
						 * stdin, one connection */
	/* update stage/apply: the path of each of req.files; update
	 * stage/switch/apply/wait are run by update.c (update set) */
	const char		*upd_paths[PROTO_FDS_MAX];
	int			 update;
	int			 upd_timeout_ms; /* --timeout; 0: the trial's end */
};

/* start/stop/restart --wait: how long, unless -t says */
#define CTL_WAIT_MS_DEFAULT	(300 * 1000)

/* update stage/apply: domud copies and hashes every file before it
 * answers (a disk image takes a while), unless -t says */
#define CTL_STAGE_MS_DEFAULT	(3600 * 1000)

#define CTL_CP_MAX_DEFAULT	(256ULL << 20)

extern const struct ctl_cmd ctl_cmds[];

void	 ctl_usage(FILE *);
/* 0, or a CTL_EXIT_USAGE with a message in err */
int	 ctl_parse_args(int argc, char **argv, struct ctl_opts *, char *err,
	    size_t errsz);
/* exec: the exit status a final reply means */
int	 ctl_exec_status(const char *reply, FILE *errout);
/* Print a reply (human or JSON); returns the exit code it means. */
/* top: the table of a status reply's services, the busiest first */
/* prev: the round before (NULL: none), dt seconds ago: the rates */
void	 ctl_print_top(yajl_val services, yajl_val prev, double dt, FILE *);
/* one event of `events` (its JSON object), as a line */
void	 ctl_print_event(yajl_val, FILE *);
int	 ctl_render(const struct ctl_opts *, const char *reply, FILE *out,
	    FILE *errout);
/* update.c: an update verb's result, as ctl_render shows it */
int	 ctl_render_update(const struct ctl_opts *, yajl_val result, FILE *out,
	    FILE *errout);

/* 1 when the reply is the daemon refusing the connection as busy */
int	ctl_refused_busy(const char *reply);

#endif
