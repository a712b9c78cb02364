/*
 * probe/loader.c: the checks of the OpenCL loader and its vendor drivers: loader, vendors, icd,
 * registered.
 *
 * The loader reads a folder of .icd files (or what OCL_ICD_VENDORS / OCL_ICD_FILENAMES say), and
 * dlopens the library named on each file's first line. These checks walk the same path the
 * loader walks, and dlopen each library in a child, so a missing file, a missing dependency, a
 * library that is not an ICD and a driver present but never registered are each named.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ocl-icd's loader-info extension (cl_loader_info); the Khronos headers here lack it. */
#ifndef CL_ICDL_OCL_VERSION
#define CL_ICDL_OCL_VERSION 1
#define CL_ICDL_VERSION 2
#define CL_ICDL_NAME 3
#define CL_ICDL_VENDOR 4
#endif
typedef cl_int (*icdl_info_fn)(cl_uint, size_t, void *, size_t *);

#define CHILD_TIMEOUT_S 60.0

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- loader ---- */

/* The OpenCL version the loader exports: the newest of the marker functions it has. */
static const char *exported_version(void)
{
	if (cl.clSetContextDestructorCallback)
		return "3.0";
	if (cl.clSetProgramSpecializationConstant)
		return "2.2";
	if (cl.clCreateProgramWithIL)
		return "2.1";
	if (cl.clCreateCommandQueueWithProperties)
		return "2.0";
	if (cl.clEnqueueFillImage)
		return "1.2";
	return cl.clCreateSubBuffer ? "1.1" : "1.0";
}

static void icdl_string(icdl_info_fn f, cl_uint what, const char *key, json_t *o)
{
	char buf[256] = "";

	if (f(what, sizeof(buf) - 1, buf, NULL) == CL_SUCCESS)
		json_object_set_new(o, key, json_string(buf));
}

/* Child: ask the loader about itself, with no driver registered (one could crash). */
static void loader_info_child(FILE *out, void *arg)
{
	icdl_info_fn f;
	json_t *o = json_object();

	setenv("OCL_ICD_VENDORS", (const char *)arg, 1);
	unsetenv("OCL_ICD_FILENAMES");
	*(void **)&f = cl.clGetExtensionFunctionAddress("clGetICDLoaderInfoOCLICD");
	if (f) {
		icdl_string(f, CL_ICDL_NAME, "name", o);
		icdl_string(f, CL_ICDL_VENDOR, "vendor", o);
		icdl_string(f, CL_ICDL_VERSION, "version", o);
		icdl_string(f, CL_ICDL_OCL_VERSION, "opencl_version", o);
	}
	child_send(out, json_pack("{s:o}", "loader_info", o));
}

static void loader_missing(struct probe *p, const struct vb_err *err)
{
	const char *override = getenv("VOXBENCH_OPENCL_LIBRARY");
	const char *name = override && *override ? override : "libOpenCL.so.1";
	struct check_result *r;
	char hint[512];

	r = probe_add(p, "loader", V_FAIL, "", "cannot load the OpenCL loader %s", name);
	result_detail(r, "%s", err->msg);
	install_hint(hint, sizeof(hint), "ocl-icd-libopencl1", "ocl-icd", "ocl-icd");
	if (override && *override)
		result_fix(r, "VOXBENCH_OPENCL_LIBRARY=%s does not load: unset it (unset "
			   "VOXBENCH_OPENCL_LIBRARY), or install a loader: %s", override, hint);
	else
		result_fix(r, "install an OpenCL ICD loader: %s", hint);
	p->loader = json_pack("{s:b, s:s, s:s}", "loaded", 0, "requested", name, "error",
			      err->msg);
}

/* Child: open the loader as the probe would; a constructor that crashes takes the child. */
static void loader_load_child(FILE *out, void *arg)
{
	struct vb_err err = { "" };

	(void)arg;
	child_phase(out, "loader", -1, "being opened");
	child_send(out, json_pack("{s:b}", "loaded", cl_api_load(&err) == VB_OK));
}

