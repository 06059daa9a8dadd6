// SPDX-License-Identifier: GPL-2.0-or-later
/* Control protocol codec: JSON lines through yajl. */
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

enum proto_errcode
proto_decode_request(const char *buf, size_t len, struct request *req,
    char *msg, size_t msgsz)
{
	char text[PROTO_REQ_MAX + 1], yerr[128];
	enum proto_errcode rc = PE_OK;
	yajl_val root = NULL;
	size_t i;
	int has_v = 0;

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
	if (!YAJL_IS_OBJECT(root)) {
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "a request must be a JSON object");
		goto out;
	}
	for (i = 0; i < root->u.object.len; i++) {
		const char *k = root->u.object.keys[i];
		yajl_val v = root->u.object.values[i];
		size_t d;

		/* yajl keeps both of a repeated key: which one counts would
		 * be an accident of this loop */
		for (d = 0; d < i; d++)
			if (strcmp(root->u.object.keys[d], k) == 0) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "'%s' given "
				    "twice", k);
				goto out;
			}
		if (strcmp(k, "v") == 0) {
			if (!YAJL_IS_INTEGER(v)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'v' must be an integer");
				goto out;
			}
			if (YAJL_GET_INTEGER(v) != PROTO_VERSION) {
				rc = fail(msg, msgsz, PE_VERSION, "%s",
				    "protocol version 1 is the only one spoken");
				goto out;
			}
			has_v = 1;
		} else if (strcmp(k, "id") == 0) {
			if (!YAJL_IS_INTEGER(v)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'id' must be an integer");
				goto out;
			}
			req->id = YAJL_GET_INTEGER(v);
			req->has_id = 1;
		} else if (strcmp(k, "cmd") == 0) {
			const char *str = YAJL_GET_STRING(v);

			if (str == NULL || strlen(str) >= sizeof(req->cmd)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'cmd' must be a short string");
				goto out;
			}
			strlcpy_(req->cmd, str, sizeof(req->cmd));
		} else if (strcmp(k, "service") == 0) {
			const char *str = YAJL_GET_STRING(v);

			if (str == NULL || !name_valid(str, PROTO_NAME_MAX)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'service' must be a valid service name");
				goto out;
			}
			strlcpy_(req->service, str, sizeof(req->service));
			req->has_service = 1;
		} else if (strcmp(k, "lines") == 0) {
			if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
			    YAJL_GET_INTEGER(v) > PROTO_LOG_LINES_MAX) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'lines' must be an integer from 0 to 10000");
				goto out;
			}
			req->lines = YAJL_GET_INTEGER(v);
		} else if (strcmp(k, "argv") == 0) {
			size_t j;

			if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len == 0 ||
			    YAJL_GET_ARRAY(v)->len > 256) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'argv' must be an array of 1 to 256 strings");
				goto out;
			}
			req->args_len = 0;
			req->argc = 0;
			for (j = 0; j < YAJL_GET_ARRAY(v)->len; j++) {
				const char *a = YAJL_GET_STRING(
				    YAJL_GET_ARRAY(v)->values[j]);
				size_t n = a ? strlen(a) + 1 : 0;

				if (a == NULL || req->args_len + n >
				    sizeof(req->args)) {
					rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
					    "'argv' must hold strings, at most "
					    "4 KiB in all");
					goto out;
				}
				memcpy(req->args + req->args_len, a, n);
				req->args_len += n;
				req->argc++;
			}
		} else if (strcmp(k, "data") == 0) {
			const char *str = YAJL_GET_STRING(v);
			long n;

			if (str == NULL ||
			    strlen(str) > 4 * ((PROTO_STDIN_MAX + 2) / 3) ||
			    (n = base64_decode(str, req->data,
			    sizeof(req->data))) < 0) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'data' must be base64 of at most 2048 bytes");
				goto out;
			}
			req->data_len = (size_t)n;
		} else if (strcmp(k, "eof") == 0 || strcmp(k, "stdin") == 0) {
			if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "'%s' must "
				    "be true or false", k);
				goto out;
			}
			if (k[0] == 'e')
				req->eof = YAJL_IS_TRUE(v);
			else
				req->want_stdin = YAJL_IS_TRUE(v);
		} else if (strcmp(k, "disk") == 0) {
			const char *str = YAJL_GET_STRING(v);

			if (str == NULL || str[0] != '/' ||
			    strlen(str) >= sizeof(req->disk)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'disk' must be an absolute path");
				goto out;
			}
			strlcpy_(req->disk, str, sizeof(req->disk));
		} else if (strcmp(k, "timeout_ms") == 0) {
			if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
			    YAJL_GET_INTEGER(v) > 86400000) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'timeout_ms' must be 0 to 86400000");
				goto out;
			}
			req->timeout_ms = YAJL_GET_INTEGER(v);
		} else if (strcmp(k, "shell") == 0) {
			if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
				    "'shell' must be true or false");
				goto out;
			}
			req->shell = YAJL_IS_TRUE(v);
		} else if (strcmp(k, "raw") == 0 || strcmp(k, "check") == 0 ||
		    strcmp(k, "follow") == 0 || strcmp(k, "previous") == 0 ||
		    strcmp(k, "devices") == 0) {
			if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
				rc = fail(msg, msgsz, PE_BAD_REQUEST, "'%s' must "
				    "be true or false", k);
				goto out;
			}
			if (k[0] == 'r')
				req->raw = YAJL_IS_TRUE(v);
			else if (k[0] == 'c')
				req->check = YAJL_IS_TRUE(v);
			else if (k[0] == 'p')
				req->previous = YAJL_IS_TRUE(v);
			else if (k[0] == 'd')
				req->devices = YAJL_IS_TRUE(v);
			else
				req->follow = YAJL_IS_TRUE(v);
		} else {
			char kk[40];

			strlcpy_(kk, k, sizeof(kk));
			rc = fail(msg, msgsz, PE_BAD_REQUEST,
			    "unknown field '%s'", kk);
			goto out;
		}
	}
	if (!has_v) {
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s", "missing field 'v'");
		goto out;
	}
	if (req->cmd[0] == '\0') {
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "%s",
		    "missing field 'cmd'");
		goto out;
	}
	if ((req->pcmd = proto_cmd_find(req->cmd)) == NULL) {
		rc = fail(msg, msgsz, PE_UNKNOWN_COMMAND, "unknown command '%s'",
		    req->cmd);
		goto out;
	}
	if (req->pcmd->svcarg == PS_REQUIRED && !req->has_service) {
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "'%s' needs a service",
		    req->cmd);
		goto out;
	}
	if (req->pcmd->svcarg == PS_NONE && req->has_service) {
		rc = fail(msg, msgsz, PE_BAD_REQUEST, "'%s' takes no service",
		    req->cmd);
		goto out;
	}
out:
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
