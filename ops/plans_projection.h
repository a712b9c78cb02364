/* ops/plans_projection.h: GPU plans of the ops in ops/rows_projection.def (see plans.h). */
#ifndef VB_PLANS_PROJECTION_H
#define VB_PLANS_PROJECTION_H

#include "ops.h"

/* row.kernel: "max", "min", "sum", "mean", and for z also "std" (param ddof) and "argmax". */
int plan_project_z(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_project_y(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_project_x(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* Whole-stack reductions; row.kernel "min"/"max" and "mean"/"std" (param ddof). */
int plan_reduce_minmax(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_moments(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_mean_squared_error(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_center_of_mass(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_histogram(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

/* Output dims (SHAPE_CUSTOM) of x projections (depth x height), y projections (width x depth),
 * center_of_mass (3 x 1 x 1) and histogram (num_bins x 1 x 1). */
int dims_x_projection(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_y_projection(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_center_of_mass(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_histogram(const struct op_call *c, size_t out[3], struct vb_err *err);

#endif
