/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_PROTO_H
#define DOMUD_PROTO_H

/*
 * Control protocol, version 1: one JSON object per line in each direction
 * (docs/protocol.md). Requests are at most PROTO_REQ_MAX bytes with the
 * newline, replies at most PROTO_REPLY_MAX.
 */
#include <stddef.h>
#include <stdint.h>

#include <yajl_gen.h>

#include "base/json.h"


#define PROTO_VERSION		1
#define PROTO_NAME_MAX		48	/* a service name (a Xen domain name) */
/* in run_dir: one socket per role (docs/design.md) */
#define PROTO_SOCK		"domud.sock"
#define PROTO_SOCK_RO		"domud-ro.sock"
#define PROTO_REQ_MAX		4096
#define PROTO_STDIN_MAX		2048	/* raw bytes per stdin request: its
					 * base64 keeps the line in 4 KiB */
#define PROTO_REPLY_MAX		(1024 * 1024)
#define PROTO_LOG_LINES_MAX	10000
/* update-stage: the files come as descriptors (SCM_RIGHTS) with the
 * request line, one per name in "files", in that order */
#define PROTO_FDS_MAX		10
#define PROTO_FILE_NAME_MAX	32

enum proto_errcode {
	PE_OK = 0,
	PE_BAD_REQUEST,		/* not JSON, wrong types, missing fields */
	PE_TOO_LARGE,
	PE_VERSION,
	PE_UNKNOWN_COMMAND,
	PE_UNKNOWN_SERVICE,
	PE_DENIED,
	PE_FAILED,		/* the operation itself failed */
	PE_BUSY,
};

enum proto_class { PC_READ, PC_ADMIN };
enum proto_svcarg { PS_NONE, PS_OPTIONAL, PS_REQUIRED };

/* every verb; the daemon's handler of each is in its table of handlers
 * (core/control.c), indexed by this: the client links this table without
 * the server */
enum proto_verb {
	PV_PING, PV_LIST, PV_STATUS, PV_LOGS, PV_START, PV_STOP, PV_RESTART,
	PV_RELOAD, PV_NET, PV_NET_FIX, PV_EXEC, PV_CANCEL, PV_STDIN,
	PV_CONSOLE, PV_RUN, PV_INPUT, PV_EVENTS, PV_METRICS, PV_CPUPOOLS,
	PV_UPDATE_STAGE, PV_UPDATE_SWITCH, PV_UPDATE_ROLLBACK, PV_UPDATE_STATUS,
	PV__N
};

struct proto_cmd {
	const char		*name;
	enum proto_verb		 verb;
	enum proto_class	 role;		/* the least role that may */
	enum proto_svcarg	 svcarg;
};

struct request {
	int64_t		 id;
	int		 has_id;
	char		 cmd[32];
	const struct proto_cmd *pcmd;
	char		 service[PROTO_NAME_MAX + 1];
	int		 has_service;
	int64_t		 lines;		/* logs: last N lines, 0 = default */
	int		 raw;		/* logs: escape sequences kept */
	int		 check;		/* net: compare with the kernel */
	int		 follow;	/* logs: then what the guest writes */
	int		 previous;	/* logs: the previous run's */
	int		 devices;	/* status: every service's devices */
	/* exec: argv as NUL-terminated strings one after another */
	char		 args[PROTO_REQ_MAX];
	size_t		 args_len;
	int		 argc;
	int		 shell;
	int64_t		 timeout_ms;	/* 0 = none */
	int		 want_stdin;	/* exec: stdin comes in "stdin" requests */
	char		 disk[256];	/* run: the image to hot-plug */
	/* stdin: bytes for this connection's command, or its end */
	uint8_t		 data[PROTO_STDIN_MAX];
	size_t		 data_len;
	int		 eof;
	/* update-stage: the names of the descriptors that came with it */
	char		 files[PROTO_FDS_MAX][PROTO_FILE_NAME_MAX];
	int		 nfiles;
	char		 slot[8];	/* logs: a slot's kept log ("a", "b") */
};

extern const struct proto_cmd proto_cmds[];
const struct proto_cmd	*proto_cmd_find(const char *);
const char		*proto_errcode_str(enum proto_errcode);

/* On error returns the code and writes a message into msg. */
enum proto_errcode	 proto_decode_request(const char *buf, size_t len,
			    struct request *, char *msg, size_t msgsz);
/* A request line with its newline; malloc'd. */
char			*proto_encode_request(const struct request *);

/* Reply helpers around a yajl generator; the caller adds "result". */
yajl_gen		 proto_reply_begin(const struct request *, int ok);
char			*proto_reply_end(yajl_gen, size_t *len);
char			*proto_error_reply(const struct request *, enum proto_errcode,
			    const char *msg, size_t *len);

#endif
