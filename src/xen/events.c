// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What comes back from Xen: the poll loop's part (libxl's fds and the
 * builders' pipe), libxl's events (completions, shutdowns, deaths and whose
 * a death was), the events to the supervisor, the death watches of our
 * domains, and the listing of Xen's domains that the supervisor compares
 * with what it runs (scan at start, list every few seconds), adoption.
 * Calls xenbe.c (xb_of, xb_err) and domain.c (xb_op_complete,
 * xb_builders_reap).
 */

#include <sys/time.h>

#include <stdlib.h>
#include <string.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "xenbe_int.h"

/* a backend event to the supervisor; BE_CREATED carries how long the
 * create and the unpause took */
void
xb_emit_ev(struct xenbe *xb, enum be_event_type type, const char *svc,
    uint32_t domid, enum shutdown_reason reason, const struct err *e,
    const struct builder *b, uint64_t create_ms, uint64_t unpause_ms)
{
	struct be_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	strlcpy_(ev.svc, svc, sizeof(ev.svc));
	ev.domid = domid;
	ev.reason = reason;
	if (e)
		ev.err = *e;
	ev.create_ms = create_ms;
	ev.unpause_ms = unpause_ms;
	if (b) {
		ev.kernel_ms = b->kernel_ms;
		ev.kernel_from = b->kernel_from;
		ev.standby = b->standby;
	}
	if (xb->be.notify)
		xb->be.notify(xb->be.notify_arg, &ev);
}

void
xb_emit(struct xenbe *xb, enum be_event_type type, const char *svc,
    uint32_t domid, enum shutdown_reason reason, const struct err *e)
{
	xb_emit_ev(xb, type, svc, domid, reason, e, NULL, 0, 0);
}

/* a create that failed, saying whether it was a standby's */
void
xb_emit_create_failed(struct xenbe *xb, const char *svc, uint32_t domid,
    int standby, const struct err *e)
{
	struct builder b;

	memset(&b, 0, sizeof(b));
	b.standby = standby;
	xb_emit_ev(xb, BE_CREATE_FAILED, svc, domid, SR_NONE, e, &b, 0, 0);
}

