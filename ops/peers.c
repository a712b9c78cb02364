/*
 * ops/peers.c: `voxbench run --peer`: the peers found, their children per block, the adapter
 * table, and their rows (see peers.h).
 */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../python/python.h"

#define CHECK_TIMEOUT_S 120.0  /* `peer.py --check` and a child's start-up (imports) */
#define OP_TIMEOUT_S 600.0     /* one op: warm-up and the timed runs */
#define MAX_PEERS 4            /* pyclesperanto's OpenCL and CUDA backends, CuPy */
#define MAX_STAGED 8           /* input stacks of one block written for the peers */

enum peer_lib { PEER_CLE, PEER_CUPY, PEER_COUNT };

/* The libraries --peer takes. */
static const struct peer_lib_desc {
	const char *name;      /* --peer NAME, and the library the script serves */
	const char *install;   /* what to install when it is missing */
} libs[PEER_COUNT] = {
	[PEER_CLE] = { "pyclesperanto", "pip install pyclesperanto pyclesperanto-opencl "
				       "(pyclesperanto-cuda on NVIDIA)" },
	[PEER_CUPY] = { "cupy", "pip install cupy-cuda12x (cupy-cudaNNx for the driver's CUDA "
				"major)" },
};

#define PA_PARTITION 1u  /* compare label images as partitions: the peer numbers its own way */
#define PA_ISOLATE 2u    /* run alone in a fresh child: the call damages the peer's memory */

/* Voxels whose disagreement a float decision explains (DESIGN.md, "Honest verdicts"). */
enum peer_ambiguity { AMB_NONE, AMB_OTSU_BIN };

/* One row of the peer calls (ops/conventions.def: its CONVENTIONS_PEERS section says the fields). */
struct peer_adapter {
	const char *op;
	enum peer_lib lib;
	const char *call, *post, *when, *hazard;
	unsigned flags;
	const char *note, *bug;
	double tol;
	enum peer_ambiguity ambiguous;
};

static const struct peer_adapter adapters[] = {
#define CONVENTIONS_PEERS
#include "conventions.def"
#undef CONVENTIONS_PEERS
};
#define NADAPTERS (sizeof(adapters) / sizeof(adapters[0]))

/* One peer backend: its own rows, its own child per block. */
struct peer {
	enum peer_lib lib;
	char backend[32];        /* the rows' backend: "pyclesperanto-opencl", "cupy" */
	char option[16];         /* the script's backend argument: "opencl", "cuda" or "" */
	char hint[256];          /* the device to select: a voxbench device's name, or "" */
	char interp[4096];
	char python_version[32];
	char version[64];        /* the library's */
	char device[256];        /* the device it selected */
	struct py_proc proc;
	int running;             /* proc said it is ready */
	int starts;
};

struct peer_set {
	struct peer peers[MAX_PEERS];
	size_t n;
	char dir[4096];          /* temporary folder: the script, the block's files, the logs */
	char script[4200];
	const struct stack *staged[MAX_STAGED];
	char staged_path[MAX_STAGED][4200];
	size_t nstaged;
	unsigned serial;
	double op_timeout_s, start_timeout_s;
};

/* ---- the request ---- */

const char *peer_names(void)
{
	return "pyclesperanto, cupy";
}

int peer_request_add(struct peer_request *r, const char *name, struct vb_err *err)
{
	for (int i = 0; i < PEER_COUNT; i++)
		if (strcmp(name, libs[i].name) == 0) {
			r->libs |= 1u << i;
			return VB_OK;
		}
	return vb_errf(err, VB_E_ARGS, "unknown peer '%s': expected %s", name, peer_names());
}

int peer_python_add(struct peer_request *r, const char *path, struct vb_err *err)
{
	if (r->npython == PEER_MAX_PYTHON)
		return vb_errf(err, VB_E_ARGS, "too many --python: at most %d", PEER_MAX_PYTHON);
	r->python[r->npython++] = path;
	return VB_OK;
}

/* ---- .npy files (numpy's format 1.0: magic, header dict, C-order data) ---- */

static const char *npy_descr(enum dtype t)
{
	static const char *const d[DT_COUNT] = {
		[DT_U8] = "|u1", [DT_U16] = "<u2", [DT_U32] = "<u4", [DT_I32] = "<i4", [DT_F32] = "<f4",
	};
	return d[t];
}

