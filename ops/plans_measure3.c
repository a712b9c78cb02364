/*
 * ops/plans_measure3.c: measurements that end in a few numbers (kernels/measure3.cl): Jaccard
 * and Sorensen-Dice indices, the minimum of masked pixels, bounding boxes, extremum positions.
 * Each is a strided pass of PARTS work-items writing their own partials, then one work-item
 * combining them.
 */
#include <math.h>
#include <stdio.h>

#include "plans.h"

#define PARTS 4096u

static size_t parts_of(size_t n)
{
	return n < PARTS ? (n ? n : 1) : PARTS;
}

static int same_size(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];

	if (a->width != b->width || a->height != b->height || a->depth != b->depth)
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", c->op->name);
	return VB_OK;
}

static struct launch final_launch(const char *kernel, enum dtype t)
{
	struct launch l = launch_1d("measure3", kernel, t, DT_F32, 1);

	l.local[0] = 1;
	return l;
}

static int overlap_index(struct gpu_run *r, const struct op_call *c, int dice,
			 struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), parts = parts_of(n);
	struct gpu_buf *part;
	struct launch l;
	int status = same_size(c, err);

	if (status || (status = gpu_scratch(r, 0, 2 * parts * sizeof(uint32_t), &part, err)))
		return status;
	l = launch_1d("measure3", "m3_pair_counts", c->in[0]->dtype, DT_F32, parts);
	snprintf(l.options, sizeof(l.options), "-DT_MASK=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(part), KU64(n), KI32(parts));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = final_launch("m3_pair_final", DT_F32);
	ARGS(&l, KBUF(part), KBUF(gpu_output(r)), KI32(parts), KI32(dice));
	return gpu_launch(r, &l, err);
}

int plan_jaccard_index(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return overlap_index(r, c, 0, err);
}

int plan_sorensen_dice(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return overlap_index(r, c, 1, err);
}

int plan_minimum_of_masked_pixels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), parts = parts_of(n);
	struct gpu_buf *part;
	struct launch l;
	int status = same_size(c, err);

	if (status || (status = gpu_scratch(r, 0, parts * sizeof(float), &part, err)))
		return status;
	l = launch_1d("measure3", "m3_masked_min", c->in[0]->dtype, DT_F32, parts);
	snprintf(l.options, sizeof(l.options), "-DT_MASK=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(part), KU64(n), KI32(parts));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = final_launch("m3_min_final", DT_F32);
	ARGS(&l, KBUF(part), KBUF(gpu_output(r)), KI32(parts));
	return gpu_launch(r, &l, err);
}

/* by_label 0: the non-zero voxels; 1: those equal to label. */
static int bounding_box(struct gpu_run *r, const struct op_call *c, int by_label, uint32_t label,
			struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in), parts = parts_of(n);
	struct gpu_buf *part;
	struct launch l;
	int status = gpu_scratch(r, 0, 6 * parts * sizeof(int32_t), &part, err);

	if (status)
		return status;
	l = launch_1d("measure3", "m3_bbox", in->dtype, DT_F32, parts);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(part), KI32(in->width), KI32(in->height), KU64(n),
	     KI32(parts), KI32(by_label), KI32(label));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = final_launch("m3_bbox_final", DT_F32);
	ARGS(&l, KBUF(part), KBUF(gpu_output(r)), KI32(parts));
	return gpu_launch(r, &l, err);
}

int plan_bounding_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return bounding_box(r, c, 0, 0, err);
}

int plan_label_bounding_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return bounding_box(r, c, 1, (uint32_t)op_param(c, "label_id"), err);
}

static int extremum_position(struct gpu_run *r, const struct op_call *c, int find_min,
			     struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in), parts = parts_of(n);
	struct gpu_buf *val, *at;
	struct launch l;
	int status;

	if ((status = gpu_scratch(r, 0, parts * sizeof(float), &val, err)) ||
	    (status = gpu_scratch(r, 1, parts * sizeof(uint64_t), &at, err)))
		return status;
	l = launch_1d("measure3", "m3_extremum", in->dtype, DT_F32, parts);
	snprintf(l.options, sizeof(l.options), "%s", find_min ? "-DFIND_MIN" : "");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(val), KBUF(at), KU64(n), KI32(parts));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = final_launch("m3_extremum_final", DT_F32);
	snprintf(l.options, sizeof(l.options), "%s", find_min ? "-DFIND_MIN" : "");
	ARGS(&l, KBUF(val), KBUF(at), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(parts));
	return gpu_launch(r, &l, err);
}

int plan_maximum_position(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return extremum_position(r, c, 0, err);
}

int plan_minimum_position(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return extremum_position(r, c, 1, err);
}
