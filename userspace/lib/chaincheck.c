// SPDX-License-Identifier: BSD-2-Clause
/*
 * Offline bundle verification; see chaincheck.h. Two passes: the bundle in
 * file order (framing, signatures, reordering), then the batches sorted by
 * (node, epoch, seq) (duplicates, gaps, links, epoch markers). Gaps the
 * agent declared as spool drops are still gaps, but the line says so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaincheck.h"

static const char *const problem_names[CHK_MAX] = {
	[CHK_MALFORMED] = "malformed",
	[CHK_UNKNOWN_KEY] = "unknown key",
	[CHK_BAD_SIGNATURE] = "bad signature",
	[CHK_DUPLICATE] = "duplicate with different content",
	[CHK_REORDERED] = "reordered",
	[CHK_GAP] = "missing batch (gap)",
	[CHK_BROKEN_LINK] = "broken link",
	[CHK_EPOCH_MARKER] = "bad epoch marker",
};

const char *chk_problem_name(enum chk_problem p)
{
	return (unsigned)p < CHK_MAX ? problem_names[p] : "?";
}

struct chk_ctx {
	const struct chk_options *opt;
	struct chk_summary *sum;
	struct chk_batch *b;
	size_t n, cap;
	struct telem_drop *drops;	/* declared by the agents */
	char (*drop_nodes)[TELEM_NODE_MAX];
	size_t n_drops, cap_drops;
};

__attribute__((format(printf, 6, 7)))
static void problem(struct chk_ctx *c, enum chk_problem kind, const char *node,
		    __u64 epoch, __u64 seq, const char *fmt, ...)
{
	char line[512], detail[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "node %s epoch %llu seq %llu: %s%s%s", node,
		 (unsigned long long)epoch, (unsigned long long)seq, chk_problem_name(kind),
		 *detail ? ": " : "", detail);
	c->sum->problems[kind]++;
	c->sum->n_problems++;
	if (c->opt->problem)
		c->opt->problem(c->opt->arg, kind, line);
}

static int note_drops(struct chk_ctx *c, const Customs__Batch *b)
{
	size_t i, cap;
	void *p;

	for (i = 0; i < b->n_events; i++) {
		const Customs__SpoolDrop *d = b->events[i]->spool_drop;

		if (b->events[i]->kind != CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP || !d)
			continue;
		if (c->n_drops == c->cap_drops) {
			cap = c->cap_drops ? 2 * c->cap_drops : 8;
			p = realloc(c->drops, cap * sizeof(*c->drops));
			if (!p)
				return -ENOMEM;
			c->drops = p;
			p = realloc(c->drop_nodes, cap * sizeof(*c->drop_nodes));
			if (!p)
				return -ENOMEM;
			c->drop_nodes = p;
			c->cap_drops = cap;
		}
		c->drops[c->n_drops].epoch = d->epoch;
		c->drops[c->n_drops].first_seq = d->first_seq;
		c->drops[c->n_drops].last_seq = d->last_seq;
		snprintf(c->drop_nodes[c->n_drops], TELEM_NODE_MAX, "%s", b->node_id);
		c->n_drops++;
	}
	return 0;
}

/* Is every seq of first..last inside some run the node said it dropped? */
static bool declared_dropped(const struct chk_ctx *c, const char *node, __u64 epoch,
			     __u64 first, __u64 last)
{
	__u64 cur = first;
	bool advanced = true;
	size_t i;

	while (cur <= last && advanced) {
		advanced = false;
		for (i = 0; i < c->n_drops; i++) {
			if (strcmp(c->drop_nodes[i], node) || c->drops[i].epoch != epoch ||
			    c->drops[i].first_seq > cur || c->drops[i].last_seq < cur)
				continue;
			if (c->drops[i].last_seq >= last)
				return true;
			cur = c->drops[i].last_seq + 1;
			advanced = true;
		}
	}
	return false;
}

