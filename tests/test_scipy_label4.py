#!/usr/bin/python3
"""Cross-check the references of ops/rows_label4.def (reference_cpu/label4.c) with numpy, scipy
and scikit-image, each primitive written here again from its definition (not through ref_dump):

  erode_labels, dilate_labels (their balls)
                   numpy over the offsets of the Euclidean ball, in-image neighbours only;
                   dilation: the nearest label, the smallest on ties
  erode_sphere     scipy.ndimage.minimum_filter(footprint=ball, mode="nearest")
  Voronoi growth   scipy.ndimage.maximum_filter, a 3x3x3 box and the 6-neighbour cross
                   alternating, into the 0 voxels until nothing changes
  opening_labels, closing_labels, smooth_labels, erode_connected_labels
                   those primitives chained as pyclesperanto 0.25.1 chains them;
                   skimage.segmentation.relabel_sequential
  extend_labeling_via_voronoi, voronoi_labeling
                   the growth; scipy.ndimage.label with a 3x3x3 structure
  reduce_labels_to_centroids
                   scipy.ndimage.center_of_mass, floored
  remove_labels_with_map_values_out_of_range / _within_range
                   numpy flags by label, relabel_sequential
  eroded_otsu_labeling
                   the references of gaussian_blur and threshold_otsu (checked elsewhere),
                   then minimum_filter(mode="nearest"), scipy.ndimage.label and the growth
                   inside the mask

numpy arrays are (z, y, x); sizes are WIDTHxHEIGHTxDEPTH.
"""
import numpy as np
from scipy import ndimage
from skimage.segmentation import relabel_sequential

from refcheck import DTYPES, compare, ref, report, rng, run_main, size_text, tool_built

SHAPES = [(6, 23, 27), (1, 31, 29), (1, 1, 1), (5, 1, 9), (9, 17, 13)]
BOX = np.ones((3, 3, 3), bool)
CROSS = ndimage.generate_binary_structure(3, 1)


def touching_labels(shape, seeds=7, fill=0.7):
    """Cells of random seeds (nearest seed) over a smooth random mask: labels that touch each
    other and the background; numbering with a gap."""
    noise = ndimage.gaussian_filter(rng.random(shape), 1.5)
    mask = noise > np.quantile(noise, 1 - fill) if noise.size > 1 else np.ones(shape, bool)
    marks = np.zeros(shape, np.int64)
    at = rng.integers(0, noise.size, seeds)
    marks.ravel()[at] = np.arange(1, seeds + 1)
    _, idx = ndimage.distance_transform_edt(marks == 0, return_indices=True)
    lab = np.where(mask, marks[tuple(idx)], 0)
    lab[lab == 3] = 0
    return lab.astype(np.uint32)


def ball(r, shape):
    """The offsets (dz, dy, dx, d2) of the Euclidean ball, radius 0 on length-1 axes."""
    rz, ry, rx = (r if n > 1 else 0 for n in shape)
    return sorted(((dz, dy, dx, dz * dz + dy * dy + dx * dx)
                   for dz in range(-rz, rz + 1) for dy in range(-ry, ry + 1)
                   for dx in range(-rx, rx + 1) if dz * dz + dy * dy + dx * dx <= r * r),
                  key=lambda o: o[3])


def shifted(a, off, fill):
    """b[p] = a[p + off] where p + off lies in the image, else fill."""
    b = np.full(a.shape, fill, a.dtype)
    src, dst = [], []
    for o, n in zip(off, a.shape):
        src.append(slice(max(o, 0), n + min(o, 0)))
        dst.append(slice(max(-o, 0), n - max(o, 0)))
    if all(s.stop > s.start for s in src):
        b[tuple(dst)] = a[tuple(src)]
    return b


def erode_labels(lab, r):
    lab = lab.astype(np.int64)
    keep = lab > 0
    for dz, dy, dx, _ in ball(r, lab.shape):
        nb = shifted(lab, (dz, dy, dx), -1)
        keep &= (nb == -1) | (nb == lab)
    return np.where(keep, lab, 0)


