#!/usr/bin/python3
"""Cross-check the references of ops/rows_math3.def (reference_cpu/math3.c) against numpy.

Runs $BUILD/tests/ref_dump on random stacks of the 5 dtypes and on edge values (saturation
limits, NaN, +-inf, -0, halves, zeros) and compares voxel for voxel with numpy:

  exact ops     float32 compute, then NaN -> 0, trunc, clip (OpenCL convert_<type>_sat);
                round is C's (halves away from zero), modelled as sign(x) * floor(|x| + 0.5)
  gamma         (in / max)^gamma * max in float64 (max ignoring NaN), within a few ulp (the float32
                quotient's rounding is raised to gamma: 16 ulp)
  f32 functions numpy's float32 functions are not correctly rounded, so the expected value is
                the float64 result rounded to float32, and each voxel may differ by 2 ulp of
                itself (glibc's single-precision functions are within 1 ulp)

numpy arrays are (z, y, x). Prints one TAP-like line per check and exits 1 when any failed.
"""
import numpy as np
import scipy.special

from refcheck import ALL, DTYPES, random_stack, run_main, sat, summary, tool_built
from test_scipy_pixel import EDGES, check, f32, via64


def round_half_away(x):
    x = x.astype(np.float64)  # exact: |x| + 0.5 of a float32 fits a float64
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype(np.float32)


# (op, inputs, params, out dtype: "same" or "f32", numpy model of the float32 result, ulps)
def ops(a, b):
    with np.errstate(all="ignore"):
        xa, xb = f32(a), f32(b)
        pos = np.arange(a.size, dtype=np.int64).reshape(a.shape)
        coords = [pos % a.shape[2], pos // a.shape[2] % a.shape[1], pos // (a.shape[2] * a.shape[1])]
        fmax = np.float32(3.4028235e38)
        return [
            ("cubic_root", 1, {}, "f32", via64(np.cbrt, xa), 2),
            ("reciprocal", 1, {}, "f32", np.float32(1) / xa, 0),
            ("square", 1, {}, "f32", xa * xa, 0),
            ("exponential2", 1, {}, "f32", via64(np.exp2, xa), 2),
            ("exponential10", 1, {}, "f32", via64(scipy.special.exp10, xa), 2),
            ("logarithm2", 1, {}, "f32", via64(np.log2, xa), 2),
            ("logarithm10", 1, {}, "f32", via64(np.log10, xa), 2),
            ("ceil", 1, {}, "same", np.ceil(xa), 0),
            ("floor", 1, {}, "same", np.floor(xa), 0),
            ("round", 1, {}, "same", round_half_away(xa), 0),
            ("truncate", 1, {}, "same", np.trunc(xa), 0),
            ("sign", 1, {}, "same", np.sign(xa), 0),
            ("sin", 1, {}, "f32", via64(np.sin, xa), 2),
            ("cos", 1, {}, "f32", via64(np.cos, xa), 2),
            ("tan", 1, {}, "f32", via64(np.tan, xa), 2),
            ("asin", 1, {}, "f32", via64(np.arcsin, xa), 2),
            ("acos", 1, {}, "f32", via64(np.arccos, xa), 2),
            ("atan", 1, {}, "f32", via64(np.arctan, xa), 2),
            ("sinh", 1, {}, "f32", via64(np.sinh, xa), 2),
            ("cosh", 1, {}, "f32", via64(np.cosh, xa), 2),
            ("tanh", 1, {}, "f32", via64(np.tanh, xa), 2),
            ("degrees_to_radians", 1, {}, "f32", xa * np.float32(np.pi / 180), 0),
            ("radians_to_degrees", 1, {}, "f32", xa * np.float32(180 / np.pi), 0),
            ("undefined_to_zero", 1, {}, "same", np.where(np.isfinite(xa), xa, 0), 0),
            ("nan_to_num", 1, {}, "same", np.nan_to_num(xa), 0),
            ("nan_to_num", 1, {"nan": -7.0, "posinf": 5.0, "neginf": 1e9}, "same",
             np.nan_to_num(xa, nan=-7.0, posinf=5.0, neginf=1e9), 0),
            ("divide_scalar_by_image", 1, {"scalar": 7.0}, "f32", np.float32(7) / xa, 0),
            ("divide_scalar_by_image", 1, {"scalar": -0.3}, "f32", np.float32(-0.3) / xa, 0),
            ("replace_value", 1, {"value_to_replace": float(xa.flat[0]),
                                  "value_replacement": 42.0}, "same",
             np.where(xa == xa.flat[0], np.float32(42), xa), 0),
            ("modulo_images", 2, {}, "same", np.fmod(xa, xb), 0),
            ("power_images", 2, {}, "f32", via64(np.power, xa, xb), 2),
        ] + [("multiply_image_and_position", 1, {"dimension": d}, "f32",
              xa * coords[d].astype(np.float32), 0) for d in range(3)] + [
            ("set_nonzero_pixels_to_pixelindex", 1, {"offset": k}, "u32",
             np.where(a != 0, pos + k, 0).astype(np.uint32), 0) for k in (0, 1, 7)] + [
            ("gamma_correction", 1, {"gamma": g}, "f32",
             via64(lambda x: np.power(x / np.float32(np.nanmax(xa)), g) * np.nanmax(xa), xa), 16)
            for g in (1.0, 2.2, 0.45)]


def check_all(dt, a, b, note=""):
    for name, n, params, out, want, ulps in ops(a, b):
        out_dt = dt if out == "same" else out
        check(name, dt, [a, b][:n], params, out_dt, sat(want, out_dt), ulps=ulps, note=note)


def small(shape, dt):
    """Small values with halves (f32, i32 signed): rounding ties, exact remainders."""
    lo = -12 if dt in ("i32", "f32") else 0
    x = np.random.default_rng(7).integers(lo, 13, shape)
    if dt == "f32":
        x = x + 0.5 * np.random.default_rng(8).integers(0, 2, shape)
    return x.astype(DTYPES[dt])


def main():
    if not tool_built():
        return 1
    for dt in ALL:
        check_all(dt, random_stack((3, 5, 7), dt, zeros=0.2), random_stack((3, 5, 7), dt))
        a = small((4, 6, 9), dt)
        check_all(dt, a, np.where(a == 0, 3, a).astype(a.dtype)[::-1].copy(), note="small")
    for dt, vals in EDGES.items():
        a = np.array(vals, dtype=DTYPES[dt]).reshape(1, 1, -1)
        check_all(dt, a, a[:, :, ::-1].copy(), note="edges")
    return summary("math3 reference")


if __name__ == "__main__":
    run_main(main)
