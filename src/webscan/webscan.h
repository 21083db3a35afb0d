/* webscan: the website vulnerability scan and the tamper monitor. Uses base,
 * store and report. The CLI calls om_webscan_main; the console (later) runs
 * scans through om_webscan_run with the same options. The design note is
 * docs/webscan.md. */
#ifndef OMAMORI_WEBSCAN_H
#define OMAMORI_WEBSCAN_H

#include "base/base.h"

#include <signal.h>

typedef struct om_webscan_opts {
	const char *target;
	const char *login_url, *user, *password; /* form login; user alone: HTTP auth */
	const char *excludes[32];
	unsigned nexcludes;
	double rate;            /* requests per second (default 10) */
	unsigned concurrency;   /* parallel requests (default 4) */
	unsigned max_pages;     /* default 500 */
	unsigned max_depth;     /* default 8 */
	unsigned max_time;      /* seconds, 0: none */
	const char *format;     /* text, json, sarif, html, pdf */
	const char *output;     /* NULL or "-": standard output (pdf needs a file) */
	bool get_only;          /* no POST, no upload */
	bool i_own;             /* --i-own-this-site */
	const char *site_token; /* verified through /.well-known/omamori-webscan.txt */
	bool insecure;          /* accept any TLS certificate */
	const char *baseline;   /* a tamper baseline (webscan watch) to check the pages against */
	bool progress;
	volatile sig_atomic_t *stop; /* set by a signal handler: stop soon */
} om_webscan_opts;

void om_webscan_opts_default(om_webscan_opts *o);

/* Runs one scan and writes the result in the chosen format. Returns 0, or a
 * negative errno with err set (-EINVAL: options, -EPERM: a target outside
 * loopback and private ranges without acknowledgement). */
int om_webscan_run(const om_webscan_opts *o, enum om_lang lang, char *err, size_t errlen);

/* The command line: `omamori webscan URL ...` and `omamori webscan watch
 * ...`. argv[0] is "webscan". Returns the exit status (0, 1, 2). */
int om_webscan_main(int argc, char **argv, enum om_lang lang);

#endif
