// SPDX-License-Identifier: BSD-2-Clause
/*
 * The geo table in memory: segment lists per family, the overlay step that
 * every import ends in (a sweep that resolves a layer's own overlaps, then
 * a merge over the table), the compiler from segments to the block image
 * the kernel searches, and the mirror lookup over that same image.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#include "geo_internal.h"
#include "geo_search.h"
#include "log.h"

void geo_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

geo_u128 geo_u128_from_words(const __u32 addr[4])
{
	geo_u128 v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = (v << 32) | ntohl(addr[i]);
	return v;
}

void geo_u128_to_words(geo_u128 v, __u32 addr[4])
{
	int i;

	for (i = 3; i >= 0; i--) {
		addr[i] = htonl((__u32)v);
		v >>= 32;
	}
}

int geo_parse_addr(const char *s, int *fam, geo_u128 *v)
{
	struct in6_addr a6;
	struct in_addr a4;
	__u32 w[4];

	if (inet_pton(AF_INET, s, &a4) == 1) {
		*fam = GEO_V4;
		*v = ntohl(a4.s_addr);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memcpy(w, &a6, sizeof(w));
		*fam = GEO_V6;
		*v = geo_u128_from_words(w);
		return 0;
	}
	return -EINVAL;
}

int geo_parse_ip(const char *s, __u32 addr[4], __u8 *family)
{
	geo_u128 v;
	int fam;

	if (geo_parse_addr(s, &fam, &v))
		return -EINVAL;
	geo_u128_to_words(v, addr);
	if (fam == GEO_V4) {
		addr[0] = addr[3];
		addr[3] = 0;
	}
	*family = fam == GEO_V4 ? 4 : 6;
	return 0;
}

static int list_push(struct geo_list *l, geo_u128 start, __u16 cc)
{
	struct geo_bound *nb;
	size_t cap;

	if (l->n && l->b[l->n - 1].cc == cc)
		return 0;
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 1024;
		nb = realloc(l->b, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		l->b = nb;
		l->cap = cap;
	}
	l->b[l->n].start = start;
	l->b[l->n].cc = cc;
	l->n++;
	return 0;
}

int geo_table_new(struct geo_table **out)
{
	struct geo_table *t;
	int fam;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (fam = 0; fam < 2; fam++) {
		if (list_push(&t->fam[fam], 0, COUNTRY_ZZ)) {
			geo_table_free(t);
			return -ENOMEM;
		}
	}
	t->dirty = true;
	t->build_time = (__u64)time(NULL);
	*out = t;
	return 0;
}

void geo_table_free(struct geo_table *t)
{
	if (!t)
		return;
	free(t->fam[0].b);
	free(t->fam[1].b);
	if (t->mapped_bytes)
		munmap(t->image, t->mapped_bytes);
	else
		free(t->image);
	free(t);
}

int geo_layer_add(struct geo_layer *l, geo_u128 start, geo_u128 end, __u32 seq, __u16 cc)
{
	struct geo_item *ni;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 1024;
		ni = realloc(l->it, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		l->it = ni;
		l->cap = cap;
	}
	l->it[l->n++] = (struct geo_item){ .start = start, .end = end, .seq = seq, .cc = cc };
	return 0;
}

void geo_layer_free(struct geo_layer *l)
{
	free(l->it);
	l->it = NULL;
	l->n = l->cap = 0;
}

void geo_table_note_source(struct geo_table *t, const char *desc,
			   const void *bytes, size_t len)
{
	unsigned char md[SHA256_LEN];
	struct sha256 s;
	size_t used = strlen(t->source);

	if (used + 3 < sizeof(t->source))
		snprintf(t->source + used, sizeof(t->source) - used, "%s%s",
			 used ? " + " : "", desc);
	sha256(bytes, len, md);
	if (sha256_init(&s))
		return;
	sha256_update(&s, t->source_hash, sizeof(t->source_hash));
	sha256_update(&s, md, sizeof(md));
	sha256_final(&s, t->source_hash);
}

/* --- the sweep: a layer's items to segments, its own overlaps resolved ------ */

struct sweep {
	const struct geo_item *it;
	bool narrower;
	size_t *heap;
	size_t n;
};

/* True when item a takes precedence over item b. */
static bool item_wins(const struct sweep *s, size_t a, size_t b)
{
	const struct geo_item *x = &s->it[a], *y = &s->it[b];

	if (s->narrower && x->end - x->start != y->end - y->start)
		return x->end - x->start < y->end - y->start;
	return x->seq > y->seq;
}

