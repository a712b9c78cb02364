/*
 * stacks/tiff.c: reading TIFF stacks with libtiff (see tiff.h).
 *
 * tiff_open walks every directory once, checks it (size, sample type, where its strips or tiles
 * lie), remembers its offset, and reads the layout from the first page's description (the
 * ImageJ, tifffile and OME-XML parsers follow the page checks). tiff_read jumps to each page of
 * the selected volume with TIFFSetSubDirectory and decodes it straight into the stack.
 */
#define _POSIX_C_SOURCE 200809L
#include "tiff.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

#include "tiff_capture.h"
#include "tiff_internal.h"

#define MAX_IFDS (1u << 22)          /* directories in one file */
#define MAX_DESCRIPTION (64u << 20)  /* longest ImageDescription parsed */
#define SHARED_SLACK (64u << 20)    /* decoded bytes the file-wide expansion check lets pass */
#define MAX_PLANE_VOXELS ((size_t)1 << 40) /* one page or tile: keeps byte counts far from overflow */

/* ---------------------------------------------------------------- helpers */

static void keep_message(char *dst, size_t n, int *flag, const char *fmt, va_list ap)
{
	char *p;

	if (*flag)
		return;
	vsnprintf(dst, n, fmt, ap);
	for (p = dst; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = ' ';
	*flag = 1;
}

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct capture *c = user;

	(void)tif;
	(void)module;
	if (c)
		keep_message(c->msg, sizeof(c->msg), &c->set, fmt, ap);
	return 1; /* handled: never reaches the global handlers */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct capture *c = user;

	(void)tif;
	(void)module;
	if (c)
		keep_message(c->warning, sizeof(c->warning), &c->warned, fmt, ap);
	return 1;
}

/* " (libtiff: ...)" with its error, else its warning, else "". */
static const char *why(struct tiff_file *tf, char *buf, size_t n)
{
	if (!tf->cap.set && !tf->cap.warned)
		return "";
	snprintf(buf, n, " (libtiff: %s)", tf->cap.set ? tf->cap.msg : tf->cap.warning);
	return buf;
}

/* strtod in the C locale: descriptions use '.', whatever the user's locale says. */
double c_strtod(const char *s, char **end)
{
	static locale_t c_locale;
	locale_t old;
	double v;

	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!c_locale)
		return strtod(s, end);
	old = uselocale(c_locale);
	v = strtod(s, end);
	uselocale(old);
	return v;
}

/* A non-negative decimal integer no larger than max; 0 on success. */
int parse_size(const char *s, size_t max, size_t *out)
{
	unsigned long long v = 0;
	const char *p = s;

	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -1;
	}
	*out = (size_t)v;
	return 0;
}

/* Copy printable text, truncated to fit n bytes. */
void copy_text(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < n; i++)
		dst[i] = (unsigned char)src[i] < 32 || src[i] == 127 ? ' ' : src[i];
	dst[i] = '\0';
}

int positive_finite(double v)
{
	return isfinite(v) && v > 0;
}

/*
 * Normalise a length unit: micrometre spellings become "um". Returns the unit's size in
 * micrometres, or 0 when unknown (the text is then kept, printable ASCII only).
 */
double norm_unit(const char *in, char out[16])
{
	static const struct { const char *name; const char *norm; double um; } units[] = {
		{ "um", "um", 1 }, { "\\u00B5m", "um", 1 }, { "\xC2\xB5m", "um", 1 },
		{ "\xB5m", "um", 1 }, { "\xCE\xBCm", "um", 1 }, { "&#181;m", "um", 1 },
		{ "micron", "um", 1 }, { "microns", "um", 1 }, { "micrometer", "um", 1 },
		{ "nm", "nm", 1e-3 }, { "nanometer", "nm", 1e-3 }, { "mm", "mm", 1e3 },
		{ "millimeter", "mm", 1e3 }, { "cm", "cm", 1e4 }, { "m", "m", 1e6 },
		{ "\xC3\x85", "A", 1e-4 }, { "\\u00C5", "A", 1e-4 }, { "angstrom", "A", 1e-4 },
		{ "inch", "inch", 25400 },
	};
	size_t i, j = 0;

	out[0] = '\0';
	if (!strcmp(in, "pixel") || !strcmp(in, "pixels") || !strcmp(in, "px"))
		return 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(in, units[i].name)) {
			snprintf(out, 16, "%s", units[i].norm);
			return units[i].um;
		}
	}
	for (i = 0; in[i] && j < 15; i++)
		if (in[i] > 32 && in[i] < 127)
			out[j++] = in[i];
	out[j] = '\0';
	return 0;
}

