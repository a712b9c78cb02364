/*
 * reports/scaling.c: how an op's cost grows with the stack. Per op, params, dtype, backend and
 * device timed at two or more sizes, a least-squares line through (ln voxels, ln GPU ms):
 * time = c * voxels^exponent. An exponent near 1 is linear in the voxel count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define SCALING_PARTS (KEY_OP | KEY_PARAMS | KEY_DTYPE | KEY_BACKEND | KEY_DEVICE)

int loglog_fit(const double *n, const double *t, size_t count, double *exponent,
	       double *coefficient, double *r2)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0, b, sse = 0;

	for (size_t i = 0; i < count; i++) {
		if (!isfinite(n[i]) || !isfinite(t[i]) || n[i] <= 0 || t[i] <= 0)
			return -1;
		mx += log(n[i]);
		my += log(t[i]);
	}
	if (count < 2)
		return -1;
	mx /= (double)count;
	my /= (double)count;
	for (size_t i = 0; i < count; i++) {
		double dx = log(n[i]) - mx, dy = log(t[i]) - my;

		sxx += dx * dx;
		sxy += dx * dy;
		syy += dy * dy;
	}
	if (sxx <= 1e-24)
		return -1; /* a single distinct size: no slope */
	b = sxy / sxx;
	for (size_t i = 0; i < count; i++) {
		double e = log(t[i]) - (my + b * (log(n[i]) - mx));

		sse += e * e;
	}
	*exponent = b;
	*coefficient = exp(my - b * mx);
	*r2 = syy > 0 ? 1 - sse / syy : 1;
	return 0;
}

/* Rows that carry a usable time. */
static int timed(const struct result_row *row)
{
	return (row->status == ROW_PASS || row->status == ROW_FAIL) && isfinite(row->gpu.median) &&
	       row->gpu.median > 0;
}

static int double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static size_t distinct(double *v, size_t n)
{
	size_t k = n ? 1 : 0;

	qsort(v, n, sizeof(*v), double_cmp);
	for (size_t i = 1; i < n; i++)
		k += v[i] != v[i - 1];
	return k;
}

/* Fit group g into f; -1 when it has fewer than two sizes. x, y, tmp: scratch of its size. */
static int fit_group(const struct report *r, const struct row_groups *g, size_t group,
		     double *x, double *y, double *tmp, struct scaling_fit *f)
{
	size_t n = g->count[group];

	for (size_t i = 0; i < n; i++) {
		const struct result_row *row = &r->rows[g->order[g->start[group] + i]];

		x[i] = tmp[i] = row_voxels(row);
		y[i] = row->gpu.median;
	}
	memset(f, 0, sizeof(*f));
	f->group = group;
	f->npoints = n;
	f->nsizes = distinct(tmp, n);
	if (f->nsizes < 2 || loglog_fit(x, y, n, &f->exponent, &f->coefficient_ms, &f->r2))
		return -1;
	f->min_voxels = tmp[0];
	f->max_voxels = tmp[n - 1];
	return 0;
}

int scaling_fit_report(const struct report *r, struct scaling *s, struct vb_err *err)
{
	size_t rows = r->nrows ? r->nrows : 1;
	double *x = malloc(rows * sizeof(*x)), *y = malloc(rows * sizeof(*y));
	double *tmp = malloc(rows * sizeof(*tmp));
	int status;

	memset(s, 0, sizeof(*s));
	status = row_groups_make(r, SCALING_PARTS, timed, &s->groups, err);
	if (!status && (!x || !y || !tmp || !(s->fits = calloc(s->groups.n + 1, sizeof(*s->fits)))))
		status = vb_errf(err, VB_E_NOMEM, "out of host memory fitting the scaling");
	for (size_t g = 0; !status && g < s->groups.n; g++)
		if (fit_group(r, &s->groups, g, x, y, tmp, &s->fits[s->n]) == 0)
			s->n++;
	if (status)
		scaling_free(s);
	free(x);
	free(y);
	free(tmp);
	return status;
}

void scaling_free(struct scaling *s)
{
	row_groups_free(&s->groups);
	free(s->fits);
	memset(s, 0, sizeof(*s));
}

/* The first row of a fit's group: its op, params, dtype, backend and device. */
static const struct result_row *fit_row(const struct report *r, const struct scaling *s,
					const struct scaling_fit *f)
{
	return &r->rows[s->groups.order[s->groups.start[f->group]]];
}

void scaling_print(const struct report *r, const struct scaling *s, FILE *out)
{
	unsigned parts = KEY_OP | (report_varying(r) & (KEY_PARAMS | KEY_DTYPE | KEY_BACKEND |
							 KEY_DEVICE));

	if (!s->n)
		return;
	fprintf(out, "\nscaling: GPU time = c * voxels^exponent (least squares on logs)\n");
	fprintf(out, "%-40s %5s %9s %7s  %s\n", "op", "sizes", "exponent", "r2", "voxels");
	for (size_t i = 0; i < s->n; i++) {
		const struct scaling_fit *f = &s->fits[i];
		char label[512];

		row_label(fit_row(r, s, f), parts, label, sizeof(label));
		fprintf(out, "%-40s %5zu %9.3f %7.4f  %.0f .. %.0f\n", label, f->nsizes, f->exponent,
			f->r2, f->min_voxels, f->max_voxels);
	}
}

static json_t *params_object(const struct result_row *row)
{
	json_t *o = json_object();

	for (int i = 0; o && i < row->nparams && i < REPORT_MAX_PARAMS; i++)
		json_object_set_new(o, row->params[i].name,
				    row->params[i].is_int ? json_integer((json_int_t)row->params[i].value)
							  : json_real(row->params[i].value));
	return o;
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *fit_json(const struct result_row *row, const struct scaling_fit *f)
{
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "op",
			 row->op, "params", params_object(row), "dtype", row->dtype, "backend",
			 row->backend, "device", row->device, "points", (json_int_t)f->npoints,
			 "sizes", (json_int_t)f->nsizes, "exponent", real_or_null(f->exponent),
			 "coefficient_ms", real_or_null(f->coefficient_ms), "r2",
			 real_or_null(f->r2), "min_voxels", real_or_null(f->min_voxels),
			 "max_voxels", real_or_null(f->max_voxels));
}

json_t *scaling_section_json(const struct report *r)
{
	struct scaling s;
	json_t *arr = NULL;

	if (scaling_fit_report(r, &s, NULL))
		return NULL;
	if (s.n)
		arr = json_array();
	for (size_t i = 0; arr && i < s.n; i++) {
		json_t *o = fit_json(fit_row(r, &s, &s.fits[i]), &s.fits[i]);

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			arr = NULL;
		}
	}
	scaling_free(&s);
	return arr;
}
