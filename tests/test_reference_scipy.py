#!/usr/bin/python3
"""Cross-check the C reference of every op (reference_cpu/) against numpy / scipy.ndimage.

Runs $BUILD/tests/ref_dump on random stacks of several sizes and dtypes, and compares its output
voxel for voxel with the scipy/numpy equivalent of the op's documented semantics:

  pixel math    float32 compute, then NaN -> 0, trunc, clip (OpenCL convert_<type>_sat)
  gaussian_blur scipy gaussian_filter on float64, mode='nearest', radius ceil(4 sigma) per axis
  mean_box      scipy uniform_filter on float64, size 2r+1, mode='nearest'
  min/max box   scipy minimum_filter / maximum_filter, size 2r+1, mode='nearest' (exact)
  projections   numpy max over z; sum in float64

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH. Prints one TAP-like line per
check and exits 1 when any failed.
"""
import math
import os
import subprocess
from functools import partial

import numpy as np
from scipy import ndimage

import refcheck
from refcheck import (ALL, DTYPES, TMP, TOOL, check, report, run_main, sat, size_text, summary,
                      tool_built)

random_stack = partial(refcheck.random_stack, gen=np.random.default_rng(20240611))


# --- element-wise math and comparisons -----------------------------------------------------

PIXEL_SHAPES = [(3, 5, 7), (1, 1, 1), (9, 11, 13), (4, 8, 33)]  # (z, y, x)


def f32(a):
    return a.astype(np.float32)


def pixel_checks():
    with np.errstate(over="ignore", invalid="ignore"):
        for shape in PIXEL_SHAPES:
            for dt in ALL:
                a = random_stack(shape, dt)
                b = random_stack(shape, dt)
                check("copy", dt, [a], {}, dt, a.copy())
                check("add_images", dt, [a, b], {}, dt, sat(f32(a) + f32(b), dt))
                check("subtract_images", dt, [a, b], {}, dt, sat(f32(a) - f32(b), dt))
                check("multiply_images", dt, [a, b], {}, dt, sat(f32(a) * f32(b), dt))
                for s in (2.5, -3.25, 1e10):
                    check("add_image_and_scalar", dt, [a], {"scalar": s}, dt,
                          sat(f32(a) + np.float32(s), dt))
                for s in (2.5, -0.5, 1e6):
                    check("multiply_image_and_scalar", dt, [a], {"scalar": s}, dt,
                          sat(f32(a) * np.float32(s), dt))
                check("absolute", dt, [a], {}, dt, sat(np.abs(f32(a)), dt))
                for s in (float(np.median(a)) + 0.5, -7.0, 0.0):
                    check("greater_constant", dt, [a], {"scalar": s}, "u8",
                          (f32(a) > np.float32(s)).astype(np.uint8))
                za = random_stack(shape, dt, zeros=0.4)
                zb = random_stack(shape, dt, zeros=0.4)
                check("binary_and", dt, [za, zb], {}, "u8",
                      ((za != 0) & (zb != 0)).astype(np.uint8))
    # saturation edges, one explicit stack per dtype
    edges = {
        "u8": [0, 1, 127, 128, 254, 255],
        "u16": [0, 1, 32767, 65534, 65535, 40000],
        "u32": [0, 1, 2**31, 2**32 - 1, 2**32 - 129, 16777217],
        "i32": [-2**31, -2**31 + 1, -1, 0, 2**31 - 1, 2**31 - 65],
        "f32": [-0.0, 0.0, 1.5, -1.5, 3.4e38, -3.4e38],
    }
    for dt, vals in edges.items():
        a = np.array(vals, dtype=DTYPES[dt]).reshape(1, 1, -1)
        b = a[:, :, ::-1].copy()
        with np.errstate(over="ignore", invalid="ignore"):
            check("add_images", dt, [a, b], {}, dt, sat(f32(a) + f32(b), dt), note="edges")
            check("subtract_images", dt, [a, b], {}, dt, sat(f32(a) - f32(b), dt),
                  note="edges")
            check("multiply_images", dt, [a, b], {}, dt, sat(f32(a) * f32(b), dt),
                  note="edges")
            check("absolute", dt, [a], {}, dt, sat(np.abs(f32(a)), dt), note="edges")
            check("binary_and", dt, [a, b], {}, "u8", ((a != 0) & (b != 0)).astype(np.uint8),
                  note="edges")


