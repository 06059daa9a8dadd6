// SPDX-License-Identifier: GPL-2.0-or-later
/* Control protocol codec: JSON lines through yajl. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "base/log.h"
#include "proto.h"
#include "base/util.h"

const struct proto_cmd proto_cmds[] = {
	{ "ping",	PV_PING,	PC_READ,	PS_OPTIONAL },	/* a service: its agent */
	{ "list",	PV_LIST,	PC_READ,	PS_NONE },
	{ "status",	PV_STATUS,	PC_READ,	PS_OPTIONAL },
	{ "logs",	PV_LOGS,	PC_READ,	PS_REQUIRED },
	{ "start",	PV_START,	PC_ADMIN,	PS_REQUIRED },
	{ "stop",	PV_STOP,	PC_ADMIN,	PS_REQUIRED },
	{ "restart",	PV_RESTART,	PC_ADMIN,	PS_REQUIRED },
	{ "reload",	PV_RELOAD,	PC_ADMIN,	PS_NONE },
	{ "net",	PV_NET,		PC_READ,	PS_NONE },
	{ "net-fix",	PV_NET_FIX,	PC_ADMIN,	PS_NONE },
	{ "exec",	PV_EXEC,	PC_ADMIN,	PS_REQUIRED },
	{ "cancel",	PV_CANCEL,	PC_READ,	PS_NONE },	/* this connection's execs */
	{ "stdin",	PV_STDIN,	PC_ADMIN,	PS_NONE },	/* ... and their input */
	{ "console",	PV_CONSOLE,	PC_ADMIN,	PS_REQUIRED },	/* attach */
	{ "run",	PV_RUN,		PC_ADMIN,	PS_REQUIRED },	/* exec from a hot-plugged disk */
	{ "input",	PV_INPUT,	PC_ADMIN,	PS_NONE },	/* to the attached console */
	{ "events",	PV_EVENTS,	PC_READ,	PS_OPTIONAL },	/* the history; follow */
	{ "metrics",	PV_METRICS,	PC_READ,	PS_NONE },	/* Prometheus text */
	{ "cpupools",	PV_CPUPOOLS,	PC_READ,	PS_NONE },	/* Xen's, and domud's */
	{ "update-stage", PV_UPDATE_STAGE, PC_ADMIN,	PS_REQUIRED },	/* files as fds */
	{ "update-switch", PV_UPDATE_SWITCH, PC_ADMIN,	PS_REQUIRED },	/* the trial */
	{ "update-rollback", PV_UPDATE_ROLLBACK, PC_ADMIN, PS_REQUIRED },
	{ "update-status", PV_UPDATE_STATUS, PC_READ,	PS_OPTIONAL },
	{ NULL,		PV__N,		0,		0 },
};

static const char *const errcodes[] = {
	[PE_OK] = "ok",
	[PE_BAD_REQUEST] = "bad-request",
	[PE_TOO_LARGE] = "too-large",
	[PE_VERSION] = "unsupported-version",
	[PE_UNKNOWN_COMMAND] = "unknown-command",
	[PE_UNKNOWN_SERVICE] = "unknown-service",
	[PE_DENIED] = "denied",
	[PE_FAILED] = "failed",
	[PE_BUSY] = "busy",
};

