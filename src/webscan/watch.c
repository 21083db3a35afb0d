/* watch.c: the tamper monitor. A baseline per page (normalised DOM hash,
 * links to other sites, scripts, iframes, links in hidden elements,
 * obfuscated inline scripts, a MinHash of the visible text's shingles),
 * then re-checks: what was added since, whether an added link, script or
 * iframe goes to a listed (malware, phishing) domain, and defacement (the
 * visible text mostly replaced). Each change is one EVE alert with
 * category web_tamper, written out and stored. */
#include "store/store.h"
#include "webscan/internal.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WS_MAX_WATCH_PAGES 2000
#define WS_MAX_BLOCKLIST 100000

/* ---- fingerprints --------------------------------------------------------------- */

static void item(ws_arena *a, ws_print *p, const char *kind, const char *v)
{
	if (!v || p->nitems >= WS_MAX_BASE_ITEMS || strlen(v) > 2000)
		return;
	for (const char *c = v; *c; c++)
		if (isspace((unsigned char)*c) || (unsigned char)*c < 0x20)
			return;
	char *s = ws_printf(a, "%s %s", kind, v);
	if (!s)
		return;
	for (size_t i = 0; i < p->nitems; i++)
		if (!strcmp(p->items[i], s))
			return;
	p->items[p->nitems++] = s;
}

static const char *host_of(ws_arena *a, const char *url)
{
	ws_url u;
	return ws_url_split(a, url, &u) == 0 ? u.host : NULL;
}

void ws_print_make(ws_arena *a, const char *url, const ws_html *h, om_usec ts, ws_print *ret)
{
	ws_print p;
	memset(&p, 0, sizeof(p));
	p.url = ws_strdup(a, url);
	p.ts = ts;
	p.dom_hash = h->dom_hash;
	p.text_len = (uint32_t)(h->text.len > UINT32_MAX ? UINT32_MAX : h->text.len);
	const char *self = host_of(a, url);
	for (size_t i = 0; i < h->nlinks; i++) {
		const char *hh = host_of(a, h->links[i]);
		if (hh && self && strcasecmp(hh, self))
			item(a, &p, "L", hh);
	}
	for (size_t i = 0; i < h->nscript_src; i++)
		item(a, &p, "S", h->script_src[i]);
	for (size_t i = 0; i < h->niframe_src; i++)
		item(a, &p, "I", h->iframe_src[i]);
	for (size_t i = 0; i < h->nhidden_links; i++) {
		const char *hh = host_of(a, h->hidden_links[i]);
		if (hh && self && strcasecmp(hh, self))
			item(a, &p, "H", h->hidden_links[i]);
	}
	for (size_t i = 0; i < h->nscripts; i++) {
		const char *sc = h->scripts[i];
		if (ws_script_obfuscated(sc, strlen(sc))) {
			char hx[20];
			snprintf(hx, sizeof(hx), "%016llx",
			         (unsigned long long)om_hash64(sc, strlen(sc), 0x6f6266));
			item(a, &p, "O", hx);
		}
	}
	/* MinHash over 4-word shingles of the visible text */
	for (int k = 0; k < WS_MINHASH; k++)
		p.minhash[k] = UINT64_MAX;
	const char *t = h->text.data ? h->text.data : "";
	size_t n = h->text.len;
	size_t starts[4] = {0};
	size_t nw = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && t[i] != ' ')
			continue;
		/* word ends at i; shingle = the last four words */
		nw++;
		if (nw >= 4) {
			size_t from = starts[(nw - 4) % 4];
			uint64_t sh = om_hash64(t + from, i - from, 0x73686e67);
			for (int k = 0; k < WS_MINHASH; k++) {
				uint64_t v =
				    om_mix64(sh ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1)));
				if (v < p.minhash[k])
					p.minhash[k] = v;
			}
		}
		starts[nw % 4] = i + 1;
	}
	if (nw > 0 && nw < 4) {
		uint64_t sh = om_hash64(t, n, 0x73686e67);
		for (int k = 0; k < WS_MINHASH; k++)
			p.minhash[k] = om_mix64(sh ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1)));
	}
	*ret = p;
}