static const char *compression_name(unsigned c)
{
	static const struct { unsigned code; const char *name; } names[] = {
		{ COMPRESSION_NONE, "none" }, { COMPRESSION_CCITTRLE, "CCITT RLE" },
		{ COMPRESSION_CCITTFAX3, "CCITT G3" }, { COMPRESSION_CCITTFAX4, "CCITT G4" },
		{ COMPRESSION_LZW, "LZW" }, { COMPRESSION_OJPEG, "old JPEG" },
		{ COMPRESSION_JPEG, "JPEG" }, { COMPRESSION_ADOBE_DEFLATE, "Deflate" },
		{ COMPRESSION_DEFLATE, "Deflate (old code)" }, { COMPRESSION_PACKBITS, "PackBits" },
		{ COMPRESSION_LZMA, "LZMA" }, { COMPRESSION_ZSTD, "Zstandard" },
		{ COMPRESSION_WEBP, "WebP" }, { COMPRESSION_JXL, "JPEG XL" },
		{ COMPRESSION_LERC, "LERC" }, { COMPRESSION_JBIG, "JBIG" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == c)
			return names[i].name;
	return "unknown";
}

/* ------------------------------------------------------- opening, memory source */

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n)
{
	struct tiff_file *tf = h;
	uint64_t size = tf->meta.file_size;

	if (n < 0 || tf->mem_pos >= size)
		return 0;
	if ((uint64_t)n > size - tf->mem_pos)
		n = (tmsize_t)(size - tf->mem_pos);
	memcpy(buf, tf->mem + tf->mem_pos, (size_t)n);
	tf->mem_pos += (uint64_t)n;
	return n;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
	struct tiff_file *tf = h;
	uint64_t base = whence == SEEK_CUR ? tf->mem_pos : whence == SEEK_END ? tf->meta.file_size : 0;

	if (off > UINT64_MAX - base)
		return (toff_t)-1;
	tf->mem_pos = base + off;
	return tf->mem_pos;
}

static int mem_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t mem_size(thandle_t h)
{
	return ((struct tiff_file *)h)->meta.file_size;
}

static int mem_map(thandle_t h, void **base, toff_t *size)
{
	struct tiff_file *tf = h;

	*base = (void *)(uintptr_t)tf->mem;
	*size = tf->meta.file_size;
	return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

TIFFOpenOptions *tiff_capture_options(struct capture *cap)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();

	if (!opts)
		return NULL;
	TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, cap);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, cap);
	return opts;
}

static TIFFOpenOptions *open_options(struct tiff_file *tf)
{
	TIFFOpenOptions *opts = tiff_capture_options(&tf->cap);

	if (!opts)
		return NULL;
	/* messages libtiff sends without a TIFF handle go nowhere */
	TIFFSetErrorHandler(NULL);
	TIFFSetWarningHandler(NULL);
	return opts;
}

/*
 * "rcm": read, no strip chopping (strips are checked and read as the file has them), no memory
 * map: libtiff then reads uncompressed strips straight into the stack, measured faster.
 */
