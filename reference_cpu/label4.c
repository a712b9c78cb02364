/*
 * reference_cpu/label4.c: the references of ops/rows_label4.def, each the chain its plan runs
 * (ops/plans_label4.c) made of the other rows' references, so both sides compose the same
 * definitions:
 *   opening_labels        dilate_labels(erode_labels(in))
 *   closing_labels        dilate_labels(in) kept where erode_sphere of its non-zero voxels is 1
 *   smooth_labels         extend_labeling_via_voronoi(opening_labels(in)) kept where in != 0
 *   erode_connected_labels
 *                         in kept where erode_labels(in > 0) is 1, then relabel_sequential
 *   extend_labeling_via_voronoi
 *                         the growth of masked_voronoi_labeling (ref_voronoi_grow), unmasked
 *   voronoi_labeling      extend_labeling_via_voronoi(connected_components_labeling_box(in))
 *   reduce_labels_to_centroids
 *                         each label at floor(exact sum / count) per axis, the larger on ties
 *   remove_labels_with_map_values_*
 *                         exclude_labels_with_map_values_* with the inputs swapped
 *   eroded_otsu_labeling  masked_voronoi_labeling(erode_box(otsu), otsu) of the blur
 */
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

#define LABEL_OF(v) ((v) > 0 ? (uint32_t)(v) : 0u)

/* Op `name`'s reference from a (and b) into out: its defaults, then p's first np entries. */
static int step(const struct op_call *c, const char *name, const double *p, int np,
		const struct stack *a, const struct stack *b, struct stack *out, double *side,
		struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	double unused = 0;
	struct op_call s = { .op = op, .in = { a, b }, .out = out, .threads = c->threads,
			     .side_value = side ? side : &unused };

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs the op %s, which this build lacks",
			       ref_op_name(c), name);
	op_default_params(op, s.p);
	for (int i = 0; i < np; i++)
		s.p[i] = p[i];
	return op->ref(&s, err);
}

static int alloc_like(const struct stack *in, enum dtype t, struct stack *s, struct vb_err *err)
{
	return stack_alloc(s, in->width, in->height, in->depth, t, err);
}

/* out (u32) = the label of labels where mask != 0, else 0. */
static void keep_where(const struct op_call *c, const struct stack *labels,
		       const struct stack *mask, struct stack *out)
{
	size_t n = stack_voxels(labels);
	uint32_t *o = out->data;

	STACK_SWITCH_DTYPE(labels->dtype, T,
		const T *l = labels->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = stack_get(mask, i) != 0 ? LABEL_OF(l[i]) : 0u;
	)
}

int ref_opening_labels(const struct op_call *c, struct vb_err *err)
{
	double radius = op_param(c, "radius");
	struct stack eroded = { 0 };
	int status = alloc_like(c->in[0], DT_U32, &eroded, err);

	if (!status)
		status = step(c, "erode_labels", &radius, 1, c->in[0], NULL, &eroded, NULL, err);
	if (!status)
		status = step(c, "dilate_labels", &radius, 1, &eroded, NULL, c->out, NULL, err);
	stack_free(&eroded);
	return status;
}

int ref_closing_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double radius = op_param(c, "radius");
	double radii[3] = { in->width > 1 ? radius : 0, in->height > 1 ? radius : 0,
			    in->depth > 1 ? radius : 0 };
	struct stack grown = { 0 }, inner = { 0 };
	int status = alloc_like(in, DT_U32, &grown, err);

	if (!status)
		status = alloc_like(in, DT_U8, &inner, err);
	if (!status)
		status = step(c, "dilate_labels", &radius, 1, in, NULL, &grown, NULL, err);
	if (!status)
		status = step(c, "erode_sphere", radii, 3, &grown, NULL, &inner, NULL, err);
	if (!status)
		keep_where(c, &grown, &inner, c->out);
	stack_free(&grown);
	stack_free(&inner);
	return status;
}

int ref_smooth_labels(const struct op_call *c, struct vb_err *err)
{
	double radius = op_param(c, "radius");
	struct stack opened = { 0 }, grown = { 0 };
	int status = alloc_like(c->in[0], DT_U32, &opened, err);

	if (!status)
		status = alloc_like(c->in[0], DT_U32, &grown, err);
	if (!status)
		status = step(c, "opening_labels", &radius, 1, c->in[0], NULL, &opened, NULL, err);
	if (!status)
		status = step(c, "extend_labeling_via_voronoi", NULL, 0, &opened, NULL, &grown,
			      NULL, err);
	if (!status)
		keep_where(c, &grown, c->in[0], c->out);
	stack_free(&opened);
	stack_free(&grown);
	return status;
}

int ref_erode_connected_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double radius = op_param(c, "radius"), zero = 0;
	struct stack fg = { 0 }, inner = { 0 }, kept = { 0 };
	int status = alloc_like(in, DT_U8, &fg, err);

	if (!status)
		status = alloc_like(in, DT_U32, &inner, err);
	if (!status)
		status = alloc_like(in, DT_U32, &kept, err);
	if (!status)
		status = step(c, "greater_constant", &zero, 1, in, NULL, &fg, NULL, err);
	if (!status)
		status = step(c, "erode_labels", &radius, 1, &fg, NULL, &inner, NULL, err);
	if (!status) {
		keep_where(c, in, &inner, &kept);
		status = step(c, "relabel_sequential", NULL, 0, &kept, NULL, c->out, NULL, err);
	}
	stack_free(&fg);
	stack_free(&inner);
	stack_free(&kept);
	return status;
}

