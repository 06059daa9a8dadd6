/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_XENBE_INT_H
#define DOMUD_XENBE_INT_H

/*
 * What the files of the libxl backend share among themselves, and nothing
 * outside src/xen includes: the context (struct xenbe), libxl's
 * asynchronous operations, the watched domains, the builders, and the
 * functions one file gives the others (xb_), by file. LIBXL_API_VERSION is
 * set here, before libxl.h: the files include libxl through this header.
 */
#define LIBXL_API_VERSION 0x041400

#include <pthread.h>
#include <stdint.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "xen/backend.h"
#include "conf/config.h"

#define USERDATA_TAG	"domud"

/* OP_CREATE: the destroy that undoes a create whose last steps failed */
enum op_kind { OP_CREATE, OP_DESTROY, OP_SHUTDOWN, OP_DISK };

struct op {
	struct op		*next;
	uint64_t		 id;		/* libxl's for_event */
	enum op_kind		 kind;
	char			 name[SERVICE_NAME_MAX + 1];
	uint32_t		 domid;
	libxl_asyncop_how	 how;
	struct err		 fail;		/* create undone: why */
	libxl_device_disk	 disk;		/* OP_DISK: alive while libxl works */
	uint64_t		 token;		/* OP_DISK: the caller's */
	int			 attach;
	int			 standby;	/* OP_CREATE: of a standby */
};

/* a domain we watch for shutdown and death */
struct xdom {
	struct xdom		*next;
	uint32_t		 domid;
	char			 name[SERVICE_NAME_MAX + 1];
	libxl_evgen_domain_death *evg;
	int			 shutdown_seen;	/* DOMAIN_SHUTDOWN came */
};

struct xlogger {
	xentoollog_logger	 vtable;
	char			 last_error[256];
};

/* one create, on a thread of its own */
struct builder {
	struct builder		*next;
	struct xenbe		*xb;
	pthread_t		 thread;
	char			 name[SERVICE_NAME_MAX + 1];	/* the service */
	int			 standby;	/* built paused as its standby */
	libxl_domain_config	 cfg;
	uint32_t		 domid;
	int			 rc;
	char			 error[256];
	int			 done;		/* atomic */
	uint64_t		 started_ms;
	char			*(*kernel_prepare)(void *, const char *,
				    const uint8_t *, int *, struct err *);
	void			*kernel_arg;
	uint8_t			 kernel_sha256[BE_SHA256_LEN];
	int			 has_kernel_sha256;
	uint64_t		 kernel_ms;
	enum be_kernel_from	 kernel_from;
};

struct xenbe {
	struct backend		 be;
	libxl_ctx		*ctx;
	struct xlogger		*logger;
	struct op		*ops;
	struct builder		*builders;
	int			 build_pipe[2];	/* builders -> main loop */
	struct xdom		*doms;
	uint64_t		 next_id;
	int			 poll_first, poll_n;	/* libxl's part of fds */
};

/* xenbe.c: the context, libxl's logger */
extern const libxl_childproc_hooks xb_childproc_hooks;
struct xlogger *xb_logger_new(void);
struct xenbe *xb_of(struct backend *);
int	xb_err(struct xenbe *, struct err *, int rc, const char *what);

/* build.c: the domain configuration */
int	xb_build_config(struct xenbe *, const struct be_domain_spec *,
	    libxl_domain_config *, struct err *);

/* domain.c: the life of a domain, libxl's asynchronous operations */
int	xb_check(struct backend *, const struct be_domain_spec *,
	    struct err *);
int	xb_create(struct backend *, const struct be_domain_spec *,
	    struct err *);
void	xb_builders_reap(struct xenbe *);
int	xb_activate(struct backend *, const char *svc, uint32_t domid,
	    struct err *);
int	xb_retire(struct backend *, const char *svc, uint32_t domid,
	    struct err *);
int	xb_pause(struct backend *, uint32_t domid, int pause, struct err *);
int	xb_shutdown(struct backend *, const char *svc, uint32_t domid,
	    struct err *);
int	xb_destroy(struct backend *, const char *svc, uint32_t domid,
	    struct err *);
int	xb_disk_attach(struct backend *, const char *svc, uint32_t domid,
	    const char *path, const char *vdev, uint64_t token, struct err *);
int	xb_disk_detach(struct backend *, const char *svc, uint32_t domid,
	    const char *vdev, uint64_t token, struct err *);
void	xb_op_complete(struct xenbe *, uint64_t id, int rc);

/* events.c: libxl's events, death watches, the listing of domains */
void	xb_emit_ev(struct xenbe *, enum be_event_type type, const char *svc,
	    uint32_t domid, enum shutdown_reason reason, const struct err *,
	    const struct builder *, uint64_t create_ms, uint64_t unpause_ms);
void	xb_emit(struct xenbe *, enum be_event_type type, const char *svc,
	    uint32_t domid, enum shutdown_reason reason, const struct err *);
void	xb_emit_create_failed(struct xenbe *, const char *svc, uint32_t domid,
	    int standby, const struct err *);
int	xb_xdom_watch(struct xenbe *, const char *name, uint32_t domid,
	    struct err *);
void	xb_xdom_unwatch(struct xenbe *, uint32_t domid);
int	xb_before_poll(struct backend *, struct pollfd *fds, int *nfds,
	    int max, int *timeout_ms);
void	xb_after_poll(struct backend *, struct pollfd *fds, int nfds);
int	xb_scan(struct backend *, struct be_found **out, size_t *nout,
	    struct err *);
int	xb_list(struct backend *, struct be_found **out, size_t *nout,
	    struct err *);
int	xb_adopt(struct backend *, const char *svc, uint32_t domid,
	    struct err *);

/* pools.c: cpupools and placement */
int	xb_pools(struct backend *, struct be_pool **out, size_t *nout,
	    struct err *);
int	xb_pool_remove(struct backend *, const char *name, struct err *);
int	xb_pool_check(struct backend *, const struct pool_conf *,
	    struct err *);
int	xb_pool_ensure(struct backend *, const struct pool_conf *, int *made,
	    struct err *);
int	xb_placement(struct backend *, uint32_t domid,
	    struct be_placement *out, struct err *);

/* figures.c: queries */
int	xb_free_memory(struct backend *, uint64_t *bytes, struct err *);
int	xb_need_memory(struct backend *, const struct be_domain_spec *,
	    uint64_t *bytes, struct err *);
int	xb_dominfo(struct backend *, uint32_t domid, struct be_dominfo *out,
	    struct err *);
char	*xb_console_path(struct backend *, uint32_t domid, struct err *);
int	xb_disk_list(struct backend *, uint32_t domid,
	    char (*vdevs)[BE_VDEV_MAX], size_t max, size_t *n, struct err *);
int	xb_devices(struct backend *, uint32_t domid, struct be_devices *out,
	    struct err *);

#endif
