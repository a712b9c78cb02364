/* reports/csv.c: every row of a report as CSV (RFC 4180), numbers independent of the locale. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

static const char csv_header[] =
	"op,category,params,backend,device,stack,width,height,depth,voxels,dtype,status,"
	"gpu_ms_median,gpu_ms_min,gpu_ms_max,gpu_runs,h2d_ms,d2h_ms,compile_ms,cache,cpu_ms,"
	"cpu_threads,speedup,speedup_with_transfers,bytes_moved,effective_gbps,"
	"bandwidth_fraction,max_abs_delta,mean_abs_delta,rmse_delta,mismatches,tolerance,reason\n";

void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* A text field and the separator after it. */
static void text(FILE *out, const char *s, int last)
{
	csv_field(out, s);
	fputc(last ? '\n' : ',', out);
}

static void num(FILE *out, double v)
{
	char buf[40];

	fprintf(out, "%s,", fmt_num(buf, v, 10));
}

static void whole(FILE *out, unsigned long long v)
{
	fprintf(out, "%llu,", v);
}

static void csv_row(FILE *out, const struct loaded_report *lr, const struct result_row *row)
{
	const struct row_delta *d = &row->delta;
	char params[512];

	row_params_text(row, params, sizeof(params));
	text(out, row->op, 0);
	text(out, row->category, 0);
	text(out, params, 0);
	text(out, row->backend, 0);
	text(out, row->device, 0);
	text(out, row->stack_name, 0);
	whole(out, row->width);
	whole(out, row->height);
	whole(out, row->depth);
	num(out, row_voxels(row));
	text(out, row->dtype, 0);
	text(out, row_status_name(row->status), 0);
	num(out, row->gpu.median);
	num(out, row->gpu.min);
	num(out, row->gpu.max);
	whole(out, (unsigned long long)(row->gpu.runs > 0 ? row->gpu.runs : 0));
	num(out, row->h2d_ms);
	num(out, row->d2h_ms);
	num(out, row->compile_ms);
	text(out, row->cache_hit < 0 ? "" : row->cache_hit ? "hit" : "miss", 0);
	num(out, row->cpu_ms);
	whole(out, (unsigned long long)(row->cpu_threads > 0 ? row->cpu_threads : 0));
	num(out, row->speedup);
	num(out, row->speedup_with_transfers);
	whole(out, row->bytes_moved);
	num(out, row->effective_gbps);
	num(out, row_bandwidth_fraction(lr, row));
	num(out, row->has_delta ? d->max_abs : NAN);
	num(out, row->has_delta ? d->mean_abs : NAN);
	num(out, row->has_delta ? d->rmse : NAN);
	if (row->has_delta)
		whole(out, d->mismatches);
	else
		fputc(',', out);
	num(out, row->has_delta ? d->tolerance : NAN);
	text(out, row->reason, 1);
}

int report_write_csv(const struct loaded_report *lr, FILE *out)
{
	fputs(csv_header, out);
	for (size_t i = 0; i < lr->rep.nrows; i++)
		csv_row(out, lr, &lr->rep.rows[i]);
	return ferror(out) ? VB_E_IO : VB_OK;
}

int report_write_csv_file(const struct loaded_report *lr, const char *path, struct vb_err *err)
{
	struct out_file o;
	int status = out_open(&o, path, err);

	if (status)
		return status;
	report_write_csv(lr, o.f);
	return out_commit(&o, err);
}
