/*
 * reference_cpu/proj3.c: the references of ops/rows_proj3.def, in the order and precision of
 * kernels/proj3.cl:
 *   *_position_of_{minimum,maximum}_*_projection   the first position of the extremum along the
 *       axis (u32), compared in the voxel's type; a NaN never wins
 *   product_*_projection    the float product in axis order
 *   variance / std          two float passes in axis order: mean = sum / n, then the sum of
 *       squared deviations / (n - ddof); 0 where n <= ddof
 *   cumulative_sum          integers summed exactly in int64, each prefix rounded once to float;
 *       floats summed in float; cumulative_product in float; cumulative max / min in the voxel's
 *       type (floats: fmax / fmin)
 * Output layouts: z -> out(x, y), y -> out(x, z), x -> out(y, z).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

enum p3_kind { P3_ARGMIN, P3_ARGMAX, P3_PRODUCT, P3_VARIANCE, P3_STD };
enum c3_kind { C3_SUM, C3_PRODUCT, C3_MAX, C3_MIN };

static int check_io(const struct op_call *c, struct vb_err *err)
{
	if (!c->in[0] || !c->out || !c->in[0]->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (c->out->dtype != op_output_dtype(c->op, c->in[0]->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: output is %s, expected %s", ref_op_name(c),
			       dtype_name(c->out->dtype),
			       dtype_name(op_output_dtype(c->op, c->in[0]->dtype)));
	return VB_OK;
}

/* Voxel index of element k of the line through output (u, v) (kernels/proj3.cl line_index). */
static inline size_t line_index(int axis, size_t u, size_t v, size_t k, size_t w, size_t h)
{
	if (axis == 2)
		return k * w * h + v * w + u;
	if (axis == 1)
		return v * w * h + k * w + u;
	return v * w * h + u * w + k;
}

#define BETTER(x, best, max) \
	((best) != (best) ? (x) == (x) : (max) ? (x) > (best) : (x) < (best))

/*
 * Projections along y or z, row by row: for one output row v the lines through u = 0 .. ow - 1
 * advance together, element k of all of them being one contiguous input row, so every read
 * streams (a line at a time strode a plane per element: at 1024x1024x512 f32, whose planes of
 * 4 MiB share cache sets, variance_z_projection took 41 times as long for 8 times the voxels).
 * Each output sees its elements in the same order, in the same precision, as a line at a time;
 * along x the lines are rows already, and go one at a time (below: a group of one line costs
 * 2-4 times as much there).
 */
static int project_rows(const struct op_call *c, int axis, enum p3_kind kind, size_t ow,
			size_t oh, size_t n, int ddof, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height;
	int failed = 0;

	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		_Pragma("omp parallel num_threads(ref_nthreads(c))")
		{
			float *s = malloc(ow * sizeof(float)), *q = malloc(ow * sizeof(float));
			uint32_t *pos = malloc(ow * sizeof(uint32_t));
			T *best = malloc(ow * sizeof(T));

			if (!s || !q || !pos || !best)
				failed = 1;
			_Pragma("omp for schedule(static)")
			for (long v = 0; v < (long)oh; v++) {
				if (!s || !q || !pos || !best)
					continue;
				for (size_t k = 0; k < n; k++) {
					const T *row = p + line_index(axis, 0, (size_t)v, k, w, h);

					for (size_t u = 0; u < ow; u++) {
						T x = row[u];

						if (kind == P3_ARGMIN || kind == P3_ARGMAX) {
							if (k == 0 || BETTER(x, best[u], kind == P3_ARGMAX)) {
								best[u] = x;
								pos[u] = (uint32_t)k;
							}
						} else if (kind == P3_PRODUCT) {
							s[u] = (k ? s[u] : 1.0f) * (float)x;
						} else {
							s[u] = (k ? s[u] : 0.0f) + (float)x;
						}
					}
				}
				if (kind == P3_VARIANCE || kind == P3_STD) {
					for (size_t u = 0; u < ow; u++)
						s[u] = s[u] / (float)n; /* the mean */
					for (size_t k = 0; k < n; k++) {
						const T *row = p + line_index(axis, 0, (size_t)v, k, w, h);

						for (size_t u = 0; u < ow; u++) {
							float e = (float)row[u] - s[u];

							q[u] = (k ? q[u] : 0.0f) + e * e;
						}
					}
				}
				for (size_t u = 0; u < ow; u++) {
					size_t o = (size_t)v * ow + u;
					float var;

					if (kind == P3_ARGMIN || kind == P3_ARGMAX) {
						((uint32_t *)c->out->data)[o] = pos[u];
					} else if (kind == P3_PRODUCT) {
						((float *)c->out->data)[o] = s[u];
					} else {
						var = (long)n > ddof ? q[u] / (float)((long)n - ddof) : 0.0f;
						((float *)c->out->data)[o] = kind == P3_STD ? sqrtf(var) : var;
					}
				}
			}
			free(s);
			free(q);
			free(pos);
			free(best);
		}
	)
	return failed ? vb_errf(err, VB_E_NOMEM, "%s: out of memory for a row per thread",
				ref_op_name(c)) : VB_OK;
}

