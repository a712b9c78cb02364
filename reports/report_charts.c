/*
 * reports/report_charts.c: the charts of one report: every op variant's speedup (kernel only,
 * with transfers) beside its share of the measured copy bandwidth, one panel per category;
 * per category, time against voxel count (reports/scaling_chart.c) where there were several
 * sizes; GPU time per backend where there were several backends. The terminal (dumb) gets the
 * speedup as numbered bars.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define MAX_BARS 60
#define VARIANT (KEY_OP | KEY_PARAMS | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE)

static int has_speedup(const struct result_row *row)
{
	return (isfinite(row->speedup) && row->speedup > 0) ||
	       (isfinite(row->speedup_with_transfers) && row->speedup_with_transfers > 0);
}

static int has_bandwidth(const struct result_row *row)
{
	return isfinite(row->effective_gbps) && row->effective_gbps > 0;
}

static int timed(const struct result_row *row)
{
	return (row->status == ROW_PASS || row->status == ROW_FAIL) && isfinite(row->gpu.median) &&
	       row->gpu.median > 0;
}

/* The row of group g with the most voxels. */
static const struct result_row *largest(const struct report *r, const struct row_groups *g,
					size_t group)
{
	const struct result_row *best = NULL;

	for (size_t i = 0; i < g->count[group]; i++) {
		const struct result_row *row = &r->rows[g->order[g->start[group] + i]];

		if (!best || row_voxels(row) > row_voxels(best))
			best = row;
	}
	return best;
}

/* Parts that tell the op variants of a report apart, given what varies in it. */
static unsigned label_parts(unsigned vary)
{
	return KEY_OP | (vary & (KEY_PARAMS | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE));
}

static void cap_note(struct bar_chart *c, size_t total, int several_sizes)
{
	if (total > MAX_BARS)
		snprintf(c->note, sizeof(c->note), "first %d of %zu%s", MAX_BARS, total,
			 several_sizes ? ", largest size of each" : "");
	else if (several_sizes)
		snprintf(c->note, sizeof(c->note), "largest size of each op");
}

static int speedup_chart(const struct loaded_report *lr, unsigned vary,
			 struct gnuplot_script *gp, struct vb_err *err)
{
	const struct report *r = &lr->rep;
	struct row_groups g;
	struct bar_chart c;
	int status = row_groups_make(r, VARIANT, has_speedup, &g, err);

	if (status)
		return status;
	if ((status = bar_chart_alloc(&c, g.n < MAX_BARS ? g.n : MAX_BARS, 2, err)))
		goto out;
	c.name = "speedup";
	c.title = "Speedup over the CPU reference";
	c.ylabel = "speedup = CPU ms / GPU ms (log scale)";
	c.logy = 1;
	c.series[0] = "kernel only";
	c.series[1] = "with transfers";
	for (size_t i = 0; i < g.n && c.nlabels < MAX_BARS; i++, c.nlabels++) {
		const struct result_row *row = largest(r, &g, i);

		row_label(row, label_parts(vary), c.labels[c.nlabels], sizeof(c.labels[0]));
		c.values[c.nlabels * 2] = row->speedup;
		c.values[c.nlabels * 2 + 1] = row->speedup_with_transfers;
	}
	cap_note(&c, g.n, (vary & KEY_SIZE) != 0);
	c.nlines = 1;
	c.line_value[0] = 1;
	snprintf(c.line_title[0], sizeof(c.line_title[0]), "as fast as the CPU reference");
	status = gnuplot_bar_chart(gp, &c, err);
	bar_chart_free(&c);
out:
	row_groups_free(&g);
	return status;
}

/* ---- every op variant, one panel per category: speedup and bandwidth side by side ---- */

static const unsigned verdict_colour[] = { 0x3b884e, 0xc8372d, 0xb0b6bf, 0x7a1f1a };

static int has_speedup_or_bandwidth(const struct result_row *row)
{
	return has_speedup(row) || has_bandwidth(row);
}

struct variant {
	const struct result_row *row;
	size_t category;  /* order of the category's first row in the report */
};

static int by_category_then_speedup(const void *a, const void *b)
{
	const struct variant *x = a, *y = b;
	double sx = isfinite(x->row->speedup) ? x->row->speedup : -1;
	double sy = isfinite(y->row->speedup) ? y->row->speedup : -1;

	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	if (sx != sy)
		return sx > sy ? -1 : 1;
	return strcmp(x->row->op, y->row->op);
}

static size_t category_order(const struct report *r, const char *category)
{
	for (size_t i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].category, category) == 0)
			return i;
	return r->nrows;
}

/* The largest size of each variant, sorted into categories and by speedup. */
static struct variant *variants_sorted(const struct report *r, const struct row_groups *g)
{
	struct variant *v = calloc(g->n ? g->n : 1, sizeof(*v));

	for (size_t i = 0; v && i < g->n; i++) {
		v[i].row = largest(r, g, i);
		v[i].category = category_order(r, v[i].row->category);
	}
	if (v)
		qsort(v, g->n, sizeof(*v), by_category_then_speedup);
	return v;
}

