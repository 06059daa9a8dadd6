/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DOMUD_HEALTH_H
#define DOMUD_HEALTH_H

/*
 * Health probes of a running service (health = exec:CMD | tcp:PORT):
 * exec runs a shell command through the memres agent, tcp connects from
 * Dom0 to the guest's address on a domud network. One probe at a time per
 * service, every health_interval; nothing blocks the loop (the agent's
 * channel, a non-blocking connect in the poll set), and a probe still
 * under way at health_timeout is cancelled and counts as failed.
 * health_retries failures in a row make the service unhealthy (not during
 * health_start_period, unless it was healthy already); one success makes
 * it healthy. Each change is an event; with health_restart an unhealthy
 * service is stopped through the normal path, as a failure. The verdict
 * is a [state][event] table of its own; what the service must act on (it
 * became ready, it is unhealthy) goes to the report function its owner
 * gave health_init(), never to the service's functions.
 */
#include <poll.h>
#include <stdint.h>

#include <yajl_gen.h>

struct service;

enum health_state { HS_NONE, HS_STARTING, HS_HEALTHY, HS_UNHEALTHY, HS__N };

enum health_event {
	HE_BEGIN,	/* the domain runs */
	HE_AGENT_READY,	/* memres: the agent answered */
	HE_END,		/* the run is over */
	HE_PASS,	/* a probe passed */
	HE_FAIL,	/* a probe failed */
	HE__N
};

/* what the owner is told */
enum health_report {
	HR_READY,	/* healthy for the first time in this run */
	HR_UNHEALTHY,	/* unhealthy, and health_restart says stop it */
};
typedef void health_report_fn(struct service *, enum health_report,
		    const char *why);

#define HEALTH_OUT_MAX		256	/* of a probe's output, kept */
#define HEALTH_GRACE_MS		2000	/* the agent's own timeout first */

struct svc_health {
	enum health_state	 state;
	unsigned		 fails;		/* failed probes in a row */
	int			 ready_seen;	/* healthy once in this run */
	uint64_t		 since;		/* mono: probing began */
	uint64_t		 next_at;	/* mono: the next probe, 0 = none */
	uint64_t		 probe_at;	/* mono: the one under way, 0 = none */
	int			 fd;		/* tcp: connecting; -1 */
	uint32_t		 exec_id;	/* exec: in the agent; 0 */
	char			 out[HEALTH_OUT_MAX];	/* exec: raw output */
	size_t			 outlen;
	char			 last[HEALTH_OUT_MAX];	/* neutralised, one line */
	int			 last_ok;
	uint64_t		 last_ms;	/* how long the last one took */
	int64_t			 last_wall;	/* when it ended (display) */
	uint64_t		 checks, failures;	/* totals */
	health_report_fn	*report;
};

typedef void hs_action(struct service *, const char *why);
extern hs_action *const hs_table[HS__N][HE__N];
hs_action	 hs_ignore;
void		 health_dispatch(struct service *, enum health_event,
		    const char *why);

void		 health_init(struct service *, health_report_fn *);
/* the domain runs: probing starts (after its agent for exec) */
void		 health_begin(struct service *);
/* memres: the agent answered (exec probes wait for it) */
void		 health_agent_ready(struct service *);
/* the run is over: the probe under way is dropped, nothing new starts */
void		 health_end(struct service *);
void		 health_before_poll(struct service *, struct pollfd *,
		    int *nfds, int max, int *timeout_ms);
void		 health_after_poll(struct service *, const struct pollfd *,
		    int nfds);
const char	*health_state_str(enum health_state);
void		 health_json(const struct service *, yajl_gen);

#endif
