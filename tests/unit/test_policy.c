// SPDX-License-Identifier: BSD-2-Clause
/*
 * The policy compiler: every error the language promises, with its exact
 * message and place; the warnings for rules that never apply; and the
 * meaning of what compiles (ids, verdicts, modes, tables, hash,
 * guarantee states, explanations, diffs).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "abi_names.h"
#include "policy.h"

#define HEAD							\
	"node: {id: n1, country: AE}\n"				\
	"country_groups:\n"					\
	"  partners: [AE, US]\n"				\
	"tiers:\n"						\
	"  open:\n"						\
	"    ingress: {allow: [all]}\n"				\
	"    egress: {allow: [all]}\n"				\
	"  licensed:\n"						\
	"    ingress: {allow: [partners], default: deny}\n"	\
	"    egress: {allow: [partners], default: deny}\n"	\
	"models:\n"						\
	"  - name: m1\n"					\
	"    tier: licensed\n"					\
	"    endpoints: [192.0.2.1:443/tcp]\n"			\
	"    tenants: [/srv/m1]\n"
/* HEAD is 15 lines: text appended starts on line 16. */

static struct policy *load_text(const char *text, struct policy_diag *diag, int64_t now)
{
	struct policy_opts opts = { .now = now };
	struct policy *p = NULL;

	policy_diag_init(diag);
	policy_load_buf("t.yaml", text, strlen(text), &opts, &p, diag);
	return p;
}

static void expect_error(const char *text, const char *msg, const char *label)
{
	struct policy_diag diag;
	struct policy *p = load_text(text, &diag, 0);

	if (p)
		fail_msg("%s: compiled, expected \"%s\"", label, msg);
	ASSERT_STR_EQ(diag.error, msg, label);
	policy_diag_free(&diag);
}

static struct policy *expect_ok(const char *text, struct policy_diag *diag, const char *label)
{
	struct policy *p = load_text(text, diag, 0);

	if (!p)
		fail_msg("%s: %s", label, diag->error);
	return p;
}

static void yaml_and_key_errors(void **state)
{
	struct policy_diag diag;

	(void)state;
	ASSERT_TRUE(!load_text("node: [a\n", &diag, 0), "syntax refused");
	ASSERT_TRUE(!strncmp(diag.error, "t.yaml:2:1: error: YAML syntax:", 31), "syntax place");
	policy_diag_free(&diag);
	expect_error(HEAD "teirs: {}\n",
		     "t.yaml:16:1: error: unknown key \"teirs\" (did you mean \"tiers\"?)",
		     "top-level key");
	expect_error(HEAD "    endpionts: []\n",
		     "t.yaml:16:5: error: unknown key \"endpionts\" (did you mean \"endpoints\"?)",
		     "model key");
	expect_error("node: {country: AE}\nnode: {country: US}\n",
		     "t.yaml:2:1: error: duplicate key \"node\" (first at line 1)", "duplicate key");
	expect_error("", "t.yaml:1:1: error: empty policy (see docs/policy.md)", "empty");
	expect_error("tiers: {}\n",
		     "t.yaml:1:1: error: missing required key \"node\" (the host country)",
		     "no node");
	expect_error("version: 2\nnode: {country: AE}\n",
		     "t.yaml:1:10: error: unsupported policy version \"2\" (this compiler reads 1)",
		     "version");
}

static void country_errors(void **state)
{
	(void)state;
	expect_error(HEAD "    exceptions:\n      - {countries: [UK], verdict: allow, reason: r}\n",
		     "t.yaml:17:22: error: invalid country code \"UK\" (did you mean \"GB\"?)",
		     "UK");
	expect_error("node: {country: Germany}\n",
		     "t.yaml:1:17: error: invalid country code \"Germany\" (did you mean \"DE\"?)",
		     "country name");
	expect_error("node: {country: QQ}\n",
		     "t.yaml:1:17: error: invalid country code \"QQ\" (ISO 3166-1 alpha-2, upper case)",
		     "unassigned");
	expect_error("node: {country: AE}\ncountry_groups: {g: [uk]}\n",
		     "t.yaml:2:22: error: undefined country group \"uk\" (did you mean country \"GB\"?)",
		     "lower-case code");
}

