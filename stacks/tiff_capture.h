/*
 * stacks/tiff_capture.h: libtiff's first error and first warning, kept for voxbench's messages
 * (never printed by libtiff); shared by the reader (tiff.c) and the writer (tiff_write.c).
 */
#ifndef VB_TIFF_CAPTURE_H
#define VB_TIFF_CAPTURE_H

#include <tiffio.h>

struct capture {
	char msg[400];
	char warning[400];
	int set, warned;
};

/* Open options whose error and warning handlers fill *cap; NULL when out of memory. */
TIFFOpenOptions *tiff_capture_options(struct capture *cap);

#endif
