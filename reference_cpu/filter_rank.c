/*
 * reference_cpu/filter_rank.c: window filters over box and sphere (ellipsoid) footprints: mean, minimum,
 * maximum, median, percentile, variance, standard deviation, binary erosion and dilation, local
 * maxima.
 *
 * Obviously right first: every output voxel gathers its whole window (clamped to the edge) into a
 * per-thread buffer and reduces it. The input is converted once to doubles (exact for every
 * dtype), or, for the median, to order-preserving 32-bit keys. Each output voxel depends only on
 * the input, so the result is the same for every thread count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"


enum win_kind { W_MEAN, W_MIN, W_MAX, W_MEDIAN, W_VAR, W_STD, W_ERODE, W_DILATE, W_MAXIMA,
		W_PERCENTILE };

/* Order-preserving keys: unsigned compare of keys = compare of values (f32: -0 < +0, NaN top). */
static inline uint32_t key_of(enum dtype t, const void *data, size_t i)
{
	uint32_t u;

	switch (t) {
	case DT_U8: return ((const uint8_t *)data)[i];
	case DT_U16: return ((const uint16_t *)data)[i];
	case DT_U32: return ((const uint32_t *)data)[i];
	case DT_I32: return (uint32_t)((const int32_t *)data)[i] ^ 0x80000000u;
	default:
		memcpy(&u, (const float *)data + i, sizeof(u));
		return u & 0x80000000u ? ~u : u | 0x80000000u;
	}
}

static inline void store_key(struct stack *s, size_t i, uint32_t k)
{
	uint32_t u;

	switch (s->dtype) {
	case DT_U8: ((uint8_t *)s->data)[i] = (uint8_t)k; break;
	case DT_U16: ((uint16_t *)s->data)[i] = (uint16_t)k; break;
	case DT_U32: ((uint32_t *)s->data)[i] = k; break;
	case DT_I32: ((int32_t *)s->data)[i] = (int32_t)(k ^ 0x80000000u); break;
	default:
		u = k & 0x80000000u ? k ^ 0x80000000u : ~k;
		memcpy((float *)s->data + i, &u, sizeof(u));
		break;
	}
}

/* The element of rank k of a[0 .. n-1] (Wirth's selection; reorders a). */
static uint32_t select_rank(uint32_t *a, long n, long k)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t pivot = a[k], t;
		long i = lo, j = hi;

		do {
			while (a[i] < pivot)
				i++;
			while (pivot < a[j])
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < k)
			lo = i;
		if (k < i)
			hi = j;
	}
	return a[k];
}

static inline size_t clampi(long i, size_t n)
{
	return i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i;
}

/* The reduction of one gathered window v[0 .. n-1] (doubles); centre is the voxel's own value. */
static double reduce(enum win_kind kind, const double *v, long n, double centre)
{
	double acc = 0, mean;
	long i;

	switch (kind) {
	case W_MEAN:
		for (i = 0; i < n; i++)
			acc += v[i];
		return acc / (double)n;
	case W_MIN:
	case W_MAX:
	case W_MAXIMA:
		acc = v[0];
		for (i = 1; i < n; i++)
			acc = (kind == W_MIN ? v[i] < acc : v[i] > acc) ? v[i] : acc;
		return kind == W_MAXIMA ? (double)(centre == acc) : acc;
	case W_VAR:
	case W_STD:
		for (i = 0; i < n; i++)
			acc += v[i];
		mean = acc / (double)n;
		acc = 0;
		for (i = 0; i < n; i++)
			acc += (v[i] - mean) * (v[i] - mean);
		return kind == W_STD ? sqrt(acc / (double)n) : acc / (double)n;
	case W_ERODE:
		for (i = 0; i < n; i++)
			if (v[i] == 0)
				return 0;
		return 1;
	case W_DILATE:
		for (i = 0; i < n; i++)
			if (v[i] != 0)
				return 1;
		return 0;
	default:
		return 0;
	}
}

static enum dtype out_dtype_of(enum win_kind kind, enum dtype in)
{
	switch (kind) {
	case W_MEAN: case W_VAR: case W_STD: return DT_F32;
	case W_ERODE: case W_DILATE: case W_MAXIMA: return DT_U8;
	default: return in;
	}
}

