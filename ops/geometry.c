/*
 * ops/geometry.c: the geometry both a GPU plan and the CPU reference of an op take (see
 * geometry.h). Moved here from the references so that neither side reaches into the other.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "geometry.h"

static const char *op_name(const struct op_call *c)
{
	return c->op && c->op->name ? c->op->name : "op";
}

/* ---- Gaussian weights (gaussian_blur and the filters composed of it) ---- */

int geom_gaussian_radius(double sigma)
{
	double r;

	if (!(sigma > 0))
		return 0;
	r = ceil(4.0 * sigma);
	return r > INT_MAX / 4 ? INT_MAX / 4 : (int)r;
}

void geom_gaussian_weights(double sigma, int radius, double *w)
{
	double sum = 0.0;
	int k;

	if (radius <= 0 || !(sigma > 0)) {
		for (k = 0; k <= 2 * (radius > 0 ? radius : 0); k++)
			w[k] = 0.0;
		w[radius > 0 ? radius : 0] = 1.0;
		return;
	}
	for (k = -radius; k <= radius; k++) {
		/* k == 0 apart: with a denormal sigma, 0/0 would be NaN */
		w[k + radius] = k == 0 ? 1.0 : exp(-(double)k * k / (2.0 * sigma * sigma));
		sum += w[k + radius];
	}
	for (k = 0; k <= 2 * radius; k++)
		w[k] /= sum;
}

/* ---- window footprints (the window filters and binary morphology) ---- */

long geom_footprint_runs(int sphere, const int r[3], int *runs)
{
	/* (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1 times the product of the non-zero r^2 */
	int64_t sq[3], prod = 1;
	long count = 0;
	int ny = 2 * r[1] + 1;

	for (int a = 0; a < 3; a++) {
		sq[a] = (int64_t)r[a] * r[a];
		prod *= r[a] ? sq[a] : 1;
	}
	for (int dz = -r[2]; dz <= r[2]; dz++)
		for (int dy = -r[1]; dy <= r[1]; dy++) {
			int half = r[0];

			if (sphere) {
				int64_t rest = 0;

				if (r[1])
					rest += (int64_t)dy * dy * (prod / sq[1]);
				if (r[2])
					rest += (int64_t)dz * dz * (prod / sq[2]);
				if (!r[0])
					half = rest <= prod ? 0 : -1;
				else
					while (half >= 0 &&
					       (int64_t)half * half * (prod / sq[0]) + rest > prod)
						half--;
			}
			runs[(dz + r[2]) * ny + dy + r[1]] = half;
			count += half >= 0 ? 2L * half + 1 : 0;
		}
	return count;
}

int geom_window_radii(const struct op_call *c, int r[3], struct vb_err *err)
{
	static const char *const names[3] = { "radius_x", "radius_y", "radius_z" };

	for (int a = 0; a < 3; a++) {
		double v = op_param(c, names[a]);

		if (!(v >= 0) || v > WINDOW_MAX_RADIUS || v != floor(v))
			return vb_errf(err, VB_E_ARGS, "%s: %s=%g must be an integer in 0..%d",
				       op_name(c), names[a], v, WINDOW_MAX_RADIUS);
		r[a] = (int)v;
	}
	return VB_OK;
}

int geom_window_radii_or_unit(const struct op_call *c, int r[3], struct vb_err *err)
{
	for (const struct param_spec *p = c->op->params; p && p->name; p++)
		if (strcmp(p->name, "radius_x") == 0)
			return geom_window_radii(c, r, err);
	r[0] = r[1] = r[2] = 1;
	return VB_OK;
}

long geom_percentile_rank(double percentile, long count)
{
	double p = percentile < 0 ? percentile + 100.0 : percentile;

	if (p >= 100.0)
		return count - 1;
	return p <= 0 ? 0 : (long)((double)count * p / 100.0);
}

/* ---- histogram bins (histogram) ---- */

