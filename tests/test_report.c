/*
 * Unit tests of the readable reports, on the hand-made reports in tests/golden/ (their numbers
 * are checked by hand in tests/golden/README.md): locale-independent numbers, geometric means,
 * the log-log fit, the scaling section, row matching and ratios of compare, the CSV values, the
 * field checks of report_load, and the HTML page with and without gnuplot.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../reports/render.h"
#include "check.h"

static char golden_dir[4096];

static const char *golden(const char *name)
{
	static char path[4300];

	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	return path;
}

static void find_golden(void)
{
	const char *env = getenv("VB_GOLDEN");
	char here[4096];

	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(golden_dir, sizeof(golden_dir), "%s/golden", dirname(here));
	if (env && *env)
		snprintf(golden_dir, sizeof(golden_dir), "%s", env);
}

static void test_numbers(void)
{
	char buf[40];
	double v[] = { 4, 8, 2 }, bad[] = { 4, 0, 2 };

	CHECK(strcmp(fmt_num(buf, 0.25, 10), "0.25") == 0, "0.25 prints as 0.25 (%s)", buf);
	CHECK(strcmp(fmt_num(buf, 1234.5678, 10), "1234.5678") == 0, "1234.5678 keeps its digits");
	CHECK(strcmp(fmt_num(buf, 1e-7, 10), "1e-07") == 0, "1e-7 in exponent form (%s)", buf);
	CHECK(strcmp(fmt_num(buf, NAN, 10), "") == 0, "NaN prints as an empty field");
	CHECK_NEAR(geomean(v, 3), 4.0, 1e-12, "geometric mean of 4, 8, 2 is 4");
	CHECK(isnan(geomean(bad, 3)), "geometric mean with a zero is NaN");
	CHECK(isnan(geomean(v, 0)), "geometric mean of nothing is NaN");
}

static void test_fit(void)
{
	double n[5], t1[5], t15[5], same[5] = { 64, 64, 64, 64, 64 }, b, c, r2;

	for (int i = 0; i < 5; i++) {
		n[i] = pow(10, 3 + i);
		t1[i] = 3e-5 * n[i];
		t15[i] = 2e-9 * pow(n[i], 1.5);
	}
	CHECK(loglog_fit(n, t1, 5, &b, &c, &r2) == 0 && fabs(b - 1.0) <= 0.01 &&
		      fabs(c / 3e-5 - 1) < 1e-9 && fabs(r2 - 1) < 1e-12,
	      "t = 3e-5 * n^1.0 fits exponent %.6f (1.00 +/- 0.01), c %.3g, r2 %.6f", b, c, r2);
	CHECK(loglog_fit(n, t15, 5, &b, &c, &r2) == 0 && fabs(b - 1.5) < 1e-9,
	      "t = 2e-9 * n^1.5 fits exponent %.6f", b);
	CHECK(loglog_fit(same, t1, 5, &b, &c, &r2) == -1, "one distinct size gives no fit");
	CHECK(loglog_fit(n, same, 1, &b, &c, &r2) == -1, "one point gives no fit");
	t1[2] = -1;
	CHECK(loglog_fit(n, t1, 5, &b, &c, &r2) == -1, "a negative time gives no fit");
}

static const struct result_row *fit_row(const struct report *r, const struct scaling *s,
					size_t i)
{
	return &r->rows[s->groups.order[s->groups.start[s->fits[i].group]]];
}

static void test_scaling(void)
{
	struct loaded_report lr;
	struct scaling s;
	struct vb_err err;
	json_t *section;

	if (report_load(golden("report_scaling.json"), &lr, &err)) {
		CHECK(0, "golden scaling report loads: %s", err.msg);
		return;
	}
	CHECK(scaling_fit_report(&lr.rep, &s, &err) == VB_OK && s.n == 3,
	      "three fits: copy, gaussian_blur, mean_box f32 opencl (u8 and cuda have one size)");
	if (s.n == 3) {
		CHECK(strcmp(fit_row(&lr.rep, &s, 0)->op, "copy") == 0 && s.fits[0].nsizes == 4 &&
			      s.fits[0].npoints == 4 && fabs(s.fits[0].exponent - 1.0) <= 0.01 &&
			      fabs(s.fits[0].coefficient_ms / 1e-6 - 1) < 1e-6,
		      "copy: t = 1e-6 * n^1.0 fits exponent %.4f (1.00 +/- 0.01) over 4 sizes, the "
		      "skipped 512^3 left out", s.fits[0].exponent);
		CHECK_NEAR(s.fits[1].exponent, 1.5, 1e-6, "gaussian_blur: t = 1e-9 * n^1.5 fits "
			   "exponent %.4f", s.fits[1].exponent);
		CHECK_NEAR(s.fits[2].exponent, 0.9971432, 1e-6, "mean_box with +-2%% noise fits "
			   "exponent %.7f (0.9971432 by hand)", s.fits[2].exponent);
		CHECK_NEAR(s.fits[0].min_voxels, 32768, 0, "copy's smallest size is 32^3 voxels");
		CHECK_NEAR(s.fits[0].max_voxels, 16777216, 0, "copy's largest size is 256^3 voxels");
	}
	section = scaling_section_json(&lr.rep);
	CHECK(json_array_size(section) == 3 &&
		      fabs(json_real_value(json_object_get(json_array_get(section, 0), "exponent")) -
			   1.0) < 1e-6 &&
		      strcmp(json_string_value(json_object_get(json_array_get(section, 1), "op")),
			     "gaussian_blur") == 0,
	      "the scaling JSON section holds the three fits");
	json_decref(section);
	scaling_free(&s);
	report_unload(&lr);
}

/* Laptop, desktop, laptop again; on failure nothing stays loaded. */
static int load_pair(struct loaded_report lr[3])
{
	static const char *const names[] = { "report_laptop.json", "report_desktop.json",
					     "report_laptop.json" };
	struct vb_err err;

	for (int i = 0; i < 3; i++) {
		if (report_load(golden(names[i]), &lr[i], &err) == VB_OK)
			continue;
		CHECK(0, "golden %s loads: %s", names[i], err.msg);
		while (i-- > 0)
			report_unload(&lr[i]);
		return -1;
	}
	return 0;
}

