// SPDX-License-Identifier: BSD-2-Clause
/*
 * The data plane end to end: a server in a tenant cgroup in namespace a,
 * XDP on its veth, cgroup programs on the test cgroup; clients in
 * namespace b whose source addresses the geo table places in Germany
 * (allowed), Iran (denied) and Brazil (audited). Real sockets, known
 * payloads: counted bytes equal the L3 bytes on the wire, cross-checked
 * against the interface's own counters; a denied country's SYNs die at
 * XDP and its outbound connects fail with EPERM; killing the loader leaves
 * enforcement in place, and a restarted loader adopts the pins with
 * nothing lost or counted twice. IPv6 gets the same byte check and its
 * own connect6 refusal.
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "netenv.h"
#include "testgeo.h"
#include "dataplane.h"
#include "parse.h"

#define TENANT		9
#define MODEL		1
#define UDP_PORT	5300
#define TCP_PORT	8000
#define N_DGRAMS	40
#define DGRAM_LEN	512
#define TCP_BYTES	100000

#define SRC_DE		"192.0.2.2"
#define SRC_IR		"203.0.113.2"
#define SRC_BR		"198.19.0.2"
#define SRC6_DE		"2001:db8:de::2"
#define SRC6_IR		"2001:db8:1::2"

struct lab {
	struct netenv env;
	struct testcg cg;
	char tenant_cg[512];
	char pin_dir[128];
	struct dp *dp;
	pid_t server;
};

static __u16 cc(const char *s)
{
	return country_index(s[0], s[1]);
}

static int ns_a_cmd(struct lab *l, const char *a0, const char *a1, const char *a2,
		    const char *a3, const char *a4, const char *a5)
{
	char *argv[] = { "ip", (char *)a0, (char *)a1, (char *)a2, (char *)a3,
			 (char *)a4, (char *)a5, NULL };

	return netenv_exec(&l->env, 0, argv);
}

static int ns_b_cmd(struct lab *l, const char *a0, const char *a1, const char *a2,
		    const char *a3, const char *a4, const char *a5, const char *a6,
		    const char *a7, const char *a8)
{
	char *argv[] = { "ip", (char *)a0, (char *)a1, (char *)a2, (char *)a3,
			 (char *)a4, (char *)a5, (char *)a6, (char *)a7, (char *)a8,
			 NULL };

	return netenv_exec(&l->env, 1, argv);
}

#define MAC_A "02:00:00:00:00:0a"
#define MAC_B "02:00:00:00:00:0b"

/*
 * Only our traffic may cross the link, so the interface's counters can be
 * compared with ours: fixed MACs with permanent neighbours (no ARP) and no
 * IPv6 on the client side (no ND, no MLD).
 */
static int quiet_link(struct lab *l)
{
	static const char *clients[] = { SRC_DE, SRC_IR, SRC_BR, NETENV_V4_B };
	char *sysctl[] = { "sysctl", "-q", "-w",
			   "net.ipv6.conf." NETENV_IF_B ".disable_ipv6=1", NULL };
	size_t i;
	int err;

	err = ns_a_cmd(l, "link", "set", NETENV_IF_A, "address", MAC_A, NULL) ?:
	      ns_b_cmd(l, "link", "set", NETENV_IF_B, "address", MAC_B, NULL, NULL,
		       NULL, NULL) ?:
	      ns_b_cmd(l, "neigh", "replace", NETENV_V4_A, "lladdr", MAC_A, "dev",
		       NETENV_IF_B, "nud", "permanent") ?:
	      netenv_exec(&l->env, 1, sysctl);
	for (i = 0; !err && i < sizeof(clients) / sizeof(clients[0]); i++) {
		char *argv[] = { "ip", "neigh", "replace", (char *)clients[i], "lladdr",
				 MAC_B, "dev", NETENV_IF_A, "nud", "permanent", NULL };

		err = netenv_exec(&l->env, 0, argv);
	}
	return err;
}

