// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The key tables and the code that reads their rows: which key a line
 * names in its section, said once (a seen line per row), empty values,
 * continuation lines, the line kept where the row says, the value parsed
 * and stored (value.c, or a custom row's fn in custom.c); the defaults;
 * the strings freed. Adding an ordinary key is one row and its field.
 * May call: custom, value, diag, base.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keys.h"
#include "base/log.h"
#include "base/util.h"

#define KEY(n, s, t)	.name = (n), .sects = (s), .type = (t)
#define AT(st, f)	.off = offsetof(struct st, f), \
			.size = sizeof(((struct st *)NULL)->f)
#define LINE(st, f)	.has_line = 1, .line_off = offsetof(struct st, f)
#define RANGE(a, b)	.min = (a), .max = (b)
#define NAMES(a)	.names = (a), .nnames = nitems(a)
#define DEF(d)		.def = (d)
#define HELP(h)		.help = (h)

#define SVC(f)		AT(service_conf, f)
#define SVC_LINE(f)	LINE(service_conf, f)
#define DSK(f)		AT(disk_conf, f)
#define DSK_LINE(f)	LINE(disk_conf, f)
#define DMN(f)		AT(daemon_conf, f)
#define NTW(f)		AT(net_conf, f)
#define NTW_LINE(f)	LINE(net_conf, f)
#define POOL(f)		AT(pool_conf, f)
#define POOL_LINE(f)	LINE(pool_conf, f)

#define SEC		1000ULL
#define MIN		(60 * SEC)
#define HOUR		(60 * MIN)
#define DAY		(24 * HOUR)
#define STR_(x)		#x
#define XSTR(x)		STR_(x)

#if defined(__aarch64__) || defined(__arm__)
#define TYPE_DEFAULT	"pvh"		/* ARM has no PV */
#else
#define TYPE_DEFAULT	"pv"
#endif

/* the names of an enum row, at the value each stands for */
static const char *const type_names[] = { "pv", "pvh" };
static const char *const restart_names[] = { "no", "on-failure", "always" };
static const char *const agent_names[] = { "domud", "vxn" };
static const char *const idle_names[] = { "stop", "pause" };
static const char *const ready_names[] = { "running", "agent", "health" };
static const char *const access_names[] = { "ro", "rw" };
static const char *const ahead_names[] = { "no", "build", "boot" };
static const char *const sched_names[] = { NULL, "credit", "credit2", "rtds",
	"null", "arinc653" };
_Static_assert(SVC_PV == 0 && SVC_PVH == 1, "type_names");
_Static_assert(RESTART_NO == 0 && RESTART_ALWAYS == 2, "restart_names");
_Static_assert(RESTART_ON_FAILURE == 1, "restart_names");
_Static_assert(IDLE_STOP == 0 && IDLE_PAUSE == 1, "idle_names");
_Static_assert(READY_RUNNING == 0 && READY_HEALTH == 2, "ready_names");
_Static_assert(READY_AGENT == 1, "ready_names");
_Static_assert(UPDATE_AHEAD_NO == 0 && UPDATE_AHEAD_BOOT == 2, "ahead_names");
_Static_assert(UPDATE_AHEAD_BUILD == 1, "ahead_names");
_Static_assert(SCHED_DEFAULT == 0 && SCHED_CREDIT == 1, "sched_names");
_Static_assert(SCHED_CREDIT2 == 2 && SCHED_RTDS == 3, "sched_names");
_Static_assert(SCHED_NULL == 4 && SCHED_ARINC653 == 5, "sched_names");

/* a service file: [service], [disk:NAME], [net] */
const struct key keys_service[] = {
	{ KEY("description", S_SERVICE, KT_STR), SVC(description),
	  .flags = KF_MULTI, HELP("what the service is, for status") },
	{ KEY("type", S_SERVICE, KT_ENUM), SVC(type), NAMES(type_names),
	  DEF(TYPE_DEFAULT), HELP("the guest's kind: pv or pvh") },
	{ KEY("kernel", S_SERVICE, KT_PATH), SVC(kernel), SVC_LINE(kernel_line),
	  HELP("the guest's kernel image (required)") },
	{ KEY("ramdisk", S_SERVICE, KT_PATH), SVC(ramdisk),
	  SVC_LINE(ramdisk_line), HELP("an initial ramdisk") },
	{ KEY("cmdline", S_SERVICE, KT_STR), SVC(cmdline), .flags = KF_MULTI,
	  HELP("the kernel's command line") },
	{ KEY("memory", S_SERVICE, KT_SIZE), SVC(memory), SVC_LINE(memory_line),
	  RANGE(MEMORY_MIN, MEMORY_MAX), HELP("the guest's memory (required)") },
	{ KEY("vcpus", S_SERVICE, KT_UINT), SVC(vcpus), RANGE(1, VCPUS_MAX),
	  .why = "at least 1", DEF("1"), HELP("virtual CPUs") },
	{ KEY("autostart", S_SERVICE, KT_BOOL), SVC(autostart), DEF("no"),
	  HELP("start it when domud starts") },
	{ KEY("after", S_SERVICE, KT_CUSTOM), .fn = custom_after,
	  SVC_LINE(after_line), .flags = KF_MULTI,
	  HELP("services to start before this one") },
	{ KEY("restart", S_SERVICE, KT_ENUM), SVC(restart),
	  NAMES(restart_names), DEF("on-failure"),
	  HELP("when to restart a domain that went away") },
	{ KEY("restart_delay", S_SERVICE, KT_DURATION), SVC(restart_delay_ms),
	  RANGE(100, HOUR), DEF("1s"), HELP("the first wait before a restart") },
	{ KEY("restart_delay_max", S_SERVICE, KT_DURATION),
	  SVC(restart_delay_max_ms), RANGE(100, DAY), DEF("1m"),
	  HELP("the longest wait before a restart") },
	{ KEY("restart_stable", S_SERVICE, KT_DURATION), SVC(restart_stable_ms),
	  RANGE(SEC, DAY), DEF("1m"),
	  HELP("an uptime that resets the backoff") },
	{ KEY("restart_limit", S_SERVICE, KT_UINT), SVC(restart_limit),
	  RANGE(0, 1000), DEF("5"),
	  HELP("restarts allowed within restart_window") },
	{ KEY("restart_window", S_SERVICE, KT_DURATION), SVC(restart_window_ms),
	  RANGE(SEC, 7 * DAY), DEF("10m"),
	  HELP("the window restart_limit counts in") },
	{ KEY("stop_timeout", S_SERVICE, KT_DURATION), SVC(stop_timeout_ms),
	  RANGE(0, HOUR), DEF("30s"),
	  HELP("how long a clean shutdown may take") },
	{ KEY("uuid", S_SERVICE, KT_CUSTOM), .fn = custom_uuid,
	  SVC_LINE(uuid_line), .flags = KF_LINE_IF_SET,
	  HELP("a fixed UUID (default: derived from the name)") },
	{ KEY("memres", S_SERVICE, KT_BOOL), SVC(memres), DEF("no"),
	  HELP("a channel to domud-agent in the guest") },
	{ KEY("agent_stop_timeout", S_SERVICE, KT_DURATION),
	  SVC(agent_stop_timeout_ms), RANGE(0, HOUR), DEF("10s"),
	  HELP("the agent's turn at a stop") },
	{ KEY("ping_interval", S_SERVICE, KT_DURATION), SVC(ping_interval_ms),
	  RANGE(SEC, HOUR), DEF("10s"), HELP("how often the agent is pinged") },
	{ KEY("ping_timeout", S_SERVICE, KT_DURATION), SVC(ping_timeout_ms),
	  RANGE(SEC, HOUR), DEF("30s"),
	  HELP("no answer for this long: unresponsive") },
	{ KEY("ping_restart", S_SERVICE, KT_BOOL), SVC(ping_restart), DEF("no"),
	  HELP("restart an unresponsive guest") },
	{ KEY("idle_timeout", S_SERVICE, KT_DURATION), SVC(idle_timeout_ms),
	  RANGE(0, 30 * DAY), DEF("0"),
	  HELP("stop it when unused this long; 0 = never") },
	{ KEY("agent", S_SERVICE, KT_ENUM), SVC(agent_vxn), NAMES(agent_names),
	  DEF("domud"), HELP("the guest's agent: domud-agent or vxn's") },
	{ KEY("health", S_SERVICE, KT_CUSTOM), .fn = custom_health,
	  SVC_LINE(health_line), HELP("a probe: exec:COMMAND, tcp:PORT or none") },
	{ KEY("health_interval", S_SERVICE, KT_DURATION),
	  SVC(health_interval_ms), RANGE(SEC, DAY), DEF("10s"),
	  HELP("how often the probe runs") },
	{ KEY("health_timeout", S_SERVICE, KT_DURATION), SVC(health_timeout_ms),
	  RANGE(100, HOUR), DEF("5s"),
	  HELP("a probe still running this long failed") },
	{ KEY("health_retries", S_SERVICE, KT_UINT), SVC(health_retries),
	  RANGE(1, 100), .why = "at least 1", DEF("3"),
	  HELP("failures in a row that make it unhealthy") },
	{ KEY("health_start_period", S_SERVICE, KT_DURATION),
	  SVC(health_start_period_ms), RANGE(0, DAY), DEF("0"),
	  HELP("failures after a start that do not count yet") },
	{ KEY("health_restart", S_SERVICE, KT_BOOL), SVC(health_restart),
	  SVC_LINE(health_restart_line), DEF("no"),
	  HELP("restart an unhealthy guest") },
	{ KEY("ready", S_SERVICE, KT_ENUM), SVC(ready), SVC_LINE(ready_line),
	  NAMES(ready_names),
	  HELP("when it is up for after= and start --wait") },
	{ KEY("kernel_cache", S_SERVICE, KT_BOOL), SVC(kernel_cache), DEF("yes"),
	  HELP("extract a compressed kernel once") },
	{ KEY("idle_action", S_SERVICE, KT_ENUM), SVC(idle_action),
	  SVC_LINE(idle_action_line), NAMES(idle_names), DEF("stop"),
	  HELP("what idle_timeout does: stop or pause") },
	{ KEY("standby", S_SERVICE, KT_BOOL), SVC(standby),
	  SVC_LINE(standby_line), DEF("no"),
	  HELP("keep the next domain built, paused") },
	{ KEY("update", S_SERVICE, KT_BOOL), SVC(update), SVC_LINE(update_line),
	  DEF("no"), HELP("images in A/B slots: staged, tried, rolled back") },
	{ KEY("update_key", S_SERVICE, KT_PATH), SVC(update_key),
	  SVC_LINE(update_key_line), .flags = KF_LINE_IF_SET,
	  HELP("signify public key that signs its manifests") },
	{ KEY("update_window", S_SERVICE, KT_DURATION), SVC(update_window_ms),
	  RANGE(1000, DAY), DEF("5m"),
	  HELP("healthy this long, a trial is committed") },
	{ KEY("update_ahead", S_SERVICE, KT_ENUM), SVC(update_ahead),
	  NAMES(ahead_names), DEF("boot"),
	  HELP("a switch builds (boots) the new domain while the old serves") },
	{ KEY("update_data", S_SERVICE, KT_CUSTOM), .fn = custom_update_data,
	  SVC_LINE(update_data_line), .flags = KF_MULTI,
	  HELP("vdevs of its data disks: reflink snapshot at a switch") },
	{ KEY("cpus", S_SERVICE, KT_CUSTOM), .fn = custom_cpus,
	  SVC_LINE(cpus_line), .flags = KF_LINE_IF_SET,
	  HELP("physical CPUs its vCPUs run on (hard affinity)") },
	{ KEY("cpus_soft", S_SERVICE, KT_CUSTOM), .fn = custom_cpus_soft,
	  SVC_LINE(cpus_soft_line), .flags = KF_LINE_IF_SET,
	  HELP("physical CPUs its vCPUs prefer (soft affinity)") },
	{ KEY("cpupool", S_SERVICE, KT_NAME), SVC(cpupool),
	  SVC_LINE(cpupool_line), .flags = KF_LINE_IF_SET, .max = 32,
	  .why = "not a pool name", HELP("the CPU pool it runs in") },
	{ KEY("weight", S_SERVICE, KT_UINT), SVC(weight), SVC_LINE(weight_line),
	  .flags = KF_LINE_IF_SET, RANGE(1, 65535), .why = "1 to 65535",
	  HELP("its share of the CPUs (credit, credit2)") },
	{ KEY("cap", S_SERVICE, KT_UINT), SVC(cap), SVC_LINE(cap_line),
	  .flags = KF_LINE_IF_SET, RANGE(0, 100 * VCPUS_MAX),
	  HELP("percent of one CPU at most; 0 = no cap") },
	{ KEY("period", S_SERVICE, KT_CUSTOM), .fn = custom_rtds_us,
	  SVC(period_us), SVC_LINE(period_line), .flags = KF_LINE_IF_SET,
	  HELP("the rtds scheduler's period") },
	{ KEY("budget", S_SERVICE, KT_CUSTOM), .fn = custom_rtds_us,
	  SVC(budget_us), SVC_LINE(budget_line), .flags = KF_LINE_IF_SET,
	  HELP("the rtds scheduler's budget in each period") },
	{ KEY("maxmem", S_SERVICE, KT_SIZE), SVC(maxmem), SVC_LINE(maxmem_line),
	  .flags = KF_LINE_IF_SET, RANGE(MEMORY_MIN, MEMORY_MAX),
	  HELP("the memory it may balloon up to") },
	{ KEY("pci", S_SERVICE, KT_CUSTOM), .fn = custom_pci,
	  SVC_LINE(pci_line), HELP("PCI devices passed through (x86)") },
	{ KEY("dtdev", S_SERVICE, KT_CUSTOM), .fn = custom_dtdev,
	  SVC_LINE(dtdev_line), HELP("device tree nodes passed through (ARM)") },
	{ KEY("iomem", S_SERVICE, KT_CUSTOM), .fn = custom_iomem,
	  SVC_LINE(iomem_line), HELP("machine pages mapped into the guest") },
	{ KEY("irqs", S_SERVICE, KT_CUSTOM), .fn = custom_irqs,
	  SVC_LINE(irqs_line), HELP("physical interrupts routed to the guest") },
	{ KEY("device_tree", S_SERVICE, KT_PATH), SVC(device_tree),
	  SVC_LINE(device_tree_line), HELP("a partial device tree blob (ARM)") },

	{ KEY("path", S_DISK, KT_PATH), DSK(path), DSK_LINE(path_line),
	  HELP("the disk's image or device (required)") },
	{ KEY("vdev", S_DISK, KT_CUSTOM), .fn = custom_vdev, DSK_LINE(vdev_line),
	  HELP("its name in the guest, like xvda (required)") },
	{ KEY("access", S_DISK, KT_ENUM), DSK(readwrite), NAMES(access_names),
	  DEF("rw"), HELP("ro or rw") },
	{ KEY("format", S_DISK, KT_CUSTOM), .fn = custom_format,
	  HELP("the image's format: raw") },

	{ KEY("network", S_NET, KT_NAME), SVC(network), SVC_LINE(network_line),
	  .max = 32, .why = "not a valid network name",
	  HELP("a [network:NAME] of domud.conf") },
	{ KEY("bridge", S_NET, KT_NAME), SVC(bridge), SVC_LINE(bridge_line),
	  .max = 15, .why = "not a valid interface name",
	  HELP("a bridge domud does not manage") },
	{ KEY("ip", S_NET, KT_CUSTOM), .fn = custom_ip, SVC_LINE(ip_line),
	  .flags = KF_LINE_IF_SET, HELP("auto, or a fixed address") },
	{ KEY("mac", S_NET, KT_CUSTOM), .fn = custom_mac, SVC_LINE(mac_line),
	  .flags = KF_LINE_IF_SET, HELP("auto, or a fixed MAC") },
	{ KEY("forward", S_NET, KT_CUSTOM), .fn = custom_forward,
	  SVC_LINE(forward_line), .flags = KF_MULTI,
	  HELP("host ports forwarded to the guest, like tcp:8080:80") },
};
const size_t keys_service_n = nitems(keys_service);
_Static_assert(nitems(keys_service) <= KEYS_MAX, "KEYS_MAX");

/* domud.conf: [domud], [network:NAME], [cpupool:NAME] */
const struct key keys_conf[] = {
	{ KEY("services_dir", S_DOMUD, KT_STR), DMN(services_dir),
	  HELP("the service files (default: services.d beside domud.conf)") },
	{ KEY("state_dir", S_DOMUD, KT_PATH), DMN(state_dir),
	  DEF("/var/lib/domud"), HELP("what domud keeps across restarts") },
	{ KEY("run_dir", S_DOMUD, KT_PATH), DMN(run_dir), DEF("/run/domud"),
	  HELP("the control socket and the pid file") },
	{ KEY("log_dir", S_DOMUD, KT_PATH), DMN(log_dir), DEF("/var/log/domud"),
	  HELP("the guests' console logs") },
	{ KEY("console_log_max", S_DOMUD, KT_SIZE), DMN(console_log_max),
	  RANGE(4096, 1ULL << 30), DEF("1M"),
	  HELP("the size of a console log file") },
	{ KEY("read_group", S_DOMUD, KT_NAME), DMN(read_group), .max = 32,
	  .why = "not a valid group name", DEF("domud"),
	  HELP("the group that may read status") },
	{ KEY("admin_group", S_DOMUD, KT_NAME), DMN(admin_group), .max = 32,
	  .why = "not a valid group name", DEF("domud-admin"),
	  HELP("the group that may change things") },
	{ KEY("shutdown_timeout", S_DOMUD, KT_DURATION),
	  DMN(shutdown_timeout_ms), RANGE(SEC, HOUR), DEF("2m"),
	  HELP("domud's stop: the deadline for all guests") },
	{ KEY("keep_running", S_DOMUD, KT_BOOL), DMN(keep_running), DEF("no"),
	  HELP("domud's stop leaves the guests up") },
	{ KEY("run_images", S_DOMUD, KT_PATH), DMN(run_images),
	  HELP("run --disk takes images from here only") },
	{ KEY("events_max", S_DOMUD, KT_UINT), DMN(events_max),
	  RANGE(EVENTS_MIN, EVENTS_MAX), DEF(XSTR(EVENTS_DEFAULT)),
	  HELP("the length of the event history") },
	{ KEY("metrics_file", S_DOMUD, KT_PATH), DMN(metrics_file),
	  HELP("a Prometheus textfile to write") },
	{ KEY("metrics_interval", S_DOMUD, KT_DURATION),
	  DMN(metrics_interval_ms), RANGE(SEC, HOUR), DEF("15s"),
	  HELP("how often metrics_file is written") },
	{ KEY("kernel_cache_max", S_DOMUD, KT_SIZE), DMN(kernel_cache_max),
	  RANGE(16ULL << 20, UINT64_MAX), .flags = KF_ZERO, DEF("256M"),
	  .low = "is too small for a kernel (16M at least; 0 turns the cache "
	  "off)", HELP("the kernel cache's size; 0 = none") },
	{ KEY("max_domus", S_DOMUD, KT_UINT), DMN(max_domus), RANGE(0, 4096),
	  HELP("guests at most; 0 = no limit") },

	{ KEY("bridge", S_NETWORK, KT_NAME), NTW(bridge), NTW_LINE(bridge_line),
	  .max = 15, .why = "not a valid interface name",
	  HELP("the network's bridge (required)") },
	{ KEY("subnet", S_NETWORK, KT_CUSTOM), .fn = custom_subnet,
	  NTW_LINE(subnet_line), .flags = KF_LINE_IF_SET,
	  HELP("its addresses, like 10.0.3.0/24 (required)") },
	{ KEY("gateway", S_NETWORK, KT_CUSTOM), .fn = custom_gateway,
	  NTW_LINE(gateway_line), .flags = KF_LINE_IF_SET,
	  HELP("Dom0's address on it (default: the first host)") },
	{ KEY("nat", S_NETWORK, KT_BOOL), NTW(nat), DEF("yes"),
	  HELP("masquerade its traffic out of the uplink") },
	{ KEY("uplink", S_NETWORK, KT_CUSTOM), .fn = custom_uplink,
	  HELP("auto (the default route's), or an interface") },
	{ KEY("dns", S_NETWORK, KT_CUSTOM), .fn = custom_dns,
	  HELP("name servers the guests are told of") },

	{ KEY("cpus", S_POOL, KT_CUSTOM), .fn = custom_pool_cpus,
	  POOL_LINE(cpus_line), .flags = KF_LINE_IF_SET,
	  HELP("the pool's physical CPUs (required)") },
	{ KEY("sched", S_POOL, KT_ENUM), POOL(sched), POOL_LINE(sched_line),
	  .flags = KF_LINE_IF_SET, NAMES(sched_names),
	  HELP("the pool's scheduler (default: Xen's)") },
};
const size_t keys_conf_n = nitems(keys_conf);
_Static_assert(nitems(keys_conf) <= KEYS_MAX, "KEYS_MAX");

const struct key *
keys_find(const struct key *keys, size_t n, unsigned sects, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((keys[i].sects & sects) && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* the struct the section's keys go to */
static void *
keys_obj(struct parse *p)
{
	switch (p->sect) {
	case S_DOMUD:
		return &p->cfg->d;
	case S_NETWORK:
		return p->net;
	case S_POOL:
		return p->pool;
	case S_SERVICE:
	case S_NET:
		return p->svc;
	case S_DISK:
		return p->disk;
	default:
		return NULL;
	}
}

static void
keys_set_line(const struct key *k, void *obj, int line)
{
	memcpy((char *)obj + k->line_off, &line, sizeof(line));
}

/* a continuation of the last key (its comment already cut) */
static void
keys_cont(struct parse *p, void *obj, const char *v)
{
	const struct key *k = p->last_key;

	if (k == NULL)
		return;		/* its key was already reported */
	if (!(k->flags & KF_MULTI)) {
		diag_parse(p, "%s: does not take continuation lines", k->name);
		return;
	}
	if (k->type == KT_STR)
		value_append_str((char **)(void *)((char *)obj + k->off), v);
	else
		(void)value_set(p, k, obj, v);
}

void
keys_line(struct parse *p, const char *name, const char *v)
{
	void *obj = keys_obj(p);
	const struct key *k;
	size_t i;

	if (p->kind == L_CONT) {
		keys_cont(p, obj, v);
		return;
	}
	p->last_key = NULL;
	if ((k = keys_find(p->keys, p->nkeys, p->sect, name)) == NULL) {
		diag_parse(p, "unknown key '%s'", name);
		return;
	}
	i = (size_t)(k - p->keys);
	if (p->seen[i]) {
		diag_parse(p, "duplicate key '%s'", name);
		return;
	}
	p->seen[i] = p->lineno;
	p->last_key = k;
	if (*v == '\0' && !(k->flags & KF_MULTI)) {
		diag_parse(p, "%s: empty value", name);
		return;
	}
	/* a line kept for a bad value too: the key is there, said already */
	if (k->has_line && !(k->flags & KF_LINE_IF_SET))
		keys_set_line(k, obj, p->lineno);
	if (value_set(p, k, obj, v) == KEY_SET && k->has_line &&
	    (k->flags & KF_LINE_IF_SET))
		keys_set_line(k, obj, p->lineno);
}

void
keys_defaults(const struct key *keys, size_t n, unsigned sects, void *obj)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((keys[i].sects & sects) && keys[i].def &&
		    value_set(NULL, &keys[i], obj, keys[i].def) != KEY_SET)
			fatalx("key %s: bad default '%s'", keys[i].name,
			    keys[i].def);
}

void
keys_free(const struct key *keys, size_t n, unsigned sects, void *obj)
{
	char **s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(keys[i].sects & sects) || (keys[i].type != KT_STR &&
		    keys[i].type != KT_PATH && keys[i].type != KT_NAME))
			continue;
		s = (char **)(void *)((char *)obj + keys[i].off);
		free(*s);
		*s = NULL;
	}
}