int ref_extend_labeling_via_voronoi(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t dims[3] = { in->width, in->height, in->depth }, n = stack_voxels(in);
	uint32_t *out = c->out->data;
	int32_t *s = malloc((n ? n : 1) * sizeof(*s));
	int status;

	if (!s)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));

	ref_load_labels(in, out, ref_nthreads(c));
	status = ref_grow_labels(c, out, NULL, s, dims, err);
	free(s);
	return status;
}

int ref_voronoi_labeling(const struct op_call *c, struct vb_err *err)
{
	struct stack seeds = { 0 };
	int status = alloc_like(c->in[0], DT_U32, &seeds, err);

	if (!status)
		status = step(c, "connected_components_labeling_box", NULL, 0, c->in[0], NULL,
			      &seeds, NULL, err);
	if (!status)
		status = step(c, "extend_labeling_via_voronoi", NULL, 0, &seeds, NULL, c->out,
			      NULL, err);
	stack_free(&seeds);
	return status;
}

/* Per label: the voxel count and the coordinate sums, exact in 64 bits (one pass, serial:
 * sums of integers are exact in any order, and the pass is cheap beside a label's use). */
int ref_reduce_labels_to_centroids(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height, n = stack_voxels(in);
	uint32_t max = geom_max_label(in), *out = c->out->data, *lab;
	uint64_t (*acc)[4];

	if (max > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u; relabel first",
			       ref_op_name(c), max, LABEL_MAX_VALUE);
	lab = malloc((n ? n : 1) * sizeof(*lab));
	acc = calloc((size_t)max + 1, sizeof(*acc));
	if (!lab || !acc) {
		free(lab);
		free(acc);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	}
	ref_load_labels(in, lab, ref_nthreads(c));
	for (size_t i = 0; i < n; i++) {
		acc[lab[i]][0]++;
		acc[lab[i]][1] += i % w;
		acc[lab[i]][2] += i / w % h;
		acc[lab[i]][3] += i / (w * h);
	}
	memset(out, 0, n * sizeof(*out));
	/* ascending labels: a later (larger) one overwrites a shared voxel */
	for (uint32_t l = 1; l <= max; l++)
		if (acc[l][0])
			out[acc[l][1] / acc[l][0] + w * (acc[l][2] / acc[l][0] +
							 h * (acc[l][3] / acc[l][0]))] = l;
	free(lab);
	free(acc);
	return VB_OK;
}

static int remove_by_values(const struct op_call *c, const char *name, struct vb_err *err)
{
	double range[2] = { op_param(c, "min_value"), op_param(c, "max_value") };

	return step(c, name, range, 2, c->in[1], c->in[0], c->out, NULL, err);
}

int ref_remove_labels_with_map_values_out_of_range(const struct op_call *c, struct vb_err *err)
{
	return remove_by_values(c, "exclude_labels_with_map_values_out_of_range", err);
}

int ref_remove_labels_with_map_values_within_range(const struct op_call *c, struct vb_err *err)
{
	return remove_by_values(c, "exclude_labels_with_map_values_within_range", err);
}

/* The ambiguous mask voxels spread through the erosion: a seed is ambiguous when its (2k+1)
 * box holds one (dilate_box of the map, OR-ed back into it). */
static int spread_ambiguity(const struct op_call *c, const double k3[3], struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack map = { .width = in->width, .height = in->height, .depth = in->depth,
			     .dtype = DT_U8, .data = c->ambiguous }, wide = { 0 };
	size_t n = stack_voxels(in);
	int status = alloc_like(in, DT_U8, &wide, err);

	if (!status)
		status = step(c, "dilate_box", k3, 3, &map, NULL, &wide, NULL, err);
	for (size_t i = 0; !status && i < n; i++)
		c->ambiguous[i] |= ((uint8_t *)wide.data)[i];
	stack_free(&wide);
	return status;
}

int ref_eroded_otsu_labeling(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double sigma = op_param(c, "outline_sigma"), k = op_param(c, "number_of_erosions");
	double s3[3] = { sigma, sigma, sigma }, k3[3] = { k, k, k }, threshold = 0;
	struct stack blur = { 0 }, mask = { 0 }, seeds = { 0 };
	int status;

	if ((status = alloc_like(in, DT_F32, &blur, err)) ||
	    (status = alloc_like(in, DT_U8, &mask, err)) ||
	    (status = alloc_like(in, DT_U8, &seeds, err)) ||
	    (status = step(c, "gaussian_blur", s3, 3, in, NULL, &blur, NULL, err)) ||
	    (status = step(c, "threshold_otsu", NULL, 0, &blur, NULL, &mask, &threshold, err)))
		goto out;
	/* voronoi_otsu_labeling's rule: the blur's float error plus the threshold's */
	if (c->ambiguous) {
		ref_mark_near(&blur, threshold, ref_blur_tolerance(&blur, sigma, ref_nthreads(c)) +
			      ref_threshold_tolerance(threshold), c->ambiguous, ref_nthreads(c));
		if ((status = spread_ambiguity(c, k3, err)))
			goto out;
	}
	if ((status = step(c, "erode_box", k3, 3, &mask, NULL, &seeds, NULL, err)))
		goto out;
	status = step(c, "masked_voronoi_labeling", NULL, 0, &seeds, &mask, c->out, NULL, err);
out:
	stack_free(&blur);
	stack_free(&mask);
	stack_free(&seeds);
	return status;
}
