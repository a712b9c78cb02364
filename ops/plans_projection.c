/*
 * ops/plans_projection.c: projections along an axis and reductions of a whole stack.
 *
 * Reductions run in two launches and never go through the host: REDUCE_GROUPS work-groups each
 * reduce a grid-strided share (coalesced, many voxels per work-item) into one partial, then one
 * work-group reduces the partials in a fixed tree order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans.h"

#define REDUCE_GROUP 256
#define REDUCE_GROUPS 2048
/* x projections: lanes per row and rows per work-group (kernels/projection.cl) */
#define X_LANES 32
#define X_ROWS 8
/* Histograms above this many bins do not fit a work-group's __local counts. */
#define HISTOGRAM_MAX_BINS 4096

static int is(const struct op_call *c, const char *kernel)
{
	return strcmp(c->op->reduce, kernel) == 0;
}

static size_t reduce_groups(size_t n)
{
	return reduction_groups(n, REDUCE_GROUP, REDUCE_GROUPS);
}

/* A launch of kernels/<program>.cl in `groups` work-groups of REDUCE_GROUP (1D). */
static struct launch reduce_launch(const char *program, const char *kernel, enum dtype tin,
				   enum dtype tout, size_t groups, const char *extra)
{
	return launch_groups(program, kernel, tin, tout, groups * REDUCE_GROUP, REDUCE_GROUP, extra);
}

/* The last argument of a projection kernel: maximum (1) or minimum (0), or the sum's divisor. */
static struct karg projection_arg(const struct op_call *c, size_t len)
{
	if (is(c, "max") || is(c, "min"))
		return KI32(is(c, "max"));
	return KF32(is(c, "mean") ? (double)len : 1.0);
}

/* Lines along z or y: out (x, j) of w x rows, line start x + base*j, step `step`, len voxels. */
static int project_lines(struct gpu_run *r, const struct op_call *c, size_t rows, size_t base,
			 size_t step, size_t len, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	int minmax = is(c, "max") || is(c, "min");
	struct launch l = { .program = "projection",
			    .kernel = minmax ? "minmax_line_projection" : "sum_line_projection",
			    .in_type = in->dtype, .out_type = c->out->dtype, .dims = 2,
			    .global = { in->width, rows, 1 } };

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(rows),
	     KU64(base), KU64(step), KI32(len), projection_arg(c, len));
	return gpu_launch(r, &l, err);
}

int plan_project_z(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t plane = in->width * in->height;
	struct launch l = { .program = "projection", .in_type = in->dtype,
			    .out_type = c->out->dtype, .dims = 2,
			    .global = { in->width, in->height, 1 } };

	if (!is(c, "std") && !is(c, "argmax"))
		return project_lines(r, c, in->height, in->width, plane, in->depth, err);
	l.kernel = is(c, "std") ? "std_z_projection" : "arg_maximum_z_projection";
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	if (is(c, "std"))
		ARGS(&l, KI32(op_param(c, "ddof")));
	return gpu_launch(r, &l, err);
}

int plan_project_y(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];

	return project_lines(r, c, in->depth, in->width * in->height, in->width, in->height, err);
}

int plan_project_x(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t rows = in->height * in->depth;
	int minmax = is(c, "max") || is(c, "min");
	struct launch l = launch_1d("projection", minmax ? "minmax_x_projection" : "sum_x_projection",
				    in->dtype, c->out->dtype,
				    (rows + X_ROWS - 1) / X_ROWS * X_LANES * X_ROWS);

	l.local[0] = X_LANES * X_ROWS;
	snprintf(l.options, sizeof(l.options), "-DX_LANES=%d -DX_ROWS=%d", X_LANES, X_ROWS);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth), projection_arg(c, in->width));
	return gpu_launch(r, &l, err);
}

/* dst[0] = minimum (which 0), maximum (1), or dst[0..1] = both (2), of input 0. */
static int minmax_into(struct gpu_run *r, const struct op_call *c, int which,
		       struct gpu_buf *dst, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n);
	struct gpu_buf *partials;
	struct launch l;
	int status = gpu_scratch(r, 0, 2 * groups * dtype_size(t), &partials, err);

	if (status)
		return status;
	l = reduce_launch("projection_reduction", "minmax_partials", t, t, groups, "");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KU64(n));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = reduce_launch("projection_reduction", "minmax_final", t, t, 1, "");
	ARGS(&l, KBUF(partials), KBUF(dst), KU64(groups), KI32(which));
	return gpu_launch(r, &l, err);
}

int plan_reduce_minmax(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return minmax_into(r, c, is(c, "max"), gpu_output(r), err);
}

int plan_moments(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n);
	int std = is(c, "std") ? 1 : is(c, "var") ? 2 : 0; /* moments_final's mode */
	struct gpu_buf *partials;
	struct launch l;
	int status = gpu_scratch(r, 0, 3 * groups * sizeof(float), &partials, err);

	if (status)
		return status;
	l = reduce_launch("projection_reduction", "moments_partials", t, DT_F32, groups, "");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KU64(n));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = reduce_launch("projection_reduction", "moments_final", DT_F32, DT_F32, 1, "");
	ARGS(&l, KBUF(partials), KBUF(gpu_output(r)), KU64(groups), KI32(std),
	     KI32(std ? op_param(c, "ddof") : 0));
	return gpu_launch(r, &l, err);
}

int plan_mean_squared_error(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n);
	struct gpu_buf *partials;
	struct launch l;
	int status = gpu_scratch(r, 0, groups * sizeof(float), &partials, err);

	if (status)
		return status;
	l = reduce_launch("projection_reduction", "squared_difference_partials", t, DT_F32, groups, "");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_input(r, 1)), KBUF(partials), KU64(n));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = reduce_launch("projection_reduction", "mean_final", DT_F32, DT_F32, 1, "");
	ARGS(&l, KBUF(partials), KBUF(gpu_output(r)), KU64(groups), KF32((double)n));
	return gpu_launch(r, &l, err);
}