const struct proto_cmd *
proto_cmd_find(const char *name)
{
	const struct proto_cmd *c;

	for (c = proto_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const char *
proto_errcode_str(enum proto_errcode c)
{
	if ((size_t)c < nitems(errcodes) && errcodes[c])
		return errcodes[c];
	return "failed";
}

static enum proto_errcode
fail(char *msg, size_t msgsz, enum proto_errcode c, const char *fmt,
    const char *arg)
{
	snprintf(msg, msgsz, fmt, arg);
	return c;
}

/*
 * The fields of a request: each with its kind, where it goes and its
 * bounds, so that a field is one line and each kind is judged one way.
 */
enum field_kind {
	FK_VERSION,	/* "v": PROTO_VERSION and no other */
	FK_INT,		/* an int64_t from min to max */
	FK_BOOL,	/* an int: true or false */
	FK_WORD,	/* a string shorter than its buffer */
	FK_NAME,	/* a service name */
	FK_PATH,	/* an absolute path shorter than its buffer */
	FK_ARGV,	/* min to max strings, one after another in args */
	FK_BASE64,	/* base64 of at most max bytes */
	FK_NAMES,	/* min to max words, each shorter than the buffer's */
};

struct field {
	const char	*key;
	enum field_kind	 kind;
	size_t		 off, size;	/* the member of struct request */
	size_t		 has;		/* its has_ flag; 0: none (offset 0
					 * is the id) */
	int64_t		 min, max;
	const char	*bad;		/* the message; NULL: true or false */
};

#define AT(m)	.off = offsetof(struct request, m), \
		.size = sizeof(((struct request *)NULL)->m)
#define HAS(m)	.has = offsetof(struct request, m)

static const struct field fields[] = {
	{ "v",		FK_VERSION,	.bad = "'v' must be an integer" },
	{ "id",		FK_INT,		AT(id), HAS(has_id), .min = INT64_MIN,
	    .max = INT64_MAX,	.bad = "'id' must be an integer" },
	{ "cmd",	FK_WORD,	AT(cmd),
	    .bad = "'cmd' must be a short string" },
	{ "service",	FK_NAME,	AT(service), HAS(has_service),
	    .bad = "'service' must be a valid service name" },
	{ "lines",	FK_INT,		AT(lines), .max = PROTO_LOG_LINES_MAX,
	    .bad = "'lines' must be an integer from 0 to 10000" },
	{ "argv",	FK_ARGV,	AT(args), .min = 1, .max = 256,
	    .bad = "'argv' must be an array of 1 to 256 strings" },
	{ "data",	FK_BASE64,	AT(data), .max = PROTO_STDIN_MAX,
	    .bad = "'data' must be base64 of at most 2048 bytes" },
	{ "eof",	FK_BOOL,	AT(eof) },
	{ "stdin",	FK_BOOL,	AT(want_stdin) },
	{ "disk",	FK_PATH,	AT(disk),
	    .bad = "'disk' must be an absolute path" },
	{ "timeout_ms",	FK_INT,		AT(timeout_ms), .max = 86400000,
	    .bad = "'timeout_ms' must be 0 to 86400000" },
	{ "shell",	FK_BOOL,	AT(shell) },
	{ "raw",	FK_BOOL,	AT(raw) },
	{ "check",	FK_BOOL,	AT(check) },
	{ "follow",	FK_BOOL,	AT(follow) },
	{ "previous",	FK_BOOL,	AT(previous) },
	{ "devices",	FK_BOOL,	AT(devices) },
	{ "files",	FK_NAMES,	AT(files), .min = 1, .max = PROTO_FDS_MAX,
	    .bad = "'files' must be an array of 1 to 10 short names" },
	{ "slot",	FK_WORD,	AT(slot),
	    .bad = "'slot' must be a short string" },
};

/* the has_ flags are told apart from none by their offset */
_Static_assert(offsetof(struct request, id) == 0, "the id is first");
/* which fields a request gave: one bit each */
_Static_assert(nitems(fields) <= 32, "a field is a bit of a uint32_t");

/* argv: its strings one after another in req->args, NUL-terminated */
static int
field_argv(yajl_val v, struct request *req)
{
	size_t j, n;
	const char *a;

	req->args_len = 0;
	req->argc = 0;
	for (j = 0; j < YAJL_GET_ARRAY(v)->len; j++) {
		a = YAJL_GET_STRING(YAJL_GET_ARRAY(v)->values[j]);
		n = a ? strlen(a) + 1 : 0;
		if (a == NULL || req->args_len + n > sizeof(req->args))
			return -1;
		memcpy(req->args + req->args_len, a, n);
		req->args_len += n;
		req->argc++;
	}
	return 0;
}

/* files: short names without '/' or control characters */
static int
field_names(yajl_val v, struct request *req)
{
	const char *a;
	size_t j, k;

	req->nfiles = 0;
	for (j = 0; j < YAJL_GET_ARRAY(v)->len; j++) {
		a = YAJL_GET_STRING(YAJL_GET_ARRAY(v)->values[j]);
		if (a == NULL || a[0] == '\0' ||
		    strlen(a) >= sizeof(req->files[0]))
			return -1;
		for (k = 0; a[k]; k++)
			if ((unsigned char)a[k] <= ' ' || a[k] == '/' ||
			    (unsigned char)a[k] >= 0x7f)
				return -1;
		strlcpy_(req->files[req->nfiles++], a, sizeof(req->files[0]));
	}
	return 0;
}

/* one field's value into req; PE_OK, or the code with msg written */
static enum proto_errcode
field_decode(const struct field *f, yajl_val v, struct request *req,
    char *msg, size_t msgsz)
{
	char *to = (char *)req + f->off;
	const char *str = YAJL_GET_STRING(v);
	long n;

	switch (f->kind) {
	case FK_VERSION:
		if (!YAJL_IS_INTEGER(v))
			break;
		if (YAJL_GET_INTEGER(v) != PROTO_VERSION)
			return fail(msg, msgsz, PE_VERSION, "%s",
			    "protocol version 1 is the only one spoken");
		return PE_OK;
	case FK_INT:
		if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < f->min ||
		    YAJL_GET_INTEGER(v) > f->max)
			break;
		*(int64_t *)(void *)to = YAJL_GET_INTEGER(v);
		return PE_OK;
	case FK_BOOL:
		if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
			return fail(msg, msgsz, PE_BAD_REQUEST, "'%s' must be "
			    "true or false", f->key);
		*(int *)(void *)to = YAJL_IS_TRUE(v);
		return PE_OK;
	case FK_WORD:
	case FK_NAME:
	case FK_PATH:
		if (str == NULL || strlen(str) >= f->size ||
		    (f->kind == FK_NAME && !name_valid(str, PROTO_NAME_MAX)) ||
		    (f->kind == FK_PATH && str[0] != '/'))
			break;
		strlcpy_(to, str, f->size);
		return PE_OK;
	case FK_ARGV:
		if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len <
		    (size_t)f->min || YAJL_GET_ARRAY(v)->len > (size_t)f->max)
			break;
		if (field_argv(v, req) == -1)
			return fail(msg, msgsz, PE_BAD_REQUEST, "%s", "'argv' "
			    "must hold strings, at most 4 KiB in all");
		return PE_OK;
	case FK_BASE64:
		if (str == NULL || strlen(str) > 4 * (((size_t)f->max + 2) / 3) ||
		    (n = base64_decode(str, (uint8_t *)to, f->size)) < 0)
			break;
		req->data_len = (size_t)n;
		return PE_OK;
	case FK_NAMES:
		if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len <
		    (size_t)f->min || YAJL_GET_ARRAY(v)->len > (size_t)f->max ||
		    field_names(v, req) == -1)
			break;
		return PE_OK;
	}
	return fail(msg, msgsz, PE_BAD_REQUEST, "%s", f->bad);
}