double ws_minhash_similarity(const ws_print *a, const ws_print *b)
{
	unsigned same = 0;
	for (int k = 0; k < WS_MINHASH; k++)
		same += a->minhash[k] == b->minhash[k];
	return (double)same / WS_MINHASH;
}

/* ---- the baseline file ---------------------------------------------------------- */

void ws_baseline_write(const ws_print *p, size_t n, om_buf *out)
{
	om_buf_puts(out, "omamori-webscan-baseline 1\n");
	for (size_t i = 0; i < n; i++) {
		om_buf_printf(out, "page %s %llu %016llx %u\nmh", p[i].url,
		              (unsigned long long)p[i].ts, (unsigned long long)p[i].dom_hash,
		              p[i].text_len);
		for (int k = 0; k < WS_MINHASH; k++)
			om_buf_printf(out, " %016llx", (unsigned long long)p[i].minhash[k]);
		om_buf_putc(out, '\n');
		for (size_t k = 0; k < p[i].nitems; k++)
			om_buf_printf(out, "item %s\n", p[i].items[k]);
		om_buf_puts(out, "end\n");
	}
}

static int hex64(const char *s, size_t n, uint64_t *ret)
{
	if (n == 0 || n > 16)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*ret = v;
	return 0;
}

static int bfail(char *err, size_t errlen, size_t line, const char *what)
{
	snprintf(err, errlen, om_tr("webscan.err.baseline_line"), line, om_tr(what));
	return -EINVAL;
}

int ws_baseline_parse(ws_arena *a, const char *text, size_t len, ws_print *out, size_t max,
                      size_t *ret_n, char *err, size_t errlen)
{
	size_t n = 0, line = 0;
	ws_print *cur = NULL;
	bool have_mh = false;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return bfail(err, errlen, line + 1, "webscan.baseline.cut");
		line++;
		size_t ll = (size_t)(eol - p);
		if (ll > 4096)
			return bfail(err, errlen, line, "webscan.baseline.long");
		char buf[4097];
		memcpy(buf, p, ll);
		buf[ll] = '\0';
		if (memchr(p, '\0', ll))
			return bfail(err, errlen, line, "webscan.baseline.nul");
		p = eol + 1;
		if (line == 1) {
			if (strcmp(buf, "omamori-webscan-baseline 1"))
				return bfail(
				    err, errlen, line,
				    "not a baseline (expected 'omamori-webscan-baseline 1')");
			continue;
		}
		if (!strncmp(buf, "page ", 5)) {
			if (cur)
				return bfail(err, errlen, line, "webscan.baseline.page_open");
			if (n >= max)
				return bfail(err, errlen, line, "webscan.baseline.pages");
			char *f[5];
			size_t nf = 0;
			char *save = NULL;
			for (char *t = strtok_r(buf + 5, " ", &save); t && nf < 5;
			     t = strtok_r(NULL, " ", &save))
				f[nf++] = t;
			if (nf != 4)
				return bfail(err, errlen, line, "webscan.baseline.page_form");
			cur = &out[n];
			memset(cur, 0, sizeof(*cur));
			uint64_t ts, tl;
			if (om_parse_u64(f[1], 0, UINT64_MAX, &ts) < 0 ||
			    hex64(f[2], strlen(f[2]), &cur->dom_hash) < 0 ||
			    om_parse_u64(f[3], 0, UINT32_MAX, &tl) < 0)
				return bfail(err, errlen, line, "webscan.baseline.number");
			if (strncmp(f[0], "http://", 7) && strncmp(f[0], "https://", 8))
				return bfail(err, errlen, line, "webscan.baseline.url");
			cur->url = ws_strdup(a, f[0]);
			cur->ts = ts;
			cur->text_len = (uint32_t)tl;
			have_mh = false;
			continue;
		}
		if (!cur)
			return bfail(err, errlen, line, "webscan.baseline.outside");
		if (!strncmp(buf, "mh ", 3) || !strcmp(buf, "mh")) {
			const char *q = buf + 2;
			for (int k = 0; k < WS_MINHASH; k++) {
				if (*q != ' ')
					return bfail(err, errlen, line, "webscan.baseline.mh");
				q++;
				size_t hl = strspn(q, "0123456789abcdef");
				if (hex64(q, hl, &cur->minhash[k]) < 0)
					return bfail(err, errlen, line, "webscan.baseline.mh");
				q += hl;
			}
			if (*q)
				return bfail(err, errlen, line, "webscan.baseline.mh_long");
			have_mh = true;
			continue;
		}
		if (!strncmp(buf, "item ", 5)) {
			const char *v = buf + 5;
			if (strlen(v) < 3 || !strchr("LSIHO", v[0]) || v[1] != ' ')
				return bfail(err, errlen, line, "webscan.baseline.item");
			if (cur->nitems >= WS_MAX_BASE_ITEMS)
				return bfail(err, errlen, line, "webscan.baseline.items");
			cur->items[cur->nitems++] = ws_strdup(a, v);
			continue;
		}
		if (!strcmp(buf, "end")) {
			if (!have_mh)
				return bfail(err, errlen, line, "webscan.baseline.no_mh");
			n++;
			cur = NULL;
			continue;
		}
		return bfail(err, errlen, line, "webscan.baseline.unknown");
	}
	if (line == 0)
		return bfail(err, errlen, 1, "webscan.baseline.empty");
	if (cur)
		return bfail(err, errlen, line, "webscan.baseline.no_end");
	if (a->failed)
		return -ENOMEM;
	*ret_n = n;
	return 0;
}

