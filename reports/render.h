/*
 * reports/render.h: reports people read, made from JSON reports read back (never re-measured):
 * CSV, a self-contained HTML page with gnuplot plots, the side-by-side comparison of several
 * reports, and log-log scaling fits of time against voxel count.
 *
 *   struct loaded_report lr;
 *   if (report_load("run.json", &lr, &err))      // checks every field, names the bad one
 *           ...err.msg, exit 2...
 *   report_write_html(&lr, "run-html", &opts, &res, &err);   // index.html, results.csv, plots
 *   report_unload(&lr);
 *
 * Every file is written under a temporary name and renamed into place. Numbers in CSV, in the
 * gnuplot data files and in JSON never depend on the locale (fmt_num; voxbench never calls
 * setlocale, keep it that way). gnuplot runs as a separate process on a generated script kept
 * beside the plots (plots.gp); when it is missing or fails, the page keeps its tables and says
 * why instead of the plots. VOXBENCH_GNUPLOT names the program to run ("" turns plots off).
 */
#ifndef VB_RENDER_H
#define VB_RENDER_H

#include <jansson.h>
#include <stdio.h>

#include "report.h"

/* ---- a report read back, with the probe facts that struct report does not hold ---- */

#define RENDER_MAX_PROBE_DEVICES 32

struct probe_facts {
	char name[256];
	char type[16];
	char smoke[16];     /* the smoke test's status ("pass", "fail", "skip"), "" when unknown */
	double copy_gbps;   /* measured copy bandwidth (read + written bytes), NaN when unknown */
};

struct loaded_report {
	char path[4096];
	struct report rep;
	int has_probe;      /* the report has a "probe" section */
	char verdict[512];  /* the probe's verdict in words, or why there is none */
	size_t nprobe;
	struct probe_facts probe[RENDER_MAX_PROBE_DEVICES];
};

/*
 * Read and check a JSON report: a missing file, text that is not JSON, another major schema
 * version, or a field of the wrong type or out of range is refused with VB_E_ARGS and one line
 * naming the file and the field. Reads the optional "probe" section (devices with "smoke" and
 * "bench": {"copy_gbps"}) for the verdict and the measured bandwidth.
 */
int report_load(const char *path, struct loaded_report *lr, struct vb_err *err);
void report_unload(struct loaded_report *lr);
/* The measured copy bandwidth of the device of this name (its "copy_gbps", else the probe
 * section's bench), NaN when the report has none. */
double report_copy_gbps(const struct loaded_report *lr, const char *device);
/* A row's effective bandwidth as a fraction of its device's measured copy bandwidth: the
 * row's "bandwidth_fraction", else computed from report_copy_gbps; NaN when unknown. */
double row_bandwidth_fraction(const struct loaded_report *lr, const struct result_row *row);
/* Check a parsed report (the checks report_load makes); where names the input in messages. */
int report_check_json(const json_t *root, const char *where, struct vb_err *err);

/* ---- numbers, files, rows ---- */

/* v with significant digits and '.' as the decimal point whatever the locale; "" for NaN/inf. */
const char *fmt_num(char buf[40], double v, int significant);
/* Geometric mean of the n values; NaN when n is 0 or a value is not finite and positive. */
double geomean(const double *v, size_t n);

/* A file written under a temporary name in its folder and renamed into place by out_commit. */
struct out_file {
	FILE *f;
	char *tmp, *path;
	int slot; /* the temporary file's vb_cleanup_file slot: a signal removes it */
};
int out_open(struct out_file *o, const char *path, struct vb_err *err);
/* Flush, sync, close and rename; on any failure the temporary file is removed. */
int out_commit(struct out_file *o, struct vb_err *err);
/* Drop an open out_file (nothing is left behind); safe on a zeroed or committed one. */
void out_abort(struct out_file *o);
/*
 * Where `run --out PATH` writes (reports/out_target.c): a regular file (or a path to create) is
 * replaced atomically, through links the file they name; a terminal, pipe, FIFO or character
 * device is written in place; PATH naming this process's stdout or stderr (a link to
 * /proc/self/fd/1) is that descriptor, "-" is stdout. Checked before any work starts.
 */
