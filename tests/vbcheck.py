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
