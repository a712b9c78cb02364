"""The check helper of voxbench's Python tests: one "ok - ..." or "not ok - ...: ..." line per
check (tests/run.sh counts them); exit_status() is 1 when any check failed."""
import sys

_failures = 0


def check(cond, what, detail=""):
    global _failures
    if cond:
        print(f"ok - {what}")
    else:
        _failures += 1
        print(f"not ok - {what}: {detail}")
    sys.stdout.flush()
    return bool(cond)


def exit_status():
    return 1 if _failures else 0


def run_report(args, label=None, save=None, save_reference=False, probe=False, timeout=None):
    """`voxbench run --repeat 1 --probe none --out TEST_TMP/report.json [--save-outputs SAVE
    [--save-reference]] ARGS` (probe=True leaves the probe on); returns (exit status, result rows,
    stderr). Without a report the rows are None and, given a label, one failing check says why."""
    import json
    import os
    import subprocess

    path = os.path.join(os.environ["TEST_TMP"], "report.json")
    cmd = [os.environ["VOXBENCH"], "run", "--repeat", "1"]
    if not probe:
        cmd += ["--probe", "none"]
    cmd += ["--out", path]
    if save:
        cmd += ["--save-outputs", save] + (["--save-reference"] if save_reference else [])
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)
    stderr = proc.stderr.strip()
    if not os.path.exists(path):
        if label is not None:
            check(False, label, f"no report (exit {proc.returncode}): {stderr}")
        return proc.returncode, None, stderr
    with open(path) as f:
        rows = json.load(f)["results"]
    os.remove(path)
    return proc.returncode, rows, stderr


def row_name(r):
    s = r["stack"]
    return f"{r['op']} {s['width']}x{s['height']}x{s['depth']} {s['dtype']}"


def check_rows(rows, label, want_rows, params):
    """want_rows per device (a machine may show the GPU through OpenCL and CUDA), each run with
    params and matching the reference."""
    check(rows and len(rows) % want_rows == 0, f"{label}: {want_rows} rows per device",
          f"{len(rows)} rows")
    for r in rows:
        what = f"{label}: {row_name(r)}"
        for name, value in params.items():
            if name in r["params"]:
                check(abs(r["params"][name] - value) <= 1e-9 * max(1, abs(value)),
                      f"{what} ran with {name}={value}", str(r["params"]))
        d = r["delta"] or {}
        check(r["status"] == "pass" and d.get("mismatches") == 0,
              what + f" matches the reference (max |delta| {d.get('max_abs')})",
              f"status {r['status']}: {r['reason']}")
