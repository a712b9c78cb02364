/*
 * probe/python.c: the check "python": the user's own libraries, seen from each Python
 * interpreter voxbench finds (--python PATH, $CONDA_PREFIX/bin/python, python3 on PATH).
 *
 * Each interpreter runs the shipped script python/probe.py in a child process with a time limit
 * (python/python.h); the script only observes and sends one JSON result per step. Here each
 * step becomes results with verdicts and fixes, table-driven (py_checks below), checked against
 * what the rest of the probe found: the GPU that passed the smoke test, the CUDA driver's
 * version. A step whose import crashes or hangs the interpreter is reported as such, and the
 * script runs again without it, so one broken library does not hide the others.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../python/python.h"

#define PY_TIMEOUT_S 120.0
#define PY_MAX_ATTEMPTS 10

/* What one interpreter said. */
struct py_ctx {
	struct probe *p;
	const struct py_interp *it;
	char py[4200];        /* the interpreter, quoted for a shell, for the fixes */
	json_t *steps;        /* {step: result} */
	json_t *crashed;      /* {step: "crashed with SIGSEGV"} */
	char ended[256];      /* how the last run ended */
	char tail[512];       /* the last line of its output */
	int done;             /* the script ran to its end */
};

/* ---- small helpers ---- */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int state_is(json_t *r, const char *state)
{
	return strcmp(str(r, "state"), state) == 0;
}

/* "13.0" from CUDA's 13000 */
static void cuda_text(int v, char *buf, size_t len)
{
	snprintf(buf, len, "%d.%d", v / 1000, (v % 1000) / 10);
}

/* A Python string literal's body: quotes and backslashes escaped. */
static void py_literal(const char *text, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *s = text; *s && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = '\0';
}

/* A result about this interpreter's library: the subject is always the interpreter. */
static struct check_result *add(struct py_ctx *c, const char *id, enum verdict v,
				const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct check_result *add(struct py_ctx *c, const char *id, enum verdict v,
				const char *fmt, ...)
{
	struct check_result *r = probe_add(c->p, id, v, c->it->path, "%s", "");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
	va_end(ap);
	return r;
}

/* The import of dist failed: FAIL with the error and the reinstall command. */
static void broken_import(struct py_ctx *c, const char *id, const char *dist, json_t *r)
{
	struct check_result *res = add(c, id, V_FAIL, "%s%s%s is installed but importing it fails: "
				       "%s", dist, str(r, "version")[0] ? " " : "",
				       str(r, "version"), str(r, "error"));

	result_detail(res, "module file: %s", str(r, "file")[0] ? str(r, "file") : "(not loaded)");
	result_fix(res, "%s -m pip install --force-reinstall %s", c->py, dist);
}

/* ---- the verdict of each step ---- */

static void v_numpy(struct py_ctx *c, json_t *r)
{
	struct check_result *res;

	if (state_is(r, "ok")) {
		add(c, "numpy", V_OK, "numpy %s", str(r, "version"));
	} else if (state_is(r, "missing")) {
		res = add(c, "numpy", V_WARN, "numpy is not installed: pyclesperanto and CuPy need it");
		result_fix(res, "%s -m pip install numpy", c->py);
	} else {
		broken_import(c, "numpy", "numpy", r);
	}
}

/* pyopencl's "no platform" error: -1001 (CL_PLATFORM_NOT_FOUND_KHR) from the ICD loader. */
static int platform_not_found(json_t *r)
{
	return json_integer_value(json_object_get(r, "code")) == -1001 ||
	       strstr(str(r, "error"), "PLATFORM_NOT_FOUND") || strstr(str(r, "error"), "-1001");
}

static void v_pyopencl(struct py_ctx *c, json_t *r)
{
	json_t *plats = json_object_get(r, "platforms"), *pl, *d;
	struct check_result *res;
	size_t i, j, ndev = 0, n = 0, nicd = json_array_size(json_object_get(r, "icds"));
	char list[400] = "";

	if (state_is(r, "missing")) {
		add(c, "pyopencl", V_SKIP, "pyopencl is not installed");
		return;
	}
	if (!json_object_get(r, "loader")) { /* the import itself failed */
		broken_import(c, "pyopencl", "pyopencl", r);
		return;
	}
	if (state_is(r, "broken") && platform_not_found(r)) {
		int conda = json_is_true(json_object_get(r, "loader_in_env"));

		res = add(c, "pyopencl", V_FAIL, "pyopencl %s finds no OpenCL platform (-1001, "
			  "PLATFORM_NOT_FOUND_KHR): its ICD loader %s reads %s, which %s",
			  str(r, "version"), str(r, "loader")[0] ? str(r, "loader") : "(unknown)",
			  str(r, "vendors_dir"), !json_is_true(json_object_get(r, "vendors_dir_exists"))
			  ? "does not exist" : nicd ? "names no working driver" : "is empty");
		result_detail(res, "%s", str(r, "error"));
		if (conda && nicd == 0)
			result_fix(res, "conda install -c conda-forge ocl-icd-system (the conda env's "
				   "own ocl-icd then also reads /etc/OpenCL/vendors)");
		else if (json_array_size(c->p->devices))
			result_fix(res, "the probe's loader finds %zu device(s) through %s: run this "
				   "Python with OCL_ICD_VENDORS=%s", json_array_size(c->p->devices),
				   c->p->vendor_dir[0] ? c->p->vendor_dir : "/etc/OpenCL/vendors",
				   c->p->vendor_dir[0] ? c->p->vendor_dir : "/etc/OpenCL/vendors");
		else
			result_fix(res, "install and register an OpenCL driver (see the OpenCL drivers "
				   "checks above)");
		return;
	}
	if (state_is(r, "broken")) {
		res = add(c, "pyopencl", V_FAIL, "pyopencl %s cannot list OpenCL platforms: %s",
			  str(r, "version"), str(r, "error"));
		result_fix(res, "%s -m pip install --force-reinstall pyopencl", c->py);
		return;
	}
	json_array_foreach(plats, i, pl) {
		json_array_foreach(json_object_get(pl, "devices"), j, d) {
			n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
					      "%s%s (%s)", ndev ? ", " : "", str(d, "name"),
					      str(d, "type"));
			ndev++;
		}
		if (n >= sizeof(list))
			break;
	}
	res = add(c, "pyopencl", ndev ? V_OK : V_WARN, "pyopencl %s: %zu platform%s, %zu device%s%s%s; "
		  "ICD loader %s", str(r, "version"), json_array_size(plats),
		  json_array_size(plats) == 1 ? "" : "s", ndev, ndev == 1 ? "" : "s",
		  ndev ? ": " : "", list, str(r, "loader")[0] ? str(r, "loader") : "(unknown)");
	if (!ndev)
		result_fix(res, "pyopencl's platforms have no device: install the device's OpenCL "
			   "driver (see the OpenCL checks above)");
}

