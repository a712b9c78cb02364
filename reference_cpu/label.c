/*
 * reference_cpu/label.c: connected components of a binary image on the CPU, the definition the
 * GPU labelling is compared with and the source of the label inputs a run derives.
 *
 * Union-find over voxel indices with the smaller index as the root, then numbering roots in
 * raster order: labels 1..N in scipy.ndimage.label's order. Work is O(N alpha(N)) whatever the
 * shape (spirals, snakes, checkerboards). Threads unite slabs of planes on their own (a slab's
 * indices are theirs alone), then the planes where slabs meet are united in one pass.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "reference.h"

static uint32_t find_root(uint32_t *parent, uint32_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]]; /* path halving */
		i = parent[i];
	}
	return i;
}

/* Unite the set whose root is *root with j's; *root becomes the united set's root. */
static inline void unite_root(uint32_t *parent, uint32_t *root, uint32_t j)
{
	uint32_t b = find_root(parent, j);

	if (b < *root) {
		parent[*root] = b;
		*root = b;
	} else if (*root < b) {
		parent[b] = *root;
	}
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = find_root(parent, a);
	b = find_root(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

/* Whether (dx, dy, dz), dz <= 0, is an earlier neighbour: before the voxel in raster order, and a
 * face neighbour when connectivity is 6. */
static inline int earlier(int dx, int dy, int dz, int connectivity)
{
	if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0)))
		return 0; /* later in raster order */
	return connectivity != 6 || abs(dx) + abs(dy) + abs(dz) == 1;
}

/* The earlier neighbours (the half of the neighbourhood that precedes a voxel in raster order)
 * in planes dz_lo .. dz_hi, as index offsets; those at dx = +1 first, `right` of them. */
struct earlier {
	int64_t off[13];
	int n, right;
};

static struct earlier earlier_neighbours(long w, long h, int connectivity, int dz_lo, int dz_hi)
{
	struct earlier e = { .n = 0 };

	for (int pass = 0; pass < 2; pass++) { /* the dx = +1 ones, then the others */
		for (int dz = dz_lo; dz <= dz_hi; dz++)
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++)
					if (earlier(dx, dy, dz, connectivity) && (dx == 1) == (pass == 0))
						e.off[e.n++] = ((int64_t)dz * h + dy) * w + dx;
		if (pass == 0)
			e.right = e.n;
	}
	return e;
}

/* The same unions with bounds checks, for voxels on the plane's border. */
static void unite_border_voxel(const uint8_t *fg, long w, long h, long x, long y, int64_t i,
			       int connectivity, int dz_lo, int dz_hi, uint32_t *parent)
{
	for (int dz = dz_lo; dz <= dz_hi; dz++)
		for (int dy = -1; dy <= 1; dy++)
			for (int dx = -1; dx <= 1; dx++) {
				long nx = x + dx, ny = y + dy;
				int64_t j = i + ((int64_t)dz * h + dy) * w + dx;

				if (earlier(dx, dy, dz, connectivity) && nx >= 0 && ny >= 0 && nx < w &&
				    ny < h && fg[j])
					unite(parent, (uint32_t)i, (uint32_t)j);
			}
}

/*
 * Union the foreground voxels of plane z with their earlier neighbours in planes z + dz_lo ..
 * z + dz_hi, where -1 <= dz_lo <= dz_hi <= 0. Inside the plane no bounds are checked; and with
 * 26-connectivity, when the voxel before in x is foreground it is already one with every earlier
 * neighbour at dx = -1 or 0 (they are its own earlier neighbours, united when it was visited, in
 * this pass or, for its own plane, the slab's), so only the dx = +1 ones are left: 4 or 5 unions
 * where there were 13. Roots are the smallest index of their set whatever the order of unions.
 */
static void unite_plane(const uint8_t *fg, const size_t dims[3], size_t z, int connectivity,
			int dz_lo, int dz_hi, uint32_t *parent)
{
	long w = (long)dims[0], h = (long)dims[1];
	struct earlier e = earlier_neighbours(w, h, connectivity, dz_lo, dz_hi);

	for (long y = 0; y < h; y++)
		for (long x = 0; x < w; x++) {
			int64_t i = ((int64_t)z * h + y) * w + x;
			int n = e.n;
			uint32_t root;

			if (!fg[i])
				continue;
			if (x == 0 || y == 0 || x + 1 == w || y + 1 == h) {
				unite_border_voxel(fg, w, h, x, y, i, connectivity, dz_lo, dz_hi, parent);
				continue;
			}
			/* i's root, kept across its unions: one search for it, not one per union */
			root = find_root(parent, (uint32_t)i);
			if (connectivity == 26 && fg[i - 1]) {
				if (dz_hi == 0)
					unite_root(parent, &root, (uint32_t)(i - 1));
				n = e.right;
			}
			for (int k = 0; k < n; k++)
				if (fg[i + e.off[k]])
					unite_root(parent, &root, (uint32_t)(i + e.off[k]));
		}
}

