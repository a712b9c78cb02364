/*
 * tools/edt_envelope_bench.cu: the y and z envelope passes of distance_transform_edt, timed on
 * their own on a CUDA GPU (issue 12). Not built by make (it needs nvcc and a GPU):
 *
 *   nvcc -O3 -arch=sm_90 -I kernels -o edt_bench tools/edt_envelope_bench.cu
 *   ./edt_bench 512 512 256 && ./edt_bench 1024 1024 512
 *
 * Variants: "all lines" is the kernel voxbench shipped before (one work-item per line, every
 * line in flight, scratch entry k of line l at k * lines + l); the others keep the top entry in
 * registers and bound the lines in flight to threads/SM x SMs, each work-item walking lines in
 * turn, with the scratch laid out by line (0), per work-item contiguous (2) or by work-item,
 * entry-major (3, what kernels/measure.cl ships). Every variant's result is compared bit for bit
 * with the first. The input is random balls (about a third of the voxels), thresholded to 0/1.
 * Figures: reports/BENCHMARKS.md ("distance transform envelope passes").
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <cuda_runtime.h>
#define ulong vb_ulong
#include "cuda_preamble.h"
#define IDX uint
#define SIDX uint
#define POS_INF as_float(0x7f800000u)

/* the x pass (untimed): squared distance along x to the nearest zero, one work-item per row */
__kernel void edt_rows(const float *src, float *dst, int w, int rows)
{
	int r = blockIdx.x * blockDim.x + threadIdx.x;
	if (r >= rows) return;
	const float *s = src + (size_t)r * w;
	float *o = dst + (size_t)r * w;
	int last = -1;
	for (int x = 0; x < w; x++) {
		if (s[x] == 0.0f) last = x;
		o[x] = last < 0 ? POS_INF : (float)(x - last);
	}
	last = -1;
	for (int x = w - 1; x >= 0; x--) {
		if (s[x] == 0.0f) last = x;
		float v = o[x];
		if (last >= 0 && (float)(last - x) < v) v = (float)(last - x);
		o[x] = v * v;
	}
}

/* voxbench's kernel before the change (kernels/measure.cl at 77d1b4f) */
__kernel void edt_axis_all_lines(__global const float *src, __global float *dst, __global int *vb,
		       __global float *zb, const int axis, const float sp2, const int w, const int h,
		       const int d, const int take_sqrt)
{
	int x = get_global_id(0), o = get_global_id(1);
	int n = axis == 1 ? h : d, other = axis == 1 ? d : h;

	if (x >= w || o >= other)
		return;
	SIDX lines = (SIDX)w * (SIDX)other, line = (SIDX)x + (SIDX)w * (SIDX)o;
	IDX stride = axis == 1 ? (IDX)w : (IDX)w * (IDX)h;
	IDX base = axis == 1 ? (IDX)x + (IDX)w * (IDX)h * (IDX)o : (IDX)x + (IDX)w * (IDX)o;
	int k = -1;

	for (int q = 0; q < n; q++) {
		float fq = src[base + (IDX)q * stride], s = -POS_INF;

		if (fq == POS_INF)
			continue;
		while (k >= 0) {
			int p = vb[(SIDX)k * lines + line];
			float fp = src[base + (IDX)p * stride];

			s = 0.5f * (float)(q + p) + (fq - fp) / (2.0f * sp2 * (float)(q - p));
			if (s > zb[(SIDX)k * lines + line])
				break;
			k--;
		}
		if (k < 0)
			s = -POS_INF;
		k++;
		vb[(SIDX)k * lines + line] = q;
		zb[(SIDX)k * lines + line] = s;
	}
	if (k < 0) {
		for (int q = 0; q < n; q++)
			dst[base + (IDX)q * stride] = POS_INF;
		return;
	}
	zb[(SIDX)(k + 1) * lines + line] = POS_INF;
	k = 0;
	for (int q = 0; q < n; q++) {
		int p;
		float v;

		while (zb[(SIDX)(k + 1) * lines + line] < (float)q)
			k++;
		p = vb[(SIDX)k * lines + line];
		v = sp2 * (float)((q - p) * (q - p)) + src[base + (IDX)p * stride];
		dst[base + (IDX)q * stride] = take_sqrt ? sqrt(v) : v;
	}
}


