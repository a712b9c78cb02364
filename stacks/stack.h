/*
 * stacks/stack.h: the volume type, dtypes, sizes and the synthetic stack generator.
 *
 * A stack is WIDTH x HEIGHT x DEPTH voxels (x, y, z) of one dtype, contiguous with x fastest:
 * voxel (x, y, z) is at index x + width * (y + height * z). Sizes are written WIDTHxHEIGHTxDEPTH.
 */
#ifndef VB_STACK_H
#define VB_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/vb.h"

enum dtype { DT_U8, DT_U16, DT_U32, DT_I32, DT_F32, DT_COUNT };

#define DT_BIT(t) (1u << (t))
#define DT_ALL (DT_BIT(DT_U8) | DT_BIT(DT_U16) | DT_BIT(DT_U32) | DT_BIT(DT_I32) | DT_BIT(DT_F32))

struct stack {
	size_t width, height, depth;
	enum dtype dtype;
	void *data;             /* width*height*depth voxels, owned by the stack */
	char name[32];          /* generator or file kind: "blobs", "noise", "binary", "labels", "file" */
	char source[512];       /* how it was made: "synthetic seed=42" or a file path */
	double voxel_size[3];   /* x, y, z in `unit`; 1 when unknown */
	char unit[16];
};

const char *dtype_name(enum dtype t);                /* "u8", "u16", "u32", "i32", "f32" */
int dtype_parse(const char *text, enum dtype *out);  /* VB_OK or VB_E_ARGS */
size_t dtype_size(enum dtype t);
const char *dtype_cl_name(enum dtype t);             /* OpenCL C type: "uchar", "ushort", ... */
int dtype_is_float(enum dtype t);
/* Smallest and largest value the type holds (for saturation); f32: -FLT_MAX, FLT_MAX. */
double dtype_min(enum dtype t);
double dtype_max(enum dtype t);

/*
 * Parse "WxHxD" (also "WxH" = depth 1, "N" = a cube) into dims. Rejects empty parts, zero,
 * signs, junk and sizes whose voxel count overflows; err says what is accepted.
 */
int size_parse(const char *text, size_t dims[3], struct vb_err *err);

size_t stack_voxels(const struct stack *s);
size_t stack_bytes(const struct stack *s);

/*
 * Allocate a zeroed stack. Refuses (VB_E_TOO_BIG, with a clear message) sizes whose byte count
 * overflows size_t or exceeds the host's available memory. `s` is fully initialised on success.
 */
int stack_alloc(struct stack *s, size_t width, size_t height, size_t depth, enum dtype t,
		struct vb_err *err);
void stack_free(struct stack *s);
/* Zero n bytes at p on `threads` threads: a fresh allocation's pages are faulted in by every core
 * at once (one core alone took 35 s of a run on the H200 for its outputs' pages). */
void vb_parallel_zero(void *p, size_t n, int threads);

/*
 * switch (dtype) with one case per dtype, each running the statements after T with T the voxel's C
 * type (uint8_t .. float); an unknown dtype does nothing. The statements may declare variables.
 */
#define STACK_SWITCH_DTYPE(dtype, T, ...)                                                          \
	switch (dtype) {                                                                         \
	case DT_U8: { typedef uint8_t T; __VA_ARGS__ break; }                                    \
	case DT_U16: { typedef uint16_t T; __VA_ARGS__ break; }                                  \
	case DT_U32: { typedef uint32_t T; __VA_ARGS__ break; }                                  \
	case DT_I32: { typedef int32_t T; __VA_ARGS__ break; }                                   \
	case DT_F32: { typedef float T; __VA_ARGS__ break; }                                     \
	default: break;                                                                          \
	}

/* Voxel i as double; store a double into voxel i (integers: NaN -> 0, toward zero, saturated). */
static inline double stack_get(const struct stack *s, size_t i)
{
	/* inline: loops over every voxel call it, and the dtype's branch is the same each time */
	switch (s->dtype) {
	case DT_U8: return ((const uint8_t *)s->data)[i];
	case DT_U16: return ((const uint16_t *)s->data)[i];
	case DT_U32: return ((const uint32_t *)s->data)[i];
	case DT_I32: return ((const int32_t *)s->data)[i];
	case DT_F32: return ((const float *)s->data)[i];
	default: return __builtin_nan("");
	}
}
void stack_set(struct stack *s, size_t i, double v);

/*
 * The conversion every op uses to write a computed float into its output type, identical to
 * OpenCL's convert_<type>_sat on a float: NaN -> 0, round toward zero, saturate at the type's
 * range. f32 output stores the value unchanged.
 */
double dtype_convert_sat(enum dtype t, float v);

/* Synthetic stacks: the table of generators (name, help). */
struct synth_kind {
	const char *name;
	const char *help;
};
extern const struct synth_kind synth_kinds[];
extern const size_t synth_kind_count;

/*
 * Fill a new stack with a deterministic synthetic image: the same (kind, size, dtype, seed)
 * always gives the same voxels, on every machine and thread count.
 *   blobs  - Gaussian spheres of random centre, radius and brightness, plus noise (microscopy-like)
 *   noise  - uniform noise over the dtype's useful range
 *   binary - blobs thresholded to 0/1
 *   labels - connected blobs numbered 1..N, background 0
 * Values are scaled to the dtype (u8 0..255, u16 0..65535 range used partly, f32 0..1000, ...).
 */
int synth_generate(struct stack *out, const char *kind, size_t width, size_t height,
		   size_t depth, enum dtype t, uint64_t seed, struct vb_err *err);

#endif
