/* spam-eval: k-fold evaluation of omamori's anti-spam checks for
 * bench/spam. Reads a list of "label<TAB>fold<TAB>path" lines (label 1:
 * spam, 0: ham), keeps every message in memory, and for each fold trains
 * a new token database on the other folds and scores the fold's messages
 * (MIME decoding, tokenizing, Bayes and rules: om_proto_mail_message +
 * om_spam_check, as the gateway and the milter run them). Writes one line
 * per scored message ("path label fold score bayes") to OUT and one JSON
 * line of timings per fold to stdout.
 *
 *   spam-eval LIST FOLDS OUT [ONLY-FOLD [DB-OUT]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/guard.h"

struct msg {
	char *path;
	int label, fold;
	uint8_t *data;
	size_t len;
};

struct ctx {
	om_spam_db *db;
	om_spam_config cfg;
	bool train, spam;
	om_spam_result r;
};

static void on_tx(void *user, const om_proto_tx *tx)
{
	struct ctx *c = user;
	if (c->train)
		(void)om_spam_db_train(c->db, tx, c->spam);
	else
		om_spam_check(&c->cfg, tx, NULL, &c->r);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: spam-eval LIST FOLDS OUT [ONLY-FOLD [DB-OUT]]\n");
		return 2;
	}
	int folds = (int)strtol(argv[2], NULL, 10),
	    only = argc > 4 ? (int)strtol(argv[4], NULL, 10) : -1;
	FILE *lf = fopen(argv[1], "r");
	FILE *out = fopen(argv[3], "w");
	if (!lf || !out || folds < 2) {
		perror("spam-eval");
		return 1;
	}
	size_t cap = 1024, n = 0;
	struct msg *m = calloc(cap, sizeof(*m));
	char line[8192];
	while (m && fgets(line, sizeof(line), lf)) {
		char *p = strchr(line, '\n');
		if (p)
			*p = '\0';
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		if (n == cap) {
			cap *= 2;
			struct msg *nm = realloc(m, cap * sizeof(*m));
			if (!nm)
				return 1;
			m = nm;
		}
		m[n].label = line[0] == '1';
		m[n].fold = (int)strtol(t1 + 1, NULL, 10);
		m[n].path = strdup(t2 + 1);
		if (!m[n].path || om_spam_read_file(m[n].path, &m[n].data, &m[n].len) < 0) {
			fprintf(stderr, "spam-eval: cannot read %s\n", t2 + 1);
			continue;
		}
		n++;
	}
	fclose(lf);
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	for (int f = 0; f < folds; f++) {
		if (only >= 0 && f != only)
			continue;
		struct ctx c;
		memset(&c, 0, sizeof(c));
		if (om_spam_db_new(&c.db) < 0)
			return 1;
		om_spam_config_init(&c.cfg);
		double t0 = now();
		size_t ntrain = 0, ntest = 0;
		c.train = true;
		for (size_t i = 0; i < n; i++) {
			if (m[i].fold == f)
				continue;
			c.spam = m[i].label;
			om_proto_mail_message(&mc, m[i].data, m[i].len, on_tx, &c);
			ntrain++;
		}
		double t1 = now();
		c.train = false;
		c.cfg.db = c.db;
		for (size_t i = 0; i < n; i++) {
			if (m[i].fold != f)
				continue;
			om_proto_mail_message(&mc, m[i].data, m[i].len, on_tx, &c);
			fprintf(out, "%s\t%d\t%d\t%.4f\t%.6f\n", m[i].path, m[i].label, f,
			        c.r.score, c.r.bayes);
			ntest++;
		}
		double t2 = now();
		uint64_t th, ts, tt;
		om_spam_db_counts(c.db, &th, &ts, &tt);
		printf("{\"fold\":%d,\"train\":%zu,\"train_s\":%.3f,\"test\":%zu,\"test_s\":%.3f,"
		       "\"tokens\":%llu}\n",
		       f, ntrain, t1 - t0, ntest, t2 - t1, (unsigned long long)tt);
		if (argc > 5 && om_spam_db_save(c.db, argv[5]) < 0)
			fprintf(stderr, "spam-eval: cannot write %s\n", argv[5]);
		om_spam_db_free(c.db);
	}
	fclose(out);
	for (size_t i = 0; i < n; i++) {
		free(m[i].path);
		free(m[i].data);
	}
	free(m);
	return 0;
}