static int ns_b_addr(struct lab *l, const char *addr)
{
	char cidr[64];
	char *argv[] = { "ip", "addr", "add", cidr, "dev", NETENV_IF_B, NULL };

	snprintf(cidr, sizeof(cidr), "%s/32", addr);
	return netenv_exec(&l->env, 1, argv);
}

/* The served model's policy: DE allowed, IR denied, BR audited. */
static int lab_policy(struct lab *l)
{
	struct tenant_info who = { TENANT, MODEL };
	struct endpoint_key tcp = { .port = TCP_PORT, .proto = IPPROTO_TCP, .family = 4 };
	struct endpoint_key udp = { .port = UDP_PORT, .proto = IPPROTO_UDP, .family = 4 };
	struct endpoint_key udp6 = { .port = UDP_PORT, .proto = IPPROTO_UDP, .family = 6 };
	struct access_row row;
	struct stat st;
	int err;

	if (stat(l->tenant_cg, &st))
		return -errno;
	inet_pton(AF_INET, NETENV_V4_A, &tcp.addr[0]);
	inet_pton(AF_INET, NETENV_V4_A, &udp.addr[0]);
	inet_pton(AF_INET6, NETENV_V6_A, udp6.addr);
	memset(&row, VERDICT_ALLOW, sizeof(row));
	row.verdict[cc("IR")] = VERDICT_DENY;
	row.verdict[cc("BR")] = VERDICT_AUDIT;
	err = dp_set_access_row(l->dp, MODEL, DIR_INGRESS, &row) ?:
	      dp_set_access_row(l->dp, MODEL, DIR_EGRESS, &row);
	memset(&row, VERDICT_ALLOW, sizeof(row));
	err = err ?: dp_set_access_row(l->dp, MODEL_UNKNOWN, DIR_INGRESS, &row) ?:
	      dp_set_access_row(l->dp, MODEL_UNKNOWN, DIR_EGRESS, &row) ?:
	      dp_set_tenant(l->dp, st.st_ino, &who) ?:
	      dp_set_endpoint(l->dp, &tcp, &who) ?:
	      dp_set_endpoint(l->dp, &udp, &who) ?:
	      dp_set_endpoint(l->dp, &udp6, &who) ?:
	      testgeo_set(l->dp, "2001:db8:de::/48", "DE") ?:
	      testgeo_set(l->dp, "2001:db8:1::/48", "IR") ?:
	      testgeo_set(l->dp, "192.0.2.0/24", "DE") ?:
	      testgeo_set(l->dp, "203.0.113.0/24", "IR") ?:
	      testgeo_set(l->dp, "198.18.0.0/15", "BR");
	return err;
}

static int lab_load(struct lab *l)
{
	struct dp_config cfg = { .pin_dir = l->pin_dir, .models = 2 };
	int err;

	err = dp_open(&l->dp, &cfg);
	if (err)
		return err;
	err = lab_policy(l) ?: dp_attach_cgroup(l->dp, l->cg.path);
	if (err)
		return err;
	err = netenv_enter(&l->env, 0);
	if (err)
		return err;
	err = dp_attach_xdp(l->dp, NETENV_IF_A, DP_XDP_NATIVE);
	netenv_enter(&l->env, -1);
	return err;
}

/* Server: UDP sink and TCP sink in the tenant cgroup, namespace a. */
static int serve(void *arg)
{
	struct lab *l = arg;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(UDP_PORT) };
	int u, u6, t, one = 1;
	char buf[65536];

	if (testcg_move(l->tenant_cg, getpid()))
		return 3;
	u = socket(AF_INET, SOCK_DGRAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons(UDP_PORT);
	if (bind(u, (void *)&a, sizeof(a)))
		return 4;
	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(u6, (void *)&a6, sizeof(a6)))
		return 6;
	a.sin_port = htons(TCP_PORT);
	if (bind(t, (void *)&a, sizeof(a)) || listen(t, 16))
		return 5;
	for (;;) {
		struct pollfd p[3] = { { u, POLLIN, 0 }, { t, POLLIN, 0 }, { u6, POLLIN, 0 } };

		if (poll(p, 3, 30000) <= 0)
			return 0;
		if (p[0].revents)
			recv(u, buf, sizeof(buf), 0);
		if (p[2].revents)
			recv(u6, buf, sizeof(buf), 0);
		if (p[1].revents) {
			int c = accept(t, NULL, NULL);

			while (c >= 0 && recv(c, buf, sizeof(buf), 0) > 0)
				;
			if (c >= 0)
				close(c);
		}
	}
}

