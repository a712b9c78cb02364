/*
 * reference_cpu/filter.c: Gaussian blur and box filters (mean, minimum, maximum).
 *
 * All four are separable and share one engine, run in two phases over a volume of doubles T:
 *
 *   1. z pass, threads over rows y: the D rows (x, y, 0..D-1) of the input are converted to a slab
 *      of doubles, and each output row T(., y, z) combines the slab rows z-rz .. z+rz (clamped).
 *   2. y and x passes, threads over rows (y, z): T(., y, z) combines the rows y-ry .. y+ry of
 *      plane z of T into one row, which is padded with its edge values and combined along x into
 *      the output row.
 *
 * Every pass combines whole rows, x contiguous, so the inner loops are unit-stride and
 * vectorised; each output row of each pass depends only on its inputs, so the result is the
 * same for every thread count. Borders clamp to the edge (scipy mode='nearest').
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

/* Largest radius accepted on one axis (a table range bug or a wild parameter otherwise). */

enum sep_kind { SEP_WEIGHTED, SEP_MIN, SEP_MAX };

struct sep_filter {
	enum sep_kind kind;
	int r[3];           /* radius per axis: x, y, z */
	const double *w[3]; /* SEP_WEIGHTED: 2r+1 symmetric weights, offsets -r .. r, per axis */
	double divisor;     /* SEP_WEIGHTED: the result is divided by it (1, or a box's size) */
};

/* Row i clamped into 0 .. n-1. */
static inline size_t clamp_index(ptrdiff_t i, size_t n)
{
	if (i < 0)
		return 0;
	if ((size_t)i >= n)
		return n - 1;
	return (size_t)i;
}

/* Columns per block of the weighted sum: the block's accumulators live in registers. */
#define BLOCK 32

/*
 * acc[x] = sum over k < n of w[k] * rows[k][x], for x < len. The weights are symmetric
 * (w[k] == w[n-1-k], n odd), so the taps are added in pairs: w[k] * (rows[k] + rows[n-1-k]).
 */
static void weighted_rows(double *restrict acc, const double *const *rows, const double *w, int n,
			  size_t len)
{
	const int r = n / 2;
	size_t x0 = 0, x;
	int k, j;

	for (; x0 + BLOCK <= len; x0 += BLOCK) {
		const double *mid = rows[r] + x0;
		double a[BLOCK];

		for (j = 0; j < BLOCK; j++)
			a[j] = w[r] * mid[j];
		for (k = 0; k < r; k++) {
			const double *lo = rows[k] + x0, *hi = rows[n - 1 - k] + x0;
			double wk = w[k];

#pragma omp simd
			for (j = 0; j < BLOCK; j++)
				a[j] += wk * (lo[j] + hi[j]);
		}
		for (j = 0; j < BLOCK; j++)
			acc[x0 + j] = a[j];
	}
	for (x = x0; x < len; x++) {
		double a = w[r] * rows[r][x];

		for (k = 0; k < r; k++)
			a += w[k] * (rows[k][x] + rows[n - 1 - k][x]);
		acc[x] = a;
	}
}

/* acc[x] = the minimum (want_max 0) or maximum (1) over k < n of rows[k][x]. */
static void extreme_rows(double *restrict acc, const double *const *rows, int n, size_t len,
			 int want_max)
{
	size_t x;
	int k;

	memcpy(acc, rows[0], len * sizeof(*acc));
	for (k = 1; k < n; k++) {
		const double *restrict src = rows[k];

		if (want_max) {
#pragma omp simd
			for (x = 0; x < len; x++)
				acc[x] = src[x] > acc[x] ? src[x] : acc[x];
		} else {
#pragma omp simd
			for (x = 0; x < len; x++)
				acc[x] = src[x] < acc[x] ? src[x] : acc[x];
		}
	}
}

/* One pass along axis (0 x, 1 y, 2 z): acc = the filter over rows[0 .. 2r]. */
static void combine_rows(const struct sep_filter *f, int axis, double *restrict acc,
			 const double *const *rows, size_t len)
{
	int n = 2 * f->r[axis] + 1;

	switch (f->kind) {
	case SEP_WEIGHTED: weighted_rows(acc, rows, f->w[axis], n, len); break;
	case SEP_MIN: extreme_rows(acc, rows, n, len, 0); break;
	case SEP_MAX: extreme_rows(acc, rows, n, len, 1); break;
	}
}

