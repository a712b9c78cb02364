/*
 * ops/registry.c: the table of ops, and what every consumer of it needs (lookup, parameters,
 * output type and shape, traffic, comparison).
 *
 * To add an op: write its kernel (kernels/<family>.cl) and its CPU reference (reference_cpu/),
 * then add one OP line to ops/rows_<family>.def (see ops/rows.def).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference_cpu/reference.h"
#include "geometry.h"
#include "op.h"
#include "plans.h"

#define PARAM_END { NULL, 0, 0, 0, 0, NULL, NULL }
/* An inline parameter list: PARAMS({ "radius", PARAM_INT, 1, 0, 64, "help" }, ...). */
#define PARAMS(...) ((const struct param_spec[]){ __VA_ARGS__, PARAM_END })

static const struct param_spec no_params[] = { PARAM_END };

#define SCALAR_PARAM(def) \
	{ "scalar", PARAM_FLOAT, def, -1e30, 1e30, "the constant applied to every voxel" }
static const struct param_spec scalar_default_0[] = { SCALAR_PARAM(0), { NULL, 0, 0, 0, 0, NULL } };
static const struct param_spec scalar_default_1[] = { SCALAR_PARAM(1), { NULL, 0, 0, 0, 0, NULL } };
static const struct param_spec scalar_default_2[] = { SCALAR_PARAM(2), { NULL, 0, 0, 0, 0, NULL } };