/* s as PATH, shape (depth, height, width): numpy's (z, y, x). */
static int npy_write(const char *path, const struct stack *s, struct vb_err *err)
{
	char header[256];
	int n = snprintf(header, sizeof(header), "{'descr': '%s', 'fortran_order': False, "
			 "'shape': (%zu, %zu, %zu), }", npy_descr(s->dtype), s->depth, s->height,
			 s->width);
	FILE *f = fopen(path, "wb");
	size_t total;
	unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
	int ok;

	if (!f)
		return vb_errf(err, VB_E_IO, "cannot write %s: %s; set TMPDIR to a folder with room "
			       "for the stacks", path, strerror(errno));
	total = (10 + (size_t)n + 1 + 63) / 64 * 64;
	while ((size_t)n < total - 10 - 1)
		header[n++] = ' ';
	header[n++] = '\n';
	pre[8] = (unsigned char)(n & 0xff);
	pre[9] = (unsigned char)(n >> 8);
	ok = fwrite(pre, 1, 10, f) == 10 && fwrite(header, 1, (size_t)n, f) == (size_t)n &&
	     fwrite(s->data, 1, stack_bytes(s), f) == stack_bytes(s);
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		unlink(path);
		return vb_errf(err, VB_E_IO, "cannot write %s: disk full? set TMPDIR to a folder "
			       "with room for the stacks", path);
	}
	return VB_OK;
}

/* PATH into s (allocated: its dims and dtype are what the file must hold). */
static int npy_read(const char *path, struct stack *s, struct vb_err *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char pre[12];
	char *header = NULL, want[128];
	size_t hlen, voxels = 1, got = 0;
	int status = VB_OK;
	const char *shape;

	if (!f)
		return vb_errf(err, VB_E_IO, "the peer wrote no output file %s", path);
	if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 ||
	    pre[6] > 3) {
		status = vb_errf(err, VB_E_IO, "%s is not a .npy file", path);
		goto out;
	}
	hlen = pre[8] | (size_t)pre[9] << 8;
	if (pre[6] >= 2) {
		if (fread(pre + 10, 1, 2, f) != 2) {
			status = vb_errf(err, VB_E_IO, "%s is cut short", path);
			goto out;
		}
		hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
	}
	if (hlen > 65536 || !(header = calloc(1, hlen + 1)) || fread(header, 1, hlen, f) != hlen) {
		status = vb_errf(err, VB_E_IO, "%s has a bad header", path);
		goto out;
	}
	snprintf(want, sizeof(want), "'descr': '%s'", npy_descr(s->dtype));
	shape = strstr(header, "'shape': (");
	if (!strstr(header, want) || !strstr(header, "'fortran_order': False") || !shape) {
		status = vb_errf(err, VB_E_IO, "bug: the peer's %s is not C-order %s: %s", path,
				 dtype_name(s->dtype), header);
		goto out;
	}
	for (const char *p = shape + 10; *p && *p != ')';) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		voxels *= (size_t)v;
		p = end;
	}
	if (voxels != stack_voxels(s)) {
		status = vb_errf(err, VB_E_IO, "bug: the peer's %s holds %zu voxels, not %zu", path,
				 voxels, stack_voxels(s));
		goto out;
	}
	got = fread(s->data, 1, stack_bytes(s), f);
	if (got != stack_bytes(s))
		status = vb_errf(err, VB_E_IO, "%s is cut short", path);
out:
	free(header);
	fclose(f);
	return status;
}

/* ---- children ---- */

static void copy_str(char *dst, size_t len, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, len, "%s", s ? s : "");
}

