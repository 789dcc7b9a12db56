// SPDX-License-Identifier: BSD-2-Clause
/* Country codes: the ABI's index arithmetic and the userspace table. */
#include <errno.h>
#include <string.h>

#include "testlib.h"
#include "country.h"

static void index_round_trips_every_code(void **state)
{
	char code[COUNTRY_STRLEN], a, b;

	(void)state;
	for (a = 'A'; a <= 'Z'; a++) {
		for (b = 'A'; b <= 'Z'; b++) {
			__u16 idx = country_index(a, b);

			if (a == 'Z' && b == 'Z') {
				ASSERT_EQ(idx, COUNTRY_ZZ, "ZZ is index 0");
				continue;
			}
			ASSERT_TRUE(idx > 0 && idx < COUNTRY_MAX, "index in range");
			country_str(idx, code);
			ASSERT_EQ(code[0], a, "first letter");
			ASSERT_EQ(code[1], b, "second letter");
		}
	}
	ASSERT_EQ(country_index('a', 'd'), country_index('A', 'D'), "lower case");
	ASSERT_EQ(country_index('1', 'A'), COUNTRY_ZZ, "digit is unknown");
	country_str(COUNTRY_MAX, code);
	ASSERT_STR_EQ(code, "ZZ", "out of range reads as ZZ");
}

static void parse_accepts_assigned_only(void **state)
{
	__u16 idx = 999;

	(void)state;
	ASSERT_OK(country_parse("DE", &idx), "DE");
	ASSERT_EQ(idx, country_index('D', 'E'), "DE index");
	ASSERT_OK(country_parse("gb", &idx), "lower case gb");
	ASSERT_OK(country_parse("ZZ", &idx), "ZZ");
	ASSERT_EQ(idx, COUNTRY_ZZ, "ZZ index");
	ASSERT_OK(country_parse("XK", &idx), "XK");
	ASSERT_EQ(country_parse("UK", &idx), -EINVAL, "UK is not assigned");
	ASSERT_EQ(country_parse("AA", &idx), -EINVAL, "AA is user-assigned");
	ASSERT_EQ(country_parse("D", &idx), -EINVAL, "one letter");
	ASSERT_EQ(country_parse("DEU", &idx), -EINVAL, "alpha-3");
	ASSERT_EQ(country_parse("1Z", &idx), -EINVAL, "digit");
	ASSERT_EQ(country_parse(NULL, &idx), -EINVAL, "NULL");
}

static void names_and_assignment(void **state)
{
	(void)state;
	ASSERT_STR_EQ(country_name(country_index('C', 'H')), "Switzerland", "CH");
	ASSERT_STR_EQ(country_name(COUNTRY_ZZ), "Unknown", "ZZ");
	ASSERT_TRUE(country_name(country_index('Q', 'Q')) == NULL, "QQ unassigned");
	ASSERT_TRUE(country_is_assigned(country_index('Z', 'W')), "ZW assigned");
	ASSERT_TRUE(!country_is_assigned(COUNTRY_ZZ), "ZZ not assigned");
}

static void suggestions(void **state)
{
	(void)state;
	ASSERT_STR_EQ(country_suggest("UK"), "GB", "UK -> GB");
	ASSERT_STR_EQ(country_suggest("uk"), "GB", "uk -> GB");
	ASSERT_STR_EQ(country_suggest("EL"), "GR", "EL -> GR");
	ASSERT_STR_EQ(country_suggest("Germany"), "DE", "name");
	ASSERT_STR_EQ(country_suggest("switz"), "CH", "unique prefix");
	ASSERT_TRUE(country_suggest("Sain") == NULL, "ambiguous prefix");
	ASSERT_TRUE(country_suggest("QQ") == NULL, "no guess");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_round_trips_every_code),
		cmocka_unit_test(parse_accepts_assigned_only),
		cmocka_unit_test(names_and_assignment),
		cmocka_unit_test(suggestions),
	};

	return cmocka_run_group_tests_name("unit/country", tests, NULL, NULL);
}
