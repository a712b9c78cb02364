/*
 * kernels/label.cl: connected components by union-find with atomics, and the relabelling that
 * label ops share.
 *
 * Labelling (Playne & Hawick's union-find, as in ops/plans_label.c): L[i] = i for foreground, BG
 * for background; every foreground voxel unites with its raster-earlier neighbours, the root
 * being the smaller index (atomic_min); path halving keeps trees shallow whatever the shape. So
 * each component's root is its first voxel in raster order, and numbering roots by an exclusive
 * prefix sum over a root bitmap gives scipy.ndimage.label's numbering. L lives in the output
 * buffer; indices are u32 (the plan refuses stacks of 2^32-1 voxels or more).
 *
 * Prefix sums (scan_*): an exclusive scan of a u32 array in place, by blocks of SCAN_BLOCK values,
 * the block sums scanned by one work-group.
 */
#ifndef T_IN
#define T_IN uchar
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif
#ifndef CONN
#define CONN 26
#endif
#ifndef STAT
#define STAT 0
#endif
#define SCAN_ITEMS 4
#define SCAN_BLOCK (GROUP_SIZE * SCAN_ITEMS)
#define WORDS_PER_GROUP (GROUP_SIZE / 32)
#define BG 0xffffffffu
/* Consecutive voxels one work-item of label_stats gathers before touching the table. */
#define STAT_RUN 16

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define POPCOUNT(x) __popc(x)
#else
#define POPCOUNT(x) popcount(x)
#endif

/* The root of a, halving the path on the way (the writes only ever point at an ancestor). */
uint find_root(__global uint *L, uint a)
{
	for (;;) {
		uint p = L[a], g;

		if (p == a)
			return a;
		g = L[p];
		if (g != p)
			L[a] = g;
		a = g;
	}
}

/* The root of a without writing: ccl_compress's voxels are written by their own work-item only,
 * or a halving write could overwrite a voxel's root with an ancestor short of it. */
uint find_root_readonly(__global const uint *L, uint a)
{
	uint p;

	while ((p = L[a]) != a)
		a = p;
	return a;
}

/* Join the trees of a and b: the larger root is hung under the smaller one. */
void unite(__global uint *L, uint a, uint b)
{
	a = find_root(L, a);
	b = find_root(L, b);
	while (a != b) {
		uint old;

		if (a < b) {
			uint t = a;

			a = b;
			b = t;
		}
		old = atomic_min(&L[a], b);
		if (old == a)
			return;
		/* a was hung elsewhere meanwhile: carry on from its new root */
		a = find_root(L, old);
		b = find_root(L, b);
	}
}

__kernel void ccl_init(__global const T_IN *src, __global uint *L, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		L[i] = src[i] != (T_IN)0 ? (uint)i : BG;
}

#define FG(xx, yy, zz) (src[((size_t)(zz) * h + (yy)) * w + (xx)] != (T_IN)0)
#define JOIN_FG(xx, yy, zz) unite(L, i, (uint)(((size_t)(zz) * h + (yy)) * w + (xx)))

/* The bit of offset (dx, dy, dz) of the earlier half within a 3 x 3 x 2 box (dz = -1 or 0). */
#define POS(dx, dy, dz) (((dz) + 1) * 9 + ((dy) + 1) * 3 + ((dx) + 1))

/* The offsets of the box within one step of (dx, dy, dz); called with constants, so it folds. */
uint near_mask(int dx, int dy, int dz)
{
	uint m = 0;

	for (int ez = -1; ez <= 0; ez++)
		for (int ey = -1; ey <= 1; ey++)
			for (int ex = -1; ex <= 1; ex++)
				if (abs(ex - dx) <= 1 && abs(ey - dy) <= 1 && abs(ez - dz) <= 1)
					m |= 1u << POS(ex, ey, ez);
	return m;
}

