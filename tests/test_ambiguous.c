/*
 * tests/test_ambiguous.c: the ambiguity rule of ops that decide from floats (ops/op.h, enum
 * ambiguity). A voxel exactly at a threshold is marked by the reference, and a GPU that decides it
 * the other way passes with it counted as ambiguous; a voxel decided otherwise away from the
 * threshold still fails. For label images, a connected run of differing voxels that holds a
 * marked voxel is excused; a differing voxel that touches none still fails.
 */
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "check.h"

static const double values[] = { 0, 10, 0, 20, 5, 15, 10, 20 };

/* threshold_mean's reference over values[] with voxel 2 moved onto the mean (then 80 / 7). */
static void threshold_case(void)
{
	const struct op_desc *op = op_find("threshold_mean");
	size_t n = sizeof(values) / sizeof(values[0]);
	struct stack in = { 0 }, ref = { 0 }, gpu = { 0 };
	uint8_t ambiguous[8] = { 0 };
	struct op_call c = { .op = op, .threads = 1, .ambiguous = ambiguous };
	struct vb_err err;
	struct delta d;
	double mean = 0;

	stack_alloc(&in, n, 1, 1, DT_F32, &err);
	stack_alloc(&ref, n, 1, 1, DT_U8, &err);
	stack_alloc(&gpu, n, 1, 1, DT_U8, &err);
	for (size_t i = 0; i < n; i++)
		mean += i == 2 ? 0 : values[i] / (double)(n - 1); /* the mean of all, voxel 2 too */
	for (size_t i = 0; i < n; i++)
		stack_set(&in, i, i == 2 ? mean : values[i]); /* voxel 2 lies exactly at the mean */
	c.in[0] = &in;
	c.out = &ref;
	CHECK(op && op->ambiguity == AMBIG_VOXEL && op->ref(&c, &err) == VB_OK,
	      "threshold_mean's reference runs and has the voxel rule");
	CHECK(ambiguous[2] == 1 && ambiguous[0] + ambiguous[1] + ambiguous[3] + ambiguous[4] +
		ambiguous[5] + ambiguous[6] + ambiguous[7] == 0,
	      "only the voxel at the threshold is marked ambiguous");
	memcpy(gpu.data, ref.data, n);
	((uint8_t *)gpu.data)[2] ^= 1; /* decided the other way, at the threshold */
	CHECK(op_compare_ambiguous(op, &gpu, &ref, n, ambiguous, &d, &err) == VB_OK &&
		      d.mismatches == 0 && d.ambiguous == 1,
	      "a voxel at the threshold decided otherwise is ambiguous, not a failure "
	      "(%llu mismatches, %llu ambiguous)", (unsigned long long)d.mismatches,
	      (unsigned long long)d.ambiguous);
	((uint8_t *)gpu.data)[5] ^= 1; /* 15 > 11.43 without doubt */
	CHECK(op_compare_ambiguous(op, &gpu, &ref, n, ambiguous, &d, &err) == VB_OK &&
		      d.mismatches == 1 && d.ambiguous == 1,
	      "a voxel away from the threshold decided otherwise still fails");
	CHECK(op_compare(op, &gpu, &ref, n, &d, &err) == VB_OK && d.mismatches == 2,
	      "without the reference's map both differences fail");
	stack_free(&in);
	stack_free(&ref);
	stack_free(&gpu);
}

/* Label images of a 12x3x1 stack: rows y = 0, 1, 2; the reference's labels and a GPU's. */
static void set_labels(struct stack *s, const char *rows[3])
{
	for (size_t y = 0; y < 3; y++)
		for (size_t x = 0; x < 12; x++)
			stack_set(s, x + 12 * y, rows[y][x] - '0');
}

static void labels_case(void)
{
	const struct op_desc *op = op_find("voronoi_otsu_labeling");
	const char *ref_rows[3] = { "111111222222", "111111222222", "000000000000" };
	/* voxel (5, 0) and its neighbour (4, 0) went to label 2: a seed decided otherwise grew */
	const char *grown[3] = { "111122222222", "111111222222", "000000000000" };
	/* and (11, 2) is labelled where the reference has background, far from any marked voxel */
	const char *stray[3] = { "111122222222", "111111222222", "000000000003" };
	struct stack ref = { 0 }, gpu = { 0 };
	uint8_t ambiguous[36] = { 0 };
	struct vb_err err;
	struct delta d;

	stack_alloc(&ref, 12, 3, 1, DT_U32, &err);
	stack_alloc(&gpu, 12, 3, 1, DT_U32, &err);
	set_labels(&ref, ref_rows);
	ambiguous[5] = 1; /* the reference's decision at (5, 0) lay within tolerance */
	set_labels(&gpu, grown);
	CHECK(op && op->ambiguity == AMBIG_REGION &&
		      op_compare_ambiguous(op, &gpu, &ref, 36, ambiguous, &d, &err) == VB_OK &&
		      d.mismatches == 0 && d.ambiguous == 2,
	      "a connected run of differing labels holding a marked voxel is ambiguous "
	      "(%llu mismatches, %llu ambiguous)", (unsigned long long)d.mismatches,
	      (unsigned long long)d.ambiguous);
	set_labels(&gpu, stray);
	CHECK(op_compare_ambiguous(op, &gpu, &ref, 36, ambiguous, &d, &err) == VB_OK &&
		      d.mismatches == 1 && d.ambiguous == 2,
	      "a differing voxel touching no marked one still fails (%llu mismatches)",
	      (unsigned long long)d.mismatches);
	memset(ambiguous, 0, sizeof(ambiguous));
	set_labels(&gpu, grown);
	CHECK(op_compare_ambiguous(op, &gpu, &ref, 36, ambiguous, &d, &err) == VB_OK &&
		      d.mismatches == 2 && d.ambiguous == 0,
	      "with nothing marked, the same run fails");
	stack_free(&ref);
	stack_free(&gpu);
}

int main(void)
{
	threshold_case();
	labels_case();
	CHECK_DONE();
}
