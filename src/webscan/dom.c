/* dom.c: static analysis of inline scripts. DOM XSS: a value read from the
 * URL flows, through plain assignments, into a sink that parses HTML or
 * runs code. The reading is lexical (statements split on ';', newlines and
 * braces outside strings; assignments propagate taint to their left-hand
 * name), which finds the common page-script patterns and is wrong on
 * aliasing through objects or functions: its findings carry medium
 * confidence. Also: obfuscated script, for the tamper monitor. */
#include "webscan/internal.h"

#include <ctype.h>
#include <string.h>

#define MAX_TAINT 64
#define MAX_STMT 8192

static const char *const sources[] = {
    "location.search",
    "location.hash",
    "location.href",
    "document.URL",
    "documentURI",
    "document.baseURI",
    "document.referrer",
    "window.name",
    "location.pathname",
    "URLSearchParams(location",
    "URLSearchParams(window.location",
    "URLSearchParams(document.location",
};
static const char *const sanitizers[] = {
    "encodeURIComponent(", "encodeURI(",    "escape(",     "DOMPurify.sanitize(",
    "parseInt(",           "parseFloat(",   "Number(",     "escapeHtml(",
    "escapeHTML(",         ".replace(/[<>", "textContent",
};
static const char *const call_sinks[] = {
    "document.write(",
    "document.writeln(",
    ".insertAdjacentHTML(",
    "eval(",
    "setTimeout(",
    "setInterval(",
    "Function(",
    ".html(",
    "execScript(",
};
static const char *const prop_sinks[] = {".innerHTML",    ".outerHTML", "location",
                                         "location.href", ".src",       ".srcdoc"};

struct taint {
	char name[MAX_TAINT][64];
	size_t n;
};

static bool word_at(const char *s, size_t len, const char *w, size_t wl, size_t i)
{
	if (i + wl > len || memcmp(s + i, w, wl))
		return false;
	bool lb = i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' ||
	                      s[i - 1] == '$' || s[i - 1] == '.');
	bool rb = i + wl == len ||
	          !(isalnum((unsigned char)s[i + wl]) || s[i + wl] == '_' || s[i + wl] == '$');
	return lb && rb;
}

static bool has_word(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);
	for (size_t i = 0; i + wl <= len; i++)
		if (word_at(s, len, w, wl, i))
			return true;
	return false;
}

static bool contains(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w);
	if (wl > len)
		return false;
	for (size_t i = 0; i + wl <= len; i++)
		if (!memcmp(s + i, w, wl))
			return true;
	return false;
}

static bool tainted(const struct taint *t, const char *e, size_t len)
{
	for (size_t i = 0; i < OM_ARRAY_SIZE(sanitizers); i++)
		if (contains(e, len, sanitizers[i]))
			return false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(sources); i++)
		if (contains(e, len, sources[i]))
			return true;
	for (size_t i = 0; i < t->n; i++)
		if (has_word(e, len, t->name[i]))
			return true;
	return false;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* the position of a plain assignment '=' (not ==, !=, <=, >=, =>), or -1 */
static long assign_pos(const char *s, size_t len)
{
	char q = 0;
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (q) {
			if (c == '\\')
				i++;
			else if (c == q)
				q = 0;
			continue;
		}
		if (c == '"' || c == '\'' || c == '`') {
			q = c;
			continue;
		}
		if (c == '(' || c == '[')
			depth++;
		if (c == ')' || c == ']')
			depth--;
		if (c != '=' || depth)
			continue;
		char p = i ? s[i - 1] : 0, n = i + 1 < len ? s[i + 1] : 0;
		if (n == '=' || n == '>' || p == '!' || p == '<' || p == '>' || p == '=')
			continue;
		return (long)i;
	}
	return -1;
}

