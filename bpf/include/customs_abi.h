/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one header for everything that crosses the kernel/user boundary:
 * every struct stored in a map or ring buffer, every enum whose values both
 * sides agree on, and the country-code encoding. BPF programs and userspace
 * include this same file; nothing here is defined anywhere else.
 *
 * Rules: fixed-width types only, no pointers, explicit padding, and a
 * _Static_assert on the size of every struct.
 */
#ifndef CUSTOMS_ABI_H
#define CUSTOMS_ABI_H

#ifdef __BPF__
/* vmlinux.h provides the __u8 .. __u64 types for BPF programs. */
#else
#include <linux/types.h>
#endif

#define CUSTOMS_ABI_VERSION 1

/*
 * Countries: an ISO 3166-1 alpha-2 code "AB" is the u16 index
 * (A - 'A') * 26 + (B - 'A') + 1, so every two-letter code has an index with
 * no table and the same arithmetic runs in BPF and userspace. Index 0 is
 * "ZZ", unknown location: a zeroed key or value means unknown, never a real
 * country. Which codes are assigned is userspace's business (country.h).
 */
#define COUNTRY_ZZ	0
#define COUNTRY_MAX	(26 * 26 + 1)	/* indexes 0 .. 676 */

static inline __u16 country_index(char a, char b)
{
	if (a >= 'a' && a <= 'z')
		a = (char)(a - 'a' + 'A');
	if (b >= 'a' && b <= 'z')
		b = (char)(b - 'a' + 'A');
	if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z')
		return COUNTRY_ZZ;
	if (a == 'Z' && b == 'Z')
		return COUNTRY_ZZ;
	return (__u16)((a - 'A') * 26 + (b - 'A') + 1);
}

/* Writes two letters to out[0..1]; an out-of-range index reads as "ZZ". */
static inline void country_code(__u16 idx, char out[2])
{
	if (idx == COUNTRY_ZZ || idx >= COUNTRY_MAX) {
		out[0] = 'Z';
		out[1] = 'Z';
		return;
	}
	idx = (__u16)(idx - 1);
	out[0] = (char)('A' + idx / 26);
	out[1] = (char)('A' + idx % 26);
}

/*
 * Geo table: one BPF array of 512-byte blocks, built by userspace and
 * swapped in whole through a one-slot array of maps (bpf/include/geo.h,
 * docs/geo.md). Block 0 is the header; blocks 1..512 are the IPv4 /16
 * index (a u32 per /16: its country when the whole /16 has one, else the
 * root of its search tree and the tree's depth); then the IPv4 trees, one
 * per /16 that is not one country, in 64-byte lines (struct geo_v4_line,
 * eight to a block): 16 sorted 16-bit keys, the low half of the segment
 * starts in that /16, with their countries in a leaf, with the line of
 * the first child in an inner node; then the IPv6 index (a u32 per /16
 * of the upper 64 bits, refined 7 bits at a time by sub-index blocks
 * where the data is dense: where in the /64 tree the search may start);
 * then the IPv6 /64 tree (128-byte nodes of 64-bit keys, four to a
 * block), then the IPv6 exception tree (512-byte nodes of 128-bit keys)
 * for the few /64s that hold longer prefixes. Keys are in host byte
 * order: a table is built on the machine that loads it.
 */
