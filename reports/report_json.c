/*
 * reports/report_json.c: the JSON report (the source of truth) written atomically and read back.
 * jansson formats numbers without regard to the locale; unmeasured values (NaN) become null.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "report.h"

static json_t *number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *host_json(const struct host_info *h)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I}", "hostname", h->hostname, "os", h->os,
			 "kernel", h->kernel, "cpu_model", h->cpu_model, "cpu_threads",
			 h->cpu_threads, "memory_bytes", (json_int_t)h->memory_bytes);
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

static json_t *params_json(const struct result_row *row)
{
	json_t *o = json_object();

	for (int i = 0; i < row->nparams; i++) {
		const struct param_value *p = &row->params[i];

		json_object_set_new(o, p->name, p->is_int ? json_integer((json_int_t)p->value)
							  : json_real(p->value));
	}
	return o;
}

/* A table op's first rows: {"columns": [...], "rows": [[...], ...], "rows_total": N}. */
static json_t *table_json(const struct result_row *row)
{
	json_t *columns = json_array(), *rows = json_array();

	for (uint32_t c = 0; c < row->table_cols; c++)
		json_array_append_new(columns, json_string(row->table_columns[c]));
	for (uint32_t r = 0; r < row->table_rows; r++) {
		json_t *line = json_array();

		for (uint32_t c = 0; c < row->table_cols; c++)
			json_array_append_new(line, number(row->table[(size_t)r * row->table_cols + c]));
		json_array_append_new(rows, line);
	}
	return json_pack("{s:o, s:o, s:I}", "columns", columns, "rows", rows, "rows_total",
			 (json_int_t)row->table_rows_total);
}

static json_t *phases_json(const struct result_row *row)
{
	json_t *o = json_object();

	for (int i = 0; i < PHASE_COUNT; i++)
		json_object_set_new(o, row_phase_name((enum row_phase)i), number(row->phase_ms[i]));
	return o;
}

static json_t *row_json(const struct result_row *row)
{
	json_t *o = json_object();

	json_object_set_new(o, "op", json_string(row->op));
	json_object_set_new(o, "category", json_string(row->category));
	json_object_set_new(o, "params", params_json(row));
	json_object_set_new(o, "backend", json_string(row->backend));
	json_object_set_new(o, "device", json_string(row->device));
	json_object_set_new(o, "stack",
			    json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "name", row->stack_name,
				      "source", row->stack_source, "width", (json_int_t)row->width,
				      "height", (json_int_t)row->height, "depth",
				      (json_int_t)row->depth, "dtype", row->dtype));
	if (row->stack_sha256[0]) {
		json_t *stack = json_object_get(o, "stack");

		json_object_set_new(stack, "sha256", json_string(row->stack_sha256));
		json_object_set_new(stack, "frame", json_integer(row->frame));
		json_object_set_new(stack, "channel", json_integer(row->channel));
	}
	json_object_set_new(o, "status", json_string(row_status_name(row->status)));
	json_object_set_new(o, "reason", json_string(row->reason));
	json_object_set_new(o, "gpu_ms",
			    json_pack("{s:o, s:o, s:o, s:i}", "median", number(row->gpu.median),
				      "min", number(row->gpu.min), "max", number(row->gpu.max),
				      "runs", row->gpu.runs));
	json_object_set_new(o, "h2d_ms", number(row->h2d_ms));
	json_object_set_new(o, "d2h_ms", number(row->d2h_ms));
	json_object_set_new(o, "pinned", row->pinned < 0 ? json_null() : json_boolean(row->pinned));
	json_object_set_new(o, "pin_ms", number(row->pin_ms));
	json_object_set_new(o, "compile_ms", number(row->compile_ms));
	json_object_set_new(o, "cache", row->cache_hit < 0 ? json_null()
					 : json_string(row->cache_hit ? "hit" : "miss"));
	json_object_set_new(o, "cpu_ms", number(row->cpu_ms));
	json_object_set_new(o, "cpu_threads", json_integer(row->cpu_threads));
	json_object_set_new(o, "speedup", number(row->speedup));
	json_object_set_new(o, "speedup_with_transfers", number(row->speedup_with_transfers));
	json_object_set_new(o, "bytes_moved", json_integer((json_int_t)row->bytes_moved));
	json_object_set_new(o, "effective_gbps", number(row->effective_gbps));
	json_object_set_new(o, "bandwidth_fraction", number(row->bandwidth_fraction));
	json_object_set_new(o, "delta", !row->has_delta ? json_null()
		: json_pack("{s:o, s:o, s:o, s:I, s:o}", "max_abs", number(row->delta.max_abs),
			    "mean_abs", number(row->delta.mean_abs), "rmse", number(row->delta.rmse),
			    "mismatches", (json_int_t)row->delta.mismatches, "tolerance",
			    number(row->delta.tolerance)));
	if (row->has_delta && row->delta.labels_gpu >= 0) {
		json_t *delta = json_object_get(o, "delta");

		json_object_set_new(delta, "labels_gpu", json_integer(row->delta.labels_gpu));
		json_object_set_new(delta, "labels_ref", json_integer(row->delta.labels_ref));
	}
	if (row->has_delta && row->delta.ambiguous)
		json_object_set_new(json_object_get(o, "delta"), "ambiguous",
				    json_integer((json_int_t)row->delta.ambiguous));
	if (row->table)
		json_object_set_new(o, "table", table_json(row));
	if (row->side_name[0])
		json_object_set_new(o, "side_value",
				    json_pack("{s:s, s:o, s:o}", "name", row->side_name, "gpu",
					      number(row->side_gpu), "cpu", number(row->side_cpu)));
	json_object_set_new(o, "phases_ms", phases_json(row));
	json_object_set_new(o, "wall_ms", number(row->wall_ms));
	return o;
}