/* the checks on the whole request, once each field is judged */
static enum proto_errcode
request_check(struct request *req, int has_v, char *msg, size_t msgsz)
{
	if (!has_v)
		return fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "missing field 'v'");
	if (req->cmd[0] == '\0')
		return fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "missing field 'cmd'");
	if ((req->pcmd = proto_cmd_find(req->cmd)) == NULL)
		return fail(msg, msgsz, PE_UNKNOWN_COMMAND,
		    "unknown command '%s'", req->cmd);
	if (req->pcmd->svcarg == PS_REQUIRED && !req->has_service)
		return fail(msg, msgsz, PE_BAD_REQUEST, "'%s' needs a service",
		    req->cmd);
	if (req->pcmd->svcarg == PS_NONE && req->has_service)
		return fail(msg, msgsz, PE_BAD_REQUEST, "'%s' takes no service",
		    req->cmd);
	return PE_OK;
}

/* each member of the object through the table of fields */
static enum proto_errcode
request_fields(yajl_val root, struct request *req, char *msg, size_t msgsz)
{
	const struct field *f;
	enum proto_errcode rc;
	uint32_t seen = 0;
	char kk[40];
	size_t i;

	for (i = 0; i < root->u.object.len; i++) {
		const char *k = root->u.object.keys[i];

		for (f = fields; f < fields + nitems(fields); f++)
			if (strcmp(f->key, k) == 0)
				break;
		if (f == fields + nitems(fields)) {
			strlcpy_(kk, k, sizeof(kk));
			return fail(msg, msgsz, PE_BAD_REQUEST,
			    "unknown field '%s'", kk);
		}
		/* yajl keeps both of a repeated key: which one counts would
		 * be an accident of this loop */
		if (seen & (1u << (f - fields)))
			return fail(msg, msgsz, PE_BAD_REQUEST, "'%s' given "
			    "twice", k);
		seen |= 1u << (f - fields);
		if ((rc = field_decode(f, root->u.object.values[i], req, msg,
		    msgsz)) != PE_OK)
			return rc;
		if (f->has)
			*(int *)(void *)((char *)req + f->has) = 1;
	}
	return request_check(req, seen & 1u /* fields[0], "v" */, msg, msgsz);
}

