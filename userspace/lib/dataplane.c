// SPDX-License-Identifier: BSD-2-Clause
/* Loader and reader of the data plane; see dataplane.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "geo.h"
#include "strbuf.h"
#include "log.h"
#include "parse.h"
#include "dataplane.skel.h"

struct dp {
	struct dataplane *skel;
	struct ring_buffer *events;
	dp_event_fn event_fn;
	void *event_ctx;
	char pin_dir[256];
	int ncpu;
	bool adopted;
	/* The counters, mapped (bpf/include/meter.h). */
	__u32 slots;			/* per table */
	struct meter_ctl *mctl;
	struct endpoint_ctl *ectl;	/* the endpoint map's generation, mapped */
	struct meter_key *mkeys;	/* 2 * slots */
	struct meter_value *mvals[METER_BUFFERS];	/* [cpu][2 * slots] */
	size_t mkeys_len, mvals_len;
	__u32 live[2];			/* slots of each table counted in the last read */
	int meter_template;		/* meter_active's inner map until the load */
	bool read_once;
	/* Endpoints per port and kind, behind bss->endpoint_ports (access.h). */
	__u32 (*ep_ports)[2];		/* [65536][ENDPOINT_PORTS_*] */
};

/* Maps that outlive an agent: state, counters, policy, events. */
static struct bpf_map **pinned_maps(struct dataplane *s, size_t *n)
{
	static struct bpf_map *list[24];
	size_t i = 0;

