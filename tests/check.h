/*
 * tests/check.h: the check macros of voxbench's C tests.
 *
 * Each check prints "ok - what" or "not ok - what: detail" on stdout (a check that cannot run
 * here says CHECK(1, "what # SKIP why"), counted as skipped); tests/run.sh counts the
 * lines of every test program and ends with "N passed, N failed". A test program exits 1 when
 * any of its checks failed, so a crash or early exit is also counted as a failure.
 */
#ifndef VB_CHECK_H
#define VB_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures __attribute__((unused));

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (cond) {                                                                      \
			printf("ok - ");                                                         \
		} else {                                                                         \
			check_failures++;                                                        \
			printf("not ok - (%s:%d: %s) ", __FILE__, __LINE__, #cond);             \
		}                                                                                \
		printf(__VA_ARGS__);                                                             \
		printf("\n");                                                                    \
		fflush(stdout);                                                                  \
	} while (0)

#define CHECK_NEAR(a, b, tol, ...) CHECK(fabs((double)(a) - (double)(b)) <= (tol), __VA_ARGS__)

#define CHECK_DONE() return check_failures ? 1 : 0

#endif