/* ---- the monitor ------------------------------------------------------------------ */

struct watch {
	ws_arena *a;
	ws_print *cur;
	size_t ncur, max;
	char **block; /* sorted blocklist domains */
	size_t nblock;
	const char *tenant;
	om_store *store;
	FILE *eve;
	enum om_lang lang;
	unsigned events;
	uint64_t *reported; /* hashes of events already sent in this run */
	size_t nreported;
	/* what a change does: an event (the monitor) or a row (a scan) */
	void (*report)(struct watch *w, const ws_print *base, const char *url, const char *kind,
	               const char *value, int severity);
	ws_scan *scan;
};

static void on_page(void *user, ws_scan *s, const ws_req *r, const ws_html *h)
{
	struct watch *w = user;
	(void)s;
	if (w->ncur >= w->max)
		return;
	ws_print_make(w->a, r->url, h, om_time_now(), &w->cur[w->ncur++]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the domain or one of its parents is listed */
static bool blocked(const struct watch *w, const char *host)
{
	if (!host || !w->nblock)
		return false;
	for (const char *d = host; d; d = strchr(d, '.')) {
		if (*d == '.')
			d++;
		const char *k = d;
		if (bsearch(&k, w->block, w->nblock, sizeof(char *), cmp_str))
			return true;
		if (!strchr(d, '.'))
			break;
	}
	return false;
}

static int load_blocklist(struct watch *w, const char *path, enum om_lang lang)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		char m[512];
		snprintf(m, sizeof(m), om_msg(lang, "webscan.err.blocklist"), path,
		         strerror(errno));
		fprintf(stderr, "omamori: %s\n", m);
		return -errno;
	}
	w->block = calloc(WS_MAX_BLOCKLIST, sizeof(char *));
	if (!w->block) {
		fclose(f);
		return -ENOMEM;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) && w->nblock < WS_MAX_BLOCKLIST) {
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		p[strcspn(p, " \t\r\n#")] = '\0';
		for (char *c = p; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		w->block[w->nblock++] = ws_strdup(w->a, p);
	}
	fclose(f);
	qsort(w->block, w->nblock, sizeof(char *), cmp_str);
	return 0;
}