static void group_errors(void **state)
{
	struct policy_diag diag;
	struct policy *p;

	(void)state;
	expect_error("node: {country: AE}\ncountry_groups: {partners: [AE], g: [partnrs]}\n",
		     "t.yaml:2:38: error: undefined country group \"partnrs\" (did you mean \"partners\"?)",
		     "undefined group");
	expect_error("node: {country: AE}\ncountry_groups:\n  a: [b]\n  b: [c, US]\n  c: [a]\n",
		     "t.yaml:3:3: error: cyclic country group: a -> b -> c -> a", "cycle");
	p = expect_ok("node: {country: AE}\ncountry_groups:\n  none:\n  some: [none, FR]\n"
		      "tiers: {t: {ingress: {allow: [some]}, egress: {}}}\n", &diag, "empty group");
	ASSERT_STR_EQ(strbuf_str(&diag.warnings),
		      "t.yaml:5:9: warning: tier \"t\" is used by no model; its rules never apply\n",
		      "an empty group is a group");
	policy_free(p);
	policy_diag_free(&diag);
	expect_error("node: {country: AE}\ncountry_groups: {a: [a]}\n",
		     "t.yaml:2:18: error: cyclic country group: a -> a", "self cycle");
	expect_error("node: {country: AE}\ncountry_groups: {all: [US]}\n",
		     "t.yaml:2:18: error: duplicate country group \"all\": it is built in",
		     "all is built in");
	expect_error("node: {country: AE}\ncountry_groups: {EU: [FR]}\n",
		     "t.yaml:2:18: error: country group name \"EU\" must start with a lower-case letter (upper case is for country codes)",
		     "upper-case group name");
}

static void model_errors(void **state)
{
	(void)state;
	expect_error(HEAD "  - name: m1\n    tier: open\n",
		     "t.yaml:16:5: error: duplicate model name \"m1\" (first at line 12)",
		     "duplicate model");
	expect_error(HEAD "  - name: m2\n    tier: open\n    endpoints: [\"192.0.2.1:443/tcp\"]\n",
		     "t.yaml:18:17: error: models \"m1\" and \"m2\" both claim endpoint 192.0.2.1:443/tcp (first at line 14)",
		     "endpoint claimed twice");
	expect_error(HEAD "  - name: m2\n    tier: open\n    endpoints: [\"*:8443/tcp\"]\n"
		     "  - name: m3\n    tier: open\n    endpoints: [\"0.0.0.0:8443/tcp\"]\n",
		     "t.yaml:21:17: error: models \"m2\" and \"m3\" both claim endpoint 0.0.0.0:8443/tcp (first at line 18)",
		     "* claims the wildcard of both families");
	expect_error(HEAD "  - name: m2\n    endpoints: []\n",
		     "t.yaml:16:5: error: model \"m2\" has no tier (add tier: NAME)", "no tier");
	expect_error(HEAD "  - name: m2\n    tier: licenced\n",
		     "t.yaml:17:11: error: undefined tier \"licenced\" (did you mean \"licensed\"?)",
		     "undefined tier");
	expect_error(HEAD "  - name: m2\n    tier: open\n    tenants: [/srv/m1]\n",
		     "t.yaml:18:15: error: tenant cgroup \"/srv/m1\" is claimed twice (first at line 15)",
		     "tenant claimed twice");
	expect_error(HEAD "  - name: m2\n    tier: open\n    tenants: [srv/m2, /srv/m2/]\n",
		     "t.yaml:18:15: error: tenant cgroup \"srv/m2\" must be a path below the cgroup2 mount (/a/b: no empty, . or .. parts, no trailing /)",
		     "relative tenant path");
	expect_error(HEAD "  - name: m2\n    tier: open\n    tenants: [/srv/m2/]\n",
		     "t.yaml:18:15: error: tenant cgroup \"/srv/m2/\" must be a path below the cgroup2 mount (/a/b: no empty, . or .. parts, no trailing /)",
		     "trailing slash");
	expect_error(HEAD "  - name: m2\n    tier: open\n    endpoints: [\"192.0.2.1:0/tcp\"]\n",
		     "t.yaml:18:17: error: invalid endpoint \"192.0.2.1:0/tcp\" (write ADDRESS:PORT/tcp or /udp; ADDRESS is IPv4, [IPv6] or *)",
		     "port 0");
	expect_error(HEAD "    exceptions:\n      - {countries: [US], verdict: deny, reason: a}\n"
		     "      - {countries: [partners], verdict: allow, reason: b}\n",
		     "t.yaml:18:9: error: exceptions of model \"m1\" give one country both allow and deny (this one and line 17)",
		     "conflicting exceptions");
	expect_error(HEAD "    exceptions:\n      - {countries: [US], verdict: audit, reason: a}\n",
		     "t.yaml:17:36: error: a verdict is allow or deny; audit is a mode (mode: audit)",
		     "audit is a mode");
}

