/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test networks and cgroups that touch nothing but themselves: two network
 * namespaces joined by a veth pair, and a cgroup v2 subtree, all named with
 * the test's PID and removed on every exit path (explicit teardown, atexit,
 * and SIGINT/SIGTERM/SIGHUP), including stale ones a killed run left.
 */
#ifndef CUSTOMS_NETENV_H
#define CUSTOMS_NETENV_H

#include <stdbool.h>
#include <sys/types.h>

#define NETENV_NAME	64

/*
 * Side 0 ("a", the server) holds veth "cs-a" with 198.18.0.1/24 and
 * 2001:db8::1/64; side 1 ("b", the client) holds "cs-b" with 198.18.0.2/24
 * and 2001:db8::2/64. Names: customs-<tag>-<pid>-a / -b.
 */
struct netenv {
	char ns[2][NETENV_NAME];
	bool up;
};

#define NETENV_IF_A	"cs-a"
#define NETENV_IF_B	"cs-b"
#define NETENV_V4_A	"198.18.0.1"
#define NETENV_V4_B	"198.18.0.2"
#define NETENV_V6_A	"2001:db8::1"
#define NETENV_V6_B	"2001:db8::2"

int netenv_setup(struct netenv *e, const char *tag);
void netenv_teardown(struct netenv *e);
/* Moves the calling thread into a side's namespace (-1 = back home). */
int netenv_enter(const struct netenv *e, int side);
/* Runs fn(arg) in a child process inside a side's namespace; its exit code. */
int netenv_run(const struct netenv *e, int side, int (*fn)(void *), void *arg);
/* Runs a command (argv, no shell) inside a side; its exit status. */
int netenv_exec(const struct netenv *e, int side, char *const argv[]);
/*
 * Interface index of a side's veth, looked up inside that namespace; the
 * caller stays in the namespace it was in.
 */
int netenv_ifindex(const struct netenv *e, int side);

struct testcg {
	char path[256];
	bool up;
};

/* Creates <cgroup2 mount>/customs-test-<tag>-<pid>. */
int testcg_setup(struct testcg *c, const char *tag);
/* Creates a child cgroup below it (rel, e.g. "tenant-a/model"); its path. */
int testcg_mkdir(const struct testcg *c, const char *rel, char *out, size_t outlen);
/* Moves a process into a cgroup path. */
int testcg_move(const char *path, pid_t pid);
/* Moves every process back to where this test started, then removes it all. */
void testcg_teardown(struct testcg *c);
/* The mount point of cgroup v2, or NULL. */
const char *testcg_mount(void);

/* Runs a command (no shell); its exit status, or -errno. */
int run_cmd(char *const argv[]);

#endif
