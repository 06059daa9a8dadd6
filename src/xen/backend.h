/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_BACKEND_H
#define DOMUD_BACKEND_H

/*
 * The interface libxl sits behind (src/xen/, its ops table in xenbe.c);
 * unit tests put a fake behind it (tests/unit/fake_backend.c). Operations are asynchronous: they
 * return at once and report through notify(), always from after_poll() and
 * never from inside the operation call, so the supervisor is never re-entered.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

#include "conf/config.h"
#include "base/err.h"

#define INVALID_DOMID_ ((uint32_t)~0u)

/*
 * A standby (standby = yes) is the service's next domain, built and left
 * paused under a name no service can have (service names take no '@');
 * activate renames it to the service's name and unpauses it. Xen keys a
 * domain's /vm directory on its UUID, so the standby takes the twin of the
 * UUID its running sibling has: the service's own with the last bit
 * flipped.
 */
#define BE_STANDBY_SUFFIX	"@standby"
/* a domain a switch handed over: powering off under this name, tagged as a
 * standby (a domain no service waits for) */
#define BE_RETIRING_SUFFIX	"@retiring"
#define BE_NAME_MAX		(SERVICE_NAME_MAX + sizeof(BE_RETIRING_SUFFIX))
#define BE_SHA256_LEN		32

static inline void
be_uuid_twin(uint8_t out[16], const uint8_t in[16])
{
	int i;

	for (i = 0; i < 16; i++)
		out[i] = in[i];
	out[15] ^= 1;
}

enum be_event_type {
	BE_CREATED,		/* created and unpaused: running */
	BE_CREATE_FAILED,
	BE_SHUTDOWN,		/* the domain shut down; it still needs destroy */
	BE_DIED,		/* the domain is gone */
	BE_DESTROYED,		/* a destroy we asked for finished */
	BE_DESTROY_FAILED,
	BE_DISK_DONE,		/* a disk attach or detach finished (token) */
};

/* SR_DESTROYED comes with BE_DIED only: the domain died without a
 * shutdown, and not by a destroy of ours (someone ran `xl destroy`) */
enum shutdown_reason {
	SR_NONE, SR_POWEROFF, SR_REBOOT, SR_SUSPEND, SR_CRASH, SR_WATCHDOG,
	SR_SOFT_RESET, SR_UNKNOWN, SR_DESTROYED,
};

/* Events name the service rather than point to it: a service may be gone
 * (reload) by the time a late event about its old domain arrives. */
struct be_event {
	enum be_event_type	 type;
	char			 svc[SERVICE_NAME_MAX + 1];
	uint32_t		 domid;
	enum shutdown_reason	 reason;
	struct err		 err;
	uint64_t		 token;		/* BE_DISK_DONE: whose */
	int			 ok;
	int			 standby;	/* about a standby domain */
	/* BE_CREATED: libxl's create (domain build and devices: its API
	 * does not tell them apart), then the unpause, in ms; before them,
	 * the kernel from the cache (extracted, if it was not there) */
	uint64_t		 create_ms, unpause_ms, kernel_ms;
	enum be_kernel_from {
		BE_KERNEL_AS_IS,	/* no cache asked, or nothing to do */
		BE_KERNEL_CACHED,	/* found in the cache */
		BE_KERNEL_EXTRACTED,	/* extracted now, then cached */
		BE_KERNEL_FALLBACK,	/* could not be had: the image as is */
	}			 kernel_from;
};

#define BE_VDEV_MAX	16
#define BE_DEVS_MAX	16

/* a domain's devices, with what their Dom0 backends count */
struct be_devices {
	struct be_disk_stat {
		char		 vdev[BE_VDEV_MAX];
		uint64_t	 rd_req, wr_req, rd_sect, wr_sect; /* 512 B */
		int		 has_stats;	/* blkback's statistics found */
	}		 disks[BE_DEVS_MAX];
	size_t		 ndisks;
	/* the backend network interface of each vif in Dom0 */
	char		 vifs[BE_DEVS_MAX][32];
	size_t		 nvifs;
};

/*
 * Everything a backend needs to build one domain, filled by the service
 * model (core/spec.c) from the service's configuration and the network
 * (its address settings are already in cmdline and xsdata). The backend
 * copies what it keeps: the spec only lives for the call.
 */
struct be_disk {
	const char		*path;
	const char		*vdev;
	int			 readwrite;
};

struct be_vif {
	const char		*bridge;
	uint8_t			 mac[6];
};

enum be_dom_type { BE_PV, BE_PVH };