static int start_server(struct lab *l)
{
	l->server = fork();
	if (l->server < 0)
		return -errno;
	if (l->server == 0) {
		if (netenv_enter(&l->env, 0))
			_exit(2);
		_exit(serve(l));
	}
	usleep(200000);
	return 0;
}

static int lab_setup(struct lab *l)
{
	int err;

	memset(l, 0, sizeof(*l));
	snprintf(l->pin_dir, sizeof(l->pin_dir), "/sys/fs/bpf/customs-test-e2e-%d",
		 (int)getpid());
	dp_detach_all(l->pin_dir);
	err = netenv_setup(&l->env, "dp") ?: testcg_setup(&l->cg, "dp") ?:
	      testcg_mkdir(&l->cg, "model-a/server", l->tenant_cg, sizeof(l->tenant_cg));
	if (err)
		return err;
	snprintf(l->tenant_cg, sizeof(l->tenant_cg), "%s/model-a", l->cg.path);
	err = ns_b_addr(l, SRC_DE) ?: ns_b_addr(l, SRC_IR) ?: ns_b_addr(l, SRC_BR) ?:
	      ns_a_cmd(l, "route", "add", "192.0.2.0/24", "dev", NETENV_IF_A, NULL) ?:
	      ns_a_cmd(l, "route", "add", "203.0.113.0/24", "dev", NETENV_IF_A, NULL) ?:
	      ns_a_cmd(l, "route", "add", "198.18.0.0/15", "dev", NETENV_IF_A, NULL) ?:
	      quiet_link(l);
	if (err)
		return err;
	return lab_load(l) ?: start_server(l);
}

static void lab_teardown(struct lab *l)
{
	int status;

	if (l->server > 0) {
		kill(l->server, SIGKILL);
		waitpid(l->server, &status, 0);
	}
	dp_close(l->dp);
	dp_detach_all(l->pin_dir);
	testcg_teardown(&l->cg);
	netenv_teardown(&l->env);
}

struct client {
	const char *src;
	int proto;
	int count;
	int len;
	int timeout_ms;
};

static int bind_src(int fd, const char *src)
{
	struct sockaddr_in b = { .sin_family = AF_INET };

	inet_pton(AF_INET, src, &b.sin_addr);
	return bind(fd, (void *)&b, sizeof(b));
}

/* Exit 0 when the traffic went through, 10 when connect timed out. */
static int run_client(void *arg)
{
	const struct client *c = arg;
	struct sockaddr_in d = { .sin_family = AF_INET };
	static char payload[TCP_BYTES];
	struct pollfd p;
	int fd, i, err;
	socklen_t el = sizeof(err);

	inet_pton(AF_INET, NETENV_V4_A, &d.sin_addr);
	fd = socket(AF_INET, c->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0 || bind_src(fd, c->src))
		return 2;
	if (c->proto == IPPROTO_UDP) {
		d.sin_port = htons(UDP_PORT);
		for (i = 0; i < c->count; i++)
			if (sendto(fd, payload, (size_t)c->len, 0, (void *)&d, sizeof(d)) < 0)
				return 3;
		return 0;
	}
	d.sin_port = htons(TCP_PORT);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (void *)&d, sizeof(d)) && errno != EINPROGRESS)
		return 4;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, c->timeout_ms) <= 0)
		return 10;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err)
		return 5;
	fcntl(fd, F_SETFL, 0);
	for (i = 0; i < c->len;) {
		ssize_t w = send(fd, payload + i, (size_t)(c->len - i), 0);

		if (w <= 0)
			return 6;
		i += (int)w;
	}
	shutdown(fd, SHUT_WR);
	while (recv(fd, payload, sizeof(payload), 0) > 0)
		;
	close(fd);
	return 0;
}

