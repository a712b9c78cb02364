#!/usr/bin/python3
"""tests/test_peers.py: `voxbench run --peer`: the user's own libraries beside voxbench.

- The real pyclesperanto of $VENV_PYTHON (make setup-venv; PoCL here) runs every op that has a
  pyclesperanto row of the peer calls (ops/conventions.def), f32 and u16: each row passes,
  or is a skip whose reason is its table note, or a fail/error naming the known peer bug the
  table documents; the run goes on after the crashes; the report, its JSON "peers" section, the
  text table and the HTML page show voxbench and the peer side by side.
- CuPy cannot run here: a fake CuPy (tests/pyfakes.py, numpy and scipy underneath, so its rows
  are scipy's answers) runs every op with a CuPy row: each passes or is a documented skip. Then
  a crash, a hang and an exception inside one CuPy call: error rows, the next op still runs.
- A peer that is not installed is one note and no rows; --peer with an unknown name is exit 2;
  --backend leaves out the peers of the other backend, with a note each.
- One child per peer for the run; each peer row has its phases and a progress line.
- SIGTERM mid-run (in a hanging peer call): the child is killed, the report holds the rows so
  far with "cut"; a second SIGTERM ends the run at once, with no child left.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyfakes  # noqa: E402
from vbcheck import check, exit_status  # noqa: E402

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.path.join(os.environ.get("TEST_TMP") or "/tmp", "peers")
VENV_PYTHON = os.environ.get("VENV_PYTHON", "")
HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "ops", "conventions.def")  # its peer calls (CLE rows)


def adapter_rows():
    """{peer: {op: row text}} from the peer calls' source, the table the rows must follow."""
    text = open(TABLE).read()
    rows = {"CLE": {}, "CUPY": {}}
    for m in re.finditer(r'^\t(CLE|CUPY)\("(\w+)"(.*?)\),\s*$', text, re.M | re.S):
        rows[m.group(1)][m.group(2)] = m.group(3)
    return rows


def c_strings(row, field):
    """The C string of .field in a table row, its literals joined (macros left as names)."""
    m = re.search(r"\." + field + r"\s*=\s*((?:\"(?:[^\"\\]|\\.)*\"\s*|[A-Z0-9_]+\s*)+)", row)
    if not m:
        return None
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))).replace('\\"', '"')


def run(args, env=None, timeout=1200):
    out = os.path.join(TMP, "report.json")
    if os.path.exists(out):
        os.remove(out)
    e = dict(os.environ)
    e.pop("CONDA_PREFIX", None)
    e["PATH"] = "/usr/bin:/bin"  # python3 on PATH: Debian's, without pyclesperanto or CuPy
    # an op on these small stacks takes seconds; a peer that corrupts its heap (a known
    # pyclesperanto bug) can hang in malloc's lock instead of crashing: bound what that costs
    e["VOXBENCH_PEER_TIMEOUT"] = "120"
    e.update(env or {})
    p = subprocess.run([VOXBENCH, "run", "--probe", "none", "--repeat", "2", "--out", out] + args,
                       capture_output=True, text=True, env=e, timeout=timeout)
    doc = json.load(open(out)) if os.path.exists(out) else None
    return p, doc


def peer_rows(doc, backend):
    return [r for r in (doc or {}).get("results", []) if r["backend"] == backend]


def check_documented(rows, table, label):
    """Every row passes, or is a skip/fail/error whose reason the table row documents."""
    undocumented = []
    for r in rows:
        row = table.get(r["op"], "")
        note, bug = c_strings(row, "note"), c_strings(row, "bug")
        if r["status"] == "pass":
            ok = r["delta"] is not None and r["gpu_ms"]["median"] is not None and \
                r["gpu_ms"]["median"] > 0
        elif r["status"] == "skip":
            ok = bool(r["reason"]) and (note is None or r["reason"] == note or
                                        "does not accept" in r["reason"])
        else:
            ok = bool(bug) and "known peer bug: " in r["reason"] and bug.split(" (")[0][:40] in \
                r["reason"]
        if not ok:
            undocumented.append((r["op"], r["stack"]["dtype"], r["status"], r["reason"][:160]))
    check(not undocumented, f"{label}: every row passes or is a skip/fail/error the adapter "
          "table documents", undocumented)


