/*
 * ops/plans_transform.c: launches of kernels/transform.cl. The geometry (voxel maps, matrices)
 * comes from ops/geometry.c, so the kernels and the reference share one definition.
 */
#include <stdio.h>

#include "plans.h"

#define TRANSPOSE_TILE 32
#define TRANSPOSE_ROWS 8

/* "-DTIDX=uint" when every input and output index fits 32 bits (the runner's IDX follows the
 * input alone); the options string starts with it. */
static int index_option(const struct op_call *c, char *out, size_t len)
{
	size_t n = stack_voxels(c->in[0]) > stack_voxels(c->out) ? stack_voxels(c->in[0]) :
								     stack_voxels(c->out);

	return snprintf(out, len, "-DTIDX=%s", n < (1ull << 32) - 1 ? "uint" : "ulong");
}

int plan_transpose_tiled(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0], *out = c->out;
	size_t n[3] = { in->width, in->height, in->depth };
	size_t in_stride[3] = { 1, in->width, in->width * in->height };
	size_t out_stride[3] = { 1, out->width, out->width * out->height };
	struct voxel_map m;
	struct launch l;
	int s, t, len;

	geom_voxel_map(c, &m);
	s = m.perm[0]; /* the axis x swaps with (1 or 2); t stays */
	t = 3 - s;
	l = launch_3d("transform", "transpose_tiled", in->dtype, out->dtype, in);
	l.global[0] = n[0];
	l.global[1] = (n[s] + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE * TRANSPOSE_ROWS;
	l.global[2] = n[t];
	l.local[0] = TRANSPOSE_TILE;
	l.local[1] = TRANSPOSE_ROWS;
	l.local[2] = 1;
	len = index_option(c, l.options, sizeof(l.options));
	snprintf(l.options + len, sizeof(l.options) - len, " -DTILE=%d -DROWS=%d", TRANSPOSE_TILE,
		 TRANSPOSE_ROWS);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(n[0]), KI32(n[s]), KI32(n[t]),
	     KU64(in_stride[s]), KU64(in_stride[t]), KU64(out_stride[s]), KU64(out_stride[t]));
	return gpu_launch(r, &l, err);
}

int plan_voxel_gather(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0], *out = c->out;
	struct launch l = launch_3d("transform", "voxel_gather", in->dtype, out->dtype, out);
	struct voxel_map m;
	int len;

	geom_voxel_map(c, &m);
	len = index_option(c, l.options, sizeof(l.options));
	snprintf(l.options + len, sizeof(l.options) - len, " -DPX=%d -DPY=%d -DPZ=%d", m.perm[0],
		 m.perm[1], m.perm[2]);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(out->width), KI32(out->height), KI32(out->depth),
	     KI32(m.sign[0]), KI32(m.sign[1]), KI32(m.sign[2]), KI32(m.off[0]), KI32(m.off[1]),
	     KI32(m.off[2]), KF32(m.pad));
	return gpu_launch(r, &l, err);
}

int plan_resample(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0], *out = c->out;
	size_t dims[3] = { out->width, out->height, out->depth };
	struct launch l = launch_3d("transform", "resample", in->dtype, out->dtype, out);
	struct gpu_buf *matrix;
	float m[12];
	int len, status;

	geom_transform_matrix(c, dims, m);
	status = gpu_constant(r, 0, m, sizeof(m), &matrix, err);
	if (status)
		return status;
	len = index_option(c, l.options, sizeof(l.options));
	snprintf(l.options + len, sizeof(l.options) - len, " -DLINEAR=%d",
		 geom_transform_interp(c) == TRANSFORM_LINEAR);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KBUF(matrix), KI32(in->width),
	     KI32(in->height), KI32(in->depth), KI32(out->width), KI32(out->height),
	     KI32(out->depth));
	return gpu_launch(r, &l, err);
}
