// SPDX-License-Identifier: BSD-2-Clause
/*
 * Telemetry batches: interval record -> Batch -> Ed25519-signed
 * SignedBatch, decoding and verification, node keys and key rings, varints
 * and bundles; see telemetry.h. Building borrows the interval's strings
 * instead of copying them, so a 10,000-counter batch costs one pack, one
 * signature and one hash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "abi_names.h"
#include "country.h"
#include "log.h"
#include "telemetry.h"

void telem_hex(const void *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

__u64 telem_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

int telem_parse_time(const char *s, __u64 *unix_ns)
{
	struct tm tm = { 0 };
	char *end;
	unsigned long long secs;
	time_t t;

	if (!s || !*s)
		return -EINVAL;
	secs = strtoull(s, &end, 10);
	if (!*end) {
		*unix_ns = (__u64)secs * 1000000000ull;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -EINVAL;
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*unix_ns = (__u64)t * 1000000000ull;
	return 0;
}

/* --- keys ------------------------------------------------------------------- */

static int key_fill_public(struct telem_key *k)
{
	unsigned char md[SHA256_LEN];
	size_t n = TELEM_PUB_LEN;
	int err;

	if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_ED25519)
		return -EKEYREJECTED;
	if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &n) != 1 || n != TELEM_PUB_LEN)
		return -EKEYREJECTED;
	err = sha256(k->pub, TELEM_PUB_LEN, md);
	if (err)
		return err;
	memcpy(k->id, md, TELEM_KEY_ID_LEN);
	telem_hex(k->id, TELEM_KEY_ID_LEN, k->id_hex);
	return 0;
}

int telem_key_generate(struct telem_key *k)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	int err;

	memset(k, 0, sizeof(*k));
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx)
		return -ENOMEM;
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return -EIO;
	}
	EVP_PKEY_CTX_free(ctx);
	k->pkey = pkey;
	k->has_private = true;
	err = key_fill_public(k);
	if (err)
		telem_key_free(k);
	return err;
}

int telem_key_from_seed(struct telem_key *k, const unsigned char seed[32])
{
	int err;

	memset(k, 0, sizeof(*k));
	k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (!k->pkey)
		return -EINVAL;
	k->has_private = true;
	err = key_fill_public(k);
	if (err)
		telem_key_free(k);
	return err;
}

static int key_load(struct telem_key *k, const char *path, bool private)
{
	FILE *f;
	EVP_PKEY *pkey;
	int err;

	memset(k, 0, sizeof(*k));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	pkey = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) :
			 PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!pkey)
		return -EBADMSG;
	k->pkey = pkey;
	k->has_private = private;
	err = key_fill_public(k);
	if (err)
		telem_key_free(k);
	return err;
}

int telem_key_load_private(struct telem_key *k, const char *path)
{
	return key_load(k, path, true);
}

int telem_key_load_public(struct telem_key *k, const char *path)
{
	return key_load(k, path, false);
}

static int key_write_file(const char *path, EVP_PKEY *pkey, bool private)
{
	FILE *f = NULL;
	int fd, ok, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private ? 0600 : 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	ok = private ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) :
		       PEM_write_PUBKEY(f, pkey);
	if (ok != 1 || fflush(f) || fsync(fileno(f)))
		err = -EIO;
	if (fclose(f) && !err)
		err = -EIO;
cleanup:
	if (err)
		unlink(path);
	return err;
}