/* Unite with neighbour (x+DX, y+DY, z+DZ) unless it is covered or background. */
#define TRY(DX, DY, DZ)                                                                          \
	do {                                                                                     \
		if (!((covered >> POS(DX, DY, DZ)) & 1u) && x + (DX) >= 0 && x + (DX) < w &&     \
		    y + (DY) >= 0 && y + (DY) < h && z + (DZ) >= 0 &&                            \
		    FG(x + (DX), y + (DY), z + (DZ))) {                                          \
			JOIN_FG(x + (DX), y + (DY), z + (DZ));                                   \
			covered |= near_mask(DX, DY, DZ);                                        \
		}                                                                                \
	} while (0)

/*
 * Unite each foreground voxel p with its raster-earlier foreground neighbours (3 of 6, or 13 of
 * 26), skipping a neighbour j that is adjacent to one p already united with: j and that one are
 * both earlier than p, so their own pair is united by the later of them (by induction over the
 * raster order, all pairs end up joined). (x, y, z-1) covers the whole earlier half under
 * 26-connectivity, so most voxels of a blob unite once.
 */
__kernel void ccl_merge(__global const T_IN *src, __global uint *L, const int w, const int h,
			const int d)
{
	int x = (int)get_global_id(0), y = (int)get_global_id(1), z = (int)get_global_id(2);
	uint i;

	if (x >= w || y >= h || z >= d)
		return;
	i = (uint)(((size_t)z * h + y) * w + x);
	if (src[i] == (T_IN)0)
		return;
#if CONN == 6
	{
		int q = x > 0 && FG(x - 1, y, z), u = y > 0 && FG(x, y - 1, z);
		int b = z > 0 && FG(x, y, z - 1);

		if (q)
			JOIN_FG(x - 1, y, z);
		/* u and q meet through (x-1, y-1, z); b and q through (x-1, y, z-1), b and u
		 * through (x, y-1, z-1) */
		if (u && !(q && FG(x - 1, y - 1, z)))
			JOIN_FG(x, y - 1, z);
		if (b && !(q && FG(x - 1, y, z - 1)) && !(u && FG(x, y - 1, z - 1)))
			JOIN_FG(x, y, z - 1);
	}
#else
	{
		uint covered = 0; /* POS bits of the offsets next to a neighbour united so far */

		/* the earlier half, most covering first: (x, y, z-1), (x, y-1, z), (x-1, y, z) */
		TRY(0, 0, -1);
		TRY(0, -1, 0);
		TRY(-1, 0, 0);
		TRY(-1, -1, 0);
		TRY(1, -1, 0);
		TRY(-1, -1, -1);
		TRY(0, -1, -1);
		TRY(1, -1, -1);
		TRY(-1, 0, -1);
		TRY(1, 0, -1);
		TRY(-1, 1, -1);
		TRY(0, 1, -1);
		TRY(1, 1, -1);
	}
#endif
}

/*
 * The 32 flags of each work-group's words into bitmap[] and their counts into counts[]
 * (a macro: CUDA has no __local parameters). flags: __local uint[GROUP_SIZE].
 */
#define FLAGS_TO_WORDS(flags, bitmap, counts, nwords)                                            \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
		if (lid_ < WORDS_PER_GROUP) {                                                    \
			size_t w_ = get_group_id(0) * WORDS_PER_GROUP + lid_;                    \
			uint bits_ = 0;                                                          \
			for (int k_ = 0; k_ < 32; k_++)                                          \
				bits_ |= (flags)[lid_ * 32 + k_] << k_;                          \
			if (w_ < (nwords)) {                                                     \
				(bitmap)[w_] = bits_;                                            \
				(counts)[w_] = POPCOUNT(bits_);                                  \
			}                                                                        \
		}                                                                                \
	} while (0)

/* Point every foreground voxel at its root; flag the roots (one bit per voxel). */
__kernel void ccl_compress(__global uint *L, __global uint *bitmap, __global uint *counts,
			   const ulong n)
{
	__local uint flags[GROUP_SIZE];
	size_t i = get_global_id(0);
	uint f = 0;

	if (i < n) {
		uint l = L[i];

		if (l != BG) {
			uint r = find_root_readonly(L, (uint)i);

			if (r != l)
				L[i] = r;
			f = r == (uint)i;
		}
	}
	flags[get_local_id(0)] = f;
	FLAGS_TO_WORDS(flags, bitmap, counts, (n + 31) / 32);
}

