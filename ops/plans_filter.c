/*
 * ops/plans_filter.c: separable filters (kernels/filter.cl, kernels/filter_box.cl): Gaussian
 * passes with the weights of geom_gaussian_weights, box means, minima and maxima.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plans.h"

/* Direct box kernels read every voxel of the box; above this many taps, separable passes win. */
#define DIRECT_BOX_MAX_TAPS 27

#define SLIDING_MAX_RADIUS 16
#define SLIDING_CHUNK 64

/* One y or z convolution pass by work-items that each walk SLIDING_CHUNK voxels of a line. */
static int convolve_sliding(struct gpu_run *r, const struct op_call *c, int axis, int radius,
			    struct gpu_buf *src, enum dtype src_type, struct gpu_buf *dst,
			    enum dtype dst_type, struct gpu_buf *weights, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t len = axis == 1 ? in->height : in->depth;
	struct launch l = launch_3d("filter", "convolve_axis_sliding", src_type, dst_type, in);

	l.global[1] = axis == 1 ? in->depth : in->height;
	l.global[2] = (len + SLIDING_CHUNK - 1) / SLIDING_CHUNK;
	l.local[0] = 64;
	l.local[1] = 4;
	l.local[2] = 1;
	snprintf(l.options, sizeof(l.options), "-DRADIUS=%d -DCHUNK=%d", radius, SLIDING_CHUNK);
	ARGS(&l, KBUF(src), KBUF(dst), KBUF(weights), KI32(axis), KI32(in->width),
	     KI32(in->height), KI32(in->depth));
	return gpu_launch(r, &l, err);
}

/*
 * Separable passes along the axes whose radius is not 0, ping-ponging through two float (or
 * input-typed, for min/max) scratch volumes; the first pass reads the input and the last writes
 * the output. `weights` (per axis, may be NULL) selects convolution, else min/max.
 */
static int separable_passes(struct gpu_run *r, const struct op_call *c, const int radius[3],
			    struct gpu_buf *const weights[3], const char *minmax_option,
			    struct vb_err *err)
{
	enum dtype mid = weights[0] || weights[1] || weights[2] ? DT_F32 : c->in[0]->dtype;
	int axes[3], naxes = 0, status;
	struct gpu_buf *src = gpu_input(r, 0), *tmp[2] = { NULL, NULL };
	enum dtype src_type = c->in[0]->dtype;

	for (int a = 0; a < 3; a++)
		if (radius[a] > 0)
			axes[naxes++] = a;
	if (naxes == 0)
		axes[naxes++] = 0; /* a radius-0 pass still converts to the output type */
	for (int i = 0; i < naxes - 1 && i < 2; i++) {
		status = gpu_scratch(r, i, stack_voxels(c->in[0]) * dtype_size(mid), &tmp[i], err);
		if (status)
			return status;
	}
	for (int i = 0; i < naxes; i++) {
		int last = i == naxes - 1, a = axes[i];
		struct gpu_buf *dst = last ? gpu_output(r) : tmp[i % 2];
		enum dtype dst_type = last ? c->out->dtype : mid;
		struct launch l = launch_3d("filter", weights[a] ? "convolve_axis" : "minmax_axis",
					    src_type, dst_type, c->in[0]);
		int z_major = a == 2;

		if (weights[a] && a > 0 && radius[a] <= SLIDING_MAX_RADIUS) {
			status = convolve_sliding(r, c, a, radius[a], src, src_type, dst, dst_type,
						  weights[a], err);
			if (status)
				return status;
			src = dst;
			src_type = dst_type;
			continue;
		}
		if (z_major) { /* (width, depth, height): see kernels/filter.cl */
			l.global[1] = c->in[0]->depth;
			l.global[2] = c->in[0]->height;
		}
		ARGS(&l, KBUF(src), KBUF(dst));
		if (weights[a]) /* the radius is a build option: the tap loop unrolls */
			ARGS(&l, KBUF(weights[a]));
		else
			ARGS(&l, KI32(radius[a]));
		ARGS(&l, KI32(a), KI32(z_major), KI32(c->in[0]->width), KI32(c->in[0]->height),
		     KI32(c->in[0]->depth));
		snprintf(l.options, sizeof(l.options), "%s -DRADIUS=%d", minmax_option, radius[a]);
		status = gpu_launch(r, &l, err);
		if (status)
			return status;
		src = dst;
		src_type = dst_type;
	}
	return VB_OK;
}

#define MAX_TAPS 257 /* sigma <= 32: radius <= 128 */