def dilate_labels(lab, r):
    lab = lab.astype(np.int64)
    out, best = lab.copy(), np.where(lab > 0, 0, np.iinfo(np.int64).max)
    for dz, dy, dx, d2 in ball(r, lab.shape):
        nb = shifted(lab, (dz, dy, dx), 0)
        better = (lab == 0) & (nb > 0) & ((d2 < best) | ((d2 == best) & (nb < out)))
        out = np.where(better, nb, out)
        best = np.where(better, d2, best)
    return out


def erode_sphere(a, r):
    fp = np.zeros((2 * r + 1,) * 3, bool)
    for dz, dy, dx, _ in ball(r, (3, 3, 3)):
        fp[dz + r, dy + r, dx + r] = True
    return ndimage.minimum_filter((a != 0).astype(np.uint8), footprint=fp, mode="nearest")


def grow(state):
    """clEsperanto's growth: 0 voxels take their box / cross maximum, alternately."""
    s = state.astype(np.int64)
    for k in range(100000):
        fp = BOX if k % 2 == 0 else CROSS
        nxt = np.where(s == 0, ndimage.maximum_filter(s, footprint=fp, mode="constant"), s)
        if np.array_equal(nxt, s):
            return s
        s = nxt
    raise RuntimeError("no convergence")


def sequential(a):
    return relabel_sequential(a.astype(np.int64))[0].astype(np.uint32)


def u32(a):
    return np.asarray(a).astype(np.uint32)


def morphology_checks():
    for shape in SHAPES:
        lab = touching_labels(shape)
        for r in (1, 2, 3):
            d = f"{size_text(shape)} radius={r}"
            opened = dilate_labels(erode_labels(lab, r), r)
            grown = dilate_labels(lab, r)
            wants = {
                "opening_labels": opened,
                "closing_labels": np.where(erode_sphere(grown, r) != 0, grown, 0),
                "smooth_labels": np.where(lab > 0, grow(opened), 0),
                "erode_connected_labels":
                    sequential(np.where(erode_labels((lab > 0).astype(np.int64), r), lab, 0)),
            }
            for op, want in wants.items():
                got = ref(op, [lab], "u32", {"radius": r}, "u32", shape, f"{op} {d}")
                if got is not None:
                    compare(f"{op} {d}", got, u32(want))
        if lab.size > 100:
            # the chains do work: each step changes voxels the previous left
            opened, grown = dilate_labels(erode_labels(lab, 2), 2), dilate_labels(lab, 2)
            closed = np.where(erode_sphere(grown, 2) != 0, grown, 0)
            smooth = np.where(lab > 0, grow(opened), 0)
            report((opened != lab).any() and (closed != grown).any() and
                   (closed != lab).any() and (smooth != lab).any(),
                   f"opening, closing and smoothing at radius 2 change {size_text(shape)}")


def voronoi_checks():
    for shape in SHAPES:
        lab = touching_labels(shape, fill=0.3)
        d = size_text(shape)
        for dt in ("u32", "u16", "i32", "f32"):
            got = ref("extend_labeling_via_voronoi", [lab.astype(DTYPES[dt])], dt, {}, "u32",
                      shape, f"extend_labeling_via_voronoi {d} {dt}")
            if got is not None:
                compare(f"extend_labeling_via_voronoi {d} {dt}", got, u32(grow(lab)))
        if lab.any():
            got = ref("extend_labeling_via_voronoi", [lab], "u32", {}, "u32", shape, d)
            report(got is not None and (got > 0).all(),
                   f"extend_labeling_via_voronoi {d} fills the background")
        binary = (lab > 0).astype(np.uint8)
        want = grow(ndimage.label(binary, structure=BOX)[0])
        got = ref("voronoi_labeling", [binary], "u8", {}, "u32", shape, f"voronoi_labeling {d}")
        if got is not None:
            compare(f"voronoi_labeling {d}", got, u32(want))
    empty = np.zeros((3, 4, 5), np.uint32)
    got = ref("extend_labeling_via_voronoi", [empty], "u32", {}, "u32", empty.shape, "empty")
    if got is not None:
        compare("extend_labeling_via_voronoi of no labels stays 0", got, empty)


