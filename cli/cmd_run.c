/*
 * cli/cmd_run.c: `voxbench run`: every selected op x size x dtype x device, measured beside its
 * CPU reference; a text table on stdout, the JSON report with --out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ops/ops.h"
#include "../ops/peers.h"
#include "../probe/probe.h"
#include "../reports/render.h"
#include "../reports/report.h"
#include "../stacks/stack.h"
#include "../stacks/tiff.h"
#include "cli.h"

#define MAX_SIZES 16

enum { PROBE_NONE, PROBE_QUICK, PROBE_FULL };
enum { OVERLAP_AUTO, OVERLAP_ON, OVERLAP_OFF };
#define MAX_PARAM_ARGS 256 /* one per parameter name of every op, and room to spare */
#define MAX_INPUTS 16
#define ALL_FRAMES (-1)

/* More rows than this in op_table is a build error caught at start-up (cmd_run). */
#define RUN_MAX_OPS 512

struct run_args {
	int selected[RUN_MAX_OPS];                 /* per op_table row */
	double params[RUN_MAX_OPS][OP_MAX_PARAMS]; /* per op_table row */
	size_t sizes[MAX_SIZES][3];
	int nsizes;                            /* 0: size chosen per device */
	enum dtype dtypes[DT_COUNT];
	int ndtypes;
	const char *device, *stack, *out, *backend;
	int repeat, cpu_threads, cpu_runs;
	int cpu_threads_given;                 /* --cpu-threads, not the default */
	int overlap;                           /* OVERLAP_AUTO, _ON or _OFF */
	const char *suite, *like;              /* --suite NAME, --like REPORT */
	int ops_given, params_given;           /* --ops, --param */
	int probe;                             /* PROBE_FULL, PROBE_QUICK or PROBE_NONE */
	const char *inputs[MAX_INPUTS];        /* TIFF files instead of synthetic stacks */
	size_t input_frames[MAX_INPUTS];       /* frames in each file */
	char input_sha256[MAX_INPUTS][65];     /* of each file, read once */
	int ninputs, channel, frame;           /* frame: ALL_FRAMES or one */
	const char *save_dir;
	int save_reference;
	struct out_target out_target;          /* where --out writes, checked before any work */
	int synthetic_options;                 /* --size, --dtype or --stack was given */
	struct peer_request peer;              /* --peer NAME, --python PATH */
	uint64_t seed;
};

static const char run_usage[] =
	"usage: voxbench run [options]\n"
	"  --ops LIST         op names, categories or 'all' (default), comma-separated;\n"
	"                     categories: %s\n"
	"  --backend NAME     opencl, cuda or all (default: all, every backend that loads)\n"
	"  --device SPEC      index, part of the device name (case-insensitive; 'h100' selects\n"
	"                     the OpenCL and the CUDA view of that card), or 'all';\n"
	"                     default: the first GPU of each backend, else the first device\n"
	"  --size LIST        WxHxD sizes or N cubes, comma-separated, or 'auto'; several sizes\n"
	"                     add a log-log fit per op (\"scaling\"); default: --suite standard\n"
	"                     when every selected device is a GPU, else --suite quick\n"
	"  --suite NAME       standard: every op at 256x256x128 and 512x512x256, u16 and f32,\n"
	"                     the same on every machine so reports compare row for row;\n"
	"                     quick: every op at 128x128x64 f32\n"
	"  --like REPORT      exactly the rows of another report (ops, parameters, sizes,\n"
	"                     dtypes, stack, seed), to compare this machine with that one\n"
	"  --sizes LIST       the same as --size\n"
	"  --dtype LIST       u8, u16, u32, i32, f32 (default f32), comma-separated\n"
	"  --stack KIND       blobs (default), noise, binary, labels\n"
	"  --param NAME=VAL   set a parameter of every selected op that has it (repeatable)\n"
	"  --repeat N         timed runs per op after one warm-up (default 5, 1..256)\n"
	"  --cpu-threads N    threads of the CPU reference (default: all cores)\n"
	"  --cpu-runs N       timed runs of the CPU reference, at most --repeat (default 3;\n"
	"                     1 keeps runs short: no untimed warm-up run on small stacks either)\n"
	"  --seed N           seed of the synthetic stacks (default 42)\n"
	"  --input FILE       a TIFF stack instead of synthetic ones (repeatable); its dtype is used\n"
	"  --channel C        the channel of a multi-channel file (default 0)\n"
	"  --frame T|all      the frame of a 3D+time file, or all (default): one stack per frame\n"
	"  --save-outputs DIR write each op's GPU output to DIR as TIFF (ImageJ metadata), named\n"
	"                     OP_SIZE_DTYPE[_INPUT][_tT][_cC].tif\n"
	"  --save-reference   with --save-outputs, the CPU reference's output too\n"
	"  --out FILE         write the JSON report to FILE (a file is replaced atomically; a\n"
	"                     device or pipe is written in place; '-' is stdout, the table then\n"
	"                     goes to stderr)\n"
	"  --probe MODE       full (default): embed the probe's devices and measured copy\n"
	"                     bandwidth; quick: without the benchmarks; none: skip it\n"
	"  --overlap MODE     auto (default): when every device is a GPU, the CPU references\n"
	"                     run on a thread of their own, ahead of the GPU side (one core\n"
	"                     fewer for them unless --cpu-threads is given); on; off\n"
	"  --peer NAME        also run the user's library on every op it has an equivalent\n"
	"                     for, compared with the same CPU reference: pyclesperanto (rows\n"
	"                     pyclesperanto-opencl, pyclesperanto-cuda) or cupy (repeatable)\n"
	"  --python PATH      the interpreter to find the peers in first (repeatable; then\n"
	"                     $CONDA_PREFIX/bin/python, python3 on PATH)\n"
	"exit status: 0 all rows passed or were skipped, 1 a row failed or errored,\n"
	"2 bad arguments, 3 no usable device\n";