/*
 * The loader is opened in a child first (VOXBENCH_OPENCL_LIBRARY may name a library whose
 * constructor crashes or hangs): 0 when it survived; else a FAIL result, and -1.
 */
static int loader_survives(struct probe *p)
{
	const char *override = getenv("VOXBENCH_OPENCL_LIBRARY");
	const char *name = override && *override ? override : "libOpenCL.so.1";
	struct vb_err err = { "" };
	struct check_result *r;
	struct child_out co;
	char how[512];

	if (cl.handle || child_run(loader_load_child, NULL, CHILD_TIMEOUT_S, &co, &err) != VB_OK)
		return 0; /* loaded already, or no child to try it in: as before */
	if (!co.signal && !co.timed_out) {
		child_out_free(&co);
		return 0;
	}
	child_describe(&co, how, sizeof(how));
	child_out_free(&co);
	r = probe_add(p, "loader", V_FAIL, "", "the OpenCL loader %s %s", name, how);
	result_detail(r, "every OpenCL program that opens it does the same");
	if (override && *override)
		result_fix(r, "VOXBENCH_OPENCL_LIBRARY=%s is broken: unset it (unset "
			   "VOXBENCH_OPENCL_LIBRARY), or point it at a working loader", override);
	else
		result_fix(r, "reinstall the OpenCL loader (Debian/Ubuntu: apt-get install --reinstall "
			   "ocl-icd-libopencl1)");
	p->loader = json_pack("{s:b, s:b, s:s, s:s}", "loaded", 0, "crashed", 1, "requested", name,
			      "error", how);
	return -1;
}

void check_loader(struct probe *p)
{
	struct vb_err err = { "" };
	struct child_out co;
	char real[PATH_MAX], empty[4200];
	json_t *info = NULL;
	const char *name, *version;

	if (loader_survives(p) != 0)
		return;
	if (cl_api_load(&err) != VB_OK) {
		loader_missing(p, &err);
		return;
	}
	p->have_loader = 1;
	snprintf(empty, sizeof(empty), "%s/empty/", p->tmpdir);
	if (child_run(loader_info_child, empty, CHILD_TIMEOUT_S, &co, &err) == VB_OK) {
		for (size_t i = 0; i < json_array_size(co.msgs); i++)
			if (json_object_get(json_array_get(co.msgs, i), "loader_info"))
				info = json_incref(json_object_get(json_array_get(co.msgs, i),
								   "loader_info"));
		child_out_free(&co);
	}
	if (!info)
		info = json_object();
	if (!realpath(cl.path, real))
		snprintf(real, sizeof(real), "%s", cl.path);
	json_object_set_new(info, "loaded", json_true());
	json_object_set_new(info, "path", json_string(cl.path));
	json_object_set_new(info, "file", json_string(real));
	json_object_set_new(info, "exports_opencl", json_string(exported_version()));
	p->loader = info;
	name = json_string_value(json_object_get(info, "name"));
	version = json_string_value(json_object_get(info, "version"));
	p->loader_is_ocl_icd = vb_contains_nocase(
		json_string_value(json_object_get(info, "vendor")) ?: "", "ocl icd");
	if (name)
		probe_add(p, "loader", V_OK, "", "%s %s loads from %s (exports OpenCL %s)",
			  p->loader_is_ocl_icd ? "ocl-icd" : name, version ? version : "", real,
			  exported_version());
	else
		probe_add(p, "loader", V_OK, "", "an OpenCL loader loads from %s (exports OpenCL "
			  "%s; it does not tell its name)", real, exported_version());
}

/* ---- vendors: where the .icd files come from ---- */

/* What names this driver: its .icd file, or the variable that lists the library. */
static const char *origin(const struct vendor *v)
{
	return v->icd[0] ? v->icd : v->origin;
}

