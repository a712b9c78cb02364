#!/usr/bin/python3
"""Cross-check the references of thresholds and label ops (reference_cpu/label_threshold.c, label.c).

  threshold_otsu   skimage.filters.threshold_otsu on the same 256-bin histogram (and directly
                   on float stacks); out == in > threshold
  threshold_mean   numpy: in > float32(mean in float64)
  connected_components_labeling_box / _diamond
                   scipy.ndimage.label with ones((3,3,3)) / generate_binary_structure(3, 1):
                   the same labels voxel for voxel (scipy numbers in raster order too), on random
                   binaries and adversarial shapes (spiral, snake, checkerboard, full, empty...)
  label_spots      numpy: raster-order numbering of the non-zero voxels
  relabel_sequential        skimage.segmentation.relabel_sequential
  exclude_labels_on_edges   skimage.segmentation.clear_border, then relabel_sequential
  exclude_*_labels          numpy bincount sizes with pyclesperanto's bounds
  golden           each stack of $VB_DATA/stacks: gaussian_blur sigma 1 -> threshold_otsu ->
                   connected_components_labeling_box with ref_dump, against scipy gaussian_filter
                   -> skimage threshold_otsu -> scipy label: same count, same labels

numpy arrays are (z, y, x); sizes are WIDTHxHEIGHTxDEPTH.
"""
import os
import subprocess
import tempfile

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.segmentation import clear_border, relabel_sequential

from refcheck import (BUILD, DTYPES, TMP, bimodal_cases, exit_status, report, rng, run_main,
                      run_tool, size_text, tool_built)

