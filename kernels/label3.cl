/*
 * kernels/label3.cl: label edges and label masks, per-label maps gathered from a table, touch
 * and overlap matrices, label flags (ops/plans_label3.c).
 *
 * Matrices and flag vectors are bytes set to 1 by plain stores: every writer stores the same
 * value, so no atomics are needed, and a writer first reads the byte and stores only when it is
 * still 0, so the entries that every boundary voxel hits (the background's) are read, not
 * written, by most of them.
 */
#ifndef T_IN
#define T_IN uint
#endif
#ifndef T_OUT
#define T_OUT uint
#endif
#ifndef T_LABEL
#define T_LABEL uint
#endif
#ifndef IDX
#define IDX ulong
#endif

#define LABEL_OF(v) ((v) > 0 ? (uint)(v) : 0u)

#define VOXEL_SETUP                                                                              \
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);                    \
	if (x >= w || y >= h || z >= d)                                                          \
		return;                                                                          \
	IDX sy = (IDX)w, sz = (IDX)w * (IDX)h;                                                   \
	IDX i = (IDX)x + sy * (IDX)y + sz * (IDX)z

/*
 * Label edges: a voxel lies on an edge when an in-image 6-neighbour holds another value (the
 * background is a value too). keep == 0: 1 on edges (u8); keep == 1: the voxel's label on edges,
 * else 0.
 */
__kernel void l3_label_edges(__global const T_IN *src, __global T_OUT *dst, const int w,
			     const int h, const int d, const int keep)
{
	VOXEL_SETUP;
	T_IN v = src[i];
	int edge = (x > 0 && src[i - 1] != v) || (x + 1 < w && src[i + 1] != v) ||
		   (y > 0 && src[i - sy] != v) || (y + 1 < h && src[i + sy] != v) ||
		   (z > 0 && src[i - sz] != v) || (z + 1 < d && src[i + sz] != v);

	dst[i] = keep ? (T_OUT)(edge ? LABEL_OF(v) : 0u) : (T_OUT)edge;
}

/* dst = src where labels == label, else 0 (label 0xffffffff: a fractional label, nowhere). */
__kernel void l3_mask_label(__global const T_IN *src, __global const T_LABEL *labels,
			    __global T_OUT *dst, const uint label, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		dst[i] = (long)labels[i] == (long)label ? src[i] : (T_OUT)0;
}

/* dst = table[(label - 1) * cols + col] for labelled voxels, 0 for the background. */
__kernel void l3_table_map(__global const T_LABEL *labels, __global const float *table,
			   __global float *dst, const int cols, const int col, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint l = LABEL_OF(labels[i]);
	dst[i] = l ? table[(IDX)(l - 1u) * (IDX)cols + (IDX)col] : 0.0f;
}

/* dst = count[label] for labelled voxels, 0 for the background. */
__kernel void l3_count_map(__global const T_LABEL *labels, __global const uint *count,
			   __global float *dst, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint l = LABEL_OF(labels[i]);
	dst[i] = l ? (float)count[l] : 0.0f;
}

/* dst = label + 1 (the background becomes label 1: statistics with the background). */
__kernel void l3_shift_labels(__global const T_LABEL *labels, __global uint *dst, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		dst[i] = LABEL_OF(labels[i]) + 1u;
}

/* Row r of a statistics table of `cols` columns is label r (it was r + 1 before the shift). */
__kernel void l3_table_relabel(__global float *table, const int cols, const int rows)
{
	int r = get_global_id(0);

	if (r < rows)
		table[(IDX)r * (IDX)cols] = (float)r;
}

__kernel void l3_fill_u8(__global uchar *m, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		m[i] = (uchar)0;
}

void l3_mark(__global uchar *m, IDX k)
{
	if (!m[k])
		m[k] = (uchar)1;
}

/* m[a * n1 + b] = m[b * n1 + a] = 1 for labels a != b that are 6-neighbours somewhere. */
__kernel void l3_touch_mark(__global const T_LABEL *labels, __global uchar *m, const int n1,
			    const int w, const int h, const int d)
{
	VOXEL_SETUP;
	uint a = LABEL_OF(labels[i]), b;
	IDX step[3] = { 1, sy, sz };
	int inside[3] = { x + 1 < w, y + 1 < h, z + 1 < d };

	for (int k = 0; k < 3; k++) {
		if (!inside[k] || (b = LABEL_OF(labels[i + step[k]])) == a)
			continue;
		l3_mark(m, (IDX)a * (IDX)n1 + (IDX)b);
		l3_mark(m, (IDX)b * (IDX)n1 + (IDX)a);
	}
}

