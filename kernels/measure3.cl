/*
 * kernels/measure3.cl: whole-image measurements that end in a few numbers: overlap indices of
 * two binaries, the minimum of masked pixels, bounding boxes, positions of the extrema
 * (ops/plans_measure3.c).
 *
 * Each is two launches: `parts` work-items stride through the voxels (consecutive work-items read
 * consecutive voxels) and each writes its own partial result, then one work-item combines the
 * partials. No atomics: nothing is contended, and every result is exact (counts in integers,
 * minima and positions compared, not summed).
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef T_MASK
#define T_MASK T_IN
#endif
#ifndef IDX
#define IDX ulong
#endif

#define FLOAT_MAX as_float(0x7f7fffffu)
#define FLOAT_NAN as_float(0x7fc00000u)
#define NO_VOXEL 0xffffffffffffffffUL

/* part[2p], part[2p+1]: voxels non-zero in both images, and in either. */
__kernel void m3_pair_counts(__global const T_IN *a, __global const T_MASK *b,
			     __global uint *part, const ulong n, const uint parts)
{
	uint p = get_global_id(0), inter = 0u, either = 0u;

	if (p >= parts)
		return;
	for (ulong i = p; i < n; i += parts) {
		uint x = a[i] != 0, y = b[i] != 0;

		inter += x & y;
		either += x | y;
	}
	part[2 * p] = inter;
	part[2 * p + 1] = either;
}

/* out[0] = Jaccard |A and B| / |A or B| (dice == 0) or Sorensen-Dice 2|A and B| / (|A| + |B|);
 * NaN when both images are empty. */
__kernel void m3_pair_final(__global const uint *part, __global float *out, const uint parts,
			    const int dice)
{
	ulong inter = 0, either = 0;

	if (get_global_id(0) != 0)
		return;
	for (uint p = 0; p < parts; p++) {
		inter += part[2 * p];
		either += part[2 * p + 1];
	}
	if (either == 0)
		out[0] = FLOAT_NAN;
	else if (dice)
		out[0] = (float)(2 * inter) / (float)(inter + either);
	else
		out[0] = (float)inter / (float)either;
}

/* part[p] = the smallest image value where the mask is non-zero (FLOAT_MAX: none). */
__kernel void m3_masked_min(__global const T_IN *a, __global const T_MASK *mask,
			    __global float *part, const ulong n, const uint parts)
{
	uint p = get_global_id(0);
	float m = FLOAT_MAX;

	if (p >= parts)
		return;
	for (ulong i = p; i < n; i += parts)
		if (mask[i] != 0)
			m = min(m, (float)a[i]);
	part[p] = m;
}

__kernel void m3_min_final(__global const float *part, __global float *out, const uint parts)
{
	float m = FLOAT_MAX;

	if (get_global_id(0) != 0)
		return;
	for (uint p = 0; p < parts; p++)
		m = min(m, part[p]);
	out[0] = m;
}

/*
 * part[6p .. 6p+5] = min x, y, z, max x, y, z of the voxels selected: non-zero (label == 0) or
 * equal to label (by_label).
 */
__kernel void m3_bbox(__global const T_IN *a, __global int *part, const int w, const int h,
		      const ulong n, const uint parts, const int by_label, const uint label)
{
	uint p = get_global_id(0);
	int b[6] = { 0x7fffffff, 0x7fffffff, 0x7fffffff, -1, -1, -1 };

	if (p >= parts)
		return;
	for (ulong i = p; i < n; i += parts) {
		T_IN v = a[i];
		int hit = by_label ? v > 0 && (ulong)v == (ulong)label : v != 0;

		if (hit) {
			int c[3] = { (int)(i % (ulong)w), (int)((i / (ulong)w) % (ulong)h),
				     (int)(i / ((ulong)w * (ulong)h)) };

			for (int k = 0; k < 3; k++) {
				b[k] = min(b[k], c[k]);
				b[3 + k] = max(b[3 + k], c[k]);
			}
		}
	}
	for (int k = 0; k < 6; k++)
		part[6 * p + k] = b[k];
}

/* The six bounds as floats (min x, y, z, max x, y, z); NaN when nothing was selected. */
__kernel void m3_bbox_final(__global const int *part, __global float *out, const uint parts)
{
	int b[6] = { 0x7fffffff, 0x7fffffff, 0x7fffffff, -1, -1, -1 };

	if (get_global_id(0) != 0)
		return;
	for (uint p = 0; p < parts; p++)
		for (int k = 0; k < 3; k++) {
			b[k] = min(b[k], part[6 * p + k]);
			b[3 + k] = max(b[3 + k], part[6 * p + 3 + k]);
		}
	for (int k = 0; k < 6; k++)
		out[k] = b[3] < 0 ? FLOAT_NAN : (float)b[k];
}

/* Is v a better extremum than best (strictly: ties keep the earlier voxel)? */
#ifdef FIND_MIN
#define BETTER(v, best) ((v) < (best))
#else
#define BETTER(v, best) ((v) > (best))
#endif

/* val[p], at[p]: the extremum (as float) of work-item p's voxels and its first voxel index. */
__kernel void m3_extremum(__global const T_IN *a, __global float *val, __global ulong *at,
			  const ulong n, const uint parts)
{
	uint p = get_global_id(0);
	float best = 0.0f;
	ulong where = NO_VOXEL;

	if (p >= parts)
		return;
	for (ulong i = p; i < n; i += parts) {
		float v = (float)a[i];

		if (v == v && (where == NO_VOXEL || BETTER(v, best))) { /* NaN never wins */
			best = v;
			where = i;
		}
	}
	val[p] = best;
	at[p] = where;
}

/* out = x, y, z of the extremum, the first in raster order on ties; NaN when every voxel is. */
__kernel void m3_extremum_final(__global const float *val, __global const ulong *at,
				__global float *out, const int w, const int h, const uint parts)
{
	float best = 0.0f;
	ulong where = NO_VOXEL;

	if (get_global_id(0) != 0)
		return;
	for (uint p = 0; p < parts; p++) {
		if (at[p] == NO_VOXEL)
			continue;
		if (where == NO_VOXEL || BETTER(val[p], best) ||
		    (val[p] == best && at[p] < where)) {
			best = val[p];
			where = at[p];
		}
	}
	if (where == NO_VOXEL) {
		out[0] = out[1] = out[2] = FLOAT_NAN;
		return;
	}
	out[0] = (float)(where % (ulong)w);
	out[1] = (float)((where / (ulong)w) % (ulong)h);
	out[2] = (float)(where / ((ulong)w * (ulong)h));
}
