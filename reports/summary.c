/* reports/summary.c: the last lines of a run: devices, verdicts, speedup, time, the report. */
#include <math.h>
#include <stdio.h>

#include "render.h"
#include "report.h"

#define BUSY_SHARE 0.75   /* load above this share of the threads: busy */
#define SPREAD 0.5        /* (max - min) / median of a row's GPU runs above this: spread */
#define SPREAD_SHARE 0.2  /* of the timed rows: noisy */

int report_noise_text(const struct report *r, char *buf, size_t len)
{
	const struct host_info *h = &r->host;
	double load = fmax(isfinite(h->load_start) ? h->load_start : 0,
			   isfinite(h->load_end) ? h->load_end : 0);
	size_t timed = 0, spread = 0, cpu_timed = 0, cpu_spread = 0;
	int busy = h->cpu_threads > 0 && load > BUSY_SHARE * h->cpu_threads, n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nrows; i++) {
		const struct timing *t = &r->rows[i].gpu;
		const struct result_row *row = &r->rows[i];

		/* the CPU reference's runs: a busy machine spreads (and snaps) them first */
		if (row->cpu_runs >= 2 && isfinite(row->cpu_ms) && row->cpu_ms > 0 &&
		    isfinite(row->cpu_min_ms) && isfinite(row->cpu_max_ms)) {
			cpu_timed++;
			cpu_spread += (row->cpu_max_ms - row->cpu_min_ms) / row->cpu_ms > SPREAD;
		}
		if (!isfinite(t->median) || t->median <= 0 || t->runs < 2 || !isfinite(t->max) ||
		    !isfinite(t->min))
			continue;
		timed++;
		spread += (t->max - t->min) / t->median > SPREAD;
	}
	int gpu_noisy = timed && (double)spread > SPREAD_SHARE * (double)timed;
	int cpu_noisy = cpu_timed && (double)cpu_spread > SPREAD_SHARE * (double)cpu_timed;

	if (!busy && !gpu_noisy && !cpu_noisy)
		return 0;
	if (busy)
		n = snprintf(buf, len, "the machine was busy: load average %.2f at the start, %.2f at "
			     "the end, on %d threads", h->load_start, h->load_end, h->cpu_threads);
	if (gpu_noisy && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "%s%zu of %zu timed rows spread by more than "
			      "half their median GPU time", n ? "; " : "", spread, timed);
	if (cpu_noisy && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "%s%zu of %zu CPU references spread by more "
			      "than half their median time", n ? "; " : "", cpu_spread, cpu_timed);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ": timings (the CPU reference's most) may read "
			 "slow; run again on an idle machine, or with a larger --repeat");
	return 1;
}

static void print_noise(const struct report *rep, FILE *f)
{
	char warning[600];

	if (report_noise_text(rep, warning, sizeof(warning)))
		fprintf(f, "  warning: %s\n", warning);
}

/* A sweep (--sizes): the fitted exponents, as `report --text` prints them. */
static void print_fits(const struct report *rep, FILE *f)
{
	struct scaling s = { 0 };
	struct vb_err err;

	if (scaling_fit_report(rep, &s, &err) == VB_OK && s.n)
		scaling_print(rep, &s, f);
	scaling_free(&s);
}

/*
 * The run's last lines: the devices, the verdicts counted, the geometric-mean speedup of the
 * rows that passed, the wall time, and where the report went.
 */
void report_print_run_summary(const struct report *rep, double wall_ms, double probe_ms,
			  const char *out, FILE *f)
{
	size_t count[4] = { 0 }, ambiguous = 0, nspeed = 0;
	double log_sum = 0;

	for (size_t i = 0; i < rep->nrows; i++) {
		const struct result_row *r = &rep->rows[i];

		count[r->status]++;
		ambiguous += r->has_delta && r->delta.ambiguous > 0;
		if (r->status == ROW_PASS && isfinite(r->speedup) && r->speedup > 0) {
			log_sum += log(r->speedup);
			nspeed++;
		}
	}
	print_fits(rep, f);
	fprintf(f, "\nSummary\n  devices: ");
	for (size_t d = 0; d < rep->ndevices; d++)
		fprintf(f, "%s%s (%s)", d ? ", " : "", rep->devices[d].name,
			rep->devices[d].backend);
	fprintf(f, "%s\n  rows: %zu: %zu passed, %zu failed, %zu skipped, %zu errors", rep->ndevices ?
		"" : "none", rep->nrows, count[ROW_PASS], count[ROW_FAIL], count[ROW_SKIP],
		count[ROW_ERROR]);
	if (ambiguous)
		fprintf(f, " (%zu with ambiguous voxels, within tolerance of a decision)", ambiguous);
	if (nspeed)
		fprintf(f, "\n  geometric-mean speedup over the CPU reference: %.1fx (kernel time, %zu "
			"rows)", exp(log_sum / (double)nspeed), nspeed);
	if (rep->prebuild_programs) {
		fprintf(f, "\n  compiled ahead: %zu programs for %zu device%s in %.1f s on %d threads",
			rep->prebuild_programs, rep->prebuild_devices,
			rep->prebuild_devices == 1 ? "" : "s", rep->prebuild_ms / 1e3,
			rep->prebuild_threads);
		if (rep->prebuild_cpu_ms > 0 && rep->prebuild_ms > 0)
			fprintf(f, " (%.1f cores busy)", rep->prebuild_cpu_ms / rep->prebuild_ms);
		if (rep->prebuild_failed)
			fprintf(f, " (some failed: their rows say why)");
	}
	if (isfinite(rep->host.load_start) || isfinite(rep->host.load_end))
		fprintf(f, "\n  load average: %.2f at the start, %.2f at the end (%d threads)",
			rep->host.load_start, rep->host.load_end, rep->host.cpu_threads);
	fprintf(f, "\n  wall time: %.1f s", wall_ms / 1e3);
	if (isfinite(probe_ms))
		fprintf(f, " (probe %.1f s)", probe_ms / 1e3);
	/* CPU time over wall: how many cores the run kept busy (the references and comparisons
	 * are CPU work; a run near the core count is bound by the CPU, not the GPU) */
	if (rep->cpu_ms > 0 && rep->wall_ms > 0)
		fprintf(f, "; CPU %.1f s, %.1f cores busy on average", rep->cpu_ms / 1e3,
			rep->cpu_ms / rep->wall_ms);
	fprintf(f, "\n  report: %s\n", out ? out : "none (--out FILE writes one)");
	print_noise(rep, f);
}
