/*
 * reference_cpu/stencil4.c: the eigenvalues of the Hessian of central second differences, and
 * the binary sup-inf / inf-sup of line and plane structuring elements (ops/rows_stencil4.def).
 *
 * Voxels are read as float (the kernels' convert_float); the Hessian and its eigenvalues are
 * computed in double and rounded to f32 once. The binary operators are exact.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

/* The input as float, as the kernels read it (NULL and err set when memory runs out). */
static float *load_float(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in), rows = in->height * in->depth, row;
	float *f = malloc((n ? n : 1) * sizeof(*f));

	if (!f) {
		vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %.1f MiB of scratch; choose a smaller "
			"size", ref_op_name(c), n * 4.0 / 1048576.0);
		return NULL;
	}
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (row = 0; row < rows; row++)
		ref_block_load_float(in, row * in->width, in->width, f + row * in->width);
	return f;
}

static inline size_t clampz(ptrdiff_t i, size_t n)
{
	return i < 0 ? 0 : (size_t)i >= n ? n - 1 : (size_t)i;
}

static void sort3(double *e)
{
	double t;

	if (e[0] > e[1])
		t = e[0], e[0] = e[1], e[1] = t;
	if (e[1] > e[2])
		t = e[1], e[1] = e[2], e[2] = t;
	if (e[0] > e[1])
		t = e[0], e[0] = e[1], e[1] = t;
}

/* a = J^T a J for the rotation J in the (p, q) plane that zeroes a[p][q] (Jacobi's). */
static void jacobi_rotate(double a[3][3], int p, int q)
{
	double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
	double t = (theta < 0 ? -1.0 : 1.0) / (fabs(theta) + sqrt(theta * theta + 1));
	double c = 1 / sqrt(t * t + 1), s = t * c;

	for (int k = 0; k < 3; k++) {
		double kp = a[k][p], kq = a[k][q];

		a[k][p] = c * kp - s * kq;
		a[k][q] = s * kp + c * kq;
	}
	for (int k = 0; k < 3; k++) {
		double pk = a[p][k], qk = a[q][k];

		a[p][k] = c * pk - s * qk;
		a[q][k] = s * pk + c * qk;
	}
}

/*
 * Eigenvalues of the symmetric (a00 a01 a02; a01 a11 a12; a02 a12 a22), ascending: cyclic
 * Jacobi rotations in double until the off-diagonal part is below the diagonal's rounding
 * (another method than the kernel's closed form, accurate where eigenvalues meet). A NaN
 * element makes all three NaN.
 */
static void eigen3(double a00, double a01, double a02, double a11, double a12, double a22,
		   double *e)
{
	double a[3][3] = { { a00, a01, a02 }, { a01, a11, a12 }, { a02, a12, a22 } };
	static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };

	if (isnan(a00 + a01 + a02 + a11 + a12 + a22)) {
		e[0] = e[1] = e[2] = NAN;
		return;
	}
	for (int sweep = 0; sweep < 32; sweep++) {
		double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
		double diag = a[0][0] * a[0][0] + a[1][1] * a[1][1] + a[2][2] * a[2][2];

		if (off == 0 || off < 1e-36 * diag)
			break;
		for (int k = 0; k < 3; k++)
			if (a[pairs[k][0]][pairs[k][1]] != 0)
				jacobi_rotate(a, pairs[k][0], pairs[k][1]);
	}
	e[0] = a[0][0], e[1] = a[1][1], e[2] = a[2][2];
	sort3(e);
}

/* The Hessian's eigenvalues at (x, y, z), ascending (e[1] = 0 for a 2D stack: depth 1). */
static void hessian_at(const float *f, size_t W, size_t H, size_t D, size_t x, size_t y,
		       size_t z, double *e)
{
	size_t xo[3], yo[3], zo[3];

	for (int k = 0; k < 3; k++) {
		xo[k] = clampz((ptrdiff_t)x + k - 1, W);
		yo[k] = clampz((ptrdiff_t)y + k - 1, H) * W;
		zo[k] = clampz((ptrdiff_t)z + k - 1, D) * W * H;
	}
#define F(i, j, k) ((double)f[xo[(i) + 1] + yo[(j) + 1] + zo[(k) + 1]])
	double c = F(0, 0, 0);
	double hxx = F(1, 0, 0) - 2 * c + F(-1, 0, 0), hyy = F(0, 1, 0) - 2 * c + F(0, -1, 0);
	double hxy = (F(1, 1, 0) - F(1, -1, 0) - F(-1, 1, 0) + F(-1, -1, 0)) / 4;

	if (D == 1) { /* the 2x2 Hessian of x and y */
		double m = (hxx + hyy) / 2, s = hypot((hxx - hyy) / 2, hxy);

		e[0] = m - s, e[1] = 0, e[2] = m + s;
		return;
	}
	double hzz = F(0, 0, 1) - 2 * c + F(0, 0, -1);
	double hxz = (F(1, 0, 1) - F(1, 0, -1) - F(-1, 0, 1) + F(-1, 0, -1)) / 4;
	double hyz = (F(0, 1, 1) - F(0, 1, -1) - F(0, -1, 1) + F(0, -1, -1)) / 4;
#undef F
	eigen3(hxx, hxy, hxz, hyy, hyz, hzz, e);
}

/*
 * Eigenvalue `which` (0 smallest, 1 middle, 2 largest) of the Hessian of central second
 * differences, borders clamped, f32 out (Jacobi in double; the 2D case's roots in closed form); the comparison's scale (c->cmp_scale) is the largest
 * |eigenvalue| of the stack, of any of the three, which the GPU's float error follows.
 */
