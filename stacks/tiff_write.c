/*
 * stacks/tiff_write.c: writing ImageJ TIFF stacks (libtiff), and SHA-256 (OpenSSL EVP).
 */
#define _POSIX_C_SOURCE 200809L
#include "tiff.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <tiffio.h>

#include "tiff_capture.h"

/* Over this much data, classic TIFF's 32-bit offsets run out: write BigTIFF. */
#define CLASSIC_LIMIT (((uint64_t)4 << 30) - ((uint64_t)16 << 20))

/* The shortest %g that reads back as v, with '.' whatever the locale. */
static void fmt_double(char *buf, size_t n, double v)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0), old = (locale_t)0;

	if (c)
		old = uselocale(c);
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (c) {
		uselocale(old);
		freelocale(c);
	}
}

static double voxel(const struct stack *s, int axis)
{
	double v = s->voxel_size[axis];

	return v > 0 && v < 1e300 ? v : 1.0;
}

/* ImageJ's description: what makes Fiji open the pages as a calibrated z stack. */
static void imagej_description(const struct stack *s, char *buf, size_t n)
{
	const char *unit = !strcmp(s->unit, "um") ? "\\u00B5m" : s->unit;
	char z[40];
	size_t k;

	fmt_double(z, sizeof(z), voxel(s, 2));
	k = (size_t)snprintf(buf, n, "ImageJ=1.11a\n");
	if (s->depth > 1)
		k += (size_t)snprintf(buf + k, n - k, "images=%zu\nslices=%zu\n", s->depth, s->depth);
	if (unit[0] && strlen(unit) < 40 && !strpbrk(unit, "\n\r="))
		k += (size_t)snprintf(buf + k, n - k, "unit=%s\n", unit);
	snprintf(buf + k, n - k, "spacing=%s\nloop=false\n", z);
}

static int sample_format(enum dtype t)
{
	return t == DT_F32 ? SAMPLEFORMAT_IEEEFP : t == DT_I32 ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
}

/* The tags of page z; its strip offset and byte count are left for later (deferred). */
static int write_directory(TIFF *tif, const struct stack *s, size_t z, const char *desc)
{
	TIFFSetField(tif, TIFFTAG_SUBFILETYPE, 0);
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)s->width);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)s->height);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (int)(dtype_size(s->dtype) * 8));
	TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, sample_format(s->dtype));
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)s->height);
	TIFFSetField(tif, TIFFTAG_XRESOLUTION, 1.0 / voxel(s, 0));
	TIFFSetField(tif, TIFFTAG_YRESOLUTION, 1.0 / voxel(s, 1));
	TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
	TIFFSetField(tif, TIFFTAG_SOFTWARE, "voxbench " VOXBENCH_VERSION);
	if (z == 0)
		TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, desc);
	return TIFFDeferStrileArrayWriting(tif) && TIFFWriteCheck(tif, 0, "tiff_write_stack") &&
	       TIFFWriteDirectory(tif) ? 0 : -1;
}

/*
 * Second pass: go back to each page in turn, append its plane (raw: uncompressed, native byte
 * order) and fill in its strip offset. The planes end up back to back after all the
 * directories, which is the layout ImageJ assumes: for an ImageJ file it reads the first
 * directory only and takes the other images to follow the first one's data.
 */
static int write_planes(TIFF *tif, const struct stack *s, struct capture *cap)
{
	size_t bytes = s->width * s->height * dtype_size(s->dtype);

	if (!TIFFSetDirectory(tif, 0))
		return -1;
	for (size_t z = 0; z < s->depth && !cap->set; z++) {
		if ((z && !TIFFReadDirectory(tif)) ||
		    TIFFWriteRawStrip(tif, 0, (unsigned char *)s->data + z * bytes,
				      (tmsize_t)bytes) != (tmsize_t)bytes ||
		    !TIFFForceStrileArrayWriting(tif)) {
			if (!cap->set)
				snprintf(cap->msg, sizeof(cap->msg), "page %zu was not written", z + 1);
			cap->set = 1;
		}
	}
	return cap->set ? -1 : 0;
}

