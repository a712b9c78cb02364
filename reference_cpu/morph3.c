/*
 * reference_cpu/morph3.c: the references of ops/rows_morph3.def, composed of other rows'
 * references (the minimum / maximum filters, binary erosion / dilation) and finished in float
 * with dtype_convert_sat(), as kernels/morph3.cl finishes them:
 *   morphological_gradient_*   maximum(in) - minimum(in) (scipy's morphological_gradient)
 *   morphological_laplace_*    ((maximum(in) + minimum(in)) - in) - in, f32 (scipy's
 *                              morphological_laplace, in its order)
 *   binary_opening_*           dilate(erode(in)); binary_closing_*: erode(dilate(in)), u8
 *   detect_minima_box          1 (u8) where in == minimum_box(in)
 *   binary_edge_detection      1 (u8) where in != 0 and a face neighbour (clamped) is 0
 *   bottom_hat_sphere          closing_sphere(in) - in, the input's dtype
 */
#include <string.h>

#include "internal.h"
#include "reference.h"

static int alloc_like(const struct stack *in, enum dtype t, struct stack *s, struct vb_err *err)
{
	return stack_alloc(s, in->width, in->height, in->depth, t, err);
}

static int check_io(const struct op_call *c, struct vb_err *err)
{
	const struct stack *a = c->in[0];

	if (!a || !c->out || !a->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(a, c->out) || c->out->dtype != op_output_dtype(c->op, a->dtype))
		return vb_errf(err, VB_E_ARGS, "%s: the output is not %zux%zux%zu %s",
			       ref_op_name(c), a->width, a->height, a->depth,
			       dtype_name(op_output_dtype(c->op, a->dtype)));
	return VB_OK;
}

/* Run op `name` from in into out (allocated), its parameters c's of the same names. */
static int run_ref(const struct op_call *c, const char *name, const char *shape,
		   const struct stack *in, struct stack *out, struct vb_err *err)
{
	char full[64];
	const struct op_desc *op;
	struct op_call sub = { 0 };

	snprintf(full, sizeof(full), "%s%s%s", name, shape ? "_" : "", shape ? shape : "");
	op = op_find(full);
	if (!op)
		return vb_errf(err, VB_E_ARGS, "%s: needs the op %s, which this build lacks",
			       ref_op_name(c), full);
	sub.op = op;
	sub.in[0] = in;
	sub.out = out;
	sub.threads = c->threads;
	for (int i = 0; op->params[i].name; i++)
		sub.p[i] = op_param(c, op->params[i].name);
	return op->ref(&sub, err);
}

static const char *shape_of(const struct op_call *c)
{
	return c->op->footprint == FOOT_SPHERE ? "sphere" : "box";
}

enum finish { FIN_GRADIENT, FIN_LAPLACE, FIN_EQUAL };

/* out[i] = the finish of a[i], b[i] and in[i], in float, stored saturated. */
static void finish(const struct op_call *c, enum finish how, const struct stack *a,
		   const struct stack *b)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t n = stack_voxels(in);

	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *pa = a->data, *pb = b->data, *pi = in->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			float v;

			if (how == FIN_GRADIENT)
				v = (float)pa[i] - (float)pb[i];
			else if (how == FIN_LAPLACE)
				v = (((float)pa[i] + (float)pb[i]) - (float)pi[i]) - (float)pi[i];
			else
				v = (float)pa[i] == (float)pb[i] ? 1.0f : 0.0f;
			if (out->dtype == DT_F32)
				((float *)out->data)[i] = v;
			else if (out->dtype == DT_U8)
				((uint8_t *)out->data)[i] = (uint8_t)dtype_convert_sat(DT_U8, v);
			else /* the gradient: the input's dtype */
				((T *)out->data)[i] = (T)dtype_convert_sat(out->dtype, v);
		}
	)
}

