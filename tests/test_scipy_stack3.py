#!/usr/bin/python3
"""Cross-check the references of ops/rows_stack3.def (reference_cpu/stack3.c) against numpy on
random stacks of the 5 dtypes: slicing (sub_stack, reduce_stack, range with positive and
negative steps and negative starts, crop_border), numpy.roll (circular_shift) and
numpy.concatenate, every voxel bit for bit. numpy arrays are (z, y, x).
"""
import numpy as np

from refcheck import ALL, check, random_stack, run_main, summary, tool_built

RANGES = [
    dict(start_x=1, stop_x=6, step_x=2, start_y=0, stop_y=65536, step_y=1, start_z=0,
         stop_z=65536, step_z=1),
    dict(start_x=-1, stop_x=-65537, step_x=-1, start_y=-2, stop_y=0, step_y=-1, start_z=1,
         stop_z=4, step_z=2),
    dict(start_x=-5, stop_x=-1, step_x=3, start_y=1, stop_y=100, step_y=4, start_z=3,
         stop_z=-65537, step_z=-3),
]


def main():
    if not tool_built():
        return 1
    for dt in ALL:
        a = random_stack((5, 6, 7), dt)
        b = random_stack((5, 6, 7), dt)
        check("sub_stack", dt, [a], {"start_z": 1, "end_z": 3}, dt, a[1:4])
        check("sub_stack", dt, [a], {"start_z": 4, "end_z": 4}, dt, a[4:5])
        for f, o in ((2, 0), (3, 1), (1, 4)):
            check("reduce_stack", dt, [a], {"reduction_factor": f, "offset": o}, dt, a[o::f])
        for p in RANGES:
            s = tuple(slice(p[f"start_{k}"], None if p[f"stop_{k}"] < -65536 else
                            p[f"stop_{k}"], p[f"step_{k}"]) for k in "zyx")
            check("range", dt, [a], p, dt, a[s])
        check("crop_border", dt, [a], {"border_size": 1}, dt, a[1:-1, 1:-1, 1:-1])
        check("crop_border", dt, [a], {"border_size": 2}, dt, a[2:-2, 2:-2, 2:-2])
        check("crop_border", dt, [a[:1]], {"border_size": 2}, dt, a[:1, 2:-2, 2:-2],
              note="plane")
        for sh in ((0, 0, 0), (2, -1, 3), (-9, 13, 5)):
            check("circular_shift", dt, [a], dict(zip(("shift_x", "shift_y", "shift_z"), sh)),
                  dt, np.roll(a, (sh[2], sh[1], sh[0]), axis=(0, 1, 2)))
        for k, axis in (("x", 2), ("y", 1), ("z", 0)):
            check(f"concatenate_along_{k}", dt, [a, b], {}, dt, np.concatenate([a, b], axis))
    return summary("stack3 reference")


if __name__ == "__main__":
    run_main(main)
