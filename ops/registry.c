/*
 * ops/registry.c: the table of ops, and what every consumer of it needs (lookup, parameters,
 * output type and shape, traffic, comparison).
 *
 * To add an op: write its kernel (kernels/<family>.cl) and its CPU reference (reference_cpu/),
 * then add one row to op_table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference_cpu/reference.h"
#include "ops.h"
#include "plans.h"

static const struct param_spec no_params[] = { { NULL, 0, 0, 0, 0, NULL } };

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

/* name, category, help, params, inputs, dtypes, out dtype, out shape, plan, kernel, ref, compare */
const struct op_desc op_table[] = {
	{ "copy", CAT_MATH, "out = in, bit for bit", no_params, 1, DT_ALL, OUT_SAME, SHAPE_SAME,
	  plan_copy, "copy_exact", ref_copy, EXACT },
	{ "add_images", CAT_MATH, "out = a + b", no_params, 2, DT_ALL, OUT_SAME, SHAPE_SAME,
	  plan_elementwise, "op_add", ref_add_images, EXACT },
	{ "subtract_images", CAT_MATH, "out = a - b", no_params, 2, DT_ALL, OUT_SAME, SHAPE_SAME,
	  plan_elementwise, "op_subtract", ref_subtract_images, EXACT },
	{ "multiply_images", CAT_MATH, "out = a * b", no_params, 2, DT_ALL, OUT_SAME, SHAPE_SAME,
	  plan_elementwise, "op_multiply", ref_multiply_images, EXACT },
	{ "add_image_and_scalar", CAT_MATH, "out = in + scalar", scalar_default_1, 1, DT_ALL,
	  OUT_SAME, SHAPE_SAME, plan_elementwise, "op_add_scalar", ref_add_image_and_scalar, EXACT },
	{ "multiply_image_and_scalar", CAT_MATH, "out = in * scalar", scalar_default_2, 1, DT_ALL,
	  OUT_SAME, SHAPE_SAME, plan_elementwise, "op_multiply_scalar",
	  ref_multiply_image_and_scalar, EXACT },
	{ "absolute", CAT_MATH, "out = |in|", no_params, 1, DT_ALL, OUT_SAME, SHAPE_SAME,
	  plan_elementwise, "op_absolute", ref_absolute, EXACT },
	{ "greater_constant", CAT_COMPARE, "out = in > scalar ? 1 : 0 (u8)", scalar_default_0, 1,
	  DT_ALL, OUT_U8, SHAPE_SAME, plan_elementwise, "op_greater_scalar", ref_greater_constant,
	  EXACT },
	{ "binary_and", CAT_COMPARE, "out = (a != 0 and b != 0) ? 1 : 0 (u8)", no_params, 2,
	  DT_ALL, OUT_U8, SHAPE_SAME, plan_elementwise, "op_binary_and", ref_binary_and, EXACT },
	{ "gaussian_blur", CAT_FILTER,
	  "separable Gaussian, radius ceil(4 sigma) per axis, normalised weights (f32 out)",
	  sigma_params, 1, DT_ALL, OUT_F32, SHAPE_SAME, plan_gaussian, "convolve_axis",
	  ref_gaussian_blur, FLOAT_TOL(1e-5) },
	{ "mean_box", CAT_FILTER, "mean over the (2r+1) box per axis (f32 out)", radius_params, 1,
	  DT_ALL, OUT_F32, SHAPE_SAME, plan_mean_box, "mean", ref_mean_box, FLOAT_TOL(1e-5) },
	{ "minimum_box", CAT_FILTER, "minimum over the (2r+1) box per axis", radius_params, 1,
	  DT_ALL, OUT_SAME, SHAPE_SAME, plan_minmax_box, "min", ref_minimum_box, EXACT },
	{ "maximum_box", CAT_FILTER, "maximum over the (2r+1) box per axis", radius_params, 1,
	  DT_ALL, OUT_SAME, SHAPE_SAME, plan_minmax_box, "max", ref_maximum_box, EXACT },
	{ "maximum_z_projection", CAT_PROJECTION, "out(x, y) = max over z of in(x, y, z)",
	  no_params, 1, DT_ALL, OUT_SAME, SHAPE_Z_PROJECTION, plan_z_projection,
	  "maximum_z_projection", ref_maximum_z_projection, EXACT },
	{ "sum_of_all_pixels", CAT_REDUCTION, "the sum of every voxel (one f32 value)", no_params, 1,
	  DT_ALL, OUT_F32, SHAPE_SCALAR, plan_sum, "sum_partials", ref_sum_of_all_pixels,
	  FLOAT_TOL(1e-4) },
};
const size_t op_count = sizeof(op_table) / sizeof(op_table[0]);

const char *op_category_name(enum op_category c)
{
	static const char *const names[CAT_COUNT] = {
		[CAT_MATH] = "math", [CAT_COMPARE] = "compare", [CAT_FILTER] = "filter",
		[CAT_PROJECTION] = "projection", [CAT_REDUCTION] = "reduction",
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
	default: return in;
	}
}

void op_output_dims(const struct op_desc *op, const size_t in[3], size_t out[3])
{
	out[0] = op->out_shape == SHAPE_SCALAR ? 1 : in[0];
	out[1] = op->out_shape == SHAPE_SCALAR ? 1 : in[1];
	out[2] = op->out_shape == SHAPE_SAME ? in[2] : 1;
}

uint64_t op_bytes_moved(const struct op_desc *op, const struct stack *in, const struct stack *out)
{
	return (uint64_t)op->n_inputs * stack_bytes(in) + stack_bytes(out);
}

int op_compare(const struct op_desc *op, const struct stack *gpu, const struct stack *ref,
	       struct delta *d, struct vb_err *err)
{
	size_t n = stack_voxels(ref);
	double max_ref = 0, sum_abs = 0, sum_sq = 0, max_abs = 0;
	uint64_t mismatches = 0;

	if (gpu->width != ref->width || gpu->height != ref->height || gpu->depth != ref->depth ||
	    gpu->dtype != ref->dtype)
		return vb_errf(err, VB_E_ARGS, "bug: %s output and reference differ in shape", op->name);
	for (size_t i = 0; i < n; i++)
		max_ref = fmax(max_ref, fabs(stack_get(ref, i)));
	d->tolerance = op->cmp.kind == CMP_EXACT ? 0 : op->cmp.tol * fmax(1.0, max_ref);
	for (size_t i = 0; i < n; i++) {
		double a = stack_get(gpu, i), b = stack_get(ref, i);
		double diff = fabs(a - b);

		if (isnan(a) != isnan(b))
			diff = INFINITY;
		else if (isnan(a))
			diff = 0;
		max_abs = fmax(max_abs, diff);
		sum_abs += diff;
		sum_sq += diff * diff;
		mismatches += diff > d->tolerance;
	}
	d->max_abs = max_abs;
	d->mean_abs = n ? sum_abs / n : 0;
	d->rmse = n ? sqrt(sum_sq / n) : 0;
	d->mismatches = mismatches;
	return VB_OK;
}
