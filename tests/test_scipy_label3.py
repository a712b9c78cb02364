#!/usr/bin/python3
"""Cross-check the references of the label, map and measurement ops of ops/rows_label3.def and
ops/rows_measure3.def (reference_cpu/label3.c, measure3.c) with scipy, scikit-image and numpy.

  detect_label_edges, reduce_labels_to_label_edges
                   skimage.segmentation.find_boundaries(connectivity=1, mode="thick")
  mask_label       numpy where
  pixel_count_map, mean/minimum/maximum/standard_deviation_intensity_map
                   scipy.ndimage.sum_labels / mean / minimum / maximum / standard_deviation per
                   label, gathered onto the voxels
  statistics_of_background_and_labelled_pixels
                   scipy.ndimage per label, the background as label 0
  generate_touch_matrix, count_touching_neighbors, touching_neighbor_count_map
                   numpy: the label pairs of 6-neighbours along each axis
  generate_binary_overlap_matrix, flag_existing_labels
                   numpy: the pairs of labels per voxel, np.unique
  gauss_otsu_labeling
                   the references of gaussian_blur and threshold_otsu, then scipy.ndimage.label
                   with a 3x3x3 structure
  jaccard_index, sorensen_dice
                   1 - scipy.spatial.distance.jaccard / dice
  combine_labels, exclude_labels_with_map_values_out_of_range / _within_range
                   numpy, then skimage.segmentation.relabel_sequential
  exclude_labels   numpy flags by label, then relabel_sequential
  read_map_values  scipy.ndimage.mean per label (0 for the background)
  merge_touching_labels
                   scipy.sparse.csgraph.connected_components of the touch graph
  mean/maximum_extension_map, extension_ratio_map
                   numpy: distances of each label's voxels to its centroid
  mean/minimum/maximum_of_touching_neighbors_map
                   numpy over the touch matrix of scipy.ndimage.mean per label
  labelled_spots_to_pointlist
                   np.flatnonzero: each label's last voxel
  spots_to_pointlist
                   np.argwhere (x, y, z rows; x, y for one plane)
  minimum_of_masked_pixels, bounding_box, label_bounding_box
                   numpy min; np.argwhere; scipy.ndimage.find_objects
  maximum_position, minimum_position
                   scipy.ndimage.maximum_position / minimum_position (x, y, z)

numpy arrays are (z, y, x); sizes are WIDTHxHEIGHTxDEPTH.
"""
import numpy as np
from scipy import ndimage
from scipy.sparse.csgraph import connected_components
from scipy.spatial import distance
from skimage.segmentation import find_boundaries, relabel_sequential

from refcheck import (ALL, DTYPES, compare, ref, report, rng, run_main, size_text, tool_built)

SHAPES = [(5, 7, 9), (1, 12, 13), (1, 1, 1), (6, 1, 8)]
COLUMNS = 16


def labels(shape, fraction=0.6, n=9, dt="u32"):
    lab = np.where(rng.random(shape) < fraction, rng.integers(1, n + 1, shape), 0)
    lab = lab.astype(DTYPES[dt])
    lab[lab == 4] = 0  # a gap in the numbering
    return lab


def image(shape, dt):
    return np.asarray(rng.normal(100, 40, shape) if dt == "f32" else
                      rng.integers(0, 200, shape)).astype(DTYPES[dt])


def edge_checks():
    for shape in SHAPES:
        for dt in ["u8", "u16", "i32"]:
            lab = labels(shape, dt=dt)
            edges = find_boundaries(lab, connectivity=1, mode="thick")
            got = ref("detect_label_edges", [lab], dt, {}, "u8", shape, "detect_label_edges")
            if got is not None:
                compare(f"detect_label_edges {size_text(shape)} {dt}", got,
                        edges.astype(np.uint8))
            got = ref("reduce_labels_to_label_edges", [lab], dt, {}, "u32", shape,
                      "reduce_labels_to_label_edges")
            if got is not None:
                compare(f"reduce_labels_to_label_edges {size_text(shape)} {dt}", got,
                        np.where(edges, lab, 0).astype(np.uint32))


def mask_checks():
    for shape in SHAPES[:2]:
        for dt in ALL:
            img, lab = image(shape, dt), labels(shape)
            for label in (2, 0, 2.5):
                desc = f"mask_label {size_text(shape)} {dt} label={label}"
                got = ref("mask_label", [img, lab], f"{dt},u32", {"label": label}, dt, shape, desc)
                if got is not None:
                    compare(desc, got, np.where(lab == label, img, 0).astype(img.dtype))


