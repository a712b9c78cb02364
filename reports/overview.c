/*
 * reports/overview.c: the page's first picture, the machine at a glance: one line per op (and
 * parameters), one column per size, dtype, backend and device, each cell a row of the report
 * coloured by its verdict and shaded by its speedup, with its speedup and its share of the
 * measured copy bandwidth. An HTML table (no gnuplot): it reads at any width and every cell
 * names its row in a tooltip.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define COLUMN_PARTS (KEY_SIZE | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE)
#define LINE_PARTS (KEY_OP | KEY_PARAMS)

const char overview_css[] =
	"table.hm{font-size:11px;line-height:1.2}table.hm td,table.hm th{padding:1px 4px;"
	"border:1px solid #fff}\ntable.hm th{font-weight:600;text-align:center;"
	"white-space:nowrap}table.hm th.op,table.hm td.op{text-align:left;max-width:19em}\n"
	"table.hm tr.cat th{text-align:left;background:#e4e7ec;position:static}\n"
	"table.hm td.c{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;"
	"min-width:4.8em}\ntable.hm td.c span.b{color:#3a4150;font-size:10px}\n"
	"table.hm td.fail{background:#f4b4ae}table.hm td.error{background:#d9837b}"
	"table.hm td.skip{background:#e4e7ec;color:#5a6270}table.hm td.none{background:#fafbfc}\n"
	".legend span{display:inline-block;padding:0 .5em;margin-right:.3em;font-size:.85em}\n";

/* A passing cell's background: lighter green for small speedups, darker for large; amber
 * where the GPU was slower than the CPU reference. */
static void shade(FILE *out, double speedup)
{
	double t;

	if (!isfinite(speedup)) {
		fputs("#eef3ee", out);
		return;
	}
	if (speedup < 1) {
		fputs("#ffe3a3", out);
		return;
	}
	t = log10(speedup) / 4; /* 1x .. 10000x */
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	fprintf(out, "hsl(130,45%%,%.0f%%)", 90 - 38 * t);
}

static int column_cmp(const void *a, const void *b)
{
	const struct result_row *x = *(const struct result_row *const *)a;
	const struct result_row *y = *(const struct result_row *const *)b;
	int d;

	if (row_voxels(x) != row_voxels(y))
		return row_voxels(x) < row_voxels(y) ? -1 : 1;
	if ((d = strcmp(x->dtype, y->dtype)))
		return d;
	if ((d = strcmp(x->backend, y->backend)))
		return d;
	return strcmp(x->device, y->device);
}

static void header(FILE *out, const struct result_row *const *cols, size_t ncols,
		   unsigned vary)
{
	char buf[300];

	fputs("<tr><th class=\"op\">op</th>", out);
	for (size_t k = 0; k < ncols; k++) {
		fputs("<th>", out);
		row_label(cols[k], COLUMN_PARTS & (vary | KEY_SIZE | KEY_DTYPE | KEY_BACKEND), buf,
			  sizeof(buf));
		for (char *p = buf; *p; p++) /* one part a line */
			if (*p == ' ')
				*p = '\n';
		for (char *p = buf, *q; p; p = q) {
			q = strchr(p, '\n');
			if (q)
				*q++ = '\0';
			html_escape(out, p);
			if (q)
				fputs("<br>", out);
		}
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
}

static void one_row(FILE *out, const struct loaded_report *lr, const struct result_row *row)
{
	char label[700], tip[900];
	double bw = row_bandwidth_fraction(lr, row);

	row_label(row, KEY_OP | KEY_PARAMS | KEY_SIZE | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE,
		  label, sizeof(label));
	snprintf(tip, sizeof(tip), "%s: %s, GPU %.4g ms, CPU %.4g ms, speedup %.4gx, %.3g%% of "
		 "copy bandwidth", label, row_status_name(row->status), row->gpu.median,
		 row->cpu_ms, row->speedup, 100 * bw);
	fputs("<span class=\"r\" title=\"", out);
	html_escape(out, tip);
	fputs("\">", out);
	if (row->status == ROW_SKIP || row->status == ROW_ERROR)
		fputs(row_status_name(row->status), out);
	else if (isfinite(row->speedup))
		fprintf(out, row->speedup >= 100 ? "%.0fx" : "%.3gx", row->speedup);
	else
		fputs(row_status_name(row->status), out);
	if (isfinite(bw) && row->status != ROW_SKIP)
		fprintf(out, " <span class=\"b\">%.0f%%</span>", 100 * bw);
	fputs("</span>", out);
}

/* The cell of line group gl and column col: every row of that op in that column. */
static void one_cell(FILE *out, const struct loaded_report *lr, const struct row_groups *lines,
		     size_t gl, size_t col, const size_t *col_of_row)
{
	const struct report *r = &lr->rep;
	const struct result_row *first = NULL;
	size_t n = 0;

	for (size_t k = 0; k < lines->count[gl]; k++) {
		size_t i = lines->order[lines->start[gl] + k];
		const struct result_row *row = &r->rows[i];

		if (col_of_row[i] != col)
			continue;
		if (!n++) {
			first = row;
			fprintf(out, "<td class=\"c %s\" style=\"background:", row_status_name(row->status));
			if (row->status == ROW_PASS)
				shade(out, row->speedup);
			fputs("\">", out);
		} else {
			fputs("<br>", out);
		}
		one_row(out, lr, row);
	}
	fputs(first ? "</td>" : "<td class=\"c none\"></td>", out);
}

/* The distinct columns, sorted by size, dtype, backend and device (cols: a row of each), and
 * each row's column (col_of_row, one per row of the report). */
static int columns_of(const struct report *r, const struct result_row ***out, size_t **col_of_row,
		      size_t *n, struct vb_err *err)
{
	struct row_groups g;
	const struct result_row **cols = NULL;
	size_t *of = NULL;
	int status = row_groups_make(r, COLUMN_PARTS, NULL, &g, err);

	*n = 0;
	if (status)
		return status;
	cols = calloc(g.n ? g.n : 1, sizeof(*cols));
	of = calloc(r->nrows ? r->nrows : 1, sizeof(*of));
	if (!cols || !of) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory for the overview");
		free(cols);
		free(of);
		cols = NULL;
		of = NULL;
	} else {
		for (size_t i = 0; i < g.n; i++)
			cols[i] = &r->rows[g.order[g.start[i]]];
		qsort(cols, g.n, sizeof(*cols), column_cmp);
		for (size_t i = 0; i < g.n; i++) { /* group i's rows into the column its row went to */
			size_t k = 0;

			while (cols[k] != &r->rows[g.order[g.start[i]]])
				k++;
			for (size_t j = 0; j < g.count[i]; j++)
				of[g.order[g.start[i] + j]] = k;
		}
		*n = g.n;
	}
	row_groups_free(&g);
	*out = cols;
	*col_of_row = of;
	return status;
}