/* Start the peer's child and wait for it to say it is ready; why says what went wrong. */
static int peer_start(struct peer_set *ps, struct peer *pe, char *why, size_t len)
{
	const char *args[] = { libs[pe->lib].name, pe->option, pe->hint, NULL };
	char log[4300], how[256], tail[512];
	struct vb_err err = { "" };
	json_t *msg = NULL;
	int rc;

	snprintf(log, sizeof(log), "%s/%s-%d.log", ps->dir, pe->backend, pe->starts++);
	if (py_start(&pe->proc, pe->interp, ps->script, args, log, &err) != VB_OK) {
		snprintf(why, len, "%s", err.msg);
		return VB_E_IO;
	}
	rc = py_recv(&pe->proc, vb_now_ms() + ps->start_timeout_s * 1e3, &msg);
	if (rc == PY_MSG && json_is_object(json_object_get(msg, "ready"))) {
		json_t *r = json_object_get(msg, "ready");

		copy_str(pe->version, sizeof(pe->version), r, "version");
		copy_str(pe->device, sizeof(pe->device), r, "device");
		pe->running = 1;
		json_decref(msg);
		return VB_OK;
	}
	if (rc == PY_MSG && json_is_string(json_object_get(msg, "fatal")))
		snprintf(why, len, "%s", json_string_value(json_object_get(msg, "fatal")));
	json_decref(msg);
	py_stop(&pe->proc, rc == PY_TIMEOUT || rc == PY_MSG);
	if (rc != PY_MSG) {
		py_describe(&pe->proc, how, sizeof(how));
		py_log_tail(&pe->proc, tail, sizeof(tail));
		snprintf(why, len, "its Python %s while starting%s%s", how, tail[0] ? ": " : "",
			 tail);
	}
	return VB_E_DEVICE;
}

static void peer_stop(struct peer *pe)
{
	if (!pe->running)
		return;
	py_stop(&pe->proc, 1);
	pe->running = 0;
}

/* ---- finding the peers ---- */

/* `peer.py --check` in one interpreter: {"pyclesperanto": {...}, "cupy": {...}} or NULL. */
static json_t *check_interpreter(struct peer_set *ps, const char *interp, size_t index)
{
	const char *args[] = { "--check", NULL };
	char log[4300];
	struct py_proc proc;
	struct vb_err err;
	json_t *msg = NULL, *found = NULL;
	int rc;

	snprintf(log, sizeof(log), "%s/check-%zu.log", ps->dir, index);
	if (py_start(&proc, interp, ps->script, args, log, &err) != VB_OK)
		return NULL;
	while ((rc = py_recv(&proc, vb_now_ms() + ps->start_timeout_s * 1e3, &msg)) == PY_MSG) {
		if (json_is_object(json_object_get(msg, "check")))
			found = json_incref(json_object_get(msg, "check"));
		json_decref(msg);
	}
	py_stop(&proc, rc == PY_TIMEOUT);
	return found;
}