def real_pyclesperanto(table):
    if not (VENV_PYTHON and os.path.exists(VENV_PYTHON)):
        check(True, "pyclesperanto peer rows # SKIP no VENV_PYTHON (make setup-venv)")
        return
    p, doc = run(["--size", "40x32x16", "--dtype", "f32,u16", "--peer", "pyclesperanto",
                  "--python", VENV_PYTHON])
    rows = peer_rows(doc, "pyclesperanto-opencl")
    check(doc is not None and p.returncode in (0, 1),
          "pyclesperanto: the run writes its report (exit 0 or 1)", p.stderr[-600:])
    ops = {r["op"] for r in rows}
    check(ops == set(table), "pyclesperanto: a row for every op with a pyclesperanto adapter, "
          "and none for the others", (sorted(set(table) - ops), sorted(ops - set(table))))
    check_documented(rows, table, "pyclesperanto")
    by = {(r["op"], r["stack"]["dtype"]): r for r in rows}
    vb = {(r["op"], r["stack"]["dtype"]): r for r in doc["results"] if r["backend"] == "opencl"}
    passed = [r for r in rows if r["status"] == "pass"]
    check(len(passed) >= 150, "pyclesperanto: most rows pass on PoCL", len(passed))
    g = by.get(("gaussian_blur", "f32"))
    check(g and g["status"] == "pass" and 0 < g["delta"]["max_abs"] <= g["delta"]["tolerance"]
          and g["cpu_ms"] == vb[("gaussian_blur", "f32")]["cpu_ms"],
          "pyclesperanto: gaussian_blur is compared with the same CPU reference, within the "
          "op's tolerance", g)
    cc = by.get(("connected_components_labeling_diamond", "u16"))
    check(cc and cc["status"] == "pass" and cc["delta"]["labels_gpu"] ==
          cc["delta"]["labels_ref"] > 100, "pyclesperanto: connected components, same labels "
          "as the reference", cc and cc["delta"])
    h = by.get(("histogram", "f32"))
    check(h and h["status"] in ("fail", "error") and "writes past its bin array" in h["reason"],
          "pyclesperanto: histogram hits the documented bug (its max voxel lies past the range)",
          h and h["reason"][:300])
    c = by.get(("centroids_of_labels", "u32"))
    check(c and c["status"] in ("fail", "error") and "corrupts the heap" in c["reason"],
          "pyclesperanto: centroids_of_labels without an output buffer is a documented finding",
          c and c["reason"][:300])
    after = [r for r in rows if r["op"] in ("masked_voronoi_labeling",) and r["status"] == "pass"]
    check(after, "pyclesperanto: the run goes on after centroids_of_labels' crash", after)
    o = by.get(("threshold_otsu", "f32"))
    check(o and o["status"] == "pass", "pyclesperanto: threshold_otsu passes, ambiguous "
          "voxels apart", o and o["reason"])
    peers = doc.get("peers") or []
    check(len(peers) == 1 and peers[0]["backend"] == "pyclesperanto-opencl" and
          peers[0]["version"] == "0.25.1" and peers[0]["python"] == VENV_PYTHON and
          peers[0]["device"] == g["device"], "pyclesperanto: the report's peers section",
          peers)
    check("voxbench beside its peers" in p.stdout and
          re.search(r"^gaussian_blur +40x32x16 +f32 +[0-9.]+ pass +[0-9.]+ pass +[0-9.]+$",
                    p.stdout, re.M), "pyclesperanto: the text table shows both, with the ratio",
          p.stdout[-1500:])
    report = os.path.join(TMP, "report.json")
    html = os.path.join(TMP, "html")
    r = subprocess.run([VOXBENCH, "report", report, "--html", html], capture_output=True,
                       text=True, timeout=300)
    page = open(os.path.join(html, "index.html")).read() if r.returncode == 0 else ""
    check('id="peers"' in page and "pyclesperanto-opencl ms" in page and
          "known peer bug" in page, "pyclesperanto: the HTML page has the side-by-side table",
          r.stderr[-300:])
    r = subprocess.run([VOXBENCH, "compare", report, report], capture_output=True, text=True,
                       timeout=300)
    check(r.returncode == 0 and "pyclesperanto-opencl" in r.stdout,
          "pyclesperanto: compare matches the peer rows across reports", r.stderr[-300:])

    # a range that leaves voxels above maximum_intensity: the bug, and the run goes on
    p, doc = run(["--size", "24x20x12", "--ops", "histogram,transpose_xy", "--param",
                  "minimum_intensity=0", "--param", "maximum_intensity=50", "--peer",
                  "pyclesperanto", "--python", VENV_PYTHON])
    rows = {r["op"]: r for r in peer_rows(doc, "pyclesperanto-opencl")}
    h, t = rows.get("histogram"), rows.get("transpose_xy")
    check(p.returncode == 1 and h and h["status"] in ("fail", "error") and
          "known peer bug" in h["reason"] and t and t["status"] == "pass",
          "pyclesperanto: histogram below the image's maximum fails with the bug's name, the "
          "next op passes", (p.returncode, h and h["reason"][:200], t and t["status"]))


