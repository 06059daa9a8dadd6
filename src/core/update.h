/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_UPDATE_H
#define DOMUD_UPDATE_H

/*
 * update = yes: a service's images in two slots, a and b. A stage copies
 * new images into the slot that does not run and verifies them
 * (boot/slot.c); a switch runs them as a trial, committed once the
 * service stays up and healthy for update_window, rolled back to the
 * other slot on a crash, a watchdog, a failed probe, a window that ends
 * unhealthy, or by hand. Where each slot stands and which one runs is one
 * small record (update.json in the service's slot store, written whole:
 * temporary file, fsync, rename, fsync of the directory), so kill -9 of
 * domud or a power cut at any point leaves one slot to run. The
 * [state][event] table is in update.c; the record and the stage's thread
 * in updstore.c, the data volumes' snapshots in upddata.c. s->upd is
 * written by these three files only.
 */
#include <poll.h>
#include <stdint.h>

#include <yajl_gen.h>

#include "base/err.h"
#include "boot/slot.h"

struct service;

enum upd_state {
	UPS_IDLE,	/* nothing under way */
	UPS_STAGING,	/* a stage's thread copies and verifies */
	UPS_STAGED,	/* the other slot holds verified images */
	UPS_TRIAL,	/* the active slot is on trial */
	UPS__N
};

enum upd_event {
	UPE_STAGE,	/* update stage: its thread started */
	UPE_STAGE_DONE,	/* ... and finished: verified, or refused */
	UPE_SWITCH,	/* update switch: the staged slot runs, on trial */
	UPE_UP,		/* its domain runs: a trial's window starts */
	UPE_TICK,	/* the loop's round: the window, the probe's verdict */
	UPE_ENDED,	/* its run ended by the guest's doing (why: how) */
	UPE_STOPPED,	/* ... by a person's stop */
	UPE_ROLLBACK,	/* update rollback */
	UPE__N
};

enum upd_slot_state {
	SL_EMPTY,	/* nothing staged */
	SL_FACTORY,	/* the service file's own images */
	SL_STAGED,	/* verified, not run yet */
	SL_TRIAL,	/* running on trial */
	SL_GOOD,	/* committed once */
	SL_BAD,		/* its trial failed: refused until staged again */
	SL__N
};

#define UPD_SLOTS	2
#define UPD_WHY_MAX	256

struct upd_slot {
	enum upd_slot_state	 state;
	char			 gen[48];	/* its directory; "" = factory */
	struct slot_manifest	 m;
	int			 is_signed;
	int64_t			 staged_wall;
	char			 why[UPD_WHY_MAX];	/* bad: why */
};

struct upd_stage;

/* update_ahead: the switch's domain is built as the service's standby
 * (standby.c) while the old domain serves; the stop follows once built */
enum upd_ahead {
	AHEAD_NONE,
	AHEAD_BUILDING,
	AHEAD_BUILT,	/* the start takes it: wanted until then */
	AHEAD_BOOTED,	/* booted ahead too: the handover at the next round
			 * (not from within its agent's answer) */
};

/*
 * update_data: a data volume of the service (one of its own writable
 * file disks, in no slot) is snapshotted by a reflink copy beside it,
 * PATH.domud-snap, at the switch, before the record says trial; a
 * rollback renames the snapshot back over PATH before the old slot's
 * domain starts; a commit removes it once the record says committed.
 * The record names the snapshots a trial holds: one it does not name
 * goes at the next start.
 */
#define UPD_DATA_MAX	16		/* SERVICE_MAX_DISKS */
#define UPD_DATA_PATH	1024
#define UPD_SNAP_SUFFIX	".domud-snap"

struct upd_data {
	char			 vdev[8];
	char			 path[UPD_DATA_PATH];	/* the data file */
};

struct svc_update {
	enum upd_state		 state;
	/* the record (update.json) */
	int			 active;	/* 0 = a, 1 = b */
	int			 trial;		/* the active slot is on trial */
	uint32_t		 trial_domid;	/* its domain once made; 0 */
	uint32_t		 from_domid;	/* what ran when it switched */
	int64_t			 trial_end_wall; /* 0: its window has not begun */
	struct upd_slot		 slots[UPD_SLOTS];
	char			 last_result[16];	/* committed, rolled-back */
	char			 last_reason[UPD_WHY_MAX];
	int64_t			 last_wall;
	struct upd_data		 data[UPD_DATA_MAX];	/* snapshots held: by
						 * the trial, or left by a
						 * restore that failed */
	size_t			 ndata;
	/* not in the record */
	uint64_t		 commits, rollbacks, refusals;	/* since start */
	uint64_t		 trial_end;	/* mono ms; 0: not begun */
	uint64_t		 ready_by;	/* mono ms: healthy by then, or
						 * the trial fails (a probe) */
	uint64_t		 final_check;	/* a probe: the health check that
						 * began after the window: 0 */
	enum upd_ahead		 ahead;		/* the switch's domain, built
						 * while the old one serves */
	int			 keep_next_log;	/* a rollback keeps NAME.log.next:
						 * the boot ahead's */
	char			*dir;		/* the slot store; NULL: none */
	int			 broken;	/* the store is unusable: said */
	struct upd_stage	*stage;		/* the stage under way */
	int			 stage_fd;	/* its thread says done: poll */
	/* the active slot's files, for the spec (NULL: the service's) */
	char			*kernel, *ramdisk, *device_tree;
};

