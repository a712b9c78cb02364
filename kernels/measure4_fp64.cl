/*
 * kernels/measure4_fp64.cl: the kernels of ops/plans_measure4.c that need doubles (cl_khr_fp64 on
 * OpenCL): numpy.percentile (method 'linear') of every voxel, the normalisation that uses it, and
 * the product of all voxels. On a device without doubles the program does not build, and its
 * rows are errors that say so (the #error below), not wrong values.
 *
 * The two order statistics a = x[k] and b = x[k + 1] of the sorted voxels come from a radix
 * select on order-preserving 32-bit keys: four passes, each a 256-bin histogram of the next 8
 * bits of the keys that match the prefix found so far (one histogram per statistic while their
 * prefixes differ), then one work-item finds the bin that holds the rank. Linear in voxels;
 * counts are u32 (fewer than 2^32 voxels).
 *
 * st (u32): [0] prefix of a, [1] rank of a left within it, [2], [3] the same for b, [4] NaN
 * voxels (numpy's percentile is NaN when there is one).
 */
/* products rounded before they are added, as the reference does (no fused multiply-add) */
#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(x, y) __dmul_rn(x, y)
#else
#ifndef cl_khr_fp64
#error "this op needs double precision (cl_khr_fp64), which this OpenCL device does not have"
#endif
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(x, y) ((x) * (y))
#endif
#ifndef T_IN
#define T_IN float
#endif
#ifndef KEY_MODE
#define KEY_MODE 2 /* 0 unsigned, 1 signed, 2 float */
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif
#define BINS 256
#define NAN_KEY 0xffffffffu

/* Unsigned as is, signed with the sign bit flipped, floats by their bits (negative: every bit
 * flipped, positive: the sign bit set); every NaN is NAN_KEY, after +inf. */
uint key_of(T_IN v)
{
#if KEY_MODE == 2
	float f = (float)v;
	uint b = as_uint(f);

	if (f != f)
		return NAN_KEY;
	return (b & 0x80000000u) ? ~b : b | 0x80000000u;
#elif KEY_MODE == 1
	return (uint)(int)v ^ 0x80000000u;
#else
	return (uint)v;
#endif
}

/* The voxel value of a key, exactly. */
double value_of(uint key)
{
#if KEY_MODE == 2
	return (double)as_float((key & 0x80000000u) ? key & 0x7fffffffu : ~key);
#elif KEY_MODE == 1
	return (double)(int)(key ^ 0x80000000u);
#else
	return (double)key;
#endif
}

/* One work-item (of a group, so that the launches share one build): ranks ka and kb (kb = ka + 1,
 * or ka at the end), empty prefixes, bins zeroed. */
__kernel void pct_init(__global uint *st, __global uint *hist, const uint ka, const uint kb)
{
	if (get_global_id(0) != 0)
		return;
	st[0] = 0;
	st[1] = ka;
	st[2] = 0;
	st[3] = kb;
	st[4] = 0;
	for (int k = 0; k < 2 * BINS; k++)
		hist[k] = 0;
}

/* Adds the run of `count` keys in bin `bin` to h (a macro: CUDA has no __local parameters). */
#define FLUSH(h, bin, count)                                                                     \
	do {                                                                                     \
		if (count)                                                                       \
			atomic_add(&(h)[bin], count);                                            \
	} while (0)

/* The histograms of bits shift .. shift+7 of the keys under each prefix (hist[0..255]: a's,
 * hist[256..511]: b's, only while the prefixes differ); runs of one bin add once. */
__kernel void pct_hist(__global const T_IN *src, __global uint *st, __global uint *hist,
		       const ulong n, const int shift)
{
	__local uint h[2 * BINS], nans;
	size_t stride = get_global_size(0), i = get_global_id(0), lid = get_local_id(0);
	uint pa = st[0], pb = st[2], run_a = 0, run_b = 0, own_nans = 0;
	int two = pa != pb, top = shift == 24, last_a = 0, last_b = 0;

	for (size_t k = lid; k < 2 * BINS; k += GROUP_SIZE)
		h[k] = 0;
	if (lid == 0)
		nans = 0;
	barrier(CLK_LOCAL_MEM_FENCE);
	for (; i < n; i += stride) {
		uint key = key_of(src[i]);
		int bin = (int)((key >> shift) & 0xffu);

		own_nans += key == NAN_KEY;
		if (top || (key >> (shift + 8)) == (pa >> (shift + 8))) {
			if (bin != last_a) {
				FLUSH(h, last_a, run_a);
				last_a = bin;
				run_a = 0;
			}
			run_a++;
		}
		if (two && (key >> (shift + 8)) == (pb >> (shift + 8))) {
			if (bin != last_b) {
				FLUSH(h, BINS + last_b, run_b);
				last_b = bin;
				run_b = 0;
			}
			run_b++;
		}
	}
	FLUSH(h, last_a, run_a);
	FLUSH(h, BINS + last_b, run_b);
	if (top && own_nans)
		atomic_add(&nans, own_nans);
	barrier(CLK_LOCAL_MEM_FENCE);
	for (size_t k = lid; k < 2 * BINS; k += GROUP_SIZE)
		if (h[k])
			atomic_add(&hist[k], h[k]);
	if (lid == 0 && nans)
		atomic_add(&st[4], nans);
}

