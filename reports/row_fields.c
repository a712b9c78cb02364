/*
 * reports/row_fields.c: the table of a result row's fields (see row_fields.h) and the code that
 * walks it for JSON (write and read) and CSV; reports/load.c checks a loaded report by it and
 * reports/html.c, reports/table.c take their numeric columns from it.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "row_fields.h"

#define AT(m) offsetof(struct result_row, m), sizeof(((struct result_row *)0)->m)
#define NO_FLAG .flag = -1

static int has_file(const struct result_row *row) { return row->stack_sha256[0] != 0; }
static int has_delta(const struct result_row *row) { return row->has_delta; }
static int has_labels(const struct result_row *row) { return row->delta.labels_gpu >= 0; }
static int has_ambiguous(const struct result_row *row) { return row->delta.ambiguous != 0; }
static int has_side(const struct result_row *row) { return row->side_name[0] != 0; }
static int has_table(const struct result_row *row) { return row->table != NULL; }

/* How much of its tolerance a row's largest difference used: the error that reads the same
 * for exp (values near 1e38, deltas of 1e31) as for a blur (0.001 of 0.01). */
static double of_tolerance(const struct loaded_report *lr, const struct result_row *row)
{
	(void)lr;
	if (!row->has_delta || !isfinite(row->delta.max_abs) || !isfinite(row->delta.tolerance))
		return NAN;
	if (row->delta.tolerance > 0)
		return row->delta.max_abs / row->delta.tolerance;
	return row->delta.max_abs == 0 ? 0 : NAN;
}

static double voxels(const struct loaded_report *lr, const struct result_row *row)
{
	(void)lr;
	return row_voxels(row);
}

