/* console: the gateway's side of the desk's command channel. The gateway
 * polls the console (HTTPS, its push credential as a bearer token) for the
 * commands the desk queued for it, applies each through the caller's apply
 * function (the command line gives one that edits the gateway's quarantine
 * list or block list and tells the running gateway), and reports the
 * result. Polling rather than a held connection: the console needs no
 * connection per gateway and the gateway needs no port open; a command
 * waits at most one interval. Everything is idempotent: a lost report makes
 * the next poll hand the command out again, apply does it again (no
 * change), and the console keeps the first report. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console/internal.h"

#define POLL_ANSWER_MAX (1024u * 1024)
#define POLL_COMMANDS_MAX 32

int con_poll_parse(const char *json, size_t len, con_poll_command *out, size_t max, size_t *ret_n)
{
	json_error_t err;
	json_t *root;
	size_t n = 0;
	int r = -EINVAL;

	if (!json || len == 0 || len > POLL_ANSWER_MAX)
		return -EINVAL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	json_t *cmds = json_is_object(root) ? json_object_get(root, "commands") : NULL;
	if (!json_is_array(cmds))
		goto out;
	for (size_t i = 0; i < json_array_size(cmds) && n < max; i++) {
		json_t *c = json_array_get(cmds, i);
		json_t *id = json_object_get(c, "id");
		json_t *kind = json_object_get(c, "kind");
		json_t *target = json_object_get(c, "target");
		/* a command we cannot read is left alone: it stays pending at the
		 * console and shows there */
		if (!json_is_integer(id) || json_integer_value(id) <= 0 || !json_is_string(kind) ||
		    !json_is_string(target) || json_string_length(kind) >= sizeof(out->kind) ||
		    json_string_length(target) >= sizeof(out->target))
			continue;
		out[n].id = (int64_t)json_integer_value(id);
		snprintf(out[n].kind, sizeof(out[n].kind), "%s", json_string_value(kind));
		snprintf(out[n].target, sizeof(out[n].target), "%s", json_string_value(target));
		n++;
	}
	*ret_n = n;
	r = 0;
out:
	json_decref(root);
	return r;
}

static size_t collect(char *p, size_t sz, size_t n, void *user)
{
	om_buf *b = user;
	return om_buf_append(b, p, sz * n) < 0 ? 0 : sz * n;
}

