/*
 * reports/peers_table.c: voxbench and its peers (`run --peer`) side by side: per op, size and
 * dtype, voxbench's kernel time per backend and each peer's time, the ratio peer / voxbench
 * (the voxbench backend of the same API: OpenCL for pyclesperanto-opencl, else CUDA) and each
 * side's verdict; then a line per peer with its counts and the geometric mean of its ratios.
 * For the text table (after the run's rows) and the HTML page.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define MAX_COLUMNS 8
#define NONE ((size_t)-1)

int backend_is_peer(const char *backend)
{
	return strcmp(backend, "opencl") != 0 && strcmp(backend, "cuda") != 0;
}

/* The voxbench backend a peer is timed against: its API's. */
static const char *paired(const char *peer)
{
	size_t n = strlen(peer);

	return n > 7 && strcmp(peer + n - 7, "-opencl") == 0 ? "opencl" : "cuda";
}

/* The columns: voxbench's backends, then the peers', in order of appearance. */
struct side_by_side {
	const char *col[MAX_COLUMNS];
	size_t ncols, npeers;
	struct row_groups g;
	size_t nlines;
	size_t *cell;   /* cell[line * ncols + c]: a row index, or NONE */
	size_t *group;  /* the group of each line */
};

static void add_column(struct side_by_side *t, const char *backend)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->col[c], backend) == 0)
			return;
	if (t->ncols < MAX_COLUMNS)
		t->col[t->ncols++] = backend;
}

static void side_free(struct side_by_side *t)
{
	row_groups_free(&t->g);
	free(t->cell);
	free(t->group);
}

/* 1 and t filled when the report has peer rows; 0 otherwise. */
static int side_make(const struct report *r, struct side_by_side *t)
{
	memset(t, 0, sizeof(*t));
	for (int peer = 0; peer <= 1; peer++)
		for (size_t i = 0; i < r->nrows; i++)
			if (backend_is_peer(r->rows[i].backend) == peer)
				add_column(t, r->rows[i].backend);
	for (size_t c = 0; c < t->ncols; c++)
		t->npeers += backend_is_peer(t->col[c]);
	if (!t->npeers || row_groups_make(r, KEY_OP | KEY_PARAMS | KEY_SIZE | KEY_DTYPE, NULL,
					  &t->g, NULL))
		return 0;
	t->cell = malloc((t->g.n ? t->g.n : 1) * t->ncols * sizeof(*t->cell));
	t->group = malloc((t->g.n ? t->g.n : 1) * sizeof(*t->group));
	if (!t->cell || !t->group) {
		side_free(t);
		return 0;
	}
	for (size_t g = 0; g < t->g.n; g++) {
		size_t *line = t->cell + t->nlines * t->ncols;
		int peers = 0;

		for (size_t c = 0; c < t->ncols; c++)
			line[c] = NONE;
		for (size_t k = 0; k < t->g.count[g]; k++) {
			size_t i = t->g.order[t->g.start[g] + k];

			for (size_t c = 0; c < t->ncols; c++)
				if (line[c] == NONE && strcmp(r->rows[i].backend, t->col[c]) == 0) {
					line[c] = i;
					peers += backend_is_peer(t->col[c]);
				}
		}
		if (peers)
			t->group[t->nlines++] = g;
	}
	return 1;
}

/* The voxbench column peer column c is timed against: its API's, else voxbench's first. */
static size_t pair_column(const struct side_by_side *t, size_t c)
{
	for (size_t k = 0; k < t->ncols; k++)
		if (strcmp(t->col[k], paired(t->col[c])) == 0)
			return k;
	for (size_t k = 0; k < t->ncols; k++)
		if (!backend_is_peer(t->col[k]))
			return k;
	return NONE;
}

/* The peer's time over voxbench's on this line (NaN when either has none). */
static double ratio(const struct report *r, const struct side_by_side *t, size_t line,
		    size_t c)
{
	size_t k = pair_column(t, c);
	size_t p = t->cell[line * t->ncols + c], v = k == NONE ? NONE : t->cell[line * t->ncols + k];

	if (p == NONE || v == NONE || r->rows[p].status != ROW_PASS ||
	    r->rows[v].status != ROW_PASS)
		return NAN;
	return r->rows[p].gpu.median / r->rows[v].gpu.median;
}

/* Per peer column: counts by status and the geometric mean of its ratios. */
static void peer_summary(const struct report *r, const struct side_by_side *t, size_t c,
			 char *buf, size_t len)
{
	size_t n[4] = { 0 }, nr = 0;
	double *v = malloc((t->nlines + 1) * sizeof(*v)), gm;

	for (size_t l = 0; l < t->nlines; l++) {
		size_t i = t->cell[l * t->ncols + c];
		double x = ratio(r, t, l, c);

		if (i != NONE)
			n[r->rows[i].status]++;
		if (v && isfinite(x) && x > 0)
			v[nr++] = x;
	}
	gm = v && nr ? geomean(v, nr) : NAN;
	snprintf(buf, len, "%s: %zu pass, %zu fail, %zu skip, %zu error; %s/%s time ratio, "
		 "geometric mean over %zu ops: %s", t->col[c], n[ROW_PASS], n[ROW_FAIL], n[ROW_SKIP],
		 n[ROW_ERROR], t->col[c],
		 pair_column(t, c) == NONE ? "voxbench" : t->col[pair_column(t, c)], nr,
		 isfinite(gm) ? "" : "-");
	if (isfinite(gm))
		snprintf(buf + strlen(buf), len - strlen(buf), "%.3g (%s)", gm,
			 gm > 1 ? "voxbench faster" : "the peer faster");
	free(v);
}

