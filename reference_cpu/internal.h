/*
 * reference_cpu/internal.h: helpers shared by the reference's source files, not part of its
 * public face (that is reference.h).
 */
#ifndef VB_REFERENCE_INTERNAL_H
#define VB_REFERENCE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../common/vb.h"
#include "../ops/geometry.h"
#include "../ops/op.h"
#include "../stacks/stack.h"

#ifdef _OPENMP
#include <omp.h>
#define REF_THREAD_NUM() omp_get_thread_num()
#define REF_NUM_THREADS() omp_get_num_threads()
#else
#define REF_THREAD_NUM() 0
#define REF_NUM_THREADS() 1
#endif

/* The thread count a reference runs with: c->threads, at least 1. */
static inline int ref_nthreads(const struct op_call *c)
{
	return c->threads > 0 ? c->threads : 1;
}

/* The op's name for messages. */
static inline const char *ref_op_name(const struct op_call *c)
{
	return c->op && c->op->name ? c->op->name : "reference";
}

/* How far a voxel may lie from a threshold the GPU computed in another order and still fall on
 * either side of it (reference_cpu/label_threshold.c). */
double ref_threshold_tolerance(double threshold);
/*
 * A threshold from threshold_otsu's 256 bins of the float voxels over [lo, hi] (bin (int)((v -
 * lo) * (float)(256.0 / (hi - lo))), clamped; bins 0 and 255 are never empty): pick returns it
 * in double (a bin centre is lo + (k + 0.5) (hi - lo) / 256); rounded to float, it is the side
 * value, and out = v > it (u8), voxels within ref_threshold_tolerance of it marked ambiguous.
 * A constant stack's threshold is its value (label_threshold.c).
 */
typedef double (*ref_hist_pick)(const uint64_t hist[256], double lo, double hi);
int ref_threshold_histogram(const struct op_call *c, ref_hist_pick pick);
/* ambiguous[i] = 1 where |s[i] - value| <= tol (nothing when ambiguous is NULL). */
void ref_mark_near(const struct stack *s, double value, double tol, uint8_t *ambiguous,
		   int threads);

/* How far the GPU's float Gaussian of sigma may lie from the reference's (three passes of
 * 2 ceil(4 sigma) + 1 float products; reference_cpu/measure.c). */
double ref_blur_tolerance(const struct stack *blur, double sigma, int threads);
/* Grow the positive labels of s into its 0 voxels by alternating 3x3x3-box and 6-neighbour
 * steps (the larger label wins ties, negative voxels are walls) until no step labels a voxel;
 * -1 when out of memory (reference_cpu/measure.c). */
int ref_voronoi_grow(int32_t *s, const size_t sdims[3], int nt);
/* out's labels grown by ref_voronoi_grow through the voxels where mask != 0 (NULL: all; a
 * voxel outside is a wall, and 0 in the result), s n int32 of scratch (reference_cpu/measure.c). */
int ref_grow_labels(const struct op_call *c, uint32_t *out, const struct stack *mask, int32_t *s,
		    const size_t dims[3], struct vb_err *err);

static inline int ref_same_dims(const struct stack *a, const struct stack *b)
{
	return a->width == b->width && a->height == b->height && a->depth == b->depth;
}

/* Input 0 and the output are there, of one shape, the output of out_dtype (else VB_E_ARGS
 * naming both shapes; reference_cpu/stencil.c). */
int ref_check_image_out(const struct op_call *c, enum dtype out_dtype, struct vb_err *err);

/* One case per dtype with T its C type (stacks/stack.h). */
#define REF_SWITCH_DTYPE STACK_SWITCH_DTYPE

/* dst[0 .. n-1] = voxels off .. off+n-1 of s as double (exact for every dtype). */
static inline void ref_row_load(const struct stack *s, size_t off, size_t n, double *dst)
{
	size_t i;

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = (const T *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
	)
}