struct be_domain_spec {
	const char		*name;		/* the Xen name: the service's */
	uint8_t			 uuid[16];	/* fixed per service */
	enum be_dom_type	 type;
	const char		*kernel;
	const char		*ramdisk;	/* NULL = none */
	const char		*cmdline;	/* final, network words included */
	char *const		*xsdata;	/* key, value, ..., NULL; or NULL */
	const struct be_disk	*disks;
	size_t			 ndisks;
	const struct be_vif	*vifs;
	size_t			 nvifs;
	uint64_t		 memory;	/* bytes */
	unsigned		 vcpus;
	/* the file to load instead of kernel (the kernel cache): called on
	 * the builder thread, off the loop; NULL = none. Returns a malloc'd
	 * path, or NULL with e (kernel is loaded as it is); *hit: it was
	 * cached already. sha256: kernel_sha256's copy, or NULL */
	char			*(*kernel_prepare)(void *arg, const char *kernel,
				    const uint8_t *sha256, int *hit,
				    struct err *e);
	void			*kernel_arg;
	/* the kernel's SHA-256 (BE_SHA256_LEN bytes) when verified already
	 * (an update slot's), passed on to kernel_prepare; NULL = unknown */
	const uint8_t		*kernel_sha256;
	/* build it paused as the service's standby (named NAME@standby,
	 * tagged as such): BE_CREATED comes with standby set, and the
	 * domain runs only after activate */
	int			 standby;
	/* partitioning: where it runs, how it is scheduled, what it owns */
	const struct cpuset	*cpus;		/* hard affinity: 1 or per vCPU */
	size_t			 ncpus;		/* 0 = anywhere */
	const struct cpuset	*cpus_soft;
	size_t			 ncpus_soft;
	const char		*cpupool;	/* NULL = Pool-0 */
	int			 weight, cap;	/* 0 = the scheduler's default */
	uint32_t		 period_us, budget_us;
	uint64_t		 maxmem;	/* bytes; 0 = memory */
	const struct pci_conf	*pci;
	size_t			 npci;
	char *const		*dtdev;
	size_t			 ndtdev;
	const struct iomem_conf	*iomem;
	size_t			 niomem;
	const uint32_t		*irqs;
	size_t			 nirqs;
	const char		*device_tree;
};

/* a start the machine cannot do (a CPU it lacks, no IOMMU, a pool that
 * is not there): the create's error status; refused, never retried */
#define BE_REFUSED	ENXIO

/* a cpupool, as Xen has it */
struct be_pool {
	char			 name[64];
	uint32_t		 id;
	enum sched_kind		 sched;
	struct cpuset		 cpus;
	unsigned		 ndoms;
};

/* where a domain runs and how it is scheduled */
#define BE_VCPUS_SHOWN	16
struct be_placement {
	char			 pool[64];
	enum sched_kind		 sched;
	int			 weight, cap;		/* credit, credit2 */
	int			 period_us, budget_us;	/* rtds */
	unsigned		 nvcpus;		/* of vcpu[] filled */
	struct {
		int		 cpu;		/* where it runs; -1 = nowhere */
		struct cpuset	 hard, soft;
	}			 vcpu[BE_VCPUS_SHOWN];
};

struct be_dominfo {
	uint32_t		 domid;
	time_t			 start_time;	/* wall clock, display only */
	uint64_t		 memory;	/* bytes */
	int			 running, paused, shutdown, dying;
};

/* a domain found at start that may be one of ours (see sup_adopt), or
 * one domain of the periodic listing (list: no tag, no has_config) */
struct be_found {
	uint32_t		 domid;
	char			 name[64];
	uint8_t			 uuid[16];
	char			 tag[SERVICE_NAME_MAX + 1];	/* "" = untagged */
	int			 standby;	/* tagged as a standby */
	int			 has_config;	/* libxl's own record of it */
	int			 paused, shutdown, dying;
	/* what Xen counts for it (list and scan) */
	uint64_t		 cpu_ns;	/* CPU time used, all vCPUs */
	uint64_t		 mem_bytes, max_mem_bytes;
	int			 vcpus_online;
	enum shutdown_reason	 reason;
};

struct backend;

