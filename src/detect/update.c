/* update.c: `omamori rules update`: fetch the rule sources (HTTP through
 * curl, a .rules file, a .tar.gz of them, or a local directory), apply
 * enable.conf, disable.conf and modify.conf as suricata-update does, load
 * the result as the gateway would (a set with syntax errors or that does
 * not compile is refused and the old file stays), and replace the output
 * file atomically (write aside, fsync, rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "detect/internal.h"

#define MAX_SOURCES 32
#define MAX_FILTERS 4096
#define DEFAULT_OUT "/var/lib/omamori/rules/omamori.rules"

struct filter {
	enum { F_SID, F_RE, F_GROUP } kind;
	uint32_t gid, sid;
	pcre2_code *re;
	char *group;
	/* modify */
	pcre2_code *from;
	char *to;
};

struct filters {
	struct filter f[MAX_FILTERS];
	unsigned n;
};

static void say(enum om_lang lang, const char *key, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori rules: %s\n", line);
}

static int read_all(const char *path, om_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (om_buf_append(b, chunk, n) < 0) {
			rc = -EFBIG;
			break;
		}
	if (ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static bool ends_with(const char *s, const char *x)
{
	size_t n = strlen(s), k = strlen(x);
	return n >= k && !strcmp(s + n - k, x);
}

struct rulefile {
	char *name; /* the file's base name (group:) */
	om_buf text;
};

struct files {
	struct rulefile f[1024];
	unsigned n;
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int add_file(struct files *fs, const char *path)
{
	if (fs->n >= 1024)
		return -E2BIG;
	struct rulefile *rf = &fs->f[fs->n];
	om_buf_init(&rf->text, 1u << 30);
	int rc = read_all(path, &rf->text);
	if (rc < 0) {
		om_buf_free(&rf->text);
		return rc;
	}
	if (!(rf->name = strdup(base_name(path)))) {
		om_buf_free(&rf->text);
		return -ENOMEM;
	}
	fs->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the .rules files of dir and of its rules/ folder, in name order */
static int add_dir(struct files *fs, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char *names[1024] = {NULL};
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 1024)
		if (e->d_name[0] != '.' && (names[n] = strdup(e->d_name)))
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	int rc = 0;
	for (unsigned i = 0; i < n; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		struct stat sb;
		if (rc == 0 && stat(p, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && depth < 2)
				rc = add_dir(fs, p, depth + 1);
			else if (S_ISREG(sb.st_mode) && ends_with(names[i], ".rules"))
				rc = add_file(fs, p);
		}
		free(names[i]);
	}
	return rc;
}

static int fetch(struct files *fs, const char *src, const char *tmpdir, unsigned k,
                 enum om_lang lang)
{
	struct stat sb;
	bool http = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
	char local[4096];
	if (http) {
		snprintf(local, sizeof(local), "%s/source%u%s", tmpdir, k,
		         ends_with(src, ".tar.gz") || ends_with(src, ".tgz") ? ".tar.gz"
		                                                             : ".rules");
		char *argv[] = {"curl", "-fsSL", "--max-time", "300",
		                "-o",   local,   (char *)src,  NULL};
		if (run(argv) < 0) {
			say(lang, "err.detect.fetch", src);
			return -EIO;
		}
	} else {
		snprintf(local, sizeof(local), "%s", src);
	}
	if (stat(local, &sb) < 0) {
		say(lang, "err.detect.read", local, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(sb.st_mode))
		return add_dir(fs, local, 0);
	if (ends_with(local, ".tar.gz") || ends_with(local, ".tgz")) {
		char out[4096];
		snprintf(out, sizeof(out), "%s/x%u", tmpdir, k);
		if (mkdir(out, 0700) < 0)
			return -errno;
		char *argv[] = {"tar", "-xzf", local, "-C", out, NULL};
		if (run(argv) < 0) {
			say(lang, "err.detect.unpack", src);
			return -EIO;
		}
		return add_dir(fs, out, 0);
	}
	return add_file(fs, local);
}

/* ---- filters -------------------------------------------------------------------------- */

static pcre2_code *re_compile(const char *s)
{
	int ec;
	PCRE2_SIZE eo;
	return pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* a quoted string at *p; advances past it */
static char *quoted(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '"')
		return NULL;
	char *start = ++s, *o = s;
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1] == '"')
			s++;
		*o++ = *s;
	}
	if (*s != '"')
		return NULL;
	*o = '\0';
	*p = s + 1;
	return start;
}

static int filters_load(const char *path, bool modify, struct filters *fl, enum om_lang lang)
{
	om_buf b;
	om_buf_init(&b, 64u << 20);
	int rc = read_all(path, &b);
	if (rc < 0) {
		say(lang, "err.detect.read", path, strerror(-rc));
		om_buf_free(&b);
		return rc;
	}
	char *text = (char *)om_buf_cstr(&b);
	unsigned lineno = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *l = trim(line);
		if (!*l || *l == '#')
			continue;
		char *rest = NULL;
		char mbuf[1024];
		if (modify) {
			/* matcher "from" "to" */
			char *q = strchr(l, '"');
			if (!q || (size_t)(q - l) >= sizeof(mbuf)) {
				rc = -EINVAL;
			} else {
				memcpy(mbuf, l, (size_t)(q - l));
				mbuf[q - l] = '\0';
				rest = q;
				l = mbuf;
			}
		}
		if (rc == 0) {
			char *m = trim(l);
			char *parts[64];
			unsigned np = 0;
			if (!strncmp(m, "re:", 3) || !strncmp(m, "group:", 6)) {
				parts[np++] = m;
			} else {
				for (char *s2 = NULL, *t = strtok_r(m, ",", &s2); t && np < 64;
				     t = strtok_r(NULL, ",", &s2))
					parts[np++] = trim(t);
			}
			char *from = NULL, *to = NULL;
			if (modify) {
				char *p = rest;
				from = p ? quoted(&p) : NULL;
				to = from ? quoted(&p) : NULL;
				if (!from || !to)
					rc = -EINVAL;
			}
			for (unsigned i = 0; rc == 0 && i < np; i++) {
				if (fl->n >= MAX_FILTERS) {
					rc = -E2BIG;
					break;
				}
				struct filter *f = &fl->f[fl->n];
				memset(f, 0, sizeof(*f));
				const char *x = parts[i];
				if (!strncmp(x, "re:", 3)) {
					f->kind = F_RE;
					if (!(f->re = re_compile(x + 3)))
						rc = -EINVAL;
				} else if (!strncmp(x, "group:", 6)) {
					f->kind = F_GROUP;
					if (!(f->group = strdup(trim((char *)x + 6))))
						rc = -ENOMEM;
				} else {
					uint64_t g = 1, s = 0;
					const char *colon = strchr(x, ':');
					char tmp[32];
					snprintf(tmp, sizeof(tmp), "%.*s",
					         colon ? (int)(colon - x) : 0, x);
					if (colon && om_parse_u64(tmp, 0, UINT32_MAX, &g) < 0)
						rc = -EINVAL;
					else if (om_parse_u64(colon ? colon + 1 : x, 1, UINT32_MAX,
					                      &s) < 0)
						rc = -EINVAL;
					f->kind = F_SID;
					f->gid = (uint32_t)g;
					f->sid = (uint32_t)s;
				}
				if (rc == 0 && modify) {
					if (!(f->from = re_compile(from)) || !(f->to = strdup(to)))
						rc = -EINVAL;
				}
				if (rc == 0)
					fl->n++;
			}
		}
		if (rc < 0) {
			say(lang, "err.detect.filter_line", path, lineno);
			break;
		}
	}
	om_buf_free(&b);
	return rc;
}

