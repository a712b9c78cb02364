/*
 * reports/report.h: result rows and the report that holds them; JSON (the source of truth),
 * the text table, and reading a report back.
 *
 * Measuring code only fills rows; this folder turns the same array into every format. Rows hold
 * plain values (names, not table pointers) so that a report read back from JSON is the same thing
 * as one just measured. Numbers never depend on the locale. Values that were not measured are NaN
 * in memory and null in JSON.
 */
#ifndef VB_REPORT_H
#define VB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../common/vb.h"

#define REPORT_SCHEMA "voxbench-report/1"
#define REPORT_MAX_PARAMS 16
#define REPORT_TABLE_ROWS 1000

enum row_status { ROW_PASS, ROW_FAIL, ROW_SKIP, ROW_ERROR };
const char *row_status_name(enum row_status s); /* "pass", "fail", "skip", "error" */

struct timing {
	double median, min, max;
	int runs;
};

struct param_value {
	char name[32];
	double value;
	int is_int;
};

struct row_delta {
	double max_abs, mean_abs, rmse, tolerance;
	uint64_t mismatches;       /* voxels that fail the rule */
	uint64_t ambiguous;        /* voxels that differ where the decision lay within tolerance */
	int64_t labels_gpu, labels_ref; /* label images: distinct labels per side; else -1 */
};

/* Where a row's wall time went, phase by phase (ms; NaN for a phase the row did not have). The
 * stack and its derived inputs are made once per block: the row that needed them first has it;
 * so has the first device's row the reference, which every device's row shares. */
enum row_phase {
	PHASE_STACK, PHASE_INPUTS, PHASE_UPLOAD, PHASE_WARMUP, PHASE_TIMED, PHASE_DOWNLOAD,
	PHASE_REFERENCE, PHASE_COMPARE, PHASE_START, PHASE_COUNT
};
/* "stack", "inputs", "upload", "warmup" (compiles), "timed", "download", "reference",
 * "compare", "start" (a peer's child started in the row: ops/peers.c): the keys of a row's
 * phases_ms */
const char *row_phase_name(enum row_phase p);

struct result_row {
	char op[64];
	char category[32];
	int nparams;
	struct param_value params[REPORT_MAX_PARAMS];
	char backend[32];          /* "opencl", "cuda", or a peer: "pyclesperanto-opencl", "cupy" */
	char device[256];
	char stack_name[32];
	char stack_source[512];
	uint64_t width, height, depth;
	char dtype[8];
	char stack_sha256[65];     /* of the input file, "" for synthetic stacks */
	int frame, channel;        /* of the input file, -1 for synthetic stacks */
	enum row_status status;
	char reason[4096];
	struct timing gpu;         /* kernel time from device events */
	double h2d_ms, d2h_ms;     /* wall clock of the transfers */
	int pinned;                /* transfers from page-locked host memory: 1, 0, -1 not known */
	double pin_ms;             /* time to page-lock (and later unlock) the host stacks */
	double compile_ms;
	int cache_hit;             /* 1 hit, 0 miss, -1 not known */
	double cpu_ms;             /* median of the reference's runs */
	double cpu_min_ms, cpu_max_ms; /* their spread: a busy machine shows here first */
	int cpu_runs, cpu_threads;
	double speedup;            /* cpu_ms / gpu median */
	double speedup_with_transfers;
	uint64_t bytes_moved;
	double effective_gbps;
	double bandwidth_fraction; /* effective_gbps / the device's measured copy bandwidth */
	int has_delta;
	struct row_delta delta;
	/* A table op's output (rows x columns of f32, the first REPORT_TABLE_ROWS rows; owned by the
	 * report once added; NULL for other ops and for rows read back from JSON). */
	float *table;
	const char *const *table_columns;
	uint32_t table_cols, table_rows, table_rows_total;
	char side_name[32];        /* a value the op computes besides its output ("threshold"), or "" */
	double side_gpu, side_cpu; /* that value from the GPU and from the CPU reference */
	double phase_ms[PHASE_COUNT];
	double wall_ms;            /* the whole row, its phases and what lies between them */
};

