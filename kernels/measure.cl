/*
 * kernels/measure.cl: exact Euclidean distance transform, label dilation and erosion, and
 * per-label statistics.
 *
 * Distance transform: one pass per axis over squared distances. The x pass finds the nearest
 * zero of each row by two scans (through local tiles, coalesced); the y and z passes take the
 * lower envelope of the parabolas sp2 (q - p)^2 + f(p) of each line (Felzenszwalb-Huttenlocher),
 * a bounded number of work-items walking the lines in turn, x fastest across work-items so
 * loads and scratch accesses are coalesced.
 *
 * Statistics: one work-item per SEG voxels of a row accumulates runs of one label in registers
 * and flushes each run with 32-bit atomics: integer sums exactly in two words, float sums through
 * compare-and-swap, minima and maxima through the order-preserving integer key of a float.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef T_LABEL
#define T_LABEL uint
#endif
#ifndef IDX
#define IDX ulong
#endif
#ifndef SIDX
#define SIDX IDX /* scratch indices: lines * (length + 1) may need 64 bits when voxels do not */
#endif
#ifndef SEG
#define SEG 32
#endif

#define POS_INF as_float(0x7f800000u)
#define D_INF 0xffffffffu
#define LABEL_OF(v) ((v) > 0 ? (uint)(v) : 0u)

/* ---- distance transform ---- */

/*
 * dst = (distance to the nearest zero of the row, times sx)^2, or its root with take_sqrt.
 * Launch EDT_ROWS (GROUP_SIZE) work-items per group over the rows (h * d, rounded up): each scans
 * EDT_ROWS rows, EDT_ROWS columns at a time, through a tile in local memory, so the loads and
 * stores of a group are one row segment each (coalesced). One work-item walking its row alone
 * made neighbours touch lines w apart: at 1024x1024x512 their lines outgrew L1 and the pass took
 * 17 times as long for 8 times the voxels (reports/BENCHMARKS.md).
 */
#ifndef GROUP_SIZE
#define GROUP_SIZE 32 /* ops/plans_measure.c passes it (launch_groups) */
#endif
#define EDT_ROWS GROUP_SIZE

__kernel void edt_x(__global const T_IN *src, __global float *dst, const float sx, const int w,
		    const int h, const int d, const int take_sqrt)
{
	__local float tile[EDT_ROWS][EDT_ROWS + 1]; /* + 1: a column's reads hit every bank */
	__local uchar zero[EDT_ROWS][EDT_ROWS + 1];
	int t = get_local_id(0);
	IDX rows = (IDX)h * (IDX)d, r0 = (IDX)get_group_id(0) * EDT_ROWS;
	int last = -1;

	/* forward: distance to the last zero at or before x, +inf when none yet */
	for (int x0 = 0; x0 < w; x0 += EDT_ROWS) {
		for (int i = 0; i < EDT_ROWS; i++)
			if (r0 + i < rows && x0 + t < w)
				zero[i][t] = src[(r0 + i) * (IDX)w + x0 + t] == 0;
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int j = 0; j < EDT_ROWS && x0 + j < w; j++) {
			if (zero[t][j])
				last = x0 + j;
			tile[t][j] = last < 0 ? POS_INF : (float)(x0 + j - last);
		}
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int i = 0; i < EDT_ROWS; i++)
			if (r0 + i < rows && x0 + t < w)
				dst[(r0 + i) * (IDX)w + x0 + t] = tile[i][t];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
	/* backward: the nearer of that and the next zero after x, scaled and squared */
	last = -1;
	for (int x0 = (w - 1) / EDT_ROWS * EDT_ROWS; x0 >= 0; x0 -= EDT_ROWS) {
		for (int i = 0; i < EDT_ROWS; i++)
			if (r0 + i < rows && x0 + t < w) {
				zero[i][t] = src[(r0 + i) * (IDX)w + x0 + t] == 0;
				tile[i][t] = dst[(r0 + i) * (IDX)w + x0 + t];
			}
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int j = EDT_ROWS - 1; j >= 0; j--) {
			float v;

			if (x0 + j >= w)
				continue;
			if (zero[t][j])
				last = x0 + j;
			v = tile[t][j];
			if (last >= 0 && (float)(last - x0 - j) < v)
				v = (float)(last - x0 - j);
			v = v * sx;
			v = v * v;
			tile[t][j] = take_sqrt ? sqrt(v) : v;
		}
		barrier(CLK_LOCAL_MEM_FENCE);
		for (int i = 0; i < EDT_ROWS; i++)
			if (r0 + i < rows && x0 + t < w)
				dst[(r0 + i) * (IDX)w + x0 + t] = tile[i][t];
		barrier(CLK_LOCAL_MEM_FENCE);
	}
}