int plan_center_of_mass(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t rows = in->height * in->depth;
	size_t groups = rows < REDUCE_GROUPS ? rows : REDUCE_GROUPS;
	struct gpu_buf *partials;
	struct launch l;
	int status = gpu_scratch(r, 0, 4 * groups * sizeof(float), &partials, err);

	if (status)
		return status;
	l = reduce_launch("projection_reduction", "center_of_mass_partials", in->dtype, DT_F32, groups, "");
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = reduce_launch("projection_reduction", "center_of_mass_final", DT_F32, DT_F32, 1, "");
	ARGS(&l, KBUF(partials), KBUF(gpu_output(r)), KU64(groups));
	return gpu_launch(r, &l, err);
}

/* edges = the thresholds over the image's own range, computed on the device. */
static int image_edges(struct gpu_run *r, const struct op_call *c, int nbins,
		       struct gpu_buf *edges, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	struct gpu_buf *range;
	struct launch l;
	int status = gpu_scratch(r, 2, 2 * dtype_size(t), &range, err);

	if (!status)
		status = minmax_into(r, c, 2, range, err);
	if (status)
		return status;
	l = launch_1d("projection_histogram_edges", "histogram_edges", t, t, (size_t)nbins + 1);
	ARGS(&l, KBUF(range), KBUF(edges), KI32(nbins));
	return gpu_launch(r, &l, err);
}

/* The thresholds of the row's fixed range, computed on the host (uploaded once per run). */
static int fixed_edges(struct gpu_run *r, const struct op_call *c, int nbins, size_t edge_size,
		       struct gpu_buf **edges, struct vb_err *err)
{
	double lo, hi;
	void *host = malloc((size_t)(nbins + 1) * edge_size);
	int status;

	if (!host)
		return vb_errf(err, VB_E_NOMEM, "%s: cannot allocate %d bin edges", c->op->name,
			       nbins + 1);
	geom_histogram_range(op_param(c, "minimum_intensity"), op_param(c, "maximum_intensity"),
			    0, 0, &lo, &hi);
	geom_histogram_edges(c->in[0]->dtype, nbins, lo, hi, host);
	status = gpu_constant(r, 1, host, (size_t)(nbins + 1) * edge_size, edges, err);
	free(host);
	return status;
}

int plan_histogram(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	int nbins = (int)op_param(c, "num_bins"), status;
	size_t n = stack_voxels(c->in[0]), groups = reduce_groups(n / 8 + 1);
	size_t edge_size = dtype_is_float(t) ? sizeof(float) : sizeof(int64_t);
	struct gpu_buf *edges;
	char option[64];
	struct launch l;

	if (nbins > HISTOGRAM_MAX_BINS) /* the row's range stops there */
		return vb_errf(err, VB_E_ARGS, "%s: %d bins exceed the %d a work-group counts",
			       c->op->name, nbins, HISTOGRAM_MAX_BINS);
	if (geom_histogram_image_range(op_param(c, "minimum_intensity"),
				      op_param(c, "maximum_intensity"))) {
		status = gpu_scratch(r, 1, (size_t)(nbins + 1) * edge_size, &edges, err);
		if (!status)
			status = image_edges(r, c, nbins, edges, err);
	} else {
		status = fixed_edges(r, c, nbins, edge_size, &edges, err);
	}
	if (status)
		return status;
	snprintf(option, sizeof(option), "-DMAX_BINS=%d", HISTOGRAM_MAX_BINS);
	l = reduce_launch("projection_histogram", "histogram_clear", t, DT_U32,
			  ((size_t)nbins + REDUCE_GROUP - 1) / REDUCE_GROUP, option);
	ARGS(&l, KBUF(gpu_output(r)), KI32(nbins));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = reduce_launch("projection_histogram", "histogram_count", t, DT_U32, groups, option);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(edges), KBUF(gpu_output(r)), KU64(n), KI32(nbins));
	return gpu_launch(r, &l, err);
}

/* ---- maximum_z_projection and sum_of_all_pixels (the first projection and reduction) ---- */

#define REDUCTION_GROUP 256
#define REDUCTION_GROUPS 2048

int plan_z_projection(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	struct launch l = { .program = "projection", .kernel = c->op->entry, .in_type = in->dtype,
			    .out_type = c->out->dtype, .dims = 2,
			    .global = { in->width, in->height, 1 } };

	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(gpu_output(r)), KI32(in->width), KI32(in->height),
	     KI32(in->depth));
	return gpu_launch(r, &l, err);
}

int plan_sum_of_all_pixels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]);
	size_t groups = reduction_groups(n, REDUCTION_GROUP, REDUCTION_GROUPS);
	struct gpu_buf *partials;
	struct launch l;
	int status;

	status = gpu_scratch(r, 0, groups * sizeof(float), &partials, err);
	if (status)
		return status;
	l = launch_groups("projection_reduction", "sum_partials", c->in[0]->dtype, DT_F32,
			  groups * REDUCTION_GROUP, REDUCTION_GROUP, NULL);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(partials), KU64(n));
	status = gpu_launch(r, &l, err);
	if (status)
		return status;
	l = launch_groups("projection_reduction", "sum_final", DT_F32, DT_F32, REDUCTION_GROUP,
			  REDUCTION_GROUP, NULL);
	ARGS(&l, KBUF(partials), KBUF(gpu_output(r)), KU64(groups));
	return gpu_launch(r, &l, err);
}
