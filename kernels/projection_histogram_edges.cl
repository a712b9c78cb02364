/*
 * kernels/projection_histogram_edges.cl: the thresholds of a histogram over the image's own range, on the
 * device, so that the histogram needs no host round trip: the same arithmetic as the host's
 * ref_histogram_edges (reference_cpu/projection_reduction.c), in double, without fused multiply-adds
 * (numpy.linspace rounds the product and the sum apart). Its own program because it needs fp64
 * (cl_khr_fp64 on OpenCL).
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef IN_IS_FLOAT
#define IN_IS_FLOAT 1
#endif

#if defined(VB_CUDA_DEVICE) && VB_CUDA_DEVICE
#define MUL_RN(a, b) __dmul_rn((a), (b))
#else
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(a, b) ((a) * (b))
#endif

#if IN_IS_FLOAT
#define EDGE_T float
#else
#define EDGE_T long
#endif

/* range[0..1] = the image's minimum and maximum; edges[0 .. nbins] as ref_histogram_edges. */
__kernel void histogram_edges(__global const T_IN *range, __global EDGE_T *edges, const int nbins)
{
	int i = (int)get_global_id(0);

	if (i > nbins)
		return;
	double lo = (double)range[0], hi = (double)range[1];

	if (lo == hi) { /* numpy widens a zero-width range */
		lo -= 0.5;
		hi += 0.5;
	}
	double step = (hi - lo) / (double)nbins;
	double e = i == nbins ? hi : MUL_RN((double)i, step) + lo;
#if IN_IS_FLOAT
	edges[i] = (float)e;
#else
	const double big = 4611686018427387904.0; /* 2^62, as the host clamps */
	e = i == nbins ? floor(e) : ceil(e);
	e = e < -big ? -big : e > big ? big : e;
	edges[i] = (long)e + (i == nbins ? 1 : 0);
#endif
}
