/*
 * reference_cpu/label.c: connected components of a binary image on the CPU, the definition the
 * GPU labelling is compared with and the source of the label inputs a run derives.
 *
 * Union-find over voxel indices with the smaller index as the root, then a raster pass that
 * numbers roots in order of first appearance: labels 1..N in scipy.ndimage.label's order. Work is
 * O(N alpha(N)) whatever the shape (spirals, snakes, checkerboards).
 */
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

static uint64_t find_root(uint64_t *parent, uint64_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]]; /* path halving */
		i = parent[i];
	}
	return i;
}

static void unite(uint64_t *parent, uint64_t a, uint64_t b)
{
	a = find_root(parent, a);
	b = find_root(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

/* Union every foreground voxel with its earlier neighbours (the half of the neighbourhood that
 * precedes it in raster order). */
static void unite_neighbours(const struct stack *in, int connectivity, uint64_t *parent)
{
	size_t w = in->width, h = in->height, d = in->depth;

	for (size_t z = 0; z < d; z++)
		for (size_t y = 0; y < h; y++)
			for (size_t x = 0; x < w; x++) {
				uint64_t i = ((uint64_t)z * h + y) * w + x;

				if (stack_get(in, i) == 0)
					continue;
				for (int dz = -1; dz <= 0; dz++)
					for (int dy = -1; dy <= 1; dy++)
						for (int dx = -1; dx <= 1; dx++) {
							long nx = (long)x + dx, ny = (long)y + dy, nz = (long)z + dz;
							int dist = abs(dx) + abs(dy) + abs(dz);
							uint64_t j;

							/* earlier neighbours only */
							if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0)))
								continue;
							if (connectivity == 6 && dist != 1)
								continue;
							if (nx < 0 || ny < 0 || nz < 0 || nx >= (long)w ||
							    ny >= (long)h)
								continue;
							j = ((uint64_t)nz * h + (uint64_t)ny) * w + (uint64_t)nx;
							if (stack_get(in, j) != 0)
								unite(parent, i, j);
						}
			}
}

int ref_label_binary(const struct stack *in, int connectivity, struct stack *out,
		     struct vb_err *err)
{
	uint64_t n = stack_voxels(in), next = 0;
	uint64_t *parent = malloc(n * sizeof(*parent));
	uint32_t *labels = out->data;

	if (!parent)
		return vb_errf(err, VB_E_NOMEM, "out of memory labelling %llu voxels",
			       (unsigned long long)n);
	if (out->dtype != DT_U32 || !ref_same_dims(in, out)) {
		free(parent);
		return vb_errf(err, VB_E_ARGS, "bug: labels need a u32 output of the input's shape");
	}
	for (uint64_t i = 0; i < n; i++)
		parent[i] = i;
	unite_neighbours(in, connectivity, parent);
	/* a root precedes its members, so one raster pass numbers roots before they are needed */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r;

		if (stack_get(in, i) == 0) {
			labels[i] = 0;
			continue;
		}
		r = find_root(parent, i);
		if (r == i) {
			if (next == UINT32_MAX) {
				free(parent);
				return vb_errf(err, VB_E_ARGS, "more than %u components: a u32 label "
					       "image cannot hold them", UINT32_MAX - 1);
			}
			labels[i] = (uint32_t)++next;
		} else {
			labels[i] = labels[r];
		}
	}
	free(parent);
	return VB_OK;
}
