/*
 * reference_cpu/projection_reduction.c: reductions of a whole stack.
 *
 * Every sum is taken in double over fixed blocks of REDUCE_BLOCK voxels whose results are then
 * combined in block order, so nothing depends on the thread count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

#define REDUCE_BLOCK ((size_t)1 << 16)

/* What one block contributes: min, max, sums of v, (v - shift)^2, (a - b)^2. */
struct block_acc {
	double lo, hi, sum, sq;
};

enum reduce_kind { R_MINMAX, R_SUM, R_SQDEV, R_SQDIFF };

/*
 * One block's extremes (NaN ignored; none: NaN) of typed voxels: after the leading NaNs no NaN
 * wins a comparison, so the loop vectorises (a stack_get and a switch per voxel made the minimum
 * 20 times numpy's time on one thread).
 */
#define BLOCK_MINMAX(T, p, n, acc)                                                               \
	do {                                                                                     \
		size_t i_ = 0;                                                                   \
		T lo_, hi_;                                                                      \
		while (i_ < (n) && (p)[i_] != (p)[i_])                                           \
			i_++;                                                                    \
		if (i_ == (n))                                                                   \
			break;                                                                   \
		lo_ = hi_ = (p)[i_];                                                             \
		_Pragma("omp simd reduction(min : lo_) reduction(max : hi_)")                    \
		for (size_t j_ = i_; j_ < (n); j_++) {                                           \
			lo_ = (p)[j_] < lo_ ? (p)[j_] : lo_;                                     \
			hi_ = (p)[j_] > hi_ ? (p)[j_] : hi_;                                     \
		}                                                                                \
		(acc)->lo = lo_;                                                                 \
		(acc)->hi = hi_;                                                                 \
	} while (0)

static void block_reduce(const struct op_call *c, enum reduce_kind kind, size_t start, size_t n,
			 double shift, struct block_acc *acc)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	size_t i;

	acc->lo = acc->hi = NAN;
	acc->sum = acc->sq = 0.0;
	if (kind == R_MINMAX) {
		REF_SWITCH_DTYPE(a->dtype, T, const T *p = (const T *)a->data + start;
				 BLOCK_MINMAX(T, p, n, acc);)
		return;
	}
	/* sums in voxel order (the same bits as any other reading), each loop typed */
	REF_SWITCH_DTYPE(a->dtype, T,
		const T *p = (const T *)a->data + start;
		const T *q = b ? (const T *)b->data + start : NULL; /* the same dtype (check_out) */
		double sum = 0.0, sq = 0.0;

		if (kind == R_SUM)
			for (i = 0; i < n; i++)
				sum += (double)p[i];
		else if (kind == R_SQDEV)
			for (i = 0; i < n; i++)
				sq += ((double)p[i] - shift) * ((double)p[i] - shift);
		else
			for (i = 0; i < n; i++)
				sq += ((double)p[i] - (double)q[i]) * ((double)p[i] - (double)q[i]);
		acc->sum = sum;
		acc->sq = sq;
	)
}

/* The blocks of c->in[0] reduced and combined in order into *total. */
static int reduce_all(const struct op_call *c, enum reduce_kind kind, double shift,
		      struct block_acc *total, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), nblocks = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK, k;
	struct block_acc *part = malloc(nblocks * sizeof(*part));
	long long b;

	if (!part)
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %zu partial results",
			       ref_op_name(c), nblocks);
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (b = 0; b < (long long)nblocks; b++) {
		size_t start = (size_t)b * REDUCE_BLOCK;

		block_reduce(c, kind, start, n - start < REDUCE_BLOCK ? n - start : REDUCE_BLOCK,
			     shift, &part[b]);
	}
	*total = part[0];
	for (k = 1; k < nblocks; k++) {
		if (!isnan(part[k].lo)) {
			total->lo = isnan(total->lo) || part[k].lo < total->lo ? part[k].lo : total->lo;
			total->hi = isnan(total->hi) || part[k].hi > total->hi ? part[k].hi : total->hi;
		}
		total->sum += part[k].sum;
		total->sq += part[k].sq;
	}
	free(part);
	return VB_OK;
}

