/* reports/table.c: the text table of a report, for people at a terminal. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

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

void report_print_table(const struct report *r, FILE *out)
{
	size_t problems = 0;

	fprintf(out, "%-26s %-15s %-5s %-7s %10s %10s %8s %8s %10s  %s\n", "op", "size", "dtype",
		"backend", "GPU ms", "CPU ms", "speedup", "GB/s", "max|delta|", "verdict");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];
		char size[48];

		snprintf(size, sizeof(size), "%llux%llux%llu", (unsigned long long)row->width,
			 (unsigned long long)row->height, (unsigned long long)row->depth);
		fprintf(out, "%-26s %-15s %-5s %-7s", row->op, size, row->dtype, row->backend);
		cell(out, 10, 3, row->gpu.median);
		cell(out, 10, 2, row->cpu_ms);
		cell(out, 8, 1, row->speedup);
		cell(out, 8, 1, row->effective_gbps);
		cell_g(out, 10, row->has_delta ? row->delta.max_abs : NAN);
		fprintf(out, "  %s\n", row_status_name(row->status));
		problems += row->status != ROW_PASS;
	}
	if (!problems)
		return;
	fprintf(out, "\n");
	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];

		if (row->status != ROW_PASS)
			fprintf(out, "%s %s %llux%llux%llu %s: %s\n", row_status_name(row->status),
				row->op, (unsigned long long)row->width,
				(unsigned long long)row->height, (unsigned long long)row->depth,
				row->dtype, row->reason);
	}
}
