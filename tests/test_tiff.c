/*
 * tests/test_tiff.c: the TIFF reader and writer (stacks/tiff.h).
 *
 *  - every real stack in $VB_DATA/stacks: shape, dtype, layout, voxel size, and the SHA-256 of
 *    the decoded voxels (all volumes of the 5D one);
 *  - every file in $VB_DATA/bad-tiff: refused with one line naming the file, `info` exits 2;
 *  - files made here with libtiff's own writer: every sample type, both byte orders, classic
 *    and BigTIFF, strips and tiles, every codec this libtiff has, ImageJ hyperstacks, ImageJ's
 *    contiguous > 4 GiB form, OME-TIFF (DimensionOrder, TiffData, units), tifffile "shaped";
 *  - hand-made malformed files: unequal pages (named by number), data past the end of the file,
 *    a tiny compressed file that declares gigabytes, unsupported sample types;
 *  - write/read round trips of every dtype, keeping voxels and voxel size; the temporary name.
 *
 * Expected voxel checksums (SHA-256 of the decoded volume as little-endian samples, x fastest,
 * then y, then z) were computed outside voxbench in two independent ways that agree:
 * Pillow 9.4 (Image.seek over pages, numpy.array), and numpy reading the raw strips at the
 * StripOffsets (zlib for the Deflate file, a separate pure-Python TIFF-LZW decoder for the LZW
 * one). tests/test_tiff_expected.py recomputes them with Pillow and checks this table.
 */
#define _POSIX_C_SOURCE 200809L
#include "../cli/cli.h" /* cmd_info */
#include "../stacks/tiff.h"
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

static char data_dir[1024], tmp_dir[1024];

static const char *path_in(const char *dir, const char *sub, const char *name)
{
	static char buf[16][2048];
	static int k;

	k = (k + 1) % 16;
	snprintf(buf[k], sizeof(buf[k]), "%s%s%s", dir, sub, name);
	return buf[k];
}

static int voxel_hash_is(const struct stack *s, const char *want)
{
	char hex[65];
	struct vb_err err;

	return tiff_sha256_buffer(s->data, stack_bytes(s), hex, &err) == VB_OK && !strcmp(hex, want);
}

static int one_line(const char *msg)
{
	return msg[0] && !strchr(msg, '\n');
}

/* ------------------------------------------------------------ real stacks */

static const struct real {
	const char *file;
	size_t w, h, d, c, t;
	enum dtype dtype;
	enum tiff_layout layout;
	double vx, vz;
	const char *unit;
	const char *sha; /* channel 0, frame 0 */
} reals[] = {
	{ "01_mri-stack_ImageJ_u8.tif", 186, 226, 27, 1, 1, DT_U8, TIFF_LAYOUT_IMAGEJ, 1, 1, "",
	  "0d5d732dfa19e4b526a5ccd7bf3eb9169bf1b939636c1de0ea7fa9a1ae1f6ae2" },
	{ "02_beads_confocal_ImageJ_palette_u8.tif", 150, 150, 41, 1, 1, DT_U8, TIFF_LAYOUT_IMAGEJ,
	  1 / 44.460534, 0.125, "um",
	  "48f59eec91bf54eeac953c42c322ef3446fb5dc4329f27fe20b7d56bf78d01dc" },
	{ "03_psf_measured_plain_u16.tif", 128, 128, 61, 1, 1, DT_U16, TIFF_LAYOUT_PLAIN, 1, 1, "",
	  "2a8bfb987f1221eb703ec4662af22173f767f44296c3250e950f7fc6c8a037a7" },
	{ "04_mri-inverted_OME_LZW_u8.ome.tif", 186, 226, 27, 1, 1, DT_U8, TIFF_LAYOUT_OME, 1, 1, "",
	  "730800dd051b8f3fb63f758d0e6b945684b743c5b1bb2eff4eb57820b5424338" },
	{ "05_mini-t1-head_ImageJ_u16.tif", 32, 32, 32, 1, 1, DT_U16, TIFF_LAYOUT_IMAGEJ, 1.5, 1.5,
	  "mm", "7035aa787b5d98a90a388e324bcdc76f4452ffd8c7fe56632407b14940886043" },
	{ "06_cells3d-nucleus-crop_u16.tif", 50, 60, 60, 1, 1, DT_U16, TIFF_LAYOUT_SHAPED, 1, 1, "",
	  "e9c5053fed2f153bb7fd46567da9dda31b4df9949f8a22505a59fa94e9a924b6" },
	{ "07_mitosis_ImageJ_5D_tzcyx_u16.tif", 171, 196, 5, 2, 3, DT_U16, TIFF_LAYOUT_IMAGEJ,
	  0.0885, 1, "um", "c7fca0c39242336f9fd330bd7c6825085298e3dd6941955a6fd7816dd28c3ec5" },
	{ "08_nuclei_synthetic_deflate_u16.tif", 57, 61, 31, 1, 1, DT_U16, TIFF_LAYOUT_SHAPED, 1, 1,
	  "", "9fc635b29b1a5c419d220eaf753a8ecda93738861ad5bd42a0c1ea4556b939c8" },
};

