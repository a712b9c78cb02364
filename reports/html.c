/*
 * reports/html.c: the report's page, index.html: self-contained (inline CSS, the plots inline as
 * SVG, no scripts, nothing fetched). It opens with the machine, its devices and the probe's
 * verdict, then a table of every row (failures and skips highlighted with their reasons), then
 * the plots, then the scaling fits. Beside it: results.csv, plots.gp, the data, SVG and PNG.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "render.h"
#include "row_fields.h"

#define MAX_SVG_BYTES (64u << 20)

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
	"margin:0 auto;max-width:1320px;padding:1em 1.5em 3em}\n"
	"h1{font-size:1.55em;margin:.4em 0}h2{font-size:1.2em;border-bottom:1px solid #d8dce3;"
	"padding-bottom:.2em;margin-top:2em}\n"
	"table{border-collapse:collapse;margin:.6em 0;font-size:.92em}\n"
	"th,td{padding:.22em .6em;border-bottom:1px solid #eceef2;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#f3f5f8;position:sticky;top:0}td.n{text-align:right;"
	"font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"table.kv th{background:none;font-weight:600;position:static}\n"
	"tr.fail td,tr.error td{background:#fde4e2}tr.skip td{background:#fff5d6}\n"
	"td.better{background:#dcefdc;color:#1e5a2b}td.worse{background:#fde4e2;color:#8a1c12}"
	"tr.differs th{color:#8a1c12}\n"
	"td.why{color:#8a1c12;font-size:.9em;max-width:22em;overflow-wrap:anywhere}\n"
	"table#results{font-size:.82em}table#results td.p{font-size:.92em;min-width:9em;"
	"max-width:15em}div.wide{overflow-x:auto}\n"
	".verdict{padding:.55em 1em;border-radius:4px;display:inline-block}\n"
	".verdict.ok{background:#e2f4e0}.verdict.warn{background:#fff5d6}"
	".verdict.fail{background:#fde4e2}.verdict.none{background:#eef0f3}\n"
	".note{background:#fff5d6;border-left:4px solid #d9a400;padding:.55em 1em}\n"
	".meta{color:#5a6270}figure{margin:1.6em 0}figure svg{max-width:100%;height:auto;"
	"display:block;border:1px solid #eceef2}\n"
	"figcaption{color:#5a6270;font-size:.9em;margin-top:.3em}code{background:#f3f5f8;"
	"padding:0 .25em}\n";

void html_escape(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*p, out);
		}
	}
}

void html_begin(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	html_escape(out, title);
	fprintf(out, "</title>\n<style>\n%s%s</style>\n</head>\n<body>\n<h1>", css, overview_css);
	html_escape(out, title);
	fputs("</h1>\n", out);
}

void html_end(FILE *out)
{
	fprintf(out, "<p class=\"meta\">written by voxbench %s</p>\n</body>\n</html>\n",
		VOXBENCH_VERSION);
}

void html_num(FILE *out, double v, int decimals)
{
	if (!isfinite(v))
		fputs("<td class=\"n\">-</td>", out);
	else if (fabs(v) >= 1e7 || (v != 0 && fabs(v) < 1e-3))
		fprintf(out, "<td class=\"n\">%.3g</td>", v);
	else
		fprintf(out, "<td class=\"n\">%.*f</td>", decimals, v);
}

static void cell(FILE *out, const char *text)
{
	fputs("<td>", out);
	html_escape(out, text);
	fputs("</td>", out);
}

/* ---- inline SVG ---- */

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (size_t)st.st_size < MAX_SVG_BYTES &&
	    (buf = malloc((size_t)st.st_size + 1))) {
		*len = fread(buf, 1, (size_t)st.st_size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Copy svg, giving every id and reference to one a per-plot prefix (ids are page-wide). */
static void write_prefixed(FILE *out, const char *svg, const char *prefix)
{
	static const char *const marks[] = { " id='", " id=\"", "href='#", "href=\"#", "url(#" };

	for (const char *p = svg; *p;) {
		size_t i = 0, n = 0;

		for (; i < sizeof(marks) / sizeof(marks[0]); i++) {
			n = strlen(marks[i]);
			if (strncmp(p, marks[i], n) == 0)
				break;
		}
		if (i < sizeof(marks) / sizeof(marks[0])) {
			fprintf(out, "%.*s%s-", (int)n, p, prefix);
			p += n;
		} else {
			fputc(*p++, out);
		}
	}
}

/* The <svg> element of dir/name.svg inline (its XML prolog dropped); 0 when it was there. */
static int embed_svg(FILE *out, const char *dir, const char *name)
{
	char path[4200];
	size_t len = 0;
	char *svg, *start;

	snprintf(path, sizeof(path), "%s/%s.svg", dir, name);
	if (!(svg = read_whole(path, &len)))
		return -1;
	start = strstr(svg, "<svg");
	if (start)
		write_prefixed(out, start, name);
	free(svg);
	return start ? 0 : -1;
}

static int has_file(const char *dir, const char *name, const char *ext)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	return stat(path, &st) == 0 && st.st_size > 0;
}

void html_plots(FILE *out, const char *dir, const struct plot_outcome *o)
{
	if (o->note[0]) {
		fputs("<p class=\"note\">", out);
		html_escape(out, o->note);
		fputs("</p>\n", out);
	}
	for (size_t i = 0; i < o->nplots; i++) {
		fprintf(out, "<figure id=\"plot-%s\">\n", o->name[i]);
		if (embed_svg(out, dir, o->name[i]) != 0) {
			fputs("<p class=\"note\">not drawn: ", out);
			html_escape(out, o->title[i]);
			fputs("</p>", out);
		}
		fputs("\n<figcaption>", out);
		html_escape(out, o->title[i]);
		fprintf(out, " &middot; <a href=\"%s.svg\">SVG</a>", o->name[i]);
		if (has_file(dir, o->name[i], "png"))
			fprintf(out, " &middot; <a href=\"%s.png\">PNG</a>", o->name[i]);
		fprintf(out, " &middot; data <a href=\"%s.dat\">%s.dat</a></figcaption>\n"
			     "</figure>\n", o->name[i], o->name[i]);
	}
	if (o->nplots)
		fputs("<p class=\"meta\">The plots come from <a href=\"plots.gp\">plots.gp</a>: edit "
		      "it and run <code>gnuplot plots.gp</code> in this folder to redraw them.</p>\n",
		      out);
}

/* ---- the summary ---- */

static void kv(FILE *out, const char *key, const char *value)
{
	fprintf(out, "<tr><th>%s</th>", key);
	cell(out, value);
	fputs("</tr>\n", out);
}

static void machine_table(FILE *out, const struct loaded_report *lr)
{
	const struct host_info *h = &lr->rep.host;
	char buf[320];

	fputs("<h2>Machine</h2>\n<table class=\"kv\">\n", out);
	kv(out, "host", h->hostname);
	kv(out, "system", h->os);
	kv(out, "kernel", h->kernel);
	snprintf(buf, sizeof(buf), "%s, %d threads", h->cpu_model, h->cpu_threads);
	kv(out, "CPU", buf);
	snprintf(buf, sizeof(buf), "%.1f GiB", (double)h->memory_bytes / 1073741824.0);
	kv(out, "memory", buf);
	if (isfinite(h->load_start) || isfinite(h->load_end)) {
		snprintf(buf, sizeof(buf), "%.2f at the start, %.2f at the end of the run",
			 h->load_start, h->load_end);
		kv(out, "load average", buf);
	}
	kv(out, "report", lr->path);
	snprintf(buf, sizeof(buf), "%s by voxbench %s (%s)", lr->rep.created,
		 lr->rep.voxbench_version, lr->rep.schema);
	kv(out, "written", buf);
	fputs("</table>\n", out);
}

static void device_table(FILE *out, const struct loaded_report *lr)
{
	fputs("<h2>Devices</h2>\n<table>\n<tr><th>backend</th><th>device</th><th>platform</th>"
	      "<th>driver</th><th>type</th><th>memory GiB</th><th>compute units</th>"
	      "<th>clock MHz</th><th>measured copy GB/s</th></tr>\n", out);
	for (size_t i = 0; i < lr->rep.ndevices; i++) {
		const struct device_info *d = &lr->rep.devices[i];

		fputs("<tr>", out);
		cell(out, d->backend);
		cell(out, d->name);
		cell(out, d->platform);
		cell(out, d->driver_version);
		cell(out, d->type);
		html_num(out, (double)d->global_mem_bytes / 1073741824.0, 1);
		html_num(out, d->compute_units, 0);
		html_num(out, d->max_clock_mhz, 0);
		html_num(out, report_copy_gbps(lr, d->name), 1);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static const char *verdict_class(const char *verdict)
{
	static const char *const classes[] = { "ok", "warn", "fail" };

	for (size_t i = 0; i < 3; i++)
		if (strncmp(verdict, classes[i], strlen(classes[i])) == 0 &&
		    verdict[strlen(classes[i])] == ':')
			return classes[i];
	return "none";
}

/* Counts per status and the geometric-mean speedups of the passing rows. */
static void counts_line(FILE *out, const struct report *r)
{
	size_t n[4] = { 0 }, ns = 0, nt = 0;
	double *s = malloc((r->nrows + 1) * sizeof(*s)), *t = malloc((r->nrows + 1) * sizeof(*t));

	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];

		n[row->status <= ROW_ERROR ? row->status : ROW_ERROR]++;
		if (row->status == ROW_PASS && s && t && isfinite(row->speedup) && row->speedup > 0)
			s[ns++] = row->speedup;
		if (row->status == ROW_PASS && s && t && isfinite(row->speedup_with_transfers) &&
		    row->speedup_with_transfers > 0)
			t[nt++] = row->speedup_with_transfers;
	}
	fprintf(out, "<p>%zu rows: %zu pass, %zu fail, %zu skip, %zu error.", r->nrows,
		n[ROW_PASS], n[ROW_FAIL], n[ROW_SKIP], n[ROW_ERROR]);
	if (ns)
		fprintf(out, " Geometric-mean speedup of the passing rows: %.3gx kernel only", 
			geomean(s, ns));
	if (ns && nt)
		fprintf(out, ", %.3gx with transfers", geomean(t, nt));
	fputs(ns ? ".</p>\n" : "</p>\n", out);
	free(s);
	free(t);
}

/* A busy machine or widely spread timings, said before any number is read. */
static void noise_note(FILE *out, const struct report *r)
{
	char warning[600];

	if (!report_noise_text(r, warning, sizeof(warning)))
		return;
	fputs("<p class=\"note\" id=\"noisy\"><b>Noisy run:</b> ", out);
	html_escape(out, warning);
	fputs("</p>\n", out);
}

static void summary(FILE *out, const struct loaded_report *lr)
{
	machine_table(out, lr);
	device_table(out, lr);
	fprintf(out, "<p class=\"verdict %s\"><b>Probe verdict:</b> ", verdict_class(lr->verdict));
	html_escape(out, lr->verdict);
	fputs("</p>\n", out);
	counts_line(out, &lr->rep);
	noise_note(out, &lr->rep);
}

/* ---- the results table ---- */

static void result_row_html(FILE *out, const struct loaded_report *lr,
			    const struct result_row *row, int show_device,
			    const struct row_field *const *cols, size_t ncols)
{
	char params[512], size[80], notes[160];

	row_notes(row, notes, sizeof(notes));
	row_params_compact(row, params, sizeof(params));
	row_size_text(row, size, sizeof(size));
	fprintf(out, "<tr class=\"%s\">", row_status_name(row->status));
	cell(out, row->op);
	fputs("<td class=\"p\">", out);
	html_escape(out, params);
	fputs("</td>", out);
	cell(out, size);
	cell(out, row->dtype);
	cell(out, row->backend);
	if (show_device)
		cell(out, row->device);
	for (size_t i = 0; i < ncols; i++)
		html_num(out, (cols[i]->scale ? cols[i]->scale : 1) * row_field_number(cols[i], lr, row),
			 cols[i]->digits);
	cell(out, row_status_name(row->status));
	fputs("<td class=\"why\">", out);
	html_escape(out, row->reason);
	if (notes[0] && row->reason[0])
		fputs("; ", out);
	html_escape(out, notes);
	fputs("</td></tr>\n", out);
}

static void results_table(FILE *out, const struct loaded_report *lr)
{
	const struct row_field *cols[16];
	size_t ncols = row_fields_in(1, cols, 16);
	int show_device = (report_varying(&lr->rep) & KEY_DEVICE) != 0;

	fputs("<h2>Results</h2>\n<div class=\"wide\"><table id=\"results\">\n<tr><th>op</th><th>params</th>"
	      "<th>size</th><th>dtype</th><th>backend</th>", out);
	if (show_device)
		fputs("<th>device</th>", out);
	for (size_t i = 0; i < ncols; i++)
		fprintf(out, "<th>%s</th>", cols[i]->label);
	fputs("<th>verdict</th><th>reason, notes</th></tr>\n", out);
	for (size_t i = 0; i < lr->rep.nrows; i++)
		result_row_html(out, lr, &lr->rep.rows[i], show_device, cols, ncols);
	fputs("</table></div>\n<p class=\"meta\">Every row, as CSV: <a href=\"results.csv\">results.csv"
	      "</a>. GPU ms: median kernel time (device events); speedup: CPU reference ms / GPU ms."
	      "</p>\n", out);
}

static void scaling_table(FILE *out, const struct report *r, const struct scaling *s)
{
	unsigned parts = KEY_OP | (report_varying(r) & (KEY_PARAMS | KEY_DTYPE | KEY_BACKEND |
							 KEY_DEVICE));
	char label[512];

	if (!s->n)
		return;
	fputs("<h2>Scaling</h2>\n<p>GPU time = c &times; voxels<sup>exponent</sup>, least squares "
	      "on logs; an exponent of 1 is linear in the voxel count.</p>\n<table id=\"scaling\">"
	      "\n<tr><th>op</th><th>sizes</th><th>points</th><th>exponent</th><th>r&sup2;</th>"
	      "<th>c (ms)</th><th>voxels from</th><th>to</th></tr>\n", out);
	for (size_t i = 0; i < s->n; i++) {
		const struct scaling_fit *f = &s->fits[i];

		row_label(&r->rows[s->groups.order[s->groups.start[f->group]]], parts, label,
			  sizeof(label));
		fputs("<tr>", out);
		cell(out, label);
		html_num(out, (double)f->nsizes, 0);
		html_num(out, (double)f->npoints, 0);
		html_num(out, f->exponent, 3);
		html_num(out, f->r2, 4);
		html_num(out, f->coefficient_ms, 3);
		html_num(out, f->min_voxels, 0);
		html_num(out, f->max_voxels, 0);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* ---- the page ---- */

static int write_page(const struct loaded_report *lr, const struct scaling *s, const char *dir,
		      const struct plot_outcome *outcome, struct vb_err *err)
{
	char path[4400], title[600];
	struct out_file o;
	int status;

	snprintf(path, sizeof(path), "%s/index.html", dir);
	if ((status = out_open(&o, path, err)))
		return status;
	snprintf(title, sizeof(title), "voxbench report: %s%s%s", lr->rep.host.hostname,
		 lr->rep.ndevices ? ", " : "", lr->rep.ndevices ? lr->rep.devices[0].name : "");
	html_begin(o.f, title);
	summary(o.f, lr);
	/* the machine at a glance first, then every row drawn, then the numbers */
	if ((status = html_overview(o.f, lr, err))) {
		out_abort(&o);
		return status;
	}
	fputs("<h2>Plots</h2>\n", o.f);
	html_plots(o.f, dir, outcome);
	results_table(o.f, lr);
	html_peers_table(o.f, &lr->rep);
	scaling_table(o.f, &lr->rep, s);
	html_end(o.f);
	return out_commit(&o, err);
}

static int draw(const struct loaded_report *lr, const char *dir, struct plot_outcome *outcome,
		struct vb_err *err)
{
	struct gnuplot_script gp;
	int status = gnuplot_begin(&gp, dir, PLOTS_FILES, lr->path, outcome, err);

	if (status)
		return status;
	if ((status = report_charts(lr, &gp, err)))
		gnuplot_abort(&gp);
	else
		status = gnuplot_finish(&gp, err);
	return status;
}

int report_write_html(const struct loaded_report *lr, const char *dir,
		      const struct html_options *opt, struct plot_outcome *outcome,
		      struct vb_err *err)
{
	char csv[4400];
	struct scaling s = { 0 };
	struct out_folder f;
	int status;

	memset(outcome, 0, sizeof(*outcome));
	/* every file into a folder of its own, swapped in at the end: never half old, half new */
	if ((status = out_folder_open(&f, dir, err)))
		return status;
	status = scaling_fit_report(&lr->rep, &s, err);
	snprintf(csv, sizeof(csv), "%s/results.csv", f.tmp);
	if (!status)
		status = report_write_csv_file(lr, csv, err);
	if (!status && opt->plots == PLOTS_FILES)
		status = draw(lr, f.tmp, outcome, err);
	else if (!status)
		snprintf(outcome->note, sizeof(outcome->note), "plots turned off (--plots none)");
	if (!status)
		status = write_page(lr, &s, f.tmp, outcome, err);
	if (!status)
		status = out_folder_commit(&f, err);
	else
		out_folder_abort(&f);
	scaling_free(&s);
	return status;
}

int report_plot_dumb(const struct loaded_report *lr, struct plot_outcome *outcome,
		     struct vb_err *err)
{
	struct gnuplot_script gp;
	int status = gnuplot_begin(&gp, NULL, PLOTS_DUMB, lr->path, outcome, err);

	if (status)
		return status;
	if ((status = report_charts(lr, &gp, err)))
		gnuplot_abort(&gp);
	else
		status = gnuplot_finish(&gp, err);
	if (!status && !outcome->nplots)
		snprintf(outcome->note, sizeof(outcome->note), "no speedup to draw: no row of %.400s has "
			 "one", lr->path);
	return status;
}

void report_print_summary(const struct loaded_report *lr, FILE *out)
{
	const struct host_info *h = &lr->rep.host;

	/* every string comes from the report: escaped, one line each */
	fputs("report  ", out);
	vb_fputs_escaped(lr->path, out);
	fputs(" (", out);
	vb_fputs_escaped(lr->rep.created, out);
	fputs(", voxbench ", out);
	vb_fputs_escaped(lr->rep.voxbench_version, out);
	fputs(")\nhost    ", out);
	vb_fputs_escaped(h->hostname, out);
	fputs(": ", out);
	vb_fputs_escaped(h->os, out);
	fputs(", ", out);
	vb_fputs_escaped(h->cpu_model, out);
	fprintf(out, ", %d threads, %.1f GiB\n", h->cpu_threads,
		(double)h->memory_bytes / 1073741824.0);
	for (size_t i = 0; i < lr->rep.ndevices; i++) {
		const struct device_info *d = &lr->rep.devices[i];
		double bw = report_copy_gbps(lr, d->name);

		fputs("device  ", out);
		vb_fputs_escaped(d->name, out);
		fputs(" (", out);
		vb_fputs_escaped(d->backend, out);
		fputs(", ", out);
		vb_fputs_escaped(d->platform, out);
		fputs(", driver ", out);
		vb_fputs_escaped(d->driver_version, out);
		fprintf(out, ", %.1f GiB", (double)d->global_mem_bytes / 1073741824.0);
		if (isfinite(bw))
			fprintf(out, ", measured copy %.0f GB/s", bw);
		fputs(")\n", out);
	}
	fputs("probe   ", out);
	vb_fputs_escaped(lr->verdict, out);
	{
		char warning[600];

		if (report_noise_text(&lr->rep, warning, sizeof(warning)))
			fprintf(out, "\nwarning %s", warning);
	}
	fputs("\n\n", out);
}