#define GEO_BLOCK_SIZE		512
#define GEO_HDR_MAGIC		0x43474535u	/* "CGE5" */
#define GEO_V4_IDX_BASE		1u
#define GEO_IDX_PER_BLOCK	(GEO_BLOCK_SIZE / 4)
#define GEO_V4_TREE_BASE	(GEO_V4_IDX_BASE + 65536u / GEO_IDX_PER_BLOCK)
#define GEO_V4_DIRECT		0x80000000u	/* index entry: the /16's country */
#define GEO_V4_DEPTH_SHIFT	28		/* index entry: depth - 1 ... */
#define GEO_V4_LINE_MASK	0x0fffffffu	/* ... and the root's line */
#define GEO_V4_FANOUT		16	/* keys per line, children per inner line */
#define GEO_V4_MAX_DEPTH	4	/* 16 * 16^3 keys: every start of a /16 */
#define GEO_V4_PER_BLOCK	8	/* lines in a block */
#define GEO_V6C_FANOUT		16	/* /64 tree: keys (= children) per inner node */
#define GEO_V6C_LEAF		12	/* /64 tree: keys per leaf, each with a country */
#define GEO_V6C_PER_BLOCK	4	/* 128-byte nodes in a block */
#define GEO_V6_EXCEPTION	0xffffu	/* /64 tree answer: ask the exception tree */
#define GEO_V6_FANOUT		32	/* exception tree: keys per inner node */
#define GEO_V6_LEAF		28	/* exception tree: keys per leaf */
#define GEO_V6_MAX_DEPTH	6	/* levels of either tree at most */
#define GEO_V6X_TOP_BLOCKS	(65536u / GEO_IDX_PER_BLOCK)	/* the /16 level */
#define GEO_V6X_SUB		0x80000000u	/* entry: a sub-index block, 7 more bits */
#define GEO_V6X_SUB_BITS	7
#define GEO_V6X_MAX_SUB		6	/* sub-index levels at most: bits 16..57 */
#define GEO_V6X_MAX_BLOCKS	2048	/* sub-index blocks at most (1 MiB) */
#define GEO_V6X_NODE_MASK	0x00ffffffu	/* entry: start node ... */
#define GEO_V6X_LEVEL_SHIFT	24		/* ... and its level */
/*
 * Every table map has this many blocks (16 MiB): one fixed size lets the
 * verifier inline each block lookup, which a per-table size
 * (BPF_F_INNER_MAP) forbids. The full whois database needs 11,360.
 */
#define GEO_TABLE_BLOCKS	32768

struct geo_v6_key {
	__u64 hi;		/* address bits 0..63 */
	__u64 lo;		/* address bits 64..127 */
};

struct geo_header {
	__u32 magic;		/* GEO_HDR_MAGIC */
	__u32 n_blocks;
	__u32 v4_lines;		/* IPv4 tree lines, from GEO_V4_TREE_BASE */
	__u32 v4_trees;		/* /16s with a tree (not one country) */
	__u32 v6c_depth;	/* /64 tree levels, 1..GEO_V6_MAX_DEPTH */
	__u32 v6c_block;	/* its first block; nodes count from there */
	__u32 v6c_count;	/* keys in its leaves */
	__u32 v6x_block;	/* the IPv6 index: GEO_V6X_TOP_BLOCKS, then sub-index blocks */
	__u32 v6x_sub;		/* sub-index blocks */
	__u32 v6c_level_base[GEO_V6_MAX_DEPTH];	/* first node of each level, root first */
	__u32 v6c_level_last[GEO_V6_MAX_DEPTH];	/* last node of each level */
	__u32 v6_depth;		/* exception tree levels, 1..GEO_V6_MAX_DEPTH */
	__u32 v6_count;		/* keys in its leaves */
	__u32 v6_level_base[GEO_V6_MAX_DEPTH];	/* first block of each level, root first */
	__u32 v6_level_last[GEO_V6_MAX_DEPTH];	/* last block of each level */
	__u8 table_sha256[32];	/* geo_table_hash() of the table, for telemetry */
};

/* A node of the /64 tree: keys are the upper 64 bits of an address. */
struct geo_v6c_node {
	union {
		__u64 inner[GEO_V6C_FANOUT];		/* first key of each child */
		struct {
			__u64 key[GEO_V6C_LEAF];	/* /64 segment starts */
			__u16 cc[GEO_V6C_LEAF];		/* country or GEO_V6_EXCEPTION */
			__u8 pad[8];
		} leaf;
	};
};

