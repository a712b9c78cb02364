#!/usr/bin/python3
"""Cross-check the references of the measure ops (reference_cpu/measure.c) with scipy / skimage.

  distance_transform_edt  scipy.ndimage.distance_transform_edt(in != 0, sampling=(sz, sy, sx)),
                          isotropic and anisotropic; edge cases: all zeros (0), one zero voxel,
                          no zero voxel (ours: +inf; scipy measures to a phantom zero before voxel
                          0, checked here so a scipy change is noticed)
  dilate_labels           brute force nearest label within the radius (smallest label on ties),
                          and skimage.segmentation.expand_labels wherever the nearest label is
                          unique (elsewhere both picks must be at the same distance)
  erode_labels            scipy grey_erosion == grey_dilation over the Euclidean ball footprint
                          (mode='nearest'): the label survives where its neighbourhood is uniform
  statistics_of_labelled_pixels
                          skimage.measure.regionprops_table (area, intensity mean/min/max,
                          centroid, bbox) and numpy (sum, population std); gaps: area 0, NaN
  centroids_of_labels     scipy.ndimage.center_of_mass of each label
  voronoi_otsu_labeling   the chain from its steps' references: maxima (maximum_filter size 3,
                          plateaus included) of blur(spot) and blur(outline)'s Otsu mask, then
                          the numpy masked_voronoi_labeling
  masked_voronoi_labeling pyclesperanto_prototype's algorithm in numpy: scipy label (3x3x3),
                          mask - 1 added, then alternating box / diamond maximum_filter steps on
                          the zero voxels until nothing changes, masked

numpy arrays are (z, y, x); sizes are WIDTHxHEIGHTxDEPTH.
"""
from functools import partial

import numpy as np
from scipy import ndimage
from skimage.measure import regionprops_table
from skimage.segmentation import expand_labels

import refcheck
from refcheck import ALL, DTYPES, compare, ref, rng, run_main, size_text, tool_built
from vbcheck import check, exit_status

COLUMNS = ["label", "area", "sum_intensity", "mean_intensity", "min_intensity", "max_intensity",
           "std_intensity", "centroid_x", "centroid_y", "centroid_z", "bbox_min_x", "bbox_min_y",
           "bbox_min_z", "bbox_max_x", "bbox_max_y", "bbox_max_z"]


# --- distance transform ---------------------------------------------------------------------

def binary_stack(shape, dt, ones=0.8):
    a = (rng.random(shape) < ones).astype(np.float64)
    a *= rng.integers(1, 100, shape)  # any non-zero counts, not just 1
    if dt == "f32":
        a *= -0.5  # negative non-zero values count as well
    return a.astype(DTYPES[dt])


def edt_checks():
    spacings = [(1.0, 1.0, 1.0), (0.5, 1.0, 2.0), (1.0, 0.3, 1.0), (3.0, 0.7, 0.2)]
    for shape in [(3, 5, 7), (1, 1, 1), (9, 11, 13), (1, 17, 30), (25, 1, 1), (12, 20, 6)]:
        for dt in ALL:
            for ones in (0.8, 0.99):
                a = binary_stack(shape, dt, ones)
                if not (a == 0).any():
                    a.flat[rng.integers(a.size)] = 0
                for sx, sy, sz in spacings:
                    params = {"voxel_size_x": sx, "voxel_size_y": sy, "voxel_size_z": sz}
                    desc = f"distance_transform_edt {size_text(shape)} {dt} ones={ones} " \
                           f"voxel=({sx},{sy},{sz})"
                    want = ndimage.distance_transform_edt(a != 0, sampling=(sz, sy, sx))
                    got = ref("distance_transform_edt", [a], dt, params, "f32", shape, desc)
                    if got is not None:
                        compare(desc, got, want.astype(np.float32), tol_rel=1e-6)
    shape = (6, 7, 8)
    zeros = np.zeros(shape, np.uint8)
    got = ref("distance_transform_edt", [zeros], "u8", {}, "f32", shape, "edt all zeros")
    if got is not None:
        compare("distance_transform_edt all zeros gives 0", got, np.zeros(shape, np.float32))
    one = np.ones(shape, np.uint16)
    one[2, 3, 4] = 0
    want = ndimage.distance_transform_edt(one, sampling=(2.0, 1.0, 0.5))
    got = ref("distance_transform_edt", [one], "u16",
              {"voxel_size_x": 0.5, "voxel_size_y": 1.0, "voxel_size_z": 2.0}, "f32", shape,
              "edt one zero voxel")
    if got is not None:
        compare("distance_transform_edt single zero voxel, anisotropic", got,
                want.astype(np.float32), tol_rel=1e-6)
    ones = np.ones(shape, np.int32)
    got = ref("distance_transform_edt", [ones], "i32", {}, "f32", shape, "edt no zero")
    if got is not None:
        check(np.isposinf(got).all(), "distance_transform_edt without a zero voxel is +inf",
              f"got {np.unique(got)[:5]}")
    phantom = ndimage.distance_transform_edt(np.ones((4,)))
    check(np.array_equal(phantom, [1, 2, 3, 4]),
          "scipy without a zero voxel still measures to a phantom zero before voxel 0 "
          "(the deviation documented in the row)", f"scipy gives {phantom}")


