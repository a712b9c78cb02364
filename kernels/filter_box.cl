/*
 * kernels/filter_box.cl: box filters of small radii (RX, RY, RZ <= 2, build options) in one pass
 * that reads each voxel about once. A work-group of TX x TY work-items owns a column of
 * TX x TY voxels and ZCHUNK planes; it walks z, stages each plane with its x/y halo in __local
 * memory, reduces the (2RX+1)(2RY+1) window of every voxel, and keeps the last 2RZ+1 plane
 * results in registers: each output combines them. In its own program because it uses __local.
 *
 * FILTER_MEAN=1: mean (f32 out); else FILTER_MAX=1: maximum, or minimum (input type out).
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
#ifndef RX
#define RX 1
#endif
#ifndef RY
#define RY 1
#endif
#ifndef RZ
#define RZ 1
#endif
#ifndef TX
#define TX 32
#endif
#ifndef TY
#define TY 8
#endif
#ifndef ZCHUNK
#define ZCHUNK 64
#endif

#define TILE_W (TX + 2 * RX)
#define TILE_H (TY + 2 * RY)
#define WINDOW (2 * RZ + 1)

#if FILTER_MEAN
#define ACC float
#define COMBINE(a, b) ((a) + (b))
#define TO_ACC(v) ((float)(v))
#elif FILTER_MAX
#define ACC T_IN
#define COMBINE(a, b) ((a) > (b) ? (a) : (b))
#define TO_ACC(v) (v)
#else
#define ACC T_IN
#define COMBINE(a, b) ((a) < (b) ? (a) : (b))
#define TO_ACC(v) (v)
#endif

__kernel void box_tiled(__global const T_IN *src, __global T_OUT *dst, const int w, const int h,
			const int d)
{
	__local T_IN tile[TILE_H][TILE_W];
	int lx = get_local_id(0), ly = get_local_id(1);
	int x0 = get_group_id(0) * TX, y0 = get_group_id(1) * TY, z0 = get_group_id(2) * ZCHUNK;
	int x = x0 + lx, y = y0 + ly, zend = min(z0 + ZCHUNK, d);
	IDX plane = (IDX)w * (IDX)h;
	ACC ring[WINDOW];

	for (int zz = z0 - RZ; zz < zend + RZ; zz++) {
		IDX zoff = (IDX)clamp(zz, 0, d - 1) * plane;
		ACC p;

		/* stage plane zz with its halo; clamped coordinates repeat the edge */
		for (int i = ly * TX + lx; i < TILE_W * TILE_H; i += TX * TY) {
			int tx = i % TILE_W, ty = i / TILE_W;
			int gx = clamp(x0 + tx - RX, 0, w - 1), gy = clamp(y0 + ty - RY, 0, h - 1);

			tile[ty][tx] = src[zoff + (IDX)gy * (IDX)w + (IDX)gx];
		}
		barrier(CLK_LOCAL_MEM_FENCE);
		p = TO_ACC(tile[ly][lx]);
		for (int k = 1; k < (2 * RX + 1) * (2 * RY + 1); k++)
			p = COMBINE(p, TO_ACC(tile[ly + k / (2 * RX + 1)][lx + k % (2 * RX + 1)]));
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int k = 0; k < WINDOW - 1; k++)
			ring[k] = ring[k + 1];
		ring[WINDOW - 1] = p;
		if (zz - RZ >= z0 && x < w && y < h) {
			ACC out = ring[0];

			for (int k = 1; k < WINDOW; k++)
				out = COMBINE(out, ring[k]);
#if FILTER_MEAN
			dst[(IDX)(zz - RZ) * plane + (IDX)y * (IDX)w + (IDX)x] =
				CONVERT_OUT(out / (float)((2 * RX + 1) * (2 * RY + 1) * WINDOW));
#else
			dst[(IDX)(zz - RZ) * plane + (IDX)y * (IDX)w + (IDX)x] = out;
#endif
		}
	}
}
