/*
 * tools/ref_timing.c: the CPU references alone, at several thread counts (a benchmark, not a test).
 *
 *   ref_timing [-s WxHxD] [-t DTYPE] [-k KIND] [-j N,N,...] [OP|CATEGORY ...]
 *
 * For each op (default: all) over the run's synthetic stacks (seed 42 and 43, inputs derived as
 * a run derives them), one timed run of its reference at each thread count (default 1 and every
 * CPU thread); one line per op: the milliseconds at each count and the last count's speedup over
 * the first. A run's references are timed the same way, so this says which of them keeps the
 * cores busy and which does not. Exit status: 0, 1 when an op failed, 2 bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/vb.h"
#include "../ops/op.h"
#include "../ops/runner.h"
#include "../stacks/stack.h"

#define USAGE "usage: ref_timing [-s WxHxD] [-t DTYPE] [-k KIND] [-j N,N,...] [OP|CATEGORY ...]"
#define MAX_COUNTS 8

/* Thread counts from "1,16": how many, or -1. */
static int parse_counts(const char *text, int *counts)
{
	int n = 0;

	for (const char *p = text; *p && n < MAX_COUNTS;) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 1 || v > 4096 || (*end && *end != ','))
			return -1;
		counts[n++] = (int)v;
		p = *end ? end + 1 : end;
	}
	return n ? n : -1;
}

/* Op i is chosen: no names given, or a name is the op or its category. */
static int chosen(const struct op_desc *op, char **names, int n)
{
	for (int k = 0; k < n; k++)
		if (!strcmp(names[k], op->name) || !strcmp(names[k], op_category_name(op->category)))
			return 1;
	return n == 0;
}

/* One op at every thread count; 0, or 1 when its reference failed. */
static int time_op(const struct op_desc *op, struct op_inputs *set, const int *counts, int n)
{
	const struct stack *in[OP_MAX_INPUTS] = { set->image[0], set->image[1] };
	double params[OP_MAX_PARAMS], ms[MAX_COUNTS];
	struct vb_err err = { "" };

	if (op_inputs_resolve(set, op, in, &err)) {
		printf("%-48s error: %s\n", op->name, err.msg);
		return 1;
	}
	if (!(op->dtypes & DT_BIT(in[0]->dtype)))
		return 0; /* as in a run: an op that does not take this dtype has no row */
	op_default_params(op, params);
	for (int k = 0; k < n; k++) {
		struct run_settings s = { .repeat = 1, .cpu_threads = counts[k], .cpu_runs = 1 };
		struct reference_cache ref = { 0 };

		reference_compute(op, params, in, &s, &ref);
		ms[k] = ref.cpu_ms;
		if (ref.status) {
			printf("%-48s error: %s\n", op->name, ref.reason);
			reference_cache_free(&ref);
			return 1;
		}
		reference_cache_free(&ref);
	}
	printf("%-48s", op->name);
	for (int k = 0; k < n; k++)
		printf(" %10.1f", ms[k]);
	printf(" %7.2fx\n", n > 1 ? ms[0] / ms[n - 1] : 1.0);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	size_t dims[3] = { 256, 256, 128 };
	const char *kind = "blobs";
	enum dtype t = DT_F32;
	int counts[MAX_COUNTS] = { 1, vb_cpu_threads() }, n = 2, argi, failed = 0, opt;
	struct stack img[OP_MAX_INPUTS] = { { 0 } };
	struct op_inputs set = { 0 };
	struct vb_err err = { "" };

	opterr = 0;
	while ((opt = getopt(argc, argv, "s:t:k:j:")) != -1) {
		if ((opt == 's' && size_parse(optarg, dims, &err) == VB_OK) ||
		    (opt == 't' && dtype_parse(optarg, &t) == VB_OK) || (opt == 'k' && (kind = optarg)) ||
		    (opt == 'j' && (n = parse_counts(optarg, counts)) > 0))
			continue;
		fprintf(stderr, "ref_timing: bad option -%c%s%s; %s\n", opt == '?' ? optopt : opt,
			opt == '?' ? "" : " ", opt == '?' ? "" : optarg, USAGE);
		return 2;
	}
	argi = optind;
	for (int i = 0; i < 2; i++)
		if (synth_generate(&img[i], kind, dims[0], dims[1], dims[2], t, 42 + i, &err)) {
			fprintf(stderr, "ref_timing: %s\n", err.msg);
			return 2;
		}
	set.image[0] = &img[0];
	set.image[1] = &img[1];
	printf("# references over %zux%zux%zu %s %s, one run each; ms at", dims[0], dims[1], dims[2],
	       dtype_name(t), kind);
	for (int k = 0; k < n; k++)
		printf(" %d", counts[k]);
	printf(" threads, then the speedup of the last count over the first\n");
	for (size_t i = 0; i < op_count; i++)
		if (chosen(&op_table[i], argv + argi, argc - argi))
			failed |= time_op(&op_table[i], &set, counts, n);
	op_inputs_free(&set);
	stack_free(&img[0]);
	stack_free(&img[1]);
	return failed;
}
