/* report: the monthly company report in TEXT, JSON and HTML.
 *
 * The report reads the store's per-month queries for the six categories of
 * DESIGN.md and renders them; every user-facing sentence comes from the
 * message catalogues (report.* keys, data/i18n/<lang>/report.po). A category
 * the gateway did not monitor is "not monitored" (JSON: count null), never 0.
 * The month is that of the events' capture timestamps, in UTC. The JSON form
 * is documented in docs/report.md and is stable.
 *
 * Catalogue texts may contain "{name}" placeholders that are replaced here;
 * they are never used as printf formats. Tenant names, addresses and all
 * other stored strings are hostile input: HTML escapes them, TEXT replaces
 * control characters, JSON escapes them. */
#include "report/report.h"
#include "report/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#define REPORT_NCAT 6
#define REPORT_TOP 5
#define REPORT_TENANT_MAX 256
#define REPORT_TMP_MAX (64 * 1024)

const char *const om_report_categories[REPORT_NCAT] = {
    "recon", "c2", "web_malware", "mail_malware", "spam", "harmful_web",
};

/* Categories whose events call for the owner to act, most urgent first, as
 * indexes into om_report_categories: c2 (a computer inside may be infected),
 * web_malware, mail_malware, harmful_web. Scans and spam were stopped at the
 * gateway and need no action; their advice stays in their own section. */
static const int todo_order[] = {1, 2, 3, 5};
/* Categories that count things arriving from the internet. */
static const bool from_outside[REPORT_NCAT] = {true, false, true, true, true, false};

struct cat_data {
	const char *name;
	bool monitored; /* at least one watched hour in the month */
	bool full;      /* every hour of the month watched */
	om_store_watched w;
	uint64_t total;
	uint64_t daily[31]; /* index day - 1 */
	om_store_count src[REPORT_TOP];
	om_store_count dst[REPORT_TOP];
	size_t nsrc, ndst;
	/* the inventory's names of the top addresses ("" when unknown) */
	char src_dev[REPORT_TOP][128];
	char dst_dev[REPORT_TOP][128];
};

/* ---- application use (from the store's appctl_flow table) ---------------- */
#define REPORT_APP_GROUPS 8
#define REPORT_APP_HOSTS 10 /* internal hosts listed per group; the rest counted */
#define REPORT_APP_NAMES 96 /* bytes of one host's application names */

struct app_host {
	char host[64];
	char apps[REPORT_APP_NAMES];
	uint64_t flows, bytes, blocked;
	om_usec first, last;
};

struct app_group {
	const char *name;     /* "remote_access", ... */
	const char *scenario; /* "insider_leak", "careless_leak", "other" */
	struct app_host host[REPORT_APP_HOSTS];
	size_t nhosts;
	struct app_host cur; /* the host whose rows are coming */
	bool has_cur;
	uint64_t more_hosts; /* hosts past REPORT_APP_HOSTS */
	uint64_t flows, bytes;
};

/* The groups in report order: the pilot's insider-leak scenario (data
 * carried out through remote access or online storage) first, then the
 * careless-leak one (what is typed into SNS, web mail, cloud input tools),
 * then the others. */
static const struct {
	const char *name, *scenario;
} app_groups[REPORT_APP_GROUPS] = {
    {"online_storage", "insider_leak"},
    {"remote_access", "insider_leak"},
    {"sns", "careless_leak"},
    {"webmail", "careless_leak"},
    {"cloud_input", "careless_leak"},
    {"p2p", "other"},
    {"vpn_proxy", "other"},
    {"games", "other"},
};

struct report {
	const om_report_opts *o;
	int year, month, ndays;
	om_store_tenant_meta meta;
	bool has_data;     /* the tenant has any event or watched hour at all */
	om_usec bound[32]; /* local midnights: bound[d] starts day d + 1 */
	char issued[16];   /* date of issue, YYYY-MM-DD in the tenant's zone */
	struct cat_data cat[REPORT_NCAT];
	om_store_watched all; /* the union of every category's watched hours */
	om_buf tmp;           /* scratch for placeholder substitution */
	struct app_group app[REPORT_APP_GROUPS];
	bool any_app;     /* some group was used */
	bool counts_only; /* statistics: totals only, no days or top lists */
	report_desk desk; /* the support desk's tickets of the month */
};

enum emit_mode { EMIT_TEXT, EMIT_HTML };

static void text_apps(struct report *r, om_buf *b);