static int check_out(const struct op_call *c, int n_inputs, size_t width, enum dtype t,
		     struct vb_err *err)
{
	const struct stack *out = c->out;

	for (int i = 0; i < n_inputs; i++)
		if (!c->in[i] || !c->in[i]->data)
			return vb_errf(err, VB_E_ARGS, "%s: missing input %d", ref_op_name(c), i);
	if (n_inputs == 2 && (!ref_same_dims(c->in[0], c->in[1]) ||
			      c->in[0]->dtype != c->in[1]->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: the two inputs differ in size or dtype",
			       ref_op_name(c));
	if (!out || !out->data || out->width != width || out->height != 1 || out->depth != 1 ||
	    out->dtype != t)
		return vb_errf(err, VB_E_ARGS, "%s: output is not %zux1x1 %s", ref_op_name(c),
			       width, dtype_name(t));
	return VB_OK;
}

static int extreme(const struct op_call *c, int maximum, struct vb_err *err)
{
	struct block_acc t;
	int status = check_out(c, 1, 1, c->in[0] ? c->in[0]->dtype : DT_F32, err);

	if (!status)
		status = reduce_all(c, R_MINMAX, 0, &t, err);
	if (!status)
		stack_set(c->out, 0, maximum ? t.hi : t.lo); /* exact: a voxel's value (or NaN) */
	return status;
}

/*
 * Whole-stack reductions (reference_cpu/reduction.c). Sums are double over fixed blocks added in
 * block order (the same result for every thread count), rounded to f32 once.
 * minimum / maximum_of_all_pixels: the input's dtype, exact, NaN ignored.
 * mean_of_all_pixels: f32. standard_deviation_of_all_pixels: f32, two passes, ddof param, 0 where
 * n <= ddof. mean_squared_error: f32, mean of (a - b)^2. center_of_mass: 3x1x1 f32 = x, y, z of
 * sum(coord * v) / sum(v) (NaN or inf when sum(v) is 0).
 * histogram: num_bins x 1 x 1 u32 counts, numpy.histogram(a, num_bins, range=(lo, hi)); see
 * ref_histogram_edges. Voxels outside [lo, hi] (and NaN) are not counted.
 */
int ref_maximum_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	return extreme(c, 1, err);
}

int ref_minimum_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	return extreme(c, 0, err);
}

int ref_mean_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	struct block_acc t;
	int status = check_out(c, 1, 1, DT_F32, err);

	if (!status)
		status = reduce_all(c, R_SUM, 0, &t, err);
	if (!status)
		((float *)c->out->data)[0] = (float)(t.sum / (double)stack_voxels(c->in[0]));
	return status;
}

int ref_standard_deviation_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	double n, dof;
	struct block_acc t;
	int status = check_out(c, 1, 1, DT_F32, err);

	if (!status)
		status = reduce_all(c, R_SUM, 0, &t, err);
	if (status)
		return status;
	n = (double)stack_voxels(c->in[0]);
	dof = n - op_param(c, "ddof");
	status = reduce_all(c, R_SQDEV, t.sum / n, &t, err);
	if (!status)
		((float *)c->out->data)[0] = dof > 0 ? (float)sqrt(t.sq / dof) : 0.0f;
	return status;
}

int ref_mean_squared_error(const struct op_call *c, struct vb_err *err)
{
	struct block_acc t;
	int status = check_out(c, 2, 1, DT_F32, err);

	if (!status)
		status = reduce_all(c, R_SQDIFF, 0, &t, err);
	if (!status)
		((float *)c->out->data)[0] = (float)(t.sq / (double)stack_voxels(c->in[0]));
	return status;
}

