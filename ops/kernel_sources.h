/*
 * ops/kernel_sources.h: the kernel sources embedded at build time (kernels/embed.sh).
 * VOXBENCH_KERNEL_DIR=dir loads kernels/<name>.cl from disk instead, for kernel development.
 */
#ifndef VB_KERNEL_SOURCES_H
#define VB_KERNEL_SOURCES_H

struct kernel_source {
	const char *name;   /* file stem: "elementwise" for kernels/pixel.cl */
	const char *source;
};

extern const struct kernel_source kernel_sources[];
extern const unsigned kernel_source_count;

#endif