static report_desk_view desk_view(const struct report *r)
{
	report_desk_view v = {
	    .lang = r->o->lang, .month = r->o->month, .bound = r->bound, .ndays = r->ndays};
	return v;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

/* ---- helpers ------------------------------------------------------------ */

static int parse_month(const char *s, int *ret_y, int *ret_m)
{
	if (!s || strlen(s) != 7 || s[4] != '-')
		return -EINVAL;
	for (int i = 0; i < 7; i++) {
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	}
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return -EINVAL;
	*ret_y = y;
	*ret_m = m;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

/* 1234567 -> "1,234,567" */
static void fmt_count(uint64_t v, char out[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
	int o = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
}

static const char *msg(const struct report *r, const char *key)
{
	return om_msg(r->o->lang, key);
}

static const char *cat_msg(const struct report *r, const char *cat, const char *what)
{
	char key[96];
	snprintf(key, sizeof(key), "report.category.%s.%s", cat, what);
	return om_msg(r->o->lang, key);
}

/* Replaces {name} in tmpl by the matching value of kv (pairs of name,
 * value); unknown placeholders are kept as they are. Result in r->tmp. */
static const char *subst(struct report *r, const char *tmpl, const char *const *kv, size_t nkv)
{
	om_buf *b = &r->tmp;
	om_buf_reset(b);
	for (const char *p = tmpl; *p;) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			bool done = false;
			for (size_t i = 0; end && i + 1 < nkv * 2; i += 2) {
				size_t n = strlen(kv[i]);
				if ((size_t)(end - p - 1) == n && !strncmp(p + 1, kv[i], n)) {
					om_buf_puts(b, kv[i + 1]);
					p = end + 1;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		om_buf_putc(b, *p++);
	}
	return om_buf_cstr(b);
}

static const char *subst1(struct report *r, const char *tmpl, const char *name, const char *val)
{
	const char *kv[2] = {name, val};
	return subst(r, tmpl, kv, 1);
}

/* Plain text of hostile origin: control characters (ANSI escapes, CR) are
 * replaced so that a tenant name cannot rewrite the reader's terminal. */
static void put_text(om_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		om_buf_putc(b, (c < 0x20 && c != '\n') || c == 0x7f ? '?' : (char)c);
	}
}

/* HTML text; Japanese with <wbr> between phrases so that a narrow box
 * breaks lines between words, never inside one (the page sets
 * word-break:keep-all). */
static void html_put(const struct report *r, om_buf *b, const char *s)
{
	if (r->o->lang == OM_LANG_JA)
		om_buf_put_html_phrases(b, s);
	else
		om_buf_put_html(b, s);
}

static void emit(const struct report *r, om_buf *b, enum emit_mode m, const char *s)
{
	if (m == EMIT_HTML)
		html_put(r, b, s);
	else
		put_text(b, s);
}

/* ---- time zones --------------------------------------------------------- */

/* The C library converts local time through the TZ variable only; the
 * switch is serialised so that reports of tenants in different zones can be
 * built from several threads. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* bound[d] = the UTC microsecond of local midnight starting day d + 1 of
 * the month (d = 0 .. ndays; bound[ndays] is the next month's first), and
 * the date of issue (today in the zone). */
static int tz_bounds(struct report *r, const char *tz)
{
	char old[128] = "";
	const char *o = getenv("TZ");
	bool had = o != NULL;
	int ret = 0;

	if (had)
		snprintf(old, sizeof(old), "%s", o);
	pthread_mutex_lock(&tz_lock);
	setenv("TZ", tz, 1);
	tzset();
	for (int d = 0; d <= r->ndays; d++) {
		struct tm tm = {0};
		tm.tm_year = r->year - 1900;
		tm.tm_mon = r->month - 1;
		tm.tm_mday = d + 1; /* mktime carries day ndays + 1 into the next month */
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t == (time_t)-1 || t < 0) {
			ret = -EINVAL;
			break;
		}
		r->bound[d] = (om_usec)t * 1000000u;
	}
	time_t now = time(NULL);
	struct tm lt;
	if (localtime_r(&now, &lt))
		strftime(r->issued, sizeof(r->issued), "%Y-%m-%d", &lt);
	if (had)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&tz_lock);
	return ret;
}

/* ---- gathering ---------------------------------------------------------- */

/* Recounts days, hours and hours per day from w's hour map. */
static void watched_recount(om_store_watched *w)
{
	w->days = w->hours = 0;
	memset(w->day_hours, 0, sizeof(w->day_hours));
	for (uint32_t h = 0; h < w->ndays * 24 && h < OM_STORE_MONTH_HOURS; h++) {
		if (!(w->hour_map[h / 8] & (1u << (h % 8))))
			continue;
		if (w->day_hours[h / 24]++ == 0)
			w->days++;
		w->hours++;
	}
}

/* Adds the hours of w to u (an hour watched for two categories is one). */
static void union_watched(om_store_watched *u, const om_store_watched *w)
{
	u->ndays = w->ndays;
	for (size_t i = 0; i < sizeof(u->hour_map); i++)
		u->hour_map[i] |= w->hour_map[i];
	watched_recount(u);
}

/* The watched hours of [bound[0], bound[ndays]) as local days and hours
 * of the month. An hour of a 25-hour day (the end of summer time) shares
 * the last slot; in a zone whose offset is not whole hours a UTC hour is
 * counted in the local hour it starts in. */
static int gather_watched(om_store *s, struct report *r, struct cat_data *c)
{
	static _Thread_local om_usec hours[OM_STORE_MONTH_HOURS + 48];
	size_t n = 0;
	int ret = om_store_range_watched(s, r->o->tenant, c->name, r->bound[0], r->bound[r->ndays],
	                                 hours, OM_ARRAY_SIZE(hours), &n);
	if (ret < 0)
		return ret;
	memset(&c->w, 0, sizeof(c->w));
	c->w.ndays = (uint32_t)r->ndays;
	int d = 0;
	for (size_t k = 0; k < n; k++) {
		while (d < r->ndays - 1 && hours[k] >= r->bound[d + 1])
			d++;
		om_usec lh = (hours[k] - r->bound[d]) / (3600ull * 1000000ull);
		if (lh > 23)
			lh = 23;
		unsigned h = (unsigned)d * 24 + (unsigned)lh;
		c->w.hour_map[h / 8] |= (uint8_t)(1u << (h % 8));
	}
	watched_recount(&c->w);
	return 0;
}

/* A host's total is known when its last row has come: it then enters the
 * group's list, or replaces the smallest entry when the list is full (the
 * smaller of the two is counted in more_hosts). */
static void app_host_done(struct app_group *g)
{
	if (!g->has_cur)
		return;
	g->has_cur = false;
	if (g->nhosts < REPORT_APP_HOSTS) {
		g->host[g->nhosts++] = g->cur;
		return;
	}
	g->more_hosts++;
	size_t min = 0;
	for (size_t i = 1; i < g->nhosts; i++)
		if (g->host[i].bytes < g->host[min].bytes)
			min = i;
	if (g->cur.bytes > g->host[min].bytes)
		g->host[min] = g->cur;
}

static int app_row(void *user, const om_store_appctl_use *u)
{
	struct report *r = user;
	struct app_group *g = NULL;
	for (int i = 0; i < REPORT_APP_GROUPS; i++)
		if (!strcmp(r->app[i].name, u->group))
			g = &r->app[i];
	if (!g)
		return 0; /* a group this report does not know */
	r->any_app = true;
	g->flows += u->flows;
	g->bytes += u->bytes;
	/* rows come by group, host, application: a host's rows are adjacent */
	struct app_host *h = &g->cur;
	if (!g->has_cur || strcmp(h->host, u->host) != 0) {
		app_host_done(g);
		memset(h, 0, sizeof(*h));
		g->has_cur = true;
		snprintf(h->host, sizeof(h->host), "%s", u->host);
		h->first = u->first;
		h->last = u->last;
	}
	h->flows += u->flows;
	h->bytes += u->bytes;
	h->blocked += u->blocked;
	if (u->first < h->first)
		h->first = u->first;
	if (u->last > h->last)
		h->last = u->last;
	size_t n = strlen(h->apps);
	if (n + strlen(u->app) + 3 < sizeof(h->apps))
		snprintf(h->apps + n, sizeof(h->apps) - n, "%s%s", n ? ", " : "", u->app);
	return 0;
}

static int gather_apps(om_store *s, struct report *r)
{
	for (int i = 0; i < REPORT_APP_GROUPS; i++) {
		r->app[i].name = app_groups[i].name;
		r->app[i].scenario = app_groups[i].scenario;
	}
	int ret =
	    om_store_appctl_range(s, r->o->tenant, r->bound[0], r->bound[r->ndays], app_row, r);
	for (int i = 0; i < REPORT_APP_GROUPS; i++)
		app_host_done(&r->app[i]);
	return ret;
}

/* The hosts of a group by bytes, most first (the store gives them by name). */
static int app_host_cmp(const void *a, const void *b)
{
	const struct app_host *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : strcmp(x->host, y->host);
}

static int gather(om_store *s, struct report *r)
{
	const char *tenant = r->o->tenant;
	int ret;

	ret = gather_apps(s, r);
	if (ret < 0)
		return ret;
	if (!r->counts_only) {
		ret = report_desk_gather(s, tenant, r->bound[0], r->bound[r->ndays], &r->desk);
		if (ret < 0)
			return ret;
	}
	for (int i = 0; i < REPORT_APP_GROUPS; i++)
		qsort(r->app[i].host, r->app[i].nhosts, sizeof(r->app[i].host[0]), app_host_cmp);

	for (int i = 0; i < REPORT_NCAT; i++) {
		struct cat_data *c = &r->cat[i];

		c->name = om_report_categories[i];
		ret = gather_watched(s, r, c);
		if (ret < 0)
			return ret;
		c->monitored = c->w.hours > 0;
		c->full = c->w.hours == (uint32_t)r->ndays * 24;
		union_watched(&r->all, &c->w);
		if (!c->monitored)
			continue;
		ret = om_store_range_count(s, tenant, c->name, r->bound[0], r->bound[r->ndays],
		                           &c->total);
		if (ret < 0)
			return ret;
		if (r->counts_only)
			continue;
		for (int d = 0; c->total && d < r->ndays; d++) {
			ret = om_store_range_count(s, tenant, c->name, r->bound[d], r->bound[d + 1],
			                           &c->daily[d]);
			if (ret < 0)
				return ret;
		}
		ret = om_store_range_top(s, tenant, c->name, r->bound[0], r->bound[r->ndays], true,
		                         c->src, REPORT_TOP, &c->nsrc);
		if (ret < 0)
			return ret;
		ret = om_store_range_top(s, tenant, c->name, r->bound[0], r->bound[r->ndays], false,
		                         c->dst, REPORT_TOP, &c->ndst);
		if (ret < 0)
			return ret;
		for (size_t k = 0; k < c->nsrc; k++) {
			ret = om_store_device_get(s, tenant, c->src[k].key, c->src_dev[k],
			                          sizeof(c->src_dev[k]));
			if (ret < 0)
				return ret;
		}
		for (size_t k = 0; k < c->ndst; k++) {
			ret = om_store_device_get(s, tenant, c->dst[k].key, c->dst_dev[k],
			                          sizeof(c->dst_dev[k]));
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* ---- devices ------------------------------------------------------------ */

/* True for an address of the company's own network: private IPv4
 * (RFC 1918), loopback, link-local, and IPv6 unique-local, link-local and
 * loopback. Everything else is "outside" (the internet). */
static bool addr_inside(const char *a)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, a, b) == 1)
		return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || b[0] == 127 || (b[0] == 169 && b[1] == 254);
	if (inet_pton(AF_INET6, a, b) == 1) {
		static const unsigned char lo[16] = {[15] = 1};
		return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
		       !memcmp(b, lo, 16);
	}
	return false;
}

/* What the reader calls an address: the inventory's name, else "a device
 * in your office" or "on the internet". */
static const char *device_name(const struct report *r, const char *addr, const char *label)
{
	if (label && *label)
		return label;
	return msg(r, addr_inside(addr) ? "report.device.inside" : "report.device.outside");
}

/* ---- watched time ------------------------------------------------------- */

/* tmpl with {days}, {ndays}, {hours} and {allhours} of w; result in r->tmp. */
static const char *watched_text(struct report *r, const char *key, const om_store_watched *w)
{
	char d[16], nd[16], h[16], ah[16];
	snprintf(d, sizeof(d), "%" PRIu32, w->days);
	snprintf(nd, sizeof(nd), "%d", r->ndays);
	snprintf(h, sizeof(h), "%" PRIu32, w->hours);
	snprintf(ah, sizeof(ah), "%d", r->ndays * 24);
	const char *kv[] = {"days", d, "ndays", nd, "hours", h, "allhours", ah};
	return subst(r, msg(r, key), kv, 4);
}

/* A category's count as shown: "not monitored", never 0 about time nobody
 * watched ("none seen in the time watched ..."), else the number. The
 * result may live in r->tmp: use it before the next substitution. */
static const char *count_str(struct report *r, const struct cat_data *c)
{
	char num[32];
	if (!c->monitored)
		return msg(r, "report.not_monitored");
	if (c->total == 0 && !c->full)
		return watched_text(r, "report.count.none_watched", &c->w);
	fmt_count(c->total, num);
	return subst1(r, msg(r, "report.count"), "n", num);
}

/* Shown per category only where it differs from the month's watched time. */
static bool watched_differs(const struct report *r, const struct cat_data *c)
{
	return c->monitored && c->w.hours != r->all.hours;
}

static bool any_partial(const struct report *r)
{
	for (int i = 0; i < REPORT_NCAT; i++) {
		if (r->cat[i].monitored && !r->cat[i].full)
			return true;
	}
	return false;
}

/* The name shown: the display name when set, else the tenant's id. */
static const char *company_name(const struct report *r)
{
	return r->meta.display_name[0] ? r->meta.display_name : r->o->tenant;
}

static const char *zone(const struct report *r)
{
	return r->o->timezone ? r->o->timezone : r->meta.timezone;
}

/* ---- the first-page summary (TEXT and HTML) ----------------------------- */

static void put_answer(struct report *r, om_buf *b, enum emit_mode m, const char *key, uint64_t n)
{
	char num[32];
	fmt_count(n, num);
	emit(r, b, m, subst1(r, msg(r, key), "n", num));
}

/* "No attacks this month" only when every category it sums was watched
 * every hour of the month; otherwise the answer names the time watched. */
static void summary_attacked(struct report *r, om_buf *b, enum emit_mode m)
{
	om_store_watched u;
	uint64_t n = 0;
	bool any = false, full = true;

	memset(&u, 0, sizeof(u));
	for (int i = 0; i < REPORT_NCAT; i++) {
		if (from_outside[i] && r->cat[i].monitored) {
			any = true;
			n += r->cat[i].total;
			full = full && r->cat[i].full;
			union_watched(&u, &r->cat[i].w);
		}
	}
	if (!any)
		put_answer(r, b, m, "report.summary.attacked.unknown", 0);
	else if (n && n == r->cat[0].total)
		/* only scans: everyday background, said so plainly */
		put_answer(r, b, m, "report.summary.attacked.scans", n);
	else if (n) {
		/* name only what was watched and seen, never a category nobody
		 * watched */
		char what[1024], num[32];
		size_t wl = 0;
		what[0] = 0;
		for (int i = 0; i < REPORT_NCAT; i++) {
			if (!from_outside[i] || !r->cat[i].monitored || !r->cat[i].total)
				continue;
			fmt_count(r->cat[i].total, num);
			int k = snprintf(what + wl, sizeof(what) - wl, "%s%s %s",
			                 wl ? msg(r, "report.list.sep") : "",
			                 cat_msg(r, r->cat[i].name, "title"), num);
			if (k < 0 || (size_t)k >= sizeof(what) - wl)
				break;
			wl += (size_t)k;
		}
		fmt_count(n, num);
		const char *kv[] = {"n", num, "what", what};
		emit(r, b, m, subst(r, msg(r, "report.summary.attacked.yes"), kv, 2));
	} else if (full)
		put_answer(r, b, m, "report.summary.attacked.no", 0);
	else if (u.hours == (uint32_t)r->ndays * 24)
		/* every hour watched for some of them, not for all */
		put_answer(r, b, m, "report.summary.attacked.no_mixed", 0);
	else
		emit(r, b, m, watched_text(r, "report.summary.attacked.no_partial", &u));
}

static void summary_through(struct report *r, om_buf *b, enum emit_mode m)
{
	const struct cat_data *c2 = &r->cat[1];
	if (!c2->monitored)
		put_answer(r, b, m, "report.summary.through.unknown", 0);
	else if (c2->total)
		put_answer(r, b, m, "report.summary.through.yes", c2->total);
	else if (c2->full)
		put_answer(r, b, m, "report.summary.through.no", 0);
	else
		emit(r, b, m, watched_text(r, "report.summary.through.no_partial", &c2->w));
}

static int summary_todo(const struct report *r, int todo[REPORT_NCAT])
{
	int n = 0;
	for (size_t i = 0; i < OM_ARRAY_SIZE(todo_order); i++) {
		const struct cat_data *c = &r->cat[todo_order[i]];
		if (c->monitored && c->total > 0)
			todo[n++] = todo_order[i];
	}
	return n;
}

static int count_not_monitored(const struct report *r)
{
	int n = 0;
	for (int i = 0; i < REPORT_NCAT; i++)
		n += !r->cat[i].monitored;
	return n;
}

/* The titles of the categories nobody watched, joined, into out. */
static void not_monitored_list(const struct report *r, char *out, size_t outlen)
{
	size_t l = 0;
	out[0] = 0;
	for (int i = 0; i < REPORT_NCAT; i++) {
		if (r->cat[i].monitored)
			continue;
		int k = snprintf(out + l, outlen - l, "%s%s", l ? msg(r, "report.list.sep") : "",
		                 cat_msg(r, r->cat[i].name, "title"));
		if (k < 0 || (size_t)k >= outlen - l)
			return;
		l += (size_t)k;
	}
}

/* "Not watched this month (n of 6 areas): A, B. Ask ..."; in r->tmp. */
static const char *not_monitored_line(struct report *r, int nm)
{
	char num[16], list[1024];
	snprintf(num, sizeof(num), "%d", nm);
	not_monitored_list(r, list, sizeof(list));
	const char *kv[] = {"n", num, "list", list};
	return subst(r, msg(r, "report.summary.not_monitored"), kv, 2);
}

/* ---- TEXT --------------------------------------------------------------- */

static void text_count(struct report *r, om_buf *b, const struct cat_data *c)
{
	om_buf_puts(b, count_str(r, c));
}

/* "  Top 5 sources: 203.0.113.9 (3), 198.51.100.7 (1)" when there are any */
static void text_top(struct report *r, om_buf *b, const char *key, const om_store_count *c,
                     const char (*dev)[128], size_t n)
{
	if (n == 0)
		return;
	char num[32];
	om_buf_printf(b, "  %s: ", msg(r, key));
	for (size_t i = 0; i < n; i++) {
		if (i)
			om_buf_puts(b, "; ");
		fmt_count(c[i].count, num); /* the same digit grouping as the HTML tables */
		put_text(b, device_name(r, c[i].key, dev[i]));
		om_buf_puts(b, " (");
		put_text(b, c[i].key);
		om_buf_printf(b, "): %s", num);
	}
	om_buf_puts(b, "\n");
}

static void build_text(struct report *r, om_buf *b)
{
	const om_report_opts *o = r->o;
	int todo[REPORT_NCAT];
	int ntodo = summary_todo(r, todo);
	int nm = count_not_monitored(r);

	om_buf_puts(b, msg(r, "report.title"));
	om_buf_puts(b, "\n");
	om_buf_puts(b, msg(r, "report.label.tenant"));
	om_buf_puts(b, ": ");
	put_text(b, company_name(r));
	om_buf_puts(b, "\n");
	om_buf_puts(b, msg(r, "report.label.month"));
	om_buf_printf(b, ": %s\n", o->month);
	om_buf_printf(b, "%s: %s\n", msg(r, "report.label.issued"), r->issued);
	om_buf_printf(b, "%s: %s\n", msg(r, "report.label.watched"),
	              watched_text(r, "report.watched", &r->all));
	put_text(b, subst1(r, msg(r, "report.generated_in_zone"), "tz", zone(r)));
	om_buf_puts(b, "\n");
	if (r->meta.contact[0]) {
		om_buf_printf(b, "%s: ", msg(r, "report.label.contact"));
		put_text(b, r->meta.contact);
		om_buf_puts(b, "\n");
	}
	if (!r->has_data) {
		om_buf_printf(b, "\n!! %s\n", msg(r, "report.no_data"));
	}
	om_buf_puts(b, "\n");

	om_buf_printf(b, "== %s ==\n", msg(r, "report.summary.title"));
	om_buf_puts(b, msg(r, "report.summary.attacked.question"));
	om_buf_puts(b, "\n  ");
	summary_attacked(r, b, EMIT_TEXT);
	om_buf_puts(b, "\n");
	om_buf_puts(b, msg(r, "report.summary.through.question"));
	om_buf_puts(b, "\n  ");
	summary_through(r, b, EMIT_TEXT);
	om_buf_puts(b, "\n");
	om_buf_puts(b, msg(r, "report.summary.todo.question"));
	om_buf_puts(b, "\n");
	if (ntodo == 0)
		om_buf_printf(b, "  - %s\n", msg(r, "report.summary.todo.none"));
	for (int i = 0; i < ntodo; i++) {
		const char *name = om_report_categories[todo[i]];
		om_buf_printf(b, "  - %s: %s\n", cat_msg(r, name, "title"),
		              cat_msg(r, name, "advice"));
	}
	if (nm > 0)
		om_buf_printf(b, "  - %s\n", not_monitored_line(r, nm));
	if (any_partial(r))
		om_buf_printf(b, "  - %s\n", msg(r, "report.summary.partial"));
	om_buf_puts(b, "\n");

	om_buf_printf(b, "== %s ==\n", msg(r, "report.categories.title"));
	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		if (!c->monitored)
			continue; /* grouped in one line below */
		om_buf_printf(b, "[%s] ", cat_msg(r, c->name, "title"));
		text_count(r, b, c);
		if (watched_differs(r, c))
			om_buf_printf(b, "\n  %s: %s", msg(r, "report.label.watched"),
			              watched_text(r, "report.watched", &c->w));
		om_buf_puts(b, "\n  ");
		om_buf_puts(b, cat_msg(r, c->name, "explanation"));
		om_buf_printf(b, "\n  %s: ", msg(r, "report.label.advice"));
		om_buf_puts(b, c->monitored ? cat_msg(r, c->name, "advice")
		                            : msg(r, "report.not_monitored.advice"));
		om_buf_puts(b, "\n");
		text_top(r, b, "report.top_sources", c->src, c->src_dev, c->nsrc);
		text_top(r, b, "report.top_targets", c->dst, c->dst_dev, c->ndst);
		om_buf_puts(b, "\n");
	}
	if (nm > 0) {
		char list[1024];
		not_monitored_list(r, list, sizeof(list));
		om_buf_printf(b, "[%s] %s: %s\n  %s\n", msg(r, "report.not_watched.group"),
		              msg(r, "report.not_monitored"), list,
		              msg(r, "report.not_monitored.advice"));
	}
	text_apps(r, b);
	report_desk_view dv = desk_view(r);
	report_desk_text(&r->desk, &dv, b);
}

