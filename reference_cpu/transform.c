/*
 * reference_cpu/transform.c: transposes, flip, crop, pad, and the resampling ops (translate,
 * scale, rotate, affine_transform). Conventions: reference_cpu/ref_transform.h.
 *
 * The resampling reference does the kernel's float operations one for one (fmaf where the kernel
 * calls fma; C11 mode compiles with -ffp-contract=off, so nothing else fuses), which makes both
 * sides agree bit for bit; tests/test_scipy_transform.py checks it against scipy's double math.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

static int dims_checked(const struct op_call *c, const double want[3], size_t out[3],
			struct vb_err *err)
{
	double voxels = want[0] * want[1] * want[2];

	for (int a = 0; a < 3; a++)
		if (want[a] > (double)TRANSFORM_MAX_AXIS)
			return vb_errf(err, VB_E_TOO_BIG,
				       "%s would make an output axis of %.0f voxels; at most %llu fit",
				       ref_op_name(c), want[a], TRANSFORM_MAX_AXIS);
	if (voxels > (double)TRANSFORM_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG,
			       "%s would make a %.0fx%.0fx%.0f output (%.3g voxels); at most %llu "
			       "are allowed: use smaller factors or sizes",
			       ref_op_name(c), want[0], want[1], want[2], voxels,
			       TRANSFORM_MAX_VOXELS);
	for (int a = 0; a < 3; a++)
		out[a] = (size_t)want[a];
	return VB_OK;
}

static void in_dims(const struct op_call *c, size_t d[3])
{
	d[0] = c->in[0]->width;
	d[1] = c->in[0]->height;
	d[2] = c->in[0]->depth;
}

int ref_dims_transpose_xy(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->height;
	out[1] = c->in[0]->width;
	out[2] = c->in[0]->depth;
	return VB_OK;
}

int ref_dims_transpose_xz(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->depth;
	out[1] = c->in[0]->height;
	out[2] = c->in[0]->width;
	return VB_OK;
}

int ref_dims_transpose_yz(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->width;
	out[1] = c->in[0]->depth;
	out[2] = c->in[0]->height;
	return VB_OK;
}

int ref_dims_crop(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	static const char *const start[3] = { "start_x", "start_y", "start_z" };
	static const char *const size[3] = { "width", "height", "depth" };
	size_t n[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		double s = op_param(c, start[a]), w = op_param(c, size[a]);

		if (s + w > (double)n[a])
			return vb_errf(err, VB_E_ARGS,
				       "crop %s=%.0f %s=%.0f ends at %.0f, outside the stack's %zu "
				       "voxels along %c: lower them",
				       start[a], s, size[a], w, s + w, n[a], "xyz"[a]);
		out[a] = (size_t)w;
	}
	return VB_OK;
}

int ref_dims_pad(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	size_t n[3];
	double want[3];

	in_dims(c, n);
	want[0] = (double)n[0] + op_param(c, "size_x");
	want[1] = (double)n[1] + op_param(c, "size_y");
	want[2] = (double)n[2] + op_param(c, "size_z");
	return dims_checked(c, want, out, err);
}

/* auto_size: round(n * factor) per axis, at least 1; else the input's dims. */
int ref_dims_scale(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	static const char *const factor[3] = { "factor_x", "factor_y", "factor_z" };
	int resize = op_param(c, "auto_size") != 0;
	size_t n[3];
	double want[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		want[a] = resize ? floor((double)n[a] * op_param(c, factor[a]) + 0.5) : (double)n[a];
		want[a] = want[a] < 1 ? 1 : want[a];
	}
	return dims_checked(c, want, out, err);
}

void ref_voxel_map(const struct op_call *c, struct voxel_map *m)
{
	const char *name = c->op->name;
	size_t n[3];

	in_dims(c, n);
	*m = (struct voxel_map){ .perm = { 0, 1, 2 }, .sign = { 1, 1, 1 } };
	if (strcmp(name, "transpose_xy") == 0) {
		m->perm[0] = 1;
		m->perm[1] = 0;
	} else if (strcmp(name, "transpose_xz") == 0) {
		m->perm[0] = 2;
		m->perm[2] = 0;
	} else if (strcmp(name, "transpose_yz") == 0) {
		m->perm[1] = 2;
		m->perm[2] = 1;
	} else if (strcmp(name, "flip") == 0) {
		static const char *const flip[3] = { "flip_x", "flip_y", "flip_z" };

		for (int a = 0; a < 3; a++)
			if (op_param(c, flip[a]) != 0) {
				m->sign[a] = -1;
				m->off[a] = (int64_t)n[a] - 1;
			}
	} else if (strcmp(name, "crop") == 0) {
		m->off[0] = (int64_t)op_param(c, "start_x");
		m->off[1] = (int64_t)op_param(c, "start_y");
		m->off[2] = (int64_t)op_param(c, "start_z");
	} else if (strcmp(name, "pad") == 0) {
		static const char *const size[3] = { "size_x", "size_y", "size_z" };
		int center = op_param(c, "center") != 0;

		/* centred: floor(size / 2) before the data, the rest after; else all after */
		for (int a = 0; a < 3; a++)
			m->off[a] = center ? -((int64_t)op_param(c, size[a]) / 2) : 0;
		m->pad = (float)op_param(c, "value");
	}
}

