/* reports/table.c: the text table of a report, for people at a terminal. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "report.h"
#include "row_fields.h"

/* A name from a driver or a report, escaped for the terminal (common/text.c). */
static const char *esc(const char *s, char *buf, size_t len)
{
	return vb_escape_text(s, buf, len);
}

/* A number in a fixed-width cell, or "-" when it was not measured. */
static void cell(FILE *out, int width, int precision, double v)
{
	if (isfinite(v))
		fprintf(out, " %*.*f", width, precision, v);
	else
		fprintf(out, " %*s", width, "-");
}

static void cell_g(FILE *out, int width, double v)
{
	if (isfinite(v))
		fprintf(out, " %*.3g", width, v);
	else
		fprintf(out, " %*s", width, "-");
}

/* Same op, parameters, stack and device: the rows one op run gives on two backends. */
static int same_run(const struct result_row *a, const struct result_row *b)
{
	if (strcmp(a->op, b->op) || strcmp(a->dtype, b->dtype) || strcmp(a->device, b->device) ||
	    strcmp(a->stack_name, b->stack_name) || a->width != b->width ||
	    a->height != b->height || a->depth != b->depth || a->nparams != b->nparams)
		return 0;
	for (int i = 0; i < a->nparams; i++)
		if (a->params[i].value != b->params[i].value)
			return 0;
	return 1;
}

/* When OpenCL and CUDA both ran an op on one device: their kernel times side by side. */
static void print_backend_ratios(const struct report *r, FILE *out)
{
	int header = 0;

	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *cl = &r->rows[i];
		char size[48], op[256], dtype[32], device[1024];

		if (strcmp(cl->backend, "opencl") != 0)
			continue;
		for (size_t j = 0; j < r->nrows; j++) {
			const struct result_row *cu = &r->rows[j];

			if (strcmp(cu->backend, "cuda") != 0 || !same_run(cl, cu))
				continue;
			if (!header++)
				fprintf(out, "\n%-37s %-15s %-5s %10s %10s %11s  %s\n", "op", "size",
					"dtype", "OpenCL ms", "CUDA ms", "CUDA/OpenCL", "device");
			snprintf(size, sizeof(size), "%llux%llux%llu", (unsigned long long)cl->width,
				 (unsigned long long)cl->height, (unsigned long long)cl->depth);
			fprintf(out, "%-37s %-15s %-5s", esc(cl->op, op, sizeof(op)), size,
				esc(cl->dtype, dtype, sizeof(dtype)));
			cell(out, 10, 3, cl->gpu.median);
			cell(out, 10, 3, cu->gpu.median);
			cell(out, 11, 2, cu->gpu.median / cl->gpu.median);
			fprintf(out, "  %s\n", esc(cl->device, device, sizeof(device)));
			break;
		}
	}
}

/* The stack a row ran on when the report has several for one size: "cells.tif t3 c1". */
static void input_text(const struct result_row *row, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", row->stack_name);

	if (row->frame >= 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " t%d", row->frame);
	if (row->channel >= 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " c%d", row->channel);
}

/* Whether rows of one op, size and dtype come from different stacks (--input, --frame all). */
static int inputs_vary(const struct report *r)
{
	for (size_t i = 1; i < r->nrows; i++)
		if (r->rows[i].frame >= 0 || r->rows[i].channel >= 0 ||
		    strcmp(r->rows[i].stack_name, r->rows[0].stack_name) != 0)
			return 1;
	return 0;
}

#define MAX_PARAMS_WIDTH 44

struct text_columns {
	int op, params, device, input; /* widths; 0: the column is left out */
};

static int fit(int width, const char *s, int max)
{
	int n = (int)strlen(s);

	return n > width ? (n < max ? n : max) : width;
}

