#!/usr/bin/python3
"""GPU label4 ops (ops/rows_label4.def) against their references beyond the default runs: the
radii 0, 2 and 3 of the label morphology (0 is a copy, or relabel_sequential alone; 3 crosses
the octagon / ball difference), 0 to 3 erosions and a zero sigma of eroded_otsu_labeling, value
ranges that keep every label, none, or cross; blob and noise stacks, a single plane, odd sizes.
Each row must pass with no mismatching voxel, and the chains must do work (labels found).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from vbcheck import check, exit_status, run_report  # noqa: E402

SIZES = "7x5x3,61x43x9,40x33x1"
MORPH = ["opening_labels", "closing_labels", "smooth_labels", "erode_connected_labels"]
REMOVE = ["remove_labels_with_map_values_out_of_range",
          "remove_labels_with_map_values_within_range"]


def rows_of(ops, params, stack, dtype="u16"):
    args = ["--ops", ",".join(ops), "--size", SIZES, "--dtype", dtype, "--stack", stack,
            "--cpu-runs", "1"]
    for p in params:
        args += ["--param", p]
    label = f"{','.join(ops)} {' '.join(params)} {stack}"
    rc, rows, _ = run_report(args, label, timeout=900)
    check(rc == 0 and rows, f"{label}: every row passes (exit {rc})")
    return rows or []


def row_ok(r, what):
    s = r["stack"]
    d = r["delta"] or {}
    check(r["status"] == "pass" and d.get("mismatches") == 0,
          f"{what}: {r['op']} {s['width']}x{s['height']}x{s['depth']} {s['dtype']} matches the "
          "reference", f"status {r['status']}: {r['reason']}")


for stack in ("blobs", "noise"):
    for radius in (0, 2, 3):
        for r in rows_of(MORPH, [f"radius={radius}"], stack):
            row_ok(r, f"radius={radius} {stack}")
    for k, sigma in ((0, 1), (1, 0), (2, 2), (3, 1)):
        rows = rows_of(["eroded_otsu_labeling"], [f"number_of_erosions={k}",
                                                  f"outline_sigma={sigma}"], stack, "f32")
        for r in rows:
            row_ok(r, f"erosions={k} sigma={sigma} {stack}")
        big = [r for r in rows if r["stack"]["width"] == 61 and r["status"] == "pass"]
        if k <= 1 and stack == "blobs":
            check(big and (big[0]["delta"] or {}).get("labels_ref", 0) > 0,
                  f"eroded_otsu_labeling erosions={k}: labels found at 61x43x9",
                  big[0]["delta"] if big else "no row")
    for lo, hi in ((-1e30, 1e30), (5, 4), (0, 200)):
        for r in rows_of(REMOVE, [f"min_value={lo:g}", f"max_value={hi:g}"], stack):
            row_ok(r, f"range [{lo:g}, {hi:g}] {stack}")

sys.exit(exit_status())
