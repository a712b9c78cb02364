#!/usr/bin/python3
"""tests/test_conventions.py: every op beside clEsperanto (pyclesperanto) and scipy/scikit-image.

voxbench's GPU output, as users see it (`voxbench run --save-outputs`), is compared with the
same op called the way users call it in pyclesperanto (the real one, from $VENV_PYTHON: make
setup-venv, PoCL here) and in scipy.ndimage / scikit-image / numpy where an equivalent exists,
over synthetic stacks (integer and float, a single plane, odd sizes, non-default parameters)
and the real stacks of $VB_DATA/stacks. Each (op, library, stack) pair ends as one of:

- equal: within the op's own rule (`voxbench list OP`: exact, float(t), reduce(t), labels);
- documented: a difference that a row of ops/conventions.def names (the table rendered into
  `voxbench list OP`): the row's adapter, a function below, reproduces both sides' documented
  conventions, and the pair is equal once it is applied; every row must show its difference on
  at least one stack (or the row is stale) and every adapter must belong to a row;
- failed: anything else.

The last line before the checks' verdict is the summary: equal / documented / failed.
One voxbench run per stack batch; everything on the Python side runs in this one process
(re-executed under $VENV_PYTHON when it exists, which also sees Debian's numpy and scipy).
"""
import json
import math
import os
import re
import subprocess
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.environ.get("VENV_PYTHON", "")
# a venv's python is a link to the system's: the venv is told by sys.prefix
if (VENV_PYTHON and os.path.exists(VENV_PYTHON) and not os.environ.get("VB_CONVENTIONS_CHILD")
        and os.path.realpath(sys.prefix) !=
        os.path.realpath(os.path.dirname(os.path.dirname(VENV_PYTHON)))):
    os.environ["VB_CONVENTIONS_CHILD"] = "1"
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])

sys.path.insert(0, HERE)
import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from scipy import ndimage as ndi  # noqa: E402

from vbcheck import check, exit_status  # noqa: E402

warnings.filterwarnings("ignore")
VOXBENCH = os.environ.get("VOXBENCH", os.path.join(HERE, "..", "build", "voxbench"))
TMP = os.environ.get("TEST_TMP") or "/tmp"
DATA = os.environ.get("VB_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
TABLE = os.path.join(HERE, "..", "ops", "conventions.def")
VERBOSE = bool(os.environ.get("VB_CONVENTIONS_VERBOSE"))
# a comma-separated subset of ops, for working on them: the table-wide checks are then skipped
ONLY = [o for o in os.environ.get("VB_CONVENTIONS_OPS", "").split(",") if o]

try:
    import pyclesperanto as cle
    cle.wait_for_kernel_to_finish(True)
except Exception as e:  # noqa: BLE001 - any failure to import is a skip, said once
    cle = None
    CLE_MISSING = f"{type(e).__name__}: {e}"
try:
    import skimage
    import skimage.metrics
    from skimage import filters as skf, measure as skm, segmentation as sks, util as sku
except Exception:  # noqa: BLE001
    skimage = None


# ---- the conventions table (ops/conventions.def) ----

def c_text(field):
    """A C string expression (literals and macro names) joined into its text."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', field)).replace('\\"', '"')


def c_args(text):
    """A macro call's arguments split at the commas outside string literals."""
    args, cur, quoted, i = [], "", False, 0
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\":
            cur += text[i:i + 2]
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            args.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    return args + [cur]


def c_value(arg, macros):
    """One argument's text: its string literals and macro names, concatenated."""
    out = ""
    for lit, name in re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Z][A-Z0-9_]*)', arg):
        out += macros.get(name, "") if name else lit.replace('\\"', '"')
    return out


def conventions_table():
    """[{op, lib, adapter, library, voxbench, why}] from ops/conventions.def, macros expanded."""
    text = open(TABLE).read()
    macros = {}
    for m in re.finditer(r'^#define ([A-Z][A-Z0-9_]*) ((?:[^\n]|\\\n)*)', text, re.M):
        if "(" not in m.group(1):
            macros[m.group(1)] = c_value(m.group(2), macros)
    rows = []
    for m in re.finditer(r'^\tCONVENTION\((.*?)\),\s*$', text, re.M | re.S):
        vals = [c_value(a, macros) for a in c_args(m.group(1))]
        if len(vals) != 6 or not all(vals):
            rows.append({"bad": m.group(0)[:120]})
            continue
        rows.append(dict(zip(("op", "lib", "adapter", "library", "voxbench", "why"), vals)))
    return rows


# ---- the ops as voxbench lists them ----

def op_list():
    p = subprocess.run([VOXBENCH, "list", "--json"], capture_output=True, text=True, check=True)
    return {o["name"]: o for o in json.loads(p.stdout)}


def rule_of(op):
    m = re.match(r"(\w+)(?:\(([\d.e+-]+)\))?", op["compare"])
    return m.group(1), float(m.group(2) or 0)


# ---- the stacks and the runs ----

# Few distinct shapes: pyclesperanto (CLIc) compiles each kernel for each shape and type it
# meets, which is most of this test's time with a cold kernel cache (CI). The parameter batches
# reuse the default batches' shapes; odd and even sizes, a single plane and real stacks remain.
SYNTHETIC = [
    # name, stack, size, dtype, --param assignments
    ("blobs-u16", "blobs", "19x13x7", "u16", []),
    ("noise-f32", "noise", "17x11x5", "f32", []),
    ("plane-u8", "blobs", "23x19x1", "u8", ["ddof=1"]),
    ("blobs-f32-params", "blobs", "17x11x5", "f32",
     ["radius_x=2", "radius_y=1", "radius_z=0", "sigma_x=1.3", "sigma_y=0.7", "sigma_z=1.1",
      "sigma1_x=0.8", "sigma2_x=1.7", "scalar=3.5", "factor0=0.3", "factor1=-1.7",
      "min_intensity=30", "max_intensity=90.5", "ddof=0", "num_bins=17",
      "translate_x=1.5", "translate_y=-2.25", "translate_z=0.5", "angle_z=17",
      "factor_x=0.7", "factor_y=1.3", "factor_z=1.0", "flip_y=0", "start_x=3", "start_y=2",
      "start_z=1", "width=9", "height=7", "depth=4", "size_x=3", "size_y=1", "size_z=0",
      "value=7", "center=0", "maximum_size=20", "minimum_size=5", "radius=1",
      "spot_sigma=1.5", "outline_sigma=1", "m00=0.9", "m01=0.2", "m03=1.5", "m11=1.1",
      "m13=-0.5", "m22=1", "m23=0.25", "dimension=1", "axis=2", "shift_x=2", "shift_y=-3",
      "shift_z=1", "reduction_factor=3", "offset=1", "end_z=2", "border_size=2",
      "value_to_replace=40", "value_replacement=-3"]),
    ("blobs-u16-nearest", "blobs", "19x13x7", "u16",
     ["interpolation=nearest", "ddof=1", "radius_x=1", "radius_y=2", "radius_z=1",
      "factor_x=2", "factor_y=0.5", "factor_z=1", "angle_z=90", "m00=1", "m03=2", "m13=-1",
      "num_bins=64", "minimum_intensity=0", "maximum_intensity=4000", "label=2",
      "label_id=2", "ignore_background=0"]),
]
REAL = [
    ("05_mini-t1-head_ImageJ_u16.tif", []),
    ("08_nuclei_synthetic_deflate_u16.tif", []),
    ("07_mitosis_ImageJ_5D_tzcyx_u16.tif", ["--frame", "1", "--channel", "1"]),
]


class Batch:
    """One voxbench run: its rows, its saved outputs and the inputs each op was given."""

    def __init__(self, name, args, second_args=None):
        self.name = name
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir, exist_ok=True)
        report = os.path.join(self.dir, "report.json")
        cmd = [VOXBENCH, "run", "--probe", "none", "--repeat", "1", "--cpu-runs", "1",
               "--ops", ",".join(["copy", "relabel_sequential"] + ONLY) if ONLY else "all",
               "--save-outputs", self.dir, "--out", report] + args
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        self.seconds = time.time() - t0
        self.ok = os.path.exists(report)
        self.why = f"exit {p.returncode}: {p.stderr[-400:]}"
        self.rows = json.load(open(report))["results"] if self.ok else []
        self.rows = [r for r in self.rows if r["backend"] in ("opencl", "cuda")][:]
        # a skip for a dtype the op does not take (mode_box: u8 only) is the op's rule
        self.failed = [(r["op"], r["status"], r["reason"][:100]) for r in self.rows
                       if r["status"] != "pass" and not (
                           r["status"] == "skip" and "does not accept" in r["reason"])]
        self.b = None
        if second_args and self.ok:
            d2 = os.path.join(self.dir, "second")
            os.makedirs(d2, exist_ok=True)
            subprocess.run([VOXBENCH, "run", "--probe", "none", "--repeat", "1", "--ops",
                            "copy", "--save-outputs", d2, "--out",
                            os.path.join(d2, "r.json")] + second_args,
                           capture_output=True, text=True, timeout=300)
            files = [f for f in os.listdir(d2) if f.startswith("copy_") and f.endswith(".tif")]
            self.b = tifffile.imread(os.path.join(d2, files[0])) if files else None

    def output(self, row):
        """The saved GPU output of a row: (z, y, x) numpy array, or a table from CSV."""
        s = row["stack"]
        stem = f"{row['op']}_{s['width']}x{s['height']}x{s['depth']}_{s['dtype']}"
        for f in sorted(os.listdir(self.dir)):
            if not f.startswith(stem):
                continue
            path = os.path.join(self.dir, f)
            if f.endswith(".csv"):
                return np.genfromtxt(path, delimiter=",", names=True)
            if f.endswith(".tif") and not f.endswith("_reference.tif"):
                return tifffile.imread(path)
        return None


# ---- inputs by role ----

def binary_of(x):
    x64 = x.astype(np.float64)
    return (x64 > x64.sum() / x.size).astype(x.dtype)


def labels_of(binary):
    return ndi.label(binary != 0)[0].astype(np.uint32)


class Case:
    """What one op of one batch was given, with its parameters."""

    def __init__(self, op, row, a, b, labs):
        self.op, self.row, self.p = op, row, dict(row["params"])
        roles = op["roles"]
        pool = {"image": [a, b], "binary": [binary_of(a), binary_of(b)], "labels": labs}
        self.i = [pool[r][k] for k, r in enumerate(roles)]
        self.i0 = self.i[0]
        self.i1 = self.i[1] if len(self.i) > 1 else None
        p = self.p
        if "radius_x" in p:
            self.r3 = dict(radius_x=p["radius_x"], radius_y=p["radius_y"], radius_z=p["radius_z"])
            rx, ry, rz = (int(p[k]) for k in ("radius_x", "radius_y", "radius_z"))
            self.size3 = (2 * rz + 1, 2 * ry + 1, 2 * rx + 1)
            self.ball = ball(rx, ry, rz)
        if "sigma_x" in p:
            self.s3 = dict(sigma_x=p["sigma_x"], sigma_y=p["sigma_y"], sigma_z=p["sigma_z"])
            self.szyx = (p["sigma_z"], p["sigma_y"], p["sigma_x"])

    def f(self, x=None):
        return (self.i0 if x is None else x).astype(np.float32)


def ball(rx, ry, rz):
    """voxbench's ellipsoid: (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, a radius-0 axis offset 0."""
    z, y, x = np.mgrid[-rz:rz + 1, -ry:ry + 1, -rx:rx + 1].astype(np.float64)
    t = sum((d / r) ** 2 if r else np.where(d == 0, 0.0, 2.0) for d, r in
            ((x, rx), (y, ry), (z, rz)))
    return t <= 1


# ---- pyclesperanto, called as users call it ----

