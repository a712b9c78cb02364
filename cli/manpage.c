/*
 * cli/manpage.c: voxbench(1) and the bash and zsh completions, made from the tables the
 * program itself runs on: the sub-commands (cli/main.c), each one's options (cli/cmd_*.c) and
 * the op table (ops/). `make` writes them at build time (voxbench help --man, --completion,
 * --completion=zsh); nothing is written twice by hand.
 */
#include <stdio.h>
#include <string.h>

#include "../common/vb.h"
#include "../ops/op.h"
#include "options.h"

/* What voxbench reads from the environment: the man page's ENVIRONMENT section. */
static const struct { const char *name, *help; } environment[] = {
	{ "VOXBENCH_CACHE_DIR", "where compiled kernels are cached (default "
	  "$XDG_CACHE_HOME/voxbench, else ~/.cache/voxbench)" },
	{ "VOXBENCH_NO_CACHE", "1: compile every kernel afresh, at its first launch" },
	{ "VOXBENCH_KERNEL_DIR", "load kernels/*.cl from this folder instead of the copies built "
	  "into the binary" },
	{ "VOXBENCH_OPENCL_LIBRARY", "the OpenCL loader to open instead of libOpenCL.so.1" },
	{ "VOXBENCH_CUDA_LIBRARY", "the CUDA driver library to open instead of libcuda.so.1" },
	{ "VOXBENCH_NVRTC_LIBRARY", "the NVRTC library to open instead of libnvrtc.so.<major>" },
	{ "VOXBENCH_DRIVER_TIMEOUT", "seconds a driver's child process may take before it is "
	  "called hung" },
	{ "VOXBENCH_GNUPLOT", "the gnuplot program to run for the plots (empty: no plots)" },
	{ "TMPDIR", "where temporary folders go (default /tmp)" },
};

/* ---- roff ---- */

/* Text as roff reads it: backslashes and dashes escaped, no line starting with '.' or '\''.
 * "%s" (the list --help fills in) becomes words naming where it comes from. */
static void roff(FILE *out, const char *s)
{
	for (int bol = 1; *s; s++) {
		if (s[0] == '%' && s[1] == 's') {
			fputs("those of 'voxbench list'", out);
			s++;
		} else if (*s == '\\') {
			fputs("\\e", out);
		} else if (*s == '-') {
			fputs("\\-", out);
		} else if (bol && (*s == '.' || *s == '\'')) {
			fprintf(out, "\\&%c", *s);
		} else {
			fputc(*s == '\n' ? ' ' : *s, out);
		}
		bol = 0;
	}
}

/* Lines kept as lines (a usage text): each one roff-escaped, in no-fill mode. */
static void roff_lines(FILE *out, const char *s)
{
	fputs(".nf\n", out);
	while (*s) {
		size_t n = strcspn(s, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1),
			 s);
		roff(out, line);
		fputc('\n', out);
		s += n + (s[n] == '\n');
	}
	fputs(".fi\n", out);
}

static void man_command(FILE *out, const struct cli_command *c)
{
	fprintf(out, ".SS %s\n", c->name);
	roff(out, c->help);
	fputs(".\n.PP\n", out);
	roff_lines(out, c->spec->usage);
	for (const struct cli_option *o = c->spec->options; o->name && !c->spec->in_usage; o++) {
		if (!o->help)
			continue;
		fprintf(out, ".TP\n.B \\-\\-%s", o->name);
		if (o->arg) {
			fputs(" ", out);
			fputs("\\fI", out);
			roff(out, o->arg);
			fputs("\\fR", out);
		}
		fputs("\n", out);
		roff(out, o->help);
		fputc('\n', out);
	}
	if (c->spec->footer) {
		fputs(".PP\n", out);
		roff_lines(out, c->spec->footer);
	}
}

/* The ops by category, from the op table. */
static void man_ops(FILE *out)
{
	fputs(".SH OPS\nThe names --ops and list take (also a category's name, or all); "
	      "'voxbench list OP' describes one.\n", out);
	for (int cat = 0; cat < CAT_COUNT; cat++) {
		int first = 1;

		fprintf(out, ".TP\n.B %s\n", op_category_name((enum op_category)cat));
		for (size_t i = 0; i < op_count; i++) {
			if ((int)op_table[i].category != cat)
				continue;
			fputs(first ? "" : ", ", out);
			roff(out, op_table[i].name);
			first = 0;
		}
		fputc('\n', out);
	}
}

