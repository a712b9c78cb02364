/*
 * bench/plan.c: a benchmark plan made from names: ops, sizes, dtypes, parameters, suites, the rows
 * of another report (--like), input files and the folder for saved outputs, each checked here so
 * that a bad one is refused before any work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../stacks/stack.h"
#include "../stacks/tiff.h"
#include "bench.h"

void bench_plan_init(struct bench_plan *a)
{
	memset(a, 0, sizeof(*a));
	a->stack = "blobs";
	a->repeat = 5;
	a->cpu_threads = vb_cpu_threads();
	a->cpu_runs = 3;
	a->seed = 42;
	a->frame = BENCH_ALL_FRAMES;
	for (size_t i = 0; i < op_count; i++)
		op_default_params(&op_table[i], a->params[i]);
}

/* Call fn on each comma-separated token of list (a copy); stops at the first non-zero. */
static int each_token(const char *list,
		      int (*fn)(struct bench_plan *, const char *, struct vb_err *),
		      struct bench_plan *a, struct vb_err *err)
{
	char *copy = strdup(list), *save = NULL, *tok;
	size_t n = strlen(list);
	int status = copy ? 0 : vb_errf(err, VB_E_NOMEM, "out of host memory");

	/* strtok_r would skip "a,,b"'s empty item silently */
	if (n && (list[0] == ',' || list[n - 1] == ',' || strstr(list, ",,"))) {
		free(copy);
		return vb_errf(err, VB_E_ARGS, "empty item in '%s': remove the extra comma", list);
	}
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !status;
	     tok = strtok_r(NULL, ",", &save))
		status = fn(a, tok, err);
	free(copy);
	return status;
}

static int select_op(struct bench_plan *a, const char *name, struct vb_err *err)
{
	const struct op_desc *alias = op_lookup(name); /* also pyclesperanto's names */
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
	if (!found) {
		const char *near = op_closest_name(name);

		return vb_errf(err, VB_E_ARGS, "unknown op or category '%s'%s%s%s; 'voxbench list' "
			       "shows the ops", name, near ? " (did you mean " : "", near ? near : "",
			       near ? "?)" : "");
	}
	return 0;
}

static int add_size(struct bench_plan *a, const char *text, struct vb_err *err)
{
	if (strcmp(text, "auto") == 0)
		return 0;
	if (a->nsizes == BENCH_MAX_SIZES)
		return vb_errf(err, VB_E_ARGS, "too many sizes: at most %d", BENCH_MAX_SIZES);
	if (size_parse(text, a->sizes[a->nsizes], err))
		return VB_E_ARGS;
	a->nsizes++;
	return 0;
}

static int add_dtype(struct bench_plan *a, const char *text, struct vb_err *err)
{
	if (a->ndtypes == DT_COUNT)
		return vb_errf(err, VB_E_ARGS, "too many dtypes");
	if (dtype_parse(text, &a->dtypes[a->ndtypes]))
		return vb_errf(err, VB_E_ARGS, "unknown dtype '%s': expected u8, u16, u32, i32 or f32",
				   text);
	a->ndtypes++;
	return 0;
}

/* Apply NAME=VALUE to every selected op that has the parameter; an error if none has it. */
int bench_apply_param(struct bench_plan *a, const char *assignment, struct vb_err *err)
{
	size_t len = strcspn(assignment, "=");
	int applied = 0;

	for (size_t i = 0; i < op_count; i++) {
		if (!a->selected[i])
			continue;
		for (int p = 0; op_table[i].params[p].name; p++) {
			if (strlen(op_table[i].params[p].name) != len ||
			    strncmp(op_table[i].params[p].name, assignment, len) != 0)
				continue;
			if (op_set_param(&op_table[i], a->params[i], assignment, err))
				return VB_E_ARGS;
			applied = 1;
		}
	}
	return applied ? 0 : vb_errf(err, VB_E_ARGS, "no selected op has a parameter '%.*s'; "
					       "'voxbench list OP' shows an op's parameters",
					 (int)len, assignment);
}

/* Every --input opens as a TIFF, has the channel and frame asked for; not mixed with --size. */
int bench_check_inputs(struct bench_plan *a, struct vb_err *err)
{
	for (int i = 0; i < a->ninputs; i++) {
		struct tiff_file *tf;
		struct tiff_meta meta;

		if (tiff_open(&tf, a->inputs[i], &meta, err))
			return VB_E_ARGS;
		tiff_close(tf);
		if ((size_t)a->channel >= meta.channels)
			return vb_errf(err, VB_E_ARGS, "%s has %zu channel(s): --channel %d is out of range",
					   a->inputs[i], meta.channels, a->channel);
		if (a->frame != BENCH_ALL_FRAMES && (size_t)a->frame >= meta.frames)
			return vb_errf(err, VB_E_ARGS, "%s has %zu frame(s): --frame %d is out of range",
					   a->inputs[i], meta.frames, a->frame);
		a->input_frames[i] = a->frame == BENCH_ALL_FRAMES ? meta.frames : 1;
		if (tiff_sha256_file(a->inputs[i], a->input_sha256[i], err))
			return VB_E_ARGS;
	}
	return 0;
}