int ref_center_of_mass(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t W, H, rows;
	double *part, s[4] = { 0, 0, 0, 0 };
	long long r;
	int status = check_out(c, 1, 3, DT_F32, err);

	if (status)
		return status;
	W = in->width;
	H = in->height;
	rows = H * in->depth;
	part = malloc(rows * 4 * sizeof(*part));
	if (!part)
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %zu row sums", ref_op_name(c),
			       rows);
	/* per row (y, z): sum v and sum x*v; rows then added in order */
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (r = 0; r < (long long)rows; r++) {
		double rs = 0, rsx = 0;

		for (size_t x = 0; x < W; x++) {
			double v = stack_get(in, (size_t)r * W + x);

			rs += v;
			rsx += (double)x * v;
		}
		part[4 * r] = rs;
		part[4 * r + 1] = rsx;
		part[4 * r + 2] = (double)((size_t)r % H) * rs;
		part[4 * r + 3] = (double)((size_t)r / H) * rs;
	}
	for (size_t k = 0; k < rows; k++)
		for (int j = 0; j < 4; j++)
			s[j] += part[4 * k + j];
	free(part);
	for (int j = 0; j < 3; j++)
		((float *)c->out->data)[j] = (float)(s[j + 1] / s[0]);
	return VB_OK;
}

/* The bin of v: the last i < nbins with edge i <= v, or -1 when v is not counted. */
static int histogram_bin(enum dtype t, int nbins, const void *edges, double v)
{
	int lo = 0, hi = nbins - 1;

	if (t == DT_F32) {
		const float *e = edges;

		if (!(v >= e[0] && v <= e[nbins]))
			return -1;
		while (lo < hi) { /* e[lo] <= v throughout */
			int mid = (lo + hi + 1) / 2;

			if (v >= e[mid])
				lo = mid;
			else
				hi = mid - 1;
		}
	} else {
		const int64_t *e = edges;
		int64_t iv = (int64_t)v;

		if (iv < e[0] || iv >= e[nbins])
			return -1;
		while (lo < hi) {
			int mid = (lo + hi + 1) / 2;

			if (iv >= e[mid])
				lo = mid;
			else
				hi = mid - 1;
		}
	}
	return lo;
}

int ref_histogram(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	int nbins = (int)op_param(c, "num_bins"), nt = ref_nthreads(c), status;
	double lo = op_param(c, "minimum_intensity"), hi = op_param(c, "maximum_intensity");
	size_t n, esize;
	struct block_acc t = { 0, 0, 0, 0 };
	uint64_t *counts = NULL;
	void *edges = NULL;

	status = check_out(c, 1, (size_t)nbins, DT_U32, err);
	if (status)
		return status;
	if (geom_histogram_image_range(lo, hi)) {
		status = reduce_all(c, R_MINMAX, 0, &t, err);
		if (status)
			return status;
	}
	geom_histogram_range(lo, hi, t.lo, t.hi, &lo, &hi);
	n = stack_voxels(in);
	esize = in->dtype == DT_F32 ? sizeof(float) : sizeof(int64_t);
	edges = malloc((size_t)(nbins + 1) * esize);
	counts = calloc((size_t)nt * nbins, sizeof(*counts));
	if (!edges || !counts) {
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %d bins per thread",
				 ref_op_name(c), nbins);
		goto out;
	}
	geom_histogram_edges(in->dtype, nbins, lo, hi, edges);
#pragma omp parallel num_threads(nt)
	{
		uint64_t *mine = counts + (size_t)REF_THREAD_NUM() * nbins;
		long long i;

#pragma omp for schedule(static)
		for (i = 0; i < (long long)n; i++) {
			int b = histogram_bin(in->dtype, nbins, edges, stack_get(in, (size_t)i));

			if (b >= 0)
				mine[b]++;
		}
	}
	for (int b = 0; b < nbins; b++) {
		uint64_t total = 0;

		for (int k = 0; k < nt; k++)
			total += counts[(size_t)k * nbins + b];
		((uint32_t *)c->out->data)[b] = (uint32_t)total; /* wraps past 2^32, as the kernel's */
	}
out:
	free(edges);
	free(counts);
	return status;
}
