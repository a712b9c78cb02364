"""`voxbench run` end to end: the JSON report's fields and arithmetic, the kernel disk cache,
and a kernel that fails to build becoming an error row while the run goes on."""
import json
import os
import re
import shutil
import subprocess
import sys

from vbcheck import check, exit_status

VOXBENCH = os.environ["VOXBENCH"]
TMP = os.environ["TEST_TMP"]
KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels")


def run(args, env=None):
    path = os.path.join(TMP, "r.json")
    if os.path.exists(path):
        os.remove(path)
    proc = subprocess.run([VOXBENCH, "run", "--out", path] + args, capture_output=True,
                          text=True, env=dict(os.environ, **(env or {})))
    report = json.load(open(path)) if os.path.exists(path) else None
    return proc, report


# --- fields and arithmetic of a report
proc, rep = run(["--ops", "add_images,gaussian_blur,sum_of_all_pixels,maximum_z_projection",
                 "--size", "40x30x20", "--dtype", "u16", "--repeat", "3", "--cpu-threads", "1"])
check(proc.returncode == 0 and rep is not None, "a run writes its report", proc.stderr)
check(rep["schema"] == "voxbench-report/1", "schema is voxbench-report/1", rep["schema"])
check(re.fullmatch(r"\d+\.\d+\.\d+", rep["voxbench_version"]) is not None, "version is x.y.z")
check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rep["created"]) is not None,
      "created is ISO 8601 UTC", rep["created"])
host = rep["host"]
check(host["cpu_threads"] >= 1 and host["memory_bytes"] > 1 << 20 and host["hostname"]
      and host["kernel"].startswith("Linux"), "host fields are filled", str(host))
dev = rep["devices"][0]
for key in ["backend", "platform", "name", "vendor", "driver_version", "type"]:
    check(isinstance(dev[key], str) and dev[key] != "", f"device {key} is a non-empty string",
          repr(dev.get(key)))
for key in ["global_mem_bytes", "max_alloc_bytes", "compute_units", "max_clock_mhz",
            "local_mem_bytes"]:
    check(isinstance(dev[key], int) and dev[key] > 0, f"device {key} is a positive integer",
          repr(dev.get(key)))
check(dev["copy_gbps"] > 0, "the device carries the copy bandwidth the probe measured",
      repr(dev.get("copy_gbps")))
rows = {r["op"]: r for r in rep["results"]}
check(len(rows) == 4, "one row per op", str(list(rows)))
voxels = 40 * 30 * 20
expect_bytes = {"add_images": 3 * voxels * 2, "gaussian_blur": voxels * 2 + voxels * 4,
                "sum_of_all_pixels": voxels * 2 + 4, "maximum_z_projection": voxels * 2 + 40 * 30 * 2}