static const struct param_spec radius_params[] = {
	{ "radius_x", PARAM_INT, 1, 0, 64, "box half-width along x (size 2r+1)" },
	{ "radius_y", PARAM_INT, 1, 0, 64, "box half-width along y" },
	{ "radius_z", PARAM_INT, 1, 0, 64, "box half-width along z" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct param_spec sigma_params[] = {
	{ "sigma_x", PARAM_FLOAT, 2, 0, 32, "Gaussian sigma along x in voxels (0: no blur)" },
	{ "sigma_y", PARAM_FLOAT, 2, 0, 32, "Gaussian sigma along y" },
	{ "sigma_z", PARAM_FLOAT, 2, 0, 32, "Gaussian sigma along z" },
	{ NULL, 0, 0, 0, 0, NULL },
};

#define EXACT { CMP_EXACT, 0 }
#define FLOAT_TOL(t) { CMP_FLOAT, t }
#define REDUCE_TOL(t) { CMP_REDUCE, t }
#define LABELS { CMP_LABELS, 0 }
#define SCALED_TOL(t) { CMP_SCALED, t }
#define RELATIVE_TOL(t) { CMP_RELATIVE, t }

/* The one table of ops: a row per OP line of ops/rows.def (which says what a line holds). */
#define OP_ROW(token, plan, cat, help_, params_, inputs, dtypes_, out_dtype_, out_shape_, ...)  \
	{ .name = #token, .category = cat, .help = help_, .params = params_,                    \
	  .n_inputs = inputs, .dtypes = dtypes_, .out_dtype = out_dtype_, .out_shape = out_shape_, \
	  .gpu = plan, .ref = ref_##token, .cmp = __VA_ARGS__ },
#define OP(token, plan, ...) OP_ROW(token, plan_##plan, __VA_ARGS__)
#define OP_PLAN(token, ...) OP_ROW(token, plan_##token, __VA_ARGS__)
const struct op_desc op_table[] = {
#include "rows.def"
};
#undef OP
#undef OP_PLAN
#undef OP_ROW
const size_t op_count = sizeof(op_table) / sizeof(op_table[0]);

const char *op_category_name(enum op_category c)
{
	static const char *const names[CAT_COUNT] = {
		[CAT_MATH] = "math", [CAT_COMPARE] = "compare", [CAT_FILTER] = "filter",
		[CAT_MORPHOLOGY] = "morphology", [CAT_PROJECTION] = "projection",
		[CAT_REDUCTION] = "reduction", [CAT_TRANSFORM] = "transform",
		[CAT_THRESHOLD] = "threshold", [CAT_LABEL] = "label", [CAT_MEASURE] = "measure",
	};
	return c < CAT_COUNT ? names[c] : "unknown";
}

const struct op_desc *op_find(const char *name)
{
	for (size_t i = 0; i < op_count; i++)
		if (strcmp(op_table[i].name, name) == 0)
			return &op_table[i];
	return NULL;
}

int op_param_count(const struct op_desc *op)
{
	int n = 0;

	while (op->params[n].name)
		n++;
	return n;
}

void op_default_params(const struct op_desc *op, double values[OP_MAX_PARAMS])
{
	for (int i = 0; i < OP_MAX_PARAMS; i++)
		values[i] = i < op_param_count(op) ? op->params[i].def : 0;
}

double op_param(const struct op_call *c, const char *name)
{
	for (int i = 0; c->op->params[i].name; i++)
		if (strcmp(c->op->params[i].name, name) == 0)
			return c->p[i];
	fprintf(stderr, "voxbench: bug: op %s has no parameter %s\n", c->op->name, name);
	abort();
}

/* The index of `name` in a comma-separated list, or -1. */
static int choice_index(const char *choices, const char *name)
{
	size_t len = strlen(name);
	int i = 0;

	for (const char *c = choices; c; c = strchr(c, ','), c = c ? c + 1 : NULL, i++)
		if (strncmp(c, name, len) == 0 && (c[len] == ',' || c[len] == '\0'))
			return i;
	return -1;
}

static int set_choice(const struct op_desc *op, const struct param_spec *p, double *value,
		      const char *text, struct vb_err *err)
{
	char *end;
	long index = strtol(text, &end, 10);

	if (end == text || *end)
		index = choice_index(p->choices, text);
	if (index < p->min || index > p->max || index < 0)
		return vb_errf(err, VB_E_ARGS, "bad value '%s' for %s of %s: expected one of %s",
			       text, p->name, op->name, p->choices);
	*value = (double)index;
	return VB_OK;
}

void op_param_text(const struct param_spec *p, double value, char *out, size_t len)
{
	const char *c = p->choices;

	if (p->type != PARAM_CHOICE) {
		snprintf(out, len, "%g", value);
		return;
	}
	for (int i = 0; c && i < (int)value; i++)
		c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
	snprintf(out, len, "%.*s", c ? (int)strcspn(c, ",") : 1, c ? c : "?");
}

int op_set_param(const struct op_desc *op, double values[OP_MAX_PARAMS], const char *assignment,
		 struct vb_err *err)
{
	const char *eq = strchr(assignment, '=');
	size_t len = eq ? (size_t)(eq - assignment) : 0;
	char *end;
	double v;

	if (!eq)
		return vb_errf(err, VB_E_ARGS, "bad parameter '%s': expected name=value", assignment);
	for (int i = 0; op->params[i].name; i++) {
		const struct param_spec *p = &op->params[i];

		if (strlen(p->name) != len || strncmp(p->name, assignment, len) != 0)
			continue;
		if (p->type == PARAM_CHOICE)
			return set_choice(op, p, &values[i], eq + 1, err);
		v = strtod(eq + 1, &end);
		if (end == eq + 1 || *end || !isfinite(v) ||
		    (p->type == PARAM_INT && v != floor(v)))
			return vb_errf(err, VB_E_ARGS, "bad value '%s' for %s of %s: expected %s",
				       eq + 1, p->name, op->name,
				       p->type == PARAM_INT ? "an integer" : "a number");
		if (v < p->min || v > p->max)
			return vb_errf(err, VB_E_ARGS, "%s=%g is out of range for %s: accepted %g to %g",
				       p->name, v, op->name, p->min, p->max);
		values[i] = v;
		return VB_OK;
	}
	return vb_errf(err, VB_E_ARGS, "%s has no parameter '%.*s'; see 'voxbench list %s'",
		       op->name, (int)len, assignment, op->name);
}

enum dtype op_output_dtype(const struct op_desc *op, enum dtype in)
{
	switch (op->out_dtype) {
	case OUT_F32: return DT_F32;
	case OUT_U8: return DT_U8;
	case OUT_U32: return DT_U32;
	default: return in;
	}
}

int op_output_dims(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	const struct op_desc *op = c->op;
	const struct stack *in = c->in[0];

	if (op->out_shape == SHAPE_CUSTOM)
		return op->dims(c, out, err);
	out[0] = op->out_shape == SHAPE_SCALAR ? 1 : in->width;
	out[1] = op->out_shape == SHAPE_SCALAR ? 1 : in->height;
	out[2] = op->out_shape == SHAPE_SAME ? in->depth : 1;
	return VB_OK;
}

uint64_t op_bytes_moved(const struct op_call *c)
{
	uint64_t bytes = stack_bytes(c->out);

	for (int i = 0; i < c->op->n_inputs; i++)
		bytes += c->op->reads_output_voxels
				 ? (uint64_t)stack_voxels(c->out) * dtype_size(c->in[i]->dtype)
				 : stack_bytes(c->in[i]);
	return bytes;
}

/* The largest finite |voxel| of s (an infinity must not make every delta pass). */
static double largest_finite(const struct stack *s)
{
	size_t n = stack_voxels(s);
	double largest = 0;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for reduction(max : largest) schedule(static) if (n > 65536)")
		for (size_t i = 0; i < n; i++) {
			double a = fabs((double)v[i]);

			if (isfinite(a) && a > largest) /* no fmax call per voxel */
				largest = a;
		}
	)
	return largest;
}

static double tolerance_of(const struct op_desc *op, double max_ref, uint64_t in_voxels,
			   double scale);

/* The absolute tolerance of a float rule: relative to the reference's largest magnitude. */
static double float_tolerance(const struct op_desc *op, const struct stack *ref,
			      uint64_t in_voxels, double scale)
{
	return op->cmp.kind == CMP_EXACT ? 0
					 : tolerance_of(op, largest_finite(ref), in_voxels, scale);
}

/*
 * Table ops: each column's tolerance is relative to that column's own largest magnitude, so a
 * column of means is not judged by the scale of a column of sums. tol[c] per column; returns the
 * largest.
 */
static double table_tolerances(const struct op_desc *op, const struct stack *ref, double *tol)
{
	size_t cols = ref->width, rows = stack_voxels(ref) / (cols ? cols : 1);
	double largest = 0;

	for (size_t c = 0; c < cols; c++) {
		double max_ref = 0;

		for (size_t r = 0; r < rows; r++) {
			double v = fabs(stack_get(ref, r * cols + c));

			if (isfinite(v))
				max_ref = fmax(max_ref, v);
		}
		tol[c] = op->cmp.tol * fmax(1.0, max_ref);
		largest = fmax(largest, tol[c]);
	}
	return largest;
}

/* |a - b|, where NaN against NaN and equal infinities differ by 0, NaN against a number by inf. */
static inline double voxel_diff(double a, double b)
{
	if (isnan(a) != isnan(b))
		return INFINITY;
	return isnan(a) || a == b ? 0 : fabs(a - b);
}

struct delta_sums {
	double sum_abs, sum_sq, max_abs;
	uint64_t mismatches, excused;
};

/* The sums of |gpu - ref| over every voxel, a voxel over tol[i % cols] a mismatch (excused where
 * ambiguous). Typed loops: a 67M-voxel check is tens of ms on one core. */
static struct delta_sums delta_sums(const struct stack *gpu, const struct stack *ref,
				    const double *tol, size_t cols, const uint8_t *ambiguous)
{
	size_t n = stack_voxels(ref);
	double sum_abs = 0, sum_sq = 0, max_abs = 0, tol0 = tol[0];
	uint64_t mismatches = 0, excused = 0;

	STACK_SWITCH_DTYPE(ref->dtype, T,
		const T *g = gpu->data, *r = ref->data;
		_Pragma("omp parallel for reduction(max : max_abs) reduction(+ : sum_abs, sum_sq, mismatches, excused) schedule(static) if (n > 65536)")
		for (size_t i = 0; i < n; i++) {
			double diff = voxel_diff((double)g[i], (double)r[i]);

			max_abs = diff > max_abs ? diff : max_abs; /* diff is never NaN */
			sum_abs += diff;
			sum_sq += diff * diff;
			if (diff > (cols == 1 ? tol0 : tol[i % cols])) {
				if (ambiguous && ambiguous[i])
					excused++;
				else
					mismatches++;
			}
		}
	)
	return (struct delta_sums){ sum_abs, sum_sq, max_abs, mismatches, excused };
}

static int compare_values_counted(const struct op_desc *op, const struct stack *gpu,
				  const struct stack *ref, uint64_t in_voxels,
				  const uint8_t *ambiguous, double scale, struct delta *d,
				  size_t cols);

/* One branch-free pass for the usual case, every value finite: the sums, the largest delta and
 * the reference's largest magnitude. Returns 0 (nothing set) when some delta is not finite. */
static int finite_sums(const struct stack *gpu, const struct stack *ref, struct delta_sums *out,
		       double *max_ref)
{
	size_t n = stack_voxels(ref);
	double sum_abs = 0, sum_sq = 0, max_abs = 0, largest = 0;
	int finite = 1;

	STACK_SWITCH_DTYPE(ref->dtype, T,
		const T *g = gpu->data, *r = ref->data;
		_Pragma("omp parallel for reduction(max : max_abs, largest) reduction(+ : sum_abs, sum_sq) reduction(& : finite) schedule(static) if (n > 65536)")
		for (size_t i = 0; i < n; i++) {
			double b = (double)r[i], diff = fabs((double)g[i] - b), mag = fabs(b);

			finite &= diff <= DBL_MAX; /* false for NaN and infinities */
			max_abs = diff > max_abs ? diff : max_abs;
			largest = mag > largest ? mag : largest;
			sum_abs += diff;
			sum_sq += diff * diff;
		}
	)
	if (!finite)
		return 0;
	*out = (struct delta_sums){ sum_abs, sum_sq, max_abs, 0, 0 };
	*max_ref = largest;
	return 1;
}

/* The tolerance of a float rule from the reference's largest finite magnitude (and, for
 * CMP_SCALED, the scale the reference reported). */
static double tolerance_of(const struct op_desc *op, double max_ref, uint64_t in_voxels,
			   double scale)
{
	if (op->cmp.kind == CMP_SCALED)
		return op->cmp.tol * fmax(1.0, fmax(max_ref, isfinite(scale) ? scale : 0));
	if (op->cmp.kind == CMP_REDUCE)
		return op->cmp.tol * log2(in_voxels > 2 ? (double)in_voxels : 2.0) * fmax(1.0, max_ref);
	if (op->cmp.kind == CMP_RELATIVE)
		return op->cmp.tol * max_ref + FLT_MIN;
	return op->cmp.kind == CMP_FLOAT ? op->cmp.tol * fmax(1.0, max_ref) : 0;
}

static int compare_values(const struct op_desc *op, const struct stack *gpu,
			  const struct stack *ref, uint64_t in_voxels, const uint8_t *ambiguous,
			  double scale, struct delta *d)
{
	size_t n = stack_voxels(ref), cols = op->table_columns ? ref->width : 1;
	struct delta_sums quick;
	double max_ref;

	/* most rows: every value finite and every delta within the tolerance, so one pass */
	if (!op->table_columns && finite_sums(gpu, ref, &quick, &max_ref)) {
		d->tolerance = tolerance_of(op, max_ref, in_voxels, scale);
		if (quick.max_abs <= d->tolerance) {
			d->ambiguous = d->mismatches = 0;
			d->max_abs = quick.max_abs;
			d->mean_abs = n ? quick.sum_abs / n : 0;
			d->rmse = n ? sqrt(quick.sum_sq / n) : 0;
			return VB_OK;
		}
	}
	return compare_values_counted(op, gpu, ref, in_voxels, ambiguous, scale, d, cols);
}

/* Every voxel checked against its tolerance: mismatches counted, ambiguous ones excused. */
static int compare_values_counted(const struct op_desc *op, const struct stack *gpu,
				  const struct stack *ref, uint64_t in_voxels,
				  const uint8_t *ambiguous, double scale, struct delta *d,
				  size_t cols)
{
	size_t n = stack_voxels(ref);
	double *tol = calloc(cols ? cols : 1, sizeof(*tol));
	struct delta_sums sums;

	if (!tol)
		return VB_E_NOMEM;
	if (op->table_columns && op->cmp.kind == CMP_FLOAT)
		d->tolerance = table_tolerances(op, ref, tol);
	else
		for (size_t c = 0; c < cols; c++)
			tol[c] = d->tolerance = float_tolerance(op, ref, in_voxels, scale);
	sums = delta_sums(gpu, ref, tol, cols ? cols : 1, ambiguous);
	free(tol);
	d->ambiguous = sums.excused;
	d->max_abs = sums.max_abs;
	d->mean_abs = n ? sums.sum_abs / n : 0;
	d->rmse = n ? sqrt(sums.sum_sq / n) : 0;
	d->mismatches = sums.mismatches;
	return VB_OK;
}

/* The largest label of s (integer dtypes), or -1 for a negative or fractional one. */
static int64_t max_label(const struct stack *s)
{
	size_t n = stack_voxels(s);
	double m = 0;
	int invalid = 0;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for reduction(max : m) reduction(| : invalid) schedule(static) if (n > 65536)")
		for (size_t i = 0; i < n; i++) {
			double x = (double)v[i];

			invalid |= !(x >= 0) || (x < 0x1p62 && x != (double)(int64_t)x); /* NaN too */
			m = x > m ? x : m;
		}
	)
	return invalid || m > (double)UINT32_MAX ? -1 : (int64_t)m;
}

/* Voxel counts of (gpu label, reference label) pairs: open addressing on the packed pair. */
struct pair_counts {
	uint64_t *key, *count; /* key 0 is free: pairs are stored as pair + 1 */
	size_t cap, used;
};

/* Where a stored key (pair + 1) starts its probe in a table of cap (a power of two) slots. */
static size_t pair_slot(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static int pairs_grow(struct pair_counts *p)
{
	struct pair_counts bigger = { 0 };

	bigger.cap = p->cap ? p->cap * 2 : 1024;
	bigger.key = calloc(bigger.cap, sizeof(uint64_t));
	bigger.count = calloc(bigger.cap, sizeof(uint64_t));
	if (!bigger.key || !bigger.count) {
		free(bigger.key);
		free(bigger.count);
		return VB_E_NOMEM;
	}
	for (size_t i = 0; i < p->cap; i++)
		if (p->key[i]) {
			size_t h = pair_slot(p->key[i], bigger.cap);

			while (bigger.key[h])
				h = (h + 1) & (bigger.cap - 1);
			bigger.key[h] = p->key[i];
			bigger.count[h] = p->count[i];
			bigger.used++;
		}
	free(p->key);
	free(p->count);
	*p = bigger;
	return VB_OK;
}

static int pairs_add(struct pair_counts *p, uint64_t pair, uint64_t voxels)
{
	size_t h;

	if ((p->used + 1) * 2 > p->cap && pairs_grow(p))
		return VB_E_NOMEM;
	h = pair_slot(pair + 1, p->cap);
	while (p->key[h] && p->key[h] != pair + 1)
		h = (h + 1) & (p->cap - 1);
	if (!p->key[h]) {
		p->key[h] = pair + 1;
		p->used++;
	}
	p->count[h] += voxels;
	return VB_OK;
}

/* Claim map[from] = to, or find it already so; 0 when it maps elsewhere. */
static inline int claim(int64_t *map, int64_t from, int64_t to)
{
	int64_t seen = __atomic_load_n(&map[from], __ATOMIC_RELAXED);

	/* a plain read first: the exchange would make every thread fight for label 0's line */
	if (seen >= 0)
		return seen == to;
	return __atomic_compare_exchange_n(&map[from], &seen, to, 0, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED) || seen == to;
}

/*
 * The common case, fast: whether every GPU label maps to one reference label and back (each
 * label's first claimed partner holds everywhere; which voxel claims first does not matter, as
 * any two voxels that disagree are found). Counts the labels of both sides when so.
 * g2r and r2g hold gmax + 1 and rmax + 1 entries.
 */
static int same_partition(const struct stack *gpu, const struct stack *ref, int64_t *g2r,
			  int64_t *r2g, int64_t gmax, int64_t rmax, struct delta *d)
{
	size_t n = stack_voxels(ref);
	int same = 1;

	for (int64_t i = 0; i <= gmax; i++)
		g2r[i] = -1;
	for (int64_t i = 0; i <= rmax; i++)
		r2g[i] = -1;
	STACK_SWITCH_DTYPE(ref->dtype, T,
		const T *g = gpu->data, *r = ref->data;
		_Pragma("omp parallel for reduction(& : same) schedule(static) if (n > 65536)")
		for (size_t i = 0; i < n; i++) {
			int64_t a = (int64_t)g[i], b = (int64_t)r[i];

			if (i && g[i - 1] == g[i] && r[i - 1] == r[i])
				continue; /* the pair of the voxel before, checked */
			if (same && ((a == 0) != (b == 0) || !claim(g2r, a, b) || !claim(r2g, b, a)))
				same = 0;
		}
	)
	d->labels_gpu = d->labels_ref = 0;
	for (int64_t i = 1; same && i <= gmax; i++)
		d->labels_gpu += g2r[i] >= 0;
	for (int64_t i = 1; same && i <= rmax; i++)
		d->labels_ref += r2g[i] >= 0;
	return same;
}

/* For each label of one side, the label of the other side it shares most voxels with (ties: the
 * smaller label). best[] and votes[] hold max_label + 1 entries. */
static void best_partners(const struct pair_counts *p, int gpu_side, int64_t *best,
			  uint64_t *votes)
{
	for (size_t i = 0; i < p->cap; i++) {
		uint64_t pair = p->key[i] - 1, n = p->count[i];
		int64_t g = (int64_t)(pair >> 32), r = (int64_t)(pair & 0xffffffffu);
		int64_t me = gpu_side ? g : r, other = gpu_side ? r : g;

		if (!p->key[i])
			continue;
		if (n > votes[me] || (n == votes[me] && other < best[me])) {
			votes[me] = n;
			best[me] = other;
		}
	}
}

/*
 * The differing voxels the ambiguity rule excuses, counted (and cleared in wrong[]): each marked
 * one (AMBIG_VOXEL), or each connected run (26-neighbours) of differing voxels holding a marked
 * one (AMBIG_REGION). wrong[i]: voxel i differs.
 */
/* A growable stack of voxel indices (the flood of excuse_ambiguous). */
struct voxel_stack {
	size_t *v, n, cap;
};

static int voxel_push(struct voxel_stack *s, size_t i)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096, *grown = realloc(s->v, cap * sizeof(*grown));

		if (!grown)
			return VB_E_NOMEM;
		s->v = grown;
		s->cap = cap;
	}
	s->v[s->n++] = i;
	return VB_OK;
}

