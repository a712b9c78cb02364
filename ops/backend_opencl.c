/*
 * ops/backend_opencl.c: the OpenCL backend: devices, buffers, programs (cached), launches and
 * event timing, all through the dlopen'd table of ops/opencl_api.h.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "opencl_api.h"

/* Turn a failed OpenCL call into VB_E_DEVICE naming the error and where it happened. */
#define CL_FAIL(err, code, what)                                                                 \
	vb_errf(err, VB_E_DEVICE, "%s (%d) in %s:%d while %s", cl_error_name(code), (int)(code), \
		__func__, __LINE__, what)

struct gpu_buf {
	cl_mem mem;
	size_t bytes;
};

struct built_kernel {
	cl_program program;
	char name[64];
	cl_kernel kernel;
};

struct cl_device_impl {
	cl_device_id device;
	cl_context context;
	cl_command_queue queue;
	size_t max_work_group;
	char platform_version[256];
	struct built_table programs; /* of cl_program */
	/* programs the compile threads built, until a launch takes them: loading the binary again
	 * costs the driver's compiler a second time (serialised with every other build) */
	struct built_table ahead;
	pthread_mutex_t ahead_lock;
	struct built_kernel *kernels;
	size_t nkernels;
	cl_event *events;
	size_t nevents, cap_events;
	cl_mem staging;      /* CL_MEM_ALLOC_HOST_PTR buffer behind the staging pointer */
	void *staging_ptr;   /* its mapping: page-locked host memory on most GPU drivers */
};

static struct cl_device_impl *impl_of(struct gpu_device *d)
{
	return d->impl;
}

/* The device's report fields (ops/opencl_api.c), plus what launches and the cache key need. */
static void fill_info(struct gpu_device *d, cl_platform_id platform, cl_device_id dev)
{
	struct cl_device_impl *impl = impl_of(d);
	size_t max_wg = (size_t)cl_device_number(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(size_t));

	cl_device_info_fill(dev, &d->info, NULL);
	d->is_gpu = strcmp(d->info.type, "gpu") == 0;
	impl->max_work_group = max_wg ? max_wg : 64;
	cl.clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof(impl->platform_version),
			     impl->platform_version, NULL);
	impl->platform_version[sizeof(impl->platform_version) - 1] = '\0';
}

static int open_device(cl_platform_id platform, cl_device_id dev, struct gpu_device **out,
		       struct vb_err *err)
{
	struct gpu_device *d = calloc(1, sizeof(*d));
	struct cl_device_impl *impl = calloc(1, sizeof(*impl));
	cl_int rc;
	int status = VB_OK;

	if (!d || !impl) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory opening an OpenCL device");
		goto out;
	}
	d->backend = &opencl_backend;
	d->impl = impl;
	impl->device = dev;
	pthread_mutex_init(&impl->ahead_lock, NULL);
	fill_info(d, platform, dev);
	impl->context = cl.clCreateContext(NULL, 1, &dev, NULL, NULL, &rc);
	if (rc != CL_SUCCESS) {
		status = CL_FAIL(err, rc, "creating a context");
		goto out;
	}
	impl->queue = cl.clCreateCommandQueue(impl->context, dev, CL_QUEUE_PROFILING_ENABLE, &rc);
	if (rc != CL_SUCCESS) {
		status = CL_FAIL(err, rc, "creating a profiling queue");
		goto out;
	}
	*out = d;
	return VB_OK;
out:
	if (impl && impl->context)
		cl.clReleaseContext(impl->context);
	free(impl);
	free(d);
	return status;
}

static int cl_enumerate(struct gpu_device ***devs, size_t *n, struct vb_err *err)
{
	cl_platform_id platforms[32];
	cl_uint nplatforms = 0;
	cl_int rc;
	int status = cl_api_load(err);

	if (status)
		return status;
	rc = cl.clGetPlatformIDs(32, platforms, &nplatforms);
	if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the loader found no vendor */ ||
	    nplatforms == 0)
		return VB_OK;
	if (rc != CL_SUCCESS)
		return CL_FAIL(err, rc, "listing OpenCL platforms");
	for (cl_uint p = 0; p < nplatforms && p < 32; p++) {
		cl_device_id ids[64];
		cl_uint nids = 0;

		if (cl.clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 64, ids, &nids) != CL_SUCCESS)
			continue;
		for (cl_uint i = 0; i < nids && i < 64; i++) {
			struct gpu_device *d = NULL;
			struct vb_err ignored;

			/* a device that cannot give a context is left out; probe explains why */
			if (open_device(platforms[p], ids[i], &d, &ignored))
				continue;
			status = devices_append(devs, n, d, err);
			if (status)
				return status;
		}
	}
	return VB_OK;
}

