/*
 * ops/runner.c: devices of every backend, and one op's full measurement as a result row.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "../reports/render.h"
#include "../stacks/tiff.h"
#include "backend.h"

#define MAX_REPEAT 256
/* Below this many voxels the CPU reference gets an untimed warm-up run too (unless one run is
 * all that was asked for). */
#define CPU_WARMUP_VOXELS (16u << 20)
#define CPU_MAX_RUNS 3

static const struct gpu_backend *const backends[] = { &opencl_backend, &cuda_backend };
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

static int backend_wanted(const struct gpu_backend *b, const char *which)
{
	return !which || !*which || strcmp(which, "all") == 0 || strcmp(which, b->name) == 0;
}

int backend_name_check(const char *which, struct vb_err *err)
{
	for (size_t b = 0; b < NBACKENDS; b++)
		if (backend_wanted(backends[b], which))
			return VB_OK;
	return vb_errf(err, VB_E_ARGS, "unknown backend '%s': expected opencl, cuda or all", which);
}

int devices_open_backend(struct device_list *all, const char *which, struct vb_err *err)
{
	int loaded = 0, status = backend_name_check(which, err);
	struct vb_err why[NBACKENDS];

	all->dev = NULL;
	all->n = 0;
	if (status)
		return status;
	for (size_t b = 0; b < NBACKENDS; b++) {
		int s;

		why[b].msg[0] = '\0';
		if (!backend_wanted(backends[b], which))
			continue;
		s = backends[b]->enumerate(&all->dev, &all->n, &why[b]);
		if (s == VB_OK)
			loaded = 1;
		else if (s != VB_E_NOLOADER)
			status = vb_errf(err, s, "%s", why[b].msg);
	}
	if (!loaded && status == VB_OK) {
		/* every backend asked for is missing: say why for each */
		char joined[sizeof(why[0].msg)] = "";

		for (size_t b = 0; b < NBACKENDS; b++) {
			if (!why[b].msg[0])
				continue;
			if (joined[0])
				strncat(joined, "; ", sizeof(joined) - strlen(joined) - 1);
			strncat(joined, why[b].msg, sizeof(joined) - strlen(joined) - 1);
		}
		return vb_errf(err, VB_E_NOLOADER, "%s", joined);
	}
	return status;
}

int devices_open(struct device_list *all, struct vb_err *err)
{
	return devices_open_backend(all, NULL, err);
}

void devices_close(struct device_list *all)
{
	devices_drop_inputs(all);
	for (size_t i = 0; i < all->n; i++) {
		struct gpu_device *d = all->dev[i];

		if (d->staging)
			d->backend->staging_free(d, d->staging);
		d->backend->close(d);
	}
	free(all->dev);
	all->dev = NULL;
	all->n = 0;
}

const struct device_info *device_info_of(const struct gpu_device *d)
{
	return &d->info;
}

int device_is_gpu(const struct gpu_device *d)
{
	return d->is_gpu;
}

