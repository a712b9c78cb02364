/*
 * cli/options.h: one table of options per sub-command. Parsing (getopt_long), --help, the man
 * page (`voxbench help --man`) and shell completion (`voxbench help --completion`) all come from
 * it: an option is one line.
 */
#ifndef VB_OPTIONS_H
#define VB_OPTIONS_H

#include <stdio.h>

struct cli_option {
	const char *name;  /* long name, without "--" */
	int key;           /* what cli_getopt returns for it (a character or an enum value) */
	const char *arg;   /* its argument in --help ("LIST"), NULL: it takes none */
	const char *help;  /* --help text, '\n' before each continuation line; NULL: not listed */
	/* What shell completion offers for its argument: words ("opencl cuda all"), "@list:"
	 * and words for a comma-separated list of them, "@ops" for op names, categories and all
	 * (comma-separated), "@file", "@dir"; NULL: files (the shell's default). */
	const char *values;
};

struct cli_spec {
	const char *command;  /* "run" */
	const char *usage;    /* the lines before the options, each ending in '\n' */
	const char *footer;   /* the lines after them */
	const struct cli_option *options; /* NULL-name terminated */
	int column;           /* where the help text starts (the options' left part is padded) */
	int permute;          /* 0: options stop at the first operand (getopt's '+') */
	const char *shorts;   /* getopt short options ("h"), or "" */
	int in_usage;         /* the usage text describes the options: --help lists none */
	const char *operands; /* what completes its operands: "@ops", "@file" (NULL: files) */
};

/* A sub-command: main's table (cli/main.c), which also makes the man page and completions. */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
	const struct cli_spec *spec;
};

/* getopt_long over spec's table (call with optind set as getopt wants); -1 at the end, '?' for
 * an unknown option or a missing argument (opterr is off: the command says what is wrong).
 * *index (when not NULL) is set to the option's row for a long option. */
int cli_getopt(int argc, char **argv, const struct cli_spec *spec, int *index);
/* --help: usage, each listed option ("%s" in a help text becomes subst), footer. */
void cli_print_help(FILE *out, const struct cli_spec *spec, const char *subst);
/* The man page voxbench(1) (roff) from the commands, their options and the op table
 * (cli/manpage.c); bash and zsh completion from the same tables. */
void cli_print_man(FILE *out, const struct cli_command *cmds, size_t n);
void cli_print_bash_completion(FILE *out, const struct cli_command *cmds, size_t n);
void cli_print_zsh_completion(FILE *out, const struct cli_command *cmds, size_t n);

#endif
