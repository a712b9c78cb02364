/*
 * ops/plans_measure.c: distance transform, label dilation and erosion, label statistics
 * (kernels/measure.cl).
 */
#include <math.h>
#include <stdio.h>

#include "plans.h"

#define LINE_GROUP_X 64 /* work-items per line group: consecutive x, coalesced loads */
#define EDT_ROWS 32     /* rows an edt_x group scans: its work-items, and its tiles' side */

/* Scratch indices of edt_axis need 64 bits when slots * length does not fit 32. */
static const char *scratch_index(size_t entries)
{
	return entries >= (1ull << 32) ? "-DSIDX=ulong" : "-DSIDX=uint";
}

/*
 * Lines an envelope pass keeps in flight per compute unit. Their scratch must stay in the
 * last-level cache: on the H200 (132 SMs, 50 MB L2), 512 per SM took 54 ms at 1024x1024x512
 * where every line at once took 103 ms, and 256 took 79 (reports/BENCHMARKS.md).
 */
#define EDT_LANES_PER_UNIT 512

/* Work-items along the second launch axis of edt_axis: each walks other / lanes lines. */
static size_t edt_lanes(const struct gpu_run *r, size_t w, size_t other)
{
	size_t groups_x = (w + LINE_GROUP_X - 1) / LINE_GROUP_X;
	size_t lanes = (size_t)gpu_compute_units(r) * EDT_LANES_PER_UNIT / (groups_x * LINE_GROUP_X);

	return lanes < 1 ? 1 : lanes > other ? other : lanes;
}

int plan_distance_transform_edt(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height, d = in->depth;
	float sp[3] = { (float)op_param(c, "voxel_size_x"), (float)op_param(c, "voxel_size_y"),
			(float)op_param(c, "voxel_size_z") };
	int axes[2], naxes = 0, status;
	size_t entries = 0, lanes[2];
	struct gpu_buf *tmp = NULL, *vb = NULL, *zb = NULL, *src, *dst;
	struct launch l;

	/* passes along length-1 axes change nothing */
	if (h > 1)
		axes[naxes++] = 1;
	if (d > 1)
		axes[naxes++] = 2;
	for (int i = 0; i < naxes; i++) {
		size_t n = axes[i] == 1 ? h : d, other = axes[i] == 1 ? d : h;

		lanes[i] = edt_lanes(r, w, other);
		entries = entries > w * lanes[i] * n ? entries : w * lanes[i] * n;
	}
	if (naxes && ((status = gpu_scratch(r, 1, entries * sizeof(int32_t), &vb, err)) ||
		      (status = gpu_scratch(r, 2, entries * sizeof(float), &zb, err))))
		return status;
	if (naxes && (status = gpu_scratch(r, 0, stack_bytes(c->out), &tmp, err)))
		return status;
	/* the last pass must land in the output: the x pass starts there when the count is even */
	dst = naxes == 1 ? tmp : gpu_output(r);
	l = launch_groups("measure", "edt_x", in->dtype, DT_F32, h * d, EDT_ROWS, NULL);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(dst), KF32(sp[0]), KI32(w), KI32(h), KI32(d),
	     KI32(naxes == 0));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	for (int i = 0; i < naxes; i++) {
		int a = axes[i], last = i == naxes - 1;

		src = dst;
		dst = last ? gpu_output(r) : tmp;
		l = launch_1d("measure", "edt_axis", DT_F32, DT_F32, w);
		l.dims = 2;
		l.global[1] = lanes[i];
		l.local[0] = w >= LINE_GROUP_X ? LINE_GROUP_X : 0;
		l.local[1] = w >= LINE_GROUP_X ? 1 : 0;
		snprintf(l.options, sizeof(l.options), "%s", scratch_index(entries));
		ARGS(&l, KBUF(src), KBUF(dst), KBUF(vb), KBUF(zb), KI32(a), KF32(sp[a] * sp[a]),
		     KI32(w), KI32(h), KI32(d), KI32(lanes[i]), KI32(last));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	return VB_OK;
}

