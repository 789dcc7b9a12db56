// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsd's lifecycle and its one poll() loop: start (validate, compile,
 * load, attach or adopt, fill maps), then every interval read the counters
 * and hand the interval on, answer the control socket and /metrics, drain
 * kernel events, and reload on SIGHUP or request. Signal handlers only set
 * flags; everything happens in the loop.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "abi_names.h"
#include "agent_parts.h"
#include "control.h"
#include "country.h"
#include "log.h"

__u64 unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Kernel time (bpf_ktime_get_ns, monotonic) to wall clock. */
static __u64 kernel_to_unix_ns(__u64 ktime)
{
	struct timespec mono, real;
	__u64 m, r;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	m = (__u64)mono.tv_sec * 1000000000ull + (__u64)mono.tv_nsec;
	r = (__u64)real.tv_sec * 1000000000ull + (__u64)real.tv_nsec;
	return ktime <= m ? r - (m - ktime) : r;
}

static int on_kernel_event(void *ctx, const struct event *e)
{
	struct agent *a = ctx;
	struct interval_event ie;
	char tb[16], mb[16];

	memset(&ie, 0, sizeof(ie));
	ie.unix_ns = kernel_to_unix_ns(e->ts_ns);
	ie.raw = *e;
	snprintf(ie.tenant, sizeof(ie.tenant), "%s",
		 name_of_tenant(&a->names, e->tenant, tb, sizeof(tb)));
	snprintf(ie.model, sizeof(ie.model), "%s",
		 name_of_model(&a->names, e->model, mb, sizeof(mb)));
	agent_note_event(a, &ie);
	return 0;
}

