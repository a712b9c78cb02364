#!/usr/bin/python3
"""Cross-check the references of the measure4 ops (reference_cpu/measure4.c) with skimage, numpy
and scipy.

  threshold_yen / _isodata   skimage.filters.threshold_yen / threshold_isodata(hist=(counts,
                             centres)) on the same 256 bins (threshold_otsu's); on float stacks
                             also skimage on the image itself (numpy's bins: within one bin)
  threshold_triangle         skimage.filters.threshold_triangle of the stack quantised to the
                             bin centres (its 256 bins over them hold the same counts, so its
                             bin index is ours)
  threshold_li               skimage.filters.threshold_li of the stack quantised to the centres
  (each)                     out == in > threshold; constant stacks: the threshold is the value
  product_of_all_pixels      exact products (fractions.Fraction) rounded to float32: overflow to
                             inf, underflow to 0, zeros, NaN, signs, and a mix of 1e30 and 1e-30
                             whose running float64 product overflows although the result is ~1
  variance_of_all_pixels     numpy var(ddof=0/1) in float64; 0 where n <= ddof
  percentile                 numpy.percentile (method 'linear') in float64 rounded to float32,
                             and numpy on the float32 stack itself within a few float steps;
                             q = 0, 100, ties, u32/i32 beyond 2^24 (exact), NaN
  normalize                  numpy: clip((in - lo) / (hi - lo), 0, 1) with numpy's percentiles
                             (min and max for -1); constant stacks give 0
  binary_fill_holes          scipy.ndimage.binary_fill_holes(in != 0) on random binaries and
                             shapes (shells, a hole open to a face, nested holes, one plane)

numpy arrays are (z, y, x); sizes are WIDTHxHEIGHTxDEPTH.
"""
import math
from fractions import Fraction

import numpy as np
from scipy import ndimage
from skimage import filters as skf

from refcheck import (DTYPES, bimodal_cases, exit_status, report, rng, run_main, run_tool,
                      size_text, tool_built)

NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
FLT_MIN = float(np.finfo(np.float32).tiny)


def run_ref(op, a, params=None, out_dt="u8"):
    """ref_dump OP on a: (output or None, the side value or None, error text)."""
    got, stdout, error = run_tool(op, [a], NAMES[a.dtype], params or {}, out_dt)
    if got is None:
        return None, None, error
    side = None
    for line in stdout.split("\n"):
        if line.startswith("threshold "):
            side = float(line.split()[1])
    return got.reshape(a.shape) if got.size == a.size else got, side, ""


# --- thresholds -----------------------------------------------------------------------------

def bins(a):
    """threshold_otsu's bins (reference_cpu/label_threshold.c): counts, centres, lo, hi."""
    v = a.astype(np.float32).ravel()
    lo, hi = v.min(), v.max()
    scale = np.float32(256.0 / np.float64(np.float32(hi - lo)))
    b = ((v - lo) * scale).astype(np.int64)
    counts = np.bincount(np.clip(b, 0, 255), minlength=256)
    lo, hi = float(lo), float(hi)
    return counts, lo + (np.arange(256) + 0.5) * (hi - lo) / 256, lo, hi


def yen_crit(counts):
    """Yen's criterion in float64 (for telling a near tie from a wrong pick)."""
    p = counts / counts.sum()
    p1, p1sq, p2sq = np.cumsum(p), np.cumsum(p * p), np.cumsum((p * p)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p1[:-1] * (1 - p1[:-1])) ** 2 / (p1sq[:-1] * p2sq[1:])


def want_threshold(method, a, counts, centres):
    """skimage's threshold on our bins (see the module's docstring)."""
    quantised = np.repeat(centres, counts)
    if method == "yen":
        return float(skf.threshold_yen(hist=(counts, centres)))
    if method == "isodata":
        return float(skf.threshold_isodata(hist=(counts, centres)))
    if method == "li":
        with np.errstate(divide="ignore"):  # a background of one bin: log(0), as ours
            return float(skf.threshold_li(quantised))
    t = float(skf.threshold_triangle(quantised, nbins=256))
    c0, c255 = centres[0], centres[255]
    j = int(round((t - c0) / ((c255 - c0) / 256) - 0.5))
    return float(centres[j])