static void release_program(void *program)
{
	cl.clReleaseProgram(program);
}

static void cl_close(struct gpu_device *d)
{
	struct cl_device_impl *impl = impl_of(d);

	for (size_t i = 0; i < impl->nkernels; i++)
		cl.clReleaseKernel(impl->kernels[i].kernel);
	built_table_free(&impl->programs, release_program);
	built_table_free(&impl->ahead, release_program);
	pthread_mutex_destroy(&impl->ahead_lock);
	for (size_t i = 0; i < impl->nevents; i++)
		cl.clReleaseEvent(impl->events[i]);
	free(impl->kernels);
	free(impl->events);
	cl.clReleaseCommandQueue(impl->queue);
	cl.clReleaseContext(impl->context);
	free(impl);
	free(d);
}

/*
 * OpenCL has no call to page-lock memory: a buffer the driver allocates in host memory
 * (CL_MEM_ALLOC_HOST_PTR), mapped, is the usual way to get it; reads into it run at DMA speed.
 */
static void *cl_staging_alloc(struct gpu_device *d, size_t bytes, struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	cl_int rc;

	if (impl->staging)
		return NULL; /* one at a time */
	impl->staging = cl.clCreateBuffer(impl->context, CL_MEM_ALLOC_HOST_PTR | CL_MEM_READ_WRITE,
					  bytes ? bytes : 1, NULL, &rc);
	if (rc != CL_SUCCESS) {
		impl->staging = NULL;
		CL_FAIL(err, rc, "allocating host memory for downloads");
		return NULL;
	}
	impl->staging_ptr = cl.clEnqueueMapBuffer(impl->queue, impl->staging, CL_TRUE,
						  CL_MAP_READ | CL_MAP_WRITE, 0, bytes ? bytes : 1,
						  0, NULL, NULL, &rc);
	if (rc != CL_SUCCESS) {
		cl.clReleaseMemObject(impl->staging);
		impl->staging = NULL;
		impl->staging_ptr = NULL;
		CL_FAIL(err, rc, "mapping host memory for downloads");
	}
	return impl->staging_ptr;
}

static void cl_staging_free(struct gpu_device *d, void *ptr)
{
	struct cl_device_impl *impl = impl_of(d);

	if (!impl->staging || ptr != impl->staging_ptr)
		return;
	cl.clEnqueueUnmapMemObject(impl->queue, impl->staging, ptr, 0, NULL, NULL);
	cl.clFinish(impl->queue);
	cl.clReleaseMemObject(impl->staging);
	impl->staging = NULL;
	impl->staging_ptr = NULL;
}

static int cl_buf_create(struct gpu_device *d, size_t bytes, struct gpu_buf **out,
			 struct vb_err *err)
{
	struct gpu_buf *b;
	cl_int rc;
	int status = device_check_alloc(d, bytes, err);

	if (status)
		return status;
	b = calloc(1, sizeof(*b));
	if (!b)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	b->mem = cl.clCreateBuffer(impl_of(d)->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL,
				   &rc);
	if (rc != CL_SUCCESS) {
		free(b);
		if (rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_RESOURCES)
			return vb_errf(err, VB_E_TOO_BIG, "%s (%d) allocating %zu bytes on %s",
				       cl_error_name(rc), rc, bytes, d->info.name);
		return CL_FAIL(err, rc, "creating a buffer");
	}
	b->bytes = bytes;
	d->bytes_allocated += bytes;
	*out = b;
	return VB_OK;
}

static void cl_buf_release(struct gpu_device *d, struct gpu_buf *b)
{
	if (!b)
		return;
	cl.clReleaseMemObject(b->mem);
	d->bytes_allocated -= b->bytes;
	free(b);
}

static int cl_write(struct gpu_device *d, struct gpu_buf *b, const void *src, size_t bytes,
		    struct vb_err *err)
{
	cl_int rc = cl.clEnqueueWriteBuffer(impl_of(d)->queue, b->mem, CL_TRUE, 0, bytes, src, 0,
					    NULL, NULL);

