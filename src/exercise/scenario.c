/* exercise: the scenario loader. A scenario file is one YAML document
 * (docs/exercise.md gives the format); it is hostile input, so every node is
 * checked for its kind, every number for its range, every text for its
 * length and both languages, every id for its form and uniqueness, every
 * reference (next event, flag) for its target, and the event graph for
 * loops and events that cannot be reached. An error names the file, the
 * line and the field, says what is wrong and what to do, and nothing is
 * returned. Aliases are refused (a scenario has no use for them, and they
 * would let a small file stand for a large tree). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "exercise/internal.h"

#define EX_ARENA_MAX (8u << 20)
#define EX_MAX_NODES 200000

struct ex_str {
	struct ex_str *next;
	char s[];
};

struct ld {
	yaml_document_t *doc;
	const char *name;
	char *err;
	size_t errlen;
	om_scenario *s;
	size_t arena_bytes;
	/* flags tested by a condition: where first, to name it if no card sets it */
	size_t flag_ref_line[OM_EX_MAX_FLAGS];
	char flag_ref_path[OM_EX_MAX_FLAGS][96];
	bool flag_set[OM_EX_MAX_FLAGS];
};

static void ex_fmt(char *out, size_t n, const char *fmt, va_list ap)
{
	vsnprintf(out, n, fmt, ap);
}

/* Field paths and numbers; a path cut short is still a useful message. */
static void pathf(char *out, size_t n, const char *fmt, ...) OM_PRINTF(3, 4);
static void pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* Writes "NAME:LINE: message" (the message from the catalogue, printf
 * style) and returns -EINVAL. */
static int fail_line(struct ld *l, size_t line, const char *key, ...)
{
	if (l->err && l->errlen) {
		char msg[768];
		va_list ap;
		va_start(ap, key);
		ex_fmt(msg, sizeof(msg), om_tr(key), ap);
		va_end(ap);
		if (line)
			pathf(l->err, l->errlen, "%s:%zu: %s", l->name, line, msg);
		else
			pathf(l->err, l->errlen, "%s: %s", l->name, msg);
	}
	return -EINVAL;
}

static size_t line_of(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 0;
}

static yaml_node_t *node_at(struct ld *l, int i)
{
	return yaml_document_get_node(l->doc, i);
}

static const char *arena_dup(struct ld *l, const char *s, size_t n)
{
	if (l->arena_bytes + n + 1 > EX_ARENA_MAX)
		return NULL;
	struct ex_str *e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return NULL;
	memcpy(e->s, s, n);
	e->s[n] = 0;
	e->next = l->s->arena;
	l->s->arena = e;
	l->arena_bytes += n + 1;
	return e->s;
}

/* A scalar's text, or NULL if n is not a scalar or holds a NUL byte. */
static const char *scalar(const yaml_node_t *n, size_t *ret_len)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (strlen(v) != len)
		return NULL;
	if (ret_len)
		*ret_len = len;
	return v;
}

/* Fills out[i] with the value of key known[i] of mapping n (NULL when
 * absent); refuses other keys and repeated ones. */
static int fields(struct ld *l, const yaml_node_t *n, const char *path, const char *const *known,
                  size_t nknown, yaml_node_t **out)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return fail_line(l, line_of(n), "exercise.err.not_map", path);
	for (size_t i = 0; i < nknown; i++)
		out[i] = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(l, p->key);
		const char *ks = scalar(k, NULL);
		size_t i = 0;
		for (; ks && i < nknown; i++)
			if (!strcmp(ks, known[i]))
				break;
		char sub[160];
		pathf(sub, sizeof(sub), "%s%s%.40s", path, *path ? "." : "", ks ? ks : "?");
		if (!ks || i == nknown) {
			char list[256] = "";
			for (size_t j = 0; j < nknown; j++) {
				size_t o = strlen(list);
				pathf(list + o, sizeof(list) - o, "%s%s", j ? ", " : "", known[j]);
			}
			return fail_line(l, line_of(k), "exercise.err.unknown", sub, list);
		}
		if (out[i])
			return fail_line(l, line_of(k), "exercise.err.twice", sub);
		out[i] = node_at(l, p->value);
	}
	return 0;
}

static int need(struct ld *l, const yaml_node_t *parent, const yaml_node_t *v, const char *path,
                const char *key)
{
	if (v)
		return 0;
	char sub[160];
	pathf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	return fail_line(l, line_of(parent), "exercise.err.missing", sub);
}

