/* console: the pure parts of the pages, kept apart from the server so that
 * unit tests reach them: time zone month bounds, query values (dates,
 * severities), trends and the provider's attention order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/internal.h"
#include "report/report.h"

/* Runs with TZ set to tz; TZ is put back afterwards. The server answers one
 * request at a time, so no other thread reads TZ meanwhile. */
static int with_zone(const char *tz, char *old, size_t oldlen)
{
	const char *o = getenv("TZ");

	if (!om_store_timezone_valid(tz))
		return -EINVAL;
	snprintf(old, oldlen, "%s", o ? o : "");
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

static void zone_back(const char *old)
{
	if (*old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
}

static bool month_parse(const char *month, int *y, int *m)
{
	if (!month || strlen(month) != 7 || month[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (month[i] < '0' || month[i] > '9'))
			return false;
	*y = (month[0] - '0') * 1000 + (month[1] - '0') * 100 + (month[2] - '0') * 10 +
	     (month[3] - '0');
	*m = (month[5] - '0') * 10 + (month[6] - '0');
	return *y >= 1970 && *y <= 9999 && *m >= 1 && *m <= 12;
}

static om_usec local_midnight(int y, int m, int d)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	return t < 0 ? 0 : (om_usec)t * 1000000;
}

int con_month_bounds(const char *tz, const char *month, om_usec *ret_from, om_usec *ret_to)
{
	char old[128];
	int y, m;

	if (!month_parse(month, &y, &m))
		return -EINVAL;
	if (with_zone(tz, old, sizeof(old)) < 0)
		return -EINVAL;
	om_usec from = local_midnight(y, m, 1);
	om_usec to = m == 12 ? local_midnight(y + 1, 1, 1) : local_midnight(y, m + 1, 1);
	zone_back(old);
	*ret_from = from;
	*ret_to = to;
	return 0;
}

int con_month_of(const char *tz, om_usec t, int delta, char out[8])
{
	char old[128];
	struct tm tm;
	time_t s = (time_t)(t / 1000000);

	if (with_zone(tz, old, sizeof(old)) < 0)
		return -EINVAL;
	bool ok = localtime_r(&s, &tm) != NULL;
	zone_back(old);
	if (!ok)
		return -EINVAL;
	int months = (tm.tm_year + 1900) * 12 + tm.tm_mon + delta;
	if (months < 0 || months / 12 > 9999)
		return -EINVAL;
	unsigned y = (unsigned)(months / 12), m = (unsigned)(months % 12) + 1;
	snprintf(out, 8, "%04u-%02u", y % 10000u, m % 100u);
	return 0;
}

int con_local_time(const char *tz, om_usec t, char *out, size_t n)
{
	char old[128];
	struct tm tm;
	time_t s = (time_t)(t / 1000000);

	if (n == 0 || with_zone(tz, old, sizeof(old)) < 0)
		return -EINVAL;
	bool ok = localtime_r(&s, &tm) != NULL;
	zone_back(old);
	if (!ok || strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return -EINVAL;
	return 0;
}

int con_day_start(const char *tz, const char *day, bool next, om_usec *ret)
{
	char old[128];
	int y, m, d;

	if (!day || strlen(day) != 10 || day[4] != '-' || day[7] != '-')
		return -EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (day[i] < '0' || day[i] > '9'))
			return -EINVAL;
	y = (day[0] - '0') * 1000 + (day[1] - '0') * 100 + (day[2] - '0') * 10 + (day[3] - '0');
	m = (day[5] - '0') * 10 + (day[6] - '0');
	d = (day[8] - '0') * 10 + (day[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	if (with_zone(tz, old, sizeof(old)) < 0)
		return -EINVAL;
	/* mktime carries a day beyond the month's end into the next month:
	 * refuse it by checking the day comes back unchanged */
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d + (next ? 1 : 0);
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	struct tm chk = {0};
	chk.tm_year = y - 1900;
	chk.tm_mon = m - 1;
	chk.tm_mday = d;
	chk.tm_isdst = -1;
	mktime(&chk);
	zone_back(old);
	if (t < 0 || chk.tm_mday != d)
		return -EINVAL;
	*ret = (om_usec)t * 1000000;
	return 0;
}

int con_severity_parse(const char *s, int *ret)
{
	if (!s || !*s) {
		*ret = 0;
		return 0;
	}
	if (s[1] == '\0' && s[0] >= '1' && s[0] <= '3') {
		*ret = s[0] - '0';
		return 0;
	}
	return -EINVAL;
}

int con_id_parse(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (!s || !*s || strlen(s) > 18)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

bool con_category_ok(const char *c)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(om_report_categories); i++)
		if (!strcmp(c, om_report_categories[i]))
			return true;
	return false;
}

void con_trend(uint64_t now, uint64_t before, char *out, size_t n)
{
	if (now > before)
		snprintf(out, n, "\u2191 +%llu", (unsigned long long)(now - before));
	else if (now < before)
		snprintf(out, n, "\u2193 -%llu", (unsigned long long)(before - now));
	else
		snprintf(out, n, "\u2192 0");
}

/* Attention first: threats from inside this week (anything but scans),
 * then gateways gone silent, then companies whose gateways never
 * reported, then the rest; within a level the larger count, then the id. */
static int attention_cmp(const void *pa, const void *pb)
{
	const con_attention *a = pa, *b = pb;

	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->tenant, b->tenant);
}

void con_attention_rate(con_attention *a)
{
	if (a->threats_week > 0) {
		a->level = CON_ATTN_THREAT;
		a->weight = a->threats_week;
	} else if (a->silent > 0) {
		a->level = CON_ATTN_SILENT;
		a->weight = a->silent;
	} else if (a->gateways == 0 || a->never_seen == a->gateways) {
		a->level = CON_ATTN_NO_DATA;
		a->weight = 0;
	} else {
		a->level = CON_ATTN_OK;
		a->weight = a->events_month;
	}
}

void con_attention_sort(con_attention *a, size_t n)
{
	qsort(a, n, sizeof(*a), attention_cmp);
}

bool con_tenant_id_ok(const char *id)
{
	size_t n = 0;

	for (const char *p = id; *p; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return n > 0 && n < 64;
}

/* One CSV record (RFC 4180: fields separated by commas, quoted fields with
 * "" for a quote; the record ends at CRLF or LF outside quotes). Returns the
 * bytes consumed, 0 at the end of the data. A field longer than
 * CON_CSV_FIELD_MAX - 1 is cut, fields beyond max are skipped, an
 * unterminated quote ends the record at the end of the data. */
size_t con_csv_record(const char *p, size_t len, char (*fields)[CON_CSV_FIELD_MAX], size_t max,
                      size_t *ret_n)
{
	size_t i = 0, n = 0, k = 0;
	bool quoted = false, any = false;

	if (len == 0) {
		*ret_n = 0;
		return 0;
	}
	for (; i < len; i++) {
		char c = p[i];
		if (quoted) {
			if (c == '"' && i + 1 < len && p[i + 1] == '"') {
				i++;
			} else if (c == '"') {
				quoted = false;
				continue;
			}
		} else if (c == '"') {
			quoted = true;
			any = true;
			continue;
		} else if (c == ',' || c == '\n' || c == '\r') {
			if (n < max)
				fields[n][k] = '\0';
			n++;
			k = 0;
			any = false;
			if (c == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			if (c != ',') {
				i++;
				break;
			}
			any = true; /* a comma opens the next field, even an empty last one */
			continue;
		}
		any = true;
		if (n < max && k + 1 < CON_CSV_FIELD_MAX)
			fields[n][k++] = c;
	}
	if (i >= len && any) {
		if (n < max)
			fields[n][k] = '\0';
		n++;
	}
	*ret_n = n < max ? n : max;
	return i;
}
