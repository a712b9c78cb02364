/*
 * The CUDA backend through the interface the runner uses (ops/backend.h).
 *
 * Everywhere: a missing or wrong libcuda is VB_E_NOLOADER with "CUDA: no driver" or what is
 * wrong, never a crash; a build without the CUDA headers says so. On a machine with an NVIDIA
 * GPU: every op over every dtype and each box/Gaussian code path passes its CPU reference on
 * CUDA (op_run, as `voxbench run` does), agrees with the OpenCL view of the same card where
 * there is one, is timed by events, is cached on disk, and errors come back by name.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/backend.h"
#include "../ops/op.h"
#include "../ops/runner.h"
#include "check.h"

extern const struct gpu_backend cuda_backend; /* ops/backend.h declares it too */

static int open_cuda(struct device_list *devs, struct vb_err *err)
{
	devs->dev = NULL;
	devs->n = 0;
	return cuda_backend.enumerate(&devs->dev, &devs->n, err);
}

#ifndef VB_HAVE_CUDA

int main(void)
{
	struct device_list devs;
	struct vb_err err = { "" };
	int status = open_cuda(&devs, &err);

	CHECK(status == VB_E_NOLOADER && strstr(err.msg, "built without the CUDA backend") &&
	      devs.n == 0, "a build without CUDA headers has a CUDA backend that says so: %s",
	      err.msg);
	CHECK_DONE();
}

#else

#include "../ops/cuda_api.h"

/* cuFuncGetParamInfo (driver 12.4+) lets the backend check a plan's arguments. */
static int driver_checks_params(void)
{
#if CUDA_VERSION >= 12040
	return cu.cuFuncGetParamInfo != NULL;
#else
	return 0;
#endif
}

static void close_all(struct device_list *devs)
{
	for (size_t i = 0; i < devs->n; i++)
		devs->dev[i]->backend->close(devs->dev[i]);
	free(devs->dev);
	devs->dev = NULL;
	devs->n = 0;
}

/* ---- without a driver ---- */

static void expect_noloader(const char *library, const char *says, const char *what)
{
	struct device_list devs;
	struct vb_err err = { "" };
	int status;

	setenv("VOXBENCH_CUDA_LIBRARY", library, 1);
	status = open_cuda(&devs, &err);
	unsetenv("VOXBENCH_CUDA_LIBRARY");
	CHECK(status == VB_E_NOLOADER && devs.n == 0 && strstr(err.msg, says),
	      "%s: VB_E_NOLOADER, '%s' (%s)", what, says, err.msg);
	close_all(&devs);
}

/* ---- on a GPU ---- */

struct box_case {
	int r[3];
	const char *path;
};

/* One case per code path of plans.c's box filters and Gaussian. */
static const struct box_case box_cases[] = {
	{ { 1, 1, 1 }, "tiled" },     { { 0, 2, 1 }, "tiled" },     { { 0, 0, 0 }, "tiled" },
	{ { 3, 1, 0 }, "direct" },    { { 3, 3, 2 }, "separable" },
};
static const double sigma_cases[][3] = { { 2, 2, 2 }, { 0.5, 1, 0 }, { 0, 0, 3.5 } };

static void set_params(const struct op_desc *op, double p[OP_MAX_PARAMS], int variant)
{
	op_default_params(op, p);
	for (int i = 0; op->params[i].name; i++) {
		const char *n = op->params[i].name;

		if (strncmp(n, "radius_", 7) == 0)
			p[i] = box_cases[variant].r[n[7] - 'x'];
		else if (strncmp(n, "sigma_", 6) == 0)
			p[i] = sigma_cases[variant][n[6] - 'x'];
	}
}

static int variants_of(const struct op_desc *op)
{
	if (op->params[0].name && strncmp(op->params[0].name, "radius_", 7) == 0)
		return (int)(sizeof(box_cases) / sizeof(box_cases[0]));
	if (op->params[0].name && strncmp(op->params[0].name, "sigma_", 6) == 0)
		return (int)(sizeof(sigma_cases) / sizeof(sigma_cases[0]));
	return 1;
}