static void add_vendor(struct probe *p, const char *label, const char *icd, const char *lib,
		       const char *from)
{
	struct vendor *v;

	if (p->nvendors >= PROBE_MAX_VENDORS)
		return;
	v = &p->vendors[p->nvendors++];
	memset(v, 0, sizeof(*v));
	snprintf(v->label, sizeof(v->label), "%s", label);
	snprintf(v->icd, sizeof(v->icd), "%s", icd);
	snprintf(v->library, sizeof(v->library), "%s", lib);
	snprintf(v->origin, sizeof(v->origin), "%s", from);
	v->registered = 1;
	v->ndevices = -1;
	p->nregistered = p->nvendors;
}

/*
 * The library an .icd file names, read as the loader reads it, nothing trimmed: ocl-icd takes
 * the first line, the Khronos loader the whole file, each less one final '\n'; a CR or spaces
 * around the name stay and make the loader's dlopen fail (icd_name_problem says so). Returns 0,
 * or the errno when the file cannot be read ("" in lib).
 */
static int icd_library(const char *path, int whole_file, char *lib, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int e = 0;

	lib[0] = '\0';
	if (!f)
		return errno ? errno : EIO;
	if (whole_file)
		n = fread(lib, 1, len - 1, f);
	else if (fgets(lib, (int)len, f))
		n = strlen(lib);
	if (ferror(f))
		e = errno ? errno : EIO;
	fclose(f);
	lib[n] = '\0';
	if (n && lib[n - 1] == '\n')
		lib[n - 1] = '\0';
	return e;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Register every *.icd in dir, sorted; returns how many other files were there. */
static int scan_dir(struct probe *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[PROBE_MAX_VENDORS];
	int n = 0, others = 0, e;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < PROBE_MAX_VENDORS) {
		if (de->d_name[0] == '.')
			continue;
		if (!ends_with(de->d_name, ".icd")) {
			others++;
			continue;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		char path[4200], lib[4096];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		e = icd_library(path, !p->loader_is_ocl_icd, lib, sizeof(lib));
		add_vendor(p, names[i], path, lib, "");
		if (p->nvendors)
			p->vendors[p->nvendors - 1].icd_errno = e;
		free(names[i]);
	}
	return others;
}

/* conda's ocl-icd reads <prefix>/etc/OpenCL/vendors when its own loader is the one loaded. */
static int conda_loader(const struct probe *p)
{
	const char *prefix = getenv("CONDA_PREFIX");
	const char *file = p->loader ? json_string_value(json_object_get(p->loader, "file")) : NULL;

	return prefix && *prefix && file && strncmp(file, prefix, strlen(prefix)) == 0;
}

/* Decide the source the loader reads, as ocl-icd and the Khronos loader do. */
static void vendor_source(struct probe *p, const char **single)
{
	const char *env = getenv("OCL_ICD_VENDORS"), *vpath = getenv("OPENCL_VENDOR_PATH");

	*single = NULL;
	if (env && *env) {
		snprintf(p->vendor_source, sizeof(p->vendor_source), "OCL_ICD_VENDORS");
		if (is_dir(env) || (p->have_loader && !p->loader_is_ocl_icd))
			snprintf(p->vendor_dir, sizeof(p->vendor_dir), "%s", env);
		else
			*single = env; /* ocl-icd: one .icd file, or a library itself */
	} else if (vpath && *vpath && p->loader_is_ocl_icd) {
		snprintf(p->vendor_source, sizeof(p->vendor_source), "OPENCL_VENDOR_PATH");
		snprintf(p->vendor_dir, sizeof(p->vendor_dir), "%s", vpath);
	} else if (conda_loader(p)) {
		snprintf(p->vendor_source, sizeof(p->vendor_source), "conda prefix");
		snprintf(p->vendor_dir, sizeof(p->vendor_dir), "%s/etc/OpenCL/vendors",
			 getenv("CONDA_PREFIX"));
	} else {
		snprintf(p->vendor_source, sizeof(p->vendor_source), "default");
		snprintf(p->vendor_dir, sizeof(p->vendor_dir), "/etc/OpenCL/vendors");
	}
}

/* OCL_ICD_FILENAMES: libraries the Khronos loader adds; ocl-icd ignores the variable. */
static void filenames(struct probe *p)
{
	const char *env = getenv("OCL_ICD_FILENAMES");
	char buf[8192], *save = NULL;
	struct check_result *r;

	if (!env || !*env)
		return;
	if (p->loader_is_ocl_icd) {
		r = probe_add(p, "vendors", V_WARN, "OCL_ICD_FILENAMES",
			      "OCL_ICD_FILENAMES is set but ocl-icd ignores it");
		result_detail(r, "OCL_ICD_FILENAMES=%s", env);
		result_fix(r, "list the drivers in a folder of .icd files instead: mkdir -p ~/icd "
			   "&& echo LIBRARY > ~/icd/NAME.icd && export OCL_ICD_VENDORS=$HOME/icd/");
		return;
	}
	snprintf(buf, sizeof(buf), "%s", env);
	for (char *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		add_vendor(p, base_name(tok), "", tok, "OCL_ICD_FILENAMES");
}

static void vendors_missing(struct probe *p, const char *why)
{
	char hint[512];
	struct check_result *r;

	r = probe_add(p, "vendors", V_FAIL, p->vendor_dir, "%s", why);
	result_detail(r, "the loader reads %s (%s); without a .icd file there, OpenCL has no "
		      "driver", p->vendor_dir, p->vendor_source);
	install_hint(hint, sizeof(hint), "pocl-opencl-icd", "pocl", "pocl");
	result_fix(r, "install an OpenCL driver: your GPU's (NVIDIA: the driver's OpenCL "
		   "package, e.g. nvidia-opencl-icd; AMD: rocm-opencl-runtime; Intel: "
		   "intel-opencl-icd) or, for the CPU, %s; a driver library that is already "
		   "installed is named by the registered check", hint);
}

/* Older Khronos loaders (the one CUDA ships) read "$OCL_ICD_VENDORS" "file.icd" as one name. */
static void vendors_slash(struct probe *p)
{
	const char *env = getenv("OCL_ICD_VENDORS");
	struct check_result *r;

	if (!env || !*env || !is_dir(env) || ends_with(env, "/") || !p->have_loader ||
	    p->loader_is_ocl_icd)
		return;
	r = probe_add(p, "vendors", V_WARN, "OCL_ICD_VENDORS",
		      "OCL_ICD_VENDORS=%s lacks a trailing '/': older Khronos loaders then find "
		      "no .icd file in it", env);
	result_detail(r, "they join the folder and the file name without a '/' (%sdriver.icd)",
		      env);
	result_fix(r, "export OCL_ICD_VENDORS=%s/", env);
}

void check_vendors(struct probe *p)
{
	const char *single;
	int others = 0;

	vendor_source(p, &single);
	if (single) {
		add_vendor(p, base_name(single), ends_with(single, ".icd") ? single : "", single,
			   "OCL_ICD_VENDORS");
		if (ends_with(single, ".icd"))
			p->vendors[p->nvendors - 1].icd_errno = icd_library(
				single, !p->loader_is_ocl_icd, p->vendors[p->nvendors - 1].library, 4096);
	} else if (!is_dir(p->vendor_dir)) {
		vendors_missing(p, "the vendor folder does not exist");
	} else {
		others = scan_dir(p, p->vendor_dir);
	}
	filenames(p);
	vendors_slash(p);
	if (!p->nvendors && (single || is_dir(p->vendor_dir)))
		vendors_missing(p, "no .icd file in the vendor folder");
	else if (p->nvendors)
		probe_add(p, "vendors", V_OK, single ? single : p->vendor_dir,
			  "%zu driver%s registered in %s (%s)%s", p->nvendors,
			  p->nvendors == 1 ? "" : "s", single ? single : p->vendor_dir,
			  p->vendor_source, others ? ", other files ignored" : "");
}

/* ---- icd: does each registered library load and resolve the ICD entry point ---- */

/* The file the dynamic linker opened for handle, realpath'd. */
static void handle_path(void *handle, char *out, size_t len)
{
	struct link_map *map = NULL;
	char real[PATH_MAX];

	out[0] = '\0';
	if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name)
		snprintf(out, len, "%s", realpath(map->l_name, real) ? real : map->l_name);
}

/* Child: dlopen the library as a loader would, then look for the ICD entry points. */
static void icd_child(FILE *out, void *arg)
{
	const char *lib = arg;
	void *h, *gx;
	char path[PATH_MAX];
	void *(*get)(const char *);

	child_phase(out, "icd", -1, "loading %s", lib);
	h = dlopen(lib, RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		child_send(out, json_pack("{s:b, s:s}", "loads", 0, "error", dlerror()));
		return;
	}
	handle_path(h, path, sizeof(path));
	gx = dlsym(h, "clGetExtensionFunctionAddress");
	child_send(out, json_pack("{s:b, s:s, s:b}", "loads", 1, "path", path, "has_gefa",
				  gx != NULL));
	if (!gx)
		return;
	*(void **)&get = gx;
	child_phase(out, "icd", -1, "resolving clIcdGetPlatformIDsKHR");
	/* ocl-icd falls back on the exported symbols; the Khronos loader asks gefa only. */
	child_send(out, json_pack("{s:b, s:b, s:b}", "icd_entry",
				  get("clIcdGetPlatformIDsKHR") != NULL, "icd_symbol",
				  dlsym(h, "clIcdGetPlatformIDsKHR") != NULL, "platform_info",
				  get("clGetPlatformInfo") || dlsym(h, "clGetPlatformInfo")));
}

static json_t *find_msg(json_t *msgs, const char *key)
{
	for (size_t i = 0; i < json_array_size(msgs); i++)
		if (json_object_get(json_array_get(msgs, i), key))
			return json_array_get(msgs, i);
	return NULL;
}

/* Why dlopen failed, in words, with the fix. */
static void explain_dlerror(struct check_result *r, const struct vendor *v, const char *msg)
{
	const char *colon = strstr(msg, ": cannot open shared object file");
	char first[512];
	const char *who = origin(v);

	snprintf(first, sizeof(first), "%.*s", colon ? (int)(colon - msg) : 0, msg);
	result_detail(r, "dlopen: %s", msg);
	if (colon && strcmp(base_name(first), base_name(v->library)) == 0) {
		result_summary(r, "%s names %s, which %s", v->label,
			 v->library, strchr(v->library, '/') ? "does not exist"
							     : "the dynamic linker cannot find");
		result_fix(r, "install the driver that provides %s, or remove the stale file: "
			   "%srm %s", base_name(v->library), sudo_for(who), who);
	} else if (colon) {
		result_summary(r, "%s: %s is missing a dependency: %s",
			 v->label, v->library, first);
		result_fix(r, "install the package that provides %s (it belongs with the driver "
			   "of %s); `ldd %s` lists what else is missing", first, v->library,
			   v->library);
	} else {
		result_summary(r, "%s: %s does not load", v->label,
			 v->library);
		result_fix(r, "reinstall the driver that provides %s, or remove %s", v->library,
			   who);
	}
}

static void not_an_icd(struct check_result *r, const struct vendor *v, const char *why)
{
	const char *who = origin(v);

	result_summary(r, "%s: %s loads but is not an OpenCL ICD: %s", v->label, v->library, why);
	result_detail(r, "a loader only uses libraries that resolve clIcdGetPlatformIDsKHR (the "
		      "cl_khr_icd extension)");
	result_fix(r, "point %s at the vendor's ICD library, or remove it: %srm %s", who,
		   sudo_for(who), who);
}

/* The library loads: does the loader in use accept it as a driver? */
static void icd_entry_points(struct probe *p, struct check_result *r, struct vendor *v,
			     json_t *entry)
{
	int gefa = json_is_true(json_object_get(entry, "icd_entry"));
	int sym = json_is_true(json_object_get(entry, "icd_symbol"));
	const char *assume = getenv("OCL_ICD_ASSUME_ICD_EXTENSION");

	if (!entry) {
		not_an_icd(r, v, "it exports no clGetExtensionFunctionAddress");
	} else if (!gefa && !(sym && p->loader_is_ocl_icd)) {
		not_an_icd(r, v, "clGetExtensionFunctionAddress does not resolve "
			   "clIcdGetPlatformIDsKHR");
	} else if (p->loader_is_ocl_icd && !(assume && *assume) &&
		   !json_is_true(json_object_get(entry, "platform_info"))) {
		result_summary(r, "%s: %s resolves no clGetPlatformInfo: ocl-icd skips it",
			       v->label, v->library);
		result_fix(r, "export OCL_ICD_ASSUME_ICD_EXTENSION=1");
	} else {
		v->usable = 1;
		r->status = V_OK;
		result_summary(r, "%s: %s loads and resolves clIcdGetPlatformIDsKHR", v->label,
			       v->resolved);
	}
}

/* Turn what the icd child said into the vendor's verdict. */
static void icd_verdict(struct probe *p, struct vendor *v, const struct child_out *co)
{
	json_t *load = find_msg(co->msgs, "loads"), *entry = find_msg(co->msgs, "icd_entry");
	struct check_result *r = probe_add(p, "icd", V_FAIL, v->label, "%s", v->label);
	const char *who = origin(v);
	char how[512];

	if (co->signal || co->timed_out || !load) {
		child_describe(co, how, sizeof(how));
		result_summary(r, "%s: %s %s", v->label, v->library, how);
		result_fix(r, "a driver that crashes on load crashes every OpenCL program: "
			   "reinstall it, or disable it: %smv %s %s.disabled", sudo_for(who),
			   who, who);
	} else if (!json_is_true(json_object_get(load, "loads"))) {
		explain_dlerror(r, v, json_string_value(json_object_get(load, "error")) ?: "");
	} else {
		snprintf(v->resolved, sizeof(v->resolved), "%s",
			 json_string_value(json_object_get(load, "path")) ?: "");
		icd_entry_points(p, r, v, entry);
	}
}

/*
 * What keeps the loader from using an .icd before it dlopens anything: the file cannot be read
 * (the loader skips it), is empty, or names its library with a CR (a CRLF line end) or spaces
 * around it, which the loader keeps. A FAIL result with the fix, and 1; else 0.
 */
static int icd_name_problem(struct probe *p, struct vendor *v)
{
	const char *lib = v->library, *sudo = sudo_for(v->icd);
	size_t n = strlen(lib), lead = strspn(lib, " \t\r\n"), end = n;
	char shown[600], name[4096];
	struct check_result *r;

	if (v->icd_errno) {
		r = probe_add(p, "icd", V_FAIL, v->label, "%s cannot be read (%s): the loader "
			      "skips it", v->label, strerror(v->icd_errno));
		result_detail(r, "%s", v->icd);
		if (v->icd_errno == EACCES)
			result_fix(r, "let every user read it: %schmod a+r %s", sudo, v->icd);
		else
			result_fix(r, "check the file, or remove it: %srm %s", sudo, v->icd);
		return 1;
	}
	if (!n) {
		r = probe_add(p, "icd", V_FAIL, v->label, "%s is empty", v->label);
		result_fix(r, "write the driver library's name into it, or remove it: %srm %s", sudo,
			   v->icd);
		return 1;
	}
	while (end > lead && strchr(" \t\r\n", lib[end - 1]))
		end--;
	if (lead == 0 && end == n)
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)(end - lead), lib + lead);
	r = probe_add(p, "icd", V_FAIL, v->label, "%s names '%s', with %s: the loader keeps it "
		      "and cannot load that file", v->label,
		      vb_escape_text(lib, shown, sizeof(shown)),
		      memchr(lib, '\r', n) ? "a carriage return (a Windows CRLF line end)"
		      : lead ? "spaces before the name" : "spaces after the name");
	result_detail(r, "the loader reads the library name exactly as written (%s), less one "
		      "final line break", p->loader_is_ocl_icd ? "ocl-icd: the first line"
							    : "the whole file");
	if (*sudo)
		result_fix(r, "write the name alone: echo '%s' | sudo tee %s", name, v->icd);
	else
		result_fix(r, "write the name alone: echo '%s' > %s", name, v->icd);
	return 1;
}

