/*
 * ops/plans_label3.c: label edges and masks, per-label maps, statistics with the background,
 * touch and overlap matrices, label flags and Gauss-Otsu labelling (kernels/label3.cl). Per-label
 * values come from the statistics_of_labelled_pixels plan, run as a sub-plan, so a map costs one
 * table and one gather: nothing here multiplies voxels by labels.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plans.h"

/* Scratch slots of this file's plans; sub-plans start above them. */
enum { SLOT_MAX, SLOT_TABLE, SLOT_AUX, SLOT_AUX2, SUB_MAX = 4, SUB_STATS = 8 };

static const struct stack *desc_of(const struct stack *s, struct stack *out, enum dtype t)
{
	*out = (struct stack){ .width = s->width, .height = s->height, .depth = s->depth,
			       .dtype = t };
	return out;
}

/* ops/plans.h */
int plan_max_label(struct gpu_run *r, const struct op_call *c, struct gpu_buf *labels,
		   const struct stack *desc, int slot, int sub, uint32_t *max, struct vb_err *err)
{
	const struct op_desc *op = op_find("maximum_of_all_pixels");
	struct stack scalar = { .width = 1, .height = 1, .depth = 1, .dtype = desc->dtype };
	struct gpu_operand in[OP_MAX_INPUTS] = { { labels, desc } };
	double params[OP_MAX_PARAMS] = { 0 }, v;
	unsigned char bytes[8];
	struct gpu_buf *out;
	int status;

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs maximum_of_all_pixels", c->op->name);
	if ((status = gpu_scratch(r, slot, dtype_size(desc->dtype), &out, err)) ||
	    (status = gpu_sub_plan(r, op, params, in, &(struct gpu_operand){ out, &scalar },
				   sub, err)) ||
	    (status = gpu_read(r, out, bytes, dtype_size(desc->dtype), err)))
		return status;
	scalar.data = bytes;
	v = stack_get(&scalar, 0);
	if (v > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %.0f exceeds %u, the largest a per-label "
			       "table takes; relabel first", c->op->name, v, LABEL_MAX_VALUE);
	*max = v > 0 ? (uint32_t)v : 0;
	return VB_OK;
}

/* ---- label edges, label masks ---- */

static int label_edges(struct gpu_run *r, const struct op_call *c, int keep, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("label3", "l3_label_edges", in->dtype, c->out->dtype, in);

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), KI32(keep));
	return gpu_launch(r, &l, err);
}

int plan_detect_label_edges(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return label_edges(r, c, 0, err);
}

int plan_reduce_labels_to_label_edges(struct gpu_run *r, const struct op_call *c,
				      struct vb_err *err)
{
	return label_edges(r, c, 1, err);
}

static int same_size(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];

	if (a->width != b->width || a->height != b->height || a->depth != b->depth)
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", c->op->name);
	return VB_OK;
}

int plan_mask_label(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double v = op_param(c, "label");
	uint32_t label = v >= 0 && v == floor(v) && v <= LABEL_MAX_VALUE ? (uint32_t)v : UINT32_MAX;
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("label3", "l3_mask_label", c->in[0]->dtype, c->out->dtype, n);
	int status = same_size(c, err);

	if (status)
		return status;
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(gpu_output(r)), KI32(label),
	     KU64(n));
	return gpu_launch(r, &l, err);
}

/* ---- maps from the statistics table ---- */

/* The statistics table (STATISTICS_COLUMNS x rows) of img over labels into *table. */
static int stats_table(struct gpu_run *r, const struct op_call *c, struct gpu_buf *img,
		       const struct stack *img_desc, struct gpu_buf *labels,
		       const struct stack *lab_desc, size_t rows, struct gpu_buf **table,
		       struct vb_err *err)
{
	const struct op_desc *op = op_find("statistics_of_labelled_pixels");
	struct stack tdesc = { .width = STATISTICS_COLUMNS, .height = rows, .depth = 1,
			       .dtype = DT_F32 };
	struct gpu_operand in[OP_MAX_INPUTS] = { { img, img_desc }, { labels, lab_desc } };
	double params[OP_MAX_PARAMS] = { 0 };
	int status;

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs statistics_of_labelled_pixels",
			       c->op->name);
	if ((status = gpu_scratch(r, SLOT_TABLE, rows * STATISTICS_COLUMNS * sizeof(float), table,
				  err)))
		return status;
	return gpu_sub_plan(r, op, params, in, &(struct gpu_operand){ *table, &tdesc }, SUB_STATS,
			    err);
}

