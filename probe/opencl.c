/*
 * probe/opencl.c: the OpenCL work of the probe: device facts, the smoke test, the
 * micro-benchmarks, and the body of a vendor's child process that runs them.
 *
 * Everything here calls the driver, so the probe runs it in a child (vendor_child); the public
 * function probe_copy_bandwidth is also used in-process by `run`.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <CL/cl_ext.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef CL_DEVICE_PCI_BUS_ID_NV
#define CL_DEVICE_PCI_BUS_ID_NV 0x4008
#endif
#ifndef CL_DEVICE_PCI_SLOT_ID_NV
#define CL_DEVICE_PCI_SLOT_ID_NV 0x4009
#endif
#ifndef CL_DEVICE_PCI_DOMAIN_ID_NV
#define CL_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#endif

#define MIB ((size_t)1 << 20)

/* Fills use a 16-byte pattern: a 1-byte one runs a work-item per byte (minutes for 20 GB). */
static const cl_uint fill_pattern[4] = { 0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a, 0x5a5a5a5a };
#define FILL_ARGS fill_pattern, sizeof(fill_pattern)
#define SMOKE_N 4096

/* The probe's kernels: small enough to live here rather than in kernels/. */
static const char probe_source[] =
	"__kernel void smoke(__global const float *a, __global float *b, const float k)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	b[i] = a[i] * k + (float)i;\n"
	"}\n"
	"__kernel void copy1(__global const float *src, __global float *dst)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	dst[i] = src[i];\n"
	"}\n"
	"__kernel void copy4(__global const float4 *src, __global float4 *dst)\n"
	"{\n"
	"	size_t i = get_global_id(0);\n"
	"	dst[i] = src[i];\n"
	"}\n"
	"__kernel void nop(__global float *unused)\n"
	"{\n"
	"}\n"
	/* 8 independent chains of multiply-adds per work-item hide their latency (clpeak's idea;
	 * mad, the fastest form: an FMA on GPUs); a and b come at run time, so the compiler cannot
	 * fold them, and keep the values finite */
	"__kernel void fma_peak(__global float *out, const float a, const float b, const int n)\n"
	"{\n"
	"	float x[8];\n"
	"	for (int c = 0; c < 8; c++)\n"
	"		x[c] = (float)get_global_id(0) * 1e-9f + (float)c;\n"
	"	for (int i = 0; i < n; i++)\n"
	"		for (int c = 0; c < 8; c++)\n"
	"			x[c] = mad(x[c], a, b);\n"
	"	out[get_global_id(0)] = x[0] + x[1] + x[2] + x[3] + x[4] + x[5] + x[6] + x[7];\n"
	"}\n";

