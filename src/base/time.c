/* time.c: capture-time formatting. All times are UTC. */
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void om_time_iso(om_usec t, char *buf, size_t n)
{
	time_t s = (time_t)(t / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned)(t % 1000000));
}

void om_time_day(om_usec t, char *buf, size_t n)
{
	time_t s = (time_t)(t / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

om_usec om_time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (om_usec)ts.tv_sec * 1000000u + (om_usec)ts.tv_nsec / 1000u;
}