int plan_dilate_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t bytes = stack_voxels(in) * sizeof(uint32_t);
	int radius = (int)op_param(c, "radius"), status;
	struct gpu_buf *buf[4];
	struct launch l;

	for (int i = 0; i < 4; i++)
		if ((status = gpu_scratch(r, i, bytes, &buf[i], err)))
			return status;
	l = launch_3d("measure", "dilate_first", in->dtype, DT_U32, in);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(buf[0]), KBUF(buf[1]), KI32(0), KI32(radius),
	     KI32(in->width), KI32(in->height), KI32(in->depth));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	for (int a = 1; a < 3; a++) {
		struct gpu_buf *sd = buf[a == 1 ? 0 : 2], *sl = buf[a == 1 ? 1 : 3];
		struct gpu_buf *dd = buf[a == 1 ? 2 : 0], *dl = a == 1 ? buf[3] : gpu_output(r);

		l = launch_3d("measure", "dilate_axis", DT_U32, DT_U32, in);
		ARGS(&l, KBUF(sd), KBUF(sl), KBUF(dd), KBUF(dl), KI32(a), KI32(radius),
		     KI32(in->width), KI32(in->height), KI32(in->depth), KI32(a == 2));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	return VB_OK;
}

int plan_erode_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("measure", "erode_ball", in->dtype, DT_U32, in);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(op_param(c, "radius")),
	     KI32(in->width), KI32(in->height), KI32(in->depth));
	return gpu_launch(r, &l, err);
}

#define STATS_SEG 32
#define STATS_ACC_COLUMNS 19 /* kernels/measure.cl ACC_COLUMNS */
/* Sums stay below 2^STATS_SUM_BITS: a 64-bit accumulator with room for rounding. */
#define STATS_SUM_BITS 61

/* 2^k, the largest power of two with voxels * magnitude * 2^k below 2^STATS_SUM_BITS. */
static float fixed_point_scale(double magnitude, size_t voxels)
{
	int e_mag, e_n;

	if (!(magnitude > 0) || !isfinite(magnitude))
		return 1.0f; /* a constant image, or one with non-finite voxels (their sums are too) */
	frexp(magnitude, &e_mag);
	frexp((double)voxels, &e_n);
	return (float)ldexp(1.0, STATS_SUM_BITS - e_mag - e_n < 100 ? STATS_SUM_BITS - e_mag - e_n
								      : 100);
}

/* The image's minimum and maximum, through the reduction ops' plans (scratch slots 1 .. 2+). */
static int image_range(struct gpu_run *r, struct gpu_buf *img, const struct stack *desc,
		       double range[2], struct vb_err *err)
{
	static const char *const names[2] = { "minimum_of_all_pixels", "maximum_of_all_pixels" };
	struct stack scalar = { .width = 1, .height = 1, .depth = 1, .dtype = desc->dtype };
	struct gpu_operand in[OP_MAX_INPUTS] = { { img, desc } };
	double params[OP_MAX_PARAMS] = { 0 };
	unsigned char bytes[8];
	struct stack value = scalar;
	int status;

	for (int i = 0; i < 2; i++) {
		const struct op_desc *op = op_find(names[i]);
		struct gpu_buf *out;

		if (!op)
			return vb_errf(err, VB_E_UNSUPPORTED, "statistics need %s", names[i]);
		if ((status = gpu_scratch(r, 1 + i, dtype_size(desc->dtype), &out, err)) ||
		    (status = gpu_sub_plan(r, op, params, in, &(struct gpu_operand){ out, &scalar },
					   3 + 8 * i, err)) ||
		    (status = gpu_read(r, out, bytes, dtype_size(desc->dtype), err)))
			return status;
		value.data = bytes;
		range[i] = stack_get(&value, 0);
	}
	return VB_OK;
}

/*
 * Accumulate img over labels into n labels' accumulators and write the table (centroids: 3 x n).
 * The fixed-point scales of the sums (kernels/measure.cl) come from the image's range.
 */