/*
 * Voxels off .. off+n-1 of s = src[0 .. n-1], cast to the dtype: f32 rounds to nearest; for
 * integer dtypes every value must already be an integer in range (values that came from a stack
 * of the same dtype, as min, max and projections produce).
 */
static inline void ref_row_store(struct stack *s, size_t off, size_t n, const double *src)
{
	size_t i;

	REF_SWITCH_DTYPE(s->dtype, T,
		T *p = (T *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (T)src[i];
	)
}

/* dst[0 .. n-1] = voxels start .. start+n-1 of s as float, as OpenCL's convert_float reads them
 * (round to nearest for u32 and i32 beyond 2^24). */
static inline void ref_block_load_float(const struct stack *s, size_t start, size_t n, float *dst)
{
	size_t i;

	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = (const T *)s->data + start;
		_Pragma("omp simd")
		for (i = 0; i < n; i++)
			dst[i] = (float)p[i];
	)
}

/* dtype_convert_sat per integer type, inline (a call per voxel was half of a comparison's time):
 * NaN -> 0, toward zero, saturated; comparisons come first so no out-of-range cast happens. */
static inline uint8_t ref_sat_u8(float x)
{
	return x > 0.0f ? (x < 255.0f ? (uint8_t)x : (uint8_t)255) : (uint8_t)0;
}

static inline uint16_t ref_sat_u16(float x)
{
	return x > 0.0f ? (x < 65535.0f ? (uint16_t)x : (uint16_t)65535) : (uint16_t)0;
}

static inline uint32_t ref_sat_u32(float x)
{
	return x > 0.0f ? (x < 4294967296.0f ? (uint32_t)x : UINT32_MAX) : 0u;
}

static inline int32_t ref_sat_i32(float x)
{
	if (x != x)
		return 0;
	return x >= 2147483648.0f ? INT32_MAX : x <= -2147483648.0f ? INT32_MIN : (int32_t)x;
}

/* Voxels start .. start+n-1 of s = v[0 .. n-1] through dtype_convert_sat() (f32: unchanged). */
static inline void ref_block_store_sat(struct stack *s, size_t start, size_t n, const float *v)
{
	size_t i;

	/* omp simd: the loops vectorise (GCC's -O2 leaves the branches of the conversions scalar) */
	switch (s->dtype) {
	case DT_F32:
		memcpy((float *)s->data + start, v, n * sizeof(*v));
		break;
	case DT_U8: {
		uint8_t *p = (uint8_t *)s->data + start;
		_Pragma("omp simd")
		for (i = 0; i < n; i++)
			p[i] = ref_sat_u8(v[i]);
		break;
	}
	case DT_U16: {
		uint16_t *p = (uint16_t *)s->data + start;
		_Pragma("omp simd")
		for (i = 0; i < n; i++)
			p[i] = ref_sat_u16(v[i]);
		break;
	}
	case DT_U32: {
		uint32_t *p = (uint32_t *)s->data + start;
		_Pragma("omp simd")
		for (i = 0; i < n; i++)
			p[i] = ref_sat_u32(v[i]);
		break;
	}
	case DT_I32: {
		int32_t *p = (int32_t *)s->data + start;
		_Pragma("omp simd")
		for (i = 0; i < n; i++)
			p[i] = ref_sat_i32(v[i]);
		break;
	}
	default:
		break;
	}
}

/* Whole-stack passes, threaded, the same result for every thread count (reference_cpu/parallel.c):
 * voxels as double; labels as u32 (values <= 0 are background 0); the smallest and largest
 * value (NaN ignored; lo > hi when there is none); the largest magnitude; the sum in double. */
void ref_load_double(const struct stack *s, double *dst, int threads);
void ref_load_labels(const struct stack *s, uint32_t *dst, int threads);
void ref_min_max(const struct stack *s, double *lo, double *hi, int threads);
double ref_max_abs(const struct stack *s, int threads);
double ref_sum(const struct stack *s, int threads);

#endif