/* run_usage with the categories of the op table, wrapped under the option's text. */
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
	printf(run_usage, categories);
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
 * default. opt indexes options (getopt_long's longindex), -1 for a short option.
 */
static int refuse_empty(const struct option *options, int opt, const char *value)
{
	if (!options || opt < 0 || options[opt].has_arg != required_argument || !value || *value)
		return 0;
	return usage_error("run", "--%s is empty: give it a value or leave it out; see 'voxbench "
			   "run --help'", options[opt].name);
}

/* Call fn on each comma-separated token of list (a copy); stops at the first non-zero. */
static int each_token(const char *list, int (*fn)(struct run_args *, const char *),
		      struct run_args *a)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t n = strlen(list);
	int status = copy ? 0 : EXIT_USAGE;

	/* strtok_r would skip "a,,b"'s empty item silently */
	if (n && (list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,"))) {
		free(copy);
		return usage_error("run", "empty item in '%s': remove the extra comma", list);
	}
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !status;
	     tok = strtok_r(NULL, ",", &save))
		status = fn(a, tok);
	free(copy);
	return status;
}

static int select_op(struct run_args *a, const char *name)
{
	const struct op_desc *alias = op_lookup(name);
	int found = 0;

	if (alias) {
		a->selected[alias - op_table] = 1;
		return 0;
	}
	for (size_t i = 0; i < op_count; i++) {
		if (strcmp(name, "all") == 0 || strcmp(name, op_table[i].name) == 0 ||
		    strcmp(name, op_category_name(op_table[i].category)) == 0) {
			a->selected[i] = 1;
			found = 1;
		}
	}
	return found ? 0 : usage_error("run", "unknown op or category '%s'; 'voxbench list' "
					      "shows the ops", name);
}

static int add_size(struct run_args *a, const char *text)
{
	struct vb_err err;

	if (strcmp(text, "auto") == 0)
		return 0;
	if (a->nsizes == MAX_SIZES)
		return usage_error("run", "too many sizes: at most %d", MAX_SIZES);
	if (size_parse(text, a->sizes[a->nsizes], &err))
		return usage_error("run", "%s", err.msg);
	a->nsizes++;
	return 0;
}

static int add_dtype(struct run_args *a, const char *text)
{
	if (a->ndtypes == DT_COUNT)
		return usage_error("run", "too many dtypes");
	if (dtype_parse(text, &a->dtypes[a->ndtypes]))
		return usage_error("run", "unknown dtype '%s': expected u8, u16, u32, i32 or f32",
				   text);
	a->ndtypes++;
	return 0;
}

/* Apply NAME=VALUE to every selected op that has the parameter; an error if none has it. */
static int apply_param(struct run_args *a, const char *assignment)
{
	size_t len = strcspn(assignment, "=");
	int applied = 0;

	for (size_t i = 0; i < op_count; i++) {
		struct vb_err err;

		if (!a->selected[i])
			continue;
		for (int p = 0; op_table[i].params[p].name; p++) {
			if (strlen(op_table[i].params[p].name) != len ||
			    strncmp(op_table[i].params[p].name, assignment, len) != 0)
				continue;
			if (op_set_param(&op_table[i], a->params[i], assignment, &err))
				return usage_error("run", "%s", err.msg);
			applied = 1;
		}
	}
	return applied ? 0 : usage_error("run", "no selected op has a parameter '%.*s'; "
					       "'voxbench list OP' shows an op's parameters",
					 (int)len, assignment);
}

/* Every --input opens as a TIFF, has the channel and frame asked for; not mixed with --size. */
static int check_inputs(struct run_args *a)
{
	if (a->ninputs && a->synthetic_options)
		return usage_error("run", "--input takes its size and dtype from the file: drop "
					  "--size, --dtype and --stack");
	for (int i = 0; i < a->ninputs; i++) {
		struct tiff_file *tf;
		struct tiff_meta meta;
		struct vb_err err;

		if (tiff_open(&tf, a->inputs[i], &meta, &err))
			return usage_error("run", "%s", err.msg);
		tiff_close(tf);
		if ((size_t)a->channel >= meta.channels)
			return usage_error("run", "%s has %zu channel(s): --channel %d is out of range",
					   a->inputs[i], meta.channels, a->channel);
		if (a->frame != ALL_FRAMES && (size_t)a->frame >= meta.frames)
			return usage_error("run", "%s has %zu frame(s): --frame %d is out of range",
					   a->inputs[i], meta.frames, a->frame);
		a->input_frames[i] = a->frame == ALL_FRAMES ? meta.frames : 1;
		if (tiff_sha256_file(a->inputs[i], a->input_sha256[i], &err))
			return usage_error("run", "%s", err.msg);
	}
	return 0;
}

/* Room an output's file name needs in its path: "<op>_<size>_<dtype><tag>_reference.tif" and
 * the temporary suffix, with the longest op name and size. */
#define SAVE_NAME_ROOM 256

/* The folder for --save-outputs is a folder (made if missing), writable, with room in its path
 * for the outputs' names: found now, not after the whole run. */
static int check_save_dir(const char *dir)
{
	struct stat st;

	if (strlen(dir) + SAVE_NAME_ROOM >= PATH_MAX)
		return usage_error("run", "--save-outputs folder %.80s... is too long a path (%zu "
				   "bytes) for the outputs' names; pick a shorter one", dir,
				   strlen(dir));
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return usage_error("run", "--save-outputs %s is a file, not a folder; give a folder "
				   "(it is made when missing)", dir);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return usage_error("run", "cannot create --save-outputs folder %s: %s", dir,
				   strerror(errno));
	if (access(dir, W_OK) != 0)
		return usage_error("run", "cannot write into --save-outputs folder %s", dir);
	return 0;
}

static int synth_known(const char *kind)
{
	for (size_t i = 0; i < synth_kind_count; i++)
		if (strcmp(kind, synth_kinds[i].name) == 0)
			return 1;
	return 0;
}

/*
 * Fixed sets of sizes and dtypes that every machine can run, so reports of different machines
 * match row for row (`voxbench compare`). standard fits a 4 GiB laptop GPU; its larger size is
 * several times a large GPU's last-level cache (60 MB on an H200), so bandwidths are DRAM's.
 */
