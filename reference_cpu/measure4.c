/*
 * reference_cpu/measure4.c: histogram thresholds (Yen, isodata, triangle, Li), the product and
 * the variance of all voxels, and binary_fill_holes.
 *
 * The thresholds share threshold_otsu's histogram and mask (ref_threshold_histogram); each
 * method picks its threshold in double with the operations, in the order, of
 * kernels/measure4.cl, so both sides pick the same bin.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

#define BINS 256

static double centre(double lo, double hi, int k)
{
	return lo + ((double)k + 0.5) * (hi - lo) / (double)BINS;
}

/* skimage's threshold_yen: argmax over k < 255 of (P1 (1 - P1))^2 / (P1sq(k) P2sq(k + 1)). */
static double yen_pick(const uint64_t hist[BINS], double lo, double hi)
{
	double total = 0, p1 = 0, p1sq = 0, p2sq[BINS], best = -1;
	int best_k = 0;

	for (int k = 0; k < BINS; k++)
		total += (double)hist[k];
	p2sq[BINS - 1] = ((double)hist[BINS - 1] / total) * ((double)hist[BINS - 1] / total);
	for (int k = BINS - 2; k >= 0; k--)
		p2sq[k] = p2sq[k + 1] + ((double)hist[k] / total) * ((double)hist[k] / total);
	for (int k = 0; k < BINS - 1; k++) {
		double pk = (double)hist[k] / total, a, b;

		p1 += pk;
		p1sq += pk * pk;
		a = p1sq * p2sq[k + 1];
		b = p1 * (1.0 - p1);
		if (a > 0 && b > 0 && b * b / a > best) {
			best = b * b / a;
			best_k = k;
		}
	}
	return centre(lo, hi, best_k);
}

/* skimage's threshold_isodata: the first centre c_k (k < 255) with 0 <= d_k = (mean of bins <= k
 * + mean of bins > k) / 2 - c_k < the bin width w. In exact arithmetic one exists (d_0 >= 0,
 * d_254 < w / 2, and d falls by at most w a bin); c_0 should rounding skip it. */
static double isodata_pick(const uint64_t hist[BINS], double lo, double hi)
{
	double total = 0, sum = 0, below = 0, below_sum = 0;
	double width = centre(lo, hi, 1) - centre(lo, hi, 0);

	for (int k = 0; k < BINS; k++) {
		total += (double)hist[k];
		sum += (double)hist[k] * centre(lo, hi, k);
	}
	for (int k = 0; k < BINS - 1; k++) {
		double mean, d;

		below += (double)hist[k];
		below_sum += (double)hist[k] * centre(lo, hi, k);
		mean = (below_sum / below + (sum - below_sum) / (total - below)) / 2.0;
		d = mean - centre(lo, hi, k);
		if (d >= 0 && d < width)
			return centre(lo, hi, k);
	}
	return centre(lo, hi, 0);
}

/* skimage's threshold_triangle: the bin of the longer tail farthest below the line from the
 * peak (first maximum) to the tail's end bin (bins 0 and 255 are never empty). */
static double triangle_pick(const uint64_t hist[BINS], double lo, double hi)
{
	int peak = 0, flip, width, pick = 0;
	double height, norm, hn, wn, best = 0;

	for (int k = 1; k < BINS; k++)
		if (hist[k] > hist[peak])
			peak = k;
	flip = peak < BINS - 1 - peak;
	width = flip ? BINS - 1 - peak : peak;
	height = (double)hist[peak];
	norm = sqrt(height * height + (double)width * (double)width);
	hn = height / norm;
	wn = (double)width / norm;
	for (int x = 0; x < width; x++) {
		int bin = flip ? BINS - 1 - x : x;
		double len = hn * (double)x - wn * (double)hist[bin];

		if (x == 0 || len > best) {
			best = len;
			pick = bin;
		}
	}
	return centre(lo, hi, pick);
}