	return rc == CL_SUCCESS ? VB_OK : CL_FAIL(err, rc, "uploading a buffer");
}

static int cl_read(struct gpu_device *d, struct gpu_buf *b, void *dst, size_t bytes,
		   struct vb_err *err)
{
	cl_int rc = cl.clEnqueueReadBuffer(impl_of(d)->queue, b->mem, CL_TRUE, 0, bytes, dst, 0,
					   NULL, NULL);

	return rc == CL_SUCCESS ? VB_OK : CL_FAIL(err, rc, "downloading a buffer");
}

/* The build log of a failed build, into err. */
static int build_failure(struct gpu_device *d, cl_program program, const char *name,
			 const char *options, cl_int rc, struct vb_err *err)
{
	char log[3000] = "";

	cl.clGetProgramBuildInfo(program, impl_of(d)->device, CL_PROGRAM_BUILD_LOG, sizeof(log),
				 log, NULL);
	log[sizeof(log) - 1] = '\0';
	return vb_errf(err, VB_E_BUILD, "%s (%d) building kernels/%s.cl with '%s': %s",
		       cl_error_name(rc), rc, name, options, log);
}

/* Save the program's binary in the disk cache. */
static void store_binary(struct gpu_device *d, cl_program program, const char *key)
{
	size_t size = 0;
	unsigned char *binary;

	(void)d;
	if (cl.clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, NULL) !=
		    CL_SUCCESS || size == 0)
		return;
	binary = malloc(size);
	if (binary && cl.clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(binary), &binary,
					  NULL) == CL_SUCCESS)
		program_cache_store(key, binary, size);
	free(binary);
}

/* A program from the disk cache, or NULL when absent or rejected by the driver. */
static cl_program load_cached(struct gpu_device *d, const char *key, const char *options)
{
	struct cl_device_impl *impl = impl_of(d);
	unsigned char *binary;
	size_t len;
	cl_int rc, binary_status;
	cl_program program = NULL;

	if (program_cache_load(key, &binary, &len))
		return NULL;
	program = cl.clCreateProgramWithBinary(impl->context, 1, &impl->device, &len,
					       (const unsigned char **)&binary, &binary_status, &rc);
	free(binary);
	if (rc != CL_SUCCESS)
		return NULL;
	if (cl.clBuildProgram(program, 1, &impl->device, options, NULL, NULL) != CL_SUCCESS) {
		cl.clReleaseProgram(program);
		return NULL;
	}
	return program;
}

/* The disk cache's key of a program: everything that changes its binary. */
static void program_key(struct gpu_device *d, const char *source, const char *options,
			char key[33])
{
	const char *parts[] = { "opencl", source, options, d->info.name, d->info.driver_version,
				impl_of(d)->platform_version, VOXBENCH_VERSION };

	program_cache_key(parts, sizeof(parts) / sizeof(parts[0]), key);
}

/* Keep a program built ahead for the launch that will need it (NULL: nothing to keep). */
static void keep_ahead(struct cl_device_impl *impl, const char *name, const char *options,
		       cl_program program)
{
	struct vb_err ignored;
	int kept;

	if (!program)
		return;
	pthread_mutex_lock(&impl->ahead_lock);
	kept = built_table_add(&impl->ahead, name, options, program, &ignored) == VB_OK;
	pthread_mutex_unlock(&impl->ahead_lock);
	if (!kept)
		cl.clReleaseProgram(program);
}

/* The program a compile thread built for (name, options), now the caller's, or NULL. */
static cl_program take_ahead(struct cl_device_impl *impl, const char *name, const char *options)
{
	cl_program program;

	pthread_mutex_lock(&impl->ahead_lock);
	program = built_table_take(&impl->ahead, name, options);
	pthread_mutex_unlock(&impl->ahead_lock);
	return program;
}

