/*
 * reports/plots.c: gnuplot as a separate process. Charts become data files (<name>.dat) and
 * blocks of one script, plots.gp, kept beside the plots so that a user can edit and re-run it
 * (cd FOLDER && gnuplot plots.gp). Each chart is drawn as SVG, then as PNG: with pngcairo where
 * gnuplot has it, else with libgd's png (gnuplot-nox builds may lack cairo).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "render.h"

#define MAX_PLOTS 16

static const char script_header[] =
	"# Redraw the plots (after editing this file, say) with: gnuplot plots.gp\n"
	"# run in this folder. Data files are tab-separated; '?' marks a missing value.\n"
	"set encoding utf8\n"
	"# PNG: pngcairo where this gnuplot has it, else libgd's png; choose with\n"
	"#   gnuplot -e 'png_terminal=\"png\"' plots.gp\n"
	"if (!exists(\"png_terminal\")) png_terminal = (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0)"
	" ? \"pngcairo\" : \"png\"\n"
	"svg_options = \"size 960,540 dynamic noenhanced font 'Sans,12' background '#ffffff'\"\n"
	"png_options = \"size 960,540 noenhanced background '#ffffff'\"\n";

/*
 * Text from a report as gnuplot reads it: only ever inside a single-quoted string (no escapes,
 * no backquote or macro substitution there; a quote is doubled) or as data, with every control
 * character escaped first, so no line break can end the string or start a command.
 */
static void gp_quote(FILE *f, const char *s)
{
	char *safe = malloc(4 * strlen(s) + 1);

	vb_escape_text(s, safe ? safe : "", safe ? 4 * strlen(s) + 1 : 1);
	fputc('\'', f);
	for (const char *p = safe ? safe : ""; *p; p++) {
		if (*p == '\'')
			fputc('\'', f);
		fputc(*p, f);
	}
	fputc('\'', f);
	free(safe);
}

#define MAX_LABEL 44

/* A label as the first field of a data line: escaped (no tab, no line break), never a
 * comment, and long ones shortened so that the plot keeps its room. */
static void data_label_max(FILE *f, const char *label, size_t max)
{
	char s[4 * 128 + 1];
	size_t n, cut;

	vb_escape_text(label, s, sizeof(s));
	n = cut = strlen(s);
	if (n > max) /* never inside a UTF-8 sequence */
		for (cut = max; cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; cut--)
			;
	if (*s == '#' || !*s)
		fputc(' ', f);
	fwrite(s, 1, cut, f);
	if (cut < n)
		fputs("...", f);
}

static void data_label(FILE *f, const char *label)
{
	data_label_max(f, label, MAX_LABEL);
}

static void data_value(FILE *f, double v, int logscale)
{
	char buf[40];

	if (!isfinite(v) || (logscale && v <= 0))
		fputs("\t?", f);
	else
		fprintf(f, "\t%s", fmt_num(buf, v, 10));
}

static int add_outcome(struct gnuplot_script *gp, const char *name, const char *title)
{
	struct plot_outcome *o = gp->outcome;

	if (o->nplots == MAX_PLOTS)
		return -1;
	snprintf(o->name[o->nplots], sizeof(o->name[0]), "%s", name);
	snprintf(o->title[o->nplots], sizeof(o->title[0]), "%s", title);
	o->nplots++;
	return 0;
}

/* The terminal lines before a chart's plot command. */
static void block_start(struct gnuplot_script *gp, const char *name, const char *title,
			const char *note)
{
	FILE *f = gp->script.f;

	/* reset also resets the datafile settings */
	fprintf(f, "\n# ---- %s ----\nreset\nset datafile separator \"\\t\"\n"
		   "set datafile missing \"?\"\nset title ", name);
	if (note && *note) {
		char full[400];

		snprintf(full, sizeof(full), "%s (%s)", title, note);
		gp_quote(f, full);
	} else {
		gp_quote(f, title);
	}
	fputc('\n', f);
	if (gp->mode == PLOTS_DUMB)
		fprintf(f, "set terminal dumb size 120,36 noenhanced\nset output\n");
	else
		fprintf(f, "set terminal svg @svg_options\nset output '%s.svg'\n", name);
}

/* After the plot command: the same chart again as PNG. */
static void block_end(struct gnuplot_script *gp, const char *name)
{
	if (gp->mode == PLOTS_DUMB)
		return;
	fprintf(gp->script.f, "set terminal @png_terminal @png_options\nset output '%s.png'\n"
			      "replot\nunset output\n", name);
}

static int open_data(struct gnuplot_script *gp, const char *name, struct out_file *o,
		     struct vb_err *err)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s.dat", gp->dir, name);
	return out_open(o, path, err);
}

/* Whether series s of c has a value that can be drawn. */
static int series_usable(const struct bar_chart *c, size_t s)
{
	for (size_t l = 0; l < c->nlabels; l++) {
		double v = c->values[l * c->nseries + s];

		if (isfinite(v) && (!c->logy || v > 0))
			return 1;
	}
	return 0;
}

