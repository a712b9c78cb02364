/*
 * ops/plans_measure4.c: histogram thresholds (threshold_otsu's plan with another pick,
 * kernels/measure4.cl), the product of all voxels and the percentile (kernels/measure4_fp64.cl:
 * doubles), and binary_fill_holes composed of the connected-components and edge-exclusion plans.
 */
#include <math.h>
#include <stdio.h>

#include "plans.h"

#define PARTS 4096u

int plan_threshold_yen(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_yen_select", err);
}

int plan_threshold_isodata(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_isodata_select", err);
}

int plan_threshold_triangle(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_triangle_select", err);
}

int plan_threshold_li(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return plan_histogram_threshold(r, c, "measure4", "m4_li_select", err);
}

/* PARTS strided partial products (mantissa, exponent), then one work-item combines them. */
int plan_product_of_all_pixels(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	size_t n = stack_voxels(c->in[0]), parts = n < PARTS ? (n ? n : 1) : PARTS;
	struct gpu_buf *m, *e;
	struct launch l;
	int status;

	if ((status = gpu_scratch(r, 0, parts * sizeof(double), &m, err)) ||
	    (status = gpu_scratch(r, 1, parts * sizeof(int64_t), &e, err)))
		return status;
	l = launch_1d("measure4_fp64", "m4_product_partials", c->in[0]->dtype, DT_F32, parts);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(m), KBUF(e), KU64(n), KI32(parts));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	l = launch_1d("measure4_fp64", "m4_product_final", DT_F32, DT_F32, 1);
	l.local[0] = 1;
	ARGS(&l, KBUF(m), KBUF(e), KBUF(gpu_output(r)), KI32(parts));
	return gpu_launch(r, &l, err);
}

/* Sub-plan `name` with its default parameters (exclude_* all 1) from in into out. */
static const struct gpu_operand none; /* no second input */

/*
 * The background's 6-connected components (connected_components_labeling_diamond), those that
 * touch a face dropped (exclude_labels_on_edges): what is left are the holes; out = in != 0 or
 * a hole. A single plane touches the z faces everywhere, so it has no holes (as scipy).
 */
int plan_binary_fill_holes(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	const struct stack *in = c->in[0];
	size_t n = stack_voxels(in);
	struct stack bg_desc, lab_desc, hole_desc;
	struct gpu_operand bg, lab, holes;
	struct launch l;
	int status, any = in->depth > 1;

	if ((status = plan_scratch_volume(r, c, 0, DT_U8, &bg_desc, &bg, err)) ||
	    (status = plan_scratch_volume(r, c, 1, DT_U32, &lab_desc, &lab, err)) ||
	    (status = plan_scratch_volume(r, c, 2, DT_U32, &hole_desc, &holes, err)))
		return status;
	if (any) {
		l = launch_1d("measure4", "m4_background", in->dtype, DT_U8, n);
		ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(bg.buf), KU64(n));
		if ((status = gpu_launch(r, &l, err)) ||
		    (status = plan_run_op(r, c, "connected_components_labeling_diamond", NULL, 0,
					  bg, none, lab, 3, err)) ||
		    (status = plan_run_op(r, c, "exclude_labels_on_edges", NULL, 0, lab, none,
					  holes, 8, err)))
			return status;
	}
	l = launch_1d("measure4", "m4_fill", in->dtype, DT_U8, n);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(holes.buf), KBUF(gpu_output(r)), KU64(n), KI32(any));
	return gpu_launch(r, &l, err);
}

/* ---- percentile and normalize (kernels/measure4_fp64.cl) ---- */

#define PCT_GROUP 256
#define PCT_GROUPS 1024

/* kernels/measure4_fp64.cl's key of the dtype: 0 unsigned, 1 signed, 2 float. */
static int key_mode(enum dtype t)
{
	return dtype_is_float(t) ? 2 : t == DT_I32 ? 1 : 0;
}

