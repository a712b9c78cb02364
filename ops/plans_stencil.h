/* ops/plans_stencil.h: GPU plans of the ops in ops/rows_stencil.def (see plans.h). */
#ifndef VB_PLANS_STENCIL_H
#define VB_PLANS_STENCIL_H

#include "ops.h"

/* One 3x3x3 stencil of kernels/stencil.cl: row.kernel is its name (-DOP_<kernel>=1). */
int plan_stencil(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* gaussian_blur(sigma1_*) - gaussian_blur(sigma2_*). */
int plan_difference_of_gaussian(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* in - gaussian_blur(sigma_*). */
int plan_subtract_gaussian_background(struct gpu_run *r, const struct op_call *c,
				      struct vb_err *err);
/*
 * Grey morphology over the minimum/maximum rows of one shape: row.kernel is "<what>:<shape>",
 * what = opening, closing, top_hat or bottom_hat, shape = box or sphere (the rows
 * minimum_<shape> and maximum_<shape>, whose parameters take the same names as this row's).
 */
int plan_morphology(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
