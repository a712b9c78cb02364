"""The transform ops on the GPU (PoCL in CI) against their references, on the parameter paths the
default parameters of test_gpu_vs_reference.py do not reach: each interpolation, non-identity
matrices, resized and same-size scaling, odd crops, big pads (after and centred), flips per axis,
transposes of sizes that are not multiples of the 32-voxel tile; and the rows that must not run:
an output over the size limit is a skip row, a crop outside the stack an error row.
"""
import sys

from vbcheck import check, exit_status, run_report


def run(op, params, sizes, dtypes):
    args = ["--ops", op, "--size", sizes, "--dtype", dtypes, "--stack", "blobs"]
    for k, v in params.items():
        args += ["--param", f"{k}={v}"]
    rc, rows, err = run_report(args)
    return rc, rows or [], err


def label_of(op, params):
    return op + " " + " ".join(f"{k}={v}" for k, v in params.items())


def check_pass(op, params, sizes, dtypes):
    label = label_of(op, params)
    rc, rows, err = run(op, params, sizes, dtypes)
    want = len(sizes.split(",")) * len(dtypes.split(","))
    check(len(rows) == want, f"{label}: {want} rows", f"{len(rows)} rows, exit {rc}: {err}")
    for r in rows:
        size = "%dx%dx%d" % (r["stack"]["width"], r["stack"]["height"], r["stack"]["depth"])
        what = f"{label}: {size} {r['stack']['dtype']}"
        ran_with = all(abs(r["params"].get(k, 1e300) - float(v)) < 1e-6
                       for k, v in params.items() if k != "interpolation")
        d = r["delta"] or {}
        check(ran_with and r["status"] == "pass" and d.get("mismatches") == 0,
              what + f" matches the reference exactly (max |delta| {d.get('max_abs')})",
              f"status {r['status']}: {r['reason']} params {r['params']}")
    check(rc == 0, f"{label}: exit status 0", f"exit {rc}: {err}")


def check_not_run(op, params, status, text):
    label = label_of(op, params)
    rc, rows, err = run(op, params, "130x67x19", "u8")
    ok = len(rows) == 1 and rows[0]["status"] == status and text in rows[0]["reason"]
    check(ok, f"{label}: a {status} row saying '{text}'",
          f"rows {[(r['status'], r['reason']) for r in rows]}, exit {rc}: {err}")


SIZES = "37x19x70,130x67x19"
for interp in ("nearest", "linear"):
    check_pass("translate", {"translate_x": -3.3, "translate_y": 11.2, "translate_z": 0.7,
                             "interpolation": interp}, SIZES, "u16,f32")
    check_pass("scale", {"factor_x": 2.5, "factor_y": 0.6, "factor_z": 1.3, "auto_size": 1,
                         "interpolation": interp}, SIZES, "u8,i32,f32")
    check_pass("scale", {"factor_x": 0.7, "factor_y": 1.8, "factor_z": 1, "auto_size": 0,
                         "interpolation": interp}, SIZES, "u16")
    check_pass("rotate", {"angle_x": 20, "angle_y": -35, "angle_z": 50,
                          "interpolation": interp}, SIZES, "u32,f32")
    check_pass("affine_transform", {"m00": 0.9, "m01": 0.3, "m02": -0.1, "m03": 4.5,
                                    "m10": -0.2, "m11": 1.1, "m12": 0.25, "m13": -7,
                                    "m20": 0.05, "m21": -0.1, "m22": 0.8, "m23": 2.2,
                                    "interpolation": interp}, SIZES, "u8,i32,f32")
check_pass("crop", {"start_x": 3, "start_y": 5, "start_z": 2, "width": 101, "height": 33,
                    "depth": 7}, "130x67x19", "u8,u16,u32,i32,f32")
check_pass("crop", {"start_x": 36, "start_y": 18, "start_z": 0, "width": 1, "height": 1,
                    "depth": 70}, "37x19x70", "f32")
for center in (0, 1):
    check_pass("pad", {"size_x": 64, "size_y": 3, "size_z": 17, "value": 77.7,
                       "center": center}, SIZES, "u8,f32")
check_pass("pad", {"size_x": 1, "size_y": 0, "size_z": 5, "value": -1e9, "center": 1},
           "37x19x70", "u16,i32")
for axes in ((1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0)):
    check_pass("flip", {"flip_x": axes[0], "flip_y": axes[1], "flip_z": axes[2]}, SIZES,
               "u8,f32")
for op in ("transpose_xy", "transpose_xz", "transpose_yz"):
    check_pass(op, {}, "33x65x3,64x32x40,1x45x1", "u16,f32")

check_not_run("scale", {"factor_x": 100, "factor_y": 100, "factor_z": 100, "auto_size": 1},
              "skip", "at most")
check_not_run("crop", {"start_x": 100, "width": 31}, "error", "outside")

sys.exit(exit_status())
