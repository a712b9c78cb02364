/*
 * reference_cpu/filter3.c: Gaussian derivatives (ops/rows_filter3.def): three separable float
 * passes along x, then y, then z, with the float weights of geom_gaussian_derivative_weights
 * (the GPU's), each output the sum over k = -r .. r of w[k + r] in(clamp(pos + k)) in that order
 * (borders clamp: scipy mode='nearest'); gaussian_laplace sums the three second derivatives
 * (d2/dx2 + d2/dy2 + d2/dz2, each blurred along the other two axes), in x, y, z order.
 * Derivatives (any order > 0) are taken of in - in[0], in float, and in[0] times
 * geom_derivative_gain added back at the end, as the GPU does it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

#define MAX_TAPS 257

/* dst = src correlated with w (2r+1 taps) along axis; src and dst f32 volumes w x h x d. */
static void pass(const struct op_call *c, const float *src, float *dst, const size_t n[3],
		 int axis, const float *w, int r)
{
	size_t nx = n[0], ny = n[1], nz = n[2], len = n[axis];
	size_t stride = axis == 0 ? 1 : axis == 1 ? nx : nx * ny;
	long z;

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (z = 0; z < (long)nz; z++)
		for (size_t y = 0; y < ny; y++) {
			size_t row = ((size_t)z * ny + y) * nx;
			float *o = dst + row;

			if (axis == 0) {
				/* tap by tap over the whole row (each voxel still sums k = -r .. r in
				 * order): the unclamped middle of each tap is a loop that vectorises */
				const float *in = src + row;

				for (size_t x = 0; x < nx; x++)
					o[x] = 0.0f;
				for (int k = -r; k <= r; k++) {
					long lo = k < 0 ? -k : 0, hi = (long)nx - (k > 0 ? k : 0);
					float wk = w[k + r];

					lo = lo > (long)nx ? (long)nx : lo;
					hi = hi < lo ? lo : hi;
					for (long x = 0; x < lo; x++)
						o[x] += wk * in[0];
					for (long x = lo; x < hi; x++)
						o[x] += wk * in[x + k];
					for (long x = hi; x < (long)nx; x++)
						o[x] += wk * in[nx - 1];
				}
				continue;
			}
			/* y or z: whole rows at once (the inner loop runs along x) */
			size_t pos = axis == 1 ? y : (size_t)z;
			const float *base = src + row - pos * stride;

			for (size_t x = 0; x < nx; x++)
				o[x] = 0.0f;
			for (int k = -r; k <= r; k++) {
				long p = (long)pos + k;
				const float *in;

				p = p < 0 ? 0 : p >= (long)len ? (long)len - 1 : p;
				in = base + (size_t)p * stride;
				for (size_t x = 0; x < nx; x++)
					o[x] += w[k + r] * in[x];
			}
		}
}

/* out (f32) = the derivative of in (f32) by sigma / order per axis; t0, t1 scratch volumes. */
static int derivative(const struct op_call *c, const float *in, float *out, float *t0, float *t1,
		      const size_t n[3], const double sigma[3], const int order[3],
		      struct vb_err *err)
{
	const float *src = in;

	for (int a = 0; a < 3; a++) {
		double wd[MAX_TAPS];
		float w[MAX_TAPS];
		int r = geom_gaussian_radius(sigma[a]);
		float *dst = a == 2 ? out : a == 0 ? t0 : t1;

		if (r > (MAX_TAPS - 1) / 2)
			return vb_errf(err, VB_E_ARGS, "%s: sigma %g is beyond the largest kernel",
				       ref_op_name(c), sigma[a]);
		geom_gaussian_derivative_weights(sigma[a], order[a], r, wd);
		for (int k = 0; k <= 2 * r; k++)
			w[k] = (float)wd[k];
		pass(c, src, dst, n, a, w, r);
		src = dst;
	}
	return VB_OK;
}

/* The input as an f32 volume (the kernels read every voxel as float), minus its first voxel
 * when `shift` (ops/plans_filter3.c minus_first says why). */
static void load_float(const struct op_call *c, int shift, float *dst)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		float first = shift ? (float)p[0] : 0.0f;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			dst[i] = shift ? (float)p[i] - first : (float)p[i];
	)
}

