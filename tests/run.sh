#!/usr/bin/env bash
# Run every test program (see tests/README.md) and end with "N passed, N failed, N skipped".
# A line "ok - what # SKIP why" (TAP's marker) is a check that could not run here: skipped, not
# passed.
# Each program prints "ok - ..." / "not ok - ..." lines; a program that exits non-zero without
# printing a "not ok" line counts as one failure, so a crash is never silent.
# `run.sh PART` runs the programs whose name holds PART (make test T=label). Without V=1 a
# program prints its failures, skips and summaries ("# ..." and "name: ..." lines) and one count
# with the seconds it took; V=1 prints every line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${BUILD:?BUILD must name the build folder}"
: "${VOXBENCH:=$BUILD/voxbench}"
: "${PYTHON:=/usr/bin/python3}"
: "${VB_DATA:=$(cd "$here/../.." && pwd)/shared/data}"
: "${VOXBENCH_CACHE_DIR:=$BUILD/kernel-cache}"
: "${TEST_TIMEOUT:=1200}"
export BUILD VOXBENCH PYTHON VB_DATA VOXBENCH_CACHE_DIR
only=${1:-}

passed=0
failed=0
skipped=0
run_one() {
	local name=$1; shift
	local tmp log rc ok notok t0 ms
	tmp=$(mktemp -d)
	log="$tmp/.log"
	t0=$(date +%s%N)
	TEST_TMP="$tmp" timeout "$TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "${V:-0}" = 1 ]; then
		sed "s/^/[$name] /" "$log"
	else
		grep -E '^(not ok - |ok - .* # SKIP|# |[a-z_]+: [0-9])' "$log" | sed "s/^/[$name] /"
	fi
	ok=$(grep '^ok - ' "$log" | grep -vc ' # SKIP')
	skip=$(grep -c '^ok - .* # SKIP' "$log")
	notok=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "[$name] not ok - $name exited with status $rc without a failing check"
		notok=1
	fi
	if [ "$rc" -eq 0 ] && [ "$ok" -eq 0 ] && [ "$skip" -eq 0 ] && [ "$notok" -eq 0 ]; then
		echo "[$name] not ok - $name checked nothing"
		notok=1
	fi
	printf '[%s] %d passed, %d failed, %d skipped in %d.%d s\n' "$name" "$ok" "$notok" "$skip" \
		$((ms / 1000)) $((ms % 1000 / 100))
	passed=$((passed + ok))
	skipped=$((skipped + skip))
	failed=$((failed + notok))
	rm -rf "$tmp"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	[ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
	run_one "$name" "$t"
done
for t in "$here"/test_*.py "$here"/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t")
	[ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
	case "$t" in
	*.py) run_one "$name" "$PYTHON" "$t" ;;
	*.sh) run_one "$name" bash "$t" ;;
	esac
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
