/*
 * reference_cpu/ref_transform.h: references of the ops in ops/rows_transform.def (see reference.h),
 * and the geometry those ops' GPU plans share with them (reference_cpu/transform.c).
 *
 * Conventions of every transform op:
 *  - voxel (i, j, k) sits at coordinate (x, y, z) = (i, j, k): centres at integers (scipy.ndimage);
 *    the stack centre is ((w-1)/2, (h-1)/2, (d-1)/2).
 *  - resampling ops map each OUTPUT voxel to an INPUT coordinate (in = M out + t, scipy's
 *    direction) and sample there; samples outside the input clamp to the edge (mode='nearest').
 *  - nearest: index floor(x + 0.5) (ties round up, as scipy order=0), the voxel copied bit for bit.
 *  - linear: trilinear, voxels read as float, x then y then z lerps a + t (b - a) as fma, stored
 *    with convert_<type>_sat (truncation). The coordinates are floats computed by nested fma from
 *    a float 3x4 matrix that ref_transform_matrix() makes for both sides, so the kernel and the
 *    reference do the same float operations and agree bit for bit.
 */
#ifndef VB_REF_TRANSFORM_H
#define VB_REF_TRANSFORM_H

#include <stdint.h>

#include "../ops/ops.h"

/* Output limits of ops whose output is larger than their input (VB_E_TOO_BIG beyond them): every
 * axis must fit the kernels' int coordinates, and the voxel count a sane allocation. */
#define TRANSFORM_MAX_AXIS 2147483647ull
#define TRANSFORM_MAX_VOXELS (1ull << 34)

enum transform_interp { TRANSFORM_NEAREST, TRANSFORM_LINEAR };

/* dims functions (rows' .dims). */
int ref_dims_transpose_xy(const struct op_call *c, size_t out[3], struct vb_err *err);
int ref_dims_transpose_xz(const struct op_call *c, size_t out[3], struct vb_err *err);
int ref_dims_transpose_yz(const struct op_call *c, size_t out[3], struct vb_err *err);
int ref_dims_crop(const struct op_call *c, size_t out[3], struct vb_err *err);
int ref_dims_pad(const struct op_call *c, size_t out[3], struct vb_err *err);
int ref_dims_scale(const struct op_call *c, size_t out[3], struct vb_err *err);

/*
 * An integer voxel map: input coordinate a = sign[a] * o[perm[a]] + off[a] for output voxel o;
 * outside the input gives `pad` (pad only). transpose, flip, crop and pad are such maps.
 */
struct voxel_map {
	int perm[3];
	int sign[3];
	int64_t off[3];
	float pad; /* stored with convert_<type>_sat */
};
/* The map of op c (one of transpose_*, flip, crop, pad). */
void ref_voxel_map(const struct op_call *c, struct voxel_map *m);

/*
 * The float output->input matrix of a resampling op (translate, scale, rotate, affine_transform):
 * in_x = m[0] out_x + m[1] out_y + m[2] out_z + m[3], rows y and z in m[4..7], m[8..11]. Computed
 * in double, rounded to float once. out_dims: the op's output dims.
 */
void ref_transform_matrix(const struct op_call *c, const size_t out_dims[3], float m[12]);
/* The op's interpolation (TRANSFORM_NEAREST or TRANSFORM_LINEAR). */
int ref_transform_interp(const struct op_call *c);

/* transpose_*, flip, crop and pad: out(o) = in(map(o)), bit for bit, or the pad value. */
int ref_voxel_gather(const struct op_call *c, struct vb_err *err);
/* translate, scale, rotate and affine_transform: resampling through ref_transform_matrix(). */
int ref_resample(const struct op_call *c, struct vb_err *err);

#endif
