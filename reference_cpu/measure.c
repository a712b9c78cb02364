/*
 * reference_cpu/measure.c: distance transform, label dilation and erosion, label statistics.
 *
 * Distances use the Felzenszwalb-Huttenlocher lower envelope of parabolas, one axis at a time,
 * in double; dilation and erosion are the brute-force definitions over the Euclidean ball, and
 * statistics accumulate in double, so each is obviously right rather than fast.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

/*
 * out[q] = min over p of (sp2 (q - p)^2 + f[p]) over the finite f[p]; +inf when none is finite.
 * v, z: n + 1 entries of scratch.
 */
static void edt_line(const double *f, size_t n, double sp2, double *out, size_t *v, double *z)
{
	ptrdiff_t k = -1;

	for (size_t q = 0; q < n; q++) {
		double s = -INFINITY;

		if (isinf(f[q]))
			continue;
		while (k >= 0) {
			size_t p = v[k];
			s = 0.5 * ((double)q + (double)p) +
			    (f[q] - f[p]) / (2.0 * sp2 * ((double)q - (double)p));
			if (s > z[k])
				break;
			k--;
		}
		if (k < 0)
			s = -INFINITY;
		k++;
		v[k] = q;
		z[k] = s;
	}
	if (k < 0) {
		for (size_t q = 0; q < n; q++)
			out[q] = INFINITY;
		return;
	}
	z[k + 1] = INFINITY;
	k = 0;
	for (size_t q = 0; q < n; q++) {
		while (z[k + 1] < (double)q)
			k++;
		out[q] = sp2 * ((double)q - (double)v[k]) * ((double)q - (double)v[k]) + f[v[k]];
	}
}

/* One envelope pass along axis a over every line of the volume t (in place). */
static int edt_axis(double *t, const size_t dims[3], int a, double sp, int threads)
{
	size_t n = dims[a], stride = a == 0 ? 1 : a == 1 ? dims[0] : dims[0] * dims[1];
	size_t lines = dims[0] * dims[1] * dims[2] / n;
	int failed = 0;

#pragma omp parallel num_threads(threads) reduction(| : failed)
	{
		double *f = malloc(n * sizeof(*f)), *o = malloc(n * sizeof(*o));
		double *z = malloc((n + 1) * sizeof(*z));
		size_t *v = malloc((n + 1) * sizeof(*v));

		failed = !f || !o || !z || !v;
#pragma omp for schedule(static)
		for (size_t l = 0; l < lines; l++) {
			/* line l: the other two axes, lower one fastest */
			size_t base = a == 0 ? l * dims[0]
				      : a == 1 ? (l % dims[0]) + (l / dims[0]) * dims[0] * dims[1]
					       : l;
			if (failed)
				continue;
			for (size_t q = 0; q < n; q++)
				f[q] = t[base + q * stride];
			edt_line(f, n, sp * sp, o, v, z);
			for (size_t q = 0; q < n; q++)
				t[base + q * stride] = o[q];
		}
		free(f);
		free(o);
		free(z);
		free(v);
	}
	return failed;
}

/*
 * Exact Euclidean distance of every non-zero voxel to the nearest zero voxel (zeros get 0), in
 * units of params "voxel_size_x/y/z"; f32 out. Felzenszwalb-Huttenlocher lower envelopes per line
 * over squared distances in double, sqrt at the end (scipy distance_transform_edt with
 * sampling=(sz, sy, sx)). A stack without any zero voxel gives +inf everywhere (scipy then
 * measures to a phantom zero just before the first voxel).
 */
int ref_distance_transform_edt(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t dims[3] = { in->width, in->height, in->depth }, n = stack_voxels(in);
	double sp[3] = { op_param(c, "voxel_size_x"), op_param(c, "voxel_size_y"),
			 op_param(c, "voxel_size_z") };
	double *t = malloc(n * sizeof(*t));
	float *out = c->out->data;

	if (!t)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %zu voxels", ref_op_name(c), n);
	ref_load_double(in, t, ref_nthreads(c));
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (size_t i = 0; i < n; i++)
		t[i] = t[i] != 0 ? INFINITY : 0.0;
	for (int a = 0; a < 3; a++)
		if (edt_axis(t, dims, a, sp[a], ref_nthreads(c))) {
			free(t);
			return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
		}
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (size_t i = 0; i < n; i++)
		out[i] = (float)sqrt(t[i]);
	free(t);
	return VB_OK;
}

/* Every (dx, dy, dz) with dx^2 + dy^2 + dz^2 <= r^2 (clipped to a length-1 axis' 0). */
struct ball {
	int n;
	int (*o)[4]; /* dx, dy, dz, squared distance */
};

