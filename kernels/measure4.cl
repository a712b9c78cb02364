/*
 * kernels/measure4.cl: histogram thresholds (Yen, isodata, triangle, Li) and the steps of
 * binary_fill_holes (ops/plans_measure4.c); the product of all voxels needs doubles and is in
 * kernels/measure4_fp64.cl.
 *
 * The thresholds take threshold_otsu's histogram (kernels/label_threshold.cl: 256 bins over the
 * float min p[0] and max p[1], bins 0 and 255 never empty) and one work-item writes the
 * threshold into p[3], in the operations and order of reference_cpu/measure4.c, in double where
 * the device has it.
 */
#if defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#if defined(cl_khr_fp64) || defined(__CUDACC_RTC__) || defined(__CUDACC__)
typedef double real;
#else
typedef float real; /* a device without doubles: thresholds may then differ by a bin */
#endif
/* products rounded before they are added, as the reference does (no fused multiply-add) */
#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(x, y) __dmul_rn(x, y)
#define ADD_RN(x, y) __dadd_rn(x, y)
#else
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(x, y) ((x) * (y))
#define ADD_RN(x, y) ((x) + (y))
#endif
#ifndef T_IN
#define T_IN float
#endif
#define BINS 256

/* One work-item picks; a constant stack's threshold is its value (as otsu_select). */
#define SELECT_PROLOGUE(p)                                                                 \
	if (get_global_id(0) != 0)                                                               \
		return;                                                                          \
	if (!((p)[1] > (p)[0])) {                                                                \
		(p)[3] = (p)[0];                                                                 \
		return;                                                                          \
	}

/* The centre of bin k of [lo, hi]. */
real centre(real lo, real hi, int k)
{
	/* an exact division by 256 may become a product: ADD_RN keeps it from fusing */
	return ADD_RN(lo, MUL_RN((real)k + (real)0.5, hi - lo) / (real)BINS);
}

/* Yen: the k maximising (P1 (1 - P1))^2 / (sum_{j<=k} p_j^2 sum_{j>k} p_j^2), P1 = sum_{j<=k} p_j
 * (skimage's criterion without its log, which keeps the argmax). */
__kernel void m4_yen_select(__global const uint *hist, __global float *p)
{
	real total = 0, p1 = 0, p1sq = 0, p2sq[BINS], best = -1;
	real lo = p[0], hi = p[1];
	int best_k = 0;

	SELECT_PROLOGUE(p)
	for (int k = 0; k < BINS; k++)
		total += (real)hist[k];
	p2sq[BINS - 1] = MUL_RN((real)hist[BINS - 1] / total, (real)hist[BINS - 1] / total);
	for (int k = BINS - 2; k >= 0; k--)
		p2sq[k] = p2sq[k + 1] + MUL_RN((real)hist[k] / total, (real)hist[k] / total);
	for (int k = 0; k < BINS - 1; k++) {
		real pk = (real)hist[k] / total, a, b;

		p1 += pk;
		p1sq += MUL_RN(pk, pk);
		a = p1sq * p2sq[k + 1];
		b = p1 * ((real)1 - p1);
		if (a > 0 && b > 0 && b * b / a > best) {
			best = b * b / a;
			best_k = k;
		}
	}
	p[3] = (float)centre(lo, hi, best_k);
}

/* Isodata: the first k with 0 <= (mean(<= k) + mean(> k)) / 2 - c_k < bin width (skimage);
 * c_0 should rounding skip every k (see reference_cpu/measure4.c). */
__kernel void m4_isodata_select(__global const uint *hist, __global float *p)
{
	real lo = p[0], hi = p[1], total = 0, sum = 0, below = 0, below_sum = 0;
	real width = centre(lo, hi, 1) - centre(lo, hi, 0);
	int pick = 0;

	SELECT_PROLOGUE(p)
	for (int k = 0; k < BINS; k++) {
		total += (real)hist[k];
		sum += MUL_RN((real)hist[k], centre(lo, hi, k));
	}
	for (int k = 0; k < BINS - 1; k++) {
		real mean, d;

		below += (real)hist[k];
		below_sum += MUL_RN((real)hist[k], centre(lo, hi, k));
		mean = (below_sum / below + (sum - below_sum) / (total - below)) / (real)2;
		d = mean - centre(lo, hi, k);
		if (d >= 0 && d < width) {
			pick = k;
			break;
		}
	}
	p[3] = (float)centre(lo, hi, pick);
}

