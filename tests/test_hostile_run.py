#!/usr/bin/python3
"""tests/test_hostile_run.py: `voxbench run`, `info` and `list` given hostile arguments and
targets: special files as inputs, outputs that are devices, links, folders or too long, empty
values, two inputs of one shape, signals while outputs are saved, small resource limits.

Each bad case ends with one clear line and a non-zero exit, never a hang, a crash, a replaced
device or a file left behind.
"""
import glob
import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time

from vbcheck import check, exit_status

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.environ.get("TEST_TMP") or "/tmp/voxbench-test-hostile-run"
STACKS = os.path.join(os.environ.get("VB_DATA", ""), "stacks")
HEAD = os.path.join(STACKS, "05_mini-t1-head_ImageJ_u16.tif")
FAST = ["--probe", "none", "--repeat", "1", "--cpu-runs", "1"]


def run(*args, timeout=60, env=None, preexec=None, stdin=None):
    """(exit status, stdout, stderr, seconds); a hang is exit 'timeout'."""
    t0 = time.monotonic()
    try:
        p = subprocess.run([VOXBENCH] + list(args), capture_output=True, text=True,
                           timeout=timeout, env=env, preexec_fn=preexec, stdin=stdin)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "timeout", "", "", time.monotonic() - t0


def one_line(what, res, code=2, says=None):
    rc, out, err, _ = res
    lines = err.strip("\n").split("\n") if err.strip() else []
    ok = rc == code and len(lines) == 1 and (says is None or says in err)
    check(ok, f"{what}: exit {code} with one line" + (f" saying '{says}'" if says else ""),
          f"exit {rc}, stderr {err[-300:]!r}")


def special_files():
    fifo = os.path.join(TMP, "fifo.tif")
    os.mkfifo(fifo)
    one_line("info of a FIFO", run("info", fifo, timeout=10), says="not a regular file")
    one_line("run --input of a FIFO", run("run", *FAST, "--input", fifo, timeout=10),
             says="not a regular file")
    one_line("run --input of a character device", run("run", *FAST, "--input", "/dev/zero",
                                                      timeout=10), says="not a regular file")
    one_line("run --input of a folder", run("run", *FAST, "--input", TMP, timeout=10),
             says="not a regular file")
    fifo_json = os.path.join(TMP, "fifo.json")
    os.mkfifo(fifo_json)
    one_line("report of a FIFO", run("report", fifo_json, "--text", timeout=10),
             says="not a regular file")
    one_line("compare with a FIFO", run("compare", fifo_json, fifo_json, timeout=10),
             says="not a regular file")


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (special_files,):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
