/*
 * reports/scaling_chart.c: how each category scales, GPU against CPU. Per category and backend,
 * the geometric mean over the category's ops (those timed at every size of it) of the CPU
 * reference time, the GPU kernel time and the GPU time with its transfers, against the voxel
 * count, each with its fitted power law t = c * n^b. Where the CPU line meets a GPU line with
 * transfers is the crossover: below that size the CPU is the faster choice.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define MAX_SIZES 8      /* sizes per category drawn (the smallest ones beyond are left out) */
#define MAX_BACKENDS 4
#define REACH 100.0      /* a crossover this far beyond the sizes measured is not drawn */
#define LINES_PER_PANEL (1 + 2 * MAX_BACKENDS)

static const unsigned backend_colour[MAX_BACKENDS] = { 0x1f6fb4, 0xd9730d, 0x7b3fa0, 0x2a9d8f };

static int timed(const struct result_row *row)
{
	return !backend_is_peer(row->backend) && (row->status == ROW_PASS || row->status == ROW_FAIL) && isfinite(row->gpu.median) &&
	       row->gpu.median > 0 && isfinite(row->cpu_ms) && row->cpu_ms > 0;
}

static double with_transfers(const struct result_row *row)
{
	double h = isfinite(row->h2d_ms) ? row->h2d_ms : 0, d = isfinite(row->d2h_ms) ? row->d2h_ms : 0;

	return row->gpu.median + h + d;
}

/* What one panel is made from: its sizes and backends (a backend and device pair). */
struct panel_plan {
	const char *category;
	size_t nsizes, nbackends;
	double voxels[MAX_SIZES];
	const struct result_row *size_row[MAX_SIZES];
	const struct result_row *backend_row[MAX_BACKENDS];
};

static int same_backend(const struct result_row *a, const struct result_row *b)
{
	return strcmp(a->backend, b->backend) == 0 && strcmp(a->device, b->device) == 0;
}

static void plan_add_row(struct panel_plan *pl, const struct result_row *row)
{
	size_t k = 0;
	double v = row_voxels(row);

	while (k < pl->nsizes && pl->voxels[k] != v)
		k++;
	if (k == pl->nsizes && pl->nsizes < MAX_SIZES) {
		pl->voxels[pl->nsizes] = v;
		pl->size_row[pl->nsizes++] = row;
	}
	for (k = 0; k < pl->nbackends && !same_backend(pl->backend_row[k], row); k++)
		;
	if (k == pl->nbackends && pl->nbackends < MAX_BACKENDS)
		pl->backend_row[pl->nbackends++] = row;
}

static void plan_sort_sizes(struct panel_plan *pl)
{
	for (size_t i = 1; i < pl->nsizes; i++)
		for (size_t j = i; j > 0 && pl->voxels[j - 1] > pl->voxels[j]; j--) {
			double v = pl->voxels[j];
			const struct result_row *r = pl->size_row[j];

			pl->voxels[j] = pl->voxels[j - 1];
			pl->size_row[j] = pl->size_row[j - 1];
			pl->voxels[j - 1] = v;
			pl->size_row[j - 1] = r;
		}
}

/* The categories with timed rows at two or more sizes, in report order. */
static size_t make_plans(const struct report *r, struct panel_plan *plans, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];
		size_t k = 0;

		if (!timed(row))
			continue;
		while (k < n && strcmp(plans[k].category, row->category) != 0)
			k++;
		if (k == n) {
			if (n == max)
				continue;
			memset(&plans[n], 0, sizeof(plans[n]));
			plans[n++].category = row->category;
		}
		plan_add_row(&plans[k], row);
	}
	for (size_t k = 0; k < n; k++)
		plan_sort_sizes(&plans[k]);
	return n;
}

/* Geometric means per size over the variants (groups) of the category on backend b that were
 * timed at every size of the plan: cpu, gpu, gpu+transfers. Returns the number of variants. */
