// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's telemetry exporter; see exporter.h. The ordering of durable
 * steps in exporter_submit() is what makes crashes harmless: a planned
 * spool drop is written into the chain state before any segment goes, the
 * batch is fsync'd into the spool before the state moves on, and opening
 * repairs whichever step a crash interrupted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "log.h"

#define DEFAULT_SPOOL_MAX	(256ull << 20)
#define DEFAULT_IN_FLIGHT	64
#define OUT_HIGH_WATER		(4u << 20)

/* Removes from pending the drops that batch `raw` already reported. */
static void forget_reported_drops(struct chain_state *st, const unsigned char *raw, size_t len)
{
	struct telem_signed s;
	size_t i, j, k;

	if (telem_decode(raw, len, &s))
		return;
	for (i = 0; i < s.batch->n_events; i++) {
		const Customs__SpoolDrop *d = s.batch->events[i]->spool_drop;

		if (s.batch->events[i]->kind != CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP || !d)
			continue;
		for (j = 0; j < st->n_drops; j++) {
			if (st->drops[j].epoch != d->epoch || st->drops[j].first_seq != d->first_seq ||
			    st->drops[j].last_seq != d->last_seq)
				continue;
			for (k = j + 1; k < st->n_drops; k++)
				st->drops[k - 1] = st->drops[k];
			st->n_drops--;
			break;
		}
	}
	telem_signed_free(&s);
}

/* The spool is ahead of the state file: continue after its newest batch. */
static int catch_up_from_spool(struct exporter *x, const struct spool_entry *e)
{
	unsigned char *raw, hash[SHA256_LEN];
	int err;

	err = spool_read(&x->spool, e, &raw);
	if (err)
		return err;
	err = sha256(raw, e->len, hash);
	if (!err) {
		pr_info("telemetry: chain state was behind the spool; continuing after seq %llu\n",
			(unsigned long long)e->seq);
		forget_reported_drops(&x->chain, raw, e->len);
		x->chain.next_seq = e->seq;
		chain_advance(&x->chain, hash);
	}
	free(raw);
	return err;
}

static int load_chain(struct exporter *x)
{
	const struct spool_entry *last;
	__u64 epoch;
	int err;

	err = chain_load(x->state_path, &x->chain);
	if (!err) {
		err = spool_drop_through(&x->spool, x->chain.drop_through);
		if (err)
			return err;
		last = spool_last(&x->spool);
		if (last && last->epoch == x->chain.epoch && last->seq >= x->chain.next_seq) {
			err = catch_up_from_spool(x, last);
			if (err)
				return err;
			return chain_save(x->state_path, &x->chain);
		}
		return 0;
	}
	if (err != -ENOENT && err != -EBADMSG)
		return err;
	snprintf(x->epoch_reason, sizeof(x->epoch_reason), "%s",
		 err == -ENOENT ? "no chain state" : "chain state unreadable");
	pr_warn("telemetry: %s at %s: starting a new epoch\n", x->epoch_reason, x->state_path);
	memset(&x->chain, 0, sizeof(x->chain));
	epoch = telem_now_ns();
	last = spool_last(&x->spool);
	if (last && last->epoch >= epoch)
		epoch = last->epoch + 1;
	chain_start_epoch(&x->chain, epoch);
	x->chain.drop_through = 0;
	return chain_save(x->state_path, &x->chain);
}

