/*
 * ops/plans_label4.c: the plans of ops/rows_label4.def, each a chain of other rows' plans run
 * through gpu_sub_plan (dilate_labels, erode_labels, erode_sphere, erode_box, gaussian_blur,
 * threshold_otsu, connected_components_labeling_box, masked_voronoi_labeling,
 * relabel_sequential, the exclude_labels_with_map_values rows) and this file's own rows, glued
 * by kernels/label4.cl. Every step costs a constant per voxel (or per label): no step loops over
 * labels across the volume.
 *
 * Scratch: a plan's own volumes take slots 0, 1, ...; its sub-plans start above them, far
 * enough apart that no two share a slot (gpu_scratch refuses a slot reused at another size).
 */
#include <stdio.h>
#include <string.h>

#include "plans.h"

/* Slots a sub-plan of each op used here may take, nested ones included (their plans' counts,
 * rounded up): the bases below step by these. */
enum { SPAN_ERODE = 1, SPAN_DILATE = 4, SPAN_WINDOW = 1, SPAN_EXTEND = 3, SPAN_OPENING = 6,
       SPAN_CCL = 3, SPAN_RELABEL = 4, SPAN_BLUR = 5, SPAN_OTSU = 6 };

static struct gpu_operand input(struct gpu_run *r, const struct op_call *c, int i)
{
	return (struct gpu_operand){ gpu_input(r, i), c->in[i] };
}

static struct gpu_operand output(struct gpu_run *r, const struct op_call *c)
{
	return (struct gpu_operand){ gpu_output(r), c->out };
}

static const struct gpu_operand none;

/* dst (u32) = labels where mask != 0, else 0. */
static int keep_where(struct gpu_run *r, struct gpu_operand labels, struct gpu_operand mask,
		      struct gpu_operand dst, struct vb_err *err)
{
	size_t n = stack_voxels(labels.desc);
	struct launch l = launch_1d("label4", "l4_keep_where", labels.desc->dtype, DT_U32, n);

	snprintf(l.options, sizeof(l.options), "-DT_MASK=%s", dtype_cl_name(mask.desc->dtype));
	ARGS(&l, KBUF(labels.buf), KBUF(mask.buf), KBUF(dst.buf), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_opening_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double radius = op_param(c, "radius");
	struct stack d;
	struct gpu_operand eroded;
	int status = plan_scratch_volume(r, c, 0, DT_U32, &d, &eroded, err);

	if (!status)
		status = plan_run_op(r, c, "erode_labels", &radius, 1, input(r, c, 0), none, eroded, 1,
			             err);
	if (!status)
		status = plan_run_op(r, c, "dilate_labels", &radius, 1, eroded, none, output(r, c),
			             1 + SPAN_ERODE, err);
	return status;
}

int plan_closing_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double radius = op_param(c, "radius");
	/* a length-1 axis reads its one plane whatever the radius: 0 says so */
	double radii[3] = { in->width > 1 ? radius : 0, in->height > 1 ? radius : 0,
			    in->depth > 1 ? radius : 0 };
	struct stack d[2];
	struct gpu_operand grown, inner;
	int status = plan_scratch_volume(r, c, 0, DT_U32, &d[0], &grown, err);

	if (!status)
		status = plan_scratch_volume(r, c, 1, DT_U8, &d[1], &inner, err);
	if (!status)
		status = plan_run_op(r, c, "dilate_labels", &radius, 1, input(r, c, 0), none, grown, 2,
			             err);
	if (!status)
		status = plan_run_op(r, c, "erode_sphere", radii, 3, grown, none, inner, 2 + SPAN_DILATE,
			             err);
	return status ? status : keep_where(r, grown, inner, output(r, c), err);
}

int plan_smooth_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double radius = op_param(c, "radius");
	struct stack d[2];
	struct gpu_operand opened, grown;
	int status = plan_scratch_volume(r, c, 0, DT_U32, &d[0], &opened, err);

	if (!status)
		status = plan_scratch_volume(r, c, 1, DT_U32, &d[1], &grown, err);
	if (!status)
		status = plan_run_op(r, c, "opening_labels", &radius, 1, input(r, c, 0), none, opened, 2,
			             err);
	if (!status)
		status = plan_run_op(r, c, "extend_labeling_via_voronoi", NULL, 0, opened, none, grown,
			             2 + SPAN_OPENING, err);
	return status ? status : keep_where(r, grown, input(r, c, 0), output(r, c), err);
}

int plan_erode_connected_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double radius = op_param(c, "radius"), zero = 0;
	struct stack d[3];
	struct gpu_operand fg, inner, kept;
	int base = 3, status = plan_scratch_volume(r, c, 0, DT_U8, &d[0], &fg, err);

	if (!status)
		status = plan_scratch_volume(r, c, 1, DT_U32, &d[1], &inner, err);
	if (!status)
		status = plan_scratch_volume(r, c, 2, DT_U32, &d[2], &kept, err);
	/* the foreground as one label erodes from the background alone */
	if (!status)
		status = plan_run_op(r, c, "greater_constant", &zero, 1, input(r, c, 0), none, fg, base,
			             err);
	if (!status)
		status = plan_run_op(r, c, "erode_labels", &radius, 1, fg, none, inner, base, err);
	if (!status)
		status = keep_where(r, input(r, c, 0), inner, kept, err);
	if (!status)
		status = plan_run_op(r, c, "relabel_sequential", NULL, 0, kept, none, output(r, c),
			             base + SPAN_ERODE, err);
	return status;
}

