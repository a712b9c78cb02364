#!/usr/bin/env bash
# `voxbench run --input`: real TIFF stacks through every op, frames of 3D+time files, the file's
# SHA-256 in the report, outputs saved as TIFF with the input's voxel size, bad files refused.
set -u
vb=$VOXBENCH
stacks=$VB_DATA/stacks
out=$TEST_TMP/report.json
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
field() { $PYTHON -c "import json,sys; r=json.load(open('$out')); print($1)"; }

"$vb" run --probe none --repeat 1 --input "$stacks/05_mini-t1-head_ImageJ_u16.tif" --out "$out" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "every op passes on the real 32x32x32 u16 head stack" || bad "run over 05 exit $rc"
# ops on label images run on the file's derived u32 labels; every other op on its u16 voxels,
# and an op that does not take u16 (list --json: its dtypes) is a skip that says so
n=$(field "sum(1 for x in r['results'] if x['status']=='pass' and x['stack']['width']==32 and x['stack']['dtype']=='u16')")
nlab=$(field "sum(1 for x in r['results'] if x['status']=='pass' and x['stack']['width']==32 and x['stack']['dtype']=='u32')")
nskip=$(field "sum(1 for x in r['results'] if x['status']=='skip' and 'does not accept u16' in x['reason'])")
read -r want_u16 want_lab want_skip < <("$vb" list --json | $PYTHON -c "
import json, sys
ops = json.load(sys.stdin)
lab = [o for o in ops if o['roles'][0] == 'labels']
img = [o for o in ops if o['roles'][0] != 'labels']
print(sum('u16' in o['dtypes'] for o in img), len(lab), sum('u16' not in o['dtypes'] for o in img))")
[ "$n" -eq "$want_u16" ] && [ "$nlab" -eq "$want_lab" ] && [ "$nskip" -eq "$want_skip" ] &&
	[ "$want_lab" -gt 0 ] \
	&& ok "one row per op ($n passing on the u16 stack, $nlab on its labels, $nskip that do not take u16 skipped)" \
	|| bad "$n passing u16 rows (want $want_u16), $nlab label rows (want $want_lab), $nskip dtype skips (want $want_skip)"
sha=$(field "r['results'][0]['stack']['sha256']")
want=$(sha256sum "$stacks/05_mini-t1-head_ImageJ_u16.tif" | cut -d' ' -f1)
[ "$sha" = "$want" ] && ok "the report holds the file's SHA-256" || bad "sha256 $sha != $want"

"$vb" run --probe none --repeat 1 --ops copy,maximum_z_projection --input "$stacks/07_mitosis_ImageJ_5D_tzcyx_u16.tif" \
	--channel 1 --save-outputs "$TEST_TMP/outputs" --save-reference --out "$out" >/dev/null 2>&1
frames=$(field "sorted({x['stack']['frame'] for x in r['results']})")
chan=$(field "sorted({x['stack']['channel'] for x in r['results']})")
[ "$frames" = "[0, 1, 2]" ] && [ "$chan" = "[1]" ] && ok "--frame all gives a block per frame, channel 1" \
	|| bad "frames $frames channels $chan"
n=$(ls "$TEST_TMP/outputs" | wc -l)
[ "$n" -eq 12 ] && ok "--save-outputs --save-reference wrote 12 TIFF files" || bad "$n files saved"
"$vb" info "$TEST_TMP/outputs/copy_171x196x5_u16_07_mitosis_ImageJ_5D_tzcyx_u16_t1_c1.tif" >"$TEST_TMP/info" 2>&1
grep -q "171x196x5" "$TEST_TMP/info" && grep -q "0.0885 x 0.0885 x 1 um" "$TEST_TMP/info" \
	&& ok "a saved output reads back with its size and voxel size" || bad "info: $(cat "$TEST_TMP/info")"
cmp -s "$TEST_TMP/outputs/copy_171x196x5_u16_07_mitosis_ImageJ_5D_tzcyx_u16_t1_c1.tif" "$TEST_TMP/outputs/copy_171x196x5_u16_07_mitosis_ImageJ_5D_tzcyx_u16_t1_c1_reference.tif" \
	&& ok "copy's GPU output and reference are the same file" || bad "copy GPU and reference files differ"

"$vb" run --probe none --repeat 1 --ops copy --input "$stacks/07_mitosis_ImageJ_5D_tzcyx_u16.tif" --frame 2 --out "$out" >/dev/null 2>&1
[ "$(field "[x['stack']['frame'] for x in r['results']]")" = "[2]" ] && ok "--frame 2 runs that frame only" \
	|| bad "--frame 2 gave $(field "[x['stack']['frame'] for x in r['results']]")"

expect_usage() {
	local what=$1; shift
	rm -f "$out"
	"$vb" run --probe none "$@" --out "$out" >/dev/null 2>"$TEST_TMP/err"
	local rc=$? lines
	lines=$(wc -l <"$TEST_TMP/err")
	[ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -e "$out" ] && ok "$what: exit 2, one line ($(cat "$TEST_TMP/err"))" \
		|| bad "$what: exit $rc, $lines lines: $(cat "$TEST_TMP/err")"
}
for f in "$VB_DATA"/bad-tiff/*.tif; do
	expect_usage "bad file $(basename "$f")" --input "$f"
done
expect_usage "a missing file" --input "$TEST_TMP/none.tif"
expect_usage "channel out of range" --input "$stacks/05_mini-t1-head_ImageJ_u16.tif" --channel 3
expect_usage "frame out of range" --input "$stacks/07_mitosis_ImageJ_5D_tzcyx_u16.tif" --frame 3
expect_usage "--input with --size" --input "$stacks/05_mini-t1-head_ImageJ_u16.tif" --size 8
expect_usage "--save-reference without --save-outputs" --save-reference --size 8
[ "$failures" -eq 0 ]
