/*
 * probe/system.c: the checks that look at the machine rather than at OpenCL: devnodes (GPU
 * device nodes and their permissions) and environment (WSL, containers, Flatpak, conda, and the
 * variables that change what a driver shows).
 *
 * A driver that cannot open its device node lists no device, or no platform, with no word of
 * why; these checks say which node, which group, and which command lets this user in.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- devnodes ---- */

static void group_of(const char *path, char *buf, size_t len)
{
	struct stat st;
	struct group *g;

	buf[0] = '\0';
	if (stat(path, &st) != 0)
		return;
	g = getgrgid(st.st_gid);
	if (g)
		snprintf(buf, len, "%s", g->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)st.st_gid);
}

static void node_denied(struct check_result *r, const char *path, const char *group)
{
	int named = group[0] && !isdigit((unsigned char)group[0]);

	result_summary(r, "cannot open %s: permission denied (group %s)",
		 path, group);
	if (named)
		result_fix(r, "join the group that owns it: sudo usermod -aG %s $USER, then log "
			   "out and back in", group);
	else
		result_fix(r, "the node belongs to group id %s, unknown here (a container): start "
			   "the container with --group-add %s", group, group);
}

/* Open the node as a driver would; FAIL with the reason and the fix when that fails. */
static void check_node(struct probe *p, const char *path)
{
	char group[64];
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	int e = errno;
	struct check_result *r;

	group_of(path, group, sizeof(group));
	if (fd >= 0) {
		close(fd);
		probe_add(p, "devnodes", V_OK, path, "%s opens (group %s)", path, group);
		return;
	}
	r = probe_add(p, "devnodes", V_FAIL, path, "cannot open %s: %s", path, strerror(e));
	if (e == EACCES) {
		node_denied(r, path, group);
	} else if (e == EPERM) {
		result_detail(r, "the node exists but the container's device rules refuse it");
		result_fix(r, "start the container with the device passed in: %s",
			   strstr(path, "nvidia") ? "docker run --gpus all ..."
						  : "docker run --device /dev/dri ...");
	} else if (e == ENXIO || e == ENODEV) {
		result_detail(r, "the node exists but no kernel driver answers it");
		result_fix(r, "load the kernel driver (sudo modprobe nvidia, amdgpu, i915 or xe); "
			   "`sudo dmesg | tail` says why it did not load");
	}
}

/* "580.65.06" from /proc/driver/nvidia/version's first line. */
static void nvidia_kernel_version(char *buf, size_t len)
{
	FILE *f = fopen("/proc/driver/nvidia/version", "r");
	char line[512], *save = NULL;

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f))
		for (char *t = strtok_r(line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
			if (isdigit((unsigned char)t[0]) && strchr(t, '.')) {
				snprintf(buf, len, "%s", t);
				break;
			}
	fclose(f);
}

/* The NVIDIA kernel driver is loaded but a node CUDA (and NVIDIA's OpenCL) needs is absent. */
static void nvidia_nodes(struct probe *p)
{
	char version[64];
	glob_t g;
	int have_gpu_node = glob("/dev/nvidia[0-9]*", 0, NULL, &g) == 0;
	struct check_result *r;

	globfree(&g);
	nvidia_kernel_version(version, sizeof(version));
	if (!*version)
		return;
	probe_add(p, "devnodes", V_OK, "/proc/driver/nvidia/version",
		  "NVIDIA kernel driver %s is loaded", version);
	if (!have_gpu_node) {
		r = probe_add(p, "devnodes", V_WARN, "/dev/nvidia0",
			      "the NVIDIA driver is loaded but /dev/nvidia0 does not exist");
		result_fix(r, "create the nodes: sudo nvidia-modprobe -c=0 (in a container: start it "
			   "with --gpus all)");
	}
	if (exists("/dev/nvidiactl") && !exists("/dev/nvidia-uvm")) {
		r = probe_add(p, "devnodes", V_WARN, "/dev/nvidia-uvm",
			      "/dev/nvidia-uvm does not exist: CUDA and NVIDIA's OpenCL need it");
		result_fix(r, "load the module: sudo nvidia-modprobe -u -c=0 (or sudo modprobe "
			   "nvidia-uvm)");
	}
}

void check_devnodes(struct probe *p)
{
	static const char *const patterns[] = {
		"/dev/dri/renderD*", "/dev/kfd", "/dev/nvidiactl", "/dev/nvidia[0-9]*",
		"/dev/nvidia-uvm", "/dev/dxg",
	};
	size_t before = p->nres, found = 0;
	struct check_result *r;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) == 0)
			for (size_t j = 0; j < g.gl_pathc; j++, found++)
				check_node(p, g.gl_pathv[j]);
		globfree(&g);
	}
	nvidia_nodes(p);
	if (found || p->nres > before)
		return;
	r = probe_add(p, "devnodes", V_WARN, "",
		      "no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/kfd, /dev/dxg)");
	result_detail(r, "no GPU kernel driver is loaded, or none is visible from here");
	result_fix(r, "on a machine with a GPU, install its kernel driver; in a container, pass "
		   "the GPU in: docker run --gpus all (NVIDIA), --device /dev/dri (Intel, AMD), "
		   "plus --device /dev/kfd (AMD ROCm)");
}

/* ---- environment ---- */

