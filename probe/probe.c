/*
 * probe/probe.c: `voxbench probe`: the table of checks, their results, the human and JSON
 * output, and the exit status.
 *
 * To add a check: write its function (it appends results with probe_add) and add one row to
 * `checks` below. The output, the JSON and the exit status iterate the table and the results;
 * none of them names a check, except the closing verdict, which is itself a check ("gpu").
 */
#define _GNU_SOURCE
#include "internal.h"

#include <ftw.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct check {
	const char *id;
	const char *section;  /* the header line it is printed under */
	void (*run)(struct probe *p);
	int for_devices;      /* also run by probe_device_section */
};

/* To add a check: write its function, then add one row here (order is run order). */
static const struct check checks[] = {
	{ "loader", "OpenCL loader", check_loader, 1 },
	{ "vendors", "OpenCL drivers", check_vendors, 1 },
	{ "icd", "OpenCL drivers", check_icds, 1 },
	{ "registered", "OpenCL drivers", check_registered, 0 },
	{ "devnodes", "Device nodes", check_devnodes, 0 },
	{ "environment", "Environment", check_environment, 0 },
	{ "platforms", "OpenCL platforms and devices", check_platforms, 1 },
	{ "device", "OpenCL platforms and devices", check_devices, 0 },
	{ "smoke", "Smoke test", check_smoke, 0 },
	{ "bench", "Micro-benchmarks", check_bench, 0 },
	{ "cuda", "CUDA", check_cuda, 0 },
	{ "nvrtc", "CUDA", check_nvrtc, 0 },
	{ "gpu", "Verdict", check_gpu, 0 },
	{ "python", "Python libraries", check_python, 0 },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

/* ---- the run ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The folder the children's one-driver vendor folders live in. */
static int make_tmpdir(struct probe *p, struct vb_err *err)
{
	const char *base = getenv("TMPDIR");
	char empty[4200];

	snprintf(p->tmpdir, sizeof(p->tmpdir), "%s/voxbench-probe-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!vb_mkdtemp_tracked(p->tmpdir, &p->tmpdir_slot)) { /* a signal removes it too */
		p->tmpdir[0] = '\0';
		return vb_errf(err, VB_E_IO, "cannot create a temporary folder in %s; set TMPDIR "
			       "to a writable folder", base && *base ? base : "/tmp");
	}
	snprintf(empty, sizeof(empty), "%s/empty", p->tmpdir);
	mkdir(empty, 0700);
	return VB_OK;
}

struct probe *probe_new(const struct probe_options *opt, struct vb_err *err)
{
	struct probe *p = calloc(1, sizeof(*p));

	if (!p) {
		vb_errf(err, VB_E_NOMEM, "out of memory");
		return NULL;
	}
	p->opt = *opt;
	p->started_ms = vb_now_ms();
	p->platforms = json_array();
	p->devices = json_array();
	p->timings = json_object();
	if (make_tmpdir(p, err) != VB_OK) {
		json_decref(p->platforms);
		json_decref(p->devices);
		json_decref(p->timings);
		free(p);
		return NULL;
	}
	return p;
}

void probe_free(struct probe *p)
{
	if (!p)
		return;
	if (p->tmpdir[0])
		nftw(p->tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	if (p->tmpdir[0])
		vb_cleanup_done(p->tmpdir_slot);
	json_decref(p->loader);
	json_decref(p->platforms);
	json_decref(p->devices);
	json_decref(p->cuda);
	json_decref(p->nvrtc);
	json_decref(p->python);
	json_decref(p->timings);
	python_runs_free(p); /* a probe that ended before its Python section */
	free(p);
}

/* ---- human output ---- */

static const char *tag(enum verdict v)
{
	static const char *const tags[] = { "[ OK ]", "[WARN]", "[FAIL]", "[SKIP]" };

	return tags[v];
}

/* Print a multi-line text indented under its check. */
static void print_indented(FILE *out, const char *text)
{
	const char *s = text;

	while (*s) {
		size_t n = strcspn(s, "\n");

		fprintf(out, "%22s%.*s\n", "", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

static void print_results(FILE *out, const struct probe *p, size_t from, int *nfix)
{
	for (size_t i = from; i < p->nres; i++) {
		const struct check_result *r = &p->res[i];

		fprintf(out, "  %s %-12s %s", tag(r->status), r->id, r->summary);
		if ((r->status == V_WARN || r->status == V_FAIL) && r->fix[0])
			fprintf(out, " (fix %d)", ++*nfix);
		fputc('\n', out);
		if ((r->status == V_WARN || r->status == V_FAIL) && r->detail[0])
			print_indented(out, r->detail);
	}
}

static void print_fixes(FILE *out, const struct probe *p)
{
	int n = 0;

	for (size_t i = 0; i < p->nres; i++) {
		const struct check_result *r = &p->res[i];

		if ((r->status != V_WARN && r->status != V_FAIL) || !r->fix[0])
			continue;
		fprintf(out, "  %d. %s: %s\n     %s\n", ++n, r->id, r->summary, r->fix);
	}
}

/* WARN and FAIL results; the verdict counts only when nothing else explains it. */
static int count_problems(const struct probe *p)
{
	int n = 0;

	for (size_t i = 0; i < p->nres; i++) {
		const struct check_result *r = &p->res[i];

		if (!strcmp(r->id, "gpu") && !r->fix[0])
			continue;
		n += r->status == V_WARN || r->status == V_FAIL;
	}
	return n;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* ", CUDA 13.0.88" from the device's platform version "OpenCL 3.0 CUDA 13.0.88". */
static void platform_version(const struct probe *p, json_t *dev, char *buf, size_t len)
{
	json_t *plat = json_array_get(p->platforms, (size_t)json_integer_value(
					      json_object_get(dev, "platform_index")));
	char name[64] = "", version[64] = "";

	buf[0] = '\0';
	if (sscanf(jstr(plat, "version"), "OpenCL %*s %63s %63s", name, version) == 2)
		snprintf(buf, len, ", %s %s", name, version);
}

/* "Took 3.2 s (platforms 2.9 s)": the total, and the checks that took a tenth of it or more. */
static void print_timing(FILE *out, const struct probe *p)
{
	double total = vb_now_ms() - p->started_ms;
	const char *id;
	json_t *ms;
	int n = 0;

	fprintf(out, "Took %.1f s", total / 1e3);
	json_object_foreach(p->timings, id, ms) {
		double v = json_number_value(ms);

		if (v >= 0.1 * total && v >= 100)
			fprintf(out, "%s%s %.1f s", n++ ? ", " : " (", id, v / 1e3);
	}
	fprintf(out, "%s\n", n ? ")" : "");
}

static void print_summary(FILE *out, const struct probe *p)
{
	json_t *used;
	int code = probe_outcome(p, &used), problems = count_problems(p);

	char version[128];

	fputc('\n', out);
	if (used) {
		platform_version(p, used, version, sizeof(version));
		fprintf(out, "Used %s: %s (OpenCL, %s%s, driver %s)\n",
			code == PROBE_EXIT_GPU ? "GPU" : "CPU", jstr(used, "name"),
			jstr(used, "platform"), version, jstr(used, "driver_version"));
	}
	if (code == PROBE_EXIT_GPU && problems == 0)
		return;
	if (code != PROBE_EXIT_GPU)
		fprintf(out, "No GPU is usable: %d problem%s%s\n", problems, problems == 1 ? "" : "s",
			problems ? ", fixes below" : "");
	else
		fprintf(out, "%d problem%s, fixes below\n", problems, problems == 1 ? "" : "s");
	print_fixes(out, p);
}

/* ---- JSON output ---- */

static json_t *checks_json(const struct probe *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->nres; i++) {
		const struct check_result *r = &p->res[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->id,
						     "subject", r->subject, "status",
						     verdict_name(r->status), "summary", r->summary,
						     "detail", r->detail, "fix", r->fix));
	}
	return arr;
}

static json_t *host_json(void)
{
	struct utsname u;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	return json_pack("{s:s, s:s, s:s, s:i}", "hostname", host, "kernel", u.release,
			 "machine", u.machine, "cpu_threads", vb_cpu_threads());
}

static json_t *vendors_json(const struct probe *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->nvendors; i++) {
		const struct vendor *v = &p->vendors[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:o}",
			"label", v->label, "icd", v->icd, "library", v->library,
			"resolved", v->resolved, "registered", v->registered, "usable", v->usable,
			"ms", json_num(v->child_ms)));
	}
	return json_pack("{s:s, s:s, s:o}", "source", p->vendor_source, "folder", p->vendor_dir,
			 "drivers", arr);
}

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *summary_json(const struct probe *p, int code)
{
	json_t *used;

	probe_outcome(p, &used);
	return json_pack("{s:o, s:s?, s:s?, s:i, s:i, s:o}",
			 "used_device", used ? json_incref(json_object_get(used, "index"))
					     : json_null(),
			 "used_name", used ? json_string_value(json_object_get(used, "name")) : NULL,
			 "used_type", used ? json_string_value(json_object_get(used, "type")) : NULL,
			 "problems", count_problems(p), "exit_code", code,
			 "elapsed_ms", json_num(vb_now_ms() - p->started_ms));
}

static json_t *probe_json(const struct probe *p, int code)
{
	char created[32];

	iso_now(created, sizeof(created));
	return json_pack("{s:s, s:s, s:s, s:o, s:{s:b, s:s?}, s:o, s:O?, s:o, s:O, s:O, s:O?, "
			 "s:O?, s:O, s:o}",
			 "schema", PROBE_SCHEMA, "voxbench_version", VOXBENCH_VERSION,
			 "created", created, "host", host_json(),
			 "options", "quick", p->opt.quick, "device", p->opt.device,
			 "checks", checks_json(p), "loader", p->loader,
			 "vendors", vendors_json(p), "platforms", p->platforms,
			 "devices", p->devices, "cuda", p->cuda, "nvrtc", p->nvrtc,
			 "timings_ms", p->timings, "summary", summary_json(p, code));
}

/* The probe's JSON with its Python section ("python": one entry per interpreter). */
static json_t *probe_json_all(const struct probe *p, int code)
{
	json_t *doc = probe_json(p, code);

	json_object_set_new(doc, "python", p->python ? json_incref(p->python) : json_array());
	return doc;
}

/* ---- the command ---- */

/* Run every check (or those for the device section), printing as they finish; each one's
 * wall time goes into p->timings. */
static void run_checks(struct probe *p, FILE *human, int devices_only)
{
	const char *section = NULL;
	int nfix = 0;

	if (p->opt.quick && !devices_only)
		python_start(p);
	for (size_t i = 0; i < NCHECKS; i++) {
		size_t from = p->nres;
		double t0 = vb_now_ms();

		if (devices_only && !checks[i].for_devices)
			continue;
		checks[i].run(p);
		json_object_set_new(p->timings, checks[i].id, json_num(vb_now_ms() - t0));
		if (!human)
			continue;
		if (!section || strcmp(section, checks[i].section)) {
			section = checks[i].section;
			fprintf(human, "%s\n", section);
		}
		print_results(human, p, from, &nfix);
		fflush(human);
	}
}

static int probe_main(const struct probe_options *opt, int json)
{
	struct vb_err err = { "" };
	struct probe *p = probe_new(opt, &err);
	json_t *used, *doc;
	int code;

	if (!p) {
		fprintf(stderr, "voxbench probe: %s\n", err.msg);
		return PROBE_EXIT_NONE;
	}
	if (!json)
		printf("voxbench probe %s\n\n", VOXBENCH_VERSION);
	run_checks(p, json ? NULL : stdout, 0);
	code = probe_outcome(p, &used);
	if (json) {
		doc = probe_json_all(p, code);
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		print_summary(stdout, p);
		print_timing(stdout, p);
	}
	fflush(stdout);
	probe_free(p);
	return code;
}

int probe_run(const struct probe_options *opt, int json)
{
	locale_t c_numeric, old;
	int code;

	/* Numbers printed the same in every locale: "12.5 GB/s", never "12,5". */
	c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	old = c_numeric ? uselocale(c_numeric) : (locale_t)0;
	code = probe_main(opt, json);
	if (c_numeric) {
		uselocale(old);
		freelocale(c_numeric);
	}
	return code;
}

int probe_device_section(json_t *section, const struct probe_options *opt, struct vb_err *err)
{
	struct probe *p = probe_new(opt, err);
	int rc = VB_OK;

	if (!p)
		return VB_E_IO;
	run_checks(p, NULL, 1);
	if (!p->have_loader) {
		rc = vb_errf(err, VB_E_NOLOADER, "%s", json_string_value(json_object_get(p->loader,
									  "error")) ?: "no loader");
		goto out;
	}
	json_object_set_new(section, "schema", json_string(PROBE_SCHEMA));
	json_object_set(section, "platforms", p->platforms);
	json_object_set(section, "devices", p->devices);
out:
	probe_free(p);
	return rc;
}
