/* common/vb.c: status names, the error buffer, clocks and host facts. */
#define _GNU_SOURCE
#include "vb.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vb_errf(struct vb_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return status;
	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) >= (int)sizeof(err->msg))
		vb_utf8_trim(err->msg); /* a long build log or path: never half a character */
	va_end(ap);
	return status;
}

const char *vb_status_name(int status)
{
	static const struct { int code; const char *name; } names[] = {
		{ VB_OK, "VB_OK" }, { VB_E_ARGS, "VB_E_ARGS" }, { VB_E_NOMEM, "VB_E_NOMEM" },
		{ VB_E_IO, "VB_E_IO" }, { VB_E_DEVICE, "VB_E_DEVICE" },
		{ VB_E_UNSUPPORTED, "VB_E_UNSUPPORTED" }, { VB_E_TOO_BIG, "VB_E_TOO_BIG" },
		{ VB_E_NOLOADER, "VB_E_NOLOADER" }, { VB_E_BUILD, "VB_E_BUILD" },
		{ VB_E_NODEVICE, "VB_E_NODEVICE" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == status)
			return names[i].name;
	return "VB_E_UNKNOWN";
}

double vb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double vb_cpu_ms(void)
{
	struct rusage u;

	if (getrusage(RUSAGE_SELF, &u))
		return NAN;
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
	       (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

/* One "Key:   N kB" line of /proc/meminfo (or /proc/self/status) in bytes; 0 when absent. */
static uint64_t meminfo_file_bytes(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t keylen = strlen(key);
	uint64_t bytes = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
			bytes = strtoull(line + keylen + 1, NULL, 10) * 1024u;
			break;
		}
	}
	fclose(f);
	return bytes;
}

uint64_t vb_host_memory_total(void)
{
	return meminfo_file_bytes("/proc/meminfo", "MemTotal");
}

uint64_t vb_host_memory_available(void)
{
	return meminfo_file_bytes("/proc/meminfo", "MemAvailable");
}

/* ---- how many threads can be started ---- */

struct trial {
	pthread_mutex_t lock;
	pthread_cond_t go;
	int released;
};

static void *wait_for_release(void *arg)
{
	struct trial *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->released)
		pthread_cond_wait(&t->go, &t->lock);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int vb_threads_startable(int wanted)
{
	struct trial t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t *ids = wanted > 1 ? calloc((size_t)wanted - 1, sizeof(*ids)) : NULL;
	int n = 0;

	/* the default attributes are libgomp's too (unless OMP_STACKSIZE is set): the same stacks */
	while (ids && n < wanted - 1 && pthread_create(&ids[n], NULL, wait_for_release, &t) == 0)
		n++;
	pthread_mutex_lock(&t.lock);
	t.released = 1;
	pthread_cond_broadcast(&t.go);
	pthread_mutex_unlock(&t.lock);
	for (int i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
	free(ids);
	return wanted > 1 && !ids ? 1 : n + 1;
}

uint64_t vb_address_space_left(void)
{
	struct rlimit rl;
	uint64_t used = meminfo_file_bytes("/proc/self/status", "VmSize");

	if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur > used ? (uint64_t)rl.rlim_cur - used : 0;
}

const char *vb_memory_limit_hint(char buf[160])
{
	struct rlimit rl;

	buf[0] = '\0';
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		snprintf(buf, 160, " (ulimit -v limits this process to %llu MiB, %llu MiB of it "
			 "free: raise it or use a smaller --size)",
			 (unsigned long long)(rl.rlim_cur >> 20),
			 (unsigned long long)(vb_address_space_left() >> 20));
	return buf;
}

int vb_cpu_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

static const char *file_kind(mode_t m)
{
	static const struct { mode_t type; const char *name; } kinds[] = {
		{ S_IFIFO, "a FIFO" }, { S_IFCHR, "a character device" },
		{ S_IFBLK, "a block device" }, { S_IFDIR, "a folder" }, { S_IFSOCK, "a socket" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((m & S_IFMT) == kinds[i].type)
			return kinds[i].name;
	return "a special file";
}

int vb_open_regular(const char *path, const char *expected, int *fd, struct vb_err *err)
{
	struct stat st;
	int status = VB_OK;

	/* O_NONBLOCK: opening a FIFO that no one writes would wait forever */
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0)
		return vb_errf(err, VB_E_IO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(*fd, &st) != 0)
		status = vb_errf(err, VB_E_IO, "%s: cannot read: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		status = vb_errf(err, VB_E_ARGS, "%s: not a regular file (%s); give the path of %s",
				 path, file_kind(st.st_mode), expected);
	else if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0)
		status = vb_errf(err, VB_E_IO, "%s: cannot read: %s", path, strerror(errno));
	if (status) {
		close(*fd);
		*fd = -1;
	}
	return status;
}

unsigned vb_file_mode(void)
{
	mode_t mask = umask(022);

	umask(mask);
	return 0666 & ~(unsigned)mask;
}

int vb_mul_size(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

int vb_contains_nocase(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncasecmp(haystack, needle, n) == 0)
			return 1;
	return n == 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double vb_median(const double *v, size_t n)
{
	double sorted[256], m;

	if (n == 0)
		return 0;
	if (n > 256)
		n = 256;
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	m = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	return m;
}
