#!/usr/bin/python3
"""Cross-check the references of ops/rows_proj3.def (reference_cpu/proj3.c) against numpy on
random stacks of the 5 dtypes (and NaN / inf edges for f32):

  *_position_of_*   numpy argmin / argmax along the axis (first on ties), NaN never winning:
                    numpy's nanargmin / nanargmax, 0 where a line is all NaN
  product_*         numpy.prod in float64, within 1e-6 of max |ref| (float32 products)
  variance / std    numpy var / std with ddof in float64, within 1e-5 of max |ref|
  cumulative_sum    numpy.cumsum (integers in int64: exact; floats within 1e-6 of max |ref|)
  cumulative_prod   numpy.cumprod in float64, within 1e-6 of max |ref|
  cumulative_max/min  numpy fmax / fmin .accumulate, exact

Output layouts are clEsperanto's: z -> (y, x), y -> (z, x), x -> (z, y) as numpy arrays.
numpy arrays are (z, y, x); the op's axis 0 x, 1 y, 2 z is numpy's 2 - axis.
"""
import warnings

import numpy as np

from refcheck import ALL, DTYPES, check, random_stack, run_main, summary, tool_built

warnings.filterwarnings("ignore")
NP_AXIS = {"x": 2, "y": 1, "z": 0}


def layout(r, axis):
    """numpy's reduction along axis as voxbench lays it out (clEsperanto's: numpy's own)."""
    return np.asarray(r)[np.newaxis]


def nan_arg(a, ax, fn):
    f = a.astype(np.float64)
    allnan = np.isnan(f).all(axis=ax)
    f = np.where(np.isnan(f), np.inf if fn == "min" else -np.inf, f)
    r = f.argmin(axis=ax) if fn == "min" else f.argmax(axis=ax)
    return np.where(allnan, 0, r).astype(np.uint32)


def check_stack(dt, a, note=""):
    f = a.astype(np.float64)
    for axis in "xyz":
        ax = NP_AXIS[axis]
        for fn in ("min", "max"):
            name = f"{axis}_position_of_{'minimum' if fn == 'min' else 'maximum'}_{axis}_projection"
            if name == "z_position_of_maximum_z_projection":
                continue
            check(name, dt, [a], {}, "u32", layout(nan_arg(a, ax, fn), axis), note=note)
        check(f"product_{axis}_projection", dt, [a], {}, "f32",
              layout(np.prod(f, axis=ax), axis).astype(np.float32), tol_rel=1e-6, note=note)
        for ddof in (0, 1):
            n = a.shape[ax]
            var = f.var(axis=ax, ddof=ddof) if n > ddof else np.zeros(np.delete(a.shape, ax))
            check(f"variance_{axis}_projection", dt, [a], {"ddof": ddof}, "f32",
                  layout(var, axis).astype(np.float32), tol_rel=1e-5, note=note)
            if axis != "z":
                check(f"std_{axis}_projection", dt, [a], {"ddof": ddof}, "f32",
                      layout(np.sqrt(var), axis).astype(np.float32), tol_rel=1e-5, note=note)
    for k in range(3):
        ax = 2 - k
        cs = np.cumsum(a.astype(np.int64) if dt != "f32" else f, axis=ax).astype(np.float32)
        check("cumulative_sum", dt, [a], {"axis": k}, "f32", cs,
              tol_rel=None if dt != "f32" else 1e-6, note=note)
        check("cumulative_product", dt, [a], {"axis": k}, "f32",
              np.cumprod(f, axis=ax).astype(np.float32), tol_rel=1e-6, note=note)
        mx = np.fmax.accumulate(a, axis=ax) if dt == "f32" else np.maximum.accumulate(a, axis=ax)
        mn = np.fmin.accumulate(a, axis=ax) if dt == "f32" else np.minimum.accumulate(a, axis=ax)
        check("cumulative_max", dt, [a], {"axis": k}, dt, mx, note=note)
        check("cumulative_min", dt, [a], {"axis": k}, dt, mn, note=note)


def main():
    if not tool_built():
        return 1
    rng = np.random.default_rng(193)
    for dt in ALL:
        check_stack(dt, random_stack((4, 5, 6), dt))
        # small values: ties of the positions, products that stay finite
        check_stack(dt, rng.integers(0, 4, (3, 4, 5)).astype(DTYPES[dt]), note="ties")
    a = rng.normal(0, 2, (3, 4, 5)).astype(np.float32)
    a[0, 0, :] = np.nan
    a[1, 1, 1] = np.nan
    a[2, 2, 2] = np.inf
    a[:, 3, 4] = np.nan
    check_stack("f32", a, note="nan")
    return summary("proj3 reference")


if __name__ == "__main__":
    run_main(main)