static int write_bar_data(struct gnuplot_script *gp, const struct bar_chart *c,
			  struct vb_err *err)
{
	struct out_file o;
	int status = open_data(gp, c->name, &o, err);

	if (status)
		return status;
	fprintf(o.f, "# label");
	for (size_t s = 0; s < c->nseries; s++) {
		fputc('\t', o.f);
		vb_fputs_escaped(c->series[s], o.f);
	}
	fputc('\n', o.f);
	for (size_t l = 0; l < c->nlabels; l++) {
		if (gp->mode == PLOTS_DUMB)
			fprintf(o.f, "%zu", l + 1);
		else
			data_label(o.f, c->labels[l]);
		for (size_t s = 0; s < c->nseries; s++)
			data_value(o.f, c->values[l * c->nseries + s], c->logy);
		fputc('\n', o.f);
	}
	return out_commit(&o, err);
}

/* A power of ten below the smallest bar, so that every bar of a log chart shows. */
static double log_floor(const struct bar_chart *c)
{
	double lo = INFINITY;

	for (size_t i = 0; i < c->nlabels * c->nseries; i++)
		if (isfinite(c->values[i]) && c->values[i] > 0 && c->values[i] < lo)
			lo = c->values[i];
	for (size_t i = 0; i < c->nlines; i++)
		if (c->line_value[i] > 0 && c->line_value[i] < lo)
			lo = c->line_value[i];
	return isfinite(lo) ? pow(10, floor(log10(lo) - 1e-9)) : 1;
}

/* The tallest bar or line, for headroom above it. */
static double largest(const struct bar_chart *c)
{
	double hi = 0;

	for (size_t i = 0; i < c->nlabels * c->nseries; i++)
		if (isfinite(c->values[i]) && c->values[i] > hi)
			hi = c->values[i];
	for (size_t i = 0; i < c->nlines; i++)
		if (c->line_value[i] > hi)
			hi = c->line_value[i];
	return hi > 0 ? hi : 1;
}

/* Under a dumb chart: which name each bar number stands for. */
static void dumb_legend(FILE *f, const struct bar_chart *c)
{
	fprintf(f, "set print '-'\n");
	for (size_t l = 0; l < c->nlabels; l++) {
		char item[160];

		snprintf(item, sizeof(item), "%4zu  %s", l + 1, c->labels[l]);
		fprintf(f, "print ");
		gp_quote(f, item);
		fputc('\n', f);
	}
	fprintf(f, "set print\n");
}

static void write_bar_block(struct gnuplot_script *gp, const struct bar_chart *c)
{
	FILE *f = gp->script.f;
	const char *sep = "plot ";
	char num[40];

	block_start(gp, c->name, c->title, c->note);
	fprintf(f, "set style data histogram\nset style histogram clustered gap 1\n"
		   "set style fill solid 0.85 border -1\nset grid ytics\n"
		   "set key outside top center horizontal\n");
	/* the dumb terminal cannot rotate text: bars are numbered, the names printed below */
	fprintf(f, "%s", gp->mode == PLOTS_DUMB ? "set xtics nomirror scale 0\n"
		     : "set xtics rotate by 40 right nomirror scale 0\n");
	if (c->logy)
		fprintf(f, "set logscale y\nset yrange [%s:*]\n", fmt_num(num, log_floor(c), 6));
	else
		fprintf(f, "set yrange [0:%s]\n", fmt_num(num, 1.12 * largest(c), 6));
	fprintf(f, "set ylabel ");
	gp_quote(f, c->ylabel);
	fputc('\n', f);
	for (size_t s = 0; s < c->nseries; s++) {
		if (!series_usable(c, s))
			continue;
		fprintf(f, "%s'%s.dat' using %zu:xtic(1) title ", sep, c->name, s + 2);
		gp_quote(f, c->series[s]);
		sep = ", \\\n     ";
	}
	for (size_t i = 0; i < c->nlines; i++) {
		fprintf(f, "%s%s with lines dt 2 lw 2 title ", sep,
			fmt_num(num, c->line_value[i], 10));
		gp_quote(f, c->line_title[i]);
	}
	fputc('\n', f);
	if (gp->mode == PLOTS_DUMB)
		dumb_legend(f, c);
	block_end(gp, c->name);
}

int gnuplot_bar_chart(struct gnuplot_script *gp, const struct bar_chart *c, struct vb_err *err)
{
	int usable = 0, status;

	for (size_t s = 0; s < c->nseries; s++)
		usable |= series_usable(c, s);
	if (!usable || gp->outcome->nplots == MAX_PLOTS)
		return VB_OK; /* nothing to draw: the chart is left out */
	if ((status = write_bar_data(gp, c, err)))
		return status;
	write_bar_block(gp, c);
	add_outcome(gp, c->name, c->title);
	return VB_OK;
}

/* ---- panels of horizontal bars ---- */

