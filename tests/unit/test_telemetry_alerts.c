// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query-pattern alerts in telemetry: an interval record's alerts become
 * EVENT_QUERY_ALERT events with a QueryAlert in the signed batch, after the
 * kernel's events, with every field as given, and the signature holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "telemetry.h"

static void alerts_become_signed_events(void **state)
{
	struct telem_node node = { .node_id = "n1", .host_country = "AE",
				   .agent_version = "test" };
	struct telem_link link = { .epoch = 1, .seq = 0 };
	struct interval_alert al = {
		.unix_ns = 1234, .model = "m1", .detector = "extraction", .mode = "enforce",
		.prefix = "198.19.1.0/24", .asn = 64501, .org = "Example Cloud Hosting",
		.country = "SG", .asn_country = "SG", .value = 293.5, .threshold = 20,
		.figures = "ratio 293.5", .deny_until_unix_ns = 99,
	};
	struct interval_record rec = { .start_unix_ns = 1, .end_unix_ns = 2,
				       .alerts = &al, .n_alerts = 1 };
	const Customs__QueryAlert *qa;
	const Customs__Event *e;
	struct telem_keyring ring = { 0 };
	unsigned char *raw = NULL, hash[SHA256_LEN];
	struct telem_signed s;
	struct telem_key key;
	size_t len = 0;

	(void)state;
	ASSERT_OK(telem_key_generate(&key), "key");
	ASSERT_OK(telem_build_signed(&node, &link, &rec, NULL, 0, &key, &raw, &len, hash), "build");
	ASSERT_OK(telem_decode(raw, len, &s), "decode");
	ring.keys = &key;
	ring.n = 1;
	ASSERT_OK(telem_verify(&s, &ring), "signature");
	ASSERT_EQ(s.batch->n_events, 1, "one event");
	e = s.batch->events[0];
	ASSERT_EQ(e->kind, CUSTOMS__EVENT_KIND__EVENT_QUERY_ALERT, "kind");
	ASSERT_EQ(e->unix_ns, 1234, "time");
	ASSERT_STR_EQ(e->model, "m1", "model");
	qa = e->query_alert;
	ASSERT_OK_PTR(qa, "query_alert set");
	ASSERT_STR_EQ(qa->detector, "extraction", "detector");
	ASSERT_STR_EQ(qa->mode, "enforce", "mode");
	ASSERT_STR_EQ(qa->prefix, "198.19.1.0/24", "prefix");
	ASSERT_EQ(qa->asn, 64501, "asn");
	ASSERT_STR_EQ(qa->organisation, "Example Cloud Hosting", "organisation");
	ASSERT_STR_EQ(qa->country, "SG", "country");
	ASSERT_STR_EQ(qa->asn_country, "SG", "asn country");
	ASSERT_EQ((__u64)(qa->value * 10), 2935, "value");
	ASSERT_EQ((__u64)qa->threshold, 20, "threshold");
	ASSERT_STR_EQ(qa->figures, "ratio 293.5", "figures");
	ASSERT_EQ(qa->deny_until_unix_ns, 99, "deny until");
	telem_signed_free(&s);
	free(raw);
	telem_key_free(&key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alerts_become_signed_events),
	};

	return cmocka_run_group_tests_name("unit/telemetry_alerts", tests, NULL, NULL);
}
