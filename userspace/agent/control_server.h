/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's end of the control socket: accepts customsctl's requests in
 * the agent's poll() loop, hands each to the agent's handler, and keeps
 * `events --follow` clients to stream events to. The socket is 0600 in a
 * 0700 directory: root only.
 */
#ifndef CUSTOMS_AGENT_CONTROL_SERVER_H
#define CUSTOMS_AGENT_CONTROL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define CONTROL_MAX_FOLLOWERS 16

/*
 * Answers one request on fd (CONTROL_DATA messages, then control_end()).
 * Returns true to keep fd as a follower instead of closing it.
 */
typedef bool (*control_handler_fn)(void *ctx, int fd, __u16 type, __u32 flags);

struct control_server {
	int fd;
	char path[108];
	struct {
		int fd;
		__u32 flags;
	} followers[CONTROL_MAX_FOLLOWERS];
	int n_followers;
	control_handler_fn handler;
	void *ctx;
};

int control_server_open(struct control_server *s, const char *path,
			control_handler_fn handler, void *ctx);
/* Accepts and answers one client; call when s->fd is readable. */
void control_server_accept(struct control_server *s);
/* Sends one DATA message to each follower (JSON or text by its flags). */
void control_server_broadcast(struct control_server *s, const char *json,
			      const char *text);
void control_server_close(struct control_server *s);

#endif