static int get_text(struct ld *l, const yaml_node_t *n, const char *path, struct ex_text *ret)
{
	static const char *const langs[] = {"ja", "en"};
	yaml_node_t *v[2];
	if (n && n->type == YAML_SCALAR_NODE)
		return fail_line(l, line_of(n), "exercise.err.text_langs", path);
	int r = fields(l, n, path, langs, 2, v);
	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		char sub[160];
		pathf(sub, sizeof(sub), "%s.%s", path, langs[i]);
		size_t len;
		const char *s = scalar(v[i], &len);
		if (!v[i])
			return fail_line(l, line_of(n), "exercise.err.text_langs", path);
		if (!s)
			return fail_line(l, line_of(v[i]), "exercise.err.not_text", sub);
		size_t k = 0;
		while (k < len && (s[k] == ' ' || s[k] == '\n' || s[k] == '\t'))
			k++;
		if (k == len)
			return fail_line(l, line_of(v[i]), "exercise.err.text_langs", path);
		if (len > OM_EX_MAX_TEXT) {
			char max[16];
			pathf(max, sizeof(max), "%u", OM_EX_MAX_TEXT);
			return fail_line(l, line_of(v[i]), "exercise.err.too_long", sub, max);
		}
		/* trailing newlines of block scalars are not part of the text */
		while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
			len--;
		ret->t[i == 0 ? OM_LANG_JA : OM_LANG_EN] = arena_dup(l, s, len);
		if (!ret->t[i == 0 ? OM_LANG_JA : OM_LANG_EN])
			return fail_line(l, 0, "exercise.err.nomem");
	}
	return 0;
}

