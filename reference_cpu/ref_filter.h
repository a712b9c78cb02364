/* reference_cpu/ref_filter.h: references of the ops in ops/rows_filter.def (see reference.h). */
#ifndef VB_REF_FILTER_H
#define VB_REF_FILTER_H

#include "../ops/ops.h"

/*
 * Footprints of the window filters (reference_cpu/rank.c), shared by the references and the GPU
 * plans. A footprint is stored as one x run per (dy, dz) row: runs[(dz + rz) * (2 ry + 1) + dy + ry]
 * is the run's half-width a (offsets dx = -a .. a are in), or -1 for an empty row.
 *  - box: every offset with |dx| <= rx, |dy| <= ry, |dz| <= rz.
 *  - sphere (an ellipsoid): the offsets with (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, tested
 *    exactly in integers; an axis of radius 0 contributes only offset 0 (and no term).
 * ref_footprint_runs fills runs ((2 ry + 1) (2 rz + 1) ints) and returns the voxel count (odd:
 * the footprint is symmetric and holds its centre).
 */
long ref_footprint_runs(int sphere, const int r[3], int *runs);

/* Read radius_x/y/z into r[] (integers in 0 .. 1 << 20), else VB_E_ARGS. */
int ref_window_radii(const struct op_call *c, int r[3], struct vb_err *err);

/*
 * Window filters over the box or sphere footprint of radius_x/y/z, borders clamped to the edge
 * (scipy mode='nearest', footprint= the same mask):
 *  - mean (f32, double sum / count), minimum, maximum (input dtype, exact);
 *  - median (input dtype, exact: the element of rank count/2 in the order of the values; f32
 *    orders -0 before +0 and NaN above +inf, by its order-preserving 32-bit key);
 *  - variance and standard deviation (f32): population variance, two passes in double;
 *  - erode / dilate (u8 0/1): every / any voxel of the window non-zero;
 *  - detect_maxima_box (u8 0/1): the voxel equals the maximum of its box.
 */
int ref_mean_sphere(const struct op_call *c, struct vb_err *err);
int ref_minimum_sphere(const struct op_call *c, struct vb_err *err);
int ref_maximum_sphere(const struct op_call *c, struct vb_err *err);
int ref_median_box(const struct op_call *c, struct vb_err *err);
int ref_median_sphere(const struct op_call *c, struct vb_err *err);
int ref_variance_box(const struct op_call *c, struct vb_err *err);
int ref_variance_sphere(const struct op_call *c, struct vb_err *err);
int ref_standard_deviation_box(const struct op_call *c, struct vb_err *err);
int ref_standard_deviation_sphere(const struct op_call *c, struct vb_err *err);
int ref_erode_box(const struct op_call *c, struct vb_err *err);
int ref_erode_sphere(const struct op_call *c, struct vb_err *err);
int ref_dilate_box(const struct op_call *c, struct vb_err *err);
int ref_dilate_sphere(const struct op_call *c, struct vb_err *err);
int ref_detect_maxima_box(const struct op_call *c, struct vb_err *err);

#endif
