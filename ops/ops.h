/*
 * ops/ops.h: the op table, argument specs, and the backend-neutral GPU layer ops are written in.
 *
 * Every op is one row of `op_table` (ops/registry.c). A row names the op (clEsperanto's name),
 * describes its parameters, output type and shape, the kernel family that runs it on a GPU, the
 * CPU reference that defines the right answer, how the two are compared, and the bytes it must
 * move. The CLI, `voxbench list`, the runner, the tests and the reports iterate the table; none
 * of them names an op.
 *
 * Semantics shared by every op (printed by `voxbench list --help`):
 *  - pixel math reads voxels as float, computes in float, and writes the output type with
 *    saturation, rounding toward zero (OpenCL's convert_<type>_sat); NaN becomes 0.
 *  - borders clamp to the edge (scipy mode='nearest').
 *  - Gaussian: radius ceil(4*sigma) per axis, normalised weights (scipy truncate=4.0).
 *  - box filters take a radius per axis (size = 2r+1).
 */
#ifndef VB_OPS_H
#define VB_OPS_H

#include <stdint.h>

#include "../common/vb.h"
#include "../stacks/stack.h"

#define OP_MAX_PARAMS 8
#define OP_MAX_INPUTS 2

enum op_category { CAT_MATH, CAT_COMPARE, CAT_FILTER, CAT_PROJECTION, CAT_REDUCTION, CAT_COUNT };
const char *op_category_name(enum op_category c); /* "math", "compare", "filter", ... */

enum param_type { PARAM_INT, PARAM_FLOAT };

struct param_spec {
	const char *name;
	enum param_type type;
	double def, min, max;
	const char *help;
};

/* Output dtype: the input's, always f32, or always u8 (0/1 masks). */
enum out_dtype_rule { OUT_SAME, OUT_F32, OUT_U8 };
/* Output shape: the input's, one z plane (z projections), or one voxel (reductions). */
enum out_shape_rule { SHAPE_SAME, SHAPE_Z_PROJECTION, SHAPE_SCALAR };

/*
 * CMP_EXACT: every voxel equal. CMP_FLOAT: |gpu - ref| <= tol * max(1, max |ref|), i.e. the
 * tolerance is relative to the output's dynamic range; the effective absolute tolerance is reported.
 */
enum compare_kind { CMP_EXACT, CMP_FLOAT };
struct compare_rule {
	enum compare_kind kind;
	double tol;
};

struct op_desc;

/* What a CPU reference or a GPU plan is given for one execution of one op. */
struct op_call {
	const struct op_desc *op;
	const struct stack *in[OP_MAX_INPUTS]; /* in[1] only for two-image ops */
	struct stack *out;                     /* allocated by the caller: op_output_shape() */
	double p[OP_MAX_PARAMS];               /* parameter values, in the row's spec order */
	int threads;                           /* CPU threads a reference may use */
};

/* Look a parameter up by name (the spec must have it: a missing name is a table bug, aborts). */
double op_param(const struct op_call *c, const char *name);

/* The CPU reference: fills c->out. Returns VB_OK or a status with err set. */
typedef int (*ref_fn)(const struct op_call *c, struct vb_err *err);

