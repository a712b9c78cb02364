/*
 * ops/inputs.c: the input each op's role asks for (ops/op.h enum input_role), derived once per block
 * from the block's stacks: binary images for morphology and masks, label images for label ops.
 */
#include <string.h>

#include "runner.h"

/* in > mean(in) as 0/1 in in's dtype: the blobs of a blob stack, half the voxels of noise. */
static int derive_binary(const struct stack *in, struct stack *out, struct vb_err *err)
{
	size_t n = stack_voxels(in);
	double sum = 0, mean;
	int status = stack_alloc(out, in->width, in->height, in->depth, in->dtype, err);

	if (status)
		return status;
	for (size_t i = 0; i < n; i++)
		sum += stack_get(in, i);
	mean = n ? sum / n : 0;
	for (size_t i = 0; i < n; i++)
		stack_set(out, i, stack_get(in, i) > mean ? 1 : 0);
	snprintf(out->name, sizeof(out->name), "%.24s>mean", in->name);
	snprintf(out->source, sizeof(out->source), "%.480s, above its mean", in->source);
	memcpy(out->voxel_size, in->voxel_size, sizeof(out->voxel_size));
	return VB_OK;
}

static int derive_labels(const struct stack *binary, struct stack *out, struct vb_err *err)
{
	/* the table's own 6-connected labelling, so ops/ calls no reference by name */
	struct op_call c = { .op = op_find("connected_components_labeling_diamond"),
			     .in = { binary }, .out = out,
			     .threads = vb_cpu_threads() };
	int status = stack_alloc(out, binary->width, binary->height, binary->depth, DT_U32, err);

	if (!status)
		status = c.op->ref(&c, err);
	if (status) {
		stack_free(out);
		return status;
	}
	snprintf(out->name, sizeof(out->name), "%.24s:lab", binary->name);
	snprintf(out->source, sizeof(out->source), "%.480s, labelled (6-connected)",
		 binary->source);
	memcpy(out->voxel_size, binary->voxel_size, sizeof(out->voxel_size));
	return VB_OK;
}

int op_inputs_resolve(struct op_inputs *set, const struct op_desc *op,
		      const struct stack *in[OP_MAX_INPUTS], struct vb_err *err)
{
	for (int i = 0; i < op->n_inputs; i++) {
		int status = VB_OK;

		switch (op->role[i]) {
		case ROLE_IMAGE:
			in[i] = set->image[i];
			continue;
		case ROLE_LABELS:
			if (!set->labels[i].data && !set->binary[i].data)
				status = derive_binary(set->image[i], &set->binary[i], err);
			if (!status && !set->labels[i].data)
				status = derive_labels(&set->binary[i], &set->labels[i], err);
			in[i] = &set->labels[i];
			break;
		case ROLE_BINARY:
			if (!set->binary[i].data)
				status = derive_binary(set->image[i], &set->binary[i], err);
			in[i] = &set->binary[i];
			break;
		}
		if (status)
			return status;
	}
	return VB_OK;
}

void op_inputs_free(struct op_inputs *set)
{
	for (int i = 0; i < OP_MAX_INPUTS; i++) {
		stack_free(&set->binary[i]);
		stack_free(&set->labels[i]);
	}
}
