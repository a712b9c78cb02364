/*
 * reference_cpu/label_threshold.c: global thresholds (Otsu, mean) into u8 0/1 masks.
 *
 * The histogram is computed in float exactly as kernels/label_threshold.cl does (one multiply by a
 * scale rounded from a double division), and Otsu's choice in double with the same operations,
 * so GPU and CPU fill the same bins and pick the same one.
 */
#include <float.h>
#include <math.h>

#include "internal.h"
#include "reference.h"

int ref_otsu_bin(const uint64_t hist[256])
{
	double total = 0, sum = 0, w1 = 0, s1 = 0, best = -1;
	int best_k = 0;

	for (int k = 0; k < 256; k++) {
		total += (double)hist[k];
		sum += (double)hist[k] * k;
	}
	/* skimage's variance12 over split k (bins 0..k below): w1 w2 (m1 - m2)^2 */
	for (int k = 0; k < 255; k++) {
		double w2, m1, m2, v;

		w1 += (double)hist[k];
		s1 += (double)hist[k] * k;
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
	return best_k;
}

/*
 * The GPU computes the same threshold in another order (or rounds the last bit of a double
 * otherwise): a voxel within a few float steps of it may fall on either side.
 */
double ref_threshold_tolerance(double threshold)
{
	return 4.0 * FLT_EPSILON * fmax(fabs(threshold), FLT_MIN);
}

void ref_mark_near(const struct stack *s, double value, double tol, uint8_t *ambiguous, int threads)
{
	size_t n = stack_voxels(s);

	if (!ambiguous)
		return;
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static)")
		for (size_t i = 0; i < n; i++)
			if (fabs((double)p[i] - value) <= tol)
				ambiguous[i] = 1;
	)
}

/* out = v > threshold; voxels within tol of it are marked ambiguous. */
static void mask_above(const struct op_call *c, float threshold, double tol)
{
	size_t n = stack_voxels(c->in[0]);
	uint8_t *out = c->out->data;

	REF_SWITCH_DTYPE(c->in[0]->dtype, T,
		const T *p = c->in[0]->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			out[i] = (float)p[i] > threshold;
	)
	ref_mark_near(c->in[0], threshold, tol, c->ambiguous, ref_nthreads(c));
}

/*
 * Otsu's threshold over a 256-bin histogram of the float voxels spanning [min, max] (bin =
 * (int)((v - min) * s), s = (float)(256.0 / (max - min)), clamped to 255: the bins of
 * skimage.filters.threshold_otsu(nbins=256) up to rounding at bin edges); threshold = the best
 * bin's centre, (float)(min + (k + 0.5) * (max - min) / 256) in double; out = v > threshold. The threshold is the side
 * value. A constant stack's threshold is its value.
 */
/* hist = the 256 bins of in's voxels, bin (int)((v - lo) * scale) clamped, as the kernel
 * computes it; per-thread histograms, added up (counts: any thread count gives the same). */
static void otsu_histogram(const struct stack *in, float lo, float scale, uint64_t hist[256],
			   int threads)
{
	size_t n = stack_voxels(in);

#pragma omp parallel num_threads(threads)
	{
		uint64_t own[256] = { 0 };

		REF_SWITCH_DTYPE(in->dtype, T,
			const T *p = in->data;
			_Pragma("omp for schedule(static)")
			for (size_t i = 0; i < n; i++) {
				int b = (int)(((float)p[i] - lo) * scale);

				own[b > 255 ? 255 : b < 0 ? 0 : b]++;
			}
		)
#pragma omp critical(otsu_histogram)
		for (int k = 0; k < 256; k++)
			hist[k] += own[k];
	}
}

int ref_threshold_histogram(const struct op_call *c, ref_hist_pick pick)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	uint64_t hist[256] = { 0 };
	double dlo, dhi;
	float lo, hi, scale, threshold;

	/* the float extremes: min and max of the voxels converted to float (NaN ignored) */
	ref_min_max(in, &dlo, &dhi, ref_nthreads(c));
	lo = (float)dlo;
	hi = (float)dhi;
	if (!(hi > lo)) { /* constant (or empty): every voxel at the threshold */
		threshold = n ? lo : 0.0f;
	} else {
		/* divisions in double: OpenCL's float division need not be correctly rounded */
		scale = (float)(256.0 / (double)(hi - lo));
		otsu_histogram(in, lo, scale, hist, ref_nthreads(c));
		threshold = (float)pick(hist, lo, hi);
	}
	if (c->side_value)
		*c->side_value = threshold;
	mask_above(c, threshold, ref_threshold_tolerance(threshold));
	return VB_OK;
}

static double otsu_pick(const uint64_t hist[256], double lo, double hi)
{
	return lo + ((double)ref_otsu_bin(hist) + 0.5) * (hi - lo) / 256.0;
}

int ref_threshold_otsu(const struct op_call *c, struct vb_err *err)
{
	(void)err;
	return ref_threshold_histogram(c, otsu_pick);
}

/*
 * The GPU takes its mean from mean_of_all_pixels (a float reduction), so a voxel is ambiguous
 * within that op's own rule of the mean: tol * log2(n) * max(1, |mean|) (CMP_REDUCE).
 */
int ref_threshold_mean(const struct op_call *c, struct vb_err *err)
{
	const struct op_desc *mean_op = op_find("mean_of_all_pixels");
	size_t n = stack_voxels(c->in[0]);
	double sum = 0, tol;
	float mean;

	(void)err;
	sum = ref_sum(c->in[0], ref_nthreads(c));
	mean = n ? (float)(sum / (double)n) : 0.0f;
	tol = ref_threshold_tolerance(mean);
	if (mean_op && n > 1)
		tol = fmax(tol, mean_op->cmp.tol * log2((double)n) * fmax(1.0, fabs(mean)));
	mask_above(c, mean, tol);
	return VB_OK;
}