int telem_key_write(const struct telem_key *k, const char *dir)
{
	char priv[PATH_MAX], pub[PATH_MAX];
	int err;

	if (!k->has_private)
		return -EINVAL;
	if ((size_t)snprintf(priv, sizeof(priv), "%s/node.key", dir) >= sizeof(priv) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s/%s.pub", dir, k->id_hex) >= sizeof(pub))
		return -ENAMETOOLONG;
	err = key_write_file(priv, k->pkey, true);
	if (err)
		return err;
	err = key_write_file(pub, k->pkey, false);
	if (err)
		unlink(priv);
	return err;
}

void telem_key_free(struct telem_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

int telem_keyring_load(struct telem_keyring *r, const char *dir)
{
	struct dirent *de;
	struct telem_key *keys;
	char path[PATH_MAX];
	size_t len;
	DIR *d;
	int err = 0;

	memset(r, 0, sizeof(*r));
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pub"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		keys = realloc(r->keys, (r->n + 1) * sizeof(*keys));
		if (!keys) {
			err = -ENOMEM;
			break;
		}
		r->keys = keys;
		err = telem_key_load_public(&r->keys[r->n], path);
		if (err) {
			pr_warn("key ring %s: skipping %s: not an Ed25519 public key (%s)\n",
				dir, de->d_name, strerror(-err));
			err = 0;
			continue;
		}
		r->n++;
	}
	closedir(d);
	if (err)
		telem_keyring_free(r);
	return err;
}

const struct telem_key *telem_keyring_find(const struct telem_keyring *r,
					   const void *id, size_t id_len)
{
	size_t i;

	if (id_len != TELEM_KEY_ID_LEN)
		return NULL;
	for (i = 0; i < r->n; i++)
		if (!memcmp(r->keys[i].id, id, TELEM_KEY_ID_LEN))
			return &r->keys[i];
	return NULL;
}

void telem_keyring_free(struct telem_keyring *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		telem_key_free(&r->keys[i]);
	free(r->keys);
	memset(r, 0, sizeof(*r));
}

/* --- signatures ------------------------------------------------------------- */

int telem_sign(const struct telem_key *k, const void *msg, size_t len,
	       unsigned char sig[TELEM_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t n = TELEM_SIG_LEN;
	int err = 0;

	if (!k->has_private)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &n, msg, len) != 1 || n != TELEM_SIG_LEN)
		err = -EIO;
	EVP_MD_CTX_free(ctx);
	return err;
}

int telem_verify_sig(const struct telem_key *k, const void *msg, size_t len,
		     const void *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (sig_len != TELEM_SIG_LEN)
		return -EKEYREJECTED;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EKEYREJECTED;
}

/* --- building ---------------------------------------------------------------- */

/* Grows a scratch array to hold n items of size sz; never shrinks. */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
	void *q;

	if (n <= *cap)
		return 0;
	q = realloc(*p, n * sz);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

void telem_builder_free(struct telem_builder *b)
{
	free(b->counters);
	free(b->counter_ptrs);
	free(b->events);
	free(b->event_ptrs);
	free(b->drops);
	free(b->codes);
	free(b->guarantees);
	free(b->guarantee_ptrs);
	free(b->alerts);
	free(b->bytes);
	free(b->out);
	memset(b, 0, sizeof(*b));
}

static bool name_ok(const char *s)
{
	return memchr(s, '\0', INTERVAL_NAME_MAX) != NULL;
}

static void fill_counter(Customs__Counter *c, const struct interval_counter *ic,
			 char code[COUNTRY_STRLEN])
{
	customs__counter__init(c);
	country_str(ic->country, code);
	c->tenant = (char *)ic->tenant;
	c->model = (char *)ic->model;
	c->country = code;
	c->direction = (Customs__Direction)ic->direction;
	c->layer = (Customs__Layer)ic->layer;
	c->verdict = (Customs__Verdict)ic->verdict;
	c->packets = ic->packets;
	c->bytes = ic->bytes;
}

static void fill_event(Customs__Event *e, const struct interval_event *ie,
		       char code[COUNTRY_STRLEN])
{
	const struct event *r = &ie->raw;
	size_t alen = r->family == 6 ? 16 : 4;

	customs__event__init(e);
	country_str(r->country, code);
	e->kind = (Customs__EventKind)r->kind;
	e->unix_ns = ie->unix_ns;
	e->tenant = (char *)ie->tenant;
	e->model = (char *)ie->model;
	e->country = code;
	e->direction = (Customs__Direction)r->direction;
	e->layer = (Customs__Layer)r->layer;
	e->verdict = (Customs__Verdict)r->verdict;
	e->family = r->family;
	e->proto = r->proto;
	if (r->family == 4 || r->family == 6) {
		e->saddr.data = (uint8_t *)r->saddr;
		e->saddr.len = alen;
		e->daddr.data = (uint8_t *)r->daddr;
		e->daddr.len = alen;
	}
	e->sport = r->sport;
	e->dport = r->dport;
}

