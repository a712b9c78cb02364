/*
 * ops/plans_label.c: thresholds, connected components and label tables on the GPU
 * (kernels/label_threshold.cl, kernels/label.cl).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plans.h"

#define GROUP 256
#define REDUCE_GROUPS 1024
#define SCAN_BLOCK (GROUP * 4) /* kernels/label.cl SCAN_BLOCK */
#define STAT_RUN 16            /* kernels/label.cl STAT_RUN */

/* Work-groups for a grid-strided reduction over n voxels. */
static size_t reduce_groups(size_t n)
{
	return reduction_groups(n, GROUP, REDUCE_GROUPS);
}

static struct launch group_launch(const char *program, const char *kernel, enum dtype tin,
				  enum dtype tout, size_t items)
{
	return launch_groups(program, kernel, tin, tout, items, GROUP, NULL);
}

/* ---- thresholds ---- */

/* p[4] floats (threshold.cl's parameter buffer) in slot 0. */
static int threshold_params(struct gpu_run *r, struct gpu_buf **p, struct vb_err *err)
{
	return gpu_scratch(r, 0, 4 * sizeof(float), p, err);
}

/* out = in > p[at]; p[at] is the op's side value. */
static int mask_above(struct gpu_run *r, const struct op_call *c, struct gpu_buf *p, int at,
		      struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("label_threshold", "mask_above", c->in[0]->dtype, DT_U8, n);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(p), KBUF(gpu_output(r)), KI32(at), KU64(n));
	gpu_side_value(r, p, (size_t)at);
	return gpu_launch(r, &l, err);
}

int plan_histogram_threshold(struct gpu_run *r, const struct op_call *c, const char *program,
			     const char *select, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n);
	struct gpu_buf *p, *partials, *hist;
	struct launch l;
	int status;

	if (n > UINT32_MAX) /* u32 bins */
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels, its histogram counts in u32; "
			       "crop the stack", c->op->name, n);
	if ((status = threshold_params(r, &p, err)) ||
	    (status = gpu_scratch(r, 1, 2 * groups * sizeof(float), &partials, err)) ||
	    (status = gpu_scratch(r, 2, 256 * sizeof(uint32_t), &hist, err)))
		return status;
	l = group_launch("label_threshold", "minmax_partials", t, DT_F32, groups * GROUP);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label_threshold", "otsu_range", DT_F32, DT_F32, GROUP);
	ARGS(&l, KBUF(partials), KBUF(p), KBUF(hist), KI32(groups));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label_threshold", "histogram", t, DT_F32, groups * GROUP);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(p), KBUF(hist), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d(program, select, DT_F32, DT_F32, 1);
	l.local[0] = 1;
	ARGS(&l, KBUF(hist), KBUF(p));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	return mask_above(r, c, p, 3, err);
}

int plan_threshold_otsu(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "label_threshold", "otsu_select", err);
}

/* A composition: mean_of_all_pixels (its own plan, as a sub-plan) into p[0], then the mask. */
int plan_threshold_mean(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct op_desc *mean = op_find("mean_of_all_pixels");
	struct stack one = { .width = 1, .height = 1, .depth = 1, .dtype = DT_F32 };
	struct gpu_operand in[OP_MAX_INPUTS] = { { gpu_input(r, 0), c->in[0] } }, out;
	double none[OP_MAX_PARAMS] = { 0 };
	struct gpu_buf *p;
	int status;

	if (!mean)
		return vb_errf(err, VB_E_ARGS, "%s: needs the op mean_of_all_pixels, which this "
			       "build lacks", c->op->name);
	if ((status = threshold_params(r, &p, err)))
		return status;
	out = (struct gpu_operand){ p, &one };
	if ((status = gpu_sub_plan(r, mean, none, in, &out, 1, err)))
		return status;
	return mask_above(r, c, p, 0, err);
}

/* ---- prefix sums and flagged-voxel numbering ---- */

/* Exclusive scan of the k u32 values of a, in place; sums (slot `slot`) holds the block sums. */
static int scan(struct gpu_run *r, struct gpu_buf *a, size_t k, int slot, struct vb_err *err)
{
	size_t blocks = (k + SCAN_BLOCK - 1) / SCAN_BLOCK;
	struct gpu_buf *sums;
	struct launch l;
	int status = gpu_scratch(r, slot, (blocks + 1) * sizeof(uint32_t), &sums, err);

	if (status)
		return status;
	l = group_launch("label", "scan_block_sums", DT_U32, DT_U32, blocks * GROUP);
	ARGS(&l, KBUF(a), KBUF(sums), KU64(k));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label", "scan_sums", DT_U32, DT_U32, GROUP);
	ARGS(&l, KBUF(sums), KU64(blocks));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label", "scan_apply", DT_U32, DT_U32, blocks * GROUP);
	ARGS(&l, KBUF(a), KBUF(sums), KU64(k));
	return gpu_launch(r, &l, err);
}

/* Labelling indexes voxels with u32 (BG = 2^32-1 marks the background). */
static int check_voxels(const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);

	if (n >= LABEL_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels; labels and parents are u32, so "
			       "stacks must hold fewer than 2^32-1 voxels: crop the stack",
			       c->op->name, n);
	return VB_OK;
}

/* The per-word bitmap (slot 0) and counts (slot 1) of n voxels' flags. */
static int word_buffers(struct gpu_run *r, size_t n, struct gpu_buf **bitmap,
			struct gpu_buf **counts, struct vb_err *err)
{
	size_t words = (n + 31) / 32;
	int status = gpu_scratch(r, 0, words * sizeof(uint32_t), bitmap, err);

	return status ? status : gpu_scratch(r, 1, words * sizeof(uint32_t), counts, err);
}