static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		pr_warn("creating %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int agent_attach_all(struct agent *a)
{
	int i, err = 0;

	if (a->cfg.cgroup[0])
		err = dp_attach_cgroup(a->dp, a->cfg.cgroup);
	/* A serving interface: XDP in, and the unreachables and resets the host sends out. */
	for (i = 0; !err && i < a->cfg.n_xdp; i++)
		err = dp_attach_xdp(a->dp, a->cfg.xdp[i].interface, a->cfg.xdp[i].mode) ?:
		      dp_attach_unreach(a->dp, a->cfg.xdp[i].interface);
	return err;
}

int agent_check(struct agent *a, char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	rc = agent_policy_prepare(a, err, errlen);
	if (!rc)
		rc = agent_geo_prepare(a, err, errlen);
	agent_policy_discard(a);
	agent_geo_discard(a);
	return rc;
}

int agent_start(struct agent *a)
{
	struct meter_record *recovered = NULL;
	char path[CONFIG_PATH_MAX + 32], err[1024] = "";
	size_t n_recovered = 0;
	int rc;

	/* Everything that can be checked without touching the kernel, first. */
	rc = ensure_dir(a->cfg.state_dir);
	if (!rc)
		rc = agent_policy_prepare(a, err, sizeof(err));
	if (!rc)
		rc = agent_geo_prepare(a, err, sizeof(err));
	if (rc) {
		pr_warn("%s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	/* Room for models later policies add, without resizing pinned maps. */
	a->cfg.dp.models = agent_policy_model_count(a) * 2 + 64;
	rc = dp_open(&a->dp, &a->cfg.dp);
	if (rc)
		return rc;
	pr_info("data plane %s under %s\n", dp_adopted(a->dp) ? "adopted" : "loaded",
		dp_pin_dir(a->dp));
	/* Maps are filled before programs attach: no packet sees an empty policy. */
	rc = agent_geo_commit(a) ?: agent_policy_commit(a);
	if (rc)
		return rc;
	rc = agent_query_open(a) ?: agent_attach_all(a);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/totals", a->cfg.state_dir);
	rc = counters_open(&a->counters, a->dp, path, &recovered, &n_recovered);
	if (rc)
		return rc;
	if (n_recovered)
		pr_info("recovered %zu counters of an interval an earlier agent did not finish\n",
			n_recovered);
	agent_interval_begin(a, recovered, n_recovered);
	free(recovered);
	agent_guarantees_begin(a);
	rc = dp_events_open(a->dp, on_kernel_event, a);
	if (!rc)
		rc = control_server_open(&a->ctl, a->cfg.control_socket, agent_control, a);
	if (!rc && a->cfg.metrics_listen[0])
		rc = metrics_open(&a->metrics, a->cfg.metrics_listen, agent_render_metrics, a);
	if (!rc)
		rc = agent_telemetry_open(a);
	return rc;
}

static void do_interval(struct agent *a);

int agent_reload(struct agent *a, char *err, size_t errlen)
{
	int rc;

	/* Compile and load beside what is in force; switch only if all is good. */
	rc = agent_policy_prepare(a, err, errlen);
	if (!rc)
		rc = agent_geo_prepare(a, err, errlen);
	if (!rc && agent_policy_model_count(a) > dp_models(a->dp)) {
		snprintf(err, errlen, "the new policy needs model ids up to %u; the access "
			 "matrix holds %u (customsd --detach-all, then start, to resize)",
			 agent_policy_model_count(a), dp_models(a->dp));
		rc = -E2BIG;
	}
	if (!rc) {
		/* Close the interval: each record has one policy and geo table. */
		do_interval(a);
		rc = agent_geo_commit(a) ?: agent_policy_commit(a);
	}
	if (rc) {
		agent_policy_discard(a);
		agent_geo_discard(a);
		a->health.reloads_failed++;
		/* A refused policy is itself on the record, signed. */
		agent_notice(a, NOTICE_POLICY_REFUSED, NULL, 0, "reload refused: %s",
			     err[0] ? err : strerror(-rc));
		snprintf(a->health.last_reload_error, sizeof(a->health.last_reload_error),
			 "%s", err[0] ? err : strerror(-rc));
		pr_warn("reload refused, the previous policy and geo data stay in force: %s\n",
			a->health.last_reload_error);
		return rc;
	}
	a->health.reloads_ok++;
	a->health.last_reload_error[0] = '\0';
	pr_info("reloaded: policy and geo data switched\n");
	return 0;
}

static void do_interval(struct agent *a)
{
	struct meter_record *recs = NULL;
	__u64 t0 = mono_ms();
	size_t n = 0;
	int rc;

	dp_events_poll(a->dp, 0);
	agent_policy_refresh(a);
	rc = counters_interval(&a->counters, &recs, &n);
	if (rc) {
		pr_warn("interval: reading counters: %s\n", strerror(-rc));
		return;
	}
	dp_stats_read(a->dp, a->health.kernel_stats);
	agent_guarantees_interval(a, recs, n);
	agent_query_interval(a, recs, n);
	agent_interval_end(a, recs, n);
	free(a->last_interval);
	a->last_interval = recs;
	a->n_last_interval = n;
	a->health.intervals++;
	a->health.last_interval_unix_ns = unix_ns();
	a->health.last_interval_us = (mono_ms() - t0) * 1000;
	agent_interval_begin(a, NULL, 0);
}

int agent_run(struct agent *a)
{
	__u64 next = mono_ms() + a->cfg.interval_ms;
	char err[1024];

	while (!a->stop) {
		struct pollfd p[4] = {
			{ .fd = a->ctl.fd, .events = POLLIN },
			{ .fd = dp_events_fd(a->dp), .events = POLLIN },
			{ .fd = a->metrics ? metrics_fd(a->metrics) : -1, .events = POLLIN },
		};
		__u64 now = mono_ms();
		int timeout = next > now ? (int)(next - now) : 0;

		agent_telemetry_pollfd(a, &p[3], &timeout);
		if (poll(p, 4, timeout) < 0 && errno != EINTR) {
			pr_warn("poll: %s\n", strerror(errno));
			return -errno;
		}
		if (p[0].revents & POLLIN)
			control_server_accept(&a->ctl);
		if (p[1].revents & POLLIN)
			dp_events_poll(a->dp, 0);
		if (a->metrics)
			metrics_run(a->metrics);
		agent_telemetry_step(a);
		if (a->reload) {
			a->reload = 0;
			err[0] = '\0';
			agent_reload(a, err, sizeof(err));
		}
		if (mono_ms() >= next) {
			do_interval(a);
			next += a->cfg.interval_ms;
			if (next < mono_ms())
				next = mono_ms() + a->cfg.interval_ms;
		}
	}
	/* A last interval, so a clean stop loses nothing. */
	do_interval(a);
	return 0;
}

void agent_stop(struct agent *a)
{
	agent_telemetry_close(a);
	metrics_close(a->metrics);
	a->metrics = NULL;
	control_server_close(&a->ctl);
	counters_close(&a->counters);
	/* Programs and maps stay pinned: enforcement outlives the agent. */
	dp_close(a->dp);
	a->dp = NULL;
	agent_policy_discard(a);
	agent_geo_discard(a);
	agent_policy_free(a);
	agent_geo_free(a);
	agent_guarantees_free(a);
	agent_query_free(a);
	free(a->last_interval);
	free(a->pending_events);
}