/* Triangle: the bin farthest below the line from the peak to the far end of the longer tail
 * (skimage's threshold_triangle on the 256 bins). */
__kernel void m4_triangle_select(__global const uint *hist, __global float *p)
{
	int peak = 0, flip, width, pick = 0;
	real height, norm, hn, wn, best = 0;

	SELECT_PROLOGUE(p)
	for (int k = 1; k < BINS; k++)
		if (hist[k] > hist[peak])
			peak = k;
	/* bins 0 and 255 are never empty: flip (walk from bin 255) when the low tail is shorter */
	flip = peak < BINS - 1 - peak;
	width = flip ? BINS - 1 - peak : peak;
	height = (real)hist[peak];
	norm = sqrt(MUL_RN(height, height) + MUL_RN((real)width, (real)width));
	hn = height / norm;
	wn = (real)width / norm;
	for (int x = 0; x < width; x++) {
		int bin = flip ? BINS - 1 - x : x;
		real len = MUL_RN(hn, (real)x) - MUL_RN(wn, (real)hist[bin]);

		if (x == 0 || len > best) {
			best = len;
			pick = bin;
		}
	}
	p[3] = (float)centre(p[0], p[1], pick);
}

/*
 * Li's minimum cross-entropy iteration (skimage's threshold_li) on the bin centres weighted by
 * their counts, in coordinates from the first centre: from the mean, t = (mb - mf) / (ln mb -
 * ln mf) until it moves by at most half the smallest gap between occupied centres (at most 1000
 * iterations).
 */
__kernel void m4_li_select(__global const uint *hist, __global float *p)
{
	real lo = p[0], hi = p[1], c0 = centre(lo, hi, 0), total = 0, sum = 0, tol = -1, last = 0;
	real t_next, t_curr;

	SELECT_PROLOGUE(p)
	for (int k = 0; k < BINS; k++) {
		real x = centre(lo, hi, k) - c0;

		if (hist[k] == 0)
			continue;
		total += (real)hist[k];
		sum += MUL_RN((real)hist[k], x);
		if (k > 0 && (tol < 0 || (x - last) / (real)2 < tol))
			tol = (x - last) / (real)2;
		last = x;
	}
	t_next = sum / total;
	t_curr = (real)-2 * tol;
	for (int it = 0; it < 1000 && fabs(t_next - t_curr) > tol; it++) {
		real nf = 0, sf = 0, nb = 0, sb = 0, mf, mb;

		t_curr = t_next;
		for (int k = 0; k < BINS; k++) {
			real x = centre(lo, hi, k) - c0;

			if (x > t_curr) {
				nf += (real)hist[k];
				sf += MUL_RN((real)hist[k], x);
			} else {
				nb += (real)hist[k];
				sb += MUL_RN((real)hist[k], x);
			}
		}
		mf = sf / nf;
		mb = sb / nb;
		t_next = (mb - mf) / (log(mb) - log(mf));
	}
	p[3] = (float)(t_next + c0);
}

/* out = 1 where in is 0: the background that binary_fill_holes labels. */
__kernel void m4_background(__global const T_IN *in, __global uchar *out, const ulong n)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = in[i] == 0 ? 1 : 0;
}

/* out = 1 where in is non-zero or holes (background components off the faces) is. */
__kernel void m4_fill(__global const T_IN *in, __global const uint *holes, __global uchar *out,
		      const ulong n, const int any_holes)
{
	size_t i = get_global_id(0);

	if (i < n)
		out[i] = in[i] != 0 || (any_holes && holes[i] != 0) ? 1 : 0;
}
