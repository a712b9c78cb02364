#!/usr/bin/python3
"""tests/test_hostile_reports.py: reports written by someone else, read back by `voxbench report`
and `voxbench compare`.

Every string of a report (its file name, op, params, device, host, reason, probe names...) is
filled with payloads that would run a shell command if they reached gnuplot as code (newlines,
quotes, backticks, `!`, system(...), a trailing backslash) or drive the terminal (ESC, CR, C1
controls); the checks are that nothing runs, the plots are still drawn, and no control character
reaches the terminal or the gnuplot files unescaped.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from vbcheck import check, exit_status

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.environ.get("TEST_TMP") or "/tmp/voxbench-test-hostile-reports"
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def run(*args, env=None, timeout=120):
    p = subprocess.run([VOXBENCH] + list(args), capture_output=True, timeout=timeout,
                       env=env or dict(os.environ, LC_ALL="C"))
    return p.returncode, p.stdout, p.stderr


def gnuplot_payloads(tag):
    """Strings that run `touch owned_<tag>_N` (or create it with `>`) when read as gnuplot
    code, each short enough for the shortest field (backend: 15 bytes)."""
    return [
        f"a\n!>owned_{tag}1",                      # a line of its own: the shell
        f"a'\n!>owned_{tag}2\n#",                  # closing a single quote first
        f"a\"\n!>owned_{tag}3",                    # closing a double quote first
        f"a\\\n!>owned_{tag}4",                    # a backslash: comment continues
        f"`>owned_{tag}5`",                        # backticks: command substitution
        f"a\r!>owned_{tag}6",                      # a carriage return as the line end
        f"'.system('>owned_{tag}7').'",            # an expression, quotes doubled?
        f"\".system(\">owned_{tag}8\").\"",
        f"@x `>owned_{tag}9`",                     # a macro
    ]


def hostile_report(tag):
    """The scaling golden report (three plots: speedup and bandwidth, scaling per category,
    backends) with every string field replaced by payloads."""
    with open(os.path.join(GOLDEN, "report_scaling.json")) as f:
        doc = json.load(f)
    p = gnuplot_payloads(tag)
    doc["created"] = p[0][:31]
    doc["voxbench_version"] = p[1][:31]
    doc["host"].update(hostname=" | ".join(p), os=p[2], kernel=p[3], cpu_model=p[4])
    for d in doc.get("devices", []):
        d.update(name=d["name"] + " " + p[5], platform=p[6], driver_version=p[7], vendor=p[8])
    ops = sorted({r["op"] for r in doc["results"]})
    for i, r in enumerate(doc["results"]):
        n = ops.index(r["op"])
        k = p[n % len(p)]  # one per op: the rows of an op still group
        r["op"] = (r["op"] + k)[:63]
        # one device per op too: its sizes still make a scaling line
        r["device"] = r["device"] + " " + p[(n + 1) % len(p)]
        r["reason"] = " ".join(p)
        r["category"] = k[:31]
        r["stack"]["source"] = k
        r["params"][k[:31]] = 1
    # backends: two named with payloads, so the backends chart gets payload series names
    for r in doc["results"]:
        if r["backend"] == "cuda":
            r["backend"] = p[0][:15]
    probe = doc.setdefault("probe", {"schema": "voxbench-probe/1", "platforms": []})
    probe["devices"] = [{"name": p[i], "type": "gpu", "smoke": {"status": "pass"},
                         "bench": {"copy_gbps": 10.0 + i}} for i in range(3)]
    probe["verdict"] = " ".join(p)
    return doc


def owned_files():
    return sorted(glob.glob(os.path.join(TMP, "**", "owned*"), recursive=True)
                  + glob.glob(os.path.join(HERE, "owned*")))


def control_bytes(data, keep=b"\n\t"):
    """The control bytes (C0, DEL) in data other than keep."""
    return sorted({b for b in data if (b < 0x20 or b == 0x7f) and bytes([b]) not in keep})


def gnuplot_files_clean(folder, what):
    bad = {}
    for path in glob.glob(os.path.join(folder, "*.gp")) + glob.glob(os.path.join(folder, "*.dat")):
        with open(path, "rb") as f:
            cb = control_bytes(f.read())
        if cb:
            bad[os.path.basename(path)] = cb
    check(not bad, f"{what}: plots.gp and the data files hold no control character", bad)


def report_pages():
    name = "r\n!>owned_path1\n#\\"  # a file name that is a shell command in plots.gp
    folder = os.path.join(TMP, "hostile")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as f:
        json.dump(hostile_report("r"), f)
    out = os.path.join(TMP, "page")
    rc, _, err = run("report", path, "--html", out)
    check(rc == 0, "report --html of a hostile report: exit 0", err[-300:])
    for plot in ("speedup", "scaling", "backends"):
        check(os.path.getsize(os.path.join(out, plot + ".svg")) > 1000 if
              os.path.exists(os.path.join(out, plot + ".svg")) else False,
              f"report --html of a hostile report: gnuplot drew {plot}.svg",
              sorted(os.listdir(out)) if os.path.isdir(out) else "no folder")
    check(not owned_files(), "report --html: no payload ran in gnuplot (path, op, params, "
          "device, host, backend, probe names)", owned_files())
    gnuplot_files_clean(out, "report --html")
    with open(os.path.join(out, "plots.gp"), "rb") as f:
        lines = f.read().split(b"\n")
    check(not [ln for ln in lines if ln.lstrip().startswith(b"!")],
          "report --html: no line of plots.gp is a shell command")
    check(not [ln for ln in lines if ln.startswith(b"#") and ln.endswith(b"\\")],
          "report --html: no comment line of plots.gp ends in a backslash (it would continue)")

    rc, _, err = run("report", path, "--plots", "dumb")
    check(rc == 0 and not owned_files(), "report --plots dumb of a hostile report: exit 0, "
          "nothing ran", (rc, err[-300:], owned_files()))

    other = os.path.join(folder, "second.json")
    with open(other, "w") as f:
        json.dump(hostile_report("r"), f)
    cmp_out = os.path.join(TMP, "cmp")
    rc, _, err = run("compare", path, other, "--html", cmp_out)
    check(rc == 0, "compare --html of hostile reports: exit 0", err[-300:])
    check(os.path.exists(os.path.join(cmp_out, "speedup_vs_a.svg")),
          "compare --html of hostile reports: gnuplot drew speedup_vs_a.svg",
          sorted(os.listdir(cmp_out)) if os.path.isdir(cmp_out) else "no folder")
    check(not owned_files(), "compare --html: no payload ran in gnuplot (report paths, "
          "hostnames, row labels)", owned_files())
    gnuplot_files_clean(cmp_out, "compare --html")
    for o in owned_files():
        os.remove(o)


ESC_PAYLOADS = ["\x1b]0;pwned\x07", "\x1b[2J\x1b[31mred", "a\rb", "c\x9bd", "e\x08\x7ff"]


def terminal_report():
    with open(os.path.join(GOLDEN, "report_laptop.json")) as f:
        doc = json.load(f)
    e = ESC_PAYLOADS
    doc["created"] = e[0]
    doc["host"].update(hostname=e[1], os=e[2], cpu_model=e[3])
    for d in doc["devices"]:
        d.update(name=d["name"] + e[4], platform=e[0], driver_version=e[1])
    for i, r in enumerate(doc["results"]):
        r["op"] += e[i % len(e)]
        r["device"] += e[(i + 2) % len(e)]
        r["backend"] = e[(i + 1) % len(e)][:15]
        r["reason"] = "".join(e) + "\nsecond line"
        r["stack"]["dtype"] = r["stack"]["dtype"][:3] + "\x1b"
    doc["probe"]["verdict"] = "ok: " + "".join(e)
    return doc


def terminal_output():
    d = os.path.join(TMP, "esc")
    os.makedirs(d, exist_ok=True)
    a = os.path.join(d, "a\x1b[5mblink.json")
    b = os.path.join(d, "b.json")
    with open(a, "w") as f:
        json.dump(terminal_report(), f)
    shutil.copy(os.path.join(GOLDEN, "report_desktop.json"), b)
    with open(b) as f:
        doc = json.load(f)
    doc["host"]["hostname"] = "desk\x1b[31m"
    with open(b, "w") as f:
        json.dump(doc, f)
    for what, args in (("report --text", ["report", a, "--text"]),
                       ("compare", ["compare", a, b]),
                       ("report --plots dumb", ["report", a, "--plots", "dumb"])):
        rc, out, err = run(*args)
        check(rc == 0, f"{what} of a report with control characters: exit 0", err[-300:])
        # gnuplot's dumb terminal starts each chart with its own form feed
        cb = control_bytes(out + err, keep=b"\n\t\f" if "dumb" in what else b"\n\t")
        check(not cb, f"{what}: no control character reaches the terminal raw", cb)
        check(b"\\x1b" in out, f"{what}: ESC is shown escaped as \\x1b", out[:300])
        check(b"\xc2\x9b" not in out + err, f"{what}: the C1 control U+009B is escaped")
    rc, out, _ = run("report", a, "--text")
    check(b"\\x1b[2J\\x1b[31mred" in out and b"a\\rb" in out,
          "report --text: the host name and OS keep their text, escaped", out[:400])
    check(b"\\nsecond line" in out and b"\nsecond line" not in out,
          "report --text: a line break inside a reason is escaped, not a new line", out[-400:])
    # a damaged report whose bad value holds ESC: the one-line message is escaped too
    with open(os.path.join(d, "bad.json"), "w") as f:
        json.dump({"schema": "\x1b[31mvoxbench-report/9", "results": []}, f)
    rc, out, err = run("report", os.path.join(d, "bad.json"), "--text")
    check(rc == 2 and not control_bytes(err, keep=b"\n") and err.count(b"\n") == 1,
          "a bad report's message: exit 2, one line, ESC escaped", (rc, err))


def long_fields():
    """A reason longer than a row holds is cut between characters; the parameter limit the
    loader states is the one it applies."""
    with open(os.path.join(GOLDEN, "report_laptop.json")) as f:
        doc = json.load(f)
    doc["results"][1]["reason"] = "\u00e9" * 3000  # 6000 bytes: 4095 would split one
    path = os.path.join(TMP, "long.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    rc, out, err = run("report", path, "--csv")
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        text = None
        check(False, "report --csv of a 6000-byte reason is valid UTF-8",
              f"{e.reason} at byte {e.start}")
    if text is not None:
        check(rc == 0, "report --csv of a 6000-byte reason is valid UTF-8")
        check("\u00e9" * 2047 in text and "\u00e9" * 2048 not in text,
              "the reason is cut after 2047 whole characters (4094 bytes)")
    page = os.path.join(TMP, "longpage")
    rc, _, err = run("report", path, "--html", page)
    try:
        with open(os.path.join(page, "index.html"), "rb") as f:
            f.read().decode("utf-8")
        check(rc == 0, "report --html of a 6000-byte reason: index.html is valid UTF-8")
    except UnicodeDecodeError as e:
        check(False, "report --html of a 6000-byte reason: index.html is valid UTF-8",
              f"{e.reason} at byte {e.start}")
    except OSError as e:
        check(False, "report --html of a 6000-byte reason: index.html is valid UTF-8", repr(e))
    for n, want_rc in ((16, 0), (17, 2)):
        doc["results"][0]["params"] = {f"p{i}": i for i in range(n)}
        with open(path, "w") as f:
            json.dump(doc, f)
        rc, _, err = run("report", path, "--text")
        check(rc == want_rc, f"a row with {n} parameters: exit {want_rc}", err[-200:])
        if want_rc:
            check(b"at most 16 parameters" in err, "the loader's message states its limit of "
                  "16 parameters", err[-300:])


def listing(folder):
    """{name: bytes} of a folder's files (None when it does not exist)."""
    if not os.path.isdir(folder):
        return None
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = f.read()
    return out


