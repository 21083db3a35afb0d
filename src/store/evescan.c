/* evescan.c: the few fields the store reads from an EVE alert or anomaly
 * line, found by a small scanner instead of a full parse (jansson builds a
 * tree of the whole line, a dozen allocations and a hash table per object,
 * for ten fields).
 *
 * The scanner is strict and answers only when it is sure: the line is one
 * JSON object that jansson (with JSON_REJECT_DUPLICATES) takes as well, and
 * the fields are the values jansson would give. Whatever it does not judge
 * itself sends the line to the full parser: an error of any kind, a byte
 * outside ASCII, an escape in a key, a \u escape of NUL or of a surrogate,
 * a number with an exponent or of more than 18 characters, an object of
 * more than SCAN_KEYS_MAX keys, nesting deeper than SCAN_DEPTH_MAX. Every
 * object's keys are checked for duplicates (raw bytes: a key has no escape
 * here). Strings that are captured are unescaped into the caller's scratch
 * (at most len + 16 bytes: unescaping never lengthens a string). */
#include "store/internal.h"

#include <jansson.h>
#include <string.h>

#define SCAN_DEPTH_MAX 16
#define SCAN_KEYS_MAX 48

enum ctx { CTX_NONE, CTX_TOP, CTX_OM, CTX_ALERT, CTX_ANOMALY };

struct scan {
	const char *p, *end;
	char *out;
	store_eve_fields *f;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string at s->p ('"'); captured (unescaped, NUL-terminated) into the
 * scratch when ret is set. */
static bool scan_string(struct scan *s, const char **ret)
{
	char *w = s->out;

	s->p++; /* the quote */
	for (;;) {
		if (s->p >= s->end)
			return false;
		unsigned char c = (unsigned char)*s->p++;
		if (c == '"')
			break;
		if (c < 0x20 || c >= 0x80)
			return false;
		if (c != '\\') {
			if (ret)
				*w++ = (char)c;
			continue;
		}
		if (s->p >= s->end)
			return false;
		c = (unsigned char)*s->p++;
		char o;
		switch (c) {
		case '"': o = '"'; break;
		case '\\': o = '\\'; break;
		case '/': o = '/'; break;
		case 'b': o = '\b'; break;
		case 'f': o = '\f'; break;
		case 'n': o = '\n'; break;
		case 'r': o = '\r'; break;
		case 't': o = '\t'; break;
		case 'u': {
			if (s->end - s->p < 4)
				return false;
			unsigned v = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(s->p[i]);
				if (h < 0)
					return false;
				v = v << 4 | (unsigned)h;
			}
			s->p += 4;
			if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
				return false;
			if (ret) {
				if (v < 0x80) {
					*w++ = (char)v;
				} else if (v < 0x800) {
					*w++ = (char)(0xc0 | v >> 6);
					*w++ = (char)(0x80 | (v & 0x3f));
				} else {
					*w++ = (char)(0xe0 | v >> 12);
					*w++ = (char)(0x80 | ((v >> 6) & 0x3f));
					*w++ = (char)(0x80 | (v & 0x3f));
				}
			}
			continue;
		}
		default: return false;
		}
		if (ret)
			*w++ = o;
	}
	if (ret) {
		*w++ = '\0';
		*ret = s->out;
		s->out = w;
	}
	return true;
}

