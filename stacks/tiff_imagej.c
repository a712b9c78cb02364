/*
 * stacks/tiff_imagej.c: ImageJ's layout: "key=value" lines (images=, channels=, slices=,
 * frames=, spacing=, unit=, finterval=), planes channel fastest, then z, then time; and its
 * files over 4 GiB that keep one page and store the other images contiguously after it.
 */
#include <stdio.h>
#include <string.h>

#include "tiff_internal.h"

int tiff_detect_imagej(const char *d)
{
	return strncmp(d, "ImageJ=", 7) == 0;
}

/* ImageJ: "key=value" lines. The value of `key` or NULL; copied into buf. */
static const char *ij_value(const char *desc, const char *key, char *buf, size_t n)
{
	size_t k = strlen(key), i;
	const char *p = desc;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == '=') {
			p += k + 1;
			for (i = 0; i + 1 < n && p[i] && p[i] != '\n' && p[i] != '\r'; i++)
				buf[i] = p[i];
			buf[i] = '\0';
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int ij_size(const char *desc, const char *key, size_t *out)
{
	char buf[32];

	*out = 1;
	if (!ij_value(desc, key, buf, sizeof(buf)))
		return 0;
	return parse_size(buf, (size_t)1 << 31, out) < 0 || *out == 0 ? -1 : 0;
}

static double ij_double(const char *desc, const char *key)
{
	char buf[64], *end;
	double v;

	if (!ij_value(desc, key, buf, sizeof(buf)))
		return 0;
	v = c_strtod(buf, &end);
	return end != buf && positive_finite(v) ? v : 0;
}

static void ij_calibration(struct tiff_file *tf)
{
	struct tiff_meta *m = &tf->meta;
	const char *d = tf->description;
	char unit[64];
	double z = ij_double(d, "spacing"), f = ij_double(d, "finterval");

	if (ij_value(d, "unit", unit, sizeof(unit)))
		norm_unit(unit, m->unit);
	if (positive_finite(tf->xres) && positive_finite(tf->yres) && m->unit[0]) {
		m->voxel_size[0] = 1.0 / tf->xres;
		m->voxel_size[1] = 1.0 / tf->yres;
	}
	if (z > 0)
		m->voxel_size[2] = z;
	if (f > 0) {
		m->frame_interval = f;
		if (!ij_value(d, "tunit", unit, sizeof(unit)))
			snprintf(unit, sizeof(unit), "s");
		copy_text(m->time_unit, sizeof(m->time_unit), strcmp(unit, "sec") ? unit : "s");
	}
}

/* ImageJ's > 4 GiB form: one page, the other images stored contiguously after its data. */
static int ij_contiguous(struct tiff_file *tf, size_t images, struct vb_err *err)
{
	TIFF *tif = tf->tif;
	uint64_t plane = (uint64_t)tf->meta.width * tf->meta.height * tf->file_bytes;
	uint64_t off;
	uint16_t comp = COMPRESSION_NONE;

	if (!TIFFSetSubDirectory(tif, tf->ifd[tf->page[0]]))
		return vb_errf(err, VB_E_ARGS, "%s: page 1 cannot be read again", tf->name);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
	off = TIFFGetStrileOffset(tif, 0);
	if (comp != COMPRESSION_NONE || TIFFIsTiled(tif) || TIFFNumberOfStrips(tif) != 1 ||
	    (double)images * (double)plane > (double)tf->meta.file_size ||
	    off > tf->meta.file_size || images * plane > tf->meta.file_size - off)
		return vb_errf(err, VB_E_ARGS, "%s: the ImageJ description declares %zu images but "
			       "the file has 1 page and too few bytes for the rest; the file is "
			       "truncated", tf->name, images);
	tf->contiguous_offset = off;
	tf->meta.contiguous = 1;
	return VB_OK;
}

int tiff_layout_imagej(struct tiff_file *tf, struct vb_err *err)
{
	const char *d = tf->description;
	size_t images, c, z, t;
	char buf[32];
	int rc;

	tf->meta.layout = TIFF_LAYOUT_IMAGEJ;
	if (ij_size(d, "images", &images) || ij_size(d, "channels", &c) ||
	    ij_size(d, "slices", &z) || ij_size(d, "frames", &t))
		return vb_errf(err, VB_E_ARGS, "%s: the ImageJ description has a bad images=, "
			       "channels=, slices= or frames= value; the metadata is corrupt",
			       tf->name);
	if (!ij_value(d, "images", buf, sizeof(buf)))
		images = tf->n_page;
	if (!ij_value(d, "slices", buf, sizeof(buf)) && images % (c * t) == 0)
		z = images / (c * t);
	if ((double)c * (double)z * (double)t != (double)images)
		return vb_errf(err, VB_E_ARGS, "%s: the ImageJ description says images=%zu but "
			       "channels=%zu x slices=%zu x frames=%zu; the metadata is corrupt",
			       tf->name, images, c, z, t);
	tiff_set_order(tf, z, c, t, "czt");
	if (ij_value(d, "ImageJ", buf, sizeof(buf)) && !tf->meta.software[0])
		snprintf(tf->meta.software, sizeof(tf->meta.software), "ImageJ %s", buf);
	if (images > 1 && tf->n_page == 1 && (rc = ij_contiguous(tf, images, err)) != VB_OK)
		return rc;
	ij_calibration(tf);
	return VB_OK;
}