static int get_u64(struct ld *l, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                   uint64_t *ret)
{
	const char *s = scalar(n, NULL);
	uint64_t v;
	bool digits = s && *s;
	for (const char *p = s; digits && *p; p++)
		digits = *p >= '0' && *p <= '9';
	if (!digits || om_parse_u64(s, min, max, &v) < 0) {
		char lo[24], hi[24], shown[40];
		pathf(lo, sizeof(lo), "%llu", (unsigned long long)min);
		pathf(hi, sizeof(hi), "%llu", (unsigned long long)max);
		if (!s)
			pathf(shown, sizeof(shown), "%s",
			      n && n->type == YAML_MAPPING_NODE    ? "{...}"
			      : n && n->type == YAML_SEQUENCE_NODE ? "[...]"
			                                           : "");
		else {
			size_t i = 0;
			for (; i < sizeof(shown) - 1 && s[i]; i++)
				shown[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
			shown[i] = 0;
		}
		return fail_line(l, line_of(n), "exercise.err.not_int", path, lo, hi, shown);
	}
	*ret = v;
	return 0;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= EX_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int get_id(struct ld *l, const yaml_node_t *n, const char *path, char *out, size_t outlen)
{
	const char *s = scalar(n, NULL);
	if (!s || !id_ok(s) || strlen(s) >= outlen) {
		char shown[40] = "";
		for (size_t i = 0; s && s[i] && i < sizeof(shown) - 1; i++) {
			shown[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
			shown[i + 1] = 0;
		}
		return fail_line(l, line_of(n), "exercise.err.id", path, shown);
	}
	pathf(out, outlen, "%s", s);
	return 0;
}

/* The flag named by n, registered if new; for a test (set == false) the
 * place is remembered to complain later if no card sets it. */
static int get_flag(struct ld *l, const yaml_node_t *n, const char *path, bool set, int *ret)
{
	char name[EX_ID_MAX];
	int r = get_id(l, n, path, name, sizeof(name));
	if (r < 0)
		return r;
	unsigned i = 0;
	for (; i < l->s->nflags; i++)
		if (!strcmp(l->s->flag[i], name))
			break;
	if (i == l->s->nflags) {
		if (l->s->nflags == OM_EX_MAX_FLAGS) {
			char max[16];
			pathf(max, sizeof(max), "%u", OM_EX_MAX_FLAGS);
			return fail_line(l, line_of(n), "exercise.err.too_many_flags", path, max);
		}
		pathf(l->s->flag[i], sizeof(l->s->flag[i]), "%s", name);
		l->s->nflags++;
	}
	if (set)
		l->flag_set[i] = true;
	else if (!l->flag_ref_line[i]) {
		l->flag_ref_line[i] = line_of(n);
		pathf(l->flag_ref_path[i], sizeof(l->flag_ref_path[i]), "%s", path);
	}
	*ret = (int)i;
	return 0;
}

static int get_cond(struct ld *l, yaml_node_t *ifn, yaml_node_t *unless, const yaml_node_t *at,
                    const char *path, struct ex_cond *ret)
{
	ret->flag = -1;
	ret->negate = false;
	if (ifn && unless)
		return fail_line(l, line_of(at), "exercise.err.cond_both", path);
	if (!ifn && !unless)
		return 0;
	char sub[160];
	pathf(sub, sizeof(sub), "%s.%s", path, ifn ? "if" : "unless");
	ret->negate = unless != NULL;
	return get_flag(l, ifn ? ifn : unless, sub, false, &ret->flag);
}

static int too_many(struct ld *l, const yaml_node_t *n, const char *path, unsigned max)
{
	char m[16];
	pathf(m, sizeof(m), "%u", max);
	return fail_line(l, line_of(n), "exercise.err.too_many", path, m);
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int get_effects(struct ld *l, const yaml_node_t *n, const char *path, om_ex_totals *ret)
{
	static const char *const keys[] = {"minutes", "damage", "spread", "reputation",
	                                   "data_lost"};
	static const uint64_t max[] = {100000, 100000000000ull, 100000, 100, 1000000000};
	yaml_node_t *v[5];
	int r = fields(l, n, path, keys, 5, v);
	if (r < 0)
		return r;
	uint64_t *out[] = {&ret->minutes, &ret->damage_yen, &ret->spread, &ret->reputation,
	                   &ret->data_lost};
	for (int i = 0; i < 5; i++) {
		*out[i] = 0;
		if (!v[i])
			continue;
		char sub[160];
		pathf(sub, sizeof(sub), "%s.%s", path, keys[i]);
		if ((r = get_u64(l, v[i], sub, 0, max[i], out[i])) < 0)
			return r;
	}
	return 0;
}

static int get_numbers(struct ld *l, const yaml_node_t *n, const char *path, uint64_t max,
                       uint8_t *out, unsigned *ret_n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_line(l, line_of(n), "exercise.err.not_list", path);
	if (seq_len(n) > EX_MAX_ADVICE)
		return too_many(l, n, path, EX_MAX_ADVICE);
	unsigned k = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		uint64_t v;
		int r = get_u64(l, node_at(l, *it), path, 1, max, &v);
		if (r < 0)
			return r;
		out[k++] = (uint8_t)v;
	}
	*ret_n = k;
	return 0;
}

static int get_card(struct ld *l, const yaml_node_t *n, const char *evpath, unsigned idx,
                    struct ex_card *c)
{
	static const char *const keys[] = {"id",   "text", "effects", "extra",
	                                   "sets", "next", "why",     "advice"};
	enum { K_ID, K_TEXT, K_EFF, K_EXTRA, K_SETS, K_NEXT, K_WHY, K_ADVICE, K_N };
	yaml_node_t *v[K_N];
	char path[128];
	pathf(path, sizeof(path), "%s.cards[%u]", evpath, idx + 1);
	int r = fields(l, n, path, keys, K_N, v);
	if (r < 0)
		return r;
	c->line = line_of(n);
	char sub[160];
	pathf(sub, sizeof(sub), "%s.id", path);
	if ((r = need(l, n, v[K_ID], path, "id")) < 0 ||
	    (r = get_id(l, v[K_ID], sub, c->id, sizeof(c->id))) < 0)
		return r;
	pathf(path, sizeof(path), "%s.cards[%s]", evpath, c->id);
	pathf(sub, sizeof(sub), "%s.text", path);
	if ((r = need(l, n, v[K_TEXT], path, "text")) < 0 ||
	    (r = get_text(l, v[K_TEXT], sub, &c->text)) < 0)
		return r;
	pathf(sub, sizeof(sub), "%s.why", path);
	if ((r = need(l, n, v[K_WHY], path, "why")) < 0 ||
	    (r = get_text(l, v[K_WHY], sub, &c->why)) < 0)
		return r;
	pathf(sub, sizeof(sub), "%s.effects", path);
	if ((r = need(l, n, v[K_EFF], path, "effects")) < 0 ||
	    (r = get_effects(l, v[K_EFF], sub, &c->eff)) < 0)
		return r;
	if (v[K_EXTRA]) {
		pathf(sub, sizeof(sub), "%s.extra", path);
		if (v[K_EXTRA]->type != YAML_SEQUENCE_NODE)
			return fail_line(l, line_of(v[K_EXTRA]), "exercise.err.not_list", sub);
		if (seq_len(v[K_EXTRA]) > EX_MAX_EXTRA)
			return too_many(l, v[K_EXTRA], sub, EX_MAX_EXTRA);
		for (yaml_node_item_t *it = v[K_EXTRA]->data.sequence.items.start;
		     it < v[K_EXTRA]->data.sequence.items.top; it++) {
			static const char *const xk[] = {"if", "unless", "effects"};
			yaml_node_t *xv[3], *xn = node_at(l, *it);
			struct ex_extra *x = &c->extra[c->nextra];
			char xp[192];
			pathf(xp, sizeof(xp), "%s[%u]", sub, c->nextra + 1);
			if ((r = fields(l, xn, xp, xk, 3, xv)) < 0 ||
			    (r = get_cond(l, xv[0], xv[1], xn, xp, &x->cond)) < 0 ||
			    (r = need(l, xn, xv[2], xp, "effects")) < 0)
				return r;
			if (x->cond.flag < 0)
				return fail_line(l, line_of(xn), "exercise.err.extra_cond", xp);
			char ep[200];
			pathf(ep, sizeof(ep), "%s.effects", xp);
			if ((r = get_effects(l, xv[2], ep, &x->eff)) < 0)
				return r;
			c->nextra++;
		}
	}
	if (v[K_SETS]) {
		pathf(sub, sizeof(sub), "%s.sets", path);
		yaml_node_t *sn = v[K_SETS];
		if (sn->type == YAML_SCALAR_NODE) {
			int f;
			if ((r = get_flag(l, sn, sub, true, &f)) < 0)
				return r;
			c->sets |= 1u << f;
		} else if (sn->type == YAML_SEQUENCE_NODE) {
			if (seq_len(sn) > OM_EX_MAX_FLAGS)
				return too_many(l, sn, sub, OM_EX_MAX_FLAGS);
			for (yaml_node_item_t *it = sn->data.sequence.items.start;
			     it < sn->data.sequence.items.top; it++) {
				int f;
				if ((r = get_flag(l, node_at(l, *it), sub, true, &f)) < 0)
					return r;
				c->sets |= 1u << f;
			}
		} else {
			return fail_line(l, line_of(sn), "exercise.err.not_list", sub);
		}
	}
	pathf(sub, sizeof(sub), "%s.next", path);
	if ((r = need(l, n, v[K_NEXT], path, "next")) < 0)
		return r;
	yaml_node_t *nn = v[K_NEXT];
	if (nn->type == YAML_SCALAR_NODE) {
		struct ex_next *x = &c->next[0];
		x->cond.flag = -1;
		x->line = line_of(nn);
		if ((r = get_id(l, nn, sub, x->target, sizeof(x->target))) < 0)
			return r;
		c->nnext = 1;
	} else if (nn->type == YAML_SEQUENCE_NODE) {
		if (seq_len(nn) == 0)
			return fail_line(l, line_of(nn), "exercise.err.next_last", sub);
		if (seq_len(nn) > EX_MAX_NEXT)
			return too_many(l, nn, sub, EX_MAX_NEXT);
		for (yaml_node_item_t *it = nn->data.sequence.items.start;
		     it < nn->data.sequence.items.top; it++) {
			static const char *const nk[] = {"if", "unless", "goto"};
			yaml_node_t *nv[3], *xn = node_at(l, *it);
			struct ex_next *x = &c->next[c->nnext];
			char xp[192], gp[200];
			pathf(xp, sizeof(xp), "%s[%u]", sub, c->nnext + 1);
			pathf(gp, sizeof(gp), "%s.goto", xp);
			if ((r = fields(l, xn, xp, nk, 3, nv)) < 0 ||
			    (r = get_cond(l, nv[0], nv[1], xn, xp, &x->cond)) < 0 ||
			    (r = need(l, xn, nv[2], xp, "goto")) < 0 ||
			    (r = get_id(l, nv[2], gp, x->target, sizeof(x->target))) < 0)
				return r;
			x->line = line_of(nv[2]);
			c->nnext++;
		}
		if (c->next[c->nnext - 1].cond.flag >= 0)
			return fail_line(l, c->next[c->nnext - 1].line, "exercise.err.next_last",
			                 sub);
	} else {
		return fail_line(l, line_of(nn), "exercise.err.next_form", sub);
	}
	if (v[K_ADVICE]) {
		static const char *const ak[] = {"questions", "chapters"};
		yaml_node_t *av[2];
		pathf(sub, sizeof(sub), "%s.advice", path);
		if ((r = fields(l, v[K_ADVICE], sub, ak, 2, av)) < 0)
			return r;
		char ap[200];
		pathf(ap, sizeof(ap), "%s.questions", sub);
		if (av[0] && (r = get_numbers(l, av[0], ap, OM_EX_QUESTIONS, c->question,
		                              &c->nquestion)) < 0)
			return r;
		pathf(ap, sizeof(ap), "%s.chapters", sub);
		if (av[1] &&
		    (r = get_numbers(l, av[1], ap, OM_EX_CHAPTERS, c->chapter, &c->nchapter)) < 0)
			return r;
	}
	return 0;
}

static int get_event(struct ld *l, const yaml_node_t *n, unsigned idx, struct ex_event *e)
{
	static const char *const keys[] = {"id", "title", "text", "cards"};
	yaml_node_t *v[4];
	char path[96], sub[160];
	pathf(path, sizeof(path), "events[%u]", idx + 1);
	int r = fields(l, n, path, keys, 4, v);
	if (r < 0)
		return r;
	e->line = line_of(n);
	pathf(sub, sizeof(sub), "%s.id", path);
	if ((r = need(l, n, v[0], path, "id")) < 0 ||
	    (r = get_id(l, v[0], sub, e->id, sizeof(e->id))) < 0)
		return r;
	if (!strcmp(e->id, "end"))
		return fail_line(l, line_of(v[0]), "exercise.err.id_end", sub);
	for (unsigned i = 0; i < idx; i++)
		if (!strcmp(l->s->ev[i].id, e->id))
			return fail_line(l, line_of(v[0]), "exercise.err.dup", sub, e->id);
	pathf(path, sizeof(path), "events[%s]", e->id);
	pathf(sub, sizeof(sub), "%s.title", path);
	if ((r = need(l, n, v[1], path, "title")) < 0 ||
	    (r = get_text(l, v[1], sub, &e->title)) < 0)
		return r;
	pathf(sub, sizeof(sub), "%s.text", path);
	if ((r = need(l, n, v[2], path, "text")) < 0 || (r = get_text(l, v[2], sub, &e->text)) < 0)
		return r;
	pathf(sub, sizeof(sub), "%s.cards", path);
	if ((r = need(l, n, v[3], path, "cards")) < 0)
		return r;
	if (v[3]->type != YAML_SEQUENCE_NODE)
		return fail_line(l, line_of(v[3]), "exercise.err.not_list", sub);
	if (seq_len(v[3]) != OM_EX_CARDS) {
		char cnt[24];
		pathf(cnt, sizeof(cnt), "%zu", seq_len(v[3]));
		return fail_line(l, line_of(v[3]), "exercise.err.cards", sub, cnt);
	}
	for (unsigned c = 0; c < OM_EX_CARDS; c++) {
		if ((r = get_card(l, node_at(l, v[3]->data.sequence.items.start[c]), path, c,
		                  &e->card[c])) < 0)
			return r;
		for (unsigned k = 0; k < c; k++) {
			if (!strcmp(e->card[k].id, e->card[c].id)) {
				char cp[200];
				pathf(cp, sizeof(cp), "%s.cards[%u].id", path, c + 1);
				return fail_line(l, e->card[c].line, "exercise.err.dup", cp,
				                 e->card[c].id);
			}
		}
	}
	return 0;
}

/* Resolves next targets; refuses loops and events that cannot be reached. */
static int check_graph(struct ld *l)
{
	om_scenario *s = l->s;
	for (unsigned e = 0; e < s->nev; e++) {
		for (unsigned c = 0; c < OM_EX_CARDS; c++) {
			struct ex_card *cd = &s->ev[e].card[c];
			for (unsigned k = 0; k < cd->nnext; k++) {
				struct ex_next *x = &cd->next[k];
				if (!strcmp(x->target, "end")) {
					x->event = EX_END;
					continue;
				}
				unsigned t = 0;
				while (t < s->nev && strcmp(s->ev[t].id, x->target))
					t++;
				if (t == s->nev) {
					char p[160];
					pathf(p, sizeof(p), "events[%s].cards[%s].next",
					      s->ev[e].id, cd->id);
					return fail_line(l, x->line, "exercise.err.no_event", p,
					                 x->target);
				}
				x->event = (int)t;
			}
		}
	}
	for (unsigned f = 0; f < s->nflags; f++)
		if (!l->flag_set[f])
			return fail_line(l, l->flag_ref_line[f], "exercise.err.flag_unknown",
			                 l->flag_ref_path[f], s->flag[f]);
	/* depth-first from the start (event 0), iteratively: 0 new, 1 on the
	 * path, 2 done */
	uint8_t colour[OM_EX_MAX_EVENTS] = {0};
	unsigned stack[OM_EX_MAX_EVENTS + 1], edge[OM_EX_MAX_EVENTS + 1];
	unsigned sp = 0;
	stack[0] = 0;
	edge[0] = 0;
	colour[0] = 1;
	sp = 1;
	while (sp > 0) {
		unsigned e = stack[sp - 1], k = edge[sp - 1]++;
		if (k >= OM_EX_CARDS * EX_MAX_NEXT) {
			colour[e] = 2;
			sp--;
			continue;
		}
		const struct ex_card *cd = &s->ev[e].card[k / EX_MAX_NEXT];
		if (k % EX_MAX_NEXT >= cd->nnext)
			continue;
		const struct ex_next *x = &cd->next[k % EX_MAX_NEXT];
		if (x->event == EX_END)
			continue;
		if (colour[x->event] == 1) {
			char p[160];
			pathf(p, sizeof(p), "events[%s].cards[%s].next", s->ev[e].id, cd->id);
			return fail_line(l, x->line, "exercise.err.loop", p, s->ev[x->event].id);
		}
		if (colour[x->event] == 0) {
			colour[x->event] = 1;
			stack[sp] = (unsigned)x->event;
			edge[sp] = 0;
			sp++;
		}
	}
	for (unsigned e = 0; e < s->nev; e++)
		if (colour[e] == 0)
			return fail_line(l, s->ev[e].line, "exercise.err.unreachable", s->ev[e].id);
	return 0;
}

/* Aliases, found by the event parser before the document is loaded. */
static int scan_aliases(struct ld *l, const char *text, size_t len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return fail_line(l, 0, "exercise.err.nomem");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int r = 0, docs = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			r = fail_line(l, p.problem_mark.line + 1, "exercise.err.yaml",
			              p.problem ? p.problem : "?");
			break;
		}
		yaml_event_type_t t = ev.type;
		size_t line = ev.start_mark.line + 1;
		bool anchored = (t == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
		                (t == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
		                (t == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor);
		yaml_event_delete(&ev);
		if (t == YAML_ALIAS_EVENT || anchored) {
			r = fail_line(l, line, "exercise.err.alias");
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			r = fail_line(l, line, "exercise.err.two_docs");
			break;
		}
		if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return r;
}

static void arena_free(void *a)
{
	struct ex_str *e = a;
	while (e) {
		struct ex_str *n = e->next;
		free(e);
		e = n;
	}
}

om_scenario *om_scenario_free(om_scenario *s)
{
	if (!s)
		return NULL;
	arena_free(s->arena);
	free(s);
	return NULL;
}

static int parse_doc(struct ld *l)
{
	yaml_node_t *root = yaml_document_get_root_node(l->doc);
	if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		return fail_line(l, 0, "exercise.err.empty");
	int count = (int)(l->doc->nodes.top - l->doc->nodes.start);
	if (count > EX_MAX_NODES)
		return fail_line(l, 0, "exercise.err.too_big");
	static const char *const keys[] = {"id", "version", "title", "summary", "events"};
	yaml_node_t *v[5];
	int r = fields(l, root, "", keys, 5, v);
	if (r < 0)
		return r;
	om_scenario *s = l->s;
	uint64_t version;
	if ((r = need(l, root, v[0], "", "id")) < 0 ||
	    (r = get_id(l, v[0], "id", s->id, sizeof(s->id))) < 0 ||
	    (r = need(l, root, v[1], "", "version")) < 0 ||
	    (r = get_u64(l, v[1], "version", 1, 1, &version)) < 0 ||
	    (r = need(l, root, v[2], "", "title")) < 0 ||
	    (r = get_text(l, v[2], "title", &s->title)) < 0 ||
	    (r = need(l, root, v[3], "", "summary")) < 0 ||
	    (r = get_text(l, v[3], "summary", &s->summary)) < 0 ||
	    (r = need(l, root, v[4], "", "events")) < 0)
		return r;
	yaml_node_t *evs = v[4];
	if (evs->type != YAML_SEQUENCE_NODE)
		return fail_line(l, line_of(evs), "exercise.err.not_list", "events");
	if (seq_len(evs) == 0)
		return fail_line(l, line_of(evs), "exercise.err.no_events", "events");
	if (seq_len(evs) > OM_EX_MAX_EVENTS)
		return too_many(l, evs, "events", OM_EX_MAX_EVENTS);
	for (yaml_node_item_t *it = evs->data.sequence.items.start;
	     it < evs->data.sequence.items.top; it++) {
		if ((r = get_event(l, node_at(l, *it), s->nev, &s->ev[s->nev])) < 0)
			return r;
		s->nev++;
	}
	if ((r = check_graph(l)) < 0)
		return r;
	/* the analysis must fit (the number of situations is bounded) */
	struct ex_memo *m = ex_memo_new();
	if (!m)
		return fail_line(l, 0, "exercise.err.nomem");
	om_ex_totals t;
	unsigned card;
	r = ex_outcome(s, m, 0, 0, false, &t, &card);
	ex_memo_free(m);
	if (r == -E2BIG)
		return fail_line(l, 0, "exercise.err.situations");
	return r < 0 ? fail_line(l, 0, "exercise.err.nomem") : 0;
}

int om_scenario_parse(const char *text, size_t len, const char *name, om_scenario **ret, char *err,
                      size_t errlen)
{
	struct ld l = {.name = name ? name : "?", .err = err, .errlen = errlen};
	if (err && errlen)
		err[0] = 0;
	if (len > OM_EX_MAX_FILE)
		return fail_line(&l, 0, "exercise.err.too_big");
	int r = scan_aliases(&l, text, len);
	if (r < 0)
		return r;
	l.s = calloc(1, sizeof(*l.s));
	if (!l.s)
		return fail_line(&l, 0, "exercise.err.nomem");
	yaml_parser_t p;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&p)) {
		om_scenario_free(l.s);
		return fail_line(&l, 0, "exercise.err.nomem");
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		r = fail_line(&l, p.problem_mark.line + 1, "exercise.err.yaml",
		              p.problem ? p.problem : "?");
		yaml_parser_delete(&p);
		om_scenario_free(l.s);
		return r;
	}
	l.doc = &doc;
	r = parse_doc(&l);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (r < 0) {
		om_scenario_free(l.s);
		return r;
	}
	*ret = l.s;
	return 0;
}

int om_scenario_load(const char *path, om_scenario **ret, char *err, size_t errlen)
{
	struct ld l = {.name = path, .err = err, .errlen = errlen};
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		fail_line(&l, 0, "exercise.err.open", strerror(e));
		return -e;
	}
	char *buf = malloc(OM_EX_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return fail_line(&l, 0, "exercise.err.nomem");
	}
	errno = 0;
	size_t n = fread(buf, 1, OM_EX_MAX_FILE + 1, f);
	int rerr = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	int r;
	if (rerr) {
		r = -rerr;
		fail_line(&l, 0, "exercise.err.open", strerror(rerr));
	} else if (n > OM_EX_MAX_FILE) {
		r = fail_line(&l, 0, "exercise.err.too_big");
	} else {
		r = om_scenario_parse(buf, n, path, ret, err, errlen);
	}
	free(buf);
	return r;
}

const char *om_scenario_id(const om_scenario *s)
{
	return s->id;
}

const char *om_scenario_title(const om_scenario *s, enum om_lang lang)
{
	return s->title.t[lang == OM_LANG_EN ? OM_LANG_EN : OM_LANG_JA];
}

const char *om_scenario_summary(const om_scenario *s, enum om_lang lang)
{
	return s->summary.t[lang == OM_LANG_EN ? OM_LANG_EN : OM_LANG_JA];
}

unsigned om_scenario_event_count(const om_scenario *s)
{
	return s->nev;
}
