/*
 * kernels/math3.cl: element-wise math of ops/rows_math3.def (rounding, trigonometry, base-2 and
 * base-10 exponentials and logarithms, NaN handling, value replacement, the remaining
 * two-image functions) and multiply_image_and_position.
 *
 * As kernels/pixel.cl: voxels read as float, computed in float, written CONVERT_OUT(result)
 * (convert_<type>_sat for integer outputs). An op is one function below, picked by m3_apply's
 * op number; the host passes up to three scalars s0, s1, s2. One voxel per work-item:
 * these ops are memory-bound and simple indexing keeps both backends' code short.
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

#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define M3_EXP10(x) exp10f(x)
#else
#define M3_EXP10(x) exp10(x)
#endif

/*
 * a / b correctly rounded (OpenCL lets '/' be 2.5 ulp off): the same correction as
 * kernels/pixel.cl's div_rn, kept here so this program builds alone. The residual a - q b is
 * exact in one fma; q steps one ulp toward the quotient while that shrinks the residual.
 */
float m3_div_rn(float a, float b)
{
	float q = a / b;

	for (int k = 0; k < 3 && isfinite(q) && q != 0.0f; k++) {
		float r = fma(-q, b, a), next;
		int up = (r > 0.0f) == (b > 0.0f);

		if (r == 0.0f)
			break;
		next = as_float(as_uint(q) + ((q > 0.0f) == up ? 1u : 0xffffffffu));
		if (!(fabs(fma(-next, b, a)) < fabs(r)))
			break;
		q = next;
	}
	return q;
}

float m3_cubic_root(float a, float b, float s0, float s1, float s2) { return cbrt(a); }
float m3_reciprocal(float a, float b, float s0, float s1, float s2) { return m3_div_rn(1.0f, a); }
float m3_square(float a, float b, float s0, float s1, float s2) { return a * a; }
float m3_exponential2(float a, float b, float s0, float s1, float s2) { return exp2(a); }
float m3_exponential10(float a, float b, float s0, float s1, float s2) { return M3_EXP10(a); }
float m3_logarithm2(float a, float b, float s0, float s1, float s2) { return log2(a); }
float m3_logarithm10(float a, float b, float s0, float s1, float s2) { return log10(a); }
float m3_ceil(float a, float b, float s0, float s1, float s2) { return ceil(a); }
float m3_floor(float a, float b, float s0, float s1, float s2) { return floor(a); }
float m3_round(float a, float b, float s0, float s1, float s2) { return round(a); }
float m3_truncate(float a, float b, float s0, float s1, float s2) { return trunc(a); }
/* NaN stays NaN and -0 stays -0 (OpenCL's sign; CUDA has none, so it is spelled out). */
float m3_sign(float a, float b, float s0, float s1, float s2)
{
	return a > 0.0f ? 1.0f : a < 0.0f ? -1.0f : a;
}
float m3_sin(float a, float b, float s0, float s1, float s2) { return sin(a); }
float m3_cos(float a, float b, float s0, float s1, float s2) { return cos(a); }
float m3_tan(float a, float b, float s0, float s1, float s2) { return tan(a); }
float m3_asin(float a, float b, float s0, float s1, float s2) { return asin(a); }
float m3_acos(float a, float b, float s0, float s1, float s2) { return acos(a); }
float m3_atan(float a, float b, float s0, float s1, float s2) { return atan(a); }
float m3_sinh(float a, float b, float s0, float s1, float s2) { return sinh(a); }
float m3_cosh(float a, float b, float s0, float s1, float s2) { return cosh(a); }
float m3_tanh(float a, float b, float s0, float s1, float s2) { return tanh(a); }
/* One multiplication by the float nearest pi/180 (or 180/pi): the reference uses the same. */
float m3_degrees_to_radians(float a, float b, float s0, float s1, float s2)
{
	return a * 0.017453292519943295f;
}
float m3_radians_to_degrees(float a, float b, float s0, float s1, float s2)
{
	return a * 57.29577951308232f;
}
float m3_nan_to_num(float a, float b, float s0, float s1, float s2)
{
	return isnan(a) ? s0 : isinf(a) ? (a > 0.0f ? s1 : s2) : a;
}
float m3_undefined_to_zero(float a, float b, float s0, float s1, float s2)
{
	return isfinite(a) ? a : 0.0f;
}
float m3_divide_scalar_by_image(float a, float b, float s0, float s1, float s2)
{
	return m3_div_rn(s0, a);
}
float m3_replace_value(float a, float b, float s0, float s1, float s2)
{
	return a == s0 ? s1 : a;
}
/* fmod is exact (the remainder of two floats is a float): every device agrees bit for bit. */
float m3_modulo_images(float a, float b, float s0, float s1, float s2) { return fmod(a, b); }
float m3_power_images(float a, float b, float s0, float s1, float s2) { return pow(a, b); }

