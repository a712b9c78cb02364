#!/usr/bin/python3
"""tests/probe_fixtures/cupy_copy_ref.py: CuPy's device copy bandwidth, the reference the probe's
`bench` copy figure is compared with (issue 3: within 10% on an H100). Counts bytes read plus
bytes written, as the probe does; median of 20 runs after 2 warm-ups, timed with CUDA events.
Not part of `make test` (it needs CuPy and an NVIDIA GPU).

    /usr/bin/python3 tests/probe_fixtures/cupy_copy_ref.py [MiB ...]   (default: 256 1024)
"""
import sys

import cupy as cp


def median_ms(fn, runs=20):
    start, end, times = cp.cuda.Event(), cp.cuda.Event(), []
    for i in range(runs + 2):
        start.record()
        fn()
        end.record()
        end.synchronize()
        if i >= 2:
            times.append(cp.cuda.get_elapsed_time(start, end))
    return sorted(times)[runs // 2]


def main():
    copy_kernel = cp.ElementwiseKernel("T x", "T y", "y = x", "voxbench_copy")
    name = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    for mib in [int(a) for a in sys.argv[1:]] or [256, 1024]:
        n = mib * 2**20 // 4
        a = cp.ones(n, dtype=cp.float32)
        b = cp.empty_like(a)
        for what, fn in (("copyto (memcpy)", lambda: cp.copyto(b, a)),
                         ("elementwise kernel", lambda: copy_kernel(a, b))):
            gbps = 2 * n * 4 / (median_ms(fn) * 1e6)
            print(f"{name}: CuPy {cp.__version__} {what} {mib} MiB: {gbps:.1f} GB/s")


if __name__ == "__main__":
    main()