/* Turn a failed OpenCL call into VB_E_DEVICE naming the call, the code, and where. */
#define CL_TRY(call, what)                                                                       \
	do {                                                                                     \
		cl_int e_ = (call);                                                              \
		if (e_ != CL_SUCCESS) {                                                          \
			rc = vb_errf(err, VB_E_DEVICE, "%s: %s (%d) in %s:%d", what,             \
				     cl_error_name(e_), e_, __func__, __LINE__);                 \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* ---- device facts ---- */

/* The PCI address "0000:65:00.0" from whichever extension the driver has; "" when none. */
static void pci_bus(cl_device_id dev, const char *ext, char *buf, size_t len)
{
	buf[0] = '\0';
	if (strstr(ext, "cl_khr_pci_bus_info")) {
		cl_device_pci_bus_info_khr b;

		if (cl.clGetDeviceInfo(dev, CL_DEVICE_PCI_BUS_INFO_KHR, sizeof(b), &b, NULL) ==
		    CL_SUCCESS)
			snprintf(buf, len, "%04x:%02x:%02x.%x", b.pci_domain, b.pci_bus, b.pci_device,
				 b.pci_function);
	} else if (strstr(ext, "cl_nv_device_attribute_query")) {
		cl_uint bus = (cl_uint)cl_device_number(dev, CL_DEVICE_PCI_BUS_ID_NV, sizeof(cl_uint));
		cl_uint slot = (cl_uint)cl_device_number(dev, CL_DEVICE_PCI_SLOT_ID_NV, sizeof(cl_uint));
		cl_uint dom = (cl_uint)cl_device_number(dev, CL_DEVICE_PCI_DOMAIN_ID_NV, sizeof(cl_uint));

		snprintf(buf, len, "%04x:%02x:%02x.%x", dom, bus, slot >> 3, slot & 7);
	} else if (strstr(ext, "cl_amd_device_attribute_query")) {
		cl_device_topology_amd t;

		memset(&t, 0, sizeof(t));
		if (cl.clGetDeviceInfo(dev, CL_DEVICE_TOPOLOGY_AMD, sizeof(t), &t, NULL) ==
			    CL_SUCCESS && t.raw.type == CL_DEVICE_TOPOLOGY_TYPE_PCIE_AMD)
			snprintf(buf, len, "0000:%02x:%02x.%x", (unsigned char)t.pcie.bus,
				 (unsigned char)t.pcie.device, (unsigned char)t.pcie.function);
	}
}

/* The vendor-specific facts: NVIDIA compute capability and watchdog, AMD board name. */
static void vendor_facts(cl_device_id dev, const char *ext, json_t *o)
{
	if (strstr(ext, "cl_nv_device_attribute_query")) {
		cl_uint maj = (cl_uint)cl_device_number(dev, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, 4);
		cl_uint min = (cl_uint)cl_device_number(dev, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, 4);
		char cc[16];

		snprintf(cc, sizeof(cc), "%u.%u", maj, min);
		json_object_set_new(o, "compute_capability", json_string(cc));
		json_object_set_new(o, "kernel_exec_timeout",
				    json_boolean(cl_device_number(dev, CL_DEVICE_KERNEL_EXEC_TIMEOUT_NV,
							 sizeof(cl_bool))));
	} else {
		json_object_set_new(o, "kernel_exec_timeout", json_null());
	}
	if (strstr(ext, "cl_amd_device_attribute_query")) {
		char board[256];

		cl_device_string(dev, CL_DEVICE_BOARD_NAME_AMD, board, sizeof(board));
		if (*board)
			json_object_set_new(o, "board_name", json_string(board));
	}
}

/* The device's JSON object: report.h's device fields, then what the probe adds. */
static json_t *device_json(cl_device_id dev)
{
	struct device_info d;
	char ext[16384], s[256], pci[32];
	json_t *o;

	cl_device_info_fill(dev, &d, NULL);
	cl_device_string(dev, CL_DEVICE_EXTENSIONS, ext, sizeof(ext));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i}",
		      "backend", d.backend, "platform", d.platform, "name", d.name,
		      "vendor", d.vendor, "driver_version", d.driver_version, "type", d.type,
		      "global_mem_bytes", (json_int_t)d.global_mem_bytes,
		      "max_alloc_bytes", (json_int_t)d.max_alloc_bytes,
		      "local_mem_bytes", (json_int_t)d.local_mem_bytes,
		      "compute_units", (int)d.compute_units, "max_clock_mhz", (int)d.max_clock_mhz);
	if (!o)
		return NULL;
	cl_device_string(dev, CL_DEVICE_VERSION, s, sizeof(s));
	json_object_set_new(o, "device_version", json_string(s));
	cl_device_string(dev, CL_DEVICE_OPENCL_C_VERSION, s, sizeof(s));
	json_object_set_new(o, "opencl_c_version", json_string(s));
	json_object_set_new(o, "fp64", json_boolean(cl_device_number(dev, CL_DEVICE_DOUBLE_FP_CONFIG,
							   sizeof(cl_ulong)) != 0));
	json_object_set_new(o, "image_support",
			    json_boolean(cl_device_number(dev, CL_DEVICE_IMAGE_SUPPORT, sizeof(cl_bool))));
	json_object_set_new(o, "max_work_group_size",
			    json_integer((json_int_t)cl_device_number(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE,
							     sizeof(size_t))));
	json_object_set_new(o, "unified_memory",
			    json_boolean(cl_device_number(dev, CL_DEVICE_HOST_UNIFIED_MEMORY,
						 sizeof(cl_bool))));
	pci_bus(dev, ext, pci, sizeof(pci));
	json_object_set_new(o, "pci_bus", *pci ? json_string(pci) : json_null());
	vendor_facts(dev, ext, o);
	return o;
}

/* ---- a context, a profiling queue and the probe's program on one device ---- */

struct session {
	cl_device_id dev;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	int own_ctx;
	double build_ms;
};

static int build_program(struct session *s, struct vb_err *err)
{
	const char *src = probe_source;
	double t0 = vb_now_ms();
	char log[2048] = "";
	cl_int e = CL_SUCCESS;

	s->prog = cl.clCreateProgramWithSource(s->ctx, 1, &src, NULL, &e);
	if (!s->prog)
		return vb_errf(err, VB_E_BUILD, "clCreateProgramWithSource: %s (%d)",
			       cl_error_name(e), e);
	e = cl.clBuildProgram(s->prog, 1, &s->dev, "", NULL, NULL);
	s->build_ms = vb_now_ms() - t0;
	if (e == CL_SUCCESS)
		return VB_OK;
	cl.clGetProgramBuildInfo(s->prog, s->dev, CL_PROGRAM_BUILD_LOG, sizeof(log) - 1, log,
				 NULL);
	log[sizeof(log) - 1] = '\0';
	return vb_errf(err, VB_E_BUILD, "clBuildProgram: %s (%d); build log: %s",
		       cl_error_name(e), e, *log ? log : "(empty)");
}

