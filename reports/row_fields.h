/*
 * reports/row_fields.h: the one table of a result row's fields. Each line names a field once
 * and says how every format shows it: its JSON key (and where it nests), how a loaded report
 * checks it, its CSV column, and, for the numeric columns of the tables people read, its place,
 * header and precision on the HTML page and in the text table. A new column is one line in
 * reports/row_fields.c.
 */
#ifndef VB_ROW_FIELDS_H
#define VB_ROW_FIELDS_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

struct loaded_report;
struct json_t;

enum rf_kind {
	RF_TEXT,    /* char member[size] */
	RF_NUM,     /* double; NaN is null */
	RF_U64,     /* uint64_t */
	RF_I64,     /* int64_t, -1 none: written and read only as an integer */
	RF_INT,     /* int (CSV: negative shows as 0) */
	RF_INDEX,   /* int, -1 none: read only when an integer */
	RF_STATUS,  /* enum row_status as its name */
	RF_BOOL3,   /* int 1 / 0 / -1: true / false / null */
	RF_CACHE,   /* int 1 / 0 / -1: "hit" / "miss" / null */
	RF_OBJECT,  /* a group: the fields after it whose key starts with "<key>." */
	RF_PARAMS,  /* the op's parameters: an object of numbers; the CSV shows them as text */
	RF_TABLE,   /* a table op's first rows (written only; reports/report_json.c) */
	RF_DERIVED, /* not stored: computed by value() for the outputs that show it */
};

/* What a loaded report accepts for a field (reports/load.c says each in its messages). */
enum rf_check {
	CK_NONE,       /* not checked */
	CK_STRING,     /* a string of at most max characters */
	CK_NAME,       /* a non-empty string of at most max characters */
	CK_OPT_STRING, /* a string or null */
	CK_MS,         /* a time in ms: null or 0 .. 1e12 */
	CK_RATIO,      /* null or 0 .. 1e15 (speedups, GB/s) */
	CK_REAL,       /* null or any number of magnitude below 1e300 */
	CK_COUNT,      /* a whole number 0 .. 2^62 */
	CK_DIM,        /* a whole number 1 .. 2^32 */
	CK_INDEX,      /* a whole number -1 .. 2^31 (-1: none) */
	CK_STATUS,     /* "pass", "fail", "skip" or "error" */
	CK_OBJECT,
	CK_OPT_OBJECT, /* an object or null */
	CK_ARRAY,
};

struct row_field {
	const char *key;      /* JSON key; "group.key" inside the object of that group */
	enum rf_kind kind;
	size_t offset, size;  /* the member of struct result_row (size: RF_TEXT's buffer) */
	/* Written only when when(row) is true (NULL: always); a group that is not written is
	 * null in JSON unless `omit`, then left out. A group's `flag` (an int member, or -1)
	 * says on reading whether its object was there. */
	int (*when)(const struct result_row *row);
	int omit;
	long flag;
	enum rf_check check;  /* loading */
	int required;
	size_t max;
	int csv;              /* column in the CSV (1, 2, ...), 0: not there */
	const char *csv_name; /* NULL: the key, '.' as '_' */
	/* numeric columns of the HTML results table and the text table: position (0: not shown),
	 * header, decimals (text: -1 for 3 significant digits), text cell width */
	int html, text;
	const char *label, *text_label;
	int digits, text_digits, width;
	double scale;         /* shown times this in HTML (0: 1) */
	/* A computed value (RF_DERIVED), or what the outputs show instead of the stored one. */
	double (*value)(const struct loaded_report *lr, const struct result_row *row);
};

extern const struct row_field row_fields[];
extern const size_t row_field_count;

/* The field's value as a double (NaN for text, or inside a group the row does not have). */
double row_field_number(const struct row_field *f, const struct loaded_report *lr,
			const struct result_row *row);
/* Whether f sits in a group the row does not have (its cells are then empty). */
int row_field_absent(const struct row_field *f, const struct result_row *row);
/* The row as a JSON object, and back. */
struct json_t *row_fields_to_json(const struct result_row *row);
void row_fields_from_json(const struct json_t *o, struct result_row *row);
/* The CSV header line and one row's line. */
void row_fields_csv_header(FILE *out);
void row_fields_csv_row(FILE *out, const struct loaded_report *lr, const struct result_row *row);
/* The fields of one output in their order: those whose `html` (or `text`) is set, by position;
 * n returns the count (at most max). */
size_t row_fields_in(int html, const struct row_field **out, size_t max);

#endif