/*
 * dst(q) = min over p of sp2 (q - p)^2 + src(p) along axis 1 or 2 (squared distances; +inf where
 * the line has no finite value). Launch (width, lanes): work-item (x, o) takes the lines (x, o),
 * (x, o + lanes), ... so the envelopes in flight, and their scratch, are bounded by the launch,
 * not by the volume: with every line in flight at once, the scratch outgrew the L2 cache and
 * 8x the voxels took 16x the time (reports/BENCHMARKS.md). vb, zb: the envelope's sites and
 * boundaries, length entries per work-item, entry k of work-item s at k * slots + s. The
 * top entry stays in registers, so a site that pops nothing costs no scratch read.
 */
__kernel void edt_axis(__global const float *src, __global float *dst, __global int *vb,
		       __global float *zb, const int axis, const float sp2, const int w, const int h,
		       const int d, const int lanes, const int take_sqrt)
{
	int x = get_global_id(0);
	int n = axis == 1 ? h : d, other = axis == 1 ? d : h;

	if (x >= w || get_global_id(1) >= lanes) /* the launch may round lanes up */
		return;
	SIDX slots = (SIDX)w * (SIDX)lanes, slot = (SIDX)x + (SIDX)w * (SIDX)get_global_id(1);
	IDX stride = axis == 1 ? (IDX)w : (IDX)w * (IDX)h;

	for (int o = get_global_id(1); o < other; o += lanes) {
		IDX base = axis == 1 ? (IDX)x + (IDX)w * (IDX)h * (IDX)o : (IDX)x + (IDX)w * (IDX)o;
		int k = -1, top, tp = 0; /* the top entry: site tp, value tf, boundary tz */
		float tf = 0.0f, tz = 0.0f, znext;

		for (int q = 0; q < n; q++) {
			float fq = src[base + (IDX)q * stride], s = -POS_INF;

			if (fq == POS_INF)
				continue;
			while (k >= 0) {
				s = 0.5f * (float)(q + tp) + (fq - tf) / (2.0f * sp2 * (float)(q - tp));
				if (s > tz)
					break;
				if (--k >= 0) {
					tp = vb[(SIDX)k * slots + slot];
					tz = zb[(SIDX)k * slots + slot];
					tf = src[base + (IDX)tp * stride];
				}
			}
			if (k < 0)
				s = -POS_INF;
			k++;
			tp = q;
			tf = fq;
			tz = s;
			vb[(SIDX)k * slots + slot] = q;
			zb[(SIDX)k * slots + slot] = s;
		}
		if (k < 0) {
			for (int q = 0; q < n; q++)
				dst[base + (IDX)q * stride] = POS_INF;
			continue;
		}
		/* second walk: the parabola whose interval holds q, entries read once each */
		top = k;
		k = 0;
		tp = vb[slot];
		tf = src[base + (IDX)tp * stride];
		znext = top >= 1 ? zb[slots + slot] : POS_INF;
		for (int q = 0; q < n; q++) {
			float v;

			while (znext < (float)q) {
				k++;
				tp = vb[(SIDX)k * slots + slot];
				tf = src[base + (IDX)tp * stride];
				znext = k < top ? zb[(SIDX)(k + 1) * slots + slot] : POS_INF;
			}
			v = sp2 * (float)((q - tp) * (q - tp)) + tf;
			dst[base + (IDX)q * stride] = take_sqrt ? sqrt(v) : v;
		}
	}
}