int geom_histogram_image_range(double pmin, double pmax)
{
	return pmin >= pmax;
}

void geom_histogram_range(double pmin, double pmax, double imin, double imax, double *lo,
			 double *hi)
{
	int own = geom_histogram_image_range(pmin, pmax);

	*lo = own ? imin : pmin;
	*hi = own ? imax : pmax;
	if (*lo == *hi) {
		*lo -= 0.5;
		*hi += 0.5;
	}
}

/* ceil/floor of an edge as int64, clamped far outside every dtype's range. */
static int64_t edge_int(double e)
{
	const double big = 4611686018427387904.0; /* 2^62 */

	return e < -big ? -(int64_t)big : e > big ? (int64_t)big : (int64_t)e;
}

void geom_histogram_edges(enum dtype t, int nbins, double lo, double hi, void *edges)
{
	double step = (hi - lo) / nbins;

	for (int i = 0; i <= nbins; i++) {
		double e = i == nbins ? hi : (double)i * step + lo; /* numpy.linspace's arithmetic */

		if (t == DT_F32)
			((float *)edges)[i] = (float)e;
		else
			((int64_t *)edges)[i] = i == nbins ? edge_int(floor(e)) + 1 : edge_int(ceil(e));
	}
}

/* ---- output dims (rows' .dims) of projections and reductions ---- */

int dims_x_projection(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->height;
	out[1] = c->in[0]->depth;
	out[2] = 1;
	return VB_OK;
}

int dims_y_projection(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->width;
	out[1] = c->in[0]->depth;
	out[2] = 1;
	return VB_OK;
}

int dims_center_of_mass(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)c;
	(void)err;
	out[0] = 3;
	out[1] = out[2] = 1;
	return VB_OK;
}

int dims_histogram(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = (size_t)op_param(c, "num_bins");
	out[1] = out[2] = 1;
	return VB_OK;
}

/* ---- transforms: output dims, integer voxel maps, resampling matrices ---- */

static int dims_checked(const struct op_call *c, const double want[3], size_t out[3],
			struct vb_err *err)
{
	double voxels = want[0] * want[1] * want[2];

	for (int a = 0; a < 3; a++)
		if (want[a] > (double)TRANSFORM_MAX_AXIS)
			return vb_errf(err, VB_E_TOO_BIG,
				       "%s would make an output axis of %.0f voxels; at most %llu fit",
				       op_name(c), want[a], TRANSFORM_MAX_AXIS);
	if (voxels > (double)TRANSFORM_MAX_VOXELS)
		return vb_errf(err, VB_E_TOO_BIG,
			       "%s would make a %.0fx%.0fx%.0f output (%.3g voxels); at most %llu "
			       "are allowed: use smaller factors or sizes",
			       op_name(c), want[0], want[1], want[2], voxels,
			       TRANSFORM_MAX_VOXELS);
	for (int a = 0; a < 3; a++)
		out[a] = (size_t)want[a];
	return VB_OK;
}

static void in_dims(const struct op_call *c, size_t d[3])
{
	d[0] = c->in[0]->width;
	d[1] = c->in[0]->height;
	d[2] = c->in[0]->depth;
}

int dims_transpose_xy(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->height;
	out[1] = c->in[0]->width;
	out[2] = c->in[0]->depth;
	return VB_OK;
}

int dims_transpose_xz(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->depth;
	out[1] = c->in[0]->height;
	out[2] = c->in[0]->width;
	return VB_OK;
}

int dims_transpose_yz(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	(void)err;
	out[0] = c->in[0]->width;
	out[1] = c->in[0]->depth;
	out[2] = c->in[0]->height;
	return VB_OK;
}

