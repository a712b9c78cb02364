/*
 * cli/cmd_report.c: `voxbench report REPORT.json`: the report read back (never re-measured) as
 * a page (index.html with the plots inline, results.csv, the plots as SVG and PNG, the gnuplot
 * script), as a text table, or as CSV on stdout.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/render.h"
#include "cli.h"
#include "options.h"

static const struct cli_option report_options[] = {
	{ "html", 'H', "DIR", "write index.html (self-contained, plots inline), results.csv, the\n"
	  "plots (SVG, PNG) and their gnuplot script plots.gp into DIR\n"
	  "(default: REPORT.json's name without .json, beside it); prints the\n"
	  "page's path. DIR is replaced whole (new, empty or written by\n"
	  "voxbench before; a folder with other files is refused)", "@dir" },
	{ "text", 't', NULL, "print the table on the terminal instead (no files)" },
	{ "csv", 'c', NULL, "print every row as CSV on stdout instead (no files)" },
	{ "plots", 'p', "KIND", "svg (default): SVG and PNG through gnuplot; none: no plots;\n"
	  "dumb: the speedup chart drawn on the terminal (no files)", "svg dumb none" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec report_spec = {
	.command = "report",
	.usage = "usage: voxbench report REPORT.json [options]\n",
	.footer = "environment: VOXBENCH_GNUPLOT names the gnuplot program (\"\" turns plots off); "
		  "without\ngnuplot the page keeps its tables and says why the plots are missing\n"
		  "exit status: 0 done, 1 an output could not be written, 2 bad arguments or a bad "
		  "report\n",
	.options = report_options, .column = 19, .permute = 1, .shorts = "h",
};

struct report_args {
	const char *input, *html;
	int text, csv;
	enum plot_mode plots;
};

static int parse_plots(const char *kind, enum plot_mode *mode)
{
	if (strcmp(kind, "svg") == 0)
		*mode = PLOTS_FILES;
	else if (strcmp(kind, "dumb") == 0)
		*mode = PLOTS_DUMB;
	else if (strcmp(kind, "none") == 0)
		*mode = PLOTS_NONE;
	else
		return usage_error("report", "unknown --plots '%s': expected svg, dumb or none",
				   kind);
	return 0;
}

static int check_combination(const struct report_args *a)
{
	if (a->text && a->csv)
		return usage_error("report", "--text and --csv both print the rows: choose one");
	if (a->html && (a->text || a->csv || a->plots == PLOTS_DUMB))
		return usage_error("report", "--html writes files, --text, --csv and --plots dumb "
					     "print instead: choose one");
	if (a->csv && a->plots == PLOTS_DUMB)
		return usage_error("report", "--csv prints CSV only: leave out --plots dumb");
	return 0;
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
	struct vb_err err;
	int c, status = 0;

	memset(a, 0, sizeof(*a));
	a->plots = PLOTS_FILES;
	optind = 1;
	while (!status && (c = cli_getopt(argc, argv, &report_spec, NULL)) != -1) {
		switch (c) {
		case 'H': a->html = optarg; break;
		case 't': a->text = 1; break;
		case 'c': a->csv = 1; break;
		case 'p': status = parse_plots(optarg, &a->plots); break;
		case 'h': cli_print_help(stdout, &report_spec, NULL); return -1;
		default:
			return usage_error("report", "unknown or incomplete option '%s'; see "
						     "'voxbench report --help'", argv[optind - 1]);
		}
	}
	if (status)
		return status;
	if (optind >= argc)
		return usage_error("report", "no report given: pass the JSON file that 'voxbench run "
					     "--out' wrote");
	if (optind + 1 < argc)
		return usage_error("report", "unexpected argument '%s': report takes one report; "
					     "'voxbench compare' takes several", argv[optind + 1]);
	a->input = argv[optind];
	if (a->html && out_folder_check(a->html, &err))
		return usage_error("report", "%s", err.msg);
	return check_combination(a);
}

/* REPORT.json -> the folder REPORT beside it (REPORT-html when the name lacks .json). */
static char *default_folder(const char *input)
{
	size_t n = strlen(input);
	int json = n > 5 && strcmp(input + n - 5, ".json") == 0 && input[n - 6] != '/';
	char *dir;

	if (asprintf(&dir, "%.*s%s", (int)(json ? n - 5 : n), input, json ? "" : "-html") < 0)
		return NULL;
	return dir;
}

static int print_text(const struct loaded_report *lr, const struct report_args *a)
{
	struct plot_outcome outcome;
	struct scaling s;
	struct vb_err err;
	int status = EXIT_OK;
	/* what the report says goes to a terminal: no control character of it passes raw */
	FILE *out = a->text ? vb_escaping_stream(stdout) : NULL;

	if (a->text && !out) {
		fprintf(stderr, "voxbench report: out of host memory\n");
		return EXIT_FAILED;
	}
	if (a->text) {
		report_print_summary(lr, out);
		report_print_table(&lr->rep, out);
		if (scaling_fit_report(&lr->rep, &s, &err) == VB_OK) {
			scaling_print(&lr->rep, &s, out);
			scaling_free(&s);
		}
		fclose(out);
	}
	if (a->plots == PLOTS_DUMB) {
		if (report_plot_dumb(lr, &outcome, &err)) {
			print_error("report", err.msg);
			status = EXIT_FAILED;
		} else if (outcome.note[0]) {
			print_error("report", outcome.note);
		}
	}
	return status;
}

static int write_html(const struct loaded_report *lr, const struct report_args *a)
{
	struct html_options opt = { a->plots };
	struct plot_outcome outcome;
	char *dir = a->html ? strdup(a->html) : default_folder(a->input);
	struct vb_err err;
	int status = EXIT_OK;

	if (!dir) {
		fprintf(stderr, "voxbench report: out of host memory\n");
		return EXIT_FAILED;
	}
	if ((status = report_write_html(lr, dir, &opt, &outcome, &err))) {
		print_error("report", err.msg);
		status = status == VB_E_ARGS ? EXIT_USAGE : EXIT_FAILED; /* the default folder */
		goto out;
	}
	if (outcome.note[0] && a->plots == PLOTS_FILES)
		print_error("report", outcome.note);
	printf("%s/index.html\n", dir);
out:
	free(dir);
	return status;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a;
	struct loaded_report *lr = NULL;
	struct vb_err err;
	int status = parse_args(argc, argv, &a);

	if (status)
		return status < 0 ? EXIT_OK : status;
	lr = malloc(sizeof(*lr));
	if (!lr) {
		fprintf(stderr, "voxbench report: out of host memory\n");
		return EXIT_FAILED;
	}
	if ((status = report_load(a.input, lr, &err))) {
		print_error("report", err.msg);
		status = status == VB_E_ARGS ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	if (a.csv)
		status = report_write_csv(lr, stdout) ? EXIT_FAILED : EXIT_OK;
	else if (a.text || a.plots == PLOTS_DUMB)
		status = print_text(lr, &a);
	else
		status = write_html(lr, &a);
	report_unload(lr);
out:
	free(lr);
	return status;
}
