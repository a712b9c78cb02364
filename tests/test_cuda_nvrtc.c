/*
 * Every kernel variant the plans launch compiles for CUDA: each kernels/<name>.cl behind the
 * CUDA preamble, with the build options the plans really pass, through NVRTC. Needs no GPU.
 *
 * The variants are not listed here: every op of the table is run through its plan on a recording
 * backend, over every input dtype, both index types and a spread of each parameter's values
 * (every box radius the tiled kernel takes), and each distinct (program, options) it launches is
 * compiled. An op, a dtype or an option added later is covered without touching this test.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../ops/backend.h"
#include "../ops/kernel_sources.h"
#include "check.h"

#ifdef VB_HAVE_CUDA
#include "../ops/cuda_api.h"

#define TEST_ARCH "compute_80"  /* PTX: NVRTC's front end and optimiser, no ptxas */
#define CUBIN_ARCH "sm_90"      /* one variant per program through ptxas as well */
#define MAX_VALUES 8
#define MAX_FAILURES_SHOWN 5

struct variant {
	char program[64];
	const char *source;
	char options[512];
	int failed;
	char log[600];
};

static struct variant *variants;
static size_t nvariants;

/* The start of a message, up to its first newline: one check, one line. */
static const char *one_line(const char *msg, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(msg, "\n"), msg);
	return buf;
}

/* The recording device of ops/prebuild.c: plans run, nothing executes. */
static struct gpu_device *recorder;

/* ---- driving every plan ---- */

/* A spread of values in [min, max]: the ends, the default, and small ones (radii 0..3). */
static int param_values(const struct param_spec *p, double v[MAX_VALUES])
{
	double cand[] = { p->min, p->max, p->def, 0, 0.5, 1, 2, 3 };
	int n = 0;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		int dup = 0;

		if (cand[i] < p->min || cand[i] > p->max ||
		    (p->type == PARAM_INT && cand[i] != (double)(long)cand[i]))
			continue;
		for (int j = 0; j < n; j++)
			dup |= v[j] == cand[i];
		if (!dup && n < MAX_VALUES)
			v[n++] = cand[i];
	}
	return n;
}

static int run_plan(const struct op_desc *op, enum dtype t, int wide, const double p[],
		    struct vb_err *err)
{
	struct stack in = { .width = 67, .height = 35, .depth = 19, .dtype = t }, out;
	struct gpu_run run = { .dev = recorder, .in_type = t, .wide_index = wide };
	struct gpu_buf *buf;
	struct op_call call = { .op = op, .in = { &in, &in }, .out = &out, .threads = 1 };
	size_t dims[3];
	int status;

	memcpy(call.p, p, sizeof(call.p));
	/* parameters that give no output (a crop outside the stack) launch nothing to compile */
	if ((status = op_output_dims(&call, dims, err)))
		return status == VB_E_ARGS || status == VB_E_TOO_BIG ? VB_OK : status;
	out = (struct stack){ .width = dims[0], .height = dims[1], .depth = dims[2],
			      .dtype = op_output_dtype(op, t) };
	run.out_type = out.dtype;
	if ((status = recorder->backend->buf_create(recorder, 1, &buf, err)))
		return status;
	run.in[0] = run.in[1] = run.out = buf;
	memcpy(call.p, p, sizeof(call.p));
	status = op->gpu(&run, &call, err);
	recorder->backend->buf_release(recorder, buf);
	return status;
}

/*
 * The defaults, then each parameter through its values with the others at their defaults: every
 * build option a parameter selects is reached, without the product of all of them (affine_transform
 * has 13 parameters).
 */
static int record_op(const struct op_desc *op, enum dtype t, int wide, struct vb_err *err)
{
	double values[MAX_VALUES], p[OP_MAX_PARAMS];
	int np = op_param_count(op), status;

	op_default_params(op, p);
	status = run_plan(op, t, wide, p, err);
	for (int i = 0; i < np && !status; i++) {
		int count = param_values(&op->params[i], values);

		for (int v = 0; v < count && !status; v++) {
			op_default_params(op, p);
			p[i] = values[v];
			status = run_plan(op, t, wide, p, err);
		}
	}
	return status;
}

/* The recorded programs as the variants to compile. */
static void take_variants(void)
{
	nvariants = recording_count(recorder);
	variants = calloc(nvariants ? nvariants : 1, sizeof(*variants));
	if (!variants)
		CHECK(0, "room for %zu variants", nvariants);
	for (size_t i = 0; variants && i < nvariants; i++) {
		const char *program, *options;

		recording_entry(recorder, i, &program, &options);
		snprintf(variants[i].program, sizeof(variants[i].program), "%s", program);
		snprintf(variants[i].options, sizeof(variants[i].options), "%s", options);
	}
	if (!variants)
		nvariants = 0;
}

