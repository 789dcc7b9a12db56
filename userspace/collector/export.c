// SPDX-License-Identifier: BSD-2-Clause
/*
 * customs-collector export: writes the stored SignedBatch bytes, unchanged,
 * as a bundle (varint-length-prefixed records in node, epoch, seq order)
 * for auditors. The file appears complete or not at all (temp + rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"

struct export_ctx {
	int fd;
	size_t n;
};

static int write_one(const void *raw, size_t len, void *arg)
{
	struct export_ctx *x = arg;

	x->n++;
	return telem_bundle_write(x->fd, raw, len);
}

static void export_usage(FILE *out)
{
	fprintf(out, "Usage: customs-collector export --store DB --out BUNDLE [--node N] [--from T] [--to T]\n"
		     "Writes the stored batches as a bundle. T is unix seconds or YYYY-MM-DDTHH:MM:SSZ;\n"
		     "--from keeps batches whose interval ends at or after T, --to those starting before T.\n");
}

int collector_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "node", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct store_filter filt = { 0 };
	struct export_ctx x = { .fd = -1 };
	const char *db = NULL, *out = NULL;
	char tmp[PATH_MAX];
	struct store st;
	int c, rc = 1, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:o:n:f:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': db = optarg; break;
		case 'o': out = optarg; break;
		case 'n': filt.node = optarg; break;
		case 'f':
		case 't':
			if (telem_parse_time(optarg, c == 'f' ? &filt.from_ns : &filt.to_ns)) {
				fprintf(stderr, "customs-collector export: '%s' is not a time (unix seconds or YYYY-MM-DDTHH:MM:SSZ)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': export_usage(stdout); return 0;
		default: export_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!db || !out || optind != argc) {
		export_usage(stderr);
		return EXIT_USAGE;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= sizeof(tmp)) {
		fprintf(stderr, "customs-collector export: %s: name too long\n", out);
		return 1;
	}
	if (store_open(&st, db, true))
		return 1;
	x.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		fprintf(stderr, "customs-collector export: %s: %s\n", tmp, strerror(errno));
		goto cleanup;
	}
	err = store_foreach_raw(&st, &filt, write_one, &x);
	if (!err && fsync(x.fd))
		err = -errno;
	if (!err && rename(tmp, out))
		err = -errno;
	if (err) {
		fprintf(stderr, "customs-collector export: %s: %s\n", out, strerror(-err));
		unlink(tmp);
		goto cleanup;
	}
	fprintf(stderr, "customs-collector export: %zu batch(es) written to %s\n", x.n, out);
	rc = 0;
cleanup:
	if (x.fd >= 0)
		close(x.fd);
	store_close(&st);
	return rc;
}