/* ---- the application use section ------------------------------------------ */

/* A time of the month in the tenant's zone ("2026-12-01 09:30"), by the
 * local midnights already computed; outside the month, UTC ISO time. */
static void app_time(const struct report *r, om_usec t, char *out, size_t n)
{
	for (int d = 0; d < r->ndays; d++) {
		if (t >= r->bound[d] && t < r->bound[d + 1]) {
			uint64_t min = (t - r->bound[d]) / 60000000u;
			snprintf(out, n, "%s-%02d %02u:%02u", r->o->month, d + 1,
			         (unsigned)(min / 60 % 100), (unsigned)(min % 60));
			return;
		}
	}
	om_time_iso(t, out, n);
}

static const char *app_msg(struct report *r, const char *what, const char *name)
{
	char key[96];
	snprintf(key, sizeof(key), "report.appctl.%s.%s", what, name);
	return msg(r, key);
}

static void fmt_bytes(uint64_t v, char out[32])
{
	if (v >= 10ull * 1024 * 1024)
		snprintf(out, 32, "%" PRIu64 " MiB", v / (1024 * 1024));
	else if (v >= 10ull * 1024)
		snprintf(out, 32, "%" PRIu64 " KiB", v / 1024);
	else
		snprintf(out, 32, "%" PRIu64 " B", v);
}

