/*
 * reference_cpu/filter4.c: the references of ops/rows_filter4.def: local mode (box, sphere), the
 * nonzero and onlyzero extreme filters (box, diamond) and pyclesperanto's Kuwahara filter
 * (percentile_filter's is the median's, reference_cpu/filter_rank.c).
 *
 * Obviously right: every output voxel walks its own window, the footprint geom_footprint_runs'
 * (the kernels' too), values as doubles (exact for every dtype). Each output voxel depends only
 * on the input, so the result is the same for every thread count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

enum nz_kind { NZ_MAX, NZ_MIN, OZ_MAX };

static inline size_t clampi(long i, size_t n)
{
	return i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i;
}

/* A window op's input, output and footprint, checked; free runs and vals with window_free. */
struct f4_window {
	const struct stack *in;
	size_t W, H, D;
	int r[3], ny;
	int *runs;
	double *vals; /* the input as doubles, or NULL (mode reads the u8 voxels) */
};

static void window_free(struct f4_window *w)
{
	free(w->runs);
	free(w->vals);
}

static int window_open(const struct op_call *c, int sphere, int doubles, struct f4_window *w,
		       struct vb_err *err)
{
	const struct stack *in = c->in[0];
	enum dtype want = op_output_dtype(c->op, in ? in->dtype : DT_F32);
	int status;

	*w = (struct f4_window){ .in = in };
	if (!in || !c->out || !in->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(in, c->out) || c->out->dtype != want)
		return vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected the input's "
			       "dims and %s", ref_op_name(c), c->out->width, c->out->height,
			       c->out->depth, dtype_name(c->out->dtype), dtype_name(want));
	if ((status = geom_window_radii_or_unit(c, w->r, err)))
		return status;
	w->W = in->width, w->H = in->height, w->D = in->depth;
	w->ny = 2 * w->r[1] + 1;
	w->runs = malloc((size_t)w->ny * (2 * (size_t)w->r[2] + 1) * sizeof(*w->runs));
	w->vals = doubles ? malloc(stack_voxels(in) * sizeof(*w->vals)) : NULL;
	if (!w->runs || (doubles && !w->vals)) {
		window_free(w);
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate its footprint and a double copy "
			       "of the input; choose a smaller size", ref_op_name(c));
	}
	geom_footprint_runs(sphere, w->r, w->runs);
	if (doubles)
		ref_load_double(in, w->vals, ref_nthreads(c));
	return VB_OK;
}

/* ---- mode ---- */

/* The most frequent u8 value of the window of (x, y, z) inside the stack, the smallest on a tie
 * (the first of the largest counts in value order); hist holds 256 zeros and is left so. */
static uint8_t mode_at(const struct f4_window *w, size_t x, size_t y, size_t z, uint32_t *hist)
{
	const uint8_t *src = w->in->data;
	uint32_t best_count = 0;
	int best = 0;

	for (long dz = -w->r[2]; dz <= w->r[2]; dz++)
		for (long dy = -w->r[1]; dy <= w->r[1]; dy++) {
			long zz = (long)z + dz, yy = (long)y + dy;
			int a = w->runs[(dz + w->r[2]) * w->ny + dy + w->r[1]];

			if (a < 0 || zz < 0 || zz >= (long)w->D || yy < 0 || yy >= (long)w->H)
				continue;
			for (long xx = (long)x - a; xx <= (long)x + a; xx++)
				if (xx >= 0 && xx < (long)w->W)
					hist[src[((size_t)zz * w->H + (size_t)yy) * w->W + (size_t)xx]]++;
		}
	for (int v = 0; v < 256; v++) {
		if (hist[v] > best_count) {
			best_count = hist[v];
			best = v;
		}
		hist[v] = 0;
	}
	return (uint8_t)best;
}

