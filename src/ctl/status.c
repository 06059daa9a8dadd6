// SPDX-License-Identifier: GPL-2.0-or-later
/* domuctl's view of services: list's table, status SERVICE's lines, top's
 * table and the events' lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "reply.h"
#include "base/json.h"
#include "base/util.h"

void
ctl_print_list(yajl_val services, FILE *out)
{
	size_t i;
	char up[32], dom[16];
	long long v;

	fprintf(out, "%-20s %-9s %6s %9s %8s  %s\n", "SERVICE", "STATE",
	    "DOMID", "UPTIME", "RESTARTS", "LAST EXIT");
	for (i = 0; i < json_len(services); i++) {
		yajl_val s = json_at(services, i);
		long long restarts = 0;

		strcpy(dom, "-");
		strcpy(up, "-");
		if (jint(s, "domid", &v))
			snprintf(dom, sizeof(dom), "%lld", v);
		if (jint(s, "uptime", &v))
			format_duration(up, sizeof(up), (uint64_t)v * 1000);
		jint(s, "restarts", &restarts);
		fprintf(out, "%-20s %-9s %6s %9s %8lld  %s\n",
		    jstr(s, "name") ? jstr(s, "name") : "?",
		    jstr(s, "state") ? jstr(s, "state") : "?", dom, up,
		    restarts, jstr(s, "last_exit") ? jstr(s, "last_exit") : "");
	}
}

/* ---- status SERVICE: one part of its lines each -------------------------- */