static size_t panel_means(const struct report *r, const struct row_groups *g,
			  const struct panel_plan *pl, size_t b, double mean[3][MAX_SIZES])
{
	double sum[3][MAX_SIZES] = { { 0 } };
	size_t n = 0;

	for (size_t v = 0; v < g->n; v++) {
		const struct result_row *first = &r->rows[g->order[g->start[v]]];
		const struct result_row *at[MAX_SIZES] = { 0 };
		size_t have = 0;

		if (strcmp(first->category, pl->category) != 0 ||
		    !same_backend(first, pl->backend_row[b]))
			continue;
		for (size_t k = 0; k < g->count[v]; k++) {
			const struct result_row *row = &r->rows[g->order[g->start[v] + k]];

			for (size_t s = 0; s < pl->nsizes; s++)
				if (row_voxels(row) == pl->voxels[s] && !at[s]) {
					at[s] = row;
					have++;
				}
		}
		if (have < pl->nsizes)
			continue;
		for (size_t s = 0; s < pl->nsizes; s++) {
			sum[0][s] += log(at[s]->cpu_ms);
			sum[1][s] += log(at[s]->gpu.median);
			sum[2][s] += log(with_transfers(at[s]));
		}
		n++;
	}
	for (int k = 0; k < 3; k++)
		for (size_t s = 0; s < pl->nsizes; s++)
			mean[k][s] = n ? exp(sum[k][s] / (double)n) : NAN;
	return n;
}

static void add_line(struct scaling_chart *c, struct scaling_panel *p, const double *x,
		     const double *y, size_t n, const char *what, unsigned colour, int dashed,
		     size_t *npoints)
{
	struct scaling_line *l = &c->lines[p->first_line + p->nlines++];
	double r2;

	l->start = *npoints;
	l->count = n;
	l->colour = colour;
	l->dashed = dashed;
	for (size_t i = 0; i < n; i++) {
		c->x[*npoints] = x[i];
		c->y[(*npoints)++] = y[i];
	}
	if (loglog_fit(x, y, n, &l->exponent, &l->coefficient, &r2)) {
		l->exponent = l->coefficient = NAN;
		snprintf(l->title, sizeof(l->title), "%s", what);
	} else {
		snprintf(l->title, sizeof(l->title), "%s: n^%.2f", what, l->exponent);
	}
}

/* n^(1/3) as a cube edge, for people: "64^3". */
static void cube_text(double n, char *buf, size_t len)
{
	snprintf(buf, len, "%.3g voxels (%.0f^3)", n, cbrt(n));
}

/* Where the CPU line (cpu) meets a GPU-with-transfers line (gpu). */
static void crossover(struct scaling_panel *p, const struct scaling_line *cpu,
		      const struct scaling_line *gpu, const char *backend)
{
	double n, t;
	char size[64];

	if (!isfinite(cpu->exponent) || !isfinite(gpu->exponent) ||
	    fabs(cpu->exponent - gpu->exponent) < 1e-6 || p->ncross == SCALING_MAX_CROSS)
		return;
	n = pow(gpu->coefficient / cpu->coefficient, 1 / (cpu->exponent - gpu->exponent));
	if (!isfinite(n) || n < p->xmin / REACH || n > p->xmax * REACH) {
		snprintf(p->note, sizeof(p->note), "no crossover within %gx of the sizes measured",
			 REACH);
		return;
	}
	t = cpu->coefficient * pow(n, cpu->exponent);
	cube_text(n, size, sizeof(size));
	p->cross_x[p->ncross] = n;
	p->cross_y[p->ncross] = t;
	snprintf(p->cross_label[p->ncross++], sizeof(p->cross_label[0]), "%s with transfers = CPU at %s",
		 backend, size);
	if (n < p->xmin)
		p->xmin = n;
	if (n > p->xmax)
		p->xmax = n;
}