static void record_all(void)
{
	size_t before;

	recorder = recording_device_open();
	if (!recorder) {
		CHECK(0, "a recording device opens");
		return;
	}
	for (size_t o = 0; o < op_count; o++) {
		const struct op_desc *op = &op_table[o];
		struct vb_err err = { "" };
		int status = VB_OK;

		before = recording_count(recorder);
		for (int t = 0; t < DT_COUNT && !status; t++)
			for (int wide = 0; wide < 2 && !status && (op->dtypes & DT_BIT(t)); wide++)
				status = record_op(op, (enum dtype)t, wide, &err);
		CHECK(status == VB_OK, "the plan of %s runs on the recording backend (%zu new "
		      "variants)%s%s", op->name, recording_count(recorder) - before,
		      status ? ": " : "", err.msg);
	}
	take_variants();
	recording_device_close(recorder);
}

/* ---- compiling ---- */

static void compile_variant(struct variant *v)
{
	struct vb_err err = { "" };
	unsigned char *image = NULL;
	size_t len = 0;

	if (cuda_compile(v->program, v->source, v->options, TEST_ARCH, &image, &len, &err) ||
	    len == 0) {
		v->failed = 1;
		snprintf(v->log, sizeof(v->log), "%s", err.msg);
	}
	free(image);
}

static void report_program(const char *program)
{
	size_t n = 0, failed = 0;

	for (size_t i = 0; i < nvariants; i++) {
		if (strcmp(variants[i].program, program) != 0)
			continue;
		n++;
		if (variants[i].failed && ++failed <= MAX_FAILURES_SHOWN) {
			/* NVRTC's log: the second line names the .cl line and the error */
			const char *log = strchr(variants[i].log, '\n');
			char line[300];

			CHECK(0, "kernels/%s.cl compiles for CUDA with '%s': %s", program,
			      variants[i].options, one_line(log ? log + 1 : variants[i].log, line,
							    sizeof(line)));
		}
	}
	CHECK(n > 0 && failed == 0, "kernels/%s.cl: %zu of %zu variants the plans launch compile "
	      "with NVRTC %d.%d for " TEST_ARCH, program, n - failed, n, nvrtc.major, nvrtc.minor);
}

/* Every embedded source on its own defaults, for sources no plan launches yet. */
static void compile_defaults(void)
{
	for (unsigned i = 0; i < kernel_source_count; i++) {
		struct vb_err err = { "" };
		unsigned char *image = NULL;
		size_t len = 0;
		int status = cuda_compile(kernel_sources[i].name, kernel_sources[i].source, "",
					  TEST_ARCH, &image, &len, &err);

		CHECK(status == VB_OK, "kernels/%s.cl compiles for CUDA on its default options%s%s",
		      kernel_sources[i].name, status ? ": " : "", err.msg);
		free(image);
	}
}

/* One variant per program as a cubin: the path a GPU of NVRTC's own generation takes. */
static void compile_cubins(void)
{
	for (unsigned i = 0; i < kernel_source_count; i++) {
		const char *name = kernel_sources[i].name, *options = NULL;
		struct vb_err err = { "" };
		unsigned char *image = NULL;
		size_t len = 0;
		int status;

		for (size_t v = 0; v < nvariants && !options; v++)
			if (strcmp(variants[v].program, name) == 0)
				options = variants[v].options;
		status = cuda_compile(name, kernel_sources[i].source, options ? options : "",
				      CUBIN_ARCH, &image, &len, &err);
		/* a cubin is an ELF file */
		CHECK(status == VB_OK && len > 4 && memcmp(image, "\177ELF", 4) == 0,
		      "kernels/%s.cl compiles to a " CUBIN_ARCH " cubin%s%s", name,
		      status ? ": " : "", err.msg);
		free(image);
	}
}