int dims_crop(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	static const char *const start[3] = { "start_x", "start_y", "start_z" };
	static const char *const size[3] = { "width", "height", "depth" };
	size_t n[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		double s = op_param(c, start[a]), w = op_param(c, size[a]);

		if (s + w > (double)n[a])
			return vb_errf(err, VB_E_ARGS,
				       "crop %s=%.0f %s=%.0f ends at %.0f, outside the stack's %zu "
				       "voxels along %c: lower them",
				       start[a], s, size[a], w, s + w, n[a], "xyz"[a]);
		out[a] = (size_t)w;
	}
	return VB_OK;
}

int dims_pad(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	size_t n[3];
	double want[3];

	in_dims(c, n);
	want[0] = (double)n[0] + op_param(c, "size_x");
	want[1] = (double)n[1] + op_param(c, "size_y");
	want[2] = (double)n[2] + op_param(c, "size_z");
	return dims_checked(c, want, out, err);
}

/* auto_size: round(n * factor) per axis, at least 1; else the input's dims. */
int dims_scale(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	static const char *const factor[3] = { "factor_x", "factor_y", "factor_z" };
	int resize = op_param(c, "auto_size") != 0;
	size_t n[3];
	double want[3];

	in_dims(c, n);
	for (int a = 0; a < 3; a++) {
		want[a] = resize ? floor((double)n[a] * op_param(c, factor[a]) + 0.5) : (double)n[a];
		want[a] = want[a] < 1 ? 1 : want[a];
	}
	return dims_checked(c, want, out, err);
}

void geom_voxel_map(const struct op_call *c, struct voxel_map *m)
{
	const char *name = c->op->name;
	size_t n[3];

	in_dims(c, n);
	*m = (struct voxel_map){ .perm = { 0, 1, 2 }, .sign = { 1, 1, 1 } };
	if (strcmp(name, "transpose_xy") == 0) {
		m->perm[0] = 1;
		m->perm[1] = 0;
	} else if (strcmp(name, "transpose_xz") == 0) {
		m->perm[0] = 2;
		m->perm[2] = 0;
	} else if (strcmp(name, "transpose_yz") == 0) {
		m->perm[1] = 2;
		m->perm[2] = 1;
	} else if (strcmp(name, "flip") == 0) {
		static const char *const flip[3] = { "flip_x", "flip_y", "flip_z" };

		for (int a = 0; a < 3; a++)
			if (op_param(c, flip[a]) != 0) {
				m->sign[a] = -1;
				m->off[a] = (int64_t)n[a] - 1;
			}
	} else if (strcmp(name, "crop") == 0) {
		m->off[0] = (int64_t)op_param(c, "start_x");
		m->off[1] = (int64_t)op_param(c, "start_y");
		m->off[2] = (int64_t)op_param(c, "start_z");
	} else if (strcmp(name, "pad") == 0) {
		static const char *const size[3] = { "size_x", "size_y", "size_z" };
		int center = op_param(c, "center") != 0;

		/* centred: floor(size / 2) before the data, the rest after; else all after */
		for (int a = 0; a < 3; a++)
			m->off[a] = center ? -((int64_t)op_param(c, size[a]) / 2) : 0;
		m->pad = (float)op_param(c, "value");
	}
}

int geom_transform_interp(const struct op_call *c)
{
	return (int)op_param(c, "interpolation");
}

/* out = a b (3x3, row-major). */
static void mat3_mul(const double a[9], const double b[9], double out[9])
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] +
					 a[3 * i + 2] * b[6 + j];
}

/*
 * rotate: the forward rotation R = Rz Ry Rx (x first) about the stack centre, each right-handed
 * (Rz turns +x toward +y, Rx +y toward +z, Ry +z toward +x); sampling uses R^-1 = R^T.
 */