/* A number; *is_int and *ret when it is an integer (no fraction). */
static bool scan_number(struct scan *s, bool *is_int, int64_t *ret)
{
	const char *b = s->p;
	bool neg = false, frac = false;
	int64_t v = 0;

	if (s->p < s->end && *s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return false;
	if (*s->p == '0') {
		s->p++;
	} else {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			v = v * 10 + (*s->p++ - '0');
	}
	if (s->p < s->end && *s->p == '.') {
		frac = true;
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return false;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
		return false;
	/* at most 18 characters: no overflow, no precision question */
	if (s->p - b > 18)
		return false;
	*is_int = !frac;
	*ret = neg ? -v : v;
	return true;
}

static bool scan_lit(struct scan *s, const char *lit, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

/* What a key of an object of context c captures. */
enum slot {
	SL_NONE,
	SL_STR,   /* into *str */
	SL_INT,   /* into *num, *has */
	SL_OBJECT /* an object of context child, flag *has */
};
struct target {
	enum slot kind;
	const char **str;
	int64_t *num;
	bool *has;
	enum ctx child;
};

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(k, want, n);
}

static struct target target_of(store_eve_fields *f, enum ctx c, const char *k, size_t n)
{
	struct target t = {.kind = SL_NONE};
#define STR(name, field)                                                                           \
	if (key_is(k, n, name)) {                                                                  \
		t.kind = SL_STR;                                                                   \
		t.str = &f->field;                                                                 \
		return t;                                                                          \
	}
#define INT(name, field, flag)                                                                     \
	if (key_is(k, n, name)) {                                                                  \
		t.kind = SL_INT;                                                                   \
		t.num = &f->field;                                                                 \
		t.has = &f->flag;                                                                  \
		return t;                                                                          \
	}
#define OBJ(name, flag, ctx)                                                                       \
	if (key_is(k, n, name)) {                                                                  \
		t.kind = SL_OBJECT;                                                                \
		t.has = &f->flag;                                                                  \
		t.child = ctx;                                                                     \
		return t;                                                                          \
	}
	switch (c) {
	case CTX_TOP:
		STR("event_type", event_type)
		STR("timestamp", timestamp)
		STR("src_ip", src_ip)
		STR("dest_ip", dest_ip)
		STR("proto", proto)
		INT("src_port", src_port, has_src_port)
		INT("dest_port", dest_port, has_dest_port)
		OBJ("omamori", om_obj, CTX_OM)
		OBJ("alert", alert_obj, CTX_ALERT)
		OBJ("anomaly", anomaly_obj, CTX_ANOMALY)
		break;
	case CTX_OM:
		STR("tenant", tenant)
		STR("gateway", gateway)
		STR("category", category)
		STR("action", action)
		INT("severity", severity, has_severity)
		break;
	case CTX_ALERT:
		STR("signature", signature)
		INT("signature_id", signature_id, has_signature_id)
		break;
	case CTX_ANOMALY: STR("event", anomaly_event) break;
	case CTX_NONE: break;
	}
#undef STR
#undef INT
#undef OBJ
	return t;
}

static bool scan_value(struct scan *s, unsigned depth, const struct target *t);

static bool scan_object(struct scan *s, unsigned depth, enum ctx c)
{
	struct {
		const char *k;
		size_t n;
	} keys[SCAN_KEYS_MAX];
	size_t nk = 0;

	if (depth >= SCAN_DEPTH_MAX)
		return false;
	s->p++; /* { */
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		if (s->p >= s->end || *s->p != '"')
			return false;
		const char *k = s->p + 1;
		if (!scan_string(s, NULL))
			return false;
		size_t n = (size_t)(s->p - 1 - k);
		if (memchr(k, '\\', n))
			return false; /* compared as jansson would: not here */
		for (size_t i = 0; i < nk; i++)
			if (keys[i].n == n && !memcmp(keys[i].k, k, n))
				return false; /* a duplicate: jansson refuses the line */
		if (nk == SCAN_KEYS_MAX)
			return false;
		keys[nk].k = k;
		keys[nk].n = n;
		nk++;
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			return false;
		s->p++;
		skip_ws(s);
		struct target t = target_of(s->f, c, k, n);
		if (!scan_value(s, depth + 1, &t))
			return false;
		skip_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == '}') {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		skip_ws(s);
	}
}

static bool scan_array(struct scan *s, unsigned depth)
{
	static const struct target none = {.kind = SL_NONE};

	if (depth >= SCAN_DEPTH_MAX)
		return false;
	s->p++; /* [ */
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s, depth + 1, &none))
			return false;
		skip_ws(s);
		if (s->p >= s->end)
			return false;
		if (*s->p == ']') {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		s->p++;
		skip_ws(s);
	}
}

static bool scan_value(struct scan *s, unsigned depth, const struct target *t)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '{':
		if (t->kind == SL_OBJECT) {
			*t->has = true;
			return scan_object(s, depth, t->child);
		}
		return scan_object(s, depth, CTX_NONE);
	case '[': return scan_array(s, depth);
	case '"': return scan_string(s, t->kind == SL_STR ? t->str : NULL);
	case 't': return scan_lit(s, "true", 4);
	case 'f': return scan_lit(s, "false", 5);
	case 'n': return scan_lit(s, "null", 4);
	default: {
		bool is_int;
		int64_t v;
		if (!scan_number(s, &is_int, &v))
			return false;
		if (t->kind == SL_INT && is_int) {
			*t->num = v;
			*t->has = true;
		}
		return true;
	}
	}
}

bool store_eve_scan(const char *line, size_t len, char *scratch, store_eve_fields *ret)
{
	store_eve_fields f;
	struct scan s = {.p = line, .end = line + len, .out = scratch, .f = &f};

	memset(&f, 0, sizeof(f));
	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{' || !scan_object(&s, 0, CTX_TOP))
		return false;
	skip_ws(&s);
	if (s.p != s.end)
		return false;
	*ret = f;
	return true;
}

static const char *str_of(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void int_of(json_t *o, const char *key, int64_t *ret, bool *has)
{
	json_t *v = json_object_get(o, key);
	*has = json_is_integer(v);
	*ret = *has ? json_integer_value(v) : 0;
}

void store_eve_fields_of(struct json_t *ev, store_eve_fields *ret)
{
	store_eve_fields f;
	memset(&f, 0, sizeof(f));
	json_t *om = json_object_get(ev, "omamori");
	json_t *alert = json_object_get(ev, "alert");
	json_t *anomaly = json_object_get(ev, "anomaly");

	f.event_type = str_of(ev, "event_type");
	f.timestamp = str_of(ev, "timestamp");
	f.src_ip = str_of(ev, "src_ip");
	f.dest_ip = str_of(ev, "dest_ip");
	f.proto = str_of(ev, "proto");
	int_of(ev, "src_port", &f.src_port, &f.has_src_port);
	int_of(ev, "dest_port", &f.dest_port, &f.has_dest_port);
	f.om_obj = json_is_object(om);
	f.alert_obj = json_is_object(alert);
	f.anomaly_obj = json_is_object(anomaly);
	if (f.om_obj) {
		f.tenant = str_of(om, "tenant");
		f.gateway = str_of(om, "gateway");
		f.category = str_of(om, "category");
		f.action = str_of(om, "action");
		int_of(om, "severity", &f.severity, &f.has_severity);
	}
	if (f.alert_obj) {
		f.signature = str_of(alert, "signature");
		int_of(alert, "signature_id", &f.signature_id, &f.has_signature_id);
	}
	if (f.anomaly_obj)
		f.anomaly_event = str_of(anomaly, "event");
	*ret = f;
}
