/*
 * reference_cpu/label3.c: label edges and label masks, per-label intensity and size maps,
 * statistics with the background, touch and overlap matrices, label flags, Gauss-Otsu labelling.
 *
 * Per-label maps are statistics_of_labelled_pixels' table (its own reference, called through the
 * op table) gathered back onto the voxels, so a map and the table can never disagree. Matrices
 * are (labels + 1)^2 bytes, built only up to LABEL3_MATRIX_MAX_LABEL (ops/dims_label3.h); their
 * cost beyond the fill is one pass over the voxels.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

#define LABEL_OF(v) ((v) > 0 ? (uint32_t)(v) : 0u)

/* Another op's reference into out, with its parameters (NULL: defaults) and side value. */
static int call_ref(const struct op_call *c, const char *name, const double *params,
		    const struct stack *a, const struct stack *b, struct stack *out, double *side,
		    uint8_t *ambiguous, struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	double unused = 0;
	struct op_call s = { .op = op, .in = { a, b }, .out = out, .threads = c->threads,
			     .side_value = side ? side : &unused, .ambiguous = ambiguous };

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs the op %s", ref_op_name(c), name);
	op_default_params(op, s.p);
	for (int i = 0; params && i < op_param_count(op); i++)
		s.p[i] = params[i];
	return op->ref(&s, err);
}

/* ---- label edges ---- */

/* keep 0: out = 1 where an in-image 6-neighbour differs (u8); keep 1: the label there, else 0. */
static int label_edges(const struct op_call *c, int keep)
{
	const struct stack *s = c->in[0];
	long w = (long)s->width, h = (long)s->height, d = (long)s->depth;
	size_t sy = (size_t)w, sz = (size_t)w * (size_t)h;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) collapse(2)")
		for (long z = 0; z < d; z++)
			for (long y = 0; y < h; y++)
				for (long x = 0; x < w; x++) {
					size_t i = (size_t)z * sz + (size_t)y * sy + (size_t)x;
					T a = v[i];
					int edge = (x > 0 && v[i - 1] != a) || (x + 1 < w && v[i + 1] != a) ||
						   (y > 0 && v[i - sy] != a) || (y + 1 < h && v[i + sy] != a) ||
						   (z > 0 && v[i - sz] != a) || (z + 1 < d && v[i + sz] != a);

					if (keep)
						((uint32_t *)c->out->data)[i] = edge ? LABEL_OF(a) : 0u;
					else
						((uint8_t *)c->out->data)[i] = (uint8_t)edge;
				}
	)
	return VB_OK;
}

int ref_detect_label_edges(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return label_edges(c, 0);
}

int ref_reduce_labels_to_label_edges(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return label_edges(c, 1);
}

/* The label a parameter selects, or UINT32_MAX (no voxel) for a fractional one. */
static uint32_t label_param(double v)
{
	return v >= 0 && v == floor(v) && v <= LABEL_MAX_VALUE ? (uint32_t)v : UINT32_MAX;
}

int ref_mask_label(const struct op_call *c, struct vb_err *err)
{
	const struct stack *img = c->in[0], *lab = c->in[1];
	size_t n = stack_voxels(img);
	uint32_t want = label_param(op_param(c, "label"));
	uint8_t *hit = malloc(n ? n : 1);

	if (!hit)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	STACK_SWITCH_DTYPE(lab->dtype, L,
		const L *l = lab->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			hit[i] = (double)l[i] == (double)want;
	)
	STACK_SWITCH_DTYPE(img->dtype, T,
		const T *v = img->data;
		T *o = c->out->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = hit[i] ? v[i] : (T)0;
	)
	free(hit);
	return VB_OK;
}

/* ---- maps from the statistics table ---- */

