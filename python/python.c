/*
 * python/python.c: interpreters found on this machine, the embedded scripts, and a child
 * interpreter run with a JSON-lines channel and deadlines.
 */
#define _GNU_SOURCE
#include "python.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* build/gen/python_embedded.c, made from the python/ scripts by the Makefile */
extern const char *const py_embedded_names[];
extern const char *const py_embedded_texts[];
extern const unsigned py_embedded_count;

#define CHANNEL_FD 3
#define SHARE_FD 4
#define MAX_LINE (256u << 20)
#define STOP_SLICE_MS 200

/* ---- finding interpreters ---- */

static int is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * Which environment an interpreter is: the real file and the real folder it is called from. A
 * virtual environment's bin/python links to the system's python but is another environment
 * (its folder differs); a conda env's python and python3 are one.
 */
static int env_key(const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX], file[PATH_MAX], rdir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (dir[0] ? dir : "/") : ".", rdir) || !realpath(path, file))
		return 0;
	snprintf(buf, len, "%s\n%s", rdir, file);
	return 1;
}

static void add(struct py_interps *out, const char *path, const char *origin)
{
	char key[2 * PATH_MAX + 2], other[2 * PATH_MAX + 2];
	struct py_interp *it;
	int exists = is_executable(path);

	if (out->n == PY_MAX_INTERPS)
		return;
	if (exists && env_key(path, key, sizeof(key))) {
		for (size_t i = 0; i < out->n; i++)
			if (out->v[i].exists && env_key(out->v[i].path, other, sizeof(other)) &&
			    strcmp(key, other) == 0)
				return;
	}
	it = &out->v[out->n++];
	snprintf(it->path, sizeof(it->path), "%s", path);
	snprintf(it->origin, sizeof(it->origin), "%s", origin);
	it->exists = exists;
}

/* The first `name` in the folders of $PATH, into buf; 0 when none. */
static int on_path(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH"), *s;

	for (s = path; s && *s;) {
		size_t n = strcspn(s, ":");

		snprintf(buf, len, "%.*s/%s", (int)(n ? n : 1), n ? s : ".", name);
		if (is_executable(buf))
			return 1;
		s += n + (s[n] == ':');
	}
	return 0;
}

void py_find(const char *const *given, size_t ngiven, struct py_interps *out)
{
	const char *conda = getenv("CONDA_PREFIX");
	char path[4096];

	out->n = 0;
	for (size_t i = 0; i < ngiven; i++)
		add(out, given[i], "--python");
	if (conda && *conda) {
		snprintf(path, sizeof(path), "%s/bin/python", conda);
		if (is_executable(path))
			add(out, path, "CONDA_PREFIX");
	}
	if (on_path("python3", path, sizeof(path)))
		add(out, path, "PATH");
}

/* ---- the embedded scripts ---- */

const char *py_script(const char *name)
{
	for (unsigned i = 0; i < py_embedded_count; i++)
		if (strcmp(py_embedded_names[i], name) == 0)
			return py_embedded_texts[i];
	return NULL;
}

int py_script_write(const char *dir, const char *name, char *path, size_t len,
		    struct vb_err *err)
{
	const char *text = py_script(name);
	FILE *f;
	int ok;

	if (!text)
		return vb_errf(err, VB_E_ARGS, "bug: no embedded Python script '%s'", name);
	snprintf(path, len, "%s/%s.py", dir, name);
	f = fopen(path, "w");
	if (!f)
		return vb_errf(err, VB_E_IO, "cannot write %s: %s; set TMPDIR to a writable folder",
			       path, strerror(errno));
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok ? VB_OK : vb_errf(err, VB_E_IO, "cannot write %s: disk full?", path);
}

/* ---- the child ---- */

