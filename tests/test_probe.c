/*
 * tests/test_probe.c: the probe's public functions that `voxbench run` embeds: the device
 * section, a device's facts and its copy bandwidth, and --device matching. The whole command
 * is tested by tests/test_probe.py. Runs on whatever OpenCL the machine has (PoCL in CI);
 * without a device, the device checks are skipped with an "ok - ... # SKIP" line.
 */
#define _GNU_SOURCE
#include "../probe/probe.h"

#include <string.h>

#include "check.h"

static void test_matches(void)
{
	CHECK(probe_device_matches(NULL, 3, "NVIDIA H100", "NVIDIA CUDA", "gpu"), "no spec matches");
	CHECK(probe_device_matches("3", 3, "x", "y", "gpu"), "index matches");
	CHECK(!probe_device_matches("2", 3, "x", "y", "gpu"), "other index does not match");
	CHECK(probe_device_matches("gpu", 0, "x", "y", "gpu"), "type matches");
	CHECK(!probe_device_matches("cpu", 0, "x", "y", "gpu"), "other type does not match");
	CHECK(probe_device_matches("h100", 0, "NVIDIA H100 80GB", "NVIDIA CUDA", "gpu"),
	      "name substring matches, case-insensitively");
	CHECK(probe_device_matches("pocl", 0, "cpu-x", "Portable Computing Language PoCL", "cpu"),
	      "platform substring matches");
	CHECK(!probe_device_matches("amd", 0, "NVIDIA H100", "NVIDIA CUDA", "gpu"),
	      "unrelated substring does not match");
}

/* The section `run` embeds; must come before this process's own first OpenCL call. */
static int test_section(void)
{
	struct probe_options opt = { .quick = 1, .device = NULL };
	struct vb_err err = { "" };
	json_t *section = json_object(), *devs, *d;
	int rc = probe_device_section(section, &opt, &err), n;

	if (rc == VB_E_NOLOADER) {
		CHECK(strstr(err.msg, "install") != NULL, "no loader: the message says what to install");
		json_decref(section);
		return 0;
	}
	CHECK(rc == VB_OK, "probe_device_section returns VB_OK (%s)", err.msg);
	CHECK(!strcmp(json_string_value(json_object_get(section, "schema")) ?: "", PROBE_SCHEMA),
	      "the section carries the schema");
	devs = json_object_get(section, "devices");
	CHECK(json_is_array(devs), "the section has a devices array");
	n = (int)json_array_size(devs);
	d = json_array_get(devs, 0);
	if (d) {
		CHECK(json_is_string(json_object_get(d, "name")), "a device has a name");
		CHECK(json_is_integer(json_object_get(d, "global_mem_bytes")),
		      "a device has global_mem_bytes");
		CHECK(!strcmp(json_string_value(json_object_get(json_object_get(d, "smoke"),
								  "status")) ?: "", "pass"),
		      "the first device passed the smoke test");
		CHECK(json_object_get(d, "bench") == NULL, "quick: no bench object");
	}
	json_decref(section);
	return n;
}

static int first_device(cl_device_id *dev, cl_platform_id *plat)
{
	cl_uint np = 0, nd = 0;

	if (cl.clGetPlatformIDs(1, plat, &np) != CL_SUCCESS || np == 0)
		return 0;
	return cl.clGetDeviceIDs(*plat, CL_DEVICE_TYPE_ALL, 1, dev, &nd) == CL_SUCCESS && nd;
}

static void test_in_process(void)
{
	struct vb_err err = { "" };
	struct probe_copy_bw bw;
	struct device_info info;
	cl_platform_id plat;
	cl_device_id dev;
	cl_context ctx;
	cl_int e = CL_SUCCESS;

	if (cl_api_load(&err) != VB_OK || !first_device(&dev, &plat)) {
		CHECK(1, "in-process device checks # SKIP no OpenCL device");
		return;
	}
	CHECK(cl_device_info_fill(dev, &info, &err) == VB_OK, "cl_device_info_fill (%s)", err.msg);
	CHECK(!strcmp(info.backend, "opencl") && info.name[0] && info.global_mem_bytes > 0 &&
	      info.compute_units > 0, "device_info has backend, name, memory, compute units");
	ctx = cl.clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
	CHECK(ctx != NULL, "context on the first device (%s)", cl_error_name(e));
	if (!ctx)
		return;
	CHECK(probe_copy_bandwidth(ctx, dev, 8u << 20, &bw, &err) == VB_OK,
	      "probe_copy_bandwidth (%s)", err.msg);
	CHECK(bw.float_gbps > 0 && bw.float4_gbps > 0, "both copy variants measured: %.2f %.2f",
	      bw.float_gbps, bw.float4_gbps);
	CHECK(bw.best_gbps == (bw.float_gbps > bw.float4_gbps ? bw.float_gbps : bw.float4_gbps),
	      "best is the larger of the two");
	CHECK(bw.bytes == (8u << 20) && bw.runs > 0, "bytes and runs reported");
	CHECK(probe_copy_bandwidth(ctx, dev, 16, &bw, &err) == VB_E_ARGS,
	      "a 16-byte copy is refused with VB_E_ARGS");
	cl.clReleaseContext(ctx);
}

int main(void)
{
	test_matches();
	if (test_section() > 0)
		test_in_process();
	else
		CHECK(1, "device checks # SKIP no OpenCL device");
	CHECK_DONE();
}