def P(x):
    return None if x is None else np.asarray(cle.pull(x)) if not isinstance(
        x, (int, float, list, tuple, dict, np.ndarray)) else x


def stats_columns(d):
    keys = ["label", "area", "sum_intensity", "mean_intensity", "min_intensity",
            "max_intensity", "standard_deviation_intensity", "centroid_x", "centroid_y",
            "centroid_z", "bbox_min_x", "bbox_min_y", "bbox_min_z", "bbox_max_x", "bbox_max_y",
            "bbox_max_z"]
    return {k: np.asarray(d[k]) for k in keys if k in d}


CLE = {
    "copy": lambda c: cle.copy(c.i0),
    "add_images": lambda c: cle.add_images(c.i0, c.i1),
    "subtract_images": lambda c: cle.subtract_images(c.i0, c.i1),
    "multiply_images": lambda c: cle.multiply_images(c.i0, c.i1),
    "divide_images": lambda c: cle.divide_images(c.i0, c.i1),
    "add_image_and_scalar": lambda c: cle.add_image_and_scalar(c.i0, scalar=c.p["scalar"]),
    "multiply_image_and_scalar":
        lambda c: cle.multiply_image_and_scalar(c.i0, scalar=c.p["scalar"]),
    "subtract_image_from_scalar":
        lambda c: cle.subtract_image_from_scalar(c.i0, scalar=c.p["scalar"]),
    "absolute": lambda c: cle.absolute(c.i0),
    "power": lambda c: cle.power(c.i0, scalar=c.p["scalar"]),
    "square_root": lambda c: cle.square_root(c.i0),
    "exponential": lambda c: cle.exponential(c.i0),
    "logarithm": lambda c: cle.logarithm(c.i0),
    "maximum_images": lambda c: cle.maximum_images(c.i0, c.i1),
    "minimum_images": lambda c: cle.minimum_images(c.i0, c.i1),
    "maximum_image_and_scalar":
        lambda c: cle.maximum_image_and_scalar(c.i0, scalar=c.p["scalar"]),
    "minimum_image_and_scalar":
        lambda c: cle.minimum_image_and_scalar(c.i0, scalar=c.p["scalar"]),
    "absolute_difference": lambda c: cle.absolute_difference(c.i0, c.i1),
    "squared_difference": lambda c: cle.squared_difference(c.i0, c.i1),
    "add_images_weighted": lambda c: cle.add_images_weighted(
        c.i0, c.i1, factor1=c.p["factor0"], factor2=c.p["factor1"]),
    "clip": lambda c: cle.clip(c.i0, min_intensity=c.p["min_intensity"],
                               max_intensity=c.p["max_intensity"]),
    "mask": lambda c: cle.mask(c.i0, c.i1),
    "invert": lambda c: cle.invert(c.i0),
    "equal": lambda c: cle.equal(c.i0, c.i1),
    "not_equal": lambda c: cle.not_equal(c.i0, c.i1),
    "greater": lambda c: cle.greater(c.i0, c.i1),
    "greater_or_equal": lambda c: cle.greater_or_equal(c.i0, c.i1),
    "smaller": lambda c: cle.smaller(c.i0, c.i1),
    "smaller_or_equal": lambda c: cle.smaller_or_equal(c.i0, c.i1),
    "greater_constant": lambda c: cle.greater_constant(c.i0, scalar=c.p["scalar"]),
    "equal_constant": lambda c: cle.equal_constant(c.i0, scalar=c.p["scalar"]),
    "not_equal_constant": lambda c: cle.not_equal_constant(c.i0, scalar=c.p["scalar"]),
    "greater_or_equal_constant":
        lambda c: cle.greater_or_equal_constant(c.i0, scalar=c.p["scalar"]),
    "smaller_constant": lambda c: cle.smaller_constant(c.i0, scalar=c.p["scalar"]),
    "smaller_or_equal_constant":
        lambda c: cle.smaller_or_equal_constant(c.i0, scalar=c.p["scalar"]),
    "binary_and": lambda c: cle.binary_and(c.i0, c.i1),
    "binary_or": lambda c: cle.binary_or(c.i0, c.i1),
    "binary_xor": lambda c: cle.binary_xor(c.i0, c.i1),
    "binary_not": lambda c: cle.binary_not(c.i0),
    "binary_subtract": lambda c: cle.binary_subtract(c.i0, c.i1),

    "gaussian_blur": lambda c: cle.gaussian_blur(c.i0, **c.s3),
    "mean_box": lambda c: cle.mean_box(c.i0, **c.r3),
    "minimum_box": lambda c: cle.minimum_box(c.i0, **c.r3),
    "maximum_box": lambda c: cle.maximum_box(c.i0, **c.r3),
    "mean_sphere": lambda c: cle.mean_sphere(c.i0, **c.r3),
    "minimum_sphere": lambda c: cle.minimum_sphere(c.i0, **c.r3),
    "maximum_sphere": lambda c: cle.maximum_sphere(c.i0, **c.r3),
    "median_box": lambda c: cle.median_box(c.i0, **c.r3),
    "median_sphere": lambda c: cle.median_sphere(c.i0, **c.r3),
    "variance_box": lambda c: cle.variance_box(c.i0, **c.r3),
    "variance_sphere": lambda c: cle.variance_sphere(c.i0, **c.r3),
    "standard_deviation_box": lambda c: cle.standard_deviation_box(c.i0, **c.r3),
    "standard_deviation_sphere": lambda c: cle.standard_deviation_sphere(c.i0, **c.r3),
    "erode_box": lambda c: cle.binary_erode(c.i0, **c.r3, connectivity="box"),
    "erode_sphere": lambda c: cle.binary_erode(c.i0, **c.r3, connectivity="sphere"),
    "dilate_box": lambda c: cle.binary_dilate(c.i0, **c.r3, connectivity="box"),
    "dilate_sphere": lambda c: cle.binary_dilate(c.i0, **c.r3, connectivity="sphere"),
    "detect_maxima_box": lambda c: cle.detect_maxima_box(c.i0, **c.r3),
    "difference_of_gaussian": lambda c: cle.difference_of_gaussian(
        c.i0, **{k: c.p[k] for k in ("sigma1_x", "sigma1_y", "sigma1_z", "sigma2_x",
                                     "sigma2_y", "sigma2_z")}),
    "subtract_gaussian_background": lambda c: cle.subtract_gaussian_background(c.i0, **c.s3),
    "sobel": lambda c: cle.sobel(c.i0),
    "laplace_box": lambda c: cle.laplace_box(c.i0),
    "laplace_diamond": lambda c: cle.laplace_diamond(c.i0),
    "gradient_x": lambda c: cle.gradient_x(c.i0),
    "gradient_y": lambda c: cle.gradient_y(c.i0),
    "gradient_z": lambda c: cle.gradient_z(c.i0),
    "opening_box": lambda c: cle.opening_box(c.i0, **c.r3),
    "closing_box": lambda c: cle.closing_box(c.i0, **c.r3),
    "top_hat_box": lambda c: cle.top_hat_box(c.i0, **c.r3),
    "bottom_hat_box": lambda c: cle.bottom_hat_box(c.i0, **c.r3),
    "opening_sphere": lambda c: cle.opening_sphere(c.i0, **c.r3),
    "closing_sphere": lambda c: cle.closing_sphere(c.i0, **c.r3),
    "top_hat_sphere": lambda c: cle.top_hat_sphere(c.i0, **c.r3),

    "maximum_z_projection": lambda c: cle.maximum_z_projection(c.i0),
    "minimum_z_projection": lambda c: cle.minimum_z_projection(c.i0),
    "sum_z_projection": lambda c: cle.sum_z_projection(c.i0),
    "mean_z_projection": lambda c: cle.mean_z_projection(c.i0),
    "std_z_projection": lambda c: cle.std_z_projection(c.i0, ddof=int(c.p["ddof"])),
    "arg_maximum_z_projection": lambda c: cle.z_position_of_maximum_z_projection(c.i0),
    "maximum_y_projection": lambda c: cle.maximum_y_projection(c.i0),
    "minimum_y_projection": lambda c: cle.minimum_y_projection(c.i0),
    "sum_y_projection": lambda c: cle.sum_y_projection(c.i0),
    "mean_y_projection": lambda c: cle.mean_y_projection(c.i0),
    "maximum_x_projection": lambda c: cle.maximum_x_projection(c.i0),
    "minimum_x_projection": lambda c: cle.minimum_x_projection(c.i0),
    "sum_x_projection": lambda c: cle.sum_x_projection(c.i0),
    "mean_x_projection": lambda c: cle.mean_x_projection(c.i0),
    "sum_of_all_pixels": lambda c: cle.sum_of_all_pixels(c.i0),
    "maximum_of_all_pixels": lambda c: cle.maximum_of_all_pixels(c.i0),
    "minimum_of_all_pixels": lambda c: cle.minimum_of_all_pixels(c.i0),
    "mean_of_all_pixels": lambda c: cle.mean_of_all_pixels(c.i0),
    "standard_deviation_of_all_pixels":
        lambda c: cle.standard_deviation_of_all_pixels(c.i0, ddof=int(c.p["ddof"])),
    "mean_squared_error": lambda c: cle.mean_squared_error(c.i0, c.i1),
    "center_of_mass": lambda c: cle.center_of_mass(c.i0),
    "histogram": lambda c: cle_histogram(c),

    "transpose_xy": lambda c: cle.transpose_xy(c.i0),
    "transpose_xz": lambda c: cle.transpose_xz(c.i0),
    "transpose_yz": lambda c: cle.transpose_yz(c.i0),
    "flip": lambda c: cle.flip(c.i0, flip_x=c.p["flip_x"] == 1, flip_y=c.p["flip_y"] == 1,
                               flip_z=c.p["flip_z"] == 1),
    "crop": lambda c: cle.crop(c.i0, **{k: int(c.p[k]) for k in (
        "start_x", "start_y", "start_z", "width", "height", "depth")}),
    "pad": lambda c: cle.pad(c.i0, size_x=int(c.p["size_x"]), size_y=int(c.p["size_y"]),
                             size_z=int(c.p["size_z"]), value=c.p["value"],
                             center=c.p["center"] == 1),
    "translate": lambda c: cle.translate(c.i0, translate_x=c.p["translate_x"],
                                         translate_y=c.p["translate_y"],
                                         translate_z=c.p["translate_z"],
                                         interpolate=c.p["interpolation"] == 1),
    "scale": lambda c: cle.scale(c.i0, factor_x=c.p["factor_x"], factor_y=c.p["factor_y"],
                                 factor_z=c.p["factor_z"], centered=True,
                                 interpolate=c.p["interpolation"] == 1,
                                 resize=c.p["auto_size"] == 1),
    "rotate": lambda c: cle.rotate(c.i0, angle_x=c.p["angle_x"], angle_y=c.p["angle_y"],
                                   angle_z=c.p["angle_z"], centered=True,
                                   interpolate=c.p["interpolation"] == 1),
    "affine_transform": lambda c: cle.affine_transform(
        c.i0, transform_matrix=matrix_of(c.p),
        interpolate=c.p["interpolation"] == 1),

    "threshold_otsu": lambda c: cle.threshold_otsu(c.i0),
    "threshold_mean": lambda c: cle.threshold_mean(c.i0),
    "connected_components_labeling_box":
        lambda c: cle.connected_components_labeling(c.i0, connectivity="box"),
    "connected_components_labeling_diamond":
        lambda c: cle.connected_components_labeling(c.i0, connectivity="sphere"),
    "label_spots": lambda c: cle.label_spots(c.i0),
    "relabel_sequential": lambda c: cle.relabel_sequential(c.i0),
    "exclude_labels_on_edges": lambda c: cle.exclude_labels_on_edges(
        c.i0, exclude_x=c.p["exclude_x"] == 1, exclude_y=c.p["exclude_y"] == 1,
        exclude_z=c.p["exclude_z"] == 1),
    "exclude_small_labels":
        lambda c: cle.exclude_small_labels(c.i0, maximum_size=c.p["maximum_size"]),
    "exclude_large_labels":
        lambda c: cle.exclude_large_labels(c.i0, minimum_size=c.p["minimum_size"]),
    "exclude_labels_outside_size_range": lambda c: cle.exclude_labels_outside_size_range(
        c.i0, minimum_size=c.p["minimum_size"], maximum_size=c.p["maximum_size"]),
    "dilate_labels": lambda c: cle.dilate_labels(c.i0, radius=int(c.p["radius"])),
    "erode_labels": lambda c: cle.erode_labels(c.i0, radius=int(c.p["radius"]), relabel=False),
    "masked_voronoi_labeling": lambda c: cle.masked_voronoi_labeling(c.i0, c.i1),
    "voronoi_otsu_labeling": lambda c: cle.voronoi_otsu_labeling(
        c.i0, spot_sigma=c.p["spot_sigma"], outline_sigma=c.p["outline_sigma"]),
    "statistics_of_labelled_pixels":
        lambda c: stats_columns(cle.statistics_of_labelled_pixels(c.i0, c.i1)),
    "centroids_of_labels": lambda c: cle_centroids(c),
    # ops/rows_label3.def, ops/rows_measure3.def
    "detect_label_edges": lambda c: cle.detect_label_edges(c.i0),
    "reduce_labels_to_label_edges": lambda c: cle.reduce_labels_to_label_edges(c.i0),
    "mask_label": lambda c: cle.mask_label(c.i0, c.i1, label=c.p["label"]),
    "pixel_count_map": lambda c: cle.pixel_count_map(c.i0),
    "mean_intensity_map": lambda c: cle.mean_intensity_map(c.i0, c.i1),
    "minimum_intensity_map": lambda c: cle.minimum_intensity_map(c.i0, c.i1),
    "maximum_intensity_map": lambda c: cle.maximum_intensity_map(c.i0, c.i1),
    "standard_deviation_intensity_map":
        lambda c: cle.standard_deviation_intensity_map(c.i0, c.i1),
    "generate_touch_matrix": lambda c: cle.generate_touch_matrix(c.i0),
    "generate_binary_overlap_matrix": lambda c: cle.generate_binary_overlap_matrix(c.i0, c.i1),
    "flag_existing_labels": lambda c: cle.flag_existing_labels(c.i0),
    "jaccard_index": lambda c: cle.jaccard_index(c.i0, c.i1),
    "minimum_of_masked_pixels": lambda c: cle.minimum_of_masked_pixels(c.i0, c.i1),
    "bounding_box": lambda c: cle.bounding_box(c.i0),
    "mean_extension_map": lambda c: cle.mean_extension_map(c.i0),
    "maximum_extension_map": lambda c: cle.maximum_extension_map(c.i0),
    "extension_ratio_map": lambda c: cle.extension_ratio_map(c.i0),
    # ops/rows_label4.def (eroded_otsu_labeling: see its peer row in ops/conventions.def)
    "erode_connected_labels":  # the stacks here take radius 1 (see its peer row)
        lambda c: cle.erode_connected_labels(c.i0, radius=int(c.p["radius"])),
    "opening_labels": lambda c: cle.opening_labels(c.i0, radius=int(c.p["radius"])),
    "closing_labels": lambda c: cle.closing_labels(c.i0, radius=int(c.p["radius"])),
    "smooth_labels": lambda c: cle.smooth_labels(c.i0, radius=int(c.p["radius"])),
    "extend_labeling_via_voronoi": lambda c: cle.extend_labeling_via_voronoi(c.i0),
    "voronoi_labeling": lambda c: cle.voronoi_labeling(c.i0),
    "reduce_labels_to_centroids": lambda c: cle.reduce_labels_to_centroids(c.i0),
    "remove_labels_with_map_values_out_of_range": lambda c: cle_remove_by_values(c, "out_of"),
    "remove_labels_with_map_values_within_range": lambda c: cle_remove_by_values(c, "within"),
    # ops/rows_measure4.def (threshold_triangle and threshold_li: see their peer rows)
    "threshold_yen": lambda c: cle.threshold_yen(c.i0),
    "threshold_isodata": lambda c: cle.threshold_isodata(c.i0),
    "product_of_all_pixels": lambda c: cle.product_of_all_pixels(c.i0),
    "variance_of_all_pixels": lambda c: cle.variance_of_all_pixels(c.i0, ddof=int(c.p["ddof"])),
    "percentile": lambda c: cle.percentile(c.i0, percentile=c.p["percentile"]),
    "normalize": lambda c: cle.normalize(c.f(), low_percentile=c.p["low_percentile"],
                                         high_percentile=c.p["high_percentile"]),
    # not called here, each for pyclesperanto's compile time on PoCL (10 to 120 s apiece):
    # combine_labels, exclude_labels(_with_map_values_*), merge_touching_labels,
    # generate_binary_overlap_matrix, *_of_touching_neighbors_map, read_map_values,
    # (labelled_)spots_to_pointlist, gauss_otsu_labeling, count_touching_neighbors,
    # touching_neighbor_count_map, statistics_of_background_and_labelled_pixels,
    # label_bounding_box, maximum/minimum_position; tests/test_scipy_label3.py checks them
}