static int open_fd(struct tiff_file *tf, const char *path, struct vb_err *err)
{
	TIFFOpenOptions *opts = NULL;
	struct stat st;
	char buf[480];
	int fd, rc = VB_OK;

	if ((rc = vb_open_regular(path, "a TIFF file", &fd, err)))
		return rc;
	if (fstat(fd, &st) < 0) {
		rc = vb_errf(err, VB_E_IO, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	tf->meta.file_size = (uint64_t)st.st_size;
	opts = open_options(tf);
	if (!opts) {
		rc = vb_errf(err, VB_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	tf->tif = TIFFFdOpenExt(fd, path, "rcm", opts);
	if (!tf->tif)
		rc = vb_errf(err, VB_E_ARGS, "%s: not a readable TIFF file%s", path,
			     why(tf, buf, sizeof(buf)));
out:
	TIFFOpenOptionsFree(opts);
	if (!tf->tif)
		close(fd);
	return rc;
}

static int open_mem(struct tiff_file *tf, struct vb_err *err)
{
	TIFFOpenOptions *opts = open_options(tf);
	char buf[480];

	if (!opts)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
	tf->tif = TIFFClientOpenExt(tf->name, "rc", tf, mem_read, mem_write, mem_seek, mem_close,
				    mem_size, mem_map, mem_unmap, opts);
	TIFFOpenOptionsFree(opts);
	if (!tf->tif)
		return vb_errf(err, VB_E_ARGS, "%s: not a readable TIFF file%s", tf->name,
			       why(tf, buf, sizeof(buf)));
	return VB_OK;
}

/* -------------------------------------------------------------- page checks */

/* The first full-resolution page's facts, which every other page must share. */
struct page_ref {
	int have;
	uint32_t width, height;
	uint16_t bps, format;
};

static const char *format_name(unsigned format)
{
	return format == SAMPLEFORMAT_INT ? "signed" : format == SAMPLEFORMAT_IEEEFP ? "float"
							: "unsigned";
}

/* Map the page's sample type to a dtype, or refuse it. */
static int sample_type(struct tiff_file *tf, size_t pg, uint16_t bps, uint16_t fmt,
		       struct vb_err *err)
{
	struct tiff_meta *m = &tf->meta;
	int ok = bps == 8 || bps == 16 || bps == 32;

	if (fmt == SAMPLEFORMAT_VOID)
		fmt = SAMPLEFORMAT_UINT;
	tf->widen_signed = fmt == SAMPLEFORMAT_INT && bps != 32;
	if (fmt == SAMPLEFORMAT_UINT && ok)
		m->dtype = bps == 8 ? DT_U8 : bps == 16 ? DT_U16 : DT_U32;
	else if (fmt == SAMPLEFORMAT_INT && ok)
		m->dtype = DT_I32;
	else if (fmt == SAMPLEFORMAT_IEEEFP && bps == 32)
		m->dtype = DT_F32;
	else
		ok = 0;
	if (ok) {
		snprintf(m->file_dtype, sizeof(m->file_dtype), "%c%u",
			 fmt == SAMPLEFORMAT_INT ? 'i' : fmt == SAMPLEFORMAT_IEEEFP ? 'f' : 'u', bps);
		tf->file_bytes = bps / 8u;
		return VB_OK;
	}
	if (fmt == SAMPLEFORMAT_IEEEFP)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s: page %zu holds %u-bit float samples; voxbench reads 32-bit float: "
			       "convert the stack (Fiji: Image > Type > 32-bit)", tf->name, pg, bps);
	if (fmt != SAMPLEFORMAT_UINT && fmt != SAMPLEFORMAT_INT)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s: page %zu has sample format %u (complex or unknown); voxbench "
			       "reads integer and 32-bit float samples", tf->name, pg, fmt);
	return vb_errf(err, VB_E_UNSUPPORTED,
		       "%s: page %zu holds %u-bit samples; voxbench reads 8, 16 and 32-bit samples: "
		       "convert the stack (Fiji: Image > Type > 8-bit or 16-bit)", tf->name, pg, bps);
}

/* Checks on one page that do not depend on the first one. */
static int check_kind(struct tiff_file *tf, size_t pg, struct vb_err *err)
{
	TIFF *tif = tf->tif;
	uint16_t spp = 1, photo = PHOTOMETRIC_MINISBLACK, comp = COMPRESSION_NONE;

	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
		photo = PHOTOMETRIC_MINISBLACK;
	if (spp != 1)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s: page %zu has %u samples per pixel; voxbench reads one (grayscale "
			       "or palette): split RGB or interleaved channels first "
			       "(Fiji: Image > Color > Split Channels)", tf->name, pg, spp);
	if (photo != PHOTOMETRIC_MINISBLACK && photo != PHOTOMETRIC_MINISWHITE &&
	    photo != PHOTOMETRIC_PALETTE && photo != PHOTOMETRIC_MASK &&
	    photo != PHOTOMETRIC_SEPARATED)
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s: page %zu has photometric interpretation %u; voxbench reads "
			       "grayscale and palette stacks", tf->name, pg, photo);
	if (!TIFFIsCODECConfigured(comp))
		return vb_errf(err, VB_E_UNSUPPORTED,
			       "%s: page %zu uses compression %u (%s), which this libtiff cannot "
			       "decode; save the stack uncompressed or with LZW/Deflate",
			       tf->name, pg, comp, compression_name(comp));
	if (!tf->n_page) { /* the first full-resolution page describes the file */
		tf->meta.compression = comp;
		tf->meta.photometric = photo;
		tf->meta.palette = photo == PHOTOMETRIC_PALETTE;
		tf->meta.tiled = TIFFIsTiled(tif);
	}
	return VB_OK;
}

static int check_same(struct tiff_file *tf, size_t pg, struct page_ref *ref, struct vb_err *err)
{
	TIFF *tif = tf->tif;
	uint32_t w = 0, h = 0;
	uint16_t bps = 1, fmt = SAMPLEFORMAT_UINT;

	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h) ||
	    !w || !h)
		return vb_errf(err, VB_E_ARGS, "%s: page %zu has no image size (ImageWidth/"
			       "ImageLength missing or zero); the file is corrupt", tf->name, pg);
	if ((uint64_t)w * h > MAX_PLANE_VOXELS)
		return vb_errf(err, VB_E_ARGS, "%s: page %zu declares %ux%u pixels, more than any "
			       "microscope writes; the file is corrupt", tf->name, pg, (unsigned)w,
			       (unsigned)h);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
	if (fmt == SAMPLEFORMAT_VOID)
		fmt = SAMPLEFORMAT_UINT;
	if (!ref->have) {
		*ref = (struct page_ref){ 1, w, h, bps, fmt };
		return sample_type(tf, pg, bps, fmt, err);
	}
	if (w != ref->width || h != ref->height)
		return vb_errf(err, VB_E_ARGS,
			       "%s: page %zu is %ux%u but the first page is %ux%u; voxbench reads "
			       "stacks whose pages share one size", tf->name, pg, (unsigned)w,
			       (unsigned)h, (unsigned)ref->width, (unsigned)ref->height);
	if (bps != ref->bps || fmt != ref->format)
		return vb_errf(err, VB_E_ARGS,
			       "%s: page %zu holds %u-bit %s samples but the first page %u-bit %s ones; "
			       "voxbench reads stacks whose pages share one type", tf->name, pg, bps,
			       format_name(fmt), ref->bps, format_name(ref->format));
	return VB_OK;
}