/* The probe's device of this name (borrowed), or NULL. */
static json_t *probe_device(const struct probe *p, const char *name)
{
	json_t *d;
	size_t i;

	json_array_foreach(p->devices, i, d)
		if (strcmp(str(d, "name"), name) == 0)
			return d;
	json_array_foreach(p->devices, i, d)
		if (*name && (vb_contains_nocase(str(d, "name"), name) ||
			      vb_contains_nocase(name, str(d, "name"))))
			return d;
	return NULL;
}

static int smoke_passed(json_t *d)
{
	return strcmp(str(json_object_get(d, "smoke"), "status"), "pass") == 0;
}

/* A smoke-tested GPU that is not integrated (unified memory), else any smoke-tested GPU. */
static json_t *best_gpu(const struct probe *p)
{
	json_t *d, *any = NULL;
	size_t i;

	json_array_foreach(p->devices, i, d) {
		if (!smoke_passed(d) || strcmp(str(d, "type"), "gpu"))
			continue;
		if (!json_is_true(json_object_get(d, "unified_memory")))
			return d;
		if (!any)
			any = d;
	}
	return any;
}

/*
 * pyclesperanto and pyclesperanto_prototype: importable, a device, and whether it is the GPU
 * the OpenCL section found usable (a silently chosen CPU or integrated GPU is a WARN).
 */