static int ball_make(struct ball *b, int r, const size_t dims[3])
{
	int rx = dims[0] > 1 ? r : 0, ry = dims[1] > 1 ? r : 0, rz = dims[2] > 1 ? r : 0;

	b->n = 0;
	b->o = malloc((size_t)(2 * rx + 1) * (2 * ry + 1) * (2 * rz + 1) * sizeof(*b->o));
	if (!b->o)
		return -1;
	for (int dz = -rz; dz <= rz; dz++)
		for (int dy = -ry; dy <= ry; dy++)
			for (int dx = -rx; dx <= rx; dx++) {
				int d2 = dx * dx + dy * dy + dz * dz;

				if (d2 > r * r)
					continue;
				b->o[b->n][0] = dx;
				b->o[b->n][1] = dy;
				b->o[b->n][2] = dz;
				b->o[b->n][3] = d2;
				b->n++;
			}
	return 0;
}

/*
 * For every voxel (x, y, z) of in, fn(ball, in, lab, x, y, z) gives the output label. Rows of z
 * planes are independent, so any thread count gives the same result.
 */
typedef uint32_t (*ball_fn)(const struct ball *b, const struct stack *in, const uint32_t *lab,
			    long x, long y, long z);

static int ball_op(const struct op_call *c, ball_fn fn, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t dims[3] = { in->width, in->height, in->depth }, n = stack_voxels(in);
	uint32_t *lab = malloc(n * sizeof(*lab)), *out = c->out->data;
	struct ball b;

	if (!lab || ball_make(&b, (int)op_param(c, "radius"), dims)) {
		free(lab);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	}
	ref_load_labels(in, lab, ref_nthreads(c));
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(dynamic, 1)
	for (size_t z = 0; z < dims[2]; z++)
		for (size_t y = 0; y < dims[1]; y++)
			for (size_t x = 0; x < dims[0]; x++)
				out[x + dims[0] * (y + dims[1] * z)] =
					fn(&b, in, lab, (long)x, (long)y, (long)z);
	free(b.o);
	free(lab);
	return VB_OK;
}

/* The voxel's own label, else the nearest label within the ball (smallest label on ties). */
static uint32_t dilate_voxel(const struct ball *b, const struct stack *in, const uint32_t *lab,
			     long x, long y, long z)
{
	long w = (long)in->width, h = (long)in->height, d = (long)in->depth;
	uint32_t best = lab[x + w * (y + h * z)];
	int best_d2 = 0;

	if (best)
		return best;
	for (int i = 0; i < b->n; i++) {
		long nx = x + b->o[i][0], ny = y + b->o[i][1], nz = z + b->o[i][2];
		uint32_t l;

		if (nx < 0 || ny < 0 || nz < 0 || nx >= w || ny >= h || nz >= d)
			continue;
		l = lab[nx + w * (ny + h * nz)];
		if (l && (!best || b->o[i][3] < best_d2 || (b->o[i][3] == best_d2 && l < best))) {
			best = l;
			best_d2 = b->o[i][3];
		}
	}
	return best;
}

/* The voxel's label if every in-image voxel of the ball has it, else 0. */
static uint32_t erode_voxel(const struct ball *b, const struct stack *in, const uint32_t *lab,
			    long x, long y, long z)
{
	long w = (long)in->width, h = (long)in->height, d = (long)in->depth;
	uint32_t own = lab[x + w * (y + h * z)];

	if (!own)
		return 0;
	for (int i = 0; i < b->n; i++) {
		long nx = x + b->o[i][0], ny = y + b->o[i][1], nz = z + b->o[i][2];

		if (nx < 0 || ny < 0 || nz < 0 || nx >= w || ny >= h || nz >= d)
			continue;
		if (lab[nx + w * (ny + h * nz)] != own)
			return 0;
	}
	return own;
}

/*
 * Labels (> 0) grow into background voxels within Euclidean distance "radius" (isotropic voxels):
 * each such voxel takes the label of its nearest labelled voxel, the smallest label on ties; u32.
 */
int ref_dilate_labels(const struct op_call *c, struct vb_err *err)
{
	return ball_op(c, dilate_voxel, err);
}

/*
 * A labelled voxel keeps its label iff every voxel of the image within Euclidean distance
 * "radius" has the same label (background and other labels erode it); else 0. u32.
 */
int ref_erode_labels(const struct op_call *c, struct vb_err *err)
{
	return ball_op(c, erode_voxel, err);
}

/* The table's rows before any voxel: label numbers, zero sums, empty extremes. */
static void statistics_init(double *t, size_t rows)
{
	for (size_t r = 0; r < rows; r++) {
		double *row = t + r * STATISTICS_COLUMNS;

		for (int k = 0; k < STATISTICS_COLUMNS; k++)
			row[k] = 0;
		row[STAT_LABEL] = (double)(r + 1);
		row[STAT_MIN] = row[STAT_BBOX_MIN_X] = row[STAT_BBOX_MIN_Y] = row[STAT_BBOX_MIN_Z] =
			INFINITY;
		row[STAT_MAX] = row[STAT_BBOX_MAX_X] = row[STAT_BBOX_MAX_Y] = row[STAT_BBOX_MAX_Z] =
			-INFINITY;
	}
}

