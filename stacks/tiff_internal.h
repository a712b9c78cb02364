/*
 * stacks/tiff_internal.h: what the TIFF core (stacks/tiff.c) and its layouts share: the open
 * file, a few parsing helpers, and the table of layouts (stacks/tiff_layouts.c), each a
 * {name, detect, parse} over the first page's ImageDescription in its own file:
 * tiff_ome.c (OME-XML, expat), tiff_imagej.c, tiff_shaped.c (tifffile's JSON, jansson).
 */
#ifndef VB_TIFF_INTERNAL_H
#define VB_TIFF_INTERNAL_H

#include <stdint.h>

#include <tiffio.h>

#include "tiff.h"
#include "tiff_capture.h"

#define MAX_PLANES ((size_t)1 << 24) /* planes an OME description may declare */

struct tiff_file {
	TIFF *tif;
	char name[512];
	struct tiff_meta meta;
	struct capture cap;
	const unsigned char *mem; /* tiff_open_memory's buffer */
	uint64_t mem_pos;
	uint64_t *ifd;            /* offset of every directory, in chain order */
	size_t n_ifd;
	size_t *page;             /* indices into ifd[] of full-resolution pages */
	size_t n_page;
	int64_t *plane_ifd;       /* OME TiffData: plane -> ifd index, -1 unmapped, -2 elsewhere */
	size_t n_planes;
	size_t stride_z, stride_c, stride_t;
	size_t file_bytes;        /* bytes per sample in the file */
	int widen_signed;         /* i8/i16 in the file, i32 in the stack */
	uint64_t contiguous_offset; /* ImageJ > 4 GiB form: first image's data */
	/* every strip or tile's bytes, for the file-wide expansion check (shared ones once) */
	struct data_range { uint64_t off, end; } *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t decoded_total, ratio_max; /* bytes every page decodes to; the largest codec ratio */
	/* from the first page */
	char *description;
	float xres, yres;
	uint16_t res_unit;
};

/* ---- helpers (stacks/tiff.c) ---- */

/* strtod in the C locale: descriptions use '.', whatever the user's locale says. */
double c_strtod(const char *s, char **end);
/* A non-negative decimal integer no larger than max; 0 on success. */
int parse_size(const char *s, size_t max, size_t *out);
/* Copy printable text, truncated to fit n bytes. */
void copy_text(char *dst, size_t n, const char *src);
int positive_finite(double v);
/* Normalise a length unit ("um" for micrometre spellings); its size in um, or 0 if unknown. */
double norm_unit(const char *in, char out[16]);

/* ---- what every layout uses (stacks/tiff_layouts.c) ---- */

/* Set z/c/t sizes and the plane order (fastest first), and the meta.order text. */
void tiff_set_order(struct tiff_file *tf, size_t z, size_t c, size_t t, const char *order);
/* Planes the layout declares, with an overflow check. */
int tiff_count_planes(struct tiff_file *tf, struct vb_err *err);
/* x, y voxel size from the resolution tags when they name a length. */
void tiff_res_calibration(struct tiff_file *tf);
/* Every page a z slice. */
void tiff_layout_plain(struct tiff_file *tf);

/* ---- the layouts ---- */

struct tiff_layout_def {
	enum tiff_layout layout;
	const char *name;                     /* tiff_layout_name() */
	int (*detect)(const char *description); /* does the description claim this layout? */
	int (*parse)(struct tiff_file *tf, struct vb_err *err);
};
int tiff_detect_ome(const char *d);
int tiff_layout_ome(struct tiff_file *tf, struct vb_err *err);
int tiff_detect_imagej(const char *d);
int tiff_layout_imagej(struct tiff_file *tf, struct vb_err *err);
int tiff_detect_shaped(const char *d);
int tiff_layout_shaped(struct tiff_file *tf, struct vb_err *err);
/* The first layout whose detect() claims the description parses it (plain when none does),
 * then the planes are checked against the pages. */
int tiff_read_layout(struct tiff_file *tf, struct vb_err *err);

#endif