static const struct suite {
	const char *name, *sizes, *dtypes, *help;
} suites[] = {
	{ "standard", "256x256x128,512x512x256", "u16,f32",
	  "every op at 256x256x128 and 512x512x256, u16 and f32: what a GPU runs by default" },
	{ "quick", "128x128x64", "f32", "every op at 128x128x64, f32: what a CPU device runs by "
	  "default" },
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static const struct suite *suite_find(const char *name)
{
	for (size_t i = 0; i < NSUITES; i++)
		if (strcmp(name, suites[i].name) == 0)
			return &suites[i];
	return NULL;
}

/* The suite's sizes and dtypes as if given with --size and --dtype. */
static int apply_suite(struct run_args *a, const struct suite *s)
{
	int status;

	a->nsizes = a->ndtypes = 0;
	if ((status = each_token(s->sizes, add_size, a)) ||
	    (status = each_token(s->dtypes, add_dtype, a)))
		return status;
	a->suite = s->name;
	return 0;
}

/* "synthetic seed=42" (a stack's source) -> 42; -1 when it is not a synthetic stack. */
static long synthetic_seed(const char *source)
{
	long seed;

	return sscanf(source, "synthetic seed=%ld", &seed) == 1 && seed >= 0 ? seed : -1;
}

static int has_size(const struct run_args *a, const size_t dims[3])
{
	for (int i = 0; i < a->nsizes; i++)
		if (!memcmp(a->sizes[i], dims, sizeof(a->sizes[i])))
			return 1;
	return 0;
}

/* The ops (with their parameters), sizes, dtypes, stack and seed of one report row. */
static int like_row(struct run_args *a, const struct result_row *row, const char *path)
{
	const struct op_desc *op = op_find(row->op);
	size_t dims[3] = { row->width, row->height, row->depth };
	long seed = synthetic_seed(row->stack_source);
	enum dtype t;

	if (!op)
		return usage_error("run", "%s has a row of op '%s', which this voxbench does not "
				   "have", path, row->op);
	if (seed < 0 || !synth_known(row->stack_name))
		return usage_error("run", "%s: --like re-runs synthetic stacks; its %s row was "
				   "measured on %s (use --input)", path, row->op, row->stack_source);
	a->stack = synth_kinds[0].name;
	for (size_t k = 0; k < synth_kind_count; k++)
		if (strcmp(row->stack_name, synth_kinds[k].name) == 0)
			a->stack = synth_kinds[k].name;
	a->seed = (uint64_t)seed;
	a->selected[op - op_table] = 1;
	for (int p = 0; p < row->nparams; p++)
		for (int q = 0; op->params[q].name; q++)
			if (!strcmp(op->params[q].name, row->params[p].name))
				a->params[op - op_table][q] = row->params[p].value;
	if (!has_size(a, dims)) {
		if (a->nsizes == MAX_SIZES)
			return usage_error("run", "%s has more than %d sizes", path, MAX_SIZES);
		memcpy(a->sizes[a->nsizes++], dims, sizeof(dims));
	}
	/* label ops run on derived u32 labels: their rows do not name the block's dtype */
	if (op->role[0] != ROLE_LABELS && !dtype_parse(row->dtype, &t)) {
		int known = 0;

		for (int i = 0; i < a->ndtypes; i++)
			known |= a->dtypes[i] == t;
		if (!known && a->ndtypes < DT_COUNT)
			a->dtypes[a->ndtypes++] = t;
	}
	return 0;
}

/* --like REPORT: exactly the rows of another report (ops, parameters, sizes, dtypes, stack). */
static int apply_like(struct run_args *a, const char *path)
{
	struct report rep = { 0 };
	struct vb_err err;
	int status = 0;

	if (report_read_json(path, &rep, &err))
		return usage_error("run", "--like: %s", err.msg);
	if (!rep.nrows)
		status = usage_error("run", "--like: %s has no rows", path);
	memset(a->selected, 0, sizeof(a->selected));
	a->nsizes = a->ndtypes = 0;
	for (size_t i = 0; i < rep.nrows && !status; i++)
		status = like_row(a, &rep.rows[i], path);
	report_free(&rep);
	return status;
}


static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option options[] = {
		{ "ops", required_argument, NULL, 'o' },    { "device", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },   { "dtype", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "stack", required_argument, NULL, 'k' },  { "param", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' }, { "cpu-threads", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 'S' },   { "out", required_argument, NULL, 'O' },
		{ "probe", required_argument, NULL, 'P' },  { "help", no_argument, NULL, 'h' },
		{ "input", required_argument, NULL, 'i' },  { "channel", required_argument, NULL, 'C' },
		{ "frame", required_argument, NULL, 'F' },  { "save-outputs", required_argument, NULL, 'D' },
		{ "save-reference", no_argument, NULL, 'R' },
		{ "cpu-runs", required_argument, NULL, 'U' },
		{ "overlap", required_argument, NULL, 'V' },
		{ "suite", required_argument, NULL, 'Q' },
		{ "like", required_argument, NULL, 'L' },
		{ "peer", required_argument, NULL, 'e' },   { "python", required_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ops = "all", *param_args[MAX_PARAM_ARGS];
	int nparam_args = 0, c, status = 0, opt = -1;
	struct vb_err err;
	long v;

	memset(a, 0, sizeof(*a));
	a->stack = "blobs";
	a->repeat = 5;
	a->cpu_threads = vb_cpu_threads();
	a->cpu_runs = 3;
	a->seed = 42;
	a->probe = PROBE_FULL;
	a->frame = ALL_FRAMES;
	for (size_t i = 0; i < op_count; i++)
		op_default_params(&op_table[i], a->params[i]);
	optind = 1;
	opterr = 0;
	while (!status && (opt = -1, c = getopt_long(argc, argv, "h", options, &opt)) != -1) {
		if ((status = refuse_empty(options, opt, optarg)))
			break;
		switch (c) {
		case 'o': ops = optarg; a->ops_given = 1; break;
		case 'Q':
			if (!suite_find(optarg))
				return usage_error("run", "unknown suite '%s': expected standard or quick",
						   optarg);
			a->suite = optarg;
			break;
		case 'L': a->like = optarg; break;
		case 'd': a->device = optarg; break;
		case 'b':
			if (backend_name_check(optarg, &err))
				return usage_error("run", "%s", err.msg);
			a->backend = optarg;
			break;
		case 's': status = each_token(optarg, add_size, a); a->synthetic_options = 1; break;
		case 't': status = each_token(optarg, add_dtype, a); a->synthetic_options = 1; break;
		case 'k': a->stack = optarg; a->synthetic_options = 1; break;
		case 'i':
			if (a->ninputs == MAX_INPUTS)
				return usage_error("run", "too many --input files: at most %d", MAX_INPUTS);
			a->inputs[a->ninputs++] = optarg;
			break;
		case 'C':
			if (parse_long(optarg, 0, 65535, &v))
				return usage_error("run", "bad --channel '%s': expected 0 to 65535", optarg);
			a->channel = (int)v;
			break;
		case 'F':
			if (strcmp(optarg, "all") == 0)
				a->frame = ALL_FRAMES;
			else if (parse_long(optarg, 0, 1000000, &v))
				return usage_error("run", "bad --frame '%s': expected a frame number or all",
						   optarg);
			else
				a->frame = (int)v;
			break;
		case 'D': a->save_dir = optarg; break;
		case 'R': a->save_reference = 1; break;
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
			a->repeat = (int)v;
			break;
		case 'c':
			if (parse_long(optarg, 1, 4096, &v))
				return usage_error("run", "bad --cpu-threads '%s': expected 1 to 4096",
						   optarg);
			a->cpu_threads = (int)v;
			a->cpu_threads_given = 1;
			break;
		case 'U':
			if (parse_long(optarg, 1, 3, &v))
				return usage_error("run", "bad --cpu-runs '%s': expected 1 to 3", optarg);
			a->cpu_runs = (int)v;
			break;
		case 'S':
			if (parse_long(optarg, 0, 2147483647L, &v))
				return usage_error("run", "bad --seed '%s': expected 0 to 2147483647",
						   optarg);
			a->seed = (uint64_t)v;
			break;
		case 'P':
			if (strcmp(optarg, "full") && strcmp(optarg, "quick") && strcmp(optarg, "none"))
				return usage_error("run", "bad --probe '%s': expected full, quick or none",
						   optarg);
			a->probe = optarg[0] == 'f' ? PROBE_FULL : optarg[0] == 'q' ? PROBE_QUICK : PROBE_NONE;
			break;
		case 'e':
			if (peer_request_add(&a->peer, optarg, &err))
				return usage_error("run", "%s", err.msg);
			break;
		case 'y':
			if (peer_python_add(&a->peer, optarg, &err))
				return usage_error("run", "%s", err.msg);
			break;
		case 'V':
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("run", "bad --overlap '%s': expected auto, on or off",
						   optarg);
			a->overlap = optarg[0] == 'a' ? OVERLAP_AUTO : optarg[1] == 'n' ? OVERLAP_ON
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
	if (a->suite && (a->synthetic_options || a->ninputs || a->like))
		return usage_error("run", "--suite sets the sizes and dtypes: drop --size, --dtype, "
				   "--stack, --input and --like");
	if (a->like && (a->synthetic_options || a->ninputs || a->ops_given || a->params_given))
		return usage_error("run", "--like takes the ops, parameters, sizes and dtypes from the "
				   "report: drop --ops, --param, --size, --dtype, --stack and --input");
	if ((status = each_token(ops, select_op, a)))
		return status;
	if (a->suite && (status = apply_suite(a, suite_find(a->suite))))
		return status;
	if (a->like && (status = apply_like(a, a->like)))
		return status;
	for (int i = 0; i < nparam_args && !status; i++)
		status = apply_param(a, param_args[i]);
	if (!status && !synth_known(a->stack))
		status = usage_error("run", "unknown stack '%s': expected blobs, noise, binary or "
					    "labels", a->stack);
	if (!status && a->out && out_target_check(a->out, &a->out_target, &err))
		status = usage_error("run", "%s", err.msg);
	if (!status)
		status = check_inputs(a);
	if (!status && a->save_dir)
		status = check_save_dir(a->save_dir);
	if (!status && a->save_reference && !a->save_dir)
		status = usage_error("run", "--save-reference needs --save-outputs DIR");
	if (!a->ndtypes)
		a->dtypes[a->ndtypes++] = DT_F32;
	return status;
}

/* The default size for a device: what a few minutes of a full run allow there. */
static void auto_size(const struct gpu_device *d, size_t dims[3])
{
	const struct device_info *info = device_info_of(d);
	size_t gpu_big[3] = { 512, 512, 256 }, gpu_small[3] = { 256, 256, 128 };
	size_t cpu[3] = { 128, 128, 64 };

	if (!device_is_gpu(d))
		memcpy(dims, cpu, sizeof(cpu));
	else if (info->global_mem_bytes >= (8ull << 30))
		memcpy(dims, gpu_big, sizeof(gpu_big));
	else
		memcpy(dims, gpu_small, sizeof(gpu_small));
}

/*
 * On a terminal, one live line: the row now running. Elsewhere (a log, CI) one line per finished
 * row, so a long run shows that it moves and where the time goes.
 */
static void progress_start(size_t done, size_t total, const char *op, const size_t dims[3],
			   enum dtype t)
{
	if (!isatty(STDERR_FILENO))
		return;
	if (done == total)
		fprintf(stderr, "\r\033[K");
	else
		fprintf(stderr, "\r\033[K[%zu/%zu] %s %zux%zux%zu %s", done + 1, total, op, dims[0],
			dims[1], dims[2], dtype_name(t));
	fflush(stderr);
}

static void progress_row(size_t done, size_t total, const struct result_row *row)
{
	if (isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "[%zu/%zu] %s %llux%llux%llu %s %s: %s", done, total, row->op,
		(unsigned long long)row->width, (unsigned long long)row->height,
		(unsigned long long)row->depth, row->dtype, row->backend,
		row_status_name(row->status));
	if (isfinite(row->gpu.median))
		fprintf(stderr, ", %.3f ms", row->gpu.median);
	fprintf(stderr, " (row %.2f s)\n", (isfinite(row->wall_ms) ? row->wall_ms : 0) / 1e3);
	fflush(stderr);
}

/* An input stack for this size and dtype, or a skip row for every op when it cannot be made. */
static int make_inputs(const struct run_args *a, const size_t dims[3], enum dtype t,
		       struct stack in[OP_MAX_INPUTS], struct vb_err *err)
{
	int status = synth_generate(&in[0], a->stack, dims[0], dims[1], dims[2], t, a->seed, err);

	if (status)
		return status;
	status = synth_generate(&in[1], a->stack, dims[0], dims[1], dims[2], t, a->seed + 1, err);
	if (status)
		stack_free(&in[0]);
	return status;
}

static size_t count_selected(const struct run_args *a)
{
	size_t n = 0;

	for (size_t i = 0; i < op_count; i++)
		n += a->selected[i];
	return n;
}

/* Host memory ran out where no row can say so: one line, and exit 1. */
static int out_of_memory(const char *doing, size_t rows)
{
	char hint[160];

	fprintf(stderr, "voxbench run: out of host memory %s (after %zu rows)%s\n", doing, rows,
		vb_memory_limit_hint(hint));
	return EXIT_FAILED;
}

/* The copy bandwidth the probe measured on the device of this name (NaN when none did). */
static double probed_copy_gbps(const struct report *rep, const char *name)
{
	json_t *probe = rep->probe_json ? json_loads(rep->probe_json, 0, NULL) : NULL;
	json_t *dev;
	size_t i;
	double gbps = NAN;

	json_array_foreach(json_object_get(probe, "devices"), i, dev) {
		json_t *bw = json_object_get(json_object_get(dev, "bench"), "copy_gbps");
		const char *dev_name = json_string_value(json_object_get(dev, "name"));

		if (dev_name && strcmp(dev_name, name) == 0 && json_is_number(bw)) {
			gbps = json_number_value(bw);
			break;
		}
	}
	json_decref(probe);
	return gbps;
}

/* What every block of a run shares: the devices, their measured bandwidth, the report. */
struct run_ctx {
	const struct run_args *a;
	const struct device_list *devs;
	double *copy_gbps;  /* per device: measured copy bandwidth, NaN if not measured */
	struct report *rep;
	size_t done, total; /* rows, for the progress line */
	double stack_ms;    /* making the block's stacks: the block's first row carries it */
	int overlap;        /* references on a thread of their own (every device is a GPU) */
	int ref_threads;    /* threads of the CPU reference */
	struct peer_set *peers; /* --peer: their rows follow each op's device rows */
};

/* Where the stacks of a block came from, stamped on its rows. */
struct block {
	const char *path;  /* an --input file, or NULL for a synthetic stack */
	int later_dtype;   /* not the first dtype of its size: ops on derived labels already ran */
	char sha256[65];
	int frame, channel;
	char tag[160];     /* suffix of saved outputs: which input, frame and channel */
};

/* One op of a block: its inputs (derived for its roles) and its CPU reference. */
struct op_task {
	size_t op;                              /* index into op_table */
	const struct stack *in[OP_MAX_INPUTS];
	int status;                             /* VB_OK, or why its inputs could not be made */
	struct vb_err why;
	double inputs_ms;                       /* deriving inputs first needed by this op */
	struct reference_cache ref;
	int ready;                              /* inputs (and, overlapping, reference) done */
};

static struct run_settings settings_of(const struct run_ctx *x, const struct block *b)
{
	const struct run_args *a = x->a;

	return (struct run_settings){ a->repeat, x->ref_threads, a->save_dir, a->save_reference,
				      b->tag, a->cpu_runs };
}

/* One op on every device (or, when its task failed, rows saying why not). */
static int run_op(struct run_ctx *x, struct op_task *t, const struct block *b)
{
	const struct run_args *a = x->a;
	const struct op_desc *op = &op_table[t->op];
	struct run_settings settings = settings_of(x, b);
	char tag[sizeof(b->tag) + 24];
	size_t dims[3] = { t->in[0]->width, t->in[0]->height, t->in[0]->depth };
	int reference_counted = 0, rc = EXIT_OK;
	struct vb_err err;

	for (size_t d = 0; d < x->devs->n && rc == EXIT_OK; d++) {
		struct gpu_device *dev = x->devs->dev[d];
		struct result_row row;
		int had_reference = t->ref.computed;

		progress_start(x->done, x->total, op->name, dims, t->in[0]->dtype);
		/* several devices save the same op: each its own file */
		snprintf(tag, sizeof(tag), x->devs->n > 1 ? "%s_d%zu" : "%s", b->tag, d);
		settings.save_tag = tag;
		if (t->status) {
			op_row_start(&row, dev, op, a->params[t->op], t->in[0]);
			row.status = t->status == VB_E_TOO_BIG ? ROW_SKIP : ROW_ERROR;
			snprintf(row.reason, sizeof(row.reason), "%s", t->why.msg);
		} else {
			op_run(dev, op, a->params[t->op], t->in, &settings, &t->ref, &row);
		}
		/* a reference computed ahead, on the reference thread, counts in its first row */
		if (had_reference && t->ref.computed && !reference_counted && !t->status)
			row.phase_ms[PHASE_REFERENCE] = t->ref.wall_ms;
		reference_counted |= t->ref.computed;
		if (d == 0) {
			row.phase_ms[PHASE_INPUTS] = t->inputs_ms;
			row.phase_ms[PHASE_STACK] = x->stack_ms;
			row.wall_ms += (isfinite(t->inputs_ms) ? t->inputs_ms : 0) +
				       (isfinite(x->stack_ms) ? x->stack_ms : 0);
			x->stack_ms = NAN;
		}
		row.bandwidth_fraction = row.effective_gbps / x->copy_gbps[d];
		if (b->path) {
			snprintf(row.stack_sha256, sizeof(row.stack_sha256), "%s", b->sha256);
			row.frame = b->frame;
			row.channel = b->channel;
		}
		if (report_add_row(x->rep, &row, &err))
			rc = out_of_memory("keeping the results", x->rep->nrows);
		progress_row(++x->done, x->total, &row);
	}
	if (!t->status && rc == EXIT_OK)
		peers_run_op(x->peers, op, a->params[t->op], t->in, &settings, &t->ref, x->rep);
	return rc;
}

/* Make task t's inputs (derived once per block in set) and, when asked, its reference. */
static void task_prepare(struct run_ctx *x, const struct block *b, struct op_inputs *set,
			 struct op_task *t, int with_reference)
{
	const struct op_desc *op = &op_table[t->op];
	struct run_settings settings = settings_of(x, b);
	double t0 = vb_now_ms();

	if (!t->status && (t->status = op_inputs_resolve(set, op, t->in, &t->why))) {
		t->in[0] = set->image[0]; /* the row names the block's stack, not a derived one */
		t->in[1] = set->image[1];
	}
	t->inputs_ms = vb_now_ms() - t0;
	if (with_reference && !t->status)
		reference_compute(op, x->a->params[t->op], t->in, &settings, &t->ref);
}

/*
 * The reference thread: each task's inputs and CPU reference, at most REF_AHEAD tasks ahead of
 * the GPU rows (their outputs are whole stacks), while the main thread runs the GPU side.
 */
#define REF_AHEAD 3

struct ref_pipe {
	struct run_ctx *x;
	const struct block *b;
	struct op_inputs *set;
	struct op_task *tasks;
	size_t n, consumed;    /* tasks the main thread has finished with */
	pthread_mutex_t lock;
	pthread_cond_t moved;
};

static void *reference_thread(void *arg)
{
	struct ref_pipe *p = arg;

	for (size_t j = 0; j < p->n; j++) {
		pthread_mutex_lock(&p->lock);
		while (j >= p->consumed + REF_AHEAD)
			pthread_cond_wait(&p->moved, &p->lock);
		pthread_mutex_unlock(&p->lock);
		task_prepare(p->x, p->b, p->set, &p->tasks[j], 1);
		pthread_mutex_lock(&p->lock);
		p->tasks[j].ready = 1;
		pthread_cond_broadcast(&p->moved);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* The selected ops of a block, as tasks over in[] (label ops only in a size's first dtype). */
static size_t block_tasks(const struct run_ctx *x, const struct stack *const in[OP_MAX_INPUTS],
			  const struct block *b, int status, const struct vb_err *why,
			  struct op_task *tasks)
{
	size_t n = 0;

	for (size_t i = 0; i < op_count; i++) {
		if (!x->a->selected[i] || (b->later_dtype && op_table[i].role[0] == ROLE_LABELS))
			continue;
		memset(&tasks[n], 0, sizeof(tasks[n]));
		tasks[n].op = i;
		tasks[n].in[0] = in[0];
		tasks[n].in[1] = in[1];
		tasks[n].status = status;
		tasks[n].inputs_ms = NAN;
		if (status)
			tasks[n].why = *why;
		n++;
	}
	return n;
}

/*
 * Every selected op over one block of stacks, each given the inputs its roles ask for (derived
 * once per block). When every device is a GPU, the CPU references run on a thread of their own,
 * ahead of the GPU rows: the compiles and timed runs of one op overlap the references of the next
 * (on a CPU device the two would compete for the cores, and time each other).
 */
static int run_ops(struct run_ctx *x, const struct stack *const in[OP_MAX_INPUTS],
		   const struct block *b, int status, const struct vb_err *why)
{
	struct op_inputs set = { .image = { in[0], in[1] } };
	struct op_task *tasks = calloc(op_count, sizeof(*tasks));
	struct ref_pipe pipe = { .x = x, .b = b, .set = &set, .tasks = tasks };
	pthread_t thread;
	int threaded = 0, rc = EXIT_OK, main_threads = 1;

	if (!tasks)
		return out_of_memory("planning the block", 0);
	pipe.n = block_tasks(x, in, b, status, why, tasks);
	pthread_mutex_init(&pipe.lock, NULL);
	pthread_cond_init(&pipe.moved, NULL);
	if (x->overlap && !status && pipe.n > 1)
		threaded = pthread_create(&thread, NULL, reference_thread, &pipe) == 0;
	/* while references run, the main thread's own work (comparing outputs) keeps to its one
	 * core: it must not time-share the cores they are timed on (they name their own counts) */
	if (threaded) {
		main_threads = omp_get_max_threads();
		omp_set_num_threads(1);
	}
	for (size_t i = 0; i < pipe.n; i++) {
		if (threaded) {
			pthread_mutex_lock(&pipe.lock);
			while (!tasks[i].ready)
				pthread_cond_wait(&pipe.moved, &pipe.lock);
			pthread_mutex_unlock(&pipe.lock);
		} else {
			task_prepare(x, b, &set, &tasks[i], 0);
		}
		if (rc == EXIT_OK)
			rc = run_op(x, &tasks[i], b);
		reference_cache_free(&tasks[i].ref);
		pthread_mutex_lock(&pipe.lock);
		pipe.consumed = i + 1;
		pthread_cond_broadcast(&pipe.moved);
		pthread_mutex_unlock(&pipe.lock);
	}
	if (threaded) {
		pthread_join(thread, NULL);
		omp_set_num_threads(main_threads);
	}
	pthread_mutex_destroy(&pipe.lock);
	pthread_cond_destroy(&pipe.moved);
	peers_end_block(x->peers);
	devices_drop_inputs(x->devs); /* their host stacks go now */
	op_inputs_free(&set);
	free(tasks);
	return rc;
}

/* The rows of one size and dtype over synthetic stacks, made once for every device. */
static int run_synthetic(struct run_ctx *x, const size_t dims[3], enum dtype t, int later_dtype)
{
	struct stack in[OP_MAX_INPUTS] = { { .width = dims[0], .height = dims[1], .depth = dims[2],
					     .dtype = t } };
	const struct stack *const inputs[OP_MAX_INPUTS] = { &in[0], &in[1] };
	struct block b = { .frame = -1, .channel = -1, .later_dtype = later_dtype };
	struct vb_err err;
	int status, rc;

	double t0 = vb_now_ms();

	status = make_inputs(x->a, dims, t, in, &err);
	x->stack_ms = vb_now_ms() - t0;
	if (status) { /* in[0] keeps the shape so the rows can say which stack failed */
		in[0] = (struct stack){ .width = dims[0], .height = dims[1], .depth = dims[2], .dtype = t };
		snprintf(in[0].name, sizeof(in[0].name), "%s", x->a->stack);
	}
	rc = run_ops(x, inputs, &b, status, &err);
	if (!status) {
		stack_free(&in[0]);
		stack_free(&in[1]);
	}
	return rc;
}

/* An input's file name without folder and .tif/.tiff/.ome.tif, control characters made '_'. */
static void input_stem(const char *path, char *stem, size_t len)
{
	static const char *const exts[] = { ".ome.tiff", ".ome.tif", ".tiff", ".tif" };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n;

	vb_copy_utf8(stem, len, base);
	n = strlen(stem);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcasecmp(stem + n - e, exts[i]) == 0) {
			stem[n - e] = '\0';
			break;
		}
	}
	for (char *p = stem; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '_';
}

/*
 * The suffix of an input's saved outputs: "_<stem>", then "-<n>" when another --input has the
 * same stem, "_t<T>" for a frame of a 3D+time file, "_c<C>" for a channel of a multi-channel
 * one, so that no two inputs, frames or channels write the same file.
 */
static void input_tag(const struct run_args *a, int input, size_t frame,
		      const struct tiff_meta *meta, char *tag, size_t len)
{
	char stem[64], other[64];
	int same = 0;
	size_t n;

	input_stem(a->inputs[input], stem, sizeof(stem));
	for (int i = 0; i < a->ninputs; i++) {
		input_stem(a->inputs[i], other, sizeof(other));
		same |= i != input && strcmp(stem, other) == 0;
	}
	n = (size_t)snprintf(tag, len, "_%s", stem);
	if (same && n < len)
		n += (size_t)snprintf(tag + n, len - n, "-%d", input + 1);
	if (meta->frames > 1 && n < len)
		n += (size_t)snprintf(tag + n, len - n, "_t%zu", frame);
	if (meta->channels > 1 && n < len)
		snprintf(tag + n, len - n, "_c%d", a->channel);
}

/* The rows of one --input file: a block per frame asked for, read once for every device. */
static int run_file(struct run_ctx *x, int input)
{
	const struct run_args *a = x->a;
	struct tiff_file *tf = NULL;
	struct tiff_meta meta;
	const char *path = a->inputs[input];
	struct block b = { .path = path, .channel = a->channel };
	struct vb_err err;
	int rc = EXIT_OK;

	memcpy(b.sha256, a->input_sha256[input], sizeof(b.sha256));
	if (tiff_open(&tf, path, &meta, &err)) {
		fprintf(stderr, "voxbench run: %s\n", err.msg);
		tiff_close(tf);
		return EXIT_FAILED;
	}
	for (size_t t = 0; t < meta.frames && rc == EXIT_OK; t++) {
		struct tiff_select sel = { .channel = (size_t)a->channel, .frame = t };
		struct stack s = { .width = meta.width, .height = meta.height, .depth = meta.depth,
				   .dtype = meta.dtype };
		const struct stack *const inputs[OP_MAX_INPUTS] = { &s, &s };
		int status;

		if (a->frame != ALL_FRAMES && (size_t)a->frame != t)
			continue;
		b.frame = (int)t;
		input_tag(a, input, t, &meta, b.tag, sizeof(b.tag));
		double t0 = vb_now_ms();

		status = tiff_read(tf, &sel, &s, &err);
		x->stack_ms = vb_now_ms() - t0;
		if (status) {
			s = (struct stack){ .width = meta.width, .height = meta.height,
					    .depth = meta.depth, .dtype = meta.dtype };
			snprintf(s.name, sizeof(s.name), "file");
			snprintf(s.source, sizeof(s.source), "%s", path);
		}
		rc = run_ops(x, inputs, &b, status, &err);
		if (!status)
			stack_free(&s);
	}
	tiff_close(tf);
	return rc;
}

static int exit_status_of(const struct report *rep)
{
	for (size_t i = 0; i < rep->nrows; i++)
		if (rep->rows[i].status == ROW_FAIL || rep->rows[i].status == ROW_ERROR)
			return EXIT_FAILED;
	return EXIT_OK;
}

static int all_gpus(const struct device_list *devs)
{
	int all = devs->n > 0;

	for (size_t d = 0; d < devs->n; d++)
		all &= device_is_gpu(devs->dev[d]);
	return all;
}

/* With no --size: the auto size of the selected device that takes the smallest. */
static void auto_size_all(const struct device_list *devs, size_t dims[3])
{
	for (size_t d = 0; d < devs->n; d++) {
		size_t mine[3];

		auto_size(devs->dev[d], mine);
		if (d == 0 || mine[0] * mine[1] * mine[2] < dims[0] * dims[1] * dims[2])
			memcpy(dims, mine, sizeof(mine));
	}
}

/* The blocks the run will make, as far as their programs depend on them (dtype, index width). */
static size_t planned_blocks(const struct run_args *a, const struct device_list *devs,
			     struct prebuild_block *out, size_t cap)
{
	size_t n = 0;

	for (int i = 0; i < a->ninputs && n < cap; i++) {
		struct tiff_file *tf = NULL;
		struct tiff_meta meta;
		struct vb_err ignored; /* the run says it again when it reads the file */

		if (tiff_open(&tf, a->inputs[i], &meta, &ignored) == VB_OK)
			out[n++] = (struct prebuild_block){ meta.dtype,
				(uint64_t)meta.width * meta.height * meta.depth >= WIDE_INDEX_VOXELS,
				0 };
		tiff_close(tf);
	}
	for (int s = 0; !a->ninputs && s < (a->nsizes ? a->nsizes : 1); s++) {
		size_t dims[3];

		if (a->nsizes)
			memcpy(dims, a->sizes[s], sizeof(dims));
		else
			auto_size_all(devs, dims);
		for (int t = 0; t < a->ndtypes && n < cap; t++)
			out[n++] = (struct prebuild_block){ a->dtypes[t],
				(uint64_t)dims[0] * dims[1] * dims[2] >= WIDE_INDEX_VOXELS, t > 0 };
	}
	return n;
}

/*
 * Every program the rows will launch, compiled first on every core: before any reference runs
 * (so none is timed beside a compiler), and in parallel (one by one at first launch they took
 * 80 s on the H200).
 */
static void prebuild(const struct run_args *a, const struct device_list *devs, size_t total,
		     struct report *rep)
{
	struct prebuild_block blocks[MAX_INPUTS > MAX_SIZES * DT_COUNT ? MAX_INPUTS
								      : MAX_SIZES * DT_COUNT];
	struct prebuild_request q = { .selected = a->selected,
				      .params = (const double (*)[OP_MAX_PARAMS])a->params,
				      .stack_kind = a->stack ? a->stack : "blobs",
				      .blocks = blocks, .threads = vb_cpu_threads() };
	struct prebuild_stats st;

	q.nblocks = planned_blocks(a, devs, blocks, sizeof(blocks) / sizeof(blocks[0]));
	programs_prebuild(devs->dev, devs->n, &q, &st);
	rep->prebuild_programs = st.programs;
	rep->prebuild_devices = st.devices;
	rep->prebuild_failed = st.failed;
	rep->prebuild_threads = st.threads;
	rep->prebuild_ms = st.ms;
	/* a progress line: where the first seconds went (the summary says it again) */
	if (st.programs && !isatty(STDERR_FILENO))
		fprintf(stderr, "[0/%zu] %zu programs compiled ahead for %zu device%s in %.1f s "
			"(%d threads)\n", total, st.programs, st.devices, st.devices == 1 ? "" : "s",
			st.ms / 1e3, st.threads);
}

/* Every block (size x dtype, or file x frame), made once; in it, every op on every device. */
static int run_devices(const struct run_args *a, const struct device_list *devs,
		       struct report *rep)
{
	size_t blocks = (size_t)(a->nsizes ? a->nsizes : 1) * a->ndtypes;
	struct run_ctx x = { .a = a, .devs = devs, .rep = rep };
	struct vb_err err;
	int rc = EXIT_OK;

	x.copy_gbps = calloc(devs->n, sizeof(*x.copy_gbps));
	if (!x.copy_gbps)
		return out_of_memory("starting the run", 0);
	x.stack_ms = NAN;
	x.overlap = all_gpus(devs);
	if (a->overlap != OVERLAP_AUTO)
		x.overlap = a->overlap == OVERLAP_ON;
	/* overlapping, the main thread keeps a core of its own for the GPU side's compiles */
	x.ref_threads = x.overlap && !a->cpu_threads_given && a->cpu_threads > 2
				? a->cpu_threads - 1 : a->cpu_threads;

	for (size_t d = 0; d < devs->n && rc == EXIT_OK; d++) {
		struct device_info info = *device_info_of(devs->dev[d]);

		info.copy_gbps = x.copy_gbps[d] = probed_copy_gbps(rep, info.name);
		if (report_add_device(rep, &info, &err))
			rc = out_of_memory("listing the devices", 0);
	}
	if (a->ninputs) {
		blocks = 0;
		for (int i = 0; i < a->ninputs; i++)
			blocks += a->input_frames[i];
	}
	x.total = count_selected(a) * blocks * devs->n;
	if (rc == EXIT_OK)
		prebuild(a, devs, x.total, rep);
	if (rc == EXIT_OK)
		x.peers = peers_open(&a->peer, devs, stderr);
	for (int i = 0; i < a->ninputs && rc == EXIT_OK; i++)
		rc = run_file(&x, i);
	for (int s = 0; !a->ninputs && s < (a->nsizes ? a->nsizes : 1) && rc == EXIT_OK; s++) {
		size_t dims[3] = { 0, 0, 0 };

		if (a->nsizes)
			memcpy(dims, a->sizes[s], sizeof(dims));
		else
			auto_size_all(devs, dims);
		for (int t = 0; t < a->ndtypes && rc == EXIT_OK; t++)
			rc = run_synthetic(&x, dims, a->dtypes[t], t > 0);
	}
	progress_start(x.total, x.total, "", NULL, DT_F32);
	rep->peers_json = peers_json(x.peers);
	peers_close(x.peers);
	free(x.copy_gbps);
	return rc;
}

/*
 * The run's last lines: the devices, the verdicts counted, the geometric-mean speedup of the
 * rows that passed, the wall time, and where the report went.
 */
static void print_summary(const struct report *rep, double wall_ms, double probe_ms,
			  const char *out, FILE *f)
{
	size_t count[4] = { 0 }, ambiguous = 0, nspeed = 0;
	double log_sum = 0;

	for (size_t i = 0; i < rep->nrows; i++) {
		const struct result_row *r = &rep->rows[i];

		count[r->status]++;
		ambiguous += r->has_delta && r->delta.ambiguous > 0;
		if (r->status == ROW_PASS && isfinite(r->speedup) && r->speedup > 0) {
			log_sum += log(r->speedup);
			nspeed++;
		}
	}
	fprintf(f, "\nSummary\n  devices: ");
	for (size_t d = 0; d < rep->ndevices; d++)
		fprintf(f, "%s%s (%s)", d ? ", " : "", rep->devices[d].name,
			rep->devices[d].backend);
	fprintf(f, "%s\n  rows: %zu: %zu passed, %zu failed, %zu skipped, %zu errors", rep->ndevices ?
		"" : "none", rep->nrows, count[ROW_PASS], count[ROW_FAIL], count[ROW_SKIP],
		count[ROW_ERROR]);
	if (ambiguous)
		fprintf(f, " (%zu with ambiguous voxels, within tolerance of a decision)", ambiguous);
	if (nspeed)
		fprintf(f, "\n  geometric-mean speedup over the CPU reference: %.1fx (kernel time, %zu "
			"rows)", exp(log_sum / (double)nspeed), nspeed);
	if (rep->prebuild_programs)
		fprintf(f, "\n  compiled ahead: %zu programs for %zu device%s in %.1f s on %d threads"
			"%s", rep->prebuild_programs, rep->prebuild_devices,
			rep->prebuild_devices == 1 ? "" : "s", rep->prebuild_ms / 1e3,
			rep->prebuild_threads, rep->prebuild_failed ? " (some failed: their rows say why)"
								     : "");
	fprintf(f, "\n  wall time: %.1f s", wall_ms / 1e3);
	if (isfinite(probe_ms))
		fprintf(f, " (probe %.1f s)", probe_ms / 1e3);
	fprintf(f, "\n  report: %s\n", out ? out : "none (--out FILE writes one)");
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
static void cap_cpu_threads(struct run_args *a)
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
	double started = vb_now_ms(), probe_ms = NAN;
	int status;

	if (op_count > RUN_MAX_OPS) {
		fprintf(stderr, "voxbench run: bug: %zu ops, more than RUN_MAX_OPS\n", op_count);
		return EXIT_FAILED;
	}
	status = parse_args(argc, argv, &a);
	if (status)
		return status < 0 ? EXIT_OK : status;
	report_init(&rep, &err);
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
	cap_cpu_threads(&a);
	if (!a.nsizes && !a.ninputs && !a.synthetic_options && !a.like &&
	    (status = apply_suite(&a, suite_find(all_gpus(&chosen) ? "standard" : "quick")))) {
		devices_close(&all);
		report_free(&rep);
		free(chosen.dev);
		return status;
	}
	status = run_devices(&a, &chosen, &rep);
	/* --out -: stdout is the report's, the table goes to stderr */
	report_print_table(&rep, a.out && a.out_target.kind == OUT_FD &&
			   a.out_target.fd == STDOUT_FILENO ? stderr : stdout);
	if (!status && a.out && write_report(&rep, &a.out_target, &err)) {
		fprintf(stderr, "voxbench run: %s\n", err.msg);
		status = EXIT_FAILED;
	}
	print_summary(&rep, vb_now_ms() - started, probe_ms, status ? NULL : a.out,
		      a.out && a.out_target.kind == OUT_FD && a.out_target.fd == STDOUT_FILENO
			      ? stderr : stdout);
	if (!status)
		status = exit_status_of(&rep);
	report_free(&rep);
	free(chosen.dev);
	devices_close(&all);
	return status;
}
