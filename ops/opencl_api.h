/*
 * ops/opencl_api.h: libOpenCL.so.1 opened with dlopen, its functions in one table.
 *
 * voxbench never links against OpenCL, so it starts (and `probe` reports) on a machine without a
 * loader. Function pointer types come from the Khronos headers via __typeof__, never hand-copied.
 * VOXBENCH_OPENCL_LIBRARY names another loader file (tests use a missing path).
 */
#ifndef VB_OPENCL_API_H
#define VB_OPENCL_API_H

#define CL_TARGET_OPENCL_VERSION 300
/* 1.2 entry points (clCreateCommandQueue...) are used on purpose: many drivers are still 1.2. */
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#define CL_USE_DEPRECATED_OPENCL_1_1_APIS
#include <CL/cl.h>

#include "../common/vb.h"
#include "../reports/report.h"

/* Functions every OpenCL 1.2 loader exports: loading fails without them. */
#define CL_API_REQUIRED(X)                                                                       \
	X(clGetPlatformIDs) X(clGetPlatformInfo) X(clGetDeviceIDs) X(clGetDeviceInfo)            \
	X(clCreateContext) X(clReleaseContext) X(clCreateCommandQueue)                           \
	X(clReleaseCommandQueue) X(clCreateBuffer) X(clReleaseMemObject)                         \
	X(clEnqueueWriteBuffer) X(clEnqueueReadBuffer) X(clEnqueueFillBuffer)                    \
	X(clCreateProgramWithSource) X(clCreateProgramWithBinary) X(clBuildProgram)              \
	X(clGetProgramInfo) X(clGetProgramBuildInfo) X(clReleaseProgram) X(clCreateKernel)       \
	X(clReleaseKernel) X(clSetKernelArg) X(clGetKernelWorkGroupInfo)                         \
	X(clEnqueueNDRangeKernel) X(clFinish) X(clFlush) X(clWaitForEvents)                      \
	X(clGetEventProfilingInfo) X(clReleaseEvent) X(clGetExtensionFunctionAddress)            \
	X(clEnqueueCopyBuffer) X(clEnqueueMapBuffer) X(clEnqueueUnmapMemObject)

/* Markers of the OpenCL version a loader exports (absent in older loaders: NULL). */
#define CL_API_OPTIONAL(X)                                                                       \
	X(clCreateSubBuffer) X(clEnqueueFillImage) X(clCreateCommandQueueWithProperties)         \
	X(clCreateProgramWithIL) X(clSetProgramSpecializationConstant)                           \
	X(clSetContextDestructorCallback) X(clGetExtensionFunctionAddressForPlatform)

struct cl_api {
	void *handle;
	char path[4096]; /* the file the dynamic linker really opened */
#define CL_API_FIELD(name) __typeof__(name) *name;
	CL_API_REQUIRED(CL_API_FIELD)
	CL_API_OPTIONAL(CL_API_FIELD)
#undef CL_API_FIELD
};

/* The process-wide table, filled by cl_api_load(). */
extern struct cl_api cl;

/*
 * Open the loader (VOXBENCH_OPENCL_LIBRARY, else libOpenCL.so.1) once. VB_E_NOLOADER with a
 * message naming the package to install when it cannot be opened or lacks a required function.
 */
int cl_api_load(struct vb_err *err);
/*
 * From now on cl_api_load refuses (VB_E_NOLOADER, with why), even when the loader is open: for
 * a loader or drivers found to crash or hang in a child (probe_vet_opencl).
 */
void cl_api_refuse(const char *why);

/* A string property of a device ("" when the driver refuses it; NVIDIA's padding trimmed). */
void cl_device_string(cl_device_id d, cl_device_info what, char *buf, size_t len);
/* A string property of a platform ("" when refused). */
void cl_platform_string(cl_platform_id p, cl_platform_info what, char *buf, size_t len);
/* A fixed-size property of `size` bytes (cl_uint, cl_ulong, size_t); 0 when refused. */
cl_ulong cl_device_number(cl_device_id d, cl_device_info what, size_t size);
/* report.h's device fields of one OpenCL device (backend "opencl", copy_gbps NaN). */
int cl_device_info_fill(cl_device_id dev, struct device_info *d, struct vb_err *err);

/* "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR" for codes it does not know. */
const char *cl_error_name(cl_int code);

#endif
