/*
 * kernels/projection.cl: projections along z, y and x.
 *
 * z and y: one work-item per output voxel walks its line; neighbouring work-items read
 * neighbouring x, so every row is read with coalesced loads. x: the line is contiguous, so
 * X_LANES work-items share one row (strided by X_LANES, coalesced) and combine their results in
 * __local memory.
 *
 * Sums: integer voxels are summed exactly in 64-bit integers (long), float voxels with Kahan's
 * compensated sum; the sum is divided by `divisor` at the end (1: sum, the line length: mean).
 * Minimum and maximum (`maximum` 0 or 1, a kernel argument: one program serves both) ignore NaN
 * (fmin/fmax); a line of NaN gives NaN.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif
#ifndef X_LANES
#define X_LANES 32
#endif
#ifndef X_ROWS
#define X_ROWS 8
#endif

#if IN_IS_FLOAT
#define BETTER(a, b) (maximum ? fmax((a), (b)) : fmin((a), (b)))
#define SUM_T float
#else
#define BETTER(a, b) (maximum ? ((b) > (a) ? (b) : (a)) : ((b) < (a) ? (b) : (a)))
#define SUM_T long
#endif

/* Kahan's running sum: s the sum, k the compensation (unused for exact integer sums). */
#if IN_IS_FLOAT
#define SUM_ADD(s, k, v)                                                                         \
	do {                                                                                     \
		float y_ = (float)(v) - (k), t_ = (s) + y_;                                     \
		(k) = (t_ - (s)) - y_;                                                           \
		(s) = t_;                                                                        \
	} while (0)
#else
#define SUM_ADD(s, k, v) ((s) += (long)(v))
#endif

__kernel void maximum_z_projection(__global const T_IN *src, __global T_IN *dst, const int w,
				   const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1);

	if (x >= w || y >= h)
		return;
	size_t plane = (size_t)w * (size_t)h, i = (size_t)x + (size_t)w * (size_t)y;
	T_IN best = src[i];

	for (int z = 1; z < d; z++) {
		T_IN v = src[i + plane * (size_t)z];
		best = v > best ? v : best;
	}
	dst[i] = best;
}

/*
 * Lines along z (global (w, h): out (x, y) of w x h) or y (global (w, d): out (x, z) of w x d):
 * line of output voxel (x, j) starts at x + base * j and steps by `step`, `len` voxels long.
 */
__kernel void minmax_line_projection(__global const T_IN *src, __global T_IN *dst, const int w,
				     const int rows, const ulong base, const ulong step,
				     const int len, const int maximum)
{
	int x = get_global_id(0), j = get_global_id(1);

	if (x >= w || j >= rows)
		return;
	size_t i = (size_t)x + (size_t)base * (size_t)j;
	T_IN best = src[i];

	for (int k = 1; k < len; k++)
		best = BETTER(best, src[i + (size_t)step * (size_t)k]);
	dst[(size_t)x + (size_t)w * (size_t)j] = best;
}

__kernel void sum_line_projection(__global const T_IN *src, __global float *dst, const int w,
				  const int rows, const ulong base, const ulong step,
				  const int len, const float divisor)
{
	int x = get_global_id(0), j = get_global_id(1);

	if (x >= w || j >= rows)
		return;
	size_t i = (size_t)x + (size_t)base * (size_t)j;
	SUM_T s = 0, k = 0;

	for (int n = 0; n < len; n++)
		SUM_ADD(s, k, src[i + (size_t)step * (size_t)n]);
	dst[(size_t)x + (size_t)w * (size_t)j] = (float)s / divisor;
}

/*
 * Standard deviation along z in one pass: sums of d = v - v(z=0) and d^2 (the shift keeps
 * s2 - s1^2/n from cancelling); sqrt(M2 / (d - ddof)), 0 where d - ddof <= 0.
 */
