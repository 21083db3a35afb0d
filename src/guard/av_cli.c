/* av_cli.c: 'omamori av scan|info'. scan reads each file whole and scans it
 * through om_av_scan_buffer, the path every extracted file takes, printing
 * one line a file and a summary (files/s, MB/s of the scanning alone) on
 * standard error. Exit status 0 nothing found, 1 malware found or failure,
 * 2 usage. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "guard/guard.h"

static void say(enum om_lang lang, const char *key, ...)
{
	va_list ap;
	char line[2048];
	va_start(ap, key);
	vsnprintf(line, sizeof(line), om_msg(lang, key), ap);
	va_end(ap);
	fprintf(stderr, "omamori: %s\n", line);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* reads a whole file (at most max bytes; *ret_trunc when there was more) */
static int read_file(const char *path, uint64_t max, uint8_t **ret, size_t *ret_len,
                     bool *ret_trunc)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return -EINVAL;
	}
	uint64_t want = (uint64_t)st.st_size < max ? (uint64_t)st.st_size : max;
	uint8_t *b = malloc(want ? want : 1);
	if (!b) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(b, 1, want, f);
	fclose(f);
	*ret = b;
	*ret_len = n;
	*ret_trunc = (uint64_t)st.st_size > max;
	return 0;
}

int om_av_main(int argc, char **argv, enum om_lang lang, const om_av_config *cfg)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub || !strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(om_msg(lang, "help.av"), stdout);
		return sub ? 0 : 2;
	}
	bool scan = !strcmp(sub, "scan");
	if (!scan && strcmp(sub, "info") != 0) {
		say(lang, "av.err.usage", sub);
		return 2;
	}
	om_av_config c = *cfg;
	c.reload_interval = 0;
	bool quiet = false;
	int i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		if ((!strcmp(o, "--db") || !strcmp(o, "--yara")) && i + 1 < argc) {
			char *dst = !strcmp(o, "--db") ? c.db_dir : c.yara_rules;
			snprintf(dst, OM_AV_PATH_MAX, "%s", argv[++i]);
		} else if (!strcmp(o, "--quiet")) {
			quiet = true;
		} else if (!strcmp(o, "--")) {
			i++;
			break;
		} else {
			say(lang, "av.err.usage", o);
			return 2;
		}
	}
	if (scan && i >= argc) {
		say(lang, "av.err.no_files");
		return 2;
	}
	char err[1024];
	om_av *av = NULL;
	double t0 = now_s();
	if (om_av_open(&c, &av, err, sizeof(err)) < 0) {
		say(lang, "av.err.open", err);
		return 1;
	}
	double t_load = now_s() - t0;
	char ver[64];
	unsigned sigs = 0;
	om_av_db_version(av, ver, sizeof(ver), &sigs);
	if (!scan) {
		printf("%s\n", om_av_engine_version());
		printf(om_msg(lang, "av.msg.info"), ver, sigs, t_load);
		printf("\n");
		om_av_close(av);
		return 0;
	}
	int rc = 0;
	unsigned files = 0, found = 0, failed = 0;
	uint64_t bytes = 0;
	double t_scan = 0;
	for (; i < argc; i++) {
		uint8_t *b = NULL;
		size_t n = 0;
		bool trunc = false;
		int r = read_file(argv[i], c.max_file, &b, &n, &trunc);
		if (r < 0) {
			say(lang, "av.err.read", argv[i], strerror(-r));
			failed++;
			rc = 1;
			continue;
		}
		om_av_result res;
		double t1 = now_s();
		const char *base = strrchr(argv[i], '/');
		r = om_av_scan_buffer(av, b, n, base ? base + 1 : argv[i], &res);
		t_scan += now_s() - t1;
		free(b);
		if (r < 0) {
			say(lang, "av.err.scan", argv[i], strerror(-r));
			failed++;
			rc = 1;
			continue;
		}
		if (trunc)
			res.skip |= OM_AV_SKIP_MAX_FILE;
		files++;
		bytes += n;
		char skip[160] = "";
		om_av_skip_names(res.skip, skip, sizeof(skip));
		if (res.status == OM_AV_INFECTED) {
			found++;
			rc = 1;
			printf("%s: %s FOUND (%s)\n", argv[i], res.signature, res.engine);
		} else if (!quiet) {
			printf("%s: OK%s%s%s\n", argv[i], skip[0] ? " (not scanned: " : "", skip,
			       skip[0] ? ")" : "");
		}
	}
	double mb = (double)bytes / 1e6;
	say(lang, "av.msg.summary", files, found, failed, mb, t_load, t_scan,
	    t_scan > 0 ? files / t_scan : 0.0, t_scan > 0 ? mb / t_scan : 0.0);
	om_av_close(av);
	return rc;
}