/* The line whose row has this op (and, when given, this sigma_x). */
static size_t find_line(const struct comparison *c, const char *op, double sigma)
{
	for (size_t l = 0; l < c->nlines; l++) {
		const struct result_row *row = compare_line_row(c, l);

		if (strcmp(row->op, op) == 0 && (isnan(sigma) || row->params[0].value == sigma))
			return l;
	}
	return COMPARE_NONE;
}

static void check_gpu_comparison(const struct comparison *c)
{
	struct compare_summary s;
	size_t copy = find_line(c, "copy", NAN), sum = find_line(c, "sum_of_all_pixels", NAN);
	size_t g2 = find_line(c, "gaussian_blur", 2.0);
	char text[2048];

	CHECK(c->nlines == 7 && c->nshared == 3, "7 rows in all, 3 with a time in both (%zu, %zu)",
	      c->nlines, c->nshared);
	CHECK(copy != COMPARE_NONE && fabs(compare_line_time(c, copy, 1) /
					   compare_line_time(c, copy, 0) - 0.25) < 1e-12,
	      "copy: desktop/laptop time ratio 0.25");
	compare_summarize(c, 1, &s);
	CHECK_NEAR(s.geomean_speedup, 4.0, 1e-9, "desktop's geometric-mean speedup over the 3 "
		   "shared rows is 4 (speedups 4, 8, 2): %.6f", s.geomean_speedup);
	CHECK(s.most_line == find_line(c, "gaussian_blur", 1.0) && fabs(s.most_ratio - 0.125) < 1e-12,
	      "they differ most on gaussian_blur sigma 1 (ratio 0.125)");
	CHECK(compare_unmatched(c) == 3, "3 rows are not in every report (%zu)",
	      compare_unmatched(c));
	compare_unmatched_text(c, sum, text, sizeof(text));
	CHECK(sum != COMPARE_NONE && strstr(text, "only in A"), "sum_of_all_pixels listed as "
	      "only in A: %s", text);
	compare_unmatched_text(c, g2, text, sizeof(text));
	CHECK(g2 != COMPARE_NONE && strstr(text, "sigma_x=2") && strstr(text, "only in B"),
	      "gaussian_blur sigma 2 (other params) listed as only in B: %s", text);
	CHECK(!compare_line_shared(c, find_line(c, "maximum_z_projection", NAN)) &&
		      compare_line_matched(c, find_line(c, "maximum_z_projection", NAN)),
	      "maximum_z_projection is matched but not shared (skipped on the laptop)");
}

