/*
 * ops/plans_filter_rank.c: window filters over box and sphere footprints (kernels/filter_rank.cl).
 *
 * The footprint goes to the device as one x run per (dy, dz) row (geom_footprint_runs, the
 * reference's own), so kernel and reference cannot disagree on which voxels a sphere holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans.h"

/* Medians of windows up to this many voxels select in a private array; larger ones bisect. */
#define MEDIAN_PRIVATE_MAX 125
/* z planes per work-item of median_box3 and median_sphere1 */
#define MEDIAN3_ZCHUNK 32

static const char *const reductions[] = { "mean", "min", "max", "var", "std",
					  "erode", "dilate", "maxima" };

/* ops/plans.h */
int plan_footprint_runs(struct gpu_run *r, const struct op_call *c, int sphere,
			const int radius[3], struct gpu_buf **runs, long *count, struct vb_err *err)
{
	size_t rows = (2 * (size_t)radius[1] + 1) * (2 * (size_t)radius[2] + 1);
	int *host = malloc(rows * sizeof(*host)), status;

	if (!host)
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate the footprint", c->op->name);
	*count = geom_footprint_runs(sphere, radius, host);
	status = gpu_constant(r, 0, host, rows * sizeof(*host), runs, err);
	free(host);
	return status;
}

/*
 * median_box3 and median_sphere1: work-items walk MEDIAN3_ZCHUNK voxels of a z column
 * (kernels/filter_rank.cl).
 */
static int median_column(struct gpu_run *r, const struct op_call *c, const char *kernel,
			 struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = launch_3d("filter_rank", kernel, in->dtype, c->out->dtype, in);

	l.global[2] = (in->depth + MEDIAN3_ZCHUNK - 1) / MEDIAN3_ZCHUNK;
	l.local[0] = 32;
	l.local[1] = 4;
	l.local[2] = 1;
	snprintf(l.options, sizeof(l.options), "-DKEY_SIGNED=%d -DZCHUNK=%d",
		 in->dtype == DT_I32, MEDIAN3_ZCHUNK);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

int plan_window(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	const char *what = c->op->reduce ? c->op->reduce : "";
	int sphere = c->op->footprint == FOOT_SPHERE, median, percentile, mode = -1, radius[3];
	struct gpu_buf *runs;
	struct launch l;
	size_t len;
	long count = 0;
	int status;

	for (int i = 0; i < (int)(sizeof(reductions) / sizeof(reductions[0])); i++)
		if (strcmp(what, reductions[i]) == 0)
			mode = i;
	percentile = strcmp(what, "percentile") == 0; /* the median_window of another rank */
	median = percentile || strcmp(what, "median") == 0;
	if (c->op->footprint == FOOT_NONE || (mode < 0 && !median))
		return vb_errf(err, VB_E_ARGS, "%s: bad window '%s' (or no footprint) in the op table "
			       "(bug)", c->op->name, what);
	status = geom_window_radii(c, radius, err);
	if (!status)
		status = plan_footprint_runs(r, c, sphere, radius, &runs, &count, err);
	if (status)
		return status;
	if (median && !percentile && radius[0] == 1 && radius[1] == 1 && radius[2] == 1 &&
	    (!sphere || count == 7))
		return median_column(r, c, sphere ? "median_sphere1" : "median_box3", err);
	l = launch_3d("filter_rank", median ? "median_window" : "window_filter", in->dtype,
		      c->out->dtype, in);
	/* the radii are build options: the row loops know their counts */
	len = (size_t)snprintf(l.options, sizeof(l.options), "-DRY=%d -DRZ=%d -DBOX_RX=%d ",
			       radius[1], radius[2], sphere ? -1 : radius[0]);
	if (median)
		snprintf(l.options + len, sizeof(l.options) - len,
			 "-DKEY_SIGNED=%d -DPRIVATE_N=%ld -DRANK=%ld", in->dtype == DT_I32,
			 count <= MEDIAN_PRIVATE_MAX ? count : 0,
			 percentile ? geom_percentile_rank(op_param(c, "percentile"), count) : -1);
	else
		snprintf(l.options + len, sizeof(l.options) - len, "-DWMODE=%d", mode);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KBUF(runs), KI32(count),
	     KI32(in->width), KI32(in->height), KI32(in->depth));
	return gpu_launch(r, &l, err);
}