def centroid_checks():
    for shape in SHAPES:
        lab = touching_labels(shape)
        want = np.zeros(shape, np.uint32)
        present = [k for k in range(1, int(lab.max()) + 1) if (lab == k).any()]
        for k in present:  # ascending: the larger label wins a shared voxel
            c = ndimage.center_of_mass(np.ones(shape), lab, k)
            want[tuple(int(np.floor(v)) for v in c)] = k
        d = f"reduce_labels_to_centroids {size_text(shape)}"
        got = ref("reduce_labels_to_centroids", [lab], "u32", {}, "u32", shape, d)
        if got is not None:
            compare(d, got, want)
    pair = np.zeros((1, 3, 8), np.uint32)
    pair[0, 1, 4:6] = 2  # centroid x 4.5: floor puts it on 4, as pyclesperanto's (int) cast
    got = ref("reduce_labels_to_centroids", [pair], "u32", {}, "u32", pair.shape, "pair")
    if got is not None:
        want = np.zeros_like(pair)
        want[0, 1, 4] = 2
        compare("reduce_labels_to_centroids floors a half-voxel centroid", got, want)


def removal_checks():
    for shape in SHAPES:
        lab = touching_labels(shape, seeds=12)
        values = rng.normal(100, 40, shape).astype(np.float32)
        flat = np.concatenate([values.ravel(), [np.nan] * 20])
        v = flat[lab.astype(np.int64)]
        lo, hi = 80.0, 130.0
        inside = (v >= np.float32(lo)) & (v <= np.float32(hi))
        for op, keep in (("remove_labels_with_map_values_out_of_range", inside),
                         ("remove_labels_with_map_values_within_range", ~inside)):
            d = f"{op} {size_text(shape)}"
            got = ref(op, [lab, values], "u32,f32", {"min_value": lo, "max_value": hi}, "u32",
                      shape, d)
            if got is not None:
                compare(d, got, sequential(np.where((lab > 0) & keep, lab, 0)))


def eroded_otsu_checks():
    for shape, dt, sigma, k in [((9, 40, 50), "u16", 2.0, 1), ((1, 60, 70), "f32", 1.0, 2),
                                ((12, 24, 26), "u8", 1.0, 0), ((8, 30, 30), "f32", 0.0, 1)]:
        a = ndimage.gaussian_filter(rng.random(shape) * 200, 2.0).astype(DTYPES[dt])
        d = f"eroded_otsu_labeling {size_text(shape)} {dt} sigma={sigma} erosions={k}"
        blur = ref("gaussian_blur", [a], dt, {"sigma_x": sigma, "sigma_y": sigma,
                                               "sigma_z": sigma}, "f32", shape, d)
        mask = None if blur is None else ref("threshold_otsu", [blur], "f32", {}, "u8", shape, d)
        got = ref("eroded_otsu_labeling", [a], dt, {"outline_sigma": sigma,
                                                    "number_of_erosions": k}, "u32", shape, d)
        if mask is None or got is None:
            continue
        seeds = ndimage.minimum_filter(mask, size=2 * k + 1, mode="nearest")
        state = ndimage.label(seeds != 0, structure=BOX)[0] - (mask == 0)
        want = np.where(mask != 0, np.maximum(grow(state), 0), 0)
        compare(d, got, u32(want))
        report(got.max() >= 1, d + " finds objects", f"max label {got.max()}")


def thread_checks():
    from refcheck import run_ref
    shape = (7, 33, 35)
    lab = touching_labels(shape, seeds=40)
    for op, params in (("smooth_labels", {"radius": 2}), ("closing_labels", {"radius": 2}),
                       ("extend_labeling_via_voronoi", {}), ("reduce_labels_to_centroids", {})):
        one, e1 = run_ref(op, [lab], "u32", params, "u32", None, 1)
        many, e5 = run_ref(op, [lab], "u32", params, "u32", None, 5)
        ok = one is not None and many is not None and np.array_equal(one, many)
        report(ok, f"{op}: the same output on 1 and 5 threads", e1 or e5)


def main():
    if not tool_built():
        return 1
    morphology_checks()
    voronoi_checks()
    centroid_checks()
    removal_checks()
    eroded_otsu_checks()
    thread_checks()
    from refcheck import exit_status
    return exit_status()


if __name__ == "__main__":
    run_main(main)
