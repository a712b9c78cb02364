/* ops/gpu_run.c: the gpu_* calls plans use, on top of the device's backend. */
#include <stdio.h>
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
	int fresh = slot >= 0 && slot < RUN_MAX_SCRATCH && !r->scratch[slot];
	int status = gpu_scratch(r, slot, bytes, out, err);

	if (status || !fresh)
		return status;
	return r->dev->backend->write(r->dev, *out, data, bytes, err);
}

int device_check_alloc(struct gpu_device *d, size_t bytes, struct vb_err *err)
{
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
