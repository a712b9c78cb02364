"""A table op's output in the report and as CSV (statistics_of_labelled_pixels).

The row's `table` holds the first rows of the GPU's table with its column names; --save-outputs
writes the whole table as CSV (and --save-reference the CPU's), so the three must agree.
"""
import csv
import json
import math
import os
import subprocess
import sys

from vbcheck import check, exit_status

VOXBENCH = os.environ["VOXBENCH"]
TMP = os.environ["TEST_TMP"]

out_dir = os.path.join(TMP, "outputs")
os.mkdir(out_dir)
report = os.path.join(TMP, "r.json")
proc = subprocess.run([VOXBENCH, "run", "--ops", "statistics_of_labelled_pixels", "--size",
                       "40x30x12", "--dtype", "u16", "--repeat", "1", "--probe", "none",
                       "--save-outputs", out_dir, "--save-reference", "--out", report],
                      capture_output=True, text=True)
check(proc.returncode == 0, "statistics_of_labelled_pixels runs and passes", proc.stderr.strip())
rows = json.load(open(report))["results"] if os.path.exists(report) else []
check(len(rows) == 1 and "table" in rows[0], "the row carries a table", str(rows)[:200])


def read_csv(path):
    with open(path, newline="") as f:
        lines = list(csv.reader(f))
    return lines[0], [[float(v) if v != "" else math.nan for v in line] for line in lines[1:]]


gpu_path = os.path.join(out_dir, "statistics_of_labelled_pixels_40x30x12_u16.csv")
ref_path = os.path.join(out_dir, "statistics_of_labelled_pixels_40x30x12_u16_reference.csv")
check(os.path.exists(gpu_path) and os.path.exists(ref_path), "GPU and reference tables saved as CSV",
      str(os.listdir(out_dir)))
if rows and "table" in rows[0] and os.path.exists(gpu_path) and os.path.exists(ref_path):
    table = rows[0]["table"]
    header, gpu = read_csv(gpu_path)
    _, ref = read_csv(ref_path)
    check(table["columns"] == header and header[:3] == ["label", "area", "sum_intensity"],
          "the report's columns are the CSV header", str(header))
    check(table["rows_total"] == len(gpu) == len(ref) and len(gpu) > 3,
          f"rows_total {table['rows_total']} = CSV rows {len(gpu)} = reference rows {len(ref)}")
    same = all((a is None and math.isnan(b)) or (a is not None and abs(a - b) <= 1e-6 * max(1, abs(b)))
               for jr, cr in zip(table["rows"], gpu) for a, b in zip(jr, cr))
    check(same and len(table["rows"]) == min(1000, len(gpu)),
          "the report's rows are the CSV's first rows")
    check([r[0] for r in gpu] == [float(i + 1) for i in range(len(gpu))],
          "column label runs 1..N")
    area = header.index("area")
    lo, hi, mean = (header.index(c) for c in ("min_intensity", "max_intensity", "mean_intensity"))
    check(all(r[area] >= 1 and r[area] == int(r[area]) for r in gpu),
          "every label of a labelled blob stack has a whole, positive area")
    check(all(r[lo] <= r[mean] + 1e-3 <= r[hi] + 2e-3 for r in gpu), "min <= mean <= max per label")
    worst = max(abs(a - b) / max(1.0, abs(b)) for g, r in zip(gpu, ref) for a, b in zip(g, r)
                if not (math.isnan(a) and math.isnan(b)))
    check(worst <= 1e-5, f"GPU table equals the reference within 1e-5 relative (worst {worst:.2g})")

sys.exit(exit_status())
