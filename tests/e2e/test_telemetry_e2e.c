// SPDX-License-Identifier: BSD-2-Clause
/*
 * Telemetry end to end on loopback: a driver process plays the agent with
 * the exporter library and talks TLS 1.3 with client certificates (made
 * here with the openssl tool) to the real customs-collector. Proves: every
 * interval is stored exactly once with equal totals across a collector
 * outage (SIGKILL, 3 s down); an agent killed with SIGKILL mid-send
 * resumes from its spool and chain state with no gap and no duplicate;
 * clients without a valid certificate, garbage and oversized frames, a
 * batch of an unknown key and one for a node the client certificate does
 * not name are refused while a good node keeps delivering; each exported
 * bundle passes customs-audit verify; and a spool that overflowed while
 * the collector was away shows as a gap the agent declared. Everything lives in one
 * scratch directory; every child process is killed and reaped on every
 * exit path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <sqlite3.h>

#include "testlib.h"
#include "netenv.h"
#include "telemfix.h"
#include "exporter.h"
#include "transport.h"

#define NODE		"node-e2e"
#define MAX_CHILDREN	4

struct fx {
	char dir[256];
	char build[128];
	int port;
	pid_t collector;
	pid_t agents[MAX_CHILDREN];
	char path[8][320];	/* scratch paths, see P_* */
};

enum { P_CFG, P_DB, P_KEYS, P_NODE, P_LOG, P_BUNDLE, P_ROGUE, P_AGENT };

static const char *path(struct fx *f, int which)
{
	return f->path[which];
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int make_certs(const char *d)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; exec >openssl.log 2>&1;"
		 "openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.crt -subj /CN=customs-test-ca -days 1;"
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext;"
		 "openssl req -newkey ed25519 -nodes -keyout server.key -out server.csr -subj /CN=collector;"
		 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile san.ext;"
		 "openssl req -newkey ed25519 -nodes -keyout client.key -out client.csr -subj /CN=" NODE ";"
		 "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1;"
		 "openssl req -x509 -newkey ed25519 -nodes -keyout rogue.key -out rogue.crt -subj /CN=rogue -days 1",
		 d);
	return sh(cmd);
}

static int free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    !getsockname(fd, (struct sockaddr *)&sin, &sl))
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int setup(void **state)
{
	static const char *const names[] = { "collector.yaml", "store.db", "keys", "node",
					     "collector.log", "export.bundle", "rogue-node",
					     "agent" };
	const char *b = getenv("CUSTOMS_BUILD");
	struct telem_key k;
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[1024];
	FILE *cfg;
	int i;

	if (!f || fix_tmpdir("e2e", f->dir, sizeof(f->dir)))
		return -1;
	snprintf(f->build, sizeof(f->build), "%s", b && *b ? b : "build");
	for (i = 0; i < 8; i++)
		snprintf(f->path[i], sizeof(f->path[i]), "%s/%s", f->dir, names[i]);
	*state = f;
	if (make_certs(f->dir)) {
		print_message("openssl failed; see %s/openssl.log\n", f->dir);
		return -1;
	}
	/* The node key, and its public half in the collector's key directory. */
	if (mkdir(path(f, P_NODE), 0700) || mkdir(path(f, P_KEYS), 0700) ||
	    mkdir(path(f, P_ROGUE), 0700) || mkdir(path(f, P_AGENT), 0700) ||
	    fix_key(path(f, P_NODE), &k))
		return -1;
	snprintf(cmd, sizeof(cmd), "cp '%s'/%s.pub '%s'/", path(f, P_NODE), k.id_hex, path(f, P_KEYS));
	telem_key_free(&k);
	if (sh(cmd) || fix_key(path(f, P_ROGUE), &k))
		return -1;
	telem_key_free(&k);
	f->port = free_port();
	cfg = fopen(path(f, P_CFG), "w");
	if (!cfg || f->port < 0)
		return -1;
	fprintf(cfg, "listen: 127.0.0.1:%d\ntls:\n  cert: server.crt\n  key: server.key\n  ca: ca.crt\n"
		     "keys: keys\nstore: store.db\ngap_grace_ms: 1000\n", f->port);
	fclose(cfg);
	return 0;
}

