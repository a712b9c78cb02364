/*
 * probe/cuda.c: the checks cuda (libcuda.so.1, cuInit, driver version, devices) and nvrtc
 * (found, its version against the driver's, the devices' architectures).
 *
 * Both are optional: a machine without CUDA gets SKIP, not FAIL. libcuda is dlopen'd in a child,
 * like every driver: cuInit in the parent would also make later forks unsafe for NVIDIA's OpenCL.
 * The few prototypes are declared here rather than taken from cuda.h, so that voxbench builds
 * without the CUDA toolkit; the CUDA backend will take its types from cudaTypedefs.h.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_TIMEOUT_S 120.0

/* cuda.h: CUresult, CUdevice and CUdevice_attribute are ints; the values are the ABI's. */
typedef int cu_result;
enum { CU_ATTR_SM_COUNT = 16, CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76 };
enum { CUDA_ERR_INSUFFICIENT_DRIVER = 35, CUDA_ERR_NO_DEVICE = 100,
       CUDA_ERR_OPERATING_SYSTEM = 304, CUDA_ERR_SYSTEM_DRIVER_MISMATCH = 803,
       CUDA_ERR_COMPAT_NOT_SUPPORTED = 804, CUDA_ERR_UNKNOWN = 999 };

struct cu_api {
	cu_result (*init)(unsigned);
	cu_result (*driver_version)(int *);
	cu_result (*count)(int *);
	cu_result (*get)(int *, int);
	cu_result (*name)(char *, int, int);
	cu_result (*attr)(int *, int, int);
	cu_result (*total_mem)(size_t *, int);
	cu_result (*error_name)(cu_result, const char **);
};

static void lib_path(void *h, char *out, size_t len)
{
	struct link_map *map = NULL;

	out[0] = '\0';
	if (dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name)
		snprintf(out, len, "%s", map->l_name);
}

static int cu_resolve(void *h, struct cu_api *a)
{
	*(void **)&a->init = dlsym(h, "cuInit");
	*(void **)&a->driver_version = dlsym(h, "cuDriverGetVersion");
	*(void **)&a->count = dlsym(h, "cuDeviceGetCount");
	*(void **)&a->get = dlsym(h, "cuDeviceGet");
	*(void **)&a->name = dlsym(h, "cuDeviceGetName");
	*(void **)&a->attr = dlsym(h, "cuDeviceGetAttribute");
	*(void **)&a->total_mem = dlsym(h, "cuDeviceTotalMem_v2");
	*(void **)&a->error_name = dlsym(h, "cuGetErrorName");
	return a->init && a->driver_version && a->count && a->get && a->name && a->attr &&
	       a->total_mem;
}

static const char *cu_error(const struct cu_api *a, cu_result r)
{
	const char *s = NULL;

	if (a->error_name && a->error_name(r, &s) == 0 && s)
		return s;
	return "CUDA_ERROR_UNKNOWN_CODE";
}

static json_t *cu_devices(const struct cu_api *a)
{
	json_t *arr = json_array();
	int n = 0;

	if (a->count(&n) != 0)
		return arr;
	for (int i = 0; i < n; i++) {
		int dev = 0, maj = 0, min = 0, sms = 0;
		size_t mem = 0;
		char name[256] = "", cc[16];

		if (a->get(&dev, i) != 0)
			continue;
		a->name(name, (int)sizeof(name), dev);
		a->attr(&maj, CU_ATTR_CC_MAJOR, dev);
		a->attr(&min, CU_ATTR_CC_MINOR, dev);
		a->attr(&sms, CU_ATTR_SM_COUNT, dev);
		a->total_mem(&mem, dev);
		snprintf(cc, sizeof(cc), "%d.%d", maj, min);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:I, s:i}", "name", name,
						     "compute_capability", cc, "sm", maj * 10 + min,
						     "memory_bytes", (json_int_t)mem,
						     "multiprocessors", sms));
	}
	return arr;
}