static void text_apps(struct report *r, om_buf *b)
{
	om_buf_printf(b, "\n== %s ==\n", msg(r, "report.appctl.title"));
	if (!r->any_app) {
		om_buf_printf(b, "%s\n", msg(r, "report.appctl.none"));
		return;
	}
	om_buf_printf(b, "%s\n", msg(r, "report.appctl.intro"));
	for (int i = 0; i < REPORT_APP_GROUPS; i++) {
		const struct app_group *g = &r->app[i];
		if (!g->nhosts)
			continue;
		char bytes[32], t1[40], t2[40];
		fmt_bytes(g->bytes, bytes);
		om_buf_printf(b, "[%s] %s: %s\n", app_msg(r, "group", g->name),
		              msg(r, "report.appctl.label.scenario"),
		              app_msg(r, "scenario", g->scenario));
		om_buf_printf(b, "  %s: %s\n", msg(r, "report.label.advice"),
		              app_msg(r, "advice", g->name));
		for (size_t h = 0; h < g->nhosts; h++) {
			const struct app_host *x = &g->host[h];
			fmt_bytes(x->bytes, bytes);
			app_time(r, x->first, t1, sizeof(t1));
			app_time(r, x->last, t2, sizeof(t2));
			om_buf_printf(b, "  - %s: %s, %" PRIu64 " %s, %s - %s (", x->host, bytes,
			              x->flows, msg(r, "report.appctl.flows"), t1, t2);
			put_text(b, x->apps);
			om_buf_puts(b, ")");
			if (x->blocked)
				om_buf_printf(b, " [%s %" PRIu64 "]",
				              msg(r, "report.appctl.blocked"), x->blocked);
			om_buf_puts(b, "\n");
		}
		if (g->more_hosts)
			om_buf_printf(
			    b, "  - %s\n",
			    subst1(r, msg(r, "report.appctl.more_hosts"), "n",
			           (snprintf(bytes, sizeof(bytes), "%" PRIu64, g->more_hosts),
			            bytes)));
	}
}

static void json_apps(struct report *r, om_json *j)
{
	char t[40];
	om_json_arr_open(j, "application_use");
	for (int i = 0; i < REPORT_APP_GROUPS; i++) {
		const struct app_group *g = &r->app[i];
		if (!g->nhosts)
			continue;
		om_json_obj_open(j, NULL);
		om_json_str(j, "group", g->name);
		om_json_str(j, "title", app_msg(r, "group", g->name));
		om_json_str(j, "scenario", g->scenario);
		om_json_str(j, "scenario_title", app_msg(r, "scenario", g->scenario));
		om_json_str(j, "advice", app_msg(r, "advice", g->name));
		om_json_u64(j, "flows", g->flows);
		om_json_u64(j, "bytes", g->bytes);
		om_json_arr_open(j, "hosts");
		for (size_t h = 0; h < g->nhosts; h++) {
			const struct app_host *x = &g->host[h];
			om_json_obj_open(j, NULL);
			om_json_str(j, "ip", x->host);
			om_json_u64(j, "bytes", x->bytes);
			om_json_u64(j, "flows", x->flows);
			om_json_u64(j, "blocked", x->blocked);
			om_time_iso(x->first, t, sizeof(t));
			om_json_str(j, "first_seen", t);
			om_time_iso(x->last, t, sizeof(t));
			om_json_str(j, "last_seen", t);
			om_json_arr_open(j, "applications");
			for (const char *p = x->apps; *p;) {
				const char *c = strstr(p, ", ");
				size_t n = c ? (size_t)(c - p) : strlen(p);
				om_json_strn(j, NULL, p, n);
				p = c ? c + 2 : p + n;
			}
			om_json_arr_close(j);
			om_json_obj_close(j);
		}
		om_json_arr_close(j);
		om_json_u64(j, "more_hosts", g->more_hosts);
		om_json_obj_close(j);
	}
	om_json_arr_close(j);
}

static void html_apps(struct report *r, om_buf *b)
{
	om_buf_puts(b, "<section id=\"application-use\">\n<h2>");
	om_buf_put_html(b, msg(r, "report.appctl.title"));
	om_buf_puts(b, "</h2>\n<p>");
	om_buf_put_html(b, msg(r, r->any_app ? "report.appctl.intro" : "report.appctl.none"));
	om_buf_puts(b, "</p>\n");
	for (int i = 0; i < REPORT_APP_GROUPS; i++) {
		const struct app_group *g = &r->app[i];
		if (!g->nhosts)
			continue;
		char bytes[32], t1[40], t2[40];
		om_buf_puts(b, "<h3>");
		om_buf_put_html(b, app_msg(r, "group", g->name));
		om_buf_puts(b, "</h3>\n<p><strong>");
		om_buf_put_html(b, msg(r, "report.appctl.label.scenario"));
		om_buf_puts(b, "</strong>: ");
		om_buf_put_html(b, app_msg(r, "scenario", g->scenario));
		om_buf_puts(b, "</p>\n<p>");
		om_buf_put_html(b, app_msg(r, "advice", g->name));
		om_buf_puts(b, "</p>\n<table><thead><tr>");
		static const char *const cols[] = {
		    "report.appctl.col.host", "report.appctl.col.apps", "report.appctl.col.bytes",
		    "report.appctl.col.first", "report.appctl.col.last"};
		for (size_t c = 0; c < OM_ARRAY_SIZE(cols); c++) {
			om_buf_puts(b, "<th scope=\"col\">");
			om_buf_put_html(b, msg(r, cols[c]));
			om_buf_puts(b, "</th>");
		}
		om_buf_puts(b, "</tr></thead>\n<tbody>\n");
		for (size_t h = 0; h < g->nhosts; h++) {
			const struct app_host *x = &g->host[h];
			fmt_bytes(x->bytes, bytes);
			app_time(r, x->first, t1, sizeof(t1));
			app_time(r, x->last, t2, sizeof(t2));
			om_buf_puts(b, "<tr><td>");
			om_buf_put_html(b, x->host);
			om_buf_puts(b, "</td><td>");
			om_buf_put_html(b, x->apps);
			om_buf_printf(b,
			              "</td><td class=\"c\">%s</td><td>%s</td><td>%s</td></tr>\n",
			              bytes, t1, t2);
		}
		om_buf_puts(b, "</tbody></table>\n");
	}
	om_buf_puts(b, "</section>\n");
}

/* ---- JSON --------------------------------------------------------------- */

static void json_top(om_json *j, const char *key, const om_store_count *c, size_t n)
{
	om_json_arr_open(j, key);
	for (size_t i = 0; i < n; i++) {
		om_json_obj_open(j, NULL);
		om_json_str(j, "ip", c[i].key);
		om_json_u64(j, "count", c[i].count);
		om_json_obj_close(j);
	}
	om_json_arr_close(j);
}

