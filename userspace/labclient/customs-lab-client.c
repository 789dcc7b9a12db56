// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-lab-client: the lab's traffic, bounded in count and time. It
 * binds a chosen source address (the lab's override file places each in a
 * country) and either sends UDP datagrams of a known size, so the bytes on
 * the wire are known exactly, or asks customs-lab-server for completions
 * over TCP, as an inference client would. It reports what happened in one
 * line and says with its exit status how the network answered:
 *
 *   0 done   3 refused locally (EPERM: customs' connect/sendmsg hook)
 *   4 connection timed out (SYN dropped)   5 reset or refused   1 other error
 *
 *   customs-lab-client udp --src IP --dst IP:PORT --count N --size BYTES
 *   customs-lab-client tcp --src IP --dst IP:PORT [--requests N] [--tokens N]
 *                      [--keep-going]
 *
 * With --keep-going every request is tried and the line counts how many
 * were served and how many refused; the exit status is 0 if any was served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXIT_USAGE	2
#define EXIT_EPERM	3
#define EXIT_TIMEOUT	4
#define EXIT_RESET	5
#define MAX_COUNT	1000000
#define MAX_SIZE	65000
#define CONNECT_MS	2000
#define READ_MS		10000

struct options {
	bool udp;
	struct sockaddr_storage src, dst;
	socklen_t len;
	long count, size, requests, tokens;
	bool keep_going;
};

/* "1.2.3.4", "2001:db8::1" with port (or "[v6]:port" for dst). */
static int parse_addr(const char *s, int port_needed, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	char buf[128], *host = buf, *port = NULL;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	snprintf(buf, sizeof(buf), "%s", s);
	if (port_needed) {
		if (buf[0] == '[') {
			host = buf + 1;
			port = strstr(host, "]:");
			if (!port)
				return -EINVAL;
			*port = '\0';
			port += 2;
		} else {
			port = strrchr(buf, ':');
			if (!port)
				return -EINVAL;
			*port++ = '\0';
		}
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port ? (unsigned short)atoi(port) : 0);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port ? (unsigned short)atoi(port) : 0);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int open_socket(const struct options *o, int type)
{
	int fd = socket(o->dst.ss_family, type | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)&o->src, o->len)) {
		fprintf(stderr, "customs-lab-client: binding the source address: %s\n",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int run_udp(const struct options *o)
{
	static char payload[MAX_SIZE];
	long i;
	int fd = open_socket(o, SOCK_DGRAM);

	if (fd < 0)
		return 1;
	for (i = 0; i < o->count; i++) {
		if (sendto(fd, payload, (size_t)o->size, 0, (const struct sockaddr *)&o->dst,
			   o->len) < 0) {
			int e = errno;

			printf("udp sent %ld of %ld: %s\n", i, o->count, strerror(e));
			close(fd);
			return e == EPERM ? EXIT_EPERM : 1;
		}
	}
	printf("udp sent %ld datagrams of %ld bytes\n", o->count, o->size);
	close(fd);
	return 0;
}

static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms);
}

static int connect_tcp(const struct options *o)
{
	int fd = open_socket(o, SOCK_STREAM), err = 0;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (const struct sockaddr *)&o->dst, o->len) && errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	if (wait_fd(fd, POLLOUT, CONNECT_MS) <= 0) {
		err = ETIMEDOUT;
		goto fail;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err)
		goto fail;
	fcntl(fd, F_SETFL, 0);
	return fd;
fail:
	close(fd);
	errno = err;
	return -1;
}

/* One completion: the response's byte count, or -errno. */
static long one_request(int fd, long tokens)
{
	char req[256], body[64], buf[16384];
	long total = 0;
	ssize_t n;
	int len;

	snprintf(body, sizeof(body), "{\"max_tokens\": %ld}", tokens);
	len = snprintf(req, sizeof(req), "POST /v1/completions HTTP/1.1\r\nHost: lab\r\n"
		       "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s", strlen(body), body);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		return -errno;
	for (;;) {
		if (wait_fd(fd, POLLIN, READ_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		total += n;
	}
}

/* One request: 0 served, or the exit status that names what went wrong. */
static int tcp_once(const struct options *o, long *bytes, char *why, size_t len)
{
	long got;
	int fd, e;

	fd = connect_tcp(o);
	if (fd < 0) {
		e = errno;
		snprintf(why, len, "connect: %s", strerror(e));
		return e == EPERM ? EXIT_EPERM : e == ETIMEDOUT ? EXIT_TIMEOUT :
		       (e == ECONNREFUSED || e == ECONNRESET) ? EXIT_RESET : 1;
	}
	got = one_request(fd, o->tokens);
	close(fd);
	if (got < 0) {
		snprintf(why, len, "%s", strerror((int)-got));
		return got == -ECONNRESET ? EXIT_RESET : 1;
	}
	*bytes += got;
	return 0;
}

static int run_tcp(const struct options *o)
{
	long i, bytes = 0, served = 0;
	char why[128] = "";
	int rc, last = 0;

	for (i = 0; i < o->requests; i++) {
		rc = tcp_once(o, &bytes, why, sizeof(why));
		if (!rc) {
			served++;
			continue;
		}
		last = rc;
		if (!o->keep_going) {
			printf("tcp %ld of %ld requests done: %s\n", i, o->requests, why);
			return rc;
		}
	}
	printf("tcp %ld requests, %ld served, %ld refused (last: %s), %ld response bytes\n",
	       o->requests, served, o->requests - served, last ? why : "none", bytes);
	return served || !last ? 0 : last;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: customs-lab-client udp --src IP --dst IP:PORT --count N --size BYTES\n"
		"       customs-lab-client tcp --src IP --dst IP:PORT [--requests N] [--tokens N]\n"
		"                          [--keep-going]\n"
		"Bounded lab traffic from a chosen source address. Exit: 0 done, 3 refused\n"
		"locally (EPERM), 4 connect timed out, 5 reset or refused, 1 other error.\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 'z' },
		{ "requests", required_argument, NULL, 'r' },
		{ "tokens", required_argument, NULL, 't' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *src = NULL, *dst = NULL;
	socklen_t slen = 0;
	int c;

	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		exit(0);
	}
	o->udp = !strcmp(argv[1], "udp");
	if (!o->udp && strcmp(argv[1], "tcp"))
		return -EINVAL;
	o->count = 1;
	o->size = 100;
	o->requests = 1;
	o->tokens = 64;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': src = optarg; break;
		case 'd': dst = optarg; break;
		case 'c': o->count = strtol(optarg, NULL, 10); break;
		case 'z': o->size = strtol(optarg, NULL, 10); break;
		case 'r': o->requests = strtol(optarg, NULL, 10); break;
		case 't': o->tokens = strtol(optarg, NULL, 10); break;
		case 'k': o->keep_going = true; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!src || !dst || parse_addr(dst, 1, &o->dst, &o->len) ||
	    parse_addr(src, 0, &o->src, &slen) || slen != o->len) {
		fprintf(stderr, "customs-lab-client: --src IP and --dst IP:PORT of one family\n");
		return -EINVAL;
	}
	if (o->count < 1 || o->count > MAX_COUNT || o->size < 0 || o->size > MAX_SIZE ||
	    o->requests < 1 || o->requests > MAX_COUNT || o->tokens < 1 || o->tokens > 100000) {
		fprintf(stderr, "customs-lab-client: count 1..%d, size 0..%d, requests 1..%d, "
			"tokens 1..100000\n", MAX_COUNT, MAX_SIZE, MAX_COUNT);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {};

	if (parse(argc, argv, &o)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return o.udp ? run_udp(&o) : run_tcp(&o);
}