/* Child part one: libcuda, cuInit, version, devices. */
static void cuda_part(FILE *out)
{
	struct cu_api a;
	char path[PATH_MAX];
	int version = 0;
	cu_result r;
	void *h;

	child_phase(out, "cuda", -1, "loading libcuda.so.1");
	h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		child_send(out, json_pack("{s:{s:b, s:s}}", "cuda", "found", 0, "error",
					  dlerror()));
		return;
	}
	lib_path(h, path, sizeof(path));
	if (!cu_resolve(h, &a)) {
		child_send(out, json_pack("{s:{s:b, s:s, s:s}}", "cuda", "found", 1, "library",
					  path, "error", "libcuda.so.1 lacks the driver API"));
		return;
	}
	child_phase(out, "cuda", -1, "calling cuInit");
	r = a.init(0);
	a.driver_version(&version);
	child_send(out, json_pack("{s:{s:b, s:s, s:i, s:s, s:i, s:o}}", "cuda", "found", 1,
				  "library", path, "init_code", r, "init", cu_error(&a, r),
				  "driver_version", version,
				  "devices", r == 0 ? cu_devices(&a) : json_array()));
}

/* NVRTC by the names the toolkit installs, newest first; then the toolkit's usual folders. */
static void *nvrtc_open(char *soname, size_t len, int *on_path)
{
	static const char *const names[] = { "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2",
					     "libnvrtc.so.11.1", "libnvrtc.so.11.0", "libnvrtc.so" };
	const char *home = getenv("CUDA_HOME") ? getenv("CUDA_HOME") : getenv("CUDA_PATH");
	char path[PATH_MAX];
	void *h;

	*on_path = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((h = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL))) {
			snprintf(soname, len, "%s", names[i]);
			return h;
		}
	*on_path = 0;
	snprintf(path, sizeof(path), "%s/lib64/libnvrtc.so", home ? home : "/usr/local/cuda");
	snprintf(soname, len, "%s", path);
	return dlopen(path, RTLD_LAZY | RTLD_LOCAL);
}

/* Child part two: NVRTC's version and the architectures it compiles for. */
static void nvrtc_part(FILE *out)
{
	int (*version)(int *, int *), (*narchs)(int *), (*archs)(int *);
	int maj = 0, min = 0, n = 0, on_path, list[128];
	char soname[PATH_MAX], path[PATH_MAX], v[16];
	json_t *arr = json_array();
	void *h;

	child_phase(out, "nvrtc", -1, "loading NVRTC");
	h = nvrtc_open(soname, sizeof(soname), &on_path);
	if (!h) {
		json_decref(arr);
		child_send(out, json_pack("{s:{s:b}}", "nvrtc", "found", 0));
		return;
	}
	lib_path(h, path, sizeof(path));
	*(void **)&version = dlsym(h, "nvrtcVersion");
	*(void **)&narchs = dlsym(h, "nvrtcGetNumSupportedArchs");
	*(void **)&archs = dlsym(h, "nvrtcGetSupportedArchs");
	if (version)
		version(&maj, &min);
	if (narchs && archs && narchs(&n) == 0 && n > 0 && n <= 128 && archs(list) == 0)
		for (int i = 0; i < n; i++)
			json_array_append_new(arr, json_integer(list[i]));
	snprintf(v, sizeof(v), "%d.%d", maj, min);
	child_send(out, json_pack("{s:{s:b, s:s, s:s, s:b, s:s, s:i, s:i, s:o}}", "nvrtc",
				  "found", 1, "soname", soname, "library", path, "on_linker_path",
				  on_path, "version", v, "major", maj, "minor", min, "archs", arr));
}

static void cuda_child(FILE *out, void *arg)
{
	(void)arg;
	nvrtc_part(out); /* first: it needs no driver, and a crashing libcuda must not hide it */
	cuda_part(out);
}

/* ---- verdicts ---- */

