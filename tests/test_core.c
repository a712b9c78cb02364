/*
 * Unit tests of the core: sizes, dtype conversion, allocation limits, the synthetic generator,
 * the op table's integrity, parameter checks, the comparison rule, the JSON report round trip.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ops/backend.h"
#include "../ops/op.h"
#include "../ops/plans.h"
#include "../ops/runner.h"
#include "../reports/report.h"
#include "../stacks/stack.h"
#include "check.h"

static void test_sizes(void)
{
	static const char *const bad[] = { "", "12x", "x4", "0", "4x0x4", "-5x4x4", "4x4x4x4",
					   "4x4x4q", "4 x4", "+4", "99999999999x99999999999x99999999999" };
	size_t d[3];
	struct vb_err err;

	CHECK(size_parse("130x67x19", d, &err) == VB_OK && d[0] == 130 && d[1] == 67 && d[2] == 19,
	      "130x67x19 parses as width 130, height 67, depth 19");
	CHECK(size_parse("64", d, &err) == VB_OK && d[0] == 64 && d[1] == 64 && d[2] == 64,
	      "a single number is a cube");
	CHECK(size_parse("32x16", d, &err) == VB_OK && d[2] == 1, "WxH has depth 1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(size_parse(bad[i], d, &err) == VB_E_ARGS, "size '%s' is refused", bad[i]);
}

static void test_conversion(void)
{
	CHECK(dtype_convert_sat(DT_U8, 300.0f) == 255, "u8 saturates high");
	CHECK(dtype_convert_sat(DT_U8, -3.0f) == 0, "u8 saturates low");
	CHECK(dtype_convert_sat(DT_U8, 2.9f) == 2, "u8 rounds toward zero");
	CHECK(dtype_convert_sat(DT_I32, -2.9f) == -2, "i32 rounds toward zero");
	CHECK(dtype_convert_sat(DT_U16, NAN) == 0, "NaN converts to 0");
	CHECK(dtype_convert_sat(DT_I32, 3e9f) == 2147483647.0, "i32 saturates");
	CHECK(dtype_convert_sat(DT_F32, -1.5f) == -1.5, "f32 passes through");
}

static void test_alloc_limits(void)
{
	struct stack s;
	struct vb_err err;

	CHECK(stack_alloc(&s, SIZE_MAX / 2, 4, 4, DT_F32, &err) == VB_E_TOO_BIG,
	      "a byte count that overflows size_t is refused");
	CHECK(stack_alloc(&s, 1u << 20, 1u << 20, 1u << 10, DT_U8, &err) == VB_E_TOO_BIG &&
		      strstr(err.msg, "available"),
	      "a stack beyond host memory is refused naming the memory (%s)", err.msg);
	CHECK(stack_alloc(&s, 3, 2, 1, DT_U16, &err) == VB_OK && stack_bytes(&s) == 12 &&
		      ((uint16_t *)s.data)[5] == 0,
	      "a small stack is allocated zeroed");
	stack_free(&s);
}

static int stacks_equal(const struct stack *a, const struct stack *b)
{
	return stack_bytes(a) == stack_bytes(b) && memcmp(a->data, b->data, stack_bytes(a)) == 0;
}

static void test_synth(void)
{
	struct stack a, b, c;
	struct vb_err err;
	double lo = INFINITY, hi = -INFINITY;
	size_t ones = 0, labelled = 0;

	CHECK(synth_generate(&a, "blobs", 40, 30, 20, DT_U16, 7, &err) == VB_OK &&
		      synth_generate(&b, "blobs", 40, 30, 20, DT_U16, 7, &err) == VB_OK &&
		      synth_generate(&c, "blobs", 40, 30, 20, DT_U16, 8, &err) == VB_OK,
	      "blobs generate");
	CHECK(stacks_equal(&a, &b), "the same seed gives the same voxels");
	CHECK(!stacks_equal(&a, &c), "another seed gives other voxels");
	for (size_t i = 0; i < stack_voxels(&a); i++) {
		lo = fmin(lo, stack_get(&a, i));
		hi = fmax(hi, stack_get(&a, i));
	}
	CHECK(lo < 500 && hi > 1500, "blobs have background and bright spots (%g..%g)", lo, hi);
	stack_free(&a);
	stack_free(&b);
	stack_free(&c);

	CHECK(synth_generate(&a, "binary", 40, 30, 20, DT_U8, 7, &err) == VB_OK, "binary generates");
	for (size_t i = 0; i < stack_voxels(&a); i++)
		ones += stack_get(&a, i) == 1;
	CHECK(ones > 0 && ones < stack_voxels(&a), "binary has both 0 and 1 (%zu ones)", ones);
	for (size_t i = 0; i < stack_voxels(&a); i++)
		if (stack_get(&a, i) != 0 && stack_get(&a, i) != 1)
			ones = 0;
	CHECK(ones > 0, "binary holds only 0 and 1");
	stack_free(&a);

	CHECK(synth_generate(&a, "labels", 40, 30, 20, DT_U32, 7, &err) == VB_OK, "labels generate");
	hi = 0;
	for (size_t i = 0; i < stack_voxels(&a); i++) {
		labelled += stack_get(&a, i) > 0;
		hi = fmax(hi, stack_get(&a, i));
	}
	CHECK(labelled > 0 && hi >= 2, "labels number several blobs (max label %g)", hi);
	stack_free(&a);

	CHECK(synth_generate(&a, "noise", 16, 16, 16, DT_F32, 1, &err) == VB_OK, "noise generates");
	lo = INFINITY;
	for (size_t i = 0; i < stack_voxels(&a); i++)
		lo = fmin(lo, stack_get(&a, i));
	CHECK(lo < 0 && lo >= -1000, "f32 noise reaches negative values (min %g)", lo);
	stack_free(&a);
	CHECK(synth_generate(&a, "clouds", 4, 4, 4, DT_F32, 1, &err) == VB_E_ARGS,
	      "an unknown generator is refused");
}

/* The named fields a family plan reads are set on its rows (what the row's `kernel` said). */
static int plan_fields_ok(const struct op_desc *op)
{
	if (op->gpu == plan_elementwise || op->gpu == plan_stencil)
		return op->fn != NULL;
	if (op->gpu == plan_copy || op->gpu == plan_z_projection)
		return op->entry != NULL;
	if (op->gpu == plan_window)
		return op->reduce && op->footprint != FOOT_NONE;
	if (op->gpu == plan_morphology)
		return op->morph && op->footprint != FOOT_NONE;
	if (op->gpu == plan_minmax_box || op->gpu == plan_project_x || op->gpu == plan_project_y ||
	    op->gpu == plan_project_z || op->gpu == plan_reduce_minmax || op->gpu == plan_moments)
		return op->reduce != NULL;
	if (op->gpu == plan_connected_components)
		return op->connectivity == 6 || op->connectivity == 26;
	if (op->gpu == plan_relabel)
		return op->keep != NULL;
	return 1;
}

