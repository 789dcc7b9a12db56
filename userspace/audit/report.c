// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-audit report: what a set of batches says, in text, JSON or CSV.
 * Traffic is summed per (tenant, model, country, direction, layer) with denied
 * and audit-mode traffic apart; epochs and gaps come from the chain check;
 * the policy and geo versions in force are runs of equal hashes over time,
 * per node. Without --keys the report says its input is unverified.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi_names.h"
#include "audit.h"
#include "chaincheck.h"
#include "store.h"
#include "strbuf.h"
#include "transport.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_CSV };

struct traffic {
	const char *tenant, *model, *country;	/* point into decoded batches */
	int direction;
	int layer;		/* a packet is seen at XDP and again at the socket layer */
	__u64 packets, bytes, deny_packets, deny_bytes, audit_packets, audit_bytes;
};

struct batch_info {
	char node[TELEM_NODE_MAX];
	__u64 epoch, seq, start, end;
	char policy[65], geo[65];
	char reason[64];
	bool new_epoch;
};

struct report {
	const char *node;
	const char *country;
	__u64 from, to;
	struct telem_signed *dec;		/* kept alive for the strings */
	size_t n_dec;
	struct traffic *t;
	size_t n_t, cap_t;
	struct batch_info *bi;
	size_t n_bi;
	__u64 deny_events, audit_events, drop_events, events_lost, meter_overflow;
	struct strbuf gaps;			/* one line each */
	struct strbuf problems;
	size_t n_gaps, n_problems;
	bool verified;
	bool guarantees;			/* --guarantees */
	bool alerts;				/* --alerts: the alert summary only */
};

