// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-collector serve: one poll() loop over the TLS listener and the
 * connected agents. Each turn reads what arrived, ingests every complete
 * frame of every agent inside one SQLite transaction, commits, and only
 * then queues the acknowledgements, so an ack always means "durable". A
 * misbehaving peer (no certificate, garbage, an oversized frame) is logged
 * and dropped; the others are not disturbed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "collector.h"
#include "log.h"

static int listen_on(const char *address)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[128], *colon;
	int fd, one = 1, rc;

	snprintf(host, sizeof(host), "%s", address[0] == '[' ? address + 1 : address);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (rc || !ai) {
		pr_warn("listen %s: %s\n", address, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		rc = -errno;
		pr_warn("listen %s: %s\n", address, strerror(errno));
		close(fd);
		goto cleanup;
	}
	rc = fd;
cleanup:
	freeaddrinfo(ai);
	return rc;
}

static void client_close(struct collector *c, size_t i)
{
	struct client *cl = &c->clients[i];

	if (cl->ssl)
		SSL_free(cl->ssl);
	if (cl->fd >= 0)
		close(cl->fd);
	bytebuf_free(&cl->in);
	bytebuf_free(&cl->out);
	bytebuf_free(&cl->acks);
	c->clients[i] = c->clients[--c->n_clients];
}

static void accept_clients(struct collector *c, __u64 now)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char addr[INET6_ADDRSTRLEN];
	struct client *cl;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(c->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (c->n_clients == COLLECTOR_MAX_CLIENTS) {
			pr_warn("refusing a connection: %d agents connected already\n",
				COLLECTOR_MAX_CLIENTS);
			close(fd);
			continue;
		}
		cl = &c->clients[c->n_clients];
		memset(cl, 0, sizeof(*cl));
		cl->fd = fd;
		cl->ssl = SSL_new(c->tls);
		if (!cl->ssl) {
			close(fd);
			continue;
		}
		SSL_set_fd(cl->ssl, fd);
		SSL_set_accept_state(cl->ssl);
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
		snprintf(cl->peer, sizeof(cl->peer), "%s:%u", addr,
			 ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
							 ((struct sockaddr_in *)&ss)->sin_port));
		cl->state = CLIENT_HANDSHAKE;
		cl->last_active_ms = now;
		c->n_clients++;
	}
}

/* 1 progress, 0 would block, -1 the connection is finished. */
static int ssl_result(struct client *cl, int rc, const char *op)
{
	char line[200];
	int e = SSL_get_error(cl->ssl, rc);

	if (e == SSL_ERROR_WANT_READ) {
		cl->want_write = false;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		cl->want_write = true;
		return 0;
	}
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno) ||
	    (e == SSL_ERROR_SSL &&
	     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		pr_info("%s: disconnected%s\n", cl->peer,
			cl->state == CLIENT_HANDSHAKE ? " before completing the handshake" : "");
		return -1;
	}
	tls_error_string(line, sizeof(line));
	pr_warn("%s: TLS %s failed: %s\n", cl->peer, op,
		e == SSL_ERROR_SYSCALL ? strerror(errno) : line);
	return -1;
}

static int handshake(struct client *cl)
{
	X509 *cert;
	int rc = SSL_do_handshake(cl->ssl);

	if (rc != 1)
		return ssl_result(cl, rc, "handshake");
	cert = SSL_get1_peer_certificate(cl->ssl);
	if (cert) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cl->cn,
					  sizeof(cl->cn));
		X509_free(cert);
	}
	pr_info("%s: agent connected (certificate CN=%s, %s)\n", cl->peer, cl->cn,
		SSL_get_version(cl->ssl));
	cl->state = CLIENT_READY;
	cl->want_write = false;
	return 1;
}

static int read_client(struct client *cl)
{
	unsigned char buf[16384];
	int rc, i;

	/* Bounded per turn, so one busy agent cannot starve the rest. */
	cl->more = false;
	for (i = 0; i < 64; i++) {
		rc = SSL_read(cl->ssl, buf, sizeof(buf));
		if (rc <= 0)
			return ssl_result(cl, rc, "read");
		if (bytebuf_add(&cl->in, buf, (size_t)rc))
			return -1;
	}
	cl->more = true;
	return 1;
}

