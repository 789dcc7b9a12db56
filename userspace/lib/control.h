/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control protocol between customsctl and customsd over a unix
 * socket (0600, root only). Every message is a fixed header followed by a
 * payload of at most CONTROL_MAX_PAYLOAD bytes:
 *
 *   u32 magic 'CSCT' | u16 version | u16 type | u32 payload length
 *
 * (little-endian, the host's order on both ends of a local socket). A
 * request is one message; a reply is zero or more CONTROL_DATA messages
 * and always one CONTROL_END, whose payload is a 4-byte status (0 = ok,
 * else a positive errno) followed by an optional message text. A follow
 * request (events --follow) keeps receiving DATA until either side closes.
 */
#ifndef CUSTOMS_CONTROL_H
#define CUSTOMS_CONTROL_H

#include <stddef.h>
#include <linux/types.h>

#define CONTROL_MAGIC		0x54435343u	/* "CSCT" */
#define CONTROL_VERSION		1
#define CONTROL_MAX_PAYLOAD	(1u << 20)
#define CONTROL_SOCKET_DEFAULT	"/run/customs/customsd.sock"

enum control_type {
	/* requests; payload: u32 flags (CONTROL_F_*) */
	CONTROL_STATUS = 1,
	CONTROL_STATS = 2,
	CONTROL_EVENTS = 3,
	CONTROL_RELOAD = 4,
	CONTROL_TOP = 5,
	CONTROL_ALERTS = 6,	/* query-pattern alerts (agent_query.c) */
	/* replies */
	CONTROL_DATA = 100,
	CONTROL_END = 101,
};

#define CONTROL_F_JSON		(1u << 0)	/* answer in JSON, not text */
#define CONTROL_F_FOLLOW	(1u << 1)	/* keep streaming (events) */

struct control_header {
	__u32 magic;
	__u16 version;
	__u16 type;
	__u32 len;
};
_Static_assert(sizeof(struct control_header) == 12, "control_header layout");

/* Writes one message in full; 0 or -errno. */
int control_send(int fd, enum control_type type, const void *payload, size_t len);
/*
 * Reads one message; *payload is malloc'd (NUL-terminated for
 * convenience, *len excludes the NUL). 0, -EPROTO for a bad header or
 * oversized payload, -ECONNRESET on EOF, or -errno.
 */
int control_recv(int fd, struct control_header *hdr, char **payload, size_t *len);
/* Sends CONTROL_END with a status (0 or positive errno) and a message. */
int control_end(int fd, int status, const char *msg);

/* Client side: connects to the agent's socket; the fd or -errno. */
int control_connect(const char *path);

#endif
