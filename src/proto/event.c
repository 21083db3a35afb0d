/* event.c: the proto module's workers and the records its parsers hand to
 * the engine's sink. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"

om_proto_worker *om_proto_worker_new(om_proto *p, unsigned index, const om_proto_sink *sink)
{
	om_proto_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->p = p;
	w->index = index;
	if (sink)
		w->sink = *sink;
	if (proto_files_worker_init(w) < 0) {
		free(w);
		return NULL;
	}
	for (unsigned i = 0; i < p->nobs; i++) {
		const om_proto_observer *o = &p->obs[i];
		if (o->worker_new && !(w->obs_ctx[i] = o->worker_new(o->user, index))) {
			om_proto_worker_free(w);
			return NULL;
		}
	}
	return w;
}

om_proto_worker *om_proto_worker_free(om_proto_worker *w)
{
	if (!w)
		return NULL;
	for (unsigned i = 0; i < w->p->nobs; i++)
		if (w->obs_ctx[i] && w->p->obs[i].worker_free)
			w->p->obs[i].worker_free(w->obs_ctx[i], w->p->obs[i].user);
	proto_files_worker_fini(w);
	free(w);
	return NULL;
}

void om_proto_worker_stats(const om_proto_worker *w, om_proto_stats *ret)
{
	*ret = w->stats;
}

struct om_proto_worker *proto_worker(const om_flow *f)
{
	return om_app_worker_user(f);
}

void proto_event(om_flow *f, const om_proto_event *ev)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w || !w->sink.event)
		return;
	w->stats.events++;
	w->sink.event(w->sink.user, f, ev);
}

struct anomaly_arg {
	const char *app_proto, *event;
};

static void anomaly_body(om_json *j, void *arg)
{
	const struct anomaly_arg *a = arg;
	om_json_obj_open(j, "anomaly");
	om_json_str(j, "app_proto", a->app_proto);
	om_json_str(j, "type", "applayer");
	om_json_str(j, "event", a->event);
	om_json_str(j, "layer", "proto_parser");
	om_json_obj_close(j);
}

void proto_anomaly(om_flow *f, int dir, const char *app_proto, const char *event)
{
	struct om_proto_worker *w = proto_worker(f);
	if (w)
		w->stats.anomalies++;
	struct anomaly_arg a = {app_proto, event};
	static const om_event_meta meta = {.severity = 3, .action = "detected"};
	om_proto_event ev = {
	    .event_type = "anomaly", .dir = dir, .body = anomaly_body, .arg = &a, .meta = &meta};
	proto_event(f, &ev);
}

/* ---- transactions ------------------------------------------------------------ */

int om_proto_add_observer(om_proto *p, const om_proto_observer *o)
{
	if (!o || !o->name || !o->on_tx)
		return -EINVAL;
	if (p->nobs >= OM_PROTO_MAX_OBSERVERS)
		return -ENOSPC;
	p->obs[p->nobs++] = *o;
	if (!o->no_http_bodies)
		p->http_bodies_read = true;
	return 0;
}

static const char *const buf_names[OM_TXB_COUNT] = {
    [OM_TXB_HTTP_METHOD] = "http.method",
    [OM_TXB_HTTP_URI] = "http.uri",
    [OM_TXB_HTTP_URI_RAW] = "http.uri.raw",
    [OM_TXB_HTTP_HOST] = "http.host",
    [OM_TXB_HTTP_HOST_RAW] = "http.host.raw",
    [OM_TXB_HTTP_PROTOCOL] = "http.protocol",
    [OM_TXB_HTTP_REQUEST_LINE] = "http.request_line",
    [OM_TXB_HTTP_HEADER] = "http.header",
    [OM_TXB_HTTP_HEADER_RAW] = "http.header.raw",
    [OM_TXB_HTTP_HEADER_NAMES] = "http.header_names",
    [OM_TXB_HTTP_USER_AGENT] = "http.user_agent",
    [OM_TXB_HTTP_COOKIE] = "http.cookie",
    [OM_TXB_HTTP_CONTENT_TYPE] = "http.content_type",
    [OM_TXB_HTTP_REFERER] = "http.referer",
    [OM_TXB_HTTP_START] = "http.start",
    [OM_TXB_HTTP_REQUEST_BODY] = "http.request_body",
    [OM_TXB_HTTP_STAT_CODE] = "http.stat_code",
    [OM_TXB_HTTP_STAT_MSG] = "http.stat_msg",
    [OM_TXB_HTTP_RESPONSE_LINE] = "http.response_line",
    [OM_TXB_HTTP_RESPONSE_HEADER] = "http.response_header",
    [OM_TXB_HTTP_RESPONSE_BODY] = "http.response_body",
    [OM_TXB_HTTP_LOCATION] = "http.location",
    [OM_TXB_HTTP_SERVER] = "http.server",
    [OM_TXB_DNS_QUERY] = "dns.query",
    [OM_TXB_DNS_ANSWER_NAME] = "dns.answer.name",
    [OM_TXB_TLS_SNI] = "tls.sni",
    [OM_TXB_TLS_CERT_SUBJECT] = "tls.cert_subject",
    [OM_TXB_TLS_CERT_ISSUER] = "tls.cert_issuer",
    [OM_TXB_TLS_CERT_SERIAL] = "tls.cert_serial",
    [OM_TXB_TLS_CERT_FINGERPRINT] = "tls.cert_fingerprint",
    [OM_TXB_TLS_CERT] = "tls.certs",
    [OM_TXB_TLS_VERSION] = "tls.version",
    [OM_TXB_JA3_HASH] = "ja3.hash",
    [OM_TXB_JA3_STRING] = "ja3.string",
    [OM_TXB_JA3S_HASH] = "ja3s.hash",
    [OM_TXB_JA3S_STRING] = "ja3s.string",
    [OM_TXB_JA4] = "ja4.hash",
    [OM_TXB_TLS_ALPN] = "tls.alpn",
    [OM_TXB_SMTP_HELO] = "smtp.helo",
    [OM_TXB_SMTP_MAIL_FROM] = "smtp.mail_from",
    [OM_TXB_SMTP_RCPT_TO] = "smtp.rcpt_to",
    [OM_TXB_EMAIL_FROM] = "email.from",
    [OM_TXB_EMAIL_TO] = "email.to",
    [OM_TXB_EMAIL_SUBJECT] = "email.subject",
    [OM_TXB_EMAIL_URL] = "email.url",
    [OM_TXB_FTP_COMMAND] = "ftp.command",
    [OM_TXB_FTP_COMMAND_DATA] = "ftp.command_data",
    [OM_TXB_EMAIL_HEADERS] = "email.headers",
    [OM_TXB_EMAIL_BODY] = "email.body",
    [OM_TXB_EMAIL_ATTACHMENT] = "email.attachment",
    [OM_TXB_EMAIL_ATTACHMENT_HEAD] = "email.attachment_head",
    [OM_TXB_TLS_ECH] = "tls.ech",
};

