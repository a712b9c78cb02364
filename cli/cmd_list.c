/* cli/cmd_list.c: `voxbench list [OP] [--json]`: the op table, as text or JSON. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../ops/op.h"
#include "cli.h"
#include "options.h"

static const char conventions[] =
	"Conventions (they make deltas meaningful):\n"
	"  - pixel math reads voxels as float, computes in float and writes the output type with\n"
	"    saturation, rounding toward zero (OpenCL convert_<type>_sat); NaN becomes 0.\n"
	"  - borders clamp to the edge (scipy.ndimage mode='nearest').\n"
	"  - gaussian_blur: radius ceil(4*sigma) per axis, normalised weights (the kernel always\n"
	"    reaches 4 sigma; pyclesperanto and scipy cut it shorter: voxbench list gaussian_blur);\n"
	"    sigma 0 leaves an axis unfiltered.\n"
	"  - box filters take a radius per axis (size 2r+1); sphere filters take the voxels with\n"
	"    (dx/rx)^2 + (dy/ry)^2 + (dz/rz)^2 <= 1.\n"
	"  - transforms: voxel centres at integer coordinates, matrices map output to input\n"
	"    coordinates (scipy's affine_transform), samples outside the stack clamp to its edge.\n"
	"  - comparisons and binary ops write u8 0/1; smoothing, sums, means and transcendental\n"
	"    math write f32; minimum/maximum filters, projections and transforms keep the input\n"
	"    type; labels are u32, 1..N.\n"
	"  - inputs have roles: image (the stack), binary (the stack above its mean, 0/1), labels\n"
	"    (the 6-connected components of that binary image, u32); a run derives them.\n"
	"  - exact: every voxel equal; float(t): |gpu - ref| <= t * max(1, max finite |ref|);\n"
	"    reduce(t): t * log2(voxels) * max(1, |ref|); scaled(t): t * max(1, max |ref|, the\n"
	"    scale the op's help names); rel(t): t * |ref| + FLT_MIN, relative however small;\n"
	"    labels: the same partition, any numbering (background stays 0).\n"
	"  - sizes are WIDTHxHEIGHTxDEPTH (x, y, z), x fastest in memory.\n";

static const char *dtype_rule_name(enum out_dtype_rule r)
{
	return r == OUT_F32 ? "f32" : r == OUT_U8 ? "u8" : r == OUT_U32 ? "u32" : "same as input";
}

static const char *role_name(enum input_role r)
{
	return r == ROLE_BINARY ? "binary" : r == ROLE_LABELS ? "labels" : "image";
}

static const char *param_type_name(enum param_type t)
{
	return t == PARAM_INT ? "int" : t == PARAM_CHOICE ? "choice" : "float";
}

static void compare_text(const struct op_desc *op, char *out, size_t len)
{
	if (op->cmp.kind == CMP_EXACT)
		snprintf(out, len, "exact");
	else if (op->cmp.kind == CMP_LABELS)
		snprintf(out, len, "labels");
	else if (op->cmp.kind == CMP_REDUCE)
		snprintf(out, len, "reduce(%g)", op->cmp.tol);
	else if (op->cmp.kind == CMP_SCALED)
		snprintf(out, len, "scaled(%g)", op->cmp.tol);
	else if (op->cmp.kind == CMP_RELATIVE)
		snprintf(out, len, "rel(%g)", op->cmp.tol);
	else
		snprintf(out, len, "float(%g)", op->cmp.tol);
}

/* "image", or "image, labels" for two-input ops. */
static void roles_text(const struct op_desc *op, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", role_name(op->role[0]), op->n_inputs > 1 ? ", " : "",
		 op->n_inputs > 1 ? role_name(op->role[1]) : "");
}

/* CuPy's name for a scipy-side one: cupyx.scipy.ndimage mirrors scipy.ndimage, cupy numpy. */
static void cupy_name(const char *name, char *out, size_t len)
{
	if (strncmp(name, "scipy.ndimage.", 14) == 0)
		snprintf(out, len, "cupyx.%s", name);
	else if (strncmp(name, "numpy.", 6) == 0)
		snprintf(out, len, "cupy.%s", name + 6);
	else
		out[0] = '\0';
}

/* The op's names elsewhere (ops/aliases.def), one line per library. */
static void print_op_names(const struct op_desc *op)
{
	const char *libs[] = { "pyclesperanto", "scipy" };

	for (size_t l = 0; l < 2; l++) {
		int n = 0;

		for (size_t i = 0; i < op_alias_count; i++) {
			const struct op_alias *a = &op_aliases[i];
			char cupy[128];

			if (strcmp(a->op, op->name) != 0 || strcmp(a->library, libs[l]) != 0)
				continue;
			printf("%s%s%s%s%s", n++ ? ", " : l ? "  scipy/scikit-image/numpy: " :
			       "  pyclesperanto 0.25 (accepted here too): ", a->name,
			       *a->args ? "(" : "", a->args, *a->args ? ")" : "");
			cupy_name(a->name, cupy, sizeof(cupy));
			if (*cupy)
				printf(" (CuPy: %s)", cupy);
		}
		if (n)
			printf("\n");
	}
}