def cle_histogram(c):
    lo, hi = c.p["minimum_intensity"], c.p["maximum_intensity"]
    if lo >= hi:
        lo = hi = float("nan")
    return cle.histogram(c.i0, num_bins=int(c.p["num_bins"]), minimum_intensity=lo,
                         maximum_intensity=hi)


def cle_remove_by_values(c, which):
    """The values vector: voxels 0..max label of input 1, as voxbench reads it."""
    values = c.i1.astype(np.float32).ravel()[:int(c.i0.max()) + 1]
    f = getattr(cle, f"remove_labels_with_map_values_{which}_range")
    return f(c.i0, values, min_value=c.p["min_value"], max_value=c.p["max_value"])


def cle_centroids(c):
    # with an output buffer: pyclesperanto 0.25.1 corrupts the heap without one
    n = int(c.i0.max())
    out = cle.create((3, n + 1), dtype=np.float32)
    return cle.centroids_of_labels(c.i0, out, include_background=True)


def matrix_of(p):
    m = np.eye(4)
    for i in range(3):
        for j in range(4):
            m[i, j] = p[f"m{i}{j}"]
    return m


# ---- scipy.ndimage, scikit-image and numpy, called as users call them ----

def nearest(f):
    return lambda c: f(c)


SCIPY = {
    "copy": lambda c: c.i0.copy(),
    "invert": lambda c: sku.invert(c.i0),
    "absolute": lambda c: np.abs(c.i0),
    "maximum_images": lambda c: np.fmax(c.i0, c.i1),
    "minimum_images": lambda c: np.fmin(c.i0, c.i1),
    "clip": lambda c: np.clip(c.i0, c.p["min_intensity"], c.p["max_intensity"]).astype(
        c.i0.dtype),
    "gaussian_blur": lambda c: ndi.gaussian_filter(c.i0, c.szyx, mode="nearest", truncate=4.0),
    "mean_box": lambda c: ndi.uniform_filter(c.i0, c.size3, mode="nearest"),
    "minimum_box": lambda c: ndi.minimum_filter(c.i0, c.size3, mode="nearest"),
    "maximum_box": lambda c: ndi.maximum_filter(c.i0, c.size3, mode="nearest"),
    "median_box": lambda c: ndi.median_filter(c.i0, c.size3, mode="nearest"),
    "minimum_sphere": lambda c: ndi.minimum_filter(c.i0, footprint=c.ball, mode="nearest"),
    "maximum_sphere": lambda c: ndi.maximum_filter(c.i0, footprint=c.ball, mode="nearest"),
    "median_sphere": lambda c: ndi.median_filter(c.i0, footprint=c.ball, mode="nearest"),
    "erode_box": lambda c: ndi.binary_erosion(c.i0 != 0, np.ones(c.size3, bool)),
    "erode_sphere": lambda c: ndi.binary_erosion(c.i0 != 0, c.ball),
    "dilate_box": lambda c: ndi.binary_dilation(c.i0 != 0, np.ones(c.size3, bool)),
    "dilate_sphere": lambda c: ndi.binary_dilation(c.i0 != 0, c.ball),
    "detect_maxima_box": lambda c: c.i0 == ndi.maximum_filter(c.i0, c.size3, mode="nearest"),
    "difference_of_gaussian": lambda c: skf.difference_of_gaussians(
        c.i0, (c.p["sigma1_z"], c.p["sigma1_y"], c.p["sigma1_x"]),
        (c.p["sigma2_z"], c.p["sigma2_y"], c.p["sigma2_x"]), mode="nearest", truncate=4.0),
    "sobel": lambda c: np.sqrt(sum(ndi.sobel(c.f(), ax, mode="nearest") ** 2
                                   for ax in range(3))),
    "laplace_diamond": lambda c: -ndi.laplace(c.f(), mode="nearest"),
    "gradient_x": lambda c: np_gradient(c, 2),
    "gradient_y": lambda c: np_gradient(c, 1),
    "gradient_z": lambda c: np_gradient(c, 0),
    "opening_box": lambda c: ndi.grey_opening(c.i0, c.size3, mode="nearest"),
    "closing_box": lambda c: ndi.grey_closing(c.i0, c.size3, mode="nearest"),
    "top_hat_box": lambda c: ndi.white_tophat(c.i0, c.size3, mode="nearest"),
    "bottom_hat_box": lambda c: ndi.black_tophat(c.i0, c.size3, mode="nearest"),
    "opening_sphere": lambda c: ndi.grey_opening(c.i0, footprint=c.ball, mode="nearest"),
    "closing_sphere": lambda c: ndi.grey_closing(c.i0, footprint=c.ball, mode="nearest"),
    "top_hat_sphere": lambda c: ndi.white_tophat(c.i0, footprint=c.ball, mode="nearest"),

    "maximum_z_projection": lambda c: c.i0.max(axis=0),
    "minimum_z_projection": lambda c: c.i0.min(axis=0),
    "sum_z_projection": lambda c: c.i0.sum(axis=0),
    "mean_z_projection": lambda c: c.i0.mean(axis=0),
    "std_z_projection": lambda c: c.i0.std(axis=0, ddof=int(c.p["ddof"])),
    "arg_maximum_z_projection": lambda c: c.i0.argmax(axis=0),
    "maximum_y_projection": lambda c: c.i0.max(axis=1),
    "minimum_y_projection": lambda c: c.i0.min(axis=1),
    "sum_y_projection": lambda c: c.i0.sum(axis=1),
    "mean_y_projection": lambda c: c.i0.mean(axis=1),
    "maximum_x_projection": lambda c: c.i0.max(axis=2),
    "minimum_x_projection": lambda c: c.i0.min(axis=2),
    "sum_x_projection": lambda c: c.i0.sum(axis=2),
    "mean_x_projection": lambda c: c.i0.mean(axis=2),
    "sum_of_all_pixels": lambda c: c.i0.sum(dtype=np.float64),
    "maximum_of_all_pixels": lambda c: c.i0.max(),
    "minimum_of_all_pixels": lambda c: c.i0.min(),
    "mean_of_all_pixels": lambda c: c.i0.mean(dtype=np.float64),
    "standard_deviation_of_all_pixels": lambda c: c.i0.std(ddof=int(c.p["ddof"]),
                                                           dtype=np.float64),
    "mean_squared_error": lambda c: skm_mse(c),
    "center_of_mass": lambda c: ndi.center_of_mass(c.i0),
    "histogram": lambda c: np.histogram(c.i0, int(c.p["num_bins"]), np_range(c))[0],

    "transpose_xy": lambda c: c.i0.transpose(0, 2, 1),
    "transpose_xz": lambda c: c.i0.transpose(2, 1, 0),
    "transpose_yz": lambda c: c.i0.transpose(1, 0, 2),
    "flip": lambda c: c.i0[::-1 if c.p["flip_z"] else 1, ::-1 if c.p["flip_y"] else 1,
                          ::-1 if c.p["flip_x"] else 1],
    "crop": lambda c: c.i0[int(c.p["start_z"]):int(c.p["start_z"] + c.p["depth"]),
                           int(c.p["start_y"]):int(c.p["start_y"] + c.p["height"]),
                           int(c.p["start_x"]):int(c.p["start_x"] + c.p["width"])],
    "pad": lambda c: np.pad(c.i0, pad_widths(c.p), constant_values=c.p["value"]),
    "translate": lambda c: ndi.shift(c.i0, (c.p["translate_z"], c.p["translate_y"],
                                            c.p["translate_x"]),
                                     order=int(c.p["interpolation"]), mode="nearest"),
    "scale": lambda c: ndi.zoom(c.i0, (c.p["factor_z"], c.p["factor_y"], c.p["factor_x"]),
                                order=int(c.p["interpolation"]), mode="nearest"),
    "rotate": lambda c: ndi.rotate(c.i0, c.p["angle_z"], axes=(1, 2), reshape=False,
                                   order=int(c.p["interpolation"]), mode="nearest"),
    "affine_transform": lambda c: ndi.affine_transform(
        c.i0, zyx_matrix(matrix_of(c.p)), order=int(c.p["interpolation"]), mode="nearest"),

    "threshold_otsu": lambda c: c.i0 > skf.threshold_otsu(c.i0),
    "threshold_mean": lambda c: c.i0 > c.i0.mean(),
    "connected_components_labeling_box":
        lambda c: skm.label(c.i0 != 0, connectivity=3),
    "connected_components_labeling_diamond":
        lambda c: ndi.label(c.i0 != 0)[0],
    "relabel_sequential": lambda c: sks.relabel_sequential(c.i0)[0],
    "distance_transform_edt": lambda c: ndi.distance_transform_edt(
        c.i0 != 0, sampling=(c.p["voxel_size_z"], c.p["voxel_size_y"], c.p["voxel_size_x"])),
    "dilate_labels": lambda c: sks.expand_labels(c.i0, distance=c.p["radius"]),
    # ops/rows_label3.def, ops/rows_measure3.def
    "detect_label_edges": lambda c: sks.find_boundaries(c.i0, connectivity=1, mode="thick"),
    "reduce_labels_to_label_edges": lambda c: np.where(
        sks.find_boundaries(c.i0, connectivity=1, mode="thick"), c.i0, 0),
    "mean_intensity_map": lambda c: label_map(ndi.mean, c),
    "minimum_intensity_map": lambda c: label_map(ndi.minimum, c),
    "maximum_intensity_map": lambda c: label_map(ndi.maximum, c),
    "standard_deviation_intensity_map": lambda c: label_map(ndi.standard_deviation, c),
    "jaccard_index": lambda c: 1 - overlap_distance(distance_module().jaccard, c),
    "sorensen_dice": lambda c: 1 - overlap_distance(distance_module().dice, c),
    "maximum_position": lambda c: [float(v) for v in ndi.maximum_position(c.f())[::-1]],
    "minimum_position": lambda c: [float(v) for v in ndi.minimum_position(c.f())[::-1]],
    "label_bounding_box": lambda c: find_objects_box(c.i0, int(c.p["label_id"])),
    # ops/rows_measure4.def
    "threshold_yen": lambda c: c.i0 > skf.threshold_yen(c.i0),
    "threshold_isodata": lambda c: c.i0 > skf.threshold_isodata(c.i0),
    "threshold_triangle": lambda c: c.i0 > skf.threshold_triangle(c.i0),
    "threshold_li": lambda c: c.i0 > skf.threshold_li(c.i0),
    "product_of_all_pixels": lambda c: c.i0.prod(dtype=np.float64),
    "variance_of_all_pixels": lambda c: c.i0.var(ddof=int(c.p["ddof"]), dtype=np.float64),
    "percentile": lambda c: np.percentile(c.i0.astype(np.float64), c.p["percentile"]),
    "binary_fill_holes": lambda c: ndi.binary_fill_holes(c.i0 != 0),
}