static int gaussian(const struct op_call *c, int laplace, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n[3], count, bytes;
	double sigma[3];
	int order[3], status, shift;
	float *in = NULL, *t0 = NULL, *t1 = NULL, *term = NULL, *out;

	if (!s || !c->out || !s->data || !c->out->data || c->out->dtype != DT_F32 ||
	    !ref_same_dims(s, c->out))
		return vb_errf(err, VB_E_ARGS, "%s: expected an f32 output shaped like the input",
			       ref_op_name(c));
	status = geom_derivative_axes(c, sigma, order, err);
	if (status != VB_OK)
		return status;
	n[0] = s->width, n[1] = s->height, n[2] = s->depth;
	count = stack_voxels(s);
	bytes = count * sizeof(float);
	out = c->out->data;
	in = malloc(bytes), t0 = malloc(bytes), t1 = malloc(bytes);
	term = laplace ? malloc(bytes) : NULL;
	if (!in || !t0 || !t1 || (laplace && !term)) {
		status = vb_errf(err, VB_E_NOMEM, "%s: no memory for 4 float volumes of %zu voxels",
				 ref_op_name(c), count);
		goto out;
	}
	shift = laplace || order[0] || order[1] || order[2];
	load_float(c, shift, in);
	if (!laplace)
		status = derivative(c, in, out, t0, t1, n, sigma, order, err);
	for (int t = 0; laplace && t < 3 && status == VB_OK; t++) {
		int second[3] = { 0, 0, 0 };

		second[t] = 2;
		status = derivative(c, in, t ? term : out, t0, t1, n, sigma, second, err);
		if (status == VB_OK && t) {
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
			for (size_t i = 0; i < count; i++)
				out[i] = out[i] + term[i];
		}
	}
	if (status == VB_OK && shift) {
		float gain = geom_derivative_gain(sigma, order, laplace), first = 0.0f;

		STACK_SWITCH_DTYPE(s->dtype, T, first = (float)((const T *)s->data)[0];)
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (size_t i = 0; i < count; i++)
			out[i] = out[i] + first * gain;
	}
out:
	free(in);
	free(t0);
	free(t1);
	free(term);
	return status;
}

int ref_gaussian_derivative(const struct op_call *c, struct vb_err *err)
{
	return gaussian(c, 0, err);
}

int ref_gaussian_laplace(const struct op_call *c, struct vb_err *err)
{
	return gaussian(c, 1, err);
}

/* in / gaussian_blur(in), in float (0 / 0 is NaN), through gaussian_blur's reference; the
 * voxels whose blur is within 64 of gaussian_blur's tolerances of 0 are marked ambiguous. */
int ref_divide_by_gaussian_background(const struct op_call *c, struct vb_err *err)
{
	const struct op_desc *blur = op_find("gaussian_blur");
	const struct stack *s = c->in[0];
	struct stack b = { 0 };
	struct op_call sub = { 0 };
	int status;

	if (!blur || !s || !c->out || c->out->dtype != DT_F32 || !ref_same_dims(s, c->out))
		return vb_errf(err, VB_E_ARGS, "%s: expected an f32 output shaped like the input",
			       ref_op_name(c));
	status = stack_alloc(&b, s->width, s->height, s->depth, DT_F32, err);
	sub.op = blur;
	sub.in[0] = s;
	sub.out = &b;
	sub.threads = c->threads;
	for (int i = 0; blur->params[i].name; i++)
		sub.p[i] = op_param(c, blur->params[i].name);
	if (status == VB_OK)
		status = blur->ref(&sub, err);
	if (status == VB_OK) {
		size_t n = stack_voxels(s);
		const float *q = b.data;
		float *o = c->out->data;

		double largest = 0, near;

		STACK_SWITCH_DTYPE(s->dtype, T,
			const T *p = s->data;
			_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
			for (size_t i = 0; i < n; i++)
				o[i] = (float)p[i] / q[i];
		)
		/* a blur within 64 of its own tolerances of 0 leaves the quotient undecided (a
		 * signed stack's background crosses 0): those voxels are ambiguous */
		for (size_t i = 0; i < n; i++)
			if (isfinite(q[i]) && fabs(q[i]) > largest)
				largest = fabs(q[i]);
		near = 64 * blur->cmp.tol * (largest > 1 ? largest : 1);
		if (c->ambiguous)
			for (size_t i = 0; i < n; i++)
				c->ambiguous[i] = fabs(q[i]) <= near;
	}
	stack_free(&b);
	return status;
}
