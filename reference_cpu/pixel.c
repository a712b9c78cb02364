/*
 * reference_cpu/pixel.c: element-wise math and comparisons.
 *
 * Every voxel is read as float, the op computed in single precision, and the result written with
 * dtype_convert_sat() (convert_<type>_sat of OpenCL), so these are exactly the kernels' results.
 * Voxels go through in blocks: a block of each input is converted to float, the op is applied
 * to the block, and the block is stored; threads take whole blocks.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

/* Voxels per block (three float blocks live on a thread's stack). */
#define PIX_BLOCK 1024

/* Number of blocks of n voxels, and the length of block b. */
static size_t block_count(size_t n)
{
	return (n + PIX_BLOCK - 1) / PIX_BLOCK;
}

static size_t block_len(size_t n, size_t b)
{
	size_t start = b * PIX_BLOCK;

	return n - start < PIX_BLOCK ? n - start : PIX_BLOCK;
}

/*
 * Check the shapes a pixel op relies on: out has the input's dims, a second input has the first's
 * dims and dtype. The caller allocates by the op's row, so a failure here is a caller bug.
 */
static int check_shapes(const struct op_call *c, int n_inputs, int same_dtype, struct vb_err *err)
{
	const struct stack *a = c->in[0];

	if (!a || !c->out || !a->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(a, c->out))
		return vb_errf(err, VB_E_ARGS,
			       "%s: output is %zux%zux%zu but the input is %zux%zux%zu", ref_op_name(c),
			       c->out->width, c->out->height, c->out->depth, a->width, a->height,
			       a->depth);
	if (same_dtype && c->out->dtype != a->dtype)
		return vb_errf(err, VB_E_ARGS, "%s: output is %s but the input is %s", ref_op_name(c),
			       dtype_name(c->out->dtype), dtype_name(a->dtype));
	if (n_inputs == 2) {
		const struct stack *b = c->in[1];

		if (!b || !b->data)
			return vb_errf(err, VB_E_ARGS, "%s: needs two input stacks", ref_op_name(c));
		if (!ref_same_dims(a, b) || a->dtype != b->dtype)
			return vb_errf(err, VB_E_ARGS,
				       "%s: the inputs differ: %zux%zux%zu %s and %zux%zux%zu %s",
				       ref_op_name(c), a->width, a->height, a->depth,
				       dtype_name(a->dtype), b->width, b->height, b->depth,
				       dtype_name(b->dtype));
	}
	return VB_OK;
}

int ref_copy(const struct op_call *c, struct vb_err *err)
{
	int status = check_shapes(c, 1, 1, err);

	if (status != VB_OK)
		return status;
	memcpy(c->out->data, c->in[0]->data, stack_bytes(c->in[0]));
	return VB_OK;
}

enum pix_op {
	PIX_ADD, PIX_SUB, PIX_MUL, PIX_ADD_SCALAR, PIX_MUL_SCALAR, PIX_ABS,
	PIX_SUB_FROM_SCALAR, PIX_DIV, PIX_POW, PIX_SQRT, PIX_EXP, PIX_LOG, PIX_MAX, PIX_MIN,
	PIX_MAX_SCALAR, PIX_MIN_SCALAR, PIX_ABS_DIFF, PIX_SQ_DIFF, PIX_WEIGHTED, PIX_CLIP, PIX_MASK,
	PIX_EQ, PIX_NE, PIX_GT, PIX_GE, PIX_LT, PIX_LE,
	PIX_EQ_SCALAR, PIX_NE_SCALAR, PIX_GT_SCALAR, PIX_GE_SCALAR, PIX_LT_SCALAR, PIX_LE_SCALAR,
	PIX_AND, PIX_OR, PIX_XOR, PIX_NOT, PIX_BIN_SUB,
};

/* r[i] = EXPR of x = a[i], y = b[i] (and s0, s1) over one block. */
#define PIX_LOOP(expr)                                  \
	_Pragma("omp simd")                             \
	for (i = 0; i < len; i++) {                     \
		float x = a[i], y = b[i];               \
		(void)x, (void)y;                       \
		r[i] = (expr);                          \
	}                                               \
	break

/*
 * One block of op: single precision, as kernels/pixel.cl computes it (the functions there
 * have the same expressions). -std=c11 keeps GCC from contracting s0 * x + s1 * y into an fma.
 */
