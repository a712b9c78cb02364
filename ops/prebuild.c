/*
 * ops/prebuild.c: the programs a run will launch, compiled before it starts, on every core.
 *
 * Each selected op's plan runs once against a recording device, over a small stack of each dtype
 * the run will use: nothing is allocated or launched, but every (kernel file, build options) its
 * launches name is noted. Those are compiled into the disk cache by a pool of threads, for every
 * device of the run, before any CPU reference starts (no reference is timed beside a compiler);
 * the run's launches then only load them. A program the recording could not foresee (options
 * that depend on data) is compiled at its first launch, as without this step.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backend.h"

/* A recording device's buffers hold nothing. */
struct gpu_buf {
	size_t bytes;
};

struct program_need {
	char *name, *options;
};

struct recording {
	struct program_need *need;
	size_t n, cap;
	int failed; /* out of memory while noting: the list is incomplete, never wrong */
};

static struct recording *recording_of(struct gpu_device *d)
{
	return d->impl;
}

static int rec_buf_create(struct gpu_device *d, size_t bytes, struct gpu_buf **out,
			  struct vb_err *err)
{
	(void)d;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	(*out)->bytes = bytes;
	return VB_OK;
}

static void rec_buf_release(struct gpu_device *d, struct gpu_buf *b)
{
	(void)d;
	free(b);
}

static int rec_write(struct gpu_device *d, struct gpu_buf *b, const void *src, size_t bytes,
		     struct vb_err *err)
{
	(void)d, (void)b, (void)src, (void)bytes, (void)err;
	return VB_OK;
}

/* A plan that reads back mid-way (a count, a flag) sees zeros: its later launches may be fewer. */
static int rec_read(struct gpu_device *d, struct gpu_buf *b, void *dst, size_t bytes,
		    struct vb_err *err)
{
	(void)d, (void)b, (void)err;
	memset(dst, 0, bytes);
	return VB_OK;
}

static int rec_launch(struct gpu_device *d, const struct launch *l, const char *options, int timed,
		      struct vb_err *err)
{
	struct recording *r = recording_of(d);
	struct program_need *grown;

	(void)timed, (void)err;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->need[i].name, l->program) == 0 && strcmp(r->need[i].options, options) == 0)
			return VB_OK;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;

		grown = realloc(r->need, cap * sizeof(*grown));
		if (!grown) {
			r->failed = 1;
			return VB_OK;
		}
		r->need = grown;
		r->cap = cap;
	}
	r->need[r->n].name = strdup(l->program);
	r->need[r->n].options = strdup(options);
	if (!r->need[r->n].name || !r->need[r->n].options) {
		free(r->need[r->n].name);
		free(r->need[r->n].options);
		r->failed = 1;
		return VB_OK;
	}
	r->n++;
	return VB_OK;
}

static int rec_finish(struct gpu_device *d, double *span_ms, struct vb_err *err)
{
	(void)d, (void)err;
	*span_ms = 0;
	return VB_OK;
}

static const struct gpu_backend recording_backend = {
	.name = "recording",
	.buf_create = rec_buf_create,
	.buf_release = rec_buf_release,
	.write = rec_write,
	.read = rec_read,
	.launch = rec_launch,
	.finish = rec_finish,
};

struct gpu_device *recording_device_open(void)
{
	struct gpu_device *d = calloc(1, sizeof(*d));
	struct recording *list = calloc(1, sizeof(*list));

	if (!d || !list) {
		free(d);
		free(list);
		return NULL;
	}
	d->backend = &recording_backend;
	d->impl = list;
	snprintf(d->info.name, sizeof(d->info.name), "recording");
	return d;
}

size_t recording_count(const struct gpu_device *rec)
{
	const struct recording *r = rec->impl;

	return r->failed ? 0 : r->n;
}

void recording_entry(const struct gpu_device *rec, size_t i, const char **program,
		     const char **options)
{
	const struct recording *r = rec->impl;

	*program = r->need[i].name;
	*options = r->need[i].options;
}

void recording_device_close(struct gpu_device *rec)
{
	struct recording *r;

	if (!rec)
		return;
	r = rec->impl;
	for (size_t i = 0; i < r->n; i++) {
		free(r->need[i].name);
		free(r->need[i].options);
	}
	free(r->need);
	free(r);
	free(rec);
}

