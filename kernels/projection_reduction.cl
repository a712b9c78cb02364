/*
 * kernels/projection_reduction.cl: reductions of a whole stack to one value, in two launches: every
 * work-group sums a grid-strided share into one partial, then one work-group sums the partials.
 * Kept apart from other kernels because it uses __local memory.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif

/*
 * Tree sum of the GROUP_SIZE values of the __local array scratch; the total ends in scratch[0].
 * A macro, not a function: CUDA has no __local (__shared__) pointer parameters.
 */
#define GROUP_SUM(scratch)                                                                       \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t step_ = GROUP_SIZE / 2; step_ > 0; step_ /= 2) {                     \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < step_)                                                        \
				(scratch)[lid_] += (scratch)[lid_ + step_];                      \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)

__kernel void sum_partials(__global const T_IN *src, __global float *partials, const ulong n)
{
	__local float scratch[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0);
	float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;

	/* four independent sums keep four loads in flight per work-item */
	for (; i + 3 * stride < n; i += 4 * stride) {
		acc0 += (float)src[i];
		acc1 += (float)src[i + stride];
		acc2 += (float)src[i + 2 * stride];
		acc3 += (float)src[i + 3 * stride];
	}
	for (; i < n; i += stride)
		acc0 += (float)src[i];
	scratch[get_local_id(0)] = (acc0 + acc1) + (acc2 + acc3);
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		partials[get_group_id(0)] = scratch[0];
}

__kernel void sum_final(__global const float *partials, __global float *out, const ulong n)
{
	__local float scratch[GROUP_SIZE];
	float acc = 0.0f;

	for (size_t i = get_local_id(0); i < n; i += GROUP_SIZE)
		acc += partials[i];
	scratch[get_local_id(0)] = acc;
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		out[0] = scratch[0];
}

/* ---- the reductions of ops/plans_projection.c ---- */

#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif

/* Per-work-item sums: integer voxels exactly in long, float voxels in float. */
#if IN_IS_FLOAT
#define ITEM_SUM_T float
#else
#define ITEM_SUM_T long
#endif

/* Both extremes of a grid-strided share, NaN ignored: partials[2g] = min, [2g + 1] = max. */
#if IN_IS_FLOAT
#define LO(a, b) fmin((a), (b))
#define HI(a, b) fmax((a), (b))
#else
#define LO(a, b) ((b) < (a) ? (b) : (a))
#define HI(a, b) ((b) > (a) ? (b) : (a))
#endif

/* Tree of both extremes over the __local arrays lo and hi; results in lo[0], hi[0]. */
#define MINMAX_TREE(lo, hi)                                                                      \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t s_ = GROUP_SIZE / 2; s_ > 0; s_ /= 2) {                              \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < s_) {                                                         \
				(lo)[lid_] = LO((lo)[lid_], (lo)[lid_ + s_]);                    \
				(hi)[lid_] = HI((hi)[lid_], (hi)[lid_ + s_]);                    \
			}                                                                        \
		}                                                                                \
	} while (0)

/* Element k of a 32-bit word holding 4 / sizeof(T_IN) voxels (little-endian, as the buffer). */
#if IN_IS_FLOAT
#define WORD_ELEM(w, k) as_float(w)
#else
#define WORD_ELEM(w, k) ((T_IN)((w) >> (8 * sizeof(T_IN) * (k) & 31)))
#endif
#define WORD_MINMAX(w, l, h)                                                                     \
	for (uint k_ = 0; k_ < 4 / sizeof(T_IN); k_++) {                                         \
		T_IN e_ = WORD_ELEM(w, k_);                                                      \
		l = LO(l, e_);                                                                   \
		h = HI(h, e_);                                                                   \
	}

/*
 * 16 bytes per load (8 u16, 16 u8 voxels): a 2-byte load per work-item left the H200 at 1.8 of
 * its 4 TB/s, behind CuPy (reports/BENCHMARKS.md). Buffers start aligned; the voxels after the
 * last whole 16 bytes are read one by one.
 */