int ref_voxel_gather(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t es = dtype_size(in->dtype), ow = out->width, oh = out->height, od = out->depth;
	int64_t n[3] = { (int64_t)in->width, (int64_t)in->height, (int64_t)in->depth };
	const unsigned char *src = in->data;
	unsigned char *dst = out->data;
	unsigned char pad[8];
	struct voxel_map m;

	(void)err;
	ref_voxel_map(c, &m);
	/* the pad voxel, as the kernel's CONVERT_OUT((float)value) makes it */
	{
		struct stack one = { .width = 1, .height = 1, .depth = 1, .dtype = in->dtype,
				     .data = pad };
		stack_set(&one, 0, dtype_convert_sat(in->dtype, m.pad));
	}
#pragma omp parallel for collapse(2) num_threads(ref_nthreads(c)) schedule(static)
	for (size_t oz = 0; oz < od; oz++)
		for (size_t oy = 0; oy < oh; oy++) {
			for (size_t ox = 0; ox < ow; ox++) {
				int64_t o[3] = { (int64_t)ox, (int64_t)oy, (int64_t)oz }, p[3];
				size_t di = ox + ow * (oy + oh * oz);
				int inside = 1;

				for (int a = 0; a < 3; a++) {
					p[a] = m.sign[a] * o[m.perm[a]] + m.off[a];
					inside &= p[a] >= 0 && p[a] < n[a];
				}
				if (inside)
					memcpy(dst + di * es,
					       src + ((size_t)p[0] + in->width * ((size_t)p[1] +
						       in->height * (size_t)p[2])) * es, es);
				else
					memcpy(dst + di * es, pad, es);
			}
		}
	return VB_OK;
}

int ref_transform_interp(const struct op_call *c)
{
	return (int)op_param(c, "interpolation");
}

/* out = a b (3x3, row-major). */
static void mat3_mul(const double a[9], const double b[9], double out[9])
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] +
					 a[3 * i + 2] * b[6 + j];
}

/*
 * rotate: the forward rotation R = Rz Ry Rx (x first) about the stack centre, each right-handed
 * (Rz turns +x toward +y, Rx +y toward +z, Ry +z toward +x); sampling uses R^-1 = R^T.
 */
static void rotation_inverse(const struct op_call *c, double inv[9])
{
	const double deg = 3.14159265358979323846 / 180.0;
	double ax = op_param(c, "angle_x") * deg, ay = op_param(c, "angle_y") * deg;
	double az = op_param(c, "angle_z") * deg;
	double rx[9] = { 1, 0, 0, 0, cos(ax), -sin(ax), 0, sin(ax), cos(ax) };
	double ry[9] = { cos(ay), 0, sin(ay), 0, 1, 0, -sin(ay), 0, cos(ay) };
	double rz[9] = { cos(az), -sin(az), 0, sin(az), cos(az), 0, 0, 0, 1 };
	double zy[9], r[9];

	mat3_mul(rz, ry, zy);
	mat3_mul(zy, rx, r);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			inv[3 * i + j] = r[3 * j + i];
}