enum out_kind { OUT_ATOMIC, OUT_IN_PLACE, OUT_FD };
struct out_target {
	enum out_kind kind;
	char given[4096]; /* as the user wrote it, for messages */
	char path[4096];  /* the file replaced or written (links resolved) */
	int fd;           /* OUT_FD */
};
/* VB_E_ARGS with one line for a folder, a block device, a missing or read-only folder, a
 * dangling link, a name too long for its temporary copy. */
int out_target_check(const char *given, struct out_target *t, struct vb_err *err);
/* Write len bytes there (atomically for OUT_ATOMIC); VB_E_IO names a full disk or device. */
int out_target_write(const struct out_target *t, const char *data, size_t len,
		     struct vb_err *err);

/*
 * A folder of outputs (reports/out_folder.c) that appears whole or not at all: out_folder_open
 * makes a temporary folder beside dir for the files (f->tmp), out_folder_commit puts it in dir's
 * place (removing the old dir), out_folder_abort removes it and leaves dir as it was. A signal
 * removes it too. Only a missing, empty or voxbench-made dir is replaced; out_folder_check says
 * why not (VB_E_ARGS: a file, a folder with other files, a missing or read-only parent).
 */
struct out_folder {
	char dir[4096];
	char tmp[4300];
	int slot;
};
int out_folder_check(const char *dir, struct vb_err *err);
int out_folder_open(struct out_folder *f, const char *dir, struct vb_err *err);
int out_folder_commit(struct out_folder *f, struct vb_err *err);
void out_folder_abort(struct out_folder *f);

/* What identifies a row: OR these together for row_key, row_label and row_groups. */
enum row_key_part {
	KEY_OP = 1, KEY_PARAMS = 2, KEY_SIZE = 4, KEY_DTYPE = 8, KEY_BACKEND = 16, KEY_DEVICE = 32,
};
/* Rows are matched across reports by op, params, size, dtype and backend. */
#define KEY_MATCH (KEY_OP | KEY_PARAMS | KEY_SIZE | KEY_DTYPE | KEY_BACKEND)

/* "sigma_x=1 sigma_y=2", parameters sorted by name; "" when the op has none. */
void row_params_text(const struct result_row *row, char *buf, size_t len);
/* The same for people: stem_x, stem_y, stem_z of one value as "stem_xyz=1". */
void row_params_compact(const struct result_row *row, char *buf, size_t len);
void row_size_text(const struct result_row *row, char *buf, size_t len); /* "64x64x32" */
double row_voxels(const struct result_row *row);
/* A key of the chosen parts, for sorting and matching (parts joined by '\x1f'). */
void row_key(const struct result_row *row, unsigned parts, char *buf, size_t len);
/* A label for people: the chosen parts separated by spaces, empty parts left out. */
void row_label(const struct result_row *row, unsigned parts, char *buf, size_t len);
/* Which of KEY_PARAMS, KEY_SIZE, KEY_DTYPE, KEY_BACKEND, KEY_DEVICE take several values. */
unsigned report_varying(const struct report *r);

/* Rows grouped by equal key: group g is order[start[g] .. start[g] + count[g]). */
struct row_groups {
	size_t n;
	size_t *order, *start, *count;
};
/*
 * Group the rows for which keep() is true (all rows when keep is NULL) by the key parts;
 * groups come in the order of their first row, rows inside a group in report order.
 */
int row_groups_make(const struct report *r, unsigned parts,
		    int (*keep)(const struct result_row *), struct row_groups *g,
		    struct vb_err *err);
void row_groups_free(struct row_groups *g);

/* ---- voxbench beside its peers (run --peer; reports/peers_table.c) ---- */

/* Whether a row's backend is a peer's ("pyclesperanto-opencl", "cupy"), not voxbench's. */
int backend_is_peer(const char *backend);
/* Per op, size and dtype: voxbench's and each peer's ms and verdict, the peer / voxbench time
 * ratio, a summary line per peer. Nothing when the report has no peer rows. */
void report_print_peers(const struct report *r, FILE *out);
void html_peers_table(FILE *out, const struct report *r);

/* ---- CSV ---- */

/* One CSV text field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
void csv_field(FILE *out, const char *s);
/* A table op's output (a stack of width columns x height rows) as CSV at path: a header of the
 * column names, then one line per row (--save-outputs). */
