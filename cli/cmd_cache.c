/* cli/cmd_cache.c: `voxbench cache`: where the kernel cache is, what it holds, --clear. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "../common/vb.h"
#include "../ops/backend.h"
#include "cli.h"
#include "options.h"

static const struct cli_option cache_options[] = {
	{ "clear", 'c', NULL, "remove every entry (only voxbench's own files)" },
	{ "json", 'j', NULL, "print it as JSON on stdout" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec cache_spec = {
	.command = "cache",
	.usage = "usage: voxbench cache [--clear] [--json]\n"
		 "\n"
		 "Where the kernel cache is (VOXBENCH_CACHE_DIR, else $XDG_CACHE_HOME/voxbench or\n"
		 "~/.cache/voxbench; VOXBENCH_NO_CACHE=1 turns it off), how many compiled programs\n"
		 "it holds and their size; --clear removes them (a later run compiles them again).\n",
	.footer = "exit status: 0, 1 when an entry cannot be read or removed, 2 bad arguments\n",
	.options = cache_options, .column = 12, .shorts = "h",
};

static void print_text(const struct program_cache_stats *st, long removed)
{
	if (!st->dir[0]) {
		printf("kernel cache: off (VOXBENCH_NO_CACHE is set, or no folder: set "
		       "VOXBENCH_CACHE_DIR)\n");
		return;
	}
	fputs("kernel cache: ", stdout);
	vb_fputs_escaped(st->dir, stdout);
	printf("\n  %llu entr%s, %.1f MiB", st->entries, st->entries == 1 ? "y" : "ies",
	       (double)st->bytes / 1048576.0);
	if (st->temporary)
		printf(" (%llu of the files left over by an interrupted write)", st->temporary);
	putchar('\n');
	if (removed >= 0)
		printf("  removed %ld file%s\n", removed, removed == 1 ? "" : "s");
}

static int print_json(const struct program_cache_stats *st, long removed)
{
	json_t *o = json_pack("{s:i, s:b, s:o, s:I, s:I, s:I}", "schema", 1, "enabled",
			      st->dir[0] != '\0', "folder", vb_json_text(st->dir), "entries",
			      (json_int_t)st->entries, "bytes", (json_int_t)st->bytes, "temporary",
			      (json_int_t)st->temporary);
	int rc;

	if (!o)
		return -1;
	if (removed >= 0)
		json_object_set_new(o, "removed", json_integer(removed));
	rc = json_dumpf(o, stdout, JSON_INDENT(2)) == 0 && putchar('\n') != EOF ? 0 : -1;
	json_decref(o);
	return rc;
}

int cmd_cache(int argc, char **argv)
{
	struct program_cache_stats st;
	int c, clear = 0, json = 0;
	long removed = -1;
	char failed[4400];

	optind = 1;
	while ((c = cli_getopt(argc, argv, &cache_spec, NULL)) != -1) {
		if (c == 'h') {
			cli_print_help(stdout, &cache_spec, NULL);
			return EXIT_OK;
		} else if (c == 'c') {
			clear = 1;
		} else if (c == 'j') {
			json = 1;
		} else {
			return usage_error("cache", "unknown option '%s'; see voxbench cache --help",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("cache", "takes no operands ('%s'); see voxbench cache --help",
				   argv[optind]);
	if (program_cache_stats(&st) != VB_OK) {
		print_error("cache", "cannot read the kernel cache folder; check its permissions");
		return EXIT_FAILED;
	}
	if (clear && (removed = program_cache_clear(failed, sizeof(failed))) < 0) {
		char msg[4600];

		snprintf(msg, sizeof(msg), "cannot remove %s; check its folder's permissions", failed);
		print_error("cache", msg);
		return EXIT_FAILED;
	}
	if (json)
		return print_json(&st, removed) ? EXIT_FAILED : EXIT_OK;
	print_text(&st, removed);
	return EXIT_OK;
}