static void add_peer(struct peer_set *ps, enum peer_lib lib, const char *option,
		     const char *interp, json_t *check, const struct device_list *devs)
{
	struct peer *pe;
	const char *want = lib == PEER_CLE && strcmp(option, "opencl") == 0 ? "opencl" : "cuda";

	if (ps->n == MAX_PEERS)
		return;
	pe = &ps->peers[ps->n++];
	memset(pe, 0, sizeof(*pe));
	pe->lib = lib;
	pe->proc.fd = -1;
	snprintf(pe->option, sizeof(pe->option), "%s", option);
	snprintf(pe->backend, sizeof(pe->backend), "%s%s%s", libs[lib].name, option[0] ? "-" : "",
		 option);
	snprintf(pe->interp, sizeof(pe->interp), "%s", interp);
	copy_str(pe->python_version, sizeof(pe->python_version), json_object_get(check, "python"),
		 "version");
	/* the device of the run on the same backend, so both measure the same GPU */
	for (size_t d = 0; d < devs->n; d++) {
		const struct device_info *info = device_info_of(devs->dev[d]);

		if (strcmp(info->backend, want) == 0) {
			snprintf(pe->hint, sizeof(pe->hint), "%s", info->name);
			break;
		}
	}
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Which interpreter has each peer; the peers made; notes for what is missing. */
static void find_peers(struct peer_set *ps, const struct peer_request *r,
		       const struct device_list *devs, FILE *notes)
{
	struct py_interps found;
	json_t *checks[PY_MAX_INTERPS] = { NULL };
	char tried[2048] = "";

	py_find(r->python, r->npython, &found);
	for (size_t i = 0; i < found.n; i++) {
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s (%s)",
			 i ? ", " : "", found.v[i].path, found.v[i].origin);
		if (found.v[i].exists)
			checks[i] = check_interpreter(ps, found.v[i].path, i);
	}
	for (int lib = 0; lib < PEER_COUNT; lib++) {
		const char *broken = NULL;
		size_t before = ps->n;

		if (!(r->libs & (1u << lib)))
			continue;
		for (size_t i = 0; i < found.n && ps->n == before; i++) {
			json_t *c = json_object_get(checks[i], libs[lib].name), *b;
			const char *state = json_string_value(json_object_get(c, "state"));
			size_t k;

			if (state && strcmp(state, "broken") == 0 && !broken)
				broken = json_string_value(json_object_get(c, "error"));
			if (!state || strcmp(state, "ok"))
				continue;
			if (lib == PEER_CUPY)
				add_peer(ps, PEER_CUPY, "", found.v[i].path, checks[i], devs);
			json_array_foreach(json_object_get(c, "backends"), k, b)
				if (lib == PEER_CLE && (!strcmp(json_string_value(b), "opencl") ||
							!strcmp(json_string_value(b), "cuda")))
					add_peer(ps, PEER_CLE, json_string_value(b), found.v[i].path,
						 checks[i], devs);
			if (ps->n == before && lib == PEER_CLE)
				fprintf(notes, "voxbench run: --peer pyclesperanto: %s has pyclesperanto "
					"but no OpenCL or CUDA backend: pip install "
					"pyclesperanto-opencl; no pyclesperanto rows\n",
					found.v[i].path);
		}
		if (ps->n > before)
			continue;
		if (!found.n)
			fprintf(notes, "voxbench run: --peer %s: no Python interpreter found "
				"(--python PATH, $CONDA_PREFIX/bin/python, python3 on PATH); no %s "
				"rows\n", libs[lib].name, libs[lib].name);
		else if (broken)
			fprintf(notes, "voxbench run: --peer %s: importing it fails (%s) in %s; "
				"reinstall it (%s); no %s rows\n", libs[lib].name, broken, tried,
				libs[lib].install, libs[lib].name);
		else
			fprintf(notes, "voxbench run: --peer %s: not installed for %s; %s, or name "
				"another interpreter with --python; no %s rows\n", libs[lib].name,
				tried, libs[lib].install, libs[lib].name);
	}
	for (size_t i = 0; i < found.n; i++)
		json_decref(checks[i]);
}

struct peer_set *peers_open(const struct peer_request *r, const struct device_list *devs,
			    FILE *notes)
{
	const char *base = getenv("TMPDIR");
	struct peer_set *ps;
	struct vb_err err = { "" };
	char why[1024];
	size_t kept = 0;

	if (!r->libs)
		return NULL;
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		fprintf(notes, "voxbench run: out of memory: no peer rows\n");
		return NULL;
	}
	ps->op_timeout_s = py_timeout_s("VOXBENCH_PEER_TIMEOUT", OP_TIMEOUT_S);
	ps->start_timeout_s = py_timeout_s("VOXBENCH_PYTHON_TIMEOUT", CHECK_TIMEOUT_S);
	snprintf(ps->dir, sizeof(ps->dir), "%s/voxbench-peers-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(ps->dir)) {
		fprintf(notes, "voxbench run: cannot create a temporary folder in %s for the peers; "
			"set TMPDIR to a writable folder; no peer rows\n", base && *base ? base : "/tmp");
		free(ps);
		return NULL;
	}
	if (py_script_write(ps->dir, "peer", ps->script, sizeof(ps->script), &err) != VB_OK) {
		fprintf(notes, "voxbench run: %s; no peer rows\n", err.msg);
		peers_close(ps);
		return NULL;
	}
	find_peers(ps, r, devs, notes);
	/* each peer started once now: a backend without a device is a note, not error rows */
	for (size_t i = 0; i < ps->n; i++) {
		struct peer *pe = &ps->peers[i];

		if (peer_start(ps, pe, why, sizeof(why)) != VB_OK) {
			fprintf(notes, "voxbench run: --peer %s: %s cannot start in %s: %s; no %s "
				"rows\n", libs[pe->lib].name, pe->backend, pe->interp, why,
				pe->backend);
			continue;
		}
		ps->peers[kept++] = *pe;
	}
	ps->n = kept;
	if (!ps->n) {
		peers_close(ps);
		return NULL;
	}
	return ps;
}

/* ---- rows ---- */