static void heap_push(struct sweep *s, size_t v)
{
	size_t i = s->n++, p;

	s->heap[i] = v;
	while (i && item_wins(s, s->heap[i], s->heap[p = (i - 1) / 2])) {
		size_t tmp = s->heap[p];

		s->heap[p] = s->heap[i];
		s->heap[i] = tmp;
		i = p;
	}
}

static void heap_pop(struct sweep *s)
{
	size_t i = 0, c, tmp;

	s->heap[0] = s->heap[--s->n];
	for (;;) {
		c = 2 * i + 1;
		if (c >= s->n)
			break;
		if (c + 1 < s->n && item_wins(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!item_wins(s, s->heap[c], s->heap[i]))
			break;
		tmp = s->heap[c];
		s->heap[c] = s->heap[i];
		s->heap[i] = tmp;
		i = c;
	}
}

static int item_by_start(const void *a, const void *b)
{
	const struct geo_item *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int u128_cmp(const void *a, const void *b)
{
	const geo_u128 *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static void warn_overlaps(struct geo_layer *l)
{
	geo_u128 max_end = 0;
	__u32 max_seq = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct geo_item *x = &l->it[i];

		if (i && x->start <= max_end) {
			if (l->overlaps < 5 && l->name)
				pr_warn("%s:%u: warning: range overlaps line %u; "
					"the narrower range wins, equal ranges the later line\n",
					l->name, x->seq, max_seq);
			l->overlaps++;
		}
		if (!i || x->end > max_end) {
			max_end = x->end;
			max_seq = x->seq;
		}
	}
	if (l->overlaps > 5 && l->name)
		pr_warn("%s: warning: %llu overlapping rows in all\n", l->name,
			(unsigned long long)l->overlaps);
}

/* Segments of the layer, GEO_CC_NONE where it says nothing. */
static int sweep_layer(struct geo_layer *l, int fam, struct geo_list *out)
{
	struct sweep s = { .it = l->it, .narrower = l->narrower_wins };
	geo_u128 *pts = NULL, max = geo_fam_max(fam);
	size_t i, j = 0, np = 0, k;
	int err = -ENOMEM;
	__u16 cc;

	qsort(l->it, l->n, sizeof(*l->it), item_by_start);
	if (l->narrower_wins)
		warn_overlaps(l);
	pts = malloc((2 * l->n + 1) * sizeof(*pts));
	s.heap = malloc((l->n + 1) * sizeof(*s.heap));
	if (!pts || !s.heap)
		goto cleanup;
	pts[np++] = 0;
	for (i = 0; i < l->n; i++) {
		pts[np++] = l->it[i].start;
		if (l->it[i].end < max)
			pts[np++] = l->it[i].end + 1;
	}
	qsort(pts, np, sizeof(*pts), u128_cmp);
	for (i = 0, k = 0; i < np; i++)
		if (!k || pts[i] != pts[k - 1])
			pts[k++] = pts[i];
	np = k;
	for (i = 0; i < np; i++) {
		while (j < l->n && l->it[j].start == pts[i])
			heap_push(&s, j++);
		while (s.n && l->it[s.heap[0]].end < pts[i])
			heap_pop(&s);
		cc = s.n ? l->it[s.heap[0]].cc : GEO_CC_NONE;
		if (list_push(out, pts[i], cc))
			goto cleanup;
	}
	err = 0;
cleanup:
	free(pts);
	free(s.heap);
	return err;
}

/* out = top over base: top's country wherever top says one. */
static int merge_over(const struct geo_list *base, const struct geo_list *top,
		      struct geo_list *out)
{
	size_t i = 0, j = 0;
	__u16 bcc = COUNTRY_ZZ, tcc = GEO_CC_NONE;
	geo_u128 p;

	while (i < base->n || j < top->n) {
		if (j >= top->n || (i < base->n && base->b[i].start <= top->b[j].start))
			p = base->b[i].start;
		else
			p = top->b[j].start;
		if (i < base->n && base->b[i].start == p)
			bcc = base->b[i++].cc;
		if (j < top->n && top->b[j].start == p)
			tcc = top->b[j++].cc;
		if (list_push(out, p, tcc != GEO_CC_NONE ? tcc : bcc))
			return -ENOMEM;
	}
	return 0;
}

int geo_table_overlay(struct geo_table *t, struct geo_layer layer[2])
{
	struct geo_list top[2] = {}, merged[2] = {};
	int fam, err = 0;

	for (fam = 0; fam < 2 && !err; fam++) {
		if (!layer[fam].n)
			continue;
		err = sweep_layer(&layer[fam], fam, &top[fam]);
		if (!err)
			err = merge_over(&t->fam[fam], &top[fam], &merged[fam]);
	}
	if (!err) {
		for (fam = 0; fam < 2; fam++) {
			if (!layer[fam].n)
				continue;
			free(t->fam[fam].b);
			t->fam[fam] = merged[fam];
			merged[fam] = (struct geo_list){};
		}
		t->csv_overlaps += layer[0].overlaps + layer[1].overlaps;
		t->dirty = true;
	}
	for (fam = 0; fam < 2; fam++) {
		free(top[fam].b);
		free(merged[fam].b);
	}
	return err;
}

/* --- the compiled image ------------------------------------------------------ */

static void table_hash(struct geo_table *t)
{
	static const char tag[] = "customs geo table 1\n";
	struct sha256 s;
	unsigned char rec[18];
	int fam, k;
	size_t i;
	__u64 n;

	if (sha256_init(&s))
		return;
	sha256_update(&s, tag, sizeof(tag) - 1);
	for (fam = 0; fam < 2; fam++) {
		n = t->fam[fam].n;
		sha256_update(&s, &n, sizeof(n));
		for (i = 0; i < t->fam[fam].n; i++) {
			geo_u128 v = t->fam[fam].b[i].start;

			for (k = 15; k >= 0; k--) {
				rec[k] = (unsigned char)v;
				v >>= 8;
			}
			rec[16] = (unsigned char)(t->fam[fam].b[i].cc >> 8);
			rec[17] = (unsigned char)t->fam[fam].b[i].cc;
			sha256_update(&s, rec, sizeof(rec));
		}
	}
	sha256_final(&s, t->hash);
}

/*
 * The keys of one /16's tree: the low 16 bits of the segment starts in
 * it, the first being 0 for the segment that covers its first address.
 */
struct v4_keys {
	__u32 n;
	__u16 key[1u << 16];
	__u16 cc[1u << 16];
};

/* Level sizes of any of the trees, leaves first; the depth, or -E2BIG. */
static int tree_sizes(size_t n, __u32 leaf, __u32 fanout, __u32 sizes[GEO_V6_MAX_DEPTH])
{
	int depth = 0;

	sizes[depth++] = (__u32)((n + leaf - 1) / leaf);
	while (sizes[depth - 1] > 1) {
		if (depth == GEO_V6_MAX_DEPTH)
			return -E2BIG;
		sizes[depth] = (sizes[depth - 1] + fanout - 1) / fanout;
		depth++;
	}
	return depth;
}

static struct geo_v4_line *v4_line(union geo_block *img, __u32 line)
{
	return &img[geo_v4_line_block(line)].v4[geo_v4_line_slot(line)];
}

/*
 * Writes the tree of keys k from line root: levels root first, each
 * level's lines in order, the children of line j of a level being lines
 * 16j.. of the next. A line's keys are the first keys of its children
 * (a leaf's: its own), padded with the last one.
 */
static void v4_tree_fill(union geo_block *img, __u32 root, const struct v4_keys *k,
			 const __u32 sizes[GEO_V6_MAX_DEPTH], __u32 depth)
{
	__u32 r, j, i, c, unit, cnt, below, base = root;
	struct geo_v4_line *l;
	bool leaf;

	for (r = 0; r < depth; r++) {
		leaf = r + 1 == depth;
		cnt = sizes[depth - 1 - r];
		/* Entries below this level: the next level's lines, or the keys. */
		below = leaf ? k->n : sizes[depth - 2 - r];
		/* Keys under one entry: a child's subtree holds 16 per leaf. */
		for (unit = 1, i = r + 1; i < depth; i++)
			unit *= GEO_V4_FANOUT;
		for (j = 0; j < cnt; j++) {
			l = v4_line(img, base + j);
			for (i = 0; i < GEO_V4_FANOUT; i++) {
				c = j * GEO_V4_FANOUT + i;
				if (c >= below)
					c = below - 1;
				l->key[i] = k->key[c * unit];
				if (leaf)
					l->cc[i] = k->cc[c];
			}
			if (!leaf) {
				l->in.child = base + cnt + j * GEO_V4_FANOUT;
				l->in.last = below - 1 - j * GEO_V4_FANOUT;
				if (l->in.last > GEO_V4_FANOUT - 1)
					l->in.last = GEO_V4_FANOUT - 1;
			}
		}
		base += cnt;
	}
}

/*
 * The IPv4 part of the image: the index entry of every /16, and the tree
 * of every /16 that is not one country. Segments are sorted, the first
 * starts at 0, and a segment's start is where its country begins, so a
 * /16 is one country exactly when no segment starts inside it past its
 * first address. With img NULL it only counts the lines and trees.
 */
static void v4_trees(union geo_block *img, const struct geo_list *l, struct v4_keys *k,
		     __u32 *lines, __u32 *trees)
{
	const struct geo_bound *b = l->b;
	size_t n = l->n, seg = 0;
	__u32 p16, base, sizes[GEO_V6_MAX_DEPTH], depth, r, line = 0;
	__u32 *ie;

	*trees = 0;
	for (p16 = 0; p16 < (1u << 16); p16++) {
		base = p16 << 16;
		while (seg + 1 < n && b[seg + 1].start <= base)
			seg++;
		ie = img ? &img[geo_idx_block(GEO_V4_IDX_BASE, p16)].v4idx[geo_idx_slot(p16)] : NULL;
		if (!(seg + 1 < n && b[seg + 1].start <= (geo_u128)base + 0xffff)) {
			if (ie)
				*ie = GEO_V4_DIRECT | b[seg].cc;
			continue;
		}
		k->n = 0;
		for (;;) {
			k->key[k->n] = b[seg].start > base ? (__u16)(b[seg].start - base) : 0;
			k->cc[k->n++] = b[seg].cc;
			if (!(seg + 1 < n && b[seg + 1].start <= (geo_u128)base + 0xffff))
				break;
			seg++;
		}
		/* At most 65,536 keys: four levels, never -E2BIG. */
		depth = (__u32)tree_sizes(k->n, GEO_V4_FANOUT, GEO_V4_FANOUT, sizes);
		if (img) {
			*ie = (depth - 1) << GEO_V4_DEPTH_SHIFT | line;
			v4_tree_fill(img, line, k, sizes, depth);
		}
		for (r = 0; r < depth; r++)
			line += sizes[r];
		(*trees)++;
	}
	*lines = line;
}

static void v6_key(const struct geo_bound *b, struct geo_v6_key *k)
{
	k->hi = (__u64)(b->start >> 64);
	k->lo = (__u64)b->start;
}

/* Exception-tree leaves from the segments, then each level from the first keys below. */
static void fill_exceptions(union geo_block *img, const struct geo_list *l,
			    const struct geo_header *h)
{
	__u32 depth = h->v6_depth, r, j, s, nodes, below, child;
	size_t idx;

	r = depth - 1;
	nodes = h->v6_level_last[r] - h->v6_level_base[r] + 1;
	for (j = 0; j < nodes; j++) {
		union geo_block *b = &img[h->v6_level_base[r] + j];

		for (s = 0; s < GEO_V6_LEAF; s++) {
			idx = (size_t)j * GEO_V6_LEAF + s;
			if (idx >= l->n)
				idx = l->n - 1;
			v6_key(&l->b[idx], &b->leaf.key[s]);
			b->leaf.cc[s] = l->b[idx].cc;
		}
	}
	while (r-- > 0) {
		nodes = h->v6_level_last[r] - h->v6_level_base[r] + 1;
		below = h->v6_level_last[r + 1] - h->v6_level_base[r + 1] + 1;
		for (j = 0; j < nodes; j++) {
			union geo_block *b = &img[h->v6_level_base[r] + j];

			for (s = 0; s < GEO_V6_FANOUT; s++) {
				child = j * GEO_V6_FANOUT + s;
				if (child >= below)
					child = below - 1;
				/* Slot 0 of a child holds its first key at every level. */
				b->inner[s] = img[h->v6_level_base[r + 1] + child].inner[0];
			}
		}
	}
}

struct ckey {
	__u64 key;
	__u16 cc;
};

struct clist {
	struct ckey *k;
	size_t n;
};

/* Sets the /64 tree's country from key on; a later set at the same key wins. */
static void cset(struct clist *c, __u64 key, __u16 cc)
{
	if (c->n && c->k[c->n - 1].key == key) {
		c->n--;
		if (c->n && c->k[c->n - 1].cc == cc)
			return;
	}
	if (c->n && c->k[c->n - 1].cc == cc)
		return;
	c->k[c->n++] = (struct ckey){ .key = key, .cc = cc };
}

/*
 * Splits the IPv6 segments into the /64 tree's keys and the exception
 * list: a /64 with a segment starting inside it answers GEO_V6_EXCEPTION
 * in the /64 tree, and the exception list holds its country at its first
 * address and every start inside it.
 */
static int split_v6(const struct geo_list *l, struct clist *c, struct geo_list *exc)
{
	const struct geo_bound *b = l->b;
	size_t i = 0, j, k;
	__u64 h;

	c->k = malloc((2 * l->n + 1) * sizeof(*c->k));
	if (!c->k)
		return -ENOMEM;
	c->n = 0;
	while (i < l->n) {
		h = (__u64)(b[i].start >> 64);
		for (j = i; j < l->n && (__u64)(b[j].start >> 64) == h; j++)
			;
		if (j - i == 1 && !(__u64)b[i].start) {
			cset(c, h, b[i].cc);
		} else {
			/* b[0] starts at ::, so i > 0 whenever b[i] starts inside the /64. */
			__u16 first = (__u64)b[i].start ? b[i - 1].cc : b[i].cc;

			cset(c, h, GEO_V6_EXCEPTION);
			if (list_push(exc, (geo_u128)h << 64, first))
				return -ENOMEM;
			for (k = i; k < j; k++)
				if ((__u64)b[k].start && list_push(exc, b[k].start, b[k].cc))
					return -ENOMEM;
			if (h != ~0ull)
				cset(c, h + 1, b[j - 1].cc);
		}
		i = j;
	}
	if (!exc->n && list_push(exc, 0, COUNTRY_ZZ))
		return -ENOMEM;
	return 0;
}

static struct geo_v6c_node *cnode(union geo_block *img, const struct geo_header *h, __u32 n)
{
	return &img[h->v6c_block + n / GEO_V6C_PER_BLOCK].c[n % GEO_V6C_PER_BLOCK];
}

static void fill_coarse(union geo_block *img, const struct clist *c, const struct geo_header *h)
{
	__u32 depth = h->v6c_depth, r, j, s, nodes, below, child;
	size_t idx;

	r = depth - 1;
	nodes = h->v6c_level_last[r] - h->v6c_level_base[r] + 1;
	for (j = 0; j < nodes; j++) {
		struct geo_v6c_node *nd = cnode(img, h, h->v6c_level_base[r] + j);

		for (s = 0; s < GEO_V6C_LEAF; s++) {
			idx = (size_t)j * GEO_V6C_LEAF + s;
			if (idx >= c->n)
				idx = c->n - 1;
			nd->leaf.key[s] = c->k[idx].key;
			nd->leaf.cc[s] = c->k[idx].cc;
		}
	}
	while (r-- > 0) {
		nodes = h->v6c_level_last[r] - h->v6c_level_base[r] + 1;
		below = h->v6c_level_last[r + 1] - h->v6c_level_base[r + 1] + 1;
		for (j = 0; j < nodes; j++) {
			struct geo_v6c_node *nd = cnode(img, h, h->v6c_level_base[r] + j);

			for (s = 0; s < GEO_V6C_FANOUT; s++) {
				child = j * GEO_V6C_FANOUT + s;
				if (child >= below)
					child = below - 1;
				nd->inner[s] = cnode(img, h, h->v6c_level_base[r + 1] + child)->inner[0];
			}
		}
	}
}

/*
 * The IPv6 index: for the /16s of the upper 64 bits, and 7 bits further
 * where the data is dense, the deepest /64-tree node that every search
 * for an address in that range passes through, so a lookup starts there
 * instead of at the root. The tree is static and implicit, so a search
 * for hi ends in the leaf holding the last key <= hi, and passes exactly
 * that leaf's ancestors; for a range [lo, hi] that is the deepest common
 * ancestor of the leaves of lo and hi.
 */
struct v6x_build {
	const struct clist *c;
	__u32 depth;
	__u32 base[GEO_V6_MAX_DEPTH];	/* first node of each level, root first */
	__u32 *e;	/* GEO_IDX_PER_BLOCK entries a block: the /16 level, then sub-indexes */
	__u32 nsub;	/* sub-index blocks used */
};

/* The leaf a search for hi ends in (the first key is 0). */
static __u32 v6x_leaf(const struct clist *c, __u64 hi)
{
	size_t lo = 0, n = c->n, half;

	while (n > 1) {
		half = n / 2;
		if (c->k[lo + half].key <= hi)
			lo += half;
		n -= half;
	}
	return (__u32)(lo / GEO_V6C_LEAF);
}

/*
 * A range whose search would still visit this many tree levels gets a
 * sub-index block, while blocks last. On the full database four takes
 * 241 blocks; three took all 2,048, running out before the last /16s.
 */
#define V6X_SPLIT_VISITS 4

static void v6x_entry(struct v6x_build *x, __u64 lo, __u32 shift, __u32 *out)
{
	__u64 hi = lo + ((1ull << shift) - 1);
	__u32 la = v6x_leaf(x->c, lo), lb = v6x_leaf(x->c, hi);
	__u32 level = x->depth - 1, span = 1, i, s;

	while (la / span != lb / span) {
		span *= GEO_V6C_FANOUT;
		level--;
	}
	if (x->depth - level >= V6X_SPLIT_VISITS && shift >= GEO_V6X_SUB_BITS &&
	    x->nsub < GEO_V6X_MAX_BLOCKS) {
		s = GEO_V6X_TOP_BLOCKS + x->nsub++;
		*out = GEO_V6X_SUB | s;	/* made absolute when the image is laid out */
		shift -= GEO_V6X_SUB_BITS;
		for (i = 0; i < GEO_IDX_PER_BLOCK; i++)
			v6x_entry(x, lo + ((__u64)i << shift), shift,
				  &x->e[(size_t)s * GEO_IDX_PER_BLOCK + i]);
		return;
	}
	*out = level << GEO_V6X_LEVEL_SHIFT | (x->base[level] + la / span);
}

/* Fills x->e; x->c, x->depth and x->base set. */
static void v6x_build(struct v6x_build *x)
{
	__u32 p16;

	for (p16 = 0; p16 < 65536; p16++)
		v6x_entry(x, (__u64)p16 << 48, 48, &x->e[p16]);
}

/* Copies the index into its blocks, sub-index references made absolute. */
static void fill_v6x(union geo_block *img, const struct geo_header *h,
		     const struct v6x_build *x)
{
	__u32 *dst = img[h->v6x_block].v6idx, i, n, e;

	n = (GEO_V6X_TOP_BLOCKS + x->nsub) * GEO_IDX_PER_BLOCK;
	for (i = 0; i < n; i++) {
		e = x->e[i];
		dst[i] = e & GEO_V6X_SUB ? e + h->v6x_block : e;
	}
}

static int table_compile(struct geo_table *t)
{
	__u32 csizes[GEO_V6_MAX_DEPTH], xsizes[GEO_V6_MAX_DEPTH], lines, trees, v4_blocks, next, r;
	__u32 cnodes = 0;
	struct v4_keys *k4 = NULL;
	struct geo_list exc = {};
	struct clist c = {};
	struct v6x_build x = {};
	union geo_block *img = NULL;
	struct geo_header *h;
	int cdepth, xdepth, err;
	size_t n_blocks;

	if (!t->dirty)
		return 0;
	k4 = malloc(sizeof(*k4));
	if (!k4)
		return -ENOMEM;
	v4_trees(NULL, &t->fam[GEO_V4], k4, &lines, &trees);
	/* The first block past the IPv4 trees' last line. */
	v4_blocks = geo_v4_line_block(lines + GEO_V4_PER_BLOCK - 1);
	err = split_v6(&t->fam[GEO_V6], &c, &exc);
	if (err)
		goto cleanup;
	cdepth = tree_sizes(c.n, GEO_V6C_LEAF, GEO_V6C_FANOUT, csizes);
	xdepth = tree_sizes(exc.n, GEO_V6_LEAF, GEO_V6_FANOUT, xsizes);
	err = -E2BIG;
	if (cdepth < 0 || xdepth < 0)
		goto cleanup;
	for (r = 0; r < (__u32)cdepth; r++)
		cnodes += csizes[r];
	err = -ENOMEM;
	x.e = calloc((size_t)(GEO_V6X_TOP_BLOCKS + GEO_V6X_MAX_BLOCKS) * GEO_IDX_PER_BLOCK,
		     sizeof(*x.e));
	if (!x.e)
		goto cleanup;
	x.c = &c;
	x.depth = (__u32)cdepth;
	/* Root first: level r of a tree is sizes[depth - 1 - r]. */
	for (r = 0, next = 0; r < (__u32)cdepth; r++) {
		x.base[r] = next;
		next += csizes[cdepth - 1 - r];
	}
	v6x_build(&x);
	err = -E2BIG;
	n_blocks = v4_blocks + GEO_V6X_TOP_BLOCKS + x.nsub +
		   (cnodes + GEO_V6C_PER_BLOCK - 1) / GEO_V6C_PER_BLOCK;
	for (r = 0; r < (__u32)xdepth; r++)
		n_blocks += xsizes[r];
	if (n_blocks > GEO_TABLE_BLOCKS)
		goto cleanup;
	err = -ENOMEM;
	img = calloc(n_blocks, sizeof(*img));
	if (!img)
		goto cleanup;
	h = &img[0].hdr;
	h->magic = GEO_HDR_MAGIC;
	h->n_blocks = (__u32)n_blocks;
	h->v4_lines = lines;
	h->v4_trees = trees;
	h->v6c_depth = (__u32)cdepth;
	h->v6x_block = v4_blocks;
	h->v6x_sub = x.nsub;
	h->v6c_block = h->v6x_block + GEO_V6X_TOP_BLOCKS + x.nsub;
	h->v6c_count = (__u32)c.n;
	for (r = 0; r < (__u32)cdepth; r++) {
		h->v6c_level_base[r] = x.base[r];
		h->v6c_level_last[r] = x.base[r] + csizes[cdepth - 1 - r] - 1;
	}
	h->v6_depth = (__u32)xdepth;
	h->v6_count = (__u32)exc.n;
	next = h->v6c_block + (cnodes + GEO_V6C_PER_BLOCK - 1) / GEO_V6C_PER_BLOCK;
	for (r = 0; r < (__u32)xdepth; r++) {
		h->v6_level_base[r] = next;
		next += xsizes[xdepth - 1 - r];
		h->v6_level_last[r] = next - 1;
	}
	v4_trees(img, &t->fam[GEO_V4], k4, &lines, &trees);
	fill_v6x(img, h, &x);
	fill_coarse(img, &c, h);
	fill_exceptions(img, &exc, h);
	table_hash(t);
	memcpy(h->table_sha256, t->hash, SHA256_LEN);
	free(t->image);
	t->image = img;
	img = NULL;
	t->n_blocks = n_blocks;
	t->dirty = false;
	err = 0;
cleanup:
	free(k4);
	free(img);
	free(c.k);
	free(exc.b);
	free(x.e);
	return err;
}

const union geo_block *geo_table_image(struct geo_table *t, size_t *n_blocks)
{
	if (table_compile(t))
		return NULL;
	*n_blocks = t->n_blocks;
	return t->image;
}

const unsigned char *geo_table_hash(struct geo_table *t)
{
	if (table_compile(t))
		return NULL;
	return t->hash;
}

/* --- the mirror ---------------------------------------------------------------- */

static __u16 mirror_v4(const union geo_block *img, __u32 host)
{
	__u32 e = img[geo_idx_block(GEO_V4_IDX_BASE, host >> 16)].v4idx[geo_idx_slot(host >> 16)];
	__u32 line, depth, level, i;
	const struct geo_v4_line *l;

	if (e & GEO_V4_DIRECT)
		return (__u16)e;
	line = e & GEO_V4_LINE_MASK;
	depth = (e >> GEO_V4_DEPTH_SHIFT) & (GEO_V4_MAX_DEPTH - 1);
	for (level = 0;; level++) {
		l = &img[geo_v4_line_block(line)].v4[geo_v4_line_slot(line)];
		i = geo_v4_rank(l->key, host & 0xffff);
		if (level >= depth)
			return l->cc[i];
		line = geo_v4_child(l, i);
	}
}

__u16 geo_table_lookup_v4(struct geo_table *t, __u32 addr)
{
	if (table_compile(t))
		return COUNTRY_ZZ;
	return mirror_v4(t->image, ntohl(addr));
}

static __u16 mirror_exception(const union geo_block *img, const struct geo_header *h,
			      __u64 hi, __u64 lo)
{
	const union geo_block *b;
	__u32 idx = h->v6_level_base[0], i, level;

	for (level = 0; level < h->v6_depth; level++) {
		b = &img[idx];
		if (level + 1 >= h->v6_depth) {
			i = geo_node_rank(b->leaf.key, GEO_V6_LEAF, hi, lo);
			return b->leaf.cc[i];
		}
		i = geo_node_rank(b->inner, GEO_V6_FANOUT, hi, lo);
		idx = geo_v6_child(h, level, idx, i);
	}
	return COUNTRY_ZZ;
}

__u16 geo_table_lookup_v6(struct geo_table *t, const __u32 addr[4])
{
	const struct geo_v6c_node *nd;
	const union geo_block *img;
	const struct geo_header *h;
	__u32 node, i, level, e, shift, k;
	__u16 cc = COUNTRY_ZZ;
	__u64 hi, lo;

	if (table_compile(t))
		return COUNTRY_ZZ;
	img = t->image;
	if (geo_v6_is_v4(addr, htonl(0xffff)))
		return mirror_v4(img, ntohl(addr[3]));
	h = &img[0].hdr;
	hi = ((__u64)ntohl(addr[0]) << 32) | ntohl(addr[1]);
	lo = ((__u64)ntohl(addr[2]) << 32) | ntohl(addr[3]);
	k = (__u32)(hi >> 48);
	e = img[geo_idx_block(h->v6x_block, k)].v6idx[geo_idx_slot(k)];
	for (shift = 48, k = 0; k < GEO_V6X_MAX_SUB && (e & GEO_V6X_SUB); k++) {
		shift -= GEO_V6X_SUB_BITS;
		e = img[e & ~GEO_V6X_SUB].v6idx[geo_idx_slot((__u32)(hi >> shift))];
	}
	if (e & GEO_V6X_SUB)
		return COUNTRY_ZZ;
	node = e & GEO_V6X_NODE_MASK;
	for (level = e >> GEO_V6X_LEVEL_SHIFT; level < h->v6c_depth; level++) {
		nd = &img[h->v6c_block + node / GEO_V6C_PER_BLOCK].c[node % GEO_V6C_PER_BLOCK];
		if (level + 1 >= h->v6c_depth) {
			i = geo_c_rank(nd->leaf.key, GEO_V6C_LEAF, hi);
			cc = nd->leaf.cc[i];
			break;
		}
		i = geo_c_rank(nd->inner, GEO_V6C_FANOUT, hi);
		node = geo_v6c_child(h, level, node, i);
	}
	if (cc != GEO_V6_EXCEPTION)
		return cc;
	return mirror_exception(img, h, hi, lo);
}

int geo_table_lookup_str(struct geo_table *t, const char *ip, __u16 *cc)
{
	geo_u128 v;
	__u32 w[4];
	int fam;

	if (geo_parse_addr(ip, &fam, &v))
		return -EINVAL;
	geo_u128_to_words(v, w);
	*cc = fam == GEO_V4 ? geo_table_lookup_v4(t, w[3]) : geo_table_lookup_v6(t, w);
	return 0;
}

/* --- prefixes and facts -------------------------------------------------------- */

static int low_zero_bits(geo_u128 v, int bits)
{
	int n = 0;

	while (n < bits && !(v & 1)) {
		v >>= 1;
		n++;
	}
	return n;
}

int geo_table_foreach_prefix(struct geo_table *t, int family,
			     int (*fn)(int family, const __u32 addr[4], int len,
				       __u16 cc, void *arg),
			     void *arg)
{
	int fam = family == 4 ? GEO_V4 : GEO_V6, bits = geo_fam_bits(fam), k, rc;
	const struct geo_list *l = &t->fam[fam];
	geo_u128 s, e, size;
	__u32 w[4];
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (l->b[i].cc == COUNTRY_ZZ)
			continue;
		s = l->b[i].start;
		e = i + 1 < l->n ? l->b[i + 1].start - 1 : geo_fam_max(fam);
		for (;;) {
			k = low_zero_bits(s, bits);
			/* Shrink the block until it ends inside the segment. */
			while (k > 0 && (k >= 128 || s + (((geo_u128)1 << k) - 1) > e))
				k--;
			if (fam == GEO_V4) {
				w[0] = htonl((__u32)s);
				w[1] = w[2] = w[3] = 0;
			} else {
				geo_u128_to_words(s, w);
			}
			rc = fn(family, w, bits - k, l->b[i].cc, arg);
			if (rc)
				return rc;
			if (k >= 128)
				break;
			size = (geo_u128)1 << k;
			if (s + (size - 1) >= e)
				break;
			s += size;
		}
	}
	return 0;
}

static int count_prefix(int family, const __u32 addr[4], int len, __u16 cc, void *arg)
{
	(void)family;
	(void)addr;
	(void)len;
	(void)cc;
	(*(__u64 *)arg)++;
	return 0;
}

int geo_table_info(struct geo_table *t, struct geo_table_info *info)
{
	bool seen[COUNTRY_MAX] = {};
	const struct geo_header *h;
	int err, fam;
	size_t i;

	err = table_compile(t);
	if (err)
		return err;
	memset(info, 0, sizeof(*info));
	snprintf(info->source, sizeof(info->source), "%s", t->source);
	info->format = t->format;
	info->source_epoch = t->source_epoch;
	info->build_time = t->build_time;
	info->v4_segments = t->fam[GEO_V4].n;
	info->v6_segments = t->fam[GEO_V6].n;
	geo_table_foreach_prefix(t, 4, count_prefix, &info->v4_prefixes);
	geo_table_foreach_prefix(t, 6, count_prefix, &info->v6_prefixes);
	for (fam = 0; fam < 2; fam++)
		for (i = 0; i < t->fam[fam].n; i++)
			if (t->fam[fam].b[i].cc < COUNTRY_MAX)
				seen[t->fam[fam].b[i].cc] = true;
	for (i = 1; i < COUNTRY_MAX; i++)
		info->countries += seen[i];
	h = &t->image[0].hdr;
	info->v4_lines = h->v4_lines;
	info->v4_trees = h->v4_trees;
	info->v6_depth = h->v6c_depth;
	info->v6_index_blocks = h->v6x_sub;
	info->v6_exception_depth = h->v6_depth;
	info->v6_exceptions = h->v6_count;
	info->kernel_bytes = (__u64)GEO_TABLE_BLOCKS * GEO_BLOCK_SIZE;
	info->used_bytes = (__u64)t->n_blocks * GEO_BLOCK_SIZE;
	info->csv_overlaps = t->csv_overlaps;
	memcpy(info->hash, t->hash, SHA256_LEN);
	memcpy(info->source_hash, t->source_hash, SHA256_LEN);
	return 0;
}
