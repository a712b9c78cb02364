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
import numpy as np

import refcheck
from refcheck import ALL, DTYPES, check, rng, run_main, summary, tool_built

SHAPES = [(3, 5, 7), (1, 1, 1), (9, 11, 13), (300, 2, 3), (4, 33, 1)]  # (z, y, x)


def random_stack(shape_zyx, dt, ties=False):
    """Random voxels over the dtype's range; ties=True draws from a few values only."""
    if not ties:
        return refcheck.random_stack(shape_zyx, dt)
    a = rng.integers(0, 4, int(np.prod(shape_zyx))) * 7
    return a.astype(DTYPES[dt]).reshape(shape_zyx)


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
AXES = {"z": (0, lambda r: r), "y": (1, lambda r: r), "x": (2, lambda r: r)}


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
    if not tool_built():
        return 1
    projection_checks()
    reduction_checks()
    histogram_checks()
    return summary("projection/reduction reference")


if __name__ == "__main__":
    run_main(main)