	list[i++] = s->maps.meter_buf0;
	list[i++] = s->maps.meter_buf1;
	list[i++] = s->maps.meter_active;
	list[i++] = s->maps.meter_index0;
	list[i++] = s->maps.meter_index1;
	list[i++] = s->maps.meter_keys;
	list[i++] = s->maps.meter_ctl;
	list[i++] = s->maps.tenants;
	list[i++] = s->maps.endpoints;
	list[i++] = s->maps.endpoint_ctl;
	list[i++] = s->maps.access_matrix;
	list[i++] = s->maps.tcp_outcomes;
	list[i++] = s->maps.stats;
	list[i++] = s->maps.events;
	list[i++] = s->maps.event_budget;
	list[i++] = s->maps.geo_live;
	list[i++] = s->maps.query_counts;
	list[i++] = s->maps.query_deny;
	list[i++] = s->maps.query_cache0;
	list[i++] = s->maps.query_cache1;
	list[i++] = s->maps.query_cache_active;
	*n = i;
	return list;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int pin_path(const struct dp *dp, const char *kind, const char *name,
		    char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s/%s", dp->pin_dir, kind, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static __u32 or_default(__u32 v, __u32 dflt)
{
	return v ? v : dflt;
}

/*
 * A map pinned by an earlier instance keeps its size: libbpf reuses a pin
 * only when it matches, and replacing it would drop enforcement state. A
 * configuration asking for another size is told so; --detach-all resizes.
 */
static int size_map(struct bpf_map *map, __u32 want)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	const char *pin = bpf_map__pin_path(map);
	int fd, err;

	fd = pin ? bpf_obj_get(pin) : -1;
	if (fd >= 0) {
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (!err && info.max_entries && info.max_entries != want) {
			pr_warn("dataplane: pinned map %s holds %u entries, the configuration "
				"asks %u: keeping %u (customsd --detach-all, then start, to "
				"resize)\n", bpf_map__name(map), info.max_entries, want,
				info.max_entries);
			want = info.max_entries;
		}
	}
	return bpf_map__set_max_entries(map, want);
}

/*
 * The counter maps follow the index's size, which a pin may have fixed:
 * values are ncpu rows of both tables' slots, the key array both tables.
 */
static int dp_size_meter(struct dp *dp, __u32 want)
{
	struct dataplane *s = dp->skel;
	unsigned long long cells;
	__u32 slots;
	int err;

	err = size_map(s->maps.meter_index0, want);
	if (err)
		return err;
	slots = bpf_map__max_entries(s->maps.meter_index0);
	cells = 2ull * slots * (unsigned long long)dp->ncpu;
	if (cells * sizeof(struct meter_value) > (1ull << 32)) {
		pr_warn("dataplane: %u counter keys on %d CPUs need %llu MiB per buffer: "
			"too many (lower meter_entries)\n", slots, dp->ncpu,
			cells * sizeof(struct meter_value) >> 20);
		return -E2BIG;
	}
	dp->slots = slots;
	dp->skel->rodata->meter_slots = slots;
	err = size_map(s->maps.meter_index1, slots) ?:
	      size_map(s->maps.meter_keys, 2 * slots) ?:
	      size_map(s->maps.meter_buf0, (__u32)cells) ?:
	      size_map(s->maps.meter_buf1, (__u32)cells);
	if (err)
		return err;
	/*
	 * meter_active's inner-map template must match the buffers exactly
	 * (that is what lets the verifier inline lookups into them); libbpf
	 * 1.1 cannot resize the template it makes, so make it here. It lives
	 * until the load.
	 */
	dp->meter_template = bpf_map_create(BPF_MAP_TYPE_ARRAY, "meter_tmpl", sizeof(__u32),
					    sizeof(struct meter_value),
					    bpf_map__max_entries(s->maps.meter_buf0),
					    &(struct bpf_map_create_opts){
						    .sz = sizeof(struct bpf_map_create_opts),
						    .map_flags = BPF_F_MMAPABLE });
	if (dp->meter_template < 0)
		return -errno;
	return bpf_map__set_inner_map_fd(s->maps.meter_active, dp->meter_template);
}

/*
 * Unpins map's pin of an earlier instance when current(fd) says it does
 * not fit this build (0; a negative errno fails), so that the load makes
 * a new one; programs of the earlier instance keep the old map.
 */
static int unpin_unless_current(struct bpf_map *map, int (*current)(int fd), const char *what)
{
	const char *pin = bpf_map__pin_path(map);
	int fd, cur;

	fd = pin ? bpf_obj_get(pin) : -1;
	if (fd < 0)
		return 0;
	cur = current(fd);
	close(fd);
	if (cur)
		return cur < 0 ? cur : 0;
	pr_info("dataplane: pinned map %s holds %s: replacing it\n", pin, what);
	return unlink(pin) ? -errno : 0;
}

/*
 * Outcome counts are cumulative and read only as deltas, so a pinned map
 * an older customs made with a shorter value can be replaced instead of
 * failing the load until --detach-all; the agent measures from its first
 * reading of the new one.
 */
static int outcomes_current(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ||
	       info.value_size == sizeof(struct tcp_outcome);
}

/*
 * The pinned geo_live of an older customs may hold a table of another
 * layout (or size), which this build's programs would misread, and into
 * which this build could not install. Reusing it would also hand the
 * older programs, attached until ours replace them, a table they
 * misread. Replaced, the older programs keep their map and table, ours
 * get a new map, filled before they attach (agent start).
 */
static int dp_retire_old_maps(struct dp *dp)
{
	return unpin_unless_current(dp->skel->maps.tcp_outcomes, outcomes_current,
				    "outcomes of an older customs (another value size)") ?:
	       unpin_unless_current(dp->skel->maps.geo_live, geo_kernel_live_is_current,
				    "no geo table of this customs' layout");
}

static int dp_size_maps(struct dp *dp, const struct dp_config *cfg)
{
	struct dataplane *s = dp->skel;
	int err;

	err = dp_size_meter(dp, or_default(cfg->meter_entries, 65536)) ?:
	      size_map(s->maps.tenants, or_default(cfg->tenant_entries, 4096)) ?:
	      size_map(s->maps.endpoints, or_default(cfg->endpoint_entries, 4096)) ?:
	      size_map(s->maps.tcp_outcomes, or_default(cfg->tcp_entries, 16384)) ?:
	      size_map(s->maps.access_matrix, (cfg->models + 1) * DIR_MAX) ?:
	      size_map(s->maps.events, or_default(cfg->ringbuf_bytes, 1u << 20)) ?:
	      size_map(s->maps.query_counts, or_default(cfg->query_entries, 65536)) ?:
	      size_map(s->maps.query_deny, or_default(cfg->query_deny_entries, 4096));
	if (err)
		pr_warn("dataplane: sizing maps: %s\n", strerror(-err));
	return err;
}

static int dp_set_pins(struct dp *dp, bool *found)
{
	char path[PATH_MAX];
	struct bpf_map **maps;
	size_t n, i;
	int err;

	*found = false;
	maps = pinned_maps(dp->skel, &n);
	for (i = 0; i < n; i++) {
		err = pin_path(dp, "maps", bpf_map__name(maps[i]), path, sizeof(path));
		if (err)
			return err;
		if (!access(path, F_OK))
			*found = true;
		err = bpf_map__set_pin_path(maps[i], path);
		if (err)
			return err;
	}
	return 0;
}

static void *map_mmap(struct bpf_map *map, size_t *len)
{
	void *p;

	*len = (size_t)bpf_map__max_entries(map) * bpf_map__value_size(map);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Maps the counters into this process. A table never used gets its
 * overflow key in slot 0 and starts allocating at 1; a pinned one is
 * taken as it is.
 */
static int dp_meter_map(struct dp *dp)
{
	struct dataplane *s = dp->skel;
	size_t len;
	int t;

	dp->mctl = map_mmap(s->maps.meter_ctl, &len);
	dp->mkeys = dp->mctl ? map_mmap(s->maps.meter_keys, &dp->mkeys_len) : NULL;
	dp->mvals[0] = dp->mkeys ? map_mmap(s->maps.meter_buf0, &dp->mvals_len) : NULL;
	dp->mvals[1] = dp->mvals[0] ? map_mmap(s->maps.meter_buf1, &dp->mvals_len) : NULL;
	if (!dp->mvals[1]) {
		pr_warn("dataplane: mapping the counters: %s\n", strerror(errno));
		return -errno;
	}
	for (t = 0; t < 2; t++) {
		if (__atomic_load_n(&dp->mctl->next[t], __ATOMIC_ACQUIRE))
			continue;
		dp->mkeys[(size_t)t * dp->slots] =
			(struct meter_key){ .tenant = METER_OVERFLOW_TENANT };
		__atomic_store_n(&dp->mctl->next[t], 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static void dp_meter_unmap(struct dp *dp)
{
	if (dp->mctl)
		munmap(dp->mctl, sizeof(*dp->mctl));
	if (dp->mkeys)
		munmap(dp->mkeys, dp->mkeys_len);
	if (dp->mvals[0])
		munmap(dp->mvals[0], dp->mvals_len);
	if (dp->mvals[1])
		munmap(dp->mvals[1], dp->mvals_len);
}

/* The prefix masks the kernel applies, from the configured lengths. */
static int dp_query_setup(struct dp *dp, const struct dp_config *cfg)
{
	__u8 p4 = cfg->query_v4_prefix ? cfg->query_v4_prefix : 24;
	__u8 p6 = cfg->query_v6_prefix ? cfg->query_v6_prefix : 48;
	struct query_key k;
	__u32 ones[4] = { ~0u, ~0u, ~0u, ~0u };

	if (p4 > 32 || p6 > 128) {
		pr_warn("dataplane: query prefix lengths /%u and /%u: at most /32 and /128\n",
			p4, p6);
		return -EINVAL;
	}
	dp->skel->rodata->query_enabled = !cfg->query_off;
	dp->skel->rodata->query_inserts_per_sec = or_default(cfg->query_inserts_per_sec, 10000);
	dp->skel->rodata->query_inserts_burst = 2 * dp->skel->rodata->query_inserts_per_sec;
	dp_query_key(&k, 0, 4, ones, p4);
	dp->skel->rodata->query_v4_mask = k.addr[0];
	dp->skel->rodata->query_v4_plen = p4;
	dp_query_key(&k, 0, 6, ones, p6);
	memcpy((void *)dp->skel->rodata->query_v6_mask, k.addr, sizeof(k.addr));
	dp->skel->rodata->query_v6_plen = p6;
	return 0;
}

static int endpoint_kind(const struct endpoint_key *key)
{
	return key->addr[0] | key->addr[1] | key->addr[2] | key->addr[3] ?
	       ENDPOINT_PORTS_EXACT : ENDPOINT_PORTS_WILDCARD;
}

/* Sets or clears the kernel's bit of key's port and kind. */
static void endpoint_port_bit(struct dp *dp, const struct endpoint_key *key, bool on)
{
	__u64 *word = &dp->skel->bss->endpoint_ports[key->port >> 6][endpoint_kind(key)];
	__u64 bit = 1ull << (key->port & 63);

	if (on)
		__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST);
}

/*
 * After a change to the endpoint map: XDP's cached answers from before it
 * stop matching (endpoint_cache in access.h).
 */
static void endpoint_changed(struct dp *dp)
{
	__atomic_fetch_add(&dp->ectl->gen, 1, __ATOMIC_SEQ_CST);
}

/*
 * The endpoint state of a freshly loaded program: the (pinned) generation
 * mapped, and the served-port filter filled from the endpoint map (pinned,
 * so an adopted one already holds the earlier agent's endpoints), before
 * any program of this load is attached.
 */
static int dp_endpoints_load(struct dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.endpoints);
	struct endpoint_key key, next;
	void *prev = NULL;
	size_t len;

	dp->ectl = map_mmap(dp->skel->maps.endpoint_ctl, &len);
	if (!dp->ectl) {
		pr_warn("dataplane: mapping endpoint_ctl: %s\n", strerror(errno));
		return -errno;
	}
	dp->ep_ports = calloc(65536, sizeof(*dp->ep_ports));
	if (!dp->ep_ports)
		return -ENOMEM;
	memset(dp->skel->bss->endpoint_ports, 0, sizeof(dp->skel->bss->endpoint_ports));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (dp->ep_ports[key.port][endpoint_kind(&key)]++ == 0)
			endpoint_port_bit(dp, &key, true);
	}
	return errno == ENOENT ? 0 : -errno;
}

int dp_open(struct dp **out, const struct dp_config *cfg)
{
	struct dp *dp;
	bool found;
	int err;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->meter_template = -1;
	if (snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s",
		     cfg->pin_dir ? cfg->pin_dir : DP_PIN_DIR_DEFAULT) >=
	    (int)sizeof(dp->pin_dir)) {
		pr_warn("dataplane: pin directory %s: longer than %zu bytes\n",
			cfg->pin_dir, sizeof(dp->pin_dir) - 1);
		free(dp);
		return -ENAMETOOLONG;
	}
	dp->ncpu = libbpf_num_possible_cpus();
	if (dp->ncpu <= 0) {
		err = dp->ncpu ? dp->ncpu : -EINVAL;
		goto fail;
	}
	dp->skel = dataplane__open();
	if (!dp->skel) {
		err = -errno;
		pr_warn("dataplane: open: %s\n", strerror(errno));
		goto fail;
	}
	dp->skel->rodata->events_per_sec = or_default(cfg->events_per_sec, 1000);
	dp->skel->rodata->events_burst =
		or_default(cfg->events_burst, 2 * dp->skel->rodata->events_per_sec);
	dp->skel->rodata->sample_new_flows = cfg->sample_new_flows;
	err = dp_query_setup(dp, cfg);
	if (err)
		goto fail;
	err = mkdir_p(dp->pin_dir);
	if (!err) {
		char maps_dir[PATH_MAX];

		snprintf(maps_dir, sizeof(maps_dir), "%s/maps", dp->pin_dir);
		err = mkdir_p(maps_dir) ?: dp_set_pins(dp, &found) ?:
		      dp_retire_old_maps(dp) ?: dp_size_maps(dp, cfg);
	}
	if (err) {
		pr_warn("dataplane: pin directory %s: %s\n", dp->pin_dir, strerror(-err));
		goto fail;
	}
	err = dataplane__load(dp->skel);
	close(dp->meter_template);
	dp->meter_template = -1;
	if (err) {
		pr_warn("dataplane: load: %s%s\n", strerror(-err),
			found ? " (pinned maps of an earlier instance differ in size or"
				" type: change the configuration back, or run"
				" customsd --detach-all first)" : "");
		goto fail;
	}
	dp->adopted = found;
	err = dp_meter_map(dp) ?: dp_endpoints_load(dp);
	if (err)
		goto fail;
	*out = dp;
	return 0;
fail:
	dp_close(dp);
	return err;
}

void dp_close(struct dp *dp)
{
	if (!dp)
		return;
	ring_buffer__free(dp->events);
	dp_meter_unmap(dp);
	if (dp->ectl)
		munmap(dp->ectl, sizeof(*dp->ectl));
	if (dp->meter_template >= 0)
		close(dp->meter_template);
	dataplane__destroy(dp->skel);
	free(dp->ep_ports);
	free(dp);
}

__u32 dp_models(const struct dp *dp)
{
	return bpf_map__max_entries(dp->skel->maps.access_matrix) / DIR_MAX - 1;
}

bool dp_adopted(const struct dp *dp)
{
	return dp->adopted;
}

const char *dp_pin_dir(const struct dp *dp)
{
	return dp->pin_dir;
}

struct dataplane *dp_skeleton(struct dp *dp)
{
	return dp->skel;
}

/*
 * Attach prog through a link pinned at links/name. A pinned link of an
 * earlier instance gets the new program swapped in atomically instead.
 */
static int dp_link(struct dp *dp, struct bpf_program *prog, const char *name,
		   int target_fd, enum bpf_attach_type type, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	char path[PATH_MAX], dir[PATH_MAX];
	int fd, err;

	err = pin_path(dp, "links", name, path, sizeof(path));
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s/links", dp->pin_dir);
	err = mkdir_p(dir);
	if (err)
		return err;
	if (!access(path, F_OK) && !dp_link_alive(path)) {
		/* Detached by someone: its pin holds a dead link. Make a new one. */
		pr_warn("dataplane: %s: pinned link %s was detached; attaching anew\n",
			name, path);
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, bpf_program__fd(prog), NULL);
		if (err)
			pr_warn("dataplane: %s: replacing the program in pinned link %s: %s\n",
				name, path, strerror(errno));
		else
			pr_info("dataplane: %s: adopted pinned link, program replaced\n",
				name);
		close(fd);
		return err ? -errno : 0;
	}
	fd = bpf_link_create(bpf_program__fd(prog), target_fd, type, &opts);
	if (fd < 0)
		return -errno;
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (err)
		pr_warn("dataplane: %s: pinning link at %s: %s\n", name, path,
			strerror(-err));
	close(fd);
	return err;
}

