/*
 * ops/peers.c: `voxbench run --peer`: the peers found, their children per block, the adapter
 * table, and their rows (see peers.h).
 */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	double start_ms;         /* the first start (interpreter, imports, device): no row's */
};

/* An input stack of the block, in the shared file. */
struct staged_input {
	const struct stack *s;
	char id[24];             /* the child keeps it on its device under this name */
	size_t offset;
};

struct peer_set {
	struct peer peers[MAX_PEERS];
	size_t n;
	char dir[4096];          /* temporary folder: the script, the block's files, the logs */
	char script[4200];
	int dir_slot;            /* dir's vb_cleanup entry: a second stop signal removes it */
	int share_fd;            /* the shared file, every child's fd 4; -1 when none */
	size_t share_size;       /* its length */
	size_t share_used;       /* the block's inputs end here; an op's output goes after */
	struct staged_input staged[MAX_STAGED];
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

/*
 * ---- the shared file ----
 * The stacks cross in one file (a memfd: memory, not disk) that every child has as its fd 4:
 * the block's inputs, each written once, from offset 0; an op's output after them. A request
 * names offsets; nothing but JSON goes through the channel.
 */

#define SHARE_ALIGN 4096u

static size_t share_align(size_t n)
{
	return (n + SHARE_ALIGN - 1) / SHARE_ALIGN * SHARE_ALIGN;
}

static int share_open(struct peer_set *ps, struct vb_err *err)
{
	char path[4200];

	ps->share_fd = memfd_create("voxbench-peers", MFD_CLOEXEC);
	if (ps->share_fd >= 0)
		return VB_OK;
	/* no memfd (an old kernel, a seccomp filter): an unlinked file in the temporary folder */
	snprintf(path, sizeof(path), "%s/share", ps->dir);
	ps->share_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (ps->share_fd < 0)
		return vb_errf(err, VB_E_IO, "cannot create %s: %s; set TMPDIR to a writable folder",
			       path, strerror(errno));
	unlink(path);
	return VB_OK;
}

/* The file at least `end` bytes long. */
static int share_reserve(struct peer_set *ps, size_t end, struct vb_err *err)
{
	if (end <= ps->share_size)
		return VB_OK;
	if (ftruncate(ps->share_fd, (off_t)end) != 0)
		return vb_errf(err, VB_E_IO, "cannot grow the peers' shared memory to %zu MiB: %s",
			       end >> 20, strerror(errno));
	ps->share_size = end;
	return VB_OK;
}

/* n bytes of data into the file at offset. */
static int share_write(struct peer_set *ps, const void *data, size_t n, size_t offset,
		       struct vb_err *err)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pwrite(ps->share_fd, (const char *)data + done, n - done,
				   (off_t)(offset + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return vb_errf(err, VB_E_IO, "cannot write the peers' shared memory at %zu "
				       "MiB: %s", offset >> 20, k < 0 ? strerror(errno) : "no room");
		done += (size_t)k;
	}
	return VB_OK;
}

/* s's voxels as the child wrote them at offset: mapped, not copied (share_unmap after). */
static int share_map(struct peer_set *ps, struct stack *s, size_t offset, struct vb_err *err)
{
	void *p = mmap(NULL, stack_bytes(s), PROT_READ, MAP_SHARED | MAP_POPULATE, ps->share_fd,
		       (off_t)offset);

	if (p == MAP_FAILED)
		return vb_errf(err, VB_E_IO, "cannot map the peer's output (%zu MiB): %s",
			       stack_bytes(s) >> 20, strerror(errno));
	s->data = p;
	return VB_OK;
}

static void share_unmap(struct stack *s)
{
	if (s->data)
		munmap(s->data, stack_bytes(s));
	s->data = NULL;
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
	if (py_start_shared(&pe->proc, pe->interp, ps->script, args, log, ps->share_fd,
			    &err) != VB_OK) {
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
	py_stop(&pe->proc, rc == PY_TIMEOUT || rc == PY_CUT || rc == PY_MSG);
	if (rc == PY_CUT)
		snprintf(why, len, "the run was cut (%s)", strsignal(vb_stop_requested()));
	else if (rc != PY_MSG) {
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
	py_stop(&proc, rc == PY_TIMEOUT || rc == PY_CUT);
	return found;
}

/*
 * A peer runs beside the run's device of its own backend, so both measure the same GPU. One
 * whose backend the run's --backend leaves out is left out too, with a note: 0 then, else 1.
 */
static int add_peer(struct peer_set *ps, enum peer_lib lib, const char *option,
		    const char *interp, json_t *check, const struct device_list *devs,
		    const char *run_backend, FILE *notes)
{
	struct peer *pe;
	const char *want = lib == PEER_CLE && strcmp(option, "opencl") == 0 ? "opencl" : "cuda";

	if (run_backend && strcmp(run_backend, "all") && strcmp(run_backend, want)) {
		fprintf(notes, "voxbench run: no %s%s%s rows: the run is --backend %s\n",
			libs[lib].name, option[0] ? "-" : "", option, run_backend);
		return 0;
	}
	if (ps->n == MAX_PEERS)
		return 1;
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
	return 1;
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
		int left_out = 0; /* a backend --backend excludes: noted already */

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
				left_out += !add_peer(ps, PEER_CUPY, "", found.v[i].path, checks[i],
						      devs, r->backend, notes);
			json_array_foreach(json_object_get(c, "backends"), k, b)
				if (lib == PEER_CLE && (!strcmp(json_string_value(b), "opencl") ||
							!strcmp(json_string_value(b), "cuda")))
					left_out += !add_peer(ps, PEER_CLE, json_string_value(b),
							      found.v[i].path, checks[i], devs,
							      r->backend, notes);
			if (left_out)
				break;
			if (ps->n == before && lib == PEER_CLE)
				fprintf(notes, "voxbench run: --peer pyclesperanto: %s has pyclesperanto "
					"but no OpenCL or CUDA backend: pip install "
					"pyclesperanto-opencl; no pyclesperanto rows\n",
					found.v[i].path);
		}
		if (ps->n > before || left_out)
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
	ps->share_fd = -1;
	ps->dir_slot = -1;
	ps->op_timeout_s = py_timeout_s("VOXBENCH_PEER_TIMEOUT", OP_TIMEOUT_S);
	ps->start_timeout_s = py_timeout_s("VOXBENCH_PYTHON_TIMEOUT", CHECK_TIMEOUT_S);
	snprintf(ps->dir, sizeof(ps->dir), "%s/voxbench-peers-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!vb_mkdtemp_tracked(ps->dir, &ps->dir_slot)) {
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
	if (share_open(ps, &err) != VB_OK) {
		fprintf(notes, "voxbench run: %s; no peer rows\n", err.msg);
		peers_close(ps);
		return NULL;
	}
	find_peers(ps, r, devs, notes);
	/* each peer started once now, for the whole run: a backend without a device is a note,
	 * not error rows; the start (imports, device selection) is no row's time */
	for (size_t i = 0; i < ps->n; i++) {
		struct peer *pe = &ps->peers[i];
		double t0 = vb_now_ms();
		int started = peer_start(ps, pe, why, sizeof(why));

		pe->start_ms = vb_now_ms() - t0;
		if (started != VB_OK) {
			fprintf(notes, "voxbench run: --peer %s: %s cannot start in %s: %s; no %s "
				"rows\n", libs[pe->lib].name, pe->backend, pe->interp, why,
				pe->backend);
			continue;
		}
		/* select_device falls back to its default silently: say so, or the rows' times
		 * would read as that GPU's (pyclesperanto's own OpenCL loader seeing only PoCL, on
		 * the H200 machine) */
		if (pe->hint[0] && !strcasestr(pe->device, pe->hint))
			fprintf(notes, "voxbench run: --peer %s: %s was asked for %s but runs on %s "
				"(it does not see that device: its OpenCL loader finds other drivers "
				"than voxbench's); its rows are that device's\n", libs[pe->lib].name,
				pe->backend, pe->hint, pe->device[0] ? pe->device : "an unnamed device");
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

/* The block's input stack s in the shared file (written on first use): its entry. */
static const struct staged_input *staged(struct peer_set *ps, const struct stack *s,
					 double *write_ms, struct vb_err *err)
{
	struct staged_input *e;
	double t0 = vb_now_ms();
	size_t i;

	for (i = 0; i < ps->nstaged; i++)
		if (ps->staged[i].s == s)
			return &ps->staged[i];
	if (ps->nstaged == MAX_STAGED) {
		vb_errf(err, VB_E_ARGS, "bug: more than %d input stacks in one block", MAX_STAGED);
		return NULL;
	}
	e = &ps->staged[i];
	e->offset = ps->share_used;
	if (share_reserve(ps, e->offset + share_align(stack_bytes(s)), err) != VB_OK ||
	    share_write(ps, s->data, stack_bytes(s), e->offset, err) != VB_OK)
		return NULL;
	snprintf(e->id, sizeof(e->id), "in-%u", ps->serial++);
	e->s = s;
	ps->share_used = e->offset + share_align(stack_bytes(s));
	ps->nstaged++;
	*write_ms += vb_now_ms() - t0;
	return e;
}

static json_t *stack_json(const struct stack *s)
{
	return json_pack("[I, I, I]", (json_int_t)s->depth, (json_int_t)s->height,
			 (json_int_t)s->width);
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
	int cut;                 /* a stop signal came before the reply: no row */
	char reason[2048];
	double ms[256];
	int nms;
	size_t out_offset;       /* where the output lies in the shared file */
	double phase_ms[PHASE_COUNT]; /* start, upload, warmup, timed, compare (the child's
				       * check of a bug's condition), download; NaN: none */
};

/* The child's own phases ({"upload": ms, ...}) into o's. */
static void child_phases(json_t *msg, struct outcome *o)
{
	static const enum row_phase mine[] = { PHASE_UPLOAD, PHASE_WARMUP, PHASE_TIMED,
					       PHASE_COMPARE, PHASE_DOWNLOAD };
	json_t *ph = json_object_get(msg, "phases");

	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
		json_t *v = json_object_get(ph, row_phase_name(mine[i]));

		if (json_is_number(v))
			o->phase_ms[mine[i]] = (isfinite(o->phase_ms[mine[i]]) ? o->phase_ms[mine[i]]
						: 0) + json_number_value(v);
	}
}

/* (Re)start the peer's child when it is not running; its start is the row's. */
static int ensure_started(struct peer_set *ps, struct peer *pe, struct outcome *o)
{
	char why[1024];
	double t0 = vb_now_ms();
	int status;

	if (pe->running)
		return VB_OK;
	status = peer_start(ps, pe, why, sizeof(why));
	o->phase_ms[PHASE_START] = vb_now_ms() - t0;
	if (status != VB_OK)
		snprintf(o->reason, sizeof(o->reason), "%s did not start: %s", pe->backend, why);
	o->cut = vb_stop_requested() != 0;
	return status;
}

/* The request of one op: the call, its inputs and output by place in the shared file. */
static json_t *request_json(struct peer_set *ps, const struct peer_adapter *ad,
			    const struct op_desc *op, const double params[OP_MAX_PARAMS],
			    const struct stack *const in[OP_MAX_INPUTS], const struct stack *out,
			    int repeat, struct outcome *o, struct vb_err *err)
{
	json_t *inputs = json_array();
	double write_ms = 0;

	for (int i = 0; i < op->n_inputs; i++) {
		const struct staged_input *e = staged(ps, in[i], &write_ms, err);

		if (!e) {
			json_decref(inputs);
			return NULL;
		}
		json_array_append_new(inputs, json_pack("{s:s, s:I, s:o, s:s}", "id", e->id,
							"offset", (json_int_t)e->offset, "shape",
							stack_json(in[i]), "dtype",
							dtype_name(in[i]->dtype)));
	}
	o->phase_ms[PHASE_UPLOAD] = write_ms;
	o->out_offset = ps->share_used;
	if (share_reserve(ps, o->out_offset + share_align(stack_bytes(out)), err) != VB_OK) {
		json_decref(inputs);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:I, s:I, s:o, s:s, s:i}",
			 "op", op->name, "call", ad->call, "post", ad->post, "when", ad->when,
			 "hazard", ad->hazard, "note", ad->note, "params", params_json(op, params),
			 "inputs", inputs, "share", (json_int_t)ps->share_size, "out",
			 (json_int_t)o->out_offset, "shape", stack_json(out), "dtype",
			 dtype_name(out->dtype), "repeat", repeat);
}

/* Send one op to the peer's child and wait for its reply (restarting the child as needed). */
static void ask(struct peer_set *ps, struct peer *pe, const struct peer_adapter *ad,
		const struct op_desc *op, const double params[OP_MAX_PARAMS],
		const struct stack *const in[OP_MAX_INPUTS], const struct stack *out, int repeat,
		struct outcome *o)
{
	json_t *req = NULL, *msg = NULL;
	struct vb_err err = { "" };
	char how[256], tail[512];
	int rc = PY_EOF;

	o->status = ROW_ERROR;
	if ((ad->flags & PA_ISOLATE))
		peer_stop(pe);
	if (ensure_started(ps, pe, o) != VB_OK)
		goto out;
	req = request_json(ps, ad, op, params, in, out, repeat, o, &err);
	if (!req) {
		snprintf(o->reason, sizeof(o->reason), "%s", err.msg);
		goto out;
	}
	if (py_send(&pe->proc, req, &err) != VB_OK) {
		snprintf(o->reason, sizeof(o->reason), "cannot ask %s: %s", pe->backend, err.msg);
		peer_stop(pe);
		goto out;
	}
	while ((rc = py_recv(&pe->proc, vb_now_ms() + ps->op_timeout_s * 1e3, &msg)) == PY_MSG &&
	       !json_object_get(msg, "status")) {
		json_decref(msg);
		msg = NULL;
	}
	/* the run stops: the row is not finished (a reply that came with the signal, Ctrl-C's
	 * KeyboardInterrupt, is not the op's), the child goes */
	if (rc == PY_CUT || vb_stop_requested()) {
		o->cut = 1;
		peer_stop(pe);
		goto out;
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
	child_phases(msg, o);
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
	/* a call that met its known bug's condition may have written past its buffers (on PoCL
	 * that is the child's own heap: later calls then hang in malloc's lock): a fresh child */
	if ((ad->flags & PA_ISOLATE) || o->hazard)
		peer_stop(pe);
	json_decref(msg);
	json_decref(req);
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
	if (op_compare_scaled(&rule, peer_out, &ref->out, in_voxels, ref->ambiguous,
			      ref->cmp_scale, &d, &err) != VB_OK) {
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

/* The peer's output out of the shared file, the reference, and the two compared. */
static void check_output(struct peer_set *ps, const struct peer_adapter *ad,
			 const struct op_desc *op, const double params[OP_MAX_PARAMS],
			 const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
			 struct reference_cache *ref, struct outcome *o, struct stack *out,
			 struct result_row *row)
{
	struct vb_err err = { "" };
	double t0 = vb_now_ms();
	int had_reference = ref->out.data != NULL, status;

	status = share_map(ps, out, o->out_offset, &err);
	row->phase_ms[PHASE_DOWNLOAD] = (isfinite(o->phase_ms[PHASE_DOWNLOAD])
					 ? o->phase_ms[PHASE_DOWNLOAD] : 0) + vb_now_ms() - t0;
	t0 = vb_now_ms();
	if (!status)
		status = ensure_reference(op, params, in, s, ref, &err);
	if (!had_reference && ref->out.data)
		row->phase_ms[PHASE_REFERENCE] = vb_now_ms() - t0;
	if (status) {
		row->status = ROW_ERROR;
		snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
	} else {
		t0 = vb_now_ms();
		compare_output(ad, op, out, in[0], ref, stack_voxels(in[0]), row);
		row->phase_ms[PHASE_COMPARE] = (isfinite(o->phase_ms[PHASE_COMPARE])
						? o->phase_ms[PHASE_COMPARE] : 0) + vb_now_ms() - t0;
	}
	if (o->hazard && row->status == ROW_PASS) {
		row->status = ROW_FAIL;
		snprintf(row->reason, sizeof(row->reason), "the input meets the known bug's "
			 "condition: the output matched the reference this time, by chance");
	} else if (o->hazard && row->status == ROW_FAIL) {
		size_t n = strlen(row->reason);

		snprintf(row->reason + n, sizeof(row->reason) - n, "; the input meets the known "
			 "bug's condition");
	}
	share_unmap(out);
}

/* One op on one peer into row; 0 when a stop signal cut it (no row). */
static int one_peer(struct peer_set *ps, struct peer *pe, const struct peer_adapter *ad,
		    const struct op_desc *op, const double params[OP_MAX_PARAMS],
		    const struct stack *const in[OP_MAX_INPUTS], const struct run_settings *s,
		    struct reference_cache *ref, struct result_row *row)
{
	struct op_call c = { .op = op, .threads = s->cpu_threads };
	struct stack out = { 0 };
	struct outcome o = { 0 };
	struct vb_err err = { "" };
	size_t dims[3];
	int status;

	peer_row_start(row, pe, op, params, in[0]);
	if (!ad->call) {
		row->status = ROW_SKIP;
		snprintf(row->reason, sizeof(row->reason), "%s", ad->note);
		return 1;
	}
	memcpy(c.p, params, sizeof(c.p));
	for (int i = 0; i < op->n_inputs; i++) {
		c.in[i] = in[i];
		if (op->role[i] == ROLE_LABELS && dtype_is_float(in[i]->dtype)) {
			row->status = ROW_SKIP;
			snprintf(row->reason, sizeof(row->reason), "%s needs an integer label image "
				 "as input %d, not %s", op->name, i + 1, dtype_name(in[i]->dtype));
			return 1;
		}
	}
	if (!(op->dtypes & DT_BIT(in[0]->dtype))) {
		row->status = ROW_SKIP;
		snprintf(row->reason, sizeof(row->reason), "%s does not accept %s input", op->name,
			 dtype_name(in[0]->dtype));
		return 1;
	}
	if ((status = op_output_dims(&c, dims, &err))) {
		row->status = status == VB_E_TOO_BIG || status == VB_E_UNSUPPORTED ? ROW_SKIP
										 : ROW_ERROR;
		snprintf(row->reason, sizeof(row->reason), "%s", err.msg);
		return 1;
	}
	/* its voxels stay in the shared file, where the child writes them */
	out = (struct stack){ .width = dims[0], .height = dims[1], .depth = dims[2],
			      .dtype = op_output_dtype(op, in[0]->dtype) };
	c.out = &out;
	for (int i = 0; i < PHASE_COUNT; i++)
		o.phase_ms[i] = NAN;
	ask(ps, pe, ad, op, params, in, &out, s->repeat < 1 ? 1 : s->repeat, &o);
	if (o.cut)
		return 0;
	row->gpu = summarize(o.ms, o.nms);
	row->status = o.status;
	snprintf(row->reason, sizeof(row->reason), "%s", o.reason);
	for (int i = 0; i < PHASE_COUNT; i++)
		row->phase_ms[i] = o.phase_ms[i];
	if (o.status == ROW_PASS)
		check_output(ps, ad, op, params, in, s, ref, &o, &out, row);
	if (ref->out.data) {
		row->cpu_ms = ref->cpu_ms;
		row->cpu_min_ms = ref->cpu_min_ms;
		row->cpu_max_ms = ref->cpu_max_ms;
		row->cpu_runs = ref->cpu_runs;
		row->cpu_threads = ref->cpu_threads;
	}
	row->bytes_moved = op_bytes_moved(&c);
	row->speedup = row->cpu_ms / row->gpu.median;
	row->effective_gbps = (double)row->bytes_moved / (row->gpu.median * 1e6);
	explain(row, ad);
	return 1;
}

void peers_run_op(struct peer_set *ps, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *const in[OP_MAX_INPUTS],
		  const struct run_settings *s, struct reference_cache *ref, struct report *rep)
{
	struct vb_err err;

	for (size_t i = 0; ps && i < ps->n && !vb_stop_requested(); i++) {
		const struct peer_adapter *ad = adapter_of(op, ps->peers[i].lib);
		struct result_row row;
		double t0 = vb_now_ms();

		if (!ad || !one_peer(ps, &ps->peers[i], ad, op, params, in, s, ref, &row))
			continue;
		row.wall_ms = vb_now_ms() - t0;
		report_add_row(rep, &row, &err);
	}
}

size_t peers_rows_per_block(const struct peer_set *ps, const int *selected)
{
	size_t n = 0;

	for (size_t i = 0; ps && i < ps->n; i++)
		for (size_t k = 0; k < op_count; k++)
			n += selected[k] && adapter_of(&op_table[k], ps->peers[i].lib);
	return n;
}

/* The end of a block: its inputs leave the children's devices and the shared file. */
void peers_end_block(struct peer_set *ps)
{
	json_t *forget = json_pack("{s:b}", "forget", 1);
	struct vb_err err;

	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->peers[i].running && py_send(&ps->peers[i].proc, forget, &err) != VB_OK)
			peer_stop(&ps->peers[i]); /* gone: the next op starts it again */
	json_decref(forget);
	ps->nstaged = 0;
	ps->share_used = 0;
	if (ps->share_fd >= 0 && ftruncate(ps->share_fd, 0) == 0)
		ps->share_size = 0;
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

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:i}",
						     "backend", pe->backend, "library",
						     libs[pe->lib].name, "version", pe->version,
						     "device", pe->device, "python", pe->interp,
						     "python_version", pe->python_version,
						     "start_ms", pe->start_ms, "starts",
						     pe->starts));
	}
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

void peers_close(struct peer_set *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		peer_stop(&ps->peers[i]);
	if (ps->share_fd >= 0)
		close(ps->share_fd);
	if (ps->dir[0])
		nftw(ps->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	vb_cleanup_done(ps->dir_slot);
	free(ps);
}
