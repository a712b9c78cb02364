#!/usr/bin/python3
"""Cross-check the transform references (reference_cpu/transform.c) against numpy / scipy.ndimage.

Runs $BUILD/tests/ref_dump on random stacks and compares with:

  transpose_*, flip, crop, pad   numpy transpose / flip / slicing / np.pad (exact)
  translate      scipy.ndimage.shift(a, (tz, ty, tx), order, mode='nearest')
  scale          scipy.ndimage.zoom(..., grid_mode=True) where n * f is a whole number (then its
                 pixel-edge mapping (o + .5) / f - .5 is ours, c_in + (o - c_out) / f), and
                 scipy.ndimage.affine_transform with diag(1/f) and our centre offset otherwise
  rotate         scipy.ndimage.rotate(reshape=False) for one axis: our right-handed angle_z
                 (+x toward +y) is scipy's -angle in axes (1, 2), angle_x its -angle in (0, 1),
                 angle_y its +angle in (0, 2); for three axes affine_transform with the matrix of
                 scipy.spatial.transform.Rotation.from_euler('xyz') (extrinsic: Rz Ry Rx)
  affine_transform  scipy.ndimage.affine_transform, our (x, y, z) matrix reversed to (z, y, x)

scipy works in double, we in float (see ops/geometry.h): nearest must agree
exactly except at voxels whose double coordinate lies within 1e-4 of a .5 tie (such
differences are counted, not failed); linear within 1e-5 of the range for f32 and, for integer outputs (rounded to nearest, half
away from zero, as scipy), within 1 + 1e-5 of the range. numpy arrays are (z, y, x); sizes are written WIDTHxHEIGHTxDEPTH.
"""
import subprocess
from functools import partial

import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

import refcheck
from refcheck import (ALL, TOOL, report, rng, run_main, sat, scratch, size_text, summary,
                      tool_built)

INTERP = {0: "nearest", 1: "linear"}

random_stack = partial(refcheck.random_stack, full_i32=True)


def run_ref(op, a, dt, params, threads=None):
    """(flat output of dtype dt or None, error text): the output size is ref_dump's."""
    return refcheck.run_ref(op, [a], dt, params, dt, threads=threads)


def compare_exact(desc, got, want, mask=None):
    if got is None:
        report(False, desc, want)
        return
    if got.size != want.size:
        report(False, desc, f"{got.size} voxels, expected {want.size} {want.shape}")
        return
    got = got.reshape(want.shape)
    bad = got != want
    if want.dtype == np.float32:
        bad &= ~(np.isnan(got) & np.isnan(want))
    tied = 0
    if mask is not None:
        tied = int((bad & mask).sum())
        bad &= ~mask
    if not bad.any():
        report(True, desc, f"exact but {tied} of {int(mask.sum())} near-tie voxels"
               if mask is not None else "exact")
    else:
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        report(False, desc, f"{int(bad.sum())} voxels differ, first at (z,y,x)={where}: "
                            f"got {got[where]!r}, expected {want[where]!r}")


def compare_linear(desc, got, want64, dt):
    """want64: scipy's double result before the store; ints are rounded to nearest on our side."""
    if got is None:
        report(False, desc, want64)
        return
    if got.size != want64.size:
        report(False, desc, f"{got.size} voxels, expected {want64.size} {want64.shape}")
        return
    got = got.reshape(want64.shape).astype(np.float64)
    scale = max(1.0, float(np.abs(want64).max()))
    if dt == "f32":
        diff, tol = np.abs(got - want64), 1e-5 * scale
    else:
        rounded = np.sign(want64) * np.floor(np.abs(want64) + 0.5)  # C round()
        diff = np.abs(got - sat(rounded, dt, compute=np.float64).astype(np.float64))
        tol = 1.0 + 1e-5 * scale  # float lerps of values near 2^31: a few ulps of 256
    worst = float(diff.max())
    if dt != "f32":  # off by 1 only where float and double may fall on two sides of a .5 tie
        frac = np.abs(want64) - np.floor(np.abs(want64))
        off = (diff > 0.5) & (np.abs(frac - 0.5) > 1e-5 * scale)
        if off.any():
            where = tuple(int(i) for i in np.argwhere(off)[0])
            report(False, desc, f"{int(off.sum())} voxels off by 1 away from a .5 tie (not "
                                f"rounded to nearest), first at (z,y,x)={where}: got "
                                f"{got[where]!r}, expected {want64[where]!r}")
            return
    if worst <= tol:
        report(True, desc, f"max|diff| {worst:.3g} <= {tol:.3g}")
    else:
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
        report(False, desc, f"max|diff| {worst:.6g} > {tol:.3g} at (z,y,x)={where}: "
                            f"got {got[where]!r}, expected {want64[where]!r}")