/* out(voxel) = column col of the label's row of statistics_of_labelled_pixels(img, labels). */
static int table_map(const struct op_call *c, const struct stack *img, const struct stack *lab,
		     int col, struct vb_err *err)
{
	uint32_t max = geom_max_label(lab);
	size_t n = stack_voxels(lab), rows = max ? max : 1;
	struct stack table = { 0 };
	float *o = c->out->data;
	const float *t;
	int status;

	if (max > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u; relabel first",
			       ref_op_name(c), max, LABEL_MAX_VALUE);
	if ((status = stack_alloc(&table, STATISTICS_COLUMNS, rows, 1, DT_F32, err)) ||
	    (status = call_ref(c, "statistics_of_labelled_pixels", NULL, img, lab, &table, NULL,
			       NULL, err)))
		goto out;
	t = table.data;
	STACK_SWITCH_DTYPE(lab->dtype, L,
		const L *l = lab->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			uint32_t k = LABEL_OF(l[i]);

			o[i] = k ? t[(size_t)(k - 1) * STATISTICS_COLUMNS + (size_t)col] : 0.0f;
		}
	)
out:
	stack_free(&table);
	return status;
}

int ref_pixel_count_map(const struct op_call *c, struct vb_err *err)
{
	return table_map(c, c->in[0], c->in[0], STAT_AREA, err);
}

int ref_mean_intensity_map(const struct op_call *c, struct vb_err *err)
{
	return table_map(c, c->in[0], c->in[1], STAT_MEAN, err);
}

int ref_minimum_intensity_map(const struct op_call *c, struct vb_err *err)
{
	return table_map(c, c->in[0], c->in[1], STAT_MIN, err);
}

int ref_maximum_intensity_map(const struct op_call *c, struct vb_err *err)
{
	return table_map(c, c->in[0], c->in[1], STAT_MAX, err);
}

int ref_standard_deviation_intensity_map(const struct op_call *c, struct vb_err *err)
{
	return table_map(c, c->in[0], c->in[1], STAT_STD, err);
}

/* The table of labels + 1 (the background is label 1 there), its label column put back. */
int ref_statistics_of_background_and_labelled_pixels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *lab = c->in[1];
	size_t n = stack_voxels(lab), rows = c->out->height;
	struct stack shifted = { 0 };
	float *t = c->out->data;
	int status = stack_alloc(&shifted, lab->width, lab->height, lab->depth, DT_U32, err);

	if (status)
		return status;
	STACK_SWITCH_DTYPE(lab->dtype, L,
		const L *l = lab->data;
		uint32_t *o = shifted.data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = LABEL_OF(l[i]) + 1u;
	)
	status = call_ref(c, "statistics_of_labelled_pixels", NULL, c->in[0], &shifted, c->out,
			  NULL, NULL, err);
	for (size_t r = 0; !status && r < rows; r++)
		t[r * STATISTICS_COLUMNS + STAT_LABEL] = (float)r;
	stack_free(&shifted);
	return status;
}

/* ---- matrices and flags ---- */

static void mark(uint8_t *m, size_t k)
{
	uint8_t seen;

#pragma omp atomic read
	seen = m[k];
	if (!seen) {
#pragma omp atomic write
		m[k] = 1u;
	}
}

/* m ((max + 1)^2 bytes, zeroed here): 1 at (a, b) and (b, a) for 6-neighbour labels a != b. */
static int touch_matrix(const struct op_call *c, const struct stack *s, uint8_t *m, uint32_t max,
			struct vb_err *err)
{
	long w = (long)s->width, h = (long)s->height, d = (long)s->depth;
	size_t sy = (size_t)w, sz = (size_t)w * (size_t)h, n1 = (size_t)max + 1;
	int status = label3_matrix_check(ref_op_name(c), max, err);

