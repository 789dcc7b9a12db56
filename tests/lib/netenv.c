// SPDX-License-Identifier: BSD-2-Clause
/* Namespaces, veth pairs and cgroups for tests; see netenv.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "netenv.h"

extern char **environ;

/*
 * What exists, by name: the cleanup at exit must not follow pointers into
 * stack frames a failed test has already left.
 */
#define MAX_LIVE 8
static char live_ns[MAX_LIVE][NETENV_NAME];
static char live_cg[MAX_LIVE][256];
static int home_ns_fd = -1;
static bool cleanup_armed;

int run_cmd(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int status, err;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (!getenv("NETENV_VERBOSE"))
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int ns_del(const char *name);
static void cg_remove(const char *path);

static void cleanup_all(void)
{
	int i;

	netenv_enter(NULL, -1);
	for (i = 0; i < MAX_LIVE; i++) {
		if (live_ns[i][0])
			ns_del(live_ns[i]);
		if (live_cg[i][0])
			cg_remove(live_cg[i]);
		live_ns[i][0] = live_cg[i][0] = '\0';
	}
}

static void cleanup_signal(int sig)
{
	cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_cleanup(void)
{
	if (cleanup_armed)
		return;
	cleanup_armed = true;
	atexit(cleanup_all);
	signal(SIGINT, cleanup_signal);
	signal(SIGTERM, cleanup_signal);
	signal(SIGHUP, cleanup_signal);
}

/* Records (add) or forgets a name in one of the live tables. */
static void track(char *slots, size_t len, const char *name, bool add)
{
	int i;

	for (i = 0; i < MAX_LIVE; i++) {
		char *slot = slots + (size_t)i * len;

		if (add && !slot[0]) {
			snprintf(slot, len, "%s", name);
			return;
		}
		if (!add && !strcmp(slot, name)) {
			slot[0] = '\0';
			return;
		}
	}
}

#define track_ns(name, add) track(&live_ns[0][0], NETENV_NAME, name, add)
#define track_cg(path, add) track(&live_cg[0][0], sizeof(live_cg[0]), path, add)

static int ns_del(const char *name)
{
	char *argv[] = { "ip", "netns", "del", (char *)name, NULL };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (access(path, F_OK))
		return 0;
	return run_cmd(argv);
}

static int in_ns(const char *ns, char *const cmd[])
{
	char *argv[32] = { "ip", "-n", (char *)ns };
	int i;

	for (i = 0; cmd[i] && i < 28; i++)
		argv[3 + i] = cmd[i];
	argv[3 + i] = NULL;
	return run_cmd(argv);
}

int netenv_setup(struct netenv *e, const char *tag)
{
	static const char *v4[2] = { NETENV_V4_A "/24", NETENV_V4_B "/24" };
	static const char *v6[2] = { NETENV_V6_A "/64", NETENV_V6_B "/64" };
	static const char *ifn[2] = { NETENV_IF_A, NETENV_IF_B };
	int s, err;

	memset(e, 0, sizeof(*e));
	arm_cleanup();
	for (s = 0; s < 2; s++) {
		snprintf(e->ns[s], NETENV_NAME, "customs-%s-%d-%c", tag,
			 (int)getpid(), 'a' + s);
		ns_del(e->ns[s]);	/* stale from a killed run with our PID */
	}
	track_ns(e->ns[0], true);
	track_ns(e->ns[1], true);
	e->up = true;
	for (s = 0; s < 2; s++) {
		char *argv[] = { "ip", "netns", "add", e->ns[s], NULL };

		err = run_cmd(argv);
		if (err)
			goto fail;
	}
	{
		char *argv[] = { "ip", "-n", e->ns[0], "link", "add", NETENV_IF_A,
				 "type", "veth", "peer", "name", NETENV_IF_B,
				 "netns", e->ns[1], NULL };
		err = run_cmd(argv);
		if (err)
			goto fail;
	}
	for (s = 0; s < 2; s++) {
		char *lo[] = { "link", "set", "lo", "up", NULL };
		char *a4[] = { "addr", "add", (char *)v4[s], "dev", (char *)ifn[s], NULL };
		char *a6[] = { "addr", "add", (char *)v6[s], "dev", (char *)ifn[s],
			       "nodad", NULL };
		char *up[] = { "link", "set", (char *)ifn[s], "up", NULL };

		err = in_ns(e->ns[s], lo) ?: in_ns(e->ns[s], a4) ?:
		      in_ns(e->ns[s], a6) ?: in_ns(e->ns[s], up);
		if (err)
			goto fail;
	}
	return 0;
fail:
	netenv_teardown(e);
	return err < 0 ? err : -EIO;
}

void netenv_teardown(struct netenv *e)
{
	int s;

	if (!e->up)
		return;
	netenv_enter(e, -1);
	for (s = 0; s < 2; s++) {
		ns_del(e->ns[s]);
		track_ns(e->ns[s], false);
	}
	e->up = false;
}

int netenv_enter(const struct netenv *e, int side)
{
	char path[PATH_MAX];
	int fd, err;

	if (home_ns_fd < 0) {
		home_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_ns_fd < 0)
			return -errno;
	}
	if (side < 0 || !e)
		return setns(home_ns_fd, CLONE_NEWNET) ? -errno : 0;
	snprintf(path, sizeof(path), "/run/netns/%s", e->ns[side]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

int netenv_run(const struct netenv *e, int side, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (netenv_enter(e, side))
			_exit(126);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int netenv_exec(const struct netenv *e, int side, char *const argv[])
{
	char *full[40] = { "ip", "netns", "exec", (char *)e->ns[side] };
	int i;

	for (i = 0; argv[i] && i < 35; i++)
		full[4 + i] = argv[i];
	full[4 + i] = NULL;
	return run_cmd(full);
}

int netenv_ifindex(const struct netenv *e, int side)
{
	int idx, err, here;

	/* Come back to the namespace the caller is in, not the host's. */
	here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (here < 0)
		return -errno;
	err = netenv_enter(e, side);
	if (err) {
		close(here);
		return err;
	}
	idx = (int)if_nametoindex(side ? NETENV_IF_B : NETENV_IF_A);
	err = setns(here, CLONE_NEWNET) ? -errno : 0;
	close(here);
	if (err)
		return err;
	return idx ? idx : -ENODEV;
}

const char *testcg_mount(void)
{
	static char mnt[PATH_MAX];
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f;

	if (mnt[0])
		return mnt;
	f = fopen("/proc/self/mounts", "r");
	if (!f)
		return NULL;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(mnt, sizeof(mnt), "%s", dir);
			break;
		}
	}
	fclose(f);
	return mnt[0] ? mnt : NULL;
}

/* The cgroup this process started in, to send evicted processes home. */
static const char *home_cgroup(void)
{
	static char path[PATH_MAX];
	char line[PATH_MAX];
	FILE *f;

	if (path[0])
		return path;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s%s", testcg_mount(), line + 3);
	}
	fclose(f);
	/* Still inside a test cgroup (a nested call): go to the mount root. */
	if (strstr(path, "/customs-test-"))
		snprintf(path, sizeof(path), "%s", testcg_mount());
	return path[0] ? path : NULL;
}

int testcg_setup(struct testcg *c, const char *tag)
{
	const char *mnt = testcg_mount();

	memset(c, 0, sizeof(*c));
	if (!mnt)
		return -ENOENT;
	arm_cleanup();
	home_cgroup();	/* remember where we started before anyone moves */
	snprintf(c->path, sizeof(c->path), "%s/customs-test-%s-%d", mnt, tag,
		 (int)getpid());
	c->up = true;
	testcg_teardown(c);	/* stale from a killed run with our PID */
	c->up = true;
	track_cg(c->path, true);
	if (mkdir(c->path, 0755) && errno != EEXIST) {
		int err = -errno;

		c->up = false;
		track_cg(c->path, false);
		return err;
	}
	return 0;
}

int testcg_mkdir(const struct testcg *c, const char *rel, char *out, size_t outlen)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", c->path, rel);
	for (p = path + strlen(c->path) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	if (out)
		snprintf(out, outlen, "%s", path);
	return 0;
}

int testcg_move(const char *path, pid_t pid)
{
	char file[PATH_MAX];
	int fd, n, err = 0;
	char buf[32];

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)n) != n)
		err = -errno;
	close(fd);
	return err;
}

static void cg_evict_and_remove(const char *path, const char *home, int depth)
{
	char file[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int pid;

	if (depth > 16)
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		cg_evict_and_remove(sub, home, depth + 1);
	}
	closedir(d);
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "r");
	if (f) {
		while (fscanf(f, "%d", &pid) == 1)
			if (home)
				testcg_move(home, pid);
		fclose(f);
	}
	rmdir(path);
}

static void cg_remove(const char *path)
{
	cg_evict_and_remove(path, home_cgroup(), 0);
}

void testcg_teardown(struct testcg *c)
{
	if (!c->up)
		return;
	cg_remove(c->path);
	c->up = false;
	track_cg(c->path, false);
}