/* True when address a came earlier in the top lists (before category i,
 * side, entry k). */
static bool addr_seen(const struct report *r, int i, int side, size_t k, const char *a)
{
	for (int ci = 0; ci <= i; ci++) {
		const struct cat_data *c = &r->cat[ci];
		for (int sd = 0; sd < 2; sd++) {
			size_t n = sd ? c->ndst : c->nsrc;
			for (size_t kk = 0; kk < n; kk++) {
				if (ci == i && (sd > side || (sd == side && kk >= k)))
					return false;
				if (!strcmp(sd ? c->dst[kk].key : c->src[kk].key, a))
					return true;
			}
		}
	}
	return false;
}

static void build_json(struct report *r, om_buf *b)
{
	om_json j;
	char day[16];

	om_json_init(&j, b);
	om_json_obj_open(&j, NULL);
	om_json_str(&j, "tenant", r->o->tenant);
	om_json_str(&j, "month", r->o->month);
	om_json_str(&j, "lang", om_lang_name(r->o->lang));
	om_json_str(&j, "generated_from", "capture timestamps");
	om_json_u64(&j, "days_in_month", (uint64_t)r->ndays);
	om_json_u64(&j, "watched_days", r->all.days);
	om_json_u64(&j, "watched_hours", r->all.hours);
	om_json_arr_open(&j, "categories");
	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		om_json_obj_open(&j, NULL);
		om_json_str(&j, "category", c->name);
		om_json_bool(&j, "monitored", c->monitored);
		if (c->monitored)
			om_json_u64(&j, "count", c->total);
		else
			om_json_null(&j, "count");
		om_json_u64(&j, "watched_days", c->w.days);
		om_json_u64(&j, "watched_hours", c->w.hours);
		om_json_u64(&j, "days_in_month", (uint64_t)r->ndays);
		om_json_str(&j, "title", cat_msg(r, c->name, "title"));
		om_json_str(&j, "explanation", cat_msg(r, c->name, "explanation"));
		om_json_str(&j, "advice",
		            c->monitored ? cat_msg(r, c->name, "advice")
		                         : msg(r, "report.not_monitored.advice"));
		om_json_arr_open(&j, "daily");
		for (int d = 0; c->monitored && d < r->ndays; d++) {
			snprintf(day, sizeof(day), "%s-%02d", r->o->month, d + 1);
			om_json_obj_open(&j, NULL);
			om_json_str(&j, "day", day);
			/* nobody watched that day: no count, not 0 */
			if (c->w.day_hours[d])
				om_json_u64(&j, "count", c->daily[d]);
			else
				om_json_null(&j, "count");
			om_json_u64(&j, "watched_hours", c->w.day_hours[d]);
			om_json_obj_close(&j);
		}
		om_json_arr_close(&j);
		json_top(&j, "top_sources", c->src, c->nsrc);
		json_top(&j, "top_targets", c->dst, c->ndst);
		om_json_obj_close(&j);
	}
	om_json_arr_close(&j);
	/* application use (a key added beside the first edition's; readers
	 * find keys by name) */
	json_apps(r, &j);
	report_desk_view dv = desk_view(r);
	report_desk_json(&r->desk, &dv, &j);
	/* second edition: added after the first edition's fields */
	om_json_str(&j, "timezone", zone(r));
	om_json_str(&j, "display_name", company_name(r));
	om_json_str(&j, "issued", r->issued);
	om_json_str(&j, "contact", r->meta.contact);
	om_json_bool(&j, "has_data", r->has_data);
	/* second edition, devices: every address of the top lists once, with
	 * where it is and the inventory's name ("" when unknown) */
	om_json_arr_open(&j, "addresses");
	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		for (int side = 0; side < 2; side++) {
			size_t n = side ? c->ndst : c->nsrc;
			for (size_t k = 0; k < n; k++) {
				const char *a = side ? c->dst[k].key : c->src[k].key;
				if (addr_seen(r, i, side, k, a))
					continue;
				om_json_obj_open(&j, NULL);
				om_json_str(&j, "ip", a);
				om_json_str(&j, "where", addr_inside(a) ? "inside" : "outside");
				om_json_str(&j, "device", side ? c->dst_dev[k] : c->src_dev[k]);
				om_json_obj_close(&j);
			}
		}
	}
	om_json_arr_close(&j);
	om_json_u64(&j, "coverage_percent",
	            (uint64_t)r->all.hours * 100u / ((uint64_t)r->ndays * 24u));
	om_json_obj_close(&j);
	om_buf_putc(b, '\n');
}

/* ---- HTML --------------------------------------------------------------- */

static const char html_css[] =
    "body{font-family:\"Noto Sans CJK JP\",\"Hiragino Sans\",\"Yu Gothic\",Meiryo,"
    "system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1d2330;"
    "line-height:1.6;background:#fff;word-break:keep-all;overflow-wrap:anywhere}"
    "h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #d8dde6;"
    "padding-bottom:.2rem;margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .2rem}"
    ".meta{color:#4a5568;margin:0}.note{color:#4a5568;font-size:.9rem}"
    ".counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.6rem;"
    "list-style:none;padding:0}"
    ".counts li{border:1px solid #d8dde6;border-radius:.5rem;padding:.6rem}"
    ".counts a{color:inherit;text-decoration:none;display:block}"
    ".counts .n{display:block;font-size:1.6rem;font-weight:bold}"
    ".counts .nm .n{font-size:1rem;color:#6b7280;font-weight:normal}"
    ".counts .pw .n{font-size:1rem;font-weight:normal}"
    ".summary dt{font-weight:bold;margin-top:.6rem}.summary dd{margin:0 0 0 1rem}"
    ".count{font-size:1.1rem;font-weight:bold}.nm{color:#6b7280}"
    "svg{max-width:100%;height:auto}svg text{font-size:15px;fill:#1d2330}"
    "svg text.ct{font-size:17px;font-weight:bold}"
    "svg .bar{fill:#2f6fb3}svg .zero{fill:#c3cad6}svg .nw{fill:#f1f3f7}"
    "svg .axis{stroke:#4a5568}"
    "svg .grid{stroke:#e5e9f0}"
    "table{border-collapse:collapse;margin:.4rem 1.5rem .4rem 0;display:inline-table;"
    "vertical-align:top}caption{text-align:left;font-weight:bold}"
    "th,td{border:1px solid #d8dde6;padding:.2rem .6rem;text-align:left}"
    "td.c{text-align:right}"
    "@media print{body{max-width:none}section{break-inside:avoid}}";

static void html_count(struct report *r, om_buf *b, const struct cat_data *c)
{
	om_buf_put_html(b, count_str(r, c));
}

/* A count that is a sentence (not monitored, none seen in part of the
 * month) is set smaller than a number. */
static const char *html_count_class(const struct cat_data *c)
{
	if (!c->monitored)
		return " class=\"nm\"";
	return c->total == 0 && !c->full ? " class=\"pw\"" : "";
}

#define SVG_W 640
#define SVG_H 260
#define SVG_L 64
#define SVG_R 8
#define SVG_T 40
#define SVG_B 46

