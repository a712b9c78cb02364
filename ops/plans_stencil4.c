/*
 * ops/plans_stencil4.c: one launch each: the Hessian eigenvalue the row's .fn names (0 smallest,
 * 1 middle, 2 largest; kernels/stencil.cl, beside the other 3x3x3 stencils), and the binary
 * sup-inf (.fn 0) / inf-sup (1) (kernels/stencil4.cl).
 */
#include <stdio.h>

#include "plans.h"

static int stencil4(struct gpu_run *r, const struct op_call *c, const char *program,
		    const char *kernel, const char *option, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d(program, kernel, in->dtype, c->out->dtype, in);

	snprintf(l.options, sizeof(l.options), "-D%s=%s", option, c->op->fn ? c->op->fn : "0");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

int plan_hessian(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return stencil4(r, c, "stencil", "hessian_eigenvalue", "WHICH", err);
}

int plan_sup_inf(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return stencil4(r, c, "stencil4", "sup_inf", "INFSUP", err);
}
