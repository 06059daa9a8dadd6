// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The update verbs: update-stage (its files come as descriptors with the
 * request: the client opened them with its own rights, domud never opens
 * a client's path), update-switch, update-rollback, update-status, and
 * logs --slot. A stage is answered when its thread has started; how it
 * ends is an event (staged, or refused with the reason), which domuctl
 * follows. Beside verbs.c, at the top of the control side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/sanitize.h"
#include "base/util.h"
#include "control.h"
#include "verbs.h"

static char *
reply_update(const struct request *req, struct service *s, const char *msg,
    size_t *outlen)
{
	yajl_gen g = proto_reply_begin(req, 1);

	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "service", s->conf->name);
	gen_kv_str(g, "message", msg);
	update_active_json(s, g);
	gen_str(g, "update");
	update_json(s, g);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

char *
verb_update_stage(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	struct upd_stage_req sr;
	char why[256];
	int n, i;

	memset(&sr, 0, sizeof(sr));
	n = control_take_fds(c, sr.fds, (int)nitems(sr.fds));
	if (n == -1)
		return proto_error_reply(req, PE_BAD_REQUEST, "more descriptors "
		    "than files, or more than 10: none taken", outlen);
	if (n != req->nfiles) {
		for (i = 0; i < n; i++)
			close(sr.fds[i]);
		msgf(why, sizeof(why), "%d files named, %d descriptors came "
		    "with the request (they ride on its first byte)",
		    req->nfiles, n);
		return proto_error_reply(req, PE_BAD_REQUEST, why, outlen);
	}
	for (i = 0; i < n; i++)
		strlcpy_(sr.names[i], req->files[i], sizeof(sr.names[i]));
	sr.n = (size_t)n;
	if (update_stage(s, &sr, why, sizeof(why)) == -1) {
		for (i = 0; i < n; i++)
			if (sr.fds[i] != -1)
				close(sr.fds[i]);
		return proto_error_reply(req, PE_FAILED, why, outlen);
	}
	return reply_update(req, s, "staging", outlen);
}

/* a verb that is one call of update.c: its refusal, or the state after */
static char *
update_verb(const struct request *req, struct service *s,
    int (*fn)(struct service *, char *, size_t), const char *done,
    size_t *outlen)
{
	char why[256];

	if (fn(s, why, sizeof(why)) == -1)
		return proto_error_reply(req, PE_FAILED, why, outlen);
	return reply_update(req, s, done, outlen);
}

char *
verb_update_switch(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	return update_verb(req, s, update_switch, "trial", outlen);
}

char *
verb_update_rollback(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	return update_verb(req, s, update_rollback, "rolled back", outlen);
}

char *
verb_update_status(struct control *c, const struct request *req,
    struct service *one, size_t *outlen)
{
	yajl_gen g = proto_reply_begin(req, 1);
	size_t i;

	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_str(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < c->sup->nsvcs; i++) {
		struct service *s = c->sup->svcs[i];

		if ((one == NULL || one == s) && s->upd.dir != NULL)
			update_json(s, g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return proto_reply_end(g, outlen);
}

/* logs --slot: the console log kept from a slot's failed trial */
char *
verb_logs_slot(struct control *c, const struct request *req,
    struct service *s, size_t *outlen)
{
	char *path, *text, *clean;
	size_t n;
	yajl_gen g;

	if (req->follow || req->previous)
		return proto_error_reply(req, PE_BAD_REQUEST, "'slot' takes "
		    "neither 'follow' nor 'previous'", outlen);
	if ((path = update_slot_log(s, req->slot)) == NULL)
		return proto_error_reply(req, PE_FAILED, "no such slot with a "
		    "kept log (slots are a and b, of a service with update = "
		    "yes)", outlen);
	text = fileio_read(path, PROTO_REPLY_MAX / 2);
	free(path);
	if (text == NULL)
		return proto_error_reply(req, PE_FAILED, "that slot has no kept "
		    "log (one is kept when its trial fails)", outlen);
	/* the guest's bytes, as logs shows them: no escapes, valid UTF-8 */
	n = strlen(text);
	clean = xcalloc(1, 4 * n + 1);
	clean[sanitize_text(text, n, clean, req->raw)] = '\0';
	free(text);
	g = proto_reply_begin(req, 1);
	gen_str(g, "result");
	yajl_gen_map_open(g);
	gen_kv_str(g, "service", s->conf->name);
	gen_kv_str(g, "slot", req->slot);
	gen_kv_str(g, "text", clean);
	yajl_gen_map_close(g);
	free(clean);
	return proto_reply_end(g, outlen);
}
