/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_XENBE_H
#define DOMUD_XENBE_H

#include "core/backend.h"

/* The libxl backend; needs root in a Xen Dom0 with xenstored running. */
struct backend *xenbe_new(struct err *);

#endif
