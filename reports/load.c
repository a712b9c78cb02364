/*
 * reports/load.c: a JSON report read back for reading. Every field is checked before
 * report_read_json copies it (a damaged or hand-edited report is refused with the field's name,
 * never read as zeros), and the optional "probe" section gives the verdict and the device's
 * measured copy bandwidth.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "row_fields.h"

/* The checks (enum rf_check) are reports/row_fields.h's, for the row and the rest alike. */
struct field {
	const char *key;
	enum rf_check kind;
	int required;
	size_t max; /* longest string accepted (CK_STRING, CK_NAME) */
};

static const struct field top_fields[] = {
	{ "schema", CK_NAME, 1, 31 },   { "voxbench_version", CK_STRING, 0, 31 },
	{ "created", CK_STRING, 0, 31 }, { "host", CK_OBJECT, 0, 0 },
	{ "devices", CK_ARRAY, 0, 0 },  { "results", CK_ARRAY, 1, 0 },
	{ "probe", CK_OPT_OBJECT, 0, 0 },
};

static const struct field host_fields[] = {
	{ "hostname", CK_STRING, 0, 255 }, { "os", CK_STRING, 0, 255 },
	{ "kernel", CK_STRING, 0, 255 },   { "cpu_model", CK_STRING, 0, 255 },
	{ "cpu_threads", CK_COUNT, 0, 0 }, { "memory_bytes", CK_COUNT, 0, 0 },
	{ "load_start", CK_RATIO, 0, 0 },  { "load_end", CK_RATIO, 0, 0 },
};

static const struct field device_fields[] = {
	{ "backend", CK_STRING, 0, 31 },        { "platform", CK_STRING, 0, 255 },
	{ "name", CK_STRING, 0, 255 },          { "vendor", CK_STRING, 0, 255 },
	{ "driver_version", CK_STRING, 0, 127 }, { "type", CK_STRING, 0, 15 },
	{ "global_mem_bytes", CK_COUNT, 0, 0 }, { "max_alloc_bytes", CK_COUNT, 0, 0 },
	{ "local_mem_bytes", CK_COUNT, 0, 0 },  { "compute_units", CK_COUNT, 0, 0 },
	{ "max_clock_mhz", CK_COUNT, 0, 0 },    { "copy_gbps", CK_RATIO, 0, 0 },
};

#define VB_STR_(x) #x
#define VB_STR(x) VB_STR_(x)
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* What a value is, for messages: "a string", "-5", "missing"... */
static void describe(const json_t *v, char *buf, size_t len)
{
	char num[40];

	if (!v)
		snprintf(buf, len, "missing");
	else if (json_is_string(v))
		snprintf(buf, len, "the string \"%.40s\"", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%s", fmt_num(num, json_real_value(v), 6));
	else if (json_is_null(v))
		snprintf(buf, len, "null");
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "%s", json_is_array(v) ? "an array" : "an object");
}

static int number_in(const json_t *v, double lo, double hi, int null_ok)
{
	double x;

	if (json_is_null(v))
		return null_ok;
	if (!json_is_number(v))
		return 0;
	x = json_number_value(v);
	return isfinite(x) && x >= lo && x <= hi;
}

static int string_ok(const json_t *v, size_t max, int nonempty)
{
	size_t n = json_string_length(v);

	return json_is_string(v) && n <= max && (!nonempty || n > 0);
}

static int status_ok(const json_t *v)
{
	const char *s = json_string_value(v);

	for (int i = ROW_PASS; s && i <= ROW_ERROR; i++)
		if (strcmp(s, row_status_name((enum row_status)i)) == 0)
			return 1;
	return 0;
}

