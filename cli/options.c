/* cli/options.c: parsing, --help, man page and completion from a command's option table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

#define MAX_OPTIONS 64

int cli_getopt(int argc, char **argv, const struct cli_spec *spec, int *index)
{
	struct option longopts[MAX_OPTIONS + 1];
	char shorts[64];
	size_t n = 0;

	for (const struct cli_option *o = spec->options; o->name && n < MAX_OPTIONS; o++, n++)
		longopts[n] = (struct option){ o->name, o->arg ? required_argument : no_argument,
					       NULL, o->key };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	snprintf(shorts, sizeof(shorts), "%s%s", spec->permute ? "" : "+", spec->shorts);
	opterr = 0;
	return getopt_long(argc, argv, shorts, longopts, index);
}

/* text with "%s" replaced by subst (once per occurrence), continuation lines indented. */
static void print_help_text(FILE *out, const char *text, int column, const char *subst)
{
	for (const char *p = text; *p; p++) {
		if (p[0] == '%' && p[1] == 's' && subst) {
			fputs(subst, out);
			p++;
		} else if (*p == '\n') {
			fprintf(out, "\n%*s", column, "");
		} else {
			fputc(*p, out);
		}
	}
	fputc('\n', out);
}

void cli_print_help(FILE *out, const struct cli_spec *spec, const char *subst)
{
	fputs(spec->usage, out);
	for (const struct cli_option *o = spec->options; o->name && !spec->in_usage; o++) {
		char left[64];
		int n;

		if (!o->help)
			continue;
		n = snprintf(left, sizeof(left), "  --%s%s%s", o->name, o->arg ? " " : "",
			     o->arg ? o->arg : "");
		fprintf(out, "%-*s", spec->column, left);
		if (n >= spec->column) /* a long left part: the text on the next line */
			fprintf(out, "\n%*s", spec->column, "");
		print_help_text(out, o->help, spec->column, subst);
	}
	fputs(spec->footer ? spec->footer : "", out);
}