static int add_traffic(struct report *r, const Customs__Counter *c)
{
	struct traffic *t;
	size_t cap;

	if (r->n_t == r->cap_t) {
		cap = r->cap_t ? 2 * r->cap_t : 1024;
		t = realloc(r->t, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		r->t = t;
		r->cap_t = cap;
	}
	t = &r->t[r->n_t++];
	memset(t, 0, sizeof(*t));
	t->tenant = c->tenant;
	t->model = c->model;
	t->country = c->country;
	t->direction = c->direction;
	t->layer = c->layer;
	t->packets = c->packets;
	t->bytes = c->bytes;
	if (c->verdict == CUSTOMS__VERDICT__DENY) {
		t->deny_packets = c->packets;
		t->deny_bytes = c->bytes;
	} else if (c->verdict == CUSTOMS__VERDICT__AUDIT) {
		t->audit_packets = c->packets;
		t->audit_bytes = c->bytes;
	}
	return 0;
}

static int cmp_traffic(const void *x, const void *y)
{
	const struct traffic *a = x, *b = y;
	int r;

	if ((r = strcmp(a->tenant, b->tenant)) || (r = strcmp(a->model, b->model)) ||
	    (r = strcmp(a->country, b->country)))
		return r;
	if (a->direction != b->direction)
		return a->direction - b->direction;
	return a->layer - b->layer;
}

/* Sorts and sums rows with the same key into one. */
static void merge_traffic(struct report *r)
{
	size_t i, o = 0;

	if (!r->n_t)
		return;
	qsort(r->t, r->n_t, sizeof(*r->t), cmp_traffic);
	for (i = 1; i < r->n_t; i++) {
		struct traffic *d = &r->t[o], *s = &r->t[i];

		if (cmp_traffic(d, s)) {
			r->t[++o] = *s;
			continue;
		}
		d->packets += s->packets;
		d->bytes += s->bytes;
		d->deny_packets += s->deny_packets;
		d->deny_bytes += s->deny_bytes;
		d->audit_packets += s->audit_packets;
		d->audit_bytes += s->audit_bytes;
	}
	r->n_t = o + 1;
}

static bool wanted(const struct report *r, const Customs__Batch *b)
{
	if (r->node && strcmp(r->node, b->node_id))
		return false;
	if (r->from && b->end_unix_ns < r->from)
		return false;
	if (r->to && b->start_unix_ns >= r->to)
		return false;
	return true;
}

static void hash_hex(const ProtobufCBinaryData *h, char out[65])
{
	if (h->len == SHA256_LEN)
		telem_hex(h->data, SHA256_LEN, out);
	else
		snprintf(out, 65, "-");
}

static int take_batch(struct report *r, struct telem_signed *s)
{
	const Customs__Batch *b = s->batch;
	struct batch_info *bi = &r->bi[r->n_bi++];
	size_t i;
	int err;

	snprintf(bi->node, sizeof(bi->node), "%s", b->node_id);
	bi->epoch = b->epoch;
	bi->seq = b->seq;
	bi->start = b->start_unix_ns;
	bi->end = b->end_unix_ns;
	bi->new_epoch = b->new_epoch;
	snprintf(bi->reason, sizeof(bi->reason), "%s", b->epoch_reason);
	hash_hex(&b->policy_hash, bi->policy);
	hash_hex(&b->geo_hash, bi->geo);
	r->events_lost += b->events_lost;
	r->meter_overflow += b->meter_overflow;
	for (i = 0; i < b->n_events; i++) {
		r->deny_events += b->events[i]->kind == CUSTOMS__EVENT_KIND__EVENT_DENY;
		r->audit_events += b->events[i]->kind == CUSTOMS__EVENT_KIND__EVENT_AUDIT;
		r->drop_events += b->events[i]->kind == CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP;
	}
	for (i = 0; i < b->n_counters; i++) {
		if (r->country && strcasecmp(r->country, b->counters[i]->country))
			continue;
		err = add_traffic(r, b->counters[i]);
		if (err)
			return err;
	}
	r->dec[r->n_dec++] = *s;
	return 0;
}

static int read_batches(struct report *r, const unsigned char *buf, size_t len)
{
	const unsigned char *rec;
	struct telem_signed s;
	size_t off = 0, rlen, n = 0;
	int rc;

	while ((rc = telem_bundle_next(buf, len, &off, &rec, &rlen)) > 0)
		n++;
	r->dec = calloc(n ? n : 1, sizeof(*r->dec));
	r->bi = calloc(n ? n : 1, sizeof(*r->bi));
	if (!r->dec || !r->bi)
		return -ENOMEM;
	off = 0;
	while ((rc = telem_bundle_next(buf, len, &off, &rec, &rlen)) > 0) {
		if (telem_decode(rec, rlen, &s))
			continue;
		if (!wanted(r, s.batch)) {
			telem_signed_free(&s);
			continue;
		}
		rc = take_batch(r, &s);
		if (rc) {
			telem_signed_free(&s);
			return rc;
		}
	}
	return 0;
}

static void on_problem(void *arg, enum chk_problem kind, const char *line)
{
	struct report *r = arg;
	char prefix[TELEM_NODE_MAX + 8];

	/* Lines start "node N "; --node keeps only that node's. */
	snprintf(prefix, sizeof(prefix), "node %s ", r->node ? r->node : "");
	if (r->node && strncmp(line, prefix, strlen(prefix)))
		return;
	if (kind == CHK_GAP) {
		strbuf_printf(&r->gaps, "%s\n", line);
		r->n_gaps++;
	} else if (r->verified) {
		strbuf_printf(&r->problems, "%s\n", line);
		r->n_problems++;
	}
}

static int cmp_info(const void *x, const void *y)
{
	const struct batch_info *a = x, *b = y;
	int r = strcmp(a->node, b->node);

	if (r)
		return r;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void fmt_time(__u64 ns, char out[32])
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_chain(const void *x, const void *y)
{
	const struct batch_info *a = x, *b = y;
	int r = strcmp(a->node, b->node);

	if (r)
		return r;
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Runs per node: of one epoch (epochs) or of equal policy and geo hashes. */
static void json_runs(struct strbuf *o, const struct report *r, bool epochs)
{
	char a[32], b[32];
	size_t i, j;
	bool first = true;

	for (i = 0; i < r->n_bi; i = j) {
		const struct batch_info *s = &r->bi[i];

		for (j = i + 1; j < r->n_bi && !strcmp(r->bi[j].node, s->node) &&
		     (epochs ? r->bi[j].epoch == s->epoch :
			       !strcmp(r->bi[j].policy, s->policy) && !strcmp(r->bi[j].geo, s->geo));
		     j++)
			;
		fmt_time(s->start, a);
		fmt_time(r->bi[j - 1].end, b);
		strbuf_puts(o, first ? "\n    {" : ",\n    {");
		first = false;
		strbuf_puts(o, "\"node\": ");
		strbuf_json_str(o, s->node);
		if (epochs) {
			strbuf_printf(o, ", \"epoch\": %llu, \"first_seq\": %llu, \"last_seq\": %llu, \"batches\": %zu, \"new_epoch_seen\": %s, \"reason\": ",
				      (unsigned long long)s->epoch, (unsigned long long)s->seq,
				      (unsigned long long)r->bi[j - 1].seq, j - i,
				      s->new_epoch ? "true" : "false");
			strbuf_json_str(o, s->reason);
		} else {
			strbuf_printf(o, ", \"policy_hash\": \"%s\", \"geo_hash\": \"%s\", \"batches\": %zu",
				      s->policy, s->geo, j - i);
		}
		strbuf_printf(o, ", \"from\": \"%s\", \"to\": \"%s\"}", a, b);
	}
}

static void text_runs(struct strbuf *o, const struct report *r, bool epochs, bool csv)
{
	char a[32], b[32];
	size_t i, j;

	for (i = 0; i < r->n_bi; i = j) {
		const struct batch_info *s = &r->bi[i];

		for (j = i + 1; j < r->n_bi && !strcmp(r->bi[j].node, s->node) &&
		     (epochs ? r->bi[j].epoch == s->epoch :
			       !strcmp(r->bi[j].policy, s->policy) && !strcmp(r->bi[j].geo, s->geo));
		     j++)
			;
		fmt_time(s->start, a);
		fmt_time(r->bi[j - 1].end, b);
		if (epochs)
			strbuf_printf(o, csv ? "%s,%llu,%llu,%llu,%zu,%s,%s,%s\n" :
					       "  %-20s %-20llu %8llu %8llu %8zu  %s .. %s  %s\n",
				      s->node, (unsigned long long)s->epoch,
				      (unsigned long long)s->seq, (unsigned long long)r->bi[j - 1].seq,
				      j - i, a, b, s->new_epoch ? s->reason : "(continued)");
		else
			strbuf_printf(o, csv ? "%s,%s,%s,%s,%s,%zu\n" : "  %-20s %s .. %s  policy %.16s  geo %.16s  (%zu batches)\n",
				      s->node, a, b, s->policy, s->geo, j - i);
	}
}

static void render_text(struct strbuf *o, const struct report *r)
{
	size_t i;

	strbuf_printf(o, "batches: %zu%s\n", r->n_bi, r->verified ? "" :
		      " (signatures NOT checked: pass --keys, or run customs-audit verify)");
	strbuf_printf(o, "events: %llu deny, %llu audit, %llu spool-drop; kernel events lost %llu, meter overflow %llu\n\n",
		      (unsigned long long)r->deny_events, (unsigned long long)r->audit_events,
		      (unsigned long long)r->drop_events, (unsigned long long)r->events_lost,
		      (unsigned long long)r->meter_overflow);
	strbuf_printf(o, "traffic (each layer apart: an allowed packet is seen at xdp and at skb):\n"
		      "  %-16s %-16s %-7s %-8s %-5s %12s %14s %12s %14s %12s %14s\n",
		      "tenant", "model", "country", "dir", "layer", "packets", "bytes", "deny_pkts",
		      "deny_bytes", "audit_pkts", "audit_bytes");
	for (i = 0; i < r->n_t; i++) {
		const struct traffic *t = &r->t[i];

		strbuf_printf(o, "  %-16s %-16s %-7s %-8s %-5s %12llu %14llu %12llu %14llu %12llu %14llu\n",
			      t->tenant, t->model, t->country,
			      direction_name((enum direction)t->direction),
			      layer_name((enum layer)t->layer),
			      (unsigned long long)t->packets, (unsigned long long)t->bytes,
			      (unsigned long long)t->deny_packets, (unsigned long long)t->deny_bytes,
			      (unsigned long long)t->audit_packets, (unsigned long long)t->audit_bytes);
	}
	strbuf_puts(o, "\nepochs:\n");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_chain);
	text_runs(o, r, true, false);
	strbuf_puts(o, "\npolicy and geo versions in force:\n");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_info);
	text_runs(o, r, false, false);
	strbuf_printf(o, "\ngaps: %zu\n%s", r->n_gaps, strbuf_str(&r->gaps));
	if (r->verified)
		strbuf_printf(o, "\nverification problems: %zu\n%s", r->n_problems,
			      strbuf_str(&r->problems));
}

static void render_csv(struct strbuf *o, const struct report *r)
{
	size_t i;

	strbuf_puts(o, "tenant,model,country,direction,layer,packets,bytes,deny_packets,deny_bytes,audit_packets,audit_bytes\n");
	for (i = 0; i < r->n_t; i++) {
		const struct traffic *t = &r->t[i];

		strbuf_printf(o, "%s,%s,%s,%s,%s,%llu,%llu,%llu,%llu,%llu,%llu\n", t->tenant, t->model,
			      t->country, direction_name((enum direction)t->direction),
			      layer_name((enum layer)t->layer),
			      (unsigned long long)t->packets, (unsigned long long)t->bytes,
			      (unsigned long long)t->deny_packets, (unsigned long long)t->deny_bytes,
			      (unsigned long long)t->audit_packets, (unsigned long long)t->audit_bytes);
	}
	strbuf_puts(o, "\nnode,epoch,first_seq,last_seq,batches,from,to,reason\n");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_chain);
	text_runs(o, r, true, true);
	strbuf_puts(o, "\nnode,from,to,policy_hash,geo_hash,batches\n");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_info);
	text_runs(o, r, false, true);
}

