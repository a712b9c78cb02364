/* reference_cpu/ref_pixel.h: references of the ops in ops/rows_pixel.def (see reference.h). */
#ifndef VB_REF_PIXEL_H
#define VB_REF_PIXEL_H

#include "../ops/ops.h"

/* reference_cpu/pixel.c */
int ref_subtract_image_from_scalar(const struct op_call *c, struct vb_err *err);
int ref_divide_images(const struct op_call *c, struct vb_err *err);
int ref_power(const struct op_call *c, struct vb_err *err);
int ref_square_root(const struct op_call *c, struct vb_err *err);
int ref_exponential(const struct op_call *c, struct vb_err *err);
int ref_logarithm(const struct op_call *c, struct vb_err *err);
int ref_maximum_images(const struct op_call *c, struct vb_err *err);
int ref_minimum_images(const struct op_call *c, struct vb_err *err);
int ref_maximum_image_and_scalar(const struct op_call *c, struct vb_err *err);
int ref_minimum_image_and_scalar(const struct op_call *c, struct vb_err *err);
int ref_absolute_difference(const struct op_call *c, struct vb_err *err);
int ref_squared_difference(const struct op_call *c, struct vb_err *err);
int ref_add_images_weighted(const struct op_call *c, struct vb_err *err);
int ref_clip(const struct op_call *c, struct vb_err *err);
int ref_mask(const struct op_call *c, struct vb_err *err);
int ref_invert(const struct op_call *c, struct vb_err *err);
int ref_equal(const struct op_call *c, struct vb_err *err);
int ref_not_equal(const struct op_call *c, struct vb_err *err);
int ref_greater(const struct op_call *c, struct vb_err *err);
int ref_greater_or_equal(const struct op_call *c, struct vb_err *err);
int ref_smaller(const struct op_call *c, struct vb_err *err);
int ref_smaller_or_equal(const struct op_call *c, struct vb_err *err);
int ref_equal_constant(const struct op_call *c, struct vb_err *err);
int ref_not_equal_constant(const struct op_call *c, struct vb_err *err);
int ref_greater_or_equal_constant(const struct op_call *c, struct vb_err *err);
int ref_smaller_constant(const struct op_call *c, struct vb_err *err);
int ref_smaller_or_equal_constant(const struct op_call *c, struct vb_err *err);
int ref_binary_or(const struct op_call *c, struct vb_err *err);
int ref_binary_xor(const struct op_call *c, struct vb_err *err);
int ref_binary_not(const struct op_call *c, struct vb_err *err);
int ref_binary_subtract(const struct op_call *c, struct vb_err *err);

#endif
