/*
 * ops/geometry.h: the geometry an op is defined by, computed once for both sides: a GPU plan
 * and the CPU reference take their Gaussian weights, window footprints, histogram edges, voxel
 * maps, resampling matrices and output dims from here, so kernel and reference cannot drift
 * apart. Part of the op contract (with ops/op.h): it sees nothing but op calls and stacks.
 */
#ifndef VB_GEOMETRY_H
#define VB_GEOMETRY_H

#include <stdint.h>

#include "op.h"

/* ---- limits ---- */

/* Window radii and 4 sigma of a Gaussian: at most this many voxels. */
#define WINDOW_MAX_RADIUS (1 << 20)
/* Labelling indexes voxels (parents, labels) with u32: stacks must hold fewer voxels. */
#define LABEL_MAX_VOXELS 0xffffffffull
/* Label ops keep one table entry per label value: the largest value they take. */
#define LABEL_MAX_VALUE ((1u << 30) - 2)
/* Output limits of ops whose output is larger than their input (VB_E_TOO_BIG beyond them): every
 * axis must fit the kernels' int coordinates, and the voxel count a sane allocation. */
#define TRANSFORM_MAX_AXIS 2147483647ull
#define TRANSFORM_MAX_VOXELS (1ull << 34)

/* ---- Gaussian ---- */

/*
 * The Gaussian of one axis: geom_gaussian_radius() gives r = ceil(4 sigma) (0 for sigma <= 0) and
 * geom_gaussian_weights() fills w[0 .. 2r] with the normalised weights of offsets -r .. r
 * (w[0] = 1 when r == 0).
 */
int geom_gaussian_radius(double sigma);
void geom_gaussian_weights(double sigma, int radius, double *w);

/* ---- window footprints ---- */

/*
 * A footprint is stored as one x run per (dy, dz) row: runs[(dz + rz) * (2 ry + 1) + dy + ry]
 * is the run's half-width a (offsets dx = -a .. a are in), or -1 for an empty row.
 *  - box: every offset with |dx| <= rx, |dy| <= ry, |dz| <= rz.
 *  - sphere (an ellipsoid): the offsets with (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, tested
 *    exactly in integers; an axis of radius 0 contributes only offset 0 (and no term).
 * geom_footprint_runs fills runs ((2 ry + 1) (2 rz + 1) ints) and returns the voxel count (odd:
 * the footprint is symmetric and holds its centre).
 */
long geom_footprint_runs(int sphere, const int r[3], int *runs);
/* Read radius_x/y/z into r[] (integers in 0 .. WINDOW_MAX_RADIUS), else VB_E_ARGS. */
int geom_window_radii(const struct op_call *c, int r[3], struct vb_err *err);
/* The same, or r = (1, 1, 1) for a row without radius_x (the fixed 3x3x3 box or 6-neighbour
 * diamond of the nonzero_* and onlyzero_* ops of ops/rows_filter4.def). */
int geom_window_radii_or_unit(const struct op_call *c, int r[3], struct vb_err *err);
/* percentile_filter: scipy's rank of `percentile` (-100 .. 100, a negative one is 100 + p) in a
 * window of count voxels: int(count * p / 100) in double, count - 1 at 100. */
long geom_percentile_rank(double percentile, long count);

/* ---- histogram bins ---- */

/*
 * The histogram's range: the params (pmin, pmax), or the image's own (imin, imax) when
 * pmin >= pmax (geom_histogram_image_range); a range of zero width becomes (lo - 0.5, hi + 0.5),
 * as numpy does.
 */
int geom_histogram_image_range(double pmin, double pmax);
void geom_histogram_range(double pmin, double pmax, double imin, double imax, double *lo,
			  double *hi);
/*
 * The thresholds of nbins bins over [lo, hi] (kernels/projection_histogram.cl reads them).
 * Edges e[i] = lo + i * ((hi - lo) / nbins) in double (numpy.linspace), e[nbins] = hi. f32 input:
 * float t[i] = (float)e[i]; v counts when t[0] <= v <= t[nbins] and goes to the last i < nbins
 * with t[i] <= v. Integer input: int64 t[i] = ceil(e[i]) for i < nbins and t[nbins] =
 * floor(e[nbins]) + 1; v counts when t[0] <= v < t[nbins], same bin rule. `edges` holds nbins + 1
 * floats or int64s.
 */
void geom_histogram_edges(enum dtype t, int nbins, double lo, double hi, void *edges);

/* ---- transforms ----
 *
 * Conventions of every transform op:
 *  - voxel (i, j, k) sits at coordinate (x, y, z) = (i, j, k): centres at integers (scipy.ndimage);
 *    the stack centre is ((w-1)/2, (h-1)/2, (d-1)/2).
 *  - resampling ops map each OUTPUT voxel to an INPUT coordinate (in = M out + t, scipy's
 *    direction) and sample there; samples outside the input clamp to the edge (mode='nearest').
 *  - nearest: index floor(x + 0.5) (ties round up, as scipy order=0), the voxel copied bit for bit.
 *  - linear: trilinear, voxels read as float, x then y then z lerps a + t (b - a) as fma, stored
 *    in an integer type rounded to nearest (round, half away from zero, as scipy), saturated
 *    (convert_<type>_sat). The coordinates are floats computed by nested fma from
 *    a float 3x4 matrix that geom_transform_matrix() makes for both sides, so the kernel and the
 *    reference do the same float operations and agree bit for bit.
 */