/* fd as target, kept open across exec (dup2 onto itself would keep its close-on-exec flag). */
static int keep_as(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(int channel, int log, int share, const char *const *argv)
{
	int devnull = open("/dev/null", O_RDONLY);
	const char *msg = "{\"exec_error\": \"cannot run the interpreter\"}\n";

	vb_cleanup_forget(); /* a signal before exec must not undo the parent's files */
	/* the shared file first: moving the channel to 3 must not close it when it is 3 */
	if (share == CHANNEL_FD && (share = fcntl(share, F_DUPFD_CLOEXEC, SHARE_FD + 1)) < 0)
		_exit(126);
	if (channel == SHARE_FD && (channel = fcntl(channel, F_DUPFD_CLOEXEC, SHARE_FD + 1)) < 0)
		_exit(126);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
	    dup2(log, STDERR_FILENO) < 0 || keep_as(channel, CHANNEL_FD) < 0 ||
	    (share >= 0 && keep_as(share, SHARE_FD) < 0))
		_exit(126);
	execv(argv[0], (char *const *)argv);
	/* exec failed: say why on the channel (errno's text is not async-signal-safe: a code) */
	switch (errno) {
	case ENOENT: msg = "{\"exec_error\": \"no such file\"}\n"; break;
	case EACCES: msg = "{\"exec_error\": \"permission denied (not executable)\"}\n"; break;
	case ENOEXEC: msg = "{\"exec_error\": \"not an executable program\"}\n"; break;
	}
	if (write(CHANNEL_FD, msg, strlen(msg)) < 0)
		_exit(127);
	_exit(127);
}

int py_start(struct py_proc *p, const char *interp, const char *script,
	     const char *const *args, const char *log, struct vb_err *err)
{
	return py_start_shared(p, interp, script, args, log, -1, err);
}

int py_start_shared(struct py_proc *p, const char *interp, const char *script,
		    const char *const *args, const char *log, int share_fd, struct vb_err *err)
{
	const char *argv[64];
	int sv[2], logfd, n = 0;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->cleanup_slot = -1;
	snprintf(p->log, sizeof(p->log), "%s", log);
	argv[n++] = interp;
	argv[n++] = script;
	for (int i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd < 0)
		return vb_errf(err, VB_E_IO, "cannot create %s: %s; set TMPDIR to a writable "
			       "folder", log, strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		close(logfd);
		return vb_errf(err, VB_E_IO, "cannot create a socket pair: %s", strerror(errno));
	}
	fflush(stdout);
	fflush(stderr);
	p->pid = fork();
	if (p->pid < 0) {
		p->pid = 0;
		close(sv[0]);
		close(sv[1]);
		close(logfd);
		return vb_errf(err, VB_E_IO, "cannot fork: %s", strerror(errno));
	}
	if (p->pid == 0)
		child_exec(sv[1], logfd, share_fd, argv);
	p->cleanup_slot = vb_cleanup_child(p->pid); /* a second stop signal ends it too */
	close(sv[1]);
	close(logfd);
	p->fd = sv[0];
	return VB_OK;
}

int py_send(struct py_proc *p, const json_t *msg, struct vb_err *err)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, done = 0;
	int status = VB_OK;

	if (!text)
		return vb_errf(err, VB_E_NOMEM, "out of memory");
	len = strlen(text);
	while (p->fd >= 0 && done <= len) {
		/* the line, then its newline; MSG_NOSIGNAL: a dead child is an error, not SIGPIPE */
		const char *from = done < len ? text + done : "\n";
		size_t n = done < len ? len - done : 1;
		ssize_t w = send(p->fd, from, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done <= len)
		status = vb_errf(err, VB_E_IO, "the Python child has gone (%s)",
				 p->fd < 0 ? "closed" : strerror(errno));
	free(text);
	return status;
}