static void cle_verdict(struct py_ctx *c, json_t *r, const char *id, const char *dist)
{
	const char *dev = str(r, "device"), *type = str(r, "device_type");
	json_t *probed = probe_device(c->p, dev), *best = best_gpu(c->p), *gpus, *g;
	const char *better = best ? str(best, "name") : "";
	char backends[256] = "", lit[512];
	struct check_result *res;
	size_t i, n = 0;

	if (state_is(r, "missing")) {
		add(c, id, V_SKIP, "%s is not installed", dist);
		return;
	}
	if (!json_object_get(r, "devices") && !json_object_get(r, "backends")) {
		broken_import(c, id, dist, r);
		return;
	}
	json_array_foreach(json_object_get(r, "backends"), i, g)
		n += (size_t)snprintf(backends + n, n < sizeof(backends) ? sizeof(backends) - n : 0,
				      "%s%s", i ? ", " : "", json_string_value(g));
	if (state_is(r, "broken") || !dev[0]) {
		res = add(c, id, V_FAIL, "%s %s finds no device (backends: %s): %s", dist,
			  str(r, "version"), backends[0] ? backends : "none",
			  str(r, "error")[0] ? str(r, "error") : "get_device() gave none");
		if (!json_array_size(json_object_get(r, "backends")) && strcmp(id, "pyclesperanto") == 0)
			result_fix(res, "install a backend: %s -m pip install pyclesperanto-opencl "
				   "(pyclesperanto-cuda on NVIDIA)", c->py);
		else
			result_fix(res, "make the OpenCL driver work first (see the OpenCL checks "
				   "above), then %s -c 'import %s as cle; print(cle.get_device())'",
				   c->py, dist);
		return;
	}
	if (!type[0] && probed)
		type = str(probed, "type");
	/* a GPU pyclesperanto itself lists (the probe may not have found it) */
	gpus = json_object_get(r, "gpus");
	if (!better[0] && json_array_size(gpus))
		better = json_string_value(json_array_get(gpus, 0));
	if (!strcmp(type, "cpu") && better && better[0]) {
		py_literal(better, lit, sizeof(lit));
		res = add(c, id, V_WARN, "%s %s picks the CPU: Used %s: %s, while the GPU %s %s",
			  dist, str(r, "version"), "CPU", dev, better,
			  best ? "passed voxbench's smoke test" : "is listed by it");
		result_fix(res, "select the GPU before any other call: import %s as cle; "
			   "cle.select_device(\"%s\")", dist, lit);
		return;
	}
	if (probed && best && probed != best && json_is_true(json_object_get(probed, "unified_memory")) &&
	    !json_is_true(json_object_get(best, "unified_memory"))) {
		py_literal(better, lit, sizeof(lit));
		res = add(c, id, V_WARN, "%s %s picks the integrated GPU %s, while the discrete GPU "
			  "%s passed voxbench's smoke test", dist, str(r, "version"), dev, better);
		result_fix(res, "select the discrete GPU before any other call: import %s as cle; "
			   "cle.select_device(\"%s\")", dist, lit);
		return;
	}
	if (probed && !smoke_passed(probed)) {
		res = add(c, id, V_WARN, "%s %s uses %s, which failed voxbench's smoke test", dist,
			  str(r, "version"), dev);
		if (best) {
			py_literal(better, lit, sizeof(lit));
			result_fix(res, "select a device that works: import %s as cle; "
				   "cle.select_device(\"%s\")", dist, lit);
		} else {
			result_fix(res, "fix that device's driver first (see the smoke checks above)");
		}
		return;
	}
	res = add(c, id, V_OK, "%s %s%s%s%s: Used %s: %s", dist, str(r, "version"),
		  backends[0] ? " (backends: " : "", backends, backends[0] ? ")" : "",
		  !strcmp(type, "cpu") ? "CPU" : "GPU", dev);
	if (!strcmp(type, "cpu"))
		result_detail(res, "no GPU is usable here: pyclesperanto runs on the CPU");
}

static void v_cle(struct py_ctx *c, json_t *r)
{
	cle_verdict(c, r, "pyclesperanto", "pyclesperanto");
}

static void v_cle_prototype(struct py_ctx *c, json_t *r)
{
	cle_verdict(c, r, "cle-prototype", "pyclesperanto_prototype");
}

/* The driver's highest CUDA version: the probe's cuda check, else what CuPy read; 0: none. */
static int driver_cuda(const struct py_ctx *c, json_t *r)
{
	json_t *cu = c->p->cuda;

	if (cu && json_is_true(json_object_get(cu, "found")) &&
	    json_integer_value(json_object_get(cu, "driver_version")) > 0)
		return (int)json_integer_value(json_object_get(cu, "driver_version"));
	return (int)json_integer_value(json_object_get(r, "driver"));
}

