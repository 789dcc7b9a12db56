// SPDX-License-Identifier: BSD-2-Clause
/* Prometheus endpoint over libmicrohttpd; see metrics.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "metrics.h"
#include "log.h"

struct metrics {
	struct MHD_Daemon *mhd;
	metrics_render_fn render;
	void *ctx;
	struct strbuf out;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_len, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	unsigned int status = MHD_HTTP_OK;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	strbuf_reset(&m->out);
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		strbuf_puts(&m->out, "only GET /metrics\n");
	} else if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		strbuf_puts(&m->out, "see /metrics\n");
	} else {
		m->render(m->ctx, &m->out);
		if (strbuf_failed(&m->out)) {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			strbuf_free(&m->out);
			strbuf_puts(&m->out, "out of memory\n");
		}
	}
	resp = MHD_create_response_from_buffer(m->out.len, (void *)strbuf_str(&m->out),
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;
	long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, NULL, 10);
	hl = (size_t)(colon - listen);
	if (port <= 0 || port > 65535 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

int metrics_open(struct metrics **out, const char *listen, metrics_render_fn fn,
		 void *ctx)
{
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_EPOLL;
	struct metrics *m;

	if (parse_listen(listen, &ss)) {
		pr_warn("metrics: listen address \"%s\" is not ADDR:PORT or [ADDR]:PORT\n",
			listen);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->render = fn;
	m->ctx = ctx;
	strbuf_init(&m->out);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, m,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_LIMIT, 16u,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (!m->mhd) {
		pr_warn("metrics: cannot listen on %s (address in use or not local?)\n",
			listen);
		free(m);
		return -EADDRINUSE;
	}
	*out = m;
	return 0;
}

int metrics_fd(const struct metrics *m)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

void metrics_run(struct metrics *m)
{
	MHD_run(m->mhd);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);
	strbuf_free(&m->out);
	free(m);
}