/* ---- label dilation: per axis, the nearest (squared distance, smallest label) within r ---- */

#define AXIS_SETUP                                                                               \
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);                    \
	if (x >= w || y >= h || z >= d)                                                          \
		return;                                                                          \
	int pos = axis == 0 ? x : axis == 1 ? y : z, len = axis == 0 ? w : axis == 1 ? h : d;    \
	IDX stride = axis == 0 ? (IDX)1 : axis == 1 ? (IDX)w : (IDX)w * (IDX)h;                  \
	IDX i = (IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z);                                    \
	IDX base = i - (IDX)pos * stride;                                                        \
	int k0 = pos - r < 0 ? -pos : -r, k1 = pos + r >= len ? len - 1 - pos : r;               \
	uint r2 = (uint)(r * r), bd = D_INF, bl = 0u

/* First pass (x): sites are the labelled voxels of src. */
__kernel void dilate_first(__global const T_IN *src, __global uint *dstd, __global uint *dstl,
			   const int axis, const int r, const int w, const int h, const int d)
{
	AXIS_SETUP;
	for (int k = k0; k <= k1; k++) {
		uint l = LABEL_OF(src[base + (IDX)(pos + k) * stride]), dd = (uint)(k * k);

		if (l && (dd < bd || (dd == bd && l < bl))) {
			bd = dd;
			bl = l;
		}
	}
	dstd[i] = bd;
	dstl[i] = bl;
}

/* Later passes: sites carry the squared distance of the passes before; last writes labels only. */
__kernel void dilate_axis(__global const uint *srcd, __global const uint *srcl,
			  __global uint *dstd, __global uint *dstl, const int axis, const int r,
			  const int w, const int h, const int d, const int last)
{
	AXIS_SETUP;
	for (int k = k0; k <= k1; k++) {
		IDX j = base + (IDX)(pos + k) * stride;
		uint dd = srcd[j], l;

		if (dd == D_INF || dd + (uint)(k * k) > r2)
			continue;
		dd += (uint)(k * k);
		l = srcl[j];
		if (dd < bd || (dd == bd && l < bl)) {
			bd = dd;
			bl = l;
		}
	}
	if (!last)
		dstd[i] = bd;
	dstl[i] = bl;
}

/* ---- label erosion: kept iff every in-image voxel of the radius-r ball has the same label ---- */

__kernel void erode_ball(__global const T_IN *src, __global uint *dst, const int r, const int w,
			 const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	IDX i = (IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z);
	uint own = LABEL_OF(src[i]);
	int rz0 = max(-r, -z), rz1 = min(r, d - 1 - z), ry0 = max(-r, -y), ry1 = min(r, h - 1 - y);
	int rx0 = max(-r, -x), rx1 = min(r, w - 1 - x);

	for (int dz = rz0; own && dz <= rz1; dz++)
		for (int dy = ry0; own && dy <= ry1; dy++)
			for (int dx = rx0; dx <= rx1; dx++) {
				IDX j = (IDX)(x + dx) + (IDX)w * ((IDX)(y + dy) + (IDX)h * (IDX)(z + dz));

				if (dx * dx + dy * dy + dz * dz <= r * r && LABEL_OF(src[j]) != own) {
					own = 0u;
					break;
				}
			}
	dst[i] = own;
}

/* ---- per-label statistics ---- */

#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif

/*
 * Accumulator words, each n entries (label l at word * n + l - 1). Every sum is an exact 64-bit
 * two's complement integer in two words (low, high), added with 32-bit integer atomics only: no
 * compare-and-swap loop, whose retries grow with the number of work-items on one hot label, and
 * no order-dependent float rounding. Integer intensities add as they are; float intensities add
 * as fixed point, value * scale with scale a power of two chosen by the plan from the image's
 * range so that no sum can overflow (value * scale is exact in float, only its part below
 * 1 / scale is rounded away). Squared deviations add as fixed point too, with a scale of each
 * label's own (ssd_scale), so that a flat label keeps its small standard deviation.
 */
