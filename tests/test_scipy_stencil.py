#!/usr/bin/python3
"""Cross-check the references of ops/rows_stencil.def against numpy / scipy.ndimage.

Runs $BUILD/tests/ref_dump on random stacks of several sizes (anisotropic ones included) and
dtypes, and compares voxel for voxel with scipy's version of each op, mode='nearest' throughout:

  gradient_x/y/z        float32 numpy.gradient: (in(p+1) - in(p-1)) / 2 inside, one-sided at the
                        ends (exact), and numpy.gradient itself in double (0 on a 1-voxel axis)
  laplace_box/diamond   scipy convolve with the 26- / 6-neighbour Laplace kernel
  sobel                 sqrt of the sum over axes of scipy.ndimage.sobel(axis)^2 (no scaling)
  difference_of_gaussian, subtract_gaussian_background
                        scipy gaussian_filter on float64, radius ceil(4 sigma) per axis
  opening/closing_box   scipy grey_opening / grey_closing, size 2r+1 (exact)
  *_sphere              the same over the ellipsoid footprint (integer test, ops/rows_filter.def)
  top_hat/bottom_hat    scipy white_tophat / black_tophat (exact where the dtype holds the
                        values as float32: u8, u16), else float32 in - opening, closing - in

numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH. Prints one TAP-like line per
check and exits 1 when any failed.
"""
import math
from functools import partial

import numpy as np
from scipy import ndimage

import refcheck
from refcheck import ALL, compare, report, run_main, sat, size_text, summary, tool_built

random_stack = partial(refcheck.random_stack, gen=np.random.default_rng(20240611))
# two threads: these stacks are small, and more only wait for each other on a busy CI
check = partial(refcheck.check, default_threads=2)


# --- stencils ---------------------------------------------------------------------------------

SHAPES = [(1, 1, 1), (3, 5, 7), (9, 11, 13), (17, 4, 6), (2, 30, 41), (1, 6, 9)]  # (z, y, x)


def f32(a):
    return a.astype(np.float32)


def gradient_f32(a, axis):
    """The op's exact definition: float32 in(p+1) - in(p-1), the neighbours clamped, halved
    inside and not at the two ends (where the clamp makes it numpy.gradient's one-sided
    difference)."""
    p = np.pad(f32(a), [(1, 1) if ax == axis else (0, 0) for ax in range(3)], mode="edge")
    n = a.shape[axis]
    d = np.take(p, range(2, n + 2), axis=axis) - np.take(p, range(0, n), axis=axis)
    inside = np.zeros(n, bool)
    inside[1:-1] = True
    shape = [1, 1, 1]
    shape[axis] = n
    return np.where(inside.reshape(shape), d * np.float32(0.5), d)


def numpy_gradient(a64, axis):
    """numpy.gradient in double; an axis of one voxel has none (numpy refuses): 0."""
    return np.gradient(a64, axis=axis) if a64.shape[axis] > 1 else np.zeros_like(a64)


def laplace_kernel(box):
    k = -np.ones((3, 3, 3)) if box else np.zeros((3, 3, 3))
    if not box:
        for axis in range(3):
            idx = [1, 1, 1]
            for e in (0, 2):
                idx[axis] = e
                k[tuple(idx)] = -1.0
    k[1, 1, 1] = 0.0
    k[1, 1, 1] = -k.sum()
    return k


def stencil_checks():
    for shape in SHAPES:
        for dt in ALL:
            a = random_stack(shape, dt)
            a64 = f32(a).astype(np.float64)  # the ops read voxels as float
            for axis, name in ((2, "gradient_x"), (1, "gradient_y"), (0, "gradient_z")):
                got = check(name, dt, [a], {}, "f32", gradient_f32(a, axis))
                if got is not None:
                    compare(f"{name} {size_text(shape)} {dt} vs numpy.gradient", got,
                            numpy_gradient(a64, axis).astype(np.float32), 1e-7)
            for box, name in ((True, "laplace_box"), (False, "laplace_diamond")):
                want = ndimage.convolve(a64, laplace_kernel(box), mode="nearest")
                check(name, dt, [a], {}, "f32", want.astype(np.float32), tol_rel=1e-6)
            mag = np.sqrt(sum(ndimage.sobel(a64, axis=ax, mode="nearest") ** 2
                              for ax in range(3)))
            check("sobel", dt, [a], {}, "f32", mag.astype(np.float32), tol_rel=1e-6)
    # an impulse gives the kernels back: Laplace weights, Sobel |(-1 0 1) x (1 2 1) x (1 2 1)|
    a = np.zeros((5, 5, 5), dtype=np.float32)
    a[2, 2, 2] = 1.0
    want = np.zeros((5, 5, 5), dtype=np.float32)
    want[1:4, 1:4, 1:4] = -1.0
    want[2, 2, 2] = 26.0
    check("laplace_box", "f32", [a], {}, "f32", want, note="impulse gives the kernel")
    d = np.array([1.0, 0.0, -1.0])  # the sign does not reach |S|
    s = np.array([1.0, 2.0, 1.0])
    gx = d[None, None, :] * s[None, :, None] * s[:, None, None]
    gy = s[None, None, :] * d[None, :, None] * s[:, None, None]
    gz = s[None, None, :] * s[None, :, None] * d[:, None, None]
    want = np.zeros((5, 5, 5))
    want[1:4, 1:4, 1:4] = np.sqrt(gx ** 2 + gy ** 2 + gz ** 2)
    check("sobel", "f32", [a], {}, "f32", want.astype(np.float32), tol_rel=1e-7,
          note="impulse gives |Sobel kernel| (corner 1, edge centre 2*sqrt(2)...)")