static int copy_str(char *dst, size_t len, const char *src, const char *what,
		    char *err, size_t errlen)
{
	if (!src || !*src || strlen(src) >= len) {
		snprintf(err, errlen, "telemetry: %s is %s", what,
			 !src || !*src ? "missing" : "too long");
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int exporter_open(struct exporter *x, const struct exporter_config *cfg,
		  char *err, size_t errlen)
{
	struct tclient_config tcfg = { 0 };
	int rc;

	memset(x, 0, sizeof(*x));
	x->spool.fd = -1;
	x->tc.fd = -1;
	if (copy_str(x->node.node_id, sizeof(x->node.node_id), cfg->node_id, "node id", err, errlen) ||
	    copy_str(x->node.host_country, sizeof(x->node.host_country), cfg->host_country,
		     "host country (two letters)", err, errlen) ||
	    copy_str(x->node.agent_version, sizeof(x->node.agent_version),
		     cfg->agent_version ? cfg->agent_version : CUSTOMS_VERSION, "agent version",
		     err, errlen) ||
	    copy_str(x->state_path, sizeof(x->state_path), cfg->state_path, "state path",
		     err, errlen))
		return -EINVAL;
	rc = telem_key_load_private(&x->key, cfg->key_path);
	if (rc) {
		snprintf(err, errlen, "%s: cannot load the node's Ed25519 key: %s (create it with customsctl keygen)",
			 cfg->key_path, strerror(-rc));
		return rc;
	}
	rc = spool_open(&x->spool, cfg->spool_dir,
			cfg->spool_max_bytes ? cfg->spool_max_bytes : DEFAULT_SPOOL_MAX);
	if (rc) {
		snprintf(err, errlen, "%s: cannot open the spool: %s", cfg->spool_dir, strerror(-rc));
		goto fail;
	}
	rc = load_chain(x);
	if (rc) {
		snprintf(err, errlen, "%s: cannot restore the chain state: %s", cfg->state_path,
			 strerror(-rc));
		goto fail;
	}
	x->max_in_flight = cfg->max_in_flight ? cfg->max_in_flight : DEFAULT_IN_FLIGHT;
	if (cfg->collector) {
		tcfg.address = cfg->collector;
		tcfg.server_name = cfg->server_name;
		tcfg.cert = cfg->tls_cert;
		tcfg.key = cfg->tls_key;
		tcfg.ca = cfg->tls_ca;
		tcfg.backoff_min_ms = cfg->backoff_min_ms;
		tcfg.backoff_max_ms = cfg->backoff_max_ms;
		rc = tclient_init(&x->tc, &tcfg, err, errlen);
		if (rc)
			goto fail;
		x->have_collector = true;
	}
	return 0;
fail:
	exporter_close(x);
	return rc;
}

void exporter_close(struct exporter *x)
{
	if (x->have_collector)
		tclient_free(&x->tc);
	spool_close(&x->spool);
	telem_key_free(&x->key);
	telem_builder_free(&x->builder);
	memset(x, 0, sizeof(*x));
	x->spool.fd = -1;
	x->tc.fd = -1;
}

/* Makes room for len bytes, recording first (durably) what will go. */
static int make_room(struct exporter *x, size_t len, size_t *n_old)
{
	struct telem_drop drops[CHAIN_MAX_DROPS];
	size_t n, i;
	__u64 through;
	int err;

	err = spool_plan_drop(&x->spool, len, &through, drops, CHAIN_MAX_DROPS, &n);
	if (err || !through)
		return err;
	for (i = 0; i < n; i++) {
		pr_warn("telemetry: spool full: dropping %llu unacknowledged batch(es), epoch %llu seq %llu..%llu\n",
			(unsigned long long)drops[i].batches, (unsigned long long)drops[i].epoch,
			(unsigned long long)drops[i].first_seq, (unsigned long long)drops[i].last_seq);
		/* Folded into a run this batch reports? Then report that run again. */
		if (x->chain.n_drops == CHAIN_MAX_DROPS && *n_old == CHAIN_MAX_DROPS)
			*n_old = CHAIN_MAX_DROPS - 1;
		chain_add_drop(&x->chain, &drops[i]);
		x->stats.dropped += drops[i].batches;
	}
	x->chain.drop_through = through;
	err = chain_save(x->state_path, &x->chain);
	if (err)
		return err;
	return spool_drop_through(&x->spool, through);
}

/*
 * The disk can fill before the spool reaches its configured bound (a small
 * state partition): then the bound is, for this append, what the spool
 * holds now, so make_room() drops the oldest segments and records the drop
 * as it does for a full spool. Each round drops at least one segment.
 */
static int append_or_drop(struct exporter *x, const struct telem_link *link,
			  const unsigned char *raw, size_t len, size_t *n_old)
{
	__u64 bound = x->spool.max_bytes;
	int err;

	for (;;) {
		err = spool_append(&x->spool, link->epoch, link->seq, raw, len);
		if ((err != -ENOSPC && err != -EDQUOT) || !x->spool.n_segs)
			return err;
		pr_warn("telemetry: %s: disk full with %llu bytes spooled (bound %llu): "
			"dropping the oldest batches\n", x->spool.dir,
			(unsigned long long)x->spool.total_bytes, (unsigned long long)bound);
		x->spool.max_bytes = x->spool.total_bytes;
		err = make_room(x, len, n_old);
		x->spool.max_bytes = bound;
		if (err)
			return err;
	}
}

int exporter_submit(struct exporter *x, const struct interval_record *iv)
{
	struct telem_link link = { 0 };
	const unsigned char *raw;
	unsigned char hash[SHA256_LEN];
	size_t len, n_old = x->chain.n_drops, i;
	int err;

	link.epoch = x->chain.epoch;
	link.seq = x->chain.next_seq;
	memcpy(link.prev_hash, x->chain.prev_hash, SHA256_LEN);
	link.epoch_reason = x->epoch_reason;
	err = telem_builder_sign(&x->builder, &x->node, &link, iv, x->chain.drops, n_old, &x->key,
				 &raw, &len, hash);
	if (err)
		return err;
	err = make_room(x, len, &n_old);
	if (err)
		return err;
	err = append_or_drop(x, &link, raw, len, &n_old);
	if (err)
		return err;
	/* The drops this batch reported are done; later ones wait for the next. */
	for (i = n_old; i < x->chain.n_drops; i++)
		x->chain.drops[i - n_old] = x->chain.drops[i];
	x->chain.n_drops -= n_old;
	chain_advance(&x->chain, hash);
	x->stats.produced++;
	return chain_save(x->state_path, &x->chain);
}

void exporter_pollfd(const struct exporter *x, struct pollfd *pfd, int *timeout_ms)
{
	int fd;
	short events;

	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	*timeout_ms = -1;
	if (!x->have_collector)
		return;
	tclient_pollfd(&x->tc, &fd, &events, timeout_ms);
	pfd->fd = fd;
	pfd->events = events;
	/*
	 * New batches are picked up on the next step, whatever the socket
	 * does, unless the window or the send buffer is full: then POLLOUT or
	 * an ack is what makes progress.
	 */
	if (x->tc.state == TCLIENT_READY && x->in_flight < x->max_in_flight &&
	    bytebuf_pending(&x->tc.out) < OUT_HIGH_WATER &&
	    spool_next_unsent((struct spool *)&x->spool))
		*timeout_ms = 0;
}

static void handle_ack(struct exporter *x, const Customs__Ack *a)
{
	int err;

	if (strcmp(a->node_id, x->node.node_id)) {
		pr_warn("telemetry: collector acknowledged a batch of node '%s'; ignored\n", a->node_id);
		return;
	}
	if (a->status == CUSTOMS__ACK_STATUS__ACK_REJECTED) {
		pr_warn("telemetry: collector rejected epoch %llu seq %llu: %s\n",
			(unsigned long long)a->epoch, (unsigned long long)a->seq, a->reason);
		x->stats.rejected++;
	} else {
		x->stats.acked++;
	}
	if (x->in_flight)
		x->in_flight--;
	err = spool_ack(&x->spool, a->epoch, a->seq);
	if (err && err != -ENOENT)
		pr_warn("telemetry: spool trim after ack failed: %s\n", strerror(-err));
}

static int read_acks(struct exporter *x, __u64 now)
{
	Customs__Frame *f;
	int rc;

	while ((rc = frame_take(&x->tc.in, 1u << 20, &f)) > 0) {
		if (f->ack)
			handle_ack(x, f->ack);
		customs__frame__free_unpacked(f, NULL);
	}
	if (rc < 0) {
		tclient_disconnect(&x->tc, now, "the collector sent a malformed frame");
		return rc;
	}
	return 0;
}

static int queue_batches(struct exporter *x)
{
	Customs__Frame f = CUSTOMS__FRAME__INIT;
	struct spool_entry *e;
	unsigned char *raw;
	int err;

	while (x->in_flight < x->max_in_flight && bytebuf_pending(&x->tc.out) < OUT_HIGH_WATER &&
	       (e = spool_next_unsent(&x->spool))) {
		err = spool_read(&x->spool, e, &raw);
		if (err) {
			pr_warn("telemetry: cannot read epoch %llu seq %llu from the spool: %s; skipping it\n",
				(unsigned long long)e->epoch, (unsigned long long)e->seq, strerror(-err));
			spool_ack(&x->spool, e->epoch, e->seq);
			continue;
		}
		f.version = TELEM_FRAME_VERSION;
		f.signed_batch.data = raw;
		f.signed_batch.len = e->len;
		err = frame_put(&x->tc.out, &f);
		free(raw);
		if (err)
			return err;
		e->sent = true;
		x->in_flight++;
	}
	return 0;
}

int exporter_poll(struct exporter *x)
{
	__u64 now = mono_ms();
	int rc, err;

	if (!x->have_collector)
		return 0;
	rc = tclient_step(&x->tc, now);
	if (rc == 1) {
		/* A new connection: whatever was in flight before goes again. */
		spool_unsend_all(&x->spool);
		x->in_flight = 0;
	}
	if (x->tc.state != TCLIENT_READY)
		return 0;
	err = read_acks(x, now);
	if (err || x->tc.state != TCLIENT_READY)
		return 0;
	err = queue_batches(x);
	if (err)
		return err;
	if (bytebuf_pending(&x->tc.out)) {
		rc = tclient_step(&x->tc, now);
		if (x->tc.state == TCLIENT_READY)
			read_acks(x, now);
	}
	return 0;
}

void exporter_get_stats(const struct exporter *x, struct exporter_stats *st)
{
	*st = x->stats;
	st->epoch = x->chain.epoch;
	st->next_seq = x->chain.next_seq;
	st->pending = spool_pending(&x->spool);
	st->in_flight = x->in_flight;
	st->connects = x->have_collector ? x->tc.connects : 0;
	st->connected = x->have_collector && x->tc.state == TCLIENT_READY;
}