static uint64_t excuse_ambiguous(enum ambiguity rule, const struct stack *s, uint8_t *wrong,
				 const uint8_t *ambiguous, struct vb_err *err)
{
	size_t n = stack_voxels(s), w = s->width, h = s->height, d = s->depth;
	struct voxel_stack todo = { 0 };
	uint64_t excused = 0;
	int status = VB_OK;

	for (size_t i = 0; i < n && !status; i++) {
		if (!wrong[i] || !ambiguous[i])
			continue;
		wrong[i] = 0;
		excused++;
		if (rule != AMBIG_REGION || (status = voxel_push(&todo, i)))
			continue;
		while (todo.n && !status) { /* flood the differing voxels connected to this one */
			size_t v = todo.v[--todo.n], x = v % w, y = v / w % h, z = v / w / h;

			for (size_t dz = z ? z - 1 : 0; dz <= z + 1 && dz < d; dz++)
				for (size_t dy = y ? y - 1 : 0; dy <= y + 1 && dy < h; dy++)
					for (size_t dx = x ? x - 1 : 0; dx <= x + 1 && dx < w; dx++) {
						size_t q = dx + w * (dy + h * dz);

						if (!wrong[q] || status)
							continue;
						wrong[q] = 0;
						excused++;
						status = voxel_push(&todo, q);
					}
		}
	}
	free(todo.v);
	if (status) {
		vb_errf(err, VB_E_NOMEM, "out of memory excusing ambiguous voxels");
		return UINT64_MAX;
	}
	return excused;
}

