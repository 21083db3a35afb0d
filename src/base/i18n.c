/* i18n.c: message catalogues. The .po files of each language are embedded
 * at build time (scripts/embed-catalogues.py) and parsed once into a sorted
 * table; lookups take the language as an argument, so one process answers
 * in any language without touching the locale. */
#include "base/base.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char *const om_i18n_embedded[];
extern const size_t om_i18n_embedded_len[];

struct entry {
	char *key;
	char *val;
};

struct catalogue {
	struct entry *e;
	size_t n, cap;
};

static struct catalogue cats[OM_LANG_COUNT];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_result;

/* ---- .po parsing -------------------------------------------------------- */

/* Parses one "..." string at *pp (after optional spaces), appending the
 * unescaped bytes to out. Returns 0, or -EINVAL. */
static int po_string(const char **pp, const char *end, om_buf *out)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '"')
		return -EINVAL;
	p++;
	while (p < end && *p != '"') {
		char c = *p++;
		if (c == '\n')
			return -EINVAL;
		if (c == '\\') {
			if (p >= end)
				return -EINVAL;
			char e = *p++;
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			default: return -EINVAL;
			}
		}
		if (om_buf_putc(out, c) < 0)
			return -ENOBUFS;
	}
	if (p >= end)
		return -EINVAL;
	p++;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p < end && *p != '\n')
		return -EINVAL;
	*pp = p;
	return 0;
}

int om_po_parse(const char *text, size_t len, om_po_cb cb, void *user, int *ret_line)
{
	const char *p = text, *end = text + len;
	int line = 1;
	om_buf id, str;
	om_buf *cur = NULL;
	int state = 0; /* 0 none, 1 in msgid, 2 in msgstr */
	int r = 0;
	om_buf_init(&id, 64 * 1024);
	om_buf_init(&str, 64 * 1024);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *lend = eol ? eol : end;
		const char *s = p;
		while (s < lend && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s == lend || *s == '#') {
			/* blank line or comment ends nothing by itself */
		} else if ((size_t)(lend - s) >= 6 && !strncmp(s, "msgid ", 6)) {
			if (state == 2) {
				cb(user, om_buf_cstr(&id), om_buf_cstr(&str));
			} else if (state == 1) {
				r = -EINVAL;
				goto out;
			}
			om_buf_reset(&id);
			om_buf_reset(&str);
			cur = &id;
			state = 1;
			s += 6;
			if ((r = po_string(&s, lend, cur)) < 0)
				goto out;
		} else if ((size_t)(lend - s) >= 7 && !strncmp(s, "msgstr ", 7)) {
			if (state != 1) {
				r = -EINVAL;
				goto out;
			}
			cur = &str;
			state = 2;
			s += 7;
			if ((r = po_string(&s, lend, cur)) < 0)
				goto out;
		} else if (*s == '"' && cur) {
			if ((r = po_string(&s, lend, cur)) < 0)
				goto out;
		} else {
			r = -EINVAL;
			goto out;
		}
		p = eol ? eol + 1 : end;
		line++;
	}
	if (state == 2)
		cb(user, om_buf_cstr(&id), om_buf_cstr(&str));
	else if (state == 1)
		r = -EINVAL;
out:
	if (r < 0 && ret_line)
		*ret_line = line;
	om_buf_free(&id);
	om_buf_free(&str);
	return r;
}

static void cat_add(void *user, const char *k, const char *v)
{
	struct catalogue *c = user;
	if (!*k || !*v) /* the header entry, or an untranslated one */
		return;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct entry *ne = realloc(c->e, ncap * sizeof(*ne));
		if (!ne)
			return;
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n].key = strdup(k);
	c->e[c->n].val = strdup(v);
	if (c->e[c->n].key && c->e[c->n].val)
		c->n++;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static void i18n_load(void)
{
	for (int l = 0; l < OM_LANG_COUNT; l++) {
		int line = 0;
		int r = om_po_parse(om_i18n_embedded[l], om_i18n_embedded_len[l], cat_add, &cats[l],
		                    &line);
		if (r < 0) {
			/* not om_err: it would look the level name up in the
			 * catalogue being loaded (pthread_once from inside
			 * its own routine); both languages, as neither can
			 * be trusted */
			fprintf(stderr,
			        "omamori: message catalogue %s is damaged near line %d; rebuild "
			        "omamori "
			        "/ メッセージカタログ %s の %d 行目付近が壊れています。omamori "
			        "を作り直してください\n",
			        om_lang_name((enum om_lang)l), line, om_lang_name((enum om_lang)l),
			        line);
			init_result = r;
		}
		qsort(cats[l].e, cats[l].n, sizeof(struct entry), entry_cmp);
	}
}

int om_i18n_init(void)
{
	pthread_once(&once, i18n_load);
	return init_result;
}

static const char *cat_find(const struct catalogue *c, const char *key)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(key, c->e[mid].key);
		if (d == 0)
			return c->e[mid].val;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *om_msg(enum om_lang lang, const char *key)
{
	om_i18n_init();
	if ((unsigned)lang >= OM_LANG_COUNT)
		lang = OM_LANG_JA;
	const char *v = cat_find(&cats[lang], key);
	if (!v && lang != OM_LANG_EN)
		v = cat_find(&cats[OM_LANG_EN], key);
	return v ? v : key;
}

int om_lang_parse(const char *s, enum om_lang *ret)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "ja") || !strncmp(s, "ja_", 3) || !strncmp(s, "ja-", 3)) {
		*ret = OM_LANG_JA;
		return 0;
	}
	if (!strcmp(s, "en") || !strncmp(s, "en_", 3) || !strncmp(s, "en-", 3)) {
		*ret = OM_LANG_EN;
		return 0;
	}
	return -EINVAL;
}

const char *om_lang_name(enum om_lang lang)
{
	return lang == OM_LANG_EN ? "en" : "ja";
}

/* An OMAMORI_LANG that names no language of ours is a mistake worth one
 * line, once per process however often the environment is read. It is in
 * English: the language the user asked for is the one we do not know. */
static atomic_bool lang_env_warned;

static void warn_lang_env(const char *value, enum om_lang used)
{
	if (atomic_exchange(&lang_env_warned, true))
		return;
	char line[512];
	char shown[64];
	/* the value is the user's; keep it short and on one line */
	size_t n = 0;
	for (const char *p = value; *p && n + 1 < sizeof(shown); p++)
		shown[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	shown[n] = '\0';
	snprintf(line, sizeof(line), om_msg(OM_LANG_EN, "warn.lang_env"), shown,
	         om_lang_name(used));
	fprintf(stderr, "omamori: %s: %s\n", om_msg(OM_LANG_EN, "log.warning"), line);
}

enum om_lang om_lang_from_env(void)
{
	enum om_lang l = OM_LANG_JA;
	const char *own = getenv("OMAMORI_LANG");
	if (own && *own && om_lang_parse(own, &l) == 0)
		return l;
	l = OM_LANG_JA;
	const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);
		if (v && *v) {
			l = strncmp(v, "en", 2) == 0 ? OM_LANG_EN : OM_LANG_JA;
			break;
		}
	}
	if (own && *own)
		warn_lang_env(own, l);
	return l;
}

static _Thread_local enum om_lang thread_lang = OM_LANG_JA;

void om_lang_set_thread(enum om_lang lang)
{
	if ((unsigned)lang < OM_LANG_COUNT)
		thread_lang = lang;
}

enum om_lang om_lang_thread(void)
{
	return thread_lang;
}

const char *om_tr(const char *key)
{
	return om_msg(thread_lang, key);
}
