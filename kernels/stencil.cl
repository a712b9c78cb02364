/*
 * kernels/stencil.cl: 3x3x3 derivative stencils (Sobel, Laplace, gradients, the Hessian's
 * eigenvalues) and the subtraction that finishes the composed filters (difference of Gaussians,
 * top hat, ...).
 *
 * One work-item per output voxel; borders clamp to the edge (scipy mode='nearest'; the gradients'
 * clamped neighbour makes numpy.gradient's one-sided end differences). Every stencil
 * is written as a sum of differences of neighbours, so a large constant offset in the input
 * cancels before it can cost precision. Build with -DOP_<name>=1 to pick the stencil.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef T_OUT
#define T_OUT float
#endif
#ifndef T_B
#define T_B float
#endif
#ifndef CONVERT_OUT
#define CONVERT_OUT convert_float
#endif
#ifndef IDX
#define IDX ulong /* the host passes uint when every index fits */
#endif

/*
 * The 3x3x3 neighbourhood of (x, y, z): V(i, j, k) with i, j, k in -1..1 reads the clamped voxel
 * (x+i, y+j, z+k). The row and plane offsets are clamped once.
 */
#define V(i, j, k) ((float)src[xo[(i) + 1] + yo[(j) + 1] + zo[(k) + 1]])
#define NEIGHBOURS_3X3X3                                                                         \
	IDX plane = (IDX)w * (IDX)h;                                                             \
	IDX xo[3], yo[3], zo[3];                                                                 \
	for (int k = 0; k < 3; k++) {                                                            \
		xo[k] = (IDX)clamp(x + k - 1, 0, w - 1);                                         \
		yo[k] = (IDX)clamp(y + k - 1, 0, h - 1) * (IDX)w;                                \
		zo[k] = (IDX)clamp(z + k - 1, 0, d - 1) * plane;                                 \
	}

__kernel void stencil3(__global const T_IN *src, __global T_OUT *dst, const int w, const int h,
		       const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	NEIGHBOURS_3X3X3
	float r;
/* numpy.gradient's: the central difference halved inside, one-sided at both ends (0 where n = 1) */
#define GRADIENT(d, i, n) ((i) == 0 || (i) == (n) - 1 ? (d) : (d) * 0.5f)
#if OP_gradient_x
	r = GRADIENT(V(1, 0, 0) - V(-1, 0, 0), x, w);
#elif OP_gradient_y
	r = GRADIENT(V(0, 1, 0) - V(0, -1, 0), y, h);
#elif OP_gradient_z
	r = GRADIENT(V(0, 0, 1) - V(0, 0, -1), z, d);
#elif OP_laplace_diamond
	float c = V(0, 0, 0);

	r = ((c - V(-1, 0, 0)) + (c - V(1, 0, 0))) + ((c - V(0, -1, 0)) + (c - V(0, 1, 0))) +
	    ((c - V(0, 0, -1)) + (c - V(0, 0, 1)));
#elif OP_laplace_box
	float c = V(0, 0, 0);

	r = 0.0f;
	for (int k = -1; k <= 1; k++)
		for (int j = -1; j <= 1; j++)
			for (int i = -1; i <= 1; i++)
				r += c - V(i, j, k); /* the centre adds 0 */
#else /* OP_sobel: |(Sx, Sy, Sz)|, each axis's derivative [-1 0 1] smoothed by [1 2 1] x [1 2 1] */
	float sx = 0.0f, sy = 0.0f, sz = 0.0f;

	for (int a = -1; a <= 1; a++)
		for (int b = -1; b <= 1; b++) {
			float wt = (float)((2 - a * a) * (2 - b * b));

			sx += wt * (V(1, a, b) - V(-1, a, b));
			sy += wt * (V(a, 1, b) - V(a, -1, b));
			sz += wt * (V(a, b, 1) - V(a, b, -1));
		}
	r = sqrt(sx * sx + sy * sy + sz * sz);
#endif
	dst[(IDX)x + yo[1] + zo[1]] = CONVERT_OUT(r);
}

/* out = a - b in float, then the output conversion; a is T_IN, b is T_B (a build option). */
#ifndef ITEMS
#define ITEMS 4
#endif
__kernel void subtract_ab(__global const T_IN *a, __global const T_B *b, __global T_OUT *out,
			  const ulong n)
{
	IDX stride = (IDX)get_global_size(0);

	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT((float)a[i] - (float)b[i]);
}

/*
 * out = a - a[0] in float (f32 out). The composed Gaussian filters blur this instead of a: their
 * results do not change (the weights sum to 1), but the rounding error of the blurs then scales
 * with the input's variation instead of its magnitude, which a difference of two blurs needs.
 */