def find_objects_box(lab, label):
    """min x, y, z, max x, y, z of a label by scipy.ndimage.find_objects (NaN when absent)."""
    found = ndi.find_objects(lab.astype(np.int64), max_label=label)
    sl = found[label - 1] if label >= 1 and len(found) >= label else None
    if sl is None:
        return np.full(6, np.nan, np.float32)
    return np.array([sl[2].start, sl[1].start, sl[0].start, sl[2].stop - 1, sl[1].stop - 1,
                     sl[0].stop - 1], np.float32)


def label_map(f, c):
    """f per label of c.i1 over c.i0 (as float64), gathered onto the labels' voxels."""
    idx = np.arange(1, int(c.i1.max()) + 1)
    per = np.asarray(f(c.i0.astype(np.float64), c.i1, idx), np.float64) if idx.size else []
    return np.concatenate([[0.0], per])[c.i1.astype(np.int64)].astype(np.float32)


def distance_module():
    from scipy.spatial import distance
    return distance


def overlap_distance(f, c):
    u, v = c.i0.ravel() != 0, c.i1.ravel() != 0
    return float(f(u, v)) if (u | v).any() else float("nan")


def np_gradient(c, axis):
    """numpy.gradient of the input as float; numpy refuses an axis of one voxel: 0 there."""
    return np.gradient(c.f(), axis=axis) if c.i0.shape[axis] > 1 else np.zeros_like(c.f())


def skm_mse(c):
    return skimage.metrics.mean_squared_error(c.i0, c.i1)


def np_range(c):
    lo, hi = c.p["minimum_intensity"], c.p["maximum_intensity"]
    return (float(lo), float(hi)) if lo < hi else None


