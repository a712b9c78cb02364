/*
 * kernels/projection.cl: projections along z. One work-item per (x, y) walks z; neighbouring
 * work-items read neighbouring x, so every plane is read with coalesced loads.
 */
#ifndef T_IN
#define T_IN float
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