def gathered(lab, per_label):
    """per_label[k] on the voxels of label k + 1, 0 in the background."""
    table = np.concatenate([[0.0], np.asarray(per_label, np.float64)])
    return table[lab.astype(np.int64)].astype(np.float32)


def map_checks():
    funcs = {"mean_intensity_map": ndimage.mean, "minimum_intensity_map": ndimage.minimum,
             "maximum_intensity_map": ndimage.maximum,
             "standard_deviation_intensity_map": ndimage.standard_deviation}
    for shape in SHAPES:
        lab = labels(shape)
        idx = np.arange(1, max(1, int(lab.max())) + 1)
        got = ref("pixel_count_map", [lab], "u32", {}, "f32", shape, "pixel_count_map")
        if got is not None:
            compare(f"pixel_count_map {size_text(shape)}", got,
                    gathered(lab, ndimage.sum_labels(np.ones(shape), lab, idx)))
        for dt in ALL:
            img = image(shape, dt)
            for op, f in funcs.items():
                with np.errstate(invalid="ignore"):
                    want = gathered(lab, f(img.astype(np.float64), lab, idx))
                if op in ("minimum_intensity_map", "maximum_intensity_map"):
                    want = gathered(lab, np.asarray(f(img, lab, idx)).astype(np.float32))
                got = ref(op, [img, lab], f"{dt},u32", {}, "f32", shape, op)
                if got is not None:
                    compare(f"{op} {size_text(shape)} {dt}", got, want,
                            tol_rel=None if "imum" in op else 1e-6)


def background_statistics_checks():
    for shape in SHAPES:
        for dt in ["u16", "f32"]:
            img, lab = image(shape, dt), labels(shape)
            rows = int(lab.max()) + 1
            desc = f"statistics_of_background_and_labelled_pixels {size_text(shape)} {dt}"
            got = ref("statistics_of_background_and_labelled_pixels", [img, lab], f"{dt},u32",
                      {}, "f32", (1, rows, COLUMNS), desc)
            if got is None:
                continue
            idx = np.arange(rows)
            v = img.astype(np.float64)
            present = np.isin(idx, lab)
            with np.errstate(invalid="ignore"):
                cols = {0: idx, 1: ndimage.sum_labels(np.ones(shape), lab, idx),
                        3: np.where(present, ndimage.mean(v, lab, idx), np.nan),
                        4: np.where(present, ndimage.minimum(v, lab, idx), np.nan),
                        5: np.where(present, ndimage.maximum(v, lab, idx), np.nan),
                        6: np.where(present, ndimage.standard_deviation(v, lab, idx), np.nan)}
            for k, want in cols.items():
                compare(f"{desc} column {k}", got[0, :, k], np.asarray(want).astype(np.float32),
                        tol_rel=1e-6)


def touch_want(lab):
    n1 = int(lab.max()) + 1
    m = np.zeros((n1, n1), np.uint8)
    for ax in range(3):
        if lab.shape[ax] < 2:
            continue
        a = np.moveaxis(lab, ax, 0)[:-1].ravel().astype(np.int64)
        b = np.moveaxis(lab, ax, 0)[1:].ravel().astype(np.int64)
        d = a != b
        m[a[d], b[d]] = 1
        m[b[d], a[d]] = 1
    return m


def touch_checks():
    for shape in SHAPES:
        for dt in ["u8", "u32", "i32"]:
            lab = labels(shape, dt=dt)
            m = touch_want(lab)
            n1 = m.shape[0]
            desc = f"{size_text(shape)} {dt}"
            got = ref("generate_touch_matrix", [lab], dt, {}, "u8", (1, n1, n1), desc)
            if got is not None:
                compare(f"generate_touch_matrix {desc}", got[0], m)
            for ignore in (1, 0):
                want = m[:, ignore:].sum(axis=1).astype(np.uint32)
                if ignore:
                    want[0] = 0
                got = ref("count_touching_neighbors", [lab], dt, {"ignore_background": ignore},
                          "u32", (1, 1, n1), desc)
                if got is not None:
                    compare(f"count_touching_neighbors {desc} ignore_background={ignore}",
                            got.ravel(), want)
            counts = m[:, 1:].sum(axis=1).astype(np.float64)
            got = ref("touching_neighbor_count_map", [lab], dt, {}, "f32", shape, desc)
            if got is not None:
                compare(f"touching_neighbor_count_map {desc}", got,
                        gathered(lab, counts[1:]))
    big = np.arange(1, 8194, dtype=np.uint32).reshape(1, 1, 8193)
    got, error = None, ""
    from refcheck import run_ref
    got, error = run_ref("generate_touch_matrix", [big], "u32", {}, "u8")
    report(got is None and "8191" in error, "generate_touch_matrix refuses label 8193 with the "
           "limit in the message", error[-160:])


