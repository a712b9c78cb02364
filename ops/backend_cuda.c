/*
 * ops/backend_cuda.c: the CUDA backend. The same kernels/<name>.cl the OpenCL backend builds,
 * compiled by NVRTC behind the CUDA preamble (kernels/cuda_preamble.h) and run through the driver
 * API of ops/cuda_api.h (no CUDA runtime library): devices, buffers, modules (cached on disk),
 * launches with the plans' geometry, and event timing.
 *
 * Everything runs on the legacy default stream of each device's primary context: launches,
 * copies and events are then ordered without extra synchronisation, and event times are not
 * stretched by other streams (cuEventElapsedTime's own caveat).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const struct gpu_backend cuda_backend;

#ifdef VB_HAVE_CUDA
#include "cuda_api.h"

/* Turn a failed driver call into VB_E_DEVICE naming the error and where it happened. */
#define CU_FAIL(err, code, what)                                                                 \
	vb_errf(err, VB_E_DEVICE, "%s (%d) in %s:%d while %s", cuda_error_name(code), (int)(code), \
		__func__, __LINE__, what)

struct gpu_buf {
	CUdeviceptr ptr;
	size_t bytes;
};

struct built_function {
	CUmodule module;
	char name[64];
	CUfunction fn;
	int max_threads; /* the kernel's own limit: its registers may allow fewer than the device's */
	int params_checked;
};

struct cu_device_impl {
	CUdevice device;
	CUcontext context; /* the primary context, shared with any other CUDA user in the process */
	char arch[32];     /* NVRTC target: "sm_90" or "compute_90" */
	int max_block[3], max_grid[3];
	CUevent start, end;
	int timed; /* timed launches since the last finish */
	struct built_table modules; /* of CUmodule */
	struct built_function *functions;
	size_t nfunctions;
};

static struct cu_device_impl *impl_of(struct gpu_device *d)
{
	return d->impl;
}

static int make_current(struct gpu_device *d, struct vb_err *err)
{
	CUresult rc = cu.cuCtxSetCurrent(impl_of(d)->context);

	return rc == CUDA_SUCCESS ? VB_OK : CU_FAIL(err, rc, "making the device's context current");
}

static int attribute(CUdevice dev, CUdevice_attribute what)
{
	int v = 0;

	if (cu.cuDeviceGetAttribute(&v, what, dev) != CUDA_SUCCESS)
		v = 0;
	return v;
}

/* "580.159.04": the kernel module's version, the number users know their driver by. */
static void kernel_module_version(char *out, size_t len)
{
	char line[512], *save = NULL, *tok;
	FILE *f = fopen("/proc/driver/nvidia/version", "r");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			if (isdigit((unsigned char)tok[0]) && strchr(tok, '.')) {
				snprintf(out, len, "%s", tok);
				break;
			}
		}
	}
	fclose(f);
}

