/*
 * ops/backend.h: what a GPU backend (OpenCL, CUDA) implements, and the device/run types
 * the runner works with. Plans never see this: they use the gpu_* calls of ops/gpu.h.
 */
#ifndef VB_BACKEND_H
#define VB_BACKEND_H

#include "../reports/report.h"
#include "gpu.h"
#include "runner.h"

struct gpu_device;

/* Input stacks a device keeps between the ops of a block: the image(s), the binary, the labels. */
#define RESIDENT_MAX 8

struct gpu_backend {
	const char *name; /* "opencl", "cuda" */
	/* Append every device of this backend to *devs (realloc'd); a missing stack is VB_E_NOLOADER. */
	int (*enumerate)(struct gpu_device ***devs, size_t *n, struct vb_err *err);
	void (*close)(struct gpu_device *d);
	int (*buf_create)(struct gpu_device *d, size_t bytes, struct gpu_buf **out,
			  struct vb_err *err);
	void (*buf_release)(struct gpu_device *d, struct gpu_buf *b);
	/* Blocking transfers. */
	int (*write)(struct gpu_device *d, struct gpu_buf *b, const void *src, size_t bytes,
		     struct vb_err *err);
	int (*read)(struct gpu_device *d, struct gpu_buf *b, void *dst, size_t bytes,
		    struct vb_err *err);
	/* Enqueue a launch; `timed` launches are recorded for the next finish(). */
	int (*launch)(struct gpu_device *d, const struct launch *l, const char *options, int timed,
		      struct vb_err *err);
	/*
	 * Page-lock host memory so transfers run at DMA speed (NULL where the backend has no such
	 * call); a failure only means the transfers stay pageable.
	 */
	int (*host_register)(struct gpu_device *d, void *ptr, size_t bytes, struct vb_err *err);
	void (*host_unregister)(struct gpu_device *d, void *ptr);
	/*
	 * Page-locked host memory the device downloads into at DMA speed (NULL where the backend
	 * has none; a failure leaves downloads pageable). One block per device at a time.
	 */
	void *(*staging_alloc)(struct gpu_device *d, size_t bytes, struct vb_err *err);
	void (*staging_free)(struct gpu_device *d, void *ptr);
	/* Wait for the queue; *span_ms = first start to last end of the timed launches (or NAN). */
	int (*finish)(struct gpu_device *d, double *span_ms, struct vb_err *err);
	/*
	 * Compile kernels/<name>.cl with these options into the disk cache, unless it is there
	 * already, so a later launch only loads it (OpenCL also keeps the built program, under a
	 * lock of its own, for that launch to take). Safe to call from several threads at once for
	 * different programs; NULL where the backend cannot.
	 */
	int (*precompile)(struct gpu_device *d, const char *name, const char *options,
			  struct vb_err *err);
};

struct gpu_device {
	const struct gpu_backend *backend;
	struct device_info info;
	int is_gpu;
	/* Compilation since the last reset: time spent, programs built, programs from the cache. */
	double compile_ms;
	int programs_built, programs_cached;
	/* Device memory voxbench holds now, checked against info.global_mem_bytes. */
	uint64_t bytes_allocated;
	/* Page-locked host memory outputs are downloaded into (ops/runner.c), or NULL. */
	void *staging;
	size_t staging_bytes;
	/* A block's input stacks, uploaded once and lent to each op of the block (ops/runner.c). */
	struct resident_input {
		const void *host;
		size_t bytes;
		struct gpu_buf *buf;
		double upload_ms;
	} resident[RESIDENT_MAX];
	int nresident;
	void *impl;
};

#define RUN_MAX_SCRATCH 32

/* One op execution on one device: its buffers and whether launches are timed. */
struct gpu_run {
	struct gpu_device *dev;
	enum dtype in_type, out_type;
	struct gpu_buf *in[OP_MAX_INPUTS], *out;
	int in_lent[OP_MAX_INPUTS]; /* in[i] is the device's resident copy: not released by the run */
	struct gpu_buf *scratch[RUN_MAX_SCRATCH];
	size_t scratch_bytes[RUN_MAX_SCRATCH];
	int timed;
	int wide_index; /* some buffer has 2^32 or more voxels: kernels index with ulong */
	int host_pinned; /* the host stacks are page-locked now (ops/runner.c pin_host) */
	int scratch_base;         /* added to scratch slots: gpu_sub_plan gives sub-plans their own */
	struct gpu_buf *side_buf; /* gpu_side_value(): where the op's side value lies */
	size_t side_index;
};

/*
 * The programs (OpenCL) or modules (CUDA) a device has built in this process, by kernel file and
 * build options, so each is built once. Handles are the backend's own pointer types.
 */
struct built_entry {
	char *id;     /* "<name>\n<options>" */
	void *handle;
};
struct built_table {
	struct built_entry *entries;
	size_t n;
};
void *built_table_find(const struct built_table *t, const char *name, const char *options);
int built_table_add(struct built_table *t, const char *name, const char *options, void *handle,
		    struct vb_err *err);