#define PANEL_WIDTH 1280
#define BAR_PX 15       /* one bar's row: labels of 11 px keep a gap between them */
#define PANEL_PX 58     /* a panel's title and its x axis */
#define HEADER_PX 80    /* the chart's title, column headings and legend */
#define MAX_PNG_PX 8000 /* taller charts are SVG only: a PNG that size is slow and unviewable */
#define PANEL_LABEL 54  /* characters of a bar's label (10 px font, 30 % of the width) */
#define PANEL_LEFT 0.31

static int write_panel_data(struct gnuplot_script *gp, const struct panel_chart *c,
			    struct vb_err *err)
{
	struct out_file o;
	int status = open_data(gp, c->name, &o, err);

	if (status)
		return status;
	fprintf(o.f, "# label\tvalue\tmarker\tvalue2\tcolour; one block per panel, blocks "
		     "separated by two blank lines\n");
	for (size_t p = 0; p < c->npanels; p++) {
		fprintf(o.f, "%s# ", p ? "\n\n" : "");
		data_label(o.f, c->panel_title[p]);
		fputc('\n', o.f);
		for (size_t b = c->start[p]; b < c->start[p] + c->count[p]; b++) {
			data_label_max(o.f, c->labels[b], PANEL_LABEL);
			data_value(o.f, c->value[b], c->logx);
			data_value(o.f, c->marker ? c->marker[b] : NAN, c->logx);
			data_value(o.f, c->value2 ? c->value2[b] : NAN, 0);
			fprintf(o.f, "\t%u\n", c->colour[b] & 0xffffffu);
		}
	}
	return out_commit(&o, err);
}

/* The left column's range: powers of ten around every value (log), or 0 to the largest. */
static void panel_range(const struct panel_chart *c, double *lo, double *hi)
{
	double a = INFINITY, b = 0;

	for (size_t i = 0; i < c->nbars; i++) {
		double v[2] = { c->value[i], c->marker ? c->marker[i] : NAN };

		for (int k = 0; k < 2; k++)
			if (isfinite(v[k]) && (!c->logx || v[k] > 0)) {
				a = v[k] < a ? v[k] : a;
				b = v[k] > b ? v[k] : b;
			}
	}
	if (isfinite(c->ref) && c->ref > 0) {
		a = c->ref < a ? c->ref : a;
		b = c->ref > b ? c->ref : b;
	}
	if (c->logx && c->ratio) { /* ratios: room around them, not whole decades */
		*lo = isfinite(a) ? a / 1.25 : 0.5;
		*hi = b > 0 ? b * 1.25 : 2;
	} else if (c->logx) {
		*lo = isfinite(a) ? pow(10, floor(log10(a) - 1e-9)) : 0.1;
		*hi = b > 0 ? pow(10, ceil(log10(b) + 1e-9)) : 10;
	} else {
		*lo = 0;
		*hi = b > 0 ? 1.05 * b : 1;
	}
}

static double panel_range2(const struct panel_chart *c)
{
	double hi = isfinite(c->ref2) ? 1.1 * c->ref2 : 0;

	for (size_t i = 0; c->value2 && i < c->nbars; i++)
		if (isfinite(c->value2[i]) && 1.05 * c->value2[i] > hi)
			hi = 1.05 * c->value2[i];
	if (isfinite(c->cap2) && hi > c->cap2)
		hi = c->cap2;
	return hi > 0 ? hi : 1;
}

static int has_value2(const struct panel_chart *c)
{
	for (size_t i = 0; c->value2 && i < c->nbars; i++)
		if (isfinite(c->value2[i]))
			return 1;
	return 0;
}

static double panel_height(const struct panel_chart *c)
{
	double h = HEADER_PX;

	for (size_t p = 0; p < c->npanels; p++)
		h += PANEL_PX + BAR_PX * (double)c->count[p];
	return h;
}

/* The legend as coloured labels along the top (a key's layout depends on font metrics that
 * differ between the SVG and PNG terminals). */
static void legend_item(FILE *f, int *tag, double *x, double y, unsigned colour, const char *mark,
			const char *text)
{
	char item[200];

	snprintf(item, sizeof(item), "%s %s", mark, text);
	fprintf(f, "set label %d at screen %.4f, screen %.6f left font ',10' tc rgb '#%06x' ",
		(*tag)++, *x, y, colour & 0xffffffu);
	gp_quote(f, item);
	fputc('\n', f);
	*x += 0.02 + 0.0062 * (double)strlen(text);
}

static void panel_keys(FILE *f, const struct panel_chart *c, double H)
{
	double x = 0.01, y = 1 - 38 / H;
	int tag = 910;

	for (size_t k = 0; k < c->nkeys; k++)
		legend_item(f, &tag, &x, y, c->key_colour[k], "\u25A0", c->key_title[k]);
	if (c->marker)
		legend_item(f, &tag, &x, y, 0x1d2330, "\u25CF", c->marker_title);
	if (isfinite(c->ref))
		legend_item(f, &tag, &x, y, 0x4a6fa5, "\u2506", c->ref_title);
}

