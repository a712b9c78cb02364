/*
 * reports/report_json.c: the JSON report (the source of truth) written atomically and read back.
 * jansson formats numbers without regard to the locale; unmeasured values (NaN) become null.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "report.h"
#include "row_fields.h"

static json_t *number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *host_json(const struct host_info *h)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "hostname", h->hostname, "os",
			      h->os, "kernel", h->kernel, "cpu_model", h->cpu_model, "cpu_threads",
			      h->cpu_threads, "memory_bytes", (json_int_t)h->memory_bytes);

	/* how busy the machine was: a timing taken beside other work reads slower */
	json_object_set_new(o, "load_start", number(h->load_start));
	json_object_set_new(o, "load_end", number(h->load_end));
	return o;
}

static json_t *device_json(const struct device_info *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "backend",
			 d->backend, "platform", d->platform, "name", d->name, "vendor", d->vendor,
			 "driver_version", d->driver_version, "type", d->type, "global_mem_bytes",
			 (json_int_t)d->global_mem_bytes, "max_alloc_bytes",
			 (json_int_t)d->max_alloc_bytes, "compute_units",
			 (json_int_t)d->compute_units, "max_clock_mhz", (json_int_t)d->max_clock_mhz,
			 "local_mem_bytes", (json_int_t)d->local_mem_bytes);

	json_object_set_new(o, "copy_gbps", number(d->copy_gbps));
	return o;
}

static json_t *report_json(const struct report *r)
{
	json_t *devices = json_array(), *rows = json_array(), *root;
	json_t *probe = r->probe_json ? json_loads(r->probe_json, 0, NULL) : NULL, *scaling;

	for (size_t i = 0; i < r->ndevices; i++)
		json_array_append_new(devices, device_json(&r->devices[i]));
	for (size_t i = 0; i < r->nrows; i++)
		json_array_append_new(rows, row_fields_to_json(&r->rows[i]));
	root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "schema", r->schema, "voxbench_version",
			 r->voxbench_version, "created", r->created, "host", host_json(&r->host),
			 "devices", devices, "results", rows);
	json_object_set_new(root, "probe", probe ? probe : json_null());
	if (r->prebuild_programs) /* compiled ahead, on threads, before any row */
		json_object_set_new(root, "prebuild",
				    json_pack("{sI sI sI si sf so sb}", "programs",
					      (json_int_t)r->prebuild_programs, "devices",
					      (json_int_t)r->prebuild_devices, "failed",
					      (json_int_t)r->prebuild_failed, "threads",
					      r->prebuild_threads, "ms", r->prebuild_ms, "cpu_ms",
					      isfinite(r->prebuild_cpu_ms) ? json_real(r->prebuild_cpu_ms)
									   : json_null(),
					      "beside_references", r->prebuild_beside_references));
	if (r->wall_ms > 0) /* the whole run: wall and CPU time (every thread) */
		json_object_set_new(root, "run_time", json_pack("{sf sf}", "wall_ms", r->wall_ms,
								 "cpu_ms", r->cpu_ms));
	if (r->cut_signal) { /* stopped by a signal: the rows finished before it */
		const char *abbrev = sigabbrev_np(r->cut_signal);
		char sig[32];

		snprintf(sig, sizeof(sig), "SIG%s", abbrev ? abbrev : "?");
		json_object_set_new(root, "cut", json_pack("{s:s, s:I}", "signal", sig, "rows",
							   (json_int_t)r->nrows));
	}
	if (r->peers_json) /* run --peer: each peer's library, version, device, interpreter */
		json_object_set_new(root, "peers", json_loads(r->peers_json, 0, NULL));
	/* ops timed at two or more sizes: their log-log fits (reports/scaling.c) */
	if ((scaling = scaling_section_json(r)))
		json_object_set_new(root, "scaling", scaling);
	return root;
}

char *report_json_text(const struct report *r)
{
	json_t *root = report_json(r);
	char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(12)) : NULL;
	char *line = text ? realloc(text, strlen(text) + 2) : NULL;

	json_decref(root);
	if (!line) {
		free(text);
		return NULL;
	}
	strcat(line, "\n");
	return line;
}

int report_write_json(const struct report *r, const char *path, struct vb_err *err)
{
	json_t *root = report_json(r);
	char *tmp = NULL;
	int fd = -1, status = VB_OK, slot = -1;

	if (!root)
		return vb_errf(err, VB_E_NOMEM, "out of memory building the JSON report");
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		status = vb_errf(err, VB_E_NOMEM, "out of host memory");
		goto out;
	}
	fd = vb_mkstemp_tracked(tmp, &slot); /* a signal removes it */
	if (fd >= 0 && fchmod(fd, vb_file_mode()) != 0) { /* mkstemp's 0600: follow the umask */
		close(fd);
		fd = -1;
		unlink(tmp);
	}
	if (fd < 0) {
		status = vb_errf(err, VB_E_IO, "cannot write %s: its folder is missing or read-only",
				 path);
		goto out;
	}
	if (json_dumpfd(root, fd, JSON_INDENT(1) | JSON_REAL_PRECISION(12)) != 0 ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		unlink(tmp);
		status = vb_errf(err, VB_E_IO, "cannot write %s: disk full or I/O error", path);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		status = vb_errf(err, VB_E_IO, "cannot rename the report into place at %s", path);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	vb_cleanup_done(slot);
	free(tmp);
	json_decref(root);
	return status;
}

