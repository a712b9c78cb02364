#!/usr/bin/python3
"""tests/test_probe.py: `voxbench probe` against fake OpenCL set-ups built in $TEST_TMP.

Each scenario points the loader at its own vendor folder (OCL_ICD_VENDORS), as the ICD loader's
own tests do, and asserts the check ids, verdicts and fix texts, the JSON read back, and the exit
status. The fake drivers are tests/probe_fixtures/stub_icd.c, compiled here. Needs no GPU; the
healthy scenarios use PoCL when /etc/OpenCL/vendors/pocl.icd exists.
"""
import json
import os
import shutil
import subprocess
import sys

from vbcheck import check, exit_status

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.environ.get("TEST_TMP") or "/tmp/voxbench-test-probe"
HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "probe_fixtures", "stub_icd.c")
POCL_ICD = "/etc/OpenCL/vendors/pocl.icd"



def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OCL_ICD_VENDORS", "OCL_ICD_FILENAMES", "OPENCL_VENDOR_PATH",
                        "VOXBENCH_OPENCL_LIBRARY", "CUDA_VISIBLE_DEVICES")}
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


def probe(env, *args, json_out=True):
    """Run the probe; returns (exit code, parsed JSON or None, stdout, stderr)."""
    argv = [VOXBENCH, "probe"] + (["--json"] if json_out else []) + list(args)
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    doc = None
    if json_out:
        try:
            doc = json.loads(p.stdout)
        except ValueError as e:
            check(False, f"probe {' '.join(args)} prints JSON", f"{e}: {p.stdout[:300]!r}")
    return p.returncode, doc, p.stdout, p.stderr


def results(doc, cid, subject=None):
    return [c for c in (doc or {}).get("checks", [])
            if c["id"] == cid and (subject is None or c["subject"] == subject)]


def expect(doc, name, cid, status, subject=None, summary=None, fix=None):
    """One result of check `cid` (and subject) has this status, summary and fix text."""
    found = results(doc, cid, subject)
    match = [c for c in found if c["status"] == status
             and (summary is None or summary in c["summary"])
             and (fix is None or fix in c["fix"])]
    check(bool(match), f"{name}: {cid} is {status}"
          + (f" with '{summary}'" if summary else "") + (f", fix '{fix}'" if fix else ""),
          json.dumps(found)[:600])
    return match[0] if match else None


def vendor_dir(name, icds):
    """A fresh vendor folder: {file name: first line}."""
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for fname, line in icds.items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(line + "\n")
    return d


def build_stub(flavour, out, extra=()):
    path = os.path.join(TMP, out)
    cmd = ["gcc", "-shared", "-fPIC", f"-DSTUB_{flavour}", STUB, "-o", path] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, f"stub {flavour} builds", r.stderr[:400])
    return path


def schema_ok(doc, name, code):
    check(doc is not None and doc.get("schema") == "voxbench-probe/2",
          f"{name}: JSON schema voxbench-probe/2")
    for c in (doc or {}).get("checks", []):
        if set(c) != {"id", "subject", "status", "summary", "detail", "fix"} or \
           c["status"] not in ("ok", "warn", "fail", "skip"):
            check(False, f"{name}: every check has id/subject/status/summary/detail/fix", c)
            break
    check((doc or {}).get("summary", {}).get("exit_code") == code,
          f"{name}: JSON summary.exit_code is the exit status {code}")


# ---- scenarios ----

def no_loader():
    env = clean_env(VOXBENCH_OPENCL_LIBRARY="/nonexistent/libOpenCL.so.1")
    code, doc, _, _ = probe(env, "--quick")
    check(code == 3, "no loader: exit 3", code)
    schema_ok(doc, "no loader", 3)
    expect(doc, "no loader", "loader", "fail", summary="/nonexistent/libOpenCL.so.1",
           fix="unset VOXBENCH_OPENCL_LIBRARY")
    expect(doc, "no loader", "loader", "fail", fix="ocl-icd")
    expect(doc, "no loader", "platforms", "skip")
    expect(doc, "no loader", "gpu", "fail", summary="no working OpenCL device")
    code, _, out, _ = probe(env, "--quick", json_out=False)
    check(code == 3 and "No GPU is usable" in out and "[FAIL] loader" in out,
          "no loader: human output names the failure and the fixes", out[-600:])


def empty_folder():
    d = vendor_dir("empty", {})
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 3, "empty vendor folder: exit 3", code)
    schema_ok(doc, "empty vendor folder", 3)
    expect(doc, "empty vendor folder", "vendors", "fail", summary="no .icd file",
           fix="install an OpenCL driver")
    if not os.path.exists(POCL_ICD):
        return
    # PoCL is installed but this folder does not name it: the registered check says so,
    # with the exact command; running that command makes the device appear.
    r = expect(doc, "empty vendor folder", "registered", "warn", subject="libpocl.so.2",
               fix=f"echo libpocl.so.2 > {d}/pocl.icd")
    if r:
        subprocess.run(r["fix"], shell=True, check=False)
        code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
        check(code == 1, "empty vendor folder, after running the fix: exit 1 (PoCL works)", code)
        expect(doc, "after the fix", "smoke", "ok")