def threshold_cases():
    cases = [(f"{dt} bimodal", a) for dt, a in bimodal_cases(rng)]
    # a peak with a long tail on one side, then the other (triangle flips)
    tail = rng.exponential(30, (7, 13, 17)) + 5
    cases.append(("f32 right tail", tail.astype(np.float32)))
    cases.append(("f32 left tail", (400 - tail).astype(np.float32)))
    cases.append(("u16 right tail", (tail * 50).clip(0, 65535).astype(np.uint16)))
    cases.append(("f32 constant", np.full((3, 4, 5), 7.5, np.float32)))
    cases.append(("u8 0/1", (rng.random((4, 6, 8)) < 0.4).astype(np.uint8)))
    cases.append(("i32 two voxels", np.array([[[-40, 90]]], np.int32)))
    return cases


def threshold_checks():
    for name, a in threshold_cases():
        for method in ["yen", "isodata", "triangle", "li"]:
            op = f"threshold_{method}"
            desc = f"{op} {size_text(a.shape)} {name}"
            got, side, err = run_ref(op, a)
            if got is None or side is None:
                report(False, desc, err or "no threshold line")
                continue
            report(np.array_equal(got, (a.astype(np.float32) > np.float32(side))
                                  .astype(np.uint8)), f"{desc} mask = in > threshold")
            if a.min() == a.max():
                report(side == float(np.float32(a.min())), f"{desc} constant: its value",
                       f"{side}")
                continue
            counts, centres, lo, hi = bins(a)
            want = want_threshold(method, a, counts, centres)
            ok = abs(side - want) <= 1e-5 * max(1.0, abs(want))
            detail = f"{side} vs skimage {want}"
            if not ok and method == "yen":  # skimage's float32 sums: a near tie may flip
                crit = yen_crit(counts)
                width = (hi - lo) / 256
                k_ours, k_sk = (int(round((t - lo) / width - 0.5)) for t in (side, want))
                ok = crit[k_ours] >= crit[k_sk] * (1 - 1e-5)
                detail += f" (criterion {crit[k_ours]:.9g} vs {crit[k_sk]:.9g})"
            report(ok, f"{desc} threshold = skimage's on the same bins", detail)
            if a.dtype == np.float32 and method != "li":
                direct = float(getattr(skf, op)(a, nbins=256))
                report(abs(direct - side) <= (hi - lo) / 256 * 1.0001,
                       f"{desc} threshold within a bin of skimage {op}(image, nbins=256)",
                       f"{side} vs {direct}")


# --- product and variance -------------------------------------------------------------------

def exact_product(a):
    """The product as float32, from exact rationals (NaN, inf and 0 as IEEE has them)."""
    v = a.astype(np.float64).ravel()
    if np.isnan(v).any() or (np.isinf(v).any() and (v == 0).any()):
        return math.nan
    if np.isinf(v).any():
        return math.copysign(math.inf, np.prod(np.sign(v)))
    p = Fraction(1)
    for x in v:
        p *= Fraction(float(x))
    if p == 0:
        return 0.0
    big = abs(p) > Fraction(float(np.finfo(np.float32).max))
    return (math.inf if p > 0 else -math.inf) if big else float(np.float32(float(p)))


def product_cases():
    cases = [("u8 small", rng.integers(1, 4, (3, 4, 5)).astype(np.uint8)),
             ("u16 overflow", rng.integers(30000, 65535, (2, 5, 10)).astype(np.uint16)),
             ("i32 signs", rng.integers(-3, 4, (2, 3, 5)).clip(1, None).astype(np.int32)
              * np.where(rng.random((2, 3, 5)) < 0.3, -1, 1).astype(np.int32)),
             ("u32 with a zero", rng.integers(0, 5, (3, 3, 3)).astype(np.uint32)),
             ("f32 near one", rng.uniform(0.5, 2.0, (7, 5, 3)).astype(np.float32)),
             ("f32 underflow", np.full((2, 2, 5), 1e-10, np.float32)),
             ("f32 1e30 then 1e-30", np.concatenate([np.full(12, 1e30), np.full(12, 1e-30)])
              .astype(np.float32).reshape(2, 3, 4)),
             ("f32 single", np.full((1, 1, 1), -2.5, np.float32))]
    nan = rng.uniform(0.5, 2.0, (3, 3, 3)).astype(np.float32)
    nan[1, 1, 1] = np.nan
    cases.append(("f32 NaN", nan))
    return cases


