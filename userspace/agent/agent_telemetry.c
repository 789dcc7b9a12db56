// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's end of the telemetry pipeline: one exporter (exporter.h)
 * that signs, chains and spools each interval record durably, and ships
 * the spool to the collector from the agent's poll loop. Without a
 * signing key nothing is produced (said once at start); with a key but no
 * collector, batches accumulate in the bounded spool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_parts.h"
#include "country.h"
#include "exporter.h"
#include "log.h"
#include "policy.h"

int agent_telemetry_open(struct agent *a)
{
	char state[CONFIG_PATH_MAX + 16], spool[CONFIG_PATH_MAX + 16], err[512] = "";
	char cc[COUNTRY_STRLEN];
	const struct policy *p = agent_policy_live(a);
	struct exporter_config xc = {};
	__u16 host = a->cfg.host_country;
	int rc;

	if (!a->cfg.signing_key[0]) {
		pr_info("telemetry: no collector.signing_key configured: no batches are produced\n");
		return 0;
	}
	if (!a->cfg.node_id[0] && p)
		snprintf(a->cfg.node_id, sizeof(a->cfg.node_id), "%s", policy_node_id(p));
	if (host == COUNTRY_ZZ && p)
		host = policy_node_country(p);
	country_str(host, cc);
	snprintf(state, sizeof(state), "%s/chain", a->cfg.state_dir);
	snprintf(spool, sizeof(spool), "%s/spool", a->cfg.state_dir);
	xc.node_id = a->cfg.node_id;
	xc.host_country = cc;
	xc.key_path = a->cfg.signing_key;
	xc.state_path = state;
	xc.spool_dir = spool;
	xc.spool_max_bytes = a->cfg.spool_max_bytes;
	if (a->cfg.collector[0]) {
		xc.collector = a->cfg.collector;
		xc.tls_ca = a->cfg.tls_ca;
		xc.tls_cert = a->cfg.tls_cert;
		xc.tls_key = a->cfg.tls_key;
	}
	a->exporter = calloc(1, sizeof(*a->exporter));
	if (!a->exporter)
		return -ENOMEM;
	rc = exporter_open(a->exporter, &xc, err, sizeof(err));
	if (rc) {
		pr_warn("telemetry: %s\n", err[0] ? err : strerror(-rc));
		free(a->exporter);
		a->exporter = NULL;
		return rc;
	}
	pr_info("telemetry: node %s (%s), %s\n", a->cfg.node_id, cc,
		xc.collector ? xc.collector : "spool only (no collector.address)");
	return 0;
}

void agent_telemetry_submit(struct agent *a, const struct interval_record *rec)
{
	int rc;

	if (!a->exporter)
		return;
	rc = exporter_submit(a->exporter, rec);
	if (rc) {
		a->health.telemetry_failed++;
		pr_warn("telemetry: spooling the interval failed: %s (counters stay in the "
			"totals)\n", strerror(-rc));
	}
}

void agent_telemetry_pollfd(const struct agent *a, struct pollfd *pfd, int *timeout_ms)
{
	int mine = -1;

	pfd->fd = -1;
	pfd->events = 0;
	if (!a->exporter)
		return;
	/* The exporter says its own deadline (-1: none); the sooner one wins. */
	exporter_pollfd(a->exporter, pfd, &mine);
	if (mine >= 0 && (*timeout_ms < 0 || mine < *timeout_ms))
		*timeout_ms = mine;
}

void agent_telemetry_step(struct agent *a)
{
	if (a->exporter)
		exporter_poll(a->exporter);
}

void agent_telemetry_status(const struct agent *a, struct strbuf *out, bool json)
{
	struct exporter_stats st;

	if (!a->exporter) {
		strbuf_puts(out, json ? "null" : "(off: no signing key)");
		return;
	}
	exporter_get_stats(a->exporter, &st);
	strbuf_printf(out, json ? "{\"epoch\": %llu, \"next_seq\": %llu, \"produced\": %llu, "
				  "\"acked\": %llu, \"rejected\": %llu, \"dropped\": %llu, "
				  "\"pending\": %zu, \"connected\": %s}"
				: "epoch %llu, next seq %llu, %llu produced, %llu acked, "
				  "%llu rejected, %llu dropped, %zu pending, %s",
		      (unsigned long long)st.epoch, (unsigned long long)st.next_seq,
		      (unsigned long long)st.produced, (unsigned long long)st.acked,
		      (unsigned long long)st.rejected, (unsigned long long)st.dropped,
		      st.pending, st.connected ? (json ? "true" : "connected")
					       : (json ? "false" : "not connected"));
}

void agent_telemetry_close(struct agent *a)
{
	if (!a->exporter)
		return;
	exporter_close(a->exporter);
	free(a->exporter);
	a->exporter = NULL;
}
