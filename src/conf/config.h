/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_CONFIG_H
#define DOMUD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef DOMUD_SYSCONFDIR
#define DOMUD_SYSCONFDIR	"/etc"		/* the Makefile passes SYSCONFDIR */
#endif
#define DOMUD_CONF		DOMUD_SYSCONFDIR "/domud/domud.conf"
#define SERVICE_NAME_MAX	48	/* becomes the Xen domain name; = PROTO_NAME_MAX */
#define CONFIG_FILE_MAX		(1024 * 1024)
#define SERVICE_MAX_DISKS	16
#define SERVICE_MAX_AFTER	32
#define HEALTH_CMD_MAX		1024	/* health = exec:... */
#define MEMORY_MIN		(16ULL << 20)
#define MEMORY_MAX		(1ULL << 40)
#define VCPUS_MAX		128
#define NETWORK_MAX		16
#define NET_DNS_MAX		3
#define SERVICE_MAX_FORWARDS	32
#define FORWARD_EXPAND_MAX	256	/* ports of a shifted range */

#define CPUS_MAX		256	/* physical CPUs a cpuset can name */
#define CPUPOOLS_MAX		8
#define SERVICE_MAX_PCI		8
#define SERVICE_MAX_DTDEV	8
#define SERVICE_MAX_IOMEM	8
#define SERVICE_MAX_IRQS	16
#define EVENTS_DEFAULT		256	/* events_max: the event history */
#define EVENTS_MIN		16
#define EVENTS_MAX		65536

enum svc_type { SVC_PV, SVC_PVH };

/* a set of physical CPUs (cpus =, [cpupool:NAME] cpus =) */
struct cpuset {
	uint64_t	 bits[CPUS_MAX / 64];
};