/* The headings above the columns and the legend of the colours (first panel only). */
static void panel_header(FILE *f, const struct panel_chart *c, double H, double split)
{
	fprintf(f, "set label 901 at screen 0.01, screen %.6f left font ',14' ", 1 - 16 / H);
	gp_quote(f, c->title);
	fprintf(f, "\nset label 902 at screen %.4f, screen %.6f center ",
		(PANEL_LEFT + (split < 1 ? split - 0.03 : 0.98)) / 2, 1 - 60 / H);
	gp_quote(f, c->heading);
	fputc('\n', f);
	if (split < 1) {
		fprintf(f, "set label 903 at screen %.4f, screen %.6f center ", (split + 0.98) / 2,
			1 - 60 / H);
		gp_quote(f, c->heading2);
		fputc('\n', f);
	}
	panel_keys(f, c, H);
}

/* Panel p: its title, the left column with the labels, then the right column. */
static void panel_plot(FILE *f, const struct panel_chart *c, size_t p, double top, double H,
		       double split, const double range[3])
{
	double bottom = top - (PANEL_PX + BAR_PX * (double)c->count[p]) / H;
	double ptop = top - 24 / H, pbottom = bottom + 34 / H;
	char lo[40], hi[40], hi2[40], ref[40];

	fmt_num(lo, range[0], 6);
	fmt_num(hi, range[1], 6);
	fmt_num(hi2, range[2], 6);
	fprintf(f, "set label 904 at screen 0.01, screen %.6f left font ',12' ", top - 12 / H);
	gp_quote(f, c->panel_title[p]);
	fprintf(f, "\nset tmargin at screen %.6f\nset bmargin at screen %.6f\n"
		   "set lmargin at screen %.2f\nset rmargin at screen %.4f\n"
		   "set yrange [%zu.5:-0.5]\nset ytics scale 0 font ',10'\n"
		   "set xrange [%s:%s]\n%s",
		ptop, pbottom, PANEL_LEFT, split < 1 ? split - 0.03 : 0.98, c->count[p] - 1, lo, hi,
		c->logx ? "set logscale x\nset format x '%g'\n" : "unset logscale x\n");
	if (c->logx && c->ratio) /* a narrow log axis has no decade inside: 1-2-5 tics */
		fputs("set xtics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1, 1.25, "
		      "2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) nomirror\n", f);
	if (isfinite(c->ref))
		fprintf(f, "set arrow 1 from %s, graph 0 to %s, graph 1 nohead dt 2 lw 1.5 "
			   "lc rgb '#4a6fa5' front\n", fmt_num(ref, c->ref, 10), ref);
	/* every bar from the axis start: each one visible, the dashed line marks 1 */
	fprintf(f, "plot '%s.dat' index %zu using (%s):0:(%s):2:($0-0.36):($0+0.36):5:ytic(1) "
		   "with boxxyerror fs solid 0.9 noborder lc rgb variable notitle", c->name, p, lo, lo);
	if (c->marker)
		fprintf(f, ", \\\n     '' index %zu using 3:0 with points pt 7 ps 0.55 "
			   "lc rgb '#1d2330' notitle", p);
	fputs("\nunset arrow 1\n", f);
	if (p == 0) /* the header's labels are drawn once */
		for (int tag = 901; tag < 920; tag++)
			if (tag != 904)
				fprintf(f, "unset label %d\n", tag);
	if (split >= 1)
		return;
	fprintf(f, "set lmargin at screen %.4f\nset rmargin at screen 0.98\nunset logscale x\n"
		   "set format x '%%g'\nset xrange [0:%s]\nset ytics format ''\nunset label 904\n",
		split, hi2);
	if (isfinite(c->ref2))
		fprintf(f, "set arrow 1 from %s, graph 0 to %s, graph 1 nohead dt 2 lw 1.5 "
			   "lc rgb '#4a6fa5' front\n", fmt_num(ref, c->ref2, 10), ref);
	fprintf(f, "plot '%s.dat' index %zu using (0):0:(0):4:($0-0.36):($0+0.36):5 "
		   "with boxxyerror fs solid 0.9 noborder lc rgb variable notitle, \\\n     "
		   "'' index %zu using (%s):0:($4 > %s ? sprintf('%%.0f', $4) : '') with labels "
		   "right offset -0.4,0 font ',9' tc rgb '#ffffff' notitle\n"
		   "unset arrow 1\nset ytics format '%%h'\n", c->name, p, p, hi2, hi2);
}

static void write_panel_body(FILE *f, const struct panel_chart *c, double H)
{
	double split = has_value2(c) ? 0.66 : 1, top = 1 - HEADER_PX / H, range[3];

	panel_range(c, &range[0], &range[1]);
	range[2] = panel_range2(c);
	fputs("set multiplot\nset style fill solid 0.9 noborder\nset grid xtics mxtics "
	      "lc rgb '#e4e7ec'\nset border 3 lc rgb '#5a6270'\nset xtics nomirror font ',10'\n"
	      "set ytics nomirror\nunset key\n", f);
	panel_header(f, c, H, split);
	for (size_t p = 0; p < c->npanels; p++) {
		panel_plot(f, c, p, top, H, split, range);
		top -= (PANEL_PX + BAR_PX * (double)c->count[p]) / H;
	}
	fputs("unset multiplot\n", f);
}