/* what a stage brings: its files, given by the client as descriptors */
struct upd_stage_req {
	int		 fds[SLOT_FILES_MAX + 2];
	char		 names[SLOT_FILES_MAX + 2][SLOT_FILE_NAME_MAX];
	size_t		 n;
};

typedef int upd_action(struct service *, const char *why);
extern upd_action *const upd_table[UPS__N][UPE__N];
upd_action	 upd_ignore;
/* 1: the service is to start now (a rollback after its end); else 0 */
int		 update_dispatch(struct service *, enum upd_event, const char *);

/* standby.c: the domain a switch builds ahead is built (ok) or not */
void		 update_ahead_done(struct service *, int ok);
/* standby.c: booted ahead, may it; how long its agent has to answer */
int		 update_boot_ahead(const struct service *);
uint64_t	 update_ready_allowance(const struct service *);
/* standby.c: booted ahead, the new version failed (crashed, rebooted,
 * its agent silent): rolled back, and the old domain serves on */
void		 update_ahead_failed(struct service *, const char *why);
/* svc_new: the record, if the service has slots */
void		 update_open(struct service *);
void		 update_close(struct service *);
/* its configuration was replaced (reload): update = turned on or off */
void		 update_reconf(struct service *);
/* after adoption: a trial the last domud left is resumed or ended */
void		 update_resume(struct service *);
/* the disk of a vdev in the active slot, or NULL (the service's) */
const char	*update_disk(struct service *, const char *vdev, char *, size_t);
/* the SHA-256 of the active slot's kernel as its stage verified it
 * (SLOT_SHA256_LEN bytes), or NULL (the service's kernel) */
const uint8_t	*update_kernel_sha256(const struct service *);
/* the active slot's kernel command line, or NULL (the service's) */
const char	*update_cmdline(const struct service *);
/* verbs: 0, or -1 with why (a message for the user) */
int		 update_stage(struct service *, struct upd_stage_req *,
		    char *why, size_t);
int		 update_switch(struct service *, char *why, size_t);
int		 update_rollback(struct service *, char *why, size_t);
void		 update_json(const struct service *, yajl_gen);
/* "slot", "version" of the active slot and "window_s", as members */
void		 update_active_json(const struct service *, yajl_gen);
void		 update_slot_json(const struct upd_slot *, const char *name,
		    yajl_gen);
/* the loop: the stage's thread, the window's end */
void		 update_before_poll(struct service *, struct pollfd *,
		    int *nfds, int max, int *timeout_ms);
void		 update_after_poll(struct service *, const struct pollfd *,
		    int nfds);
const char	*upd_state_str(enum upd_state);
const char	*upd_slot_state_str(enum upd_slot_state);
/* a slot's kept console log of its failed trial: the path, or NULL */
char		*update_slot_log(struct service *, const char *slot);

/* updstore.c */
int		 upd_record_write(struct service *, struct err *);
int		 upd_record_read(struct service *, struct err *);
void		 upd_paths(struct service *);
int		 upd_stage_start(struct service *, struct upd_stage_req *,
		    char *why, size_t);
/* the thread's end: 0 staged into the other slot, -1 with why */
int		 upd_stage_finish(struct service *, char *why, size_t);
void		 upd_stage_abort(struct service *);
void		 upd_gc(struct service *);
/* "factory", its manifest's version, or "no version" */
const char	*upd_slot_version(const struct upd_slot *);
/* SUFFIX: the console log it keeps, NAME.log or NAME.log.next */
void		 upd_keep_log(struct service *, int slot, const char *suffix);
/* upddata.c. update_data: snapshot each data volume (0, or -1 with why and no
 * snapshot left); put them back (rollback) or drop them (commit), a word
 * of each in msg; remove those the record does not name (at start) */
int		 upd_data_snapshot(struct service *, char *why, size_t);
void		 upd_data_restore(struct service *, char *msg, size_t);
void		 upd_data_drop(struct service *, const struct upd_data *,
		    size_t n, char *msg, size_t);
void		 upd_data_gc(struct service *);
/* the reflink copy (FICLONE): 0, or -1 with errno; tests replace it */
extern int	(*upd_clone_hook)(int dstfd, int srcfd);
/* each change to a data file or its snapshot asks this first (NULL: go
 * on): -1 fails it, as a crash there would (tests) */
extern int	(*upd_data_hook)(const char *step, const char *path);
/* a write of the record fails here when tests say so (crash points) */
extern int	(*upd_write_hook)(const char *dir, const char *name,
		    const void *, size_t, struct err *);

#endif