static void cuinit_fix(struct check_result *r, int code)
{
	switch (code) {
	case CUDA_ERR_NO_DEVICE:
		result_fix(r, "no NVIDIA GPU is visible: check CUDA_VISIBLE_DEVICES and the device "
			   "nodes (devnodes); in a container, start it with --gpus all");
		break;
	case CUDA_ERR_INSUFFICIENT_DRIVER:
	case CUDA_ERR_SYSTEM_DRIVER_MISMATCH:
	case CUDA_ERR_COMPAT_NOT_SUPPORTED:
		result_fix(r, "libcuda.so.1 and the NVIDIA kernel module have different versions: "
			   "install matching driver packages (or reboot after an upgrade); compare "
			   "`cat /proc/driver/nvidia/version` with `ls -l $(ldconfig -p | grep "
			   "'libcuda.so.1 ' | head -1 | awk '{print $NF}')`");
		break;
	case CUDA_ERR_OPERATING_SYSTEM:
	case CUDA_ERR_UNKNOWN:
		result_fix(r, "CUDA cannot reach the GPU: check that /dev/nvidia-uvm exists "
			   "(sudo nvidia-modprobe -u -c=0) and the other device nodes (devnodes)");
		break;
	default:
		result_fix(r, "check `nvidia-smi`; reinstall the NVIDIA driver if it fails too");
	}
}

#ifdef VB_HAVE_CUDA
#define CUDA_BACKEND_BUILT 1
#else
#define CUDA_BACKEND_BUILT 0
#endif

static void cuda_ok(struct probe *p, json_t *c)
{
	int v = (int)json_integer_value(json_object_get(c, "driver_version"));
	struct check_result *r;
	json_t *devs = json_object_get(c, "devices"), *d;
	char list[1024] = "";
	size_t i, n = 0;

	json_array_foreach(devs, i, d) {
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
				      "%s%s (sm_%d, %.1f GiB)", i ? ", " : ": ",
				      json_string_value(json_object_get(d, "name")),
				      (int)json_integer_value(json_object_get(d, "sm")),
				      (double)json_integer_value(json_object_get(d, "memory_bytes")) /
					      1073741824.0);
		if (n >= sizeof(list))
			break;
	}
	r = probe_add(p, "cuda", CUDA_BACKEND_BUILT ? V_OK : V_WARN, "libcuda.so.1",
		      "CUDA driver %d.%d, %zu device%s%s%s", v / 1000, (v % 1000) / 10,
		      json_array_size(devs), json_array_size(devs) == 1 ? "" : "s", list,
		      CUDA_BACKEND_BUILT ? "" : "; this voxbench was built without the CUDA backend");
	if (!CUDA_BACKEND_BUILT)
		result_fix(r, "rebuild voxbench where the CUDA toolkit's headers are "
			   "($CUDA_HOME/include/cuda.h): make, without CUDA=0");
}

static void cuda_verdict(struct probe *p, const struct child_out *co)
{
	json_t *c = p->cuda;
	const char *step = co->phase ? json_string_value(json_object_get(co->phase, "step")) : "";
	struct check_result *r;
	char how[512];

	if ((co->signal || co->timed_out) && strcmp(step, "nvrtc")) {
		child_describe(co, how, sizeof(how));
		r = probe_add(p, "cuda", V_FAIL, "libcuda.so.1", "libcuda.so.1 %s", how);
		result_fix(r, "reinstall the NVIDIA driver; check `nvidia-smi`");
	} else if (!c || !json_is_true(json_object_get(c, "found"))) {
		r = probe_add(p, "cuda", V_SKIP, "libcuda.so.1",
			      "libcuda.so.1 not found: no NVIDIA driver (CUDA is optional)");
		result_detail(r, "%s", c ? json_string_value(json_object_get(c, "error")) ?: ""
					 : "");
	} else if (!json_object_get(c, "init_code")) {
		r = probe_add(p, "cuda", V_FAIL, "libcuda.so.1", "%s",
			      json_string_value(json_object_get(c, "error")));
		result_fix(r, "reinstall the NVIDIA driver");
	} else if (json_integer_value(json_object_get(c, "init_code")) != 0) {
		r = probe_add(p, "cuda", V_FAIL, "libcuda.so.1", "cuInit failed: %s (%d)",
			      json_string_value(json_object_get(c, "init")),
			      (int)json_integer_value(json_object_get(c, "init_code")));
		cuinit_fix(r, (int)json_integer_value(json_object_get(c, "init_code")));
	} else {
		cuda_ok(p, c);
	}
}