/* Build into the disk cache, and keep the program for its launch (take_ahead). */
static int cl_precompile(struct gpu_device *d, const char *name, const char *options,
			 struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	const char *source = kernel_source(name, err);
	cl_program program;
	char key[33];
	cl_int rc;

	if (!source)
		return VB_E_ARGS;
	program_key(d, source, options, key);
	if (!program_cache_claim_absent(key))
		return VB_OK;
	program = cl.clCreateProgramWithSource(impl->context, 1, &source, NULL, &rc);
	if (rc == CL_SUCCESS) {
		rc = cl.clBuildProgram(program, 1, &impl->device, options, NULL, NULL);
		if (rc == CL_SUCCESS)
			store_binary(d, program, key);
		keep_ahead(impl, name, options, rc == CL_SUCCESS ? program : NULL);
		if (rc != CL_SUCCESS)
			cl.clReleaseProgram(program);
	}
	program_cache_release(key);
	return rc == CL_SUCCESS ? VB_OK : CL_FAIL(err, rc, "building a program ahead");
}

static int build_program(struct gpu_device *d, const char *name, const char *options,
			 cl_program *out, struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	const char *source = kernel_source(name, err);
	char key[33];
	double t0 = vb_now_ms();
	cl_program program = NULL;
	cl_int rc;
	int mine = 0, status = VB_OK;

	if (!source)
		return VB_E_ARGS;
	program_key(d, source, options, key);
	program = take_ahead(impl, name, options);
	if (!program)
		program = load_cached(d, key, options);
	if (!program) { /* a compile thread may be building it: wait for that, then take it */
		mine = program_cache_claim(key);
		if (!(program = take_ahead(impl, name, options)))
			program = load_cached(d, key, options);
	}
	if (program) {
		d->programs_cached++;
		goto out;
	}
	program = cl.clCreateProgramWithSource(impl->context, 1, &source, NULL, &rc);
	if (rc != CL_SUCCESS) {
		status = CL_FAIL(err, rc, "creating a program");
		goto out;
	}
	rc = cl.clBuildProgram(program, 1, &impl->device, options, NULL, NULL);
	if (rc != CL_SUCCESS) {
		status = build_failure(d, program, name, options, rc, err);
		cl.clReleaseProgram(program);
		goto out;
	}
	d->programs_built++;
	store_binary(d, program, key);
out:
	if (mine)
		program_cache_release(key);
	if (status)
		return status;
	d->compile_ms += vb_now_ms() - t0;
	*out = program;
	return VB_OK;
}

/* The program for (name, options), built once per process and device. */
static int get_program(struct gpu_device *d, const char *name, const char *options,
		       cl_program *out, struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	int status;

	*out = built_table_find(&impl->programs, name, options);
	if (*out)
		return VB_OK;
	status = build_program(d, name, options, out, err);
	if (status == VB_OK && (status = built_table_add(&impl->programs, name, options, *out, err)))
		cl.clReleaseProgram(*out);
	return status;
}

static int get_kernel(struct gpu_device *d, const struct launch *l, const char *options,
		      cl_kernel *out, struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	struct built_kernel *grown;
	cl_program program = NULL;
	cl_int rc;
	int status = get_program(d, l->program, options, &program, err);

	if (status)
		return status;
	for (size_t i = 0; i < impl->nkernels; i++) {
		if (impl->kernels[i].program == program && strcmp(impl->kernels[i].name, l->kernel) == 0) {
			*out = impl->kernels[i].kernel;
			return VB_OK;
		}
	}
	grown = realloc(impl->kernels, (impl->nkernels + 1) * sizeof(*grown));
	if (!grown)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	impl->kernels = grown;
	*out = cl.clCreateKernel(program, l->kernel, &rc);
	if (rc != CL_SUCCESS)
		return vb_errf(err, VB_E_DEVICE, "%s (%d) creating kernel %s of kernels/%s.cl",
			       cl_error_name(rc), rc, l->kernel, l->program);
	grown[impl->nkernels].program = program;
	snprintf(grown[impl->nkernels].name, sizeof(grown[0].name), "%s", l->kernel);
	grown[impl->nkernels].kernel = *out;
	impl->nkernels++;
	return VB_OK;
}

static int set_args(cl_kernel k, const struct launch *l, struct vb_err *err)
{
	for (int i = 0; i < l->nargs; i++) {
		const struct karg *a = &l->args[i];
		cl_int rc = CL_INVALID_ARG_VALUE;

		switch (a->kind) {
		case KARG_BUF: rc = cl.clSetKernelArg(k, i, sizeof(cl_mem), &a->v.buf->mem); break;
		case KARG_I32: rc = cl.clSetKernelArg(k, i, sizeof(cl_int), &a->v.i32); break;
		case KARG_U64: rc = cl.clSetKernelArg(k, i, sizeof(cl_ulong), &a->v.u64); break;
		case KARG_F32: rc = cl.clSetKernelArg(k, i, sizeof(cl_float), &a->v.f32); break;
		}
		if (rc != CL_SUCCESS)
			return vb_errf(err, VB_E_DEVICE, "%s (%d) setting argument %d of %s",
				       cl_error_name(rc), rc, i, l->kernel);
	}
	return VB_OK;
}

