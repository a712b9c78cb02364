/*
 * kernels/filter.cl: neighbourhood filters on x-fastest volumes, borders clamped to the edge.
 *
 * One work-item per output voxel. Separable passes run one axis at a time (stride 1, width or
 * width*height) so the same kernel serves x, y and z; direct kernels read the whole box at once,
 * which costs one pass instead of three for small radii.
 *
 * z_major = 1 means the launch is (width, depth, height): work-groups that run together then
 * share y and walk z, so a z pass re-reads its 2r+1 planes from L2 instead of from memory.
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
#ifndef IDX
#define IDX ulong /* the host passes uint when every index fits: 64-bit math is slow on GPUs */
#endif

#define VOXEL_INDEX(x, y, z) ((IDX)(x) + (IDX)w * ((IDX)(y) + (IDX)h * (IDX)(z)))
#define AXIS_POS(axis, x, y, z) ((axis) == 0 ? (x) : (axis) == 1 ? (y) : (z))
#define AXIS_LEN(axis) ((axis) == 0 ? w : (axis) == 1 ? h : d)
#define AXIS_STRIDE(axis) ((axis) == 0 ? (IDX)1 : (axis) == 1 ? (IDX)w : (IDX)w * (IDX)h)

/*
 * out = sum_k weights[k + RADIUS] * in[clamp(pos + k)] along one axis. RADIUS is a build option
 * so the tap loop unrolls and each weight, read from __constant memory at a fixed offset, becomes
 * an operand of its multiply-add; lines away from the border skip the clamps.
 */
#ifndef RADIUS
#define RADIUS 1
#endif
__kernel void convolve_axis(__global const T_IN *src, __global T_OUT *dst,
			    __constant float *weights, const int axis, const int z_major,
			    const int w, const int h, const int d)
{
	int x = get_global_id(0);
	int y = z_major ? get_global_id(2) : get_global_id(1);
	int z = z_major ? get_global_id(1) : get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	int pos = AXIS_POS(axis, x, y, z), len = AXIS_LEN(axis);
	IDX stride = AXIS_STRIDE(axis);
	IDX centre = VOXEL_INDEX(x, y, z);
	float sum = 0.0f;

	if (pos >= RADIUS && pos + RADIUS < len) {
		__global const T_IN *p = src + (centre - (IDX)RADIUS * stride);

		for (int k = 0; k <= 2 * RADIUS; k++)
			sum += weights[k] * (float)p[(IDX)k * stride];
	} else {
		IDX base = centre - (IDX)pos * stride; /* the voxel at position 0 of this line */

		for (int k = -RADIUS; k <= RADIUS; k++)
			sum += weights[k + RADIUS] *
			       (float)src[base + (IDX)clamp(pos + k, 0, len - 1) * stride];
	}
	dst[centre] = CONVERT_OUT(sum);
}

/*
 * The same convolution along y or z (axis 1 or 2) by a work-item that walks CHUNK outputs of one
 * line, keeping the last 2*RADIUS+1 inputs in registers: each input is loaded about once instead
 * of 2*RADIUS+1 times. Launch: (width, the third axis, ceil(length / CHUNK)); neighbouring
 * work-items read neighbouring x, so loads stay coalesced.
 */
#ifndef CHUNK
#define CHUNK 64
#endif
__kernel void convolve_axis_sliding(__global const T_IN *src, __global T_OUT *dst,
				    __constant float *weights, const int axis, const int w,
				    const int h, const int d)
{
	int x = get_global_id(0), other = get_global_id(1), p0 = get_global_id(2) * CHUNK;
	int len = axis == 1 ? h : d;

	if (x >= w || other >= (axis == 1 ? d : h) || p0 >= len)
		return;
	IDX stride = AXIS_STRIDE(axis);
	IDX base = axis == 1 ? (IDX)x + (IDX)w * (IDX)h * (IDX)other : (IDX)x + (IDX)w * (IDX)other;
	int p1 = min(p0 + CHUNK, len);
	float win[2 * RADIUS + 1];

	for (int k = 0; k < 2 * RADIUS; k++) /* positions p0 - RADIUS .. p0 + RADIUS - 1 */
		win[k + 1] = (float)src[base + (IDX)clamp(p0 - RADIUS + k, 0, len - 1) * stride];
	for (int p = p0; p < p1; p++) {
		float sum = 0.0f;

		for (int k = 0; k < 2 * RADIUS; k++)
			win[k] = win[k + 1];
		win[2 * RADIUS] = (float)src[base + (IDX)min(p + RADIUS, len - 1) * stride];
		for (int k = 0; k <= 2 * RADIUS; k++)
			sum += weights[k] * win[k];
		dst[base + (IDX)p * stride] = CONVERT_OUT(sum);
	}
}

/* out = min or max (-DFILTER_MAX=1) of in[clamp(pos + k)], |k| <= radius, along one axis. */
__kernel void minmax_axis(__global const T_IN *src, __global T_OUT *dst, const int radius,
			  const int axis, const int z_major, const int w, const int h, const int d)
{
	int x = get_global_id(0);
	int y = z_major ? get_global_id(2) : get_global_id(1);
	int z = z_major ? get_global_id(1) : get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	int pos = AXIS_POS(axis, x, y, z), len = AXIS_LEN(axis);
	IDX stride = AXIS_STRIDE(axis);
	IDX centre = VOXEL_INDEX(x, y, z);
	IDX base = centre - (IDX)pos * stride;
	T_IN best = src[centre];

	for (int k = -radius; k <= radius; k++) {
		T_IN v = src[base + (IDX)clamp(pos + k, 0, len - 1) * stride];
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
	IDX plane = (IDX)w * (IDX)h, centre = VOXEL_INDEX(x, y, z);
#if FILTER_MEAN
	float acc = 0.0f;
#else
	T_IN acc = src[centre];
#endif
	for (int k = -rz; k <= rz; k++) {
		IDX zoff = (IDX)clamp(z + k, 0, d - 1) * plane;
		for (int j = -ry; j <= ry; j++) {
			IDX row = zoff + (IDX)clamp(y + j, 0, h - 1) * (IDX)w;
			for (int i = -rx; i <= rx; i++) {
				T_IN v = src[row + (IDX)clamp(x + i, 0, w - 1)];
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
	dst[centre] = CONVERT_OUT(acc / (float)((2 * rx + 1) * (2 * ry + 1) * (2 * rz + 1)));
#else
	dst[centre] = acc;
#endif
}
