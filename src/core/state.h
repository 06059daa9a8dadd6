/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_STATE_H
#define DOMUD_STATE_H

/*
 * What must survive a daemon restart within one boot, in
 * STATE_DIR/state.json: services that failed (and why), services a person
 * stopped (autostart leaves them alone), restart counts. Running domains
 * need no state file: Xen keeps them, and adoption finds them. A new boot
 * (another /proc/sys/kernel/random/boot_id) starts from the configuration.
 */
struct supervisor;

#define STATE_VERSION	1
#define STATE_FILE	"state.json"
#define STATE_MAX	(256 * 1024)

#include <stddef.h>

/* the file that says which boot this is; a unit test points it at its own */
extern const char *state_boot_id_path;

/* write, fsync, rename, fsync the directory; 0 or -1 (logged) */
int	state_save(struct supervisor *);
/* apply a saved state to services that are stopped; missing is fine */
void	state_load(struct supervisor *);

#endif