static int write_client(struct client *cl)
{
	size_t n;
	int rc;

	while (bytebuf_pending(&cl->out)) {
		n = bytebuf_pending(&cl->out);
		rc = SSL_write(cl->ssl, cl->out.data + cl->out.off, (int)(n > 16384 ? 16384 : n));
		if (rc <= 0)
			return ssl_result(cl, rc, "write");
		bytebuf_consume(&cl->out, (size_t)rc);
	}
	return 1;
}

static int queue_ack(struct client *cl, const struct ingest_outcome *o)
{
	Customs__Frame f = CUSTOMS__FRAME__INIT;
	Customs__Ack a = CUSTOMS__ACK__INIT;

	a.node_id = (char *)o->node;
	a.epoch = o->epoch;
	a.seq = o->seq;
	a.status = o->status == INGEST_STORED ? CUSTOMS__ACK_STATUS__ACK_STORED :
		   o->status == INGEST_DUPLICATE ? CUSTOMS__ACK_STATUS__ACK_DUPLICATE :
						   CUSTOMS__ACK_STATUS__ACK_REJECTED;
	a.reason = (char *)o->reason;
	f.version = TELEM_FRAME_VERSION;
	f.ack = &a;
	return frame_put(&cl->acks, &f);
}

/* Ingests every complete frame this agent sent; -1 drops the agent. */
static int ingest_client(struct collector *c, struct client *cl, bool *txn)
{
	struct ingest_outcome o;
	Customs__Frame *f;
	int rc, err;

	while ((rc = frame_take(&cl->in, c->cfg.max_frame, &f)) > 0) {
		if (!f->signed_batch.len) {
			customs__frame__free_unpacked(f, NULL);
			continue;
		}
		if (!*txn) {
			if (store_begin(&c->store)) {
				customs__frame__free_unpacked(f, NULL);
				return -1;
			}
			*txn = true;
		}
		err = ingest_batch(&c->ingest, f->signed_batch.data, f->signed_batch.len,
				   cl->peer, c->cfg.node_is_cn ? cl->cn : NULL, &o);
		customs__frame__free_unpacked(f, NULL);
		if (err) {
			pr_warn("store %s: cannot store a batch: %s\n", c->cfg.store,
				store_errmsg(&c->store));
			return -2;
		}
		if (o.status == INGEST_MALFORMED)
			return -1;
		if (queue_ack(cl, &o))
			return -1;
	}
	if (rc == -E2BIG)
		pr_warn("%s: oversized frame (over %llu bytes); dropping the connection\n", cl->peer,
			(unsigned long long)c->cfg.max_frame);
	else if (rc < 0)
		pr_warn("%s: malformed frame; dropping the connection\n", cl->peer);
	return rc < 0 ? -1 : 0;
}

static void serve_client(struct collector *c, size_t i, short revents, bool *txn, bool *failed)
{
	struct client *cl = &c->clients[i];
	int rc;

	if (revents & (POLLERR | POLLNVAL)) {
		cl->closing = true;
		return;
	}
	if (cl->state == CLIENT_HANDSHAKE) {
		rc = handshake(cl);
		if (rc < 0)
			cl->closing = true;
		if (rc <= 0)
			return;
	}
	rc = read_client(cl);
	if (rc < 0)
		cl->closing = true;
	rc = ingest_client(c, cl, txn);
	if (rc == -2)
		*failed = true;
	if (rc < 0)
		cl->closing = true;
}

/* After the commit: the acks may go out now. */
static void release_acks(struct collector *c, bool committed)
{
	struct client *cl;
	size_t i;

	for (i = 0; i < c->n_clients; i++) {
		cl = &c->clients[i];
		if (!bytebuf_pending(&cl->acks))
			continue;
		if (committed &&
		    !bytebuf_add(&cl->out, cl->acks.data + cl->acks.off, bytebuf_pending(&cl->acks))) {
			bytebuf_consume(&cl->acks, bytebuf_pending(&cl->acks));
			continue;
		}
		/* Not durable: the agent resends after reconnecting. */
		bytebuf_consume(&cl->acks, bytebuf_pending(&cl->acks));
		cl->closing = true;
	}
}

static void finish_turn(struct collector *c, __u64 now)
{
	struct client *cl;
	size_t i = 0;

	while (i < c->n_clients) {
		cl = &c->clients[i];
		if (!cl->closing && cl->state == CLIENT_READY && write_client(cl) < 0)
			cl->closing = true;
		if (!cl->closing && c->cfg.idle_timeout_s &&
		    now - cl->last_active_ms > c->cfg.idle_timeout_s * 1000ull) {
			pr_info("%s: idle for %us; closing\n", cl->peer, c->cfg.idle_timeout_s);
			cl->closing = true;
		}
		if (cl->closing) {
			client_close(c, i);
			continue;
		}
		i++;
	}
}