/* label = 1 + the number of flagged voxels before voxel r (pre: the scanned counts). */
uint rank_of(__global const uint *bitmap, __global const uint *pre, uint r)
{
	return pre[r >> 5] + POPCOUNT(bitmap[r >> 5] & ((1u << (r & 31)) - 1u)) + 1;
}

/* In place: each voxel's root becomes its root's rank. */
__kernel void ccl_number(__global uint *L, __global const uint *bitmap, __global const uint *pre,
			 const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n) {
		uint r = L[i];

		L[i] = r == BG ? 0 : rank_of(bitmap, pre, r);
	}
}

__kernel void spots_flag(__global const T_IN *src, __global uint *bitmap, __global uint *counts,
			 const ulong n)
{
	__local uint flags[GROUP_SIZE];
	size_t i = get_global_id(0);

	flags[get_local_id(0)] = i < n && src[i] != (T_IN)0;
	FLAGS_TO_WORDS(flags, bitmap, counts, (n + 31) / 32);
}

__kernel void spots_number(__global const uint *bitmap, __global const uint *pre,
			   __global uint *out, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = (bitmap[i >> 5] >> (i & 31)) & 1u ? rank_of(bitmap, pre, (uint)i) : 0;
}

/* ---- exclusive scan in place ---- */

/* Inclusive scan of the __local array s (Hillis-Steele). */
#define GROUP_SCAN(s)                                                                            \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t off_ = 1; off_ < GROUP_SIZE; off_ *= 2) {                            \
			uint t_;                                                                 \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			t_ = lid_ >= off_ ? (s)[lid_ - off_] : 0;                                \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			(s)[lid_] += t_;                                                         \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)

__kernel void scan_block_sums(__global const uint *a, __global uint *sums, const ulong k)
{
	__local uint s[GROUP_SIZE];
	size_t base = get_group_id(0) * SCAN_BLOCK + get_local_id(0);
	uint acc = 0;

	for (int j = 0; j < SCAN_ITEMS; j++)
		if (base + (size_t)j * GROUP_SIZE < k)
			acc += a[base + (size_t)j * GROUP_SIZE];
	s[get_local_id(0)] = acc;
	GROUP_SCAN(s);
	if (get_local_id(0) == GROUP_SIZE - 1)
		sums[get_group_id(0)] = s[GROUP_SIZE - 1];
}

/* One work-group: sums[0 .. nb-1] exclusive in place, the total into sums[nb]. */
__kernel void scan_sums(__global uint *sums, const ulong nb)
{
	__local uint s[GROUP_SIZE];
	size_t lid = get_local_id(0), chunk = (nb + GROUP_SIZE - 1) / GROUP_SIZE;
	size_t start = lid * chunk, end = start + chunk < nb ? start + chunk : nb;
	uint acc = 0, run;

	for (size_t j = start; j < end; j++)
		acc += sums[j];
	s[lid] = acc;
	GROUP_SCAN(s);
	run = s[lid] - acc;
	for (size_t j = start; j < end; j++) {
		uint t = sums[j];

		sums[j] = run;
		run += t;
	}
	if (lid == GROUP_SIZE - 1)
		sums[nb] = s[GROUP_SIZE - 1];
}

__kernel void scan_apply(__global uint *a, __global const uint *sums, const ulong k)
{
	__local uint s[GROUP_SIZE];
	size_t base = get_group_id(0) * SCAN_BLOCK + get_local_id(0) * SCAN_ITEMS;
	uint v[SCAN_ITEMS], acc = 0, run;

	for (int j = 0; j < SCAN_ITEMS; j++) {
		v[j] = base + j < k ? a[base + j] : 0;
		acc += v[j];
	}
	s[get_local_id(0)] = acc;
	GROUP_SCAN(s);
	run = sums[get_group_id(0)] + s[get_local_id(0)] - acc;
	for (int j = 0; j < SCAN_ITEMS; j++) {
		if (base + j < k)
			a[base + j] = run;
		run += v[j];
	}
}

