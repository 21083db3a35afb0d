/* checks.c: the active checks. Per insertion point and field: reflected
 * and stored XSS (a marker first, then a payload for the context it landed
 * in, confirmed when the parsed answer has our attribute), SQL injection
 * (DBMS error messages, a boolean differential confirmed twice, a bounded
 * delay confirmed against a zero-delay control), OS command injection
 * (echoed arithmetic, delay), path traversal and file inclusion (known file
 * contents), open redirect, file upload; CSRF on state-changing forms. Then
 * per site: directory listings, backup and configuration files, stored
 * XSS sweep, TLS. Payloads read, print or wait: none writes, deletes or
 * guesses passwords. */
#include "webscan/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DELAY_S 3

/* ---- pure helpers (unit-tested) --------------------------------------------- */

bool ws_sql_error(const char *b, size_t len, const char **ret_dbms)
{
	static const struct {
		const char *needle, *dbms;
	} pats[] = {
	    {"SQLSTATE[", "PDO"},
	    {"SQLite3::", "SQLite"},
	    {"SQLITE_ERROR", "SQLite"},
	    {"sqlite3.OperationalError", "SQLite"},
	    {"unrecognized token:", "SQLite"},
	    {"You have an error in your SQL syntax", "MySQL"},
	    {"Warning: mysql", "MySQL"},
	    {"mysqli_", "MySQL"},
	    {"MySqlException", "MySQL"},
	    {"valid MySQL result", "MySQL"},
	    {"check the manual that corresponds to your MariaDB", "MariaDB"},
	    {"PostgreSQL query failed", "PostgreSQL"},
	    {"pg_query()", "PostgreSQL"},
	    {"unterminated quoted string at or near", "PostgreSQL"},
	    {"syntax error at or near", "PostgreSQL"},
	    {"PSQLException", "PostgreSQL"},
	    {"Unclosed quotation mark after the character string", "SQL Server"},
	    {"Microsoft OLE DB Provider for SQL Server", "SQL Server"},
	    {"SqlException", "SQL Server"},
	    {"ORA-01756", "Oracle"},
	    {"ORA-00933", "Oracle"},
	    {"quoted string not properly terminated", "Oracle"},
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(pats); i++) {
		if (memmem(b, len, pats[i].needle, strlen(pats[i].needle))) {
			if (ret_dbms)
				*ret_dbms = pats[i].dbms;
			return true;
		}
	}
	/* SQLite's own: near "x": syntax error */
	const char *p = memmem(b, len, "near \"", 6);
	if (p) {
		size_t rest = len - (size_t)(p - b);
		if (memmem(p, rest > 200 ? 200 : rest, "syntax error", 12)) {
			if (ret_dbms)
				*ret_dbms = "SQLite";
			return true;
		}
	}
	return false;
}

bool ws_passwd_leak(const char *b, size_t len)
{
	/* a line of /etc/passwd: "root:x:0:0:" */
	for (const char *p = b; (p = memmem(p, len - (size_t)(p - b), "root:", 5));) {
		const char *q = p + 5;
		size_t rest = len - (size_t)(q - b);
		if (rest >= 5 && (q[0] == 'x' || q[0] == '*' || q[0] == '!') && q[1] == ':' &&
		    q[2] == '0' && q[3] == ':' && q[4] == '0')
			return true;
		p = q;
		if ((size_t)(p - b) >= len)
			break;
	}
	if (memmem(b, len, "[fonts]", 7) && memmem(b, len, "[extensions]", 12))
		return true; /* win.ini */
	return false;
}

/* Lines as hashes, sorted: similarity is |A∩B| / max(|A|,|B|). Lines are
 * split on newlines and tag ends, so that a page on one line compares too. */
static size_t line_hashes(const char *s, size_t len, uint64_t *out, size_t max)
{
	size_t n = 0, st = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		if (i < len && s[i] != '\n' && s[i] != '>')
			continue;
		size_t a = st, b = i;
		while (a < b && isspace((unsigned char)s[a]))
			a++;
		while (b > a && isspace((unsigned char)s[b - 1]))
			b--;
		if (b > a)
			out[n++] = om_hash64(s + a, b - a, 0x6c696e65);
		st = i + 1;
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

double ws_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
	enum { MAXL = 8192 };
	uint64_t *x = malloc(MAXL * sizeof(*x)), *y = malloc(MAXL * sizeof(*y));
	if (!x || !y) {
		free(x);
		free(y);
		return alen == blen && !memcmp(a, b, alen) ? 1.0 : 0.0;
	}
	size_t n = line_hashes(a, alen, x, MAXL), m = line_hashes(b, blen, y, MAXL);
	qsort(x, n, sizeof(*x), cmp_u64);
	qsort(y, m, sizeof(*y), cmp_u64);
	size_t i = 0, j = 0, common = 0;
	while (i < n && j < m) {
		if (x[i] == y[j]) {
			common++;
			i++;
			j++;
		} else if (x[i] < y[j]) {
			i++;
		} else {
			j++;
		}
	}
	free(x);
	free(y);
	size_t mx = n > m ? n : m;
	return mx ? (double)common / (double)mx : 1.0;
}

bool ws_token_value_strong(const char *v)
{
	size_t n = strlen(v);
	if (n < 16)
		return false;
	/* not one character repeated, not only digits of a counter */
	bool digits = true, alpha = false;
	unsigned distinct = 0;
	bool seen[256] = {false};
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isdigit(c))
			digits = false;
		if (isalpha(c))
			alpha = true;
		if (!seen[c]) {
			seen[c] = true;
			distinct++;
		}
	}
	return !digits && alpha && distinct >= 8;
}

/* ---- probes ------------------------------------------------------------------- */

static bool skip_field(const ws_field *f)
{
	return !strcmp(f->type, "submit") || !strcmp(f->type, "button") ||
	       !strcmp(f->type, "file") || (!strcmp(f->type, "hidden") && ws_token_name(f->name));
}

