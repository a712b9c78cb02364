/*
 * cli/cmd_compare.c: `voxbench compare A.json B.json [C.json ...]`: reports side by side, rows
 * matched by op, params, size, dtype and backend; each machine's time and its ratio to A, a
 * summary line per machine, and the rows not every report has. --html adds a page with plots.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/render.h"
#include "cli.h"
#include "options.h"

#define MAX_REPORTS 64

static const struct cli_option compare_options[] = {
	{ "metric", 'm', "WHAT", "the time compared: gpu (default: median kernel time), transfers\n"
	  "(kernel + host-to-device + device-to-host), cpu (the CPU reference)", "gpu transfers cpu" },
	{ "html", 'H', "DIR", "also write DIR/index.html (tables, grouped bar plots inline as SVG),\n"
	  "DIR/compare.csv and the plots with their gnuplot script (DIR is\n"
	  "replaced whole, as with report --html)", "@dir" },
	{ "csv", 'c', NULL, "print the matched rows as CSV instead of the text table" },
	{ "json", 'j', NULL, "print the comparison as JSON instead of the text table: the\n"
	  "reports, each one's summary, every row's times, statuses, ratios" },
	{ "plots", 'p', "KIND", "svg (default) or none: the plots of --html", "svg none" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec compare_spec = {
	.command = "compare",
	.usage = "usage: voxbench compare A.json B.json [C.json ...] [options]\n",
	.footer = "rows are matched by op, params, size, dtype and backend; rows that only some "
		  "reports have\nare listed. exit status: 0 done, 1 an output could not be written, "
		  "2 bad arguments or a\nbad report (missing, not JSON, another schema version, a "
		  "damaged field)\n",
	.options = compare_options, .column = 19, .permute = 1, .shorts = "h",
};

struct compare_args {
	const char *html;
	int csv, json;
	enum compare_metric metric;
	enum plot_mode plots;
	int first, n; /* the report paths: argv[first .. first + n) */
};

static int parse_metric(const char *text, enum compare_metric *m)
{
	static const struct { const char *name; enum compare_metric m; } names[] = {
		{ "gpu", METRIC_GPU }, { "transfers", METRIC_TRANSFERS }, { "cpu", METRIC_CPU },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i].name) == 0) {
			*m = names[i].m;
			return 0;
		}
	}
	return usage_error("compare", "unknown --metric '%s': expected gpu, transfers or cpu",
			   text);
}

static int parse_plots(const char *text, enum plot_mode *mode)
{
	if (strcmp(text, "svg") == 0)
		*mode = PLOTS_FILES;
	else if (strcmp(text, "none") == 0)
		*mode = PLOTS_NONE;
	else
		return usage_error("compare", "unknown --plots '%s': expected svg or none", text);
	return 0;
}

static int parse_args(int argc, char **argv, struct compare_args *a)
{
	struct vb_err err;
	int c, status = 0;

	memset(a, 0, sizeof(*a));
	a->plots = PLOTS_FILES;
	optind = 1;
	while (!status && (c = cli_getopt(argc, argv, &compare_spec, NULL)) != -1) {
		switch (c) {
		case 'm': status = parse_metric(optarg, &a->metric); break;
		case 'H': a->html = optarg; break;
		case 'c': a->csv = 1; break;
		case 'j': a->json = 1; break;
		case 'p': status = parse_plots(optarg, &a->plots); break;
		case 'h': cli_print_help(stdout, &compare_spec, NULL); return -1;
		default:
			return usage_error("compare", "unknown or incomplete option '%s'; see "
						      "'voxbench compare --help'", argv[optind - 1]);
		}
	}
	if (status)
		return status;
	a->first = optind;
	a->n = argc - optind;
	if (a->n < 2)
		return usage_error("compare", "%s: pass two or more reports written by 'voxbench "
					      "run --out'", a->n ? "only one report given" : "no reports given");
	if (a->n > MAX_REPORTS)
		return usage_error("compare", "too many reports: at most %d", MAX_REPORTS);
	if (a->html && out_folder_check(a->html, &err))
		return usage_error("compare", "%s", err.msg);
	return 0;
}

static int load_all(char **paths, int n, struct loaded_report *reps)
{
	struct vb_err err;

	for (int i = 0; i < n; i++) {
		int status = report_load(paths[i], &reps[i], &err);

		if (status) {
			for (int k = 0; k < i; k++)
				report_unload(&reps[k]);
			print_error("compare", err.msg);
			return status == VB_E_ARGS ? EXIT_USAGE : EXIT_FAILED;
		}
	}
	return EXIT_OK;
}

static int write_html(const struct comparison *c, const struct compare_args *a)
{
	struct plot_outcome outcome;
	struct vb_err err;

	if (compare_write_html(c, a->html, a->plots, &outcome, &err)) {
		print_error("compare", err.msg);
		return EXIT_FAILED;
	}
	if (outcome.note[0] && a->plots == PLOTS_FILES)
		print_error("compare", outcome.note);
	fprintf(a->csv || a->json ? stderr : stdout, "\n%s/index.html\n", a->html);
	return EXIT_OK;
}

static int run_compare(const struct loaded_report *reps, const struct compare_args *a)
{
	struct comparison c;
	struct vb_err err;
	int status;

	if (compare_build(reps, (size_t)a->n, a->metric, &c, &err)) {
		print_error("compare", err.msg);
		return EXIT_FAILED;
	}
	if (a->json) {
		status = compare_write_json(&c, stdout) ? EXIT_FAILED : EXIT_OK;
	} else if (a->csv) {
		status = compare_write_csv(&c, stdout) ? EXIT_FAILED : EXIT_OK;
	} else {
		/* the reports' strings go to a terminal: no control character of them passes raw */
		FILE *out = vb_escaping_stream(stdout);

		compare_print(&c, out ? out : stdout);
		if (out)
			fclose(out);
		status = EXIT_OK;
	}
	if (!status && a->html)
		status = write_html(&c, a);
	compare_free(&c);
	return status;
}

int cmd_compare(int argc, char **argv)
{
	struct compare_args a;
	struct loaded_report *reps = NULL;
	int status = parse_args(argc, argv, &a);

	if (status)
		return status < 0 ? EXIT_OK : status;
	reps = calloc((size_t)a.n, sizeof(*reps));
	if (!reps) {
		fprintf(stderr, "voxbench compare: out of host memory\n");
		return EXIT_FAILED;
	}
	if ((status = load_all(argv + a.first, a.n, reps)))
		goto out;
	status = run_compare(reps, &a);
	for (int i = 0; i < a.n; i++)
		report_unload(&reps[i]);
out:
	free(reps);
	return status;
}
