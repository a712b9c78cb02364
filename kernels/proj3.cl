/*
 * kernels/proj3.cl: projections along any axis (argmin / argmax, product, variance, standard
 * deviation) and cumulative sums, products, maxima and minima along an axis, for
 * ops/rows_proj3.def. The kind is a kernel argument, not a build option: one program per dtype
 * pair serves the family.
 *
 * Output layouts are clEsperanto's (ops/rows_projection.def): z -> out(x, y), y -> out(x, z),
 * x -> out(y, z) (numpy's (z, y)). Positions and extrema are written in the voxel's own type (no float round
 * trip: u32 above 2^24 survives); products, variances and sums are float.
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
#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif

/* Products that are summed round apart from the sum, as the reference does (kernels/pixel.cl). */
#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(x, y) __fmul_rn(x, y)
#else
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(x, y) ((x) * (y))
#endif

/* Projection kinds (ops/plans_proj3.c passes them). */
#define P3_ARGMIN 0
#define P3_ARGMAX 1
#define P3_PRODUCT 2
#define P3_VARIANCE 3
#define P3_STD 4

/* The index of voxel k along `axis` of the line through output coordinates (u, v). */
ulong line_index(int axis, int u, int v, int k, int w, int h)
{
	ulong plane = (ulong)w * h;

	if (axis == 2)
		return (ulong)k * plane + (ulong)v * w + u; /* (x, y) = (u, v) */
	if (axis == 1)
		return (ulong)v * plane + (ulong)k * w + u; /* (x, z) = (u, v) */
	return (ulong)v * plane + (ulong)u * w + k;         /* (y, z) = (u, v) */
}

/* Whether v takes the place of best: strictly better, or best is NaN and v is a number (NaN
 * never wins; the first position wins ties). */
int better(T_IN v, T_IN best, int max)
{
	if (best != best)
		return v == v;
	return max ? v > best : v < best;
}

__kernel void axis_project(__global const T_IN *in, __global T_OUT *out, const int w,
			   const int h, const int d, const int axis, const int kind, const int ddof)
{
	int u = get_global_id(0), v = get_global_id(1);
	int ow = axis == 0 ? h : w, oh = axis == 2 ? h : d, n = axis == 0 ? w : axis == 1 ? h : d;
	ulong o;

	if (u >= ow || v >= oh)
		return;
	o = (ulong)v * ow + u;
	if (kind == P3_ARGMIN || kind == P3_ARGMAX) {
		T_IN best = in[line_index(axis, u, v, 0, w, h)];
		uint pos = 0;

		for (int k = 1; k < n; k++) {
			T_IN x = in[line_index(axis, u, v, k, w, h)];

			if (better(x, best, kind == P3_ARGMAX)) {
				best = x;
				pos = k;
			}
		}
		out[o] = (T_OUT)pos;
	} else if (kind == P3_PRODUCT) {
		float p = 1.0f;

		for (int k = 0; k < n; k++)
			p = p * (float)in[line_index(axis, u, v, k, w, h)];
		out[o] = CONVERT_OUT(p);
	} else {
		/* two passes in float, in axis order: the mean, then the squared deviations */
		float s = 0.0f, q = 0.0f, mean, var;

		for (int k = 0; k < n; k++)
			s += (float)in[line_index(axis, u, v, k, w, h)];
		mean = s / (float)n;
		for (int k = 0; k < n; k++) {
			float e = (float)in[line_index(axis, u, v, k, w, h)] - mean;

			q += MUL_RN(e, e);
		}
		var = n > ddof ? q / (float)(n - ddof) : 0.0f;
		out[o] = CONVERT_OUT(kind == P3_STD ? sqrt(var) : var);
	}
}

/* Cumulative kinds. */
#define C3_SUM 0
#define C3_PRODUCT 1
#define C3_MAX 2
#define C3_MIN 3

/*
 * One line along `axis` per work-item (global: the other two axes, in (x, y), (x, z) or (y, z)
 * order), written prefix by prefix. Integer sums are exact in 64 bits before their one rounding
 * to float; float sums and every product go in float, in axis order; extrema in the voxel's
 * type (floats: fmax / fmin, a NaN loses to a number).
 */
