/* reference_cpu/ref_stencil.h: references of the ops in ops/rows_stencil.def (see reference.h). */
#ifndef VB_REF_STENCIL_H
#define VB_REF_STENCIL_H

#include "../ops/ops.h"

/*
 * 3x3x3 stencils, borders clamped (scipy mode='nearest'), f32 output; voxels read as float,
 * combined in double, rounded to f32 once (reference_cpu/stencil.c):
 *   gradient_x/y/z   in(p+1) - in(p-1) along the axis (one float subtraction: exact)
 *   laplace_diamond  6 in(p) - the 6 face neighbours
 *   laplace_box      26 in(p) - the 26 neighbours
 *   sobel            sqrt(Sx^2 + Sy^2 + Sz^2), S_a = scipy.ndimage.sobel along axis a (derivative
 *                    [-1 0 1] along a, [1 2 1] along both other axes; no normalisation)
 */
int ref_gradient_x(const struct op_call *c, struct vb_err *err);
int ref_gradient_y(const struct op_call *c, struct vb_err *err);
int ref_gradient_z(const struct op_call *c, struct vb_err *err);
int ref_laplace_box(const struct op_call *c, struct vb_err *err);
int ref_laplace_diamond(const struct op_call *c, struct vb_err *err);
int ref_sobel(const struct op_call *c, struct vb_err *err);

/*
 * Composed of other ops' references; subtraction in float, saturating store:
 *   difference_of_gaussian         gaussian_blur(sigma1_*) - gaussian_blur(sigma2_*), f32
 *   subtract_gaussian_background   in - gaussian_blur(sigma_*), f32
 *   opening = maximum(minimum(in)), closing = minimum(maximum(in)), top hat = in - opening,
 *   bottom hat = closing - in; same dtype as the input (the hats stay in range: 0 .. in or
 *   0 .. closing). *_box use minimum_box / maximum_box, *_sphere minimum_sphere / maximum_sphere.
 */
int ref_difference_of_gaussian(const struct op_call *c, struct vb_err *err);
int ref_subtract_gaussian_background(const struct op_call *c, struct vb_err *err);
int ref_opening_box(const struct op_call *c, struct vb_err *err);
int ref_closing_box(const struct op_call *c, struct vb_err *err);
int ref_top_hat_box(const struct op_call *c, struct vb_err *err);
int ref_bottom_hat_box(const struct op_call *c, struct vb_err *err);
int ref_opening_sphere(const struct op_call *c, struct vb_err *err);
int ref_closing_sphere(const struct op_call *c, struct vb_err *err);
int ref_top_hat_sphere(const struct op_call *c, struct vb_err *err);

#endif
