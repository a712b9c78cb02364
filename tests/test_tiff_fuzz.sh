#!/usr/bin/env bash
# tests/test_tiff_fuzz.sh: run the libFuzzer harness tests/fuzz_tiff.c (clang, with ASan and
# UBSan) for a bounded time (FUZZ_SECONDS, default 20) over the bad-tiff files and the real
# stacks as seeds. A crash fails the test and names the input to add to shared/data/bad-tiff.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=${TEST_TMP:-$(mktemp -d)}
: "${VB_DATA:=$(cd "$root/.." && pwd)/shared/data}"
seconds=${FUZZ_SECONDS:-20}

if ! command -v clang >/dev/null 2>&1; then
	echo "ok - fuzz # SKIP clang is not installed (Debian: apt-get install clang)"
	exit 0
fi
flags="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	>"$tmp/probe.c"
# shellcheck disable=SC2086
if ! clang $flags "$tmp/probe.c" -o "$tmp/probe" 2>"$tmp/probe.log"; then
	echo "ok - fuzz # SKIP clang has no libFuzzer runtime (Debian: apt-get install libclang-rt-14-dev): $(head -c 200 "$tmp/probe.log")"
	exit 0
fi
# shellcheck disable=SC2086
if ! clang $flags "$root/tests/fuzz_tiff.c" "$root"/stacks/tiff.c "$root"/stacks/tiff_layouts.c "$root"/stacks/tiff_ome.c \
	"$root"/stacks/tiff_imagej.c "$root"/stacks/tiff_shaped.c "$root/stacks/stack.c" \
	"$root"/common/*.c -ltiff -lexpat -ljansson -lm -o "$tmp/fuzz_tiff" 2>"$tmp/build.log"; then
	echo "not ok - fuzz: building tests/fuzz_tiff.c failed: $(head -c 600 "$tmp/build.log")"
	exit 1
fi
echo "ok - fuzz: tests/fuzz_tiff.c built with -fsanitize=fuzzer,address,undefined"

mkdir -p "$tmp/corpus"
cp "$VB_DATA"/bad-tiff/* "$VB_DATA"/stacks/*.tif "$tmp/corpus/" 2>/dev/null
# tiny seeds of every layout, so that mutations reach the decoders quickly (Pillow; optional)
"${PYTHON:-/usr/bin/python3}" - "$tmp/corpus" <<'PY' 2>/dev/null || true
import sys
import numpy as np
from PIL import Image
out = sys.argv[1]
def save(name, planes, desc=None, **kw):
    ims = [Image.fromarray(p) for p in planes]
    info = {270: desc} if desc else {}
    ims[0].save(out + "/seed_" + name, save_all=True, append_images=ims[1:], tiffinfo=info, **kw)
r = np.arange(48).reshape(6, 8)
save("imagej.tif", [(r * k).astype(np.uint16) for k in range(12)],
     "ImageJ=1.54f\nimages=12\nchannels=2\nslices=3\nframes=2\nhyperstack=true\n"
     "unit=micron\nspacing=0.5\nfinterval=2\n")
save("ome.tif", [(r + k).astype(np.uint8) for k in range(4)],
     '<OME UUID="u"><Image><Pixels DimensionOrder="XYCZT" SizeX="8" SizeY="6" SizeZ="2" '
     'SizeC="2" SizeT="1" PhysicalSizeX="0.2" PhysicalSizeZ="500" PhysicalSizeZUnit="nm">'
     '<TiffData IFD="0" PlaneCount="4"/></Pixels></Image></OME>')
save("shaped.tif", [(r * k).astype(np.uint16) for k in range(4)],
     '{"shape": [2, 2, 6, 8], "axes": "TZYX"}', compression="tiff_adobe_deflate")
save("lzw.tif", [(r + k).astype(np.uint8) for k in range(3)], compression="tiff_lzw")
save("packbits.tif", [(r + k).astype(np.uint8) for k in range(2)], compression="packbits")
save("f32.tif", [(r * 0.5 - k).astype(np.float32) for k in range(2)])
save("i32.tif", [(r * 1000 - k).astype(np.int32) for k in range(2)])
PY
chmod u+w "$tmp"/corpus/*
seeds=$(find "$tmp/corpus" -type f | wc -l)
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$tmp/fuzz_tiff" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
	-malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$tmp/" "$tmp/corpus" \
	>"$tmp/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log" | tail -1)
crash=$(ls "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-* 2>/dev/null | head -1)
if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
	echo "not ok - fuzz: libFuzzer stopped (status $rc) on ${crash:-an input}; keep it as a test:" \
		"cp it into shared/data/bad-tiff/"
	grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$tmp/fuzz.log" | head -30 | sed 's/^/    /'
	exit 1
fi
echo "ok - fuzz: ${runs:-?} inputs in ${seconds} s from $seeds seeds, no crash, leak or timeout"