static int is_index(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int devices_select(const struct device_list *all, const char *spec, struct device_list *out,
		   struct vb_err *err)
{
	out->n = 0;
	out->dev = calloc(all->n ? all->n : 1, sizeof(*out->dev));
	if (!out->dev)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	if (!spec || !*spec) {
		/* the first GPU of each backend: OpenCL and CUDA side by side on one card */
		for (size_t b = 0; b < NBACKENDS; b++) {
			for (size_t i = 0; i < all->n; i++) {
				if (all->dev[i]->is_gpu && all->dev[i]->backend == backends[b]) {
					out->dev[out->n++] = all->dev[i];
					break;
				}
			}
		}
		if (!out->n && all->n)
			out->dev[out->n++] = all->dev[0];
	} else if (strcmp(spec, "all") == 0) {
		for (size_t i = 0; i < all->n; i++)
			out->dev[out->n++] = all->dev[i];
	} else if (is_index(spec)) {
		size_t i = strtoul(spec, NULL, 10);

		if (i < all->n)
			out->dev[out->n++] = all->dev[i];
	} else {
		for (size_t i = 0; i < all->n; i++)
			if (vb_contains_nocase(all->dev[i]->info.name, spec))
				out->dev[out->n++] = all->dev[i];
	}
	if (out->n)
		return VB_OK;
	free(out->dev);
	out->dev = NULL;
	if (!all->n)
		return vb_errf(err, VB_E_NODEVICE,
			       "no OpenCL or CUDA device found; run 'voxbench probe' to see why");
	return vb_errf(err, VB_E_ARGS,
		       "no device matches '%s': give an index (0..%zu), 'all', or part of a name "
		       "shown by 'voxbench probe'",
		       spec, all->n - 1);
}

void op_row_start(struct result_row *row, const struct gpu_device *dev, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *in)
{
	result_row_init(row);
	snprintf(row->op, sizeof(row->op), "%s", op->name);
	snprintf(row->category, sizeof(row->category), "%s", op_category_name(op->category));
	row->nparams = 0;
	for (int i = 0; op->params[i].name && i < REPORT_MAX_PARAMS; i++) {
		struct param_value *p = &row->params[row->nparams++];

		snprintf(p->name, sizeof(p->name), "%s", op->params[i].name);
		p->value = params[i];
		p->is_int = op->params[i].type == PARAM_INT;
	}
	snprintf(row->backend, sizeof(row->backend), "%s", dev->info.backend);
	snprintf(row->device, sizeof(row->device), "%s", dev->info.name);
	snprintf(row->stack_name, sizeof(row->stack_name), "%s", in->name);
	snprintf(row->stack_source, sizeof(row->stack_source), "%s", in->source);
	row->width = in->width;
	row->height = in->height;
	row->depth = in->depth;
	snprintf(row->dtype, sizeof(row->dtype), "%s", dtype_name(in->dtype));
}

static struct timing summarize(const double *t, int n)
{
	struct timing s = { vb_median(t, (size_t)n), t[0], t[0], n };

	for (int i = 1; i < n; i++) {
		s.min = fmin(s.min, t[i]);
		s.max = fmax(s.max, t[i]);
	}
	return s;
}

void devices_drop_inputs(const struct device_list *devs)
{
	for (size_t i = 0; i < devs->n; i++) {
		struct gpu_device *d = devs->dev[i];

		for (int k = 0; k < d->nresident; k++)
			d->backend->buf_release(d, d->resident[k].buf);
		d->nresident = 0;
	}
}

/*
 * The device's copy of input stack s, uploaded at its first use in the block (the time it took
 * into *upload_ms each time it is lent, so every row reports what its inputs cost to upload).
 * VB_E_TOO_BIG when the device keeps no more: the caller uploads its own copy.
 */
static int lend_input(struct gpu_device *d, const struct stack *s, struct gpu_buf **buf,
		      double *upload_ms, struct vb_err *err)
{
	struct resident_input *r;
	size_t bytes = stack_bytes(s);
	double t0;
	int status;

	for (int k = 0; k < d->nresident; k++) {
		if (d->resident[k].host == s->data && d->resident[k].bytes == bytes) {
			*buf = d->resident[k].buf;
			*upload_ms = d->resident[k].upload_ms;
			return VB_OK;
		}
	}
	if (d->nresident == RESIDENT_MAX)
		return VB_E_TOO_BIG;
	r = &d->resident[d->nresident];
	if ((status = d->backend->buf_create(d, bytes, &r->buf, err)))
		return status;
	t0 = vb_now_ms();
	if ((status = d->backend->write(d, r->buf, s->data, bytes, err))) {
		d->backend->buf_release(d, r->buf);
		return status;
	}
	r->upload_ms = *upload_ms = vb_now_ms() - t0;
	r->host = s->data;
	r->bytes = bytes;
	*buf = r->buf;
	d->nresident++;
	return VB_OK;
}

/* Lend the run the device's copies of its inputs; h2d_ms sums what their uploads took. */
static int lend_inputs(struct gpu_run *run, const struct op_call *c, struct result_row *row,
		       struct vb_err *err)
{
	row->h2d_ms = 0;
	for (int i = 0; i < c->op->n_inputs; i++) {
		double ms = 0;
		int status = lend_input(run->dev, c->in[i], &run->in[i], &ms, err);

		if (status == VB_E_TOO_BIG)
			continue; /* upload() gives this run its own copy */
		if (status)
			return status;
		run->in_lent[i] = 1;
		/* one host stack passed twice is uploaded once */
		if (!(i > 0 && c->in[i]->data == c->in[0]->data))
			row->h2d_ms += ms;
	}
	return VB_OK;
}

/*
 * The host stack the output is downloaded into: the device's page-locked staging memory (grown
 * when too small), or, where there is none, a stack of its own. *staged says which.
 */
static int output_host(struct gpu_device *d, struct stack *out, int *staged, struct vb_err *err)
{
	size_t bytes = stack_bytes(out);
	struct vb_err ignored;

	*staged = 0;
	if (d->backend->staging_alloc && d->staging_bytes < bytes) {
		if (d->staging)
			d->backend->staging_free(d, d->staging);
		d->staging = d->backend->staging_alloc(d, bytes, &ignored);
		d->staging_bytes = d->staging ? bytes : 0;
	}
	if (d->staging && d->staging_bytes >= bytes) {
		out->data = d->staging;
		*staged = 1;
		return VB_OK;
	}
	return stack_alloc(out, out->width, out->height, out->depth, out->dtype, err);
}

static void release_run(struct gpu_run *run)
{
	const struct gpu_backend *b = run->dev->backend;

	for (int i = 0; i < OP_MAX_INPUTS; i++)
		if (!run->in_lent[i])
			b->buf_release(run->dev, run->in[i]);
	memset(run->in_lent, 0, sizeof(run->in_lent));
	b->buf_release(run->dev, run->out);
	for (int i = 0; i < RUN_MAX_SCRATCH; i++)
		b->buf_release(run->dev, run->scratch[i]);
	memset(run->in, 0, sizeof(run->in));
	run->out = NULL;
	memset(run->scratch, 0, sizeof(run->scratch));
}

/*
 * The host stacks a run transfers itself: each input the device does not lend, once (two-image
 * ops may pass one twice), and the output unless it lands in the device's staging memory.
 */
static size_t host_buffers(const struct gpu_run *run, const struct op_call *c,
			   void *ptr[OP_MAX_INPUTS + 1], size_t bytes[OP_MAX_INPUTS + 1])
{
	size_t n = 0;

	for (int i = 0; i < c->op->n_inputs; i++) {
		if (run->in_lent[i] || (i > 0 && c->in[i]->data == c->in[0]->data))
			continue;
		ptr[n] = c->in[i]->data;
		bytes[n++] = stack_bytes(c->in[i]);
	}
	if (c->out->data != run->dev->staging) {
		ptr[n] = c->out->data;
		bytes[n++] = stack_bytes(c->out);
	}
	return n;
}

/*
 * Page-lock the host stacks where the backend can (transfers then run at DMA speed); the time it
 * takes is kept apart in row->pin_ms. A failure leaves everything pageable: row->pinned = 0.
 */
static void pin_host(struct gpu_run *run, const struct op_call *c, struct result_row *row,
		     int pin)
{
	struct gpu_device *dev = run->dev;
	void *ptr[OP_MAX_INPUTS + 1];
	size_t bytes[OP_MAX_INPUTS + 1], n, done = 0;
	struct vb_err ignored;
	double t0 = vb_now_ms();

	if (!dev->backend->host_register) {
		if (pin)
			row->pinned = 0;
		return;
	}
	if (!pin && !run->host_pinned)
		return; /* also when the run failed before its output existed */
	n = host_buffers(run, c, ptr, bytes);
	if (!pin) {
		for (size_t i = 0; i < n; i++)
			dev->backend->host_unregister(dev, ptr[i]);
		run->host_pinned = 0;
		row->pin_ms += vb_now_ms() - t0;
		return;
	}
	while (done < n && dev->backend->host_register(dev, ptr[done], bytes[done], &ignored) == VB_OK)
		done++;
	row->pinned = run->host_pinned = done == n;
	if (!row->pinned)
		while (done > 0)
			dev->backend->host_unregister(dev, ptr[--done]);
	row->pin_ms = vb_now_ms() - t0;
}

/* Device buffers for the inputs not lent and the output, those inputs uploaded (their wall clock
 * added to row->h2d_ms). */
static int upload(struct gpu_run *run, const struct op_call *c, struct result_row *row,
		  struct vb_err *err)
{
	const struct gpu_backend *b = run->dev->backend;
	double t0;
	int status;

	for (int i = 0; i < c->op->n_inputs; i++) {
		if (run->in_lent[i])
			continue;
		status = b->buf_create(run->dev, stack_bytes(c->in[i]), &run->in[i], err);
		if (status)
			return status;
	}
	status = b->buf_create(run->dev, stack_bytes(c->out), &run->out, err);
	if (status)
		return status;
	t0 = vb_now_ms();
	for (int i = 0; i < c->op->n_inputs; i++) {
		if (run->in_lent[i])
			continue;
		status = b->write(run->dev, run->in[i], c->in[i]->data, stack_bytes(c->in[i]), err);
		if (status)
			return status;
	}
	row->h2d_ms += vb_now_ms() - t0;
	return VB_OK;
}

/* Warm-up (compiles; time kept apart), then `repeat` timed runs of the op's plan. */
static int time_gpu(struct gpu_run *run, const struct op_call *c, int repeat,
		    struct result_row *row, struct vb_err *err)
{
	struct gpu_device *dev = run->dev;
	double times[MAX_REPEAT], span;
	int status;

	double t0 = vb_now_ms();

	dev->compile_ms = 0;
	dev->programs_built = dev->programs_cached = 0;
	run->timed = 0;
	status = c->op->gpu(run, c, err);
	if (status || (status = dev->backend->finish(dev, &span, err)))
		return status;
	row->compile_ms = dev->compile_ms;
	row->cache_hit = dev->programs_built == 0;
	row->phase_ms[PHASE_WARMUP] = vb_now_ms() - t0;
	t0 = vb_now_ms();
	run->timed = 1;
	for (int i = 0; i < repeat; i++) {
		status = c->op->gpu(run, c, err);
		if (status || (status = dev->backend->finish(dev, &span, err)))
			return status;
		times[i] = span;
	}
	row->gpu = summarize(times, repeat);
	row->phase_ms[PHASE_TIMED] = vb_now_ms() - t0;
	return VB_OK;
}

/* The CPU reference of c into ref, timed like the GPU: warm-up (small stacks), then runs. */
static int run_reference(const struct op_call *c, int repeat, int max_runs,
			 struct reference_cache *ref,
			 struct vb_err *err)
{
	int limit = max_runs > 0 && max_runs < CPU_MAX_RUNS ? max_runs : CPU_MAX_RUNS;
	int runs = repeat < limit ? repeat : limit, status;
	double times[CPU_MAX_RUNS];
	struct op_call rc = *c;

	if (ref->out.data)
		return VB_OK;
	status = stack_alloc(&ref->out, c->out->width, c->out->height, c->out->depth,
			     c->out->dtype, err);
	if (status)
		return status;
	rc.out = &ref->out;
	ref->side_value = NAN;
	rc.side_value = &ref->side_value;
	ref->cmp_scale = 0;
	rc.cmp_scale = &ref->cmp_scale;
	if (c->op->ambiguity != AMBIG_NONE) {
		ref->ambiguous = malloc(stack_voxels(&ref->out) ? stack_voxels(&ref->out) : 1);
		if (!ref->ambiguous) {
			status = vb_errf(err, VB_E_NOMEM, "out of host memory for %s's ambiguity map",
					 c->op->name);
			goto out;
		}
		rc.ambiguous = ref->ambiguous;
	}
	if (rc.ambiguous)
		vb_parallel_zero(rc.ambiguous, stack_voxels(&ref->out), c->threads);
	/* one run asked for: no warm-up run, but its output's pages are touched first, so the run
	 * does not time the kernel's page faults */
	if (runs == 1)
		vb_parallel_zero(ref->out.data, stack_bytes(&ref->out), c->threads);
	else if (stack_voxels(c->in[0]) < CPU_WARMUP_VOXELS && (status = c->op->ref(&rc, err)))
		goto out;
	for (int i = 0; i < runs; i++) {
		double t0 = vb_now_ms();

		if (rc.ambiguous) /* each run marks afresh */
			vb_parallel_zero(rc.ambiguous, stack_voxels(&ref->out), c->threads);
		status = c->op->ref(&rc, err);
		if (status)
			goto out;
		times[i] = vb_now_ms() - t0;
	}
	ref->cpu_ms = vb_median(times, (size_t)runs);
	ref->cpu_min_ms = ref->cpu_max_ms = times[0];
	for (int i = 1; i < runs; i++) {
		ref->cpu_min_ms = fmin(ref->cpu_min_ms, times[i]);
		ref->cpu_max_ms = fmax(ref->cpu_max_ms, times[i]);
	}
	ref->cpu_runs = runs;
	ref->cpu_threads = c->threads;
out:
	if (status)
		reference_cache_free(ref);
	return status;
}

void reference_cache_free(struct reference_cache *ref)
{
	stack_free(&ref->out);
	free(ref->ambiguous);
	ref->ambiguous = NULL;
	ref->compared = 0;
}

/* Label roles need integer voxels; a label op given floats refuses (a skip row says so). */
static int check_inputs(const struct op_desc *op, const struct stack *const in[OP_MAX_INPUTS],
			struct vb_err *err)
{
	for (int i = 0; i < op->n_inputs; i++)
		if (op->role[i] == ROLE_LABELS && dtype_is_float(in[i]->dtype))
			return vb_errf(err, VB_E_UNSUPPORTED, "%s needs an integer label image as "
				       "input %d, not %s", op->name, i + 1, dtype_name(in[i]->dtype));
	return VB_OK;
}

/* The call of op over in[] with its output's shape (no data): what op_run and the reference share. */
static int op_call_make(const struct op_desc *op, const double params[OP_MAX_PARAMS],
			const struct stack *const in[OP_MAX_INPUTS], int threads,
			struct op_call *c, struct stack *out, struct vb_err *err)
{
	size_t dims[3];
	int status;

	memset(c, 0, sizeof(*c));
	c->op = op;
	c->threads = threads;
	if (!(op->dtypes & DT_BIT(in[0]->dtype)))
		return vb_errf(err, VB_E_UNSUPPORTED, "%s does not accept %s input", op->name,
			       dtype_name(in[0]->dtype));
	memcpy(c->p, params, sizeof(c->p));
	for (int i = 0; i < op->n_inputs; i++)
		c->in[i] = in[i];
	if ((status = check_inputs(op, in, err)) || (status = op_output_dims(c, dims, err)))
		return status;
	*out = (struct stack){ .width = dims[0], .height = dims[1], .depth = dims[2],
			       .dtype = op_output_dtype(op, in[0]->dtype) };
	c->out = out;
	return VB_OK;
}

int op_dry_run(struct gpu_device *dev, const struct op_desc *op,
	       const double params[OP_MAX_PARAMS], const struct stack *const in[OP_MAX_INPUTS],
	       int wide_index, struct vb_err *err)
{
	struct gpu_run run = { .dev = dev, .wide_index = wide_index };
	struct op_call c;
	struct stack shape;
	int status = op_call_make(op, params, in, 1, &c, &shape, err);

	if (status)
		return status;
	run.in_type = in[0]->dtype;
	run.out_type = shape.dtype;
	for (int i = 0; i < op->n_inputs && !status; i++)
		status = dev->backend->buf_create(dev, stack_bytes(in[i]), &run.in[i], err);
	if (!status)
		status = dev->backend->buf_create(dev, stack_bytes(&shape), &run.out, err);
	if (!status)
		status = op->gpu(&run, &c, err);
	release_run(&run);
	return status;
}

void reference_compute(const struct op_desc *op, const double params[OP_MAX_PARAMS],
		       const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
		       struct reference_cache *ref)
{
	int repeat = s->repeat < 1 ? 1 : s->repeat > MAX_REPEAT ? MAX_REPEAT : s->repeat;
	struct vb_err err = { "" };
	struct op_call c;
	struct stack shape;
	double t0 = vb_now_ms();

	ref->computed = 1;
	ref->status = op_call_make(op, params, in, s->cpu_threads, &c, &shape, &err);
	if (!ref->status)
		ref->status = run_reference(&c, repeat, s->cpu_runs, ref, &err);
	snprintf(ref->reason, sizeof(ref->reason), "%s", err.msg);
	ref->wall_ms = vb_now_ms() - t0;
}

static void finish_row(struct result_row *row, const struct delta *d, uint64_t bytes)
{
	row->has_delta = 1;
	row->delta.max_abs = d->max_abs;
	row->delta.mean_abs = d->mean_abs;
	row->delta.rmse = d->rmse;
	row->delta.tolerance = d->tolerance;
	row->delta.mismatches = d->mismatches;
	row->delta.ambiguous = d->ambiguous;
	row->delta.labels_gpu = d->labels_gpu;
	row->delta.labels_ref = d->labels_ref;
	row->status = d->mismatches ? ROW_FAIL : ROW_PASS;
	if (d->mismatches && d->labels_gpu >= 0)
		snprintf(row->reason, sizeof(row->reason),
			 "%llu voxels are labelled differently from the CPU reference "
			 "(%lld labels on the GPU, %lld in the reference; %llu more differ where "
			 "the decision was ambiguous)",
			 (unsigned long long)d->mismatches, (long long)d->labels_gpu,
			 (long long)d->labels_ref, (unsigned long long)d->ambiguous);
	else if (d->mismatches)
		snprintf(row->reason, sizeof(row->reason),
			 "%llu voxels differ from the CPU reference by more than %g (max %g)",
			 (unsigned long long)d->mismatches, d->tolerance, d->max_abs);
	row->bytes_moved = bytes;
	row->speedup = row->cpu_ms / row->gpu.median;
	row->speedup_with_transfers = row->cpu_ms / (row->gpu.median + row->h2d_ms + row->d2h_ms);
	row->effective_gbps = (double)bytes / (row->gpu.median * 1e6);
}

/* <dir>/<op>_<size>_<dtype><tag><suffix>.tif (.csv for tables), with the input's voxel size. */
static int save_output(const struct run_settings *s, const struct op_desc *op,
		       const struct stack *in, struct stack *out, const char *suffix,
		       struct vb_err *err)
{
	char path[4096];

	memcpy(out->voxel_size, in->voxel_size, sizeof(out->voxel_size));
	memcpy(out->unit, in->unit, sizeof(out->unit));
	if (snprintf(path, sizeof(path), "%s/%s_%zux%zux%zu_%s%s%s.%s", s->save_dir, op->name,
		     in->width, in->height, in->depth, dtype_name(in->dtype),
		     s->save_tag ? s->save_tag : "", suffix,
		     op->table_columns ? "csv" : "tif") >= (int)sizeof(path))
		return vb_errf(err, VB_E_ARGS, "cannot save %s's output: the path in %s is too long; "
			       "pick a shorter --save-outputs folder", op->name, s->save_dir);
	if (op->table_columns)
		return csv_write_table(path, op->table_columns, out, err);
	return tiff_write_stack(path, out, err);
}

/* The first rows of a table op's GPU output, for the report. */
static int keep_table(const struct op_desc *op, const struct stack *t, struct result_row *row,
		      struct vb_err *err)
{
	size_t rows = t->height < REPORT_TABLE_ROWS ? t->height : REPORT_TABLE_ROWS;

	row->table = malloc((rows ? rows : 1) * t->width * sizeof(float));
	if (!row->table)
		return vb_errf(err, VB_E_NOMEM, "out of host memory keeping %s's table", op->name);
	for (size_t i = 0; i < rows * t->width; i++)
		row->table[i] = (float)stack_get(t, i);
	row->table_columns = op->table_columns;
	row->table_cols = (uint32_t)t->width;
	row->table_rows = (uint32_t)rows;
	row->table_rows_total = (uint32_t)t->height;
	return VB_OK;
}


/* The side value the plan pointed at (gpu_side_value), into the row. */
static int read_side_value(struct gpu_run *run, const struct op_desc *op, struct result_row *row,
			   struct vb_err *err)
{
	float v[64];
	size_t n = run->side_index + 1;
	int status;

	snprintf(row->side_name, sizeof(row->side_name), "%s", op->side_value);
	if (!run->side_buf || n > 64)
		return vb_errf(err, VB_E_ARGS, "bug: %s's plan did not say where its %s lies",
			       op->name, op->side_value);
	if ((status = gpu_read(run, run->side_buf, v, n * sizeof(float), err)))
		return status;
	row->side_gpu = v[run->side_index];
	return VB_OK;
}

/* The comparison of out with the reference, or the last one's when out is the same bytes (the
 * OpenCL and the CUDA view of one card usually agree exactly: half the comparing saved). */
static int compare_once(const struct op_desc *op, const struct stack *out, int devices,
			struct reference_cache *ref, uint64_t in_voxels, struct delta *d,
			struct vb_err *err)
{
	XXH128_hash_t h;
	int status;

	if (devices < 2) /* no other row will compare with this reference */
		return op_compare_scaled(op, out, &ref->out, in_voxels, ref->ambiguous,
					 ref->cmp_scale, d, err);
	h = XXH3_128bits(out->data, stack_bytes(out));
	if (ref->compared && ref->compared_hash[0] == h.high64 && ref->compared_hash[1] == h.low64) {
		*d = ref->compared_delta;
		return VB_OK;
	}
	status = op_compare_scaled(op, out, &ref->out, in_voxels, ref->ambiguous, ref->cmp_scale,
				   d, err);
	if (status == VB_OK) {
		ref->compared = 1;
		ref->compared_hash[0] = h.high64;
		ref->compared_hash[1] = h.low64;
		ref->compared_delta = *d;
	}
	return status;
}

void op_run(struct gpu_device *dev, const struct op_desc *op, const double params[OP_MAX_PARAMS],
	    const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
	    struct reference_cache *ref, struct result_row *row)
{
	struct op_call c;
	struct gpu_run run = { .dev = dev };
	struct stack gpu_out = { 0 }, shape;
	struct vb_err err = { "" };
	struct delta d;
	int repeat = s->repeat < 1 ? 1 : s->repeat > MAX_REPEAT ? MAX_REPEAT : s->repeat;
	int status, staged = 0;
	double t0, started = vb_now_ms();

	op_row_start(row, dev, op, params, in[0]);
	if ((status = op_call_make(op, params, in, s->cpu_threads, &c, &shape, &err)))
		goto out;
	gpu_out = shape;
	if ((status = output_host(dev, &gpu_out, &staged, &err)))
		goto out;
	run.in_type = in[0]->dtype;
	/* pad and scale can write more voxels than they read; the margin keeps grid-stride loops
	 * (i += global size) from wrapping a 32-bit index near the end */
	run.wide_index = stack_voxels(in[0]) >= WIDE_INDEX_VOXELS ||
			 stack_voxels(&gpu_out) >= WIDE_INDEX_VOXELS;
	run.out_type = gpu_out.dtype;
	c.out = &gpu_out;
	t0 = vb_now_ms();
	status = lend_inputs(&run, &c, row, &err);
	if (status == VB_OK) {
		pin_host(&run, &c, row, 1);
		row->pinned |= staged; /* downloaded into page-locked memory */
		status = upload(&run, &c, row, &err);
	}
	row->phase_ms[PHASE_UPLOAD] = vb_now_ms() - t0;
	if (status || (status = time_gpu(&run, &c, repeat, row, &err)))
		goto out;
	t0 = vb_now_ms();
	if (op->side_value && (status = read_side_value(&run, op, row, &err)))
		goto out;
	status = dev->backend->read(dev, run.out, gpu_out.data, stack_bytes(&gpu_out), &err);
	row->d2h_ms = vb_now_ms() - t0;
	pin_host(&run, &c, row, 0);
	release_run(&run);
	row->phase_ms[PHASE_DOWNLOAD] = vb_now_ms() - t0;
	if (status)
		goto out;
	if (!ref->computed) { /* the first device's row computes it; the others share it */
		reference_compute(op, params, in, s, ref);
		row->phase_ms[PHASE_REFERENCE] = ref->wall_ms;
	}
	if ((status = ref->status)) {
		snprintf(err.msg, sizeof(err.msg), "%s", ref->reason);
		goto out;
	}
	t0 = vb_now_ms();
	if ((status = compare_once(op, &gpu_out, s->devices, ref, stack_voxels(in[0]), &d, &err)))
		goto out;
	row->cpu_ms = ref->cpu_ms;
	row->cpu_min_ms = ref->cpu_min_ms;
	row->cpu_max_ms = ref->cpu_max_ms;
	row->cpu_runs = ref->cpu_runs;
	row->cpu_threads = ref->cpu_threads;
	row->side_cpu = ref->side_value;
	finish_row(row, &d, op_bytes_moved(&c));
	row->phase_ms[PHASE_COMPARE] = vb_now_ms() - t0;
	if (op->table_columns && (status = keep_table(op, &gpu_out, row, &err)))
		goto out;
	if (s->save_dir && ((status = save_output(s, op, in[0], &gpu_out, "", &err)) ||
			    (s->save_reference &&
			     (status = save_output(s, op, in[0], &ref->out, "_reference", &err)))))
		goto out;
out:
	if (status) {
		double ignored;
		struct vb_err drained;

		/* drop what a failed plan left queued, so the next op's timing starts clean */
		dev->backend->finish(dev, &ignored, &drained);
		pin_host(&run, &c, row, 0);
		row->status = status == VB_E_TOO_BIG || status == VB_E_UNSUPPORTED ? ROW_SKIP : ROW_ERROR;
		snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
	}
	release_run(&run);
	if (!staged)
		stack_free(&gpu_out);
	row->wall_ms = vb_now_ms() - started;
}
