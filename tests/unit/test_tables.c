// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor's state machines, table by table: every [state][event]
 * cell is an action or the table's explicit no-op, and each pair is walked
 * on a service prepared in that state (the fake backend), with what it
 * leads to written here, apart from the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/service.h"
#include "core/supervisor.h"
#include "fake_backend.h"
#include "helpers.h"
#include "base/util.h"

static struct fake_backend *fb;
static struct supervisor *sup;
static char *dir;

/* one service "a" (extra: more of its file), logs and state in dir */
static struct service *
t_sup(const char *extra)
{
	struct config *cfg = config_new("domud.conf");
	char t[512];

	dir = t_tmpdir();
	free(cfg->d.log_dir);
	cfg->d.log_dir = xstrdup(dir);
	free(cfg->d.state_dir);
	cfg->d.state_dir = xstrdup(dir);
	snprintf(t, sizeof(t), "[service]\nkernel = /dev/null\nmemory = 64M\n%s",
	    extra);
	config_add_service(cfg, t_service(cfg, "a", t));
	config_finish(cfg);
	ck_assert_uint_eq(cfg->errors, 0);
	fb = fake_new(1ULL << 30);
	sup = sup_new(&fb->be, cfg);
	return sup_find(sup, "a");
}

static void
t_sup_free(void)
{
	sup_free(sup);
	fb->be.ops->free(&fb->be);
	t_rmtree(dir);
	sup = NULL;
	fb = NULL;
}

static void
run(void)
{
	fb->be.ops->after_poll(&fb->be, NULL, 0);
	sup_after_poll(sup, NULL, 0);
}

/* a running service: started, its create done */
static void
to_running(struct service *s)
{
	struct err e = ERR_INIT;

	ck_assert_int_eq(sup_start(sup, s, &e), 0);
	fake_create_done(fb, "a", 1);
	run();
	ck_assert_int_eq(s->state, ST_RUNNING);
}

/* the service brought to st the way the daemon gets there */
static void
prepare(struct service *s, enum svc_state st)
{
	struct err e = ERR_INIT;

	switch (st) {
	case ST_STOPPED:
		break;
	case ST_WAITING:
		sup_dispatch(s, EV_AUTOSTART, NULL);
		break;
	case ST_STARTING:
		ck_assert_int_eq(sup_start(sup, s, &e), 0);
		break;
	case ST_RUNNING:
		to_running(s);
		break;
	case ST_STOPPING:
		to_running(s);
		ck_assert_int_eq(sup_stop(sup, s, &e), 0);
		break;
	case ST_DESTROYING:
		to_running(s);
		fake_shutdown(fb, "a", s->domid, SR_POWEROFF);
		run();
		break;
	case ST_BACKOFF:
		to_running(s);
		fake_shutdown(fb, "a", s->domid, SR_CRASH);
		run();
		fake_destroy_done(fb, "a", s->domid);
		run();
		break;
	case ST_FAILED:
		sup_dispatch(s, EV_RESTORE_FAILED, NULL);
		break;
	case ST__N:
		break;
	}
	ck_assert_int_eq(s->state, st);
}

START_TEST(lifecycle_every_cell_written)
{
	int st, ev, nact = 0;

	for (st = 0; st < ST__N; st++)
		for (ev = 0; ev < EV__N; ev++) {
			ck_assert_msg(sup_lifecycle[st][ev] != NULL,
			    "lifecycle[%d][%d] is empty", st, ev);
			if (sup_lifecycle[st][ev] != a_ignore)
				nact++;
		}
	/* the actions of the table, as the walk below expects them */
	ck_assert_int_eq(nact, 39);
}
END_TEST

/* what each pair leads to; -1: the event is ignored (no change, no
 * history). restart = on-failure, the event's reason poweroff. */