static int label_stats(struct gpu_run *r, struct gpu_buf *img, const struct stack *img_desc,
		       struct gpu_buf *labels, const struct stack *lab, size_t n, int centroids,
		       struct vb_err *err)
{
	enum dtype img_type = img_desc->dtype;
	size_t voxels = stack_voxels(lab);
	double range[2] = { 0, 0 };
	float scale = 1.0f;
	struct gpu_buf *acc;
	struct launch l;
	int status = gpu_scratch(r, 0, n * STATS_ACC_COLUMNS * sizeof(uint32_t), &acc, err);

	if (status)
		return status;
	if (!centroids) {
		if ((status = image_range(r, img, img_desc, range, err)))
			return status;
		if (dtype_is_float(img_type))
			scale = fixed_point_scale(fmax(fabs(range[0]), fabs(range[1])), voxels);
	}
	l = launch_1d("measure", "stats_init", img_type, DT_F32, n);
	ARGS(&l, KBUF(acc), KI32(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	for (int pass = 1; pass <= (centroids ? 1 : 2); pass++) {
		l = launch_3d("measure", pass == 1 ? "stats_accumulate" : "stats_deviation",
			      img_type, DT_F32, lab);
		l.global[0] = (lab->width + STATS_SEG - 1) / STATS_SEG;
		snprintf(l.options, sizeof(l.options), "-DSEG=%d -DT_LABEL=%s", STATS_SEG,
			 dtype_cl_name(lab->dtype));
		ARGS(&l, KBUF(img), KBUF(labels), KBUF(acc), KI32(n),
		     KI32(lab->width), KI32(lab->height), KI32(lab->depth), KF32(scale));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	l = launch_1d("measure", "stats_write", img_type, DT_F32, n);
	ARGS(&l, KBUF(acc), KBUF(gpu_output(r)), KI32(n), KI32(centroids), KF32(scale));
	return gpu_launch(r, &l, err);
}

int plan_statistics_of_labelled_pixels(struct gpu_run *r, const struct op_call *c,
				       struct vb_err *err)
{
	if (!c->in[1] || c->in[1]->width != c->in[0]->width ||
	    c->in[1]->height != c->in[0]->height || c->in[1]->depth != c->in[0]->depth)
		return vb_errf(err, VB_E_ARGS, "%s: the intensity and label images differ in size",
			       c->op->name);
	return label_stats(r, gpu_input(r, 0), c->in[0], gpu_input(r, 1), c->in[1],
			   c->out->height, 0, err);
}

int plan_centroids_of_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return label_stats(r, gpu_input(r, 0), c->in[0], gpu_input(r, 0), c->in[0],
			   c->out->width, 1, err);
}

/* Growth steps before the plan gives up (each moves every front by one voxel). */
#define VORONOI_MAX_STEPS 100000

int plan_voronoi_grow(struct gpu_run *r, const char *who, struct gpu_buf *state[2],
		      struct gpu_buf *flag, const struct stack *dims, int *last,
		      struct vb_err *err)
{
	uint32_t changed = 1;
	struct launch l;
	int status, step;

	for (step = 0; changed; step++) {
		if (step == VORONOI_MAX_STEPS)
			return vb_errf(err, VB_E_ARGS, "%s: no convergence after %d steps", who,
				       step);
		l = launch_1d("measure", "voronoi_clear", DT_U32, DT_U32, 1);
		ARGS(&l, KBUF(flag));
		if ((status = gpu_launch(r, &l, err)))
			return status;
		l = launch_3d("measure", "voronoi_step", DT_U32, DT_U32, dims);
		ARGS(&l, KBUF(state[step % 2]), KBUF(state[(step + 1) % 2]), KBUF(flag),
		     KI32(step % 2 == 0), KI32(dims->width), KI32(dims->height),
		     KI32(dims->depth));
		if ((status = gpu_launch(r, &l, err)) ||
		    (status = gpu_read(r, flag, &changed, sizeof(changed), err)))
			return status;
	}
	*last = step % 2;
	return VB_OK;
}

int plan_masked_voronoi_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0], *mask = c->in[1];
	size_t n = stack_voxels(in);
	struct stack desc = { .width = in->width, .height = in->height, .depth = in->depth,
			      .dtype = DT_U32 };
	const struct op_desc *ccl = op_find("connected_components_labeling_box");
	struct gpu_buf *state[2], *flag, *labels;
	struct gpu_operand src[OP_MAX_INPUTS] = { { gpu_input(r, 0), in } }, dst;
	char option[64];
	struct launch l;
	int status, last;