struct panel_arrays {
	char (*panel_title)[96];
	size_t *start, *count;
	char (*labels)[128];
	double *value, *marker, *value2;
	unsigned *colour;
};

static void panel_arrays_free(struct panel_arrays *a)
{
	free(a->panel_title);
	free(a->start);
	free(a->count);
	free(a->labels);
	free(a->value);
	free(a->marker);
	free(a->value2);
	free(a->colour);
}

static int panel_arrays_alloc(struct panel_arrays *a, size_t n)
{
	n = n ? n : 1;
	a->panel_title = calloc(n, sizeof(*a->panel_title));
	a->start = calloc(n, sizeof(*a->start));
	a->count = calloc(n, sizeof(*a->count));
	a->labels = calloc(n, sizeof(*a->labels));
	a->value = calloc(n, sizeof(*a->value));
	a->marker = calloc(n, sizeof(*a->marker));
	a->value2 = calloc(n, sizeof(*a->value2));
	a->colour = calloc(n, sizeof(*a->colour));
	return a->panel_title && a->start && a->count && a->labels && a->value && a->marker &&
	       a->value2 && a->colour ? 0 : -1;
}

/* Whether any row knows its share of the measured copy bandwidth. */
static int any_fraction(const struct loaded_report *lr, const struct variant *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isfinite(row_bandwidth_fraction(lr, v[i].row)))
			return 1;
	return 0;
}

static void fill_panels(const struct loaded_report *lr, unsigned vary, const struct variant *v,
			size_t n, int fraction, struct panel_chart *c, struct panel_arrays *a)
{
	size_t np = 0;

	for (size_t i = 0; i < n; i++) {
		const struct result_row *row = v[i].row;

		if (i == 0 || v[i].category != v[i - 1].category) {
			a->start[np++] = i;
			snprintf(a->panel_title[np - 1], sizeof(a->panel_title[0]), "%s",
				 row->category[0] ? row->category : "(no category)");
		}
		a->count[np - 1]++;
		row_label(row, label_parts(vary), a->labels[i], sizeof(a->labels[0]));
		a->value[i] = row->speedup;
		a->marker[i] = row->speedup_with_transfers;
		a->value2[i] = fraction ? 100 * row_bandwidth_fraction(lr, row) : row->effective_gbps;
		a->colour[i] = verdict_colour[row->status <= ROW_ERROR ? row->status : ROW_ERROR];
	}
	for (size_t p = 0; p < np; p++) {
		size_t len = strlen(a->panel_title[p]);

		snprintf(a->panel_title[p] + len, sizeof(a->panel_title[0]) - len, ": %zu op "
			 "variant%s%s", a->count[p], a->count[p] == 1 ? "" : "s",
			 (vary & KEY_SIZE) ? ", largest size of each" : "");
	}
	c->npanels = np;
	c->nbars = n;
}

static int overview_chart(const struct loaded_report *lr, unsigned vary,
			  struct gnuplot_script *gp, struct vb_err *err)
{
	const struct report *r = &lr->rep;
	struct panel_arrays a = { 0 };
	struct variant *v = NULL;
	struct row_groups g;
	int status = row_groups_make(r, VARIANT, has_speedup_or_bandwidth, &g, err), fraction;

	if (status)
		return status;
	if (!(v = variants_sorted(r, &g)) || panel_arrays_alloc(&a, g.n)) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory for the speedup chart");
		goto out;
	}
	fraction = any_fraction(lr, v, g.n);
	struct panel_chart c = {
		.name = "speedup", .title = "Speedup and bandwidth of every op, by category",
		.panel_title = a.panel_title, .start = a.start, .count = a.count,
		.labels = a.labels, .value = a.value, .marker = a.marker, .value2 = a.value2,
		.colour = a.colour, .logx = 1,
		.heading = "speedup = CPU reference ms / GPU kernel ms (log scale)",
		.marker_title = "with transfers",
		.heading2 = fraction ? "% of the measured copy bandwidth"
				     : "effective GB/s (bytes read + written / GPU time)",
		.ref = 1, .ref_title = "as fast as the CPU", .ref2 = fraction ? 100 : NAN,
		.cap2 = fraction ? 200 : NAN, .nkeys = 3,
		.key_title = { "pass", "fail", "error" },
		.key_colour = { verdict_colour[ROW_PASS], verdict_colour[ROW_FAIL],
				verdict_colour[ROW_ERROR] },
	};
	fill_panels(lr, vary, v, g.n, fraction, &c, &a);
	status = gnuplot_panel_chart(gp, &c, err);
out:
	panel_arrays_free(&a);
	free(v);
	row_groups_free(&g);
	return status;
}

/* The distinct backends of the timed rows, in order of appearance (at most 8). */
static size_t backends_of(const struct report *r, const char *names[8])
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrows; i++) {
		size_t k = 0;

		if (!timed(&r->rows[i]))
			continue;
		while (k < n && strcmp(names[k], r->rows[i].backend) != 0)
			k++;
		if (k == n && n < 8)
			names[n++] = r->rows[i].backend;
	}
	return n;
}

/* The GPU times of group i (one op variant) on backends a and b at the largest size both
 * timed; its row in *at. Whether there is one. */
