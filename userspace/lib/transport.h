/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent <-> collector connection: TLS 1.3 with certificates checked on
 * both sides, carrying varint-length-prefixed Frame messages
 * (proto/telemetry.proto). This file has what both ends share (TLS
 * contexts, frame encoding and extraction, a byte buffer) and the agent's
 * non-blocking client, a state machine driven from the caller's poll()
 * loop: connect, handshake, write frames, read frames, and after any
 * failure wait out a backoff with jitter before trying again.
 */
#ifndef CUSTOMS_TRANSPORT_H
#define CUSTOMS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "telemetry.h"

/* A byte queue: data[off..len) is pending. */
struct bytebuf {
	unsigned char *data;
	size_t off, len, cap;
};

int bytebuf_add(struct bytebuf *b, const void *p, size_t n);
void bytebuf_consume(struct bytebuf *b, size_t n);
static inline size_t bytebuf_pending(const struct bytebuf *b)
{
	return b->len - b->off;
}
void bytebuf_free(struct bytebuf *b);

/* SSL_CTX for either end: TLS 1.3 only, peer certificate required. */
void *tls_ctx_new(bool server, const char *cert, const char *key, const char *ca,
		  char *err, size_t errlen);
void tls_ctx_free(void *ctx);
/* The OpenSSL error queue as one line (and cleared). */
void tls_error_string(char *out, size_t len);

/* Appends the framed encoding of f to out. */
int frame_put(struct bytebuf *out, const Customs__Frame *f);
/*
 * Takes one frame off the front of in: 1 and *f (free with
 * customs__frame__free_unpacked), 0 when more bytes are needed, -E2BIG for
 * a length over max, -EBADMSG for bytes that are not a Frame of our version.
 */
int frame_take(struct bytebuf *in, size_t max, Customs__Frame **f);

enum tclient_state {
	TCLIENT_IDLE,		/* waiting for the next attempt */
	TCLIENT_CONNECTING,	/* TCP connect in progress */
	TCLIENT_HANDSHAKE,	/* TLS handshake in progress */
	TCLIENT_READY,
};

struct tclient {
	void *ctx;		/* SSL_CTX */
	void *ssl;		/* SSL, NULL when not connected */
	int fd;			/* -1 when not connected */
	enum tclient_state state;
	char host[256];
	char port[16];
	char server_name[256];	/* checked against the collector's certificate */
	unsigned backoff_min_ms, backoff_max_ms, backoff_ms;
	__u64 next_attempt_ms;	/* monotonic */
	bool want_write;	/* TLS needs the socket writable to progress */
	struct bytebuf out;
	struct bytebuf in;
	unsigned long connects;	/* handshakes completed */
	unsigned attempts;	/* picks the address to try next */
	char last_error[256];
};

struct tclient_config {
	const char *address;	/* HOST:PORT, [V6]:PORT */
	const char *server_name;	/* NULL: the host part */
	const char *cert, *key, *ca;	/* our certificate, its key, the CA */
	unsigned backoff_min_ms;	/* 0: 200 */
	unsigned backoff_max_ms;	/* 0: 30000 */
};

int tclient_init(struct tclient *c, const struct tclient_config *cfg, char *err, size_t errlen);
void tclient_free(struct tclient *c);
/* What to poll for: fd (-1 while idle), events, and a timeout in ms (-1 none). */
void tclient_pollfd(const struct tclient *c, int *fd, short *events, int *timeout_ms);
/*
 * Advances the state machine; when ready, writes queued bytes and reads
 * what arrived into c->in. Returns 1 when a connection came up in this
 * step, -ECONNRESET when it went down (the caller resends what was not
 * acknowledged), 0 otherwise.
 */
int tclient_step(struct tclient *c, __u64 now_ms);
/* Drops the connection and schedules a reconnect after a backoff. */
void tclient_disconnect(struct tclient *c, __u64 now_ms, const char *why);

__u64 mono_ms(void);

#endif
