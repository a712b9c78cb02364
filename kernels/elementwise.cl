/*
 * kernels/elementwise.cl: one voxel in, one voxel out.
 *
 * Pixel math reads voxels as float, computes in float and writes CONVERT_OUT(result)
 * (convert_<type>_sat for integer outputs). An op is one small function below, picked at build
 * time with -DOP_FN=<function>; the host passes its scalar parameters as s0, s1.
 * The host launches ceil(n / ITEMS) work-items.
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
#ifndef OP_FN
#define OP_FN op_add
#endif
#ifndef IDX
#define IDX ulong /* the host passes uint when every index fits: 64-bit math is slow on GPUs */
#endif
/*
 * Each work-item handles ITEMS voxels one grid apart (i, i + G, i + 2G, ...; G = global size):
 * every load stays coalesced and each work-item keeps several loads in flight.
 */
#ifndef ITEMS
#define ITEMS 4
#endif

float op_add(float a, float b, float s0, float s1) { return a + b; }
float op_subtract(float a, float b, float s0, float s1) { return a - b; }
float op_multiply(float a, float b, float s0, float s1) { return a * b; }
float op_add_scalar(float a, float b, float s0, float s1) { return a + s0; }
float op_multiply_scalar(float a, float b, float s0, float s1) { return a * s0; }
float op_absolute(float a, float b, float s0, float s1) { return fabs(a); }
float op_greater_scalar(float a, float b, float s0, float s1) { return a > s0 ? 1.0f : 0.0f; }
float op_binary_and(float a, float b, float s0, float s1)
{
	return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
}

__kernel void elementwise_unary(__global const T_IN *a, __global T_OUT *out, const float s0,
				const float s1, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT(OP_FN((float)a[i], 0.0f, s0, s1));
}

__kernel void elementwise_binary(__global const T_IN *a, __global const T_IN *b,
				 __global T_OUT *out, const float s0, const float s1, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT(OP_FN((float)a[i], (float)b[i], s0, s1));
}

/* Exact copy: no float round trip, so u32/i32 values above 2^24 survive. */
__kernel void copy_exact(__global const T_IN *a, __global T_IN *out, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = a[i];
}
