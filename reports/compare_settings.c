/*
 * reports/compare_settings.c: what differs between the reports of a comparison, one table of
 * settings (host, system, CPU, the CPU threads the reference used, backends, devices, drivers,
 * voxbench version): the page and the text name those that differ, so that a ratio is read
 * against what changed.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

typedef void (*setting_fn)(const struct loaded_report *lr, char *buf, size_t len);

static void host(const struct loaded_report *lr, char *b, size_t n)
{
	snprintf(b, n, "%s", lr->rep.host.hostname);
}

static void os(const struct loaded_report *lr, char *b, size_t n)
{
	snprintf(b, n, "%s, %s", lr->rep.host.os, lr->rep.host.kernel);
}

static void cpu(const struct loaded_report *lr, char *b, size_t n)
{
	snprintf(b, n, "%s, %d threads, %.1f GiB", lr->rep.host.cpu_model, lr->rep.host.cpu_threads,
		 (double)lr->rep.host.memory_bytes / 1073741824.0);
}

/* The distinct values of one string member of the devices, joined by ", ". */
static void device_list(const struct loaded_report *lr, size_t offset, char *b, size_t n)
{
	size_t used = 0;

	b[0] = '\0';
	for (size_t d = 0; d < lr->rep.ndevices && used < n; d++) {
		const char *v = (const char *)&lr->rep.devices[d] + offset;
		int seen = 0, w;

		for (size_t e = 0; e < d && !seen; e++)
			seen = strcmp(v, (const char *)&lr->rep.devices[e] + offset) == 0;
		if (seen)
			continue;
		w = snprintf(b + used, n - used, "%s%s", used ? ", " : "", v);
		used += w > 0 ? (size_t)w : 0;
	}
}

static void backends(const struct loaded_report *lr, char *b, size_t n)
{
	device_list(lr, offsetof(struct device_info, backend), b, n);
}

static void devices(const struct loaded_report *lr, char *b, size_t n)
{
	device_list(lr, offsetof(struct device_info, name), b, n);
}

static void drivers(const struct loaded_report *lr, char *b, size_t n)
{
	size_t used = 0;

	b[0] = '\0';
	for (size_t d = 0; d < lr->rep.ndevices && used < n; d++) {
		int w = snprintf(b + used, n - used, "%s%s %s", d ? ", " : "",
				 lr->rep.devices[d].backend, lr->rep.devices[d].driver_version);

		used += w > 0 ? (size_t)w : 0;
	}
}

/* The CPU threads the reference ran with (the rows' cpu_threads), e.g. "2" or "1, 16". */
static void cpu_threads(const struct loaded_report *lr, char *b, size_t n)
{
	int seen[8];
	size_t ns = 0, used = 0;

	b[0] = '\0';
	for (size_t i = 0; i < lr->rep.nrows && ns < 8; i++) {
		int t = lr->rep.rows[i].cpu_threads, k = 0;

		if (t <= 0)
			continue;
		while (k < (int)ns && seen[k] != t)
			k++;
		if (k < (int)ns)
			continue;
		seen[ns++] = t;
		int w = snprintf(b + used, n - used, "%s%d", used ? ", " : "", t);
		used += w > 0 && (size_t)w < n - used ? (size_t)w : 0;
	}
	if (!ns)
		snprintf(b, n, "not recorded");
}

static void version(const struct loaded_report *lr, char *b, size_t n)
{
	snprintf(b, n, "%s", lr->rep.voxbench_version);
}

static const struct setting {
	const char *name;
	setting_fn value;
} settings[] = {
	{ "host", host },
	{ "system", os },
	{ "CPU", cpu },
	{ "CPU reference threads", cpu_threads },
	{ "backends", backends },
	{ "devices", devices },
	{ "drivers", drivers },
	{ "voxbench", version },
};

size_t compare_setting_count(void)
{
	return sizeof(settings) / sizeof(settings[0]);
}

const char *compare_setting_name(size_t k)
{
	return settings[k].name;
}

void compare_setting_value(const struct comparison *c, size_t k, size_t report, char *buf,
			   size_t len)
{
	settings[k].value(&c->reports[report], buf, len);
}

int compare_setting_differs(const struct comparison *c, size_t k)
{
	char a[1024], b[1024];

	compare_setting_value(c, k, 0, a, sizeof(a));
	for (size_t i = 1; i < c->nreports; i++) {
		compare_setting_value(c, k, i, b, sizeof(b));
		if (strcmp(a, b) != 0)
			return 1;
	}
	return 0;
}

void compare_print_settings(const struct comparison *c, FILE *out)
{
	char v[1024], letter[8];
	int any = 0;

	for (size_t k = 0; k < compare_setting_count(); k++) {
		if (!compare_setting_differs(c, k))
			continue;
		fprintf(out, "%s%-22s", any++ ? "" : "what differs:\n", settings[k].name);
		for (size_t i = 0; i < c->nreports; i++) {
			compare_letter(i, letter);
			compare_setting_value(c, k, i, v, sizeof(v));
			fprintf(out, "%s %s ", i ? ";" : "", letter);
			vb_fputs_escaped(v, out);
		}
		fputc('\n', out);
	}
	fputs(any ? "\n" : "what differs: nothing of the host, devices, drivers or CPU threads\n\n",
	      out);
}
