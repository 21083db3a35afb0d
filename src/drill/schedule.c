/* drill: when mail may go out — business days and hours in the company's
 * time zone — and how long to wait after a transient failure. The C
 * library converts local time only through TZ, so the zone is set around
 * each conversion (and put back); callers are single-threaded CLI commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "drill/drill.h"

struct tzsave {
	char old[256];
	bool had;
};

static void tz_enter(struct tzsave *s, const char *tz)
{
	const char *o = getenv("TZ");
	s->had = o != NULL;
	if (o)
		snprintf(s->old, sizeof(s->old), "%s", o);
	setenv("TZ", tz && *tz ? tz : "UTC", 1);
	tzset();
}

static void tz_leave(struct tzsave *s)
{
	if (s->had)
		setenv("TZ", s->old, 1);
	else
		unsetenv("TZ");
	tzset();
}

int om_drill_localtime(int64_t t, const char *tz, struct tm *ret)
{
	struct tzsave sv;
	time_t tt = (time_t)(t / 1000000);
	tz_enter(&sv, tz);
	struct tm *p = localtime_r(&tt, ret);
	tz_leave(&sv);
	return p ? 0 : -EINVAL;
}

int om_drill_window_next(int64_t t, const char *tz, unsigned days, unsigned hour_start,
                         unsigned hour_end, int64_t *ret)
{
	if ((days & 0x7f) == 0 || hour_start >= hour_end || hour_end > 24)
		return -EINVAL;
	struct tzsave sv;
	tz_enter(&sv, tz);
	time_t tt = (time_t)(t / 1000000);
	struct tm lt;
	int r = -EINVAL;
	if (!localtime_r(&tt, &lt))
		goto out;
	if ((days >> lt.tm_wday) & 1 && (unsigned)lt.tm_hour >= hour_start &&
	    (unsigned)lt.tm_hour < hour_end) {
		*ret = t;
		r = 0;
		goto out;
	}
	/* the start of the window today or on one of the next 7 days */
	for (int d = 0; d <= 7; d++) {
		struct tm c = lt;
		c.tm_mday += d;
		c.tm_hour = (int)hour_start;
		c.tm_min = c.tm_sec = 0;
		c.tm_isdst = -1;
		time_t s = mktime(&c);
		if (s == (time_t)-1)
			continue;
		struct tm chk;
		if (!localtime_r(&s, &chk) || !((days >> chk.tm_wday) & 1))
			continue;
		if ((int64_t)s * 1000000 >= t) {
			*ret = (int64_t)s * 1000000;
			r = 0;
			goto out;
		}
	}
out:
	tz_leave(&sv);
	return r;
}

int64_t om_drill_backoff(unsigned attempts)
{
	int64_t w = 60 * 1000000LL;
	for (unsigned i = 1; i < attempts && w < 3600 * 1000000LL; i++)
		w *= 2;
	return w > 3600 * 1000000LL ? 3600 * 1000000LL : w;
}

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int day_of(const char *s, size_t n)
{
	if (n != 3)
		return -1;
	for (int i = 0; i < 7; i++)
		if (!strncasecmp(s, day_names[i], 3))
			return i;
	return -1;
}

int om_drill_days_parse(const char *s, unsigned *ret)
{
	unsigned m = 0;
	const char *p = s;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *dash = memchr(p, '-', n);
		int a, b;
		if (dash) {
			a = day_of(p, (size_t)(dash - p));
			b = day_of(dash + 1, n - (size_t)(dash - p) - 1);
		} else {
			a = b = day_of(p, n);
		}
		if (a < 0 || b < 0)
			return -EINVAL;
		for (int d = a;; d = (d + 1) % 7) {
			m |= 1u << d;
			if (d == b)
				break;
		}
		p += n;
		if (*p == ',')
			p++;
		if (comma && !*p)
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*ret = m;
	return 0;
}

int om_drill_hours_parse(const char *s, unsigned *ret_start, unsigned *ret_end)
{
	const char *dash = strchr(s, '-');
	char a[8];
	if (!dash || (size_t)(dash - s) >= sizeof(a) || dash == s)
		return -EINVAL;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = 0;
	uint64_t h0, h1;
	if (om_parse_u64(a, 0, 23, &h0) < 0 || om_parse_u64(dash + 1, 1, 24, &h1) < 0 || h0 >= h1)
		return -EINVAL;
	*ret_start = (unsigned)h0;
	*ret_end = (unsigned)h1;
	return 0;
}

int om_drill_duration_parse(const char *s, int64_t *ret)
{
	char num[24];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	int64_t mul = 1;
	switch (s[n - 1]) {
	case 's': n--; break;
	case 'm': mul = 60, n--; break;
	case 'h': mul = 3600, n--; break;
	case 'd': mul = 86400, n--; break;
	default: break;
	}
	memcpy(num, s, n);
	num[n] = 0;
	uint64_t v;
	if (n == 0 || om_parse_u64(num, 0, 366ULL * 86400, &v) < 0 ||
	    v * (uint64_t)mul > 366ULL * 86400)
		return -EINVAL;
	*ret = (int64_t)v * mul * 1000000;
	return 0;
}

int om_drill_local_parse(const char *s, const char *tz, int64_t *ret)
{
	/* YYYY-MM-DDTHH:MM */
	if (strlen(s) != 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':')
		return -EINVAL;
	int v[5], pos[5] = {0, 5, 8, 11, 14}, len[5] = {4, 2, 2, 2, 2};
	for (int i = 0; i < 5; i++) {
		v[i] = 0;
		for (int k = 0; k < len[i]; k++) {
			char ch = s[pos[i] + k];
			if (ch < '0' || ch > '9')
				return -EINVAL;
			v[i] = v[i] * 10 + (ch - '0');
		}
	}
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59)
		return -EINVAL;
	struct tm t = {.tm_year = v[0] - 1900,
	               .tm_mon = v[1] - 1,
	               .tm_mday = v[2],
	               .tm_hour = v[3],
	               .tm_min = v[4],
	               .tm_isdst = -1};
	struct tzsave sv;
	tz_enter(&sv, tz);
	time_t tt = mktime(&t);
	tz_leave(&sv);
	if (tt == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)tt * 1000000;
	return 0;
}