__global__ void axis_loop(const float *__restrict__ src, float *__restrict__ dst, int *__restrict__ vb,
			  float *__restrict__ zb, int axis, float sp2, int w, int h, int d, int take_sqrt, int layout)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x;
	int n = axis == 1 ? h : d, other = axis == 1 ? d : h;
	if (x >= w) return;
	uint lines = (uint)w * other;
	uint stride = axis == 1 ? (uint)w : (uint)w * h;
	for (int o = blockIdx.y; o < other; o += gridDim.y) {
	uint line = (uint)x + (uint)w * o;
	uint base = axis == 1 ? (uint)x + (uint)w * h * o : (uint)x + (uint)w * o;
	/* layout 2 reuses one slot per thread: scratch of the thread, not of the line */
	uint slot = (uint)x + (uint)w * blockIdx.y, slots = (uint)w * gridDim.y;
#define E(k) (layout == 2 ? slot * (uint)(n + 1) + (uint)(k) : layout == 3 ? (uint)(k) * slots + slot : (uint)(k) * lines + line)
	int k = -1, tp = 0; float tf = 0, tz = 0;
	for (int q = 0; q < n; q++) {
		float fq = src[base + q * stride], s;
		if (fq == POS_INF) continue;
		for (;;) {
			if (k < 0) { s = -POS_INF; break; }
			s = 0.5f * (float)(q + tp) + (fq - tf) / (2.0f * sp2 * (float)(q - tp));
			if (s > tz) break;
			k--;
			if (k >= 0) { tp = vb[E(k)]; tz = zb[E(k)]; tf = src[base + tp * stride]; }
		}
		k++; tp = q; tf = fq; tz = s;
		vb[E(k)] = q; zb[E(k)] = s;
	}
	if (k < 0) { for (int q = 0; q < n; q++) dst[base + q * stride] = POS_INF; continue; }
	int top = k;
	k = 0; tp = vb[E(0)]; tf = src[base + tp * stride];
	float znext = top >= 1 ? zb[E(1)] : POS_INF;
	for (int q = 0; q < n; q++) {
		while (znext < (float)q) { k++; tp = vb[E(k)]; tf = src[base + tp * stride]; znext = k < top ? zb[E(k + 1)] : POS_INF; }
		float v = sp2 * (float)((q - tp) * (q - tp)) + tf;
		dst[base + q * stride] = take_sqrt ? sqrtf(v) : v;
	}
#undef E
	}
}

static float *make_input(int w, int h, int d)
{
	size_t n = (size_t)w * h * d;
	std::vector<unsigned char> m(n, 0);
	srand(42);
	size_t nb = n / 6000;
	for (size_t b = 0; b < nb; b++) {
		int cx = rand() % w, cy = rand() % h, cz = rand() % d, r = 3 + rand() % 10;
		for (int z = cz - r; z <= cz + r; z++) for (int y = cy - r; y <= cy + r; y++) for (int x = cx - r; x <= cx + r; x++) {
			if (x < 0 || y < 0 || z < 0 || x >= w || y >= h || z >= d) continue;
			if ((x-cx)*(x-cx)+(y-cy)*(y-cy)+(z-cz)*(z-cz) <= r*r) m[(size_t)x + (size_t)w*((size_t)y + (size_t)h*z)] = 1;
		}
	}
	float *f = (float *)malloc(n * 4);
	for (size_t i = 0; i < n; i++) f[i] = m[i];
	return f;
}

#define CK(x) do { cudaError_t e_ = (x); if (e_) { printf("%s: %s\n", #x, cudaGetErrorString(e_)); exit(1);} } while (0)

