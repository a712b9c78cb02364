/*
 * kernels/filter_rank.cl: window filters over a footprint of x runs (box or sphere, see
 * ops/geometry.h): mean, minimum, maximum, variance, standard deviation, binary
 * erosion and dilation, local maxima (window_filter), and the median (median_window,
 * median_box3, median_sphere1). Borders clamp to the edge. One work-item per output voxel unless said otherwise.
 *
 * runs[(dz + rz) * (2 ry + 1) + dy + ry] is the half-width of the footprint's x run at (dy, dz),
 * or -1 for none; the host computes it (ref_footprint_runs), so kernel and reference share one
 * footprint.
 *
 * Medians compare order-preserving 32-bit keys: the value itself for unsigned types, the sign
 * bit flipped for i32 (KEY_SIGNED=1), and for f32 the sign bit flipped on positives and every
 * bit on negatives. The key order is the value order, so the median is exact for every type.
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
#ifndef KEY_SIGNED
#define KEY_SIGNED 0
#endif
#ifndef IDX
#define IDX ulong
#endif
/* window_filter's reduction */
#define W_MEAN 0
#define W_MIN 1
#define W_MAX 2
#define W_VAR 3
#define W_STD 4
#define W_ERODE 5
#define W_DILATE 6
#define W_MAXIMA 7
#ifndef WMODE
#define WMODE W_MEAN
#endif
/* median_window: a private array of exactly PRIVATE_N keys, else (0) bisection over the keys */
#ifndef PRIVATE_N
#define PRIVATE_N 0
#endif
/* median_window: the rank selected (-1: count / 2, the median; percentile_filter passes its own) */
#ifndef RANK
#define RANK -1
#endif
#ifndef RY
#define RY 1
#endif
#ifndef RZ
#define RZ 1
#endif
/* the x half-width of every row of a box (-1: read runs[]) */
#ifndef BOX_RX
#define BOX_RX -1
#endif
#ifndef ZCHUNK
#define ZCHUNK 32
#endif

uint to_key(T_IN v)
{
#if IN_IS_FLOAT
	uint u = as_uint((float)v);

	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
#elif KEY_SIGNED
	return (uint)v ^ 0x80000000u;
#else
	return (uint)v;
#endif
}

T_OUT from_key(uint k)
{
#if IN_IS_FLOAT
	return as_float((k & 0x80000000u) ? (k ^ 0x80000000u) : ~k);
#elif KEY_SIGNED
	return (T_OUT)(int)(k ^ 0x80000000u);
#else
	return (T_OUT)k;
#endif
}

/* Visit every voxel v of the window of (x, y, z): BODY sees T_IN v; START and END bracket each
 * x run (row sums keep float sums accurate: the error grows with run and row counts, not their
 * product). RY, RZ and, for boxes, BOX_RX are build options, so the loops know their counts. */
#define FOR_WINDOW_ROWS(START, BODY, END)                                                \
	for (int dz = -RZ; dz <= RZ; dz++) {                                             \
		IDX zrow = (IDX)clamp(z + dz, 0, d - 1) * plane;                         \
		for (int dy = -RY; dy <= RY; dy++) {                                     \
			int a = BOX_RX >= 0 ? BOX_RX : runs[(dz + RZ) * (2 * RY + 1) + dy + RY]; \
			if (a < 0)                                                       \
				continue;                                                \
			IDX row = zrow + (IDX)clamp(y + dy, 0, h - 1) * (IDX)w;          \
			START;                                                           \
			if (x >= a && x + a < w) {                                       \
				__global const T_IN *p = src + row + (IDX)x;             \
				for (int dx = -a; dx <= a; dx++) {                       \
					T_IN v = p[dx];                                  \
					BODY;                                            \
				}                                                        \
			} else {                                                         \
				for (int dx = -a; dx <= a; dx++) {                       \
					T_IN v = src[row + (IDX)clamp(x + dx, 0, w - 1)]; \
					BODY;                                            \
				}                                                        \
			}                                                                \
			END;                                                             \
		}                                                                        \
	}
#define FOR_WINDOW(BODY) FOR_WINDOW_ROWS(, BODY, )

#define WINDOW_PROLOGUE                                                                  \
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);          \
	if (x >= w || y >= h || z >= d)                                                  \
		return;                                                                  \
	IDX plane = (IDX)w * (IDX)h;                                                     \
	IDX centre = (IDX)x + (IDX)w * (IDX)y + plane * (IDX)z;