struct cgroup_hook {
	struct bpf_program *prog;
	const char *name;		/* of its pinned link */
	enum bpf_attach_type type;
};

#define N_CGROUP_HOOKS 7

static void cgroup_hooks(struct dp *dp, struct cgroup_hook hooks[N_CGROUP_HOOKS])
{
	struct dataplane *s = dp->skel;
	const struct cgroup_hook all[N_CGROUP_HOOKS] = {
		{ s->progs.skb_ingress, "cgroup-ingress", BPF_CGROUP_INET_INGRESS },
		{ s->progs.skb_egress, "cgroup-egress", BPF_CGROUP_INET_EGRESS },
		{ s->progs.connect4, "cgroup-connect4", BPF_CGROUP_INET4_CONNECT },
		{ s->progs.connect6, "cgroup-connect6", BPF_CGROUP_INET6_CONNECT },
		{ s->progs.sendmsg4, "cgroup-sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
		{ s->progs.sendmsg6, "cgroup-sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
		{ s->progs.sockops_outcomes, "cgroup-sockops", BPF_CGROUP_SOCK_OPS },
	};

	memcpy(hooks, all, sizeof(all));
}

/* What a pinned link of ours looks like now. */
static const char *link_problem(struct dp *dp, const char *name, struct bpf_program *prog)
{
	struct bpf_prog_info pinfo = {};
	struct bpf_link_info info = {};
	__u32 len = sizeof(info), plen = sizeof(pinfo);
	char path[PATH_MAX];
	const char *problem = NULL;
	int fd;

	if (pin_path(dp, "links", name, path, sizeof(path)))
		return "unnamed";
	fd = bpf_obj_get(path);
	if (fd < 0)
		return "missing";
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pinfo, &plen))
		problem = "unreadable";
	else if (!dp_link_alive(path))
		problem = "detached";
	else if (info.prog_id != pinfo.id)
		problem = "runs another program";
	close(fd);
	return problem;
}

