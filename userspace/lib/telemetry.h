/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Telemetry batches: building a Batch (proto/telemetry.proto) from the
 * agent's interval record, signing it with the node's Ed25519 key into a
 * SignedBatch, decoding and verifying one, node keys and key rings, and the
 * varint length prefix used by frames and bundles. Nothing here re-encodes
 * a received batch: hashes and signatures always cover the bytes as sent.
 * docs/telemetry.md describes the fields and the compatibility rules.
 */
#ifndef CUSTOMS_TELEMETRY_H
#define CUSTOMS_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "interval.h"
#include "sha256.h"
#include "telemetry.pb-c.h"

#define TELEM_FORMAT		1	/* Batch.format we write and read */
#define TELEM_FRAME_VERSION	1	/* Frame.version */
#define TELEM_KEY_ID_LEN	8
#define TELEM_KEY_ID_HEX	(2 * TELEM_KEY_ID_LEN + 1)
#define TELEM_PUB_LEN		32	/* raw Ed25519 public key */
#define TELEM_SIG_LEN		64
#define TELEM_MAX_MSG		(64u << 20)	/* largest SignedBatch or frame */
#define TELEM_NODE_MAX		64
#define TELEM_VARINT_MAX	10

/* An Ed25519 key; private keys can sign, every key can verify. */
struct telem_key {
	void *pkey;				/* EVP_PKEY */
	bool has_private;
	unsigned char pub[TELEM_PUB_LEN];
	unsigned char id[TELEM_KEY_ID_LEN];	/* SHA-256(pub)[0..7] */
	char id_hex[TELEM_KEY_ID_HEX];
};

int telem_key_generate(struct telem_key *k);
/* The key of a fixed 32-byte seed: for fuzzing and reproducible fixtures only. */
int telem_key_from_seed(struct telem_key *k, const unsigned char seed[32]);
/* PEM files: PKCS#8 private key, or SubjectPublicKeyInfo public key. */
int telem_key_load_private(struct telem_key *k, const char *path);
int telem_key_load_public(struct telem_key *k, const char *path);
/*
 * Writes DIR/node.key (private, mode 0600, refuses to overwrite) and
 * DIR/<key id hex>.pub (public). The public file name is what collectors
 * and auditors put in their key directory.
 */
int telem_key_write(const struct telem_key *k, const char *dir);
void telem_key_free(struct telem_key *k);

/* The trusted public keys of a directory (every *.pub file in it). */
struct telem_keyring {
	struct telem_key *keys;
	size_t n;
};

int telem_keyring_load(struct telem_keyring *r, const char *dir);
const struct telem_key *telem_keyring_find(const struct telem_keyring *r,
					   const void *id, size_t id_len);
void telem_keyring_free(struct telem_keyring *r);

/* Who produces the batches. */
struct telem_node {
	char node_id[TELEM_NODE_MAX];
	char host_country[3];		/* ISO 3166-1 alpha-2 */
	char agent_version[32];
};

/* Where a batch sits in its chain. */
struct telem_link {
	__u64 epoch;
	__u64 seq;
	unsigned char prev_hash[SHA256_LEN];	/* ignored when seq == 0 */
	const char *epoch_reason;		/* for seq 0, may be NULL */
};

/* Batches the spool discarded unacknowledged (Event kind SPOOL_DROP). */
struct telem_drop {
	__u64 epoch;
	__u64 first_seq;
	__u64 last_seq;
	__u64 batches;
	__u64 bytes;
};

/*
 * Scratch space for building batches, kept between intervals so a large
 * batch does not fault in fresh pages every time. Zero-initialise it.
 */
struct telem_builder {
	void *counters, *counter_ptrs, *events, *event_ptrs, *drops, *codes;
	size_t cap_counters, cap_counter_ptrs, cap_events, cap_event_ptrs, cap_drops, cap_codes;
	void *guarantees, *guarantee_ptrs, *alerts;
	size_t cap_guarantees, cap_guarantee_ptrs, cap_alerts;
	unsigned char *bytes, *out;
	size_t cap_bytes, cap_out;
};

/*
 * Builds the Batch for one interval and signs it: *out points to the
 * SignedBatch bytes inside the builder (valid until its next use), hash
 * gets their SHA-256, which is the next batch's prev_hash.
 */
int telem_builder_sign(struct telem_builder *b, const struct telem_node *node,
		       const struct telem_link *link, const struct interval_record *iv,
		       const struct telem_drop *drops, size_t n_drops,
		       const struct telem_key *key, const unsigned char **out, size_t *out_len,
		       unsigned char hash[SHA256_LEN]);
void telem_builder_free(struct telem_builder *b);

/* The same with a one-off builder; *out is malloc'd, the caller frees it. */
int telem_build_signed(const struct telem_node *node, const struct telem_link *link,
		       const struct interval_record *iv,
		       const struct telem_drop *drops, size_t n_drops,
		       const struct telem_key *key,
		       unsigned char **out, size_t *out_len,
		       unsigned char hash[SHA256_LEN]);

/* A decoded SignedBatch and its Batch; raw points into the caller's buffer. */
struct telem_signed {
	Customs__SignedBatch *sb;
	Customs__Batch *batch;
	const unsigned char *raw;
	size_t raw_len;
	unsigned char hash[SHA256_LEN];		/* SHA-256 of raw */
	char key_id_hex[TELEM_KEY_ID_HEX];
};

/*
 * Decodes both layers; -EBADMSG for bytes that are not a SignedBatch with
 * a Batch of a format we read, -E2BIG over TELEM_MAX_MSG.
 */
int telem_decode(const void *raw, size_t len, struct telem_signed *s);
void telem_signed_free(struct telem_signed *s);

/* 0 when signed by a key in r; -ENOKEY unknown key, -EKEYREJECTED bad signature. */
int telem_verify(const struct telem_signed *s, const struct telem_keyring *r);

/* Ed25519 over msg with a private key; sig gets TELEM_SIG_LEN bytes. */
int telem_sign(const struct telem_key *k, const void *msg, size_t len,
	       unsigned char sig[TELEM_SIG_LEN]);
int telem_verify_sig(const struct telem_key *k, const void *msg, size_t len,
		     const void *sig, size_t sig_len);

/* Varints (protobuf base-128). put returns the bytes written (1..10). */
size_t telem_varint_put(unsigned char out[TELEM_VARINT_MAX], __u64 v);
/*
 * Reads a varint from p[0..len): 0 and *used on success, -EAGAIN when
 * more bytes are needed, -EBADMSG for one longer than 10 bytes.
 */
int telem_varint_get(const unsigned char *p, size_t len, __u64 *v, size_t *used);

/*
 * Walks a bundle (varint-length-prefixed SignedBatch messages). Returns 1
 * with the next record, 0 at the clean end, -EBADMSG for a truncated or
 * oversized record (*off then names where).
 */
int telem_bundle_next(const unsigned char *buf, size_t len, size_t *off,
		      const unsigned char **rec, size_t *rec_len);
/* Appends one record to an open bundle file (prefix + bytes). */
int telem_bundle_write(int fd, const void *rec, size_t len);

/* Reads a whole file into memory (for bundles); caller frees. */
int telem_read_file(const char *path, unsigned char **buf, size_t *len);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void telem_hex(const void *p, size_t n, char *out);

/* Wall clock in unix ns. */
__u64 telem_now_ns(void);

/* Parses a time for --from/--to: unix seconds, or YYYY-MM-DDTHH:MM:SSZ. */
int telem_parse_time(const char *s, __u64 *unix_ns);

#endif