	if (status)
		return status;
	memset(m, 0, n1 * n1);
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) collapse(2)")
		for (long z = 0; z < d; z++)
			for (long y = 0; y < h; y++)
				for (long x = 0; x < w; x++) {
					size_t i = (size_t)z * sz + (size_t)y * sy + (size_t)x;
					size_t step[3] = { 1, sy, sz };
					int inside[3] = { x + 1 < w, y + 1 < h, z + 1 < d };
					uint32_t a = LABEL_OF(v[i]);

					for (int k = 0; k < 3; k++) {
						uint32_t b;

						if (!inside[k] || (b = LABEL_OF(v[i + step[k]])) == a)
							continue;
						mark(m, (size_t)a * n1 + b);
						mark(m, (size_t)b * n1 + a);
					}
				}
	)
	return VB_OK;
}

int ref_generate_touch_matrix(const struct op_call *c, struct vb_err *err)
{
	return touch_matrix(c, c->in[0], c->out->data, (uint32_t)(c->out->width - 1), err);
}

/* count[a] = labels touching a (from label skip_bg on; the background's 0 with skip_bg). */
static int touch_counts(const struct op_call *c, uint32_t max, int skip_bg, uint32_t *count,
			struct vb_err *err)
{
	size_t n1 = (size_t)max + 1;
	uint8_t *m;
	int status = label3_matrix_check(ref_op_name(c), max, err);

	if (status)
		return status;
	if (!(m = malloc(n1 * n1)))
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for a %zu x %zu matrix",
			       ref_op_name(c), n1, n1);
	if (!(status = touch_matrix(c, c->in[0], m, max, err))) {
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (size_t a = 0; a < n1; a++) {
			uint32_t k = 0;

			for (size_t b = (size_t)skip_bg; b < n1; b++)
				k += m[a * n1 + b];
			count[a] = skip_bg && a == 0 ? 0u : k;
		}
	}
	free(m);
	return status;
}

int ref_count_touching_neighbors(const struct op_call *c, struct vb_err *err)
{
	return touch_counts(c, (uint32_t)(c->out->width - 1),
			    op_param(c, "ignore_background") != 0, c->out->data, err);
}

int ref_touching_neighbor_count_map(const struct op_call *c, struct vb_err *err)
{
	const struct stack *lab = c->in[0];
	uint32_t max = geom_max_label(lab), *count;
	size_t n = stack_voxels(lab);
	float *o = c->out->data;
	int status;

	if (!(count = calloc((size_t)max + 1, sizeof(*count))))
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	if (!(status = touch_counts(c, max, 1, count, err))) {
		STACK_SWITCH_DTYPE(lab->dtype, L,
			const L *l = lab->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
			for (size_t i = 0; i < n; i++) {
				uint32_t k = LABEL_OF(l[i]);

				o[i] = k ? (float)count[k] : 0.0f;
			}
		)
	}
	free(count);
	return status;
}

/* out (n1a wide, n1b high) = 1 at (a, b) where label a of in 0 and b of in 1 share a voxel. */
int ref_generate_binary_overlap_matrix(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	size_t n = stack_voxels(a), n1a = c->out->width;
	uint8_t *m = c->out->data;
	uint32_t *first = malloc((n ? n : 1) * sizeof(*first));

	if (!first)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	if (!ref_same_dims(a, b)) {
		free(first);
		return vb_errf(err, VB_E_ARGS, "%s: the label images differ in size", ref_op_name(c));
	}
	memset(m, 0, stack_voxels(c->out));
	STACK_SWITCH_DTYPE(a->dtype, T,
		const T *v = a->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			first[i] = LABEL_OF(v[i]);
	)
	STACK_SWITCH_DTYPE(b->dtype, T,
		const T *v = b->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			mark(m, (size_t)LABEL_OF(v[i]) * n1a + first[i]);
	)
	free(first);
	return VB_OK;
}

int ref_flag_existing_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);
	uint8_t *f = c->out->data;

	(void)err;
	memset(f, 0, stack_voxels(c->out));
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			mark(f, LABEL_OF(v[i]));
	)
	return VB_OK;
}

/* ---- Gauss-Otsu labelling ---- */

/* The GPU's float Gaussian may differ from the reference's by about its taps' rounding of the
 * largest magnitude (three separable passes): decisions within this of the threshold are
 * ambiguous. */