/* 07: every (channel, frame) volume, frame-major. */
static const char *mitosis_sha[3][2] = {
	{ "c7fca0c39242336f9fd330bd7c6825085298e3dd6941955a6fd7816dd28c3ec5",
	  "e79a66fdb299596b371d56af5f4c2f8e7eb041f37ee66cfa9c296acbdfc703de" },
	{ "c13f29c24f53346298b04ee7fff86a3acca188c05709b2aa3a298f33c4def6bd",
	  "8eb3f101ed4dbd56aea963b66e5a320aa0eb9a8f6ff01cc9980c32968d25c7cd" },
	{ "ccaf9d778e5a844a09b0210091e5ba2995ee6ffedeee6e2fddbb258c23a3c9d2",
	  "217ae0e389f662f501a5b38d2c48a279f1b41ae7f3a4c7a8f52a05291f2f91e4" },
};

static void test_real(const struct real *r)
{
	const char *path = path_in(data_dir, "/stacks/", r->file);
	struct tiff_meta m;
	struct vb_err err = { "" };
	struct stack s;
	int rc = tiff_read_stack(path, NULL, &s, &m, &err);

	CHECK(rc == VB_OK, "%s reads: %s", r->file, rc ? err.msg : "ok");
	if (rc != VB_OK)
		return;
	CHECK(s.width == r->w && s.height == r->h && s.depth == r->d,
	      "%s is %zux%zux%zu (got %zux%zux%zu)", r->file, r->w, r->h, r->d, s.width, s.height,
	      s.depth);
	CHECK(m.channels == r->c && m.frames == r->t, "%s has %zu channels, %zu frames (got %zu, %zu)",
	      r->file, r->c, r->t, m.channels, m.frames);
	CHECK(s.dtype == r->dtype, "%s is %s (got %s)", r->file, dtype_name(r->dtype),
	      dtype_name(s.dtype));
	CHECK(m.layout == r->layout, "%s layout is %s (got %s)", r->file, tiff_layout_name(r->layout),
	      tiff_layout_name(m.layout));
	CHECK(fabs(s.voxel_size[0] / r->vx - 1) < 1e-5 && fabs(s.voxel_size[2] / r->vz - 1) < 1e-5 &&
	      !strcmp(s.unit, r->unit), "%s voxel size %g x %g %s (got %g x %g '%s')", r->file, r->vx,
	      r->vz, r->unit, s.voxel_size[0], s.voxel_size[2], s.unit);
	CHECK(!strcmp(s.name, "file") && !strcmp(s.source, path), "%s: stack name and source", r->file);
	CHECK(voxel_hash_is(&s, r->sha), "%s decoded voxels have the expected SHA-256", r->file);
	stack_free(&s);
}

static void test_mitosis_volumes(void)
{
	const char *path = path_in(data_dir, "/stacks/", reals[6].file);
	struct tiff_file *tf;
	struct tiff_select sel = TIFF_SELECT_INIT;
	struct tiff_meta m;
	struct vb_err err;
	struct stack s;
	int ok = 1, rc;

	if (tiff_open(&tf, path, &m, &err) != VB_OK) {
		CHECK(0, "07 opens: %s", err.msg);
		return;
	}
	CHECK(!strcmp(m.order, "czt") && m.frame_interval > 0.1428 && m.frame_interval < 0.1429,
	      "07: ImageJ plane order czt, frame interval 1/7 s (got %s, %g)", m.order,
	      m.frame_interval);
	for (sel.frame = 0; sel.frame < 3; sel.frame++) {
		for (sel.channel = 0; sel.channel < 2; sel.channel++) {
			rc = tiff_read(tf, &sel, &s, &err);
			ok &= rc == VB_OK && voxel_hash_is(&s, mitosis_sha[sel.frame][sel.channel]);
			if (rc == VB_OK)
				stack_free(&s);
		}
	}
	CHECK(ok, "07: all 6 (channel, frame) volumes decode to the expected SHA-256");
	sel.channel = 2;
	sel.frame = 0;
	rc = tiff_read(tf, &sel, &s, &err);
	CHECK(rc == VB_E_ARGS && strstr(err.msg, "2 channel"), "07: channel 2 refused: %s", err.msg);
	sel.channel = 0;
	sel.frame = 3;
	rc = tiff_read(tf, &sel, &s, &err);
	CHECK(rc == VB_E_ARGS && strstr(err.msg, "3 frame"), "07: frame 3 refused: %s", err.msg);
	tiff_close(tf);
}

static void test_file_hash_and_memory(void)
{
	const char *path = path_in(data_dir, "/stacks/", reals[4].file);
	struct tiff_select sel = TIFF_SELECT_INIT;
	struct tiff_file *tf;
	struct tiff_meta m;
	struct vb_err err;
	struct stack s, s2;
	char hex[65];
	unsigned char *buf = NULL;
	FILE *f;
	long n;
	int rc;

	rc = tiff_sha256_file(path, hex, &err);
	CHECK(rc == VB_OK && !strcmp(hex, "36ef6bd960b57e92d866dc8e1789e1623b10d9b04eb5125491a5ab08"
				       "b06ff2e6"), "file SHA-256 matches sha256sum (got %s)", hex);
	rc = tiff_sha256_buffer("abc", 3, hex, &err);
	CHECK(rc == VB_OK && !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
				       "f20015ad"), "SHA-256 of 'abc' is the FIPS 180-2 value");
	sel.max_bytes = 4096;
	rc = tiff_read_stack(path, &sel, &s, &m, &err);
	CHECK(rc == VB_E_TOO_BIG && s.data == NULL && strstr(err.msg, "MiB"),
	      "a volume over the memory limit is refused before allocation: %s", err.msg);
	f = fopen(path, "rb");
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) == (size_t)n &&
	    tiff_open_memory(&tf, buf, (size_t)n, "mem.tif", &m, &err) == VB_OK) {
		rc = tiff_read(tf, NULL, &s, &err) | tiff_read_stack(path, NULL, &s2, NULL, &err);
		CHECK(rc == VB_OK && !memcmp(s.data, s2.data, stack_bytes(&s)),
		      "tiff_open_memory reads what tiff_open reads");
		stack_free(&s);
		stack_free(&s2);
		tiff_close(tf);
	} else {
		CHECK(0, "tiff_open_memory opens a real stack: %s", err.msg);
	}
	if (f)
		fclose(f);
	free(buf);
}

