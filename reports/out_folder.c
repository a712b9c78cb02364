/*
 * reports/out_folder.c: the folders `report --html` and `compare --html` write, appearing whole
 * or not at all.
 *
 * Every file goes into a fresh temporary folder beside the target ("<dir>.tmp-XXXXXX"), which
 * then takes the target's place (an atomic exchange where the file system has one); the old
 * folder is removed after. An interrupted or failed run leaves the old folder as it was, and a
 * new report never shows an old report's plots. Only folders voxbench made (marked by a
 * MARKER file) or empty ones are replaced: a folder with other files is refused, never emptied.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

#define MARKER ".voxbench-output"

/* What an existing folder holds: 0 empty, 1 voxbench's (marked), -1 other files (one named). */
static int folder_owner(const char *dir, char *other, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int marked = 0, entries = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(de->d_name, MARKER))
			marked = 1;
		else if (!entries++)
			snprintf(other, len, "%s", de->d_name);
	}
	closedir(d);
	return marked ? 1 : entries ? -1 : 0;
}

int out_folder_check(const char *dir, struct vb_err *err)
{
	char *copy = strdup(dir), *parent, other[256] = "", real[PATH_MAX], here[PATH_MAX];
	struct stat st;
	int status = VB_OK;

	if (!copy)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	parent = dirname(copy);
	if (!*dir || strlen(dir) + 16 >= PATH_MAX) { /* its temporary twin must fit too */
		status = vb_errf(err, VB_E_ARGS, "cannot write into '%.80s': the folder's path is %s",
				 dir, *dir ? "too long" : "empty");
	} else if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			status = vb_errf(err, VB_E_ARGS, "cannot write into %s: it is a file, not a "
					 "folder; pick another output folder", dir);
		else if (realpath(dir, real) && (!strcmp(real, "/") ||
						 (getcwd(here, sizeof(here)) && !strcmp(real, here))))
			status = vb_errf(err, VB_E_ARGS, "cannot write into %s: the pages are written "
					 "into a folder of their own; name one, e.g. %s/report", dir,
					 dir);
		else if (folder_owner(dir, other, sizeof(other)) < 0)
			status = vb_errf(err, VB_E_ARGS, "cannot write into %s: it holds files voxbench "
					 "did not write (%s), which would be lost; pick a new or empty "
					 "folder", dir, other);
	}
	if (!status && (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode) ||
			access(parent, W_OK | X_OK) != 0))
		status = vb_errf(err, VB_E_ARGS, "cannot write into %s: its parent folder %s is "
				 "missing or read-only; create it or pick another", dir, parent);
	free(copy);
	return status;
}

int out_folder_open(struct out_folder *f, const char *dir, struct vb_err *err)
{
	char marker[4400];
	FILE *m;
	mode_t mask;
	int status;

	memset(f, 0, sizeof(*f));
	f->slot = -1;
	if ((status = out_folder_check(dir, err)))
		return status;
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	for (size_t n = strlen(f->dir); n > 1 && f->dir[n - 1] == '/'; n--)
		f->dir[n - 1] = '\0'; /* "out/": its twin is "out.tmp-...", not "out/.tmp-..." */
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp-XXXXXX", f->dir);
	if (!vb_mkdtemp_tracked(f->tmp, &f->slot)) { /* a signal removes it: the old one stays */
		f->tmp[0] = '\0';
		return vb_errf(err, VB_E_IO, "cannot create a folder beside %s: %s", dir,
			       strerror(errno));
	}
	mask = umask(022);
	umask(mask);
	chmod(f->tmp, 0777 & ~mask); /* mkdtemp's 0700: follow the umask */
	snprintf(marker, sizeof(marker), "%s/%s", f->tmp, MARKER);
	m = fopen(marker, "w");
	if (!m || fputs("written by voxbench: 'voxbench report' and 'voxbench compare' replace "
			"this folder whole\n", m) < 0 || fclose(m) != 0) {
		if (m)
			fclose(m);
		out_folder_abort(f);
		return vb_errf(err, VB_E_IO, "cannot write into a folder beside %s: disk full or "
			       "I/O error", dir);
	}
	return VB_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void out_folder_abort(struct out_folder *f)
{
	if (f->tmp[0])
		nftw(f->tmp, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	vb_cleanup_done(f->slot);
	f->slot = -1;
	f->tmp[0] = '\0';
}

int out_folder_commit(struct out_folder *f, struct vb_err *err)
{
	struct stat st;
	int rc;

	if (lstat(f->dir, &st) != 0)
		rc = rename(f->tmp, f->dir);
	else if ((rc = renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->dir, RENAME_EXCHANGE)) != 0 &&
		 (errno == EINVAL || errno == ENOSYS)) {
		/* no atomic exchange here: the old folder moves aside into an empty one first */
		char old[4300];

		snprintf(old, sizeof(old), "%s.old-XXXXXX", f->dir);
		int slot;

		rc = vb_mkdtemp_tracked(old, &slot) && rename(f->dir, old) == 0
			     ? rename(f->tmp, f->dir) : -1;
		if (rc == 0) { /* what is left to remove */
			vb_cleanup_done(f->slot);
			f->slot = slot;
			snprintf(f->tmp, sizeof(f->tmp), "%s", old);
		} else {
			rmdir(old);
			vb_cleanup_done(slot);
		}
	}
	if (rc != 0) {
		int e = errno;

		out_folder_abort(f);
		return vb_errf(err, VB_E_IO, "cannot put the new %s in place: %s; the old one is "
			       "unchanged", f->dir, strerror(e));
	}
	if (lstat(f->tmp, &st) != 0) { /* a plain rename: nothing old */
		vb_cleanup_done(f->slot);
		f->slot = -1;
		f->tmp[0] = '\0';
		return VB_OK;
	}
	out_folder_abort(f); /* f->tmp now holds the old folder */
	return VB_OK;
}
