#!/usr/bin/env bash
# voxbench report / compare on the hand-made reports in tests/golden/: the page, its plots and
# CSV, the text and dumb outputs, a missing gnuplot (a note, not a failure), comparisons with
# their ratios, geometric means and unmatched rows, and bad inputs (one line, exit 2).
set -u
vb=$VOXBENCH
here=$(cd "$(dirname "$0")" && pwd)
g=$here/golden
t=$TEST_TMP
failures=0

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

if ! "$vb" report --help >/dev/null 2>&1; then
	bad "voxbench has no 'report' command: add cmd_report and cmd_compare to cli/main.c"
	exit 1
fi

# ---- the page ----
out=$t/lap
"$vb" report "$g/report_laptop.json" --html "$out" >"$t/stdout" 2>"$t/stderr"
rc=$?
check "report --html exits 0 (stderr: $(head -c 300 "$t/stderr"))" [ "$rc" -eq 0 ]
check "report prints the page's path" [ "$(cat "$t/stdout")" = "$out/index.html" ]
for f in index.html results.csv plots.gp speedup.dat speedup.svg speedup.png; do
	check "the folder has $f" [ -s "$out/$f" ]
done
check "PNG files are PNG" bash -c "head -c 8 '$out/speedup.png' | grep -q PNG"
check "the page embeds the plots as inline SVG" grep -q '<svg' "$out/index.html"
check "the page has no script" bash -c "! grep -qi '<script' '$out/index.html'"
check "the page fetches nothing (no src=, no <link, no @import)" \
	bash -c "! grep -Eqi 'src=|<link|@import|url\\(http' '$out/index.html'"
check "the page opens with the probe verdict" \
	grep -q 'ok: a GPU passed the smoke test (Golden Laptop GPU)' "$out/index.html"
check "a skip row is highlighted with its reason" \
	grep -q '<tr class="skip">.*the device has no 64-bit atomics' "$out/index.html"
check "a failing row is highlighted with its reason" \
	grep -q '<tr class="fail">.*max |delta| 0.5 is above the tolerance' "$out/index.html"
check "the CSV has the copy row's numbers and bandwidth fraction" grep -qx \
	'copy,math,,opencl,Golden Laptop GPU,blobs,64,64,64,262144,f32,pass,2,2,2,5,1,1,1.5,hit,8,8,4,2,2097152,1.048576,0.02097152,0,0,0,0,0.0001,' \
	"$out/results.csv"
check "the gnuplot script draws SVG and PNG" bash -c \
	"grep -q 'set terminal svg' '$out/plots.gp' && grep -q 'png_terminal' '$out/plots.gp'"
check "no temporary file is left" bash -c "! ls '$out' | grep -Eq '\\.[A-Za-z0-9]{6}\$'"

# the default folder is the report's name without .json, beside it
cp "$g/report_laptop.json" "$t/mine.json"
"$vb" report "$t/mine.json" >"$t/stdout" 2>/dev/null
check "default folder: mine/ beside mine.json" \
	bash -c "[ \"\$(cat '$t/stdout')\" = '$t/mine/index.html' ] && [ -s '$t/mine/index.html' ]"

# several sizes and backends: scaling and backends plots
"$vb" report "$g/report_scaling.json" --html "$t/sweep" >/dev/null 2>"$t/stderr"
check "a sweep draws the scaling and backends plots" \
	bash -c "[ -s '$t/sweep/scaling.svg' ] && [ -s '$t/sweep/backends.svg' ]"
check "the scaling legend has the fitted exponents of the CPU and GPU lines" \
	bash -c "grep -q 'CPU reference: n^1.00' '$t/sweep/index.html' && grep -q 'GPU opencl kernel: n^1.00' '$t/sweep/index.html'"
check "the scaling table has gaussian_blur's exponent 1.500" grep -q '<td class="n">1.500</td>' \
	"$t/sweep/index.html"
check "the scaling table has the exponent 1.000" grep -q '<td class="n">1.000</td>' \
	"$t/sweep/index.html"

