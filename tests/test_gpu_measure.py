"""Measure ops (ops/rows_measure.def) on the GPU against their CPU reference, on the parameter
paths the defaults do not reach: anisotropic voxel sizes and thin stacks for the distance
transform (lines along one axis only, widths past the 64-wide line groups), large and zero radii
for label dilation and erosion, many labels for the statistics; small stacks so PoCL stays quick.
"""
import sys

from vbcheck import check, exit_status, run_report


def run(ops, size, dtypes, params, stack="noise"):
    args = ["--ops", ops, "--size", size, "--dtype", dtypes, "--stack", stack]
    for name, v in params.items():
        args += ["--param", f"{name}={v}"]
    label = f"{ops} {size} {dtypes} {params} {stack}"
    rc, rows, _ = run_report(args, label)
    if rows is None:
        return
    check(len(rows) >= 1, f"{label}: rows", "no rows")
    for r in rows:
        d = r["delta"] or {}
        ran = {n: float(r["params"][n]) for n in params}
        check(r["status"] == "pass" and d.get("mismatches") == 0 and
              all(abs(ran[n] - float(v)) < 1e-9 for n, v in params.items()),
              f"{label}: {r['op']} {r['stack']['dtype']} matches the reference "
              f"(max |delta| {d.get('max_abs')})", f"status {r['status']}: {r['reason']} {ran}")
    check(rc == 0, f"{label}: exit 0", f"exit {rc}")


EDT = "distance_transform_edt"
run(EDT, "70x33x21", "u8,f32", {"voxel_size_x": 0.5, "voxel_size_y": 2, "voxel_size_z": 3.5})
run(EDT, "70x33x21", "u16,i32", {"voxel_size_x": 1, "voxel_size_y": 0.25, "voxel_size_z": 1},
    stack="blobs")
run(EDT, "300x1x1", "u32", {"voxel_size_x": 0.7})
run(EDT, "1x90x1", "u8", {"voxel_size_y": 1.3})
run(EDT, "3x1x150", "f32", {"voxel_size_z": 0.1})
run(EDT, "65x40x1", "u16", {"voxel_size_x": 2, "voxel_size_y": 0.5}, stack="blobs")
for radius in (0, 1, 4, 9):
    run("dilate_labels", "45x31x17", "u16", {"radius": radius})
run("dilate_labels", "60x40x1", "u8", {"radius": 12}, stack="blobs")
for radius in (0, 2, 4):
    run("erode_labels", "45x31x17", "u16", {"radius": radius}, stack="blobs")
run("erode_labels", "40x30x9", "u8", {"radius": 1})
STATS = "statistics_of_labelled_pixels,centroids_of_labels"
run(STATS, "200x90x17", "u8,u16,u32,i32,f32", {})
run(STATS, "97x61x23", "u16,f32", {}, stack="blobs")


def hot_label():
    """One label over nearly the whole stack, with large intensities: every work-item adds to
    the same accumulators. Float atomics gave its sum an order-dependent error (2.4e6 of 4.7e11
    here, 4.6e6 at 512x512x256 on PoCL); the fixed-point sums are exact to float rounding."""
    import os
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    a = (3e5 + rng.uniform(0, 1e4, (96, 128, 128))).astype(np.float32)
    a[rng.random(a.shape) < 0.02] = 0  # below the mean: the rest is one 26-connected label
    path = os.path.join(os.environ["TEST_TMP"], "hot.tif")
    frames = [Image.fromarray(z, mode="F") for z in a]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    rc, rows, _ = run_report(["--ops", "statistics_of_labelled_pixels", "--input", path],
                             "one hot label")
    for r in rows or []:
        t = r.get("table") or {}
        biggest = max((row[2] for row in t.get("rows", [])), default=0)
        d = r["delta"] or {}
        check(r["status"] == "pass" and biggest > 1e11 and d.get("max_abs", 1e99) <= 1e-6 * biggest,
              "one hot label: sums within 1e-6 of the reference's",
              f"{r['status']} max |delta| {d.get('max_abs')} of {biggest}")


hot_label()
VOTSU = "voronoi_otsu_labeling"
run(VOTSU, "80x60x12", "u16,f32", {"spot_sigma": 1, "outline_sigma": 0.5}, stack="blobs")
run(VOTSU, "80x60x12", "u8", {"spot_sigma": 3.5, "outline_sigma": 3}, stack="blobs")
run("masked_voronoi_labeling", "90x70x15", "u8,f32", {}, stack="blobs")
sys.exit(exit_status())
