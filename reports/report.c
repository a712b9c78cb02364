/* reports/report.c: the report in memory: rows, devices, host facts. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

const char *row_status_name(enum row_status s)
{
	static const char *const names[] = { "pass", "fail", "skip", "error" };

	return s <= ROW_ERROR ? names[s] : "error";
}

void result_row_init(struct result_row *row)
{
	memset(row, 0, sizeof(*row));
	row->status = ROW_ERROR;
	row->gpu.median = row->gpu.min = row->gpu.max = NAN;
	row->h2d_ms = row->d2h_ms = row->compile_ms = row->cpu_ms = NAN;
	row->cpu_min_ms = row->cpu_max_ms = NAN;
	row->speedup = row->speedup_with_transfers = row->effective_gbps = NAN;
	row->bandwidth_fraction = NAN;
	row->cache_hit = -1;
	row->frame = row->channel = -1;
	row->pinned = -1;
	row->pin_ms = NAN;
	row->delta.labels_gpu = row->delta.labels_ref = -1;
	row->side_gpu = row->side_cpu = NAN;
	for (int i = 0; i < PHASE_COUNT; i++)
		row->phase_ms[i] = NAN;
	row->wall_ms = NAN;
}

const char *row_phase_name(enum row_phase p)
{
	static const char *const names[PHASE_COUNT] = { "stack", "inputs", "upload", "warmup",
							 "timed", "download", "reference",
							 "compare", "start" };

	return p < PHASE_COUNT ? names[p] : "?";
}

void row_notes(const struct result_row *row, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (row->side_name[0])
		n = snprintf(buf, len, "%s %.6g (CPU %.6g)", row->side_name, row->side_gpu,
			     row->side_cpu);
	if (row->has_delta && row->delta.ambiguous && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "%sambiguous %llu", n ? "; " : "",
			      (unsigned long long)row->delta.ambiguous);
	if (row->has_delta && row->delta.labels_gpu >= 0 && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%slabels %lld (CPU %lld)", n ? "; " : "",
			 (long long)row->delta.labels_gpu, (long long)row->delta.labels_ref);
}

/* The value of `key="..."` or `key: ...` lines in small system files. */
static void file_value(const char *path, const char *key, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t keylen = strlen(key);

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, key, keylen) != 0)
			continue;
		v = line + keylen;
		v += strspn(v, " \t:=\"");
		v[strcspn(v, "\"\n")] = '\0';
		snprintf(out, len, "%s", v);
		break;
	}
	fclose(f);
}

double host_load_average(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load = NAN;

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = NAN;
		fclose(f);
	}
	return load;
}

void report_finish(struct report *r)
{
	r->host.load_end = host_load_average();
}

void host_info_fill(struct host_info *h)
{
	struct utsname u;

	memset(h, 0, sizeof(*h));
	gethostname(h->hostname, sizeof(h->hostname) - 1);
	snprintf(h->os, sizeof(h->os), "unknown");
	file_value("/etc/os-release", "PRETTY_NAME", h->os, sizeof(h->os));
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof(h->kernel), "%s %s %s", u.sysname, u.release, u.machine);
	snprintf(h->cpu_model, sizeof(h->cpu_model), "unknown");
	file_value("/proc/cpuinfo", "model name", h->cpu_model, sizeof(h->cpu_model));
	h->cpu_threads = vb_cpu_threads();
	h->memory_bytes = vb_host_memory_total();
	h->load_start = host_load_average();
	h->load_end = NAN;
}

int report_init(struct report *r, struct vb_err *err)
{
	time_t now = time(NULL);
	struct tm utc;

	(void)err;
	memset(r, 0, sizeof(*r));
	snprintf(r->schema, sizeof(r->schema), "%s", REPORT_SCHEMA);
	snprintf(r->voxbench_version, sizeof(r->voxbench_version), "%s", VOXBENCH_VERSION);
	gmtime_r(&now, &utc);
	strftime(r->created, sizeof(r->created), "%Y-%m-%dT%H:%M:%SZ", &utc);
	host_info_fill(&r->host);
	return VB_OK;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nrows; i++)
		free(r->rows[i].table);
	free(r->devices);
	free(r->rows);
	free(r->probe_json);
	free(r->peers_json);
	memset(r, 0, sizeof(*r));
}

int report_add_device(struct report *r, const struct device_info *d, struct vb_err *err)
{
	struct device_info *grown = realloc(r->devices, (r->ndevices + 1) * sizeof(*grown));

	if (!grown)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	grown[r->ndevices++] = *d;
	r->devices = grown;
	return VB_OK;
}

int report_add_row(struct report *r, const struct result_row *row, struct vb_err *err)
{
	if (r->nrows == r->cap_rows) {
		size_t cap = r->cap_rows ? r->cap_rows * 2 : 64;
		struct result_row *grown = realloc(r->rows, cap * sizeof(*grown));

		if (!grown) {
			free(row->table);
			return vb_errf(err, VB_E_NOMEM, "out of host memory");
		}
		r->rows = grown;
		r->cap_rows = cap;
	}
	r->rows[r->nrows++] = *row;
	return VB_OK;
}