/* A query-pattern alert as an event; strings are borrowed from the record. */
static void fill_alert(Customs__Event *e, Customs__QueryAlert *qa,
		       const struct interval_alert *ia)
{
	customs__event__init(e);
	customs__query_alert__init(qa);
	e->kind = CUSTOMS__EVENT_KIND__EVENT_QUERY_ALERT;
	e->unix_ns = ia->unix_ns;
	e->model = (char *)ia->model;
	e->country = (char *)ia->country;
	qa->detector = (char *)ia->detector;
	qa->mode = (char *)ia->mode;
	qa->prefix = (char *)ia->prefix;
	qa->asn = ia->asn;
	qa->organisation = (char *)ia->org;
	qa->country = (char *)ia->country;
	qa->asn_country = (char *)ia->asn_country;
	qa->value = ia->value;
	qa->threshold = ia->threshold;
	qa->figures = (char *)ia->figures;
	qa->deny_until_unix_ns = ia->deny_until_unix_ns;
	e->query_alert = qa;
}

/* The interval's query-pattern alerts, after every other event. */
static int build_alert_parts(struct telem_builder *p, const struct interval_record *iv,
			     size_t at)
{
	Customs__Event *events = p->events, **event_ptrs = p->event_ptrs;
	Customs__QueryAlert *qa;
	size_t i;

	if (grow(&p->alerts, &p->cap_alerts, iv->n_alerts + 1, sizeof(*qa)))
		return -ENOMEM;
	qa = p->alerts;
	for (i = 0; i < iv->n_alerts; i++) {
		if (!name_ok(iv->alerts[i].model))
			return -EINVAL;
		fill_alert(&events[at + i], &qa[i], &iv->alerts[i]);
		event_ptrs[at + i] = &events[at + i];
	}
	return 0;
}

static void fill_notice(Customs__Event *e, const struct interval_notice *n,
			char code[COUNTRY_STRLEN])
{
	customs__event__init(e);
	country_str(n->country, code);
	e->kind = (Customs__EventKind)n->kind;
	e->unix_ns = n->unix_ns;
	e->model = (char *)n->model;
	e->country = code;
	e->guarantee = (char *)n->guarantee;
	e->detail = (char *)n->detail;
}

static void fill_guarantee(Customs__GuaranteeStatus *g, const struct interval_guarantee *ig,
			   char code[COUNTRY_STRLEN])
{
	customs__guarantee_status__init(g);
	country_str(ig->country, code);
	g->guarantee_id = (char *)ig->guarantee;
	g->country = code;
	g->model = (char *)ig->model;
	g->attempts = ig->attempts;
	g->established = ig->established;
	g->refusals = ig->refusals;
	g->denied = ig->denied;
	g->resets = ig->resets;
	g->unreachables = ig->unreachables;
	g->unanswered = ig->unanswered;
	g->attempts_reset = ig->attempts_reset;
	g->bytes = ig->bytes;
	g->availability = ig->availability;
	g->target = ig->target;
	g->state = (Customs__GuaranteeState)ig->state;
	g->revocation_ref = (char *)ig->revocation_ref;
}

static bool notice_ok(const struct interval_notice *n)
{
	return name_ok(n->guarantee) && name_ok(n->model) &&
	       memchr(n->detail, '\0', sizeof(n->detail));
}

static bool guarantee_ok(const struct interval_guarantee *g)
{
	return name_ok(g->guarantee) && name_ok(g->model) &&
	       memchr(g->revocation_ref, '\0', sizeof(g->revocation_ref));
}