/* The one cupy distribution's name ("cupy-cuda12x"), or "cupy". */
static const char *cupy_dist(json_t *r)
{
	json_t *d = json_object_get(r, "distributions");

	return json_array_size(d) == 1 ? json_string_value(json_array_get(json_array_get(d, 0), 0))
				       : "cupy";
}

/* Two CuPy wheels at once: FAIL naming them, fix: uninstall all, install one. */
static int cupy_duplicates(struct py_ctx *c, json_t *r)
{
	json_t *dists = json_object_get(r, "distributions"), *d;
	char names[512] = "", list[600] = "", wheel[32] = "the one matching your driver";
	struct check_result *res;
	size_t i, n = 0, m = 0;
	int drv = driver_cuda(c, r);

	if (json_array_size(dists) < 2)
		return 0;
	json_array_foreach(dists, i, d) {
		n += (size_t)snprintf(names + n, n < sizeof(names) ? sizeof(names) - n : 0, " %s",
				      json_string_value(json_array_get(d, 0)));
		m += (size_t)snprintf(list + m, m < sizeof(list) ? sizeof(list) - m : 0, "%s%s %s",
				      i ? ", " : "", json_string_value(json_array_get(d, 0)),
				      json_string_value(json_array_get(d, 1)));
	}
	if (drv >= 11000)
		snprintf(wheel, sizeof(wheel), "cupy-cuda%dx", drv / 1000);
	res = add(c, "cupy", V_FAIL, "%zu CuPy packages are installed at once (%s): they overwrite "
		  "each other's files", json_array_size(dists), list);
	result_fix(res, "uninstall all but one: %s -m pip uninstall -y%s && %s -m pip install %s",
		   c->py, names, c->py, wheel);
	return 1;
}

/* NVRTC's version from the cupy-nvrtc step as CUDA writes versions (12040), 0 unknown. */
static int nvrtc_version(const struct py_ctx *c)
{
	const char *v = json_string_value(json_object_get(json_object_get(c->steps, "cupy_nvrtc"),
							  "nvrtc"));
	int major, minor;

	return v && sscanf(v, "%d.%d", &major, &minor) == 2 ? major * 1000 + minor * 10 : 0;
}

/*
 * CuPy built for a newer minor CUDA than the driver's. The runtime itself runs by minor-version
 * compatibility; what may fail is PTX from an NVRTC newer than the driver. When NVRTC is not
 * newer and its kernel compiled and ran (the cupy-nvrtc step), that is proven here: OK, with
 * a note. Else WARN.
 */
static void newer_minor(struct py_ctx *c, json_t *r, const char *dist, const char *rts, int drv)
{
	json_t *nv = json_object_get(c->steps, "cupy_nvrtc");
	int nvrtc = nvrtc_version(c), ran = nv && state_is(nv, "ok");
	char drvs[16], nvs[16];
	struct check_result *res;

	cuda_text(drv, drvs, sizeof(drvs));
	cuda_text(nvrtc, nvs, sizeof(nvs));
	if (nvrtc && nvrtc <= drv && ran &&
	    json_integer_value(json_object_get(r, "device_count")) > 0 &&
	    !json_object_get(r, "device_error")) {
		add(c, "cupy", V_OK, "CuPy %s (%s): CUDA runtime %s, driver CUDA %s; %s (sm_%s); "
		    "note: the runtime is newer than the driver, which minor-version compatibility "
		    "allows, and NVRTC %s, not newer than the driver, compiled a kernel that ran",
		    str(r, "version"), dist, rts, drvs, str(r, "device"), str(r, "arch"), nvs);
		return;
	}
	res = add(c, "cupy", V_WARN, "CuPy %s (%s) is built for CUDA %s, newer than the "
		  "driver's CUDA %s: it runs by minor-version compatibility, but kernels "
		  "NVRTC compiles as PTX may not load (CUDA_ERROR_UNSUPPORTED_PTX_VERSION)",
		  str(r, "version"), dist, rts, drvs);
	if (nvrtc > drv)
		result_detail(res, "NVRTC %s is newer than the driver's CUDA %s", nvs, drvs);
	else if (!ran)
		result_detail(res, "the cupy-nvrtc check did not compile and run a kernel");
	result_fix(res, "install an NVIDIA driver for CUDA %s or newer%s", rts,
		   nvrtc > drv ? ", or an NVRTC no newer than the driver's CUDA" : "");
}