# --- filters --------------------------------------------------------------------------------

FILTER_SHAPES = [(3, 5, 7), (1, 1, 1), (9, 11, 13), (6, 3, 20)]
SIGMAS = [(1.0, 1.0, 1.0), (1.5, 0.7, 0.0), (0.3, 2.5, 1.2), (0.0, 0.0, 0.0), (3.0, 0.0, 0.5),
          (2.01, 1.05, 0.6)]
RADII = [(1, 1, 1), (2, 1, 0), (0, 0, 0), (3, 0, 2), (5, 4, 6)]


def gaussian_radius(sigma):
    return int(math.ceil(4.0 * sigma)) if sigma > 0 else 0


def filter_checks():
    for shape in FILTER_SHAPES:
        for dt in ALL:
            a = random_stack(shape, dt)
            a64 = a.astype(np.float64)
            for sx, sy, sz in SIGMAS:
                want = ndimage.gaussian_filter(
                    a64, sigma=(sz, sy, sx), mode="nearest", truncate=4.0,
                    radius=(gaussian_radius(sz), gaussian_radius(sy), gaussian_radius(sx)))
                check("gaussian_blur", dt, [a], {"sigma_x": sx, "sigma_y": sy, "sigma_z": sz},
                      "f32", want.astype(np.float32), tol_rel=1e-6)
            for rx, ry, rz in RADII:
                size = (2 * rz + 1, 2 * ry + 1, 2 * rx + 1)
                params = {"radius_x": rx, "radius_y": ry, "radius_z": rz}
                want = ndimage.uniform_filter(a64, size=size, mode="nearest")
                check("mean_box", dt, [a], params, "f32", want.astype(np.float32),
                      tol_rel=1e-6)
                check("minimum_box", dt, [a], params, dt,
                      ndimage.minimum_filter(a, size=size, mode="nearest"))
                check("maximum_box", dt, [a], params, dt,
                      ndimage.maximum_filter(a, size=size, mode="nearest"))
    # An impulse gives the Gaussian's weights back. sigma 3.01: radius ceil(12.04) = 13, where
    # scipy's default int(4 sigma + 0.5) would stop at 12; the tap at 13 weighs 1.2e-5.
    for sigma in (3.01, 0.8):
        r = gaussian_radius(sigma)
        n = 2 * r + 7
        a = np.zeros((1, 1, n), dtype=np.float32)
        a[0, 0, n // 2] = 1.0
        k = np.arange(-r, r + 1, dtype=np.float64)
        w = np.exp(-k * k / (2 * sigma * sigma))
        want = np.zeros(n)
        want[n // 2 - r:n // 2 + r + 1] = w / w.sum()
        check("gaussian_blur", "f32", [a], {"sigma_x": sigma, "sigma_y": 0.0, "sigma_z": 0.0},
              "f32", want.astype(np.float32), tol_rel=1e-7,
              note=f"impulse gives radius {r} weights")
        a = a.reshape(n, 1, 1)
        check("gaussian_blur", "f32", [a], {"sigma_x": 0.0, "sigma_y": 0.0, "sigma_z": sigma},
              "f32", want.astype(np.float32).reshape(n, 1, 1), tol_rel=1e-7,
              note=f"impulse along z gives radius {r} weights")


# --- projections and reductions -------------------------------------------------------------

def reduction_checks():
    for shape in [(3, 5, 7), (1, 1, 1), (9, 11, 13), (17, 4, 6), (2, 300, 301)]:
        for dt in ALL:
            a = random_stack(shape, dt)
            check("maximum_z_projection", dt, [a], {}, dt, a.max(axis=0, keepdims=True))
            check("sum_of_all_pixels", dt, [a], {}, "f32",
                  np.array(a.astype(np.float64).sum(), dtype=np.float32).reshape(1, 1, 1),
                  tol_rel=2.5e-7)


# --- the result does not depend on the thread count -----------------------------------------

def thread_checks():
    shape = (10, 37, 41)
    for dt in ("u16", "f32"):
        a = random_stack(shape, dt)
        a64 = a.astype(np.float64)
        cases = [
            ("gaussian_blur", {"sigma_x": 2.0, "sigma_y": 1.5, "sigma_z": 1.0}, "f32",
             ndimage.gaussian_filter(a64, sigma=(1.0, 1.5, 2.0), mode="nearest",
                                     radius=(4, 6, 8)).astype(np.float32), 1e-6),
            ("mean_box", {"radius_x": 2, "radius_y": 3, "radius_z": 1}, "f32",
             ndimage.uniform_filter(a64, size=(3, 7, 5), mode="nearest").astype(np.float32),
             1e-6),
            ("maximum_box", {"radius_x": 1, "radius_y": 2, "radius_z": 1}, dt,
             ndimage.maximum_filter(a, size=(3, 5, 3), mode="nearest"), None),
            ("sum_of_all_pixels", {}, "f32",
             np.array(a64.sum(), dtype=np.float32).reshape(1, 1, 1), 2.5e-7),
        ]
        for op, params, out_dt, want, tol in cases:
            outs = [check(op, dt, [a], params, out_dt, want, tol_rel=tol, threads=t)
                    for t in (1, 2, 3)]
            if all(o is not None for o in outs):
                same = all(np.array_equal(outs[0], o) for o in outs[1:])
                diff = max(float(np.abs(outs[0].astype(np.float64) - o).max()) for o in outs[1:])
                report(same, f"{op} {size_text(shape)} {dt} identical with 1, 2 and 3 threads",
                       f"max|diff| {diff:.3g}")


# --- ref_dump refuses bad arguments with exit status 2 --------------------------------------

def argument_checks():
    raw = os.path.join(TMP, "args_in.raw")
    np.zeros((2, 3, 4), dtype=np.uint8).tofile(raw)
    out = os.path.join(TMP, "args_out.raw")
    bad = [
        (["no_such_op", "4x3x2", "u8", raw, out], "unknown op"),
        (["copy", "4x3", "u8", raw, out], "file size does not match"),
        (["copy", "4x3x0", "u8", raw, out], "zero size"),
        (["copy", "4x3x2", "u64", raw, out], "unknown dtype"),
        (["add_images", "4x3x2", "u8", raw, out], "missing second input"),
        (["gaussian_blur", "4x3x2", "u8", raw, out, "sigma_x=-1"], "negative sigma"),
        (["mean_box", "4x3x2", "u8", raw, out, "radius_x=1.5"], "non-integer radius"),
        (["mean_box", "4x3x2", "u8", raw, out, "size=3"], "unknown parameter"),
        (["-t", "0", "copy", "4x3x2", "u8", raw, out], "zero threads"),
    ]
    for args, what in bad:
        try:
            r = subprocess.run([TOOL] + args, capture_output=True, text=True, timeout=60)
        except OSError as e:
            report(False, f"ref_dump refuses {what}", f"cannot run {TOOL}: {e}")
            continue
        lines = r.stderr.strip().splitlines()
        report(r.returncode == 2 and len(lines) == 1,
               f"ref_dump refuses {what} with exit 2 and one line",
               f"exit {r.returncode}, stderr {r.stderr.strip()!r}")


def main():
    if not tool_built():
        return 1
    pixel_checks()
    filter_checks()
    reduction_checks()
    thread_checks()
    argument_checks()
    return summary("reference")


if __name__ == "__main__":
    run_main(main)
