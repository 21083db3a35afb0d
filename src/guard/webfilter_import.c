/* webfilter_import.c: reading category lists in the formats operators have
 * (plain lists, hosts files, CSV "domain,category", squidGuard/UT1
 * directories) into a builder. A line that is not a rule is counted and
 * skipped: lists from the internet are data, not trusted input. */
#include "guard/guard.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WF_FILE_MAX (1024ull * 1024 * 1024) /* bytes of one list file */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims blanks and a '#' comment; returns the new length. */
static size_t trim(const char **s, size_t n)
{
	const char *h = memchr(*s, '#', n);
	if (h)
		n = (size_t)(h - *s);
	while (n && is_space(**s)) {
		(*s)++;
		n--;
	}
	while (n && is_space((*s)[n - 1]))
		n--;
	return n;
}

static bool is_ip_word(const char *s, size_t n)
{
	if (!n)
		return false;
	bool colon = false, dots = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ':')
			colon = true;
		else if (c == '.')
			dots = true;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		           (c >= 'A' && c <= 'F')))
			return false;
	}
	if (colon)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return dots;
}

/* Names a hosts file maps to itself, not rules. */
static bool hosts_skip(const char *s, size_t n)
{
	static const char *const names[] = {
	    "localhost",     "localhost.localdomain", "local",        "broadcasthost",
	    "ip6-localhost", "ip6-loopback",          "ip6-localnet", "ip6-mcastprefix",
	    "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts", "0.0.0.0"};
	for (size_t i = 0; i < OM_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !strncmp(names[i], s, n))
			return true;
	return false;
}

/* The file of a category directory being read ("gambling/domains"), for
 * count(); "" for a single file. */
static _Thread_local char cur_file[64];

static void count(om_wf_import_stats *st, int r, uint64_t line)
{
	if (r == 0) {
		st->added++;
	} else if (r == -EINVAL) {
		st->rejected++;
	} else if (r == -EILSEQ) {
		st->rejected++;
		if (st->nproblems < OM_WF_IMPORT_PROBLEMS) {
			st->problem[st->nproblems].line = line;
			st->problem[st->nproblems].why = "webfilter.why.idn";
			snprintf(st->problem[st->nproblems].file, sizeof(st->problem[0].file), "%s",
			         cur_file);
		}
		st->nproblems++;
	}
}

/* A CSV field (with "..." quoting); advances *p past the comma. */
static size_t csv_field(const char **p, const char *end, char *out, size_t outsz)
{
	const char *s = *p;
	size_t o = 0;
	bool q = s < end && *s == '"';
	if (q)
		s++;
	while (s < end) {
		char c = *s;
		if (q && c == '"') {
			if (s + 1 < end && s[1] == '"') {
				s += 2;
				if (o + 1 < outsz)
					out[o++] = '"';
				continue;
			}
			q = false;
			s++;
			continue;
		}
		if (!q && c == ',')
			break;
		if (o + 1 < outsz)
			out[o++] = c;
		s++;
	}
	if (s < end)
		s++; /* the comma */
	*p = s;
	out[o] = '\0';
	/* trim blanks */
	size_t a = 0;
	while (a < o && is_space(out[a]))
		a++;
	while (o > a && is_space(out[o - 1]))
		o--;
	memmove(out, out + a, o - a);
	out[o - a] = '\0';
	return o - a;
}

/* A category name as written in lists ("Online Storage") made a database
 * name ("online_storage"); returns false for an empty or unusable one. */
static bool cat_name(const char *in, char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = in; *p && o + 1 < outsz; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == ' ' || c == '/' || c == '.')
			c = '_';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

static enum om_wf_format sniff(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	for (int lines = 0; p < end && lines < 50; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *s = p;
		n = trim(&s, n);
		p = nl ? nl + 1 : end;
		if (!n)
			continue;
		if (memchr(s, ',', n))
			return OM_WF_FMT_CSV;
		const char *sp = s;
		while (sp < s + n && !is_space(*sp))
			sp++;
		if (sp < s + n && is_ip_word(s, (size_t)(sp - s)))
			return OM_WF_FMT_HOSTS;
		return OM_WF_FMT_PLAIN;
	}
	return OM_WF_FMT_PLAIN;
}

