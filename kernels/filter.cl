/*
 * kernels/filter.cl: neighbourhood filters on x-fastest volumes, borders clamped to the edge.
 *
 * One work-item per output voxel, global size (width, height, depth). Separable passes run one
 * axis at a time (stride 1, width or width*height) so the same kernel serves x, y and z; direct
 * kernels read the whole box at once, which costs one pass instead of three for small radii.
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

#define VOXEL_INDEX(x, y, z) ((size_t)(x) + (size_t)w * ((size_t)(y) + (size_t)h * (size_t)(z)))

/* Position along `axis` of voxel (x, y, z) and the axis' length. */
#define AXIS_POS(axis, x, y, z) ((axis) == 0 ? (x) : (axis) == 1 ? (y) : (z))
#define AXIS_LEN(axis) ((axis) == 0 ? w : (axis) == 1 ? h : d)
#define AXIS_STRIDE(axis) ((axis) == 0 ? (long)1 : (axis) == 1 ? (long)w : (long)w * (long)h)

/* out = sum_k weights[k + radius] * in[clamp(pos + k)] along one axis. */
__kernel void convolve_axis(__global const T_IN *src, __global T_OUT *dst,
			    __global const float *weights, const int radius, const int axis,
			    const int w, const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	int pos = AXIS_POS(axis, x, y, z), len = AXIS_LEN(axis);
	long stride = AXIS_STRIDE(axis);
	size_t centre = VOXEL_INDEX(x, y, z);
	float sum = 0.0f;

	for (int k = -radius; k <= radius; k++) {
		int p = clamp(pos + k, 0, len - 1);
		sum += weights[k + radius] * (float)src[centre + (long)(p - pos) * stride];
	}
	dst[centre] = CONVERT_OUT(sum);
}

/* out = min or max (-DFILTER_MAX=1) of in[clamp(pos + k)], |k| <= radius, along one axis. */
__kernel void minmax_axis(__global const T_IN *src, __global T_OUT *dst, const int radius,
			  const int axis, const int w, const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	int pos = AXIS_POS(axis, x, y, z), len = AXIS_LEN(axis);
	long stride = AXIS_STRIDE(axis);
	size_t centre = VOXEL_INDEX(x, y, z);
	T_IN best = src[centre];

	for (int k = -radius; k <= radius; k++) {
		T_IN v = src[centre + (long)(clamp(pos + k, 0, len - 1) - pos) * stride];
#if FILTER_MAX
		best = v > best ? v : best;
#else
		best = v < best ? v : best;
#endif
	}
	dst[centre] = best;
}

/* The whole (2rx+1)(2ry+1)(2rz+1) box in one pass: mean (FILTER_MEAN=1), else min/max. */
__kernel void box_direct(__global const T_IN *src, __global T_OUT *dst, const int rx,
			 const int ry, const int rz, const int w, const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
#if FILTER_MEAN
	float acc = 0.0f;
#else
	T_IN acc = src[VOXEL_INDEX(x, y, z)];
#endif
	for (int k = -rz; k <= rz; k++) {
		int zz = clamp(z + k, 0, d - 1);
		for (int j = -ry; j <= ry; j++) {
			int yy = clamp(y + j, 0, h - 1);
			for (int i = -rx; i <= rx; i++) {
				T_IN v = src[VOXEL_INDEX(clamp(x + i, 0, w - 1), yy, zz)];
#if FILTER_MEAN
				acc += (float)v;
#elif FILTER_MAX
				acc = v > acc ? v : acc;
#else
				acc = v < acc ? v : acc;
#endif
			}
		}
	}
#if FILTER_MEAN
	dst[VOXEL_INDEX(x, y, z)] = CONVERT_OUT(acc / (float)((2 * rx + 1) * (2 * ry + 1) * (2 * rz + 1)));
#else
	dst[VOXEL_INDEX(x, y, z)] = acc;
#endif
}