static void v_cupy(struct py_ctx *c, json_t *r)
{
	int rt = (int)json_integer_value(json_object_get(r, "runtime")), drv = driver_cuda(c, r);
	const char *dist = cupy_dist(r);
	char rts[16], drvs[16];
	struct check_result *res;

	if (cupy_duplicates(c, r))
		return;
	if (state_is(r, "missing")) {
		if (json_array_size(json_object_get(r, "distributions"))) {
			res = add(c, "cupy", V_FAIL, "%s is installed but has no cupy module",
				  dist);
			result_fix(res, "%s -m pip install --force-reinstall %s", c->py, dist);
		} else {
			add(c, "cupy", V_SKIP, "CuPy is not installed");
		}
		return;
	}
	if (state_is(r, "broken") && !json_object_get(r, "runtime") &&
	    !json_object_get(r, "runtime_error")) {
		broken_import(c, "cupy", dist, r);
		return;
	}
	cuda_text(rt, rts, sizeof(rts));
	cuda_text(drv, drvs, sizeof(drvs));
	if (!rt) {
		res = add(c, "cupy", V_FAIL, "CuPy %s (%s) cannot say which CUDA runtime it uses: %s",
			  str(r, "version"), dist, str(r, "runtime_error"));
		result_fix(res, "%s -m pip install --force-reinstall %s", c->py, dist);
	} else if (!drv) {
		res = add(c, "cupy", V_WARN, "CuPy %s (%s, CUDA runtime %s) is installed but no "
			  "NVIDIA driver is loaded: CuPy cannot run here", str(r, "version"), dist,
			  rts);
		result_fix(res, "install the NVIDIA driver (see the cuda check above), or remove "
			   "CuPy: %s -m pip uninstall -y %s", c->py, dist);
	} else if (rt / 1000 > drv / 1000) {
		res = add(c, "cupy", V_FAIL, "CuPy %s (%s) is built for CUDA %s but the driver "
			  "supports at most CUDA %s: every CuPy call fails with "
			  "cudaErrorInsufficientDriver", str(r, "version"), dist, rts, drvs);
		result_fix(res, "%s -m pip uninstall -y %s && %s -m pip install cupy-cuda%dx, or "
			   "install an NVIDIA driver for CUDA %s or newer", c->py, dist, c->py,
			   drv / 1000, rts);
	} else if (rt / 1000 == drv / 1000 && rt % 1000 > drv % 1000) {
		newer_minor(c, r, dist, rts, drv);
	} else if (json_object_get(r, "device_error")) {
		res = add(c, "cupy", V_FAIL, "CuPy %s (%s, CUDA runtime %s, driver CUDA %s) cannot "
			  "reach a GPU: %s", str(r, "version"), dist, rts, drvs,
			  str(r, "device_error"));
		result_fix(res, "check the cuda check above and CUDA_VISIBLE_DEVICES; then %s -c "
			   "'import cupy; print(cupy.cuda.runtime.getDeviceCount())'", c->py);
	} else if (!json_integer_value(json_object_get(r, "device_count"))) {
		res = add(c, "cupy", V_WARN, "CuPy %s (%s) sees no CUDA device", str(r, "version"),
			  dist);
		result_fix(res, "check CUDA_VISIBLE_DEVICES and the cuda check above");
	} else {
		add(c, "cupy", V_OK, "CuPy %s (%s): CUDA runtime %s, driver CUDA %s; %s (sm_%s)",
		    str(r, "version"), dist, rts, drvs, str(r, "device"), str(r, "arch"));
	}
}

/* Whether CuPy's own check found a GPU to run on (NVRTC and the smoke op need one). */
static int cupy_usable(struct py_ctx *c)
{
	json_t *r = json_object_get(c->steps, "cupy");

	return r && state_is(r, "ok") && json_array_size(json_object_get(r, "distributions")) < 2 &&
	       json_integer_value(json_object_get(r, "device_count")) > 0;
}