static struct meter_record *meters(struct lab *l, size_t *n)
{
	struct meter_record *r = NULL;

	ASSERT_OK(dp_meter_flip(l->dp), "flip");
	ASSERT_OK(dp_meter_read(l->dp, &r, n), "read");
	ASSERT_OK(dp_meter_clear(l->dp), "clear");
	return r;
}

static __u64 sum(const struct meter_record *r, size_t n, const char *c,
		 enum layer layer, enum direction dir, enum verdict v, bool bytes)
{
	__u64 t = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].key.tenant == TENANT && r[i].key.model == MODEL &&
		    r[i].key.country == cc(c) && r[i].key.layer == layer &&
		    r[i].key.direction == dir && r[i].key.verdict == v)
			t += bytes ? r[i].value.bytes : r[i].value.packets;
	return t;
}

/* rx packets and bytes of cs-a: /proc/self/net follows our namespace. */
static void if_rx(struct lab *l, __u64 *pkts, __u64 *bytes)
{
	unsigned long long b = 0, p = 0;
	char line[512], name[64];
	bool found = false;
	FILE *f;

	ASSERT_OK(netenv_enter(&l->env, 0), "enter a");
	f = fopen("/proc/self/net/dev", "r");
	netenv_enter(&l->env, -1);
	ASSERT_OK_PTR(f, "open /proc/self/net/dev");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %63[^:]: %llu %llu", name, &b, &p) == 3 &&
		    !strcmp(name, NETENV_IF_A)) {
			found = true;
			break;
		}
	fclose(f);
	ASSERT_TRUE(found, "cs-a in /proc/net/dev");
	*pkts = p;
	*bytes = b;
}

static void udp_bytes_counted_equal_the_wire(void **state)
{
	struct client c = { SRC_DE, IPPROTO_UDP, N_DGRAMS, DGRAM_LEN, 0 };
	struct lab *l = *state;
	struct meter_record *r;
	__u64 want = (__u64)N_DGRAMS * (20 + 8 + DGRAM_LEN);
	__u64 p0, b0, p1, b1;
	size_t n;

	test_need_bpf();
	free(meters(l, &n));
	if_rx(l, &p0, &b0);
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &c), 0, "send datagrams");
	usleep(100000);
	if_rx(l, &p1, &b1);
	r = meters(l, &n);
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, false), N_DGRAMS,
		  "xdp packets");
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, true), want,
		  "xdp bytes = payload + headers");
	ASSERT_EQ(sum(r, n, "DE", LAYER_SKB, DIR_INGRESS, VERDICT_ALLOW, true), want,
		  "socket layer bytes = xdp bytes");
	/* veth counts received bytes after the Ethernet header: L3 bytes. */
	ASSERT_EQ(p1 - p0, N_DGRAMS, "interface packets");
	ASSERT_EQ(b1 - b0, want, "interface L3 bytes");
	free(r);
}

/* Served-side TCP outcomes for a country since the lab started. */
static void tcp_outcomes_are(struct lab *l, const char *c, __u64 attempts,
			     __u64 established)
{
	struct tcp_outcome_record *t = NULL;
	struct tcp_outcome got = {};
	size_t n, i;

	ASSERT_OK(dp_tcp_read(l->dp, &t, &n), "tcp outcomes");
	for (i = 0; i < n; i++)
		if (t[i].key.tenant == TENANT && t[i].key.model == MODEL &&
		    t[i].key.country == cc(c) && t[i].key.direction == DIR_INGRESS) {
			got.attempts += t[i].value.attempts;
			got.established += t[i].value.established;
		}
	free(t);
	ASSERT_EQ(got.attempts, attempts, "connection attempts");
	ASSERT_EQ(got.established, established, "established connections");
}