/* skimage's threshold_li on the occupied bin centres weighted by their counts (x = c_k - c_0):
 * from the mean, t = (mb - mf) / (ln mb - ln mf) until it moves by at most half the smallest
 * gap between occupied centres; at most 1000 iterations. */
static double li_pick(const uint64_t hist[BINS], double lo, double hi)
{
	double c0 = centre(lo, hi, 0), total = 0, sum = 0, tol = -1, last = 0, t_next, t_curr;

	for (int k = 0; k < BINS; k++) {
		double x = centre(lo, hi, k) - c0;

		if (hist[k] == 0)
			continue;
		total += (double)hist[k];
		sum += (double)hist[k] * x;
		if (k > 0 && (tol < 0 || (x - last) / 2.0 < tol))
			tol = (x - last) / 2.0;
		last = x;
	}
	t_next = sum / total;
	t_curr = -2.0 * tol;
	for (int it = 0; it < 1000 && fabs(t_next - t_curr) > tol; it++) {
		double nf = 0, sf = 0, nb = 0, sb = 0, mf, mb;

		t_curr = t_next;
		for (int k = 0; k < BINS; k++) {
			double x = centre(lo, hi, k) - c0;

			if (x > t_curr) {
				nf += (double)hist[k];
				sf += (double)hist[k] * x;
			} else {
				nb += (double)hist[k];
				sb += (double)hist[k] * x;
			}
		}
		mf = sf / nf;
		mb = sb / nb;
		t_next = (mb - mf) / (log(mb) - log(mf));
	}
	return t_next + c0;
}

int ref_threshold_yen(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return ref_threshold_histogram(c, yen_pick);
}

int ref_threshold_isodata(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return ref_threshold_histogram(c, isodata_pick);
}

int ref_threshold_triangle(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return ref_threshold_histogram(c, triangle_pick);
}

int ref_threshold_li(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return ref_threshold_histogram(c, li_pick);
}

/* *m x 2^*e *= v, renormalised (|*m| in [0.5, 1)): no overflow or underflow in any order. */
static inline void product_step(double *m, long long *e, double v)
{
	int k;

	*m = frexp(*m * v, &k);
	*e += k;
}

/* The product of every voxel as the kernel forms it (mantissa and exponent), rounded to f32:
 * inf beyond its range, 0 below, NaN with a NaN voxel (or inf times 0). */
int ref_product_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);
	double m = 1;
	long long e = 0;

	(void)err;
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel num_threads(ref_nthreads(c))")
		{
			double own = 1;
			long long own_e = 0;

			_Pragma("omp for schedule(static) nowait")
			for (size_t i = 0; i < n; i++)
				product_step(&own, &own_e, (double)v[i]);
			_Pragma("omp critical(m4_product)")
			{
				product_step(&m, &e, own);
				e += own_e;
			}
		}
	)
	e = e > 200 ? 200 : e < -200 ? -200 : e;
	((float *)c->out->data)[0] = (float)ldexp(m, (int)e);
	return VB_OK;
}

/* sum (v - mean)^2 / (n - ddof) in double, two passes (0 where n <= ddof). */
int ref_variance_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);
	double mean = n ? ref_sum(s, ref_nthreads(c)) / (double)n : 0, sq = 0;
	double dof = (double)n - op_param(c, "ddof");

	(void)err;
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static) reduction(+ : sq)")
		for (size_t i = 0; i < n; i++) {
			double d = (double)v[i] - mean;

			sq += d * d;
		}
	)
	((float *)c->out->data)[0] = dof > 0 ? (float)(sq / dof) : 0.0f;
	return VB_OK;
}

/*
 * binary_fill_holes: the background (zero voxels) 6-connected to the outside stays 0, the rest
 * becomes 1 (scipy.ndimage.binary_fill_holes' default structure). A breadth-first flood from
 * every background voxel on a face (the z faces too: a single plane has no holes, as scipy).
 */
