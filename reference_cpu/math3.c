/*
 * reference_cpu/math3.c: the element-wise ops of ops/rows_math3.def.
 *
 * As reference_cpu/pixel.c: every voxel read as float, the op computed in single precision with
 * the same expression as kernels/math3.cl, the result stored with dtype_convert_sat(). Voxels go
 * through in blocks (converted to float, computed, stored); threads take whole blocks.
 */
#define _GNU_SOURCE /* exp10f */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

#define M3_BLOCK 1024

enum m3_op {
	M3_CBRT, M3_RECIPROCAL, M3_SQUARE, M3_EXP2, M3_EXP10, M3_LOG2, M3_LOG10, M3_CEIL,
	M3_FLOOR, M3_ROUND, M3_TRUNC, M3_SIGN, M3_SIN, M3_COS, M3_TAN, M3_ASIN, M3_ACOS, M3_ATAN,
	M3_SINH, M3_COSH, M3_TANH, M3_DEG2RAD, M3_RAD2DEG, M3_NAN_TO_NUM, M3_UNDEF_TO_ZERO,
	M3_SCALAR_BY_IMAGE, M3_REPLACE, M3_MODULO, M3_POWER_IMAGES, M3_POSITION,
};

/* NaN stays NaN, -0 stays -0 (kernels/math3.cl m3_sign). */
static inline float sign_of(float x)
{
	return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x;
}

#define M3_LOOP(expr)                                   \
	for (i = 0; i < len; i++) {                     \
		float x = a[i], y = b[i];               \
		(void)x, (void)y;                       \
		r[i] = (expr);                          \
	}                                               \
	break

/* r = op(a, b, s) over one block; M3_POSITION's b holds the coordinates. */
static void math3_block(enum m3_op op, size_t len, const float *a, const float *b,
			const float *s, float *r)
{
	size_t i;

	switch (op) {
	case M3_CBRT: M3_LOOP(cbrtf(x));
	case M3_RECIPROCAL: M3_LOOP(1.0f / x);
	case M3_SQUARE: M3_LOOP(x * x);
	case M3_EXP2: M3_LOOP(exp2f(x));
	case M3_EXP10: M3_LOOP(exp10f(x));
	case M3_LOG2: M3_LOOP(log2f(x));
	case M3_LOG10: M3_LOOP(log10f(x));
	case M3_CEIL: M3_LOOP(ceilf(x));
	case M3_FLOOR: M3_LOOP(floorf(x));
	case M3_ROUND: M3_LOOP(roundf(x));
	case M3_TRUNC: M3_LOOP(truncf(x));
	case M3_SIGN: M3_LOOP(sign_of(x));
	case M3_SIN: M3_LOOP(sinf(x));
	case M3_COS: M3_LOOP(cosf(x));
	case M3_TAN: M3_LOOP(tanf(x));
	case M3_ASIN: M3_LOOP(asinf(x));
	case M3_ACOS: M3_LOOP(acosf(x));
	case M3_ATAN: M3_LOOP(atanf(x));
	case M3_SINH: M3_LOOP(sinhf(x));
	case M3_COSH: M3_LOOP(coshf(x));
	case M3_TANH: M3_LOOP(tanhf(x));
	case M3_DEG2RAD: M3_LOOP(x * 0.017453292519943295f);
	case M3_RAD2DEG: M3_LOOP(x * 57.29577951308232f);
	case M3_NAN_TO_NUM: M3_LOOP(isnan(x) ? s[0] : isinf(x) ? (x > 0.0f ? s[1] : s[2]) : x);
	case M3_UNDEF_TO_ZERO: M3_LOOP(isfinite(x) ? x : 0.0f);
	case M3_SCALAR_BY_IMAGE: M3_LOOP(s[0] / x);
	case M3_REPLACE: M3_LOOP(x == s[0] ? s[1] : x);
	case M3_MODULO: M3_LOOP(fmodf(x, y));
	case M3_POWER_IMAGES: M3_LOOP(powf(x, y));
	case M3_POSITION: M3_LOOP(x * y);
	}
}

/* b[k] = the coordinate along dim (0 x, 1 y, 2 z) of voxel start + k. */
static void coordinates(const struct stack *s, int dim, size_t start, size_t n, float *b)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = start + k, x = i % s->width, y = i / s->width % s->height;
		size_t z = i / (s->width * s->height);

		b[k] = (float)(dim == 0 ? x : dim == 1 ? y : z);
	}
}