static int write_pages(int fd, const char *path, const struct stack *s, struct vb_err *err)
{
	struct capture cap = { "", "", 0, 0 };
	TIFFOpenOptions *opts = tiff_capture_options(&cap);
	TIFF *tif = NULL;
	char desc[256];

	if (!opts) {
		close(fd);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", path);
	}
	/* w+: the second pass reads the directories back */
	tif = TIFFFdOpenExt(fd, path, stack_bytes(s) > CLASSIC_LIMIT ? "w+8" : "w+", opts);
	TIFFOpenOptionsFree(opts);
	if (!tif) {
		close(fd);
		return vb_errf(err, VB_E_IO, "%s: cannot start a TIFF file (libtiff: %s)", path,
			       cap.msg);
	}
	imagej_description(s, desc, sizeof(desc));
	for (size_t z = 0; z < s->depth && !cap.set; z++) {
		if (write_directory(tif, s, z, desc) < 0 && !cap.set) {
			snprintf(cap.msg, sizeof(cap.msg), "directory %zu was not written", z + 1);
			cap.set = 1;
		}
	}
	if (!cap.set)
		write_planes(tif, s, &cap);
	TIFFClose(tif); /* flushes, closes fd */
	if (cap.set)
		return vb_errf(err, VB_E_IO, "%s: cannot write (libtiff: %s); check the free space "
			       "and permissions of the folder", path, cap.msg);
	return VB_OK;
}

int tiff_write_stack(const char *path, const struct stack *s, struct vb_err *err)
{
	char tmp[4200];
	mode_t mask;
	int fd, rc, slot;

	if (!s->data || !s->width || !s->height || !s->depth || s->width > UINT32_MAX ||
	    s->height > UINT32_MAX)
		return vb_errf(err, VB_E_ARGS, "%s: cannot write a %zux%zux%zu stack as TIFF (empty "
			       "or wider than 2^32)", path, s->width, s->height, s->depth);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return vb_errf(err, VB_E_ARGS, "%s: path too long", path);
	fd = vb_mkstemp_tracked(tmp, &slot); /* SIGINT while writing: no .tmp-XXXXXX stays */
	if (fd < 0)
		return vb_errf(err, VB_E_IO, "%s: cannot create a file there: %s; check that the "
			       "folder exists and is writable", path, strerror(errno));
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0) {
		close(fd);
		rc = vb_errf(err, VB_E_IO, "%s: cannot set permissions: %s", tmp, strerror(errno));
		goto out;
	}
	rc = write_pages(fd, path, s, err);
	if (rc == VB_OK && rename(tmp, path) < 0)
		rc = vb_errf(err, VB_E_IO, "%s: cannot rename %s into place: %s", path, tmp,
			     strerror(errno));
out:
	if (rc != VB_OK)
		unlink(tmp);
	vb_cleanup_done(slot);
	return rc;
}

/* ---------------------------------------------------------------- SHA-256 */

static void to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int tiff_sha256_buffer(const void *data, size_t size, char hex[65], struct vb_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) || len != 32)
		return vb_errf(err, VB_E_IO, "SHA-256 failed in OpenSSL");
	to_hex(md, hex);
	return VB_OK;
}

int tiff_sha256_file(const char *path, char hex[65], struct vb_err *err)
{
	enum { CHUNK = 1 << 20 };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE], *buf = malloc(CHUNK);
	unsigned int len = 0;
	ssize_t got;
	int fd = -1, rc = VB_OK;

	if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = vb_errf(err, VB_E_NOMEM, "%s: cannot start SHA-256 (out of memory)", path);
		goto out;
	}
	if ((rc = vb_open_regular(path, "a TIFF file", &fd, err)))
		goto out;
	while ((got = read(fd, buf, CHUNK)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || !EVP_DigestUpdate(ctx, buf, (size_t)got)) {
			rc = vb_errf(err, VB_E_IO, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32)
		rc = vb_errf(err, VB_E_IO, "%s: SHA-256 failed in OpenSSL", path);
	else
		to_hex(md, hex);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}