int dp_verify_links(struct dp *dp, bool cgroup, const char *const *ifnames, int n_ifnames,
		    struct strbuf *report)
{
	struct cgroup_hook hooks[N_CGROUP_HOOKS];
	char name[DP_LINK_NAME_MAX];
	const char *problem;
	int i, bad = 0;

	cgroup_hooks(dp, hooks);
	for (i = 0; cgroup && i < N_CGROUP_HOOKS; i++) {
		problem = link_problem(dp, hooks[i].name, hooks[i].prog);
		if (problem)
			strbuf_printf(report, "%slink %s %s", bad++ ? "; " : "", hooks[i].name,
				      problem);
	}
	for (i = 0; i < n_ifnames; i++) {
		snprintf(name, sizeof(name), "xdp-%s", ifnames[i]);
		problem = link_problem(dp, name, dp->skel->progs.xdp_ingress);
		if (problem)
			strbuf_printf(report, "%slink %s %s", bad++ ? "; " : "", name, problem);
		snprintf(name, sizeof(name), DP_LINK_UNREACH "%s", ifnames[i]);
		problem = link_problem(dp, name, dp->skel->progs.tc_unreach_egress);
		if (problem)
			strbuf_printf(report, "%slink %s %s", bad++ ? "; " : "", name, problem);
	}
	return bad;
}

int dp_attach_cgroup(struct dp *dp, const char *cgroup_path)
{
	struct cgroup_hook hooks[N_CGROUP_HOOKS];
	size_t i;
	int cg, err = 0;

	cgroup_hooks(dp, hooks);

	cg = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		pr_warn("dataplane: cgroup %s: %s (is it a cgroup v2 directory?)\n",
			cgroup_path, strerror(errno));
		return err;
	}
	for (i = 0; i < N_CGROUP_HOOKS; i++) {
		/* bpf_link attachments are multi-attach: others' programs stay. */
		err = dp_link(dp, hooks[i].prog, hooks[i].name, cg, hooks[i].type, 0);
		if (err) {
			pr_warn("dataplane: attaching %s to %s: %s\n", hooks[i].name,
				cgroup_path, strerror(-err));
			break;
		}
	}
	close(cg);
	return err;
}

bool dp_link_alive(const char *pin_path)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	bool alive = false;
	int fd;

	fd = bpf_obj_get(pin_path);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		/* A link someone detached stays pinned but has lost its target. */
		if (info.type == BPF_LINK_TYPE_CGROUP)
			alive = info.cgroup.cgroup_id != 0;
		else if (info.type == BPF_LINK_TYPE_XDP)
			alive = info.xdp.ifindex != 0;
		else if (info.type == ABI_BPF_LINK_TYPE_TCX)
			/* Older headers lack info.tcx: its ifindex is where xdp's is. */
			alive = info.xdp.ifindex != 0;
		else
			alive = true;
	}
	close(fd);
	return alive;
}

/* Says who holds an interface's XDP slot when it is not us. */
static void dp_explain_xdp_busy(const char *ifname, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id) {
		pr_warn("dataplane: %s already has an XDP program attached\n", ifname);
		return;
	}
	fd = bpf_prog_get_fd_by_id(q.prog_id);
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		pr_warn("dataplane: %s already has XDP program id %u ('%s'); customs"
			" never replaces another program: detach it (ip link set dev"
			" %s xdp off) or chain both through libxdp's dispatcher\n",
			ifname, q.prog_id, info.name, ifname);
	else
		pr_warn("dataplane: %s already has XDP program id %u\n", ifname,
			q.prog_id);
	if (fd >= 0)
		close(fd);
}

int dp_attach_xdp(struct dp *dp, const char *ifname, enum dp_xdp_mode mode)
{
	char name[DP_LINK_NAME_MAX];
	__u32 flags = mode == DP_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	int ifindex, err;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		pr_warn("dataplane: interface %s: %s\n", ifname, strerror(errno));
		return -ENODEV;
	}
	snprintf(name, sizeof(name), "xdp-%s", ifname);
	err = dp_link(dp, dp->skel->progs.xdp_ingress, name, ifindex, BPF_XDP, flags);
	if (err == -EBUSY || err == -EEXIST)
		dp_explain_xdp_busy(ifname, ifindex);
	else if (err == -EOPNOTSUPP && mode == DP_XDP_NATIVE)
		pr_warn("dataplane: %s: the driver has no native XDP; choose generic"
			" mode explicitly (customs never falls back silently)\n", ifname);
	else if (err)
		pr_warn("dataplane: attaching XDP to %s: %s\n", ifname, strerror(-err));
	return err;
}

/*
 * tcx is multi-attach: our link is appended after whatever runs there and
 * passes every packet on, so other programs on the interface are never
 * disturbed. libbpf 1.1 has no bpf_program__attach_tcx(), but its
 * bpf_link_create() passes target_fd, the union member the kernel reads
 * as target_ifindex for tcx.
 */
