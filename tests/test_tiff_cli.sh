#!/usr/bin/env bash
# tests/test_tiff_cli.sh: `voxbench info` on the real stacks (exit 0, dims printed) and on every
# bad-tiff file (exit 2, exactly one line on stderr naming the file, nothing on stdout).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${VOXBENCH:?VOXBENCH must name the voxbench binary}"
: "${VB_DATA:=$(cd "$here/../.." && pwd)/shared/data}"
tmp=${TEST_TMP:-$(mktemp -d)}


fail=0
check() { # check COND-STATUS MESSAGE
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fail=1; fi
}

"$VOXBENCH" info "$VB_DATA"/stacks/*.tif >"$tmp/good.out" 2>"$tmp/good.err"
rc=$?
check $((rc != 0)) "info on the 8 real stacks exits 0 (got $rc)"
n=$(grep -c '^dims:' "$tmp/good.out")
check $((n != 8)) "info prints dims for each of the 8 stacks (got $n)"
grep -q '^dims: *171x196x5, 2 channels, 3 frames' "$tmp/good.out"
check $? "info reads the 5D ImageJ hyperstack as 171x196x5, 2 channels, 3 frames"
grep -q '^layout: *OME-TIFF' "$tmp/good.out"
check $? "info reports the OME-TIFF layout"
grep -q '^sha256: *b6b6aacf2becfa2f904cbb8f2af76459f833fbda54d5986baa0ae5d9bebd2033' "$tmp/good.out"
check $? "info prints the file's SHA-256 (as sha256sum does)"

for f in "$VB_DATA"/bad-tiff/*; do
	name=$(basename "$f")
	"$VOXBENCH" info "$f" >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	lines=$(wc -l <"$tmp/bad.err")
	grep -q -F "$name" "$tmp/bad.err"
	named=$?
	check $((rc != 2 || lines != 1 || named != 0 || $(wc -c <"$tmp/bad.out") != 0)) \
		"info bad-tiff/$name: exit 2 (got $rc), one line naming it (got $lines): $(head -c 160 "$tmp/bad.err")"
done

"$VOXBENCH" info "$VB_DATA"/stacks/05_mini-t1-head_ImageJ_u16.tif "$VB_DATA"/bad-tiff/pillow_seek_too_large.tif \
	>"$tmp/mixed.out" 2>"$tmp/mixed.err"
rc=$?
check $((rc != 2 || $(grep -c '^dims:' "$tmp/mixed.out") != 1)) \
	"info on a good and a bad file prints the good one and exits 2 (got $rc)"
"$VOXBENCH" info --json "$VB_DATA"/stacks/05_mini-t1-head_ImageJ_u16.tif \
	"$VB_DATA"/bad-tiff/pillow_seek_too_large.tif "$VB_DATA"/stacks/01_mri-stack_ImageJ_u8.tif \
	>"$tmp/info.json" 2>"$tmp/info.err"
rc=$?
"${PYTHON:-python3}" - "$tmp/info.json" "$tmp/mixed.out" <<'PY'
import json, re, sys
files = json.load(open(sys.argv[1]))
text_dims = re.search(r"^dims: +(\d+)x(\d+)x(\d+)", open(sys.argv[2]).read(), re.M).groups()
assert [f["file"].rsplit("/", 1)[1] for f in files] == ["05_mini-t1-head_ImageJ_u16.tif",
                                                        "01_mri-stack_ImageJ_u8.tif"], files
assert files[0]["dims"] == [int(v) for v in text_dims] and files[0]["dtype"] == "u16"
assert files[1]["dims"] == [186, 226, 27] and len(files[1]["decoded"]) == 1
assert all(d["min"] <= d["max"] for f in files for d in f["decoded"])
assert all(len(f["sha256"]) == 64 for f in files)
PY
fields=$?
check $((rc != 2 || fields != 0 || $(wc -l <"$tmp/info.err") != 1)) \
	"info --json: the two good files as objects (dims as the text says), the bad one one line, exit 2 (got $rc)"
exit $fail