#define ACC_COUNT 0
#define ACC_SUM 1 /* 1, 2 */
#define ACC_MIN 3
#define ACC_MAX 4
#define ACC_SUM_X 5 /* 5 .. 10: x, y, z coordinate sums, two words each */
#define ACC_BMIN_X 11
#define ACC_BMAX_X 14
#define ACC_SSD 17 /* 17, 18 */
#define ACC_COLUMNS 19

/* An int whose order is the float's (for atomic_min / atomic_max). */
int float_key(float f)
{
	int i = as_int(f);

	return i >= 0 ? i : i ^ 0x7fffffff;
}

float key_float(int k)
{
	return as_float((uint)(k >= 0 ? k : k ^ 0x7fffffff));
}

/* 64-bit add from 32-bit atomics: additions commute, so each carry can go to the high word alone. */
void atomic_add_long(__global uint *lo, __global uint *hi, long v)
{
	uint vl = (uint)v, vh = (uint)((ulong)v >> 32), old;

	if (v == 0)
		return;
	old = atomic_add(lo, vl);
	if (old + vl < old)
		vh++;
	if (vh)
		atomic_add(hi, vh);
}

long acc_long(__global const uint *acc, int n, int word, int c)
{
	return (long)(((ulong)acc[(word + 1) * n + c] << 32) | (ulong)acc[word * n + c]);
}

/* A voxel's intensity as the integer the sums add: exact for integers, fixed point for floats. */
#if IN_IS_FLOAT
#define SUM_TERM(v, scale) ((long)rint((float)(v) * (scale)))
#else
#define SUM_TERM(v, scale) ((long)(v))
#endif

__kernel void stats_init(__global uint *acc, const int n)
{
	int l = get_global_id(0);

	if (l >= n)
		return;
	for (int c = 0; c < ACC_COLUMNS; c++)
		acc[c * n + l] = 0u;
	acc[ACC_MIN * n + l] = (uint)0x7fffffff;
	acc[ACC_MAX * n + l] = (uint)float_key(-POS_INF);
	for (int a = 0; a < 3; a++)
		acc[(ACC_BMIN_X + a) * n + l] = (uint)0x7fffffff;
}

/* Add one run (label l, voxels x0..x1 of row y, z) to the accumulators. */
void stats_flush(__global uint *acc, int n, uint l, int x0, int x1, int y, int z, long sum,
		 float mn, float mx)
{
	int c = (int)l - 1, cnt = x1 - x0 + 1;
	long pos[3] = { (long)cnt * (x0 + x1) / 2, (long)cnt * y, (long)cnt * z };
	__global int *iacc = (__global int *)acc;

	if (l == 0u || (int)l > n)
		return;
	atomic_add(acc + ACC_COUNT * n + c, (uint)cnt);
	atomic_add_long(acc + ACC_SUM * n + c, acc + (ACC_SUM + 1) * n + c, sum);
	atomic_min(iacc + ACC_MIN * n + c, float_key(mn));
	atomic_max(iacc + ACC_MAX * n + c, float_key(mx));
	for (int a = 0; a < 3; a++)
		atomic_add_long(acc + (ACC_SUM_X + 2 * a) * n + c,
				acc + (ACC_SUM_X + 2 * a + 1) * n + c, pos[a]);
	atomic_min(iacc + (ACC_BMIN_X + 0) * n + c, x0);
	atomic_min(iacc + (ACC_BMIN_X + 1) * n + c, y);
	atomic_min(iacc + (ACC_BMIN_X + 2) * n + c, z);
	atomic_max(iacc + (ACC_BMAX_X + 0) * n + c, x1);
	atomic_max(iacc + (ACC_BMAX_X + 1) * n + c, y);
	atomic_max(iacc + (ACC_BMAX_X + 2) * n + c, z);
}

/* Label c's (0-based) sum of intensities once pass 1 is done; inv_scale = 1 / scale. */
float stats_sum(__global const uint *acc, int n, int c, float inv_scale)
{
	return (float)acc_long(acc, n, ACC_SUM, c) * inv_scale;
}

