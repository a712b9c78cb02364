/*
 * reference_cpu/internal.h: helpers shared by the reference's source files, not part of its
 * public face (that is reference.h).
 */
#ifndef VB_REFERENCE_INTERNAL_H
#define VB_REFERENCE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/vb.h"
#include "../ops/ops.h"
#include "../stacks/stack.h"

#ifdef _OPENMP
#include <omp.h>
#define REF_THREAD_NUM() omp_get_thread_num()
#else
#define REF_THREAD_NUM() 0
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

static inline int ref_same_dims(const struct stack *a, const struct stack *b)
{
	return a->width == b->width && a->height == b->height && a->depth == b->depth;
}

/* dst[0 .. n-1] = voxels off .. off+n-1 of s as double (exact for every dtype). */
static inline void ref_row_load(const struct stack *s, size_t off, size_t n, double *dst)
{
	size_t i;

	switch (s->dtype) {
	case DT_U8: {
		const uint8_t *p = (const uint8_t *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
		break;
	}
	case DT_U16: {
		const uint16_t *p = (const uint16_t *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
		break;
	}
	case DT_U32: {
		const uint32_t *p = (const uint32_t *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
		break;
	}
	case DT_I32: {
		const int32_t *p = (const int32_t *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
		break;
	}
	case DT_F32: {
		const float *p = (const float *)s->data + off;
		for (i = 0; i < n; i++)
			dst[i] = p[i];
		break;
	}
	default:
		break;
	}
}

/*
 * Voxels off .. off+n-1 of s = src[0 .. n-1], cast to the dtype: f32 rounds to nearest; for
 * integer dtypes every value must already be an integer in range (values that came from a stack
 * of the same dtype, as min, max and projections produce).
 */
static inline void ref_row_store(struct stack *s, size_t off, size_t n, const double *src)
{
	size_t i;

	switch (s->dtype) {
	case DT_U8: {
		uint8_t *p = (uint8_t *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)src[i];
		break;
	}
	case DT_U16: {
		uint16_t *p = (uint16_t *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (uint16_t)src[i];
		break;
	}
	case DT_U32: {
		uint32_t *p = (uint32_t *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)src[i];
		break;
	}
	case DT_I32: {
		int32_t *p = (int32_t *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (int32_t)src[i];
		break;
	}
	case DT_F32: {
		float *p = (float *)s->data + off;
		for (i = 0; i < n; i++)
			p[i] = (float)src[i];
		break;
	}
	default:
		break;
	}
}

#endif
