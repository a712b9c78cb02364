/* reports/render_util.c: locale-independent numbers, geometric means, files written atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"

const char *fmt_num(char buf[40], double v, int significant)
{
	const char *point = localeconv()->decimal_point;

	buf[0] = '\0';
	if (!isfinite(v))
		return buf;
	snprintf(buf, 40, "%.*g", significant, v);
	/* voxbench never calls setlocale; should anything ever do, keep '.' anyway */
	if (point && point[0] && point[0] != '.' && !point[1]) {
		char *p = strchr(buf, point[0]);

		if (p)
			*p = '.';
	}
	return buf;
}

double geomean(const double *v, size_t n)
{
	double sum = 0;

	if (!n)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]) || v[i] <= 0)
			return NAN;
		sum += log(v[i]);
	}
	return exp(sum / (double)n);
}

int out_open(struct out_file *o, const char *path, struct vb_err *err)
{
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path || asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
		o->tmp = NULL;
		out_abort(o);
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	}
	fd = vb_mkstemp_tracked(o->tmp, &o->slot); /* a signal removes it */
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
			vb_cleanup_done(o->slot);
		}
		free(o->tmp);
		o->tmp = NULL;
		out_abort(o);
		return vb_errf(err, VB_E_IO, "cannot write %s: %s; check that its folder exists and "
				 "is writable", path, strerror(e));
	}
	return VB_OK;
}

int out_commit(struct out_file *o, struct vb_err *err)
{
	int status = VB_OK, failed;

	if (!o->f)
		return vb_errf(err, VB_E_IO, "cannot write %s: it was not opened", o->path);
	failed = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0;
	failed |= fclose(o->f) != 0;
	o->f = NULL;
	if (failed)
		status = vb_errf(err, VB_E_IO, "cannot write %s: disk full or I/O error", o->path);
	else if (chmod(o->tmp, vb_file_mode()) != 0 || rename(o->tmp, o->path) != 0)
		status = vb_errf(err, VB_E_IO, "cannot rename %s into place: %s", o->path,
				 strerror(errno));
	if (status)
		unlink(o->tmp);
	vb_cleanup_done(o->slot);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return status;
}

void out_abort(struct out_file *o)
{
	if (o->f) {
		fclose(o->f);
		unlink(o->tmp);
		vb_cleanup_done(o->slot);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
