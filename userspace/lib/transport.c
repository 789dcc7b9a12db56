// SPDX-License-Identifier: BSD-2-Clause
/*
 * TLS 1.3 transport with mutual certificate checks, Frame framing, and the
 * agent's non-blocking client; see transport.h. Non-blocking OpenSSL calls
 * say whether they need the socket readable or writable; the client keeps
 * that in want_write so the caller's poll() asks for the right event.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "transport.h"

#define WRITE_CHUNK	16384

__u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* --- byte buffers ------------------------------------------------------------ */

int bytebuf_add(struct bytebuf *b, const void *p, size_t n)
{
	unsigned char *d;
	size_t cap;

	if (!n)
		return 0;
	if (b->off && b->off == b->len) {
		b->off = 0;
		b->len = 0;
	}
	if (b->len + n > b->cap) {
		if (b->off) {
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap != b->cap) {
			d = realloc(b->data, cap);
			if (!d)
				return -ENOMEM;
			b->data = d;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void bytebuf_consume(struct bytebuf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* --- TLS contexts ------------------------------------------------------------ */

void tls_error_string(char *out, size_t len)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(out, len, "no TLS error detail");
	else
		ERR_error_string_n(e, out, len);
	ERR_clear_error();
}

void *tls_ctx_new(bool server, const char *cert, const char *key, const char *ca,
		  char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char why[200];

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_error_string(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load the certificate: %s", cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error_string(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load the key for %s: %s", key, cert, why);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_error_string(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load the CA: %s", ca, why);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

/* --- frames ------------------------------------------------------------------ */

int frame_put(struct bytebuf *out, const Customs__Frame *f)
{
	unsigned char pre[TELEM_VARINT_MAX], *buf;
	size_t n = customs__frame__get_packed_size(f);
	int err;

	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	customs__frame__pack(f, buf);
	err = bytebuf_add(out, pre, telem_varint_put(pre, n));
	if (!err)
		err = bytebuf_add(out, buf, n);
	free(buf);
	return err;
}

int frame_take(struct bytebuf *in, size_t max, Customs__Frame **f)
{
	const unsigned char *p;
	size_t have = bytebuf_pending(in), used;
	__u64 n;
	int err;

	*f = NULL;
	if (!have)
		return 0;
	p = in->data + in->off;
	err = telem_varint_get(p, have, &n, &used);
	if (err == -EAGAIN)
		return 0;
	if (err)
		return -EBADMSG;
	if (n > max)
		return -E2BIG;
	if (have - used < n)
		return 0;
	*f = customs__frame__unpack(NULL, (size_t)n, p + used);
	bytebuf_consume(in, used + (size_t)n);
	if (!*f)
		return -EBADMSG;
	if ((*f)->version != TELEM_FRAME_VERSION) {
		customs__frame__free_unpacked(*f, NULL);
		*f = NULL;
		return -EBADMSG;
	}
	return 1;
}

/* --- the client ---------------------------------------------------------------- */

static int split_address(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = addr;
	size_t n;

	if (*addr == '[') {
		colon = strstr(addr, "]:");
		if (!colon)
			return -EINVAL;
		h = addr + 1;
		n = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - addr);
	}
	if (!n || n >= hlen || !colon[1] || strlen(colon + 1) >= plen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

int tclient_init(struct tclient *c, const struct tclient_config *cfg, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (split_address(cfg->address, c->host, sizeof(c->host), c->port, sizeof(c->port))) {
		snprintf(err, errlen, "collector address '%s' is not HOST:PORT", cfg->address);
		return -EINVAL;
	}
	snprintf(c->server_name, sizeof(c->server_name), "%s",
		 cfg->server_name ? cfg->server_name : c->host);
	c->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : 200;
	c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 30000;
	if (c->backoff_max_ms < c->backoff_min_ms)
		c->backoff_max_ms = c->backoff_min_ms;
	c->backoff_ms = c->backoff_min_ms;
	c->ctx = tls_ctx_new(false, cfg->cert, cfg->key, cfg->ca, err, errlen);
	if (!c->ctx)
		return -EINVAL;
	c->state = TCLIENT_IDLE;
	c->next_attempt_ms = 0;
	return 0;
}

static void drop_connection(struct tclient *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->want_write = false;
	c->out.off = c->out.len = 0;
	c->in.off = c->in.len = 0;
}

void tclient_free(struct tclient *c)
{
	drop_connection(c);
	tls_ctx_free(c->ctx);
	bytebuf_free(&c->out);
	bytebuf_free(&c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void tclient_disconnect(struct tclient *c, __u64 now_ms, const char *why)
{
	unsigned jitter;

	if (c->state != TCLIENT_IDLE)
		pr_info("collector %s:%s: disconnected: %s\n", c->host, c->port, why);
	snprintf(c->last_error, sizeof(c->last_error), "%s", why);
	drop_connection(c);
	/* Full jitter over the upper half: spreads a fleet's reconnects. */
	jitter = c->backoff_ms / 2 + (unsigned)(random() % (c->backoff_ms / 2 + 1));
	c->next_attempt_ms = now_ms + jitter;
	c->backoff_ms = c->backoff_ms * 2 > c->backoff_max_ms ? c->backoff_max_ms :
								c->backoff_ms * 2;
	c->state = TCLIENT_IDLE;
}

void tclient_pollfd(const struct tclient *c, int *fd, short *events, int *timeout_ms)
{
	__u64 now;

	*fd = c->fd;
	*events = 0;
	*timeout_ms = -1;
	switch (c->state) {
	case TCLIENT_IDLE:
		*fd = -1;
		now = mono_ms();
		*timeout_ms = c->next_attempt_ms > now ? (int)(c->next_attempt_ms - now) : 0;
		break;
	case TCLIENT_CONNECTING:
		*events = POLLOUT;
		break;
	case TCLIENT_HANDSHAKE:
		*events = c->want_write ? POLLOUT : POLLIN;
		break;
	case TCLIENT_READY:
		*events = POLLIN;
		if (c->want_write || bytebuf_pending(&c->out))
			*events |= POLLOUT;
		break;
	}
}

/*
 * Each attempt takes the next address the name resolves to, so a name
 * with an unreachable first address (say ::1 for a v4-only collector)
 * still connects on a later attempt.
 */
static int start_connect(struct tclient *c, __u64 now_ms)
{
	struct addrinfo hints = { 0 }, *list = NULL, *ai;
	unsigned n = 0, i;
	int fd, one = 1, rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(c->host, c->port, &hints, &list);
	if (rc || !list) {
		tclient_disconnect(c, now_ms, gai_strerror(rc));
		return 0;
	}
	for (ai = list; ai; ai = ai->ai_next)
		n++;
	for (ai = list, i = c->attempts++ % n; i; i--)
		ai = ai->ai_next;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(list);
		tclient_disconnect(c, now_ms, strerror(errno));
		return 0;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(list);
	if (rc && errno != EINPROGRESS) {
		tclient_disconnect(c, now_ms, strerror(errno));
		return 0;
	}
	c->state = TCLIENT_CONNECTING;
	return 0;
}

static int start_tls(struct tclient *c, __u64 now_ms)
{
	X509_VERIFY_PARAM *vp;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
		tclient_disconnect(c, now_ms, strerror(soerr ? soerr : errno));
		return 0;
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl) {
		tclient_disconnect(c, now_ms, "cannot create a TLS session");
		return 0;
	}
	SSL_set_fd(c->ssl, c->fd);
	vp = SSL_get0_param(c->ssl);
	/* An address is checked as an IP SAN, anything else as a DNS name. */
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, c->server_name) != 1) {
		SSL_set_tlsext_host_name(c->ssl, c->server_name);
		SSL_set1_host(c->ssl, c->server_name);
	}
	SSL_set_connect_state(c->ssl);
	c->state = TCLIENT_HANDSHAKE;
	return 0;
}

/* Maps an SSL result to: 1 progress, 0 would block, -1 failure. */
static int ssl_outcome(struct tclient *c, int rc, __u64 now_ms, const char *op)
{
	char why[256], line[200];
	int e = SSL_get_error(c->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->want_write = false;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->want_write = true;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		tclient_disconnect(c, now_ms, "the collector closed the connection");
		return -1;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			tclient_disconnect(c, now_ms, "the collector went away");
			return -1;
		}
		/* fall through */
	default:
		tls_error_string(line, sizeof(line));
		snprintf(why, sizeof(why), "TLS %s failed: %s%s%s", op,
			 e == SSL_ERROR_SYSCALL ? "connection lost" : line,
			 e == SSL_ERROR_SYSCALL && errno ? ": " : "",
			 e == SSL_ERROR_SYSCALL && errno ? strerror(errno) : "");
		tclient_disconnect(c, now_ms, why);
		return -1;
	}
}

static int do_handshake(struct tclient *c, __u64 now_ms)
{
	int rc = SSL_do_handshake(c->ssl);

	if (rc == 1) {
		c->attempts--;	/* stay with the address that worked */
		c->state = TCLIENT_READY;
		c->want_write = false;
		c->backoff_ms = c->backoff_min_ms;
		c->connects++;
		pr_info("collector %s:%s: connected (%s)\n", c->host, c->port,
			SSL_get_version(c->ssl));
		return 1;
	}
	return ssl_outcome(c, rc, now_ms, "handshake") < 0 ? -ECONNRESET : 0;
}

static int do_io(struct tclient *c, __u64 now_ms)
{
	unsigned char buf[16384];
	size_t n;
	int rc;

	c->want_write = false;
	while (bytebuf_pending(&c->out)) {
		n = bytebuf_pending(&c->out);
		rc = SSL_write(c->ssl, c->out.data + c->out.off, (int)(n > WRITE_CHUNK ? WRITE_CHUNK : n));
		if (rc <= 0) {
			if (ssl_outcome(c, rc, now_ms, "write") < 0)
				return -ECONNRESET;
			break;
		}
		bytebuf_consume(&c->out, (size_t)rc);
	}
	for (;;) {
		rc = SSL_read(c->ssl, buf, sizeof(buf));
		if (rc <= 0) {
			if (ssl_outcome(c, rc, now_ms, "read") < 0)
				return -ECONNRESET;
			/* A pending write keeps POLLOUT asked for. */
			if (bytebuf_pending(&c->out))
				c->want_write = true;
			return 0;
		}
		if (bytebuf_add(&c->in, buf, (size_t)rc)) {
			tclient_disconnect(c, now_ms, "out of memory");
			return -ECONNRESET;
		}
	}
}

int tclient_step(struct tclient *c, __u64 now_ms)
{
	enum tclient_state was = c->state;
	int rc = 0;

	if (c->state == TCLIENT_IDLE) {
		if (now_ms < c->next_attempt_ms)
			return 0;
		start_connect(c, now_ms);
		if (c->state == TCLIENT_IDLE)
			return 0;
	}
	if (c->state == TCLIENT_CONNECTING) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		start_tls(c, now_ms);
		if (c->state != TCLIENT_HANDSHAKE)
			return was != TCLIENT_IDLE ? -ECONNRESET : 0;
	}
	if (c->state == TCLIENT_HANDSHAKE) {
		rc = do_handshake(c, now_ms);
		if (rc <= 0)
			return rc;
	}
	if (c->state == TCLIENT_READY) {
		if (do_io(c, now_ms) < 0)
			return -ECONNRESET;
	}
	return rc;
}