/* m[b * n1a + a] = 1 where label a of the first image and b of the second share a voxel. */
__kernel void l3_overlap_mark(__global const T_IN *first, __global const T_LABEL *second,
			      __global uchar *m, const int n1a, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		l3_mark(m, (IDX)LABEL_OF(second[i]) * (IDX)n1a + (IDX)LABEL_OF(first[i]));
}

/* flags[label] = 1 for every label present (the background's too). */
__kernel void l3_flag_mark(__global const T_IN *labels, __global uchar *flags, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		l3_mark(flags, (IDX)LABEL_OF(labels[i]));
}

/*
 * count[a] = the labels touching a: column a of the symmetric matrix summed (work-items read
 * consecutive bytes of each row), from label skip_bg on; with skip_bg the background's count is 0.
 */
__kernel void l3_touch_count(__global const uchar *m, __global uint *count, const int n1,
			     const int skip_bg)
{
	int a = get_global_id(0);
	uint c = 0u;

	if (a >= n1)
		return;
	for (int b = skip_bg; b < n1; b++)
		c += m[(IDX)b * (IDX)n1 + (IDX)a];
	count[a] = skip_bg && a == 0 ? 0u : c;
}


/* ---- combine, select by map values, merge touching labels ---- */

/* dst = second's label + offset where it is non-zero, else first's label. */
__kernel void l3_combine(__global const T_IN *first, __global const T_LABEL *second,
			 __global uint *dst, const uint offset, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint b = LABEL_OF(second[i]);
	dst[i] = b ? b + offset : LABEL_OF(first[i]);
}

/*
 * dst = the label where it stays, else 0: label l's value is voxel l of values (raster order; a
 * label past its end has none, NaN); within == 0 keeps values in [lo, hi], within == 1 the rest.
 */
__kernel void l3_select_by_value(__global const T_IN *values, __global const T_LABEL *labels,
				 __global uint *dst, const float lo, const float hi,
				 const int within, const ulong nvalues, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint l = LABEL_OF(labels[i]);
	float v = (ulong)l < nvalues ? (float)values[l] : as_float(0x7fc00000u);
	int inside = v >= lo && v <= hi;

	dst[i] = l && (within ? !inside : inside) ? l : 0u;
}

__kernel void l3_parent_init(__global uint *parent, const int n1)
{
	int l = get_global_id(0);

	if (l < n1)
		parent[l] = (uint)l;
}

uint l3_find(__global uint *parent, uint a)
{
	uint p = parent[a];

	while (p != a) {
		a = p;
		p = parent[a];
	}
	return a;
}

/* Join the trees of a and b, the smaller label becoming the root (atomic_min retries on races). */
void l3_unite(__global uint *parent, uint a, uint b)
{
	for (;;) {
		uint old;

		a = l3_find(parent, a);
		b = l3_find(parent, b);
		if (a == b)
			return;
		if (a > b) {
			uint t = a;
			a = b;
			b = t;
		}
		old = atomic_min(parent + b, a);
		if (old == b)
			return;
		b = old;
	}
}

/* Unite non-zero labels a != b that are 6-neighbours (only boundary voxels do any work). */
__kernel void l3_merge_unite(__global const T_LABEL *labels, __global uint *parent,
			     const int w, const int h, const int d)
{
	VOXEL_SETUP;
	uint a = LABEL_OF(labels[i]), b;
	IDX step[3] = { 1, sy, sz };
	int inside[3] = { x + 1 < w, y + 1 < h, z + 1 < d };

	if (!a)
		return;
	for (int k = 0; k < 3; k++)
		if (inside[k] && (b = LABEL_OF(labels[i + step[k]])) != 0u && b != a)
			l3_unite(parent, a, b);
}

__kernel void l3_parent_flatten(__global uint *parent, const int n1)
{
	int l = get_global_id(0);

	if (l < n1)
		parent[l] = l3_find(parent, (uint)l);
}

/* dst = the root of the voxel's label (0 stays 0). */
__kernel void l3_apply_parent(__global const T_LABEL *labels, __global const uint *parent,
			      __global uint *dst, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		dst[i] = parent[LABEL_OF(labels[i])];
}