struct stack;
int csv_write_table(const char *path, const char *const *columns, const struct stack *t,
		    struct vb_err *err);
/* Every row, one line each, with a header line (RFC 4180 quoting; numbers as fmt_num). */
int report_write_csv(const struct loaded_report *lr, FILE *out);
int report_write_csv_file(const struct loaded_report *lr, const char *path,
			  struct vb_err *err);

/* ---- scaling fits ---- */

/*
 * Least squares on logs: ln t = ln c + b ln n over count points. Returns 0 and the exponent b,
 * the coefficient c (t = c * n^b) and r^2, or -1 when there are fewer than two distinct n or
 * a value is not finite and positive.
 */
int loglog_fit(const double *n, const double *t, size_t count, double *exponent,
	       double *coefficient, double *r2);

struct scaling_fit {
	size_t group;          /* index into groups */
	size_t npoints, nsizes;
	double exponent, coefficient_ms, r2;
	double min_voxels, max_voxels;
};

/* The fits of a report: one per op, params, dtype, backend and device timed at 2+ sizes. */
struct scaling {
	struct row_groups groups;
	size_t n;
	struct scaling_fit *fits;
};
int scaling_fit_report(const struct report *r, struct scaling *s, struct vb_err *err);
void scaling_free(struct scaling *s);
/* Print the fits as a small table (nothing when there are none). */
void scaling_print(const struct report *r, const struct scaling *s, FILE *out);
/*
 * The report's "scaling" JSON section: an array of {op, params, dtype, backend, device, points,
 * sizes, exponent, coefficient_ms, r2, min_voxels, max_voxels}; NULL when no op was timed at
 * two or more sizes (or memory ran out): then the report has no such section.
 */
json_t *scaling_section_json(const struct report *r);

/* ---- gnuplot ---- */

enum plot_mode { PLOTS_FILES, PLOTS_DUMB, PLOTS_NONE };

/* How a gnuplot run went: what the page says about its plots. */
struct plot_outcome {
	int drawn;          /* gnuplot ran and exited 0 */
	char note[1024];    /* why there are no plots, or "" */
	size_t nplots;
	char name[16][32];  /* file stems: <name>.svg, <name>.png, <name>.dat */
	char title[16][160];
};

/* One bar chart: nlabels groups of nseries bars (values NaN where missing). */
struct bar_chart {
	const char *name, *title, *ylabel;
	int logy;
	size_t nlabels, nseries;
	char (*labels)[128];
	const char *series[8];
	double *values;                 /* values[label * nseries + series] */
	size_t nlines;                  /* horizontal reference lines */
	double line_value[8];
	char line_title[8][160];
	char note[160];                 /* appended to the title, e.g. "first 60 of 200" */
};

/*
 * Horizontal bars in panels (one per category), one bar per row with its label on the left:
 * a left column (value, coloured per bar, with an optional marker point on the same row) and
 * an optional right column (value2, same colour). Every bar is drawn; the canvas grows with
 * the number of bars. Bars of panel p: [start[p], start[p] + count[p]), already in order.
 */
struct panel_chart {
	const char *name, *title;
	size_t npanels, nbars;
	char (*panel_title)[96];
	size_t *start, *count;
	char (*labels)[128];
	double *value, *marker, *value2;   /* NaN: none (marker, value2 may be NULL) */
	unsigned *colour;                  /* 0xRRGGBB of each bar */
	const char *heading, *marker_title, *heading2;
	int logx;                          /* the left column on a log scale */
	int ratio;                         /* ratios near 1: an axis just wider than the values
					    * (not whole decades), so that 0.9 and 1.1 differ */
	double ref, ref2;                  /* a dashed vertical line in each column, NaN: none */
	const char *ref_title;
	double cap2;                       /* the right column's axis ends here (values beyond are
					    * written as numbers at the end of their bar); NaN: none */
	size_t nkeys;                      /* the colours' legend */
	const char *key_title[6];
	unsigned key_colour[6];
};

/* Log-log panels (one per category) of lines through points with a fitted power law each,
 * crossovers marked: the category scaling chart. */
