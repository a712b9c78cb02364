/*
 * ops/plans_proj3.c: the plans of ops/rows_proj3.def (kernels/proj3.cl): a projection or a
 * cumulative op along the row's axis, the kind named by the row's .reduce.
 */
#include <string.h>

#include "plans.h"

#define CUM_ROWS 32 /* rows an x_cumulate group scans: its work-items, and its tiles' side */

/* kernels/proj3.cl's kinds, by the names the rows use (index = the kernel's number). */
static const char *const project_kinds[] = { "argmin", "argmax", "product", "variance", "std" };
static const char *const cumulate_kinds[] = { "sum", "product", "max", "min" };

static int kind_of(const struct op_call *c, const char *const *kinds, int n, int *kind,
		   struct vb_err *err)
{
	for (int k = 0; k < n; k++)
		if (c->op->reduce && strcmp(c->op->reduce, kinds[k]) == 0) {
			*kind = k;
			return VB_OK;
		}
	return vb_errf(err, VB_E_ARGS, "bug: %s: no kind '%s' in kernels/proj3.cl", c->op->name,
		       c->op->reduce ? c->op->reduce : "");
}

/* The axis of a projection row: its .fn, "x", "y" or "z". */
static int projection_axis(const struct op_call *c)
{
	const char *axis = c->op->fn ? c->op->fn : "z";

	return axis[0] == 'x' ? 0 : axis[0] == 'y' ? 1 : 2;
}

int plan_axis_project(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	int kind = 0, axis = projection_axis(c), status = kind_of(c, project_kinds, 5, &kind, err);
	int ddof = op_param_count(c->op) ? (int)op_param(c, "ddof") : 0;
	struct launch l = launch_3d("proj3", "axis_project", in->dtype, c->out->dtype, c->out);

	if (status)
		return status;
	l.dims = 2;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(axis), KI32(kind), KI32(ddof));
	return gpu_launch(r, &l, err);
}

int plan_axis_cumulate(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	int kind = 0, axis = (int)op_param(c, "axis"), status = kind_of(c, cumulate_kinds, 4, &kind, err);
	struct launch l = launch_1d("proj3", "axis_cumulate", in->dtype, c->out->dtype, 1);

	if (status)
		return status;
	if (axis == 0) { /* along rows: CUM_ROWS rows per group through local tiles, coalesced */
		l = launch_groups("proj3", "x_cumulate", in->dtype, c->out->dtype,
				  in->height * in->depth, CUM_ROWS, NULL);
		ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width),
		     KI32(in->height), KI32(in->depth), KI32(kind));
		return gpu_launch(r, &l, err);
	}
	l.dims = 2;
	l.global[0] = axis == 0 ? in->height : in->width;
	l.global[1] = axis == 2 ? in->height : in->depth;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(axis), KI32(kind));
	return gpu_launch(r, &l, err);
}