int dp_attach_unreach(struct dp *dp, const char *ifname)
{
	char name[DP_LINK_NAME_MAX];
	int ifindex, err;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		pr_warn("dataplane: interface %s: %s\n", ifname, strerror(errno));
		return -ENODEV;
	}
	snprintf(name, sizeof(name), DP_LINK_UNREACH "%s", ifname);
	err = dp_link(dp, dp->skel->progs.tc_unreach_egress, name, ifindex,
		      (enum bpf_attach_type)ABI_BPF_TCX_EGRESS, 0);
	if (err)
		pr_warn("dataplane: attaching the unreachable counter to %s egress (tcx):"
			" %s%s\n", ifname, strerror(-err),
			err == -EINVAL ? " (tcx needs kernel 6.6 or later)" : "");
	return err;
}

/* Removes every pin in dir; links are detached first, synchronously. */
static int unlink_dir(const char *dir, bool links)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (links) {
			/*
			 * Dropping the last reference detaches a link only
			 * later, from a workqueue; an explicit detach is done
			 * when it returns.
			 */
			int fd = bpf_obj_get(path);

			if (fd >= 0) {
				if (bpf_link_detach(fd) && errno != EINVAL)
					err = -errno;
				close(fd);
			}
		}
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = err ?: -errno;
	return err;
}

int dp_detach_all(const char *pin_dir)
{
	char path[PATH_MAX];
	int err;

	if (!pin_dir)
		pin_dir = DP_PIN_DIR_DEFAULT;
	/* Links first: unpinning the last reference detaches the program. */
	snprintf(path, sizeof(path), "%s/links", pin_dir);
	err = unlink_dir(path, true);
	snprintf(path, sizeof(path), "%s/maps", pin_dir);
	err = unlink_dir(path, false) ?: err;
	if (rmdir(pin_dir) && errno != ENOENT)
		err = err ?: -errno;
	if (err)
		pr_warn("dataplane: removing %s: %s\n", pin_dir, strerror(-err));
	return err;
}

int dp_set_tenant(struct dp *dp, __u64 cgroup_id, const struct tenant_info *who)
{
	return bpf_map__update_elem(dp->skel->maps.tenants, &cgroup_id,
				    sizeof(cgroup_id), who, sizeof(*who), BPF_ANY);
}

int dp_del_tenant(struct dp *dp, __u64 cgroup_id)
{
	return bpf_map__delete_elem(dp->skel->maps.tenants, &cgroup_id,
				    sizeof(cgroup_id), 0);
}

int dp_set_endpoint(struct dp *dp, const struct endpoint_key *key,
		    const struct tenant_info *who)
{
	struct tenant_info old;
	bool known = !bpf_map__lookup_elem(dp->skel->maps.endpoints, key, sizeof(*key),
					   &old, sizeof(old), 0);
	int err;

	err = bpf_map__update_elem(dp->skel->maps.endpoints, key, sizeof(*key),
				   who, sizeof(*who), BPF_ANY);
	if (err)
		return err;
	/* The entry first, then its bit: a lookup never misses a set entry. */
	if (!known && dp->ep_ports[key->port][endpoint_kind(key)]++ == 0)
		endpoint_port_bit(dp, key, true);
	/* Last: XDP's cached answers from before retire (access.h). */
	endpoint_changed(dp);
	return 0;
}

int dp_del_endpoint(struct dp *dp, const struct endpoint_key *key)
{
	__u32 *n = &dp->ep_ports[key->port][endpoint_kind(key)];
	struct tenant_info old;
	int err;

	if (bpf_map__lookup_elem(dp->skel->maps.endpoints, key, sizeof(*key),
				 &old, sizeof(old), 0))
		return -ENOENT;
	/* The bit first when this is the port's last entry of its kind. */
	if (*n == 1)
		endpoint_port_bit(dp, key, false);
	err = bpf_map__delete_elem(dp->skel->maps.endpoints, key, sizeof(*key), 0);
	if (err && *n == 1)
		endpoint_port_bit(dp, key, true);
	else if (!err && *n)
		(*n)--;
	/* Last, failed or not: a lookup may have seen the bit clear meanwhile. */
	endpoint_changed(dp);
	return err;
}

int dp_set_access_row(struct dp *dp, __u32 model, enum direction dir,
		      const struct access_row *row)
{
	__u32 key = access_row_key(model, dir);

	return bpf_map__update_elem(dp->skel->maps.access_matrix, &key,
				    sizeof(key), row, sizeof(*row), BPF_ANY);
}

int dp_get_access_row(struct dp *dp, __u32 model, enum direction dir, struct access_row *row)
{
	__u32 key = access_row_key(model, dir);

	return bpf_map__lookup_elem(dp->skel->maps.access_matrix, &key, sizeof(key), row,
				    sizeof(*row), 0);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Which of two buffers a one-slot array of maps holds: 0, 1, or -errno. */
static int outer_active(const struct bpf_map *outer, const struct bpf_map *buf0,
			const struct bpf_map *buf1)
{
	__u32 zero = 0, id = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(outer), &zero, &id))
		return -errno;
	if (id == map_id(bpf_map__fd(buf0)))
		return 0;
	if (id == map_id(bpf_map__fd(buf1)))
		return 1;
	return -ENOENT;
}

/* The buffer the kernel writes now, from the outer map's slot. */
int dp_meter_active(struct dp *dp)
{
	return outer_active(dp->skel->maps.meter_active, dp->skel->maps.meter_buf0,
			    dp->skel->maps.meter_buf1);
}

static struct bpf_map *dp_buffer(struct dp *dp, int which)
{
	return which ? dp->skel->maps.meter_buf1 : dp->skel->maps.meter_buf0;
}

/* The key table new keys go into. */
static int live_table(const struct dp *dp)
{
	return (int)(__atomic_load_n(&dp->mctl->epoch, __ATOMIC_ACQUIRE) & 1);
}

static struct bpf_map *meter_index(struct dp *dp, int t)
{
	return t ? dp->skel->maps.meter_index1 : dp->skel->maps.meter_index0;
}

/* Slots of table t that may hold counts: [base, end). */
static void table_range(const struct dp *dp, int t, size_t *base, size_t *end)
{
	__u32 next = __atomic_load_n(&dp->mctl->next[t], __ATOMIC_ACQUIRE);

	*base = (size_t)t * dp->slots;
	*end = *base + (next < dp->slots ? next : dp->slots);
}

/*
 * Whether the live table should give way to the other: it is full, or
 * three quarters full while at most half its keys were counted in the
 * last interval read (the rest are keys no longer seen).
 */
static bool meter_switch_due(const struct dp *dp, int t)
{
	__u32 used = __atomic_load_n(&dp->mctl->next[t], __ATOMIC_ACQUIRE);

	if (used >= dp->slots)
		return true;
	return dp->read_once && (__u64)used * 4 >= (__u64)dp->slots * 3 &&
	       (__u64)dp->live[t] * 2 <= used;
}