static void endpoint_syntax(void **state)
{
	static const char *const bad[] = {
		"192.0.2.1:443", "192.0.2.1:443/sctp", "192.0.2.1:+443/tcp", "192.0.2.1:/tcp",
		"192.0.2.1:65536/tcp", "2001:db8::1:443/tcp", "[192.0.2.1]:443/tcp",
		"[*]:443/tcp", "192.0.2.256:1/tcp", ":1/tcp", "[]:1/tcp",
	};
	static const char *const good[] = {
		"192.0.2.1:65535/udp", "[2001:db8::1]:1/tcp", "[::]:1/tcp", "0.0.0.0:1/tcp",
	};
	char text[512], want[512];
	struct policy_diag diag;
	struct policy *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "node: {country: AE}\ntiers: {t: {ingress: {}, egress: {}}}\n"
			 "models: [{name: m, tier: t, endpoints: [\"%s\"]}]\n", bad[i]);
		snprintf(want, sizeof(want), "t.yaml:3:41: error: invalid endpoint \"%s\" (write ADDRESS:PORT/tcp or /udp; ADDRESS is IPv4, [IPv6] or *)",
			 bad[i]);
		expect_error(text, want, bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "node: {country: AE}\ntiers: {t: {ingress: {}, egress: {}}}\n"
			 "models: [{name: m, tier: t, endpoints: [\"%s\"]}]\n", good[i]);
		p = expect_ok(text, &diag, good[i]);
		ASSERT_STR_EQ(policy_endpoint_at(p, 0)->text, good[i], "canonical text");
		policy_free(p);
		policy_diag_free(&diag);
	}
}

#define GUARANTEE						\
	"guarantees:\n"						\
	"  - name: ae-access\n"					\
	"    models: [m1]\n"					\
	"    from: 2026-01-01\n"				\
	"    until: 2030-01-01\n"

static void guarantee_errors(void **state)
{
	(void)state;
	expect_error(HEAD "    exceptions:\n      - {countries: [AE], verdict: deny, reason: letter}\n"
		     GUARANTEE,
		     "t.yaml:17:9: error: this rule breaks guarantee \"ae-access\": model \"m1\" exception: deny AE (letter), so AE cannot reach model \"m1\"\n"
		     "t.yaml:19:5: note: guarantee \"ae-access\" is declared here; only a revocation can override it",
		     "broken by an exception");
	expect_error("node: {country: AE}\ntiers:\n  closed:\n    ingress: {default: deny}\n"
		     "    egress: {default: allow}\nmodels: [{name: m1, tier: closed}]\n" GUARANTEE,
		     "t.yaml:4:24: error: this rule breaks guarantee \"ae-access\": tier \"closed\" ingress default: deny, so AE cannot reach model \"m1\"\n"
		     "t.yaml:8:5: note: guarantee \"ae-access\" is declared here; only a revocation can override it",
		     "broken by a tier default");
	expect_error("node: {country: AE}\ntiers:\n  closed:\n    ingress: {default: allow}\n"
		     "    egress: {default: deny}\nmodels: [{name: m1, tier: closed}]\n" GUARANTEE,
		     "t.yaml:5:23: error: this rule breaks guarantee \"ae-access\": tier \"closed\" egress default: deny, so model \"m1\" cannot answer AE\n"
		     "t.yaml:8:5: note: guarantee \"ae-access\" is declared here; only a revocation can override it",
		     "broken on the way back (egress)");
	expect_error(HEAD GUARANTEE "revocations:\n  - {guarantee: ae-acess, reason: r, reference: x, effective: 2027-01-01}\n",
		     "t.yaml:22:5: error: revocation of unknown guarantee \"ae-acess\" (did you mean \"ae-access\"?)",
		     "revocation of unknown guarantee");
	expect_error(HEAD GUARANTEE "  - {name: ae-access, models: [m1], from: 2026-01-01}\n",
		     "t.yaml:21:5: error: duplicate guarantee name \"ae-access\" (first at line 17)",
		     "duplicate guarantee");
	expect_error(HEAD "guarantees:\n  - {name: g, models: [m2], from: 2026-01-01}\n",
		     "t.yaml:17:24: error: undefined model \"m2\" (did you mean \"m1\"?)",
		     "guarantee of unknown model");
	expect_error(HEAD "guarantees:\n  - {name: g, models: [m1], from: 2026-13-01}\n",
		     "t.yaml:17:35: error: invalid time \"2026-13-01\" for from (write 2026-01-31 or 2026-01-31T12:00:00Z)",
		     "bad time");
	expect_error(HEAD "guarantees:\n  - {name: g, models: [m1], from: 2026-01-01, availability: 101}\n",
		     "t.yaml:17:61: error: availability must be a percentage above 0 and at most 100 with up to four decimals, not \"101\"",
		     "bad availability");
}