DATA = os.environ.get("VB_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                              "data"))

NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
BOX = np.ones((3, 3, 3), dtype=bool)
DIAMOND = ndimage.generate_binary_structure(3, 1)


def side_value(stdout, name="threshold"):
    """The value of ref_dump's "NAME VALUE" line, or None."""
    side = None
    for line in stdout.split("\n"):
        if line.startswith(name + " "):
            side = float(line.split()[1])
    return side


def run_ref(op, a, params=None, out_dt="u32"):
    """ref_dump OP on a; returns (output or None, side value or None, error text)."""
    got, stdout, error = run_tool(op, [a], NAMES[a.dtype], params or {}, out_dt)
    if got is None:
        return None, None, error
    return got.reshape(a.shape), side_value(stdout), ""


def same(desc, got, want):
    if got is None:
        return
    if got.shape != want.shape:
        report(False, desc, f"shape {got.shape}, expected {want.shape}")
        return
    bad = np.flatnonzero(got.astype(np.int64) != want.astype(np.int64))
    if bad.size == 0:
        report(True, desc, f"{int(want.max()) if want.size else 0} max label/value")
    else:
        zyx = np.unravel_index(int(bad[0]), want.shape)
        report(False, desc, f"{bad.size} voxels differ, first at (z,y,x)={tuple(map(int, zyx))}: "
                            f"got {got[zyx]}, expected {want[zyx]}")


# --- thresholds ----------------------------------------------------------------------------

def otsu_bins(a):
    """reference_cpu/label_threshold.c's bins: float32 (v - lo) * (float)(256.0 / (hi - lo))."""
    v = a.astype(np.float32).ravel()
    lo, hi = v.min(), v.max()
    scale = np.float32(256.0 / np.float64(np.float32(hi - lo)))
    b = ((v - lo) * scale).astype(np.int64)
    return np.bincount(np.clip(b, 0, 255), minlength=256), float(lo), float(hi)


def otsu_checks():
    cases = bimodal_cases(rng)
    cases.append(("f32 constant", np.full((3, 4, 5), 7.5, np.float32)))
    cases.append(("u8 0/1", (rng.random((4, 6, 8)) < 0.4).astype(np.uint8)))
    for name, a in cases:
        got, side, err = run_ref("threshold_otsu", a, out_dt="u8")
        desc = f"threshold_otsu {size_text(a.shape)} {name}"
        if got is None:
            report(False, desc, err)
            continue
        if a.min() == a.max():
            want_t = float(a.min())
        else:
            counts, lo, hi = otsu_bins(a)
            centers = lo + (np.arange(256) + 0.5) * (hi - lo) / 256
            want_t = float(threshold_otsu(hist=(counts, centers)))
            # the same histogram as numpy's (skimage's own binning) up to edge rounding
            npc, _ = np.histogram(a.astype(np.float32), bins=256, range=(lo, hi))
            moved = int(np.abs(npc - counts).sum())
            report(moved <= 2, f"{desc} histogram = numpy's", f"{moved} bin counts differ")
            if a.dtype == np.float32:
                direct = float(threshold_otsu(a, nbins=256))
                report(abs(direct - side) <= 1e-6 * max(1.0, abs(direct)),
                       f"{desc} threshold = skimage threshold_otsu(image, nbins=256)",
                       f"{side} vs {direct}")
        report(side is not None and abs(side - want_t) <= 1e-6 * max(1.0, abs(want_t)),
               f"{desc} threshold = skimage's on the same histogram", f"{side} vs {want_t}")
        same(f"{desc} mask", got, (a.astype(np.float32) > np.float32(side)).astype(np.uint8))

    for dt in ["u8", "i32", "f32"]:
        a = (rng.normal(100, 40, (7, 13, 17))).clip(0, 255).astype(DTYPES[dt])
        got, _, err = run_ref("threshold_mean", a, out_dt="u8")
        if got is None:
            report(False, f"threshold_mean {dt}", err)
            continue
        want = a.astype(np.float32) > np.float32(a.astype(np.float64).mean())
        same(f"threshold_mean {size_text(a.shape)} {dt}", got, want.astype(np.uint8))


# --- connected components ------------------------------------------------------------------

def spiral(n):
    """A square spiral wall (1-voxel gaps between its turns) in every even plane, the planes
    joined through one voxel at a corner of each odd plane: one long winding component."""
    d, s = n
    a = np.zeros((d, s, s), np.uint8)
    plane = np.zeros((s, s), np.uint8)
    lo, hi = 0, s - 1
    while lo <= hi:
        plane[lo, lo:hi + 1] = 1
        plane[lo:hi + 1, hi] = 1
        if lo + 2 <= hi:
            plane[hi, lo + 2:hi + 1] = 1
            plane[lo + 2:hi + 1, lo + 2] = 1
        lo += 2
        hi -= 2
    a[0::2] = plane
    a[1::2, 0, 0] = 1
    return a


def snake(shape):
    """Every other row full, joined alternately at the left and right end, rows of planes joined
    likewise: a single path visiting half the volume."""
    d, h, w = shape
    a = np.zeros(shape, np.uint8)
    for z in range(0, d, 2):
        for y in range(0, h, 2):
            a[z, y, :] = 1
            if y + 1 < h:
                a[z, y + 1, (w - 1) if (y // 2) % 2 == 0 else 0] = 1
        if z + 1 < d:
            last = (h - 1) // 2 * 2
            a[z + 1, last, 0] = 1
    return a


def checkerboard(shape):
    z, y, x = np.indices(shape)
    return ((x + y + z) % 2).astype(np.uint8)


def face_touching(shape):
    a = np.zeros(shape, np.uint8)
    a[0, 2:5, 2:5] = a[-1, 1:3, 1:3] = 1
    a[2:4, 0, :] = a[1:3, -1, 1:3] = 1
    a[:, 3:5, 0] = a[:, 1, -1] = 1
    return a


def ccl_shapes():
    yield "spiral", spiral((6, 33))
    yield "snake", snake((9, 17, 21))
    yield "checkerboard", checkerboard((5, 6, 7))
    yield "all foreground", np.ones((4, 5, 6), np.uint8)
    yield "all background", np.zeros((4, 5, 6), np.uint8)
    one = np.zeros((5, 5, 5), np.uint8)
    one[2, 3, 1] = 1
    yield "one voxel", one
    yield "1x1x1 foreground", np.ones((1, 1, 1), np.uint8)
    yield "faces", face_touching((7, 8, 9))
    for p in (0.1, 0.3, 0.5, 0.7):
        yield f"random p={p}", (rng.random((13, 19, 23)) < p).astype(np.uint8)


def ccl_checks():
    for name, a in ccl_shapes():
        for op, st in (("connected_components_labeling_box", BOX),
                       ("connected_components_labeling_diamond", DIAMOND)):
            want, _ = ndimage.label(a, structure=st)
            got, _, err = run_ref(op, a)
            if got is None:
                report(False, f"{op} {name}", err)
                continue
            same(f"{op} {size_text(a.shape)} {name} = scipy.ndimage.label", got, want)
    # non-zero means foreground in every dtype
    a = (rng.random((6, 7, 8)) < 0.4)
    want, _ = ndimage.label(a, structure=BOX)
    for dt, vals in (("f32", a * np.float32(-0.5)), ("i32", a * np.int32(-7)),
                     ("u16", a * np.uint16(65535))):
        got, _, err = run_ref("connected_components_labeling_box", vals.astype(DTYPES[dt]))
        if got is None:
            report(False, f"ccl box {dt}", err)
        else:
            same(f"connected_components_labeling_box {dt} non-zero foreground", got, want)
    a = (rng.random((5, 9, 11)) < 0.2).astype(np.uint8) * 3
    got, _, err = run_ref("label_spots", a)
    want = np.zeros(a.shape, np.int64)
    want.ravel()[np.flatnonzero(a)] = np.arange(1, np.count_nonzero(a) + 1)
    if got is None:
        report(False, "label_spots", err)
    else:
        same(f"label_spots {size_text(a.shape)} raster order", got, want)


# --- label ops -----------------------------------------------------------------------------

def label_image(shape, gaps=True):
    """Blob labels with gaps in their numbering (values up to ~3x their count)."""
    lab, n = ndimage.label(ndimage.gaussian_filter(rng.random(shape), 1.2) > 0.52)
    if gaps and n:
        values = np.sort(rng.choice(np.arange(1, 3 * n + 1), n, replace=False))
        lab = np.concatenate([[0], values])[lab]
    return lab


def keep_map(lab, keep):
    """Renumber the labels where keep[label] 1..K in order of value."""
    new = np.zeros(keep.size, np.int64)
    new[keep] = np.arange(1, int(keep.sum()) + 1)
    return new[lab]


def label_op_checks():
    for dt in ["u8", "u16", "u32", "i32"]:
        lab = label_image((11, 29, 31))
        if dt == "u8":
            lab = np.where(lab > 255, 0, lab)
        a = lab.astype(DTYPES[dt])
        desc = f"{size_text(a.shape)} {dt} ({len(np.unique(lab)) - 1} labels)"
        got, _, err = run_ref("relabel_sequential", a)
        same(f"relabel_sequential {desc} = skimage relabel_sequential",
             got, relabel_sequential(lab)[0]) if got is not None else report(False, desc, err)
        got, _, err = run_ref("exclude_labels_on_edges", a)
        same(f"exclude_labels_on_edges {desc} = clear_border + relabel",
             got, relabel_sequential(clear_border(lab))[0]) if got is not None else \
            report(False, desc, err)
        sizes = np.bincount(lab.ravel())
        for op, params, keep in (
                ("exclude_small_labels", {"maximum_size": 20}, sizes >= 20),
                ("exclude_large_labels", {"minimum_size": 20}, sizes <= 20),
                ("exclude_labels_outside_size_range", {"minimum_size": 8, "maximum_size": 40.5},
                 (sizes >= 8) & (sizes <= 40)),
                ("exclude_small_labels", {"maximum_size": 0}, sizes > 0)):
            keep = keep & (sizes > 0)
            keep[0] = False
            got, _, err = run_ref(op, a, params)
            p = ",".join(f"{k}={v}" for k, v in params.items())
            same(f"{op} {desc} {p}", got, keep_map(lab, keep)) if got is not None else \
                report(False, f"{op} {desc}", err)
    # edges per axis, and a single plane (z faces not counted)
    lab = label_image((6, 20, 22), gaps=False)
    for ax, name in ((2, "x"), (1, "y"), (0, "z")):
        params = {"exclude_x": 0, "exclude_y": 0, "exclude_z": 0}
        params["exclude_" + name] = 1
        touch = np.unique(np.concatenate([np.take(lab, 0, axis=ax).ravel(),
                                          np.take(lab, -1, axis=ax).ravel()]))
        keep = np.ones(lab.max() + 1, bool)
        keep[touch] = False
        keep[0] = False
        got, _, err = run_ref("exclude_labels_on_edges", lab.astype(np.uint32), params)
        same(f"exclude_labels_on_edges exclude_{name} only", got, keep_map(lab, keep)) \
            if got is not None else report(False, name, err)
    plane = label_image((1, 30, 30), gaps=False)
    got, _, err = run_ref("exclude_labels_on_edges", plane.astype(np.uint32))
    same("exclude_labels_on_edges single plane = 2D clear_border", got,
         relabel_sequential(clear_border(plane[0]))[0][None]) if got is not None else \
        report(False, "single plane", err)
    got, _, err = run_ref("relabel_sequential", np.array([[[-3, 1]]], np.int32))
    report(got is None and "negative" in err, "relabel_sequential refuses negative labels", err)


# --- golden pipeline on real stacks --------------------------------------------------------

def decode_with_voxbench(path):
    """The first channel and frame as voxbench reads it (its copy op saved as a plain TIFF)."""
    import tifffile
    exe = os.environ.get("VOXBENCH", os.path.join(BUILD, "voxbench"))
    out = tempfile.mkdtemp(dir=TMP)
    r = subprocess.run([exe, "run", "--input", path, "--ops", "copy", "--repeat", "1",
                        "--probe", "none", "--save-outputs", out, "--out",
                        os.path.join(out, "r.json")], capture_output=True, text=True, timeout=300)
    saved = [f for f in os.listdir(out) if f.endswith(".tif")]
    if r.returncode != 0 or len(saved) < 1:
        return None
    return tifffile.imread(os.path.join(out, sorted(saved)[0]))


def read_stack(path):
    """(z, y, x) of the first channel and frame, or None."""
    import tifffile
    try:
        a = tifffile.imread(path)
    except ValueError:  # a codec tifffile lacks here (LZW without imagecodecs)
        a = decode_with_voxbench(path)
        return None if a is None else (a[None] if a.ndim == 2 else a)
    series = tifffile.TiffFile(path).series[0]
    axes = series.axes
    for ax in "TC":
        if ax in axes:
            a = np.take(a, 0, axis=axes.index(ax))
            axes = axes.replace(ax, "")
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or axes[-2:] != "YX":
        return None
    return a


def golden_checks():
    folder = os.path.join(DATA, "stacks")
    if not os.path.isdir(folder):
        print(f"ok - golden pipeline # SKIP no stacks in {folder}")
        return
    try:
        import tifffile  # noqa: F401
    except ImportError:
        print("ok - golden pipeline # SKIP tifffile is missing")
        return
    for name in sorted(os.listdir(folder)):
        a = read_stack(os.path.join(folder, name))
        if a is None:
            print(f"ok - golden {name} # SKIP not a plain z stack")
            continue
        a = np.ascontiguousarray(a)
        desc = f"golden {name} {size_text(a.shape)}"
        blur, _, err = run_ref("gaussian_blur", a,
                               {"sigma_x": 1, "sigma_y": 1, "sigma_z": 1}, "f32")
        if blur is None:
            report(False, desc, err)
            continue
        mask, t, err = run_ref("threshold_otsu", blur, out_dt="u8")
        lab, _, err2 = run_ref("connected_components_labeling_box", mask) if mask is not None \
            else (None, None, err)
        if lab is None:
            report(False, desc, err2)
            continue
        sblur = ndimage.gaussian_filter(a.astype(np.float64), 1.0, mode="nearest",
                                        truncate=4.0).astype(np.float32)
        st = float(threshold_otsu(sblur, nbins=256))
        want, n = ndimage.label(sblur > st, structure=BOX)
        report(abs(t - st) <= 1e-5 * max(1.0, abs(st)), f"{desc} otsu threshold",
               f"{t} vs skimage {st}")
        report(int(lab.max()) == n, f"{desc} label count", f"{int(lab.max())} vs scipy {n}")
        same(f"{desc} labels = scipy/skimage pipeline", lab, want)


def main():
    if not tool_built():
        return 1
    otsu_checks()
    ccl_checks()
    label_op_checks()
    golden_checks()
    return exit_status()


if __name__ == "__main__":
    run_main(main)