static void json_lines(struct strbuf *o, const struct strbuf *lines)
{
	const char *p = strbuf_str(lines), *nl;
	char line[600];
	bool first = true;

	for (; (nl = strchr(p, '\n')); p = nl + 1) {
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		strbuf_puts(o, first ? "\n    " : ",\n    ");
		strbuf_json_str(o, line);
		first = false;
	}
}

static void render_json(struct strbuf *o, const struct report *r)
{
	size_t i;

	strbuf_printf(o, "{\n  \"batches\": %zu,\n  \"verified\": %s,\n", r->n_bi,
		      r->verified ? "true" : "false");
	strbuf_printf(o, "  \"events\": {\"deny\": %llu, \"audit\": %llu, \"spool_drop\": %llu, \"kernel_lost\": %llu, \"meter_overflow\": %llu},\n",
		      (unsigned long long)r->deny_events, (unsigned long long)r->audit_events,
		      (unsigned long long)r->drop_events, (unsigned long long)r->events_lost,
		      (unsigned long long)r->meter_overflow);
	strbuf_puts(o, "  \"traffic\": [");
	for (i = 0; i < r->n_t; i++) {
		const struct traffic *t = &r->t[i];

		strbuf_puts(o, i ? ",\n    {\"tenant\": " : "\n    {\"tenant\": ");
		strbuf_json_str(o, t->tenant);
		strbuf_puts(o, ", \"model\": ");
		strbuf_json_str(o, t->model);
		strbuf_puts(o, ", \"country\": ");
		strbuf_json_str(o, t->country);
		strbuf_printf(o, ", \"direction\": \"%s\", \"layer\": \"%s\", \"packets\": %llu, \"bytes\": %llu, \"deny_packets\": %llu, \"deny_bytes\": %llu, \"audit_packets\": %llu, \"audit_bytes\": %llu}",
			      direction_name((enum direction)t->direction),
			      layer_name((enum layer)t->layer),
			      (unsigned long long)t->packets, (unsigned long long)t->bytes,
			      (unsigned long long)t->deny_packets, (unsigned long long)t->deny_bytes,
			      (unsigned long long)t->audit_packets, (unsigned long long)t->audit_bytes);
	}
	strbuf_puts(o, "\n  ],\n  \"epochs\": [");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_chain);
	json_runs(o, r, true);
	strbuf_puts(o, "\n  ],\n  \"versions\": [");
	qsort(r->bi, r->n_bi, sizeof(*r->bi), cmp_info);
	json_runs(o, r, false);
	strbuf_puts(o, "\n  ],\n  \"gaps\": [");
	json_lines(o, &r->gaps);
	strbuf_puts(o, "\n  ],\n  \"problems\": [");
	json_lines(o, &r->problems);
	strbuf_puts(o, "\n  ]\n}\n");
}