void cli_print_man(FILE *out, const struct cli_command *cmds, size_t n)
{
	fprintf(out, ".\\\" voxbench(1), written by 'voxbench help --man' from its tables\n"
		     ".TH VOXBENCH 1 \"\" \"voxbench %s\" \"User Commands\"\n.nh\n.ad l\n.SH NAME\n"
		     "voxbench \\- GPU microscopy image processing benchmarks: probe, run, report, "
		     "compare\n.SH SYNOPSIS\n.B voxbench\n.I command\n[\\fIoptions\\fR]\n.br\n"
		     ".B voxbench\n\\-\\-version | \\-\\-help | help \\-\\-man | help "
		     "\\-\\-completion[=zsh]\n.SH DESCRIPTION\nvoxbench runs the image processing "
		     "ops of microscopy pipelines on a GPU (OpenCL and CUDA, from one kernel source) "
		     "beside a CPU reference of each, checks the outputs against it and times both. "
		     "A run writes a JSON report; report turns it into a page with plots, text or "
		     "CSV; compare sets reports of several machines side by side.\n"
		     ".SH COMMANDS\n", VOXBENCH_VERSION);
	for (size_t i = 0; i < n; i++)
		man_command(out, &cmds[i]);
	man_ops(out);
	fputs(".SH ENVIRONMENT\n", out);
	for (size_t i = 0; i < sizeof(environment) / sizeof(environment[0]); i++) {
		fprintf(out, ".TP\n.B %s\n", environment[i].name);
		roff(out, environment[i].help);
		fputc('\n', out);
	}
	fputs(".SH EXIT STATUS\n0: every row passed or was skipped; 1: a check failed; 2: bad "
	      "arguments; 3: no usable device.\n.SH SEE ALSO\n.BR gnuplot (1),\n.BR clinfo (1)\n",
	      out);
}

/* ---- shell completion ---- */

static void words_of_ops(FILE *out)
{
	fputs("all", out);
	for (int cat = 0; cat < CAT_COUNT; cat++)
		fprintf(out, " %s", op_category_name((enum op_category)cat));
	for (size_t i = 0; i < op_count; i++)
		fprintf(out, " %s", op_table[i].name);
}

static void op_names(FILE *out)
{
	for (size_t i = 0; i < op_count; i++)
		fprintf(out, "%s%s", i ? " " : "", op_table[i].name);
}

/* The bash action for a value kind: a case branch's body. */
static void bash_values(FILE *out, const char *values)
{
	if (strcmp(values, "@ops") == 0)
		fputs("_voxbench_list \"$_voxbench_ops\"", out);
	else if (strncmp(values, "@list:", 6) == 0)
		fprintf(out, "_voxbench_list \"%s\"", values + 6);
	else if (strcmp(values, "@dir") == 0)
		fputs("COMPREPLY=($(compgen -d -- \"$cur\"))", out);
	else if (strcmp(values, "@file") == 0)
		fputs("COMPREPLY=($(compgen -f -- \"$cur\"))", out);
	else
		fprintf(out, "COMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))", values);
}