/* --------------------------------------------------------------- bad files */

/* Run cmd_info with stdout and stderr in files; returns its status, stderr's text in err. */
static int run_info(int argc, char **argv, char *errtext, size_t n)
{
	const char *out = path_in(tmp_dir, "/", "info.out"), *eout = path_in(tmp_dir, "/", "info.err");
	int save1, save2, fd1, fd2, rc;
	FILE *f;
	size_t got = 0;

	fflush(stdout);
	fflush(stderr);
	save1 = dup(1);
	save2 = dup(2);
	fd1 = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fd2 = open(eout, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd1, 1);
	dup2(fd2, 2);
	rc = cmd_info(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	close(fd1);
	close(fd2);
	close(save1);
	close(save2);
	errtext[0] = '\0';
	if ((f = fopen(eout, "r"))) {
		got = fread(errtext, 1, n - 1, f);
		fclose(f);
	}
	errtext[got] = '\0';
	return rc;
}

static void test_bad(const char *name)
{
	const char *path = path_in(data_dir, "/bad-tiff/", name);
	char *argv[] = { "info", (char *)path, NULL }, text[4096];
	struct vb_err err = { "" };
	struct stack s;
	int rc = tiff_read_stack(path, NULL, &s, NULL, &err), lines = 0;

	CHECK(rc != VB_OK && s.data == NULL && one_line(err.msg) && strstr(err.msg, name),
	      "bad-tiff/%s refused in one line naming it: %s", name, err.msg);
	rc = run_info(2, argv, text, sizeof(text));
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	CHECK(rc == 2 && lines == 1 && strstr(text, name), "info bad-tiff/%s exits 2 (got %d) with "
	      "one line (got %d)", name, rc, lines);
}

static void test_bad_dir(void)
{
	static const char *known[] = {
		"libtiff_test_ifd_loop_to_first.tif", "libtiff_test_ifd_loop_to_self.tif",
		"pillow_libtiff_segfault.tif", "pillow_oom-225817ca.tif",
		"pillow_seek_too_large.tif", "pillow_tiff_overflow_rows_per_strip.tif",
	};
	char cmd[2200], name[512];
	FILE *ls;
	int n = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		test_bad(known[i]);
	/* and any file added to bad-tiff since (crashes the fuzzer found, for instance) */
	snprintf(cmd, sizeof(cmd), "ls '%s/bad-tiff'", data_dir);
	ls = popen(cmd, "r");
	while (ls && fgets(name, sizeof(name), ls)) {
		name[strcspn(name, "\n")] = '\0';
		int seen = 0;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			seen |= !strcmp(name, known[i]);
		if (!seen && strcmp(name, "README.md"))
			test_bad(name);
		n++;
	}
	if (ls)
		pclose(ls);
	CHECK(n >= 6, "bad-tiff holds the %d malformed files (found %d)", 6, n);
}

static void test_info_good(void)
{
	char *argv[] = { "info", (char *)path_in(data_dir, "/stacks/", reals[6].file), NULL };
	char text[4096], out[8192] = "";
	FILE *f;
	int rc = run_info(2, argv, text, sizeof(text));
	size_t n = 0;

	if ((f = fopen(path_in(tmp_dir, "/", "info.out"), "r"))) {
		n = fread(out, 1, sizeof(out) - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	CHECK(rc == 0 && strstr(out, "171x196x5, 2 channels, 3 frames") &&
	      strstr(out, "ImageJ") && strstr(out, "channel 1 frame 2"),
	      "info on the 5D stack exits 0 and prints dims, layout, every volume");
	char *bad[] = { "info", "--frame", "x", argv[1], NULL };
	CHECK(run_info(4, bad, text, sizeof(text)) == 2 && strstr(text, "--frame"),
	      "info --frame x: exit 2 naming the option");
	char *none[] = { "info", NULL };
	CHECK(run_info(1, none, text, sizeof(text)) == 2, "info without a file: exit 2");
}

/* ------------------------------------------------- files made with libtiff */

struct gen {
	const char *name, *mode; /* mode: "w" little-endian, "wb" big, "w8" BigTIFF ... */
	int bps, fmt, comp, tile, rps, spp;
	uint32_t w, h, d;
	const char *desc;
};

/* The value of voxel (x, y, z) in a made-up file, exactly representable in its type. */
static double pattern(const struct gen *g, uint32_t x, uint32_t y, uint32_t z)
{
	long v = (long)x * 7 + (long)y * 13 + (long)z * 31;

	if (g->fmt == SAMPLEFORMAT_IEEEFP)
		return (double)((float)v * 0.25f - 100.0f);
	if (g->fmt == SAMPLEFORMAT_INT)
		return g->bps == 8 ? v % 200 - 100 : g->bps == 16 ? v * 3 % 60000 - 30000
							: v * 1001 - 2000000000L;
	return g->bps == 8 ? (double)(v % 256) : g->bps == 16 ? (double)(v * 5 % 65536)
							   : (double)v * 100003 + 3e9;
}

static void put(const struct gen *g, unsigned char *p, double v)
{
	if (g->fmt == SAMPLEFORMAT_IEEEFP) {
		float f = (float)v;
		memcpy(p, &f, 4);
	} else if (g->bps == 8) {
		*p = (unsigned char)(long)v;
	} else if (g->bps == 16) {
		uint16_t u = (uint16_t)(long)v;
		memcpy(p, &u, 2);
	} else {
		uint32_t u = g->fmt == SAMPLEFORMAT_INT ? (uint32_t)(int32_t)v : (uint32_t)v;
		memcpy(p, &u, 4);
	}
}

static void gen_fields(TIFF *tif, const struct gen *g, uint32_t z)
{
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, g->w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, g->h);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, g->bps);
	TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, g->fmt);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, g->spp ? g->spp : 1);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, g->spp > 1 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, g->comp);
	if (g->comp == COMPRESSION_LZW || g->comp == COMPRESSION_ADOBE_DEFLATE)
		TIFFSetField(tif, TIFFTAG_PREDICTOR, g->fmt == SAMPLEFORMAT_IEEEFP ? 3 : 2);
	if (g->tile) {
		TIFFSetField(tif, TIFFTAG_TILEWIDTH, g->tile);
		TIFFSetField(tif, TIFFTAG_TILELENGTH, g->tile);
	} else {
		TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, g->rps ? (uint32_t)g->rps : g->h);
	}
	if (z == 0 && g->desc)
		TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, g->desc);
}