static void revocation_lets_a_rule_break_a_guarantee(void **state)
{
	struct policy_guarantee_status st;
	struct policy_diag diag;
	struct policy *p;
	__u16 cc[4];
	int64_t t;

	(void)state;
	p = expect_ok(HEAD "    exceptions:\n      - {countries: [AE], verdict: deny, reason: letter}\n"
		      GUARANTEE "revocations:\n"
		      "  - {guarantee: ae-access, reason: letter, reference: L-1, effective: 2027-06-01}\n",
		      &diag, "revoked");
	ASSERT_EQ(policy_guarantee_count(p), 1, "one guarantee");
	ASSERT_OK(policy_parse_time("2025-12-31T23:59:59Z", &t), "time");
	ASSERT_OK(policy_guarantee_eval(p, 0, t, &st), "eval");
	ASSERT_EQ(st.state, GUARANTEE_PENDING, "before from");
	ASSERT_OK(policy_parse_time("2026-03-01", &t), "time");
	policy_guarantee_eval(p, 0, t, &st);
	ASSERT_EQ(st.state, GUARANTEE_ACTIVE, "in force");
	ASSERT_TRUE(st.has_revocation, "revocation known before it takes effect");
	ASSERT_STR_EQ(st.revocation_reference, "L-1", "reference");
	ASSERT_OK(policy_parse_time("2027-06-01T00:00:00Z", &t), "time");
	policy_guarantee_eval(p, 0, t, &st);
	ASSERT_EQ(st.state, GUARANTEE_REVOKED, "revoked at effective time");
	ASSERT_EQ(st.revoked_at, t, "revoked_at");
	ASSERT_STR_EQ(guarantee_state_name(st.state), "revoked", "state name");
	ASSERT_EQ(policy_verdict(p, 1, DIR_INGRESS, country_index('A', 'E')), VERDICT_DENY,
		  "the rule applies");
	ASSERT_STR_EQ(strbuf_str(&diag.warnings),
		      "t.yaml:5:3: warning: tier \"open\" is used by no model; its rules never apply\n",
		      "only the unused tier");
	policy_free(p);
	policy_diag_free(&diag);

	p = expect_ok(HEAD GUARANTEE, &diag, "expires");
	ASSERT_OK(policy_parse_time("2030-01-01", &t), "time");
	policy_guarantee_eval(p, 0, t, &st);
	ASSERT_EQ(st.state, GUARANTEE_EXPIRED, "expired at until");
	ASSERT_EQ(st.n_models, 1, "one model");
	ASSERT_EQ(st.models[0], 1, "m1");
	ASSERT_EQ(policy_guarantee_countries(p, 0, cc, 4), 1, "one country: the host's");
	ASSERT_EQ(cc[0], country_index('A', 'E'), "AE");
	ASSERT_TRUE(policy_guarantee_covers(p, 0, 1, country_index('A', 'E')), "covers AE");
	ASSERT_TRUE(!policy_guarantee_covers(p, 0, 1, country_index('U', 'S')), "not US");
	policy_free(p);
	policy_diag_free(&diag);
}

static void audit_does_not_break_a_guarantee(void **state)
{
	struct policy_diag diag;
	struct policy *p;

	(void)state;
	p = expect_ok(HEAD "    exceptions:\n      - {countries: [AE], verdict: deny, reason: trial, mode: audit}\n"
		      GUARANTEE, &diag, "audit passes the traffic");
	ASSERT_EQ(policy_verdict(p, 1, DIR_INGRESS, country_index('A', 'E')), VERDICT_AUDIT,
		  "counted, not refused");
	policy_free(p);
	policy_diag_free(&diag);
}