/* The agent's own notices and the interval's guarantee records. */
static int build_guarantee_parts(struct telem_builder *p, Customs__Batch *b,
				 const struct interval_record *iv, size_t codes_at)
{
	Customs__GuaranteeStatus *gs, **gp;
	Customs__Event *events = p->events, **event_ptrs = p->event_ptrs;
	char (*codes)[COUNTRY_STRLEN] = p->codes;
	size_t i;

	if (grow(&p->guarantees, &p->cap_guarantees, iv->n_guarantees + 1, sizeof(*gs)) ||
	    grow(&p->guarantee_ptrs, &p->cap_guarantee_ptrs, iv->n_guarantees + 1, sizeof(*gp)))
		return -ENOMEM;
	gs = p->guarantees;
	gp = p->guarantee_ptrs;
	for (i = 0; i < iv->n_notices; i++) {
		if (!notice_ok(&iv->notices[i]))
			return -EINVAL;
		fill_notice(&events[iv->n_events + i], &iv->notices[i], codes[codes_at + i]);
		event_ptrs[iv->n_events + i] = &events[iv->n_events + i];
	}
	codes_at += iv->n_notices;
	for (i = 0; i < iv->n_guarantees; i++) {
		if (!guarantee_ok(&iv->guarantees[i]))
			return -EINVAL;
		fill_guarantee(&gs[i], &iv->guarantees[i], codes[codes_at + i]);
		gp[i] = &gs[i];
	}
	b->n_guarantees = iv->n_guarantees;
	b->guarantees = gp;
	return 0;
}

static int build_parts(struct telem_builder *p, Customs__Batch *b,
		       const struct interval_record *iv,
		       const struct telem_drop *drops, size_t n_drops, __u64 now)
{
	size_t i, n_ev = iv->n_events + iv->n_notices + n_drops + iv->n_alerts;
	size_t n_codes = iv->n_counters + iv->n_events + iv->n_notices + iv->n_guarantees + 1;
	int rc;
	Customs__Counter *counters;
	Customs__Counter **counter_ptrs;
	Customs__Event *events;
	Customs__Event **event_ptrs;
	Customs__SpoolDrop *sd;
	char (*codes)[COUNTRY_STRLEN];

	if (grow(&p->counters, &p->cap_counters, iv->n_counters + 1, sizeof(*counters)) ||
	    grow(&p->counter_ptrs, &p->cap_counter_ptrs, iv->n_counters + 1, sizeof(*counter_ptrs)) ||
	    grow(&p->events, &p->cap_events, n_ev + 1, sizeof(*events)) ||
	    grow(&p->event_ptrs, &p->cap_event_ptrs, n_ev + 1, sizeof(*event_ptrs)) ||
	    grow(&p->drops, &p->cap_drops, n_drops + 1, sizeof(*sd)) ||
	    grow(&p->codes, &p->cap_codes, n_codes, sizeof(*codes)))
		return -ENOMEM;
	counters = p->counters;
	counter_ptrs = p->counter_ptrs;
	events = p->events;
	event_ptrs = p->event_ptrs;
	sd = p->drops;
	codes = p->codes;
	for (i = 0; i < iv->n_counters; i++) {
		const struct interval_counter *ic = &iv->counters[i];

		if (!name_ok(ic->tenant) || !name_ok(ic->model))
			return -EINVAL;
		fill_counter(&counters[i], ic, codes[i]);
		counter_ptrs[i] = &counters[i];
	}
	for (i = 0; i < iv->n_events; i++) {
		const struct interval_event *ie = &iv->events[i];

		if (!name_ok(ie->tenant) || !name_ok(ie->model))
			return -EINVAL;
		fill_event(&events[i], ie, codes[iv->n_counters + i]);
		event_ptrs[i] = &events[i];
	}
	rc = build_guarantee_parts(p, b, iv, iv->n_counters + iv->n_events);
	if (rc)
		return rc;
	for (i = 0; i < n_drops; i++) {
		Customs__Event *e = &events[iv->n_events + iv->n_notices + i];

		customs__spool_drop__init(&sd[i]);
		sd[i].epoch = drops[i].epoch;
		sd[i].first_seq = drops[i].first_seq;
		sd[i].last_seq = drops[i].last_seq;
		sd[i].batches = drops[i].batches;
		sd[i].bytes = drops[i].bytes;
		customs__event__init(e);
		e->kind = CUSTOMS__EVENT_KIND__EVENT_SPOOL_DROP;
		e->unix_ns = now;
		e->spool_drop = &sd[i];
		event_ptrs[iv->n_events + iv->n_notices + i] = e;
	}
	rc = build_alert_parts(p, iv, iv->n_events + iv->n_notices + n_drops);
	if (rc)
		return rc;
	b->n_counters = iv->n_counters;
	b->counters = counter_ptrs;
	b->n_events = n_ev;
	b->events = event_ptrs;
	return 0;
}