def overlap_checks():
    for shape in SHAPES:
        a, b = labels(shape, n=6), labels(shape, n=11)
        want = np.zeros((int(b.max()) + 1, int(a.max()) + 1), np.uint8)
        want[b.ravel().astype(np.int64), a.ravel().astype(np.int64)] = 1
        desc = f"generate_binary_overlap_matrix {size_text(shape)}"
        got = ref("generate_binary_overlap_matrix", [a, b], "u32", {}, "u8", (1,) + want.shape,
                  desc)
        if got is not None:
            compare(desc, got[0], want)
        want = np.zeros(int(a.max()) + 1, np.uint8)
        want[np.unique(a)] = 1
        desc = f"flag_existing_labels {size_text(shape)}"
        got = ref("flag_existing_labels", [a], "u32", {}, "u8", (1, 1, want.size), desc)
        if got is not None:
            compare(desc, got.ravel(), want)


def gauss_otsu_checks():
    for shape, dt, sigma in [((9, 30, 40), "u16", 2.0), ((1, 50, 60), "f32", 0.0),
                             ((12, 14, 16), "u8", 1.0)]:
        a = ndimage.gaussian_filter(rng.random(shape) * 200, 2.0).astype(DTYPES[dt])
        desc = f"gauss_otsu_labeling {size_text(shape)} {dt} outline_sigma={sigma}"
        blur = ref("gaussian_blur", [a], dt, {"sigma_x": sigma, "sigma_y": sigma,
                                               "sigma_z": sigma}, "f32", shape, desc)
        mask = None if blur is None else ref("threshold_otsu", [blur], "f32", {}, "u8", shape,
                                             desc)
        got = ref("gauss_otsu_labeling", [a], dt, {"outline_sigma": sigma}, "u32", shape, desc)
        if mask is None or got is None:
            continue
        want = ndimage.label(mask != 0, structure=np.ones((3, 3, 3)))[0].astype(np.uint32)
        compare(desc, got, want)
        report(got.max() >= 1, desc + " finds objects", f"max label {got.max()}")


def measure_checks():
    for shape in SHAPES + [(3, 40, 50)]:
        for dt in ALL:
            a = (rng.random(shape) < 0.5).astype(DTYPES[dt])
            b = (rng.random(shape) < 0.3).astype(DTYPES[dt])
            d = f"{size_text(shape)} {dt}"
            u, v = a.ravel() != 0, b.ravel() != 0
            with np.errstate(invalid="ignore", divide="ignore"):
                j = np.float32(np.nan) if not (u | v).any() else 1 - distance.jaccard(u, v)
                s = np.float32(np.nan) if not (u | v).any() else 1 - distance.dice(u, v)
            for op, want in (("jaccard_index", j), ("sorensen_dice", s)):
                got = ref(op, [a, b], dt, {}, "f32", (1, 1, 1), op)
                if got is not None:
                    compare(f"{op} {d}", got.ravel(), np.array([want], np.float32), 1e-6)
            img = image(shape, dt)
            want = img[b != 0].astype(np.float32).min() if (b != 0).any() else \
                np.finfo(np.float32).max
            got = ref("minimum_of_masked_pixels", [img, b], dt, {}, "f32", (1, 1, 1), d)
            if got is not None:
                compare(f"minimum_of_masked_pixels {d}", got.ravel(),
                        np.array([want], np.float32))
            pts = np.argwhere(a != 0)
            want = np.full(6, np.nan, np.float32) if not len(pts) else np.concatenate(
                [pts.min(axis=0)[::-1], pts.max(axis=0)[::-1]]).astype(np.float32)
            got = ref("bounding_box", [a], dt, {}, "f32", (1, 1, 6), d)
            if got is not None:
                compare(f"bounding_box {d}", got.ravel(), want)
            for op, f in (("maximum_position", ndimage.maximum_position),
                          ("minimum_position", ndimage.minimum_position)):
                got = ref(op, [img], dt, {}, "f32", (1, 1, 3), d)
                if got is not None:
                    compare(f"{op} {d}", got.ravel(),
                            np.array(f(img.astype(np.float32))[::-1], np.float32))
        lab = labels(shape)
        objects = ndimage.find_objects(lab.astype(np.int64))
        for label in (1, 2, 4):
            sl = objects[label - 1] if label <= len(objects) else None
            want = np.full(6, np.nan, np.float32) if sl is None else np.array(
                [sl[2].start, sl[1].start, sl[0].start, sl[2].stop - 1, sl[1].stop - 1,
                 sl[0].stop - 1], np.float32)
            got = ref("label_bounding_box", [lab], "u32", {"label_id": label}, "f32", (1, 1, 6),
                      "label_bounding_box")
            if got is not None:
                compare(f"label_bounding_box {size_text(shape)} label_id={label}", got.ravel(),
                        want)


