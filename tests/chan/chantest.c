// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domud's channel against the real domud-agent over a PTY, no Xen: the
 * agent gets the PTY's slave as its console, this program plays domud on
 * the master. With -n it inserts kernel-like lines at random points of
 * what the agent writes, inside frames too, as hvc0 does.
 * usage: chantest AGENT
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan/channel.h"

static struct channel ch;
static int master = -1;
static int noise_on;
static unsigned passes, fails;
static uint64_t noise_bytes;

struct job {
	uint8_t		 out[2][1 << 20];
	size_t		 n[2];
	int		 done;
	struct chan_result r;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_noise(void *arg, const uint8_t *b, size_t n)
{
	(void)arg;
	(void)b;
	noise_bytes += n;
}

static void
on_out(void *ctx, int fd, const uint8_t *b, size_t n)
{
	struct job *j = ctx;
	size_t room = sizeof(j->out[0]) - j->n[fd - 1];

	if (n > room)
		n = room;
	memcpy(j->out[fd - 1] + j->n[fd - 1], b, n);
	j->n[fd - 1] += n;
}

static void
on_done(void *ctx, const struct chan_result *r)
{
	struct job *j = ctx;

	j->r = *r;
	j->done = 1;
}

/* one round of I/O: what the agent wrote goes in (with noise, maybe),
 * what the channel has queued goes out */
static void
pump(int ms)
{
	struct pollfd p = { master, POLLIN, 0 };
	const uint8_t *q;
	uint8_t buf[8192];
	size_t n;
	ssize_t r;

	if ((n = chan_pending(&ch, &q)) > 0) {
		r = write(master, q, n);
		if (r > 0)
			chan_written(&ch, (size_t)r);
		p.events |= POLLOUT;
	}
	if (poll(&p, 1, ms) <= 0)
		return;
	if (!(p.revents & POLLIN))
		return;
	r = read(master, buf, sizeof(buf));
	if (r <= 0)
		return;
	if (noise_on && rand() % 6 == 0) {
		static const char *kmsg = "\r\n[  123.456789] random: crng "
		    "reseeded; eth0: link becomes ready\r\n";
		size_t cut = (size_t)rand() % (size_t)r;

		chan_input(&ch, buf, cut, now_ms());
		chan_input(&ch, (const uint8_t *)kmsg, strlen(kmsg), now_ms());
		chan_input(&ch, buf + cut, (size_t)r - cut, now_ms());
	} else
		chan_input(&ch, buf, (size_t)r, now_ms());
	chan_tick(&ch, now_ms());
}

static int
wait_jobs(struct job **jobs, size_t n, int secs)
{
	uint64_t end = now_ms() + (uint64_t)secs * 1000;
	size_t i, left;

	do {
		pump(100);
		for (i = 0, left = 0; i < n; i++)
			left += !jobs[i]->done;
		if (left == 0)
			return 0;
	} while (now_ms() < end);
	return -1;
}

static void
result(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s chan/%s%s ", ok ? "PASS" : "FAIL", name,
	    noise_on ? "-noise" : "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passes++;
	else
		fails++;
}

static struct job *
start(char *const argv[], int shell, uint32_t timeout_ms)
{
	struct job *j = calloc(1, sizeof(*j));
	struct chan_exec_cb cb = { on_out, on_done, j };
	char why[128];
	uint32_t id;

	if (chan_exec(&ch, argv, shell, timeout_ms, &cb, &id, why, sizeof(why),
	    now_ms()) == -1) {
		j->done = 1;
		snprintf(j->r.error, sizeof(j->r.error), "%s", why);
	}
	return j;
}

static void
scenarios(void)
{
	static const char script[] =
	    "printf 'a\\000b\\n===END===\\n\\377\\001'; "
	    ": '\017b\376\017\017'; "
	    "printf 'err line\\n' >&2; exit 3";
	char *bytes[] = { (char *)script, NULL };
	char *big[] = { "head -c 300000 /dev/urandom | od -An -tx1 | head -c 200000", NULL };
	char *sleeper[] = { "sleep", "30", NULL };
	char *missing[] = { "/nonexistent/prog", NULL };
	struct job *j, *many[10];
	char cmd[10][128], *argv[10][4];
	uint64_t t0;
	int i, ok;

	j = start(bytes, 1, 20000);
	wait_jobs(&j, 1, 30);
	ok = j->done && j->r.ran && j->r.code == 3 && j->n[0] == 16 &&
	    memcmp(j->out[0], "a\0b\n===END===\n\377\001", 16) == 0 &&
	    j->n[1] == 9 && memcmp(j->out[1], "err line\n", 9) == 0;
	result("exec-bytes", ok, "code=%d out=%zu err=%zu", j->r.code, j->n[0],
	    j->n[1]);
	free(j);

	j = start(big, 1, 60000);
	t0 = now_ms();
	wait_jobs(&j, 1, 90);
	result("exec-large", j->done && j->r.code == 0 && j->n[0] == 200000,
	    "200000 bytes of output in %llu ms, got %zu",
	    (unsigned long long)(now_ms() - t0), j->n[0]);
	free(j);

	for (i = 0; i < 10; i++) {
		snprintf(cmd[i], sizeof(cmd[i]), "echo job%d; sleep 0.%d; "
		    "echo done%d >&2; exit %d", i, i, i, i);
		argv[i][0] = cmd[i];
		argv[i][1] = NULL;
		many[i] = start(argv[i], 1, 20000);
	}
	wait_jobs(many, 10, 60);
	for (i = 0, ok = 1; i < 10; i++) {
		char o[32], e[32];

		snprintf(o, sizeof(o), "job%d\n", i);
		snprintf(e, sizeof(e), "done%d\n", i);
		if (!(many[i]->done && many[i]->r.code == i &&
		    many[i]->n[0] == strlen(o) &&
		    memcmp(many[i]->out[0], o, strlen(o)) == 0 &&
		    many[i]->n[1] == strlen(e) &&
		    memcmp(many[i]->out[1], e, strlen(e)) == 0)) {
			printf("    job %d: done=%d code=%d out=%zu err=%zu "
			    "error='%s'\n", i, many[i]->done, many[i]->r.code,
			    many[i]->n[0], many[i]->n[1], many[i]->r.error);
			ok = 0;
		}
		free(many[i]);
	}
	result("exec-parallel", ok, "10 commands in flight");

	j = start(sleeper, 0, 1000);
	t0 = now_ms();
	wait_jobs(&j, 1, 30);
	result("exec-timeout", j->done && j->r.timed_out && j->r.signal == 9,
	    "killed after %llu ms (signal %d)",
	    (unsigned long long)(now_ms() - t0), j->r.signal);
	free(j);

	j = start(sleeper, 0, 0);
	for (i = 0; i < 5; i++)
		pump(100);
	{
		size_t k;

		for (k = 0; k < CHAN_MAX_EXECS; k++)
			if (ch.execs[k].cb.ctx == j)
				chan_cancel(&ch, ch.execs[k].id);
	}
	wait_jobs(&j, 1, 30);
	result("exec-cancel", j->done && j->r.cancelled && j->r.signal == 9,
	    "cancelled=%d signal=%d", j->r.cancelled, j->r.signal);
	free(j);

	{
		/* stdin: 150000 bytes in, through cat, the same bytes out */
		static uint8_t in[150000];
		char *catv[] = { "cat", NULL };
		uint32_t id = 0;
		size_t sent = 0, k, room;
		int eof = 0;

		for (k = 0; k < sizeof(in); k++)
			in[k] = (uint8_t)(k * 31 + k / 7);
		j = start(catv, CHAN_EXEC_STDIN, 60000);
		for (k = 0; k < CHAN_MAX_EXECS; k++)
			if (ch.execs[k].cb.ctx == j)
				id = ch.execs[k].id;
		t0 = now_ms();
		while (!j->done && now_ms() - t0 < 90000) {
			while (!eof && (room = chan_stdin_room(&ch, id)) > 0) {
				size_t n = sizeof(in) - sent;

				if (n > room)
					n = room;
				if (n > FRAME_PAYLOAD_MAX)
					n = FRAME_PAYLOAD_MAX;
				if (n == 0) {
					chan_stdin(&ch, id, NULL, 0);
					eof = 1;
					break;
				}
				if (chan_stdin(&ch, id, in + sent, n) == -1)
					break;
				sent += n;
			}
			pump(50);
		}
		result("exec-stdin", j->done && j->r.code == 0 &&
		    j->n[0] == sizeof(in) && memcmp(j->out[0], in, sizeof(in)) == 0,
		    "%zu bytes through cat in %llu ms, got %zu back", sent,
		    (unsigned long long)(now_ms() - t0), j->n[0]);
		free(j);
	}

	j = start(missing, 0, 5000);
	wait_jobs(&j, 1, 30);
	result("exec-missing", j->done && !j->r.ran &&
	    strstr(j->r.error, "No such file") != NULL, "error '%s'", j->r.error);
	free(j);
}

int
main(int argc, char *argv[])
{
	char *slave;
	pid_t pid;
	int status, i;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: chantest AGENT [VXN-INIT]\n");
		return 2;
	}
	srand(42);
	for (i = 0; i < 2; i++) {
		uint64_t end;

		noise_on = i;
		if ((master = posix_openpt(O_RDWR | O_NOCTTY)) == -1 ||
		    grantpt(master) == -1 || unlockpt(master) == -1 ||
		    (slave = ptsname(master)) == NULL) {
			perror("pty");
			return 1;
		}
		if ((pid = fork()) == 0) {
			execl(argv[1], argv[1], "-q", slave, (char *)NULL);
			_exit(127);
		}
		chan_init(&ch, on_noise, NULL, NULL);
		end = now_ms() + 10000;
		while (!ch.ready && now_ms() < end)
			pump(100);
		result("ready", ch.ready, "agent '%s'", ch.agent);
		if (ch.ready)
			scenarios();
		if (noise_on)
			printf("chan: noise %llu bytes, resends seen %llu, frames "
			    "dropped out of order %llu, bad crc %llu\n",
			    (unsigned long long)noise_bytes,
			    (unsigned long long)ch.resent_seen,
			    (unsigned long long)ch.dropped,
			    (unsigned long long)ch.parser.st.bad_crc);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		close(master);
	}
	/* vxn compatibility: the legacy markers against vxn-init on a PTY */
	if (argc > 2) {
		struct job *j;
		char *vargv[] = { "echo hi; echo err >&2; exit 3", NULL };
		uint64_t end;

		noise_on = 0;
		if ((master = posix_openpt(O_RDWR | O_NOCTTY)) == -1 ||
		    grantpt(master) == -1 || unlockpt(master) == -1 ||
		    (slave = ptsname(master)) == NULL)
			return 1;
		if ((pid = fork()) == 0) {
			execl("/bin/sh", "sh", argv[2], slave, "--no-poweroff",
			    (char *)NULL);
			_exit(127);
		}
		chan_init(&ch, on_noise, NULL, NULL);
		chan_set_vxn(&ch);
		end = now_ms() + 10000;
		while (!ch.ready && now_ms() < end)
			pump(100);
		result("vxn-ready", ch.ready, "===PONG=== seen");
		j = start(vargv, 1, 20000);
		wait_jobs(&j, 1, 30);
		result("vxn-exec", j->done && j->r.ran && j->r.code == 3 &&
		    j->n[0] == 7 && memcmp(j->out[0], "hi\nerr\n", 7) == 0,
		    "code=%d out=%zu (stderr merged, as vxn does)", j->r.code,
		    j->n[0]);
		free(j);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		chan_free(&ch);
		close(master);
	}
	printf("%u passed, %u failed\n", passes, fails);
	return fails ? 1 : 0;
}