/*
 * A line of an IPv4 /16's search tree. Keys are the low 16 bits of the
 * segment starts: in a leaf, each with its country; in an inner line, the
 * first key of each child, the children being lines child .. child +
 * last. Padding repeats the last key (and country): a search that lands
 * on it takes the last entry.
 */
struct geo_v4_line {
	__u16 key[GEO_V4_FANOUT];
	union {
		__u16 cc[GEO_V4_FANOUT];		/* leaf */
		struct {
			__u32 child;			/* line of the first child */
			__u32 last;			/* index of the last child */
			__u8 pad[24];
		} in;					/* inner line */
	};
};

union geo_block {
	__u32 v4idx[GEO_IDX_PER_BLOCK];	/* GEO_V4_DIRECT | country, or a node's block */
	__u32 v6idx[GEO_IDX_PER_BLOCK];	/* GEO_V6X_SUB | block, or level << 24 | node */
	struct geo_v4_line v4[GEO_V4_PER_BLOCK];
	struct geo_v6c_node c[GEO_V6C_PER_BLOCK];
	struct geo_v6_key inner[GEO_V6_FANOUT];	/* first key of each child */
	struct {
		struct geo_v6_key key[GEO_V6_LEAF];	/* segment starts */
		__u16 cc[GEO_V6_LEAF];		/* country of each segment */
		__u8 pad[8];
	} leaf;
	struct geo_header hdr;
};
_Static_assert(sizeof(struct geo_v4_line) == 64, "geo_v4_line layout");
_Static_assert(sizeof(struct geo_v6c_node) == 128, "geo_v6c_node layout");
_Static_assert(sizeof(union geo_block) == GEO_BLOCK_SIZE, "geo_block layout");
_Static_assert(sizeof(struct geo_header) == 172, "geo_header layout");

/*
 * The geo probe (bpf/geo.bpf.c) answers a batch of addresses through
 * BPF_PROG_RUN: userspace fills slots, the program writes cc back.
 */
#define GEO_PROBE_SLOTS		262144
enum geo_probe_mode {
	GEO_PROBE_TABLE = 0,	/* geo_lookup_v4 / geo_lookup_v6 */
	GEO_PROBE_LPM = 1,	/* the reference LPM tries (benchmark only) */
	GEO_PROBE_NONE = 2,	/* read the slot, no lookup: loop overhead */
	GEO_PROBE_CHAINED = 3,	/* as TABLE, each address waiting for the answer before */
};

struct geo_probe_slot {
	__u32 addr[4];		/* network byte order; IPv4 in addr[0] */
	__u16 cc;		/* answer */
	__u8 family;		/* 4 or 6 */
	__u8 pad[5];
};
_Static_assert(sizeof(struct geo_probe_slot) == 24, "geo_probe_slot layout");

struct geo_lpm_v4_key {
	__u32 prefixlen;
	__u32 addr;		/* network byte order */
};

struct geo_lpm_v6_key {
	__u32 prefixlen;
	__u32 addr[4];		/* network byte order */
};

/*
 * Packet classes counted by the parser probe (pktclass.bpf.c); they are the
 * parser's view of a frame, shared so tests and tools name them alike.
 */
enum pkt_class {
	PKT_CLASS_NON_IP = 0,
	PKT_CLASS_IPV4_TCP,
	PKT_CLASS_IPV4_UDP,
	PKT_CLASS_IPV4_OTHER,
	PKT_CLASS_IPV4_FRAG,	/* non-first fragment: no L4 header */
	PKT_CLASS_IPV6_TCP,
	PKT_CLASS_IPV6_UDP,
	PKT_CLASS_IPV6_OTHER,
	PKT_CLASS_IPV6_FRAG,	/* non-first fragment: no L4 header */
	PKT_CLASS_MALFORMED,	/* header fields that cannot be true */
	PKT_CLASS_TRUNCATED,	/* a header runs past the end of the data */
	PKT_CLASS_MAX,
};

