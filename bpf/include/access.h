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

/* The served endpoint a packet is addressed to, or NULL. */
static __always_inline struct tenant_info *
endpoint_lookup(const struct pkt_meta *m)
{
	struct endpoint_key key = {};
	struct tenant_info *who;
	__u32 word = m->dport >> 6;
	__u64 bit = 1ull << (m->dport & 63);

	/*
	 * A later fragment has no ports: it matches the address-only entry
	 * (port 0) the agent installs where one address serves one model.
	 */
	key.port = m->dport;
	key.proto = m->l4_proto;
	key.family = m->family;
	if (endpoint_ports[word][ENDPOINT_PORTS_EXACT] & bit) {
		__builtin_memcpy(key.addr, m->daddr, sizeof(key.addr));
		who = bpf_map_lookup_elem(&endpoints, &key);
		if (who)
			return who;
		__builtin_memset(key.addr, 0, sizeof(key.addr));
	}
	if (endpoint_ports[word][ENDPOINT_PORTS_WILDCARD] & bit)
		return bpf_map_lookup_elem(&endpoints, &key);
	return NULL;
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
