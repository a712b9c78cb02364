/*
 * kernels/transform.cl: transposes, flip, crop, pad (integer voxel maps, exact copies) and the
 * resampling ops (translate, scale, rotate, affine_transform). Conventions and the reference:
 * ops/geometry.h, reference_cpu/transform.c.
 *
 * TIDX indexes voxels: the plan passes uint only when both the input and the output fit (the
 * runner's IDX follows the input alone, and pad or scale may make a larger output).
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
#ifndef TIDX
#define TIDX ulong
#endif
#ifndef TILE
#define TILE 32
#endif
#ifndef ROWS
#define ROWS 8
#endif
/* voxel_gather: the output axis each input axis reads (0 x, 1 y, 2 z) */
#ifndef PX
#define PX 0
#endif
#ifndef PY
#define PY 1
#endif
#ifndef PZ
#define PZ 2
#endif
#ifndef LINEAR
#define LINEAR 1
#endif
#ifndef OUT_IS_FLOAT
#define OUT_IS_FLOAT 1
#endif
/* a resampled value into T_OUT: integers rounded to nearest (half away from zero), as scipy */
#if OUT_IS_FLOAT
#define STORE_RESAMPLED(v) CONVERT_OUT(v)
#else
#define STORE_RESAMPLED(v) CONVERT_OUT(round(v))
#endif

/*
 * Swap x with axis o (y or z) of the input, the third axis t staying. A work-group of TILE x ROWS
 * work-items moves one TILE x TILE tile through local memory: it reads rows along input x and
 * writes rows along output x (input o), so both sides are coalesced; the +1 column keeps the
 * column reads free of bank conflicts. Strides are in voxels.
 */
__kernel void transpose_tiled(__global const T_IN *src, __global T_IN *dst, const int nx,
			      const int no, const int nt, const ulong in_so, const ulong in_st,
			      const ulong out_sx, const ulong out_st)
{
	__local T_IN tile[TILE][TILE + 1];
	int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
	int x0 = (int)get_group_id(0) * TILE, o0 = (int)get_group_id(1) * TILE;
	int t = (int)get_global_id(2);
	int live = t < nt; /* no early return before the barrier */

	for (int k = ly; k < TILE; k += ROWS) {
		int x = x0 + lx, o = o0 + k;

		if (live && x < nx && o < no)
			tile[k][lx] = src[(TIDX)x + (TIDX)o * (TIDX)in_so + (TIDX)t * (TIDX)in_st];
	}
	barrier(CLK_LOCAL_MEM_FENCE);
	for (int k = ly; k < TILE; k += ROWS) {
		int o = o0 + lx, x = x0 + k;

		if (live && x < nx && o < no)
			dst[(TIDX)o + (TIDX)x * (TIDX)out_sx + (TIDX)t * (TIDX)out_st] = tile[lx][k];
	}
}

/*
 * out(o) = in(s * o[P] + off) per axis, or CONVERT_OUT(pad) outside the input: transpose_yz
 * (PY=2, PZ=1), flip (s = -1, off = n - 1), crop (off = start), pad (off = -before).
 */
__kernel void voxel_gather(__global const T_IN *src, __global T_IN *dst, const int iw,
			   const int ih, const int id, const int ow, const int oh, const int od,
			   const int sx, const int sy, const int sz, const int offx, const int offy,
			   const int offz, const float pad)
{
	int ox = (int)get_global_id(0), oy = (int)get_global_id(1), oz = (int)get_global_id(2);

	if (ox >= ow || oy >= oh || oz >= od)
		return;
#define OUT_AXIS(p) ((p) == 0 ? ox : (p) == 1 ? oy : oz)
	int x = sx * OUT_AXIS(PX) + offx, y = sy * OUT_AXIS(PY) + offy, z = sz * OUT_AXIS(PZ) + offz;
	TIDX di = (TIDX)ox + (TIDX)ow * ((TIDX)oy + (TIDX)oh * (TIDX)oz);

	if (x >= 0 && x < iw && y >= 0 && y < ih && z >= 0 && z < id)
		dst[di] = src[(TIDX)x + (TIDX)iw * ((TIDX)y + (TIDX)ih * (TIDX)z)];
	else
		dst[di] = CONVERT_OUT(pad);
}