void check_icds(struct probe *p)
{
	for (size_t i = 0; i < p->nregistered; i++) {
		struct vendor *v = &p->vendors[i];
		struct vb_err err = { "" };
		struct child_out co;
		struct check_result *r;

		if (icd_name_problem(p, v))
			continue;
		if (child_run(icd_child, v->library, CHILD_TIMEOUT_S, &co, &err) != VB_OK) {
			r = probe_add(p, "icd", V_SKIP, v->label, "cannot test %s", v->label);
			result_detail(r, "%s", err.msg);
			continue;
		}
		icd_verdict(p, v, &co);
		child_out_free(&co);
	}
}

/* ---- registered: driver libraries on the system that no .icd names ---- */

struct known_driver {
	const char *soname;    /* what the dynamic linker finds, and the fix writes */
	const char *icd_name;  /* the file its package installs */
	const char *who;
	int gpu;
};

static const struct known_driver known[] = {
	{ "libnvidia-opencl.so.1", "nvidia.icd", "NVIDIA", 1 },
	{ "libamdocl64.so", "amdocl64.icd", "AMD ROCm", 1 },
	{ "/opt/rocm/lib/libamdocl64.so", "amdocl64.icd", "AMD ROCm", 1 },
	{ "libigdrcl.so", "intel.icd", "Intel compute runtime", 1 },
	{ "/usr/lib/x86_64-linux-gnu/intel-opencl/libigdrcl.so", "intel.icd",
	  "Intel compute runtime", 1 },
	{ "libRusticlOpenCL.so.1", "rusticl.icd", "Mesa rusticl", 1 },
	{ "libMesaOpenCL.so.1", "mesa.icd", "Mesa clover", 1 },
	{ "libpocl.so.2", "pocl.icd", "PoCL (CPU)", 0 },
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

/* Child: which known libraries does the dynamic linker find, and where. */
static void present_child(FILE *out, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < NKNOWN; i++) {
		void *h;
		char path[PATH_MAX] = "";

		child_phase(out, "registered", -1, "loading %s", known[i].soname);
		h = dlopen(known[i].soname, RTLD_LAZY | RTLD_LOCAL);
		if (h)
			handle_path(h, path, sizeof(path));
		child_send(out, json_pack("{s:i, s:s}", "known", (int)i, "path", path));
	}
}