int plan_extend_labeling_via_voronoi(struct gpu_run *r, const struct op_call *c,
				     struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	struct gpu_buf *state[2], *flag;
	struct launch l;
	int status, last;

	if ((status = gpu_scratch(r, 0, n * sizeof(int32_t), &state[0], err)) ||
	    (status = gpu_scratch(r, 1, n * sizeof(int32_t), &state[1], err)) ||
	    (status = gpu_scratch(r, 2, sizeof(uint32_t), &flag, err)))
		return status;
	l = launch_1d("label4", "l4_state_init", in->dtype, DT_U32, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(state[0]), KU64(n));
	if ((status = gpu_launch(r, &l, err)) ||
	    (status = plan_voronoi_grow(r, c->op->name, state, flag, in, &last, err)))
		return status;
	l = launch_1d("label4", "l4_state_finish", DT_U32, DT_U32, n);
	ARGS(&l, KBUF(state[last]), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_voronoi_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	struct stack d;
	struct gpu_operand seeds;
	int status = plan_scratch_volume(r, c, 0, DT_U32, &d, &seeds, err);

	if (!status)
		status = plan_run_op(r, c, "connected_components_labeling_box", NULL, 0, input(r, c, 0),
			             none, seeds, 1, err);
	if (!status)
		status = plan_run_op(r, c, "extend_labeling_via_voronoi", NULL, 0, seeds, none,
			             output(r, c), 1 + SPAN_CCL, err);
	return status;
}

#define CENTROID_SEG 32

int plan_reduce_labels_to_centroids(struct gpu_run *r, const struct op_call *c,
				    struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in), words;
	struct gpu_buf *acc;
	uint32_t max = 0, n1;
	struct launch l;
	int status = plan_max_label(r, c, gpu_input(r, 0), c->in[0], 0, 2, &max, err);

	if (status)
		return status;
	n1 = max + 1;
	words = (size_t)7 * n1;
	if ((status = gpu_scratch(r, 1, words * sizeof(uint32_t), &acc, err)))
		return status;
	l = launch_1d("label4", "l4_fill_u32", DT_U32, DT_U32, words);
	ARGS(&l, KBUF(acc), KU64(words));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label4", "l4_fill_u32", DT_U32, DT_U32, n);
	ARGS(&l, KBUF(gpu_output(r)), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label4", "l4_centroid_accumulate", in->dtype, DT_U32, in);
	l.global[0] = (in->width + CENTROID_SEG - 1) / CENTROID_SEG;
	snprintf(l.options, sizeof(l.options), "-DSEG=%d", CENTROID_SEG);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(acc), KI32(n1), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label4", "l4_centroid_write", DT_U32, DT_U32, n1);
	ARGS(&l, KBUF(acc), KBUF(gpu_output(r)), KI32(n1), KI32(in->width), KI32(in->height));
	return gpu_launch(r, &l, err);
}

/* exclude_labels_with_map_values_*: the values first, the labels second, the same range. */
static int remove_by_values(struct gpu_run *r, const struct op_call *c, const char *name,
			    struct vb_err *err)
{
	double range[2] = { op_param(c, "min_value"), op_param(c, "max_value") };

	return plan_run_op(r, c, name, range, 2, input(r, c, 1), input(r, c, 0), output(r, c), 1, err);
}

int plan_remove_labels_with_map_values_out_of_range(struct gpu_run *r, const struct op_call *c,
						    struct vb_err *err)
{
	return remove_by_values(r, c, "exclude_labels_with_map_values_out_of_range", err);
}

int plan_remove_labels_with_map_values_within_range(struct gpu_run *r, const struct op_call *c,
						    struct vb_err *err)
{
	return remove_by_values(r, c, "exclude_labels_with_map_values_within_range", err);
}

int plan_eroded_otsu_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double sigma = op_param(c, "outline_sigma"), k = op_param(c, "number_of_erosions");
	double s3[3] = { sigma, sigma, sigma }, k3[3] = { k, k, k };
	struct stack d[3];
	struct gpu_operand blur, mask, seeds;
	int base = 3, status = plan_scratch_volume(r, c, 0, DT_F32, &d[0], &blur, err);

	if (!status)
		status = plan_scratch_volume(r, c, 1, DT_U8, &d[1], &mask, err);
	if (!status)
		status = plan_scratch_volume(r, c, 2, DT_U8, &d[2], &seeds, err);
	if (!status)
		status = plan_run_op(r, c, "gaussian_blur", s3, 3, input(r, c, 0), none, blur, base, err);
	base += SPAN_BLUR;
	if (!status)
		status = plan_run_op(r, c, "threshold_otsu", NULL, 0, blur, none, mask, base, err);
	base += SPAN_OTSU;
	/* k 3x3x3 erosions with clamped borders are one erosion by the (2k+1) box */
	if (!status)
		status = plan_run_op(r, c, "erode_box", k3, 3, mask, none, seeds, base, err);
	base += SPAN_WINDOW;
	if (!status)
		status = plan_run_op(r, c, "masked_voronoi_labeling", NULL, 0, seeds, mask, output(r, c),
			             base, err);
	return status;
}
