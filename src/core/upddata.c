// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * update_data: the data volumes of a service with slots (update.h). Each
 * is one of its own writable file disks, in no slot: at a switch, before
 * the record says trial, a reflink copy (FICLONE) beside it, PATH.domud-
 * snap (a reflink needs the same filesystem); on a rollback the snapshot
 * is renamed back over PATH before the old slot's domain starts; at a
 * commit it goes once the record no longer names it. The record
 * (updstore.c) names the snapshots a trial holds; one it does not name
 * goes at start. Never a full copy: no reflink, no switch.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "supervisor.h"

/* a refusal: said in why, -1 */
#define REFUSE(...)	(msgf(why, whysz, __VA_ARGS__), -1)

static const char *const slot_names[UPD_SLOTS] = { "a", "b" };

static int
clone_ficlone(int dstfd, int srcfd)
{
	return ioctl(dstfd, FICLONE, srcfd);
}

int (*upd_clone_hook)(int, int) = clone_ficlone;
int (*upd_data_hook)(const char *, const char *);

static int
data_step(const char *step, const char *path)
{
	if (upd_data_hook != NULL && upd_data_hook(step, path) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void
snap_name(char *buf, size_t sz, const char *path)
{
	snprintf(buf, sz, "%s%s", path, UPD_SNAP_SUFFIX);
}

/* the directory of path, fsynced: a rename or an unlink in it lasts */
static void
dir_sync(const char *path)
{
	char d[UPD_DATA_PATH];
	char *sl;
	int fd;

	strlcpy_(d, path, sizeof(d));
	if ((sl = strrchr(d, '/')) == NULL)
		return;
	sl[sl == d] = '\0';
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* a snapshot goes; 0, or -1 with errno (ENOENT: gone already) */
static int
snap_remove(const char *path)
{
	char snap[UPD_DATA_PATH + 16];

	snap_name(snap, sizeof(snap), path);
	if (data_step("remove", snap) == -1 || unlink(snap) == -1)
		return -1;
	dir_sync(path);
	return 0;
}

static const struct disk_conf *
data_disk(const struct service *s, const char *vdev)
{
	size_t k;

	for (k = 0; k < s->conf->ndisks; k++)
		if (s->conf->disks[k].vdev && s->conf->disks[k].path &&
		    strcmp(s->conf->disks[k].vdev, vdev) == 0)
			return &s->conf->disks[k];
	return NULL;
}

/* one data file's snapshot, with its mode and owner (it may become the
 * file); -1 with why, and nothing of it left */
static int
snap_make(const char *vdev, const char *path, char *why, size_t whysz)
{
	char snap[UPD_DATA_PATH + 16];
	struct stat st;
	int in = -1, out = -1, made = 0, err;

	snap_name(snap, sizeof(snap), path);
	if (lstat(path, &st) == -1)
		return REFUSE("data %s: %s: %s", vdev, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return REFUSE("data %s: %s is not a regular file (only files "
		    "are snapshotted; block devices, LVM volumes and symlinks "
		    "are not)", vdev, path);
	/* one the record does not name: a switch cut short */
	if (data_step("remove", snap) == 0)
		(void)unlink(snap);
	if ((in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    data_step("snapshot", snap) == -1 ||
	    (out = open(snap, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		err = errno;
		msgf(why, whysz, "data %s: %s: %s", vdev, out == -1 && in != -1
		    ? snap : path, strerror(err));
		goto fail;
	}
	made = 1;
	if (fchown(out, st.st_uid, st.st_gid) == -1 ||
	    fchmod(out, st.st_mode & 07777) == -1) {
		msgf(why, whysz, "data %s: %s: %s", vdev, snap,
		    strerror(errno));
		goto fail;
	}
	if (upd_clone_hook(out, in) == -1) {
		err = errno;
		if (err == EOPNOTSUPP || err == EINVAL || err == EXDEV ||
		    err == ENOTTY || err == ENOSYS)
			msgf(why, whysz, "data %s: %s cannot be snapshotted by "
			    "a reflink copy (%s): its filesystem does not "
			    "share extents (btrfs, or XFS made with reflink=1, "
			    "does); no switch, nothing changed", vdev, path,
			    strerror(err));
		else
			msgf(why, whysz, "data %s: the reflink copy of %s: %s",
			    vdev, path, strerror(err));
		goto fail;
	}
	if (fsync(out) == -1) {
		msgf(why, whysz, "data %s: %s: %s", vdev, snap,
		    strerror(errno));
		goto fail;
	}
	close(out);
	close(in);
	return 0;
fail:
	if (out != -1)
		close(out);
	if (in != -1)
		close(in);
	if (made && data_step("remove", snap) == 0 && unlink(snap) == 0)
		dir_sync(path);
	return -1;
}

int
upd_data_snapshot(struct service *s, char *why, size_t whysz)
{
	struct svc_update *u = &s->upd;
	struct upd_data made[UPD_DATA_MAX];
	const struct disk_conf *d;
	char snap[UPD_DATA_PATH + 16];
	size_t i, n = 0;

	/* what a rollback could not put back is a person's first */
	for (i = 0; i < u->ndata; i++) {
		snap_name(snap, sizeof(snap), u->data[i].path);
		if (access(snap, F_OK) == 0)
			return REFUSE("data %s: %s is a snapshot the last "
			    "rollback could not put back: restore it (or remove "
			    "it) by hand first", u->data[i].vdev, snap);
	}
	for (i = 0; i < s->conf->nupdate_data; i++) {
		const char *vdev = s->conf->update_data[i];
		char name[SLOT_FILE_NAME_MAX];

		/* staged before update_data named it: the slot would hide it */
		snprintf(name, sizeof(name), "disk:%s", vdev);
		if (slot_manifest_find(&u->slots[!u->active].m, name)) {
			msgf(why, whysz, "data %s: slot %s holds a %s of its "
			    "own (staged before update_data named it): stage "
			    "again without it", vdev, slot_names[!u->active],
			    name);
			goto fail;
		}
		if ((d = data_disk(s, vdev)) == NULL) {
			msgf(why, whysz, "data %s: the service has no disk "
			    "with that vdev", vdev);
			goto fail;
		}
		if (strlen(d->path) + sizeof(UPD_SNAP_SUFFIX) > UPD_DATA_PATH) {
			msgf(why, whysz, "data %s: %s: too long a path", vdev,
			    d->path);
			goto fail;
		}
		if (snap_make(vdev, d->path, why, whysz) == -1)
			goto fail;
		strlcpy_(made[n].vdev, vdev, sizeof(made[n].vdev));
		strlcpy_(made[n++].path, d->path, UPD_DATA_PATH);
		dir_sync(d->path);
	}
	memcpy(u->data, made, n * sizeof(made[0]));
	u->ndata = n;
	return 0;
fail:
	for (i = 0; i < n; i++)
		(void)snap_remove(made[i].path);
	return -1;
}

static void
say(char *msg, size_t sz, const char *fmt, const char *vdev, const char *a)
{
	size_t len;

	if (msg == NULL)
		return;
	len = strlen(msg);
	if (len + 2 < sz) {
		snprintf(msg + len, sz - len, "; ");
		len += 2;
		snprintf(msg + len, sz - len, fmt, vdev, a);
	}
}

/* back as they were at the switch: each snapshot renamed over its file
 * (the trial's domain, if it still runs, keeps the file it has open).
 * A snapshot gone is one put back already (a domud cut short after the
 * rename); one that cannot be put back stays named, for a person. */
void
upd_data_restore(struct service *s, char *msg, size_t sz)
{
	struct svc_update *u = &s->upd;
	char snap[UPD_DATA_PATH + 16];
	size_t i, kept = 0;

	for (i = 0; i < u->ndata; i++) {
		const struct upd_data *d = &u->data[i];

		snap_name(snap, sizeof(snap), d->path);
		if (data_step("restore", d->path) == 0 &&
		    rename(snap, d->path) == 0) {
			dir_sync(d->path);
			say(msg, sz, "data %s restored from its snapshot%s",
			    d->vdev, "");
			log_info("%s: update: data %s: %s restored from %s",
			    s->conf->name, d->vdev, d->path, snap);
		} else if (errno == ENOENT)
			say(msg, sz, "data %s was restored already%s", d->vdev,
			    "");
		else {
			say(msg, sz, "data %s NOT restored: its snapshot stays "
			    "at %s", d->vdev, snap);
			log_warnx("%s: update: data %s: cannot put %s back: %s",
			    s->conf->name, d->vdev, snap, strerror(errno));
			u->data[kept++] = *d;
		}
	}
	u->ndata = kept;
}

/* the snapshots a commit no longer needs (the record said so first) */
void
upd_data_drop(struct service *s, const struct upd_data *d, size_t n,
    char *msg, size_t sz)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (snap_remove(d[i].path) == -1 && errno != ENOENT)
			log_warnx("%s: update: data %s: %s%s: %s (it goes at "
			    "the next start)", s->conf->name, d[i].vdev,
			    d[i].path, UPD_SNAP_SUFFIX, strerror(errno));
		say(msg, sz, "data %s snapshot removed%s", d[i].vdev, "");
	}
}

/* a snapshot of a data volume that the record does not name: a switch
 * cut short before its record, or a commit after it */
void
upd_data_gc(struct service *s)
{
	struct svc_update *u = &s->upd;
	const struct disk_conf *d;
	size_t i, k;

	for (i = 0; i < s->conf->nupdate_data; i++) {
		char snap[UPD_DATA_PATH + 16];

		if ((d = data_disk(s, s->conf->update_data[i])) == NULL)
			continue;
		for (k = 0; k < u->ndata; k++)
			if (strcmp(u->data[k].path, d->path) == 0)
				break;
		if (k < u->ndata)
			continue;
		snap_name(snap, sizeof(snap), d->path);
		if (access(snap, F_OK) == -1)
			continue;
		if (snap_remove(d->path) == -1)
			log_warnx("%s: %s: %s", s->conf->name, snap,
			    strerror(errno));
		else
			log_info("%s: removed %s (no snapshot of the record)",
			    s->conf->name, snap);
	}
}