static int check_shapes(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0];

	if (!a || !c->out || !a->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(a, c->out) || c->out->dtype != op_output_dtype(c->op, a->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: the output is not %zux%zux%zu %s",
			       ref_op_name(c), a->width, a->height, a->depth,
			       dtype_name(op_output_dtype(c->op, a->dtype)));
	if (c->op->n_inputs == 2 && (!c->in[1] || !c->in[1]->data || !ref_same_dims(a, c->in[1]) ||
				     c->in[1]->dtype != a->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: needs a second input of %zux%zux%zu %s",
			       ref_op_name(c), a->width, a->height, a->depth, dtype_name(a->dtype));
	return VB_OK;
}

static int math3(const struct op_call *c, enum m3_op op, struct vb_err *err)
{
	int status = check_shapes(c, err), np = op_param_count(c->op);
	const struct stack *A = c->in[0], *B = c->op->n_inputs == 2 ? c->in[1] : NULL;
	float s[3] = { 0 };
	size_t n, blocks, blk;

	if (status != VB_OK)
		return status;
	for (int k = 0; k < 3 && k < np; k++)
		s[k] = (float)c->p[k];
	n = stack_voxels(A);
	blocks = (n + M3_BLOCK - 1) / M3_BLOCK;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (blk = 0; blk < blocks; blk++) {
		float a[M3_BLOCK], b[M3_BLOCK], r[M3_BLOCK];
		size_t start = blk * M3_BLOCK, len = n - start < M3_BLOCK ? n - start : M3_BLOCK;

		ref_block_load_float(A, start, len, a);
		if (B)
			ref_block_load_float(B, start, len, b);
		else if (op == M3_POSITION)
			coordinates(A, (int)s[0], start, len, b);
		else
			memset(b, 0, len * sizeof(*b));
		math3_block(op, len, a, b, s, r);
		ref_block_store_sat(c->out, start, len, r);
	}
	return VB_OK;
}

#define M3_REF(token, op)                                              \
	int ref_##token(const struct op_call *c, struct vb_err *err)   \
	{                                                              \
		return math3(c, op, err);                              \
	}

M3_REF(cubic_root, M3_CBRT)
M3_REF(reciprocal, M3_RECIPROCAL)
M3_REF(square, M3_SQUARE)
M3_REF(exponential2, M3_EXP2)
M3_REF(exponential10, M3_EXP10)
M3_REF(logarithm2, M3_LOG2)
M3_REF(logarithm10, M3_LOG10)
M3_REF(ceil, M3_CEIL)
M3_REF(floor, M3_FLOOR)
M3_REF(round, M3_ROUND)
M3_REF(truncate, M3_TRUNC)
M3_REF(sign, M3_SIGN)
M3_REF(sin, M3_SIN)
M3_REF(cos, M3_COS)
M3_REF(tan, M3_TAN)
M3_REF(asin, M3_ASIN)
M3_REF(acos, M3_ACOS)
M3_REF(atan, M3_ATAN)
M3_REF(sinh, M3_SINH)
M3_REF(cosh, M3_COSH)
M3_REF(tanh, M3_TANH)
M3_REF(degrees_to_radians, M3_DEG2RAD)
M3_REF(radians_to_degrees, M3_RAD2DEG)
M3_REF(nan_to_num, M3_NAN_TO_NUM)
M3_REF(undefined_to_zero, M3_UNDEF_TO_ZERO)
M3_REF(divide_scalar_by_image, M3_SCALAR_BY_IMAGE)
M3_REF(replace_value, M3_REPLACE)
M3_REF(modulo_images, M3_MODULO)
M3_REF(power_images, M3_POWER_IMAGES)
M3_REF(multiply_image_and_position, M3_POSITION)

/* out = linear index + offset where in != 0, else 0 (u32). */
int ref_set_nonzero_pixels_to_pixelindex(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0];
	uint32_t offset = (uint32_t)op_param(c, "offset"), *o;
	size_t n;

	if (!a || !c->out || !ref_same_dims(a, c->out) || c->out->dtype != DT_U32)
		return vb_errf(err, VB_E_ARGS, "%s: expected a u32 output shaped like the input",
			       ref_op_name(c));
	n = stack_voxels(a);
	o = c->out->data;
	STACK_SWITCH_DTYPE(a->dtype, T,
		const T *p = a->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = p[i] != 0 ? (uint32_t)i + offset : 0;
	)
	return VB_OK;
}

/* out = powf(in / m, gamma) * m in float, m = the largest voxel (fmax: NaN ignored). */
int ref_gamma_correction(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0];
	float gamma = (float)op_param(c, "gamma"), *o;
	size_t n;

	if (!a || !c->out || !ref_same_dims(a, c->out) || c->out->dtype != DT_F32)
		return vb_errf(err, VB_E_ARGS, "%s: expected an f32 output shaped like the input",
			       ref_op_name(c));
	n = stack_voxels(a);
	o = c->out->data;
	STACK_SWITCH_DTYPE(a->dtype, T,
		const T *p = a->data;
		T big = p[0];
		float m;

		for (size_t i = 1; i < n; i++)
			if (p[i] > big || big != big)
				big = p[i];
		m = (float)big;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			o[i] = powf((float)p[i] / m, gamma) * m;
	)
	return VB_OK;
}