static int hessian_ref(const struct op_call *c, int which, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t W, H, D, row;
	double scale = 0;
	float *f, *out;
	int status = ref_check_image_out(c, DT_F32, err);

	if (status != VB_OK || !(f = load_float(c, err)))
		return status != VB_OK ? status : VB_E_NOMEM;
	W = in->width, H = in->height, D = in->depth;
	out = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static) reduction(max : scale)
	for (row = 0; row < H * D; row++) {
		size_t z = row / H, y = row % H;

		for (size_t x = 0; x < W; x++) {
			double e[3], m;

			hessian_at(f, W, H, D, x, y, z, e);
			out[row * W + x] = (float)e[which];
			m = fmax(fabs(e[0]), fabs(e[2]));
			scale = m > scale ? m : scale;
		}
	}
	free(f);
	if (c->cmp_scale)
		*c->cmp_scale = scale;
	return VB_OK;
}

int ref_small_hessian_eigenvalue(const struct op_call *c, struct vb_err *err)
{
	return hessian_ref(c, 0, err);
}

int ref_middle_hessian_eigenvalue(const struct op_call *c, struct vb_err *err)
{
	return hessian_ref(c, 1, err);
}

int ref_large_hessian_eigenvalue(const struct op_call *c, struct vb_err *err)
{
	return hessian_ref(c, 2, err);
}

/* ---- binary sup-inf / inf-sup ---- */

/*
 * The structuring elements, as pyclesperanto 0.25.1's superior_inferior / inferior_superior
 * kernels: in 3D the nine 3x3 planes through the voxel spanned by (u, v), offsets i u + j v with
 * i, j in -1..1 (the three axis planes, then the six diagonal ones); in 2D (depth 1) the four
 * 3-voxel lines along u (v = 0). Vectors are (dx, dy, dz).
 */
static const int planes[9][2][3] = {
	{ { 1, 0, 0 }, { 0, 1, 0 } },  { { 1, 0, 0 }, { 0, 0, 1 } },  { { 0, 1, 0 }, { 0, 0, 1 } },
	{ { 1, 0, 0 }, { 0, 1, 1 } },  { { 0, 1, -1 }, { 1, 0, 0 } }, { { 1, 0, 1 }, { 0, 1, 0 } },
	{ { 1, 0, -1 }, { 0, 1, 0 } }, { { 1, 1, 0 }, { 0, 0, 1 } },  { { 1, -1, 0 }, { 0, 0, 1 } },
};
static const int lines[4][2][3] = {
	{ { 1, 1, 0 }, { 0, 0, 0 } }, { { 0, 1, 0 }, { 0, 0, 0 } },
	{ { -1, 1, 0 }, { 0, 0, 0 } }, { { 1, 0, 0 }, { 0, 0, 0 } },
};

/* 1 where (x, y, z) lies in the stack and its voxel is non-zero; the outside is 0. */
static int in_set(const float *f, ptrdiff_t W, ptrdiff_t H, ptrdiff_t D, ptrdiff_t x,
		  ptrdiff_t y, ptrdiff_t z)
{
	if (x < 0 || y < 0 || z < 0 || x >= W || y >= H || z >= D)
		return 0;
	return f[x + W * (y + H * z)] != 0.0f;
}

/*
 * sup-inf: 1 where some element lies wholly in the set (the largest of the erosions by each);
 * inf-sup: 0 where some element misses the set entirely (the smallest of the dilations by each).
 */
static int sup_inf_ref(const struct op_call *c, int infsup, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t row;
	ptrdiff_t W, H, D;
	uint8_t *out;
	float *f;
	int status = ref_check_image_out(c, DT_U8, err);

	if (status != VB_OK || !(f = load_float(c, err)))
		return status != VB_OK ? status : VB_E_NOMEM;
	W = (ptrdiff_t)in->width, H = (ptrdiff_t)in->height, D = (ptrdiff_t)in->depth;
	out = c->out->data;
#pragma omp parallel for num_threads(ref_nthreads(c)) schedule(static)
	for (row = 0; row < (size_t)(H * D); row++) {
		ptrdiff_t z = (ptrdiff_t)row / H, y = (ptrdiff_t)row % H;
		const int(*el)[2][3] = D == 1 ? lines : planes;
		int count = D == 1 ? 4 : 9;

		for (ptrdiff_t x = 0; x < W; x++) {
			int result = infsup; /* no element decided yet */

			for (int k = 0; k < count && result == infsup; k++) {
				int all = 1, any = 0;

				for (int i = -1; i <= 1; i++)
					for (int j = -1; j <= 1; j++) {
						const int *u = el[k][0], *v = el[k][1];
						int s = in_set(f, W, H, D, x + i * u[0] + j * v[0],
							       y + i * u[1] + j * v[1],
							       z + i * u[2] + j * v[2]);

						all &= s;
						any |= s;
					}
				if (infsup ? !any : all)
					result = !infsup;
			}
			out[row * (size_t)W + (size_t)x] = (uint8_t)result;
		}
	}
	free(f);
	return VB_OK;
}

int ref_binary_supinf(const struct op_call *c, struct vb_err *err)
{
	return sup_inf_ref(c, 0, err);
}

int ref_binary_infsup(const struct op_call *c, struct vb_err *err)
{
	return sup_inf_ref(c, 1, err);
}
