/* ops/program_cache.c: compiled kernels on disk, keyed by a hash of everything that built them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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
	static _Thread_local char dir[4096]; /* threads compile ahead side by side */
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

/*
 * An entry is a header, then the binary as the driver gave it:
 *   "voxbench-cache 1\n"  <key, 32 hex>"\n"  <body bytes, 16 hex>"\n"  <XXH3-64 of body>"\n"
 * so a truncated, rewritten or flipped entry, or another entry's (or program's) file put in its
 * place, is found before the driver sees it: some drivers crash on a bad binary.
 */
#define MAGIC "voxbench-cache 1\n"
#define ENTRY_SUFFIX ".vbk" /* not the headerless ".bin" of before: those are never read */
#define HEADER_LEN (sizeof(MAGIC) - 1 + 33 + 17 + 17)
#define MAX_ENTRY ((size_t)1 << 30)

static void entry_header(const char *key, const unsigned char *body, size_t len,
			 char header[HEADER_LEN + 1])
{
	snprintf(header, HEADER_LEN + 1, MAGIC "%.32s\n%016llx\n%016llx\n", key,
		 (unsigned long long)len, (unsigned long long)XXH3_64bits(body, len));
}

/* Why the entry at buf (size bytes) is not the one for key, or NULL when it is. */
static const char *entry_problem(const char *key, const unsigned char *buf, size_t size)
{
	char want[HEADER_LEN + 1];

	if (size < HEADER_LEN || memcmp(buf, MAGIC, sizeof(MAGIC) - 1) != 0)
		return "not a voxbench cache entry";
	if (memcmp(buf + sizeof(MAGIC) - 1, key, 32) != 0)
		return "made for another kernel";
	entry_header(key, buf + HEADER_LEN, size - HEADER_LEN, want);
	if (memcmp(buf, want, HEADER_LEN - 17) != 0) /* all but the checksum line */
		return "truncated or grown";
	if (memcmp(buf, want, HEADER_LEN) != 0)
		return "its checksum does not match";
	return NULL;
}

/* A bad entry goes (a folder in its place cannot), with a note: it is built again. */
static void drop_entry(const char *path, const char *why)
{
	int gone = unlink(path) == 0 || rmdir(path) == 0;

	fprintf(stderr, "voxbench: kernel cache entry %s is damaged (%s): %s; compiling the "
		"kernel again\n", path, why, gone ? "removed" : "cannot remove it");
}

int program_cache_load(const char *key, unsigned char **data, size_t *len)
{
	const char *dir = cache_dir(), *why = NULL;
	unsigned char *buf = NULL;
	char path[4200];
	struct stat st;
	struct vb_err err;
	int fd = -1, status = VB_E_IO;
	size_t got = 0;

	*data = NULL;
	if (!dir)
		return VB_E_IO;
	snprintf(path, sizeof(path), "%s/%s" ENTRY_SUFFIX, dir, key);
	if (lstat(path, &st) != 0)
		return VB_E_IO; /* absent: the usual miss */
	if (vb_open_regular(path, "a cache entry", &fd, &err)) {
		why = "not a regular file";
		goto out;
	}
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > MAX_ENTRY ||
	    !(buf = malloc((size_t)st.st_size))) {
		why = st.st_size <= 0 ? "empty" : "too large";
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!(why = entry_problem(key, buf, got))) {
		*len = got - HEADER_LEN;
		memmove(buf, buf + HEADER_LEN, *len);
		*data = buf;
		buf = NULL;
		status = VB_OK;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (why)
		drop_entry(path, why);
	return status;
}

void program_cache_store(const char *key, const unsigned char *data, size_t len)
{
	const char *dir = cache_dir();
	char path[4200], tmp[4300], header[HEADER_LEN + 1];
	FILE *f = NULL;
	int fd, slot, ok;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s" ENTRY_SUFFIX, dir, key);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = vb_mkstemp_tracked(tmp, &slot); /* a signal removes it */
	if (fd >= 0 && !(f = fdopen(fd, "wb")))
		close(fd);
	if (!f) {
		if (fd >= 0)
			unlink(tmp);
		vb_cleanup_done(slot);
		return;
	}
	entry_header(key, data, len, header);
	ok = fchmod(fd, vb_file_mode()) == 0 && fputs(header, f) >= 0 &&
	     fwrite(data, 1, len, f) == len;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
	vb_cleanup_done(slot);
}

