/* reference_cpu/ref_projection.h: references of the ops in ops/rows_projection.def (see reference.h). */
#ifndef VB_REF_PROJECTION_H
#define VB_REF_PROJECTION_H

#include "../ops/ops.h"

/*
 * Projections along one axis (reference_cpu/projection.c), computed in double per output voxel,
 * along its line in order. Output shapes (clEsperanto's): z -> width x height, y -> width x depth
 * (out(x, z)), x -> depth x height (out(z, y)).
 * minimum / maximum: the input's dtype, exact; NaN voxels are ignored (fmin/fmax), an all-NaN line
 * gives NaN. sum / mean: f32, the double sum (/ the line length) rounded once.
 * std_z_projection: f32, sqrt(sum (v - mean)^2 / (depth - ddof)) (two passes, double), 0 where
 * depth <= ddof. arg_maximum_z_projection: u32, the first z of the line's greatest value (NaN is
 * never greater; an all-NaN line gives 0).
 */
int ref_minimum_z_projection(const struct op_call *c, struct vb_err *err);
int ref_sum_z_projection(const struct op_call *c, struct vb_err *err);
int ref_mean_z_projection(const struct op_call *c, struct vb_err *err);
int ref_std_z_projection(const struct op_call *c, struct vb_err *err);
int ref_arg_maximum_z_projection(const struct op_call *c, struct vb_err *err);
int ref_maximum_y_projection(const struct op_call *c, struct vb_err *err);
int ref_minimum_y_projection(const struct op_call *c, struct vb_err *err);
int ref_sum_y_projection(const struct op_call *c, struct vb_err *err);
int ref_mean_y_projection(const struct op_call *c, struct vb_err *err);
int ref_maximum_x_projection(const struct op_call *c, struct vb_err *err);
int ref_minimum_x_projection(const struct op_call *c, struct vb_err *err);
int ref_sum_x_projection(const struct op_call *c, struct vb_err *err);
int ref_mean_x_projection(const struct op_call *c, struct vb_err *err);

/*
 * Whole-stack reductions (reference_cpu/reduction.c). Sums are double over fixed blocks added in
 * block order (the same result for every thread count), rounded to f32 once.
 * minimum / maximum_of_all_pixels: the input's dtype, exact, NaN ignored.
 * mean_of_all_pixels: f32. standard_deviation_of_all_pixels: f32, two passes, ddof param, 0 where
 * n <= ddof. mean_squared_error: f32, mean of (a - b)^2. center_of_mass: 3x1x1 f32 = x, y, z of
 * sum(coord * v) / sum(v) (NaN or inf when sum(v) is 0).
 * histogram: num_bins x 1 x 1 u32 counts, numpy.histogram(a, num_bins, range=(lo, hi)); see
 * ref_histogram_edges. Voxels outside [lo, hi] (and NaN) are not counted.
 */
int ref_maximum_of_all_pixels(const struct op_call *c, struct vb_err *err);
int ref_minimum_of_all_pixels(const struct op_call *c, struct vb_err *err);
int ref_mean_of_all_pixels(const struct op_call *c, struct vb_err *err);
int ref_standard_deviation_of_all_pixels(const struct op_call *c, struct vb_err *err);
int ref_mean_squared_error(const struct op_call *c, struct vb_err *err);
int ref_center_of_mass(const struct op_call *c, struct vb_err *err);
int ref_histogram(const struct op_call *c, struct vb_err *err);

/*
 * The histogram's range: the params (pmin, pmax), or the image's own (imin, imax) when
 * pmin >= pmax (ref_histogram_image_range); a range of zero width becomes (lo - 0.5, hi + 0.5),
 * as numpy does.
 */
int ref_histogram_image_range(double pmin, double pmax);
void ref_histogram_range(double pmin, double pmax, double imin, double imax, double *lo,
			 double *hi);
/*
 * The thresholds of nbins bins over [lo, hi], shared with the kernel (kernels/histogram.cl).
 * Edges e[i] = lo + i * ((hi - lo) / nbins) in double (numpy.linspace), e[nbins] = hi. f32 input:
 * float t[i] = (float)e[i]; v counts when t[0] <= v <= t[nbins] and goes to the last i < nbins
 * with t[i] <= v. Integer input: int64 t[i] = ceil(e[i]) for i < nbins and t[nbins] =
 * floor(e[nbins]) + 1; v counts when t[0] <= v < t[nbins], same bin rule. `edges` holds nbins + 1
 * floats or int64s.
 */
void ref_histogram_edges(enum dtype t, int nbins, double lo, double hi, void *edges);

#endif
