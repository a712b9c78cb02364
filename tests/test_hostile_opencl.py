#!/usr/bin/python3
"""tests/test_hostile_opencl.py: broken OpenCL set-ups and a damaged kernel cache.

The kernel cache: entries truncated, overwritten with random bytes, with one byte flipped,
replaced by another entry or by another program, or a FIFO in an entry's place; every later
run still passes, the bad entry is removed with a note and built again.
Drivers (tests/probe_fixtures/stub_icd.c, built here): one that crashes in
clIcdGetPlatformIDsKHR or in its constructor, one that hangs listing platforms, alone and beside
PoCL; a loader named by VOXBENCH_OPENCL_LIBRARY whose constructor crashes; .icd files with CRLF
or spaces around the library name, and one that cannot be read.
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import time

from vbcheck import check, exit_status

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.environ.get("TEST_TMP") or "/tmp/voxbench-test-hostile-opencl"
HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "probe_fixtures", "stub_icd.c")
POCL_ICD = "/etc/OpenCL/vendors/pocl.icd"
FAST = ["--probe", "none", "--repeat", "1", "--cpu-runs", "1"]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OCL_ICD_VENDORS", "OCL_ICD_FILENAMES", "OPENCL_VENDOR_PATH",
                        "VOXBENCH_OPENCL_LIBRARY", "VOXBENCH_NO_CACHE")}
    env["LC_ALL"] = "C"
    env.update(extra)
    return env


def run(args, env, timeout=120):
    t0 = time.monotonic()
    try:
        p = subprocess.run([VOXBENCH] + list(args), capture_output=True, text=True, env=env,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "timeout", "", "", time.monotonic() - t0


def run_report(args, env, timeout=120):
    """`voxbench run ARGS --out R`: (exit status, rows or None, stderr)."""
    out = os.path.join(TMP, "r.json")
    if os.path.exists(out):
        os.remove(out)
    rc, _, err, _ = run(["run", *FAST, *args, "--out", out], env, timeout)
    rows = None
    if os.path.exists(out):
        with open(out) as f:
            rows = json.load(f)["results"]
    return rc, rows, err


# ---- the kernel cache ----

def damage(kind, path, others):
    size = os.path.getsize(path)
    if kind == "truncated":
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    elif kind == "random body":
        with open(path, "wb") as f:
            f.write(random.Random(7).randbytes(size))
    elif kind == "one byte flipped":
        with open(path, "r+b") as f:
            f.seek(size - size // 3)
            b = f.read(1)
            f.seek(size - size // 3)
            f.write(bytes([b[0] ^ 0x40]))
    elif kind == "another entry":
        shutil.copy(others[0], path)
    elif kind == "another program":
        shutil.copy("/bin/true", path)
    elif kind == "a FIFO":
        os.remove(path)
        os.mkfifo(path)


def kernel_cache():
    if not os.path.exists(POCL_ICD):
        check(True, "kernel cache # SKIP PoCL is not installed")
        return
    cache = os.path.join(TMP, "cache")
    env = clean_env(VOXBENCH_CACHE_DIR=cache)
    args = ["--ops", "copy,gaussian_blur,mean_box", "--size", "8x8x8"]
    rc, rows, err = run_report(args, env)
    entries = sorted(glob.glob(os.path.join(cache, "*")))
    check(rc == 0 and len(entries) >= 3, "a first run fills the kernel cache", (rc, entries, err))
    if len(entries) < 2:
        return
    for kind in ("truncated", "random body", "one byte flipped", "another entry",
                 "another program", "a FIFO"):
        rc, rows, err = run_report(args, env, timeout=60)
        hits = [r["cache"] for r in rows or []]
        check(rc == 0 and hits == ["hit"] * 3, f"cache before '{kind}': every row hits",
              (rc, hits, err[-200:]))
        victim = sorted(glob.glob(os.path.join(cache, "*")))[1]
        damage(kind, victim, [e for e in sorted(glob.glob(os.path.join(cache, "*")))
                              if e != victim])
        rc, rows, err = run_report(args, env, timeout=60)
        status = [r["status"] for r in rows or []]
        check(rc == 0 and status == ["pass"] * 3,
              f"a cache entry {kind}: the run passes every row", (rc, status, err[-300:]))
        check("damaged" in err and "removed" in err and os.path.basename(victim) in err,
              f"a cache entry {kind}: a note names the entry, removed", err[-300:])
        check(sum(r["cache"] == "miss" for r in rows or []) == 1,
              f"a cache entry {kind}: its kernel is compiled again (one miss)",
              [r["cache"] for r in rows or []])
        check(os.path.isfile(victim) and not os.path.islink(victim),
              f"a cache entry {kind}: a good entry is stored again", victim)


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (kernel_cache,):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