static void expired_guarantee_no_longer_binds(void **state)
{
	const char *text = HEAD "    exceptions:\n      - {countries: [AE], verdict: deny, reason: x}\n"
			   GUARANTEE;
	struct policy_diag diag;
	struct policy *p;
	int64_t now;

	(void)state;
	ASSERT_OK(policy_parse_time("2031-01-01", &now), "time");
	p = load_text(text, &diag, now);
	ASSERT_OK_PTR(p, "compiles once the guarantee has expired");
	ASSERT_STR_EQ(strbuf_str(&diag.warnings),
		      "t.yaml:5:3: warning: tier \"open\" is used by no model; its rules never apply\n"
		      "t.yaml:19:5: warning: guarantee \"ae-access\" expired at 2030-01-01T00:00:00Z; it no longer binds\n",
		      "says so");
	policy_free(p);
	policy_diag_free(&diag);
}

static void warnings_for_rules_that_never_apply(void **state)
{
	struct policy_diag diag;
	struct policy *p;

	(void)state;
	p = expect_ok("node: {country: AE}\n"
		      "country_groups: {spare: [FR], bad: [IR]}\n"
		      "tiers:\n"
		      "  open:\n"
		      "    ingress: {allow: [all], default: allow}\n"
		      "    egress: {deny: [bad]}\n"
		      "  idle: {ingress: {}, egress: {}}\n"
		      "models:\n"
		      "  - name: m\n"
		      "    tier: open\n"
		      "    exceptions: [{countries: [US], direction: ingress, verdict: allow, reason: x}]\n",
		      &diag, "warnings");
	ASSERT_EQ(diag.n_warnings, 5, "five warnings");
	ASSERT_STR_EQ(strbuf_str(&diag.warnings),
		      "t.yaml:2:18: warning: country group \"spare\" is never used\n"
		      "t.yaml:5:23: warning: tier \"open\" ingress allow \"all\" never applies: the default is allow\n"
		      "t.yaml:6:21: warning: tier \"open\" egress deny \"bad\" never applies: the default is deny and the allow list does not include it\n"
		      "t.yaml:7:3: warning: tier \"idle\" is used by no model; its rules never apply\n"
		      "t.yaml:11:18: warning: exception of model \"m\" never applies: tier \"open\" already gives allow for every country it lists\n",
		      "messages");
	policy_free(p);
	policy_diag_free(&diag);
}