def as_float(a):
    """The kernels read voxels as float: scipy gets those values, in double."""
    return a.astype(np.float32).astype(np.float64)


def near_ties(matrix_zyx, offset_zyx, out_shape, in_shape):
    """Voxels whose double input coordinate (clamped as ours) is within 1e-4 of a .5 tie."""
    grid = np.indices(out_shape).reshape(3, -1).astype(np.float64)
    coords = np.asarray(matrix_zyx) @ grid + np.asarray(offset_zyx)[:, None]
    mask = np.zeros(grid.shape[1], dtype=bool)
    for a in range(3):
        c = np.clip(coords[a], 0, in_shape[a] - 1)
        mask |= np.abs(c - np.floor(c) - 0.5) < 1e-4
    return mask.reshape(out_shape)


def resample_check(op, a, dt, params, order, matrix_zyx, offset_zyx, out_shape, desc,
                   want=None):
    """Our op against affine_transform(matrix, offset) (or a given scipy result `want`)."""
    got, err = run_ref(op, a, dt, dict(params, interpolation=order))
    if got is None:
        report(False, desc, err)
        return
    if order == 0:
        if want is None:
            want = ndimage.affine_transform(a, matrix_zyx, offset_zyx, output_shape=out_shape,
                                            order=0, mode="nearest")
        compare_exact(desc, got, want.astype(a.dtype),
                      near_ties(matrix_zyx, offset_zyx, out_shape, a.shape))
    else:
        if want is None:
            want = ndimage.affine_transform(as_float(a), matrix_zyx, offset_zyx,
                                            output_shape=out_shape, order=1, mode="nearest")
        compare_linear(desc, got, want, dt)


# --- integer voxel maps -----------------------------------------------------------------------