static int turn(struct collector *c)
{
	struct pollfd pfd[COLLECTOR_MAX_CLIENTS + 1];
	size_t n = c->n_clients, i;
	bool txn = false, failed = false;
	int timeout, rc;
	__u64 now;

	pfd[0].fd = c->listen_fd;
	pfd[0].events = POLLIN;
	for (i = 0; i < n; i++) {
		pfd[i + 1].fd = c->clients[i].fd;
		pfd[i + 1].events = POLLIN;
		if (c->clients[i].want_write || bytebuf_pending(&c->clients[i].out))
			pfd[i + 1].events |= POLLOUT;
	}
	timeout = ingest_next_due(&c->ingest, mono_ms());
	if (timeout < 0 || timeout > 1000)
		timeout = 1000;
	for (i = 0; i < n; i++)
		if (c->clients[i].more)
			timeout = 0;
	rc = poll(pfd, n + 1, timeout);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	now = mono_ms();
	for (i = 0; i < n; i++) {
		if (!pfd[i + 1].revents && !c->clients[i].more)
			continue;
		c->clients[i].last_active_ms = now;
		serve_client(c, i, pfd[i + 1].revents, &txn, &failed);
	}
	if (ingest_next_due(&c->ingest, now) == 0) {
		if (!txn && !store_begin(&c->store))
			txn = true;
		if (txn && ingest_tick(&c->ingest, now))
			failed = true;
	}
	if (txn) {
		if (failed || store_commit(&c->store)) {
			pr_warn("store %s: commit failed: %s; nothing of this turn is acknowledged\n",
				c->cfg.store, store_errmsg(&c->store));
			store_rollback(&c->store);
			failed = true;
		}
	}
	release_acks(c, !failed);
	finish_turn(c, now);
	if (pfd[0].revents & POLLIN)
		accept_clients(c, now);
	return 0;
}

int collector_serve(struct collector *c)
{
	char err[512];
	int rc = 0;

	c->listen_fd = -1;
	c->tls = tls_ctx_new(true, c->cfg.cert, c->cfg.key, c->cfg.ca, err, sizeof(err));
	if (!c->tls) {
		fprintf(stderr, "customs-collector: %s\n", err);
		return 1;
	}
	rc = telem_keyring_load(&c->keys, c->cfg.keys_dir);
	if (rc) {
		fprintf(stderr, "customs-collector: %s: cannot read node keys: %s\n",
			c->cfg.keys_dir, strerror(-rc));
		rc = 1;
		goto cleanup;
	}
	if (!c->keys.n)
		pr_warn("%s: no node public keys (*.pub); every batch will be rejected\n",
			c->cfg.keys_dir);
	if (store_open(&c->store, c->cfg.store, false)) {
		rc = 1;
		goto cleanup;
	}
	ingest_init(&c->ingest, &c->store, &c->keys, c->cfg.gap_grace_ms);
	c->listen_fd = listen_on(c->cfg.listen);
	if (c->listen_fd < 0) {
		fprintf(stderr, "customs-collector: cannot listen on %s\n", c->cfg.listen);
		rc = 1;
		goto cleanup;
	}
	pr_info("listening on %s, %zu node key(s), store %s\n", c->cfg.listen, c->keys.n,
		c->cfg.store);
	while (!collector_stop && !rc)
		rc = turn(c);
	if (rc)
		fprintf(stderr, "customs-collector: poll failed: %s\n", strerror(-rc));
	rc = rc ? 1 : 0;
	pr_info("stopping: %llu stored, %llu duplicates, %llu rejected, %llu malformed, %llu gaps\n",
		(unsigned long long)c->ingest.stored, (unsigned long long)c->ingest.duplicates,
		(unsigned long long)c->ingest.rejected, (unsigned long long)c->ingest.malformed,
		(unsigned long long)c->ingest.gaps);
cleanup:
	while (c->n_clients)
		client_close(c, c->n_clients - 1);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	ingest_free(&c->ingest);
	store_close(&c->store);
	telem_keyring_free(&c->keys);
	tls_ctx_free(c->tls);
	return rc;
}
