/*
 * probe/internal.h: what the files of probe/ share; nothing outside probe/ includes it.
 *
 * The probe is a table of checks (probe.c). Each check appends results to `struct probe`:
 * a verdict, a one-line summary, a detail, and the command that fixes it. Anything that can
 * crash or hang (a vendor's driver, libcuda) runs in a child process (child.c), so one broken
 * driver is reported instead of killing the probe. The parent never calls an OpenCL function:
 * ocl-icd reads OCL_ICD_VENDORS once, on the first call, and each child must set its own.
 */
#ifndef VB_PROBE_INTERNAL_H
#define VB_PROBE_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "probe.h"

enum verdict { V_OK, V_WARN, V_FAIL, V_SKIP };

struct check_result {
	const char *id;       /* the check's id from the table: "loader", "icd", "smoke"... */
	char subject[256];    /* what it is about: a file, a device; "" when the check is global */
	enum verdict status;
	char summary[512];
	char detail[4096];
	char fix[1024];
};

/* An OpenCL driver: registered (a .icd file, an OCL_ICD_FILENAMES entry) or merely present. */
struct vendor {
	char label[256];    /* "pocl.icd", or the library's file name */
	char icd[4096];     /* the .icd file; "" for a library named by a variable */
	char origin[32];    /* that variable: "OCL_ICD_FILENAMES" or "OCL_ICD_VENDORS" */
	char library[4096]; /* the first line of the .icd: what the loader dlopens */
	int icd_errno;      /* the .icd cannot be read: why (EACCES...); 0 when it was read */
	char resolved[4096];/* the file the dynamic linker opened; "" when it did not load */
	int registered;     /* 0: present on the system, found by the registered check */
	int usable;         /* loads and resolves clIcdGetPlatformIDsKHR */
	int ndevices;       /* listed by its child, -1 when it was not enumerated */
	char devices[512];  /* their names, for the registered check's summary */
	int ncpu;           /* of those, CPU devices (benchmarked only when they will be used) */
	size_t dev_base;    /* the index of its first device in probe.devices */
	double child_ms;    /* wall time of its children */
	int same_as;        /* an earlier vendor that loads the same file, or -1 */
};

#define PROBE_MAX_RESULTS 256
#define PROBE_MAX_VENDORS 64

struct probe {
	struct probe_options opt;
	double started_ms;
	struct check_result res[PROBE_MAX_RESULTS];
	size_t nres;

	/* loader */
	int have_loader;
	int loader_is_ocl_icd;
	json_t *loader;       /* the JSON "loader" object */

	/* vendors */
	char vendor_source[64]; /* "OCL_ICD_VENDORS", "default", "conda prefix"... */
	char vendor_dir[4096];  /* the folder of .icd files in use; "" when none */
	struct vendor vendors[PROBE_MAX_VENDORS];
	size_t nvendors;
	size_t nregistered;     /* vendors[0 .. nregistered) are registered */
	char tmpdir[4096];      /* per-vendor folders handed to children */
	int tmpdir_slot;        /* its vb_cleanup_folder slot */

	/* platforms and devices, as the JSON arrays they become */
	json_t *platforms;
	json_t *devices;

	/* CUDA */
	json_t *cuda;
	json_t *nvrtc;

	/* Python interpreters and what their libraries said (python.c) */
	json_t *python;
	struct py_runs *py_runs; /* the Python probe's children, started by python_start */

	json_t *timings;        /* check id -> wall milliseconds, in run order */
};

/* ---- the probe itself (probe.c) ---- */

/* A probe with its temporary folder (NULL and err when that cannot be made); probe_free. */
struct probe *probe_new(const struct probe_options *opt, struct vb_err *err);
void probe_free(struct probe *p);

/* ---- results (result.c) ---- */

