/*
 * ops/op.h: the op contract: what an op is (its row of the table), what its CPU reference and its
 * GPU plan are given, and how their outputs are compared. The reference sees this header and
 * ops/geometry.h, nothing else of ops/.
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
#ifndef VB_OP_H
#define VB_OP_H

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
 * CMP_SCALED: |gpu - ref| <= tol * max(1, max |ref|, scale), scale a magnitude the reference
 * reports through c->cmp_scale (the Hessian eigenvalue ops: the stack's largest |eigenvalue|, of
 * any of the three), for outputs whose float error follows a larger quantity than themselves.
 * CMP_RELATIVE: tol * max |ref| + FLT_MIN, relative however small the values (a product of
 * voxels below 1); FLT_MIN because below the smallest normal float a GPU may flush to zero.
 * CMP_LABELS: label images compared as partitions: the same sets of voxels, any numbering; a
 * mismatch is a voxel whose (gpu label, reference label) pair is not the one its GPU label maps to
 * (background 0 must stay 0). The label counts of both sides are reported.
 */
enum compare_kind { CMP_EXACT, CMP_FLOAT, CMP_REDUCE, CMP_LABELS, CMP_SCALED, CMP_RELATIVE };

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

/* The neighbourhood of a window filter or grey morphology (FOOT_NONE: the row has none). */
enum footprint { FOOT_NONE, FOOT_BOX, FOOT_SPHERE };

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
	double *cmp_scale;                     /* CMP_SCALED ops: the reference stores the scale
						* of its tolerance, or NULL: not asked */
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
	gpu_plan_fn gpu;                 /* its family's plan, or its own (ops/plans_<family>.c) */
	ref_fn ref;                      /* reference_cpu/<family>.c */
	struct compare_rule cmp;
	/* optional, given by designated initialisers where a row needs them: */
	/* what a family plan runs for this row, each read only by the plans named: */
	const char *entry;               /* a kernel entry point: copy, z_projection */
	const char *fn;                  /* elementwise: the function of kernels/pixel.cl (-DOP_FN);
					  * stencil: the stencil of kernels/stencil.cl (-DOP_<fn>) */
	const char *reduce;              /* what a projection, reduction or window computes: min,
					  * max, sum, mean, std, argmax, var, median, maxima, erode,
					  * dilate */
	const char *morph;               /* morphology: opening, closing, top_hat, bottom_hat */
	enum footprint footprint;        /* window, morphology: FOOT_BOX or FOOT_SPHERE */
	int connectivity;                /* connected_components: 6 or 26 */
	const char *keep;                /* relabel: which labels stay: present, edges, small,
					  * large, range */
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
	/* Each output voxel reads one voxel of the input (crop): the traffic is the output's voxels
	 * read and written, not the whole input (crop's default of one voxel moved 8 bytes, not the
	 * stack, and its bandwidth read 56 000 % of a copy's). */
	int reads_output_voxels;
};

extern const struct op_desc op_table[];
extern const size_t op_count;

/*
 * Whether a run's block runs op: ops on derived labels (u32, the same for every dtype of a size)
 * run in a size's first dtype only, so later_dtype blocks leave them out.
 */
static inline int op_runs_in_block(const struct op_desc *op, int later_dtype)
{
	return !(later_dtype && op->role[0] == ROLE_LABELS);
}

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
/* The op or pyclesperanto name closest to a mistyped one (a few edits away), or NULL. */
const char *op_closest_name(const char *name);
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
/* The same with the reference's CMP_SCALED scale (0 for the others: unused). */
int op_compare_scaled(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
		      uint64_t in_voxels, const uint8_t *ambiguous, double scale,
		      struct delta *d, struct vb_err *err);

#endif
