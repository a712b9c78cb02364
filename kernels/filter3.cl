/*
 * kernels/filter3.cl: the finishing steps of the Gaussian derivatives (ops/rows_filter3.def):
 * the sum of gaussian_laplace's three terms, and the first voxel's share added back (they are
 * taken of in - in[0]: ops/geometry.h geom_derivative_gain). The separable passes themselves
 * are kernels/filter.cl's convolve_axis, given the derivative weights.
 */
#ifndef T_IN
#define T_IN float
#endif
/* The share is rounded before it is added, as the reference rounds it (no fused multiply-add). */
#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(x, y) __fmul_rn(x, y)
#else
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(x, y) ((x) * (y))
#endif
/* acc += t, in float (f32 volumes). */
__kernel void accumulate(__global float *acc, __global const float *t, const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		acc[i] = acc[i] + t[i];
}

/* out += in[0] * gain, in float (the derivative of the constant in[0]). */
__kernel void add_first_share(__global float *out, __global const T_IN *in, const float gain,
			      const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = out[i] + MUL_RN((float)in[0], gain);
}

/* out = a / b in float (divide_by_gaussian_background: b the blur of a); 0 / 0 is NaN. */
__kernel void divide_by(__global const T_IN *a, __global const float *b, __global float *out,
			const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = (float)a[i] / b[i];
}