/* Append a result; the summary is formatted. Never NULL: past the cap it reuses the last slot. */
struct check_result *probe_add(struct probe *p, const char *id, enum verdict v,
			       const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void result_summary(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void result_detail(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void result_fix(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *verdict_name(enum verdict v); /* "ok", "warn", "fail", "skip" */

/* ---- child processes (child.c) ---- */

/* What a child wrote and how it ended. */
struct child_out {
	json_t *msgs;      /* array of the JSON messages it sent, in order */
	int exit_code;     /* -1 when a signal ended it */
	int signal;        /* the signal that ended it, 0 when none */
	int timed_out;     /* it was killed after the time limit */
	json_t *phase;     /* the last {"phase": ...} message (borrowed from msgs), or NULL */
};

/* The body of a child: sends messages with child_send(), then returns. */
typedef void (*child_fn)(FILE *out, void *arg);

/*
 * Run fn(arg) in a forked child and collect its messages. The child's stdout goes to stderr so
 * that a chatty driver cannot corrupt --json. VB_E_IO when the fork or pipe fails.
 */
int child_run(child_fn fn, void *arg, double timeout_s, struct child_out *res,
	      struct vb_err *err);
void child_out_free(struct child_out *res);
/* How long a child may take: VOXBENCH_DRIVER_TIMEOUT (seconds) when set, else default_s. */
double probe_timeout_s(double default_s);
/* Send one message (the reference is stolen) as one line, flushed at once. */
void child_send(FILE *out, json_t *msg);
/* Send {"phase": text, "step": step, "device": device} before a step that may crash. */
void child_phase(FILE *out, const char *step, int device, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "SIGSEGV" for 11. */
const char *signal_name(int sig);
/* "crashed with SIGSEGV while listing platforms", "hung for 120 s while ...", "exited with 3" */
void child_describe(const struct child_out *res, char *buf, size_t len);

/* ---- checks, by file ---- */

void check_loader(struct probe *p);      /* loader.c */
void check_vendors(struct probe *p);
void check_icds(struct probe *p);
void check_registered(struct probe *p);
void check_devnodes(struct probe *p);    /* system.c */
void check_environment(struct probe *p);
void check_platforms(struct probe *p);   /* platforms.c */
void check_devices(struct probe *p);
void check_smoke(struct probe *p);
void check_bench(struct probe *p);
void check_gpu(struct probe *p);
/* The exit code (enum probe_exit) and the device that earned it (borrowed, or NULL). */
int probe_outcome(const struct probe *p, json_t **used);
void check_cuda(struct probe *p);        /* cuda.c */
void check_nvrtc(struct probe *p);
void check_python(struct probe *p);      /* python.c */
/* Start every interpreter's Python probe now; check_python reads what they say (and starts them
 * itself when nothing did). --quick starts them before the other checks, so their imports
 * (CuPy's, seconds) overlap them; the full probe lets check_python start them, after the
 * micro-benchmarks, which a child's GPU work would disturb. */
void python_start(struct probe *p);
void python_runs_free(struct probe *p);

/* ---- OpenCL work done inside a vendor's child (opencl.c) ---- */

/* What a vendor child is told. */
struct vendor_job {
	const struct vendor *vendor;
	const char *vendors_dir;   /* OCL_ICD_VENDORS for the child: a folder with one .icd */
	int quick;
	int enumerate_only;        /* list devices, run nothing (unregistered drivers) */
	int bench_cpu;             /* benchmark CPU devices too (else only their smoke test) */
	int cpu_bench_only;        /* a second pass: benchmark the CPU devices, send nothing else */
	const char *device_spec;   /* --device, or NULL */
	int first_index;           /* the probe-wide index of this vendor's first device */
};
/* The child's body: enumerate platforms and devices, run the smoke test and benchmarks. */
void vendor_child(FILE *out, void *arg);

/* ---- small helpers (util.c) ---- */

/* json_real, or null for NaN and infinities (JSON has no NaN). */
json_t *json_num(double x);
/* "sudo " when the current user cannot write into folder, else "". */
const char *sudo_for(const char *folder);
/* The base name of a path (a pointer into it). */
const char *base_name(const char *path);
/* The ID and ID_LIKE of /etc/os-release, lower case, space-separated ("ubuntu debian"). */
void os_ids(char *buf, size_t len);
/* The command that installs package `what` on this distribution (falls back to a list). */
void install_hint(char *buf, size_t len, const char *deb, const char *rpm, const char *arch);

#endif