static const struct peer_adapter *adapter_of(const struct op_desc *op, enum peer_lib lib)
{
	for (size_t i = 0; i < NADAPTERS; i++)
		if (adapters[i].lib == lib && strcmp(adapters[i].op, op->name) == 0)
			return &adapters[i];
	return NULL;
}

/* A fresh row naming the op, its parameters, the stack, and the peer as backend and device. */
static void peer_row_start(struct result_row *row, const struct peer *pe,
			   const struct op_desc *op, const double params[OP_MAX_PARAMS],
			   const struct stack *in)
{
	result_row_init(row);
	snprintf(row->op, sizeof(row->op), "%s", op->name);
	snprintf(row->category, sizeof(row->category), "%s", op_category_name(op->category));
	row->nparams = 0;
	for (int i = 0; op->params[i].name && i < REPORT_MAX_PARAMS; i++) {
		struct param_value *p = &row->params[row->nparams++];

		snprintf(p->name, sizeof(p->name), "%s", op->params[i].name);
		p->value = params[i];
		p->is_int = op->params[i].type == PARAM_INT;
	}
	snprintf(row->backend, sizeof(row->backend), "%s", pe->backend);
	snprintf(row->device, sizeof(row->device), "%s", pe->device);
	snprintf(row->stack_name, sizeof(row->stack_name), "%s", in->name);
	snprintf(row->stack_source, sizeof(row->stack_source), "%s", in->source);
	row->width = in->width;
	row->height = in->height;
	row->depth = in->depth;
	snprintf(row->dtype, sizeof(row->dtype), "%s", dtype_name(in->dtype));
	row->bandwidth_fraction = NAN;
}

/* The CPU reference of the op when no device computed it. */
static int ensure_reference(const struct op_desc *op, const double params[OP_MAX_PARAMS],
			    const struct stack *const in[OP_MAX_INPUTS],
			    const struct run_settings *s, struct reference_cache *ref,
			    struct vb_err *err)
{
	if (ref->out.data)
		return VB_OK;
	if (!ref->computed)
		reference_compute(op, params, in, s, ref);
	if (ref->status || !ref->out.data)
		return vb_errf(err, ref->status ? ref->status : VB_E_ARGS, "no CPU reference to "
			       "compare with: %s", ref->reason[0] ? ref->reason : "not computed");
	return VB_OK;
}

/* The block's file of an input stack, written on first use. */
static const char *staged(struct peer_set *ps, const struct stack *s, struct vb_err *err)
{
	size_t i;

	for (i = 0; i < ps->nstaged; i++)
		if (ps->staged[i] == s)
			return ps->staged_path[i];
	if (ps->nstaged == MAX_STAGED) {
		vb_errf(err, VB_E_ARGS, "bug: more than %d input stacks in one block", MAX_STAGED);
		return NULL;
	}
	snprintf(ps->staged_path[i], sizeof(ps->staged_path[i]), "%s/in-%u.npy", ps->dir,
		 ps->serial++);
	if (npy_write(ps->staged_path[i], s, err) != VB_OK)
		return NULL;
	ps->staged[i] = s;
	ps->nstaged++;
	return ps->staged_path[i];
}

static json_t *params_json(const struct op_desc *op, const double params[OP_MAX_PARAMS])
{
	json_t *o = json_object();

	for (int i = 0; op->params[i].name; i++)
		json_object_set_new(o, op->params[i].name, op->params[i].type == PARAM_FLOAT
				    ? json_real(params[i]) : json_integer((json_int_t)params[i]));
	return o;
}

/* What one op's request ended with. */
struct outcome {
	enum row_status status;  /* ROW_PASS: an output to compare; else the row's status */
	int hazard;              /* the input meets the adapter's known-bug condition */
	char reason[2048];
	double ms[256];
	int nms;
};