/* Work-group shape within the device's limit (launch_group_shape). */
static int choose_local(const struct gpu_device *d, const struct launch *l, size_t local[3],
			struct vb_err *err)
{
	size_t max = impl_of((struct gpu_device *)d)->max_work_group;
	size_t need = launch_group_shape(l, max, local);

	if (need)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s needs work-groups of %zu items; %s allows %zu", l->kernel, need,
			       d->info.name, max);
	return VB_OK;
}

static int record_event(struct cl_device_impl *impl, cl_event ev, struct vb_err *err)
{
	if (impl->nevents == impl->cap_events) {
		size_t cap = impl->cap_events ? impl->cap_events * 2 : 16;
		cl_event *grown = realloc(impl->events, cap * sizeof(*grown));

		if (!grown) {
			cl.clReleaseEvent(ev);
			return vb_errf(err, VB_E_NOMEM, "out of host memory");
		}
		impl->events = grown;
		impl->cap_events = cap;
	}
	impl->events[impl->nevents++] = ev;
	return VB_OK;
}

static int cl_launch(struct gpu_device *d, const struct launch *l, const char *options, int timed,
		     struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	size_t local[3], global[3];
	cl_kernel k = NULL;
	cl_event ev = NULL;
	cl_int rc;
	int status = get_kernel(d, l, options, &k, err);

	if (status || (status = set_args(k, l, err)) || (status = choose_local(d, l, local, err)))
		return status;
	for (int i = 0; i < l->dims; i++)
		global[i] = (l->global[i] + local[i] - 1) / local[i] * local[i];
	rc = cl.clEnqueueNDRangeKernel(impl->queue, k, (cl_uint)l->dims, NULL, global, local, 0,
				       NULL, timed ? &ev : NULL);
	if (rc != CL_SUCCESS)
		return vb_errf(err, VB_E_DEVICE, "%s (%d) launching %s (kernels/%s.cl)",
			       cl_error_name(rc), rc, l->kernel, l->program);
	return timed ? record_event(impl, ev, err) : VB_OK;
}

static int cl_finish(struct gpu_device *d, double *span_ms, struct vb_err *err)
{
	struct cl_device_impl *impl = impl_of(d);
	cl_ulong first = 0, last = 0;
	cl_int rc = cl.clFinish(impl->queue);
	int status = VB_OK;

	*span_ms = NAN;
	if (rc != CL_SUCCESS)
		status = CL_FAIL(err, rc, "waiting for the queue");
	for (size_t i = 0; i < impl->nevents && status == VB_OK; i++) {
		cl_ulong start, end;

		rc = cl.clGetEventProfilingInfo(impl->events[i], CL_PROFILING_COMMAND_START,
						sizeof(start), &start, NULL);
		if (rc == CL_SUCCESS)
			rc = cl.clGetEventProfilingInfo(impl->events[i], CL_PROFILING_COMMAND_END,
							sizeof(end), &end, NULL);
		if (rc != CL_SUCCESS) {
			status = CL_FAIL(err, rc, "reading kernel timestamps");
			break;
		}
		if (i == 0 || start < first)
			first = start;
		if (end > last)
			last = end;
	}
	if (status == VB_OK && impl->nevents)
		*span_ms = (double)(last - first) / 1e6;
	for (size_t i = 0; i < impl->nevents; i++)
		cl.clReleaseEvent(impl->events[i]);
	impl->nevents = 0;
	return status;
}

const struct gpu_backend opencl_backend = {
	.name = "opencl",
	.enumerate = cl_enumerate,
	.close = cl_close,
	.buf_create = cl_buf_create,
	.buf_release = cl_buf_release,
	.write = cl_write,
	.read = cl_read,
	.staging_alloc = cl_staging_alloc,
	.staging_free = cl_staging_free,
	.launch = cl_launch,
	.finish = cl_finish,
	.precompile = cl_precompile,
};
