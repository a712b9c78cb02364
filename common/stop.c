/*
 * common/stop.c: a run asked to stop by SIGTERM or SIGINT (timeout(1), Ctrl-C). The first signal
 * only sets a flag: the run finishes the row it is in, skips the rest, kills its Python children
 * and writes the report of what it has. A second signal kills the children and exits at once.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vb.h"

#define MAX_WATCHED 16

static volatile sig_atomic_t stop_signal;
static volatile pid_t watched[MAX_WATCHED]; /* children to kill on the second signal; 0: free */

static void on_signal(int sig)
{
	if (!stop_signal) {
		stop_signal = sig;
		return;
	}
	for (int i = 0; i < MAX_WATCHED; i++)
		if (watched[i] > 0)
			kill(watched[i], SIGKILL); /* our own children, by their pids */
	_exit(128 + sig);
}

void vb_stop_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* reads and writes go on; waits poll the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int vb_stop_requested(void)
{
	return stop_signal;
}

void vb_stop_watch(pid_t pid)
{
	for (int i = 0; i < MAX_WATCHED; i++)
		if (watched[i] == 0) {
			watched[i] = pid;
			return;
		}
}

void vb_stop_unwatch(pid_t pid)
{
	for (int i = 0; i < MAX_WATCHED; i++)
		if (watched[i] == pid)
			watched[i] = 0;
}
