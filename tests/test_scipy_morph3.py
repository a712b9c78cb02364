#!/usr/bin/python3
"""Cross-check the references of ops/rows_morph3.def (reference_cpu/morph3.c) against
scipy.ndimage on random stacks of the 5 dtypes, several radii and both footprints:

  morphological_gradient_*   scipy.ndimage.morphological_gradient (mode='nearest'), exact;
                             u32 / i32: the float32 difference stored saturated (voxbench's
                             rule; scipy's integer difference would wrap)
  morphological_laplace_*    grey_dilation + grey_erosion - 2 in, in float64 (scipy's own
                             morphological_laplace keeps the input's dtype, so unsigned results
                             would wrap); within 1e-6 of max |ref| (float32 sums)
  binary_opening/closing_*   binary_dilation / binary_erosion with border_value=1 for the
                             erosion (voxbench clamps borders: the outside never erodes)
  detect_minima_box          in == minimum_filter(in) (mode='nearest')
  binary_edge_detection      in & ~binary_erosion(in, 6-connected, border_value=1)

Spheres are voxbench's ellipsoid (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1, a radius-0 axis offset 0.
numpy arrays are (z, y, x).
"""
import numpy as np
from scipy import ndimage as ndi

from refcheck import ALL, ball, DTYPES, check, random_stack, run_main, sat, summary, tool_built


def footprints(r):
    rx, ry, rz = r
    return {"box": np.ones((2 * rz + 1, 2 * ry + 1, 2 * rx + 1), bool), "sphere": ball(rx, ry, rz)}


def grey(a, dt, r, shape, fp):
    p = {"radius_x": r[0], "radius_y": r[1], "radius_z": r[2]}
    dil = ndi.grey_dilation(a, footprint=fp, mode="nearest")
    ero = ndi.grey_erosion(a, footprint=fp, mode="nearest")
    check(f"morphological_gradient_{shape}", dt, [a], p, dt,
          ndi.morphological_gradient(a, footprint=fp, mode="nearest")
          if dt in ("u8", "u16", "f32") else sat(dil.astype(np.float32) - ero.astype(np.float32), dt))
    lap = dil.astype(np.float64) + ero.astype(np.float64) - 2.0 * a.astype(np.float64)
    check(f"morphological_laplace_{shape}", dt, [a], p, "f32", lap.astype(np.float32),
          tol_rel=1e-6)
    if shape == "box":
        check("detect_minima_box", dt, [a], p, "u8", (a == ero).astype(np.uint8))


def binary(b, dt, r, shape, fp):
    p = {"radius_x": r[0], "radius_y": r[1], "radius_z": r[2]}
    m = b != 0
    opened = ndi.binary_dilation(ndi.binary_erosion(m, fp, border_value=1), fp)
    closed = ndi.binary_erosion(ndi.binary_dilation(m, fp), fp, border_value=1)
    check(f"binary_opening_{shape}", dt, [b], p, "u8", opened.astype(np.uint8))
    check(f"binary_closing_{shape}", dt, [b], p, "u8", closed.astype(np.uint8))


def main():
    if not tool_built():
        return 1
    rng = np.random.default_rng(319)
    for dt in ALL:
        # small integers keep plateaus (ties of the minima) and exact float sums
        a = rng.integers(0, 9, (6, 9, 11)).astype(DTYPES[dt])
        b = (rng.random((6, 9, 11)) < 0.55).astype(DTYPES[dt]) * (3 if dt != "u8" else 1)
        for r in ((1, 1, 1), (2, 1, 0), (0, 2, 1)):
            for shape, fp in footprints(r).items():
                grey(a, dt, r, shape, fp)
                binary(b, dt, r, shape, fp)
        wide = random_stack((4, 7, 10), dt)
        grey(wide, dt, (1, 1, 1), "box", footprints((1, 1, 1))["box"])
        m = b != 0
        want = (m & ~ndi.binary_erosion(m, ndi.generate_binary_structure(3, 1),
                                        border_value=1)).astype(np.uint8)
        check("binary_edge_detection", dt, [b], {}, "u8", want)
        check("binary_edge_detection", dt, [b[:1]], {}, "u8",
              (m[:1] & ~ndi.binary_erosion(m[:1], ndi.generate_binary_structure(3, 1),
                                           border_value=1)).astype(np.uint8), note="plane")
    return summary("morph3 reference")


if __name__ == "__main__":
    run_main(main)