/* Move the differing voxels the ambiguity rule excuses from d->mismatches to d->ambiguous. */
static int excused_labels(const struct op_desc *op, const struct stack *gpu,
			  const struct stack *ref, const struct pair_counts *pairs,
			  const int64_t *gbest, const int64_t *rbest, const uint8_t *ambiguous,
			  struct delta *d, struct vb_err *err)
{
	size_t n = stack_voxels(ref);
	uint8_t *wrong = malloc(n ? n : 1);
	uint64_t excused;

	(void)pairs;
	if (!wrong)
		return vb_errf(err, VB_E_NOMEM, "out of memory comparing %s labels", op->name);
#pragma omp parallel for schedule(static) if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		int64_t g = (int64_t)stack_get(gpu, i), r = (int64_t)stack_get(ref, i);

		wrong[i] = !(gbest[g] == r && rbest[r] == g && (g == 0) == (r == 0));
	}
	excused = excuse_ambiguous(op->ambiguity, ref, wrong, ambiguous, err);
	free(wrong);
	if (excused == UINT64_MAX)
		return VB_E_NOMEM;
	d->ambiguous = excused;
	d->mismatches -= excused;
	return VB_OK;
}

/* Every voxel's (gpu label, reference label) pair counted, a run of one pair at a time. */
static int count_pairs(const struct stack *gpu, const struct stack *ref, struct pair_counts *p)
{
	size_t n = stack_voxels(ref), start = 0;
	int status = VB_OK;

	STACK_SWITCH_DTYPE(ref->dtype, T,
		const T *g = gpu->data, *r = ref->data;
		for (size_t i = 1; i <= n && !status; i++)
			if (i == n || g[i] != g[start] || r[i] != r[start]) {
				status = pairs_add(p, (uint64_t)g[start] << 32 | (uint64_t)r[start],
						   i - start);
				start = i;
			}
	)
	return status;
}