static double blur_error(const struct stack *blur, double sigma)
{
	size_t n = stack_voxels(blur);
	const float *v = blur->data;
	double big = 0, taps = 2.0 * ceil(4.0 * sigma) + 1.0;

	for (size_t i = 0; i < n; i++)
		big = fmax(big, fabs((double)v[i]));
	return 3.0 * taps * FLT_EPSILON * fmax(big, FLT_MIN);
}

/* connected_components_labeling_box of threshold_otsu of gaussian_blur(outline_sigma). */
int ref_gauss_otsu_labeling(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double sigma = op_param(c, "outline_sigma"), s3[3] = { sigma, sigma, sigma }, threshold = 0;
	struct stack blur = { 0 }, mask = { 0 };
	int status;

	if ((status = stack_alloc(&blur, in->width, in->height, in->depth, DT_F32, err)) ||
	    (status = stack_alloc(&mask, in->width, in->height, in->depth, DT_U8, err)) ||
	    (status = call_ref(c, "gaussian_blur", s3, in, NULL, &blur, NULL, NULL, err)) ||
	    (status = call_ref(c, "threshold_otsu", NULL, &blur, NULL, &mask, &threshold, NULL,
			       err)))
		goto out;
	if (c->ambiguous)
		ref_mark_near(&blur, threshold, blur_error(&blur, sigma) +
			      ref_threshold_tolerance(threshold), c->ambiguous, ref_nthreads(c));
	status = call_ref(c, "connected_components_labeling_box", NULL, &mask, NULL, c->out, NULL,
			  NULL, err);
out:
	stack_free(&blur);
	stack_free(&mask);
	return status;
}

/* ---- combine, select by map values, merge touching labels: then relabel_sequential ---- */

/* relabel_sequential of the u32 labels in tmp into c->out; frees tmp. */
static int relabel_from(const struct op_call *c, struct stack *tmp, struct vb_err *err)
{
	int status = call_ref(c, "relabel_sequential", NULL, tmp, NULL, c->out, NULL, NULL, err);

	stack_free(tmp);
	return status;
}

static int u32_like(const struct stack *s, struct stack *out, struct vb_err *err)
{
	return stack_alloc(out, s->width, s->height, s->depth, DT_U32, err);
}

int ref_combine_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	size_t n = stack_voxels(a);
	uint32_t offset = geom_max_label(a), top = geom_max_label(b), *first;
	struct stack tmp = { 0 };
	int status;

	if (!ref_same_dims(a, b))
		return vb_errf(err, VB_E_ARGS, "%s: the label images differ in size", ref_op_name(c));
	if ((uint64_t)offset + top > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: labels %u + %u exceed %u; relabel first",
			       ref_op_name(c), offset, top, LABEL_MAX_VALUE);
	if ((status = u32_like(a, &tmp, err)))
		return status;
	first = tmp.data;
	STACK_SWITCH_DTYPE(a->dtype, T,
		const T *v = a->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			first[i] = LABEL_OF(v[i]);
	)
	STACK_SWITCH_DTYPE(b->dtype, T,
		const T *v = b->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			if (LABEL_OF(v[i]))
				first[i] = LABEL_OF(v[i]) + offset;
	)
	return relabel_from(c, &tmp, err);
}

/* Keep label l when its value (voxel l of values, NaN past the end) lies in [lo, hi] (within 0)
 * or outside it (within 1), then renumber. */