struct scaling_line {
	char title[128];
	unsigned colour;
	int dashed;
	size_t start, count;               /* its points: x[start .. start + count) */
	double exponent, coefficient;      /* the fit t = c * n^b; NaN: none */
};
#define SCALING_MAX_TICKS 8
#define SCALING_MAX_CROSS 4
struct scaling_panel {
	char title[96];
	size_t first_line, nlines;
	size_t nticks;
	double tick[SCALING_MAX_TICKS];
	char tick_label[SCALING_MAX_TICKS][48];
	size_t ncross;
	double cross_x[SCALING_MAX_CROSS], cross_y[SCALING_MAX_CROSS];
	char cross_label[SCALING_MAX_CROSS][160];
	char note[128];                     /* under the title: "no crossover ..." */
	double xmin, xmax;
};
struct scaling_chart {
	const char *name, *title;
	size_t npanels;
	struct scaling_panel *panels;
	struct scaling_line *lines;
	double *x, *y;
};

/* Labels and values for nlabels x nseries bars, values NaN; nlabels is set by the caller. */
int bar_chart_alloc(struct bar_chart *c, size_t nlabels, size_t nseries, struct vb_err *err);
void bar_chart_free(struct bar_chart *c);

/* A gnuplot script under construction in folder dir (PLOTS_FILES) or a temporary one. */
struct gnuplot_script {
	char dir[4096];
	int dir_slot;           /* PLOTS_DUMB's temporary folder: its vb_cleanup_folder slot */
	enum plot_mode mode;
	struct out_file script;
	struct plot_outcome *outcome;
};

/* Start dir/plots.gp; titles of the plots go to outcome. source names the report(s). */
int gnuplot_begin(struct gnuplot_script *gp, const char *dir, enum plot_mode mode,
		  const char *source, struct plot_outcome *outcome, struct vb_err *err);
int gnuplot_bar_chart(struct gnuplot_script *gp, const struct bar_chart *c, struct vb_err *err);
int gnuplot_panel_chart(struct gnuplot_script *gp, const struct panel_chart *c,
			struct vb_err *err);
int gnuplot_scaling_chart(struct gnuplot_script *gp, const struct scaling_chart *c,
			  struct vb_err *err);
/* The scaling chart of a report: per category, geometric means over its ops of the CPU time,
 * the GPU kernel time and the GPU time with transfers against the voxel count, per backend. */
int report_scaling_chart(const struct report *r, struct gnuplot_script *gp, struct vb_err *err);
/*
 * Commit the script and run gnuplot on it in its folder (PLOTS_DUMB: the charts go to stdout).
 * A missing or failing gnuplot is not an error: it is written into outcome->note.
 */
int gnuplot_finish(struct gnuplot_script *gp, struct vb_err *err);
/* Drop an unfinished script (and PLOTS_DUMB's temporary folder). */
void gnuplot_abort(struct gnuplot_script *gp);
/* The gnuplot program to run: $VOXBENCH_GNUPLOT, else gnuplot on PATH; -1 and a note if none. */
int gnuplot_find(char *prog, size_t len, char *note, size_t notelen);

/* ---- the report's charts and page ---- */

/* Add the report's charts (speedup and bandwidth panels, scaling, backends) to a script. */
int report_charts(const struct loaded_report *lr, struct gnuplot_script *gp,
		  struct vb_err *err);

struct html_options {
	enum plot_mode plots;   /* PLOTS_FILES (default) or PLOTS_NONE */
};

/*
 * Write dir/index.html (self-contained: inline CSS, plots inline as SVG), dir/results.csv,
 * dir/plots.gp with its data files, and the plots as SVG and PNG. outcome says how gnuplot went.
 */
int report_write_html(const struct loaded_report *lr, const char *dir,
		      const struct html_options *opt, struct plot_outcome *outcome,
		      struct vb_err *err);
/* Draw the speedup chart on the terminal with gnuplot's dumb terminal. */
int report_plot_dumb(const struct loaded_report *lr, struct plot_outcome *outcome,
		     struct vb_err *err);
/* Host, devices and the probe's verdict as a few lines of text. */
void report_print_summary(const struct loaded_report *lr, FILE *out);

/* The overview at the top of the report page (reports/overview.c): ops x sizes, dtypes,
 * backends and devices, every row a cell coloured by verdict and speedup. */