static int backend_pair(const struct report *r, const struct row_groups *g, size_t i,
			const char *a, const char *b, const struct result_row **at, double t[2])
{
	*at = NULL;
	for (size_t k = 0; k < g->count[i]; k++) {
		const struct result_row *ra = &r->rows[g->order[g->start[i] + k]];

		if (strcmp(ra->backend, a) != 0 || (*at && row_voxels(ra) <= row_voxels(*at)))
			continue;
		for (size_t j = 0; j < g->count[i]; j++) {
			const struct result_row *rb = &r->rows[g->order[g->start[i] + j]];

			if (strcmp(rb->backend, b) == 0 && row_voxels(rb) == row_voxels(ra) &&
			    rb->width == ra->width && rb->height == ra->height) {
				*at = ra;
				t[0] = ra->gpu.median;
				t[1] = rb->gpu.median;
				break;
			}
		}
	}
	return *at != NULL;
}

#define FASTER 0x3b884e
#define SLOWER 0xc8372d
#define EVEN 0x8a93a3

struct backend_bar {
	const struct result_row *row;
	size_t category;
	double ratio;
};

static int backend_bar_cmp(const void *a, const void *b)
{
	const struct backend_bar *x = a, *y = b;

	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	if (x->ratio != y->ratio)
		return x->ratio > y->ratio ? -1 : 1;
	return strcmp(x->row->op, y->row->op);
}

/* Every op variant (op, params, dtype) timed on the first two backends: one bar each, at the
 * largest size both timed, of the first's time over the second's (above 1: the second is
 * faster), a panel per category. */
static int backend_chart(const struct report *r, unsigned vary, struct gnuplot_script *gp,
			 struct vb_err *err)
{
	unsigned parts = KEY_OP | KEY_PARAMS | KEY_DTYPE;
	const char *names[8];
	size_t nb = backends_of(r, names), n = 0, np = 0;
	struct panel_arrays a = { 0 };
	struct backend_bar *bars = NULL;
	struct row_groups g;
	char title[200], heading[200];
	int status;

	if (nb < 2)
		return VB_OK;
	if ((status = row_groups_make(r, parts, timed, &g, err)))
		return status;
	if (!(bars = calloc(g.n ? g.n : 1, sizeof(*bars))) || panel_arrays_alloc(&a, g.n)) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory for the backends chart");
		goto out;
	}
	for (size_t i = 0; i < g.n; i++) {
		const struct result_row *row;
		double t[2];

		if (backend_pair(r, &g, i, names[0], names[1], &row, t) && t[0] > 0 && t[1] > 0)
			bars[n++] = (struct backend_bar){ row, category_order(r, row->category),
							  t[0] / t[1] };
	}
	qsort(bars, n, sizeof(*bars), backend_bar_cmp);
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || bars[k].category != bars[k - 1].category) {
			a.start[np] = k;
			snprintf(a.panel_title[np++], sizeof(a.panel_title[0]), "%.60s",
				 bars[k].row->category[0] ? bars[k].row->category : "(no category)");
		}
		a.count[np - 1]++;
		row_label(bars[k].row, KEY_OP | (vary & (KEY_PARAMS | KEY_DTYPE)), a.labels[k],
			  sizeof(a.labels[0]));
		a.value[k] = bars[k].ratio;
		a.colour[k] = bars[k].ratio > 1.05 ? FASTER : bars[k].ratio < 1 / 1.05 ? SLOWER : EVEN;
	}
	snprintf(title, sizeof(title), "GPU kernel time, %.40s against %.40s, every op variant "
		 "(the largest size of each)", names[1], names[0]);
	snprintf(heading, sizeof(heading), "%.40s ms / %.40s ms (log scale; above 1: %.40s is "
		 "faster)", names[0], names[1], names[1]);
	struct panel_chart c = {
		.name = "backends", .title = title, .panel_title = a.panel_title, .start = a.start,
		.count = a.count, .labels = a.labels, .value = a.value, .colour = a.colour,
		.logx = 1, .ratio = 1, .heading = heading, .ref = 1, .ref_title = "as fast",
		.ref2 = NAN,
		.cap2 = NAN, .nkeys = 3, .key_title = { "faster", "slower", "within 5 %" },
		.key_colour = { FASTER, SLOWER, EVEN }, .npanels = np, .nbars = n,
	};
	status = gnuplot_panel_chart(gp, &c, err);
out:
	panel_arrays_free(&a);
	free(bars);
	row_groups_free(&g);
	return status;
}

int report_charts(const struct loaded_report *lr, struct gnuplot_script *gp,
		  struct vb_err *err)
{
	unsigned vary = report_varying(&lr->rep);
	int status;

	/* the terminal gets the old numbered bars; files get every row in panels */
	if (gp->mode == PLOTS_DUMB)
		return speedup_chart(lr, vary, gp, err);
	status = overview_chart(lr, vary, gp, err);
	if (!status)
		status = report_scaling_chart(&lr->rep, gp, err);
	if (!status && gp->mode != PLOTS_DUMB)
		status = backend_chart(&lr->rep, vary, gp, err);
	return status;
}