void check_cuda(struct probe *p)
{
	struct vb_err err = { "" };
	struct child_out co;

	if (child_run(cuda_child, NULL, CUDA_TIMEOUT_S, &co, &err) != VB_OK) {
		probe_add(p, "cuda", V_SKIP, "", "cannot test CUDA: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < json_array_size(co.msgs); i++) {
		json_t *m = json_array_get(co.msgs, i);

		if (json_object_get(m, "cuda"))
			p->cuda = json_incref(json_object_get(m, "cuda"));
		if (json_object_get(m, "nvrtc"))
			p->nvrtc = json_incref(json_object_get(m, "nvrtc"));
	}
	cuda_verdict(p, &co);
	child_out_free(&co);
}

/* Does NVRTC compile for every CUDA device here? FAIL naming the first it does not know. */
static int nvrtc_archs(struct probe *p, json_t *n)
{
	json_t *archs = json_object_get(n, "archs"), *d, *a;
	size_t i, j;

	if (!json_array_size(archs))
		return 0;
	json_array_foreach(json_object_get(p->cuda, "devices"), i, d) {
		json_int_t sm = json_integer_value(json_object_get(d, "sm"));
		int known = 0;
		struct check_result *r;

		json_array_foreach(archs, j, a)
			known |= json_integer_value(a) == sm;
		if (known)
			continue;
		r = probe_add(p, "nvrtc", V_FAIL, json_string_value(json_object_get(n, "soname")),
			      "NVRTC %s cannot compile for sm_%d (%s)",
			      json_string_value(json_object_get(n, "version")), (int)sm,
			      json_string_value(json_object_get(d, "name")));
		result_fix(r, "install an NVRTC (CUDA toolkit) that supports sm_%d", (int)sm);
		return 1;
	}
	return 0;
}

/* NVRTC newer than the driver: PTX it writes will not load. Returns 1 when it said so. */
static int nvrtc_vs_driver(struct probe *p, json_t *n)
{
	int drv = (int)json_integer_value(json_object_get(p->cuda, "driver_version"));
	int dmaj = drv / 1000, dmin = (drv % 1000) / 10;
	int maj = (int)json_integer_value(json_object_get(n, "major"));
	int min = (int)json_integer_value(json_object_get(n, "minor"));
	struct check_result *r;

	if (!drv || json_integer_value(json_object_get(p->cuda, "init_code")) != 0 ||
	    maj < dmaj || (maj == dmaj && min <= dmin))
		return 0;
	r = probe_add(p, "nvrtc", maj > dmaj ? V_FAIL : V_WARN,
		      json_string_value(json_object_get(n, "soname")),
		      "NVRTC %d.%d is newer than the driver (CUDA %d.%d)%s", maj, min, dmaj, dmin,
		      maj > dmaj ? ": what it compiles will not load"
				 : ": its PTX will not load, only cubin will");
	result_fix(r, "install an NVIDIA driver that supports CUDA %d.%d, or an NVRTC no newer "
		   "than %d.%d", maj, min, dmaj, dmin);
	return 1;
}

void check_nvrtc(struct probe *p)
{
	json_t *n = p->nvrtc;
	const char *path = n ? json_string_value(json_object_get(n, "library")) : NULL;
	struct check_result *r;

	if (!n || !json_is_true(json_object_get(n, "found"))) {
		r = probe_add(p, "nvrtc", V_SKIP, "", "NVRTC not found (needed only by the CUDA "
			      "backend)");
		result_detail(r, "looked for libnvrtc.so.13, .12, .11.x and libnvrtc.so");
		return;
	}
	if (nvrtc_vs_driver(p, n) || nvrtc_archs(p, n))
		return;
	if (!json_is_true(json_object_get(n, "on_linker_path"))) {
		r = probe_add(p, "nvrtc", V_WARN, path, "NVRTC %s is in %s, outside the dynamic "
			      "linker's path", json_string_value(json_object_get(n, "version")),
			      path);
		result_fix(r, "echo %.*s | sudo tee /etc/ld.so.conf.d/cuda.conf && sudo ldconfig",
			   (int)(strrchr(path, '/') ? strrchr(path, '/') - path : 0), path);
		return;
	}
	probe_add(p, "nvrtc", V_OK, json_string_value(json_object_get(n, "soname")),
		  "NVRTC %s (%s), %zu architectures", json_string_value(json_object_get(n, "version")),
		  path, json_array_size(json_object_get(n, "archs")));
}
