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


# ---- .icd files ----

def vendor_dir(name, icds, mode=0o644):
    """A fresh vendor folder: {file name: exact bytes}."""
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for fname, data in icds.items():
        path = os.path.join(d, fname)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    return d


def probe_json(env, argv_prefix=()):
    rc, out, err, _ = (lambda p: (p.returncode, p.stdout, p.stderr, 0))(subprocess.run(
        list(argv_prefix) + [VOXBENCH, "probe", "--quick", "--json"], capture_output=True,
        text=True, env=env, timeout=300))
    try:
        return rc, json.loads(out)
    except ValueError:
        return rc, None


def icd_checks(doc, label):
    return [c for c in (doc or {}).get("checks", []) if c["id"] == "icd" and c["subject"] == label]


def icd_names():
    if not os.path.exists(POCL_ICD):
        check(True, "icd names # SKIP PoCL is not installed")
        return
    lib = open(POCL_ICD, "rb").read().strip()
    for what, data, says in (("a CRLF line end", lib + b"\r\n", "carriage return"),
                             ("a space before the name", b" " + lib + b"\n", "spaces before"),
                             ("spaces after the name", lib + b"  \n", "spaces after")):
        d = vendor_dir("icdname", {"pocl.icd": data})
        env = clean_env(OCL_ICD_VENDORS=d)
        rc, doc = probe_json(env)
        found = icd_checks(doc, "pocl.icd")
        check(rc == 3 and found and found[0]["status"] == "fail" and says in found[0]["summary"],
              f"probe of an .icd with {what}: exit 3, icd fails saying '{says}'",
              (rc, found))
        check(found and f"echo '{lib.decode()}'" in found[0]["fix"],
              f"probe of an .icd with {what}: the fix writes the name alone", found)
        rc, rows, err = run_report(["--ops", "copy", "--size", "4x4x4"], env)
        check(rc == 3 and says in err, f"run with an .icd with {what}: exit 3 saying "
              f"'{says}', as the probe does", (rc, err))


def icd_unreadable():
    if not os.path.exists(POCL_ICD):
        check(True, "unreadable icd # SKIP PoCL is not installed")
        return
    d = vendor_dir("unreadable", {"pocl.icd": open(POCL_ICD, "rb").read()}, mode=0)
    prefix = ()
    if os.geteuid() == 0:  # root reads anything: the probe runs as nobody
        if not shutil.which("setpriv"):
            check(True, "unreadable icd # SKIP root without setpriv to drop to nobody")
            return
        os.chmod(TMP, 0o755)
        prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
        if subprocess.run(list(prefix) + [VOXBENCH, "--version"], capture_output=True).returncode:
            check(True, "unreadable icd # SKIP user nobody cannot run the binary here")
            return
    rc, doc = probe_json(clean_env(OCL_ICD_VENDORS=d, HOME="/tmp"), prefix)
    found = icd_checks(doc, "pocl.icd")
    check(rc == 3 and found and "cannot be read" in found[0]["summary"] and
          "Permission denied" in found[0]["summary"] and "empty" not in found[0]["summary"],
          "probe of an .icd of mode 000: 'cannot be read (Permission denied)', not 'empty'",
          (rc, found))
    check(found and f"chmod a+r {d}/pocl.icd" in found[0]["fix"],
          "probe of an .icd of mode 000: the fix is chmod a+r", found)


# ---- drivers that crash or hang ----

def build_stub(flavour):
    path = os.path.join(TMP, f"lib{flavour.lower()}.so")
    r = subprocess.run(["gcc", "-shared", "-fPIC", f"-DSTUB_{flavour}", STUB, "-o", path],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"stub {flavour} builds", r.stderr[:300])
    return path


def broken_drivers():
    if not os.path.exists(POCL_ICD):
        check(True, "broken drivers # SKIP PoCL is not installed")
        return
    pocl = open(POCL_ICD, "rb").read()
    args = ["--ops", "copy", "--size", "4x4x4"]
    for flavour, says in (("CRASH", "crashed with SIGSEGV"), ("CTOR_CRASH", "crashed with SIGSEGV"),
                          ("HANG", "hung")):
        lib = build_stub(flavour).encode() + b"\n"
        where = {"CRASH": "in clIcdGetPlatformIDsKHR", "CTOR_CRASH": "in its constructor",
                 "HANG": "hanging in clIcdGetPlatformIDsKHR"}[flavour]
        alone = vendor_dir(f"{flavour}-alone", {"stub.icd": lib})
        env = clean_env(OCL_ICD_VENDORS=alone, VOXBENCH_DRIVER_TIMEOUT="2")
        t0 = time.monotonic()
        rc, rows, err = run_report(args, env, timeout=60)
        secs = time.monotonic() - t0
        check(rc == 3 and "stub.icd" in err and says in err and secs < 30,
              f"run with one driver {where}: exit 3 in {secs:.0f} s naming it", (rc, err[-300:]))
        beside = vendor_dir(f"{flavour}-pocl", {"stub.icd": lib, "pocl.icd": pocl})
        env = clean_env(OCL_ICD_VENDORS=beside, VOXBENCH_DRIVER_TIMEOUT="2")
        rc, rows, err = run_report(args, env, timeout=60)
        check(rc == 0 and rows and rows[0]["status"] == "pass" and "stub.icd" in err and
              "leaving out" in err, f"run with a driver {where} beside PoCL: PoCL's rows pass, "
              "a note names the one left out", (rc, rows and rows[0]["status"], err[-300:]))
        if flavour == "CRASH":  # the probe embedded in the report, then the run
            out = os.path.join(TMP, "with-probe.json")
            rc, _, err, _ = run(["run", "--probe", "quick", "--repeat", "1", *args, "--out", out],
                                env, timeout=120)
            check(rc == 0 and os.path.exists(out), "run --probe quick with a crashing driver "
                  "beside PoCL: exit 0 with a report", (rc, err[-300:]))
    loader = build_stub("CTOR_CRASH")
    env = clean_env(VOXBENCH_OPENCL_LIBRARY=loader)
    rc, doc = probe_json(env)
    found = [c for c in (doc or {}).get("checks", []) if c["id"] == "loader"]
    check(rc == 3 and found and found[0]["status"] == "fail" and "crashed" in found[0]["summary"]
          and "unset VOXBENCH_OPENCL_LIBRARY" in found[0]["fix"],
          "probe with VOXBENCH_OPENCL_LIBRARY naming a library whose constructor crashes: "
          "exit 3, the loader check says so", (rc, found))
    rc, rows, err = run_report(["--backend", "opencl", *args], env)
    check(rc == 3 and "crashed" in err and loader in err,
          "run with that VOXBENCH_OPENCL_LIBRARY: exit 3 naming it", (rc, err[-300:]))


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (kernel_cache, icd_names, icd_unreadable, broken_drivers):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