/* One op on one device, as the runner does it, output kept (no timing, no reference). */
static int run_on(struct gpu_device *dev, const struct op_desc *op, const double p[],
		  const struct stack *const in[OP_MAX_INPUTS], struct stack *out, struct vb_err *err)
{
	const struct gpu_backend *b = dev->backend;
	struct gpu_run run = { .dev = dev, .in_type = in[0]->dtype, .out_type = out->dtype };
	struct op_call call = { .op = op, .in = { in[0], in[1] }, .out = out, .threads = 1 };
	double span;
	int status = VB_OK;

	memcpy(call.p, p, sizeof(call.p));
	for (int i = 0; i < op->n_inputs && !status; i++)
		if (!(status = b->buf_create(dev, stack_bytes(in[i]), &run.in[i], err)))
			status = b->write(dev, run.in[i], in[i]->data, stack_bytes(in[i]), err);
	if (!status)
		status = b->buf_create(dev, stack_bytes(out), &run.out, err);
	if (!status)
		status = op->gpu(&run, &call, err);
	if (!status)
		status = b->finish(dev, &span, err);
	if (!status)
		status = b->read(dev, run.out, out->data, stack_bytes(out), err);
	for (int i = 0; i < OP_MAX_INPUTS; i++)
		b->buf_release(dev, run.in[i]);
	b->buf_release(dev, run.out);
	for (int i = 0; i < RUN_MAX_SCRATCH; i++)
		b->buf_release(dev, run.scratch[i]);
	return status;
}

/* The OpenCL view of the same card, where the machine has NVIDIA's OpenCL too. */
static struct gpu_device *opencl_twin(struct device_list *cl, const struct gpu_device *cu)
{
	static int tried;
	struct vb_err err;

	if (!tried++ && opencl_backend.enumerate(&cl->dev, &cl->n, &err) != VB_OK)
		return NULL;
	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->dev[i]->info.name, cu->info.name) == 0)
			return cl->dev[i];
	return NULL;
}

/* CUDA's output equals OpenCL's by the op's own rule (exact ops: bit for bit). */
static void compare_backends(struct gpu_device *cu, struct gpu_device *cl,
			     const struct op_desc *op, const double p[],
			     const struct stack *const in[OP_MAX_INPUTS], const char *label)
{
	struct stack a = { 0 }, b = { 0 };
	size_t dims[3];
	enum dtype t = op_output_dtype(op, in[0]->dtype);
	struct vb_err err = { "" };
	struct delta d = { 0 };
	struct op_call call = { .op = op, .in = { in[0], in[1] } };
	int status;

	memcpy(call.p, p, sizeof(call.p));
	status = op_output_dims(&call, dims, &err);
	if (!status)
		status = stack_alloc(&a, dims[0], dims[1], dims[2], t, &err);
	if (!status)
		status = stack_alloc(&b, dims[0], dims[1], dims[2], t, &err);
	if (!status)
		status = run_on(cu, op, p, in, &a, &err);
	if (!status)
		status = run_on(cl, op, p, in, &b, &err);
	if (!status)
		status = op_compare(op, &a, &b, stack_voxels(in[0]), &d, &err);
	CHECK(status == VB_OK && d.mismatches == 0, "%s: CUDA and OpenCL agree (max |delta| %g, "
	      "tolerance %g)%s%s", label, d.max_abs, d.tolerance, status ? ": " : "", err.msg);
	stack_free(&a);
	stack_free(&b);
}