def fake_cupy(table):
    cupy = pyfakes.cupy_modules()
    py = pyfakes.interpreter(os.path.join(TMP, "fakes"), "cupy", cupy,
                             dists=[("cupy-cuda12x", "13.3.0")])
    p, doc = run(["--size", "24x20x12", "--dtype", "f32,u8", "--peer", "cupy", "--python", py])
    rows = peer_rows(doc, "cupy")
    ops = {r["op"] for r in rows}
    check(ops == set(table), "cupy (fake): a row for every op with a CuPy adapter",
          (sorted(set(table) - ops), sorted(ops - set(table))))
    check_documented(rows, table, "cupy (fake, scipy underneath)")
    check(all(r["status"] in ("pass", "skip") for r in rows) and
          sum(r["status"] == "pass" for r in rows) >= 180,
          "cupy (fake): scipy's answers pass through every adapter",
          [(r["op"], r["stack"]["dtype"], r["reason"][:120]) for r in rows if r["status"] != "pass"][:8])
    check(p.returncode == 0, "cupy (fake): exit 0", p.stderr[-400:])
    check((doc.get("peers") or [{}])[0].get("device") == "Fake CUDA GPU",
          "cupy (fake): the device it reports", doc.get("peers"))
    check((doc.get("peers") or [{}])[0].get("starts") == 1,
          "cupy (fake): one child for the whole run (two blocks), not one per block",
          doc.get("peers"))
    passed = [r for r in rows if r["status"] == "pass"]
    bad = [(r["op"], r["phases_ms"], r["wall_ms"]) for r in passed
           if not all(isinstance(r["phases_ms"].get(k), (int, float)) and r["phases_ms"][k] >= 0
                      for k in ("upload", "warmup", "timed", "download", "compare")) or
           r["phases_ms"]["timed"] < r["gpu_ms"]["min"] * r["gpu_ms"]["runs"] * 0.999 or
           not r["wall_ms"] >= sum(v for v in r["phases_ms"].values() if v is not None) * 0.999]
    check(passed and not bad, "cupy (fake): each peer row says where its time went (phases_ms "
          "within its wall_ms, the timed phase holding the timed runs)", bad[:3])
    lines = [l for l in p.stderr.splitlines() if re.match(r"^\[\d+/\d+\] \w+ \d+x\d+x\d+ \w+ "
                                                          r"cupy: \w+", l)]
    # (the compile-ahead line, [0/N], comes before the peers are found: N without them)
    total = {int(m) for m in re.findall(r"^\[[1-9]\d*/(\d+)\]", p.stderr, re.M)}
    # the total is exact: a size's second dtype leaves out the ops on derived labels
    check(len(lines) == len(rows) and total == {len(doc["results"])},
          "cupy (fake): a progress line per peer row, counted in the run's exact total",
          (len(lines), len(rows), total, len(doc["results"])))

    # a crash, a hang and an exception inside CuPy: error rows, the next ops still run
    for kind, fn, op, want, env in (
            ("crash", "gaussian_filter", "gaussian_blur", "crashed with SIGSEGV while running "
             "gaussian_blur", {}),
            ("hang", "uniform_filter", "mean_box", "hung (killed after VOXBENCH_PEER_TIMEOUT) "
             "while running mean_box", {"VOXBENCH_PEER_TIMEOUT": "3"}),
            ("raise", "minimum_filter", "minimum_box", "cupy raised RuntimeError: fake CuPy "
             "failure in minimum_filter", {})):
        trap = pyfakes.interpreter(os.path.join(TMP, "fakes"), "cupy-" + kind, cupy,
                                   dists=[("cupy-cuda12x", "13.3.0")],
                                   env={"FAKE_CUPY_TRAP": fn, "FAKE_CUPY_TRAP_KIND": kind})
        p, doc = run(["--size", "16x12x8", "--ops", f"{op},maximum_box,median_box", "--peer",
                      "cupy", "--python", trap], env)
        rows = {r["op"]: r for r in peer_rows(doc, "cupy")}
        check(p.returncode == 1 and rows.get(op, {}).get("status") == "error" and
              want in rows[op]["reason"], f"cupy (fake) {kind}: {op} is an error row saying so",
              (p.returncode, rows.get(op, {}).get("reason")))
        check(rows.get("maximum_box", {}).get("status") == "pass" and
              rows.get("median_box", {}).get("status") == "pass",
              f"cupy (fake) {kind}: the ops after it still run and pass",
              {k: v["status"] for k, v in rows.items()})

    # the interpreter's path is never given to a shell
    odd = pyfakes.interpreter(os.path.join(TMP, "it's a $(dir)"), "env", cupy)
    p, doc = run(["--size", "16x12x8", "--ops", "copy", "--peer", "cupy", "--python", odd])
    check([r["status"] for r in peer_rows(doc, "cupy")] == ["pass"],
          "cupy (fake): an interpreter path with quotes and $() works", p.stderr[-300:])


