#!/usr/bin/env bash
# tests/test_cuda_cli.sh: `voxbench run --backend`: a bad name is a usage error; CUDA without a
# driver (or a build without CUDA) is exit 3 saying "CUDA: ..."; with every loader missing the
# message names each; OpenCL runs on without CUDA; where both backends run on one card, rows
# carry both and the table shows OpenCL ms, CUDA ms and their ratio.
set -u
: "${VOXBENCH:?VOXBENCH must name the voxbench binary}"
vb=$VOXBENCH
tmp=${TEST_TMP:-$(mktemp -d)}
out=$tmp/report.json
failures=0

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }

"$vb" run --help 2>/dev/null | grep -q -- "--backend" && ok "run --help lists --backend" \
	|| bad "run --help lists no --backend"

"$vb" run --probe none --backend metal --size 4x4x4 >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] && grep -q "opencl, cuda or all" "$tmp/stderr"; then
	ok "unknown backend: exit 2, one line naming the choices"
else
	bad "unknown backend: exit $rc: $(cat "$tmp/stderr")"
fi

# no libcuda (the CI machine has none; the variable makes it so on a GPU machine too)
VOXBENCH_CUDA_LIBRARY=/nonexistent/libcuda.so.1 "$vb" run --probe none --backend cuda --size 4x4x4 \
	>/dev/null 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 3 ] && grep -q -E "CUDA: no driver|built without the CUDA backend" "$tmp/stderr" &&
	[ "$(wc -l <"$tmp/stderr")" -eq 1 ]; then
	ok "--backend cuda without a driver: exit 3, one line ($(head -c 120 "$tmp/stderr"))"
else
	bad "--backend cuda without a driver: exit $rc: $(cat "$tmp/stderr")"
fi

VOXBENCH_OPENCL_LIBRARY=/nonexistent/libOpenCL.so.1 VOXBENCH_CUDA_LIBRARY=/nonexistent/libcuda.so.1 \
	"$vb" run --probe none --size 4x4x4 >/dev/null 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "ocl-icd-libopencl1" "$tmp/stderr" && grep -q "CUDA: " "$tmp/stderr"; then
	ok "no loader at all: exit 3 and why for each backend"
else
	bad "no loader at all: exit $rc: $(cat "$tmp/stderr")"
fi

# OpenCL alone still runs when CUDA is missing (PoCL in CI)
if VOXBENCH_CUDA_LIBRARY=/nonexistent/libcuda.so.1 "$vb" run --probe none --ops copy --size 8x8x8 --out "$out" \
	>/dev/null 2>"$tmp/stderr"; then
	if grep -q '"backend": "opencl"' "$out" && ! grep -q '"backend": "cuda"' "$out"; then
		ok "no CUDA driver: the run goes on with OpenCL alone"
	else
		bad "no CUDA driver: unexpected rows: $(head -c 300 "$out")"
	fi
else
	ok "OpenCL and CUDA side by side # SKIP no OpenCL device either ($(head -c 160 "$tmp/stderr"))"
fi

# both backends on one card: the comparison table
"$vb" run --probe none --ops copy,gaussian_blur,sum_of_all_pixels --size 64x32x16 --out "$out" \
	>"$tmp/table" 2>"$tmp/stderr"
rc=$?
if grep -q '"backend": "cuda"' "$out" 2>/dev/null && grep -q '"backend": "opencl"' "$out"; then
	if [ "$rc" -eq 0 ] && grep -q "CUDA/OpenCL" "$tmp/table" &&
		[ "$(grep -c "^gaussian_blur" "$tmp/table")" -ge 2 ]; then
		ok "OpenCL and CUDA both ran: rows pass and the table shows their ratio"
	else
		bad "OpenCL and CUDA both ran: exit $rc: $(cat "$tmp/table" "$tmp/stderr")"
	fi
else
	ok "OpenCL and CUDA side by side # SKIP OpenCL and CUDA do not both run here"
fi

[ "$failures" -eq 0 ]