/* Order: the JSON report's. A group's fields follow it. */
const struct row_field row_fields[] = {
	{ "op", RF_TEXT, AT(op), NO_FLAG, .check = CK_NAME, .required = 1, .max = 63, .csv = 1 },
	{ "category", RF_TEXT, AT(category), NO_FLAG, .check = CK_STRING, .max = 31, .csv = 2 },
	{ "params", RF_PARAMS, AT(params), NO_FLAG, .check = CK_OBJECT, .csv = 3 },
	{ "backend", RF_TEXT, AT(backend), NO_FLAG, .check = CK_NAME, .required = 1, .max = 31,
	  .csv = 4 },
	{ "device", RF_TEXT, AT(device), NO_FLAG, .check = CK_STRING, .max = 255, .csv = 5 },
	{ "stack", RF_OBJECT, 0, 0, NO_FLAG, .check = CK_OBJECT, .required = 1 },
	{ "stack.name", RF_TEXT, AT(stack_name), NO_FLAG, .check = CK_STRING, .max = 31,
	  .csv = 6, .csv_name = "stack" },
	{ "stack.source", RF_TEXT, AT(stack_source), NO_FLAG, .check = CK_STRING, .max = 511 },
	{ "stack.width", RF_U64, AT(width), NO_FLAG, .check = CK_DIM, .required = 1, .csv = 7,
	  .csv_name = "width" },
	{ "stack.height", RF_U64, AT(height), NO_FLAG, .check = CK_DIM, .required = 1, .csv = 8,
	  .csv_name = "height" },
	{ "stack.depth", RF_U64, AT(depth), NO_FLAG, .check = CK_DIM, .required = 1, .csv = 9,
	  .csv_name = "depth" },
	{ "voxels", RF_DERIVED, 0, 0, NO_FLAG, .csv = 10, .value = voxels },
	{ "stack.dtype", RF_TEXT, AT(dtype), NO_FLAG, .check = CK_NAME, .required = 1, .max = 7,
	  .csv = 11, .csv_name = "dtype" },
	{ "stack.sha256", RF_TEXT, AT(stack_sha256), .when = has_file, NO_FLAG,
	  .check = CK_STRING, .max = 64 },
	{ "stack.frame", RF_INDEX, AT(frame), .when = has_file, NO_FLAG, .check = CK_INDEX },
	{ "stack.channel", RF_INDEX, AT(channel), .when = has_file, NO_FLAG, .check = CK_INDEX },
	{ "status", RF_STATUS, AT(status), NO_FLAG, .check = CK_STATUS, .required = 1, .csv = 12 },
	{ "reason", RF_TEXT, AT(reason), NO_FLAG, .check = CK_STRING, .max = 100000, .csv = 33 },
	{ "gpu_ms", RF_OBJECT, 0, 0, NO_FLAG, .check = CK_OBJECT, .required = 1 },
	{ "gpu_ms.median", RF_NUM, AT(gpu.median), NO_FLAG, .check = CK_MS, .required = 1,
	  .csv = 13, .html = 1, .text = 1, .label = "GPU ms", .digits = 3, .text_digits = 3,
	  .width = 10 },
	{ "gpu_ms.min", RF_NUM, AT(gpu.min), NO_FLAG, .check = CK_MS, .csv = 14 },
	{ "gpu_ms.max", RF_NUM, AT(gpu.max), NO_FLAG, .check = CK_MS, .csv = 15 },
	{ "gpu_ms.runs", RF_INT, AT(gpu.runs), NO_FLAG, .check = CK_COUNT, .csv = 16,
	  .csv_name = "gpu_runs" },
	{ "h2d_ms", RF_NUM, AT(h2d_ms), NO_FLAG, .check = CK_MS, .csv = 17 },
	{ "d2h_ms", RF_NUM, AT(d2h_ms), NO_FLAG, .check = CK_MS, .csv = 18 },
	{ "pinned", RF_BOOL3, AT(pinned), NO_FLAG },
	{ "pin_ms", RF_NUM, AT(pin_ms), NO_FLAG },
	{ "compile_ms", RF_NUM, AT(compile_ms), NO_FLAG, .check = CK_MS, .csv = 19 },
	{ "cache", RF_CACHE, AT(cache_hit), NO_FLAG, .check = CK_OPT_STRING, .csv = 20 },
	{ "cpu_ms", RF_NUM, AT(cpu_ms), NO_FLAG, .check = CK_MS, .csv = 21, .html = 2, .text = 2,
	  .label = "CPU ms", .digits = 2, .text_digits = 2, .width = 10 },
	{ "cpu_threads", RF_INT, AT(cpu_threads), NO_FLAG, .check = CK_COUNT, .csv = 22 },
	{ "cpu_runs", RF_INT, AT(cpu_runs), NO_FLAG },
	{ "cpu_ms_min", RF_NUM, AT(cpu_min_ms), NO_FLAG },
	{ "cpu_ms_max", RF_NUM, AT(cpu_max_ms), NO_FLAG },
	{ "speedup", RF_NUM, AT(speedup), NO_FLAG, .check = CK_RATIO, .csv = 23, .html = 3,
	  .text = 3, .label = "speedup", .digits = 1, .text_digits = 1, .width = 8 },
	{ "speedup_with_transfers", RF_NUM, AT(speedup_with_transfers), NO_FLAG,
	  .check = CK_RATIO, .csv = 24, .html = 4, .label = "speedup with transfers",
	  .digits = 2 },
	{ "bytes_moved", RF_U64, AT(bytes_moved), NO_FLAG, .check = CK_COUNT, .csv = 25 },
	{ "effective_gbps", RF_NUM, AT(effective_gbps), NO_FLAG, .check = CK_RATIO, .csv = 26,
	  .html = 5, .text = 4, .label = "GB/s", .digits = 1, .text_digits = 1, .width = 8 },
	{ "bandwidth_fraction", RF_NUM, AT(bandwidth_fraction), NO_FLAG, .check = CK_RATIO,
	  .csv = 27, .html = 6, .label = "% of measured bandwidth", .digits = 1, .scale = 100,
	  .value = row_bandwidth_fraction },
	{ "delta", RF_OBJECT, 0, 0, .when = has_delta, .flag = offsetof(struct result_row,
	  has_delta), .check = CK_OPT_OBJECT },
	{ "delta.max_abs", RF_NUM, AT(delta.max_abs), NO_FLAG, .check = CK_REAL, .csv = 28,
	  .csv_name = "max_abs_delta", .html = 7, .text = 5, .label = "max |delta|",
	  .text_label = "max|delta|", .digits = 3, .text_digits = -1, .width = 10 },
	{ "of_tolerance", RF_DERIVED, 0, 0, NO_FLAG, .html = 8, .label = "% of tolerance",
	  .digits = 1, .scale = 100, .value = of_tolerance },
	{ "delta.mean_abs", RF_NUM, AT(delta.mean_abs), NO_FLAG, .check = CK_REAL, .csv = 29,
	  .csv_name = "mean_abs_delta" },
	{ "delta.rmse", RF_NUM, AT(delta.rmse), NO_FLAG, .check = CK_REAL, .csv = 30,
	  .csv_name = "rmse_delta" },
	{ "delta.mismatches", RF_U64, AT(delta.mismatches), NO_FLAG, .check = CK_COUNT,
	  .csv = 31, .csv_name = "mismatches" },
	{ "delta.tolerance", RF_NUM, AT(delta.tolerance), NO_FLAG, .check = CK_REAL, .csv = 32,
	  .csv_name = "tolerance" },
	{ "delta.labels_gpu", RF_I64, AT(delta.labels_gpu), .when = has_labels, NO_FLAG,
	  .check = CK_COUNT },
	{ "delta.labels_ref", RF_I64, AT(delta.labels_ref), .when = has_labels, NO_FLAG,
	  .check = CK_COUNT },
	{ "delta.ambiguous", RF_U64, AT(delta.ambiguous), .when = has_ambiguous, NO_FLAG,
	  .check = CK_COUNT },
	{ "table", RF_TABLE, 0, 0, .when = has_table, .omit = 1, NO_FLAG,
	  .check = CK_OPT_OBJECT },
	{ "side_value", RF_OBJECT, 0, 0, .when = has_side, .omit = 1, NO_FLAG,
	  .check = CK_OPT_OBJECT },
	{ "side_value.name", RF_TEXT, AT(side_name), NO_FLAG },
	{ "side_value.gpu", RF_NUM, AT(side_gpu), NO_FLAG },
	{ "side_value.cpu", RF_NUM, AT(side_cpu), NO_FLAG },
	{ "phases_ms", RF_OBJECT, 0, 0, NO_FLAG, .check = CK_OPT_OBJECT },
	{ "phases_ms.stack", RF_NUM, AT(phase_ms[PHASE_STACK]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.inputs", RF_NUM, AT(phase_ms[PHASE_INPUTS]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.upload", RF_NUM, AT(phase_ms[PHASE_UPLOAD]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.warmup", RF_NUM, AT(phase_ms[PHASE_WARMUP]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.timed", RF_NUM, AT(phase_ms[PHASE_TIMED]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.download", RF_NUM, AT(phase_ms[PHASE_DOWNLOAD]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.reference", RF_NUM, AT(phase_ms[PHASE_REFERENCE]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.compare", RF_NUM, AT(phase_ms[PHASE_COMPARE]), NO_FLAG, .check = CK_MS },
	{ "phases_ms.start", RF_NUM, AT(phase_ms[PHASE_START]), NO_FLAG, .check = CK_MS },
	{ "wall_ms", RF_NUM, AT(wall_ms), NO_FLAG, .check = CK_MS },
};
const size_t row_field_count = sizeof(row_fields) / sizeof(row_fields[0]);

#define MEMBER(row, f, T) ((T *)((char *)(row) + (f)->offset))
#define CMEMBER(row, f, T) ((const T *)((const char *)(row) + (f)->offset))

/* The group entry of a "group.key" field, or NULL for a top-level one (found once per field:
 * reports of 10000 rows walk the table per row). */
static const struct row_field *group_of(const struct row_field *f)
{
	static const struct row_field *group[sizeof(row_fields) / sizeof(row_fields[0])];
	static int found;

	if (!found) {
		for (size_t i = 0; i < row_field_count; i++) {
			const char *dot = strchr(row_fields[i].key, '.');

			for (size_t g = i; dot && g-- > 0;)
				if (row_fields[g].kind == RF_OBJECT &&
				    strlen(row_fields[g].key) == (size_t)(dot - row_fields[i].key) &&
				    strncmp(row_fields[g].key, row_fields[i].key,
					    (size_t)(dot - row_fields[i].key)) == 0) {
					group[i] = &row_fields[g];
					break;
				}
		}
		found = 1;
	}
	return group[f - row_fields];
}

static const char *leaf(const struct row_field *f)
{
	const char *dot = strchr(f->key, '.');

	return dot ? dot + 1 : f->key;
}

int row_field_absent(const struct row_field *f, const struct result_row *row)
{
	const struct row_field *g = group_of(f);

	return g && g->when && !g->when(row);
}

double row_field_number(const struct row_field *f, const struct loaded_report *lr,
			const struct result_row *row)
{
	if (row_field_absent(f, row))
		return NAN;
	if (f->value)
		return f->value(lr, row);
	switch (f->kind) {
	case RF_NUM: return *CMEMBER(row, f, double);
	case RF_U64: return (double)*CMEMBER(row, f, uint64_t);
	case RF_I64: return (double)*CMEMBER(row, f, int64_t);
	case RF_INT:
	case RF_INDEX: return *CMEMBER(row, f, int);
	default: return NAN;
	}
}

/* ---- JSON ---- */

static json_t *number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
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

static json_t *field_json(const struct row_field *f, const struct result_row *row)
{
	switch (f->kind) {
	case RF_TEXT: return json_string(CMEMBER(row, f, char));
	case RF_NUM: return number(*CMEMBER(row, f, double));
	case RF_U64: return json_integer((json_int_t)*CMEMBER(row, f, uint64_t));
	case RF_I64: return json_integer((json_int_t)*CMEMBER(row, f, int64_t));
	case RF_INT:
	case RF_INDEX: return json_integer(*CMEMBER(row, f, int));
	case RF_STATUS: return json_string(row_status_name(*CMEMBER(row, f, enum row_status)));
	case RF_BOOL3: {
		int v = *CMEMBER(row, f, int);

		return v < 0 ? json_null() : json_boolean(v);
	}
	case RF_CACHE: {
		int v = *CMEMBER(row, f, int);

		return v < 0 ? json_null() : json_string(v ? "hit" : "miss");
	}
	case RF_PARAMS: return params_json(row);
	case RF_TABLE: return table_json(row);
	case RF_OBJECT: return json_object();
	case RF_DERIVED: break;
	}
	return NULL;
}

json_t *row_fields_to_json(const struct result_row *row)
{
	json_t *o = json_object();

	for (size_t i = 0; i < row_field_count; i++) {
		const struct row_field *f = &row_fields[i], *g = group_of(f);
		json_t *parent = g ? json_object_get(o, g->key) : o;

		if (f->kind == RF_DERIVED || !json_is_object(parent))
			continue; /* computed, or in a group this row has not */
		if (f->when && !f->when(row)) {
			if (f->kind == RF_OBJECT && !f->omit)
				json_object_set_new(o, f->key, json_null());
			continue;
		}
		json_object_set_new(parent, leaf(f), field_json(f, row));
	}
	return o;
}

static void read_params(const json_t *params, struct result_row *row)
{
	const char *key;
	const json_t *value;

	json_object_foreach((json_t *)params, key, value) {
		struct param_value *p;

		if (row->nparams == REPORT_MAX_PARAMS)
			break;
		p = &row->params[row->nparams++];
		snprintf(p->name, sizeof(p->name), "%s", key);
		p->value = json_number_value(value);
		p->is_int = json_is_integer(value);
	}
}

static enum row_status parse_status(const char *s)
{
	for (int i = ROW_PASS; i <= ROW_ERROR; i++)
		if (s && strcmp(s, row_status_name((enum row_status)i)) == 0)
			return (enum row_status)i;
	return ROW_ERROR;
}

static void field_read(const struct row_field *f, const json_t *v, struct result_row *row)
{
	const char *s = json_string_value(v);

	switch (f->kind) {
	case RF_TEXT: /* a long reason is cut between characters */
		vb_copy_utf8(MEMBER(row, f, char), f->size, s ? s : "");
		break;
	case RF_NUM: *MEMBER(row, f, double) = json_is_number(v) ? json_number_value(v) : NAN; break;
	case RF_U64: *MEMBER(row, f, uint64_t) = (uint64_t)json_integer_value(v); break;
	case RF_I64:
		if (json_is_integer(v))
			*MEMBER(row, f, int64_t) = json_integer_value(v);
		break;
	case RF_INT: *MEMBER(row, f, int) = (int)json_integer_value(v); break;
	case RF_INDEX:
		if (json_is_integer(v))
			*MEMBER(row, f, int) = (int)json_integer_value(v);
		break;
	case RF_STATUS: *MEMBER(row, f, enum row_status) = parse_status(s ? s : ""); break;
	case RF_BOOL3: *MEMBER(row, f, int) = json_is_boolean(v) ? json_is_true(v) : -1; break;
	case RF_CACHE: *MEMBER(row, f, int) = s ? strcmp(s, "hit") == 0 : -1; break;
	case RF_PARAMS: read_params(v, row); break;
	case RF_OBJECT:
		if (f->flag >= 0)
			*(int *)((char *)row + f->flag) = json_is_object(v);
		break;
	case RF_TABLE: /* the table stays in the file: rows read back carry none */
	case RF_DERIVED: break;
	}
}

void row_fields_from_json(const json_t *o, struct result_row *row)
{
	result_row_init(row);
	for (size_t i = 0; i < row_field_count; i++) {
		const struct row_field *f = &row_fields[i], *g = group_of(f);
		const json_t *parent = g ? json_object_get(o, g->key) : o;

		if (g && g->when && !json_is_object(parent))
			continue; /* an optional group the file does not have */
		field_read(f, json_object_get(parent, leaf(f)), row);
	}
}

/* ---- CSV ---- */

static size_t csv_fields(const struct row_field **out)
{
	size_t n = 0;

	for (int col = 1;; col++) {
		size_t before = n;

		for (size_t i = 0; i < row_field_count; i++)
			if (row_fields[i].csv == col)
				out[n++] = &row_fields[i];
		if (n == before)
			return n;
	}
}

void row_fields_csv_header(FILE *out)
{
	const struct row_field *f[sizeof(row_fields) / sizeof(row_fields[0])];
	size_t n = csv_fields(f);

	for (size_t i = 0; i < n; i++) {
		if (f[i]->csv_name)
			fputs(f[i]->csv_name, out);
		else
			for (const char *k = f[i]->key; *k; k++)
				fputc(*k == '.' ? '_' : *k, out);
		fputc(i + 1 < n ? ',' : '\n', out);
	}
}

void row_fields_csv_row(FILE *out, const struct loaded_report *lr, const struct result_row *row)
{
	const struct row_field *f[sizeof(row_fields) / sizeof(row_fields[0])];
	size_t n = csv_fields(f);
	char buf[512];

	for (size_t i = 0; i < n; i++) {
		double v = row_field_number(f[i], lr, row);

		switch (f[i]->kind) {
		case RF_TEXT: csv_field(out, CMEMBER(row, f[i], char)); break;
		case RF_PARAMS:
			row_params_text(row, buf, sizeof(buf));
			csv_field(out, buf);
			break;
		case RF_STATUS: fputs(row_status_name(row->status), out); break;
		case RF_CACHE: {
			int c = *CMEMBER(row, f[i], int);

			fputs(c < 0 ? "" : c ? "hit" : "miss", out);
			break;
		}
		case RF_U64:
			if (!row_field_absent(f[i], row))
				fprintf(out, "%llu", (unsigned long long)*CMEMBER(row, f[i], uint64_t));
			break;
		case RF_INT:
			if (isfinite(v)) /* a count: never negative */
				fprintf(out, "%llu", v > 0 ? (unsigned long long)v : 0ull);
			break;
		default: fputs(fmt_num((char[40]){ 0 }, v, 10), out); break;
		}
		fputc(i + 1 < n ? ',' : '\n', out);
	}
}

size_t row_fields_in(int html, const struct row_field **out, size_t max)
{
	size_t n = 0;

	for (int pos = 1; n < max; pos++) {
		size_t before = n;

		for (size_t i = 0; i < row_field_count && n < max; i++)
			if ((html ? row_fields[i].html : row_fields[i].text) == pos)
				out[n++] = &row_fields[i];
		if (n == before)
			return n;
	}
	return n;
}