/* First plane of slab s when depth planes are shared out among `slabs`. */
static size_t slab_start(size_t depth, int slabs, int s)
{
	return depth * (size_t)s / (size_t)slabs;
}

static void unite_all(const uint8_t *fg, const size_t dims[3], int connectivity, int threads,
		      uint32_t *parent)
{
	int slabs = (size_t)threads < dims[2] ? threads : (int)dims[2];

	if (slabs < 1)
		slabs = 1;
	/* a slab's unions touch its own indices only: no two threads write one parent */
#pragma omp parallel for num_threads(slabs) schedule(static, 1)
	for (int s = 0; s < slabs; s++) {
		size_t first = slab_start(dims[2], slabs, s);

		for (size_t z = first; z < slab_start(dims[2], slabs, s + 1); z++)
			unite_plane(fg, dims, z, connectivity, z > first ? -1 : 0, 0, parent);
	}
	/* then where slabs meet: each slab's first plane against the plane before it */
	for (int s = 1; s < slabs; s++)
		unite_plane(fg, dims, slab_start(dims[2], slabs, s), connectivity, -1, -1, parent);
}

/* Number the roots 1..N in index order and give every voxel its root's number. */
static int number_roots(const uint8_t *fg, uint32_t *parent, uint64_t n, int threads,
			uint32_t *labels, struct vb_err *err)
{
	uint64_t *count = calloc((size_t)threads + 1, sizeof(*count)), next = 0;

	if (!count)
		return vb_errf(err, VB_E_NOMEM, "out of memory numbering labels");
	/* a member's parent precedes it and is already its root: one forward pass flattens */
	for (uint64_t i = 0; i < n; i++)
		if (fg[i])
			parent[i] = parent[parent[i]];
#pragma omp parallel num_threads(threads)
	{
		int t = REF_THREAD_NUM(), nt = REF_NUM_THREADS(); /* the team may be smaller */
		uint64_t lo = n * (uint64_t)t / (uint64_t)nt, hi = n * (uint64_t)(t + 1) / (uint64_t)nt;
		uint64_t mine = 0;

		for (uint64_t i = lo; i < hi; i++)
			mine += fg[i] && parent[i] == i;
		count[t + 1] = mine;
#pragma omp barrier
#pragma omp single
		for (int k = 1; k <= nt; k++) {
			next += count[k];
			count[k] += count[k - 1];
		}
		uint64_t label = count[t];

		for (uint64_t i = lo; i < hi; i++)
			labels[i] = fg[i] && parent[i] == i ? (uint32_t)++label : 0;
#pragma omp barrier
		for (uint64_t i = lo; i < hi; i++)
			if (fg[i] && parent[i] != i)
				labels[i] = labels[parent[i]];
	}
	free(count);
	if (next >= UINT32_MAX)
		return vb_errf(err, VB_E_ARGS, "more than %u components: a u32 label image cannot "
			       "hold them", UINT32_MAX - 1);
	return VB_OK;
}

int ref_label_binary(const struct stack *in, int connectivity, int threads, struct stack *out,
		     struct vb_err *err)
{
	uint64_t n = stack_voxels(in);
	size_t dims[3] = { in->width, in->height, in->depth };
	uint32_t *parent;
	uint8_t *fg;
	int status;

	if (n >= LABEL_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG, "%llu voxels: labelling takes stacks of fewer than "
			       "2^32-1 voxels (u32 labels and parents); crop the stack",
			       (unsigned long long)n);
	if (out->dtype != DT_U32 || !ref_same_dims(in, out))
		return vb_errf(err, VB_E_ARGS, "bug: labels need a u32 output of the input's shape");
	if (threads < 1)
		threads = 1;
	parent = malloc((n ? n : 1) * sizeof(*parent));
	fg = malloc(n ? n : 1);
	if (!parent || !fg) {
		free(parent);
		free(fg);
		return vb_errf(err, VB_E_NOMEM, "out of memory labelling %llu voxels",
			       (unsigned long long)n);
	}
	STACK_SWITCH_DTYPE(in->dtype, T,
		const T *v = in->data;
		_Pragma("omp parallel for num_threads(threads) schedule(static)")
		for (uint64_t i = 0; i < n; i++) {
			fg[i] = v[i] != 0;
			parent[i] = (uint32_t)i;
		}
	)
	unite_all(fg, dims, connectivity, threads, parent);
	status = number_roots(fg, parent, n, threads, out->data, err);
	free(parent);
	free(fg);
	return status;
}

/* ref_label_binary with 26 (box) or 6 (diamond) connectivity. */
int ref_connected_components_labeling_box(const struct op_call *c, struct vb_err *err)
{
	return ref_label_binary(c->in[0], 26, ref_nthreads(c), c->out, err);
}

