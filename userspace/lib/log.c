// SPDX-License-Identifier: BSD-2-Clause
/* Logging shared by every customs binary; see log.h. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "log.h"

static const char *log_prog = "customs";
static enum log_level log_level = LOG_LEVEL_WARN;

void log_init(const char *progname, enum log_level level)
{
	const char *slash = progname ? strrchr(progname, '/') : NULL;

	if (progname)
		log_prog = slash ? slash + 1 : progname;
	log_level = level;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fprintf(stderr, "%s: ", log_prog);
	vfprintf(stderr, fmt, ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int log_libbpf(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN ? LOG_LEVEL_WARN :
			      level == LIBBPF_INFO ? LOG_LEVEL_INFO :
			      LOG_LEVEL_DEBUG;

	/* libbpf's info chatter is only wanted when debugging. */
	if (ours == LOG_LEVEL_INFO)
		ours = LOG_LEVEL_DEBUG;
	log_vmsg(ours, fmt, ap);
	return 0;
}

void log_route_libbpf(void)
{
	libbpf_set_print(log_libbpf);
}
