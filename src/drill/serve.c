/* drill: the tracking server (libmicrohttpd, one polling thread, so the
 * store is used from that thread only). Every request is hostile input:
 * only the tracking paths of known tokens are answered, anything else gets
 * the same 404. The sign-in form of the attachment posts here; its body is
 * discarded as it arrives and never parsed or kept: only the fact that
 * something was sent is recorded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "drill/drill.h"

/* A 1x1 transparent GIF. */
static const unsigned char gif1x1[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

struct srv {
	om_store *s;
	const om_drill_serve_opts *o;
	unsigned long requests, recorded, refused;
};

/* The state of one POST: its body is counted and dropped. */
struct post {
	int started;
	uint64_t dropped;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *ctype,
                              const void *body, size_t len, const char *location)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Robots-Tag", "noindex, nofollow");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (location)
		MHD_add_response_header(resp, "Location", location);
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result not_found(struct srv *sv, struct MHD_Connection *conn)
{
	static const char nf[] = "not found\n";
	sv->refused++;
	return answer(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", nf, sizeof(nf) - 1,
	              NULL);
}

static void client_ip(struct MHD_Connection *conn, char *ip, size_t n)
{
	ip[0] = 0;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
		          (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
		          (socklen_t)n);
}

/* Behind a reverse proxy: the last address of X-Forwarded-For (the one
 * the proxy itself added; earlier ones are the client's word). Kept as the
 * peer's address when the header is missing or not an address. */
static void forwarded_ip(struct MHD_Connection *conn, char *ip, size_t n)
{
	const char *x = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
	if (!x)
		return;
	const char *last = strrchr(x, ',');
	last = last ? last + 1 : x;
	while (*last == ' ' || *last == '\t')
		last++;
	char a[INET6_ADDRSTRLEN];
	size_t l = strcspn(last, " \t");
	if (l == 0 || l >= sizeof(a))
		return;
	memcpy(a, last, l);
	a[l] = 0;
	unsigned char bin[16];
	if (inet_pton(AF_INET, a, bin) == 1 || inet_pton(AF_INET6, a, bin) == 1)
		snprintf(ip, n, "%s", a);
}

static void record(struct srv *sv, struct MHD_Connection *conn, const om_store_drill_token_info *ti,
                   enum om_drill_kind k, const char *token)
{
	char ip[INET6_ADDRSTRLEN] = "", ua[256] = "";
	client_ip(conn, ip, sizeof(ip));
	if (sv->o->behind_proxy)
		forwarded_ip(conn, ip, sizeof(ip));
	const char *u = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	if (u) {
		/* kept short and printable: it is shown in the results */
		size_t i = 0;
		for (; u[i] && i + 1 < sizeof(ua); i++)
			ua[i] = (u[i] >= 0x20 && u[i] < 0x7f) ? u[i] : '?';
		ua[i] = 0;
	}
	om_store_drill_event e = {
	    .round_id = ti->round,
	    .token = token,
	    .kind = om_drill_kind_name(k),
	    .ip = ip,
	    .ua = ua,
	    .source = "web",
	    .at = (int64_t)om_time_now(),
	    .flags = om_drill_scan_request(&sv->o->scan, ip, ua),
	};
	if (om_store_drill_event_add(sv->s, &e) == 0)
		sv->recorded++;
}

static enum MHD_Result page(struct MHD_Connection *conn, const om_store_drill_token_info *ti,
                            const char *token, bool thanks)
{
	enum om_lang lang = strcmp(ti->lang, "en") ? OM_LANG_JA : OM_LANG_EN;
	om_buf b;
	om_buf_init(&b, 1u << 20);
	char report[64];
	snprintf(report, sizeof(report), "/t/r/%s", token);
	om_store_drill_target tg = {
	    .organisation = ti->organisation, .mail = "", .custom_json = "{}"};
	om_drill_vars v = {.target = &tg, .report_link = report, .token = token};
	int r;
	if (thanks) {
		r = om_buf_printf(
		    &b,
		    "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
		    "<title>%s</title></head><body style=\"font-family:sans-serif;"
		    "max-width:40em;margin:2em auto\"><h1>%s</h1><p>%s</p></body></html>",
		    om_lang_name(lang), om_msg(lang, "drill.serve.thanks_title"),
		    om_msg(lang, "drill.serve.thanks_title"),
		    om_msg(lang, "drill.serve.thanks_body"));
	} else {
		r = om_drill_landing(lang, &v, &b);
	}
	enum MHD_Result ret =
	    r < 0 ? MHD_NO
	          : answer(conn, MHD_HTTP_OK, "text/html; charset=utf-8", b.data, b.len, NULL);
	om_buf_free(&b);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	struct srv *sv = cls;
	enum om_drill_kind k;
	char token[OM_DRILL_TOKEN_LEN + 1];
	bool post = !strcmp(method, "POST");
	if (post) {
		/* the form's values are dropped as they come, unread */
		struct post *p = *con_cls;
		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p)
				return MHD_NO;
			*con_cls = p;
			return MHD_YES;
		}
		if (*upload_data_size) {
			p->dropped += *upload_data_size;
			*upload_data_size = 0;
			return MHD_YES;
		}
	}
	sv->requests++;
	if (om_drill_track_parse(url, strlen(url), &k, token) < 0)
		return not_found(sv, conn);
	if (post != (k == OM_DRILL_EV_SUBMIT) ||
	    (!post && strcmp(method, "GET") && strcmp(method, "HEAD")))
		return not_found(sv, conn);
	om_store_drill_token_info ti;
	if (om_store_drill_token(sv->s, token, &ti) < 0)
		return not_found(sv, conn);
	if (k != OM_DRILL_EV_LANDING)
		record(sv, conn, &ti, k, token);
	switch (k) {
	case OM_DRILL_EV_OPEN:
	case OM_DRILL_EV_ATTACH:
		return answer(conn, MHD_HTTP_OK, "image/gif", gif1x1, sizeof(gif1x1), NULL);
	case OM_DRILL_EV_SUBMIT: {
		char loc[64];
		snprintf(loc, sizeof(loc), "/t/l/%s", token);
		return answer(conn, MHD_HTTP_SEE_OTHER, "text/plain", "", 0, loc);
	}
	case OM_DRILL_EV_REPORT: return page(conn, &ti, token, true);
	default: return page(conn, &ti, token, false);
	}
}

static void done_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int om_drill_serve(om_store *s, const om_drill_serve_opts *o, char *err, size_t errlen)
{
	struct srv sv = {.s = s, .o = o};
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, o->addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(o->port);
	} else if (inet_pton(AF_INET6, o->addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(o->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "%s", o->addr);
		return -EINVAL;
	}
	struct MHD_Daemon *d =
	    MHD_start_daemon(flags, o->port, NULL, NULL, handler, &sv, MHD_OPTION_SOCK_ADDR,
	                     (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL,
	                     MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
	if (!d) {
		snprintf(err, errlen, "%s:%u: %s", o->addr, o->port,
		         strerror(errno ? errno : EADDRINUSE));
		return -EADDRINUSE;
	}
	if (o->ready)
		o->ready(o->ready_user);
	while (!(o->stop && *o->stop)) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(d);
	return 0;
}
