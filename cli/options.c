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

/* roff-escaped text: backslashes and leading dots or quotes. */
static void roff(FILE *out, const char *s)
{
	for (int bol = 1; *s; s++) {
		if (s[0] == '%' && s[1] == 's') { /* a list --help fills in: where it comes from */
			fputs("those of 'voxbench list'", out);
			s++;
		} else if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (bol && (*s == '.' || *s == '\''))
			fprintf(out, "\\&%c", *s);
		else
			fputc(*s == '\n' ? ' ' : *s, out);
		bol = *s == '\n';
	}
}

void cli_print_man(FILE *out, const struct cli_spec *const *specs, size_t n)
{
	fputs(".TH VOXBENCH 1\n.SH NAME\nvoxbench \\- GPU microscopy image processing: probe, run, "
	      "report, compare\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, ".SH %s\n", specs[i]->command);
		roff(out, specs[i]->usage);
		fputc('\n', out);
		for (const struct cli_option *o = specs[i]->options; o->name; o++) {
			if (!o->help)
				continue;
			fprintf(out, ".TP\n.B \\-\\-%s%s%s\n", o->name, o->arg ? " " : "",
				o->arg ? o->arg : "");
			roff(out, o->help);
			fputc('\n', out);
		}
		if (specs[i]->footer) {
			fputs(".PP\n", out);
			roff(out, specs[i]->footer);
			fputc('\n', out);
		}
	}
}

void cli_print_completion(FILE *out, const struct cli_spec *const *specs, size_t n)
{
	fputs("# bash completion for voxbench: eval \"$(voxbench help --completion)\"\n"
	      "_voxbench() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} words\n"
	      "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\twords=\"", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " " : "", specs[i]->command);
	fputs("\"\n\telse\n\t\tcase ${COMP_WORDS[1]} in\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\t\t%s) words=\"", specs[i]->command);
		for (const struct cli_option *o = specs[i]->options; o->name; o++)
			fprintf(out, "%s--%s", o == specs[i]->options ? "" : " ", o->name);
		fputs("\" ;;\n", out);
	}
	fputs("\t\tesac\n\tfi\n\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\n"
	      "complete -o default -F _voxbench voxbench\n", out);
}
