/*
 * kernels/label_threshold.cl: global thresholds that stay on the device. Min/max (float) and sums
 * (double where the device has it) are reduced per work-group, then by one work-group; the
 * 256-bin histogram is gathered in __local sub-histograms with atomics; one work-item picks Otsu's
 * bin; the mask reads the threshold from the parameter buffer p at the index it is given:
 *   Otsu: p[0] min, p[1] max, p[2] histogram scale, p[3] threshold (the op's side value);
 *   threshold_mean: p[0] the mean, written by mean_of_all_pixels' plan (ops/plans_label.c).
 * The arithmetic mirrors reference_cpu/label_threshold.c operation for operation.
 */
#if defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#if defined(cl_khr_fp64) || defined(__CUDACC_RTC__) || defined(__CUDACC__)
typedef double real;
#else
typedef float real; /* a device without doubles: ties may then break differently */
#endif
#ifndef T_IN
#define T_IN float
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif
#define BINS 256

/* Tree reduction of the __local array s with op (a macro: CUDA has no __local parameters). */
#define GROUP_REDUCE(s, op)                                                                      \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t step_ = GROUP_SIZE / 2; step_ > 0; step_ /= 2) {                     \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < step_)                                                        \
				(s)[lid_] = op((s)[lid_], (s)[lid_ + step_]);                    \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)
#define ADD(a, b) ((a) + (b))

__kernel void minmax_partials(__global const T_IN *src, __global float *partials, const ulong n)
{
	__local float lo[GROUP_SIZE], hi[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0), lid = get_local_id(0);
	float a = as_float(0x7f800000u), b = as_float(0xff800000u); /* +inf, -inf */

	for (; i < n; i += stride) {
		float v = (float)src[i];

		a = fmin(a, v);
		b = fmax(b, v);
	}
	lo[lid] = a;
	hi[lid] = b;
	GROUP_REDUCE(lo, fmin);
	GROUP_REDUCE(hi, fmax);
	if (lid == 0) {
		partials[2 * get_group_id(0)] = lo[0];
		partials[2 * get_group_id(0) + 1] = hi[0];
	}
}

/* One work-group: the stack's min and max into p, the histogram's scale, the bins zeroed. */
__kernel void otsu_range(__global const float *partials, __global float *p,
			 __global uint *hist, const uint groups)
{
	__local float lo[GROUP_SIZE], hi[GROUP_SIZE];
	size_t lid = get_local_id(0);
	float a = as_float(0x7f800000u), b = as_float(0xff800000u);

	for (size_t g = lid; g < groups; g += GROUP_SIZE) {
		a = fmin(a, partials[2 * g]);
		b = fmax(b, partials[2 * g + 1]);
	}
	lo[lid] = a;
	hi[lid] = b;
	GROUP_REDUCE(lo, fmin);
	GROUP_REDUCE(hi, fmax);
	for (size_t k = lid; k < BINS; k += GROUP_SIZE)
		hist[k] = 0;
	if (lid == 0) {
		p[0] = lo[0];
		p[1] = hi[0];
		/* a division in real: float division need not be correctly rounded in OpenCL */
		p[2] = hi[0] > lo[0] ? (float)((real)256.0 / (real)(hi[0] - lo[0])) : 0.0f;
	}
}

__kernel void histogram(__global const T_IN *src, __global const float *p, __global uint *hist,
			const ulong n)
{
	__local uint h[BINS];
	size_t stride = get_global_size(0), i = get_global_id(0), lid = get_local_id(0);
	float lo = p[0], scale = p[2];
	int last = 0;
	uint run = 0;

	for (size_t k = lid; k < BINS; k += GROUP_SIZE)
		h[k] = 0;
	barrier(CLK_LOCAL_MEM_FENCE);
	/* runs of one bin add once: a stack's background would otherwise serialise on one bin */
	for (; i < n; i += stride) {
		int b = (int)(((float)src[i] - lo) * scale);

		b = b > BINS - 1 ? BINS - 1 : b < 0 ? 0 : b;
		if (b != last) {
			if (run)
				atomic_add(&h[last], run);
			last = b;
			run = 0;
		}
		run++;
	}
	if (run)
		atomic_add(&h[last], run);
	barrier(CLK_LOCAL_MEM_FENCE);
	for (size_t k = lid; k < BINS; k += GROUP_SIZE)
		if (h[k])
			atomic_add(&hist[k], h[k]);
}

/* One work-item: reference_cpu/label_threshold.c ref_otsu_bin, then the bin's centre into p[3]. */
__kernel void otsu_select(__global const uint *hist, __global float *p)
{
	real total = 0, sum = 0, w1 = 0, s1 = 0, best = -1;
	float lo = p[0], hi = p[1];
	int best_k = 0;

	if (get_global_id(0) != 0)
		return;
	if (!(hi > lo)) {
		p[3] = lo;
		return;
	}
	for (int k = 0; k < BINS; k++) {
		total += (real)hist[k];
		sum += (real)hist[k] * (real)k;
	}
	for (int k = 0; k < BINS - 1; k++) {
		real w2, m1, m2, v;

		w1 += (real)hist[k];
		s1 += (real)hist[k] * (real)k;
		w2 = total - w1;
		if (w1 == 0 || w2 == 0)
			continue;
		m1 = s1 / w1;
		m2 = (sum - s1) / w2;
		v = w1 * w2 * (m1 - m2) * (m1 - m2);
		if (v > best) {
			best = v;
			best_k = k;
		}
	}
	p[3] = (float)((real)lo + ((real)best_k + (real)0.5) * ((real)hi - (real)lo) / (real)256.0);
}

__kernel void mask_above(__global const T_IN *src, __global const float *p,
			 __global uchar *out, const uint at, const ulong n)
{
	size_t i = get_global_id(0);
	float t = p[at];

	if (i < n)
		out[i] = (float)src[i] > t ? 1 : 0;
}