static void test_table(void)
{
	for (size_t i = 0; i < op_count; i++) {
		const struct op_desc *op = &op_table[i];
		int n = op_param_count(op), defaults_ok = 1;

		for (int p = 0; p < n; p++)
			defaults_ok &= op->params[p].def >= op->params[p].min &&
				       op->params[p].def <= op->params[p].max;
		CHECK(op->gpu && op->ref && plan_fields_ok(op) && op->help && n <= OP_MAX_PARAMS &&
			      defaults_ok && op_find(op->name) == op,
		      "op %s is complete (plan, reference, help, defaults in range)", op->name);
	}
}

static void test_params(void)
{
	const struct op_desc *g = op_find("gaussian_blur");
	double v[OP_MAX_PARAMS];
	struct vb_err err;

	op_default_params(g, v);
	CHECK(v[0] == 2 && v[1] == 2 && v[2] == 2, "gaussian_blur defaults to sigma 2");
	CHECK(op_set_param(g, v, "sigma_y=0.5", &err) == VB_OK && v[1] == 0.5, "sigma_y=0.5 sets");
	CHECK(op_set_param(g, v, "sigma_y=-1", &err) == VB_E_ARGS && strstr(err.msg, "0 to 32"),
	      "a negative sigma is refused with the range (%s)", err.msg);
	CHECK(op_set_param(g, v, "radius=2", &err) == VB_E_ARGS, "an unknown parameter is refused");
	CHECK(op_set_param(g, v, "sigma_x=abc", &err) == VB_E_ARGS, "a non-number is refused");
}