static int session_queue(struct session *s, struct vb_err *err)
{
	cl_int e = CL_SUCCESS;

	s->q = cl.clCreateCommandQueue(s->ctx, s->dev, CL_QUEUE_PROFILING_ENABLE, &e);
	if (!s->q)
		return vb_errf(err, VB_E_DEVICE, "clCreateCommandQueue: %s (%d)",
			       cl_error_name(e), e);
	return VB_OK;
}

static void session_close(struct session *s)
{
	if (s->prog)
		cl.clReleaseProgram(s->prog);
	if (s->q)
		cl.clReleaseCommandQueue(s->q);
	if (s->ctx && s->own_ctx)
		cl.clReleaseContext(s->ctx);
	memset(s, 0, sizeof(*s));
}

/* A context of its own on dev (the probe's case), then the queue and the program. */
static int session_open(struct session *s, cl_platform_id plat, cl_device_id dev,
			struct vb_err *err)
{
	cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0 };
	cl_int e = CL_SUCCESS;
	int rc;

	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->ctx = cl.clCreateContext(props, 1, &dev, NULL, NULL, &e);
	if (!s->ctx)
		return vb_errf(err, VB_E_DEVICE, "clCreateContext: %s (%d)", cl_error_name(e), e);
	s->own_ctx = 1;
	rc = session_queue(s, err);
	if (rc == VB_OK)
		rc = build_program(s, err);
	return rc;
}

static cl_kernel make_kernel(struct session *s, const char *name, struct vb_err *err, int *rc)
{
	cl_int e = CL_SUCCESS;
	cl_kernel k = cl.clCreateKernel(s->prog, name, &e);

	if (!k)
		*rc = vb_errf(err, VB_E_DEVICE, "clCreateKernel(%s): %s (%d)", name,
			      cl_error_name(e), e);
	return k;
}

/* ---- the smoke test ---- */

/* Compare every value with what the kernel must compute; VB_E_DEVICE at the first miss. */
static int smoke_verify(const float *a, const float *b, struct vb_err *err)
{
	for (size_t i = 0; i < SMOKE_N; i++) {
		float want = a[i] * 3.0f + (float)i;

		if (b[i] != want)
			return vb_errf(err, VB_E_DEVICE,
				       "wrong result at element %zu: got %g, want %g "
				       "(the kernel ran but computed garbage)",
				       i, (double)b[i], (double)want);
	}
	return VB_OK;
}

static int smoke_run(struct session *s, struct vb_err *err)
{
	static float a[SMOKE_N], b[SMOKE_N];
	size_t bytes = sizeof(a), global = SMOKE_N;
	cl_mem da = NULL, db = NULL;
	cl_kernel k = NULL;
	float three = 3.0f;
	cl_int e = CL_SUCCESS;
	int rc = VB_OK;

	for (size_t i = 0; i < SMOKE_N; i++) {
		a[i] = (float)(i % 251);
		b[i] = -1.0f;
	}
	da = cl.clCreateBuffer(s->ctx, CL_MEM_READ_ONLY, bytes, NULL, &e);
	CL_TRY(e, "clCreateBuffer");
	db = cl.clCreateBuffer(s->ctx, CL_MEM_WRITE_ONLY, bytes, NULL, &e);
	CL_TRY(e, "clCreateBuffer");
	k = make_kernel(s, "smoke", err, &rc);
	if (!k)
		goto out;
	CL_TRY(cl.clEnqueueWriteBuffer(s->q, da, CL_TRUE, 0, bytes, a, 0, NULL, NULL),
	       "clEnqueueWriteBuffer");
	CL_TRY(cl.clSetKernelArg(k, 0, sizeof(da), &da), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 1, sizeof(db), &db), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 2, sizeof(three), &three), "clSetKernelArg");
	CL_TRY(cl.clEnqueueNDRangeKernel(s->q, k, 1, NULL, &global, NULL, 0, NULL, NULL),
	       "clEnqueueNDRangeKernel");
	CL_TRY(cl.clEnqueueReadBuffer(s->q, db, CL_TRUE, 0, bytes, b, 0, NULL, NULL),
	       "clEnqueueReadBuffer");
	rc = smoke_verify(a, b, err);
out:
	if (k)
		cl.clReleaseKernel(k);
	if (da)
		cl.clReleaseMemObject(da);
	if (db)
		cl.clReleaseMemObject(db);
	return rc;
}

/* ---- copy bandwidth ---- */

static size_t default_copy_bytes(cl_device_id dev)
{
	cl_device_type t = 0;
	cl_ulong max_alloc = cl_device_number(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
	cl_ulong global = cl_device_number(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(cl_ulong));
	size_t bytes;

	cl.clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof(t), &t, NULL);
	/* Well past any last-level cache (50 MB on an H100), small enough to stay quick. */
	bytes = (t & CL_DEVICE_TYPE_CPU) ? 64 * MIB : 256 * MIB;
	if (max_alloc && bytes > max_alloc)
		bytes = (size_t)max_alloc;
	if (global && bytes > global / 4)
		bytes = (size_t)(global / 4);
	return bytes & ~(size_t)63;
}

