// SPDX-License-Identifier: BSD-2-Clause
/* customsd's configuration: a full file, defaults, and each error's place. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "config.h"

static const char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/customs-test-cfg-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void full_file(void **state)
{
	const char *path = write_tmp(
		"node:\n  id: node-7\n  host_country: AE\n"
		"policy: /etc/customs/policy.yaml\n"
		"geo:\n  database: /var/lib/customs/geo.table\n  overrides: [a.txt, b.txt]\n"
		"dataplane:\n  pin_dir: /sys/fs/bpf/c\n  cgroup: /sys/fs/cgroup/models\n"
		"  xdp:\n    - interface: eth1\n      mode: generic\n    - interface: eth2\n"
		"  meter_entries: 131072\n  ringbuf_bytes: 262144\n  sample_new_flows: true\n"
		"  query_inserts_per_sec: 500\n"
		"state_dir: /tmp/state\ninterval: 500ms\n"
		"metrics:\n  listen: 127.0.0.1:9999\n  max_series: 50\n"
		"collector:\n  address: c.example:7443\n  ca: ca.pem\n  cert: n.pem\n  key: n.key\n"
		"  signing_key: sign.key\n  spool_max_bytes: 64\n");
	struct agent_config c;
	char err[256] = "";

	(void)state;
	ASSERT_OK(config_load(&c, path, err, sizeof(err)), err);
	ASSERT_STR_EQ(c.node_id, "node-7", "node id");
	ASSERT_EQ(c.host_country, country_index('A', 'E'), "host country");
	ASSERT_STR_EQ(c.geo_overrides[1], "/tmp/b.txt", "override relative to the file");
	ASSERT_STR_EQ(c.policy, "/etc/customs/policy.yaml", "absolute path kept");
	ASSERT_STR_EQ(c.tls_ca, "/tmp/ca.pem", "TLS file relative to the file");
	ASSERT_EQ(c.n_geo_overrides, 2, "overrides");
	ASSERT_EQ(c.n_xdp, 2, "xdp entries");
	ASSERT_EQ(c.xdp[0].mode, DP_XDP_GENERIC, "generic");
	ASSERT_EQ(c.xdp[1].mode, DP_XDP_NATIVE, "native by default");
	ASSERT_EQ(c.dp.meter_entries, 131072, "meter entries");
	ASSERT_TRUE(c.dp.sample_new_flows, "sample");
	ASSERT_EQ(c.dp.query_inserts_per_sec, 500, "query insert budget");
	ASSERT_STR_EQ(c.dp.pin_dir, "/sys/fs/bpf/c", "pin dir wired into dp config");
	ASSERT_EQ(c.interval_ms, 500, "interval");
	ASSERT_EQ(c.metrics_max_series, 50, "max series");
	ASSERT_EQ(c.spool_max_bytes, 64ull << 20, "spool MiB");
	unlink(path);
}

static void minimal_file_gets_defaults(void **state)
{
	const char *path = write_tmp("policy: p.yaml\ngeo:\n  database: g.mmdb\n");
	struct agent_config c;
	char err[256] = "";

	(void)state;
	ASSERT_OK(config_load(&c, path, err, sizeof(err)), err);
	ASSERT_EQ(c.interval_ms, 10000, "interval default");
	ASSERT_STR_EQ(c.metrics_listen, "127.0.0.1:9462", "metrics default");
	ASSERT_STR_EQ(c.pin_dir, "/sys/fs/bpf/customs", "pin default");
	ASSERT_EQ(c.host_country, COUNTRY_ZZ, "country from policy");
	unlink(path);
}

static void check_error(const char *text, const char *want_suffix)
{
	const char *path = write_tmp(text);
	struct agent_config c;
	char err[256] = "", want[320];

	ASSERT_EQ(config_load(&c, path, err, sizeof(err)), -EINVAL, text);
	snprintf(want, sizeof(want), "%s:%s", path, want_suffix);
	ASSERT_STR_EQ(err, want, "message");
	unlink(path);
}

static void errors_name_file_line_col(void **state)
{
	(void)state;
	check_error("policy: p\ngeo:\n  database: g\nintervall: 5s\n",
		    "4:1: error: unknown key \"intervall\" (did you mean \"interval\"?)");
	check_error("geo:\n  database: g\n",
		    "1:1: error: missing key \"policy\" (the policy file to enforce)");
	check_error("policy: p\ngeo:\n  database: g\nnode:\n  host_country: UK\n",
		    "5:17: error: unknown country \"UK\" (did you mean \"GB\"?)");
	check_error("policy: p\ngeo:\n  database: g\ninterval: soon\n",
		    "4:11: error: interval must be a duration like 10s or 500ms, not \"soon\"");
	check_error("policy: p\ngeo:\n  database: g\ndataplane:\n  xdp:\n    - interface: e\n      mode: turbo\n",
		    "7:13: error: mode must be native or generic, not \"turbo\"");
	check_error("policy: p\ngeo:\n  database: g\ndataplane:\n  ringbuf_bytes: 5000\n",
		    "5:18: error: dataplane.ringbuf_bytes must be a power of two");
	check_error("policy: p\ngeo:\n  database: g\ncollector:\n  address: x:1\n",
		    "5:3: error: collector.address needs ca, cert and key (mutual TLS)");
	check_error("policy: p\ngeo:\n  database: g\ndataplane:\n  meter_entries: lots\n",
		    "5:18: error: dataplane.meter_entries must be a whole number from 16 to 16777216, not \"lots\"");
}

static void durations(void **state)
{
	__u32 ms = 0;

	(void)state;
	ASSERT_OK(parse_duration_ms("10s", &ms), "10s");
	ASSERT_EQ(ms, 10000, "10s value");
	ASSERT_OK(parse_duration_ms("250ms", &ms), "ms");
	ASSERT_EQ(ms, 250, "ms value");
	ASSERT_OK(parse_duration_ms("2m", &ms), "minutes");
	ASSERT_EQ(ms, 120000, "minutes value");
	ASSERT_EQ(parse_duration_ms("0s", &ms), -EINVAL, "zero");
	ASSERT_EQ(parse_duration_ms("5h", &ms), -EINVAL, "hours unsupported");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_file),
		cmocka_unit_test(minimal_file_gets_defaults),
		cmocka_unit_test(errors_name_file_line_col),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests_name("unit/agent_config", tests, NULL, NULL);
}
