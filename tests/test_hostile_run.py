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
import shutil
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


def out_targets():
    """--out X: only regular files are replaced atomically; devices and links to stdout are
    written in place; folders, missing folders and long names are refused before any work."""
    d = os.path.join(TMP, "out")
    os.makedirs(d)
    args = ["run", *FAST, "--ops", "copy", "--size", "4x4x4"]
    if os.geteuid() == 0:  # a device node of our own: the real /dev/full stays untouched
        full = os.path.join(d, "full")
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    else:
        full = "/dev/full"
    rc, out, err, _ = run(*args, "--out", full)
    st = os.lstat(full)
    check(stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 7,
          "--out naming a character device (/dev/full): the device is still there", st)
    said = [l for l in err.splitlines() if not l.startswith("[")]  # not the per-row progress
    check(rc == 1 and "No space left on device" in err and len(said) == 1,
          "--out /dev/full: exit 1 with one line naming the full device", (rc, err))
    link = os.path.join(d, "stdout-link")
    os.symlink("/proc/self/fd/1", link)
    rc, out, err, _ = run(*args, "--out", link)
    check(os.path.islink(link) and os.readlink(link) == "/proc/self/fd/1",
          "--out through a link to /proc/self/fd/1: the link stays a link", os.lstat(link))
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    check(rc == 0 and doc and doc["results"][0]["op"] == "copy",
          "--out through a link to stdout: the report comes out on stdout", (rc, out[:200]))
    rc, out, err, _ = run(*args, "--out", "-")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    check(rc == 0 and doc and doc["results"][0]["status"] == "pass" and "copy" in err,
          "--out -: the JSON report on stdout, the table on stderr", (rc, out[:200], err[:200]))
    real = os.path.join(d, "real.json")
    with open(real, "w") as f:
        f.write("old")
    via = os.path.join(d, "via.json")
    os.symlink("real.json", via)
    rc, _, err, _ = run(*args, "--out", via)
    with open(real) as f:
        body = f.read()
    check(rc == 0 and os.path.islink(via) and body.startswith("{"),
          "--out through a link to a report: the file it names is replaced, the link stays",
          (rc, err, os.path.islink(via), body[:40]))
    # found before any work: exit 2, one line, and nothing measured (no table on stdout)
    for what, target, says in (
            ("a folder", d, "is a folder"),
            ("a file in a missing folder", os.path.join(d, "nope", "r.json"), "does not exist"),
            ("a name too long for its temporary copy", os.path.join(d, "r" * 250), "too long"),
            ("a link to a missing file", os.path.join(d, "dangling"), "does not exist")):
        if what.startswith("a link"):
            os.symlink(os.path.join(d, "missing.json"), target)
        res = run(*args, "--out", target)
        one_line(f"--out {what}", res, says=says)
        check(not res[1], f"--out {what}: refused before any work (no table)", res[1][:200])


def save_targets():
    d = os.path.join(TMP, "save")
    os.makedirs(d)
    args = ["run", *FAST, "--ops", "copy", "--size", "4x4x4"]
    afile = os.path.join(d, "a-file")
    with open(afile, "w") as f:
        f.write("x")
    for what, target, says in (
            ("a file", afile, "not a folder"),
            ("a folder in a missing folder", os.path.join(d, "nope", "out"), "cannot create"),
            ("too long a path", os.path.join(d, *(["d" * 200] * 20)), "too long")):
        res = run(*args, "--save-outputs", target)
        one_line(f"--save-outputs {what}", res, says=says)
        check(not res[1], f"--save-outputs {what}: refused before any work (no table)",
              res[1][:200])


def empty_values():
    for opt in ("--size", "--ops", "--dtype", "--backend", "--device", "--stack", "--out",
                "--save-outputs", "--input", "--param"):
        one_line(f"run {opt} ''", run("run", *FAST, opt, ""), says=f"{opt} is empty")
    one_line("run --dtype f32,,u8", run("run", *FAST, "--dtype", "f32,,u8"), says="empty item")
    one_line("run --size 4x4x4, (a trailing comma)", run("run", *FAST, "--size", "4x4x4,"),
             says="empty item")
    one_line("list --bogus", run("list", "--bogus"), says="'--bogus'")