/* Kernel time of one event in milliseconds. */
static int event_ms(cl_event ev, double *ms, struct vb_err *err)
{
	cl_ulong t0 = 0, t1 = 0;
	int rc = VB_OK;

	CL_TRY(cl.clWaitForEvents(1, &ev), "clWaitForEvents");
	CL_TRY(cl.clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof(t0), &t0, NULL),
	       "clGetEventProfilingInfo");
	CL_TRY(cl.clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof(t1), &t1, NULL),
	       "clGetEventProfilingInfo");
	*ms = (double)(t1 - t0) / 1e6;
out:
	return rc;
}

/* Median GB/s of one copy kernel over `runs` runs after a warm-up. */
static int time_copy(struct session *s, const char *kname, size_t items, size_t bytes,
		     cl_mem src, cl_mem dst, int runs, double *gbps, struct vb_err *err)
{
	double ms[32];
	cl_event ev = NULL;
	cl_kernel k;
	int rc = VB_OK;

	k = make_kernel(s, kname, err, &rc);
	if (!k)
		return rc;
	CL_TRY(cl.clSetKernelArg(k, 0, sizeof(src), &src), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 1, sizeof(dst), &dst), "clSetKernelArg");
	for (int i = -1; i < runs; i++) {
		CL_TRY(cl.clEnqueueNDRangeKernel(s->q, k, 1, NULL, &items, NULL, 0, NULL, &ev),
		       "clEnqueueNDRangeKernel");
		rc = event_ms(ev, i >= 0 ? &ms[i] : &ms[0], err);
		cl.clReleaseEvent(ev);
		if (rc != VB_OK)
			goto out;
	}
	/* Bytes read plus bytes written, as CuPy's and clpeak's copy figures count them. */
	*gbps = 2.0 * (double)bytes / (vb_median(ms, (size_t)runs) * 1e6);
out:
	cl.clReleaseKernel(k);
	return rc;
}

static int copy_bandwidth(struct session *s, size_t bytes, struct probe_copy_bw *out,
			  struct vb_err *err)
{
	cl_mem src = NULL, dst = NULL;
	cl_int e = CL_SUCCESS;
	int rc = VB_OK;

	memset(out, 0, sizeof(*out));
	out->bytes = bytes ? bytes & ~(size_t)63 : default_copy_bytes(s->dev);
	out->runs = 5;
	if (out->bytes < 64)
		return vb_errf(err, VB_E_ARGS, "copy buffer of %zu bytes is too small", bytes);
	src = cl.clCreateBuffer(s->ctx, CL_MEM_READ_WRITE, out->bytes, NULL, &e);
	CL_TRY(e, "clCreateBuffer");
	dst = cl.clCreateBuffer(s->ctx, CL_MEM_READ_WRITE, out->bytes, NULL, &e);
	CL_TRY(e, "clCreateBuffer");
	/* Touch both buffers so first-use page mapping is not timed. */
	CL_TRY(cl.clEnqueueFillBuffer(s->q, src, FILL_ARGS, 0, out->bytes, 0, NULL, NULL),
	       "clEnqueueFillBuffer");
	CL_TRY(cl.clEnqueueFillBuffer(s->q, dst, FILL_ARGS, 0, out->bytes, 0, NULL, NULL),
	       "clEnqueueFillBuffer");
	CL_TRY(cl.clFinish(s->q), "clFinish");
	rc = time_copy(s, "copy1", out->bytes / 4, out->bytes, src, dst, out->runs,
		       &out->float_gbps, err);
	if (rc == VB_OK)
		rc = time_copy(s, "copy4", out->bytes / 16, out->bytes, src, dst, out->runs,
			       &out->float4_gbps, err);
	out->best_gbps = fmax(out->float_gbps, out->float4_gbps);
out:
	if (src)
		cl.clReleaseMemObject(src);
	if (dst)
		cl.clReleaseMemObject(dst);
	return rc;
}

int probe_copy_bandwidth(cl_context ctx, cl_device_id dev, size_t bytes,
			 struct probe_copy_bw *out, struct vb_err *err)
{
	struct session s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.dev = dev;
	rc = session_queue(&s, err);
	if (rc == VB_OK)
		rc = build_program(&s, err);
	if (rc == VB_OK)
		rc = copy_bandwidth(&s, bytes, out, err);
	session_close(&s);
	return rc;
}

/* ---- host <-> device transfers ---- */