int main(int argc, char **argv)
{
	int w = atoi(argv[1]), h = atoi(argv[2]), d = atoi(argv[3]);
	size_t n = (size_t)w * h * d;
	float *in = make_input(w, h, d);
	float *din, *dx, *dA, *dB, *zb; int *vb;
	size_t entries = std::max((size_t)w * d * (h + 1), (size_t)w * h * (d + 1)) + 64;
	CK(cudaMalloc(&din, n * 4)); CK(cudaMalloc(&dx, n * 4)); CK(cudaMalloc(&dA, n * 4)); CK(cudaMalloc(&dB, n * 4));
	CK(cudaMalloc(&vb, entries * 4)); CK(cudaMalloc(&zb, entries * 4));
	CK(cudaMemcpy(din, in, n * 4, cudaMemcpyHostToDevice));
	cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
	edt_rows<<<(unsigned)((h * (size_t)d + 127) / 128), 128>>>(din, dx, w, h * d);
	CK(cudaDeviceSynchronize());
	std::vector<float> ref(n), got(n);
	int sms; cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
	/* the reference result and the old kernel's time: every line at once, groups of 64 */
	float old_ms[2];
	for (int pass = 0; pass < 2; pass++) {
		int axis = pass + 1, other = axis == 1 ? d : h;
		float best = 1e30f;
		for (int rep = 0; rep < 3; rep++) {
			cudaEventRecord(e0);
			edt_axis_all_lines<<<dim3((w + 63) / 64, other), 64>>>(pass ? dA : dx, pass ? dB : dA, vb, zb, axis, 1.0f, w, h, d, pass == 1);
			cudaEventRecord(e1); CK(cudaEventSynchronize(e1));
			float ms; cudaEventElapsedTime(&ms, e0, e1); if (ms < best) best = ms;
		}
		old_ms[pass] = best;
	}
	CK(cudaMemcpy(ref.data(), dB, n * 4, cudaMemcpyDeviceToHost));
	printf("%dx%dx%d all lines (before) block 64             y %8.3f  z %8.3f  sum %8.3f ms\n", w, h, d, old_ms[0], old_ms[1], old_ms[0] + old_ms[1]);
	int layouts[] = { 0, 2, 3 };
	int tps[] = { 128, 256, 512, 1024, 2048, 0 };
	int bss[] = { 32, 64 };
	for (int layout : layouts) for (int bs : bss) for (int tp : tps) {
		float tms[2];
		for (int pass = 0; pass < 2; pass++) {
			int axis = pass + 1, other = axis == 1 ? d : h;
			int gx = (w + bs - 1) / bs;
			long gy = tp ? (long)sms * tp / ((long)gx * bs) : other;
			if (gy < 1) gy = 1; if (gy > other) gy = other;
			float *s = pass == 0 ? dx : dA, *o = pass == 0 ? dA : dB;
			float best = 1e30f;
			for (int rep = 0; rep < 3; rep++) {
				cudaEventRecord(e0);
				axis_loop<<<dim3(gx, (unsigned)gy), bs>>>(s, o, vb, zb, axis, 1.0f, w, h, d, pass == 1, layout);
				cudaEventRecord(e1); CK(cudaEventSynchronize(e1));
				float ms; cudaEventElapsedTime(&ms, e0, e1); if (ms < best) best = ms;
			}
			tms[pass] = best;
		}
		CK(cudaMemcpy(got.data(), dB, n * 4, cudaMemcpyDeviceToHost));
		size_t bad = 0; for (size_t i = 0; i < n; i++) if (memcmp(&ref[i], &got[i], 4)) bad++;
		printf("%dx%dx%d layout %d block %2d threads/SM %4d  y %8.3f  z %8.3f  sum %8.3f ms  mismatches %zu\n", w, h, d, layout, bs, tp, tms[0], tms[1], tms[0] + tms[1], bad);
	}
	return 0;
}
