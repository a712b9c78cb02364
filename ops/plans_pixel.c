/*
 * ops/plans_pixel.c: element-wise plans (kernels/pixel.cl): one function of the row (.fn) or a
 * whole-voxel entry point (.entry: copy_exact, invert_exact).
 */
#include <stdio.h>

#include "plans.h"

/* Voxels per work-item of element-wise kernels (kernels/pixel.cl ITEMS). */
#define ELEMENTWISE_ITEMS 4

int plan_copy(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	struct launch l = launch_1d("pixel", c->op->entry, t, t,
				    (stack_voxels(c->in[0]) + ELEMENTWISE_ITEMS - 1) / ELEMENTWISE_ITEMS);

	snprintf(l.options, sizeof(l.options), "-DITEMS=%d", ELEMENTWISE_ITEMS);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KU64(stack_voxels(c->in[0])));
	return gpu_launch(r, &l, err);
}

int plan_elementwise(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	int binary = c->op->n_inputs == 2;
	struct launch l = launch_1d("pixel", binary ? "elementwise_binary" : "elementwise_unary",
				    c->in[0]->dtype, c->out->dtype,
				    (n + ELEMENTWISE_ITEMS - 1) / ELEMENTWISE_ITEMS);
	float s0 = c->op->params[0].name ? (float)c->p[0] : 0.0f;
	float s1 = c->op->params[0].name && c->op->params[1].name ? (float)c->p[1] : 0.0f;

	snprintf(l.options, sizeof(l.options), "-DOP_FN=%s -DITEMS=%d", c->op->fn,
		 ELEMENTWISE_ITEMS);
	ARGS(&l, KBUF(gpu_input(r, 0)));
	if (binary)
		ARGS(&l, KBUF(gpu_input(r, 1)));
	ARGS(&l, KBUF(gpu_output(r)), KF32(s0), KF32(s1), KU64(n));
	return gpu_launch(r, &l, err);
}

/* Radii up to this keep their window in registers (kernels/filter.cl convolve_axis_sliding). */
