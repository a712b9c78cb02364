#!/usr/bin/python3
"""Cross-check the references of the window filters (reference_cpu/filter_rank.c) against scipy.ndimage.

Runs $BUILD/tests/ref_dump on random stacks and compares with, all mode='nearest':
  footprint        box, or the ellipsoid (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1 (radius-0 axes
                   take offset 0 only); the isotropic one is skimage.morphology.ball
  mean_sphere      correlate with the normalised footprint, float64
  minimum/maximum  minimum_filter / maximum_filter with the footprint (exact)
  median           median_filter with size / footprint (exact, every dtype)
  variance / std   E[x^2] - E[x]^2 in float64 of x - mean(stack) (uniform_filter, or
                   correlate for spheres)
  erode / dilate   minimum / maximum_filter of the binary (u8), and binary_erosion with
                   border_value=1 / binary_dilation (clamped borders never erode)
  detect_maxima    a == maximum_filter(a, size)
numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH.
"""
import numpy as np
from scipy import ndimage
from skimage.morphology import ball

from refcheck import (ALL, DTYPES, compare, exit_status, random_stack, ref, report, run_main,
                      size_text, tool_built)


def check(op, dt, a, radii, out_dt, want, tol_rel=None):
    """Run op with radii (rx, ry, rz) on a and compare() with want."""
    params = {"radius_x": radii[0], "radius_y": radii[1], "radius_z": radii[2]}
    desc = f"{op} {size_text(a.shape)} {dt} r={radii}"
    got = ref(op, [a], dt, params, out_dt, a.shape, desc)
    if got is not None:
        compare(desc, got, np.asarray(want), tol_rel)