static void filters_free(struct filters *fl)
{
	for (unsigned i = 0; i < fl->n; i++) {
		if (fl->f[i].re)
			pcre2_code_free(fl->f[i].re);
		if (fl->f[i].from)
			pcre2_code_free(fl->f[i].from);
		free(fl->f[i].group);
		free(fl->f[i].to);
	}
	fl->n = 0;
}

static uint32_t rule_num(const char *r, size_t n, const char *key, uint32_t dflt)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl < n; i++)
		if ((i == 0 || r[i - 1] == ' ' || r[i - 1] == ';' || r[i - 1] == '(') &&
		    !memcmp(r + i, key, kl))
			return (uint32_t)strtoul(r + i + kl, NULL, 10);
	return dflt;
}

static bool filter_hit(const struct filter *f, const char *rule, size_t n, const char *group,
                       pcre2_match_data *md)
{
	switch (f->kind) {
	case F_SID:
		return rule_num(rule, n, "sid:", 0) == f->sid &&
		       rule_num(rule, n, "gid:", 1) == f->gid;
	case F_GROUP: return !strcmp(f->group, group);
	default: return pcre2_match(f->re, (PCRE2_SPTR)rule, n, 0, 0, md, NULL) >= 0;
	}
}

/* one line of a source (a rule, enabled or commented out) through the
 * filters, appended to out */