static void test_compare(void)
{
	struct loaded_report lr[3];
	struct comparison c;
	struct compare_summary s;
	struct vb_err err;

	if (load_pair(lr))
		return;
	if (compare_build(lr, 2, METRIC_GPU, &c, &err) == VB_OK) {
		check_gpu_comparison(&c);
		compare_free(&c);
	}
	if (compare_build(lr, 2, METRIC_TRANSFERS, &c, &err) == VB_OK) {
		compare_summarize(&c, 1, &s);
		CHECK_NEAR(s.geomean_speedup, cbrt(40.0), 1e-9, "with transfers: speedups 4, 5, 2 "
			   "give a geometric mean of 40^(1/3) = 3.42 (%.6f)", s.geomean_speedup);
		compare_free(&c);
	}
	if (compare_build(lr, 2, METRIC_CPU, &c, &err) == VB_OK) {
		compare_summarize(&c, 1, &s);
		CHECK_NEAR(s.geomean_speedup, 2.0, 1e-9, "CPU reference: the desktop is 2x faster");
		compare_free(&c);
	}
	if (compare_build(lr, 3, METRIC_GPU, &c, &err) == VB_OK) {
		compare_summarize(&c, 2, &s);
		CHECK(c.nshared == 3 && fabs(s.geomean_speedup - 1) < 1e-12,
		      "three reports: the laptop against itself has speedup 1 over the 3 shared rows");
		compare_free(&c);
	}
	for (int i = 0; i < 3; i++)
		report_unload(&lr[i]);
}

/* Line n (1-based) of text into buf. */
static void nth_line(const char *text, int n, char *buf, size_t len)
{
	for (int i = 1; i < n && text; i++)
		if ((text = strchr(text, '\n')))
			text++;
	snprintf(buf, len, "%.*s", text ? (int)strcspn(text, "\n") : 0, text ? text : "");
}

static void test_csv(void)
{
	static const char copy_line[] =
		"copy,math,,opencl,Golden Laptop GPU,blobs,64,64,64,262144,f32,pass,2,2,2,5,1,1,1.5,"
		"hit,8,8,4,2,2097152,1.048576,0.02097152,0,0,0,0,0.0001,";
	struct loaded_report lr;
	struct vb_err err;
	char *text = NULL, line[1024];
	size_t len = 0;
	FILE *f;

	if (report_load(golden("report_laptop.json"), &lr, &err)) {
		CHECK(0, "golden laptop report loads: %s", err.msg);
		return;
	}
	f = open_memstream(&text, &len);
	report_write_csv(&lr, f);
	fclose(f);
	nth_line(text, 2, line, sizeof(line));
	CHECK(strcmp(line, copy_line) == 0, "CSV copy row: %s", line);
	nth_line(text, 3, line, sizeof(line));
	CHECK(strncmp(line, "gaussian_blur,filter,sigma_x=1 sigma_y=1 sigma_z=1,", 51) == 0 &&
		      strstr(line, ",8,6.4,2097152,0.262144,0.00524288,"),
	      "CSV gaussian_blur row: speedup 8, 6.4 with transfers, 0.262144 GB/s: %s", line);
	nth_line(text, 5, line, sizeof(line));
	CHECK(strstr(line, "maximum_z_projection") && strstr(line, ",skip,,,,0,") &&
		      strstr(line, ",the device has no 64-bit atomics"),
	      "CSV skip row: empty times and the reason: %s", line);
	free(text);
	report_unload(&lr);
}

/* report_check_json on a report whose first row is replaced by row_json. */
static int check_row_text(const char *row_json, struct vb_err *err)
{
	char text[4096];
	json_t *root;
	int status;

	snprintf(text, sizeof(text), "{\"schema\": \"voxbench-report/1\", \"results\": [%s]}",
		 row_json);
	root = json_loads(text, 0, NULL);
	if (!root)
		return 99;
	status = report_check_json(root, "t.json", err);
	json_decref(root);
	return status;
}

#define GOOD_STACK "\"stack\": {\"width\": 4, \"height\": 4, \"depth\": 4, \"dtype\": \"f32\"}"
#define GOOD_GPU "\"gpu_ms\": {\"median\": 1.0}"

static void test_field_checks(void)
{
	static const struct { const char *row, *field; } bad[] = {
		{ "{\"backend\": \"opencl\", " GOOD_STACK ", \"status\": \"pass\", " GOOD_GPU "}",
		  "results[0].op is missing" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", \"stack\": {\"width\": \"4\", \"height\": 4, "
		  "\"depth\": 4, \"dtype\": \"f32\"}, \"status\": \"pass\", " GOOD_GPU "}",
		  "results[0].stack.width is the string" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", \"stack\": {\"width\": 1e300, \"height\": 4, "
		  "\"depth\": 4, \"dtype\": \"f32\"}, \"status\": \"pass\", " GOOD_GPU "}",
		  "results[0].stack.width is 1e+300" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", " GOOD_STACK ", \"status\": \"pass\", "
		  "\"gpu_ms\": {\"median\": -2}}", "results[0].gpu_ms.median is -2" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", " GOOD_STACK ", \"status\": \"maybe\", "
		  GOOD_GPU "}", "results[0].status" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", " GOOD_STACK ", \"status\": \"pass\", "
		  GOOD_GPU ", \"speedup\": 1e200}", "results[0].speedup is 1e+200" },
		{ "{\"op\": \"copy\", \"backend\": \"opencl\", " GOOD_STACK ", \"status\": \"pass\", "
		  GOOD_GPU ", \"params\": {\"sigma\": \"big\"}}", "results[0].params.sigma" },
		{ "7", "results[0] is 7" },
	};
	struct vb_err err;

	CHECK(check_row_text("{\"op\": \"copy\", \"backend\": \"opencl\", " GOOD_STACK ", "
			     "\"status\": \"pass\", " GOOD_GPU "}", &err) == VB_OK,
	      "a minimal good row passes the checks");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status = check_row_text(bad[i].row, &err);

		CHECK(status == VB_E_ARGS && strstr(err.msg, bad[i].field),
		      "refused naming '%s': %s", bad[i].field, status ? err.msg : "(accepted)");
	}
}

