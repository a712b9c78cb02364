"""The report and compare pages as a person sees them: headless Chromium at 1400 px.

For each page a screenshot is taken (kept in $BUILD/test-output/ for a person to look at) and
read back pixel by pixel: the speedup chart must have one bar per op variant (every row, no
"first 60"), counted here from the JSON; the compare chart one bar per shared row; the overview
one cell per row; nothing may reach the right edge of the 1400 px window (cut off). The expected
counts come from the reports themselves, never from voxbench's own output.
"""
import html.parser
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

VB = os.environ["VOXBENCH"]
TMP = os.environ["TEST_TMP"]
HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
REFERENCE = os.path.join(HERE, "..", "reports", "reference")
KEEP = os.path.join(os.environ.get("BUILD", TMP), "test-output")
WIDTH = 1400
failures = 0

# The bar colours of the charts (reports/report_charts.c, reports/compare_html.c), drawn at
# 0.9 opacity on white.
BAR_RGB = [0x3b884e, 0xc8372d, 0xb0b6bf, 0x7a1f1a, 0x8a93a3]
BAR = [tuple(round(0.9 * ((c >> s) & 255) + 0.1 * 255) for s in (16, 8, 0)) for c in BAR_RGB]


def check(cond, what, detail=""):
    global failures
    if cond:
        print("ok - " + what)
    else:
        failures += 1
        print("not ok - " + what + (": " + str(detail) if detail else ""))
    sys.stdout.flush()


def vb(*args):
    return subprocess.run([VB] + list(args), capture_output=True, text=True, timeout=300)


def load(path):
    with open(path) as f:
        return json.load(f)


def params_key(r):
    return tuple(sorted(r["params"].items()))


def positive(v):
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def variants_with_speedup(doc):
    """Op variants (op, params, dtype, backend, device) that have a speedup: one bar each."""
    return {(r["op"], params_key(r), r["stack"]["dtype"], r["backend"], r["device"])
            for r in doc["results"] if positive(r.get("speedup"))}


def shared_rows(a, b):
    def key(r):
        s = r["stack"]
        return (r["op"], params_key(r), s["width"], s["height"], s["depth"], s["dtype"],
                r["backend"])

    def t(r):
        return r["status"] in ("pass", "fail") and positive(r["gpu_ms"]["median"])
    ta = {key(r): r for r in a["results"]}
    tb = {key(r): r for r in b["results"]}
    return [k for k in ta if k in tb and t(ta[k]) and t(tb[k])]


def screenshot(page, name, height):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    shot = os.path.join(KEEP, name + ".png")
    r = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--user-data-dir=" + os.path.join(TMP, "chromium"),
                        "--window-size=%d,%d" % (WIDTH, height), "--screenshot=" + shot,
                        "file://" + page], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.exists(shot):
        return None, r.stderr[-300:]
    return Image.open(shot).convert("RGB"), shot


def bar_mask(img):
    """Pixels of a bar: a bar colour here and 8 and 16 px to the right (every bar is wider
    than that; a glyph's anti-aliased stroke is not)."""
    a = np.asarray(img).astype(int)
    m = np.zeros(a.shape[:2], bool)
    for c in BAR:
        m |= np.abs(a - np.array(c)).sum(axis=2) <= 18
    wide = m.copy()
    wide[:, :-16] &= m[:, 8:-8] & m[:, 16:]
    wide[:, -16:] = False
    return wide


def most_bars(img):
    """The most bars any one pixel column crosses: runs of bar pixels at least 7 px tall
    (a bar is 11; the with-transfers dot on a bar splits it into two shorter runs)."""
    m = bar_mask(img).astype(np.int8)
    edges = np.diff(np.vstack([np.zeros((1, m.shape[1]), np.int8), m,
                               np.zeros((1, m.shape[1]), np.int8)]), axis=0)
    best = 0
    for x in range(m.shape[1]):
        starts = np.flatnonzero(edges[:, x] == 1)
        ends = np.flatnonzero(edges[:, x] == -1)
        best = max(best, int(((ends - starts) >= 7).sum()))
    return best


def cut_at_right(img):
    """Whether anything is drawn in the window's last 12 px columns (a page wider than 1400)."""
    return bool((np.asarray(img)[:, -12:] != 255).any())


class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.classes, self.svg_heights = 0, [], {}
        self.figure = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "span" and a.get("class") == "r":
            self.cells += 1
        if tag == "td" and "c" in (a.get("class") or "").split():
            self.classes.append(a["class"])
        if tag == "figure":
            self.figure = a.get("id")
        if tag == "svg" and self.figure and "viewbox" in a:
            self.svg_heights[self.figure] = float(a["viewbox"].split()[3])


def page_height(index):
    """Enough window for the page down to the end of its last chart."""
    c = Cells()
    with open(index) as f:
        c.feed(f.read())
    return c, int(sum(c.svg_heights.values()) + 60 * c.cells / 8 + 4000)