static void tcp_xdp_and_socket_layers_agree(void **state)
{
	struct client c = { SRC_DE, IPPROTO_TCP, 1, TCP_BYTES, 2000 };
	struct lab *l = *state;
	struct meter_record *r;
	__u64 p0, b0, p1, b1, xdp;
	size_t n;

	test_need_bpf();
	free(meters(l, &n));
	if_rx(l, &p0, &b0);
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &c), 0, "tcp transfer");
	usleep(200000);
	if_rx(l, &p1, &b1);
	r = meters(l, &n);
	xdp = sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, true);
	ASSERT_TRUE(xdp > TCP_BYTES, "xdp bytes cover the payload");
	ASSERT_EQ(xdp, b1 - b0, "xdp bytes = interface L3 bytes");
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, false), p1 - p0,
		  "xdp packets = interface packets");
	/* GRO may merge segments at the socket layer: bytes agree, not packets. */
	ASSERT_EQ(sum(r, n, "DE", LAYER_SKB, DIR_INGRESS, VERDICT_ALLOW, true), xdp,
		  "socket layer bytes = xdp bytes");
	free(r);
	tcp_outcomes_are(l, "DE", 1, 1);
}

static void denied_country_dropped_at_xdp(void **state)
{
	struct client c = { SRC_IR, IPPROTO_TCP, 1, 100, 1500 };
	struct lab *l = *state;
	struct meter_record *r;
	size_t n;

	test_need_bpf();
	free(meters(l, &n));
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &c), 10, "connect times out");
	r = meters(l, &n);
	ASSERT_TRUE(sum(r, n, "IR", LAYER_XDP, DIR_INGRESS, VERDICT_DENY, false) >= 1,
		    "SYNs counted as denied");
	ASSERT_EQ(sum(r, n, "IR", LAYER_SKB, DIR_INGRESS, VERDICT_DENY, false) +
		  sum(r, n, "IR", LAYER_SKB, DIR_INGRESS, VERDICT_ALLOW, false), 0,
		  "nothing reached the socket layer");
	free(r);
}

static void audit_country_passes_and_counts(void **state)
{
	struct client c = { SRC_BR, IPPROTO_UDP, 5, 100, 0 };
	struct lab *l = *state;
	struct meter_record *r;
	size_t n;

	test_need_bpf();
	free(meters(l, &n));
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &c), 0, "send");
	usleep(100000);
	r = meters(l, &n);
	ASSERT_EQ(sum(r, n, "BR", LAYER_XDP, DIR_INGRESS, VERDICT_AUDIT, false), 5,
		  "audit at xdp");
	ASSERT_EQ(sum(r, n, "BR", LAYER_SKB, DIR_INGRESS, VERDICT_AUDIT, false), 5,
		  "audit at the socket layer (delivered)");
	free(r);
}

struct egress_args {
	struct lab *l;
	int proto;
};