static void column_widths(const struct report *r, struct text_columns *w)
{
	int devices = (report_varying(r) & KEY_DEVICE) != 0, inputs = inputs_vary(r);

	*w = (struct text_columns){ 2, 0, devices ? 6 : 0, inputs ? 5 : 0 };
	for (size_t i = 0; i < r->nrows; i++) {
		char params[512], input[640];

		row_params_compact(&r->rows[i], params, sizeof(params));
		w->op = fit(w->op, r->rows[i].op, 37);
		if (params[0])
			w->params = fit(w->params ? w->params : 6, params, MAX_PARAMS_WIDTH);
		if (devices)
			w->device = fit(w->device, r->rows[i].device, 32);
		input_text(&r->rows[i], input, sizeof(input));
		if (inputs)
			w->input = fit(w->input, input, 32);
	}
}

/* text in a column of width w: escaped, cut to fit ("..." marks a cut). */
static void text_cell(FILE *out, int w, const char *text)
{
	char safe[2048];

	esc(text, safe, sizeof(safe));
	if ((int)strlen(safe) > w && w > 3)
		fprintf(out, " %-.*s...", w - 3, safe);
	else
		fprintf(out, " %-*s", w, safe);
}

void report_print_table(const struct report *r, FILE *out)
{
	const struct row_field *cols[16];
	size_t ncols = row_fields_in(0, cols, 16), problems = 0;
	int bw = 7; /* the backend column: as wide as its longest name (peers' are long) */
	struct text_columns w;

	column_widths(r, &w);
	for (size_t i = 0; i < r->nrows; i++)
		if ((int)strlen(r->rows[i].backend) > bw)
			bw = (int)strlen(r->rows[i].backend);
	fprintf(out, "%-*s %-15s %-5s %-*s", w.op, "op", "size", "dtype", bw, "backend");
	if (w.params)
		fprintf(out, " %-*s", w.params, "params");
	if (w.device)
		fprintf(out, " %-*s", w.device, "device");
	if (w.input)
		fprintf(out, " %-*s", w.input, "input");
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, " %*s", cols[c]->width,
			cols[c]->text_label ? cols[c]->text_label : cols[c]->label);
	fprintf(out, "  %s\n", "verdict");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];
		char size[48], notes[160], op[256], dtype[32], backend[64], safe_notes[640];
		char params[512], input[640];

		snprintf(size, sizeof(size), "%llux%llux%llu", (unsigned long long)row->width,
			 (unsigned long long)row->height, (unsigned long long)row->depth);
		fprintf(out, "%-*s %-15s %-5s %-*s", w.op, esc(row->op, op, sizeof(op)), size,
			esc(row->dtype, dtype, sizeof(dtype)), bw,
			esc(row->backend, backend, sizeof(backend)));
		row_params_compact(row, params, sizeof(params));
		if (w.params)
			text_cell(out, w.params, params);
		if (w.device)
			text_cell(out, w.device, row->device);
		input_text(row, input, sizeof(input));
		if (w.input)
			text_cell(out, w.input, input);
		for (size_t c = 0; c < ncols; c++) {
			double v = row_field_number(cols[c], NULL, row);

			if (cols[c]->text_digits < 0)
				cell_g(out, cols[c]->width, v);
			else
				cell(out, cols[c]->width, cols[c]->text_digits, v);
		}
		row_notes(row, notes, sizeof(notes));
		fprintf(out, "  %s%s%s\n", row_status_name(row->status), notes[0] ? "  " : "",
			esc(notes, safe_notes, sizeof(safe_notes)));
		problems += row->status != ROW_PASS;
	}
	print_backend_ratios(r, out);
	report_print_peers(r, out);
	if (!problems)
		return;
	fprintf(out, "\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];
		char op[256], dtype[32];

		if (row->status == ROW_PASS)
			continue;
		fprintf(out, "%s %s %llux%llux%llu %s: ", row_status_name(row->status),
			esc(row->op, op, sizeof(op)), (unsigned long long)row->width,
			(unsigned long long)row->height, (unsigned long long)row->depth,
			esc(row->dtype, dtype, sizeof(dtype)));
		vb_fputs_escaped(row->reason, out);
		fputc('\n', out);
	}
}
