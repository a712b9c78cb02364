/*
 * kernels/pixel.cl: one voxel in, one voxel out.
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
#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
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

/*
 * OpenCL contracts a * b + c into one fma by default (FP_CONTRACT ON), and NVRTC does too
 * (--fmad=true); the reference rounds the product and the sum apart. Products that are summed go
 * through MUL_RN so that every device rounds as the reference does.
 */
#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(x, y) __fmul_rn(x, y)
#else
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(x, y) ((x) * (y))
#endif

/*
 * a / b correctly rounded. OpenCL lets '/' be 2.5 ulp off (NVIDIA's OpenCL is, by default), and
 * an integer output truncates: 6 / 3 = 1.9999998 would store 1. The residual a - q b is exact in
 * one fma for q within a few ulp of the quotient: step q one ulp toward the quotient while that
 * shrinks the residual (no quotient of two floats lies half-way between two floats: no ties).
 */
float div_rn(float a, float b)
{
	float q = a / b;

	for (int k = 0; k < 3 && isfinite(q) && q != 0.0f; k++) {
		float r = fma(-q, b, a), next;
		int up = (r > 0.0f) == (b > 0.0f); /* the quotient lies above q */

		if (r == 0.0f)
			break;
		next = as_float(as_uint(q) + ((q > 0.0f) == up ? 1u : 0xffffffffu));
		if (!(fabs(fma(-next, b, a)) < fabs(r)))
			break;
		q = next;
	}
	return q;
}

float op_subtract_from_scalar(float a, float b, float s0, float s1) { return s0 - a; }
float op_divide(float a, float b, float s0, float s1) { return div_rn(a, b); }
float op_power(float a, float b, float s0, float s1) { return pow(a, s0); }
float op_square_root(float a, float b, float s0, float s1) { return sqrt(a); }
float op_exponential(float a, float b, float s0, float s1) { return exp(a); }
float op_logarithm(float a, float b, float s0, float s1) { return log(a); }
float op_maximum(float a, float b, float s0, float s1) { return fmax(a, b); }
float op_minimum(float a, float b, float s0, float s1) { return fmin(a, b); }
float op_maximum_scalar(float a, float b, float s0, float s1) { return fmax(a, s0); }
float op_minimum_scalar(float a, float b, float s0, float s1) { return fmin(a, s0); }
float op_absolute_difference(float a, float b, float s0, float s1) { return fabs(a - b); }

float op_squared_difference(float a, float b, float s0, float s1)
{
	float d = a - b;

	return d * d;
}

float op_add_weighted(float a, float b, float s0, float s1)
{
	return MUL_RN(s0, a) + MUL_RN(s1, b);
}

float op_clip(float a, float b, float s0, float s1) { return fmin(fmax(a, s0), s1); }
float op_mask(float a, float b, float s0, float s1) { return b != 0.0f ? a : 0.0f; }

/* Comparisons and binary logic: 0 or 1 (the rows make the output u8). */
float op_equal(float a, float b, float s0, float s1) { return a == b ? 1.0f : 0.0f; }
float op_not_equal(float a, float b, float s0, float s1) { return a != b ? 1.0f : 0.0f; }
float op_greater(float a, float b, float s0, float s1) { return a > b ? 1.0f : 0.0f; }
float op_greater_or_equal(float a, float b, float s0, float s1) { return a >= b ? 1.0f : 0.0f; }
float op_smaller(float a, float b, float s0, float s1) { return a < b ? 1.0f : 0.0f; }
float op_smaller_or_equal(float a, float b, float s0, float s1) { return a <= b ? 1.0f : 0.0f; }
float op_equal_scalar(float a, float b, float s0, float s1) { return a == s0 ? 1.0f : 0.0f; }
float op_not_equal_scalar(float a, float b, float s0, float s1) { return a != s0 ? 1.0f : 0.0f; }
float op_greater_or_equal_scalar(float a, float b, float s0, float s1)
{
	return a >= s0 ? 1.0f : 0.0f;
}
float op_smaller_scalar(float a, float b, float s0, float s1) { return a < s0 ? 1.0f : 0.0f; }
float op_smaller_or_equal_scalar(float a, float b, float s0, float s1)
{
	return a <= s0 ? 1.0f : 0.0f;
}
float op_binary_or(float a, float b, float s0, float s1)
{
	return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
}
float op_binary_xor(float a, float b, float s0, float s1)
{
	return ((a != 0.0f) != (b != 0.0f)) ? 1.0f : 0.0f;
}
float op_binary_not(float a, float b, float s0, float s1) { return a == 0.0f ? 1.0f : 0.0f; }
float op_binary_subtract(float a, float b, float s0, float s1)
{
	return (a != 0.0f && b == 0.0f) ? 1.0f : 0.0f;
}

/*
 * u8 and u16 inputs: one element per load leaves most of the memory bandwidth unused, so each
 * work-item takes ITEMS consecutive voxels instead, read as whole 32-bit words (and narrow
 * outputs written as words). The host's launch is the same: ceil(n / ITEMS) work-items cover
 * every voxel either way. No vector types (CUDA has none under this source): words are unpacked
 * by shifts (GPUs are little-endian). Buffers start aligned; a chunk starts at a multiple of
 * ITEMS voxels, a multiple of 4 bytes; the last, partial chunk goes voxel by voxel.
 */
