/*
 * stacks/tiff.h: TIFF stacks in and out (libtiff), the file's SHA-256, and `voxbench info`.
 *
 * Reading
 * -------
 * A file holds one or more volumes: WIDTH x HEIGHT x DEPTH voxels, for each of `channels`
 * channels and `frames` time points. `tiff_open` reads every directory (page), works out the
 * layout, and refuses a file it cannot read *before* anything large is allocated: pages of
 * unequal size or sample type (naming the page), strips or tiles lying past the end of the file,
 * uncompressed data shorter than the declared image, declared sizes that overflow. `tiff_read`
 * then decodes one volume (one channel of one frame) into a `struct stack`, after checking its
 * size against the memory limit.
 *
 * Layouts, recognised from the first page's ImageDescription, in this order:
 *
 *   OME-TIFF   OME-XML: the first Image's Pixels SizeX/Y/Z/C/T, DimensionOrder, PhysicalSize*
 *              (with their units, converted to a common one), TimeIncrement, and the TiffData
 *              elements that map planes to pages (planes stored in another file are refused
 *              when asked for, naming that file).
 *   ImageJ     "ImageJ=..." lines: images=, channels=, slices=, frames=, spacing=, unit=,
 *              finterval=; planes in ImageJ's order (channel fastest, then z, then time); x and
 *              y voxel size from 1/XResolution, 1/YResolution. Also ImageJ's files over 4 GiB
 *              that keep one page and store the other images contiguously after it.
 *   shaped     tifffile's JSON {"shape": [...], "axes": "..."}: the last two axes are y and x;
 *              with "axes", T, Z and C are found by letter (other letters fold into z); without
 *              it, leading axes are read right-aligned as T, Z, C (e.g. [T, Z, Y, X]).
 *   plain      anything else: every page is a z slice; voxel size from XResolution/YResolution
 *              when ResolutionUnit is inch or centimetre (reported in um).
 *
 * Pages marked reduced-resolution (thumbnails, NewSubfileType bit 0) are skipped. Voxels are
 * returned as stored: min-is-white pages are not inverted, palettes are not applied, and the
 * Orientation tag is ignored (row 0 is y = 0), as ImageJ does.
 *
 * Sample types: 8/16/32-bit unsigned integers become u8/u16/u32, 32-bit signed i32, 32-bit
 * float f32; 8- and 16-bit signed integers are widened to i32 (exactly; meta.file_dtype keeps
 * "i8"/"i16"). Palette images are read as their indices. Classic TIFF and BigTIFF, either byte
 * order, strips or tiles, and every compression this libtiff decodes. Refused with a message:
 * more than one sample per pixel (RGB), 1/2/4/12-bit, 16/64-bit float, complex.
 *
 * Errors are one line in `err`: "FILE: what is wrong; what to do". libtiff's own warnings and
 * errors never reach stderr (its handlers are replaced, also the process-wide ones): its first
 * error, or the warning that explains a refusal (an IFD loop), becomes part of that line.
 * A directory chain that loops, pages that cannot be read and data that cannot be decoded are
 * refused, never read in part.
 *
 * Usage, one volume:
 *
 *	struct stack s;
 *	struct tiff_meta m;
 *	struct tiff_select sel = TIFF_SELECT_INIT;
 *	sel.channel = 1;
 *	if (tiff_read_stack(path, &sel, &s, &m, &err) != VB_OK)
 *		... err.msg ...
 *
 * Usage, every frame of a 3D+time file (the file is opened and checked once):
 *
 *	struct tiff_file *tf;
 *	if (tiff_open(&tf, path, &m, &err) != VB_OK) ...
 *	for (size_t t = 0; t < m.frames; t++) {
 *		sel.frame = t;
 *		if (tiff_read(tf, &sel, &s, &err) != VB_OK) ...
 *		...
 *		stack_free(&s);
 *	}
 *	tiff_close(tf);
 *
 * Writing
 * -------
 * `tiff_write_stack` writes an ImageJ stack that Fiji opens as a stack with the stack's voxel
 * size: one uncompressed page per z slice in native byte order, the ImageJ description
 * (images=, slices=, unit=, spacing=) and XResolution/YResolution = 1/voxel size, with every
 * directory first and the planes back to back after them -- ImageJ reads only the first
 * directory of its own files and takes the other planes to follow the first. Files whose data
 * exceed 4 GiB are written as BigTIFF (Fiji opens those through Bio-Formats). u32 and i32 are
 * written as 32-bit integers, which ImageJ shows converted to 32-bit float. The file is written
 * under a temporary name in the same folder and renamed into place, so `path` never holds a
 * partial file (there is no fsync: a crash of the machine may still lose it).
 */
#ifndef VB_TIFF_H
#define VB_TIFF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"