	if (!ccl)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs connected_components_labeling_box",
			       c->op->name);
	if (in->width != mask->width || in->height != mask->height || in->depth != mask->depth)
		return vb_errf(err, VB_E_ARGS, "%s: the seeds and the mask differ in size",
			       c->op->name);
	if ((status = gpu_scratch(r, 0, n * sizeof(int32_t), &state[0], err)) ||
	    (status = gpu_scratch(r, 1, n * sizeof(int32_t), &state[1], err)) ||
	    (status = gpu_scratch(r, 2, sizeof(uint32_t), &flag, err)) ||
	    (status = gpu_scratch(r, 3, n * sizeof(uint32_t), &labels, err)))
		return status;
	dst = (struct gpu_operand){ labels, &desc };
	/* seeds: the 26-connected components, numbered in raster order (ties go to the larger) */
	if ((status = gpu_sub_plan(r, ccl, (double[OP_MAX_PARAMS]){ 0 }, src, &dst,
				   4, err)))
		return status;
	snprintf(option, sizeof(option), "-DT_MASK=%s", dtype_cl_name(mask->dtype));
	l = launch_1d("measure", "voronoi_init", DT_U32, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(labels), KBUF(gpu_input(r, 1)), KBUF(state[0]), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	if ((status = plan_voronoi_grow(r, c->op->name, state, flag, in, &last, err)))
		return status;
	l = launch_1d("measure", "voronoi_finish", DT_U32, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(state[last]), KBUF(gpu_input(r, 1)), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

/* Scratch bases of voronoi_otsu_labeling's sub-plans, above its own 4 slots (relative). */
static const int otsu_chain_base[] = { 4, 14, 9, 18, 22, 22 };

int plan_voronoi_otsu_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	double spot = op_param(c, "spot_sigma"), outline = op_param(c, "outline_sigma");
	double p[6][OP_MAX_PARAMS] = { { spot, spot, spot }, { 1, 1, 1 }, { outline, outline, outline } };
	const char *steps[6] = { "gaussian_blur", "detect_maxima_box", "gaussian_blur",
				 "threshold_otsu", "binary_and", "masked_voronoi_labeling" };
	struct stack f32 = { .width = in->width, .height = in->height, .depth = in->depth,
			     .dtype = DT_F32 }, u8 = f32, u32 = f32;
	struct gpu_buf *blur, *spots, *mask, *seeds;
	int status;

	u8.dtype = DT_U8;
	u32.dtype = DT_U32;
	if ((status = gpu_scratch(r, 0, n * sizeof(float), &blur, err)) ||
	    (status = gpu_scratch(r, 1, n, &spots, err)) ||
	    (status = gpu_scratch(r, 2, n, &mask, err)) ||
	    (status = gpu_scratch(r, 3, n, &seeds, err)))
		return status;
	{
		struct gpu_operand ops_in[6][OP_MAX_INPUTS] = {
			{ { gpu_input(r, 0), in } }, { { blur, &f32 } }, { { gpu_input(r, 0), in } },
			{ { blur, &f32 } }, { { spots, &u8 }, { mask, &u8 } },
			{ { seeds, &u8 }, { mask, &u8 } },
		};
		struct gpu_operand ops_out[6] = { { blur, &f32 }, { spots, &u8 }, { blur, &f32 },
						  { mask, &u8 }, { seeds, &u8 },
						  { gpu_output(r), &u32 } };

		for (int i = 0; i < 6; i++) {
			const struct op_desc *op = op_find(steps[i]);

			if (!op)
				return vb_errf(err, VB_E_UNSUPPORTED, "%s needs %s", c->op->name,
					       steps[i]);
			if (i >= 3)
				op_default_params(op, p[i]);
			if ((status = gpu_sub_plan(r, op, p[i], ops_in[i], &ops_out[i],
						   otsu_chain_base[i], err)))
				return status;
		}
	}
	return VB_OK;
}
