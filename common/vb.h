/*
 * common/vb.h: what every folder shares: status codes, the error buffer, clocks, host facts.
 *
 * Functions across voxbench return an int status: VB_OK (0) or a negative VB_E_* code, and on
 * failure fill a `struct vb_err` with one line that says what is wrong and, where there is one,
 * what to do. Only main() turns a status into an exit code.
 */
#ifndef VB_COMMON_H
#define VB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define VOXBENCH_VERSION "0.1.0"

enum vb_status {
	VB_OK = 0,
	VB_E_ARGS = -1,        /* bad argument or input: exit 2 */
	VB_E_NOMEM = -2,       /* host allocation failed */
	VB_E_IO = -3,          /* file or pipe error */
	VB_E_DEVICE = -4,      /* OpenCL/CUDA call failed */
	VB_E_UNSUPPORTED = -5, /* op/dtype/device combination not supported: a 'skip' row */
	VB_E_TOO_BIG = -6,     /* does not fit the device or host memory: a 'skip' row */
	VB_E_NOLOADER = -7,    /* the GPU stack (libOpenCL.so.1, libcuda) cannot be loaded */
	VB_E_BUILD = -8,       /* kernel compilation failed; the message holds the build log */
	VB_E_NODEVICE = -9,    /* no device matches: exit 3 */
};

struct vb_err {
	char msg[4096];
};

/* Format msg into err (when err is not NULL) and return status, for `return vb_errf(...)`. */
int vb_errf(struct vb_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "VB_E_TOO_BIG" etc. */
const char *vb_status_name(int status);

/* Monotonic wall clock in milliseconds. */
double vb_now_ms(void);
/* CPU time (user + system) of every thread of this process so far, ms: beside wall time it
 * says how many cores a phase kept busy. */
double vb_cpu_ms(void);

/* Total and currently available host memory in bytes (from /proc/meminfo); 0 when unknown. */
uint64_t vb_host_memory_total(void);
uint64_t vb_host_memory_available(void);

/* Bytes this process may still map under RLIMIT_AS (ulimit -v); UINT64_MAX without a limit. */
uint64_t vb_address_space_left(void);
/* " (ulimit -v limits this process to N MiB, M MiB of it free: ...)" under such a limit, else
 * "": appended to messages about memory that ran out. Returns buf. */
const char *vb_memory_limit_hint(char buf[160]);

/* Number of online CPU threads (at least 1). */
int vb_cpu_threads(void);
/*
 * How many threads, this one included, can be started now (at most wanted): fewer when a
 * process limit (ulimit -u) or the address space (ulimit -v, each stack) stops pthread_create.
 * OpenMP aborts the process when it cannot start a thread it was asked for, so ask this first.
 */
int vb_threads_startable(int wanted);

/*
 * Open path for reading, only if it is a regular file: a FIFO, a device, a socket or a folder is
 * refused (VB_E_ARGS, "PATH: not a regular file (a FIFO); give the path of <expected>") without
 * waiting on it, as opening a FIFO would. VB_E_IO when it cannot be opened. *fd is the
 * descriptor (blocking, close-on-exec) on VB_OK.
 */
int vb_open_regular(const char *path, const char *expected, int *fd, struct vb_err *err);

/* The mode a new file gets: 0666 less the umask (mkstemp makes 0600 files). */
unsigned vb_file_mode(void);

/* Overflow-checked a*b; returns 0 and sets *out, or -1 on overflow. */
int vb_mul_size(size_t a, size_t b, size_t *out);

/* Case-insensitive substring test. */
int vb_contains_nocase(const char *haystack, const char *needle);

/* Median of n doubles (sorts a copy); 0 for n == 0. */
double vb_median(const double *v, size_t n);

/* ---- text from outside (common/text.c): reports, file names, drivers ---- */

/*
 * in with every control character (C0, DEL, the C1 controls U+0080..U+009F) and every byte that
 * is not UTF-8 written as an escape (\n, \r, \t, \x1b, \u009b); valid UTF-8 passes. The result
 * fits len bytes, cut between characters, never inside one or inside an escape. Returns out.
 */
char *vb_escape_text(const char *in, char *out, size_t len);
/* The same, of any length, straight to a stream. */
void vb_fputs_escaped(const char *text, FILE *out);
/*
 * A stream that writes what it is given to `to`, escaped as vb_escape_text does except for its
 * own line breaks and tabs: for text read from reports on its way to a terminal. fclose() it
 * (that flushes `to`, which stays open). NULL when out of memory.
 */
FILE *vb_escaping_stream(FILE *to);
/* Drop a UTF-8 character cut short at the end of s (after a truncating snprintf). */
void vb_utf8_trim(char *s);
/* snprintf(dst, len, "%s", src), cut between UTF-8 characters when src does not fit. */
void vb_copy_utf8(char *dst, size_t len, const char *src);
/* A JSON string of text that came from outside (a file, a report, argv): at most 4095 bytes, cut
 * between characters, and bytes that are not UTF-8 made '?' (jansson refuses them); never NULL
 * unless out of memory. */
struct json_t *vb_json_text(const char *text);


/* ---- undone when a signal stops voxbench (common/cleanup.c) ---- */

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT remove the temporary files and folders made below and
 * stop the registered children, then end the process as the signal would. main() calls
 * vb_cleanup_init once. mkstemp / mkdtemp go through vb_mkstemp_tracked / vb_mkdtemp_tracked
 * (signals held off between the creation and the entry), which return what those return and a
 * slot (-1 when the table is full) for vb_cleanup_done once the file is renamed into place or
 * removed, the child reaped.
 */
void vb_cleanup_init(void);
int vb_mkstemp_tracked(char *tmpl, int *slot);
char *vb_mkdtemp_tracked(char *tmpl, int *slot); /* removed with what it holds */
int vb_cleanup_child(pid_t pid);
void vb_cleanup_done(int slot);
/* In a forked child: the parent's files and children are not the child's to undo. */
void vb_cleanup_forget(void);

/*
 * A run that stops between rows (`run`): after vb_stop_graceful, the first SIGINT or SIGTERM
 * only sets a flag, vb_stop_requested (the signal, 0 when none came), which the run checks
 * between rows and in its waits; a second one undoes and ends the process as above. When the
 * run has written what it has, vb_stop_reraise ends it by that signal (the shell sees it).
 */
void vb_stop_graceful(void);
int vb_stop_requested(void);
void vb_stop_reraise(void);

#endif