int ref_connected_components_labeling_diamond(const struct op_call *c, struct vb_err *err)
{
	return ref_label_binary(c->in[0], 6, ref_nthreads(c), c->out, err);
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
	double m = 0, bad = 0;
	int invalid = 0;

	if (n >= LABEL_MAX_VOXELS) /* u32 sizes */
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels; label ops take fewer than 2^32-1, "
			       "crop the stack", ref_op_name(c), n);
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) reduction(max : m) reduction(| : invalid)")
		for (size_t i = 0; i < n; i++) {
			double v = (double)p[i];

			invalid |= v < 0 || v != floor(v);
			m = v > m ? v : m;
		}
	)
	for (size_t i = 0; invalid && i < n; i++) /* the first bad label, for the message */
		if (stack_get(s, i) < 0 || stack_get(s, i) != floor(stack_get(s, i))) {
			bad = stack_get(s, i);
			break;
		}
	if (invalid)
		return vb_errf(err, VB_E_ARGS, "%s: label %g is not a non-negative integer",
			       ref_op_name(c), bad);
	if (m > LABEL_MAX_VALUE)
		return vb_errf(err, VB_E_TOO_BIG, "%s: label %.0f exceeds %u, the largest this op's "
			       "per-label table takes", ref_op_name(c), m, LABEL_MAX_VALUE);
	*max = (uint64_t)m;
	return VB_OK;
}

/* stat[l] |= 2 for every label l on an edge the exclude_* params name; z counts only for stacks
 * deeper than one plane (clEsperanto: "in Z if the image is 3D"). Walks the faces alone. */
static void mark_edges(const struct op_call *c, uint32_t *stat)
{
	const struct stack *s = c->in[0];
	size_t w = s->width, h = s->height, d = s->depth;
	int ex = op_param(c, "exclude_x") != 0, ey = op_param(c, "exclude_y") != 0;
	int ez = op_param(c, "exclude_z") != 0 && d > 1;

	for (size_t z = 0; z < d; z++)
		for (size_t y = 0; y < h; y++) {
			int row_on_edge = (ey && (y == 0 || y == h - 1)) ||
					  (ez && (z == 0 || z == d - 1));
			size_t base = (z * h + y) * w;

			for (size_t x = 0; x < w; x += row_on_edge || w == 1 ? 1 : w - 1)
				if (row_on_edge || (ex && (x == 0 || x == w - 1)))
					stat[(uint64_t)stack_get(s, base + x)] |= 2u;
		}
}

/* stat[l] for every label: its voxel count (KEEP_SIZE), or 1 when present (the others). */
static void gather_labels(const struct op_call *c, int count_size, uint32_t *stat)
{
	const struct stack *s = c->in[0];
	size_t n = stack_voxels(s);

	/* labels were checked by label_max: non-negative integers within the table */
	REF_SWITCH_DTYPE(s->dtype, T,
		const T *p = s->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++) {
			uint64_t l = (uint64_t)p[i];

			if (l == 0) /* the background: not a label, and the one every thread would hit */
				continue;
			if (count_size)
				__atomic_fetch_add(&stat[l], 1u, __ATOMIC_RELAXED);
			else if (!__atomic_load_n(&stat[l], __ATOMIC_RELAXED))
				__atomic_store_n(&stat[l], 1u, __ATOMIC_RELAXED);
		}
	)
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
	gather_labels(c, rule == KEEP_SIZE, stat);
	if (rule == KEEP_OFF_EDGES)
		mark_edges(c, stat);
	for (uint64_t l = 1; l <= max; l++) {
		int keep = rule == KEEP_PRESENT ? stat[l] > 0 :
			   rule == KEEP_SIZE ? size_kept(stat[l], lo, hi) : stat[l] == 1;

		map[l] = keep ? ++next : 0;
	}
	REF_SWITCH_DTYPE(c->in[0]->dtype, T,
		const T *p = c->in[0]->data;
		_Pragma("omp parallel for num_threads(ref_nthreads(c)) schedule(static)")
		for (size_t i = 0; i < n; i++)
			out[i] = map[(uint64_t)p[i]];
	)
	free(stat);
	free(map);
	return VB_OK;
}

/*
 * Label images in, sequential labels out: the kept labels renumbered 1..K in order of their old
 * value. relabel_sequential keeps every present label; exclude_labels_on_edges drops labels
 * touching the x / y / z faces (params exclude_x/y/z; z only when depth > 1); the size ops keep a
 * label of s voxels when lo <= s <= hi: exclude_small_labels lo = maximum_size, hi = inf;
 * exclude_large_labels lo = 0, hi = minimum_size; exclude_labels_outside_size_range lo =
 * minimum_size, hi = maximum_size (pyclesperanto's definitions). Labels must be integers in
 * 0 .. LABEL_MAX_VALUE (ops/geometry.h).
 */
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