static void emit(struct watch *w, const ws_print *base, const char *url, const char *kind,
                 const char *value, int severity)
{
	char key[64];
	uint64_t h = om_hash64(url, strlen(url), 1) ^ om_hash64(kind, strlen(kind), 2) ^
	             om_hash64(value ? value : "", value ? strlen(value) : 0, 3);
	for (size_t i = 0; i < w->nreported; i++)
		if (w->reported[i] == h)
			return;
	if (w->nreported < 4096)
		w->reported[w->nreported++] = h;
	snprintf(key, sizeof(key), "webscan.tamper.%s", kind);
	om_buf b;
	om_buf_init(&b, 1u << 20);
	om_json j;
	om_usec now = om_time_now();
	om_event_hdr hdr = {.ts = now, .event_type = "alert"};
	om_event_begin(&j, &b, &hdr);
	om_json_obj_open(&j, "alert");
	om_json_str(&j, "action", "allowed");
	om_json_str(&j, "signature", ws_printf(w->a, "omamori webscan tamper: %s", kind));
	om_json_str(&j, "category", "web_tamper");
	om_json_i64(&j, "severity", severity);
	om_json_obj_close(&j);
	om_json_obj_open(&j, "webscan");
	om_json_str(&j, "url", url);
	om_json_str(&j, "change", kind);
	if (value)
		om_json_str(&j, "value", value);
	char bt[40];
	om_time_iso(base->ts, bt, sizeof(bt));
	om_json_str(&j, "baseline", bt);
	om_json_obj_close(&j);
	om_event_meta meta = {.category = "web_tamper",
	                      .severity = severity,
	                      .action = "detected",
	                      .tenant = w->tenant,
	                      .gateway = "webscan",
	                      .advice = key};
	om_event_omamori(&j, &meta);
	om_event_end(&j);
	const char *line = om_buf_cstr(&b);
	if (w->eve) {
		fprintf(w->eve, "%s\n", line);
		fflush(w->eve);
	}
	char msg[2048];
	snprintf(msg, sizeof(msg), "%s: %s %s%s%s\n  %s", om_msg(w->lang, "webscan.tamper.changed"),
	         url, kind, value ? " " : "", value ? value : "", om_msg(w->lang, key));
	printf("%s\n", msg);
	if (w->store) {
		om_store_event ev = {
		    .ts = now,
		    .tenant = w->tenant,
		    .gateway = "webscan",
		    .event_type = "alert",
		    .category = "web_tamper",
		    .severity = severity,
		    .action = "detected",
		    .signature = ws_printf(w->a, "omamori webscan tamper: %s", kind),
		    .signature_id = 0,
		    .eve_json = line,
		};
		if (om_store_add_event(w->store, &ev) < 0)
			om_warn("webscan: the tamper event could not be stored");
	}
	w->events++;
	om_buf_free(&b);
}

static bool has_item(const ws_print *p, const char *it)
{
	for (size_t i = 0; i < p->nitems; i++)
		if (!strcmp(p->items[i], it))
			return true;
	return false;
}

