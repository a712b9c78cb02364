#!/usr/bin/python3
"""Cross-check the references of the projection and reduction ops against numpy.

Runs $BUILD/tests/ref_dump on random stacks (every dtype; 1x1x1, odd sizes, a long z) and
compares with numpy in float64:

  projections   max/min (exact, the input's dtype), sum/mean (f32), std (ddof 0 and 1), argmax
                (first index on ties); output layouts z -> (y, x), y -> (z, x), x -> (y, z)
  reductions    max/min (exact), mean, std (ddof 0 and 1), mean squared error, centre of mass
  histogram     numpy.histogram(a, bins, range=(lo, hi)): equal to the count, including voxels
                exactly on the edges, out-of-range voxels (not counted) and the image's own range

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH. Prints one TAP-like line per
check and exits 1 when any failed.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "ref_dump")
OWN_TMP = not os.environ.get("TEST_TMP")
TMP = os.environ.get("TEST_TMP") or tempfile.mkdtemp(prefix="projcheck.")

DTYPES = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "i32": np.int32,
          "f32": np.float32}
ALL = ["u8", "u16", "u32", "i32", "f32"]
SHAPES = [(3, 5, 7), (1, 1, 1), (9, 11, 13), (300, 2, 3), (4, 33, 1)]  # (z, y, x)

failures = 0
checks = 0
rng = np.random.default_rng(20261124)


def report(ok, desc, detail=""):
    global failures, checks
    checks += 1
    if ok:
        print(f"ok - {desc}" + (f" ({detail})" if detail else ""))
    else:
        failures += 1
        print(f"not ok - {desc}: {detail}")
    sys.stdout.flush()


def random_stack(shape_zyx, dt, ties=False):
    """Random voxels over the dtype's range; ties=True draws from a few values only."""
    n = int(np.prod(shape_zyx))
    if ties:
        a = rng.integers(0, 4, n) * 7
    elif dt == "u8":
        a = rng.integers(0, 256, n)
    elif dt == "u16":
        a = rng.integers(0, 65536, n)
    elif dt == "u32":
        a = rng.integers(0, 2**32, n, dtype=np.uint64)
    elif dt == "i32":
        a = np.where(rng.random(n) < 0.5, rng.integers(-1000, 1001, n),
                     rng.integers(-2**31, 2**31, n, dtype=np.int64))
    else:
        a = rng.normal(0.0, 300.0, n)
    return a.astype(DTYPES[dt]).reshape(shape_zyx)


def size_text(shape_zyx):
    d, h, w = shape_zyx
    return f"{w}x{h}x{d}"


counter = [0]


def run_ref(op, inputs, dt, params, out_dt, out_shape):
    counter[0] += 1
    base = os.path.join(TMP, f"r{counter[0]}")
    paths = []
    for i, a in enumerate(inputs):
        p = f"{base}_in{i}.raw"
        np.ascontiguousarray(a).tofile(p)
        paths.append(p)
    out = f"{base}_out.raw"
    cmd = [TOOL, op, size_text(inputs[0].shape), dt] + paths + [out]
    cmd += [f"{k}={v!r}" for k, v in params.items()]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"cannot run {TOOL}: {e}"
    for p in paths:
        os.unlink(p)
    if r.returncode != 0:
        return None, f"ref_dump exited {r.returncode}: {r.stderr.strip()}"
    got = np.fromfile(out, dtype=DTYPES[out_dt])
    os.unlink(out)
    if got.size != int(np.prod(out_shape)):
        return None, f"output holds {got.size} voxels, expected {int(np.prod(out_shape))}"
    return got.reshape(out_shape), ""


def check(op, dt, inputs, params, out_dt, want, tol_rel=None, note=""):
    """tol_rel None: exact (NaN equal to NaN); else |got - want| <= tol_rel * max(1, max|want|)."""
    desc = f"{op} {size_text(inputs[0].shape)} {dt}"
    if params:
        desc += " " + ",".join(f"{k}={v:g}" for k, v in params.items())
    if note:
        desc += f" {note}"
    want = np.asarray(want)
    got, error = run_ref(op, inputs, dt, params, out_dt, want.shape)
    if got is None:
        report(False, desc, error)
        return
    if got.dtype != want.dtype:
        report(False, desc, f"got {got.dtype}, expected {want.dtype}")
        return
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isnan(g) & np.isnan(w), 0.0, np.abs(g - w))
    diff[np.isnan(diff)] = np.inf
    finite = np.abs(w[np.isfinite(w)])
    tol = 0.0 if tol_rel is None else tol_rel * max(1.0, float(finite.max()) if finite.size else 1)
    worst = float(diff.max()) if diff.size else 0.0
    if worst <= tol:
        report(True, desc, f"max|diff| {worst:.3g} <= {tol:.3g}")
    else:
        where = np.unravel_index(int(np.argmax(diff)), diff.shape)
        report(False, desc, f"max|diff| {worst:.6g} > {tol:.3g} at {tuple(int(i) for i in where)}:"
                            f" got {got[where]!r}, expected {want[where]!r}")


