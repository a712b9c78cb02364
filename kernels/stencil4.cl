/*
 * kernels/stencil4.cl: the binary sup-inf / inf-sup of line and plane structuring elements
 * (ops/rows_stencil4.def), one work-item per output voxel, the outside read as 0. The Hessian
 * eigenvalues of the same rows are 3x3x3 stencils: kernels/stencil.cl.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef T_OUT
#define T_OUT float
#endif
#ifndef CONVERT_OUT
#define CONVERT_OUT convert_float
#endif
#ifndef IDX
#define IDX ulong /* the host passes uint when every index fits */
#endif

/*
 * Structuring element k through the voxel: the offsets i u + j v, i, j in -1..1. In 3D the nine
 * 3x3 planes of pyclesperanto's superior_inferior / inferior_superior (the three axis planes and
 * the six diagonal ones: morphological snakes' P); in 2D (depth 1) the four 3-voxel lines
 * (horizontal, vertical, both diagonals), v = 0.
 */
void s4_basis(int k, int planar, int *u, int *v)
{
	u[0] = u[1] = u[2] = v[0] = v[1] = v[2] = 0;
	if (planar) {
		u[0] = k == 1 ? 0 : k == 2 ? -1 : 1;
		u[1] = k == 3 ? 0 : 1;
		return;
	}
	switch (k) {
	case 0: u[0] = 1; v[1] = 1; break;
	case 1: u[0] = 1; v[2] = 1; break;
	case 2: u[1] = 1; v[2] = 1; break;
	case 3: u[0] = 1; v[1] = 1; v[2] = 1; break;
	case 4: u[1] = 1; u[2] = -1; v[0] = 1; break;
	case 5: u[0] = 1; u[2] = 1; v[1] = 1; break;
	case 6: u[0] = 1; u[2] = -1; v[1] = 1; break;
	case 7: u[0] = 1; u[1] = 1; v[2] = 1; break;
	default: u[0] = 1; u[1] = -1; v[2] = 1; break;
	}
}

/* 1 where the voxel (x, y, z) is inside the stack and non-zero; the outside is 0. */
int s4_set(__global const T_IN *src, int x, int y, int z, int w, int h, int d)
{
	if (x < 0 || y < 0 || z < 0 || x >= w || y >= h || z >= d)
		return 0;
	return (float)src[(IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z)] != 0.0f;
}

/*
 * binary_supinf (INFSUP 0): 1 where some structuring element lies wholly in the set (the
 * largest of the erosions by each). binary_infsup (INFSUP 1): 1 unless some element misses the
 * set entirely (the smallest of the dilations by each). u8 0/1 out.
 */
#ifndef INFSUP
#define INFSUP 0
#endif
__kernel void sup_inf(__global const T_IN *src, __global T_OUT *dst, const int w, const int h,
		      const int d)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);

	if (x >= w || y >= h || z >= d)
		return;
	int planar = d == 1, elements = planar ? 4 : 9, result = INFSUP;

	for (int k = 0; k < elements && result == INFSUP; k++) {
		int u[3], v[3], all = 1, any = 0;

		s4_basis(k, planar, u, v);
		for (int i = -1; i <= 1; i++)
			for (int j = -1; j <= 1; j++) {
				int s = s4_set(src, x + i * u[0] + j * v[0], y + i * u[1] + j * v[1],
					       z + i * u[2] + j * v[2], w, h, d);

				all &= s;
				any |= s;
			}
		/* sup-inf: one element wholly in the set decides 1; inf-sup: one wholly out, 0 */
		if (INFSUP ? !any : all)
			result = !INFSUP;
	}
	dst[(IDX)x + (IDX)w * ((IDX)y + (IDX)h * (IDX)z)] = CONVERT_OUT((float)result);
}