static int cmp_batch_time(const void *x, const void *y)
{
	const Customs__Batch *a = *(const Customs__Batch *const *)x;
	const Customs__Batch *b = *(const Customs__Batch *const *)y;

	if (a->start_unix_ns != b->start_unix_ns)
		return a->start_unix_ns < b->start_unix_ns ? -1 : 1;
	return strcmp(a->node_id, b->node_id);
}

static int render_guarantees(struct strbuf *o, struct report *r, bool json)
{
	struct audit_guarantee_input in = { .n = r->n_dec, .n_gaps = r->n_gaps };
	size_t i;
	int err;

	in.batches = calloc(r->n_dec ? r->n_dec : 1, sizeof(*in.batches));
	if (!in.batches)
		return -ENOMEM;
	for (i = 0; i < r->n_dec; i++)
		in.batches[i] = r->dec[i].batch;
	qsort(in.batches, in.n, sizeof(*in.batches), cmp_batch_time);
	err = audit_render_guarantees(o, &in, json);
	if (!json && r->n_gaps)
		strbuf_printf(o, "Gaps\n%s", strbuf_str(&r->gaps));
	free(in.batches);
	return err;
}

static void report_usage(FILE *out)
{
	fprintf(out, "Usage: customs-audit report (BUNDLE | --store DB) [--keys DIR] [--from T] [--to T]\n"
		     "                            [--country CC] [--node N] [--format text|json|csv]\n"
		     "                            [--guarantees | --alerts]\n"
		     "T is unix seconds or YYYY-MM-DDTHH:MM:SSZ. --keys also checks every signature.\n"
		     "--guarantees: per guarantee, availability against the target, breached\n"
		     "intervals, drift, refused policies, revocations and gaps (text or json).\n"
		     "--alerts summarises the query-pattern alerts instead (text or json).\n");
}