static void test_ops(struct gpu_device *dev, struct device_list *cl, const size_t dims[3])
{
	struct run_settings settings = { .repeat = 2, .cpu_threads = 4 };

	for (int t = 0; t < DT_COUNT; t++) {
		struct stack in[2];
		struct vb_err err = { "" };
		const char *kind = t == DT_F32 ? "blobs" : "noise";

		if (synth_generate(&in[0], kind, dims[0], dims[1], dims[2], (enum dtype)t, 7, &err) ||
		    synth_generate(&in[1], kind, dims[0], dims[1], dims[2], (enum dtype)t, 8, &err)) {
			CHECK(0, "input stack: %s", err.msg);
			return;
		}
		struct op_inputs set = { .image = { &in[0], &in[1] } };

		for (size_t o = 0; o < op_count; o++) {
			const struct op_desc *op = &op_table[o];
			const struct stack *inputs[OP_MAX_INPUTS] = { &in[0], &in[1] };
			struct gpu_device *twin = opencl_twin(cl, dev);

			if (op_inputs_resolve(&set, op, inputs, &err)) {
				CHECK(0, "%s: inputs for its roles: %s", op->name, err.msg);
				continue;
			}

			for (int v = 0; v < variants_of(op); v++) {
				double p[OP_MAX_PARAMS];
				struct result_row row;
				struct reference_cache ref = { 0 };
				char label[160];

				set_params(op, p, v);
				snprintf(label, sizeof(label), "%s #%d %zux%zux%zu %s on CUDA", op->name, v,
					 dims[0], dims[1], dims[2], dtype_name((enum dtype)t));
				op_run(dev, op, p, inputs, &settings, &ref, &row);
				CHECK(row.status == ROW_PASS && isfinite(row.gpu.median) &&
				      row.gpu.median > 0, "%s passes its reference (%.3f ms) %s", label,
				      row.gpu.median, row.reason);
				if (twin)
					compare_backends(dev, twin, op, p, inputs, label);
				reference_cache_free(&ref);
			}
		}
		op_inputs_free(&set);
		stack_free(&in[0]);
		stack_free(&in[1]);
	}
}

static void test_info(const struct gpu_device *dev)
{
	const struct device_info *i = &dev->info;

	printf("# %s: %s, %s, %u SMs, %u MHz, %.1f GiB\n", i->name, i->driver_version, i->platform,
	       i->compute_units, i->max_clock_mhz, i->global_mem_bytes / 1073741824.0);
	CHECK(strcmp(i->backend, "cuda") == 0 && i->name[0] && strcmp(i->type, "gpu") == 0 &&
	      dev->is_gpu, "device info: backend cuda, a name, type gpu");
	CHECK(i->global_mem_bytes > 0 && i->compute_units > 0 && strstr(i->driver_version, "CUDA "),
	      "device info: memory, SM count and the driver's CUDA version");
}

static void test_errors(struct gpu_device *dev)
{
	struct launch l = { .program = "pixel", .kernel = "elementwise_unary",
			    .in_type = DT_F32, .out_type = DT_F32, .dims = 1, .global = { 64 } };
	uint64_t mem = dev->info.global_mem_bytes, max = dev->info.max_alloc_bytes;
	struct vb_err err = { "" };
	struct gpu_buf *b = NULL;
	double span;
	int status;

	/* past voxbench's own check, the driver's error comes back by name */
	dev->info.global_mem_bytes = dev->info.max_alloc_bytes = 0;
	status = dev->backend->buf_create(dev, (size_t)1 << 50, &b, &err);
	dev->info.global_mem_bytes = mem;
	dev->info.max_alloc_bytes = max;
	CHECK(status == VB_E_TOO_BIG && strstr(err.msg, "CUDA_ERROR_OUT_OF_MEMORY"),
	      "a 1 PiB buffer is VB_E_TOO_BIG naming CUDA_ERROR_OUT_OF_MEMORY: %s", err.msg);
	status = dev->backend->launch(dev, &l, "-DT_IN=float -DT_OUT=float -DOP_FN=no_such_fn",
				      0, &err);
	CHECK(status == VB_E_BUILD && strstr(err.msg, "NVRTC_ERROR_COMPILATION") &&
	      strstr(err.msg, "no_such_fn"), "a kernel that does not compile is VB_E_BUILD with "
	      "NVRTC's log: %.*s", (int)strcspn(err.msg, "\n"), err.msg);
	status = dev->backend->buf_create(dev, 64 * sizeof(float), &b, &err);
	CHECK(status == VB_OK, "a small buffer%s%s", status ? ": " : "", status ? err.msg : "");
	if (driver_checks_params()) {
		status = dev->backend->launch(dev, &l, "-DT_IN=float -DT_OUT=float", 0, &err);
		CHECK(status == VB_E_ARGS && strstr(err.msg, "bug: "), "a launch without the "
		      "kernel's parameters is refused before it runs: %s", err.msg);
		l.args[0] = l.args[1] = KBUF(b);
		l.args[2] = l.args[3] = KF32(0);
		l.args[4] = KI32(64); /* the kernel's n is a ulong */
		l.nargs = 5;
		status = dev->backend->launch(dev, &l, "-DT_IN=float -DT_OUT=float", 0, &err);
		CHECK(status == VB_E_ARGS && strstr(err.msg, "parameter 4"), "an argument of the "
		      "wrong size is refused by name: %s", err.msg);
	}
	l.args[0] = l.args[1] = KBUF(b);
	l.args[2] = l.args[3] = KF32(0);
	l.args[4] = KU64(64);
	l.nargs = 5;
	l.local[0] = 4096;
	status = dev->backend->launch(dev, &l, "-DT_IN=float -DT_OUT=float", 0, &err);
	CHECK(status == VB_E_UNSUPPORTED, "a block over the kernel's limit is refused, never "
	      "shrunk: %s", err.msg);
	dev->backend->buf_release(dev, b);
	CHECK(dev->backend->finish(dev, &span, &err) == VB_OK && isnan(span),
	      "finish after no timed launch: VB_OK and no time");
}