static int mode_filter(const struct op_call *c, int sphere, struct vb_err *err)
{
	struct f4_window w;
	int status = window_open(c, sphere, 0, &w, err), failed = 0;

	if (status)
		return status;
#pragma omp parallel num_threads(ref_nthreads(c))
	{
		uint32_t *hist = calloc(256, sizeof(*hist));

		if (!hist) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(static) collapse(2)
		for (size_t z = 0; z < w.D; z++)
			for (size_t y = 0; y < w.H; y++)
				for (size_t x = 0; x < w.W && hist; x++)
					((uint8_t *)c->out->data)[(z * w.H + y) * w.W + x] =
						mode_at(&w, x, y, z, hist);
		free(hist);
	}
	window_free(&w);
	return failed ? vb_errf(err, VB_E_NOMEM, "%s: cannot allocate a histogram per thread",
				ref_op_name(c)) : VB_OK;
}

/* ---- nonzero and onlyzero extremes ---- */

/* pyclesperanto's rule at voxel i of (x, y, z): NZ_*: a non-zero voxel takes the extreme of
 * itself and its neighbours > 0; OZ_MAX: a zero voxel the largest neighbour > 0. Comparisons in
 * double are the kernel's in the input type (exact values; NaN fails every test, -0 == 0). */
static double nonzero_at(const struct f4_window *w, enum nz_kind kind, size_t x, size_t y,
			 size_t z)
{
	double c = w->vals[(z * w->H + y) * w->W + x], best = c;

	if ((kind == OZ_MAX) != (c == 0))
		return c;
	for (long dz = -w->r[2]; dz <= w->r[2]; dz++)
		for (long dy = -w->r[1]; dy <= w->r[1]; dy++) {
			int a = w->runs[(dz + w->r[2]) * w->ny + dy + w->r[1]];
			size_t row = (clampi((long)z + dz, w->D) * w->H + clampi((long)y + dy, w->H)) *
				     w->W;

			for (long dx = -a; dx <= a; dx++) {
				double v = w->vals[row + clampi((long)x + dx, w->W)];

				if (v > 0 && (kind == NZ_MIN ? v < best : v > best))
					best = v;
			}
		}
	return best;
}

static int nonzero_filter(const struct op_call *c, int diamond, enum nz_kind kind,
			  struct vb_err *err)
{
	struct f4_window w;
	int status = window_open(c, diamond, 1, &w, err), failed = 0;

	if (status)
		return status;
#pragma omp parallel num_threads(ref_nthreads(c))
	{
		double *row = malloc(w.W * sizeof(*row));

		if (!row) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(static) collapse(2)
		for (size_t z = 0; z < w.D; z++)
			for (size_t y = 0; y < w.H; y++) {
				if (!row)
					continue;
				for (size_t x = 0; x < w.W; x++)
					row[x] = nonzero_at(&w, kind, x, y, z);
				ref_row_store(c->out, (z * w.H + y) * w.W, w.W, row);
			}
		free(row);
	}
	window_free(&w);
	return failed ? vb_errf(err, VB_E_NOMEM, "%s: cannot allocate a row per thread",
				ref_op_name(c)) : VB_OK;
}

/* ---- Kuwahara ---- */

/*
 * pyclesperanto 0.25.1's Kuwahara at (x, y, z), in double: the cube of radius r (depth 1: the
 * square), region q (bit 0: x, 1: y, 2: z; clear: d <= 0, set: d >= 0) of the 8 (4) sharing their
 * axis planes, weights exp(-|d|^2 / (2 sigma^2)); per region the weighted mean m and variance
 * (two passes); out = sum m_q / (var_q + 1e-6) over sum 1 / (var_q + 1e-6). `g` holds the
 * weights of the cube, (2r+1)^3 of them.
 */
