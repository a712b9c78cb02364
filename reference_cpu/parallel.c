/*
 * reference_cpu/parallel.c: whole-stack passes every reference shares (conversions, extremes,
 * sums), threaded and typed, so no op spends seconds on one core converting voxels one call at
 * a time. Each gives the same result for every thread count.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* Blocks of a fixed size (not one per thread), summed in order: the same sum for any thread
 * count. */
#define SUM_BLOCK ((size_t)1 << 16)

void ref_load_double(const struct stack *s, double *dst, int threads)
{
	size_t n = stack_voxels(s);

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static)")
		for (size_t i = 0; i < n; i++)
			dst[i] = p[i];
	)
}

void ref_load_labels(const struct stack *s, uint32_t *dst, int threads)
{
	size_t n = stack_voxels(s);

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static)")
		for (size_t i = 0; i < n; i++)
			dst[i] = p[i] > 0 ? (uint32_t)p[i] : 0;
	)
}

void ref_min_max(const struct stack *s, double *lo, double *hi, int threads)
{
	size_t n = stack_voxels(s);
	double mn = INFINITY, mx = -INFINITY;

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static) reduction(min : mn) reduction(max : mx)")
		for (size_t i = 0; i < n; i++) {
			double v = p[i];

			mn = v < mn ? v : mn; /* NaN never wins, as fmin */
			mx = v > mx ? v : mx;
		}
	)
	*lo = mn;
	*hi = mx;
}

double ref_max_abs(const struct stack *s, int threads)
{
	double lo, hi;

	ref_min_max(s, &lo, &hi, threads);
	if (lo > hi)
		return 0;
	return fmax(fabs(lo), fabs(hi));
}

double ref_sum(const struct stack *s, int threads)
{
	size_t n = stack_voxels(s), blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
	double *part = malloc((blocks ? blocks : 1) * sizeof(*part)), total = 0;

	if (!part) /* no room for the partial sums: the same blocks, on one thread */
		threads = 1;
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static) if (part)")
		for (size_t b = 0; b < blocks; b++) {
			size_t end = (b + 1) * SUM_BLOCK < n ? (b + 1) * SUM_BLOCK : n;
			double sum = 0;

			for (size_t i = b * SUM_BLOCK; i < end; i++)
				sum += p[i];
			if (part)
				part[b] = sum;
			else
				total += sum;
		}
	)
	for (size_t b = 0; part && b < blocks; b++)
		total += part[b];
	free(part);
	return total;
}
