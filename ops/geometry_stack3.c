/*
 * ops/geometry_stack3.c: the geometry of ops/rows_stack3.def (strided copies, concatenation,
 * circular shifts) and the Gaussian derivative weights of ops/rows_filter3.def, shared by the
 * plans and the references (declared in ops/geometry.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"

static const char axis_name[3] = { 'x', 'y', 'z' };

static void in_dims(const struct op_call *c, size_t n[3])
{
	n[0] = c->in[0]->width;
	n[1] = c->in[0]->height;
	n[2] = c->in[0]->depth;
}

/*
 * Python's slice(start, stop, step).indices(n) and the length it selects: negative start and
 * stop count from the end, both are clamped into the axis; step may be negative, not 0.
 */
static long slice_length(long n, long *start, long stop, long step)
{
	long lo = step > 0 ? 0 : -1, hi = step > 0 ? n : n - 1;

	if (*start < 0)
		*start += n;
	if (stop < 0)
		stop += n;
	*start = *start < lo ? lo : *start > hi ? hi : *start;
	stop = stop < lo ? lo : stop > hi ? hi : stop;
	if (step > 0)
		return stop > *start ? (stop - *start + step - 1) / step : 0;
	return *start > stop ? (*start - stop - step - 1) / -step : 0;
}

static int strided_range(const struct op_call *c, const size_t n[3], long start[3], long step[3],
			 size_t out[3], struct vb_err *err)
{
	static const char *const names[3][3] = { { "start_x", "stop_x", "step_x" },
						 { "start_y", "stop_y", "step_y" },
						 { "start_z", "stop_z", "step_z" } };

	for (int a = 0; a < 3; a++) {
		long len;

		start[a] = (long)op_param(c, names[a][0]);
		step[a] = (long)op_param(c, names[a][2]);
		if (step[a] == 0)
			return vb_errf(err, VB_E_ARGS, "range: %s is 0; give a step of at least 1 or "
				       "at most -1", names[a][2]);
		len = slice_length((long)n[a], &start[a], (long)op_param(c, names[a][1]), step[a]);
		if (len <= 0)
			return vb_errf(err, VB_E_ARGS, "range selects no voxel along %c (%s=%.0f "
				       "%s=%.0f %s=%ld of %zu): widen it", axis_name[a], names[a][0],
				       op_param(c, names[a][0]), names[a][1],
				       op_param(c, names[a][1]), names[a][2], step[a], n[a]);
		out[a] = (size_t)len;
	}
	return VB_OK;
}

int geom_strided(const struct op_call *c, long start[3], long step[3], size_t out[3],
		 struct vb_err *err)
{
	const char *fn = c->op->fn ? c->op->fn : "";
	size_t n[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		start[a] = 0;
		step[a] = 1;
		out[a] = n[a];
	}
	if (strcmp(fn, "range") == 0)
		return strided_range(c, n, start, step, out, err);
	if (strcmp(fn, "sub_stack") == 0) {
		long s = (long)op_param(c, "start_z"), e = (long)op_param(c, "end_z");

		if (e < s || e >= (long)n[2])
			return vb_errf(err, VB_E_ARGS, "sub_stack start_z=%ld end_z=%ld: expected "
				       "start_z <= end_z < %zu (the depth)", s, e, n[2]);
		start[2] = s;
		out[2] = (size_t)(e - s + 1);
		return VB_OK;
	}
	if (strcmp(fn, "reduce_stack") == 0) {
		long f = (long)op_param(c, "reduction_factor"), o = (long)op_param(c, "offset");

		if (o >= (long)n[2])
			return vb_errf(err, VB_E_ARGS, "reduce_stack offset=%ld: expected less than "
				       "the depth, %zu", o, n[2]);
		start[2] = o;
		step[2] = f;
		out[2] = (size_t)(((long)n[2] - o + f - 1) / f);
		return VB_OK;
	}
	if (strcmp(fn, "crop_border") == 0) {
		long b = (long)op_param(c, "border_size");

		for (int a = 0; a < 3; a++) {
			if (n[a] == 1) /* a plane stays a plane, as pyclesperanto crops a 2D image */
				continue;
			if ((long)n[a] <= 2 * b)
				return vb_errf(err, VB_E_ARGS, "crop_border border_size=%ld leaves "
					       "nothing of the %zu voxels along %c: lower it", b, n[a],
					       axis_name[a]);
			start[a] = b;
			out[a] = n[a] - 2 * (size_t)b;
		}
		return VB_OK;
	}
	return vb_errf(err, VB_E_ARGS, "bug: %s: no strided copy '%s'", c->op->name, fn);
}

