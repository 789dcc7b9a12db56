// SPDX-License-Identifier: BSD-2-Clause
/* SHA-256 helpers; see sha256.h. */
#include <errno.h>
#include <stdio.h>
#include <openssl/evp.h>

#include "sha256.h"

int sha256_init(struct sha256 *s)
{
	s->evp = EVP_MD_CTX_new();
	if (!s->evp)
		return -ENOMEM;
	if (EVP_DigestInit_ex(s->evp, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->evp);
		s->evp = NULL;
		return -EINVAL;
	}
	return 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	if (s->evp && len)
		EVP_DigestUpdate(s->evp, data, len);
}

void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	if (s->evp)
		EVP_DigestFinal_ex(s->evp, out, &n);
	EVP_MD_CTX_free(s->evp);
	s->evp = NULL;
}

int sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	struct sha256 s;
	int err = sha256_init(&s);

	if (err)
		return err;
	sha256_update(&s, data, len);
	sha256_final(&s, out);
	return 0;
}

void sha256_hex(const unsigned char md[SHA256_LEN], char out[2 * SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}