__kernel void minus_first(__global const T_IN *a, __global T_OUT *out, const ulong n)
{
	IDX stride = (IDX)get_global_size(0);
	float c = (float)a[0];

	for (IDX k = 0, i = (IDX)get_global_id(0); k < ITEMS; k++, i += stride)
		if (i < n)
			out[i] = CONVERT_OUT((float)a[i] - c);
}

/* ---- the Hessian eigenvalues (ops/rows_stencil4.def) ---- */

#ifndef WHICH
#define WHICH 0 /* the eigenvalue written: 0 smallest, 1 middle, 2 largest */
#endif

/*
 * Eigenvalues of the symmetric 3x3 matrix (a00 a01 a02; a01 a11 a12; a02 a12 a22), ascending.
 * Smith's trigonometric method (Smith 1961): with q = trace / 3 and p the root-mean-square of
 * A - qI, B = (A - qI) / p has det(B) / 2 = r = cos(3 phi), and the eigenvalues are
 * q + 2p cos(phi + 2k pi / 3). Alone, it loses half the float digits where two eigenvalues meet
 * (an error of p * sqrt(ulp) in r's arc cosine splits them), so only the eigenvalue it gets well
 * (the largest when r >= 0, else the smallest: Eberly's robust eigensolver) is kept, and the
 * other two are those of A on the plane orthogonal to its eigenvector: a 2x2 problem whose
 * roots need no cancelling difference. Every eigenvalue is then within a few ulp of the
 * matrix's norm.
 */
void s4_eigen3_unit(float a00, float a01, float a02, float a11, float a12, float a22, float *e)
{
	float off = a01 * a01 + a02 * a02 + a12 * a12;

	if (off == 0.0f) { /* diagonal: the diagonal sorted */
		float lo = fmin(a00, fmin(a11, a22)), hi = fmax(a00, fmax(a11, a22));

		e[0] = lo;
		e[2] = hi;
		e[1] = (a00 + a11 + a22) - lo - hi;
		return;
	}
	float q = (a00 + a11 + a22) / 3.0f;
	float b00 = a00 - q, b11 = a11 - q, b22 = a22 - q;
	float p = sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2.0f * off) / 6.0f);
	float inv = 1.0f / p;
	float c00 = b00 * inv, c11 = b11 * inv, c22 = b22 * inv;
	float c01 = a01 * inv, c02 = a02 * inv, c12 = a12 * inv;
	float r = 0.5f * (c00 * (c11 * c22 - c12 * c12) - c01 * (c01 * c22 - c12 * c02) +
			  c02 * (c01 * c12 - c11 * c02));
	float phi = acos(clamp(r, -1.0f, 1.0f)) / 3.0f;
	/* the isolated eigenvalue: cos has no slope where the other two meet */
	float lambda = r >= 0.0f ? q + 2.0f * p * cos(phi) : q + 2.0f * p * cos(phi + 2.0943951f);
	/* its eigenvector: the longest cross product of two rows of A - lambda I */
	float m00 = a00 - lambda, m11 = a11 - lambda, m22 = a22 - lambda;
	float x0 = a01 * a12 - a02 * m11, x1 = a02 * a01 - m00 * a12, x2 = m00 * m11 - a01 * a01;
	float y0 = a01 * m22 - a02 * a12, y1 = a02 * a02 - m00 * m22, y2 = m00 * a12 - a01 * a02;
	float z0 = m11 * m22 - a12 * a12, z1 = a12 * a02 - a01 * m22, z2 = a01 * a12 - m11 * a02;
	float nx = x0 * x0 + x1 * x1 + x2 * x2, ny = y0 * y0 + y1 * y1 + y2 * y2;
	float nz = z0 * z0 + z1 * z1 + z2 * z2;
	float v0 = x0, v1 = x1, v2 = x2, nv = nx;

	if (ny > nv)
		v0 = y0, v1 = y1, v2 = y2, nv = ny;
	if (nz > nv)
		v0 = z0, v1 = z1, v2 = z2, nv = nz;
	if (!(nv > 0.0f)) { /* A = lambda I to float precision: Smith's three */
		e[2] = q + 2.0f * p * cos(phi);
		e[0] = q + 2.0f * p * cos(phi + 2.0943951f);
		e[1] = clamp(3.0f * q - e[0] - e[2], e[0], e[2]);
		return;
	}
	float s = rsqrt(nv);

	v0 *= s, v1 *= s, v2 *= s;
	/* (u, w): an orthonormal basis of the plane orthogonal to v */
	float u0, u1, u2;

	if (fabs(v0) > fabs(v1)) {
		s = rsqrt(v0 * v0 + v2 * v2);
		u0 = -v2 * s, u1 = 0.0f, u2 = v0 * s;
	} else {
		s = rsqrt(v1 * v1 + v2 * v2);
		u0 = 0.0f, u1 = v2 * s, u2 = -v1 * s;
	}
	float w0 = v1 * u2 - v2 * u1, w1 = v2 * u0 - v0 * u2, w2 = v0 * u1 - v1 * u0;
	/* A u and A w, then the 2x2 matrix of A on the plane */
	float au0 = a00 * u0 + a01 * u1 + a02 * u2, au1 = a01 * u0 + a11 * u1 + a12 * u2;
	float au2 = a02 * u0 + a12 * u1 + a22 * u2;
	float aw0 = a00 * w0 + a01 * w1 + a02 * w2, aw1 = a01 * w0 + a11 * w1 + a12 * w2;
	float aw2 = a02 * w0 + a12 * w1 + a22 * w2;
	float p00 = u0 * au0 + u1 * au1 + u2 * au2, p11 = w0 * aw0 + w1 * aw1 + w2 * aw2;
	float p01 = u0 * aw0 + u1 * aw1 + u2 * aw2;
	float mid = 0.5f * (p00 + p11), dh = 0.5f * (p00 - p11);
	float split = sqrt(dh * dh + p01 * p01);
	float lo = mid - split, hi = mid + split;

	e[0] = fmin(lambda, lo);
	e[2] = fmax(lambda, hi);
	e[1] = clamp(lambda, lo, hi) == lambda ? lambda : lambda < lo ? lo : hi;
}