/*
 * The statistics visit each label's voxels in raster order, as one thread walking the stack
 * would, so every thread count gives the same sums bit for bit; and the labels are shared out
 * among the threads, so neither the label count nor the thread count multiplies the voxels.
 * The voxels are first sorted by label (a counting sort over CHUNKS fixed ranges of voxels,
 * each range's voxels kept in order), then each label's run is added up on its own.
 */
#define STAT_COUNT_BYTES ((size_t)256 << 20)
#define STAT_MAX_CHUNKS 64

struct label_runs {
	uint32_t *index;  /* voxel indices, grouped by label, raster order within a label */
	size_t *start;    /* rows + 1: label l's run is index[start[l - 1] .. start[l]) */
};

/* The ranges of the counting sort: as many as STAT_COUNT_BYTES of counters allow. */
static size_t sort_chunks(size_t rows, size_t n)
{
	size_t k = STAT_COUNT_BYTES / ((rows + 1) * sizeof(uint32_t));

	k = k < STAT_MAX_CHUNKS ? k : STAT_MAX_CHUNKS;
	k = k < n ? k : n;
	return k ? k : 1;
}

/* The label of voxel i of labels (values <= 0 or above rows: none, 0). */
static inline uint32_t label_of(const struct stack *labels, size_t i, size_t rows)
{
	double v = stack_get(labels, i);

	return v > 0 && v <= (double)rows ? (uint32_t)v : 0;
}

/* Where the run of equal values that starts at voxel i ends (at most end), its label in *l. Equal
 * values have one label; equal labels may span several runs (3.2 then 3.7), which is fine. */
static size_t run_end(const struct stack *labels, size_t i, size_t end, size_t rows, uint32_t *l)
{
	size_t j = i + 1;

	*l = label_of(labels, i, rows);
	STACK_SWITCH_DTYPE(labels->dtype, L,
		const L *v = labels->data;
		while (j < end && v[j] == v[i])
			j++;
	)
	return j;
}

static int sort_by_label(const struct stack *labels, size_t rows, int nt, struct label_runs *r)
{
	size_t n = stack_voxels(labels), chunks = sort_chunks(rows, n);
	uint32_t *count = calloc(chunks * (rows + 1), sizeof(*count));
	size_t *pos = NULL;

	r->index = malloc((n ? n : 1) * sizeof(*r->index));
	r->start = calloc(rows + 1, sizeof(*r->start));
	pos = malloc(chunks * (rows + 1) * sizeof(*pos));
	if (!count || !r->index || !r->start || !pos || n >= LABEL_MAX_VOXELS) {
		free(count);
		free(pos);
		return -1;
	}
	/* both passes go by runs of one label, so consecutive voxels do not wait on one counter */
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
	for (size_t k = 0; k < chunks; k++) {
		size_t i = n * k / chunks, end = n * (k + 1) / chunks;

		while (i < end) {
			uint32_t l;
			size_t j = run_end(labels, i, end, rows, &l);

			count[k * (rows + 1) + l] += (uint32_t)(j - i);
			i = j;
		}
	}
	/* label l's chunk k writes after every earlier label, and after chunks 0 .. k-1 of l */
	for (size_t l = 1, at = 0; l <= rows; l++) {
		for (size_t k = 0; k < chunks; k++) {
			pos[k * (rows + 1) + l] = at;
			at += count[k * (rows + 1) + l];
		}
		r->start[l] = at;
	}
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
	for (size_t k = 0; k < chunks; k++) {
		size_t *p = pos + k * (rows + 1), i = n * k / chunks, end = n * (k + 1) / chunks;

		while (i < end) {
			uint32_t l;
			size_t j = run_end(labels, i, end, rows, &l);

			if (l) {
				uint32_t *to = r->index + p[l];

				for (size_t v = i; v < j; v++)
					to[v - i] = (uint32_t)v;
				p[l] += j - i;
			}
			i = j;
		}
	}
	free(count);
	free(pos);
	return 0;
}

/*
 * A label's run is added up in segments of STAT_SEGMENT voxels, so one huge label (the
 * background of statistics_of_background_and_labelled_pixels, half the stack) is shared out
 * like many small ones. The segments are fixed by the run, not by the thread count, and their
 * sums are added in order: the same bits on any thread count. A label of one segment is summed
 * in raster order, as one thread walking the stack would.
 */
#define STAT_SEGMENT ((size_t)1 << 18)