int dp_meter_flip(struct dp *dp)
{
	int active = dp_meter_active(dp), next_fd, t;
	__u32 zero = 0;

	if (active < 0)
		return active;
	t = live_table(dp);
	/*
	 * Switch tables with the buffers. The other table is empty (drain
	 * is clear only once it has been emptied); both buffers may get
	 * counts of the old one until they have each been read once more.
	 */
	if (!__atomic_load_n(&dp->mctl->drain, __ATOMIC_ACQUIRE) &&
	    meter_switch_due(dp, t)) {
		__atomic_store_n(&dp->mctl->drain, 3, __ATOMIC_RELEASE);
		__atomic_fetch_add(&dp->mctl->epoch, 1, __ATOMIC_ACQ_REL);
		pr_info("dataplane: counter keys: table %d holds %u of %u slots, %u counted "
			"last interval: new keys go to table %d\n", t,
			dp->mctl->next[t], dp->slots, dp->live[t], !t);
	}
	next_fd = bpf_map__fd(dp_buffer(dp, !active));
	/*
	 * The update of an array of maps returns after an RCU grace period:
	 * from then on no program holds the retired buffer.
	 */
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.meter_active), &zero,
				&next_fd, BPF_ANY))
		return -errno;
	return 0;
}

static int cmp_meter_key(const void *a, const void *b)
{
	return memcmp(&((const struct meter_record *)a)->key,
		      &((const struct meter_record *)b)->key, sizeof(struct meter_key));
}

/* One record per key: a key counted through both tables is summed. */
static size_t merge_records(struct meter_record *r, size_t n)
{
	size_t i, out = 0;

	qsort(r, n, sizeof(*r), cmp_meter_key);
	for (i = 0; i < n; i++) {
		if (out && !cmp_meter_key(&r[out - 1], &r[i])) {
			r[out - 1].value.packets += r[i].value.packets;
			r[out - 1].value.bytes += r[i].value.bytes;
			continue;
		}
		r[out++] = r[i];
	}
	return out;
}

int dp_meter_read(struct dp *dp, struct meter_record **out, size_t *n)
{
	size_t row = 2 * (size_t)dp->slots, cnt = 0, cap = 0, base, end, s;
	const struct meter_value *vals;
	struct meter_record *recs;
	int active, t, c, tables = 0;

	active = dp_meter_active(dp);
	if (active < 0)
		return active;
	vals = dp->mvals[!active];
	for (t = 0; t < 2; t++) {
		table_range(dp, t, &base, &end);
		cap += end - base;
	}
	recs = malloc((cap ? cap : 1) * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (t = 0; t < 2; t++) {
		size_t first = cnt;

		table_range(dp, t, &base, &end);
		for (s = base; s < end; s++) {
			__u64 packets = 0, bytes = 0;

			for (c = 0; c < dp->ncpu; c++) {
				packets += vals[(size_t)c * row + s].packets;
				bytes += vals[(size_t)c * row + s].bytes;
			}
			/* Empty slots (and an empty overflow bucket) are not reported. */
			if (!packets && !bytes)
				continue;
			recs[cnt].key = dp->mkeys[s];
			recs[cnt].value.packets = packets;
			recs[cnt].value.bytes = bytes;
			cnt++;
		}
		dp->live[t] = (__u32)(cnt - first);
		tables += cnt > first;
	}
	dp->read_once = true;
	*out = recs;
	*n = tables > 1 ? merge_records(recs, cnt) : cnt;
	return 0;
}

/*
 * Empties the table no longer in use once no buffer can hold its counts:
 * its keys leave the index (every one is in meter_keys) and it allocates
 * from slot 1 again. Safe to repeat after a crash.
 */
static int meter_empty_old_table(struct dp *dp)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int old = !live_table(dp), fd = bpf_map__fd(meter_index(dp, old));
	size_t base, end, at;

	if (__atomic_load_n(&dp->mctl->drain, __ATOMIC_ACQUIRE))
		return 0;
	table_range(dp, old, &base, &end);
	/* Slot base is the overflow bucket, never in the index. */
	for (at = base + 1; at < end;) {
		__u32 count = (__u32)(end - at);

		if (!bpf_map_delete_batch(fd, &dp->mkeys[at], &count, &opts))
			break;
		if (errno != ENOENT)
			return -errno;
		/*
		 * A slot that lost a race to publish its key repeats a key
		 * already deleted: skip it.
		 */
		at += count + 1;
	}
	if (end - base > 1)
		__atomic_store_n(&dp->mctl->next[old], 1, __ATOMIC_RELEASE);
	return 0;
}

int dp_meter_clear_buffer(struct dp *dp, int which)
{
	size_t row = 2 * (size_t)dp->slots, base, end;
	struct meter_value *vals = dp->mvals[which & 1];
	int t, c;

	for (t = 0; t < 2; t++) {
		table_range(dp, t, &base, &end);
		for (c = 0; c < dp->ncpu; c++)
			memset(&vals[(size_t)c * row + base], 0, (end - base) * sizeof(*vals));
	}
	__atomic_and_fetch(&dp->mctl->drain, ~(1u << (which & 1)), __ATOMIC_ACQ_REL);
	return meter_empty_old_table(dp);
}

int dp_meter_clear(struct dp *dp)
{
	int active = dp_meter_active(dp);

	if (active < 0)
		return active;
	return dp_meter_clear_buffer(dp, !active);
}

void dp_meter_fill(struct dp *dp, __u32 *used, __u32 *slots)
{
	size_t base, end;

	table_range(dp, live_table(dp), &base, &end);
	*used = (__u32)(end - base);
	*slots = dp->slots;
}

int dp_meter_inject(struct dp *dp, const struct meter_key *keys,
		    const struct meter_value *vals, size_t n)
{
	size_t row = 2 * (size_t)dp->slots, i;
	struct bpf_map *index;
	struct meter_value *buf;
	int active = dp_meter_active(dp), t, c;

	if (active < 0)
		return active;
	buf = dp->mvals[active];
	t = live_table(dp);
	index = meter_index(dp, t);
	for (i = 0; i < n; i++) {
		__u32 slot;

		if (bpf_map__lookup_elem(index, &keys[i], sizeof(keys[i]), &slot,
					 sizeof(slot), 0)) {
			slot = __atomic_fetch_add(&dp->mctl->next[t], 1, __ATOMIC_ACQ_REL);
			if (slot >= dp->slots)
				return -E2BIG;
			slot += (__u32)t * dp->slots;
			dp->mkeys[slot] = keys[i];
			if (bpf_map__update_elem(index, &keys[i], sizeof(keys[i]), &slot,
						 sizeof(slot), BPF_NOEXIST))
				return -errno;
		}
		for (c = 0; c < dp->ncpu; c++) {
			buf[(size_t)c * row + slot].packets += vals[i * (size_t)dp->ncpu + c].packets;
			buf[(size_t)c * row + slot].bytes += vals[i * (size_t)dp->ncpu + c].bytes;
		}
	}
	return 0;
}

