/*
 * ops/plans_stencil.c: 3x3x3 stencils, and filters composed of other ops' plans (difference of
 * Gaussians, background subtraction, grey opening / closing / top hats) run through
 * gpu_sub_plan into scratch volumes and finished by a subtraction (kernels/stencil.cl).
 */
#include <stdio.h>
#include <string.h>

#include "plans.h"

#define SUBTRACT_ITEMS 4
/* Scratch slots of the sub-plans: each gets SUB_SLOTS of its own, after this file's 0 .. 2. */
#define SUB_BASE 8
#define SUB_SLOTS 12

int plan_stencil(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("stencil", "stencil3", in->dtype, c->out->dtype, in);

	snprintf(l.options, sizeof(l.options), "-DOP_%s=1", c->op->fn);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

/* out = a - b (float math, out's conversion); b's dtype may differ from a's. */
static int subtract(struct gpu_run *r, const struct gpu_operand *a, const struct gpu_operand *b,
		    const struct gpu_operand *out, struct vb_err *err)
{
	size_t n = stack_voxels(out->desc);
	struct launch l = launch_1d("stencil", "subtract_ab", a->desc->dtype, out->desc->dtype,
				    (n + SUBTRACT_ITEMS - 1) / SUBTRACT_ITEMS);

	snprintf(l.options, sizeof(l.options), "-DT_B=%s -DITEMS=%d",
		 dtype_cl_name(b->desc->dtype), SUBTRACT_ITEMS);
	ARGS(&l, KBUF(a->buf), KBUF(b->buf), KBUF(out->buf), KU64(n));
	return gpu_launch(r, &l, err);
}

/*
 * Run op `name` from `src` into `dst` as sub-plan number k. Its parameters come from c's of the
 * same name, or with `strip` replaced by `prefix` ("sigma_x" from "sigma1_x").
 */
static int run_sub(struct gpu_run *r, const struct op_call *c, const char *name,
		   const char *strip, const char *prefix, const struct gpu_operand *src,
		   const struct gpu_operand *dst, int k, struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	struct gpu_operand in[OP_MAX_INPUTS] = { *src };
	double p[OP_MAX_PARAMS] = { 0 };

	if (!op)
		return vb_errf(err, VB_E_ARGS, "%s: needs the op %s, which this build lacks",
			       c->op->name, name);
	for (int i = 0; op->params[i].name; i++) {
		const char *pn = op->params[i].name;
		char mine[64];

		if (strip && strncmp(pn, strip, strlen(strip)) == 0)
			snprintf(mine, sizeof(mine), "%s%s", prefix, pn + strlen(strip));
		else
			snprintf(mine, sizeof(mine), "%s", pn);
		p[i] = op_param(c, mine);
	}
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

/* t = in - in[0] as f32 into scratch slot 2 (kernels/stencil.cl minus_first says why). */
static int minus_first(struct gpu_run *r, const struct op_call *c, struct stack *desc,
		       struct gpu_operand *t, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("stencil", "minus_first", c->in[0]->dtype, DT_F32,
				    (n + SUBTRACT_ITEMS - 1) / SUBTRACT_ITEMS);
	int status = plan_scratch_volume(r, c, 2, DT_F32, desc, t, err);

	if (status)
		return status;
	snprintf(l.options, sizeof(l.options), "-DITEMS=%d", SUBTRACT_ITEMS);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(t->buf), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_difference_of_gaussian(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d1, d2, dt;
	struct gpu_operand in, out, b1, b2;
	int status;

	operands(r, c, &in, &out);
	status = minus_first(r, c, &dt, &in, err);
	if (!status)
		status = plan_scratch_volume(r, c, 0, DT_F32, &d1, &b1, err);
	if (!status)
		status = plan_scratch_volume(r, c, 1, DT_F32, &d2, &b2, err);
	if (!status)
		status = run_sub(r, c, "gaussian_blur", "sigma_", "sigma1_", &in, &b1, 0, err);
	if (!status)
		status = run_sub(r, c, "gaussian_blur", "sigma_", "sigma2_", &in, &b2, 1, err);
	return status ? status : subtract(r, &b1, &b2, &out, err);
}

int plan_subtract_gaussian_background(struct gpu_run *r, const struct op_call *c,
				      struct vb_err *err)
{
	struct stack d, dt;
	struct gpu_operand in, out, b;
	int status;

	operands(r, c, &in, &out);
	status = minus_first(r, c, &dt, &in, err);
	if (!status)
		status = plan_scratch_volume(r, c, 0, DT_F32, &d, &b, err);
	if (!status)
		status = run_sub(r, c, "gaussian_blur", NULL, NULL, &in, &b, 0, err);
	return status ? status : subtract(r, &in, &b, &out, err);
}

int plan_morphology(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const char *what = c->op->morph ? c->op->morph : "";
	const char *shape = c->op->footprint == FOOT_SPHERE ? "sphere" : "box";
	int opening = strcmp(what, "opening") == 0 || strcmp(what, "top_hat") == 0;
	int hat = strstr(what, "hat") != NULL;
	char first[64], second[64];
	struct stack d1, d2;
	struct gpu_operand in, out, t1, t2;
	int status;

	if (c->op->footprint == FOOT_NONE || (!opening && strcmp(what, "closing") != 0 &&
					      strcmp(what, "bottom_hat") != 0))
		return vb_errf(err, VB_E_ARGS, "bug: %s: morphology '%s' (or no footprint) in the op "
			       "table", c->op->name, what);
	snprintf(first, sizeof(first), "%s_%s", opening ? "minimum" : "maximum", shape);
	snprintf(second, sizeof(second), "%s_%s", opening ? "maximum" : "minimum", shape);
	operands(r, c, &in, &out);
	status = plan_scratch_volume(r, c, 0, c->in[0]->dtype, &d1, &t1, err);
	if (!status && hat)
		status = plan_scratch_volume(r, c, 1, c->in[0]->dtype, &d2, &t2, err);
	if (!status)
		status = run_sub(r, c, first, NULL, NULL, &in, &t1, 0, err);
	if (!status)
		status = run_sub(r, c, second, NULL, NULL, &t1, hat ? &t2 : &out, 1, err);
	if (status || !hat)
		return status;
	/* top hat = in - opening; bottom hat = closing - in */
	return opening ? subtract(r, &in, &t2, &out, err) : subtract(r, &t2, &in, &out, err);
}