/* The first of words (in their order) that some line of path holds, or NULL; one read. */
static const char *file_first_word(const char *path, const char *const *words, size_t n)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t best = n;

	if (!f)
		return NULL;
	while (best > 0 && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < best; i++)
			if (vb_contains_nocase(line, words[i]))
				best = i;
	fclose(f);
	return best < n ? words[best] : NULL;
}

static int file_contains(const char *path, const char *needle)
{
	return file_first_word(path, &needle, 1) != NULL;
}

/* "docker", "podman", "kubernetes", "lxc", the $container value, or NULL. */
static const char *container_kind(void)
{
	static const char *const cgroup_words[] = { "kubepods", "docker", "containerd", "lxc" };
	const char *env = getenv("container");

	if (exists("/.dockerenv"))
		return "docker";
	if (exists("/run/.containerenv"))
		return "podman";
	if (getenv("KUBERNETES_SERVICE_HOST"))
		return "kubernetes";
	if (env && *env)
		return env;
	return file_first_word("/proc/1/cgroup", cgroup_words,
			       sizeof(cgroup_words) / sizeof(cgroup_words[0]));
}

static void env_cuda_visible(struct probe *p)
{
	const char *v = getenv("CUDA_VISIBLE_DEVICES");
	struct check_result *r;

	if (!v)
		return;
	if (!*v || !strcmp(v, "-1") || !strcmp(v, "NoDevFiles") || !strcmp(v, "none")) {
		r = probe_add(p, "environment", V_WARN, "CUDA_VISIBLE_DEVICES",
			      "CUDA_VISIBLE_DEVICES=\"%s\" hides every NVIDIA GPU", v);
		result_detail(r, "NVIDIA's OpenCL driver honours it too");
		result_fix(r, "unset CUDA_VISIBLE_DEVICES");
		return;
	}
	probe_add(p, "environment", V_OK, "CUDA_VISIBLE_DEVICES",
		  "CUDA_VISIBLE_DEVICES=%s limits the NVIDIA GPUs that CUDA and OpenCL see", v);
}

static int rusticl_registered(const struct probe *p)
{
	for (size_t i = 0; i < p->nregistered; i++)
		if (strstr(p->vendors[i].library, "Rusticl"))
			return 1;
	return 0;
}

static void env_rusticl(struct probe *p)
{
	const char *v = getenv("RUSTICL_ENABLE");
	struct check_result *r;

	if (v && *v) {
		probe_add(p, "environment", V_OK, "RUSTICL_ENABLE",
			  "RUSTICL_ENABLE=%s: Mesa's rusticl exposes these drivers", v);
	} else if (rusticl_registered(p)) {
		r = probe_add(p, "environment", V_WARN, "RUSTICL_ENABLE",
			      "rusticl is registered but RUSTICL_ENABLE is unset: it lists no "
			      "device");
		result_fix(r, "export RUSTICL_ENABLE=radeonsi (AMD) or RUSTICL_ENABLE=iris (Intel)");
	}
}

static void env_conda(struct probe *p)
{
	const char *prefix = getenv("CONDA_PREFIX");
	struct check_result *r;

	if (!prefix || !*prefix)
		return;
	if (strcmp(p->vendor_source, "conda prefix") == 0 ||
	    strncmp(p->vendor_dir, prefix, strlen(prefix)) == 0) {
		r = probe_add(p, "environment", V_WARN, "conda",
			      "conda's OpenCL loader reads %s, not /etc/OpenCL/vendors",
			      p->vendor_dir);
		result_detail(r, "the system's drivers (NVIDIA, Intel, AMD) are invisible to "
			      "programs in this conda environment");
		result_fix(r, "conda install -c conda-forge ocl-icd-system");
		return;
	}
	probe_add(p, "environment", V_OK, "conda", "conda environment %s (the system's loader "
		  "is in use)", prefix);
}

static void env_variables(struct probe *p)
{
	static const char *const names[] = { "OCL_ICD_VENDORS", "OCL_ICD_FILENAMES",
					     "OPENCL_VENDOR_PATH", "POCL_DEVICES",
					     "VOXBENCH_OPENCL_LIBRARY" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);

		if (v)
			probe_add(p, "environment", V_OK, names[i], "%s=%s", names[i], v);
	}
}

void check_environment(struct probe *p)
{
	size_t before = p->nres;
	const char *kind = container_kind();
	struct check_result *r;

	if (exists("/dev/dxg") || file_contains("/proc/version", "microsoft")) {
		r = probe_add(p, "environment", V_OK, "wsl", "WSL: GPUs are reached through "
			      "/dev/dxg and the libraries in /usr/lib/wsl/lib");
		result_detail(r, "GPU drivers are installed on Windows, not inside WSL");
	}
	if (kind) {
		r = probe_add(p, "environment", V_OK, "container", "running in a container (%s)",
			      kind);
		result_detail(r, "GPUs must be passed in (--gpus all, --device /dev/dri); the "
			      "image must register their OpenCL drivers");
	}
	if (exists("/.flatpak-info")) {
		r = probe_add(p, "environment", V_WARN, "flatpak",
			      "inside Flatpak: the host's OpenCL drivers are not visible");
		result_fix(r, "install the runtime's OpenCL extension, or run voxbench outside "
			   "Flatpak");
	}
	env_conda(p);
	env_cuda_visible(p);
	env_rusticl(p);
	env_variables(p);
	if (p->nres == before)
		probe_add(p, "environment", V_OK, "", "no marker: a plain host");
}