int gnuplot_panel_chart(struct gnuplot_script *gp, const struct panel_chart *c,
			struct vb_err *err)
{
	FILE *f = gp->script.f;
	double H = panel_height(c);
	int status;

	if (!c->nbars || gp->mode == PLOTS_DUMB || gp->outcome->nplots == MAX_PLOTS)
		return VB_OK;
	if ((status = write_panel_data(gp, c, err)))
		return status;
	/* a multiplot cannot be replotted: the same panels once per terminal */
	fprintf(f, "\n# ---- %s ----\nreset\nset datafile separator \"\\t\"\n"
		   "set datafile missing \"?\"\n", c->name);
	if (H > MAX_PNG_PX)
		fprintf(f, "# no PNG: %.0f px is too tall for one (the SVG has every bar)\n", H);
	for (int png = 0; png < (H > MAX_PNG_PX ? 1 : 2); png++) {
		if (png)
			fprintf(f, "reset\nset datafile separator \"\\t\"\nset datafile missing \"?\"\n"
				   "set terminal @png_terminal size %d,%.0f noenhanced background "
				   "'#ffffff'\nset output '%s.png'\n", PANEL_WIDTH, H, c->name);
		else
			fprintf(f, "set terminal svg size %d,%.0f dynamic noenhanced font 'Sans,11' "
				   "background '#ffffff'\nset output '%s.svg'\n", PANEL_WIDTH, H,
				c->name);
		write_panel_body(f, c, H);
		fputs("unset output\n", f);
	}
	add_outcome(gp, c->name, c->title);
	return VB_OK;
}

/* ---- scaling panels ---- */

#define SCALING_PANEL_W 640
#define SCALING_PANEL_H 400

static int write_scaling_data(struct gnuplot_script *gp, const struct scaling_chart *c,
			      struct vb_err *err)
{
	struct out_file o;
	int status = open_data(gp, c->name, &o, err);
	size_t block = 0;

	if (status)
		return status;
	fprintf(o.f, "# voxels\tms; one block per line of a panel, blocks separated by two "
		     "blank lines\n");
	for (size_t p = 0; p < c->npanels; p++)
		for (size_t l = 0; l < c->panels[p].nlines; l++, block++) {
			const struct scaling_line *line = &c->lines[c->panels[p].first_line + l];
			char title[300];

			snprintf(title, sizeof(title), "%s: %s", c->panels[p].title, line->title);
			fprintf(o.f, "%s# ", block ? "\n\n" : "");
			data_label(o.f, title);
			fputc('\n', o.f);
			for (size_t i = line->start; i < line->start + line->count; i++) {
				char x[40], y[40];

				fprintf(o.f, "%s\t%s\n", fmt_num(x, c->x[i], 12),
					fmt_num(y, c->y[i], 10));
			}
		}
	return out_commit(&o, err);
}

static void scaling_ticks(FILE *f, const struct scaling_panel *p)
{
	char num[40];

	fputs("set xtics (", f);
	for (size_t t = 0; t < p->nticks; t++) {
		fputs(t ? ", " : "", f);
		gp_quote(f, p->tick_label[t]);
		fprintf(f, " %s", fmt_num(num, p->tick[t], 12));
	}
	fputs(") rotate by 20 right font ',9'\n", f);
}

/* Two decades of room below the lowest point or line: the legend sits there, under them. */
static void scaling_yrange(FILE *f, const struct scaling_chart *c, const struct scaling_panel *sp)
{
	double lo = INFINITY, hi = 0;
	char a[40], b[40];

	for (size_t l = 0; l < sp->nlines; l++) {
		const struct scaling_line *line = &c->lines[sp->first_line + l];

		for (size_t i = line->start; i < line->start + line->count; i++) {
			lo = c->y[i] < lo ? c->y[i] : lo;
			hi = c->y[i] > hi ? c->y[i] : hi;
		}
		for (int end = 0; end < 2 && isfinite(line->exponent); end++) { /* the fit's ends */
			double y = line->coefficient * pow(end ? sp->xmax : sp->xmin, line->exponent);

			if (isfinite(y) && y > 0) {
				lo = y < lo ? y : lo;
				hi = y > hi ? y : hi;
			}
		}
	}
	if (!isfinite(lo) || lo <= 0 || hi <= 0)
		return;
	fprintf(f, "set yrange [%s:%s]\n", fmt_num(a, pow(10, floor(log10(lo / 100))), 6),
		fmt_num(b, pow(10, ceil(log10(hi * 3))), 6));
}