/* Send one op to the peer's child and wait for its reply (restarting the child as needed). */
static void ask(struct peer_set *ps, struct peer *pe, const struct peer_adapter *ad,
		const struct op_desc *op, const double params[OP_MAX_PARAMS],
		const struct stack *const in[OP_MAX_INPUTS], const struct stack *out, int repeat,
		const char *out_path, struct outcome *o)
{
	json_t *req = NULL, *inputs = json_array(), *msg = NULL;
	struct vb_err err = { "" };
	char how[256], tail[512], why[1024];
	int rc = PY_EOF;

	o->status = ROW_ERROR;
	if ((ad->flags & PA_ISOLATE))
		peer_stop(pe);
	if (!pe->running && peer_start(ps, pe, why, sizeof(why)) != VB_OK) {
		snprintf(o->reason, sizeof(o->reason), "%s did not start: %s", pe->backend, why);
		goto out;
	}
	for (int i = 0; i < op->n_inputs; i++) {
		const char *path = staged(ps, in[i], &err);

		if (!path) {
			snprintf(o->reason, sizeof(o->reason), "%s", err.msg);
			goto out;
		}
		json_array_append_new(inputs, json_string(path));
	}
	req = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:O, s:s, s:[I, I, I], s:s, s:i}",
			"op", op->name, "call", ad->call, "post", ad->post, "when", ad->when,
			"hazard", ad->hazard, "note", ad->note, "params", params_json(op, params),
			"inputs", inputs,
			"out", out_path, "shape", (json_int_t)out->depth, (json_int_t)out->height,
			(json_int_t)out->width, "dtype", dtype_name(out->dtype), "repeat", repeat);
	unlink(out_path);
	if (!req || py_send(&pe->proc, req, &err) != VB_OK) {
		snprintf(o->reason, sizeof(o->reason), "cannot ask %s: %s", pe->backend, err.msg);
		peer_stop(pe);
		goto out;
	}
	while ((rc = py_recv(&pe->proc, vb_now_ms() + ps->op_timeout_s * 1e3, &msg)) == PY_MSG &&
	       !json_object_get(msg, "status")) {
		json_decref(msg);
		msg = NULL;
	}
	if (rc != PY_MSG) { /* crashed or hung: this op's error; the next op starts a new child */
		py_stop(&pe->proc, rc == PY_TIMEOUT);
		pe->running = 0;
		py_describe(&pe->proc, how, sizeof(how));
		py_log_tail(&pe->proc, tail, sizeof(tail));
		snprintf(o->reason, sizeof(o->reason), "%s %s while running %s%s%s", pe->backend,
			 rc == PY_TIMEOUT ? "hung (killed after VOXBENCH_PEER_TIMEOUT)" : how,
			 op->name, tail[0] && rc != PY_TIMEOUT ? "; its last output: " : "",
			 rc != PY_TIMEOUT ? tail : "");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(json_object_get(msg, "ms")) && o->nms < 256; i++)
		o->ms[o->nms++] = json_number_value(json_array_get(json_object_get(msg, "ms"), i));
	{
		const char *st = json_string_value(json_object_get(msg, "status"));
		const char *text = json_string_value(json_object_get(msg, "reason"));

		if (!text)
			text = json_string_value(json_object_get(msg, "error"));
		snprintf(o->reason, sizeof(o->reason), "%s", text ? text : "");
		o->hazard = json_is_true(json_object_get(msg, "hazard"));
		o->status = !strcmp(st, "ok") ? ROW_PASS : !strcmp(st, "skip") ? ROW_SKIP
			    : !strcmp(st, "fail") ? ROW_FAIL : ROW_ERROR;
		if (o->status == ROW_ERROR)
			snprintf(o->reason, sizeof(o->reason), "%s raised %s", pe->backend,
				 text ? text : "an error");
	}
out:
	if ((ad->flags & PA_ISOLATE))
		peer_stop(pe);
	json_decref(msg);
	json_decref(req);
	json_decref(inputs);
}

static struct timing summarize(const double *t, int n)
{
	struct timing s = { n ? vb_median(t, (size_t)n) : NAN, n ? t[0] : NAN, n ? t[0] : NAN, n };

	for (int i = 1; i < n; i++) {
		s.min = fmin(s.min, t[i]);
		s.max = fmax(s.max, t[i]);
	}
	return s;
}

/* The peer's output against the reference, by the op's rule (or as partitions). */
/*
 * AMB_OTSU_BIN: a voxel where the peer and the reference disagree is ambiguous when its input
 * lies within one of 256 bins (of the input's range) of the reference's threshold: the two
 * thresholds come from different histograms. Only the others remain mismatches.
 */
static void uncount_ambiguous(const struct op_desc *op, const struct stack *peer_out,
			      const struct stack *in, const struct reference_cache *ref,
			      struct delta *d, struct result_row *row)
{
	size_t n = stack_voxels(in);
	double lo = INFINITY, hi = -INFINITY, bin, t = ref->side_value;
	uint64_t ambiguous = 0, real = 0;