/* max / min of the row's shape (or, for FIN_EQUAL, in against minimum_box), then finish. */
static int combine(const struct op_call *c, enum finish how, struct vb_err *err)
{
	struct stack t0 = { 0 }, t1 = { 0 };
	const struct stack *in = c->in[0];
	int status = check_io(c, err);

	if (status == VB_OK)
		status = alloc_like(in, in->dtype, &t1, err);
	if (status == VB_OK && how != FIN_EQUAL)
		status = alloc_like(in, in->dtype, &t0, err);
	if (status == VB_OK && how != FIN_EQUAL)
		status = run_ref(c, "maximum", shape_of(c), in, &t0, err);
	if (status == VB_OK)
		status = run_ref(c, "minimum", how == FIN_EQUAL ? "box" : shape_of(c), in, &t1, err);
	if (status == VB_OK)
		finish(c, how, how == FIN_EQUAL ? in : &t0, &t1);
	stack_free(&t0);
	stack_free(&t1);
	return status;
}

int ref_morphological_gradient_box(const struct op_call *c, struct vb_err *err)
{
	return combine(c, FIN_GRADIENT, err);
}

int ref_morphological_gradient_sphere(const struct op_call *c, struct vb_err *err)
{
	return combine(c, FIN_GRADIENT, err);
}

int ref_morphological_laplace_box(const struct op_call *c, struct vb_err *err)
{
	return combine(c, FIN_LAPLACE, err);
}

int ref_morphological_laplace_sphere(const struct op_call *c, struct vb_err *err)
{
	return combine(c, FIN_LAPLACE, err);
}

int ref_detect_minima_box(const struct op_call *c, struct vb_err *err)
{
	return combine(c, FIN_EQUAL, err);
}

/* Binary opening (erode, then dilate) or closing (dilate, then erode), through a u8 volume. */
static int binary_morphology(const struct op_call *c, int opening, struct vb_err *err)
{
	struct stack t = { 0 };
	int status = check_io(c, err);

	if (status == VB_OK)
		status = alloc_like(c->in[0], DT_U8, &t, err);
	if (status == VB_OK)
		status = run_ref(c, opening ? "erode" : "dilate", shape_of(c), c->in[0], &t, err);
	if (status == VB_OK)
		status = run_ref(c, opening ? "dilate" : "erode", shape_of(c), &t, c->out, err);
	stack_free(&t);
	return status;
}

int ref_binary_opening_box(const struct op_call *c, struct vb_err *err)
{
	return binary_morphology(c, 1, err);
}

int ref_binary_opening_sphere(const struct op_call *c, struct vb_err *err)
{
	return binary_morphology(c, 1, err);
}

int ref_binary_closing_box(const struct op_call *c, struct vb_err *err)
{
	return binary_morphology(c, 0, err);
}

int ref_binary_closing_sphere(const struct op_call *c, struct vb_err *err)
{
	return binary_morphology(c, 0, err);
}

int ref_binary_edge_detection(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	int status = check_io(c, err);
	size_t w, h, d, plane;
	long z;

	if (status != VB_OK)
		return status;
	w = in->width, h = in->height, d = in->depth, plane = w * h;
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *p = in->data;
		uint8_t *o = c->out->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (z = 0; z < (long)d; z++)
			for (size_t y = 0; y < h; y++)
				for (size_t x = 0; x < w; x++) {
					size_t i = (size_t)z * plane + y * w + x;

					o[i] = p[i] != 0 &&
					       (p[i - (x > 0)] == 0 || p[i + (x + 1 < w)] == 0 ||
						p[i - (y > 0 ? w : 0)] == 0 ||
						p[i + (y + 1 < h ? w : 0)] == 0 ||
						p[i - (z > 0 ? plane : 0)] == 0 ||
						p[i + ((size_t)z + 1 < d ? plane : 0)] == 0);
				}
	)
	return VB_OK;
}

int ref_bottom_hat_sphere(const struct op_call *c, struct vb_err *err)
{
	struct stack t = { 0 };
	int status = check_io(c, err);

	if (status == VB_OK)
		status = alloc_like(c->in[0], c->in[0]->dtype, &t, err);
	if (status == VB_OK)
		status = run_ref(c, "closing_sphere", NULL, c->in[0], &t, err);
	if (status == VB_OK)
		finish(c, FIN_GRADIENT, &t, c->in[0]);
	stack_free(&t);
	return status;
}