static void scaling_panel(FILE *f, const struct scaling_chart *c, size_t p, size_t *block,
			  int cols, int rows, double H)
{
	const struct scaling_panel *sp = &c->panels[p];
	double usable = 1 - 30 / H; /* below the chart's title */
	char lo[40], hi[40], num[40];

	fprintf(f, "set origin %.4f, %.4f\nset size %.4f, %.4f\nset title ",
		(double)(p % (size_t)cols) / cols,
		usable * (1 - (double)(p / (size_t)cols + 1) / rows), 1.0 / cols, usable / rows);
	gp_quote(f, sp->title);
	fprintf(f, " font ',12'\nset xrange [%s:%s]\n", fmt_num(lo, sp->xmin, 6),
		fmt_num(hi, sp->xmax, 6));
	scaling_yrange(f, c, sp);
	scaling_ticks(f, sp);
	for (size_t k = 0; k < SCALING_MAX_CROSS; k++)
		fprintf(f, "unset label %zu\nunset arrow %zu\n", k + 1, k + 1);
	for (size_t k = 0; k < sp->ncross; k++) {
		/* the text beside its line, on the side with room */
		int right = log(sp->cross_x[k] / sp->xmin) > 0.5 * log(sp->xmax / sp->xmin);

		fprintf(f, "set arrow %zu from %s, graph 0 to %s, graph 1 nohead dt 3 lc rgb '#8a1c12'\n"
			   "set label %zu at %s, graph %.2f %s offset %s,0 font ',9' tc rgb '#8a1c12' ",
			k + 1, fmt_num(num, sp->cross_x[k], 10), num, k + 1, num, 0.95 - 0.06 * (double)k,
			right ? "right" : "left", right ? "-0.5" : "0.5");
		gp_quote(f, sp->cross_label[k]);
		fputc('\n', f);
	}
	fputs("unset label 20\n", f);
	if (sp->note[0]) {
		fputs("set label 20 at graph 0.02, graph 0.95 left font ',9' tc rgb '#5a6270' ", f);
		gp_quote(f, sp->note);
		fputc('\n', f);
	}
	for (size_t l = 0; l < sp->nlines; l++, (*block)++) {
		const struct scaling_line *line = &c->lines[sp->first_line + l];
		char k[40], b[40];

		fprintf(f, "%s'%s.dat' index %zu using 1:2 with points pt 7 ps 0.8 lc rgb '#%06x' "
			   "notitle", l ? ", \\\n     " : "plot ", c->name, *block,
			line->colour & 0xffffffu);
		if (isfinite(line->exponent))
			fprintf(f, ", \\\n     %s*x**(%s) with lines lw 2 dt %d lc rgb '#%06x' title ",
				fmt_num(k, line->coefficient, 10), fmt_num(b, line->exponent, 10),
				line->dashed ? 2 : 1, line->colour & 0xffffffu);
		else
			fprintf(f, ", \\\n     '' index %zu using 1:2 with lines lw 2 dt %d "
				   "lc rgb '#%06x' title ", *block, line->dashed ? 2 : 1,
				line->colour & 0xffffffu);
		gp_quote(f, line->title);
	}
	fputc('\n', f);
	for (size_t k = 0; k < sp->ncross; k++)
		fprintf(f, "unset arrow %zu\n", k + 1);
}

static void write_scaling_body(FILE *f, const struct scaling_chart *c, int cols, int rows,
			       double H)
{
	size_t block = 0;

	fputs("set multiplot", f);
	fputs(" title ", f);
	gp_quote(f, c->title);
	fputs(" font ',14'\nset logscale xy\nset grid xtics ytics lc rgb '#e4e7ec'\n"
	      "set border 3 lc rgb '#5a6270'\nset xtics nomirror\nset ytics nomirror font ',9'\n"
	      "set format y '%g'\nset ylabel 'ms (log scale)' font ',10'\n"
	      "set key bottom right font ',9' spacing 0.9 samplen 2.5 noopaque\n", f);
	for (size_t p = 0; p < c->npanels; p++)
		scaling_panel(f, c, p, &block, cols, rows, H);
	fputs("unset multiplot\n", f);
}

int gnuplot_scaling_chart(struct gnuplot_script *gp, const struct scaling_chart *c,
			  struct vb_err *err)
{
	FILE *f = gp->script.f;
	int cols = c->npanels > 1 ? 2 : 1, rows, status;
	double H;

	if (!c->npanels || gp->mode == PLOTS_DUMB || gp->outcome->nplots == MAX_PLOTS)
		return VB_OK;
	rows = (int)((c->npanels + (size_t)cols - 1) / (size_t)cols);
	H = (double)rows * SCALING_PANEL_H + 30;
	if ((status = write_scaling_data(gp, c, err)))
		return status;
	fprintf(f, "\n# ---- %s ----\n", c->name);
	for (int png = 0; png < 2; png++) {
		fputs("reset\nset datafile separator \"\\t\"\nset datafile missing \"?\"\n", f);
		if (png)
			fprintf(f, "set terminal @png_terminal size %d,%.0f noenhanced background "
				   "'#ffffff'\nset output '%s.png'\n", SCALING_PANEL_W * cols, H, c->name);
		else
			fprintf(f, "set terminal svg size %d,%.0f dynamic noenhanced font 'Sans,11' "
				   "background '#ffffff'\nset output '%s.svg'\n", SCALING_PANEL_W * cols,
				H, c->name);
		write_scaling_body(f, c, cols, rows, H);
		fputs("unset output\n", f);
	}
	add_outcome(gp, c->name, c->title);
	return VB_OK;
}

