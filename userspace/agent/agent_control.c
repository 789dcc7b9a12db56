// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the agent answers: customsctl's requests over the control socket
 * (status, stats, top, events, reload), the /metrics page, and the ring of
 * recent events that `events` shows and `events --follow` streams.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_parts.h"
#include "abi_names.h"
#include "control.h"
#include "country.h"
#include "log.h"

static void event_addr(const struct event *e, const __u32 *a, char *buf, size_t len)
{
	if (e->family == 4)
		inet_ntop(AF_INET, a, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

static void render_event(const struct interval_event *ie, bool json, struct strbuf *out)
{
	const struct event *e = &ie->raw;
	char src[64], dst[64], cc[COUNTRY_STRLEN];

	event_addr(e, e->saddr, src, sizeof(src));
	event_addr(e, e->daddr, dst, sizeof(dst));
	country_str(e->country, cc);
	if (!json) {
		strbuf_printf(out, "%llu %-8s %-4s %-7s %-7s tenant=%s model=%s country=%s "
			      "%s:%u -> %s:%u proto=%u\n",
			      (unsigned long long)ie->unix_ns,
			      event_kind_name(e->kind), layer_name(e->layer),
			      direction_name(e->direction), verdict_name(e->verdict),
			      ie->tenant, ie->model, cc, src, e->sport, dst, e->dport, e->proto);
		return;
	}
	strbuf_printf(out, "{\"unix_ns\": %llu, \"kind\": \"%s\", \"layer\": \"%s\", "
		      "\"direction\": \"%s\", \"verdict\": \"%s\", \"tenant\": ",
		      (unsigned long long)ie->unix_ns, event_kind_name(e->kind),
		      layer_name(e->layer), direction_name(e->direction),
		      verdict_name(e->verdict));
	strbuf_json_str(out, ie->tenant);
	strbuf_puts(out, ", \"model\": ");
	strbuf_json_str(out, ie->model);
	strbuf_printf(out, ", \"country\": \"%s\", \"src\": \"%s\", \"sport\": %u, "
		      "\"dst\": \"%s\", \"dport\": %u, \"proto\": %u}\n",
		      cc, src, e->sport, dst, e->dport, e->proto);
}

void agent_note_event(struct agent *a, const struct interval_event *e)
{
	struct strbuf json, text;

	a->recent[a->recent_head] = *e;
	a->recent_head = (a->recent_head + 1) % AGENT_RECENT_EVENTS;
	if (a->n_recent < AGENT_RECENT_EVENTS)
		a->n_recent++;
	if (a->n_pending_events == a->cap_pending_events) {
		size_t cap = a->cap_pending_events ? a->cap_pending_events * 2 : 64;
		void *p = realloc(a->pending_events, cap * sizeof(*a->pending_events));

		if (!p) {
			/* Counted as lost, like a full ring buffer. */
			a->health.kernel_stats[STAT_EVENTS_LOST]++;
			return;
		}
		a->pending_events = p;
		a->cap_pending_events = cap;
	}
	a->pending_events[a->n_pending_events++] = *e;
	if (!a->ctl.n_followers)
		return;
	strbuf_init(&json);
	strbuf_init(&text);
	render_event(e, true, &json);
	render_event(e, false, &text);
	if (!strbuf_failed(&json) && !strbuf_failed(&text))
		control_server_broadcast(&a->ctl, strbuf_str(&json), strbuf_str(&text));
	strbuf_free(&json);
	strbuf_free(&text);
}

/* Enforcement is degraded when an attach point lost our link. */
static int check_links(const struct agent *a, struct strbuf *problems)
{
	char path[600];
	int i, bad = 0;

	if (a->cfg.cgroup[0]) {
		static const char *const hooks[] = {
			"cgroup-ingress", "cgroup-egress", "cgroup-connect4", "cgroup-connect6",
			"cgroup-sendmsg4", "cgroup-sendmsg6", "cgroup-sockops",
		};
		size_t h;

		for (h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
			snprintf(path, sizeof(path), "%s/links/%s", a->cfg.pin_dir, hooks[h]);
			if (!dp_link_alive(path)) {
				strbuf_printf(problems, "%s%s missing", bad++ ? ", " : "", hooks[h]);
			}
		}
	}
	for (i = 0; i < a->cfg.n_xdp; i++) {
		snprintf(path, sizeof(path), "%s/links/xdp-%s", a->cfg.pin_dir,
			 a->cfg.xdp[i].interface);
		if (!dp_link_alive(path))
			strbuf_printf(problems, "%sxdp on %s missing", bad++ ? ", " : "",
				      a->cfg.xdp[i].interface);
		snprintf(path, sizeof(path), "%s/links/" DP_LINK_UNREACH "%s", a->cfg.pin_dir,
			 a->cfg.xdp[i].interface);
		if (!dp_link_alive(path))
			strbuf_printf(problems, "%stcx egress on %s missing", bad++ ? ", " : "",
				      a->cfg.xdp[i].interface);
	}
	return bad;
}

static int render_status(struct agent *a, bool json, struct strbuf *out)
{
	struct strbuf problems;
	__u32 used, slots;
	int bad, i;

	dp_meter_fill(a->dp, &used, &slots);
	strbuf_init(&problems);
	bad = check_links(a, &problems);
	if (a->health.last_reload_error[0])
		strbuf_printf(&problems, "%slast reload failed: %s", bad++ ? ", " : "",
			      a->health.last_reload_error);
	if (json) {
		strbuf_printf(out, "{\"node\": ");
		strbuf_json_str(out, a->cfg.node_id);
		strbuf_printf(out, ", \"enforcement\": \"%s\", \"problems\": ",
			      bad ? "degraded" : "ok");
		strbuf_json_str(out, strbuf_str(&problems));
		strbuf_printf(out, ", \"pin_dir\": ");
		strbuf_json_str(out, a->cfg.pin_dir);
		strbuf_puts(out, ", \"cgroup\": ");
		strbuf_json_str(out, a->cfg.cgroup);
		strbuf_puts(out, ", \"xdp\": [");
		for (i = 0; i < a->cfg.n_xdp; i++) {
			strbuf_puts(out, i ? ", " : "");
			strbuf_json_str(out, a->cfg.xdp[i].interface);
		}
		strbuf_puts(out, "], \"policy\": ");
		agent_policy_status(a, out, true);
		strbuf_puts(out, ", \"geo\": ");
		agent_geo_status(a, out, true);
		strbuf_puts(out, ", \"telemetry\": ");
		agent_telemetry_status(a, out, true);
		strbuf_puts(out, ", \"guarantees\": ");
		agent_guarantees_status(a, out, true);
		strbuf_printf(out, ", \"intervals\": %llu, \"last_interval_unix_ns\": %llu, "
			      "\"last_interval_us\": %llu, \"reloads_ok\": %llu, "
			      "\"reloads_failed\": %llu, \"counters\": %zu, "
			      "\"counter_slots_used\": %u, \"counter_slots\": %u",
			      (unsigned long long)a->health.intervals,
			      (unsigned long long)a->health.last_interval_unix_ns,
			      (unsigned long long)a->health.last_interval_us,
			      (unsigned long long)a->health.reloads_ok,
			      (unsigned long long)a->health.reloads_failed,
			      a->counters.totals.count, used, slots);
		for (i = 0; i < STAT_MAX; i++)
			strbuf_printf(out, ", \"%s\": %llu", stat_name(i),
				      (unsigned long long)a->health.kernel_stats[i]);
		strbuf_puts(out, "}\n");
	} else {
		strbuf_printf(out, "node:         %s\nenforcement:  %s%s%s\n", a->cfg.node_id,
			      bad ? "DEGRADED: " : "ok", bad ? strbuf_str(&problems) : "", "");
		strbuf_printf(out, "pins:         %s\ncgroup:       %s\n", a->cfg.pin_dir,
			      a->cfg.cgroup[0] ? a->cfg.cgroup : "(none)");
		for (i = 0; i < a->cfg.n_xdp; i++)
			strbuf_printf(out, "xdp:          %s (%s)\n", a->cfg.xdp[i].interface,
				      a->cfg.xdp[i].mode == DP_XDP_NATIVE ? "native" : "generic");
		strbuf_puts(out, "policy:       ");
		agent_policy_status(a, out, false);
		strbuf_puts(out, "\ngeo:          ");
		agent_geo_status(a, out, false);
		strbuf_puts(out, "\ntelemetry:    ");
		agent_telemetry_status(a, out, false);
		strbuf_puts(out, "\nguarantees:");
		agent_guarantees_status(a, out, false);
		strbuf_printf(out, "\nintervals:    %llu (last took %llu us)\n"
			      "reloads:      %llu ok, %llu failed\ncounters:     %zu "
			      "(kernel slots: %u of %u used)\n",
			      (unsigned long long)a->health.intervals,
			      (unsigned long long)a->health.last_interval_us,
			      (unsigned long long)a->health.reloads_ok,
			      (unsigned long long)a->health.reloads_failed,
			      a->counters.totals.count, used, slots);
		for (i = 0; i < STAT_MAX; i++)
			strbuf_printf(out, "%-13s %llu\n", stat_name(i),
				      (unsigned long long)a->health.kernel_stats[i]);
	}
	strbuf_free(&problems);
	return bad;
}

/* Rates per tenant and country over the last interval. */
static void render_top(struct agent *a, struct strbuf *out)
{
	double secs = a->cfg.interval_ms / 1000.0;
	char tb[16], cc[COUNTRY_STRLEN];
	size_t i;

	strbuf_printf(out, "customs top: last interval (%.1f s), %zu counters\n\n", secs,
		      a->n_last_interval);
	strbuf_printf(out, "%-16s %-2s %-7s %-7s %12s %14s\n", "TENANT", "CC", "DIR",
		      "VERDICT", "PKT/S", "BIT/S");
	for (i = 0; i < a->n_last_interval; i++) {
		const struct meter_record *r = &a->last_interval[i];

		country_str(r->key.country, cc);
		strbuf_printf(out, "%-16s %-2s %-7s %-7s %12.0f %14.0f\n",
			      name_of_tenant(&a->names, r->key.tenant, tb, sizeof(tb)), cc,
			      direction_name(r->key.direction), verdict_name(r->key.verdict),
			      r->value.packets / secs, r->value.bytes * 8 / secs);
	}
}

static void send_all(int fd, const struct strbuf *sb)
{
	size_t off = 0;

	while (off < sb->len) {
		size_t n = sb->len - off;

		if (n > CONTROL_MAX_PAYLOAD)
			n = CONTROL_MAX_PAYLOAD;
		if (control_send(fd, CONTROL_DATA, sb->buf + off, n))
			return;
		off += n;
	}
}

bool agent_control(void *ctx, int fd, __u16 type, __u32 flags)
{
	struct agent *a = ctx;
	bool json = flags & CONTROL_F_JSON;
	struct strbuf out;
	char err[1024] = "";
	int status = 0;
	size_t i;

	strbuf_init(&out);
	switch (type) {
	case CONTROL_STATUS:
		if (render_status(a, json, &out))
			status = EIO;
		send_all(fd, &out);
		control_end(fd, status, status ? "enforcement is degraded" : NULL);
		break;
	case CONTROL_STATS:
		/* Counts up to this moment: flush events, totals are per interval. */
		if (json)
			render_stats_json(&a->counters.totals, &a->names, &out);
		else
			render_stats_text(&a->counters.totals, &a->names, &out);
		send_all(fd, &out);
		control_end(fd, 0, NULL);
		break;
	case CONTROL_TOP:
		render_top(a, &out);
		send_all(fd, &out);
		control_end(fd, 0, NULL);
		break;
	case CONTROL_EVENTS:
		dp_events_poll(a->dp, 0);
		for (i = 0; i < a->n_recent; i++) {
			size_t at = (a->recent_head + AGENT_RECENT_EVENTS - a->n_recent + i) %
				    AGENT_RECENT_EVENTS;

			render_event(&a->recent[at], json, &out);
		}
		send_all(fd, &out);
		strbuf_free(&out);
		if (flags & CONTROL_F_FOLLOW)
			return true;
		control_end(fd, 0, NULL);
		break;
	case CONTROL_ALERTS:
		agent_query_render(a, json, &out);
		send_all(fd, &out);
		control_end(fd, 0, NULL);
		break;
	case CONTROL_RELOAD:
		status = agent_reload(a, err, sizeof(err)) ? EINVAL : 0;
		control_end(fd, status, status ? err : NULL);
		break;
	default:
		control_end(fd, EOPNOTSUPP, "unknown request");
		break;
	}
	strbuf_free(&out);
	return false;
}

void agent_render_metrics(void *ctx, struct strbuf *out)
{
	struct agent *a = ctx;
	__u32 used, slots;
	int i;

	dp_meter_fill(a->dp, &used, &slots);
	a->health.metrics_folded +=
		render_prometheus_traffic(&a->counters.totals, &a->names,
					  a->cfg.metrics_max_series, out);
	strbuf_printf(out, "# HELP customs_metrics_folded_series_total Series the cardinality cap folded into tenant=\"_folded\", summed over scrapes.\n"
		      "# TYPE customs_metrics_folded_series_total counter\n"
		      "customs_metrics_folded_series_total %llu\n",
		      (unsigned long long)a->health.metrics_folded);
	strbuf_puts(out, "# HELP customs_kernel_total The data plane's own counters (events lost or rate-limited, overflow, parse errors).\n"
			 "# TYPE customs_kernel_total counter\n");
	for (i = 0; i < STAT_MAX; i++)
		strbuf_printf(out, "customs_kernel_total{counter=\"%s\"} %llu\n", stat_name(i),
			      (unsigned long long)a->health.kernel_stats[i]);
	strbuf_printf(out, "# HELP customs_interval_duration_seconds Time the last interval's work took.\n"
		      "# TYPE customs_interval_duration_seconds gauge\n"
		      "customs_interval_duration_seconds %.6f\n"
		      "# HELP customs_intervals_total Intervals completed.\n"
		      "# TYPE customs_intervals_total counter\n"
		      "customs_intervals_total %llu\n"
		      "# HELP customs_reloads_total Reloads by result.\n"
		      "# TYPE customs_reloads_total counter\n"
		      "customs_reloads_total{result=\"ok\"} %llu\n"
		      "customs_reloads_total{result=\"failed\"} %llu\n"
		      "# HELP customs_counter_keys Distinct counter keys held by the agent.\n"
		      "# TYPE customs_counter_keys gauge\n"
		      "customs_counter_keys %zu\n"
		      "# HELP customs_counter_slots Kernel counter slots of the live key table.\n"
		      "# TYPE customs_counter_slots gauge\n"
		      "customs_counter_slots{state=\"used\"} %u\n"
		      "customs_counter_slots{state=\"capacity\"} %u\n",
		      a->health.last_interval_us / 1e6,
		      (unsigned long long)a->health.intervals,
		      (unsigned long long)a->health.reloads_ok,
		      (unsigned long long)a->health.reloads_failed,
		      a->counters.totals.count, used, slots);
	agent_query_metrics(a, out);
}
