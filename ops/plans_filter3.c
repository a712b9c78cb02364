/*
 * ops/plans_filter3.c: Gaussian derivatives (ops/rows_filter3.def): three separable passes of
 * kernels/filter.cl's convolve_axis with the weights of ops/geometry_stack3.c, through f32
 * scratch volumes; gaussian_laplace sums three such derivatives (kernels/filter3.cl).
 */
#include <stdio.h>

#include "plans.h"

/* Scratch slots: 0, 1 ping-pong, 2 a Laplace term, 3 .. 11 the weights of term t, axis a, 12 the
 * input minus its first voxel. */
#define WEIGHT_SLOT(t, a) (3 + 3 * (t) + (a))
#define MAX_TAPS 257 /* radius ceil(4 * 32) */
#define SHIFTED_SLOT 12
#define MINUS_FIRST_ITEMS 4

/* The float weights of one axis on the device (filled once per op: gpu_constant). */
static int axis_weights(struct gpu_run *r, int slot, double sigma, int order, int *radius,
			struct gpu_buf **buf, struct vb_err *err)
{
	double w[MAX_TAPS];
	float f[MAX_TAPS];

	*radius = geom_gaussian_radius(sigma);
	if (*radius > (MAX_TAPS - 1) / 2)
		return vb_errf(err, VB_E_ARGS, "sigma %g is beyond the largest kernel (radius %d)",
			       sigma, (MAX_TAPS - 1) / 2);
	geom_gaussian_derivative_weights(sigma, order, *radius, w);
	for (int k = 0; k <= 2 * *radius; k++)
		f[k] = (float)w[k];
	return gpu_constant(r, slot, f, (size_t)(2 * *radius + 1) * sizeof(*f), buf, err);
}

/*
 * The taps of a derivative of a near-constant region cancel, leaving a rounding residue of the
 * size of the voxels, which would dwarf a tolerance relative to the (small) result. So
 * derivatives are taken of in - in[0] (kernels/stencil.cl minus_first), as the reference takes
 * them, and in[0] times the derivative of a constant 1 is added back at the end (add_first).
 */
static int minus_first(struct gpu_run *r, const struct op_call *c, struct gpu_buf **shifted,
		       struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("stencil", "minus_first", c->in[0]->dtype, DT_F32,
				    (n + MINUS_FIRST_ITEMS - 1) / MINUS_FIRST_ITEMS);
	int status = gpu_scratch(r, SHIFTED_SLOT, n * sizeof(float), shifted, err);

	if (status)
		return status;
	snprintf(l.options, sizeof(l.options), "-DITEMS=%d", MINUS_FIRST_ITEMS);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(*shifted), KU64(n));
	return gpu_launch(r, &l, err);
}

static int add_first(struct gpu_run *r, const struct op_call *c, const double sigma[3],
		     const int order[3], int laplace, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	struct launch l = launch_1d("filter3", "add_first_share", c->in[0]->dtype, DT_F32, n);

	ARGS(&l, KBUF(gpu_output(r)), KBUF(gpu_input(r, 0)),
	     KF32(geom_derivative_gain(sigma, order, laplace)), KU64(n));
	return gpu_launch(r, &l, err);
}

/* dst (f32) = the derivative of src by sigma / order along x, then y, then z. */
static int derivative(struct gpu_run *r, const struct op_call *c, struct gpu_buf *src,
		      enum dtype src_type, const double sigma[3], const int order[3], int term,
		      struct gpu_buf *dst, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t bytes = stack_voxels(in) * sizeof(float);
	struct gpu_buf *tmp[2];
	int status = gpu_scratch(r, 0, bytes, &tmp[0], err);

	if (!status)
		status = gpu_scratch(r, 1, bytes, &tmp[1], err);
	for (int a = 0; a < 3 && !status; a++) {
		struct launch l = launch_3d("filter", "convolve_axis", src_type, DT_F32, in);
		struct gpu_buf *w, *out = a == 2 ? dst : tmp[a];
		int radius;

		status = axis_weights(r, WEIGHT_SLOT(term, a), sigma[a], order[a], &radius, &w, err);
		if (status)
			break;
		snprintf(l.options, sizeof(l.options), "-DRADIUS=%d", radius);
		ARGS(&l, KBUF(src), KBUF(out), KBUF(w), KI32(a), KI32(0), KI32(in->width),
		     KI32(in->height), KI32(in->depth));
		status = gpu_launch(r, &l, err);
		src = out;
		src_type = DT_F32;
	}
	return status;
}

int plan_gaussian_derivative(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double sigma[3];
	int order[3], status = geom_derivative_axes(c, sigma, order, err);
	struct gpu_buf *src = gpu_input(r, 0);
	enum dtype src_type = c->in[0]->dtype;

	if (status)
		return status;
	if (order[0] || order[1] || order[2]) { /* a plain blur (all orders 0) is not shifted */
		status = minus_first(r, c, &src, err);
		src_type = DT_F32;
	}
	if (!status)
		status = derivative(r, c, src, src_type, sigma, order, 0, gpu_output(r), err);
	if (!status && (order[0] || order[1] || order[2]))
		status = add_first(r, c, sigma, order, 0, err);
	return status;
}

int plan_gaussian_laplace(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	double sigma[3];
	int order[3], status = geom_derivative_axes(c, sigma, order, err);
	struct gpu_buf *term, *src;

	if (!status)
		status = gpu_scratch(r, 2, n * sizeof(float), &term, err);
	if (!status)
		status = minus_first(r, c, &src, err);
	for (int t = 0; t < 3 && !status; t++) {
		int second[3] = { 0, 0, 0 };
		struct launch l = launch_1d("filter3", "accumulate", DT_F32, DT_F32, n);

		second[t] = 2;
		status = derivative(r, c, src, DT_F32, sigma, second, t, t ? term : gpu_output(r),
				    err);
		if (status || t == 0)
			continue;
		ARGS(&l, KBUF(gpu_output(r)), KBUF(term), KU64(n));
		status = gpu_launch(r, &l, err);
	}
	return status ? status : add_first(r, c, sigma, order, 1, err);
}

/* in / gaussian_blur(in): the blur (another row's plan) into scratch slot 2, then the quotient. */
int plan_divide_by_gaussian_background(struct gpu_run *r, const struct op_call *c,
				       struct vb_err *err)
{
	const struct op_desc *blur = op_find("gaussian_blur");
	size_t n = stack_voxels(c->in[0]);
	struct stack desc = *c->in[0];
	struct gpu_operand in[OP_MAX_INPUTS] = { { gpu_input(r, 0), c->in[0] } }, out;
	struct launch l = launch_1d("filter3", "divide_by", c->in[0]->dtype, DT_F32, n);
	double p[OP_MAX_PARAMS] = { 0 };
	int status;

	if (!blur)
		return vb_errf(err, VB_E_ARGS, "%s: needs gaussian_blur", c->op->name);
	desc.dtype = DT_F32;
	desc.data = NULL;
	out.desc = &desc;
	for (int i = 0; blur->params[i].name; i++)
		p[i] = op_param(c, blur->params[i].name);
	status = gpu_scratch(r, 2, n * sizeof(float), &out.buf, err);
	if (!status)
		status = gpu_sub_plan(r, blur, p, in, &out, 16, err);
	if (status)
		return status;
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(out.buf), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}
