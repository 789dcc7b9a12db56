/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every customs test shares: cmocka, labelled asserts, and the one rule
 * for missing BPF rights (skip with a reason, or fail when REQUIRE_BPF=1).
 */
#ifndef CUSTOMS_TESTLIB_H
#define CUSTOMS_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <sched.h>
#include <cmocka.h>

/* Labelled asserts: a failure names the step, as the BPF selftests do. */
#define ASSERT_OK(expr, label) do {					\
	long long __r = (long long)(expr);				\
	if (__r != 0)							\
		fail_msg("%s: expected 0, got %lld", label, __r);	\
} while (0)
#define ASSERT_EQ(a, b, label) do {					\
	unsigned long long __a = (unsigned long long)(a);		\
	unsigned long long __b = (unsigned long long)(b);		\
	if (__a != __b)							\
		fail_msg("%s: got %llu, expected %llu", label, __a, __b); \
} while (0)
#define ASSERT_TRUE(expr, label) do {					\
	if (!(expr))							\
		fail_msg("%s: expected true: %s", label, #expr);	\
} while (0)
#define ASSERT_OK_PTR(p, label) do {					\
	if (!(p))							\
		fail_msg("%s: got NULL", label);			\
} while (0)
#define ASSERT_STR_EQ(a, b, label) do {					\
	const char *__a = (a), *__b = (b);				\
	if (!__a || !__b || strcmp(__a, __b))				\
		fail_msg("%s: got \"%s\", expected \"%s\"", label,	\
			 __a ? __a : "(null)", __b ? __b : "(null)");	\
} while (0)

/* True when this process may load BPF programs and create maps. */
bool test_have_bpf(void);
/*
 * Skips the running test with a reason when BPF is not available, or fails
 * it when REQUIRE_BPF=1. Call at the top of every test that needs BPF.
 */
void test_need_bpf(void);
/* Same rule for anything else a test may lack (netns, cgroup2, root). */
void test_need(bool have, const char *what);
/* Reads an integer environment knob with a default. */
long test_env_long(const char *name, long dflt);
/*
 * Keeps the calling thread on the CPU it runs on (per-CPU kernel state,
 * such as XDP's caches, then sees every packet); *was receives the
 * affinity to give back with sched_setaffinity(). 0 or -errno.
 */
int test_stay_on_one_cpu(cpu_set_t *was);

#endif
