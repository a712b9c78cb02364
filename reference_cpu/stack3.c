/*
 * reference_cpu/stack3.c: the references of ops/rows_stack3.def, voxels copied in their own
 * type, the geometry from ops/geometry_stack3.c:
 *   sub_stack, reduce_stack, range, crop_border   out(x, y, z) = in(start + step * (x, y, z))
 *   circular_shift                                numpy.roll by (shift_z, shift_y, shift_x)
 *   concatenate_along_x/y/z                       numpy.concatenate of the two inputs
 */
#include <string.h>

#include "internal.h"
#include "reference.h"

static int check_io(const struct op_call *c, struct vb_err *err)
{
	if (!c->in[0] || !c->out || !c->in[0]->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (c->out->dtype != c->in[0]->dtype)
		return vb_errf(err, VB_E_ARGS, "%s: output is %s, the input %s", ref_op_name(c),
			       dtype_name(c->out->dtype), dtype_name(c->in[0]->dtype));
	return VB_OK;
}

static int strided(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	long start[3], step[3];
	size_t out[3], w = in->width, h = in->height, es = dtype_size(in->dtype);
	int status = check_io(c, err);
	long z;

	if (status == VB_OK)
		status = geom_strided(c, start, step, out, err);
	if (status != VB_OK)
		return status;
	if (c->out->width != out[0] || c->out->height != out[1] || c->out->depth != out[2])
		return vb_errf(err, VB_E_ARGS, "%s: the output is not %zux%zux%zu", ref_op_name(c),
			       out[0], out[1], out[2]);
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		T *o = c->out->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (z = 0; z < (long)out[2]; z++)
			for (size_t y = 0; y < out[1]; y++) {
				size_t iz = (size_t)(start[2] + step[2] * z);
				size_t iy = (size_t)(start[1] + step[1] * (long)y);
				const T *row = p + (iz * h + iy) * w;
				T *dst = o + ((size_t)z * out[1] + y) * out[0];

				if (step[0] == 1) {
					memcpy(dst, row + start[0], out[0] * es);
					continue;
				}
				for (size_t x = 0; x < out[0]; x++)
					dst[x] = row[start[0] + step[0] * (long)x];
			}
	)
	return VB_OK;
}

int ref_sub_stack(const struct op_call *c, struct vb_err *err) { return strided(c, err); }
int ref_reduce_stack(const struct op_call *c, struct vb_err *err) { return strided(c, err); }
int ref_range(const struct op_call *c, struct vb_err *err) { return strided(c, err); }
int ref_crop_border(const struct op_call *c, struct vb_err *err) { return strided(c, err); }

int ref_circular_shift(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height, d = in->depth, s[3];
	int status = check_io(c, err);
	long z;

	if (status != VB_OK)
		return status;
	geom_circular_shift(c, s);
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		T *o = c->out->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (z = 0; z < (long)d; z++)
			for (size_t y = 0; y < h; y++) {
				size_t iz = ((size_t)z + d - s[2]) % d, iy = (y + h - s[1]) % h;
				const T *row = p + (iz * h + iy) * w;
				T *dst = o + ((size_t)z * h + y) * w;

				/* x in [s, w) comes from [0, w - s); x in [0, s) from [w - s, w) */
				memcpy(dst + s[0], row, (w - s[0]) * sizeof(T));
				memcpy(dst, row + (w - s[0]), s[0] * sizeof(T));
			}
	)
	return VB_OK;
}

static int concatenate(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0], *b = c->in[1];
	int axis = geom_concatenate_axis(c), status = check_io(c, err);
	size_t out[3], es;

	if (status == VB_OK && (!b || !b->data || b->dtype != a->dtype))
		status = vb_errf(err, VB_E_ARGS, "%s: needs a second input of the first's dtype",
				 ref_op_name(c));
	if (status == VB_OK)
		status = dims_concatenate(c, out, err);
	if (status != VB_OK)
		return status;
	es = dtype_size(a->dtype);
	/* row by row: each output row (x line) comes whole from a or b, or (axis x) from both */
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (long z = 0; z < (long)out[2]; z++)
		for (size_t y = 0; y < out[1]; y++) {
			char *dst = (char *)c->out->data + (((size_t)z * out[1] + y) * out[0]) * es;

			if (axis == 0) {
				memcpy(dst, (const char *)a->data + ((size_t)z * a->height + y) *
				       a->width * es, a->width * es);
				memcpy(dst + a->width * es, (const char *)b->data +
				       ((size_t)z * b->height + y) * b->width * es, b->width * es);
			} else if ((axis == 1 && y < a->height) || (axis == 2 && (size_t)z < a->depth)) {
				memcpy(dst, (const char *)a->data + ((size_t)z * a->height + y) *
				       a->width * es, a->width * es);
			} else {
				size_t bz = axis == 2 ? (size_t)z - a->depth : (size_t)z;
				size_t by = axis == 1 ? y - a->height : y;

				memcpy(dst, (const char *)b->data + (bz * b->height + by) * b->width * es,
				       b->width * es);
			}
		}
	return VB_OK;
}

int ref_concatenate_along_x(const struct op_call *c, struct vb_err *err)
{
	return concatenate(c, err);
}

int ref_concatenate_along_y(const struct op_call *c, struct vb_err *err)
{
	return concatenate(c, err);
}

int ref_concatenate_along_z(const struct op_call *c, struct vb_err *err)
{
	return concatenate(c, err);
}
