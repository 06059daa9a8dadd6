/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef FAKE_BACKEND_H
#define FAKE_BACKEND_H

/* A backend for unit tests: operations are recorded, and the test decides
 * when and how they complete. Events reach the supervisor only from
 * after_poll, as with libxl. */
#include "xen/backend.h"

#define FAKE_MAX_EVENTS	64
#define FAKE_MAX_DOMS	1024	/* the scale bench runs 500 */

/* a domain the fake "runs": what list() and dominfo() report. Created
 * domains join (with the service's name and UUID), destroyed and dead ones
 * leave; a test may add others (someone else's) or change their flags. */
struct fake_dom {
	uint32_t	 domid;
	char		 name[64];
	uint8_t		 uuid[16];
	int		 paused, shutdown, dying;
	uint64_t	 cpu_ns, mem_bytes;	/* what list() reports */
};

struct fake_backend {
	struct backend	 be;
	uint64_t	 free_mem;
	uint32_t	 next_domid;
	int		 ncreate, nshutdown, ndestroy, npause;
	int		 fail_create_now;	/* create() returns -1 */
	char		 last_create[64];
	int		 last_kernel_cache;	/* the last create asked the
						 * kernel cache (kernel_prepare) */
	char		 last_kernel[512];	/* ... and its kernel, cmdline */
	uint8_t		 last_kernel_sha256[BE_SHA256_LEN];
	int		 last_has_kernel_sha256;	/* ... and its digest */
	char		 last_cmdline[512];
	struct be_event	 queue[FAKE_MAX_EVENTS];
	int		 nqueue;
	int		 inflight;
	struct be_found	 found[8];	/* what scan() reports */
	size_t		 nfound;
	int		 nadopt;
	char		 console_tty[64];	/* "" = no console */
	struct fake_dom	 doms[FAKE_MAX_DOMS];
	size_t		 ndoms;
	int		 nlist;			/* list() calls */
	struct {
		char	 name[64];
		uint8_t	 uuid[16];
	}		 creating[8];		/* create() seen, not yet done */
	size_t		 ncreating;
	int		 create_eexist;		/* create() refuses: name taken */
	int		 fail_destroy_now;	/* destroy() returns -1 */
	uint32_t	 last_destroy;		/* the domid of the last destroy() */
	int		 nstandby;		/* create() of a standby */
	int		 nactivate;		/* activate() done */
	int		 fail_activate_now;	/* activate() returns -1 */
	int		 nretire;		/* retire() done */
	int		 fail_retire_now;	/* retire() returns -1 */
	struct be_pool	 pools[8];		/* what pools() reports */
	size_t		 npools;
	int		 npool_made, npool_removed;
	int		 refuse_create;		/* create(): BE_REFUSED */
};

struct fake_backend *fake_new(uint64_t free_mem);
/* queue completions; delivered by fake_run() */
void	fake_create_done(struct fake_backend *, const char *svc, int ok);
/* a standby's create done: the paused domain's domid */
uint32_t fake_standby_done(struct fake_backend *, const char *svc, int ok);
void	fake_shutdown(struct fake_backend *, const char *svc, uint32_t domid,
	    enum shutdown_reason);
void	fake_died(struct fake_backend *, const char *svc, uint32_t domid);
void	fake_destroy_done(struct fake_backend *, const char *svc, uint32_t domid);
/* the death of a domain no destroy of ours was for: `xl destroy` */
void	fake_destroyed_outside(struct fake_backend *, const char *svc,
	    uint32_t domid);
void	fake_destroy_failed(struct fake_backend *, const char *svc,
	    uint32_t domid, const char *msg);
/* the domains list() reports */
struct fake_dom *fake_dom(struct fake_backend *, uint32_t domid);
struct fake_dom *fake_dom_add(struct fake_backend *, const char *name,
	    uint32_t domid, const uint8_t *uuid);
void	fake_dom_remove(struct fake_backend *, uint32_t domid);
/* deliver queued events as after_poll would */
void	fake_run(struct fake_backend *);

#endif
