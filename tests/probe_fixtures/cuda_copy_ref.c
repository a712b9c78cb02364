/*
 * tests/probe_fixtures/cuda_copy_ref.c: the CUDA reference for the probe's copy bandwidth
 * (issue 3: the probe must agree within 10% with CuPy on an H100). CuPy's ndarray.copy() of a
 * contiguous array is one device-to-device cudaMemcpyAsync; this does the same through the
 * driver API (libcuda.so.1 by dlopen, so it builds without the CUDA toolkit and runs whatever
 * CUDA runtime version the driver supports), timed with CUDA events, and prints GB/s counting
 * bytes read plus bytes written, as the probe and CuPy benchmarks do.
 *
 *   gcc -O2 -std=c11 tests/probe_fixtures/cuda_copy_ref.c -o cuda_copy_ref -ldl
 *   ./cuda_copy_ref [MiB ...]          (default: 256 1024)
 *
 * Not part of `make test` (it needs an NVIDIA GPU).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef int cu_result;
typedef unsigned long long cu_ptr;

static struct {
	cu_result (*init)(unsigned);
	cu_result (*get)(int *, int);
	cu_result (*retain)(void **, int);
	cu_result (*set)(void *);
	cu_result (*alloc)(cu_ptr *, size_t);
	cu_result (*free)(cu_ptr);
	cu_result (*copy)(cu_ptr, cu_ptr, size_t, void *);
	cu_result (*ev_create)(void **, unsigned);
	cu_result (*ev_record)(void *, void *);
	cu_result (*ev_sync)(void *);
	cu_result (*ev_elapsed)(float *, void *, void *);
	cu_result (*name)(char *, int, int);
} cu;

static int resolve(void *h)
{
	*(void **)&cu.init = dlsym(h, "cuInit");
	*(void **)&cu.get = dlsym(h, "cuDeviceGet");
	*(void **)&cu.retain = dlsym(h, "cuDevicePrimaryCtxRetain");
	*(void **)&cu.set = dlsym(h, "cuCtxSetCurrent");
	*(void **)&cu.alloc = dlsym(h, "cuMemAlloc_v2");
	*(void **)&cu.free = dlsym(h, "cuMemFree_v2");
	*(void **)&cu.copy = dlsym(h, "cuMemcpyDtoDAsync_v2");
	*(void **)&cu.ev_create = dlsym(h, "cuEventCreate");
	*(void **)&cu.ev_record = dlsym(h, "cuEventRecord");
	*(void **)&cu.ev_sync = dlsym(h, "cuEventSynchronize");
	*(void **)&cu.ev_elapsed = dlsym(h, "cuEventElapsedTime");
	*(void **)&cu.name = dlsym(h, "cuDeviceGetName");
	return cu.init && cu.get && cu.retain && cu.set && cu.alloc && cu.free && cu.copy &&
	       cu.ev_create && cu.ev_record && cu.ev_sync && cu.ev_elapsed && cu.name;
}

static int cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* Median GB/s of `runs` copies of `bytes` after two warm-ups. */
static double copy_gbps(size_t bytes, int runs)
{
	cu_ptr src = 0, dst = 0;
	void *e0, *e1;
	float ms[64];

	if (cu.alloc(&src, bytes) || cu.alloc(&dst, bytes))
		return -1;
	cu.ev_create(&e0, 0);
	cu.ev_create(&e1, 0);
	for (int i = -2; i < runs; i++) {
		cu.ev_record(e0, NULL);
		cu.copy(dst, src, bytes, NULL);
		cu.ev_record(e1, NULL);
		cu.ev_sync(e1);
		if (i >= 0)
			cu.ev_elapsed(&ms[i], e0, e1);
	}
	qsort(ms, (size_t)runs, sizeof(ms[0]), cmp);
	cu.free(src);
	cu.free(dst);
	return 2.0 * (double)bytes / ((double)ms[runs / 2] * 1e6);
}

int main(int argc, char **argv)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL), *ctx = NULL;
	int dev = 0, r;
	char name[256] = "";

	if (!h || !resolve(h)) {
		fprintf(stderr, "error: libcuda.so.1 does not load: %s\n", h ? "symbols" : dlerror());
		return 1;
	}
	if ((r = cu.init(0)) || (r = cu.get(&dev, 0)) || (r = cu.retain(&ctx, dev)) ||
	    (r = cu.set(ctx))) {
		fprintf(stderr, "error: CUDA initialisation failed with code %d\n", r);
		return 1;
	}
	cu.name(name, (int)sizeof(name), dev);
	for (int i = 1; i < argc || i < 3; i++) {
		size_t mib = argc > 1 ? strtoul(argv[i], NULL, 10) : (i == 1 ? 256 : 1024);

		if (argc > 1 && i >= argc)
			break;
		printf("%s: cuMemcpyDtoDAsync %zu MiB: %.1f GB/s (read + write, median of 20)\n",
		       name, mib, copy_gbps(mib << 20, 20));
	}
	return 0;
}
