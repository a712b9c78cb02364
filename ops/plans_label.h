/* ops/plans_label.h: GPU plans of the ops in ops/rows_label.def (see plans.h). */
#ifndef VB_PLANS_LABEL_H
#define VB_PLANS_LABEL_H

#include "ops.h"

/* threshold_otsu, threshold_mean: kernels/threshold.cl, no host round trip. */
int plan_threshold_otsu(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_threshold_mean(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* Union-find labelling; row.kernel is "6" or "26" (the connectivity). */
int plan_connected_components(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_label_spots(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/*
 * Label tables (one entry per label value; the largest label is read back to size them): row.kernel
 * is "present" (relabel_sequential), "edges" (exclude_labels_on_edges) or "size" (the size ops).
 */
int plan_relabel(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
