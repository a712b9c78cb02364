/*
 * reports/csv.c: every row of a report as CSV (RFC 4180), numbers independent of the locale; the
 * columns are the row field table's (reports/row_fields.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../stacks/stack.h"
#include "render.h"
#include "row_fields.h"

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int report_write_csv(const struct loaded_report *lr, FILE *out)
{
	row_fields_csv_header(out);
	for (size_t i = 0; i < lr->rep.nrows; i++)
		row_fields_csv_row(out, lr, &lr->rep.rows[i]);
	return ferror(out) ? VB_E_IO : VB_OK;
}

int report_write_csv_file(const struct loaded_report *lr, const char *path, struct vb_err *err)
{
	struct out_file o;
	int status = out_open(&o, path, err);

	if (status)
		return status;
	report_write_csv(lr, o.f);
	return out_commit(&o, err);
}

int csv_write_table(const char *path, const char *const *columns, const struct stack *t,
		    struct vb_err *err)
{
	struct out_file o = { 0 };
	char num[40];
	int status = out_open(&o, path, err);

	if (status)
		return status;
	for (size_t c = 0; c < t->width; c++)
		fprintf(o.f, "%s%s", c ? "," : "", columns[c]);
	fputc('\n', o.f);
	for (size_t r = 0; r < t->height; r++) {
		for (size_t c = 0; c < t->width; c++)
			fprintf(o.f, "%s%s", c ? "," : "",
				fmt_num(num, stack_get(t, r * t->width + c), 9));
		fputc('\n', o.f);
	}
	return out_commit(&o, err);
}