struct segment {
	uint32_t label;
	size_t at, len;               /* within the label's run */
	double sum, mn, mx, dev;
	uint64_t sum_pos[3];
	size_t lo[3], hi[3];
};

/* First pass over a segment: sums and extremes. Coordinates are integers (their sums exact); a
 * voxel that follows its predecessor in x takes its y and z, so the divisions are paid once per
 * x run. */
static void segment_sums(const struct stack *img, const struct stack *labels, const uint32_t *run,
			 struct segment *g)
{
	size_t w = labels->width, h = labels->height, x = 0, y = 0, z = 0, prev = 0;

	g->sum = 0, g->mn = INFINITY, g->mx = -INFINITY;
	for (int a = 0; a < 3; a++)
		g->sum_pos[a] = 0, g->lo[a] = SIZE_MAX, g->hi[a] = 0;
	for (size_t k = 0; k < g->len; k++) {
		size_t i = run[k], pos[3];
		double v = stack_get(img, i);

		if (k && i == prev + 1 && x + 1 < w) {
			x++;
		} else {
			size_t q = i / w;

			x = i - q * w, y = q % h, z = q / h;
		}
		prev = i;
		pos[0] = x, pos[1] = y, pos[2] = z;
		g->sum += v;
		g->mn = v < g->mn ? v : g->mn; /* NaN never wins, as with fmin */
		g->mx = v > g->mx ? v : g->mx;
		for (int a = 0; a < 3; a++) {
			g->sum_pos[a] += pos[a];
			g->lo[a] = pos[a] < g->lo[a] ? pos[a] : g->lo[a];
			g->hi[a] = pos[a] > g->hi[a] ? pos[a] : g->hi[a];
		}
	}
}

/* Second pass: the squared deviations from the label's mean (not sum of squares minus squared
 * sum). */
static void segment_dev(const struct stack *img, const uint32_t *run, double mean,
			struct segment *g)
{
	g->dev = 0;
	for (size_t k = 0; k < g->len; k++) {
		double d = stack_get(img, run[k]) - mean;

		g->dev += d * d;
	}
}

/* Label l's row from its segments g[0 .. n-1] (the first pass done): all but the deviation. */
static void row_from_segments(const struct segment *g, size_t n, size_t len, double *row)
{
	uint64_t sum_pos[3] = { 0, 0, 0 };
	size_t lo[3] = { SIZE_MAX, SIZE_MAX, SIZE_MAX }, hi[3] = { 0, 0, 0 };
	double sum = 0, mn = INFINITY, mx = -INFINITY;

	row[STAT_AREA] = (double)len;
	if (len == 0) { /* a gap in the numbering: area and sum 0, the rest NaN */
		for (int c = STAT_MEAN; c < STATISTICS_COLUMNS; c++)
			row[c] = NAN;
		return;
	}
	for (size_t s = 0; s < n; s++) {
		sum = s ? sum + g[s].sum : g[s].sum;
		mn = g[s].mn < mn ? g[s].mn : mn;
		mx = g[s].mx > mx ? g[s].mx : mx;
		for (int a = 0; a < 3; a++) {
			sum_pos[a] += g[s].sum_pos[a];
			lo[a] = g[s].lo[a] < lo[a] ? g[s].lo[a] : lo[a];
			hi[a] = g[s].hi[a] > hi[a] ? g[s].hi[a] : hi[a];
		}
	}
	row[STAT_SUM] = sum;
	row[STAT_MIN] = mn;
	row[STAT_MAX] = mx;
	row[STAT_MEAN] = sum / (double)len;
	for (int a = 0; a < 3; a++) {
		row[STAT_CENTROID_X + a] = (double)sum_pos[a] / (double)len;
		row[STAT_BBOX_MIN_X + a] = (double)lo[a];
		row[STAT_BBOX_MAX_X + a] = (double)hi[a];
	}
}

/* The segments of every label's run, in label order; first[l - 1] is label l's first. */
static struct segment *segments_of(const struct label_runs *r, size_t rows, size_t *first,
				   size_t *count)
{
	size_t n = 0;
	struct segment *g;

	for (size_t l = 1; l <= rows; l++) {
		size_t len = r->start[l] - r->start[l - 1];

		first[l - 1] = n;
		n += len > STAT_SEGMENT ? (len + STAT_SEGMENT - 1) / STAT_SEGMENT : 1;
	}
	first[rows] = n;
	*count = n;
	g = malloc((n ? n : 1) * sizeof(*g));
	for (size_t l = 1; g && l <= rows; l++) {
		size_t len = r->start[l] - r->start[l - 1];

		for (size_t s = first[l - 1]; s < first[l]; s++) {
			g[s].label = (uint32_t)l;
			g[s].at = (s - first[l - 1]) * STAT_SEGMENT;
			g[s].len = len - g[s].at < STAT_SEGMENT ? len - g[s].at : STAT_SEGMENT;
		}
	}
	return g;
}

