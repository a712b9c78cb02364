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

/* dst[0 .. n-1] = voxels start .. start+n-1 of s as float, as OpenCL's convert_float reads them
 * (round to nearest for u32 and i32 beyond 2^24). */
static void load_block(const struct stack *s, size_t start, size_t n, float *dst)
{
	size_t i;

	switch (s->dtype) {
	case DT_U8: {
		const uint8_t *p = (const uint8_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = (float)p[i];
		break;
	}
	case DT_U16: {
		const uint16_t *p = (const uint16_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = (float)p[i];
		break;
	}
	case DT_U32: {
		const uint32_t *p = (const uint32_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = (float)p[i];
		break;
	}
	case DT_I32: {
		const int32_t *p = (const int32_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = (float)p[i];
		break;
	}
	case DT_F32:
		memcpy(dst, (const float *)s->data + start, n * sizeof(*dst));
		break;
	default:
		break;
	}
}

/* Voxels start .. start+n-1 of s = v[0 .. n-1] through dtype_convert_sat() (f32: unchanged). */
static void store_block_sat(struct stack *s, size_t start, size_t n, const float *v)
{
	size_t i;

	switch (s->dtype) {
	case DT_U8: {
		uint8_t *p = (uint8_t *)s->data + start;
		for (i = 0; i < n; i++)
			p[i] = (uint8_t)dtype_convert_sat(DT_U8, v[i]);
		break;
	}
	case DT_U16: {
		uint16_t *p = (uint16_t *)s->data + start;
		for (i = 0; i < n; i++)
			p[i] = (uint16_t)dtype_convert_sat(DT_U16, v[i]);
		break;
	}
	case DT_U32: {
		uint32_t *p = (uint32_t *)s->data + start;
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)dtype_convert_sat(DT_U32, v[i]);
		break;
	}
	case DT_I32: {
		int32_t *p = (int32_t *)s->data + start;
		for (i = 0; i < n; i++)
			p[i] = (int32_t)dtype_convert_sat(DT_I32, v[i]);
		break;
	}
	case DT_F32:
		memcpy((float *)s->data + start, v, n * sizeof(*v));
		break;
	default:
		break;
	}
}

/* dst[i] = voxel start+i of s is non-zero, on the raw value (f32 -0.0 is zero, NaN is not). */
static void nonzero_block(const struct stack *s, size_t start, size_t n, uint8_t *dst)
{
	size_t i;

	switch (s->dtype) {
	case DT_U8: {
		const uint8_t *p = (const uint8_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = p[i] != 0;
		break;
	}
	case DT_U16: {
		const uint16_t *p = (const uint16_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = p[i] != 0;
		break;
	}
	case DT_U32: {
		const uint32_t *p = (const uint32_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = p[i] != 0;
		break;
	}
	case DT_I32: {
		const int32_t *p = (const int32_t *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = p[i] != 0;
		break;
	}
	case DT_F32: {
		const float *p = (const float *)s->data + start;
		for (i = 0; i < n; i++)
			dst[i] = p[i] != 0.0f;
		break;
	}
	default:
		break;
	}
}

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

enum pix_op { PIX_ADD, PIX_SUB, PIX_MUL, PIX_ADD_SCALAR, PIX_MUL_SCALAR, PIX_ABS };

/* out = a OP b (or a OP scalar, or |a|) computed in float, stored saturated. */
static int pixel_math(const struct op_call *c, enum pix_op op, struct vb_err *err)
{
	int two = op == PIX_ADD || op == PIX_SUB || op == PIX_MUL;
	int status = check_shapes(c, two ? 2 : 1, 1, err);
	const struct stack *A = c->in[0], *B = two ? c->in[1] : NULL;
	struct stack *out = c->out;
	float s = 0.0f;
	size_t n, blk;

	if (status != VB_OK)
		return status;
	if (op == PIX_ADD_SCALAR || op == PIX_MUL_SCALAR)
		s = (float)op_param(c, "scalar");
	n = stack_voxels(A);

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (blk = 0; blk < block_count(n); blk++) {
		float a[PIX_BLOCK], b[PIX_BLOCK], r[PIX_BLOCK];
		size_t start = blk * PIX_BLOCK, len = block_len(n, blk), i;

		load_block(A, start, len, a);
		if (B)
			load_block(B, start, len, b);
		switch (op) {
		case PIX_ADD:
			for (i = 0; i < len; i++)
				r[i] = a[i] + b[i];
			break;
		case PIX_SUB:
			for (i = 0; i < len; i++)
				r[i] = a[i] - b[i];
			break;
		case PIX_MUL:
			for (i = 0; i < len; i++)
				r[i] = a[i] * b[i];
			break;
		case PIX_ADD_SCALAR:
			for (i = 0; i < len; i++)
				r[i] = a[i] + s;
			break;
		case PIX_MUL_SCALAR:
			for (i = 0; i < len; i++)
				r[i] = a[i] * s;
			break;
		case PIX_ABS:
			for (i = 0; i < len; i++)
				r[i] = fabsf(a[i]);
			break;
		}
		store_block_sat(out, start, len, r);
	}
	return VB_OK;
}

int ref_add_images(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_ADD, err);
}

int ref_subtract_images(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_SUB, err);
}

int ref_multiply_images(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_MUL, err);
}

int ref_add_image_and_scalar(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_ADD_SCALAR, err);
}

int ref_multiply_image_and_scalar(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_MUL_SCALAR, err);
}

int ref_absolute(const struct op_call *c, struct vb_err *err)
{
	return pixel_math(c, PIX_ABS, err);
}

/* The comparisons write a u8 mask of 0 and 1. */
static int check_mask_output(const struct op_call *c, struct vb_err *err)
{
	if (c->out->dtype != DT_U8)
		return vb_errf(err, VB_E_ARGS, "%s: output is %s, expected u8", ref_op_name(c),
			       dtype_name(c->out->dtype));
	return VB_OK;
}

int ref_greater_constant(const struct op_call *c, struct vb_err *err)
{
	int status = check_shapes(c, 1, 0, err);
	const struct stack *A = c->in[0];
	uint8_t *out;
	float s;
	size_t n, blk;

	if (status == VB_OK)
		status = check_mask_output(c, err);
	if (status != VB_OK)
		return status;
	out = c->out->data;
	s = (float)op_param(c, "scalar");
	n = stack_voxels(A);

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (blk = 0; blk < block_count(n); blk++) {
		float a[PIX_BLOCK];
		size_t start = blk * PIX_BLOCK, len = block_len(n, blk), i;

		load_block(A, start, len, a);
		for (i = 0; i < len; i++)
			out[start + i] = a[i] > s ? 1 : 0;
	}
	return VB_OK;
}

int ref_binary_and(const struct op_call *c, struct vb_err *err)
{
	int status = check_shapes(c, 2, 0, err);
	const struct stack *A = c->in[0], *B = c->in[1];
	uint8_t *out;
	size_t n, blk;

	if (status == VB_OK)
		status = check_mask_output(c, err);
	if (status != VB_OK)
		return status;
	out = c->out->data;
	n = stack_voxels(A);

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (blk = 0; blk < block_count(n); blk++) {
		uint8_t a[PIX_BLOCK], b[PIX_BLOCK];
		size_t start = blk * PIX_BLOCK, len = block_len(n, blk), i;

		nonzero_block(A, start, len, a);
		nonzero_block(B, start, len, b);
		for (i = 0; i < len; i++)
			out[start + i] = a[i] & b[i];
	}
	return VB_OK;
}