static int is_registered(const struct probe *p, const struct known_driver *k, const char *path)
{
	for (size_t i = 0; i < p->nregistered; i++) {
		const struct vendor *v = &p->vendors[i];

		char name[4096];
		size_t lead = strspn(v->library, " \t\r\n");

		if (v->resolved[0] && strcmp(v->resolved, path) == 0)
			return 1;
		/* a name with a CR or spaces around it is registered, if broken (the icd check) */
		snprintf(name, sizeof(name), "%s", v->library + lead);
		name[strcspn(name, "\r\n")] = '\0';
		for (size_t n = strlen(name); n && (name[n - 1] == ' ' || name[n - 1] == '\t'); n--)
			name[n - 1] = '\0';
		if (strcmp(base_name(name), base_name(k->soname)) == 0)
			return 1;
	}
	return 0;
}

/* The command that registers a library, in the folder the loader reads. */
static void register_fix(const struct probe *p, const struct known_driver *k,
			 struct check_result *r)
{
	const char *dir = p->vendor_dir[0] ? p->vendor_dir : "/etc/OpenCL/vendors";
	int exists = is_dir(dir);
	const char *sudo = sudo_for(exists ? dir : "/etc");

	if (*sudo)
		result_fix(r, "%s%s%secho %s | sudo tee %s/%s", exists ? "" : "sudo mkdir -p ",
			   exists ? "" : dir, exists ? "" : " && ", k->soname, dir, k->icd_name);
	else
		result_fix(r, "%s%s%secho %s > %s/%s", exists ? "" : "mkdir -p ", exists ? "" : dir,
			   exists ? "" : " && ", k->soname, dir, k->icd_name);
}