static int gen_page(TIFF *tif, const struct gen *g, uint32_t z)
{
	size_t bs = (size_t)g->bps / 8 * (g->spp ? g->spp : 1);
	uint32_t tw = g->tile ? (uint32_t)g->tile : g->w, th = g->tile ? (uint32_t)g->tile : g->h;
	unsigned char *buf = calloc((size_t)tw * th, bs);
	int ok = 1;

	gen_fields(tif, g, z);
	for (uint32_t y0 = 0; y0 < g->h && ok; y0 += th) {
		for (uint32_t x0 = 0; x0 < g->w && ok; x0 += tw) {
			memset(buf, 0, (size_t)tw * th * bs);
			for (uint32_t y = y0; y < y0 + th && y < g->h; y++)
				for (uint32_t x = x0; x < x0 + tw && x < g->w; x++)
					put(g, buf + (((size_t)(y - y0) * tw + (x - x0)) * bs),
					    pattern(g, x, y, z));
			if (g->tile)
				ok = TIFFWriteTile(tif, buf, x0, y0, 0, 0) >= 0;
			else
				for (uint32_t y = 0; y < g->h && ok; y++)
					ok = TIFFWriteScanline(tif, buf + (size_t)y * tw * bs, y, 0) >= 0;
		}
	}
	free(buf);
	return ok && TIFFWriteDirectory(tif);
}

static const char *make(const struct gen *g)
{
	const char *path = path_in(tmp_dir, "/", g->name);
	TIFF *tif = TIFFOpen(path, g->mode);
	int ok = tif != NULL;

	for (uint32_t z = 0; ok && z < g->d; z++)
		ok = gen_page(tif, g, z);
	if (tif)
		TIFFClose(tif);
	return ok ? path : NULL;
}

/* Read a made-up file back; every voxel must equal the pattern (within tol for lossy codecs). */
static void check_made(const struct gen *g, enum dtype want, double tol)
{
	const char *path = make(g);
	struct tiff_meta m;
	struct vb_err err = { "" };
	struct stack s;
	double worst = 0;
	int rc;

	if (!path) {
		CHECK(0, "%s: libtiff wrote the test file", g->name);
		return;
	}
	rc = tiff_read_stack(path, NULL, &s, &m, &err);
	CHECK(rc == VB_OK, "%s reads: %s", g->name, rc ? err.msg : "ok");
	if (rc != VB_OK)
		return;
	for (uint32_t z = 0; z < g->d; z++)
		for (uint32_t y = 0; y < g->h; y++)
			for (uint32_t x = 0; x < g->w; x++) {
				double d = fabs(stack_get(&s, x + (size_t)g->w * (y + (size_t)g->h * z)) -
						pattern(g, x, y, z));
				worst = d > worst ? d : worst;
			}
	CHECK(s.dtype == want && s.width == g->w && s.height == g->h && s.depth == g->d &&
	      worst <= tol, "%s: %ux%ux%u %s, voxels match (worst error %g, allowed %g)", g->name,
	      g->w, g->h, g->d, dtype_name(want), worst, tol);
	stack_free(&s);
}

