/*
 * cli/cli.h: the sub-commands. Each takes main's argc/argv shifted so argv[0] is its own name,
 * and returns the process exit status (0 ok, 1 a check failed, 2 bad arguments, 3 no device).
 */
#ifndef VB_CLI_H
#define VB_CLI_H

enum exit_code { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NO_DEVICE = 3 };

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_cache(int argc, char **argv);

/* Each command's option table (cli/options.h), for --help, the man page and completion. */
struct cli_spec;
extern const struct cli_spec cache_spec;
extern const struct cli_spec run_spec, list_spec, report_spec, compare_spec, probe_spec,
	info_spec;

/* Print "voxbench <cmd>: <msg>" on stderr, msg escaped (it may quote a report or a file
 * name): one line, no control character reaches the terminal. */
void print_error(const char *cmd, const char *msg);

/* Print "voxbench <cmd>: <message>" on stderr (one line) and return EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
