"""The element-wise ops of ops/rows_math3.def on the GPU (PoCL in CI) beyond their defaults.

1. Parameter paths the defaults do not reach (nan_to_num's values, replace_value on a voxel
   value, a fractional numerator, every dimension of multiply_image_and_position), each row
   against its reference.
2. The f32 functions voxel by voxel: their rows' tolerance is relative to max |ref|, which
   exponentials make huge, so here the saved GPU and reference outputs must agree in every NaN
   and infinity and be within a few ulp of each other at every finite voxel.
"""
import os
import sys

import numpy as np
import tifffile

from vbcheck import check, check_rows, exit_status, run_report, row_name

TMP = os.environ["TEST_TMP"]
SIZES = "7x5x3,130x67x19"
DTYPES = "u8,u16,u32,i32,f32"


CASES = [
    ("nan_to_num", {"nan": -7.0, "posinf": 5.0, "neginf": 1e9}),
    ("replace_value", {"value_to_replace": 0.0, "value_replacement": 77.0}),
    ("divide_scalar_by_image", {"scalar": -0.3}),
    ("multiply_image_and_position", {"dimension": 1}),
    ("multiply_image_and_position", {"dimension": 2}),
    ("set_nonzero_pixels_to_pixelindex", {"offset": 0}),
    ("gamma_correction", {"gamma": 2.2}),
]
for op, params in CASES:
    label = f"{op} " + " ".join(f"{k}={v:g}" for k, v in params.items())
    args = ["--ops", op, "--size", SIZES, "--dtype", DTYPES, "--stack", "noise"]
    for k, v in params.items():
        args += ["--param", f"{k}={v!r}"]
    rc, rows, _ = run_report(args, label)
    check_rows(rows or [], label, 2 * 5, params)
    check(rc == 0, f"{label}: exit status 0 when every row passes", f"exit {rc}")

ULPS = {"cubic_root": 4, "exponential2": 4, "exponential10": 4, "logarithm2": 4,
        "logarithm10": 4, "sin": 5, "cos": 5, "tan": 6, "asin": 5, "acos": 5, "atan": 6,
        "sinh": 5, "cosh": 5, "tanh": 6, "power_images": 17}


def compare_ulps(gpu, ref, ulps):
    """Voxels where gpu and ref differ: NaN against a number, different infinities, or more than
    `ulps` ulp of ref apart (denormals may flush: ulp at least the smallest normal's)."""
    g, w = gpu.astype(np.float64), ref.astype(np.float64)
    same = (g == w) | (np.isnan(g) & np.isnan(w))
    spacing = np.maximum(np.spacing(np.abs(ref.astype(np.float32))), np.float32(1.2e-38))
    with np.errstate(invalid="ignore"):
        close = np.isfinite(g) & np.isfinite(w) & (np.abs(g - w) <= ulps * spacing)
    return ~(same | close)


save = os.path.join(TMP, "ulps")
os.makedirs(save, exist_ok=True)
ops = ",".join(ULPS)
rc, rows, _ = run_report(["--ops", ops, "--size", SIZES, "--dtype", DTYPES, "--stack", "noise"],
                         "ulps", save=save, save_reference=True)
check_rows(rows or [], "ulps", len(ULPS) * 2 * 5, {})
for r in rows or []:
    s = r["stack"]
    base = os.path.join(save, f"{r['op']}_{s['width']}x{s['height']}x{s['depth']}_{s['dtype']}")
    try:
        gpu = tifffile.imread(base + ".tif")
        ref = tifffile.imread(base + "_reference.tif")
    except OSError as e:
        check(False, f"{row_name(r)} outputs saved", str(e))
        continue
    bad = compare_ulps(gpu, ref, ULPS[r["op"]])
    detail = ""
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        detail = f"{int(bad.sum())} voxels, first at {i}: gpu {gpu[i]!r} ref {ref[i]!r}"
    check(not bad.any() and gpu.dtype == np.float32,
          f"{row_name(r)} within {ULPS[r['op']]} ulp of the reference at every voxel, NaN and "
          "infinities equal", detail)

sys.exit(exit_status())