for op, r in rows.items():
    g = r["gpu_ms"]
    check(r["status"] == "pass", f"{op} passes", r["reason"])
    check(r["backend"] == "opencl" and r["device"] == dev["name"], f"{op} names backend and device")
    check(r["stack"] == {"name": "blobs", "source": "synthetic seed=42", "width": 40, "height": 30,
                         "depth": 20, "dtype": "u16"}, f"{op} stack", str(r["stack"]))
    check(g["runs"] == 3 and 0 < g["min"] <= g["median"] <= g["max"],
          f"{op} gpu_ms has 3 runs, min <= median <= max", str(g))
    check(r["cpu_threads"] == 1 and r["cpu_ms"] > 0, f"{op} cpu_ms on 1 thread", str(r["cpu_ms"]))
    check(r["cpu_runs"] == 3 and 0 < r["cpu_ms_min"] <= r["cpu_ms"] <= r["cpu_ms_max"],
          f"{op} the CPU reference's runs and their spread",
          str((r.get("cpu_runs"), r.get("cpu_ms_min"), r.get("cpu_ms"), r.get("cpu_ms_max"))))
    check(abs(r["speedup"] - r["cpu_ms"] / g["median"]) < 1e-6 * r["speedup"],
          f"{op} speedup = cpu_ms / gpu median")
    total = g["median"] + r["h2d_ms"] + r["d2h_ms"]
    check(abs(r["speedup_with_transfers"] - r["cpu_ms"] / total) < 1e-6 * r["speedup"],
          f"{op} speedup_with_transfers adds the transfers")
    check(r["bytes_moved"] == expect_bytes[op], f"{op} bytes_moved = inputs + output",
          f"{r['bytes_moved']} != {expect_bytes[op]}")
    check(abs(r["effective_gbps"] - r["bytes_moved"] / (g["median"] * 1e6)) < 1e-6 * r["effective_gbps"],
          f"{op} effective_gbps = bytes / time")
    check(abs(r["bandwidth_fraction"] - r["effective_gbps"] / dev["copy_gbps"])
          < 1e-6 * r["bandwidth_fraction"], f"{op} bandwidth_fraction = GB/s / measured copy GB/s")
    check(r["compile_ms"] >= 0 and r["cache"] in ("hit", "miss"), f"{op} compile time and cache")
    check(r["pinned"] is True and r["pin_ms"] is None and r["h2d_ms"] > 0 and r["d2h_ms"] > 0,
          f"{op} OpenCL downloads land in page-locked staging memory (nothing pinned per row); "
          "transfers timed", str((r["pinned"], r["pin_ms"])))
    d = r["delta"]
    check(d["mismatches"] == 0 and d["max_abs"] <= d["tolerance"] and d["rmse"] <= d["max_abs"]
          and d["mean_abs"] <= d["max_abs"], f"{op} delta is consistent", str(d))
_, cropped = run(["--ops", "crop", "--size", "40x30x20", "--dtype", "u16", "--repeat", "1",
                  "--param", "width=4", "--param", "height=3", "--param", "depth=2"])
crop_row = (cropped or {}).get("results", [{}])[0]
check(crop_row.get("bytes_moved") == 2 * 4 * 3 * 2 * 2,
      "crop moves the block it reads and writes (4x3x2 u16, twice), not the whole stack",
      str(crop_row.get("bytes_moved")))
check(rows["add_images"]["params"] == {} and rows["gaussian_blur"]["params"] ==
      {"sigma_x": 2.0, "sigma_y": 2.0, "sigma_z": 2.0}, "params hold every parameter's value",
      str(rows["gaussian_blur"]["params"]))

# --- the disk cache: a fresh folder misses, the same folder then hits, NO_CACHE misses
cache = os.path.join(TMP, "cache")
args = ["--ops", "mean_box", "--size", "8x8x8", "--repeat", "1"]
_, first = run(args, {"VOXBENCH_CACHE_DIR": cache})
_, second = run(args, {"VOXBENCH_CACHE_DIR": cache})
_, off = run(args, {"VOXBENCH_CACHE_DIR": cache, "VOXBENCH_NO_CACHE": "1"})
ahead = first.get("prebuild") or {}
check(ahead.get("programs", 0) >= 1 and ahead.get("failed") == 0 and ahead.get("devices") == 1,
      "a fresh cache: the run's programs are compiled ahead, before its rows", str(ahead))
check(first["results"][0]["cache"] == "hit",
      "a fresh cache: the row then loads what was compiled ahead", first["results"][0]["cache"])
check(len(os.listdir(cache)) >= ahead.get("programs", 1),
      "compiled programs are stored in VOXBENCH_CACHE_DIR", str(os.listdir(cache)))
check(second["results"][0]["cache"] == "hit", "the second run hits the cache")
check(off["results"][0]["cache"] == "miss" and "prebuild" not in off,
      "VOXBENCH_NO_CACHE=1 compiles afresh, at the first launch", str(off.get("prebuild")))
