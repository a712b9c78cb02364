"""The element-wise ops of ops/rows_pixel.def on the GPU (PoCL in CI) beyond their defaults.

1. Parameter paths the defaults do not reach (power's exponents, crossing clip bounds, weights
   whose products round, scalars between and on voxel values), each row against its reference.
2. sqrt/exp/log/pow voxel by voxel: their rows' CMP_FLOAT tolerance is relative to max |ref|,
   which is infinite wherever the reference holds an infinity (exp of large values, log of 0), so
   here the saved GPU and reference outputs must agree in every NaN and infinity and be within a
   few ulp of each other at every finite voxel (OpenCL allows 3 ulp, pow 16).
"""
import os
import sys

import numpy as np
import tifffile

from vbcheck import check, check_rows, exit_status, run_report, row_name

TMP = os.environ["TEST_TMP"]
SIZES = "1x1x1,7x5x3,130x67x19"
DTYPES = "u8,u16,u32,i32,f32"


def run(args, label, save=None):
    rc, rows, _ = run_report(args, label, save=save, save_reference=True)
    return rc, rows or []


# 1. parameter paths: (ops, params)
CASES = [
    ("power", {"scalar": 2.0}), ("power", {"scalar": 0.5}), ("power", {"scalar": -1.0}),
    ("power", {"scalar": 3.7}),
    ("clip", {"min_intensity": 150.0, "max_intensity": 40.0}),
    ("clip", {"min_intensity": -300.5, "max_intensity": 3e9}),
    ("add_images_weighted", {"factor0": 0.3, "factor1": -1.7}),
    ("subtract_image_from_scalar,maximum_image_and_scalar,minimum_image_and_scalar,"
     "equal_constant,not_equal_constant,greater_or_equal_constant,smaller_constant,"
     "smaller_or_equal_constant,greater_constant", {"scalar": 100.5}),
    ("equal_constant,not_equal_constant,greater_or_equal_constant,smaller_constant,"
     "smaller_or_equal_constant", {"scalar": 100.0}),
]
for ops, params in CASES:
    label = f"{ops.split(',')[0]} " + " ".join(f"{k}={v:g}" for k, v in params.items())
    args = ["--ops", ops, "--size", "7x5x3,130x67x19", "--dtype", DTYPES, "--stack", "blobs"]
    for k, v in params.items():
        args += ["--param", f"{k}={v!r}"]
    rc, rows = run(args, label)
    check_rows(rows, label, len(ops.split(",")) * 2 * 5, params)
    check(rc == 0, f"{label}: exit status 0 when every row passes", f"exit {rc}")

# 2. transcendental ops voxel by voxel, through saved outputs
ULPS = {"square_root": 4, "exponential": 4, "logarithm": 4, "power": 17}
TRANSCENDENTAL = [("square_root", {}), ("exponential", {}), ("logarithm", {}),
                  ("power", {"scalar": 2.5}), ("power", {"scalar": -1.0})]


def compare_ulps(gpu, ref, ulps):
    """Voxels where gpu and ref differ: NaN against a number, different infinities, or more than
    `ulps` ulp of ref apart (denormals may flush: ulp at least the smallest normal's)."""
    g, w = gpu.astype(np.float64), ref.astype(np.float64)
    same = (g == w) | (np.isnan(g) & np.isnan(w))
    spacing = np.maximum(np.spacing(np.abs(ref.astype(np.float32))), np.float32(1.2e-38))
    with np.errstate(invalid="ignore"):
        close = np.isfinite(g) & np.isfinite(w) & (np.abs(g - w) <= ulps * spacing)
    return ~(same | close)


for op, params in TRANSCENDENTAL:
    for stack in ("noise", "blobs"):
        save = os.path.join(TMP, f"{op}_{stack}")
        os.makedirs(save, exist_ok=True)
        label = f"{op} {stack} " + " ".join(f"{k}={v:g}" for k, v in params.items())
        args = ["--ops", op, "--size", SIZES, "--dtype", DTYPES, "--stack", stack]
        for k, v in params.items():
            args += ["--param", f"{k}={v!r}"]
        rc, rows = run(args, label, save=save)
        check_rows(rows, label, 3 * 5, params)
        for r in rows:
            s = r["stack"]
            base = os.path.join(save, f"{op}_{s['width']}x{s['height']}x{s['depth']}_{s['dtype']}")
            try:
                gpu = tifffile.imread(base + ".tif")
                ref = tifffile.imread(base + "_reference.tif")
            except OSError as e:
                check(False, f"{label}: {row_name(r)} outputs saved", str(e))
                continue
            bad = compare_ulps(gpu, ref, ULPS[op])
            where = np.argwhere(bad)
            detail = ""
            if where.size:
                i = tuple(where[0])
                detail = f"{int(bad.sum())} voxels, first at {i}: gpu {gpu[i]!r} ref {ref[i]!r}"
            check(not bad.any() and gpu.dtype == np.float32,
                  f"{label}: {row_name(r)} within {ULPS[op]} ulp of the reference at every "
                  f"voxel, NaN and infinities equal", detail)

sys.exit(exit_status())
