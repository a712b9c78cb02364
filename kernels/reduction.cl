/*
 * kernels/reduction.cl: reductions of a whole stack to one value, in two launches: every
 * work-group sums a grid-strided share into one partial, then one work-group sums the partials.
 * Kept apart from other kernels because it uses __local memory.
 */
#ifndef T_IN
#define T_IN float
#endif
#ifndef GROUP_SIZE
#define GROUP_SIZE 256
#endif

/*
 * Tree sum of the GROUP_SIZE values of the __local array scratch; the total ends in scratch[0].
 * A macro, not a function: CUDA has no __local (__shared__) pointer parameters.
 */
#define GROUP_SUM(scratch)                                                                       \
	do {                                                                                     \
		size_t lid_ = get_local_id(0);                                                   \
		for (size_t step_ = GROUP_SIZE / 2; step_ > 0; step_ /= 2) {                     \
			barrier(CLK_LOCAL_MEM_FENCE);                                            \
			if (lid_ < step_)                                                        \
				(scratch)[lid_] += (scratch)[lid_ + step_];                      \
		}                                                                                \
		barrier(CLK_LOCAL_MEM_FENCE);                                                    \
	} while (0)

__kernel void sum_partials(__global const T_IN *src, __global float *partials, const ulong n)
{
	__local float scratch[GROUP_SIZE];
	size_t stride = get_global_size(0), i = get_global_id(0);
	float acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;

	/* four independent sums keep four loads in flight per work-item */
	for (; i + 3 * stride < n; i += 4 * stride) {
		acc0 += (float)src[i];
		acc1 += (float)src[i + stride];
		acc2 += (float)src[i + 2 * stride];
		acc3 += (float)src[i + 3 * stride];
	}
	for (; i < n; i += stride)
		acc0 += (float)src[i];
	scratch[get_local_id(0)] = (acc0 + acc1) + (acc2 + acc3);
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		partials[get_group_id(0)] = scratch[0];
}

__kernel void sum_final(__global const float *partials, __global float *out, const ulong n)
{
	__local float scratch[GROUP_SIZE];
	float acc = 0.0f;

	for (size_t i = get_local_id(0); i < n; i += GROUP_SIZE)
		acc += partials[i];
	scratch[get_local_id(0)] = acc;
	GROUP_SUM(scratch);
	if (get_local_id(0) == 0)
		out[0] = scratch[0];
}
