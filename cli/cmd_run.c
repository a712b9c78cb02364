/*
 * cli/cmd_run.c: `voxbench run`: its option table, the plan made from the options (bench/plan.c),
 * the probe, the devices, then bench_run (bench/loop.c); a text table on stdout, the JSON report
 * with --out, the summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../probe/probe.h"
#include "../reports/render.h"
#include "../reports/report.h"
#include "cli.h"
#include "options.h"

enum { PROBE_NONE, PROBE_QUICK, PROBE_FULL };
#define MAX_PARAM_ARGS 256 /* one per parameter name of every op, and room to spare */

/* The command line: the plan (bench/), and what only the command uses. */
struct run_args {
	struct bench_plan plan;
	const char *device, *out, *backend;
	const char *like;                      /* --like REPORT */
	int ops_given, params_given;           /* --ops, --param */
	int probe;                             /* PROBE_FULL, PROBE_QUICK or PROBE_NONE */
	struct out_target out_target;          /* where --out writes, checked before any work */
	int synthetic_options;                 /* --size, --dtype or --stack was given */
};

static const struct cli_option run_options[] = {
	{ "ops", 'o', "LIST",
	  "op names, categories or 'all' (default), comma-separated;\n"
	  "categories: %s", "@ops" },
	{ "backend", 'b', "NAME",
	  "opencl, cuda or all (default: all, every backend that loads)", "opencl cuda all" },
	{ "device", 'd', "SPEC",
	  "index, part of the device name (case-insensitive; 'h100' selects\n"
	  "the OpenCL and the CUDA view of that card), or 'all';\n"
	  "default: the first GPU of each backend, else the first device", "all" },
	{ "size", 's', "LIST",
	  "WxHxD sizes or N cubes, comma-separated, or 'auto'; several sizes\n"
	  "add a log-log fit per op (\"scaling\"); default: --suite standard\n"
	  "when every selected device is a GPU, else --suite quick" },
	{ "suite", 'Q', "NAME",
	  "standard: every op at 256x256x128 and 512x512x256, u16 and f32,\n"
	  "the same on every machine so reports compare row for row;\n"
	  "quick: every op at 128x128x64 f32", "standard quick" },
	{ "like", 'L', "REPORT",
	  "exactly the rows of another report (ops, parameters, sizes,\n"
	  "dtypes, stack, seed), to compare this machine with that one", "@file" },
	{ "sizes", 's', "LIST",
	  "the same as --size" },
	{ "dtype", 't', "LIST",
	  "u8, u16, u32, i32, f32 (default f32), comma-separated", "@list:u8 u16 u32 i32 f32" },
	{ "stack", 'k', "KIND",
	  "blobs (default), noise, binary, labels", "blobs noise binary labels" },
	{ "param", 'p', "NAME=VAL",
	  "set a parameter of every selected op that has it (repeatable)" },
	{ "repeat", 'r', "N",
	  "timed runs per op after one warm-up (default 5, 1..256)" },
	{ "cpu-threads", 'c', "N",
	  "threads of the CPU reference (default: all cores)" },
	{ "cpu-runs", 'U', "N",
	  "timed runs of the CPU reference, at most --repeat (default 3;\n"
	  "1 keeps runs short: no untimed warm-up run on small stacks either)" },
	{ "seed", 'S', "N",
	  "seed of the synthetic stacks (default 42)" },
	{ "input", 'i', "FILE",
	  "a TIFF stack instead of synthetic ones (repeatable); its dtype is used", "@file" },
	{ "channel", 'C', "C",
	  "the channel of a multi-channel file (default 0)" },
	{ "frame", 'F', "T|all",
	  "the frame of a 3D+time file, or all (default): one stack per frame", "all" },
	{ "save-outputs", 'D', "DIR",
	  "write each op's GPU output to DIR as TIFF (ImageJ metadata), named\n"
	  "OP_SIZE_DTYPE[_INPUT][_tT][_cC].tif", "@dir" },
	{ "save-reference", 'R', NULL,
	  "with --save-outputs, the CPU reference's output too" },
	{ "out", 'O', "FILE",
	  "write the JSON report to FILE (a file is replaced atomically; a\n"
	  "device or pipe is written in place; '-' is stdout, the table then\n"
	  "goes to stderr)", "@file" },
	{ "probe", 'P', "MODE",
	  "full (default): embed the probe's devices and measured copy\n"
	  "bandwidth; quick: without the benchmarks; none: skip it", "full quick none" },
	{ "overlap", 'V', "MODE",
	  "auto (default): when every device is a GPU, the CPU references\n"
	  "run on a thread of their own, ahead of the GPU side (one core\n"
	  "fewer for them unless --cpu-threads is given); on; off", "auto on off" },
	{ "peer", 'e', "NAME",
	  "also run the user's library on every op it has an equivalent\n"
	  "for, compared with the same CPU reference: pyclesperanto (rows\n"
	  "pyclesperanto-opencl, pyclesperanto-cuda) or cupy (repeatable)", "pyclesperanto cupy" },
	{ "python", 'y', "PATH",
	  "the interpreter to find the peers in first (repeatable; then\n"
	  "$CONDA_PREFIX/bin/python, python3 on PATH)", "@file" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec run_spec = {
	.command = "run",
	.usage = "usage: voxbench run [options]\n",
	.footer = "exit status: 0 all rows passed or were skipped, 1 a row failed or errored,\n"
		  "2 bad arguments, 3 no usable device\n",
	.options = run_options, .column = 21, .permute = 1, .shorts = "h",
};

/* --help, the op table's categories wrapped under --ops' text. */
static void print_usage(void)
{
	char categories[512] = "";
	size_t line = 0; /* characters on the current line after the indent */

	for (int c = 0; c < CAT_COUNT; c++) {
		const char *name = op_category_name((enum op_category)c);
		size_t used = strlen(categories);

		if (c && line + strlen(name) > 64) {
			snprintf(categories + used, sizeof(categories) - used, ",\n%21s", "");
			line = 0;
		} else if (c) {
			snprintf(categories + used, sizeof(categories) - used, ", ");
			line += 2;
		}
		used = strlen(categories);
		snprintf(categories + used, sizeof(categories) - used, "%s", name);
		line += strlen(name);
	}
	cli_print_help(stdout, &run_spec, categories);
}

/* A whole decimal number in [min, max]. */
static int parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * An option given an empty value ("--size ''", "--device="): refused, never read as the
 * default. opt indexes the table (getopt_long's longindex), -1 for a short option.
 */
static int refuse_empty(int opt, const char *value)
{
	if (opt < 0 || !run_options[opt].arg || !value || *value)
		return 0;
	return usage_error("run", "--%s is empty: give it a value or leave it out; see 'voxbench "
			   "run --help'", run_options[opt].name);
}

/* A plan-making call's error, as the command's one line (exit 2). */
static int plan_status(int status, const struct vb_err *err)
{
	return status ? usage_error("run", "%s", err->msg) : 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	struct bench_plan *p = &a->plan;
	const char *ops = "all", *param_args[MAX_PARAM_ARGS];
	int nparam_args = 0, c, status = 0, opt = -1;
	struct vb_err err;
	long v;

	memset(a, 0, sizeof(*a));
	bench_plan_init(p);
	a->probe = PROBE_FULL;
	optind = 1;
	while (!status && (opt = -1, c = cli_getopt(argc, argv, &run_spec, &opt)) != -1) {
		if ((status = refuse_empty(opt, optarg)))
			break;
		switch (c) {
		case 'o': ops = optarg; a->ops_given = 1; break;
		case 'Q':
			if (!bench_suite_known(optarg))
				return usage_error("run", "unknown suite '%s': expected standard or quick",
						   optarg);
			p->suite = optarg;
			break;
		case 'L': a->like = optarg; break;
		case 'd': a->device = optarg; break;
		case 'b':
			if (backend_name_check(optarg, &err))
				return usage_error("run", "%s", err.msg);
			a->backend = optarg;
			p->peer.backend = optarg;
			break;
		case 's':
			status = plan_status(bench_add_sizes(p, optarg, &err), &err);
			a->synthetic_options = 1;
			break;
		case 't':
			status = plan_status(bench_add_dtypes(p, optarg, &err), &err);
			a->synthetic_options = 1;
			break;
		case 'k': p->stack = optarg; a->synthetic_options = 1; break;
		case 'i':
			if (p->ninputs == BENCH_MAX_INPUTS)
				return usage_error("run", "too many --input files: at most %d",
						   BENCH_MAX_INPUTS);
			p->inputs[p->ninputs++] = optarg;
			break;
		case 'C':
			if (parse_long(optarg, 0, 65535, &v))
				return usage_error("run", "bad --channel '%s': expected 0 to 65535", optarg);
			p->channel = (int)v;
			break;
		case 'F':
			if (strcmp(optarg, "all") == 0)
				p->frame = BENCH_ALL_FRAMES;
			else if (parse_long(optarg, 0, 1000000, &v))
				return usage_error("run", "bad --frame '%s': expected a frame number or all",
						   optarg);
			else
				p->frame = (int)v;
			break;
		case 'D': p->save_dir = optarg; break;
		case 'R': p->save_reference = 1; break;
		case 'O': a->out = optarg; break;
		case 'p':
			if (nparam_args == MAX_PARAM_ARGS)
				return usage_error("run", "too many --param options: at most %d", MAX_PARAM_ARGS);
			param_args[nparam_args++] = optarg;
			a->params_given = 1;
			break;
		case 'r':
			if (parse_long(optarg, 1, 256, &v))
				return usage_error("run", "bad --repeat '%s': expected 1 to 256", optarg);
			p->repeat = (int)v;
			break;
		case 'c':
			if (parse_long(optarg, 1, 4096, &v))
				return usage_error("run", "bad --cpu-threads '%s': expected 1 to 4096",
						   optarg);
			p->cpu_threads = (int)v;
			p->cpu_threads_given = 1;
			break;
		case 'U':
			if (parse_long(optarg, 1, 3, &v))
				return usage_error("run", "bad --cpu-runs '%s': expected 1 to 3", optarg);
			p->cpu_runs = (int)v;
			break;
		case 'S':
			if (parse_long(optarg, 0, 2147483647L, &v))
				return usage_error("run", "bad --seed '%s': expected 0 to 2147483647",
						   optarg);
			p->seed = (uint64_t)v;
			break;
		case 'P':
			if (strcmp(optarg, "full") && strcmp(optarg, "quick") && strcmp(optarg, "none"))
				return usage_error("run", "bad --probe '%s': expected full, quick or none",
						   optarg);
			a->probe = optarg[0] == 'f' ? PROBE_FULL : optarg[0] == 'q' ? PROBE_QUICK : PROBE_NONE;
			break;
		case 'e':
			if (peer_request_add(&p->peer, optarg, &err))
				return usage_error("run", "%s", err.msg);
			break;
		case 'y':
			if (peer_python_add(&p->peer, optarg, &err))
				return usage_error("run", "%s", err.msg);
			break;
		case 'V':
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("run", "bad --overlap '%s': expected auto, on or off",
						   optarg);
			p->overlap = optarg[0] == 'a' ? OVERLAP_AUTO : optarg[1] == 'n' ? OVERLAP_ON
										  : OVERLAP_OFF;
			break;
		case 'h': print_usage(); return -1;
		default:
			return usage_error("run", "unknown or incomplete option '%s'; see "
						  "'voxbench run --help'", argv[optind - 1]);
		}
	}
	if (status)
		return status;
	if (optind < argc)
		return usage_error("run", "unexpected argument '%s'; see 'voxbench run --help'",
				   argv[optind]);
	if (p->suite && (a->synthetic_options || p->ninputs || a->like))
		return usage_error("run", "--suite sets the sizes and dtypes: drop --size, --dtype, "
				   "--stack, --input and --like");
	if (a->like && (a->synthetic_options || p->ninputs || a->ops_given || a->params_given))
		return usage_error("run", "--like takes the ops, parameters, sizes and dtypes from the "
				   "report: drop --ops, --param, --size, --dtype, --stack and --input");
	if ((status = plan_status(bench_select_ops(p, ops, &err), &err)))
		return status;
	if (p->suite && (status = plan_status(bench_apply_suite(p, p->suite, &err), &err)))
		return status;
	if (a->like && (status = plan_status(bench_apply_like(p, a->like, &err), &err)))
		return status;
	for (int i = 0; i < nparam_args && !status; i++)
		status = plan_status(bench_apply_param(p, param_args[i], &err), &err);
	if (!status && !bench_stack_known(p->stack))
		status = usage_error("run", "unknown stack '%s': expected blobs, noise, binary or "
					    "labels", p->stack);
	if (!status && a->out && out_target_check(a->out, &a->out_target, &err))
		status = usage_error("run", "%s", err.msg);
	if (!status && p->ninputs && a->synthetic_options)
		status = usage_error("run", "--input takes its size and dtype from the file: drop "
					    "--size, --dtype and --stack");
	if (!status)
		status = plan_status(bench_check_inputs(p, &err), &err);
	if (!status && p->save_dir)
		status = plan_status(bench_check_save_dir(p->save_dir, &err), &err);
	if (!status && p->save_reference && !p->save_dir)
		status = usage_error("run", "--save-reference needs --save-outputs DIR");
	if (!p->ndtypes)
		p->dtypes[p->ndtypes++] = DT_F32;
	return status;
}

/* The probe's device section (and measured bandwidths) into the report; a failure only warns. */
static void embed_probe(struct report *rep, int quick)
{
	struct probe_options opt = { .quick = quick, .device = NULL };
	json_t *section = json_object();
	struct vb_err err;

	if (probe_device_section(section, &opt, &err) == VB_OK)
		rep->probe_json = json_dumps(section, JSON_COMPACT);
	json_decref(section);
}

/*
 * Every OpenCL driver is loaded and listed in a child before this process's first OpenCL call
 * (probe/vet.c): one that crashes or hangs is left out, with a line naming it.
 */
static void vet_drivers(const struct run_args *a, struct vet *vet)
{
	char *line, *save = NULL;

	memset(vet, 0, sizeof(*vet));
	vet->slot = -1;
	if (a->backend && strcmp(a->backend, "cuda") == 0)
		return;
	probe_vet_opencl(vet);
	for (line = strtok_r(vet->notes, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		print_error("run", line);
}

/*
 * --cpu-threads within what can be started here: OpenMP aborts the run when a thread it is asked
 * for cannot be made (ulimit -u, ulimit -v). Twice as many must start now: the run's stacks
 * take address space later; else half of what could start is used.
 */
static void cap_cpu_threads(struct bench_plan *a)
{
	int want = a->cpu_threads, can;

	/* under ulimit -v, malloc's per-thread arenas (64 MiB of address space each) would take
	 * most of it: the threads share a few */
	if (vb_address_space_left() != UINT64_MAX)
		mallopt(M_ARENA_MAX, 2);
	can = vb_threads_startable(2 * want);

	if (can >= 2 * want)
		return;
	a->cpu_threads = can / 2 > 1 ? can / 2 : 1;
	omp_set_num_threads(a->cpu_threads); /* also the parallel loops that name no count */
	fprintf(stderr, "voxbench run: only %d thread%s can be started here (a process or memory "
		"limit: see ulimit -u and ulimit -v): the CPU reference uses %d of the %d asked for\n",
		can, can == 1 ? "" : "s", a->cpu_threads, want);
}

/* The JSON report to --out's target (reports/out_target.c). */
static int write_report(const struct report *rep, const struct out_target *t, struct vb_err *err)
{
	char *text = report_json_text(rep);
	int status;

	if (!text)
		return vb_errf(err, VB_E_NOMEM, "out of host memory writing the report to %s",
			       t->given);
	status = out_target_write(t, text, strlen(text), err);
	free(text);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct device_list all = { 0 }, chosen = { 0 };
	struct report rep = { 0 };
	struct vet vet;
	struct vb_err err;
	double started = vb_now_ms(), cpu_started = vb_cpu_ms(), probe_ms = NAN;
	int status;

	if (op_count > BENCH_MAX_OPS) {
		fprintf(stderr, "voxbench run: bug: %zu ops, more than BENCH_MAX_OPS\n", op_count);
		return EXIT_FAILED;
	}
	status = parse_args(argc, argv, &a);
	if (status)
		return status < 0 ? EXIT_OK : status;
	report_init(&rep, &err);
	vb_stop_graceful(); /* SIGTERM, SIGINT: stop between rows, write what there is */
	/* before any OpenCL call of ours: the probe enumerates each driver in a child first */
	if (a.probe != PROBE_NONE) {
		double t0 = vb_now_ms();

		embed_probe(&rep, a.probe == PROBE_QUICK);
		probe_ms = vb_now_ms() - t0;
	}
	vet_drivers(&a, &vet);
	status = devices_open_backend(&all, a.backend, &err);
	probe_vet_release(&vet); /* the loader has read its drivers */
	if (status) {
		fprintf(stderr, "voxbench run: %s\n", err.msg);
		report_free(&rep);
		return EXIT_NO_DEVICE;
	}
	status = devices_select(&all, a.device, &chosen, &err);
	if (status) {
		char hint[160];

		/* a small address-space limit keeps drivers from starting: say so */
		fprintf(stderr, "voxbench run: %s%s\n", err.msg,
			status == VB_E_NODEVICE ? vb_memory_limit_hint(hint) : "");
		devices_close(&all);
		report_free(&rep);
		return status == VB_E_NODEVICE ? EXIT_NO_DEVICE : EXIT_USAGE;
	}
	cap_cpu_threads(&a.plan);
	if (!a.plan.nsizes && !a.plan.ninputs && !a.synthetic_options && !a.like &&
	    (status = plan_status(bench_apply_suite(&a.plan, bench_all_gpus(&chosen) ? "standard"
						    : "quick", &err), &err))) {
		devices_close(&all);
		report_free(&rep);
		free(chosen.dev);
		return status;
	}
	status = bench_run(&a.plan, &chosen, &rep) ? EXIT_FAILED : EXIT_OK;
	report_finish(&rep); /* the load average as the rows end, into the report */
	rep.wall_ms = vb_now_ms() - started;
	rep.cpu_ms = vb_cpu_ms() - cpu_started;
	if ((rep.cut_signal = vb_stop_requested()))
		fprintf(stderr, "voxbench run: stopped by %s after %zu rows; the report holds "
			"them (\"cut\" says so)\n", strsignal(rep.cut_signal), rep.nrows);
	/* --out -: stdout is the report's, the table goes to stderr */
	report_print_table(&rep, a.out && a.out_target.kind == OUT_FD &&
			   a.out_target.fd == STDOUT_FILENO ? stderr : stdout);
	if (!status && a.out && write_report(&rep, &a.out_target, &err)) {
		fprintf(stderr, "voxbench run: %s\n", err.msg);
		status = EXIT_FAILED;
	}
	report_print_run_summary(&rep, vb_now_ms() - started, probe_ms, status ? NULL : a.out,
		      a.out && a.out_target.kind == OUT_FD && a.out_target.fd == STDOUT_FILENO
			      ? stderr : stdout);
	if (!status)
		status = bench_exit_status(&rep) ? EXIT_FAILED : EXIT_OK;
	report_free(&rep);
	free(chosen.dev);
	devices_close(&all);
	vb_stop_reraise(); /* cut: the report is safe; end by the signal, as the shell expects */
	return status;
}