int gnuplot_begin(struct gnuplot_script *gp, const char *dir, enum plot_mode mode,
		  const char *source, struct plot_outcome *outcome, struct vb_err *err)
{
	char path[4200];
	int status;

	memset(gp, 0, sizeof(*gp));
	gp->dir_slot = -1;
	memset(outcome, 0, sizeof(*outcome));
	gp->mode = mode;
	gp->outcome = outcome;
	if (mode == PLOTS_DUMB) {
		const char *tmp = getenv("TMPDIR");

		snprintf(gp->dir, sizeof(gp->dir), "%s/voxbench-plot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!vb_mkdtemp_tracked(gp->dir, &gp->dir_slot))
			return vb_errf(err, VB_E_IO, "cannot create a temporary folder for gnuplot in "
					 "%s: %s; set TMPDIR to a writable folder", tmp && *tmp ?
					 tmp : "/tmp", strerror(errno));
	} else {
		snprintf(gp->dir, sizeof(gp->dir), "%s", dir);
	}
	snprintf(path, sizeof(path), "%s/plots.gp", gp->dir);
	if ((status = out_open(&gp->script, path, err)))
		return status;
	/* escaped, and never last on the line: a comment ending in '\\' would go on */
	fputs("# voxbench plots of ", gp->script.f);
	vb_fputs_escaped(source, gp->script.f);
	fprintf(gp->script.f, ", written by voxbench %s.\n", VOXBENCH_VERSION);
	fputs(script_header, gp->script.f);
	return VB_OK;
}

int bar_chart_alloc(struct bar_chart *c, size_t nlabels, size_t nseries, struct vb_err *err)
{
	size_t n = nlabels ? nlabels : 1;

	memset(c, 0, sizeof(*c));
	c->labels = calloc(n, sizeof(*c->labels));
	c->values = malloc(n * (nseries ? nseries : 1) * sizeof(*c->values));
	if (!c->labels || !c->values) {
		bar_chart_free(c);
		return vb_errf(err, VB_E_NOMEM, "out of host memory for a chart of %zu bars", nlabels);
	}
	for (size_t i = 0; i < n * (nseries ? nseries : 1); i++)
		c->values[i] = NAN;
	c->nseries = nseries;
	return VB_OK;
}

void bar_chart_free(struct bar_chart *c)
{
	free(c->labels);
	free(c->values);
	c->labels = NULL;
	c->values = NULL;
}

/* ---- finding and running gnuplot ---- */

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* name on PATH (or name itself when it holds a slash) into prog; -1 when not found. */
static int find_program(const char *name, char *prog, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(prog, len, "%s", name);
		return executable(prog) ? 0 : -1;
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
		size_t n = strcspn(p, ":");

		snprintf(prog, len, "%.*s/%s", n ? (int)n : 1, n ? p : ".", name);
		if (executable(prog))
			return 0;
		p += n;
		if (!*p)
			return -1;
	}
}

int gnuplot_find(char *prog, size_t len, char *note, size_t notelen)
{
	const char *env = getenv("VOXBENCH_GNUPLOT");

	if (env && !*env) {
		snprintf(note, notelen, "plots turned off (VOXBENCH_GNUPLOT is empty); unset it to "
			 "draw them with gnuplot");
		return -1;
	}
	if (find_program(env ? env : "gnuplot", prog, len) == 0)
		return 0;
	if (env)
		snprintf(note, notelen, "gnuplot not found: VOXBENCH_GNUPLOT names '%.200s', which is "
			 "not an executable program; point it at gnuplot or unset it", env);
	else
		snprintf(note, notelen, "gnuplot not found on PATH, so the plots are left out; install "
			 "it (Debian/Ubuntu: apt-get install gnuplot-nox) or set VOXBENCH_GNUPLOT to "
			 "the program, then run voxbench report again");
	return -1;
}

/* In the child: run prog on plots.gp inside dir, output to the log (or stdout for dumb). */
static void child_exec(const char *prog, const char *dir, int to_terminal)
{
	int log, in;

	if (chdir(dir) != 0)
		_exit(126);
	log = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	in = open("/dev/null", O_RDONLY);
	if (log < 0 || in < 0)
		_exit(126);
	dup2(in, STDIN_FILENO);
	if (!to_terminal)
		dup2(log, STDOUT_FILENO);
	dup2(log, STDERR_FILENO);
	execl(prog, prog, "plots.gp", (char *)NULL);
	_exit(127);
}