def check_report(path, name, crop_to=None):
    doc = load(path)
    out = os.path.join(TMP, name)
    r = vb("report", path, "--html", out)
    check(r.returncode == 0, "%s: report --html exits 0" % name, r.stderr[-300:])
    index = os.path.join(out, "index.html")
    cells, height = page_height(index)
    check(cells.cells == len(doc["results"]),
          "%s: the overview has one cell per row (%d of %d)" % (name, cells.cells,
                                                                 len(doc["results"])))
    statuses = {r["status"] for r in doc["results"]}
    seen = {c.split()[1] for c in cells.classes}
    check(statuses <= seen, "%s: overview cells coloured per verdict (%s)" %
          (name, ", ".join(sorted(seen))), sorted(statuses - seen))
    img, shot = screenshot(index, name, min(height, 16000))
    if img is None:
        check(False, "%s: Chromium screenshot" % name, shot)
        return
    check(not cut_at_right(img), "%s: nothing reaches the right edge at %d px (%s)" %
          (name, WIDTH, shot))
    want = len(variants_with_speedup(doc))
    got = most_bars(img)
    check(got == want, "%s: the speedup chart in the screenshot has one bar per op variant "
          "(%d bars, %d variants in the report)" % (name, got, want))


def check_compare(a, b, name):
    out = os.path.join(TMP, name)
    r = vb("compare", a, b, "--html", out)
    check(r.returncode == 0, "%s: compare --html exits 0" % name, r.stderr[-300:])
    index = os.path.join(out, "index.html")
    with open(index) as f:
        text = f.read()
    check('id="differs"' in text, "%s: the page has the table of what differs" % name)
    _, height = page_height(index)
    img, shot = screenshot(index, name, min(height, 16000))
    if img is None:
        check(False, "%s: Chromium screenshot" % name, shot)
        return
    want = len(shared_rows(load(a), load(b)))
    got = most_bars(img)
    check(got == want, "%s: the compare chart in the screenshot has one bar per shared row "
          "(%d bars, %d shared rows) (%s)" % (name, got, want, shot))


def check_fields():
    """The text table's params column, % of tolerance, and the noisy-run warning, from a golden
    report and copies of it with a busy load average and spread GPU times."""
    path = os.path.join(GOLDEN, "report_laptop.json")
    doc = load(path)
    text = vb("report", path, "--text").stdout
    blur = [ln for ln in text.splitlines() if ln.startswith("gaussian_blur ")]
    check(blur and "sigma_xyz=1" in blur[0],
          "report --text: the params column tells gaussian_blur's parameters", blur)
    check("warning" not in text, "report --text: no noisy-run warning without a load average")
    out = os.path.join(TMP, "fields")
    vb("report", path, "--html", out)
    page = open(os.path.join(out, "index.html")).read()
    for r in doc["results"]:
        d = r.get("delta") or {}
        if d.get("tolerance"):
            want = "%.1f" % (100 * d["max_abs"] / d["tolerance"])
            check('<td class="n">%s</td>' % want in page,
                  "the page shows %s's %% of tolerance, %s" % (r["op"], want))
    check('id="noisy"' not in page, "the page has no noisy-run note for a quiet report")

    busy = dict(doc)
    busy["host"] = dict(doc["host"], load_start=0.9 * doc["host"]["cpu_threads"], load_end=0.5)
    bpath = os.path.join(TMP, "busy.json")
    with open(bpath, "w") as f:
        json.dump(busy, f)
    text = vb("report", bpath, "--text").stdout
    want = "the machine was busy: load average %.2f" % busy["host"]["load_start"]
    check(want in text, "report --text warns of a busy machine (%s)" % want, text[:600])
    vb("report", bpath, "--html", os.path.join(TMP, "busy"))
    check('id="noisy"' in open(os.path.join(TMP, "busy", "index.html")).read(),
          "the page of a busy run opens with the noisy-run note")

    spread = json.loads(json.dumps(doc))
    for r in spread["results"]:
        g = r["gpu_ms"]
        if isinstance(g.get("median"), (int, float)):
            g.update(min=0.5 * g["median"], max=2 * g["median"], runs=5)
    spath = os.path.join(TMP, "spread.json")
    with open(spath, "w") as f:
        json.dump(spread, f)
    timed = sum(1 for r in spread["results"] if positive(r["gpu_ms"].get("median")))
    text = vb("report", spath, "--text").stdout
    check("%d of %d timed rows spread" % (timed, timed) in text,
          "report --text warns of GPU times spread over %d rows" % timed, text[:600])


check_fields()
if not (shutil.which("chromium") or shutil.which("chromium-browser")):
    print("ok - report pages in Chromium # SKIP chromium is not installed (make setup-test)")
    sys.exit(0)
os.makedirs(KEEP, exist_ok=True)
check_report(os.path.join(GOLDEN, "report_laptop.json"), "page_laptop")
check_report(os.path.join(REFERENCE, "pocl_standard.json"), "page_pocl_standard")
check_compare(os.path.join(GOLDEN, "report_laptop.json"), os.path.join(GOLDEN,
              "report_desktop.json"), "compare_golden")
sys.exit(1 if failures else 0)
