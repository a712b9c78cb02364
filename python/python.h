/*
 * python/python.h: the user's Python interpreters, found and talked to.
 *
 * voxbench ships two Python scripts, embedded in the binary at build time as the kernels are
 * (python/probe.py for `voxbench probe`'s Python section, python/peer.py for `voxbench run
 * --peer`). They run in a child process of the interpreter under test, never in voxbench: a
 * crashing import (a driver's SIGSEGV) or a hang ends that child, which the caller reports.
 *
 *   struct py_interps found;
 *   py_find(given, ngiven, &found);             // --python, $CONDA_PREFIX/bin/python, PATH
 *   py_script_write(dir, "probe", path, ...);   // the embedded script as dir/probe.py
 *   py_start(&proc, found.v[0].path, path, args, log, &err);
 *   while (py_recv(&proc, deadline, &msg) == PY_MSG) ...   // one JSON object per line
 *   py_stop(&proc, 0);
 *
 * The child talks over its file descriptor 3 (a socket pair: requests in, JSON lines out);
 * its stdin is /dev/null and its stdout and stderr go to a log file, so that a library printing
 * to stdout cannot corrupt the messages (or voxbench's --json). Nothing is passed through a
 * shell: the interpreter is exec'd with an argument vector. The environment is inherited, so
 * PYTHONPATH, CONDA_PREFIX and the user's site-packages apply as they do for the user.
 */
#ifndef VB_PYTHON_H
#define VB_PYTHON_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/vb.h"

#define PY_MAX_INTERPS 16

struct py_interp {
	char path[4096];
	char origin[32];   /* "--python", "CONDA_PREFIX" or "PATH" */
	int exists;        /* an executable file (a --python path may not be) */
};

struct py_interps {
	struct py_interp v[PY_MAX_INTERPS];
	size_t n;
};

/*
 * The interpreters to try, in order: each of given[] (kept even when missing, so the caller
 * can say so), $CONDA_PREFIX/bin/python, then the first python3 on PATH. The same file reached
 * twice (a symbolic link, PATH naming the conda env) is listed once.
 */
void py_find(const char *const *given, size_t ngiven, struct py_interps *out);

/* The text of an embedded script ("probe", "peer"), or NULL. */
const char *py_script(const char *name);
/* Write the embedded script `name` as dir/<name>.py; its path into path. */
int py_script_write(const char *dir, const char *name, char *path, size_t len,
		    struct vb_err *err);

/* A running script. */
struct py_proc {
	pid_t pid;          /* 0 when not running */
	int fd;             /* our end of the socket pair, -1 when closed */
	char *buf;          /* bytes received and not yet returned as lines */
	size_t len, cap;
	char log[4096];     /* its stdout and stderr */
	int exit_code;      /* after py_stop: -1 when a signal ended it */
	int signal;         /* after py_stop: the signal that ended it, 0 when none */
	int timed_out;      /* py_stop was asked to kill it after a deadline */
	int exec_failed;    /* the interpreter could not be started (exit 127 before any output) */
	int cleanup_slot;   /* its vb_cleanup_child entry, -1 when none */
	char exec_error[256];
};

/*
 * Start `interp script args...` (args NULL-terminated, may be NULL) with the channel on fd 3,
 * its output into the file `log`. VB_E_IO when the socket pair or fork fails; an interpreter
 * that cannot be exec'd is seen by the caller as an exit (py_stop: exec_failed).
 */
int py_start(struct py_proc *p, const char *interp, const char *script,
	     const char *const *args, const char *log, struct vb_err *err);

/*
 * py_start with share_fd (when >= 0) open in the child as its file descriptor 4: a file both
 * sides read and write (ops/peers.c hands stacks over in one, not through the channel).
 */
int py_start_shared(struct py_proc *p, const char *interp, const char *script,
		    const char *const *args, const char *log, int share_fd, struct vb_err *err);

/* Send one JSON message as one line (the reference is not taken). VB_E_IO when it has gone. */
int py_send(struct py_proc *p, const json_t *msg, struct vb_err *err);

enum py_recv_status { PY_MSG, PY_EOF, PY_TIMEOUT, PY_CUT };
/*
 * The next line that is a JSON object, waiting until deadline_ms (vb_now_ms's clock).
 * PY_MSG with *msg (the caller's reference); PY_EOF when the child closed the channel (it
 * exited or crashed: py_stop says how); PY_TIMEOUT at the deadline; PY_CUT when a signal asked
 * the run to stop (vb_stop_requested) before a message came. Other lines are skipped.
 */
int py_recv(struct py_proc *p, double deadline_ms, json_t **msg);

/* Close the channel, kill the child (SIGKILL to its pid) when kill_it, reap it; sets
 * exit_code and signal. Safe on a stopped or zeroed py_proc. */
void py_stop(struct py_proc *p, int kill_it);

/* How it ended: "crashed with SIGSEGV", "hung (killed after the time limit)", "exited with
 * status 1", "could not be started: No such file or directory". */
void py_describe(const struct py_proc *p, char *buf, size_t len);

/* The last non-empty line of its log (a Python traceback's error line), "" when none. */
void py_log_tail(const struct py_proc *p, char *buf, size_t len);

/* text quoted for a POSIX shell when it holds anything but [A-Za-z0-9_./:=+@%-]. */
void py_shell_quote(const char *text, char *buf, size_t len);

/* Seconds from the environment variable `name` (a positive number), else def. */
double py_timeout_s(const char *name, double def);

#endif
