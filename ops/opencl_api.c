/* ops/opencl_api.c: open libOpenCL.so.1 at run time and resolve its functions into `cl`. */
#define _GNU_SOURCE
#include "opencl_api.h"

#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cl_api cl;

/* The loader's real file, from the dynamic linker's own map of the handle. */
static void loaded_path(void *handle, char *out, size_t outlen)
{
	struct link_map *map = NULL;

	snprintf(out, outlen, "libOpenCL.so.1");
	if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name)
		snprintf(out, outlen, "%s", map->l_name);
}

static char refused[4096];

void cl_api_refuse(const char *why)
{
	vb_copy_utf8(refused, sizeof(refused), why && *why ? why : "OpenCL is turned off");
}

int cl_api_load(struct vb_err *err)
{
	const char *name = getenv("VOXBENCH_OPENCL_LIBRARY");
	void *handle;

	if (refused[0]) /* even when open: the drivers it would load crash or hang */
		return vb_errf(err, VB_E_NOLOADER, "%s", refused);
	if (cl.handle)
		return VB_OK;
	if (!name || !*name)
		name = "libOpenCL.so.1";
	handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return vb_errf(err, VB_E_NOLOADER,
			       "cannot load the OpenCL loader %s (%s); install it: "
			       "apt-get install ocl-icd-libopencl1 (Debian/Ubuntu), "
			       "dnf install ocl-icd (Fedora), or the Khronos OpenCL-ICD-Loader",
			       name, dlerror());
#define CL_API_RESOLVE_REQUIRED(fn)                                                              \
	*(void **)(&cl.fn) = dlsym(handle, #fn);                                                 \
	if (!cl.fn) {                                                                            \
		dlclose(handle);                                                                 \
		memset(&cl, 0, sizeof(cl));                                                      \
		return vb_errf(err, VB_E_NOLOADER,                                               \
			       "the OpenCL loader %s lacks %s: it is not an OpenCL 1.2 loader; "     \
			       "install ocl-icd-libopencl1",                                     \
			       name, #fn);                                                       \
	}
#define CL_API_RESOLVE_OPTIONAL(fn) *(void **)(&cl.fn) = dlsym(handle, #fn);
	CL_API_REQUIRED(CL_API_RESOLVE_REQUIRED)
	CL_API_OPTIONAL(CL_API_RESOLVE_OPTIONAL)
#undef CL_API_RESOLVE_REQUIRED
#undef CL_API_RESOLVE_OPTIONAL
	cl.handle = handle;
	loaded_path(handle, cl.path, sizeof(cl.path));
	return VB_OK;
}

/* ---- device facts, shared by the backend and the probe ---- */

/* A string property into buf ("" when the driver refuses it). */
void cl_device_string(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
	size_t need = 0;
	char *tmp;

	buf[0] = '\0';
	if (cl.clGetDeviceInfo(d, what, 0, NULL, &need) != CL_SUCCESS || need == 0)
		return;
	tmp = malloc(need + 1);
	if (!tmp)
		return;
	if (cl.clGetDeviceInfo(d, what, need, tmp, NULL) == CL_SUCCESS) {
		tmp[need] = '\0';
		while (need > 0 && (tmp[need - 1] == ' ' || tmp[need - 1] == '\0'))
			tmp[--need] = '\0'; /* NVIDIA pads: "OpenCL C 1.2 " */
		snprintf(buf, len, "%s", tmp);
	}
	free(tmp);
}

/* A fixed-size property; 0 when the driver refuses it. */
cl_ulong cl_device_number(cl_device_id d, cl_device_info what, size_t size)
{
	union { cl_ulong u64; cl_uint u32; size_t sz; cl_bool b; } v;

	memset(&v, 0, sizeof(v));
	if (cl.clGetDeviceInfo(d, what, size, &v, NULL) != CL_SUCCESS)
		return 0;
	if (size == sizeof(cl_ulong))
		return v.u64;
	return v.u32;
}

static const char *type_name(cl_device_type t)
{
	if (t & CL_DEVICE_TYPE_GPU)
		return "gpu";
	if (t & CL_DEVICE_TYPE_CPU)
		return "cpu";
	if (t & CL_DEVICE_TYPE_ACCELERATOR)
		return "accelerator";
	return "other";
}

void cl_platform_string(cl_platform_id p, cl_platform_info what, char *buf, size_t len)
{
	size_t got = 0;

	buf[0] = '\0';
	if (cl.clGetPlatformInfo(p, what, len - 1, buf, &got) != CL_SUCCESS)
		buf[0] = '\0';
	buf[got < len ? got : len - 1] = '\0';
}

int cl_device_info_fill(cl_device_id dev, struct device_info *d, struct vb_err *err)
{
	cl_platform_id plat = NULL;
	cl_device_type t = 0;

	memset(d, 0, sizeof(*d));
	if (cl.clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof(t), &t, NULL) != CL_SUCCESS)
		return vb_errf(err, VB_E_DEVICE, "the driver does not answer clGetDeviceInfo");
	snprintf(d->backend, sizeof(d->backend), "opencl");
	snprintf(d->type, sizeof(d->type), "%s", type_name(t));
	d->copy_gbps = NAN;
	if (cl.clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof(plat), &plat, NULL) == CL_SUCCESS)
		cl_platform_string(plat, CL_PLATFORM_NAME, d->platform, sizeof(d->platform));
	cl_device_string(dev, CL_DEVICE_NAME, d->name, sizeof(d->name));
	cl_device_string(dev, CL_DEVICE_VENDOR, d->vendor, sizeof(d->vendor));
	cl_device_string(dev, CL_DRIVER_VERSION, d->driver_version, sizeof(d->driver_version));
	d->global_mem_bytes = cl_device_number(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
	d->max_alloc_bytes = cl_device_number(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
	d->local_mem_bytes = cl_device_number(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(cl_ulong));
	d->compute_units = (unsigned)cl_device_number(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cl_uint));
	d->max_clock_mhz = (unsigned)cl_device_number(dev, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof(cl_uint));
	return VB_OK;
}

const char *cl_error_name(cl_int code)
{
#define CL_ERROR_CASE(e) case e: return #e;
	switch (code) {
	CL_ERROR_CASE(CL_SUCCESS)
	CL_ERROR_CASE(CL_DEVICE_NOT_FOUND)
	CL_ERROR_CASE(CL_DEVICE_NOT_AVAILABLE)
	CL_ERROR_CASE(CL_COMPILER_NOT_AVAILABLE)
	CL_ERROR_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
	CL_ERROR_CASE(CL_OUT_OF_RESOURCES)
	CL_ERROR_CASE(CL_OUT_OF_HOST_MEMORY)
	CL_ERROR_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
	CL_ERROR_CASE(CL_MEM_COPY_OVERLAP)
	CL_ERROR_CASE(CL_IMAGE_FORMAT_MISMATCH)
	CL_ERROR_CASE(CL_IMAGE_FORMAT_NOT_SUPPORTED)
	CL_ERROR_CASE(CL_BUILD_PROGRAM_FAILURE)
	CL_ERROR_CASE(CL_MAP_FAILURE)
	CL_ERROR_CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET)
	CL_ERROR_CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
	CL_ERROR_CASE(CL_COMPILE_PROGRAM_FAILURE)
	CL_ERROR_CASE(CL_LINKER_NOT_AVAILABLE)
	CL_ERROR_CASE(CL_LINK_PROGRAM_FAILURE)
	CL_ERROR_CASE(CL_DEVICE_PARTITION_FAILED)
	CL_ERROR_CASE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
	CL_ERROR_CASE(CL_INVALID_VALUE)
	CL_ERROR_CASE(CL_INVALID_DEVICE_TYPE)
	CL_ERROR_CASE(CL_INVALID_PLATFORM)
	CL_ERROR_CASE(CL_INVALID_DEVICE)
	CL_ERROR_CASE(CL_INVALID_CONTEXT)
	CL_ERROR_CASE(CL_INVALID_QUEUE_PROPERTIES)
	CL_ERROR_CASE(CL_INVALID_COMMAND_QUEUE)
	CL_ERROR_CASE(CL_INVALID_HOST_PTR)
	CL_ERROR_CASE(CL_INVALID_MEM_OBJECT)
	CL_ERROR_CASE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
	CL_ERROR_CASE(CL_INVALID_IMAGE_SIZE)
	CL_ERROR_CASE(CL_INVALID_SAMPLER)
	CL_ERROR_CASE(CL_INVALID_BINARY)
	CL_ERROR_CASE(CL_INVALID_BUILD_OPTIONS)
	CL_ERROR_CASE(CL_INVALID_PROGRAM)
	CL_ERROR_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
	CL_ERROR_CASE(CL_INVALID_KERNEL_NAME)
	CL_ERROR_CASE(CL_INVALID_KERNEL_DEFINITION)
	CL_ERROR_CASE(CL_INVALID_KERNEL)
	CL_ERROR_CASE(CL_INVALID_ARG_INDEX)
	CL_ERROR_CASE(CL_INVALID_ARG_VALUE)
	CL_ERROR_CASE(CL_INVALID_ARG_SIZE)
	CL_ERROR_CASE(CL_INVALID_KERNEL_ARGS)
	CL_ERROR_CASE(CL_INVALID_WORK_DIMENSION)
	CL_ERROR_CASE(CL_INVALID_WORK_GROUP_SIZE)
	CL_ERROR_CASE(CL_INVALID_WORK_ITEM_SIZE)
	CL_ERROR_CASE(CL_INVALID_GLOBAL_OFFSET)
	CL_ERROR_CASE(CL_INVALID_EVENT_WAIT_LIST)
	CL_ERROR_CASE(CL_INVALID_EVENT)
	CL_ERROR_CASE(CL_INVALID_OPERATION)
	CL_ERROR_CASE(CL_INVALID_GL_OBJECT)
	CL_ERROR_CASE(CL_INVALID_BUFFER_SIZE)
	CL_ERROR_CASE(CL_INVALID_MIP_LEVEL)
	CL_ERROR_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
	CL_ERROR_CASE(CL_INVALID_PROPERTY)
	CL_ERROR_CASE(CL_INVALID_IMAGE_DESCRIPTOR)
	CL_ERROR_CASE(CL_INVALID_COMPILER_OPTIONS)
	CL_ERROR_CASE(CL_INVALID_LINKER_OPTIONS)
	CL_ERROR_CASE(CL_INVALID_DEVICE_PARTITION_COUNT)
	CL_ERROR_CASE(CL_INVALID_PIPE_SIZE)
	CL_ERROR_CASE(CL_INVALID_DEVICE_QUEUE)
	CL_ERROR_CASE(CL_INVALID_SPEC_ID)
	CL_ERROR_CASE(CL_MAX_SIZE_RESTRICTION_EXCEEDED)
	case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
	default: return "CL_UNKNOWN_ERROR";
	}
#undef CL_ERROR_CASE
}
