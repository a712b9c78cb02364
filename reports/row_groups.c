/* reports/row_groups.c: what identifies a row (keys, labels) and rows grouped by equal key. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define KEY_LEN 1200

static int param_cmp(const void *a, const void *b)
{
	return strcmp(((const struct param_value *)a)->name, ((const struct param_value *)b)->name);
}

/* The row's parameters sorted by name into sorted[]; how many. */
static int sorted_params(const struct result_row *row, struct param_value sorted[REPORT_MAX_PARAMS])
{
	int n = row->nparams < REPORT_MAX_PARAMS ? row->nparams : REPORT_MAX_PARAMS;

	if (n <= 0)
		return 0;
	memcpy(sorted, row->params, (size_t)n * sizeof(sorted[0]));
	qsort(sorted, (size_t)n, sizeof(sorted[0]), param_cmp);
	return n;
}

void row_params_text(const struct result_row *row, char *buf, size_t len)
{
	struct param_value sorted[REPORT_MAX_PARAMS];
	int n = sorted_params(row, sorted);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		char num[40];
		int w = snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", sorted[i].name,
				 fmt_num(num, sorted[i].value, 10));

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* Whether sorted[i..i+2] are stem_x, stem_y, stem_z of one value. */
static int xyz_triple(const struct param_value *p, int i, int n)
{
	size_t len = strlen(p[i].name);

	if (i + 2 >= n || len < 3 || strcmp(p[i].name + len - 2, "_x") != 0)
		return 0;
	for (int k = 1; k <= 2; k++)
		if (strlen(p[i + k].name) != len || strncmp(p[i].name, p[i + k].name, len - 1) ||
		    p[i + k].name[len - 1] != "xyz"[k] || p[i + k].value != p[i].value)
			return 0;
	return 1;
}

void row_params_compact(const struct result_row *row, char *buf, size_t len)
{
	struct param_value sorted[REPORT_MAX_PARAMS];
	int n = sorted_params(row, sorted);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && used < len; i++) {
		char num[40];
		int triple = xyz_triple(sorted, i, n), w;

		w = snprintf(buf + used, len - used, "%s%.*s%s=%s", i ? " " : "",
			     triple ? (int)strlen(sorted[i].name) - 2 : (int)strlen(sorted[i].name),
			     sorted[i].name, triple ? "_xyz" : "", fmt_num(num, sorted[i].value, 10));
		if (w < 0)
			break;
		used += (size_t)w;
		i += triple ? 2 : 0;
	}
}

void row_size_text(const struct result_row *row, char *buf, size_t len)
{
	snprintf(buf, len, "%llux%llux%llu", (unsigned long long)row->width,
		 (unsigned long long)row->height, (unsigned long long)row->depth);
}

double row_voxels(const struct result_row *row)
{
	return (double)row->width * (double)row->height * (double)row->depth;
}

/* Append part to buf after sep (sep left out before the first part or an empty part). */
static void append(char *buf, size_t len, size_t *used, const char *sep, const char *part,
		   int keep_empty)
{
	int w;

	if (*used >= len || (!part[0] && !keep_empty))
		return;
	w = snprintf(buf + *used, len - *used, "%s%s", *used ? sep : "", part);
	if (w > 0)
		*used += (size_t)w;
}

static void join_parts(const struct result_row *row, unsigned parts, const char *sep,
		       int keep_empty, char *buf, size_t len)
{
	char params[512], size[80];
	size_t used = 0;

	buf[0] = '\0';
	params[0] = size[0] = '\0';
	if (parts & KEY_PARAMS)
		row_params_text(row, params, sizeof(params));
	if (parts & KEY_SIZE)
		row_size_text(row, size, sizeof(size));
	if (parts & KEY_OP)
		append(buf, len, &used, sep, row->op, keep_empty);
	if (parts & KEY_PARAMS)
		append(buf, len, &used, sep, params, keep_empty);
	if (parts & KEY_SIZE)
		append(buf, len, &used, sep, size, keep_empty);
	if (parts & KEY_DTYPE)
		append(buf, len, &used, sep, row->dtype, keep_empty);
	if (parts & KEY_BACKEND)
		append(buf, len, &used, sep, row->backend, keep_empty);
	if (parts & KEY_DEVICE)
		append(buf, len, &used, sep, row->device, keep_empty);
}

void row_key(const struct result_row *row, unsigned parts, char *buf, size_t len)
{
	/* a leading marker keeps the first part from being "empty" when it is "" */
	snprintf(buf, len, "k");
	if (len > 1)
		join_parts(row, parts, "\x1f", 1, buf + 1, len - 1);
}