static void html_chart(struct report *r, om_buf *b, const struct cat_data *c)
{
	const double pw = SVG_W - SVG_L - SVG_R, ph = SVG_H - SVG_T - SVG_B;
	const double slot = pw / r->ndays;
	const double base = SVG_T + ph;
	uint64_t max = 0;
	char num[32];

	for (int d = 0; d < r->ndays; d++)
		max = c->daily[d] > max ? c->daily[d] : max;
	/* the scale's top: the first of 1, 2, 5, 10, 20, 50, ... not below max */
	uint64_t top = 1;
	for (uint64_t mag = 1; top < max && mag <= UINT64_MAX / 10; mag *= 10) {
		if (2 * mag >= max) {
			top = 2 * mag;
			break;
		}
		top = 5 * mag >= max ? 5 * mag : 10 * mag;
	}
	if (top < max)
		top = max;

	om_buf_printf(b,
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	              "width=\"%d\" height=\"%d\" role=\"img\" aria-labelledby=\"chart-%s-t\">\n",
	              SVG_W, SVG_H, SVG_W, SVG_H, c->name);
	om_buf_printf(b, "<title id=\"chart-%s-t\">", c->name);
	const char *kv[] = {"category", cat_msg(r, c->name, "title"), "month", r->o->month};
	const char *ctitle = subst(r, msg(r, "report.chart.title"), kv, 2);
	om_buf_put_html(b, ctitle);
	/* the same title shown above the chart, not only to screen readers */
	om_buf_printf(b, "</title>\n<text class=\"ct\" x=\"%d\" y=\"22\">", SVG_L);
	om_buf_put_html(b, ctitle);
	om_buf_puts(b, "</text>\n");

	/* grid lines and y labels at 0, half and the maximum */
	uint64_t ticks[3] = {0, top / 2, top};
	int nticks = 3;
	if (top % 2) { /* 1 or 5 * 10^k: no round middle line */
		ticks[1] = top;
		nticks = 2;
	}
	for (int i = 0; i < nticks; i++) {
		double y = base - ph * (double)ticks[i] / (double)top;
		fmt_count(ticks[i], num);
		om_buf_printf(b,
		              "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
		              "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		              SVG_L, y, SVG_W - SVG_R, y, SVG_L - 6, y + 5, num);
	}
	/* bars; a watched day without events is a thin grey mark at 0, a day
	 * nobody watched a pale band over the whole height and no number */
	for (int d = 0; d < r->ndays; d++) {
		double x = SVG_L + slot * d + slot * 0.15;
		double w = slot * 0.7;
		double h = ph * (double)c->daily[d] / (double)top;
		fmt_count(c->daily[d], num);
		if (c->w.day_hours[d] == 0) {
			om_buf_printf(b,
			              "<rect class=\"nw\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			              "height=\"%.1f\"><title>%s-%02d: ",
			              x, SVG_T, w, ph, r->o->month, d + 1);
			om_buf_put_html(b, msg(r, "report.chart.not_watched"));
			om_buf_puts(b, "</title></rect>\n");
			continue;
		}
		if (c->daily[d] == 0)
			om_buf_printf(b,
			              "<rect class=\"zero\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			              "height=\"1\">",
			              x, base - 1, w);
		else
			om_buf_printf(b,
			              "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			              "height=\"%.1f\">",
			              x, base - h, w, h);
		om_buf_printf(b, "<title>%s-%02d: %s</title></rect>\n", r->o->month, d + 1, num);
	}
	/* axes */
	om_buf_printf(b,
	              "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
	              "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\"/>\n",
	              SVG_L, base, SVG_W - SVG_R, base, SVG_L, SVG_T, SVG_L, base);
	/* x labels: 1, 5, 10, 15, 20, 25 and the last day */
	for (int d = 1; d <= r->ndays; d++) {
		if (d != 1 && d % 5 != 0 && d != r->ndays)
			continue;
		if (d == 30 && r->ndays == 31)
			continue; /* too close to 31 */
		om_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
		              SVG_L + slot * (d - 0.5), base + 18, d);
	}
	om_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", SVG_L + pw / 2,
	              SVG_H - 6);
	om_buf_put_html(b, msg(r, "report.chart.axis_day"));
	om_buf_printf(b,
	              "</text>\n<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
	              "transform=\"rotate(-90 16 %.1f)\">",
	              SVG_T + ph / 2, SVG_T + ph / 2);
	om_buf_put_html(b, msg(r, "report.chart.axis_count"));
	om_buf_puts(b, "</text>\n</svg>\n");
}

static void html_table(struct report *r, om_buf *b, const char *caption_key,
                       const om_store_count *c, const char (*dev)[128], size_t n)
{
	char num[32];

	if (n == 0) {
		om_buf_puts(b, "<p><strong>");
		om_buf_put_html(b, msg(r, caption_key));
		om_buf_puts(b, "</strong>: ");
		om_buf_put_html(b, msg(r, "report.none"));
		om_buf_puts(b, "</p>\n");
		return;
	}
	om_buf_puts(b, "<table><caption>");
	om_buf_put_html(b, msg(r, caption_key));
	om_buf_puts(b, "</caption>\n<thead><tr><th scope=\"col\">");
	om_buf_put_html(b, msg(r, "report.col.device"));
	om_buf_puts(b, "</th><th scope=\"col\">");
	om_buf_put_html(b, msg(r, "report.col.address"));
	om_buf_puts(b, "</th><th scope=\"col\">");
	om_buf_put_html(b, msg(r, "report.col.count"));
	om_buf_puts(b, "</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		fmt_count(c[i].count, num);
		om_buf_puts(b, "<tr><td>");
		om_buf_put_html(b, device_name(r, c[i].key, dev[i]));
		om_buf_puts(b, "</td><td>");
		om_buf_put_html(b, c[i].key);
		om_buf_printf(b, "</td><td class=\"c\">%s</td></tr>\n", num);
	}
	om_buf_puts(b, "</tbody></table>\n");
}

static void build_html(struct report *r, om_buf *b)
{
	const om_report_opts *o = r->o;
	int todo[REPORT_NCAT];
	int ntodo = summary_todo(r, todo);
	int nm = count_not_monitored(r);

	om_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
	              om_lang_name(o->lang));
	om_buf_puts(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	               "<title>");
	om_buf_put_html(b, msg(r, "report.title"));
	om_buf_puts(b, " - ");
	om_buf_put_html(b, company_name(r));
	om_buf_puts(b, " - ");
	om_buf_put_html(b, o->month);
	om_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", html_css);
	html_put(r, b, msg(r, "report.title"));
	om_buf_puts(b, "</h1>\n<p class=\"meta\">");
	html_put(r, b, msg(r, "report.label.tenant"));
	om_buf_puts(b, ": <strong>");
	html_put(r, b, company_name(r));
	om_buf_puts(b, "</strong> / ");
	html_put(r, b, msg(r, "report.label.month"));
	om_buf_puts(b, ": <strong>");
	html_put(r, b, o->month);
	om_buf_puts(b, "</strong></p>\n<p class=\"meta\">");
	html_put(r, b, msg(r, "report.label.watched"));
	om_buf_puts(b, ": <strong>");
	html_put(r, b, watched_text(r, "report.watched", &r->all));
	om_buf_puts(b, "</strong> / ");
	html_put(r, b, msg(r, "report.label.issued"));
	om_buf_printf(b, ": <strong>%s</strong></p>\n<p class=\"note\">", r->issued);
	html_put(r, b, subst1(r, msg(r, "report.generated_in_zone"), "tz", zone(r)));
	om_buf_puts(b, "</p>\n");
	if (r->meta.contact[0]) {
		om_buf_puts(b, "<p class=\"meta\">");
		html_put(r, b, msg(r, "report.label.contact"));
		om_buf_puts(b, ": ");
		html_put(r, b, r->meta.contact);
		om_buf_puts(b, "</p>\n");
	}
	if (!r->has_data) {
		om_buf_puts(b, "<p class=\"nodata\"><strong>");
		html_put(r, b, msg(r, "report.no_data"));
		om_buf_puts(b, "</strong></p>\n");
	}
	om_buf_puts(b, "</header>\n<main>\n");

	/* the six counts */
	om_buf_puts(b, "<section>\n<h2>");
	html_put(r, b, msg(r, "report.overview.title"));
	om_buf_puts(b, "</h2>\n<ul class=\"counts\">\n");
	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		om_buf_printf(b, "<li%s><a href=\"#cat-%s\"><span class=\"n\">",
		              html_count_class(c), c->monitored ? c->name : "not-watched");
		html_count(r, b, c);
		om_buf_puts(b, "</span>");
		html_put(r, b, cat_msg(r, c->name, "title"));
		om_buf_puts(b, "</a></li>\n");
	}
	om_buf_puts(b, "</ul>\n</section>\n");

	/* were we attacked / did anything get through / what must I do */
	om_buf_puts(b, "<section class=\"summary\">\n<h2>");
	html_put(r, b, msg(r, "report.summary.title"));
	om_buf_puts(b, "</h2>\n<dl>\n<dt>");
	html_put(r, b, msg(r, "report.summary.attacked.question"));
	om_buf_puts(b, "</dt>\n<dd>");
	summary_attacked(r, b, EMIT_HTML);
	om_buf_puts(b, "</dd>\n<dt>");
	html_put(r, b, msg(r, "report.summary.through.question"));
	om_buf_puts(b, "</dt>\n<dd>");
	summary_through(r, b, EMIT_HTML);
	om_buf_puts(b, "</dd>\n<dt>");
	html_put(r, b, msg(r, "report.summary.todo.question"));
	om_buf_puts(b, "</dt>\n<dd><ul>\n");
	if (ntodo == 0) {
		om_buf_puts(b, "<li>");
		html_put(r, b, msg(r, "report.summary.todo.none"));
		om_buf_puts(b, "</li>\n");
	}
	for (int i = 0; i < ntodo; i++) {
		const char *name = om_report_categories[todo[i]];
		om_buf_printf(b, "<li><a href=\"#cat-%s\"><strong>", name);
		html_put(r, b, cat_msg(r, name, "title"));
		om_buf_puts(b, "</strong></a>: ");
		html_put(r, b, cat_msg(r, name, "advice"));
		om_buf_puts(b, "</li>\n");
	}
	if (nm > 0) {
		om_buf_puts(b, "<li>");
		html_put(r, b, not_monitored_line(r, nm));
		om_buf_puts(b, "</li>\n");
	}
	if (any_partial(r)) {
		om_buf_puts(b, "<li>");
		html_put(r, b, msg(r, "report.summary.partial"));
		om_buf_puts(b, "</li>\n");
	}
	om_buf_puts(b, "</ul></dd>\n</dl>\n</section>\n");

	/* per category */
	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		if (!c->monitored)
			continue; /* grouped in one section below */
		om_buf_printf(b, "<section id=\"cat-%s\">\n<h2>", c->name);
		html_put(r, b, cat_msg(r, c->name, "title"));
		om_buf_printf(b, "</h2>\n<p class=\"count%s\">", c->monitored ? "" : " nm");
		html_count(r, b, c);
		om_buf_puts(b, "</p>\n");
		if (watched_differs(r, c)) {
			om_buf_puts(b, "<p class=\"meta\">");
			html_put(r, b, msg(r, "report.label.watched"));
			om_buf_puts(b, ": ");
			html_put(r, b, watched_text(r, "report.watched", &c->w));
			om_buf_puts(b, "</p>\n");
		}
		om_buf_puts(b, "<h3>");
		html_put(r, b, msg(r, "report.label.explanation"));
		om_buf_puts(b, "</h3>\n<p>");
		html_put(r, b, cat_msg(r, c->name, "explanation"));
		om_buf_puts(b, "</p>\n<h3>");
		html_put(r, b, msg(r, "report.label.advice"));
		om_buf_puts(b, "</h3>\n<p>");
		html_put(r, b,
		         c->monitored ? cat_msg(r, c->name, "advice")
		                      : msg(r, "report.not_monitored.advice"));
		om_buf_puts(b, "</p>\n");
		if (c->monitored) {
			html_chart(r, b, c);
			if (c->w.days < (uint32_t)r->ndays) {
				om_buf_puts(b, "<p class=\"note\">");
				html_put(r, b, msg(r, "report.chart.not_watched_note"));
				om_buf_puts(b, "</p>\n");
			}
			html_table(r, b, "report.top_sources", c->src, c->src_dev, c->nsrc);
			html_table(r, b, "report.top_targets", c->dst, c->dst_dev, c->ndst);
		}
		om_buf_puts(b, "</section>\n");
	}
	if (nm > 0) {
		char list[1024];
		not_monitored_list(r, list, sizeof(list));
		om_buf_puts(b, "<section id=\"cat-not-watched\">\n<h2>");
		html_put(r, b, msg(r, "report.not_watched.group"));
		om_buf_puts(b, "</h2>\n<p class=\"nm\">");
		html_put(r, b, list);
		om_buf_puts(b, "</p>\n<p>");
		html_put(r, b, msg(r, "report.not_monitored.advice"));
		om_buf_puts(b, "</p>\n</section>\n");
	}
	html_apps(r, b);
	report_desk_view dv = desk_view(r);
	report_desk_html(&r->desk, &dv, b);
	om_buf_puts(b, "</main>\n<footer class=\"note\">");
	html_put(r, b, msg(r, "report.footer"));
	om_buf_puts(b, "</footer>\n</body>\n</html>\n");
}