static void test_made_types(void)
{
	static const struct { int bps, fmt; enum dtype want; const char *tag; } types[] = {
		{ 8, SAMPLEFORMAT_UINT, DT_U8, "u8" }, { 16, SAMPLEFORMAT_UINT, DT_U16, "u16" },
		{ 32, SAMPLEFORMAT_UINT, DT_U32, "u32" }, { 8, SAMPLEFORMAT_INT, DT_I32, "i8" },
		{ 16, SAMPLEFORMAT_INT, DT_I32, "i16" }, { 32, SAMPLEFORMAT_INT, DT_I32, "i32" },
		{ 32, SAMPLEFORMAT_IEEEFP, DT_F32, "f32" },
	};
	static const char *modes[] = { "wl", "wb", "w8l", "w8b" };
	char name[64];

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (size_t k = 0; k < 4; k++) {
			snprintf(name, sizeof(name), "t_%s_%s.tif", types[t].tag, modes[k]);
			struct gen g = { name, modes[k], types[t].bps, types[t].fmt, COMPRESSION_NONE,
					 k >= 2 ? 16 : 0, 5, 1, 37, 29, 4, NULL };
			check_made(&g, types[t].want, 0);
		}
	}
}

static void test_made_codecs(void)
{
	static const struct { int comp; const char *tag; } codecs[] = {
		{ COMPRESSION_LZW, "lzw" }, { COMPRESSION_ADOBE_DEFLATE, "deflate" },
		{ COMPRESSION_PACKBITS, "packbits" }, { COMPRESSION_ZSTD, "zstd" },
		{ COMPRESSION_LZMA, "lzma" }, { COMPRESSION_WEBP, "webp" },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (!TIFFIsCODECConfigured((uint16_t)codecs[i].comp)) {
			CHECK(1, "codec %s # SKIP not in this libtiff", codecs[i].tag);
			continue;
		}
		if (codecs[i].comp == COMPRESSION_WEBP)
			continue; /* WebP is 8-bit RGB(A) only: not a codec for grayscale stacks */
		for (int tiled = 0; tiled < 2; tiled++) {
			snprintf(name, sizeof(name), "c_%s_%s.tif", codecs[i].tag,
				 tiled ? "tiles" : "strips");
			struct gen g = { name, tiled ? "w8b" : "wl", 16, SAMPLEFORMAT_UINT,
					 codecs[i].comp, tiled ? 16 : 0, 7, 1, 45, 33, 3, NULL };
			check_made(&g, DT_U16, 0);
			snprintf(name, sizeof(name), "c_%s_f32_%s.tif", codecs[i].tag,
				 tiled ? "tiles" : "strips");
			/* little-endian: libtiff 4.5.0 writes predictor 3 wrongly in big-endian files */
			struct gen f = { name, "wl", 32, SAMPLEFORMAT_IEEEFP, codecs[i].comp,
					 tiled ? 16 : 0, 4, 1, 21, 19, 2, NULL };
			check_made(&f, DT_F32, 0);
		}
	}
	if (TIFFIsCODECConfigured(COMPRESSION_JPEG)) {
		struct gen j = { "c_jpeg.tif", "w", 8, SAMPLEFORMAT_UINT, COMPRESSION_JPEG, 0, 16, 1,
				 48, 32, 2, NULL };
		check_made(&j, DT_U8, 255); /* lossy: only shape and type are asserted */
	}
}