/* A complete line in buf: parse it; 1 when a JSON object came out. */
static int take_line(struct py_proc *p, json_t **msg)
{
	char *nl;

	while ((nl = p->len ? memchr(p->buf, '\n', p->len) : NULL)) {
		size_t n = (size_t)(nl - p->buf);
		json_t *m;

		*nl = '\0';
		m = json_loads(p->buf, 0, NULL);
		memmove(p->buf, nl + 1, p->len - n - 1);
		p->len -= n + 1;
		if (json_is_object(m)) {
			json_t *why = json_object_get(m, "exec_error");

			if (json_is_string(why)) {
				p->exec_failed = 1;
				snprintf(p->exec_error, sizeof(p->exec_error), "%s",
					 json_string_value(why));
			}
			*msg = m;
			return 1;
		}
		json_decref(m);
	}
	return 0;
}

int py_recv(struct py_proc *p, double deadline_ms, json_t **msg)
{
	*msg = NULL;
	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		double left = deadline_ms - vb_now_ms();
		ssize_t n;
		int r;

		if (take_line(p, msg))
			return PY_MSG;
		if (p->fd < 0)
			return PY_EOF;
		if (left <= 0)
			return PY_TIMEOUT;
		if (vb_stop_requested())
			return PY_CUT;
		/* in slices: a stop signal that comes just before poll is seen within one */
		r = poll(&pfd, 1, left > STOP_SLICE_MS ? STOP_SLICE_MS : (int)left + 1);
		if (r < 0 && errno != EINTR)
			return PY_EOF;
		if (r <= 0)
			continue;
		if (p->len + 65536 + 1 > p->cap) {
			size_t ncap = p->cap ? p->cap * 2 : 65536 * 2;
			char *nbuf = ncap <= MAX_LINE ? realloc(p->buf, ncap) : NULL;

			if (!nbuf) { /* a line longer than anything we send back: drop it */
				p->len = 0;
				continue;
			}
			p->buf = nbuf;
			p->cap = ncap;
		}
		n = read(p->fd, p->buf + p->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(p->fd);
			p->fd = -1;
			continue; /* a last line without its newline is dropped: it was cut short */
		}
		p->len += (size_t)n;
	}
}

void py_stop(struct py_proc *p, int kill_it)
{
	int status = 0;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
	if (p->pid <= 0)
		return;
	if (kill_it) {
		kill(p->pid, SIGKILL); /* our own child, by its pid */
		p->timed_out = 1;
	}
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	vb_cleanup_done(p->cleanup_slot);
	p->cleanup_slot = -1;
	p->pid = 0;
	p->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	p->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (p->timed_out)
		p->signal = 0;
}

static const char *sig_name(int sig)
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

void py_describe(const struct py_proc *p, char *buf, size_t len)
{
	if (p->exec_failed)
		snprintf(buf, len, "could not be started: %s", p->exec_error);
	else if (p->timed_out)
		snprintf(buf, len, "hung (killed after the time limit)");
	else if (p->signal)
		snprintf(buf, len, "crashed with %s", sig_name(p->signal));
	else
		snprintf(buf, len, "exited with status %d", p->exit_code);
}

void py_log_tail(const struct py_proc *p, char *buf, size_t len)
{
	char text[4097];
	FILE *f = fopen(p->log, "r");
	size_t n = 0;
	long size;
	char *end, *start;

	buf[0] = '\0';
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		fseek(f, size > 4096 ? size - 4096 : 0, SEEK_SET);
		n = fread(text, 1, 4096, f);
	}
	fclose(f);
	text[n] = '\0';
	end = text + n;
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	start = start ? start + 1 : text;
	snprintf(buf, len, "%s", start);
}

void py_shell_quote(const char *text, char *buf, size_t len)
{
	size_t n = 0;

	if (text[0] && strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_./:=+@%-") == strlen(text)) {
		snprintf(buf, len, "%s", text);
		return;
	}
	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return;
	}
	buf[n++] = '\'';
	for (const char *s = text; *s && n + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
}

double py_timeout_s(const char *name, double def)
{
	const char *v = getenv(name);
	char *end;
	double s;

	if (!v || !*v)
		return def;
	s = strtod(v, &end);
	return end != v && !*end && s > 0 && s < 1e6 ? s : def;
}
