#!/usr/bin/python3
"""Cross-check the references of ops/rows_pixel.def (reference_cpu/pixel.c) against numpy.

Runs $BUILD/tests/ref_dump on random stacks of several shapes and the 5 dtypes, plus explicit
edge stacks (saturation limits, NaN, +-inf, -0, division by zero, log and sqrt of 0 and of
negatives), and compares voxel for voxel with numpy following the documented semantics:

  pixel math    float32 compute, then NaN -> 0, trunc, clip (OpenCL convert_<type>_sat)
  sqrt/exp/log/pow  f32 out; numpy's float32 exp/log are not correctly rounded, so the expected
                value is the float64 result rounded to float32, and each voxel may differ by
                2 ulp of itself (glibc's single-precision functions are within 1 ulp)
  comparisons   u8 0/1 of the float32 comparison
  invert        scikit-image's skimage.util.invert (integers exact, f32 1 - x)

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH. Prints one TAP-like line per
check and exits 1 when any failed.
"""
import numpy as np
from skimage.util import invert as sk_invert

from refcheck import (ALL, DTYPES, abs_diff, describe, random_stack, ref, report, rng, run_main,
                      sat, shape_error, summary, tool_built)


def small_stack(shape_zyx, dt):
    """Small values (0..40, f32 -40..40 with halves): exact quotients, integer results."""
    lo = -40 if dt in ("i32", "f32") else 0
    a = rng.integers(lo, 41, shape_zyx)
    if dt == "f32":
        a = a + 0.5 * rng.integers(0, 2, shape_zyx)
    return a.astype(DTYPES[dt])


def ulp_tolerance(want, ulps):
    if not ulps:
        return 0.0
    tol = ulps * np.spacing(np.abs(want.astype(np.float32))).astype(np.float64)
    tol[~np.isfinite(tol)] = 0.0
    return tol


def compare(desc, got, want, ulps=0):
    """ulps 0: exact (NaN equal to NaN, -0 equal to 0); else |got - want| <= ulps ulp of want."""
    error = shape_error(got, want)
    if error:
        report(False, desc, error)
        return
    diff = abs_diff(got, want)
    bad = diff > ulp_tolerance(want, ulps)
    if not bad.any():
        report(True, desc, f"max|diff| {float(diff.max()) if diff.size else 0:.3g}")
        return
    where = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), diff.shape)
    zyx = tuple(int(i) for i in where)
    report(False, desc, f"{int(bad.sum())} voxels differ; at (z,y,x)={zyx}: got "
                        f"{got[where]!r}, expected {want[where]!r} (a{zyx} of the inputs)")


def check(op, dt, inputs, params, out_dt, want, ulps=0, note=""):
    """Run op with 2 threads and compare() with want, within ulps."""
    desc = describe(op, dt, inputs, params, note=note)
    got = ref(op, inputs, dt, params, out_dt, want.shape, desc, threads=2)
    if got is not None:
        compare(desc, got, want, ulps)


def f32(a):
    return a.astype(np.float32)


def via64(fn, *args):
    """fn over float64 of float32 args, rounded once to float32 (the correctly rounded value,
    but for double rounding, which is far below the tolerance)."""
    with np.errstate(all="ignore"):
        return fn(*[np.asarray(x, dtype=np.float32).astype(np.float64) for x in args]
                  ).astype(np.float32)


def u8(mask):
    return mask.astype(np.uint8)


# --- the ops, as numpy sees them: (name, inputs, params list, out dtype rule, fn) ------------
# fn(a32, b32, params) -> float32 result before the store (or a 0/1 mask for comparisons)

def math_ops():
    w = {"factor0": 0.3, "factor1": -1.7}
    return [
        ("subtract_image_from_scalar", 1, [{"scalar": 0.0}, {"scalar": 1000.5}, {"scalar": -7.25}],
         lambda a, b, p: np.float32(p["scalar"]) - a),
        ("divide_images", 2, [{}], lambda a, b, p: a / b),
        ("maximum_images", 2, [{}], lambda a, b, p: np.fmax(a, b)),
        ("minimum_images", 2, [{}], lambda a, b, p: np.fmin(a, b)),
        ("maximum_image_and_scalar", 1, [{"scalar": 0.0}, {"scalar": 100.5}],
         lambda a, b, p: np.fmax(a, np.float32(p["scalar"]))),
        ("minimum_image_and_scalar", 1, [{"scalar": 0.0}, {"scalar": 100.5}],
         lambda a, b, p: np.fmin(a, np.float32(p["scalar"]))),
        ("absolute_difference", 2, [{}], lambda a, b, p: np.abs(a - b)),
        ("squared_difference", 2, [{}], lambda a, b, p: (a - b) * (a - b)),
        ("add_images_weighted", 2, [{"factor0": 1.0, "factor1": 1.0}, w],
         lambda a, b, p: np.float32(p["factor0"]) * a + np.float32(p["factor1"]) * b),
        ("clip", 1, [{"min_intensity": 20.0, "max_intensity": 100.0},
                     {"min_intensity": -5.5, "max_intensity": 3e9},
                     {"min_intensity": 50.0, "max_intensity": 10.0}],
         lambda a, b, p: np.fmin(np.fmax(a, np.float32(p["min_intensity"])),
                                 np.float32(p["max_intensity"]))),
    ]