static void ids_tables_and_modes(void **state)
{
	struct policy_diag diag;
	const struct policy_endpoint *e;
	struct tenant_info who;
	struct policy *p;
	__u16 ae = country_index('A', 'E'), fr = country_index('F', 'R');

	(void)state;
	p = expect_ok("node: {country: AE}\nmode: audit\n"
		      "tiers:\n  t:\n    ingress: {allow: [AE]}\n    egress: {allow: [all], mode: enforce}\n"
		      "models:\n"
		      "  - {name: zeta, tier: t, endpoints: [\"[::ffff:192.0.2.7]:80/udp\"]}\n"
		      "  - name: alpha\n    tier: t\n    mode: enforce\n"
		      "    endpoints: [{address: \"[2001:db8::1]:443/tcp\", tenant: b}, \"*:8080/tcp\"]\n"
		      "    tenants: [{name: b, cgroup: /srv/alpha}, {name: a, cgroup: \"/srv/alpha-*\"}, /srv/*]\n",
		      &diag, "tables");
	ASSERT_EQ(policy_model_count(p), 2, "models");
	ASSERT_STR_EQ(policy_model_name(p, 1), "alpha", "ids in name order");
	ASSERT_STR_EQ(policy_model_name(p, 2), "zeta", "second");
	ASSERT_STR_EQ(policy_model_name(p, 0), "unknown", "model 0");
	ASSERT_EQ(policy_model_find(p, "zeta"), 2, "find");
	ASSERT_EQ(policy_model_find(p, "nope"), -ENOENT, "find missing");
	ASSERT_EQ(policy_verdict(p, 1, DIR_INGRESS, fr), VERDICT_DENY, "model mode enforce wins");
	ASSERT_EQ(policy_verdict(p, 2, DIR_INGRESS, fr), VERDICT_AUDIT, "policy default audit");
	ASSERT_EQ(policy_verdict(p, 2, DIR_INGRESS, ae), VERDICT_ALLOW, "allowed stays allowed");
	ASSERT_EQ(policy_verdict(p, 0, DIR_INGRESS, fr), VERDICT_ALLOW, "no unknown tier: allow");
	ASSERT_EQ(policy_endpoint_count(p), 4, "endpoints, * gives two");
	/* Sorted by key bytes: address (network order), port, protocol, family. */
	ASSERT_STR_EQ(policy_endpoint_at(p, 0)->text, "0.0.0.0:8080/tcp", "wildcard v4");
	ASSERT_STR_EQ(policy_endpoint_at(p, 1)->text, "[::]:8080/tcp", "wildcard v6");
	ASSERT_EQ(policy_endpoint_at(p, 1)->who.tenant, 0, "several tenants: unknown");
	ASSERT_STR_EQ(policy_endpoint_at(p, 2)->text, "[2001:db8::1]:443/tcp", "v6");
	ASSERT_STR_EQ(policy_tenant_name(p, policy_endpoint_at(p, 2)->who.tenant), "b",
		      "named tenant");
	e = policy_endpoint_at(p, 3);
	ASSERT_STR_EQ(e->text, "192.0.2.7:80/udp", "v4-mapped is IPv4");
	ASSERT_EQ(e->key.family, 4, "family 4");
	ASSERT_EQ(e->key.addr[0], htonl(0xc0000207), "address in network order");
	ASSERT_EQ(e->key.port, 80, "port in host order");
	ASSERT_EQ(e->key.proto, IPPROTO_UDP, "udp");
	ASSERT_EQ(e->who.model, 2, "model");
	ASSERT_EQ(e->who.tenant, 0, "model without tenants");
	ASSERT_EQ(policy_tenant_count(p), 3, "tenants");
	ASSERT_STR_EQ(policy_tenant_name(p, 1), "/srv/*", "tenant ids in name order");
	ASSERT_OK(policy_match_cgroup(p, "/srv/alpha", &who), "match");
	ASSERT_STR_EQ(policy_tenant_name(p, who.tenant), "b", "most specific pattern wins");
	ASSERT_OK(policy_match_cgroup(p, "/srv/alpha-2", &who), "match glob");
	ASSERT_STR_EQ(policy_tenant_name(p, who.tenant), "a", "glob");
	ASSERT_OK(policy_match_cgroup(p, "/srv/other", &who), "match wide");
	ASSERT_EQ(who.tenant, 1, "wide pattern");
	ASSERT_EQ(policy_match_cgroup(p, "/srv/a/b", &who), -ENOENT, "* does not cross /");
	policy_free(p);
	policy_diag_free(&diag);
}

static void hash_ignores_form_not_meaning(void **state)
{
	const char *a = "# a comment\nnode: {id: n, country: AE}\n"
			"country_groups: {g: [US, FR]}\n"
			"tiers:\n  t:\n    ingress: {allow: [g, AE], default: deny}\n"
			"    egress: {default: allow}\n"
			"models:\n  - {name: a, tier: t, endpoints: [\"*:1/tcp\"]}\n"
			"  - {name: b, tier: t}\n";
	const char *b = "tiers:\n  t:\n    egress:\n      default: allow\n"
			"    ingress:\n      default: deny\n      allow:\n        - AE\n        - g\n"
			"models:\n  - name: b\n    tier: t\n"
			"  - name: a\n    endpoints: [\"[::]:1/tcp\", \"0.0.0.0:1/tcp\"]\n    tier: t\n"
			"country_groups:\n  g: [FR, US, FR]\n"
			"node:\n  country: \"AE\"\n  id: n   # trailing comment\n";
	const char *c = "node: {id: n, country: AE}\n"
			"country_groups: {g: [US, FR]}\n"
			"tiers:\n  t:\n    ingress: {allow: [g, AE], default: deny}\n"
			"    egress: {default: allow}\n"
			"models:\n  - {name: a, tier: t, endpoints: [\"*:2/tcp\"]}\n"
			"  - {name: b, tier: t}\n";
	__u8 ha[SHA256_LEN], hb[SHA256_LEN], hc[SHA256_LEN];
	struct policy_diag diag;
	struct policy *p;

	(void)state;
	p = expect_ok(a, &diag, "a");
	policy_hash(p, ha);
	policy_free(p);
	policy_diag_free(&diag);
	p = expect_ok(b, &diag, "b");
	policy_hash(p, hb);
	policy_free(p);
	policy_diag_free(&diag);
	p = expect_ok(c, &diag, "c");
	policy_hash(p, hc);
	policy_free(p);
	policy_diag_free(&diag);
	ASSERT_TRUE(!memcmp(ha, hb, SHA256_LEN), "same meaning, same hash");
	ASSERT_TRUE(memcmp(ha, hc, SHA256_LEN), "other port, other hash");
}

