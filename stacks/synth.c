/*
 * stacks/synth.c: deterministic synthetic stacks.
 *
 * Every random number is a hash of (seed, what it is for), never a sequence consumed in order,
 * so the voxels do not depend on thread count or scheduling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

const struct synth_kind synth_kinds[] = {
	{ "blobs", "Gaussian spheres of random size and brightness plus noise (microscopy-like)" },
	{ "noise", "uniform noise over the dtype's range (f32: -1000..1000)" },
	{ "binary", "blobs thresholded to 0/1" },
	{ "labels", "blobs numbered 1..N (the brightest blob owns a voxel), background 0" },
};
const size_t synth_kind_count = sizeof(synth_kinds) / sizeof(synth_kinds[0]);

/* Blobs are drawn out to 2.5 sigma, where they have fallen to 4% of their peak. */
#define BLOB_REACH 2.5

enum synth_id { SYNTH_BLOBS, SYNTH_NOISE, SYNTH_BINARY, SYNTH_LABELS };

struct blob {
	double cx, cy, cz, sigma, amp;
	long z0, z1; /* planes the blob reaches */
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Uniform in [0, 1) from (seed, stream, index). */
static double unit_random(uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t h = splitmix64(seed ^ splitmix64(stream * 0x632be59bd9b4e019ull + index));

	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static size_t blob_count(size_t w, size_t h, size_t d)
{
	double n = (double)w * (double)h * (double)d / (16.0 * 16.0 * 16.0);

	return n < 3 ? 3 : (size_t)n;
}

static struct blob *make_blobs(size_t w, size_t h, size_t d, uint64_t seed, size_t n)
{
	struct blob *b = calloc(n, sizeof(*b));
	double smax = fmin(6.0, fmax(0.7, fmin(fmin(w, h), d > 1 ? d : w) / 6.0));

	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		b[i].cx = unit_random(seed, 1, i) * w;
		b[i].cy = unit_random(seed, 2, i) * h;
		b[i].cz = unit_random(seed, 3, i) * d;
		b[i].sigma = smax * (0.35 + 0.65 * unit_random(seed, 4, i));
		b[i].amp = 0.4 + 0.6 * unit_random(seed, 5, i);
		b[i].z0 = (long)floor(b[i].cz - BLOB_REACH * b[i].sigma);
		b[i].z1 = (long)ceil(b[i].cz + BLOB_REACH * b[i].sigma);
	}
	return b;
}

/* exp(-(p + 0.5 - c)^2 / (2 sigma^2)) for p in [p0, p1]: a Gaussian factors per axis. */
static void axis_profile(double c, double sigma, long p0, long p1, float *out)
{
	for (long p = p0; p <= p1; p++) {
		double d = p + 0.5 - c;

		out[p - p0] = (float)exp(-d * d / (2 * sigma * sigma));
	}
}

#define PROFILE_MAX 64 /* 2 * ceil(2.5 * 6) + 3 samples at the largest sigma */

/* Add every blob reaching plane z into plane (intensity) and owner (brightest blob + 1). */
static void render_plane(const struct blob *b, size_t n, size_t w, size_t h, long z,
			 float *plane, uint32_t *owner, float *best)
{
	float ex[PROFILE_MAX], ey[PROFILE_MAX];

	for (size_t i = 0; i < n; i++) {
		double r = BLOB_REACH * b[i].sigma, dz = z + 0.5 - b[i].cz, s2 = b[i].sigma * b[i].sigma;
		long x0 = (long)floor(b[i].cx - r), x1 = (long)ceil(b[i].cx + r);
		long y0 = (long)floor(b[i].cy - r), y1 = (long)ceil(b[i].cy + r);
		float az;

		if (z < b[i].z0 || z > b[i].z1)
			continue;
		x0 = x0 < 0 ? 0 : x0;
		y0 = y0 < 0 ? 0 : y0;
		x1 = x1 >= (long)w ? (long)w - 1 : x1;
		y1 = y1 >= (long)h ? (long)h - 1 : y1;
		if (x1 < x0 || y1 < y0)
			continue;
		axis_profile(b[i].cx, b[i].sigma, x0, x1, ex);
		axis_profile(b[i].cy, b[i].sigma, y0, y1, ey);
		az = (float)(b[i].amp * exp(-dz * dz / (2 * s2)));
		for (long y = y0; y <= y1; y++) {
			double dy = y + 0.5 - b[i].cy;

			for (long x = x0; x <= x1; x++) {
				double dx = x + 0.5 - b[i].cx;
				float v = az * ey[y - y0] * ex[x - x0];
				size_t k = (size_t)y * w + (size_t)x;

				plane[k] += v;
				/* the core (within one sigma) of the brightest blob owns a voxel */
				if (v > best[k] && dx * dx + dy * dy + dz * dz < s2) {
					best[k] = v;
					owner[k] = (uint32_t)i + 1;
				}
			}
		}
	}
}

/* Map a model value (blobs: intensity ~0..1.5; noise: u in [0,1)) into the dtype's range. */
static double scale_value(enum synth_id id, enum dtype t, double v, double u)
{
	static const double blob_scale[DT_COUNT] = {
		[DT_U8] = 150, [DT_U16] = 3000, [DT_U32] = 100000, [DT_I32] = 100000,
		[DT_F32] = 600,
	};
	static const double blob_offset[DT_COUNT] = {
		[DT_U8] = 12, [DT_U16] = 200, [DT_U32] = 5000, [DT_I32] = 5000, [DT_F32] = 30,
	};

	if (id == SYNTH_NOISE) {
		if (t == DT_F32)
			return -1000.0 + 2000.0 * u;
		return floor(dtype_min(t) + u * (dtype_max(t) - dtype_min(t) + 1));
	}
	/* blobs: signal plus noise of +-4% of the peak, above an offset that keeps it positive */
	return blob_offset[t] + blob_scale[t] * (v + 0.08 * (u - 0.5));
}

static int synth_id(const char *kind)
{
	for (size_t i = 0; i < synth_kind_count; i++)
		if (strcmp(kind, synth_kinds[i].name) == 0)
			return (int)i;
	return -1;
}

static void fill_plane(struct stack *s, enum synth_id id, uint64_t seed, size_t z,
		       const float *plane, const uint32_t *owner)
{
	size_t area = s->width * s->height;

	for (size_t k = 0; k < area; k++) {
		size_t i = z * area + k;
		double v;

		switch (id) {
		case SYNTH_BINARY: v = plane[k] > 0.5f; break;
		case SYNTH_LABELS: v = owner[k] ? (owner[k] - 1) % (uint32_t)dtype_max(s->dtype) + 1 : 0; break;
		default: v = scale_value(id, s->dtype, plane[k], unit_random(seed, 6, i)); break;
		}
		stack_set(s, i, v);
	}
}

int synth_generate(struct stack *out, const char *kind, size_t width, size_t height,
		   size_t depth, enum dtype t, uint64_t seed, struct vb_err *err)
{
	int id = synth_id(kind), status, failed = 0;
	size_t n = blob_count(width, height, depth);
	struct blob *blobs = NULL;

	if (id < 0)
		return vb_errf(err, VB_E_ARGS,
			       "unknown stack '%s': expected blobs, noise, binary or labels", kind);
	status = stack_alloc(out, width, height, depth, t, err);
	if (status)
		return status;
	snprintf(out->name, sizeof(out->name), "%s", kind);
	snprintf(out->source, sizeof(out->source), "synthetic seed=%llu", (unsigned long long)seed);
	blobs = id == SYNTH_NOISE ? NULL : make_blobs(width, height, depth, seed, n);
	if (id != SYNTH_NOISE && !blobs) {
		status = vb_errf(err, VB_E_NOMEM, "cannot allocate %zu blobs", n);
		goto out;
	}
#pragma omp parallel
	{
		size_t area = width * height;
		float *plane = malloc(area * sizeof(float)), *best = malloc(area * sizeof(float));
		uint32_t *owner = malloc(area * sizeof(uint32_t));

		if (!plane || !best || !owner) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(dynamic)
		for (size_t z = 0; z < depth; z++) {
			if (failed)
				continue;
			memset(plane, 0, area * sizeof(float));
			memset(best, 0, area * sizeof(float));
			memset(owner, 0, area * sizeof(uint32_t));
			if (blobs)
				render_plane(blobs, n, width, height, (long)z, plane, owner, best);
			fill_plane(out, (enum synth_id)id, seed, z, plane, owner);
		}
		free(plane);
		free(best);
		free(owner);
	}
	if (failed)
		status = vb_errf(err, VB_E_NOMEM, "cannot allocate plane buffers for a %zux%zu stack",
				 width, height);
out:
	free(blobs);
	if (status)
		stack_free(out);
	return status;
}