/* The op's documented differences (ops/conventions.def), one line each. */
static void print_op_conventions(const struct op_desc *op)
{
	for (size_t i = 0; i < op_convention_count; i++) {
		const struct op_convention *c = &op_conventions[i];

		if (strcmp(c->op, op->name) == 0)
			printf("  differs from %s: it %s; voxbench %s: %s\n",
			       strcmp(c->library, "scipy") == 0 ? "scipy/scikit-image" :
			       "pyclesperanto 0.25.1", c->theirs, c->ours, c->why);
	}
}

static void print_op_help(const struct op_desc *op)
{
	char cmp[32];

	char roles[64];

	compare_text(op, cmp, sizeof(cmp));
	roles_text(op, roles, sizeof(roles));
	printf("%s (%s): %s\n", op->name, op_category_name(op->category), op->help);
	printf("  inputs: %s; output: %s; compared: %s\n", roles, dtype_rule_name(op->out_dtype),
	       cmp);
	if (op->side_value)
		printf("  also reports: %s (GPU and CPU values in the row)\n", op->side_value);
	for (int i = 0; op->params[i].name; i++) {
		const struct param_spec *p = &op->params[i];
		char def[64];

		op_param_text(p, p->def, def, sizeof(def));
		if (p->type == PARAM_CHOICE)
			printf("  %-10s %-6s default %s, one of %s: %s\n", p->name, "choice", def,
			       p->choices, p->help);
		else
			printf("  %-10s %-6s default %s, %g to %g: %s\n", p->name,
			       param_type_name(p->type), def, p->min, p->max, p->help);
	}
	print_op_names(op);
	print_op_conventions(op);
}

static json_t *op_json(const struct op_desc *op)
{
	json_t *params = json_array(), *roles = json_array(), *dtypes = json_array();
	char cmp[32];

	for (int i = 0; op->params[i].name; i++) {
		const struct param_spec *p = &op->params[i];

		json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:s}", "name", p->name, "type",
				      param_type_name(p->type), "default", p->def, "min", p->min,
				      "max", p->max, "help", p->help);

		if (p->type == PARAM_CHOICE)
			json_object_set_new(o, "choices", json_string(p->choices));
		json_array_append_new(params, o);
	}
	for (int i = 0; i < op->n_inputs; i++)
		json_array_append_new(roles, json_string(role_name(op->role[i])));
	for (int t = 0; t < DT_COUNT; t++)
		if (op->dtypes & DT_BIT(t))
			json_array_append_new(dtypes, json_string(dtype_name((enum dtype)t)));
	compare_text(op, cmp, sizeof(cmp));
	return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:s, s:o, s:s, s:s?}", "name", op->name,
			 "category", op_category_name(op->category), "help", op->help, "inputs",
			 op->n_inputs, "roles", roles, "dtypes", dtypes, "output_dtype",
			 dtype_rule_name(op->out_dtype), "params", params, "compare", cmp,
			 "side_value", op->side_value);
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

static const struct cli_option list_options[] = {
	{ "json", 'j', NULL, "the ops, their parameters and rules as JSON" },
	{ "help", 'h', NULL, NULL },
	{ NULL, 0, NULL, NULL },
};

const struct cli_spec list_spec = {
	.command = "list",
	.usage = "usage: voxbench list [OP] [--json]\n\nOP is voxbench's name or pyclesperanto "
		 "0.25's (median, label(connectivity='sphere'), ...).\nWhere an op differs from "
		 "pyclesperanto or scipy, 'voxbench list OP' says how and why (ops/conventions.def, "
		 "checked by the tests).\n\n",
	.footer = conventions,
	.options = list_options, .permute = 1, .shorts = "jh", .in_usage = 1, .operands = "@ops",
};

int cmd_list(int argc, char **argv)
{
	const struct op_desc *only = NULL;
	int json = 0, c;

	optind = 1;
	while ((c = cli_getopt(argc, argv, &list_spec, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			cli_print_help(stdout, &list_spec, NULL);
			return EXIT_OK;
		} else {
			return usage_error("list", "unknown option '%s'; see 'voxbench list --help'",
					   argv[optind - 1]);
		}
	}
	if (optind + 1 < argc)
		return usage_error("list", "unexpected argument '%s': list takes one op name",
				   argv[optind + 1]);
	if (optind < argc && !(only = op_lookup(argv[optind]))) {
		const char *near = op_closest_name(argv[optind]);

		return usage_error("list", "unknown op '%s'%s%s%s; 'voxbench list' shows them all",
				   argv[optind], near ? " (did you mean " : "", near ? near : "",
				   near ? "?)" : "");
	}
	if (json)
		return list_json(only);
	if (only) {
		print_op_help(only);
		return EXIT_OK;
	}
	for (size_t i = 0; i < op_count; i++) {
		char cmp[32];

		compare_text(&op_table[i], cmp, sizeof(cmp));
		printf("%-37s %-11s %-10s %s\n", op_table[i].name,
		       op_category_name(op_table[i].category), cmp, op_table[i].help);
	}
	return EXIT_OK;
}