static void unregistered(struct probe *p, const struct known_driver *k, const char *path)
{
	struct check_result *r;

	r = probe_add(p, "registered", k->gpu ? V_FAIL : V_WARN, k->soname,
		      "%s is present but not registered: the loader does not use it",
		      k->soname);
	result_detail(r, "the %s driver %s is installed, but no .icd file in %s names it",
		      k->who, path, p->vendor_dir[0] ? p->vendor_dir : "the vendor folder");
	register_fix(p, k, r);
	if (p->nvendors < PROBE_MAX_VENDORS) {
		struct vendor *v = &p->vendors[p->nvendors++];

		memset(v, 0, sizeof(*v));
		snprintf(v->label, sizeof(v->label), "%s", k->soname);
		snprintf(v->library, sizeof(v->library), "%s", k->soname);
		snprintf(v->resolved, sizeof(v->resolved), "%s", path);
		v->ndevices = -1;
	}
}

/* Two registrations of one file (a .icd and OCL_ICD_FILENAMES): every platform shows twice. */
static void duplicates(struct probe *p)
{
	for (size_t j = 1; j < p->nregistered; j++) {
		const struct vendor *b = &p->vendors[j];
		struct check_result *r;

		for (size_t i = 0; i < j; i++) {
			const struct vendor *a = &p->vendors[i];

			if (!a->resolved[0] || strcmp(a->resolved, b->resolved))
				continue;
			r = probe_add(p, "registered", V_WARN, b->label, "%s and %s load the same "
				      "driver: programs see its platforms twice", a->label, b->label);
			result_detail(r, "both name %s", b->resolved);
			if (b->icd[0])
				result_fix(r, "remove one: %srm %s", sudo_for(b->icd), b->icd);
			else
				result_fix(r, "take %s out of %s", b->library, b->origin);
			break;
		}
	}
}