static json_t *report_json(const struct report *r)
{
	json_t *devices = json_array(), *rows = json_array(), *root;
	json_t *probe = r->probe_json ? json_loads(r->probe_json, 0, NULL) : NULL, *scaling;

	for (size_t i = 0; i < r->ndevices; i++)
		json_array_append_new(devices, device_json(&r->devices[i]));
	for (size_t i = 0; i < r->nrows; i++)
		json_array_append_new(rows, row_json(&r->rows[i]));
	root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "schema", r->schema, "voxbench_version",
			 r->voxbench_version, "created", r->created, "host", host_json(&r->host),
			 "devices", devices, "results", rows);
	json_object_set_new(root, "probe", probe ? probe : json_null());
	if (r->prebuild_programs) /* compiled ahead, on threads, before any row */
		json_object_set_new(root, "prebuild",
				    json_pack("{sI sI sI si sf}", "programs",
					      (json_int_t)r->prebuild_programs, "devices",
					      (json_int_t)r->prebuild_devices, "failed",
					      (json_int_t)r->prebuild_failed, "threads",
					      r->prebuild_threads, "ms", r->prebuild_ms));
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

static enum row_status parse_status(const char *s)
{
	for (int i = ROW_PASS; i <= ROW_ERROR; i++)
		if (strcmp(s, row_status_name((enum row_status)i)) == 0)
			return (enum row_status)i;
	return ROW_ERROR;
}

