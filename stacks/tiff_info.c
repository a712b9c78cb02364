/*
 * stacks/tiff_info.c: what the reader understood of a file, as `voxbench info` prints it
 * (cli/cmd_info.c parses its options).
 */
#define _GNU_SOURCE
#include "tiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *photometric_name(unsigned p)
{
	switch (p) {
	case 0: return "min-is-white";
	case 1: return "min-is-black";
	case 3: return "palette (read as indices)";
	case 4: return "mask";
	default: return "separated";
	}
}

/* Smallest and largest voxel, typed loops (a stack may hold a billion voxels). */
#define MINMAX(T)                                                                                 \
	do {                                                                                      \
		const T *v = s->data;                                                             \
		T a = v[0], b = v[0];                                                             \
		for (size_t i = 1; i < n; i++) {                                                  \
			a = v[i] < a ? v[i] : a;                                                  \
			b = v[i] > b ? v[i] : b;                                                  \
		}                                                                                 \
		*lo = a;                                                                          \
		*hi = b;                                                                          \
	} while (0)

static void min_max(const struct stack *s, double *lo, double *hi)
{
	size_t n = stack_voxels(s);

	switch (s->dtype) {
	case DT_U8: MINMAX(uint8_t); break;
	case DT_U16: MINMAX(uint16_t); break;
	case DT_U32: MINMAX(uint32_t); break;
	case DT_I32: MINMAX(int32_t); break;
	default: MINMAX(float); break;
	}
}

static void print_meta(const char *path, const struct tiff_meta *m, const char *sha)
{
	printf("file:        %s\n", path);
	printf("size:        %llu bytes\n", (unsigned long long)m->file_size);
	printf("sha256:      %s\n", sha);
	printf("format:      %s, %s-endian, %zu page%s", m->bigtiff ? "BigTIFF" : "classic TIFF",
	       m->big_endian ? "big" : "little", m->pages, m->pages == 1 ? "" : "s");
	if (m->skipped_pages)
		printf(" (%zu reduced-resolution skipped)", m->skipped_pages);
	printf("\npages:       %s, compression %s (%u), %s\n", m->tiled ? "tiles" : "strips",
	       m->compression_name, m->compression, photometric_name(m->photometric));
	printf("layout:      %s%s%s%s\n", tiff_layout_name(m->layout),
	       m->contiguous ? " (contiguous, one page)" : "", m->software[0] ? ", written by " : "",
	       m->software);
	printf("dims:        %zux%zux%zu, %zu channel%s, %zu frame%s, plane order %s\n", m->width,
	       m->height, m->depth, m->channels, m->channels == 1 ? "" : "s", m->frames,
	       m->frames == 1 ? "" : "s", m->order);
	printf("dtype:       %s (file: %s)\n", dtype_name(m->dtype), m->file_dtype);
	printf("voxel size:  %g x %g x %g %s\n", m->voxel_size[0], m->voxel_size[1],
	       m->voxel_size[2], m->unit[0] ? m->unit : "(no unit: uncalibrated)");
	if (m->frame_interval > 0)
		printf("frame step:  %g %s\n", m->frame_interval, m->time_unit);
	if (m->note[0])
		printf("note:        %s\n", m->note);
}

/* Decode the selected volumes; prints a line per volume. */
static int verify(struct tiff_file *tf, const struct tiff_meta *m, const struct tiff_info_opts *o,
		  json_t *decoded)
{
	struct tiff_select sel = TIFF_SELECT_INIT;
	struct vb_err err;
	struct stack s;
	double lo, hi;

	for (size_t t = 0; t < m->frames; t++) {
		for (size_t c = 0; c < m->channels; c++) {
			if ((o->channel >= 0 && (size_t)o->channel != c) ||
			    (o->frame >= 0 && (size_t)o->frame != t))
				continue;
			sel.channel = c;
			sel.frame = t;
			if (tiff_read(tf, &sel, &s, &err) != VB_OK) {
				fflush(stdout);
				fprintf(stderr, "voxbench info: %s\n", err.msg);
				return 2;
			}
			min_max(&s, &lo, &hi);
			if (decoded)
				json_array_append_new(decoded, json_pack("{s:I, s:I, s:f, s:f}",
					"channel", (json_int_t)c, "frame", (json_int_t)t, "min", lo,
					"max", hi));
			else
				printf("decoded:     channel %zu frame %zu: values %g .. %g\n", c, t,
				       lo, hi);
			stack_free(&s);
		}
	}
	return 0;
}

