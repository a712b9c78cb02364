/* cli/cmd_info.c: `voxbench info FILE...`: its options; stacks/tiff_info.c prints each file. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "../stacks/tiff.h"
#include "cli.h"
#include "options.h"

static const struct cli_option info_options[] = {
	{ "channel", 'c', "C", "decode only this channel (numbered from 0)" },
	{ "frame", 'f', "T", "decode only this frame (numbered from 0)" },
	{ "no-verify", 'n', NULL, "decode nothing: only what the metadata says" },
	{ "json", 'j', NULL, "print one JSON array (an object per file) instead of the text" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec info_spec = {
	.command = "info",
	.usage = "usage: voxbench info [--channel C] [--frame T] [--no-verify] [--json] FILE...\n"
		 "\n"
		 "Print what voxbench understands of each TIFF file: size, SHA-256, format, pages,\n"
		 "layout (ImageJ, OME-TIFF, tifffile shaped, plain), dims, dtype, voxel size.\n"
		 "Every volume (each channel of each frame) is then decoded to prove the data "
		 "readable;\n"
		 "--channel/--frame (numbered from 0) decode only that one, --no-verify none;\n"
		 "--json prints one array of objects (the same fields, and each volume decoded).\n"
		 "Exit status: 0, or 2 when a file cannot be read (one line on stderr says why).\n",
	.options = info_options, .permute = 1, .shorts = "h", .in_usage = 1,
};

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
static int parse_opts(int argc, char **argv, struct tiff_info_opts *o)
{
	int c;

	*o = (struct tiff_info_opts){ -1, -1, 1, NULL };
	optind = 1;
	while ((c = cli_getopt(argc, argv, &info_spec, NULL)) != -1) {
		long *dst = c == 'c' ? &o->channel : c == 'f' ? &o->frame : NULL;

		if (c == 'h') {
			cli_print_help(stdout, &info_spec, NULL);
			return 0;
		} else if (c == 'n') {
			o->verify = 0;
		} else if (c == 'j') {
			o->json = o->json ? o->json : json_array();
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
	struct tiff_info_opts o;
	int first, status = 0, blocks = 0;

	first = parse_opts(argc, argv, &o);
	if (first <= 0 || first >= argc)
		json_decref(o.json);
	if (first <= 0)
		return first < 0 ? 2 : 0;
	if (first >= argc) {
		cli_print_help(stderr, &info_spec, NULL);
		return 2;
	}
	for (int i = first; i < argc; i++) {
		if (tiff_info_print(argv[i], &o, &blocks) != 0)
			status = 2;
		fflush(stdout);
	}
	if (o.json) { /* the files read, whole: one that failed said why on stderr */
		if (json_dumpf(o.json, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) || putchar('\n') == EOF)
			status = 2;
		json_decref(o.json);
	}
	return status;
}