static void read_row(const json_t *o, struct result_row *row)
{
	const json_t *stack = json_object_get(o, "stack"), *gpu = json_object_get(o, "gpu_ms");
	const json_t *params = json_object_get(o, "params"), *delta = json_object_get(o, "delta");
	const char *key, *cache = json_string_value(json_object_get(o, "cache"));
	const json_t *value;
	char status[16];

	result_row_init(row);
	get_string(o, "op", row->op, sizeof(row->op));
	get_string(o, "category", row->category, sizeof(row->category));
	json_object_foreach((json_t *)params, key, value) {
		struct param_value *p;

		if (row->nparams == REPORT_MAX_PARAMS)
			break;
		p = &row->params[row->nparams++];
		snprintf(p->name, sizeof(p->name), "%s", key);
		p->value = json_number_value(value);
		p->is_int = json_is_integer(value);
	}
	get_string(o, "backend", row->backend, sizeof(row->backend));
	get_string(o, "device", row->device, sizeof(row->device));
	get_string(stack, "name", row->stack_name, sizeof(row->stack_name));
	get_string(stack, "source", row->stack_source, sizeof(row->stack_source));
	row->width = (uint64_t)get_number(stack, "width");
	row->height = (uint64_t)get_number(stack, "height");
	row->depth = (uint64_t)get_number(stack, "depth");
	get_string(stack, "dtype", row->dtype, sizeof(row->dtype));
	get_string(stack, "sha256", row->stack_sha256, sizeof(row->stack_sha256));
	if (json_is_integer(json_object_get(stack, "frame"))) {
		row->frame = (int)json_integer_value(json_object_get(stack, "frame"));
		row->channel = (int)json_integer_value(json_object_get(stack, "channel"));
	}
	get_string(o, "status", status, sizeof(status));
	row->status = parse_status(status);
	get_string(o, "reason", row->reason, sizeof(row->reason));
	row->gpu.median = get_number(gpu, "median");
	row->gpu.min = get_number(gpu, "min");
	row->gpu.max = get_number(gpu, "max");
	row->gpu.runs = (int)json_integer_value(json_object_get(gpu, "runs"));
	row->h2d_ms = get_number(o, "h2d_ms");
	row->d2h_ms = get_number(o, "d2h_ms");
	row->pinned = json_is_boolean(json_object_get(o, "pinned"))
			      ? json_is_true(json_object_get(o, "pinned")) : -1;
	row->pin_ms = get_number(o, "pin_ms");
	row->compile_ms = get_number(o, "compile_ms");
	row->cache_hit = cache ? strcmp(cache, "hit") == 0 : -1;
	row->cpu_ms = get_number(o, "cpu_ms");
	row->cpu_threads = (int)json_integer_value(json_object_get(o, "cpu_threads"));
	row->speedup = get_number(o, "speedup");
	row->speedup_with_transfers = get_number(o, "speedup_with_transfers");
	row->bytes_moved = (uint64_t)json_integer_value(json_object_get(o, "bytes_moved"));
	row->effective_gbps = get_number(o, "effective_gbps");
	row->bandwidth_fraction = get_number(o, "bandwidth_fraction");
	row->has_delta = json_is_object(delta);
	if (row->has_delta) {
		row->delta.max_abs = get_number(delta, "max_abs");
		row->delta.mean_abs = get_number(delta, "mean_abs");
		row->delta.rmse = get_number(delta, "rmse");
		row->delta.tolerance = get_number(delta, "tolerance");
		row->delta.mismatches = (uint64_t)json_integer_value(json_object_get(delta, "mismatches"));
		row->delta.ambiguous = (uint64_t)json_integer_value(json_object_get(delta, "ambiguous"));
		if (json_is_integer(json_object_get(delta, "labels_gpu"))) {
			row->delta.labels_gpu = json_integer_value(json_object_get(delta, "labels_gpu"));
			row->delta.labels_ref = json_integer_value(json_object_get(delta, "labels_ref"));
		}
	}
	for (int i = 0; i < PHASE_COUNT; i++)
		row->phase_ms[i] = get_number(json_object_get(o, "phases_ms"),
					      row_phase_name((enum row_phase)i));
	row->wall_ms = get_number(o, "wall_ms");
	if (json_is_object(json_object_get(o, "side_value"))) {
		const json_t *side = json_object_get(o, "side_value");

		get_string(side, "name", row->side_name, sizeof(row->side_name));
		row->side_gpu = get_number(side, "gpu");
		row->side_cpu = get_number(side, "cpu");
	}
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

		read_row(json_array_get(rows, i), &row);
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