static void v_cupy_nvrtc(struct py_ctx *c, json_t *r)
{
	const char *dist = cupy_dist(json_object_get(c->steps, "cupy")), *where = str(r, "where");
	struct check_result *res;

	if (!cupy_usable(c))
		return;
	if (state_is(r, "ok")) {
		add(c, "cupy-nvrtc", V_OK, "NVRTC %s compiled a kernel for sm_%s and it ran right",
		    str(r, "nvrtc"), str(r, "arch"));
		return;
	}
	if (!strcmp(where, "run")) {
		res = add(c, "cupy-nvrtc", V_FAIL, "a kernel NVRTC %s compiled for sm_%s gives wrong "
			  "values: %s", str(r, "nvrtc"), str(r, "arch"), str(r, "error"));
		result_fix(res, "update the NVIDIA driver; check `nvidia-smi`");
		return;
	}
	res = add(c, "cupy-nvrtc", V_FAIL, "%s: %s",
		  !strcmp(where, "compile") ? "NVRTC cannot compile a kernel for this GPU"
					    : "CuPy cannot load NVRTC", str(r, "error"));
	if (!strcmp(where, "compile"))
		result_detail(res, "NVRTC %s, GPU architecture sm_%s", str(r, "nvrtc"),
			      str(r, "arch"));
	result_fix(res, "install the NVRTC of CuPy's CUDA major: %s -m pip install \"%s[ctk]\" (or "
		   "the CUDA toolkit's NVRTC that supports this GPU)", c->py, dist);
}

static void v_cupy_smoke(struct py_ctx *c, json_t *r)
{
	struct check_result *res;

	if (!cupy_usable(c))
		return;
	if (state_is(r, "ok")) {
		add(c, "cupy-smoke", V_OK, "CuPy smoke op: sum(2 * arange(4096)) = %.0f, right",
		    json_number_value(json_object_get(r, "value")));
		return;
	}
	res = add(c, "cupy-smoke", V_FAIL, "CuPy's smoke op failed: %s", str(r, "error"));
	result_fix(res, "update the NVIDIA driver, then reinstall CuPy: %s -m pip install "
		   "--force-reinstall %s", c->py, cupy_dist(json_object_get(c->steps, "cupy")));
}

static void v_napari(struct py_ctx *c, json_t *r)
{
	json_t *plugins = json_object_get(r, "plugins"), *pr;
	const char *name;
	char missing[256] = "";
	int present = 0;

	json_object_foreach(plugins, name, pr) {
		if (state_is(pr, "missing")) {
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", name);
			continue;
		}
		present++;
		if (state_is(pr, "ok"))
			add(c, "napari", V_OK, "%s %s is importable", name, str(pr, "version"));
		else
			broken_import(c, "napari", name, pr);
	}
	if (!present)
		add(c, "napari", V_SKIP, "napari plugins not installed: %s", missing);
}

/* The steps of python/probe.py that become checks, in its order. */
static const struct py_check {
	const char *step;   /* the script's step */
	const char *id;     /* the check id of its results */
	const char *what;   /* for a crash: "importing pyclesperanto" */
	void (*verdict)(struct py_ctx *c, json_t *result);
} py_checks[] = {
	{ "numpy", "numpy", "importing numpy", v_numpy },
	{ "pyopencl", "pyopencl", "importing pyopencl and listing its platforms", v_pyopencl },
	{ "pyclesperanto", "pyclesperanto", "importing pyclesperanto and getting its device", v_cle },
	{ "pyclesperanto_prototype", "cle-prototype",
	  "importing pyclesperanto_prototype and getting its device", v_cle_prototype },
	{ "cupy", "cupy", "importing CuPy and asking for its CUDA runtime and devices", v_cupy },
	{ "cupy_nvrtc", "cupy-nvrtc", "compiling a kernel with CuPy's NVRTC", v_cupy_nvrtc },
	{ "cupy_smoke", "cupy-smoke", "running CuPy's smoke op", v_cupy_smoke },
	{ "napari", "napari", "importing the napari plugins", v_napari },
};
#define NPY_CHECKS (sizeof(py_checks) / sizeof(py_checks[0]))

/* ---- running the script ---- */

/* The Python probe's runs: the interpreters found, the script, a child each, started by
 * python_start (ahead of the other checks with --quick). */
struct py_runs {
	struct py_interps found;
	char script[4200];
	int have_script;
	struct vb_err script_err;
	struct py_proc proc[PY_MAX_INTERPS];
	int started[PY_MAX_INTERPS];
	double started_ms[PY_MAX_INTERPS];
};

static void log_path(const struct probe *p, size_t index, char *buf, size_t len)
{
	snprintf(buf, len, "%s/python-%zu.log", p->tmpdir, index);
}

