/*
 * ops/plans.h: the GPU plans of the kernel families: how each family's kernels are launched.
 * A row of the op table names one; the row's `kernel` field parameterises it.
 */
#ifndef VB_PLANS_H
#define VB_PLANS_H

#include "ops.h"

int plan_copy(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* One element-wise function of kernels/elementwise.cl (-DOP_FN=row.kernel); scalar = p[0]. */
int plan_elementwise(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_gaussian(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_mean_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* row.kernel is "min" or "max". */
int plan_minmax_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_z_projection(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_sum(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
