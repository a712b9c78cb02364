/*
 * common/cleanup.c: what voxbench undoes when a signal stops it: temporary files and folders
 * it is writing, and child processes it is waiting for (gnuplot), so that SIGINT or SIGTERM
 * never leaves a half-written file or a running child behind. A run (`run`) may ask that the
 * first SIGINT or SIGTERM only set a flag: it then stops between rows and writes its report.
 *
 * The handler only calls async-signal-safe functions (unlink, kill, openat, getdents64 through
 * syscall, unlinkat, close, sigaction, raise) on a fixed table filled beforehand.
 */
#define _GNU_SOURCE
#include "vb.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 32

enum entry_kind { FREE, A_FILE, A_FOLDER, A_CHILD, CLAIMED /* being filled */ };

static struct entry {
	volatile sig_atomic_t kind; /* set last: the handler reads only filled entries */
	pid_t pid;
	char path[4096];
} entries[MAX_ENTRIES];

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* A folder voxbench made, with what is in it (a few levels of subfolders at most). */
static void remove_tree(int parent, const char *path, int depth)
{
	char buf[2048];
	int fd = openat(parent, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long n;

	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name */
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (strcmp(name, ".") && strcmp(name, "..") && unlinkat(fd, name, 0) != 0 &&
			    buf[off + 18] == DT_DIR && depth < 4)
				remove_tree(fd, name, depth + 1);
			off += reclen;
		}
	}
	close(fd);
	unlinkat(parent, path, AT_REMOVEDIR);
}

static void undo_all(void)
{
	for (int i = 0; i < MAX_ENTRIES; i++) {
		switch (entries[i].kind) {
		case A_CHILD: kill(entries[i].pid, SIGTERM); break; /* our own child, by its pid */
		case A_FILE: unlink(entries[i].path); break;
		case A_FOLDER: remove_tree(AT_FDCWD, entries[i].path, 0); break;
		default: break;
		}
	}
}

/*
 * Making a temporary file and entering it (vb_mkstemp_tracked) must not race with a signal
 * handled by another thread (PoCL's, OpenMP's: the maker blocks signals only for itself). The
 * two flags, set and read in opposite order with full barriers, settle it: either the stopping
 * thread sees the maker inside and waits for the entry, or the maker sees the stop and makes
 * nothing.
 */
static int making, stopping; /* making: how many threads are inside (several compile at once) */

static void stop_now(int sig)
{
	struct sigaction dfl;
	struct timespec tick = { 0, 1000000 };

	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; __atomic_load_n(&making, __ATOMIC_SEQ_CST) && i < 2000; i++)
		nanosleep(&tick, NULL);
	undo_all();
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig); /* ends as the signal would have: the shell sees it */
}

static volatile sig_atomic_t graceful, stop_asked;
static volatile long long stop_asked_ns; /* when: CLOCK_MONOTONIC, async-signal-safe */

/* A second signal within this of the first is the same stop delivered twice: timeout(1) signals
 * its command and then the command's process group (on the H200 a cut run with peers ended at
 * once, without its report). */
#define SAME_STOP_NS 500000000LL

static long long monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void on_stop(int sig)
{
	if (graceful && (sig == SIGINT || sig == SIGTERM)) {
		if (!stop_asked) {
			stop_asked_ns = monotonic_ns();
			stop_asked = sig; /* the run stops between rows (vb_stop_requested) */
			return;
		}
		if (monotonic_ns() - stop_asked_ns < SAME_STOP_NS)
			return;
	}
	stop_now(sig);
}

void vb_stop_graceful(void)
{
	graceful = 1;
}

int vb_stop_requested(void)
{
	return stop_asked;
}

void vb_stop_reraise(void)
{
	struct sigaction dfl;

	if (!stop_asked)
		return;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(stop_asked, &dfl, NULL);
	raise(stop_asked);
}

/* Enter the section (signals held off in this thread); 0, or -1 when a stop is under way. */
static int begin_making(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	__atomic_add_fetch(&making, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_sub_fetch(&making, 1, __ATOMIC_SEQ_CST);
	pthread_sigmask(SIG_SETMASK, old, NULL);
	return -1;
}

static void end_making(const sigset_t *old)
{
	__atomic_sub_fetch(&making, 1, __ATOMIC_SEQ_CST);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

void vb_cleanup_init(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&sa.sa_mask, stop_signals[i]);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		/* a signal the caller ignores (nohup) stays ignored */
		if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(stop_signals[i], &sa, NULL);
	}
}

/* Fill a free entry; its number, or -1 when the table is full (nothing is then undone). */
static int add(enum entry_kind kind, const char *path, pid_t pid)
{
	sigset_t all, old;
	int slot = -1;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < MAX_ENTRIES && slot < 0; i++) {
		int free_kind = FREE;

		if (path && strlen(path) >= sizeof(entries[i].path))
			break;
		/* claimed by compare-and-swap: other threads may be adding too */
		if (!__atomic_compare_exchange_n(&entries[i].kind, &free_kind, (int)CLAIMED, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue;
		snprintf(entries[i].path, sizeof(entries[i].path), "%s", path ? path : "");
		entries[i].pid = pid;
		__atomic_store_n(&entries[i].kind, (int)kind, __ATOMIC_SEQ_CST);
		slot = i;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return slot;
}

int vb_mkstemp_tracked(char *tmpl, int *slot)
{
	sigset_t old;
	int fd;

	*slot = -1;
	if (begin_making(&old)) {
		errno = EINTR; /* stopping: nothing new is made */
		return -1;
	}
	fd = mkstemp(tmpl);
	*slot = fd >= 0 ? add(A_FILE, tmpl, 0) : -1;
	end_making(&old);
	return fd;
}

char *vb_mkdtemp_tracked(char *tmpl, int *slot)
{
	sigset_t old;
	char *dir;

	*slot = -1;
	if (begin_making(&old)) {
		errno = EINTR;
		return NULL;
	}
	dir = mkdtemp(tmpl);
	*slot = dir ? add(A_FOLDER, tmpl, 0) : -1;
	end_making(&old);
	return dir;
}

int vb_cleanup_child(pid_t pid)
{
	return add(A_CHILD, NULL, pid);
}

void vb_cleanup_forget(void)
{
	for (int i = 0; i < MAX_ENTRIES; i++)
		entries[i].kind = FREE;
}

void vb_cleanup_done(int slot)
{
	if (slot >= 0 && slot < MAX_ENTRIES)
		__atomic_store_n(&entries[slot].kind, (int)FREE, __ATOMIC_SEQ_CST);
}
