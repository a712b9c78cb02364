/*
 * tests/ref_dump.c: run one op's CPU reference on raw files (a helper of the cross-checks).
 *
 *   ref_dump [-t THREADS] [-n RUNS] OP WxHxD DTYPE[,DTYPE1] IN0.raw [IN1.raw] OUT.raw
 *            [name=value ...]
 *
 * DTYPE is every input's dtype, or "T0,T1" for two inputs of different dtypes (an image and its
 * u32 labels). Ops with a side value (threshold_otsu's threshold) print "NAME VALUE" on stdout.
 *
 * Inputs and the output are raw voxels, x fastest, in the host's byte order (little-endian on
 * every machine voxbench runs on). The output has the dims and dtype of the op's row. -t sets the
 * reference's thread count (default: every CPU thread); -n runs the op RUNS times and prints the
 * median wall time to stderr. Exit status: 0 done, 1 I/O or op failure, 2 bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/vb.h"
#include "../ops/op.h"
#include "../stacks/stack.h"

#define USAGE "usage: ref_dump [-t THREADS] [-n RUNS] OP WxHxD DTYPE IN0.raw [IN1.raw] OUT.raw " \
	      "[name=value ...]"

/* A positive int option value, or -1. */
static int parse_count(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);

	return *text && !*end && v > 0 && v <= 100000 ? (int)v : -1;
}

/* Fill s (allocated) from path, which must hold exactly stack_bytes(s). */
static int read_raw(const char *path, struct stack *s, struct vb_err *err)
{
	FILE *f = fopen(path, "rb");
	size_t want = stack_bytes(s), got;
	int status = VB_OK;

	if (!f)
		return vb_errf(err, VB_E_IO, "cannot open '%s'", path);
	got = fread(s->data, 1, want, f);
	if (ferror(f)) {
		status = vb_errf(err, VB_E_IO, "cannot read '%s'", path);
		goto out;
	}
	if (got != want || fgetc(f) != EOF) {
		status = vb_errf(err, VB_E_ARGS,
				 "'%s' does not hold %zu bytes (%zux%zux%zu %s); check the size and dtype",
				 path, want, s->width, s->height, s->depth, dtype_name(s->dtype));
		goto out;
	}
out:
	fclose(f);
	return status;
}

static int write_raw(const char *path, const struct stack *s, struct vb_err *err)
{
	FILE *f = fopen(path, "wb");
	size_t n = stack_bytes(s);

	if (!f)
		return vb_errf(err, VB_E_IO, "cannot create '%s'", path);
	if (fwrite(s->data, 1, n, f) != n) {
		fclose(f);
		return vb_errf(err, VB_E_IO, "cannot write '%s'", path);
	}
	if (fclose(f) != 0)
		return vb_errf(err, VB_E_IO, "cannot write '%s'", path);
	return VB_OK;
}

int main(int argc, char **argv)
{
	static struct vb_err err;
	struct stack in[OP_MAX_INPUTS], out;
	struct op_call call;
	const struct op_desc *op;
	size_t dims[3], odims[3];
	enum dtype t, t1;
	char dtype0[16], *comma;
	double side = 0;
	int threads = vb_cpu_threads(), runs = 0, argi = 1, n_in = 0, i, status = VB_OK, rc = 1;
	const char *out_path;
	double times[256];

	memset(in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	memset(&call, 0, sizeof(call));

	while (argi + 1 < argc && argv[argi][0] == '-') {
		int v = parse_count(argv[argi + 1]);

		if (strcmp(argv[argi], "-t") == 0 && v > 0)
			threads = v;
		else if (strcmp(argv[argi], "-n") == 0 && v > 0)
			runs = v;
		else {
			fprintf(stderr, "ref_dump: bad option '%s %s'; %s\n", argv[argi],
				argv[argi + 1], USAGE);
			return 2;
		}
		argi += 2;
	}
	if (argc - argi < 5) {
		fprintf(stderr, "ref_dump: too few arguments; %s\n", USAGE);
		return 2;
	}
	op = op_find(argv[argi]);
	if (!op) {
		fprintf(stderr, "ref_dump: unknown op '%s'; see 'voxbench list'\n", argv[argi]);
		return 2;
	}
	if (size_parse(argv[argi + 1], dims, &err) != VB_OK) {
		fprintf(stderr, "ref_dump: %s\n", err.msg);
		return 2;
	}
	snprintf(dtype0, sizeof(dtype0), "%s", argv[argi + 2]);
	comma = strchr(dtype0, ',');
	if (comma)
		*comma++ = '\0';
	if (dtype_parse(dtype0, &t) != VB_OK || !(op->dtypes & DT_BIT(t)) ||
	    (comma && dtype_parse(comma, &t1) != VB_OK)) {
		fprintf(stderr, "ref_dump: dtype '%s' is not one %s accepts (u8, u16, u32, i32, f32)\n",
			argv[argi + 2], op->name);
		return 2;
	}
	if (!comma)
		t1 = t;
	argi += 3;
	if (argc - argi < op->n_inputs + 1) {
		fprintf(stderr, "ref_dump: %s takes %d input file(s) and an output file; %s\n",
			op->name, op->n_inputs, USAGE);
		return 2;
	}

	call.op = op;
	call.threads = threads;
	call.side_value = &side;
	op_default_params(op, call.p);
	for (i = argi + op->n_inputs + 1; i < argc; i++) {
		if (op_set_param(op, call.p, argv[i], &err) != VB_OK) {
			fprintf(stderr, "ref_dump: %s\n", err.msg);
			return 2;
		}
	}

	for (n_in = 0; n_in < op->n_inputs; n_in++) {
		status = stack_alloc(&in[n_in], dims[0], dims[1], dims[2], n_in ? t1 : t, &err);
		if (status == VB_OK)
			status = read_raw(argv[argi + n_in], &in[n_in], &err);
		if (status != VB_OK)
			goto out;
		call.in[n_in] = &in[n_in];
	}
	out_path = argv[argi + op->n_inputs];
	status = op_output_dims(&call, odims, &err);
	if (status != VB_OK)
		goto out;
	status = stack_alloc(&out, odims[0], odims[1], odims[2], op_output_dtype(op, t), &err);
	if (status != VB_OK)
		goto out;
	call.out = &out;

	if (runs > (int)(sizeof(times) / sizeof(times[0])))
		runs = (int)(sizeof(times) / sizeof(times[0]));
	for (i = 0; i < (runs > 0 ? runs : 1); i++) {
		double t0 = vb_now_ms();

		status = op->ref(&call, &err);
		times[i] = vb_now_ms() - t0;
		if (status != VB_OK)
			goto out;
	}
	if (runs > 0)
		fprintf(stderr, "ref_dump: %s %zux%zux%zu %s: median %.3f ms over %d runs, %d threads\n",
			op->name, dims[0], dims[1], dims[2], dtype_name(t),
			vb_median(times, (size_t)runs), runs, threads);
	status = write_raw(out_path, &out, &err);
	if (status == VB_OK && op->side_value)
		printf("%s %.9g\n", op->side_value, side);
out:
	if (status == VB_OK)
		rc = 0;
	else {
		fprintf(stderr, "ref_dump: %s\n", err.msg);
		rc = status == VB_E_ARGS ? 2 : 1;
	}
	for (i = 0; i < OP_MAX_INPUTS; i++)
		stack_free(&in[i]); /* zeroed or allocated: both are fine */
	stack_free(&out);
	return rc;
}