__kernel void window_filter(__global const T_IN *src, __global T_OUT *dst,
			    __global const int *runs, const int count,
			    const int w, const int h, const int d)
{
	WINDOW_PROLOGUE
#if WMODE == W_MEAN || WMODE == W_VAR || WMODE == W_STD
	/* sums of v - centre: a constant window gives exactly 0 variance and its own mean */
	float c = (float)src[centre], sum = 0.0f, rs = 0.0f;

	FOR_WINDOW_ROWS(rs = 0.0f, rs += (float)v - c, sum += rs)
	float shift = sum / (float)count;
#if WMODE == W_MEAN
	dst[centre] = CONVERT_OUT(c + shift);
#else
	/* two passes: the squared deviations from the window's mean do not cancel */
	float ss = 0.0f;

	FOR_WINDOW_ROWS(rs = 0.0f, rs += ((float)v - c - shift) * ((float)v - c - shift), ss += rs)
#if WMODE == W_VAR
	dst[centre] = CONVERT_OUT(ss / (float)count);
#else
	dst[centre] = CONVERT_OUT(sqrt(ss / (float)count));
#endif
#endif
#elif WMODE == W_MIN || WMODE == W_MAX || WMODE == W_MAXIMA
	T_IN c = src[centre], best = c;

#if WMODE == W_MIN
	FOR_WINDOW(best = v < best ? v : best)
	dst[centre] = best;
#else
	FOR_WINDOW(best = v > best ? v : best)
#if WMODE == W_MAX
	dst[centre] = best;
#else
	dst[centre] = (T_OUT)(c == best ? 1 : 0);
#endif
#endif
#elif WMODE == W_ERODE || WMODE == W_DILATE
	/* erode: is any voxel zero; dilate: is any non-zero. Stops at the first row that tells. */
	int found = 0;

	FOR_WINDOW_ROWS(if (found) break, found |= (v != (T_IN)0) == (WMODE == W_DILATE), )
	dst[centre] = (T_OUT)(WMODE == W_DILATE ? found : !found);
#endif
}

/*
 * The median of any footprint: the key of rank count / 2 (or RANK: percentile_filter). A window
 * of PRIVATE_N (= count) keys is selected in a private array (Wirth's selection); larger ones
 * bisect the key range [min, max] of the window, counting the keys <= the midpoint: at most 32
 * passes, no storage, any size.
 */