/* ---- extension of labels around their centroids ---- */

#ifndef SEG
#define SEG 32
#endif

/* 64-bit add from 32-bit atomics: the carry goes to the high word alone (additions commute). */
void l3_add_long(__global uint *lo, __global uint *hi, ulong v)
{
	uint vl = (uint)v, vh = (uint)(v >> 32), old;

	if (v == 0)
		return;
	old = atomic_add(lo, vl);
	if (old + vl < old)
		vh++;
	if (vh)
		atomic_add(hi, vh);
}

/* Flush a run of label l: its distance sum (fixed point) and maximum (float bits: distances are
 * non-negative, so their bits order as the floats). acc: 3 words per label (sum lo, hi, max). */
void l3_extension_flush(__global uint *acc, uint l, ulong sum, float mx)
{
	if (!l)
		return;
	l3_add_long(acc + 3 * (IDX)(l - 1u), acc + 3 * (IDX)(l - 1u) + 1, sum);
	atomic_max(acc + 3 * (IDX)(l - 1u) + 2, as_uint(mx));
}

/*
 * Distances of each voxel to its label's centroid (columns 7..9 of the statistics table), summed
 * and maximised per label. Launch (ceil(w / SEG), h, d): a work-item walks SEG voxels of a row and
 * flushes one run of equal labels at a time, so atomics are per run, not per voxel.
 */
__kernel void l3_extension_accumulate(__global const T_LABEL *labels,
				      __global const float *table, __global uint *acc,
				      const int cols, const int w, const int h, const int d,
				      const float scale)
{
	int xs = get_global_id(0) * SEG, y = get_global_id(1), z = get_global_id(2);

	if (xs >= w || y >= h || z >= d)
		return;
	IDX row = (IDX)w * ((IDX)y + (IDX)h * (IDX)z);
	int xe = min(xs + SEG, w);
	uint l = 0u;
	float cx = 0.0f, cy = 0.0f, cz = 0.0f, mx = 0.0f;
	ulong sum = 0;

	for (int x = xs; x < xe; x++) {
		uint lx = LABEL_OF(labels[row + x]);
		float dx, dy, dz, dist;

		if (lx != l || x == xs) {
			l3_extension_flush(acc, l, sum, mx);
			l = lx;
			sum = 0;
			mx = 0.0f;
			if (l) {
				__global const float *t = table + (IDX)(l - 1u) * (IDX)cols;

				cx = t[7];
				cy = t[8];
				cz = t[9];
			}
		}
		if (!l)
			continue;
		dx = (float)x - cx;
		dy = (float)y - cy;
		dz = (float)z - cz;
		dist = sqrt(dx * dx + dy * dy + dz * dz);
		sum += (ulong)rint(dist * scale);
		mx = max(mx, dist);
	}
	l3_extension_flush(acc, l, sum, mx);
}

__kernel void l3_fill_u32(__global uint *a, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		a[i] = 0u;
}

/* what 0: mean distance; 1: maximum; 2: maximum / mean. The area is column 1 of the table. */
__kernel void l3_extension_map(__global const T_LABEL *labels, __global const float *table,
			       __global const uint *acc, __global float *dst, const int cols,
			       const int what, const float inv_scale, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint l = LABEL_OF(labels[i]);
	if (!l) {
		dst[i] = 0.0f;
		return;
	}
	__global const uint *a = acc + 3 * (IDX)(l - 1u);
	float area = table[(IDX)(l - 1u) * (IDX)cols + 1];
	float mean = (float)(((ulong)a[1] << 32) | (ulong)a[0]) * inv_scale / area;
	float mx = as_float(a[2]);

	dst[i] = what == 0 ? mean : what == 1 ? mx : mx / mean;
}

/* ---- spots to a point list ---- */

__kernel void l3_fill_nan(__global float *a, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		a[i] = as_float(0x7fc00000u);
}

/* Column k - 1 of the list (rows x, y[, z]) = the position of spot number k. */
__kernel void l3_spots_scatter(__global const uint *numbers, __global float *list,
			       const int count, const int rows, const int w, const int h,
			       const int d)
{
	VOXEL_SETUP;
	uint k = numbers[i];

	if (!k || (int)k > count)
		return;
	list[k - 1u] = (float)x;
	list[(IDX)count + k - 1u] = (float)y;
	if (rows > 2)
		list[2 * (IDX)count + k - 1u] = (float)z;
}