check(ahead.get("beside_references") is False and ahead.get("cpu_ms", -1) >= 0,
      "on a CPU device the programs compile before any reference (and say their CPU time)",
      str(ahead))

# --- overlapping (GPUs, or --overlap on): programs compile in the background beside the first
# references; every row still waits for them (a hit), passes, and the run's time is recorded
_, bg = run(["--ops", "mean_box,threshold_otsu,gaussian_blur", "--size", "16x12x8",
             "--repeat", "1", "--overlap", "on"], {"VOXBENCH_CACHE_DIR": os.path.join(TMP, "bg")})
bg_ahead = (bg or {}).get("prebuild") or {}
check(bg_ahead.get("beside_references") is True and bg_ahead.get("programs", 0) >= 3,
      "--overlap on: compiled ahead beside the references", str(bg_ahead))
check(bg and all(r["cache"] == "hit" and r["status"] == "pass" for r in bg["results"]),
      "--overlap on: every row loads a program compiled ahead, and passes",
      str([(r["op"], r["cache"], r["status"]) for r in (bg or {}).get("results", [])]))
_, two = run(["--ops", "copy", "--size", "8,16", "--repeat", "1", "--overlap", "on"])
_, given = run(["--ops", "copy", "--size", "8,16", "--repeat", "1", "--overlap", "off"])
widths = lambda rep: [r["stack"]["width"] for r in (rep or {}).get("results", [])]
check(widths(two) == [16, 8] and widths(given) == [8, 16],
      "overlapping, the largest size runs first (its references fill the compile); else as given",
      f"{widths(two)} {widths(given)}")
rt = (bg or {}).get("run_time") or {}
check(rt.get("wall_ms", 0) > 0 and rt.get("cpu_ms", -1) >= 0, "the run's wall and CPU time", str(rt))

# --- a kernel that does not build: its rows are errors with the build log, the run goes on
broken = os.path.join(TMP, "kernels")
shutil.copytree(KERNELS, broken)
with open(os.path.join(broken, "projection.cl"), "a") as f:
    f.write("\n__kernel void broken(void) { this is not C; }\n")
proc, rep = run(["--ops", "maximum_z_projection,copy", "--size", "8x8x8", "--repeat", "1"],
                {"VOXBENCH_KERNEL_DIR": broken, "VOXBENCH_NO_CACHE": "1"})
rows = {r["op"]: r for r in rep["results"]} if rep else {}
bad = rows.get("maximum_z_projection", {})
check(bad.get("status") == "error" and "CL_BUILD_PROGRAM_FAILURE" in bad.get("reason", "")
      and "projection.cl" in bad.get("reason", ""),
      "a build failure is an error row naming the error and the file", bad.get("reason", "")[:300])
check(rows.get("copy", {}).get("status") == "pass", "the run goes on after a failing op")
check(proc.returncode == 1, "exit status 1 when a row errored", str(proc.returncode))

# --- the same stop delivered twice at once (timeout(1) signals its command, then the command's
# process group): one graceful stop, the report of the rows so far, marked cut
import signal
import time
cut_out = os.path.join(TMP, "cut_twice.json")
p = subprocess.Popen(["timeout", "-s", "TERM", "6", VOXBENCH, "run", "--probe", "none",
                      "--repeat", "1", "--cpu-runs", "1", "--size", "24,128x128x64", "--ops",
                      "copy,median_sphere", "--param", "radius_x=5", "--param", "radius_y=5",
                      "--param", "radius_z=5", "--cpu-threads", "1", "--out", cut_out],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
err = p.communicate(timeout=120)[1]
doc = json.load(open(cut_out)) if os.path.exists(cut_out) else None
check(doc is not None and (doc.get("cut") or {}).get("signal") == "SIGTERM" and
      "stopped by" in err,
      "timeout(1)'s SIGTERM, sent to the run and to its group: one stop, the report kept",
      (p.returncode, (doc or {}).get("cut"), err[-300:]))

sys.exit(exit_status())
