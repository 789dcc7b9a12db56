// SPDX-License-Identifier: BSD-2-Clause
/* Telemetry test fixtures; see telemfix.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "telemfix.h"

int fix_tmpdir(const char *tag, char *out, size_t len)
{
	const char *base = getenv("TMPDIR");

	snprintf(out, len, "%s/customs-telem-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	return mkdtemp(out) ? 0 : -errno;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void fix_rmtree(const char *dir)
{
	if (dir && strstr(dir, "customs-telem-"))
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fix_interval_make(struct fix_interval *f, size_t n, size_t n_events, __u64 start_ns)
{
	static const char *const cc[] = { "DE", "US", "FR" };
	size_t i;

	memset(f, 0, sizeof(*f));
	f->counters = calloc(n ? n : 1, sizeof(*f->counters));
	f->events = calloc(n_events ? n_events : 1, sizeof(*f->events));
	if (!f->counters || !f->events) {
		fix_interval_free(f);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct interval_counter *c = &f->counters[i];

		snprintf(c->tenant, sizeof(c->tenant), "tenant-%zu", i % 3);
		snprintf(c->model, sizeof(c->model), "model-%zu", i % 2);
		c->country = country_index(cc[i % 3][0], cc[i % 3][1]);
		c->direction = (__u8)(i % 2);
		c->layer = (__u8)(i % 3);
		c->verdict = i % 5 == 4 ? VERDICT_DENY : i % 7 == 6 ? VERDICT_AUDIT : VERDICT_ALLOW;
		c->packets = i + 1;
		c->bytes = 100 * (i + 1);
	}
	for (i = 0; i < n_events; i++) {
		struct interval_event *e = &f->events[i];

		e->unix_ns = start_ns + i;
		snprintf(e->tenant, sizeof(e->tenant), "tenant-0");
		snprintf(e->model, sizeof(e->model), "model-1");
		e->raw.kind = EVENT_DENY;
		e->raw.family = 4;
		e->raw.proto = 6;
		e->raw.saddr[0] = 0x010200c0;	/* 192.0.2.1, network order */
		e->raw.daddr[0] = 0x017100cb;	/* 203.0.113.1 */
		e->raw.sport = 40000;
		e->raw.dport = 443;
		e->raw.country = country_index('C', 'N');
		e->raw.direction = DIR_EGRESS;
		e->raw.layer = LAYER_SOCK;
		e->raw.verdict = VERDICT_DENY;
	}
	f->rec.start_unix_ns = start_ns;
	f->rec.end_unix_ns = start_ns + 10000000000ull;
	f->rec.counters = f->counters;
	f->rec.n_counters = n;
	f->rec.events = f->events;
	f->rec.n_events = n_events;
	f->rec.events_lost = 3;
	f->rec.meter_overflow = 1;
	memset(f->rec.policy_hash, 0xab, sizeof(f->rec.policy_hash));
	memset(f->rec.geo_hash, 0xcd, sizeof(f->rec.geo_hash));
	return 0;
}

void fix_interval_free(struct fix_interval *f)
{
	free(f->counters);
	free(f->events);
	memset(f, 0, sizeof(*f));
}

int fix_key(const char *dir, struct telem_key *k)
{
	struct telem_key gen;
	char path[PATH_MAX];
	int err;

	err = telem_key_generate(&gen);
	if (err)
		return err;
	err = telem_key_write(&gen, dir);
	telem_key_free(&gen);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/node.key", dir);
	return telem_key_load_private(k, path);
}

int fix_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, buf, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -EIO;
}