static void test_compare(void)
{
	const struct op_desc *copy = op_find("copy"), *blur = op_find("gaussian_blur");
	struct stack a, b;
	struct delta d;
	struct vb_err err;

	stack_alloc(&a, 5, 4, 3, DT_F32, &err);
	stack_alloc(&b, 5, 4, 3, DT_F32, &err);
	for (size_t i = 0; i < stack_voxels(&a); i++) {
		stack_set(&a, i, (double)i);
		stack_set(&b, i, (double)i);
	}
	CHECK(op_compare(copy, &a, &b, stack_voxels(&a), &d, &err) == VB_OK && d.mismatches == 0 && d.max_abs == 0,
	      "identical stacks compare equal");
	stack_set(&b, 17, 17.5);
	op_compare(copy, &a, &b, stack_voxels(&a), &d, &err);
	CHECK(d.mismatches == 1 && d.max_abs == 0.5, "exact: one changed voxel is one mismatch");
	op_compare(blur, &a, &b, stack_voxels(&a), &d, &err);
	CHECK(d.mismatches == 1 && fabs(d.tolerance - 59 * 1e-5) < 1e-12,
	      "float: tolerance is relative to the largest reference value (%g)", d.tolerance);
	stack_set(&b, 17, 17.0001);
	op_compare(blur, &a, &b, stack_voxels(&a), &d, &err);
	CHECK(d.mismatches == 0, "float: a change within tolerance passes");
	((float *)a.data)[3] = NAN;
	op_compare(blur, &a, &b, stack_voxels(&a), &d, &err);
	CHECK(d.mismatches == 1, "a NaN where the reference has a number is a mismatch");
	stack_free(&a);
	stack_free(&b);
}

/* Label images compare as partitions: any numbering passes, a merge or a split does not. */
static void test_compare_labels(void)
{
	static const struct op_desc labels = { .name = "fake_labels", .cmp = { CMP_LABELS, 0 } };
	static const uint32_t ref[8] = { 0, 1, 1, 2, 2, 0, 3, 3 };
	static const uint32_t renumbered[8] = { 0, 7, 7, 5, 5, 0, 1, 1 };
	static const uint32_t merged[8] = { 0, 1, 1, 1, 1, 0, 3, 3 };
	static const uint32_t split[8] = { 0, 1, 4, 2, 2, 0, 3, 3 };
	static const uint32_t grown[8] = { 1, 1, 1, 2, 2, 0, 3, 3 };
	const uint32_t *cases[] = { renumbered, merged, split, grown };
	const uint64_t want[] = { 0, 2, 1, 1 };
	const int64_t want_gpu[] = { 3, 2, 4, 3 };
	struct stack a, b;
	struct delta d;
	struct vb_err err;

	stack_alloc(&a, 8, 1, 1, DT_U32, &err);
	stack_alloc(&b, 8, 1, 1, DT_U32, &err);
	memcpy(b.data, ref, sizeof(ref));
	for (int c = 0; c < 4; c++) {
		memcpy(a.data, cases[c], sizeof(ref));
		CHECK(op_compare(&labels, &a, &b, 8, &d, &err) == VB_OK && d.mismatches == want[c] &&
		      d.labels_gpu == want_gpu[c] && d.labels_ref == 3,
		      "labels case %d: %llu voxels differ (want %llu), %lld labels on the GPU (want "
		      "%lld), %lld in the reference", c, (unsigned long long)d.mismatches,
		      (unsigned long long)want[c], (long long)d.labels_gpu, (long long)want_gpu[c],
		      (long long)d.labels_ref);
	}
	stack_free(&a);
	stack_free(&b);
}