static void test_errors(void)
{
	struct vb_err err = { "" };
	unsigned char *image = NULL;
	size_t len = 0;
	char line[300];
	int status = cuda_compile("broken", "__kernel void broken(__global float *p) { p[0] = q; }",
				  "-DT_IN=float", TEST_ARCH, &image, &len, &err);

	CHECK(status == VB_E_BUILD && strstr(err.msg, "NVRTC_ERROR_COMPILATION") &&
	      strstr(err.msg, "kernels/broken.cl(1)") && strstr(err.msg, "\"q\""),
	      "a compile error names NVRTC's error and carries its log with the .cl line: %s",
	      one_line(err.msg, line, sizeof(line)));
	status = cuda_compile("pixel", kernel_source("pixel", &err), "-DBAD=1",
			      "compute_1", &image, &len, &err);
	CHECK(status != VB_OK && strstr(err.msg, "NVRTC_ERROR_INVALID_OPTION"),
	      "an unknown architecture is refused by name: %s", one_line(err.msg, line,
									   sizeof(line)));
}

static void test_arch_choice(void)
{
	struct vb_err err;
	char arch[32] = "";
	int newest = 0, n = 0, *archs;

	CHECK(cuda_choose_arch(9, 0, arch, sizeof(arch), &err) == VB_OK &&
	      strcmp(arch, "sm_90") == 0, "an H100 (9.0) gets sm_90 cubins (got %s)", arch);
	CHECK(cuda_choose_arch(2, 0, arch, sizeof(arch), &err) == VB_E_UNSUPPORTED &&
	      strstr(err.msg, "sm_20"), "a GPU older than NVRTC supports is refused: %s", err.msg);
	if (!nvrtc.nvrtcGetNumSupportedArchs || nvrtc.nvrtcGetNumSupportedArchs(&n) || n <= 0)
		return;
	archs = calloc((size_t)n, sizeof(*archs));
	if (archs && nvrtc.nvrtcGetSupportedArchs(archs) == NVRTC_SUCCESS)
		for (int i = 0; i < n; i++)
			newest = archs[i] > newest ? archs[i] : newest;
	free(archs);
	CHECK(cuda_choose_arch(99, 9, arch, sizeof(arch), &err) == VB_OK &&
	      atoi(arch + strlen("compute_")) == newest && strncmp(arch, "compute_", 8) == 0,
	      "a GPU newer than NVRTC knows gets PTX of the newest architecture (got %s)", arch);
}

static void test_nvrtc_missing(void)
{
	struct vb_err err = { "" };
	struct nvrtc_api saved = nvrtc;
	int status;

	memset(&nvrtc, 0, sizeof(nvrtc));
	setenv("VOXBENCH_NVRTC_LIBRARY", "/nonexistent/libnvrtc.so.13", 1);
	status = nvrtc_api_load(0, &err);
	unsetenv("VOXBENCH_NVRTC_LIBRARY");
	nvrtc = saved;
	CHECK(status == VB_E_NOLOADER && strstr(err.msg, "CUDA: NVRTC not found"),
	      "a missing NVRTC is VB_E_NOLOADER saying so: %s", err.msg);
}

int main(void)
{
	struct vb_err err = { "" };
	double t0;

	if (nvrtc_api_load(0, &err)) {
		CHECK(1, "NVRTC not installed: CUDA compile test skipped (%s)", err.msg);
		CHECK_DONE();
	}
	printf("# NVRTC %d.%d from %s\n", nvrtc.major, nvrtc.minor, nvrtc.path);
	test_nvrtc_missing();
	test_arch_choice();
	test_errors();
	compile_defaults();
	record_all();
	/* sources first: kernel_source() may read files (VOXBENCH_KERNEL_DIR), not thread-safe */
	for (size_t i = 0; i < nvariants; i++)
		if (!(variants[i].source = kernel_source(variants[i].program, &err)))
			CHECK(0, "plans launch kernels/%s.cl: %s", variants[i].program, err.msg);
	t0 = vb_now_ms();
	/* NVRTC compiles distinct programs concurrently */
#pragma omp parallel for schedule(dynamic)
	for (size_t i = 0; i < nvariants; i++)
		if (variants[i].source)
			compile_variant(&variants[i]);
	printf("# %zu variants compiled in %.1f s\n", nvariants, (vb_now_ms() - t0) / 1000);
	for (unsigned i = 0; i < kernel_source_count; i++) {
		int launched = 0;

		for (size_t v = 0; v < nvariants && !launched; v++)
			launched = strcmp(variants[v].program, kernel_sources[i].name) == 0;
		if (launched)
			report_program(kernel_sources[i].name);
	}
	compile_cubins();
	free(variants);
	CHECK_DONE();
}

#else

int main(void)
{
	CHECK(1, "voxbench built without the CUDA backend (no CUDA headers, or make CUDA=0): "
	      "CUDA compile test skipped");
	CHECK_DONE();
}

#endif