def missing_library():
    d = vendor_dir("missing", {"broken.icd": "/nonexistent/libmissing.so"})
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 3, "missing library: exit 3", code)
    schema_ok(doc, "missing library", 3)
    r = expect(doc, "missing library", "icd", "fail", subject="broken.icd",
               summary="/nonexistent/libmissing.so, which does not exist",
               fix=f"rm {d}/broken.icd")
    check(r is not None and "No such file" in r["detail"],
          "missing library: detail carries dlerror's text", r)
    expect(doc, "missing library", "platforms", "skip", subject="broken.icd")


def missing_dependency():
    dep = os.path.join(TMP, "libstubdep.so")
    r = subprocess.run(["gcc", "-shared", "-fPIC", "-x", "c", "-", "-o", dep],
                       input="int stub_dep(void) { return 1; }\n", text=True,
                       capture_output=True)
    check(r.returncode == 0, "stub dependency builds", r.stderr[:300])
    lib = build_stub("DEP", "libneedsdep.so",
                     ["-Wl,--no-as-needed", "-L" + TMP, "-lstubdep"])
    os.remove(dep)
    d = vendor_dir("dep", {"needsdep.icd": lib})
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 3, "missing dependency: exit 3", code)
    expect(doc, "missing dependency", "icd", "fail", subject="needsdep.icd",
           summary="missing a dependency: libstubdep.so", fix="libstubdep.so")


def not_an_icd():
    lib = build_stub("NOT_ICD", "libnoticd.so")
    lib2 = build_stub("NO_ENTRY", "libnoentry.so")
    d = vendor_dir("notanicd", {"stub.icd": lib, "noentry.icd": lib2})
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 3, "library without ICD entry points: exit 3", code)
    schema_ok(doc, "not an ICD", 3)
    expect(doc, "not an ICD", "icd", "fail", subject="stub.icd",
           summary="exports no clGetExtensionFunctionAddress", fix=f"rm {d}/stub.icd")
    expect(doc, "not an ICD", "icd", "fail", subject="noentry.icd",
           summary="does not resolve clIcdGetPlatformIDsKHR", fix=f"rm {d}/noentry.icd")


def crashing_icd():
    lib = build_stub("CRASH", "libcrash.so")
    d = vendor_dir("crash", {"crash.icd": lib})
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 3, "crashing ICD alone: exit 3 (and the probe survived)", code)
    schema_ok(doc, "crashing ICD", 3)
    expect(doc, "crashing ICD", "icd", "ok", subject="crash.icd")
    expect(doc, "crashing ICD", "platforms", "fail", subject="crash.icd",
           summary="crashed with SIGSEGV while listing platforms",
           fix=f"mv {d}/crash.icd {d}/crash.icd.disabled")
    if not os.path.exists(POCL_ICD):
        return
    shutil.copy(POCL_ICD, d)
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 1, "crashing ICD beside PoCL: exit 1, PoCL still tested", code)
    expect(doc, "crashing ICD beside PoCL", "platforms", "fail", subject="crash.icd",
           summary="SIGSEGV")
    expect(doc, "crashing ICD beside PoCL", "platforms", "ok", subject="pocl.icd")
    expect(doc, "crashing ICD beside PoCL", "smoke", "ok")


