/* spam_corr.c: the correspondent history of one tenant: the sender
 * domains of the mail it received (and judged clean) and the recipient
 * domains of the mail it sent, each with the time it was last seen. A
 * first mail from a domain that is not in the history but looks like one
 * that is (spam.c: an edit or a look-alike character away) is a sign of a
 * targeted attack.
 *
 * Bounded: at most `max` domains; when full, the one seen longest ago
 * makes room. Kept in a journal file beside the Bayes database (spam.db
 * -> spam.corr): one line per change, "+ domain seconds crc" (added or
 * seen again, at most one line a day per domain) or "- domain seconds crc"
 * (evicted), the crc (om_crc32c of "domain seconds") in hex. Crash-safe: a
 * line is written with one append; a torn or damaged line (a crash in the
 * middle of a write) fails its crc and is skipped when the file is read.
 * When the journal holds many more lines than domains it is rewritten
 * (a temporary file synced and renamed over it). One mutex guards the
 * table: mail is rare next to packets, and the workers share the history.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/guard.h"

#define CORR_REFRESH 86400 /* seconds between two journal lines of one domain */
#define LINE_MAX_LEN (OM_SPAM_DOMAIN_LEN + 48)

struct entry {
	char name[OM_SPAM_DOMAIN_LEN];
	int64_t seen;    /* last seen (Unix seconds) */
	int64_t written; /* the time in the journal's last line of it */
	bool used;
};

struct om_spam_corr {
	pthread_mutex_t lock;
	char path[512]; /* "" : in memory only */
	int fd;         /* the journal, O_APPEND; -1 none */
	struct entry *e;
	uint32_t *slot; /* open addressing: entry index + 1, 0 empty */
	unsigned max, n, nslot;
	uint64_t lines; /* lines in the journal */
	bool torn;      /* the journal's last line has no end (a crash while writing) */
	uint64_t dropped;
};

static uint32_t name_hash(const char *s)
{
	return om_crc32c(s, strlen(s));
}

/* the slot of name, or of the empty place where it would go */
static uint32_t find_slot(const om_spam_corr *c, const char *name)
{
	uint32_t mask = c->nslot - 1, i = name_hash(name) & mask;
	while (c->slot[i] && strcmp(c->e[c->slot[i] - 1].name, name))
		i = (i + 1) & mask;
	return i;
}

static void rebuild_slots(om_spam_corr *c)
{
	memset(c->slot, 0, sizeof(*c->slot) * c->nslot);
	for (unsigned k = 0; k < c->max; k++)
		if (c->e[k].used)
			c->slot[find_slot(c, c->e[k].name)] = k + 1;
}

static int valid_domain(const char *d, size_t l)
{
	if (!l || l >= OM_SPAM_DOMAIN_LEN)
		return -EINVAL;
	for (size_t i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)d[i];
		if (ch <= ' ' || ch == 0x7f || (ch >= 'A' && ch <= 'Z'))
			return -EINVAL;
	}
	return 0;
}

static void journal(om_spam_corr *c, char op, const char *name, int64_t t)
{
	if (c->fd < 0)
		return;
	char body[LINE_MAX_LEN], line[LINE_MAX_LEN + 16];
	int bl = snprintf(body, sizeof(body), "%s %" PRId64, name, t);
	if (bl < 0 || (size_t)bl >= sizeof(body))
		return;
	int ll = snprintf(line, sizeof(line), "%c %s %08x\n", op, body,
	                  (unsigned)om_crc32c(body, (size_t)bl));
	if (ll < 0 || (size_t)ll >= sizeof(line))
		return;
	/* one append: a crash leaves at most this line torn */
	if (write(c->fd, line, (size_t)ll) == ll)
		c->lines++;
}

/* index of the entry seen longest ago */
static unsigned oldest(const om_spam_corr *c)
{
	unsigned best = 0;
	for (unsigned k = 1; k < c->max; k++)
		if (c->e[k].used && (!c->e[best].used || c->e[k].seen < c->e[best].seen))
			best = k;
	return best;
}

static void remove_at(om_spam_corr *c, unsigned k)
{
	c->e[k].used = false;
	c->n--;
	rebuild_slots(c);
}

