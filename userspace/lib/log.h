/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging for every customs binary: pr_warn / pr_info / pr_debug to stderr
 * with a program-name prefix, a global level, and libbpf's own messages
 * routed through the same level.
 */
#ifndef CUSTOMS_LOG_H
#define CUSTOMS_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Sends libbpf's messages through our levels (warnings always, rest on debug). */
void log_route_libbpf(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define pr_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