enum proto_errcode
proto_decode_request(const char *buf, size_t len, struct request *req,
    char *msg, size_t msgsz)
{
	char text[PROTO_REQ_MAX + 1], yerr[128];
	enum proto_errcode rc;
	yajl_val root;

	memset(req, 0, sizeof(*req));
	if (len > PROTO_REQ_MAX)
		return fail(msg, msgsz, PE_TOO_LARGE, "request over %s bytes",
		    "4096");
	if (memchr(buf, '\0', len) != NULL)
		return fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "request contains a NUL byte");
	memcpy(text, buf, len);
	text[len] = '\0';
	yerr[0] = '\0';
	root = yajl_tree_parse(text, yerr, sizeof(yerr));
	if (root == NULL) {
		/* yajl's message spans lines; keep the first */
		yerr[strcspn(yerr, "\n")] = '\0';
		return fail(msg, msgsz, PE_BAD_REQUEST, "not valid JSON: %s",
		    yerr[0] ? yerr : "parse error");
	}
	if (!YAJL_IS_OBJECT(root))
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "a request must be a JSON object");
	else
		rc = request_fields(root, req, msg, msgsz);
	yajl_tree_free(root);
	return rc;
}

char *
proto_encode_request(const struct request *req)
{
	yajl_gen g = json_gen_new();
	const unsigned char *buf;
	size_t len;
	char *out;

	yajl_gen_map_open(g);
	gen_kv_int(g, "v", PROTO_VERSION);
	if (req->has_id)
		gen_kv_int(g, "id", req->id);
	gen_kv_str(g, "cmd", req->cmd);
	if (req->has_service)
		gen_kv_str(g, "service", req->service);
	if (req->lines)
		gen_kv_int(g, "lines", req->lines);
	if (req->raw)
		gen_kv_bool(g, "raw", 1);
	if (req->check)
		gen_kv_bool(g, "check", 1);
	if (req->follow)
		gen_kv_bool(g, "follow", 1);
	if (req->previous)
		gen_kv_bool(g, "previous", 1);
	if (req->devices)
		gen_kv_bool(g, "devices", 1);
	if (req->argc) {
		size_t o;

		gen_str(g, "argv");
		yajl_gen_array_open(g);
		for (o = 0; o < req->args_len; o += strlen(req->args + o) + 1)
			gen_str(g, req->args + o);
		yajl_gen_array_close(g);
	}
	if (req->shell)
		gen_kv_bool(g, "shell", 1);
	if (req->timeout_ms)
		gen_kv_int(g, "timeout_ms", req->timeout_ms);
	if (req->want_stdin)
		gen_kv_bool(g, "stdin", 1);
	if (req->disk[0])
		gen_kv_str(g, "disk", req->disk);
	if (req->data_len) {
		char b64[4 * ((PROTO_STDIN_MAX + 2) / 3) + 1];

		base64_encode(req->data, req->data_len, b64);
		gen_kv_str(g, "data", b64);
	}
	if (req->eof)
		gen_kv_bool(g, "eof", 1);
	if (req->nfiles) {
		int i;

		gen_str(g, "files");
		yajl_gen_array_open(g);
		for (i = 0; i < req->nfiles; i++)
			gen_str(g, req->files[i]);
		yajl_gen_array_close(g);
	}
	if (req->slot[0])
		gen_kv_str(g, "slot", req->slot);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xcalloc(1, len + 2);
	memcpy(out, buf, len);
	out[len] = '\n';
	yajl_gen_free(g);
	return out;
}

yajl_gen
proto_reply_begin(const struct request *req, int ok)
{
	yajl_gen g = json_gen_new();

	yajl_gen_map_open(g);
	gen_kv_int(g, "v", PROTO_VERSION);
	if (req && req->has_id)
		gen_kv_int(g, "id", req->id);
	gen_kv_bool(g, "ok", ok);
	return g;
}

/* Closes the top-level map; returns the line with '\n', or NULL when it
 * would be over PROTO_REPLY_MAX. */
char *
proto_reply_end(yajl_gen g, size_t *lenp)
{
	const unsigned char *buf;
	size_t len;
	char *out = NULL;

	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok &&
	    len + 1 <= PROTO_REPLY_MAX) {
		out = xcalloc(1, len + 2);
		memcpy(out, buf, len);
		out[len] = '\n';
		*lenp = len + 1;
	}
	yajl_gen_free(g);
	return out;
}

char *
proto_error_reply(const struct request *req, enum proto_errcode code,
    const char *msg, size_t *len)
{
	yajl_gen g = proto_reply_begin(req, 0);

	gen_str(g, "error");
	yajl_gen_map_open(g);
	gen_kv_str(g, "code", proto_errcode_str(code));
	gen_kv_str(g, "message", msg);
	yajl_gen_map_close(g);
	return proto_reply_end(g, len);
}
