/*
 * probe/result.c: the probe's result API: each check appends its results (probe_add) and fills
 * their summary, detail and fix; probe.c prints and serialises them. Every check file calls
 * this, and nothing here calls a check.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = { "ok", "warn", "fail", "skip" };

	return names[v];
}

struct check_result *probe_add(struct probe *p, const char *id, enum verdict v,
			       const char *subject, const char *fmt, ...)
{
	struct check_result *r;
	va_list ap;

	if (p->nres == PROBE_MAX_RESULTS)
		p->nres--; /* never fail: the last slot is reused */
	r = &p->res[p->nres++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->status = v;
	snprintf(r->subject, sizeof(r->subject), "%s", subject ? subject : "");
	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
	va_end(ap);
	return r;
}

void result_summary(struct check_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
	va_end(ap);
}

/* Append a line to the detail (a result can collect several). */
void result_detail(struct check_result *r, const char *fmt, ...)
{
	size_t n = strlen(r->detail);
	va_list ap;

	if (n && n + 1 < sizeof(r->detail))
		r->detail[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(r->detail + n, sizeof(r->detail) - n, fmt, ap);
	va_end(ap);
}

void result_fix(struct check_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->fix, sizeof(r->fix), fmt, ap);
	va_end(ap);
}