/* Room an output's file name needs in its path: "<op>_<size>_<dtype><tag>_reference.tif" and
 * the temporary suffix, with the longest op name and size. */
#define SAVE_NAME_ROOM 256

/* The folder for --save-outputs is a folder (made if missing), writable, with room in its path
 * for the outputs' names: found now, not after the whole run. */
int bench_check_save_dir(const char *dir, struct vb_err *err)
{
	struct stat st;

	if (strlen(dir) + SAVE_NAME_ROOM >= PATH_MAX)
		return vb_errf(err, VB_E_ARGS, "--save-outputs folder %.80s... is too long a path (%zu "
				   "bytes) for the outputs' names; pick a shorter one", dir,
				   strlen(dir));
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return vb_errf(err, VB_E_ARGS, "--save-outputs %s is a file, not a folder; give a folder "
				   "(it is made when missing)", dir);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return vb_errf(err, VB_E_ARGS, "cannot create --save-outputs folder %s: %s", dir,
				   strerror(errno));
	if (access(dir, W_OK) != 0)
		return vb_errf(err, VB_E_ARGS, "cannot write into --save-outputs folder %s", dir);
	return 0;
}

int bench_stack_known(const char *kind)
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
static int apply_suite(struct bench_plan *a, const struct suite *s, struct vb_err *err)
{
	int status;

	a->nsizes = a->ndtypes = 0;
	if ((status = each_token(s->sizes, add_size, a, err)) ||
	    (status = each_token(s->dtypes, add_dtype, a, err)))
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

static int has_size(const struct bench_plan *a, const size_t dims[3])
{
	for (int i = 0; i < a->nsizes; i++)
		if (!memcmp(a->sizes[i], dims, sizeof(a->sizes[i])))
			return 1;
	return 0;
}

/* The ops (with their parameters), sizes, dtypes, stack and seed of one report row. */
static int like_row(struct bench_plan *a, const struct result_row *row, const char *path,
		    struct vb_err *err)
{
	const struct op_desc *op = op_find(row->op);
	size_t dims[3] = { row->width, row->height, row->depth };
	long seed = synthetic_seed(row->stack_source);
	enum dtype t;

	if (!op)
		return vb_errf(err, VB_E_ARGS, "%s has a row of op '%s', which this voxbench does not "
				   "have", path, row->op);
	if (seed < 0 || !bench_stack_known(row->stack_name))
		return vb_errf(err, VB_E_ARGS, "%s: --like re-runs synthetic stacks; its %s row was "
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
		if (a->nsizes == BENCH_MAX_SIZES)
			return vb_errf(err, VB_E_ARGS, "%s has more than %d sizes", path, BENCH_MAX_SIZES);
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
int bench_apply_like(struct bench_plan *a, const char *path, struct vb_err *err)
{
	struct report rep = { 0 };
	struct vb_err why;
	int status = 0;

	if (report_read_json(path, &rep, &why))
		return vb_errf(err, VB_E_ARGS, "--like: %s", why.msg);
	if (!rep.nrows)
		status = vb_errf(err, VB_E_ARGS, "--like: %s has no rows", path);
	memset(a->selected, 0, sizeof(a->selected));
	a->nsizes = a->ndtypes = 0;
	for (size_t i = 0; i < rep.nrows && !status; i++)
		status = like_row(a, &rep.rows[i], path, err);
	report_free(&rep);
	return status;
}

int bench_select_ops(struct bench_plan *p, const char *list, struct vb_err *err)
{
	return each_token(list, select_op, p, err);
}

int bench_add_sizes(struct bench_plan *p, const char *list, struct vb_err *err)
{
	return each_token(list, add_size, p, err);
}

int bench_add_dtypes(struct bench_plan *p, const char *list, struct vb_err *err)
{
	return each_token(list, add_dtype, p, err);
}

int bench_suite_known(const char *name)
{
	return suite_find(name) != NULL;
}

int bench_apply_suite(struct bench_plan *p, const char *name, struct vb_err *err)
{
	const struct suite *s = suite_find(name);

	return s ? apply_suite(p, s, err)
		 : vb_errf(err, VB_E_ARGS, "unknown suite '%s': expected standard or quick", name);
}
