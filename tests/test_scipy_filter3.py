#!/usr/bin/python3
"""Cross-check the references of ops/rows_filter3.def (reference_cpu/filter3.c) against
scipy.ndimage in float64 on random stacks of the 5 dtypes:

  gaussian_derivative   gaussian_filter(order=(order_z, order_y, order_x), mode='nearest',
                        radius=ceil(4 sigma) per axis: voxbench's cut)
  gaussian_laplace      gaussian_laplace(mode='nearest', the same radii)

within 1e-5 of max |ref| (float32 passes; the reference subtracts the first voxel before a
derivative, which changes nothing but the rounding). numpy arrays are (z, y, x).
"""
import math

import numpy as np
from scipy import ndimage as ndi

from refcheck import ALL, check, random_stack, run_main, summary, tool_built

CASES = [  # (sigma x, y, z), (order x, y, z)
    ((1.0, 1.0, 1.0), (1, 0, 0)),
    ((1.3, 0.7, 1.1), (0, 2, 1)),
    ((2.0, 0.0, 1.5), (2, 0, 0)),
    ((0.8, 1.2, 0.6), (0, 0, 0)),
    ((1.0, 1.0, 1.0), (3, 1, 0)),
    ((1.5, 0.0, 1.0), (1, 2, 0)),  # sigma 0: the axis is left as it is, whatever its order
]


def main():
    if not tool_built():
        return 1
    for dt in ALL:
        a = random_stack((9, 12, 14), dt)
        f = a.astype(np.float64)
        for s, o in CASES:
            radius = tuple(math.ceil(4 * x) for x in s[::-1])
            p = dict(zip(("sigma_x", "sigma_y", "sigma_z"), s))
            p.update(zip(("order_x", "order_y", "order_z"), o))
            want = ndi.gaussian_filter(f, s[::-1], order=o[::-1], mode="nearest", radius=radius)
            check("gaussian_derivative", dt, [a], p, "f32", want.astype(np.float32),
                  tol_rel=1e-5)
            want = ndi.gaussian_laplace(f, s[::-1], mode="nearest", radius=radius)
            check("gaussian_laplace", dt, [a], {k: p[k] for k in ("sigma_x", "sigma_y",
                                                                 "sigma_z")},
                  "f32", want.astype(np.float32), tol_rel=1e-5)
    return summary("filter3 reference")


if __name__ == "__main__":
    run_main(main)
