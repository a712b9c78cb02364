/*
 * kernels/filter4.cl: the window filters of ops/rows_filter4.def, one work-item per output voxel:
 *  - mode_window: the most frequent value of a u8 window, the smallest on a tie; the window is
 *    cut at the stack's faces (voxels outside are not counted, as pyclesperanto's mode).
 *  - nonzero_window (NZ_OP): nonzero_maximum / nonzero_minimum (non-zero voxels take the extreme
 *    of themselves and their positive neighbours, zero voxels stay) and onlyzero_overwrite_maximum
 *    (zero voxels take the largest positive neighbour, the others stay); borders clamp.
 *  - kuwahara: pyclesperanto's Gaussian-weighted Kuwahara over the octants of a cube.
 *
 * The footprint is the host's geom_footprint_runs (ops/geometry.h), as in kernels/filter_rank.cl:
 * runs[(dz + rz) * (2 ry + 1) + dy + ry] is the half-width of the x run at (dy, dz), -1 for none.
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
#define IDX ulong
#endif
#define NZ_MAX 0
#define NZ_MIN 1
#define OZ_MAX 2
#ifndef NZ_OP
#define NZ_OP NZ_MAX
#endif

#define F4_PROLOGUE                                                                      \
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);          \
	if (x >= w || y >= h || z >= d)                                                  \
		return;                                                                  \
	IDX plane = (IDX)w * (IDX)h;                                                     \
	IDX centre = (IDX)x + (IDX)w * (IDX)y + plane * (IDX)z;

__kernel void mode_window(__global const T_IN *src, __global T_OUT *dst,
			  __global const int *runs, const int ry, const int rz,
			  const int w, const int h, const int d)
{
	F4_PROLOGUE
	uint hist[256];
	uint best = 0, best_count = 0;

	for (int i = 0; i < 256; i++)
		hist[i] = 0;
	for (int dz = -rz; dz <= rz; dz++) {
		if (z + dz < 0 || z + dz >= d)
			continue;
		for (int dy = -ry; dy <= ry; dy++) {
			int a = runs[(dz + rz) * (2 * ry + 1) + dy + ry];

			if (a < 0 || y + dy < 0 || y + dy >= h)
				continue;
			IDX row = (IDX)(z + dz) * plane + (IDX)(y + dy) * (IDX)w;
			for (int xx = max(x - a, 0); xx <= min(x + a, w - 1); xx++) {
				uint v = (uint)src[row + (IDX)xx], n = ++hist[v];

				/* counts only grow: the leader is the most frequent so far, smallest on
				 * a tie, so it is the answer after the last voxel */
				if (n > best_count || (n == best_count && v < best)) {
					best = v;
					best_count = n;
				}
			}
		}
	}
	dst[centre] = (T_OUT)best;
}

__kernel void nonzero_window(__global const T_IN *src, __global T_OUT *dst,
			     __global const int *runs, const int ry, const int rz,
			     const int w, const int h, const int d)
{
	F4_PROLOGUE
	T_IN c = src[centre], best = c;

	/* pyclesperanto's tests: a neighbour counts when it is > 0 (and beats the best so far) */
	if ((NZ_OP == OZ_MAX) == (c == (T_IN)0))
		for (int dz = -rz; dz <= rz; dz++) {
			IDX zrow = (IDX)clamp(z + dz, 0, d - 1) * plane;
			for (int dy = -ry; dy <= ry; dy++) {
				int a = runs[(dz + rz) * (2 * ry + 1) + dy + ry];
				IDX row = zrow + (IDX)clamp(y + dy, 0, h - 1) * (IDX)w;

				for (int dx = -a; dx <= a; dx++) {
					T_IN v = src[row + (IDX)clamp(x + dx, 0, w - 1)];

					if (v > (T_IN)0 && (NZ_OP == NZ_MIN ? v < best : v > best))
						best = v;
				}
			}
		}
	dst[centre] = best;
}

/*
 * The Kuwahara filter of pyclesperanto 0.25.1: the cube of half-width `radius` (its docstring's;
 * its host code hands the kernel 2 radius + 1 instead; depth 1: the square, 4 quadrants) is
 * split into 8 octants that share their axis planes (q: bit 0 x, 1 y, 2 z side,
 * clear dx <= 0, set dx >= 0). Each voxel weighs exp(-(dx^2 + dy^2 + dz^2) / (2 sigma^2)); per
 * octant the weighted mean and variance; out = the octants' means weighted by 1 / (variance +
 * 1e-6). Unlike pyclesperanto (one pass, sum of squares minus the squared mean in float) the
 * variance takes two passes over deviations from the centre voxel: a constant octant then has
 * exactly 0, and near-constant ones keep their digits, so the blend's weights are the reference's.
 */
#define KUWAHARA_WALK(BODY)                                                              \
	for (int dz = -rzk; dz <= rzk; dz++) {                                           \
		IDX zrow = (IDX)clamp(z + dz, 0, d - 1) * plane;                         \
		for (int dy = -radius; dy <= radius; dy++) {                             \
			IDX row = zrow + (IDX)clamp(y + dy, 0, h - 1) * (IDX)w;          \
			for (int dx = -radius; dx <= radius; dx++) {                     \
				float wt = exp(-(float)(dx * dx + dy * dy + dz * dz) / two_s2); \
				float v = (float)src[row + (IDX)clamp(x + dx, 0, w - 1)] - c; \
				for (int q = 0; q < regions; q++)                        \
					if (dx * ((q & 1) ? 1 : -1) >= 0 &&              \
					    dy * ((q & 2) ? 1 : -1) >= 0 &&              \
					    dz * ((q & 4) ? 1 : -1) >= 0) {              \
						BODY;                                    \
					}                                                \
			}                                                                \
		}                                                                        \
	}

__kernel void kuwahara(__global const T_IN *src, __global T_OUT *dst, const int radius,
		       const float sigma, const int w, const int h, const int d)
{
	F4_PROLOGUE
	const int regions = d > 1 ? 8 : 4, rzk = d > 1 ? radius : 0;
	const float two_s2 = 2.0f * sigma * sigma, c = (float)src[centre];
	float wsum[8], mean[8], var[8];

	for (int q = 0; q < 8; q++)
		wsum[q] = mean[q] = var[q] = 0.0f;
	KUWAHARA_WALK(wsum[q] += wt; mean[q] += wt * v)
	for (int q = 0; q < regions; q++)
		mean[q] /= wsum[q]; /* every octant holds the centre, of weight 1 */
	KUWAHARA_WALK(var[q] += wt * (v - mean[q]) * (v - mean[q]))
	float total = 0.0f, blend = 0.0f;

	for (int q = 0; q < regions; q++) {
		float inv = 1.0f / (var[q] / wsum[q] + 1e-6f);

		total += inv;
		blend += mean[q] * inv;
	}
	dst[centre] = CONVERT_OUT(c + blend / total);
}