/* ---- label tables: max label, per-label statistics, keep rule, renumbering ---- */

/* Tree maximum of the __local array s; the result ends in s[0]. */
#define GROUP_MAX(s)                                                                             \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t step_ = GROUP_SIZE / 2; step_ > 0; step_ /= 2) {                     \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < step_)                                                        \
				(s)[lid_] = max((s)[lid_], (s)[lid_ + step_]);                   \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)

__kernel void label_max_partials(__global const T_IN *src, __global uint *partials,
				 const ulong n)
{
	__local uint s[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0), lid = get_local_id(0);
	uint m = 0;

	for (; i < n; i += stride)
		m = max(m, (uint)src[i]); /* a negative i32 becomes huge: the plan refuses it */
	s[lid] = m;
	GROUP_MAX(s);
	if (lid == 0)
		partials[get_group_id(0)] = s[0];
}

/* One work-group: partials[0] = the largest of the first `groups`. */
__kernel void label_max_final(__global uint *partials, const uint groups)
{
	__local uint s[GROUP_SIZE];
	size_t lid = get_local_id(0);
	uint m = 0;

	for (size_t g = lid; g < groups; g += GROUP_SIZE)
		m = max(m, partials[g]);
	s[lid] = m;
	GROUP_MAX(s);
	if (lid == 0)
		partials[0] = s[0];
}

__kernel void fill_u32(__global uint *a, const uint value, const ulong k)
{
	size_t i = get_global_id(0);

	if (i < k)
		a[i] = value;
}

/*
 * What each label needs, STAT_RUN voxels per work-item: STAT 0: keep[l] = 1 (present);
 * STAT 1: aux[l] += voxels (runs of one label add once); STAT 2: keep[l] = 1 and aux[l] = 1 when
 * the voxel lies on an excluded face (edges: bit 0 x, 1 y, 2 z).
 */
__kernel void label_stats(__global const T_IN *src, __global uint *keep, __global uint *aux,
			  const int w, const int h, const int d, const int edges, const ulong n)
{
	size_t start = get_global_id(0) * STAT_RUN, end = start + STAT_RUN < n ? start + STAT_RUN : n;
#if STAT == 1
	uint run_label = 0, run = 0;
#endif

	for (size_t i = start; i < end; i++) {
		uint l = (uint)src[i];

		if (l == 0)
			continue;
#if STAT == 1
		if (l != run_label) {
			if (run)
				atomic_add(&aux[run_label], run);
			run_label = l;
			run = 0;
		}
		run++;
#else
		keep[l] = 1;
#if STAT == 2
		{
			size_t x = i % (size_t)w, y = i / (size_t)w % (size_t)h;
			size_t z = i / ((size_t)w * (size_t)h);

			if (((edges & 1) && (x == 0 || x == (size_t)w - 1)) ||
			    ((edges & 2) && (y == 0 || y == (size_t)h - 1)) ||
			    ((edges & 4) && d > 1 && (z == 0 || z == (size_t)d - 1)))
				aux[l] = 1;
		}
#endif
#endif
	}
#if STAT == 1
	if (run)
		atomic_add(&aux[run_label], run);
#endif
}

/* keep[l] for l in 1..max by the op's rule (STAT as above; sizes kept when lo <= s <= hi). */
__kernel void label_select(__global uint *keep, __global const uint *aux, const uint lo,
			   const uint hi, const ulong max_label)
{
	size_t l = get_global_id(0);

	if (l == 0 || l > max_label)
		return;
#if STAT == 1
	keep[l] = aux[l] > 0 && aux[l] >= lo && aux[l] <= hi;
#elif STAT == 2
	keep[l] = keep[l] && !aux[l];
#endif
}

/* out = the kept label's new number (pre: keep scanned, so pre[l+1] - pre[l] = keep[l]). */
__kernel void label_map(__global const T_IN *src, __global const uint *pre, __global uint *out,
			const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n) {
		uint l = (uint)src[i];

		out[i] = pre[l + 1] != pre[l] ? pre[l + 1] : 0;
	}
}
