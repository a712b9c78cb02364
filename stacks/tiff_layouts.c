/*
 * stacks/tiff_layouts.c: the table of TIFF layouts and what they share. A layout claims a file
 * from its first page's ImageDescription (detect) and works out the volumes' sizes, plane order
 * and calibration (parse); the first that claims it wins, in the table's order.
 */
#include <stdio.h>
#include <string.h>

#include "tiff_internal.h"

static const struct tiff_layout_def layouts[] = {
	{ TIFF_LAYOUT_OME, "OME-TIFF", tiff_detect_ome, tiff_layout_ome },
	{ TIFF_LAYOUT_IMAGEJ, "ImageJ", tiff_detect_imagej, tiff_layout_imagej },
	{ TIFF_LAYOUT_SHAPED, "tifffile shaped", tiff_detect_shaped, tiff_layout_shaped },
};

const char *tiff_layout_name(enum tiff_layout l)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].layout == l)
			return layouts[i].name;
	return "plain";
}

/* Set z/c/t sizes and the plane order (fastest first), and the meta.order text. */
void tiff_set_order(struct tiff_file *tf, size_t z, size_t c, size_t t, const char *order)
{
	size_t *stride[3], size[3], s = 1;
	const char *axes = "zct";

	tf->meta.depth = z;
	tf->meta.channels = c;
	tf->meta.frames = t;
	snprintf(tf->meta.order, sizeof(tf->meta.order), "%s", order);
	for (int i = 0; i < 3; i++) {
		int k = (int)(strchr(axes, order[i]) - axes);
		stride[i] = k == 0 ? &tf->stride_z : k == 1 ? &tf->stride_c : &tf->stride_t;
		size[i] = k == 0 ? z : k == 1 ? c : t;
	}
	for (int i = 0; i < 3; i++) {
		*stride[i] = s;
		s *= size[i];
	}
}

/* Planes the layout declares, with an overflow check. */
int tiff_count_planes(struct tiff_file *tf, struct vb_err *err)
{
	struct tiff_meta *m = &tf->meta;
	size_t n;

	if (vb_mul_size(m->depth, m->channels, &n) < 0 || vb_mul_size(n, m->frames, &n) < 0 ||
	    n > MAX_PLANES)
		return vb_errf(err, VB_E_ARGS, "%s: the %s description declares %zu x %zu x %zu "
			       "planes, more than any file holds; the metadata is corrupt", tf->name,
			       tiff_layout_name(m->layout), m->depth, m->channels, m->frames);
	tf->n_planes = n;
	return VB_OK;
}

/* The planes against the pages (unless OME TiffData or ImageJ's contiguous form maps them). */
static int check_planes(struct tiff_file *tf, struct vb_err *err)
{
	struct tiff_meta *m = &tf->meta;
	size_t n;
	int rc = tiff_count_planes(tf, err);

	n = tf->n_planes;
	if (rc != VB_OK || tf->plane_ifd || tf->contiguous_offset)
		return rc;
	if (n > tf->n_page)
		return vb_errf(err, VB_E_ARGS, "%s: the %s description declares %zu planes but the "
			       "file has %zu pages; the file is truncated or its metadata is wrong",
			       tf->name, tiff_layout_name(m->layout), n, tf->n_page);
	if (n < tf->n_page && !m->note[0])
		snprintf(m->note, sizeof(m->note), "the description covers the first %zu of %zu pages",
			 n, tf->n_page);
	return VB_OK;
}

/* Plain and shaped files: x, y voxel size from the resolution tags when they name a length. */
void tiff_res_calibration(struct tiff_file *tf)
{
	struct tiff_meta *m = &tf->meta;
	double um = tf->res_unit == RESUNIT_CENTIMETER ? 1e4 : tf->res_unit == RESUNIT_INCH ? 25400 : 0;

	if (um > 0 && positive_finite(tf->xres) && positive_finite(tf->yres)) {
		m->voxel_size[0] = um / tf->xres;
		m->voxel_size[1] = um / tf->yres;
		snprintf(m->unit, sizeof(m->unit), "um");
	}
}

void tiff_layout_plain(struct tiff_file *tf)
{
	tf->meta.layout = TIFF_LAYOUT_PLAIN;
	tiff_set_order(tf, tf->n_page, 1, 1, "zct");
	tiff_res_calibration(tf);
}


int tiff_read_layout(struct tiff_file *tf, struct vb_err *err)
{
	const char *d = tf->description;
	size_t i, n = sizeof(layouts) / sizeof(layouts[0]);
	int rc = VB_OK;

	for (i = 0; d && i < n && !layouts[i].detect(d); i++)
		;
	if (d && i < n)
		rc = layouts[i].parse(tf, err);
	else
		tiff_layout_plain(tf);
	if (rc == VB_OK)
		rc = check_planes(tf, err);
	return rc;
}