int plan_connected_components(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	enum dtype t = in->dtype;
	size_t n = stack_voxels(in);
	struct gpu_buf *L = gpu_output(r), *bitmap, *counts;
	struct launch l;
	int status;

	if ((status = check_voxels(c, err)) || (status = word_buffers(r, n, &bitmap, &counts, err)))
		return status;
	l = launch_1d("label", "ccl_init", t, DT_U32, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(L), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label", "ccl_merge", t, DT_U32, in);
	l.local[0] = 32;
	l.local[1] = 4;
	l.local[2] = 2;
	snprintf(l.options, sizeof(l.options), "-DCONN=%d", c->op->connectivity);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(L), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label", "ccl_compress", DT_U32, DT_U32, n);
	ARGS(&l, KBUF(L), KBUF(bitmap), KBUF(counts), KU64(n));
	if ((status = gpu_launch(r, &l, err)) || (status = scan(r, counts, (n + 31) / 32, 2, err)))
		return status;
	l = launch_1d("label", "ccl_number", DT_U32, DT_U32, n);
	ARGS(&l, KBUF(L), KBUF(bitmap), KBUF(counts), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_label_spots(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct gpu_buf *bitmap, *counts;
	struct launch l;
	int status;

	if ((status = check_voxels(c, err)) || (status = word_buffers(r, n, &bitmap, &counts, err)))
		return status;
	l = group_launch("label", "spots_flag", c->in[0]->dtype, DT_U32, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(bitmap), KBUF(counts), KU64(n));
	if ((status = gpu_launch(r, &l, err)) || (status = scan(r, counts, (n + 31) / 32, 2, err)))
		return status;
	l = launch_1d("label", "spots_number", DT_U32, DT_U32, n);
	ARGS(&l, KBUF(bitmap), KBUF(counts), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

/* ---- label tables ---- */

/* The largest label, read back (the tables' size); refuses negative and too large labels. */
static int max_label(struct gpu_run *r, const struct op_call *c, uint32_t *max,
		     struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n);
	struct gpu_buf *partials;
	struct launch l;
	int status = gpu_scratch(r, 0, groups * sizeof(uint32_t), &partials, err);

	if (status)
		return status;
	l = group_launch("label", "label_max_partials", c->in[0]->dtype, DT_U32, groups * GROUP);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = group_launch("label", "label_max_final", DT_U32, DT_U32, GROUP);
	ARGS(&l, KBUF(partials), KI32(groups));
	if ((status = gpu_launch(r, &l, err)) ||
	    (status = gpu_read(r, partials, max, sizeof(*max), err)))
		return status;
	if (c->in[0]->dtype == DT_I32 && *max > INT32_MAX)
		return vb_errf(err, VB_E_ARGS, "%s: the label image holds negative labels",
			       c->op->name);
	if (*max > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u, the largest this op's "
			       "per-label table takes; relabel the image first", c->op->name, *max,
			       LABEL_MAX_VALUE);
	return VB_OK;
}

/* A size bound in voxels: counts are integers, so lo rounds up and hi down, within u32. */
static uint32_t size_bound(double v, int upper)
{
	v = upper ? floor(v) : ceil(v);
	return v <= 0 ? 0 : v >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void size_range(const struct op_call *c, uint32_t *lo, uint32_t *hi)
{
	const char *k = c->op->keep;

	*lo = 0;
	*hi = UINT32_MAX;
	if (strcmp(k, "small") == 0)
		*lo = size_bound(op_param(c, "maximum_size"), 0);
	else if (strcmp(k, "large") == 0)
		*hi = size_bound(op_param(c, "minimum_size"), 1);
	else if (strcmp(k, "range") == 0) {
		*lo = size_bound(op_param(c, "minimum_size"), 0);
		*hi = size_bound(op_param(c, "maximum_size"), 1);
	}
}

static int edge_bits(const struct op_call *c)
{
	return (op_param(c, "exclude_x") != 0) | (op_param(c, "exclude_y") != 0) << 1 |
	       (op_param(c, "exclude_z") != 0) << 2;
}

int plan_relabel(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	const char *k = c->op->keep;
	int stat = strcmp(k, "present") == 0 ? 0 : strcmp(k, "edges") == 0 ? 2 : 1;
	uint32_t max, lo, hi;
	struct gpu_buf *keep, *aux;
	struct launch l;
	int status;

	if ((status = check_voxels(c, err)) || (status = max_label(r, c, &max, err)) ||
	    (status = gpu_scratch(r, 1, ((size_t)max + 2) * sizeof(uint32_t), &keep, err)) ||
	    (status = gpu_scratch(r, 2, ((size_t)max + 1) * sizeof(uint32_t), &aux, err)))
		return status;
	for (int b = 0; b < 2; b++) {
		size_t len = (size_t)max + 2 - (size_t)b;

		l = launch_1d("label", "fill_u32", DT_U32, DT_U32, len);
		ARGS(&l, KBUF(b ? aux : keep), KI32(0), KU64(len));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	l = launch_1d("label", "label_stats", in->dtype, DT_U32, (n + STAT_RUN - 1) / STAT_RUN);
	snprintf(l.options, sizeof(l.options), "-DSTAT=%d", stat);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(keep), KBUF(aux), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(stat == 2 ? edge_bits(c) : 0), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	if (stat) {
		size_range(c, &lo, &hi);
		l = launch_1d("label", "label_select", DT_U32, DT_U32, (size_t)max + 1);
		snprintf(l.options, sizeof(l.options), "-DSTAT=%d", stat);
		ARGS(&l, KBUF(keep), KBUF(aux), KI32(lo), KI32(hi), KU64(max));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	if ((status = scan(r, keep, (size_t)max + 2, 3, err)))
		return status;
	l = launch_1d("label", "label_map", in->dtype, DT_U32, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(keep), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}