/* Median GB/s of blocking writes (to_device) or reads of `bytes` between host and dbuf. */
static int time_transfer(struct session *s, cl_mem dbuf, void *host, size_t bytes, int to_device,
			 double *gbps, struct vb_err *err)
{
	double ms[8];
	int runs = 5, rc = VB_OK;

	for (int i = -1; i < runs; i++) {
		double t0 = vb_now_ms();

		if (to_device)
			CL_TRY(cl.clEnqueueWriteBuffer(s->q, dbuf, CL_TRUE, 0, bytes, host, 0, NULL,
						       NULL), "clEnqueueWriteBuffer");
		else
			CL_TRY(cl.clEnqueueReadBuffer(s->q, dbuf, CL_TRUE, 0, bytes, host, 0, NULL,
						      NULL), "clEnqueueReadBuffer");
		if (i >= 0)
			ms[i] = vb_now_ms() - t0;
	}
	*gbps = (double)bytes / (vb_median(ms, (size_t)runs) * 1e6);
out:
	return rc;
}

static int pageable_transfers(struct session *s, cl_mem dbuf, size_t bytes, json_t *o,
			      struct vb_err *err)
{
	double h2d = NAN, d2h = NAN;
	char *host = malloc(bytes);
	int rc;

	if (!host)
		return vb_errf(err, VB_E_NOMEM, "cannot allocate %zu host bytes", bytes);
	memset(host, 1, bytes);
	rc = time_transfer(s, dbuf, host, bytes, 1, &h2d, err);
	if (rc == VB_OK)
		rc = time_transfer(s, dbuf, host, bytes, 0, &d2h, err);
	free(host);
	json_object_set_new(o, "h2d_pageable_gbps", json_num(h2d));
	json_object_set_new(o, "d2h_pageable_gbps", json_num(d2h));
	return rc;
}

/* Pinned host memory the portable way: an ALLOC_HOST_PTR buffer, mapped once. */
static int pinned_transfers(struct session *s, cl_mem dbuf, size_t bytes, json_t *o,
			    struct vb_err *err)
{
	double h2d = NAN, d2h = NAN;
	cl_mem pinned = NULL;
	void *host = NULL;
	cl_int e = CL_SUCCESS;
	int rc = VB_OK;

	pinned = cl.clCreateBuffer(s->ctx, CL_MEM_ALLOC_HOST_PTR | CL_MEM_READ_WRITE, bytes, NULL,
				   &e);
	CL_TRY(e, "clCreateBuffer(CL_MEM_ALLOC_HOST_PTR)");
	host = cl.clEnqueueMapBuffer(s->q, pinned, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes, 0,
				     NULL, NULL, &e);
	CL_TRY(e, "clEnqueueMapBuffer");
	memset(host, 1, bytes);
	rc = time_transfer(s, dbuf, host, bytes, 1, &h2d, err);
	if (rc == VB_OK)
		rc = time_transfer(s, dbuf, host, bytes, 0, &d2h, err);
out:
	if (host) {
		cl.clEnqueueUnmapMemObject(s->q, pinned, host, 0, NULL, NULL);
		cl.clFinish(s->q);
	}
	if (pinned)
		cl.clReleaseMemObject(pinned);
	json_object_set_new(o, "h2d_pinned_gbps", json_num(h2d));
	json_object_set_new(o, "d2h_pinned_gbps", json_num(d2h));
	return rc;
}

static int transfers(struct session *s, size_t bytes, json_t *o, struct vb_err *err)
{
	cl_mem dbuf;
	cl_int e = CL_SUCCESS;
	int rc, rc2;

	json_object_set_new(o, "transfer_bytes", json_integer((json_int_t)bytes));
	dbuf = cl.clCreateBuffer(s->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
	if (!dbuf)
		return vb_errf(err, VB_E_DEVICE, "clCreateBuffer: %s (%d)", cl_error_name(e), e);
	rc = pageable_transfers(s, dbuf, bytes, o, err);
	rc2 = pinned_transfers(s, dbuf, bytes, o, rc == VB_OK ? err : NULL);
	cl.clReleaseMemObject(dbuf);
	return rc != VB_OK ? rc : rc2;
}

/* ---- launch latency and the largest allocation ---- */

/* Median wall time of enqueue + finish of an empty kernel, in microseconds. */
/*
 * The device's f32 multiply-add throughput, GFLOP/s (2 per mad): the compute peak an op's time can be set
 * against, as copy bandwidth is the memory one. The work doubles until one launch takes 20 ms
 * (a CPU device stops there after a few; the H200 needs about 2 TFLOP), best of 3 at that size.
 */
#define FMA_ITERS 256
#define FMA_MIN_MS 20.0
#define FMA_MAX_ITEMS ((size_t)1 << 24)

static int fma_throughput(struct session *s, double *gflops, struct vb_err *err)
{
	cl_int e = CL_SUCCESS, iters = FMA_ITERS;
	cl_float a = 0.999999f, b = 1e-6f;
	cl_mem out = cl.clCreateBuffer(s->ctx, CL_MEM_WRITE_ONLY, FMA_MAX_ITEMS * sizeof(cl_float),
				       NULL, &e);
	cl_kernel k = NULL;
	size_t items = 4096;
	double best = 0, ms = 0;
	int rc = VB_OK;

	if (!out)
		return vb_errf(err, VB_E_DEVICE, "clCreateBuffer: %s (%d)", cl_error_name(e), e);
	k = make_kernel(s, "fma_peak", err, &rc);
	if (!k)
		goto out;
	CL_TRY(cl.clSetKernelArg(k, 0, sizeof(out), &out), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 1, sizeof(a), &a), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 2, sizeof(b), &b), "clSetKernelArg");
	CL_TRY(cl.clSetKernelArg(k, 3, sizeof(iters), &iters), "clSetKernelArg");
	for (int run = 0; run < 3;) {
		double t0 = vb_now_ms();

		CL_TRY(cl.clEnqueueNDRangeKernel(s->q, k, 1, NULL, &items, NULL, 0, NULL, NULL),
		       "clEnqueueNDRangeKernel");
		CL_TRY(cl.clFinish(s->q), "clFinish");
		ms = vb_now_ms() - t0;
		if (ms < FMA_MIN_MS && items < FMA_MAX_ITEMS) {
			items *= 2; /* too short to time: more work-items */
			continue;
		}
		best = fmax(best, (double)items * FMA_ITERS * 8 * 2 / (ms * 1e6));
		run++;
	}
	*gflops = best;