/* Run the separable filter f from c->in[0] into c->out (dims already checked equal). */
static int separable(const struct op_call *c, const struct sep_filter *f, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	const size_t W = in->width, H = in->height, D = in->depth;
	const int rx = f->r[0], ry = f->r[1], rz = f->r[2];
	const int nt = ref_nthreads(c);
	int rmax = rx > ry ? rx : ry;
	size_t voxels, slab, rowbufs, per_thread, bytes, scratch_bytes, nptr;
	double *T = NULL, *scratch = NULL;
	const double **ptrs = NULL;
	int status = VB_OK, too_big;

	rmax = rmax > rz ? rmax : rz;
	nptr = 2 * (size_t)rmax + 1;
	/* per thread: the z-pass slab (D rows), or the y row + the padded row + the x row */
	rowbufs = 3 * W + 2 * (size_t)rx;
	too_big = vb_mul_size(W, H, &voxels) < 0 || vb_mul_size(voxels, D, &voxels) < 0 ||
		  vb_mul_size(voxels, sizeof(double), &bytes) < 0;
	slab = W * D; /* no larger than voxels, when that did not overflow */
	per_thread = slab > rowbufs ? slab : rowbufs; /* doubles */
	if (too_big || vb_mul_size(per_thread, (size_t)nt * sizeof(double), &scratch_bytes) < 0) {
		status = vb_errf(err, VB_E_TOO_BIG, "%s: %zux%zux%zu is too large for the reference",
				 ref_op_name(c), W, H, D);
		goto out;
	}
	T = malloc(bytes);
	scratch = malloc(scratch_bytes);
	ptrs = malloc(nptr * (size_t)nt * sizeof(*ptrs));
	if (!T || !scratch || !ptrs) {
		status = vb_errf(err, VB_E_NOMEM,
				 "%s: cannot allocate %.1f MiB of scratch for %zux%zux%zu; "
				 "choose a smaller size",
				 ref_op_name(c), (bytes + scratch_bytes) / 1048576.0, W, H, D);
		goto out;
	}

	/* Phase 1: z pass, input -> T, one row y (all its z) per iteration. */
#pragma omp parallel num_threads(nt)
	{
		double *sl = scratch + (size_t)REF_THREAD_NUM() * per_thread;
		const double **rows = ptrs + (size_t)REF_THREAD_NUM() * nptr;
		size_t y;

#pragma omp for schedule(static)
		for (y = 0; y < H; y++) {
			size_t z;
			int k;

			for (z = 0; z < D; z++)
				ref_row_load(in, (z * H + y) * W, W, sl + z * W);
			for (z = 0; z < D; z++) {
				for (k = 0; k <= 2 * rz; k++)
					rows[k] = sl + clamp_index((ptrdiff_t)z + k - rz, D) * W;
				combine_rows(f, 2, T + (z * H + y) * W, rows, W);
			}
		}
	}

	/* Phase 2: y pass then x pass, T -> out, one row (y, z) per iteration. */
#pragma omp parallel num_threads(nt)
	{
		double *yrow = scratch + (size_t)REF_THREAD_NUM() * per_thread;
		double *pad = yrow + W, *xrow = pad + W + 2 * (size_t)rx;
		const double **rows = ptrs + (size_t)REF_THREAD_NUM() * nptr;
		size_t row;

#pragma omp for schedule(static)
		for (row = 0; row < D * H; row++) {
			size_t z = row / H, y = row % H, x;
			int k;

			for (k = 0; k <= 2 * ry; k++)
				rows[k] = T + (z * H + clamp_index((ptrdiff_t)y + k - ry, H)) * W;
			combine_rows(f, 1, yrow, rows, W);

			for (k = 0; k < rx; k++) {
				pad[k] = yrow[0];
				pad[(size_t)rx + W + (size_t)k] = yrow[W - 1];
			}
			memcpy(pad + rx, yrow, W * sizeof(*pad));
			for (k = 0; k <= 2 * rx; k++)
				rows[k] = pad + k;
			combine_rows(f, 0, xrow, rows, W);

			if (f->kind == SEP_WEIGHTED && f->divisor != 1.0)
				for (x = 0; x < W; x++)
					xrow[x] /= f->divisor;
			ref_row_store(out, row * W, W, xrow);
		}
	}

out:
	free(T);
	free(scratch);
	free(ptrs);
	return status;
}

