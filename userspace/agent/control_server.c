// SPDX-License-Identifier: BSD-2-Clause
/* The control socket, agent side; see control_server.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_server.h"
#include "control.h"
#include "log.h"

int control_server_open(struct control_server *s, const char *path,
			control_handler_fn handler, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX];
	size_t len = strlen(path);
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->handler = handler;
	s->ctx = ctx;
	if (len >= sizeof(sa.sun_path) || len >= sizeof(s->path)) {
		pr_warn("control: socket path %s is too long\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, len + 1);
	memcpy(s->path, path, len + 1);
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) && errno != EEXIST) {
		err = -errno;
		pr_warn("control: creating the directory of %s: %s\n", path, strerror(errno));
		return err;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return -errno;
	/* A socket file left by a killed agent: nobody listens on it. */
	unlink(path);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(s->fd, 16)) {
		err = -errno;
		pr_warn("control: listening on %s: %s\n", path, strerror(errno));
		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

void control_server_accept(struct control_server *s)
{
	struct timeval tv = { .tv_sec = 2 };
	struct control_header h;
	size_t len;
	char *payload;
	__u32 flags = 0;
	int c;

	c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	/* A client that connects and says nothing must not stall the agent. */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (control_recv(c, &h, &payload, &len)) {
		close(c);
		return;
	}
	if (len >= sizeof(flags))
		memcpy(&flags, payload, sizeof(flags));
	free(payload);
	if (s->handler(s->ctx, c, h.type, flags) &&
	    s->n_followers < CONTROL_MAX_FOLLOWERS) {
		s->followers[s->n_followers].fd = c;
		s->followers[s->n_followers].flags = flags;
		s->n_followers++;
		return;
	}
	close(c);
}

void control_server_broadcast(struct control_server *s, const char *json,
			      const char *text)
{
	int i = 0;

	while (i < s->n_followers) {
		const char *msg = s->followers[i].flags & CONTROL_F_JSON ? json : text;

		if (control_send(s->followers[i].fd, CONTROL_DATA, msg, strlen(msg))) {
			close(s->followers[i].fd);
			s->followers[i] = s->followers[--s->n_followers];
			continue;
		}
		i++;
	}
}

void control_server_close(struct control_server *s)
{
	int i;

	for (i = 0; i < s->n_followers; i++)
		close(s->followers[i].fd);
	s->n_followers = 0;
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	s->fd = -1;
}
