/*
 * reports/compare_html.c: the comparison page: the reports (machines), a summary line per
 * machine, what differs between them, the matched table with times and ratios (better and
 * worse coloured), the rows not in every report, and per report after the first a chart of its
 * speedup against the first on every shared row, one panel per category.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"


static void machines_table(FILE *out, const struct comparison *c)
{
	fputs("<h2>Reports</h2>\n<table>\n<tr><th></th><th>report</th><th>host</th><th>devices"
	      "</th><th>CPU</th><th>written</th></tr>\n", out);
	for (size_t i = 0; i < c->nreports; i++) {
		const struct report *r = &c->reports[i].rep;
		char letter[8];

		compare_letter(i, letter);
		fprintf(out, "<tr><th>%s</th><td>", letter);
		html_escape(out, c->reports[i].path);
		fputs("</td><td>", out);
		html_escape(out, r->host.hostname);
		fputs("</td><td>", out);
		for (size_t d = 0; d < r->ndevices; d++) {
			fputs(d ? "<br>" : "", out);
			html_escape(out, r->devices[d].name);
			fputs(" (", out);
			html_escape(out, r->devices[d].backend);
			fputs(", driver ", out);
			html_escape(out, r->devices[d].driver_version);
			fputs(")", out);
		}
		fputs("</td><td>", out);
		html_escape(out, r->host.cpu_model);
		fputs("</td><td>", out);
		html_escape(out, r->created);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* The settings that differ between the reports, then those that do not. */
