"""Window filters (ops/rows_filter.def) on the GPU against their CPU reference, on the parameter
paths the default radii do not reach: every median path (the 3x3x3 fast path across its z
chunks, the private array up to 125 voxels, bisection above), large and anisotropic radii,
radius-0 axes, on small stacks so PoCL stays quick.
"""
import sys

from vbcheck import check, exit_status, run_report


def run(ops, size, dtypes, radii, stack="noise"):
    args = ["--ops", ops, "--size", size, "--dtype", dtypes, "--stack", stack]
    for name, r in zip(("radius_x", "radius_y", "radius_z"), radii):
        args += ["--param", f"{name}={r}"]
    label = f"{ops if len(ops) < 40 else 'window filters'} {size} {dtypes} r={radii} {stack}"
    rc, rows, _ = run_report(args, label)
    if rows is None:
        return
    want = len(ops.split(",")) * len(dtypes.split(","))
    check(len(rows) == want, f"{label}: {want} rows", f"{len(rows)} rows")
    for r in rows:
        d = r["delta"] or {}
        ran = tuple(int(r["params"][n]) for n in ("radius_x", "radius_y", "radius_z"))
        check(r["status"] == "pass" and d.get("mismatches") == 0 and ran == tuple(radii),
              f"{label}: {r['op']} {r['stack']['dtype']} matches the reference "
              f"(max |delta| {d.get('max_abs')})", f"status {r['status']}: {r['reason']} {ran}")
    check(rc == 0, f"{label}: exit 0", f"exit {rc}")


# Each (op, dtype, radii) is its own program (the radii are build options) and PoCL builds
# slowly, so the cases are few and chosen per path.
MEDIAN = "median_box,median_sphere"
# 3x3x3 fast path over several 32-plane chunks, odd x/y sizes, every dtype
run("median_box", "37x19x70", "u8,u16,u32,i32,f32", (1, 1, 1))
run("median_box", "37x19x70", "u16,f32", (1, 1, 1), stack="blobs")
# private array: box 5x5x5 = 125 voxels, sphere r=3 = 123; anisotropic 9x3x1
run(MEDIAN, "23x17x13", "u8,f32", (2, 2, 2))
run("median_box", "23x17x13", "f32", (4, 1, 0))
run("median_sphere", "23x17x13", "u16", (4, 1, 0))
run("median_sphere", "23x17x13", "u32", (3, 3, 3))
# bisection: box 7x5x5 = 175, sphere r=4 = 257, radii beyond the stack
run(MEDIAN, "19x11x9", "i32,f32", (3, 2, 2))
run("median_sphere", "19x11x9", "f32", (4, 4, 4))
run("median_box", "13x9x7", "u16", (6, 5, 7))
run(MEDIAN, "16x16x16", "f32", (0, 0, 0))
# the other window filters: anisotropic, radius-0 axes, radii beyond the stack
OTHERS = ("mean_sphere,minimum_sphere,maximum_sphere,variance_box,variance_sphere,"
          "standard_deviation_box,standard_deviation_sphere,erode_box,erode_sphere,"
          "dilate_box,dilate_sphere,detect_maxima_box")
run(OTHERS, "29x17x11", "f32", (3, 1, 2))
run("mean_sphere,minimum_sphere,variance_box", "29x17x11", "i32", (3, 1, 2))
run(OTHERS, "21x17x5", "u8", (0, 4, 0), stack="blobs")
run("mean_sphere,maximum_sphere,variance_sphere,erode_sphere,dilate_box", "13x9x7", "f32",
    (6, 6, 6), stack="blobs")
sys.exit(exit_status())