/* its state, and the domain as domud and Xen see it */
static void
status_domain(yajl_val s, FILE *out)
{
	static const char *const strs[] = { "description", "state",
	    "failed_reason", "last_exit", "last_error", "restart_policy",
	    "xen_state", "conflict", NULL };
	const char *const *k;
	char buf[64];
	long long v;

	for (k = strs; *k; k++)
		if (jstr(s, *k))
			fprintf(out, "  %-16s %s\n", *k, jstr(s, *k));
	if (jint(s, "domid", &v))
		fprintf(out, "  %-16s %lld\n", "domid", v);
	if (jint(s, "uptime", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v * 1000);
		fprintf(out, "  %-16s %s\n", "uptime", buf);
	}
	if (jint(s, "memory", &v)) {
		format_size(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s %s\n", "memory", buf);
	}
	if (jint(s, "vcpus", &v))
		fprintf(out, "  %-16s %lld\n", "vcpus", v);
}

/* Xen's own figures for the domain (every 2 s) */
static void
status_xen(yajl_val s, FILE *out)
{
	char buf[64];
	long long v;

	if (jint(s, "cpu_time_ms", &v)) {
		long long pm;

		format_duration(buf, sizeof(buf), (uint64_t)v);
		if (jint(s, "cpu_permille", &pm))
			fprintf(out, "  %-16s %s, now %lld.%lld%% of a vCPU\n",
			    "cpu", buf, pm / 10, pm % 10);
		else
			fprintf(out, "  %-16s %s\n", "cpu", buf);
	}
	if (jint(s, "memory_now", &v)) {
		char max[32];
		long long m;

		format_size(buf, sizeof(buf), (uint64_t)v);
		if (jint(s, "memory_max", &m) && m > 0) {
			format_size(max, sizeof(max), (uint64_t)m);
			fprintf(out, "  %-16s %s (max %s)\n", "memory in Xen",
			    buf, max);
		} else
			fprintf(out, "  %-16s %s\n", "memory in Xen", buf);
	}
	if (jint(s, "vcpus_online", &v))
		fprintf(out, "  %-16s %lld\n", "vcpus online", v);
}

/* each disk's and vif's counters */
static void
status_devices(yajl_val s, FILE *out)
{
	const char *dp[] = { "disks", NULL }, *vp[] = { "vifs", NULL };
	yajl_val ds = yajl_tree_get(s, dp, yajl_t_array),
	    vs = yajl_tree_get(s, vp, yajl_t_array);
	char a[32], b[32], label[48];
	long long r, w, rb, wb, rp = 0, tp = 0;
	size_t i;

	for (i = 0; i < json_len(ds); i++) {
		yajl_val d = json_at(ds, i);

		snprintf(label, sizeof(label), "disk %s",
		    jstr_or(d, "vdev", "?"));
		if (jint(d, "read_requests", &r) &&
		    jint(d, "write_requests", &w) &&
		    jint(d, "read_bytes", &rb) &&
		    jint(d, "written_bytes", &wb)) {
			format_size(a, sizeof(a), (uint64_t)rb);
			format_size(b, sizeof(b), (uint64_t)wb);
			fprintf(out, "  %-16s %lld reads (%s), %lld writes "
			    "(%s)\n", label, r, a, w, b);
		}
	}
	for (i = 0; i < json_len(vs); i++) {
		yajl_val d = json_at(vs, i);

		snprintf(label, sizeof(label), "vif %s",
		    jstr_or(d, "ifname", "?"));
		if (jint(d, "rx_bytes", &rb) && jint(d, "tx_bytes", &wb)) {
			jint(d, "rx_packets", &rp);
			jint(d, "tx_packets", &tp);
			format_size(a, sizeof(a), (uint64_t)rb);
			format_size(b, sizeof(b), (uint64_t)wb);
			fprintf(out, "  %-16s received %s (%lld packets), "
			    "sent %s (%lld packets)\n", label, a, rp, b, tp);
		}
	}
}

/* where the last start's time went */
static void
status_last_start(yajl_val s, FILE *out)
{
	const char *lp[] = { "last_start", NULL };
	yajl_val ls = yajl_tree_get(s, lp, yajl_t_object);
	long long w = 0, c = 0, u = 0, r = 0, rd, km = 0;
	const char *kf;

	if (ls == NULL || !jint(ls, "to_running_ms", &r))
		return;
	kf = jstr_or(ls, "kernel", "as-is");
	jint(ls, "wait_ms", &w);
	jint(ls, "create_ms", &c);
	jint(ls, "unpause_ms", &u);
	jint(ls, "kernel_ms", &km);
	fprintf(out, "  %-16s running in %lld ms: waited %lld, ",
	    "last start", r, w);
	if (jtrue(ls, "from_standby"))
		fprintf(out, "its standby renamed and unpaused "
		    "in %lld", u);
	else {
		if (strcmp(kf, "as-is") != 0)
			fprintf(out, "kernel %s in %lld, ", kf, km);
		fprintf(out, "libxl built it in %lld, unpaused "
		    "in %lld", c, u);
	}
	if (jint(ls, "to_ready_ms", &rd))
		fprintf(out, "; ready %lld ms later", rd);
	fputc('\n', out);
}

/* its CPU pool and scheduler, each vCPU's place, the devices passed through */
static void
status_placement(yajl_val s, FILE *out)
{
	const char *plp[] = { "placement", NULL }, *vp[] = { "vcpu", NULL },
	    *dp[] = { "passthrough", NULL };
	yajl_val pl = yajl_tree_get(s, plp, yajl_t_object), vs, ds;
	long long a = 0, b = 0, cpu = -1;
	char label[32];
	size_t i;

	if (pl == NULL)
		return;
	fprintf(out, "  %-16s %s (%s", "cpupool",
	    jstr_or(pl, "cpupool", "?"), jstr_or(pl, "sched", "?"));
	if (jint(pl, "weight", &a) && jint(pl, "cap", &b))
		fprintf(out, ", weight %lld, cap %lld%s", a, b,
		    b ? "%" : " (none)");
	if (jint(pl, "period_us", &a) &&
	    jint(pl, "budget_us", &b))
		fprintf(out, ", period %lld us, budget %lld us",
		    a, b);
	fputs(")\n", out);
	vs = yajl_tree_get(pl, vp, yajl_t_array);
	for (i = 0; i < json_len(vs); i++) {
		yajl_val vc = json_at(vs, i);

		jint(vc, "on_cpu", &cpu);
		snprintf(label, sizeof(label), "vcpu %zu", i);
		if (cpu >= 0)
			fprintf(out, "  %-16s on CPU %lld, ", label, cpu);
		else
			fprintf(out, "  %-16s offline, ", label);
		fprintf(out, "affinity %s, soft %s\n",
		    jstr_or(vc, "affinity", "?"),
		    jstr_or(vc, "soft_affinity", "?"));
	}
	ds = yajl_tree_get(pl, dp, yajl_t_array);
	for (i = 0; i < json_len(ds); i++)
		fprintf(out, "  %-16s %s\n", i ? "" :
		    "passthrough", YAJL_GET_STRING(json_at(ds,
		    i)) ? YAJL_GET_STRING(json_at(ds, i)) : "?");
}

/* update = yes: the slot it runs from, and whether it is on trial */
static void
status_slot(yajl_val s, FILE *out)
{
	if (!jstr(s, "slot"))
		return;
	fprintf(out, "  %-16s %s (update: %s)\n", "slot", jstr(s, "slot"),
	    jstr(s, "update") ? jstr(s, "update") : "?");
}

static void
status_standby(yajl_val s, FILE *out)
{
	long long sd, sb;

	if (!jstr(s, "standby"))
		return;
	fprintf(out, "  %-16s %s", "standby", jstr(s, "standby"));
	if (jint(s, "standby_domid", &sd) &&
	    jint(s, "standby_built_ms", &sb))
		fprintf(out, " (domain %lld, built in %lld ms, paused)",
		    sd, sb);
	else if (jint(s, "standby_domid", &sd))
		fprintf(out, " (domain %lld)", sd);
	if (jstr(s, "standby_error"))
		fprintf(out, ": %s", jstr(s, "standby_error"));
	fputc('\n', out);
}

/* restarts, and what domud will do next and when */
static void
status_next(yajl_val s, FILE *out)
{
	char buf[64];
	long long v;

	if (jint(s, "restarts", &v))
		fprintf(out, "  %-16s %lld\n", "restarts", v);
	if (jint(s, "next_restart_ms", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s in %s\n", "next restart", buf);
	}
	if (jint(s, "stop_deadline_ms", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v);
		fprintf(out, "  %-16s in %s\n", "destroy", buf);
	}
	if (jtrue(s, "paused"))
		fprintf(out, "  %-16s %s\n", "paused", "yes, not by domud");
	if (jint(s, "destroy_s", &v)) {
		format_duration(buf, sizeof(buf), (uint64_t)v * 1000);
		fprintf(out, "  %-16s for %s%s\n", "destroying", buf,
		    jtrue(s, "destroy_stuck") ? " (stuck: see last_error)" : "");
	}
}

static void
status_health(yajl_val s, FILE *out)
{
	const char *hp[] = { "health_probe", NULL };
	yajl_val h = yajl_tree_get(s, hp, yajl_t_object);
	long long n = 0, f = 0, ms = 0;

	if (h == NULL)
		return;
	jint(h, "checks", &n);
	jint(h, "failures", &f);
	fprintf(out, "  %-16s %s (%s probe; %lld checks, %lld "
	    "failed)\n", "health", jstr_or(s, "health", "?"),
	    jstr_or(h, "kind", "?"), n, f);
	if (jstr(h, "last_output")) {
		jint(h, "last_ms", &ms);
		fprintf(out, "  %-16s %s in %lld ms%s%s\n",
		    "last probe", jtrue(h, "last_ok") ? "passed" :
		    "failed", ms, *jstr(h, "last_output") ? ": " :
		    "", jstr(h, "last_output"));
	}
}

/* the memres channel's counters */
static void
status_channel(yajl_val s, FILE *out)
{
	const char *cp[] = { "channel", NULL };
	yajl_val c = yajl_tree_get(s, cp, yajl_t_object);
	long long in = 0, out_ = 0, fi = 0, rs = 0, crc = 0;
	char buf[64];

	if (c == NULL)
		return;
	jint(c, "bytes_in", &in);
	jint(c, "bytes_out", &out_);
	jint(c, "frames_in", &fi);
	jint(c, "resent", &rs);
	jint(c, "crc_errors", &crc);
	format_size(buf, sizeof(buf), (uint64_t)in);
	fprintf(out, "  %-16s %s in (%lld frames), ", "channel", buf, fi);
	format_size(buf, sizeof(buf), (uint64_t)out_);
	fprintf(out, "%s out; %lld resent, %lld CRC errors\n", buf, rs, crc);
}

/* the last failure, with its console's last lines */
static void
status_last_failure(yajl_val s, FILE *out)
{
	const char *fp[] = { "last_failure", NULL };
	yajl_val lf = yajl_tree_get(s, fp, yajl_t_object);
	const char *t = lf ? jstr(lf, "console_tail") : NULL;
	char when[32] = "?";
	long long at = 0;
	struct tm tm;
	time_t sec;

	if (lf == NULL || t == NULL)
		return;
	if (jint(lf, "at", &at)) {
		sec = (time_t)at;
		if (localtime_r(&sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	fprintf(out, "  %-16s %s at %s; its console's last lines:\n",
	    "last failure", jstr_or(lf, "exit", "?"), when);
	while (*t) {
		const char *nl = strchr(t, '\n');
		int len = nl ? (int)(nl - t) : (int)strlen(t);

		fprintf(out, "    | %.*s\n", len, t);
		t += len + (nl ? 1 : 0);
	}
}

static void
status_dying(yajl_val s, FILE *out)
{
	long long v, secs = 0;
	char buf[64];

	if (!jint(s, "dying_domid", &v))
		return;
	(void)jint(s, "dying_s", &secs);
	format_duration(buf, sizeof(buf), (uint64_t)secs * 1000);
	fprintf(out, "  %-16s domain %lld, for %s\n", "still dying", v, buf);
}

/* the parts in the order they are printed */
static void (*const status_parts[])(yajl_val, FILE *) = {
	status_domain, status_xen, status_devices, status_last_start,
	status_placement, status_standby, status_slot, status_next, status_health,
	status_channel, status_last_failure, status_dying,
};

void
ctl_print_status(yajl_val s, FILE *out)
{
	size_t i;

	fprintf(out, "%s\n", jstr(s, "name") ? jstr(s, "name") : "?");
	for (i = 0; i < nitems(status_parts); i++)
		status_parts[i](s, out);
}

/* ---- top and events --------------------------------------------------------- */

struct top_row {
	const char	*name, *state, *health;
	long long	 domid, cpu_ms, permille, mem, max, vcpus, restarts;
	long long	 net, disk;	/* bytes/s, -1 = not known */
};

/* bytes through a service's vifs (both ways) and disks (read and written);
 * -1 when it has none counted */
static long long
io_total(yajl_val s, const char *arr, const char *k1, const char *k2)
{
	const char *p[] = { arr, NULL };
	yajl_val a = yajl_tree_get(s, p, yajl_t_array);
	long long sum = -1, x, y;
	size_t i;

	for (i = 0; i < json_len(a); i++)
		if (jint(json_at(a, i), k1, &x) && jint(json_at(a, i), k2, &y))
			sum = (sum < 0 ? 0 : sum) + x + y;
	return sum;
}

/* the same service (name and domain) in the round before */
static yajl_val
top_prev(yajl_val prev, yajl_val s)
{
	const char *name = jstr(s, "name");
	long long d0, d1;
	size_t i;

	for (i = 0; name && i < json_len(prev); i++) {
		yajl_val p = json_at(prev, i);
		const char *pn = jstr(p, "name");

		if (pn && strcmp(pn, name) == 0 && jint(p, "domid", &d0) &&
		    jint(s, "domid", &d1) && d0 == d1)
			return p;
	}
	return NULL;
}

static long long
top_rate(yajl_val s, yajl_val p, double dt, const char *arr, const char *k1,
    const char *k2)
{
	long long now, before;

	if (p == NULL || dt <= 0)
		return -1;
	now = io_total(s, arr, k1, k2);
	before = io_total(p, arr, k1, k2);
	if (now < 0 || before < 0 || now < before)
		return -1;
	return (long long)((double)(now - before) / dt);
}

static int
top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->permille != y->permille)
		return x->permille < y->permille ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* top: one table from a status reply, the busiest first */
void
ctl_print_top(yajl_val services, yajl_val prev, double dt, FILE *out)
{
	size_t i, n = json_len(services);
	struct top_row *r = calloc(n ? n : 1, sizeof(*r));
	char cpu[32], t[32], mem[32], max[32], dom[24], vc[24], net[32],
	    disk[32];

	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		yajl_val s = json_at(services, i);

		r[i].name = jstr_or(s, "name", "?");
		r[i].state = jstr_or(s, "state", "?");
		r[i].health = jstr_or(s, "health", "-");
		r[i].domid = r[i].cpu_ms = r[i].permille = r[i].mem =
		    r[i].max = r[i].vcpus = -1;
		jint(s, "domid", &r[i].domid);
		jint(s, "cpu_time_ms", &r[i].cpu_ms);
		jint(s, "cpu_permille", &r[i].permille);
		jint(s, "memory_now", &r[i].mem);
		jint(s, "memory_max", &r[i].max);
		jint(s, "vcpus_online", &r[i].vcpus);
		jint(s, "restarts", &r[i].restarts);
		r[i].net = top_rate(s, top_prev(prev, s), dt, "vifs", "rx_bytes",
		    "tx_bytes");
		r[i].disk = top_rate(s, top_prev(prev, s), dt, "disks",
		    "read_bytes", "written_bytes");
	}
	qsort(r, n, sizeof(*r), top_cmp);
	fprintf(out, "%-20s %-9s %6s %6s %10s %9s %9s %5s %8s %9s %9s %s\n",
	    "SERVICE", "STATE", "DOMID", "CPU%", "CPU TIME", "MEMORY", "MAX",
	    "VCPUS", "RESTARTS", "NET/s", "DISK/s", "HEALTH");
	for (i = 0; i < n; i++) {
		strcpy(cpu, "-");
		strcpy(t, "-");
		strcpy(dom, "-");
		strcpy(vc, "-");
		if (r[i].domid >= 0)
			snprintf(dom, sizeof(dom), "%lld", r[i].domid);
		if (r[i].vcpus >= 0)
			snprintf(vc, sizeof(vc), "%lld", r[i].vcpus);
		strcpy(mem, "-");
		strcpy(max, "-");
		if (r[i].permille >= 0)
			snprintf(cpu, sizeof(cpu), "%lld.%lld", r[i].permille / 10,
			    r[i].permille % 10);
		if (r[i].cpu_ms >= 0)
			format_duration(t, sizeof(t), (uint64_t)r[i].cpu_ms);
		if (r[i].mem >= 0)
			format_size(mem, sizeof(mem), (uint64_t)r[i].mem);
		if (r[i].max > 0)
			format_size(max, sizeof(max), (uint64_t)r[i].max);
		strcpy(net, "-");
		strcpy(disk, "-");
		if (r[i].net >= 0)
			format_size(net, sizeof(net), (uint64_t)r[i].net);
		if (r[i].disk >= 0)
			format_size(disk, sizeof(disk), (uint64_t)r[i].disk);
		fprintf(out, "%-20s %-9s %6s %6s %10s %9s %9s %5s %8lld %9s %9s "
		    "%s\n", r[i].name, r[i].state, dom, cpu, t, mem, max, vc,
		    r[i].restarts, net, disk, r[i].health);
	}
	free(r);
}

/* one event of the history: local time, seconds since boot, what changed,
 * why and whose doing */
void
ctl_print_event(yajl_val e, FILE *out)
{
	long long t = 0, boot = 0;
	char when[32] = "?";
	struct tm tm;
	time_t sec;

	if (jint(e, "time_ms", &t)) {
		sec = (time_t)(t / 1000);
		if (localtime_r(&sec, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	}
	jint(e, "boot_ms", &boot);
	fprintf(out, "%s.%03lld [%lld.%03llds] %-16s %s -> %s (%s; by %s)\n",
	    when, t % 1000, boot / 1000, boot % 1000, jstr_or(e, "service", "?"),
	    jstr_or(e, "from", "?"), jstr_or(e, "to", "?"),
	    jstr_or(e, "reason", ""), jstr_or(e, "actor", "?"));
}