#define WIDE_IN (sizeof(T_IN) < 4 && (ITEMS * sizeof(T_IN)) % 4 == 0)
#define WIDE_OUT (sizeof(T_OUT) < 4 && (ITEMS * sizeof(T_OUT)) % 4 == 0)

/* v[0 .. ITEMS-1] = the narrow voxels p[0 .. ITEMS-1] as float, from whole words. */
void load_words(__global const T_IN *p, float *v)
{
	const int per = 4 / sizeof(T_IN), bits = 8 * sizeof(T_IN);
	const uint mask = 0xffffffffu >> (32 - bits);

	for (int w = 0; w < ITEMS / per; w++) {
		uint word = ((__global const uint *)p)[w];

		for (int k = 0; k < per; k++)
			v[w * per + k] = (float)((word >> (k * bits)) & mask);
	}
}

/* out[base .. base+ITEMS-1] = the results of voxels base.. (narrow outputs as whole words). */
void store_chunk(__global T_OUT *out, IDX base, const float *r)
{
	if (WIDE_OUT) {
		const int per = 4 / sizeof(T_OUT), bits = 8 * sizeof(T_OUT);

		for (int w = 0; w < ITEMS / per; w++) {
			uint word = 0;

			for (int k = 0; k < per; k++)
				word |= (uint)CONVERT_OUT(r[w * per + k]) << (k * bits);
			((__global uint *)(out + base))[w] = word;
		}
	} else {
		for (int k = 0; k < ITEMS; k++)
			out[base + k] = CONVERT_OUT(r[k]);
	}
}

__kernel void elementwise_unary(__global const T_IN *a, __global T_OUT *out, const float s0,
				const float s1, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	if (WIDE_IN) {
		ulong first = (ulong)get_global_id(0) * ITEMS; /* 64-bit: no wrap near 2^32 */
		IDX base = (IDX)first;
		float va[ITEMS], r[ITEMS];

		if (first >= n)
			return;
		if (n - first >= ITEMS) {
			load_words(a + base, va);
			for (int k = 0; k < ITEMS; k++)
				r[k] = OP_FN(va[k], 0.0f, s0, s1);
			store_chunk(out, base, r);
		} else {
			for (IDX i = base; i < n; i++)
				out[i] = CONVERT_OUT(OP_FN((float)a[i], 0.0f, s0, s1));
		}
		return;
	}
	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT(OP_FN((float)a[i], 0.0f, s0, s1));
}

__kernel void elementwise_binary(__global const T_IN *a, __global const T_IN *b,
				 __global T_OUT *out, const float s0, const float s1, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	if (WIDE_IN) {
		ulong first = (ulong)get_global_id(0) * ITEMS;
		IDX base = (IDX)first;
		float va[ITEMS], vb[ITEMS], r[ITEMS];

		if (first >= n)
			return;
		if (n - first >= ITEMS) {
			load_words(a + base, va);
			load_words(b + base, vb);
			for (int k = 0; k < ITEMS; k++)
				r[k] = OP_FN(va[k], vb[k], s0, s1);
			store_chunk(out, base, r);
		} else {
			for (IDX i = base; i < n; i++)
				out[i] = CONVERT_OUT(OP_FN((float)a[i], (float)b[i], s0, s1));
		}
		return;
	}
	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT(OP_FN((float)a[i], (float)b[i], s0, s1));
}

/*
 * Copy voxels, or invert them (INVERT: scikit-image's invert, exact in the voxel's own type, no
 * float round trip: unsigned max - x and signed -1 - x are both ~x, floats 1 - x). Narrow types
 * go a 32-bit word at a time, as the element-wise kernels do: ~ of a word inverts every voxel in
 * it.
 */
#if IN_IS_FLOAT
#define INVERT_ONE(x) (1.0f - (x))
#else
#define INVERT_ONE(x) ((T_IN)~(x))
#endif

void copy_or_invert(__global const T_IN *a, __global T_IN *out, const ulong n, int invert)
{
	IDX stride = (IDX)get_global_size(0);

	if (WIDE_IN) {
		ulong first = (ulong)get_global_id(0) * ITEMS;
		IDX base = (IDX)first;

		if (first >= n)
			return;
		if (n - first >= ITEMS) {
			__global const uint *src = (__global const uint *)(a + base);
			__global uint *dst = (__global uint *)(out + base);

			for (int w = 0; w < (int)(ITEMS * sizeof(T_IN) / 4); w++)
				dst[w] = invert ? ~src[w] : src[w];
		} else {
			for (IDX i = base; i < n; i++)
				out[i] = invert ? INVERT_ONE(a[i]) : a[i];
		}
		return;
	}
	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = invert ? INVERT_ONE(a[i]) : a[i];
}

/* Launched like copy_exact (T_OUT = T_IN). */
__kernel void invert_exact(__global const T_IN *a, __global T_IN *out, const ulong n)
{
	copy_or_invert(a, out, n, 1);
}

/* Exact copy: no float round trip, so u32/i32 values above 2^24 survive. */
__kernel void copy_exact(__global const T_IN *a, __global T_IN *out, const ulong n)
{
	copy_or_invert(a, out, n, 0);
}