static double kuwahara_at(const struct f4_window *w, int r, const double *g, size_t x, size_t y,
			  size_t z)
{
	const int regions = w->D > 1 ? 8 : 4, rz = w->D > 1 ? r : 0, n = 2 * r + 1;
	double ws[8] = { 0 }, mean[8] = { 0 }, var[8] = { 0 }, total = 0, blend = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (long dz = -rz; dz <= rz; dz++)
			for (long dy = -r; dy <= r; dy++) {
				size_t row = (clampi((long)z + dz, w->D) * w->H +
					      clampi((long)y + dy, w->H)) * w->W;

				for (long dx = -r; dx <= r; dx++) {
					double v = w->vals[row + clampi((long)x + dx, w->W)];
					double gw = g[((dz + r) * n + dy + r) * n + dx + r];

					for (int q = 0; q < regions; q++) {
						if (dx * ((q & 1) ? 1 : -1) < 0 ||
						    dy * ((q & 2) ? 1 : -1) < 0 ||
						    dz * ((q & 4) ? 1 : -1) < 0)
							continue;
						if (pass == 0) {
							ws[q] += gw;
							mean[q] += gw * v;
						} else {
							var[q] += gw * (v - mean[q]) * (v - mean[q]);
						}
					}
				}
			}
		for (int q = 0; q < regions && pass == 0; q++)
			mean[q] /= ws[q]; /* every region holds the centre, of weight 1 */
	}
	for (int q = 0; q < regions; q++) {
		double inv = 1.0 / (var[q] / ws[q] + 1e-6);

		total += inv;
		blend += mean[q] * inv;
	}
	return blend / total;
}

int ref_kuwahara_filter(const struct op_call *c, struct vb_err *err)
{
	struct f4_window w;
	const int r = (int)op_param(c, "radius"), n = 2 * r + 1;
	const double sigma = op_param(c, "sigma");
	double *g;
	int status;

	if (r < 0 || !(sigma > 0))
		return vb_errf(err, VB_E_ARGS, "%s: radius %d and sigma %g must be >= 0 and > 0",
			       ref_op_name(c), r, sigma);
	if ((status = window_open(c, 0, 1, &w, err)))
		return status;
	g = malloc((size_t)n * n * n * sizeof(*g));
	if (!g) {
		window_free(&w);
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate its weights", ref_op_name(c));
	}
	for (int k = 0; k < n * n * n; k++) {
		int dx = k % n - r, dy = k / n % n - r, dz = k / (n * n) - r;

		g[k] = exp(-(double)(dx * dx + dy * dy + dz * dz) / (2.0 * sigma * sigma));
	}
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static) collapse(2)
	for (size_t z = 0; z < w.D; z++)
		for (size_t y = 0; y < w.H; y++)
			for (size_t x = 0; x < w.W; x++)
				((float *)c->out->data)[(z * w.H + y) * w.W + x] =
					(float)kuwahara_at(&w, r, g, x, y, z);
	free(g);
	window_free(&w);
	return VB_OK;
}

/*
 * The entry points. mode: u8, the most frequent value of the window's voxels inside the stack
 * (not clamped), the smallest on a tie. nonzero_* / onlyzero_*: the fixed radius-1 box (26
 * neighbours) or diamond (6), borders clamped, the input's dtype.
 */
int ref_mode_box(const struct op_call *c, struct vb_err *err)
{
	return mode_filter(c, 0, err);
}

int ref_mode_sphere(const struct op_call *c, struct vb_err *err)
{
	return mode_filter(c, 1, err);
}

int ref_nonzero_maximum_box(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 0, NZ_MAX, err);
}

int ref_nonzero_maximum_diamond(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 1, NZ_MAX, err);
}

int ref_nonzero_minimum_box(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 0, NZ_MIN, err);
}

int ref_nonzero_minimum_diamond(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 1, NZ_MIN, err);
}

int ref_onlyzero_overwrite_maximum_box(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 0, OZ_MAX, err);
}

int ref_onlyzero_overwrite_maximum_diamond(const struct op_call *c, struct vb_err *err)
{
	return nonzero_filter(c, 1, OZ_MAX, err);
}