struct window {
	const struct op_call *c;
	enum win_kind kind;
	int r[3];
	const int *runs;
	long count, rank;    /* rank: the element the median (count / 2) or percentile selects */
	const double *vals;  /* every kind but the median and percentile */
	const uint32_t *keys; /* the median and percentile */
};

/* The window's elements around x, gathered from the rows at off[] (clamped at the x edges only
 * near them), as keys or doubles; returns how many. */
static long window_gather(const struct window *w, const size_t *off, size_t x, void *buf)
{
	const size_t W = w->c->in[0]->width;
	const int nrows = (2 * w->r[1] + 1) * (2 * w->r[2] + 1), rx = w->r[0];
	const int inside = x >= (size_t)rx && x + (size_t)rx < W;
	long n = 0;

	for (int k = 0; k < nrows; k++) {
		int a = w->runs[k];

		if (a < 0)
			continue;
		if (w->keys) {
			const uint32_t *src = w->keys + off[k];
			uint32_t *dst = buf;

			for (long dx = -a; dx <= a; dx++)
				dst[n++] = src[inside ? x + dx : clampi((long)x + dx, W)];
		} else {
			const double *src = w->vals + off[k];
			double *dst = buf;

			for (long dx = -a; dx <= a; dx++)
				dst[n++] = src[inside ? x + dx : clampi((long)x + dx, W)];
		}
	}
	return n;
}

/* Output row (y, z) of window w, with one buffer of w->count elements and one of the window's
 * row offsets (the rows, clamped at the y and z edges, are the same for the whole output row). */
static void window_row(const struct window *w, size_t y, size_t z, void *buf, size_t *off,
		       double *orow)
{
	const struct stack *in = w->c->in[0];
	const size_t W = in->width, H = in->height, D = in->depth;
	const int ny = 2 * w->r[1] + 1, nrows = ny * (2 * w->r[2] + 1);

	for (int k = 0; k < nrows; k++)
		off[k] = (clampi((long)z + k / ny - w->r[2], D) * H +
			  clampi((long)y + k % ny - w->r[1], H)) * W;
	for (size_t x = 0; x < W; x++) {
		long n = window_gather(w, off, x, buf);

		if (w->keys)
			store_key(w->c->out, (z * H + y) * W + x, select_rank(buf, n, w->rank));
		else
			orow[x] = reduce(w->kind, buf, n, w->vals[(z * H + y) * W + x]);
	}
}

/*
 * The extreme filters (minimum, maximum, erosion, dilation, local maxima) as maxima of 32-bit
 * keys, in two steps: each row's maximum over every x half-width the footprint uses, then the
 * maximum of those over the footprint's rows (9 reads a voxel for the 3x3x3 box, not 27). A
 * minimum is the maximum of inverted keys, an erosion the complement of the dilation of zeros.
 * The same result as gathering each window, since a maximum does not depend on order; f32 input
 * holding a NaN (whose order the gathering path defines) takes that path instead.
 */
static int has_nan(const struct stack *in, int nt)
{
	const float *v = in->data;
	size_t n = stack_voxels(in);
	int found = 0;

	if (in->dtype != DT_F32)
		return 0;
#pragma omp parallel for num_threads(nt) reduction(| : found) schedule(static)
	for (size_t i = 0; i < n; i++)
		found |= isnan(v[i]);
	return found;
}

/* The key whose maximum the filter takes (f32 -0 as +0, so equal values have equal keys). */
static inline uint32_t extreme_key(enum win_kind kind, enum dtype t, const void *data, size_t i)
{
	uint32_t k;

	if (kind == W_ERODE || kind == W_DILATE) { /* the voxel is non-zero (-0 is zero) */
		switch (t) {
		case DT_U8: k = ((const uint8_t *)data)[i] != 0; break;
		case DT_U16: k = ((const uint16_t *)data)[i] != 0; break;
		case DT_U32: k = ((const uint32_t *)data)[i] != 0; break;
		case DT_I32: k = ((const int32_t *)data)[i] != 0; break;
		default: k = ((const float *)data)[i] != 0.0f; break;
		}
		return kind == W_ERODE ? !k : k;
	}
	k = t == DT_F32 && ((const float *)data)[i] == 0.0f ? 0x80000000u : key_of(t, data, i);
	return kind == W_MIN ? ~k : k;
}