int om_wf_import_buf(om_wf_builder *b, enum om_wf_format fmt, const char *text, size_t len,
                     const char *category, om_wf_import_stats *st)
{
	if (fmt == OM_WF_FMT_AUTO)
		fmt = sniff(text, len);
	if (fmt == OM_WF_FMT_SQUIDGUARD)
		return -EINVAL;
	const char *p = text, *end = text + len;
	bool first = true;
	uint64_t lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *s = p;
		p = nl ? nl + 1 : end;
		lineno++;
		n = trim(&s, n);
		if (!n)
			continue;
		st->lines++;
		int r = 0;
		if (fmt == OM_WF_FMT_PLAIN) {
			r = om_wf_builder_add(b, s, n, category);
		} else if (fmt == OM_WF_FMT_HOSTS) {
			const char *e = s + n, *w = s;
			while (w < e && !is_space(*w))
				w++;
			if (!is_ip_word(s, (size_t)(w - s))) {
				st->rejected++;
				continue;
			}
			while (w < e) {
				while (w < e && is_space(*w))
					w++;
				const char *ws = w;
				while (w < e && !is_space(*w))
					w++;
				if (w > ws && !hosts_skip(ws, (size_t)(w - ws))) {
					r = om_wf_builder_add(b, ws, (size_t)(w - ws), category);
					count(st, r, lineno);
					if (r == -ENOSPC || r == -ENOMEM)
						return r;
				}
			}
			continue;
		} else {
			char dom[OM_WF_KEY_MAX], cat[128], name[OM_WF_CAT_NAME_MAX];
			const char *q = s;
			csv_field(&q, s + n, dom, sizeof(dom));
			size_t cl = csv_field(&q, s + n, cat, sizeof(cat));
			bool header = first && (!strcmp(dom, "domain") || !strcmp(dom, "host") ||
			                        !strcmp(dom, "url") || !strcmp(dom, "Domain"));
			first = false;
			if (header) {
				st->lines--;
				continue;
			}
			if (!cl)
				r = om_wf_builder_add(b, dom, strlen(dom), category);
			else if (!cat_name(cat, name, sizeof(name)))
				r = -EINVAL;
			else
				r = om_wf_builder_add(b, dom, strlen(dom), name);
		}
		first = false;
		count(st, r, lineno);
		if (r == -ENOSPC || r == -ENOMEM)
			return r;
	}
	return 0;
}

static int read_all(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	int e = buf ? 0 : -ENOMEM;
	while (!e) {
		if (n == cap) {
			if (cap >= WF_FILE_MAX) {
				e = -EFBIG;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				e = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) {
			if (ferror(f))
				e = -EIO;
			break;
		}
	}
	fclose(f);
	if (e) {
		free(buf);
		return e;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

static int import_file(om_wf_builder *b, const char *path, enum om_wf_format fmt,
                       const char *category, om_wf_import_stats *st)
{
	char *text = NULL;
	size_t len = 0;
	int e = read_all(path, &text, &len);
	if (e < 0)
		return e;
	e = om_wf_import_buf(b, fmt, text, len, category, st);
	free(text);
	return e;
}

/* squidGuard and UT1 (Toulouse) lists: one directory per category holding
 * "domains" and "urls" files of one rule a line. */
static int import_dir(om_wf_builder *b, const char *path, om_wf_import_stats *st)
{
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int e = 0, found = 0;
	struct dirent *de;
	while (!e && (de = readdir(d))) {
		char name[OM_WF_CAT_NAME_MAX];
		if (de->d_name[0] == '.' || !cat_name(de->d_name, name, sizeof(name)))
			continue;
		static const char *const files[] = {"domains", "urls"};
		for (size_t i = 0; i < 2 && !e; i++) {
			char f[4096];
			int n = snprintf(f, sizeof(f), "%s/%s/%s", path, de->d_name, files[i]);
			struct stat sb;
			if (n < 0 || (size_t)n >= sizeof(f) || stat(f, &sb) != 0 ||
			    !S_ISREG(sb.st_mode))
				continue;
			found++;
			snprintf(cur_file, sizeof(cur_file), "%.40s/%s", de->d_name, files[i]);
			e = import_file(b, f, OM_WF_FMT_PLAIN, name, st);
			cur_file[0] = '\0';
		}
	}
	closedir(d);
	if (!e && !found)
		return -ENOENT;
	return e;
}

int om_wf_import_path(om_wf_builder *b, const char *path, enum om_wf_format fmt,
                      const char *category, om_wf_import_stats *st)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return -errno;
	if (S_ISDIR(sb.st_mode)) {
		if (fmt != OM_WF_FMT_AUTO && fmt != OM_WF_FMT_SQUIDGUARD)
			return -EISDIR;
		return import_dir(b, path, st);
	}
	if (fmt == OM_WF_FMT_SQUIDGUARD)
		return -ENOTDIR;
	return import_file(b, path, fmt, category, st);
}