enum transform_interp { TRANSFORM_NEAREST, TRANSFORM_LINEAR };

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
void geom_voxel_map(const struct op_call *c, struct voxel_map *m);
/*
 * The float output->input matrix of a resampling op (translate, scale, rotate, affine_transform):
 * in_x = m[0] out_x + m[1] out_y + m[2] out_z + m[3], rows y and z in m[4..7], m[8..11]. Computed
 * in double, rounded to float once. out_dims: the op's output dims.
 */
void geom_transform_matrix(const struct op_call *c, const size_t out_dims[3], float m[12]);
/* The op's interpolation (TRANSFORM_NEAREST or TRANSFORM_LINEAR). */
int geom_transform_interp(const struct op_call *c);

/* ---- label images ---- */

/* The largest label of s (values <= 0 are background); 0 for a device-only stack (data NULL). */
uint32_t geom_max_label(const struct stack *s);

/*
 * The columns of statistics_of_labelled_pixels' table: f32, STATISTICS_COLUMNS wide, max(1, max
 * label) rows (row i = label i + 1), depth 1.
 */
enum statistics_column {
	STAT_LABEL, STAT_AREA, STAT_SUM, STAT_MEAN, STAT_MIN, STAT_MAX, STAT_STD,
	STAT_CENTROID_X, STAT_CENTROID_Y, STAT_CENTROID_Z,
	STAT_BBOX_MIN_X, STAT_BBOX_MIN_Y, STAT_BBOX_MIN_Z,
	STAT_BBOX_MAX_X, STAT_BBOX_MAX_Y, STAT_BBOX_MAX_Z,
	STATISTICS_COLUMNS
};
extern const char *const statistics_columns[];
extern const int statistics_column_count;

/* ---- output dims of SHAPE_CUSTOM rows (their .dims) ---- */

int dims_x_projection(const struct op_call *c, size_t out[3], struct vb_err *err);   /* h x d */
int dims_y_projection(const struct op_call *c, size_t out[3], struct vb_err *err);   /* w x d */
int dims_center_of_mass(const struct op_call *c, size_t out[3], struct vb_err *err); /* 3x1x1 */
int dims_histogram(const struct op_call *c, size_t out[3], struct vb_err *err); /* bins x 1 x 1 */
int dims_transpose_xy(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_transpose_xz(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_transpose_yz(const struct op_call *c, size_t out[3], struct vb_err *err);
/* crop: VB_E_ARGS when the block leaves the stack; pad, scale: VB_E_TOO_BIG past the limits. */
int dims_crop(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_pad(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_scale(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_statistics(const struct op_call *c, size_t out[3], struct vb_err *err);
int dims_centroids(const struct op_call *c, size_t out[3], struct vb_err *err);
/* the label, map and measurement ops of ops/rows_label3.def and ops/rows_measure3.def */
#include "dims_label3.h"

/* ---- stacks of ops/rows_stack3.def (ops/geometry_stack3.c) ---- */

/*
 * The strided copies (row .fn "sub_stack", "reduce_stack", "range", "crop_border"): output voxel
 * (x, y, z) is input (start[0] + step[0] x, ...); out: the output dims. VB_E_ARGS when the
 * parameters select nothing or leave the stack.
 */
int geom_strided(const struct op_call *c, long start[3], long step[3], size_t out[3],
		 struct vb_err *err);
int dims_strided(const struct op_call *c, size_t out[3], struct vb_err *err);
/* concatenate_along_x/y/z (row .fn "x", "y", "z"): the axis, 0 .. 2. */
int geom_concatenate_axis(const struct op_call *c);
int dims_concatenate(const struct op_call *c, size_t out[3], struct vb_err *err);
/* circular_shift: the shifts along x, y, z brought into 0 .. size-1. */
void geom_circular_shift(const struct op_call *c, size_t shift[3]);

/* ---- Gaussian derivatives of ops/rows_filter3.def (ops/geometry_stack3.c) ---- */

/*
 * The correlation weights w[0 .. 2 radius] of the order-th derivative of a Gaussian (scipy's
 * gaussian_filter1d: the kernel of _gaussian_kernel1d, reversed, so out(x) = sum_k w[k + radius]
 * in(x + k)); radius = geom_gaussian_radius(sigma); order 0 is geom_gaussian_weights'.
 */
void geom_gaussian_derivative_weights(double sigma, int order, int radius, double *w);
/* The sigma and order of axis a (0 x) of a gaussian_derivative / gaussian_laplace call (orders
 * 0). A zero sigma leaves its axis as it is whatever the order (scipy's rule: weights [1]). */
int geom_derivative_axes(const struct op_call *c, double sigma[3], int order[3],
			 struct vb_err *err);
/*
 * What the derivative does to a constant 1: the product over the axes of the sums of their float
 * weights (a truncated even-order kernel does not sum to 0); laplace: the sum of its three
 * terms' products. Rounded once to float. Both sides take derivatives of in - in[0] (rounding
 * then scales with the voxels' variation, not their size) and add in[0] * this gain back.
 */
float geom_derivative_gain(const double sigma[3], const int order[3], int laplace);

#endif