# --- composed Gaussian filters ---------------------------------------------------------------

SIGMA_PAIRS = [((1.0, 1.0, 1.0), (2.0, 2.0, 2.0)), ((0.5, 1.5, 0.0), (2.5, 0.7, 1.2)),
               ((3.0, 0.0, 0.3), (0.0, 0.0, 0.0))]


def gaussian_radius(sigma):
    return int(math.ceil(4.0 * sigma)) if sigma > 0 else 0


def blur64(a64, sx, sy, sz):
    return ndimage.gaussian_filter(
        a64, sigma=(sz, sy, sx), mode="nearest", truncate=4.0,
        radius=(gaussian_radius(sz), gaussian_radius(sy), gaussian_radius(sx)))


def gaussian_checks():
    for shape in [(1, 1, 1), (3, 5, 7), (9, 11, 13), (2, 30, 41)]:
        for dt in ALL:
            a = random_stack(shape, dt)
            a64 = a.astype(np.float64)
            for s1, s2 in SIGMA_PAIRS:
                params = {"sigma1_x": s1[0], "sigma1_y": s1[1], "sigma1_z": s1[2],
                          "sigma2_x": s2[0], "sigma2_y": s2[1], "sigma2_z": s2[2]}
                want = blur64(a64, *s1) - blur64(a64, *s2)
                # each blur is rounded to f32 before the subtraction: 1 ulp of the input's range
                tol = 2 ** -23 * max(1.0, float(np.abs(a64).max())) / max(
                    1.0, float(np.abs(want).max())) + 1e-6
                check("difference_of_gaussian", dt, [a], params, "f32",
                      want.astype(np.float32), tol_rel=tol)
                s = {"sigma_x": s1[0], "sigma_y": s1[1], "sigma_z": s1[2]}
                want = a64 - blur64(a64, *s1)
                check("subtract_gaussian_background", dt, [a], s, "f32",
                      want.astype(np.float32), tol_rel=tol)


# --- grey morphology -------------------------------------------------------------------------

RADII = [(1, 1, 1), (2, 1, 0), (0, 0, 0), (3, 0, 2)]


def morphology_checks():
    for shape in [(1, 1, 1), (3, 5, 7), (9, 11, 13), (17, 4, 6)]:
        for dt in ALL:
            a = random_stack(shape, dt)
            for rx, ry, rz in RADII:
                size = (2 * rz + 1, 2 * ry + 1, 2 * rx + 1)
                params = {"radius_x": rx, "radius_y": ry, "radius_z": rz}
                opened = ndimage.grey_opening(a, size=size, mode="nearest")
                closed = ndimage.grey_closing(a, size=size, mode="nearest")
                check("opening_box", dt, [a], params, dt, opened)
                check("closing_box", dt, [a], params, dt, closed)
                if dt in ("u8", "u16"):  # float32 holds these exactly: scipy's own hats
                    top = ndimage.white_tophat(a, size=size, mode="nearest")
                    bottom = ndimage.black_tophat(a, size=size, mode="nearest")
                else:
                    top = sat(f32(a) - f32(opened), dt)
                    bottom = sat(f32(closed) - f32(a), dt)
                check("top_hat_box", dt, [a], params, dt, top)
                check("bottom_hat_box", dt, [a], params, dt, bottom)


def ellipsoid(rx, ry, rz):
    """(dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1 in integers; a radius-0 axis keeps offset 0."""
    z, y, x = np.mgrid[-rz:rz + 1, -ry:ry + 1, -rx:rx + 1]
    terms = ((x, rx), (y, ry), (z, rz))
    inside = np.ones(x.shape, dtype=bool)
    prod = max(rx, 1) * max(ry, 1) * max(rz, 1)
    lhs = np.zeros(x.shape, dtype=np.int64)
    for d, r in terms:
        if r == 0:
            inside &= d == 0
        else:
            lhs += d.astype(np.int64) ** 2 * (prod // r) ** 2
    return inside & (lhs <= prod ** 2)


def sphere_checks():
    for shape in [(1, 1, 1), (3, 5, 7), (9, 11, 13)]:
        for dt in ALL:
            a = random_stack(shape, dt)
            for rx, ry, rz in [(1, 1, 1), (2, 1, 0), (3, 2, 2)]:
                fp = ellipsoid(rx, ry, rz)
                params = {"radius_x": rx, "radius_y": ry, "radius_z": rz}
                opened = ndimage.grey_opening(a, footprint=fp, mode="nearest")
                check("opening_sphere", dt, [a], params, dt, opened)
                check("closing_sphere", dt, [a], params, dt,
                      ndimage.grey_closing(a, footprint=fp, mode="nearest"))
                top = (ndimage.white_tophat(a, footprint=fp, mode="nearest")
                       if dt in ("u8", "u16") else sat(f32(a) - f32(opened), dt))
                check("top_hat_sphere", dt, [a], params, dt, top)
    # the (1, 1, 1) sphere is the 6-neighbour cross
    report(int(ellipsoid(1, 1, 1).sum()) == 7 and int(ellipsoid(3, 2, 2).sum()) > 27,
           "test footprint: ellipsoid(1,1,1) is the 7-voxel cross")


def main():
    if not tool_built():
        return 1
    with np.errstate(over="ignore", invalid="ignore"):
        stencil_checks()
        gaussian_checks()
        morphology_checks()
        sphere_checks()
    return summary("stencil reference")


if __name__ == "__main__":
    run_main(main)