# the script is kept for the user to re-run; PNG falls back to libgd's png without pngcairo
if command -v gnuplot >/dev/null 2>&1; then
	rm -f "$t/sweep/speedup.png"
	(cd "$t/sweep" && gnuplot -e 'png_terminal="png"' plots.gp) >/dev/null 2>&1
	check "plots.gp re-runs by hand, PNG through libgd's png terminal" bash -c \
		"head -c 8 '$t/sweep/speedup.png' | grep -q PNG"
fi
"$vb" report "$g/report_laptop.json" --html "$t/noplots" --plots none >/dev/null 2>&1
check "--plots none: the page without plots, saying so" bash -c \
	"grep -q 'plots turned off' '$t/noplots/index.html' && [ ! -e '$t/noplots/speedup.svg' ]"

# ---- terminal outputs ----
"$vb" report "$g/report_scaling.json" --text >"$t/text" 2>&1
check "--text prints the table" grep -q '^gaussian_blur  *64x64x64' "$t/text"
check "--text prints the fitted exponents" grep -Eq '^copy f32 opencl +4 +1\.000' "$t/text"
"$vb" report "$g/report_laptop.json" --plots dumb >"$t/dumb" 2>&1
check "--plots dumb draws the speedup chart on the terminal" \
	bash -c "grep -q 'kernel only' '$t/dumb' && grep -q '^   1  copy' '$t/dumb'"
"$vb" report "$g/report_laptop.json" --csv >"$t/csv" 2>&1
check "--csv prints CSV on stdout" bash -c "head -1 '$t/csv' | grep -q '^op,category,params'"

# ---- no gnuplot: a note, not a failure ----
VOXBENCH_GNUPLOT=/nonexistent/gnuplot "$vb" report "$g/report_laptop.json" --html "$t/nogp" \
	>"$t/stdout" 2>"$t/stderr"
rc=$?
check "VOXBENCH_GNUPLOT naming nothing: exit 0" [ "$rc" -eq 0 ]
check "VOXBENCH_GNUPLOT naming nothing: a note on stderr" grep -q 'gnuplot not found' "$t/stderr"
check "VOXBENCH_GNUPLOT naming nothing: the page keeps its tables and says why" bash -c \
	"grep -q 'gnuplot not found' '$t/nogp/index.html' && grep -q '<table id=\"results\">' \
	'$t/nogp/index.html' && ! grep -q '<svg' '$t/nogp/index.html'"
PATH=/nonexistent-bin "$vb" report "$g/report_laptop.json" --html "$t/nopath" >/dev/null \
	2>"$t/stderr"
rc=$?
check "PATH without gnuplot: exit 0 and the page says so" bash -c \
	"[ $rc -eq 0 ] && grep -q 'not found on PATH' '$t/nopath/index.html'"

# ---- compare ----
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" >"$t/cmp" 2>"$t/stderr"
rc=$?
check "compare exits 0" [ "$rc" -eq 0 ]
check "compare: the geometric-mean speedup is 4 over 3 shared rows" \
	grep -q 'B vs A: geometric-mean speedup 4.000x (A time / B time) over 3 shared rows' "$t/cmp"
check "compare: they differ most on gaussian_blur sigma 1 (ratio 0.125)" grep -q \
	'differs most on gaussian_blur sigma_x=1 sigma_y=1 sigma_z=1 64x64x64 f32 opencl (B/A 0.125)' \
	"$t/cmp"
check "compare: copy's ratio is 0.250" grep -Eq '^copy +2 +0.5 +0.250$' "$t/cmp"
check "compare: the skipped row shows its status" grep -Eq '^maximum_z_projection +skip +0.25 +-$' \
	"$t/cmp"
check "compare: 3 unmatched rows are listed" bash -c "grep -q 'rows not in every report (3)' \
	'$t/cmp' && grep -q 'sum_of_all_pixels 64x64x64 f32 opencl: only in A' '$t/cmp' && grep -q \
	'absolute 64x64x64 f32 opencl: only in B' '$t/cmp' && grep -q 'gaussian_blur sigma_x=2 sigma_y=2 sigma_z=2 64x64x64 f32 opencl: only in B' '$t/cmp'"
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" --json >"$t/cmp.json" 2>"$t/stderr"
check "compare --json: exit 0; the speedup 4 over 3 shared rows, copy at 0.25, 3 lines not in both" \
	"${PYTHON:-python3}" -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summaries"][0]