/* Whether v fits kind; expected says what would. */
static int kind_ok(const json_t *v, const struct field *f, char *expected, size_t len)
{
	switch (f->kind) {
	case CK_NONE: return 1;
	case CK_STRING: snprintf(expected, len, "a string of at most %zu bytes", f->max);
		return string_ok(v, f->max, 0);
	case CK_NAME: snprintf(expected, len, "a non-empty string of at most %zu bytes", f->max);
		return string_ok(v, f->max, 1);
	case CK_OPT_STRING: snprintf(expected, len, "a string or null");
		return json_is_string(v) || json_is_null(v);
	case CK_MS: snprintf(expected, len, "a time in ms from 0 to 1e12, or null");
		return number_in(v, 0, 1e12, 1);
	case CK_RATIO: snprintf(expected, len, "a number from 0 to 1e15, or null");
		return number_in(v, 0, 1e15, 1);
	case CK_REAL: snprintf(expected, len, "a number of magnitude below 1e300, or null");
		return number_in(v, -1e300, 1e300, 1);
	case CK_COUNT: snprintf(expected, len, "a whole number from 0 to 2^62");
		return json_is_integer(v) && number_in(v, 0, 4611686018427387904.0, 0);
	case CK_DIM: snprintf(expected, len, "a whole number from 1 to 2^32");
		return json_is_integer(v) && number_in(v, 1, 4294967296.0, 0);
	case CK_INDEX: snprintf(expected, len, "a whole number from -1 to 2^31");
		return json_is_integer(v) && number_in(v, -1, 2147483648.0, 0);
	case CK_STATUS: snprintf(expected, len, "one of \"pass\", \"fail\", \"skip\", \"error\"");
		return status_ok(v);
	case CK_OBJECT: snprintf(expected, len, "an object");
		return json_is_object(v);
	case CK_OPT_OBJECT: snprintf(expected, len, "an object or null");
		return json_is_object(v) || json_is_null(v);
	case CK_ARRAY: snprintf(expected, len, "an array");
		return json_is_array(v);
	}
	return 0;
}

static int bad_field(struct vb_err *err, const char *where, const char *field, const json_t *v,
		     const char *expected)
{
	char found[80];

	describe(v, found, sizeof(found));
	return vb_errf(err, VB_E_ARGS, "bad report %s: %s is %s, expected %s; the file is damaged "
			 "or not a voxbench report: write it again with 'voxbench run --out'",
			 where, field, found, expected);
}

static int check_fields(const json_t *o, const struct field *fields, size_t n,
			const char *where, const char *prefix, struct vb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(o, fields[i].key);
		char expected[96], name[160];

		if (!v && !fields[i].required)
			continue;
		if (kind_ok(v, &fields[i], expected, sizeof(expected)))
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, fields[i].key);
		return bad_field(err, where, name, v, expected);
	}
	return VB_OK;
}

static int check_params(const json_t *params, const char *where, const char *prefix,
			struct vb_err *err)
{
	const char *key;
	const json_t *v;
	char name[200];

	if (json_object_size(params) > REPORT_MAX_PARAMS) {
		snprintf(name, sizeof(name), "%sparams", prefix);
		return bad_field(err, where, name, params, "an object of at most "
				 VB_STR(REPORT_MAX_PARAMS) " parameters");
	}
	json_object_foreach((json_t *)params, key, v) {
		snprintf(name, sizeof(name), "%sparams.%.60s", prefix, key);
		if (strlen(key) > 31 || !key[0])
			return bad_field(err, where, name, v, "a parameter name of 1 to 31 bytes");
		if (!number_in(v, -1e300, 1e300, 0))
			return bad_field(err, where, name, v, "a number");
	}
	return VB_OK;
}

/*
 * A row by the table of row fields: its top-level fields first, then each group's (stack,
 * gpu_ms, delta, phases_ms) where the group is an object, then the parameters.
 */