/* adds or refreshes; *ret_new true when it was not known. Without the lock. */
static void put(om_spam_corr *c, const char *name, int64_t t, bool write_journal, bool *ret_new)
{
	uint32_t s = find_slot(c, name);
	*ret_new = false;
	if (c->slot[s]) {
		struct entry *e = &c->e[c->slot[s] - 1];
		if (t > e->seen)
			e->seen = t;
		if (!write_journal)
			e->written = e->seen;
		else if (e->seen >= e->written + CORR_REFRESH) {
			journal(c, '+', name, e->seen);
			e->written = e->seen;
		}
		return;
	}
	*ret_new = true;
	if (c->n >= c->max) {
		unsigned k = oldest(c);
		if (write_journal)
			journal(c, '-', c->e[k].name, t);
		remove_at(c, k);
		c->dropped++;
		s = find_slot(c, name);
	}
	unsigned k = 0;
	while (c->e[k].used)
		k++;
	struct entry *e = &c->e[k];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->seen = e->written = t;
	e->used = true;
	c->slot[s] = k + 1;
	c->n++;
	if (write_journal)
		journal(c, '+', name, t);
}

static void drop(om_spam_corr *c, const char *name)
{
	uint32_t s = find_slot(c, name);
	if (c->slot[s])
		remove_at(c, c->slot[s] - 1);
}

/* one journal line; false when it is torn or damaged */
static bool parse_line(char *l, char *op, char **name, int64_t *t)
{
	size_t n = strlen(l);
	if (n < 14 || (l[0] != '+' && l[0] != '-') || l[1] != ' ')
		return false;
	char *crc = strrchr(l, ' ');
	if (!crc || crc - l < 4 || strlen(crc + 1) != 8)
		return false;
	char *end;
	unsigned long want = strtoul(crc + 1, &end, 16);
	if (*end)
		return false;
	char *body = l + 2;
	size_t bl = (size_t)(crc - body);
	if (om_crc32c(body, bl) != (uint32_t)want)
		return false;
	*crc = '\0';
	char *sp = strrchr(body, ' ');
	if (!sp || sp == body)
		return false;
	*sp = '\0';
	long long v = strtoll(sp + 1, &end, 10);
	if (*end || v < 0)
		return false;
	if (valid_domain(body, strlen(body)) < 0)
		return false;
	*op = l[0];
	*name = body;
	*t = (int64_t)v;
	return true;
}

static int load(om_spam_corr *c)
{
	FILE *f = fopen(c->path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char l[LINE_MAX_LEN + 32];
	while (fgets(l, sizeof(l), f)) {
		size_t n = strlen(l);
		if (!n || l[n - 1] != '\n') { /* too long, or the torn last line */
			c->torn = n < sizeof(l) - 1;
			int ch;
			while (n == sizeof(l) - 1 && (ch = fgetc(f)) != EOF && ch != '\n')
				;
			c->lines++;
			continue;
		}
		l[n - 1] = '\0';
		c->lines++;
		char op, *name;
		int64_t t;
		if (!parse_line(l, &op, &name, &t))
			continue;
		bool isnew;
		if (op == '+')
			put(c, name, t, false, &isnew);
		else
			drop(c, name);
	}
	fclose(f);
	return 0;
}

/* rewrites the journal with one line per domain (temporary file, synced, renamed) */
static int compact(om_spam_corr *c)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (unsigned k = 0; k < c->max; k++) {
		struct entry *e = &c->e[k];
		if (!e->used)
			continue;
		char body[LINE_MAX_LEN];
		int bl = snprintf(body, sizeof(body), "%s %" PRId64, e->name, e->seen);
		if (bl > 0 && (size_t)bl < sizeof(body))
			fprintf(f, "+ %s %08x\n", body, (unsigned)om_crc32c(body, (size_t)bl));
		e->written = e->seen;
	}
	int e = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && !e)
		e = -errno;
	if (!e && rename(tmp, c->path) < 0)
		e = -errno;
	if (e) {
		unlink(tmp);
		return e;
	}
	c->lines = c->n;
	return 0;
}

