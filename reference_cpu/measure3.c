/*
 * reference_cpu/measure3.c: measurements that end in a few numbers: Jaccard and Sorensen-Dice
 * indices of two binaries, the minimum of masked pixels, bounding boxes, extremum positions.
 * Counts are exact integers, minima and positions are comparisons, so the GPU must agree
 * exactly (the indices up to the float division's rounding).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

/* Voxels non-zero in both images (inter) and in either (either). */
static void pair_counts(const struct op_call *c, uint64_t *inter, uint64_t *either)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	size_t n = stack_voxels(a);
	uint8_t *fa = malloc(n ? n : 1);
	uint64_t both = 0, any = 0;

	if (fa) {
		STACK_SWITCH_DTYPE(a->dtype, T,
			const T *v = a->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
			for (size_t i = 0; i < n; i++)
				fa[i] = v[i] != 0;
		)
		STACK_SWITCH_DTYPE(b->dtype, T,
			const T *v = b->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) reduction(+ : both, any)")
			for (size_t i = 0; i < n; i++) {
				unsigned x = fa[i], y = v[i] != 0;

				both += x & y;
				any += x | y;
			}
		)
	}
	free(fa);
	*inter = both;
	*either = any;
}

static int overlap_index(const struct op_call *c, int dice, struct vb_err *err)
{
	uint64_t inter, either;
	float *out = c->out->data;

	if (!ref_same_dims(c->in[0], c->in[1]))
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	pair_counts(c, &inter, &either);
	if (either == 0)
		out[0] = NAN;
	else if (dice)
		out[0] = (float)(2 * inter) / (float)(inter + either);
	else
		out[0] = (float)inter / (float)either;
	return VB_OK;
}

int ref_jaccard_index(const struct op_call *c, struct vb_err *err)
{
	return overlap_index(c, 0, err);
}

int ref_sorensen_dice(const struct op_call *c, struct vb_err *err)
{
	return overlap_index(c, 1, err);
}

int ref_minimum_of_masked_pixels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	size_t n = stack_voxels(a);
	uint8_t *mask = malloc(n ? n : 1);
	float m = FLT_MAX;

	if (!mask)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	if (!ref_same_dims(a, b)) {
		free(mask);
		return vb_errf(err, VB_E_ARGS, "%s: the two images differ in size", ref_op_name(c));
	}
	STACK_SWITCH_DTYPE(b->dtype, T,
		const T *v = b->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			mask[i] = v[i] != 0;
	)
	STACK_SWITCH_DTYPE(a->dtype, T,
		const T *v = a->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) reduction(min : m)")
		for (size_t i = 0; i < n; i++)
			if (mask[i] && (float)v[i] < m)
				m = (float)v[i];
	)
	free(mask);
	((float *)c->out->data)[0] = m;
	return VB_OK;
}

/* min x, y, z, max x, y, z of the voxels selected (non-zero, or equal to label); NaN if none. */
static int bounding_box(const struct op_call *c, int by_label, double label)
{
	const struct stack *s = c->in[0];
	long w = (long)s->width, h = (long)s->height, d = (long)s->depth;
	long lo[3] = { LONG_MAX, LONG_MAX, LONG_MAX }, hi[3] = { -1, -1, -1 };
	float *out = c->out->data;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		long x0 = LONG_MAX, y0 = LONG_MAX, z0 = LONG_MAX, x1 = -1, y1 = -1, z1 = -1;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) collapse(2) reduction(min : x0, y0, z0) reduction(max : x1, y1, z1)")
		for (long z = 0; z < d; z++)
			for (long y = 0; y < h; y++) {
				const T *row = v + ((size_t)z * (size_t)h + (size_t)y) * (size_t)w;

				for (long x = 0; x < w; x++) {
					int hit = by_label ? (double)row[x] == label : row[x] != 0;

					if (!hit)
						continue;
					x0 = x < x0 ? x : x0;
					x1 = x > x1 ? x : x1;
					y0 = y < y0 ? y : y0;
					y1 = y > y1 ? y : y1;
					z0 = z < z0 ? z : z0;
					z1 = z > z1 ? z : z1;
				}
			}
		lo[0] = x0, lo[1] = y0, lo[2] = z0, hi[0] = x1, hi[1] = y1, hi[2] = z1;
	)
	for (int k = 0; k < 3; k++) {
		out[k] = hi[0] < 0 ? NAN : (float)lo[k];
		out[3 + k] = hi[0] < 0 ? NAN : (float)hi[k];
	}
	return VB_OK;
}

int ref_bounding_box(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return bounding_box(c, 0, 0);
}

int ref_label_bounding_box(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return bounding_box(c, 1, op_param(c, "label_id"));
}

/* x, y, z of the first voxel (raster order) holding the extremum as float; NaN voxels never
 * count (all NaN: NaN). Each thread takes the first extremum of its contiguous share. */
static int extremum_position(const struct op_call *c, int find_min)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s), w = s->width, h = s->height, where = SIZE_MAX;
	int threads = ref_nthreads(c);
	float best = 0, *out = c->out->data;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel num_threads(threads)")
		{
			int t = REF_THREAD_NUM(), nt = REF_NUM_THREADS();
			size_t lo = n * (size_t)t / (size_t)nt, hi = n * (size_t)(t + 1) / (size_t)nt;
			size_t at = SIZE_MAX;
			float m = 0;

			for (size_t i = lo; i < hi; i++) {
				float x = (float)v[i];

				if (x == x && (at == SIZE_MAX || (find_min ? x < m : x > m))) {
					m = x;
					at = i;
				}
			}
			_Pragma("omp critical")
			if (at != SIZE_MAX && (where == SIZE_MAX || (find_min ? m < best : m > best) ||
					       (m == best && at < where))) {
				best = m;
				where = at;
			}
		}
	)
	if (where == SIZE_MAX) {
		out[0] = out[1] = out[2] = NAN;
		return VB_OK;
	}
	out[0] = (float)(where % w);
	out[1] = (float)(where / w % h);
	out[2] = (float)(where / (w * h));
	return VB_OK;
}

int ref_maximum_position(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return extremum_position(c, 0);
}

int ref_minimum_position(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return extremum_position(c, 1);
}
