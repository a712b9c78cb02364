/*
 * reference_cpu/reference.h: the CPU reference of every op, the definition of the right answer.
 *
 * Each op of the table (ops/rows.def) has one here: ref_<token>, its prototype generated from
 * the op's row. A reference is
 * written to be obviously right first and fast second: C11 + OpenMP, double accumulators wherever
 * rounding could matter, and results that do not depend on the thread count.
 *
 * Calling convention (the `ref_fn` type of ops/op.h)
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
 * Conventions shared by every op (the same as the kernels', see ops/op.h)
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
#include "../ops/geometry.h"
#include "../ops/op.h"

/* One prototype per op of the table, generated from its rows. */
#define OP(token, ...) int ref_##token(const struct op_call *c, struct vb_err *err);
#define OP_PLAN(token, ...) OP(token)
#include "../ops/rows.def"
#undef OP
#undef OP_PLAN

/* ---- what references share with each other and with the tests ---- */

/*
 * Connected components of the non-zero voxels of in (connectivity 6 or 26) into out (u32, same
 * dims, allocated by the caller): labels 1..N numbered in raster order of each component's first
 * voxel (scipy.ndimage.label's numbering), background 0. `threads` share the planes out.
 */
int ref_label_binary(const struct stack *in, int connectivity, int threads, struct stack *out,
		     struct vb_err *err);
/* The Otsu bin (0..254) of a 256-bin histogram: the argmax of the between-class variance
 * (first one on ties), computed in double; shared with the tests' checks of GPU histograms. */
int ref_otsu_bin(const uint64_t hist[256]);
/* transpose_*, flip, crop and pad: out(o) = in(map(o)), bit for bit, or the pad value. */
int ref_voxel_gather(const struct op_call *c, struct vb_err *err);
/* translate, scale, rotate and affine_transform: resampling through geom_transform_matrix(). */
int ref_resample(const struct op_call *c, struct vb_err *err);

#endif
