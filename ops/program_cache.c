/* ops/program_cache.c: compiled kernels on disk, keyed by a hash of everything that built them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "backend.h"

void program_cache_key(const char *const parts[], size_t nparts, char key[33])
{
	XXH3_state_t *state = XXH3_createState();
	XXH128_hash_t h;

	XXH3_128bits_reset(state);
	for (size_t i = 0; i < nparts; i++) {
		/* the terminating NUL separates parts, so "ab"+"c" and "a"+"bc" differ */
		XXH3_128bits_update(state, parts[i], strlen(parts[i]) + 1);
	}
	h = XXH3_128bits_digest(state);
	XXH3_freeState(state);
	snprintf(key, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

/* The cache folder (created), or NULL when caching is off or impossible. */
static const char *cache_dir(void)
{
	static char dir[4096];
	const char *env = getenv("VOXBENCH_CACHE_DIR"), *base;

	if (getenv("VOXBENCH_NO_CACHE") && strcmp(getenv("VOXBENCH_NO_CACHE"), "0") != 0)
		return NULL;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
	} else if ((base = getenv("XDG_CACHE_HOME")) && *base) {
		snprintf(dir, sizeof(dir), "%s/voxbench", base);
	} else if ((base = getenv("HOME")) && *base) {
		snprintf(dir, sizeof(dir), "%s/.cache", base);
		mkdir(dir, 0755);
		snprintf(dir, sizeof(dir), "%s/.cache/voxbench", base);
	} else {
		return NULL;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return NULL;
	return dir;
}

int program_cache_load(const char *key, unsigned char **data, size_t *len)
{
	const char *dir = cache_dir();
	char path[4200];
	FILE *f;
	long size;
	int status = VB_E_IO;

	*data = NULL;
	if (!dir)
		return VB_E_IO;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, key);
	f = fopen(path, "rb");
	if (!f)
		return VB_E_IO;
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0)
		goto out;
	*data = malloc((size_t)size);
	if (!*data || fread(*data, 1, (size_t)size, f) != (size_t)size) {
		free(*data);
		*data = NULL;
		goto out;
	}
	*len = (size_t)size;
	status = VB_OK;
out:
	fclose(f);
	return status;
}

void program_cache_store(const char *key, const unsigned char *data, size_t len)
{
	const char *dir = cache_dir();
	char path[4200], tmp[4300];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, key);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	f = fopen(tmp, "wb");
	if (!f)
		return;
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
}