def sequential(lab):
    """skimage.segmentation.relabel_sequential's labels as u32."""
    return relabel_sequential(lab.astype(np.int64))[0].astype(np.uint32)


def relabel_checks():
    for shape in SHAPES:
        a, b = labels(shape, n=6), labels(shape, 0.3, n=11)
        desc = f"combine_labels {size_text(shape)}"
        got = ref("combine_labels", [a, b], "u32", {}, "u32", shape, desc)
        if got is not None:
            want = np.where(b > 0, b.astype(np.int64) + int(a.max()), a)
            compare(desc, got, sequential(want))
        values = image(shape, "f32")
        for within, op in ((0, "exclude_labels_with_map_values_out_of_range"),
                           (1, "exclude_labels_with_map_values_within_range")):
            lo, hi = 80.0, 130.0
            flat = np.concatenate([values.ravel(), [np.nan] * 20])
            v = flat[a.astype(np.int64)]
            inside = (v >= np.float32(lo)) & (v <= np.float32(hi))
            keep = (a > 0) & (~inside if within else inside)
            desc = f"{op} {size_text(shape)}"
            got = ref(op, [values, a], "f32,u32", {"minimum_value_range": lo,
                                                   "maximum_value_range": hi}, "u32", shape, desc)
            if got is not None:
                compare(desc, got, sequential(np.where(keep, a, 0)))
        flags = (rng.random(shape) < 0.5).astype(np.uint8)
        flat = np.concatenate([flags.ravel(), np.zeros(20, np.uint8)])
        keep = (a > 0) & (flat[a.astype(np.int64)] == 0)
        desc = f"exclude_labels {size_text(shape)}"
        got = ref("exclude_labels", [a, flags], "u32,u8", {}, "u32", shape, desc)
        if got is not None:
            compare(desc, got, sequential(np.where(keep, a, 0)))
        img = image(shape, "u16")
        idx = np.arange(1, int(a.max()) + 1)
        with np.errstate(invalid="ignore"):
            want = np.concatenate([[0.0], ndimage.mean(img.astype(np.float64), a, idx)])
        desc = f"read_map_values {size_text(shape)}"
        got = ref("read_map_values", [img, a], "u16,u32", {}, "f32", (1, 1, want.size), desc)
        if got is not None:
            compare(desc, got.ravel(), want.astype(np.float32), tol_rel=1e-6)
        # merge: the components of the graph of 6-neighbour labels (scipy's sparse graph)
        lab = labels(shape, 0.8, n=60)
        m = touch_want(lab)
        m[0, :] = m[:, 0] = 0
        _, comp = connected_components(m, directed=False)
        root = np.array([np.flatnonzero(comp == comp[k]).min() for k in range(m.shape[0])])
        desc = f"merge_touching_labels {size_text(shape)}"
        got = ref("merge_touching_labels", [lab], "u32", {}, "u32", shape, desc)
        if got is not None:
            compare(desc, got, sequential(root[lab.astype(np.int64)]))


def extension_checks():
    for shape in SHAPES:
        lab = labels(shape, 0.7, n=7)
        idx = np.arange(1, max(1, int(lab.max())) + 1)
        mean, top = np.zeros(idx.size + 1), np.zeros(idx.size + 1)
        zz, yy, xx = np.indices(shape)
        for k in idx:
            sel = lab == k
            if not sel.any():
                continue
            c = [p[sel].mean() for p in (xx, yy, zz)]
            dist = np.sqrt((xx[sel] - c[0]) ** 2 + (yy[sel] - c[1]) ** 2 + (zz[sel] - c[2]) ** 2)
            mean[k], top[k] = dist.mean(), dist.max()
        with np.errstate(invalid="ignore", divide="ignore"):
            wants = {"mean_extension_map": mean, "maximum_extension_map": top,
                     "extension_ratio_map": np.where(idx.size + 1 > 0, top / mean, 0)}
        for op, per in wants.items():
            want = np.where(lab > 0, per[lab.astype(np.int64)], 0).astype(np.float32)
            got = ref(op, [lab], "u32", {}, "f32", shape, op)
            if got is not None:
                compare(f"{op} {size_text(shape)}", got, want, tol_rel=1e-5)


