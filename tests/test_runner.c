/*
 * The runner on the first OpenCL device (PoCL in CI): an op's CPU reference is computed once per
 * input and shared by every device's row, and it is really what each row is compared against.
 */
#include <string.h>

#include "../ops/op.h"
#include "../ops/runner.h"
#include "check.h"

int main(void)
{
	struct device_list all = { 0 };
	const struct op_desc *op = op_find("mean_box");
	struct run_settings settings = { .repeat = 2, .cpu_threads = 1, .devices = 2 };
	struct reference_cache ref = { 0 };
	struct stack in = { 0 };
	const struct stack *const inputs[OP_MAX_INPUTS] = { &in, &in };
	struct result_row first, second, stale, third, alone;
	double p[OP_MAX_PARAMS];
	struct vb_err err = { "" };

	op_default_params(op, p);
	if (devices_open(&all, &err) || all.n == 0 ||
	    synth_generate(&in, "blobs", 23, 17, 11, DT_U16, 3, &err)) {
		CHECK(0, "set-up: a device and a stack (%s)", err.msg);
		CHECK_DONE();
	}
	op_run(all.dev[0], op, p, inputs, &settings, &ref, &first);
	CHECK(first.status == ROW_PASS && ref.out.data && ref.cpu_ms == first.cpu_ms,
	      "the first row computes the reference into the cache (%s)", first.reason);
	op_run(all.dev[0], op, p, inputs, &settings, &ref, &second);
	CHECK(second.status == ROW_PASS && second.cpu_ms == first.cpu_ms &&
		      second.cpu_threads == 1,
	      "a second row reuses it: the same CPU time (%g ms)", second.cpu_ms);
	/* a reference changed in place is another reference: its last comparison no longer holds,
	 * which shows whether a row compared it or took the last delta */
	((float *)ref.out.data)[5] += 1000.0f;
	op_run(all.dev[0], op, p, inputs, &settings, &ref, &stale);
	CHECK(stale.status == ROW_PASS && stale.delta.mismatches == 0,
	      "an output of the same bytes as the last compared one takes its delta (two devices): "
	      "the changed reference is not read (%s)", row_status_name(stale.status));
	ref.compared = 0;
	op_run(all.dev[0], op, p, inputs, &settings, &ref, &third);
	CHECK(third.status == ROW_FAIL && third.delta.mismatches == 1,
	      "a row is compared against the cached reference: one changed voxel, one mismatch");
	((float *)ref.out.data)[5] -= 1000.0f; /* the comparison kept says 1 mismatch now */
	settings.devices = 1;
	op_run(all.dev[0], op, p, inputs, &settings, &ref, &alone);
	CHECK(alone.status == ROW_PASS && alone.delta.mismatches == 0,
	      "with one device every row compares: the reference restored passes (%s)",
	      row_status_name(alone.status));
	reference_cache_free(&ref);
	stack_free(&in);
	devices_close(&all);
	CHECK_DONE();
}
