/* tests/test_text.c: common/text.c: control characters escaped, UTF-8 never cut. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "../common/vb.h"
#include "check.h"

static void escapes(void)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "plain text", "plain text" },
		{ "a\nb\tc\rd", "a\\nb\\tc\\rd" },
		{ "\x1b]0;x\x07", "\\x1b]0;x\\x07" },
		{ "del\x7f", "del\\x7f" },
		{ "c1 \xc2\x9b csi", "c1 \\u009b csi" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xac", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xac" },
		{ "stray \x80 byte", "stray \\x80 byte" },
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
		{ "cut \xe2\x82", "cut \\xe2\\x82" },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vb_escape_text(cases[i].in, out, sizeof(out));
		CHECK(strcmp(out, cases[i].want) == 0, "escape case %zu gives '%s' (want '%s')", i,
		      out, cases[i].want);
	}
	vb_escape_text("ab\x1b", out, 5);
	CHECK(strcmp(out, "ab") == 0, "an escape that does not fit is left out whole ('%s')", out);
	vb_escape_text("a\xe2\x82\xac", out, 4);
	CHECK(strcmp(out, "a") == 0, "a character that does not fit is left out whole ('%s')", out);
}

static void trims(void)
{
	char s[16], d[6];

	strcpy(s, "ab\xc3");
	vb_utf8_trim(s);
	CHECK(strcmp(s, "ab") == 0, "a lead byte at the end is dropped");
	strcpy(s, "ab\xe2\x82");
	vb_utf8_trim(s);
	CHECK(strcmp(s, "ab") == 0, "two bytes of a three-byte character are dropped");
	strcpy(s, "ab\xe2\x82\xac");
	vb_utf8_trim(s);
	CHECK(strcmp(s, "ab\xe2\x82\xac") == 0, "a whole character stays");
	vb_copy_utf8(d, sizeof(d), "abc\xc3\xa9\xc3\xa9");
	CHECK(strcmp(d, "abc\xc3\xa9") == 0, "copy into 6 bytes keeps 'abc' and one e-acute");
	vb_copy_utf8(d, sizeof(d), "abcd\xc3\xa9");
	CHECK(strcmp(d, "abcd") == 0, "copy never ends inside a character ('%s')", d);
}

static void stream(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	FILE *e = vb_escaping_stream(mem);

	/* a character split over two writes, and the stream's own lines */
	fputs("line one\x1b[31m\n\xe2", e);
	fflush(e);
	fputs("\x82\xac\tend\n", e);
	fclose(e);
	fclose(mem);
	CHECK(buf && strcmp(buf, "line one\\x1b[31m\n\xe2\x82\xac\tend\n") == 0,
	      "the escaping stream keeps lines, tabs and split characters ('%s')", buf);
	free(buf);
}

int main(void)
{
	escapes();
	trims();
	stream();
	CHECK_DONE();
}