static int process_line(const char *line, size_t n, const char *group, struct filters *en,
                        struct filters *dis, struct filters *mod, pcre2_match_data *md, om_buf *out,
                        uint64_t *stats)
{
	const char *p = line;
	size_t k = n;
	bool enabled = true;
	while (k && (*p == ' ' || *p == '\t')) {
		p++;
		k--;
	}
	if (k && *p == '#') {
		enabled = false;
		const char *q = p + 1;
		size_t m = k - 1;
		while (m && (*q == ' ' || *q == '#')) {
			q++;
			m--;
		}
		/* a commented-out rule, or just a comment */
		if (m < 6 || (strncmp(q, "alert ", 6) && strncmp(q, "drop ", 5) &&
		              strncmp(q, "pass ", 5) && strncmp(q, "reject", 6))) {
			om_buf_append(out, line, n);
			return om_buf_putc(out, '\n');
		}
		p = q;
		k = m;
	} else if (k == 0) {
		om_buf_append(out, line, n);
		return om_buf_putc(out, '\n');
	}
	for (unsigned i = 0; i < en->n && !enabled; i++)
		if (filter_hit(&en->f[i], p, k, group, md)) {
			enabled = true;
			stats[0]++;
		}
	for (unsigned i = 0; i < dis->n && enabled; i++)
		if (filter_hit(&dis->f[i], p, k, group, md)) {
			enabled = false;
			stats[1]++;
		}
	char *text = strndup(p, k);
	if (!text)
		return -ENOMEM;
	for (unsigned i = 0; i < mod->n; i++) {
		if (!filter_hit(&mod->f[i], text, strlen(text), group, md))
			continue;
		PCRE2_UCHAR outbuf[65536];
		PCRE2_SIZE ol = sizeof(outbuf);
		int rc = pcre2_substitute(mod->f[i].from, (PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED,
		                          0, PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_EXTENDED,
		                          NULL, NULL, (PCRE2_SPTR)mod->f[i].to,
		                          PCRE2_ZERO_TERMINATED, outbuf, &ol);
		if (rc > 0) {
			char *nt = strndup((const char *)outbuf, ol);
			if (nt) {
				free(text);
				text = nt;
				stats[2]++;
			}
		}
	}
	if (!enabled)
		om_buf_puts(out, "# ");
	om_buf_puts(out, text);
	free(text);
	return om_buf_putc(out, '\n');
}

static int write_atomic(const char *path, const om_buf *b, enum om_lang lang)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		say(lang, "err.detect.write", path, strerror(errno));
		return -errno;
	}
	size_t off = 0;
	const char *data = b->len ? b->data : "";
	while (off < b->len) {
		ssize_t w = write(fd, data + off, b->len - off);
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			say(lang, "err.detect.write", path, strerror(e));
			return -e;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		say(lang, "err.detect.write", path, strerror(e));
		return -e;
	}
	return 0;
}

static void rm_tree(const char *dir)
{
	char *argv[] = {"rm", "-rf", (char *)dir, NULL};
	(void)run(argv);
}

