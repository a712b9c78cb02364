/*
 * ops/plans_math3.c: the element-wise plans of ops/rows_math3.def (kernels/math3.cl): one
 * function of the row (.fn, passed as its number in math3_fns[]) over every voxel, its first
 * three parameters passed as s0 .. s2.
 */
#include <stdio.h>
#include <string.h>

#include "plans.h"

/* The functions of kernels/math3.cl in m3_apply's order: a row's .fn is looked up here. */
static const char *const math3_fns[] = {
	"cubic_root", "reciprocal", "square", "exponential2", "exponential10", "logarithm2",
	"logarithm10", "ceil", "floor", "round", "truncate", "sign", "sin", "cos", "tan", "asin",
	"acos", "atan", "sinh", "cosh", "tanh", "degrees_to_radians", "radians_to_degrees",
	"nan_to_num", "undefined_to_zero", "divide_scalar_by_image", "replace_value", "modulo_images",
	"power_images",
};

/* Parameter i of the call as a float, 0 past the row's last. */
static float scalar_at(const struct op_call *c, int i)
{
	return i < op_param_count(c->op) ? (float)c->p[i] : 0.0f;
}

int plan_math3(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	int binary = c->op->n_inputs == 2;
	struct launch l = launch_1d("math3", binary ? "math3_binary" : "math3_unary",
				    c->in[0]->dtype, c->out->dtype, n);
	int fn = -1;

	for (size_t k = 0; k < sizeof(math3_fns) / sizeof(math3_fns[0]); k++)
		if (c->op->fn && strcmp(c->op->fn, math3_fns[k]) == 0)
			fn = (int)k;
	if (fn < 0)
		return vb_errf(err, VB_E_ARGS, "bug: %s: no function '%s' in kernels/math3.cl",
			       c->op->name, c->op->fn ? c->op->fn : "");
	ARGS(&l, KBUF(gpu_input(r, 0)));
	if (binary)
		ARGS(&l, KBUF(gpu_input(r, 1)));
	ARGS(&l, KBUF(gpu_output(r)), KF32(scalar_at(c, 0)), KF32(scalar_at(c, 1)),
	     KF32(scalar_at(c, 2)), KU64(n), KI32(fn));
	return gpu_launch(r, &l, err);
}

int plan_multiply_image_and_position(struct gpu_run *r, const struct op_call *c,
				     struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("math3", "multiply_position", in->dtype, c->out->dtype, in);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(op_param(c, "dimension")));
	return gpu_launch(r, &l, err);
}

int plan_set_nonzero_pixels_to_pixelindex(struct gpu_run *r, const struct op_call *c,
					  struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("math3", "nonzero_index", c->in[0]->dtype, DT_U32, n);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(op_param(c, "offset")), KU64(n));
	return gpu_launch(r, &l, err);
}

/* The maximum (maximum_of_all_pixels' plan) into a one-voxel scratch, then the correction. */
int plan_gamma_correction(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct op_desc *max = op_find("maximum_of_all_pixels");
	size_t n = stack_voxels(c->in[0]);
	struct stack one = { .width = 1, .height = 1, .depth = 1, .dtype = c->in[0]->dtype };
	struct gpu_operand in[OP_MAX_INPUTS] = { { gpu_input(r, 0), c->in[0] } }, m = { NULL, &one };
	struct launch l = launch_1d("math3", "gamma_correct", c->in[0]->dtype, c->out->dtype, n);
	double none[OP_MAX_PARAMS] = { 0 };
	int status;

	if (!max)
		return vb_errf(err, VB_E_ARGS, "%s: needs maximum_of_all_pixels", c->op->name);
	status = gpu_scratch(r, 0, dtype_size(one.dtype), &m.buf, err);
	if (!status)
		status = gpu_sub_plan(r, max, none, in, &m, 4, err);
	if (status)
		return status;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(m.buf), KBUF(gpu_output(r)),
	     KF32(op_param(c, "gamma")), KU64(n));
	return gpu_launch(r, &l, err);
}
