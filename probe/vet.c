/*
 * probe/vet.c: `voxbench run`'s guard against broken OpenCL drivers.
 *
 * The loader loads every registered driver in the process that makes the first OpenCL call: a
 * driver that crashes (in its constructor, in clIcdGetPlatformIDsKHR) or hangs there takes the
 * whole run with it. So before that first call, run does what the probe does: the loader is
 * opened, each driver loaded and its platforms listed in a child of its own, with a time limit.
 * The drivers that came through are then the only ones this process's loader sees
 * (OCL_ICD_VENDORS names a private folder of their .icd files, written byte for byte); each one
 * left out is named in a note.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VET_TIMEOUT_S 30.0 /* listing a driver's platforms; VOXBENCH_DRIVER_TIMEOUT overrides */

/* Write an .icd holding library exactly (and the '\n' the loader drops) as dir/name. */
static int write_icd(const char *dir, const char *name, const char *library)
{
	char path[4400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")))
		return -1;
	fprintf(f, "%s\n", library);
	return fclose(f) == 0 ? 0 : -1;
}

/* The summary of the failing result of check id about subject, or NULL. */
static const char *failure_of(const struct probe *p, const char *id, const char *subject)
{
	for (size_t i = 0; i < p->nres; i++)
		if (p->res[i].status == V_FAIL && !strcmp(p->res[i].id, id) &&
		    (!subject || !strcmp(p->res[i].subject, subject)))
			return p->res[i].summary;
	return NULL;
}

static void note(struct vet *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct vet *out, const char *fmt, ...)
{
	size_t n = strlen(out->notes);
	va_list ap;

	if (n + 2 >= sizeof(out->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(out->notes + n, sizeof(out->notes) - n - 1, fmt, ap);
	va_end(ap);
	vb_utf8_trim(out->notes);
	strcat(out->notes, "\n");
}

/* List driver i's platforms in a child that sees it alone: 0 when it came through. */
static int list_in_child(struct probe *p, size_t i, char *how, size_t len)
{
	struct vendor *v = &p->vendors[i];
	struct vendor_job job = { .vendor = v, .quick = 1, .enumerate_only = 1 };
	struct vb_err err = { "" };
	struct child_out co;
	char dir[4200];
	int rc;

	snprintf(dir, sizeof(dir), "%s/vet%zu", p->tmpdir, i);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || write_icd(dir, "driver.icd", v->library)) {
		snprintf(how, len, "cannot be tried: cannot write in %.400s", p->tmpdir);
		return -1;
	}
	strncat(dir, "/", sizeof(dir) - strlen(dir) - 1); /* older Khronos loaders need it */
	job.vendors_dir = dir;
	if (child_run(vendor_child, &job, VET_TIMEOUT_S, &co, &err) != VB_OK) {
		snprintf(how, len, "cannot be tried: %.400s", err.msg); /* fork or pipe failed */
		return -1;
	}
	rc = co.signal || co.timed_out || co.exit_code ? -1 : 0;
	if (rc)
		child_describe(&co, how, len);
	child_out_free(&co);
	return rc;
}

/* OCL_ICD_VENDORS for this process: a folder of the drivers kept, nothing else. */
static int keep_only(struct probe *p, const int *keep, struct vet *out)
{
	const char *base = getenv("TMPDIR");
	char name[300];

	snprintf(out->folder, sizeof(out->folder), "%s/voxbench-drivers-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!vb_mkdtemp_tracked(out->folder, &out->slot)) {
		out->folder[0] = '\0';
		return -1;
	}
	for (size_t i = 0; i < p->nregistered; i++) {
		if (!keep[i])
			continue;
		snprintf(name, sizeof(name), "%02zu-%.200s%s", i, p->vendors[i].label,
			 strstr(p->vendors[i].label, ".icd") ? "" : ".icd");
		if (write_icd(out->folder, name, p->vendors[i].library))
			return -1;
	}
	strncat(out->folder, "/", sizeof(out->folder) - strlen(out->folder) - 1);
	setenv("OCL_ICD_VENDORS", out->folder, 1);
	unsetenv("OCL_ICD_FILENAMES"); /* its libraries are in the folder when they are good */
	unsetenv("OPENCL_VENDOR_PATH");
	return 0;
}

void probe_vet_opencl(struct vet *out)
{
	struct probe_options opt = { .quick = 1 };
	struct vb_err err = { "" };
	struct probe *p;
	int keep[PROBE_MAX_VENDORS] = { 0 }, left_out = 0, kept = 0;
	const char *why;

	memset(out, 0, sizeof(*out));
	out->slot = -1;
	if (!(p = probe_new(&opt, &err))) {
		note(out, "cannot try the OpenCL drivers first (%s): a broken one may stop this run",
		     err.msg);
		return;
	}
	check_loader(p);
	if (!p->have_loader) {
		/* a missing loader is named by the backend; one that crashed is never opened here */
		if (json_is_true(json_object_get(p->loader, "crashed")))
			cl_api_refuse(failure_of(p, "loader", NULL));
		goto out;
	}
	check_vendors(p);
	check_icds(p);
	for (size_t i = 0; i < p->nregistered; i++) {
		struct vendor *v = &p->vendors[i];
		char how[600];

		if (!v->usable) {
			why = failure_of(p, "icd", v->label);
			if (why)
				note(out, "leaving out an OpenCL driver: %s", why);
			else
				note(out, "leaving out the OpenCL driver %s: its library is not a "
				     "working driver", v->label);
			left_out++;
		} else if (list_in_child(p, i, how, sizeof(how))) {
			note(out, "leaving out the OpenCL driver %s (%s): it %s", v->label, v->library,
			     how);
			left_out++;
		} else {
			keep[i] = 1;
			kept++;
		}
	}
	if (!left_out)
		goto out; /* every driver came through: the loader reads what it always reads */
	if (!kept) {
		cl_api_refuse("no OpenCL driver is usable (each is named above); 'voxbench probe' "
			      "gives the fixes");
		goto out;
	}
	if (keep_only(p, keep, out)) {
		note(out, "cannot leave out the broken OpenCL drivers (cannot write a folder in %s): "
		     "OpenCL is turned off for this run", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		cl_api_refuse("OpenCL is turned off: a broken driver could not be left out");
	}
out:
	probe_free(p);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void probe_vet_release(struct vet *v)
{
	if (v->folder[0])
		nftw(v->folder, remove_entry, 4, FTW_DEPTH | FTW_PHYS);
	vb_cleanup_done(v->slot);
	v->slot = -1;
	v->folder[0] = '\0';
}
