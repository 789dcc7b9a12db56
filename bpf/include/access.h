/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Who a packet belongs to and what policy says of it: the tenant map
 * (cgroup id -> tenant, model; the nearest listed ancestor wins), the
 * endpoint map for XDP (destination ip:port/proto, exact address first,
 * then the wildcard), and the access matrix (one row of verdict bytes per
 * model and direction, indexed by country). All three are filled by the
 * agent from the compiled policy.
 *
 * endpoint_ports says, per destination port, whether any endpoint of an
 * exact address or of the wildcard address serves it, so a packet to no
 * served port costs one load instead of two hash lookups, and a port
 * served only by the wildcard (or only by exact addresses) costs one
 * lookup. It lives in .bss, written by the loader from the endpoint map
 * (userspace/lib/dataplane.c): a bit is set after its entry is added and
 * cleared before its last entry is deleted, so a set entry is never
 * hidden, only an absent one looked for.
 *
 * XDP also remembers, per CPU, the endpoints it found last
 * (endpoint_cache: ENDPOINT_CACHE_SLOTS slots picked by destination port
 * and address), so a packet to a recently seen endpoint skips the hash
 * lookups: hashing the 20-byte key and comparing it cost about 25-30 ns
 * per packet, a hit costs two array lookups (inlined) and six compares.
 * Each entry is tagged with the generation (endpoint_ctl.gen, a pinned
 * map shared by every load) + 1 as read before the served-port bits and
 * the map lookups that filled it. The loader bumps the generation as the
 * last step of every change to the endpoint map, its bits included, so
 * once dp_set_endpoint() or dp_del_endpoint() has returned no entry
 * filled before the change answers, in this load's programs or in an
 * older load's still attached. Only XDP uses the cache, and a run that
 * finds its slot busy (a BPF_PROG_RUN of the attached program
 * interrupted by the attached program itself, on one CPU) bypasses it;
 * the answer is copied out, never pointed to.
 */
#ifndef CUSTOMS_ACCESS_H
#define CUSTOMS_ACCESS_H

#include "customs_abi.h"
#include "parse.h"

/* Deepest cgroup level walked when looking for a tenant. */
#define TENANT_MAX_DEPTH 16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);	/* set from configuration */
	__type(key, __u64);		/* cgroup id */
	__type(value, struct tenant_info);
} tenants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);	/* set from configuration */
	__type(key, struct endpoint_key);
	__type(value, struct tenant_info);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * DIR_MAX);	/* (models + 1) * DIR_MAX */
	__type(key, __u32);
	__type(value, struct access_row);
} access_matrix SEC(".maps");

static __always_inline enum verdict access_verdict(__u32 model,
						    enum direction dir,
						    __u16 country)
{
	__u32 key = access_row_key(model, dir);
	__u32 idx = country;
	struct access_row *row;
	__u8 v;

	/* Check and index one register: clang may otherwise re-derive it. */
	barrier_var(idx);
	if (idx >= ACCESS_ROW_LEN)
		return VERDICT_ALLOW;

	row = bpf_map_lookup_elem(&access_matrix, &key);
	if (!row) {
		/* A model id past the matrix is judged as an unknown model. */
		key = access_row_key(MODEL_UNKNOWN, dir);
		row = bpf_map_lookup_elem(&access_matrix, &key);
	}
	/* No matrix at all: no policy was ever loaded, nothing to enforce. */
	if (!row)
		return VERDICT_ALLOW;
	v = row->verdict[idx];
	return v < VERDICT_MAX ? (enum verdict)v : VERDICT_DENY;
}

/* [port / 64][ENDPOINT_PORTS_EXACT or _WILDCARD]: bit port % 64 (customs_abi.h). */
__u64 endpoint_ports[ENDPOINT_PORT_WORDS][2];

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct endpoint_ctl);
} endpoint_ctl SEC(".maps");

struct endpoint_cache_entry {
	struct endpoint_key key;	/* the packet's: destination, port, proto */
	struct tenant_info who;		/* what the map answered for it */
	__u32 busy;			/* a run of this CPU is using the slot */
	__u64 tag;			/* generation + 1; 0: never written */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ENDPOINT_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct endpoint_cache_entry);
} endpoint_cache SEC(".maps");

