/*
 * bench/loop.c: the benchmark's outer loop: every block (size x dtype, or file x frame) made
 * once; in it every selected op, its inputs derived for its roles and its CPU reference computed
 * (ahead, on a thread of its own, when every device is a GPU); then the op on every device
 * (ops/runner.c op_run) and on the peers; each row into the report as it finishes, with a
 * progress line. Programs are compiled ahead, for every block the run will make.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../stacks/stack.h"
#include "../stacks/tiff.h"
#include "bench.h"

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
static int make_inputs(const struct bench_plan *a, const size_t dims[3], enum dtype t,
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

/* Host memory ran out where no row can say so: one line, and exit 1. */
static int out_of_memory(const char *doing, size_t rows)
{
	char hint[160];

	fprintf(stderr, "voxbench run: out of host memory %s (after %zu rows)%s\n", doing, rows,
		vb_memory_limit_hint(hint));
	return 1;
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
	const struct bench_plan *a;
	const struct device_list *devs;
	double *copy_gbps;  /* per device: measured copy bandwidth, NaN if not measured */
	struct report *rep;
	size_t done, total; /* rows, for the progress line */
	double stack_ms;    /* making the block's stacks: the block's first row carries it */
	int overlap;        /* references on a thread of their own (every device is a GPU) */
	int ref_threads;    /* threads of the CPU reference */
	struct peer_set *peers; /* --peer: their rows follow each op's device rows */
	pthread_t prebuild_tid; /* compiling ahead in the background (overlap), until joined */
	int prebuild_pending;
};

/*
 * The rows a block makes (its ops on every device, then the peers' rows): the progress lines'
 * total. A size's later dtypes leave out the ops on derived labels.
 */
static size_t rows_per_block(const struct run_ctx *x, int later_dtype)
{
	int selected[BENCH_MAX_OPS];
	size_t n = 0;

	for (size_t i = 0; i < op_count; i++) {
		selected[i] = x->a->selected[i] && op_runs_in_block(&op_table[i], later_dtype);
		n += (size_t)selected[i];
	}
	return n * x->devs->n + peers_rows_per_block(x->peers, selected);
}

/* Every row the run will make: files and frames are first-dtype blocks, synthetic sizes not. */
static size_t rows_planned(const struct run_ctx *x)
{
	const struct bench_plan *a = x->a;
	size_t frames = 0, sizes = (size_t)(a->nsizes ? a->nsizes : 1);

	if (a->ninputs) {
		for (int i = 0; i < a->ninputs; i++)
			frames += a->input_frames[i];
		return frames * rows_per_block(x, 0);
	}
	return sizes * (rows_per_block(x, 0) + (size_t)(a->ndtypes - 1) * rows_per_block(x, 1));
}


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
	const struct bench_plan *a = x->a;

	return (struct run_settings){ a->repeat, x->ref_threads, a->save_dir, a->save_reference,
				      b->tag, a->cpu_runs, (int)x->devs->n };
}