/* Expected bytes of one strip (or tile) and how many the page needs; 0 on success. */
static int strile_geometry(struct tiff_file *tf, uint64_t *need, uint64_t *count)
{
	TIFF *tif = tf->tif;
	uint64_t w = tf->meta.width, h = tf->meta.height, row = w * tf->file_bytes;
	uint32_t tw = 0, th = 0, rps = 0;
	size_t tile;

	if (TIFFIsTiled(tif)) {
		if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) ||
		    !TIFFGetField(tif, TIFFTAG_TILELENGTH, &th) || !tw || !th ||
		    vb_mul_size(tw, th, &tile) < 0 || tile > MAX_PLANE_VOXELS)
			return -1;
		*need = (uint64_t)tile * tf->file_bytes;
		*count = ((w + tw - 1) / tw) * ((h + th - 1) / th);
		return TIFFTileSize64(tif) == *need ? 0 : -1;
	}
	TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
	if (!rps || rps > h)
		rps = (uint32_t)h;
	*need = rps * row;
	*count = (h + rps - 1) / rps;
	return TIFFScanlineSize64(tif) == row ? 0 : -1;
}

/*
 * How many times larger than its compressed bytes a codec's output can be: Deflate tops out at
 * 1032:1, PackBits at 64:1, an LZW code at 4096 bytes, a zstd RLE block at 128 KiB from 4 bytes.
 * Others get a loose bound; host memory is the second gate.
 */
static uint64_t max_ratio(unsigned comp)
{
	switch (comp) {
	case COMPRESSION_NONE: return 1;
	case COMPRESSION_PACKBITS: return 64;
	case COMPRESSION_ADOBE_DEFLATE:
	case COMPRESSION_DEFLATE: return 1100;
	case COMPRESSION_LZW: return 4096;
	case COMPRESSION_ZSTD: return 40000;
	default: return (uint64_t)1 << 20;
	}
}

/* Bytes one strip (or tile) i decodes to: the last strip may hold fewer rows. */
static uint64_t strile_bytes(struct tiff_file *tf, uint64_t i, uint64_t count, uint64_t need)
{
	uint64_t row = (uint64_t)tf->meta.width * tf->file_bytes, rps = need / row;

	if (TIFFIsTiled(tf->tif) || i + 1 < count || tf->meta.height % rps == 0)
		return need;
	return (tf->meta.height % rps) * row;
}

/* Note the bytes of one strip or tile; pages pointing at the previous one's are common. */
static int add_range(struct tiff_file *tf, uint64_t off, uint64_t bc, struct vb_err *err)
{
	struct data_range *grown;

	if (tf->n_ranges && tf->ranges[tf->n_ranges - 1].off == off &&
	    tf->ranges[tf->n_ranges - 1].end == off + bc)
		return VB_OK;
	if (tf->n_ranges == tf->cap_ranges) {
		size_t cap = tf->cap_ranges ? 2 * tf->cap_ranges : 64;

		grown = realloc(tf->ranges, cap * sizeof(*grown));
		if (!grown)
			return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
		tf->ranges = grown;
		tf->cap_ranges = cap;
	}
	tf->ranges[tf->n_ranges++] = (struct data_range){ off, off + bc };
	return VB_OK;
}

static int range_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct data_range *)a)->off, y = ((const struct data_range *)b)->off;

	return (x > y) - (x < y);
}

/*
 * The whole file against what all its pages decode to: bytes that several pages (or strips)
 * share count once, so 64 pages pointing at one small Deflate strip cannot declare a 64 times
 * larger image than that strip can hold.
 */
static int check_shared_data(struct tiff_file *tf, struct vb_err *err)
{
	uint64_t have = 0, covered = 0;

	qsort(tf->ranges, tf->n_ranges, sizeof(*tf->ranges), range_cmp);
	for (size_t i = 0; i < tf->n_ranges; i++) {
		uint64_t from = tf->ranges[i].off > covered ? tf->ranges[i].off : covered;

		if (tf->ranges[i].end > from)
			have += tf->ranges[i].end - from;
		if (tf->ranges[i].end > covered)
			covered = tf->ranges[i].end;
	}
	free(tf->ranges);
	tf->ranges = NULL;
	tf->n_ranges = tf->cap_ranges = 0;
	/* small files whose identical pages share a strip are fine: only floods are refused */
	if (tf->ratio_max && tf->decoded_total / tf->ratio_max > have &&
	    tf->decoded_total > SHARED_SLACK)
		return vb_errf(err, VB_E_ARGS, "%s: its %zu pages declare %llu bytes of image but "
			       "their strips share %llu bytes of data, more than %llu:1 counted once; "
			       "the file is corrupt or made to fill memory", tf->name, tf->n_page,
			       (unsigned long long)tf->decoded_total, (unsigned long long)have,
			       (unsigned long long)tf->ratio_max);
	return VB_OK;
}

/*
 * Every strip or tile the page needs must lie inside the file; uncompressed ones must hold the
 * bytes their rows need, compressed ones no more than the codec can expand to. This is what
 * stops a small file from declaring a huge image.
 */