/* Per label (index label - 1) in double: STATISTICS_COLUMNS values each; -1 when out of memory. */
static int statistics_table(const struct stack *img, const struct stack *labels, size_t rows,
			    double *t, int threads)
{
	struct label_runs r = { 0 };
	int nt = threads > 0 ? threads : 1, status = sort_by_label(labels, rows, nt, &r);
	size_t *first = status ? NULL : malloc((rows + 1) * sizeof(*first)), n = 0;
	struct segment *g = first ? segments_of(&r, rows, first, &n) : NULL;

	if (!g) {
		status = -1;
		goto out;
	}
	statistics_init(t, rows);
#pragma omp parallel num_threads(nt)
	{
#pragma omp for schedule(dynamic, 16)
		for (size_t s = 0; s < n; s++)
			segment_sums(img, labels, r.index + r.start[g[s].label - 1] + g[s].at, &g[s]);
#pragma omp for schedule(dynamic, 64)
		for (size_t l = 1; l <= rows; l++)
			row_from_segments(g + first[l - 1], first[l] - first[l - 1],
					  r.start[l] - r.start[l - 1], t + (l - 1) * STATISTICS_COLUMNS);
#pragma omp for schedule(dynamic, 16)
		for (size_t s = 0; s < n; s++)
			segment_dev(img, r.index + r.start[g[s].label - 1] + g[s].at,
				    t[(g[s].label - 1) * STATISTICS_COLUMNS + STAT_MEAN], &g[s]);
#pragma omp for schedule(dynamic, 64)
		for (size_t l = 1; l <= rows; l++) {
			double *row = t + (l - 1) * STATISTICS_COLUMNS, dev = 0;

			if (row[STAT_AREA] == 0)
				continue;
			for (size_t s = first[l - 1]; s < first[l]; s++)
				dev = s > first[l - 1] ? dev + g[s].dev : g[s].dev;
			row[STAT_STD] = sqrt(dev / row[STAT_AREA]);
		}
	}
out:
	free(g);
	free(first);
	free(r.index);
	free(r.start);
	return status;
}

int ref_statistics_of_labelled_pixels(const struct op_call *c, struct vb_err *err)
{
	size_t rows = c->out->height, n = rows * STATISTICS_COLUMNS;
	double *t = malloc(n * sizeof(*t));
	float *out = c->out->data;

	if (!t)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %zu labels", ref_op_name(c),
			       rows);
	if (!ref_same_dims(c->in[0], c->in[1])) {
		free(t);
		return vb_errf(err, VB_E_ARGS, "%s: the intensity and label images differ in size",
			       ref_op_name(c));
	}
	if (statistics_table(c->in[0], c->in[1], rows, t, ref_nthreads(c))) {
		free(t);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for the tables of %zu labels",
			       ref_op_name(c), rows);
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (float)t[i];
	free(t);
	return VB_OK;
}

/* Centroids of labels 1..N of in[0] (values <= 0 are background): f32, N wide, 3 rows (x, y, z),
 * depth 1; a label without voxels gets NaN. */
int ref_centroids_of_labels(const struct op_call *c, struct vb_err *err)
{
	size_t rows = c->out->width;
	double *t = malloc(rows * STATISTICS_COLUMNS * sizeof(*t));
	float *out = c->out->data;

	if (!t)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %zu labels", ref_op_name(c),
			       rows);
	if (statistics_table(c->in[0], c->in[0], rows, t, ref_nthreads(c))) {
		free(t);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for the tables of %zu labels",
			       ref_op_name(c), rows);
	}
	for (size_t r = 0; r < rows; r++)
		for (int a = 0; a < 3; a++)
			out[r + rows * a] = (float)t[r * STATISTICS_COLUMNS + STAT_CENTROID_X + a];
	free(t);
	return VB_OK;
}

/*
 * The Voronoi growth below visits only the front: a voxel labelled at step j has no unlabelled
 * neighbour left after steps j + 1 and j + 2 (one of them takes the whole 3x3x3 box), so the
 * voxels a step can label all touch one labelled at one of the two steps before it. Each step
 * reads the state before it and writes after, as a full sweep would: the same labels, in any
 * thread count and any order of the front.
 */
struct index_list {
	uint32_t *v;
	size_t n, cap;
};

static int list_push(struct index_list *l, uint32_t i)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = i;
	return 0;
}

/* The index offsets of a voxel's 26 box neighbours, the 6 face ones first (used away from the
 * borders, where no neighbour needs a bounds check). */
struct neighbours {
	long off[26];
};