# --- label dilation and erosion ---------------------------------------------------------------

def sparse_labels(shape, dt, fraction, nlabels):
    lab = np.where(rng.random(shape) < fraction, rng.integers(1, nlabels + 1, shape), 0)
    return lab.astype(DTYPES[dt])


def nearest_labels(lab, radius):
    """Brute force: (nearest label within radius, smallest on ties; squared distance; unique)."""
    idx = np.argwhere(lab > 0)
    vals = lab[lab > 0].astype(np.int64)
    out = lab.astype(np.int64).copy()
    unique = np.ones(lab.shape, bool)
    for p in np.argwhere(lab == 0):
        if not len(idx):
            break
        d2 = ((idx - p) ** 2).sum(axis=1)
        m = d2.min()
        if m > radius * radius:
            continue
        near = vals[d2 == m]
        out[tuple(p)] = near.min()
        unique[tuple(p)] = (near == near[0]).all()
    return out, unique


def label_distance(lab, p, label):
    idx = np.argwhere(lab == label)
    return ((idx - p) ** 2).sum(axis=1).min()


def dilate_checks():
    for shape in [(5, 6, 7), (1, 12, 15), (8, 9, 4), (1, 1, 20)]:
        for dt in ["u32", "u8", "u16", "i32"]:
            lab = sparse_labels(shape, dt, 0.05, 9)
            for radius in (0, 1, 2, 3, 6):
                desc = f"dilate_labels {size_text(shape)} {dt} radius={radius}"
                got = ref("dilate_labels", [lab], dt, {"radius": radius}, "u32", shape, desc)
                if got is None:
                    continue
                want, unique = nearest_labels(lab, radius)
                compare(desc + " vs brute force", got, want.astype(np.uint32))
                sk = expand_labels(lab.astype(np.int64), distance=radius)
                bad = [tuple(p) for p in np.argwhere((sk != got) & unique)]
                bad += [tuple(p) for p in np.argwhere((sk != got) & ~unique)
                        if label_distance(lab, p, sk[tuple(p)]) !=
                        label_distance(lab, p, got[tuple(p)])]
                check(not bad, desc + " vs skimage expand_labels (ties: same distance)",
                      f"{len(bad)} voxels differ, first {bad[:3]}")


def ball(radius):
    r = radius
    z, y, x = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    return (x * x + y * y + z * z) <= r * r


