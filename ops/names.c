/*
 * ops/names.c: what the op table says about other libraries: the documented differences
 * (ops/conventions.def) and the names users type there (ops/aliases.def), both checked by
 * tests/test_conventions.py; and the lookup of an op by its name or an alias.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "op.h"

const struct op_convention op_conventions[] = {
#include "conventions.def"
};
const size_t op_convention_count = sizeof(op_conventions) / sizeof(op_conventions[0]);

const struct op_alias op_aliases[] = {
#include "aliases.def"
};
const size_t op_alias_count = sizeof(op_aliases) / sizeof(op_aliases[0]);

/* text without blanks and quotes: "connectivity = \"sphere\"", "connectivity='sphere'" and
 * "connectivity=sphere" are the same call; 0 when it does not fit */
static int normalise(const char *text, size_t n, char *out, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < n && text[i]; i++) {
		if (isspace((unsigned char)text[i]) || text[i] == '"' || text[i] == '\'')
			continue;
		if (k + 1 >= len)
			return 0;
		out[k++] = text[i];
	}
	out[k] = '\0';
	return 1;
}

const struct op_desc *op_lookup(const char *name)
{
	const struct op_desc *op = op_find(name);
	const char *open = strchr(name, '(');
	size_t base = open ? (size_t)(open - name) : strlen(name);
	char args[128] = "", theirs[128];

	if (op)
		return op;
	if (open) {
		size_t n = strlen(open + 1);

		if (n == 0 || open[n] != ')' || !normalise(open + 1, n - 1, args, sizeof(args)))
			return NULL;
	}
	for (size_t i = 0; i < op_alias_count; i++) {
		const struct op_alias *a = &op_aliases[i];

		if (strcmp(a->library, "pyclesperanto") == 0 && strlen(a->name) == base &&
		    strncmp(a->name, name, base) == 0 &&
		    normalise(a->args, strlen(a->args), theirs, sizeof(theirs)) &&
		    strcmp(theirs, args) == 0)
			return op_find(a->op);
	}
	return NULL;
}

/* Edit distance (insertions, deletions, substitutions) of a and b, both under 64 characters. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), row[64], diag, up;

	if (n >= 64 || m >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			up = row[j];
			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			diag = up;
			row[j] = best;
		}
	}
	return row[m];
}

const char *op_closest_name(const char *name)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(name) / 4 + 1; /* a typo, not another word */

	for (size_t i = 0; i < op_count; i++) {
		size_t d = edit_distance(name, op_table[i].name);

		if (d < best_d) {
			best_d = d;
			best = op_table[i].name;
		}
	}
	for (size_t i = 0; i < op_alias_count; i++) {
		size_t d = edit_distance(name, op_aliases[i].name);

		if (strcmp(op_aliases[i].library, "pyclesperanto") == 0 && !*op_aliases[i].args &&
		    d < best_d) {
			best_d = d;
			best = op_aliases[i].name;
		}
	}
	return best_d <= limit ? best : NULL;
}
