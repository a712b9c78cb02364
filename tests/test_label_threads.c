/*
 * tests/test_label_threads.c: the CPU reference's connected components shares the planes out
 * among threads and then unites where the slabs meet. Whatever the thread count, labels must be
 * those of one thread (components crossing every slab border, single planes, odd sizes), and
 * numbered in raster order of each component's first voxel. The references built on it (Voronoi
 * growth from a front, label statistics by slabs, Otsu's histogram, sums in fixed blocks) must
 * likewise give one thread's output, bit for bit, on any thread count.
 */
#include <stdlib.h>
#include <string.h>

#include "../ops/op.h"
#include "../reference_cpu/reference.h"
#include "check.h"

/* A random binary stack of density p (xorshift, so the case is the same everywhere). */
static void random_binary(struct stack *s, double p, uint64_t seed)
{
	for (size_t i = 0; i < stack_voxels(s); i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		stack_set(s, i, (double)(seed % 1000) < p * 1000 ? 1 : 0);
	}
}

static int same_labels(const struct stack *in, int connectivity, int threads)
{
	struct stack one = { 0 }, many = { 0 };
	struct vb_err err;
	int same;

	stack_alloc(&one, in->width, in->height, in->depth, DT_U32, &err);
	stack_alloc(&many, in->width, in->height, in->depth, DT_U32, &err);
	same = ref_label_binary(in, connectivity, 1, &one, &err) == VB_OK &&
	       ref_label_binary(in, connectivity, threads, &many, &err) == VB_OK &&
	       memcmp(one.data, many.data, stack_bytes(&one)) == 0;
	stack_free(&one);
	stack_free(&many);
	return same;
}

static void random_cases(void)
{
	static const size_t dims[][3] = { { 37, 23, 19 }, { 64, 64, 1 }, { 5, 7, 2 }, { 1, 1, 40 },
					  { 31, 17, 64 } };
	static const double density[] = { 0.1, 0.3, 0.5, 0.9 };
	static const int threads[] = { 2, 3, 7, 16, 64 };

	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
		for (size_t p = 0; p < sizeof(density) / sizeof(density[0]); p++) {
			struct stack in = { 0 };
			struct vb_err err;
			int all = 1;

			stack_alloc(&in, dims[d][0], dims[d][1], dims[d][2], DT_U8, &err);
			random_binary(&in, density[p], 88172645463325252ull + d * 31 + p);
			for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++)
				all &= same_labels(&in, 26, threads[t]) && same_labels(&in, 6, threads[t]);
			CHECK(all, "%zux%zux%zu density %.1f: the same labels on 2..64 threads as on one",
			      dims[d][0], dims[d][1], dims[d][2], density[p]);
			stack_free(&in);
		}
}

/* Two components, each crossing every slab border of 4 threads over 8 planes: a column at x=0
 * and a column at x=2 that joins a bar in the last plane; the first voxel of each names it. */
static void known_case(void)
{
	struct stack in = { 0 }, out = { 0 };
	struct vb_err err;
	const uint32_t *l;
	int ok;

	stack_alloc(&in, 4, 1, 8, DT_U8, &err);
	stack_alloc(&out, 4, 1, 8, DT_U32, &err);
	for (size_t z = 0; z < 8; z++) {
		stack_set(&in, z * 4 + 0, 1);
		stack_set(&in, z * 4 + 2, 1);
	}
	stack_set(&in, 7 * 4 + 3, 1); /* the bar joins the second column only */
	ok = ref_label_binary(&in, 6, 4, &out, &err) == VB_OK;
	l = out.data;
	CHECK(ok && l[0] == 1 && l[2] == 2 && l[7 * 4] == 1 && l[7 * 4 + 2] == 2 &&
		      l[7 * 4 + 3] == 2 && l[1] == 0 && l[3 * 4 + 1] == 0,
	      "columns crossing every slab border keep one label each, numbered by first voxel");
	stack_free(&in);
	stack_free(&out);
}

/* Op name's reference over in0 (and in1) on `threads` threads into out (allocated here). */
static int reference_on(const char *name, const struct stack *in0, const struct stack *in1,
			int threads, struct stack *out)
{
	const struct op_desc *op = op_find(name);
	struct op_call c = { .op = op, .in = { in0, in1 }, .out = out, .threads = threads };
	double side = 0;
	size_t dims[3];
	struct vb_err err;

	if (!op)
		return -1;
	c.side_value = &side;
	op_default_params(op, c.p);
	if (op_output_dims(&c, dims, &err) ||
	    stack_alloc(out, dims[0], dims[1], dims[2], op_output_dtype(op, in0->dtype), &err))
		return -1;
	return op->ref(&c, &err);
}

/* Blobs of labels: the connected components of a random binary stack, then an intensity. */
static void whole_op_cases(void)
{
	static const char *const ops[] = { "masked_voronoi_labeling", "voronoi_otsu_labeling",
					   "statistics_of_labelled_pixels", "centroids_of_labels",
					   "threshold_otsu", "threshold_mean", "detect_maxima_box",
					   "median_box", "distance_transform_edt" };
	static const int threads[] = { 2, 5, 16 };
	struct stack seeds = { 0 }, mask = { 0 }, labels = { 0 }, img = { 0 };
	struct vb_err err;

	stack_alloc(&seeds, 41, 29, 23, DT_U8, &err);
	stack_alloc(&mask, 41, 29, 23, DT_U8, &err);
	stack_alloc(&labels, 41, 29, 23, DT_U32, &err);
	stack_alloc(&img, 41, 29, 23, DT_F32, &err);
	random_binary(&seeds, 0.02, 12345);
	random_binary(&mask, 0.7, 999);
	ref_label_binary(&mask, 6, 1, &labels, &err);
	for (size_t i = 0; i < stack_voxels(&img); i++)
		stack_set(&img, i, (double)((i * 2654435761u) % 1000) / 7.0);
	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		const char *name = ops[o];
		int labelled = strstr(name, "statistics") != NULL, centroids = strstr(name, "centroids") != NULL;
		const struct stack *a = strstr(name, "masked") ? &seeds : centroids ? &labels : &img;
		const struct stack *b = strstr(name, "masked") ? &mask : labelled ? &labels : NULL;
		struct stack one = { 0 };
		int ok = reference_on(name, a, b, 1, &one) == VB_OK, same = ok;

		for (size_t t = 0; ok && t < sizeof(threads) / sizeof(threads[0]); t++) {
			struct stack many = { 0 };

			same &= reference_on(name, a, b, threads[t], &many) == VB_OK &&
				stack_bytes(&many) == stack_bytes(&one) &&
				memcmp(many.data, one.data, stack_bytes(&one)) == 0;
			stack_free(&many);
		}
		CHECK(ok && same, "%s: the same output, bit for bit, on 2, 5 and 16 threads as on one",
		      name);
		stack_free(&one);
	}
	stack_free(&seeds);
	stack_free(&mask);
	stack_free(&labels);
	stack_free(&img);
}

int main(void)
{
	random_cases();
	known_case();
	whole_op_cases();
	CHECK_DONE();
}
