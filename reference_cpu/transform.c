/*
 * reference_cpu/transform.c: transposes, flip, crop, pad, and the resampling ops (translate,
 * scale, rotate, affine_transform). Conventions: ops/geometry.h.
 *
 * The resampling reference does the kernel's float operations one for one (fmaf where the kernel
 * calls fma; C11 mode compiles with -ffp-contract=off, so nothing else fuses), which makes both
 * sides agree bit for bit; tests/test_scipy_transform.py checks it against scipy's double math.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "reference.h"

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
	geom_voxel_map(c, &m);
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
	int linear = geom_transform_interp(c) == TRANSFORM_LINEAR;
	float m[12];

	(void)err;
	geom_transform_matrix(c, od3, m);
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

/* Each transform row's own reference: an integer voxel map or a resampling matrix, by name. */
#define VIA(token, shared)                                                                       \
	int ref_##token(const struct op_call *c, struct vb_err *err)                             \
	{                                                                                        \
		return shared(c, err);                                                           \
	}
VIA(transpose_xy, ref_voxel_gather)
VIA(transpose_xz, ref_voxel_gather)
VIA(transpose_yz, ref_voxel_gather)
VIA(flip, ref_voxel_gather)
VIA(crop, ref_voxel_gather)
VIA(pad, ref_voxel_gather)
VIA(translate, ref_resample)
VIA(scale, ref_resample)
VIA(rotate, ref_resample)
VIA(affine_transform, ref_resample)
#undef VIA
