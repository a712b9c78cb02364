/*
 * reports/compare_html.c: the comparison page: the reports (machines), a summary line per
 * machine, the matched table with times and ratios, the rows not in every report, and grouped
 * bar plots of the times and of the speedup against the first report.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

#define MAX_BARS 60

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
	for (size_t i = 1; i < c->nreports; i++)
		html_num(out, compare_line_time(c, l, i) / compare_line_time(c, l, 0), 3);
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

/* Series names: "A host" for each report. */
static void series_names(const struct comparison *c, char names[8][96], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char letter[8];

		compare_letter(i, letter);
		snprintf(names[i], sizeof(names[0]), "%s %.80s", letter,
			 c->reports[i].rep.host.hostname);
	}
}

/* Bars of the shared lines: times of every report (ratio 0) or A time / X time (ratio 1). */
static int shared_chart(const struct comparison *c, struct gnuplot_script *gp, int ratio,
			struct vb_err *err)
{
	size_t nr = c->nreports < 8 ? c->nreports : 8, first = ratio ? 1 : 0;
	size_t nbars = c->nshared < MAX_BARS ? c->nshared : MAX_BARS;
	unsigned parts = compare_label_parts(c);
	char names[8][96];
	struct bar_chart bc;
	int status = bar_chart_alloc(&bc, nbars, nr - first, err);

	if (status)
		return status;
	series_names(c, names, nr);
	bc.name = ratio ? "speedup_vs_a" : "times";
	bc.title = ratio ? "Speedup against report A (A time / this time)"
			 : "Time per row and report";
	bc.ylabel = ratio ? "speedup against A (log scale)" : "ms (log scale, lower is faster)";
	bc.logy = 1;
	for (size_t i = first; i < nr; i++)
		bc.series[i - first] = names[i];
	for (size_t l = 0; l < c->nlines && bc.nlabels < nbars; l++) {
		if (!compare_line_shared(c, l))
			continue;
		row_label(compare_line_row(c, l), parts, bc.labels[bc.nlabels], sizeof(bc.labels[0]));
		for (size_t i = first; i < nr; i++)
			bc.values[bc.nlabels * bc.nseries + i - first] = ratio
				? compare_line_time(c, l, 0) / compare_line_time(c, l, i)
				: compare_line_time(c, l, i);
		bc.nlabels++;
	}
	if (c->nshared > nbars)
		snprintf(bc.note, sizeof(bc.note), "first %zu of %zu shared rows", nbars, c->nshared);
	if (ratio) {
		bc.nlines = 1;
		bc.line_value[0] = 1;
		snprintf(bc.line_title[0], sizeof(bc.line_title[0]), "as fast as A");
	}
	status = gnuplot_bar_chart(gp, &bc, err);
	bar_chart_free(&bc);
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
	if (!(status = shared_chart(c, &gp, 0, err)))
		status = shared_chart(c, &gp, 1, err);
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