def umask_modes():
    d = os.path.join(TMP, "modes")
    os.makedirs(d)
    for mask, want in ((0o022, 0o644), (0o027, 0o640), (0o002, 0o664)):
        path = os.path.join(d, f"r{mask:o}.json")
        rc, _, err, _ = run("run", *FAST, "--ops", "copy", "--size", "4x4x4", "--out", path,
                            preexec=lambda m=mask: os.umask(m))
        mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
        check(rc == 0 and mode == want, f"report.json under umask {mask:03o} is mode {want:o}",
              (rc, oct(mode) if mode is not None else None, err[-200:]))


def info_options():
    if not os.path.exists(HEAD):
        check(True, "info options # SKIP no test stacks in VB_DATA")
        return
    rc, out, err, _ = run("info", HEAD, "--channel", "0", "--no-verify")
    check(rc == 0 and "dims:" in out and "decoded:" not in out,
          "info FILE --channel 0 --no-verify: options after the file are options", (rc, err))
    res = run("info", "--channel", "5", HEAD)
    one_line("info --channel 5 of a one-channel file", res, says="no channel 5")
    check("frame -1" not in res[2], "info --channel 5: the message does not say 'frame -1'",
          res[2])
    one_line("info --frame with no number", run("info", HEAD, "--frame"))
    one_line("info --bogus", run("info", "--bogus", HEAD), says="'--bogus'")


def saved_names():
    """Two inputs of one size and dtype, two frames, two channels: each saves its own files."""
    if not os.path.exists(HEAD):
        check(True, "saved names # SKIP no test stacks in VB_DATA")
        return
    d = os.path.join(TMP, "names")
    os.makedirs(d)
    a = os.path.join(d, "a.tif")
    shutil.copy(HEAD, a)
    # b: the same size and dtype, other voxels (a's transpose, a cube's size)
    rc, _, err, _ = run("run", *FAST, "--ops", "transpose_xy", "--input", a,
                        "--save-outputs", os.path.join(d, "t"))
    made = glob.glob(os.path.join(d, "t", "*.tif"))
    check(rc == 0 and len(made) == 1, "a second input of the same shape is made", (rc, err))
    if len(made) != 1:
        return
    b = os.path.join(d, "b.tif")
    shutil.copy(made[0], b)
    alone = {}
    for name, path in (("a", a), ("b", b)):
        out = os.path.join(d, "alone-" + name)
        run("run", *FAST, "--ops", "copy", "--input", path, "--save-outputs", out)
        alone[name] = glob.glob(os.path.join(out, "*.tif"))
    both = os.path.join(d, "both")
    rc, _, err, _ = run("run", *FAST, "--ops", "copy", "--input", a, "--input", b,
                        "--save-outputs", both)
    saved = sorted(glob.glob(os.path.join(both, "*.tif")))
    check(rc == 0 and len(saved) == 2, "two --input files of one shape save two copy outputs",
          (rc, [os.path.basename(f) for f in saved], err[-200:]))
    for name in ("a", "b"):
        mine = [f for f in saved if os.path.basename(f) == os.path.basename(
            alone[name][0] if alone[name] else "")]
        same = bool(mine) and open(mine[0], "rb").read() == open(alone[name][0], "rb").read()
        check(same, f"input {name}'s saved output is its own, byte for byte",
              [os.path.basename(f) for f in saved])
    x, y = os.path.join(d, "x"), os.path.join(d, "y")
    os.makedirs(x)
    os.makedirs(y)
    shutil.copy(a, os.path.join(x, "s.tif"))
    shutil.copy(b, os.path.join(y, "s.tif"))
    out = os.path.join(d, "same-name")
    run("run", *FAST, "--ops", "copy", "--input", os.path.join(x, "s.tif"), "--input",
        os.path.join(y, "s.tif"), "--save-outputs", out)
    check(len(glob.glob(os.path.join(out, "*.tif"))) == 2,
          "two inputs of one file name in two folders save two outputs",
          os.listdir(out) if os.path.isdir(out) else None)
    mitosis = os.path.join(STACKS, "07_mitosis_ImageJ_5D_tzcyx_u16.tif")
    out = os.path.join(d, "channels")
    for c in ("0", "1"):
        run("run", *FAST, "--ops", "copy", "--input", mitosis, "--channel", c,
            "--save-outputs", out)
    names = sorted(os.listdir(out)) if os.path.isdir(out) else []
    check(len(names) == 6 and all("_t" in n and "_c" in n for n in names),
          "3 frames x 2 channels of one file save 6 outputs named by frame and channel", names)