void check_registered(struct probe *p)
{
	struct vb_err err = { "" };
	struct child_out co;
	char seen[NKNOWN][PATH_MAX];
	int nfound = 0;

	if (child_run(present_child, NULL, CHILD_TIMEOUT_S, &co, &err) != VB_OK) {
		probe_add(p, "registered", V_SKIP, "", "cannot look for drivers: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < json_array_size(co.msgs); i++) {
		json_t *m = json_array_get(co.msgs, i);
		const char *path = json_string_value(json_object_get(m, "path"));
		size_t k = (size_t)json_integer_value(json_object_get(m, "known"));
		int dup = 0;

		if (!json_object_get(m, "known") || !path || !*path || k >= NKNOWN)
			continue;
		for (int j = 0; j < nfound; j++)
			dup |= strcmp(seen[j], path) == 0;
		if (dup)
			continue;
		snprintf(seen[nfound++], PATH_MAX, "%s", path);
		if (!is_registered(p, &known[k], path))
			unregistered(p, &known[k], path);
	}
	if (co.signal || co.timed_out) {
		char how[512];

		child_describe(&co, how, sizeof(how));
		probe_add(p, "registered", V_WARN, "", "looking for driver libraries %s", how);
	}
	child_out_free(&co);
	duplicates(p);
	if (p->nvendors == p->nregistered)
		probe_add(p, "registered", V_OK, "", "%s", nfound
			  ? "every OpenCL driver library found is registered"
			  : "no known OpenCL driver library is installed");
}