void python_start(struct probe *p)
{
	struct py_runs *e;

	if (p->opt.no_python || !(e = calloc(1, sizeof(*e))))
		return;
	py_find(p->opt.python, p->opt.npython, &e->found);
	e->have_script = py_script_write(p->tmpdir, "probe", e->script, sizeof(e->script),
					 &e->script_err) == VB_OK;
	for (size_t i = 0; e->have_script && i < e->found.n; i++) {
		char log[4200];
		struct vb_err ignored; /* check_python starts it again and says why */

		if (!e->found.v[i].exists)
			continue;
		log_path(p, i, log, sizeof(log));
		e->started_ms[i] = vb_now_ms();
		e->started[i] = py_start(&e->proc[i], e->found.v[i].path, e->script, NULL, log,
					 &ignored) == VB_OK;
	}
	p->py_runs = e;
}

void python_runs_free(struct probe *p)
{
	for (size_t i = 0; p->py_runs && i < p->py_runs->found.n; i++)
		if (p->py_runs->started[i])
			py_stop(&p->py_runs->proc[i], 1);
	free(p->py_runs);
	p->py_runs = NULL;
}

/* The child started ahead for interpreter `index`, now the caller's, or NULL. */
static struct py_proc *take_run(struct probe *p, size_t index, double *started_ms)
{
	if (!p->py_runs || index >= p->py_runs->found.n || !p->py_runs->started[index])
		return NULL;
	p->py_runs->started[index] = 0;
	*started_ms = p->py_runs->started_ms[index];
	return &p->py_runs->proc[index];
}

/* One run of the script; the step it was in when it crashed or hung, or NULL. */
static const char *run_once(struct py_ctx *c, const char *script, const char *skip,
			    const char *log, double timeout_s, struct py_proc *started,
			    double started_ms)
{
	const char *args[3] = { skip[0] ? "--skip" : NULL, skip, NULL };
	struct py_proc proc;
	struct vb_err err = { "" };
	double deadline = (started ? started_ms : vb_now_ms()) + timeout_s * 1e3;
	json_t *msg, *pending = NULL;
	static char step[64];
	int rc;

	if (started) {
		proc = *started; /* started by python_start, with no step skipped */
	} else if (py_start(&proc, c->it->path, script, args, log, &err) != VB_OK) {
		snprintf(c->ended, sizeof(c->ended), "%s", err.msg);
		return NULL;
	}
	while ((rc = py_recv(&proc, deadline, &msg)) == PY_MSG) {
		if (json_object_get(msg, "phase")) {
			json_decref(pending);
			pending = json_incref(json_object_get(msg, "step"));
		} else if (json_is_string(json_object_get(msg, "step")) &&
			   json_object_get(msg, "result")) {
			json_object_set(c->steps, str(msg, "step"), json_object_get(msg, "result"));
			json_decref(pending);
			pending = NULL;
		} else if (json_is_true(json_object_get(msg, "done"))) {
			c->done = 1;
		}
		json_decref(msg);
	}
	py_stop(&proc, rc == PY_TIMEOUT);
	py_describe(&proc, c->ended, sizeof(c->ended));
	py_log_tail(&proc, c->tail, sizeof(c->tail));
	if (c->done || !json_is_string(pending)) {
		json_decref(pending);
		return NULL;
	}
	snprintf(step, sizeof(step), "%s", json_string_value(pending));
	json_decref(pending);
	json_object_set_new(c->crashed, step, json_string(c->ended));
	return step;
}

/* The script over this interpreter, again without each step that crashed or hung it. */
static void run_script(struct py_ctx *c, const char *script, size_t index)
{
	double timeout_s = py_timeout_s("VOXBENCH_PYTHON_TIMEOUT", PY_TIMEOUT_S);
	char skip[512] = "", log[4200];
	const char *crashed;
	double started_ms = 0;
	struct py_proc *started = take_run(c->p, index, &started_ms);

	log_path(c->p, index, log, sizeof(log));
	for (int attempt = 0; attempt < PY_MAX_ATTEMPTS && !c->done; attempt++) {
		crashed = run_once(c, script, skip, log, timeout_s, attempt ? NULL : started, started_ms);
		if (!crashed)
			break;
		snprintf(skip + strlen(skip), sizeof(skip) - strlen(skip), "%s%s",
			 skip[0] ? "," : "", crashed);
	}
}

