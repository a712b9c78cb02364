"""Projections and reductions on the GPU (PoCL in CI) against their references, on the paths the
default parameters and sizes of test_gpu_vs_reference.py do not reach: histogram bin counts and
ranges (fixed, the image's own, inverted = the image's own, 1 and 4096 bins), std ddof 0 and 1,
long z lines, wide x rows, and stacks large enough that every reduction work-item loops.
"""
import sys

from vbcheck import check, exit_status, run_report


def run(args, label):
    rc, rows, _ = run_report(args, label)
    return rc, rows or []


def case(label, ops, size, dtypes, stack, params=()):
    args = ["--ops", ",".join(ops), "--size", size, "--dtype", ",".join(dtypes),
            "--stack", stack]
    for p in params:
        args += ["--param", p]
    rc, rows = run(args, label)
    check(len(rows) == len(ops) * len(dtypes), f"{label}: one row per op and dtype",
          f"{len(rows)} rows")
    for r in rows:
        what = f"{label}: {r['op']} {r['stack']['dtype']}"
        for p in params:
            name, value = p.split("=")
            if name in r["params"]:
                check(abs(r["params"][name] - float(value)) < 1e-9, f"{what} ran with {p}",
                      str(r["params"]))
        d = r["delta"] or {}
        check(r["status"] == "pass" and d.get("mismatches") == 0,
              f"{what} matches the reference (max |delta| {d.get('max_abs')})",
              f"status {r['status']}: {r['reason']}")
    check(rc == 0, f"{label}: exit status 0", f"exit {rc}")
    return rows


HIST = ["histogram"]
case("histogram 7 bins over 100..3000", HIST, "37x19x70", ["u16", "f32"], "blobs",
     ["num_bins=7", "minimum_intensity=100", "maximum_intensity=3000"])
case("histogram 4096 bins, image range", HIST, "64x64x8", ["u32", "f32"], "noise",
     ["num_bins=4096"])
case("histogram 1 bin, fractional range", HIST, "40x30x9", ["u8", "i32"], "noise",
     ["num_bins=1", "minimum_intensity=-0.5", "maximum_intensity=100.25"])
case("histogram inverted range = image range", HIST, "40x30x9", ["u8"], "blobs",
     ["num_bins=50", "minimum_intensity=200", "maximum_intensity=10"])
case("std ddof 0", ["std_z_projection", "standard_deviation_of_all_pixels"], "33x17x40",
     ["u16", "f32"], "blobs", ["ddof=0"])
case("std ddof 1", ["std_z_projection", "standard_deviation_of_all_pixels"], "33x17x40",
     ["i32"], "noise", ["ddof=1"])
case("long z lines", ["minimum_z_projection", "sum_z_projection", "std_z_projection",
                      "arg_maximum_z_projection", "mean_y_projection", "maximum_x_projection"],
     "5x3x700", ["u16", "f32"], "blobs")
case("wide x rows", ["maximum_x_projection", "minimum_x_projection", "sum_x_projection",
                     "mean_x_projection", "center_of_mass"], "1000x3x5", ["u8", "f32"], "noise")
case("every reduction work-item loops", ["maximum_of_all_pixels", "minimum_of_all_pixels",
                                         "mean_of_all_pixels", "standard_deviation_of_all_pixels",
                                         "mean_squared_error", "center_of_mass", "histogram"],
     "300x200x40", ["u16", "f32"], "blobs")

sys.exit(exit_status())
