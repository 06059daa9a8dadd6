// SPDX-License-Identifier: GPL-2.0-or-later
/* The status of a service as JSON: state, domain, placement, devices. */

#include <stdio.h>

#include "health.h"
#include "base/json.h"
#include "console.h"
#include "conf/partition.h"
#include "proto/proto.h"
#include "chan/gio.h"
#include "net/net.h"
#include "supervisor.h"
#include "base/util.h"

/* a domain's disks and vifs with what Dom0's backends count */
/* where its domain runs and how Xen schedules it, read back from Xen;
 * the devices it was given, from its configuration */
static void
placement_json(struct service *s, yajl_gen g)
{
	const struct service_conf *c = s->conf;
	struct be_placement pl;
	struct err e = ERR_INIT;
	char buf[96];
	unsigned v;
	size_t i;

	if (s->sup->be->ops->placement == NULL ||
	    s->sup->be->ops->placement(s->sup->be, s->domid, &pl, &e) == -1)
		return;
	gen_str(g, "placement");
	yajl_gen_map_open(g);
	gen_kv_str(g, "cpupool", pl.pool);
	gen_kv_str(g, "sched", sched_str(pl.sched));
	if (pl.sched == SCHED_CREDIT || pl.sched == SCHED_CREDIT2) {
		gen_kv_int(g, "weight", pl.weight);
		gen_kv_int(g, "cap", pl.cap);
	} else if (pl.sched == SCHED_RTDS) {
		gen_kv_int(g, "period_us", pl.period_us);
		gen_kv_int(g, "budget_us", pl.budget_us);
	}
	gen_str(g, "vcpu");
	yajl_gen_array_open(g);
	for (v = 0; v < pl.nvcpus; v++) {
		yajl_gen_map_open(g);
		gen_kv_int(g, "on_cpu", pl.vcpu[v].cpu);
		cpuset_format(&pl.vcpu[v].hard, buf, sizeof(buf));
		gen_kv_str(g, "affinity", buf);
		cpuset_format(&pl.vcpu[v].soft, buf, sizeof(buf));
		gen_kv_str(g, "soft_affinity", buf);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	if (c->npci || c->ndtdev || c->nirqs || c->niomem) {
		gen_str(g, "passthrough");
		yajl_gen_array_open(g);
		for (i = 0; i < c->npci; i++) {
			char a[32];

			pci_format(&c->pci[i], a, sizeof(a));
			snprintf(buf, sizeof(buf), "pci %s", a);
			gen_str(g, buf);
		}
		for (i = 0; i < c->ndtdev; i++) {
			snprintf(buf, sizeof(buf), "dtdev %s", c->dtdev[i]);
			gen_str(g, buf);
		}
		for (i = 0; i < c->nirqs; i++) {
			snprintf(buf, sizeof(buf), "irq %u", c->irqs[i]);
			gen_str(g, buf);
		}
		for (i = 0; i < c->niomem; i++) {
			snprintf(buf, sizeof(buf), "iomem 0x%llx,%llu",
			    (unsigned long long)c->iomem[i].start,
			    (unsigned long long)c->iomem[i].count);
			gen_str(g, buf);
		}
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

static void
devices_json(struct service *s, yajl_gen g)
{
	struct be_devices d;
	struct err e = ERR_INIT;
	size_t i;

	if (s->sup->be->ops->devices == NULL ||
	    s->sup->be->ops->devices(s->sup->be, s->domid, &d, &e) == -1)
		return;
	gen_str(g, "disks");
	yajl_gen_array_open(g);
	for (i = 0; i < d.ndisks; i++) {
		yajl_gen_map_open(g);
		gen_kv_str(g, "vdev", d.disks[i].vdev);
		if (d.disks[i].has_stats) {
			gen_kv_int(g, "read_requests",
			    (long long)d.disks[i].rd_req);
			gen_kv_int(g, "write_requests",
			    (long long)d.disks[i].wr_req);
			gen_kv_int(g, "read_bytes",
			    (long long)d.disks[i].rd_sect * 512);
			gen_kv_int(g, "written_bytes",
			    (long long)d.disks[i].wr_sect * 512);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_str(g, "vifs");
	yajl_gen_array_open(g);
	for (i = 0; i < d.nvifs; i++) {
		struct net_vif_counters v;

		yajl_gen_map_open(g);
		gen_kv_str(g, "ifname", d.vifs[i]);
		if (net_vif_counters(d.vifs[i], &v, &e) == 0) {
			gen_kv_int(g, "rx_bytes", (long long)v.rx_bytes);
			gen_kv_int(g, "tx_bytes", (long long)v.tx_bytes);
			gen_kv_int(g, "rx_packets", (long long)v.rx_packets);
			gen_kv_int(g, "tx_packets", (long long)v.tx_packets);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/* standby = yes: where its next domain is */
static void
standby_json(const struct service *s, yajl_gen g)
{
	static const char *const sb_words[] = {
		[SB_NONE] = "none", [SB_BUILDING] = "building",
		[SB_READY] = "ready", [SB_DESTROYING] = "destroying",
		[SB_BOOTING] = "booting",
	};
	_Static_assert(SB__N == 5, "sb_words");

	gen_kv_str(g, "standby", sb_words[s->sb.state]);
	if (s->sb.state == SB_READY || s->sb.state == SB_DESTROYING ||
	    s->sb.state == SB_BOOTING)
		gen_kv_int(g, "standby_domid", s->sb.domid);
	if (s->sb.state == SB_READY)
		gen_kv_int(g, "standby_built_ms",
		    (long long)s->sb.built_ms);
	if (s->sb.state == SB_NONE && s->sb.error[0])
		gen_kv_str(g, "standby_error", s->sb.error);
}

/* its domain: Xen's word on it, the last start, devices, figures */
static void
domain_json(struct service *s, yajl_gen g, int flags)
{
	struct be_dominfo di;
	struct err e = ERR_INIT;
	time_t now = time(NULL);

	gen_kv_int(g, "domid", s->domid);
	if (s->sup->be->ops->dominfo(s->sup->be, s->domid, &di, &e) == 0) {
		if (di.start_time > 0) {
			gen_kv_int(g, "start_time",
			    (long long)di.start_time);
			gen_kv_int(g, "uptime", now > di.start_time ?
			    (long long)(now - di.start_time) : 0);
		}
		/* what Xen says of it, now */
		gen_kv_str(g, "xen_state", di.dying ? "dying" :
		    di.shutdown ? "shutdown" : di.paused ? "paused" :
		    "running");
	}
	if (s->timing.running_at && s->timing.asked) {
		const struct svc_timing *t = &s->timing;

		gen_str(g, "last_start");
		yajl_gen_map_open(g);
		gen_kv_int(g, "wait_ms", (long long)t->wait_ms);
		gen_kv_bool(g, "from_standby", t->from_standby);
		gen_kv_str(g, "kernel", kernel_from_str(t->kernel_from));
		gen_kv_int(g, "kernel_ms", (long long)t->kernel_ms);
		gen_kv_int(g, "create_ms", (long long)t->create_ms);
		gen_kv_int(g, "unpause_ms", (long long)t->unpause_ms);
		gen_kv_int(g, "to_running_ms",
		    (long long)t->to_running_ms);
		if (t->ready_at)
			gen_kv_int(g, "to_ready_ms",
			    (long long)t->to_ready_ms);
		yajl_gen_map_close(g);
	}
	if (flags & SJ_DEVICES)
		devices_json(s, g);
	if (flags & SJ_PLACEMENT)
		placement_json(s, g);
	if (s->stats.domid == s->domid && s->stats.at_ms) {
		int pm = svc_cpu_permille(s);

		gen_kv_int(g, "cpu_time_ms",
		    (long long)(s->stats.cpu_ns / 1000000));
		if (pm >= 0)
			gen_kv_int(g, "cpu_permille", pm);
		gen_kv_int(g, "memory_now",
		    (long long)s->stats.mem_bytes);
		gen_kv_int(g, "memory_max",
		    (long long)s->stats.max_mem_bytes);
		gen_kv_int(g, "vcpus_online", s->stats.vcpus_online);
	}
}

/* memres: the agent and its channel */
static void
memres_json(const struct service *s, yajl_gen g)
{
	gen_kv_bool(g, "memres", 1);
	gen_kv_bool(g, "agent_ready", s->ready);
	if (s->con && s->con->chan && s->con->chan->agent[0])
		gen_kv_str(g, "agent", s->con->chan->agent);
	if (s->unresponsive)
		gen_kv_bool(g, "agent_unresponsive", 1);
	if (s->con && s->con->chan) {
		const struct gio_chan *ch = s->con->chan;

		gen_str(g, "channel");
		yajl_gen_map_open(g);
		gen_kv_int(g, "bytes_in", (long long)ch->bytes_in);
		gen_kv_int(g, "bytes_out", (long long)ch->bytes_out);
		gen_kv_int(g, "frames_in", (long long)ch->frames_in);
		gen_kv_int(g, "frames_out", (long long)ch->frames_out);
		/* frames the agent sent again (a lost ack), or that
		 * came too far ahead to keep */
		gen_kv_int(g, "resent", (long long)ch->resent_seen);
		gen_kv_int(g, "dropped", (long long)ch->dropped);
		gen_kv_int(g, "crc_errors",
		    (long long)ch->crc_errors);
		yajl_gen_map_close(g);
	}
}

void
svc_status_json(struct service *s, yajl_gen g, int flags)
{
	uint64_t mono = mono_ms();

	yajl_gen_map_open(g);
	gen_kv_str(g, "name", s->conf->name);
	gen_kv_str(g, "state", svc_display_state(s));
	if (s->conf->description)
		gen_kv_str(g, "description", s->conf->description);
	if (s->conf->standby || s->sb.state != SB_NONE)
		standby_json(s, g);
	/* a switch's old domain, powering off aside */
	if (s->rt.state != RT_NONE)
		gen_kv_int(g, "retiring_domid", s->rt.domid);
	if (s->upd.dir != NULL) {
		/* update = yes: the slot it runs from (update status: all) */
		gen_kv_str(g, "slot", s->upd.active ? "b" : "a");
		gen_kv_str(g, "update", upd_state_str(s->upd.state));
	}
	if (s->domid != INVALID_DOMID_)
		domain_json(s, g, flags);
	/* what Xen does that domud did not ask for */
	if (s->paused)
		gen_kv_bool(g, "paused", 1);
	if (s->conflict_domid) {
		gen_kv_str(g, "conflict", s->conflict);
		gen_kv_int(g, "conflict_domid", s->conflict_domid);
	}
	if (s->dying_domid && s->dying_reported) {
		gen_kv_int(g, "dying_domid", s->dying_domid);
		gen_kv_int(g, "dying_s", (long long)((mono - s->dying_since) /
		    1000));
	}
	if (s->state == ST_DESTROYING && s->destroy.started) {
		gen_kv_int(g, "destroy_s", (long long)((mono -
		    s->destroy.started) / 1000));
		if (s->destroy.stuck)
			gen_kv_bool(g, "destroy_stuck", 1);
	}
	gen_kv_bool(g, "autostart", s->conf->autostart);
	gen_kv_str(g, "restart_policy", restart_policy_str(s->conf->restart));
	gen_kv_int(g, "memory", (long long)s->conf->memory);
	gen_kv_int(g, "vcpus", s->conf->vcpus);
	gen_kv_str(g, "last_exit", svc_exit_str(s->last_exit));
	if (s->last_error[0])
		gen_kv_str(g, "last_error", s->last_error);
	if (s->state == ST_FAILED)
		gen_kv_str(g, "failed_reason", s->failed_reason[0] ?
		    s->failed_reason : svc_exit_str(s->last_exit));
	gen_kv_int(g, "restarts", s->restarts);
	if (s->state == ST_BACKOFF && s->timer_at)
		gen_kv_int(g, "next_restart_ms", s->timer_at > mono ?
		    (long long)(s->timer_at - mono) : 0);
	if (s->state == ST_STOPPING && s->timer_at)
		gen_kv_int(g, "stop_deadline_ms", s->timer_at > mono ?
		    (long long)(s->timer_at - mono) : 0);
	if (s->conf->errors)
		gen_kv_bool(g, "config_errors", 1);
	gen_kv_str(g, "ready_when", s->conf->ready == READY_HEALTH ? "health" :
	    s->conf->ready == READY_AGENT ? "agent" : "running");
	if (s->state == ST_RUNNING)
		health_json(s, g);
	if (s->fail_tail && (flags & SJ_FAILURE)) {
		gen_str(g, "last_failure");
		yajl_gen_map_open(g);
		gen_kv_str(g, "exit", svc_exit_str(s->fail_exit));
		gen_kv_int(g, "at", (long long)s->fail_wall);
		gen_kv_str(g, "console_tail", s->fail_tail);
		yajl_gen_map_close(g);
	}
	if (s->conf->memres)
		memres_json(s, g);
	if (s->idle.state == IDLE_PAUSED)
		gen_kv_str(g, "idle", "paused");
	if (s->state == ST_STOPPING)
		gen_kv_str(g, "stop_phase", stop_phase_str(s->stop.phase));
	if (s->stop.stopped_in != SP_NONE)
		gen_kv_str(g, "last_stop_phase", stop_phase_str(s->stop.stopped_in));
	yajl_gen_map_close(g);
}
