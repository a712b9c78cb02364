/* ops/plans_measure.h: GPU plans of the ops in ops/rows_measure.def (see plans.h). */
#ifndef VB_PLANS_MEASURE_H
#define VB_PLANS_MEASURE_H

#include "ops.h"

/* x pass by row scans, then a lower-envelope pass along y and z (kernels/measure.cl). */
int plan_distance_transform_edt(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* Three separable passes of (squared distance, label) minima within the radius. */
int plan_dilate_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_erode_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* Atomic accumulation per label, a second pass for the deviations, then the table. */
int plan_statistics_of_labelled_pixels(struct gpu_run *r, const struct op_call *c,
				       struct vb_err *err);
int plan_centroids_of_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* Connected components (sub-plan), then box / diamond growth steps until nothing changes. */
int plan_masked_voronoi_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* The same chain of sub-plans as the reference. */
int plan_voronoi_otsu_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
