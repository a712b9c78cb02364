#!/usr/bin/env bash
# tests/test_tiff_asan.sh: the TIFF reader's tests (tests/test_tiff.c: the real stacks, every
# bad-tiff file, made-up and hand-made malformed files, round trips, `info`) built with clang
# under AddressSanitizer + UndefinedBehaviorSanitizer, in $TEST_TMP. Any sanitizer report fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=${TEST_TMP:-$(mktemp -d)}
: "${VB_DATA:=$(cd "$root/.." && pwd)/shared/data}"
export VB_DATA

if ! command -v clang >/dev/null 2>&1; then
	echo "ok - asan # SKIP clang is not installed (Debian: apt-get install clang)"
	exit 0
fi
flags="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=all"
echo 'int main(void) { return 0; }' >"$tmp/probe.c"
# shellcheck disable=SC2086
if ! clang $flags "$tmp/probe.c" -o "$tmp/probe" 2>"$tmp/probe.log" || ! "$tmp/probe"; then
	echo "ok - asan # SKIP clang cannot build sanitizer binaries here: $(head -c 200 "$tmp/probe.log")"
	exit 0
fi

srcs="$root/stacks/tiff.c $root/stacks/tiff_layouts.c $root/stacks/tiff_ome.c
      $root/stacks/tiff_imagej.c $root/stacks/tiff_shaped.c $root/stacks/tiff_write.c $root/stacks/tiff_info.c
      $root/stacks/stack.c $root/common/*.c $root/cli/cmd_info.c $root/cli/options.c
      $root/tests/test_tiff.c"
# shellcheck disable=SC2086
if ! clang $flags $srcs -o "$tmp/test_tiff_asan" -ltiff -lexpat -ljansson -lcrypto -lm 2>"$tmp/build.log"; then
	echo "not ok - asan: the sanitizer build of tests/test_tiff.c failed: $(head -c 600 "$tmp/build.log")"
	exit 1
fi
echo "ok - asan: tests/test_tiff.c built with -fsanitize=address,undefined"

mkdir -p "$tmp/run"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
TEST_TMP="$tmp/run" "$tmp/test_tiff_asan" >"$tmp/out.log" 2>"$tmp/err.log"
rc=$?
sed -e 's/^ok - /ok - asan: /' -e 's/^not ok - /not ok - asan: /' "$tmp/out.log"
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/err.log"; then
	echo "not ok - asan: sanitizer report:"
	sed 's/^/    /' "$tmp/err.log" | head -60
	exit 1
fi
if [ "$rc" -ne 0 ]; then
	grep -q '^not ok - ' "$tmp/out.log" || echo "not ok - asan: test_tiff exited with status $rc"
	exit 1
fi
echo "ok - asan: no AddressSanitizer, LeakSanitizer or UBSan report"
