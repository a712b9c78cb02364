/*
 * reference_cpu/label.c: connected components of a binary image on the CPU, the definition the
 * GPU labelling is compared with and the source of the label inputs a run derives.
 *
 * Union-find over voxel indices with the smaller index as the root, then a raster pass that
 * numbers roots in order of first appearance: labels 1..N in scipy.ndimage.label's order. Work is
 * O(N alpha(N)) whatever the shape (spirals, snakes, checkerboards).
 */
#include <math.h>
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

	if (n >= LABEL_MAX_VOXELS) {
		free(parent);
		return vb_errf(err, VB_E_TOO_BIG, "%llu voxels: labelling takes stacks of fewer than "
			       "2^32-1 voxels (u32 labels and parents); crop the stack",
			       (unsigned long long)n);
	}
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

int ref_connected_components_labeling_box(const struct op_call *c, struct vb_err *err)
{
	return ref_label_binary(c->in[0], 26, c->out, err);
}

int ref_connected_components_labeling_diamond(const struct op_call *c, struct vb_err *err)
{
	return ref_label_binary(c->in[0], 6, c->out, err);
}

/* Each non-zero voxel its own label, numbered in raster order (clEsperanto's label_spots). */
int ref_label_spots(const struct op_call *c, struct vb_err *err)
{
	uint64_t n = stack_voxels(c->in[0]);
	uint32_t *out = c->out->data, next = 0;

	if (n >= LABEL_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG, "%s: %llu voxels, u32 labels take fewer than 2^32-1; "
			       "crop the stack", ref_op_name(c), (unsigned long long)n);
	for (uint64_t i = 0; i < n; i++)
		out[i] = stack_get(c->in[0], i) != 0 ? ++next : 0;
	return VB_OK;
}

/*
 * The label ops below share one scheme, the same as their GPU plans: a table indexed by label
 * value (0 .. max) gathers what each label needs (presence, size, an edge touched), a rule keeps
 * or drops each label, and the kept ones are renumbered 1..K in order of their old value.
 */
enum label_rule { KEEP_PRESENT, KEEP_SIZE, KEEP_OFF_EDGES };

/* The largest label of s; VB_E_ARGS for a negative or fractional one, VB_E_TOO_BIG past the
 * table's limit. */
static int label_max(const struct op_call *c, uint64_t *max, struct vb_err *err)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);
	double m = 0;

	if (n >= LABEL_MAX_VOXELS) /* u32 sizes */
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels; label ops take fewer than 2^32-1, "
			       "crop the stack", ref_op_name(c), n);
	for (size_t i = 0; i < n; i++) {
		double v = stack_get(s, i);

		if (v < 0 || v != floor(v))
			return vb_errf(err, VB_E_ARGS, "%s: label %g is not a non-negative integer",
				       ref_op_name(c), v);
		m = fmax(m, v);
	}
	if (m > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %.0f exceeds %u, the largest this op's "
			       "per-label table takes", ref_op_name(c), m, LABEL_MAX_VALUE);
	*max = (uint64_t)m;
	return VB_OK;
}

/* Whether voxel i of a w x h x d stack lies on an edge the exclude_* params name; z counts only
 * for stacks deeper than one plane (clEsperanto: "in Z if the image is 3D"). */
static int on_edge(const struct op_call *c, size_t i)
{
	const struct stack *s = c->in[0];
	size_t x = i % s->width, y = i / s->width % s->height, z = i / s->width / s->height;

	return (op_param(c, "exclude_x") != 0 && (x == 0 || x == s->width - 1)) ||
	       (op_param(c, "exclude_y") != 0 && (y == 0 || y == s->height - 1)) ||
	       (op_param(c, "exclude_z") != 0 && s->depth > 1 && (z == 0 || z == s->depth - 1));
}

/* Keep a label of `count` voxels when minimum_size <= count <= maximum_size. */
static int size_kept(uint64_t count, double lo, double hi)
{
	return count > 0 && (double)count >= lo && (double)count <= hi;
}

static int relabel(const struct op_call *c, enum label_rule rule, double lo, double hi,
		   struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	uint32_t *out = c->out->data, *stat, *map, next = 0;
	uint64_t max = 0;
	int status = label_max(c, &max, err);

	if (status)
		return status;
	stat = calloc(max + 1, sizeof(*stat));
	map = calloc(max + 1, sizeof(*map));
	if (!stat || !map) {
		free(stat);
		free(map);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for %llu labels", ref_op_name(c),
			       (unsigned long long)max);
	}
	/* stat: the size, or for edges 1 = present and 2 = touches an excluded edge */
	for (size_t i = 0; i < n; i++) {
		uint64_t l = (uint64_t)stack_get(c->in[0], i);

		if (rule == KEEP_OFF_EDGES)
			stat[l] |= 1u | (on_edge(c, i) ? 2u : 0u);
		else
			stat[l]++;
	}
	for (uint64_t l = 1; l <= max; l++) {
		int keep = rule == KEEP_PRESENT ? stat[l] > 0 :
			   rule == KEEP_SIZE ? size_kept(stat[l], lo, hi) : stat[l] == 1;

		map[l] = keep ? ++next : 0;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = map[(uint64_t)stack_get(c->in[0], i)];
	free(stat);
	free(map);
	return VB_OK;
}

int ref_relabel_sequential(const struct op_call *c, struct vb_err *err)
{
	return relabel(c, KEEP_PRESENT, 0, 0, err);
}

int ref_exclude_labels_on_edges(const struct op_call *c, struct vb_err *err)
{
	return relabel(c, KEEP_OFF_EDGES, 0, 0, err);
}

int ref_exclude_small_labels(const struct op_call *c, struct vb_err *err)
{
	return relabel(c, KEEP_SIZE, op_param(c, "maximum_size"), INFINITY, err);
}

int ref_exclude_large_labels(const struct op_call *c, struct vb_err *err)
{
	return relabel(c, KEEP_SIZE, 0, op_param(c, "minimum_size"), err);
}

int ref_exclude_labels_outside_size_range(const struct op_call *c, struct vb_err *err)
{
	return relabel(c, KEEP_SIZE, op_param(c, "minimum_size"), op_param(c, "maximum_size"), err);
}