/* A reduction's tolerance grows with log2 of the input's voxel count. */
static void test_compare_reduce(void)
{
	static const struct op_desc sum = { .name = "fake_sum", .cmp = { CMP_REDUCE, 1e-7 } };
	struct stack a, b;
	struct delta d;
	struct vb_err err;

	stack_alloc(&a, 1, 1, 1, DT_F32, &err);
	stack_alloc(&b, 1, 1, 1, DT_F32, &err);
	stack_set(&b, 0, 1000.0);
	stack_set(&a, 0, 1000.0 + 1e-3);
	op_compare(&sum, &a, &b, 1024, &d, &err);
	CHECK(fabs(d.tolerance - 1e-7 * 10 * 1000) < 1e-12 && d.mismatches == 0,
	      "reduce over 1024 voxels: tolerance 1e-7 * 10 * 1000 (%g) covers 1e-3", d.tolerance);
	op_compare(&sum, &a, &b, 4, &d, &err);
	CHECK(d.mismatches == 1, "reduce over 4 voxels: 1e-3 exceeds tolerance %g", d.tolerance);
	stack_free(&a);
	stack_free(&b);
}

/* A scaled rule's tolerance follows the scale the reference reported when it exceeds the output's
 * own magnitude (the Hessian eigenvalues: the stack's largest |eigenvalue|). */
static void test_compare_scaled(void)
{
	static const struct op_desc eig = { .name = "fake_eigenvalue", .cmp = { CMP_SCALED, 2e-6 } };
	struct stack a, b;
	struct delta d;
	struct vb_err err;

	stack_alloc(&a, 2, 1, 1, DT_F32, &err);
	stack_alloc(&b, 2, 1, 1, DT_F32, &err);
	stack_set(&b, 0, 10.0);
	stack_set(&a, 0, 10.0 + 1e-3);
	op_compare_scaled(&eig, &a, &b, 2, NULL, 1000.0, &d, &err);
	CHECK(d.mismatches == 0 && fabs(d.tolerance - 2e-6 * 1000) < 1e-12,
	      "scaled, scale 1000: tolerance 2e-6 * 1000 (%g) covers 1e-3", d.tolerance);
	op_compare_scaled(&eig, &a, &b, 2, NULL, 0.0, &d, &err);
	CHECK(d.mismatches == 1 && fabs(d.tolerance - 2e-6 * 10) < 1e-12,
	      "scaled, scale 0: tolerance 2e-6 * max |ref| (%g), 1e-3 fails", d.tolerance);
	op_compare_scaled(&eig, &a, &b, 2, NULL, NAN, &d, &err);
	CHECK(d.mismatches == 1, "scaled, scale NaN: ignored (tolerance %g)", d.tolerance);
	stack_free(&a);
	stack_free(&b);
}

/* PARAM_CHOICE takes a name or an index and refuses others, naming the choices. */
static void test_choice_param(void)
{
	static const struct param_spec spec[] = {
		{ "interpolation", PARAM_CHOICE, 1, 0, 1, "how", "nearest,linear" },
		{ NULL, 0, 0, 0, 0, NULL, NULL },
	};
	static const struct op_desc op = { .name = "fake_transform", .params = spec };
	double v[OP_MAX_PARAMS] = { 1 };
	char text[32];
	struct vb_err err;

	CHECK(op_set_param(&op, v, "interpolation=nearest", &err) == VB_OK && v[0] == 0,
	      "a choice by name sets its index");
	CHECK(op_set_param(&op, v, "interpolation=1", &err) == VB_OK && v[0] == 1,
	      "a choice by index sets it");
	CHECK(op_set_param(&op, v, "interpolation=cubic", &err) == VB_E_ARGS &&
	      strstr(err.msg, "nearest,linear"), "an unknown choice is refused naming them (%s)",
	      err.msg);
	CHECK(op_set_param(&op, v, "interpolation=near", &err) == VB_E_ARGS,
	      "a prefix of a choice is refused");
	CHECK(op_set_param(&op, v, "interpolation=2", &err) == VB_E_ARGS, "an index out of range is "
	      "refused");
	op_param_text(&spec[0], 1, text, sizeof(text));
	CHECK(strcmp(text, "linear") == 0, "choice 1 reads back as 'linear' (%s)", text);
}