/*
 * Reads every entry of a per-CPU hash in batches: keys of ks bytes, values
 * of vs bytes per CPU. Returns the keys and values arrays and the count.
 */
#define DP_BATCH 4096

static int read_percpu_hash(int fd, size_t ks, size_t vs, int ncpu,
			    void **keys_out, void **vals_out, size_t *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u8 *keys = NULL, *vals = NULL;
	size_t cnt = 0, cap = 0;
	__u64 token = 0;
	bool first = true;
	int err = 0;

	for (;;) {
		__u32 got = DP_BATCH;

		if (cnt + DP_BATCH > cap) {
			size_t ncap = cap ? cap * 2 : DP_BATCH * 2;
			void *k = realloc(keys, ncap * ks);
			void *v = k ? realloc(vals, ncap * vs * (size_t)ncpu) : NULL;

			if (k)
				keys = k;
			if (!v) {
				err = -ENOMEM;
				break;
			}
			vals = v;
			cap = ncap;
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token,
					   keys + cnt * ks,
					   vals + cnt * vs * (size_t)ncpu, &got, &opts);
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		cnt += got;
		first = false;
		if (err) {	/* ENOENT: that was the last batch */
			err = 0;
			break;
		}
	}
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*keys_out = keys;
	*vals_out = vals;
	*n = cnt;
	return 0;
}

static void tcp_sum(struct tcp_outcome_record *r, const struct meter_key *key,
		    const struct tcp_outcome *v, int ncpu)
{
	int i;

	r->key = *key;
	memset(&r->value, 0, sizeof(r->value));
	for (i = 0; i < ncpu; i++) {
		r->value.attempts += v[i].attempts;
		r->value.established += v[i].established;
		r->value.resets_sent += v[i].resets_sent;
		r->value.attempts_refused += v[i].attempts_refused;
		r->value.unreach_sent += v[i].unreach_sent;
		r->value.attempts_reset += v[i].attempts_reset;
	}
}

int dp_tcp_read(struct dp *dp, struct tcp_outcome_record **out, size_t *n)
{
	struct tcp_outcome *vals = NULL;
	struct meter_key *keys = NULL;
	struct tcp_outcome_record *recs;
	size_t cnt = 0, i;
	int err;

	err = read_percpu_hash(bpf_map__fd(dp->skel->maps.tcp_outcomes),
			       sizeof(*keys), sizeof(*vals), dp->ncpu,
			       (void **)&keys, (void **)&vals, &cnt);
	if (err)
		return err;
	recs = calloc(cnt ? cnt : 1, sizeof(*recs));
	if (recs)
		for (i = 0; i < cnt; i++)
			tcp_sum(&recs[i], &keys[i], &vals[i * (size_t)dp->ncpu], dp->ncpu);
	free(keys);
	free(vals);
	if (!recs)
		return -ENOMEM;
	*out = recs;
	*n = cnt;
	return 0;
}

int dp_stats_read(struct dp *dp, __u64 out[STAT_MAX])
{
	__u64 *vals;
	__u32 k;
	int i;

	vals = calloc((size_t)dp->ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.stats), &k, vals))
			continue;
		for (i = 0; i < dp->ncpu; i++)
			out[k] += vals[i];
	}
	free(vals);
	return 0;
}

static int dp_on_event(void *ctx, void *data, size_t len)
{
	struct dp *dp = ctx;

	if (len < sizeof(struct event))
		return 0;
	return dp->event_fn(dp->event_ctx, data);
}

int dp_events_open(struct dp *dp, dp_event_fn cb, void *ctx)
{
	dp->event_fn = cb;
	dp->event_ctx = ctx;
	dp->events = ring_buffer__new(bpf_map__fd(dp->skel->maps.events),
				      dp_on_event, dp, NULL);
	return dp->events ? 0 : -errno;
}

int dp_events_poll(struct dp *dp, int timeout_ms)
{
	return dp->events ? ring_buffer__poll(dp->events, timeout_ms) : -EINVAL;
}

int dp_events_fd(struct dp *dp)
{
	return dp->events ? ring_buffer__epoll_fd(dp->events) : -EINVAL;
}

void dp_query_key(struct query_key *k, __u32 model, __u8 family, const __u32 addr[4],
		  __u8 plen)
{
	int words = family == 4 ? 1 : 4, i, bits = plen;

	memset(k, 0, sizeof(*k));
	k->model = model;
	k->family = family;
	k->plen = plen;
	for (i = 0; i < words; i++, bits -= 32) {
		__u32 mask = bits >= 32 ? ~0u : bits <= 0 ? 0 : ~0u << (32 - bits);

		k->addr[i] = addr[i] & htonl(mask);
	}
}

void dp_query_filter_merge(__u64 *live, const __u64 *snap, const __u64 *keys, size_t words)
{
	size_t i;

	for (i = 0; i < words; i++) {
		__u64 stale = snap[i] & ~keys[i], lost = keys[i] & ~snap[i];

		if (stale)
			__atomic_fetch_and(&live[i], ~stale, __ATOMIC_SEQ_CST);
		if (lost)
			__atomic_fetch_or(&live[i], lost, __ATOMIC_SEQ_CST);
	}
}

void dp_query_value_add(struct query_value *to, const struct query_value *v)
{
	to->conns += v->conns;
	to->req_packets += v->req_packets;
	to->req_bytes += v->req_bytes;
	to->resp_bytes += v->resp_bytes;
}

/* XDP's request cache as read: one entry per key, CPUs summed (open addressing). */
struct query_take {
	struct query_record *rec;	/* key and fresh used; value unused */
	bool *merged;			/* the key was also in query_counts */
	size_t cap, n;
};

static struct query_record *query_take_slot(struct query_take *t, const struct query_key *k)
{
	size_t i = query_seen_bit(k) & (t->cap - 1);

