/* cli/cmd_probe.c: `voxbench probe`: its options; probe/ runs the checks (probe_run). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../probe/probe.h"
#include "cli.h"
#include "options.h"

static const struct cli_option probe_options[] = {
	{ "json", 'j', NULL, "print the report as JSON (schema " PROBE_SCHEMA ")" },
	{ "quick", 'q', NULL, "skip the micro-benchmarks" },
	{ "device", 'd', "SPEC", "test only devices matching SPEC: an index, gpu, cpu, or part of\n"
	  "a device or platform name", "gpu cpu" },
	{ "python", 'y', "PATH", "also check this Python interpreter's libraries (repeatable; they\n"
	  "are checked first, then $CONDA_PREFIX/bin/python and python3 on\n"
	  "PATH); --python none skips the Python section", "@file" },
	{ "help", 'h', NULL, "show this help" },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec probe_spec = {
	.command = "probe",
	.usage = "usage: voxbench probe [--json] [--quick] [--device SPEC] [--python PATH]...\n"
		 "\n"
		 "Diagnose this machine's OpenCL and CUDA set-up: the loader, the registered "
		 "drivers,\ndevice nodes, every platform and device (each driver in its own "
		 "process), a smoke\nkernel and micro-benchmarks per device, and the command that "
		 "fixes each problem.\n\n",
	.footer = "\nexit status: 0 a GPU passed the smoke test, 1 only CPU devices work,\n"
		  "             3 no working OpenCL device, 2 bad arguments\n"
		  "environment: VOXBENCH_OPENCL_LIBRARY (the loader to open instead of "
		  "libOpenCL.so.1),\n"
		  "             OCL_ICD_VENDORS, OCL_ICD_FILENAMES, OPENCL_VENDOR_PATH, TMPDIR,\n"
		  "             VOXBENCH_PYTHON_TIMEOUT (seconds per interpreter, default 120)\n",
	.options = probe_options, .column = 17, .permute = 0, .shorts = "",
};

/* Parse argv; returns -1 to go on, or the exit code to return now. */
static int parse_args(int argc, char **argv, struct probe_options *opt, int *json)
{
	int c;

	optind = 0; /* glibc: start over, whatever parsed argv before */
	while ((c = cli_getopt(argc, argv, &probe_spec, NULL)) != -1) {
		switch (c) {
		case 'j': *json = 1; break;
		case 'q': opt->quick = 1; break;
		case 'd': opt->device = optarg; break;
		case 'y':
			if (strcmp(optarg, "none") == 0) {
				opt->no_python = 1;
			} else if (opt->npython == PROBE_MAX_PYTHON) {
				fprintf(stderr, "voxbench probe: too many --python: at most %d\n",
					PROBE_MAX_PYTHON);
				return PROBE_EXIT_ARGS;
			} else {
				opt->python[opt->npython++] = optarg;
			}
			break;
		case 'h': cli_print_help(stdout, &probe_spec, NULL); return 0;
		default:
			if (optopt == 'd')
				fprintf(stderr, "voxbench probe: --device needs a value (an index, "
					"gpu, cpu, or part of a name)\n");
			else if (optopt == 'y')
				fprintf(stderr, "voxbench probe: --python needs the path of a Python "
					"interpreter, or none\n");
			else
				fprintf(stderr, "voxbench probe: unknown option '%s'; see "
					"'voxbench probe --help'\n", argv[optind - 1]);
			return PROBE_EXIT_ARGS;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "voxbench probe: unexpected argument '%s'; see 'voxbench probe "
			"--help'\n", argv[optind]);
		return PROBE_EXIT_ARGS;
	}
	return -1;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_options opt = { 0 };
	int json = 0, code = parse_args(argc, argv, &opt, &json);

	return code >= 0 ? code : probe_run(&opt, json);
}