static void compare(struct watch *w, const ws_print *base, size_t nbase)
{
	void (*emit)(struct watch *, const ws_print *, const char *, const char *, const char *,
	             int) = w->report;
	for (size_t i = 0; i < nbase; i++) {
		const ws_print *b = &base[i], *c = NULL;
		for (size_t k = 0; k < w->ncur && !c; k++)
			if (!strcmp(w->cur[k].url, b->url))
				c = &w->cur[k];
		if (!c) {
			emit(w, b, b->url, "unreachable", NULL, 3);
			continue;
		}
		if (c->dom_hash == b->dom_hash)
			continue;
		for (size_t k = 0; k < c->nitems; k++) {
			const char *it = c->items[k];
			if (has_item(b, it))
				continue;
			const char *v = it + 2;
			const char *hst = it[0] == 'L' ? v : it[0] == 'O' ? NULL : host_of(w->a, v);
			bool bad = blocked(w, hst);
			static const char *const kinds[] = {"link", "script", "iframe",
			                                    "hidden_link", "obfuscated_script"};
			const char *kind = kinds[strchr("LSIHO", it[0]) - "LSIHO"];
			int sev = bad ? 1 : (it[0] == 'L' ? 3 : 2);
			if (bad)
				emit(w, b, b->url, "listed_domain", hst, 1);
			else
				emit(w, b, b->url, kind, v, sev);
		}
		double sim = ws_minhash_similarity(b, c);
		if (b->text_len >= 40 && sim < 0.5)
			emit(w, b, b->url, "defacement",
			     ws_printf(w->a, "text similarity %.2f", sim), 1);
	}
}

static volatile sig_atomic_t watch_stop;
static void on_sig(int sig)
{
	(void)sig;
	watch_stop = 1;
}

static void say(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static int read_file(const char *path, om_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (om_buf_append(b, tmp, n) < 0) {
			fclose(f);
			return -EFBIG;
		}
	fclose(f);
	om_buf_cstr(b);
	return 0;
}

static int run_once(const om_webscan_opts *o, struct watch *w, enum om_lang lang)
{
	ws_scan *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	char err[1024] = "";
	int r = ws_scan_setup(s, o, lang, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "omamori: %s\n", err);
		ws_scan_free(s);
		free(s);
		return r;
	}
	s->on_page = on_page;
	s->on_page_user = w;
	if (o->login_url && (r = ws_login(s)) < 0) {
		ws_scan_free(s);
		free(s);
		return r;
	}
	r = ws_crawl(s);
	/* the fingerprints live in the watch arena; the scan's memory goes */
	ws_scan_free(s);
	free(s);
	return r == -EINTR ? 0 : r;
}