/* out = column col of each voxel's label row (labels: input il; intensities: input ii). */
static int table_map(struct gpu_run *r, const struct op_call *c, int ii, int il, int col,
		     struct vb_err *err)
{
	const struct stack *lab = c->in[il];
	size_t n = stack_voxels(lab);
	struct gpu_buf *table;
	uint32_t max;
	struct launch l;
	int status;

	if ((il != ii && (status = same_size(c, err))) ||
	    (status = plan_max_label(r, c, gpu_input(r, il), lab, SLOT_MAX, SUB_MAX, &max, err)) ||
	    (status = stats_table(r, c, gpu_input(r, ii), c->in[ii], gpu_input(r, il), lab,
				  max ? max : 1, &table, err)))
		return status;
	l = launch_1d("label3", "l3_table_map", lab->dtype, DT_F32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(lab->dtype));
	ARGS(&l, KBUF(gpu_input(r, il)), KBUF(table), KBUF(gpu_output(r)),
	     KI32(STATISTICS_COLUMNS), KI32(col), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_pixel_count_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return table_map(r, c, 0, 0, STAT_AREA, err);
}

int plan_mean_intensity_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return table_map(r, c, 0, 1, STAT_MEAN, err);
}

int plan_minimum_intensity_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return table_map(r, c, 0, 1, STAT_MIN, err);
}

int plan_maximum_intensity_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return table_map(r, c, 0, 1, STAT_MAX, err);
}

int plan_standard_deviation_intensity_map(struct gpu_run *r, const struct op_call *c,
					  struct vb_err *err)
{
	return table_map(r, c, 0, 1, STAT_STD, err);
}

/* Labels + 1 into a u32 buffer, their table into the output, its label column put back. */
int plan_statistics_of_background_and_labelled_pixels(struct gpu_run *r, const struct op_call *c,
						      struct vb_err *err)
{
	const struct stack *lab = c->in[1];
	size_t n = stack_voxels(lab), rows = c->out->height;
	const struct op_desc *op = op_find("statistics_of_labelled_pixels");
	struct stack shifted_desc;
	struct gpu_buf *shifted;
	double params[OP_MAX_PARAMS] = { 0 };
	struct launch l;
	int status;

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs statistics_of_labelled_pixels",
			       c->op->name);
	if ((status = same_size(c, err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &shifted, err)))
		return status;
	l = launch_1d("label3", "l3_shift_labels", lab->dtype, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(lab->dtype));
	ARGS(&l, KBUF(gpu_input(r, 1)), KBUF(shifted), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	{
		struct gpu_operand in[OP_MAX_INPUTS] = {
			{ gpu_input(r, 0), c->in[0] },
			{ shifted, desc_of(lab, &shifted_desc, DT_U32) } };

		if ((status = gpu_sub_plan(r, op, params, in,
					   &(struct gpu_operand){ gpu_output(r), c->out },
					   SUB_STATS, err)))
			return status;
	}
	l = launch_1d("label3", "l3_table_relabel", DT_F32, DT_F32, rows);
	ARGS(&l, KBUF(gpu_output(r)), KI32(STATISTICS_COLUMNS), KI32(rows));
	return gpu_launch(r, &l, err);
}

/* ---- matrices and flags ---- */

static int fill_u8(struct gpu_run *r, struct gpu_buf *b, size_t n, struct vb_err *err)
{
	struct launch l = launch_1d("label3", "l3_fill_u8", DT_U8, DT_U8, n);

	ARGS(&l, KBUF(b), KU64(n));
	return gpu_launch(r, &l, err);
}

/* The touch matrix of the labels 0..max in buffer labels (dims and dtype of in) into m
 * ((max + 1)^2 bytes). */
