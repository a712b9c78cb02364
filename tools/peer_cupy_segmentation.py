#!/usr/bin/env python3
"""CuPy's segmentation ops timed on blob stacks like voxbench's, beside a voxbench report's rows.

shared/tools/peer_cupy.py feeds every op random voxels; for labelling that is one component
filling the volume, the easiest case there is. This script builds the kind of input voxbench's
label rows get (Gaussian blobs, thresholded at the stack's mean: ~N/4096 objects) and times
cupyx.scipy.ndimage.label (3x3x3 and 6-connected structures), distance_transform_edt, and
skimage-style threshold_otsu (256-bin histogram + Otsu on the GPU), then prints voxbench's ms for
the same ops and size from REPORT.json. The two stacks are alike, not identical: the blob
positions differ, so object counts are printed for both.

usage: peer_cupy_segmentation.py REPORT.json [--repeat N]
"""
import argparse
import json

import cupy as cp
import numpy as np
from cupyx.scipy import ndimage as nd


def blobs(shape, seed=0):
    """Gaussian blobs of sigma 0.35..1 * min(6, size/6) at random places, thresholded at the mean."""
    d, h, w = shape
    rng = np.random.default_rng(seed)
    n = max(3, w * h * d // 4096)
    smax = min(6.0, max(0.7, min(w, h, d if d > 1 else w) / 6.0))
    img = cp.zeros(shape, dtype=cp.float32)
    centres = rng.random((n, 3)) * np.array([d, h, w])
    sigmas = smax * (0.35 + 0.65 * rng.random(n))
    amps = 0.4 + 0.6 * rng.random(n)
    # splat each blob's centre, then one Gaussian per sigma class (8 classes) keeps it fast
    classes = np.digitize(sigmas, np.linspace(sigmas.min(), sigmas.max(), 9)[1:-1])
    for c in range(8):
        sel = classes == c
        if not sel.any():
            continue
        dots = cp.zeros(shape, dtype=cp.float32)
        idx = cp.asarray(centres[sel].astype(np.int64))
        dots[idx[:, 0], idx[:, 1], idx[:, 2]] = cp.asarray(amps[sel], dtype=cp.float32)
        s = float(sigmas[sel].mean())
        img = cp.maximum(img, nd.gaussian_filter(dots, s) * (2 * np.pi * s * s) ** 1.5)
    return img > img.mean()


def otsu(img):
    lo, hi = img.min(), img.max()
    hist = cp.histogram(img, bins=256, range=(float(lo), float(hi)))[0].astype(cp.float64)
    centres = lo + (cp.arange(256) + 0.5) * (hi - lo) / 256
    w1 = cp.cumsum(hist)
    w2 = cp.cumsum(hist[::-1])[::-1]
    m1 = cp.cumsum(hist * centres) / cp.maximum(w1, 1)
    m2 = (cp.cumsum((hist * centres)[::-1]) / cp.maximum(w2[::-1], 1))[::-1]
    var = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    return centres[cp.argmax(var)]


def time_ms(f, repeat):
    f()
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(repeat):
        s, e = cp.cuda.Event(), cp.cuda.Event()
        s.record()
        f()
        e.record()
        e.synchronize()
        times.append(cp.cuda.get_elapsed_time(s, e))
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with open(args.report) as fh:
        rows = json.load(fh)["results"]
    wanted = {"connected_components_labeling_box": "label 3x3x3",
              "connected_components_labeling_diamond": "label 6-conn",
              "distance_transform_edt": "distance_transform_edt",
              "threshold_otsu": "threshold_otsu"}
    sizes = sorted({(r["stack"]["depth"], r["stack"]["height"], r["stack"]["width"])
                    for r in rows if r["op"] in wanted})
    for shape in sizes:
        binary = blobs(shape)
        grey = nd.gaussian_filter(binary.astype(cp.float32), 2.0)
        peers = {
            "connected_components_labeling_box":
                lambda: nd.label(binary, cp.ones((3, 3, 3), bool)),
            "connected_components_labeling_diamond": lambda: nd.label(binary),
            "distance_transform_edt": lambda: nd.distance_transform_edt(binary),
            "threshold_otsu": lambda: grey > otsu(grey),
        }
        n_box = int(nd.label(binary, cp.ones((3, 3, 3), bool))[1])
        print(f"# {shape[2]}x{shape[1]}x{shape[0]}: CuPy blobs {n_box} objects (26-connected), "
              f"{float(binary.mean()) * 100:.1f}% foreground")
        print(f"{'op':40} {'backend':8} {'voxbench ms':>12} {'cupy ms':>10} {'ratio':>7}  notes")
        cupy_ms = {op: time_ms(f, args.repeat) for op, f in peers.items()}
        for r in rows:
            st = r["stack"]
            if r["op"] not in wanted or (st["depth"], st["height"], st["width"]) != shape:
                continue
            vms = (r.get("gpu_ms") or {}).get("median")
            notes = ""
            d = r.get("delta") or {}
            if "labels_gpu" in d:
                notes = f"voxbench {d['labels_gpu']} labels, {r['status']}"
            if vms is None:
                print(f"{r['op']:40} {r['backend']:8} {'-':>12} {cupy_ms[r['op']]:10.3f}")
                continue
            print(f"{r['op']:40} {r['backend']:8} {vms:12.3f} {cupy_ms[r['op']]:10.3f} "
                  f"{vms / cupy_ms[r['op']]:7.2f}  {notes}")


if __name__ == "__main__":
    main()
