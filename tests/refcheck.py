"""The shared helpers of the scipy cross-checks (tests/test_reference_scipy.py, test_scipy_*.py).

They run $BUILD/tests/ref_dump (see tests/ref_dump.c) on raw files and compare its output with
numpy / scipy. refcheck provides:

  BUILD, TOOL, TMP   the build folder, the ref_dump path, the scratch folder ($TEST_TMP or a
                     temporary one that run_main() removes)
  DTYPES, ALL, rng   voxbench's dtype names -> numpy, the five of them, the default generator
  report, summary, exit_status
                     one "ok - desc (detail)" / "not ok - desc: detail" line per check (through
                     vbcheck.check), the "# N of M ... checks passed" line, the exit status
  size_text, random_stack, sat
                     WIDTHxHEIGHTxDEPTH of a (z, y, x) shape, random voxels of a dtype, float
                     results stored as convert_<type>_sat does
  run_tool, run_ref, ref, scratch
                     ref_dump's output (flat, reshaped, or reported when missing), a fresh path
  abs_diff, compare, describe, check
                     |got - want| with NaN == NaN and equal infinities equal, the exact or
                     relative-tolerance comparison, a check's description, run-and-compare
  tool_built, run_main
                     the "ref_dump is built" check, main() run with the scratch folder removed

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from vbcheck import check as _vb_check, exit_status

BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "ref_dump")
OWN_TMP = not os.environ.get("TEST_TMP")
TMP = os.environ.get("TEST_TMP") or tempfile.mkdtemp(prefix="refcheck.")

DTYPES = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "i32": np.int32,
          "f32": np.float32}
ALL = ["u8", "u16", "u32", "i32", "f32"]

rng = np.random.default_rng(20261124)

checks = 0
failures = 0
_counter = [0]


# --- reporting ----------------------------------------------------------------------------------

def report(ok, desc, detail=""):
    """One check: "ok - desc (detail)" or "not ok - desc: detail"; counted for summary()."""
    global checks, failures
    checks += 1
    failures += not ok
    _vb_check(ok, f"{desc} ({detail})" if ok and detail else desc, detail)


def summary(what):
    """Print "# N of M <what> checks passed"; returns the exit status."""
    print(f"# {checks - failures} of {checks} {what} checks passed")
    return exit_status()


def tool_built():
    """True when ref_dump is there; else one failing check saying so."""
    if os.access(TOOL, os.X_OK):
        return True
    report(False, "ref_dump is built", f"{TOOL} is missing; run make first")
    return False


def run_main(main):
    """sys.exit(main()), removing the scratch folder when this process made it."""
    try:
        status = main()
    finally:
        if OWN_TMP:
            shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(status)


# --- stacks -------------------------------------------------------------------------------------

def size_text(shape_zyx):
    d, h, w = shape_zyx
    return f"{w}x{h}x{d}"


def _draw(n, dt, full_i32, gen):
    if dt == "u8":
        return gen.integers(0, 256, n)
    if dt == "u16":
        return gen.integers(0, 65536, n)
    if dt == "u32":
        return gen.integers(0, 2**32, n, dtype=np.uint64)
    if dt == "i32" and full_i32:
        return gen.integers(-2**31, 2**31, n, dtype=np.int64)
    if dt == "i32":
        return np.where(gen.random(n) < 0.5, gen.integers(-1000, 1001, n),
                        gen.integers(-2**31, 2**31, n, dtype=np.int64))
    return gen.normal(0.0, 300.0, n)


def random_stack(shape_zyx, dt, zeros=0.0, full_i32=False, gen=None):
    """Random voxels over the dtype's range (f32: signed normal, sd 300; i32: half small, half
    anywhere, or anywhere with full_i32); a fraction `zeros` then set to 0. gen: the generator
    (default: rng)."""
    gen = gen if gen is not None else rng
    n = int(np.prod(shape_zyx))
    a = _draw(n, dt, full_i32, gen).astype(DTYPES[dt])
    if zeros:
        a[gen.random(n) < zeros] = 0
    return a.reshape(shape_zyx)


def sat(x, dt, compute=np.float32):
    """Results -> dtype, as convert_<type>_sat: NaN -> 0, toward zero, saturate. The values are
    first taken as `compute` (float32: the kernels' results; float64: a double result)."""
    x = np.asarray(x, dtype=compute)
    if dt == "f32":
        return x if compute is np.float32 else x.astype(np.float32)
    x = x.astype(np.float64)
    x[np.isnan(x)] = 0.0
    x = np.trunc(x)
    info = np.iinfo(DTYPES[dt])
    return np.clip(x, info.min, info.max).astype(DTYPES[dt])


# --- running ref_dump ---------------------------------------------------------------------------

def ball(rx, ry, rz):
    """voxbench's sphere footprint, (z, y, x): the ellipsoid (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1,
    a radius-0 axis at offset 0 only (ops/geometry.c geom_footprint_runs)."""
    z, y, x = np.mgrid[-rz:rz + 1, -ry:ry + 1, -rx:rx + 1].astype(np.float64)
    t = sum((d / r) ** 2 if r else np.where(d == 0, 0.0, 2.0) for d, r in
            ((x, rx), (y, ry), (z, rz)))
    return t <= 1


def bimodal_cases(rng):
    """Two-population stacks of every dtype (30% near 60, 70% near 170, scaled for f32 and the
    32-bit types), for the thresholds."""
    cases = []
    for dt in ["u8", "u16", "u32", "i32", "f32"]:
        n = (9, 23, 31)
        two = np.where(rng.random(n) < 0.3, rng.normal(60, 10, n), rng.normal(170, 25, n))
        if dt == "f32":
            two = two * 0.37 - 20.0
        if dt in ("u32", "i32"):
            two = two * 1000
        cases.append((dt, two.clip(0 if dt[0] == "u" else -1e9,
                                   255 if dt == "u8" else 1e12).astype(DTYPES[dt])))
    return cases


def scratch(tag="r"):
    """A fresh path prefix in the scratch folder."""
    _counter[0] += 1
    return os.path.join(TMP, f"{tag}{_counter[0]}")


def _command(op, shape, dt, paths, params, threads):
    cmd = [TOOL] + (["-t", str(threads)] if threads else [])
    cmd += [op, size_text(shape), dt] + paths
    return cmd + [f"{k}={v!r}" for k, v in params.items()]


def run_tool(op, inputs, dt, params, out_dt, threads=None):
    """Run ref_dump (-t threads when given); returns (flat output or None, stdout, error text).
    dt may be "T0,T1" for two inputs of different dtypes."""
    base = scratch()
    paths = [f"{base}_in{i}.raw" for i in range(len(inputs))]
    for a, p in zip(inputs, paths):
        np.ascontiguousarray(a).tofile(p)
    out = f"{base}_out.raw"
    cmd = _command(op, inputs[0].shape, dt, paths + [out], params, threads)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "", f"cannot run {TOOL}: {e}"
    for p in paths:
        os.unlink(p)
    if r.returncode != 0:
        return None, r.stdout, f"ref_dump exited {r.returncode}: {r.stderr.strip()}"
    got = np.fromfile(out, dtype=DTYPES[out_dt])
    os.unlink(out)
    return got, r.stdout, ""


def run_ref(op, inputs, dt, params, out_dt, out_shape=None, threads=None):
    """Run ref_dump; returns (array or None, error text). out_shape None: the flat output."""
    got, _, error = run_tool(op, inputs, dt, params, out_dt, threads)
    if got is None or out_shape is None:
        return got, error
    n = int(np.prod(out_shape))
    if got.size != n:
        return None, f"output holds {got.size} voxels, expected {n}"
    return got.reshape(out_shape), ""


def ref(op, inputs, dt, params, out_dt, shape, desc, threads=None):
    """ref_dump's output, or None after a failing check `desc` saying why."""
    got, error = run_ref(op, inputs, dt, params, out_dt, shape, threads)
    if got is None:
        report(False, desc, error)
    return got


# --- comparing ----------------------------------------------------------------------------------

def abs_diff(got, want):
    """|got - want| in float64; 0 where both are NaN or the same infinity, inf for other NaN."""
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(g - w)
    diff[(g == w) | (np.isnan(g) & np.isnan(w))] = 0.0
    diff[np.isnan(diff)] = np.inf
    return diff


def shape_error(got, want):
    """Text when dtype or shape differ, else ""."""
    if got.dtype != want.dtype or got.shape != want.shape:
        return f"got {got.dtype}{got.shape}, expected {want.dtype}{want.shape}"
    return ""


def _tolerance(want, tol_rel):
    if tol_rel is None:
        return 0.0
    w = want.astype(np.float64)
    finite = np.abs(w[np.isfinite(w)])
    return tol_rel * max(1.0, float(finite.max()) if finite.size else 1.0)


def compare(desc, got, want, tol_rel=None):
    """tol_rel None: exact (NaN equal to NaN, equal infinities equal); else
    |got - want| <= tol_rel * max(1, max finite |want|)."""
    error = shape_error(got, want)
    if error:
        report(False, desc, error)
        return
    diff = abs_diff(got, want)
    maxdiff = float(diff.max()) if diff.size else 0.0
    tol = _tolerance(want, tol_rel)
    if maxdiff <= tol:
        report(True, desc, f"max|diff| {maxdiff:.3g} <= {tol:.3g}")
        return
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    zyx = tuple(int(i) for i in where)
    report(False, desc, f"max|diff| {maxdiff:.6g} > tol {tol:.3g} at (z,y,x)={zyx}: "
                        f"got {got[where]!r}, expected {want[where]!r}")


def describe(op, dt, inputs, params, threads=None, note=""):
    """"OP WxHxD DTYPE k=v,... [threads=N] [note]"."""
    desc = f"{op} {size_text(inputs[0].shape)} {dt}"
    if params:
        desc += " " + ",".join(f"{k}={v:g}" for k, v in params.items())
    if threads:
        desc += f" threads={threads}"
    return desc + (f" {note}" if note else "")


def check(op, dt, inputs, params, out_dt, want, tol_rel=None, threads=None, note="",
          default_threads=None):
    """Run op and compare() with want; returns the output or None. threads: ref_dump's -t, named
    in the description; default_threads: its -t otherwise, not named."""
    want = np.asarray(want)
    desc = describe(op, dt, inputs, params, threads, note)
    got = ref(op, inputs, dt, params, out_dt, want.shape, desc, threads or default_threads)
    if got is not None:
        compare(desc, got, want, tol_rel)
    return got
