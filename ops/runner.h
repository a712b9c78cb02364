/*
 * ops/runner.h: devices, the inputs of a block, the CPU reference cache and the run of one op on
 * one device (ops/runner.c, ops/inputs.c). Audience: the benchmark loop and the commands.
 */
#ifndef VB_RUNNER_H
#define VB_RUNNER_H

#include "../reports/report.h"
#include "op.h"

/*
 * The stacks of one block of a run (image[1] is a second stack of the same kind, or image[0]
 * again) and what is derived from them for the ops' input roles, made on first use.
 */
struct op_inputs {
	const struct stack *image[OP_MAX_INPUTS];
	struct stack binary[OP_MAX_INPUTS], labels[OP_MAX_INPUTS];
};
/* in[i] = the stack op's input i takes (derived now if needed); VB_E_NOMEM etc. on failure. */
int op_inputs_resolve(struct op_inputs *set, const struct op_desc *op,
		      const struct stack *in[OP_MAX_INPUTS], struct vb_err *err);
void op_inputs_free(struct op_inputs *set);


/* ---- devices and the runner (ops/runner.c) ---- */

struct gpu_device;

struct device_list {
	struct gpu_device **dev;
	size_t n;
};

/*
 * Open every device of every backend. VB_E_NOLOADER (message names the package) when no
 * backend's run-time library can be loaded; an empty list when loaders work but find nothing.
 */
int devices_open(struct device_list *all, struct vb_err *err);
/* The same for one backend: "opencl", "cuda", or "all" (or NULL) for every one; VB_E_ARGS for
 * another name. VB_E_NOLOADER's message says, for each backend asked for, why it is missing. */
int devices_open_backend(struct device_list *all, const char *backend, struct vb_err *err);
/* VB_OK when `backend` names a backend devices_open_backend takes, else VB_E_ARGS saying which do. */
int backend_name_check(const char *backend, struct vb_err *err);
void devices_close(struct device_list *all);
/* Release the input stacks each device kept for the block just run (before its stacks go). */
void devices_drop_inputs(const struct device_list *devs);
/* Borrow the devices matching spec: NULL/"" = the first GPU of each backend, else the first
 * device; "all"; an index into the list; or a case-insensitive substring of the name (which
 * selects every backend's view of a card: "h100"). VB_E_ARGS when none. */
int devices_select(const struct device_list *all, const char *spec, struct device_list *out,
		   struct vb_err *err);
const struct device_info *device_info_of(const struct gpu_device *d);
int device_is_gpu(const struct gpu_device *d);

/*
 * Compiling ahead (ops/prebuild.c): the blocks a run will make, as far as its programs depend on
 * them, and what was done. Programs go into the disk cache, so nothing is done when it is off.
 */
/* From this many voxels kernels index with ulong (IDX): 2^32 less a margin of 2^24. */
#define WIDE_INDEX_VOXELS ((1ull << 32) - (1ull << 24))

struct prebuild_block {
	enum dtype dtype;
	int wide_index;  /* some stack has 2^32 voxels or more */
	int later_dtype; /* not its size's first dtype: label ops do not run (as in the run) */
};
struct prebuild_request {
	const int *selected;                   /* per op_table row */
	const double (*params)[OP_MAX_PARAMS]; /* per op_table row */
	const char *stack_kind;                /* synthetic kind of the small recording stacks */
	const struct prebuild_block *blocks;
	size_t nblocks;
	int threads;                           /* compiler threads */
};
struct prebuild_stats {
	size_t programs, devices, failed; /* programs foreseen; devices that can; builds that failed */
	int threads;
	double ms, cpu_ms; /* wall time of compiling ahead, and its threads' CPU time */
};
void programs_prebuild(struct gpu_device *const *devs, size_t ndevs,
		       const struct prebuild_request *q, struct prebuild_stats *st);

/* A fresh row (status error, nothing measured) naming the op, its parameters, device and stack. */
void op_row_start(struct result_row *row, const struct gpu_device *dev, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *in);

struct run_settings {
	int repeat;             /* timed GPU runs after one warm-up */
	int cpu_threads;        /* threads for the CPU reference */
	const char *save_dir;   /* write each GPU output there as TIFF, or NULL */
	int save_reference;     /* with save_dir: the CPU reference's output too */
	const char *save_tag;   /* appended to saved file names ("_t3" for frame 3), or "" */
	int cpu_runs;           /* timed runs of the CPU reference (1 to 3; 0 means 3) */
	int devices;            /* rows that compare with one reference: above 1, each output is
				 * hashed so the next, when the same bytes, takes its delta */
};

/*
 * One op's CPU reference over one input, computed once (by reference_compute, or by the first
 * op_run that needs it) and reused by the others (every device of a run compares against the same
 * output). Start zeroed; free with reference_cache_free.
 */
struct reference_cache {
	int computed;      /* reference_compute ran: status says how it ended */
	int status;        /* VB_OK, or why there is no reference (reason) */
	char reason[1024];
	struct stack out;  /* data is NULL until computed */
	double cpu_ms;     /* median of its timed runs */
	double cpu_min_ms, cpu_max_ms;
	int cpu_runs, cpu_threads;
	double side_value; /* the op's side value (NaN when it has none) */
	double cmp_scale;  /* CMP_SCALED ops: the scale of the tolerance, from the reference */
	uint8_t *ambiguous;/* ops with an ambiguity rule: the reference's map, else NULL */
	double wall_ms;    /* all its runs, warm-up included */
	/* the last output compared with it, by hash, and what that gave: a second device whose
	 * output is the same, byte for byte, gets the same delta without a second pass (only
	 * when run_settings.devices is above 1: one device's rows hash nothing) */
	int compared;
	uint64_t compared_hash[2];
	struct delta compared_delta;
};
void reference_cache_free(struct reference_cache *ref);
/*
 * The CPU reference of op over in[] into ref, timed. It touches nothing but its arguments, so a
 * run computes the next ops' references on a thread of its own while the GPU works.
 */
void reference_compute(const struct op_desc *op, const double params[OP_MAX_PARAMS],
		       const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
		       struct reference_cache *ref);

/*
 * Run one op on one device over in[] (in[1] for two-image ops): upload, warm-up (compile time
 * kept apart), timed repetitions, download, the CPU reference (timed), the comparison. Always
 * fills row: a failure becomes status error or skip with the reason, never an abort.
 */
void op_run(struct gpu_device *dev, const struct op_desc *op, const double params[OP_MAX_PARAMS],
	    const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
	    struct reference_cache *ref, struct result_row *row);

#endif