int om_detect_update_main(int argc, char **argv, enum om_lang lang, const om_config_nets *home)
{
	const char *sources[MAX_SOURCES];
	unsigned nsrc = 0;
	const char *enable = NULL, *disable = NULL, *modify = NULL, *out = DEFAULT_OUT;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--source") && v && nsrc < MAX_SOURCES)
			sources[nsrc++] = argv[++i];
		else if (!strcmp(a, "--enable") && v)
			enable = argv[++i];
		else if (!strcmp(a, "--disable") && v)
			disable = argv[++i];
		else if (!strcmp(a, "--modify") && v)
			modify = argv[++i];
		else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && v)
			out = argv[++i];
		else {
			say(lang, "err.detect.usage_option", a);
			return 2;
		}
	}
	if (!nsrc) {
		say(lang, "err.detect.no_sources");
		return 2;
	}
	struct filters *fl = calloc(3, sizeof(*fl));
	struct files *fs = calloc(1, sizeof(*fs));
	pcre2_match_data *md = pcre2_match_data_create(8, NULL);
	om_buf text;
	om_buf_init(&text, 1u << 30);
	char tmpdir[] = "/tmp/omamori-rules-XXXXXX";
	bool have_tmp = false;
	int rc = 0;
	if (!fl || !fs || !md)
		rc = -ENOMEM;
	if (rc == 0 && !mkdtemp(tmpdir))
		rc = -errno;
	else
		have_tmp = true;
	if (rc == 0 && enable)
		rc = filters_load(enable, false, &fl[0], lang);
	if (rc == 0 && disable)
		rc = filters_load(disable, false, &fl[1], lang);
	if (rc == 0 && modify)
		rc = filters_load(modify, true, &fl[2], lang);
	for (unsigned i = 0; rc == 0 && i < nsrc; i++)
		rc = fetch(fs, sources[i], tmpdir, i, lang);
	uint64_t stats[3] = {0, 0, 0};
	for (unsigned i = 0; rc == 0 && i < fs->n; i++) {
		const char *t = om_buf_cstr(&fs->f[i].text);
		size_t len = fs->f[i].text.len;
		om_buf_printf(&text, "# from %s\n", fs->f[i].name);
		size_t s = 0;
		while (s < len && rc == 0) {
			size_t e = s;
			while (e < len && t[e] != '\n')
				e++;
			size_t n = e - s;
			if (n && t[s + n - 1] == '\r')
				n--;
			rc = process_line(t + s, n, fs->f[i].name, &fl[0], &fl[1], &fl[2], md,
			                  &text, stats);
			s = e + 1;
		}
	}
	/* the test load: as the gateway would load it */
	if (rc == 0) {
		om_detect *d = NULL;
		om_detect_load_stats *st = calloc(1, sizeof(*st));
		char err[512] = "";
		rc = st ? om_detect_new(home, &d) : -ENOMEM;
		if (rc == 0)
			rc = om_detect_add_rules(d, om_buf_cstr(&text), text.len, out,
			                         OM_DETECT_WARN_SYNTAX, st);
		if (rc == 0 && st->syntax_errors) {
			say(lang, "err.detect.update_syntax", (unsigned long long)st->syntax_errors,
			    out);
			rc = -EINVAL;
		}
		if (rc == 0 && om_detect_compile(d, err, sizeof(err)) < 0) {
			say(lang, "err.detect.compile", err);
			rc = -EINVAL;
		}
		if (rc == 0)
			rc = write_atomic(out, &text, lang);
		if (rc == 0) {
			char line[512];
			snprintf(line, sizeof(line), om_msg(lang, "msg.detect.updated"), out,
			         (unsigned long long)st->accepted, (unsigned long long)st->total,
			         (unsigned long long)stats[0], (unsigned long long)stats[1],
			         (unsigned long long)stats[2]);
			printf("%s\n", line);
		}
		om_detect_free(d);
		free(st);
	}
	if (have_tmp)
		rm_tree(tmpdir);
	if (fs)
		for (unsigned i = 0; i < fs->n; i++) {
			om_buf_free(&fs->f[i].text);
			free(fs->f[i].name);
		}
	if (fl)
		for (unsigned i = 0; i < 3; i++)
			filters_free(&fl[i]);
	free(fl);
	free(fs);
	if (md)
		pcre2_match_data_free(md);
	om_buf_free(&text);
	return rc == 0 ? 0 : 1;
}
