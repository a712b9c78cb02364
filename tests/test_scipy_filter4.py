#!/usr/bin/python3
"""Cross-check the references of ops/rows_filter4.def (reference_cpu/filter4.c, and
percentile_filter's in reference_cpu/filter_rank.c) against scipy.ndimage and numpy:

  mode_box / mode_sphere     scipy.ndimage.generic_filter over the footprint with mode='constant'
                             and cval -1 (voxels outside the stack are not counted), the
                             function numpy.bincount(...).argmax() (the smallest of the most
                             frequent values), u8, exact
  nonzero_maximum/minimum_*  generic_filter over the 3x3x3 box or the 6-neighbour diamond,
                             mode='nearest': a non-zero centre takes the extreme of itself and
                             its neighbours > 0, a zero stays; every dtype, exact
  onlyzero_overwrite_maximum_*  the same filter: a zero centre takes its largest neighbour > 0
  percentile_filter          scipy.ndimage.percentile_filter(size=2r+1, mode='nearest'), exact
  kuwahara_filter            pyclesperanto 0.25.1's formula written again in numpy (float64,
                             whole-stack shifts), within 1e-6 of max |ref|; and two properties
                             that hold whatever the formula: a constant stack stays, radius 0 is
                             the identity

Spheres are voxbench's ellipsoid (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, a radius-0 axis offset 0.
numpy arrays are (z, y, x).
"""
import numpy as np
from scipy import ndimage as ndi

from refcheck import ALL, ball, DTYPES, check, random_stack, run_main, summary, tool_built


def radii(r):
    return {"radius_x": r[0], "radius_y": r[1], "radius_z": r[2]}


# --- mode ---------------------------------------------------------------------------------------

def mode_of(values):
    v = values[values >= 0].astype(np.int64)  # cval -1: outside the stack
    return float(np.bincount(v, minlength=256).argmax())


def check_mode(a, r, note=""):
    for shape, fp in (("box", np.ones((2 * r[2] + 1, 2 * r[1] + 1, 2 * r[0] + 1), bool)),
                      ("sphere", ball(*r))):
        want = ndi.generic_filter(a.astype(np.int16), mode_of, footprint=fp, mode="constant",
                                  cval=-1).astype(np.uint8)
        check(f"mode_{shape}", "u8", [a], radii(r), "u8", want, note=note)


# --- nonzero / onlyzero -------------------------------------------------------------------------

BOX1 = np.ones((3, 3, 3), bool)
DIAMOND1 = ndi.generate_binary_structure(3, 1)


def extreme(kind, centre_index):
    def f(v):
        c = v[centre_index]
        if (kind == "onlyzero") != (c == 0):
            return c
        pos = v[v > 0]
        beat = pos[pos < c] if kind == "min" else pos[pos > c]
        if not beat.size:
            return c
        return beat.min() if kind == "min" else beat.max()
    return f


def check_nonzero(a, dt):
    for shape, fp in (("box", BOX1), ("diamond", DIAMOND1)):
        centre = int(np.flatnonzero(fp.ravel()).tolist().index(13))
        for op, kind in ((f"nonzero_maximum_{shape}", "max"), (f"nonzero_minimum_{shape}", "min"),
                         (f"onlyzero_overwrite_maximum_{shape}", "onlyzero")):
            want = ndi.generic_filter(a.astype(np.float64), extreme(kind, centre), footprint=fp,
                                      mode="nearest").astype(DTYPES[dt])
            check(op, dt, [a], {}, dt, want)


# --- Kuwahara -----------------------------------------------------------------------------------

def kuwahara(a, radius, sigma):
    """pyclesperanto 0.25.1's kuwahara kernel in float64 with two-pass variances."""
    v = a.astype(np.float64)
    three_d = v.shape[0] > 1
    rz = radius if three_d else 0
    regions = 8 if three_d else 4
    p = np.pad(v, ((rz, rz), (radius, radius), (radius, radius)), mode="edge")
    d, h, w = v.shape
    offsets = [(dz, dy, dx) for dz in range(-rz, rz + 1) for dy in range(-radius, radius + 1)
               for dx in range(-radius, radius + 1)]

    def shifted(dz, dy, dx):
        return p[rz + dz:rz + dz + d, radius + dy:radius + dy + h, radius + dx:radius + dx + w]

    def members(q):
        sx, sy, sz = (1 if q & 1 else -1), (1 if q & 2 else -1), (1 if q & 4 else -1)
        for dz, dy, dx in offsets:
            if dx * sx >= 0 and dy * sy >= 0 and dz * sz >= 0:
                yield np.exp(-(dx * dx + dy * dy + dz * dz) / (2 * sigma * sigma)), \
                    shifted(dz, dy, dx)

    total = np.zeros_like(v)
    blend = np.zeros_like(v)
    for q in range(regions):
        ws = sum(g for g, _ in members(q))
        mean = sum(g * s for g, s in members(q)) / ws
        var = sum(g * (s - mean) ** 2 for g, s in members(q)) / ws
        inv = 1.0 / (var + 1e-6)
        total += inv
        blend += mean * inv
    return (blend / total).astype(np.float32)


def check_kuwahara(a, dt):
    for radius, sigma in ((1, 1.0), (2, 0.7), (3, 5.0)):
        p = {"radius": radius, "sigma": sigma}
        check("kuwahara_filter", dt, [a], p, "f32", kuwahara(a, radius, sigma), tol_rel=1e-6)
    flat = np.full(a.shape, 7, DTYPES[dt])
    check("kuwahara_filter", dt, [flat], {"radius": 2, "sigma": 1.0}, "f32",
          flat.astype(np.float32), tol_rel=1e-6, note="constant stays")
    check("kuwahara_filter", dt, [a], {"radius": 0, "sigma": 1.0}, "f32",
          a.astype(np.float32), tol_rel=1e-7, note="radius 0 is the identity")


def main():
    if not tool_built():
        return 1
    rng = np.random.default_rng(4004)
    # few values: real modes and ties; the full range: mostly ties, the smallest value wins
    few = rng.integers(0, 4, (5, 7, 9)).astype(np.uint8)
    for r in ((1, 1, 1), (2, 1, 0), (0, 2, 1), (2, 2, 2)):
        check_mode(few, r)
    check_mode(rng.integers(0, 256, (4, 6, 8)).astype(np.uint8), (1, 1, 1), note="full range")
    check_mode(few[:1], (2, 2, 1), note="plane")
    for dt in ALL:
        # zeros, and for i32 / f32 negatives (pyclesperanto's > 0 test ignores them)
        a = random_stack((5, 6, 7), dt, zeros=0.35, gen=rng)
        check_nonzero(a, dt)
        check_nonzero(a[:1], dt)
        small = rng.integers(0, 9, (5, 6, 7)).astype(DTYPES[dt])  # ties in the ranks
        for src in (a, small):
            for p, r in ((50, (1, 1, 1)), (90, (2, 1, 0)), (-20, (1, 2, 1)), (0, (1, 1, 1)),
                         (100, (1, 0, 2)), (33.3, (2, 2, 1)), (25, (1, 1, 1))):
                size = (2 * r[2] + 1, 2 * r[1] + 1, 2 * r[0] + 1)
                check("percentile_filter", dt, [src], {"percentile": p, **radii(r)}, dt,
                      ndi.percentile_filter(src, p, size=size, mode="nearest"))
        check_kuwahara(random_stack((5, 6, 7), dt, gen=rng), dt)
        check_kuwahara(random_stack((1, 6, 7), dt, gen=rng), dt)
    return summary("filter4 reference")


if __name__ == "__main__":
    run_main(main)