/* The mean of label l once pass 1 is done. */
float stats_mean(__global const uint *acc, int n, uint l, float inv_scale)
{
	if (l == 0u || (int)l > n)
		return 0.0f;
	return stats_sum(acc, n, l - 1, inv_scale) / (float)acc[ACC_COUNT * n + l - 1];
}

/* frexp's exponent of a positive normal float: 2^(e-1) <= f < 2^e. */
int float_exponent(float f)
{
	return (int)((as_uint(f) >> 23) & 0xffu) - 126;
}

/*
 * Label c's scale for its sum of squared deviations, from pass 1's count, minimum and maximum:
 * every term is at most (max - min)^2, so count terms scaled by 2^k stay below 2^61.
 */
float ssd_scale(__global const uint *acc, int n, int c)
{
	float r = key_float((int)acc[ACC_MAX * n + c]) - key_float((int)acc[ACC_MIN * n + c]);
	float cnt = (float)acc[ACC_COUNT * n + c];
	int k;

	if (!(r > 1e-30f) || !(cnt >= 1.0f) || !(r < 1e30f)) /* flat: every deviation is 0 */
		return 1.0f;
	k = 61 - float_exponent(r * r) - float_exponent(cnt);
	k = k > 100 ? 100 : k < -100 ? -100 : k;
	return as_float((uint)(127 + k) << 23);
}

#define LABEL_AT(x) LABEL_OF(labels[row + (x)])

/* A work-item's segment xs .. xe-1 of row (y, z), and the label l of its first voxel. */
#define SEGMENT_SETUP                                                                            \
	int xs = get_global_id(0) * SEG, y = get_global_id(1), z = get_global_id(2);             \
	if (xs >= w || y >= h || z >= d)                                                         \
		return;                                                                          \
	IDX row = (IDX)w * ((IDX)y + (IDX)h * (IDX)z);                                           \
	int xe = min(xs + SEG, w);                                                               \
	uint l = LABEL_AT(xs)

/*
 * Pass 1: counts, sums, extrema, coordinate sums, bounding boxes. Launch (ceil(width / SEG),
 * height, depth); each work-item flushes one run of equal labels at a time.
 */
__kernel void stats_accumulate(__global const T_IN *img, __global const T_LABEL *labels,
			       __global uint *acc, const int n, const int w, const int h,
			       const int d, const float scale)
{
	SEGMENT_SETUP;
	int x0 = xs;
	long sum = 0;
	float mn = POS_INF, mx = -POS_INF;

	for (int x = xs; x < xe; x++) {
		uint lx = LABEL_AT(x);
		T_IN v = img[row + x];

		if (lx != l) {
			stats_flush(acc, n, l, x0, x - 1, y, z, sum, mn, mx);
			l = lx;
			x0 = x;
			sum = 0;
			mn = POS_INF;
			mx = -POS_INF;
		}
		sum += SUM_TERM(v, scale);
		mn = min(mn, (float)v);
		mx = max(mx, (float)v);
	}
	stats_flush(acc, n, l, x0, xe - 1, y, z, sum, mn, mx);
}

/* Add one run's squared deviations (fixed point) to label l's. */
void ssd_flush(__global uint *acc, int n, uint l, long ssd)
{
	if (l && (int)l <= n)
		atomic_add_long(acc + ACC_SSD * n + l - 1, acc + (ACC_SSD + 1) * n + l - 1, ssd);
}

/* Pass 2: the sum of squared deviations from each label's mean (no cancellation). */
__kernel void stats_deviation(__global const T_IN *img, __global const T_LABEL *labels,
			      __global uint *acc, const int n, const int w, const int h,
			      const int d, const float scale)
{
	SEGMENT_SETUP;
	float inv = 1.0f / scale, mean = stats_mean(acc, n, l, inv);
	float q = l && (int)l <= n ? ssd_scale(acc, n, (int)l - 1) : 1.0f;
	long ssd = 0;

	for (int x = xs; x < xe; x++) {
		uint lx = LABEL_AT(x);
		float v = (float)img[row + x];

		if (lx != l) {
			ssd_flush(acc, n, l, ssd);
			l = lx;
			ssd = 0;
			mean = stats_mean(acc, n, l, inv);
			q = l && (int)l <= n ? ssd_scale(acc, n, (int)l - 1) : 1.0f;
		}
		ssd += (long)rint((v - mean) * (v - mean) * q);
	}
	ssd_flush(acc, n, l, ssd);
}