def ellipsoid(radii):
    """The footprint (z, y, x) of radii (rx, ry, rz), by the documented integer rule."""
    rx, ry, rz = radii
    dz, dy, dx = np.meshgrid(np.arange(-rz, rz + 1), np.arange(-ry, ry + 1),
                             np.arange(-rx, rx + 1), indexing="ij")
    prod = 1
    for r in radii:
        prod *= r * r if r else 1
    total = np.zeros(dx.shape, dtype=np.int64)
    for d, r in ((dx, rx), (dy, ry), (dz, rz)):
        if r:
            total += d.astype(np.int64) ** 2 * (prod // (r * r))
    return total <= prod


def box(radii):
    return np.ones((2 * radii[2] + 1, 2 * radii[1] + 1, 2 * radii[0] + 1), dtype=bool)


def footprint_checks():
    for r in range(1, 6):
        report(np.array_equal(ellipsoid((r, r, r)), ball(r).astype(bool)),
               f"sphere footprint r={r} is skimage ball({r})")
    fp = ellipsoid((2, 1, 0))
    report(fp.shape == (1, 3, 5) and fp.sum() == 7,
           "ellipsoid (2, 1, 0): a 2D ellipse of 7 voxels (x run 5, y neighbours 1)",
           f"shape {fp.shape}, {fp.sum()} voxels")
    report(ellipsoid((3, 0, 0)).sum() == 7 and ellipsoid((0, 0, 0)).sum() == 1,
           "radius-0 axes take offset 0 only (a line of 7, a single voxel)")


CASES = [  # shape (z, y, x), radii (rx, ry, rz)
    ((9, 11, 13), (1, 1, 1)),
    ((7, 10, 12), (2, 1, 0)),
    ((8, 9, 6), (0, 3, 1)),
    ((6, 7, 8), (3, 3, 3)),
    ((1, 1, 1), (1, 1, 1)),
    ((5, 4, 23), (6, 0, 2)),
    ((4, 5, 6), (0, 0, 0)),
]


def moments(a64, fp):
    w = fp / fp.sum()
    m1 = ndimage.correlate(a64, w, mode="nearest")
    m2 = ndimage.correlate(a64 * a64, w, mode="nearest")
    return m1, np.maximum(m2 - m1 * m1, 0.0)


def filter_checks():
    for shape, radii in CASES:
        for dt in ALL:
            a = random_stack(shape, dt)
            a64 = a.astype(np.float64)
            c64 = a64 - a64.mean()  # centred: E[x^2] - E[x]^2 then cancels less
            sph, bx = ellipsoid(radii), box(radii)
            size = bx.shape
            var_s = moments(c64, sph)[1]
            mean_s = moments(a64, sph)[0]
            check("mean_sphere", dt, a, radii, "f32", mean_s.astype(np.float32), 1e-6)
            check("minimum_sphere", dt, a, radii, dt,
                  ndimage.minimum_filter(a, footprint=sph, mode="nearest"))
            check("maximum_sphere", dt, a, radii, dt,
                  ndimage.maximum_filter(a, footprint=sph, mode="nearest"))
            check("median_box", dt, a, radii, dt, ndimage.median_filter(a, size=size,
                                                                        mode="nearest"))
            check("median_sphere", dt, a, radii, dt,
                  ndimage.median_filter(a, footprint=sph, mode="nearest"))
            m1 = ndimage.uniform_filter(c64, size=size, mode="nearest")
            var_b = np.maximum(ndimage.uniform_filter(c64 * c64, size=size, mode="nearest")
                               - m1 * m1, 0.0)
            check("variance_box", dt, a, radii, "f32", var_b.astype(np.float32), 1e-6)
            check("variance_sphere", dt, a, radii, "f32", var_s.astype(np.float32), 1e-6)
            check("standard_deviation_box", dt, a, radii, "f32",
                  np.sqrt(var_b).astype(np.float32), 1e-6)
            check("standard_deviation_sphere", dt, a, radii, "f32",
                  np.sqrt(var_s).astype(np.float32), 1e-6)
            check("detect_maxima_box", dt, a, radii, "u8",
                  (a == ndimage.maximum_filter(a, size=size, mode="nearest")).astype(np.uint8))
            binary = (a64 > a64.mean()).astype(DTYPES[dt])
            nz = binary != 0
            for op, fp in (("box", bx), ("sphere", sph)):
                er = ndimage.minimum_filter(nz.astype(np.uint8), footprint=fp, mode="nearest")
                di = ndimage.maximum_filter(nz.astype(np.uint8), footprint=fp, mode="nearest")
                check("erode_" + op, dt, binary, radii, "u8", er)
                check("dilate_" + op, dt, binary, radii, "u8", di)
                if dt == "u8":  # clamped borders == binary_erosion(border_value=1)
                    be = ndimage.binary_erosion(nz, structure=fp, border_value=1)
                    bd = ndimage.binary_dilation(nz, structure=fp)
                    report(np.array_equal(be, er.astype(bool)) and
                           np.array_equal(bd, di.astype(bool)),
                           f"erode/dilate_{op} r={radii}: mode nearest equals scipy "
                           "binary_erosion(border_value=1) and binary_dilation")


def plateau_checks():
    """Medians of ties and -0/+0, maxima on plateaus, large windows against scipy."""
    a = np.zeros((5, 6, 7), dtype=np.float32)
    a[2, 2:4, 2:5] = 5.0  # a plateau: every voxel of it is a box maximum
    want = (a == ndimage.maximum_filter(a, size=3, mode="nearest")).astype(np.uint8)
    check("detect_maxima_box", "f32", a, (1, 1, 1), "u8", want)
    report(int(want[2, 2:4, 2:5].sum()) == 6, "every voxel of a maximal plateau is a maximum")
    for dt in ("u8", "i32", "f32"):
        a = (random_stack((6, 9, 10), dt) % 3 if dt != "f32" else
             np.round(random_stack((6, 9, 10), dt) / 300).astype(np.float32))
        for radii in ((1, 1, 1), (4, 4, 4), (2, 2, 2)):
            check("median_box", dt, a, radii, dt,
                  ndimage.median_filter(a, size=box(radii).shape, mode="nearest"))
            check("median_sphere", dt, a, radii, dt,
                  ndimage.median_filter(a, footprint=ellipsoid(radii), mode="nearest"))


def main():
    if not tool_built():
        return 1
    footprint_checks()
    filter_checks()
    plateau_checks()
    return exit_status()


if __name__ == "__main__":
    run_main(main)