static struct neighbours neighbours_of(const long dims[3])
{
	struct neighbours nb;
	int n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (long dz = -1; dz <= 1; dz++)
			for (long dy = -1; dy <= 1; dy++)
				for (long dx = -1; dx <= 1; dx++) {
					int axes = (dx != 0) + (dy != 0) + (dz != 0);

					if (axes && (axes == 1) == (pass == 0))
						nb.off[n++] = dx + dims[0] * (dy + dims[1] * dz);
				}
	return nb;
}

static inline int interior(const long dims[3], long x, long y, long z)
{
	return x > 0 && y > 0 && z > 0 && x + 1 < dims[0] && y + 1 < dims[1] && z + 1 < dims[2];
}

/* The largest value among voxel i's neighbours (box: 26, else 6), 0 when none is larger. */
static int32_t neighbour_max(const int32_t *s, const long dims[3], const struct neighbours *nb,
			     long x, long y, long z, int box)
{
	int32_t v = 0;

	if (interior(dims, x, y, z)) {
		const int32_t *c = s + x + dims[0] * (y + dims[1] * z);

		for (int k = 0; k < (box ? 26 : 6); k++)
			v = c[nb->off[k]] > v ? c[nb->off[k]] : v;
		return v;
	}
	for (long dz = -1; dz <= 1; dz++)
		for (long dy = -1; dy <= 1; dy++)
			for (long dx = -1; dx <= 1; dx++) {
				long nx = x + dx, ny = y + dy, nz = z + dz;

				if ((!box && (dx != 0) + (dy != 0) + (dz != 0) > 1) || nx < 0 ||
				    ny < 0 || nz < 0 || nx >= dims[0] || ny >= dims[1] || nz >= dims[2])
					continue;
				v = s[nx + dims[0] * (ny + dims[1] * nz)] > v
					    ? s[nx + dims[0] * (ny + dims[1] * nz)] : v;
			}
	return v;
}

static inline int take(const int32_t *s, uint8_t *taken, uint32_t q, struct index_list *out)
{
	/* a plain read first: most candidates are already taken, and the exchange locks the bus */
	return s[q] == 0 && !__atomic_load_n(&taken[q], __ATOMIC_RELAXED) &&
	       !__atomic_exchange_n(&taken[q], 1, __ATOMIC_RELAXED) && list_push(out, q);
}

/* The unlabelled (0) neighbours of front voxel i not yet taken this step, into out. */
static int front_candidates(const int32_t *s, uint8_t *taken, const long dims[3],
			    const struct neighbours *nb, uint32_t i, int box,
			    struct index_list *out)
{
	long x = (long)(i % (size_t)dims[0]), y = (long)(i / (size_t)dims[0] % (size_t)dims[1]);
	long z = (long)(i / ((size_t)dims[0] * (size_t)dims[1]));

	if (interior(dims, x, y, z)) {
		for (int k = 0; k < (box ? 26 : 6); k++)
			if (take(s, taken, (uint32_t)((long)i + nb->off[k]), out))
				return -1;
		return 0;
	}
	for (long dz = -1; dz <= 1; dz++)
		for (long dy = -1; dy <= 1; dy++)
			for (long dx = -1; dx <= 1; dx++) {
				long nx = x + dx, ny = y + dy, nz = z + dz;

				if ((!box && (dx != 0) + (dy != 0) + (dz != 0) != 1) || nx < 0 ||
				    ny < 0 || nz < 0 || nx >= dims[0] || ny >= dims[1] || nz >= dims[2])
					continue;
				if (take(s, taken, (uint32_t)(nx + dims[0] * (ny + dims[1] * nz)), out))
					return -1;
			}
	return 0;
}

/* Per thread: the voxels it labelled at the last two steps, and this step's candidates. */
struct grow_thread {
	struct index_list last[2], now;
	int32_t *values;
	size_t values_cap;
};

/* One step: candidates from both fronts, their values from the state before, then written. */
static int grow_step(int32_t *s, uint8_t *taken, const long dims[3], int box,
		     struct grow_thread *g, int nt)
{
	const struct neighbours nb = neighbours_of(dims);
	int failed = 0;
	size_t labelled = 0;

#pragma omp parallel num_threads(nt) reduction(| : failed) reduction(+ : labelled)
	{
		struct grow_thread *own = &g[REF_THREAD_NUM()];

		own->now.n = 0;
		for (int f = 0; f < 2; f++)
			for (int t = 0; t < nt; t++) {
#pragma omp for schedule(dynamic, 4096) nowait
				for (size_t k = 0; k < g[t].last[f].n; k++)
					failed |= front_candidates(s, taken, dims, &nb,
								   g[t].last[f].v[k], box, &own->now);
			}
#pragma omp barrier
		if (own->now.n > own->values_cap) {
			int32_t *v = realloc(own->values, own->now.n * sizeof(*v));

			failed |= !v;
			if (v) {
				own->values = v;
				own->values_cap = own->now.n;
			}
		}
		for (size_t k = 0; !failed && k < own->now.n; k++) {
			uint32_t q = own->now.v[k];
			long x = (long)(q % (size_t)dims[0]);
			long y = (long)(q / (size_t)dims[0] % (size_t)dims[1]);
			long z = (long)(q / ((size_t)dims[0] * (size_t)dims[1]));

			own->values[k] = neighbour_max(s, dims, &nb, x, y, z, box);
		}
#pragma omp barrier
		for (size_t k = 0; !failed && k < own->now.n; k++) {
			s[own->now.v[k]] = own->values[k];
			taken[own->now.v[k]] = 0;
		}
		labelled += own->now.n;
		/* the front two steps back is done with: it becomes this step's list */
		{
			struct index_list old = own->last[1];

			own->last[1] = own->last[0];
			own->last[0] = own->now;
			own->now = old;
		}
	}
	return failed ? -1 : labelled > 0;
}

