/*
 * reference_cpu/stencil.c: 3x3x3 derivative stencils (Sobel, Laplace, gradients), and filters
 * composed of other ops' references (difference of Gaussians, background subtraction, grey
 * opening / closing / top hats).
 *
 * Stencils read voxels as float (the pixel-math convention), combine them in double and round
 * the result to f32 once. Composed filters run the other ops' own references into scratch stacks
 * and subtract in float with a saturating store, exactly as the kernels do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

enum stencil { ST_GRADIENT_X, ST_GRADIENT_Y, ST_GRADIENT_Z, ST_LAPLACE_BOX, ST_LAPLACE_DIAMOND,
	       ST_SOBEL };

/* reference_cpu/internal.h */
int ref_check_image_out(const struct op_call *c, enum dtype out_dtype, struct vb_err *err)
{
	const struct stack *in = c->in[0];

	if (!in || !c->out || !in->data || !c->out->data)
		return vb_errf(err, VB_E_ARGS, "%s: missing input or output stack", ref_op_name(c));
	if (!ref_same_dims(in, c->out) || c->out->dtype != out_dtype)
		return vb_errf(err, VB_E_ARGS, "%s: output is %zux%zux%zu %s, expected %zux%zux%zu %s",
			       ref_op_name(c), c->out->width, c->out->height, c->out->depth,
			       dtype_name(c->out->dtype), in->width, in->height, in->depth,
			       dtype_name(out_dtype));
	return VB_OK;
}

static inline size_t clampz(ptrdiff_t i, size_t n)
{
	return i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i;
}

/*
 * numpy.gradient from the clamped difference d = in(i+1) - in(i-1) (one float subtraction, as
 * the kernel's): halved inside (exact), one-sided at both ends, where the clamp makes d the
 * end difference (0 where n = 1).
 */
static double gradient(float d, size_t i, size_t n)
{
	return i == 0 || i + 1 == n ? d : d * 0.5f;
}

/* One output voxel of stencil s at (x, y, z); f is the input as float, dims W x H x D. */
static double stencil_at(enum stencil s, const float *f, size_t W, size_t H, size_t D, size_t x,
			 size_t y, size_t z)
{
	size_t xo[3], yo[3], zo[3];
	double c, r = 0.0;

	for (int k = 0; k < 3; k++) {
		xo[k] = clampz((ptrdiff_t)x + k - 1, W);
		yo[k] = clampz((ptrdiff_t)y + k - 1, H) * W;
		zo[k] = clampz((ptrdiff_t)z + k - 1, D) * W * H;
	}
#define F(i, j, k) ((double)f[xo[(i) + 1] + yo[(j) + 1] + zo[(k) + 1]])
	c = F(0, 0, 0);
	switch (s) {
	case ST_GRADIENT_X: return gradient((float)F(1, 0, 0) - (float)F(-1, 0, 0), x, W);
	case ST_GRADIENT_Y: return gradient((float)F(0, 1, 0) - (float)F(0, -1, 0), y, H);
	case ST_GRADIENT_Z: return gradient((float)F(0, 0, 1) - (float)F(0, 0, -1), z, D);
	case ST_LAPLACE_DIAMOND:
		return 6.0 * c - F(-1, 0, 0) - F(1, 0, 0) - F(0, -1, 0) - F(0, 1, 0) - F(0, 0, -1) -
		       F(0, 0, 1);
	case ST_LAPLACE_BOX:
		for (int k = -1; k <= 1; k++)
			for (int j = -1; j <= 1; j++)
				for (int i = -1; i <= 1; i++)
					r += c - F(i, j, k);
		return r;
	case ST_SOBEL: {
		double sx = 0.0, sy = 0.0, sz = 0.0;

		for (int a = -1; a <= 1; a++)
			for (int b = -1; b <= 1; b++) {
				double w = (2 - a * a) * (2 - b * b);

				sx += w * (F(1, a, b) - F(-1, a, b));
				sy += w * (F(a, 1, b) - F(a, -1, b));
				sz += w * (F(a, b, 1) - F(a, b, -1));
			}
		return sqrt(sx * sx + sy * sy + sz * sz);
	}
	}
#undef F
	return 0.0;
}

/* n voxels of s from off as float (the kernels' convert_float), read typed */
static void row_as_float(const struct stack *s, size_t off, size_t n, float *dst)
{
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *src = (const T *)s->data + off;
		for (size_t i = 0; i < n; i++)
			dst[i] = (float)src[i];
	)
}