/* ---- aggregates over touching neighbours ---- */

#ifndef AGG
#define AGG 0 /* 0 mean, 1 minimum, 2 maximum */
#endif

/*
 * agg[a] over label a itself and the labels touching it (row a of the touch matrix m; the
 * background, value 0, counts when !skip_bg and it touches a) of each label's value: the mean
 * column of the statistics table. Neighbours are visited in label order (the sum's order is fixed).
 */
__kernel void l3_neighbor_aggregate(__global const uchar *m, __global const float *table,
				    __global float *agg, const int cols, const int n1,
				    const int skip_bg)
{
	int a = get_global_id(0);

	if (a >= n1)
		return;
	if (a == 0) {
		agg[0] = 0.0f;
		return;
	}
	float acc = AGG == 1 ? as_float(0x7f800000u) : AGG == 2 ? -as_float(0x7f800000u) : 0.0f;
	int count = 0;

	for (int b = skip_bg; b < n1; b++) {
		float v;

		if (b != a && !m[(IDX)a * (IDX)n1 + (IDX)b])
			continue;
		v = b ? table[(IDX)(b - 1) * (IDX)cols + 3] : 0.0f;
		acc = AGG == 1 ? min(acc, v) : AGG == 2 ? max(acc, v) : acc + v;
		count++;
	}
	agg[a] = AGG == 0 ? acc / (float)count : acc;
}

/* dst = agg[label] for labelled voxels, 0 for the background. */
__kernel void l3_float_map(__global const T_LABEL *labels, __global const float *agg,
			   __global float *dst, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		dst[i] = LABEL_OF(labels[i]) ? agg[LABEL_OF(labels[i])] : 0.0f;
}

/* ---- labelled spots to a point list: each label's last voxel in raster order ---- */

/* last[l - 1] = the largest voxel index of label l; a work-item flushes at the end of each run of
 * its SEG voxels (atomics per run, not per voxel). */
__kernel void l3_last_voxel(__global const T_LABEL *labels, __global uint *last, const int w,
			    const int h, const int d)
{
	int xs = get_global_id(0) * SEG, y = get_global_id(1), z = get_global_id(2);

	if (xs >= w || y >= h || z >= d)
		return;
	IDX row = (IDX)w * ((IDX)y + (IDX)h * (IDX)z);
	int xe = min(xs + SEG, w);

	for (int x = xs; x < xe; x++) {
		uint l = LABEL_OF(labels[row + x]);

		if (l && (x + 1 == xe || LABEL_OF(labels[row + x + 1]) != l))
			atomic_max(last + (l - 1u), (uint)(row + x) + 1u); /* 0: none */
	}
}

/* Column l - 1 of the list (rows x, y[, z]) = the position of last[l - 1]; NaN for a label
 * without voxels. */
__kernel void l3_last_points(__global const uint *last, __global float *list, const int count,
			     const int rows, const int w, const int h)
{
	int k = get_global_id(0);

	if (k >= count)
		return;
	uint at = last[k];
	float nan = as_float(0x7fc00000u);
	ulong i = (ulong)at - 1;

	list[k] = at ? (float)(i % (ulong)w) : nan;
	list[count + k] = at ? (float)((i / (ulong)w) % (ulong)h) : nan;
	if (rows > 2)
		list[2 * count + k] = at ? (float)(i / ((ulong)w * (ulong)h)) : nan;
}

/* dst = the label unless flags (a vector indexed by label: voxel l of flags) marks it, else 0. */
__kernel void l3_exclude_flagged(__global const T_LABEL *labels, __global const T_IN *flags,
				 __global uint *dst, const ulong nflags, const ulong n)
{
	size_t i = get_global_id(0);

	if (i >= n)
		return;
	uint l = LABEL_OF(labels[i]);
	dst[i] = l && !((ulong)l < nflags && flags[l] != 0) ? l : 0u;
}

/* out[0] = 0 (the background has no value), out[l] = the table's column col of label l. */
__kernel void l3_table_column(__global const float *table, __global float *out, const int cols,
			      const int col, const int n1)
{
	int l = get_global_id(0);

	if (l < n1)
		out[l] = l ? table[(IDX)(l - 1) * (IDX)cols + (IDX)col] : 0.0f;
}
