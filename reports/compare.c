/*
 * reports/compare.c: two or more reports side by side (laptop vs desktop, OpenCL vs CUDA, driver
 * A vs driver B). Rows are matched by op, params, size, dtype and backend (the k-th of equal rows
 * in one report with the k-th in another); each machine's time, its ratio to the first report,
 * and per machine the geometric-mean speedup over the rows every report has. Rows that only
 * some reports have are listed, never dropped silently.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define KEY_LEN 1200

const char *compare_metric_name(enum compare_metric m)
{
	switch (m) {
	case METRIC_GPU: return "GPU ms";
	case METRIC_TRANSFERS: return "GPU ms with transfers";
	case METRIC_CPU: return "CPU ms";
	}
	return "ms";
}

double compare_time(const struct result_row *row, enum compare_metric m)
{
	double t = NAN;

	if (row->status != ROW_PASS && row->status != ROW_FAIL)
		return NAN;
	if (m == METRIC_GPU)
		t = row->gpu.median;
	else if (m == METRIC_TRANSFERS)
		t = row->gpu.median + row->h2d_ms + row->d2h_ms;
	else if (m == METRIC_CPU)
		t = row->cpu_ms;
	return isfinite(t) && t > 0 ? t : NAN;
}

void compare_letter(size_t i, char buf[8])
{
	if (i < 26)
		snprintf(buf, 8, "%c", (char)('A' + i));
	else
		snprintf(buf, 8, "R%zu", i + 1 < 99999 ? i + 1 : 99999);
}

/* ---- matching ---- */

struct mkey {
	const char *key;
	size_t occ;   /* 0 for the first row of this key in its report, 1 for the second... */
	size_t index; /* row index */
};

/* One report's rows, keyed and sorted by (key, occ); at[row] is a row's place in sorted. */
struct keyed_report {
	char *keys;
	struct mkey *sorted;
	size_t *at;
	unsigned char *taken;
	size_t n;
};

static int mkey_cmp(const void *a, const void *b)
{
	const struct mkey *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->occ != y->occ)
		return (x->occ > y->occ) - (x->occ < y->occ);
	return (x->index > y->index) - (x->index < y->index);
}

static void keyed_free(struct keyed_report *k)
{
	free(k->keys);
	free(k->sorted);
	free(k->at);
	free(k->taken);
	memset(k, 0, sizeof(*k));
}

static int keyed_make(const struct report *r, struct keyed_report *k)
{
	size_t n = r->nrows ? r->nrows : 1;

	memset(k, 0, sizeof(*k));
	k->keys = malloc(n * KEY_LEN);
	k->sorted = malloc(n * sizeof(*k->sorted));
	k->at = malloc(n * sizeof(*k->at));
	k->taken = calloc(n, 1);
	if (!k->keys || !k->sorted || !k->at || !k->taken)
		return -1;
	k->n = r->nrows;
	for (size_t i = 0; i < r->nrows; i++) {
		row_key(&r->rows[i], KEY_MATCH, k->keys + i * KEY_LEN, KEY_LEN);
		k->sorted[i] = (struct mkey){ k->keys + i * KEY_LEN, 0, i };
	}
	qsort(k->sorted, k->n, sizeof(*k->sorted), mkey_cmp); /* equal keys in row order */
	for (size_t i = 1; i < k->n; i++)
		if (strcmp(k->sorted[i].key, k->sorted[i - 1].key) == 0)
			k->sorted[i].occ = k->sorted[i - 1].occ + 1;
	for (size_t i = 0; i < k->n; i++)
		k->at[k->sorted[i].index] = i;
	return 0;
}