static int stencil_ref(const struct op_call *c, enum stencil s, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t W, H, D, n, row;
	float *f, *out;
	int status = ref_check_image_out(c, DT_F32, err);

	if (status != VB_OK)
		return status;
	W = in->width, H = in->height, D = in->depth;
	n = stack_voxels(in);
	f = malloc(n * sizeof(*f));
	if (!f)
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %.1f MiB of scratch; "
			       "choose a smaller size", ref_op_name(c), n * 4.0 / 1048576.0);
	out = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (row = 0; row < H * D; row++)
		row_as_float(in, row * W, W, f + row * W);
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (row = 0; row < H * D; row++) {
		size_t z = row / H, y = row % H;

		for (size_t x = 0; x < W; x++)
			out[row * W + x] = (float)stencil_at(s, f, W, H, D, x, y, z);
	}
	free(f);
	return VB_OK;
}

/*
 * 3x3x3 stencils, borders clamped (scipy mode='nearest'), f32 output; voxels read as float,
 * combined in double, rounded to f32 once (reference_cpu/stencil.c):
 *   gradient_x/y/z   numpy.gradient along the axis: (in(p+1) - in(p-1)) / 2 inside, the one-sided
 *                    difference at both ends, 0 where the axis has one voxel
 *   laplace_diamond  6 in(p) - the 6 face neighbours
 *   laplace_box      26 in(p) - the 26 neighbours
 *   sobel            sqrt(Sx^2 + Sy^2 + Sz^2), S_a = scipy.ndimage.sobel along axis a (derivative
 *                    [-1 0 1] along a, [1 2 1] along both other axes; no normalisation)
 */
int ref_gradient_x(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_GRADIENT_X, err);
}

int ref_gradient_y(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_GRADIENT_Y, err);
}

int ref_gradient_z(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_GRADIENT_Z, err);
}

int ref_laplace_box(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_LAPLACE_BOX, err);
}

int ref_laplace_diamond(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_LAPLACE_DIAMOND, err);
}

int ref_sobel(const struct op_call *c, struct vb_err *err)
{
	return stencil_ref(c, ST_SOBEL, err);
}

/* ---- composed filters ---- */

/* p[] = the parameters of op `name`, each taken from c's parameter of the same name prefixed by
 * `prefix` ("sigma1_" + "x" for "sigma_x" when prefix is "sigma1_" and strip is "sigma_"). */
static int sub_call(const struct op_call *c, const char *name, const char *strip,
		    const char *prefix, const struct stack *in, struct stack *out,
		    struct op_call *sub, struct vb_err *err)
{
	const struct op_desc *op = op_find(name);

	if (!op)
		return vb_errf(err, VB_E_ARGS, "%s: needs the op %s, which this build lacks",
			       ref_op_name(c), name);
	memset(sub, 0, sizeof(*sub));
	sub->op = op;
	sub->in[0] = in;
	sub->out = out;
	sub->threads = c->threads;
	for (int i = 0; op->params[i].name; i++) {
		const char *pn = op->params[i].name;
		char mine[64];

		if (strip && strncmp(pn, strip, strlen(strip)) == 0)
			snprintf(mine, sizeof(mine), "%s%s", prefix, pn + strlen(strip));
		else
			snprintf(mine, sizeof(mine), "%s", pn);
		sub->p[i] = op_param(c, mine);
	}
	return VB_OK;
}

/* out = a - b voxel by voxel: float subtraction, saturating store in out's dtype. */
static void subtract_into(const struct op_call *c, const struct stack *a, const struct stack *b,
			  struct stack *out)
{
	size_t n = stack_voxels(out), i;

#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (i = 0; i < n; i++) {
		float d = (float)stack_get(a, i) - (float)stack_get(b, i);

		stack_set(out, i, dtype_convert_sat(out->dtype, d));
	}
}

/* A scratch stack with in's dims (stack_alloc's message says why when it fails). */
static int alloc_like(const struct stack *in, enum dtype t, struct stack *s, struct vb_err *err)
{
	return stack_alloc(s, in->width, in->height, in->depth, t, err);
}