/* out[x] = max of row[x - a .. x + a], clamped to the row's ends. */
static void row_max(const uint32_t *row, size_t W, int a, uint32_t *out)
{
	for (size_t x = 0; x < W; x++) {
		uint32_t m = row[x];

		for (long dx = -a; dx <= a; dx++) {
			uint32_t v = row[clampi((long)x + dx, W)];

			m = v > m ? v : m;
		}
		out[x] = m;
	}
}

static void extreme_store(const struct op_call *c, enum win_kind kind, const uint32_t *keys,
			  size_t i, uint32_t m)
{
	switch (kind) {
	case W_MIN: store_key(c->out, i, ~m); break;
	case W_MAX: store_key(c->out, i, m); break;
	case W_ERODE: ((uint8_t *)c->out->data)[i] = !m; break;
	case W_DILATE: ((uint8_t *)c->out->data)[i] = (uint8_t)m; break;
	default: ((uint8_t *)c->out->data)[i] = keys[i] == m; break;
	}
}

/* Radii up to this take the two-step path (its row pointers live on the stack). */
#define EXTREME_MAX_RADIUS 15

/* VB_OK done, VB_E_NOMEM, or -1: this input takes the gathering path. */
static int extreme_filter(const struct op_call *c, enum win_kind kind, const int r[3],
			  const int *runs, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	const size_t W = in->width, H = in->height, D = in->depth, n = stack_voxels(in);
	const int ny = 2 * r[1] + 1, nrows = ny * (2 * r[2] + 1), nt = ref_nthreads(c);
	uint32_t *keys, *wide[EXTREME_MAX_RADIUS + 1] = { 0 };
	int status = VB_OK;

	if (r[0] > EXTREME_MAX_RADIUS || r[1] > EXTREME_MAX_RADIUS || r[2] > EXTREME_MAX_RADIUS ||
	    has_nan(in, nt))
		return -1;
	keys = malloc(n * sizeof(*keys));
	for (int k = 0; k < nrows && keys; k++)
		if (runs[k] > 0 && !wide[runs[k]] && !(wide[runs[k]] = malloc(n * sizeof(uint32_t))))
			break;
	for (int k = 0; k < nrows; k++)
		if (!keys || (runs[k] > 0 && !wide[runs[k]])) {
			status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate its scratch; choose a "
					 "smaller size", ref_op_name(c));
			goto out;
		}
	wide[0] = keys;
#pragma omp parallel for num_threads(nt) schedule(static)
	for (size_t i = 0; i < n; i++)
		keys[i] = extreme_key(kind, in->dtype, in->data, i);
	for (int a = 1; a <= EXTREME_MAX_RADIUS; a++)
		if (wide[a]) {
#pragma omp parallel for num_threads(nt) schedule(static)
			for (size_t row = 0; row < H * D; row++)
				row_max(keys + row * W, W, a, wide[a] + row * W);
		}
#pragma omp parallel for num_threads(nt) schedule(static) collapse(2)
	for (size_t z = 0; z < D; z++)
		for (size_t y = 0; y < H; y++) {
			const uint32_t *src[(2 * EXTREME_MAX_RADIUS + 1) * (2 * EXTREME_MAX_RADIUS + 1)];
			int m = 0;

			for (int k = 0; k < nrows; k++)
				if (runs[k] >= 0)
					src[m++] = wide[runs[k]] +
						   (clampi((long)z + k / ny - r[2], D) * H +
						    clampi((long)y + k % ny - r[1], H)) * W;
			for (size_t x = 0; x < W; x++) {
				uint32_t best = 0;

				for (int k = 0; k < m; k++)
					best = src[k][x] > best ? src[k][x] : best;
				extreme_store(c, kind, keys, (z * H + y) * W + x, best);
			}
		}
out:
	for (int a = 1; a <= EXTREME_MAX_RADIUS; a++)
		free(wide[a]);
	free(keys);
	return status;
}

/*
 * The 3x3x3 box median without gathering: each x of an output row sorts its column of 9 keys
 * once (a 25-comparator network), and each output merges its 3 columns up to rank 13. The keys
 * order every value (NaN included), so this is the element of rank 13 the gathering path selects.
 */
