"""The ops of ops/rows_proj3.def, rows_stack3.def and rows_morph3.def on the GPU (PoCL in CI)
with parameters their defaults do not reach: cumulative ops along y and z, ddof 0, strided
copies with negative steps and starts, shifts that wrap, anisotropic and zero radii. Each row
must pass against its reference with the parameters asked for.
"""
import sys

from vbcheck import check, exit_status, run_report

CASES = [
    ("cumulative_sum,cumulative_product,cumulative_max,cumulative_min", {"axis": 1}),
    ("cumulative_sum,cumulative_product,cumulative_max,cumulative_min", {"axis": 2}),
    ("variance_x_projection,variance_y_projection,variance_z_projection,std_x_projection,"
     "std_y_projection", {"ddof": 0}),
    ("range", {"start_x": -1, "stop_x": -65537, "step_x": -2, "start_y": 1, "step_y": 3,
               "start_z": -1, "stop_z": 0, "step_z": -1}),
    ("reduce_stack", {"reduction_factor": 3, "offset": 1}),
    ("sub_stack", {"start_z": 1, "end_z": 2}),
    ("circular_shift", {"shift_x": -3, "shift_y": 70, "shift_z": -1}),
    ("morphological_gradient_box,morphological_gradient_sphere,morphological_laplace_box,"
     "morphological_laplace_sphere,binary_opening_box,binary_opening_sphere,"
     "binary_closing_box,binary_closing_sphere,detect_minima_box",
     {"radius_x": 2, "radius_y": 1, "radius_z": 0}),
]
for ops, params in CASES:
    label = f"{ops.split(',')[0]} " + " ".join(f"{k}={v}" for k, v in params.items())
    args = ["--ops", ops, "--size", "7x5x3,130x67x19", "--dtype", "u8,u16,u32,i32,f32",
            "--stack", "blobs"]
    for k, v in params.items():
        args += ["--param", f"{k}={v}"]
    rc, rows, _ = run_report(args, label)
    rows = rows or []
    want = len(ops.split(",")) * 2 * 5
    check(rows and len(rows) % want == 0, f"{label}: {want} rows per device", f"{len(rows)}")
    for r in rows:
        s = r["stack"]
        what = f"{label}: {r['op']} {s['width']}x{s['height']}x{s['depth']} {s['dtype']}"
        for k, v in params.items():
            if k in r["params"]:
                check(r["params"][k] == v, f"{what} ran with {k}={v}", str(r["params"]))
        d = r["delta"] or {}
        check(r["status"] == "pass" and d.get("mismatches") == 0,
              what + " matches the reference", f"status {r['status']}: {r['reason']}")
    check(rc == 0, f"{label}: exit status 0", f"exit {rc}")

sys.exit(exit_status())
