/*
 * probe/child.c: run a piece of the probe in a forked child and read back what it said.
 *
 * A driver can crash (SIGSEGV in its enumeration), hang, or print to stdout. The child sends one
 * compact JSON object per line through a pipe, flushed at once, so that after a crash the parent
 * still holds everything sent before it, including the last {"phase": ...}: the step that crashed.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_MAX_OUTPUT (64u << 20)

void child_send(FILE *out, json_t *msg)
{
	if (!msg)
		return;
	/* JSON_COMPACT escapes newlines inside strings: one message is one line. */
	json_dumpf(msg, out, JSON_COMPACT);
	fputc('\n', out);
	fflush(out);
	json_decref(msg);
}

void child_phase(FILE *out, const char *step, int device, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	child_send(out, json_pack("{s:s, s:s, s:i}", "phase", text, "step", step, "device", device));
}

const char *signal_name(int sig)
{
	static const struct { int sig; const char *name; } names[] = {
		{ SIGSEGV, "SIGSEGV" }, { SIGBUS, "SIGBUS" }, { SIGABRT, "SIGABRT" },
		{ SIGILL, "SIGILL" },   { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGTERM, "SIGTERM" }, { SIGTRAP, "SIGTRAP" }, { SIGPIPE, "SIGPIPE" },
		{ SIGSYS, "SIGSYS" },   { SIGINT, "SIGINT" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "an unknown signal";
}

void child_describe(const struct child_out *res, char *buf, size_t len)
{
	const char *phase = res->phase ? json_string_value(json_object_get(res->phase, "phase"))
				       : NULL;
	char how[128];

	if (res->timed_out)
		snprintf(how, sizeof(how), "hung (killed after the time limit)");
	else if (res->signal)
		snprintf(how, sizeof(how), "crashed with %s", signal_name(res->signal));
	else
		snprintf(how, sizeof(how), "exited with status %d", res->exit_code);
	if (phase)
		snprintf(buf, len, "%s while %s", how, phase);
	else
		snprintf(buf, len, "%s", how);
}

/* The child's side: never returns; _exit skips the parent's atexit handlers and stdio buffers. */
static void child_main(int fd, child_fn fn, void *arg)
{
	FILE *out;

	vb_cleanup_forget(); /* the parent's temporary files are the parent's to remove */
	/* A driver printing to stdout must not land in the parent's --json. */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	out = fdopen(fd, "w");
	if (!out)
		_exit(127);
	fn(out, arg);
	fflush(out);
	_exit(0);
}

/* Read everything the child writes until EOF or the deadline. Returns 1 on timeout. */
static int read_all(int fd, double deadline_ms, char **buf, size_t *len)
{
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline_ms - vb_now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return 1;
		r = poll(&pfd, 1, left > 1e6 ? 1000000 : (int)left + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			continue; /* the loop re-checks the deadline */
		if (*len + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf = ncap <= CHILD_MAX_OUTPUT ? realloc(*buf, ncap) : NULL;

			if (!nbuf)
				return 0; /* too much output: keep what we have */
			*buf = nbuf;
			cap = ncap;
		}
		n = read(fd, *buf + *len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* Split the output into messages; a truncated last line (a crash mid-write) is dropped. */
static void parse_lines(char *buf, size_t len, struct child_out *res)
{
	char *line = buf, *end = buf ? buf + len : NULL;

	while (line && line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		json_t *msg;

		if (!nl)
			break;
		*nl = '\0';
		msg = json_loads(line, 0, NULL);
		if (json_is_object(msg)) {
			json_array_append_new(res->msgs, msg);
			if (json_object_get(msg, "phase"))
				res->phase = msg;
		} else {
			json_decref(msg);
		}
		line = nl + 1;
	}
}

static void reap(pid_t pid, int timed_out, struct child_out *res)
{
	int status = 0;

	if (timed_out)
		kill(pid, SIGKILL); /* our own child, by its pid */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->timed_out = timed_out;
	res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (timed_out)
		res->signal = 0;
}

int child_run(child_fn fn, void *arg, double timeout_s, struct child_out *res,
	      struct vb_err *err)
{
	int fds[2];
	pid_t pid;
	char *buf = NULL;
	size_t len = 0;
	int timed_out, slot;

	memset(res, 0, sizeof(*res));
	timeout_s = probe_timeout_s(timeout_s);
	res->msgs = json_array();
	if (!res->msgs)
		return vb_errf(err, VB_E_NOMEM, "out of memory");
	/* O_CLOEXEC: a helper a driver execs (a linker) must not hold the pipe open. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return vb_errf(err, VB_E_IO, "cannot create a pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return vb_errf(err, VB_E_IO, "cannot fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], fn, arg);
	}
	close(fds[1]);
	slot = vb_cleanup_child(pid); /* stopped with voxbench */
	timed_out = read_all(fds[0], vb_now_ms() + timeout_s * 1e3, &buf, &len);
	close(fds[0]);
	reap(pid, timed_out, res);
	vb_cleanup_done(slot);
	parse_lines(buf, len, res);
	free(buf);
	return VB_OK;
}

double probe_timeout_s(double default_s)
{
	const char *env = getenv("VOXBENCH_DRIVER_TIMEOUT");
	char *end;
	double v = env && *env ? strtod(env, &end) : 0;

	/* tests and slow machines set it; a value that is not a positive number is ignored */
	return env && *env && !*end && v > 0 && v < 1e6 ? v : default_s;
}

void child_out_free(struct child_out *res)
{
	json_decref(res->msgs);
	memset(res, 0, sizeof(*res));
}
