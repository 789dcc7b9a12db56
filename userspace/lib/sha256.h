/* SPDX-License-Identifier: BSD-2-Clause */
/* SHA-256 through OpenSSL's EVP interface, for every hash customs keeps. */
#ifndef CUSTOMS_SHA256_H
#define CUSTOMS_SHA256_H

#include <stddef.h>

#define SHA256_LEN 32

struct sha256 {
	void *evp;	/* EVP_MD_CTX */
};

int sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes the digest and frees the context. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* One-shot. */
int sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex of a digest into out (65 bytes). */
void sha256_hex(const unsigned char md[SHA256_LEN], char out[2 * SHA256_LEN + 1]);

#endif
