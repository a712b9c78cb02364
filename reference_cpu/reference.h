/*
 * reference_cpu/reference.h: the CPU reference of every op, the definition of the right answer.
 *
 * Each op of the table (ops/registry.c) names one function here as its `ref`. A reference is
 * written to be obviously right first and fast second: C11 + OpenMP, double accumulators wherever
 * rounding could matter, and results that do not depend on the thread count.
 *
 * Calling convention (the `ref_fn` type of ops/ops.h)
 * ---------------------------------------------------
 *
 *     int ref_gaussian_blur(const struct op_call *c, struct vb_err *err);
 *
 *  - `c->in[0]` is the input stack; `c->in[1]` the second image of two-image ops, with the same
 *    dims and dtype as `c->in[0]`.
 *  - `c->out` is allocated by the caller with the dims and dtype the op's row prescribes
 *    (op_output_dims(), op_output_dtype()); the reference only fills its voxels.
 *  - Parameters are read by name with op_param(c, "sigma_x") and so on.
 *  - `c->threads` is the number of OpenMP threads to use (values below 1 mean 1).
 *  - Returns VB_OK, or a negative VB_E_* status with `err` filled (VB_E_NOMEM when scratch memory
 *    cannot be allocated, VB_E_ARGS for an input the op cannot take). On failure the contents of
 *    `c->out` are unspecified.
 *
 * Conventions shared by every op (the same as the kernels', see ops/ops.h)
 * -------------------------------------------------------------------------
 *
 *  - Pixel math reads voxels as float, computes in single precision and writes the output type
 *    with dtype_convert_sat() (OpenCL's convert_<type>_sat: NaN -> 0, round toward zero,
 *    saturate); an f32 output stores the float unchanged.
 *  - Borders clamp to the edge (scipy mode='nearest').
 *  - Box filters take a radius per axis; the box is (2rx+1) x (2ry+1) x (2rz+1) voxels.
 *  - Gaussian: per axis, radius ceil(4*sigma) and weights exp(-k^2 / (2 sigma^2)) normalised to
 *    sum 1; sigma 0 leaves that axis unfiltered.
 *
 * Scratch memory: the separable filters (gaussian_blur, mean_box, minimum_box, maximum_box) hold
 * one intermediate volume of doubles (8 bytes per voxel) plus a slab or a plane per thread.
 */
#ifndef VB_REFERENCE_H
#define VB_REFERENCE_H

#include "../common/vb.h"
#include "../ops/ops.h"

/* ---- element-wise (reference_cpu/pixel.c) ---- */

/* out = in[0], voxel for voxel (same dtype). */
int ref_copy(const struct op_call *c, struct vb_err *err);

/* out = a + b, a - b, a * b with a = in[0], b = in[1]; float math, saturating store. */
int ref_add_images(const struct op_call *c, struct vb_err *err);
int ref_subtract_images(const struct op_call *c, struct vb_err *err);
int ref_multiply_images(const struct op_call *c, struct vb_err *err);

/* out = a + s, a * s, with s = param "scalar" as a float; saturating store. */
int ref_add_image_and_scalar(const struct op_call *c, struct vb_err *err);
int ref_multiply_image_and_scalar(const struct op_call *c, struct vb_err *err);

/* out = fabsf(a); saturating store (i32 -2147483648 becomes 2147483647). */
int ref_absolute(const struct op_call *c, struct vb_err *err);

/* ---- comparisons (reference_cpu/pixel.c); the output is a u8 mask of 0 and 1 ---- */

/* out = (float)a > (float)param "scalar". */
int ref_greater_constant(const struct op_call *c, struct vb_err *err);

/* out = a != 0 && b != 0 (raw values: an f32 -0.0 counts as zero, NaN as non-zero). */
int ref_binary_and(const struct op_call *c, struct vb_err *err);

/* ---- filters (reference_cpu/filter.c) ---- */

/*
 * Separable Gaussian blur, params "sigma_x", "sigma_y", "sigma_z" (>= 0); f32 output, computed in
 * double. The same as scipy.ndimage.gaussian_filter(in, (sz, sy, sx), mode='nearest',
 * radius=(rz, ry, rx)) with r = ceil(4 sigma). Note that scipy's own default radius,
 * int(truncate*sigma + 0.5), differs from ceil(4 sigma) when the fraction of 4 sigma is below .5.
 */
int ref_gaussian_blur(const struct op_call *c, struct vb_err *err);

/*
 * The Gaussian of one axis: ref_gaussian_radius() gives r = ceil(4 sigma) (0 for sigma <= 0) and
 * ref_gaussian_weights() fills w[0 .. 2r] with the normalised weights of offsets -r .. r
 * (w[0] = 1 when r == 0). GPU plans use these so that kernel and reference share their weights.
 */
int ref_gaussian_radius(double sigma);
void ref_gaussian_weights(double sigma, int radius, double *w);

/*
 * Mean over the clamped box of radii "radius_x", "radius_y", "radius_z" (>= 0); f32 output,
 * double accumulation (scipy uniform_filter with size 2r+1, mode='nearest').
 */
int ref_mean_box(const struct op_call *c, struct vb_err *err);

/* Minimum / maximum over the clamped box (same radius params); output in the input's dtype, exact
 * (scipy minimum_filter / maximum_filter with size 2r+1, mode='nearest'). */
int ref_minimum_box(const struct op_call *c, struct vb_err *err);
int ref_maximum_box(const struct op_call *c, struct vb_err *err);

/* ---- projections and reductions (reference_cpu/projection.c) ---- */

/* out (width x height x 1, same dtype) = maximum over z of in[0]. */
int ref_maximum_z_projection(const struct op_call *c, struct vb_err *err);

/*
 * out (1x1x1 f32) = the sum of every voxel, accumulated in double over fixed blocks whose
 * partial sums are added in block order, so the result is the same for every thread count; it is
 * rounded to float once, at the end.
 */
int ref_sum_of_all_pixels(const struct op_call *c, struct vb_err *err);

/* ---- labelling (reference_cpu/label.c) ---- */

/*
 * Connected components of the non-zero voxels of in (connectivity 6 or 26) into out (u32, same
 * dims, allocated by the caller): labels 1..N numbered in raster order of each component's first
 * voxel (scipy.ndimage.label's numbering), background 0. `threads` share the planes out.
 */
int ref_label_binary(const struct stack *in, int connectivity, int threads, struct stack *out,
		     struct vb_err *err);

/* Each family's references (one header per family, kept beside its source). */
#include "ref_pixel.h"
#include "ref_filter.h"
#include "ref_stencil.h"
#include "ref_projection.h"
#include "ref_transform.h"
#include "ref_label.h"
#include "ref_measure.h"

#endif