static inline void
cpuset_set(struct cpuset *c, unsigned cpu)
{
	if (cpu < CPUS_MAX)
		c->bits[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline int
cpuset_has(const struct cpuset *c, unsigned cpu)
{
	return cpu < CPUS_MAX && (c->bits[cpu / 64] >> (cpu % 64) & 1);
}

/* the highest CPU in it, -1 if empty */
static inline int
cpuset_last(const struct cpuset *c)
{
	int i;

	for (i = CPUS_MAX - 1; i >= 0; i--)
		if (cpuset_has(c, (unsigned)i))
			return i;
	return -1;
}

/* Xen's schedulers, as a cpupool or a service names them */
enum sched_kind { SCHED_DEFAULT, SCHED_CREDIT, SCHED_CREDIT2, SCHED_RTDS,
	SCHED_NULL, SCHED_ARINC653 };

static inline const char *
sched_kind_str(enum sched_kind k)
{
	switch (k) {
	case SCHED_DEFAULT:	return "default";
	case SCHED_CREDIT:	return "credit";
	case SCHED_CREDIT2:	return "credit2";
	case SCHED_RTDS:	return "rtds";
	case SCHED_NULL:	return "null";
	case SCHED_ARINC653:	return "arinc653";
	}
	return "?";
}

/* [cpupool:NAME] in domud.conf */
struct pool_conf {
	char		*name;
	int		 line;
	struct cpuset	 cpus;
	int		 cpus_line;		/* 0 = absent or bad */
	int		 cpus_seen;
	enum sched_kind	 sched;
	int		 sched_line;
};

/* pci = 0000:03:00.0[,seize] */
struct pci_conf {
	uint16_t	 domain;
	uint8_t		 bus, dev, func;
	int		 seize;		/* take it from its Dom0 driver */
};

/* iomem = 0xMFN,PAGES[@0xGFN] (pages of 4 KiB) */
struct iomem_conf {
	uint64_t	 start, count, gfn;
	int		 has_gfn;
};
enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct disk_conf {
	char		*name;		/* [disk:NAME] */
	char		*path;
	char		*vdev;
	int		 readwrite;
	int		 line;
	int		 path_line, vdev_line;	/* 0 = key absent */
};

/* [network:NAME] in domud.conf: a bridge with a gateway address, NAT */
struct net_conf {
	char		*name;
	int		 line;
	char		*bridge;
	int		 bridge_line;
	uint32_t	 subnet;		/* host byte order */
	unsigned	 prefix;
	int		 subnet_line;		/* 0 = absent or bad */
	int		 subnet_seen;
	uint32_t	 gateway;		/* 0 = first host of the subnet */
	int		 gateway_line;
	int		 nat;
	char		*uplink;		/* NULL = auto: default route */
	uint32_t	 dns[NET_DNS_MAX];
	size_t		 ndns;
};

/* forward = tcp:8080:80 or tcp:9000-9010:9000-9010 */
struct forward_conf {
	int		 proto;			/* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t	 host_lo, host_hi;
	uint16_t	 guest_lo, guest_hi;
};

struct service_conf {
	char		*name;
	char		*file;
	int		 line;		/* of [service], for file-level messages */
	int		 errors;	/* > 0: broken, not run */

	char		*description;
	enum svc_type	 type;
	char		*kernel;
	int		 kernel_line;
	char		*ramdisk;
	int		 ramdisk_line;
	char		*cmdline;
	uint64_t	 memory;	/* bytes */
	int		 memory_line;
	unsigned	 vcpus;
	int		 autostart;
	char		*after[SERVICE_MAX_AFTER];
	size_t		 nafter;
	int		 after_line;

	enum restart_policy restart;
	uint64_t	 restart_delay_ms;	/* first backoff */
	uint64_t	 restart_delay_max_ms;	/* backoff cap */
	uint64_t	 restart_stable_ms;	/* uptime that resets backoff */
	unsigned	 restart_limit;		/* budget: restarts ... */
	uint64_t	 restart_window_ms;	/* ... within this window */
	uint64_t	 stop_timeout_ms;

	int		 memres;		/* a channel to domud-agent */
	int		 agent_vxn;		/* ... or vxn's legacy markers */
	uint64_t	 agent_stop_timeout_ms;	/* stop: the agent's turn */
	uint64_t	 ping_interval_ms;
	uint64_t	 ping_timeout_ms;	/* unanswered: unresponsive */
	int		 ping_restart;		/* ... and then restart */
	uint64_t	 idle_timeout_ms;	/* stop when unused; 0 = never */
	enum idle_action { IDLE_STOP, IDLE_PAUSE } idle_action;
	int		 idle_action_line;

	/* the health probe (core/health.c) */
	enum health_kind { HEALTH_NONE, HEALTH_EXEC, HEALTH_TCP } health;
	char		*health_cmd;		/* exec: a shell command */
	uint16_t	 health_port;		/* tcp: on the guest's address */
	int		 health_line;
	uint64_t	 health_interval_ms;
	uint64_t	 health_timeout_ms;	/* a probe still running: failed */
	uint64_t	 health_start_period_ms; /* failures do not count yet */
	unsigned	 health_retries;	/* failures in a row: unhealthy */
	int		 health_restart;	/* unhealthy: stop, as a failure */
	int		 health_restart_line;
	int		 kernel_cache;		/* extract a compressed kernel once */
	int		 standby;		/* keep the next domain built, paused */
	int		 standby_line;
	int		 update;		/* images in A/B slots (update.c) */
	int		 update_line;
	char		*update_key;		/* signify public key: manifests
						 * must be signed by it */
	int		 update_key_line;
	uint64_t	 update_window_ms;	/* healthy this long: committed */
	/* a switch makes the new slot's domain while the old serves:
	 * no, built (paused), or booted where its agent tells it is up */
	enum update_ahead { UPDATE_AHEAD_NO, UPDATE_AHEAD_BUILD,
		UPDATE_AHEAD_BOOT } update_ahead;
	char		*update_data[SERVICE_MAX_DISKS];	/* vdevs of its
						 * data volumes: snapshotted at
						 * a switch (update.c) */
	size_t		 nupdate_data;
	int		 update_data_line;

	/* partitioning (conf/partition.c) */
	struct cpuset	*cpus;			/* hard affinity: one set for all
						 * vCPUs, or one per vCPU */
	size_t		 ncpus;			/* 0 = anywhere */
	int		 cpus_line;
	struct cpuset	*cpus_soft;
	size_t		 ncpus_soft;
	int		 cpus_soft_line;
	char		*cpupool;		/* NULL = Pool-0 */
	int		 cpupool_line;
	int		 weight, cap;		/* credit, credit2; 0 = default */
	int		 weight_line, cap_line;
	uint32_t	 period_us, budget_us;	/* rtds; 0 = default */
	int		 period_line, budget_line;
	uint64_t	 maxmem;		/* bytes; 0 = memory */
	int		 maxmem_line;
	struct pci_conf	 pci[SERVICE_MAX_PCI];
	size_t		 npci;
	int		 pci_line;
	char		*dtdev[SERVICE_MAX_DTDEV];
	size_t		 ndtdev;
	int		 dtdev_line;
	struct iomem_conf iomem[SERVICE_MAX_IOMEM];
	size_t		 niomem;
	int		 iomem_line;
	uint32_t	 irqs[SERVICE_MAX_IRQS];
	size_t		 nirqs;
	int		 irqs_line;
	char		*device_tree;		/* partial DT blob (ARM) */
	int		 device_tree_line;
	/* when it is up for after= and start --wait */
	enum ready_when { READY_RUNNING, READY_AGENT, READY_HEALTH } ready;
	int		 ready_line;

	uint8_t		 uuid[16];		/* fixed per service */
	int		 uuid_line;

	struct disk_conf disks[SERVICE_MAX_DISKS];
	size_t		 ndisks;

	int		 has_net;
	int		 net_line;
	char		*network;		/* [network:NAME], or ... */
	int		 network_line;
	char		*bridge;		/* ... a bridge domud does not manage */
	int		 bridge_line;
	uint32_t	 ip;			/* fixed address, 0 = auto */
	int		 ip_line;
	uint8_t		 mac[6];		/* fixed, or resolved by the leases */
	int		 mac_line;		/* 0 = auto */
	struct forward_conf fwd[SERVICE_MAX_FORWARDS];
	size_t		 nfwd;
	int		 forward_line;
	uint32_t	 addr;			/* resolved: fixed or leased */
};

struct daemon_conf {
	char		*services_dir;
	char		*state_dir;
	char		*run_dir;
	char		*log_dir;
	uint64_t	 console_log_max;	/* bytes per console log file */
	char		*read_group;
	char		*admin_group;
	uint64_t	 shutdown_timeout_ms;	/* daemon stop: overall deadline */
	int		 keep_running;		/* daemon stop: leave DomUs up */
	char		*run_images;		/* run --disk: images only from
						 * here; NULL = STATE_DIR/run-images */
	size_t		 events_max;		/* the event history's length */
	char		*metrics_file;		/* Prometheus textfile; NULL = none */
	uint64_t	 metrics_interval_ms;
	uint64_t	 kernel_cache_max;	/* bytes; 0 = no kernel cache */
	unsigned	 max_domus;		/* 0 = no limit */
};

struct diag {
	char		*text;			/* "file:line: message" */
	int		 is_error;
};

struct config {
	char		*path;			/* domud.conf */
	struct daemon_conf d;
	struct net_conf	*nets[NETWORK_MAX];
	size_t		 nnets;
	struct pool_conf *pools[CPUPOOLS_MAX];
	size_t		 npools;
	struct service_conf **svcs;		/* sorted by name */
	size_t		 nsvcs;
	struct diag	*diags;
	size_t		 ndiags;
	unsigned	 errors;
	unsigned	 warnings;
	unsigned	 conf_errors;		/* in domud.conf itself */
	int		 any_arch;		/* keys of another arch are no
						 * error (tests build its config) */
};

/* Parse domud.conf and every service file. Never fails as a whole:
 * problems are diagnostics; services with errors are marked broken. */
struct config		*config_load(const char *path);
struct config		*config_new(const char *path);
void			 config_add_service(struct config *, struct service_conf *);
void			 config_finish(struct config *);
void			 config_free(struct config *);
void			 config_print_diags(const struct config *, FILE *);
struct service_conf	*config_find(const struct config *, const char *name);
struct net_conf		*config_find_net(const struct config *, const char *name);
struct pool_conf	*config_find_pool(const struct config *, const char *name);
/* the network a service is on, NULL for none or an unmanaged bridge */
struct net_conf		*config_service_net(const struct config *,
			    const struct service_conf *);
const char		*service_bridge(const struct config *,
			    const struct service_conf *);
void			 service_auto_mac(const char *name, unsigned tiebreak,
			    uint8_t mac[6]);
void			 config_diag(struct config *, const char *file, int line,
			    int is_error, const char *fmt, ...)
			    __attribute__((format(printf, 5, 6)));

/* Parse domud.conf (cfg->path) from memory (fuzzing, tests); its
 * services are added with config_add_service, then config_finish. */
void			 config_parse_conf(struct config *, const char *buf,
			    size_t len);
/* Parse one service from memory (fuzzing, tests). */
struct service_conf	*config_parse_service(struct config *, const char *name,
			    const char *file, const char *buf, size_t len);
void			 service_conf_free(struct service_conf *);
int			 service_conf_same_domain(const struct service_conf *,
			    const struct service_conf *);

const char		*restart_policy_str(enum restart_policy);

#endif