/* The interpreter itself: found, started, Python 3 with the script running. */
static int interpreter_verdict(struct py_ctx *c)
{
	json_t *r = json_object_get(c->steps, "python");
	struct check_result *res;

	if (!c->it->exists) {
		res = add(c, "python", V_FAIL, "%s (%s) is not an executable file", c->it->path,
			  c->it->origin);
		result_fix(res, "give the path of a Python interpreter: --python /path/to/python "
			   "(`command -v python3` prints one)");
		return 0;
	}
	if (!r) {
		res = add(c, "python", V_FAIL, "%s (%s) does not run voxbench's Python probe: it %s",
			  c->it->path, c->it->origin, c->ended);
		if (c->tail[0])
			result_detail(res, "its last output: %s", c->tail);
		result_fix(res, "check that it is Python 3: %s --version", c->py);
		return 0;
	}
	res = add(c, "python", V_OK, "Python %s (%s, from %s)%s%s", str(r, "version"), c->it->path,
		  c->it->origin, json_is_true(json_object_get(r, "conda")) ? ", conda env " : "",
		  json_is_true(json_object_get(r, "conda")) ? str(r, "prefix") : "");
	if (str(r, "pythonpath")[0])
		result_detail(res, "PYTHONPATH=%s", str(r, "pythonpath"));
	if (!c->done && !json_object_size(c->crashed)) {
		res = add(c, "python", V_FAIL, "voxbench's Python probe stopped early: it %s",
			  c->ended);
		if (c->tail[0])
			result_detail(res, "its last output: %s", c->tail);
		result_fix(res, "run %s -c 'import numpy' to see the error", c->py);
	}
	return 1;
}

static void check_one(struct probe *p, const struct py_interp *it, const char *script,
		      size_t index)
{
	struct py_ctx c = { .p = p, .it = it };
	json_t *entry;

	c.steps = json_object();
	c.crashed = json_object();
	py_shell_quote(it->path, c.py, sizeof(c.py));
	if (it->exists && script)
		run_script(&c, script, index);
	if (interpreter_verdict(&c)) {
		for (size_t i = 0; i < NPY_CHECKS; i++) {
			const struct py_check *k = &py_checks[i];
			json_t *crash = json_object_get(c.crashed, k->step), *r;
			struct check_result *res;

			if (crash) {
				res = add(&c, k->id, V_FAIL, "%s %s Python", k->what,
					  json_string_value(crash));
				result_fix(res, "run it alone to see the error: %s -X faulthandler -c "
					   "'import %s'; then reinstall that package", c.py,
					   strncmp(k->step, "cupy", 4) ? k->step : "cupy");
			} else if ((r = json_object_get(c.steps, k->step))) {
				k->verdict(&c, r);
			}
		}
	}
	entry = json_pack("{s:s, s:s, s:b, s:s, s:s, s:O, s:O}", "interpreter", it->path,
			  "origin", it->origin, "exists", it->exists, "ended", c.ended,
			  "last_output", c.tail, "steps", c.steps, "crashed", c.crashed);
	json_array_append_new(p->python, entry);
	json_decref(c.steps);
	json_decref(c.crashed);
}

void check_python(struct probe *p)
{
	struct py_runs *e;
	struct check_result *r;

	if (!p->python)
		p->python = json_array();
	if (p->opt.no_python) {
		probe_add(p, "python", V_SKIP, "", "the Python section is off (--python none)");
		return;
	}
	if (!p->py_runs) /* not started ahead (--quick does): now */
		python_start(p);
	if (!(e = p->py_runs)) {
		probe_add(p, "python", V_FAIL, "", "out of memory starting the Python probe");
		return;
	}
	if (!e->found.n) {
		r = probe_add(p, "python", V_SKIP, "", "no Python interpreter found (python3 on "
			      "PATH, $CONDA_PREFIX/bin/python, --python PATH)");
		result_detail(r, "PATH=%s", getenv("PATH") ? getenv("PATH") : "");
	} else if (!e->have_script) {
		r = probe_add(p, "python", V_FAIL, "", "cannot run the Python probe: %s",
			      e->script_err.msg);
		result_fix(r, "set TMPDIR to a writable folder");
	} else {
		for (size_t i = 0; i < e->found.n; i++)
			check_one(p, &e->found.v[i], e->script, i);
	}
	python_runs_free(p);
}