/* From the tenant cgroup: connect/sendto an Iranian address. */
static int egress_to_denied(void *arg)
{
	const struct egress_args *a = arg;
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd;

	if (testcg_move(a->l->tenant_cg, getpid()))
		return 2;
	inet_pton(AF_INET, SRC_IR, &d.sin_addr);
	fd = socket(AF_INET, a->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (a->proto == IPPROTO_UDP) {
		if (sendto(fd, "x", 1, 0, (void *)&d, sizeof(d)) == 0)
			return 0;
	} else if (connect(fd, (void *)&d, sizeof(d)) == 0) {
		return 0;
	}
	return errno == EPERM ? 20 : 21;
}

static void egress_to_denied_country_gets_eperm(void **state)
{
	struct lab *l = *state;
	struct egress_args tcp = { l, IPPROTO_TCP }, udp = { l, IPPROTO_UDP };
	struct meter_record *r;
	size_t n;

	test_need_bpf();
	free(meters(l, &n));
	ASSERT_EQ(netenv_run(&l->env, 0, egress_to_denied, &tcp), 20, "connect EPERM");
	ASSERT_EQ(netenv_run(&l->env, 0, egress_to_denied, &udp), 20, "sendto EPERM");
	r = meters(l, &n);
	ASSERT_EQ(sum(r, n, "IR", LAYER_SOCK, DIR_EGRESS, VERDICT_DENY, false), 2,
		  "both refusals counted at the socket layer");
	free(r);
}

/*
 * IPv6 on the client side for one test: static neighbours, no DAD, so
 * only our datagrams and the kernel's few router solicitations cross.
 */
static int v6_link(struct lab *l, bool on)
{
	char *en[] = { "sysctl", "-q", "-w",
		       on ? "net.ipv6.conf." NETENV_IF_B ".disable_ipv6=0"
			  : "net.ipv6.conf." NETENV_IF_B ".disable_ipv6=1", NULL };
	char *de[] = { "ip", "-6", "addr", "add", SRC6_DE "/128", "dev", NETENV_IF_B, "nodad", NULL };
	char *ir[] = { "ip", "-6", "addr", "add", SRC6_IR "/128", "dev", NETENV_IF_B, "nodad", NULL };
	char *nb[] = { "ip", "-6", "neigh", "replace", NETENV_V6_A, "lladdr", MAC_A, "dev",
		       NETENV_IF_B, "nud", "permanent", NULL };
	char *rt[] = { "ip", "-6", "route", "replace", "2001:db8:de::/48", "dev", NETENV_IF_A, NULL };
	/* Disabling IPv6 dropped cs-b's own address and its on-link route. */
	char *rb[] = { "ip", "-6", "route", "replace", "2001:db8::/64", "dev", NETENV_IF_B, NULL };
	char *na[] = { "ip", "-6", "neigh", "replace", SRC6_DE, "lladdr", MAC_B, "dev",
		       NETENV_IF_A, "nud", "permanent", NULL };

	if (!on)
		return netenv_exec(&l->env, 1, en);
	return netenv_exec(&l->env, 1, en) ?: netenv_exec(&l->env, 1, de) ?:
	       netenv_exec(&l->env, 1, ir) ?: netenv_exec(&l->env, 1, rb) ?:
	       netenv_exec(&l->env, 1, nb) ?:
	       netenv_exec(&l->env, 0, rt) ?: netenv_exec(&l->env, 0, na);
}

static int send_v6(void *arg)
{
	struct sockaddr_in6 b = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = htons(UDP_PORT) };
	static char payload[DGRAM_LEN];
	int fd, i;

	(void)arg;
	inet_pton(AF_INET6, SRC6_DE, &b.sin6_addr);
	inet_pton(AF_INET6, NETENV_V6_A, &d.sin6_addr);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (void *)&b, sizeof(b)))
		return 2;
	for (i = 0; i < N_DGRAMS; i++)
		if (sendto(fd, payload, sizeof(payload), 0, (void *)&d, sizeof(d)) < 0)
			return 3;
	return 0;
}

/* From the tenant cgroup: connect6 to an Iranian IPv6 address. */
static int connect6_to_denied(void *arg)
{
	struct lab *l = arg;
	struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	int fd;

	if (testcg_move(l->tenant_cg, getpid()))
		return 2;
	inet_pton(AF_INET6, SRC6_IR, &d.sin6_addr);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (connect(fd, (void *)&d, sizeof(d)) == 0)
		return 0;
	return errno == EPERM ? 20 : 21;
}