struct gpu_run;
/* A GPU plan: launches the kernels of one op execution through gpu_launch(). */
typedef int (*gpu_plan_fn)(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

struct op_desc {
	const char *name;
	enum op_category category;
	const char *help;
	const struct param_spec *params; /* NULL-name terminated */
	int n_inputs;                    /* 1 or 2 images */
	unsigned dtypes;                 /* DT_BIT mask of accepted input dtypes */
	enum out_dtype_rule out_dtype;
	enum out_shape_rule out_shape;
	gpu_plan_fn gpu;                 /* the kernel family's plan (ops/plans.c) */
	const char *kernel;              /* what the plan runs: entry point or element-wise function */
	ref_fn ref;                      /* reference_cpu/ */
	struct compare_rule cmp;
};

extern const struct op_desc op_table[];
extern const size_t op_count;

const struct op_desc *op_find(const char *name);
int op_param_count(const struct op_desc *op);
/* Fill values with every parameter's default. */
void op_default_params(const struct op_desc *op, double values[OP_MAX_PARAMS]);
/*
 * Apply "name=value" to values, range-checked against the spec. Returns VB_E_ARGS with a message
 * naming the accepted range when the name is unknown or the value out of range.
 */
int op_set_param(const struct op_desc *op, double values[OP_MAX_PARAMS], const char *assignment,
		 struct vb_err *err);
enum dtype op_output_dtype(const struct op_desc *op, enum dtype in);
void op_output_dims(const struct op_desc *op, const size_t in[3], size_t out[3]);
/* Compulsory traffic: every input read once, the output written once (bytes). */
uint64_t op_bytes_moved(const struct op_desc *op, const struct stack *in, const struct stack *out);

/* Delta between a GPU output and its reference, by the op's rule. */
struct delta {
	double max_abs, mean_abs, rmse;
	double tolerance; /* absolute tolerance applied */
	uint64_t mismatches;
};
int op_compare(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
	       struct delta *d, struct vb_err *err);

/* ---- the GPU layer plans are written in (implemented per backend behind ops/backend.h) ---- */

struct gpu_buf;

enum karg_kind { KARG_BUF, KARG_I32, KARG_U64, KARG_F32 };
struct karg {
	enum karg_kind kind;
	union {
		struct gpu_buf *buf;
		int32_t i32;
		uint64_t u64;
		float f32;
	} v;
};
#define KBUF(b) ((struct karg){ .kind = KARG_BUF, .v.buf = (b) })
#define KI32(x) ((struct karg){ .kind = KARG_I32, .v.i32 = (int32_t)(x) })
#define KU64(x) ((struct karg){ .kind = KARG_U64, .v.u64 = (uint64_t)(x) })
#define KF32(x) ((struct karg){ .kind = KARG_F32, .v.f32 = (float)(x) })

#define LAUNCH_MAX_ARGS 16

/*
 * One kernel launch. The program is kernels/<program>.cl, built with
 *   -DT_IN=<cl type of in_type> -DT_OUT=<cl type of out_type> -DCONVERT_OUT=convert_<t>[_sat]
 *   -DIN_IS_FLOAT=0|1 -DOUT_IS_FLOAT=0|1 plus `options`.
 * global[] is the work-item count per axis (rounded up to local[] by the backend; kernels check
 * bounds); local[] = {0} lets the backend choose.
 */
struct launch {
	const char *program;
	const char *kernel;
	enum dtype in_type, out_type;
	char options[256];
	int dims;
	size_t global[3];
	size_t local[3];
	int nargs;
	struct karg args[LAUNCH_MAX_ARGS];
};

int gpu_launch(struct gpu_run *r, const struct launch *l, struct vb_err *err);
struct gpu_buf *gpu_input(struct gpu_run *r, int i);
struct gpu_buf *gpu_output(struct gpu_run *r);
/* A device buffer kept across the repetitions of one op (allocated on first use, by slot). */
int gpu_scratch(struct gpu_run *r, int slot, size_t bytes, struct gpu_buf **out,
		struct vb_err *err);
/* Like gpu_scratch, filled once from host data (filter weights and other constants). */
int gpu_constant(struct gpu_run *r, int slot, const void *data, size_t bytes,
		 struct gpu_buf **out, struct vb_err *err);


/* ---- devices and the runner (ops/runner.c) ---- */

#include "../reports/report.h"

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
void devices_close(struct device_list *all);
/* Borrow the devices matching spec: NULL/"" = the first GPU of each backend, else the first
 * device; "all"; an index into the list; or a case-insensitive substring of the name (which
 * selects every backend's view of a card: "h100"). VB_E_ARGS when none. */
int devices_select(const struct device_list *all, const char *spec, struct device_list *out,
		   struct vb_err *err);
const struct device_info *device_info_of(const struct gpu_device *d);
int device_is_gpu(const struct gpu_device *d);

/* A fresh row (status error, nothing measured) naming the op, its parameters, device and stack. */
void op_row_start(struct result_row *row, const struct gpu_device *dev, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *in);

struct run_settings {
	int repeat;             /* timed GPU runs after one warm-up */
	int cpu_threads;        /* threads for the CPU reference */
	const char *save_dir;   /* write each GPU output there as TIFF, or NULL */
	int save_reference;     /* with save_dir: the CPU reference's output too */
	const char *save_tag;   /* appended to saved file names ("_t3" for frame 3), or "" */
};

/*
 * One op's CPU reference over one input, computed by the first op_run that needs it and reused
 * by the others (every device of a run compares against the same output). Start zeroed; free
 * with reference_cache_free.
 */
struct reference_cache {
	struct stack out;  /* data is NULL until computed */
	double cpu_ms;     /* median of its timed runs */
	int cpu_threads;
};
void reference_cache_free(struct reference_cache *ref);

/*
 * Run one op on one device over in[] (in[1] for two-image ops): upload, warm-up (compile time
 * kept apart), timed repetitions, download, the CPU reference (timed), the comparison. Always
 * fills row: a failure becomes status error or skip with the reason, never an abort.
 */
void op_run(struct gpu_device *dev, const struct op_desc *op, const double params[OP_MAX_PARAMS],
	    const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
	    struct reference_cache *ref, struct result_row *row);

#endif