def nan_extreme(a, axis, maximum):
    """max/min ignoring NaN (all-NaN: NaN), in the input's dtype."""
    if a.dtype.kind != "f":
        return a.max(axis=axis) if maximum else a.min(axis=axis)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.nanmax(a, axis=axis) if maximum else np.nanmin(a, axis=axis)


def std(a64, axis, ddof):
    n = a64.shape[axis] if axis is not None else a64.size
    if n - ddof <= 0:
        shape = np.delete(a64.shape, axis) if axis is not None else ()
        return np.zeros(shape)
    return a64.std(axis=axis, ddof=ddof)


# --- projections ------------------------------------------------------------------------------

# axis of numpy's (z, y, x) and the transpose that gives clEsperanto's layout
AXES = {"z": (0, lambda r: r), "y": (1, lambda r: r), "x": (2, lambda r: r.T)}


def projection_checks():
    for shape in SHAPES:
        for dt in ALL:
            a = random_stack(shape, dt)
            a64 = a.astype(np.float64)
            for name, (axis, lay) in AXES.items():
                # (1, H, W) for z; y: (1, D, W) = out(x, z); x: (1, H, D) = out(z, y)
                def out(r):
                    return np.ascontiguousarray(lay(r))[None]
                check(f"maximum_{name}_projection", dt, [a], {}, dt, out(a.max(axis=axis)))
                check(f"minimum_{name}_projection", dt, [a], {}, dt, out(a.min(axis=axis)))
                check(f"sum_{name}_projection", dt, [a], {}, "f32",
                      out(a64.sum(axis=axis)).astype(np.float32), tol_rel=1e-7)
                check(f"mean_{name}_projection", dt, [a], {}, "f32",
                      out(a64.mean(axis=axis)).astype(np.float32), tol_rel=1e-7)
            for ddof in (0, 1):
                check("std_z_projection", dt, [a], {"ddof": ddof}, "f32",
                      std(a64, 0, ddof)[None].astype(np.float32), tol_rel=1e-6)
            check("arg_maximum_z_projection", dt, [a], {}, "u32",
                  a.argmax(axis=0)[None].astype(np.uint32))
            t = random_stack(shape, dt, ties=True)
            check("arg_maximum_z_projection", dt, [t], {}, "u32",
                  t.argmax(axis=0)[None].astype(np.uint32), note="ties: first index")
    # NaN: ignored by min/max and argmax, an all-NaN line gives NaN (argmax 0)
    a = rng.normal(0, 10, (5, 3, 4)).astype(np.float32)
    a[1, 0, 0] = a[0, 1, 1] = a[4, 2, 3] = np.nan
    a[:, 2, 2] = np.nan
    for name, (axis, lay) in AXES.items():
        for maximum, op in ((True, "maximum"), (False, "minimum")):
            if name == "z" and maximum:
                continue  # maximum_z_projection (rows_foundation.def) keeps a NaN at z = 0
            want = np.ascontiguousarray(lay(nan_extreme(a, axis, maximum)))[None]
            check(f"{op}_{name}_projection", "f32", [a], {}, "f32", want, note="with NaN")
    want = np.where(np.isnan(a).all(axis=0), 0, np.nanargmax(np.where(np.isnan(a), -np.inf, a),
                                                            axis=0))
    check("arg_maximum_z_projection", "f32", [a], {}, "u32", want[None].astype(np.uint32),
          note="with NaN")


# --- reductions ---------------------------------------------------------------------------------

def reduction_checks():
    for shape in SHAPES + [(2, 300, 301)]:
        for dt in ALL:
            a = random_stack(shape, dt)
            b = random_stack(shape, dt)
            a64 = a.astype(np.float64)
            one = (1, 1, 1)
            check("maximum_of_all_pixels", dt, [a], {}, dt, a.max().reshape(one))
            check("minimum_of_all_pixels", dt, [a], {}, dt, a.min().reshape(one))
            check("mean_of_all_pixels", dt, [a], {}, "f32",
                  np.float32(a64.mean()).reshape(one), tol_rel=1e-7)
            for ddof in (0, 1):
                check("standard_deviation_of_all_pixels", dt, [a], {"ddof": ddof}, "f32",
                      np.float32(std(a64, None, ddof)).reshape(one), tol_rel=1e-7)
            check("mean_squared_error", dt, [a, b], {}, "f32",
                  np.float32(((a64 - b.astype(np.float64)) ** 2).mean()).reshape(one),
                  tol_rel=1e-7)
            z, y, x = np.indices(shape)
            with np.errstate(all="ignore"):
                com = [(c * a64).sum() / a64.sum() for c in (x, y, z)]
            check("center_of_mass", dt, [a], {}, "f32",
                  np.array(com, dtype=np.float32).reshape(1, 1, 3), tol_rel=1e-6)
    a = np.zeros((2, 2, 2), dtype=np.float32)
    check("center_of_mass", "f32", [a], {}, "f32", np.full((1, 1, 3), np.nan, np.float32),
          note="all zero gives NaN")


