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
 *  - Gaussian: radius ceil(4*sigma) per axis, normalised weights.
 *  - box filters take a radius per axis (size = 2r+1).
 */
#ifndef VB_OPS_H
#define VB_OPS_H

#include <stdint.h>

#include "../common/vb.h"
#include "../stacks/stack.h"

#define OP_MAX_PARAMS 16
#define OP_MAX_INPUTS 2

enum op_category {
	CAT_MATH, CAT_COMPARE, CAT_FILTER, CAT_MORPHOLOGY, CAT_PROJECTION, CAT_REDUCTION,
	CAT_TRANSFORM, CAT_THRESHOLD, CAT_LABEL, CAT_MEASURE, CAT_COUNT
};
const char *op_category_name(enum op_category c); /* "math", "compare", "filter", ... */

/* PARAM_CHOICE: the value is an index into `choices` ("nearest,linear"); given by name or index. */
enum param_type { PARAM_INT, PARAM_FLOAT, PARAM_CHOICE };

struct param_spec {
	const char *name;
	enum param_type type;
	double def, min, max;
	const char *help;
	const char *choices; /* PARAM_CHOICE only: comma-separated names */
};

/* Output dtype: the input's, always f32, always u8 (0/1 masks), or always u32 (labels, indices). */
enum out_dtype_rule { OUT_SAME, OUT_F32, OUT_U8, OUT_U32 };
/*
 * Output shape: the input's, one z plane (z projections), one voxel (reductions), or what the
 * row's `dims` function computes from the call (crop, scale, x/y projections, tables).
 */
enum out_shape_rule { SHAPE_SAME, SHAPE_Z_PROJECTION, SHAPE_SCALAR, SHAPE_CUSTOM };

/*
 * What an op's input i is, so a run can give it a meaningful one: an intensity image (the stack
 * itself), a binary image (the stack thresholded at its mean: 0/1 in the stack's dtype), or a
 * label image (u32, 1..N, the connected components of that binary image, 6-connected).
 */
enum input_role { ROLE_IMAGE, ROLE_BINARY, ROLE_LABELS };

/*
 * CMP_EXACT: every voxel equal. CMP_FLOAT: |gpu - ref| <= tol * max(1, max |ref|), i.e. the
 * tolerance is relative to the output's dynamic range; the effective absolute tolerance is reported.
 * CMP_REDUCE: a float reduction over n input voxels: tol * log2(n) * max(1, max |ref|), the growth
 * of a tree sum's rounding error.
 * CMP_LABELS: label images compared as partitions: the same sets of voxels, any numbering; a
 * mismatch is a voxel whose (gpu label, reference label) pair is not the one its GPU label maps to
 * (background 0 must stay 0). The label counts of both sides are reported.
 */
enum compare_kind { CMP_EXACT, CMP_FLOAT, CMP_REDUCE, CMP_LABELS };

/*
 * Ops that decide something from a float (a threshold, a local maximum, a Voronoi boundary fed by
 * a blur): the reference marks the voxels whose decision lies within the float error of that
 * decision (ambiguous), and a GPU that decides them otherwise is not wrong. AMBIG_VOXEL: only a
 * marked voxel itself is excused. AMBIG_REGION: a decision spreads (a seed grows a Voronoi cell),
 * so a connected run of differing voxels (26-neighbours) that holds a marked voxel is excused.
 * Every other difference still fails.
 */
enum ambiguity { AMBIG_NONE, AMBIG_VOXEL, AMBIG_REGION };
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
	double *side_value;                    /* ops with a side value: the reference stores it */
	uint8_t *ambiguous;                    /* ops with an ambiguity rule: the reference sets 1
						* at each ambiguous voxel of the output (zeroed by
						* the caller), or NULL: not asked */
};

/* Look a parameter up by name (the spec must have it: a missing name is a table bug, aborts). */
double op_param(const struct op_call *c, const char *name);

/* The CPU reference: fills c->out. Returns VB_OK or a status with err set. */
typedef int (*ref_fn)(const struct op_call *c, struct vb_err *err);

/* SHAPE_CUSTOM: the output dims of this call (c->out is NULL); VB_E_ARGS or VB_E_TOO_BIG when
 * the parameters give no output (a crop outside the stack, a scale beyond the size limit). */
typedef int (*dims_fn)(const struct op_call *c, size_t out[3], struct vb_err *err);

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
	/* optional, given by designated initialisers where a row needs them: */
	dims_fn dims;                    /* SHAPE_CUSTOM */
	enum input_role role[OP_MAX_INPUTS];
	/* A value the op computes besides its output (threshold_otsu: "threshold"); the plan names
	 * where it lies with gpu_side_value(), the reference stores it in *c->side_value. */
	const char *side_value;
	/* Table ops (statistics_of_labelled_pixels): the output is a table of f32, one column per
	 * name (as many names as the output is wide; height = rows). The report carries its first
	 * rows; --save-outputs writes it whole as CSV. */
	const char *const *table_columns;
	enum ambiguity ambiguity;
};

