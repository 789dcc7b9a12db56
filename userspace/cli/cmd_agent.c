// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl's commands that ask the running agent: status, stats, top,
 * events and reload. Each is one request over the control socket; the
 * agent renders the answer (JSON or text) and customsctl prints it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

struct agent_opts {
	const char *socket;
	__u32 flags;
	long iterations;	/* top: 0 = until interrupted */
	long interval_ms;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One request; prints DATA to stdout, returns the exit code. */
static int ask(const struct agent_opts *o, enum control_type type, const char *cmd)
{
	struct control_header h;
	size_t len;
	char *payload;
	int fd, err, rc = 1;

	fd = control_connect(o->socket);
	if (fd < 0) {
		fprintf(stderr, "customsctl %s: cannot reach customsd at %s: %s%s\n", cmd,
			o->socket, strerror(-fd),
			fd == -ENOENT || fd == -ECONNREFUSED ? " (is customsd running?)" :
			fd == -EACCES ? " (the socket is root's)" : "");
		return 1;
	}
	err = control_send(fd, type, &o->flags, sizeof(o->flags));
	while (!err && !interrupted) {
		err = control_recv(fd, &h, &payload, &len);
		if (err)
			break;
		if (h.type == CONTROL_DATA) {
			fwrite(payload, 1, len, stdout);
			fflush(stdout);
		} else if (h.type == CONTROL_END) {
			__u32 st = 0;

			if (len >= 4)
				memcpy(&st, payload, 4);
			if (len > 4)
				fprintf(stderr, "customsctl %s: %s\n", cmd, payload + 4);
			rc = st ? 1 : 0;
			free(payload);
			break;
		}
		free(payload);
	}
	if (err && !interrupted)
		fprintf(stderr, "customsctl %s: the agent closed the connection: %s\n", cmd,
			strerror(-err));
	close(fd);
	return interrupted ? 0 : rc;
}

static int parse(int argc, char **argv, struct agent_opts *o, const char *usage,
		 bool json_ok, bool follow_ok, bool top)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->socket = CONTROL_SOCKET_DEFAULT;
	o->interval_ms = 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hs:jf", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			if (!json_ok)
				goto bad;
			o->flags |= CONTROL_F_JSON;
			break;
		case 'f':
			if (!follow_ok)
				goto bad;
			o->flags |= CONTROL_F_FOLLOW;
			break;
		case 'n':
		case 'i':
			if (!top)
				goto bad;
			if (c == 'n')
				o->iterations = strtol(optarg, NULL, 10);
			else
				o->interval_ms = strtol(optarg, NULL, 10);
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return -1;
bad:
	fprintf(stderr, "%s", usage);
	return EXIT_USAGE;
}

#define SOCKET_HELP "  -s, --socket PATH  the agent's control socket (" CONTROL_SOCKET_DEFAULT ")\n"

int cmd_status(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl status [--json] [--socket PATH]\n"
		       "Programs and attach points, policy and geo database in force, the\n"
		       "last interval, lost events and map fill. Exits 1 when enforcement\n"
		       "is degraded (a program or link missing, a reload failed), so\n"
		       "monitoring can call it.\n" SOCKET_HELP, true, false, false);

	return rc >= 0 ? rc : ask(&o, CONTROL_STATUS, "status");
}

int cmd_stats(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl stats [--json] [--socket PATH]\n"
		       "Counters since the agent's state began, per tenant, model, country,\n"
		       "direction, hook and verdict. --json prints an array of objects with\n"
		       "tenant, model, country, direction, layer, verdict, packets, bytes.\n"
		       SOCKET_HELP, true, false, false);

	return rc >= 0 ? rc : ask(&o, CONTROL_STATS, "stats");
}

int cmd_events(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl events [--follow] [--json] [--socket PATH]\n"
		       "The agent's recent events (denials, audit hits, new flows);\n"
		       "--follow keeps printing new ones until interrupted.\n" SOCKET_HELP,
		       true, true, false);

	if (rc >= 0)
		return rc;
	signal(SIGINT, on_sigint);
	return ask(&o, CONTROL_EVENTS, "events");
}

int cmd_reload(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl reload [--socket PATH]\n"
		       "Recompiles the policy and reloads the geo database; on any error\n"
		       "the agent keeps what is in force and says why (exit 1).\n"
		       SOCKET_HELP, false, false, false);

	return rc >= 0 ? rc : ask(&o, CONTROL_RELOAD, "reload");
}

int cmd_top(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	long i;
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl top [--iterations N] [--interval MS] [--socket PATH]\n"
		       "Live rates per tenant and country from the agent's last interval,\n"
		       "redrawn every MS milliseconds (1000) until interrupted or N times.\n"
		       SOCKET_HELP, false, false, true);

	if (rc >= 0)
		return rc;
	if (o.interval_ms < 100) {
		fprintf(stderr, "customsctl top: --interval is at least 100 ms\n");
		return EXIT_USAGE;
	}
	signal(SIGINT, on_sigint);
	for (i = 0; !interrupted && (!o.iterations || i < o.iterations); i++) {
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		rc = ask(&o, CONTROL_TOP, "top");
		if (rc)
			return rc;
		if (!o.iterations || i + 1 < o.iterations)
			usleep((useconds_t)o.interval_ms * 1000);
	}
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	struct agent_opts o = { 0 };
	int rc = parse(argc, argv, &o,
		       "Usage: customsctl alerts [--json] [--socket PATH]\n"
		       "The agent's recent query-pattern alerts, oldest first: detector,\n"
		       "mode, model, client prefix, AS, countries, the figure and the\n"
		       "threshold it crossed (docs/query-patterns.md).\n" SOCKET_HELP,
		       true, false, false);

	return rc >= 0 ? rc : ask(&o, CONTROL_ALERTS, "alerts");
}