static void pixel_block(enum pix_op op, size_t len, const float *a, const float *b, float s0,
			float s1, float *r)
{
	size_t i;

	switch (op) {
	case PIX_ADD: PIX_LOOP(x + y);
	case PIX_SUB: PIX_LOOP(x - y);
	case PIX_MUL: PIX_LOOP(x * y);
	case PIX_ADD_SCALAR: PIX_LOOP(x + s0);
	case PIX_MUL_SCALAR: PIX_LOOP(x * s0);
	case PIX_ABS: PIX_LOOP(fabsf(x));
	case PIX_SUB_FROM_SCALAR: PIX_LOOP(s0 - x);
	case PIX_DIV: PIX_LOOP(x / y);
	case PIX_POW: PIX_LOOP(powf(x, s0));
	case PIX_SQRT: PIX_LOOP(sqrtf(x));
	case PIX_EXP: PIX_LOOP(expf(x));
	case PIX_LOG: PIX_LOOP(logf(x));
	case PIX_MAX: PIX_LOOP(fmaxf(x, y));
	case PIX_MIN: PIX_LOOP(fminf(x, y));
	case PIX_MAX_SCALAR: PIX_LOOP(fmaxf(x, s0));
	case PIX_MIN_SCALAR: PIX_LOOP(fminf(x, s0));
	case PIX_ABS_DIFF: PIX_LOOP(fabsf(x - y));
	case PIX_SQ_DIFF: PIX_LOOP((x - y) * (x - y));
	case PIX_WEIGHTED: PIX_LOOP(s0 * x + s1 * y);
	case PIX_CLIP: PIX_LOOP(fminf(fmaxf(x, s0), s1));
	case PIX_MASK: PIX_LOOP(y != 0.0f ? x : 0.0f);
	case PIX_EQ: PIX_LOOP(x == y);
	case PIX_NE: PIX_LOOP(x != y);
	case PIX_GT: PIX_LOOP(x > y);
	case PIX_GE: PIX_LOOP(x >= y);
	case PIX_LT: PIX_LOOP(x < y);
	case PIX_LE: PIX_LOOP(x <= y);
	case PIX_EQ_SCALAR: PIX_LOOP(x == s0);
	case PIX_NE_SCALAR: PIX_LOOP(x != s0);
	case PIX_GT_SCALAR: PIX_LOOP(x > s0);
	case PIX_GE_SCALAR: PIX_LOOP(x >= s0);
	case PIX_LT_SCALAR: PIX_LOOP(x < s0);
	case PIX_LE_SCALAR: PIX_LOOP(x <= s0);
	case PIX_AND: PIX_LOOP(x != 0.0f && y != 0.0f);
	case PIX_OR: PIX_LOOP(x != 0.0f || y != 0.0f);
	case PIX_XOR: PIX_LOOP((x != 0.0f) != (y != 0.0f));
	case PIX_NOT: PIX_LOOP(x == 0.0f);
	case PIX_BIN_SUB: PIX_LOOP(x != 0.0f && y == 0.0f);
	}
}

/*
 * out = op(a[, b], p[0], p[1]) computed in float, stored in the row's output type with
 * saturation (comparisons: 0/1 into u8; a float's zero-ness survives the float conversion).
 */