extern const struct op_desc op_table[];
extern const size_t op_count;

const struct op_desc *op_find(const char *name);

/*
 * A documented difference from a library (ops/conventions.def): what `library` ("pyclesperanto"
 * or "scipy") does, what voxbench does, and why; tests/test_conventions.py reproduces each with
 * the adapter of that name.
 */
struct op_convention {
	const char *op, *library, *adapter, *theirs, *ours, *why;
};
extern const struct op_convention op_conventions[];
extern const size_t op_convention_count;

/* A name users type in another library (ops/aliases.def); args: the keywords that select `op`. */
struct op_alias {
	const char *name, *op, *library, *args;
};
extern const struct op_alias op_aliases[];
extern const size_t op_alias_count;

/* The op called `name`, or that a pyclesperanto name (with its keywords: "label",
 * "connected_components_labeling(connectivity='sphere')") stands for; NULL if none. */
const struct op_desc *op_lookup(const char *name);
int op_param_count(const struct op_desc *op);
/* Fill values with every parameter's default. */
void op_default_params(const struct op_desc *op, double values[OP_MAX_PARAMS]);
/*
 * Apply "name=value" to values, range-checked against the spec. Returns VB_E_ARGS with a message
 * naming the accepted range when the name is unknown or the value out of range.
 */
int op_set_param(const struct op_desc *op, double values[OP_MAX_PARAMS], const char *assignment,
		 struct vb_err *err);
/* The parameter's value as text: the choice's name for PARAM_CHOICE, else the number. */
void op_param_text(const struct param_spec *p, double value, char *out, size_t len);
enum dtype op_output_dtype(const struct op_desc *op, enum dtype in);
/* The output dims of c (c->op, c->in and c->p set); see dims_fn for the errors. */
int op_output_dims(const struct op_call *c, size_t out[3], struct vb_err *err);
/* Compulsory traffic: every input read once, the output written once (bytes). */
uint64_t op_bytes_moved(const struct op_call *c);

/* Delta between a GPU output and its reference, by the op's rule. */
struct delta {
	double max_abs, mean_abs, rmse;
	double tolerance; /* absolute tolerance applied */
	uint64_t mismatches;            /* voxels that fail the rule */
	uint64_t ambiguous;             /* voxels that differ but are excused by the ambiguity rule */
	int64_t labels_gpu, labels_ref; /* CMP_LABELS: distinct non-zero labels; else -1 */
};
/* in_voxels: the voxel count of the op's input (CMP_REDUCE scales its tolerance with it). */
int op_compare(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
	       uint64_t in_voxels, struct delta *d, struct vb_err *err);
/* The same with the reference's ambiguity map (NULL: none), applied by op->ambiguity. */
int op_compare_ambiguous(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
			 uint64_t in_voxels, const uint8_t *ambiguous, struct delta *d,
			 struct vb_err *err);

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
/*
 * Blocking read of a device buffer in the middle of a plan (iterative algorithms that test for
 * convergence). The host round trip counts in the op's time: the span runs from the first
 * launch's start to the last one's end.
 */
int gpu_read(struct gpu_run *r, struct gpu_buf *b, void *dst, size_t bytes, struct vb_err *err);
/* Blocking write of host data into a device buffer (an upload the op's time does not count). */
int gpu_write(struct gpu_run *r, struct gpu_buf *b, const void *src, size_t bytes,
	      struct vb_err *err);
/*
 * Run another op's plan inside this one (difference_of_gaussian runs gaussian_blur twice): its
 * inputs and output are device buffers with a stack (data NULL) describing dims and dtype, its
 * parameters in that op's spec order. scratch_base (> 0) is relative to the caller's own slots
 * and must exceed the ones it uses: the sub-plan's slot s is the caller's scratch_base + s, so
 * sub-plans nest (RUN_MAX_SCRATCH in all, ops/backend.h).
 */
struct gpu_operand {
	struct gpu_buf *buf;
	const struct stack *desc;
};
int gpu_sub_plan(struct gpu_run *r, const struct op_desc *op, const double *params,
		 const struct gpu_operand in[OP_MAX_INPUTS], const struct gpu_operand *out,
		 int scratch_base, struct vb_err *err);
/* The op's side value is the f32 at float index `index` of b once the plan has finished. */
void gpu_side_value(struct gpu_run *r, struct gpu_buf *b, size_t index);


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
	double ms;
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
	int cpu_threads;
	double side_value; /* the op's side value (NaN when it has none) */
	uint8_t *ambiguous;/* ops with an ambiguity rule: the reference's map, else NULL */
	double wall_ms;    /* all its runs, warm-up included */
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