/*
 * Partition comparison. Each GPU label is matched with the reference label it overlaps most and
 * the other way round; a voxel is right when its pair of labels chose each other and background
 * (0) stays background. The result does not
 * depend on the numbering of either side or on the voxel order. max_abs and mean_abs report the
 * fraction of voxels that differ.
 */
static int compare_labels(const struct op_desc *op, const struct stack *gpu,
			  const struct stack *ref, const uint8_t *ambiguous, struct delta *d,
			  struct vb_err *err)
{
	int64_t gmax = max_label(gpu), rmax = max_label(ref);
	size_t n = stack_voxels(ref);
	struct pair_counts pairs = { 0 };
	int64_t *gbest = NULL, *rbest = NULL;
	uint64_t *gvotes = NULL, *rvotes = NULL, right = 0;
	int status = VB_OK;

	if (gmax < 0 || rmax < 0 || gmax > UINT32_MAX || rmax > UINT32_MAX)
		return vb_errf(err, VB_E_ARGS, "bug: %s compared as labels holds a label that is "
			       "negative, fractional or above 2^32", op->name);
	gbest = malloc(((size_t)gmax + 1) * sizeof(*gbest));
	rbest = malloc(((size_t)rmax + 1) * sizeof(*rbest));
	gvotes = calloc((size_t)gmax + 1, sizeof(*gvotes));
	rvotes = calloc((size_t)rmax + 1, sizeof(*rvotes));
	if (!gbest || !rbest || !gvotes || !rvotes)
		status = VB_E_NOMEM;
	if (!status && same_partition(gpu, ref, gbest, rbest, gmax, rmax, d)) {
		n = 0; /* equal: no pair counting needed */
		d->mismatches = 0;
		d->max_abs = d->mean_abs = d->rmse = d->tolerance = 0;
	}
	if (n && !status)
		status = count_pairs(gpu, ref, &pairs);
	if (!status && n) {
		best_partners(&pairs, 1, gbest, gvotes);
		best_partners(&pairs, 0, rbest, rvotes);
		d->labels_gpu = d->labels_ref = 0;
		for (int64_t g = 1; g <= gmax; g++)
			d->labels_gpu += gvotes[g] > 0;
		for (int64_t r = 1; r <= rmax; r++)
			d->labels_ref += rvotes[r] > 0;
		for (size_t i = 0; i < pairs.cap; i++) {
			uint64_t pair = pairs.key[i] - 1;
			int64_t g = (int64_t)(pair >> 32), r = (int64_t)(pair & 0xffffffffu);

			if (pairs.key[i] && gbest[g] == r && rbest[r] == g && (g == 0) == (r == 0))
				right += pairs.count[i];
		}
		d->mismatches = n - right;
		if (ambiguous && op->ambiguity != AMBIG_NONE && d->mismatches &&
		    (status = excused_labels(op, gpu, ref, &pairs, gbest, rbest, ambiguous, d, err)))
			goto done;
		d->max_abs = d->mean_abs = n ? (double)(d->mismatches + d->ambiguous) / n : 0;
		d->rmse = sqrt(d->mean_abs);
		d->tolerance = 0;
	}
done:
	free(pairs.key);
	free(pairs.count);
	free(gbest);
	free(rbest);
	free(gvotes);
	free(rvotes);
	if (status == VB_E_NOMEM && !err->msg[0])
		return vb_errf(err, status, "out of memory comparing %s labels", op->name);
	return status;
}

