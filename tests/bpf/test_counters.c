// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's counter cycle against the real kernel buffers, including the
 * two places a crash can interrupt it: after the flip but before the save
 * (the interval must be recovered, once), and after the save but before
 * the clear (the buffer must not be counted again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>

#include "testlib.h"
#include "pktbuild.h"
#include "counters.h"
#include "parse.h"
#include "dataplane.skel.h"

struct fixture {
	struct dp *dp;
	struct counters c;
	char pins[128];
	char path[128];
};

static int setup(void **state)
{
	static struct fixture f;
	struct dp_config cfg = { .models = 1 };
	struct endpoint_key ep = { .port = 80, .proto = IPPROTO_TCP, .family = 4 };
	struct tenant_info who = { 3, 1 };

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (!test_have_bpf())
		return 0;
	snprintf(f.pins, sizeof(f.pins), "/sys/fs/bpf/customs-test-ctr-%d", (int)getpid());
	snprintf(f.path, sizeof(f.path), "/tmp/customs-test-totals-%d", (int)getpid());
	dp_detach_all(f.pins);
	unlink(f.path);
	cfg.pin_dir = f.pins;
	inet_pton(AF_INET, "198.51.100.1", &ep.addr[0]);
	return dp_open(&f.dp, &cfg) ?: dp_set_endpoint(f.dp, &ep, &who);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	counters_close(&f->c);
	dp_close(f->dp);
	if (f->pins[0])
		dp_detach_all(f->pins);
	unlink(f->path);
	return 0;
}

static void send_packets(struct fixture *f, int n)
{
	struct pkt_spec s = { .family = 4, .src = "192.0.2.1", .dst = "198.51.100.1",
			      .proto = IPPROTO_TCP, .sport = 1, .dport = 80,
			      .payload_len = 60 };
	__u8 pkt[256];
	__u32 ret;
	int len = pkt_build(&s, pkt, sizeof(pkt)), i;

	for (i = 0; i < n; i++)
		ASSERT_OK(pkt_run(bpf_program__fd(dp_skeleton(f->dp)->progs.xdp_ingress),
				  pkt, (size_t)len, &ret), "run");
}

static __u64 total_packets(struct counters *c)
{
	struct meter_key k = { .tenant = 3, .model = 1, .direction = DIR_INGRESS,
			       .layer = LAYER_XDP };
	const struct meter_value *v = totals_get(&c->totals, &k);

	return v ? v->packets : 0;
}

static __u64 records_packets(struct meter_record *r, size_t n)
{
	__u64 t = 0;
	size_t i;

	for (i = 0; i < n; i++)
		t += r[i].value.packets;
	free(r);
	return t;
}

static void intervals_add_up(void **state)
{
	struct fixture *f = *state;
	struct meter_record *r = NULL;
	size_t n;

	test_need_bpf();
	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "open");
	ASSERT_EQ(records_packets(r, n), 0, "nothing to recover");
	send_packets(f, 3);
	ASSERT_OK(counters_interval(&f->c, &r, &n), "interval 1");
	ASSERT_EQ(records_packets(r, n), 3, "interval 1 records");
	send_packets(f, 4);
	ASSERT_OK(counters_interval(&f->c, &r, &n), "interval 2");
	ASSERT_EQ(records_packets(r, n), 4, "interval 2 records");
	ASSERT_EQ(total_packets(&f->c), 7, "totals");
	/* A clean restart continues the totals. */
	counters_close(&f->c);
	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "reopen");
	ASSERT_EQ(records_packets(r, n), 0, "nothing recovered");
	ASSERT_EQ(total_packets(&f->c), 7, "totals survive");
}

static void crash_after_flip_recovers_the_interval_once(void **state)
{
	struct fixture *f = *state;
	struct meter_record *r = NULL;
	size_t n;

	test_need_bpf();
	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "open");
	free(r);
	send_packets(f, 5);
	ASSERT_OK(counters_interval(&f->c, &r, &n), "interval");
	free(r);
	send_packets(f, 2);
	/* The agent flips and dies before it saves. */
	ASSERT_OK(dp_meter_flip(f->dp), "flip");
	send_packets(f, 1);
	counters_close(&f->c);

	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "restart");
	ASSERT_EQ(records_packets(r, n), 2, "the interrupted interval, recovered");
	ASSERT_EQ(total_packets(&f->c), 7, "counted once");
	ASSERT_OK(counters_interval(&f->c, &r, &n), "next interval");
	ASSERT_EQ(records_packets(r, n), 1, "what came after the flip");
	ASSERT_EQ(total_packets(&f->c), 8, "all of it");
}

static void crash_after_save_does_not_count_twice(void **state)
{
	struct fixture *f = *state;
	struct meter_record *r = NULL;
	size_t n, i;
	int active;

	test_need_bpf();
	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "open");
	free(r);
	send_packets(f, 6);
	/* The agent flips, reads, adds and saves, then dies before clearing. */
	ASSERT_OK(dp_meter_flip(f->dp), "flip");
	active = dp_meter_active(f->dp);
	ASSERT_OK(dp_meter_read(f->dp, &r, &n), "read");
	for (i = 0; i < n; i++)
		totals_add(&f->c.totals, &r[i].key, &r[i].value);
	free(r);
	f->c.totals.pending = !active;
	ASSERT_OK(totals_save(&f->c.totals, f->path), "save");
	counters_close(&f->c);

	ASSERT_OK(counters_open(&f->c, f->dp, f->path, &r, &n), "restart");
	ASSERT_EQ(records_packets(r, n), 0, "nothing recovered twice");
	ASSERT_EQ(total_packets(&f->c), 6, "counted once");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(intervals_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_after_flip_recovers_the_interval_once, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_after_save_does_not_count_twice, setup, teardown),
	};

	return cmocka_run_group_tests_name("bpf/counters", tests, NULL, NULL);
}