/* The small stacks a block's ops are recorded over: big enough for every op's default radii. */
#define RECORD_W 24
#define RECORD_H 24
#define RECORD_D 12

/* Note the programs of every selected op over stacks of dtype t. */
static void record_block(struct gpu_device *rec, const struct prebuild_request *q,
			 const struct prebuild_block *b)
{
	struct stack img[OP_MAX_INPUTS] = { { 0 } };
	struct op_inputs set = { .image = { &img[0], &img[1] } };
	struct vb_err err;

	if (synth_generate(&img[0], q->stack_kind, RECORD_W, RECORD_H, RECORD_D, b->dtype, 1, &err) ||
	    synth_generate(&img[1], q->stack_kind, RECORD_W, RECORD_H, RECORD_D, b->dtype, 2, &err))
		goto out;
	for (size_t i = 0; i < op_count; i++) {
		const struct stack *in[OP_MAX_INPUTS] = { &img[0], &img[1] };

		if (!q->selected[i] || !op_runs_in_block(&op_table[i], b->later_dtype))
			continue;
		/* an op that cannot run on these stacks compiles at its first launch instead */
		if (op_inputs_resolve(&set, &op_table[i], in, &err) == VB_OK)
			op_dry_run(rec, &op_table[i], q->params[i], in, b->wide_index, &err);
	}
out:
	op_inputs_free(&set);
	stack_free(&img[0]);
	stack_free(&img[1]);
}

struct pool {
	struct gpu_device *const *devs;
	size_t ndevs;
	const struct recording *list;
	size_t next, failed; /* taken with atomics */
	uint64_t cpu_us;     /* CPU time of the compile threads, added with atomics */
};

/* CPU time of the calling thread, microseconds (0 when it cannot be read). */
static uint64_t thread_cpu_us(void)
{
	struct rusage u;

	if (getrusage(RUSAGE_THREAD, &u))
		return 0;
	return (uint64_t)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static void *compile_worker(void *arg)
{
	struct pool *p = arg;
	size_t total = p->ndevs * p->list->n, k;
	uint64_t cpu0 = thread_cpu_us();

	while ((k = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < total) {
		/* in the order the rows launch them, each op on every device in turn: a row waits
		 * only for its own programs (program_cache_claim), not for the whole list */
		struct gpu_device *d = p->devs[k % p->ndevs];
		const struct program_need *need = &p->list->need[k / p->ndevs];
		struct vb_err ignored; /* the launch that needs it builds it again and says why */

		if (d->backend->precompile(d, need->name, need->options, &ignored))
			__atomic_fetch_add(&p->failed, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&p->cpu_us, thread_cpu_us() - cpu0, __ATOMIC_RELAXED);
	return NULL;
}

static void compile_all(struct gpu_device *const *devs, size_t ndevs,
			const struct recording *list, int threads, struct prebuild_stats *st)
{
	struct pool p = { devs, ndevs, list, 0, 0, 0 };
	pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
	int started = 0;

	for (int t = 0; tid && t < threads; t++)
		if (pthread_create(&tid[started], NULL, compile_worker, &p) == 0)
			started++;
	if (!started) /* no thread could start: this one does the work */
		compile_worker(&p);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	free(tid);
	st->failed = p.failed;
	st->threads = started ? started : 1;
	st->cpu_ms = (double)p.cpu_us / 1e3;
}

void programs_prebuild(struct gpu_device *const *devs, size_t ndevs,
		       const struct prebuild_request *q, struct prebuild_stats *st)
{
	struct gpu_device *rec = recording_device_open();
	struct gpu_device **able = calloc(ndevs ? ndevs : 1, sizeof(*able));
	size_t nable = 0;
	double t0 = vb_now_ms();

	memset(st, 0, sizeof(*st));
	for (size_t d = 0; able && rec && d < ndevs; d++)
		if (devs[d]->backend->precompile)
			able[nable++] = devs[d];
	if (nable && program_cache_enabled()) {
		for (size_t b = 0; b < q->nblocks; b++)
			record_block(rec, q, &q->blocks[b]);
		st->programs = recording_count(rec);
		st->devices = nable;
		compile_all(able, nable, rec->impl, q->threads > 0 ? q->threads : 1, st);
	}
	recording_device_close(rec);
	free(able);
	st->ms = vb_now_ms() - t0;
}