	if (!isfinite(t) || stack_voxels(peer_out) != n)
		return;
	for (size_t i = 0; i < n; i++) {
		double v = stack_get(in, i);

		lo = fmin(lo, v);
		hi = fmax(hi, v);
	}
	bin = (hi - lo) / 256;
	for (size_t i = 0; i < n; i++) {
		if (stack_get(peer_out, i) == stack_get(&ref->out, i))
			continue;
		if (fabs(stack_get(in, i) - t) <= bin)
			ambiguous++;
		else
			real++;
	}
	d->mismatches = real;
	d->ambiguous += ambiguous;
	if (ambiguous)
		snprintf(row->reason, sizeof(row->reason), "%llu voxels within one bin (%g) of the "
			 "threshold %g differ: ambiguous, not counted (%s)",
			 (unsigned long long)ambiguous, bin, t, op->name);
}

static void compare_output(const struct peer_adapter *ad, const struct op_desc *op,
			   const struct stack *peer_out, const struct stack *in0,
			   const struct reference_cache *ref, uint64_t in_voxels,
			   struct result_row *row)
{
	struct op_desc rule = *op;
	struct delta d;
	struct vb_err err = { "" };

	if (ad->flags & PA_PARTITION)
		rule.cmp = (struct compare_rule){ CMP_LABELS, 0 };
	if (ad->tol > 0)
		rule.cmp = (struct compare_rule){ CMP_FLOAT, ad->tol };
	if (op_compare_ambiguous(&rule, peer_out, &ref->out, in_voxels, ref->ambiguous, &d,
				 &err) != VB_OK) {
		row->status = ROW_ERROR;
		snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
		return;
	}
	row->has_delta = 1;
	row->delta.max_abs = d.max_abs;
	row->delta.mean_abs = d.mean_abs;
	row->delta.rmse = d.rmse;
	row->delta.tolerance = d.tolerance;
	row->delta.mismatches = d.mismatches;
	row->delta.ambiguous = d.ambiguous;
	row->delta.labels_gpu = d.labels_gpu;
	row->delta.labels_ref = d.labels_ref;
	if (d.mismatches && ad->ambiguous == AMB_OTSU_BIN)
		uncount_ambiguous(op, peer_out, in0, ref, &d, row);
	row->status = d.mismatches ? ROW_FAIL : ROW_PASS;
	if (d.mismatches && d.labels_gpu >= 0)
		snprintf(row->reason, sizeof(row->reason), "%llu voxels are labelled differently "
			 "from the CPU reference (%lld labels from the peer, %lld in the reference)",
			 (unsigned long long)d.mismatches, (long long)d.labels_gpu,
			 (long long)d.labels_ref);
	else if (d.mismatches)
		snprintf(row->reason, sizeof(row->reason), "%llu voxels differ from the CPU "
			 "reference by more than %g (max %g)", (unsigned long long)d.mismatches,
			 d.tolerance, d.max_abs);
}

/* Append what the adapter table says to a row's reason: its note, a known bug. */
static void explain(struct result_row *row, const struct peer_adapter *ad)
{
	size_t n = strlen(row->reason);

	if (row->status == ROW_FAIL && ad->note && n)
		n += (size_t)snprintf(row->reason + n, sizeof(row->reason) - n, " (adapter: %s)",
				      ad->note);
	if ((row->status == ROW_FAIL || row->status == ROW_ERROR) && ad->bug &&
	    n < sizeof(row->reason))
		snprintf(row->reason + n, sizeof(row->reason) - n, "%sknown peer bug: %s",
			 n ? "; " : "", ad->bug);
}

static void one_peer(struct peer_set *ps, struct peer *pe, const struct peer_adapter *ad,
		     const struct op_desc *op, const double params[OP_MAX_PARAMS],
		     const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
		     struct reference_cache *ref, struct result_row *row)
{
	struct op_call c = { .op = op, .threads = s->cpu_threads };
	struct stack out = { 0 };
	struct outcome o = { 0 };
	struct vb_err err = { "" };
	char path[4300];
	size_t dims[3];
	int status;