static void rotation_inverse(const struct op_call *c, double inv[9])
{
	const double deg = 3.14159265358979323846 / 180.0;
	double ax = op_param(c, "angle_x") * deg, ay = op_param(c, "angle_y") * deg;
	double az = op_param(c, "angle_z") * deg;
	double rx[9] = { 1, 0, 0, 0, cos(ax), -sin(ax), 0, sin(ax), cos(ax) };
	double ry[9] = { cos(ay), 0, sin(ay), 0, 1, 0, -sin(ay), 0, cos(ay) };
	double rz[9] = { cos(az), -sin(az), 0, sin(az), cos(az), 0, 0, 0, 1 };
	double zy[9], r[9];

	mat3_mul(rz, ry, zy);
	mat3_mul(zy, rx, r);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			inv[3 * i + j] = r[3 * j + i];
}

void geom_transform_matrix(const struct op_call *c, const size_t out_dims[3], float m[12])
{
	const char *name = c->op->name;
	double a[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, t[3] = { 0, 0, 0 }, cin[3], cout[3];
	size_t n[3];

	in_dims(c, n);
	for (int i = 0; i < 3; i++) {
		cin[i] = ((double)n[i] - 1) / 2;
		cout[i] = ((double)out_dims[i] - 1) / 2;
	}
	if (strcmp(name, "translate") == 0) {
		t[0] = -op_param(c, "translate_x");
		t[1] = -op_param(c, "translate_y");
		t[2] = -op_param(c, "translate_z");
	} else if (strcmp(name, "affine_transform") == 0) {
		static const char *const names[12] = { "m00", "m01", "m02", "m03", "m10", "m11",
						       "m12", "m13", "m20", "m21", "m22", "m23" };
		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 3; j++)
				a[3 * i + j] = op_param(c, names[4 * i + j]);
			t[i] = op_param(c, names[4 * i + 3]);
		}
	} else {
		/* about the centres: in = cin + A (out - cout) */
		if (strcmp(name, "scale") == 0) {
			a[0] = 1 / op_param(c, "factor_x");
			a[4] = 1 / op_param(c, "factor_y");
			a[8] = 1 / op_param(c, "factor_z");
		} else {
			rotation_inverse(c, a);
		}
		for (int i = 0; i < 3; i++)
			t[i] = cin[i] - (a[3 * i] * cout[0] + a[3 * i + 1] * cout[1] +
					 a[3 * i + 2] * cout[2]);
	}
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++)
			m[4 * i + j] = (float)a[3 * i + j];
		m[4 * i + 3] = (float)t[i];
	}
}

/* ---- label images: their largest label, the tables' columns and dims ---- */

const char *const statistics_columns[] = {
	"label", "area", "sum_intensity", "mean_intensity", "min_intensity", "max_intensity",
	"std_intensity", "centroid_x", "centroid_y", "centroid_z", "bbox_min_x", "bbox_min_y",
	"bbox_min_z", "bbox_max_x", "bbox_max_y", "bbox_max_z",
};
const int statistics_column_count = STATISTICS_COLUMNS;

/* The largest label (values <= 0 are background; fractions truncate, as the ops read them;
 * capped at UINT32_MAX), in parallel and without a conversion call per voxel: every table op
 * sizes its output with it, on the reference's side and on every device's. */
uint32_t geom_max_label(const struct stack *s)
{
	size_t n = s->data ? stack_voxels(s) : 0; /* a device-only stack (sub-plans): unknown */
	double m = 0;

	STACK_SWITCH_DTYPE(s->dtype, T,
		const T *v = s->data;
		_Pragma("omp parallel for reduction(max : m) schedule(static)")
		for (size_t i = 0; i < n; i++)
			m = (double)v[i] > m ? (double)v[i] : m;
	)
	return m >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

int dims_statistics(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[1]);

	(void)err;
	out[0] = STATISTICS_COLUMNS;
	out[1] = m ? m : 1;
	out[2] = 1;
	return VB_OK;
}

int dims_centroids(const struct op_call *c, size_t out[3], struct vb_err *err)
{
	uint32_t m = geom_max_label(c->in[0]);

	(void)err;
	out[0] = m ? m : 1;
	out[1] = 3;
	out[2] = 1;
	return VB_OK;
}