def pad_widths(p):
    w = []
    for k in ("size_z", "size_y", "size_x"):
        n = int(p[k])
        w.append((n // 2, n - n // 2) if p["center"] == 1 else (0, n))
    return w


def zyx_matrix(m):
    """voxbench's x, y, z matrix (output to input) in scipy's z, y, x order."""
    perm = [2, 1, 0]
    out = np.eye(4)
    for i in range(3):
        for j in range(3):
            out[i, j] = m[perm[i], perm[j]]
        out[i, 3] = m[perm[i], 3]
    return out


# ---- the ops of ops/rows_math3.def, rows_morph3.def, rows_proj3.def, rows_stack3.def ----

def _snakes(f, a):
    """scikit-image's morphological snakes operator f of a != 0, a single plane given as 2D."""
    u = (a != 0).astype(np.uint8)
    return f(u[0])[None] if u.shape[0] == 1 else f(u)


def _cle_unary(name):
    return lambda c: getattr(cle, name)(c.i0)


def _cle_binary(name):
    return lambda c: getattr(cle, name)(c.i0, c.i1)


def _cle_radii(name, **kw):
    return lambda c: getattr(cle, name)(c.i0, **c.r3, **kw)


M3_UNARY = ["cubic_root", "reciprocal", "square", "exponential2", "exponential10", "logarithm2",
            "logarithm10", "ceil", "floor", "round", "truncate", "sign", "sin", "cos", "tan",
            "asin", "acos", "atan", "sinh", "cosh", "tanh", "degrees_to_radians",
            "radians_to_degrees", "undefined_to_zero"]
CLE.update({name: _cle_unary(name) for name in M3_UNARY})
CLE.update({
    "nan_to_num": lambda c: cle.nan_to_num(c.i0, nan=c.p["nan"], posinf=c.p["posinf"],
                                           neginf=c.p["neginf"]),
    "divide_scalar_by_image": lambda c: cle.divide_scalar_by_image(c.i0, scalar=c.p["scalar"]),
    "replace_value": lambda c: cle.replace_value(
        c.i0, value_to_replace=c.p["value_to_replace"],
        value_replacement=c.p["value_replacement"]),
    "modulo_images": _cle_binary("modulo_images"),
    "power_images": _cle_binary("power_images"),
    "multiply_image_and_position": lambda c: cle.multiply_image_and_position(
        c.i0, dimension=int(c.p["dimension"])),

    "binary_opening_box": _cle_radii("binary_opening", connectivity="box"),
    "binary_opening_sphere": _cle_radii("binary_opening", connectivity="sphere"),
    "binary_closing_box": _cle_radii("binary_closing", connectivity="box"),
    "binary_closing_sphere": _cle_radii("binary_closing", connectivity="sphere"),
    "detect_minima_box": _cle_radii("detect_minima_box"),
    "binary_edge_detection": _cle_unary("binary_edge_detection"),
    "binary_supinf": _cle_unary("binary_supinf"),
    "binary_infsup": _cle_unary("binary_infsup"),

    "z_position_of_minimum_z_projection": _cle_unary("z_position_of_minimum_z_projection"),
    "x_position_of_maximum_x_projection": _cle_unary("x_position_of_maximum_x_projection"),
    "x_position_of_minimum_x_projection": _cle_unary("x_position_of_minimum_x_projection"),
    "y_position_of_maximum_y_projection": _cle_unary("y_position_of_maximum_y_projection"),
    "y_position_of_minimum_y_projection": _cle_unary("y_position_of_minimum_y_projection"),
    "product_x_projection": _cle_unary("product_x_projection"),
    "product_y_projection": _cle_unary("product_y_projection"),
    "product_z_projection": _cle_unary("product_z_projection"),
    "cumulative_sum": lambda c: cle.cumulative_sum(c.i0, axis=int(c.p["axis"])),
    "cumulative_product": lambda c: cle.cumulative_product(c.i0, axis=int(c.p["axis"])),
    "cumulative_max": lambda c: cle.cumulative_max(c.i0, axis=int(c.p["axis"])),
    "cumulative_min": lambda c: cle.cumulative_min(c.i0, axis=int(c.p["axis"])),

    "sub_stack": lambda c: cle.sub_stack(c.i0, start_z=int(c.p["start_z"]),
                                         end_z=int(c.p["end_z"])),
    "reduce_stack": lambda c: cle.reduce_stack(c.i0, reduction_factor=int(
        c.p["reduction_factor"]), offset=int(c.p["offset"])),
    "range": lambda c: cle.range(c.i0, **cle_range_args(c)),
    "crop_border": lambda c: cle.crop_border(c.i0, border_size=int(c.p["border_size"])),
    "circular_shift": lambda c: cle.circular_shift(
        c.i0, shift_x=int(c.p["shift_x"]), shift_y=int(c.p["shift_y"]),
        shift_z=int(c.p["shift_z"])),
    "concatenate_along_x": _cle_binary("concatenate_along_x"),
    "concatenate_along_y": _cle_binary("concatenate_along_y"),
    "concatenate_along_z": _cle_binary("concatenate_along_z"),
    "bottom_hat_sphere": _cle_radii("bottom_hat_sphere"),
    "set_nonzero_pixels_to_pixelindex": lambda c: cle.set_nonzero_pixels_to_pixelindex(
        c.i0, offset=int(c.p["offset"])),
    "gamma_correction": lambda c: cle.gamma_correction(c.i0, gamma=c.p["gamma"]),
})
for _axis in "xyz":
    for _what in ("variance", "std"):
        if (_what, _axis) != ("std", "z"):
            CLE[f"{_what}_{_axis}_projection"] = (
                lambda name: lambda c: getattr(cle, name)(c.i0, ddof=int(c.p["ddof"])))(
                    f"{_what}_{_axis}_projection")


def cle_range_args(c):
    """range's parameters, a stop past the end given as the axis' size (pyclesperanto takes
    ints only; a stop beyond the end makes it ask for a huge buffer)."""
    args = {}
    for k, n in zip("xyz", c.i0.shape[::-1]):
        args.update({f"start_{k}": int(c.p[f"start_{k}"]), f"step_{k}": int(c.p[f"step_{k}"]),
                     f"stop_{k}": int(min(c.p[f"stop_{k}"], n))})
    return args


def _same_type(f):
    """numpy's rounding functions give float16/32/64 for integers: back to the input's type."""
    return lambda c: f(c.i0).astype(c.i0.dtype)


NP_AXIS = {"x": 2, "y": 1, "z": 0}


def _np_project(fn, axis, **kw):
    return lambda c: getattr(np, fn)(c.f() if fn == "prod" else c.i0, axis=NP_AXIS[axis], **kw)


SCIPY.update({
    "cubic_root": lambda c: np.cbrt(c.f()),
    "reciprocal": lambda c: np.reciprocal(c.f()),
    "square": lambda c: np.square(c.f()),
    "exponential2": lambda c: np.exp2(c.f()),
    "logarithm2": lambda c: np.log2(c.f()),
    "logarithm10": lambda c: np.log10(c.f()),
    "ceil": _same_type(np.ceil),
    "floor": _same_type(np.floor),
    "truncate": _same_type(np.trunc),
    "sign": lambda c: np.sign(c.i0),
    "sin": lambda c: np.sin(c.f()),
    "cos": lambda c: np.cos(c.f()),
    "tan": lambda c: np.tan(c.f()),
    "asin": lambda c: np.arcsin(c.f()),
    "acos": lambda c: np.arccos(c.f()),
    "atan": lambda c: np.arctan(c.f()),
    "sinh": lambda c: np.sinh(c.f()),
    "cosh": lambda c: np.cosh(c.f()),
    "tanh": lambda c: np.tanh(c.f()),
    "degrees_to_radians": lambda c: np.deg2rad(c.f()),
    "radians_to_degrees": lambda c: np.rad2deg(c.f()),
    "nan_to_num": lambda c: np.nan_to_num(c.i0, nan=c.p["nan"], posinf=c.p["posinf"],
                                          neginf=c.p["neginf"]),
    "modulo_images": lambda c: np.fmod(c.i0, c.i1),
    "power_images": lambda c: np.power(c.f(), c.f(c.i1)),

    "morphological_gradient_box":
        lambda c: ndi.morphological_gradient(c.i0, c.size3, mode="nearest"),
    "morphological_gradient_sphere":
        lambda c: ndi.morphological_gradient(c.i0, footprint=c.ball, mode="nearest"),
    "morphological_laplace_box":
        lambda c: ndi.morphological_laplace(c.f(), c.size3, mode="nearest"),
    "morphological_laplace_sphere":
        lambda c: ndi.morphological_laplace(c.f(), footprint=c.ball, mode="nearest"),
    "detect_minima_box": lambda c: c.i0 == ndi.minimum_filter(c.i0, c.size3, mode="nearest"),
    "binary_edge_detection": lambda c: (c.i0 != 0) & ~ndi.binary_erosion(
        c.i0 != 0, ndi.generate_binary_structure(3, 1), border_value=1),
    # morphological snakes' SI / IS: 2D (its four lines) for a single plane, as voxbench
    "binary_supinf": lambda c: _snakes(sks.morphsnakes.sup_inf, c.i0),
    "binary_infsup": lambda c: _snakes(sks.morphsnakes.inf_sup, c.i0),

    "z_position_of_minimum_z_projection": _np_project("argmin", "z"),
    "x_position_of_maximum_x_projection": _np_project("argmax", "x"),
    "x_position_of_minimum_x_projection": _np_project("argmin", "x"),
    "y_position_of_maximum_y_projection": _np_project("argmax", "y"),
    "y_position_of_minimum_y_projection": _np_project("argmin", "y"),
    "product_z_projection": _np_project("prod", "z"),
    "product_y_projection": _np_project("prod", "y"),
    "product_x_projection": _np_project("prod", "x"),
    "cumulative_max": lambda c: (np.fmax if c.i0.dtype.kind == "f" else np.maximum).accumulate(
        c.i0, axis=2 - int(c.p["axis"])),
    "cumulative_min": lambda c: (np.fmin if c.i0.dtype.kind == "f" else np.minimum).accumulate(
        c.i0, axis=2 - int(c.p["axis"])),

    "sub_stack": lambda c: c.i0[int(c.p["start_z"]):int(c.p["end_z"]) + 1],
    "reduce_stack": lambda c: c.i0[int(c.p["offset"])::int(c.p["reduction_factor"])],
    "circular_shift": lambda c: np.roll(c.i0, (int(c.p["shift_z"]), int(c.p["shift_y"]),
                                               int(c.p["shift_x"])), axis=(0, 1, 2)),
    "concatenate_along_x": lambda c: np.concatenate([c.i0, c.i1], axis=2),
    "concatenate_along_y": lambda c: np.concatenate([c.i0, c.i1], axis=1),
    "concatenate_along_z": lambda c: np.concatenate([c.i0, c.i1], axis=0),
    "bottom_hat_sphere": lambda c: ndi.black_tophat(c.i0, footprint=c.ball, mode="nearest"),
    # radius=: voxbench's cut, ceil(4 sigma), which scipy takes as an argument
    "gaussian_derivative": lambda c: ndi.gaussian_filter(
        c.f().astype(np.float64), c.szyx, order=[int(c.p[k]) for k in ("order_z", "order_y",
                                                                    "order_x")],
        mode="nearest", radius=[math.ceil(4 * s) for s in c.szyx]),
    "gaussian_laplace": lambda c: ndi.gaussian_laplace(
        c.f().astype(np.float64), c.szyx, mode="nearest",
        radius=[math.ceil(4 * s) for s in c.szyx]),
})
for _axis in "xyz":
    SCIPY[f"variance_{_axis}_projection"] = (lambda a: lambda c: c.i0.astype(np.float64).var(
        axis=NP_AXIS[a], ddof=int(c.p["ddof"])) if c.i0.shape[NP_AXIS[a]] > c.p["ddof"] else
        np.zeros(np.delete(c.i0.shape, NP_AXIS[a])))(_axis)
    if _axis != "z":
        SCIPY[f"std_{_axis}_projection"] = (lambda a: lambda c: c.i0.astype(np.float64).std(
            axis=NP_AXIS[a], ddof=int(c.p["ddof"])) if c.i0.shape[NP_AXIS[a]] > c.p["ddof"]
            else np.zeros(np.delete(c.i0.shape, NP_AXIS[a])))(_axis)


# ---- comparison by the op's rule ----

def as_array(r):
    if r is None:
        return None
    if isinstance(r, dict):
        return r
    if isinstance(r, (list, tuple)):
        return np.asarray([float(v) for v in r])
    if isinstance(r, (int, float, np.number)):
        return np.asarray(r)
    return np.asarray(r)


def same_partition(g, r):
    g, r = g.ravel(), r.ravel()
    if ((g == 0) != (r == 0)).any():
        return False
    pairs = np.unique(np.stack([g, r]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


def compare(op, vb, r, limit=None):
    """'' when r equals vb by the op's rule (or within an absolute limit), or what differs."""
    kind, tol = rule_of(op)
    if isinstance(vb, np.ndarray) and vb.dtype.names:  # a table (CSV)
        if not isinstance(r, dict):
            return f"a table against {type(r).__name__}"
        bad = []
        for k in vb.dtype.names:
            if k not in r:
                continue
            want = np.asarray(vb[k], np.float64)
            got = np.asarray(r[k], np.float64).ravel()
            if got.shape != want.shape:
                bad.append(f"{k}: {got.shape} against {want.shape}")
            elif not np.allclose(got, want, rtol=1e-4, atol=1e-4, equal_nan=True):
                bad.append(f"{k}: max |delta| {np.nanmax(np.abs(got - want)):.4g}")
        return "; ".join(bad)
    r = as_array(r)
    if isinstance(r, dict):
        return "a dictionary against an array"
    if vb.size == 1 and r.size == 1 and r.ndim == 0:
        scalar = True
    else:
        scalar = False
        if r.shape != vb.shape:
            if r.size == vb.size and r.ndim != vb.ndim and r.squeeze().shape == vb.squeeze().shape:
                r = r.reshape(vb.shape)
            else:
                return f"shape {r.shape} against voxbench's {vb.shape}"
        # integer against float is a convention users see; float64 against float32 or
        # int64 against uint32 is not (the values decide)
        if limit is None and (r.dtype.kind == "f") != (vb.dtype.kind == "f"):
            return f"dtype {r.dtype} against voxbench's {vb.dtype}"
    g = vb.astype(np.float64).ravel()
    w = r.astype(np.float64).ravel()
    if kind == "labels" and limit is None:
        return "" if same_partition(vb, r) else "a different partition"
    nan = np.isnan(g) | np.isnan(w)
    if (np.isnan(g) != np.isnan(w)).any():
        return f"NaN at {int((np.isnan(g) != np.isnan(w)).sum())} voxels on one side only"
    g, w = g[~nan], w[~nan]
    with np.errstate(invalid="ignore"):
        d = np.abs(g - w)
        d[g == w] = 0
    finite = w[np.isfinite(w)]
    scale = max(1.0, float(np.abs(finite).max()) if finite.size else 1.0)
    if limit is not None:
        pass
    elif kind == "exact":
        limit = 0.0
    elif kind == "reduce":
        limit = tol * max(1.0, math.log2(max(2, op_voxels))) * scale
    elif kind == "rel":  # relative however small (ops/op.h CMP_RELATIVE)
        limit = tol * (float(np.abs(finite).max()) if finite.size else 0.0) + 1.1754944e-38
    else:
        limit = tol * scale
    bad = d > limit
    if bad.any():
        i = int(np.argmax(d))
        return (f"{int(bad.sum())} of {d.size} voxels beyond {limit:.3g}, max |delta| "
                f"{d[i]:.4g} (voxbench {g[i]:.6g}, library {w[i]:.6g})"
                + (" [scalar]" if scalar else ""))
    return ""


op_voxels = 2

# ---- adapters: each reproduces one row of ops/conventions.def ----
# An adapter gets (case, voxbench's output, the library's result) and returns the pair that
# must then be equal by the op's rule: usually (voxbench's output, the library's result under
# voxbench's convention), or, where the library cannot be asked for voxbench's convention,
# (voxbench's output, numpy's model of voxbench's rule) after checking the library against a
# model of its own documented rule (raising Mismatch when it does not hold).


class Mismatch(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def sat(x, dtype):
    """x stored in dtype as voxbench stores: toward zero, saturated, NaN -> 0."""
    x = np.asarray(x, np.float64)
    if np.dtype(dtype).kind == "f":
        return x.astype(dtype)
    info = np.iinfo(dtype)
    x = np.nan_to_num(np.trunc(x), nan=0.0, posinf=info.max, neginf=info.min)
    return np.clip(x, info.min, info.max).astype(dtype)


ADAPTERS = {}


def adapter(name):
    def put(f):
        ADAPTERS[name] = f
        return f
    return put


def float_tol(vb, rel=1e-5):
    finite = vb[np.isfinite(vb)] if vb.dtype.kind == "f" else vb
    return rel * max(1.0, float(np.abs(finite.astype(np.float64)).max()) if finite.size else 1.0)


def with_input(case, x, *rest):
    """The case with input 0 replaced (and input 1, when given)."""
    c = Case.__new__(Case)
    c.__dict__.update(case.__dict__)
    c.i0 = x
    c.i = [x] + ([rest[0]] if rest else case.i[1:])
    c.i1 = c.i[1] if len(c.i) > 1 else None
    return c


def pulled(call, c):
    return as_array(P(call(c)))


@adapter("cle_float_out")
def _(c, vb, r, err, call):
    expect(c.i0.dtype.kind != "f" and r.dtype == np.float32, "not float32 from an integer input")
    return vb, sat(r, vb.dtype)


def ulp_model(c, vb, r, exact):
    expect(c.i0.dtype == np.float32, "a float32 input")
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    off = np.abs(r.astype(np.float64) - exact)
    expect((off <= spacing * 1.01).all(), "the library within 1 ulp of the exact value")
    return vb, exact.astype(np.float32)


@adapter("cle_pow_ulp")
def _(c, vb, r, err, call):
    return ulp_model(c, vb, r, (c.i0 - c.i1).astype(np.float64) ** 2)


@adapter("cle_fma_ulp")
def _(c, vb, r, err, call):
    f0, f1 = np.float32(c.p["factor0"]), np.float32(c.p["factor1"])
    expect(c.i0.dtype == np.float32, "a float32 input")
    big = np.maximum(np.abs(f0 * c.i0), np.abs(f1 * c.i1)).astype(np.float32)
    exact = f0.astype(np.float64) * c.i0 + f1.astype(np.float64) * c.i1
    expect((np.abs(r - exact) <= np.spacing(big) * 1.01).all(), "the library within 1 ulp of "
           "the larger product")
    return vb, (f0 * c.i0) + (f1 * c.i1)


@adapter("cle_negate")
def _(c, vb, r, err, call):
    expect(r.dtype == np.float32 and np.array_equal(r, -c.i0.astype(np.float32)),
           "the library's result is -in as float32")
    return vb, sku.invert(c.i0)


@adapter("cle_int_mean")
def _(c, vb, r, err, call):
    expect(c.i0.dtype.kind != "f" and r.dtype == c.i0.dtype, "the integer input's type kept")
    f = pulled(call, with_input(c, c.f()))
    expect((np.abs(r - f) <= 3.0001).all(), "the library's integers within 3 of the float mean")
    return vb, f


@adapter("scipy_int_out")
def _(c, vb, r, err, call):
    expect(c.i0.dtype.kind != "f" and r.dtype == c.i0.dtype, "the integer input's type kept")
    return vb, call(with_input(c, c.f()))


@adapter("skimage_unit_float")
def _(c, vb, r, err, call):
    expect(c.i0.dtype.kind != "f", "an integer input")
    return vb, call(with_input(c, c.f()))


@adapter("cle_plane_2d")
def _(c, vb, r, err, call):
    expect(c.i0.shape[0] == 1, "a single plane")
    n = int(max(1, c.p.get("radius_z", 1)))
    stack = lambda x: None if x is None else np.repeat(x, 2 * n + 1, axis=0)  # noqa: E731
    x = c.f() if vb.dtype.kind == "f" and c.i0.dtype.kind != "f" else c.i0  # see cle_int_mean
    out = pulled(call, with_input(c, stack(x), *([stack(c.i1)] if c.i1 is not None else [])))
    return vb, out[n:n + 1]


@adapter("cle_smoothed_maxima")
def _(c, vb, r, err, call):
    smoothed = cle.mean_box(c.i0, **c.r3)
    two_step = pulled(lambda cc: cle.detect_maxima_box(smoothed, radius_x=0, radius_y=0,
                                                       radius_z=0), c)
    expect(np.array_equal(r, two_step), "the library's maxima are those of its mean_box")
    return vb, c.i0 == ndi.maximum_filter(c.i0, c.size3, mode="nearest")


def gauss(x, sigmas, rule):
    """A separable Gaussian in float64, clamped borders, the radius of each axis by rule."""
    out = x.astype(np.float64)
    for axis, sigma in enumerate(sigmas):
        if sigma <= 0:
            continue
        r = rule(4 * sigma)
        t = np.arange(-r, r + 1, dtype=np.float64)
        w = np.exp(-0.5 * (t / sigma) ** 2)
        out = ndi.correlate1d(out, w / w.sum(), axis, mode="nearest")
    return out


GAUSS_RULE = {"pyclesperanto": lambda v: int(math.floor(v)),
              "scipy": lambda v: int(v + 0.5), "voxbench": lambda v: int(math.ceil(v))}


def gauss_op(c, rule):
    p = c.p
    if c.op["name"] == "difference_of_gaussian":
        s1 = (p["sigma1_z"], p["sigma1_y"], p["sigma1_x"])
        s2 = (p["sigma2_z"], p["sigma2_y"], p["sigma2_x"])
        return gauss(c.i0, s1, rule) - gauss(c.i0, s2, rule)
    g = gauss(c.i0, c.szyx, rule)
    return c.i0 - g if c.op["name"] == "subtract_gaussian_background" else g


def gauss_radius(lib):
    def f(c, vb, r, err, call):
        model = gauss_op(c, GAUSS_RULE[lib])
        expect(not compare(c.op, model.astype(np.float32), r), "the library's radius rule")
        return vb, gauss_op(c, GAUSS_RULE["voxbench"]).astype(np.float32)
    return f


ADAPTERS["cle_gauss_radius"] = gauss_radius("pyclesperanto")
ADAPTERS["scipy_gauss_radius"] = gauss_radius("scipy")


@adapter("cle_binary_float")
def _(c, vb, r, err, call):
    expect(c.i0.dtype.kind == "f" and r.dtype == np.float32, "float32 from a float input")
    return vb, r.astype(np.uint8)


@adapter("scipy_border_value")
def _(c, vb, r, err, call):
    fp = np.ones(c.size3, bool) if c.op["name"].endswith("box") else c.ball
    return vb, ndi.binary_erosion(c.i0 != 0, fp, border_value=1)


@adapter("int_sum")
def _(c, vb, r, err, call):
    expect(r.dtype.kind in "ui", "an integer sum")
    return vb, r.astype(np.float64), float_tol(vb, 1e-6)


@adapter("nan_where_no_dof")
def _(c, vb, r, err, call):
    expect(c.i0.shape[0] <= c.p["ddof"] and np.isnan(r).all(), "NaN where depth <= ddof")
    return vb, np.zeros_like(vb)


@adapter("zyx_order")
def _(c, vb, r, err, call):
    return vb, np.asarray(r)[::-1].reshape(vb.shape)


@adapter("cle_histogram_bins")
def _(c, vb, r, err, call):
    bins = int(c.p["num_bins"])
    lo, hi = c.p["minimum_intensity"], c.p["maximum_intensity"]
    if lo >= hi:
        lo, hi = float(c.i0.min()), float(c.i0.max())
    v = c.i0.astype(np.float64).ravel()
    v = v[(v >= lo) & (v <= hi)]
    idx = np.round((v - lo) / (hi - lo) * (bins - 1)).astype(int) if hi > lo else \
        np.zeros(v.size, int)
    model = np.bincount(idx, minlength=bins)[:bins]
    expect(np.array_equal(np.asarray(r).ravel(), model), "the library's bins are centred on "
           "the range's ends")
    return vb, np.histogram(c.i0, bins, np_range(c))[0].reshape(vb.shape)


@adapter("cle_pad_sizes")
def _(c, vb, r, err, call):
    expect("CL_INVALID_VALUE" in err or r is not None, "the library refuses added sizes")
    d, h, w = c.i0.shape
    sx, sy, sz = (int(c.p[k]) for k in ("size_x", "size_y", "size_z"))
    out = as_array(P(cle.pad(c.i0, size_x=w + sx, size_y=h + sy, size_z=d + sz,
                             value=c.p["value"], center=c.p["center"] == 1)))
    ceil_before = [((n + 1) // 2, n // 2) if c.p["center"] == 1 else (0, n)
                   for n in (sz, sy, sx)]
    expect(np.array_equal(out, np.pad(c.i0, ceil_before, constant_values=c.p["value"])),
           "the library's sizes are the output's, its centre split ceil(n / 2) before")
    return vb, np.pad(c.i0, pad_widths(c.p), constant_values=sat(c.p["value"], c.i0.dtype))


def edge_padded(call, c, margin):
    """call on the input padded by its edge voxels (margin per axis, z y x), cropped back."""
    out = pulled(call, with_input(c, np.pad(c.i0, [(m, m) for m in margin], mode="edge")))
    return out[tuple(slice(m, m + n) for m, n in zip(margin, c.i0.shape))]


def round_half_away(x):
    """C's round(), which voxbench's resampling uses for integer outputs (numpy's is to even)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def resampled(vb, r):
    """A resampled result against voxbench's: the library's float result stored as voxbench
    stores it (rounded to nearest, saturated), within 1 for integers (float32 against float64
    interpolation at a .5 tie), float(1e-5) for floats."""
    if vb.dtype.kind != "f":
        return vb, sat(round_half_away(r), vb.dtype).astype(np.float64), 1.0
    return vb, r, float_tol(vb)


@adapter("cle_zero_outside")
def _(c, vb, r, err, call):
    if c.op["name"] == "translate":
        margin = [int(abs(c.p[k])) + 2 for k in ("translate_z", "translate_y", "translate_x")]
    else:  # rotate about z: the corners sweep the plane
        margin = [0] + [int(max(c.i0.shape[1:])) + 2] * 2
    return resampled(vb, edge_padded(call, c, margin))


def translation(v):
    t = np.eye(4)
    t[:3, 3] = v
    return t


@adapter("cle_corner_inverse")
def _(c, vb, r, err, call):
    """pyclesperanto samples input T^-1 (o + 0.5) - 0.5 for output o (CLIc's affine_transform
    kernel reads at T^-1 applied to the voxel centre i + 0.5), 0 outside: it is asked for
    voxbench's matrix M as T = C M^-1 C^-1 (C: the shift by 0.5), on the input padded by its
    edge voxels (voxbench's clamp) far enough that no sample falls outside."""
    m = matrix_of(c.p)
    n = np.asarray(c.i0.shape[::-1], np.float64)  # x, y, z
    corners = np.array([[x, y, z, 1.0] for x in (0, n[0] - 1) for y in (0, n[1] - 1)
                        for z in (0, n[2] - 1)])
    reach = corners @ m[:3].T
    margin_xyz = [int(math.ceil(max(0.0, -reach[:, a].min(), reach[:, a].max() - (n[a] - 1))))
                  + 2 for a in range(3)]
    p = translation(margin_xyz)
    half = translation([0.5] * 3)
    t = half @ p @ np.linalg.inv(m) @ np.linalg.inv(p) @ np.linalg.inv(half)
    call2 = lambda cc: cle.affine_transform(  # noqa: E731
        cc.i0, transform_matrix=t, interpolate=c.p["interpolation"] == 1)
    return resampled(vb, edge_padded(call2, c, margin_xyz[::-1]))


def scale_model(c, out_shape, order):
    """voxbench's scale: out(p) = in(c_in + (p - c_out) / f), clamped, in float64."""
    f = [c.p["factor_z"], c.p["factor_y"], c.p["factor_x"]]
    cin = [(n - 1) / 2 for n in c.i0.shape]
    cout = [(n - 1) / 2 for n in out_shape]
    grid = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in out_shape], indexing="ij")
    coords = [ci + (g - co) / fi for g, ci, co, fi in zip(grid, cin, cout, f)]
    if order == 0:
        coords = [np.floor(x + 0.5) for x in coords]
    return ndi.map_coordinates(c.i0.astype(np.float64), coords, order=order, mode="nearest")


@adapter("scale_mapping")
def _(c, vb, r, err, call):
    vb3 = vb.reshape([n for n in (round_half_up(n * f) for n, f in zip(
        c.i0.shape, (c.p["factor_z"], c.p["factor_y"], c.p["factor_x"])))]) \
        if c.p["auto_size"] == 1 else vb.reshape(c.i0.shape)
    order = int(c.p["interpolation"])
    return resampled(vb3, scale_model(c, vb3.shape, order))


def round_half_up(x):
    return int(math.floor(x + 0.5))


@adapter("scipy_float64")
def _(c, vb, r, err, call):
    return resampled(vb, call(with_input(c, c.i0.astype(np.float64))))


@adapter("scipy_rotate_sign")
def _(c, vb, r, err, call):
    turned = ndi.rotate(c.i0.astype(np.float64), -c.p["angle_z"], axes=(1, 2), reshape=False,
                        order=int(c.p["interpolation"]), mode="nearest")
    return resampled(vb, turned)


@adapter("otsu_bin")
def _(c, vb, r, err, call):
    lo, hi = float(c.i0.min()), float(c.i0.max())
    t = skf.threshold_otsu(c.i0)
    differ = (np.asarray(r).reshape(vb.shape) != 0) != (vb != 0)
    near = np.abs(c.i0.astype(np.float64) - t) <= (hi - lo) / 256 * 1.01
    expect(not (differ & ~near).any(), "the voxels that differ lie within one bin of the "
           "threshold")
    return vb, np.where(differ, vb, np.asarray(r).reshape(vb.shape)).astype(vb.dtype)


def skimage_on_our_bins(c, method):
    """skimage's threshold_METHOD on threshold_otsu's 256 bins of the stack (yen and isodata
    take the histogram; triangle and li the stack quantised to the bin centres, whose own bins
    hold the same counts)."""
    v = c.i0.astype(np.float32).ravel()
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return lo
    scale = np.float32(256.0 / np.float64(np.float32(hi - lo)))
    counts = np.bincount(np.clip(((v - np.float32(lo)) * scale).astype(np.int64), 0, 255),
                         minlength=256)
    centres = lo + (np.arange(256) + 0.5) * (hi - lo) / 256
    if method in ("yen", "isodata"):
        return float(getattr(skf, "threshold_" + method)(hist=(counts, centres)))
    quantised = np.repeat(centres, counts)
    if method == "li":
        return float(skf.threshold_li(quantised))
    t = float(skf.threshold_triangle(quantised, nbins=256))
    step = (centres[255] - centres[0]) / 256
    return float(centres[int(round((t - centres[0]) / step - 0.5))])


@adapter("skimage_bins")
def _(c, vb, r, err, call):
    method = c.op["name"][len("threshold_"):]
    t = np.float32(skimage_on_our_bins(c, method))
    model = (c.i0.astype(np.float32) > t).astype(vb.dtype)
    near = np.abs(c.i0.astype(np.float64) - float(t)) <= 4 * np.finfo(np.float32).eps * abs(t)
    expect(not ((model != vb) & ~near).any(), "voxbench's mask is in > skimage's threshold on "
           "voxbench's 256 bins")
    return vb, np.where(near, vb, model)


@adapter("cle_hist_bins")
def _(c, vb, r, err, call):
    # pyclesperanto's histogram (see cle_histogram_bins): bin round((v - lo) / (hi - lo) * 255),
    # centres lo + k (hi - lo) / 255; its threshold is scikit-image's on those bins
    v = c.i0.astype(np.float64)
    lo, hi = float(v.min()), float(v.max())
    r = np.asarray(r).reshape(vb.shape) != 0
    if hi > lo:
        counts = np.bincount(np.round((v.ravel() - lo) / (hi - lo) * 255).astype(int),
                             minlength=256)
        centres = lo + np.arange(256) * (hi - lo) / 255
        method = getattr(skf, "threshold_" + c.op["name"][len("threshold_"):])
        t = float(method(hist=(counts, centres)))
        near = np.abs(v - t) <= (hi - lo) / 255 * 1e-3
        expect(not ((r != (v > np.float32(t))) & ~near).any(), "the library's mask is in > "
               "scikit-image's threshold on its own bins")
    return vb, np.where(r != (vb != 0), vb, r).astype(vb.dtype)


@adapter("running_product_nan")
def _(c, vb, r, err, call):
    expect(math.isnan(float(np.asarray(r).ravel()[0])) and (c.i0 == 0).any() and
           float(vb.ravel()[0]) == 0, "the library's running product overflowed to inf before "
           "a zero voxel made it NaN; voxbench's is 0")
    return vb, vb


@adapter("cle_percentile_bins")
def _(c, vb, r, err, call):
    v = c.i0.astype(np.float64)
    lo, hi = float(v.min()), float(v.max())
    exact = np.percentile(v, c.p["percentile"])
    expect(abs(float(r) - exact) <= (hi - lo) / 255 + 0.5, "pyclesperanto's percentile lies "
           "within one of its 256 bins of numpy's (rounded for integer inputs)")
    return vb, np.float32(exact)


@adapter("voronoi_mask")
def _(c, vb, r, err, call):
    if c.i0.shape[0] == 1:  # its chain runs in 2D there (see cle_plane_2d): not compared
        expect(not same_partition(vb, r), "a different partition on a single plane")
        return vb, vb
    blurred = pulled(lambda cc: cle.gaussian_blur(cc.f(), sigma_x=cc.p["outline_sigma"],
                                                  sigma_y=cc.p["outline_sigma"],
                                                  sigma_z=cc.p["outline_sigma"]), c)
    lo, hi = float(blurred.min()), float(blurred.max())
    t = skf.threshold_otsu(blurred)
    differ = (r != 0) != (vb != 0)
    near = np.abs(blurred - t) <= (hi - lo) / 256 * 1.01
    expect(not (differ & ~near).any(), "the masks differ only within one Otsu bin of the "
           "threshold")
    return (vb != 0).astype(np.uint8), (vb != 0).astype(np.uint8)


@adapter("partition")
def _(c, vb, r, err, call):
    expect(same_partition(vb, r), "the same partition")
    return vb, vb


@adapter("cle_octagon")
def _(c, vb, r, err, call):
    grown = c.i0.copy()
    for i in range(int(c.p["radius"])):
        fp = np.ones((3, 3, 3), bool) if i % 2 == 0 else ndi.generate_binary_structure(3, 1)
        if c.i0.shape[0] == 1:
            fp = fp[1:2]
        bigger = ndi.grey_dilation(grown, footprint=fp, mode="nearest")
        grown = np.where(grown == 0, bigger, grown)
    differ = grown != r
    expect(differ.mean() < 0.02, f"the library grows by alternating box and diamond steps "
           f"({int(differ.sum())} voxels differ)")
    return vb, vb


def cle_chain(op, x, radius):
    """pyclesperanto's opening_labels / smooth_labels rebuilt from its own parts."""
    opened = P(cle.dilate_labels(P(cle.erode_labels(x, radius=radius, relabel=False)),
                                 radius=radius))
    if op == "opening_labels":
        return opened
    return np.where(x > 0, P(cle.extend_labeling_via_voronoi(opened)), 0)


@adapter("cle_octagon_chain")
def _(c, vb, r, err, call):
    radius = int(c.p["radius"])
    expect(radius >= 1 and same_partition(r, cle_chain(c.op["name"], c.i0, radius)),
           "the library's result is its own chain of erode_labels and dilate_labels (octagon)")
    return vb, vb


@adapter("cle_closing_mask")
def _(c, vb, r, err, call):
    radius = int(c.p["radius"])
    grown = P(cle.dilate_labels(c.i0, radius=radius))
    once = np.where(P(cle.binary_erode(grown, radius_x=1, radius_y=1, radius_z=1,
                                       connectivity="sphere")) != 0, grown, 0)
    expect(np.array_equal(r, grown if radius % 2 == 0 else once), "the library's closing is "
           "its dilate_labels masked by one sphere erosion (odd radius) or by none (even)")
    even = 2 * max(1, radius // 2)
    expect(np.array_equal(P(cle.closing_labels(c.i0, radius=even)),
                          P(cle.dilate_labels(c.i0, radius=even))),
           f"at the even radius {even} the library's closing is its dilate_labels")
    return vb, vb


@adapter("label_ties")
def _(c, vb, r, err, call):
    radius = c.p["radius"]
    where = np.argwhere(vb != r)
    pts = {k: np.argwhere(c.i0 == k) for k in np.unique(c.i0) if k}
    for z, y, x in where[:200]:
        d = {k: np.sqrt(((p - (z, y, x)) ** 2).sum(axis=1)).min() for k, p in pts.items()}
        best = min(d.values())
        tied = sorted(k for k, v in d.items() if v - best < 1e-9)
        expect(best <= radius + 1e-9 and len(tied) > 1 and vb[z, y, x] == tied[0],
               f"voxel {(z, y, x)} is a tie that voxbench gives the smaller label")
    return vb, vb


@adapter("cle_background_column")
def _(c, vb, r, err, call):
    expect(r.ndim == 2 and r.shape[1] == vb.shape[-1] + 1, "one column more")
    return vb, r[:, 1:].reshape(vb.shape)


@adapter("cle_int_product")
def _(c, vb, r, err, call):
    name = c.op["name"]
    if name.startswith("product_"):
        axis = NP_AXIS[name[len("product_")]]
        model = np.multiply.reduce(c.f(), axis=axis)
    else:
        axis = 2 - int(c.p["axis"])
        model = np.multiply.accumulate(c.f(), axis=axis)
    expect(c.i0.dtype.kind != "f" and r.dtype == np.uint32, "uint32 from an integer input")
    expect(np.allclose(r.astype(np.float64), sat(model, np.uint32).astype(np.float64),
                       rtol=1e-6), "the float product stored saturated in uint32")
    return vb, model.reshape(vb.shape)


@adapter("cle_int_trunc")
def _(c, vb, r, err, call):
    f = pulled(call, with_input(c, c.f()))
    expect(c.i0.dtype.kind != "f" and r.dtype == c.i0.dtype, "the integer input's type kept")
    expect((np.abs(r.astype(np.float64) - sat(f, r.dtype).astype(np.float64)) <= 1).all(),
           "the library's float result stored in the input's type, within 1")
    return vb, f


@adapter("cle_square_ulp")
def _(c, vb, r, err, call):
    exact = c.i0.astype(np.float64) ** 2
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    expect((np.abs(r.astype(np.float64) - exact) <= spacing * 1.01).all(),
           "the library within 1 ulp of the exact square")
    return vb, exact.astype(np.float32)


@adapter("cle_smoothed_minima")
def _(c, vb, r, err, call):
    smoothed = cle.mean_box(c.i0, **c.r3)
    two_step = pulled(lambda cc: cle.detect_minima_box(smoothed, radius_x=0, radius_y=0,
                                                       radius_z=0), c)
    expect(np.array_equal(r, two_step), "the library's minima are those of its mean_box")
    return vb, c.i0 == ndi.minimum_filter(c.i0, c.size3, mode="nearest")


@adapter("cle_reduce_floor")
def _(c, vb, r, err, call):
    f, o, d = int(c.p["reduction_factor"]), int(c.p["offset"]), c.i0.shape[0]
    keep = d // f
    if keep:
        want = c.i0[o::f][:keep]
        expect(r.size == want.size and np.array_equal(r.reshape(want.shape), want),
               f"the library keeps depth // reduction_factor = {keep} planes")
    else:  # no plane: it returns one it never wrote
        expect(r.size == c.i0[0].size, "one unwritten plane for a stack shallower than the "
               "factor")
    return vb, c.i0[o::f]


# ---- the ops of ops/rows_filter4.def ----

def _cle_flagged(name, connectivity, copied):
    """pyclesperanto's nonzero / onlyzero filters: a flag image, and for the nonzero ones an
    output that starts as the input (they write only the non-zero voxels)."""
    return lambda c: getattr(cle, name)(c.i0, cle.create((1, 1, 1)),
                                        cle.copy(c.i0) if copied else None,
                                        connectivity=connectivity)


for _shape, _conn in (("box", "box"), ("diamond", "sphere")):
    for _name, _copied in (("nonzero_maximum", True), ("nonzero_minimum", True),
                           ("onlyzero_overwrite_maximum", False)):
        CLE[f"{_name}_{_shape}"] = _cle_flagged(_name, _conn, _copied)
CLE.update({
    "mode_box": lambda c: cle.mode(c.i0, **c.r3, connectivity="box"),
    "mode_sphere": lambda c: cle.mode(c.i0, **c.r3, connectivity="sphere"),
    "kuwahara_filter": lambda c: cle.kuwahara_filter(c.i0, radius=int(c.p["radius"]),
                                                     sigma=c.p["sigma"]),
})
SCIPY["percentile_filter"] = lambda c: ndi.percentile_filter(c.i0, c.p["percentile"], c.size3,
                                                             mode="nearest")


@adapter("cle_kuwahara_radius")
def _(c, vb, r, err, call):
    from test_scipy_filter4 import kuwahara  # pyclesperanto's formula in numpy, two passes
    radius, sigma = int(c.p["radius"]), c.p["sigma"]
    expect(r.dtype == c.i0.dtype, "the input's type kept")
    wide = kuwahara(c.i0, 2 * radius + 1, sigma)
    expect((np.abs(r.astype(np.float64) - sat(wide, r.dtype)) <= 1 + float_tol(wide, 1e-3)).all(),
           "the library's radius reads a cube of half-width 2 radius + 1 (within 1e-3 of its "
           "range: one float pass)")
    expect(radius % 2 == 1, "an odd radius, which the library's (radius - 1) / 2 reaches")
    lib = pulled(lambda cc: cle.kuwahara_filter(c.f(), radius=(radius - 1) // 2, sigma=sigma), c)
    return vb, lib, float_tol(vb, 1e-3)


# ---- running it all ----

def main():
    ops = op_list()
    table = conventions_table()
    bad_rows = [r["bad"] for r in table if "bad" in r]
    check(not bad_rows, "ops/conventions.def: every row has op, library, adapter, what the "
          "library does, what voxbench does and why", bad_rows)
    table = [r for r in table if "bad" not in r]
    by_key = {}
    for r in table:
        by_key.setdefault((r["op"], r["lib"]), []).append(r)
    unknown = [(r["op"], r["lib"]) for r in table if r["op"] not in ops or
               r["lib"] not in ("pyclesperanto", "scipy")]
    check(not unknown, "ops/conventions.def: every row names an op of the table and a "
          "library the test runs (pyclesperanto, scipy)", unknown)
    no_adapter = [(r["op"], r["adapter"]) for r in table if r["adapter"] not in ADAPTERS]
    check(not no_adapter, "every documented difference has its adapter in the test", no_adapter)
    unused = sorted(set(ADAPTERS) - {r["adapter"] for r in table})
    check(not unused, "every adapter of the test belongs to a documented difference", unused)

    if not ONLY:
        check_names(ops, table)
    libs = [("scipy", SCIPY)]
    if cle is not None:
        libs.insert(0, ("pyclesperanto", CLE))
    else:
        check(True, f"pyclesperanto comparisons # SKIP pyclesperanto not importable: "
              f"{CLE_MISSING}")

    batches = []
    known = {q["name"] for n in ONLY if n in ops for q in ops[n]["params"]}
    for name, stack, size, dtype, params in SYNTHETIC:
        args = ["--stack", stack, "--size", size, "--dtype", dtype]
        for p in params:
            if ONLY and p.split("=")[0] not in known:  # run refuses a parameter no op has
                continue
            args += ["--param", p]
        batches.append(Batch(name, args, second_args=["--stack", stack, "--size", size,
                                                      "--dtype", dtype, "--seed", "43"]))
    for fname, extra in REAL:
        path = os.path.join(DATA, "stacks", fname)
        if not os.path.exists(path):
            check(True, f"real stack {fname} # SKIP not found in {DATA}/stacks")
            continue
        batches.append(Batch(fname.split("_")[0] + "-" + fname.split("_")[1],
                             ["--input", path] + extra))

    counts = {"equal": 0, "documented": 0, "failed": 0}
    shown = set()
    failures = []
    covered = set()
    global op_voxels
    for bt in batches:
        t0 = time.time()
        check(bt.ok and not bt.failed, f"{bt.name}: voxbench's run passes its own GPU-vs-"
              "reference comparison", bt.why if not bt.ok else bt.failed[:8])
        if not bt.ok:
            continue
        by_op = {r["op"]: r for r in bt.rows}
        st = by_op["copy"]["stack"]
        a = bt.output(by_op["copy"]).reshape(st["depth"], st["height"], st["width"])
        b = a if bt.b is None else bt.b.reshape(a.shape)
        labs = [labels_of(binary_of(a)), labels_of(binary_of(b))]
        lab = labs[0]
        rl = by_op.get("relabel_sequential")
        vb_lab = bt.output(rl) if rl else None
        check(vb_lab is not None and np.array_equal(vb_lab.reshape(lab.shape), lab), f"{bt.name}: the labels "
              "input is scipy.ndimage.label of the stack above its mean (6-connected)")
        for name, row in by_op.items():
            if row["status"] != "pass":
                continue
            op = ops[name]
            case = Case(op, row, a, b, labs)
            vb = bt.output(row)
            if vb is None:
                failures.append((bt.name, name, "-", "no saved output"))
                counts["failed"] += 1
                continue
            op_voxels = case.i0.size
            for lib, calls in libs:
                if name not in calls:
                    continue
                t1 = time.time()
                covered.add((name, lib))
                verdict, detail, used = run_pair(lib, calls[name], case, op, vb,
                                                 by_key.get((name, lib), []))
                counts[verdict] += 1
                shown.update(used)
                if verdict == "failed":
                    failures.append((bt.name, name, lib, detail))
                if VERBOSE:
                    print(f"# {bt.name} {name} {lib}: {verdict} {detail} "
                          f"({time.time() - t1:.2f} s)")
        if VERBOSE:
            print(f"# {bt.name}: run {bt.seconds:.1f} s, compared in {time.time() - t0:.1f} s")
    for f in failures[:60]:
        check(False, f"{f[0]}: {f[1]} against {f[2]} is equal or a documented difference",
              f[3])
    stale = [(r["op"], r["lib"], r["adapter"]) for r in table
             if (r["op"], r["lib"], r["adapter"]) not in shown and
             (r["lib"] != "pyclesperanto" or cle is not None) and
             (not ONLY or r["op"] in ONLY)]
    check(not stale, "every documented difference shows on at least one stack (none is stale)",
          stale)
    missing = sorted(n for n in ops if n not in CLE and n not in SCIPY)
    print(f"# ops with no equivalent in pyclesperanto, scipy or scikit-image: {missing}")
    check(len(covered) >= 150 or ONLY, "the comparison covers the ops with an equivalent",
          len(covered))
    print(f"conventions: {counts['equal']} equal, {counts['documented']} documented "
          f"difference, {counts['failed']} failed ({len(batches)} stacks, "
          f"{len({n for n, _ in covered})} ops, {len(table)} documented differences)")
    check(counts["failed"] == 0 and counts["equal"] > 0, "no op differs from clEsperanto or "
          "scipy/scikit-image without a documented reason", counts)


def aliases_table():
    """[(name, op, library, args)] from ops/aliases.def, the box/sphere macro expanded."""
    text = open(os.path.join(HERE, "..", "ops", "aliases.def")).read()
    rows = []
    for m in re.finditer(r'^\t(CLE|SCI|CLE_BOX_SPHERE)\((.*?)\),\s*$', text, re.M | re.S):
        a = [c_value(x, {}) for x in c_args(m.group(2))]
        if not a[0]:  # the macro's own body
            continue
        if m.group(1) == "CLE":
            rows.append((a[0], a[1], "pyclesperanto", a[2]))
        elif m.group(1) == "SCI":
            rows.append((a[0], a[1], "scipy", ""))
        else:
            rows += [(a[0], a[1], "pyclesperanto", ""),
                     (a[0], a[1], "pyclesperanto", "connectivity='box'"),
                     (a[0], a[2], "pyclesperanto", "connectivity='sphere'")]
    return rows


def resolves(dotted):
    import importlib
    mod, _, name = dotted.rpartition(".")
    try:
        return hasattr(importlib.import_module(mod), name)
    except ImportError:
        return False


def check_names(ops, table):
    """The alias table's names exist in their libraries; voxbench list and --ops accept the
    pyclesperanto ones; `voxbench list OP` prints the op's names and its documented
    differences."""
    rows = aliases_table()
    check(len(rows) > 50 and all(op in ops for _, op, _, _ in rows),
          "ops/aliases.def: every alias names an op of the table", len(rows))
    if cle is not None:
        missing = sorted({n for n, _, lib, _ in rows if lib == "pyclesperanto" and
                          not hasattr(cle, n)})
        check(not missing, "every pyclesperanto alias is a function of pyclesperanto 0.25",
              missing)
    missing = sorted({n for n, _, lib, _ in rows if lib == "scipy" and not resolves(n)})
    check(not missing, "every scipy/scikit-image/numpy name resolves", missing)
    wrong = []
    for name, op, lib, args in rows:
        if lib != "pyclesperanto":
            continue
        typed = f"{name}({args})" if args else name
        p = subprocess.run([VOXBENCH, "list", typed], capture_output=True, text=True)
        if p.returncode != 0 or not p.stdout.startswith(op + " ("):
            wrong.append((typed, op, p.stdout[:40], p.stderr[:80]))
    check(not wrong, "voxbench list accepts every pyclesperanto alias as its op", wrong[:5])
    p = subprocess.run([VOXBENCH, "run", "--probe", "none", "--repeat", "1", "--size", "5x4x3",
                        "--ops", "median(connectivity='sphere'),label", "--out", "-"],
                       capture_output=True, text=True)
    got = sorted(r["op"] for r in json.loads(p.stdout)["results"]) if p.returncode == 0 else p
    check(got == ["connected_components_labeling_box", "median_sphere"],
          "run --ops accepts pyclesperanto names with their keywords", got)
    shown = []
    for r in table:
        out = subprocess.run([VOXBENCH, "list", r["op"]], capture_output=True, text=True).stdout
        if r["library"] not in out or r["why"] not in out:
            shown.append((r["op"], r["adapter"]))
    check(not shown, "voxbench list OP prints each documented difference of the op", shown)


def call_of(lib, call):
    return call


def run_pair(lib, call, case, op, vb, rows):
    """(verdict, detail, {(op, lib, adapter) shown}) for one op, one library, one stack."""
    try:
        r = call(case)
        if lib == "pyclesperanto":
            r = P(r)
    except Exception as e:  # noqa: BLE001 - a library's exception is a finding, reported
        r, err = None, f"{type(e).__name__}: {str(e)[:200]}"
    else:
        err = ""
    raw = err or compare(op, vb, r)
    if not raw:
        return "equal", "", set()
    shown, last = set(), raw
    for row in rows:
        try:
            pair = ADAPTERS[row["adapter"]](case, vb, as_array(r), err, call_of(lib, call))
        except Mismatch as e:
            last = f"adapter {row['adapter']}: {e}"
            continue
        except Exception as e:  # noqa: BLE001
            last = f"adapter {row['adapter']} raised {type(e).__name__}: {e}"
            continue
        left = compare(op, *pair[:2], limit=pair[2] if len(pair) > 2 else None)
        if not left:
            shown.add((case.op["name"], lib, row["adapter"]))
            return "documented", row["adapter"], shown
        last = f"adapter {row['adapter']}: {left}"
    return "failed", f"{raw}" + (f" / {last}" if last != raw else ""), shown


main()
sys.exit(exit_status())
