"""voxbench report / compare checked independently of the C code that writes them.

- results.csv of each golden report against the JSON, field by field, and the bandwidth fraction
  computed here;
- the fitted exponents (numpy's least squares on logs) against `voxbench report --text`;
- compare's ratios and geometric mean computed here against `voxbench compare --csv` and its text;
- malformed reports (truncated, wrong types, missing fields, huge numbers, NaN, garbage) refused
  with exit 2, one line naming the field, never a crash;
- the page parsed: unique ids, no script, nothing fetched; loaded in headless Chromium when it is
  installed, with a screenshot kept in $BUILD/test-output/ for a person to look at;
- a 10,000-row report written as a page, gnuplot included, every row in its results.csv (its
  time printed as a figure, not checked).
"""
import copy
import csv
import html.parser
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time

VB = os.environ["VOXBENCH"]
TMP = os.environ["TEST_TMP"]
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
failures = 0


def check(cond, what, detail=""):
    global failures
    if cond:
        print("ok - " + what)
    else:
        failures += 1
        print("not ok - " + what + (": " + str(detail) if detail else ""))
    sys.stdout.flush()


def vb(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([VB] + list(args), capture_output=True, text=True, env=e,
                          timeout=timeout)


def golden(name):
    return os.path.join(GOLDEN, name)


def load(name):
    with open(golden(name)) as f:
        return json.load(f)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def num(text):
    return None if text == "" else float(text)


# ---- CSV against the JSON ----

def expected_csv_fields(row, copy_gbps):
    gpu, delta = row["gpu_ms"], row["delta"] or {}
    eff = row["effective_gbps"]
    return {
        "op": row["op"], "backend": row["backend"], "dtype": row["stack"]["dtype"],
        "status": row["status"], "reason": row["reason"],
        "width": row["stack"]["width"], "voxels": row["stack"]["width"] *
        row["stack"]["height"] * row["stack"]["depth"],
        "gpu_ms_median": gpu["median"], "cpu_ms": row["cpu_ms"], "h2d_ms": row["h2d_ms"],
        "speedup": row["speedup"], "speedup_with_transfers": row["speedup_with_transfers"],
        "effective_gbps": eff, "bytes_moved": row["bytes_moved"],
        "bandwidth_fraction": row["bandwidth_fraction"] if row.get("bandwidth_fraction")
        is not None else eff / copy_gbps if eff is not None and copy_gbps else None,
        "max_abs_delta": delta.get("max_abs"),
    }


def check_csv(name):
    doc = load(name)
    out = os.path.join(TMP, name + "-html")
    r = vb("report", golden(name), "--html", out, env={"VOXBENCH_GNUPLOT": ""})
    check(r.returncode == 0, name + ": report --html exits 0", r.stderr)
    with open(os.path.join(out, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    check(len(rows) == len(doc["results"]), name + ": one CSV line per row",
          "%d vs %d" % (len(rows), len(doc["results"])))
    bw = {d["name"]: d.get("bench", {}).get("copy_gbps")
          for d in (doc.get("probe") or {}).get("devices", [])}
    bw.update({d["name"]: d["copy_gbps"] for d in doc["devices"] if d.get("copy_gbps")})
    bad = []
    for got, row in zip(rows, doc["results"]):
        for key, want in expected_csv_fields(row, bw.get(row["device"])).items():
            value = got[key] if isinstance(want, str) else num(got[key])
            if isinstance(want, str) and value != want or \
               not isinstance(want, str) and not close(value, want):
                bad.append("%s %s: %r vs %r" % (row["op"], key, got[key], want))
    check(not bad, name + ": every CSV value equals the JSON's (bandwidth fraction "
          "computed here)", "; ".join(bad[:5]))


# ---- scaling ----

def fits_by_numpy(doc):
    import numpy as np
    groups = {}
    for r in doc["results"]:
        if r["status"] not in ("pass", "fail") or not r["gpu_ms"]["median"]:
            continue
        key = (r["op"], r["stack"]["dtype"], r["backend"])
        n = r["stack"]["width"] * r["stack"]["height"] * r["stack"]["depth"]
        groups.setdefault(key, []).append((n, r["gpu_ms"]["median"]))
    fits = {}
    for key, pts in groups.items():
        if len({n for n, _ in pts}) < 2:
            continue
        x = np.log([n for n, _ in pts])
        y = np.log([t for _, t in pts])
        fits[key] = np.polyfit(x, y, 1)[0]
    return fits


def check_scaling():
    doc = load("report_scaling.json")
    fits = fits_by_numpy(doc)
    check(abs(fits[("copy", "f32", "opencl")] - 1.0) <= 0.01,
          "numpy agrees: t = c * n^1.0 gives exponent 1.00 +/- 0.01")
    r = vb("report", golden("report_scaling.json"), "--text")
    lines = r.stdout.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith("scaling:")]
    printed = {}
    for l in lines[start[0] + 2:] if start else []:
        parts = l.split()
        if len(parts) >= 6:
            printed[tuple(parts[:3])] = float(parts[4])
    check(len(printed) == len(fits) == 3, "--text prints one fit per op timed at 2+ sizes",
          printed)
    for key, b in fits.items():
        check(key in printed and abs(printed[key] - b) < 0.0006,
              "%s exponent %.3f matches numpy's %.5f" % (" ".join(key), printed.get(key, -1), b))


# ---- compare ----

def match_key(r):
    s = r["stack"]
    return (r["op"], tuple(sorted(r["params"].items())), s["width"], s["height"], s["depth"],
            s["dtype"], r["backend"])


def check_compare():
    a, b = load("report_laptop.json"), load("report_desktop.json")
    ta = {match_key(r): r for r in a["results"]}
    tb = {match_key(r): r for r in b["results"]}

    def t(r):
        return r["gpu_ms"]["median"] if r["status"] in ("pass", "fail") else None
    shared = [k for k in ta if k in tb and t(ta[k]) and t(tb[k])]
    gm = math.exp(sum(math.log(t(ta[k]) / t(tb[k])) for k in shared) / len(shared))
    r = vb("compare", golden("report_laptop.json"), golden("report_desktop.json"), "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    ratios = {(x["op"], x["params"]): num(x["B_over_A"]) for x in rows}
    want = {(k[0], " ".join("%s=%g" % p for p in k[1])): t(tb[k]) / t(ta[k]) for k in shared}
    check(all(close(ratios.get(k), v) for k, v in want.items()),
          "compare --csv ratios equal B/A computed here", (ratios, want))
    check(len(rows) == len(set(ta) | set(tb)), "compare --csv has every row of either report")
    text = vb("compare", golden("report_laptop.json"), golden("report_desktop.json")).stdout
    check("geometric-mean speedup %.3fx" % gm in text and "over %d shared rows" % len(shared)
          in text, "compare's geometric mean %.3f over %d rows matches" % (gm, len(shared)))
    only = (set(ta) ^ set(tb))
    check(("rows not in every report (%d)" % len(only)) in text,
          "compare lists the %d rows only one report has" % len(only))


# ---- malformed reports ----

def malformed_variants():
    base = load("report_laptop.json")
    text = open(golden("report_laptop.json")).read()
    out = []
    for cut in (1, 20, 300, 1000, len(text) // 2, len(text) - 3):
        out.append(("truncated at byte %d" % cut, text[:cut], None))
    out.append(("empty file", "", None))
    out.append(("binary garbage", "\x00\x01\x02\xff", None))
    out.append(("NaN literal", text.replace('"median": 2.0', '"median": NaN', 1), None))
    out.append(("Infinity literal", text.replace('"median": 2.0', '"median": Infinity', 1),
                None))
    out.append(("number overflowing a double", text.replace('"median": 2.0', '"median": 1e999',
                                                            1), None))
    out.append(("integer overflowing int64",
                text.replace('"width": 64', '"width": 99999999999999999999999', 1), None))

    def edit(what, field, fn):
        doc = copy.deepcopy(base)
        fn(doc)
        out.append((what, json.dumps(doc), field))
    out.append(("top level an array", "[1, 2]", "top level"))
    edit("top level an empty object", "schema is missing", lambda d: d.clear())
    edit("results not an array", "results", lambda d: d.update(results={"a": 1}))
    edit("results missing", "results", lambda d: d.pop("results"))
    edit("schema missing", "schema", lambda d: d.pop("schema"))
    edit("schema a number", "schema", lambda d: d.update(schema=1))
    edit("op missing", "results[0].op", lambda d: d["results"][0].pop("op"))
    edit("op a number", "results[0].op", lambda d: d["results"][0].update(op=5))
    edit("stack missing", "results[1].stack", lambda d: d["results"][1].pop("stack"))
    edit("width a string", "results[0].stack.width",
         lambda d: d["results"][0]["stack"].update(width="64"))
    edit("width a fraction", "results[0].stack.width",
         lambda d: d["results"][0]["stack"].update(width=64.5))
    edit("width zero", "results[0].stack.width",
         lambda d: d["results"][0]["stack"].update(width=0))
    edit("width negative", "results[0].stack.width",
         lambda d: d["results"][0]["stack"].update(width=-64))
    edit("width huge", "results[2].stack.depth",
         lambda d: d["results"][2]["stack"].update(depth=10 ** 18))
    edit("width 1e300", "results[0].stack.height",
         lambda d: d["results"][0]["stack"].update(height=1e300))
    edit("dtype missing", "results[0].stack.dtype",
         lambda d: d["results"][0]["stack"].pop("dtype"))
    edit("status unknown", "results[0].status", lambda d: d["results"][0].update(status="ok"))
    edit("gpu_ms a number", "results[0].gpu_ms", lambda d: d["results"][0].update(gpu_ms=3))
    edit("median a string", "results[0].gpu_ms.median",
         lambda d: d["results"][0]["gpu_ms"].update(median="2.0"))
    edit("median huge", "results[0].gpu_ms.median",
         lambda d: d["results"][0]["gpu_ms"].update(median=1e200))
    edit("cpu_ms negative", "results[0].cpu_ms", lambda d: d["results"][0].update(cpu_ms=-1))
    edit("speedup a list", "results[0].speedup", lambda d: d["results"][0].update(speedup=[1]))
    edit("bytes_moved a fraction", "results[0].bytes_moved",
         lambda d: d["results"][0].update(bytes_moved=0.5))
    edit("delta a string", "results[0].delta", lambda d: d["results"][0].update(delta="none"))
    edit("delta max_abs huge", "results[0].delta.max_abs",
         lambda d: d["results"][0]["delta"].update(max_abs=1e305))
    edit("params a list", "results[0].params", lambda d: d["results"][0].update(params=[1]))
    edit("param a string", "results[1].params.sigma_x",
         lambda d: d["results"][1]["params"].update(sigma_x="1"))
    edit("op name too long", "results[0].op", lambda d: d["results"][0].update(op="x" * 200))
    edit("device a number", "devices[0].name", lambda d: d["devices"][0].update(name=7))
    edit("host a string", "host", lambda d: d.update(host="laptop"))
    edit("cpu_threads negative", "host.cpu_threads",
         lambda d: d["host"].update(cpu_threads=-3))
    return out


def check_malformed():
    for i, (what, text, field) in enumerate(malformed_variants()):
        path = os.path.join(TMP, "bad%d.json" % i)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        for cmd in (["report", path, "--text"], ["compare", golden("report_laptop.json"), path]):
            r = vb(*cmd)
            err = r.stderr.strip()
            ok = r.returncode == 2 and len(r.stderr.splitlines()) == 1 and not r.stdout
            ok = ok and (field is None or field in err)
            check(ok, "%s %s: exit 2, one line%s" % (cmd[0], what, " naming " + field
                                                       if field else ""),
                  "exit %d: %s" % (r.returncode, err[:300]))


# ---- the page ----

class PageParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.svgs, self.scripts, self.fetches = [], 0, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        self.svgs += tag == "svg"
        self.scripts += tag == "script"
        for key in ("src", "srcset"):
            if key in a:
                self.fetches.append(a[key])
        if tag == "link":
            self.fetches.append(a.get("href"))


def check_page():
    out = os.path.join(TMP, "page")
    r = vb("report", golden("report_scaling.json"), "--html", out)
    check(r.returncode == 0, "the sweep's page is written", r.stderr)
    p = PageParser()
    p.feed(open(os.path.join(out, "index.html")).read())
    dup = {i for i in p.ids if p.ids.count(i) > 1}
    check(p.svgs == 3, "the page holds 3 inline SVG plots (%d)" % p.svgs)
    check(not dup, "every id on the page is unique (the SVGs' ids are prefixed)", sorted(dup)[:5])
    check(p.scripts == 0 and not p.fetches, "no script and nothing fetched", p.fetches[:3])
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        check(False, "the page is loaded in headless Chromium",
              "chromium is not installed: 'make test' installs it (make setup-test)")
        return
    keep = os.path.join(os.environ.get("BUILD", TMP), "test-output")
    os.makedirs(keep, exist_ok=True)
    shot = os.path.join(keep, "report_page.png")
    url = "file://" + os.path.join(out, "index.html")
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + os.path.join(TMP, "chromium")]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    check(dom.returncode == 0 and dom.stdout.count("<svg") == 3,
          "Chromium loads the page and builds its 3 SVG plots",
          "exit %d, %d svg" % (dom.returncode, dom.stdout.count("<svg")))
    r = subprocess.run(base + ["--window-size=1280,2600", "--screenshot=" + shot, url],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and os.path.getsize(shot) > 20000,
          "Chromium screenshot kept for a person at " + shot, r.stderr[-300:])


# ---- 10,000 rows ----

def big_report(path):
    doc = load("report_scaling.json")
    proto = doc["results"][0]
    rows = []
    ops = ["op%02d" % i for i in range(25)]
    for op in ops:
        for size in (32, 64, 128, 256, 512):
            for dtype in ("u8", "u16", "u32", "i32", "f32"):
                for backend in ("opencl", "cuda"):
                    for radius in range(8):
                        r = copy.deepcopy(proto)
                        n = size ** 3
                        r.update(op=op, backend=backend, params={"radius_x": radius})
                        r["stack"].update(width=size, height=size, depth=size, dtype=dtype)
                        r["gpu_ms"].update(median=1e-6 * n * (1 + radius), min=1e-6 * n,
                                           max=2e-6 * n)
                        r["cpu_ms"] = 3e-5 * n
                        r["speedup"] = r["cpu_ms"] / r["gpu_ms"]["median"]
                        rows.append(r)
    doc["results"] = rows
    with open(path, "w") as f:
        json.dump(doc, f)
    return len(rows)


def check_speed():
    path = os.path.join(TMP, "big.json")
    n = big_report(path)
    t0 = time.monotonic()
    r = vb("report", path, "--html", os.path.join(TMP, "big"))
    dt = time.monotonic() - t0
    out = os.path.join(TMP, "big")
    rows = 0
    if os.path.exists(os.path.join(out, "results.csv")):
        with open(os.path.join(out, "results.csv"), newline="") as f:
            rows = sum(1 for _ in csv.DictReader(f))
    check(r.returncode == 0 and n == 10000 and rows == n and
          os.path.exists(os.path.join(out, "index.html")),
          "a %d-row report becomes a page with plots and a %d-row results.csv" % (n, rows),
          r.stderr)
    # a figure, not a check (the time of a shared machine is not the code's)
    print("# the 10000-row page took %.2f s" % dt)


check_csv("report_laptop.json")
check_csv("report_desktop.json")
check_csv("report_scaling.json")
check_scaling()
check_compare()
check_malformed()
check_page()
check_speed()
sys.exit(1 if failures else 0)