static void fill_info(struct gpu_device *d)
{
	struct cu_device_impl *impl = impl_of(d);
	struct device_info *info = &d->info;
	char module[64];
	size_t mem = 0;
	int v = cu.driver_version;

	snprintf(info->backend, sizeof(info->backend), "cuda");
	snprintf(info->platform, sizeof(info->platform), "CUDA driver API, NVRTC %d.%d (%s)",
		 nvrtc.major, nvrtc.minor, impl->arch);
	if (cu.cuDeviceGetName(info->name, sizeof(info->name), impl->device) != CUDA_SUCCESS)
		snprintf(info->name, sizeof(info->name), "CUDA device");
	snprintf(info->vendor, sizeof(info->vendor), "NVIDIA Corporation");
	kernel_module_version(module, sizeof(module));
	snprintf(info->driver_version, sizeof(info->driver_version), "%s%sCUDA %d.%d%s", module,
		 module[0] ? " (" : "", v / 1000, v % 1000 / 10, module[0] ? ")" : "");
	snprintf(info->type, sizeof(info->type), "gpu");
	d->is_gpu = 1;
	if (cu.cuDeviceTotalMem(&mem, impl->device) != CUDA_SUCCESS)
		mem = 0;
	info->global_mem_bytes = mem;
	info->max_alloc_bytes = mem; /* no per-allocation limit below the memory itself */
	info->local_mem_bytes =
		(uint64_t)attribute(impl->device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
	info->compute_units = (unsigned)attribute(impl->device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
	info->max_clock_mhz = (unsigned)attribute(impl->device, CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1000;
}

static void device_limits(struct cu_device_impl *impl)
{
	static const CUdevice_attribute block[3] = { CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X,
						     CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y,
						     CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z };
	static const CUdevice_attribute grid[3] = { CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X,
						    CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y,
						    CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z };

	for (int i = 0; i < 3; i++) {
		impl->max_block[i] = attribute(impl->device, block[i]);
		impl->max_grid[i] = attribute(impl->device, grid[i]);
	}
}

static void release_impl(struct cu_device_impl *impl)
{
	if (impl->context && cu.cuCtxSetCurrent(impl->context) == CUDA_SUCCESS) {
		if (impl->start)
			cu.cuEventDestroy(impl->start);
		if (impl->end)
			cu.cuEventDestroy(impl->end);
	}
	if (impl->context)
		cu.cuDevicePrimaryCtxRelease(impl->device);
}

/* Context, NVRTC target and timing events of device `ordinal`. */
static int open_device(int ordinal, struct gpu_device **out, struct vb_err *err)
{
	struct gpu_device *d = calloc(1, sizeof(*d));
	struct cu_device_impl *impl = calloc(1, sizeof(*impl));
	CUresult rc;
	int status;

	if (!d || !impl) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory opening a CUDA device");
		goto out;
	}
	d->backend = &cuda_backend;
	d->impl = impl;
	rc = cu.cuDeviceGet(&impl->device, ordinal);
	if (rc == CUDA_SUCCESS)
		rc = cu.cuDevicePrimaryCtxRetain(&impl->context, impl->device);
	if (rc != CUDA_SUCCESS) {
		status = CU_FAIL(err, rc, "opening a CUDA device");
		goto out;
	}
	status = cuda_choose_arch(attribute(impl->device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
				  attribute(impl->device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
				  impl->arch, sizeof(impl->arch), err);
	if (status)
		goto out;
	fill_info(d);
	device_limits(impl);
	rc = cu.cuCtxSetCurrent(impl->context);
	if (rc == CUDA_SUCCESS)
		rc = cu.cuEventCreate(&impl->start, CU_EVENT_DEFAULT);
	if (rc == CUDA_SUCCESS)
		rc = cu.cuEventCreate(&impl->end, CU_EVENT_DEFAULT);
	if (rc != CUDA_SUCCESS) {
		status = CU_FAIL(err, rc, "creating timing events");
		goto out;
	}
	*out = d;
	return VB_OK;
out:
	if (impl)
		release_impl(impl);
	free(impl);
	free(d);
	return status;
}

static void cu_close(struct gpu_device *d);

/* The driver initialised and NVRTC loaded: VB_E_NOLOADER (a backend that cannot run) else. */
static int cu_start(struct vb_err *err)
{
	CUresult rc;
	int status = cu_api_load(err);

	if (status)
		return status;
	rc = cu.cuInit(0);
	if (rc == CUDA_ERROR_NO_DEVICE)
		return VB_OK;
	if (rc != CUDA_SUCCESS)
		return vb_errf(err, VB_E_NOLOADER,
			       "CUDA: cuInit failed with %s (%d) (driver %s); run 'voxbench probe' "
			       "to see why",
			       cuda_error_name(rc), (int)rc, cu.path);
	return nvrtc_api_load(cu.driver_version / 1000, err);
}

static int cu_enumerate(struct gpu_device ***devs, size_t *n, struct vb_err *err)
{
	struct vb_err why = { "" };
	int count = 0, opened = 0, status = cu_start(err);
	CUresult rc;

	if (status)
		return status;
	rc = cu.cuDeviceGetCount(&count);
	if (rc == CUDA_ERROR_NO_DEVICE || rc == CUDA_ERROR_NOT_INITIALIZED)
		return VB_OK; /* cuInit found no device */
	if (rc != CUDA_SUCCESS)
		return vb_errf(err, VB_E_NOLOADER, "CUDA: %s (%d) counting devices; run 'voxbench "
			       "probe' to see why", cuda_error_name(rc), (int)rc);
	for (int i = 0; i < count; i++) {
		struct gpu_device *d = NULL;

		/* a device that cannot be opened is left out; if all are, the last reason is kept */
		if (open_device(i, &d, &why))
			continue;
		status = devices_append(devs, n, d, err);
		if (status) {
			cu_close(d);
			return status;
		}
		opened++;
	}
	if (count > 0 && !opened)
		return vb_errf(err, VB_E_NOLOADER, "%s", why.msg);
	return VB_OK;
}

static void unload_module(void *module)
{
	cu.cuModuleUnload(module);
}

static void cu_close(struct gpu_device *d)
{
	struct cu_device_impl *impl = impl_of(d);

	/* modules unload only inside their context; without it, just forget them */
	built_table_free(&impl->modules,
			 cu.cuCtxSetCurrent(impl->context) == CUDA_SUCCESS ? unload_module : NULL);
	free(impl->functions);
	release_impl(impl);
	free(impl);
	free(d);
}

static int cu_buf_create(struct gpu_device *d, size_t bytes, struct gpu_buf **out,
			 struct vb_err *err)
{
	struct gpu_buf *b;
	CUresult rc;
	int status = device_check_alloc(d, bytes, err);

	if (status || (status = make_current(d, err)))
		return status;
	b = calloc(1, sizeof(*b));
	if (!b)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	rc = cu.cuMemAlloc(&b->ptr, bytes ? bytes : 1);
	if (rc != CUDA_SUCCESS) {
		free(b);
		if (rc == CUDA_ERROR_OUT_OF_MEMORY)
			return vb_errf(err, VB_E_TOO_BIG, "%s (%d) allocating %zu bytes on %s",
				       cuda_error_name(rc), (int)rc, bytes, d->info.name);
		return CU_FAIL(err, rc, "allocating a buffer");
	}
	b->bytes = bytes;
	d->bytes_allocated += bytes;
	*out = b;
	return VB_OK;
}

static void cu_buf_release(struct gpu_device *d, struct gpu_buf *b)
{
	if (!b)
		return;
	if (cu.cuCtxSetCurrent(impl_of(d)->context) == CUDA_SUCCESS)
		cu.cuMemFree(b->ptr);
	d->bytes_allocated -= b->bytes;
	free(b);
}

/* Plain copies: the runner page-locks the host stacks first where it can (cu_host_register). */
static int cu_write(struct gpu_device *d, struct gpu_buf *b, const void *src, size_t bytes,
		    struct vb_err *err)
{
	CUresult rc;
	int status = make_current(d, err);

	if (status || bytes == 0)
		return status;
	rc = cu.cuMemcpyHtoD(b->ptr, src, bytes);
	return rc == CUDA_SUCCESS ? VB_OK : CU_FAIL(err, rc, "uploading a buffer");
}

static int cu_read(struct gpu_device *d, struct gpu_buf *b, void *dst, size_t bytes,
		   struct vb_err *err)
{
	CUresult rc;
	int status = make_current(d, err);

	if (status || bytes == 0)
		return status;
	rc = cu.cuMemcpyDtoH(dst, b->ptr, bytes);
	return rc == CUDA_SUCCESS ? VB_OK : CU_FAIL(err, rc, "downloading a buffer");
}

static int cu_host_register(struct gpu_device *d, void *ptr, size_t bytes, struct vb_err *err)
{
	CUresult rc;
	int status = make_current(d, err);

	if (status)
		return status;
	rc = cu.cuMemHostRegister(ptr, bytes, 0);
	return rc == CUDA_SUCCESS ? VB_OK : CU_FAIL(err, rc, "page-locking host memory");
}

static void cu_host_unregister(struct gpu_device *d, void *ptr)
{
	struct vb_err ignored;

	if (make_current(d, &ignored) == VB_OK)
		cu.cuMemHostUnregister(ptr);
}

static void *cu_staging_alloc(struct gpu_device *d, size_t bytes, struct vb_err *err)
{
	void *ptr = NULL;
	CUresult rc;

	if (make_current(d, err))
		return NULL;
	rc = cu.cuMemAllocHost(&ptr, bytes ? bytes : 1);
	if (rc != CUDA_SUCCESS) {
		CU_FAIL(err, rc, "allocating page-locked host memory");
		return NULL;
	}
	return ptr;
}

static void cu_staging_free(struct gpu_device *d, void *ptr)
{
	struct vb_err ignored;

	if (ptr && make_current(d, &ignored) == VB_OK)
		cu.cuMemFreeHost(ptr);
}

/* Load a cubin or PTX image; the driver's own log (PTX compile errors) lands in log. */
static CUresult load_image(const unsigned char *image, CUmodule *module, char *log, size_t len)
{
	CUjit_option opts[2] = { CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES };
	void *values[2] = { log, (void *)(uintptr_t)len };

	log[0] = '\0';
	return cu.cuModuleLoadDataEx(module, image, 2, opts, values);
}

static int load_failure(struct gpu_device *d, CUresult rc, const char *name, const char *log,
			struct vb_err *err)
{
	const char *hint = rc == CUDA_ERROR_UNSUPPORTED_PTX_VERSION ||
					   rc == CUDA_ERROR_NO_BINARY_FOR_GPU ||
					   rc == CUDA_ERROR_INVALID_IMAGE ?
				   "; the driver is older than NVRTC: update the driver or point "
				   "VOXBENCH_NVRTC_LIBRARY at an older NVRTC" :
				   "";

	return vb_errf(err, VB_E_BUILD, "%s (%d) loading kernels/%s.cl built for %s (NVRTC %d.%d) "
		       "into driver %s%s%s%s", cuda_error_name(rc), (int)rc, name,
		       impl_of(d)->arch, nvrtc.major, nvrtc.minor, d->info.driver_version, hint,
		       log[0] ? ": " : "", log);
}

/* The cache key: every input of the image, the driver and both versions included. */
static void module_key(struct gpu_device *d, const char *source, const char *options,
		       char key[33])
{
	char nvrtc_version[32];
	const char *parts[9];

	snprintf(nvrtc_version, sizeof(nvrtc_version), "%d.%d", nvrtc.major, nvrtc.minor);
	parts[0] = "cuda";
	parts[1] = cuda_preamble;
	parts[2] = source;
	parts[3] = options;
	parts[4] = impl_of(d)->arch;
	parts[5] = d->info.name;
	parts[6] = d->info.driver_version;
	parts[7] = nvrtc_version;
	parts[8] = VOXBENCH_VERSION;
	program_cache_key(parts, 9, key);
}

/* The module from the disk cache: 1 when it was there and this driver took it. */
static int load_cached_module(const char *key, CUmodule *module, char *log, size_t len)
{
	unsigned char *image = NULL;
	size_t size = 0;
	int loaded = program_cache_load(key, &image, &size) == VB_OK &&
		     load_image(image, module, log, len) == CUDA_SUCCESS;

	free(image);
	return loaded;
}

static int build_module(struct gpu_device *d, const char *name, const char *options,
			CUmodule *module, struct vb_err *err)
{
	const char *source = kernel_source(name, err);
	unsigned char *image = NULL;
	char key[33], log[2048];
	double t0 = vb_now_ms();
	size_t len = 0;
	CUresult rc;
	int status = VB_OK, mine = 0, loaded;

	if (!source)
		return VB_E_ARGS;
	module_key(d, source, options, key);
	loaded = load_cached_module(key, module, log, sizeof(log));
	if (!loaded) { /* absent or rejected: a compile thread may be building it, wait, look again */
		mine = program_cache_claim(key);
		loaded = load_cached_module(key, module, log, sizeof(log));
	}
	if (loaded) {
		d->programs_cached++;
		goto out;
	}
	status = cuda_compile(name, source, options, impl_of(d)->arch, &image, &len, err);
	if (status)
		goto out;
	rc = load_image(image, module, log, sizeof(log));
	if (rc != CUDA_SUCCESS) {
		status = load_failure(d, rc, name, log, err);
		goto out;
	}
	d->programs_built++;
	program_cache_store(key, image, len);
out:
	if (mine)
		program_cache_release(key);
	if (status == VB_OK)
		d->compile_ms += vb_now_ms() - t0;
	free(image);
	return status;
}

/* Compile into the disk cache only (backend.h): NVRTC needs no context, so threads may share. */
static int cu_precompile(struct gpu_device *d, const char *name, const char *options,
			 struct vb_err *err)
{
	const char *source = kernel_source(name, err);
	unsigned char *image = NULL;
	size_t len = 0;
	char key[33];
	int status;

	if (!source)
		return VB_E_ARGS;
	module_key(d, source, options, key);
	if (!program_cache_claim_absent(key))
		return VB_OK;
	status = cuda_compile(name, source, options, impl_of(d)->arch, &image, &len, err);
	if (status == VB_OK)
		program_cache_store(key, image, len);
	program_cache_release(key);
	free(image);
	return status;
}

/* The module for (name, options), built once per process and device. */
static int get_module(struct gpu_device *d, const char *name, const char *options,
		      CUmodule *out, struct vb_err *err)
{
	struct cu_device_impl *impl = impl_of(d);
	int status;

	*out = built_table_find(&impl->modules, name, options);
	if (*out)
		return VB_OK;
	status = build_module(d, name, options, out, err);
	if (status == VB_OK && (status = built_table_add(&impl->modules, name, options, *out, err)))
		cu.cuModuleUnload(*out);
	return status;
}

static int get_function(struct gpu_device *d, const struct launch *l, const char *options,
			struct built_function **out, struct vb_err *err)
{
	struct cu_device_impl *impl = impl_of(d);
	struct built_function *grown, *f;
	CUmodule module = NULL;
	CUresult rc;
	int status = get_module(d, l->program, options, &module, err);

	if (status)
		return status;
	for (size_t i = 0; i < impl->nfunctions; i++) {
		if (impl->functions[i].module == module && strcmp(impl->functions[i].name, l->kernel) == 0) {
			*out = &impl->functions[i];
			return VB_OK;
		}
	}
	grown = realloc(impl->functions, (impl->nfunctions + 1) * sizeof(*grown));
	if (!grown)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	impl->functions = grown;
	f = &grown[impl->nfunctions];
	rc = cu.cuModuleGetFunction(&f->fn, module, l->kernel);
	if (rc == CUDA_SUCCESS)
		rc = cu.cuFuncGetAttribute(&f->max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
					   f->fn);
	if (rc != CUDA_SUCCESS)
		return vb_errf(err, VB_E_DEVICE, "%s (%d) finding kernel %s of kernels/%s.cl",
			       cuda_error_name(rc), (int)rc, l->kernel, l->program);
	f->module = module;
	snprintf(f->name, sizeof(f->name), "%s", l->kernel);
	impl->nfunctions++;
	*out = f;
	return VB_OK;
}

/* Block shape within the kernel's own limit (launch_group_shape, as OpenCL's work-groups). */
static int choose_block(const struct gpu_device *d, const struct built_function *f,
			const struct launch *l, size_t local[3], struct vb_err *err)
{
	size_t max = f->max_threads > 0 ? (size_t)f->max_threads : 256;
	size_t need = launch_group_shape(l, max, local);

	if (need)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s needs blocks of %zu threads; %s allows %zu for this kernel",
			       l->kernel, need, d->info.name, max);
	return VB_OK;
}

/* Grid = ceil(global / block) per axis: the OpenCL NDRange rounded up the same way. */
static int launch_shape(struct gpu_device *d, const struct built_function *f,
			const struct launch *l, unsigned block[3], unsigned grid[3],
			struct vb_err *err)
{
	static const char axes[3] = { 'x', 'y', 'z' };
	struct cu_device_impl *impl = impl_of(d);
	size_t local[3];
	int status = choose_block(d, f, l, local, err);

	if (status)
		return status;
	for (int i = 0; i < 3; i++) {
		size_t global = i < l->dims ? l->global[i] : 1;
		size_t blocks = (global + local[i] - 1) / local[i];

		if ((impl->max_block[i] && local[i] > (size_t)impl->max_block[i]) ||
		    (impl->max_grid[i] && blocks > (size_t)impl->max_grid[i]))
			return vb_errf(err, VB_E_UNSUPPORTED,
				       "%s: %zu blocks of %zu threads along %c exceed %s's limits "
				       "(%d blocks, %d threads)",
				       l->kernel, blocks, local[i], axes[i], d->info.name,
				       impl->max_grid[i], impl->max_block[i]);
		block[i] = (unsigned)local[i];
		grid[i] = (unsigned)blocks;
	}
	return VB_OK;
}

/* Kernel parameters: pointers to each value, buffers as their CUdeviceptr. */
static void kernel_params(const struct launch *l, void *params[LAUNCH_MAX_ARGS])
{
	for (int i = 0; i < l->nargs && i < LAUNCH_MAX_ARGS; i++) {
		const struct karg *a = &l->args[i];

		switch (a->kind) {
		case KARG_BUF: params[i] = (void *)&a->v.buf->ptr; break;
		case KARG_I32: params[i] = (void *)&a->v.i32; break;
		case KARG_U64: params[i] = (void *)&a->v.u64; break;
		case KARG_F32: params[i] = (void *)&a->v.f32; break;
		}
	}
}

#if CUDA_VERSION >= 12040
static size_t karg_size(const struct karg *a)
{
	switch (a->kind) {
	case KARG_BUF: return sizeof(CUdeviceptr);
	case KARG_I32: return sizeof(int32_t);
	case KARG_U64: return sizeof(uint64_t);
	case KARG_F32: return sizeof(float);
	}
	return 0;
}
#endif

/*
 * The plan's arguments against the kernel's parameters, once per kernel: OpenCL refuses a wrong
 * count or size, cuLaunchKernel would read garbage. Skipped where the driver cannot tell (< 12.4).
 */
static int check_params(struct built_function *f, const struct launch *l, struct vb_err *err)
{
#if CUDA_VERSION >= 12040
	size_t offset, size;

	if (f->params_checked || !cu.cuFuncGetParamInfo)
		return VB_OK;
	for (int i = 0; i < l->nargs; i++) {
		if (cu.cuFuncGetParamInfo(f->fn, (size_t)i, &offset, &size) != CUDA_SUCCESS)
			return vb_errf(err, VB_E_ARGS, "bug: %s (kernels/%s.cl) takes %d parameters; "
				       "the plan passes %d", l->kernel, l->program, i, l->nargs);
		if (size != karg_size(&l->args[i]))
			return vb_errf(err, VB_E_ARGS, "bug: parameter %d of %s (kernels/%s.cl) is "
				       "%zu bytes; the plan passes %zu", i, l->kernel, l->program, size,
				       karg_size(&l->args[i]));
	}
	if (cu.cuFuncGetParamInfo(f->fn, (size_t)l->nargs, &offset, &size) == CUDA_SUCCESS)
		return vb_errf(err, VB_E_ARGS, "bug: %s (kernels/%s.cl) takes more than the %d "
			       "parameters the plan passes", l->kernel, l->program, l->nargs);
#else
	(void)l, (void)err;
#endif
	f->params_checked = 1;
	return VB_OK;
}

static int cu_launch(struct gpu_device *d, const struct launch *l, const char *options, int timed,
		     struct vb_err *err)
{
	struct cu_device_impl *impl = impl_of(d);
	struct built_function *f = NULL;
	void *params[LAUNCH_MAX_ARGS] = { NULL };
	unsigned block[3], grid[3];
	CUresult rc;
	int status = make_current(d, err);

	if (status || (status = get_function(d, l, options, &f, err)) ||
	    (status = check_params(f, l, err)) || (status = launch_shape(d, f, l, block, grid, err)))
		return status;
	kernel_params(l, params);
	/* start before the first timed launch, end after the last: the span cl_finish measures */
	if (timed && !impl->timed && (rc = cu.cuEventRecord(impl->start, NULL)) != CUDA_SUCCESS)
		return CU_FAIL(err, rc, "recording a timing event");
	rc = cu.cuLaunchKernel(f->fn, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0,
			       NULL, params, NULL);
	if (rc != CUDA_SUCCESS)
		return vb_errf(err, VB_E_DEVICE, "%s (%d) launching %s (kernels/%s.cl)",
			       cuda_error_name(rc), (int)rc, l->kernel, l->program);
	if (!timed)
		return VB_OK;
	rc = cu.cuEventRecord(impl->end, NULL);
	if (rc != CUDA_SUCCESS)
		return CU_FAIL(err, rc, "recording a timing event");
	impl->timed++;
	return VB_OK;
}

static int cu_finish(struct gpu_device *d, double *span_ms, struct vb_err *err)
{
	struct cu_device_impl *impl = impl_of(d);
	int timed = impl->timed, status = make_current(d, err);
	float ms = 0;
	CUresult rc;

	*span_ms = NAN;
	impl->timed = 0;
	if (status)
		return status;
	/* kernel faults surface here, by name (CUDA_ERROR_ILLEGAL_ADDRESS...) */
	rc = cu.cuCtxSynchronize();
	if (rc != CUDA_SUCCESS)
		return CU_FAIL(err, rc, "waiting for the device");
	if (!timed)
		return VB_OK;
	rc = cu.cuEventElapsedTime(&ms, impl->start, impl->end);
	if (rc != CUDA_SUCCESS)
		return CU_FAIL(err, rc, "reading kernel timestamps");
	*span_ms = ms;
	return VB_OK;
}

const struct gpu_backend cuda_backend = {
	.name = "cuda",
	.enumerate = cu_enumerate,
	.close = cu_close,
	.buf_create = cu_buf_create,
	.buf_release = cu_buf_release,
	.write = cu_write,
	.read = cu_read,
	.host_register = cu_host_register,
	.host_unregister = cu_host_unregister,
	.staging_alloc = cu_staging_alloc,
	.staging_free = cu_staging_free,
	.launch = cu_launch,
	.finish = cu_finish,
	.precompile = cu_precompile,
};

#else

/* Built without the CUDA headers: the backend exists and says so, so --backend cuda explains. */
static int cu_enumerate_absent(struct gpu_device ***devs, size_t *n, struct vb_err *err)
{
	(void)devs;
	(void)n;
	return vb_errf(err, VB_E_NOLOADER,
		       "CUDA: this voxbench was built without the CUDA backend (no CUDA headers at "
		       "build time, or make CUDA=0); rebuild it where the CUDA toolkit is installed, "
		       "or use --backend opencl");
}

const struct gpu_backend cuda_backend = {
	.name = "cuda",
	.enumerate = cu_enumerate_absent,
};

#endif