def erode_checks():
    for shape in [(5, 6, 7), (1, 12, 15), (10, 9, 8), (1, 1, 9)]:
        for dt in ["u32", "u16", "i32"]:
            # blocky labels so that some survive erosion
            small = sparse_labels(tuple(max(1, s // 3) for s in shape), dt, 0.7, 5)
            lab = np.kron(small, np.ones((3, 3, 3), small.dtype))[:shape[0], :shape[1],
                                                                  :shape[2]]
            lab = np.ascontiguousarray(lab)
            if lab.shape != shape:
                lab = np.resize(lab, shape)
            for radius in (0, 1, 2, 3):
                desc = f"erode_labels {size_text(shape)} {dt} radius={radius}"
                got = ref("erode_labels", [lab], dt, {"radius": radius}, "u32", shape, desc)
                if got is None:
                    continue
                fp = ball(radius)
                lo = ndimage.grey_erosion(lab, footprint=fp, mode="nearest")
                hi = ndimage.grey_dilation(lab, footprint=fp, mode="nearest")
                want = np.where((lo == hi) & (lab > 0), lab, 0).astype(np.uint32)
                compare(desc, got, want)


# --- statistics ---------------------------------------------------------------------------------

intensity_stack = partial(refcheck.random_stack, full_i32=True)


def statistics_want(img, lab, rows):
    want = np.full((rows, len(COLUMNS)), np.nan)
    want[:, 0] = np.arange(1, rows + 1)
    want[:, 1] = 0
    want[:, 2] = 0
    present = np.unique(lab[lab > 0])
    if present.size:
        t = regionprops_table(lab.astype(np.int64), img.astype(np.float64),
                              properties=("label", "area", "intensity_mean", "intensity_min",
                                          "intensity_max", "centroid", "bbox"))
        r = t["label"] - 1
        want[r, 1] = t["area"]
        want[r, 3] = t["intensity_mean"]
        want[r, 4] = t["intensity_min"].astype(np.float32)
        want[r, 5] = t["intensity_max"].astype(np.float32)
        for a, k in enumerate((2, 1, 0)):  # x, y, z from skimage's (z, y, x)
            want[r, 7 + a] = t[f"centroid-{k}"]
            want[r, 10 + a] = t[f"bbox-{k}"]
            want[r, 13 + a] = t[f"bbox-{k + 3}"] - 1  # skimage's bbox end is exclusive
        v = img.astype(np.float64)
        for l in present:
            want[l - 1, 2] = v[lab == l].sum()
            want[l - 1, 6] = v[lab == l].std()
    return want


def statistics_checks():
    for shape in [(4, 6, 9), (1, 1, 1), (7, 13, 11), (1, 30, 40)]:
        for dt in ALL:
            img = intensity_stack(shape, dt)
            lab = sparse_labels(shape, "u32", 0.6, 7)
            lab[lab == 3] = 0  # a gap in the numbering
            rows = max(1, int(lab.max()))
            desc = f"statistics_of_labelled_pixels {size_text(shape)} {dt}"
            got = ref("statistics_of_labelled_pixels", [img, lab], f"{dt},u32", {}, "f32",
                      (1, rows, len(COLUMNS)), desc)
            if got is None:
                continue
            want = statistics_want(img, lab, rows)
            for k, name in enumerate(COLUMNS):
                compare(f"{desc} column {name}", got[0, :, k],
                        want[:, k].astype(np.float32), tol_rel=1e-6)
            cent = ref("centroids_of_labels", [lab], "u32", {}, "f32", (1, 3, rows),
                       "centroids_of_labels")
            if cent is not None:
                idx = np.arange(1, rows + 1)
                com = ndimage.center_of_mass(np.ones(shape), lab, idx) if lab.max() else \
                    [(np.nan,) * 3]
                com = np.array([c if (lab == i).any() else (np.nan,) * 3
                                for c, i in zip(com, idx)], dtype=np.float64).reshape(-1, 3)
                want_c = com[:, ::-1].T.astype(np.float32)  # rows x, y, z
                compare(f"centroids_of_labels {size_text(shape)}", cent[0], want_c,
                        tol_rel=1e-6)


def masked_voronoi_want(seeds, mask):
    lab, _ = ndimage.label(seeds != 0, structure=np.ones((3, 3, 3)))
    state = lab.astype(np.int64) + (mask != 0).astype(np.int64) - 1
    box = np.ones((3, 3, 3), bool)
    diamond = ndimage.generate_binary_structure(3, 1)
    step = 0
    while True:
        grown = ndimage.maximum_filter(state, footprint=box if step % 2 == 0 else diamond,
                                       mode="nearest")
        new = np.where(state == 0, grown, state)
        step += 1
        if not ((state == 0) & (new != 0)).any():
            break
        state = new
    return np.where((mask != 0) & (state > 0), state, 0).astype(np.uint32)


def masked_voronoi_checks():
    for shape in [(5, 6, 7), (1, 20, 25), (9, 12, 10), (1, 1, 1)]:
        for dt in ["u8", "i32", "f32"]:
            seeds = (rng.random(shape) < 0.04).astype(DTYPES[dt])
            # a mask with walls so that growth is geodesic
            mask = (rng.random(shape) < 0.85).astype(DTYPES[dt])
            mask[seeds != 0] = 1
            desc = f"masked_voronoi_labeling {size_text(shape)} {dt}"
            got = ref("masked_voronoi_labeling", [seeds, mask], dt, {}, "u32", shape, desc)
            if got is not None:
                compare(desc, got, masked_voronoi_want(seeds, mask))


def voronoi_otsu_checks():
    """The chain's composition: its steps' own references (checked by their families' tests)
    run one by one, then masked_voronoi_labeling in numpy."""
    for shape, dt, spot, outline in [((9, 30, 40), "u16", 2.0, 2.0), ((1, 50, 60), "f32", 1.5, 0.7),
                                     ((12, 14, 16), "u8", 1.0, 3.0)]:
        a = ndimage.gaussian_filter(rng.random(shape) * 200, 2.0).astype(DTYPES[dt])
        desc = f"voronoi_otsu_labeling {size_text(shape)} {dt} spot={spot} outline={outline}"
        sig = lambda s: {"sigma_x": s, "sigma_y": s, "sigma_z": s}
        blur1 = ref("gaussian_blur", [a], dt, sig(spot), "f32", shape, desc)
        blur2 = ref("gaussian_blur", [a], dt, sig(outline), "f32", shape, desc)
        if blur1 is None or blur2 is None:
            continue
        spots = blur1 == ndimage.maximum_filter(blur1, size=3, mode="nearest")
        mask = ref("threshold_otsu", [blur2], "f32", {}, "u8", shape, desc)
        got = ref("voronoi_otsu_labeling", [a], dt, {"spot_sigma": spot,
                                                    "outline_sigma": outline}, "u32", shape, desc)
        if mask is None or got is None:
            continue
        compare(desc, got, masked_voronoi_want(spots & (mask != 0), mask))
        check(got.max() > 1, desc + " finds several objects", f"max label {got.max()}")


def main():
    if not tool_built():
        return 1
    edt_checks()
    dilate_checks()
    erode_checks()
    with np.errstate(invalid="ignore"):  # center_of_mass of labels without voxels
        statistics_checks()
    masked_voronoi_checks()
    voronoi_otsu_checks()
    return exit_status()


if __name__ == "__main__":
    run_main(main)