static void test_report_round_trip(const char *dir)
{
	struct report r, back;
	struct result_row row;
	struct device_info dev = { .backend = "opencl", .name = "Test GPU", .type = "gpu",
				   .global_mem_bytes = 1ull << 34, .compute_units = 132 };
	struct vb_err err;
	char path[4096];

	snprintf(path, sizeof(path), "%s/report.json", dir);
	report_init(&r, &err);
	report_add_device(&r, &dev, &err);
	result_row_init(&row);
	snprintf(row.op, sizeof(row.op), "gaussian_blur");
	row.nparams = 1;
	snprintf(row.params[0].name, sizeof(row.params[0].name), "sigma_x");
	row.params[0].value = 1.5;
	row.width = 1024;
	row.height = 1024;
	row.depth = 512;
	snprintf(row.dtype, sizeof(row.dtype), "f32");
	row.status = ROW_PASS;
	row.gpu = (struct timing){ 4.25, 4.0, 5.5, 7 };
	row.cpu_ms = 1234.5;
	row.bytes_moved = 4294967296ull;
	row.has_delta = 1;
	row.delta.mismatches = 0;
	row.delta.max_abs = 3.5e-6;
	report_add_row(&r, &row, &err);
	CHECK(report_write_json(&r, path, &err) == VB_OK, "the report is written");
	CHECK(report_read_json(path, &back, &err) == VB_OK, "the report reads back (%s)", err.msg);
	CHECK(back.nrows == 1 && strcmp(back.rows[0].op, "gaussian_blur") == 0 &&
		      back.rows[0].gpu.median == 4.25 && back.rows[0].gpu.runs == 7 &&
		      back.rows[0].cpu_ms == 1234.5 && back.rows[0].bytes_moved == 4294967296ull &&
		      back.rows[0].params[0].value == 1.5 && back.rows[0].delta.max_abs == 3.5e-6 &&
		      back.rows[0].status == ROW_PASS && back.rows[0].width == 1024,
	      "row values survive the round trip");
	CHECK(isnan(back.rows[0].h2d_ms) && back.rows[0].cache_hit == -1,
	      "unmeasured values come back unmeasured");
	CHECK(back.ndevices == 1 && back.devices[0].global_mem_bytes == (1ull << 34) &&
		      back.devices[0].compute_units == 132,
	      "device values survive the round trip");
	report_free(&back);
	snprintf(r.schema, sizeof(r.schema), "voxbench-report/2");
	report_write_json(&r, path, &err);
	CHECK(report_read_json(path, &back, &err) == VB_E_ARGS && strstr(err.msg, "schema"),
	      "another major schema version is refused (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/no-such-folder/report.json", dir);
	CHECK(report_write_json(&r, path, &err) == VB_E_IO, "an unwritable path is an I/O error");
	report_free(&r);
}

static void test_alloc_check(void)
{
	struct gpu_device dev = { .info = { .max_alloc_bytes = 1000, .global_mem_bytes = 3000 } };
	struct vb_err err;

	CHECK(device_check_alloc(&dev, 1000, &err) == VB_OK, "an allocation at the limit is allowed");
	CHECK(device_check_alloc(&dev, 1001, &err) == VB_E_TOO_BIG && strstr(err.msg, "MAX_MEM_ALLOC"),
	      "an allocation over CL_DEVICE_MAX_MEM_ALLOC_SIZE is refused (%s)", err.msg);
	dev.bytes_allocated = 2500;
	CHECK(device_check_alloc(&dev, 600, &err) == VB_E_TOO_BIG && strstr(err.msg, "global memory"),
	      "an allocation beyond the device's global memory is refused (%s)", err.msg);
}

int main(void)
{
	const char *tmp = getenv("TEST_TMP");

	test_sizes();
	test_conversion();
	test_alloc_limits();
	test_synth();
	test_table();
	test_params();
	test_compare();
	test_compare_labels();
	test_compare_reduce();
	test_compare_scaled();
	test_choice_param();
	test_alloc_check();
	test_report_round_trip(tmp ? tmp : "/tmp");
	CHECK_DONE();
}