int ws_watch_main(int argc, char **argv, enum om_lang lang)
{
	om_webscan_opts o;
	om_webscan_opts_default(&o);
	o.max_pages = 50;
	const char *baseline = NULL, *db = NULL, *blocklist = NULL, *eve = NULL;
	const char *tenant = "default";
	uint64_t interval = 3600;
	bool once = false, update = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		const char *name = a;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(om_msg(lang, "webscan.help.watch"), stdout);
			return 0;
		}
		if (!strcmp(a, "--once")) {
			once = true;
			continue;
		}
		if (!strcmp(a, "--update")) {
			update = true;
			continue;
		}
		if (!strcmp(a, "--i-own-this-site")) {
			o.i_own = true;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		static const char *const names[] = {
		    "--baseline",  "--db",   "--blocklist", "--eve",  "--tenant",   "--interval",
		    "--max-pages", "--rate", "--login-url", "--user", "--password", "--exclude"};
		size_t which = SIZE_MAX;
		for (size_t k = 0; k < OM_ARRAY_SIZE(names); k++)
			if (strlen(names[k]) == nl && !strncmp(a, names[k], nl))
				which = k;
		if (which == SIZE_MAX) {
			if (a[0] == '-') {
				say(lang, "err.usage_unknown_option", a, "webscan watch");
				return 2;
			}
			if (o.target) {
				say(lang, "webscan.err.two_targets", o.target, a);
				return 2;
			}
			o.target = a;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v) {
			say(lang, "err.usage_missing_value", names[which], "webscan watch");
			return 2;
		}
		uint64_t n;
		switch (which) {
		case 0: dst = &baseline; break;
		case 1: dst = &db; break;
		case 2: dst = &blocklist; break;
		case 3: dst = &eve; break;
		case 4: dst = &tenant; break;
		case 5:
			if (om_parse_u64(v, 10, 30 * 86400, &interval) < 0) {
				say(lang, "err.usage_bad_value", "--interval", v,
				    om_msg(lang, "webscan.hint.interval"));
				return 2;
			}
			break;
		case 6:
			if (om_parse_u64(v, 1, WS_MAX_WATCH_PAGES, &n) < 0) {
				say(lang, "err.usage_bad_value", "--max-pages", v,
				    om_msg(lang, "webscan.hint.watch_pages"));
				return 2;
			}
			o.max_pages = (unsigned)n;
			break;
		case 7:
			if (om_parse_u64(v, 1, 1000, &n) < 0) {
				say(lang, "err.usage_bad_value", "--rate", v,
				    om_msg(lang, "webscan.hint.rate"));
				return 2;
			}
			o.rate = (double)n;
			break;
		case 8: dst = &o.login_url; break;
		case 9: dst = &o.user; break;
		case 10: dst = &o.password; break;
		case 11:
			if (o.nexcludes >= WS_MAX_EXCLUDES) {
				say(lang, "webscan.err.too_many_excludes", WS_MAX_EXCLUDES);
				return 2;
			}
			o.excludes[o.nexcludes++] = v;
			break;
		}
		if (dst)
			*dst = v;
		(void)name;
	}
	if (!o.target || !baseline) {
		say(lang, "webscan.err.watch_usage");
		return 2;
	}
	ws_arena a;
	ws_arena_init(&a, WS_ARENA_MAX);
	struct watch w = {
	    .a = &a, .tenant = tenant, .lang = lang, .max = WS_MAX_WATCH_PAGES, .report = emit};
	w.cur = calloc(WS_MAX_WATCH_PAGES, sizeof(ws_print));
	w.reported = calloc(4096, sizeof(uint64_t));
	ws_print *base = calloc(WS_MAX_WATCH_PAGES, sizeof(ws_print));
	int rc = 1;
	char err[1024];
	if (!w.cur || !base || !w.reported)
		goto out;
	if (blocklist && load_blocklist(&w, blocklist, lang) < 0)
		goto out;
	if (db) {
		if (om_store_open(db, &w.store, err, sizeof(err)) < 0) {
			say(lang, "webscan.err.db", err);
			goto out;
		}
	}
	if (eve) {
		w.eve = fopen(eve, "a");
		if (!w.eve) {
			say(lang, "webscan.err.output", eve, strerror(errno));
			goto out;
		}
	}
	struct stat st;
	if (update || stat(baseline, &st) < 0) {
		/* make the baseline */
		int r = run_once(&o, &w, lang);
		if (r < 0)
			goto out;
		om_buf b;
		om_buf_init(&b, 256u * 1024 * 1024);
		ws_baseline_write(w.cur, w.ncur, &b);
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", baseline);
		FILE *f = fopen(tmp, "w");
		bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
		if (f && fclose(f))
			ok = false;
		if (ok && rename(tmp, baseline) < 0)
			ok = false;
		om_buf_free(&b);
		if (!ok) {
			say(lang, "webscan.err.output", baseline, strerror(errno));
			goto out;
		}
		char m[1024];
		snprintf(m, sizeof(m), om_msg(lang, "webscan.tamper.baselined"), w.ncur, baseline);
		printf("%s\n", m);
		rc = 0;
		goto out;
	}
	om_buf bt;
	om_buf_init(&bt, 256u * 1024 * 1024);
	int r = read_file(baseline, &bt);
	size_t nbase = 0;
	if (r == 0)
		r = ws_baseline_parse(&a, bt.data ? bt.data : "", bt.len, base, WS_MAX_WATCH_PAGES,
		                      &nbase, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", strerror(-r));
	om_buf_free(&bt);
	if (r < 0) {
		say(lang, "webscan.err.baseline", baseline, err);
		goto out;
	}
	watch_stop = 0;
	struct sigaction sa = {.sa_handler = on_sig};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	o.stop = &watch_stop;
	for (;;) {
		w.ncur = 0;
		r = run_once(&o, &w, lang);
		if (r < 0)
			goto out;
		unsigned before = w.events;
		compare(&w, base, nbase);
		if (w.store)
			om_store_flush(w.store);
		char m[512], ts[40];
		om_time_iso(om_time_now(), ts, sizeof(ts));
		snprintf(m, sizeof(m), om_msg(lang, "webscan.tamper.checked"), ts, w.ncur,
		         w.events - before);
		printf("%s\n", m);
		fflush(stdout);
		if (once || watch_stop)
			break;
		for (uint64_t t = 0; t < interval && !watch_stop; t++)
			sleep(1);
		if (watch_stop)
			break;
	}
	rc = 0;
out:
	if (w.eve)
		fclose(w.eve);
	om_store_close(w.store);
	free(w.block);
	free(w.cur);
	free(w.reported);
	free(base);
	ws_arena_free(&a);
	return rc;
}