__kernel void minmax_partials(__global const T_IN *src, __global T_IN *partials, const ulong n)
{
	__local T_IN lo[GROUP_SIZE], hi[GROUP_SIZE];
	size_t stride = get_global_size(0), lid = get_local_id(0);
	size_t per = 16 / sizeof(T_IN), words = n / per;
	__global const uint *w32 = (__global const uint *)src;
	/* src[0] starts every share: a duplicate never changes a minimum or a maximum */
	T_IN l = src[0], h = l;

	for (size_t i = get_global_id(0); i < words; i += stride) {
		uint4 v = vload4(i, w32);

		WORD_MINMAX(v.x, l, h);
		WORD_MINMAX(v.y, l, h);
		WORD_MINMAX(v.z, l, h);
		WORD_MINMAX(v.w, l, h);
	}
	for (size_t i = words * per + get_global_id(0); i < n; i += stride) {
		l = LO(l, src[i]);
		h = HI(h, src[i]);
	}
	lo[lid] = l;
	hi[lid] = h;
	MINMAX_TREE(lo, hi);
	if (lid == 0) {
		partials[2 * get_group_id(0)] = lo[0];
		partials[2 * get_group_id(0) + 1] = hi[0];
	}
}

/* which: 0 out[0] = minimum, 1 out[0] = maximum, 2 out[0..1] = both. One work-group. */
__kernel void minmax_final(__global const T_IN *partials, __global T_IN *out, const ulong groups,
			   const int which)
{
	__local T_IN lo[GROUP_SIZE], hi[GROUP_SIZE];
	size_t lid = get_local_id(0);
	T_IN l = partials[0], h = partials[1];

	for (size_t g = lid; g < groups; g += GROUP_SIZE) {
		l = LO(l, partials[2 * g]);
		h = HI(h, partials[2 * g + 1]);
	}
	lo[lid] = l;
	hi[lid] = h;
	MINMAX_TREE(lo, hi);
	if (lid == 0) {
		if (which == 2) {
			out[0] = lo[0];
			out[1] = hi[0];
		} else {
			out[0] = which ? hi[0] : lo[0];
		}
	}
}

/*
 * Count, mean and M2 (sum of squared deviations) of one share, merged by Chan et al.'s rule:
 * stable in one pass. Each work-item sums d = v - K over its voxels (K its first voxel) and d^2;
 * its mean is K + s1/n and its M2 = s2 - s1^2/n. Merging b into a (arrays n, m, q at a, b).
 */
#define MOMENTS_MERGE(n, m, q, a, b)                                                             \
	do {                                                                                     \
		float nb_ = (n)[b];                                                              \
		if (nb_ > 0.0f) {                                                                \
			float na_ = (n)[a], nn_ = na_ + nb_, dm_ = (m)[b] - (m)[a];              \
			(m)[a] += dm_ * (nb_ / nn_);                                             \
			(q)[a] += (q)[b] + dm_ * dm_ * (na_ * (nb_ / nn_));                      \
			(n)[a] = nn_;                                                            \
		}                                                                                \
	} while (0)

#define MOMENTS_TREE(n, m, q)                                                                    \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t s_ = GROUP_SIZE / 2; s_ > 0; s_ /= 2) {                              \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < s_)                                                           \
				MOMENTS_MERGE(n, m, q, lid_, lid_ + s_);                         \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)

/* Add voxel v to a work-item's shifted sums (s1 exact for integer voxels). */
#if IN_IS_FLOAT
#define MOMENTS_ADD(v)                                                                           \
	do {                                                                                     \
		float d_ = (v) - first;                                                          \
		s1 += d_;                                                                        \
		s2 += d_ * d_;                                                                   \
	} while (0)
#else
#define MOMENTS_ADD(v)                                                                           \
	do {                                                                                     \
		long dl_ = (long)(v) - (long)first;                                              \
		float d_ = (float)dl_;                                                           \
		s1 += dl_;                                                                       \
		s2 += d_ * d_;                                                                   \
	} while (0)
#endif

