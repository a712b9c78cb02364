/* ops/kernel_source.c: embedded kernel sources, or kernels/<name>.cl from VOXBENCH_KERNEL_DIR. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "kernel_sources.h"

#define DISK_SOURCES_MAX 32

/* Sources read from disk stay loaded for the process: kernels are built many times. */
static struct {
	char name[64];
	char *text;
} disk_sources[DISK_SOURCES_MAX];

static const char *load_from_disk(const char *dir, const char *name, struct vb_err *err)
{
	char path[4200];
	FILE *f;
	long size;
	char *text;
	int i;

	for (i = 0; i < DISK_SOURCES_MAX && disk_sources[i].text; i++)
		if (strcmp(disk_sources[i].name, name) == 0)
			return disk_sources[i].text;
	if (i == DISK_SOURCES_MAX) {
		vb_errf(err, VB_E_ARGS, "too many kernel files in %s", dir);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s.cl", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		vb_errf(err, VB_E_IO, "cannot read %s (VOXBENCH_KERNEL_DIR=%s)", path, dir);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = size >= 0 ? calloc((size_t)size + 1, 1) : NULL;
	if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		fclose(f);
		vb_errf(err, VB_E_IO, "cannot read %s", path);
		return NULL;
	}
	fclose(f);
	snprintf(disk_sources[i].name, sizeof(disk_sources[i].name), "%s", name);
	disk_sources[i].text = text;
	return text;
}

const char *kernel_source(const char *name, struct vb_err *err)
{
	const char *dir = getenv("VOXBENCH_KERNEL_DIR");

	if (dir && *dir) {
		static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER; /* programs build ahead
									    * on several threads */
		const char *text;

		pthread_mutex_lock(&loading);
		text = load_from_disk(dir, name, err);
		pthread_mutex_unlock(&loading);
		return text;
	}
	for (unsigned i = 0; i < kernel_source_count; i++)
		if (strcmp(kernel_sources[i].name, name) == 0)
			return kernel_sources[i].source;
	vb_errf(err, VB_E_ARGS, "no kernel source named %s (kernels/%s.cl)", name, name);
	return NULL;
}