static void ipv6_bytes_counted_and_connect6_denied(void **state)
{
	struct lab *l = *state;
	__u64 want = (__u64)N_DGRAMS * (40 + 8 + DGRAM_LEN);
	struct meter_record *r;
	size_t n;

	test_need_bpf();
	ASSERT_OK(v6_link(l, true), "IPv6 on the client side");
	usleep(200000);
	free(meters(l, &n));
	ASSERT_EQ(netenv_run(&l->env, 1, send_v6, NULL), 0, "send IPv6 datagrams");
	ASSERT_EQ(netenv_run(&l->env, 0, connect6_to_denied, l), 20, "connect6 EPERM");
	usleep(100000);
	r = meters(l, &n);
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, false), N_DGRAMS,
		  "xdp IPv6 packets");
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, true), want,
		  "xdp IPv6 bytes = 40 + 8 + payload each");
	ASSERT_EQ(sum(r, n, "DE", LAYER_SKB, DIR_INGRESS, VERDICT_ALLOW, true), want,
		  "socket layer IPv6 bytes = xdp bytes");
	ASSERT_EQ(sum(r, n, "IR", LAYER_SOCK, DIR_EGRESS, VERDICT_DENY, false), 1,
		  "connect6 refusal counted");
	free(r);
	ASSERT_OK(v6_link(l, false), "IPv6 off again");
}

struct killed_loader {
	struct lab *l;
};

static int load_and_die(void *arg)
{
	struct lab *l = arg;

	/* A loader that attaches, fills policy, and then is killed. */
	dp_close(l->dp);
	l->dp = NULL;
	if (lab_load(l))
		return 2;
	kill(getpid(), SIGKILL);
	return 3;
}

static void killed_loader_keeps_enforcing_and_restart_adopts(void **state)
{
	struct client ir = { SRC_IR, IPPROTO_TCP, 1, 100, 1000 };
	struct client de = { SRC_DE, IPPROTO_UDP, 10, 200, 0 };
	struct lab *l = *state;
	struct meter_record *r;
	size_t n;
	pid_t pid;
	int status;

	test_need_bpf();
	free(meters(l, &n));
	/* Hand the pins to a second loader process, then kill it. */
	dp_close(l->dp);
	l->dp = NULL;
	pid = fork();
	ASSERT_TRUE(pid >= 0, "fork loader");
	if (pid == 0)
		_exit(load_and_die(l));
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "loader killed");

	/* Nobody is loaded now: pinned programs still drop and count. */
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &ir), 10, "IR still dropped");
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &de), 0, "DE still served");
	usleep(100000);

	/* A new loader adopts the pins: the counts made meanwhile are there. */
	ASSERT_OK(lab_load(l), "restart loader");
	ASSERT_TRUE(dp_adopted(l->dp), "pins adopted");
	r = meters(l, &n);
	ASSERT_TRUE(sum(r, n, "IR", LAYER_XDP, DIR_INGRESS, VERDICT_DENY, false) >= 1,
		    "denials while unloaded counted");
	ASSERT_EQ(sum(r, n, "DE", LAYER_XDP, DIR_INGRESS, VERDICT_ALLOW, false), 10,
		  "served while unloaded counted once");
	free(r);
	r = meters(l, &n);
	ASSERT_EQ(n, 0, "nothing counted twice");
	free(r);
	ASSERT_EQ(netenv_run(&l->env, 1, run_client, &ir), 10, "IR dropped after restart");
}

static int setup(void **state)
{
	static struct lab l;

	*state = &l;
	if (!test_have_bpf() || !testcg_mount())
		return 0;
	if (lab_setup(&l)) {
		lab_teardown(&l);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	lab_teardown(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp_bytes_counted_equal_the_wire),
		cmocka_unit_test(tcp_xdp_and_socket_layers_agree),
		cmocka_unit_test(denied_country_dropped_at_xdp),
		cmocka_unit_test(audit_country_passes_and_counts),
		cmocka_unit_test(egress_to_denied_country_gets_eperm),
		cmocka_unit_test(ipv6_bytes_counted_and_connect6_denied),
		cmocka_unit_test(killed_loader_keeps_enforcing_and_restart_adopts),
	};

	return cmocka_run_group_tests_name("e2e/dataplane_netns", tests, setup, teardown);
}
