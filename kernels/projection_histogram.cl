/*
 * kernels/projection_histogram.cl: histogram with numpy.histogram's bins (see ops/plans_projection.c).
 *
 * edges[0 .. nbins] are the bin thresholds (reference_cpu/projection_reduction.c ref_histogram_edges, or
 * kernels/projection_histogram_edges.cl for the image's own range): float voxels go to bin i
 * when edges[i] <= v < edges[i+1] and are counted when edges[0] <= v <= edges[nbins] (the last
 * bin closed); integer voxels compare with the integer thresholds (long) the same way except that
 * the upper bound edges[nbins] is exclusive. The bin is estimated from (v - lo) * scale and then
 * corrected against the thresholds, so the estimate's rounding never decides a bin.
 * Every work-group counts its grid-strided share in __local memory, then adds it to the output.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif
/* the __local counts' size: one program serves every bin count up to it */
#ifndef MAX_BINS
#define MAX_BINS 4096
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif

#if IN_IS_FLOAT
#define EDGE_T float
#else
#define EDGE_T long
#endif

__kernel void histogram_clear(__global uint *out, const int nbins)
{
	size_t i = get_global_id(0);

	if (i < (size_t)nbins)
		out[i] = 0;
}

/* Count voxel x in the __local bins when it lies in the range. */
#if IN_IS_FLOAT
#define HIST_KEY(x) (x)
#define HIST_ESTIMATE(v) ((v) - lo)
#else
#define HIST_KEY(x) ((long)(x))
#define HIST_ESTIMATE(v) ((float)((v) - lo))
#endif
#define HIST_ADD(x)                                                                              \
	do {                                                                                     \
		EDGE_T v_ = HIST_KEY(x);                                                         \
		if (IN_RANGE(v_)) {                                                              \
			float f_ = HIST_ESTIMATE(v_) * scale; /* clamped before the cast */      \
			int b_ = f_ > (float)(nbins - 1) ? nbins - 1 : f_ > 0.0f ? (int)f_ : 0;  \
			while (b_ > 0 && v_ < edges[b_])                                         \
				b_--;                                                            \
			while (b_ < nbins - 1 && v_ >= edges[b_ + 1])                            \
				b_++;                                                            \
			atomic_add(&bins[b_], 1u);                                               \
		}                                                                                \
	} while (0)
#if IN_IS_FLOAT
#define IN_RANGE(v) ((v) >= lo && (v) <= hi) /* false for NaN */
#else
#define IN_RANGE(v) ((v) >= lo && (v) < hi)
#endif

__kernel void histogram_count(__global const T_IN *src, __global const EDGE_T *edges,
			      __global uint *out, const ulong n, const int nbins)
{
	__local uint bins[MAX_BINS];
	size_t lid = get_local_id(0), stride = get_global_size(0);
	EDGE_T lo = edges[0], hi = edges[nbins];
	/* the estimate's slope: bins per unit (0 for an empty range, where nothing counts) */
	float scale = hi > lo ? (float)nbins / (float)(hi - lo) : 0.0f;

	for (int b = (int)lid; b < nbins; b += GROUP_SIZE)
		bins[b] = 0;
	barrier(CLK_LOCAL_MEM_FENCE);
	size_t i = get_global_id(0);

	/* four loads in flight per work-item before their bins */
	for (; i + 3 * stride < n; i += 4 * stride) {
		T_IN v0 = src[i], v1 = src[i + stride], v2 = src[i + 2 * stride];
		T_IN v3 = src[i + 3 * stride];
		HIST_ADD(v0);
		HIST_ADD(v1);
		HIST_ADD(v2);
		HIST_ADD(v3);
	}
	for (; i < n; i += stride)
		HIST_ADD(src[i]);
	barrier(CLK_LOCAL_MEM_FENCE);
	for (int b = (int)lid; b < nbins; b += GROUP_SIZE)
		if (bins[b])
			atomic_add(&out[b], bins[b]);
}