static int sign_envelope(struct telem_builder *p, size_t len, const struct telem_key *key,
			 size_t *out_len, unsigned char hash[SHA256_LEN])
{
	Customs__SignedBatch sb = CUSTOMS__SIGNED_BATCH__INIT;
	unsigned char sig[TELEM_SIG_LEN];
	size_t n;
	int err;

	err = telem_sign(key, p->bytes, len, sig);
	if (err)
		return err;
	sb.batch.data = p->bytes;
	sb.batch.len = len;
	sb.signature.data = sig;
	sb.signature.len = TELEM_SIG_LEN;
	sb.key_id.data = (uint8_t *)key->id;
	sb.key_id.len = TELEM_KEY_ID_LEN;
	n = customs__signed_batch__get_packed_size(&sb);
	if (n > TELEM_MAX_MSG)
		return -E2BIG;
	if (grow((void **)&p->out, &p->cap_out, n, 1))
		return -ENOMEM;
	customs__signed_batch__pack(&sb, p->out);
	*out_len = n;
	return sha256(p->out, n, hash);
}

int telem_builder_sign(struct telem_builder *p, const struct telem_node *node,
		       const struct telem_link *link, const struct interval_record *iv,
		       const struct telem_drop *drops, size_t n_drops,
		       const struct telem_key *key, const unsigned char **out, size_t *out_len,
		       unsigned char hash[SHA256_LEN])
{
	Customs__Batch b = CUSTOMS__BATCH__INIT;
	size_t len;
	int err;

	*out = NULL;
	*out_len = 0;
	b.format = TELEM_FORMAT;
	b.node_id = (char *)node->node_id;
	b.host_country = (char *)node->host_country;
	b.epoch = link->epoch;
	b.seq = link->seq;
	if (link->seq > 0) {
		b.prev_hash.data = (uint8_t *)link->prev_hash;
		b.prev_hash.len = SHA256_LEN;
	} else {
		b.new_epoch = 1;
		b.epoch_reason = (char *)(link->epoch_reason ? link->epoch_reason : "");
	}
	b.start_unix_ns = iv->start_unix_ns;
	b.end_unix_ns = iv->end_unix_ns;
	b.policy_hash.data = (uint8_t *)iv->policy_hash;
	b.policy_hash.len = INTERVAL_HASH_LEN;
	b.geo_hash.data = (uint8_t *)iv->geo_hash;
	b.geo_hash.len = INTERVAL_HASH_LEN;
	b.agent_version = (char *)node->agent_version;
	b.events_lost = iv->events_lost;
	b.events_ratelimited = iv->events_ratelimited;
	b.meter_overflow = iv->meter_overflow;
	err = build_parts(p, &b, iv, drops, n_drops, telem_now_ns());
	if (err)
		return err;
	len = customs__batch__get_packed_size(&b);
	if (len > TELEM_MAX_MSG - 256)
		return -E2BIG;
	if (grow((void **)&p->bytes, &p->cap_bytes, len + 1, 1))
		return -ENOMEM;
	customs__batch__pack(&b, p->bytes);
	err = sign_envelope(p, len, key, out_len, hash);
	if (!err)
		*out = p->out;
	return err;
}

