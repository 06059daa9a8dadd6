// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud: keeps the DomUs of a Xen Dom0 running. One poll() loop; signals
 * arrive through a self-pipe; libxl's fds and timeouts join the same loop.
 * main is its steps: parse_args, check_only (-n), daemon_start,
 * daemon_setup, loop_once until stopped, daemon_shutdown.
 * May call: anything (the top); the control layers through control.h and
 * verbs.h only.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "boot/kcache.h"
#include "chan/gio.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/notify.h"
#include "metrics.h"
#include "net/net.h"
#include "conf/partition.h"
#include "service.h"
#include "state.h"
#include "verbs.h"
#include "base/util.h"
#include "xen/xenbe.h"

#define POLL_MAX	512

static int sigpipe_fds[2] = { -1, -1 };
static char pid_path[1024];	/* removed on a clean exit */

/*
 * glibc's allocator, for a daemon that lives for months: big buffers (a
 * console tail for logs, what libxl reads of a kernel) are mapped and
 * given back when freed, instead of the sliding threshold keeping them
 * in the heap after the first; and the builder threads share one arena
 * instead of each keeping its own (measured on arm64 before: 8.7 MiB
 * of anonymous memory with two services, where amd64 had 1.4 MiB).
 */
static void
malloc_tune(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_ARENA_MAX)
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	(void)mallopt(M_ARENA_MAX, 1);
#endif
}

