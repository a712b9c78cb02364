/* ops/cuda_api.c: open libcuda.so.1 and NVRTC at run time; compile kernels with NVRTC. */
#define _GNU_SOURCE
#ifdef VB_HAVE_CUDA
#include "cuda_api.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VB_STR2(x) #x
/* The name after macro expansion: cuMemAlloc -> "cuMemAlloc_v2", as cuda.h links it. */
#define VB_STR(x) VB_STR2(x)

#define NVRTC_MAX_OPTIONS 64

struct cu_api cu;
struct nvrtc_api nvrtc;

/* The library's real file, from the dynamic linker's own map of the handle. */
static void loaded_path(void *handle, const char *name, char *out, size_t outlen)
{
	struct link_map *map = NULL;

	snprintf(out, outlen, "%s", name);
	if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name)
		snprintf(out, outlen, "%s", map->l_name);
}

/* Resolve every driver function; the name of the first one missing, or NULL. */
static const char *cu_resolve(void *handle)
{
#define CU_RESOLVE(fn)                                                                           \
	*(void **)(&cu.fn) = dlsym(handle, VB_STR(fn));                                          \
	if (!cu.fn)                                                                              \
		return VB_STR(fn);
#define CU_RESOLVE_FALLBACK(fn)                                                                  \
	*(void **)(&cu.fn) = dlsym(handle, VB_STR(fn));                                          \
	if (!cu.fn)                                                                              \
		*(void **)(&cu.fn) = dlsym(handle, #fn);                                         \
	if (!cu.fn)                                                                              \
		return #fn;
#define CU_RESOLVE_OPTIONAL(fn) *(void **)(&cu.fn) = dlsym(handle, VB_STR(fn));
	CU_API_REQUIRED(CU_RESOLVE)
	CU_API_SAME_ABI_FALLBACK(CU_RESOLVE_FALLBACK)
	CU_API_OPTIONAL(CU_RESOLVE_OPTIONAL)
#undef CU_RESOLVE
#undef CU_RESOLVE_FALLBACK
#undef CU_RESOLVE_OPTIONAL
	return NULL;
}

int cu_api_load(struct vb_err *err)
{
	const char *name = getenv("VOXBENCH_CUDA_LIBRARY"), *missing;
	void *handle;

	if (cu.handle)
		return VB_OK;
	if (!name || !*name)
		name = "libcuda.so.1";
	handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return vb_errf(err, VB_E_NOLOADER,
			       "CUDA: no driver (%s not found: %s); install the NVIDIA driver, which "
			       "ships it, or use --backend opencl",
			       name, dlerror());
	missing = cu_resolve(handle);
	if (missing) {
		dlclose(handle);
		memset(&cu, 0, sizeof(cu));
		return vb_errf(err, VB_E_NOLOADER,
			       "CUDA: %s lacks %s: it is not NVIDIA's libcuda, or one older than "
			       "CUDA 11; install or update the NVIDIA driver",
			       name, missing);
	}
	cu.handle = handle;
	loaded_path(handle, name, cu.path, sizeof(cu.path));
	if (cu.cuDriverGetVersion(&cu.driver_version) != CUDA_SUCCESS)
		cu.driver_version = 0;
	return VB_OK;
}

const char *cuda_error_name(CUresult code)
{
	static _Thread_local char unknown[32];
	const char *name = NULL;

	if (cu.cuGetErrorName && cu.cuGetErrorName(code, &name) == CUDA_SUCCESS && name)
		return name;
	snprintf(unknown, sizeof(unknown), "CUDA_ERROR_%d", (int)code);
	return unknown;
}

/* NVRTC loads libnvrtc-builtins by name: load it first from NVRTC's own folder, for the case
 * where that folder is not on the linker's path (a failure here only costs that case). */
static void preload_builtins(void)
{
	char dir[4096], path[4200], *slash;

	snprintf(dir, sizeof(dir), "%s", nvrtc.path);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/libnvrtc-builtins.so.%d.%d", dir, nvrtc.major, nvrtc.minor);
	dlopen(path, RTLD_NOW | RTLD_GLOBAL);
}

static int nvrtc_resolve(void *handle, const char *name, struct vb_err *err)
{
#define NVRTC_RESOLVE(fn)                                                                        \
	*(void **)(&nvrtc.fn) = dlsym(handle, #fn);                                              \
	if (!nvrtc.fn)                                                                           \
		return vb_errf(err, VB_E_NOLOADER, "CUDA: %s lacks %s: it is not NVRTC 11 or "  \
			       "newer; install the CUDA toolkit's NVRTC", name, #fn);
#define NVRTC_RESOLVE_OPTIONAL(fn) *(void **)(&nvrtc.fn) = dlsym(handle, #fn);
	NVRTC_API_REQUIRED(NVRTC_RESOLVE)
	NVRTC_API_OPTIONAL(NVRTC_RESOLVE_OPTIONAL)
#undef NVRTC_RESOLVE
#undef NVRTC_RESOLVE_OPTIONAL
	return VB_OK;
}

/* dlopen name as is, then from the toolkit's default folder. */
static void *open_nvrtc_file(const char *name)
{
	char path[256];
	void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);

	if (handle || strchr(name, '/'))
		return handle;
	snprintf(path, sizeof(path), "/usr/local/cuda/lib64/%s", name);
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static void *find_nvrtc(int max_major, char *name, size_t len)
{
	const char *env = getenv("VOXBENCH_NVRTC_LIBRARY");
	void *handle;

	if (env && *env) {
		snprintf(name, len, "%s", env);
		return open_nvrtc_file(name);
	}
	for (int major = max_major; major >= 11; major--) {
		snprintf(name, len, "libnvrtc.so.%d", major);
		if ((handle = open_nvrtc_file(name)))
			return handle;
		/* CUDA 11 versioned the soname by minor release */
		for (int minor = 8; major == 11 && minor >= 0; minor--) {
			snprintf(name, len, "libnvrtc.so.11.%d", minor);
			if ((handle = open_nvrtc_file(name)))
				return handle;
		}
	}
	snprintf(name, len, "libnvrtc.so");
	return open_nvrtc_file(name);
}

int nvrtc_api_load(int max_major, struct vb_err *err)
{
	char name[4096];
	void *handle;
	int status;

	if (nvrtc.handle)
		return VB_OK;
	handle = find_nvrtc(max_major > 0 ? max_major : CUDA_VERSION / 1000, name, sizeof(name));
	if (!handle)
		return vb_errf(err, VB_E_NOLOADER,
			       "CUDA: NVRTC not found (no libnvrtc.so.<%d..11> nor libnvrtc.so, on the "
			       "linker's path or in /usr/local/cuda/lib64); install the CUDA toolkit's "
			       "NVRTC (cuda-nvrtc-<version> or nvidia-cuda-nvrtc), or set "
			       "VOXBENCH_NVRTC_LIBRARY",
			       max_major > 0 ? max_major : CUDA_VERSION / 1000);
	status = nvrtc_resolve(handle, name, err);
	if (status || nvrtc.nvrtcVersion(&nvrtc.major, &nvrtc.minor) != NVRTC_SUCCESS) {
		dlclose(handle);
		memset(&nvrtc, 0, sizeof(nvrtc));
		return status ? status : vb_errf(err, VB_E_NOLOADER, "CUDA: %s does not answer "
						 "nvrtcVersion; reinstall NVRTC", name);
	}
	nvrtc.handle = handle;
	loaded_path(handle, name, nvrtc.path, sizeof(nvrtc.path));
	preload_builtins();
	return VB_OK;
}

int cuda_choose_arch(int major, int minor, char *arch, size_t len, struct vb_err *err)
{
	int want = major * 10 + minor, n = 0, best = 0, *archs;

	if (!nvrtc.nvrtcGetNumSupportedArchs || !nvrtc.nvrtcGetSupportedArchs ||
	    nvrtc.nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0) {
		snprintf(arch, len, "sm_%d", want); /* NVRTC 11.0/11.1: no list to check against */
		return VB_OK;
	}
	archs = calloc((size_t)n, sizeof(*archs));
	if (!archs)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	if (nvrtc.nvrtcGetSupportedArchs(archs) == NVRTC_SUCCESS)
		for (int i = 0; i < n; i++)
			if (archs[i] <= want && archs[i] > best)
				best = archs[i];
	free(archs);
	if (best == want) {
		snprintf(arch, len, "sm_%d", want);
		return VB_OK;
	}
	if (best) {
		snprintf(arch, len, "compute_%d", best);
		return VB_OK;
	}
	return vb_errf(err, VB_E_UNSUPPORTED,
		       "CUDA: NVRTC %d.%d does not compile for sm_%d; install an older CUDA "
		       "toolkit's NVRTC that still supports this GPU, or use --backend opencl",
		       nvrtc.major, nvrtc.minor, want);
}

/*
 * OpenCL build options as NVRTC options: -D/-U pass through; the few -cl-* switches with a
 * CUDA meaning are translated and -cl-std is dropped (no language version to pick).
 */
static const char *nvrtc_option(const char *opt)
{
	if (strcmp(opt, "-cl-fast-relaxed-math") == 0)
		return "--use_fast_math";
	if (strcmp(opt, "-cl-mad-enable") == 0)
		return "--fmad=true";
	if (strcmp(opt, "-cl-denorms-are-zero") == 0)
		return "--ftz=true";
	if (strncmp(opt, "-cl-std=", 8) == 0)
		return NULL;
	return opt;
}

/* Split options at spaces into argv (pointing into copy, which the caller frees). */
static int split_options(const char *options, const char *arch_option, char **copy,
			 const char **argv, int *argc, struct vb_err *err)
{
	char *save = NULL, *tok;

	*copy = strdup(options ? options : "");
	if (!*copy)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	*argc = 0;
	argv[(*argc)++] = arch_option;
	/* OpenCL's plain functions are device code: NVRTC needs them marked so */
	argv[(*argc)++] = "--device-as-default-execution-space";
	for (tok = strtok_r(*copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		const char *opt = nvrtc_option(tok);

		if (!opt)
			continue;
		if (*argc == NVRTC_MAX_OPTIONS)
			return vb_errf(err, VB_E_ARGS, "more than %d build options: '%s'",
				       NVRTC_MAX_OPTIONS - 2, options);
		argv[(*argc)++] = opt;
	}
	return VB_OK;
}

/* preamble + #line + the kernel source, so NVRTC's log names kernels/<name>.cl lines. */
static char *full_source(const char *name, const char *source)
{
	char *text = NULL;

	if (asprintf(&text, "%s\n#line 1 \"kernels/%s.cl\"\n%s", cuda_preamble, name, source) < 0)
		return NULL;
	return text;
}

static int compile_failure(nvrtcProgram prog, nvrtcResult rc, const char *name,
			   const char *options, const char *arch, struct vb_err *err)
{
	char log[3000] = "";
	size_t size = 0;
	char *full;

	if (nvrtc.nvrtcGetProgramLogSize(prog, &size) == NVRTC_SUCCESS && size > 0 &&
	    (full = malloc(size)) != NULL) {
		if (nvrtc.nvrtcGetProgramLog(prog, full) == NVRTC_SUCCESS)
			snprintf(log, sizeof(log), "%s", full);
		free(full);
	}
	return vb_errf(err, rc == NVRTC_ERROR_COMPILATION ? VB_E_BUILD : VB_E_DEVICE,
		       "%s compiling kernels/%s.cl for %s with '%s': %s",
		       nvrtc.nvrtcGetErrorString(rc), name, arch, options, log);
}

/* The compiled image: a cubin for sm_XY, PTX (NUL included) for compute_XY. */
static nvrtcResult get_image(nvrtcProgram prog, int cubin, unsigned char **image, size_t *len)
{
	nvrtcResult rc = cubin ? nvrtc.nvrtcGetCUBINSize(prog, len) : nvrtc.nvrtcGetPTXSize(prog, len);

	if (rc != NVRTC_SUCCESS)
		return rc;
	*image = malloc(*len ? *len : 1);
	if (!*image)
		return NVRTC_ERROR_OUT_OF_MEMORY;
	rc = cubin ? nvrtc.nvrtcGetCUBIN(prog, (char *)*image) :
		     nvrtc.nvrtcGetPTX(prog, (char *)*image);
	if (rc != NVRTC_SUCCESS) {
		free(*image);
		*image = NULL;
	}
	return rc;
}

int cuda_compile(const char *name, const char *source, const char *options, const char *arch,
		 unsigned char **image, size_t *len, struct vb_err *err)
{
	const char *argv[NVRTC_MAX_OPTIONS];
	char arch_option[64], *copy = NULL, *text = NULL;
	int argc = 0, cubin = strncmp(arch, "sm_", 3) == 0, status;
	nvrtcProgram prog = NULL;
	nvrtcResult rc;

	*image = NULL;
	if (cubin && !nvrtc.nvrtcGetCUBIN)
		return vb_errf(err, VB_E_UNSUPPORTED, "CUDA: NVRTC %d.%d cannot emit cubins; "
			       "install NVRTC 11.1 or newer", nvrtc.major, nvrtc.minor);
	snprintf(arch_option, sizeof(arch_option), "--gpu-architecture=%s", arch);
	status = split_options(options, arch_option, &copy, argv, &argc, err);
	if (status)
		goto out;
	text = full_source(name, source);
	if (!text) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory");
		goto out;
	}
	/* lines before the #line are the preamble's */
	rc = nvrtc.nvrtcCreateProgram(&prog, text, "kernels/cuda_preamble.h", 0, NULL, NULL);
	if (rc == NVRTC_SUCCESS)
		rc = nvrtc.nvrtcCompileProgram(prog, argc, argv);
	if (rc != NVRTC_SUCCESS) {
		status = compile_failure(prog, rc, name, options, arch, err);
		goto out;
	}
	rc = get_image(prog, cubin, image, len);
	if (rc != NVRTC_SUCCESS)
		status = vb_errf(err, VB_E_DEVICE, "%s reading the %s of kernels/%s.cl",
				 nvrtc.nvrtcGetErrorString(rc), cubin ? "cubin" : "PTX", name);
out:
	if (prog)
		nvrtc.nvrtcDestroyProgram(&prog);
	free(text);
	free(copy);
	return status;
}

#else
/* Built without the CUDA headers: nothing here (ISO C wants a declaration in every file). */
typedef int vb_cuda_api_unused;
#endif