/* Sends n probes of field i (values), in parallel when the point has no
 * one-time token, else one by one with a fresh token each. */
static int probes(ws_scan *s, ws_point *p, size_t i, const char *const *values, size_t n,
                  ws_req *reqs)
{
	if (!p->has_token) {
		for (size_t k = 0; k < n; k++)
			ws_point_req(s, p, i, values[k], &reqs[k]);
		return ws_fetch(s, reqs, n, 0);
	}
	for (size_t k = 0; k < n; k++) {
		int r = ws_point_refresh(s, p);
		if (r < 0)
			return r;
		ws_point_req(s, p, i, values[k], &reqs[k]);
		r = ws_fetch(s, &reqs[k], 1, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static void free_reqs(ws_req *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ws_req_free(&r[i]);
}

static const char *body(const ws_req *r)
{
	return r->body.data ? r->body.data : "";
}

static void remember_mark(ws_scan *s, const char *m, size_t point, size_t field)
{
	if (s->nmarks >= OM_ARRAY_SIZE(s->marks))
		return;
	memcpy(s->marks[s->nmarks].mark, m, WS_MARK_LEN + 1);
	s->marks[s->nmarks].point = point;
	s->marks[s->nmarks].field = field;
	s->nmarks++;
}

/* A copy of body with every occurrence of the payload (raw, HTML-escaped
 * and URL-encoded forms) removed, so that an echo of our input does not
 * make two answers differ. */
static char *strip_echo(ws_scan *s, const ws_req *r, const char *payload)
{
	const char *b = body(r);
	om_buf esc, enc;
	om_buf_init(&esc, 65536);
	om_buf_init(&enc, 65536);
	om_buf_put_html(&esc, payload);
	ws_urlencode(&enc, payload);
	const char *forms[3] = {payload, om_buf_cstr(&esc), om_buf_cstr(&enc)};
	char *out = ws_strndup(&s->arena, b, r->body.len);
	for (size_t f = 0; out && f < 3; f++) {
		size_t pl = strlen(forms[f]);
		if (!pl)
			continue;
		char *p;
		while ((p = strstr(out, forms[f])))
			memmove(p, p + pl, strlen(p + pl) + 1);
	}
	om_buf_free(&esc);
	om_buf_free(&enc);
	return out ? out : "";
}

static double sim_req(ws_scan *s, const ws_req *a, const char *pa, const ws_req *b, const char *pb)
{
	const char *x = pa ? strip_echo(s, a, pa) : body(a);
	const char *y = pb ? strip_echo(s, b, pb) : body(b);
	if (a->status != b->status)
		return 0.0;
	return ws_similarity(x, strlen(x), y, strlen(y));
}

/* ---- XSS ---------------------------------------------------------------------- */

static int check_xss(ws_scan *s, ws_point *p, size_t pi, size_t i)
{
	char m[WS_MARK_LEN + 1];
	ws_mark(s, m);
	const char *v1[1] = {m};
	ws_req r0[1];
	int rc = probes(s, p, i, v1, 1, r0);
	if (rc < 0) {
		free_reqs(r0, 1);
		return rc;
	}
	remember_mark(s, m, pi, i);
	unsigned ctx = r0[0].done ? ws_html_contexts(body(&r0[0]), r0[0].body.len, m) : 0;
	free_reqs(r0, 1);
	/* not reflected here: a payload still goes in, in case the value is
	 * stored and shown elsewhere (the sweep looks for it) */
	if (!ctx)
		ctx = WS_CTX_TEXT;
	const char *fmt[8];
	size_t nf = 0;
	if (ctx & (WS_CTX_TEXT | WS_CTX_STYLE | WS_CTX_COMMENT))
		fmt[nf++] = "%s--></style></textarea></title><b data-%s=1>x</b>";
	if (ctx & WS_CTX_ATTR_DQ) {
		fmt[nf++] = "%s\"><b data-%s=1>x</b>";
		fmt[nf++] = "%s\" data-%s=\"1";
	}
	if (ctx & WS_CTX_ATTR_SQ) {
		fmt[nf++] = "%s'><b data-%s=1>x</b>";
		fmt[nf++] = "%s' data-%s='1";
	}
	if (ctx & WS_CTX_ATTR_UQ)
		fmt[nf++] = "%s data-%s=1 x";
	if (ctx & WS_CTX_SCRIPT)
		fmt[nf++] = "%s</script><b data-%s=1>x</b>";
	char marks[8][WS_MARK_LEN + 1];
	const char *vals[9];
	for (size_t k = 0; k < nf; k++) {
		ws_mark(s, marks[k]);
		vals[k] = ws_printf(&s->arena, fmt[k], "", marks[k]);
		remember_mark(s, marks[k], pi, i);
	}
	size_t nv = nf;
	char jm[WS_MARK_LEN + 1];
	if (ctx & WS_CTX_URL_ATTR) {
		ws_mark(s, jm);
		vals[nv++] = ws_printf(&s->arena, "javascript:%s()", jm);
	}
	ws_req rq[9];
	memset(rq, 0, sizeof(rq));
	rc = probes(s, p, i, vals, nv, rq);
	for (size_t k = 0; k < nv && rc == 0; k++) {
		if (!rq[k].done)
			continue;
		bool hit;
		const char *needle;
		if (k < nf) {
			char an[128];
			snprintf(an, sizeof(an), "data-%s", marks[k]);
			hit = ws_html_has_attr(body(&rq[k]), rq[k].body.len, an);
			needle = marks[k];
		} else {
			hit = ws_html_has_js_url(body(&rq[k]), rq[k].body.len, jm);
			needle = jm;
		}
		if (!hit)
			continue;
		/* is it still there without the parameter? then it was stored */
		const char *again = p->page ? p->page : p->url;
		ws_req g = {.url = again, .method = "GET"};
		bool stored = false;
		if (ws_fetch(s, &g, 1, 1) == 0 && g.done) {
			char an[128];
			snprintf(an, sizeof(an), "data-%s", needle);
			stored = k < nf ? ws_html_has_attr(body(&g), g.body.len, an)
			                : ws_html_has_js_url(body(&g), g.body.len, needle);
		}
		ws_req_free(&g);
		ws_add(s, stored ? WS_XSS_STORED : WS_XSS_REFLECTED, p->url, p->method,
		       p->fields[i].name, WS_HIGH, WS_HIGH, ws_req_text(s, &rq[k]),
		       ws_excerpt(s, &rq[k], needle),
		       stored ? "webscan.detail.xss_stored" : "webscan.detail.xss_reflected");
		break;
	}
	free_reqs(rq, nv);
	return rc;
}

/* ---- SQL injection -------------------------------------------------------------- */

struct timecand {
	size_t point, field;
	bool sql, cmd;
};

static int check_sqli(ws_scan *s, ws_point *p, size_t i, const ws_req *base, bool *ret_found)
{
	*ret_found = false;
	const char *v = p->fields[i].value;
	const char *orig = v && *v ? v : "1";
	const char *ev[3] = {ws_printf(&s->arena, "%s'", orig), ws_printf(&s->arena, "%s\"", orig),
	                     ws_printf(&s->arena, "%s')", orig)};
	ws_req rq[3];
	memset(rq, 0, sizeof(rq));
	int rc = probes(s, p, i, ev, 3, rq);
	bool base_err = ws_sql_error(body(base), base->body.len, NULL);
	for (size_t k = 0; k < 3 && rc == 0 && !base_err; k++) {
		const char *dbms = NULL;
		if (rq[k].done && ws_sql_error(body(&rq[k]), rq[k].body.len, &dbms)) {
			ws_add(s, WS_SQLI, p->url, p->method, p->fields[i].name, WS_HIGH, WS_HIGH,
			       ws_req_text(s, &rq[k]), ws_excerpt(s, &rq[k], "SQL"),
			       ws_printf(&s->arena, "webscan.detail.sqli_error|%s",
			                 dbms ? dbms : "SQL"));
			*ret_found = true;
			break;
		}
	}
	free_reqs(rq, 3);
	if (rc < 0 || *ret_found)
		return rc;
	/* boolean differential: a true condition answers like the original,
	 * a false one differently; confirmed with a second pair */
	static const char *const pairs[][4] = {
	    {"%s AND 1=1", "%s AND 1=2", "%s AND 7=7", "%s AND 7=8"},
	    {"%s' AND '1'='1", "%s' AND '1'='2", "%s' AND 'q'='q", "%s' AND 'q'='r"},
	    {"%s' AND 1=1-- ", "%s' AND 1=2-- ", "%s' AND 5=5-- ", "%s' AND 5=6-- "},
	    {"%s\" AND \"1\"=\"1", "%s\" AND \"1\"=\"2", "%s\" AND \"z\"=\"z",
	     "%s\" AND \"z\"=\"y"},
	};
	/* the page must answer the same to the same request (no random
	 * content), else differences mean nothing */
	const char *same1[1] = {orig};
	ws_req b2[1];
	memset(b2, 0, sizeof(b2));
	rc = probes(s, p, i, same1, 1, b2);
	ws_req b1[1];
	memset(b1, 0, sizeof(b1));
	if (rc == 0)
		rc = probes(s, p, i, same1, 1, b1);
	bool stable =
	    rc == 0 && b1[0].done && b2[0].done && sim_req(s, &b1[0], NULL, &b2[0], NULL) >= 0.98;
	for (size_t k = 0; k < OM_ARRAY_SIZE(pairs) && stable && rc == 0; k++) {
		const char *vals[4];
		for (size_t j = 0; j < 4; j++)
			vals[j] = ws_printf(&s->arena, pairs[k][j], orig);
		ws_req pr[4];
		memset(pr, 0, sizeof(pr));
		rc = probes(s, p, i, vals, 4, pr);
		bool ok = rc == 0;
		for (size_t j = 0; j < 4 && ok; j++)
			ok = pr[j].done;
		if (ok) {
			double t1 = sim_req(s, &pr[0], vals[0], &b1[0], orig);
			double f1 = sim_req(s, &pr[1], vals[1], &b1[0], orig);
			double t2 = sim_req(s, &pr[2], vals[2], &b1[0], orig);
			double f2 = sim_req(s, &pr[3], vals[3], &b1[0], orig);
			if (t1 >= 0.95 && t2 >= 0.95 && f1 < 0.9 && f2 < 0.9) {
				ws_add(s, WS_SQLI_BLIND, p->url, p->method, p->fields[i].name,
				       WS_HIGH, WS_HIGH, ws_req_text(s, &pr[1]),
				       ws_excerpt(s, &pr[1], NULL),
				       ws_printf(&s->arena,
				                 "webscan.detail.boolean|%.2f, %.2f / %.2f, %.2f",
				                 t1, t2, f1, f2));
				*ret_found = true;
			}
		}
		free_reqs(pr, 4);
		if (*ret_found)
			break;
	}
	free_reqs(b1, 1);
	free_reqs(b2, 1);
	return rc;
}

/* ---- OS command injection: echo ------------------------------------------------ */

static int check_cmd(ws_scan *s, ws_point *p, size_t i, bool *ret_found)
{
	*ret_found = false;
	char a[WS_MARK_LEN + 1];
	ws_mark(s, a);
	const char *v = p->fields[i].value ? p->fields[i].value : "";
	static const char *const fmt[] = {
	    "%s;echo %s$((6*7))x;",     "%s|echo %s$((6*7))x",    "%s&&echo %s$((6*7))x",
	    "%s`echo %s$((6*7))x`",     "%s$(echo %s$((6*7))x)",  "%s';echo %s$((6*7))x;'",
	    "%s\";echo %s$((6*7))x;\"", "%s\necho %s$((6*7))x\n",
	};
	const char *vals[OM_ARRAY_SIZE(fmt)];
	for (size_t k = 0; k < OM_ARRAY_SIZE(fmt); k++)
		vals[k] = ws_printf(&s->arena, fmt[k], v, a);
	ws_req rq[OM_ARRAY_SIZE(fmt)];
	memset(rq, 0, sizeof(rq));
	int rc = probes(s, p, i, vals, OM_ARRAY_SIZE(fmt), rq);
	char want[WS_MARK_LEN + 8];
	snprintf(want, sizeof(want), "%s42x", a);
	for (size_t k = 0; k < OM_ARRAY_SIZE(fmt) && rc == 0; k++) {
		if (rq[k].done && rq[k].body.data && strstr(rq[k].body.data, want)) {
			ws_add(s, WS_OS_COMMAND, p->url, p->method, p->fields[i].name, WS_HIGH,
			       WS_HIGH, ws_req_text(s, &rq[k]), ws_excerpt(s, &rq[k], want),
			       "webscan.detail.os_echo");
			*ret_found = true;
			break;
		}
	}
	free_reqs(rq, OM_ARRAY_SIZE(fmt));
	return rc;
}

/* ---- path traversal and file inclusion ------------------------------------------ */

static int check_files(ws_scan *s, ws_point *p, size_t i, const ws_req *base)
{
	const char *v = p->fields[i].value ? p->fields[i].value : "";
	const char *stem = *v ? v : "index";
	size_t sl = strcspn(stem, ".");
	const char *vals[6] = {
	    "../../../../../../../../../../etc/passwd",
	    "/etc/passwd",
	    "....//....//....//....//....//....//....//etc/passwd",
	    "..\\..\\..\\..\\..\\..\\windows\\win.ini",
	    ws_printf(&s->arena, "php://filter/convert.base64-encode/resource=%.*s", (int)sl, stem),
	    ws_printf(&s->arena, "php://filter/convert.base64-encode/resource=%s", stem),
	};
	ws_req rq[6];
	memset(rq, 0, sizeof(rq));
	int rc = probes(s, p, i, vals, 6, rq);
	bool base_leak = ws_passwd_leak(body(base), base->body.len);
	bool trav = false, incl = false;
	for (size_t k = 0; k < 6 && rc == 0; k++) {
		if (!rq[k].done)
			continue;
		if (k < 4 && !trav && !base_leak && ws_passwd_leak(body(&rq[k]), rq[k].body.len)) {
			ws_add(s, WS_PATH_TRAVERSAL, p->url, p->method, p->fields[i].name, WS_HIGH,
			       WS_HIGH, ws_req_text(s, &rq[k]), ws_excerpt(s, &rq[k], "root:"),
			       "webscan.detail.traversal");
			trav = true;
		}
		/* the base64 of "<?php" is PD9waHA: the server ran its include
		 * through the filter wrapper and showed the source */
		if (k >= 4 && !incl && strstr(body(&rq[k]), "PD9waHA") &&
		    !strstr(body(base), "PD9waHA")) {
			ws_add(s, WS_FILE_INCLUSION, p->url, p->method, p->fields[i].name, WS_HIGH,
			       WS_HIGH, ws_req_text(s, &rq[k]), ws_excerpt(s, &rq[k], "PD9waHA"),
			       "webscan.detail.inclusion");
			incl = true;
		}
	}
	free_reqs(rq, 6);
	return rc;
}

/* ---- open redirect ------------------------------------------------------------- */

static bool redirect_param(const ws_field *f)
{
	static const char *const k[] = {"url",      "redirect", "next", "return", "goto",    "dest",
	                                "continue", "target",   "rurl", "link",   "forward", "to"};
	const char *v = f->value ? f->value : "";
	if (!strncmp(v, "http", 4) || v[0] == '/')
		return true;
	for (size_t i = 0; i < OM_ARRAY_SIZE(k); i++)
		if (strcasestr(f->name, k[i]))
			return true;
	return false;
}

static int check_redirect(ws_scan *s, ws_point *p, size_t i)
{
	if (!redirect_param(&p->fields[i]))
		return 0;
	char m[WS_MARK_LEN + 1];
	ws_mark(s, m);
	char host[64];
	snprintf(host, sizeof(host), "%s.example", m);
	const char *vals[3] = {ws_printf(&s->arena, "https://%s/", host),
	                       ws_printf(&s->arena, "//%s/", host),
	                       ws_printf(&s->arena, "/\\%s/", host)};
	ws_req rq[3];
	memset(rq, 0, sizeof(rq));
	int rc = probes(s, p, i, vals, 3, rq);
	for (size_t k = 0; k < 3 && rc == 0; k++) {
		if (!rq[k].done)
			continue;
		bool hit = false;
		const char *ev = NULL;
		if (rq[k].status >= 300 && rq[k].status < 400 && rq[k].location[0]) {
			char *to = ws_url_resolve(&s->arena, rq[k].url, rq[k].location);
			ws_url u;
			if (to && ws_url_split(&s->arena, to, &u) == 0 &&
			    !strcasecmp(u.host, host)) {
				hit = true;
				ev = ws_printf(&s->arena, "HTTP %ld, Location: %s", rq[k].status,
				               rq[k].location);
			}
		} else if (rq[k].body.data) {
			/* <meta http-equiv=refresh content="0;url=..."> */
			const char *b = rq[k].body.data;
			const char *mr = strcasestr(b, "http-equiv=\"refresh\"");
			if (!mr)
				mr = strcasestr(b, "http-equiv=refresh");
			if (mr && strstr(mr, host) && strstr(mr, host) - mr < 200) {
				hit = true;
				ev = ws_excerpt(s, &rq[k], host);
			}
		}
		if (hit) {
			ws_add(s, WS_OPEN_REDIRECT, p->url, p->method, p->fields[i].name, WS_MEDIUM,
			       WS_HIGH, ws_req_text(s, &rq[k]), ev, "webscan.detail.redirect");
			break;
		}
	}
	free_reqs(rq, 3);
	return rc;
}

/* ---- file upload ---------------------------------------------------------------- */

static int check_upload(ws_scan *s, ws_point *p)
{
	if (!p->multipart || strcmp(p->method, "POST"))
		return 0;
	size_t fi = SIZE_MAX;
	for (size_t i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].type, "file"))
			fi = i;
	if (fi == SIZE_MAX)
		return 0;
	char m[WS_MARK_LEN + 1];
	ws_mark(s, m);
	const char *fname = ws_printf(&s->arena, "%s.php", m);
	/* prints the marker and 6*7: only a server that runs it shows "42" */
	const char *content = ws_printf(&s->arena, "<?php echo '%s-' . (6*7); ?>\n", m);
	int rc = ws_point_refresh(s, p);
	if (rc < 0)
		return rc;
	ws_req r;
	ws_point_req(s, p, SIZE_MAX, NULL, &r);
	ws_field *mf = (ws_field *)r.mime;
	if (!mf)
		return 0;
	mf[fi].value = content;
	mf[fi].filename = fname;
	mf[fi].filetype = "application/x-php";
	rc = ws_fetch(s, &r, 1, 1);
	if (rc < 0 || !r.done || r.status >= 400) {
		ws_req_free(&r);
		return rc;
	}
	const char *reqtext = ws_req_text(s, &r);
	/* where might it be? a link in the answer, else the usual folders */
	const char *cands[12];
	size_t nc = 0;
	if (r.body.data && strstr(r.body.data, fname)) {
		ws_html h;
		if (ws_html_parse(&s->arena, r.body.data, r.body.len, r.url, &h) == 0) {
			for (size_t k = 0; k < h.nlinks && nc < 3; k++)
				if (strstr(h.links[k], fname))
					cands[nc++] = h.links[k];
			ws_html_free(&h);
		}
	}
	/* "../../uploads/omz….php succesfully uploaded": a path in the text */
	for (const char *b = r.body.data ? r.body.data : "", *q; nc < 4 && (q = strstr(b, fname));
	     b = q + 1) {
		const char *st = q;
		const char *b0 = r.body.data;
		while (st > b0 && (isalnum((unsigned char)st[-1]) || strchr("/._~-", st[-1])))
			st--;
		char *rel = ws_strndup(&s->arena, st, (size_t)(q - st) + strlen(fname));
		char *u = rel ? ws_url_resolve(&s->arena, r.url, rel) : NULL;
		if (u)
			cands[nc++] = u;
	}
	const char *dir = ws_url_noquery(&s->arena, p->url);
	char *sl = dir ? strrchr(dir, '/') : NULL;
	if (sl)
		sl[1] = '\0';
	static const char *const sub[] = {"uploads/", "upload/", "files/", ""};
	for (size_t k = 0; k < OM_ARRAY_SIZE(sub) && nc < 12 && dir; k++)
		cands[nc++] = ws_printf(&s->arena, "%s%s%s", dir, sub[k], fname);
	char want[WS_MARK_LEN + 8];
	snprintf(want, sizeof(want), "%s-42", m);
	ws_req g[12];
	memset(g, 0, sizeof(g));
	for (size_t k = 0; k < nc; k++) {
		g[k].url = cands[k];
		g[k].method = "GET";
	}
	rc = ws_fetch(s, g, nc, 0);
	for (size_t k = 0; k < nc && rc == 0; k++) {
		if (g[k].done && g[k].body.data && strstr(g[k].body.data, want)) {
			ws_add(s, WS_FILE_UPLOAD, p->url, "POST", p->fields[fi].name, WS_HIGH,
			       WS_HIGH, reqtext,
			       ws_printf(&s->arena, "GET %s -> %s", g[k].url,
			                 ws_excerpt(s, &g[k], want)),
			       "webscan.detail.upload");
			break;
		}
	}
	free_reqs(g, nc);
	ws_req_free(&r);
	return rc;
}

/* ---- CSRF ---------------------------------------------------------------------- */

/* a form that logs in: one password field next to a user-name field */
static bool login_form(const ws_point *p)
{
	unsigned pw = 0;
	bool user = false;
	for (size_t i = 0; i < p->nfields; i++) {
		const ws_field *f = &p->fields[i];
		if (!strcmp(f->type, "password"))
			pw++;
		else if ((!strcmp(f->type, "text") || !strcmp(f->type, "email")) &&
		         (strcasestr(f->name, "user") || strcasestr(f->name, "login") ||
		          strcasestr(f->name, "mail") || strcasestr(f->name, "name")))
			user = true;
	}
	return pw == 1 && user;
}

static void check_csrf(ws_scan *s, const ws_point *p)
{
	bool post = !strcmp(p->method, "POST");
	bool token = false, weak = false;
	const char *tname = NULL, *tval = NULL;
	size_t visible = 0;
	for (size_t i = 0; i < p->nfields; i++) {
		const ws_field *f = &p->fields[i];
		if (strcmp(f->type, "hidden") && strcmp(f->type, "submit"))
			visible++;
		if (!strcmp(f->type, "hidden") && ws_token_name(f->name)) {
			token = true;
			if (!ws_token_value_strong(f->value)) {
				weak = true;
				tname = f->name;
				tval = f->value;
			}
		}
	}
	/* a login form changes no state of the user's own; a form without any
	 * field is a button; a GET form changes state when it sets a password
	 * (searches and filters do not) */
	if (login_form(p) || !visible || (!post && !p->has_password))
		return;
	/* SameSite=Lax or Strict on every cookie the site set stops a
	 * cross-site POST from carrying the session (not a GET: Lax cookies go
	 * with a top-level navigation) */
	bool samesite = s->cookies_total > 0 && s->cookies_samesite == s->cookies_total;
	if (samesite && post)
		return;
	if (!token) {
		ws_add(s, WS_CSRF, p->url, p->method, NULL, WS_MEDIUM, WS_MEDIUM,
		       ws_printf(&s->arena, "form %s %s (on %s)", p->method, p->url,
		                 p->page ? p->page : "-"),
		       om_tr("webscan.detail.csrf_evidence"), "webscan.detail.csrf");
	} else if (weak) {
		ws_add(s, WS_CSRF, p->url, p->method, tname, WS_MEDIUM, WS_MEDIUM,
		       ws_printf(&s->arena, "form %s %s (on %s)", p->method, p->url,
		                 p->page ? p->page : "-"),
		       ws_printf(&s->arena, "%s=%s", tname, tval), "webscan.detail.csrf_weak");
	}
}

/* ---- time-based: alone, one request at a time ----------------------------------- */

static int timed(ws_scan *s, ws_point *p, size_t i, const char *val, double *ret_secs)
{
	ws_req r[1];
	memset(r, 0, sizeof(r));
	int rc = ws_point_refresh(s, p);
	if (rc < 0)
		return rc;
	ws_point_req(s, p, i, val, &r[0]);
	r[0].timeout_ms = (DELAY_S + 10) * 1000;
	rc = ws_fetch(s, r, 1, 1);
	*ret_secs = r[0].done ? r[0].secs : 0;
	ws_req_free(&r[0]);
	return rc;
}

static int check_time(ws_scan *s, ws_point *p, size_t i, bool sql, bool cmd)
{
	const char *v = p->fields[i].value && *p->fields[i].value ? p->fields[i].value : "1";
	static const char *const cmdf[] = {"%s;sleep %d;",  "%s|sleep %d",    "%s`sleep %d`",
	                                   "%s$(sleep %d)", "%s';sleep %d;'", "%s\";sleep %d;\"",
	                                   "%s&&sleep %d"};
	static const char *const sqlf[] = {
	    "%s' AND SLEEP(%d)-- ",          "%s AND SLEEP(%d)",
	    "%s';SELECT pg_sleep(%d)-- ",    "%s' AND 1=(SELECT 1 FROM pg_sleep(%d))-- ",
	    "%s';WAITFOR DELAY '0:0:%d'-- ",
	};
	for (int kind = 0; kind < 2; kind++) {
		if ((kind == 0 && !cmd) || (kind == 1 && !sql))
			continue;
		const char *const *f = kind == 0 ? cmdf : sqlf;
		size_t nf = kind == 0 ? OM_ARRAY_SIZE(cmdf) : OM_ARRAY_SIZE(sqlf);
		for (size_t k = 0; k < nf; k++) {
			double t1 = 0, t0 = 0, t2 = 0;
			const char *d = ws_printf(&s->arena, f[k], v, DELAY_S);
			int rc = timed(s, p, i, d, &t1);
			if (rc < 0)
				return rc;
			if (t1 < DELAY_S * 0.9)
				continue;
			/* the same with no delay must be fast, and the delay
			 * must come back */
			const char *z = ws_printf(&s->arena, f[k], v, 0);
			if ((rc = timed(s, p, i, z, &t0)) < 0 || (rc = timed(s, p, i, d, &t2)) < 0)
				return rc;
			if (t0 < DELAY_S * 0.5 && t2 >= DELAY_S * 0.9) {
				ws_add(s, kind == 0 ? WS_OS_COMMAND : WS_SQLI_BLIND, p->url,
				       p->method, p->fields[i].name, WS_HIGH, WS_MEDIUM,
				       ws_printf(&s->arena, "%s %s [%s=%s]", p->method, p->url,
				                 p->fields[i].name, d),
				       ws_printf(&s->arena,
				                 "delay %d s: %.2f s and %.2f s; without: %.2f s",
				                 DELAY_S, t1, t2, t0),
				       ws_printf(&s->arena, "webscan.detail.delay|%d", DELAY_S));
				break;
			}
		}
	}
	return 0;
}

int ws_check_points(ws_scan *s)
{
	struct timecand *tc = calloc(WS_MAX_POINTS * 4, sizeof(*tc));
	size_t ntc = 0;
	if (!tc)
		return -ENOMEM;
	int rc = 0;
	for (size_t pi = 0; pi < s->npoints && rc == 0; pi++) {
		ws_point *p = &s->points[pi];
		check_csrf(s, p);
		/* a form with a password field logs in or sets a password:
		 * submitting it (even as found) could change the password */
		if (p->has_password)
			continue;
		ws_req base[1];
		memset(base, 0, sizeof(base));
		if ((rc = ws_point_refresh(s, p)) < 0)
			break;
		ws_point_req(s, p, SIZE_MAX, NULL, &base[0]);
		rc = ws_fetch(s, base, 1, 1);
		for (size_t i = 0; i < p->nfields && rc == 0; i++) {
			if (skip_field(&p->fields[i]))
				continue;
			bool sqli = false, cmd = false;
			if ((rc = check_xss(s, p, pi, i)) < 0)
				break;
			if ((rc = check_sqli(s, p, i, &base[0], &sqli)) < 0)
				break;
			if ((rc = check_cmd(s, p, i, &cmd)) < 0)
				break;
			if ((rc = check_files(s, p, i, &base[0])) < 0)
				break;
			if ((rc = check_redirect(s, p, i)) < 0)
				break;
			if ((!sqli || !cmd) && ntc < WS_MAX_POINTS * 4)
				tc[ntc++] = (struct timecand){pi, i, !sqli, !cmd};
			ws_progress(s, false);
		}
		ws_req_free(&base[0]);
		if (rc == 0 && !s->o->get_only)
			rc = check_upload(s, p);
	}
	for (size_t k = 0; k < ntc && rc == 0; k++)
		rc = check_time(s, &s->points[tc[k].point], tc[k].field, tc[k].sql, tc[k].cmd);
	free(tc);
	return rc;
}

bool ws_backup_name(const char *url)
{
	static const char *const suf[] = {".bak", "~",     ".old",   ".orig", ".save",
	                                  ".swp", ".dist", ".sql",   ".env",  ".tar.gz",
	                                  ".tgz", ".zip",  ".backup"};
	size_t n = strcspn(url, "?#");
	for (size_t i = 0; i < OM_ARRAY_SIZE(suf); i++) {
		size_t l = strlen(suf[i]);
		if (n > l && !strncasecmp(url + n - l, suf[i], l) && url[n - l - 1] != '/')
			return true;
	}
	return false;
}

/* ---- per site -------------------------------------------------------------------- */

bool ws_backup_content(const char *name, const ws_req *r)
{
	const char *b = body(r);
	size_t n = r->body.len;
	if (n == 0)
		return false;
	if (strstr(name, ".git/HEAD"))
		return !strncmp(b, "ref: ", 5) || (n >= 40 && isxdigit((unsigned char)b[0]));
	if (strstr(name, ".env"))
		return memmem(b, n, "=", 1) && !memmem(b, n, "<html", 5) &&
		       !memmem(b, n, "<HTML", 5);
	if (strstr(name, ".sql"))
		return memmem(b, n, "CREATE TABLE", 12) || memmem(b, n, "INSERT INTO", 11);
	if (strstr(name, ".zip"))
		return n > 4 && !memcmp(b, "PK\x03\x04", 4);
	if (strstr(name, ".tar.gz") || strstr(name, ".tgz"))
		return n > 2 && (unsigned char)b[0] == 0x1f && (unsigned char)b[1] == 0x8b;
	if (strstr(name, ".htpasswd"))
		return memmem(b, n, ":$", 2) || memmem(b, n, ":{SHA}", 6);
	/* a copy of a script: its source shows */
	return memmem(b, n, "<?php", 5) || memmem(b, n, "<%", 2) || memmem(b, n, "#!/", 3) ||
	       (strncasecmp(r->ctype, "text/html", 9) && !memmem(b, n, "<html", 5));
}

static int check_backups(ws_scan *s)
{
	enum { MAXC = 600 };
	const char **c = calloc(MAXC, sizeof(*c));
	if (!c)
		return -ENOMEM;
	size_t nc = 0;
	const char *root = ws_printf(&s->arena, "%s://%s:%u%s", s->target.scheme, s->target.host,
	                             s->target.port, s->scope_prefix);
	static const char *const known[] = {".git/HEAD",         ".env",           "backup.zip",
	                                    "backup.sql",        "db.sql",         "dump.sql",
	                                    "database.sql",      "site.tar.gz",    ".htpasswd",
	                                    "wp-config.php.bak", "config.inc.php~"};
	for (size_t k = 0; k < OM_ARRAY_SIZE(known) && nc < MAXC; k++)
		c[nc++] = ws_printf(&s->arena, "%s%s", root, known[k]);
	c[nc++] = ws_printf(&s->arena, "%sconfig.php.bak", root);
	/* copies of the pages' own files: at most 20 files a folder and 100
	 * in all (a site of generated pages has thousands of names) */
	static const char *const suf[] = {".bak", "~", ".old", ".orig", ".save", ".swp"};
	/* names that are edited by hand (configuration, settings, database)
	 * first: they are the ones left as copies */
	static const char *const hot[] = {"conf", "setting", "db",    "database", "secret",
	                                  "env",  "admin",   "login", "passw",    "key"};
	size_t files = 0;
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t pi = 0;
		     pi < s->npages && nc + OM_ARRAY_SIZE(suf) + 1 < MAXC && files < 100; pi++) {
			char *u = ws_url_noquery(&s->arena, s->pages[pi].url);
			if (!u || s->pages[pi].status != 200)
				continue;
			char *sl = strrchr(u, '/');
			if (!sl || !strchr(sl, '.'))
				continue;
			bool is_hot = false;
			for (size_t k = 0; k < OM_ARRAY_SIZE(hot); k++)
				is_hot |= strcasestr(sl, hot[k]) != NULL;
			if (is_hot != (pass == 0))
				continue;
			char *key = ws_printf(&s->arena, "bak %s", u);
			if (!key || !ws_seen_add(s, key))
				continue;
			unsigned in_dir = 0;
			char *dkey = ws_printf(&s->arena, "bakdir %.*s", (int)(sl - u), u);
			for (unsigned k = 0; dkey && k < 20; k++) {
				char *slot = ws_printf(&s->arena, "%s #%u", dkey, k);
				if (slot && ws_seen_add(s, slot))
					break;
				in_dir++;
			}
			if (in_dir >= 20)
				continue;
			files++;
			for (size_t k = 0; k < OM_ARRAY_SIZE(suf); k++) {
				if (!strcmp(suf[k], ".swp"))
					c[nc++] = ws_printf(&s->arena, "%.*s/.%s.swp",
					                    (int)(sl - u), u, sl + 1);
				else
					c[nc++] = ws_printf(&s->arena, "%s%s", u, suf[k]);
			}
			char *dot = strrchr(sl, '.');
			c[nc++] = ws_printf(&s->arena, "%.*s.bak", (int)(dot - u), u);
		}
	ws_req *rq = calloc(nc ? nc : 1, sizeof(*rq));
	if (!rq) {
		free(c);
		return -ENOMEM;
	}
	for (size_t k = 0; k < nc; k++) {
		rq[k].url = c[k];
		rq[k].method = "GET";
	}
	int rc = 0;
	for (size_t k = 0; k < nc && rc == 0; k += 32) {
		size_t n = nc - k < 32 ? nc - k : 32;
		rc = ws_fetch(s, rq + k, n, 0);
		for (size_t j = k; j < k + n && rc == 0; j++) {
			if (!rq[j].done || rq[j].status != 200 || !ws_in_scope(s, rq[j].url))
				continue;
			if (!ws_backup_content(rq[j].url, &rq[j]) ||
			    ws_soft404(s, rq[j].url, &rq[j]))
				continue;
			ws_add(s, WS_BACKUP_FILE, rq[j].url, "GET", NULL, WS_HIGH, WS_HIGH,
			       ws_req_text(s, &rq[j]), ws_excerpt(s, &rq[j], NULL),
			       "webscan.detail.backup");
		}
		for (size_t j = k; j < k + n; j++)
			ws_req_free(&rq[j]);
	}
	free(rq);
	free(c);
	return rc;
}

