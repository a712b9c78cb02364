/*
 * ops/plans_measure4.c: histogram thresholds (threshold_otsu's plan with another pick,
 * kernels/measure4.cl), the product of all voxels, and binary_fill_holes composed of the
 * connected-components and edge-exclusion plans.
 */
#include <stdio.h>

#include "plans.h"

#define PARTS 4096u

int plan_threshold_yen(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_yen_select", err);
}

int plan_threshold_isodata(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_isodata_select", err);
}

int plan_threshold_triangle(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_triangle_select", err);
}

int plan_threshold_li(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_li_select", err);
}

/* PARTS strided partial products (mantissa, exponent), then one work-item combines them. */
int plan_product_of_all_pixels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), parts = n < PARTS ? (n ? n : 1) : PARTS;
	struct gpu_buf *m, *e;
	struct launch l;
	int status;

	if ((status = gpu_scratch(r, 0, parts * sizeof(double), &m, err)) ||
	    (status = gpu_scratch(r, 1, parts * sizeof(int64_t), &e, err)))
		return status;
	l = launch_1d("measure4", "m4_product_partials", c->in[0]->dtype, DT_F32, parts);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(m), KBUF(e), KU64(n), KI32(parts));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("measure4", "m4_product_final", DT_F32, DT_F32, 1);
	l.local[0] = 1;
	ARGS(&l, KBUF(m), KBUF(e), KBUF(gpu_output(r)), KI32(parts));
	return gpu_launch(r, &l, err);
}

/* Sub-plan `name` with its default parameters (exclude_* all 1) from in into out. */
static int fill_step(struct gpu_run *r, const struct op_call *c, const char *name,
		     const struct gpu_operand *in, const struct gpu_operand *out, int base,
		     struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	struct gpu_operand ins[OP_MAX_INPUTS] = { *in };
	double p[OP_MAX_PARAMS];

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs the op %s, which this build lacks",
			       c->op->name, name);
	op_default_params(op, p);
	return gpu_sub_plan(r, op, p, ins, out, base, err);
}

/*
 * The background's 6-connected components (connected_components_labeling_diamond), those that
 * touch a face dropped (exclude_labels_on_edges): what is left are the holes; out = in != 0 or
 * a hole. A single plane touches the z faces everywhere, so it has no holes (as scipy).
 */
int plan_binary_fill_holes(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	struct stack bg_desc, lab_desc, hole_desc;
	struct gpu_operand bg, lab, holes;
	struct launch l;
	int status, any = in->depth > 1;

	if ((status = plan_scratch_volume(r, c, 0, DT_U8, &bg_desc, &bg, err)) ||
	    (status = plan_scratch_volume(r, c, 1, DT_U32, &lab_desc, &lab, err)) ||
	    (status = plan_scratch_volume(r, c, 2, DT_U32, &hole_desc, &holes, err)))
		return status;
	if (any) {
		l = launch_1d("measure4", "m4_background", in->dtype, DT_U8, n);
		ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(bg.buf), KU64(n));
		if ((status = gpu_launch(r, &l, err)) ||
		    (status = fill_step(r, c, "connected_components_labeling_diamond", &bg, &lab, 3,
					err)) ||
		    (status = fill_step(r, c, "exclude_labels_on_edges", &lab, &holes, 8, err)))
			return status;
	}
	l = launch_1d("measure4", "m4_fill", in->dtype, DT_U8, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(holes.buf), KBUF(gpu_output(r)), KU64(n), KI32(any));
	return gpu_launch(r, &l, err);
}