static json_t *meta_json(const char *path, const struct tiff_meta *m, const char *sha)
{
	return json_pack("{s:o, s:I, s:s, s:b, s:b, s:I, s:I, s:b, s:I, s:o, s:I, s:o, s:s, s:b, "
			 "s:o, s:[I,I,I], s:I, s:I, s:o, s:s, s:o, s:[f,f,f], s:o, s:f, s:o, s:o}",
			 "file", vb_json_text(path), "size_bytes", (json_int_t)m->file_size,
			 "sha256", sha, "bigtiff", m->bigtiff, "big_endian", m->big_endian,
			 "pages", (json_int_t)m->pages, "skipped_pages", (json_int_t)m->skipped_pages,
			 "tiled", m->tiled, "compression", (json_int_t)m->compression,
			 "compression_name", vb_json_text(m->compression_name),
			 "photometric", (json_int_t)m->photometric,
			 "photometric_name", vb_json_text(photometric_name(m->photometric)),
			 "layout", tiff_layout_name(m->layout), "contiguous", m->contiguous,
			 "software", vb_json_text(m->software),
			 "dims", (json_int_t)m->width, (json_int_t)m->height, (json_int_t)m->depth,
			 "channels", (json_int_t)m->channels, "frames", (json_int_t)m->frames,
			 "plane_order", vb_json_text(m->order), "dtype", dtype_name(m->dtype),
			 "file_dtype", vb_json_text(m->file_dtype),
			 "voxel_size", m->voxel_size[0], m->voxel_size[1], m->voxel_size[2],
			 "unit", vb_json_text(m->unit), "frame_interval", m->frame_interval,
			 "time_unit", vb_json_text(m->time_unit), "note", vb_json_text(m->note));
}

int tiff_info_print(const char *path, const struct tiff_info_opts *o, int *blocks)
{
	struct tiff_file *tf;
	struct tiff_meta m;
	struct vb_err err;
	char sha[65];
	int rc;

	if (tiff_open(&tf, path, &m, &err) != VB_OK ||
	    tiff_sha256_file(path, sha, &err) != VB_OK) {
		tiff_close(tf);
		fprintf(stderr, "voxbench info: %s\n", err.msg);
		return 2;
	}
	if ((o->channel >= 0 && (size_t)o->channel >= m.channels) ||
	    (o->frame >= 0 && (size_t)o->frame >= m.frames)) {
		tiff_close(tf);
		int chan = o->channel >= 0 && (size_t)o->channel >= m.channels;

		fprintf(stderr, "voxbench info: %s: no %s %ld: the file has %zu %s(s), numbered "
			"from 0\n", path, chan ? "channel" : "frame", chan ? o->channel : o->frame,
			chan ? m.channels : m.frames, chan ? "channel" : "frame");
		return 2;
	}
	if (o->json) { /* the caller prints the array once every file is read */
		json_t *entry = meta_json(path, &m, sha), *decoded = json_array();

		rc = o->verify ? verify(tf, &m, o, decoded) : 0;
		json_object_set_new(entry, "decoded", decoded);
		json_array_append_new(o->json, entry);
		tiff_close(tf);
		return rc;
	}
	if ((*blocks)++)
		printf("\n");
	print_meta(path, &m, sha);
	rc = o->verify ? verify(tf, &m, o, NULL) : 0;
	tiff_close(tf);
	return rc;
}

/* A non-negative index option value; -2 when bad. */