/* Outcome of parsing; everything but PARSE_OK is also a drop reason. */
enum parse_status {
	PARSE_OK = 0,
	PARSE_NOT_IP,		/* not IPv4/IPv6 after at most two VLAN tags */
	PARSE_TRUNCATED,	/* a header needed runs past data_end */
	PARSE_BAD_L3,		/* impossible IPv4/IPv6 header field */
	PARSE_BAD_L4,		/* impossible TCP header length */
	PARSE_TOO_MANY_EXT,	/* IPv6 extension chain longer than we walk */
	PARSE_VLAN_DEPTH,	/* more VLAN tags than we walk */
	PARSE_STATUS_MAX,
};

/* pkt_meta.flags */
#define PKT_F_FRAG		(1u << 0)	/* part of a fragmented datagram */
#define PKT_F_FRAG_LATER	(1u << 1)	/* not the first fragment */
#define PKT_F_IPV4_OPTIONS	(1u << 2)
#define PKT_F_IPV6_EXT		(1u << 3)	/* at least one extension header */
#define PKT_F_V4MAPPED		(1u << 4)	/* IPv6 address ::ffff:a.b.c.d seen */

/*
 * What the parser learned about one packet. Addresses are kept in network
 * byte order in 16 bytes; an IPv4 address sits in addr[0]. Ports are in
 * host byte order, zero when the packet carries no L4 header we read.
 */
struct pkt_meta {
	__u32 saddr[4];
	__u32 daddr[4];
	__u32 l3_len;		/* IPv4 total length / IPv6 40 + payload length */
	__u16 l3_off;		/* offset of the IP header from the start */
	__u16 l4_off;		/* offset of the L4 header, 0 if none */
	__u16 sport;
	__u16 dport;
	__u16 vlan_outer;	/* VLAN IDs, 0 when untagged */
	__u16 vlan_inner;
	__u8 family;		/* 0, 4 or 6 */
	__u8 l4_proto;		/* IPPROTO_* of the final header */
	__u8 tcp_flags;		/* byte 13 of the TCP header */
	__u8 flags;		/* PKT_F_* */
	__u8 vlan_depth;
	__u8 ext_count;		/* IPv6 extension headers walked */
	__u8 pad[2];
};
_Static_assert(sizeof(struct pkt_meta) == 56, "pkt_meta layout");

/*
 * Verdicts, directions and layers: one table each, used by BPF, the policy
 * compiler, the CLI and telemetry. Names for printing live in abi_names.h.
 */
enum verdict {
	VERDICT_ALLOW = 0,
	VERDICT_DENY = 1,
	VERDICT_AUDIT = 2,	/* would deny: passes, counted as audit */
	VERDICT_MAX,
};

enum direction {
	DIR_INGRESS = 0,	/* towards the served model: client countries */
	DIR_EGRESS = 1,		/* from a tenant out: destination countries */
	DIR_MAX,
};

enum layer {
	LAYER_XDP = 0,		/* XDP on a serving interface */
	LAYER_SKB = 1,		/* cgroup_skb ingress/egress */
	LAYER_SOCK = 2,		/* cgroup connect/sendmsg */
	LAYER_MAX,
};

/* Ids the compiler hands out; 0 is "unknown" for both. */
#define TENANT_UNKNOWN	0
#define MODEL_UNKNOWN	0

/*
 * Access matrix: an array map with one row per (model, direction), key
 * model * DIR_MAX + direction, each row a verdict byte per country index.
 * Row 0/1 (model 0) holds the verdicts for traffic of no known model.
 */
#define ACCESS_ROW_LEN	680	/* COUNTRY_MAX rounded up to 8 */
struct access_row {
	__u8 verdict[ACCESS_ROW_LEN];
};
_Static_assert(sizeof(struct access_row) == ACCESS_ROW_LEN, "access_row layout");
_Static_assert(ACCESS_ROW_LEN >= COUNTRY_MAX, "access_row holds every country");