/* a + t (b - a) as one fma: the reference does the same float operation */
float tf_lerp(float t, float a, float b)
{
	return fma(t, b - a, a);
}

/* Row r of the output->input matrix at (fx, fy, fz), clamped to [-1, n] (defined int casts). */
float tf_coordinate(__constant float *m, int r, float fx, float fy, float fz, int n)
{
	float v = fma(m[4 * r], fx, fma(m[4 * r + 1], fy, fma(m[4 * r + 2], fz, m[4 * r + 3])));

	return clamp(v, -1.0f, (float)n);
}

/*
 * One output voxel per work-item: its input coordinate through the float 3x4 matrix m, then the
 * nearest voxel (floor(x + 0.5), copied exactly) or the trilinear sample (LINEAR, rounded to
 * nearest in an integer output), edges clamped.
 */
__kernel void resample(__global const T_IN *src, __global T_OUT *dst, __constant float *m,
		       const int iw, const int ih, const int id, const int ow, const int oh,
		       const int od)
{
	int ox = (int)get_global_id(0), oy = (int)get_global_id(1), oz = (int)get_global_id(2);

	if (ox >= ow || oy >= oh || oz >= od)
		return;
	float fx = (float)ox, fy = (float)oy, fz = (float)oz;
	float x = tf_coordinate(m, 0, fx, fy, fz, iw), y = tf_coordinate(m, 1, fx, fy, fz, ih);
	float z = tf_coordinate(m, 2, fx, fy, fz, id);
	TIDX di = (TIDX)ox + (TIDX)ow * ((TIDX)oy + (TIDX)oh * (TIDX)oz);
#if LINEAR
	float flx = floor(x), fly = floor(y), flz = floor(z);
	float tx = x - flx, ty = y - fly, tz = z - flz;
	int xa = clamp((int)flx, 0, iw - 1), xb = clamp((int)flx + 1, 0, iw - 1);
	int ya = clamp((int)fly, 0, ih - 1), yb = clamp((int)fly + 1, 0, ih - 1);
	int za = clamp((int)flz, 0, id - 1), zb = clamp((int)flz + 1, 0, id - 1);
	TIDX r00 = (TIDX)iw * ((TIDX)ya + (TIDX)ih * (TIDX)za);
	TIDX r10 = (TIDX)iw * ((TIDX)yb + (TIDX)ih * (TIDX)za);
	TIDX r01 = (TIDX)iw * ((TIDX)ya + (TIDX)ih * (TIDX)zb);
	TIDX r11 = (TIDX)iw * ((TIDX)yb + (TIDX)ih * (TIDX)zb);
	float c00 = tf_lerp(tx, (float)src[r00 + xa], (float)src[r00 + xb]);
	float c10 = tf_lerp(tx, (float)src[r10 + xa], (float)src[r10 + xb]);
	float c01 = tf_lerp(tx, (float)src[r01 + xa], (float)src[r01 + xb]);
	float c11 = tf_lerp(tx, (float)src[r11 + xa], (float)src[r11 + xb]);

	dst[di] = STORE_RESAMPLED(tf_lerp(tz, tf_lerp(ty, c00, c10), tf_lerp(ty, c01, c11)));
#else
	int xi = clamp((int)floor(x + 0.5f), 0, iw - 1), yi = clamp((int)floor(y + 0.5f), 0, ih - 1);
	int zi = clamp((int)floor(z + 0.5f), 0, id - 1);

	dst[di] = src[(TIDX)xi + (TIDX)iw * ((TIDX)yi + (TIDX)ih * (TIDX)zi)];
#endif
}