	peer_row_start(row, pe, op, params, in[0]);
	if (!ad->call) {
		row->status = ROW_SKIP;
		snprintf(row->reason, sizeof(row->reason), "%s", ad->note);
		return;
	}
	memcpy(c.p, params, sizeof(c.p));
	for (int i = 0; i < op->n_inputs; i++) {
		c.in[i] = in[i];
		if (op->role[i] == ROLE_LABELS && dtype_is_float(in[i]->dtype)) {
			row->status = ROW_SKIP;
			snprintf(row->reason, sizeof(row->reason), "%s needs an integer label image "
				 "as input %d, not %s", op->name, i + 1, dtype_name(in[i]->dtype));
			return;
		}
	}
	if (!(op->dtypes & DT_BIT(in[0]->dtype))) {
		row->status = ROW_SKIP;
		snprintf(row->reason, sizeof(row->reason), "%s does not accept %s input", op->name,
			 dtype_name(in[0]->dtype));
		return;
	}
	if ((status = op_output_dims(&c, dims, &err)) ||
	    (status = stack_alloc(&out, dims[0], dims[1], dims[2],
				  op_output_dtype(op, in[0]->dtype), &err))) {
		row->status = status == VB_E_TOO_BIG || status == VB_E_UNSUPPORTED ? ROW_SKIP
										 : ROW_ERROR;
		snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
		return;
	}
	c.out = &out;
	snprintf(path, sizeof(path), "%s/out-%s.npy", ps->dir, pe->backend);
	ask(ps, pe, ad, op, params, in, &out, s->repeat < 1 ? 1 : s->repeat, path, &o);
	row->gpu = summarize(o.ms, o.nms);
	row->status = o.status;
	snprintf(row->reason, sizeof(row->reason), "%s", o.reason);
	if (o.status == ROW_PASS) {
		status = npy_read(path, &out, &err);
		if (!status)
			status = ensure_reference(op, params, in, s, ref, &err);
		if (status) {
			row->status = ROW_ERROR;
			snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
		} else {
			compare_output(ad, op, &out, in[0], ref, stack_voxels(in[0]), row);
		}
		if (o.hazard && row->status == ROW_PASS) {
			row->status = ROW_FAIL;
			snprintf(row->reason, sizeof(row->reason), "the input meets the known bug's "
				 "condition: the output matched the reference this time, by chance");
		} else if (o.hazard && row->status == ROW_FAIL) {
			size_t n = strlen(row->reason);

			snprintf(row->reason + n, sizeof(row->reason) - n, "; the input meets the "
				 "known bug's condition");
		}
	}
	unlink(path);
	if (ref->out.data) {
		row->cpu_ms = ref->cpu_ms;
		row->cpu_threads = ref->cpu_threads;
	}
	row->bytes_moved = op_bytes_moved(&c);
	row->speedup = row->cpu_ms / row->gpu.median;
	row->effective_gbps = (double)row->bytes_moved / (row->gpu.median * 1e6);
	explain(row, ad);
	stack_free(&out);
}

void peers_run_op(struct peer_set *ps, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *const in[OP_MAX_INPUTS],
		  const struct run_settings *s, struct reference_cache *ref, struct report *rep)
{
	struct vb_err err;

	for (size_t i = 0; ps && i < ps->n; i++) {
		const struct peer_adapter *ad = adapter_of(op, ps->peers[i].lib);
		struct result_row row;

		if (!ad)
			continue;
		one_peer(ps, &ps->peers[i], ad, op, params, in, s, ref, &row);
		report_add_row(rep, &row, &err);
	}
}

void peers_end_block(struct peer_set *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		peer_stop(&ps->peers[i]);
	for (size_t i = 0; i < ps->nstaged; i++)
		unlink(ps->staged_path[i]);
	ps->nstaged = 0;
}

char *peers_json(const struct peer_set *ps)
{
	json_t *arr;
	char *text;

	if (!ps || !ps->n)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < ps->n; i++) {
		const struct peer *pe = &ps->peers[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "backend",
						     pe->backend, "library", libs[pe->lib].name,
						     "version", pe->version, "device", pe->device,
						     "python", pe->interp, "python_version",
						     pe->python_version));
	}
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

void peers_close(struct peer_set *ps)
{
	if (!ps)
		return;
	peers_end_block(ps);
	if (ps->dir[0])
		nftw(ps->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(ps);
}
