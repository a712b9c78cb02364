/*
 * reference_cpu/projection.c: projections along an axis, and the sum of every voxel.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

int ref_maximum_z_projection(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t W, H, D, scratch_bytes;
	const int nt = ref_nthreads(c);
	double *scratch = NULL;
	int status = VB_OK;

	if (!in || !out || !in->data || !out->data) {
		status = vb_errf(err, VB_E_ARGS, "%s: missing input or output stack",
				 ref_op_name(c));
		goto out;
	}
	W = in->width;
	H = in->height;
	D = in->depth;
	if (out->width != W || out->height != H || out->depth != 1 || out->dtype != in->dtype) {
		status = vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected %zux%zux1 %s",
				 ref_op_name(c), out->width, out->height, out->depth,
				 dtype_name(out->dtype), W, H, dtype_name(in->dtype));
		goto out;
	}
	if (vb_mul_size(2 * W, (size_t)nt * sizeof(double), &scratch_bytes) < 0 ||
	    !(scratch = malloc(scratch_bytes))) {
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate row buffers for width %zu",
				 ref_op_name(c), W);
		goto out;
	}

	/* One row y per iteration: m(x) = max over z of in(x, y, z), rows read x-contiguous. */
#pragma omp parallel num_threads(nt)
	{
		double *m = scratch + (size_t)REF_THREAD_NUM() * 2 * W, *v = m + W;
		size_t y;

#pragma omp for schedule(static)
		for (y = 0; y < H; y++) {
			size_t z, x;

			ref_row_load(in, y * W, W, m);
			for (z = 1; z < D; z++) {
				ref_row_load(in, (z * H + y) * W, W, v);
				for (x = 0; x < W; x++)
					m[x] = v[x] > m[x] ? v[x] : m[x];
			}
			ref_row_store(out, y * W, W, m); /* exact: values of the same dtype */
		}
	}
out:
	free(scratch);
	return status;
}

/* Voxels summed per block; a block's sum is one sequential double accumulation. */
#define SUM_BLOCK ((size_t)1 << 16)

/* Sum of voxels [start, start + n) of s, in order, in double. */
static double block_sum(const struct stack *s, size_t start, size_t n)
{
	double sum = 0.0;
	size_t i;

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = (const T *)s->data + start;
		for (i = 0; i < n; i++)
			sum += p[i];
	)
	return sum;
}

int ref_sum_of_all_pixels(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t n, nblocks, b;
	double *partial = NULL, total = 0.0;
	int status = VB_OK;

	if (!in || !out || !in->data || !out->data) {
		status = vb_errf(err, VB_E_ARGS, "%s: missing input or output stack",
				 ref_op_name(c));
		goto out;
	}
	if (stack_voxels(out) != 1 || out->dtype != DT_F32) {
		status = vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected 1x1x1 f32",
				 ref_op_name(c), out->width, out->height, out->depth,
				 dtype_name(out->dtype));
		goto out;
	}
	n = stack_voxels(in);
	nblocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
	partial = malloc(nblocks * sizeof(*partial));
	if (!partial) {
		status = vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %zu partial sums",
				 ref_op_name(c), nblocks);
		goto out;
	}

	/* Fixed blocks, whatever the thread count; their sums are then added in block order. */
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (b = 0; b < nblocks; b++) {
		size_t start = b * SUM_BLOCK;

		partial[b] = block_sum(in, start, n - start < SUM_BLOCK ? n - start : SUM_BLOCK);
	}
	for (b = 0; b < nblocks; b++)
		total += partial[b];
	((float *)out->data)[0] = (float)total;
out:
	free(partial);
	return status;
}

/* ---- projections along any axis ---- */

enum line_op { LINE_MAX, LINE_MIN, LINE_SUM, LINE_MEAN, LINE_STD, LINE_ARGMAX };

/* Voxels start, start + step, ... (n of them) of s as double, read typed. */
static void load_line(const struct stack *s, size_t start, size_t step, size_t n, double *v)
{
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = (const T *)s->data + start;
		for (size_t k = 0; k < n; k++)
			v[k] = (double)p[k * step];
	)
}

/* The reduction of the n values of a line, in order, in double. */
static double reduce_line(const double *v, size_t n, enum line_op op, int ddof)
{
	double acc = v[0], mean, q = 0.0;
	size_t k, arg = 0;

	switch (op) {
	case LINE_MAX:
	case LINE_MIN:
		for (k = 1; k < n; k++)
			if (isnan(acc) || (op == LINE_MAX ? v[k] > acc : v[k] < acc))
				acc = isnan(v[k]) ? acc : v[k];
		return acc;
	case LINE_ARGMAX:
		for (k = 1; k < n; k++)
			if (v[k] > acc || (isnan(acc) && !isnan(v[k]))) {
				acc = v[k];
				arg = k;
			}
		return (double)arg;
	default:
		break;
	}
	for (k = 1; k < n; k++)
		acc += v[k];
	if (op == LINE_SUM)
		return acc;
	mean = acc / (double)n;
	if (op == LINE_MEAN)
		return mean;
	for (k = 0; k < n; k++)
		q += (v[k] - mean) * (v[k] - mean);
	return (double)n - ddof > 0 ? sqrt(q / ((double)n - ddof)) : 0.0;
}

/*
 * Minimum, maximum, sum and mean along y or z a whole output row at a time: each input row read
 * once, x-contiguous, into a double row; every output voxel still combines its line's values in
 * order, as reduce_line does (one voxel per line read strided took 26 times numpy's time).
 */
static int project_rows(const struct op_call *c, int axis, enum line_op op, size_t len,
			struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t W = in->width, H = in->height, rows = out->height, bytes;
	const int nt = ref_nthreads(c);
	double *scratch;

	if (vb_mul_size(2 * W, (size_t)nt * sizeof(double), &bytes) < 0 ||
	    !(scratch = malloc(bytes)))
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate row buffers for width %zu",
			       ref_op_name(c), W);