def interrupted_saves():
    """SIGINT while --save-outputs writes a TIFF: the .tmp-XXXXXX file goes with the run."""
    d = os.path.join(TMP, "interrupted")
    caught = 0
    for attempt in range(6):
        out = os.path.join(d, str(attempt))
        os.makedirs(out)
        p = subprocess.Popen([VOXBENCH, "run", *FAST, "--ops", "copy,flip,transpose_xy",
                              "--size", "256x256x96", "--dtype", "u8,f32", "--save-outputs",
                              out, "--save-reference"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        seen = False
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            if any(".tmp-" in n for n in os.listdir(out)):
                p.send_signal(signal.SIGINT)
                seen = True
                break
            time.sleep(0.0005)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
        if not seen:
            continue
        caught += 1
        left = [n for n in os.listdir(out) if ".tmp-" in n]
        check(rc == -signal.SIGINT and not left,
              f"SIGINT while a saved output is written (try {attempt + 1}): the run ends by "
              "SIGINT and no .tmp- file is left", (rc, left))
        if caught == 2:
            break
    if not caught:
        check(True, "interrupted saves # SKIP no temporary file was ever seen to interrupt")


def limited(as_bytes=None, nproc=None):
    def apply():
        if as_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return apply


def thread_limits():
    """--cpu-threads 1000 where far fewer threads can be started: capped, said, no abort."""
    out = os.path.join(TMP, "threads.json")
    cases = [("an address-space limit (ulimit -v 2 GiB)", limited(as_bytes=2 << 30))]
    if os.geteuid() != 0:  # root is not held to RLIMIT_NPROC
        used = len(os.listdir("/proc/self/task"))
        cases.append(("a process limit (ulimit -u)", limited(nproc=used + 64)))
    for what, preexec in cases:
        rc, _, err, _ = run("run", *FAST, "--ops", "gaussian_blur", "--size", "16x16x16",
                            "--cpu-threads", "1000", "--out", out, preexec=preexec)
        rows = json.load(open(out))["results"] if rc == 0 and os.path.exists(out) else []
        threads = rows[0]["cpu_threads"] if rows else None
        check(rc == 0 and rows and rows[0]["status"] == "pass" and 1 <= threads < 1000,
              f"--cpu-threads 1000 under {what}: the row passes with fewer threads",
              (rc, threads, err[-300:]))
        check("can be started" in err and "1000" in err,
              f"--cpu-threads 1000 under {what}: one line says how many are used", err[-300:])


def memory_limits():
    """Under small ulimit -v values every outcome is a run with rows, or a message: never a
    crash, never an empty table with exit 1 and nothing said."""
    args = ["run", *FAST, "--ops", "copy,gaussian_blur,connected_components_labeling_box",
            "--size", "128x128x64"]
    rc, _, err, _ = run(*args)  # compiles the kernels into the cache first, unlimited
    check(rc == 0, "the memory-limit runs' kernels are cached first", err[-200:])
    outcomes = []
    for mib in range(290, 740, 30):
        rc, out, err, _ = run(*args, preexec=limited(as_bytes=mib << 20), timeout=120)
        rows = [l for l in out.splitlines()[1:] if l.strip()]
        said = err.strip() or any(" error" in l or " skip" in l for l in rows)
        if rc not in (0, 1, 3) or (rc != 0 and not said):
            outcomes.append((mib, rc, len(rows), err[-160:]))
    check(not outcomes, "ulimit -v 290..710 MiB: every run ends with rows or a message, none "
          "crashes", outcomes)


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (special_files, out_targets, save_targets, empty_values, umask_modes,
                     info_options, saved_names, interrupted_saves, thread_limits,
                     memory_limits):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