static void test_made_layouts(void)
{
	struct tiff_select sel = TIFF_SELECT_INIT;
	struct tiff_meta m;
	struct vb_err err = { "" };
	struct stack s;
	const char *p;
	int rc;

	/* ImageJ hyperstack: 2 channels, 3 slices, 4 frames; page = c + 2 (z + 3 t) */
	struct gen ij = { "l_imagej.tif", "wb", 16, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 0, 0, 1, 9,
			  7, 24, "ImageJ=1.54f\nimages=24\nchannels=2\nslices=3\nframes=4\n"
			  "hyperstack=true\nunit=micron\nspacing=2.5\nfinterval=3\n" };
	p = make(&ij);
	sel.channel = 1;
	sel.frame = 2;
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_OK && s.depth == 3 && m.channels == 2 && m.frames == 4 &&
	      stack_get(&s, 9 * 7 * 2) == pattern(&ij, 0, 0, 1 + 2 * (2 + 3 * 2)) &&
	      s.voxel_size[2] == 2.5 && !strcmp(s.unit, "um") && m.frame_interval == 3,
	      "ImageJ hyperstack: channel 1 frame 2 slice 2 is page 18, spacing 2.5 um: %s",
	      rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);

	/* OME, XYCZT, mixed units (nm and um), no TiffData: page = c + 2 (z + 3 t) */
	struct gen ome = { "l_ome.ome.tif", "wl", 8, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 0, 0, 1,
			   10, 6, 12, "<?xml version=\"1.0\"?><OME xmlns=\"x\"><Image ID=\"Image:0\">"
			   "<Pixels DimensionOrder=\"XYCZT\" SizeX=\"10\" SizeY=\"6\" SizeZ=\"3\" "
			   "SizeC=\"2\" SizeT=\"2\" Type=\"uint8\" PhysicalSizeX=\"200\" "
			   "PhysicalSizeXUnit=\"nm\" PhysicalSizeY=\"0.2\" PhysicalSizeZ=\"1.5\" "
			   "PhysicalSizeZUnit=\"&#181;m\"/></Image></OME>" };
	p = make(&ome);
	sel.channel = 0;
	sel.frame = 1;
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_OK && m.layout == TIFF_LAYOUT_OME && s.depth == 3 && m.channels == 2 &&
	      !strcmp(m.order, "czt") && stack_get(&s, 60 * 2) == pattern(&ome, 0, 0, 0 + 2 * (2 + 3)) &&
	      fabs(s.voxel_size[0] - 0.2) < 1e-12 && fabs(s.voxel_size[2] - 1.5) < 1e-12 &&
	      !strcmp(s.unit, "um"), "OME XYCZT: frame 1 slice 2 is page 10; 200 nm and 0.2 um "
	      "become 0.2 um: %s", rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);

	/* OME with TiffData: planes stored in reverse page order; frame 1 in another file */
	char desc[4096];
	int k = snprintf(desc, sizeof(desc), "<OME UUID=\"urn:uuid:me\"><Image><Pixels "
			 "DimensionOrder=\"XYZCT\" SizeX=\"8\" SizeY=\"5\" SizeZ=\"4\" SizeC=\"1\" "
			 "SizeT=\"2\">");
	for (int z = 0; z < 4; z++)
		k += snprintf(desc + k, sizeof(desc) - (size_t)k, "<TiffData FirstZ=\"%d\" IFD=\"%d\" "
			      "PlaneCount=\"1\"><UUID FileName=\"l_ome_td.ome.tif\">urn:uuid:me</UUID>"
			      "</TiffData>", z, 3 - z);
	snprintf(desc + k, sizeof(desc) - (size_t)k, "<TiffData FirstT=\"1\" IFD=\"0\" PlaneCount="
		 "\"4\"><UUID FileName=\"other.ome.tif\">urn:uuid:other</UUID></TiffData></Pixels>"
		 "</Image></OME>");
	struct gen td = { "l_ome_td.ome.tif", "wl", 8, SAMPLEFORMAT_UINT, COMPRESSION_NONE, 0, 0, 1,
			  8, 5, 4, desc };
	p = make(&td);
	sel.channel = 0;
	sel.frame = 0;
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_OK && m.frames == 2 && stack_get(&s, 0) == pattern(&td, 0, 0, 3) &&
	      stack_get(&s, 40 * 3) == pattern(&td, 0, 0, 0), "OME TiffData maps z 0 to page 4: %s",
	      rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);
	sel.frame = 1;
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_E_ARGS && strstr(err.msg, "another file"),
	      "OME plane stored in another file: refused: %s", err.msg);

	/* tifffile shaped, with axes and without */
	struct gen sh = { "l_shaped.tif", "wl", 16, SAMPLEFORMAT_UINT, COMPRESSION_ADOBE_DEFLATE, 0,
			  0, 1, 11, 9, 6, "{\"shape\": [2, 3, 9, 11], \"axes\": \"TZYX\"}" };
	p = make(&sh);
	sel.frame = 1;
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_OK && m.layout == TIFF_LAYOUT_SHAPED && m.frames == 2 && s.depth == 3 &&
	      stack_get(&s, 99) == pattern(&sh, 0, 0, 4), "shaped TZYX: frame 1 slice 1 is page 5: %s",
	      rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);
	struct gen sh2 = sh;
	sh2.name = "l_shaped_noaxes.tif";
	sh2.desc = "{\"shape\": [2, 3, 9, 11]}";
	p = make(&sh2);
	rc = p ? tiff_read_stack(p, &sel, &s, &m, &err) : -1;
	CHECK(rc == VB_OK && m.frames == 2 && s.depth == 3, "shaped without axes: [T, Z, Y, X]: %s",
	      rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);
}

/* ImageJ's > 4 GiB form, small: one page whose data are followed by the other images. */
static void test_imagej_contiguous(void)
{
	const char *path = path_in(tmp_dir, "/", "l_contiguous.tif");
	const uint32_t w = 6, h = 4, d = 5;
	uint16_t buf[6 * 4 * 5];
	struct tiff_meta m;
	struct vb_err err = { "" };
	struct stack s;
	TIFF *tif = TIFFOpen(path, "wb");
	int rc;

	for (size_t i = 0; i < w * h * d; i++)
		buf[i] = (uint16_t)(i * 97);
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h);
	TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, "ImageJ=1.54f\nimages=5\nslices=5\n");
	TIFFWriteRawStrip(tif, 0, buf, sizeof(buf)); /* big-endian file: the raw data are swapped */
	TIFFClose(tif);
	rc = tiff_read_stack(path, NULL, &s, &m, &err);
	/* raw bytes went in in host (little-endian) order, so they read back byte-swapped */
	CHECK(rc == VB_OK && m.contiguous && s.depth == 5 &&
	      ((uint16_t *)s.data)[w * h * 3 + 1] == (uint16_t)((((w * h * 3 + 1) * 97) >> 8 & 255) |
								 (((w * h * 3 + 1) * 97) & 255) << 8),
	      "ImageJ contiguous form: one page, 5 images read from the data after it: %s",
	      rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&s);
}

/* ---------------------------------------------------- refusals, hand-made */

static void expect_refused(const char *path, int status, const char *what, const char *label)
{
	struct vb_err err = { "" };
	struct stack s;
	int rc = path ? tiff_read_stack(path, NULL, &s, NULL, &err) : -100;

	CHECK(rc == status && one_line(err.msg) && strstr(err.msg, what),
	      "%s: refused (%s) with '%s': %s", label, vb_status_name(rc), what, err.msg);
}

