// SPDX-License-Identifier: BSD-2-Clause
/*
 * The geo table in force, and the switch to a new one. prepare builds the
 * table from the configured database and override files in memory (a bad
 * file fails here, with nothing in the kernel touched); commit installs it
 * beside the live kernel table and switches the slot in one update
 * (geo_kernel_install), so lookups see the old table or the new one, never
 * a mix; discard drops a prepared table.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_parts.h"
#include "dataplane.skel.h"
#include "geo.h"
#include "log.h"

struct agent_geo {
	struct geo_table *live;
	struct geo_table *next;
	struct geo_table_info info;	/* of live */
};

int agent_geo_prepare(struct agent *a, char *err, size_t errlen)
{
	const char *overrides[CONFIG_MAX_OVERRIDES];
	struct geo_source src = {
		.db = a->cfg.geo_db,
		.overrides = overrides,
		.n_overrides = (size_t)a->cfg.n_geo_overrides,
	};
	int i, rc;

	if (!a->geo) {
		a->geo = calloc(1, sizeof(*a->geo));
		if (!a->geo)
			return -ENOMEM;
	}
	for (i = 0; i < a->cfg.n_geo_overrides; i++)
		overrides[i] = a->cfg.geo_overrides[i];
	geo_table_free(a->geo->next);
	a->geo->next = NULL;
	rc = geo_table_build(&a->geo->next, &src, err, errlen);
	if (rc && !err[0])
		snprintf(err, errlen, "%s: %s", a->cfg.geo_db, strerror(-rc));
	return rc;
}

int agent_geo_commit(struct agent *a)
{
	struct geo_maps maps;
	int rc;

	if (!a->geo || !a->geo->next)
		return 0;
	maps = GEO_MAPS(dp_skeleton(a->dp));
	rc = geo_kernel_install(&maps, a->geo->next);
	if (rc) {
		pr_warn("installing the geo table: %s\n", strerror(-rc));
		return rc;
	}
	geo_table_info(a->geo->next, &a->geo->info);
	/* Kept only to reinstall after drift: the image is compiled again then. */
	geo_table_release_image(a->geo->next);
	geo_table_free(a->geo->live);
	a->geo->live = a->geo->next;
	a->geo->next = NULL;
	/*
	 * An import frees tens of MB of small blocks that malloc keeps in
	 * its heap; without a trim each reload would leave the agent larger.
	 */
	malloc_trim(0);
	return 0;
}

void agent_geo_discard(struct agent *a)
{
	if (!a->geo)
		return;
	geo_table_free(a->geo->next);
	a->geo->next = NULL;
}

void agent_geo_free(struct agent *a)
{
	if (!a->geo)
		return;
	geo_table_free(a->geo->next);
	geo_table_free(a->geo->live);
	free(a->geo);
	a->geo = NULL;
}

void agent_geo_hash(const struct agent *a, __u8 out[INTERVAL_HASH_LEN])
{
	memset(out, 0, INTERVAL_HASH_LEN);
	if (a->geo && a->geo->live)
		memcpy(out, a->geo->info.hash, INTERVAL_HASH_LEN);
}

/* Whether the kernel still holds the table we installed (drift watch). */
int agent_geo_verify(struct agent *a)
{
	struct geo_maps maps;
	unsigned char live[SHA256_LEN];
	int rc;

	if (!a->geo || !a->geo->live)
		return 0;
	maps = GEO_MAPS(dp_skeleton(a->dp));
	rc = geo_kernel_live_hash(&maps, live);
	if (rc)
		return rc;
	return memcmp(live, a->geo->info.hash, SHA256_LEN) ? -EBADMSG : 0;
}

int agent_geo_reinstall(struct agent *a)
{
	struct geo_maps maps;
	int rc;

	if (!a->geo || !a->geo->live)
		return 0;
	maps = GEO_MAPS(dp_skeleton(a->dp));
	rc = geo_kernel_install(&maps, a->geo->live);
	geo_table_release_image(a->geo->live);
	return rc;
}

void agent_geo_status(const struct agent *a, struct strbuf *out, bool json)
{
	const struct geo_table_info *gi;
	char hex[2 * SHA256_LEN + 1];

	if (!a->geo || !a->geo->live) {
		strbuf_puts(out, json ? "null" : "(none)");
		return;
	}
	gi = &a->geo->info;
	sha256_hex(gi->hash, hex);
	if (!json) {
		strbuf_printf(out, "%s sha256:%s (%llu v4 + %llu v6 prefixes, %u countries, "
			      "%llu KiB in the kernel)", gi->source, hex,
			      (unsigned long long)gi->v4_prefixes,
			      (unsigned long long)gi->v6_prefixes, gi->countries,
			      (unsigned long long)gi->kernel_bytes / 1024);
		return;
	}
	strbuf_puts(out, "{\"source\": ");
	strbuf_json_str(out, gi->source);
	strbuf_printf(out, ", \"sha256\": \"%s\", \"source_epoch\": %llu, \"v4_prefixes\": %llu, "
		      "\"v6_prefixes\": %llu, \"countries\": %u, \"kernel_bytes\": %llu}", hex,
		      (unsigned long long)gi->source_epoch, (unsigned long long)gi->v4_prefixes,
		      (unsigned long long)gi->v6_prefixes, gi->countries,
		      (unsigned long long)gi->kernel_bytes);
}