/* The map's answer for key: the exact address first, then the wildcard. */
static __always_inline struct tenant_info *
endpoint_find(struct endpoint_key *key, __u32 word, __u64 bit)
{
	struct tenant_info *who;

	if (endpoint_ports[word][ENDPOINT_PORTS_EXACT] & bit) {
		who = bpf_map_lookup_elem(&endpoints, key);
		if (who)
			return who;
	}
	if (!(endpoint_ports[word][ENDPOINT_PORTS_WILDCARD] & bit))
		return NULL;
	__builtin_memset(key->addr, 0, sizeof(key->addr));
	return bpf_map_lookup_elem(&endpoints, key);
}

/*
 * The packet's endpoint key. A later fragment has no ports: it matches
 * the address-only entry (port 0) the agent installs where one address
 * serves one model.
 */
static __always_inline void endpoint_key_of(struct endpoint_key *key,
					    const struct pkt_meta *m)
{
	__builtin_memset(key, 0, sizeof(*key));
	__builtin_memcpy(key->addr, m->daddr, sizeof(key->addr));
	key->port = m->dport;
	key->proto = m->l4_proto;
	key->family = m->family;
}

/* The served endpoint a packet is addressed to, or NULL. */
static __always_inline struct tenant_info *
endpoint_lookup(const struct pkt_meta *m)
{
	struct endpoint_key key;

	endpoint_key_of(&key, m);
	return endpoint_find(&key, m->dport >> 6, 1ull << (m->dport & 63));
}

static __always_inline bool endpoint_key_eq(const struct endpoint_key *a,
					    const struct endpoint_key *b)
{
	const __u32 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

/*
 * endpoint_lookup() through the per-CPU cache (XDP only, see above): the
 * answer copied into *out, or NULL.
 */
static __always_inline const struct tenant_info *
endpoint_lookup_cached(const struct pkt_meta *m, struct tenant_info *out)
{
	__u32 word = m->dport >> 6, zero = 0, idx;
	__u64 bit = 1ull << (m->dport & 63), gen;
	const struct tenant_info *who;
	struct endpoint_cache_entry *c;
	struct endpoint_ctl *ctl;
	struct endpoint_key key;

	/* Nothing served on the port: one load, as without the cache. */
	if (!((endpoint_ports[word][ENDPOINT_PORTS_EXACT] |
	       endpoint_ports[word][ENDPOINT_PORTS_WILDCARD]) & bit))
		return NULL;
	endpoint_key_of(&key, m);
	idx = m->daddr[0] ^ m->daddr[3];	/* the IPv4 address, the IPv6 low word */
	idx ^= idx >> 16;
	idx = (idx ^ (idx >> 8) ^ m->dport) & (ENDPOINT_CACHE_SLOTS - 1);
	ctl = bpf_map_lookup_elem(&endpoint_ctl, &zero);
	c = bpf_map_lookup_elem(&endpoint_cache, &idx);
	if (!ctl || !c || c->busy) {
		who = endpoint_find(&key, word, bit);
		if (!who)
			return NULL;
		*out = *who;
		return out;
	}
	c->busy = 1;
	gen = ctl->gen;
	/* The generation before the port bits and the map (endpoint_find reloads them). */
	barrier();
	if (c->tag != gen + 1 || !endpoint_key_eq(&c->key, &key)) {
		c->key = key;
		who = endpoint_find(&key, word, bit);
		c->tag = who ? gen + 1 : 0;
		if (who)
			c->who = *who;
	}
	/* A slot tagged now holds the answer; tag 0 is a miss. */
	who = NULL;
	if (c->tag) {
		*out = c->who;
		who = out;
	}
	barrier();
	c->busy = 0;
	return who;
}

/*
 * The nearest ancestor cgroup (from `level` TENANT_MAX_DEPTH up to the
 * root) that the tenant map lists. id_at(level) yields the id of the
 * ancestor at that level, 0 when the cgroup is shallower.
 */
#define TENANT_WALK(id_at, out) do {					\
	int __lvl;							\
	(out) = NULL;							\
	for (__lvl = TENANT_MAX_DEPTH; __lvl >= 0; __lvl--) {		\
		__u64 __id = (id_at);					\
		if (!__id)						\
			continue;					\
		(out) = bpf_map_lookup_elem(&tenants, &__id);		\
		if (out)						\
			break;						\
	}								\
} while (0)

#endif