static void test_load_errors(void)
{
	struct loaded_report lr;
	struct vb_err err;
	char path[4300];
	FILE *f;

	CHECK(report_load(golden("report_schema2.json"), &lr, &err) == VB_E_ARGS &&
		      strstr(err.msg, "voxbench-report/2") && strstr(err.msg, "voxbench-report/1"),
	      "another major schema is refused: %s", err.msg);
	CHECK(report_load("/nonexistent/r.json", &lr, &err) == VB_E_ARGS &&
		      strstr(err.msg, "cannot read report"),
	      "a missing file is refused: %s", err.msg);
	snprintf(path, sizeof(path), "%s/truncated.json", getenv("TEST_TMP") ? getenv("TEST_TMP")
									  : "/tmp");
	if ((f = fopen(path, "w"))) {
		fputs("{\"schema\": \"voxbench-report/1\", \"results\": [{\"op\": \"co", f);
		fclose(f);
	}
	CHECK(report_load(path, &lr, &err) == VB_E_ARGS && strstr(err.msg, "not valid JSON"),
	      "truncated JSON is refused: %s", err.msg);
}

static int file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	int found = 0;

	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc((size_t)n + 1, 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
		found = strstr(buf, needle) != NULL;
	free(buf);
	fclose(f);
	return found;
}

static int page(const char *report, const char *dir, struct plot_outcome *o)
{
	struct html_options opt = { PLOTS_FILES };
	struct loaded_report lr;
	struct vb_err err;
	int status = report_load(golden(report), &lr, &err);

	if (status) {
		CHECK(0, "golden %s loads: %s", report, err.msg);
		return status;
	}
	if ((status = report_write_html(&lr, dir, &opt, o, &err)))
		CHECK(0, "page of %s: %s", report, err.msg);
	report_unload(&lr);
	return status;
}

static void test_html(void)
{
	const char *tmp = getenv("TEST_TMP") ? getenv("TEST_TMP") : "/tmp";
	char dir[4096], index[4200], svg[4200], prog[4096], note[1024];
	struct plot_outcome o;

	snprintf(dir, sizeof(dir), "%s/nognuplot", tmp);
	snprintf(index, sizeof(index), "%s/index.html", dir);
	setenv("VOXBENCH_GNUPLOT", "/nonexistent/gnuplot", 1);
	if (page("report_laptop.json", dir, &o) == 0)
		CHECK(strstr(o.note, "not found") && !o.drawn && file_has(index, "not found") &&
			      !file_has(index, "<svg") && file_has(index, "max |delta| 0.5"),
		      "no gnuplot: the page has the tables and the note '%s'", o.note);
	unsetenv("VOXBENCH_GNUPLOT");
	if (gnuplot_find(prog, sizeof(prog), note, sizeof(note))) {
		CHECK(1, "plots # SKIP gnuplot is not installed (%s)", note);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/sweep", tmp);
	snprintf(index, sizeof(index), "%s/index.html", dir);
	snprintf(svg, sizeof(svg), "%s/scaling.svg", dir);
	if (page("report_scaling.json", dir, &o) == 0)
		CHECK(o.drawn && o.nplots == 3 && file_has(index, "<svg") &&
			      file_has(svg, "CPU reference: n^1.00") &&
			      file_has(svg, "GPU opencl kernel: n^1.00") &&
			      file_has(svg, "math: geometric mean of 1 op") &&
			      !file_has(index, "<script"),
		      "with gnuplot: speedup and bandwidth panels, scaling per category (math: CPU "
		      "and GPU n^1.00) and backends plots inline (%zu plots, note '%s')", o.nplots,
		      o.note);
}

int main(void)
{
	find_golden();
	test_numbers();
	test_fit();
	test_scaling();
	test_compare();
	test_csv();
	test_field_checks();
	test_load_errors();
	test_html();
	CHECK_DONE();
}