def leftovers(parent):
    return [n for n in os.listdir(parent) if ".tmp-" in n or ".old-" in n]


def folder_swap():
    """A report written into a folder of an older one replaces it whole: no stale plot, and an
    interrupted run (gnuplot stopped with it) leaves the old folder as it was."""
    parent = os.path.join(TMP, "swap")
    os.makedirs(parent)
    page = os.path.join(parent, "page")
    rc, _, err = run("report", os.path.join(GOLDEN, "report_scaling.json"), "--html", page)
    check(rc == 0 and os.path.exists(os.path.join(page, "scaling.svg")),
          "a sweep's page has scaling.svg", err[-200:])
    rc, _, err = run("report", os.path.join(GOLDEN, "report_laptop.json"), "--html", page)
    names = sorted(os.listdir(page)) if os.path.isdir(page) else []
    check(rc == 0 and "speedup.svg" in names and "scaling.svg" not in names and
          "scaling.dat" not in names and "backends.svg" not in names,
          "a one-size report over it leaves no stale scaling or backends plot", names)
    check(not leftovers(parent), "no temporary folder is left beside it", leftovers(parent))
    before = listing(page)

    # gnuplot that hangs: voxbench is interrupted while it runs
    fake = os.path.join(TMP, "slow-gnuplot")
    pidfile = os.path.join(TMP, "gnuplot.pid")
    with open(fake, "w") as f:
        f.write(f"#!/bin/sh\necho $$ > {pidfile}\necho partial > speedup.svg\nexec sleep 60\n")
    os.chmod(fake, 0o755)
    env = dict(os.environ, VOXBENCH_GNUPLOT=fake)
    p = subprocess.Popen([VOXBENCH, "report", os.path.join(GOLDEN, "report_scaling.json"),
                          "--html", page], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(pidfile) and os.path.getsize(pidfile):
            break
        time.sleep(0.05)
    time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
    with open(pidfile) as f:
        gp = int(f.read().strip() or 0)
    time.sleep(0.2)
    check(rc == -signal.SIGINT, "SIGINT while gnuplot runs: voxbench ends by SIGINT", rc)
    check(not os.path.exists(f"/proc/{gp}") or
          open(f"/proc/{gp}/stat").read().split()[2] == "Z",
          "SIGINT while gnuplot runs: gnuplot is stopped with voxbench", gp)
    check(listing(page) == before, "SIGINT while gnuplot runs: the old page is unchanged",
          sorted(listing(page) or {}))
    check(not leftovers(parent), "SIGINT while gnuplot runs: no temporary folder is left",
          leftovers(parent))

    mine = os.path.join(parent, "mine")
    os.makedirs(mine)
    with open(os.path.join(mine, "notes.txt"), "w") as f:
        f.write("keep me")
    rc, _, err = run("report", os.path.join(GOLDEN, "report_laptop.json"), "--html", mine)
    check(rc == 2 and b"notes.txt" in err and os.listdir(mine) == ["notes.txt"],
          "--html into a folder with other files: exit 2 naming one, nothing touched",
          (rc, err[-200:], os.listdir(mine)))
    rc, _, err = run("compare", os.path.join(GOLDEN, "report_laptop.json"),
                     os.path.join(GOLDEN, "report_desktop.json"), "--html", mine)
    check(rc == 2 and os.listdir(mine) == ["notes.txt"],
          "compare --html into a folder with other files: exit 2, nothing touched", rc)


def disk_full():
    """A full disk during report --html: exit 1 with one line, the old page intact, no empty or
    cut plot files, nothing temporary left (a small tmpfs in a private mount namespace)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        check(True, "disk full # SKIP needs root and unshare for a private tmpfs")
        return
    mnt = os.path.join(TMP, "small")
    os.makedirs(mnt)
    script = (f"mount -t tmpfs -o size=160k tmpfs {mnt} || exit 99\n"
              f"{VOXBENCH} report {GOLDEN}/report_laptop.json --html {mnt}/page --plots none "
              f">/dev/null 2>&1 || exit 98\n"
              f"cp -r {mnt}/page {mnt}/../before\n"
              f"{VOXBENCH} report {GOLDEN}/report_scaling.json --html {mnt}/page "
              f">/dev/null 2>{mnt}/../stderr\n"
              f"echo $? > {mnt}/../rc\n"
              f"cp -r {mnt}/page {mnt}/../after 2>/dev/null\n"
              f"ls -A {mnt} > {mnt}/../left\n")
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=120)
    if r.returncode in (98, 99) or not os.path.exists(os.path.join(TMP, "rc")):
        check(True, f"disk full # SKIP no private tmpfs here ({r.returncode}: {r.stderr[:100]})")
        return
    rc = int(open(os.path.join(TMP, "rc")).read())
    err = open(os.path.join(TMP, "stderr")).read()
    check(rc == 1 and err.count("\n") == 1 and "disk full" in err,
          "report --html on a full disk: exit 1 with one line saying so", (rc, err))
    check(listing(os.path.join(TMP, "after")) == listing(os.path.join(TMP, "before")),
          "report --html on a full disk: the old page is intact",
          sorted(listing(os.path.join(TMP, "after")) or {}))
    left = open(os.path.join(TMP, "left")).read().split()
    check(left == ["page"], "report --html on a full disk: nothing temporary is left", left)


def main():
    os.makedirs(TMP, exist_ok=True)
    for scenario in (report_pages, terminal_output, long_fields, folder_swap, disk_full):
        try:
            scenario()
        except Exception as e:  # a scenario that raises is one failure, the others still run
            check(False, f"{scenario.__name__} ran", repr(e))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
