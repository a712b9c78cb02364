/*
 * ops/plans_stack3.c: the plans of ops/rows_stack3.def (kernels/stack3.cl), their geometry from
 * ops/geometry_stack3.c (the references use the same).
 */
#include "plans.h"

int plan_strided(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	long start[3], step[3];
	size_t out[3];
	struct launch l = launch_3d("stack3", "strided_copy", in->dtype, in->dtype, c->out);
	int status = geom_strided(c, start, step, out, err);

	if (status)
		return status;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(out[0]), KI32(out[1]), KI32(out[2]), KI32(start[0]), KI32(start[1]),
	     KI32(start[2]), KI32(step[0]), KI32(step[1]), KI32(step[2]));
	return gpu_launch(r, &l, err);
}

int plan_circular_shift(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t shift[3];
	struct launch l = launch_3d("stack3", "circular_shift", in->dtype, in->dtype, in);

	geom_circular_shift(c, shift);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(shift[0]), KI32(shift[1]), KI32(shift[2]));
	return gpu_launch(r, &l, err);
}

int plan_concatenate(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	int axis = geom_concatenate_axis(c);
	size_t bn = axis == 0 ? b->width : axis == 1 ? b->height : b->depth;
	struct launch l = launch_3d("stack3", "concatenate", a->dtype, a->dtype, c->out);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(gpu_output(r)),
	     KI32(a->width), KI32(a->height), KI32(a->depth), KI32(axis), KI32(bn));
	return gpu_launch(r, &l, err);
}