out:
	if (k)
		cl.clReleaseKernel(k);
	cl.clReleaseMemObject(out);
	return rc;
}

static int launch_latency(struct session *s, double *us, struct vb_err *err)
{
	double t[64];
	size_t one = 1;
	cl_mem arg = NULL;
	cl_kernel k;
	int runs = 64, rc = VB_OK;

	k = make_kernel(s, "nop", err, &rc);
	if (!k)
		return rc;
	CL_TRY(cl.clSetKernelArg(k, 0, sizeof(arg), &arg), "clSetKernelArg");
	for (int i = -8; i < runs; i++) {
		double t0 = vb_now_ms();

		CL_TRY(cl.clEnqueueNDRangeKernel(s->q, k, 1, NULL, &one, NULL, 0, NULL, NULL),
		       "clEnqueueNDRangeKernel");
		CL_TRY(cl.clFinish(s->q), "clFinish");
		if (i >= 0)
			t[i] = (vb_now_ms() - t0) * 1e3;
	}
	*us = vb_median(t, (size_t)runs);
out:
	cl.clReleaseKernel(k);
	return rc;
}

/*
 * Allocate `bytes` and write its last page: drivers allocate lazily, so only a finished write
 * proves the allocation. A fill of the whole buffer proved no more and cost the H200 seconds per
 * try (tens of GiB), and one failed try could leave the queue failing every later one.
 */
static int try_alloc(struct session *s, size_t bytes)
{
	static const unsigned char page[4096];
	size_t n = bytes < sizeof(page) ? bytes : sizeof(page);
	cl_int e = CL_SUCCESS;
	cl_mem b = cl.clCreateBuffer(s->ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
	int ok;

	if (!b)
		return 0;
	ok = cl.clEnqueueWriteBuffer(s->q, b, CL_TRUE, bytes - n, n, page, 0, NULL, NULL) ==
		     CL_SUCCESS &&
	     cl.clFinish(s->q) == CL_SUCCESS;
	cl.clReleaseMemObject(b);
	return ok;
}

/* Tries of the allocation probe: the advertised size, then halves of it. */
#define ALLOC_TRIES 4

/* From the driver's CL_DEVICE_MAX_MEM_ALLOC_SIZE down by halves until one works. */
static void alloc_probe(struct session *s, json_t *o)
{
	cl_device_type t = 0;
	cl_ulong max_alloc = cl_device_number(s->dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(cl_ulong));
	size_t size = (size_t)max_alloc, ok = 0;

	cl.clGetDeviceInfo(s->dev, CL_DEVICE_TYPE, sizeof(t), &t, NULL);
	/* On a CPU device this is host memory: stay small, CI machines have little. */
	if ((t & CL_DEVICE_TYPE_CPU) && size > 1024 * MIB)
		size = 1024 * MIB;
	json_object_set_new(o, "alloc_tried_bytes", json_integer((json_int_t)size));
	size &= ~(size_t)15;
	for (int i = 0; i < ALLOC_TRIES && size >= MIB; i++, size = size / 2 & ~(size_t)15) {
		if (try_alloc(s, size)) {
			ok = size;
			break;
		}
	}
	json_object_set_new(o, "max_alloc_ok_bytes", ok ? json_integer((json_int_t)ok)
						       : json_null());
}

/* ---- the benchmarks of one device, sent part by part ---- */

static void note_error(json_t *errors, const char *what, const struct vb_err *e)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s: %s", what, e->msg);
	json_array_append_new(errors, json_string(line));
}