static int check_row(const json_t *row, size_t i, const char *where, struct vb_err *err)
{
	char prefix[64], name[160], expected[96];
	int status = VB_OK;

	snprintf(prefix, sizeof(prefix), "results[%zu]", i);
	if (!json_is_object(row))
		return bad_field(err, where, prefix, row, "an object");
	for (int nested = 0; nested < 2; nested++)
		for (size_t k = 0; k < row_field_count; k++) {
			const struct row_field *f = &row_fields[k];
			const char *dot = strchr(f->key, '.');
			const json_t *parent = row, *v;
			struct field spec = { dot ? dot + 1 : f->key, f->check, f->required, f->max };

			if (f->check == CK_NONE || (dot != NULL) != nested)
				continue;
			if (dot) {
				char group[32];

				snprintf(group, sizeof(group), "%.*s", (int)(dot - f->key), f->key);
				parent = json_object_get(row, group);
				if (!json_is_object(parent))
					continue; /* a missing required group failed above */
			}
			v = json_object_get(parent, spec.key);
			if ((!v && !spec.required) || kind_ok(v, &spec, expected, sizeof(expected)))
				continue;
			snprintf(name, sizeof(name), "%s.%s", prefix, f->key);
			return bad_field(err, where, name, v, expected);
		}
	if (json_object_get(row, "params")) {
		snprintf(prefix, sizeof(prefix), "results[%zu].", i);
		status = check_params(json_object_get(row, "params"), where, prefix, err);
	}
	return status;
}

static int check_devices(const json_t *devices, const char *where, struct vb_err *err)
{
	for (size_t i = 0; i < json_array_size(devices); i++) {
		const json_t *d = json_array_get(devices, i);
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "devices[%zu]", i);
		if (!json_is_object(d))
			return bad_field(err, where, prefix, d, "an object");
		snprintf(prefix, sizeof(prefix), "devices[%zu].", i);
		if (check_fields(d, device_fields, NFIELDS(device_fields), where, prefix, err))
			return VB_E_ARGS;
	}
	return VB_OK;
}

static int check_schema(const json_t *root, const char *where, struct vb_err *err)
{
	const char *schema = json_string_value(json_object_get(root, "schema"));

	if (!schema)
		return bad_field(err, where, "schema", json_object_get(root, "schema"),
				 "the string \"" REPORT_SCHEMA "\"");
	if (report_schema_compatible(schema))
		return VB_OK;
	return vb_errf(err, VB_E_ARGS, "%s has schema '%.40s' but this voxbench reads %s: read it "
			 "with the voxbench version that wrote it, or run the benchmark again",
			 where, schema, REPORT_SCHEMA);
}

int report_check_json(const json_t *root, const char *where, struct vb_err *err)
{
	const json_t *rows = json_object_get(root, "results");
	int status;

	if (!json_is_object(root))
		return vb_errf(err, VB_E_ARGS, "%s is not a voxbench report: its top level is not a "
				 "JSON object; pass a report written by 'voxbench run --out'", where);
	if ((status = check_schema(root, where, err)))
		return status;
	if ((status = check_fields(root, top_fields, NFIELDS(top_fields), where, "", err)))
		return status;
	if (json_object_get(root, "host") &&
	    (status = check_fields(json_object_get(root, "host"), host_fields,
				   NFIELDS(host_fields), where, "host.", err)))
		return status;
	if ((status = check_devices(json_object_get(root, "devices"), where, err)))
		return status;
	for (size_t i = 0; i < json_array_size(rows) && !status; i++)
		status = check_row(json_array_get(rows, i), i, where, err);
	return status;
}

/* ---- the probe section ---- */

static const char *string_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void read_probe_device(const json_t *d, struct probe_facts *p)
{
	const json_t *bench = json_object_get(d, "bench");
	const json_t *copy = json_object_get(bench, "copy_gbps");
	const char *smoke = json_string_value(json_object_get(json_object_get(d, "smoke"),
							       "status"));

	snprintf(p->name, sizeof(p->name), "%s", string_of(d, "name"));
	snprintf(p->type, sizeof(p->type), "%s", string_of(d, "type"));
	snprintf(p->smoke, sizeof(p->smoke), "%s", smoke ? smoke : "");
	p->copy_gbps = number_in(copy, 1e-9, 1e15, 0) ? json_number_value(copy) : NAN;
}

