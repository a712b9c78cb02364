/*
 * ops/dims_label3.h: output dims of the label, map and measurement ops of ops/rows_label3.def and
 * ops/rows_measure3.def (their .dims), and the limits their tables share with the references.
 * Included by ops/geometry.h.
 */
#ifndef VB_DIMS_LABEL3_H
#define VB_DIMS_LABEL3_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"

/*
 * Matrices indexed by label (touch, overlap) hold (max label + 1)^2 bytes: they are built for
 * label images whose largest label is at most LABEL3_MATRIX_MAX_LABEL (64 MiB); beyond it the
 * op refuses with VB_E_TOO_BIG (a skip row), since the matrix grows with the square of the count.
 */
#define LABEL3_MATRIX_MAX_LABEL 8191u

/* VB_E_TOO_BIG with a message when a matrix over labels 0..max cannot be built. */
int label3_matrix_check(const char *op, uint64_t max, struct vb_err *err);

/* The non-zero voxels of s (0 for a device-only stack), and a point list's rows: x, y and z for a
 * stack deeper than one plane, else x and y (as clEsperanto's lists). */
size_t label3_spot_count(const struct stack *s);
int label3_point_rows(const struct stack *s);

/*
 * The fixed point of the extension maps' distance sums: 2^k with voxels * (the stack's diagonal)
 * * 2^k below 2^61, so int64 sums of rint(distance * 2^k) cannot overflow and add up to the same
 * value in any order (GPU and reference alike).
 */
float label3_extension_scale(const struct stack *s);

int dims_spots_pointlist(const struct op_call *c, size_t out[3], struct vb_err *err); /* N x rows */
int dims_labelled_pointlist(const struct op_call *c, size_t out[3], struct vb_err *err); /* max x rows */
int dims_label_vector(const struct op_call *c, size_t out[3], struct vb_err *err);   /* max+1 */
/* The same over the labels of input 1. */
int dims_label_vector_of_second(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_touch_matrix(const struct op_call *c, size_t out[3], struct vb_err *err);   /* (max+1)^2 */
int dims_overlap_matrix(const struct op_call *c, size_t out[3], struct vb_err *err); /* n1+1 x n2+1 */
int dims_background_statistics(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_bounding_box(const struct op_call *c, size_t out[3], struct vb_err *err); /* 6x1x1 */

#endif
