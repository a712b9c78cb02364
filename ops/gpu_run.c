/* ops/gpu_run.c: the gpu_* calls plans use, on top of the device's backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* Build options every program gets: voxel types, the output conversion, the index type. */
static void type_options(const struct gpu_run *r, const struct launch *l, char *out, size_t len)
{
	const char *tout = dtype_cl_name(l->out_type);

	snprintf(out, len,
		 "-DT_IN=%s -DT_OUT=%s -DCONVERT_OUT=convert_%s%s -DIN_IS_FLOAT=%d "
		 "-DOUT_IS_FLOAT=%d -DIDX=%s %s",
		 dtype_cl_name(l->in_type), tout, tout, dtype_is_float(l->out_type) ? "" : "_sat",
		 dtype_is_float(l->in_type), dtype_is_float(l->out_type),
		 r->wide_index ? "ulong" : "uint", l->options);
}

int gpu_launch(struct gpu_run *r, const struct launch *l, struct vb_err *err)
{
	char options[512];

	type_options(r, l, options, sizeof(options));
	return r->dev->backend->launch(r->dev, l, options, r->timed, err);
}

unsigned gpu_compute_units(const struct gpu_run *r)
{
	return r->dev->info.compute_units ? r->dev->info.compute_units : 1u;
}

struct gpu_buf *gpu_input(struct gpu_run *r, int i)
{
	return r->in[i];
}

struct gpu_buf *gpu_output(struct gpu_run *r)
{
	return r->out;
}

int gpu_scratch(struct gpu_run *r, int slot, size_t bytes, struct gpu_buf **out,
		struct vb_err *err)
{
	int status;

	slot += r->scratch_base;
	if (slot < 0 || slot >= RUN_MAX_SCRATCH)
		return vb_errf(err, VB_E_ARGS, "bug: scratch slot %d out of range", slot);
	if (r->scratch[slot] && r->scratch_bytes[slot] != bytes)
		return vb_errf(err, VB_E_ARGS, "bug: scratch slot %d reused with another size", slot);
	if (!r->scratch[slot]) {
		status = r->dev->backend->buf_create(r->dev, bytes, &r->scratch[slot], err);
		if (status)
			return status;
		r->scratch_bytes[slot] = bytes;
	}
	*out = r->scratch[slot];
	return VB_OK;
}

int gpu_constant(struct gpu_run *r, int slot, const void *data, size_t bytes,
		 struct gpu_buf **out, struct vb_err *err)
{
	int abs_slot = slot + r->scratch_base;
	int fresh = abs_slot >= 0 && abs_slot < RUN_MAX_SCRATCH && !r->scratch[abs_slot];
	int status = gpu_scratch(r, slot, bytes, out, err);

	if (status || !fresh)
		return status;
	return r->dev->backend->write(r->dev, *out, data, bytes, err);
}

int gpu_read(struct gpu_run *r, struct gpu_buf *b, void *dst, size_t bytes, struct vb_err *err)
{
	return r->dev->backend->read(r->dev, b, dst, bytes, err);
}

int gpu_write(struct gpu_run *r, struct gpu_buf *b, const void *src, size_t bytes,
	      struct vb_err *err)
{
	return r->dev->backend->write(r->dev, b, src, bytes, err);
}

int gpu_sub_plan(struct gpu_run *r, const struct op_desc *op, const double *params,
		 const struct gpu_operand in[OP_MAX_INPUTS], const struct gpu_operand *out,
		 int scratch_base, struct vb_err *err)
{
	struct gpu_run saved = *r;
	struct op_call c = { .op = op };
	int status;

	if (scratch_base <= 0)
		return vb_errf(err, VB_E_ARGS, "bug: sub-plan %s must use later scratch slots",
			       op->name);
	for (int i = 0; i < op->n_inputs; i++) {
		r->in[i] = in[i].buf;
		c.in[i] = in[i].desc;
	}
	r->out = out->buf;
	r->in_type = in[0].desc->dtype;
	r->out_type = out->desc->dtype;
	r->scratch_base = saved.scratch_base + scratch_base; /* relative: sub-plans nest */
	c.out = (struct stack *)out->desc;
	memcpy(c.p, params, sizeof(c.p));
	status = op->gpu(r, &c, err);
	/* keep the scratch the sub-plan made; restore the rest */
	memcpy(saved.scratch, r->scratch, sizeof(saved.scratch));
	memcpy(saved.scratch_bytes, r->scratch_bytes, sizeof(saved.scratch_bytes));
	*r = saved;
	return status;
}

void gpu_side_value(struct gpu_run *r, struct gpu_buf *b, size_t index)
{
	r->side_buf = b;
	r->side_index = index;
}

int devices_append(struct gpu_device ***devs, size_t *n, struct gpu_device *d, struct vb_err *err)
{
	struct gpu_device **grown = realloc(*devs, (*n + 1) * sizeof(**devs));

	if (!grown)
		return vb_errf(err, VB_E_NOMEM, "out of host memory listing devices");
	grown[(*n)++] = d;
	*devs = grown;
	return VB_OK;
}

size_t launch_group_shape(const struct launch *l, size_t max, size_t local[3])
{
	static const size_t defaults[3][3] = { { 256, 1, 1 }, { 32, 8, 1 }, { 32, 4, 2 } };
	size_t total;

	for (int i = 0; i < 3; i++)
		local[i] = i >= l->dims ? 1 :
			   l->local[0] ? (l->local[i] ? l->local[i] : 1) : defaults[l->dims - 1][i];
	total = local[0] * local[1] * local[2];
	if (l->local[0] && total > max)
		return total;
	while (total > max) {
		int axis = local[2] > 1 ? 2 : local[1] > 1 ? 1 : 0;

		local[axis] /= 2;
		total = local[0] * local[1] * local[2];
	}
	return 0;
}

/* A CPU device's buffers live in this process: room the driver needs besides the buffer. */
#define CPU_DEVICE_MARGIN ((uint64_t)64 << 20)

int device_check_alloc(struct gpu_device *d, size_t bytes, struct vb_err *err)
{
	uint64_t left = vb_address_space_left();
	char hint[160];

	/* PoCL aborts the process when it cannot back a buffer it has handed out: ask first */
	if (!d->is_gpu && left != UINT64_MAX && (uint64_t)bytes + CPU_DEVICE_MARGIN > left)
		return vb_errf(err, VB_E_TOO_BIG, "a %.1f MiB buffer on the CPU device %s does not "
			       "fit the address space left to this process%s", bytes / 1048576.0,
			       d->info.name, vb_memory_limit_hint(hint));
	if (d->info.max_alloc_bytes && bytes > d->info.max_alloc_bytes)
		return vb_errf(err, VB_E_TOO_BIG,
			       "a %.1f MiB buffer exceeds the device's largest allocation "
			       "(CL_DEVICE_MAX_MEM_ALLOC_SIZE %.1f MiB)",
			       bytes / 1048576.0, d->info.max_alloc_bytes / 1048576.0);
	if (d->info.global_mem_bytes && d->bytes_allocated + bytes > d->info.global_mem_bytes)
		return vb_errf(err, VB_E_TOO_BIG,
			       "%.1f MiB more would exceed the device's %.1f MiB of global memory "
			       "(%.1f MiB in use)",
			       bytes / 1048576.0, d->info.global_mem_bytes / 1048576.0,
			       d->bytes_allocated / 1048576.0);
	return VB_OK;
}