static int check_data(struct tiff_file *tf, size_t pg, struct vb_err *err)
{
	TIFF *tif = tf->tif;
	const char *kind = TIFFIsTiled(tif) ? "tile" : "strip";
	uint64_t need, off, bc, size = tf->meta.file_size, sum = 0, out = 0, want, count;
	uint32_t i, have = TIFFIsTiled(tif) ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
	uint16_t comp = COMPRESSION_NONE;
	int e1 = 0, e2 = 0;

	if (strile_geometry(tf, &need, &count) < 0)
		return vb_errf(err, VB_E_ARGS, "%s: page %zu has an inconsistent %s layout; the file "
			       "is corrupt", tf->name, pg, kind);
	if (have < count || count > size)
		return vb_errf(err, VB_E_ARGS, "%s: page %zu has %u %ss but its size needs %llu; the "
			       "file is corrupt", tf->name, pg, have, kind, (unsigned long long)count);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
	for (i = 0; i < count; i++) {
		off = TIFFGetStrileOffsetWithErr(tif, i, &e1);
		bc = TIFFGetStrileByteCountWithErr(tif, i, &e2);
		want = strile_bytes(tf, i, count, need);
		if (e1 || e2 || bc == 0)
			return vb_errf(err, VB_E_ARGS, "%s: page %zu: %s %u has no data; the file is "
				       "corrupt", tf->name, pg, kind, i);
		if (off > size || bc > size - off)
			return vb_errf(err, VB_E_ARGS, "%s: page %zu: %s %u lies past the end of the "
				       "file (%llu + %llu > %llu bytes); the file is truncated or "
				       "corrupt", tf->name, pg, kind, i, (unsigned long long)off,
				       (unsigned long long)bc, (unsigned long long)size);
		if (comp == COMPRESSION_NONE && bc < want)
			return vb_errf(err, VB_E_ARGS, "%s: page %zu: uncompressed %s %u holds %llu "
				       "bytes but the declared %zux%zu image needs %llu; the file is "
				       "corrupt", tf->name, pg, kind, i, (unsigned long long)bc,
				       tf->meta.width, tf->meta.height, (unsigned long long)want);
		sum += bc;
		out += want;
		if (add_range(tf, off, bc, err))
			return VB_E_NOMEM;
	}
	tf->decoded_total += out;
	if (max_ratio(comp) > tf->ratio_max)
		tf->ratio_max = max_ratio(comp);
	if (out / max_ratio(comp) > sum)
		return vb_errf(err, VB_E_ARGS, "%s: page %zu: %llu bytes of %s data cannot decode to "
			       "the declared %zux%zu image (%llu bytes, more than %llu:1); the file "
			       "is corrupt", tf->name, pg, (unsigned long long)sum,
			       compression_name(comp), tf->meta.width, tf->meta.height,
			       (unsigned long long)out, (unsigned long long)max_ratio(comp));
	return VB_OK;
}

/* Keep the first page's description and resolution for the layout parsers. */
static int keep_first(struct tiff_file *tf, struct vb_err *err)
{
	TIFF *tif = tf->tif;
	char *s = NULL;
	size_t n;

	if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &s) && s) {
		n = strnlen(s, MAX_DESCRIPTION);
		tf->description = malloc(n + 1);
		if (!tf->description)
			return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
		memcpy(tf->description, s, n);
		tf->description[n] = '\0';
	}
	if (TIFFGetField(tif, TIFFTAG_SOFTWARE, &s) && s)
		copy_text(tf->meta.software, sizeof(tf->meta.software), s);
	if (!TIFFGetField(tif, TIFFTAG_XRESOLUTION, &tf->xres))
		tf->xres = 0;
	if (!TIFFGetField(tif, TIFFTAG_YRESOLUTION, &tf->yres))
		tf->yres = 0;
	TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &tf->res_unit);
	return VB_OK;
}