static void reap(pid_t *pid)
{
	int i;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (i = 0; i < 50 && waitpid(*pid, NULL, WNOHANG) == 0; i++)
		sleep_ms(100);
	if (i == 50) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[512];
	int i;

	if (!f)
		return 0;
	for (i = 0; i < MAX_CHILDREN; i++)
		reap(&f->agents[i]);
	reap(&f->collector);
	if (getenv("KEEP_TEST_DIR")) {
		print_message("kept %s\n", f->dir);
	} else {
		snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' 2>/dev/null | sed 's/^/    collector: /'",
			 path(f, P_LOG));
		sh(cmd);
		fix_rmtree(f->dir);
	}
	free(f);
	return 0;
}

static bool port_open(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((__u16)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void start_collector(struct fx *f)
{
	char bin[256];
	int fd, i;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/customs-collector", f->build);
	pid = fork();
	ASSERT_TRUE(pid >= 0, "fork collector");
	if (pid == 0) {
		fd = open(path(f, P_LOG), O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "-v", "serve", "--config", path(f, P_CFG), (char *)NULL);
		_exit(127);
	}
	f->collector = pid;
	for (i = 0; i < 100 && !port_open(f->port); i++)
		sleep_ms(50);
	ASSERT_TRUE(i < 100, "collector listening");
}

struct agent_plan {
	int intervals;
	int counters;
	int interval_ms;
	int drain_ms;		/* wait for acks after the last interval */
	__u64 spool_max;	/* 0: the default */
	bool one_more;		/* after draining, one more interval (and drain) */
};

/* Drives the exporter the way customsd's poll loop will, until end_ms. */
static void pump(struct exporter *x, __u64 end_ms)
{
	struct pollfd pfd;
	__u64 now;
	int to;

	while ((now = mono_ms()) < end_ms) {
		exporter_pollfd(x, &pfd, &to);
		if (to < 0 || (__u64)to > end_ms - now)
			to = (int)(end_ms - now);
		poll(&pfd, 1, to);
		exporter_poll(x);
	}
}

static int agent_main(struct fx *f, const struct agent_plan *p)
{
	struct exporter_config cfg = { 0 };
	struct exporter_stats st;
	struct fix_interval iv;
	struct exporter x;
	char key[400], state[400], spool[400], addr[64], cert[400], tkey[400], ca[400], err[512];
	__u64 end;
	int i;

	snprintf(key, sizeof(key), "%s/node.key", path(f, P_NODE));
	snprintf(state, sizeof(state), "%s/chain.state", path(f, P_AGENT));
	snprintf(spool, sizeof(spool), "%s/spool", path(f, P_AGENT));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f->port);
	snprintf(cert, sizeof(cert), "%s/client.crt", f->dir);
	snprintf(tkey, sizeof(tkey), "%s/client.key", f->dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", f->dir);
	cfg.node_id = NODE;
	cfg.host_country = "AE";
	cfg.key_path = key;
	cfg.state_path = state;
	cfg.spool_dir = spool;
	cfg.collector = addr;
	cfg.tls_cert = cert;
	cfg.tls_key = tkey;
	cfg.tls_ca = ca;
	cfg.backoff_min_ms = 100;
	cfg.backoff_max_ms = 500;
	cfg.spool_max_bytes = p->spool_max;
	if (exporter_open(&x, &cfg, err, sizeof(err))) {
		fprintf(stderr, "agent: %s\n", err);
		return 2;
	}
	if (fix_interval_make(&iv, (size_t)p->counters, 1, telem_now_ns()))
		return 2;
	for (i = 0; i < p->intervals; i++) {
		if (exporter_submit(&x, &iv.rec)) {
			fprintf(stderr, "agent: submit failed\n");
			return 2;
		}
		pump(&x, mono_ms() + (__u64)p->interval_ms);
	}
	end = mono_ms() + (__u64)p->drain_ms;
	do {
		pump(&x, mono_ms() + 50);
		exporter_get_stats(&x, &st);
	} while (st.pending && mono_ms() < end);
	if (p->one_more && !st.pending) {
		if (exporter_submit(&x, &iv.rec))
			return 2;
		do {
			pump(&x, mono_ms() + 50);
			exporter_get_stats(&x, &st);
		} while (st.pending && mono_ms() < end);
	}
	fprintf(stderr, "agent: epoch %llu next seq %llu produced %llu acked %llu pending %zu connects %lu\n",
		(unsigned long long)st.epoch, (unsigned long long)st.next_seq,
		(unsigned long long)st.produced, (unsigned long long)st.acked, st.pending,
		st.connects);
	fix_interval_free(&iv);
	exporter_close(&x);
	return st.pending ? 1 : 0;
}

static pid_t start_agent(struct fx *f, int slot, const struct agent_plan *p)
{
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0, "fork agent");
	if (pid == 0)
		_exit(agent_main(f, p));
	f->agents[slot] = pid;
	return pid;
}

static int wait_agent(struct fx *f, int slot, int timeout_ms)
{
	int status = 0, i;

	for (i = 0; i < timeout_ms / 50; i++) {
		if (waitpid(f->agents[slot], &status, WNOHANG) == f->agents[slot]) {
			f->agents[slot] = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		sleep_ms(50);
	}
	return -1;
}

static long long query(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open_v2(path(f, P_DB), &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* Export, then customs-audit verify: its exit code. */
static int export_and_verify(struct fx *f)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "'%s/customs-collector' export --store '%s' --out '%s' 2>/dev/null",
		 f->build, path(f, P_DB), path(f, P_BUNDLE));
	if (sh(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s/customs-audit' verify '%s' --keys '%s'", f->build,
		 path(f, P_BUNDLE), path(f, P_KEYS));
	return sh(cmd);
}

/* Per interval: counters 1..n packets each, so n(n+1)/2 packets. */
static long long packets_per_interval(int n)
{
	return (long long)n * (n + 1) / 2;
}

static void every_interval_stored_once_across_a_collector_outage(void **state)
{
	struct agent_plan p = { .intervals = 40, .counters = 50, .interval_ms = 100,
				.drain_ms = 20000 };
	struct fx *f = *state;

	start_collector(f);
	start_agent(f, 0, &p);
	sleep_ms(1000);
	ASSERT_TRUE(query(f, "SELECT count(*) FROM batches") > 0, "delivering before the outage");
	/* A hard stop: only what was acked must be durable. */
	kill(f->collector, SIGKILL);
	waitpid(f->collector, NULL, 0);
	f->collector = 0;
	sleep_ms(3000);		/* the outage; the agent keeps spooling */
	start_collector(f);
	ASSERT_EQ(wait_agent(f, 0, 30000), 0, "agent drained its spool");
	ASSERT_EQ(query(f, "SELECT count(*) FROM batches"), 40, "every interval stored");
	ASSERT_EQ(query(f, "SELECT count(DISTINCT seq) FROM batches"), 40, "once each");
	ASSERT_EQ(query(f, "SELECT max(seq) FROM batches"), 39, "seq 0..39");
	ASSERT_EQ(query(f, "SELECT sum(packets) FROM counters"), 40 * packets_per_interval(50),
		  "totals equal what the agent counted");
	ASSERT_EQ(query(f, "SELECT count(*) FROM rejects"), 0, "nothing rejected");
	ASSERT_EQ(query(f, "SELECT count(*) FROM gaps"), 0, "no gaps");
	ASSERT_EQ(export_and_verify(f), 0, "customs-audit verify accepts the export");
}

static void sigkill_mid_send_loses_nothing_and_duplicates_nothing(void **state)
{
	struct agent_plan burst = { .intervals = 30, .counters = 6000, .interval_ms = 10,
				    .drain_ms = 20000 };
	struct agent_plan resume = { .intervals = 5, .counters = 6000, .interval_ms = 10,
				     .drain_ms = 20000 };
	struct fx *f = *state;
	long long stored, seqs;

	start_collector(f);
	start_agent(f, 0, &burst);
	/* Kill once some batches are stored and more are on the way. */
	for (int i = 0; i < 200 && query(f, "SELECT count(*) FROM batches") < 3; i++)
		sleep_ms(10);
	kill(f->agents[0], SIGKILL);
	ASSERT_EQ(wait_agent(f, 0, 5000), 128 + SIGKILL, "agent killed");
	stored = query(f, "SELECT count(*) FROM batches");
	print_message("killed the agent with %lld batch(es) stored\n", stored);
	start_agent(f, 1, &resume);
	ASSERT_EQ(wait_agent(f, 1, 60000), 0, "resumed agent drained its spool");
	sleep_ms(1500);		/* past the gap grace period */
	seqs = query(f, "SELECT max(seq) FROM batches") + 1;
	ASSERT_TRUE(seqs >= 6, "the resumed agent added batches");
	ASSERT_EQ(query(f, "SELECT count(*) FROM batches"), seqs, "no gap: seq 0..max all stored");
	ASSERT_EQ(query(f, "SELECT count(DISTINCT epoch) FROM batches"), 1, "chain continued");
	ASSERT_EQ(query(f, "SELECT count(*) FROM rejects"), 0, "no replay with other content");
	ASSERT_EQ(query(f, "SELECT count(*) FROM gaps"), 0, "no gap recorded");
	ASSERT_EQ(query(f, "SELECT count(*) FROM batches WHERE link_ok IS NOT 1"), 0, "all linked");
	ASSERT_EQ(query(f, "SELECT sum(packets) FROM counters"), seqs * packets_per_interval(6000),
		  "totals match the batches");
	ASSERT_EQ(export_and_verify(f), 0, "customs-audit verify accepts the export");
}

static void full_spool_drops_are_declared_and_found(void **state)
{
	struct agent_plan p = { .intervals = 30, .counters = 200, .interval_ms = 30,
				.drain_ms = 20000, .spool_max = 40000, .one_more = true };
	struct fx *f = *state;
	char cmd[1200];
	long long stored;

	/* The collector is down while the agent fills its small spool. */
	start_agent(f, 0, &p);
	sleep_ms(1500);
	start_collector(f);
	ASSERT_EQ(wait_agent(f, 0, 30000), 0, "agent drained what it kept");
	sleep_ms(1500);		/* past the gap grace period */
	stored = query(f, "SELECT count(*) FROM batches");
	print_message("%lld of 31 batches survived the full spool\n", stored);
	ASSERT_TRUE(stored > 1 && stored < 31, "some batches were dropped");
	ASSERT_EQ(query(f, "SELECT max(seq) FROM batches"), 30, "the newest survived");
	ASSERT_EQ(query(f, "SELECT count(*) FROM gaps WHERE first_seq = 0"), 1, "the collector saw the gap");
	/*
	 * Seq 30, produced once the spool had room, reports the last drops.
	 * A batch dropped from the spool while in flight may still have
	 * arrived, so the reports cover at least what is missing (the unit
	 * tests check the counts are exact).
	 */
	ASSERT_TRUE(query(f, "SELECT max(CAST(substr(detail, instr(detail, ': ') + 2) AS INTEGER)) FROM events WHERE kind = 'spool_drop'") >=
		    query(f, "SELECT 31 - count(*) FROM batches"),
		    "the agent reported every batch missing");
	ASSERT_EQ(export_and_verify(f), 1, "customs-audit verify fails on the gap");
	snprintf(cmd, sizeof(cmd), "'%s/customs-audit' verify '%s' --keys '%s' | grep -q 'missing batch (gap): seq 0\\.\\..*the agent reported them dropped from its spool'",
		 f->build, path(f, P_BUNDLE), path(f, P_KEYS));
	ASSERT_EQ(sh(cmd), 0, "and says the agent declared it");
}

/* A raw TLS client: handshake with an optional certificate, send, read. */
static int rogue_session(struct fx *f, const char *cert, const char *key, const void *send_buf,
			 size_t send_len, unsigned char *reply, size_t reply_cap)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((__u16)f->port) };
	char ca[400];
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd, got = -1;

	snprintf(ca, sizeof(ca), "%s/ca.crt", f->dir);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_load_verify_locations(ctx, ca, NULL);
	if (cert) {
		SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM);
		SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct timeval tv = { 3, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		goto cleanup;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto cleanup;
	if (send_len && SSL_write(ssl, send_buf, (int)send_len) != (int)send_len)
		goto cleanup;
	got = SSL_read(ssl, reply, (int)reply_cap);
	if (got < 0)
		got = 0;
cleanup:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return got;
}

static void rogues_and_garbage_refused_while_a_good_node_delivers(void **state)
{
	struct agent_plan p = { .intervals = 30, .counters = 50, .interval_ms = 100,
				.drain_ms = 20000 };
	struct fx *f = *state;
	unsigned char reply[4096], frame[64], *raw, hash[SHA256_LEN];
	char good_cert[400], good_key[400], rogue_cert[400], rogue_key[400], key[400], cmd[1200];
	Customs__Frame fr = CUSTOMS__FRAME__INIT;
	struct bytebuf out = { 0 }, in = { 0 };
	struct telem_link link = { .epoch = 5 };
	struct telem_node node = { .node_id = "rogue-node", .host_country = "AE" };
	struct fix_interval iv;
	struct telem_key rk;
	Customs__Frame *ack;
	size_t len;
	int got;

	snprintf(good_cert, sizeof(good_cert), "%s/client.crt", f->dir);
	snprintf(good_key, sizeof(good_key), "%s/client.key", f->dir);
	snprintf(rogue_cert, sizeof(rogue_cert), "%s/rogue.crt", f->dir);
	snprintf(rogue_key, sizeof(rogue_key), "%s/rogue.key", f->dir);
	start_collector(f);
	start_agent(f, 0, &p);
	sleep_ms(300);

	ASSERT_TRUE(rogue_session(f, NULL, NULL, "x", 1, reply, sizeof(reply)) <= 0,
		    "no certificate: refused");
	ASSERT_TRUE(rogue_session(f, rogue_cert, rogue_key, "x", 1, reply, sizeof(reply)) <= 0,
		    "certificate of another CA: refused");
	memset(frame, 0xff, sizeof(frame));	/* a varint that never ends */
	ASSERT_TRUE(rogue_session(f, good_cert, good_key, frame, sizeof(frame), reply,
				  sizeof(reply)) <= 0, "garbage frame: connection dropped");
	frame[0] = 0x81;			/* 16 MiB + 1: over max_frame */
	frame[1] = 0x80;
	frame[2] = 0x80;
	frame[3] = 0x08;
	ASSERT_TRUE(rogue_session(f, good_cert, good_key, frame, 4, reply, sizeof(reply)) <= 0,
		    "oversized frame: connection dropped");

	/* A proper frame with a batch of a key the collector does not know. */
	snprintf(key, sizeof(key), "%s/node.key", path(f, P_ROGUE));
	ASSERT_OK(telem_key_load_private(&rk, key), "rogue key");
	ASSERT_OK(fix_interval_make(&iv, 3, 0, 1), "interval");
	ASSERT_OK(telem_build_signed(&node, &link, &iv.rec, NULL, 0, &rk, &raw, &len, hash), "build");
	fix_interval_free(&iv);
	telem_key_free(&rk);
	fr.version = TELEM_FRAME_VERSION;
	fr.signed_batch.data = raw;
	fr.signed_batch.len = len;
	ASSERT_OK(frame_put(&out, &fr), "frame");
	got = rogue_session(f, good_cert, good_key, out.data, out.len, reply, sizeof(reply));
	ASSERT_TRUE(got > 0, "an answer");
	ASSERT_OK(bytebuf_add(&in, reply, (size_t)got), "buffer");
	ASSERT_EQ(frame_take(&in, sizeof(reply), &ack), 1, "an ack frame");
	ASSERT_OK_PTR(ack->ack, "ack");
	ASSERT_EQ(ack->ack->status, CUSTOMS__ACK_STATUS__ACK_REJECTED, "rejected");
	ASSERT_TRUE(strstr(ack->ack->reason, "unknown key") != NULL, "says why");
	customs__frame__free_unpacked(ack, NULL);
	bytebuf_free(&out);
	bytebuf_free(&in);
	free(raw);

	/* The real node key, but a node id the client certificate does not name. */
	snprintf(key, sizeof(key), "%s/node.key", path(f, P_NODE));
	ASSERT_OK(telem_key_load_private(&rk, key), "node key");
	ASSERT_OK(fix_interval_make(&iv, 3, 0, 1), "interval");
	ASSERT_OK(telem_build_signed(&node, &link, &iv.rec, NULL, 0, &rk, &raw, &len, hash), "build");
	fix_interval_free(&iv);
	telem_key_free(&rk);
	fr.signed_batch.data = raw;
	fr.signed_batch.len = len;
	ASSERT_OK(frame_put(&out, &fr), "frame");
	got = rogue_session(f, good_cert, good_key, out.data, out.len, reply, sizeof(reply));
	ASSERT_TRUE(got > 0, "an answer");
	ASSERT_OK(bytebuf_add(&in, reply, (size_t)got), "buffer");
	ASSERT_EQ(frame_take(&in, sizeof(reply), &ack), 1, "an ack frame");
	ASSERT_OK_PTR(ack->ack, "ack");
	ASSERT_EQ(ack->ack->status, CUSTOMS__ACK_STATUS__ACK_REJECTED, "rejected");
	ASSERT_TRUE(strstr(ack->ack->reason, "client certificate") != NULL, "says why");
	customs__frame__free_unpacked(ack, NULL);
	bytebuf_free(&out);
	bytebuf_free(&in);
	free(raw);

	ASSERT_EQ(wait_agent(f, 0, 30000), 0, "the good node delivered everything");
	ASSERT_EQ(query(f, "SELECT count(*) FROM batches WHERE node = '" NODE "'"), 30,
		  "all of its batches");
	ASSERT_EQ(query(f, "SELECT count(*) FROM batches WHERE node = 'rogue-node'"), 0,
		  "nothing of the rogue");
	ASSERT_EQ(query(f, "SELECT count(*) FROM rejects WHERE reason LIKE 'unknown key%'"), 1,
		  "the rogue batch recorded as rejected");
	ASSERT_EQ(query(f, "SELECT count(*) FROM rejects WHERE reason LIKE 'node id does not match%'"),
		  1, "the impostor batch recorded as rejected");
	ASSERT_TRUE(f->collector > 0 && kill(f->collector, 0) == 0, "collector still serving");
	snprintf(cmd, sizeof(cmd), "grep -q 'TLS handshake failed' '%s' && grep -q 'malformed frame' '%s' && grep -q 'oversized frame' '%s'",
		 path(f, P_LOG), path(f, P_LOG), path(f, P_LOG));
	ASSERT_EQ(sh(cmd), 0, "each refusal logged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(every_interval_stored_once_across_a_collector_outage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(sigkill_mid_send_loses_nothing_and_duplicates_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(rogues_and_garbage_refused_while_a_good_node_delivers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(full_spool_drops_are_declared_and_found,
						setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