/* ---- PDF (through the document model) ----------------------------------- */

static void doc_top(struct report *r, om_doc *d, const char *key, const om_store_count *c,
                    const char (*dev)[128], size_t n)
{
	enum { MAXC = 3 * (REPORT_TOP + 1) };
	const char *cells[MAXC];
	char nums[REPORT_TOP][32];
	if (n == 0)
		return;
	cells[0] = msg(r, "report.col.device");
	cells[1] = msg(r, "report.col.address");
	cells[2] = msg(r, "report.col.count");
	for (size_t i = 0; i < n; i++) {
		fmt_count(c[i].count, nums[i]);
		cells[3 * (i + 1)] = device_name(r, c[i].key, dev[i]);
		cells[3 * (i + 1) + 1] = c[i].key;
		cells[3 * (i + 1) + 2] = nums[i];
	}
	om_doc_heading(d, 3, msg(r, key));
	om_doc_table(d, (unsigned)n + 1, 3, cells, NULL);
}

/* Events per week of the month (days 1-7, 8-14, ...), as bars. */
static void doc_weeks(struct report *r, om_doc *d, const struct cat_data *c)
{
	char lab[5][48];
	const char *labels[5];
	double v[5];
	unsigned n = 0;
	for (int from = 1; from <= r->ndays && n < 5; from += 7, n++) {
		int to = from + 6 > r->ndays ? r->ndays : from + 6;
		char a[8], b[8];
		snprintf(a, sizeof(a), "%d", from);
		snprintf(b, sizeof(b), "%d", to);
		const char *kv[] = {"month", r->o->month, "from", a, "to", b};
		snprintf(lab[n], sizeof(lab[n]), "%s",
		         subst(r, msg(r, "report.chart.week"), kv, 3));
		labels[n] = lab[n];
		v[n] = 0;
		for (int dd = from; dd <= to; dd++)
			v[n] += (double)c->daily[dd - 1];
	}
	const char *kv[] = {"category", cat_msg(r, c->name, "title"), "month", r->o->month};
	char title[512];
	snprintf(title, sizeof(title), "%s", subst(r, msg(r, "report.chart.title_week"), kv, 2));
	om_doc_bars(d, title, n, labels, v, msg(r, "report.chart.unit"));
}

static om_doc *build_doc(struct report *r)
{
	const om_report_opts *o = r->o;
	om_buf sc;
	char title[512];
	int todo[REPORT_NCAT];
	int ntodo = summary_todo(r, todo);
	int nm = count_not_monitored(r);

	om_buf_init(&sc, REPORT_TMP_MAX);
	snprintf(title, sizeof(title), "%s", msg(r, "report.title"));
	om_doc *d = om_doc_new(title, o->lang);
	if (!d) {
		om_buf_free(&sc);
		return NULL;
	}
	om_buf_printf(&sc, "%s: ", msg(r, "report.label.tenant"));
	put_text(&sc, company_name(r));
	om_buf_printf(&sc, "\n%s: %s\n%s: %s\n%s: ", msg(r, "report.label.month"), o->month,
	              msg(r, "report.label.issued"), r->issued, msg(r, "report.label.watched"));
	om_buf_puts(&sc, watched_text(r, "report.watched", &r->all));
	om_buf_puts(&sc, "\n");
	put_text(&sc, subst1(r, msg(r, "report.generated_in_zone"), "tz", zone(r)));
	if (r->meta.contact[0]) {
		om_buf_printf(&sc, "\n%s: ", msg(r, "report.label.contact"));
		put_text(&sc, r->meta.contact);
	}
	om_doc_para(d, OM_DOC_PLAIN, om_buf_cstr(&sc));
	if (!r->has_data)
		om_doc_para(d, OM_DOC_BAD, msg(r, "report.no_data"));

	om_doc_heading(d, 2, msg(r, "report.summary.title"));
	om_doc_heading(d, 3, msg(r, "report.summary.attacked.question"));
	om_buf_reset(&sc);
	summary_attacked(r, &sc, EMIT_TEXT);
	om_doc_para(d, OM_DOC_PLAIN, om_buf_cstr(&sc));
	om_doc_heading(d, 3, msg(r, "report.summary.through.question"));
	om_buf_reset(&sc);
	summary_through(r, &sc, EMIT_TEXT);
	om_doc_para(d, r->cat[1].monitored && r->cat[1].total ? OM_DOC_BAD : OM_DOC_PLAIN,
	            om_buf_cstr(&sc));
	om_doc_heading(d, 3, msg(r, "report.summary.todo.question"));
	if (ntodo == 0)
		om_doc_bullet(d, OM_DOC_GOOD, msg(r, "report.summary.todo.none"));
	for (int i = 0; i < ntodo; i++) {
		const char *name = om_report_categories[todo[i]];
		om_buf_reset(&sc);
		om_buf_printf(&sc, "%s: %s", cat_msg(r, name, "title"), cat_msg(r, name, "advice"));
		om_doc_bullet(d, todo[i] == 1 ? OM_DOC_BAD : OM_DOC_WARN, om_buf_cstr(&sc));
	}
	if (nm > 0)
		om_doc_bullet(d, OM_DOC_PLAIN, not_monitored_line(r, nm));
	if (any_partial(r))
		om_doc_bullet(d, OM_DOC_WARN, msg(r, "report.summary.partial"));

	/* the counts of what was watched, as one chart */
	{
		const char *labels[REPORT_NCAT];
		double v[REPORT_NCAT];
		unsigned n = 0;
		for (int i = 0; i < REPORT_NCAT; i++) {
			if (!r->cat[i].monitored)
				continue;
			labels[n] = cat_msg(r, r->cat[i].name, "title");
			v[n++] = (double)r->cat[i].total;
		}
		if (n)
			om_doc_bars(d,
			            subst1(r, msg(r, "report.chart.overview"), "month", o->month),
			            n, labels, v, msg(r, "report.chart.unit"));
	}

	for (int i = 0; i < REPORT_NCAT; i++) {
		const struct cat_data *c = &r->cat[i];
		if (!c->monitored)
			continue;
		om_doc_heading(d, 2, cat_msg(r, c->name, "title"));
		om_buf_reset(&sc);
		om_buf_puts(&sc, count_str(r, c));
		if (watched_differs(r, c)) {
			om_buf_printf(&sc, "\n%s: ", msg(r, "report.label.watched"));
			om_buf_puts(&sc, watched_text(r, "report.watched", &c->w));
		}
		om_doc_para(d, OM_DOC_PLAIN, om_buf_cstr(&sc));
		om_doc_heading(d, 3, msg(r, "report.label.explanation"));
		om_doc_para(d, OM_DOC_PLAIN, cat_msg(r, c->name, "explanation"));
		om_doc_heading(d, 3, msg(r, "report.label.advice"));
		om_doc_para(d, OM_DOC_PLAIN, cat_msg(r, c->name, "advice"));
		if (c->total)
			doc_weeks(r, d, c);
		doc_top(r, d, "report.top_sources", c->src, c->src_dev, c->nsrc);
		doc_top(r, d, "report.top_targets", c->dst, c->dst_dev, c->ndst);
	}
	if (nm > 0) {
		char list[1024];
		not_monitored_list(r, list, sizeof(list));
		om_doc_heading(d, 2, msg(r, "report.not_watched.group"));
		om_doc_para(d, OM_DOC_PLAIN, list);
		om_doc_para(d, OM_DOC_PLAIN, msg(r, "report.not_monitored.advice"));
	}
	report_desk_view dv = desk_view(r);
	report_desk_doc(&r->desk, &dv, d);
	om_doc_para(d, OM_DOC_PLAIN, msg(r, "report.footer"));
	if (sc.toobig || r->tmp.toobig)
		d = om_doc_free(d);
	om_buf_free(&sc);
	return d;
}