int html_overview(FILE *out, const struct loaded_report *lr, struct vb_err *err);
extern const char overview_css[];

/* HTML pieces shared by the report and comparison pages. */
void html_escape(FILE *out, const char *text);
void html_begin(FILE *out, const char *title);
void html_end(FILE *out);
/* The plots of outcome, inline as SVG read from dir, or the note that replaces them. */
void html_plots(FILE *out, const char *dir, const struct plot_outcome *outcome);
void html_num(FILE *out, double v, int decimals); /* a table cell's number, "-" for NaN */

/* ---- comparison of several reports ---- */

enum compare_metric { METRIC_GPU, METRIC_TRANSFERS, METRIC_CPU };
#define COMPARE_NONE ((size_t)-1)

struct comparison {
	const struct loaded_report *reports;
	size_t nreports;
	enum compare_metric metric;
	size_t nlines;
	size_t *cell;          /* cell[line * nreports + i]: row index in report i or COMPARE_NONE */
	size_t nshared;        /* lines with a usable time in every report */
};

/* Per report after the first: how it compares with the first over the shared lines. */
struct compare_summary {
	double geomean_speedup; /* geometric mean of first time / this time; NaN when none shared */
	size_t nshared;
	size_t most_line;       /* the line where they differ most (largest |log ratio|) */
	double most_ratio;      /* this time / first time on that line */
};

const char *compare_metric_name(enum compare_metric m);
/* The time a row contributes (ms): GPU median, GPU + transfers, or CPU; NaN when unusable. */
double compare_time(const struct result_row *row, enum compare_metric m);
/* Match the rows of reports[0..n) by op, params, size, dtype and backend. */
int compare_build(const struct loaded_report *reports, size_t n, enum compare_metric metric,
		  struct comparison *c, struct vb_err *err);
void compare_free(struct comparison *c);
/* The row of a line: the first report's that has it. */
const struct result_row *compare_line_row(const struct comparison *c, size_t line);
/* Whether every report has a usable time for this line. */
int compare_line_shared(const struct comparison *c, size_t line);
void compare_summarize(const struct comparison *c, size_t report, struct compare_summary *s);
/* The time of a report on a line (compare_time of its row), NaN when it has none. */
double compare_line_time(const struct comparison *c, size_t line, size_t report);
/* Whether every report has the line's row (usable time or not). */
int compare_line_matched(const struct comparison *c, size_t line);
/* How many lines some report lacks. */
size_t compare_unmatched(const struct comparison *c);
/* "gaussian_blur sigma_x=1 64x64x64 f32 opencl: only in A, C" */
void compare_unmatched_text(const struct comparison *c, size_t line, char *buf, size_t len);
/* The summary line of report i (i >= 1) against the first. */
void compare_summary_text(const struct comparison *c, size_t i, char *buf, size_t len);
/* KEY_OP and the parts that vary across the reports: what line labels show. */
unsigned compare_label_parts(const struct comparison *c);
/* "A", "B", ... "Z", then "R27"... */
void compare_letter(size_t i, char buf[8]);
/* What may differ between the reports (reports/compare_settings.c): a table of settings. */
size_t compare_setting_count(void);
const char *compare_setting_name(size_t k);
void compare_setting_value(const struct comparison *c, size_t k, size_t report, char *buf,
			   size_t len);
int compare_setting_differs(const struct comparison *c, size_t k);
/* "what differs:" and a line per differing setting (escaped). */
void compare_print_settings(const struct comparison *c, FILE *out);
/* The text output: machines, the table, a summary line per machine, the unmatched rows. */
void compare_print(const struct comparison *c, FILE *out);
int compare_write_csv(const struct comparison *c, FILE *out);
/* The same as JSON (schema 1): the reports, each one's summary against the first, every line
 * with its times, statuses and ratios (null where a report lacks it), and the unmatched count. */
int compare_write_json(const struct comparison *c, FILE *out);
int compare_write_csv_file(const struct comparison *c, const char *path, struct vb_err *err);
/* dir/index.html with the tables and grouped bar plots, dir/compare.csv, plots as SVG/PNG. */
int compare_write_html(const struct comparison *c, const char *dir, enum plot_mode plots,
		       struct plot_outcome *outcome, struct vb_err *err);

#endif