static int touch_matrix(struct gpu_run *r, const struct op_call *c, struct gpu_buf *labels,
			const struct stack *in, struct gpu_buf *m, uint32_t max, struct vb_err *err)
{
	size_t n1 = (size_t)max + 1;
	struct launch l;
	int status = label3_matrix_check(c->op->name, max, err);

	if (status || (status = fill_u8(r, m, n1 * n1, err)))
		return status;
	l = launch_3d("label3", "l3_touch_mark", in->dtype, DT_U8, in);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(in->dtype));
	ARGS(&l, KBUF(labels), KBUF(m), KI32(n1), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

int plan_generate_touch_matrix(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return touch_matrix(r, c, gpu_input(r, 0), c->in[0], gpu_output(r),
			    (uint32_t)(c->out->width - 1), err);
}

/* count (max + 1 u32) = the labels each label touches. */
static int touch_counts(struct gpu_run *r, const struct op_call *c, uint32_t max, int skip_bg,
			struct gpu_buf *count, struct vb_err *err)
{
	size_t n1 = (size_t)max + 1;
	struct gpu_buf *m;
	struct launch l;
	int status = label3_matrix_check(c->op->name, max, err);

	if (status || (status = gpu_scratch(r, SLOT_AUX2, n1 * n1, &m, err)) ||
	    (status = touch_matrix(r, c, gpu_input(r, 0), c->in[0], m, max, err)))
		return status;
	l = launch_1d("label3", "l3_touch_count", DT_U8, DT_U32, n1);
	ARGS(&l, KBUF(m), KBUF(count), KI32(n1), KI32(skip_bg));
	return gpu_launch(r, &l, err);
}

int plan_count_touching_neighbors(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return touch_counts(r, c, (uint32_t)(c->out->width - 1),
			    op_param(c, "ignore_background") != 0, gpu_output(r), err);
}

int plan_touching_neighbor_count_map(struct gpu_run *r, const struct op_call *c,
				     struct vb_err *err)
{
	const struct stack *lab = c->in[0];
	size_t n = stack_voxels(lab);
	struct gpu_buf *count;
	uint32_t max;
	struct launch l;
	int status;

	if ((status = plan_max_label(r, c, gpu_input(r, 0), lab, SLOT_MAX, SUB_MAX, &max, err)) ||
	    (status = label3_matrix_check(c->op->name, max, err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, ((size_t)max + 1) * sizeof(uint32_t), &count,
				  err)) ||
	    (status = touch_counts(r, c, max, 1, count, err)))
		return status;
	l = launch_1d("label3", "l3_count_map", lab->dtype, DT_F32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(lab->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(count), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_generate_binary_overlap_matrix(struct gpu_run *r, const struct op_call *c,
					struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l;
	int status = same_size(c, err);

	if (status || (status = fill_u8(r, gpu_output(r), stack_voxels(c->out), err)))
		return status;
	l = launch_1d("label3", "l3_overlap_mark", c->in[0]->dtype, DT_U8, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(gpu_output(r)),
	     KI32(c->out->width), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_flag_existing_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l;
	int status = fill_u8(r, gpu_output(r), stack_voxels(c->out), err);

	if (status)
		return status;
	l = launch_1d("label3", "l3_flag_mark", c->in[0]->dtype, DT_U8, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

/* ---- Gauss-Otsu labelling: three sub-plans ---- */

int plan_gauss_otsu_labeling(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	double sigma = op_param(c, "outline_sigma");
	const char *steps[3] = { "gaussian_blur", "threshold_otsu",
				 "connected_components_labeling_box" };
	static const int base[3] = { 2, 8, 14 };
	struct stack f32, u8;
	struct gpu_buf *blur, *mask;
	int status;

	if ((status = gpu_scratch(r, 0, n * sizeof(float), &blur, err)) ||
	    (status = gpu_scratch(r, 1, n, &mask, err)))
		return status;
	desc_of(in, &f32, DT_F32);
	desc_of(in, &u8, DT_U8);
	{
		struct gpu_operand src[3] = { { gpu_input(r, 0), in }, { blur, &f32 }, { mask, &u8 } };
		struct gpu_operand dst[3] = { { blur, &f32 }, { mask, &u8 }, { gpu_output(r), c->out } };

		for (int i = 0; i < 3; i++) {
			const struct op_desc *op = op_find(steps[i]);
			struct gpu_operand ins[OP_MAX_INPUTS] = { src[i] };
			double p[OP_MAX_PARAMS];

			if (!op)
				return vb_errf(err, VB_E_UNSUPPORTED, "%s needs %s", c->op->name,
					       steps[i]);
			op_default_params(op, p);
			if (i == 0)
				p[0] = p[1] = p[2] = sigma;
			if ((status = gpu_sub_plan(r, op, p, ins, &dst[i], base[i], err)))
				return status;
		}
	}
	return VB_OK;
}

/* ---- combine, select by map values, merge touching labels: then relabel_sequential ---- */

/* relabel_sequential of the u32 labels in buf (the input's dims) into the output. */
static int relabel_into_output(struct gpu_run *r, const struct op_call *c, struct gpu_buf *buf,
			       struct vb_err *err)
{
	const struct op_desc *op = op_find("relabel_sequential");
	struct stack desc;
	struct gpu_operand in[OP_MAX_INPUTS] = { { buf, desc_of(c->in[0], &desc, DT_U32) } };
	double params[OP_MAX_PARAMS] = { 0 };

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs relabel_sequential", c->op->name);
	return gpu_sub_plan(r, op, params, in, &(struct gpu_operand){ gpu_output(r), c->out },
			    SUB_STATS, err);
}

int plan_combine_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	uint32_t a, b;
	struct gpu_buf *tmp;
	struct launch l;
	int status;

	if ((status = same_size(c, err)) ||
	    (status = plan_max_label(r, c, gpu_input(r, 0), c->in[0], SLOT_MAX, SUB_MAX, &a, err)) ||
	    (status = plan_max_label(r, c, gpu_input(r, 1), c->in[1], SLOT_MAX, SUB_MAX, &b, err)))
		return status;
	if ((uint64_t)a + b > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: labels %u + %u exceed %u; relabel first",
			       c->op->name, a, b, LABEL_MAX_VALUE);
	if ((status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &tmp, err)))
		return status;
	l = launch_1d("label3", "l3_combine", c->in[0]->dtype, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(tmp), KI32(a), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	return relabel_into_output(r, c, tmp, err);
}

static int select_by_value(struct gpu_run *r, const struct op_call *c, int within,
			   struct vb_err *err)
{
	size_t n = stack_voxels(c->in[1]);
	struct gpu_buf *tmp;
	struct launch l;
	int status;

	if ((status = same_size(c, err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &tmp, err)))
		return status;
	l = launch_1d("label3", "l3_select_by_value", c->in[0]->dtype, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(c->in[1]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(tmp),
	     KF32(op_param(c, "minimum_value_range")), KF32(op_param(c, "maximum_value_range")),
	     KI32(within), KU64(stack_voxels(c->in[0])), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	return relabel_into_output(r, c, tmp, err);
}

int plan_exclude_labels_with_map_values_out_of_range(struct gpu_run *r, const struct op_call *c,
						     struct vb_err *err)
{
	return select_by_value(r, c, 0, err);
}

int plan_exclude_labels_with_map_values_within_range(struct gpu_run *r, const struct op_call *c,
						     struct vb_err *err)
{
	return select_by_value(r, c, 1, err);
}

int plan_merge_touching_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	struct gpu_buf *parent, *tmp;
	char option[64];
	uint32_t max;
	struct launch l;
	int status;

	if ((status = plan_max_label(r, c, gpu_input(r, 0), in, SLOT_MAX, SUB_MAX, &max, err)) ||
	    (status = gpu_scratch(r, SLOT_TABLE, ((size_t)max + 1) * sizeof(uint32_t), &parent,
				  err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &tmp, err)))
		return status;
	snprintf(option, sizeof(option), "-DT_LABEL=%s", dtype_cl_name(in->dtype));
	l = launch_1d("label3", "l3_parent_init", DT_U32, DT_U32, (size_t)max + 1);
	ARGS(&l, KBUF(parent), KI32(max + 1));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label3", "l3_merge_unite", in->dtype, DT_U32, in);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(parent), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label3", "l3_parent_flatten", DT_U32, DT_U32, (size_t)max + 1);
	ARGS(&l, KBUF(parent), KI32(max + 1));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label3", "l3_apply_parent", in->dtype, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(parent), KBUF(tmp), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	return relabel_into_output(r, c, tmp, err);
}

/* ---- extension of labels around their centroids ---- */

#define EXT_SEG 32

static int extension_map(struct gpu_run *r, const struct op_call *c, int what,
			 struct vb_err *err)
{
	const struct stack *lab = c->in[0];
	size_t n = stack_voxels(lab), rows;
	float scale = label3_extension_scale(lab);
	struct gpu_buf *table, *acc;
	char option[64];
	uint32_t max;
	struct launch l;
	int status;

	if ((status = plan_max_label(r, c, gpu_input(r, 0), lab, SLOT_MAX, SUB_MAX, &max, err)))
		return status;
	rows = max ? max : 1;
	if ((status = stats_table(r, c, gpu_input(r, 0), lab, gpu_input(r, 0), lab, rows, &table,
				  err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, 3 * rows * sizeof(uint32_t), &acc, err)))
		return status;
	snprintf(option, sizeof(option), "-DT_LABEL=%s -DSEG=%d", dtype_cl_name(lab->dtype),
		 EXT_SEG);
	l = launch_1d("label3", "l3_fill_u32", DT_U32, DT_U32, 3 * rows);
	ARGS(&l, KBUF(acc), KU64(3 * rows));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label3", "l3_extension_accumulate", lab->dtype, DT_F32, lab);
	l.global[0] = (lab->width + EXT_SEG - 1) / EXT_SEG;
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(table), KBUF(acc), KI32(STATISTICS_COLUMNS),
	     KI32(lab->width), KI32(lab->height), KI32(lab->depth), KF32(scale));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label3", "l3_extension_map", lab->dtype, DT_F32, n);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(table), KBUF(acc), KBUF(gpu_output(r)),
	     KI32(STATISTICS_COLUMNS), KI32(what), KF32(1.0f / scale), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_mean_extension_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return extension_map(r, c, 0, err);
}

int plan_maximum_extension_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return extension_map(r, c, 1, err);
}

int plan_extension_ratio_map(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return extension_map(r, c, 2, err);
}

/* ---- spots to a point list: label_spots numbers them, a scatter writes their positions ---- */

int plan_spots_to_pointlist(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	const struct op_desc *op = op_find("label_spots");
	size_t n = stack_voxels(in), count = c->out->width, rows = c->out->height;
	struct stack desc;
	struct gpu_buf *numbers;
	double params[OP_MAX_PARAMS] = { 0 };
	struct launch l;
	int status;

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs label_spots", c->op->name);
	if ((status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &numbers, err)))
		return status;
	{
		struct gpu_operand src[OP_MAX_INPUTS] = { { gpu_input(r, 0), in } };

		if ((status = gpu_sub_plan(r, op, params, src,
					   &(struct gpu_operand){ numbers,
								  desc_of(in, &desc, DT_U32) },
					   SUB_STATS, err)))
			return status;
	}
	l = launch_1d("label3", "l3_fill_nan", DT_F32, DT_F32, count * rows);
	ARGS(&l, KBUF(gpu_output(r)), KU64(count * rows));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label3", "l3_spots_scatter", DT_U32, DT_F32, in);
	ARGS(&l, KBUF(numbers), KBUF(gpu_output(r)), KI32(count), KI32(rows), KI32(in->width),
	     KI32(in->height), KI32(in->depth));
	return gpu_launch(r, &l, err);
}

/* ---- aggregates over touching neighbours ---- */

/* agg (0 mean, 1 minimum, 2 maximum) of the mean of in 1 over each label of in 2 and the labels
 * touching it, on the label's voxels. */
static int neighbor_map(struct gpu_run *r, const struct op_call *c, int agg, struct vb_err *err)
{
	const struct stack *lab = c->in[1];
	size_t n = stack_voxels(lab), n1;
	struct gpu_buf *table, *m, *values;
	char option[64];
	uint32_t max;
	struct launch l;
	int status;

	if ((status = same_size(c, err)) ||
	    (status = plan_max_label(r, c, gpu_input(r, 1), lab, SLOT_MAX, SUB_MAX, &max, err)) ||
	    (status = label3_matrix_check(c->op->name, max, err)) ||
	    (status = stats_table(r, c, gpu_input(r, 0), c->in[0], gpu_input(r, 1), lab,
				  max ? max : 1, &table, err)))
		return status;
	n1 = (size_t)max + 1;
	if ((status = gpu_scratch(r, SLOT_AUX2, n1 * n1, &m, err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, n1 * sizeof(float), &values, err)))
		return status;
	if ((status = touch_matrix(r, c, gpu_input(r, 1), lab, m, max, err)))
		return status;
	l = launch_1d("label3", "l3_neighbor_aggregate", DT_U8, DT_F32, n1);
	snprintf(l.options, sizeof(l.options), "-DAGG=%d", agg);
	ARGS(&l, KBUF(m), KBUF(table), KBUF(values), KI32(STATISTICS_COLUMNS), KI32(n1),
	     KI32(op_param(c, "ignore_background") != 0));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	snprintf(option, sizeof(option), "-DT_LABEL=%s", dtype_cl_name(lab->dtype));
	l = launch_1d("label3", "l3_float_map", lab->dtype, DT_F32, n);
	snprintf(l.options, sizeof(l.options), "%s", option);
	ARGS(&l, KBUF(gpu_input(r, 1)), KBUF(values), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}

int plan_mean_of_touching_neighbors_map(struct gpu_run *r, const struct op_call *c,
					struct vb_err *err)
{
	return neighbor_map(r, c, 0, err);
}

int plan_minimum_of_touching_neighbors_map(struct gpu_run *r, const struct op_call *c,
					   struct vb_err *err)
{
	return neighbor_map(r, c, 1, err);
}

int plan_maximum_of_touching_neighbors_map(struct gpu_run *r, const struct op_call *c,
					   struct vb_err *err)
{
	return neighbor_map(r, c, 2, err);
}

/* ---- labelled spots to a point list ---- */

int plan_labelled_spots_to_pointlist(struct gpu_run *r, const struct op_call *c,
				     struct vb_err *err)
{
	const struct stack *lab = c->in[0];
	size_t count = c->out->width, rows = c->out->height;
	struct gpu_buf *last;
	struct launch l;
	int status;

	if (stack_voxels(lab) >= UINT32_MAX)
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels; positions are u32 indices, crop "
			       "the stack", c->op->name, stack_voxels(lab));
	if ((status = gpu_scratch(r, SLOT_AUX, count * sizeof(uint32_t), &last, err)))
		return status;
	l = launch_1d("label3", "l3_fill_u32", DT_U32, DT_U32, count);
	ARGS(&l, KBUF(last), KU64(count));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_3d("label3", "l3_last_voxel", lab->dtype, DT_U32, lab);
	l.global[0] = (lab->width + EXT_SEG - 1) / EXT_SEG;
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s -DSEG=%d", dtype_cl_name(lab->dtype),
		 EXT_SEG);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(last), KI32(lab->width), KI32(lab->height),
	     KI32(lab->depth));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("label3", "l3_last_points", DT_U32, DT_F32, count);
	ARGS(&l, KBUF(last), KBUF(gpu_output(r)), KI32(count), KI32(rows), KI32(lab->width),
	     KI32(lab->height));
	return gpu_launch(r, &l, err);
}

/* ---- remove flagged labels; per-label values of a map ---- */

int plan_exclude_labels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct gpu_buf *tmp;
	struct launch l;
	int status;

	if ((status = same_size(c, err)) ||
	    (status = gpu_scratch(r, SLOT_AUX, n * sizeof(uint32_t), &tmp, err)))
		return status;
	l = launch_1d("label3", "l3_exclude_flagged", c->in[1]->dtype, DT_U32, n);
	snprintf(l.options, sizeof(l.options), "-DT_LABEL=%s", dtype_cl_name(c->in[0]->dtype));
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(tmp),
	     KU64(stack_voxels(c->in[1])), KU64(n));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	return relabel_into_output(r, c, tmp, err);
}

int plan_read_map_values(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *lab = c->in[1];
	size_t n1 = c->out->width;
	struct gpu_buf *table;
	struct launch l;
	int status;

	if ((status = same_size(c, err)) ||
	    (status = stats_table(r, c, gpu_input(r, 0), c->in[0], gpu_input(r, 1), lab,
				  n1 > 1 ? n1 - 1 : 1, &table, err)))
		return status;
	l = launch_1d("label3", "l3_table_column", DT_F32, DT_F32, n1);
	ARGS(&l, KBUF(table), KBUF(gpu_output(r)), KI32(STATISTICS_COLUMNS), KI32(STAT_MEAN),
	     KI32(n1));
	return gpu_launch(r, &l, err);
}
