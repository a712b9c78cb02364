/*
 * tests/fuzz_tiff.c: libFuzzer harness for the TIFF reader (stacks/tiff.c).
 *
 * Each input is opened from memory with tiff_open_memory and up to 2 channels x 2 frames are
 * decoded, with at most 64 MiB per volume so that a large but valid declaration is refused
 * rather than reported as an out-of-memory crash. Build and run (see tests/test_tiff_fuzz.sh):
 *
 *	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *		tests/fuzz_tiff.c stacks/tiff.c stacks/stack.c common/vb.c -ltiff -lm -o fuzz_tiff
 *	./fuzz_tiff -max_total_time=60 CORPUS_DIR ../shared/data/bad-tiff ../shared/data/stacks
 *
 * A crash leaves crash-<sha1>: add it to ../shared/data/bad-tiff so that tests/test_tiff.c
 * keeps checking it is refused cleanly.
 */
#include "../stacks/tiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tiff_select sel = TIFF_SELECT_INIT;
	struct tiff_file *tf;
	struct tiff_meta m;
	struct vb_err err;
	struct stack s;

	sel.max_bytes = (uint64_t)64 << 20;
	if (tiff_open_memory(&tf, data, size, "fuzz.tif", &m, &err) != VB_OK)
		return 0;
	for (sel.frame = 0; sel.frame < m.frames && sel.frame < 2; sel.frame++) {
		for (sel.channel = 0; sel.channel < m.channels && sel.channel < 2; sel.channel++) {
			if (tiff_read(tf, &sel, &s, &err) == VB_OK)
				stack_free(&s);
		}
	}
	tiff_close(tf);
	return 0;
}