static int select_by_value(const struct op_call *c, int within, struct vb_err *err)
{
	const struct stack *values = c->in[0], *lab = c->in[1];
	size_t n = stack_voxels(lab), nv = stack_voxels(values);
	float lo = (float)op_param(c, "minimum_value_range");
	float hi = (float)op_param(c, "maximum_value_range");
	struct stack tmp = { 0 };
	uint32_t *o;
	int status;

	if (!ref_same_dims(values, lab))
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	if ((status = u32_like(lab, &tmp, err)))
		return status;
	o = tmp.data;
	STACK_SWITCH_DTYPE(values->dtype, V,
		const V *val = values->data;
		STACK_SWITCH_DTYPE(lab->dtype, L,
			const L *l = lab->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
			for (size_t i = 0; i < n; i++) {
				uint32_t k = LABEL_OF(l[i]);
				float v = k < nv ? (float)val[k] : NAN;
				int inside = v >= lo && v <= hi;

				o[i] = k && (within ? !inside : inside) ? k : 0u;
			}
		)
	)
	return relabel_from(c, &tmp, err);
}

int ref_exclude_labels_with_map_values_out_of_range(const struct op_call *c, struct vb_err *err)
{
	return select_by_value(c, 0, err);
}

int ref_exclude_labels_with_map_values_within_range(const struct op_call *c, struct vb_err *err)
{
	return select_by_value(c, 1, err);
}

static uint32_t find_root(uint32_t *parent, uint32_t a)
{
	while (parent[a] != a)
		a = parent[a] = parent[parent[a]];
	return a;
}

/* Labels that are 6-neighbours join one group (union-find over labels, the smallest label the
 * root); each label becomes its group's root, then relabel_sequential. Threads collect the
 * touching pairs of their planes (only boundary voxels yield one); one thread unites them. */
int ref_merge_touching_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	long w = (long)s->width, h = (long)s->height, d = (long)s->depth;
	size_t n = stack_voxels(s), sy = (size_t)w, sz = (size_t)w * (size_t)h;
	uint32_t max = geom_max_label(s), *parent, *o;
	struct stack tmp = { 0 };
	int status = VB_OK, failed = 0;

	if (max > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u", ref_op_name(c), max,
			       LABEL_MAX_VALUE);
	if (!(parent = malloc(((size_t)max + 1) * sizeof(*parent))))
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	for (uint32_t l = 0; l <= max; l++)
		parent[l] = l;
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel num_threads(ref_nthreads(c))")
		{
			size_t cap = 0, used = 0;
			uint32_t *pairs = NULL;

			_Pragma("omp for schedule(static) collapse(2)")
			for (long z = 0; z < d; z++)
				for (long y = 0; y < h; y++)
					for (long x = 0; x < w; x++) {
						size_t i = (size_t)z * sz + (size_t)y * sy + (size_t)x;
						size_t step[3] = { 1, sy, sz };
						int inside[3] = { x + 1 < w, y + 1 < h, z + 1 < d };
						uint32_t a = LABEL_OF(v[i]), b;

						for (int k = 0; a && k < 3; k++) {
							if (!inside[k] || !(b = LABEL_OF(v[i + step[k]])) || b == a)
								continue;
							if (used && pairs[used - 2] == a && pairs[used - 1] == b)
								continue; /* the same pair again along a boundary */
							if (used + 2 > cap) {
								uint32_t *grown = realloc(pairs, (cap = cap ? 2 * cap : 1024) * sizeof(*pairs));

								if (!grown) {
									_Pragma("omp atomic write")
									failed = 1;
									continue;
								}
								pairs = grown;
							}
							pairs[used++] = a;
							pairs[used++] = b;
						}
					}
			_Pragma("omp critical")
			for (size_t k = 0; k < used; k += 2) {
				uint32_t ra = find_root(parent, pairs[k]), rb = find_root(parent, pairs[k + 1]);

				if (ra < rb)
					parent[rb] = ra;
				else if (rb < ra)
					parent[ra] = rb;
			}
			free(pairs);
		}
	)
	if (failed) {
		free(parent);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory collecting touching labels",
			       ref_op_name(c));
	}
	for (uint32_t l = 0; l <= max; l++)
		parent[l] = find_root(parent, l);
	if ((status = u32_like(s, &tmp, err))) {
		free(parent);
		return status;
	}
	o = tmp.data;
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = parent[LABEL_OF(v[i])];
	)
	free(parent);
	return relabel_from(c, &tmp, err);
}

