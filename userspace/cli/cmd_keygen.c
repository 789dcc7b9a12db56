// SPDX-License-Identifier: BSD-2-Clause
/*
 * customsctl keygen --out DIR: creates a node's Ed25519 telemetry signing
 * key. DIR/node.key is the private key (PKCS#8 PEM, mode 0600, never
 * overwritten); DIR/<key id>.pub is the public key the collector and the
 * auditors put in their key directory. Prints the key id.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "telemetry.h"

static void keygen_usage(FILE *out)
{
	fprintf(out, "Usage: customsctl keygen --out DIR\n"
		     "Creates DIR/node.key (private, 0600) and DIR/<key id>.pub;\n"
		     "prints the key id (first 8 bytes of SHA-256 of the public key, hex).\n");
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct telem_key k;
	const char *dir = NULL;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'h':
			keygen_usage(stdout);
			return 0;
		default:
			keygen_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!dir || optind != argc) {
		keygen_usage(stderr);
		return EXIT_USAGE;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "customsctl keygen: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	err = telem_key_generate(&k);
	if (err) {
		fprintf(stderr, "customsctl keygen: cannot generate an Ed25519 key: %s\n",
			strerror(-err));
		return 1;
	}
	err = telem_key_write(&k, dir);
	if (err) {
		fprintf(stderr, "customsctl keygen: cannot write the key to %s: %s%s\n", dir,
			strerror(-err), err == -EEXIST ? " (a node.key is already there; remove it to replace the key)" : "");
		telem_key_free(&k);
		return 1;
	}
	printf("%s\n", k.id_hex);
	telem_key_free(&k);
	return 0;
}
