/* cli/cmd_list.c: `voxbench list [OP] [--json]`: the op table, as text or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../ops/ops.h"
#include "cli.h"

static const char conventions[] =
	"Conventions (they make deltas meaningful):\n"
	"  - pixel math reads voxels as float, computes in float and writes the output type with\n"
	"    saturation, rounding toward zero (OpenCL convert_<type>_sat); NaN becomes 0.\n"
	"  - borders clamp to the edge (scipy.ndimage mode='nearest').\n"
	"  - gaussian_blur: radius ceil(4*sigma) per axis, normalised weights (scipy truncate=4.0);\n"
	"    sigma 0 leaves an axis unfiltered.\n"
	"  - box filters take a radius per axis (size 2r+1).\n"
	"  - comparisons and binary ops write u8 0/1; gaussian_blur and mean_box write f32;\n"
	"    minimum/maximum filters and projections keep the input type.\n"
	"  - exact: every voxel equal; float(t): |gpu - ref| <= t * max(1, max|ref|).\n"
	"  - sizes are WIDTHxHEIGHTxDEPTH (x, y, z), x fastest in memory.\n";

static const char *dtype_rule_name(enum out_dtype_rule r)
{
	return r == OUT_F32 ? "f32" : r == OUT_U8 ? "u8" : "same as input";
}

static void compare_text(const struct op_desc *op, char *out, size_t len)
{
	if (op->cmp.kind == CMP_EXACT)
		snprintf(out, len, "exact");
	else
		snprintf(out, len, "float(%g)", op->cmp.tol);
}

static void print_op_help(const struct op_desc *op)
{
	char cmp[32];

	compare_text(op, cmp, sizeof(cmp));
	printf("%s (%s): %s\n", op->name, op_category_name(op->category), op->help);
	printf("  inputs: %d image%s; output: %s; compared: %s\n", op->n_inputs,
	       op->n_inputs > 1 ? "s" : "", dtype_rule_name(op->out_dtype), cmp);
	for (int i = 0; op->params[i].name; i++) {
		const struct param_spec *p = &op->params[i];

		printf("  %-10s %-5s default %g, %g to %g: %s\n", p->name,
		       p->type == PARAM_INT ? "int" : "float", p->def, p->min, p->max, p->help);
	}
}

static json_t *op_json(const struct op_desc *op)
{
	json_t *params = json_array();
	char cmp[32];

	for (int i = 0; op->params[i].name; i++) {
		const struct param_spec *p = &op->params[i];

		json_array_append_new(params, json_pack("{s:s, s:s, s:f, s:f, s:f, s:s}", "name",
							p->name, "type",
							p->type == PARAM_INT ? "int" : "float",
							"default", p->def, "min", p->min, "max",
							p->max, "help", p->help));
	}
	compare_text(op, cmp, sizeof(cmp));
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:s}", "name", op->name, "category",
			 op_category_name(op->category), "help", op->help, "inputs", op->n_inputs,
			 "output_dtype", dtype_rule_name(op->out_dtype), "params", params,
			 "compare", cmp);
}

static int list_json(const struct op_desc *only)
{
	json_t *all = json_array();

	for (size_t i = 0; i < op_count; i++)
		if (!only || only == &op_table[i])
			json_array_append_new(all, op_json(&op_table[i]));
	json_dumpf(all, stdout, JSON_INDENT(1));
	printf("\n");
	json_decref(all);
	return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct op_desc *only = NULL;
	int json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", options, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			printf("usage: voxbench list [OP] [--json]\n\n%s", conventions);
			return EXIT_OK;
		} else {
			return usage_error("list", "unknown option; see 'voxbench list --help'");
		}
	}
	if (optind < argc && !(only = op_find(argv[optind])))
		return usage_error("list", "unknown op '%s'; 'voxbench list' shows them all",
				   argv[optind]);
	if (json)
		return list_json(only);
	if (only) {
		print_op_help(only);
		return EXIT_OK;
	}
	for (size_t i = 0; i < op_count; i++) {
		char cmp[32];

		compare_text(&op_table[i], cmp, sizeof(cmp));
		printf("%-26s %-11s %-10s %s\n", op_table[i].name,
		       op_category_name(op_table[i].category), cmp, op_table[i].help);
	}
	return EXIT_OK;
}