#define IGN	-1
static const int lifecycle_next[ST__N][EV__N] = {
	[ST_STOPPED] = {
		[EV_START] = ST_STARTING, [EV_STOP] = IGN,
		[EV_RESTART] = ST_STARTING, [EV_DEPS_READY] = IGN,
		[EV_CREATED] = IGN, [EV_CREATE_FAILED] = IGN,
		[EV_SHUTDOWN] = IGN, [EV_DIED] = IGN, [EV_DESTROYED] = IGN,
		[EV_DESTROY_FAILED] = IGN, [EV_TIMER] = IGN,
		[EV_AUTOSTART] = ST_WAITING, [EV_ADOPTED] = ST_RUNNING,
		[EV_RESTORE_FAILED] = ST_FAILED,
		[EV_DESTROY_HALF_MADE] = ST_DESTROYING, [EV_DEADLINE] = IGN,
		[EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = ST_STARTING,
	},
	[ST_WAITING] = {
		[EV_START] = IGN, [EV_STOP] = ST_STOPPED, [EV_RESTART] = IGN,
		[EV_DEPS_READY] = ST_STARTING, [EV_CREATED] = IGN,
		[EV_CREATE_FAILED] = IGN, [EV_SHUTDOWN] = IGN, [EV_DIED] = IGN,
		[EV_DESTROYED] = IGN, [EV_DESTROY_FAILED] = IGN,
		[EV_TIMER] = IGN, [EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = IGN, [EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = IGN,
	},
	[ST_STARTING] = {
		/* a stop while libxl creates: stopped once it is up */
		[EV_START] = IGN, [EV_STOP] = ST_STARTING, [EV_RESTART] = IGN,
		[EV_DEPS_READY] = IGN, [EV_CREATED] = ST_RUNNING,
		[EV_CREATE_FAILED] = ST_BACKOFF, [EV_SHUTDOWN] = IGN,
		[EV_DIED] = IGN, [EV_DESTROYED] = IGN,
		[EV_DESTROY_FAILED] = IGN, [EV_TIMER] = IGN,
		[EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = IGN, [EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = IGN,
	},
	[ST_RUNNING] = {
		[EV_START] = IGN, [EV_STOP] = ST_STOPPING,
		[EV_RESTART] = ST_STOPPING, [EV_DEPS_READY] = IGN,
		[EV_CREATED] = IGN, [EV_CREATE_FAILED] = IGN,
		[EV_SHUTDOWN] = ST_DESTROYING, [EV_DIED] = ST_STOPPED,
		[EV_DESTROYED] = IGN, [EV_DESTROY_FAILED] = IGN,
		[EV_TIMER] = IGN, [EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = IGN, [EV_UNHEALTHY] = ST_STOPPING,
		/* no standby booted ahead: the restart */
		[EV_HANDOVER] = ST_STOPPING,
	},
	[ST_STOPPING] = {
		[EV_START] = IGN, [EV_STOP] = IGN, [EV_RESTART] = ST_STOPPING,
		[EV_DEPS_READY] = IGN, [EV_CREATED] = IGN,
		[EV_CREATE_FAILED] = IGN, [EV_SHUTDOWN] = ST_DESTROYING,
		[EV_DIED] = ST_STOPPED, [EV_DESTROYED] = IGN,
		[EV_DESTROY_FAILED] = IGN, [EV_TIMER] = ST_DESTROYING,
		[EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = ST_DESTROYING, [EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = ST_STOPPING,
	},
	/* dead before its destroy is done: the destroy's end ends it */
	[ST_DESTROYING] = {
		[EV_START] = IGN, [EV_STOP] = IGN,
		[EV_RESTART] = ST_DESTROYING, [EV_DEPS_READY] = IGN,
		[EV_CREATED] = IGN, [EV_CREATE_FAILED] = IGN,
		[EV_SHUTDOWN] = IGN, [EV_DIED] = ST_DESTROYING,
		[EV_DESTROYED] = ST_STOPPED, [EV_DESTROY_FAILED] = ST_DESTROYING,
		[EV_TIMER] = ST_DESTROYING, [EV_AUTOSTART] = IGN,
		[EV_ADOPTED] = IGN, [EV_RESTORE_FAILED] = IGN,
		[EV_DESTROY_HALF_MADE] = IGN, [EV_DEADLINE] = IGN,
		[EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = ST_DESTROYING,
	},
	[ST_BACKOFF] = {
		[EV_START] = ST_STARTING, [EV_STOP] = ST_STOPPED,
		[EV_RESTART] = ST_STARTING, [EV_DEPS_READY] = IGN,
		[EV_CREATED] = IGN, [EV_CREATE_FAILED] = IGN,
		[EV_SHUTDOWN] = IGN, [EV_DIED] = IGN, [EV_DESTROYED] = IGN,
		[EV_DESTROY_FAILED] = IGN, [EV_TIMER] = ST_STARTING,
		[EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = IGN, [EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = ST_STARTING,
	},
	[ST_FAILED] = {
		[EV_START] = ST_STARTING, [EV_STOP] = ST_STOPPED,
		[EV_RESTART] = ST_STARTING, [EV_DEPS_READY] = IGN,
		[EV_CREATED] = IGN, [EV_CREATE_FAILED] = IGN,
		[EV_SHUTDOWN] = IGN, [EV_DIED] = IGN, [EV_DESTROYED] = IGN,
		[EV_DESTROY_FAILED] = IGN, [EV_TIMER] = IGN,
		[EV_AUTOSTART] = IGN, [EV_ADOPTED] = IGN,
		[EV_RESTORE_FAILED] = IGN, [EV_DESTROY_HALF_MADE] = IGN,
		[EV_DEADLINE] = IGN, [EV_UNHEALTHY] = IGN,
		[EV_HANDOVER] = ST_STARTING,
	},
};

/* each pair on a service prepared in its state: the table's cell and the
 * walk agree, and a no-op changes nothing and records nothing */
START_TEST(lifecycle_walk)
{
	int st, ev;

	for (st = 0; st < ST__N; st++)
		for (ev = 0; ev < EV__N; ev++) {
			struct service *s = t_sup("");
			struct be_event bev;
			size_t before;
			int want = lifecycle_next[st][ev];

			prepare(s, st);
			memset(&bev, 0, sizeof(bev));
			strlcpy_(bev.svc, "a", sizeof(bev.svc));
			bev.domid = s->domid != INVALID_DOMID_ ? s->domid : 77;
			bev.reason = SR_POWEROFF;
			strlcpy_(bev.err.msg, "walked", sizeof(bev.err.msg));
			before = sup->events.next_seq;
			ck_assert_msg((want == IGN) == (sup_lifecycle[st][ev] ==
			    a_ignore), "lifecycle[%s][%d]: table and walk "
			    "disagree", svc_state_str(st), ev);
			sup_dispatch(s, ev, &bev);
			if (want == IGN) {
				ck_assert_int_eq(s->state, st);
				ck_assert_uint_eq(sup->events.next_seq, before);
			} else
				ck_assert_msg((int)s->state == want,
				    "lifecycle[%s][%d]: %s, not %s",
				    svc_state_str(st), ev,
				    svc_state_str(s->state),
				    svc_state_str(want));
			t_sup_free();
		}
}
END_TEST

/* ---- the stop phases (stopping.c) ---------------------------------------- */

START_TEST(stop_every_cell_written)
{
	int ph, ev, nact = 0;

	for (ph = 0; ph < SP__N; ph++)
		for (ev = 0; ev < SPE__N; ev++) {
			ck_assert_msg(stop_table[ph][ev] != NULL,
			    "stop[%d][%d] is empty", ph, ev);
			if (stop_table[ph][ev] != sp_ignore)
				nact++;
		}
	ck_assert_int_eq(nact, 7);
}
END_TEST

/* each pair on a running service put in the phase: the phase after, what
 * the lifecycle is told, whether Xen was asked to shut it down */
static const struct {
	int		 phase;		/* -1: unchanged (the no-op) */
	enum stop_next	 next;
	int		 shutdown;
} stop_next_of[SP__N][SPE__N] = {
	[SP_NONE] = {
		[SPE_BEGIN] = { SP_PV, SN_WAIT, 1 },
		[SPE_TIMEOUT] = { SP_DESTROY, SN_DESTROY, 0 },
		[SPE_GONE] = { -1, SN_NONE, 0 },
	},
	[SP_AGENT] = {
		[SPE_BEGIN] = { -1, SN_NONE, 0 },
		[SPE_TIMEOUT] = { SP_PV, SN_WAIT, 1 },
		[SPE_GONE] = { SP_NONE, SN_NONE, 0 },
	},
	[SP_PV] = {
		[SPE_BEGIN] = { -1, SN_NONE, 0 },
		[SPE_TIMEOUT] = { SP_DESTROY, SN_DESTROY, 0 },
		[SPE_GONE] = { SP_NONE, SN_NONE, 0 },
	},
	[SP_DESTROY] = {
		[SPE_BEGIN] = { -1, SN_NONE, 0 },
		[SPE_TIMEOUT] = { -1, SN_NONE, 0 },
		[SPE_GONE] = { SP_NONE, SN_NONE, 0 },
	},
};

START_TEST(stop_walk)
{
	int ph, ev;

	for (ph = 0; ph < SP__N; ph++)
		for (ev = 0; ev < SPE__N; ev++) {
			struct service *s = t_sup("");
			int nshut, want = stop_next_of[ph][ev].phase;
			enum stop_next next;

			to_running(s);
			s->stop.phase = ph;
			s->stop.stopped_in = SP_NONE;
			nshut = fb->nshutdown;
			ck_assert_msg((want == -1 && stop_next_of[ph][ev].next ==
			    SN_NONE) == (stop_table[ph][ev] == sp_ignore),
			    "stop[%d][%d]: table and walk disagree", ph, ev);
			next = stop_dispatch(s, ev);
			ck_assert_int_eq(next, stop_next_of[ph][ev].next);
			ck_assert_int_eq(s->stop.phase, want == -1 ? ph : want);
			ck_assert_int_eq(fb->nshutdown - nshut,
			    stop_next_of[ph][ev].shutdown);
			/* the phase that ended the stop is kept */
			ck_assert_int_eq(s->stop.stopped_in, ev == SPE_GONE &&
			    want != -1 ? ph : SP_NONE);
			t_sup_free();
		}
}
END_TEST

/* ---- standby (standby.c) --------------------------------------------------- */

START_TEST(standby_every_cell_written)
{
	int st, ev, nact = 0;

	for (st = 0; st < SB__N; st++)
		for (ev = 0; ev < SBE__N; ev++) {
			ck_assert_msg(sb_table[st][ev] != NULL,
			    "standby[%d][%d] is empty", st, ev);
			if (sb_table[st][ev] != sb_ignore)
				nact++;
		}
	ck_assert_int_eq(nact, 25);
}
END_TEST

/* the state after each pair; a stale standby where it says so (a ready
 * one is dropped at the round only then); what a start from it answers */
static const struct {
	int	 state;		/* -1: the no-op */
	int	 stale;
	int	 ret;
} sb_next_of[SB__N][SBE__N] = {
	[SB_NONE] = {
		[SBE_TICK] = { SB_BUILDING, 0, 0 },
		/* a reload dropped and added it back while its build ran */
		[SBE_BUILT] = { SB_READY, 1, 0 }, [SBE_BUILD_FAILED] = { -1, 0, 0 },
		[SBE_GONE] = { -1, 0, 0 }, [SBE_SHUTDOWN] = { -1, 0, 0 },
		[SBE_DESTROY_FAILED] = { -1, 0, 0 },
		[SBE_ACTIVATE] = { -1, 0, 0 }, [SBE_DISCARD] = { -1, 0, 0 },
		[SBE_LEFTOVER] = { SB_DESTROYING, 0, 0 },
		[SBE_STALE] = { SB_NONE, 0, 0 },
		[SBE_HELLO] = { -1, 0, 0 },
	},
	[SB_BUILDING] = {
		[SBE_TICK] = { -1, 0, 0 },
		[SBE_BUILT] = { SB_READY, 0, 0 },
		[SBE_BUILD_FAILED] = { SB_NONE, 0, 0 },
		[SBE_GONE] = { -1, 0, 0 }, [SBE_SHUTDOWN] = { -1, 0, 0 },
		[SBE_DESTROY_FAILED] = { -1, 0, 0 },
		[SBE_ACTIVATE] = { -1, 0, 0 }, [SBE_DISCARD] = { -1, 0, 0 },
		[SBE_LEFTOVER] = { -1, 0, 0 },
		[SBE_STALE] = { SB_BUILDING, 0, 0 },
		[SBE_HELLO] = { -1, 0, 0 },
	},
	[SB_READY] = {
		[SBE_TICK] = { SB_DESTROYING, 1, 0 },
		[SBE_BUILT] = { -1, 0, 0 }, [SBE_BUILD_FAILED] = { -1, 0, 0 },
		[SBE_GONE] = { SB_NONE, 0, 0 },
		[SBE_SHUTDOWN] = { SB_DESTROYING, 0, 0 },
		[SBE_DESTROY_FAILED] = { SB_READY, 0, 0 },
		[SBE_ACTIVATE] = { SB_NONE, 0, 1 },
		[SBE_DISCARD] = { SB_DESTROYING, 0, 0 },
		[SBE_LEFTOVER] = { -1, 0, 0 },
		[SBE_STALE] = { SB_READY, 0, 0 },
		[SBE_HELLO] = { -1, 0, 0 },
	},
	[SB_DESTROYING] = {
		[SBE_TICK] = { -1, 0, 0 },
		[SBE_BUILT] = { -1, 0, 0 }, [SBE_BUILD_FAILED] = { -1, 0, 0 },
		[SBE_GONE] = { SB_NONE, 0, 0 }, [SBE_SHUTDOWN] = { -1, 0, 0 },
		[SBE_DESTROY_FAILED] = { SB_READY, 0, 0 },
		[SBE_ACTIVATE] = { -1, 0, 0 }, [SBE_DISCARD] = { -1, 0, 0 },
		[SBE_LEFTOVER] = { SB_DESTROYING, 0, 0 },
		[SBE_STALE] = { SB_DESTROYING, 0, 0 },
		[SBE_HELLO] = { -1, 0, 0 },
	},
	/* booted ahead (the walk's is past its agent's deadline) */
	[SB_BOOTING] = {
		[SBE_TICK] = { SB_DESTROYING, 0, 0 },
		[SBE_BUILT] = { -1, 0, 0 }, [SBE_BUILD_FAILED] = { -1, 0, 0 },
		[SBE_GONE] = { SB_NONE, 0, 0 },
		[SBE_SHUTDOWN] = { SB_DESTROYING, 0, 0 },
		[SBE_DESTROY_FAILED] = { -1, 0, 0 },
		[SBE_ACTIVATE] = { SB_NONE, 0, 1 },
		[SBE_DISCARD] = { SB_DESTROYING, 0, 0 },
		[SBE_LEFTOVER] = { -1, 0, 0 },
		[SBE_STALE] = { SB_BOOTING, 0, 0 },
		[SBE_HELLO] = { SB_READY, 0, 0 },
	},
};

START_TEST(standby_walk)
{
	int st, ev;

	for (st = 0; st < SB__N; st++)
		for (ev = 0; ev < SBE__N; ev++) {
			struct service *s = t_sup("standby = yes\n");
			struct be_event bev, out;
			struct be_found found;
			struct sb_in in = { .ev = &bev, .found = &found,
			    .out = &out };
			struct svc_standby before;
			int want = sb_next_of[st][ev].state, ret;

			fake_dom_add(fb, "a--standby", 50, NULL)->paused = 1;
			s->sb.state = st;
			s->sb.domid = st == SB_READY || st == SB_DESTROYING ||
			    st == SB_BOOTING ? 50 : 0;
			s->sb.stale = sb_next_of[st][ev].stale;
			memset(&bev, 0, sizeof(bev));
			strlcpy_(bev.svc, "a", sizeof(bev.svc));
			bev.domid = 50;
			bev.standby = 1;
			bev.create_ms = 5;
			strlcpy_(bev.err.msg, "walked", sizeof(bev.err.msg));
			memset(&found, 0, sizeof(found));
			found.domid = 60;
			before = s->sb;
			ck_assert_msg((want == -1) == (sb_table[st][ev] ==
			    sb_ignore), "standby[%d][%d]: table and walk "
			    "disagree", st, ev);
			ret = standby_dispatch(s, ev, &in);
			ck_assert_int_eq(ret, sb_next_of[st][ev].ret);
			if (want == -1)
				ck_assert(memcmp(&before, &s->sb,
				    sizeof(before)) == 0);
			else
				ck_assert_msg((int)s->sb.state == want,
				    "standby[%d][%d]: %d, not %d", st, ev,
				    s->sb.state, want);
			if (want != -1 && (ev == SBE_STALE ||
			    ev == SBE_DESTROY_FAILED))
				ck_assert_int_eq(s->sb.stale, 1);
			if (ev == SBE_ACTIVATE && ret == 1) {
				ck_assert_uint_eq(out.domid, 50);
				ck_assert_int_eq(out.type, BE_CREATED);
				ck_assert(!fake_dom(fb, 50)->paused);
			}
			/* its domain is not the service's to destroy */
			s->sb.state = SB_NONE;
			t_sup_free();
		}
}
END_TEST

/* ---- retire (retire.c) ---------------------------------------------------- */

START_TEST(retire_every_cell_written)
{
	int st, ev, nact = 0;

	for (st = 0; st < RT__N; st++)
		for (ev = 0; ev < RTE__N; ev++) {
			ck_assert_msg(rt_table[st][ev] != NULL,
			    "retire[%d][%d] is empty", st, ev);
			if (rt_table[st][ev] != rt_ignore)
				nact++;
		}
	ck_assert_int_eq(nact, 12);
}
END_TEST

/* the state after each pair (a deadline and a retry that are due), what
 * it answers, and whether it asked for a shutdown or a destroy */
static const struct {
	int	 state;		/* -1: the no-op */
	int	 ret;
	int	 shutdown, destroy;
} rt_next_of[RT__N][RTE__N] = {
	[RT_NONE] = {
		[RTE_BEGIN] = { RT_STOPPING, 0, 1, 0 },
		[RTE_TICK] = { -1, 0, 0, 0 },
		[RTE_SHUTDOWN] = { -1, 0, 0, 0 },
		[RTE_GONE] = { -1, 0, 0, 0 },
		[RTE_DESTROY_FAILED] = { -1, 0, 0, 0 },
		/* adopted, then asked again */
		[RTE_LEFTOVER] = { RT_STOPPING, 0, 1, 0 },
		[RTE_DISCARD] = { -1, 0, 0, 0 },
	},
	[RT_STOPPING] = {
		/* one at a time: the second handover is a restart */
		[RTE_BEGIN] = { RT_STOPPING, -1, 0, 0 },
		[RTE_TICK] = { RT_DESTROYING, 0, 0, 1 },
		[RTE_SHUTDOWN] = { RT_DESTROYING, 0, 0, 1 },
		[RTE_GONE] = { RT_NONE, 0, 0, 0 },
		[RTE_DESTROY_FAILED] = { RT_STOPPING, 0, 0, 0 },
		[RTE_LEFTOVER] = { -1, 0, 0, 0 },
		[RTE_DISCARD] = { RT_DESTROYING, 0, 0, 1 },
	},
	[RT_DESTROYING] = {
		[RTE_BEGIN] = { RT_DESTROYING, -1, 0, 0 },
		[RTE_TICK] = { RT_DESTROYING, 0, 0, 1 },
		[RTE_SHUTDOWN] = { -1, 0, 0, 0 },
		[RTE_GONE] = { RT_NONE, 0, 0, 0 },
		[RTE_DESTROY_FAILED] = { RT_DESTROYING, 0, 0, 0 },
		[RTE_LEFTOVER] = { -1, 0, 0, 0 },
		[RTE_DISCARD] = { -1, 0, 0, 0 },
	},
};

START_TEST(retire_walk)
{
	int st, ev;

	for (st = 0; st < RT__N; st++)
		for (ev = 0; ev < RTE__N; ev++) {
			struct service *s = t_sup("");
			struct be_event bev;
			struct rt_in in = { .domid = 40, .ev = &bev };
			struct svc_retiring before;
			int want = rt_next_of[st][ev].state, ret;
			int nsh, nde;

			fake_dom_add(fb, "a", 40, NULL);
			s->rt.state = st;
			s->rt.domid = st == RT_NONE ? 0 : 40;
			/* due: its deadline, a destroy to try again */
			s->rt.deadline = s->sup->now;
			s->rt.retry_at = s->sup->now;
			memset(&bev, 0, sizeof(bev));
			strlcpy_(bev.svc, "a", sizeof(bev.svc));
			bev.domid = 40;
			strlcpy_(bev.err.msg, "walked", sizeof(bev.err.msg));
			before = s->rt;
			nsh = fb->nshutdown;
			nde = fb->ndestroy;
			ck_assert_msg((want == -1) == (rt_table[st][ev] ==
			    rt_ignore), "retire[%d][%d]: table and walk "
			    "disagree", st, ev);
			ret = retire_dispatch(s, ev, &in);
			ck_assert_int_eq(ret, rt_next_of[st][ev].ret);
			if (want == -1)
				ck_assert(memcmp(&before, &s->rt,
				    sizeof(before)) == 0);
			else
				ck_assert_msg((int)s->rt.state == want,
				    "retire[%d][%d]: %d, not %d", st, ev,
				    s->rt.state, want);
			ck_assert_int_eq(fb->nshutdown - nsh,
			    rt_next_of[st][ev].shutdown);
			ck_assert_int_eq(fb->ndestroy - nde,
			    rt_next_of[st][ev].destroy);
			if (ev == RTE_BEGIN && st == RT_NONE)
				ck_assert_str_eq(fake_dom(fb, 40)->name,
				    "a@retiring");
			/* its domain is not the service's to destroy */
			s->rt.state = RT_NONE;
			t_sup_free();
		}
}
END_TEST

/* ---- idle (idle.c) --------------------------------------------------------- */

START_TEST(idle_every_cell_written)
{
	int st, ev, nact = 0;

	for (st = 0; st < IDLE__N; st++)
		for (ev = 0; ev < IE__N; ev++) {
			ck_assert_msg(idle_table[st][ev] != NULL,
			    "idle[%d][%d] is empty", st, ev);
			if (idle_table[st][ev] != idle_ignore)
				nact++;
		}
	ck_assert_int_eq(nact, 12);
}
END_TEST

/* the state after each pair (-1: the no-op), and whether the idle timeout
 * counts afresh; idle_action = pause */
static const struct {
	int	 state;
	int	 used;
} idle_next_of[IDLE__N][IE__N] = {
	[IDLE_AWAKE] = {
		[IE_USED] = { IDLE_AWAKE, 1 }, [IE_IDLE] = { IDLE_PAUSED, 0 },
		[IE_WAKE] = { -1, 0 }, [IE_RESUMED] = { -1, 0 },
		[IE_ADOPTED] = { IDLE_PAUSED, 0 },
		[IE_READY] = { IDLE_AWAKE, 1 }, [IE_GONE] = { -1, 0 },
	},
	[IDLE_PAUSED] = {
		[IE_USED] = { IDLE_PAUSED, 1 }, [IE_IDLE] = { -1, 0 },
		[IE_WAKE] = { IDLE_AWAKE, 1 },
		[IE_RESUMED] = { IDLE_AWAKE, 1 }, [IE_ADOPTED] = { -1, 0 },
		[IE_READY] = { IDLE_PAUSED, 1 }, [IE_GONE] = { IDLE_AWAKE, 0 },
	},
	[IDLE_STOPPED] = {
		[IE_USED] = { IDLE_STOPPED, 1 }, [IE_IDLE] = { -1, 0 },
		[IE_WAKE] = { -1, 0 }, [IE_RESUMED] = { -1, 0 },
		[IE_ADOPTED] = { IDLE_PAUSED, 0 },
		[IE_READY] = { IDLE_AWAKE, 1 }, [IE_GONE] = { -1, 0 },
	},
};

START_TEST(idle_walk)
{
	int st, ev;

	for (st = 0; st < IDLE__N; st++)
		for (ev = 0; ev < IE__N; ev++) {
			struct service *s = t_sup("memres = yes\n"
			    "idle_timeout = 1m\nidle_action = pause\n");
			struct svc_idle before;
			int want = idle_next_of[st][ev].state;

			to_running(s);
			s->idle.state = st;
			s->idle.last_used = 1;
			fake_dom(fb, s->domid)->paused = st == IDLE_PAUSED;
			before = s->idle;
			ck_assert_msg((want == -1) == (idle_table[st][ev] ==
			    idle_ignore), "idle[%d][%d]: table and walk "
			    "disagree", st, ev);
			ck_assert_int_eq(idle_dispatch(s, ev, "walked"), 0);
			if (want == -1) {
				ck_assert(memcmp(&before, &s->idle,
				    sizeof(before)) == 0);
				t_sup_free();
				continue;
			}
			ck_assert_msg((int)s->idle.state == want,
			    "idle[%d][%d]: %d, not %d", st, ev, s->idle.state,
			    want);
			ck_assert_int_eq(s->idle.last_used != 1,
			    idle_next_of[st][ev].used);
			/* Xen's word agrees with the machine's */
			if (ev == IE_IDLE || ev == IE_WAKE)
				ck_assert_int_eq(fake_dom(fb, s->domid)->paused,
				    want == IDLE_PAUSED);
			t_sup_free();
		}
}
END_TEST

/* idle_action = stop: the lifecycle stops it, the next exec starts it */
START_TEST(idle_stop_asks_the_lifecycle)
{
	struct service *s = t_sup("memres = yes\nidle_timeout = 1m\n");

	to_running(s);
	ck_assert_int_eq(idle_dispatch(s, IE_IDLE, NULL), 0);
	ck_assert_int_eq(s->idle.state, IDLE_STOPPED);
	ck_assert_int_eq(s->state, ST_STOPPING);
	t_sup_free();
}
END_TEST

/* ---- health (health.c) ----------------------------------------------------- */

START_TEST(health_every_cell_written)
{
	int st, ev, nact = 0;

	for (st = 0; st < HS__N; st++)
		for (ev = 0; ev < HE__N; ev++) {
			ck_assert_msg(hs_table[st][ev] != NULL,
			    "health[%d][%d] is empty", st, ev);
			if (hs_table[st][ev] != hs_ignore)
				nact++;
		}
	ck_assert_int_eq(nact, 16);
}
END_TEST

static int reported = -1;

static void
t_report(struct service *s, enum health_report r, const char *why)
{
	reported = (int)r;
}

/* the state after each pair (-1: the no-op) and what the owner is told
 * (-1: nothing); health_retries = 2, one failure in the streak already,
 * past health_start_period */
static const struct {
	int	 state;
	int	 report;
} hs_next_of[HS__N][HE__N] = {
	[HS_NONE] = {
		[HE_BEGIN] = { HS_STARTING, -1 },
		[HE_AGENT_READY] = { -1, -1 }, [HE_END] = { HS_NONE, -1 },
		[HE_PASS] = { -1, -1 }, [HE_FAIL] = { -1, -1 },
	},
	[HS_STARTING] = {
		[HE_BEGIN] = { HS_STARTING, -1 },
		[HE_AGENT_READY] = { HS_STARTING, -1 },
		[HE_END] = { HS_NONE, -1 },
		[HE_PASS] = { HS_HEALTHY, HR_READY },
		[HE_FAIL] = { HS_UNHEALTHY, HR_UNHEALTHY },
	},
	[HS_HEALTHY] = {
		[HE_BEGIN] = { HS_STARTING, -1 },
		[HE_AGENT_READY] = { HS_HEALTHY, -1 },
		[HE_END] = { HS_NONE, -1 }, [HE_PASS] = { -1, -1 },
		[HE_FAIL] = { HS_UNHEALTHY, HR_UNHEALTHY },
	},
	[HS_UNHEALTHY] = {
		[HE_BEGIN] = { HS_STARTING, -1 },
		[HE_AGENT_READY] = { HS_UNHEALTHY, -1 },
		[HE_END] = { HS_NONE, -1 },
		[HE_PASS] = { HS_HEALTHY, HR_READY },
		[HE_FAIL] = { HS_UNHEALTHY, -1 },
	},
};

START_TEST(health_walk)
{
	int st, ev;

	for (st = 0; st < HS__N; st++)
		for (ev = 0; ev < HE__N; ev++) {
			struct service *s = t_sup("memres = yes\n"
			    "health = exec: true\nhealth_retries = 2\n"
			    "health_restart = yes\nready = health\n");
			struct svc_health before;
			int want = hs_next_of[st][ev].state;

			s->health.state = st;
			s->health.fails = 1;
			s->health.since = 1;
			s->health.report = t_report;
			reported = -1;
			before = s->health;
			ck_assert_msg((want == -1) == (hs_table[st][ev] ==
			    hs_ignore), "health[%d][%d]: table and walk "
			    "disagree", st, ev);
			health_dispatch(s, ev, "walked");
			if (want == -1)
				ck_assert(memcmp(&before, &s->health,
				    sizeof(before)) == 0);
			else
				ck_assert_msg((int)s->health.state == want,
				    "health[%d][%d]: %d, not %d", st, ev,
				    s->health.state, want);
			ck_assert_int_eq(reported, hs_next_of[st][ev].report);
			if (ev == HE_AGENT_READY && want != -1)
				ck_assert_uint_ne(s->health.next_at, 0);
			if (ev == HE_FAIL && st == HS_UNHEALTHY)
				ck_assert_uint_eq(s->health.fails, 2);
			t_sup_free();
		}
}
END_TEST

/* within health_start_period a failure is no verdict yet */
START_TEST(health_start_period_is_grace)
{
	struct service *s = t_sup("memres = yes\nhealth = exec: true\n"
	    "health_retries = 1\nhealth_start_period = 1m\n");

	health_begin(s);
	ck_assert_int_eq(s->health.state, HS_STARTING);
	s->health.report = t_report;
	reported = -1;
	health_dispatch(s, HE_FAIL, "walked");
	ck_assert_int_eq(s->health.state, HS_STARTING);
	ck_assert_uint_eq(s->health.fails, 0);
	ck_assert_int_eq(reported, -1);
	t_sup_free();
}
END_TEST

Suite *
tables_suite(void)
{
	Suite *su = suite_create("tables");
	TCase *tc = tcase_create("lifecycle");

	tcase_add_test(tc, lifecycle_every_cell_written);
	tcase_add_test(tc, lifecycle_walk);
	suite_add_tcase(su, tc);
	tc = tcase_create("stop");
	tcase_add_test(tc, stop_every_cell_written);
	tcase_add_test(tc, stop_walk);
	suite_add_tcase(su, tc);
	tc = tcase_create("standby");
	tcase_add_test(tc, standby_every_cell_written);
	tcase_add_test(tc, standby_walk);
	suite_add_tcase(su, tc);
	tc = tcase_create("retire");
	tcase_add_test(tc, retire_every_cell_written);
	tcase_add_test(tc, retire_walk);
	suite_add_tcase(su, tc);
	tc = tcase_create("idle");
	tcase_add_test(tc, idle_every_cell_written);
	tcase_add_test(tc, idle_walk);
	tcase_add_test(tc, idle_stop_asks_the_lifecycle);
	suite_add_tcase(su, tc);
	tc = tcase_create("health");
	tcase_add_test(tc, health_every_cell_written);
	tcase_add_test(tc, health_walk);
	tcase_add_test(tc, health_start_period_is_grace);
	suite_add_tcase(su, tc);
	return su;
}