void row_label(const struct result_row *row, unsigned parts, char *buf, size_t len)
{
	char raw[KEY_LEN];

	/* for people: a report's op or device name may hold control characters */
	join_parts(row, parts, " ", 0, raw, sizeof(raw));
	vb_escape_text(raw, buf, len);
}

/* Whether some op appears with two sets of parameters. */
static int params_vary(const struct report *r)
{
	struct row_groups g;
	int vary = 0;

	if (row_groups_make(r, KEY_OP, NULL, &g, NULL))
		return 0;
	for (size_t i = 0; i < g.n && !vary; i++) {
		char first[512], other[512];

		row_params_text(&r->rows[g.order[g.start[i]]], first, sizeof(first));
		for (size_t k = 1; k < g.count[i] && !vary; k++) {
			row_params_text(&r->rows[g.order[g.start[i] + k]], other, sizeof(other));
			vary = strcmp(first, other) != 0;
		}
	}
	row_groups_free(&g);
	return vary;
}

unsigned report_varying(const struct report *r)
{
	const struct result_row *first = r->rows;
	unsigned vary = params_vary(r) ? KEY_PARAMS : 0;

	for (size_t i = 1; i < r->nrows; i++) {
		const struct result_row *row = &r->rows[i];

		if (row->width != first->width || row->height != first->height ||
		    row->depth != first->depth)
			vary |= KEY_SIZE;
		if (strcmp(row->dtype, first->dtype) != 0)
			vary |= KEY_DTYPE;
		if (strcmp(row->backend, first->backend) != 0)
			vary |= KEY_BACKEND;
		if (strcmp(row->device, first->device) != 0)
			vary |= KEY_DEVICE;
	}
	return vary;
}

/* ---- grouping ---- */

struct keyed {
	const char *key;
	size_t index;
};

struct run {
	size_t first, start, count; /* first row index; position and length in the sorted keys */
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* Keys of the kept rows, sorted; returns the count. */
static size_t sorted_keys(const struct report *r, unsigned parts,
			  int (*keep)(const struct result_row *), struct keyed *k, char *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nrows; i++) {
		if (keep && !keep(&r->rows[i]))
			continue;
		row_key(&r->rows[i], parts, keys + n * KEY_LEN, KEY_LEN);
		k[n].key = keys + n * KEY_LEN;
		k[n].index = i;
		n++;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	return n;
}

static size_t find_runs(const struct keyed *k, size_t n, struct run *runs)
{
	size_t nruns = 0;

	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(k[i].key, k[i - 1].key) != 0)
			runs[nruns++] = (struct run){ k[i].index, i, 0 };
		runs[nruns - 1].count++;
	}
	qsort(runs, nruns, sizeof(*runs), run_cmp);
	return nruns;
}

static void fill_groups(const struct keyed *k, const struct run *runs, size_t nruns,
			struct row_groups *g)
{
	size_t pos = 0;

	g->n = nruns;
	for (size_t i = 0; i < nruns; i++) {
		g->start[i] = pos;
		g->count[i] = runs[i].count;
		for (size_t j = 0; j < runs[i].count; j++)
			g->order[pos++] = k[runs[i].start + j].index;
	}
}

int row_groups_make(const struct report *r, unsigned parts,
		    int (*keep)(const struct result_row *), struct row_groups *g,
		    struct vb_err *err)
{
	size_t rows = r->nrows ? r->nrows : 1;
	struct keyed *k = malloc(rows * sizeof(*k));
	struct run *runs = malloc(rows * sizeof(*runs));
	char *keys = malloc(rows * KEY_LEN);
	int status = VB_OK;

	memset(g, 0, sizeof(*g));
	g->order = malloc(rows * sizeof(*g->order));
	g->start = malloc(rows * sizeof(*g->start));
	g->count = malloc(rows * sizeof(*g->count));
	if (!k || !runs || !keys || !g->order || !g->start || !g->count) {
		row_groups_free(g);
		status = vb_errf(err, VB_E_NOMEM, "out of host memory grouping %zu rows", r->nrows);
		goto out;
	}
	fill_groups(k, runs, find_runs(k, sorted_keys(r, parts, keep, k, keys), runs), g);
out:
	free(k);
	free(runs);
	free(keys);
	return status;
}

void row_groups_free(struct row_groups *g)
{
	free(g->order);
	free(g->start);
	free(g->count);
	memset(g, 0, sizeof(*g));
}