/* The last non-empty line of dir/gnuplot.log. */
static void log_tail(const char *dir, char *out, size_t len)
{
	char path[4200], line[512];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/gnuplot.log", dir);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t^")])
			snprintf(out, len, "%s", line + strspn(line, " \t"));
	}
	fclose(f);
}

static void run_gnuplot(struct gnuplot_script *gp, const char *prog)
{
	struct plot_outcome *o = gp->outcome;
	char last[400];
	int wstatus = 0, slot;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		vb_cleanup_forget();
		child_exec(prog, gp->dir, gp->mode == PLOTS_DUMB);
	}
	slot = pid > 0 ? vb_cleanup_child(pid) : -1; /* gnuplot stops with voxbench */
	while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	vb_cleanup_done(slot);
	if (pid > 0 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		o->drawn = 1;
		return;
	}
	log_tail(gp->dir, last, sizeof(last));
	if (pid < 0)
		snprintf(o->note, sizeof(o->note), "cannot start gnuplot: %s", strerror(errno));
	else
		snprintf(o->note, sizeof(o->note), "gnuplot (%.200s) failed%s%.400s; the script "
			 "plots.gp and its data are kept: run 'gnuplot plots.gp' in the folder to see "
			 "why", prog, last[0] ? ": " : "", last);
}

/* Remove what an earlier run left, so that a failed run never shows stale plots. */
static void remove_old_plots(const struct gnuplot_script *gp)
{
	char path[4200];

	for (size_t i = 0; i < gp->outcome->nplots; i++) {
		snprintf(path, sizeof(path), "%s/%s.svg", gp->dir, gp->outcome->name[i]);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.png", gp->dir, gp->outcome->name[i]);
		unlink(path);
	}
}

/* Whether path holds a whole plot: an SVG that closes its <svg>, a PNG up to its IEND chunk. */
static int plot_whole(const char *path, int png)
{
	static const unsigned char png_end[] = { 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };
	unsigned char tail[64];
	FILE *f = fopen(path, "rb");
	long size;
	size_t n = 0;

	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, size > (long)sizeof(tail) ? size - (long)sizeof(tail) : 0, SEEK_SET) == 0)
		n = fread(tail, 1, sizeof(tail), f);
	fclose(f);
	if (png)
		return n >= sizeof(png_end) && memcmp(tail + n - sizeof(png_end), png_end,
						      sizeof(png_end)) == 0;
	return memmem(tail, n, "</svg>", 6) != NULL;
}

/*
 * After gnuplot: a plot file that is empty or cut short (a full disk) is removed, never left
 * for the page or a viewer; when gnuplot said it succeeded, that is an I/O error.
 */
static int check_drawn(struct gnuplot_script *gp, struct vb_err *err)
{
	static const char *const kinds[] = { "svg", "png" };
	char path[4200], bad[64] = "";

	for (size_t i = 0; i < gp->outcome->nplots; i++) {
		for (int k = 0; k < 2; k++) {
			snprintf(path, sizeof(path), "%s/%s.%s", gp->dir, gp->outcome->name[i],
				 kinds[k]);
			if (access(path, F_OK) != 0 || plot_whole(path, k))
				continue;
			unlink(path);
			if (!bad[0])
				snprintf(bad, sizeof(bad), "%s.%s", gp->outcome->name[i], kinds[k]);
		}
	}
	if (bad[0] && gp->outcome->drawn)
		return vb_errf(err, VB_E_IO, "gnuplot could not write %s in full in %s: disk full "
			       "or I/O error; free some space and run the command again", bad,
			       gp->dir);
	return VB_OK;
}

/* PLOTS_DUMB: nothing of the temporary folder stays. */
static void remove_temporary(const struct gnuplot_script *gp)
{
	char path[4200];

	for (size_t i = 0; i < gp->outcome->nplots; i++) {
		snprintf(path, sizeof(path), "%s/%s.dat", gp->dir, gp->outcome->name[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/plots.gp", gp->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gnuplot.log", gp->dir);
	unlink(path);
	rmdir(gp->dir);
	vb_cleanup_done(gp->dir_slot);
}

void gnuplot_abort(struct gnuplot_script *gp)
{
	out_abort(&gp->script);
	if (gp->mode == PLOTS_DUMB && gp->dir[0])
		remove_temporary(gp);
}

int gnuplot_finish(struct gnuplot_script *gp, struct vb_err *err)
{
	char prog[4096];
	int status = out_commit(&gp->script, err);

	if (!status && gp->outcome->nplots) {
		remove_old_plots(gp);
		if (gnuplot_find(prog, sizeof(prog), gp->outcome->note,
				 sizeof(gp->outcome->note)) == 0)
			run_gnuplot(gp, prog);
		if (gp->mode == PLOTS_FILES)
			status = check_drawn(gp, err);
	}
	if (gp->mode == PLOTS_DUMB)
		remove_temporary(gp);
	return status;
}