#define CSWAP(a, b)                                                                          \
	do {                                                                                 \
		uint32_t lo_ = (a) < (b) ? (a) : (b), hi_ = (a) < (b) ? (b) : (a);           \
		(a) = lo_;                                                                   \
		(b) = hi_;                                                                   \
	} while (0)

static void sort9(uint32_t *v)
{
	static const unsigned char net[25][2] = {
		{ 0, 3 }, { 1, 7 }, { 2, 5 }, { 4, 8 }, { 0, 7 }, { 2, 4 }, { 3, 8 }, { 5, 6 },
		{ 0, 2 }, { 1, 3 }, { 4, 5 }, { 7, 8 }, { 1, 4 }, { 3, 6 }, { 5, 7 }, { 0, 1 },
		{ 2, 4 }, { 3, 5 }, { 6, 8 }, { 2, 3 }, { 4, 5 }, { 6, 7 }, { 1, 2 }, { 3, 4 },
		{ 5, 6 },
	};

	for (int k = 0; k < 25; k++)
		CSWAP(v[net[k][0]], v[net[k][1]]);
}

/* The element of rank 13 of three sorted columns of 9 (each ends in a sentinel, v[9]). */
static uint32_t rank13(const uint32_t *a, const uint32_t *b, const uint32_t *c)
{
	uint32_t m = 0;

	for (int t = 0, i = 0, j = 0, k = 0; t < 14; t++) {
		uint32_t x = a[i], y = b[j], z = c[k];
		int ta = x <= y && x <= z, tb = !ta && y <= z;

		m = ta ? x : tb ? y : z;
		i += ta;
		j += tb;
		k += !ta && !tb;
	}
	return m;
}

static void median_box3_row(const struct op_call *c, const uint32_t *keys, size_t y, size_t z,
			    uint32_t *cols)
{
	const struct stack *in = c->in[0];
	const size_t W = in->width, H = in->height, D = in->depth;
	const uint32_t *src[9];

	for (int k = 0; k < 9; k++)
		src[k] = keys + (clampi((long)z + k / 3 - 1, D) * H + clampi((long)y + k % 3 - 1, H)) * W;
	for (size_t x = 0; x < W; x++) {
		uint32_t *col = cols + 10 * x;

		for (int k = 0; k < 9; k++)
			col[k] = src[k][x];
		sort9(col);
		col[9] = UINT32_MAX; /* never taken before rank 13: 18 real keys precede it */
	}
	for (size_t x = 0; x < W; x++)
		store_key(c->out, (z * H + y) * W + x,
			  rank13(cols + 10 * clampi((long)x - 1, W), cols + 10 * x,
				 cols + 10 * clampi((long)x + 1, W)));
}

static int median_box3(const struct op_call *c, const uint32_t *keys, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	const size_t W = in->width, H = in->height, D = in->depth;
	int failed = 0;

#pragma omp parallel num_threads(ref_nthreads(c))
	{
		uint32_t *cols = malloc(W * 10 * sizeof(*cols));

		if (!cols) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(static) collapse(2)
		for (size_t z = 0; z < D; z++)
			for (size_t y = 0; y < H; y++)
				if (cols)
					median_box3_row(c, keys, y, z, cols);
		free(cols);
	}
	return failed ? vb_errf(err, VB_E_NOMEM, "%s: cannot allocate a row of columns per thread",
				ref_op_name(c)) : VB_OK;
}

