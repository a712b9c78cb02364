#!/usr/bin/python3
"""Cross-check the references of ops/rows_stencil4.def against numpy / scikit-image.

Runs $BUILD/tests/ref_dump on random stacks of several sizes (anisotropic and 2D ones included)
and dtypes, and compares voxel for voxel:

  small/middle/large_hessian_eigenvalue
                  numpy.linalg.eigvalsh (LAPACK, double) of the Hessian of central second
                  differences written out here as pyclesperanto's hessian_eigenvalues kernel
                  reads it (edge-padded: borders clamped); depth 1: the 2x2 Hessian of x and
                  y, middle 0. Tolerance: the f32 rounding of the output plus 1e-12 of the
                  stack's largest |eigenvalue| S. Plus an impulse, whose eigenvalues are known
                  in closed form, and 0/1 stacks, whose Hessians have repeated eigenvalues
                  (where a closed form in float goes wrong first).
  binary_supinf / binary_infsup
                  scikit-image's morphological snakes' sup_inf / inf_sup (3D: nine planes, 2D:
                  four lines, binary erosion / dilation with the outside 0), and a numpy
                  version written from pyclesperanto 0.25.1's kernels' offset loops; exact.

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH. Prints one TAP-like line per
check and exits 1 when any failed.
"""
from functools import partial

import numpy as np
from skimage.segmentation import morphsnakes

import refcheck
from refcheck import ALL, report, run_main, summary, tool_built

random_stack = partial(refcheck.random_stack, gen=np.random.default_rng(20261204))
check = partial(refcheck.check, default_threads=2)

SHAPES = [(1, 1, 1), (3, 5, 7), (9, 11, 13), (17, 4, 6), (2, 30, 41), (1, 6, 9), (5, 1, 8)]
OPS = ["small_hessian_eigenvalue", "middle_hessian_eigenvalue", "large_hessian_eigenvalue"]


# --- Hessian eigenvalues ------------------------------------------------------------------------