/* ---- reading back ---- */

static double get_number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void get_string(const json_t *o, const char *key, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	vb_copy_utf8(out, len, v ? v : ""); /* a long reason is cut between characters */
}

static void read_device(const json_t *o, struct device_info *d)
{
	memset(d, 0, sizeof(*d));
	get_string(o, "backend", d->backend, sizeof(d->backend));
	get_string(o, "platform", d->platform, sizeof(d->platform));
	get_string(o, "name", d->name, sizeof(d->name));
	get_string(o, "vendor", d->vendor, sizeof(d->vendor));
	get_string(o, "driver_version", d->driver_version, sizeof(d->driver_version));
	get_string(o, "type", d->type, sizeof(d->type));
	d->global_mem_bytes = (uint64_t)json_integer_value(json_object_get(o, "global_mem_bytes"));
	d->max_alloc_bytes = (uint64_t)json_integer_value(json_object_get(o, "max_alloc_bytes"));
	d->local_mem_bytes = (uint64_t)json_integer_value(json_object_get(o, "local_mem_bytes"));
	d->compute_units = (unsigned)json_integer_value(json_object_get(o, "compute_units"));
	d->max_clock_mhz = (unsigned)json_integer_value(json_object_get(o, "max_clock_mhz"));
	d->copy_gbps = get_number(o, "copy_gbps");
}

static void read_host(const json_t *o, struct host_info *h)
{
	memset(h, 0, sizeof(*h));
	get_string(o, "hostname", h->hostname, sizeof(h->hostname));
	get_string(o, "os", h->os, sizeof(h->os));
	get_string(o, "kernel", h->kernel, sizeof(h->kernel));
	get_string(o, "cpu_model", h->cpu_model, sizeof(h->cpu_model));
	h->cpu_threads = (int)json_integer_value(json_object_get(o, "cpu_threads"));
	h->memory_bytes = (uint64_t)json_integer_value(json_object_get(o, "memory_bytes"));
	h->load_start = get_number(o, "load_start");
	h->load_end = get_number(o, "load_end");
}

int report_schema_compatible(const char *schema)
{
	const char *prefix = "voxbench-report/";
	size_t n = strlen(prefix);

	return strncmp(schema, prefix, n) == 0 && atoi(schema + n) == 1;
}

int report_from_json(const json_t *root, const char *path, struct report *r, struct vb_err *err)
{
	const json_t *rows, *devices;
	int status = VB_OK;

	memset(r, 0, sizeof(*r));
	get_string(root, "schema", r->schema, sizeof(r->schema));
	if (!report_schema_compatible(r->schema)) {
		status = vb_errf(err, VB_E_ARGS,
				 "%s has schema '%s'; this voxbench reads %s: re-run the benchmark "
				 "or use a matching voxbench version",
				 path, r->schema[0] ? r->schema : "(none)", REPORT_SCHEMA);
		goto out;
	}
	get_string(root, "voxbench_version", r->voxbench_version, sizeof(r->voxbench_version));
	get_string(root, "created", r->created, sizeof(r->created));
	read_host(json_object_get(root, "host"), &r->host);
	if (json_is_object(json_object_get(root, "probe")))
		r->probe_json = json_dumps(json_object_get(root, "probe"), JSON_COMPACT);
	if (json_is_array(json_object_get(root, "peers")))
		r->peers_json = json_dumps(json_object_get(root, "peers"), JSON_COMPACT);
	devices = json_object_get(root, "devices");
	rows = json_object_get(root, "results");
	if (!json_is_array(rows)) {
		status = vb_errf(err, VB_E_ARGS, "%s has no 'results' array", path);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(devices) && status == VB_OK; i++) {
		struct device_info d;

		read_device(json_array_get(devices, i), &d);
		status = report_add_device(r, &d, err);
	}
	for (size_t i = 0; i < json_array_size(rows) && status == VB_OK; i++) {
		struct result_row row;

		row_fields_from_json(json_array_get(rows, i), &row);
		status = report_add_row(r, &row, err);
	}
out:
	if (status)
		report_free(r);
	return status;
}

int report_read_json(const char *path, struct report *r, struct vb_err *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	int status;

	memset(r, 0, sizeof(*r));
	if (!root)
		return vb_errf(err, VB_E_ARGS, "cannot read report %s: %s (line %d)", path, jerr.text,
			       jerr.line);
	status = report_from_json(root, path, r, err);
	json_decref(root);
	return status;
}
