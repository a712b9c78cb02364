/*
 * ops/gpu.h: the backend-neutral GPU layer plans are written in: kernel launches, device
 * buffers, sub-plans (implemented per backend behind ops/backend.h). Audience: the plans
 * (through ops/plans.h) and the backends.
 */
#ifndef VB_GPU_H
#define VB_GPU_H

#include <stdint.h>

#include "op.h"

struct gpu_buf;

enum karg_kind { KARG_BUF, KARG_I32, KARG_U64, KARG_F32 };
struct karg {
	enum karg_kind kind;
	union {
		struct gpu_buf *buf;
		int32_t i32;
		uint64_t u64;
		float f32;
	} v;
};
#define KBUF(b) ((struct karg){ .kind = KARG_BUF, .v.buf = (b) })
#define KI32(x) ((struct karg){ .kind = KARG_I32, .v.i32 = (int32_t)(x) })
#define KU64(x) ((struct karg){ .kind = KARG_U64, .v.u64 = (uint64_t)(x) })
#define KF32(x) ((struct karg){ .kind = KARG_F32, .v.f32 = (float)(x) })

#define LAUNCH_MAX_ARGS 16

/*
 * One kernel launch. The program is kernels/<program>.cl, built with
 *   -DT_IN=<cl type of in_type> -DT_OUT=<cl type of out_type> -DCONVERT_OUT=convert_<t>[_sat]
 *   -DIN_IS_FLOAT=0|1 -DOUT_IS_FLOAT=0|1 plus `options`.
 * global[] is the work-item count per axis (rounded up to local[] by the backend; kernels check
 * bounds); local[] = {0} lets the backend choose.
 */
struct launch {
	const char *program;
	const char *kernel;
	enum dtype in_type, out_type;
	char options[256];
	int dims;
	size_t global[3];
	size_t local[3];
	int nargs;
	struct karg args[LAUNCH_MAX_ARGS];
};

int gpu_launch(struct gpu_run *r, const struct launch *l, struct vb_err *err);
/* The device's compute units (SMs, cores), at least 1: for plans that bound work in flight. */
unsigned gpu_compute_units(const struct gpu_run *r);
struct gpu_buf *gpu_input(struct gpu_run *r, int i);
struct gpu_buf *gpu_output(struct gpu_run *r);
/* A device buffer kept across the repetitions of one op (allocated on first use, by slot). */
int gpu_scratch(struct gpu_run *r, int slot, size_t bytes, struct gpu_buf **out,
		struct vb_err *err);
/* Like gpu_scratch, filled once from host data (filter weights and other constants). */
int gpu_constant(struct gpu_run *r, int slot, const void *data, size_t bytes,
		 struct gpu_buf **out, struct vb_err *err);
/*
 * Blocking read of a device buffer in the middle of a plan (iterative algorithms that test for
 * convergence). The host round trip counts in the op's time: the span runs from the first
 * launch's start to the last one's end.
 */
int gpu_read(struct gpu_run *r, struct gpu_buf *b, void *dst, size_t bytes, struct vb_err *err);
/* Blocking write of host data into a device buffer (an upload the op's time does not count). */
int gpu_write(struct gpu_run *r, struct gpu_buf *b, const void *src, size_t bytes,
	      struct vb_err *err);
/*
 * Run another op's plan inside this one (difference_of_gaussian runs gaussian_blur twice): its
 * inputs and output are device buffers with a stack (data NULL) describing dims and dtype, its
 * parameters in that op's spec order. scratch_base (> 0) is relative to the caller's own slots
 * and must exceed the ones it uses: the sub-plan's slot s is the caller's scratch_base + s, so
 * sub-plans nest (RUN_MAX_SCRATCH in all, ops/backend.h).
 */
struct gpu_operand {
	struct gpu_buf *buf;
	const struct stack *desc;
};
int gpu_sub_plan(struct gpu_run *r, const struct op_desc *op, const double *params,
		 const struct gpu_operand in[OP_MAX_INPUTS], const struct gpu_operand *out,
		 int scratch_base, struct vb_err *err);
/* The op's side value is the f32 at float index `index` of b once the plan has finished. */
void gpu_side_value(struct gpu_run *r, struct gpu_buf *b, size_t index);

#endif