def hessian(a):
    """The 3x3 (depth 1: 2x2) Hessian per voxel, (..., n, n), in double from the voxels read as
    float32: d2/dx2 = in(x+1) - 2 in(x) + in(x-1), d2/dxdy = (in(x+1,y+1) - in(x+1,y-1) -
    in(x-1,y+1) + in(x-1,y-1)) / 4, the neighbours clamped."""
    f = np.pad(a.astype(np.float32).astype(np.float64), 1, mode="edge")
    d, h, w = a.shape

    def at(dz, dy, dx):  # the neighbour (x+dx, y+dy, z+dz) of every voxel
        return f[1 + dz:1 + dz + d, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    c = at(0, 0, 0)
    second = [at(0, 0, 1) - 2 * c + at(0, 0, -1), at(0, 1, 0) - 2 * c + at(0, -1, 0),
              at(1, 0, 0) - 2 * c + at(-1, 0, 0)]

    def mixed(u, v):  # u, v: unit offsets (dz, dy, dx) of the two axes
        p = lambda s, t: at(*[s * u[k] + t * v[k] for k in range(3)])
        return (p(1, 1) - p(1, -1) - p(-1, 1) + p(-1, -1)) / 4

    x, y, z = (0, 0, 1), (0, 1, 0), (1, 0, 0)
    hxy, hxz, hyz = mixed(x, y), mixed(x, z), mixed(y, z)
    if d == 1:
        return np.stack([np.stack([second[0], hxy], -1), np.stack([hxy, second[1]], -1)], -1)
    return np.stack([np.stack([second[0], hxy, hxz], -1), np.stack([hxy, second[1], hyz], -1),
                     np.stack([hxz, hyz, second[2]], -1)], -1)


def eigenvalues(a):
    """(small, middle, large) per voxel, each (z, y, x), by LAPACK; 2D: middle 0."""
    e = np.linalg.eigvalsh(hessian(a))
    if a.shape[0] == 1:
        return e[..., 0], np.zeros(a.shape), e[..., 1]
    return e[..., 0], e[..., 1], e[..., 2]


def check_eigenvalues(a, dt, note=""):
    want = eigenvalues(a)
    scale = max(1.0, max(float(np.abs(w).max()) for w in want))
    for op, w in zip(OPS, want):
        # the f32 rounding of the largest value, and the double methods' differences
        tol = (2.0 ** -24 * float(np.abs(w).max()) + 1e-12 * scale) / max(1.0, float(
            np.abs(w).max()))
        check(op, dt, [a], {}, "f32", w.astype(np.float32), tol_rel=tol, note=note)


def impulse_checks():
    """in = 1 at the centre: there the Hessian is -2 I (all three -2); at a face neighbour
    d2/dx2 = 1 alone (0, 0, 1); at an edge neighbour d2/dxdy = 1/4 alone (-1/4, 0, 1/4);
    elsewhere 0."""
    a = np.zeros((5, 5, 5), np.float32)
    a[2, 2, 2] = 1
    want = np.zeros((3, 5, 5, 5), np.float32)
    want[:, 2, 2, 2] = -2
    for dz, dy, dx in [(0, 0, 1), (0, 0, -1), (0, 1, 0), (0, -1, 0), (1, 0, 0), (-1, 0, 0)]:
        want[2, 2 + dz, 2 + dy, 2 + dx] = 1
    for z, y, x in [(0, 1, 1), (0, 1, -1), (1, 0, 1), (-1, 0, 1), (1, 1, 0), (1, -1, 0)]:
        for s in (1, -1):
            want[0, 2 + s * z, 2 + s * y, 2 + s * x] = -0.25
            want[2, 2 + s * z, 2 + s * y, 2 + s * x] = 0.25
    for k, op in enumerate(OPS):
        check(op, "f32", [a], {}, "f32", want[k], note="impulse: -2 at the centre, "
              "1 at faces, +-1/4 at edges")


def hessian_checks():
    for shape in SHAPES:
        for dt in ALL:
            check_eigenvalues(random_stack(shape, dt), dt)
    gen = np.random.default_rng(7)
    for shape in [(6, 7, 8), (1, 9, 10)]:
        for dt in ("u8", "f32"):
            a = (gen.random(shape) < 0.5).astype(refcheck.DTYPES[dt])
            check_eigenvalues(a, dt, note="0/1: repeated eigenvalues")
    # a large offset: the second differences of a smooth u32 stack near 2^32
    z, y, x = np.mgrid[0:7, 0:9, 0:11]
    a = (4.0e9 + 3e4 * (x - 5.0) ** 2 - 2e4 * (y - 4.0) * (z - 3.0)).astype(np.uint32)
    check_eigenvalues(a, "u32", note="offset 4e9")
    impulse_checks()


# --- binary sup-inf / inf-sup -------------------------------------------------------------------

def cle_elements(planar):
    """The structuring elements as pyclesperanto 0.25.1's superior_inferior kernels write them,
    offsets (dx, dy, dz): 3D, its loops P0..P8 over i, j in -1..1; 2D, its four lines."""
    if planar:
        return [[(t, t, 0) for t in (-1, 0, 1)], [(0, t, 0) for t in (-1, 0, 1)],
                [(-t, t, 0) for t in (-1, 0, 1)], [(t, 0, 0) for t in (-1, 0, 1)]]
    loops = [lambda i, j: (i, j, 0), lambda i, j: (i, 0, j), lambda i, j: (0, i, j),
             lambda i, j: (i, j, j), lambda i, j: (j, i, -i), lambda i, j: (i, j, i),
             lambda i, j: (i, j, -i), lambda i, j: (i, i, j), lambda i, j: (i, -i, j)]
    return [[p(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)] for p in loops]


def cle_sup_inf(a, infsup):
    """max over elements of the erosion (infsup: min over elements of the dilation), the
    outside 0."""
    f = np.pad(a != 0, 1)
    d, h, w = a.shape

    def at(dx, dy, dz):
        return f[1 + dz:1 + dz + d, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    per = [np.logical_or.reduce([at(*o) for o in el]) if infsup else
           np.logical_and.reduce([at(*o) for o in el]) for el in cle_elements(d == 1)]
    out = np.logical_and.reduce(per) if infsup else np.logical_or.reduce(per)
    return out.astype(np.uint8)


def skimage_sup_inf(a, infsup):
    f = morphsnakes.inf_sup if infsup else morphsnakes.sup_inf
    u = (a != 0).astype(np.uint8)
    return (f(u[0])[None] if a.shape[0] == 1 else f(u)).astype(np.uint8)


def binary_checks():
    gen = np.random.default_rng(11)
    for shape in SHAPES + [(8, 9, 10)]:
        for dt in ALL:
            for density in (0.3, 0.7):
                a = (gen.random(shape) < density).astype(refcheck.DTYPES[dt])
                for infsup, op in ((0, "binary_supinf"), (1, "binary_infsup")):
                    ours = cle_sup_inf(a, infsup)
                    if min(shape[1:]) > 1 or shape[0] > 1:  # skimage needs 2 or 3 axes of > 1
                        same = np.array_equal(ours, skimage_sup_inf(a, infsup))
                        report(same, f"{op} {refcheck.size_text(shape)} density {density}: "
                               "pyclesperanto's elements written out = scikit-image's")
                    check(op, dt, [a], {}, "u8", ours, note=f"density {density}")
    # a full 3x3x3 cube: sup-inf keeps the centre and its 6 faces' centres... every voxel whose
    # plane of some orientation lies inside; inf-sup of a single voxel: only the voxel
    cube = np.zeros((5, 5, 5), np.uint8)
    cube[1:4, 1:4, 1:4] = 1
    got = check("binary_supinf", "u8", [cube], {}, "u8", cle_sup_inf(cube, 0), note="cube")
    report(got is not None and got[2, 2, 2] == 1 and got[1, 1, 1] == 0 and got.sum() == 7,
           "binary_supinf of a 3x3x3 cube: its centre and the 6 face centres")
    dot = np.zeros((5, 5, 5), np.uint8)
    dot[2, 2, 2] = 1
    got = check("binary_infsup", "u8", [dot], {}, "u8", dot, note="one voxel stays one voxel")


def main():
    if not tool_built():
        return 1
    hessian_checks()
    binary_checks()
    return summary("stencil4 reference")


if __name__ == "__main__":
    run_main(main)
