/* stacks/stack.c: dtypes, sizes, allocation and voxel access. */
#include "stack.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *cl_name;
	size_t size;
	double min, max;
	int is_float;
} dtypes[DT_COUNT] = {
	[DT_U8] = { "u8", "uchar", 1, 0, 255, 0 },
	[DT_U16] = { "u16", "ushort", 2, 0, 65535, 0 },
	[DT_U32] = { "u32", "uint", 4, 0, 4294967295.0, 0 },
	[DT_I32] = { "i32", "int", 4, -2147483648.0, 2147483647.0, 0 },
	[DT_F32] = { "f32", "float", 4, -FLT_MAX, FLT_MAX, 1 },
};

const char *dtype_name(enum dtype t) { return dtypes[t].name; }
const char *dtype_cl_name(enum dtype t) { return dtypes[t].cl_name; }
size_t dtype_size(enum dtype t) { return dtypes[t].size; }
int dtype_is_float(enum dtype t) { return dtypes[t].is_float; }
double dtype_min(enum dtype t) { return dtypes[t].min; }
double dtype_max(enum dtype t) { return dtypes[t].max; }

int dtype_parse(const char *text, enum dtype *out)
{
	for (int t = 0; t < DT_COUNT; t++) {
		if (strcmp(text, dtypes[t].name) == 0) {
			*out = (enum dtype)t;
			return VB_OK;
		}
	}
	return VB_E_ARGS;
}

/* One positive decimal size component; end points past it. */
static int parse_dim(const char *p, const char **end, size_t *out)
{
	unsigned long long v;
	char *e;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno == ERANGE || v == 0 || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	*end = e;
	return 0;
}

int size_parse(const char *text, size_t dims[3], struct vb_err *err)
{
	const char *p = text;
	size_t d[3] = { 1, 1, 1 }, voxels;
	int n = 0;

	while (n < 3) {
		if (parse_dim(p, &p, &d[n]) < 0)
			goto bad;
		n++;
		if (*p == '\0')
			break;
		if (*p != 'x' || n == 3)
			goto bad;
		p++;
	}
	if (n == 1)
		d[1] = d[2] = d[0];
	if (vb_mul_size(d[0], d[1], &voxels) < 0 || vb_mul_size(voxels, d[2], &voxels) < 0 ||
	    vb_mul_size(voxels, 4, &voxels) < 0)
		return vb_errf(err, VB_E_ARGS, "size '%s' is too large: its byte count overflows",
			       text);
	memcpy(dims, d, sizeof(d));
	return VB_OK;
bad:
	return vb_errf(err, VB_E_ARGS,
		       "bad size '%s': expected WIDTHxHEIGHTxDEPTH of positive integers "
		       "(e.g. 256x256x64), WIDTHxHEIGHT, or N for an N^3 cube",
		       text);
}

size_t stack_voxels(const struct stack *s)
{
	return s->width * s->height * s->depth;
}

size_t stack_bytes(const struct stack *s)
{
	return stack_voxels(s) * dtype_size(s->dtype);
}

int stack_alloc(struct stack *s, size_t width, size_t height, size_t depth, enum dtype t,
		struct vb_err *err)
{
	size_t voxels, bytes;
	uint64_t avail = vb_host_memory_available();

	memset(s, 0, sizeof(*s));
	if (!width || !height || !depth)
		return vb_errf(err, VB_E_ARGS, "stack size %zux%zux%zu has a zero dimension",
			       width, height, depth);
	if (vb_mul_size(width, height, &voxels) < 0 || vb_mul_size(voxels, depth, &voxels) < 0 ||
	    vb_mul_size(voxels, dtype_size(t), &bytes) < 0)
		return vb_errf(err, VB_E_TOO_BIG, "stack %zux%zux%zu %s overflows the address space",
			       width, height, depth, dtype_name(t));
	if (avail && bytes > avail)
		return vb_errf(err, VB_E_TOO_BIG,
			       "stack %zux%zux%zu %s needs %.1f GiB but the host has %.1f GiB "
			       "available; choose a smaller --size",
			       width, height, depth, dtype_name(t), bytes / 1073741824.0,
			       avail / 1073741824.0);
	s->data = calloc(voxels, dtype_size(t));
	if (!s->data) {
		char hint[160];

		return vb_errf(err, VB_E_NOMEM, "cannot allocate %zu bytes for a %zux%zux%zu stack%s",
			       bytes, width, height, depth, vb_memory_limit_hint(hint));
	}
	s->width = width;
	s->height = height;
	s->depth = depth;
	s->dtype = t;
	s->voxel_size[0] = s->voxel_size[1] = s->voxel_size[2] = 1.0;
	return VB_OK;
}

void vb_parallel_zero(void *p, size_t n, int threads)
{
	const size_t chunk = (size_t)1 << 21; /* 2 MiB: a huge page, 512 small ones */
	size_t chunks = (n + chunk - 1) / chunk;

#pragma omp parallel for num_threads(threads > 0 ? threads : 1) schedule(static) if (chunks > 1)
	for (size_t k = 0; k < chunks; k++)
		memset((char *)p + k * chunk, 0, k + 1 < chunks ? chunk : n - k * chunk);
}

void stack_free(struct stack *s)
{
	free(s->data);
	s->data = NULL;
}

void stack_set(struct stack *s, size_t i, double v)
{
	/* Integers: NaN -> 0, toward zero, saturate; in double so that u32/i32 stay exact. */
	if (s->dtype != DT_F32) {
		v = isnan(v) ? 0 : trunc(v);
		v = v < dtypes[s->dtype].min ? dtypes[s->dtype].min : v;
		v = v > dtypes[s->dtype].max ? dtypes[s->dtype].max : v;
	}
	switch (s->dtype) {
	case DT_U8: ((uint8_t *)s->data)[i] = (uint8_t)v; break;
	case DT_U16: ((uint16_t *)s->data)[i] = (uint16_t)v; break;
	case DT_U32: ((uint32_t *)s->data)[i] = (uint32_t)v; break;
	case DT_I32: ((int32_t *)s->data)[i] = (int32_t)v; break;
	case DT_F32: ((float *)s->data)[i] = (float)v; break;
	default: break;
	}
}

double dtype_convert_sat(enum dtype t, float v)
{
	double d = v;

	if (t == DT_F32)
		return v;
	if (isnan(d))
		return 0;
	d = trunc(d);
	if (d < dtypes[t].min)
		return dtypes[t].min;
	if (d > dtypes[t].max)
		return dtypes[t].max;
	return d;
}