static inline __u32 access_row_key(__u32 model, enum direction dir)
{
	return model * DIR_MAX + (__u32)dir;
}

/* Who a packet belongs to: from the tenant map (cgroup) or endpoint map. */
struct tenant_info {
	__u32 tenant;
	__u32 model;
};
_Static_assert(sizeof(struct tenant_info) == 8, "tenant_info layout");

/*
 * A served endpoint for XDP (which has no cgroup). addr is zero for a
 * wildcard address; an IPv4 address sits in addr[0], network byte order.
 */
struct endpoint_key {
	__u32 addr[4];
	__u16 port;		/* host byte order */
	__u8 proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;		/* 4 or 6 */
};
_Static_assert(sizeof(struct endpoint_key) == 20, "endpoint_key layout");

/* The served-port filter in front of the endpoint map (bpf/include/access.h). */
#define ENDPOINT_PORT_WORDS	(65536 / 64)
/* Per-CPU slots of XDP's endpoint cache (bpf/include/access.h); a power of 2. */
#define ENDPOINT_CACHE_SLOTS	64

/*
 * The endpoint map's generation, pinned beside it: every program of every
 * load sharing the map sees the loader's bumps (bpf/include/access.h).
 */
struct endpoint_ctl {
	__u64 gen;	/* changes made through dp_set_endpoint()/dp_del_endpoint() */
};
_Static_assert(sizeof(struct endpoint_ctl) == 8, "endpoint_ctl layout");
enum endpoint_ports_kind {
	ENDPOINT_PORTS_EXACT = 0,	/* some endpoint of a given address */
	ENDPOINT_PORTS_WILDCARD = 1,	/* an endpoint of the wildcard address */
};

/* Counter key and value; counters are per-CPU. */
struct meter_key {
	__u32 tenant;
	__u32 model;
	__u16 country;
	__u8 direction;		/* enum direction */
	__u8 layer;		/* enum layer */
	__u8 verdict;		/* enum verdict */
	__u8 pad[3];
};
_Static_assert(sizeof(struct meter_key) == 16, "meter_key layout");

struct meter_value {
	__u64 packets;
	__u64 bytes;		/* L3 bytes: IP header + payload */
};
_Static_assert(sizeof(struct meter_value) == 16, "meter_value layout");

/*
 * The overflow bucket: when a counter map is full, the kernel adds to this
 * key instead (userspace pre-inserts it in every buffer), so nothing is
 * lost without a trace.
 */
#define METER_OVERFLOW_TENANT	0xFFFFFFFFu

/* Counter buffers: the kernel writes the active one, userspace reads the other. */
#define METER_BUFFERS	2

/*
 * The counters' control word (bpf/include/meter.h): which of the two key
 * tables new keys go into (epoch & 1; the epoch grows by one at each
 * switch, so a slot remembered with its epoch is known to be current),
 * which buffers may still hold counts of the other table, and each
 * table's next free slot (slot 0 of each table is its overflow bucket, so
 * a table in use has next >= 1).
 */
struct meter_ctl {
	__u32 epoch;		/* table = epoch & 1 */
	__u32 drain;		/* bit b: buffer b may hold counts of the other table */
	__u32 next[2];
};
_Static_assert(sizeof(struct meter_ctl) == 16, "meter_ctl layout");