static int check_dirs(ws_scan *s)
{
	enum { MAXD = 200 };
	ws_req *rq = calloc(MAXD, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	size_t n = 0;
	for (size_t pi = 0; pi < s->npages && n < MAXD; pi++) {
		char *u = ws_url_noquery(&s->arena, s->pages[pi].url);
		/* every parent folder of the page, inside the scope */
		while (u && n < MAXD) {
			char *sl = strrchr(u, '/');
			if (!sl)
				break;
			if (sl[1] != '\0') {
				sl[1] = '\0';
			} else {
				*sl = '\0';
				continue;
			}
			if (!ws_in_scope(s, u))
				break;
			char *key = ws_printf(&s->arena, "dir %s", u);
			char *visited = ws_strdup(&s->arena, u);
			if (key && ws_seen_add(s, key) && visited && ws_seen_add(s, visited)) {
				rq[n].url = visited;
				rq[n].method = "GET";
				n++;
			}
		}
	}
	int rc = ws_fetch(s, rq, n, 0);
	for (size_t k = 0; k < n && rc == 0; k++) {
		if (rq[k].done && rq[k].status == 200 && rq[k].body.data) {
			ws_html h;
			if (ws_html_parse(&s->arena, rq[k].body.data, rq[k].body.len, rq[k].url,
			                  &h) == 0) {
				if (h.dir_listing)
					ws_add(s, WS_DIR_INDEX, rq[k].url, "GET", NULL, WS_MEDIUM,
					       WS_HIGH, ws_req_text(s, &rq[k]),
					       ws_excerpt(s, &rq[k], "Index of"),
					       "webscan.detail.dir_index");
				ws_html_free(&h);
			}
		}
	}
	for (size_t k = 0; k < n; k++)
		ws_req_free(&rq[k]);
	free(rq);
	return rc;
}

/* every payload of the XSS checks that became markup on a page of the
 * site, found on a fresh visit of the pages: stored XSS */
static int sweep_stored(ws_scan *s)
{
	if (!s->nmarks)
		return 0;
	enum { MAXP = 300 };
	size_t n = 0;
	ws_req *rq = calloc(MAXP, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	for (size_t pi = 0; pi < s->npages && n < MAXP; pi++) {
		if (!s->pages[pi].html || s->pages[pi].status != 200)
			continue;
		rq[n].url = s->pages[pi].url;
		rq[n].method = "GET";
		n++;
	}
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k += 16) {
		size_t m = n - k < 16 ? n - k : 16;
		rc = ws_fetch(s, rq + k, m, 0);
		for (size_t j = k; j < k + m; j++) {
			const char *b = body(&rq[j]);
			if (!rq[j].done || !strstr(b, "data-omz")) {
				ws_req_free(&rq[j]);
				continue;
			}
			for (size_t mi = 0; mi < s->nmarks; mi++) {
				char an[128];
				snprintf(an, sizeof(an), "data-%s", s->marks[mi].mark);
				if (!strstr(b, an) || !ws_html_has_attr(b, rq[j].body.len, an))
					continue;
				ws_point *p = &s->points[s->marks[mi].point];
				ws_add(s, WS_XSS_STORED, p->url, p->method,
				       p->fields[s->marks[mi].field].name, WS_HIGH, WS_HIGH,
				       ws_printf(&s->arena, "%s %s [%s], shown at GET %s",
				                 p->method, p->url,
				                 p->fields[s->marks[mi].field].name, rq[j].url),
				       ws_excerpt(s, &rq[j], an), "webscan.detail.xss_stored");
			}
			ws_req_free(&rq[j]);
		}
	}
	free(rq);
	return rc;
}

static int check_phpinfo(ws_scan *s)
{
	static const char *const names[] = {"phpinfo.php", "info.php", "test.php", "php_info.php"};
	ws_req rq[OM_ARRAY_SIZE(names)];
	memset(rq, 0, sizeof(rq));
	for (size_t k = 0; k < OM_ARRAY_SIZE(names); k++) {
		rq[k].url = ws_printf(&s->arena, "%s://%s:%u%s%s", s->target.scheme, s->target.host,
		                      s->target.port, s->scope_prefix, names[k]);
		rq[k].method = "GET";
	}
	int rc = ws_fetch(s, rq, OM_ARRAY_SIZE(names), 0);
	for (size_t k = 0; k < OM_ARRAY_SIZE(names) && rc == 0; k++)
		if (rq[k].done && rq[k].status == 200 && strstr(body(&rq[k]), "<title>phpinfo()"))
			ws_add(s, WS_INFO_LEAK, rq[k].url, "GET", NULL, WS_MEDIUM, WS_HIGH,
			       ws_req_text(s, &rq[k]), ws_excerpt(s, &rq[k], "phpinfo()"),
			       "webscan.detail.leak_phpinfo");
	free_reqs(rq, OM_ARRAY_SIZE(names));
	return rc;
}

int ws_check_site(ws_scan *s)
{
	int rc;
	if ((rc = sweep_stored(s)) < 0)
		return rc;
	if ((rc = check_dirs(s)) < 0)
		return rc;
	if ((rc = check_backups(s)) < 0)
		return rc;
	if ((rc = check_phpinfo(s)) < 0)
		return rc;
	if (!strcasecmp(s->target.scheme, "https"))
		ws_tls_check(s, s->o->target);
	return 0;
}
