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

/* transpose_*, flip, crop and pad: out(o) = in(map(o)), bit for bit, or the pad value. */
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

/*
 * The resampling reference: one output row per call, typed, with the kernel's float operations
 * one for one. The row's part of each coordinate, fma(m1, y, fma(m2, z, m3)), is the kernel's
 * inner fma, so hoisting it out of the x loop changes no bit.
 */
struct resample {
	const struct stack *in;
	struct stack *out;
	float m[12];
	int n[3];
	int linear;
};

/* The kernel's coordinate along axis a at x, clamped to [-1, n] (defined int conversions). */
static inline float coordinate(const struct resample *r, int a, float row, float x)
{
	return fminf(fmaxf(fmaf(r->m[4 * a], x, row), -1.0f), (float)r->n[a]);
}

static inline int clampi(int v, int n)
{
	return v < 0 ? 0 : v >= n ? n - 1 : v;
}

/* floorf of a coordinate already clamped to [-1, n]: an int conversion, no libm call */
static inline int floor_index(float x)
{
	int i = (int)x;

	return (float)i > x ? i - 1 : i;
}

static inline float lerp(float t, float a, float b)
{
	return fmaf(t, b - a, a);
}

/* A resampled value stored as the kernel stores it: integers rounded to nearest, saturated. */
static inline double store_value(enum dtype t, float v)
{
	return dtype_is_float(t) ? (double)v : dtype_convert_sat(t, roundf(v));
}

/*
 * One row per type. Built twice (target_clones): where the CPU has FMA, fmaf is one
 * instruction instead of a libm call; both are the exact fused operation, so no bit changes.
 */
#define RESAMPLE_ROW(T)                                                                          \
	__attribute__((target_clones("fma", "default"))) static void resample_row_##T(const struct resample *r, size_t oy, size_t oz)             \
	{                                                                                        \
		const T *src = r->in->data;                                                      \
		size_t ow = r->out->width, iw = (size_t)r->n[0], ih = (size_t)r->n[1];           \
		T *dst = (T *)r->out->data + ow * (oy + r->out->height * oz);                    \
		float row[3];                                                                    \
		enum dtype dt = r->out->dtype;                                                   \
                                                                                                 \
		for (int a = 0; a < 3; a++)                                                      \
			row[a] = fmaf(r->m[4 * a + 1], (float)oy,                                \
				      fmaf(r->m[4 * a + 2], (float)oz, r->m[4 * a + 3]));        \
		for (size_t ox = 0; ox < ow; ox++) {                                             \
			float p[3];                                                              \
                                                                                                 \
			for (int a = 0; a < 3; a++)                                              \
				p[a] = coordinate(r, a, row[a], (float)ox);                      \
			if (!r->linear) {                                                        \
				size_t q[3];                                                     \
                                                                                                 \
				for (int a = 0; a < 3; a++)                                      \
					q[a] = (size_t)clampi(floor_index(p[a] + 0.5f), r->n[a]); \
				dst[ox] = src[q[0] + iw * (q[1] + ih * q[2])];                   \
				continue;                                                        \
			}                                                                        \
			float t[3];                                                              \
			size_t i0[3], i1[3];                                                     \
                                                                                                 \
			for (int a = 0; a < 3; a++) {                                            \
				int f = floor_index(p[a]);                                       \
                                                                                                 \
				t[a] = p[a] - (float)f;                                          \
				i0[a] = (size_t)clampi(f, r->n[a]);                              \
				i1[a] = (size_t)clampi(f + 1, r->n[a]);                          \
			}                                                                        \
			const T *r00 = src + iw * (i0[1] + ih * i0[2]);                          \
			const T *r10 = src + iw * (i1[1] + ih * i0[2]);                          \
			const T *r01 = src + iw * (i0[1] + ih * i1[2]);                          \
			const T *r11 = src + iw * (i1[1] + ih * i1[2]);                          \
			float c00 = lerp(t[0], (float)r00[i0[0]], (float)r00[i1[0]]);            \
			float c10 = lerp(t[0], (float)r10[i0[0]], (float)r10[i1[0]]);            \
			float c01 = lerp(t[0], (float)r01[i0[0]], (float)r01[i1[0]]);            \
			float c11 = lerp(t[0], (float)r11[i0[0]], (float)r11[i1[0]]);            \
			float v = lerp(t[2], lerp(t[1], c00, c10), lerp(t[1], c01, c11));        \
                                                                                                 \
			dst[ox] = (T)store_value(dt, v);                                         \
		}                                                                                \
	}
RESAMPLE_ROW(uint8_t)
RESAMPLE_ROW(uint16_t)
RESAMPLE_ROW(uint32_t)
RESAMPLE_ROW(int32_t)
RESAMPLE_ROW(float)
#undef RESAMPLE_ROW

/* translate, scale, rotate and affine_transform: resampling through geom_transform_matrix(). */
int ref_resample(const struct op_call *c, struct vb_err *err)
{
	struct resample r = { .in = c->in[0], .out = c->out };
	size_t oh = c->out->height, od = c->out->depth;
	size_t od3[3] = { c->out->width, oh, od };
	void (*row)(const struct resample *, size_t, size_t) = NULL;

	r.n[0] = (int)r.in->width;
	r.n[1] = (int)r.in->height;
	r.n[2] = (int)r.in->depth;
	r.linear = geom_transform_interp(c) == TRANSFORM_LINEAR;
	geom_transform_matrix(c, od3, r.m);
	switch (r.in->dtype) {
	case DT_U8: row = resample_row_uint8_t; break;
	case DT_U16: row = resample_row_uint16_t; break;
	case DT_U32: row = resample_row_uint32_t; break;
	case DT_I32: row = resample_row_int32_t; break;
	case DT_F32: row = resample_row_float; break;
	default: break;
	}
	if (!row)
		return vb_errf(err, VB_E_ARGS, "%s: unknown dtype %d", ref_op_name(c), (int)r.in->dtype);
#pragma omp parallel for collapse(2) num_threads(ref_nthreads(c)) schedule(static)
	for (size_t oz = 0; oz < od; oz++)
		for (size_t oy = 0; oy < oh; oy++)
			row(&r, oy, oz);
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