/*
 * numpy.percentile(in, q) (method 'linear') into out[0] (f32): ranks k = floor((n - 1) q / 100)
 * and k + 1 by radix select (four histogram passes), then numpy's interpolation. Scratch slots
 * slot .. slot + 2.
 */
static int percentile_into(struct gpu_run *r, const struct op_call *c, double q,
			   struct gpu_buf *out, int slot, struct vb_err *err)
{
	enum dtype t = c->in[0]->dtype;
	size_t n = stack_voxels(c->in[0]), groups = reduction_groups(n, PCT_GROUP, PCT_GROUPS);
	double at = (double)(n - 1) * (q / 100.0), k = floor(at), frac = at - k;
	uint32_t ka = (uint32_t)k, kb = ka + 1 < n ? ka + 1 : ka;
	char keys[32];
	struct gpu_buf *st, *hist, *g;
	struct launch l;
	int status;

	if (n >= UINT32_MAX)
		return vb_errf(err, VB_E_TOO_BIG, "%s: %zu voxels, its ranks count in u32; crop the "
			       "stack", c->op->name, n);
	snprintf(keys, sizeof(keys), "-DKEY_MODE=%d", key_mode(t));
	if ((status = gpu_scratch(r, slot, 8 * sizeof(uint32_t), &st, err)) ||
	    (status = gpu_scratch(r, slot + 1, 512 * sizeof(uint32_t), &hist, err)) ||
	    (status = gpu_constant(r, slot + 2, &frac, sizeof(frac), &g, err)))
		return status;
	l = launch_groups("measure4_fp64", "pct_init", t, DT_F32, 1, PCT_GROUP, keys);
	ARGS(&l, KBUF(st), KBUF(hist), KI32(ka), KI32(kb));
	if ((status = gpu_launch(r, &l, err)))
		return status;
	for (int shift = 24; shift >= 0; shift -= 8) {
		l = launch_groups("measure4_fp64", "pct_hist", t, DT_F32, groups * PCT_GROUP,
				  PCT_GROUP, keys);
		ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(st), KBUF(hist), KU64(n), KI32(shift));
		if ((status = gpu_launch(r, &l, err)))
			return status;
		l = launch_groups("measure4_fp64", "pct_select", t, DT_F32, 1, PCT_GROUP, keys);
		ARGS(&l, KBUF(st), KBUF(hist), KI32(shift));
		if ((status = gpu_launch(r, &l, err)))
			return status;
	}
	l = launch_groups("measure4_fp64", "pct_final", t, DT_F32, 1, PCT_GROUP, keys);
	ARGS(&l, KBUF(st), KBUF(g), KBUF(out));
	return gpu_launch(r, &l, err);
}

int plan_percentile(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	return percentile_into(r, c, op_param(c, "percentile"), gpu_output(r), 0, err);
}

/* lo, hi = the percentiles (a negative one: 0 or 100, the minimum or the maximum), then the
 * clamped linear map. */
int plan_normalize(struct gpu_run *r, const struct op_call *c, struct vb_err *err)
{
	double low = op_param(c, "low_percentile"), high = op_param(c, "high_percentile");
	size_t n = stack_voxels(c->in[0]);
	char keys[32];
	struct gpu_buf *lo, *hi;
	struct launch l;
	int status;

	if ((status = gpu_scratch(r, 0, sizeof(float), &lo, err)) ||
	    (status = gpu_scratch(r, 1, sizeof(float), &hi, err)) ||
	    (status = percentile_into(r, c, low < 0 ? 0 : low, lo, 2, err)) ||
	    (status = percentile_into(r, c, high < 0 ? 100 : high, hi, 5, err)))
		return status;
	snprintf(keys, sizeof(keys), "-DKEY_MODE=%d", key_mode(c->in[0]->dtype));
	l = launch_groups("measure4_fp64", "normalize_apply", c->in[0]->dtype, DT_F32, n,
			  PCT_GROUP, keys);
	ARGS(&l, KBUF(gpu_input(r, 0)), KBUF(lo), KBUF(hi), KBUF(gpu_output(r)), KU64(n));
	return gpu_launch(r, &l, err);
}
