/*
 * ops/cuda_api.h: libcuda.so.1 (the driver API) and NVRTC opened with dlopen, their functions in
 * two tables, and the NVRTC compile of a kernel source behind the CUDA preamble.
 *
 * voxbench never links against CUDA: it starts, and the OpenCL backend runs, on machines without
 * the driver or the toolkit. Function pointer types come from cuda.h and nvrtc.h via __typeof__.
 * cuda.h maps some names to versioned ABIs (cuMemAlloc -> cuMemAlloc_v2); the tables' fields and
 * the symbols looked up follow that mapping, so each call has exactly the header's prototype.
 * Only built with the CUDA headers (VB_HAVE_CUDA, set by the Makefile).
 *
 * VOXBENCH_CUDA_LIBRARY and VOXBENCH_NVRTC_LIBRARY name other files (tests use missing paths).
 */
#ifndef VB_CUDA_API_H
#define VB_CUDA_API_H

#include <cuda.h>
#include <nvrtc.h>

#include "../common/vb.h"

/* Driver functions of CUDA 11.0 and later: loading fails without them. */
#define CU_API_REQUIRED(X)                                                                       \
	X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString)                    \
	X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute)            \
	X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease)             \
	X(cuCtxSetCurrent) X(cuCtxSynchronize) X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoD)        \
	X(cuMemcpyDtoH) X(cuModuleLoadDataEx) X(cuModuleUnload) X(cuModuleGetFunction)           \
	X(cuFuncGetAttribute) X(cuLaunchKernel) X(cuEventCreate) X(cuEventDestroy)               \
	X(cuEventRecord) X(cuMemHostRegister) X(cuMemHostUnregister)                                  \
	X(cuMemAllocHost) X(cuMemFreeHost)

/*
 * Functions whose header name maps to a newer versioned symbol with the same prototype, which
 * older drivers lack (cuEventElapsedTime_v2: 12.8); the unversioned symbol serves then.
 */
#define CU_API_SAME_ABI_FALLBACK(X) X(cuEventElapsedTime)

/* Newer driver functions: NULL where the driver (or the headers) predate them. */
#if CUDA_VERSION >= 12040
#define CU_API_OPTIONAL(X) X(cuFuncGetParamInfo) /* 12.4: kernel parameter sizes */
#else
#define CU_API_OPTIONAL(X)
#endif

/* NVRTC functions of CUDA 11.0 and later. */
#define NVRTC_API_REQUIRED(X)                                                                    \
	X(nvrtcVersion) X(nvrtcGetErrorString) X(nvrtcCreateProgram) X(nvrtcDestroyProgram)      \
	X(nvrtcCompileProgram) X(nvrtcGetProgramLogSize) X(nvrtcGetProgramLog) X(nvrtcGetPTXSize) \
	X(nvrtcGetPTX)

/* NVRTC 11.1 (cubin output) and 11.2 (the list of architectures): NULL when older. */
#define NVRTC_API_OPTIONAL(X)                                                                    \
	X(nvrtcGetCUBINSize) X(nvrtcGetCUBIN) X(nvrtcGetNumSupportedArchs) X(nvrtcGetSupportedArchs)

#define CUDA_API_FIELD(name) __typeof__(name) *name;

struct cu_api {
	void *handle;
	char path[4096]; /* the file the dynamic linker really opened */
	int driver_version; /* cuDriverGetVersion: 13000 for CUDA 13.0 */
	CU_API_REQUIRED(CUDA_API_FIELD)
	CU_API_SAME_ABI_FALLBACK(CUDA_API_FIELD)
	CU_API_OPTIONAL(CUDA_API_FIELD)
};

struct nvrtc_api {
	void *handle;
	char path[4096];
	int major, minor; /* nvrtcVersion */
	NVRTC_API_REQUIRED(CUDA_API_FIELD)
	NVRTC_API_OPTIONAL(CUDA_API_FIELD)
};

/* The process-wide tables, filled by cu_api_load() and nvrtc_api_load(). */
extern struct cu_api cu;
extern struct nvrtc_api nvrtc;

/*
 * Open the driver (VOXBENCH_CUDA_LIBRARY, else libcuda.so.1) once and read its version.
 * VB_E_NOLOADER, "CUDA: no driver (...)" with what to do, when it is missing or too old.
 */
int cu_api_load(struct vb_err *err);

/*
 * Open NVRTC once: VOXBENCH_NVRTC_LIBRARY, else libnvrtc.so.<major> from max_major down to 11
 * (a driver runs what an NVRTC of its own major version or older produces; 0: the headers'
 * major), then libnvrtc.so, each by name and in /usr/local/cuda/lib64. VB_E_NOLOADER when none.
 */
int nvrtc_api_load(int max_major, struct vb_err *err);

/* "CUDA_ERROR_OUT_OF_MEMORY" for 2 (with the driver loaded; else "CUDA_ERROR_<code>"). */
const char *cuda_error_name(CUresult code);

/* The CUDA preamble (kernels/cuda_preamble.h), embedded at build time. */
extern const char cuda_preamble[];

/*
 * The NVRTC target for a device of compute capability major.minor: "sm_XY" (a cubin) when this
 * NVRTC supports that architecture, else "compute_XY" of the newest one it supports below it
 * (PTX, compiled by the driver). VB_E_UNSUPPORTED when NVRTC supports nothing that old.
 */
int cuda_choose_arch(int major, int minor, char *arch, size_t len, struct vb_err *err);

/*
 * Compile kernels/<name>.cl (source) behind the preamble with the OpenCL build options (-D...)
 * for arch. *image (malloc'd, *len bytes) is a cubin for "sm_XY", NUL-terminated PTX for
 * "compute_XY". VB_E_BUILD with NVRTC's log on a compile error.
 */
int cuda_compile(const char *name, const char *source, const char *options, const char *arch,
		 unsigned char **image, size_t *len, struct vb_err *err);

#endif
