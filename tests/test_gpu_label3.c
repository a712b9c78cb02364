/*
 * The label, map and measurement ops of ops/rows_label3.def and rows_measure3.def on the GPU
 * (OpenCL: PoCL in CI) with label images a run never derives: `voxbench run` labels its stacks
 * by 6-connected components, in which no two labels touch, so merging, touch matrices and
 * neighbour counts would only ever see labels against the background. Here the labels are set
 * directly: dense random labels (every label touches many others), labels with gaps, a single
 * label, and two different label images for the two-input ops. Every op passes its reference
 * (op_run, as the runner does), and the results are not trivial: merge_touching_labels merges.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../ops/backend.h"
#include "../ops/op.h"
#include "../ops/runner.h"
#include "check.h"

static const char *const ops[] = {
	"detect_label_edges", "reduce_labels_to_label_edges", "mask_label", "pixel_count_map",
	"mean_intensity_map", "minimum_intensity_map", "maximum_intensity_map",
	"standard_deviation_intensity_map", "statistics_of_background_and_labelled_pixels",
	"generate_touch_matrix", "count_touching_neighbors", "touching_neighbor_count_map",
	"generate_binary_overlap_matrix", "flag_existing_labels", "combine_labels",
	"exclude_labels_with_map_values_out_of_range",
	"exclude_labels_with_map_values_within_range", "merge_touching_labels",
	"mean_extension_map", "maximum_extension_map", "extension_ratio_map", "label_bounding_box",
	"mean_of_touching_neighbors_map", "minimum_of_touching_neighbors_map",
	"maximum_of_touching_neighbors_map", "labelled_spots_to_pointlist", "exclude_labels",
	"read_map_values",
};

/* Labels 1..n at random (a fraction `empty` background), from a fixed seed. */
static int random_labels(struct stack *s, const size_t d[3], uint32_t n, double empty,
			 unsigned seed, struct vb_err *err)
{
	int status = stack_alloc(s, d[0], d[1], d[2], DT_U32, err);
	uint32_t *v;

	if (status)
		return status;
	v = s->data;
	srand(seed);
	for (size_t i = 0; i < stack_voxels(s); i++)
		v[i] = (double)rand() / RAND_MAX < empty ? 0 : 1 + (uint32_t)rand() % n;
	return VB_OK;
}

/* groups: the range merge_touching_labels' group count must fall in (labels touch in each). */
static void run_case(struct gpu_device *dev, const char *what, struct stack *lab0,
		     struct stack *lab1, const struct stack *img, int64_t lo, int64_t hi)
{
	struct run_settings settings = { .repeat = 1, .cpu_threads = 2, .cpu_runs = 1 };
	struct op_inputs set = { .image = { img, img } };

	set.labels[0] = *lab0; /* preset: op_inputs_resolve uses them as they are */
	set.labels[1] = *lab1;
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		const struct op_desc *op = op_find(ops[k]);
		const struct stack *in[OP_MAX_INPUTS] = { img, img };
		struct reference_cache ref = { 0 };
		struct result_row row;
		double p[OP_MAX_PARAMS];
		struct vb_err err = { "" };

		if (!op) {
			CHECK(0, "%s is in the op table", ops[k]);
			continue;
		}
		if (op_inputs_resolve(&set, op, in, &err)) {
			CHECK(0, "%s %s: inputs: %s", what, op->name, err.msg);
			continue;
		}
		op_default_params(op, p);
		if (strcmp(op->name, "mask_label") == 0 || strcmp(op->name, "label_bounding_box") == 0)
			p[0] = 3;
		if (strstr(op->name, "map_values")) { /* a range that keeps some labels */
			p[0] = 40;
			p[1] = 160;
		}
		op_run(dev, op, p, in, &settings, &ref, &row);
		CHECK(row.status == ROW_PASS, "%s: %s passes its reference on the GPU %s", what,
		      op->name, row.reason);
		if (strcmp(op->name, "merge_touching_labels") == 0 && ref.out.data)
			CHECK(row.delta.labels_ref >= lo && row.delta.labels_ref <= hi,
			      "%s: merge_touching_labels leaves %lld groups (%lld to %lld)", what,
			      (long long)row.delta.labels_ref, (long long)lo, (long long)hi);
		reference_cache_free(&ref);
	}
	/* the presets belong to the caller */
	memset(&set.labels, 0, sizeof(set.labels));
	op_inputs_free(&set);
}

int main(void)
{
	static const size_t sizes[][3] = { { 37, 23, 11 }, { 64, 48, 1 } };
	struct device_list devs = { 0 };
	struct vb_err err = { "" };

	if (opencl_backend.enumerate(&devs.dev, &devs.n, &err) != VB_OK || devs.n == 0) {
		CHECK(1, "label3 ops on the GPU # SKIP no OpenCL device: %s", err.msg);
		CHECK_DONE();
	}
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct stack lab0 = { 0 }, lab1 = { 0 }, img = { 0 }, one = { 0 }, sparse = { 0 };
		char what[96];

		if (random_labels(&lab0, sizes[s], 40, 0.3, 11, &err) ||
		    random_labels(&lab1, sizes[s], 25, 0.5, 12, &err) ||
		    synth_generate(&img, "noise", sizes[s][0], sizes[s][1], sizes[s][2], DT_U16, 3,
				   &err) ||
		    random_labels(&one, sizes[s], 1, 0.0, 13, &err) ||
		    random_labels(&sparse, sizes[s], 4000, 0.8, 14, &err)) {
			CHECK(0, "input stacks: %s", err.msg);
			return 1;
		}
		snprintf(what, sizeof(what), "dense labels %zux%zux%zu", sizes[s][0], sizes[s][1],
			 sizes[s][2]);
		run_case(devs.dev[0], what, &lab0, &lab1, &img, 1, 1); /* dense: all one group */
		snprintf(what, sizeof(what), "one label %zux%zux%zu", sizes[s][0], sizes[s][1],
			 sizes[s][2]);
		run_case(devs.dev[0], what, &one, &lab0, &img, 1, 1);
		snprintf(what, sizeof(what), "sparse labels %zux%zux%zu", sizes[s][0], sizes[s][1],
			 sizes[s][2]);
		/* a fifth of the voxels labelled: touching pairs merge, isolated labels stay */
		run_case(devs.dev[0], what, &sparse, &lab1, &img, 100, 3999);
		stack_free(&lab0);
		stack_free(&lab1);
		stack_free(&img);
		stack_free(&one);
		stack_free(&sparse);
	}
	for (size_t i = 0; i < devs.n; i++)
		devs.dev[i]->backend->close(devs.dev[i]);
	free(devs.dev);
	CHECK_DONE();
}
