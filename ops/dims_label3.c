/* ops/dims_label3.c: output dims of the label3 and measure3 rows (ops/dims_label3.h). */
#include <math.h>

#include "geometry.h"

int label3_matrix_check(const char *op, uint64_t max, struct vb_err *err)
{
	if (max > LABEL3_MATRIX_MAX_LABEL)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %llu; its matrix holds (labels + 1)^2 "
			       "entries and is built up to label %u: relabel or crop to fewer labels",
			       op, (unsigned long long)max, LABEL3_MATRIX_MAX_LABEL);
	return VB_OK;
}

int dims_label_vector(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[0]);

	(void)err;
	if (m > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u, the largest a per-label "
			       "vector takes; relabel first", c->op->name, m, LABEL_MAX_VALUE);
	out[0] = (size_t)m + 1;
	out[1] = out[2] = 1;
	return VB_OK;
}

int dims_touch_matrix(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[0]);
	int status = label3_matrix_check(c->op->name, m, err);

	out[0] = out[1] = (size_t)m + 1;
	out[2] = 1;
	return status;
}

int dims_overlap_matrix(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t a = geom_max_label(c->in[0]), b = geom_max_label(c->in[1]);
	int status = label3_matrix_check(c->op->name, a > b ? a : b, err);

	out[0] = (size_t)a + 1;
	out[1] = (size_t)b + 1;
	out[2] = 1;
	return status;
}

int dims_background_statistics(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[1]);

	if (m >= LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u; the table takes labels below %u",
			       c->op->name, m, LABEL_MAX_VALUE);
	out[0] = STATISTICS_COLUMNS;
	out[1] = (size_t)m + 1;
	out[2] = 1;
	return VB_OK;
}

int dims_bounding_box(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)c;
	(void)err;
	out[0] = 6;
	out[1] = out[2] = 1;
	return VB_OK;
}

size_t label3_spot_count(const struct stack *s)
{
	size_t n = s->data ? stack_voxels(s) : 0, count = 0;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for reduction(+ : count) schedule(static)")
		for (size_t i = 0; i < n; i++)
			count += v[i] != 0;
	)
	return count;
}

int label3_point_rows(const struct stack *s)
{
	return s->depth > 1 ? 3 : 2;
}

int dims_spots_pointlist(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	size_t k = label3_spot_count(c->in[0]);

	if (k >= LABEL_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu spots; they are numbered in u32, crop "
			       "the stack", c->op->name, k);
	out[0] = k ? k : 1;
	out[1] = (size_t)label3_point_rows(c->in[0]);
	out[2] = 1;
	return VB_OK;
}

int dims_labelled_pointlist(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[0]);

	if (m > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %u exceeds %u; relabel first",
			       c->op->name, m, LABEL_MAX_VALUE);
	out[0] = m ? m : 1;
	out[1] = (size_t)label3_point_rows(c->in[0]);
	out[2] = 1;
	return VB_OK;
}

int dims_label_vector_of_second(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	struct op_call second = *c;

	second.in[0] = c->in[1];
	return dims_label_vector(&second, out, err);
}

float label3_extension_scale(const struct stack *s)
{
	double far = sqrt((double)s->width * s->width + (double)s->height * s->height +
			  (double)s->depth * s->depth);
	int e_far, e_n;

	frexp(far, &e_far);
	frexp((double)stack_voxels(s), &e_n);
	return (float)ldexp(1.0, 61 - e_far - e_n < 40 ? 61 - e_far - e_n : 40);
}
