/*
 * ops/plans.c: the launch helpers every family's plans share (ops/plans_<family>.c hold the
 * plans; their geometry comes from ops/geometry.c, the same the references use).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plans.h"

struct launch launch_1d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			size_t n)
{
	struct launch l = { .program = program, .kernel = kernel, .in_type = tin, .out_type = tout,
			    .dims = 1, .global = { n, 1, 1 } };
	return l;
}

struct launch launch_3d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			const struct stack *s)
{
	struct launch l = { .program = program, .kernel = kernel, .in_type = tin, .out_type = tout,
			    .dims = 3, .global = { s->width, s->height, s->depth } };
	return l;
}

size_t reduction_groups(size_t n, size_t group, size_t max_groups)
{
	size_t groups = (n + group - 1) / group;

	return groups > max_groups ? max_groups : groups ? groups : 1;
}

struct launch launch_groups(const char *program, const char *kernel, enum dtype tin,
			    enum dtype tout, size_t items, size_t group, const char *extra)
{
	struct launch l = launch_1d(program, kernel, tin, tout, (items + group - 1) / group * group);

	l.local[0] = group;
	snprintf(l.options, sizeof(l.options), "-DGROUP_SIZE=%zu %s", group, extra ? extra : "");
	return l;
}

void launch_add_args(struct launch *l, int n, const struct karg *args)
{
	for (int i = 0; i < n && l->nargs < LAUNCH_MAX_ARGS; i++)
		l->args[l->nargs++] = args[i];
}

/* A scratch volume shaped like the input, of dtype t, in slot `slot`; desc describes it. */
int plan_scratch_volume(struct gpu_run *r, const struct op_call *c, int slot, enum dtype t,
			struct stack *desc, struct gpu_operand *op, struct vb_err *err)
{
	const struct stack *in = c->in[0];

	memset(desc, 0, sizeof(*desc));
	desc->width = in->width;
	desc->height = in->height;
	desc->depth = in->depth;
	desc->dtype = t;
	op->desc = desc;
	return gpu_scratch(r, slot, stack_voxels(in) * dtype_size(t), &op->buf, err);
}

/* ops/plans.h */
int plan_run_op(struct gpu_run *r, const struct op_call *c, const char *name, const double *p,
		int np, struct gpu_operand a, struct gpu_operand b, struct gpu_operand dst,
		int base, struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	struct gpu_operand in[OP_MAX_INPUTS] = { a, b };
	double params[OP_MAX_PARAMS];

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs the op %s, which this build lacks",
			       c->op->name, name);
	op_default_params(op, params);
	for (int i = 0; i < np; i++)
		params[i] = p[i];
	return gpu_sub_plan(r, op, params, in, &dst, base, err);
}