# --- histogram ----------------------------------------------------------------------------------

def hist_check(a, dt, bins, lo=None, hi=None, note=""):
    params = {"num_bins": bins}
    if lo is not None:
        params.update(minimum_intensity=float(lo), maximum_intensity=float(hi))
        rng_ = (float(lo), float(hi))
    else:
        # the image's own range, as Python floats (see the row's help)
        rng_ = (float(a.min()), float(a.max()))
    want, _ = np.histogram(a, bins=bins, range=rng_)
    check("histogram", dt, [a], params, "u32", want.astype(np.uint32).reshape(1, 1, bins),
          note=note)


def histogram_checks():
    for dt in ALL:
        for shape in ((3, 5, 7), (1, 1, 1), (9, 11, 13)):
            a = random_stack(shape, dt)
            for bins in (1, 7, 256):
                hist_check(a, dt, bins, note="image range")
        a = random_stack((9, 11, 13), dt)
        lo, hi = np.percentile(a.astype(np.float64), [20, 70])
        if dt != "f32":
            lo, hi = np.floor(lo), np.ceil(hi)
        for bins in (3, 10, 100):
            hist_check(a, dt, bins, lo, hi, note="explicit range, out-of-range voxels dropped")
        # voxels exactly on the range's ends and on inner edges
        if dt == "f32":
            vals = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 0.1, 0.3, 0.7, 0.2],
                            dtype=np.float32)
            lo, hi = 0.0, 1.0
        elif dt == "i32":
            vals = np.array([-20, -10, -5, 0, 5, 10, 11, 9, -11, 3, -3, 7], dtype=np.int32)
            lo, hi = -10, 10
        else:
            vals = np.array([0, 10, 15, 20, 25, 30, 40, 50, 60, 9, 51, 12], dtype=DTYPES[dt])
            lo, hi = 10, 50
        a = np.tile(vals, 3).reshape(3, 3, 4)
        for bins in (4, 8, 3):
            hist_check(a, dt, bins, lo, hi, note="edge values")
        hist_check(a, dt, 4, note="edge values, image range")
    # fractional ranges over integers, a constant image (range widened by 0.5), huge values
    a = np.arange(60, dtype=np.uint16).reshape(3, 4, 5)
    hist_check(a, "u16", 7, 2.5, 40.3, note="fractional edges")
    hist_check(a, "u16", 3, 0.1, 0.2, note="range between integers")
    want, _ = np.histogram(a, bins=5, range=(0.0, 59.0))
    check("histogram", "u16", [a], {"num_bins": 5, "minimum_intensity": 30.0,
                                    "maximum_intensity": 2.0}, "u32",
          want.astype(np.uint32).reshape(1, 1, 5), note="inverted range: the image's own")
    a = np.full((2, 3, 4), 77, dtype=np.int32)
    hist_check(a, "i32", 5, note="constant image")
    a = np.array([0, 2**32 - 1, 2**31, 2**32 - 2, 5, 2**32 - 3], dtype=np.uint32).reshape(1, 2, 3)
    hist_check(a, "u32", 4, note="u32 extremes")
    hist_check(a, "u32", 3, 2**32 - 3, 2**32 - 1, note="u32 top values")
    a = rng.normal(0, 1, (4, 5, 6)).astype(np.float32)
    a[0, 0, :3] = np.nan
    want, _ = np.histogram(a[~np.isnan(a)], bins=6, range=(-1.0, 1.0))
    check("histogram", "f32", [a], {"num_bins": 6, "minimum_intensity": -1.0,
                                    "maximum_intensity": 1.0}, "u32",
          want.astype(np.uint32).reshape(1, 1, 6), note="NaN not counted")


def main():
    if not os.access(TOOL, os.X_OK):
        report(False, "ref_dump is built", f"{TOOL} is missing; run make first")
        return 1
    projection_checks()
    reduction_checks()
    histogram_checks()
    print(f"# {checks - failures} of {checks} projection/reduction reference checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        if OWN_TMP:
            shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(status)