int om_spam_corr_path(const char *db_path, char *buf, size_t cap)
{
	size_t l = strlen(db_path);
	if (l > 3 && !strcmp(db_path + l - 3, ".db"))
		l -= 3;
	int n = snprintf(buf, cap, "%.*s.corr", (int)l, db_path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int om_spam_corr_open(const char *path, unsigned max, om_spam_corr **ret)
{
	if (!max || max > OM_SPAM_CORR_MAX)
		max = OM_SPAM_CORR_MAX;
	if (path && strlen(path) >= 500)
		return -ENAMETOOLONG;
	om_spam_corr *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->max = max;
	c->nslot = 1;
	while (c->nslot < 2 * max)
		c->nslot <<= 1;
	c->e = calloc(max, sizeof(*c->e));
	c->slot = calloc(c->nslot, sizeof(*c->slot));
	int e = 0;
	if (!c->e || !c->slot) {
		e = -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&c->lock, NULL);
	if (path) {
		snprintf(c->path, sizeof(c->path), "%s", path);
		if ((e = load(c)) < 0)
			goto fail_lock;
		/* a journal much longer than its table is rewritten */
		if (c->lines > 2 * (uint64_t)c->n + 64 && (e = compact(c)) < 0)
			goto fail_lock;
		c->fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (c->fd < 0) {
			e = -errno;
			goto fail_lock;
		}
		/* the next line starts on a line of its own, after a torn one */
		if (c->torn && write(c->fd, "\n", 1) != 1) {
			e = -EIO;
			close(c->fd);
			goto fail_lock;
		}
	}
	*ret = c;
	return 0;
fail_lock:
	pthread_mutex_destroy(&c->lock);
fail:
	free(c->e);
	free(c->slot);
	free(c);
	return e;
}

om_spam_corr *om_spam_corr_close(om_spam_corr *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0) {
		(void)fsync(c->fd);
		close(c->fd);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->e);
	free(c->slot);
	free(c);
	return NULL;
}

/* lower case, without a trailing dot */
static int norm(const char *d, char *out)
{
	size_t l = strlen(d);
	while (l && d[l - 1] == '.')
		l--;
	if (l >= OM_SPAM_DOMAIN_LEN)
		return -EINVAL;
	for (size_t i = 0; i < l; i++)
		out[i] = (unsigned)(d[i] - 'A') < 26u ? (char)(d[i] | 0x20) : d[i];
	out[l] = '\0';
	return valid_domain(out, l);
}

int om_spam_corr_add(om_spam_corr *c, const char *domain, int64_t now)
{
	char d[OM_SPAM_DOMAIN_LEN];
	if (!c || norm(domain, d) < 0 || !strchr(d, '.'))
		return -EINVAL;
	bool isnew;
	pthread_mutex_lock(&c->lock);
	put(c, d, now, true, &isnew);
	if (c->fd >= 0 && c->lines > 4 * (uint64_t)c->max + 64)
		(void)compact(c);
	pthread_mutex_unlock(&c->lock);
	return isnew ? 1 : 0;
}

bool om_spam_corr_known(om_spam_corr *c, const char *domain)
{
	char d[OM_SPAM_DOMAIN_LEN];
	if (!c || norm(domain, d) < 0)
		return false;
	pthread_mutex_lock(&c->lock);
	bool k = c->slot[find_slot(c, d)] != 0;
	pthread_mutex_unlock(&c->lock);
	return k;
}

bool om_spam_corr_look_alike(om_spam_corr *c, const char *domain,
                             bool (*like)(const char *a, const char *b), char *ret, size_t cap)
{
	char d[OM_SPAM_DOMAIN_LEN];
	if (!c || norm(domain, d) < 0)
		return false;
	bool found = false;
	pthread_mutex_lock(&c->lock);
	for (unsigned k = 0; k < c->max && !found; k++)
		if (c->e[k].used && like(d, c->e[k].name)) {
			found = true;
			if (ret && cap)
				snprintf(ret, cap, "%s", c->e[k].name);
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

void om_spam_corr_stats(om_spam_corr *c, unsigned *ret_count, uint64_t *ret_dropped)
{
	pthread_mutex_lock(&c->lock);
	*ret_count = c->n;
	*ret_dropped = c->dropped;
	pthread_mutex_unlock(&c->lock);
}
