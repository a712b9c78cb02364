/* cli/main.c: main() and the table of sub-commands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/vb.h"
#include "../probe/probe.h"
#include "../stacks/tiff.h"
#include "cli.h"
#include "options.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Each command's option table: parsing, --help, and the man page and completion below. */
static const struct cli_spec *const specs[] = {
	&run_spec, &list_spec, &report_spec, &compare_spec, &probe_spec, &info_spec,
};

static const struct command commands[] = {
	{ "run", cmd_run, "run ops on a GPU beside their CPU reference: deltas, timings, a report" },
	{ "list", cmd_list, "list the ops with their parameters and comparison rules" },
	{ "report", cmd_report, "a report read back: a page with plots (HTML), text or CSV" },
	{ "compare", cmd_compare, "two or more reports side by side: times, ratios, summaries" },
	{ "probe", cmd_probe, "diagnose the OpenCL/CUDA set-up: what is broken and the fix" },
	{ "info", cmd_info, "what voxbench understands of a TIFF file: dims, dtype, layout, voxel size" },
};

void print_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "voxbench %s: ", cmd);
	vb_fputs_escaped(msg, stderr);
	fputc('\n', stderr);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "voxbench %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void print_usage(FILE *out)
{
	fprintf(out, "usage: voxbench <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'voxbench <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	vb_cleanup_init(); /* a signal removes the temporary files voxbench is writing */

	/* voxbench help --man | --completion: from the option tables */
	if (name && strcmp(name, "help") == 0 && argc == 3 &&
	    (strcmp(argv[2], "--man") == 0 || strcmp(argv[2], "--completion") == 0)) {
		(argv[2][2] == 'm' ? cli_print_man : cli_print_completion)(
			stdout, specs, sizeof(specs) / sizeof(specs[0]));
		return EXIT_OK;
	}
	if (!name || strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "-h") == 0) {
		print_usage(stdout);
		return name ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("voxbench %s\n", VOXBENCH_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "voxbench: unknown command '%s'; see 'voxbench --help'\n", name);
	return EXIT_USAGE;
}
