/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * customsd's configuration file (YAML, documented in docs/agent.md):
 * what this node is, which policy and geo data to load, where to attach,
 * where to keep state, how often to report and where to ship telemetry.
 * Every error names file:line:col.
 */
#ifndef CUSTOMS_AGENT_CONFIG_H
#define CUSTOMS_AGENT_CONFIG_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane.h"

#define CONFIG_MAX_XDP		8
#define CONFIG_MAX_OVERRIDES	8
#define CONFIG_PATH_MAX		512

struct config_xdp {
	char interface[16];
	enum dp_xdp_mode mode;
};

struct agent_config {
	char file[CONFIG_PATH_MAX];		/* where it came from */
	char node_id[64];			/* empty: the policy's default */
	__u16 host_country;			/* COUNTRY_ZZ: the policy's default */
	char policy[CONFIG_PATH_MAX];
	char geo_db[CONFIG_PATH_MAX];
	char geo_overrides[CONFIG_MAX_OVERRIDES][CONFIG_PATH_MAX];
	int n_geo_overrides;
	/* AS data for the query-pattern detectors (docs/query-patterns.md). */
	char asn_db[CONFIG_MAX_OVERRIDES][CONFIG_PATH_MAX];
	int n_asn_db;
	char asn_overrides[CONFIG_MAX_OVERRIDES][CONFIG_PATH_MAX];
	int n_asn_overrides;
	char asn_classes[CONFIG_PATH_MAX];
	char cgroup[CONFIG_PATH_MAX];		/* empty: no cgroup programs */
	struct config_xdp xdp[CONFIG_MAX_XDP];
	int n_xdp;
	struct dp_config dp;			/* pin_dir points at pin_dir below */
	char pin_dir[256];
	char state_dir[CONFIG_PATH_MAX];
	char control_socket[CONFIG_PATH_MAX];
	__u32 interval_ms;
	char metrics_listen[64];		/* empty: no metrics endpoint */
	__u32 metrics_max_series;
	char collector[256];			/* host:port; empty: no shipping */
	char tls_ca[CONFIG_PATH_MAX];
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char signing_key[CONFIG_PATH_MAX];
	__u64 spool_max_bytes;
};

/* Fills cfg from a file; on error writes "file:line:col: error: ..." to err. */
int config_load(struct agent_config *cfg, const char *path, char *err, size_t errlen);
/* The defaults every field starts from. */
void config_defaults(struct agent_config *cfg);
/* "10s", "500ms", "2m" -> milliseconds; -EINVAL otherwise. */
int parse_duration_ms(const char *s, __u32 *ms);

#endif
