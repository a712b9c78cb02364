#!/usr/bin/env bash
# The command line: bad arguments give one line and exit 2 and leave no file; a missing
# OpenCL loader gives exit 3 naming the package; list and help work.
set -u
vb=$VOXBENCH
out=$TEST_TMP/report.json
failures=0

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }

# expect_usage DESCRIPTION ARGS...: exit 2, exactly one line on stderr, nothing on stdout, no file
expect_usage() {
	local what=$1; shift
	local err lines rc
	rm -f "$out"
	"$vb" "$@" >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr"
	rc=$?
	lines=$(wc -l <"$TEST_TMP/stderr")
	err=$(head -c 300 "$TEST_TMP/stderr")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TEST_TMP/stdout" ] && [ ! -e "$out" ]; then
		ok "$what: exit 2 with one line ($err)"
	else
		bad "$what: exit $rc, $lines stderr lines, stdout $(wc -c <"$TEST_TMP/stdout") bytes, file $([ -e "$out" ] && echo left || echo absent): $err"
	fi
}

expect_usage "unknown op" run --ops no_such_op --out "$out"
expect_usage "size with a missing part" run --size 12x --out "$out"
expect_usage "zero size" run --size 0x4x4 --out "$out"
expect_usage "negative size" run --size -5x4x4 --out "$out"
expect_usage "size that overflows" run --size 99999999999x99999999999x99999999999 --out "$out"
expect_usage "junk in a size" run --size 4x4x4q --out "$out"
expect_usage "unknown dtype" run --dtype f64 --out "$out"
expect_usage "unknown stack" run --stack clouds --out "$out"
expect_usage "repeat of zero" run --repeat 0 --out "$out"
expect_usage "non-numeric cpu threads" run --cpu-threads many --out "$out"
expect_usage "cpu runs out of range" run --cpu-runs 4 --out "$out"
expect_usage "parameter out of range" run --ops gaussian_blur --param sigma_x=999 --out "$out"
expect_usage "parameter no op has" run --ops copy --param sigma_x=1 --out "$out"
expect_usage "fractional integer parameter" run --ops mean_box --param radius_x=1.5 --out "$out"
expect_usage "unknown option" run --frobnicate --out "$out"
expect_usage "stray argument" run extra --out "$out"
expect_usage "unknown device" run --device no-such-device-anywhere --size 4x4x4 --out "$out"
expect_usage "unknown device index" run --device 999 --size 4x4x4 --out "$out"
expect_usage "unwritable report folder" run --size 4x4x4 --out /nonexistent/dir/r.json
expect_usage "unknown command" frobnicate
expect_usage "list of an unknown op" list no_such_op
# a typo gets the closest name; a word that is no op's gets none
for args in "run --ops gausian_blur" "list median_bx"; do
	# shellcheck disable=SC2086
	msg=$("$vb" $args 2>&1 >/dev/null)
	want=$([ "${args#run}" != "$args" ] && echo gaussian_blur || echo median_box)
	case $msg in
	*"(did you mean $want?)"*) ok "'$args' suggests $want" ;;
	*) bad "'$args' should suggest $want: $msg" ;;
	esac
done
msg=$("$vb" run --ops xyzzy 2>&1 >/dev/null)
case $msg in
*"did you mean"*) bad "'run --ops xyzzy' suggests a name: $msg" ;;
*) ok "'run --ops xyzzy' suggests nothing" ;;
esac

# the message says what is accepted
"$vb" run --size 12x 2>"$TEST_TMP/stderr"
grep -q "WIDTHxHEIGHTxDEPTH" "$TEST_TMP/stderr" && ok "bad size message shows the accepted form" \
	|| bad "bad size message lacks the accepted form: $(cat "$TEST_TMP/stderr")"

# no OpenCL loader: exit 3 and the package to install
VOXBENCH_OPENCL_LIBRARY=/nonexistent/libOpenCL.so.1 "$vb" run --backend opencl --size 4x4x4 \
	>/dev/null 2>"$TEST_TMP/stderr"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "ocl-icd-libopencl1" "$TEST_TMP/stderr"; then
	ok "missing loader: exit 3 naming ocl-icd-libopencl1"
else
	bad "missing loader: exit $rc: $(cat "$TEST_TMP/stderr")"
fi

# a stack larger than host memory becomes skip rows with the reason, the run goes on
"$vb" run --ops copy --size 65536x65536x4096 --out "$out" >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '"status": "skip"' "$out" && grep -q "available" "$out"; then
	ok "stack beyond host memory: a skip row with the reason, exit 0"
else
	bad "stack beyond host memory: exit $rc, report: $(head -c 400 "$out" 2>/dev/null)"
fi

# list: every op, one op's parameters, the conventions
n=$("$vb" list | wc -l)
[ "$n" -ge 15 ] && ok "list shows $n ops" || bad "list shows $n ops"
"$vb" list gaussian_blur | grep -q "sigma_z" && ok "list gaussian_blur shows sigma_z" \
	|| bad "list gaussian_blur lacks sigma_z"
"$vb" list --help | grep -q "mode='nearest'" && ok "list --help states the border convention" \
	|| bad "list --help lacks the border convention"
"$vb" --version | grep -q "^voxbench [0-9]" && ok "--version" || bad "--version"

# cache: where it is, what it holds, --clear removes only voxbench's own regular files
cdir=$TEST_TMP/cache
mkdir -p "$cdir"
printf 'abc' >"$cdir/0123456789abcdef0123456789abcdef.vbk"
printf 'de' >"$cdir/00000000000000000000000000000000.vbk.Xy12Zw"
printf 'keep' >"$cdir/notes.txt"
printf 'target' >"$TEST_TMP/outside"
ln -sf "$TEST_TMP/outside" "$cdir/11111111111111111111111111111111.vbk"
mkdir -p "$cdir/22222222222222222222222222222222.vbk"
text=$(VOXBENCH_CACHE_DIR=$cdir "$vb" cache)
echo "$text" | grep -q "1 entry, 0.0 MiB (1 of the files left over" && echo "$text" | grep -qF "$cdir" \
	&& ok "cache names its folder and counts 1 entry and 1 left-over file (not the link, folder or notes)" \
	|| bad "cache printed: $text"
json=$(VOXBENCH_CACHE_DIR=$cdir "$vb" cache --clear --json)
if echo "$json" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(not (d["entries"]==1 and d["temporary"]==1 and d["bytes"]==5 and d["removed"]==2 and d["enabled"]))' &&
	[ ! -e "$cdir/0123456789abcdef0123456789abcdef.vbk" ] && [ -f "$cdir/notes.txt" ] &&
	[ -L "$cdir/11111111111111111111111111111111.vbk" ] && [ "$(cat "$TEST_TMP/outside")" = target ] &&
	[ -d "$cdir/22222222222222222222222222222222.vbk" ]; then
	ok "cache --clear --json: removed the 2 files of voxbench's, kept the notes, the link (and its target) and the folder"
else
	bad "cache --clear --json: $json; left: $(ls "$cdir" | tr '\n' ' ')"
fi
VOXBENCH_NO_CACHE=1 "$vb" cache | grep -q "kernel cache: off" && ok "cache says when caching is off" \
	|| bad "cache with VOXBENCH_NO_CACHE=1"
expect_usage "cache with an operand" cache somewhere
expect_usage "cache with an unknown option" cache --purge

[ "$failures" -eq 0 ]