int op_compare(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
	       uint64_t in_voxels, struct delta *d, struct vb_err *err)
{
	return op_compare_ambiguous(op, gpu, ref, in_voxels, NULL, d, err);
}

int op_compare_ambiguous(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
			 uint64_t in_voxels, const uint8_t *ambiguous, struct delta *d,
			 struct vb_err *err)
{
	return op_compare_scaled(op, gpu, ref, in_voxels, ambiguous, 0, d, err);
}

int op_compare_scaled(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
		      uint64_t in_voxels, const uint8_t *ambiguous, double scale,
		      struct delta *d, struct vb_err *err)
{
	if (gpu->width != ref->width || gpu->height != ref->height || gpu->depth != ref->depth ||
	    gpu->dtype != ref->dtype)
		return vb_errf(err, VB_E_ARGS, "bug: %s output and reference differ in shape", op->name);
	d->labels_gpu = d->labels_ref = -1;
	d->ambiguous = 0;
	if (op->ambiguity == AMBIG_NONE)
		ambiguous = NULL;
	if (op->cmp.kind == CMP_LABELS)
		return compare_labels(op, gpu, ref, ambiguous, d, err);
	if (compare_values(op, gpu, ref, in_voxels, ambiguous, scale, d))
		return vb_errf(err, VB_E_NOMEM, "out of memory comparing %s", op->name);
	return VB_OK;
}