int ref_binary_fill_holes(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t w = s->width, h = s->height, d = s->depth, n = stack_voxels(s), head = 0, tail = 0;
	uint8_t *out = c->out->data; /* 0: background not reached yet, 1: object, 2: reached */
	size_t *queue = malloc((n ? n : 1) * sizeof(*queue));

	if (!queue)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %zu voxels", ref_op_name(c),
			       n);
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		for (size_t i = 0; i < n; i++)
			out[i] = v[i] != 0;
	)
	for (size_t i = 0; i < n; i++) {
		size_t x = i % w, y = i / w % h, z = i / (w * h);

		if (!out[i] && (x == 0 || y == 0 || z == 0 || x == w - 1 || y == h - 1 ||
				z == d - 1)) {
			out[i] = 2;
			queue[tail++] = i;
		}
	}
	while (head < tail) {
		size_t i = queue[head++], x = i % w, y = i / w % h, z = i / (w * h);
		size_t next[6] = { i - 1, i + 1, i - w, i + w, i - w * h, i + w * h };
		int ok[6] = { x > 0, x + 1 < w, y > 0, y + 1 < h, z > 0, z + 1 < d };

		for (int k = 0; k < 6; k++)
			if (ok[k] && !out[next[k]]) {
				out[next[k]] = 2;
				queue[tail++] = next[k];
			}
	}
	for (size_t i = 0; i < n; i++)
		out[i] = out[i] != 2;
	free(queue);
	return VB_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * numpy.percentile(in, q) (method 'linear'), in double: the sorted voxels x, at = (n - 1) q /
 * 100, k = floor(at), g = at - k; x[k] + (x[k+1] - x[k]) g, or from x[k+1] when g >= 0.5 (numpy's
 * _lerp); NaN when a voxel is NaN. Sorting is the obviously right way to the order statistics.
 */
static int percentile_of(const struct op_call *c, double q, double *out, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s), k, k1;
	double *v = malloc((n ? n : 1) * sizeof(*v)), at, g, a, b;
	int nan = 0;

	if (!v)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %zu voxels", ref_op_name(c),
			       n);
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		for (size_t i = 0; i < n; i++) {
			v[i] = (double)p[i];
			nan |= v[i] != v[i];
		}
	)
	if (!nan)
		qsort(v, n, sizeof(*v), cmp_double);
	at = (double)(n - 1) * (q / 100.0);
	k = (size_t)floor(at);
	k1 = k + 1 < n ? k + 1 : k;
	g = at - floor(at);
	a = v[k];
	b = v[k1];
	*out = nan ? NAN : g >= 0.5 ? b - (b - a) * (1.0 - g) : a + (b - a) * g;
	free(v);
	return VB_OK;
}

int ref_percentile(const struct op_call *c, struct vb_err *err)
{
	double p;
	int status = percentile_of(c, op_param(c, "percentile"), &p, err);

	if (!status)
		((float *)c->out->data)[0] = (float)p;
	return status;
}

/* out = clamp((v - lo) / (hi - lo), 0, 1) in float as the kernel computes it, lo and hi the f32
 * percentiles (a negative one: 0 or 100); 0 where hi <= lo, NaN where v, lo or hi is NaN. */
int ref_normalize(const struct op_call *c, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	double low = op_param(c, "low_percentile"), high = op_param(c, "high_percentile"), dlo, dhi;
	size_t n = stack_voxels(s);
	float lo, range, *out = c->out->data;
	int status;

	if ((status = percentile_of(c, low < 0 ? 0 : low, &dlo, err)) ||
	    (status = percentile_of(c, high < 0 ? 100 : high, &dhi, err)))
		return status;
	lo = (float)dlo;
	range = (float)dhi - lo;
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			float x = range > 0.0f ? ((float)p[i] - lo) / range
					       : range != range ? range : 0.0f;

			out[i] = x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
		}
	)
	return VB_OK;
}