struct store_buf {
	struct bytebuf b;
};

static int append_rec(const void *raw, size_t len, void *arg)
{
	struct store_buf *sb = arg;
	unsigned char pre[TELEM_VARINT_MAX];
	int err = bytebuf_add(&sb->b, pre, telem_varint_put(pre, len));

	return err ? err : bytebuf_add(&sb->b, raw, len);
}

int audit_store_bundle(const char *db, unsigned char **buf, size_t *len)
{
	struct store_filter f = { 0 };
	struct store_buf sb = { { 0 } };
	struct store st;
	int err;

	err = store_open(&st, db, true);
	if (err)
		return err;
	err = store_foreach_raw(&st, &f, append_rec, &sb);
	store_close(&st);
	if (err) {
		bytebuf_free(&sb.b);
		return err;
	}
	*buf = sb.b.data;
	*len = sb.b.len;
	return 0;
}

static void report_free(struct report *r)
{
	size_t i;

	for (i = 0; i < r->n_dec; i++)
		telem_signed_free(&r->dec[i]);
	free(r->dec);
	free(r->bi);
	free(r->t);
	strbuf_free(&r->gaps);
	strbuf_free(&r->problems);
}

static int run_report(struct report *r, const unsigned char *buf, size_t len,
		      const char *keys_dir, enum fmt fmt)
{
	struct chk_options opt = { .partial = r->from != 0, .problem = on_problem, .arg = r };
	struct telem_keyring keys = { 0 };
	struct chk_summary sum;
	struct strbuf out;
	int err;

	if (keys_dir) {
		err = telem_keyring_load(&keys, keys_dir);
		if (err) {
			fprintf(stderr, "customs-audit report: %s: cannot read keys: %s\n", keys_dir,
				strerror(-err));
			return 1;
		}
		r->verified = true;
	}
	err = chaincheck_bundle(buf, len, &keys, &opt, &sum);
	telem_keyring_free(&keys);
	if (!err || err > 0)
		err = read_batches(r, buf, len);
	if (err < 0) {
		fprintf(stderr, "customs-audit report: %s\n", strerror(-err));
		return 1;
	}
	merge_traffic(r);
	strbuf_init(&out);
	if (r->guarantees) {
		err = render_guarantees(&out, r, fmt == FMT_JSON);
	} else if (r->alerts) {
		if (audit_render_alerts(&out, r->dec, r->n_dec, fmt == FMT_JSON))
			out.failed = true;
	} else if (fmt == FMT_JSON)
		render_json(&out, r);
	else if (fmt == FMT_CSV)
		render_csv(&out, r);
	else
		render_text(&out, r);
	if (err || strbuf_failed(&out)) {
		strbuf_free(&out);
		fprintf(stderr, "customs-audit report: out of memory\n");
		return 1;
	}
	fputs(strbuf_str(&out), stdout);
	strbuf_free(&out);
	return 0;
}