def map_checks():
    a3 = {dt: random_stack((5, 7, 11), dt) for dt in ALL}
    for dt in ALL:
        a = a3[dt]
        for op, axes in (("transpose_xy", (0, 2, 1)), ("transpose_xz", (2, 1, 0)),
                         ("transpose_yz", (1, 0, 2))):
            got, err = run_ref(op, a, dt, {})
            compare_exact(f"{op} {dt} 11x7x5 = np.transpose{axes}",
                          got, np.ascontiguousarray(np.transpose(a, axes)) if got is not None
                          else err)
    a = a3["u16"]
    for fx in (0, 1):
        for fy in (0, 1):
            for fz in (0, 1):
                axes = tuple(ax for ax, f in ((2, fx), (1, fy), (0, fz)) if f)
                got, err = run_ref("flip", a, "u16", {"flip_x": fx, "flip_y": fy, "flip_z": fz})
                compare_exact(f"flip x{fx} y{fy} z{fz} u16 = np.flip{axes}", got,
                              np.flip(a, axes) if got is not None else err)
    for dt in ("u8", "f32"):
        a = a3[dt]
        for start, size in (((0, 0, 0), (11, 7, 5)), ((3, 2, 1), (5, 4, 3)),
                            ((10, 6, 4), (1, 1, 1)), ((0, 0, 0), (1, 1, 1))):
            p = {"start_x": start[0], "start_y": start[1], "start_z": start[2],
                 "width": size[0], "height": size[1], "depth": size[2]}
            want = a[start[2]:start[2] + size[2], start[1]:start[1] + size[1],
                     start[0]:start[0] + size[0]]
            got, err = run_ref("crop", a, dt, p)
            compare_exact(f"crop {dt} at {start} size {size} = slicing", got,
                          want if got is not None else err)
    for dt, value in (("u8", 300.7), ("u16", 7.9), ("i32", -5.5), ("u32", -1), ("f32", -2.25)):
        a = a3[dt]
        for size, center in (((3, 0, 5), 1), ((2, 4, 1), 0), ((0, 0, 0), 1), ((1, 1, 1), 1)):
            before = [s // 2 if center else 0 for s in size]
            widths = [(before[2], size[2] - before[2]), (before[1], size[1] - before[1]),
                      (before[0], size[0] - before[0])]
            want = np.pad(a, widths, constant_values=sat(np.float32(value), dt))
            got, err = run_ref("pad", a, dt, {"size_x": size[0], "size_y": size[1],
                                              "size_z": size[2], "value": value,
                                              "center": center})
            compare_exact(f"pad {dt} size {size} center {center} value {value} = np.pad",
                          got, want if got is not None else err)


# --- resampling -------------------------------------------------------------------------------

def translate_checks():
    for dt in ALL:
        a = random_stack((6, 9, 13), dt)
        for t in ((2.3, -1.7, 0.6), (-0.26, 0.41, -3.8), (40.2, 0.0, 0.0)):
            for order in (0, 1):
                p = {"translate_x": t[0], "translate_y": t[1], "translate_z": t[2]}
                shift = (t[2], t[1], t[0])
                src = a if order == 0 else as_float(a)
                want = ndimage.shift(src, shift, order=order, mode="nearest")
                resample_check("translate", a, dt, p, order, np.eye(3), -np.array(shift),
                               a.shape, f"translate {dt} {t} {INTERP[order]} = ndimage.shift",
                               want)


def scale_offset(f_xyz, in_shape, out_shape):
    f = np.array(f_xyz[::-1], dtype=np.float64)
    cin = (np.array(in_shape) - 1) / 2
    cout = (np.array(out_shape) - 1) / 2
    return np.diag(1 / f), cin - cout / f


def scale_checks():
    for dt in ("u8", "u16", "u32", "i32", "f32"):
        a = random_stack((6, 9, 12), dt)
        # whole n * f: scipy's own zoom (grid_mode=True) is our mapping
        for f in ((4.0, 2.0, 1.0), (1 / 3, 4 / 3, 0.5)):
            out_shape = tuple(int(round(n * ff)) for n, ff in zip(a.shape, f[::-1]))
            for order in (0, 1):
                if order == 0 and any(abs(ff - 0.5) < 1e-9 for ff in f):
                    continue  # downscaling by 2 centres every sample on a .5 tie
                src = a if order == 0 else as_float(a)
                want = ndimage.zoom(src, f[::-1], order=order, mode="nearest", grid_mode=True)
                p = {"factor_x": f[0], "factor_y": f[1], "factor_z": f[2], "auto_size": 1}
                m, off = scale_offset(f, a.shape, out_shape)
                resample_check("scale", a, dt, p, order, m, off, out_shape,
                               f"scale {dt} {tuple(round(x, 3) for x in f)} {INTERP[order]} "
                               f"= ndimage.zoom(grid_mode=True)", want)
        # any factors: affine_transform with the centre offset, resized and not
        for f, auto in (((1.37, 0.71, 2.2), 1), ((0.83, 1.9, 1.13), 0)):
            out_shape = (tuple(max(1, int(np.floor(n * ff + 0.5)))
                               for n, ff in zip(a.shape, f[::-1])) if auto else a.shape)
            m, off = scale_offset(f, a.shape, out_shape)
            for order in (0, 1):
                p = {"factor_x": f[0], "factor_y": f[1], "factor_z": f[2], "auto_size": auto}
                resample_check("scale", a, dt, p, order, m, off, out_shape,
                               f"scale {dt} {f} auto_size {auto} {INTERP[order]} "
                               "= affine_transform")


def rotation_zyx(ax, ay, az):
    """Our sampling matrix (R^T, R = Rz Ry Rx) in (z, y, x) order, from scipy's Rotation."""
    r = Rotation.from_euler("xyz", [ax, ay, az], degrees=True).as_matrix()
    p = np.eye(3)[::-1]
    return p @ r.T @ p


def rotate_checks():
    for dt in ALL:
        a = random_stack((8, 11, 14), dt)
        c = (np.array(a.shape) - 1) / 2
        for name, angle, axes, sign in (("angle_z", 23.0, (1, 2), -1),
                                        ("angle_x", -37.0, (0, 1), -1),
                                        ("angle_y", 61.0, (0, 2), 1)):
            for order in (0, 1):
                src = a if order == 0 else as_float(a)
                want = ndimage.rotate(src, sign * angle, axes=axes, reshape=False, order=order,
                                      mode="nearest")
                p = {"angle_x": 0.0, "angle_y": 0.0, "angle_z": 0.0, name: angle}
                m = rotation_zyx(p["angle_x"], p["angle_y"], p["angle_z"])
                resample_check("rotate", a, dt, p, order, m, c - m @ c, a.shape,
                               f"rotate {dt} {name}={angle} {INTERP[order]} = ndimage.rotate"
                               f"({sign * angle}, axes={axes})", want)
        angles = (17.0, -29.0, 41.0)
        m = rotation_zyx(*angles)
        for order in (0, 1):
            p = {"angle_x": angles[0], "angle_y": angles[1], "angle_z": angles[2]}
            resample_check("rotate", a, dt, p, order, m, c - m @ c, a.shape,
                           f"rotate {dt} x,y,z={angles} {INTERP[order]} = affine_transform of "
                           "Rotation.from_euler('xyz')")


def affine_checks():
    for dt in ALL:
        a = random_stack((7, 10, 12), dt)
        for trial in range(2):
            mx = np.eye(3) + rng.uniform(-0.4, 0.4, (3, 3))
            tx = rng.uniform(-3, 3, 3)
            p = {f"m{i}{j}": float(mx[i, j]) for i in range(3) for j in range(3)}
            p.update({f"m{i}3": float(tx[i]) for i in range(3)})
            rev = np.eye(3)[::-1]
            for order in (0, 1):
                resample_check("affine_transform", a, dt, p, order, rev @ mx @ rev, tx[::-1],
                               a.shape, f"affine_transform {dt} random matrix {trial} "
                               f"{INTERP[order]} = ndimage.affine_transform")


# --- threads and refusals ---------------------------------------------------------------------

def thread_checks():
    a = random_stack((9, 31, 40), "f32")
    for op, p in (("rotate", {"angle_x": 11.0, "angle_z": 33.0}), ("pad", {"size_x": 5}),
                  ("transpose_xz", {})):
        one, err1 = run_ref(op, a, "f32", p, threads=1)
        many, err2 = run_ref(op, a, "f32", p, threads=7)
        ok = one is not None and many is not None and np.array_equal(one, many)
        report(ok, f"{op}: 1 and 7 threads give identical voxels", err1 or err2)


def refusal_checks():
    a = random_stack((3, 4, 5), "u8")
    for op, p, code, text in (("crop", {"start_x": 3, "width": 3}, None, "outside"),
                              ("crop", {"width": 0}, 2, "accepted 1 to"),
                              ("scale", {"factor_y": -1.0}, 2, "accepted 0.01 to"),
                              ("affine_transform", {"m01": float("inf")}, 2, "a number"),
                              ("pad", {"size_z": -1}, 2, "accepted 0 to")):
        base = scratch("x")
        a.tofile(base + ".raw")
        cmd = [TOOL, op, size_text(a.shape), "u8", base + ".raw", base + "_out.raw"]
        cmd += [f"{k}={v!r}" for k, v in p.items()]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        ok = r.returncode != 0 and (code is None or r.returncode == code) and text in r.stderr
        report(ok, f"ref_dump refuses {op} {p} (exit {code or 'non-zero'}, says '{text}')",
               f"exit {r.returncode}, stderr {r.stderr.strip()!r}")


def main():
    if not tool_built():
        return 1
    map_checks()
    translate_checks()
    scale_checks()
    rotate_checks()
    affine_checks()
    thread_checks()
    refusal_checks()
    return summary("transform reference")


if __name__ == "__main__":
    run_main(main)
