/* ops/plans_filter.h: GPU plans of the ops in ops/rows_filter.def (see plans.h). */
#ifndef VB_PLANS_FILTER_H
#define VB_PLANS_FILTER_H

#include "ops.h"

/*
 * Window filters of kernels/rank.cl over the box or sphere footprint of radius_x/y/z. row.kernel
 * is "REDUCTION:SHAPE": REDUCTION one of mean, min, max, var, std, erode, dilate, maxima, median;
 * SHAPE box or sphere. Any input dtype; writes the output operand in its own dtype (c->out).
 */
int plan_window(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