static int add_batch(struct chk_ctx *c, const struct telem_signed *s, bool trusted)
{
	struct chk_batch *b;
	size_t cap;

	if (c->n == c->cap) {
		cap = c->cap ? 2 * c->cap : 256;
		b = realloc(c->b, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		c->b = b;
		c->cap = cap;
	}
	b = &c->b[c->n];
	memset(b, 0, sizeof(*b));
	snprintf(b->node, sizeof(b->node), "%s", s->batch->node_id);
	b->epoch = s->batch->epoch;
	b->seq = s->batch->seq;
	memcpy(b->hash, s->hash, SHA256_LEN);
	if (s->batch->prev_hash.len == SHA256_LEN) {
		memcpy(b->prev_hash, s->batch->prev_hash.data, SHA256_LEN);
		b->has_prev = true;
	}
	b->new_epoch = s->batch->new_epoch;
	b->trusted = trusted;
	b->index = c->n;
	c->n++;
	return 0;
}

/* Pass 1: framing and signatures, in file order. */
static int read_bundle(struct chk_ctx *c, const unsigned char *buf, size_t len,
		       const struct telem_keyring *keys)
{
	const unsigned char *rec;
	struct telem_signed s;
	size_t off = 0, rlen;
	int rc, err, v;

	while ((rc = telem_bundle_next(buf, len, &off, &rec, &rlen)) > 0) {
		if (telem_decode(rec, rlen, &s)) {
			problem(c, CHK_MALFORMED, "?", 0, 0, "record %zu is not a SignedBatch",
				c->n + 1);
			continue;
		}
		v = telem_verify(&s, keys);
		if (v == -ENOKEY)
			problem(c, CHK_UNKNOWN_KEY, s.batch->node_id, s.batch->epoch, s.batch->seq,
				"key %s is not in the key directory", s.key_id_hex);
		else if (v)
			problem(c, CHK_BAD_SIGNATURE, s.batch->node_id, s.batch->epoch, s.batch->seq,
				"key %s", s.key_id_hex);
		err = add_batch(c, &s, v == 0);
		if (!err && v == 0)
			err = note_drops(c, s.batch);
		telem_signed_free(&s);
		if (err)
			return err;
		c->sum->batches++;
	}
	if (rc < 0)
		problem(c, CHK_MALFORMED, "?", 0, 0, "bundle framing broken at byte %zu of %zu",
			off, len);
	return 0;
}

static bool same_chain(const struct chk_batch *a, const struct chk_batch *b)
{
	return a->epoch == b->epoch && !strcmp(a->node, b->node);
}

static int cmp_batch(const void *x, const void *y)
{
	const struct chk_batch *a = x, *b = y;
	int r = strcmp(a->node, b->node);

	if (r)
		return r;
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_file_order(const void *x, const void *y)
{
	const struct chk_batch *a = x, *b = y;
	int r = strcmp(a->node, b->node);

	if (r)
		return r;
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* An identical copy earlier in the same chain (file order sorted)? */
static bool seen_before(const struct chk_ctx *c, size_t i)
{
	size_t j;

	for (j = i; j-- > 0 && same_chain(&c->b[j], &c->b[i]);)
		if (c->b[j].seq == c->b[i].seq && !memcmp(c->b[j].hash, c->b[i].hash, SHA256_LEN))
			return true;
	return false;
}

/*
 * Reordering: within a chain, in file order, seq must never go down. An
 * identical copy of an earlier batch is redelivery, not reordering.
 */
static void check_order(struct chk_ctx *c)
{
	__u64 max = 0;
	size_t i;

	qsort(c->b, c->n, sizeof(*c->b), cmp_file_order);
	for (i = 0; i < c->n; i++) {
		if (i && same_chain(&c->b[i - 1], &c->b[i]) && c->b[i].seq < max) {
			if (seen_before(c, i))
				continue;
			problem(c, CHK_REORDERED, c->b[i].node, c->b[i].epoch, c->b[i].seq,
				"comes after seq %llu in the bundle", (unsigned long long)max);
			continue;
		}
		if (!i || !same_chain(&c->b[i - 1], &c->b[i]) || c->b[i].seq > max)
			max = c->b[i].seq;
	}
}

static void check_gap(struct chk_ctx *c, const struct chk_batch *b, __u64 first, __u64 last)
{
	bool declared = declared_dropped(c, b->node, b->epoch, first, last);

	problem(c, CHK_GAP, b->node, b->epoch, first,
		"seq %llu..%llu (%llu batch(es)) not in the bundle%s",
		(unsigned long long)first, (unsigned long long)last,
		(unsigned long long)(last - first + 1),
		declared ? "; the agent reported them dropped from its spool" : "");
}

static void check_start(struct chk_ctx *c, const struct chk_batch *b)
{
	c->sum->epochs++;
	if (b->seq == 0) {
		if (!b->new_epoch || b->has_prev)
			problem(c, CHK_EPOCH_MARKER, b->node, b->epoch, b->seq,
				"seq 0 must carry the new-epoch marker and no prev_hash");
	} else if (!c->opt->partial) {
		check_gap(c, b, 0, b->seq - 1);
	}
}

/* Pass 2: on the sorted batches. */
static void check_chains(struct chk_ctx *c)
{
	const struct chk_batch *prev = NULL, *b;
	size_t i;

	for (i = 0; i < c->n; i++) {
		b = &c->b[i];
		if (!prev || strcmp(prev->node, b->node))
			c->sum->nodes++;
		if (!prev || !same_chain(prev, b)) {
			check_start(c, b);
			prev = b;
			continue;
		}
		if (b->seq == prev->seq) {
			if (memcmp(b->hash, prev->hash, SHA256_LEN))
				problem(c, CHK_DUPLICATE, b->node, b->epoch, b->seq,
					"record %zu differs from record %zu", b->index + 1,
					prev->index + 1);
			else
				c->sum->duplicates++;
			continue;
		}
		if (b->seq > prev->seq + 1)
			check_gap(c, b, prev->seq + 1, b->seq - 1);
		else if (prev->trusted && b->trusted &&
			 (!b->has_prev || memcmp(b->prev_hash, prev->hash, SHA256_LEN)))
			problem(c, CHK_BROKEN_LINK, b->node, b->epoch, b->seq,
				"prev_hash is not the hash of seq %llu",
				(unsigned long long)prev->seq);
		if (b->new_epoch)
			problem(c, CHK_EPOCH_MARKER, b->node, b->epoch, b->seq,
				"new-epoch marker on a batch after seq 0");
		prev = b;
	}
}

int chaincheck_bundle(const unsigned char *buf, size_t len, const struct telem_keyring *keys,
		      const struct chk_options *opt, struct chk_summary *sum)
{
	struct chk_ctx c = { .opt = opt, .sum = sum };
	int err;

	memset(sum, 0, sizeof(*sum));
	err = read_bundle(&c, buf, len, keys);
	if (!err) {
		if (c.n) {
			check_order(&c);
			qsort(c.b, c.n, sizeof(*c.b), cmp_batch);
		}
		check_chains(&c);
	}
	free(c.b);
	free(c.drops);
	free(c.drop_nodes);
	return err ? err : (int)sum->n_problems;
}