static int window_filter(const struct op_call *c, int sphere, enum win_kind kind,
			 struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct window w = { .c = c, .kind = kind };
	size_t n, W, H, D;
	int nt = ref_nthreads(c), status, failed = 0;
	int *runs = NULL;
	double *vals = NULL;
	uint32_t *keys = NULL;

	if (!in || !c->out || !in->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(in, c->out) || c->out->dtype != out_dtype_of(kind, in->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected the input's "
			       "dims and %s", ref_op_name(c), c->out->width, c->out->height,
			       c->out->depth, dtype_name(c->out->dtype),
			       dtype_name(out_dtype_of(kind, in->dtype)));
	status = geom_window_radii(c, w.r, err);
	if (status)
		return status;
	W = in->width, H = in->height, D = in->depth;
	n = stack_voxels(in);
	runs = malloc((2 * (size_t)w.r[1] + 1) * (2 * (size_t)w.r[2] + 1) * sizeof(*runs));
	if (!runs)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for its footprint", ref_op_name(c));
	w.count = geom_footprint_runs(sphere, w.r, runs);
	w.rank = kind == W_PERCENTILE ? geom_percentile_rank(op_param(c, "percentile"), w.count)
				      : w.count / 2;
	/* the extreme filters' own path, before any scratch of the gathering one is allocated */
	if ((kind == W_MIN || kind == W_MAX || kind == W_ERODE || kind == W_DILATE ||
	     kind == W_MAXIMA) && (status = extreme_filter(c, kind, w.r, runs, err)) >= 0)
		goto out;
	status = VB_OK;
	if (kind == W_MEDIAN || kind == W_PERCENTILE)
		keys = malloc(n * sizeof(*keys));
	else
		vals = malloc(n * sizeof(*vals));
	if (!keys && !vals) {
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %zu MiB of scratch; choose a "
				 "smaller size", ref_op_name(c), (n * 8) >> 20);
		goto out;
	}
	w.runs = runs;
	w.vals = vals;
	w.keys = keys;
	if (keys) {
#pragma omp parallel for num_threads(nt) schedule(static)
		for (size_t i = 0; i < n; i++)
			keys[i] = key_of(in->dtype, in->data, i);
		if (kind == W_MEDIAN && !sphere && w.r[0] == 1 && w.r[1] == 1 && w.r[2] == 1) {
			status = median_box3(c, keys, err);
			goto out;
		}
	} else {
		ref_load_double(in, vals, nt);
	}

#pragma omp parallel num_threads(nt)
	{
		void *buf = malloc((size_t)w.count * (keys ? sizeof(uint32_t) : sizeof(double)));
		double *orow = malloc(W * sizeof(double));
		size_t *off = malloc((2 * (size_t)w.r[1] + 1) * (2 * (size_t)w.r[2] + 1) *
				     sizeof(*off));

		if (!buf || !orow || !off) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(dynamic, 4)
		for (size_t row = 0; row < D * H; row++) {
			if (!buf || !orow || !off)
				continue;
			window_row(&w, row % H, row / H, buf, off, orow);
			if (!keys)
				ref_row_store(c->out, row * W, W, orow);
		}
		free(buf);
		free(orow);
		free(off);
	}
	if (failed)
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate a window of %ld voxels per "
				 "thread", ref_op_name(c), w.count);
out:
	free(runs);
	free(vals);
	free(keys);
	return status;
}

/*
 * Window filters over the box or sphere footprint of radius_x/y/z, borders clamped to the edge
 * (scipy mode='nearest', footprint= the same mask):
 *  - mean (f32, double sum / count), minimum, maximum (input dtype, exact);
 *  - median (input dtype, exact: the element of rank count/2 in the order of the values; f32
 *    orders -0 before +0 and NaN above +inf, by its order-preserving 32-bit key); the
 *    percentile filter (box) the element of geom_percentile_rank's rank in the same order;
 *  - variance and standard deviation (f32): population variance, two passes in double;
 *  - erode / dilate (u8 0/1): every / any voxel of the window non-zero;
 *  - detect_maxima_box (u8 0/1): the voxel equals the maximum of its box.
 */
int ref_mean_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_MEAN, err);
}

int ref_minimum_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_MIN, err);
}

int ref_maximum_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_MAX, err);
}

int ref_median_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_MEDIAN, err);
}

int ref_median_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_MEDIAN, err);
}

/* scipy.ndimage.percentile_filter over the box: the element of geom_percentile_rank's rank, in
 * the median's key order. */
int ref_percentile_filter(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_PERCENTILE, err);
}

int ref_variance_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_VAR, err);
}

int ref_variance_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_VAR, err);
}

int ref_standard_deviation_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_STD, err);
}

int ref_standard_deviation_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_STD, err);
}

int ref_erode_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_ERODE, err);
}

int ref_erode_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_ERODE, err);
}

int ref_dilate_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_DILATE, err);
}

int ref_dilate_sphere(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 1, W_DILATE, err);
}

int ref_detect_maxima_box(const struct op_call *c, struct vb_err *err)
{
	return window_filter(c, 0, W_MAXIMA, err);
}