/*
 * The table: centroids == 0: statistics_of_labelled_pixels' row per label (reference_cpu/
 * ops/geometry.h statistics_column); 1: centroids_of_labels' 3 x n (x, y, z rows). Gaps: area and sum 0,
 * NaN elsewhere.
 */
__kernel void stats_write(__global const uint *acc, __global float *out, const int n,
			  const int centroids, const float scale)
{
	int l = get_global_id(0);

	if (l >= n)
		return;
	uint cnt = acc[ACC_COUNT * n + l];
	float nan = as_float(0x7fc00000u), fc = (float)cnt, sum = stats_sum(acc, n, l, 1.0f / scale);

	if (centroids) {
		for (int a = 0; a < 3; a++)
			out[a * n + l] = cnt ? (float)acc_long(acc, n, ACC_SUM_X + 2 * a, l) / fc : nan;
		return;
	}
	__global float *row = out + (IDX)l * 16;
	row[0] = (float)(l + 1);
	row[1] = fc;
	row[2] = cnt ? sum : 0.0f;
	if (!cnt) {
		for (int k = 3; k < 16; k++)
			row[k] = nan;
		return;
	}
	row[3] = sum / fc;
	row[4] = key_float((int)acc[ACC_MIN * n + l]);
	row[5] = key_float((int)acc[ACC_MAX * n + l]);
	row[6] = sqrt((float)acc_long(acc, n, ACC_SSD, l) / ssd_scale(acc, n, l) / fc);
	for (int a = 0; a < 3; a++) {
		row[7 + a] = (float)acc_long(acc, n, ACC_SUM_X + 2 * a, l) / fc;
		row[10 + a] = (float)(int)acc[(ACC_BMIN_X + a) * n + l];
		row[13 + a] = (float)(int)acc[(ACC_BMAX_X + a) * n + l];
	}
}

/* ---- masked Voronoi labelling (clEsperanto's: alternating box / diamond growth in a mask) ---- */

#ifndef T_MASK
#define T_MASK uchar
#endif

/* Seeds keep their label inside the mask; outside it everything drops by 1 (-1: a wall). */
__kernel void voronoi_init(__global const uint *labels, __global const T_MASK *mask,
			   __global int *state, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		state[i] = (int)labels[i] - (mask[i] != 0 ? 0 : 1);
}

/* A 0 voxel takes the maximum of its 3x3x3 box (box) or of its 6 neighbours (else). */
__kernel void voronoi_step(__global const int *src, __global int *dst, __global uint *flag,
			   const int box, const int w, const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	IDX i = (IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z);
	int v = src[i];

	if (v == 0) {
		for (int dz = max(z - 1, 0); dz <= min(z + 1, d - 1); dz++)
			for (int dy = max(y - 1, 0); dy <= min(y + 1, h - 1); dy++)
				for (int dx = max(x - 1, 0); dx <= min(x + 1, w - 1); dx++) {
					int far = (dx != x) + (dy != y) + (dz != z);

					if (box || far <= 1)
						v = max(v, src[(IDX)dx + (IDX)w * ((IDX)dy + (IDX)h * (IDX)dz)]);
				}
		if (v != 0)
			flag[0] = 1u;
	}
	dst[i] = v;
}

__kernel void voronoi_clear(__global uint *flag)
{
	if (get_global_id(0) == 0)
		flag[0] = 0u;
}

__kernel void voronoi_finish(__global const int *state, __global const T_MASK *mask,
			     __global uint *out, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = mask[i] != 0 && state[i] > 0 ? (uint)state[i] : 0u;
}