/* -n: whether each service's kernel comes from the kernel cache */
static void
check_kernels(const struct config *cfg, FILE *out)
{
	char why[256];
	size_t i;

	for (i = 0; i < cfg->nsvcs; i++) {
		const struct service_conf *s = cfg->svcs[i];
		struct stat st;
		int c;

		if (s->errors || s->kernel == NULL || stat(s->kernel, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		c = kimage_describe(s->kernel, why, sizeof(why));
		fprintf(out, "%s: kernel %s: %s%s\n", s->name, s->kernel, why,
		    c <= 0 ? "" : !s->kernel_cache ? "; kernel_cache = no: "
		    "libxl extracts it at each start" : !cfg->d.kernel_cache_max ?
		    "; kernel_cache_max = 0: libxl extracts it at each start" :
		    "; extracted once into the kernel cache");
	}
}

static int is_dom0(void);

/* -n in a Dom0: what the machine must have (CPUs, pools, an IOMMU,
 * assignable devices), asked as a start would, each said file:line. Off
 * Xen (a build host) there is nothing to ask, and nothing is said. */
static void
check_machine(struct config *cfg)
{
	struct be_domain_spec sp;
	struct err e = ERR_INIT;
	struct backend *be;
	size_t i;

	if (!is_dom0() || (be = xenbe_new(&e)) == NULL)
		return;
	for (i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = cfg->pools[i];

		err_clear(&e);
		if (pc->cpus_line && be->ops->pool_check(be, pc, &e) == -1) {
			config_diag(cfg, cfg->path, pc->cpus_line, 1, "[cpupool:"
			    "%s]: %s", pc->name, e.msg);
			cfg->conf_errors++;
		}
	}
	for (i = 0; i < cfg->nsvcs; i++) {
		struct service_conf *c = cfg->svcs[i];

		if (c->errors)
			continue;
		memset(&sp, 0, sizeof(sp));
		svc_conf_spec(c, &sp);
		/* a pool domud.conf declares is made at start: not asked */
		if (c->cpupool && config_find_pool(cfg, c->cpupool))
			sp.cpupool = NULL;
		err_clear(&e);
		if (be->ops->check(be, &sp, &e) == -1) {
			config_diag(cfg, c->file, partition_key_line(c, e.msg), 1,
			    "%s", e.msg);
			c->errors++;
		}
	}
	be->ops->free(be);
}

static void
usage(void)
{
	fprintf(stderr, "usage: domud [-dFInv] [-f file]\n"
	    "  -d       stay in the foreground, log to stderr\n"
	    "  -F       stay in the foreground, log to syslog (for a service "
	    "manager)\n"
	    "  -f file  configuration (default %s)\n"
	    "  -I       parse the guests' console bytes in the daemon itself, "
	    "not in its\n"
	    "           unprivileged guest I/O process (to measure that "
	    "split; never on a device)\n"
	    "  -n       check the configuration and every service file, then "
	    "exit\n"
	    "  -v       more verbose logging\n", DOMUD_CONF);
	exit(2);
}

/* async-signal-safe: one byte per signal, the loop does the rest */
static void
sig_handler(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	(void)!write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

static void
signals_setup(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) == -1)
		fatal("pipe2");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	/* SIGCHLD stays SIG_DFL: libxl reaps its own children (selective
	 * reap), and domud forks none */
	signal(SIGPIPE, SIG_IGN);
}

static int
is_dom0(void)
{
	char buf[256];
	ssize_t n;
	int fd;

	if ((fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

static void
mkdirs(const char *path, mode_t mode)
{
	char buf[1024], *p;

	if (strlcpy_(buf, path, sizeof(buf)) >= sizeof(buf))
		fatalx("%s: path too long", path);
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) == -1 && errno != EEXIST)
				fatal("mkdir %s", buf);
			*p = '/';
		}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", buf);
}

/* a single instance: flock on the pid file, kept open for our lifetime */
static int
lock_instance(const char *run_dir)
{
	char *path = pid_path, buf[32];
	int fd, n;

	snprintf(pid_path, sizeof(pid_path), "%s/domud.pid", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = (int)read(fd, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			fatalx("another domud is running (pid %s)",
			    buf[0] ? buf : "?");
		}
		fatal("flock %s", path);
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		fatal("%s", path);
	return fd;
}

static void
reload(struct control *ctl, struct notify *nt)
{
	struct config *checked = NULL;

	log_info("SIGHUP: reloading %s", ctl->conf_path);
	(void)notify_send(nt, "RELOADING=1");
	(void)control_reload(ctl, &checked);
	config_free(checked);
	(void)notify_send(nt, "READY=1");
}

/* for the service manager's status line: what runs, what failed */
static void
status_line(struct supervisor *sup, struct notify *nt)
{
	size_t i, up = 0, failed = 0, waiting = 0;
	char text[128];

	for (i = 0; i < sup->nsvcs; i++)
		switch (sup->svcs[i]->state) {
		case ST_RUNNING:
			up++;
			break;
		case ST_FAILED:
			failed++;
			break;
		case ST_WAITING:
		case ST_STARTING:
		case ST_BACKOFF:
			waiting++;
			break;
		default:
			break;
		}
	snprintf(text, sizeof(text), "%zu services: %zu running, %zu "
	    "starting or waiting, %zu failed", sup->nsvcs, up, waiting, failed);
	notify_status(nt, text);
}

/* what the command line asks */
struct opts {
	const char	*conf_path;
	int		 debug;		/* -d */
	int		 foreground;	/* -F */
	int		 check;		/* -n */
	int		 verbose;	/* -v, counted */
};

/* the running daemon: what the loop polls, and what it ends at exit */
struct domud {
	struct notify		 nt;
	struct control		 ctl;
	struct supervisor	*sup;
	struct net		*net;
	struct backend		*be;
	int			 lockfd;
	int			 stopping;	/* a signal asked us to stop */
	uint64_t		 next_metrics;	/* mono ms: metrics_file */
};

static void
parse_args(int argc, char *argv[], struct opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->conf_path = DOMUD_CONF;
	while ((ch = getopt(argc, argv, "dFf:Inv")) != -1) {
		switch (ch) {
		case 'I':
			sup_guest_io_inline = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'F':
			o->foreground = 1;
			break;
		case 'f':
			o->conf_path = optarg;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* -n: the configuration, the machine and the kernels; the exit status */
static int
check_only(struct config *cfg)
{
	int rc;

	check_machine(cfg);
	config_print_diags(cfg, stderr);
	check_kernels(cfg, stderr);
	if (cfg->errors == 0)
		fprintf(stderr, "configuration OK: %zu services%s\n",
		    cfg->nsvcs, cfg->warnings ? " (with warnings)" : "");
	rc = cfg->errors ? 1 : 0;
	config_free(cfg);
	return rc;
}

/* in a Dom0, with a configuration that has no errors: detached (unless
 * -d or -F), our directories made, the only instance, signals taken */
static void
daemon_start(struct domud *d, const struct opts *o, struct config *cfg)
{
	/* ours alone: nobody else may swap what we keep there */
	const char *dirs[] = { cfg->d.run_dir, cfg->d.state_dir,
	    cfg->d.log_dir };
	struct err de = ERR_INIT;
	size_t i;

	log_init(1, o->verbose, "domud");
	if (!is_dom0())
		fatalx("not a Xen control domain: no control_d in "
		    "/proc/xen/capabilities");
	if (cfg->conf_errors) {
		config_print_diags(cfg, stderr);
		fatalx("%s: errors, not starting", o->conf_path);
	}
	if (!o->debug && !o->foreground && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(o->debug, o->verbose, "domud");
	notify_open(&d->nt);
	/* broken service files are reported; the others run */
	for (i = 0; i < cfg->ndiags; i++)
		log_warnx("%s", cfg->diags[i].text);
	mkdirs(cfg->d.run_dir, 0755);
	mkdirs(cfg->d.state_dir, 0700);
	mkdirs(cfg->d.log_dir, 0750);
	for (i = 0; i < nitems(dirs); i++)
		if (fileio_check_dir(dirs[i], &de) == -1)
			fatalx("%s", de.msg);
	d->lockfd = lock_instance(cfg->d.run_dir);
	signals_setup();
}

/* libxl, the network, the supervisor with what ran adopted, the control
 * sockets; then the services start */
static void
daemon_setup(struct domud *d, const struct opts *o, struct config *cfg)
{
	struct err e = ERR_INIT;

	if ((d->be = xenbe_new(&e)) == NULL)
		fatalx("libxl: %s", e.msg);
	d->net = net_new(cfg);
	sup_helper_exe = "/proc/self/exe";
	d->sup = sup_new(d->be, cfg);
	sup_set_net(d->sup, d->net);
	sup_adopt(d->sup);
	/* bridges and rules before anything starts; adopted DomUs included */
	net_flush(d->net);
	sup_load(d->sup);
	/* the pools before any service that runs in one starts */
	sup_pools_sync(d->sup);
	memset(&d->ctl, 0, sizeof(d->ctl));
	d->ctl.sup = d->sup;
	d->ctl.conf_path = o->conf_path;
	verbs_setup(&d->ctl);
	if (control_listen(&d->ctl, cfg->d.run_dir, cfg->d.read_group,
	    cfg->d.admin_group, &e) == -1)
		fatalx("control: %s", e.msg);
	log_info("domud %s started: %zu services", DOMUD_VERSION,
	    d->sup->nsvcs);
	sup_autostart(d->sup);
	/* the control sockets listen and what ran is adopted */
	status_line(d->sup, &d->nt);
	(void)notify_send(&d->nt, "READY=1");
}

/* the earlier of *timeout and k ms (-1: none) */
static void
timeout_min(int *timeout, int k)
{
	if (k >= 0 && (*timeout < 0 || k < *timeout))
		*timeout = k;
}

/* this round's poll set and timeout; metrics_file is written when due */
static int
loop_before(struct domud *d, struct pollfd *fds, int *nfds)
{
	struct supervisor *sup = d->sup;
	int timeout = -1;

	fds[*nfds].fd = sigpipe_fds[0];
	fds[*nfds].events = POLLIN;
	(*nfds)++;
	control_before_poll(&d->ctl, fds, nfds, POLL_MAX, &timeout);
	sup_before_poll(sup, fds, nfds, POLL_MAX, &timeout);
	d->be->ops->before_poll(d->be, fds, nfds, POLL_MAX, &timeout);
	timeout_min(&timeout, net_timeout_ms(d->net));
	/* the overall shutdown deadline is checked once a second */
	if (d->stopping && (timeout < 0 || timeout > 1000))
		timeout = 1000;
	timeout_min(&timeout, notify_watchdog(&d->nt, mono_ms()));
	/* metrics_file: rewritten every metrics_interval */
	if (sup->cfg->d.metrics_file) {
		uint64_t now = mono_ms();
		int k;

		if (now >= d->next_metrics) {
			(void)metrics_write(sup);
			d->next_metrics = now + sup->cfg->d.metrics_interval_ms;
		}
		k = (int)(d->next_metrics - now);
		if (timeout < 0 || k < timeout)
			timeout = k;
	}
	return timeout;
}

/* what the self-pipe says: SIGHUP reloads, the others stop */
static void
loop_signals(struct domud *d)
{
	unsigned char sigs[16];
	ssize_t r = read(sigpipe_fds[0], sigs, sizeof(sigs)), k;

	for (k = 0; k < r; k++) {
		if (sigs[k] == SIGHUP)
			reload(&d->ctl, &d->nt);
		else if (!d->stopping) {
			log_info("signal %d: stopping services", sigs[k]);
			(void)notify_send(&d->nt, "STOPPING=1");
			d->stopping = 1;
			sup_shutdown(d->sup);
		}
	}
}

/* one round of the loop; 1 when stopping is done */
static int
loop_once(struct domud *d)
{
	struct pollfd fds[POLL_MAX];
	int nfds = 0, timeout, n;

	timeout = loop_before(d, fds, &nfds);
	n = poll(fds, (nfds_t)nfds, timeout);
	if (n == -1 && errno != EINTR)
		fatal("poll");
	control_loop_woke(&d->ctl, mono_ms());
	if (n == -1)
		nfds = 0;	/* nothing is valid; run timers only */

	d->be->ops->after_poll(d->be, fds, nfds);
	sup_after_poll(d->sup, fds, nfds);
	control_after_poll(&d->ctl, fds, nfds);
	net_flush(d->net);

	if (nfds > 0 && fds[0].revents & POLLIN)
		loop_signals(d);
	status_line(d->sup, &d->nt);
	control_loop_done(&d->ctl, mono_ms());
	return d->stopping && sup_idle(d->sup) && d->be->ops->idle(d->be);
}

/* every service stopped: the network's state, the sockets, the pid file */
static void
daemon_shutdown(struct domud *d)
{
	net_flush(d->net);
	net_stop(d->net, d->sup->keep_running);
	log_info("all services stopped; exiting");
	control_close(&d->ctl);
	sup_free(d->sup);
	net_free(d->net);
	d->be->ops->free(d->be);
	/* still holding the lock: no other domud can be using this file;
	 * a pid file left means domud died (init scripts' status) */
	(void)unlink(pid_path);
	close(d->lockfd);
	notify_close(&d->nt);
}

int
main(int argc, char *argv[])
{
	struct domud d;
	struct config *cfg;
	struct opts o;

	/* the kernel cache's child (boot/kextract.c): nothing else of
	 * domud's runs in it */
	if (argc == 3 && strcmp(argv[1], "--kernel-extract") == 0)
		_exit(kextract_child_main(argv[2]));	/* no exit handlers:
							 * a sanitizer's would
							 * need ptrace */
	/* the guest I/O process (chan/gio_child.c); --guest-io-selftest
	 * shows its sandbox refusing what it must (unit tests) */
	if (argc == 2 && strcmp(argv[1], "--guest-io") == 0)
		_exit(gio_child_main());
	if (argc == 2 && strcmp(argv[1], "--guest-io-selftest") == 0)
		_exit(gio_child_selftest());
	memset(&d, 0, sizeof(d));
	malloc_tune();
	parse_args(argc, argv, &o);
	cfg = config_load(o.conf_path);
	if (o.check)
		return check_only(cfg);
	daemon_start(&d, &o, cfg);
	daemon_setup(&d, &o, cfg);
	while (!loop_once(&d))
		;
	daemon_shutdown(&d);
	return 0;
}