static void fill_panel(const struct report *r, const struct row_groups *g,
		       const struct panel_plan *pl, struct scaling_chart *c, struct scaling_panel *p, size_t *npoints)
{
	double mean[3][MAX_SIZES];
	size_t cpu_line = 0, nvariants = 0;

	p->first_line = c->npanels ? c->panels[c->npanels - 1].first_line +
				     c->panels[c->npanels - 1].nlines : 0;
	p->xmin = pl->voxels[0] / 2;
	p->xmax = pl->voxels[pl->nsizes - 1] * 2;
	for (size_t s = 0; s < pl->nsizes && p->nticks < SCALING_MAX_TICKS; s++) {
		p->tick[p->nticks] = pl->voxels[s];
		row_size_text(pl->size_row[s], p->tick_label[p->nticks++], sizeof(p->tick_label[0]));
	}
	for (size_t b = 0; b < pl->nbackends; b++) {
		const char *name = pl->backend_row[b]->backend;
		char what[96];
		size_t n = panel_means(r, g, pl, b, mean);

		if (!n)
			continue;
		if (!nvariants) { /* the CPU reference is shared by every backend's rows */
			cpu_line = p->first_line + p->nlines;
			add_line(c, p, pl->voxels, mean[0], pl->nsizes, "CPU reference", 0x1d2330, 0,
				 npoints);
		}
		nvariants = n > nvariants ? n : nvariants;
		snprintf(what, sizeof(what), "GPU %s kernel", name);
		add_line(c, p, pl->voxels, mean[1], pl->nsizes, what, backend_colour[b], 0, npoints);
		snprintf(what, sizeof(what), "GPU %s with transfers", name);
		add_line(c, p, pl->voxels, mean[2], pl->nsizes, what, backend_colour[b], 1, npoints);
		crossover(p, &c->lines[cpu_line], &c->lines[p->first_line + p->nlines - 1], name);
	}
	snprintf(p->title, sizeof(p->title), "%s: geometric mean of %zu op%s", pl->category,
		 nvariants, nvariants == 1 ? "" : "s");
	if (!p->ncross && !p->note[0] && p->nlines)
		snprintf(p->note, sizeof(p->note), "no crossover: the lines run parallel");
}

int report_scaling_chart(const struct report *r, struct gnuplot_script *gp, struct vb_err *err)
{
	size_t max = 64, nplans, npoints = 0;
	struct panel_plan *plans = calloc(max, sizeof(*plans));
	struct row_groups g = { 0 };
	struct scaling_chart c = { .name = "scaling",
				   .title = "Time against voxel count per category: CPU, GPU kernel "
					    "and GPU with transfers (fitted t = c * n^b)" };
	int status = VB_OK;

	if (!plans)
		return vb_errf(err, VB_E_NOMEM, "out of host memory for the scaling chart");
	if ((status = row_groups_make(r, KEY_OP | KEY_PARAMS | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE,
				      timed, &g, err))) {
		free(plans);
		return status;
	}
	nplans = make_plans(r, plans, max);
	c.panels = calloc(nplans ? nplans : 1, sizeof(*c.panels));
	c.lines = calloc((nplans ? nplans : 1) * LINES_PER_PANEL, sizeof(*c.lines));
	c.x = calloc((nplans ? nplans : 1) * LINES_PER_PANEL * MAX_SIZES, sizeof(*c.x));
	c.y = calloc((nplans ? nplans : 1) * LINES_PER_PANEL * MAX_SIZES, sizeof(*c.y));
	if (!c.panels || !c.lines || !c.x || !c.y) {
		status = vb_errf(err, VB_E_NOMEM, "out of host memory for the scaling chart");
		goto out;
	}
	for (size_t k = 0; k < nplans; k++) {
		if (plans[k].nsizes < 2)
			continue;
		fill_panel(r, &g, &plans[k], &c, &c.panels[c.npanels], &npoints);
		if (c.panels[c.npanels].nlines)
			c.npanels++;
	}
	status = gnuplot_scaling_chart(gp, &c, err);
out:
	row_groups_free(&g);
	free(plans);
	free(c.panels);
	free(c.lines);
	free(c.x);
	free(c.y);
	return status;
}