__kernel void axis_cumulate(__global const T_IN *in, __global T_OUT *out, const int w,
			    const int h, const int d, const int axis, const int kind)
{
	int a = get_global_id(0), b = get_global_id(1);
	int n = axis == 0 ? w : axis == 1 ? h : d;
	ulong plane = (ulong)w * h, start, stride;
	long isum = 0;
	float fsum = 0.0f, prod = 1.0f;
	T_IN ext = 0;

	if (axis == 0) { /* (a, b) = (y, z) */
		if (a >= h || b >= d)
			return;
		start = (ulong)b * plane + (ulong)a * w;
		stride = 1;
	} else if (axis == 1) { /* (x, z) */
		if (a >= w || b >= d)
			return;
		start = (ulong)b * plane + a;
		stride = w;
	} else { /* (x, y) */
		if (a >= w || b >= h)
			return;
		start = (ulong)b * w + a;
		stride = plane;
	}
	for (int k = 0; k < n; k++) {
		ulong i = start + (ulong)k * stride;
		T_IN x = in[i];

		if (kind == C3_SUM) {
#if IN_IS_FLOAT
			fsum += (float)x;
			out[i] = CONVERT_OUT(fsum);
#else
			isum += (long)x;
			out[i] = CONVERT_OUT((float)isum);
#endif
		} else if (kind == C3_PRODUCT) {
			prod = prod * (float)x;
			out[i] = CONVERT_OUT(prod);
		} else {
#if IN_IS_FLOAT
			ext = k == 0 ? x : kind == C3_MAX ? fmax(ext, x) : fmin(ext, x);
#else
			ext = k == 0 ? x : kind == C3_MAX ? (x > ext ? x : ext) : (x < ext ? x : ext);
#endif
			out[i] = (T_OUT)ext;
		}
	}
}

/*
 * axis_cumulate along x, coalesced: a group of CUM_ROWS work-items takes CUM_ROWS rows (h * d,
 * rounded up), CUM_ROWS columns at a time through local tiles, each work-item carrying its row's
 * running value from tile to tile, in x order as axis_cumulate does. One work-item per row made
 * neighbours touch lines w apart: 20 times the time for 8 times the voxels at 1024x1024x512.
 */
#ifndef GROUP_SIZE
#define GROUP_SIZE 32 /* ops/plans_proj3.c passes it (launch_groups) */
#endif
#define CUM_ROWS GROUP_SIZE

__kernel void x_cumulate(__global const T_IN *in, __global T_OUT *out, const int w, const int h,
			 const int d, const int kind)
{
	__local T_IN tin[CUM_ROWS][CUM_ROWS + 1]; /* + 1: a row's reads hit every bank */
	__local T_OUT tout[CUM_ROWS][CUM_ROWS + 1];
	int t = get_local_id(0);
	ulong rows = (ulong)h * d, r0 = (ulong)get_group_id(0) * CUM_ROWS;
	long isum = 0;
	float fsum = 0.0f, prod = 1.0f;
	T_IN ext = 0;

	for (int x0 = 0; x0 < w; x0 += CUM_ROWS) {
		for (int i = 0; i < CUM_ROWS; i++)
			if (r0 + i < rows && x0 + t < w)
				tin[i][t] = in[(r0 + i) * (ulong)w + x0 + t];
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int j = 0; j < CUM_ROWS && x0 + j < w; j++) {
			T_IN x = tin[t][j];
			int k = x0 + j;

			if (kind == C3_SUM) {
#if IN_IS_FLOAT
				fsum += (float)x;
				tout[t][j] = CONVERT_OUT(fsum);
#else
				isum += (long)x;
				tout[t][j] = CONVERT_OUT((float)isum);
#endif
			} else if (kind == C3_PRODUCT) {
				prod = prod * (float)x;
				tout[t][j] = CONVERT_OUT(prod);
			} else {
#if IN_IS_FLOAT
				ext = k == 0 ? x : kind == C3_MAX ? fmax(ext, x) : fmin(ext, x);
#else
				ext = k == 0 ? x : kind == C3_MAX ? (x > ext ? x : ext)
								  : (x < ext ? x : ext);
#endif
				tout[t][j] = (T_OUT)ext;
			}
		}
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int i = 0; i < CUM_ROWS; i++)
			if (r0 + i < rows && x0 + t < w)
				out[(r0 + i) * (ulong)w + x0 + t] = tout[i][t];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
}