/* The same for any matrix: solved for A / max |a_ij|, whose squares and cross products neither
 * overflow nor underflow, and scaled back. */
void s4_eigen3(float a00, float a01, float a02, float a11, float a12, float a22, float *e)
{
	float mx = fmax(fmax(fmax(fabs(a00), fabs(a01)), fmax(fabs(a02), fabs(a11))),
			fmax(fabs(a12), fabs(a22)));

	float sum = a00 + a01 + a02 + a11 + a12 + a22;

	if (sum != sum || !(mx > 0.0f)) { /* a NaN (fmax passes it by) stays NaN; 0 stays 0 */
		e[0] = e[1] = e[2] = sum != sum ? sum : 0.0f;
		return;
	}
	float s = 1.0f / mx;

	s4_eigen3_unit(a00 * s, a01 * s, a02 * s, a11 * s, a12 * s, a22 * s, e);
	e[0] *= mx;
	e[1] *= mx;
	e[2] *= mx;
}

/* Eigenvalues of (a00 a01; a01 a11), ascending in e[0] and e[2]; e[1] = 0 (no middle one). */
void s4_eigen2(float a00, float a01, float a11, float *e)
{
	float m = 0.5f * (a00 + a11), h = 0.5f * (a00 - a11);
	float s = sqrt(h * h + a01 * a01);

	e[0] = m - s;
	e[1] = 0.0f;
	e[2] = m + s;
}

/*
 * One eigenvalue (WHICH) of the Hessian of central differences: d2/dx2 = in(x+1) - 2 in(x) +
 * in(x-1), d2/dxdy = (in(x+1,y+1) - in(x+1,y-1) - in(x-1,y+1) + in(x-1,y-1)) / 4 (pyclesperanto's
 * hessian_eigenvalues). A stack of depth 1 is a 2D image: the 2x2 Hessian of x and y.
 */
__kernel void hessian_eigenvalue(__global const T_IN *src, __global T_OUT *dst, const int w,
				 const int h, const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	NEIGHBOURS_3X3X3
	float c = V(0, 0, 0), e[3];
	float hxx = (V(1, 0, 0) - c) - (c - V(-1, 0, 0));
	float hyy = (V(0, 1, 0) - c) - (c - V(0, -1, 0));
	float hxy = ((V(1, 1, 0) - V(1, -1, 0)) - (V(-1, 1, 0) - V(-1, -1, 0))) * 0.25f;

	if (d == 1) {
		s4_eigen2(hxx, hxy, hyy, e);
	} else {
		float hzz = (V(0, 0, 1) - c) - (c - V(0, 0, -1));
		float hxz = ((V(1, 0, 1) - V(1, 0, -1)) - (V(-1, 0, 1) - V(-1, 0, -1))) * 0.25f;
		float hyz = ((V(0, 1, 1) - V(0, 1, -1)) - (V(0, -1, 1) - V(0, -1, -1))) * 0.25f;

		s4_eigen3(hxx, hxy, hxz, hyy, hyz, hzz, e);
	}
	dst[(IDX)x + yo[1] + zo[1]] = CONVERT_OUT(e[WHICH]);
}
