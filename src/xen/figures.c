// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What is asked of Xen, changing nothing: free and needed memory, a
 * domain's info, its devices and blkback's counters, its console's path
 * (checked by tty.c). Calls xenbe.c (xb_of, xb_err), build.c
 * (xb_build_config) and tty.c.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen/backend.h"
#include "conf/config.h"
#include "base/util.h"
#include "tty.h"
#include "xenbe_int.h"

int
xb_free_memory(struct backend *be, uint64_t *bytes, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	uint64_t kb;
	int rc;

	rc = libxl_get_free_memory(xb->ctx, &kb);
	if (rc)
		return xb_err(xb, e, rc, "free memory");
	*bytes = kb * 1024;
	return 0;
}

int
xb_need_memory(struct backend *be, const struct be_domain_spec *sp,
    uint64_t *bytes, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_domain_config c;
	uint64_t kb = 0;
	int rc, ret = -1;

	libxl_domain_config_init(&c);
	if (xb_build_config(xb, sp, &c, e) == -1)
		goto out;
	rc = libxl_domain_need_memory(xb->ctx, &c, 0, &kb);
	if (rc) {
		xb_err(xb, e, rc, "memory needed");
		goto out;
	}
	*bytes = kb * 1024;
	ret = 0;
out:
	libxl_domain_config_dispose(&c);
	return ret;
}

int
xb_dominfo(struct backend *be, uint32_t domid, struct be_dominfo *out,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_dominfo info;
	int rc;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(xb->ctx, &info, domid);
	if (rc) {
		libxl_dominfo_dispose(&info);
		return xb_err(xb, e, rc, "domain info");
	}
	memset(out, 0, sizeof(*out));
	out->domid = domid;
	out->memory = info.current_memkb * 1024;
	out->running = info.running;
	out->paused = info.paused;
	out->shutdown = info.shutdown;
	out->dying = info.dying;
	libxl_dominfo_dispose(&info);
	out->start_time = (time_t)libxl_vm_get_start_time(xb->ctx, domid);
	return 0;
}

char *
xb_console_path(struct backend *be, uint32_t domid, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	char *path = NULL, real[256];
	int rc;

	rc = libxl_primary_console_get_tty(xb->ctx, domid, &path);
	if (rc) {
		xb_err(xb, e, rc, "console tty");
		return NULL;
	}
	/* the guest may be able to write what xenstore says: check first,
	 * and hand on the resolved path, which is what was checked */
	rc = xen_tty_check(path, real, sizeof(real), e);
	free(path);
	if (rc == -1)
		return NULL;
	return xstrdup(real);
}

int
xb_disk_list(struct backend *be, uint32_t domid, char (*vdevs)[BE_VDEV_MAX],
    size_t max, size_t *n, struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_device_disk *d;
	int num = 0, i;

	*n = 0;
	if ((d = libxl_device_disk_list(xb->ctx, domid, &num)) == NULL)
		return 0;	/* none, or the domain is gone */
	for (i = 0; i < num && *n < max; i++)
		if (d[i].vdev)
			strlcpy_(vdevs[(*n)++], d[i].vdev, BE_VDEV_MAX);
	libxl_device_disk_list_free(d, num);
	(void)e;
	return 0;
}

/* one counter of blkback's sysfs statistics, 0 when unreadable */
static int
vbd_stat(uint32_t domid, int devid, const char *name, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/vbd-%u-%d/"
	    "statistics/%s", domid, devid, name);
	*v = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

int
xb_devices(struct backend *be, uint32_t domid, struct be_devices *out,
    struct err *e)
{
	struct xenbe *xb = xb_of(be);
	libxl_device_disk *d;
	libxl_device_nic *nic;
	int num = 0, i;

	(void)e;
	memset(out, 0, sizeof(*out));
	if ((d = libxl_device_disk_list(xb->ctx, domid, &num)) != NULL) {
		for (i = 0; i < num && out->ndisks < BE_DEVS_MAX; i++) {
			struct be_disk_stat *ds = &out->disks[out->ndisks];
			libxl_diskinfo info;

			if (d[i].vdev == NULL)
				continue;
			strlcpy_(ds->vdev, d[i].vdev, sizeof(ds->vdev));
			libxl_diskinfo_init(&info);
			if (libxl_device_disk_getinfo(xb->ctx, domid, &d[i],
			    &info) == 0)
				ds->has_stats = vbd_stat(domid, info.devid,
				    "rd_req", &ds->rd_req) == 0 &&
				    vbd_stat(domid, info.devid, "wr_req",
				    &ds->wr_req) == 0 &&
				    vbd_stat(domid, info.devid, "rd_sect",
				    &ds->rd_sect) == 0 &&
				    vbd_stat(domid, info.devid, "wr_sect",
				    &ds->wr_sect) == 0;
			libxl_diskinfo_dispose(&info);
			out->ndisks++;
		}
		libxl_device_disk_list_free(d, num);
	}
	num = 0;
	if ((nic = libxl_device_nic_list(xb->ctx, domid, &num)) != NULL) {
		for (i = 0; i < num && out->nvifs < BE_DEVS_MAX; i++)
			/* libxl's name for a PV vif's backend in Dom0 */
			snprintf(out->vifs[out->nvifs++], sizeof(out->vifs[0]),
			    "vif%u.%d", domid, nic[i].devid);
		libxl_device_nic_list_free(nic, num);
	}
	xb->logger->last_error[0] = '\0';	/* a gone domain is no error */
	return 0;
}
