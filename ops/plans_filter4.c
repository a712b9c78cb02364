/*
 * ops/plans_filter4.c: the plan of ops/rows_filter4.def (kernels/filter4.cl): one launch, the
 * row's .fn picking the kernel and its build options. The footprint goes to the device as the
 * reference's own x runs (geom_footprint_runs), as in ops/plans_filter_rank.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans.h"

/* A row's .fn: its kernel and the build options that specialise it. */
static const struct {
	const char *fn, *kernel, *options;
} filter4_fns[] = {
	{ "mode", "mode_window", "" },
	{ "nonzero_maximum", "nonzero_window", "-DNZ_OP=0" },
	{ "nonzero_minimum", "nonzero_window", "-DNZ_OP=1" },
	{ "onlyzero_overwrite_maximum", "nonzero_window", "-DNZ_OP=2" },
	{ "kuwahara", "kuwahara", "" },
};

int plan_filter4(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct gpu_buf *runs;
	struct launch l;
	int k = -1, radius[3], status;
	long count;

	for (int i = 0; i < (int)(sizeof(filter4_fns) / sizeof(filter4_fns[0])); i++)
		if (c->op->fn && strcmp(c->op->fn, filter4_fns[i].fn) == 0)
			k = i;
	if (k < 0)
		return vb_errf(err, VB_E_ARGS, "bug: %s: no kernel for .fn '%s' in kernels/filter4.cl",
			       c->op->name, c->op->fn ? c->op->fn : "");
	l = launch_3d("filter4", filter4_fns[k].kernel, in->dtype, c->out->dtype, in);
	snprintf(l.options, sizeof(l.options), "%s", filter4_fns[k].options);
	if (strcmp(filter4_fns[k].kernel, "kuwahara") == 0) {
		ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(op_param(c, "radius")),
		     KF32(op_param(c, "sigma")), KI32(in->width), KI32(in->height),
		     KI32(in->depth));
		return gpu_launch(r, &l, err);
	}
	status = geom_window_radii_or_unit(c, radius, err);
	if (!status)
		status = plan_footprint_runs(r, c, c->op->footprint == FOOT_SPHERE, radius, &runs,
					     &count, err);
	if (status)
		return status;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KBUF(runs), KI32(radius[1]),
	     KI32(radius[2]), KI32(in->width), KI32(in->height), KI32(in->depth));
	return gpu_launch(r, &l, err);
}
