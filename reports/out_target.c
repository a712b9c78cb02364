/*
 * reports/out_target.c: where `run --out` writes its report, decided before any work starts.
 *
 * Only regular files are replaced atomically (a temporary file beside them, renamed into
 * place); through a symbolic link the file it names is replaced and the link stays. A terminal,
 * a pipe, a FIFO or a character device is written in place (replacing /dev/full with a regular
 * file, as root, is data loss); a path that is this process's stdout or stderr (a link to
 * /proc/self/fd/1, /dev/stdout) is written to that descriptor; "-" is stdout. A folder, a block
 * device, a missing folder and a name too long for its temporary copy are refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

/* The temporary copy beside the file: out_open's "NAME.XXXXXX". */
#define TMP_SUFFIX_LEN 7

/* Whether st is the file behind descriptor fd. */
static int same_file(const struct stat *st, int fd)
{
	struct stat fs;

	return fstat(fd, &fs) == 0 && fs.st_dev == st->st_dev && fs.st_ino == st->st_ino;
}

/* A file that will be created or replaced at path: its folder exists and takes files. */
static int atomic_ok(const char *given, const char *path, struct vb_err *err)
{
	char *copy = strdup(path), *dir, *base;
	struct stat st;
	int status = VB_OK;

	if (!copy)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	base = basename(copy);
	if (strlen(base) + TMP_SUFFIX_LEN > NAME_MAX || strlen(path) + TMP_SUFFIX_LEN >= PATH_MAX) {
		status = vb_errf(err, VB_E_ARGS, "cannot write the report to %s: its name is too "
				 "long (%zu bytes; at most %d, so that a temporary copy fits beside "
				 "it): pick a shorter one", given, strlen(base), NAME_MAX - TMP_SUFFIX_LEN);
		goto out;
	}
	strcpy(copy, path);
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		status = vb_errf(err, VB_E_ARGS, "cannot write the report to %s: its folder %s does "
				 "not exist; create it or pick another path", given, dir);
	else if (access(dir, W_OK | X_OK) != 0)
		status = vb_errf(err, VB_E_ARGS, "cannot write the report to %s: its folder %s is "
				 "read-only; pick another path", given, dir);
out:
	free(copy);
	return status;
}

int out_target_check(const char *given, struct out_target *t, struct vb_err *err)
{
	struct stat st, lst;
	char *real;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	snprintf(t->given, sizeof(t->given), "%s", given);
	if (strcmp(given, "-") == 0) {
		t->kind = OUT_FD;
		t->fd = STDOUT_FILENO;
		return VB_OK;
	}
	if (!*given || strlen(given) >= sizeof(t->path))
		return vb_errf(err, VB_E_ARGS, "cannot write the report to '%.200s': the path is %s",
			       given, *given ? "too long" : "empty");
	if (stat(given, &st) != 0) {
		if (errno == ENOENT && lstat(given, &lst) == 0)
			return vb_errf(err, VB_E_ARGS, "cannot write the report to %s: it is a link "
				       "to a file that does not exist; create that file or pick "
				       "another path", given);
		if (errno != ENOENT)
			return vb_errf(err, VB_E_ARGS, "cannot write the report to %s: %s", given,
				       strerror(errno));
		t->kind = OUT_ATOMIC;
		snprintf(t->path, sizeof(t->path), "%s", given);
		return atomic_ok(given, t->path, err);
	}
	if (S_ISDIR(st.st_mode))
		return vb_errf(err, VB_E_ARGS, "cannot write the report to %s: it is a folder; give "
			       "a file name, e.g. %s/report.json", given, given);
	if (same_file(&st, STDOUT_FILENO) || same_file(&st, STDERR_FILENO)) {
		t->kind = OUT_FD; /* /dev/stdout, a link to /proc/self/fd/1 */
		t->fd = same_file(&st, STDOUT_FILENO) ? STDOUT_FILENO : STDERR_FILENO;
		return VB_OK;
	}
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		t->kind = OUT_IN_PLACE;
		snprintf(t->path, sizeof(t->path), "%s", given);
		return access(given, W_OK) == 0 ? VB_OK
			: vb_errf(err, VB_E_ARGS, "cannot write the report to %s: %s", given,
				  strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return vb_errf(err, VB_E_ARGS, "cannot write the report to %s: it is a block device "
			       "or another special file; give a file name", given);
	/* a regular file, perhaps through links: replace the file, keep the links */
	t->kind = OUT_ATOMIC;
	real = realpath(given, NULL);
	snprintf(t->path, sizeof(t->path), "%s", real ? real : given);
	free(real);
	return atomic_ok(given, t->path, err);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int out_target_write(const struct out_target *t, const char *data, size_t len,
		     struct vb_err *err)
{
	struct out_file o;
	int fd, status = VB_OK;

	if (t->kind == OUT_ATOMIC) {
		if ((status = out_open(&o, t->path, err)))
			return status;
		fwrite(data, 1, len, o.f);
		return out_commit(&o, err);
	}
	fflush(stdout);
	fflush(stderr);
	fd = t->kind == OUT_FD ? t->fd : open(t->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return vb_errf(err, VB_E_IO, "cannot write the report to %s: %s", t->given,
			       strerror(errno));
	errno = 0;
	if (write_all(fd, data, len) != 0)
		status = vb_errf(err, VB_E_IO, "cannot write the report to %s: %s", t->given,
				 errno ? strerror(errno) : "short write");
	if (t->kind != OUT_FD)
		close(fd);
	return status;
}
