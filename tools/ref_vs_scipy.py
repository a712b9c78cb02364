#!/usr/bin/python3
"""Every CPU reference against its scipy / numpy equivalent, both on one thread (issue 17).

    /usr/bin/python3 tools/ref_vs_scipy.py [--voxbench build/voxbench] [--size 256x256x128]
                                  [--dtype f32] [--ops LIST] [--report OUT.json] [--limit 1.0]

The CuPy peer calls of ops/conventions.def name, for each op CuPy has, the cupyx.scipy.ndimage
or cupy call with its convention adapter. Run with numpy and scipy standing in for CuPy (the
stand-in of tests/pyfakes.py), those calls are scipy's and numpy's own functions, single-
threaded, on the same stacks and parameters as voxbench's reference, which runs with
--cpu-threads 1. This prints, per op, both times and their ratio (reference / scipy, above
--limit flagged: a reference slower than the library people would otherwise use), as a
Markdown table, slowest ratio first. Rows where the adapter skips or the peer's result does not
pass are listed apart: their time is not the same computation.

A benchmark, not a test: it reads figures, it asserts nothing. The PoCL rows of the same run are
left aside. An existing report (--report with a file from an earlier run and --no-run) is read as
it is.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import pyfakes  # noqa: E402


def cupy_ops():
    """The ops with a CuPy peer call in ops/conventions.def (the others have no scipy side)."""
    text = open(os.path.join(HERE, "..", "ops", "conventions.def")).read()
    return sorted(set(re.findall(r'^\tCUPY\("(\w+)"', text, re.M)))


def fake_cupy(folder):
    """An interpreter whose `cupy` is numpy and whose cupyx.scipy.ndimage is scipy.ndimage."""
    return pyfakes.interpreter(folder, "scipy-as-cupy", pyfakes.cupy_modules(),
                               dists=[("cupy-cuda12x", "13.3.0")])


def run(args, report):
    with tempfile.TemporaryDirectory() as tmp:
        py = fake_cupy(tmp)
        ops = args.ops or ",".join(cupy_ops())
        cmd = [args.voxbench, "run", "--size", args.size, "--dtype", args.dtype, "--ops",
               ops, "--cpu-threads", "1", "--cpu-runs", "3", "--repeat", "3",
               "--probe", "none", "--peer", "cupy", "--python", py, "--out", report]
        print(" ".join(cmd), file=sys.stderr)
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
        if rc > 1:
            sys.exit(f"ref_vs_scipy: voxbench run failed with status {rc}")


def key(row):
    params = ",".join(f"{k}={v}" for k, v in sorted((row.get("params") or {}).items()))
    return (row["op"], params, row["stack"]["dtype"])


def median_ms(timing):
    return timing.get("median") if isinstance(timing, dict) else None


def table(doc, limit):
    refs, peers = {}, {}
    for r in doc.get("results", []):
        if r["backend"] == "cupy":
            peers[key(r)] = r
        elif r.get("cpu_ms") is not None:
            refs.setdefault(key(r), r["cpu_ms"])
    lines, apart = [], []
    for k, p in peers.items():
        ours, theirs = refs.get(k), median_ms(p.get("gpu_ms"))
        if p["status"] != "pass" or ours is None or not theirs:
            apart.append(f"- {k[0]} ({k[2]}): {p['status']} {p.get('reason', '')[:120]}")
            continue
        lines.append((ours / theirs, k, ours, theirs))
    lines.sort(key=lambda x: -x[0])
    flagged = sum(1 for x in lines if x[0] > limit)
    print(f"{len(lines)} ops with a scipy/numpy equivalent; reference slower than it (ratio "
          f"above {limit}): {flagged}\n")
    print("| op | params | dtype | scipy/numpy ms | reference ms | reference / scipy |")
    print("|---|---|---|---|---|---|")
    for ratio, k, ours, theirs in lines:
        mark = " **slower**" if ratio > limit else ""
        print(f"| {k[0]}{mark} | {k[1]} | {k[2]} | {theirs:.2f} | {ours:.2f} | {ratio:.2f} |")
    if apart:
        print("\nNot compared (the stand-in's row is not the same computation):\n")
        print("\n".join(sorted(apart)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voxbench", default=os.path.join(HERE, "..", "build", "voxbench"))
    ap.add_argument("--size", default="256x256x128")
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--ops", default="", help="default: every op with a CuPy peer call")
    ap.add_argument("--report", default="ref_vs_scipy.json")
    ap.add_argument("--no-run", action="store_true", help="read --report as it is")
    ap.add_argument("--limit", type=float, default=1.0)
    args = ap.parse_args()
    if not args.no_run:
        run(args, args.report)
    try:
        with open(args.report) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"ref_vs_scipy: cannot read {args.report}: {e}")
    table(doc, args.limit)


if __name__ == "__main__":
    main()