void cli_print_bash_completion(FILE *out, const struct cli_command *cmds, size_t n)
{
	fputs("# bash completion for voxbench, written by 'voxbench help --completion' from its\n"
	      "# tables; source it, or eval \"$(voxbench help --completion)\"\n_voxbench_ops=\"",
	      out);
	words_of_ops(out);
	fputs("\"\n_voxbench_names=\"", out);
	op_names(out);
	fputs("\"\n# a comma-separated list: complete the part after the last comma\n"
	      "_voxbench_list() {\n\tlocal pre= last=$cur\n\tcase $cur in *,*) pre=${cur%,*},; "
	      "last=${cur##*,} ;; esac\n\tCOMPREPLY=($(compgen -P \"$pre\" -W \"$1\" -- "
	      "\"$last\"))\n}\n_voxbench() {\n\tlocal cur=${COMP_WORDS[COMP_CWORD]} "
	      "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\t# --opt=value: bash splits at '=', the option is the word before it\n"
	      "\t[ \"$prev\" = \"=\" ] && prev=${COMP_WORDS[COMP_CWORD-2]}\n"
	      "\t[ \"$cur\" = \"=\" ] && cur=\n"
	      "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n\t\tCOMPREPLY=($(compgen -W \"", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s ", cmds[i].name);
	fputs("help --help --version\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
	      "\tcase \"${COMP_WORDS[1]} $prev\" in\n", out);
	for (size_t i = 0; i < n; i++)
		for (const struct cli_option *o = cmds[i].spec->options; o->name; o++) {
			if (!o->values)
				continue;
			fprintf(out, "\t\"%s --%s\") ", cmds[i].name, o->name);
			bash_values(out, o->values);
			fputs("; return ;;\n", out);
		}
	fputs("\tesac\n\tcase $cur in\n\t-*) ;;\n\t*)\n\t\tcase ${COMP_WORDS[1]} in\n", out);
	for (size_t i = 0; i < n; i++)
		if (cmds[i].spec->operands && strcmp(cmds[i].spec->operands, "@ops") == 0)
			fprintf(out, "\t\t%s) COMPREPLY=($(compgen -W \"$_voxbench_names\" -- "
				     "\"$cur\")); return ;;\n", cmds[i].name);
	fputs("\t\tesac\n\t\treturn ;;\n\tesac\n\tcase ${COMP_WORDS[1]} in\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\t%s) COMPREPLY=($(compgen -W \"", cmds[i].name);
		for (const struct cli_option *o = cmds[i].spec->options; o->name; o++)
			fprintf(out, "%s--%s", o == cmds[i].spec->options ? "" : " ", o->name);
		fputs("\" -- \"$cur\")) ;;\n", out);
	}
	fputs("\thelp) COMPREPLY=($(compgen -W \"--man --completion --completion=zsh\" -- "
	      "\"$cur\")) ;;\n\tesac\n}\ncomplete -o default -F _voxbench voxbench\n", out);
}

/* Help text as one line inside a zsh _arguments spec: no brackets, colons, quotes or
 * backslashes, the first 70 characters. */
static void zsh_text(FILE *out, const char *s)
{
	int n = 0;

	for (; *s && n < 70; s++, n++) {
		char c = *s == '\n' ? ' ' : *s;

		if (s[0] == '%' && s[1] == 's') {
			fputs("see voxbench list", out);
			s++;
		} else if (strchr("[]:'\\`$", c)) {
			fputc(c == ':' ? ';' : ' ', out);
		} else {
			fputc(c, out);
		}
	}
	if (*s)
		fputs("...", out);
}

static void zsh_action(FILE *out, const char *values)
{
	if (!values || strcmp(values, "@file") == 0)
		fputs("_files", out);
	else if (strcmp(values, "@dir") == 0)
		fputs("_files -/", out);
	else if (strcmp(values, "@ops") == 0)
		fputs("_voxbench_ops", out);
	else if (strncmp(values, "@list:", 6) == 0)
		fprintf(out, "_values -s , value %s", values + 6);
	else
		fprintf(out, "(%s)", values);
}

void cli_print_zsh_completion(FILE *out, const struct cli_command *cmds, size_t n)
{
	fputs("#compdef voxbench\n# zsh completion for voxbench, written by 'voxbench help "
	      "--completion=zsh' from its tables\n_voxbench_ops() {\n\t_values -s , op ", out);
	words_of_ops(out);
	fputs("\n}\n_voxbench() {\n\tlocal -a commands\n\tcommands=(\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\t\t'%s:", cmds[i].name);
		zsh_text(out, cmds[i].help);
		fputs("'\n", out);
	}
	fputs("\t\t'help:the man page or the completions'\n\t)\n\tif (( CURRENT == 2 )); then\n"
	      "\t\t_describe command commands\n\t\treturn\n\tfi\n\tlocal cmd=$words[2]\n"
	      "\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\t%s)\n\t\t_arguments", cmds[i].name);
		for (const struct cli_option *o = cmds[i].spec->options; o->name; o++) {
			fprintf(out, " \\\n\t\t\t'--%s%s[", o->name, o->arg ? "=" : "");
			zsh_text(out, o->help ? o->help : "this help");
			fputs("]", out);
			if (o->arg) {
				fputs(":", out);
				zsh_text(out, o->arg);
				fputs(":", out);
				zsh_action(out, o->values);
			}
			fputs("'", out);
		}
		fprintf(out, " \\\n\t\t\t'*:operand:%s' ;;\n",
			cmds[i].spec->operands && strcmp(cmds[i].spec->operands, "@ops") == 0
				? "_voxbench_ops" : "_files");
	}
	fputs("\thelp) _arguments '--man[the man page]' '--completion[bash completion]' "
	      "'--completion=zsh[zsh completion]' ;;\n\tesac\n}\n_voxbench \"$@\"\n", out);
}