#pragma omp parallel num_threads(nt)
	{
		double *acc = scratch + (size_t)REF_THREAD_NUM() * 2 * W, *v = acc + W;
		long long j;

#pragma omp for schedule(static)
		for (j = 0; j < (long long)rows; j++) {
			/* z: output row y = j, input rows (k, y); y: output row z = j, rows (z, k) */
			size_t first = axis == 2 ? (size_t)j * W : (size_t)j * H * W;
			size_t step = axis == 2 ? H * W : W;

			ref_row_load(in, first, W, acc);
			for (size_t k = 1; k < len; k++) {
				ref_row_load(in, first + k * step, W, v);
				if (op == LINE_SUM || op == LINE_MEAN)
					for (size_t x = 0; x < W; x++)
						acc[x] += v[x];
				else
					for (size_t x = 0; x < W; x++)
						if (isnan(acc[x]) || (op == LINE_MAX ? v[x] > acc[x]
										 : v[x] < acc[x]))
							acc[x] = isnan(v[x]) ? acc[x] : v[x];
			}
			if (op == LINE_MIN || op == LINE_MAX) {
				ref_row_store(out, (size_t)j * W, W, acc); /* exact: voxels' own values */
				continue;
			}
			for (size_t x = 0; x < W; x++)
				((float *)out->data)[(size_t)j * W + x] =
					(float)(op == LINE_MEAN ? acc[x] / (double)len : acc[x]);
		}
	}
	free(scratch);
	return VB_OK;
}

/* axis 0 (x), 1 (y) or 2 (z); see the rows in ops/rows_projection.def for the output shapes. */
static int project(const struct op_call *c, int axis, enum line_op op, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t W, H, D, ow, oh, n, len, step, bytes;
	enum dtype want;
	int ddof = op == LINE_STD ? (int)op_param(c, "ddof") : 0;
	const int nt = ref_nthreads(c);
	double *lines;

	if (!in || !out || !in->data || !out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	W = in->width;
	H = in->height;
	D = in->depth;
	ow = axis == 0 ? H : W;
	oh = axis == 2 ? H : D;
	want = op == LINE_MAX || op == LINE_MIN ? in->dtype : op == LINE_ARGMAX ? DT_U32 : DT_F32;
	if (out->width != ow || out->height != oh || out->depth != 1 || out->dtype != want)
		return vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected %zux%zux1 %s",
			       ref_op_name(c), out->width, out->height, out->depth,
			       dtype_name(out->dtype), ow, oh, dtype_name(want));
	n = ow * oh;
	len = axis == 2 ? D : axis == 1 ? H : W;
	step = axis == 2 ? W * H : axis == 1 ? W : 1;
	if (axis > 0 && (op == LINE_MIN || op == LINE_MAX || op == LINE_SUM || op == LINE_MEAN))
		return project_rows(c, axis, op, len, err);
	if (vb_mul_size(len, (size_t)nt * sizeof(double), &bytes) < 0 || !(lines = malloc(bytes)))
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate line buffers of %zu voxels",
			       ref_op_name(c), len);
#pragma omp parallel num_threads(nt)
	{
		double *line = lines + (size_t)REF_THREAD_NUM() * len;
		long long o;

#pragma omp for schedule(static)
		for (o = 0; o < (long long)n; o++) {
			size_t i = (size_t)o, a = i % ow, b = i / ow;
			/* z: out (x, y); y: out (x, z); x: out (y, z), the row i */
			size_t start = axis == 2 ? i : axis == 1 ? a + W * H * b : W * i;
			double v;

			load_line(in, start, step, len, line);
			v = reduce_line(line, len, op, ddof);
			if (out->dtype == DT_F32)
				((float *)out->data)[i] = (float)v;
			else
				stack_set(out, i, v); /* exact: a voxel's own value or an index */
		}
	}
	free(lines);
	return VB_OK;
}

/*
 * Projections along one axis (reference_cpu/projection.c), computed in double per output voxel,
 * along its line in order. Output shapes (clEsperanto's and numpy's): z -> width x height,
 * y -> width x depth (out(x, z)), x -> height x depth (out(y, z)).
 * minimum / maximum: the input's dtype, exact; NaN voxels are ignored (fmin/fmax), an all-NaN line
 * gives NaN. sum / mean: f32, the double sum (/ the line length) rounded once.
 * std_z_projection: f32, sqrt(sum (v - mean)^2 / (depth - ddof)) (two passes, double), 0 where
 * depth <= ddof. arg_maximum_z_projection: u32, the first z of the line's greatest value (NaN is
 * never greater; an all-NaN line gives 0).
 */
int ref_minimum_z_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 2, LINE_MIN, err);
}

int ref_sum_z_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 2, LINE_SUM, err);
}

int ref_mean_z_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 2, LINE_MEAN, err);
}

int ref_std_z_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 2, LINE_STD, err);
}

int ref_arg_maximum_z_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 2, LINE_ARGMAX, err);
}

int ref_maximum_y_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 1, LINE_MAX, err);
}

int ref_minimum_y_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 1, LINE_MIN, err);
}

int ref_sum_y_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 1, LINE_SUM, err);
}

int ref_mean_y_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 1, LINE_MEAN, err);
}

int ref_maximum_x_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 0, LINE_MAX, err);
}

int ref_minimum_x_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 0, LINE_MIN, err);
}

int ref_sum_x_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 0, LINE_SUM, err);
}

int ref_mean_x_projection(const struct op_call *c, struct vb_err *err)
{
	return project(c, 0, LINE_MEAN, err);
}
