/*
 * common/text.c: text from outside voxbench (report fields, file names, driver strings) made
 * safe to show: control characters escaped, UTF-8 never cut inside a character.
 */
#define _GNU_SOURCE
#include "vb.h"
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Bytes of the well-formed UTF-8 character at s (n bytes available): 1..4, 0 when s does not
 * start one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF), -1 when
 * the n bytes are a valid start that is cut short.
 */
static int utf8_char(const unsigned char *s, size_t n)
{
	static const struct { unsigned char lo, hi, len, lo2, hi2; } leads[] = {
		{ 0x00, 0x7f, 1, 0, 0 },       { 0xc2, 0xdf, 2, 0x80, 0xbf },
		{ 0xe0, 0xe0, 3, 0xa0, 0xbf }, { 0xe1, 0xec, 3, 0x80, 0xbf },
		{ 0xed, 0xed, 3, 0x80, 0x9f }, { 0xee, 0xef, 3, 0x80, 0xbf },
		{ 0xf0, 0xf0, 4, 0x90, 0xbf }, { 0xf1, 0xf3, 4, 0x80, 0xbf },
		{ 0xf4, 0xf4, 4, 0x80, 0x8f },
	};

	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		if (s[0] < leads[i].lo || s[0] > leads[i].hi)
			continue;
		for (size_t k = 1; k < leads[i].len; k++) {
			unsigned char lo = k == 1 ? leads[i].lo2 : 0x80, hi = k == 1 ? leads[i].hi2 : 0xbf;

			if (k >= n)
				return -1;
			if (s[k] < lo || s[k] > hi)
				return 0;
		}
		return leads[i].len;
	}
	return 0;
}

/* The escape of the character c of len bytes into buf ("" when it passes as it is). */
static void escape_of(const unsigned char *c, int len, char buf[16])
{
	static const struct { unsigned char c; const char *esc; } named[] = {
		{ '\n', "\\n" }, { '\r', "\\r" }, { '\t', "\\t" },
	};

	buf[0] = '\0';
	if (len == 1 && (c[0] < 0x20 || c[0] == 0x7f)) {
		for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
			if (named[i].c == c[0])
				snprintf(buf, 16, "%s", named[i].esc);
		if (!buf[0])
			snprintf(buf, 16, "\\x%02x", c[0]);
	} else if (len == 2 && c[0] == 0xc2 && c[1] < 0xa0) {
		snprintf(buf, 16, "\\u%04x", c[1]); /* C1 controls: U+0080..U+009F */
	} else if (len <= 0) {
		snprintf(buf, 16, "\\x%02x", c[0]); /* not UTF-8 */
	}
}

/*
 * What to write for the character at s (n bytes): *k bytes of s as they are (esc ""), or the
 * escape in esc, consuming *k bytes. layout: '\n' and '\t' pass (a stream's own lines).
 */
static void next_piece(const unsigned char *s, size_t n, int layout, char esc[16], int *k)
{
	*k = utf8_char(s, n);
	escape_of(s, *k, esc);
	if (layout && *k == 1 && (s[0] == '\n' || s[0] == '\t'))
		esc[0] = '\0';
	if (*k <= 0)
		*k = 1;
}

char *vb_escape_text(const char *in, char *out, size_t len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), used = 0;

	if (!len)
		return out;
	while (n) {
		char esc[16];
		int k;
		size_t w;

		next_piece(s, n, 0, esc, &k);
		w = esc[0] ? strlen(esc) : (size_t)k;
		if (used + w >= len)
			break; /* never half a character or half an escape */
		memcpy(out + used, esc[0] ? esc : (const char *)s, w);
		used += w;
		s += k;
		n -= (size_t)k;
	}
	out[used] = '\0';
	return out;
}

void vb_fputs_escaped(const char *text, FILE *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);

	while (n) {
		char esc[16];
		int k;

		next_piece(s, n, 0, esc, &k);
		if (esc[0])
			fputs(esc, out);
		else
			fwrite(s, 1, (size_t)k, out);
		s += k;
		n -= (size_t)k;
	}
}

void vb_utf8_trim(char *s)
{
	size_t n = strlen(s), start = n;

	/* the last character's lead byte: at most three continuation bytes back */
	while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start > 0 && n - start < 4)
		start--;
	if (start < n && utf8_char((const unsigned char *)s + start, n - start) < 0)
		s[start] = '\0';
}

void vb_copy_utf8(char *dst, size_t len, const char *src)
{
	if (!len)
		return;
	if (snprintf(dst, len, "%s", src) >= (int)len)
		vb_utf8_trim(dst);
}

/* ---- a stream that escapes what passes through it ---- */

struct escaping {
	FILE *to;
	unsigned char pending[4]; /* the start of a character cut by the end of a write */
	size_t npending;
};

static void emit(struct escaping *e, const unsigned char *s, size_t n)
{
	while (n) {
		char esc[16];
		int k;

		if (utf8_char(s, n) < 0) { /* cut by the end of this write: wait for the rest */
			memcpy(e->pending, s, n);
			e->npending = n;
			return;
		}
		next_piece(s, n, 1, esc, &k);
		if (esc[0])
			fputs(esc, e->to);
		else
			fwrite(s, 1, (size_t)k, e->to);
		s += k;
		n -= (size_t)k;
	}
}

static ssize_t escaping_write(void *cookie, const char *buf, size_t size)
{
	struct escaping *e = cookie;
	unsigned char joined[8];
	size_t used = 0;

	while (e->npending && used < size) {
		size_t have = e->npending;

		memcpy(joined, e->pending, have);
		joined[have] = (unsigned char)buf[used++];
		e->npending = 0;
		emit(e, joined, have + 1);
		if (!e->npending)
			break;
	}
	emit(e, (const unsigned char *)buf + used, size - used);
	return (ssize_t)size;
}

static int escaping_close(void *cookie)
{
	struct escaping *e = cookie;
	int rc;

	for (size_t i = 0; i < e->npending; i++)
		fprintf(e->to, "\\x%02x", e->pending[i]);
	rc = fflush(e->to);
	free(e);
	return rc;
}

FILE *vb_escaping_stream(FILE *to)
{
	cookie_io_functions_t io = { .write = escaping_write, .close = escaping_close };
	struct escaping *e = calloc(1, sizeof(*e));
	FILE *f;

	if (!e)
		return NULL;
	e->to = to;
	f = fopencookie(e, "w", io);
	if (!f)
		free(e);
	return f;
}

struct json_t *vb_json_text(const char *text)
{
	char buf[4096];
	json_t *j;

	vb_copy_utf8(buf, sizeof(buf), text ? text : "");
	if ((j = json_string(buf)))
		return j;
	for (char *p = buf; *p; p++) /* not UTF-8: keep its ASCII */
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(buf);
}
