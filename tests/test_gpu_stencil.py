"""The ops of ops/rows_stencil.def on the GPU (PoCL in CI) beyond their default parameters.

The composed filters run other rows' plans (gaussian_blur, minimum/maximum_box, _sphere), whose
kernels change with the parameters: Gaussian radii above 16 leave the sliding-window y/z passes,
zero sigmas drop passes, box radii <= 2 take the tiled kernel, boxes of <= 27 taps the direct one,
larger ones separable passes. Each case runs every listed op against its reference.
"""
import sys

from vbcheck import check, exit_status, run_report

SIZES = "7x5x3,37x19x70"  # 1x1x1 and the defaults: test_gpu_vs_reference.py
DTYPES = "u8,u32,f32"

BOX = "opening_box,closing_box,top_hat_box,bottom_hat_box"
SPHERE = "opening_sphere,closing_sphere,top_hat_sphere"
CASES = [
    ("difference_of_gaussian", {"sigma1_x": 0.5, "sigma1_y": 1.5, "sigma1_z": 0.0,
                                "sigma2_x": 5.0, "sigma2_y": 4.5, "sigma2_z": 1.2}),
    ("difference_of_gaussian", {"sigma1_x": 3.0, "sigma1_y": 0.0, "sigma1_z": 4.5,
                                "sigma2_x": 0.0, "sigma2_y": 0.0, "sigma2_z": 0.0}),
    ("subtract_gaussian_background", {"sigma_x": 0.0, "sigma_y": 5.0, "sigma_z": 1.5}),
    ("subtract_gaussian_background", {"sigma_x": 0.0, "sigma_y": 0.0, "sigma_z": 0.0}),
    (BOX, {"radius_x": 2, "radius_y": 0, "radius_z": 1}),   # tiled
    (BOX, {"radius_x": 4, "radius_y": 0, "radius_z": 1}),   # direct (27 taps)
    (BOX, {"radius_x": 3, "radius_y": 2, "radius_z": 1}),   # separable
    (BOX, {"radius_x": 0, "radius_y": 0, "radius_z": 0}),
    (SPHERE, {"radius_x": 3, "radius_y": 2, "radius_z": 2}),
    (SPHERE, {"radius_x": 0, "radius_y": 1, "radius_z": 0}),
]


def run(args, label):
    rc, rows, _ = run_report(args, label)
    return rc, rows or []


for i, (ops, params) in enumerate(CASES):
    for stack in ("noise", "blobs")[i % 2:i % 2 + 1]:  # alternate: CI time is short
        label = f"{ops.split(',')[0]} {stack} " + " ".join(f"{k}={v:g}" for k, v in params.items())
        args = ["--ops", ops, "--size", SIZES, "--dtype", DTYPES, "--stack", stack]
        for k, v in params.items():
            args += ["--param", f"{k}={v!r}"]
        rc, rows = run(args, label)
        want = len(ops.split(",")) * len(SIZES.split(",")) * len(DTYPES.split(","))
        check(len(rows) == want, f"{label}: {want} rows", f"{len(rows)} rows")
        for r in rows:
            s = r["stack"]
            what = f"{label}: {r['op']} {s['width']}x{s['height']}x{s['depth']} {s['dtype']}"
            ran = all(abs(r["params"][k] - v) < 1e-9 for k, v in params.items())
            d = r["delta"] or {}
            check(ran and r["status"] == "pass" and d.get("mismatches") == 0,
                  what + f" matches the reference (max |delta| {d.get('max_abs')})",
                  f"params {r['params']}, status {r['status']}: {r['reason']}")
        check(rc == 0, f"{label}: exit status 0 when every row passes", f"exit {rc}")

sys.exit(exit_status())
