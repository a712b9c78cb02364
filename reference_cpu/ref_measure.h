/* reference_cpu/ref_measure.h: references of the ops in ops/rows_measure.def (see reference.h). */
#ifndef VB_REF_MEASURE_H
#define VB_REF_MEASURE_H

#include "../ops/ops.h"

/*
 * Exact Euclidean distance of every non-zero voxel to the nearest zero voxel (zeros get 0), in
 * units of params "voxel_size_x/y/z"; f32 out. Felzenszwalb-Huttenlocher lower envelopes per line
 * over squared distances in double, sqrt at the end (scipy distance_transform_edt with
 * sampling=(sz, sy, sx)). A stack without any zero voxel gives +inf everywhere (scipy then
 * measures to a phantom zero just before the first voxel).
 */
int ref_distance_transform_edt(const struct op_call *c, struct vb_err *err);

/*
 * Labels (> 0) grow into background voxels within Euclidean distance "radius" (isotropic voxels):
 * each such voxel takes the label of its nearest labelled voxel, the smallest label on ties; u32.
 */
int ref_dilate_labels(const struct op_call *c, struct vb_err *err);

/*
 * A labelled voxel keeps its label iff every voxel of the image within Euclidean distance
 * "radius" has the same label (background and other labels erode it); else 0. u32.
 */
int ref_erode_labels(const struct op_call *c, struct vb_err *err);

/*
 * Per-label table of in[0]'s intensities over the labels in[1] (values <= 0 are background):
 * f32, STATISTICS_COLUMNS wide, max(1, max label) rows (row i = label i + 1), depth 1.
 */
enum statistics_column {
	STAT_LABEL, STAT_AREA, STAT_SUM, STAT_MEAN, STAT_MIN, STAT_MAX, STAT_STD,
	STAT_CENTROID_X, STAT_CENTROID_Y, STAT_CENTROID_Z,
	STAT_BBOX_MIN_X, STAT_BBOX_MIN_Y, STAT_BBOX_MIN_Z,
	STAT_BBOX_MAX_X, STAT_BBOX_MAX_Y, STAT_BBOX_MAX_Z,
	STATISTICS_COLUMNS
};
extern const char *const statistics_columns[];
extern const int statistics_column_count;
int ref_statistics_of_labelled_pixels(const struct op_call *c, struct vb_err *err);
int statistics_dims(const struct op_call *c, size_t out[3], struct vb_err *err);

/* Centroids of labels 1..N of in[0] (values <= 0 are background): f32, N wide, 3 rows (x, y, z),
 * depth 1; a label without voxels gets NaN. */
int ref_centroids_of_labels(const struct op_call *c, struct vb_err *err);
int centroids_dims(const struct op_call *c, size_t out[3], struct vb_err *err);

/*
 * clEsperanto's masked_voronoi_labeling: the 26-connected components of in[0] (raster order)
 * grow into the non-zero voxels of the mask in[1], alternating 3x3x3-box and 6-neighbour steps
 * in which a 0 voxel takes its neighbourhood's maximum (the larger label wins ties), until
 * nothing changes; voxels outside the mask are walls (a seed outside it drops by one, as there),
 * and end 0. u32.
 */
int ref_masked_voronoi_labeling(const struct op_call *c, struct vb_err *err);

/*
 * clEsperanto's voronoi_otsu_labeling: seeds = detect_maxima_box (radius 1) of
 * gaussian_blur(spot_sigma), mask = threshold_otsu of gaussian_blur(outline_sigma), then
 * masked_voronoi_labeling(seeds and mask, mask); each step is that op's reference. u32.
 */
int ref_voronoi_otsu_labeling(const struct op_call *c, struct vb_err *err);

/* The largest label (> 0) of s, 0 when none or when s has no host data (a u32 fits every label
 * of the integer dtypes). */
uint32_t ref_max_label(const struct stack *s);

#endif