/* partials[3g .. 3g+2] = count, mean, M2 of group g's grid-strided share. */
__kernel void moments_partials(__global const T_IN *src, __global float *partials, const ulong n)
{
	__local float cnt[GROUP_SIZE], mean[GROUP_SIZE], m2[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0), lid = get_local_id(0);
	T_IN first = src[i < n ? i : 0];
	ITEM_SUM_T s1 = 0;
	float s2 = 0.0f, c = i < n ? (float)((n - i - 1) / stride + 1) : 0.0f;

	/* four loads in flight per work-item before their sums */
	for (; i + 3 * stride < n; i += 4 * stride) {
		T_IN v0 = src[i], v1 = src[i + stride], v2 = src[i + 2 * stride];
		T_IN v3 = src[i + 3 * stride];
		MOMENTS_ADD(v0);
		MOMENTS_ADD(v1);
		MOMENTS_ADD(v2);
		MOMENTS_ADD(v3);
	}
	for (; i < n; i += stride)
		MOMENTS_ADD(src[i]);
	cnt[lid] = c;
	mean[lid] = c > 0.0f ? (float)first + (float)s1 / c : 0.0f;
	m2[lid] = c > 0.0f ? fmax(s2 - (float)s1 * ((float)s1 / c), 0.0f) : 0.0f;
	MOMENTS_TREE(cnt, mean, m2);
	if (lid == 0) {
		partials[3 * get_group_id(0)] = cnt[0];
		partials[3 * get_group_id(0) + 1] = mean[0];
		partials[3 * get_group_id(0) + 2] = m2[0];
	}
}

/* One work-group: out[0] = the mean (std == 0), sqrt(M2 / (n - ddof)) (std == 1) or M2 / (n -
 * ddof) (std == 2, the variance); 0 where n <= ddof. */
__kernel void moments_final(__global const float *partials, __global float *out,
			    const ulong groups, const int std, const int ddof)
{
	__local float cnt[GROUP_SIZE], mean[GROUP_SIZE], m2[GROUP_SIZE];
	size_t lid = get_local_id(0);

	cnt[lid] = 0.0f;
	mean[lid] = 0.0f;
	m2[lid] = 0.0f;
	for (size_t g = lid; g < groups; g += GROUP_SIZE) {
		/* merge partial g into this work-item's own slot (no other work-item touches it) */
		float nb = partials[3 * g], na = cnt[lid], nn = na + nb;
		if (nb > 0.0f) {
			float dm = partials[3 * g + 1] - mean[lid];
			mean[lid] += dm * (nb / nn);
			m2[lid] += partials[3 * g + 2] + dm * dm * (na * (nb / nn));
			cnt[lid] = nn;
		}
	}
	MOMENTS_TREE(cnt, mean, m2);
	if (lid == 0) {
		float dof = cnt[0] - (float)ddof;
		float var = dof > 0.0f ? m2[0] / dof : 0.0f;

		out[0] = std == 2 ? var : std ? sqrt(var) : mean[0];
	}
}

/* partials[g] = sum over group g's share of (a - b)^2 (integer differences exact). */
__kernel void squared_difference_partials(__global const T_IN *a, __global const T_IN *b,
					  __global float *partials, const ulong n)
{
	__local float scratch[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0);
	float acc0 = 0.0f, acc1 = 0.0f;

	for (; i + stride < n; i += 2 * stride) {
#if IN_IS_FLOAT
		float d0 = a[i] - b[i], d1 = a[i + stride] - b[i + stride];
#else
		float d0 = (float)((long)a[i] - (long)b[i]);
		float d1 = (float)((long)a[i + stride] - (long)b[i + stride]);
#endif
		acc0 += d0 * d0;
		acc1 += d1 * d1;
	}
	if (i < n) {
#if IN_IS_FLOAT
		float d0 = a[i] - b[i];
#else
		float d0 = (float)((long)a[i] - (long)b[i]);
#endif
		acc0 += d0 * d0;
	}
	scratch[get_local_id(0)] = acc0 + acc1;
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		partials[get_group_id(0)] = scratch[0];
}

