/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_XENBE_H
#define DOMUD_XENBE_H

#include "xen/backend.h"

/* The libxl backend; needs root in a Xen Dom0 with xenstored running. */
struct backend *xenbe_new(struct err *);
/* the libxl domain configuration of a spec, as JSON (malloc'd); no Xen */
int	 xenbe_config_json(const struct be_domain_spec *, char **json,
	    struct err *);

#endif