static size_t keyed_find(const struct keyed_report *k, const struct mkey *want)
{
	struct mkey probe = { want->key, want->occ, 0 };
	size_t lo = 0, hi = k->n;

	/* the first entry not below (key, occ, 0) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mkey_cmp(&k->sorted[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < k->n && strcmp(k->sorted[lo].key, want->key) == 0 && k->sorted[lo].occ == want->occ)
		return k->sorted[lo].index;
	return COMPARE_NONE;
}

/* A new line for row j of report i: that row and its match in every later report. */
static void add_line(struct comparison *c, struct keyed_report *k, size_t i, size_t j)
{
	size_t *cell = &c->cell[c->nlines * c->nreports];
	const struct mkey *m = &k[i].sorted[k[i].at[j]];

	for (size_t r = 0; r < c->nreports; r++)
		cell[r] = COMPARE_NONE;
	cell[i] = j;
	k[i].taken[j] = 1;
	for (size_t r = i + 1; r < c->nreports; r++) {
		size_t found = keyed_find(&k[r], m);

		if (found != COMPARE_NONE && !k[r].taken[found]) {
			cell[r] = found;
			k[r].taken[found] = 1;
		}
	}
	c->nlines++;
}

static int match(struct comparison *c, struct keyed_report *k)
{
	size_t total = 0;

	for (size_t i = 0; i < c->nreports; i++) {
		if (keyed_make(&c->reports[i].rep, &k[i]))
			return -1;
		total += c->reports[i].rep.nrows;
	}
	c->cell = malloc((total ? total : 1) * c->nreports * sizeof(*c->cell));
	if (!c->cell)
		return -1;
	for (size_t i = 0; i < c->nreports; i++)
		for (size_t j = 0; j < k[i].n; j++)
			if (!k[i].taken[j])
				add_line(c, k, i, j);
	for (size_t l = 0; l < c->nlines; l++)
		c->nshared += compare_line_shared(c, l);
	return 0;
}

int compare_build(const struct loaded_report *reports, size_t n, enum compare_metric metric,
		  struct comparison *c, struct vb_err *err)
{
	struct keyed_report *k = calloc(n ? n : 1, sizeof(*k));
	int status = VB_OK;

	memset(c, 0, sizeof(*c));
	c->reports = reports;
	c->nreports = n;
	c->metric = metric;
	if (!k || match(c, k)) {
		compare_free(c);
		status = vb_errf(err, VB_E_NOMEM, "out of host memory matching the rows of %zu "
				 "reports", n);
	}
	for (size_t i = 0; k && i < n; i++)
		keyed_free(&k[i]);
	free(k);
	return status;
}

void compare_free(struct comparison *c)
{
	free(c->cell);
	c->cell = NULL;
	c->nlines = c->nshared = 0;
}

const struct result_row *compare_line_row(const struct comparison *c, size_t line)
{
	for (size_t i = 0; i < c->nreports; i++) {
		size_t j = c->cell[line * c->nreports + i];

		if (j != COMPARE_NONE)
			return &c->reports[i].rep.rows[j];
	}
	return NULL;
}

/* The time of report i on a line, NaN when it has no usable one. */
static double line_time(const struct comparison *c, size_t line, size_t i)
{
	size_t j = c->cell[line * c->nreports + i];

	return j == COMPARE_NONE ? NAN : compare_time(&c->reports[i].rep.rows[j], c->metric);
}

int compare_line_shared(const struct comparison *c, size_t line)
{
	for (size_t i = 0; i < c->nreports; i++)
		if (!isfinite(line_time(c, line, i)))
			return 0;
	return 1;
}

void compare_summarize(const struct comparison *c, size_t report, struct compare_summary *s)
{
	double sum = 0, most = -1;

	memset(s, 0, sizeof(*s));
	s->most_line = COMPARE_NONE;
	s->most_ratio = NAN;
	for (size_t l = 0; l < c->nlines; l++) {
		double ratio;

		if (!compare_line_shared(c, l))
			continue;
		ratio = line_time(c, l, report) / line_time(c, l, 0);
		sum += log(ratio);
		s->nshared++;
		if (fabs(log(ratio)) > most) {
			most = fabs(log(ratio));
			s->most_line = l;
			s->most_ratio = ratio;
		}
	}
	s->geomean_speedup = s->nshared ? exp(-sum / (double)s->nshared) : NAN;
}

/* ---- text ---- */

static unsigned label_parts(const struct comparison *c)
{
	unsigned vary = 0;

	for (size_t i = 0; i < c->nreports; i++)
		vary |= report_varying(&c->reports[i].rep);
	return KEY_OP | (vary & (KEY_PARAMS | KEY_SIZE | KEY_DTYPE | KEY_BACKEND));
}

static void line_label(const struct comparison *c, size_t line, unsigned parts, char *buf,
		       size_t len)
{
	row_label(compare_line_row(c, line), parts, buf, len);
}

static void print_machines(const struct comparison *c, FILE *out)
{
	for (size_t i = 0; i < c->nreports; i++) {
		const struct report *r = &c->reports[i].rep;
		char letter[8];

		compare_letter(i, letter);
		/* the strings come from the reports: escaped, one line per machine */
		fprintf(out, "%-3s ", letter);
		vb_fputs_escaped(c->reports[i].path, out);
		fputs(": ", out);
		vb_fputs_escaped(r->host.hostname, out);
		for (size_t d = 0; d < r->ndevices; d++) {
			fputs(", ", out);
			vb_fputs_escaped(r->devices[d].name, out);
			fputs(" (", out);
			vb_fputs_escaped(r->devices[d].backend, out);
			fputs(", driver ", out);
			vb_fputs_escaped(r->devices[d].driver_version, out);
			fputc(')', out);
		}
		fputs(", ", out);
		vb_fputs_escaped(r->created, out);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* A time, or the row's status when it has none, or "-" when the report lacks the row. */
static void time_cell(const struct comparison *c, size_t line, size_t i, FILE *out)
{
	size_t j = c->cell[line * c->nreports + i];
	double t = line_time(c, line, i);

	if (isfinite(t))
		fprintf(out, " %11.4g", t);
	else
		fprintf(out, " %11s", j == COMPARE_NONE ? "-"
				      : row_status_name(c->reports[i].rep.rows[j].status));
}

static void ratio_cell(const struct comparison *c, size_t line, size_t i, FILE *out)
{
	double r = line_time(c, line, i) / line_time(c, line, 0);

	if (isfinite(r)) /* significant digits: a 1000x faster row is 0.001, never 0.000 */
		fprintf(out, r >= 0.1 ? " %8.3f" : " %8.3g", r);
	else
		fprintf(out, " %8s", "-");
}

static int label_width(const struct comparison *c, unsigned parts)
{
	size_t w = 2;

	for (size_t l = 0; l < c->nlines; l++) {
		char label[512];

		line_label(c, l, parts, label, sizeof(label));
		if (strlen(label) > w)
			w = strlen(label);
	}
	return w > 70 ? 70 : (int)w;
}

static void print_table(const struct comparison *c, FILE *out)
{
	unsigned parts = label_parts(c);
	int w = label_width(c, parts);
	char letter[8], head[32];

	fprintf(out, "%-*s", w, "row");
	for (size_t i = 0; i < c->nreports; i++) {
		compare_letter(i, letter);
		snprintf(head, sizeof(head), "%s ms", letter);
		fprintf(out, " %11s", head);
	}
	for (size_t i = 1; i < c->nreports; i++) {
		compare_letter(i, letter);
		snprintf(head, sizeof(head), "%s/A", letter);
		fprintf(out, " %8s", head);
	}
	fprintf(out, "\n");
	for (size_t l = 0; l < c->nlines; l++) {
		char label[512];

		line_label(c, l, parts, label, sizeof(label));
		fprintf(out, "%-*s", w, label);
		for (size_t i = 0; i < c->nreports; i++)
			time_cell(c, l, i, out);
		for (size_t i = 1; i < c->nreports; i++)
			ratio_cell(c, l, i, out);
		fputc('\n', out);
	}
}

/* Append ", " and text to buf (at *used, of len). */
static void append(char *buf, size_t len, size_t *used, const char *fmt, const char *a,
		   const char *b, const char *what)
{
	int w;

	if (*used >= len)
		return;
	w = snprintf(buf + *used, len - *used, fmt, a, b, what);
	*used += w > 0 ? (size_t)w : 0;
}

/* What a report's rows have in `part` ("512x512x256, 1024x1024x512"), at most a few. */
static void distinct(const struct report *r, int part, char *buf, size_t len)
{
	size_t used = 0, shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nrows && used < len; i++) {
		const struct result_row *row = &r->rows[i];
		char v[96];
		int seen = 0;

		if (part == 0)
			snprintf(v, sizeof(v), "%llux%llux%llu", (unsigned long long)row->width,
				 (unsigned long long)row->height, (unsigned long long)row->depth);
		else
			snprintf(v, sizeof(v), "%s", part == 1 ? row->dtype : part == 2 ? row->backend
										  : row->op);
		for (size_t j = 0; j < i && !seen; j++) {
			char w[96];
			const struct result_row *o = &r->rows[j];

			if (part == 0)
				snprintf(w, sizeof(w), "%llux%llux%llu", (unsigned long long)o->width,
					 (unsigned long long)o->height, (unsigned long long)o->depth);
			else
				snprintf(w, sizeof(w), "%s", part == 1 ? o->dtype : part == 2 ? o->backend
											: o->op);
			seen = strcmp(v, w) == 0;
		}
		if (seen)
			continue;
		if (++shown > 4) {
			append(buf, len, &used, "%s%s%s", ", ...", "", "");
			break;
		}
		append(buf, len, &used, "%s%s%s", used ? ", " : "", v, "");
	}
}

/*
 * Why report i shares no row with A: which of sizes, dtypes, backends and ops differ, and the
 * command that measures A's rows on this machine.
 */
static void no_match_text(const struct comparison *c, size_t i, char *buf, size_t len)
{
	static const char *const parts[] = { "sizes", "dtypes", "backends", "ops" };
	const struct report *a = &c->reports[0].rep, *b = &c->reports[i].rep;
	char letter[8], va[256], vb[256];
	size_t used = 0;
	int any = 0;

	compare_letter(i, letter);
	append(buf, len, &used, "%s vs A: %s%s", letter, "no row has a usable time in every report",
	       "");
	for (int p = 0; p < 4; p++) {
		distinct(a, p, va, sizeof(va));
		distinct(b, p, vb, sizeof(vb));
		if (!strcmp(va, vb))
			continue;
		append(buf, len, &used, "%s%s differ", any++ ? "; " : ": ", parts[p], "");
		used += (size_t)snprintf(buf + (used < len ? used : len), used < len ? len - used : 0,
					 " (A: %s; %s: %s)", va, letter, vb);
	}
	if (used < len)
		snprintf(buf + used, len - used, "; to measure A's rows here, run: voxbench run "
			 "--like %s", c->reports[0].path);
}

void compare_summary_text(const struct comparison *c, size_t i, char *buf, size_t len)
{
	struct compare_summary s;
	char letter[8], label[512];

	compare_summarize(c, i, &s);
	compare_letter(i, letter);
	if (!s.nshared) {
		no_match_text(c, i, buf, len);
		return;
	}
	line_label(c, s.most_line, KEY_MATCH, label, sizeof(label));
	/* the speedup (A / this) and the column's ratio (this / A) both said, in words too */
	snprintf(buf, len, s.geomean_speedup >= 0.1
		 ? "%s vs A: geometric-mean speedup %.3fx (A time / %s time) over %zu "
		   "shared rows: %s is %.3gx %s than A (%s/A time %.3g); differs most on %s (%s/A %.3g)"
		 : "%s vs A: geometric-mean speedup %.3gx (A time / %s time) over %zu "
		   "shared rows: %s is %.3gx %s than A (%s/A time %.3g); differs most on %s (%s/A %.3g)",
		 letter, s.geomean_speedup, letter, s.nshared, letter,
		 s.geomean_speedup >= 1 ? s.geomean_speedup : 1 / s.geomean_speedup,
		 s.geomean_speedup >= 1 ? "faster" : "slower", letter, 1 / s.geomean_speedup, label,
		 letter, s.most_ratio);
}

/* "A, C" for the reports that have a line. */
static void present_in(const struct comparison *c, size_t line, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->nreports && used < len; i++) {
		char letter[8];
		int w;

		if (c->cell[line * c->nreports + i] == COMPARE_NONE)
			continue;
		compare_letter(i, letter);
		w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", letter);
		used += w > 0 ? (size_t)w : 0;
	}
}

int compare_line_matched(const struct comparison *c, size_t line)
{
	for (size_t i = 0; i < c->nreports; i++)
		if (c->cell[line * c->nreports + i] == COMPARE_NONE)
			return 0;
	return 1;
}

size_t compare_unmatched(const struct comparison *c)
{
	size_t n = 0;

	for (size_t l = 0; l < c->nlines; l++)
		n += !compare_line_matched(c, l);
	return n;
}

void compare_unmatched_text(const struct comparison *c, size_t line, char *buf, size_t len)
{
	char label[512], where[256];

	line_label(c, line, KEY_MATCH, label, sizeof(label));
	present_in(c, line, where, sizeof(where));
	snprintf(buf, len, "%s: only in %s", label, where);
}

void compare_print(const struct comparison *c, FILE *out)
{
	size_t unmatched = compare_unmatched(c);
	char line[2048];

	print_machines(c, out);
	compare_print_settings(c, out);
	fprintf(out, "%s per row (ratio: this report's time / A's; below 1 is faster than A)\n",
		compare_metric_name(c->metric));
	print_table(c, out);
	fputc('\n', out);
	for (size_t i = 1; i < c->nreports; i++) {
		compare_summary_text(c, i, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	if (!unmatched)
		return;
	fprintf(out, "\nrows not in every report (%zu):\n", unmatched);
	for (size_t l = 0; l < c->nlines; l++) {
		if (compare_line_matched(c, l))
			continue;
		compare_unmatched_text(c, l, line, sizeof(line));
		fprintf(out, "  %s\n", line);
	}
}

/* ---- CSV ---- */

static void csv_header(const struct comparison *c, FILE *out)
{
	char letter[8];

	fputs("op,params,width,height,depth,dtype,backend", out);
	for (size_t i = 0; i < c->nreports; i++) {
		compare_letter(i, letter);
		fprintf(out, ",%s_ms,%s_status", letter, letter);
	}
	for (size_t i = 1; i < c->nreports; i++) {
		compare_letter(i, letter);
		fprintf(out, ",%s_over_A", letter);
	}
	fputc('\n', out);
}

static void csv_line(const struct comparison *c, size_t l, FILE *out)
{
	const struct result_row *row = compare_line_row(c, l);
	char params[512], num[40];

	row_params_text(row, params, sizeof(params));
	csv_field(out, row->op);
	fputc(',', out);
	csv_field(out, params);
	fprintf(out, ",%llu,%llu,%llu,", (unsigned long long)row->width,
		(unsigned long long)row->height, (unsigned long long)row->depth);
	csv_field(out, row->dtype);
	fputc(',', out);
	csv_field(out, row->backend);
	for (size_t i = 0; i < c->nreports; i++) {
		size_t j = c->cell[l * c->nreports + i];

		fprintf(out, ",%s,%s", fmt_num(num, line_time(c, l, i), 10),
			j == COMPARE_NONE ? "missing" : row_status_name(c->reports[i].rep.rows[j].status));
	}
	for (size_t i = 1; i < c->nreports; i++)
		fprintf(out, ",%s", fmt_num(num, line_time(c, l, i) / line_time(c, l, 0), 10));
	fputc('\n', out);
}

int compare_write_csv(const struct comparison *c, FILE *out)
{
	csv_header(c, out);
	for (size_t l = 0; l < c->nlines; l++)
		csv_line(c, l, out);
	return ferror(out) ? VB_E_IO : VB_OK;
}

/* ---- JSON ---- */

/* A finite number, else JSON null (a missing or unusable time). */
static json_t *number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_line(const struct comparison *c, size_t l)
{
	const struct result_row *row = compare_line_row(c, l);
	json_t *times = json_array(), *status = json_array(), *ratios = json_array();
	char params[512];

	row_params_text(row, params, sizeof(params));
	for (size_t i = 0; i < c->nreports; i++) {
		size_t j = c->cell[l * c->nreports + i];

		json_array_append_new(times, number_or_null(line_time(c, l, i)));
		json_array_append_new(status, json_string(j == COMPARE_NONE ? "missing" :
			row_status_name(c->reports[i].rep.rows[j].status)));
		if (i)
			json_array_append_new(ratios, number_or_null(line_time(c, l, i) /
								      line_time(c, l, 0)));
	}
	return json_pack("{s:o, s:o, s:[I,I,I], s:o, s:o, s:b, s:o, s:o, s:o}",
			 "op", vb_json_text(row->op), "params", vb_json_text(params),
			 "size", (json_int_t)row->width, (json_int_t)row->height,
			 (json_int_t)row->depth, "dtype", vb_json_text(row->dtype),
			 "backend", vb_json_text(row->backend),
			 "in_every_report", compare_line_matched(c, l),
			 "ms", times, "status", status, "over_first", ratios);
}

static json_t *json_summary(const struct comparison *c, size_t i)
{
	struct compare_summary s;
	char text[1024];

	compare_summarize(c, i, &s);
	compare_summary_text(c, i, text, sizeof(text));
	return json_pack("{s:I, s:o, s:I, s:o, s:o}", "report", (json_int_t)i,
			 "geomean_speedup_first_over_this", number_or_null(s.geomean_speedup),
			 "shared_lines", (json_int_t)s.nshared, "largest_ratio",
			 number_or_null(s.nshared ? s.most_ratio : NAN), "text", vb_json_text(text));
}

int compare_write_json(const struct comparison *c, FILE *out)
{
	json_t *doc = json_object(), *reports = json_array(), *summaries = json_array(),
	       *lines = json_array();
	int status;

	for (size_t i = 0; i < c->nreports; i++) {
		const struct report *r = &c->reports[i].rep;
		char letter[8];

		compare_letter(i, letter);
		json_array_append_new(reports, json_pack("{s:s, s:o, s:o, s:I}", "letter", letter,
							 "path", vb_json_text(c->reports[i].path), "host",
							 vb_json_text(r->host.hostname),
							 "rows", (json_int_t)r->nrows));
		if (i)
			json_array_append_new(summaries, json_summary(c, i));
	}
	for (size_t l = 0; l < c->nlines; l++)
		json_array_append_new(lines, json_line(c, l));
	json_object_set_new(doc, "schema", json_integer(1));
	json_object_set_new(doc, "metric", json_string(compare_metric_name(c->metric)));
	json_object_set_new(doc, "reports", reports);
	json_object_set_new(doc, "summaries", summaries);
	json_object_set_new(doc, "unmatched_lines", json_integer((json_int_t)compare_unmatched(c)));
	json_object_set_new(doc, "lines", lines);
	status = json_dumpf(doc, out, JSON_INDENT(1) | JSON_ENSURE_ASCII) == 0 && fputc('\n', out) != EOF
			 ? VB_OK : VB_E_IO;
	json_decref(doc);
	return status;
}

int compare_write_csv_file(const struct comparison *c, const char *path, struct vb_err *err)
{
	struct out_file o;
	int status = out_open(&o, path, err);

	if (status)
		return status;
	compare_write_csv(c, o.f);
	return out_commit(&o, err);
}

unsigned compare_label_parts(const struct comparison *c)
{
	return label_parts(c);
}

double compare_line_time(const struct comparison *c, size_t line, size_t report)
{
	return line_time(c, line, report);
}
