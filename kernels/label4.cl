/*
 * kernels/label4.cl: the glue of the label4 chains (ops/plans_label4.c): labels into and out of
 * the Voronoi growth's int state, labels kept where a mask is set, and centroid spots from
 * exact integer coordinate sums.
 *
 * Centroids: one work-item per SEG voxels of a row sums runs of one label in registers and
 * flushes each run with 32-bit atomics (a count, and each coordinate sum as a 64-bit integer in
 * two words), so the sums are exact and the floor of sum / count is the same on every device.
 */
#ifndef T_IN
#define T_IN uint
#endif
#ifndef T_MASK
#define T_MASK uchar
#endif
#ifndef IDX
#define IDX ulong
#endif
#ifndef SEG
#define SEG 32
#endif

#define LABEL_OF(v) ((v) > 0 ? (uint)(v) : 0u)

__kernel void l4_state_init(__global const T_IN *labels, __global int *state, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		state[i] = (int)LABEL_OF(labels[i]);
}

__kernel void l4_state_finish(__global const int *state, __global uint *out, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = state[i] > 0 ? (uint)state[i] : 0u;
}

/* out = the label where mask != 0, else 0 (labels of any type, u32 out). */
__kernel void l4_keep_where(__global const T_IN *labels, __global const T_MASK *mask,
			    __global uint *out, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = mask[i] != 0 ? LABEL_OF(labels[i]) : 0u;
}

__kernel void l4_fill_u32(__global uint *a, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		a[i] = 0u;
}

/* acc[col * n1 + l]: col 0 the count, 1 + 2a / 2 + 2a the low / high word of axis a's sum. */
#define ACC_WORDS 7

/* *lo, *hi += v (v < 2^32): the carry goes to the high word alone, so additions commute. */
void add_wide(__global uint *lo, __global uint *hi, uint v)
{
	uint old = atomic_add(lo, v);

	if (old + v < old)
		atomic_add(hi, 1u);
}

void flush_run(__global uint *acc, uint n1, uint l, uint cnt, uint sx, uint y, uint z)
{
	if (l == 0u || l >= n1)
		return;
	atomic_add(acc + l, cnt);
	add_wide(acc + 1u * n1 + l, acc + 2u * n1 + l, sx);
	add_wide(acc + 3u * n1 + l, acc + 4u * n1 + l, cnt * y);
	add_wide(acc + 5u * n1 + l, acc + 6u * n1 + l, cnt * z);
}

/* global: (ceil(w / SEG), h, d); each work-item walks SEG voxels of its row. */
__kernel void l4_centroid_accumulate(__global const T_IN *labels, __global uint *acc,
				     const uint n1, const int w, const int h, const int d)
{
	int x0 = get_global_id(0) * SEG, y = get_global_id(1), z = get_global_id(2);

	if (x0 >= w || y >= h || z >= d)
		return;
	IDX row = (IDX)w * ((IDX)y + (IDX)h * (IDX)z);
	int x1 = min(x0 + SEG, w);
	uint run = LABEL_OF(labels[row + (IDX)x0]), cnt = 0u, sx = 0u;

	for (int x = x0; x < x1; x++) {
		uint l = LABEL_OF(labels[row + (IDX)x]);

		if (l != run) {
			flush_run(acc, n1, run, cnt, sx, (uint)y, (uint)z);
			run = l;
			cnt = 0u;
			sx = 0u;
		}
		cnt++;
		sx += (uint)x;
	}
	flush_run(acc, n1, run, cnt, sx, (uint)y, (uint)z);
}

ulong wide(__global const uint *acc, uint n1, uint col, uint l)
{
	return (ulong)acc[col * n1 + l] | ((ulong)acc[(col + 1u) * n1 + l] << 32);
}

/* Label l (1 .. n1 - 1) at floor(sum / count) per axis; the larger label wins a shared voxel. */
__kernel void l4_centroid_write(__global const uint *acc, __global uint *out, const uint n1,
				const int w, const int h)
{
	uint l = get_global_id(0);

	if (l == 0u || l >= n1 || acc[l] == 0u)
		return;
	ulong cnt = acc[l];
	ulong x = wide(acc, n1, 1u, l) / cnt, y = wide(acc, n1, 3u, l) / cnt;
	ulong z = wide(acc, n1, 5u, l) / cnt;

	atomic_max(out + (IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z), l);
}
