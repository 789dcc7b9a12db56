// SPDX-License-Identifier: BSD-2-Clause
/* The collector's checks and storage of one batch; see ingest.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "transport.h"

void ingest_init(struct ingest *in, struct store *store, const struct telem_keyring *keys,
		 __u64 grace_ms)
{
	memset(in, 0, sizeof(*in));
	in->store = store;
	in->keys = keys;
	in->grace_ms = grace_ms;
}

void ingest_free(struct ingest *in)
{
	free(in->pend);
	memset(in, 0, sizeof(*in));
}

static int reject(struct ingest *in, const struct telem_signed *s, const char *peer,
		  struct ingest_outcome *out, const char *fmt, const char *arg)
{
	out->status = INGEST_REJECTED;
	snprintf(out->reason, sizeof(out->reason), fmt, arg);
	in->rejected++;
	pr_warn("rejected batch from %s: node %s epoch %llu seq %llu: %s\n", peer, out->node,
		(unsigned long long)out->epoch, (unsigned long long)out->seq, out->reason);
	return store_add_reject(in->store, telem_now_ns(), peer, out->node, out->epoch, out->seq,
				s->key_id_hex, out->reason, s->raw, s->raw_len);
}

static int add_pending(struct ingest *in, const Customs__Batch *b)
{
	struct pending_gap *p;
	size_t cap;

	if (in->n_pend == in->cap_pend) {
		cap = in->cap_pend ? 2 * in->cap_pend : 16;
		p = realloc(in->pend, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		in->pend = p;
		in->cap_pend = cap;
	}
	p = &in->pend[in->n_pend++];
	snprintf(p->node, sizeof(p->node), "%s", b->node_id);
	p->epoch = b->epoch;
	p->seq = b->seq;
	p->due_ms = mono_ms() + in->grace_ms;
	return 0;
}

/* Link checks against stored neighbours; returns link_ok for the new batch. */
static int check_links(struct ingest *in, const struct telem_signed *s, bool *pred_missing)
{
	const Customs__Batch *b = s->batch;
	unsigned char hash[SHA256_LEN], prev[SHA256_LEN];
	int link_ok = -1, rc;

	*pred_missing = false;
	if (b->seq == 0) {
		link_ok = b->new_epoch && !b->prev_hash.len;
	} else {
		rc = store_find(in->store, b->node_id, b->epoch, b->seq - 1, hash, prev);
		if (rc < 0)
			return rc;
		if (rc)
			link_ok = b->prev_hash.len == SHA256_LEN &&
				  !memcmp(b->prev_hash.data, hash, SHA256_LEN);
		else
			*pred_missing = true;
	}
	if (link_ok == 0)
		pr_warn("broken link: node %s epoch %llu seq %llu does not chain to its predecessor\n",
			b->node_id, (unsigned long long)b->epoch, (unsigned long long)b->seq);
	rc = store_find(in->store, b->node_id, b->epoch, b->seq + 1, hash, prev);
	if (rc < 0)
		return rc;
	if (rc) {
		rc = !memcmp(prev, s->hash, SHA256_LEN);
		if (!rc)
			pr_warn("broken link: node %s epoch %llu seq %llu does not chain to its predecessor\n",
				b->node_id, (unsigned long long)b->epoch,
				(unsigned long long)b->seq + 1);
		if (store_set_link(in->store, b->node_id, b->epoch, b->seq + 1, rc))
			return -EIO;
	}
	return link_ok;
}

int ingest_batch(struct ingest *in, const void *raw, size_t len, const char *peer,
		 const char *peer_node, struct ingest_outcome *out)
{
	unsigned char hash[SHA256_LEN], prev[SHA256_LEN];
	struct telem_signed s;
	bool pred_missing;
	int err, link_ok;

	memset(out, 0, sizeof(*out));
	err = telem_decode(raw, len, &s);
	if (err) {
		out->status = INGEST_MALFORMED;
		snprintf(out->reason, sizeof(out->reason), "not a SignedBatch of format %d (%zu bytes)",
			 TELEM_FORMAT, len);
		in->malformed++;
		pr_warn("refused %zu bytes from %s: %s\n", len, peer, out->reason);
		return 0;
	}
	snprintf(out->node, sizeof(out->node), "%s", s.batch->node_id);
	out->epoch = s.batch->epoch;
	out->seq = s.batch->seq;
	err = telem_verify(&s, in->keys);
	if (err == -ENOKEY) {
		err = reject(in, &s, peer, out, "unknown key %s", s.key_id_hex);
		goto cleanup;
	}
	if (err) {
		err = reject(in, &s, peer, out, "bad signature (key %s)", s.key_id_hex);
		goto cleanup;
	}
	if (peer_node && strcmp(peer_node, s.batch->node_id)) {
		err = reject(in, &s, peer, out, "node id does not match the client certificate (CN=%s)",
			     peer_node);
		goto cleanup;
	}
	err = store_find(in->store, s.batch->node_id, s.batch->epoch, s.batch->seq, hash, prev);
	if (err < 0)
		goto cleanup;
	if (err) {
		if (!memcmp(hash, s.hash, SHA256_LEN)) {
			out->status = INGEST_DUPLICATE;
			in->duplicates++;
			err = 0;
		} else {
			err = reject(in, &s, peer, out,
				     "replay with different content (key %s): the stored batch is kept",
				     s.key_id_hex);
		}
		goto cleanup;
	}
	link_ok = check_links(in, &s, &pred_missing);
	if (link_ok < -1) {
		err = link_ok;
		goto cleanup;
	}
	err = store_insert(in->store, &s, link_ok, telem_now_ns());
	if (!err)
		err = store_fill_gap(in->store, s.batch->node_id, s.batch->epoch, s.batch->seq);
	if (!err && pred_missing)
		err = add_pending(in, s.batch);
	if (!err) {
		out->status = INGEST_STORED;
		out->counters = s.batch->n_counters;
		in->stored++;
		in->counters += s.batch->n_counters;
	}
cleanup:
	telem_signed_free(&s);
	return err;
}

int ingest_tick(struct ingest *in, __u64 now_ms)
{
	unsigned char hash[SHA256_LEN], prev[SHA256_LEN];
	struct pending_gap *p;
	__u64 below, first;
	size_t i = 0;
	int rc;

	while (i < in->n_pend) {
		p = &in->pend[i];
		if (p->due_ms > now_ms) {
			i++;
			continue;
		}
		rc = store_find(in->store, p->node, p->epoch, p->seq - 1, hash, prev);
		if (rc < 0)
			return rc;
		if (!rc) {
			rc = store_max_below(in->store, p->node, p->epoch, p->seq, &below);
			if (rc < 0)
				return rc;
			first = rc ? below + 1 : 0;
			pr_warn("gap: node %s epoch %llu seq %llu..%llu missing\n", p->node,
				(unsigned long long)p->epoch, (unsigned long long)first,
				(unsigned long long)p->seq - 1);
			if (store_add_gap(in->store, p->node, p->epoch, first, p->seq - 1,
					  telem_now_ns()))
				return -EIO;
			in->gaps++;
		}
		in->pend[i] = in->pend[--in->n_pend];
	}
	return 0;
}

int ingest_next_due(const struct ingest *in, __u64 now_ms)
{
	__u64 due = 0;
	size_t i;

	for (i = 0; i < in->n_pend; i++)
		if (!due || in->pend[i].due_ms < due)
			due = in->pend[i].due_ms;
	if (!in->n_pend)
		return -1;
	return due > now_ms ? (int)(due - now_ms) : 0;
}
