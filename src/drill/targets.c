/* drill: the target list. Maps a sheet's header to the target fields (the
 * names a Japanese or English list uses), checks every row and refuses the
 * whole file at the first bad one, naming its line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drill/drill.h"

enum field { F_NONE = -1, F_MAIL, F_NAME, F_ORG, F_DEPT, F_ROLE, F_GROUP, F_COUNT };

static const struct {
	const char *label;
	enum field f;
} header_names[] = {
    {"mail", F_MAIL},          {"email", F_MAIL},
    {"e-mail", F_MAIL},        {"mail address", F_MAIL},
    {"email address", F_MAIL}, {"address", F_MAIL},
    {"メール", F_MAIL},        {"メールアドレス", F_MAIL},
    {"eメール", F_MAIL},       {"name", F_NAME},
    {"full name", F_NAME},     {"氏名", F_NAME},
    {"名前", F_NAME},          {"organisation", F_ORG},
    {"organization", F_ORG},   {"org", F_ORG},
    {"company", F_ORG},        {"会社", F_ORG},
    {"会社名", F_ORG},         {"組織", F_ORG},
    {"所属会社", F_ORG},       {"department", F_DEPT},
    {"dept", F_DEPT},          {"部署", F_DEPT},
    {"部門", F_DEPT},          {"所属", F_DEPT},
    {"role", F_ROLE},          {"position", F_ROLE},
    {"title", F_ROLE},         {"役職", F_ROLE},
    {"職位", F_ROLE},          {"group", F_GROUP},
    {"グループ", F_GROUP},
};

static void fail_at(char *err, size_t errlen, enum om_lang lang, const char *name, unsigned line,
                    const char *key, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, key);
	vsnprintf(what, sizeof(what), om_msg(lang, key), ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s:%u: %s", name, line, what);
}

/* Trims ASCII spaces and ideographic spaces (U+3000) at both ends. */
static void trim(const char *s, const char **ret, size_t *ret_n)
{
	size_t n = strlen(s);
	for (;;) {
		if (n && (*s == ' ' || *s == '\t')) {
			s++, n--;
		} else if (n >= 3 && !memcmp(s, "\xe3\x80\x80", 3)) {
			s += 3, n -= 3;
		} else {
			break;
		}
	}
	for (;;) {
		if (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		else if (n >= 3 && !memcmp(s + n - 3, "\xe3\x80\x80", 3))
			n -= 3;
		else
			break;
	}
	*ret = s;
	*ret_n = n;
}

static enum field header_field(const char *label)
{
	const char *s;
	size_t n;
	trim(label, &s, &n);
	char low[128];
	if (n >= sizeof(low))
		return F_NONE;
	for (size_t i = 0; i < n; i++)
		low[i] =
		    (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : (s[i] == '_' ? ' ' : s[i]);
	low[n] = 0;
	for (size_t i = 0; i < OM_ARRAY_SIZE(header_names); i++)
		if (!strcmp(low, header_names[i].label))
			return header_names[i].f;
	return F_NONE;
}

/* Valid UTF-8 without control characters; line breaks only where nl (the
 * custom columns: a note may have several lines). */
static bool text_ok(const char *s, size_t n, bool nl)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned c = p[i], len, cp;
		if (c < 0x80) {
			if ((c < 0x20 && !(nl && (c == '\n' || c == '\r'))) || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

int om_drill_mail_valid(const char *mail)
{
	size_t n = strlen(mail);
	if (n < 3 || n > 254)
		return 0;
	const char *at = strchr(mail, '@');
	if (!at || strchr(at + 1, '@') || at == mail || at - mail > 64)
		return 0;
	const char *dom = at + 1;
	if (!*dom || !strchr(dom, '.') || *dom == '.' || mail[n - 1] == '.' || strstr(dom, ".."))
		return 0;
	for (const char *p = mail; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]", c))
			return 0;
		if (p > at && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	if (mail[0] == '.' || at[-1] == '.' || strstr(mail, ".."))
		return 0;
	return 1;
}

void om_drill_targets_free(om_drill_targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->t);
	om_buf_free(&t->strings);
	memset(t, 0, sizeof(*t));
}

static char *own(om_drill_targets *t, const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = 0;
	t->owned[t->nowned++] = d;
	return d;
}

static int cmp_mail(const void *a, const void *b)
{
	const om_store_drill_target *x = *(const om_store_drill_target *const *)a;
	const om_store_drill_target *y = *(const om_store_drill_target *const *)b;
	return strcmp(x->mail, y->mail);
}

int om_drill_targets_from_sheet(const char *name, const om_drill_sheet *s, om_drill_targets *ret,
                                enum om_lang lang, char *err, size_t errlen)
{
	om_drill_targets t = {0};
	int map[OM_DRILL_MAX_COLS];
	int r = -EINVAL;

	if (s->nrows == 0) {
		fail_at(err, errlen, lang, name, 1, "drill.err.empty");
		return -EINVAL;
	}
	const struct om_drill_srow *h = &s->row[0];
	bool seen[F_COUNT] = {0};
	for (unsigned c = 0; c < h->ncells && c < OM_DRILL_MAX_COLS; c++) {
		const char *label = h->cell[c] ? h->cell[c] : "";
		map[c] = header_field(label);
		if (map[c] != F_NONE) {
			if (seen[map[c]]) {
				fail_at(err, errlen, lang, name, h->line, "drill.err.dup_column",
				        label);
				return -EINVAL;
			}
			seen[map[c]] = true;
		} else if (!*label) {
			map[c] = -2; /* unnamed column: must stay empty */
		} else if (!text_ok(label, strlen(label), false)) {
			fail_at(err, errlen, lang, name, h->line, "drill.err.bad_text", c + 1u);
			return -EINVAL;
		}
	}
	if (!seen[F_MAIL]) {
		fail_at(err, errlen, lang, name, h->line, "drill.err.no_mail_column");
		return -EINVAL;
	}
	size_t n = s->nrows - 1;
	t.t = calloc(n ? n : 1, sizeof(*t.t));
	t.owned = calloc((n ? n : 1) * (F_COUNT + 1), sizeof(*t.owned));
	if (!t.t || !t.owned) {
		fail_at(err, errlen, lang, name, 0, "drill.err.nomem");
		r = -ENOMEM;
		goto fail;
	}
	om_buf custom;
	om_buf_init(&custom, OM_DRILL_MAX_COLS * (OM_DRILL_MAX_FIELD * 6 + 8));
	for (size_t i = 1; i < s->nrows; i++) {
		const struct om_drill_srow *row = &s->row[i];
		om_store_drill_target *o = &t.t[t.n];
		const char *v[F_COUNT] = {0};
		size_t vn[F_COUNT] = {0};
		om_json j;
		bool any_custom = false;
		if (row->ncells > h->ncells) {
			for (unsigned c = h->ncells; c < row->ncells; c++)
				if (row->cell[c] && *row->cell[c]) {
					fail_at(err, errlen, lang, name, row->line,
					        "drill.err.extra_cell", c + 1u);
					goto fail_custom;
				}
		}
		om_buf_reset(&custom);
		om_json_init(&j, &custom);
		om_json_obj_open(&j, NULL);
		for (unsigned c = 0; c < row->ncells && c < h->ncells; c++) {
			const char *cell = row->cell[c] ? row->cell[c] : "", *tv;
			size_t tn;
			trim(cell, &tv, &tn);
			if (!text_ok(tv, tn, map[c] == F_NONE)) {
				fail_at(err, errlen, lang, name, row->line, "drill.err.bad_text",
				        c + 1u);
				goto fail_custom;
			}
			if (map[c] >= 0) {
				v[map[c]] = tv;
				vn[map[c]] = tn;
			} else if (map[c] == -2) {
				if (tn) {
					fail_at(err, errlen, lang, name, row->line,
					        "drill.err.extra_cell", c + 1u);
					goto fail_custom;
				}
			} else if (tn) {
				om_json_strn(&j, h->cell[c], tv, tn);
				any_custom = true;
			}
		}
		om_json_obj_close(&j);
		if (!v[F_MAIL] || !vn[F_MAIL]) {
			fail_at(err, errlen, lang, name, row->line, "drill.err.no_mail");
			goto fail_custom;
		}
		char *mail = own(&t, v[F_MAIL], vn[F_MAIL]);
		if (!mail)
			goto nomem;
		/* stored lower-case: mail systems match addresses without case, so
		 * Taro@ and taro@ are one person */
		for (char *p = mail; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
		if (!om_drill_mail_valid(mail)) {
			fail_at(err, errlen, lang, name, row->line, "drill.err.bad_mail", mail);
			goto fail_custom;
		}
		o->mail = mail;
		const char **dst[F_COUNT] = {NULL,           &o->name, &o->organisation,
		                             &o->department, &o->role, &o->group};
		for (int f = F_NAME; f < F_COUNT; f++) {
			if (!(*dst[f] = own(&t, v[f] ? v[f] : "", vn[f])))
				goto nomem;
		}
		if (!(o->custom_json = own(&t, any_custom ? om_buf_cstr(&custom) : "{}",
		                           any_custom ? custom.len : 2)))
			goto nomem;
		t.n++;
	}
	om_buf_free(&custom);
	/* the same address twice: name both lines */
	if (t.n > 1) {
		const om_store_drill_target **idx = calloc(t.n, sizeof(*idx));
		if (!idx) {
			fail_at(err, errlen, lang, name, 0, "drill.err.nomem");
			r = -ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < t.n; i++)
			idx[i] = &t.t[i];
		qsort(idx, t.n, sizeof(*idx), cmp_mail);
		for (size_t i = 1; i < t.n; i++) {
			if (!strcmp(idx[i]->mail, idx[i - 1]->mail)) {
				size_t a = (size_t)(idx[i - 1] - t.t), b = (size_t)(idx[i] - t.t);
				if (a > b) {
					size_t x = a;
					a = b;
					b = x;
				}
				fail_at(err, errlen, lang, name, s->row[b + 1].line,
				        "drill.err.dup_mail", idx[i]->mail, s->row[a + 1].line);
				free(idx);
				goto fail;
			}
		}
		free(idx);
	}
	*ret = t;
	return 0;
nomem:
	fail_at(err, errlen, lang, name, 0, "drill.err.nomem");
	r = -ENOMEM;
fail_custom:
	om_buf_free(&custom);
fail:
	om_drill_targets_free(&t);
	return r;
}

int om_drill_targets_load(const char *path, om_drill_targets *ret, enum om_lang lang, char *err,
                          size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, om_msg(lang, "drill.err.read"), path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > OM_DRILL_MAX_FILE) {
		close(fd);
		fail_at(err, errlen, lang, path, 0, "drill.err.file_big", OM_DRILL_MAX_FILE >> 20);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t k = read(fd, buf + got, len - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	if (got != len) {
		free(buf);
		snprintf(err, errlen, om_msg(lang, "drill.err.read"), path, "short read");
		return -EIO;
	}
	buf[len] = 0;
	om_drill_sheet sh;
	int r = len >= 4 && !memcmp(buf, "PK\x03\x04", 4)
	            ? om_drill_xlsx_parse(path, buf, len, &sh, lang, err, errlen)
	            : om_drill_csv_parse(path, buf, len, &sh, lang, err, errlen);
	free(buf);
	if (r < 0)
		return r;
	r = om_drill_targets_from_sheet(path, &sh, ret, lang, err, errlen);
	om_drill_sheet_free(&sh);
	return r;
}
