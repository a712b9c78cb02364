/*
 * probe/platforms.c: the checks fed by the vendors' children: platforms, device, smoke, bench,
 * and the closing verdict gpu.
 *
 * check_platforms runs one child per driver (vendor_child in opencl.c), each with a loader that
 * sees that driver alone, and gathers what they sent into the JSON arrays p->platforms and
 * p->devices; the checks after it only read those arrays.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VENDOR_TIMEOUT_S 120.0

/* A folder holding one .icd that names the library: the child's OCL_ICD_VENDORS. */
static int vendor_folder(const struct probe *p, size_t i, char *dir, size_t len)
{
	char file[4400];
	FILE *f;

	snprintf(dir, len, "%s/v%zu", p->tmpdir, i);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(file, sizeof(file), "%s/driver.icd", dir);
	/* Older Khronos loaders (CUDA's) join the folder and the file name without a '/'. */
	strncat(dir, "/", len - strlen(dir) - 1);
	f = fopen(file, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", p->vendors[i].library);
	return fclose(f) == 0 ? 0 : -1;
}

static json_t *device_by_local(json_t *devs, size_t base, json_int_t local)
{
	return json_array_get(devs, base + (size_t)local);
}

/* Set d[key] = x, or merge x into it: the benchmarks arrive part by part. */
static void merge(json_t *d, const char *key, json_t *x)
{
	json_t *have = json_object_get(d, key);

	if (json_is_object(have))
		json_object_update(have, x);
	else if (d)
		json_object_set(d, key, x);
}

/* Fold one child message into the arrays; devices of unregistered drivers only count. */
static void take_msg(struct probe *p, struct vendor *v, json_t *m, size_t plat_base,
		     size_t dev_base, json_t *devs)
{
	json_t *x;

	if ((x = json_object_get(m, "platform")) && v->registered) {
		json_object_set_new(x, "index", json_integer((json_int_t)json_array_size(
							    p->platforms)));
		json_object_set_new(x, "icd", json_string(v->label));
		json_object_del(x, "local");
		json_array_append(p->platforms, x);
	} else if (json_is_object(x = json_object_get(m, "device"))) {
		size_t n = strlen(v->devices);

		json_object_set_new(x, "index", json_integer((json_int_t)json_array_size(devs)));
		json_object_set_new(x, "platform_index", json_integer((json_int_t)plat_base +
			json_integer_value(json_object_get(x, "platform_local"))));
		json_object_set_new(x, "icd", json_string(v->label));
		json_object_del(x, "platform_local");
		json_object_del(x, "local");
		json_array_append(devs, x);
		v->ndevices++;
		v->ncpu += strcmp(json_string_value(json_object_get(x, "type")) ?: "", "cpu") == 0;
		snprintf(v->devices + n, sizeof(v->devices) - n, "%s%s", n ? ", " : "",
			 json_string_value(json_object_get(x, "name")));
	} else if ((x = json_object_get(m, "smoke")) || (x = json_object_get(m, "bench"))) {
		const char *key = json_object_get(m, "smoke") ? "smoke" : "bench";
		json_int_t local = json_integer_value(json_object_get(m, "local"));

		if (!json_object_get(m, "local"))
			local = json_integer_value(json_object_get(x, "local"));
		json_object_del(x, "local");
		merge(device_by_local(devs, dev_base, local), key, x);
	}
}

/* The device a child crashed on: its smoke test fails, or its benchmarks keep what they had. */
static void mark_crash(json_t *d, const char *step, const char *how)
{
	json_t *c;

	if (strcmp(step, "bench")) {
		json_object_set_new(d, step, json_pack("{s:s, s:s}", "status", "fail", "error",
						       how));
		return;
	}
	c = json_pack("{s:s}", "crashed", how);
	merge(d, "bench", c);
	json_decref(c);
}

/* A crash during a device's smoke test or benchmark: that device fails, later ones are skipped. */
static void crash_on_device(json_t *devs, size_t dev_base, const struct child_out *co)
{
	const char *step = json_string_value(json_object_get(co->phase, "step"));
	json_int_t index = json_integer_value(json_object_get(co->phase, "device"));
	char how[512], reason[600];

	child_describe(co, how, sizeof(how));
	for (size_t i = dev_base; i < json_array_size(devs); i++) {
		json_t *d = json_array_get(devs, i);
		json_int_t di = json_integer_value(json_object_get(d, "index"));

		if (di == index) {
			mark_crash(d, step ? step : "smoke", how);
		} else if (di > index && !json_object_get(d, "smoke")) {
			snprintf(reason, sizeof(reason), "not reached: the driver %s", how);
			json_object_set_new(d, "smoke", json_pack("{s:s, s:s}", "status", "skip",
								  "reason", reason));
		}
	}
}

static void list_failed(struct probe *p, const struct vendor *v, json_t *err)
{
	struct check_result *r;

	r = probe_add(p, "platforms", V_FAIL, v->label, "%s: %s returned %s (%d): the driver "
		      "lists no platform", v->label, json_string_value(json_object_get(err, "call")),
		      json_string_value(json_object_get(err, "name")),
		      (int)json_integer_value(json_object_get(err, "code")));
	result_detail(r, "the driver loads but finds nothing it can run on");
	if (strstr(v->library, "nvidia"))
		result_fix(r, "the NVIDIA driver sees no usable GPU: fix the device nodes above "
			   "(devnodes), check `nvidia-smi`, and that libnvidia-opencl.so.1 has the "
			   "kernel driver's version");
	else
		result_fix(r, "fix the device nodes above (devnodes) if any failed; the loader's "
			   "debug output says more: OCL_ICD_DEBUG=7 clinfo -l (ocl-icd)");
}

/* The platforms verdict of one registered driver. */
static void vendor_verdict(struct probe *p, const struct vendor *v, const struct child_out *co,
			   size_t nplat)
{
	const char *step = co->phase ? json_string_value(json_object_get(co->phase, "step")) : "";
	json_t *err = NULL;
	struct check_result *r;
	char how[512];

	for (size_t i = 0; i < json_array_size(co->msgs); i++)
		if (json_object_get(json_array_get(co->msgs, i), "list_error"))
			err = json_object_get(json_array_get(co->msgs, i), "list_error");
	if ((co->signal || co->timed_out || co->exit_code) && strcmp(step, "platforms") == 0) {
		child_describe(co, how, sizeof(how));
		r = probe_add(p, "platforms", V_FAIL, v->label, "the ICD %s (%s) %s", v->label,
			      v->library, how);
		result_detail(r, "the loader loads every registered driver: this one takes down "
			      "every OpenCL program on this machine");
		if (v->icd[0])
			result_fix(r, "update or reinstall the driver, or disable it: "
				   "%smv %s %s.disabled", sudo_for(v->icd), v->icd, v->icd);
		else
			result_fix(r, "update or reinstall the driver, or take %s out of %s",
				   v->library, v->origin);
	} else if (err && nplat == 0) {
		list_failed(p, v, err);
	} else {
		probe_add(p, "platforms", V_OK, v->label, "%s: %zu platform%s, %d device%s",
			  v->label, nplat, nplat == 1 ? "" : "s", v->ndevices,
			  v->ndevices == 1 ? "" : "s");
	}
}

/* The registered check's result for an unregistered driver gets what registering would add. */
static void amend_registered(struct probe *p, const struct vendor *v)
{
	for (size_t i = 0; i < p->nres; i++) {
		struct check_result *r = &p->res[i];
		size_t n = strlen(r->summary);

		if (strcmp(r->id, "registered") || strcmp(r->subject, v->label))
			continue;
		if (v->ndevices > 0)
			snprintf(r->summary + n, sizeof(r->summary) - n, "; registering it adds %s",
				 v->devices);
		else
			snprintf(r->summary + n, sizeof(r->summary) - n,
				 "; its driver lists no device here");
	}
}

/* Run vendor i's child for job; its wall time adds to the vendor's. VB_OK or a skip result. */
static int vendor_child_run(struct probe *p, size_t i, struct vendor_job *job,
			    struct child_out *co)
{
	struct vendor *v = &p->vendors[i];
	struct vb_err err = { "" };
	double t0 = vb_now_ms();
	char dir[4200];
	int rc;

	job->vendor = v;
	job->vendors_dir = dir;
	job->quick = p->opt.quick;
	job->device_spec = p->opt.device;
	if (vendor_folder(p, i, dir, sizeof(dir)) != 0) {
		probe_add(p, "platforms", V_SKIP, v->label, "cannot test %s: cannot write in %s: %s",
			  v->label, p->tmpdir, strerror(errno));
		return VB_E_IO;
	}
	rc = child_run(vendor_child, job, VENDOR_TIMEOUT_S, co, &err);
	v->child_ms += vb_now_ms() - t0;
	if (rc != VB_OK)
		probe_add(p, "platforms", V_SKIP, v->label, "cannot test %s: %s", v->label, err.msg);
	return rc;
}

static void run_vendor(struct probe *p, size_t i)
{
	struct vendor *v = &p->vendors[i];
	/* CPU devices are benchmarked here only when --device picked them (else see cpu_benches) */
	struct vendor_job job = { .enumerate_only = !v->registered,
				  .bench_cpu = p->opt.device != NULL };
	struct child_out co;
	json_t *scratch = json_array();
	json_t *devs = v->registered ? p->devices : scratch;
	size_t plat_base = json_array_size(p->platforms), dev_base = json_array_size(devs);

	v->ndevices = v->ncpu = 0;
	v->dev_base = dev_base;
	job.first_index = (int)dev_base;
	if (vendor_child_run(p, i, &job, &co) != VB_OK)
		goto out;
	for (size_t m = 0; m < json_array_size(co.msgs); m++)
		take_msg(p, v, json_array_get(co.msgs, m), plat_base, dev_base, devs);
	if ((co.signal || co.timed_out) && co.phase &&
	    json_integer_value(json_object_get(co.phase, "device")) >= 0)
		crash_on_device(devs, dev_base, &co);
	if (v->registered)
		vendor_verdict(p, v, &co, json_array_size(p->platforms) - plat_base);
	else
		amend_registered(p, v);
	child_out_free(&co);
out:
	json_decref(scratch);
}

/* The benchmarks of the CPU devices, once it is known that no GPU passed its smoke test. */
static void cpu_benches(struct probe *p)
{
	json_t *used;

	if (p->opt.quick || p->opt.device || probe_outcome(p, &used) == PROBE_EXIT_GPU)
		return;
	for (size_t i = 0; i < p->nregistered; i++) {
		struct vendor *v = &p->vendors[i];
		struct vendor_job job = { .cpu_bench_only = 1, .first_index = (int)v->dev_base };
		struct child_out co;

		if (v->ndevices <= 0 || !v->ncpu || v->same_as >= 0 ||
		    vendor_child_run(p, i, &job, &co) != VB_OK)
			continue;
		for (size_t m = 0; m < json_array_size(co.msgs); m++)
			take_msg(p, v, json_array_get(co.msgs, m), 0, v->dev_base, p->devices);
		if ((co.signal || co.timed_out) && co.phase &&
		    json_integer_value(json_object_get(co.phase, "device")) >= 0)
			crash_on_device(p->devices, v->dev_base, &co);
		child_out_free(&co);
	}
}

/* The first registered vendor before i that loads the same file, or -1. */
static int same_driver(const struct probe *p, size_t i)
{
	const char *file = p->vendors[i].resolved;

	for (size_t j = 0; j < i && j < p->nregistered; j++)
		if (file[0] && strcmp(p->vendors[j].resolved, file) == 0)
			return (int)j;
	return -1;
}

void check_platforms(struct probe *p)
{
	if (!p->have_loader) {
		probe_add(p, "platforms", V_SKIP, "", "no OpenCL loader: nothing to list");
		return;
	}
	for (size_t i = 0; i < p->nvendors; i++) {
		struct vendor *v = &p->vendors[i];

		v->same_as = v->registered ? same_driver(p, i) : -1;
		if (v->registered && !v->usable)
			probe_add(p, "platforms", V_SKIP, v->label,
				  "%s: not listed, its library is not a working ICD (see icd)",
				  v->label);
		else if (v->same_as >= 0) /* the registered check names the duplicate */
			probe_add(p, "platforms", V_SKIP, v->label, "%s: the same driver as %s, "
				  "tested once", v->label, p->vendors[v->same_as].label);
		else
			run_vendor(p, i);
	}
	cpu_benches(p);
}

/* ---- per-device results ---- */

static const char *dstr(json_t *d, const char *key)
{
	const char *s = json_string_value(json_object_get(d, key));

	return s ? s : "";
}

static double dnum(json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	return json_is_number(x) ? json_number_value(x) : NAN;
}

static void device_subject(json_t *d, char *buf, size_t len)
{
	snprintf(buf, len, "#%d %s", (int)json_integer_value(json_object_get(d, "index")),
		 dstr(d, "name"));
}

void check_devices(struct probe *p)
{
	size_t i;
	json_t *d;

	json_array_foreach(p->devices, i, d) {
		char subject[300], cc[32] = "";
		const char *ccs = dstr(d, "compute_capability");

		if (*ccs)
			snprintf(cc, sizeof(cc), ", sm_%c%s", ccs[0], ccs + 2);
		device_subject(d, subject, sizeof(subject));
		probe_add(p, "device", V_OK, subject,
			  "%s: %s on %s, %d compute units, %.1f GiB, %s%s%s", subject,
			  dstr(d, "type"), dstr(d, "platform"),
			  (int)json_integer_value(json_object_get(d, "compute_units")),
			  dnum(d, "global_mem_bytes") / 1073741824.0, dstr(d, "opencl_c_version"),
			  json_is_true(json_object_get(d, "fp64")) ? ", fp64" : "", cc);
	}
	if (p->have_loader && json_array_size(p->devices) == 0)
		probe_add(p, "device", V_FAIL, "", "no OpenCL device is listed");
}

static void smoke_failed(struct check_result *r, const char *error)
{
	result_detail(r, "%s", error);
	if (strstr(error, "clBuildProgram"))
		result_fix(r, "the driver's kernel compiler fails: update or reinstall the driver "
			   "(the build log is in the detail)");
	else if (strstr(error, "crashed") || strstr(error, "hung"))
		result_fix(r, "update or reinstall the driver; a driver that crashes on a 4096-element "
			   "kernel is broken");
	else
		result_fix(r, "update or reinstall the driver; if the device is shared, retry when "
			   "it is idle");
}

void check_smoke(struct probe *p)
{
	size_t i;
	json_t *d;

	json_array_foreach(p->devices, i, d) {
		json_t *s = json_object_get(d, "smoke");
		const char *st = dstr(s, "status");
		char subject[300];
		struct check_result *r;

		device_subject(d, subject, sizeof(subject));
		if (!strcmp(st, "pass")) {
			probe_add(p, "smoke", V_OK, subject,
				  "%s: %d values right (build %.0f ms, run %.1f ms)", subject,
				  (int)json_integer_value(json_object_get(s, "values")),
				  dnum(s, "build_ms"), dnum(s, "run_ms"));
		} else if (!strcmp(st, "fail")) {
			r = probe_add(p, "smoke", V_FAIL, subject, "%s: the smoke test failed",
				      subject);
			smoke_failed(r, dstr(s, "error"));
		} else {
			probe_add(p, "smoke", V_SKIP, subject, "%s: %s", subject,
				  s ? dstr(s, "reason") : "not run");
		}
	}
}

/* Append ", <label> <value><unit>" when the value was measured. */
static size_t part(char *buf, size_t len, size_t n, const char *fmt, double v)
{
	if (!isfinite(v) || n >= len)
		return n;
	n += (size_t)snprintf(buf + n, len - n, "%s", n ? ", " : "");
	return n < len ? n + (size_t)snprintf(buf + n, len - n, fmt, v) : n;
}

static void bench_line(json_t *b, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	n = part(buf, len, n, "copy %.1f GB/s", dnum(b, "copy_gbps"));
	n = part(buf, len, n, "h2d %.1f", dnum(b, "h2d_pinned_gbps"));
	n = part(buf, len, n, "d2h %.1f GB/s pinned", dnum(b, "d2h_pinned_gbps"));
	n = part(buf, len, n, "h2d %.1f", dnum(b, "h2d_pageable_gbps"));
	n = part(buf, len, n, "d2h %.1f GB/s pageable", dnum(b, "d2h_pageable_gbps"));
	n = part(buf, len, n, "launch %.0f us", dnum(b, "launch_latency_us"));
	n = part(buf, len, n, "FMA %.0f GFLOP/s", dnum(b, "fma_gflops"));
	part(buf, len, n, "allocation %.2f GiB", dnum(b, "max_alloc_ok_bytes") / 1073741824.0);
}

void check_bench(struct probe *p)
{
	size_t i;
	json_t *d;

	if (p->opt.quick) {
		probe_add(p, "bench", V_SKIP, "", "--quick skips the micro-benchmarks");
		return;
	}
	json_array_foreach(p->devices, i, d) {
		json_t *b = json_object_get(d, "bench"), *errors = json_object_get(b, "errors");
		char subject[300], line[512];
		struct check_result *r;

		device_subject(d, subject, sizeof(subject));
		if (!b && !strcmp(dstr(d, "type"), "cpu") &&
		    !strcmp(dstr(json_object_get(d, "smoke"), "status"), "pass")) {
			probe_add(p, "bench", V_SKIP, subject, "%s: not measured while a GPU works "
				  "(voxbench probe --device cpu measures it)", subject);
			continue;
		}
		if (!b) {
			probe_add(p, "bench", V_SKIP, subject, "%s: not measured (no passing smoke "
				  "test)", subject);
			continue;
		}
		bench_line(b, line, sizeof(line));
		if (json_object_get(b, "crashed")) {
			r = probe_add(p, "bench", V_FAIL, subject, "%s: the driver %s", subject,
				      dstr(b, "crashed"));
			result_detail(r, "measured before that: %s", *line ? line : "nothing");
			result_fix(r, "update the driver; meanwhile --quick skips the benchmarks");
			continue;
		}
		r = probe_add(p, "bench", json_array_size(errors) ? V_WARN : V_OK, subject,
			      "%s: %s", subject, line);
		for (size_t e = 0; e < json_array_size(errors); e++)
			result_detail(r, "%s", json_string_value(json_array_get(errors, e)));
	}
}

/* ---- the verdict ---- */

/* 0, 1 or 3 (probe.h); *used: the device that earned it (borrowed), or NULL. */
int probe_outcome(const struct probe *p, json_t **used)
{
	json_t *d, *cpu = NULL;
	size_t i;

	*used = NULL;
	json_array_foreach(p->devices, i, d) {
		if (strcmp(dstr(json_object_get(d, "smoke"), "status"), "pass"))
			continue;
		if (strcmp(dstr(d, "type"), "cpu")) {
			*used = d;
			return PROBE_EXIT_GPU;
		}
		if (!cpu)
			cpu = d;
	}
	*used = cpu;
	return cpu ? PROBE_EXIT_CPU : PROBE_EXIT_NONE;
}

/* Is there already a problem with a fix that explains a missing GPU? */
static int explained(const struct probe *p)
{
	for (size_t i = 0; i < p->nres; i++)
		if (p->res[i].status != V_OK && p->res[i].status != V_SKIP && p->res[i].fix[0] &&
		    strcmp(p->res[i].id, "environment") != 0)
			return 1;
	return 0;
}

static int any_selected(const struct probe *p)
{
	json_t *d;
	size_t i;

	json_array_foreach(p->devices, i, d)
		if (strcmp(dstr(json_object_get(d, "smoke"), "reason"), "not selected by --device"))
			return 1;
	return 0;
}

void check_gpu(struct probe *p)
{
	json_t *used;
	int code = probe_outcome(p, &used);
	struct check_result *r;

	if (code == PROBE_EXIT_GPU) {
		probe_add(p, "gpu", V_OK, dstr(used, "name"), "a GPU passed the smoke test: %s",
			  dstr(used, "name"));
		return;
	}
	if (p->opt.device && json_array_size(p->devices) && !any_selected(p)) {
		r = probe_add(p, "gpu", V_FAIL, "", "no device matches --device %s", p->opt.device);
		result_fix(r, "pick one of the devices listed above: --device takes an index, gpu, "
			   "cpu, or part of a device or platform name");
		return;
	}
	if (code == PROBE_EXIT_CPU)
		r = probe_add(p, "gpu", V_WARN, dstr(used, "name"), "no GPU driver is active: only "
			      "CPU devices work (%s)", dstr(used, "name"));
	else
		r = probe_add(p, "gpu", V_FAIL, "", "no working OpenCL device");
	if (explained(p)) {
		result_detail(r, "the problems above explain it");
		return;
	}
	result_fix(r, "install your GPU's OpenCL driver (NVIDIA: the driver's OpenCL package, e.g. "
		   "nvidia-opencl-icd; AMD: rocm-opencl-runtime; Intel: intel-opencl-icd); in a "
		   "container, pass the GPU in (--gpus all, --device /dev/dri)");
}
