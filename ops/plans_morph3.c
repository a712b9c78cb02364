/*
 * ops/plans_morph3.c: the plans of ops/rows_morph3.def: the minimum / maximum filters and binary
 * erosion / dilation of other rows run through gpu_sub_plan into scratch volumes, finished by a
 * kernel of kernels/morph3.cl; binary edge detection in one launch.
 */
#include <stdio.h>
#include <string.h>

#include "plans.h"

/* Scratch slots: 0 and 1 are this file's volumes; sub-plan k gets SUB_SLOTS from SUB_BASE on. */
#define SUB_BASE 4
#define SUB_SLOTS 12

/* Op `shape` ("minimum_box", "dilate_sphere", ...) from src into dst as sub-plan k, its
 * parameters (the radii) taken from c's of the same names. */
static int sub(struct gpu_run *r, const struct op_call *c, const char *name,
	       const struct gpu_operand *src, const struct gpu_operand *dst, int k,
	       struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	struct gpu_operand in[OP_MAX_INPUTS] = { *src };
	double p[OP_MAX_PARAMS] = { 0 };

	if (!op)
		return vb_errf(err, VB_E_ARGS, "%s: needs the op %s, which this build lacks",
			       c->op->name, name);
	for (int i = 0; op->params[i].name; i++)
		p[i] = op_param(c, op->params[i].name);
	return gpu_sub_plan(r, op, p, in, dst, SUB_BASE + k * SUB_SLOTS, err);
}

static void operands(struct gpu_run *r, const struct op_call *c, struct gpu_operand *in,
		     struct gpu_operand *out)
{
	in->buf = gpu_input(r, 0);
	in->desc = c->in[0];
	out->buf = gpu_output(r);
	out->desc = c->out;
}

static const char *shape_of(const struct op_call *c)
{
	return c->op->footprint == FOOT_SPHERE ? "sphere" : "box";
}

/* t0 = maximum(in), t1 = minimum(in) of the row's shape (also the erosion alone: max NULL). */
static int max_and_min(struct gpu_run *r, const struct op_call *c, struct stack d[2],
		       struct gpu_operand t[2], struct vb_err *err)
{
	struct gpu_operand in, out;
	char name[64];
	int status;

	operands(r, c, &in, &out);
	status = plan_scratch_volume(r, c, 0, c->in[0]->dtype, &d[0], &t[0], err);
	if (!status)
		status = plan_scratch_volume(r, c, 1, c->in[0]->dtype, &d[1], &t[1], err);
	snprintf(name, sizeof(name), "maximum_%s", shape_of(c));
	if (!status)
		status = sub(r, c, name, &in, &t[0], 0, err);
	snprintf(name, sizeof(name), "minimum_%s", shape_of(c));
	if (!status)
		status = sub(r, c, name, &in, &t[1], 1, err);
	return status;
}

int plan_morphological_gradient(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d[2];
	struct gpu_operand t[2];
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("morph3", "difference", c->in[0]->dtype, c->out->dtype, n);
	int status = max_and_min(r, c, d, t, err);

	if (status)
		return status;
	ARGS(&l, KBUF(t[0].buf), KBUF(t[1].buf), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_morphological_laplace(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d[2];
	struct gpu_operand t[2];
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("morph3", "laplace_combine", c->in[0]->dtype, c->out->dtype, n);
	int status = max_and_min(r, c, d, t, err);

	if (status)
		return status;
	ARGS(&l, KBUF(t[0].buf), KBUF(t[1].buf), KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)),
	     KU64(n));
	return gpu_launch(r, &l, err);
}

/* Binary opening (.morph "opening": erode, then dilate) or closing (dilate, then erode). */
int plan_binary_morphology(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	int opening = c->op->morph && strcmp(c->op->morph, "opening") == 0;
	char first[64], second[64];
	struct stack d;
	struct gpu_operand in, out, t;
	int status;

	snprintf(first, sizeof(first), "%s_%s", opening ? "erode" : "dilate", shape_of(c));
	snprintf(second, sizeof(second), "%s_%s", opening ? "dilate" : "erode", shape_of(c));
	operands(r, c, &in, &out);
	status = plan_scratch_volume(r, c, 0, DT_U8, &d, &t, err);
	if (!status)
		status = sub(r, c, first, &in, &t, 0, err);
	return status ? status : sub(r, c, second, &t, &out, 1, err);
}

int plan_detect_minima_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d;
	struct gpu_operand in, out, t;
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("morph3", "equal_ab", c->in[0]->dtype, c->out->dtype, n);
	int status;

	operands(r, c, &in, &out);
	status = plan_scratch_volume(r, c, 0, c->in[0]->dtype, &d, &t, err);
	if (!status)
		status = sub(r, c, "minimum_box", &in, &t, 0, err);
	if (status)
		return status;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(t.buf), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_binary_edge_detection(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("morph3", "binary_edge", in->dtype, c->out->dtype, in);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

/* closing_sphere(in) - in: the black top hat by the ellipsoid. */
int plan_bottom_hat_sphere(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d;
	struct gpu_operand in, out, t;
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("morph3", "difference", c->in[0]->dtype, c->out->dtype, n);
	int status;

	operands(r, c, &in, &out);
	status = plan_scratch_volume(r, c, 0, c->in[0]->dtype, &d, &t, err);
	if (!status)
		status = sub(r, c, "closing_sphere", &in, &t, 0, err);
	if (status)
		return status;
	ARGS(&l, KBUF(t.buf), KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}