static int project(const struct op_call *c, int axis, enum p3_kind kind, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height, d = in->depth;
	size_t ow = axis == 0 ? h : w, oh = axis == 2 ? h : d, n = axis == 0 ? w : axis == 1 ? h : d;
	int ddof = op_param_count(c->op) ? (int)op_param(c, "ddof") : 0;
	int status = check_io(c, err);
	long v;

	if (status != VB_OK)
		return status;
	if (c->out->width != ow || c->out->height != oh || c->out->depth != 1)
		return vb_errf(err, VB_E_ARGS, "%s: the output is not %zux%zux1", ref_op_name(c), ow,
			       oh);
	if (axis != 0 && n > 0)
		return project_rows(c, axis, kind, ow, oh, n, ddof, err);
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (v = 0; v < (long)oh; v++)
			for (size_t u = 0; u < ow; u++) {
				size_t o = (size_t)v * ow + u;

				if (kind == P3_ARGMIN || kind == P3_ARGMAX) {
					T best = p[line_index(axis, u, (size_t)v, 0, w, h)];
					uint32_t pos = 0;

					for (size_t k = 1; k < n; k++) {
						T x = p[line_index(axis, u, (size_t)v, k, w, h)];

						if (BETTER(x, best, kind == P3_ARGMAX)) {
							best = x;
							pos = (uint32_t)k;
						}
					}
					((uint32_t *)c->out->data)[o] = pos;
				} else if (kind == P3_PRODUCT) {
					float q = 1.0f;

					for (size_t k = 0; k < n; k++)
						q = q * (float)p[line_index(axis, u, (size_t)v, k, w, h)];
					((float *)c->out->data)[o] = q;
				} else {
					float s = 0.0f, q = 0.0f, mean, var;

					for (size_t k = 0; k < n; k++)
						s += (float)p[line_index(axis, u, (size_t)v, k, w, h)];
					mean = s / (float)n;
					for (size_t k = 0; k < n; k++) {
						float e = (float)p[line_index(axis, u, (size_t)v, k, w,
									       h)] - mean;

						q += e * e;
					}
					var = (long)n > ddof ? q / (float)((long)n - ddof) : 0.0f;
					((float *)c->out->data)[o] = kind == P3_STD ? sqrtf(var) : var;
				}
			}
	)
	return VB_OK;
}

/* Cumulative op along axis: one line per (a, b) of the other two axes. */
static int cumulate(const struct op_call *c, enum c3_kind kind, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t w = in->width, h = in->height, d = in->depth, plane = w * h;
	int axis = (int)op_param(c, "axis"), status = check_io(c, err);
	size_t na = axis == 0 ? h : w, nb = axis == 2 ? h : d, n = axis == 0 ? w : axis == 1 ? h : d;
	size_t stride = axis == 0 ? 1 : axis == 1 ? w : plane;
	long b;

	if (status != VB_OK)
		return status;
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (b = 0; b < (long)nb; b++)
			for (size_t a = 0; a < na; a++) {
				size_t start = axis == 0 ? (size_t)b * plane + a * w :
					       axis == 1 ? (size_t)b * plane + a : (size_t)b * w + a;
				int64_t isum = 0;
				float fsum = 0.0f, prod = 1.0f;
				T ext = 0;

				for (size_t k = 0; k < n; k++) {
					size_t i = start + k * stride;
					T x = p[i];

					if (kind == C3_SUM) {
						float s;

						if (in->dtype == DT_F32) {
							fsum += (float)x;
							s = fsum;
						} else {
							isum += (int64_t)x;
							s = (float)isum;
						}
						((float *)c->out->data)[i] = s;
					} else if (kind == C3_PRODUCT) {
						prod = prod * (float)x;
						((float *)c->out->data)[i] = prod;
					} else {
						if (k == 0)
							ext = x;
						else if (in->dtype == DT_F32)
							ext = (T)(kind == C3_MAX ? fmaxf((float)ext, (float)x)
										 : fminf((float)ext, (float)x));
						else
							ext = kind == C3_MAX ? (x > ext ? x : ext)
									     : (x < ext ? x : ext);
						((T *)c->out->data)[i] = ext;
					}
				}
			}
	)
	return VB_OK;
}

#define P3_REF(token, axis, kind)                                      \
	int ref_##token(const struct op_call *c, struct vb_err *err)   \
	{                                                              \
		return project(c, axis, kind, err);                    \
	}
#define C3_REF(token, kind)                                            \
	int ref_##token(const struct op_call *c, struct vb_err *err)   \
	{                                                              \
		return cumulate(c, kind, err);                         \
	}

P3_REF(z_position_of_minimum_z_projection, 2, P3_ARGMIN)
P3_REF(x_position_of_maximum_x_projection, 0, P3_ARGMAX)
P3_REF(x_position_of_minimum_x_projection, 0, P3_ARGMIN)
P3_REF(y_position_of_maximum_y_projection, 1, P3_ARGMAX)
P3_REF(y_position_of_minimum_y_projection, 1, P3_ARGMIN)
P3_REF(product_x_projection, 0, P3_PRODUCT)
P3_REF(product_y_projection, 1, P3_PRODUCT)
P3_REF(product_z_projection, 2, P3_PRODUCT)
P3_REF(variance_x_projection, 0, P3_VARIANCE)
P3_REF(variance_y_projection, 1, P3_VARIANCE)
P3_REF(variance_z_projection, 2, P3_VARIANCE)
P3_REF(std_x_projection, 0, P3_STD)
P3_REF(std_y_projection, 1, P3_STD)
C3_REF(cumulative_sum, C3_SUM)
C3_REF(cumulative_product, C3_PRODUCT)
C3_REF(cumulative_max, C3_MAX)
C3_REF(cumulative_min, C3_MIN)
