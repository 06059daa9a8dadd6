// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libxl backend. One libxl context for the daemon, joined to domud's
 * poll loop with libxl_osevent_beforepoll/afterpoll. Shutdown and destroy
 * are started with ao_how.callback = NULL, so their completion comes back as
 * an OPERATION_COMPLETE event that we pull with libxl_event_check after
 * poll: no callback ever runs inside a libxl call, and the supervisor is only
 * told from xb_after_poll.
 *
 * Creates are different. libxl builds the domain (loads and decompresses
 * the kernel, writes the page tables) inside the *initiating* call of
 * libxl_domain_create_new, with the context lock held, even when ao_how asks
 * for an asynchronous operation: measured in the e2e lab, that call blocked
 * the loop for ~2 s per domain from an ELF kernel and far longer from a
 * compressed bzImage. So each create runs on a builder thread with a libxl
 * context of its own, to completion; the thread then writes a byte to a pipe
 * that the main loop polls, and the main loop joins it (threads are never
 * detached) and finishes in the main context: tag, death watch, unpause.
 * libxl's SIGCHLD handling serves several contexts at once (each reaps only
 * its own children).
 *
 * What someone else does to our domains shows up here too: libxl's death
 * watch (a xenstore watch on @releaseDomain) reports a death; one that comes
 * without a shutdown and while no destroy of ours is under way was someone
 * else's destroy (`xl destroy`): BE_DIED with SR_DESTROYED. What no event
 * tells (a pause, a domain created by someone else with a service's name, a
 * domain that stays dying) the supervisor sees through xb_list, a cheap
 * listing it asks for every few seconds.
 *
 * SIGCHLD: libxl_sigchld_owner_libxl_always_selective_reap. libxl reaps only
 * its own children (hotplug scripts, the destroy helper); domud forks none
 * and installs no SIGCHLD handler.
 *
 * The backend's files, by role (xenbe_int.h holds what they share):
 *   xenbe.c	the context: libxl's logger, the ops table, new and free
 *   build.c	a be_domain_spec as a libxl_domain_config (no Xen needed)
 *   domain.c	create (the builder threads), shutdown, destroy, pause,
 *		activate, disk attach and detach: libxl's asynchronous
 *		operations and their completion
 *   events.c	the poll loop's part, libxl's events, death watches, the
 *		listing of Xen's domains, adoption
 *   pools.c	cpupools and a domain's placement
 *   figures.c	what is asked of Xen about a domain or the machine
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/log.h"
#include "base/util.h"
#include "xenbe.h"
#include "xenbe_int.h"

const libxl_childproc_hooks xb_childproc_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

static void
xlog_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *format, va_list al)
{
	struct xlogger *xl = (struct xlogger *)lg;
	char msg[512];

	if (level < XTL_INFO && log_getverbose() < 2)
		return;
	if (level < XTL_WARN && log_getverbose() < 1)
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0 && level >= XTL_WARN)
		log_warnx("libxl: %s%s%s: %s", context ? context : "",
		    context ? ": " : "", msg, strerror(errnoval));
	else if (level >= XTL_WARN)
		log_warnx("libxl: %s%s%s", context ? context : "",
		    context ? ": " : "", msg);
	else
		log_debug("libxl: %s", msg);
	if (level >= XTL_ERROR)
		strlcpy_(xl->last_error, msg, sizeof(xl->last_error));
}

static void
xlog_progress(xentoollog_logger *lg, const char *context,
    const char *doing_what, int percent, unsigned long done,
    unsigned long total)
{
}

static void
xlog_destroy(xentoollog_logger *lg)
{
	free(lg);
}

struct xlogger *
xb_logger_new(void)
{
	struct xlogger *lg = xcalloc(1, sizeof(*lg));

	lg->vtable.vmessage = xlog_vmessage;
	lg->vtable.progress = xlog_progress;
	lg->vtable.destroy = xlog_destroy;
	return lg;
}

struct xenbe *
xb_of(struct backend *be)
{
	return (struct xenbe *)be;
}

int
xb_err(struct xenbe *xb, struct err *e, int rc, const char *what)
{
	if (xb->logger->last_error[0])
		err_set(e, rc, "%s: %s (libxl error %d)", what,
		    xb->logger->last_error, rc);
	else
		err_set(e, rc, "%s: libxl error %d", what, rc);
	xb->logger->last_error[0] = '\0';
	return -1;
}

static int
xb_idle(struct backend *be)
{
	return xb_of(be)->ops == NULL && xb_of(be)->builders == NULL;
}

static void
xb_free(struct backend *be)
{
	struct xenbe *xb = xb_of(be);

	while (xb->doms)
		xb_xdom_unwatch(xb, xb->doms->domid);
	/* libxl_ctx_free asserts that no operation is in flight */
	while (xb->builders) {
		struct builder *b = xb->builders;

		xb->builders = b->next;
		pthread_join(b->thread, NULL);
		libxl_domain_config_dispose(&b->cfg);
		free(b);
	}
	close(xb->build_pipe[0]);
	close(xb->build_pipe[1]);
	if (xb->ops)
		log_warnx("libxl operations still in flight at exit");
	else if (xb->ctx)
		libxl_ctx_free(xb->ctx);
	xtl_logger_destroy(&xb->logger->vtable);
	free(xb);
}

static const struct backend_ops xenbe_ops = {
	.name = "libxl",
	.create = xb_create,
	.shutdown = xb_shutdown,
	.destroy = xb_destroy,
	.free_memory = xb_free_memory,
	.need_memory = xb_need_memory,
	.dominfo = xb_dominfo,
	.scan = xb_scan,
	.list = xb_list,
	.adopt = xb_adopt,
	.console_path = xb_console_path,
	.devices = xb_devices,
	.pause = xb_pause,
	.activate = xb_activate,
	.retire = xb_retire,
	.check = xb_check,
	.pool_ensure = xb_pool_ensure,
	.pool_remove = xb_pool_remove,
	.pool_check = xb_pool_check,
	.pools = xb_pools,
	.placement = xb_placement,
	.disk_attach = xb_disk_attach,
	.disk_detach = xb_disk_detach,
	.disk_list = xb_disk_list,
	.before_poll = xb_before_poll,
	.after_poll = xb_after_poll,
	.idle = xb_idle,
	.free = xb_free,
};

struct backend *
xenbe_new(struct err *e)
{
	struct xenbe *xb = xcalloc(1, sizeof(*xb));
	int rc;

	xb->logger = xb_logger_new();
	xb->be.ops = &xenbe_ops;
	if (pipe2(xb->build_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		err_set(e, errno, "pipe: %s", strerror(errno));
		xtl_logger_destroy(&xb->logger->vtable);
		free(xb);
		return NULL;
	}
	rc = libxl_ctx_alloc(&xb->ctx, LIBXL_VERSION, 0, &xb->logger->vtable);
	if (rc) {
		xb_err(xb, e, rc, "libxl_ctx_alloc (is xenstored running?)");
		xtl_logger_destroy(&xb->logger->vtable);
		close(xb->build_pipe[0]);
		close(xb->build_pipe[1]);
		free(xb);
		return NULL;
	}
	libxl_childproc_setmode(xb->ctx, &xb_childproc_hooks, NULL);
	return &xb->be;
}
