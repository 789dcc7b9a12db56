/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Country codes in userspace: which ISO 3166-1 alpha-2 codes are assigned,
 * their names, parsing with suggestions for common mistakes. The u16 index
 * itself is defined once, in customs_abi.h, for kernel and userspace alike.
 */
#ifndef CUSTOMS_COUNTRY_H
#define CUSTOMS_COUNTRY_H

#include <stdbool.h>
#include "customs_abi.h"

#define COUNTRY_STRLEN 3	/* two letters and a NUL */

/*
 * Parses a two-letter code (any case). Returns 0 and sets *idx for an
 * assigned code, "XK" (Kosovo, user-assigned but used by every registry)
 * or "ZZ" (unknown); -EINVAL otherwise.
 */
int country_parse(const char *s, __u16 *idx);
bool country_is_assigned(__u16 idx);
/* English short name, "Unknown" for ZZ, NULL for an unassigned index. */
const char *country_name(__u16 idx);
/* Writes the code as a NUL-terminated string into out. */
void country_str(__u16 idx, char out[COUNTRY_STRLEN]);
/*
 * A likely intended code for a string that did not parse ("UK" -> "GB",
 * "Germany" -> "DE"), or NULL when there is no good guess.
 */
const char *country_suggest(const char *bad);

#endif
