/*
 * tests/test_label_threads.c: the CPU reference's connected components shares the planes out
 * among threads and then unites where the slabs meet. Whatever the thread count, labels must be
 * those of one thread (components crossing every slab border, single planes, odd sizes), and
 * numbered in raster order of each component's first voxel.
 */
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	random_cases();
	known_case();
	CHECK_DONE();
}