/* ---- entry -------------------------------------------------------------- */

/* Checks the options and fills r's month; on error writes err. */
static int report_validate(struct report *r, const om_report_opts *o, char *err, size_t errlen)
{
	enum om_lang lang = (unsigned)o->lang < OM_LANG_COUNT ? o->lang : OM_LANG_JA;
	if ((unsigned)o->lang >= OM_LANG_COUNT) {
		set_err(err, errlen, om_msg(lang, "report.error.lang"));
		return -EINVAL;
	}
	if (!o->tenant || !*o->tenant || strlen(o->tenant) > REPORT_TENANT_MAX) {
		set_err(err, errlen, om_msg(lang, "report.error.tenant"));
		return -EINVAL;
	}
	if (parse_month(o->month, &r->year, &r->month) < 0) {
		char shown[16];
		/* quote at most a few bytes of what was given, control chars masked */
		size_t i = 0;
		for (; o->month && o->month[i] && i < sizeof(shown) - 1; i++) {
			unsigned char ch = (unsigned char)o->month[i];
			shown[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
		}
		shown[i] = 0;
		set_err(err, errlen, subst1(r, om_msg(lang, "report.error.month"), "month", shown));
		return -EINVAL;
	}
	if (o->format != OM_REPORT_TEXT && o->format != OM_REPORT_JSON &&
	    o->format != OM_REPORT_HTML && o->format != OM_REPORT_PDF) {
		set_err(err, errlen, om_msg(lang, "report.error.format"));
		return -EINVAL;
	}
	return 0;
}

int om_report_check(const om_report_opts *o, char *err, size_t errlen)
{
	struct report r;
	if (!o) {
		set_err(err, errlen, "report: no options");
		return -EINVAL;
	}
	om_i18n_init();
	memset(&r, 0, sizeof(r));
	r.o = o;
	om_buf_init(&r.tmp, REPORT_TMP_MAX);
	int ret = report_validate(&r, o, err, errlen);
	om_buf_free(&r.tmp);
	report_desk_free(&r.desk);
	return ret;
}

int om_report_build(om_store *s, const om_report_opts *o, om_buf *out, char *err, size_t errlen)
{
	return om_report_build2(s, o, out, NULL, err, errlen);
}

/* Validates, reads the tenant's metadata and gathers the month. */
static int report_prepare(om_store *s, const om_report_opts *o, struct report *r, char *err,
                          size_t errlen)
{
	enum om_lang lang = (unsigned)o->lang < OM_LANG_COUNT ? o->lang : OM_LANG_JA;
	int ret = report_validate(r, o, err, errlen);
	if (ret < 0)
		return ret;
	if (!s) {
		set_err(err, errlen, om_msg(lang, "report.error.store"));
		return -EINVAL;
	}
	r->ndays = days_in_month(r->year, r->month);

	ret = om_store_tenant_meta_get(s, o->tenant, &r->meta);
	if (ret >= 0 && !r->meta.display_name[0]) {
		/* the console's name of the tenant, when it has one */
		om_store_tenant t;
		if (om_store_tenant_get(s, o->tenant, &t) == 0 && t.name[0])
			snprintf(r->meta.display_name, sizeof(r->meta.display_name), "%s", t.name);
	}
	if (ret >= 0) {
		ret = om_store_tenant_has_data(s, o->tenant);
		r->has_data = ret > 0;
	}
	if (ret >= 0 && tz_bounds(r, o->timezone ? o->timezone : r->meta.timezone) < 0) {
		set_err(err, errlen, om_msg(lang, "report.error.timezone"));
		return -EINVAL;
	}
	if (ret >= 0)
		ret = gather(s, r);
	if (ret < 0) {
		set_err(err, errlen, om_msg(lang, "report.error.store"));
		return ret;
	}
	return 0;
}

int om_report_build2(om_store *s, const om_report_opts *o, om_buf *out, bool *ret_has_data,
                     char *err, size_t errlen)
{
	struct report r;
	int ret;
	size_t start;

	if (!o || !out) {
		set_err(err, errlen, "report: no options or output");
		return -EINVAL;
	}
	enum om_lang lang = (unsigned)o->lang < OM_LANG_COUNT ? o->lang : OM_LANG_JA;
	om_i18n_init();
	memset(&r, 0, sizeof(r));
	r.o = o;
	om_buf_init(&r.tmp, REPORT_TMP_MAX);

	if (o->format == OM_REPORT_PDF) {
		set_err(err, errlen, om_msg(lang, "report.error.pdf_file"));
		ret = -EINVAL;
		goto out;
	}
	ret = report_prepare(s, o, &r, err, errlen);
	if (ret < 0)
		goto out;

	start = out->len;
	switch (o->format) {
	case OM_REPORT_TEXT: build_text(&r, out); break;
	case OM_REPORT_JSON: build_json(&r, out); break;
	case OM_REPORT_HTML: build_html(&r, out); break;
	case OM_REPORT_PDF: break;
	}
	if (out->toobig || r.tmp.toobig) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
		set_err(err, errlen, om_msg(lang, "report.error.too_big"));
		ret = -ENOBUFS;
		goto out;
	}
	if (ret_has_data)
		*ret_has_data = r.has_data;
	ret = 0;
out:
	om_buf_free(&r.tmp);
	report_desk_free(&r.desk);
	return ret;
}

int om_report_pdf(om_store *s, const om_report_opts *o, const char *path, bool *ret_has_data,
                  char *err, size_t errlen)
{
	return report_pdf_flags(s, NULL, o, path, 0, ret_has_data, err, errlen);
}

int report_pdf_flags(om_store *s, pthread_mutex_t *store_lock, const om_report_opts *o,
                     const char *path, unsigned flags, bool *ret_has_data, char *err, size_t errlen)
{
	struct report r;
	int ret;

	if (!o || !path) {
		set_err(err, errlen, "report: no options or output");
		return -EINVAL;
	}
	enum om_lang lang = (unsigned)o->lang < OM_LANG_COUNT ? o->lang : OM_LANG_JA;
	om_i18n_init();
	memset(&r, 0, sizeof(r));
	r.o = o;
	om_buf_init(&r.tmp, REPORT_TMP_MAX);
	/* the store is read under the caller's lock; the document is built
	 * and written outside it (pango and cairo objects are per call) */
	if (store_lock)
		pthread_mutex_lock(store_lock);
	ret = report_prepare(s, o, &r, err, errlen);
	if (store_lock)
		pthread_mutex_unlock(store_lock);
	if (ret == 0) {
		om_doc *d = build_doc(&r);
		if (!d) {
			set_err(err, errlen, om_msg(lang, "report.error.too_big"));
			ret = -ENOMEM;
		} else {
			ret = om_doc_pdf2(d, path, flags, err, errlen);
			om_doc_free(d);
		}
	}
	if (ret == 0 && ret_has_data)
		*ret_has_data = r.has_data;
	om_buf_free(&r.tmp);
	report_desk_free(&r.desk);
	return ret;
}

int report_tenant_counts(om_store *s, const char *tenant, const char *month, enum om_lang lang,
                         report_counts *ret, char *err, size_t errlen)
{
	struct report r;
	om_report_opts o = {
	    .tenant = tenant, .month = month, .format = OM_REPORT_JSON, .lang = lang};
	if (!ret)
		return -EINVAL;
	om_i18n_init();
	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.counts_only = true;
	om_buf_init(&r.tmp, REPORT_TMP_MAX);
	int rc = report_prepare(s, &o, &r, err, errlen);
	if (rc == 0) {
		memset(ret, 0, sizeof(*ret));
		for (int i = 0; i < REPORT_NCAT; i++) {
			ret->monitored[i] = r.cat[i].monitored;
			ret->count[i] = r.cat[i].total;
		}
		ret->has_data = r.has_data;
		ret->meta = r.meta;
	}
	om_buf_free(&r.tmp);
	report_desk_free(&r.desk);
	return rc;
}
