/*
 * ops/peers.h: `voxbench run --peer NAME`: the user's own library (pyclesperanto, CuPy) runs
 * each op it has an equivalent for, on the same stacks and parameters, and its output is
 * compared with voxbench's CPU reference by the op's own rule.
 *
 * A peer runs in one child Python process for the whole run (python/peer.py, embedded in the
 * binary), so a peer that crashes or hangs is an error row and the run goes on: the child is
 * started again for the next op. Its kernels compile once per run, not per block. The stacks
 * are handed over in a shared memory file (a memfd, the child's fd 4), each input once per
 * block; the output comes back the same way, after the op's convention adapter
 * (the peer calls of ops/conventions.def: one row per op and peer) has put it in voxbench's
 * layout and dtype.
 * Each row's phases_ms says where its time went: start (a child started again), upload,
 * warmup (the peer's compiles), timed, download, reference, compare.
 * Peer rows have the backend "pyclesperanto-opencl", "pyclesperanto-cuda" or "cupy"; their
 * GPU time is the peer's (warm, device synchronised, median of --repeat), the CPU time and the
 * reference are the same as the devices' rows.
 *
 *   struct peer_request req = { 0 };
 *   peer_request_add(&req, "pyclesperanto", &err);          // --peer; VB_E_ARGS: exit 2
 *   struct peer_set *ps = peers_open(&req, &devices, stderr); // a missing peer: a note
 *   ... per block: per op: op_run on each device, then peers_run_op(ps, ...) ...
 *   peers_end_block(ps);
 *   peers_close(ps);
 */
#ifndef VB_PEERS_H
#define VB_PEERS_H

#include <stdio.h>

#include "runner.h"

#define PEER_MAX_PYTHON 8

/* What --peer and --python asked for. Start zeroed. */
struct peer_request {
	unsigned libs;                       /* bit per peer library */
	const char *python[PEER_MAX_PYTHON]; /* --python PATH, tried first */
	size_t npython;
	const char *backend; /* the run's --backend: peers of another backend are left out; NULL: all */
};

/* Add --peer NAME: VB_E_ARGS naming the peers voxbench knows for another name. */
int peer_request_add(struct peer_request *r, const char *name, struct vb_err *err);
/* Add --python PATH: VB_E_ARGS past PEER_MAX_PYTHON. */
int peer_python_add(struct peer_request *r, const char *path, struct vb_err *err);
/* "pyclesperanto, cupy": the names --peer takes. */
const char *peer_names(void);

struct peer_set;

/*
 * Find an interpreter for each requested peer (--python first, then $CONDA_PREFIX/bin/python,
 * then python3 on PATH) and start it once. A peer that is not installed, or cannot start, is
 * one line on `notes`, not an error. devs gives each peer the device to select (the first
 * OpenCL or CUDA device of the run, matched by name). NULL when nothing was asked for or
 * nothing is usable.
 */
struct peer_set *peers_open(const struct peer_request *r, const struct device_list *devs,
			    FILE *notes);

/*
 * Append to rep the peer rows of one op over in[] (after the devices' rows; none once a stop
 * signal came, and not the one it cut): a skip row where
 * the adapter table says the conventions cannot be reconciled, else the peer's output compared
 * with ref (computed here when no device computed it). Nothing for ops without an adapter row.
 */
void peers_run_op(struct peer_set *ps, const struct op_desc *op,
		  const double params[OP_MAX_PARAMS], const struct stack *const in[OP_MAX_INPUTS],
		  const struct run_settings *s, struct reference_cache *ref, struct report *rep);

/* The peer rows one block of the ops selected[] (per op_table row) makes: for progress lines. */
size_t peers_rows_per_block(const struct peer_set *ps, const int *selected);

/* The end of a block of stacks: its inputs leave the children and the shared memory. */
void peers_end_block(struct peer_set *ps);

/* The report's "peers" section (JSON text, malloc'd): per peer its backend, library version,
 * interpreter and device; NULL when there are none. */
char *peers_json(const struct peer_set *ps);

void peers_close(struct peer_set *ps);

#endif