static void legend(FILE *out)
{
	fputs("<p class=\"legend\">Each cell is one row: speedup over the CPU reference (kernel "
	      "only) and, in small type, the share of the measured copy bandwidth. "
	      "<span style=\"background:hsl(130,45%,90%)\">pass, 1x</span>"
	      "<span style=\"background:hsl(130,45%,71%)\">pass, 100x</span>"
	      "<span style=\"background:hsl(130,45%,52%)\">pass, 10000x</span>"
	      "<span style=\"background:#ffe3a3\">pass, slower than the CPU</span>"
	      "<span style=\"background:#f4b4ae\">fail</span>"
	      "<span style=\"background:#d9837b\">error</span>"
	      "<span style=\"background:#e4e7ec\">skip</span> Hover a cell for its times.</p>\n",
	      out);
}

/* Where a category first appears, so that each category's lines come together. */
static size_t category_rank(const struct report *r, const char *category)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].category, category) == 0)
			return i;
	return r->nrows;
}

struct line_order {
	size_t rank, group;
};

static int line_cmp(const void *a, const void *b)
{
	const struct line_order *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

static void lines_table(FILE *out, const struct loaded_report *lr, const struct row_groups *lines,
			const struct line_order *order, const size_t *col_of_row, size_t ncols)
{
	const struct report *r = &lr->rep;

	for (size_t i = 0; i < lines->n; i++) {
		size_t gl = order[i].group;
		const struct result_row *row = &r->rows[lines->order[lines->start[gl]]];
		char label[600];

		if (i == 0 || order[i].rank != order[i - 1].rank) {
			fprintf(out, "<tr class=\"cat\"><th colspan=\"%zu\">", ncols + 1);
			html_escape(out, row->category[0] ? row->category : "(no category)");
			fputs("</th></tr>\n", out);
		}
		row_label(row, LINE_PARTS, label, sizeof(label));
		fputs("<tr><td class=\"op\">", out);
		html_escape(out, label);
		fputs("</td>", out);
		for (size_t k = 0; k < ncols; k++)
			one_cell(out, lr, lines, gl, k, col_of_row);
		fputs("</tr>\n", out);
	}
}

int html_overview(FILE *out, const struct loaded_report *lr, struct vb_err *err)
{
	const struct report *r = &lr->rep;
	const struct result_row **cols;
	size_t *col_of_row;
	struct row_groups lines;
	struct line_order *order;
	size_t ncols;
	int status;

	if (!r->nrows)
		return VB_OK;
	if ((status = columns_of(r, &cols, &col_of_row, &ncols, err)))
		return status;
	if ((status = row_groups_make(r, LINE_PARTS, NULL, &lines, err))) {
		free(cols);
		free(col_of_row);
		return status;
	}
	fputs("<h2>Overview</h2>\n", out);
	legend(out);
	fputs("<table class=\"hm\" id=\"overview\">\n", out);
	header(out, cols, ncols, report_varying(r));
	if (!(order = calloc(lines.n ? lines.n : 1, sizeof(*order)))) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory for the overview");
		goto out;
	}
	for (size_t gl = 0; gl < lines.n; gl++)
		order[gl] = (struct line_order){
			category_rank(r, r->rows[lines.order[lines.start[gl]]].category), gl };
	qsort(order, lines.n, sizeof(*order), line_cmp);
	lines_table(out, lr, &lines, order, col_of_row, ncols);
	free(order);
	fputs("</table>\n", out);
out:
	row_groups_free(&lines);
	free(cols);
	free(col_of_row);
	return status;
}