copy = [l for l in d["lines"] if l["op"] == "copy"][0]
only = [l for l in d["lines"] if not l["in_every_report"]]
assert abs(s["geomean_speedup_first_over_this"] - 4) < 1e-9 and s["shared_lines"] == 3, s
assert copy["ms"] == [2, 0.5] and abs(copy["over_first"][0] - 0.25) < 1e-12, copy
assert len(only) == 3 == d["unmatched_lines"] and [r["letter"] for r in d["reports"]] == ["A", "B"]
' "$t/cmp.json"
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" --metric transfers >"$t/cmp2" 2>&1
check "compare --metric transfers: geometric mean 40^(1/3) = 3.420" \
	grep -q 'geometric-mean speedup 3.420x' "$t/cmp2"
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" "$g/report_laptop.json" \
	>"$t/cmp3" 2>&1
check "compare of three: C (the laptop again) has speedup 1.000 against A" \
	grep -q 'C vs A: geometric-mean speedup 1.000x' "$t/cmp3"
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" --csv >"$t/cmp.csv" 2>&1
check "compare --csv: the copy row with both times and the ratio" grep -qx \
	'copy,,64,64,64,f32,opencl,2,pass,0.5,pass,0.25' "$t/cmp.csv"
"$vb" compare "$g/report_laptop.json" "$g/report_desktop.json" --html "$t/cmphtml" >/dev/null 2>&1
check "compare --html: a page with inline SVG plots, the CSV and the unmatched rows" bash -c \
	"grep -q '<svg' '$t/cmphtml/index.html' && [ -s '$t/cmphtml/compare.csv' ] && \
	grep -q 'id=\"unmatched\"' '$t/cmphtml/index.html' && [ -s '$t/cmphtml/speedup_vs_a.png' ]"

# ---- bad input: one line on stderr, nothing on stdout, exit 2 ----
expect_usage() {
	local what=$1; shift
	local rc lines
	"$vb" "$@" >"$t/stdout" 2>"$t/stderr"
	rc=$?
	lines=$(wc -l <"$t/stderr")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$t/stdout" ]; then
		ok "$what: exit 2 with one line ($(head -c 240 "$t/stderr"))"
	else
		bad "$what: exit $rc, $lines stderr lines, stdout $(wc -c <"$t/stdout") bytes: $(head -c 300 "$t/stderr")"
	fi
}
echo "this is not json" >"$t/text.json"
head -c 700 "$g/report_laptop.json" >"$t/truncated.json"
expect_usage "report of a missing file" report "$t/none.json"
expect_usage "report of a file that is not JSON" report "$t/text.json"
expect_usage "report of truncated JSON" report "$t/truncated.json"
expect_usage "report of a folder" report "$t"
expect_usage "report of another major schema" report "$g/report_schema2.json"
expect_usage "report without a file" report
expect_usage "report of two files" report "$g/report_laptop.json" "$g/report_desktop.json"
expect_usage "report with an unknown option" report "$g/report_laptop.json" --frobnicate
expect_usage "report with an unknown plot kind" report "$g/report_laptop.json" --plots jpeg
expect_usage "report --text with --csv" report "$g/report_laptop.json" --text --csv
expect_usage "report --html with --text" report "$g/report_laptop.json" --text --html "$t/x"
expect_usage "report into a folder whose parent is missing" report "$g/report_laptop.json" \
	--html /nonexistent/dir/page
expect_usage "compare into a folder whose parent is missing" compare "$g/report_laptop.json" \
	"$g/report_desktop.json" --html /nonexistent/dir/page
expect_usage "compare of one report" compare "$g/report_laptop.json"
expect_usage "compare with a missing report" compare "$g/report_laptop.json" "$t/none.json"
expect_usage "compare with another major schema" compare "$g/report_laptop.json" \
	"$g/report_schema2.json"
expect_usage "compare with an unknown metric" compare "$g/report_laptop.json" \
	"$g/report_desktop.json" --metric speed
"$vb" report "$g/report_schema2.json" 2>"$t/stderr" >/dev/null
check "the schema message names both schemas" bash -c "grep -q 'voxbench-report/2' '$t/stderr' \
	&& grep -q 'voxbench-report/1' '$t/stderr'"

[ "$failures" -eq 0 ]