static void test_made_refusals(void)
{
	struct gen f64 = { "r_f64.tif", "w", 64, SAMPLEFORMAT_IEEEFP, 1, 0, 0, 1, 8, 8, 2, NULL };
	struct gen rgb = { "r_rgb.tif", "w", 8, SAMPLEFORMAT_UINT, 1, 0, 0, 3, 8, 8, 2, NULL };
	const char *path;
	TIFF *tif;

	expect_refused(make(&f64), VB_E_UNSUPPORTED, "64-bit float", "64-bit float");
	expect_refused(make(&rgb), VB_E_UNSUPPORTED, "3 samples per pixel", "RGB");

	/* unequal pages: page 3 is smaller, in another file page 2 is 16-bit */
	path = path_in(tmp_dir, "/", "r_unequal_size.tif");
	tif = TIFFOpen(path, "w");
	for (int z = 0; z < 4; z++) {
		struct gen g = { "", "", 8, SAMPLEFORMAT_UINT, 1, 0, 0, 1, z == 2 ? 6 : 8, 8, 1, NULL };
		gen_page(tif, &g, (uint32_t)z);
	}
	TIFFClose(tif);
	expect_refused(path, VB_E_ARGS, "page 3 is 6x8", "pages of unequal size");
	path = path_in(tmp_dir, "/", "r_unequal_type.tif");
	tif = TIFFOpen(path, "w");
	for (int z = 0; z < 3; z++) {
		struct gen g = { "", "", z == 1 ? 16 : 8, SAMPLEFORMAT_UINT, 1, 0, 0, 1, 8, 8, 1, NULL };
		gen_page(tif, &g, (uint32_t)z);
	}
	TIFFClose(tif);
	expect_refused(path, VB_E_ARGS, "page 2 holds 16-bit", "pages of unequal type");

	/* an ImageJ description promising more images than pages */
	struct gen lie = { "r_imagej_lie.tif", "w", 8, SAMPLEFORMAT_UINT, 1, 0, 0, 1, 8, 8, 3,
			   "ImageJ=1.54f\nimages=30\nslices=30\n" };
	expect_refused(make(&lie), VB_E_ARGS, "30 planes but the file has 3 pages",
		       "ImageJ images= beyond the pages");
}

/* A classic little-endian TIFF of one page, by hand: for sizes libtiff would never write. */
static const char *craft(const char *name, uint32_t w, uint32_t h, uint16_t comp,
			 uint32_t strip_offset, uint32_t strip_bytes, size_t file_size)
{
	const uint16_t tags[] = { 256, 257, 258, 259, 262, 273, 277, 278, 279 };
	const uint32_t vals[] = { w, h, 16, comp, 1, strip_offset, 1, h, strip_bytes };
	unsigned char *b = calloc(file_size, 1);
	const char *path = path_in(tmp_dir, "/", name);
	size_t p = 10;
	FILE *f;

	memcpy(b, "II*\0\x08\0\0\0", 8);
	b[8] = 9;
	for (int i = 0; i < 9; i++, p += 12) {
		uint16_t type = i == 2 || i == 3 || i == 4 || i == 6 ? 3 : 4;
		memcpy(b + p, &tags[i], 2);
		memcpy(b + p + 2, &type, 2);
		b[p + 4] = 1;
		memcpy(b + p + 8, &vals[i], type == 3 ? 2 : 4);
	}
	for (size_t i = 200; i < file_size; i++)
		b[i] = (unsigned char)(i * 31);
	f = fopen(path, "wb");
	if (f) {
		fwrite(b, 1, file_size, f);
		fclose(f);
	}
	free(b);
	return f ? path : NULL;
}

static void test_crafted(void)
{
	expect_refused(craft("x_past_end.tif", 1000, 1000, 1, 200, 2000000, 300), VB_E_ARGS,
		       "past the end", "strip past the end of the file");
	/* libtiff replaces a single strip's too-small byte count by the image size: caught too */
	expect_refused(craft("x_short.tif", 1000, 1000, 1, 200, 100, 300), VB_E_ARGS,
		       "past the end", "uncompressed strip shorter than the image");
	expect_refused(craft("x_bomb.tif", 65535, 65535, 8, 200, 100, 300), VB_E_ARGS,
		       "cannot decode", "300-byte Deflate file declaring 8 GiB");
	expect_refused(craft("x_lzw_garbage.tif", 50, 50, 5, 200, 100, 300), VB_E_ARGS,
		       "cannot be decoded", "LZW strip of garbage");
	expect_refused(path_in(tmp_dir, "/", "does-not-exist.tif"), VB_E_IO, "cannot open",
		       "missing file");
}

/* ----------------------------------------------------------- round trips */

/* ImageJ reads the first directory of its own files and takes the planes to follow each other. */
static int planes_back_to_back(const char *path, uint64_t plane_bytes)
{
	TIFF *tif = TIFFOpen(path, "r");
	uint64_t next = 0;
	int ok = tif != NULL, first = 1;

	while (ok) {
		uint64_t off = TIFFGetStrileOffset(tif, 0);
		ok = TIFFNumberOfStrips(tif) == 1 && TIFFGetStrileByteCount(tif, 0) == plane_bytes &&
		     (first || off == next);
		next = off + plane_bytes;
		first = 0;
		if (!TIFFReadDirectory(tif))
			break;
	}
	if (tif)
		TIFFClose(tif);
	return ok;
}