int program_cache_enabled(void)
{
	return cache_dir() != NULL;
}

int program_cache_has(const char *key)
{
	const char *dir = cache_dir();
	char path[4200];
	struct stat st;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s" ENTRY_SUFFIX, dir, key);
	return lstat(path, &st) == 0; /* whatever it is, loading it checks it and says so */
}

/* The keys being built now (few: one per compile thread), and who waits for them. */
#define MAX_IN_FLIGHT 256
static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	char key[MAX_IN_FLIGHT][33];
	int n;
} flight = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { { 0 } }, 0 };

static int in_flight(const char *key)
{
	for (int i = 0; i < flight.n; i++)
		if (!strcmp(flight.key[i], key))
			return i;
	return -1;
}

int program_cache_claim(const char *key)
{
	int waited = 0, mine;

	pthread_mutex_lock(&flight.lock);
	while (in_flight(key) >= 0) {
		waited = 1;
		pthread_cond_wait(&flight.done, &flight.lock);
	}
	/* a full table only loses the sharing: the caller builds, as without it */
	mine = !waited;
	if (mine && flight.n < MAX_IN_FLIGHT)
		snprintf(flight.key[flight.n++], 33, "%s", key);
	pthread_mutex_unlock(&flight.lock);
	return mine;
}

void program_cache_release(const char *key)
{
	int i;

	pthread_mutex_lock(&flight.lock);
	if ((i = in_flight(key)) >= 0)
		memcpy(flight.key[i], flight.key[--flight.n], 33);
	pthread_cond_broadcast(&flight.done);
	pthread_mutex_unlock(&flight.lock);
}

int program_cache_claim_absent(const char *key)
{
	/* claimed after a wait: a launch that needed it built it meanwhile */
	if (program_cache_has(key) || !program_cache_claim(key))
		return 0;
	if (program_cache_has(key)) { /* stored between the look and the claim */
		program_cache_release(key);
		return 0;
	}
	return 1;
}

/* Whether a folder entry's name is one of ours: <32 hex>.vbk, or its temporary .vbk.XXXXXX. */
static int entry_name(const char *name, int *temporary)
{
	size_t n = strspn(name, "0123456789abcdef"), suffix = strlen(ENTRY_SUFFIX);

	if (n != 32 || strncmp(name + 32, ENTRY_SUFFIX, suffix) != 0)
		return 0;
	*temporary = name[32 + suffix] == '.' && strlen(name + 32 + suffix) == 7;
	return name[32 + suffix] == '\0' || *temporary;
}

/* Visit each of our regular files in the cache folder; fn returns nonzero to stop. */
static int each_entry(const char *dir, int (*fn)(const char *path, const struct stat *st,
						 int temporary, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int stop = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (!stop && (e = readdir(d))) {
		char path[4400];
		struct stat st;
		int temporary = 0;

		if (!entry_name(e->d_name, &temporary))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) /* never a link or a folder */
			stop = fn(path, &st, temporary, arg);
	}
	closedir(d);
	return stop;
}

static int count_entry(const char *path, const struct stat *st, int temporary, void *arg)
{
	struct program_cache_stats *s = arg;

	(void)path;
	s->entries += !temporary;
	s->temporary += temporary;
	s->bytes += (unsigned long long)st->st_size;
	return 0;
}

int program_cache_stats(struct program_cache_stats *st)
{
	const char *dir = cache_dir();

	memset(st, 0, sizeof(*st));
	if (!dir)
		return VB_OK;
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	return each_entry(dir, count_entry, st) < 0 ? VB_E_IO : VB_OK;
}

struct clearing {
	long removed;
	char *failed;
	size_t len;
};

static int remove_entry_file(const char *path, const struct stat *st, int temporary, void *arg)
{
	struct clearing *c = arg;

	(void)st;
	(void)temporary;
	if (unlink(path) != 0) {
		snprintf(c->failed, c->len, "%s", path);
		return 1;
	}
	c->removed++;
	return 0;
}

long program_cache_clear(char *failed, size_t len)
{
	const char *dir = cache_dir();
	struct clearing c = { 0, failed, len };
	int stop;

	failed[0] = '\0';
	if (!dir)
		return 0;
	stop = each_entry(dir, remove_entry_file, &c);
	if (stop < 0)
		snprintf(failed, len, "%s", dir);
	return stop ? -1 : c.removed;
}
