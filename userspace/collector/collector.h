/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customs-collector's one context: configuration, the TLS listener, the
 * connected agents, the store and the ingest state. main.c dispatches the
 * subcommands, config.c reads the YAML file, server.c runs the poll loop,
 * export.c writes bundles.
 */
#ifndef CUSTOMS_COLLECTOR_H
#define CUSTOMS_COLLECTOR_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "ingest.h"
#include "store.h"
#include "telemetry.h"
#include "transport.h"

#define EXIT_USAGE		2
#define COLLECTOR_MAX_CLIENTS	256

struct collector_config {
	char listen[128];		/* HOST:PORT */
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char ca[PATH_MAX];
	char keys_dir[PATH_MAX];	/* node public keys, *.pub */
	char store[PATH_MAX];
	__u64 max_frame;		/* bytes; default 16 MiB */
	__u64 gap_grace_ms;		/* default 5000 */
	unsigned idle_timeout_s;	/* default 300 */
	bool node_is_cn;		/* node id must be the certificate CN (default) */
};

enum client_state {
	CLIENT_HANDSHAKE,
	CLIENT_READY,
};

struct client {
	int fd;
	void *ssl;			/* SSL */
	enum client_state state;
	bool want_write;
	bool closing;			/* flush, then close */
	bool more;			/* stopped reading with data left */
	char peer[96];			/* address:port */
	char cn[TELEM_NODE_MAX];		/* the certificate's common name */
	struct bytebuf in;
	struct bytebuf out;
	struct bytebuf acks;		/* wait for the commit */
	__u64 last_active_ms;
};

struct collector {
	struct collector_config cfg;
	void *tls;			/* SSL_CTX */
	int listen_fd;
	struct client clients[COLLECTOR_MAX_CLIENTS];
	size_t n_clients;
	struct store store;
	struct telem_keyring keys;
	struct ingest ingest;
};

extern volatile sig_atomic_t collector_stop;

int collector_config_load(struct collector_config *cfg, const char *path);
int collector_serve(struct collector *c);
int collector_export(int argc, char **argv);

#endif