/* One work-item: the bin of each rank joins its prefix, the rank becomes the rank within the
 * bin; the bins are zeroed for the next pass. */
__kernel void pct_select(__global uint *st, __global uint *hist, const int shift)
{
	int two;

	if (get_global_id(0) != 0)
		return;
	two = st[0] != st[2];
	for (int s = 0; s < 2; s++) {
		__global const uint *h = hist + (s && two ? BINS : 0);
		uint rank = st[2 * s + 1], below = 0;
		int bin = BINS - 1;

		for (int k = 0; k < BINS; k++) {
			if (rank < below + h[k]) {
				bin = k;
				break;
			}
			below += h[k];
		}
		st[2 * s] |= (uint)bin << shift;
		st[2 * s + 1] = rank - below;
	}
	for (int k = 0; k < 2 * BINS; k++)
		hist[k] = 0;
}

/* out[0] = numpy's linear interpolation between a and b at g = frac[0] (its _lerp: from b when
 * g >= 0.5), NaN where a voxel is NaN. */
__kernel void pct_final(__global const uint *st, __global const double *frac, __global float *out)
{
	double a, b, g = frac[0];

	if (get_global_id(0) != 0)
		return;
	a = value_of(st[0]);
	b = value_of(st[2]);
	if (st[4]) {
		out[0] = as_float(0x7fc00000u);
		return;
	}
	out[0] = (float)(g >= 0.5 ? b - MUL_RN(b - a, 1.0 - g) : a + MUL_RN(b - a, g));
}

/* out = clamp((v - lo) / (hi - lo), 0, 1) (f32): 0 where hi <= lo, NaN where v, lo or hi is. */
__kernel void normalize_apply(__global const T_IN *src, __global const float *lo,
			      __global const float *hi, __global float *out, const ulong n)
{
	size_t i = get_global_id(0);
	float l = lo[0], range = hi[0] - lo[0], x;

	if (i >= n)
		return;
	x = range > 0.0f ? ((float)src[i] - l) / range : range != range ? range : 0.0f;
	out[i] = x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

/*
 * The product of all voxels, as a double mantissa and a 64-bit exponent renormalised by frexp
 * after every multiply, so no partial product overflows or underflows whatever the order:
 * m[p], e[p] for the voxels p, p + parts, ...
 */
__kernel void m4_product_partials(__global const T_IN *a, __global double *m, __global long *e,
				  const ulong n, const uint parts)
{
	uint p = get_global_id(0);
	double acc = 1;
	long exp_sum = 0;

	if (p >= parts)
		return;
	for (ulong i = p; i < n; i += parts) {
		int k;

		acc = frexp(acc * (double)a[i], &k);
		exp_sum += k;
	}
	m[p] = acc;
	e[p] = exp_sum;
}

/* out[0] = the product of the partials, rounded to f32 (inf beyond its range, 0 below). */
__kernel void m4_product_final(__global const double *m, __global const long *e,
			       __global float *out, const uint parts)
{
	double acc = 1;
	long exp_sum = 0;

	if (get_global_id(0) != 0)
		return;
	for (uint p = 0; p < parts; p++) {
		int k;

		acc = frexp(acc * m[p], &k);
		exp_sum += e[p] + k;
	}
	/* |acc| < 1: beyond 2^200 or below 2^-200 no f32 is left but inf and 0 */
	exp_sum = exp_sum > 200 ? 200 : exp_sum < -200 ? -200 : exp_sum;
	out[0] = (float)ldexp(acc, (int)exp_sum);
}
