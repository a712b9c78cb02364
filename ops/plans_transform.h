/* ops/plans_transform.h: GPU plans of the ops in ops/rows_transform.def (see plans.h). */
#ifndef VB_PLANS_TRANSFORM_H
#define VB_PLANS_TRANSFORM_H

#include "ops.h"

/* transpose_xy, transpose_xz: tiles through local memory (kernels/transform.cl transpose_tiled). */
int plan_transpose_tiled(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* transpose_yz, flip, crop, pad: the op's integer voxel map (ref_voxel_map), one gather kernel. */
int plan_voxel_gather(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* translate, scale, rotate, affine_transform: the op's float matrix (ref_transform_matrix). */
int plan_resample(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

#endif