def product_checks():
    for name, a in product_cases():
        desc = f"product_of_all_pixels {size_text(a.shape)} {name}"
        got, _, err = run_ref("product_of_all_pixels", a, out_dt="f32")
        if got is None:
            report(False, desc, err)
            continue
        g, w = float(got[0]), exact_product(a)
        if math.isnan(w) or math.isinf(w):
            ok = (math.isnan(g) and math.isnan(w)) or g == w
        else:
            ok = abs(g - w) <= 1e-6 * abs(w) + FLT_MIN
        report(ok, desc, f"{g!r} vs exact {w!r}")


def variance_checks():
    for dt in ["u8", "u16", "u32", "i32", "f32"]:
        for shape in [(1, 1, 1), (5, 7, 9), (19, 67, 13)]:
            a = (rng.normal(100, 40, shape) * (1000 if dt in ("u32", "i32") else 1))
            a = a.clip(0 if dt[0] == "u" else -1e9, 255 if dt == "u8" else 1e9).astype(DTYPES[dt])
            for ddof in (0, 1):
                desc = f"variance_of_all_pixels {size_text(shape)} {dt} ddof={ddof}"
                got, _, err = run_ref("variance_of_all_pixels", a, {"ddof": ddof}, "f32")
                if got is None:
                    report(False, desc, err)
                    continue
                w = float(a.astype(np.float64).var(ddof=ddof)) if a.size > ddof else 0.0
                report(abs(float(got[0]) - w) <= 1e-6 * max(1.0, abs(w)), desc,
                       f"{float(got[0])!r} vs numpy {w!r}")


# --- percentile and normalize -------------------------------------------------------------

def percentile_cases():
    cases = []
    for dt in ["u8", "u16", "u32", "i32", "f32"]:
        a = rng.normal(100, 40, (5, 7, 9)).clip(0 if dt[0] == "u" else -1e9, 255)
        cases.append((dt, a.astype(DTYPES[dt])))
    cases.append(("u8 ties", rng.integers(0, 4, (3, 4, 5)).astype(np.uint8)))
    cases.append(("u32 beyond 2^24", rng.integers(2**31, 2**32 - 1, (2, 3, 4), dtype=np.uint64)
                  .astype(np.uint32)))
    cases.append(("i32 negative", rng.integers(-2**31, 2**31 - 1, (3, 3, 3)).astype(np.int32)))
    cases.append(("f32 signs and zeros", np.array([-0.0, 0.0, -3.5, 2.25, 1e-30, -1e30, np.inf],
                                                   np.float32).reshape(1, 1, 7)))
    cases.append(("f32 single", np.full((1, 1, 1), 4.5, np.float32)))
    return cases


def percentile_checks():
    for name, a in percentile_cases():
        for q in (0, 12.5, 33.3, 50, 99.9, 100):
            desc = f"percentile {size_text(a.shape)} {name} q={q}"
            got, _, err = run_ref("percentile", a, {"percentile": q}, "f32")
            if got is None:
                report(False, desc, err)
                continue
            g = float(got[0])
            with np.errstate(invalid="ignore"):  # inf - inf: NaN on both sides
                want = float(np.float32(np.percentile(a.astype(np.float64), q)))
            report(g == want or (math.isnan(g) and math.isnan(want)),
                   f"{desc} = numpy's in float64", f"{g!r} vs {want!r}")
            if a.dtype == np.float32 and np.isfinite(a).all():
                own = float(np.percentile(a, q))
                step = float(np.spacing(np.float32(max(abs(own), abs(g), FLT_MIN))))
                report(abs(g - own) <= 4 * step, f"{desc} within 4 float steps of numpy's "
                       "float32 arithmetic", f"{g!r} vs {own!r}")
    nan = rng.random((3, 4, 5)).astype(np.float32)
    nan[1, 2, 3] = np.nan
    got, _, err = run_ref("percentile", nan, {"percentile": 50}, "f32")
    report(got is not None and math.isnan(float(got[0])), "percentile with a NaN voxel is NaN "
           "(numpy)", err or f"{got}")