static void probe_verdict(struct loaded_report *lr, const char *given)
{
	const char *gpu = NULL, *other = NULL;

	for (size_t i = 0; i < lr->nprobe; i++) {
		if (strcmp(lr->probe[i].smoke, "pass") != 0)
			continue;
		if (strcmp(lr->probe[i].type, "gpu") == 0 && !gpu)
			gpu = lr->probe[i].name;
		else if (!other)
			other = lr->probe[i].name;
	}
	if (given)
		snprintf(lr->verdict, sizeof(lr->verdict), "%s", given);
	else if (gpu)
		snprintf(lr->verdict, sizeof(lr->verdict), "ok: a GPU passed the smoke test (%s)",
			 gpu);
	else if (other)
		snprintf(lr->verdict, sizeof(lr->verdict), "warn: only non-GPU devices passed the "
			 "smoke test (%s); run 'voxbench probe' for the fix", other);
	else
		snprintf(lr->verdict, sizeof(lr->verdict), "fail: no device passed the smoke test; "
			 "run 'voxbench probe' for the fix");
}

static void read_probe(const json_t *probe, struct loaded_report *lr)
{
	const json_t *devices = json_object_get(probe, "devices");
	const char *verdict = json_string_value(json_object_get(probe, "verdict"));

	if (!json_is_object(probe)) {
		snprintf(lr->verdict, sizeof(lr->verdict), "not recorded: this report has no probe "
			 "section; 'voxbench probe' gives the verdict on the machine itself");
		return;
	}
	lr->has_probe = 1;
	for (size_t i = 0; i < json_array_size(devices) && lr->nprobe < RENDER_MAX_PROBE_DEVICES;
	     i++)
		if (json_is_object(json_array_get(devices, i)))
			read_probe_device(json_array_get(devices, i), &lr->probe[lr->nprobe++]);
	probe_verdict(lr, verdict);
}

/* ---- loading ---- */

static int parse_file(const char *path, json_t **root, struct vb_err *err)
{
	struct stat st;
	json_error_t jerr;
	int fd;

	if (stat(path, &st) != 0)
		return vb_errf(err, VB_E_ARGS, "cannot read report %s: %s; check the path", path,
			       strerror(errno));
	if (S_ISDIR(st.st_mode))
		return vb_errf(err, VB_E_ARGS, "cannot read report %s: it is a folder; pass the JSON "
				 "file that 'voxbench run --out' wrote", path);
	if (vb_open_regular(path, "the JSON file that 'voxbench run --out' wrote", &fd, err))
		return VB_E_ARGS;
	*root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (!*root)
		return vb_errf(err, VB_E_ARGS, "%s is not valid JSON: %s (line %d, column %d); pass "
				 "a report written by 'voxbench run --out'", path, jerr.text,
			       jerr.line, jerr.column);
	return VB_OK;
}

int report_load(const char *path, struct loaded_report *lr, struct vb_err *err)
{
	json_t *root = NULL;
	int status;

	memset(lr, 0, sizeof(*lr));
	snprintf(lr->path, sizeof(lr->path), "%s", path);
	status = parse_file(path, &root, err);
	if (!status)
		status = report_check_json(root, path, err);
	if (!status) {
		read_probe(json_object_get(root, "probe"), lr);
		status = report_from_json(root, path, &lr->rep, err);
	}
	json_decref(root);
	return status;
}

void report_unload(struct loaded_report *lr)
{
	report_free(&lr->rep);
	memset(lr, 0, sizeof(*lr));
}

double report_copy_gbps(const struct loaded_report *lr, const char *device)
{
	for (size_t i = 0; i < lr->rep.ndevices; i++)
		if (strcmp(lr->rep.devices[i].name, device) == 0 &&
		    isfinite(lr->rep.devices[i].copy_gbps) && lr->rep.devices[i].copy_gbps > 0)
			return lr->rep.devices[i].copy_gbps;
	for (size_t i = 0; i < lr->nprobe; i++)
		if (strcmp(lr->probe[i].name, device) == 0 && isfinite(lr->probe[i].copy_gbps))
			return lr->probe[i].copy_gbps;
	return NAN;
}

double row_bandwidth_fraction(const struct loaded_report *lr, const struct result_row *row)
{
	double bw;

	if (isfinite(row->bandwidth_fraction))
		return row->bandwidth_fraction; /* as the run computed it */
	bw = report_copy_gbps(lr, row->device);
	return isfinite(bw) && isfinite(row->effective_gbps) ? row->effective_gbps / bw : NAN;
}