/*
 * Outcomes of served connections and requests per (tenant, model,
 * country), for service-level figures (the name is older than the UDP
 * part). Per-CPU hash; key reuses meter_key with direction = DIR_INGRESS
 * for served endpoints, DIR_EGRESS for a tenant's outbound connections,
 * layer and verdict zero.
 *
 *   attempts		TCP SYNs that reached a served socket, that the data
 *			plane dropped, or that the host answered with an
 *			unreachable or a reset (a reset answers a segment
 *			without ACK: a SYN, or a scanner's probe)
 *   established	connections established (sock_ops)
 *   resets_sent	RST segments the served side sent: from tenant sockets
 *			(cgroup_skb egress), and those the host sends to an
 *			attempt (tc egress: nothing listening, a firewall's
 *			reject); not the host's resets to segments of
 *			connections that no longer exist
 *   attempts_refused	of attempts, those dropped by the data plane or
 *			answered with an unreachable or a reset: an attempt
 *			neither established nor refused went unanswered
 *   unreach_sent	ICMP/ICMPv6 destination unreachables the host sent
 *			about a packet to a served endpoint, TCP or UDP
 *			(fragmentation-needed is not a refusal: not counted)
 *   attempts_reset	of attempts (and of resets_sent), those the host
 *			answered with a reset (RST|ACK, sequence 0): a reset
 *			that refused a connection, not one that ended an
 *			established one
 */
struct tcp_outcome {
	__u64 attempts;
	__u64 established;
	__u64 resets_sent;
	__u64 attempts_refused;
	__u64 unreach_sent;
	__u64 attempts_reset;
};
_Static_assert(sizeof(struct tcp_outcome) == 48, "tcp_outcome layout");

/*
 * Kernel numbers newer than the uapi headers userspace builds against
 * (Debian 12: libbpf 1.1, linux-libc-dev 6.1): tcx, kernel 6.6 and later.
 * dataplane.bpf.c checks them against the running kernel's vmlinux.h.
 */
#define ABI_BPF_TCX_EGRESS	47	/* enum bpf_attach_type BPF_TCX_EGRESS */
#define ABI_BPF_LINK_TYPE_TCX	11	/* enum bpf_link_type BPF_LINK_TYPE_TCX */

/* Event kinds in the ring buffer. */
enum event_kind {
	EVENT_DENY = 1,		/* a packet dropped or a connect/send refused */
	EVENT_AUDIT = 2,	/* would have been denied; passed (audit mode) */
	EVENT_NEW_FLOW = 3,	/* sampled first packet of a served flow */
};

struct event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() */
	__u32 saddr[4];		/* network byte order; IPv4 in [0] */
	__u32 daddr[4];
	__u32 tenant;
	__u32 model;
	__u16 sport;		/* host byte order */
	__u16 dport;
	__u16 country;		/* the country the verdict was about */
	__u8 kind;		/* enum event_kind */
	__u8 layer;		/* enum layer */
	__u8 direction;		/* enum direction */
	__u8 verdict;		/* enum verdict */
	__u8 family;		/* 4 or 6 */
	__u8 proto;
	__u8 pad[4];
};
_Static_assert(sizeof(struct event) == 64, "event layout");

/* Indexes of the kernel's own health counters (per-CPU array). */
enum stat_index {
	STAT_EVENTS_LOST = 0,		/* ring buffer full */
	STAT_EVENTS_RATELIMITED,	/* over the per-CPU event budget */
	STAT_METER_OVERFLOW,		/* counted into the overflow bucket */
	STAT_TCP_OVERFLOW,		/* tcp_outcome map full */
	STAT_PARSE_ERROR,		/* frames the parser refused (passed) */
	STAT_QUERY_INSERT,		/* query_counts entries created (query.h) */
	STAT_QUERY_FULL,		/* query_counts insert refused: not counted */
	STAT_QUERY_DROP,		/* packets dropped by a query_deny entry */
	STAT_QUERY_SKIPPED,		/* new prefixes over the insert budget: not tracked */
	STAT_MAX,
};