static void differs_table(FILE *out, const struct comparison *c)
{
	char v[1024], letter[8];
	int same = 0;

	fputs("<h2>What differs</h2>\n<table class=\"kv\" id=\"differs\">\n<tr><th></th>", out);
	for (size_t i = 0; i < c->nreports; i++) {
		compare_letter(i, letter);
		fprintf(out, "<th>%s</th>", letter);
	}
	fputs("</tr>\n", out);
	for (size_t k = 0; k < compare_setting_count(); k++) {
		if (!compare_setting_differs(c, k))
			continue;
		fprintf(out, "<tr class=\"differs\"><th>%s</th>", compare_setting_name(k));
		for (size_t i = 0; i < c->nreports; i++) {
			compare_setting_value(c, k, i, v, sizeof(v));
			fputs("<td>", out);
			html_escape(out, v);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n<p class=\"meta\">The same in every report: ", out);
	for (size_t k = 0; k < compare_setting_count(); k++) {
		if (compare_setting_differs(c, k))
			continue;
		compare_setting_value(c, k, 0, v, sizeof(v));
		fprintf(out, "%s%s ", same++ ? "; " : "", compare_setting_name(k));
		html_escape(out, v);
	}
	fputs(same ? ".</p>\n" : "nothing.</p>\n", out);
}

static void summaries(FILE *out, const struct comparison *c)
{
	char line[2048];

	fputs("<h2>Summary</h2>\n<ul>\n", out);
	for (size_t i = 1; i < c->nreports; i++) {
		compare_summary_text(c, i, line, sizeof(line));
		fputs("<li>", out);
		html_escape(out, line);
		fputs("</li>\n", out);
	}
	fprintf(out, "</ul>\n<p class=\"meta\">%zu rows matched by op, params, size, dtype and "
		     "backend; %zu have a usable time in every report.</p>\n", c->nlines, c->nshared);
}

static void line_cells(FILE *out, const struct comparison *c, size_t l)
{
	for (size_t i = 0; i < c->nreports; i++) {
		size_t j = c->cell[l * c->nreports + i];
		double t = compare_line_time(c, l, i);

		if (j == COMPARE_NONE)
			fputs("<td class=\"n\">missing</td>", out);
		else if (!isfinite(t))
			fprintf(out, "<td class=\"n\">%s</td>",
				row_status_name(c->reports[i].rep.rows[j].status));
		else
			html_num(out, t, 4);
	}
	for (size_t i = 1; i < c->nreports; i++) {
		double r = compare_line_time(c, l, i) / compare_line_time(c, l, 0);

		/* below 1 this report is faster than A: better */
		fprintf(out, "<td class=\"n %s\">", !isfinite(r) ? "" : r < 0.95 ? "better" :
			r > 1.05 ? "worse" : "");
		if (!isfinite(r))
			fputs("-", out);
		else
			fprintf(out, r >= 0.1 ? "%.3f" : "%.3g", r);
		fputs("</td>", out);
	}
}

static void lines_table(FILE *out, const struct comparison *c)
{
	unsigned parts = compare_label_parts(c);
	char letter[8], label[512];

	fprintf(out, "<h2>Rows</h2>\n<p>%s; ratio: the report's time / A's (below 1 is faster "
		     "than A).</p>\n<table id=\"rows\">\n<tr><th>row</th>",
		compare_metric_name(c->metric));
	for (size_t i = 0; i < c->nreports; i++) {
		compare_letter(i, letter);
		fprintf(out, "<th>%s ms</th>", letter);
	}
	for (size_t i = 1; i < c->nreports; i++) {
		compare_letter(i, letter);
		fprintf(out, "<th>%s/A</th>", letter);
	}
	fputs("</tr>\n", out);
	for (size_t l = 0; l < c->nlines; l++) {
		row_label(compare_line_row(c, l), parts, label, sizeof(label));
		fprintf(out, "<tr%s><td>", compare_line_matched(c, l) ? "" : " class=\"skip\"");
		html_escape(out, label);
		fputs("</td>", out);
		line_cells(out, c, l);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n<p class=\"meta\">The same table as CSV: <a href=\"compare.csv\">"
	      "compare.csv</a>.</p>\n", out);
}

static void unmatched_list(FILE *out, const struct comparison *c)
{
	size_t n = compare_unmatched(c);
	char line[2048];

	if (!n)
		return;
	fprintf(out, "<h2>Rows not in every report (%zu)</h2>\n<ul id=\"unmatched\">\n", n);
	for (size_t l = 0; l < c->nlines; l++) {
		if (compare_line_matched(c, l))
			continue;
		compare_unmatched_text(c, l, line, sizeof(line));
		fputs("<li>", out);
		html_escape(out, line);
		fputs("</li>\n", out);
	}
	fputs("</ul>\n", out);
}

/* ---- plots ---- */

/* "A: host, first device (backend)" */
static void report_name(const struct comparison *c, size_t i, char *buf, size_t len)
{
	const struct report *r = &c->reports[i].rep;
	char letter[8];

	compare_letter(i, letter);
	snprintf(buf, len, "%s (%.60s, %.80s)", letter, r->host.hostname,
		 r->ndevices ? r->devices[0].name : "no device");
}

#define BETTER 0x3b884e
#define WORSE 0xc8372d
#define SAME 0x8a93a3

struct ratio_bar {
	size_t line, category;
	double speedup;
};

static int ratio_cmp(const void *a, const void *b)
{
	const struct ratio_bar *x = a, *y = b;

	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	if (x->speedup != y->speedup)
		return x->speedup > y->speedup ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Where the line's category first appears among the lines. */
static size_t category_of(const struct comparison *c, size_t line)
{
	const char *cat = compare_line_row(c, line)->category;

	for (size_t l = 0; l < c->nlines; l++)
		if (strcmp(compare_line_row(c, l)->category, cat) == 0)
			return l;
	return c->nlines;
}

struct ratio_arrays {
	struct ratio_bar *bars;
	char (*panel_title)[96];
	size_t *start, *count;
	char (*labels)[128];
	double *value;
	unsigned *colour;
};

static void ratio_arrays_free(struct ratio_arrays *a)
{
	free(a->bars);
	free(a->panel_title);
	free(a->start);
	free(a->count);
	free(a->labels);
	free(a->value);
	free(a->colour);
}

static int ratio_arrays_alloc(struct ratio_arrays *a, size_t n)
{
	n = n ? n : 1;
	a->bars = calloc(n, sizeof(*a->bars));
	a->panel_title = calloc(n, sizeof(*a->panel_title));
	a->start = calloc(n, sizeof(*a->start));
	a->count = calloc(n, sizeof(*a->count));
	a->labels = calloc(n, sizeof(*a->labels));
	a->value = calloc(n, sizeof(*a->value));
	a->colour = calloc(n, sizeof(*a->colour));
	return a->bars && a->panel_title && a->start && a->count && a->labels && a->value &&
	       a->colour ? 0 : -1;
}

/* The bars of report i: every shared line, sorted into categories, fastest gain first. */
static size_t ratio_panels(const struct comparison *c, size_t i, struct ratio_arrays *a)
{
	unsigned parts = compare_label_parts(c) & ~(unsigned)KEY_OP;
	size_t n = 0, np = 0;

	for (size_t l = 0; l < c->nlines; l++)
		if (compare_line_shared(c, l))
			a->bars[n++] = (struct ratio_bar){ l, category_of(c, l),
				compare_line_time(c, l, 0) / compare_line_time(c, l, i) };
	qsort(a->bars, n, sizeof(*a->bars), ratio_cmp);
	for (size_t k = 0; k < n; k++) {
		const struct result_row *row = compare_line_row(c, a->bars[k].line);
		double v = a->bars[k].speedup;

		if (k == 0 || a->bars[k].category != a->bars[k - 1].category) {
			a->start[np] = k;
			snprintf(a->panel_title[np++], sizeof(a->panel_title[0]), "%.60s",
				 row->category[0] ? row->category : "(no category)");
		}
		a->count[np - 1]++;
		row_label(row, KEY_OP | parts, a->labels[k], sizeof(a->labels[0]));
		a->value[k] = v;
		a->colour[k] = v > 1.05 ? BETTER : v < 1 / 1.05 ? WORSE : SAME;
	}
	for (size_t p = 0; p < np; p++) {
		size_t len = strlen(a->panel_title[p]);

		snprintf(a->panel_title[p] + len, sizeof(a->panel_title[0]) - len, ": %zu row%s",
			 a->count[p], a->count[p] == 1 ? "" : "s");
	}
	return np;
}

/* One panel chart per report after A: A time / its time, every shared row. */
static int ratio_chart(const struct comparison *c, size_t i, struct gnuplot_script *gp,
		       struct vb_err *err)
{
	struct ratio_arrays a = { 0 };
	char name[32], title[440], an[200], bn[200], letter[8], heading[200];
	int status;

	if (ratio_arrays_alloc(&a, c->nshared)) {
		ratio_arrays_free(&a);
		return vb_errf(err, VB_E_NOMEM, "out of host memory for the comparison chart");
	}
	compare_letter(i, letter);
	for (char *p = letter; *p; p++)
		*p = (char)(*p | 0x20);
	snprintf(name, sizeof(name), i == 1 ? "speedup_vs_a" : "speedup_%s_vs_a", letter);
	report_name(c, 0, an, sizeof(an));
	report_name(c, i, bn, sizeof(bn));
	snprintf(title, sizeof(title), "%s against %s", bn, an);
	compare_letter(i, letter);
	snprintf(heading, sizeof(heading), "speedup of %s over A = A %s / %s %s (log scale)", letter,
		 compare_metric_name(c->metric), letter, compare_metric_name(c->metric));
	struct panel_chart pc = {
		.name = name, .title = title, .panel_title = a.panel_title, .start = a.start,
		.count = a.count, .labels = a.labels, .value = a.value, .colour = a.colour,
		.logx = 1, .ratio = 1, .heading = heading, .ref = 1, .ref_title = "as fast as A",
		.ref2 = NAN, .cap2 = NAN, .nkeys = 3, .key_title = { "faster than A", "slower",
		"within 5 %" }, .key_colour = { BETTER, WORSE, SAME },
	};
	pc.npanels = ratio_panels(c, i, &a);
	pc.nbars = c->nshared;
	status = gnuplot_panel_chart(gp, &pc, err);
	ratio_arrays_free(&a);
	return status;
}

static int draw(const struct comparison *c, const char *dir, struct plot_outcome *outcome,
		struct vb_err *err)
{
	struct gnuplot_script gp;
	char source[4300];
	int status;

	snprintf(source, sizeof(source), "the comparison of %zu reports (first: %s)", c->nreports,
		 c->reports[0].path);
	if ((status = gnuplot_begin(&gp, dir, PLOTS_FILES, source, outcome, err)))
		return status;
	for (size_t i = 1; i < c->nreports && !status; i++)
		status = ratio_chart(c, i, &gp, err);
	if (status)
		gnuplot_abort(&gp);
	else
		status = gnuplot_finish(&gp, err);
	return status;
}

static int write_page(const struct comparison *c, const char *dir,
		      const struct plot_outcome *outcome, struct vb_err *err)
{
	char path[4400];
	struct out_file o;
	int status;

	snprintf(path, sizeof(path), "%s/index.html", dir);
	if ((status = out_open(&o, path, err)))
		return status;
	html_begin(o.f, "voxbench comparison");
	machines_table(o.f, c);
	differs_table(o.f, c);
	summaries(o.f, c);
	fputs("<h2>Plots</h2>\n", o.f);
	html_plots(o.f, dir, outcome);
	lines_table(o.f, c);
	unmatched_list(o.f, c);
	html_end(o.f);
	return out_commit(&o, err);
}

int compare_write_html(const struct comparison *c, const char *dir, enum plot_mode plots,
		       struct plot_outcome *outcome, struct vb_err *err)
{
	char csv[4400];
	struct out_folder f;
	int status;

	memset(outcome, 0, sizeof(*outcome));
	/* every file into a folder of its own, swapped in at the end: never half old, half new */
	if ((status = out_folder_open(&f, dir, err)))
		return status;
	snprintf(csv, sizeof(csv), "%s/compare.csv", f.tmp);
	status = compare_write_csv_file(c, csv, err);
	if (!status && plots == PLOTS_FILES)
		status = draw(c, f.tmp, outcome, err);
	else if (!status)
		snprintf(outcome->note, sizeof(outcome->note), "plots turned off (--plots none)");
	if (!status)
		status = write_page(c, f.tmp, outcome, err);
	if (!status)
		status = out_folder_commit(&f, err);
	else
		out_folder_abort(&f);
	return status;
}