def pointlist_checks():
    for shape in SHAPES + [(1, 5, 6)]:
        spots = (rng.random(shape) < 0.1).astype(np.uint8)
        pts = np.argwhere(spots)[:, ::-1].T.astype(np.float32)  # x, y, z rows, raster order
        rows = 3 if shape[0] > 1 else 2
        want = pts[:rows] if pts.shape[1] else np.full((rows, 1), np.nan, np.float32)
        desc = f"spots_to_pointlist {size_text(shape)}"
        got = ref("spots_to_pointlist", [spots], "u8", {}, "f32", (1,) + want.shape, desc)
        if got is not None:
            compare(desc, got[0], want)


def neighbor_checks():
    for shape in SHAPES:
        lab = labels(shape, 0.8, n=12)
        img = image(shape, "f32")
        m = touch_want(lab)
        n1 = m.shape[0]
        with np.errstate(invalid="ignore"):
            value = np.concatenate([[0.0], ndimage.mean(img.astype(np.float64), lab,
                                                         np.arange(1, n1))]).astype(np.float32)
        for ignore in (1, 0):
            for op, f in (("mean_of_touching_neighbors_map", np.mean),
                          ("minimum_of_touching_neighbors_map", np.min),
                          ("maximum_of_touching_neighbors_map", np.max)):
                per = np.zeros(n1, np.float32)
                for a in range(1, n1):
                    near = [b for b in range(ignore, n1) if b == a or m[a, b]]
                    per[a] = f(value[near].astype(np.float64))
                want = np.where(lab > 0, per[lab.astype(np.int64)], 0).astype(np.float32)
                desc = f"{op} {size_text(shape)} ignore_background={ignore}"
                got = ref(op, [img, lab], "f32,u32", {"ignore_background": ignore}, "f32", shape,
                          desc)
                if got is not None:
                    compare(desc, got, want, tol_rel=1e-5)
        rows = 3 if shape[0] > 1 else 2
        flat = lab.ravel()
        want = np.full((rows, max(1, int(lab.max()))), np.nan, np.float32)
        for k in range(1, int(lab.max()) + 1):
            at = np.flatnonzero(flat == k)
            if at.size:
                z, y, x = np.unravel_index(at[-1], shape)
                want[:, k - 1] = [x, y, z][:rows]
        desc = f"labelled_spots_to_pointlist {size_text(shape)}"
        got = ref("labelled_spots_to_pointlist", [lab], "u32", {}, "f32", (1,) + want.shape, desc)
        if got is not None:
            compare(desc, got[0], want)


def thread_checks():
    """The references give one thread's output, bit for bit, on any thread count."""
    from refcheck import run_ref
    shape = (9, 31, 37)
    lab, img = labels(shape, 0.8, n=300), image(shape, "f32")
    cases = [(op, [lab], "u32") for op in (
        "mean_extension_map", "maximum_extension_map", "extension_ratio_map",
        "merge_touching_labels", "labelled_spots_to_pointlist", "generate_touch_matrix",
        "count_touching_neighbors", "detect_label_edges", "flag_existing_labels")]
    cases += [(op, [img, lab], "f32,u32") for op in (
        "mean_of_touching_neighbors_map", "mean_intensity_map", "minimum_of_masked_pixels",
        "maximum_position", "spots_to_pointlist")]
    for op, inputs, dt in cases:
        if op in ("maximum_position", "spots_to_pointlist"):
            inputs, dt = [img], "f32"
        out_dt = {"merge_touching_labels": "u32", "count_touching_neighbors": "u32",
                  "generate_touch_matrix": "u8", "detect_label_edges": "u8",
                  "flag_existing_labels": "u8"}.get(op, "f32")
        one, e1 = run_ref(op, inputs, dt, {}, out_dt, None, 1)
        many, e5 = run_ref(op, inputs, dt, {}, out_dt, None, 5)
        ok = one is not None and many is not None and np.array_equal(one, many, equal_nan=True)
        report(ok, f"{op}: the same output on 1 and 5 threads", e1 or e5)


def main():
    if not tool_built():
        return 1
    edge_checks()
    mask_checks()
    map_checks()
    background_statistics_checks()
    touch_checks()
    overlap_checks()
    gauss_otsu_checks()
    measure_checks()
    relabel_checks()
    extension_checks()
    pointlist_checks()
    neighbor_checks()
    thread_checks()
    from refcheck import exit_status
    return exit_status()


if __name__ == "__main__":
    run_main(main)
