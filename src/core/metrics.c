// SPDX-License-Identifier: GPL-2.0-or-later
/* Prometheus text exposition (metrics.h). Names follow its conventions:
 * a domud_ prefix, base units (_seconds, _bytes), _total for counters, an
 * enum as one 0/1 series per state. Service names need no escaping in a
 * label: they are [A-Za-z0-9_.-]. */
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/util.h"
#include "chan/gio.h"
#include "console.h"
#include "metrics.h"
#include "service.h"

struct out {
	char	*buf;
	size_t	 len, cap;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		o->cap *= 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* one series per service, from what f gives (skipped when it gives -1) */
static void
per_service(struct out *o, struct supervisor *sup, const char *name,
    const char *type, const char *help,
    int (*f)(const struct service *, double *))
{
	size_t i;
	double v;

	family(o, name, type, help);
	for (i = 0; i < sup->nsvcs; i++)
		if (f(sup->svcs[i], &v) == 0)
			put(o, "%s{service=\"%s\"} %.17g\n", name,
			    sup->svcs[i]->conf->name, v);
}

static int
has_stats(const struct service *s)
{
	return s->domid != INVALID_DOMID_ && s->stats.domid == s->domid &&
	    s->stats.at_ms != 0;
}

static int
m_restarts(const struct service *s, double *v)
{
	*v = (double)s->restarts;
	return 0;
}

static int
m_cpu(const struct service *s, double *v)
{
	if (!has_stats(s))
		return -1;
	*v = (double)s->stats.cpu_ns / 1e9;
	return 0;
}

static int
m_mem(const struct service *s, double *v)
{
	if (!has_stats(s))
		return -1;
	*v = (double)s->stats.mem_bytes;
	return 0;
}

static int
m_mem_max(const struct service *s, double *v)
{
	if (!has_stats(s))
		return -1;
	*v = (double)s->stats.max_mem_bytes;
	return 0;
}

static int
m_vcpus(const struct service *s, double *v)
{
	if (!has_stats(s))
		return -1;
	*v = (double)s->stats.vcpus_online;
	return 0;
}

/* update = yes: the slots (update.c) */
static int
m_upd_active(const struct service *s, double *v)
{
	if (s->upd.dir == NULL)
		return -1;
	*v = s->upd.active;
	return 0;
}

static int
m_upd_trial(const struct service *s, double *v)
{
	if (s->upd.dir == NULL)
		return -1;
	*v = s->upd.state == UPS_TRIAL;
	return 0;
}

static int
m_upd_commits(const struct service *s, double *v)
{
	if (s->upd.dir == NULL)
		return -1;
	*v = (double)s->upd.commits;
	return 0;
}

static int
m_upd_rollbacks(const struct service *s, double *v)
{
	if (s->upd.dir == NULL)
		return -1;
	*v = (double)s->upd.rollbacks;
	return 0;
}

static int
m_upd_snapshots(const struct service *s, double *v)
{
	if (s->upd.dir == NULL || s->conf->nupdate_data == 0)
		return -1;
	*v = (double)s->upd.ndata;
	return 0;
}

static int
m_upd_refusals(const struct service *s, double *v)
{
	if (s->upd.dir == NULL)
		return -1;
	*v = (double)s->upd.refusals;
	return 0;
}

static int
m_conf_mem(const struct service *s, double *v)
{
	*v = (double)s->conf->memory;
	return 0;
}

static int
m_ready(const struct service *s, double *v)
{
	if (s->conf->ready == READY_RUNNING)
		return -1;
	*v = svc_ready(s) ? 1 : 0;
	return 0;
}

/* 1 healthy, 0 unhealthy; absent while no verdict (or no probe) */
static int
m_healthy(const struct service *s, double *v)
{
	if (s->state != ST_RUNNING || (s->health.state != HS_HEALTHY &&
	    s->health.state != HS_UNHEALTHY))
		return -1;
	*v = s->health.state == HS_HEALTHY ? 1 : 0;
	return 0;
}

static int
m_probe_failures(const struct service *s, double *v)
{
	if (s->conf->health == HEALTH_NONE)
		return -1;
	*v = (double)s->health.failures;
	return 0;
}

static const struct gio_chan *
chan_of(const struct service *s)
{
	return s->conf->memres && s->con ? s->con->chan : NULL;
}

static int
m_chan_in(const struct service *s, double *v)
{
	if (chan_of(s) == NULL)
		return -1;
	*v = (double)chan_of(s)->bytes_in;
	return 0;
}

static int
m_chan_out(const struct service *s, double *v)
{
	if (chan_of(s) == NULL)
		return -1;
	*v = (double)chan_of(s)->bytes_out;
	return 0;
}

static int
m_chan_crc(const struct service *s, double *v)
{
	if (chan_of(s) == NULL)
		return -1;
	*v = (double)chan_of(s)->crc_errors;
	return 0;
}

char *
metrics_render(struct supervisor *sup, size_t *len)
{
	static const char *const states[] = { "stopped", "waiting",
	    "starting", "running", "ready", "stopping", "backoff", "failed" };
	struct out o = { xcalloc(1, 4096), 0, 4096 };
	size_t i, k;

	family(&o, "domud_build_info", "gauge", "domud's version, as a label.");
	put(&o, "domud_build_info{version=\"%s\"} 1\n", DOMUD_VERSION);
	family(&o, "domud_services", "gauge", "Services configured.");
	put(&o, "domud_services %zu\n", sup->nsvcs);
	family(&o, "domud_events_total", "counter",
	    "State changes recorded since domud started.");
	put(&o, "domud_events_total %llu\n",
	    (unsigned long long)(sup->events.next_seq - 1));
	{
		uint64_t restarts = 0;

		(void)gio_pid(sup->gio, &restarts);
		family(&o, "domud_guest_io_restarts_total", "counter",
		    "Times the guest I/O process was lost and started again.");
		put(&o, "domud_guest_io_restarts_total %llu\n",
		    (unsigned long long)restarts);
	}
	family(&o, "domud_service_state", "gauge",
	    "1 for the state the service is in, 0 for the others.");
	for (i = 0; i < sup->nsvcs; i++) {
		const char *now = svc_display_state(sup->svcs[i]);

		for (k = 0; k < nitems(states); k++)
			put(&o, "domud_service_state{service=\"%s\",state=\"%s\"} "
			    "%d\n", sup->svcs[i]->conf->name, states[k],
			    strcmp(now, states[k]) == 0);
	}
	per_service(&o, sup, "domud_service_restarts_total", "counter",
	    "Restarts by the restart policy.", m_restarts);
	per_service(&o, sup, "domud_service_ready", "gauge",
	    "1 when up as its ready= says (the agent answered, the first "
	    "probe passed).", m_ready);
	per_service(&o, sup, "domud_service_healthy", "gauge",
	    "Services with a health probe: 1 healthy, 0 unhealthy.",
	    m_healthy);
	per_service(&o, sup, "domud_service_health_probe_failures_total",
	    "counter", "Health probes that failed.", m_probe_failures);
	per_service(&o, sup, "domud_service_channel_received_bytes_total",
	    "counter", "Memres: console bytes read from the guest, frames "
	    "and all (this domain's).", m_chan_in);
	per_service(&o, sup, "domud_service_channel_sent_bytes_total",
	    "counter", "Memres: bytes written to the guest's console.",
	    m_chan_out);
	per_service(&o, sup, "domud_service_channel_crc_errors_total",
	    "counter", "Memres: frames from the guest with a bad CRC.",
	    m_chan_crc);
	per_service(&o, sup, "domud_service_memory_configured_bytes", "gauge",
	    "Memory the service file asks for.", m_conf_mem);
	per_service(&o, sup, "domud_service_cpu_seconds_total", "counter",
	    "CPU time of the service's current domain, all vCPUs (Xen's "
	    "count; starts again with each new domain).", m_cpu);
	per_service(&o, sup, "domud_service_memory_bytes", "gauge",
	    "Memory of the service's domain, as Xen counts it.", m_mem);
	per_service(&o, sup, "domud_service_memory_max_bytes", "gauge",
	    "The domain's memory limit in Xen.", m_mem_max);
	per_service(&o, sup, "domud_service_vcpus_online", "gauge",
	    "vCPUs online in the service's domain.", m_vcpus);
	per_service(&o, sup, "domud_update_active_slot", "gauge",
	    "update = yes: the slot it runs from, 0 for a, 1 for b.",
	    m_upd_active);
	per_service(&o, sup, "domud_update_trial", "gauge",
	    "update = yes: 1 while a new slot runs on trial.", m_upd_trial);
	per_service(&o, sup, "domud_update_commits_total", "counter",
	    "Trials committed since domud started.", m_upd_commits);
	per_service(&o, sup, "domud_update_rollbacks_total", "counter",
	    "Trials rolled back (and rollbacks by hand) since domud started.",
	    m_upd_rollbacks);
	per_service(&o, sup, "domud_update_refused_total", "counter",
	    "Stages refused (a digest, a signature, a file) since domud "
	    "started.", m_upd_refusals);
	per_service(&o, sup, "domud_update_data_snapshots", "gauge",
	    "update_data: snapshots of its data volumes held for a trial.",
	    m_upd_snapshots);
	*len = o.len;
	return o.buf;
}

int
metrics_write(struct supervisor *sup)
{
	const char *path = sup->cfg->d.metrics_file;
	struct err e = ERR_INIT;
	char *text, *d1, *d2;
	size_t len;
	int rc;

	if (path == NULL)
		return 0;
	text = metrics_render(sup, &len);
	/* fileio adds the final newline */
	if (len > 0 && text[len - 1] == '\n')
		len--;
	d1 = xstrdup(path);
	d2 = xstrdup(path);
	/* readable by the collector (node_exporter runs as its own user) */
	rc = fileio_write_replace(dirname(d1), basename(d2), text, len, 0644,
	    &e);
	free(d1);
	free(d2);
	free(text);
	/* every interval would flood the log: said once, and its end too */
	if (rc == -1 && !sup->metrics_failing) {
		sup->metrics_failing = 1;
		log_warnx("metrics_file: %s; trying again every interval, "
		    "quietly", e.msg);
	} else if (rc == 0 && sup->metrics_failing) {
		sup->metrics_failing = 0;
		log_info("metrics_file %s is written again", path);
	}
	return rc;
}
