/* cli/main.c: main() and the table of sub-commands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/vb.h"
#include "../ops/opencl_api.h" /* CL_TARGET_OPENCL_VERSION, as the backend is built */
#ifdef VB_HAVE_CUDA
#include <cuda.h>              /* CUDA_VERSION of the toolkit's headers */
#endif
#include "../probe/probe.h"
#include "../stacks/tiff.h"
#include "cli.h"
#include "options.h"

/* The sub-commands: dispatch, usage, and (with each one's option table) the man page and the
 * shell completions. */
static const struct cli_command commands[] = {
	{ "run", cmd_run, "run ops on a GPU beside their CPU reference: deltas, timings, a report",
	  &run_spec },
	{ "list", cmd_list, "list the ops with their parameters and comparison rules", &list_spec },
	{ "report", cmd_report, "a report read back: a page with plots (HTML), text or CSV",
	  &report_spec },
	{ "compare", cmd_compare, "two or more reports side by side: times, ratios, summaries",
	  &compare_spec },
	{ "probe", cmd_probe, "diagnose the OpenCL/CUDA set-up: what is broken and the fix",
	  &probe_spec },
	{ "info", cmd_info, "what voxbench understands of a TIFF file: dims, dtype, layout, voxel size",
	  &info_spec },
	{ "cache", cmd_cache, "where the kernel cache is, what it holds; --clear empties it",
	  &cache_spec },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* voxbench help --man | --completion[=bash|zsh] */
static const struct help_output {
	const char *arg;
	void (*print)(FILE *out, const struct cli_command *cmds, size_t n);
} help_outputs[] = {
	{ "--man", cli_print_man },
	{ "--completion", cli_print_bash_completion },
	{ "--completion=bash", cli_print_bash_completion },
	{ "--completion=zsh", cli_print_zsh_completion },
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

/* The version, and the OpenCL and CUDA headers this binary was built against. */
static void print_version(void)
{
	printf("voxbench %s\nbuilt with OpenCL headers for OpenCL %d.%d", VOXBENCH_VERSION,
	       CL_TARGET_OPENCL_VERSION / 100, CL_TARGET_OPENCL_VERSION / 10 % 10);
#ifdef VB_HAVE_CUDA
	printf(", CUDA %d.%d headers (cuda.h)\n", CUDA_VERSION / 1000, CUDA_VERSION / 10 % 100);
#else
	printf("; without CUDA (no cuda.h at build time: CUDA_HOME, or CUDA=0)\n");
#endif
}

static void print_usage(FILE *out)
{
	fprintf(out, "usage: voxbench <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'voxbench <command> --help' describes a command's options; 'voxbench help "
		     "--man' writes\nthe man page, 'voxbench help --completion[=zsh]' the shell "
		     "completion.\n");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	vb_cleanup_init(); /* a signal removes the temporary files voxbench is writing */

	/* voxbench help --man | --completion[=zsh]: from the tables */
	for (size_t i = 0; name && argc == 3 && strcmp(name, "help") == 0 &&
			   i < sizeof(help_outputs) / sizeof(help_outputs[0]); i++)
		if (strcmp(argv[2], help_outputs[i].arg) == 0) {
			help_outputs[i].print(stdout, commands, NCOMMANDS);
			return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAILED;
		}
	if (!name || strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "-h") == 0) {
		print_usage(stdout);
		return name ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		print_version();
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "voxbench: unknown command '%s'; see 'voxbench --help'\n", name);
	return EXIT_USAGE;
}