int plan_gaussian_blur(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const char *names[3] = { "sigma_x", "sigma_y", "sigma_z" };
	struct gpu_buf *weights[3] = { NULL, NULL, NULL };
	int radius[3];
	float w[MAX_TAPS];
	double wd[MAX_TAPS];

	for (int a = 0; a < 3; a++) {
		int status;
		double sigma = op_param(c, names[a]);

		/* the reference's own weights, so kernel and reference share one definition */
		radius[a] = geom_gaussian_radius(sigma);
		geom_gaussian_weights(sigma, radius[a], wd);
		for (int k = 0; k <= 2 * radius[a]; k++)
			w[k] = (float)wd[k];
		/* slots 2..4: the scratch volumes take 0 and 1 */
		status = gpu_constant(r, 2 + a, w, (2 * radius[a] + 1) * sizeof(float), &weights[a],
				      err);
		if (status)
			return status;
	}
	return separable_passes(r, c, radius, weights, "", err);
}

static void box_radius(const struct op_call *c, int radius[3])
{
	radius[0] = (int)op_param(c, "radius_x");
	radius[1] = (int)op_param(c, "radius_y");
	radius[2] = (int)op_param(c, "radius_z");
}

static int box_taps(const int radius[3])
{
	return (2 * radius[0] + 1) * (2 * radius[1] + 1) * (2 * radius[2] + 1);
}

/* Radii the tiled kernel (kernels/box_tiled.cl) is built for, and its tile. */
#define TILED_MAX_RADIUS 2
#define TILE_X 32
#define TILE_Y 8
#define TILE_Z 64

static int box_tiled_fits(const int radius[3])
{
	return radius[0] <= TILED_MAX_RADIUS && radius[1] <= TILED_MAX_RADIUS &&
	       radius[2] <= TILED_MAX_RADIUS;
}

/* One work-group per TILE_X x TILE_Y column and TILE_Z planes: see kernels/box_tiled.cl. */
static int box_tiled(struct gpu_run *r, const struct op_call *c, const int radius[3],
		     const char *option, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("filter_box", "box_tiled", in->dtype, c->out->dtype, in);

	l.global[2] = (in->depth + TILE_Z - 1) / TILE_Z;
	l.local[0] = TILE_X;
	l.local[1] = TILE_Y;
	l.local[2] = 1;
	snprintf(l.options, sizeof(l.options), "%s -DRX=%d -DRY=%d -DRZ=%d -DTX=%d -DTY=%d -DZCHUNK=%d",
		 option, radius[0], radius[1], radius[2], TILE_X, TILE_Y, TILE_Z);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

static int box_direct(struct gpu_run *r, const struct op_call *c, const int radius[3],
		      const char *option, struct vb_err *err)
{
	struct launch l = launch_3d("filter", "box_direct", c->in[0]->dtype, c->out->dtype, c->in[0]);

	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(radius[0]), KI32(radius[1]),
	     KI32(radius[2]), KI32(c->in[0]->width), KI32(c->in[0]->height), KI32(c->in[0]->depth));
	return gpu_launch(r, &l, err);
}

int plan_mean_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct gpu_buf *weights[3] = { NULL, NULL, NULL };
	int radius[3];
	float w[MAX_TAPS];

	box_radius(c, radius);
	if (box_tiled_fits(radius))
		return box_tiled(r, c, radius, "-DFILTER_MEAN=1", err);
	if (box_taps(radius) <= DIRECT_BOX_MAX_TAPS)
		return box_direct(r, c, radius, "-DFILTER_MEAN=1", err);
	for (int a = 0; a < 3; a++) {
		int status;

		for (int k = 0; k <= 2 * radius[a]; k++)
			w[k] = 1.0f / (float)(2 * radius[a] + 1);
		status = gpu_constant(r, 2 + a, w, (2 * radius[a] + 1) * sizeof(float), &weights[a],
				      err);
		if (status)
			return status;
	}
	return separable_passes(r, c, radius, weights, "", err);
}

int plan_minmax_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct gpu_buf *none[3] = { NULL, NULL, NULL };
	const char *option = strcmp(c->op->reduce, "max") == 0 ? "-DFILTER_MAX=1" : "-DFILTER_MAX=0";
	int radius[3];

	box_radius(c, radius);
	if (box_tiled_fits(radius))
		return box_tiled(r, c, radius, option, err);
	if (box_taps(radius) <= DIRECT_BOX_MAX_TAPS)
		return box_direct(r, c, radius, option, err);
	return separable_passes(r, c, radius, none, option, err);
}