/* ---- extension of labels around their centroids ---- */

/* Add a run's distance sum (fixed point: integer additions, so any order gives the same sum)
 * and maximum to label l's (threads meet on a label only at runs). */
static void extension_flush(int64_t *sum, float *mx, uint32_t l, int64_t s, float m)
{
	if (!l)
		return;
	_Pragma("omp atomic update")
	sum[l - 1] += s;
	for (;;) { /* maximum by compare-and-swap on the float (distances are not NaN) */
		float seen;

		_Pragma("omp atomic read")
		seen = mx[l - 1];
		if (m <= seen || __atomic_compare_exchange(&mx[l - 1], &seen, &m, 0,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
}

/* what 0: mean distance of a label's voxels to its centroid (float, as the kernel computes
 * each distance); 1: the maximum; 2: maximum / mean. */
static int extension_map(const struct op_call *c, int what, struct vb_err *err)
{
	const struct stack *lab = c->in[0];
	long w = (long)lab->width, h = (long)lab->height, d = (long)lab->depth;
	uint32_t max = geom_max_label(lab);
	size_t n = stack_voxels(lab), rows = max ? max : 1;
	struct stack table = { 0 };
	int64_t *sum = calloc(rows, sizeof(*sum));
	float *mx = calloc(rows, sizeof(*mx)), *o = c->out->data, scale = label3_extension_scale(lab);
	const float *t;
	int status;

	if (!sum || !mx) {
		status = vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
		goto out;
	}
	if ((status = stack_alloc(&table, STATISTICS_COLUMNS, rows, 1, DT_F32, err)) ||
	    (status = call_ref(c, "statistics_of_labelled_pixels", NULL, lab, lab, &table, NULL,
			       NULL, err)))
		goto out;
	t = table.data;
	STACK_SWITCH_DTYPE(lab->dtype, L,
		const L *v = lab->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) collapse(2)")
		for (long z = 0; z < d; z++)
			for (long y = 0; y < h; y++) {
				const L *row = v + ((size_t)z * (size_t)h + (size_t)y) * (size_t)w;
				uint32_t l = 0;
				int64_t s = 0;
				float m = 0;

				for (long x = 0; x < w; x++) {
					uint32_t k = LABEL_OF(row[x]);
					const float *tr;
					float dx, dy, dz, dist;

					if (k != l) {
						extension_flush(sum, mx, l, s, m);
						l = k;
						s = 0;
						m = 0;
					}
					if (!k)
						continue;
					tr = t + (size_t)(k - 1) * STATISTICS_COLUMNS;
					dx = (float)x - tr[STAT_CENTROID_X];
					dy = (float)y - tr[STAT_CENTROID_Y];
					dz = (float)z - tr[STAT_CENTROID_Z];
					dist = sqrtf(dx * dx + dy * dy + dz * dz);
					s += (int64_t)rintf(dist * scale);
					m = dist > m ? dist : m;
				}
				extension_flush(sum, mx, l, s, m);
			}
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			uint32_t k = LABEL_OF(v[i]);
			float mean;

			if (!k) {
				o[i] = 0.0f;
				continue;
			}
			mean = (float)((double)sum[k - 1] / scale /
				       t[(size_t)(k - 1) * STATISTICS_COLUMNS + STAT_AREA]);
			o[i] = what == 0 ? mean : what == 1 ? mx[k - 1] : mx[k - 1] / mean;
		}
	)
out:
	stack_free(&table);
	free(sum);
	free(mx);
	return status;
}

int ref_mean_extension_map(const struct op_call *c, struct vb_err *err)
{
	return extension_map(c, 0, err);
}

int ref_maximum_extension_map(const struct op_call *c, struct vb_err *err)
{
	return extension_map(c, 1, err);
}

int ref_extension_ratio_map(const struct op_call *c, struct vb_err *err)
{
	return extension_map(c, 2, err);
}

/* ---- spots to a point list ---- */

/* Column k of the list (rows x, y[, z]) = the position of the k-th non-zero voxel in raster
 * order; no spot at all: one column of NaN. Threads count their share, then write at its offset. */
int ref_spots_to_pointlist(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s), w = s->width, h = s->height, count = c->out->width;
	int rows = (int)c->out->height, threads = ref_nthreads(c);
	float *o = c->out->data;
	size_t *start = calloc((size_t)threads + 1, sizeof(*start));

	if (!start)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	for (size_t k = 0; k < count * (size_t)rows; k++)
		o[k] = NAN;
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel num_threads(threads)")
		{
			int t = REF_THREAD_NUM(), nt = REF_NUM_THREADS();
			size_t lo = n * (size_t)t / (size_t)nt, hi = n * (size_t)(t + 1) / (size_t)nt;
			size_t mine = 0, at;

			for (size_t i = lo; i < hi; i++)
				mine += v[i] != 0;
			start[t + 1] = mine;
			_Pragma("omp barrier")
			_Pragma("omp single")
			for (int k = 1; k <= nt; k++)
				start[k] += start[k - 1];
			at = start[t];
			for (size_t i = lo; i < hi; i++) {
				if (v[i] == 0 || at >= count)
					continue;
				o[at] = (float)(i % w);
				o[count + at] = (float)(i / w % h);
				if (rows > 2)
					o[2 * count + at] = (float)(i / (w * h));
				at++;
			}
		}
	)
	free(start);
	return VB_OK;
}