/* One op on every device (or, when its task failed, rows saying why not). */
static int run_op(struct run_ctx *x, struct op_task *t, const struct block *b)
{
	const struct bench_plan *a = x->a;
	const struct op_desc *op = &op_table[t->op];
	struct run_settings settings = settings_of(x, b);
	char tag[sizeof(b->tag) + 24];
	size_t dims[3] = { t->in[0]->width, t->in[0]->height, t->in[0]->depth };
	int reference_counted = 0, rc = 0;
	struct vb_err err;

	for (size_t d = 0; d < x->devs->n && rc == 0 && !vb_stop_requested(); d++) {
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
	if (!t->status && rc == 0) {
		size_t before = x->rep->nrows;

		peers_run_op(x->peers, op, a->params[t->op], t->in, &settings, &t->ref, x->rep);
		for (size_t k = before; k < x->rep->nrows; k++)
			progress_row(++x->done, x->total, &x->rep->rows[k]);
	}
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
 * The reference thread: each task's inputs and CPU reference, ahead of the GPU rows while the
 * main thread runs the GPU side; as far ahead as a quarter of the free memory holds their
 * outputs (whole stacks), at least REF_AHEAD_MIN and at most REF_AHEAD_MAX tasks.
 */
#define REF_AHEAD_MIN 3
#define REF_AHEAD_MAX 256

struct ref_pipe {
	struct run_ctx *x;
	const struct block *b;
	struct op_inputs *set;
	struct op_task *tasks;
	size_t n, consumed;    /* tasks the main thread has finished with */
	size_t ahead;          /* tasks the reference thread may hold ready */
	pthread_mutex_t lock;
	pthread_cond_t moved;
};

static void *reference_thread(void *arg)
{
	struct ref_pipe *p = arg;

	for (size_t j = 0; j < p->n; j++) {
		pthread_mutex_lock(&p->lock);
		while (j >= p->consumed + p->ahead)
			pthread_cond_wait(&p->moved, &p->lock);
		pthread_mutex_unlock(&p->lock);
		if (!vb_stop_requested()) /* a stopping run makes no more references */
			task_prepare(p->x, p->b, p->set, &p->tasks[j], 1);
		pthread_mutex_lock(&p->lock);
		p->tasks[j].ready = 1;
		pthread_cond_broadcast(&p->moved);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* Threads of the main thread's comparisons beside the reference thread: a quarter of the cores
 * (half made the H200's run slower, 125 -> 156 s: the drivers' compilers, which the first rows
 * wait for, lost their cores; reports/BENCHMARKS.md). */
static int compare_threads(const struct run_ctx *x)
{
	int n = (x->ref_threads + 1) / 4;

	return n < 1 ? 1 : n;
}

/* How many tasks' references may wait for the GPU side: their outputs (at most 4 bytes a voxel,
 * plus a mask of ambiguous voxels) within a quarter of the memory free now. */
static size_t references_ahead(const struct stack *in)
{
	uint64_t per_task = (uint64_t)stack_voxels(in) * 5 + 1, fit;

	fit = vb_host_memory_available() / 4 / per_task;
	return fit < REF_AHEAD_MIN ? REF_AHEAD_MIN : fit > REF_AHEAD_MAX ? REF_AHEAD_MAX : (size_t)fit;
}

/* The selected ops of a block, as tasks over in[] (label ops only in a size's first dtype). */
static size_t block_tasks(const struct run_ctx *x, const struct stack *const in[OP_MAX_INPUTS],
			  const struct block *b, int status, const struct vb_err *why,
			  struct op_task *tasks)
{
	size_t n = 0;

	for (size_t i = 0; i < op_count; i++) {
		if (!x->a->selected[i] || !op_runs_in_block(&op_table[i], b->later_dtype))
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
	int threaded = 0, rc = 0, main_threads = 1;

	if (!tasks)
		return out_of_memory("planning the block", 0);
	pipe.n = block_tasks(x, in, b, status, why, tasks);
	pipe.ahead = references_ahead(in[0]);
	pthread_mutex_init(&pipe.lock, NULL);
	pthread_cond_init(&pipe.moved, NULL);
	if (x->overlap && !status && pipe.n > 1)
		threaded = pthread_create(&thread, NULL, reference_thread, &pipe) == 0;
	/* while references run, the main thread's own work (comparing outputs) keeps to a quarter
	 * of the cores: the references are timed on the others (they name their own counts), and
	 * one core alone made the comparisons as long as the references (101 s on the H200) */
	if (threaded) {
		main_threads = omp_get_max_threads();
		omp_set_num_threads(compare_threads(x));
	}
	for (size_t i = 0; i < pipe.n; i++) {
		if (threaded) {
			pthread_mutex_lock(&pipe.lock);
			while (!tasks[i].ready)
				pthread_cond_wait(&pipe.moved, &pipe.lock);
			/* the block's last reference is done: no reference is timed any more, so the
			 * comparisons left take every core */
			if (tasks[pipe.n - 1].ready)
				omp_set_num_threads(main_threads);
			pthread_mutex_unlock(&pipe.lock);
		} else if (!vb_stop_requested()) {
			task_prepare(x, b, &set, &tasks[i], 0);
		}
		if (rc == 0 && !vb_stop_requested())
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
static void input_tag(const struct bench_plan *a, int input, size_t frame,
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
	const struct bench_plan *a = x->a;
	struct tiff_file *tf = NULL;
	struct tiff_meta meta;
	const char *path = a->inputs[input];
	struct block b = { .path = path, .channel = a->channel };
	struct vb_err err;
	int rc = 0;

	memcpy(b.sha256, a->input_sha256[input], sizeof(b.sha256));
	if (tiff_open(&tf, path, &meta, &err)) {
		fprintf(stderr, "voxbench run: %s\n", err.msg);
		tiff_close(tf);
		return 1;
	}
	for (size_t t = 0; t < meta.frames && rc == 0 && !vb_stop_requested(); t++) {
		struct tiff_select sel = { .channel = (size_t)a->channel, .frame = t };
		struct stack s = { .width = meta.width, .height = meta.height, .depth = meta.depth,
				   .dtype = meta.dtype };
		const struct stack *const inputs[OP_MAX_INPUTS] = { &s, &s };
		int status;

		if (a->frame != BENCH_ALL_FRAMES && (size_t)a->frame != t)
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

int bench_exit_status(const struct report *rep)
{
	for (size_t i = 0; i < rep->nrows; i++)
		if (rep->rows[i].status == ROW_FAIL || rep->rows[i].status == ROW_ERROR)
			return 1;
	return 0;
}

int bench_all_gpus(const struct device_list *devs)
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
static size_t planned_blocks(const struct bench_plan *a, const struct device_list *devs,
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
 * Every program the rows will launch, compiled on threads (one by one at first launch they took
 * 80 s on the H200). On GPUs this runs in the background, beside the references and the GPU
 * rows: the drivers' compilers serialise, keeping about 2.5 of 16 cores busy on the H200
 * (reports/BENCHMARKS.md), and a row waits only for its own programs (program_cache_claim).
 */
static void prebuild(const struct bench_plan *a, const struct device_list *devs, size_t total,
		     struct report *rep)
{
	struct prebuild_block blocks[BENCH_MAX_INPUTS > BENCH_MAX_SIZES * DT_COUNT ? BENCH_MAX_INPUTS
								      : BENCH_MAX_SIZES * DT_COUNT];
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
	rep->prebuild_cpu_ms = st.cpu_ms;
	/* a progress line: where the first seconds went (the summary says it again) */
	if (st.programs && !isatty(STDERR_FILENO))
		fprintf(stderr, "[0/%zu] %zu programs compiled ahead for %zu device%s in %.1f s "
			"(%d threads)\n", total, st.programs, st.devices, st.devices == 1 ? "" : "s",
			st.ms / 1e3, st.threads);
}

struct prebuild_job {
	const struct bench_plan *a;
	const struct device_list *devs;
	size_t total;
	struct report *rep;
};

static void *prebuild_thread(void *arg)
{
	struct prebuild_job *j = arg;

	prebuild(j->a, j->devs, j->total, j->rep);
	free(j);
	return NULL;
}

/* Compile ahead: in the background when references overlap the GPU side, else now. */
static void prebuild_start(struct run_ctx *x)
{
	struct prebuild_job *j = x->overlap ? malloc(sizeof(*j)) : NULL;

	if (j) {
		*j = (struct prebuild_job){ x->a, x->devs, x->total, x->rep };
		x->rep->prebuild_beside_references = 1;
		if (pthread_create(&x->prebuild_tid, NULL, prebuild_thread, j) == 0) {
			x->prebuild_pending = 1;
			return;
		}
		free(j);
		x->rep->prebuild_beside_references = 0;
	}
	prebuild(x->a, x->devs, x->total, x->rep);
}

static void prebuild_wait(struct run_ctx *x)
{
	if (x->prebuild_pending)
		pthread_join(x->prebuild_tid, NULL);
	x->prebuild_pending = 0;
}

/*
 * The order of the sizes: as given, or, overlapping, the largest first: its references are the
 * longest, and run beside the drivers' compilers while the first rows wait for their programs.
 */
static void sizes_in_run_order(const struct bench_plan *a, int overlap, int order[BENCH_MAX_SIZES])
{
	for (int s = 0; s < a->nsizes; s++) {
		int k = s;
		uint64_t v = (uint64_t)a->sizes[s][0] * a->sizes[s][1] * a->sizes[s][2];

		/* insertion by voxels, largest first; equal sizes keep their order */
		while (overlap && k > 0 && (uint64_t)a->sizes[order[k - 1]][0] *
			a->sizes[order[k - 1]][1] * a->sizes[order[k - 1]][2] < v) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = s;
	}
}

/* Every block (size x dtype, or file x frame), made once; in it, every op on every device. */
int bench_run(const struct bench_plan *a, const struct device_list *devs, struct report *rep)
{
	struct run_ctx x = { .a = a, .devs = devs, .rep = rep };
	struct vb_err err;
	int rc = 0, order[BENCH_MAX_SIZES];

	x.copy_gbps = calloc(devs->n, sizeof(*x.copy_gbps));
	if (!x.copy_gbps)
		return out_of_memory("starting the run", 0);
	x.stack_ms = NAN;
	x.overlap = bench_all_gpus(devs);
	if (a->overlap != OVERLAP_AUTO)
		x.overlap = a->overlap == OVERLAP_ON;
	/* overlapping, the main thread keeps a core of its own for the GPU side's compiles */
	x.ref_threads = x.overlap && !a->cpu_threads_given && a->cpu_threads > 2
				? a->cpu_threads - 1 : a->cpu_threads;

	for (size_t d = 0; d < devs->n && rc == 0; d++) {
		struct device_info info = *device_info_of(devs->dev[d]);

		info.copy_gbps = x.copy_gbps[d] = probed_copy_gbps(rep, info.name);
		if (report_add_device(rep, &info, &err))
			rc = out_of_memory("listing the devices", 0);
	}
	x.total = rows_planned(&x); /* without the peers: none is open yet */
	if (rc == 0)
		prebuild_start(&x);
	if (rc == 0)
		x.peers = peers_open(&a->peer, devs, stderr);
	x.total = rows_planned(&x);
	/* a stop signal (common/cleanup.c, vb_stop_graceful) ends the run between rows */
	for (int i = 0; i < a->ninputs && rc == 0 && !vb_stop_requested(); i++)
		rc = run_file(&x, i);
	sizes_in_run_order(a, x.overlap, order);
	for (int s = 0; !a->ninputs && s < (a->nsizes ? a->nsizes : 1) && rc == 0 &&
	     !vb_stop_requested(); s++) {
		size_t dims[3] = { 0, 0, 0 };

		if (a->nsizes)
			memcpy(dims, a->sizes[order[s]], sizeof(dims));
		else
			auto_size_all(devs, dims);
		for (int t = 0; t < a->ndtypes && rc == 0 && !vb_stop_requested(); t++)
			rc = run_synthetic(&x, dims, a->dtypes[t], t > 0);
	}
	prebuild_wait(&x);
	progress_start(x.total, x.total, "", NULL, DT_F32);
	rep->peers_json = peers_json(x.peers);
	peers_close(x.peers);
	free(x.copy_gbps);
	return rc;
}

