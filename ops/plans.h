/*
 * ops/plans.h: what a GPU plan is written with (ops/gpu.h and the launch helpers of ops/plans.c)
 * and the prototype of every plan the op table names, generated from its rows (ops/rows.def):
 * a family plan is parameterised by the row's named fields (.entry, .fn, .reduce, ...).
 */
#ifndef VB_PLANS_H
#define VB_PLANS_H

#include "geometry.h"
#include "gpu.h"

/* Launch helpers every plan file shares (ops/plans.c). */
struct launch launch_1d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			size_t n);
struct launch launch_3d(const char *program, const char *kernel, enum dtype tin, enum dtype tout,
			const struct stack *s);
void launch_add_args(struct launch *l, int n, const struct karg *args);
/* Work-groups of `group` items for a reduction over n voxels: at least 1, at most max_groups
 * (the kernels' grid-stride loops cover the rest). */
size_t reduction_groups(size_t n, size_t group, size_t max_groups);
/* A scratch volume shaped like c's input, of dtype t, in slot `slot`; desc describes it and
 * op (desc and buffer) names it for a sub-plan. */
int plan_scratch_volume(struct gpu_run *r, const struct op_call *c, int slot, enum dtype t,
			struct stack *desc, struct gpu_operand *op, struct vb_err *err);
/* A 1D launch of `items` work-items (rounded up to whole groups) in groups of `group`, built
 * with -DGROUP_SIZE=group and the extra options (or NULL). */
struct launch launch_groups(const char *program, const char *kernel, enum dtype tin,
			    enum dtype tout, size_t items, size_t group, const char *extra);
/* Voronoi growth (ops/plans_measure.c): the positive labels of the int32 state[0] (dims of
 * `dims`) grow into its 0 voxels by alternating 3x3x3-box and 6-neighbour steps (the larger
 * label wins ties; negative voxels are walls) until a step changes nothing; *last = the state
 * holding the result. flag: one u32 of scratch. */
int plan_voronoi_grow(struct gpu_run *r, const char *who, struct gpu_buf *state[2],
		      struct gpu_buf *flag, const struct stack *dims, int *last,
		      struct vb_err *err);

/*
 * threshold_otsu's launches with another method (ops/plans_label.c): the float min and max and
 * the 256-bin histogram of kernels/label_threshold.cl, then one work-item of kernel `select` in
 * `program`, given (hist, p) with p[0] min, p[1] max, writes the threshold into p[3] (the side
 * value); out = in > p[3].
 */
int plan_histogram_threshold(struct gpu_run *r, const struct op_call *c, const char *program,
			     const char *select, struct vb_err *err);
#define ARGS(l, ...)                                                                             \
	launch_add_args(l, sizeof((struct karg[]){ __VA_ARGS__ }) / sizeof(struct karg),        \
			(struct karg[]){ __VA_ARGS__ })

/*
 * Op `name` from a (and b) into dst as a sub-plan at scratch base `base`; its parameters are its
 * defaults, then p's first np entries (p may be NULL when np is 0).
 */
int plan_run_op(struct gpu_run *r, const struct op_call *c, const char *name, const double *p,
		int np, struct gpu_operand a, struct gpu_operand b, struct gpu_operand dst,
		int base, struct vb_err *err);

/*
 * A window footprint of the given radii (box, or sphere: geom_footprint_runs) as x runs per
 * (dy, dz) row in device constant slot 0 (ops/plans_filter_rank.c); *count = its voxels.
 */
int plan_footprint_runs(struct gpu_run *r, const struct op_call *c, int sphere,
			const int radius[3], struct gpu_buf **runs, long *count, struct vb_err *err);

/*
 * The largest label of a labels buffer (desc its shape and dtype), by the maximum_of_all_pixels
 * plan in scratch slot `slot` and sub-plan `sub`, read back; VB_E_TOO_BIG above the largest label
 * a per-label table takes.
 */
int plan_max_label(struct gpu_run *r, const struct op_call *c, struct gpu_buf *labels,
		   const struct stack *desc, int slot, int sub, uint32_t *max, struct vb_err *err);

/* One prototype per plan the op table names (a family plan repeats: C allows it). */
#define VB_PLAN_PROTOTYPE(plan) int plan(struct gpu_run *r, const struct op_call *c, struct vb_err *err);
#define OP(token, plan, ...) VB_PLAN_PROTOTYPE(plan_##plan)
#define OP_PLAN(token, ...) VB_PLAN_PROTOTYPE(plan_##token)
#include "rows.def"
#undef OP
#undef OP_PLAN
#undef VB_PLAN_PROTOTYPE

#endif
