// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-lab-server: a stand-in inference endpoint for the lab. It speaks
 * just enough HTTP/1.1 for `POST /v1/completions` and streams generated
 * tokens back as server-sent events, so the lab's traffic has the shape of
 * model serving (small request, long streamed response) without a model.
 * One process per connection, a bounded number at once.
 *
 *   customs-lab-server --listen ADDR:PORT [--tokens-per-sec N] [--max-conns N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TOKENS_DEFAULT 64
#define MAX_TOKENS_LIMIT 4096
#define REQ_MAX 16384

static volatile sig_atomic_t stop;
static volatile sig_atomic_t children;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_child(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		children--;
	errno = saved;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int chunk(int fd, const char *data, size_t len)
{
	char head[16];
	int n = snprintf(head, sizeof(head), "%zx\r\n", len);

	return write_all(fd, head, (size_t)n) || write_all(fd, data, len) ||
	       write_all(fd, "\r\n", 2);
}

/* Reads headers and body; returns max_tokens asked for, or -1. */
static int read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, body_len = 0;
	char *end = NULL, *cl, *mt;
	long want;

	while (!end) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end && len >= cap - 1)
			return -1;
	}
	if (strncmp(buf, "POST /v1/completions ", 21))
		return -2;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl)
		body_len = strtoul(cl + 17, NULL, 10);
	if (body_len > cap / 2)
		return -1;
	while (len < (size_t)(end + 4 - buf) + body_len) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
	}
	mt = strstr(end, "\"max_tokens\"");
	want = mt ? strtol(strchr(mt, ':') ? strchr(mt, ':') + 1 : mt, NULL, 10)
		  : MAX_TOKENS_DEFAULT;
	if (want <= 0)
		want = MAX_TOKENS_DEFAULT;
	return want > MAX_TOKENS_LIMIT ? MAX_TOKENS_LIMIT : (int)want;
}

static void serve(int fd, long tokens_per_sec)
{
	static const char *const words[] = {
		"the", "model", "answers", "with", "tokens", "streamed", "one", "by",
		"one", "across", "the", "wire", "to", "its", "tenant", "client",
	};
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	struct timespec gap = { 0, tokens_per_sec > 0 ? 1000000000L / tokens_per_sec : 0 };
	char buf[REQ_MAX], ev[256];
	int want, i, n;

	want = read_request(fd, buf, sizeof(buf));
	if (want == -2) {
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";
		write_all(fd, nf, sizeof(nf) - 1);
		return;
	}
	if (want < 0 || write_all(fd, head, sizeof(head) - 1))
		return;
	for (i = 0; i < want; i++) {
		n = snprintf(ev, sizeof(ev), "data: {\"index\": %d, \"token\": \"%s\"}\n\n", i,
			     words[i % (int)(sizeof(words) / sizeof(words[0]))]);
		if (chunk(fd, ev, (size_t)n))
			return;
		if (gap.tv_nsec)
			nanosleep(&gap, NULL);
	}
	chunk(fd, "data: [DONE]\n\n", 14);
	write_all(fd, "0\r\n\r\n", 5);
}

static int listen_on(const char *spec, int type)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (void *)&ss;
	struct sockaddr_in6 *sin6 = (void *)&ss;
	char host[64];
	const char *colon = strrchr(spec, ':');
	socklen_t sl;
	int fd, one = 1, port;
	size_t hl;

	if (!colon || (hl = (size_t)(colon - spec)) >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	port = atoi(colon + 1);
	if (host[0] == '[' && hl > 2) {
		host[hl - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			return -1;
		sl = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sl = sizeof(*sin);
	}
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (void *)&ss, sl) || (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: customs-lab-server --listen ADDR:PORT|[ADDR]:PORT\n"
		     "                          [--tokens-per-sec N] [--max-conns N]\n"
		     "Answers POST /v1/completions by streaming max_tokens (64) tokens\n"
		     "as server-sent events, N tokens per second (200; 0 = no pause).\n"
		     "UDP datagrams to the same address and port are read and dropped.\n"
		     "--reset-every N resets every Nth connection at once (a refusing server).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tokens-per-sec", required_argument, NULL, 't' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "reset-every", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_spec = NULL;
	long rate = 200, max_conns = 64, reset_every = 0, accepted = 0;
	int c, fd, udp;
	char sink[65536];

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_spec = optarg;
			break;
		case 't':
			rate = strtol(optarg, NULL, 10);
			break;
		case 'm':
			max_conns = strtol(optarg, NULL, 10);
			break;
		case 'r':
			reset_every = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("customs-lab-server %s\n", CUSTOMS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!listen_spec || rate < 0 || max_conns < 1 || reset_every < 0) {
		usage(stderr);
		return 2;
	}
	fd = listen_on(listen_spec, SOCK_STREAM);
	udp = fd < 0 ? -1 : listen_on(listen_spec, SOCK_DGRAM);
	if (fd < 0) {
		fprintf(stderr, "customs-lab-server: cannot listen on %s: %s\n", listen_spec,
			strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGCHLD, on_child);
	while (!stop) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { udp, POLLIN, 0 } };
		int conn;
		pid_t pid;

		if (poll(p, 2, -1) <= 0)
			continue;
		if (p[1].revents & POLLIN)
			while (recv(udp, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
				;
		if (!(p[0].revents & POLLIN))
			continue;
		conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		if (children >= max_conns) {
			close(conn);
			continue;
		}
		if (reset_every && ++accepted % reset_every == 0) {
			/* Linger 0: close sends a reset instead of a FIN. */
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(conn);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			serve(conn, rate);
			shutdown(conn, SHUT_WR);
			close(conn);
			_exit(0);
		}
		if (pid > 0)
			children++;
		close(conn);
	}
	close(fd);
	if (udp >= 0)
		close(udp);
	return 0;
}
