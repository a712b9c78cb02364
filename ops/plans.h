/*
 * ops/plans.h: the GPU plans of the kernel families: how each family's kernels are launched.
 * A row of the op table names one; the row's `kernel` field parameterises it.
 */
#ifndef VB_PLANS_H
#define VB_PLANS_H

#include "ops.h"

int plan_copy(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* One element-wise function of kernels/elementwise.cl (-DOP_FN=row.kernel); s0, s1 = p[0], p[1]. */
int plan_elementwise(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_gaussian(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_mean_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
/* row.kernel is "min" or "max". */
int plan_minmax_box(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_z_projection(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
int plan_sum(struct gpu_run *r, const struct op_call *c, struct vb_err *err);

/* Launch helpers every plan file shares (ops/plans.c). */
struct launch launch_1d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			size_t n);
struct launch launch_3d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			const struct stack *s);
void launch_add_args(struct launch *l, int n, const struct karg *args);
/* Work-groups of `group` items for a reduction over n voxels: at least 1, at most max_groups
 * (the kernels' grid-stride loops cover the rest). */
size_t reduction_groups(size_t n, size_t group, size_t max_groups);
/* A 1D launch of `items` work-items (rounded up to whole groups) in groups of `group`, built
 * with -DGROUP_SIZE=group and the extra options (or NULL). */
struct launch launch_groups(const char *program, const char *kernel, enum dtype tin,
			    enum dtype tout, size_t items, size_t group, const char *extra);
#define ARGS(l, ...)                                                                             \
	launch_add_args(l, sizeof((struct karg[]){ __VA_ARGS__ }) / sizeof(struct karg),        \
			(struct karg[]){ __VA_ARGS__ })

/* Each family's plans. */
#include "plans_pixel.h"
#include "plans_filter.h"
#include "plans_stencil.h"
#include "plans_projection.h"
#include "plans_transform.h"
#include "plans_label.h"
#include "plans_measure.h"

#endif