/* One work-group: out[0] = (sum of the partials) / n. */
__kernel void mean_final(__global const float *partials, __global float *out, const ulong groups,
			 const float n)
{
	__local float scratch[GROUP_SIZE];
	float acc = 0.0f;

	for (size_t i = get_local_id(0); i < groups; i += GROUP_SIZE)
		acc += partials[i];
	scratch[get_local_id(0)] = acc;
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		out[0] = scratch[0] / n;
}

/* Tree sums of the four __local arrays s, x, y, z; the totals end in [0]. */
#define COM_TREE(s, x, y, z)                                                                     \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t s_ = GROUP_SIZE / 2; s_ > 0; s_ /= 2) {                              \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < s_) {                                                         \
				(s)[lid_] += (s)[lid_ + s_];                                     \
				(x)[lid_] += (x)[lid_ + s_];                                     \
				(y)[lid_] += (y)[lid_ + s_];                                     \
				(z)[lid_] += (z)[lid_ + s_];                                     \
			}                                                                        \
		}                                                                                \
	} while (0)

/*
 * Centre of mass: work-group g takes rows g, g + groups, ... (row r = y + h*z); its work-items
 * stride along the row (coalesced). Per row the sums of v and x*v (exact for integer voxels),
 * then S += rs, SX += rsx, SY += y*rs, SZ += z*rs in float. partials[4g .. 4g+3] = S, SX, SY, SZ.
 */
__kernel void center_of_mass_partials(__global const T_IN *src, __global float *partials,
				      const int w, const int h, const int d)
{
	__local float ls[GROUP_SIZE], lx[GROUP_SIZE], ly[GROUP_SIZE], lz[GROUP_SIZE];
	size_t rows = (size_t)h * (size_t)d, lid = get_local_id(0);
	float S = 0.0f, SX = 0.0f, SY = 0.0f, SZ = 0.0f;

	for (size_t r = get_group_id(0); r < rows; r += get_num_groups(0)) {
		__global const T_IN *p = src + r * (size_t)w;
		ITEM_SUM_T rs = 0, rsx = 0;

		for (int x = (int)lid; x < w; x += GROUP_SIZE) {
			rs += (ITEM_SUM_T)p[x];
			rsx += (ITEM_SUM_T)x * (ITEM_SUM_T)p[x];
		}
		S += (float)rs;
		SX += (float)rsx;
		SY += (float)(r % (size_t)h) * (float)rs;
		SZ += (float)(r / (size_t)h) * (float)rs;
	}
	ls[lid] = S;
	lx[lid] = SX;
	ly[lid] = SY;
	lz[lid] = SZ;
	COM_TREE(ls, lx, ly, lz);
	if (lid == 0) {
		size_t g = get_group_id(0);
		partials[4 * g] = ls[0];
		partials[4 * g + 1] = lx[0];
		partials[4 * g + 2] = ly[0];
		partials[4 * g + 3] = lz[0];
	}
}

/* One work-group: out[0..2] = SX/S, SY/S, SZ/S. */
__kernel void center_of_mass_final(__global const float *partials, __global float *out,
				   const ulong groups)
{
	__local float ls[GROUP_SIZE], lx[GROUP_SIZE], ly[GROUP_SIZE], lz[GROUP_SIZE];
	size_t lid = get_local_id(0);
	float S = 0.0f, SX = 0.0f, SY = 0.0f, SZ = 0.0f;

	for (size_t g = lid; g < groups; g += GROUP_SIZE) {
		S += partials[4 * g];
		SX += partials[4 * g + 1];
		SY += partials[4 * g + 2];
		SZ += partials[4 * g + 3];
	}
	ls[lid] = S;
	lx[lid] = SX;
	ly[lid] = SY;
	lz[lid] = SZ;
	COM_TREE(ls, lx, ly, lz);
	if (lid == 0) {
		out[0] = lx[0] / ls[0];
		out[1] = ly[0] / ls[0];
		out[2] = lz[0] / ls[0];
	}
}
