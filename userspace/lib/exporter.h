/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's telemetry exporter: everything between an interval record
 * and the collector's acknowledgement, behind one struct. Each interval
 * the agent calls exporter_submit(): the batch is built, signed, chained
 * and fsync'd into the spool before it returns. The agent's poll() loop
 * asks exporter_pollfd() what to wait for and calls exporter_poll()
 * afterwards: that connects (TLS 1.3, mutual certificates), sends what the
 * spool holds, and trims the spool as acknowledgements arrive. Nothing
 * blocks but the fsyncs in submit and the name lookup when connecting.
 *
 * Restart rules: the chain continues from the state file; when the spool
 * holds a newer batch of the same epoch (a crash between spooling and
 * saving the state) the chain continues after that batch. A missing or
 * unreadable state file starts a new epoch, and the batch says why.
 */
#ifndef CUSTOMS_EXPORTER_H
#define CUSTOMS_EXPORTER_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "chain.h"
#include "interval.h"
#include "spool.h"
#include "telemetry.h"
#include "transport.h"

struct exporter_config {
	const char *node_id;
	const char *host_country;	/* ISO 3166-1 alpha-2 */
	const char *agent_version;	/* NULL: CUSTOMS_VERSION */
	const char *key_path;		/* node.key from customsctl keygen */
	const char *state_path;		/* chain state file */
	const char *spool_dir;
	__u64 spool_max_bytes;		/* 0: 256 MiB */
	const char *collector;		/* HOST:PORT; NULL: spool only */
	const char *server_name;	/* NULL: the host part of collector */
	const char *tls_cert, *tls_key, *tls_ca;
	unsigned backoff_min_ms, backoff_max_ms;	/* 0: 200, 30000 */
	unsigned max_in_flight;		/* 0: 64 unacknowledged batches */
};

struct exporter_stats {
	__u64 epoch;
	__u64 next_seq;
	__u64 produced;		/* batches spooled by this process */
	__u64 acked;		/* stored or already stored at the collector */
	__u64 rejected;		/* refused by the collector (logged) */
	__u64 dropped;		/* batches the bounded spool discarded */
	size_t pending;		/* in the spool, not yet acknowledged */
	size_t in_flight;
	unsigned long connects;
	bool connected;
};

struct exporter {
	struct telem_node node;
	struct telem_key key;
	struct telem_builder builder;
	struct chain_state chain;
	char state_path[PATH_MAX];
	char epoch_reason[64];
	struct spool spool;
	struct tclient tc;
	bool have_collector;
	unsigned max_in_flight;
	size_t in_flight;
	struct exporter_stats stats;
};

/* err gets a one-line reason on failure. */
int exporter_open(struct exporter *x, const struct exporter_config *cfg,
		  char *err, size_t errlen);
void exporter_close(struct exporter *x);
/* Builds, signs, chains and spools one interval (fsync'd on return 0). */
int exporter_submit(struct exporter *x, const struct interval_record *iv);
/* What the poll loop waits for: pfd->fd is -1 while waiting to reconnect. */
void exporter_pollfd(const struct exporter *x, struct pollfd *pfd, int *timeout_ms);
/* One step after poll() (or on timeout): connect, send, read acks. */
int exporter_poll(struct exporter *x);
void exporter_get_stats(const struct exporter *x, struct exporter_stats *st);

#endif