/* Send a part of device k's "bench" object; what was sent survives a later crash or hang. */
static void send_part(FILE *out, int k, json_t *part)
{
	child_send(out, json_pack("{s:o, s:i}", "bench", part, "local", k));
}

static void bench_copy(struct session *s, FILE *out, int k, json_t *errors)
{
	struct probe_copy_bw bw;
	struct vb_err err = { "" };

	if (copy_bandwidth(s, 0, &bw, &err) != VB_OK) {
		note_error(errors, "copy", &err);
		return;
	}
	send_part(out, k, json_pack("{s:o, s:{s:o, s:o, s:I, s:i}}", "copy_gbps",
				    json_num(bw.best_gbps), "copy", "float_gbps",
				    json_num(bw.float_gbps), "float4_gbps", json_num(bw.float4_gbps),
				    "bytes", (json_int_t)bw.bytes, "runs", bw.runs));
}

/* The wall time of one benchmark part, into parts[name]; returns now, the next part's start. */
static double part_done(json_t *parts, const char *name, double t0)
{
	double now = vb_now_ms();

	json_object_set_new(parts, name, json_num(now - t0));
	return now;
}

static void bench_device(struct session *s, FILE *out, int index, int k)
{
	json_t *errors = json_array(), *parts = json_object(), *o;
	struct vb_err err = { "" };
	double t0 = vb_now_ms(), t = t0, us = NAN;
	cl_device_type type = 0;

	cl.clGetDeviceInfo(s->dev, CL_DEVICE_TYPE, sizeof(type), &type, NULL);
	child_phase(out, "bench", index, "measuring the copy bandwidth of device #%d", index);
	bench_copy(s, out, k, errors);
	t = part_done(parts, "copy", t);
	child_phase(out, "bench", index, "measuring host-device transfers of device #%d", index);
	o = json_object();
	if (transfers(s, (type & CL_DEVICE_TYPE_CPU) ? 32 * MIB : 64 * MIB, o, &err) != VB_OK)
		note_error(errors, "transfers", &err);
	send_part(out, k, o);
	t = part_done(parts, "transfers", t);
	child_phase(out, "bench", index, "measuring the launch latency of device #%d", index);
	if (launch_latency(s, &us, &err) != VB_OK)
		note_error(errors, "launch latency", &err);
	send_part(out, k, json_pack("{s:o}", "launch_latency_us", json_num(us)));
	t = part_done(parts, "launch_latency", t);
	child_phase(out, "bench", index, "measuring the FMA throughput of device #%d", index);
	us = NAN;
	if (fma_throughput(s, &us, &err) != VB_OK)
		note_error(errors, "fma", &err);
	send_part(out, k, json_pack("{s:o}", "fma_gflops", json_num(us)));
	t = part_done(parts, "fma", t);
	child_phase(out, "bench", index, "probing the largest allocation of device #%d", index);
	o = json_object();
	alloc_probe(s, o);
	send_part(out, k, o);
	part_done(parts, "allocation", t);
	send_part(out, k, json_pack("{s:o, s:o, s:o}", "elapsed_ms", json_num(vb_now_ms() - t0),
				    "parts_ms", parts, "errors", errors));
}

/* ---- the vendor's child ---- */

int probe_device_matches(const char *spec, int index, const char *name, const char *platform,
			 const char *type)
{
	char *end;
	long n;

	if (!spec || !*spec)
		return 1;
	n = strtol(spec, &end, 10);
	if (*end == '\0')
		return n == index;
	if (!strcasecmp(spec, type))
		return 1;
	return vb_contains_nocase(name, spec) || vb_contains_nocase(platform, spec);
}

/* The loader of this child sees only this vendor: its own OCL_ICD_VENDORS folder. */
static void child_env(const struct vendor_job *job)
{
	setenv("OCL_ICD_VENDORS", job->vendors_dir, 1);
	unsetenv("OCL_ICD_FILENAMES");
	unsetenv("OPENCL_VENDOR_PATH");
}

static json_t *platform_json(cl_platform_id p, int local)
{
	char name[256], vendor[256], version[256], profile[64];
	Dl_info di;
	/* An ICD's platform starts with its dispatch table, which lives in the driver's file. */
	void *dispatch = *(void **)p;
	const char *lib = dladdr(dispatch, &di) && di.dli_fname ? di.dli_fname : "";

	cl_platform_string(p, CL_PLATFORM_NAME, name, sizeof(name));
	cl_platform_string(p, CL_PLATFORM_VENDOR, vendor, sizeof(vendor));
	cl_platform_string(p, CL_PLATFORM_VERSION, version, sizeof(version));
	cl_platform_string(p, CL_PLATFORM_PROFILE, profile, sizeof(profile));
	return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "local", local, "name", name,
			 "vendor", vendor, "version", version, "profile", profile, "library", lib);
}