/* ---- the tamper check inside a scan (--baseline) --------------------------------- */

struct ws_tamper {
	struct watch w;
	ws_print *base;
	size_t nbase;
};

static void collect(struct watch *w, const ws_print *b, const char *url, const char *kind,
                    const char *value, int severity)
{
	(void)url;
	(void)value;
	(void)severity;
	ws_scan *s = w->scan;
	for (size_t i = 0; i < s->ntamper; i++) {
		ws_tamper_row *r = &s->tamper_rows[i];
		if (strcmp(r->url, b->url))
			continue;
		if (!r->changes)
			r->changes = ws_strdup(&s->arena, kind);
		else if (!strstr(r->changes, kind))
			r->changes = ws_printf(&s->arena, "%s, %s", r->changes, kind);
		return;
	}
}

int ws_scan_tamper_begin(ws_scan *s, const char *path, char *err, size_t errlen)
{
	struct ws_tamper *t = ws_alloc(&s->arena, sizeof(*t));
	om_buf b;
	om_buf_init(&b, 256u * 1024 * 1024);
	if (!t)
		return -ENOMEM;
	t->base = ws_alloc(&s->arena, WS_MAX_WATCH_PAGES * sizeof(ws_print));
	t->w.cur = ws_alloc(&s->arena, WS_MAX_WATCH_PAGES * sizeof(ws_print));
	if (!t->base || !t->w.cur)
		return -ENOMEM;
	int r = read_file(path, &b);
	char why[512] = "";
	if (r == 0)
		r = ws_baseline_parse(&s->arena, b.data ? b.data : "", b.len, t->base,
		                      WS_MAX_WATCH_PAGES, &t->nbase, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	om_buf_free(&b);
	if (r < 0) {
		snprintf(err, errlen, om_msg(s->lang, "webscan.err.baseline"), path, why);
		return r;
	}
	t->w.a = &s->arena;
	t->w.max = WS_MAX_WATCH_PAGES;
	t->w.report = collect;
	t->w.scan = s;
	s->tamper = t;
	s->on_page = on_page;
	s->on_page_user = &t->w;
	return 0;
}

void ws_scan_tamper_end(ws_scan *s)
{
	struct ws_tamper *t = s->tamper;
	if (!t)
		return;
	s->tamper_rows = ws_alloc(&s->arena, (t->nbase ? t->nbase : 1) * sizeof(ws_tamper_row));
	if (!s->tamper_rows)
		return;
	om_usec now = om_time_now();
	for (size_t i = 0; i < t->nbase; i++)
		s->tamper_rows[s->ntamper++] = (ws_tamper_row){
		    .url = t->base[i].url, .baseline = t->base[i].ts, .checked = now};
	t->w.reported = NULL;
	compare(&t->w, t->base, t->nbase);
}