int telem_build_signed(const struct telem_node *node, const struct telem_link *link,
		       const struct interval_record *iv,
		       const struct telem_drop *drops, size_t n_drops,
		       const struct telem_key *key,
		       unsigned char **out, size_t *out_len,
		       unsigned char hash[SHA256_LEN])
{
	struct telem_builder b = { 0 };
	const unsigned char *signed_bytes;
	int err;

	*out = NULL;
	err = telem_builder_sign(&b, node, link, iv, drops, n_drops, key, &signed_bytes, out_len,
				 hash);
	if (!err) {
		*out = malloc(*out_len);
		if (*out)
			memcpy(*out, signed_bytes, *out_len);
		else
			err = -ENOMEM;
	}
	telem_builder_free(&b);
	return err;
}

/* --- decoding ---------------------------------------------------------------- */

int telem_decode(const void *raw, size_t len, struct telem_signed *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (len > TELEM_MAX_MSG)
		return -E2BIG;
	s->sb = customs__signed_batch__unpack(NULL, len, raw);
	if (!s->sb)
		return -EBADMSG;
	s->batch = customs__batch__unpack(NULL, s->sb->batch.len, s->sb->batch.data);
	if (!s->batch || s->batch->format != TELEM_FORMAT) {
		telem_signed_free(s);
		return -EBADMSG;
	}
	s->raw = raw;
	s->raw_len = len;
	err = sha256(raw, len, s->hash);
	if (err) {
		telem_signed_free(s);
		return err;
	}
	if (s->sb->key_id.len == TELEM_KEY_ID_LEN)
		telem_hex(s->sb->key_id.data, TELEM_KEY_ID_LEN, s->key_id_hex);
	else
		snprintf(s->key_id_hex, sizeof(s->key_id_hex), "(bad key id)");
	return 0;
}

void telem_signed_free(struct telem_signed *s)
{
	if (s->batch)
		customs__batch__free_unpacked(s->batch, NULL);
	if (s->sb)
		customs__signed_batch__free_unpacked(s->sb, NULL);
	memset(s, 0, sizeof(*s));
}

int telem_verify(const struct telem_signed *s, const struct telem_keyring *r)
{
	const struct telem_key *k;

	k = telem_keyring_find(r, s->sb->key_id.data, s->sb->key_id.len);
	if (!k)
		return -ENOKEY;
	return telem_verify_sig(k, s->sb->batch.data, s->sb->batch.len,
				s->sb->signature.data, s->sb->signature.len);
}

/* --- varints and bundles ----------------------------------------------------- */

size_t telem_varint_put(unsigned char out[TELEM_VARINT_MAX], __u64 v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

int telem_varint_get(const unsigned char *p, size_t len, __u64 *v, size_t *used)
{
	__u64 r = 0;
	size_t i;

	for (i = 0; i < TELEM_VARINT_MAX; i++) {
		if (i >= len)
			return -EAGAIN;
		if (i == 9 && p[i] > 1)
			return -EBADMSG;
		r |= (__u64)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			*used = i + 1;
			return 0;
		}
	}
	return -EBADMSG;
}

int telem_bundle_next(const unsigned char *buf, size_t len, size_t *off,
		      const unsigned char **rec, size_t *rec_len)
{
	size_t used;
	__u64 n;
	int err;

	if (*off >= len)
		return 0;
	err = telem_varint_get(buf + *off, len - *off, &n, &used);
	if (err)
		return -EBADMSG;
	if (n > TELEM_MAX_MSG || n > len - *off - used)
		return -EBADMSG;
	*rec = buf + *off + used;
	*rec_len = (size_t)n;
	*off += used + (size_t)n;
	return 1;
}

static int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *b = p;
	ssize_t w;

	while (len) {
		w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

int telem_bundle_write(int fd, const void *rec, size_t len)
{
	unsigned char pre[TELEM_VARINT_MAX];
	int err;

	err = write_all(fd, pre, telem_varint_put(pre, len));
	return err ? err : write_all(fd, rec, len);
}

int telem_read_file(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	unsigned char *b;
	size_t got = 0;
	ssize_t r;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			free(b);
			goto cleanup;
		}
		got += (size_t)r;
	}
	*buf = b;
	*len = got;
cleanup:
	close(fd);
	return err;
}
