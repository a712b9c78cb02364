/* reports/summary.c: the last lines of a run: devices, verdicts, speedup, time, the report. */
#include <math.h>
#include <stdio.h>

#include "report.h"

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
	fprintf(f, "\n  wall time: %.1f s", wall_ms / 1e3);
	if (isfinite(probe_ms))
		fprintf(f, " (probe %.1f s)", probe_ms / 1e3);
	/* CPU time over wall: how many cores the run kept busy (the references and comparisons
	 * are CPU work; a run near the core count is bound by the CPU, not the GPU) */
	if (rep->cpu_ms > 0 && rep->wall_ms > 0)
		fprintf(f, "; CPU %.1f s, %.1f cores busy on average", rep->cpu_ms / 1e3,
			rep->cpu_ms / rep->wall_ms);
	fprintf(f, "\n  report: %s\n", out ? out : "none (--out FILE writes one)");
}
