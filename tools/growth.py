#!/usr/bin/env python3
"""How each op's time grows with its size, from one voxbench report with two sizes.

    python3 tools/growth.py REPORT.json [--limit 10] [--all]

The standard suite (`voxbench run --suite standard`) has 256x256x128 and 512x512x256: 8 times
the voxels. For every op, dtype and backend measured at both sizes this prints the growth of the
GPU kernel time, of the CPU reference's time and of the whole row's wall time (large / small),
as a Markdown table, largest GPU growth first. An op whose cost is proportional to its voxels
grows about 8x; a growth above --limit (default 10) is flagged: a superlinear path to explain.
A benchmark, not a test: it reads figures, it asserts nothing. Without --all only the flagged
rows and the ten largest growths are listed.
"""
import argparse
import json
import math
import sys


def key(row):
    params = ",".join(f"{k}={v}" for k, v in sorted((row.get("params") or {}).items()))
    return (row["op"], params, row["stack"]["dtype"], row["backend"])


def voxels(row):
    s = row["stack"]
    return s["width"] * s["height"] * s["depth"]


def number(x):
    return x if isinstance(x, (int, float)) and x > 0 and math.isfinite(x) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--limit", type=float, default=10.0)
    ap.add_argument("--all", action="store_true")
    args = ap.parse_args()
    try:
        with open(args.report) as f:
            rows = json.load(f)["results"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"growth: cannot read {args.report}: {e}")
    sizes = sorted({voxels(r) for r in rows})
    if len(sizes) < 2:
        sys.exit(f"growth: {args.report} has rows of one size only; run two sizes, e.g. "
                 "voxbench run --suite standard")
    small, large = sizes[0], sizes[-1]
    by = {}
    for r in rows:
        if r["status"] == "pass" and voxels(r) in (small, large):
            by.setdefault(key(r), {})[voxels(r)] = r
    lines = []
    for k, pair in by.items():
        if small not in pair or large not in pair:
            continue
        a, b = pair[small], pair[large]
        def grow(get):
            x, y = number(get(a)), number(get(b))
            return y / x if x and y else None
        gpu = grow(lambda r: (r.get("gpu_ms") or {}).get("median"))
        cpu = grow(lambda r: r.get("cpu_ms"))
        wall = grow(lambda r: r.get("wall_ms"))
        lines.append((gpu or 0, k, gpu, cpu, wall))
    lines.sort(key=lambda t: -t[0])
    flagged = [t for t in lines if (t[2] or 0) > args.limit or (t[3] or 0) > args.limit]
    shown = lines if args.all else flagged + [t for t in lines[:10] if t not in flagged]
    fmt = lambda g: f"{g:.1f}" if g else ""
    print(f"Growth from {small} to {large} voxels ({large / small:.1f}x), {len(lines)} rows; "
          f"above {args.limit:g}x: {len(flagged)}")
    print()
    print("| op | params | dtype | backend | GPU growth | CPU growth | row wall growth |")
    print("|---|---|---|---|---|---|---|")
    for _, (op, params, dtype, backend), gpu, cpu, wall in shown:
        mark = " **over**" if (gpu or 0) > args.limit or (cpu or 0) > args.limit else ""
        print(f"| {op}{mark} | {params} | {dtype} | {backend} | {fmt(gpu)} | {fmt(cpu)} | "
              f"{fmt(wall)} |")


if __name__ == "__main__":
    main()