/* Grow the positive labels of s into its 0 voxels, box and 6-neighbour steps alternating, until
 * no step labels a voxel. -1 when out of memory. */
int ref_voronoi_grow(int32_t *s, const size_t sdims[3], int nt)
{
	const long dims[3] = { (long)sdims[0], (long)sdims[1], (long)sdims[2] };
	size_t n = sdims[0] * sdims[1] * sdims[2];
	struct grow_thread *g = calloc((size_t)nt, sizeof(*g));
	uint8_t *taken = calloc(n ? n : 1, 1);
	int status = g && taken ? 0 : -1, box = 1, more = 1;

	/* the seeds are the first front, split between the threads by position */
#pragma omp parallel num_threads(nt) reduction(| : status)
	{
		struct index_list *own = &g[REF_THREAD_NUM()].last[0];

#pragma omp for schedule(static)
		for (size_t i = 0; i < n; i++)
			if (!status && s[i] > 0 && list_push(own, (uint32_t)i))
				status = -1;
	}
	while (!status && more) {
		more = grow_step(s, taken, dims, box, g, nt);
		status = more < 0 ? -1 : 0;
		box = !box;
	}
	for (int t = 0; g && t < nt; t++) {
		free(g[t].last[0].v);
		free(g[t].last[1].v);
		free(g[t].now.v);
		free(g[t].values);
	}
	free(g);
	free(taken);
	return status;
}

/*
 * clEsperanto's masked_voronoi_labeling: the 26-connected components of in[0] (raster order)
 * grow into the non-zero voxels of the mask in[1], alternating 3x3x3-box and 6-neighbour steps
 * in which a 0 voxel takes its neighbourhood's maximum (the larger label wins ties), until
 * nothing changes; voxels outside the mask are walls (a seed outside it drops by one, as there),
 * and end 0. u32.
 */
int ref_masked_voronoi_labeling(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0], *mask = c->in[1];
	size_t dims[3] = { in->width, in->height, in->depth }, n = stack_voxels(in);
	int32_t *s = malloc(n * sizeof(*s));
	uint32_t *out = c->out->data;
	int status;

	if (!s)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", ref_op_name(c));
	if (!ref_same_dims(in, mask)) {
		free(s);
		return vb_errf(err, VB_E_ARGS, "%s: the seeds and the mask differ in size",
			       ref_op_name(c));
	}
	status = ref_label_binary(in, 26, ref_nthreads(c), c->out, err); /* the seeds, into the output */
	if (status) {
		free(s);
		return status;
	}
	status = ref_grow_labels(c, out, mask, s, dims, err);
	free(s);
	return status;
}

/* reference_cpu/internal.h */
int ref_grow_labels(const struct op_call *c, uint32_t *out, const struct stack *mask, int32_t *s,
		    const size_t dims[3], struct vb_err *err)
{
	size_t n = dims[0] * dims[1] * dims[2];

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (size_t i = 0; i < n; i++)
		s[i] = (int32_t)out[i] - (!mask || stack_get(mask, i) != 0 ? 0 : 1);
	if (ref_voronoi_grow(s, dims, ref_nthreads(c)))
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for the growing front",
			       ref_op_name(c));
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (size_t i = 0; i < n; i++)
		out[i] = (!mask || stack_get(mask, i) != 0) && s[i] > 0 ? (uint32_t)s[i] : 0;
	return VB_OK;
}

/* Run another op's reference (the steps of voronoi_otsu_labeling) into out; its side value into
 * *side when not NULL. */
