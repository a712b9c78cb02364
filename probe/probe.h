/*
 * probe/probe.h: `voxbench probe`, the machine's OpenCL/CUDA set-up diagnosed, with fixes.
 *
 * The probe runs a table of checks, each giving OK / WARN / FAIL / SKIP, a summary, a detail
 * and, when something is wrong, the command that fixes it:
 *
 *   loader       libOpenCL.so.1 loads (which file, which ICD loader, which OpenCL version)
 *   vendors      the folder of .icd files the loader reads (OCL_ICD_VENDORS, OPENCL_VENDOR_PATH,
 *                OCL_ICD_FILENAMES, a conda prefix, /etc/OpenCL/vendors) and that it is not empty
 *   icd          per .icd file: its library loads and resolves clIcdGetPlatformIDsKHR
 *   registered   a known driver library present on the system that no .icd names
 *   devnodes     /dev/dri/renderD*, /dev/kfd, /dev/nvidia*, /dev/dxg: present and openable
 *   environment  WSL, containers, Flatpak, conda, CUDA_VISIBLE_DEVICES, RUSTICL_ENABLE, ...
 *   platforms    per driver, in a child process: its platforms (a crash names its signal)
 *   device       per device: name, type, memory, OpenCL C version, fp64, PCI bus...
 *   smoke        per device: a tiny kernel built, run and every value checked
 *   bench        per device: copy bandwidth, host<->device transfers, launch latency, largest
 *                allocation (skipped by --quick)
 *   cuda         libcuda.so.1, cuInit, driver version, devices (absent CUDA is SKIP)
 *   nvrtc        NVRTC found, its version against the driver's, the devices' architectures
 *   gpu          the verdict: a GPU passed the smoke test, only CPUs did, or nothing works
 *   python       per Python interpreter (--python, $CONDA_PREFIX/bin/python, python3 on PATH),
 *                in a child process: its version, numpy, pyopencl (platforms, the ICD loader it
 *                loaded), pyclesperanto and pyclesperanto_prototype (the device get_device()
 *                picks against the GPU found above), CuPy (one wheel only, its CUDA runtime
 *                against the driver, NVRTC, a smoke op), napari plugins (probe/python.c)
 *
 * Every driver is enumerated in its own child process: a driver that crashes or hangs is reported
 * ("the ICD stub.icd crashed with SIGSEGV while listing platforms") and the others still run.
 * Numbers never depend on the locale. JSON output uses the schema PROBE_SCHEMA.
 */
#ifndef VB_PROBE_H
#define VB_PROBE_H

#include <jansson.h>

#include "../common/vb.h"
#include "../ops/opencl_api.h"
#include "../reports/report.h"

#define PROBE_SCHEMA "voxbench-probe/2"

/* Exit codes of `voxbench probe` (probe_run; cli/cmd_probe.c parses its options). */
enum probe_exit {
	PROBE_EXIT_GPU = 0,    /* a GPU passed the smoke test */
	PROBE_EXIT_CPU = 1,    /* only CPU devices work */
	PROBE_EXIT_ARGS = 2,   /* bad arguments */
	PROBE_EXIT_NONE = 3,   /* no working OpenCL device */
};


#define PROBE_MAX_PYTHON 8

struct probe_options {
	int quick;          /* skip the micro-benchmarks */
	const char *device; /* smoke-test and benchmark only the devices matching this, or NULL */
	const char *python[PROBE_MAX_PYTHON]; /* --python PATH: interpreters to check first */
	size_t npython;
	int no_python;      /* --python none: no Python section */
};

/*
 * Does a device match a --device SPEC? SPEC is the device's probe-wide index ("0", "2"), a
 * device type ("gpu", "cpu", "accelerator"), or a case-insensitive substring of the device's
 * or its platform's name ("h100", "pocl"), as CLIc selects devices.
 */
int probe_device_matches(const char *spec, int index, const char *name, const char *platform,
			 const char *type);

/* Copy bandwidth of one device, counting the bytes read plus the bytes written. */
struct probe_copy_bw {
	double float_gbps;   /* one float per work-item, median of the runs */
	double float4_gbps;  /* one float4 per work-item */
	double best_gbps;    /* the larger of the two */
	size_t bytes;        /* size of each of the two buffers */
	int runs;            /* timed runs per variant (after one warm-up) */
};

/*
 * Measure dev's copy bandwidth inside ctx with device-event timing. bytes is each buffer's
 * size; 0 picks one (256 MiB on a GPU, 64 MiB on a CPU, within the device's allocation limit).
 * Needs cl_api_load() done. VB_E_DEVICE or VB_E_BUILD with err set on failure.
 */
int probe_copy_bandwidth(cl_context ctx, cl_device_id dev, size_t bytes,
			 struct probe_copy_bw *out, struct vb_err *err);


/*
 * The probe's device section, for `voxbench run` to embed in its report: sets "schema",
 * "platforms" and "devices" in the object `section` (each device with its "smoke" and, unless
 * opt->quick, "bench" objects: copy_gbps, h2d/d2h GB/s, launch latency, largest allocation).
 * Call it before the caller's own first OpenCL call: the per-driver children rely on the loader
 * not having read its vendor list yet. VB_E_NOLOADER when libOpenCL.so.1 cannot be loaded.
 */
/* `voxbench probe` with these options: every check printed (or JSON); the exit code above. */
int probe_run(const struct probe_options *opt, int json);
int probe_device_section(json_t *section, const struct probe_options *opt, struct vb_err *err);

/*
 * `voxbench run`'s guard against broken OpenCL drivers, called before its first OpenCL call:
 * the loader is opened, and every registered driver loaded and its platforms listed, in a child
 * first, as the probe does (VOXBENCH_DRIVER_TIMEOUT seconds, default 30, before a driver is
 * called hung). A driver that crashes, hangs or cannot be used is left out of this process's
 * loader (OCL_ICD_VENDORS is pointed at a private folder of the others' .icd files) and named in
 * a line of notes. When the loader itself crashes, or no driver is left, OpenCL is refused for
 * the process (cl_api_refuse) with the reason. Without a loader nothing changes.
 */
struct vet {
	char notes[4096];  /* one line per driver left out, "" when none */
	char folder[4096]; /* the private vendor folder, "" when none was needed */
	int slot;
};
void probe_vet_opencl(struct vet *v);
/* Remove the private folder once the loader has read it (after the first OpenCL call). */
void probe_vet_release(struct vet *v);

#endif