/* Free the table; release(handle) for each entry unless release is NULL. */
void built_table_free(struct built_table *t, void (*release)(void *handle));
/* Find and remove: the handle (now the caller's), or NULL. */
void *built_table_take(struct built_table *t, const char *name, const char *options);

/*
 * Run op's plan once on dev with buffers the device makes and no transfers, timing nothing: how
 * ops/prebuild.c learns which programs a plan launches (dev is then a recording device).
 */
int op_dry_run(struct gpu_device *dev, const struct op_desc *op,
	       const double params[OP_MAX_PARAMS], const struct stack *const in[OP_MAX_INPUTS],
	       int wide_index, struct vb_err *err);

/*
 * A device that allocates and launches nothing (ops/prebuild.c): plans run on it note each
 * distinct (kernel file, build options) they launch; reads give zeros. NULL: out of memory.
 * recording_count is 0 when noting ran out of memory (the list would be incomplete).
 */
struct gpu_device *recording_device_open(void);
size_t recording_count(const struct gpu_device *rec);
void recording_entry(const struct gpu_device *rec, size_t i, const char **program,
		     const char **options);
void recording_device_close(struct gpu_device *rec);

extern const struct gpu_backend opencl_backend;
/* Built without the CUDA headers (no VB_HAVE_CUDA), its enumerate says so: VB_E_NOLOADER. */
extern const struct gpu_backend cuda_backend;

/*
 * Check an allocation against the device's limits before it is made: VB_E_TOO_BIG with a reason
 * naming the limit. Backends call this from buf_create.
 */
int device_check_alloc(struct gpu_device *d, size_t bytes, struct vb_err *err);

/* Append d to a backend's device list (*devs realloc'd); VB_E_NOMEM leaves the list as it was. */
int devices_append(struct gpu_device ***devs, size_t *n, struct gpu_device *d, struct vb_err *err);

/*
 * Work-group (OpenCL) or block (CUDA) shape of l, for a kernel that allows `max` items: the
 * launch's own (kernels that tile __local memory depend on it: refused, never shrunk), else 256
 * items laid along x first, halved while over max. Axes past l->dims are 1. Returns 0, or the
 * item count of the launch's own shape when that exceeds max (the backend says so).
 */
size_t launch_group_shape(const struct launch *l, size_t max, size_t local[3]);

/* The kernel source of kernels/<name>.cl (embedded, or from VOXBENCH_KERNEL_DIR). */
const char *kernel_source(const char *name, struct vb_err *err);

/*
 * The on-disk cache of compiled programs. The key hashes (XXH3-128) every part that changes the
 * binary: source, options, device, driver and voxbench version. VOXBENCH_CACHE_DIR moves it
 * (default $XDG_CACHE_HOME/voxbench or ~/.cache/voxbench); VOXBENCH_NO_CACHE=1 turns it off.
 */
void program_cache_key(const char *const parts[], size_t nparts, char key[33]);
/* Load a cached binary (malloc'd) or return VB_E_IO when absent. */
int program_cache_load(const char *key, unsigned char **data, size_t *len);
/* Store atomically; failures are ignored on purpose (a cache must never break a run). */
void program_cache_store(const char *key, const unsigned char *data, size_t len);
/* Whether entries can be stored (the folder exists or was made, caching is not turned off). */
int program_cache_enabled(void);
/* Whether something is there under key's name (not checked: program_cache_load checks it, and
 * a damaged entry is reported and replaced when a launch first loads it). */
int program_cache_has(const char *key);
/*
 * Builds in flight, within this process: the compiles ahead and the launches share them, so a
 * launch whose program a compile thread is building waits for it instead of building it twice,
 * and rows need not wait for every program. program_cache_claim returns 1 when the caller is
 * to build key (then program_cache_release after storing it, or after failing), 0 when another
 * thread built it meanwhile (load it from the cache; a failed build is the caller's to redo).
 */
int program_cache_claim(const char *key);
void program_cache_release(const char *key);
/* For a compile ahead: 1 when key is neither cached nor being built, and is now the caller's to
 * build (then program_cache_release); 0 when there is nothing to do. */
int program_cache_claim_absent(const char *key);
/* The cache as `voxbench cache` shows it: its folder ("" when caching is off), its entries (the
 * folder's regular files named <32 hex>.vbk, and left-over temporary ones) and their bytes. */
struct program_cache_stats {
	char dir[4096];
	unsigned long long entries, bytes, temporary;
};
int program_cache_stats(struct program_cache_stats *st);
/* Remove the entries counted above, nothing else (not other files, links or folders); the
 * number removed, or -1 with *failed set to the first path that could not be removed. */
long program_cache_clear(char *failed, size_t len);

#endif