static void fill(struct stack *s)
{
	for (size_t i = 0; i < stack_voxels(s); i++) {
		double v = (double)(i * 2654435761u % 100000);
		switch (s->dtype) {
		case DT_U8: v = fmod(v, 256); break;
		case DT_U16: v = fmod(v, 65536); break;
		case DT_U32: v = v * 40000; break;
		case DT_I32: v = v * 20000 - 1e9; break;
		default: v = v / 7.0 - 5000; break;
		}
		stack_set(s, i, v);
	}
}

static void test_round_trip(enum dtype t)
{
	char name[64], cmd[1200], dir_list[4096] = "";
	const char *path;
	struct stack a, b;
	struct tiff_meta m;
	struct vb_err err = { "" };
	FILE *ls;
	int rc;

	snprintf(name, sizeof(name), "rt_%s.tif", dtype_name(t));
	path = path_in(tmp_dir, "/", name);
	if (stack_alloc(&a, 33, 17, 9, t, &err) != VB_OK) {
		CHECK(0, "round trip %s: allocate: %s", dtype_name(t), err.msg);
		return;
	}
	fill(&a);
	a.voxel_size[0] = 0.1625;
	a.voxel_size[1] = 0.1625;
	a.voxel_size[2] = 0.3;
	snprintf(a.unit, sizeof(a.unit), "um");
	rc = tiff_write_stack(path, &a, &err);
	CHECK(rc == VB_OK, "round trip %s: written: %s", dtype_name(t), rc ? err.msg : "ok");
	rc = rc ? rc : tiff_read_stack(path, NULL, &b, &m, &err);
	CHECK(rc == VB_OK && b.dtype == t && b.width == 33 && b.height == 17 && b.depth == 9 &&
	      !memcmp(a.data, b.data, stack_bytes(&a)) && m.layout == TIFF_LAYOUT_IMAGEJ,
	      "round trip %s: same dims, dtype and voxels, read as ImageJ: %s", dtype_name(t),
	      rc ? err.msg : "ok");
	CHECK(rc == VB_OK && fabs(b.voxel_size[0] / 0.1625 - 1) < 1e-6 &&
	      fabs(b.voxel_size[1] / 0.1625 - 1) < 1e-6 && b.voxel_size[2] == 0.3 &&
	      !strcmp(b.unit, "um"), "round trip %s: voxel size 0.1625 x 0.1625 x 0.3 um (got %g x "
	      "%g x %g %s)", dtype_name(t), b.voxel_size[0], b.voxel_size[1], b.voxel_size[2], b.unit);
	CHECK(rc == VB_OK && planes_back_to_back(path, 33 * 17 * dtype_size(t)),
	      "round trip %s: planes stored back to back, as ImageJ reads them", dtype_name(t));
	if (rc == VB_OK)
		stack_free(&b);
	stack_free(&a);
	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c tmp-", tmp_dir);
	ls = popen(cmd, "r");
	if (ls && fgets(dir_list, sizeof(dir_list), ls))
		CHECK(atoi(dir_list) == 0, "round trip %s: no temporary file left", dtype_name(t));
	if (ls)
		pclose(ls);
}

static void test_write_errors(void)
{
	struct stack a;
	struct vb_err err = { "" };
	const char *path = path_in(tmp_dir, "/no/such/dir/", "x.tif");
	int rc;

	stack_alloc(&a, 4, 4, 2, DT_U8, &err);
	rc = tiff_write_stack(path, &a, &err);
	CHECK(rc == VB_E_IO && one_line(err.msg) && strstr(err.msg, "x.tif") &&
	      access(path, F_OK) != 0, "writing into a missing folder: VB_E_IO, nothing left: %s",
	      err.msg);
	/* a second write replaces the first whole */
	path = path_in(tmp_dir, "/", "replace.tif");
	rc = tiff_write_stack(path, &a, &err);
	stack_free(&a);
	stack_alloc(&a, 5, 3, 1, DT_F32, &err);
	rc |= tiff_write_stack(path, &a, &err);
	stack_free(&a);
	rc |= tiff_read_stack(path, NULL, &a, NULL, &err);
	CHECK(rc == VB_OK && a.width == 5 && a.depth == 1 && a.dtype == DT_F32,
	      "writing over a file replaces it: %s", rc ? err.msg : "ok");
	if (rc == VB_OK)
		stack_free(&a);
}

int main(void)
{
	const char *d = getenv("VB_DATA"), *t = getenv("TEST_TMP");

	snprintf(data_dir, sizeof(data_dir), "%s", d ? d : "../shared/data");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", t ? t : "/tmp");
	if (!t) {
		char tmpl[] = "/tmp/test_tiff.XXXXXX";
		if (mkdtemp(tmpl))
			snprintf(tmp_dir, sizeof(tmp_dir), "%s", tmpl);
	}
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		test_real(&reals[i]);
	test_mitosis_volumes();
	test_file_hash_and_memory();
	test_bad_dir();
	test_info_good();
	test_made_types();
	test_made_codecs();
	test_made_layouts();
	test_imagej_contiguous();
	test_made_refusals();
	test_crafted();
	for (int dt = 0; dt < DT_COUNT; dt++)
		test_round_trip((enum dtype)dt);
	test_write_errors();
	CHECK_DONE();
}
