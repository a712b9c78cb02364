/*
 * stacks/tiff_info.c: `voxbench info FILE...`, what the reader understood of each file.
 */
#define _GNU_SOURCE
#include "tiff.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char info_usage[] =
	"usage: voxbench info [--channel C] [--frame T] [--no-verify] FILE...\n"
	"\n"
	"Print what voxbench understands of each TIFF file: size, SHA-256, format, pages,\n"
	"layout (ImageJ, OME-TIFF, tifffile shaped, plain), dims, dtype, voxel size.\n"
	"Every volume (each channel of each frame) is then decoded to prove the data readable;\n"
	"--channel/--frame (numbered from 0) decode only that one, --no-verify none.\n"
	"Exit status: 0, or 2 when a file cannot be read (one line on stderr says why).\n";

struct info_opts {
	long channel, frame; /* -1: all */
	int verify;
};

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
static int verify(struct tiff_file *tf, const struct tiff_meta *m, const struct info_opts *o)
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
			printf("decoded:     channel %zu frame %zu: values %g .. %g\n", c, t, lo, hi);
			stack_free(&s);
		}
	}
	return 0;
}

static int info_one(const char *path, const struct info_opts *o, int *blocks)
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
	if ((*blocks)++)
		printf("\n");
	print_meta(path, &m, sha);
	rc = o->verify ? verify(tf, &m, o) : 0;
	tiff_close(tf);
	return rc;
}

/* A non-negative index option value; -2 when bad. */
static long index_value(const char *text)
{
	char *end;
	long v;

	if (!text || *text < '0' || *text > '9')
		return -2;
	v = strtol(text, &end, 10);
	return *end || v < 0 || v > (1L << 31) ? -2 : v;
}

/*
 * Parse options (getopt_long: they may come before or after the files); returns the index of
 * the first file, 0 after --help, or -1 after printing why.
 */
static int parse_opts(int argc, char **argv, struct info_opts *o)
{
	static const struct option options[] = {
		{ "channel", required_argument, NULL, 'c' }, { "frame", required_argument, NULL, 'f' },
		{ "no-verify", no_argument, NULL, 'n' },     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct info_opts){ -1, -1, 1 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		long *dst = c == 'c' ? &o->channel : c == 'f' ? &o->frame : NULL;

		if (c == 'h') {
			fputs(info_usage, stdout);
			return 0;
		} else if (c == 'n') {
			o->verify = 0;
		} else if (dst && (*dst = index_value(optarg)) != -2) {
			continue;
		} else if (dst || optopt == 'c' || optopt == 'f') {
			fprintf(stderr, "voxbench info: --%s needs a number from 0; see voxbench info "
				"--help\n", c == 'c' || optopt == 'c' ? "channel" : "frame");
			return -1;
		} else {
			fprintf(stderr, "voxbench info: unknown option '%s'; see voxbench info "
				"--help\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

int cmd_info(int argc, char **argv)
{
	struct info_opts o;
	int first, status = 0, blocks = 0;

	first = parse_opts(argc, argv, &o);
	if (first <= 0)
		return first < 0 ? 2 : 0;
	if (first >= argc) {
		fputs(info_usage, stderr);
		return 2;
	}
	for (int i = first; i < argc; i++) {
		if (info_one(argv[i], &o, &blocks) != 0)
			status = 2;
		fflush(stdout);
	}
	return status;
}