static int pixel_math(const struct op_call *c, enum pix_op op, struct vb_err *err)
{
	int two = c->op->n_inputs == 2, np = op_param_count(c->op);
	int status = check_shapes(c, two ? 2 : 1, 0, err);
	const struct stack *A = c->in[0], *B = two ? c->in[1] : NULL;
	struct stack *out = c->out;
	float s0 = np > 0 ? (float)c->p[0] : 0.0f, s1 = np > 1 ? (float)c->p[1] : 0.0f;
	size_t n, blk;

	if (status != VB_OK)
		return status;
	if (out->dtype != op_output_dtype(c->op, A->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: output is %s, expected %s", ref_op_name(c),
			       dtype_name(out->dtype),
			       dtype_name(op_output_dtype(c->op, A->dtype)));
	n = stack_voxels(A);

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (blk = 0; blk < block_count(n); blk++) {
		float a[PIX_BLOCK], b[PIX_BLOCK], r[PIX_BLOCK];
		size_t start = blk * PIX_BLOCK, len = block_len(n, blk);

		ref_block_load_float(A, start, len, a);
		if (B)
			ref_block_load_float(B, start, len, b);
		else
			memset(b, 0, len * sizeof(*b));
		pixel_block(op, len, a, b, s0, s1, r);
		ref_block_store_sat(out, start, len, r);
	}
	return VB_OK;
}

/* The references of ops/rows_pixel.def and rows_foundation.def: one line each. */
#define PIXEL_REF(name, op)                                            \
	int name(const struct op_call *c, struct vb_err *err)          \
	{                                                              \
		return pixel_math(c, op, err);                         \
	}

PIXEL_REF(ref_add_images, PIX_ADD)
PIXEL_REF(ref_subtract_images, PIX_SUB)
PIXEL_REF(ref_multiply_images, PIX_MUL)
PIXEL_REF(ref_add_image_and_scalar, PIX_ADD_SCALAR)
PIXEL_REF(ref_multiply_image_and_scalar, PIX_MUL_SCALAR)
PIXEL_REF(ref_absolute, PIX_ABS)
PIXEL_REF(ref_subtract_image_from_scalar, PIX_SUB_FROM_SCALAR)
PIXEL_REF(ref_divide_images, PIX_DIV)
PIXEL_REF(ref_power, PIX_POW)
PIXEL_REF(ref_square_root, PIX_SQRT)
PIXEL_REF(ref_exponential, PIX_EXP)
PIXEL_REF(ref_logarithm, PIX_LOG)
PIXEL_REF(ref_maximum_images, PIX_MAX)
PIXEL_REF(ref_minimum_images, PIX_MIN)
PIXEL_REF(ref_maximum_image_and_scalar, PIX_MAX_SCALAR)
PIXEL_REF(ref_minimum_image_and_scalar, PIX_MIN_SCALAR)
PIXEL_REF(ref_absolute_difference, PIX_ABS_DIFF)
PIXEL_REF(ref_squared_difference, PIX_SQ_DIFF)
PIXEL_REF(ref_add_images_weighted, PIX_WEIGHTED)
PIXEL_REF(ref_clip, PIX_CLIP)
PIXEL_REF(ref_mask, PIX_MASK)
PIXEL_REF(ref_equal, PIX_EQ)
PIXEL_REF(ref_not_equal, PIX_NE)
PIXEL_REF(ref_greater, PIX_GT)
PIXEL_REF(ref_greater_or_equal, PIX_GE)
PIXEL_REF(ref_smaller, PIX_LT)
PIXEL_REF(ref_smaller_or_equal, PIX_LE)
PIXEL_REF(ref_equal_constant, PIX_EQ_SCALAR)
PIXEL_REF(ref_not_equal_constant, PIX_NE_SCALAR)
PIXEL_REF(ref_greater_constant, PIX_GT_SCALAR)
PIXEL_REF(ref_greater_or_equal_constant, PIX_GE_SCALAR)
PIXEL_REF(ref_smaller_constant, PIX_LT_SCALAR)
PIXEL_REF(ref_smaller_or_equal_constant, PIX_LE_SCALAR)
PIXEL_REF(ref_binary_and, PIX_AND)
PIXEL_REF(ref_binary_or, PIX_OR)
PIXEL_REF(ref_binary_xor, PIX_XOR)
PIXEL_REF(ref_binary_not, PIX_NOT)
PIXEL_REF(ref_binary_subtract, PIX_BIN_SUB)

/* scikit-image's invert in the voxel's own type: ~x for integers (unsigned max - x, signed
 * -1 - x), 1 - x for f32; exact, no float round trip (kernels/pixel.cl invert_exact). */
int ref_invert(const struct op_call *c, struct vb_err *err)
{
	int status = check_shapes(c, 1, 1, err);
	size_t n, i;

	if (status != VB_OK)
		return status;
	n = stack_voxels(c->in[0]);
	switch (c->in[0]->dtype) {
	case DT_U8: {
		const uint8_t *p = c->in[0]->data;
		uint8_t *q = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (i = 0; i < n; i++)
			q[i] = (uint8_t)~p[i];
		break;
	}
	case DT_U16: {
		const uint16_t *p = c->in[0]->data;
		uint16_t *q = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (i = 0; i < n; i++)
			q[i] = (uint16_t)~p[i];
		break;
	}
	case DT_U32: {
		const uint32_t *p = c->in[0]->data;
		uint32_t *q = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (i = 0; i < n; i++)
			q[i] = ~p[i];
		break;
	}
	case DT_I32: {
		const int32_t *p = c->in[0]->data;
		int32_t *q = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (i = 0; i < n; i++)
			q[i] = ~p[i];
		break;
	}
	case DT_F32: {
		const float *p = c->in[0]->data;
		float *q = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
		for (i = 0; i < n; i++)
			q[i] = 1.0f - p[i];
		break;
	}
	default:
		return vb_errf(err, VB_E_ARGS, "%s: unsupported dtype %s", ref_op_name(c),
			       dtype_name(c->in[0]->dtype));
	}
	return VB_OK;
}