int dims_strided(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	long start[3], step[3];

	return geom_strided(c, start, step, out, err);
}

int geom_concatenate_axis(const struct op_call *c)
{
	const char *fn = c->op->fn ? c->op->fn : "x";

	return fn[0] == 'z' ? 2 : fn[0] == 'y' ? 1 : 0;
}

int dims_concatenate(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	int axis = geom_concatenate_axis(c);
	size_t n[3], m[3];

	in_dims(c, n);
	memcpy(m, n, sizeof(m));
	if (c->in[1]) {
		m[0] = c->in[1]->width;
		m[1] = c->in[1]->height;
		m[2] = c->in[1]->depth;
	}
	for (int a = 0; a < 3; a++)
		if (a != axis && m[a] != n[a])
			return vb_errf(err, VB_E_ARGS, "%s: the inputs differ along %c (%zu and %zu)",
				       c->op->name, axis_name[a], n[a], m[a]);
	memcpy(out, n, 3 * sizeof(*out));
	out[axis] = n[axis] + m[axis];
	return VB_OK;
}

void geom_circular_shift(const struct op_call *c, size_t shift[3])
{
	static const char *const names[3] = { "shift_x", "shift_y", "shift_z" };
	size_t n[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		long s = (long)op_param(c, names[a]) % (long)n[a];

		shift[a] = (size_t)(s < 0 ? s + (long)n[a] : s);
	}
}

void geom_gaussian_derivative_weights(double sigma, int order, int radius, double *w)
{
	double q[8] = { 1 }, s2 = sigma * sigma;

	geom_gaussian_weights(sigma, radius, w);
	if (order <= 0 || radius <= 0)
		return;
	/* the polynomial q of scipy's _gaussian_kernel1d: q <- (d/dx - x / sigma^2) q, order
	 * times, on its coefficients (q[i]: the coefficient of x^i) */
	for (int n = 0; n < order && n < 7; n++) {
		double next[8] = { 0 };

		for (int i = 0; i <= n + 1 && i < 8; i++) {
			if (i + 1 < 8)
				next[i] += (i + 1) * q[i + 1];
			if (i > 0)
				next[i] -= q[i - 1] / s2;
		}
		memcpy(q, next, sizeof(q));
	}
	for (int k = -radius; k <= radius; k++) {
		double x = -k, poly = 0, xp = 1; /* reversed: weight k is the kernel at -k */

		for (int i = 0; i <= order && i < 8; i++, xp *= x)
			poly += q[i] * xp;
		w[k + radius] *= poly;
	}
}

int geom_derivative_axes(const struct op_call *c, double sigma[3], int order[3],
			 struct vb_err *err)
{
	static const char *const sn[3] = { "sigma_x", "sigma_y", "sigma_z" };
	static const char *const on[3] = { "order_x", "order_y", "order_z" };
	int has_order = op_param_count(c->op) > 3;

	for (int a = 0; a < 3; a++) {
		sigma[a] = op_param(c, sn[a]);
		order[a] = has_order ? (int)op_param(c, on[a]) : 0;
		if (!(sigma[a] >= 0))
			return vb_errf(err, VB_E_ARGS, "%s: %s=%g: expected a sigma >= 0",
				       c->op->name, sn[a], sigma[a]);
	}
	return VB_OK;
}

/* The sum of axis a's float weights (as the passes use them), in double. */
static double weight_sum(double sigma, int order)
{
	double w[257], sum = 0;
	int r = geom_gaussian_radius(sigma);

	if (r > 128)
		return 0;
	geom_gaussian_derivative_weights(sigma, order, r, w);
	for (int k = 0; k <= 2 * r; k++)
		sum += (float)w[k];
	return sum;
}

float geom_derivative_gain(const double sigma[3], const int order[3], int laplace)
{
	double total = 0;

	for (int t = 0; t < (laplace ? 3 : 1); t++) {
		double prod = 1;

		for (int a = 0; a < 3; a++)
			prod *= weight_sum(sigma[a], laplace ? (a == t ? 2 : 0) : order[a]);
		total += prod;
	}
	return (float)total;
}