/*
 * The op, chosen by a kernel argument rather than a build option: one program per dtype pair
 * serves every op of the family (each program costs about a second to build on PoCL, and the
 * branch is uniform across the launch). The numbers are the order of ops/plans_math3.c's
 * math3_fns[]; a wrong number shows as a mismatch in every GPU-vs-reference run.
 */
float m3_apply(int op, float a, float b, float s0, float s1, float s2)
{
	switch (op) {
	case 0: return m3_cubic_root(a, b, s0, s1, s2);
	case 1: return m3_reciprocal(a, b, s0, s1, s2);
	case 2: return m3_square(a, b, s0, s1, s2);
	case 3: return m3_exponential2(a, b, s0, s1, s2);
	case 4: return m3_exponential10(a, b, s0, s1, s2);
	case 5: return m3_logarithm2(a, b, s0, s1, s2);
	case 6: return m3_logarithm10(a, b, s0, s1, s2);
	case 7: return m3_ceil(a, b, s0, s1, s2);
	case 8: return m3_floor(a, b, s0, s1, s2);
	case 9: return m3_round(a, b, s0, s1, s2);
	case 10: return m3_truncate(a, b, s0, s1, s2);
	case 11: return m3_sign(a, b, s0, s1, s2);
	case 12: return m3_sin(a, b, s0, s1, s2);
	case 13: return m3_cos(a, b, s0, s1, s2);
	case 14: return m3_tan(a, b, s0, s1, s2);
	case 15: return m3_asin(a, b, s0, s1, s2);
	case 16: return m3_acos(a, b, s0, s1, s2);
	case 17: return m3_atan(a, b, s0, s1, s2);
	case 18: return m3_sinh(a, b, s0, s1, s2);
	case 19: return m3_cosh(a, b, s0, s1, s2);
	case 20: return m3_tanh(a, b, s0, s1, s2);
	case 21: return m3_degrees_to_radians(a, b, s0, s1, s2);
	case 22: return m3_radians_to_degrees(a, b, s0, s1, s2);
	case 23: return m3_nan_to_num(a, b, s0, s1, s2);
	case 24: return m3_undefined_to_zero(a, b, s0, s1, s2);
	case 25: return m3_divide_scalar_by_image(a, b, s0, s1, s2);
	case 26: return m3_replace_value(a, b, s0, s1, s2);
	case 27: return m3_modulo_images(a, b, s0, s1, s2);
	case 28: return m3_power_images(a, b, s0, s1, s2);
	}
	return 0.0f;
}

__kernel void math3_unary(__global const T_IN *a, __global T_OUT *out, const float s0,
			  const float s1, const float s2, const ulong n, const int op)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = CONVERT_OUT(m3_apply(op, (float)a[i], 0.0f, s0, s1, s2));
}

__kernel void math3_binary(__global const T_IN *a, __global const T_IN *b, __global T_OUT *out,
			   const float s0, const float s1, const float s2, const ulong n, const int op)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = CONVERT_OUT(m3_apply(op, (float)a[i], (float)b[i], s0, s1, s2));
}

/* out = in * the voxel's coordinate along `dim` (0 x, 1 y, 2 z). */
__kernel void multiply_position(__global const T_IN *a, __global T_OUT *out, const int w,
				const int h, const int d, const int dim)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
	ulong i;

	if (x >= w || y >= h || z >= d)
		return;
	i = ((ulong)z * h + y) * w + x;
	out[i] = CONVERT_OUT((float)a[i] * (float)(dim == 0 ? x : dim == 1 ? y : z));
}

/* out = linear index + offset where in != 0, else 0 (u32: exact up to 2^32 - 1). */
__kernel void nonzero_index(__global const T_IN *a, __global uint *out, const uint offset,
			    const ulong n)
{
	ulong i = get_global_id(0);

	if (i < n)
		out[i] = a[i] != 0 ? (uint)i + offset : 0u;
}

/* out = pow(in / m, gamma) * m, m = the maximum of all voxels (a one-voxel buffer of T_IN). */
__kernel void gamma_correct(__global const T_IN *a, __global const T_IN *max1,
			    __global T_OUT *out, const float gamma, const ulong n)
{
	ulong i = get_global_id(0);
	float m = (float)max1[0];

	if (i < n)
		out[i] = CONVERT_OUT(pow((float)a[i] / m, gamma) * m);
}
