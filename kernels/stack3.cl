/*
 * kernels/stack3.cl: data movement of ops/rows_stack3.def: strided copies (sub_stack,
 * reduce_stack, range, crop_border), circular shifts and concatenation. Voxels are copied in
 * their own type (T_OUT = T_IN), bit for bit. One work-item per output voxel.
 */
#ifndef T_IN
#define T_IN float
#endif

/* out(x, y, z) = in(sx + kx x, sy + ky y, sz + kz z); the steps may be negative (range). */
__kernel void strided_copy(__global const T_IN *in, __global T_IN *out, const int w, const int h,
			   const int ow, const int oh, const int od, const int sx, const int sy,
			   const int sz, const int kx, const int ky, const int kz)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
	long ix, iy, iz;

	if (x >= ow || y >= oh || z >= od)
		return;
	ix = sx + (long)kx * x;
	iy = sy + (long)ky * y;
	iz = sz + (long)kz * z;
	out[((ulong)z * oh + y) * ow + x] = in[((ulong)iz * h + iy) * w + ix];
}

/* out(x, y, z) = in((x - shx) mod w, ...): numpy.roll; the shifts are in 0 .. size-1. */
__kernel void circular_shift(__global const T_IN *in, __global T_IN *out, const int w,
			     const int h, const int d, const int shx, const int shy,
			     const int shz)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
	int ix, iy, iz;

	if (x >= w || y >= h || z >= d)
		return;
	ix = x >= shx ? x - shx : x - shx + w;
	iy = y >= shy ? y - shy : y - shy + h;
	iz = z >= shz ? z - shz : z - shz + d;
	out[((ulong)z * h + y) * w + x] = in[((ulong)iz * h + iy) * w + ix];
}

/* out = a followed by b along axis (0 x, 1 y, 2 z); a is w x h x d, b as wide along the axis
 * as bn, out as wide as the sum. */
__kernel void concatenate(__global const T_IN *a, __global const T_IN *b, __global T_IN *out,
			  const int w, const int h, const int d, const int axis, const int bn)
{
	int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
	int ow = w + (axis == 0 ? bn : 0), oh = h + (axis == 1 ? bn : 0);
	int od = d + (axis == 2 ? bn : 0);
	int bw = axis == 0 ? bn : w, bh = axis == 1 ? bn : h;
	ulong o;

	if (x >= ow || y >= oh || z >= od)
		return;
	o = ((ulong)z * oh + y) * ow + x;
	if (x < w && y < h && z < d)
		out[o] = a[((ulong)z * h + y) * w + x];
	else
		out[o] = b[((ulong)(z - (axis == 2 ? d : 0)) * bh + (y - (axis == 1 ? h : 0))) * bw +
			   (x - (axis == 0 ? w : 0))];
}