struct backend_ops {
	const char *name;
	/* async: BE_CREATED (with domid) or BE_CREATE_FAILED; EEXIST when
	 * a domain of that name exists already */
	int	(*create)(struct backend *, const struct be_domain_spec *,
		    struct err *);
	/* what the machine must have for it (its CPUs, its pool, an IOMMU
	 * and assignable devices for passthrough), asked before admission;
	 * -1 with BE_REFUSED and the reason. NULL: nothing to check */
	int	(*check)(struct backend *, const struct be_domain_spec *,
		    struct err *);
	/* asks the guest to shut down; BE_SHUTDOWN follows if it obeys */
	int	(*shutdown)(struct backend *, const char *svc, uint32_t domid,
		    struct err *);
	/* async: BE_DESTROYED or BE_DESTROY_FAILED */
	int	(*destroy)(struct backend *, const char *svc, uint32_t domid,
		    struct err *);
	int	(*free_memory)(struct backend *, uint64_t *bytes, struct err *);
	/* what creating this domain takes from Xen, overhead included */
	int	(*need_memory)(struct backend *, const struct be_domain_spec *,
		    uint64_t *bytes, struct err *);
	int	(*dominfo)(struct backend *, uint32_t domid, struct be_dominfo *,
		    struct err *);
	/* every domain but Dom0; *found is malloc'd */
	int	(*scan)(struct backend *, struct be_found **found, size_t *n,
		    struct err *);
	/* every domain but Dom0, cheaply (domid, name, uuid, paused,
	 * shutdown, dying): the supervisor's periodic look at what Xen
	 * runs; *found is malloc'd. NULL in backends that cannot. */
	int	(*list)(struct backend *, struct be_found **found, size_t *n,
		    struct err *);
	/* take over a running domain: watch it; unpause it if it was left
	 * paused between build and unpause (it never ran) */
	int	(*adopt)(struct backend *, const char *svc, uint32_t domid,
		    struct err *);
	/* hot-plug a read-only raw image / take a disk away: async, one
	 * BE_DISK_DONE with the token; NULL in backends without disks */
	int	(*disk_attach)(struct backend *, const char *svc, uint32_t domid,
		    const char *path, const char *vdev, uint64_t token,
		    struct err *);
	int	(*disk_detach)(struct backend *, const char *svc, uint32_t domid,
		    const char *vdev, uint64_t token, struct err *);
	/* its disks (with blkback's counters) and vifs; NULL in backends
	 * without devices */
	/* a standby becomes the service's domain: renamed to svc, tagged as
	 * running, unpaused; quick, synchronous. NULL: no standbys */
	int	(*activate)(struct backend *, const char *svc, uint32_t domid,
		    struct err *);
	/* the service's domain steps aside for its standby: renamed
	 * svc@retiring, tagged as a standby; quick, synchronous. NULL: no
	 * handover (the old domain stops first) */
	int	(*retire)(struct backend *, const char *svc, uint32_t domid,
		    struct err *);
	/* pause (1) or unpause (0) a running domain; quick, synchronous */
	int	(*pause)(struct backend *, uint32_t domid, int pause,
		    struct err *);
	int	(*devices)(struct backend *, uint32_t domid, struct be_devices *,
		    struct err *);
	/* cpupools: made as domud.conf says (one that exists is adopted if
	 * it matches, changed if it has no domain, else an error; *made: it
	 * was created now), taken away (its CPUs back to Pool-0), listed */
	int	(*pool_ensure)(struct backend *, const struct pool_conf *,
		    int *made, struct err *);
	int	(*pool_remove)(struct backend *, const char *name, struct err *);
	/* what pool_ensure would refuse, changing nothing (domud -n) */
	int	(*pool_check)(struct backend *, const struct pool_conf *,
		    struct err *);
	int	(*pools)(struct backend *, struct be_pool **, size_t *,
		    struct err *);
	int	(*placement)(struct backend *, uint32_t domid,
		    struct be_placement *, struct err *);
	/* the vdevs of a domain's disks */
	int	(*disk_list)(struct backend *, uint32_t domid,
		    char (*vdevs)[BE_VDEV_MAX], size_t max, size_t *n,
		    struct err *);
	/* the console PTY of a running domain, resolved and checked to be a
	 * pty slave under /dev/pts/ (anything else is refused); malloc'd */
	char	*(*console_path)(struct backend *, uint32_t domid, struct err *);
	/* poll integration: add fds from *nfds up to max, lower *timeout_ms */
	int	(*before_poll)(struct backend *, struct pollfd *, int *nfds, int max,
		    int *timeout_ms);
	void	(*after_poll)(struct backend *, struct pollfd *, int nfds);
	/* 1 when no operation is in flight (safe to exit) */
	int	(*idle)(struct backend *);
	void	(*free)(struct backend *);
};

struct backend {
	const struct backend_ops *ops;
	void	(*notify)(void *arg, const struct be_event *);
	void	*notify_arg;
};

#endif