static void explain_names_the_chain(void **state)
{
	struct policy_explanation ex;
	struct policy_diag diag;
	struct policy *p;

	(void)state;
	p = expect_ok(HEAD "    exceptions:\n      - {countries: [FR], verdict: allow, reason: licence, reference: L-9, direction: ingress}\n"
		      "      - {countries: [RU], verdict: deny, reason: r, mode: audit}\n",
		      &diag, "explain");
	ASSERT_OK(policy_explain(p, 1, DIR_INGRESS, country_index('F', 'R'), &ex), "explain FR");
	ASSERT_EQ(ex.verdict, VERDICT_ALLOW, "FR allowed");
	ASSERT_EQ(ex.n_steps, 2, "two steps");
	ASSERT_STR_EQ(ex.steps[0].text, "tier \"licensed\" ingress default: deny", "default");
	ASSERT_EQ(ex.steps[0].line, 9, "default line");
	ASSERT_STR_EQ(ex.steps[1].text, "model \"m1\" exception: allow FR (licence; L-9)", "exception");
	ASSERT_EQ(ex.decisive, 1, "the exception decides");
	ASSERT_OK(policy_explain(p, 1, DIR_INGRESS, country_index('U', 'S'), &ex), "explain US");
	ASSERT_STR_EQ(ex.steps[1].text, "tier \"licensed\" ingress allow \"partners\" includes US",
		      "allow via group");
	ASSERT_OK(policy_explain(p, 1, DIR_EGRESS, country_index('R', 'U'), &ex), "explain RU");
	ASSERT_EQ(ex.verdict, VERDICT_AUDIT, "audit");
	ASSERT_STR_EQ(ex.steps[2].text,
		      "mode audit (set on the exception): the deny is counted as audit and the traffic passes",
		      "mode step");
	ASSERT_EQ(policy_explain(p, 9, DIR_EGRESS, 1, &ex), -EINVAL, "no such model");
	policy_free(p);
	policy_diag_free(&diag);
}

static void diff_lists_changed_cells(void **state)
{
	struct policy_diag diag;
	struct policy *a, *b;
	struct strbuf out;

	(void)state;
	a = expect_ok(HEAD GUARANTEE, &diag, "old");
	policy_diag_free(&diag);
	b = expect_ok(HEAD "    exceptions: [{countries: [FR], verdict: allow, reason: x, direction: egress}]\n"
		      "  - {name: m0, tier: open}\n",
		      &diag, "new");
	strbuf_init(&out);
	ASSERT_EQ(policy_diff(a, b, &out), 3, "three differences");
	ASSERT_STR_EQ(strbuf_str(&out),
		      "model m0 added\n"
		      "verdict m1 FR egress: deny -> allow\n"
		      "guarantee ae-access lost\n", "diff text");
	strbuf_free(&out);
	policy_free(a);
	policy_free(b);
	policy_diag_free(&diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yaml_and_key_errors),
		cmocka_unit_test(country_errors),
		cmocka_unit_test(group_errors),
		cmocka_unit_test(model_errors),
		cmocka_unit_test(endpoint_syntax),
		cmocka_unit_test(guarantee_errors),
		cmocka_unit_test(revocation_lets_a_rule_break_a_guarantee),
		cmocka_unit_test(audit_does_not_break_a_guarantee),
		cmocka_unit_test(expired_guarantee_no_longer_binds),
		cmocka_unit_test(warnings_for_rules_that_never_apply),
		cmocka_unit_test(ids_tables_and_modes),
		cmocka_unit_test(hash_ignores_form_not_meaning),
		cmocka_unit_test(explain_names_the_chain),
		cmocka_unit_test(diff_lists_changed_cells),
	};

	return cmocka_run_group_tests_name("unit/policy", tests, NULL, NULL);
}
