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