def healthy_pocl():
    if not os.path.exists(POCL_ICD):
        check(True, "healthy PoCL # SKIP PoCL is not installed")
        return
    d = vendor_dir("pocl", {})
    shutil.copy(POCL_ICD, d)
    env = clean_env(OCL_ICD_VENDORS=d)
    code, doc, _, _ = probe(env)
    check(code == 1, "healthy PoCL: exit 1 (only a CPU device works)", code)
    schema_ok(doc, "healthy PoCL", 1)
    for cid in ("loader", "vendors", "icd", "platforms", "device", "smoke", "bench"):
        bad = [c for c in results(doc, cid) if c["status"] not in ("ok",)]
        check(results(doc, cid) and not bad, f"healthy PoCL: {cid} is ok", bad or "absent")
    expect(doc, "healthy PoCL", "gpu", "warn", summary="no GPU driver is active")
    devs = (doc or {}).get("devices", [])
    check(len(devs) >= 1 and devs[0]["type"] == "cpu" and devs[0]["smoke"]["status"] == "pass",
          "healthy PoCL: a cpu device passed the smoke test", devs[:1])
    bench = devs[0].get("bench", {}) if devs else {}
    for key in ("copy_gbps", "h2d_pageable_gbps", "d2h_pageable_gbps", "h2d_pinned_gbps",
                "d2h_pinned_gbps", "launch_latency_us", "fma_gflops", "max_alloc_ok_bytes"):
        v = bench.get(key)
        check(isinstance(v, (int, float)) and v > 0, f"healthy PoCL: bench {key} > 0", v)
    for key in ("name", "vendor", "driver_version", "global_mem_bytes", "max_alloc_bytes",
                "local_mem_bytes", "compute_units", "opencl_c_version", "fp64",
                "image_support", "max_work_group_size", "unified_memory", "pci_bus"):
        check(devs and key in devs[0], f"healthy PoCL: device has {key}")
    elapsed = (doc or {}).get("summary", {}).get("elapsed_ms", 1e9)
    check(elapsed < 15000, "healthy PoCL: full probe under 15 s", elapsed)
    timings = (doc or {}).get("timings_ms", {})
    # the Python section's per-library results (numpy, cupy...) are timed as its check, "python"
    interpreters = {e["interpreter"] for e in (doc or {}).get("python", [])}
    ids = [c["id"] if c["subject"] not in interpreters else "python"
           for c in (doc or {}).get("checks", [])]
    check(ids and all(isinstance(timings.get(i), (int, float)) and timings[i] >= 0 for i in ids),
          "healthy PoCL: timings_ms has every check's wall time", timings)
    check(timings and sum(timings.values()) <= elapsed * 1.01,
          "healthy PoCL: the checks' times add up to no more than the whole", (timings, elapsed))
    parts = bench.get("parts_ms", {})
    check(sorted(parts) == ["allocation", "copy", "fma", "launch_latency", "transfers"]
          and all(v >= 0 for v in parts.values()),
          "healthy PoCL: the benchmarks' parts are timed", parts)
    vms = [v.get("ms") for v in (doc or {}).get("vendors", {}).get("drivers", [])]
    check(vms and all(isinstance(v, (int, float)) and v > 0 for v in vms),
          "healthy PoCL: each driver's child time is recorded", vms)

    times = []
    for _ in range(2):  # the better of two: a loaded CI machine must not fail it by chance
        code, doc, _, _ = probe(env, "--quick")
        times.append((doc or {}).get("summary", {}).get("elapsed_ms", 1e9))
    expect(doc, "--quick", "bench", "skip", summary="--quick")
    check(min(times) < 2000, "--quick under 2 s (warm driver cache)", times)
    code, doc, _, _ = probe(env, "--quick", "--device", "cpu")
    check(code == 1, "--device cpu: exit 1", code)
    code, doc, _, _ = probe(env, "--quick", "--device", "0")
    check(code == 1, "--device 0: exit 1", code)
    code, doc, _, _ = probe(env, "--quick", "--device", "no-such-device")
    check(code == 3, "--device matching nothing: exit 3", code)
    expect(doc, "--device no-such-device", "smoke", "skip", summary="not selected")
    expect(doc, "--device no-such-device", "gpu", "fail", summary="no device matches")

    code, _, out, _ = probe(env, "--quick", json_out=False)
    check("Used CPU: " in out and "No GPU is usable" in out and "[WARN] gpu" in out,
          "healthy PoCL: human summary names the CPU used", out[-500:])
    check(out.rstrip().splitlines()[-1].startswith("Took "),
          "healthy PoCL: the human output ends with the time it took", out[-200:])


def registered_twice():
    if not os.path.exists(POCL_ICD):
        return
    d = vendor_dir("twice", {})
    shutil.copy(POCL_ICD, os.path.join(d, "pocl.icd"))
    shutil.copy(POCL_ICD, os.path.join(d, "pocl-again.icd"))
    code, doc, _, _ = probe(clean_env(OCL_ICD_VENDORS=d), "--quick")
    check(code == 1, "PoCL registered twice: exit 1", code)
    expect(doc, "registered twice", "registered", "warn", subject="pocl.icd",
           summary="load the same driver", fix=f"rm {d}/pocl.icd")
    # the second registration is not enumerated, smoke-tested and benchmarked again
    expect(doc, "registered twice", "platforms", "skip", subject="pocl.icd",
           summary="the same driver as pocl-again.icd, tested once")
    devs = (doc or {}).get("devices", [])
    check(len(devs) == 1, "registered twice: its device is listed once", len(devs))
    loader = (doc or {}).get("loader") or {}
    if "OCL Icd" not in (loader.get("vendor") or ""):
        return
    # ocl-icd (Debian's loader) ignores OCL_ICD_FILENAMES, which the Khronos loader honours.
    env = clean_env(OCL_ICD_VENDORS=d, OCL_ICD_FILENAMES="libpocl.so.2")
    code, doc, _, _ = probe(env, "--quick")
    expect(doc, "OCL_ICD_FILENAMES under ocl-icd", "vendors", "warn",
           subject="OCL_ICD_FILENAMES", summary="ocl-icd ignores it", fix="OCL_ICD_VENDORS")


def arguments():
    code, _, out, err = probe(clean_env(), "--bogus", json_out=False)
    check(code == 2 and "unknown option" in err, "--bogus: exit 2 with a message", (code, err))
    code, _, out, err = probe(clean_env(), "extra", json_out=False)
    check(code == 2, "a stray argument: exit 2", code)
    code, _, out, err = probe(clean_env(), "--help", json_out=False)
    check(code == 0 and "usage: voxbench probe" in out, "--help: exit 0 and usage", code)


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (arguments, no_loader, empty_folder, missing_library, missing_dependency,
                     not_an_icd, crashing_icd, registered_twice, healthy_pocl):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