def peer_children(tmpdir):
    """Processes still running a peer script of a run whose TMPDIR is tmpdir."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if tmpdir in cmd and "peer.py" in cmd:
            found.append((pid, cmd.replace("\0", " ")))
    return found


def cut_run():
    """SIGTERM mid-run: the peer child is killed, the report holds the rows so far and says it
    was cut; a second signal ends the run at once."""
    cupy = pyfakes.cupy_modules()
    hang = pyfakes.interpreter(os.path.join(TMP, "fakes"), "cupy-cut", cupy,
                               dists=[("cupy-cuda12x", "13.3.0")],
                               env={"FAKE_CUPY_TRAP": "uniform_filter",
                                    "FAKE_CUPY_TRAP_KIND": "hang"})
    tmpdir = os.path.join(TMP, "cut-tmp")
    os.makedirs(tmpdir, exist_ok=True)
    out = os.path.join(TMP, "cut.json")
    e = dict(os.environ, PATH="/usr/bin:/bin", TMPDIR=tmpdir, VOXBENCH_PEER_TIMEOUT="300")
    e.pop("CONDA_PREFIX", None)
    import time
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.Popen([VOXBENCH, "run", "--probe", "none", "--repeat", "2", "--size",
                          "16x12x8", "--ops", "copy,mean_box,maximum_box", "--peer", "cupy",
                          "--python", hang, "--out", out], stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, text=True, env=e)
    for line in p.stderr:  # until the peer row before the hanging one is done
        if re.match(r"^\[\d+/\d+\] copy .* cupy: pass", line):
            break
    time.sleep(1.0)  # now inside mean_box's hanging call
    t0 = time.time()
    p.send_signal(15)
    rest = p.stderr.read()
    p.wait(timeout=60)
    took = time.time() - t0
    doc = json.load(open(out)) if os.path.exists(out) else None
    got = [(r["op"], r["backend"], r["status"]) for r in (doc or {}).get("results", [])]
    check(p.returncode == -15 and doc and doc.get("cut") == {"signal": "SIGTERM", "rows": 3} and
          got == [("copy", "opencl", "pass"), ("copy", "cupy", "pass"),
                  ("mean_box", "opencl", "pass")] and took < 20,
          "SIGTERM in a hanging peer call: the run ends by SIGTERM at once, with the report of "
          "the rows finished so far, marked cut", (p.returncode, took, doc and doc.get("cut"), got, rest[-400:]))
    check("stopped by Terminated after 3 rows" in rest,
          "SIGTERM: a line says the run was stopped and what the report holds", rest[-400:])
    left = peer_children(tmpdir)
    check(not left, "SIGTERM: no peer child left running", left)

    os.remove(out)
    # a slow row (median over a large ellipsoid, one CPU thread) with the peer's child waiting:
    # the first SIGTERM lets the row finish, the second ends the run at once, child and all
    p = subprocess.Popen([VOXBENCH, "run", "--probe", "none", "--repeat", "1", "--size",
                          "96x96x48", "--ops", "median_sphere", "--param", "radius_x=5",
                          "--param", "radius_y=5", "--param", "radius_z=5", "--cpu-threads", "1",
                          "--peer", "cupy", "--python", hang, "--out", out],
                         stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=e)
    deadline = time.time() + 60
    # the peer's own child (not the --check that finds it), then its imports: the row runs
    while not any("peer.py cupy" in c for _, c in peer_children(tmpdir)) and \
            time.time() < deadline and p.poll() is None:
        time.sleep(0.1)
    time.sleep(2.0)
    p.send_signal(15)
    time.sleep(1.0)
    waiting = p.poll() is None
    t0 = time.time()
    p.send_signal(15)
    p.wait(timeout=60)
    took = time.time() - t0
    if waiting:
        check(p.returncode == -15 and took < 5 and not os.path.exists(out), "a second "
              "SIGTERM: the run ends by it at once, in the middle of a row, with no report",
              (p.returncode, took))
    else:
        check(True, "a second SIGTERM # SKIP the row ended within a second of the first")
    left = peer_children(tmpdir)
    check(not left, "a second SIGTERM: no peer child left running", left)
    for pid, _ in left:
        os.kill(int(pid), 9)


def missing_and_unknown():
    bare = pyfakes.interpreter(os.path.join(TMP, "fakes"), "bare")
    p, doc = run(["--size", "16x12x8", "--ops", "copy", "--peer", "cupy", "--peer",
                  "pyclesperanto", "--python", bare])
    notes = [l for l in p.stderr.splitlines() if l.startswith("voxbench run: --peer")]
    check(p.returncode == 0 and len(notes) == 2 and all("not installed for" in n for n in notes)
          and bare in notes[0], "a peer not installed: one note each, exit 0", p.stderr)
    check(doc is not None and {r["backend"] for r in doc["results"]} == {"opencl"} and
          "peers" not in doc, "a peer not installed: no peer rows, no peers section",
          doc and {r["backend"] for r in doc["results"]})
    broken = pyfakes.interpreter(os.path.join(TMP, "fakes"), "broken-cupy", {
        "cupy/__init__.py": "raise ImportError('libcudart.so.12: cannot open shared object')\n"})
    p, doc = run(["--size", "16x12x8", "--ops", "copy", "--peer", "cupy", "--python", broken])
    check(p.returncode == 0 and "importing it fails (ImportError: libcudart.so.12" in p.stderr,
          "a broken peer: a note with the import error", p.stderr)
    p, doc = run(["--peer", "scikit-image"])
    check(p.returncode == 2 and "unknown peer 'scikit-image': expected pyclesperanto, cupy" in
          p.stderr and doc is None, "--peer with an unknown name: exit 2", (p.returncode, p.stderr))
    help_text = subprocess.run([VOXBENCH, "run", "--help"], capture_output=True, text=True).stdout
    check("--peer NAME" in help_text and "--python PATH" in help_text,
          "run --help lists --peer and --python")


def device_fallback():
    """pyclesperanto's select_device falls back to its default when it does not see the run's
    device (its own OpenCL loader finding only PoCL, as on the H200 machine): a note says so."""
    mod = pyfakes.cle_module(device="Fake CPU 0") + (
        "def select_backend(name):\n    pass\n"
        "def select_device(name, kind='all'):\n    return _Device()\n"
        "def wait_for_kernel_to_finish(flag=True):\n    pass\n")
    fake = pyfakes.interpreter(os.path.join(TMP, "fakes"), "cle-fallback",
                               {"pyclesperanto/__init__.py": mod})
    p, doc = run(["--size", "16x12x8", "--ops", "copy", "--peer", "pyclesperanto", "--python",
                  fake])
    notes = [l for l in p.stderr.splitlines() if "was asked for" in l]
    check(len(notes) == 1 and "pyclesperanto-opencl was asked for" in notes[0] and
          "but runs on Fake CPU 0" in notes[0], "a peer on another device than the run's: "
          "one note naming both", p.stderr[-600:])


def backend_narrows_peers():
    """--backend opencl keeps pyclesperanto's OpenCL rows and leaves its CUDA backend and CuPy
    out, each with a note (they would not run beside any device of the run)."""
    mod = pyfakes.cle_module(backends=("opencl", "cuda")) + (
        "def select_backend(name):\n    pass\n"
        "def select_device(name, kind='all'):\n    return _Device()\n"
        "def wait_for_kernel_to_finish(flag=True):\n    pass\n")
    files = dict(pyfakes.cupy_modules())
    files["pyclesperanto/__init__.py"] = mod
    fake = pyfakes.interpreter(os.path.join(TMP, "fakes"), "cle-two-backends", files,
                               dists=[("cupy-cuda12x", "13.3.0")])
    p, doc = run(["--size", "16x12x8", "--ops", "copy", "--backend", "opencl", "--peer",
                  "pyclesperanto", "--peer", "cupy", "--python", fake])
    backends = sorted({r["backend"] for r in (doc or {}).get("results", [])})
    notes = [l for l in p.stderr.splitlines() if "the run is --backend opencl" in l]
    check(backends == ["opencl", "pyclesperanto-opencl"],
          "--backend opencl: pyclesperanto-opencl rows only, beside voxbench's", backends)
    check(len(notes) == 2 and any("no pyclesperanto-cuda rows" in n for n in notes) and
          any("no cupy rows" in n for n in notes) and "not installed" not in p.stderr,
          "--backend opencl: one note each for pyclesperanto-cuda and cupy, nothing else",
          p.stderr[-800:])


def main():
    os.makedirs(TMP, exist_ok=True)
    rows = adapter_rows()
    check(len(rows["CLE"]) > 100 and len(rows["CUPY"]) > 90,
          "the adapter table parses", {k: len(v) for k, v in rows.items()})
    missing_and_unknown()
    device_fallback()
    backend_narrows_peers()
    cut_run()
    fake_cupy(rows["CUPY"])
    real_pyclesperanto(rows["CLE"])
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