struct device_info {
	char backend[32];
	char platform[256];
	char name[256];
	char vendor[256];
	char driver_version[128];
	char type[16];             /* "gpu", "cpu", "accelerator", "other" */
	uint64_t global_mem_bytes, max_alloc_bytes, local_mem_bytes;
	unsigned compute_units, max_clock_mhz;
	double copy_gbps;          /* copy bandwidth the probe measured (read + write); NaN if not */
};

struct host_info {
	char hostname[256];
	char os[256];
	char kernel[256];
	char cpu_model[256];
	int cpu_threads;
	uint64_t memory_bytes;
	/* the 1-minute load average (/proc/loadavg) when the run started and ended; NaN: not
	 * known (an older report) */
	double load_start, load_end;
};

struct report {
	char schema[32];
	char voxbench_version[32];
	char created[32];          /* ISO 8601 UTC */
	struct host_info host;
	size_t ndevices;
	struct device_info *devices;
	size_t nrows, cap_rows;
	struct result_row *rows;
	char *probe_json;          /* the probe's device section as JSON text (malloc'd), or NULL */
	char *peers_json;          /* the peers of `run --peer` as a JSON array (malloc'd), or NULL */
	/* programs compiled before the rows ran (ops/prebuild.c): 0 programs when none were */
	size_t prebuild_programs, prebuild_devices, prebuild_failed;
	int prebuild_threads;
	double prebuild_ms, prebuild_cpu_ms;
	int prebuild_beside_references; /* compiled while the first references ran */
	double wall_ms, cpu_ms; /* the whole run's wall and CPU time (every thread); 0 when unknown */
	int cut_signal;            /* a signal stopped the run before its end: its rows so far */
};

/* The 1-minute load average now (/proc/loadavg), NaN where there is none. */
double host_load_average(void);
/* Stamp the run's end: the load average as the rows finish (before the report is written). */
void report_finish(struct report *r);
/*
 * Whether the report's timings may be disturbed: the machine was busy (a load average above
 * 3/4 of its threads at the start or end of the run) or the GPU times spread widely (max - min
 * above half the median in a fifth of the timed rows). buf gets one line saying which and what
 * to do; 0 and "" when neither.
 */
int report_noise_text(const struct report *r, char *buf, size_t len);
/* Empty report stamped with schema, version, the current UTC time and this host. */
int report_init(struct report *r, struct vb_err *err);
void report_free(struct report *r);
int report_add_device(struct report *r, const struct device_info *d, struct vb_err *err);
/* Append a row (copied). */
int report_add_row(struct report *r, const struct result_row *row, struct vb_err *err);
/* What a row says besides its numbers: "threshold 0.42 (CPU 0.42); labels 17 (CPU 17)", or "". */
void row_notes(const struct result_row *row, char *buf, size_t len);
/* A row with every number NaN and status error: fill in what was measured. */
void result_row_init(struct result_row *row);

/* Write the JSON report to path atomically (temporary file in the same folder, then rename). */
int report_write_json(const struct report *r, const char *path, struct vb_err *err);
/* The JSON report as text, as report_write_json writes it (malloc'd; NULL: out of memory). */
char *report_json_text(const struct report *r);
/* "voxbench-report/1" and "voxbench-report/1.2" share major 1 with REPORT_SCHEMA: 1; else 0. */
int report_schema_compatible(const char *schema);
/* Read a report written by report_write_json; refuses another major schema version. */
int report_read_json(const char *path, struct report *r, struct vb_err *err);
/* The same from a JSON tree already parsed (path only names it in messages). */
struct json_t;
int report_from_json(const struct json_t *root, const char *path, struct report *r,
		     struct vb_err *err);
/* The run's text table: op, size, dtype, GPU ms, CPU ms, speedup, GB/s, max |delta|, verdict. */
void report_print_table(const struct report *r, FILE *out);

/*
 * The run's last lines: the devices, the verdicts counted, the geometric-mean speedup of the
 * rows that passed, compile-ahead figures, the wall time (and the probe's, unless NaN), and
 * where the report went (out, or NULL: none).
 */
void report_print_run_summary(const struct report *rep, double wall_ms, double probe_ms,
			  const char *out, FILE *f);

void host_info_fill(struct host_info *h);

#endif