/* ---- aggregates over touching neighbours ---- */

/* agg (0 mean, 1 minimum, 2 maximum) over label a and the labels touching it of each label's
 * value (the mean of in 0 over it; the background's 0, counted with !ignore_background), in
 * label order and float as the kernel; gathered onto the labels (in 1). */
static int neighbor_map(const struct op_call *c, int agg, struct vb_err *err)
{
	const struct stack *lab = c->in[1];
	uint32_t max = geom_max_label(lab);
	size_t n = stack_voxels(lab), n1 = (size_t)max + 1, rows = max ? max : 1;
	int skip_bg = op_param(c, "ignore_background") != 0;
	struct stack table = { 0 };
	uint8_t *m = NULL;
	float *values = NULL, *o = c->out->data;
	const float *t;
	int status;

	if (!ref_same_dims(c->in[0], lab))
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	if ((status = label3_matrix_check(ref_op_name(c), max, err)))
		return status;
	if (!(m = malloc(n1 * n1)) || !(values = malloc(n1 * sizeof(*values)))) {
		status = vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
		goto out;
	}
	if ((status = stack_alloc(&table, STATISTICS_COLUMNS, rows, 1, DT_F32, err)) ||
	    (status = call_ref(c, "statistics_of_labelled_pixels", NULL, c->in[0], lab, &table,
			       NULL, NULL, err)) ||
	    (status = touch_matrix(c, lab, m, max, err)))
		goto out;
	t = table.data;
	values[0] = 0.0f;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(dynamic, 64)
	for (size_t a = 1; a < n1; a++) {
		float acc = agg == 1 ? INFINITY : agg == 2 ? -INFINITY : 0.0f;
		int count = 0;

		for (size_t b = (size_t)skip_bg; b < n1; b++) {
			float v;

			if (b != a && !m[a * n1 + b])
				continue;
			v = b ? t[(b - 1) * STATISTICS_COLUMNS + STAT_MEAN] : 0.0f;
			acc = agg == 1 ? fminf(acc, v) : agg == 2 ? fmaxf(acc, v) : acc + v;
			count++;
		}
		values[a] = agg == 0 ? acc / (float)count : acc;
	}
	STACK_SWITCH_DTYPE(lab->dtype, L,
		const L *l = lab->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = LABEL_OF(l[i]) ? values[LABEL_OF(l[i])] : 0.0f;
	)
out:
	stack_free(&table);
	free(m);
	free(values);
	return status;
}