	while (t->rec[i].key.family && memcmp(&t->rec[i].key, k, sizeof(*k)))
		i = (i + 1) & (t->cap - 1);
	return &t->rec[i];
}

/*
 * Switches XDP's request cache to the other buffer, then takes what the
 * retired one holds: once the outer map's update returns (after an RCU
 * grace period) no program writes it. Its entries are zeroed before they
 * are handed out, so a count is taken once; if that fails, nothing is
 * handed out and the counts stay for a later read.
 */
static int query_cache_take(struct dp *dp, struct query_take *t)
{
	struct bpf_map *buf[2] = { dp->skel->maps.query_cache0, dp->skel->maps.query_cache1 };
	int active = outer_active(dp->skel->maps.query_cache_active, buf[0], buf[1]);
	struct query_cache_entry *vals = NULL, *zeros = NULL;
	__u32 zero = 0, *keys = NULL;
	size_t cnt = 0, i;
	int next_fd, err, c;

	if (active < 0)
		return active;
	next_fd = bpf_map__fd(buf[!active]);
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.query_cache_active), &zero,
				&next_fd, BPF_ANY))
		return -errno;
	err = read_percpu_hash(bpf_map__fd(buf[active]), sizeof(*keys), sizeof(*vals), dp->ncpu,
			       (void **)&keys, (void **)&vals, &cnt);
	if (err)
		return err;
	t->cap = 1;
	while (t->cap < 2 * cnt * (size_t)dp->ncpu)
		t->cap <<= 1;
	t->rec = calloc(t->cap, sizeof(*t->rec));
	t->merged = calloc(t->cap, sizeof(*t->merged));
	zeros = calloc((size_t)dp->ncpu, sizeof(*zeros));
	if (!t->rec || !t->merged || !zeros) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const struct query_cache_entry *e = &vals[i * (size_t)dp->ncpu];
		bool used = false;

		for (c = 0; c < dp->ncpu; c++) {
			struct query_record *r;

			if (!e[c].key.family)
				continue;
			used = true;
			r = query_take_slot(t, &e[c].key);
			if (!r->key.family) {
				r->key = e[c].key;
				t->n++;
			}
			dp_query_value_add(&r->fresh, &e[c].value);
		}
		if (used && bpf_map_update_elem(bpf_map__fd(buf[active]), &keys[i], zeros,
						BPF_ANY)) {
			err = -errno;
			pr_warn("dataplane: query cache: cannot clear slot %u: %s\n", keys[i],
				strerror(-err));
			goto out;
		}
	}
out:
	free(zeros);
	free(keys);
	free(vals);
	return err;
}

int dp_query_read(struct dp *dp, struct query_record **out, size_t *n)
{
	__u64 *live = dp->skel->bss->query_seen, *seen, *snap;
	struct query_take take = { 0 };
	struct query_value *vals = NULL;
	struct query_key *keys = NULL;
	struct query_record *recs;
	size_t cnt = 0, i;
	int c, err;

	/* The filter as it was before the keys are read (see below). */
	snap = malloc(QUERY_SEEN_WORDS * sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	for (i = 0; i < QUERY_SEEN_WORDS; i++)
		snap[i] = __atomic_load_n(&live[i], __ATOMIC_RELAXED);
	err = query_cache_take(dp, &take);
	if (!err)
		err = read_percpu_hash(bpf_map__fd(dp->skel->maps.query_counts), sizeof(*keys),
				       sizeof(*vals), dp->ncpu, (void **)&keys, (void **)&vals,
				       &cnt);
	if (err) {
		free(take.rec);
		free(take.merged);
		free(snap);
		return err;
	}
	recs = calloc(cnt + take.n ? cnt + take.n : 1, sizeof(*recs));
	seen = calloc(QUERY_SEEN_WORDS, sizeof(*seen));
	for (i = 0; recs && i < cnt; i++) {
		const struct query_value *v = &vals[i * (size_t)dp->ncpu];
		struct query_record *cached = take.n ? query_take_slot(&take, &keys[i]) : NULL;

		recs[i].key = keys[i];
		if (seen) {
			__u32 bit = query_seen_bit(&keys[i]);

			seen[bit >> 6] |= 1ull << (bit & 63);
		}
		for (c = 0; c < dp->ncpu; c++)
			dp_query_value_add(&recs[i].value, &v[c]);
		if (cached && cached->key.family) {
			recs[i].fresh = cached->fresh;
			take.merged[cached - take.rec] = true;
		}
	}
	/* Keys counted only in the cache: nothing cumulative, their interval's counts. */
	for (i = 0; recs && i < take.cap; i++)
		if (take.rec[i].key.family && !take.merged[i])
			recs[cnt++] = take.rec[i];
	free(take.rec);
	free(take.merged);
	free(keys);
	free(vals);
	/*
	 * The filter brought to the keys just read: evicted keys leave it.
	 * Only bits set before the snapshot are cleared, atomically, so a bit
	 * the kernel sets for a key it inserts meanwhile survives; it is
	 * lost only where a stale bit of the snapshot is the new key's bit
	 * too, and the kernel then finds the key again through its insert
	 * path (docs/query-patterns.md).
	 */
	if (recs && seen)
		dp_query_filter_merge(live, snap, seen, QUERY_SEEN_WORDS);
	free(seen);
	free(snap);
	if (!recs)
		return -ENOMEM;
	*out = recs;
	*n = cnt;
	return 0;
}

int dp_query_deny_set(struct dp *dp, const struct query_key *key,
		      const struct query_deny *deny)
{
	int err = bpf_map__update_elem(dp->skel->maps.query_deny, key, sizeof(*key), deny,
				       sizeof(*deny), BPF_ANY);

	if (err)
		pr_warn("dataplane: query deny: %s (map full? raise query_deny_entries)\n",
			strerror(-err));
	return err ?: (dp_query_deny_sweep(dp, 0) < 0 ? -EIO : 0);
}

int dp_query_deny_sweep(struct dp *dp, __u64 now_ns)
{
	int fd = bpf_map__fd(dp->skel->maps.query_deny);
	struct query_key key, next;
	struct query_deny d;
	__u32 live = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &d))
			continue;
		if (now_ns && d.expires_ns <= now_ns) {
			bpf_map_delete_elem(fd, &key);
			/* Restart: a deleted key cannot anchor the walk. */
			first = true;
			live = 0;
			continue;
		}
		live++;
	}
	dp->skel->bss->query_deny_active = live;
	return (int)live;
}