enum tiff_layout { TIFF_LAYOUT_PLAIN, TIFF_LAYOUT_IMAGEJ, TIFF_LAYOUT_OME, TIFF_LAYOUT_SHAPED };

/* What tiff_open understood of a file; everything `voxbench info` prints. */
struct tiff_meta {
	size_t width, height, depth;   /* one volume, x y z */
	size_t channels, frames;       /* at least 1 each */
	size_t pages;                  /* directories in the file (reduced-resolution ones too) */
	size_t skipped_pages;          /* reduced-resolution pages ignored */
	enum dtype dtype;              /* dtype of the stacks tiff_read returns */
	char file_dtype[8];            /* sample type stored: "u8", "i16", "f32", ... */
	enum tiff_layout layout;
	char order[4];                 /* plane order, fastest first, of 'z' 'c' 't': "zct" */
	int bigtiff, big_endian, tiled, palette, contiguous; /* contiguous: ImageJ > 4 GiB form */
	unsigned compression;          /* TIFF Compression tag value */
	char compression_name[24];     /* "none", "LZW", "Deflate", ... */
	unsigned photometric;          /* TIFF PhotometricInterpretation */
	double voxel_size[3];          /* x, y, z in `unit`; 1 when unknown */
	char unit[16];                 /* "um", "mm", ...; "" when unknown */
	double frame_interval;         /* in time_unit; 0 when unknown */
	char time_unit[8];
	uint64_t file_size;            /* bytes */
	char software[48];             /* the Software tag or the ImageJ version, "" if none */
	char note[160];                /* what else the reader decided, e.g. a folded axis */
};

/* Which volume tiff_read returns, and how much it may allocate. */
struct tiff_select {
	size_t channel;     /* 0-based */
	size_t frame;       /* 0-based */
	uint64_t max_bytes; /* largest stack to allocate; 0: the host's available memory */
};
#define TIFF_SELECT_INIT { 0, 0, 0 }

struct tiff_file; /* an open, checked file */

/*
 * Open and check `path`, filling `meta`. Returns VB_OK, VB_E_IO (cannot open or read),
 * VB_E_ARGS (not a TIFF, malformed, inconsistent) or VB_E_UNSUPPORTED (a valid TIFF that
 * voxbench does not read: RGB, 1-bit, float64, a codec this libtiff lacks).
 */
int tiff_open(struct tiff_file **out, const char *path, struct tiff_meta *meta,
	      struct vb_err *err);

/* The same from a buffer, which must outlive the handle; `name` is used in messages. */
int tiff_open_memory(struct tiff_file **out, const void *data, size_t size, const char *name,
		     struct tiff_meta *meta, struct vb_err *err);

/*
 * Decode one volume into a new stack (name "file", source the path, voxel size and unit from
 * the metadata). Refuses (VB_E_ARGS) a channel or frame out of range, and (VB_E_TOO_BIG) a
 * volume larger than sel->max_bytes or the available memory, before allocating. On failure
 * `out` holds nothing to free.
 */
int tiff_read(struct tiff_file *tf, const struct tiff_select *sel, struct stack *out,
	      struct vb_err *err);

void tiff_close(struct tiff_file *tf); /* NULL is fine */

/* tiff_open + tiff_read + tiff_close; sel NULL means channel 0, frame 0; meta may be NULL. */
int tiff_read_stack(const char *path, const struct tiff_select *sel, struct stack *out,
		    struct tiff_meta *meta, struct vb_err *err);

/* Write `s` as an ImageJ stack (see above). VB_OK, or VB_E_IO with the reason. */
int tiff_write_stack(const char *path, const struct stack *s, struct vb_err *err);

/* "plain", "ImageJ", "OME-TIFF", "tifffile shaped". */
const char *tiff_layout_name(enum tiff_layout l);

/* SHA-256 (OpenSSL EVP) of a file and of a buffer, as 64 lower-case hex digits. */
int tiff_sha256_file(const char *path, char hex[65], struct vb_err *err);
int tiff_sha256_buffer(const void *data, size_t size, char hex[65], struct vb_err *err);

/* What `voxbench info` prints of a file (cli/cmd_info.c). */
struct tiff_info_opts {
	long channel, frame; /* -1: all */
	int verify;          /* decode every volume selected, to prove the data readable */
	json_t *json;        /* not NULL: each file becomes an object appended to this array */
};
/*
 * Print what was understood of the file (dims, dtype, pages, layout, compression, voxel size,
 * SHA-256) and, with o->verify, decode the volumes selected. 0, or non-zero after one line on
 * stderr: "voxbench info: FILE: what is wrong". *blocks counts the files printed (separators).
 */
int tiff_info_print(const char *path, const struct tiff_info_opts *o, int *blocks);

#endif