static struct xdom *
xdom_find(struct xenbe *xb, uint32_t domid)
{
	struct xdom *d;

	for (d = xb->doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

int
xb_xdom_watch(struct xenbe *xb, const char *name, uint32_t domid,
    struct err *e)
{
	struct xdom *d = xcalloc(1, sizeof(*d));
	int rc;

	d->domid = domid;
	strlcpy_(d->name, name, sizeof(d->name));
	/* for_user is the domid, not a pointer: late events stay harmless */
	rc = libxl_evenable_domain_death(xb->ctx, domid, domid, &d->evg);
	if (rc) {
		free(d);
		return xb_err(xb, e, rc, "watching the domain");
	}
	d->next = xb->doms;
	xb->doms = d;
	return 0;
}

void
xb_xdom_unwatch(struct xenbe *xb, uint32_t domid)
{
	struct xdom **pp, *d;

	for (pp = &xb->doms; (d = *pp) != NULL; pp = &d->next)
		if (d->domid == domid) {
			*pp = d->next;
			libxl_evdisable_domain_death(xb->ctx, d->evg);
			free(d);
			return;
		}
}

static enum shutdown_reason
reason_of(libxl_shutdown_reason r)
{
	switch (r) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return SR_POWEROFF;
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return SR_REBOOT;
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return SR_SUSPEND;
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return SR_CRASH;
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return SR_WATCHDOG;
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return SR_SOFT_RESET;
	default:
		return SR_UNKNOWN;
	}
}

/* a destroy of ours is under way for the domain */
static int
destroying(struct xenbe *xb, uint32_t domid)
{
	struct op *op;

	for (op = xb->ops; op; op = op->next)
		if (op->domid == domid && (op->kind == OP_DESTROY ||
		    op->kind == OP_CREATE))
			return 1;
	return 0;
}

/*
 * Why a watched domain died. libxl reports DOMAIN_DEATH once the domain is
 * dying or gone; a guest's own end is a shutdown first. A death without one,
 * while no destroy of ours is under way, is someone else's destroy (`xl
 * destroy` pauses, takes the devices away and destroys: no shutdown). If
 * the guest had shut down and was destroyed before we saw it, Xen still
 * tells the reason of a dying domain.
 */
static enum shutdown_reason
death_reason(struct xenbe *xb, struct xdom *d)
{
	enum shutdown_reason r = SR_DESTROYED;
	libxl_dominfo info;

	if (d->shutdown_seen || destroying(xb, d->domid))
		return SR_NONE;
	libxl_dominfo_init(&info);
	if (libxl_domain_info(xb->ctx, &info, d->domid) == 0 && info.shutdown)
		r = reason_of(info.shutdown_reason);
	libxl_dominfo_dispose(&info);
	xb->logger->last_error[0] = '\0';	/* NOTFOUND: gone, as expected */
	if (r == SR_DESTROYED)
		log_info("%s: domain %u died without a shutdown, and not by "
		    "domud's destroy: destroyed outside domud", d->name,
		    d->domid);
	return r;
}

static void
handle_event(struct xenbe *xb, libxl_event *ev)
{
	struct xdom *d;
	uint32_t domid = ev->domid;

	switch (ev->type) {
	case LIBXL_EVENT_TYPE_OPERATION_COMPLETE:
		xb_op_complete(xb, ev->for_user, ev->u.operation_complete.rc);
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		if ((d = xdom_find(xb, domid)) != NULL) {
			d->shutdown_seen = 1;
			xb_emit(xb, BE_SHUTDOWN, d->name, domid, reason_of(
			    ev->u.domain_shutdown.shutdown_reason), NULL);
		}
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		if ((d = xdom_find(xb, domid)) != NULL) {
			char name[SERVICE_NAME_MAX + 1];
			enum shutdown_reason r = death_reason(xb, d);

			strlcpy_(name, d->name, sizeof(name));
			xb_xdom_unwatch(xb, domid);
			xb_emit(xb, BE_DIED, name, domid, r, NULL);
		}
		break;
	default:
		log_debug("libxl event %d ignored", ev->type);
		break;
	}
}

int
xb_before_poll(struct backend *be, struct pollfd *fds, int *nfds, int max,
    int *timeout_ms)
{
	struct xenbe *xb = xb_of(be);
	struct timeval now;
	int n = max - *nfds, rc;

	if (xb->builders && *nfds < max) {
		fds[*nfds].fd = xb->build_pipe[0];
		fds[*nfds].events = POLLIN;
		fds[*nfds].revents = 0;
		(*nfds)++;
		n--;
	}
	gettimeofday(&now, NULL);
	rc = libxl_osevent_beforepoll(xb->ctx, &n, fds + *nfds, timeout_ms, now);
	if (rc) {
		/* out of room: poll without libxl's fds this round, soon */
		log_warnx("libxl wants %d poll fds; only %d left", n,
		    max - *nfds);
		xb->poll_n = 0;
		if (*timeout_ms < 0 || *timeout_ms > 100)
			*timeout_ms = 100;
		return -1;
	}
	xb->poll_first = *nfds;
	xb->poll_n = n;
	*nfds += n;
	return 0;
}

void
xb_after_poll(struct backend *be, struct pollfd *fds, int nfds)
{
	struct xenbe *xb = xb_of(be);
	struct timeval now;
	libxl_event *ev;
	int rc;

	xb_builders_reap(xb);

	gettimeofday(&now, NULL);
	/* poll failed (EINTR): libxl still gets its timeouts run */
	if (nfds >= xb->poll_first + xb->poll_n)
		libxl_osevent_afterpoll(xb->ctx, xb->poll_n,
		    fds + xb->poll_first, now);
	else
		libxl_osevent_afterpoll(xb->ctx, 0, NULL, now);
	xb->poll_n = 0;
	for (;;) {
		rc = libxl_event_check(xb->ctx, &ev, LIBXL_EVENTMASK_ALL, NULL,
		    NULL);
		if (rc == ERROR_NOT_READY)
			break;
		if (rc) {
			log_warnx("libxl_event_check: error %d", rc);
			break;
		}
		handle_event(xb, ev);
		libxl_event_free(xb->ctx, ev);
	}
}

/* every domain but Dom0; deep: with our tag and libxl's record (files
 * under /var/lib/xen: at start only) */
static int
list_domains(struct xenbe *xb, struct be_found **out, size_t *nout, int deep,
    struct err *e)
{
	libxl_dominfo *list;
	struct be_found *f;
	int i, n = 0, len;
	uint8_t *data;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	if ((list = libxl_list_domain(xb->ctx, &n)) == NULL)
		return xb_err(xb, e, ERROR_FAIL, "listing domains");
	f = xcalloc((size_t)n, sizeof(*f));
	for (i = 0; i < n; i++) {
		struct be_found *d = &f[k];
		char *name;

		if (list[i].domid == 0)
			continue;
		d->domid = list[i].domid;
		memcpy(d->uuid, libxl_uuid_bytearray(&list[i].uuid), 16);
		d->paused = list[i].paused;
		d->shutdown = list[i].shutdown;
		d->dying = list[i].dying;
		d->cpu_ns = list[i].cpu_time;
		d->mem_bytes = list[i].current_memkb * 1024;
		d->max_mem_bytes = list[i].max_memkb * 1024;
		d->vcpus_online = (int)list[i].vcpu_online;
		d->reason = d->shutdown ?
		    reason_of(list[i].shutdown_reason) : SR_NONE;
		/* a dying domain may have no name left (libxl removes its
		 * xenstore directory before the final destroy) */
		if ((name = libxl_domid_to_name(xb->ctx, d->domid)) != NULL) {
			strlcpy_(d->name, name, sizeof(d->name));
			free(name);
		}
		if (!deep) {
			k++;
			continue;
		}
		/* our tag: {"v":1,"service":"NAME"} */
		data = NULL;
		len = 0;
		if (libxl_userdata_retrieve(xb->ctx, d->domid, USERDATA_TAG,
		    &data, &len) == 0 && len > 0) {
			char buf[160], *p;

			memcpy(buf, data, (size_t)len < sizeof(buf) - 1 ?
			    (size_t)len : sizeof(buf) - 1);
			buf[(size_t)len < sizeof(buf) - 1 ? (size_t)len :
			    sizeof(buf) - 1] = '\0';
			d->standby = strstr(buf, "\"standby\":true") != NULL;
			if ((p = strstr(buf, "\"service\":\"")) != NULL) {
				p += 11;
				p[strcspn(p, "\"")] = '\0';
				strlcpy_(d->tag, p, sizeof(d->tag));
			}
		}
		free(data);
		data = NULL;
		len = 0;
		if (libxl_userdata_retrieve(xb->ctx, d->domid, "libxl-json",
		    &data, &len) == 0 && len > 0)
			d->has_config = 1;
		free(data);
		k++;
	}
	libxl_dominfo_list_free(list, n);
	xb->logger->last_error[0] = '\0';	/* a name or a tag may be absent */
	*out = f;
	*nout = k;
	return 0;
}

int
xb_scan(struct backend *be, struct be_found **out, size_t *nout,
    struct err *e)
{
	return list_domains(xb_of(be), out, nout, 1, e);
}

int
xb_list(struct backend *be, struct be_found **out, size_t *nout,
    struct err *e)
{
	return list_domains(xb_of(be), out, nout, 0, e);
}

int
xb_adopt(struct backend *be, const char *svc, uint32_t domid, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_dominfo info;
	struct xdom *d;
	int rc;

	if (xdom_find(xb, domid) == NULL && xb_xdom_watch(xb, svc, domid, e) == -1)
		return -1;
	d = xdom_find(xb, domid);
	/* a watch added now only sees the next change: look at it too */
	libxl_dominfo_init(&info);
	rc = libxl_domain_info(xb->ctx, &info, domid);
	if (rc) {
		libxl_dominfo_dispose(&info);
		xb_xdom_unwatch(xb, domid);
		return xb_err(xb, e, rc, "domain info");
	}
	/* the supervisor dispatches a shutdown it finds: not twice */
	d->shutdown_seen = info.shutdown;
	/* left paused by a domud that died between build and unpause: its
	 * vCPUs never ran. One that ran was paused by someone else: that is
	 * reported (the supervisor's listing), not undone. */
	if (info.paused && !info.shutdown && !info.dying) {
		if (info.cpu_time != 0)
			log_warnx("%s: adopted domain %u is paused, and not by "
			    "domud: left paused", svc, domid);
		else if ((rc = libxl_domain_unpause(xb->ctx, domid, NULL)) != 0)
			log_warnx("%s: unpause of adopted domain %u: libxl error "
			    "%d", svc, domid, rc);
	}
	libxl_dominfo_dispose(&info);
	return 0;
}