static int push_ifd(struct tiff_file *tf, int reduced, struct vb_err *err)
{
	void *p;
	size_t cap;

	if (tf->n_ifd >= MAX_IFDS)
		return vb_errf(err, VB_E_UNSUPPORTED, "%s: more than %u pages; voxbench reads "
			       "smaller files", tf->name, MAX_IFDS);
	if ((tf->n_ifd & (tf->n_ifd - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		cap = tf->n_ifd ? 2 * tf->n_ifd : 1;
		p = realloc(tf->ifd, cap * sizeof(*tf->ifd));
		if (!p)
			return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
		tf->ifd = p;
		p = realloc(tf->page, cap * sizeof(*tf->page));
		if (!p)
			return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
		tf->page = p;
	}
	tf->ifd[tf->n_ifd] = TIFFCurrentDirOffset(tf->tif);
	if (!reduced)
		tf->page[tf->n_page++] = tf->n_ifd;
	tf->n_ifd++;
	return VB_OK;
}

static int check_page(struct tiff_file *tf, struct page_ref *ref, struct vb_err *err)
{
	size_t pg = tf->n_ifd + 1; /* 1-based in messages, as Fiji numbers slices */
	uint32_t sub = 0;
	int rc;

	if (tf->n_ifd == 0 && (rc = keep_first(tf, err)) != VB_OK)
		return rc;
	TIFFGetFieldDefaulted(tf->tif, TIFFTAG_SUBFILETYPE, &sub);
	if (sub & FILETYPE_REDUCEDIMAGE) {
		tf->meta.skipped_pages++;
		return push_ifd(tf, 1, err);
	}
	if ((rc = check_same(tf, pg, ref, err)) != VB_OK || (rc = check_kind(tf, pg, err)) != VB_OK)
		return rc;
	tf->meta.width = ref->width;
	tf->meta.height = ref->height;
	if ((rc = check_data(tf, pg, err)) != VB_OK)
		return rc;
	return push_ifd(tf, 0, err);
}

/* Stop at the last directory; a chain that loops or points nowhere is refused. */
static int next_page(struct tiff_file *tf, int *done, struct vb_err *err)
{
	char buf[480];

	*done = TIFFLastDirectory(tf->tif);
	if (*done && !tf->cap.set)
		return VB_OK;
	tf->cap.warned = 0;
	if (!tf->cap.set && TIFFReadDirectory(tf->tif) && !tf->cap.set)
		return VB_OK;
	if (strstr(tf->cap.warning, "looping") && !tf->cap.set)
		return vb_errf(err, VB_E_ARGS, "%s: the chain of pages loops back after page %zu%s; "
			       "the file is corrupt", tf->name, tf->n_ifd, why(tf, buf, sizeof(buf)));
	return vb_errf(err, VB_E_ARGS, "%s: page %zu cannot be read%s; the file is truncated or "
		       "corrupt", tf->name, tf->n_ifd + 1, why(tf, buf, sizeof(buf)));
}

static int scan_pages(struct tiff_file *tf, struct vb_err *err)
{
	struct page_ref ref = { 0 };
	int rc, done = 0;

	while (!done) {
		if ((rc = check_page(tf, &ref, err)) != VB_OK ||
		    (rc = next_page(tf, &done, err)) != VB_OK)
			return rc;
	}
	if (!tf->n_page)
		return vb_errf(err, VB_E_ARGS, "%s: has only reduced-resolution pages; no image to "
			       "read", tf->name);
	if ((rc = check_shared_data(tf, err)) != VB_OK)
		return rc;
	tf->meta.pages = tf->n_ifd;
	tf->meta.bigtiff = TIFFIsBigTIFF(tf->tif);
	tf->meta.big_endian = TIFFIsBigEndian(tf->tif);
	snprintf(tf->meta.compression_name, sizeof(tf->meta.compression_name), "%s",
		 compression_name(tf->meta.compression));
	return VB_OK;
}

/* ------------------------------------------------------------------ opening */

static struct tiff_file *new_file(const char *name)
{
	struct tiff_file *tf = calloc(1, sizeof(*tf));

	if (!tf)
		return NULL;
	snprintf(tf->name, sizeof(tf->name), "%s", name);
	tf->meta.channels = tf->meta.frames = 1;
	tf->meta.voxel_size[0] = tf->meta.voxel_size[1] = tf->meta.voxel_size[2] = 1.0;
	snprintf(tf->meta.order, sizeof(tf->meta.order), "zct");
	tf->stride_z = tf->stride_c = tf->stride_t = 1;
	return tf;
}

static int finish_open(struct tiff_file *tf, struct tiff_file **out, struct tiff_meta *meta,
		       int rc, struct vb_err *err)
{
	if (rc == VB_OK)
		rc = scan_pages(tf, err);
	if (rc == VB_OK)
		rc = tiff_read_layout(tf, err);
	if (rc != VB_OK) {
		tiff_close(tf);
		return rc;
	}
	if (meta)
		*meta = tf->meta;
	*out = tf;
	return VB_OK;
}

int tiff_open(struct tiff_file **out, const char *path, struct tiff_meta *meta,
	      struct vb_err *err)
{
	struct tiff_file *tf;

	*out = NULL;
	tf = new_file(path);
	if (!tf)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", path);
	return finish_open(tf, out, meta, open_fd(tf, path, err), err);
}

int tiff_open_memory(struct tiff_file **out, const void *data, size_t size, const char *name,
		     struct tiff_meta *meta, struct vb_err *err)
{
	struct tiff_file *tf;

	*out = NULL;
	tf = new_file(name);
	if (!tf)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", name);
	tf->mem = data;
	tf->meta.file_size = size;
	return finish_open(tf, out, meta, open_mem(tf, err), err);
}

void tiff_close(struct tiff_file *tf)
{
	if (!tf)
		return;
	if (tf->tif)
		TIFFClose(tf->tif);
	free(tf->ranges);
	free(tf->ifd);
	free(tf->page);
	free(tf->plane_ifd);
	free(tf->description);
	free(tf);
}

/* ------------------------------------------------------------------ reading */

/* Widen n i8 or i16 samples at the start of plane to i32, in place (last first). */
static void widen(unsigned char *plane, size_t n, size_t from)
{
	int32_t v;

	for (size_t i = n; i-- > 0;) {
		if (from == 1) {
			v = (int8_t)plane[i];
		} else {
			int16_t s;
			memcpy(&s, plane + 2 * i, 2);
			v = s;
		}
		memcpy(plane + 4 * i, &v, 4);
	}
}

static int decode_failed(struct tiff_file *tf, size_t pg, const char *kind, uint32_t i,
			 struct vb_err *err)
{
	char buf[480];

	return vb_errf(err, VB_E_ARGS, "%s: page %zu: %s %u cannot be decoded%s; the file is "
		       "corrupt", tf->name, pg, kind, i, why(tf, buf, sizeof(buf)));
}

static int read_strips(struct tiff_file *tf, size_t pg, unsigned char *dst, struct vb_err *err)
{
	size_t w = tf->meta.width, h = tf->meta.height, row = w * tf->file_bytes, y, rows;
	uint32_t rps = 0, s;
	tmsize_t want;

	TIFFGetFieldDefaulted(tf->tif, TIFFTAG_ROWSPERSTRIP, &rps);
	if (!rps || rps > h)
		rps = (uint32_t)h;
	for (y = 0, s = 0; y < h; y += rps, s++) {
		rows = h - y < rps ? h - y : rps;
		want = (tmsize_t)(rows * row);
		if (TIFFReadEncodedStrip(tf->tif, s, dst + y * row, want) != want)
			return decode_failed(tf, pg, "strip", s, err);
	}
	return VB_OK;
}

static int read_tiles(struct tiff_file *tf, size_t pg, unsigned char *dst, uint64_t limit,
		      struct vb_err *err)
{
	size_t w = tf->meta.width, h = tf->meta.height, fb = tf->file_bytes, x, y, r, cols;
	uint32_t tw = 0, th = 0, tile;
	tmsize_t bytes;
	unsigned char *buf = NULL;
	int rc = VB_OK;

	TIFFGetField(tf->tif, TIFFTAG_TILEWIDTH, &tw);
	TIFFGetField(tf->tif, TIFFTAG_TILELENGTH, &th);
	bytes = (tmsize_t)((uint64_t)tw * th * fb);
	if (limit && (uint64_t)bytes > limit)
		return vb_errf(err, VB_E_TOO_BIG, "%s: page %zu has %ux%u tiles, larger than the "
			       "memory available; the file is corrupt", tf->name, pg, tw, th);
	buf = malloc((size_t)bytes);
	if (!buf)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory for a %ux%u tile", tf->name, tw, th);
	for (y = 0; y < h && rc == VB_OK; y += th) {
		for (x = 0; x < w; x += tw) {
			tile = TIFFComputeTile(tf->tif, (uint32_t)x, (uint32_t)y, 0, 0);
			if (TIFFReadEncodedTile(tf->tif, tile, buf, bytes) != bytes) {
				rc = decode_failed(tf, pg, "tile", tile, err);
				break;
			}
			cols = (w - x < tw ? w - x : tw) * fb;
			for (r = 0; r < th && y + r < h; r++)
				memcpy(dst + ((y + r) * w + x) * fb, buf + r * tw * fb, cols);
		}
	}
	free(buf);
	return rc;
}

/* ImageJ's contiguous form: plane p is raw data right after plane p - 1. */
static int read_contiguous(struct tiff_file *tf, size_t p, unsigned char *dst,
			   struct vb_err *err)
{
	TIFF *tif = tf->tif;
	thandle_t h = TIFFClientdata(tif);
	size_t n = tf->meta.width * tf->meta.height, bytes = n * tf->file_bytes, done = 0;
	uint64_t off = tf->contiguous_offset + (uint64_t)p * bytes;
	tmsize_t got;

	if (TIFFGetSeekProc(tif)(h, off, SEEK_SET) != off)
		return vb_errf(err, VB_E_IO, "%s: cannot seek to image %zu", tf->name, p + 1);
	while (done < bytes) {
		got = TIFFGetReadProc(tif)(h, dst + done, (tmsize_t)(bytes - done));
		if (got <= 0)
			return vb_errf(err, VB_E_IO, "%s: image %zu is cut short; the file is "
				       "truncated", tf->name, p + 1);
		done += (size_t)got;
	}
	if (TIFFIsByteSwapped(tif) && tf->file_bytes == 2)
		TIFFSwabArrayOfShort((uint16_t *)(void *)dst, (tmsize_t)n);
	else if (TIFFIsByteSwapped(tif) && tf->file_bytes == 4)
		TIFFSwabArrayOfLong((uint32_t *)(void *)dst, (tmsize_t)n);
	return VB_OK;
}

/* The directory that holds plane (z, c, t). */
static int plane_ifd(struct tiff_file *tf, size_t z, size_t c, size_t t, size_t *ifd,
		     struct vb_err *err)
{
	size_t p = z * tf->stride_z + c * tf->stride_c + t * tf->stride_t;
	int64_t v;

	if (!tf->plane_ifd) {
		*ifd = tf->page[p];
		return VB_OK;
	}
	v = tf->plane_ifd[p];
	if (v >= 0) {
		*ifd = (size_t)v;
		return VB_OK;
	}
	return vb_errf(err, VB_E_ARGS, "%s: plane z=%zu c=%zu t=%zu is %s; open the file of the "
		       "OME-TIFF set that holds it", tf->name, z, c, t,
		       v == -2 ? "stored in another file" : "not mapped to any page by the OME "
		       "TiffData");
}

/* Go to a page and check it again (OME may point at pages the scan skipped). */
static int enter_page(struct tiff_file *tf, size_t ifd, struct vb_err *err)
{
	struct page_ref ref = { 1, (uint32_t)tf->meta.width, (uint32_t)tf->meta.height, 0, 0 };
	size_t pg = ifd + 1;
	char buf[480];
	int rc;

	tf->cap.set = 0;
	if (!TIFFSetSubDirectory(tf->tif, tf->ifd[ifd]))
		return vb_errf(err, VB_E_ARGS, "%s: page %zu cannot be read%s; the file is corrupt",
			       tf->name, pg, why(tf, buf, sizeof(buf)));
	ref.bps = (uint16_t)(tf->file_bytes * 8);
	ref.format = tf->meta.dtype == DT_F32 ? SAMPLEFORMAT_IEEEFP
		     : tf->meta.dtype == DT_I32 ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
	if ((rc = check_same(tf, pg, &ref, err)) != VB_OK || (rc = check_kind(tf, pg, err)) != VB_OK)
		return rc;
	return check_data(tf, pg, err);
}

static int read_plane(struct tiff_file *tf, size_t z, size_t c, size_t t, unsigned char *dst,
		      uint64_t limit, struct vb_err *err)
{
	size_t ifd = 0, n = tf->meta.width * tf->meta.height;
	int rc;

	if (tf->contiguous_offset)
		rc = read_contiguous(tf, z * tf->stride_z + c * tf->stride_c + t * tf->stride_t, dst,
				     err);
	else if ((rc = plane_ifd(tf, z, c, t, &ifd, err)) == VB_OK &&
		 (rc = enter_page(tf, ifd, err)) == VB_OK)
		rc = TIFFIsTiled(tf->tif) ? read_tiles(tf, ifd + 1, dst, limit, err)
					  : read_strips(tf, ifd + 1, dst, err);
	if (rc == VB_OK && tf->widen_signed)
		widen(dst, n, tf->file_bytes);
	return rc;
}

/* The volume's size against the limit, before anything is allocated. */
static int check_memory(struct tiff_file *tf, uint64_t limit, struct vb_err *err)
{
	struct tiff_meta *m = &tf->meta;
	size_t n, bytes;

	if (vb_mul_size(m->width, m->height, &n) < 0 || vb_mul_size(n, m->depth, &n) < 0 ||
	    vb_mul_size(n, dtype_size(m->dtype), &bytes) < 0)
		return vb_errf(err, VB_E_TOO_BIG, "%s: a %zux%zux%zu volume overflows the address "
			       "space; the file is corrupt", tf->name, m->width, m->height, m->depth);
	if (limit && bytes > limit)
		return vb_errf(err, VB_E_TOO_BIG, "%s: one %zux%zux%zu %s volume needs %.1f MiB but "
			       "only %.1f MiB may be allocated; free memory or crop the stack",
			       tf->name, m->width, m->height, m->depth, dtype_name(m->dtype),
			       bytes / 1048576.0, limit / 1048576.0);
	return VB_OK;
}

static void describe(struct tiff_file *tf, struct stack *s)
{
	snprintf(s->name, sizeof(s->name), "file");
	snprintf(s->source, sizeof(s->source), "%s", tf->name);
	memcpy(s->voxel_size, tf->meta.voxel_size, sizeof(s->voxel_size));
	snprintf(s->unit, sizeof(s->unit), "%s", tf->meta.unit);
}

int tiff_read(struct tiff_file *tf, const struct tiff_select *sel, struct stack *out,
	      struct vb_err *err)
{
	static const struct tiff_select none = TIFF_SELECT_INIT;
	struct tiff_meta *m = &tf->meta;
	size_t plane_out;
	uint64_t limit;
	int rc;

	memset(out, 0, sizeof(*out));
	sel = sel ? sel : &none;
	if (sel->channel >= m->channels || sel->frame >= m->frames)
		return vb_errf(err, VB_E_ARGS, "%s: no channel %zu frame %zu: the file has %zu "
			       "channel(s) and %zu frame(s), numbered from 0", tf->name, sel->channel,
			       sel->frame, m->channels, m->frames);
	limit = sel->max_bytes ? sel->max_bytes : vb_host_memory_available();
	if ((rc = check_memory(tf, limit, err)) != VB_OK)
		return rc;
	rc = stack_alloc(out, m->width, m->height, m->depth, m->dtype, err);
	if (rc != VB_OK) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		return vb_errf(err, rc, "%s: %s", tf->name, msg);
	}
	plane_out = m->width * m->height * dtype_size(m->dtype);
	for (size_t z = 0; z < m->depth && rc == VB_OK; z++)
		rc = read_plane(tf, z, sel->channel, sel->frame,
				(unsigned char *)out->data + z * plane_out, limit, err);
	if (rc != VB_OK) {
		stack_free(out);
		return rc;
	}
	describe(tf, out);
	return VB_OK;
}

int tiff_read_stack(const char *path, const struct tiff_select *sel, struct stack *out,
		    struct tiff_meta *meta, struct vb_err *err)
{
	struct tiff_file *tf;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = tiff_open(&tf, path, meta, err);
	if (rc != VB_OK)
		return rc;
	rc = tiff_read(tf, sel, out, err);
	tiff_close(tf);
	return rc;
}