void ref_transform_matrix(const struct op_call *c, const size_t out_dims[3], float m[12])
{
	const char *name = c->op->name;
	double a[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, t[3] = { 0, 0, 0 }, cin[3], cout[3];
	size_t n[3];

	in_dims(c, n);
	for (int i = 0; i < 3; i++) {
		cin[i] = ((double)n[i] - 1) / 2;
		cout[i] = ((double)out_dims[i] - 1) / 2;
	}
	if (strcmp(name, "translate") == 0) {
		t[0] = -op_param(c, "translate_x");
		t[1] = -op_param(c, "translate_y");
		t[2] = -op_param(c, "translate_z");
	} else if (strcmp(name, "affine_transform") == 0) {
		static const char *const names[12] = { "m00", "m01", "m02", "m03", "m10", "m11",
						       "m12", "m13", "m20", "m21", "m22", "m23" };
		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 3; j++)
				a[3 * i + j] = op_param(c, names[4 * i + j]);
			t[i] = op_param(c, names[4 * i + 3]);
		}
	} else {
		/* about the centres: in = cin + A (out - cout) */
		if (strcmp(name, "scale") == 0) {
			a[0] = 1 / op_param(c, "factor_x");
			a[4] = 1 / op_param(c, "factor_y");
			a[8] = 1 / op_param(c, "factor_z");
		} else {
			rotation_inverse(c, a);
		}
		for (int i = 0; i < 3; i++)
			t[i] = cin[i] - (a[3 * i] * cout[0] + a[3 * i + 1] * cout[1] +
					 a[3 * i + 2] * cout[2]);
	}
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			m[4 * i + j] = (float)a[3 * i + j];
		m[4 * i + 3] = (float)t[i];
	}
}

/* Voxel i of s as float (convert_float of the kernel). */
static float voxel_float(const struct stack *s, size_t i)
{
	switch (s->dtype) {
	case DT_U8: return (float)((const uint8_t *)s->data)[i];
	case DT_U16: return (float)((const uint16_t *)s->data)[i];
	case DT_U32: return (float)((const uint32_t *)s->data)[i];
	case DT_I32: return (float)((const int32_t *)s->data)[i];
	default: return ((const float *)s->data)[i];
	}
}

/* The kernel's coordinate: clamped to [-1, n] first so that the int conversion is defined. */
static float coordinate(const float *row, float ox, float oy, float oz, int n)
{
	float x = fmaf(row[0], ox, fmaf(row[1], oy, fmaf(row[2], oz, row[3])));

	return fminf(fmaxf(x, -1.0f), (float)n);
}

static int clampi(int v, int n)
{
	return v < 0 ? 0 : v >= n ? n - 1 : v;
}

static float lerp(float t, float a, float b)
{
	return fmaf(t, b - a, a);
}

/* Trilinear sample at p (already clamped to [-1, n] per axis). */
static float sample_linear(const struct stack *in, const float p[3], const int n[3])
{
	int i0[3], i1[3];
	float t[3], v[8];

	for (int a = 0; a < 3; a++) {
		float f = floorf(p[a]);

		t[a] = p[a] - f;
		i0[a] = clampi((int)f, n[a]);
		i1[a] = clampi((int)f + 1, n[a]);
	}
	for (int k = 0; k < 8; k++) {
		size_t x = (size_t)(k & 1 ? i1[0] : i0[0]), y = (size_t)(k & 2 ? i1[1] : i0[1]);
		size_t z = (size_t)(k & 4 ? i1[2] : i0[2]);

		v[k] = voxel_float(in, x + in->width * (y + in->height * z));
	}
	return lerp(t[2], lerp(t[1], lerp(t[0], v[0], v[1]), lerp(t[0], v[2], v[3])),
		    lerp(t[1], lerp(t[0], v[4], v[5]), lerp(t[0], v[6], v[7])));
}

int ref_resample(const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct stack *out = c->out;
	size_t es = dtype_size(in->dtype), ow = out->width, oh = out->height, od = out->depth;
	size_t od3[3] = { ow, oh, od };
	int n[3] = { (int)in->width, (int)in->height, (int)in->depth };
	int linear = ref_transform_interp(c) == TRANSFORM_LINEAR;
	float m[12];

	(void)err;
	ref_transform_matrix(c, od3, m);
#pragma omp parallel for collapse(2) num_threads(ref_nthreads(c)) schedule(static)
	for (size_t oz = 0; oz < od; oz++)
		for (size_t oy = 0; oy < oh; oy++) {
			for (size_t ox = 0; ox < ow; ox++) {
				size_t di = ox + ow * (oy + oh * oz);
				float p[3];
				size_t q[3];

				for (int a = 0; a < 3; a++)
					p[a] = coordinate(m + 4 * a, (float)ox, (float)oy, (float)oz,
							  n[a]);
				if (linear) {
					stack_set(out, di, dtype_convert_sat(out->dtype,
									     sample_linear(in, p, n)));
					continue;
				}
				for (int a = 0; a < 3; a++)
					q[a] = (size_t)clampi((int)floorf(p[a] + 0.5f), n[a]);
				memcpy((unsigned char *)out->data + di * es,
				       (const unsigned char *)in->data +
					       (q[0] + in->width * (q[1] + in->height * q[2])) * es,
				       es);
			}
		}
	return VB_OK;
}
