/*
 * kernels/stencil.cl: 3x3x3 derivative stencils (Sobel, Laplace, gradients) and the subtraction
 * that finishes the composed filters (difference of Gaussians, top hat, ...).
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

__kernel void stencil3(__global const T_IN *src, __global T_OUT *dst, const int w, const int h,
		       const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	IDX plane = (IDX)w * (IDX)h;
	IDX xo[3], yo[3], zo[3];

	for (int k = 0; k < 3; k++) {
		xo[k] = (IDX)clamp(x + k - 1, 0, w - 1);
		yo[k] = (IDX)clamp(y + k - 1, 0, h - 1) * (IDX)w;
		zo[k] = (IDX)clamp(z + k - 1, 0, d - 1) * plane;
	}
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