/* Shapes every filter needs: out has the input's dims; out_dtype is the dtype it must have. */
static int check_filter_shapes(const struct op_call *c, enum dtype out_dtype, struct vb_err *err)
{
	const struct stack *in = c->in[0];

	if (!in || !c->out || !in->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(in, c->out))
		return vb_errf(err, VB_E_ARGS,
			       "%s: output is %zux%zux%zu but the input is %zux%zux%zu",
			       ref_op_name(c), c->out->width, c->out->height, c->out->depth,
			       in->width, in->height, in->depth);
	if (c->out->dtype != out_dtype)
		return vb_errf(err, VB_E_ARGS, "%s: output is %s, expected %s", ref_op_name(c),
			       dtype_name(c->out->dtype), dtype_name(out_dtype));
	return VB_OK;
}

int ref_gaussian_blur(const struct op_call *c, struct vb_err *err)
{
	static const char *const names[3] = { "sigma_x", "sigma_y", "sigma_z" };
	struct sep_filter f = { .kind = SEP_WEIGHTED, .divisor = 1.0 };
	double *w[3] = { NULL, NULL, NULL };
	int status, a;

	status = check_filter_shapes(c, DT_F32, err);
	if (status != VB_OK)
		goto out;
	for (a = 0; a < 3; a++) {
		double sigma = op_param(c, names[a]);

		if (!(sigma >= 0) || ceil(4.0 * sigma) > WINDOW_MAX_RADIUS) {
			status = vb_errf(err, VB_E_ARGS, "%s: %s=%g is out of range 0..%d",
					 ref_op_name(c), names[a], sigma, WINDOW_MAX_RADIUS / 4);
			goto out;
		}
		f.r[a] = geom_gaussian_radius(sigma);
		w[a] = malloc((2 * (size_t)f.r[a] + 1) * sizeof(double));
		if (!w[a]) {
			status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate the weights of %s=%g",
					 ref_op_name(c), names[a], sigma);
			goto out;
		}
		geom_gaussian_weights(sigma, f.r[a], w[a]);
		f.w[a] = w[a];
	}
	status = separable(c, &f, err);
out:
	for (a = 0; a < 3; a++)
		free(w[a]);
	return status;
}

int ref_mean_box(const struct op_call *c, struct vb_err *err)
{
	struct sep_filter f = { .kind = SEP_WEIGHTED };
	double *ones = NULL;
	int status, a, rmax, k;

	status = check_filter_shapes(c, DT_F32, err);
	if (status != VB_OK)
		goto out;
	status = geom_window_radii(c, f.r, err);
	if (status != VB_OK)
		goto out;
	/* Sum the box with unit weights (exact for integer inputs), divide once by its size. */
	rmax = f.r[0] > f.r[1] ? f.r[0] : f.r[1];
	rmax = rmax > f.r[2] ? rmax : f.r[2];
	ones = malloc((2 * (size_t)rmax + 1) * sizeof(double));
	if (!ones) {
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate the weights", ref_op_name(c));
		goto out;
	}
	for (k = 0; k <= 2 * rmax; k++)
		ones[k] = 1.0;
	f.divisor = 1.0;
	for (a = 0; a < 3; a++) {
		f.w[a] = ones;
		f.divisor *= 2.0 * f.r[a] + 1.0;
	}
	status = separable(c, &f, err);
out:
	free(ones);
	return status;
}

static int extreme_box(const struct op_call *c, enum sep_kind kind, struct vb_err *err)
{
	struct sep_filter f = { .kind = kind, .divisor = 1.0 };
	int status;

	if (!c->in[0])
		return vb_errf(err, VB_E_ARGS, "%s: missing input stack", ref_op_name(c));
	status = check_filter_shapes(c, c->in[0]->dtype, err);
	if (status != VB_OK)
		return status;
	status = geom_window_radii(c, f.r, err);
	if (status != VB_OK)
		return status;
	return separable(c, &f, err);
}

int ref_minimum_box(const struct op_call *c, struct vb_err *err)
{
	return extreme_box(c, SEP_MIN, err);
}

int ref_maximum_box(const struct op_call *c, struct vb_err *err)
{
	return extreme_box(c, SEP_MAX, err);
}