static int run_ref_op(const struct op_call *c, const char *name, const double *params,
		      const struct stack *a, const struct stack *b, struct stack *out,
		      double *side, struct vb_err *err)
{
	const struct op_desc *op = op_find(name);
	double ignored = 0;
	struct op_call s = { .op = op, .in = { a, b }, .out = out, .threads = c->threads,
			     .side_value = side ? side : &ignored };

	if (!op)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s needs %s", ref_op_name(c), name);
	op_default_params(op, s.p);
	for (int i = 0; params && i < op_param_count(op); i++)
		s.p[i] = params[i];
	return op->ref(&s, err);
}

/*
 * How far the GPU's float Gaussian may lie from the reference's: each of the three passes adds
 * 2 ceil(4 sigma) + 1 products in float, whose rounding is bounded by taps * FLT_EPSILON of the
 * largest magnitude. Decisions taken within this of their threshold are ambiguous.
 */
double ref_blur_tolerance(const struct stack *blur, double sigma, int threads)
{
	double largest = ref_max_abs(blur, threads), taps = 2.0 * ceil(4.0 * sigma) + 1.0;

	return 3.0 * taps * FLT_EPSILON * fmax(largest, FLT_MIN);
}

/* Mark the voxels whose local-maximum decision (detect_maxima_box radius 1) is within tol: their
 * value and the largest of their 26 neighbours lie within tol of each other. */
static void mark_near_maxima(const struct stack *blur, double tol, uint8_t *ambiguous, int threads)
{
	long w = (long)blur->width, h = (long)blur->height, d = (long)blur->depth;
	const float *v = blur->data;

#pragma omp parallel for num_threads(threads) schedule(static)
	for (long z = 0; z < d; z++)
		for (long y = 0; y < h; y++)
			for (long x = 0; x < w; x++) {
				size_t i = (size_t)(x + w * (y + h * z));
				float m = -INFINITY;

				for (long dz = z > 0 ? -1 : 0; dz <= (z + 1 < d); dz++)
					for (long dy = y > 0 ? -1 : 0; dy <= (y + 1 < h); dy++)
						for (long dx = x > 0 ? -1 : 0; dx <= (x + 1 < w); dx++)
							if (dx || dy || dz)
							{
								float u = v[i + dx + w * (dy + h * dz)];

								m = u > m ? u : m; /* NaN never wins, as with fmaxf */
							}
				if (fabs((double)v[i] - (double)m) <= tol)
					ambiguous[i] = 1;
			}
}

/*
 * clEsperanto's voronoi_otsu_labeling: seeds = detect_maxima_box (radius 1) of
 * gaussian_blur(spot_sigma), mask = threshold_otsu of gaussian_blur(outline_sigma), then
 * masked_voronoi_labeling(seeds and mask, mask); each step is that op's reference. u32.
 */
int ref_voronoi_otsu_labeling(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	double spot = op_param(c, "spot_sigma"), outline = op_param(c, "outline_sigma");
	double spot3[3] = { spot, spot, spot }, outline3[3] = { outline, outline, outline };
	struct stack blur = { 0 }, spots = { 0 }, mask = { 0 }, seeds = { 0 };
	double threshold = 0;
	int status;

	if ((status = stack_alloc(&blur, in->width, in->height, in->depth, DT_F32, err)) ||
	    (status = stack_alloc(&spots, in->width, in->height, in->depth, DT_U8, err)) ||
	    (status = stack_alloc(&mask, in->width, in->height, in->depth, DT_U8, err)) ||
	    (status = stack_alloc(&seeds, in->width, in->height, in->depth, DT_U8, err)))
		goto out;
	/* the ambiguous voxels: seeds and mask voxels decided within the blurs' float error */
	if ((status = run_ref_op(c, "gaussian_blur", spot3, in, NULL, &blur, NULL, err)) ||
	    (status = run_ref_op(c, "detect_maxima_box", NULL, &blur, NULL, &spots, NULL, err)))
		goto out;
	if (c->ambiguous)
		mark_near_maxima(&blur, ref_blur_tolerance(&blur, spot, ref_nthreads(c)), c->ambiguous,
				 ref_nthreads(c));
	if ((status = run_ref_op(c, "gaussian_blur", outline3, in, NULL, &blur, NULL, err)) ||
	    (status = run_ref_op(c, "threshold_otsu", NULL, &blur, NULL, &mask, &threshold, err)))
		goto out;
	if (c->ambiguous)
		ref_mark_near(&blur, threshold, ref_blur_tolerance(&blur, outline, ref_nthreads(c)) +
			      ref_threshold_tolerance(threshold), c->ambiguous, ref_nthreads(c));
	if ((status = run_ref_op(c, "binary_and", NULL, &spots, &mask, &seeds, NULL, err)))
		goto out;
	status = run_ref_op(c, "masked_voronoi_labeling", NULL, &seeds, &mask, c->out, NULL, err);
out:
	stack_free(&blur);
	stack_free(&spots);
	stack_free(&mask);
	stack_free(&seeds);
	return status;
}