def normalize_checks():
    for name, a in percentile_cases()[:5] + [("f32 constant", np.full((2, 3, 4), 3.0,
                                                                       np.float32))]:
        for low, high in ((-1, -1), (2, 98), (10, -1), (-1, 75.5)):
            desc = f"normalize {size_text(a.shape)} {name} low={low} high={high}"
            got, _, err = run_ref("normalize", a, {"low_percentile": low,
                                                   "high_percentile": high}, "f32")
            if got is None:
                report(False, desc, err)
                continue
            v = a.astype(np.float64)
            lo = np.float32(np.percentile(v, 0 if low < 0 else low))
            hi = np.float32(np.percentile(v, 100 if high < 0 else high))
            if hi > lo:
                want = np.clip((v - float(lo)) / (float(hi) - float(lo)), 0, 1)
            else:
                want = np.zeros_like(v)
            bad = np.abs(got.astype(np.float64) - want).max()
            report(bad <= 1e-6, desc, f"max|diff| {bad:.3g} from numpy")


# --- binary_fill_holes ----------------------------------------------------------------------

def fill_cases():
    cases = []
    for shape in [(6, 7, 8), (13, 17, 11), (1, 9, 9), (5, 1, 7), (2, 2, 2)]:
        for ones in (0.5, 0.7, 0.85):
            cases.append((f"random {ones}", (rng.random(shape) < ones)))
    shell = np.ones((7, 9, 11), bool)
    shell[1:-1, 1:-1, 1:-1] = False  # a hollow box: its inside is one hole
    nested = shell.copy()
    nested[3, 3:6, 4:7] = True  # an island inside the hole
    nested[3, 4, 5] = False  # ... with a hole of its own
    opened = shell.copy()
    opened[3, 4, 0] = False  # a window in the x = 0 face: no hole any more
    diagonal = shell.copy()
    diagonal[0, 0, 0] = False  # a corner: touches the inside only diagonally, still a hole
    plane = np.ones((1, 9, 9), bool)
    plane[0, 3:6, 3:6] = False  # holes of a single plane are open to its z faces
    cases += [("hollow box", shell), ("nested", nested), ("window", opened),
              ("corner", diagonal), ("plane", plane), ("empty", np.zeros((3, 4, 5), bool)),
              ("full", np.ones((3, 4, 5), bool))]
    return cases


def fill_checks():
    dts = ["u8", "u16", "u32", "i32", "f32"]
    for i, (name, mask) in enumerate(fill_cases()):
        dt = dts[i % len(dts)]
        a = (mask * rng.integers(1, 50, mask.shape)).astype(DTYPES[dt])
        if dt == "f32":
            a = a * np.float32(-0.5)  # any non-zero value is foreground
        desc = f"binary_fill_holes {size_text(a.shape)} {dt} {name}"
        got, _, err = run_ref("binary_fill_holes", a)
        if got is None:
            report(False, desc, err)
            continue
        want = ndimage.binary_fill_holes(a != 0).astype(np.uint8)
        bad = int((got != want).sum())
        report(bad == 0, desc, f"{int(want.sum() - (a != 0).sum())} voxels filled"
               if bad == 0 else f"{bad} voxels differ from scipy")


def main():
    if tool_built():
        threshold_checks()
        product_checks()
        variance_checks()
        percentile_checks()
        normalize_checks()
        fill_checks()
    return exit_status()


if __name__ == "__main__":
    run_main(main)
