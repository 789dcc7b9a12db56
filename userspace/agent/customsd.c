// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsd, the node agent: parses its command line and configuration,
 * installs signal handlers that only set flags, tells systemd when it is
 * ready, and hands over to agent.c's lifecycle and poll() loop. With
 * --detach-all it removes every program and pin it owns instead (uninstall).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define EXIT_USAGE 2

static struct agent the_agent;

static void on_stop(int sig)
{
	(void)sig;
	the_agent.stop = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	the_agent.reload = 1;
}

static int install_signals(void)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction reload = { .sa_handler = on_reload };
	struct sigaction ign = { .sa_handler = SIG_IGN };

	if (sigaction(SIGINT, &stop, NULL) || sigaction(SIGTERM, &stop, NULL) ||
	    sigaction(SIGHUP, &reload, NULL) || sigaction(SIGPIPE, &ign, NULL))
		return -errno;
	return 0;
}

/*
 * systemd's readiness protocol, spoken directly (one datagram to
 * $NOTIFY_SOCKET) rather than through libsystemd: it is the whole protocol.
 */
static void sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char msg[] = "READY=1";
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&sa, len) < 0)
		pr_warn("sd_notify: %s\n", strerror(errno));
	close(fd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: customsd --config FILE [--verbose]\n"
		"       customsd --check --config FILE\n"
		"       customsd --detach-all [--config FILE | --pin-dir DIR]\n"
		"\n"
		"The customs node agent: compiles the policy into kernel maps, loads\n"
		"the geo tables, attaches and pins the data plane (or adopts the pins an\n"
		"earlier agent left), then every interval reads the counters and ships\n"
		"signed telemetry. SIGHUP (or `customsctl reload`) recompiles the policy\n"
		"and reloads geo data; a bad one is refused and the old stays in force.\n"
		"Stopping the agent leaves the programs pinned and enforcing.\n"
		"\n"
		"  -c, --config FILE  agent configuration (docs/agent.md)\n"
		"      --check        validate configuration, policy and geo data, then exit\n"
		"      --detach-all   remove every program, link and map pinned under the\n"
		"                     pin directory (uninstall), then exit\n"
		"      --pin-dir DIR  with --detach-all and no --config (default %s)\n"
		"  -v, --verbose      debug messages\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n",
		DP_PIN_DIR_DEFAULT);
}

struct options {
	const char *config;
	const char *pin_dir;
	bool check;
	bool detach_all;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "detach-all", no_argument, NULL, 'D' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = true; break;
		case 'D': o->detach_all = true; break;
		case 'p': o->pin_dir = optarg; break;
		case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("customsd %s\n", CUSTOMS_VERSION); exit(0);
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "customsd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->config && !o->detach_all) {
		fprintf(stderr, "customsd: --config FILE is required\n");
		return -EINVAL;
	}
	return 0;
}

static int detach_all(const struct options *o)
{
	const char *dir = o->pin_dir ? o->pin_dir : the_agent.cfg.pin_dir;
	int rc = dp_detach_all(dir);

	if (rc && rc != -ENOENT) {
		pr_warn("detaching everything under %s: %s\n", dir, strerror(-rc));
		return 1;
	}
	pr_info("%s: %s\n", dir, rc == -ENOENT ? "nothing pinned" : "detached and unpinned");
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {};
	char err[1024];
	int rc;

	log_init("customsd", LOG_LEVEL_INFO);
	if (parse_options(argc, argv, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	log_route_libbpf();
	config_defaults(&the_agent.cfg);
	if (o.config && config_load(&the_agent.cfg, o.config, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	if (o.detach_all)
		return detach_all(&o);
	if (o.check) {
		rc = agent_check(&the_agent, err, sizeof(err));
		if (rc) {
			pr_warn("%s\n", err[0] ? err : strerror(-rc));
			return 1;
		}
		printf("%s: configuration, policy and geo data are valid\n", o.config);
		return 0;
	}
	rc = install_signals();
	if (!rc)
		rc = agent_start(&the_agent);
	if (!rc) {
		sd_notify_ready();
		pr_info("running: interval %u ms, control socket %s\n",
			the_agent.cfg.interval_ms, the_agent.cfg.control_socket);
		rc = agent_run(&the_agent);
	}
	agent_stop(&the_agent);
	if (rc)
		pr_warn("stopped: %s\n", strerror(-rc));
	return rc ? 1 : 0;
}
