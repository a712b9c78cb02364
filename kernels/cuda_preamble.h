/*
 * kernels/cuda_preamble.h: the OpenCL C spellings the kernels use, as CUDA. The CUDA backend
 * prepends this text to every kernels/<name>.cl before NVRTC compiles it (with
 * --device-as-default-execution-space, so plain helper functions become __device__), which is
 * how one kernel source serves both backends. Macros and inline functions only: no source is
 * rewritten.
 *
 * The shared subset, as mapped here:
 *   __kernel -> extern "C" __global__ (unmangled names for cuModuleGetFunction)
 *   __global, __private -> nothing; __local -> __shared__ (arrays declared in a kernel body);
 *   __constant -> const (pointer parameters; their data stays in global memory)
 *   get_{global,local,group}_id, get_{local,global}_size, get_num_groups -> size_t, as OpenCL
 *   barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE) -> __syncthreads()
 *   uchar, ushort, uint, ulong; convert_<type>(x) -> a cast (round toward zero, as OpenCL's
 *   default); convert_<type>_sat(float) -> saturate, round toward zero, NaN -> 0
 *   clamp (int, uint, float); min, max, fabs and the math library are CUDA's own
 *   atomic_{add,sub,inc,dec,xchg,min,max,and,or,cmpxchg} on 32-bit int/uint -> atomic*();
 *   as_uint, as_int (of a float), as_float (of a uint) -> __float_as_uint etc.;
 *   mem_fence -> __threadfence(); vload4(i, const uint *) -> a uint4 load (.x .y .z .w)
 * Outside it (no CUDA equivalent by macros): __local pointer parameters (CUDA has no __shared__
 * parameters: pass the array through a macro), other vector types and their literals, images.
 *
 * The conversions are plain C as well, so that tests/test_cuda_preamble.c runs them on the host
 * against the CPU reference's dtype_convert_sat().
 */
#ifndef VB_CUDA_PREAMBLE_H
#define VB_CUDA_PREAMBLE_H

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define VB_CUDA_DEVICE 1
#define VB_FN __device__ __forceinline__ /* not static: unused ones then draw no warning */
#else
#define VB_CUDA_DEVICE 0
#define VB_FN static inline
#endif

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long long ulong; /* OpenCL's ulong is 64-bit everywhere */

/* ---- address spaces and kernels ---- */
#define __kernel extern "C" __global__
#define __global
#define __private
#define __local __shared__
#define __constant const

/* ---- conversions ---- */
#define convert_char(x) ((signed char)(x))
#define convert_uchar(x) ((uchar)(x))
#define convert_short(x) ((short)(x))
#define convert_ushort(x) ((ushort)(x))
#define convert_int(x) ((int)(x))
#define convert_uint(x) ((uint)(x))
#define convert_long(x) ((long long)(x))
#define convert_ulong(x) ((ulong)(x))
#define convert_float(x) ((float)(x))

/*
 * float -> integer with OpenCL's _sat rules. Comparisons come first because a cast of NaN or of
 * an out-of-range float is undefined in C and C++; NaN fails every comparison, so it lands on 0.
 */
VB_FN uchar convert_uchar_sat(float x)
{
	return x > 0.0f ? (x < 255.0f ? (uchar)x : (uchar)255) : (uchar)0;
}

VB_FN ushort convert_ushort_sat(float x)
{
	return x > 0.0f ? (x < 65535.0f ? (ushort)x : (ushort)65535) : (ushort)0;
}

VB_FN uint convert_uint_sat(float x)
{
	return x > 0.0f ? (x < 4294967296.0f ? (uint)x : 4294967295u) : 0u;
}

VB_FN signed char convert_char_sat(float x)
{
	if (x != x)
		return 0;
	return x > -128.0f ? (x < 127.0f ? (signed char)x : (signed char)127) : (signed char)-128;
}

VB_FN short convert_short_sat(float x)
{
	if (x != x)
		return 0;
	return x > -32768.0f ? (x < 32767.0f ? (short)x : (short)32767) : (short)-32768;
}

VB_FN int convert_int_sat(float x)
{
	if (x != x)
		return 0;
	/* 2^31 is the first float above INT_MAX; -2^31 is INT_MIN itself */
	return x > -2147483648.0f ? (x < 2147483648.0f ? (int)x : 2147483647) : (-2147483647 - 1);
}

/* ---- integer and float helpers OpenCL has and CUDA lacks ---- */
VB_FN int clamp(int x, int lo, int hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

#ifdef __cplusplus
VB_FN uint clamp(uint x, uint lo, uint hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

VB_FN float clamp(float x, float lo, float hi)
{
	return fminf(fmaxf(x, lo), hi);
}
#endif

/* ---- work-items: one work-group is one block, the NDRange is the grid times the block ---- */
#if VB_CUDA_DEVICE
#define VB_AXIS(v, d) ((d) == 0 ? (v).x : (d) == 1 ? (v).y : (v).z)

VB_FN size_t get_local_id(uint d)
{
	return VB_AXIS(threadIdx, d);
}

VB_FN size_t get_group_id(uint d)
{
	return VB_AXIS(blockIdx, d);
}

VB_FN size_t get_local_size(uint d)
{
	return VB_AXIS(blockDim, d);
}

VB_FN size_t get_num_groups(uint d)
{
	return VB_AXIS(gridDim, d);
}

VB_FN size_t get_global_id(uint d)
{
	return (size_t)VB_AXIS(blockIdx, d) * VB_AXIS(blockDim, d) + VB_AXIS(threadIdx, d);
}

VB_FN size_t get_global_size(uint d)
{
	return (size_t)VB_AXIS(gridDim, d) * VB_AXIS(blockDim, d);
}

/* __syncthreads orders shared and global memory within the block: every fence flag is met */
#define CLK_LOCAL_MEM_FENCE 1
#define CLK_GLOBAL_MEM_FENCE 2
#define barrier(flags) __syncthreads()

/* ---- OpenCL 1.2's 32-bit atomics (int and uint, global or local memory) and bit casts ---- */
#define atomic_add(p, v) atomicAdd((p), (v))
#define atomic_sub(p, v) atomicSub((p), (v))
#define atomic_inc(p) atomicAdd((p), 1)
#define atomic_dec(p) atomicSub((p), 1)
#define atomic_xchg(p, v) atomicExch((p), (v))
#define atomic_min(p, v) atomicMin((p), (v))
#define atomic_max(p, v) atomicMax((p), (v))
#define atomic_and(p, v) atomicAnd((p), (v))
#define atomic_or(p, v) atomicOr((p), (v))
#define atomic_cmpxchg(p, cmp, v) atomicCAS((p), (cmp), (v))
#define as_uint(x) __float_as_uint(x)
#define as_int(x) __float_as_int(x)
#define as_float(x) __uint_as_float((uint)(x))
#define mem_fence(flags) __threadfence()

/* vload4 of uint words only: the one vector load the kernels use (16 bytes per work-item) */
VB_FN uint4 vload4(size_t i, const uint *p)
{
	return ((const uint4 *)p)[i];
}
#endif

#endif
