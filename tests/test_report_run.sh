#!/usr/bin/env bash
# A scaling sweep end to end: `voxbench run --sizes` writes a "scaling" section (one log-log fit
# per op) into its JSON report, a single size writes none, and `voxbench report` draws the
# time-vs-voxels plot from it. Needs an OpenCL device (PoCL in CI).
set -u
vb=$VOXBENCH
: "${PYTHON:=/usr/bin/python3}"
t=$TEST_TMP
failures=0

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }

"$vb" run --ops copy,add_image_and_scalar --sizes 8,16,24 --repeat 1 --probe none \
	--out "$t/sweep.json" >"$t/stdout" 2>"$t/stderr"
rc=$?
if [ "$rc" -eq 3 ]; then
	ok "no OpenCL device: the sweep is not run ($(head -c 200 "$t/stderr"))"
	exit 0
fi
[ "$rc" -eq 0 ] && ok "run --sizes 8,16,24 exits 0" || bad "run --sizes: exit $rc: $(head -c 300 "$t/stderr")"
if "$PYTHON" - "$t/sweep.json" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1]))
fits = {f["op"]: f for f in doc.get("scaling", [])}
assert set(fits) == {"copy", "add_image_and_scalar"}, fits
for f in fits.values():
    assert f["sizes"] == 3 and f["points"] == 3 and math.isfinite(f["exponent"]), f
    assert f["min_voxels"] == 512 and f["max_voxels"] == 13824, f
PY
then
	ok "the report has a scaling section: one fit per op over 3 sizes, 512 to 13824 voxels"
else
	bad "the report's scaling section is missing or wrong"
fi
if grep -q '^scaling: GPU time' "$t/stdout" && grep -Eq '^copy +3 ' "$t/stdout" &&
	grep -Eq '^add_image_and_scalar +3 ' "$t/stdout"; then
	ok "run --sizes prints its fits: one line per op over 3 sizes"
else
	bad "run --sizes printed no fit: $(tail -c 400 "$t/stdout")"
fi
if "$PYTHON" - "$t/sweep.json" <<'PY'
import json, math, sys
h = json.load(open(sys.argv[1]))["host"]
assert all(isinstance(h[k], (int, float)) and 0 <= h[k] < 1e4 for k in ("load_start", "load_end")), h
PY
then
	ok "the report records the load average at the start and end of the run"
else
	bad "host.load_start / load_end missing from the report"
fi
"$vb" run --ops copy --size 8 --repeat 1 --probe none --out "$t/one.json" >/dev/null 2>&1
if grep -q '"scaling"' "$t/one.json"; then
	bad "a single size wrote a scaling section"
else
	ok "a single size writes no scaling section"
fi
"$vb" report "$t/sweep.json" --html "$t/page" >/dev/null 2>"$t/stderr"
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'id="scaling"' "$t/page/index.html"; then
	ok "report draws the sweep: a scaling table$( [ -s "$t/page/scaling.svg" ] && echo ' and the log-log plot')"
else
	bad "report of the sweep: exit $rc: $(head -c 300 "$t/stderr")"
fi
[ "$failures" -eq 0 ]
