#!/usr/bin/python3
"""tests/test_hostile_tiff.py: TIFF files made to fill memory: pages that share one compressed
strip (a 23 KB file declaring 1 GiB) are refused when opened, in milliseconds, by `info` and
`run --input`; small files whose identical pages share a strip still read."""
import os
import struct
import subprocess
import sys
import time
import zlib

from vbcheck import check, exit_status

VOXBENCH = os.environ.get("VOXBENCH", "build/voxbench")
TMP = os.environ.get("TEST_TMP") or "/tmp/voxbench-test-hostile-tiff"


def shared_strip_tiff(path, width, height, pages, compression, shift=0):
    """A classic little-endian TIFF of u8 pages whose StripOffsets all point at one strip of
    zeros (shift: each page's offset one byte later, overlapping the previous one)."""
    raw = bytes(width * height)
    strip = zlib.compress(raw, 9) if compression == 8 else raw
    out = bytearray(b"II*\x00" + struct.pack("<I", 0))
    strip_off = len(out)
    out += strip + bytes(pages * shift + (len(out) + len(strip)) % 2)
    struct.pack_into("<I", out, 4, len(out))
    for p in range(pages):
        tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, compression),
                (262, 3, 1), (273, 4, strip_off + p * shift), (277, 3, 1), (278, 4, height),
                (279, 4, len(strip))]
        start = len(out)
        out += struct.pack("<H", len(tags))
        for tag, typ, val in tags:
            out += struct.pack("<HHIHH", tag, typ, 1, val, 0) if typ == 3 else \
                struct.pack("<HHII", tag, typ, 1, val)
        out += struct.pack("<I", start + 2 + 12 * len(tags) + 4 if p + 1 < pages else 0)
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


def run(*args):
    t0 = time.monotonic()
    p = subprocess.run([VOXBENCH] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def refused(what, path, *args):
    rc, out, err, secs = run(*args)
    check(rc == 2 and "share" in err and err.count("\n") == 1 and secs < 5,
          f"{what}: exit 2 in {secs:.2f} s with one line naming the shared strips",
          (rc, err[-300:]))


def main():
    os.makedirs(TMP, exist_ok=True)
    bomb = os.path.join(TMP, "bomb.tif")
    size = shared_strip_tiff(bomb, 4096, 4096, 64, 8)
    check(size < 30000, f"the shared-strip file is small ({size} bytes for 64 x 16 MiB pages)")
    refused("info of 64 pages sharing one Deflate strip", bomb, "info", bomb)
    refused("run --input of 64 pages sharing one Deflate strip", bomb,
            "run", "--probe", "none", "--ops", "copy", "--input", bomb)
    shifted = os.path.join(TMP, "shifted.tif")
    shared_strip_tiff(shifted, 4096, 4096, 64, 8, shift=1)
    refused("info of 64 pages whose strips overlap, one byte apart", shifted, "info", shifted)
    small = os.path.join(TMP, "small.tif")
    shared_strip_tiff(small, 16, 16, 4, 1)
    rc, out, err, _ = run("info", small)
    check(rc == 0 and "16x16x4" in out and "decoded:" in out,
          "a small file whose 4 uncompressed pages share one strip still reads", (rc, err))
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
