/*
 * The CUDA preamble's conversions and clamp, run on the host: the very functions NVRTC compiles
 * into every kernel (kernels/cuda_preamble.h is C as well as CUDA), checked against the CPU
 * reference's dtype_convert_sat() (OpenCL's convert_<type>_sat: NaN -> 0, toward zero,
 * saturate) over edge values and a sweep of float bit patterns. Needs neither CUDA nor a GPU.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../stacks/stack.h"
#include "check.h"
/* last: its OpenCL spellings (__global, __local...) are macros */
#include "../kernels/cuda_preamble.h"

/* Every 2^32 / SWEEP_STEP-th float bit pattern: all exponents, signs, NaNs and infinities. */
#define SWEEP_STEP 61u

static float from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static double preamble_sat(enum dtype t, float v)
{
	switch (t) {
	case DT_U8: return convert_uchar_sat(v);
	case DT_U16: return convert_ushort_sat(v);
	case DT_U32: return convert_uint_sat(v);
	case DT_I32: return convert_int_sat(v);
	default: return convert_float(v);
	}
}

/* The first float where the preamble and the reference disagree, or 0 mismatches. */
static uint64_t sweep(enum dtype t, float *first_bad)
{
	uint64_t bad = 0;

	for (uint64_t u = 0; u <= UINT32_MAX; u += SWEEP_STEP) {
		float v = from_bits((uint32_t)u);

		if (preamble_sat(t, v) != dtype_convert_sat(t, v) && bad++ == 0)
			*first_bad = v;
	}
	return bad;
}

static void test_edges(void)
{
	static const float edges[] = {
		0.0f, -0.0f, 0.5f, -0.5f, 0.99999994f, 1.0f, -1.0f, 2.9f, -2.9f, 127.5f, 254.99998f,
		255.0f, 255.5f, 256.0f, -128.5f, 65534.996f, 65535.0f, 65535.5f, 65536.0f,
		16777216.0f, 2147483520.0f, 2147483648.0f, -2147483648.0f, -2147483904.0f,
		4294967040.0f, 4294967296.0f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
		1e-45f, INFINITY, -INFINITY, NAN, -NAN,
	};
	int bad = 0;

	for (int t = DT_U8; t <= DT_I32; t++)
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			if (preamble_sat((enum dtype)t, edges[i]) !=
			    dtype_convert_sat((enum dtype)t, edges[i])) {
				bad++;
				CHECK(0, "convert_%s_sat(%.9g) = %.17g, the reference says %.17g",
				      dtype_cl_name((enum dtype)t), edges[i],
				      preamble_sat((enum dtype)t, edges[i]),
				      dtype_convert_sat((enum dtype)t, edges[i]));
			}
	CHECK(bad == 0, "the preamble's _sat conversions match the reference on %zu edge values "
	      "(NaN, infinities, each type's limits and their neighbours)",
	      sizeof(edges) / sizeof(edges[0]));
}

static void test_named_cases(void)
{
	CHECK(convert_uchar_sat(NAN) == 0 && convert_int_sat(NAN) == 0 &&
	      convert_uint_sat(-NAN) == 0, "NaN converts to 0");
	CHECK(convert_uchar_sat(255.9f) == 255 && convert_uchar_sat(-0.9f) == 0,
	      "u8 saturates and rounds toward zero");
	CHECK(convert_int_sat(-2.9f) == -2 && convert_int_sat(2.9f) == 2,
	      "i32 rounds toward zero on both sides");
	CHECK(convert_int_sat(3e9f) == INT_MAX && convert_int_sat(-3e9f) == INT_MIN &&
	      convert_int_sat(-2147483648.0f) == INT_MIN, "i32 saturates at both ends");
	CHECK(convert_uint_sat(4294967296.0f) == UINT32_MAX &&
	      convert_uint_sat(4294967040.0f) == 4294967040u, "u32 saturates at 2^32, exact below");
	CHECK(convert_char_sat(200.0f) == 127 && convert_char_sat(-200.0f) == -128 &&
	      convert_short_sat(-1e9f) == -32768 && convert_short_sat(NAN) == 0,
	      "char and short saturate as signed types");
	CHECK(convert_float(3) == 3.0f && convert_int(-2.9f) == -2,
	      "plain conversions are casts (round toward zero)");
}

static void test_clamp(void)
{
	CHECK(clamp(-5, 0, 9) == 0 && clamp(12, 0, 9) == 9 && clamp(4, 0, 9) == 4 &&
	      clamp(0, 0, 0) == 0, "clamp(int) keeps a value within [lo, hi]");
}

static void test_types(void)
{
	CHECK(sizeof(uchar) == 1 && sizeof(ushort) == 2 && sizeof(uint) == 4 && sizeof(ulong) == 8,
	      "OpenCL's uchar, ushort, uint and ulong have OpenCL's sizes");
}

int main(void)
{
	test_types();
	test_named_cases();
	test_clamp();
	test_edges();
	for (int t = DT_U8; t <= DT_I32; t++) {
		float first = 0;
		uint64_t bad = sweep((enum dtype)t, &first);

		CHECK(bad == 0, "convert_%s_sat agrees with the reference on %u float bit patterns "
		      "(%llu differ, first %.9g)", dtype_cl_name((enum dtype)t),
		      (unsigned)(UINT32_MAX / SWEEP_STEP + 1), (unsigned long long)bad, first);
	}
	CHECK_DONE();
}
