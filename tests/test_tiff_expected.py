"""tests/test_tiff_expected.py: recompute, outside voxbench, the voxel checksums that
tests/test_tiff.c asserts for the real stacks, so the table there stays honest.

Each volume is decoded twice, independently of libtiff where possible:
  1. Pillow (Image.seek over the pages, numpy.array of each page; palette pages give indices);
  2. numpy over the raw strips at the StripOffsets: uncompressed as is, Deflate with zlib, LZW
     with the small pure-Python decoder below.
Both must agree, and match the SHA-256 in test_tiff.c: the SHA-256 of the volume as
little-endian samples, x fastest, then y, then z. For the ImageJ hyperstack (07), page
c + C * (z + Z * t) holds channel c, slice z, frame t.
"""
import hashlib
import os
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("VB_DATA", os.path.join(HERE, "..", "..", "shared", "data"))

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print("ok - expected checksums # SKIP needs numpy and Pillow (python3-numpy, python3-pil): %s" % e)
    sys.exit(0)


def lzw_decode(data):
    """TIFF LZW (MSB first, 9-12 bit codes, early change)."""
    out = bytearray()
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    bits = nbits = pos = 0
    width, prev = 9, None
    while True:
        while nbits < width and pos < len(data):
            bits = (bits << 8) | data[pos]
            pos += 1
            nbits += 8
        if nbits < width:
            break
        nbits -= width
        code = (bits >> nbits) & ((1 << width) - 1)
        if code == 257:
            break
        if code == 256:
            table, width, prev = table[:258], 9, None
            continue
        if code < len(table):
            entry = table[code]
        elif code == len(table) and prev is not None:
            entry = prev + prev[:1]
        else:
            raise ValueError("bad LZW code")
        out += entry
        if prev is not None:
            table.append(prev + entry[:1])
        prev = entry
        n = len(table) + 1
        width = 9 if n < 512 else 10 if n < 1024 else 11 if n < 2048 else 12
    return bytes(out)


def pages_pillow(path):
    im = Image.open(path)
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.array(im))
    return np.stack(out)


def pages_raw(path):
    im = Image.open(path)
    raw = open(path, "rb").read()
    big = raw[:2] == b"MM"
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        t = im.tag_v2
        w, h, bps, comp = t[256], t[257], t[258][0], t.get(259, 1)
        strips = [raw[o:o + c] for o, c in zip(t[273], t[279])]
        if comp == 8:
            data = b"".join(zlib.decompress(s) for s in strips)
        elif comp == 5:
            data = b"".join(lzw_decode(s) for s in strips)
        elif comp == 1:
            data = b"".join(strips)
        else:
            return None
        dt = np.dtype("u%d" % (bps // 8)).newbyteorder(">" if big else "<")
        a = np.frombuffer(data, dt, w * h).reshape(h, w)
        if t.get(317, 1) == 2:
            a = np.cumsum(a, axis=1, dtype=a.dtype)
        out.append(a.astype(a.dtype.newbyteorder("=")))
    return np.stack(out)


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).tobytes()).hexdigest()


def table():
    """(file, sha) pairs of test_tiff.c's reals[], and its mitosis_sha[t][c]."""
    text = open(os.path.join(HERE, "test_tiff.c")).read()
    reals = re.findall(r'\{ "(\d\d_[^"]+\.tif)".*?"([0-9a-f]{64})" \}', text, re.S)
    block = text[text.index("mitosis_sha[3][2]"):]
    mitosis = re.findall(r'"([0-9a-f]{64})"', block[:block.index("};")])
    return reals, mitosis


def main():
    reals, mitosis = table()
    failed = 0
    print("ok - test_tiff.c lists %d real stacks" % len(reals) if len(reals) == 8 else
          "not ok - test_tiff.c lists %d real stacks, expected 8" % len(reals))
    failed += len(reals) != 8
    for name, want in reals:
        path = os.path.join(DATA, "stacks", name)
        a, b = pages_pillow(path), pages_raw(path)
        if name.startswith("07_"):
            a, b = a[[2 * z for z in range(5)]], b[[2 * z for z in range(5)]]
        same = b is not None and np.array_equal(a, b)
        ok = same and sha(a) == want
        failed += not ok
        print("%s - %s: Pillow and raw strips agree (%s), SHA-256 %s the table" %
              ("ok" if ok else "not ok", name, same, "matches" if sha(a) == want else "differs from"))
    path = os.path.join(DATA, "stacks", "07_mitosis_ImageJ_5D_tzcyx_u16.tif")
    a = pages_pillow(path)
    got = [sha(a[[c + 2 * (z + 5 * t) for z in range(5)]]) for t in range(3) for c in range(2)]
    ok = got == mitosis
    failed += not ok
    print("%s - 07: the 6 (channel, frame) volume checksums match the table" % ("ok" if ok else "not ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
