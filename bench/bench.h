/*
 * bench/bench.h: the benchmark itself. A plan says what to run (ops and their parameters,
 * sizes, dtypes, stacks or input files, repetitions, what to save); bench_run runs it on a list
 * of devices: every block (size x dtype, or file x frame) made once, in it every op on every
 * device beside its CPU reference (ops/runner.h runs one op on one device), each row into the
 * report. cli/cmd_run.c turns the command line into a plan; nothing here parses arguments.
 */
#ifndef VB_BENCH_H
#define VB_BENCH_H

#include <stdint.h>

#include "../common/vb.h"
#include "../ops/op.h"
#include "../ops/peers.h"
#include "../ops/runner.h"
#include "../reports/report.h"

#define BENCH_MAX_SIZES 16
#define BENCH_MAX_INPUTS 16
#define BENCH_ALL_FRAMES (-1)
/* More rows than this in op_table is a build error caught at start-up (cmd_run). */
#define BENCH_MAX_OPS 512

enum bench_overlap { OVERLAP_AUTO, OVERLAP_ON, OVERLAP_OFF };

struct bench_plan {
	int selected[BENCH_MAX_OPS];                 /* per op_table row */
	double params[BENCH_MAX_OPS][OP_MAX_PARAMS]; /* per op_table row */
	size_t sizes[BENCH_MAX_SIZES][3];
	int nsizes;                            /* 0: size chosen per device */
	enum dtype dtypes[DT_COUNT];
	int ndtypes;
	const char *stack;                     /* synthetic kind */
	int repeat, cpu_threads, cpu_runs;
	int cpu_threads_given;                 /* --cpu-threads, not the default */
	enum bench_overlap overlap;
	const char *suite;                     /* the suite whose sizes and dtypes these are */
	const char *inputs[BENCH_MAX_INPUTS];  /* TIFF files instead of synthetic stacks */
	size_t input_frames[BENCH_MAX_INPUTS]; /* frames in each file */
	char input_sha256[BENCH_MAX_INPUTS][65]; /* of each file, read once */
	int ninputs, channel, frame;           /* frame: BENCH_ALL_FRAMES or one */
	const char *save_dir;
	int save_reference;
	struct peer_request peer;              /* the user's libraries run beside (ops/peers.h) */
	uint64_t seed;
};

/* ---- making a plan (bench/plan.c); each VB_E_ARGS with a message for the user ---- */

/* The defaults: no op selected, each op's default parameters, blobs, 5 repeats, 3 CPU runs. */
void bench_plan_init(struct bench_plan *p);
/* Comma-separated op names, categories or "all". */
int bench_select_ops(struct bench_plan *p, const char *list, struct vb_err *err);
/* Comma-separated WxHxD sizes, N cubes or "auto"; comma-separated dtypes. */
int bench_add_sizes(struct bench_plan *p, const char *list, struct vb_err *err);
int bench_add_dtypes(struct bench_plan *p, const char *list, struct vb_err *err);
/* NAME=VALUE on every selected op that has the parameter; an error if none has it. */
int bench_apply_param(struct bench_plan *p, const char *assignment, struct vb_err *err);
/* Fixed sets of sizes and dtypes (standard, quick) every machine runs alike. */
int bench_suite_known(const char *name);
int bench_apply_suite(struct bench_plan *p, const char *name, struct vb_err *err);
/* Exactly the rows of another report (ops, parameters, sizes, dtypes, stack, seed). */
int bench_apply_like(struct bench_plan *p, const char *path, struct vb_err *err);
int bench_stack_known(const char *kind);
/* Every input opens as a TIFF and has the channel and frame asked for (read once here). */
int bench_check_inputs(struct bench_plan *p, struct vb_err *err);
/* The --save-outputs folder is a folder (made if missing), writable, with room for names. */
int bench_check_save_dir(const char *dir, struct vb_err *err);

/* ---- running it (bench/loop.c) ---- */

/* Every device a GPU (the references then overlap the GPU side; the standard suite). */
int bench_all_gpus(const struct device_list *devs);
/*
 * Run the plan on devs into rep (devices, rows, compile-ahead figures, peers). 0, or 1 when the
 * run had to stop (host memory ran out, an input could not be read: one line on stderr).
 */
int bench_run(const struct bench_plan *p, const struct device_list *devs, struct report *rep);
/* 1 when a row failed or errored, else 0. */
int bench_exit_status(const struct report *rep);

#endif