/* Gaussian blur of c->in[0] with the params "<prefix>x/y/z" into a new f32 stack. */
static int blur(const struct op_call *c, const char *prefix, struct stack *out, struct vb_err *err)
{
	struct op_call sub;
	int status = alloc_like(c->in[0], DT_F32, out, err);

	if (status == VB_OK)
		status = sub_call(c, "gaussian_blur", "sigma_", prefix, c->in[0], out, &sub, err);
	if (status == VB_OK)
		status = sub.op->ref(&sub, err);
	return status;
}

/*
 * Composed of other ops' references; subtraction in float, saturating store:
 *   difference_of_gaussian         gaussian_blur(sigma1_*) - gaussian_blur(sigma2_*), f32
 *   subtract_gaussian_background   in - gaussian_blur(sigma_*), f32
 *   opening = maximum(minimum(in)), closing = minimum(maximum(in)), top hat = in - opening,
 *   bottom hat = closing - in; same dtype as the input (the hats stay in range: 0 .. in or
 *   0 .. closing). *_box use minimum_box / maximum_box, *_sphere minimum_sphere / maximum_sphere.
 */
int ref_difference_of_gaussian(const struct op_call *c, struct vb_err *err)
{
	struct stack b1 = { 0 }, b2 = { 0 };
	int status = ref_check_image_out(c, DT_F32, err);

	if (status == VB_OK)
		status = blur(c, "sigma1_", &b1, err);
	if (status == VB_OK)
		status = blur(c, "sigma2_", &b2, err);
	if (status == VB_OK)
		subtract_into(c, &b1, &b2, c->out);
	stack_free(&b1);
	stack_free(&b2);
	return status;
}

int ref_subtract_gaussian_background(const struct op_call *c, struct vb_err *err)
{
	struct stack b = { 0 };
	int status = ref_check_image_out(c, DT_F32, err);

	if (status == VB_OK)
		status = blur(c, "sigma_", &b, err);
	if (status == VB_OK)
		subtract_into(c, c->in[0], &b, c->out);
	stack_free(&b);
	return status;
}

/*
 * Grey morphology from the minimum/maximum filters of one shape ("box" or "sphere"): opening =
 * max(min(in)), closing = min(max(in)); the hats subtract. `first` is the filter applied first.
 */
enum hat { HAT_NONE, HAT_TOP, HAT_BOTTOM };

static int morphology(const struct op_call *c, const char *first, const char *second,
		      enum hat hat, struct vb_err *err)
{
	struct stack t1 = { 0 }, t2 = { 0 };
	struct op_call sub;
	int status;

	if (!c->in[0])
		return vb_errf(err, VB_E_ARGS, "%s: missing input stack", ref_op_name(c));
	status = ref_check_image_out(c, c->in[0]->dtype, err);
	if (status == VB_OK)
		status = alloc_like(c->in[0], c->in[0]->dtype, &t1, err);
	if (status == VB_OK && hat != HAT_NONE)
		status = alloc_like(c->in[0], c->in[0]->dtype, &t2, err);
	if (status == VB_OK)
		status = sub_call(c, first, NULL, NULL, c->in[0], &t1, &sub, err);
	if (status == VB_OK)
		status = sub.op->ref(&sub, err);
	if (status == VB_OK)
		status = sub_call(c, second, NULL, NULL, &t1, hat == HAT_NONE ? c->out : &t2, &sub,
				  err);
	if (status == VB_OK)
		status = sub.op->ref(&sub, err);
	if (status == VB_OK && hat == HAT_TOP)
		subtract_into(c, c->in[0], &t2, c->out);
	if (status == VB_OK && hat == HAT_BOTTOM)
		subtract_into(c, &t2, c->in[0], c->out);
	stack_free(&t1);
	stack_free(&t2);
	return status;
}

int ref_opening_box(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "minimum_box", "maximum_box", HAT_NONE, err);
}

int ref_closing_box(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "maximum_box", "minimum_box", HAT_NONE, err);
}

int ref_top_hat_box(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "minimum_box", "maximum_box", HAT_TOP, err);
}

int ref_bottom_hat_box(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "maximum_box", "minimum_box", HAT_BOTTOM, err);
}

int ref_opening_sphere(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "minimum_sphere", "maximum_sphere", HAT_NONE, err);
}

int ref_closing_sphere(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "maximum_sphere", "minimum_sphere", HAT_NONE, err);
}

int ref_top_hat_sphere(const struct op_call *c, struct vb_err *err)
{
	return morphology(c, "minimum_sphere", "maximum_sphere", HAT_TOP, err);
}