__kernel void median_window(__global const T_IN *src, __global T_OUT *dst,
			    __global const int *runs, const int count,
			    const int w, const int h, const int d)
{
	WINDOW_PROLOGUE
	int rank = RANK >= 0 ? RANK : count / 2;
#if PRIVATE_N
	uint win[PRIVATE_N];
	int n = 0;

	FOR_WINDOW(win[n++] = to_key(v))
	int lo = 0, hi = PRIVATE_N - 1;
	while (lo < hi) {
		uint pivot = win[rank];
		int i = lo, j = hi;

		do {
			while (win[i] < pivot)
				i++;
			while (pivot < win[j])
				j--;
			if (i <= j) {
				uint t = win[i];
				win[i] = win[j];
				win[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < rank)
			lo = i;
		if (rank < i)
			hi = j;
	}
	dst[centre] = from_key(win[rank]);
#else
	uint lo = 0xffffffffu, hi = 0u;

	FOR_WINDOW(uint kv = to_key(v); lo = min(lo, kv); hi = max(hi, kv))
	while (lo < hi) { /* the answer lies in [lo, hi] */
		uint mid = lo + (hi - lo) / 2u;
		int below = 0;

		FOR_WINDOW(below += to_key(v) <= mid)
		if (below > rank)
			hi = mid;
		else
			lo = mid + 1u;
	}
	dst[centre] = from_key(lo);
#endif
}

/*
 * The median of the 3x3x3 box, fast: a work-item walks ZCHUNK voxels of a z column. Each 3x3
 * plane neighbourhood is sorted once (25 compare-exchanges) and kept for the 3 outputs that use
 * it; per output, two sorted planes are merged (only ranks 5..14 of 18 are formed) and the rank
 * 14 of 27 is min over j of max(merged[14 - j], third[j]), j = 0..9 (rank 14 of two sorted lists
 * X, Y is min over i + j = 14 of max(X_i, Y_j)). About 120 min/max per voxel, all in registers.
 */
#define CE(v, i, j) { uint t_ = min(v[i], v[j]); v[j] = max(v[i], v[j]); v[i] = t_; }
#define LO(v, i, j) v[i] = min(v[i], v[j]);
#define HI(v, i, j) v[j] = max(v[i], v[j]);
#define SORT9(v) \
	CE(v, 0, 1) CE(v, 3, 4) CE(v, 6, 7) CE(v, 1, 2) CE(v, 4, 5) CE(v, 7, 8) CE(v, 0, 1) \
	CE(v, 3, 4) CE(v, 6, 7) CE(v, 0, 3) CE(v, 3, 6) CE(v, 0, 3) CE(v, 1, 4) CE(v, 4, 7) \
	CE(v, 1, 4) CE(v, 2, 5) CE(v, 5, 8) CE(v, 2, 5) CE(v, 1, 3) CE(v, 5, 7) CE(v, 2, 6) \
	CE(v, 4, 6) CE(v, 2, 4) CE(v, 2, 3) CE(v, 5, 6)
#define MERGE9(v) \
	HI(v, 0, 16) LO(v, 8, 24) CE(v, 8, 16) CE(v, 4, 20) v[12] = v[20]; CE(v, 4, 8) \
	CE(v, 12, 16) CE(v, 2, 18) v[10] = v[18]; CE(v, 6, 22) v[14] = v[22]; CE(v, 6, 10) \
	HI(v, 2, 4) CE(v, 6, 8) CE(v, 10, 12) LO(v, 14, 16) HI(v, 1, 17) v[9] = v[17]; \
	CE(v, 5, 21) v[13] = v[21]; CE(v, 5, 9) CE(v, 3, 19) v[11] = v[19]; LO(v, 7, 23) \
	CE(v, 7, 11) CE(v, 3, 5) CE(v, 7, 9) CE(v, 11, 13) HI(v, 3, 4) CE(v, 5, 6) CE(v, 7, 8) \
	CE(v, 9, 10) CE(v, 11, 12) LO(v, 13, 14)

#define LOAD_PLANE(s, zz)                                                                \
	{                                                                                \
		IDX o = (IDX)(zz) * plane;                                               \
		s[0] = to_key(src[o + r0 + xm]);                                         \
		s[1] = to_key(src[o + r0 + x]);                                          \
		s[2] = to_key(src[o + r0 + xp]);                                         \
		s[3] = to_key(src[o + r1 + xm]);                                         \
		s[4] = to_key(src[o + r1 + x]);                                          \
		s[5] = to_key(src[o + r1 + xp]);                                         \
		s[6] = to_key(src[o + r2 + xm]);                                         \
		s[7] = to_key(src[o + r2 + x]);                                          \
		s[8] = to_key(src[o + r2 + xp]);                                         \
		SORT9(s)                                                                 \
	}

__kernel void median_box3(__global const T_IN *src, __global T_OUT *dst, const int w,
			  const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z0 = get_global_id(2) * ZCHUNK;

	if (x >= w || y >= h || z0 >= d)
		return;
	IDX plane = (IDX)w * (IDX)h;
	IDX xm = (IDX)max(x - 1, 0), xp = (IDX)min(x + 1, w - 1);
	IDX r0 = (IDX)max(y - 1, 0) * (IDX)w, r1 = (IDX)y * (IDX)w;
	IDX r2 = (IDX)min(y + 1, h - 1) * (IDX)w;
	int z1 = min(z0 + ZCHUNK, d);
	uint a[9], b[9], c[9], m[32];

	LOAD_PLANE(a, max(z0 - 1, 0))
	LOAD_PLANE(b, z0)
	for (int z = z0; z < z1; z++) {
		LOAD_PLANE(c, min(z + 1, d - 1))
#pragma unroll
		for (int i = 0; i < 9; i++) {
			m[i] = b[i];
			m[16 + i] = c[i];
		}
		MERGE9(m)
		uint med = m[13];
#pragma unroll
		for (int j = 0; j < 9; j++)
			med = min(med, max(m[12 - j], a[j]));
		dst[(IDX)z * plane + r1 + (IDX)x] = from_key(med);
#pragma unroll
		for (int i = 0; i < 9; i++) {
			a[i] = b[i];
			b[i] = c[i];
		}
	}
}

/*
 * The median of the radius-1 sphere (the voxel and its 6 face neighbours), in registers: a
 * work-item walks ZCHUNK voxels of a z column, keeping the column's three keys, and sorts the 7
 * keys by odd-even transposition (7 rounds of fixed pairs sort any 7 keys). The window kernel's
 * selection indexes a private array by data, which puts it in local memory: 2.5 ms at
 * 512x512x256 u16 on the H200, behind CuPy.
 */
#define ROUND_EVEN7(v) CE(v, 0, 1) CE(v, 2, 3) CE(v, 4, 5)
#define ROUND_ODD7(v) CE(v, 1, 2) CE(v, 3, 4) CE(v, 5, 6)
#define SORT7(v) \
	ROUND_EVEN7(v) ROUND_ODD7(v) ROUND_EVEN7(v) ROUND_ODD7(v) ROUND_EVEN7(v) ROUND_ODD7(v) \
	ROUND_EVEN7(v)

__kernel void median_sphere1(__global const T_IN *src, __global T_OUT *dst, const int w,
			     const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z0 = get_global_id(2) * ZCHUNK;

	if (x >= w || y >= h || z0 >= d)
		return;
	IDX plane = (IDX)w * (IDX)h, row = (IDX)y * (IDX)w;
	IDX xm = (IDX)max(x - 1, 0), xp = (IDX)min(x + 1, w - 1);
	IDX ym = (IDX)max(y - 1, 0) * (IDX)w, yp = (IDX)min(y + 1, h - 1) * (IDX)w;
	int z1 = min(z0 + ZCHUNK, d);
	uint below = to_key(src[(IDX)max(z0 - 1, 0) * plane + row + (IDX)x]);
	uint here = to_key(src[(IDX)z0 * plane + row + (IDX)x]);

	for (int z = z0; z < z1; z++) {
		IDX o = (IDX)z * plane;
		uint above = to_key(src[(IDX)min(z + 1, d - 1) * plane + row + (IDX)x]);
		uint v[7] = { below, here, above, to_key(src[o + row + xm]),
			      to_key(src[o + row + xp]), to_key(src[o + ym + (IDX)x]),
			      to_key(src[o + yp + (IDX)x]) };

		SORT7(v)
		dst[o + row + (IDX)x] = from_key(v[3]);
		below = here;
		here = above;
	}
}