static void text_cell(FILE *out, const struct result_row *row, int width)
{
	char ms[32];

	if (!row) {
		fprintf(out, " %*s", width, "-");
		return;
	}
	if (isfinite(row->gpu.median))
		snprintf(ms, sizeof(ms), "%.3f %s", row->gpu.median, row_status_name(row->status));
	else
		snprintf(ms, sizeof(ms), "%s", row_status_name(row->status));
	fprintf(out, " %*s", width, ms);
}

void report_print_peers(const struct report *r, FILE *out)
{
	struct side_by_side t;
	char label[256], size[48], text[512];

	if (!side_make(r, &t))
		return;
	fprintf(out, "\nvoxbench beside its peers: ms (median) and verdict; ratio = peer ms / "
		"voxbench ms on the same API (above 1: voxbench faster)\n%-37s %-15s %-5s", "op",
		"size", "dtype");
	for (size_t c = 0; c < t.ncols; c++) {
		fprintf(out, " %20s", t.col[c]);
		if (backend_is_peer(t.col[c]))
			fprintf(out, " %7s", "ratio");
	}
	fputc('\n', out);
	for (size_t l = 0; l < t.nlines; l++) {
		const struct result_row *first = &r->rows[t.g.order[t.g.start[t.group[l]]]];

		snprintf(label, sizeof(label), "%s", first->op);
		row_size_text(first, size, sizeof(size));
		fprintf(out, "%-37s %-15s %-5s", label, size, first->dtype);
		for (size_t c = 0; c < t.ncols; c++) {
			size_t i = t.cell[l * t.ncols + c];
			double x;

			text_cell(out, i == NONE ? NULL : &r->rows[i], 20);
			if (!backend_is_peer(t.col[c]))
				continue;
			x = ratio(r, &t, l, c);
			if (isfinite(x))
				fprintf(out, " %7.2f", x);
			else
				fprintf(out, " %7s", "-");
		}
		fputc('\n', out);
	}
	for (size_t c = 0; c < t.ncols; c++)
		if (backend_is_peer(t.col[c])) {
			peer_summary(r, &t, c, text, sizeof(text));
			fprintf(out, "%s\n", text);
		}
	side_free(&t);
}

void html_peers_table(FILE *out, const struct report *r)
{
	struct side_by_side t;
	char params[512], size[48], text[512];

	if (!side_make(r, &t))
		return;
	fputs("<h2>voxbench and its peers</h2>\n<p>The user's own libraries (<code>voxbench run "
	      "--peer</code>) on the same stacks, compared with the same CPU reference after each "
	      "op's convention adapter. ms: median time; ratio: peer ms / voxbench ms on the same "
	      "API (above 1: voxbench is faster).</p>\n<table id=\"peers\">\n<tr><th>op</th>"
	      "<th>params</th><th>size</th><th>dtype</th>", out);
	for (size_t c = 0; c < t.ncols; c++) {
		fputs("<th>", out);
		html_escape(out, t.col[c]);
		fputs(" ms</th><th>verdict</th>", out);
		if (backend_is_peer(t.col[c]))
			fputs("<th>ratio</th>", out);
	}
	fputs("</tr>\n", out);
	for (size_t l = 0; l < t.nlines; l++) {
		const struct result_row *first = &r->rows[t.g.order[t.g.start[t.group[l]]]];

		row_params_text(first, params, sizeof(params));
		row_size_text(first, size, sizeof(size));
		fputs("<tr><td>", out);
		html_escape(out, first->op);
		fputs("</td><td>", out);
		html_escape(out, params);
		fprintf(out, "</td><td>%s</td><td>", size);
		html_escape(out, first->dtype);
		fputs("</td>", out);
		for (size_t c = 0; c < t.ncols; c++) {
			size_t i = t.cell[l * t.ncols + c];
			const struct result_row *row = i == NONE ? NULL : &r->rows[i];

			html_num(out, row ? row->gpu.median : NAN, 3);
			if (row) {
				fprintf(out, "<td class=\"%s\" title=\"", row_status_name(row->status));
				html_escape(out, row->reason);
				fprintf(out, "\">%s</td>", row_status_name(row->status));
			} else {
				fputs("<td>-</td>", out);
			}
			if (backend_is_peer(t.col[c]))
				html_num(out, ratio(r, &t, l, c), 2);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n<ul>\n", out);
	for (size_t c = 0; c < t.ncols; c++)
		if (backend_is_peer(t.col[c])) {
			peer_summary(r, &t, c, text, sizeof(text));
			fputs("<li>", out);
			html_escape(out, text);
			fputs("</li>\n", out);
		}
	fputs("</ul>\n", out);
	side_free(&t);
}