int ref_mean_of_touching_neighbors_map(const struct op_call *c, struct vb_err *err)
{
	return neighbor_map(c, 0, err);
}

int ref_minimum_of_touching_neighbors_map(const struct op_call *c, struct vb_err *err)
{
	return neighbor_map(c, 1, err);
}

int ref_maximum_of_touching_neighbors_map(const struct op_call *c, struct vb_err *err)
{
	return neighbor_map(c, 2, err);
}

/* Column l - 1 (rows x, y[, z]) = the position of label l's last voxel in raster order; NaN for
 * a label without voxels. Threads scan their shares from the end; the last share that holds a
 * label decides. */
int ref_labelled_spots_to_pointlist(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s), w = s->width, h = s->height, count = c->out->width;
	int rows = (int)c->out->height;
	uint64_t *last = calloc(count, sizeof(*last)); /* index + 1; 0: none */
	float *o = c->out->data;

	if (!last)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			uint32_t l = LABEL_OF(v[i]);
			uint64_t seen, mine = (uint64_t)i + 1;

			if (!l || l > count || (i + 1 < n && LABEL_OF(v[i + 1]) == l))
				continue; /* only the end of a run can be a label's last voxel */
			for (;;) {
				_Pragma("omp atomic read")
				seen = last[l - 1];
				if (seen >= mine || __atomic_compare_exchange(&last[l - 1], &seen, &mine, 0,
									       __ATOMIC_RELAXED,
									       __ATOMIC_RELAXED))
					break;
			}
		}
	)
	for (size_t k = 0; k < count; k++) {
		size_t i = (size_t)last[k] - 1;

		o[k] = last[k] ? (float)(i % w) : NAN;
		o[count + k] = last[k] ? (float)(i / w % h) : NAN;
		if (rows > 2)
			o[2 * count + k] = last[k] ? (float)(i / (w * h)) : NAN;
	}
	free(last);
	return VB_OK;
}

/* ---- remove flagged labels; per-label values of a map ---- */

/* Labels (in 0) whose flag (voxel l of in 1, a vector indexed by label) is non-zero removed, the
 * rest renumbered; labels past the vector's end stay. */
int ref_exclude_labels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *lab = c->in[0], *flags = c->in[1];
	size_t n = stack_voxels(lab), nf = stack_voxels(flags);
	struct stack tmp = { 0 };
	uint32_t *o;
	int status;

	if (!ref_same_dims(lab, flags))
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	if ((status = u32_like(lab, &tmp, err)))
		return status;
	o = tmp.data;
	STACK_SWITCH_DTYPE(flags->dtype, F,
		const F *f = flags->data;
		STACK_SWITCH_DTYPE(lab->dtype, L,
			const L *l = lab->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
			for (size_t i = 0; i < n; i++) {
				uint32_t k = LABEL_OF(l[i]);

				o[i] = k && !(k < nf && f[k] != 0) ? k : 0u;
			}
		)
	)
	return relabel_from(c, &tmp, err);
}

/* out[l] = the mean of the map (in 0) over label l of in 1 (NaN for a label without voxels);
 * out[0] = 0, the background having no value. */
int ref_read_map_values(const struct op_call *c, struct vb_err *err)
{
	size_t n1 = c->out->width, rows = n1 > 1 ? n1 - 1 : 1;
	struct stack table = { 0 };
	float *o = c->out->data;
	int status;

	if (!ref_same_dims(c->in[0], c->in[1]))
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	if ((status = stack_alloc(&table, STATISTICS_COLUMNS, rows, 1, DT_F32, err)) ||
	    (status = call_ref(c, "statistics_of_labelled_pixels", NULL, c->in[0], c->in[1], &table,
			       NULL, NULL, err)))
		goto out;
	o[0] = 0.0f;
	for (size_t l = 1; l < n1; l++)
		o[l] = ((const float *)table.data)[(l - 1) * STATISTICS_COLUMNS + STAT_MEAN];
out:
	stack_free(&table);
	return status;
}