int audit_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "country", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'F' },
		{ "guarantees", no_argument, NULL, 'G' },
		{ "alerts", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct report r;
	const char *db = NULL, *keys = NULL;
	unsigned char *buf = NULL;
	enum fmt fmt = FMT_TEXT;
	size_t len;
	int c, rc;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:k:f:t:c:n:F:GhA", opts, NULL)) != -1) {
		switch (c) {
		case 's': db = optarg; break;
		case 'k': keys = optarg; break;
		case 'c': r.country = optarg; break;
		case 'n': r.node = optarg; break;
		case 'A': r.alerts = true; break;
		case 'f':
		case 't':
			if (telem_parse_time(optarg, c == 'f' ? &r.from : &r.to)) {
				fprintf(stderr, "customs-audit report: '%s' is not a time (unix seconds or YYYY-MM-DDTHH:MM:SSZ)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = FMT_CSV;
			else {
				fprintf(stderr, "customs-audit report: --format is text, json or csv\n");
				return EXIT_USAGE;
			}
			break;
		case 'G': r.guarantees = true; break;
		case 'h': report_usage(stdout); return 0;
		default: report_usage(stderr); return EXIT_USAGE;
		}
	}
	/* Exactly one input: --store DB, or one BUNDLE argument. */
	if (db ? optind != argc : optind != argc - 1) {
		report_usage(stderr);
		return EXIT_USAGE;
	}
	rc = db ? audit_store_bundle(db, &buf, &len) : telem_read_file(argv[optind], &buf, &len);
	if (rc) {
		fprintf(stderr, "customs-audit report: %s: %s\n", db ? db : argv[optind],
			strerror(-rc));
		return 1;
	}
	strbuf_init(&r.gaps);
	strbuf_init(&r.problems);
	rc = run_report(&r, buf, len, keys, fmt);
	report_free(&r);
	free(buf);
	return rc;
}
