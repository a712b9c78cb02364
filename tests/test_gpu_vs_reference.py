"""Every op's GPU result against its CPU reference (the kernels really run: PoCL in CI).

For every dtype and the odd sizes 1x1x1, 7x5x3 and 130x67x19, `voxbench run --ops all` must give
one row per op and size, each passing its comparison (or skipped with a reason). Then the
parameter paths: anisotropic and zero radii, direct and separable box filters, a zero sigma.
"""
import json
import os
import subprocess
import sys

from vbcheck import check, exit_status, run_report

VOXBENCH = os.environ["VOXBENCH"]


def op_names():
    out = subprocess.run([VOXBENCH, "list", "--json"], capture_output=True, text=True, check=True)
    return [op["name"] for op in json.loads(out.stdout)]


def run(args, label):
    rc, rows, _ = run_report(args, label, probe=True)
    return rc, rows or []


def check_rows(rows, label):
    for r in rows:
        size = "%dx%dx%d" % (r["stack"]["width"], r["stack"]["height"], r["stack"]["depth"])
        what = f"{label}: {r['op']} {size} {r['stack']['dtype']}"
        if r["status"] == "skip":
            check(r["reason"] != "", what + " skipped with a reason", r["reason"])
            continue
        d = r["delta"] or {}
        # max |delta| may exceed the tolerance only at voxels the op's ambiguity rule excused
        check(r["status"] == "pass" and d.get("mismatches") == 0
              and (d.get("max_abs", 1e300) <= d.get("tolerance", -1) or d.get("ambiguous")),
              what + f" matches the reference (max |delta| {d.get('max_abs')})",
              f"status {r['status']}: {r['reason']}")


ops = op_names()
sizes = ["1x1x1", "7x5x3", "130x67x19"]
for dtype in ["u8", "u16", "u32", "i32", "f32"]:
    for stack in ["noise", "blobs"]:
        label = f"{dtype} {stack}"
        rc, rows = run(["--ops", "all", "--size", ",".join(sizes), "--dtype", dtype,
                        "--stack", stack], label)
        got = {(r["op"], "%dx%dx%d" % (r["stack"]["width"], r["stack"]["height"],
                                       r["stack"]["depth"])) for r in rows}
        want = {(op, s) for op in ops for s in sizes}
        check(got == want, f"{label}: one row per op and size ({len(want)})",
              f"missing {sorted(want - got)[:5]}")
        check_rows(rows, label)
        check(rc == 0, f"{label}: exit status 0 when every row passes", f"exit {rc}")

# parameter paths of the box filters (ops/plans.c): radii <= 2 take the tiled kernel, other
# boxes of <= 27 taps the direct kernel, larger boxes separable passes; plus zero radii and
# zero sigmas on some axes (the size crosses the tiled kernel's 64-plane chunks)
for params in (["radius_x=2", "radius_y=1", "radius_z=0", "sigma_x=1.5", "sigma_y=0.7",
                "sigma_z=0"],
               ["radius_x=4", "radius_y=0", "radius_z=0", "sigma_x=0", "sigma_y=0.5"],
               ["radius_x=3", "radius_y=2", "radius_z=1", "sigma_x=0", "sigma_y=0", "sigma_z=0"],
               ["radius_x=0", "radius_y=0", "radius_z=0"]):
    label = " ".join(params)
    args = ["--ops", "gaussian_blur,mean_box,minimum_box,maximum_box", "--size", "37x19x70",
            "--dtype", "u16,f32"]
    for p in params:
        args += ["--param", p]
    rc, rows = run(args, label)
    check(len(rows) == 8, f"{label}: 4 filters x 2 dtypes", f"{len(rows)} rows")
    for r in rows:
        for p in params:
            name, value = p.split("=")
            if name in r["params"]:
                check(abs(r["params"][name] - float(value)) < 1e-9,
                      f"{label}: {r['op']} ran with {p}", str(r["params"]))
    check_rows(rows, label)

sys.exit(exit_status())
