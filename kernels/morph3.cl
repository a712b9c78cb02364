/*
 * kernels/morph3.cl: the finishing steps of the morphology of ops/rows_morph3.def (the minimum
 * and maximum filters they combine are other rows' plans) and binary edge detection.
 * Voxels are read as float and results written CONVERT_OUT(result), as kernels/pixel.cl does.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef T_OUT
#define T_OUT float
#endif
#ifndef CONVERT_OUT
#define CONVERT_OUT convert_float
#endif

/* out = a - b (morphological gradient: the dilation minus the erosion; bottom hat: the closing
 * minus the input). */
__kernel void difference(__global const T_IN *a, __global const T_IN *b, __global T_OUT *out,
			 const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = CONVERT_OUT((float)a[i] - (float)b[i]);
}

/* out = ((a + b) - in) - in, in float, in this order: scipy's morphological_laplace (dilation +
 * erosion - 2 in), so a float32 input matches it bit for bit. */
__kernel void laplace_combine(__global const T_IN *a, __global const T_IN *b,
			      __global const T_IN *in, __global T_OUT *out, const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n) {
		float s = (float)a[i] + (float)b[i];

		out[i] = CONVERT_OUT((s - (float)in[i]) - (float)in[i]);
	}
}

/* out = 1 where a == b (local minima: the voxel equals its neighbourhood's minimum). */
__kernel void equal_ab(__global const T_IN *a, __global const T_IN *b, __global T_OUT *out,
		       const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = CONVERT_OUT((float)a[i] == (float)b[i] ? 1.0f : 0.0f);
}

/* 1 where the voxel is non-zero and one of its 6 face neighbours (clamped at the border) is 0. */
__kernel void binary_edge(__global const T_IN *in, __global T_OUT *out, const int w, const int h,
			  const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
	ulong plane = (ulong)w * h, i;
	int edge;

	if (x >= w || y >= h || z >= d)
		return;
	i = (ulong)z * plane + (ulong)y * w + x;
	edge = in[i] != 0 &&
	       (in[i - (x > 0)] == 0 || in[i + (x < w - 1)] == 0 ||
		in[i - (y > 0 ? (ulong)w : 0)] == 0 || in[i + (y < h - 1 ? (ulong)w : 0)] == 0 ||
		in[i - (z > 0 ? plane : 0)] == 0 || in[i + (z < d - 1 ? plane : 0)] == 0);
	out[i] = CONVERT_OUT(edge ? 1.0f : 0.0f);
}