/*
 * Query patterns (bpf/include/query.h, docs/query-patterns.md): per model
 * and source prefix (IPv4 /24, IPv6 /48 unless configured otherwise),
 * connection attempts, request packets and bytes (XDP ingress to a served
 * endpoint) and response bytes (cgroup_skb egress from a tenant, keyed by
 * the destination prefix). The key holds the address masked to the prefix,
 * network byte order, IPv4 in addr[0]. Values are cumulative per CPU in an
 * LRU per-CPU hash; the agent takes deltas each interval.
 */
struct query_key {
	__u32 model;
	__u32 addr[4];		/* masked to plen bits */
	__u8 family;		/* 4 or 6 */
	__u8 plen;		/* prefix length the kernel masked to */
	__u8 pad[2];
};
_Static_assert(sizeof(struct query_key) == 24, "query_key layout");

/*
 * The filter in front of query_counts (bpf/include/query.h): one bit per
 * hash of a tracked key, so a prefix never seen costs no hash-map lookup.
 * The kernel sets bits as it inserts; each interval the agent clears the
 * bits of keys it no longer read, which drops evicted ones
 * (dp_query_filter_merge()).
 */
#define QUERY_SEEN_BITS		20
#define QUERY_SEEN_WORDS	(1u << (QUERY_SEEN_BITS - 6))

static __always_inline __u32 query_seen_bit(const struct query_key *k)
{
	__u64 h = ((__u64)k->addr[0] | (__u64)k->addr[1] << 32) ^
		  ((__u64)(k->addr[2] ^ k->addr[3]) << 17) ^ k->model ^
		  (__u64)k->plen << 40 ^ (__u64)k->family << 48;

	h *= 0x9e3779b97f4a7c15ull;
	return (__u32)(h >> (64 - QUERY_SEEN_BITS));
}

struct query_value {
	__u64 conns;		/* TCP SYNs (attempts) from the prefix */
	__u64 req_packets;
	__u64 req_bytes;	/* L3 bytes towards the model */
	__u64 resp_bytes;	/* L3 bytes from the model's tenant to the prefix */
};
_Static_assert(sizeof(struct query_value) == 32, "query_value layout");

/*
 * XDP's per-CPU cache of request counts (bpf/include/query.h): a slot per
 * hash of the key, taken by the first key that reaches it in an interval
 * and counted there without a hash-map lookup; another key of the same
 * slot goes to query_counts. Two buffers: the agent switches them each
 * interval, adds what the retired one holds to that interval's counts and
 * zeroes it (dp_query_read()). An all-zero entry (family 0) is free.
 */
#define QUERY_CACHE_SLOTS	256

struct query_cache_entry {
	struct query_key key;
	struct query_value value;	/* counted since the buffer was last read */
	__u64 pad;			/* one cache line per entry */
};
_Static_assert(sizeof(struct query_cache_entry) == 64, "query_cache_entry layout");

/* A key's cache slot, from its filter bit (query_seen_bit()). */
static __always_inline __u32 query_cache_slot(__u32 seen_bit)
{
	return seen_bit & (QUERY_CACHE_SLOTS - 1);
}

/* The query-pattern detectors (userspace/lib/detect.h), one table. */
enum detector {
	DETECTOR_VOLUME = 0,		/* above own baseline by a factor, or a quota */
	DETECTOR_DISPERSION = 1,	/* many hosting prefixes, similar volumes */
	DETECTOR_EXTRACTION = 2,	/* sustained high response/request ratio */
	DETECTOR_GEOGRAPHY = 3,		/* prohibited-country ASN, or a VPN hop */
	DETECTOR_MAX,
};

/*
 * A temporary deny of one source prefix for one model, installed by the
 * agent when a detector in enforce mode fires. The kernel honours the
 * expiry itself (bpf_ktime_get_ns), so a deny ends on time even if the
 * agent is gone; the agent deletes expired entries.
 */
struct query_deny {
	__u64 expires_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 detector;		/* enum detector that asked for it */
	__u32 pad;
};
_Static_assert(sizeof(struct query_deny) == 16, "query_deny layout");

#endif /* CUSTOMS_ABI_H */
