/* time.c: capture-time formatting. All times are UTC. */
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Proleptic Gregorian date of a day count since 1970-01-01 (the well-known
 * era arithmetic: 400-year eras of 146097 days). No libc calls: event
 * formatting is on the hot path. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static char *put_num(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

void om_time_iso(om_usec t, char *buf, size_t n)
{
	if (n < 32) {
		if (n)
			buf[0] = '\0';
		return;
	}
	/* the last time this thread wrote: a flow record's header and its
	 * start are the same time */
	static _Thread_local om_usec cached_t;
	static _Thread_local bool cached_ok;
	static _Thread_local char cached_iso[32];
	if (cached_ok && t == cached_t) {
		memcpy(buf, cached_iso, sizeof(cached_iso));
		return;
	}
	uint64_t secs = t / 1000000;
	unsigned us = (unsigned)(t % 1000000);
	unsigned sod = (unsigned)(secs % 86400);
	uint64_t day = secs / 86400;
	/* The date of the last day this thread wrote ("YYYY-MM-DDT"): the
	 * events of a capture fall on few days. */
	static _Thread_local uint64_t cached_day = UINT64_MAX;
	static _Thread_local char cached_date[11];
	if (day != cached_day) {
		int y;
		unsigned mo, d;
		civil_from_days((int64_t)day, &y, &mo, &d);
		if (y > 9999) {
			snprintf(buf, n, "9999-12-31T23:59:59.999999+0000");
			return;
		}
		char *q = cached_date;
		q = put_num(q, (unsigned)y, 4);
		*q++ = '-';
		q = put_num(q, mo, 2);
		*q++ = '-';
		q = put_num(q, d, 2);
		*q = 'T';
		cached_day = day;
	}
	char *p = buf;
	memcpy(p, cached_date, sizeof(cached_date));
	p += sizeof(cached_date);
	p = put_num(p, sod / 3600, 2);
	*p++ = ':';
	p = put_num(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = put_num(p, sod % 60, 2);
	*p++ = '.';
	p = put_num(p, us, 6);
	memcpy(p, "+0000", 6);
	memcpy(cached_iso, buf, sizeof(cached_iso));
	cached_t = t;
	cached_ok = true;
}

void om_time_day(om_usec t, char *buf, size_t n)
{
	char iso[32];
	if (n < 11) {
		if (n)
			buf[0] = '\0';
		return;
	}
	om_time_iso(t, iso, sizeof(iso));
	memcpy(buf, iso, 10);
	buf[10] = '\0';
}

om_usec om_time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (om_usec)ts.tv_sec * 1000000u + (om_usec)ts.tv_nsec / 1000u;
}