TRANSCENDENTAL = [
    ("square_root", [{}], lambda a, p: via64(np.sqrt, a)),
    ("exponential", [{}], lambda a, p: via64(np.exp, a)),
    ("logarithm", [{}], lambda a, p: via64(np.log, a)),
    ("power", [{"scalar": 1.0}, {"scalar": 2.0}, {"scalar": 0.5}, {"scalar": -1.0},
               {"scalar": 3.7}],
     lambda a, p: via64(lambda x: np.power(x, np.float64(np.float32(p["scalar"]))), a)),
]

COMPARE2 = [("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
            ("greater_or_equal", np.greater_equal), ("smaller", np.less),
            ("smaller_or_equal", np.less_equal)]
COMPARE1 = [("equal_constant", np.equal), ("not_equal_constant", np.not_equal),
            ("greater_or_equal_constant", np.greater_equal), ("smaller_constant", np.less),
            ("smaller_or_equal_constant", np.less_equal)]
BINARY2 = [("binary_or", np.logical_or), ("binary_xor", np.logical_xor),
           ("binary_subtract", lambda x, y: x & ~y)]


def check_all(dt, a, b, note=""):
    """Every op of the family on inputs a, b (b also serves as mask and as a binary image)."""
    with np.errstate(all="ignore"):
        a32, b32 = f32(a), f32(b)
        for name, n, plist, fn in math_ops():
            ins = [a, b] if n == 2 else [a]
            for p in plist:
                check(name, dt, ins, p, dt, sat(fn(a32, b32, p), dt), note=note)
        check("mask", dt, [a, b], {}, dt, sat(np.where(b32 != 0, a32, np.float32(0)), dt),
              note=note)
        check("invert", dt, [a], {}, dt, sk_invert(a), note=note)
        for name, plist, fn in TRANSCENDENTAL:
            for p in plist:
                check(name, dt, [a], p, "f32", fn(a32, p), ulps=2, note=note)
        for name, fn in COMPARE2:
            check(name, dt, [a, b], {}, "u8", u8(fn(a32, b32)), note=note)
        finite = a32[np.isfinite(a32)]
        for s in (0.0, float(np.median(finite)) + 0.5, float(a32.flat[-1])):
            for name, fn in COMPARE1:
                check(name, dt, [a], {"scalar": s}, "u8", u8(fn(a32, np.float32(s))),
                      note=note)
        for name, fn in BINARY2:
            check(name, dt, [a, b], {}, "u8", u8(fn(a != 0, b != 0)), note=note)
        check("binary_not", dt, [a], {}, "u8", u8(a == 0), note=note)


SHAPES = [(3, 5, 7), (9, 11, 14)]  # (z, y, x)

EDGES = {
    "u8": [0, 1, 2, 3, 4, 9, 127, 128, 254, 255, 16, 0],
    "u16": [0, 1, 2, 3, 32767, 65534, 65535, 40000, 256, 9, 0, 65535],
    "u32": [0, 1, 2, 3, 2**31, 2**32 - 1, 2**32 - 129, 16777217, 16777216, 9, 0, 2**32 - 1],
    "i32": [-2**31, -2**31 + 1, -1, 0, 2**31 - 1, 2**31 - 65, 1, -9, 16777217, 4, 0, -2**31],
    "f32": [-0.0, 0.0, 1.5, -1.5, 3.4e38, -3.4e38, np.nan, np.inf, -np.inf, 1e-40, -4.0, 89.0],
}


def main():
    if not tool_built():
        return 1
    for shape in SHAPES:
        for dt in ALL:
            a = random_stack(shape, dt, zeros=0.2)
            b = random_stack(shape, dt, zeros=0.2)
            check_all(dt, a, b)
    # small integers: exact quotients (6 / 3 must store 2), integer powers and roots
    for dt in ALL:
        check_all(dt, small_stack((4, 6, 9), dt), small_stack((4, 6, 9), dt), note="small")
    # edges against themselves reversed and against zeros: saturation, NaN, inf, -0, x / 0,
    # 0 / 0, log and sqrt of 0 and of negatives, denormals
    for dt, vals in EDGES.items():
        a = np.array(vals, dtype=DTYPES[dt]).reshape(1, 1, -1)
        check_all(dt, a, a[:, :, ::-1].copy(), note="edges")
        check_all(dt, a, np.zeros_like(a), note="edges vs 0")
    return summary("pixel reference")


if __name__ == "__main__":
    run_main(main)