struct listed {
	cl_platform_id plat[64];  /* per device */
	cl_device_id dev[64];
	char name[64][256], type[64][16], platform[64][256];
	int n;
};

/* List plat's devices into l; quiet: send nothing (a second pass over known devices). */
static void list_devices(FILE *out, cl_platform_id plat, int local_plat, struct listed *l,
			 int quiet)
{
	cl_device_id devs[64];
	cl_uint n = 0;
	cl_int e = cl.clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 64, devs, &n);

	if (e != CL_SUCCESS && e != CL_DEVICE_NOT_FOUND) {
		child_send(out, json_pack("{s:{s:s, s:i, s:s, s:i}}", "list_error",
					  "call", "clGetDeviceIDs", "code", e,
					  "name", cl_error_name(e), "platform", local_plat));
		return;
	}
	for (cl_uint i = 0; i < n && l->n < 64; i++, l->n++) {
		json_t *d = device_json(devs[i]);

		l->plat[l->n] = plat;
		l->dev[l->n] = devs[i];
		snprintf(l->name[l->n], 256, "%s", json_string_value(json_object_get(d, "name")));
		snprintf(l->type[l->n], 16, "%s", json_string_value(json_object_get(d, "type")));
		snprintf(l->platform[l->n], 256, "%s",
			 json_string_value(json_object_get(d, "platform")));
		json_object_set_new(d, "local", json_integer(l->n));
		json_object_set_new(d, "platform_local", json_integer(local_plat));
		if (quiet)
			json_decref(d);
		else
			child_send(out, json_pack("{s:o}", "device", d));
	}
}

/*
 * Smoke test, then (unless --quick or the smoke failed) the benchmarks, of listed device k.
 * CPU devices are benchmarked only with bench_cpu: while a GPU works nothing uses them, and
 * their benchmarks take seconds (cpu_bench_only is the pass that measures them after all).
 */
static void test_device(FILE *out, const struct vendor_job *job, struct listed *l, int k)
{
	int index = job->first_index + k, cpu = strcmp(l->type[k], "cpu") == 0;
	struct vb_err err = { "" };
	struct session s;
	double t0;
	int rc;

	if (job->cpu_bench_only) {
		if (!cpu || !probe_device_matches(job->device_spec, index, l->name[k],
						  l->platform[k], l->type[k]))
			return;
		if (session_open(&s, l->plat[k], l->dev[k], &err) == VB_OK)
			bench_device(&s, out, index, k);
		session_close(&s);
		return;
	}
	if (!probe_device_matches(job->device_spec, index, l->name[k], l->platform[k],
				  l->type[k])) {
		child_send(out, json_pack("{s:{s:i, s:s, s:s}}", "smoke", "local", k,
					  "status", "skip", "reason", "not selected by --device"));
		return;
	}
	child_phase(out, "smoke", index, "building the smoke kernel on device #%d", index);
	rc = session_open(&s, l->plat[k], l->dev[k], &err);
	child_phase(out, "smoke", index, "running the smoke kernel on device #%d", index);
	t0 = vb_now_ms();
	if (rc == VB_OK)
		rc = smoke_run(&s, &err);
	child_send(out, json_pack("{s:{s:i, s:s, s:s, s:o, s:o, s:i}}", "smoke", "local", k,
				  "status", rc == VB_OK ? "pass" : "fail", "error",
				  rc == VB_OK ? "" : err.msg, "build_ms", json_num(s.build_ms),
				  "run_ms", json_num(vb_now_ms() - t0), "values", SMOKE_N));
	if (rc == VB_OK && !job->quick && (!cpu || job->bench_cpu))
		bench_device(&s, out, index, k);
	session_close(&s);
}

void vendor_child(FILE *out, void *arg)
{
	const struct vendor_job *job = arg;
	static struct listed l;
	cl_platform_id plats[16];
	cl_uint np = 0;
	cl_int e;

	child_env(job);
	child_phase(out, "platforms", -1, "listing platforms");
	e = cl.clGetPlatformIDs(16, plats, &np);
	if (e != CL_SUCCESS) {
		child_send(out, json_pack("{s:{s:s, s:i, s:s}}", "list_error", "call",
					  "clGetPlatformIDs", "code", e, "name", cl_error_name(e)));
		return;
	}
	memset(&l, 0, sizeof(l));
	for (cl_uint i = 0; i < np && i < 16; i++) {
		if (!job->cpu_bench_only)
			child_send(out, json_pack("{s:o}", "platform",
						  platform_json(plats[i], (int)i)));
		child_phase(out, "platforms", -1, "listing the devices of platform %u", i);
		list_devices(out, plats[i], (int)i, &l, job->cpu_bench_only);
	}
	for (int k = 0; k < l.n && !job->enumerate_only; k++)
		test_device(out, job, &l, k);
	child_send(out, json_pack("{s:b}", "done", 1));
}