/* GET or POST (body non-NULL); the HTTP status, or -1 unreachable. */
static long request(CURL *h, const con_poll_options *o, const char *cred, const char *path,
                    const char *body, om_buf *resp)
{
	char url[1024], auth[160];
	struct curl_slist *hd = NULL;
	long status = -1;

	snprintf(url, sizeof(url), "%s%s", o->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cred);
	hd = curl_slist_append(hd, auth);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	if (o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	om_buf_reset(resp);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	return status;
}

int con_poll_once(const con_poll_options *o, const char *cred, unsigned *ret_applied)
{
	CURL *h = curl_easy_init();
	om_buf resp;
	con_poll_command cmds[POLL_COMMANDS_MAX];
	size_t n = 0;
	unsigned applied = 0;
	int r = 0;

	if (!h)
		return -ENOMEM;
	om_buf_init(&resp, POLL_ANSWER_MAX);
	long st = request(h, o, cred, "/api/gateway/commands", NULL, &resp);
	if (st != 200) {
		om_err(om_tr("desk.poll.failed"), o->url, st);
		r = st == 401 ? -EACCES : -EAGAIN;
		goto out;
	}
	if (con_poll_parse(om_buf_cstr(&resp), resp.len, cmds, POLL_COMMANDS_MAX, &n) < 0) {
		om_err(om_tr("desk.poll.bad_answer"), o->url);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char detail[256] = "", path[64], body[600];
		int ar = o->apply(o->user, cmds[i].kind, cmds[i].target, detail, sizeof(detail));
		char *esc = curl_easy_escape(h, detail, 0);
		snprintf(path, sizeof(path), "/api/gateway/commands/%lld", (long long)cmds[i].id);
		snprintf(body, sizeof(body), "result=%s&detail=%s", ar == 0 ? "done" : "failed",
		         esc ? esc : "");
		curl_free(esc);
		om_log(ar == 0 ? OM_LOG_INFO : OM_LOG_WARN, om_tr("desk.poll.applied"),
		       cmds[i].kind, cmds[i].target, ar == 0 ? "done" : detail);
		/* a report that does not get through: the next poll brings the
		 * command again */
		long rs = request(h, o, cred, path, body, &resp);
		if (rs != 200)
			om_err(om_tr("desk.poll.report_failed"), (long long)cmds[i].id, rs);
		applied++;
	}
out:
	om_buf_free(&resp);
	curl_easy_cleanup(h);
	if (ret_applied)
		*ret_applied = applied;
	return r;
}

static volatile sig_atomic_t poll_stop;

static void on_signal(int sig)
{
	(void)sig;
	poll_stop = 1;
}

int con_poll_main(const con_poll_options *o)
{
	char cred[80] = "";
	FILE *f;

	if (!o->apply) {
		om_err("%s", om_tr("desk.poll.no_apply"));
		return 2;
	}
	f = fopen(o->credential, "r");
	if (!f || !fgets(cred, sizeof(cred), f)) {
		if (f)
			fclose(f);
		om_err(om_tr("console.push.no_credential"), o->credential);
		return 1;
	}
	fclose(f);
	cred[strcspn(cred, "\r\n")] = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	unsigned interval = o->interval ? o->interval : 10;
	int rc = 0;
	while (!poll_stop) {
		int r = con_poll_once(o, cred, NULL);
		if (o->once) {
			rc = r < 0 ? 1 : 0;
			break;
		}
		for (unsigned i = 0; i < interval * 10 && !poll_stop; i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	curl_global_cleanup();
	return rc;
}

/* ---- the poll in a thread of the gateway ---- */

struct om_desk_poller {
	pthread_t thread;
	con_poll_options o;
	char url[512], cacert[512];
	char cred[80];
	enum om_lang lang; /* of its log messages */
	volatile int stop;
};

static void *poller_run(void *arg)
{
	om_desk_poller *p = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	om_lang_set_thread(p->lang);
	unsigned interval = p->o.interval ? p->o.interval : 10;
	while (!p->stop) {
		con_poll_once(&p->o, p->cred, NULL);
		for (unsigned i = 0; i < interval * 10 && !p->stop; i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int om_desk_poller_start(const char *url, const char *credential_file, const char *cacert,
                         unsigned interval, enum om_lang lang, om_desk_apply_fn apply, void *user,
                         om_desk_poller **ret)
{
	om_desk_poller *p;
	FILE *f;

	if (!url || strlen(url) >= sizeof(p->url) || strncmp(url, "http", 4) != 0 || !apply ||
	    (cacert && strlen(cacert) >= sizeof(p->cacert)))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	f = credential_file ? fopen(credential_file, "r") : NULL;
	if (!f || !fgets(p->cred, sizeof(p->cred), f)) {
		if (f)
			fclose(f);
		free(p);
		return -ENOENT;
	}
	fclose(f);
	p->cred[strcspn(p->cred, "\r\n")] = '\0';
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->lang = lang;
	if (cacert)
		snprintf(p->cacert, sizeof(p->cacert), "%s", cacert);
	p->o = (con_poll_options){.url = p->url,
	                          .cacert = cacert ? p->cacert : NULL,
	                          .interval = interval,
	                          .apply = apply,
	                          .user = user};
	/* curl's global set-up is not thread-safe: done here, before the thread */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&p->thread, NULL, poller_run, p) != 0) {
		free(p);
		return -EAGAIN;
	}
	*ret = p;
	return 0;
}

om_desk_poller *om_desk_poller_stop(om_desk_poller *p)
{
	if (p) {
		p->stop = 1;
		pthread_join(p->thread, NULL);
		free(p);
	}
	return NULL;
}