/* Built modules reload from the disk cache in a fresh device. */
static void test_cache(const char *dir)
{
	struct device_list devs;
	struct vb_err err = { "" };
	const struct op_desc *op = op_find("gaussian_blur");
	struct stack in[2] = { { 0 } };
	const struct stack *const inputs[OP_MAX_INPUTS] = { &in[0], &in[1] };
	struct run_settings settings = { .repeat = 1, .cpu_threads = 2 };
	double p[OP_MAX_PARAMS];
	struct result_row row;
	struct reference_cache ref = { 0 };

	setenv("VOXBENCH_CACHE_DIR", dir, 1);
	op_default_params(op, p);
	if (synth_generate(&in[0], "blobs", 40, 30, 20, DT_U16, 1, &err) || open_cuda(&devs, &err) ||
	    devs.n == 0) {
		CHECK(0, "cache test set-up: %s", err.msg);
		return;
	}
	op_run(devs.dev[0], op, p, inputs, &settings, &ref, &row);
	CHECK(row.status == ROW_PASS && row.cache_hit == 0, "first build in an empty cache: a miss");
	close_all(&devs);
	if (open_cuda(&devs, &err) == VB_OK && devs.n) {
		op_run(devs.dev[0], op, p, inputs, &settings, &ref, &row);
		CHECK(row.status == ROW_PASS && row.cache_hit == 1 && devs.dev[0]->programs_cached > 0,
		      "the same op on a reopened device loads its modules from the cache "
		      "(%.1f ms)", row.compile_ms);
	}
	close_all(&devs);
	reference_cache_free(&ref);
	stack_free(&in[0]);
}

int main(void)
{
	static const size_t sizes[][3] = { { 67, 35, 19 }, { 130, 9, 70 } };
	const char *tmp = getenv("TEST_TMP");
	struct device_list devs, cl = { 0 };
	struct vb_err err = { "" };
	char dir[4096];
	int status;

	expect_noloader("/nonexistent/libcuda.so.1", "CUDA: no driver (", "a missing libcuda");
	expect_noloader("libm.so.6", "lacks cuInit", "a library that is not libcuda");
	status = open_cuda(&devs, &err);
	if (status == VB_E_NOLOADER) {
		CHECK(strstr(err.msg, "CUDA: ") == err.msg, "no usable CUDA here: enumerate returns "
		      "cleanly with VB_E_NOLOADER: %s", err.msg);
		CHECK(1, "on-GPU CUDA checks # SKIP %s", err.msg);
		CHECK_DONE();
	}
	CHECK(status == VB_OK, "enumerate (%s)", err.msg);
	if (devs.n == 0) {
		CHECK(1, "on-GPU CUDA checks # SKIP the CUDA driver loads but sees no GPU");
		CHECK_DONE();
	}
	snprintf(dir, sizeof(dir), "%s/cuda-cache", tmp && *tmp ? tmp : "/tmp");
	setenv("VOXBENCH_NO_CACHE", "1", 1);
	for (size_t d = 0; d < devs.n; d++) {
		test_info(devs.dev[d]);
		test_errors(devs.dev[d]);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			test_ops(devs.dev[d], &cl, sizes[s]);
	}
	close_all(&devs);
	close_all(&cl);
	unsetenv("VOXBENCH_NO_CACHE");
	test_cache(dir);
	CHECK_DONE();
}

#endif