__kernel void std_z_projection(__global const T_IN *src, __global float *dst, const int w,
			       const int h, const int d, const int ddof)
{
	int x = get_global_id(0), y = get_global_id(1);

	if (x >= w || y >= h)
		return;
	size_t plane = (size_t)w * (size_t)h, i = (size_t)x + (size_t)w * (size_t)y;
	T_IN first = src[i];
	SUM_T s1 = 0, k1 = 0;
	float s2 = 0.0f, k2 = 0.0f;

	for (int z = 1; z < d; z++) {
		T_IN v = src[i + plane * (size_t)z];
#if IN_IS_FLOAT
		float dv = v - first;
#else
		long dl = (long)v - (long)first;
		float dv = (float)dl;
#endif
		SUM_ADD(s1, k1, dv);
		{
			float y_ = dv * dv - k2, t_ = s2 + y_;
			k2 = (t_ - s2) - y_;
			s2 = t_;
		}
	}
	float n = (float)d, fs1 = (float)s1;
	float m2 = fmax(s2 - fs1 * fs1 / n, 0.0f);

	dst[i] = d - ddof > 0 ? sqrt(m2 / (float)(d - ddof)) : 0.0f;
}

/* The first z of the greatest value (NaN never wins over a number); u32 out. */
__kernel void arg_maximum_z_projection(__global const T_IN *src, __global uint *dst, const int w,
				       const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1);

	if (x >= w || y >= h)
		return;
	size_t plane = (size_t)w * (size_t)h, i = (size_t)x + (size_t)w * (size_t)y;
	T_IN best = src[i];
	uint arg = 0;

	for (int z = 1; z < d; z++) {
		T_IN v = src[i + plane * (size_t)z];
#if IN_IS_FLOAT
		if (v > best || (best != best && v == v)) {
#else
		if (v > best) {
#endif
			best = v;
			arg = (uint)z;
		}
	}
	dst[i] = arg;
}

/*
 * Along x: a work-group of X_LANES x X_ROWS work-items (1D) handles X_ROWS rows; row r = y + h*z
 * of the input gives output voxel r, (y, z) of the h x d output (numpy's (z, y)).
 */
__kernel void minmax_x_projection(__global const T_IN *src, __global T_IN *dst, const int w,
				  const int h, const int d, const int maximum)
{
	__local T_IN part[X_LANES * X_ROWS];
	int lid = get_local_id(0), lane = lid % X_LANES;
	size_t r = get_group_id(0) * X_ROWS + (size_t)(lid / X_LANES), rows = (size_t)h * d;
	size_t row = r < rows ? r : rows - 1; /* spare rows redo the last: every lane joins the barriers */
	__global const T_IN *p = src + row * (size_t)w;
	T_IN best = p[0];

	for (int x = lane; x < w; x += X_LANES)
		best = BETTER(best, p[x]);
	part[lid] = best;
	for (int s = X_LANES / 2; s > 0; s /= 2) {
		barrier(CLK_LOCAL_MEM_FENCE);
		if (lane < s)
			part[lid] = BETTER(part[lid], part[lid + s]);
	}
	if (lane == 0 && r < rows)
		dst[r] = part[lid];
}

__kernel void sum_x_projection(__global const T_IN *src, __global float *dst, const int w,
			       const int h, const int d, const float divisor)
{
	__local SUM_T part[X_LANES * X_ROWS];
	int lid = get_local_id(0), lane = lid % X_LANES;
	size_t r = get_group_id(0) * X_ROWS + (size_t)(lid / X_LANES), rows = (size_t)h * d;
	size_t row = r < rows ? r : rows - 1;
	__global const T_IN *p = src + row * (size_t)w;
	SUM_T s = 0, k = 0;

	for (int x = lane; x < w; x += X_LANES)
		SUM_ADD(s, k, p[x]);
	part[lid] = s;
	for (int step = X_LANES / 2; step > 0; step /= 2) {
		barrier(CLK_LOCAL_MEM_FENCE);
		if (lane < step)
			part[lid] += part[lid + step];
	}
	if (lane == 0 && r < rows)
		dst[r] = (float)part[lid] / divisor;
}