const char *om_tx_buf_name(enum om_tx_buf b)
{
	return (unsigned)b < OM_TXB_COUNT ? buf_names[b] : NULL;
}

int om_tx_buf_from_name(const char *name)
{
	for (int i = 0; i < OM_TXB_COUNT; i++)
		if (buf_names[i] && !strcmp(buf_names[i], name))
			return i;
	return -1;
}

const uint8_t *om_tx_get(const om_proto_tx *tx, enum om_tx_buf b, uint32_t idx, uint32_t *ret_len)
{
	if (!tx || !tx->buffer || (unsigned)b >= OM_TXB_COUNT)
		return NULL;
	uint32_t n = 0;
	const uint8_t *p = tx->buffer(tx, b, idx, &n);
	if (p && ret_len)
		*ret_len = n;
	/* p points into the parser's transaction, never at n */
	// cppcheck-suppress returnDanglingLifetime
	return p;
}

void proto_tx_ready(om_flow *f, const om_proto_tx *tx)
{
	struct om_proto_worker *w = proto_worker(f);
	if (!w)
		return;
	const om_proto *p = w->p;
	w->nnotes = 0;
	w->note_meta = NULL;
	w->in_tx = true;
	for (unsigned i = 0; i < p->nobs; i++) {
		enum om_tx_verdict v = p->obs[i].on_tx(w->obs_ctx[i], f, tx);
		switch (v) {
		case OM_TX_VERDICT_REJECT: f->flags |= OM_FLOW_F_REJECT; /* fall through */
		case OM_TX_VERDICT_DROP: f->flags |= OM_FLOW_F_DROP;     /* fall through */
		case OM_TX_VERDICT_ALERT: f->flags |= OM_FLOW_F_ALERTED; break;
		case OM_TX_VERDICT_ACCEPT: break;
		}
	}
	w->in_tx = false;
}

int om_proto_tx_note(om_flow *f, om_proto_body_fn fn, void *arg, const om_event_meta *meta)
{
	struct om_proto_worker *w = f ? proto_worker(f) : NULL;
	if (!w || !w->in_tx || !fn)
		return -EINVAL;
	if (w->nnotes >= OM_PROTO_MAX_NOTES)
		return -ENOSPC;
	w->notes[w->nnotes].fn = fn;
	w->notes[w->nnotes].arg = arg;
	w->nnotes++;
	/* severity 1 is the highest */
	if (meta && (!w->note_meta || (meta->severity && meta->severity < w->note_meta->severity)))
		w->note_meta = meta;
	return 0;
}

void proto_tx_notes_write(om_flow *f, om_json *j)
{
	struct om_proto_worker *w = proto_worker(f);
	for (unsigned i = 0; w && i < w->nnotes; i++)
		w->notes[i].fn(j, w->notes[i].arg);
}

const om_event_meta *proto_tx_notes_meta(om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	return w ? w->note_meta : NULL;
}

void proto_tx_notes_clear(om_flow *f)
{
	struct om_proto_worker *w = proto_worker(f);
	if (w) {
		w->nnotes = 0;
		w->note_meta = NULL;
	}
}