static bool stmt(struct taint *t, const char *s, size_t len)
{
	trim(&s, &len);
	static const char *const decl[] = {"var ", "let ", "const "};
	for (size_t i = 0; i < OM_ARRAY_SIZE(decl); i++) {
		size_t dl = strlen(decl[i]);
		if (len > dl && !memcmp(s, decl[i], dl)) {
			s += dl;
			len -= dl;
			break;
		}
	}
	long eq = assign_pos(s, len);
	/* call sinks anywhere in the statement */
	for (size_t i = 0; i < OM_ARRAY_SIZE(call_sinks); i++) {
		const char *k = call_sinks[i];
		size_t kl = strlen(k);
		for (size_t j = 0; j + kl <= len; j++) {
			if (memcmp(s + j, k, kl))
				continue;
			if (k[0] != '.' && j > 0 &&
			    (isalnum((unsigned char)s[j - 1]) || s[j - 1] == '_'))
				continue;
			if (tainted(t, s + j + kl, len - j - kl))
				return true;
		}
	}
	if (eq < 0)
		return false;
	const char *lhs = s, *rhs = s + eq + 1;
	size_t ll = (size_t)eq, rl = len - (size_t)eq - 1;
	if (ll && (lhs[ll - 1] == '+' || lhs[ll - 1] == '-' || lhs[ll - 1] == '*' ||
	           lhs[ll - 1] == '|' || lhs[ll - 1] == '&'))
		ll--; /* +=, -=, ... */
	trim(&lhs, &ll);
	trim(&rhs, &rl);
	if (!tainted(t, rhs, rl))
		return false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(prop_sinks); i++) {
		size_t pl = strlen(prop_sinks[i]);
		if (ll >= pl && !memcmp(lhs + ll - pl, prop_sinks[i], pl) &&
		    (prop_sinks[i][0] == '.' || ll == pl || lhs[ll - pl - 1] == '.'))
			return true;
	}
	/* a plain name: it carries the taint on */
	bool ident = ll > 0 && ll < 64;
	for (size_t i = 0; i < ll && ident; i++)
		ident = isalnum((unsigned char)lhs[i]) || lhs[i] == '_' || lhs[i] == '$';
	if (ident && t->n < MAX_TAINT && !has_word(lhs, ll, "textContent")) {
		memcpy(t->name[t->n], lhs, ll);
		t->name[t->n][ll] = '\0';
		t->n++;
	}
	return false;
}

bool ws_dom_xss(ws_arena *a, const char *script, size_t len, const char **ret_line)
{
	struct taint t = {.n = 0};
	size_t start = 0;
	char q = 0;
	bool incomment = false, linecomment = false;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? script[i] : ';';
		if (linecomment) {
			if (c == '\n') {
				linecomment = false;
				start = i + 1;
			}
			continue;
		}
		if (incomment) {
			if (c == '*' && i + 1 < len && script[i + 1] == '/') {
				incomment = false;
				i++;
				start = i + 1;
			}
			continue;
		}
		if (q) {
			if (c == '\\')
				i++;
			else if (c == q)
				q = 0;
			if (i < len)
				continue;
		}
		if (c == '"' || c == '\'' || c == '`') {
			q = c;
			continue;
		}
		if (c == '/' && i + 1 < len && script[i + 1] == '/') {
			if (i > start && stmt(&t, script + start, i - start))
				goto hit_prev;
			linecomment = true;
			continue;
		}
		if (c == '/' && i + 1 < len && script[i + 1] == '*') {
			incomment = true;
			continue;
		}
		if (c != ';' && c != '\n' && c != '{' && c != '}')
			continue;
		if (i - start > MAX_STMT) {
			start = i + 1;
			continue;
		}
		if (i > start && stmt(&t, script + start, i - start)) {
			if (ret_line) {
				const char *p = script + start;
				size_t l = i - start;
				trim(&p, &l);
				*ret_line = ws_strndup(a, p, l > 300 ? 300 : l);
			}
			return true;
		}
		start = i + 1;
		continue;
	hit_prev:
		if (ret_line) {
			const char *p = script + start;
			size_t l = i - start;
			trim(&p, &l);
			*ret_line = ws_strndup(a, p, l > 300 ? 300 : l);
		}
		return true;
	}
	return false;
}

bool ws_script_obfuscated(const char *s, size_t len)
{
	static const char *const dec[] = {"eval(",        "unescape(", "atob(",
	                                  "fromCharCode", "Function(", "document.write("};
	bool decoder = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(dec); i++)
		if (contains(s, len, dec[i]))
			decoder = true;
	size_t run = 0, best = 0, esc = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '+' || c == '/' || c == '=')
			run++;
		else
			run = 0;
		if (run > best)
			best = run;
		if ((c == '\\' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'u')) ||
		    (c == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
		     isxdigit((unsigned char)s[i + 2])))
			esc++;
	}
	if (best >= 400)
		return true;
	return decoder && (best >= 80 || esc >= 20);
}
