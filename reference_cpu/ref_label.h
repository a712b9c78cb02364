/* reference_cpu/ref_label.h: references of the ops in ops/rows_label.def (see reference.h). */
#ifndef VB_REF_LABEL_H
#define VB_REF_LABEL_H

#include "../ops/ops.h"

/* Labelling indexes voxels (parents, labels) with u32: stacks must hold fewer voxels. */
#define REF_LABEL_MAX_VOXELS 0xffffffffull
/* Label ops keep one table entry per label value: the largest value they take. */
#define REF_LABEL_MAX_VALUE ((1u << 30) - 2)

/* ---- thresholds (reference_cpu/threshold.c); u8 0/1 output ---- */

/*
 * Otsu's threshold over a 256-bin histogram of the float voxels spanning [min, max] (bin =
 * (int)((v - min) * s), s = (float)(256.0 / (max - min)), clamped to 255: the bins of
 * skimage.filters.threshold_otsu(nbins=256) up to rounding at bin edges); threshold = the best
 * bin's centre, (float)(min + (k + 0.5) * (max - min) / 256) in double; out = v > threshold. The threshold is the side
 * value. A constant stack's threshold is its value.
 */
int ref_threshold_otsu(const struct op_call *c, struct vb_err *err);
/* out = v > (float)mean, the mean accumulated in double. */
int ref_threshold_mean(const struct op_call *c, struct vb_err *err);
/* The Otsu bin (0..254) of a 256-bin histogram: the argmax of the between-class variance
 * (first one on ties), computed in double; shared with the tests' checks of GPU histograms. */
int ref_otsu_bin(const uint64_t hist[256]);

/* ---- labelling (reference_cpu/label.c); u32 output, labels 1..N ---- */

/* ref_label_binary with 26 (box) or 6 (diamond) connectivity. */
int ref_connected_components_labeling_box(const struct op_call *c, struct vb_err *err);
int ref_connected_components_labeling_diamond(const struct op_call *c, struct vb_err *err);
/* Every non-zero voxel its own label, 1..N in raster order. */
int ref_label_spots(const struct op_call *c, struct vb_err *err);
/*
 * Label images in, sequential labels out: the kept labels renumbered 1..K in order of their old
 * value. relabel_sequential keeps every present label; exclude_labels_on_edges drops labels
 * touching the x / y / z faces (params exclude_x/y/z; z only when depth > 1); the size ops keep a
 * label of s voxels when lo <= s <= hi: exclude_small_labels lo = maximum_size, hi = inf;
 * exclude_large_labels lo = 0, hi = minimum_size; exclude_labels_outside_size_range lo =
 * minimum_size, hi = maximum_size (pyclesperanto's definitions). Labels must be integers in
 * 0 .. REF_LABEL_MAX_VALUE.
 */
int ref_relabel_sequential(const struct op_call *c, struct vb_err *err);
int ref_exclude_labels_on_edges(const struct op_call *c, struct vb_err *err);
int ref_exclude_small_labels(const struct op_call *c, struct vb_err *err);
int ref_exclude_large_labels(const struct op_call *c, struct vb_err *err);
int ref_exclude_labels_outside_size_range(const struct op_call *c, struct vb_err *err);

#endif
