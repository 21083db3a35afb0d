/* http.c: the HTTP/1.0 and 1.1 parser, on OISF's libhtp 0.5. libhtp splits
 * each direction into transactions (pipelined and keep-alive), removes
 * chunked framing, decodes gzip and deflate, normalises the URI and the
 * headers (folding joined, names looked up without case); this file feeds it
 * the reassembled stream, turns its transactions into EVE `http` records
 * with Suricata 7's fields, its warnings into `anomaly` records with
 * Suricata's event names, and every request and response body into files
 * (multipart/form-data parts each a file of their own, parsed here with a
 * bounded streaming parser; Range responses as partial files). The bodies
 * are kept, up to the configured limits, for the rule engine
 * (proto_http_body). Design note: docs/proto-http.md. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htp/htp.h>

#include "proto/http.h"
#include "proto/internal.h"

/* ---- settings ---------------------------------------------------------------- */

#define F(m) offsetof(struct om_proto_http_config, m), sizeof(((struct om_proto_http_config *)0)->m)
static const om_config_key http_keys[] = {
    {"app-layer.http.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.http.enabled",
     NULL, NULL},
    {"app-layer.http.request-body-limit", OM_CK_U64, F(request_body_limit), 0, 1ull << 30,
     "config.help.app-layer.http.request-body-limit", NULL, NULL},
    {"app-layer.http.response-body-limit", OM_CK_U64, F(response_body_limit), 0, 1ull << 30,
     "config.help.app-layer.http.response-body-limit", NULL, NULL},
    {"app-layer.http.max-header-bytes", OM_CK_U32, F(max_header_bytes), 256, 1u << 20,
     "config.help.app-layer.http.max-header-bytes", NULL, NULL},
    {"app-layer.http.max-tx", OM_CK_U32, F(max_tx), 1, 65536, "config.help.app-layer.http.max-tx",
     NULL, NULL},
    {"app-layer.http.decompress-ratio", OM_CK_U32, F(decompress_ratio), 2, 100000,
     "config.help.app-layer.http.decompress-ratio", NULL, NULL},
    {"app-layer.http.decompress-limit", OM_CK_U64, F(decompress_limit), 4096, 1ull << 34,
     "config.help.app-layer.http.decompress-limit", NULL, NULL},
};
#undef F

static void http_defaults(void *obj)
{
	struct om_proto_http_config *c = obj;
	c->enabled = true;
	c->request_body_limit = 100u << 10; /* Suricata's default */
	c->response_body_limit = 100u << 10;
	c->max_header_bytes = 32u << 10;
	c->max_tx = 512; /* Suricata's default */
	c->decompress_ratio = 250;
	c->decompress_limit = 64ull << 20;
}

const om_config_schema proto_http_schema = {
    "proto",       http_keys, OM_ARRAY_SIZE(http_keys), sizeof(struct om_proto_http_config),
    http_defaults, NULL,
};

/* ---- limits that are not settings ----------------------------------------------- */

#define PEND_MAX (64u << 10)   /* bytes of one direction held while libhtp waits for the other */
#define ANOMALY_MAX 64u        /* anomaly records per flow; then one TOO_MANY_WARNINGS */
#define DONE_MAX 16u           /* finished transactions kept until the next callback */
#define RATIO_FLOOR (1u << 20) /* decompressed bytes below which the ratio is not checked */
#define MP_LINE_MAX 1024u      /* bytes of one multipart part header line kept */
#define MP_NAME_MAX 512u       /* bytes of a part's filename kept */
#define MP_FILES_MAX 64u       /* file parts per request */
#define MP_BOUNDARY_MAX 70u    /* RFC 2046 */
#define NAME_MAX_HTTP 1024u    /* bytes of a file name taken from the URI */

/* ---- per worker: libhtp's configuration ------------------------------------------- */

struct http_worker {
	htp_cfg_t *cfg;
	struct om_proto_http_config c;
	bool ready;
	bool failed;
};

/* ---- per flow, per transaction ------------------------------------------------------ */

struct mpart {
	uint8_t delim[MP_BOUNDARY_MAX + 4]; /* CR LF "--" boundary */
	uint32_t dlen, m;                   /* delimiter length, bytes of it matched */
	enum { MP_PREAMBLE, MP_AFTER, MP_HEADERS, MP_DATA, MP_DONE } st;
	bool dash; /* one '-' seen right after a delimiter */
	char line[MP_LINE_MAX];
	uint32_t llen;
	uint8_t name[MP_NAME_MAX];
	uint32_t nlen;
	bool has_name;
	om_file *file;
	uint32_t files;
};

struct body {
	uint8_t *buf;
	size_t len, cap;
	uint64_t seen; /* bytes given by libhtp (decoded) */
	bool full;
};

struct http_tx {
	struct http_state *s;
	htp_tx_t *tx;
	uint64_t id;
	om_file *file[2]; /* [OM_DIR_TOSERVER] a plain upload, [OM_DIR_TOCLIENT] the download */
	struct mpart *mp;
	struct body body[2];
	bool bomb[2];
	bool gapped[2]; /* bytes of the body were lost */
	bool opened[2]; /* the body's file was opened (it may be closed again) */
	bool done;      /* in the state's list of finished transactions */
	bool logged;
	uint32_t hdr_bytes[2];
	bool hdr_over[2];
	bool tunnel, upgrade;
	struct body raw_hdr[2]; /* the header blocks as sent, for the rule engine */
	/* buffers built for the rule engine when first asked for */
	struct body built[5];
};

enum { BUILT_URI, BUILT_HEADER, BUILT_RESPONSE_HEADER, BUILT_HEADER_NAMES, BUILT_START };

struct http_state {
	htp_connp_t *connp;
	struct http_worker *w;
	const struct om_proto_http_config *c;
	om_flow *f;
	int dir; /* direction being fed, for libhtp's log callback */
	struct {
		uint8_t *buf;
		size_t len;
	} pend[2];
	htp_tx_t *done[DONE_MAX];
	unsigned ndone;
	unsigned anomalies;
	bool ended[2], dead[2], finished, error, extra09_noted;
	/* bodies and header blocks are kept only for someone who can read
	 * them: an observer (tx_buffer) or a file subscriber (proto_http_body)
	 * that did not say it never does (no_http_bodies) */
	bool keep;
};

static const char *const dir_name[2] = {"REQUEST", "RESPONSE"};

static void anomaly(struct http_state *s, int dir, const char *event)
{
	if (s->anomalies > ANOMALY_MAX)
		return;
	if (s->anomalies++ == ANOMALY_MAX)
		event = "TOO_MANY_WARNINGS";
	proto_anomaly(s->f, dir, "http", event);
}

/* ---- libhtp's messages as Suricata's event names -------------------------------------- */

static const struct {
	const char *prefix, *event;
} htp_events[] = {
    /* errors */
    {"GZip decompressor: inflateInit2 failed", "GZIP_DECOMPRESSION_FAILED"},
    {"Request field invalid: colon missing", "REQUEST_FIELD_MISSING_COLON"},
    {"Response field invalid: missing colon", "RESPONSE_FIELD_MISSING_COLON"},
    {"Request chunk encoding: Invalid chunk length", "INVALID_REQUEST_CHUNK_LEN"},
    {"Response chunk encoding: Invalid chunk length", "INVALID_RESPONSE_CHUNK_LEN"},
    {"Invalid C-L field in response", "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE"},
    {"Already seen 100-Continue", "100_CONTINUE_ALREADY_SEEN"},
    {"Unable to match response to request", "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"},
    {"Invalid server port information in request", "INVALID_SERVER_PORT_IN_REQUEST"},
    {"Request buffer over", "REQUEST_FIELD_TOO_LONG"},
    {"Response buffer over", "RESPONSE_FIELD_TOO_LONG"},
    {"C-T multipart/byteranges in responses not supported", "RESPONSE_MULTIPART_BYTERANGES"},
    {"Compression bomb:", "COMPRESSION_BOMB"},
    /* warnings */
    {"GZip decompressor:", "GZIP_DECOMPRESSION_FAILED"},
    {"Request field invalid", "REQUEST_HEADER_INVALID"},
    {"Response field invalid", "RESPONSE_HEADER_INVALID"},
    {"Request header name is not a token", "REQUEST_HEADER_INVALID"},
    {"Response header name is not a token", "RESPONSE_HEADER_INVALID"},
    {"Invalid request field folding", "INVALID_REQUEST_FIELD_FOLDING"},
    {"Invalid response field folding", "INVALID_RESPONSE_FIELD_FOLDING"},
    {"Request server port=", "REQUEST_SERVER_PORT_TCP_PORT_MISMATCH"},
    {"Request line: URI contains non-compliant delimiter", "URI_DELIM_NON_COMPLIANT"},
    {"Request line: non-compliant delimiter between Method and URI", "METHOD_DELIM_NON_COMPLIANT"},
    {"Request line: leading whitespace", "REQUEST_LINE_LEADING_WHITESPACE"},
    {"Too many response content encoding layers", "TOO_MANY_ENCODING_LAYERS"},
    {"C-E gzip has abnormal value", "ABNORMAL_CE_HEADER"},
    {"C-E deflate has abnormal value", "ABNORMAL_CE_HEADER"},
    {"C-E unknown setting", "ABNORMAL_CE_HEADER"},
    {"Excessive request header repetitions", "REQUEST_HEADER_REPETITION"},
    {"Excessive response header repetitions", "RESPONSE_HEADER_REPETITION"},
    {"Transfer-encoding has abnormal chunked value", "RESPONSE_ABNORMAL_TRANSFER_ENCODING"},
    {"Chunked transfer-encoding on HTTP/0.9 or HTTP/1.0", "RESPONSE_CHUNKED_OLD_PROTO"},
    {"Invalid response line: invalid protocol", "RESPONSE_INVALID_PROTOCOL"},
    {"Invalid response line: invalid response status", "RESPONSE_INVALID_STATUS"},
    {"Request line incomplete", "REQUEST_LINE_INCOMPLETE"},
    {"Unexpected request body", "REQUEST_BODY_UNEXPECTED"},
    {"LZMA decompressor: memory limit reached", "LZMA_MEMLIMIT_REACHED"},
    {"Ambiguous request C-L value", "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST"},
    {"Ambiguous response C-L value", "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE"},
    {"Too many request headers", "REQUEST_TOO_MANY_HEADERS"},
    {"Too many response headers", "RESPONSE_TOO_MANY_HEADERS"},
    {"Request chunk extension", "REQUEST_CHUNK_EXTENSION"},
    {"Request line: missing protocol", "REQUEST_LINE_MISSING_PROTOCOL"},
};

static int on_log(htp_log_t *log)
{
	if (!log || !log->connp || !log->msg || log->level > HTP_LOG_WARNING)
		return HTP_OK;
	struct http_state *s = htp_connp_get_user_data(log->connp);
	if (!s || !s->f)
		return HTP_OK;
	/* the echo of an error already counted, on a later call */
	if (strstr(log->msg, "parser is in HTP_STREAM_ERROR"))
		return HTP_OK;
	/* a message without a name is not an event: Suricata 7 writes none
	 * for them either (libhtp's "Repetition for header" on any repeated
	 * header, for example) */
	for (size_t i = 0; i < OM_ARRAY_SIZE(htp_events); i++)
		if (!strncmp(log->msg, htp_events[i].prefix, strlen(htp_events[i].prefix))) {
			anomaly(s, s->dir, htp_events[i].event);
			break;
		}
	return HTP_OK;
}

/* ---- small helpers ------------------------------------------------------------------- */

/* htp_table_get_c(t, name) for a lower-case name, without its compare on
 * every entry: a name of another length can only match when it is longer
 * (libhtp's compare skips NUL bytes in it), and one of the same length
 * matches when its bytes do, without case (a NUL never matches). */
/* whether header name key is name (lower case, k bytes): compared
 * without case, and, when key is longer, also without its NUL bytes */
static bool name_is(const bstr *key, const char *name, size_t k)
{
	if (bstr_len(key) < k)
		return false;
	if (bstr_len(key) > k)
		return bstr_cmp_c_nocasenorzero(key, name) == 0;
	const uint8_t *p = bstr_ptr(key);
	for (size_t c = 0; c < k; c++) {
		uint8_t a = p[c];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (a != (uint8_t)name[c])
			return false;
	}
	return true;
}

static const htp_header_t *header(htp_table_t *t, const char *name)
{
	if (!t)
		return NULL;
	size_t k = strlen(name), n = htp_table_size(t);
	for (size_t i = 0; i < n; i++) {
		bstr *key = NULL;
		htp_header_t *h = htp_table_get_index(t, i, &key);
		if (key && name_is(key, name, k))
			return h;
	}
	return NULL;
}

/* The first header of each of the n names (lower case) in t, as header()
 * finds them, in one pass over t; ret[i] NULL where there is none. */
static void headers(htp_table_t *t, const char *const *names, size_t n, const htp_header_t **ret)
{
	size_t len[8], left = n;
	for (size_t k = 0; k < n; k++) {
		ret[k] = NULL;
		len[k] = strlen(names[k]);
	}
	size_t tn = t ? htp_table_size(t) : 0;
	for (size_t i = 0; i < tn && left; i++) {
		bstr *key = NULL;
		htp_header_t *h = htp_table_get_index(t, i, &key);
		if (!key)
			continue;
		for (size_t k = 0; k < n; k++)
			if (!ret[k] && name_is(key, names[k], len[k])) {
				ret[k] = h;
				left--;
			}
	}
}

static void json_bstr(om_json *j, const char *key, const bstr *b)
{
	if (b)
		om_json_strn(j, key, (const char *)bstr_ptr(b), bstr_len(b));
}

static void json_header(om_json *j, const char *key, htp_table_t *t, const char *name)
{
	const htp_header_t *h = header(t, name);
	if (h && h->value)
		json_bstr(j, key, h->value);
}

static void json_hvalue(om_json *j, const char *key, const htp_header_t *h)
{
	if (h && h->value)
		json_bstr(j, key, h->value);
}

static bool ci_prefix(const uint8_t *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		uint8_t a = p[i], b = (uint8_t)lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (a != b)
			return false;
	}
	return true;
}

/* Finds param= (case-insensitive, not param*=) in a header value; returns
 * the value, unquoted, or NULL. */
static const uint8_t *find_param(const uint8_t *v, size_t n, const char *param, size_t *ret_len)
{
	size_t k = strlen(param);
	for (size_t i = 0; i + k < n; i++) {
		if ((i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' && v[i - 1] != '\t') ||
		    !ci_prefix(v + i, n - i, param) || v[i + k] != '=')
			continue;
		size_t a = i + k + 1, b;
		if (a < n && v[a] == '"') {
			a++;
			for (b = a; b < n && v[b] != '"'; b++)
				;
		} else {
			for (b = a; b < n && v[b] != ';' && v[b] != ' ' && v[b] != '\t'; b++)
				;
		}
		*ret_len = b - a;
		return v + a;
	}
	return NULL;
}

/* Content-Range: bytes START-END/SIZE (SIZE may be '*'); -1 where absent. */
struct crange {
	int64_t start, end, size;
};

static int64_t parse_num(const uint8_t *p, size_t n, size_t *i)
{
	int64_t v = 0;
	size_t k = *i;
	if (k >= n || p[k] < '0' || p[k] > '9')
		return -1;
	while (k < n && p[k] >= '0' && p[k] <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[k] - '0');
		k++;
	}
	*i = k;
	return v;
}

static int parse_crange(const bstr *b, struct crange *ret)
{
	const uint8_t *p = bstr_ptr(b);
	size_t n = bstr_len(b), i = 0;
	struct crange r = {-1, -1, -1};
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (!ci_prefix(p + i, n - i, "bytes"))
		return -EINVAL;
	i += 5;
	while (i < n && (p[i] == ' ' || p[i] == '='))
		i++;
	if (i < n && p[i] == '*') {
		i++;
	} else {
		r.start = parse_num(p, n, &i);
		if (r.start < 0 || i >= n || p[i] != '-')
			return -EINVAL;
		i++;
		r.end = parse_num(p, n, &i);
		if (r.end < r.start)
			return -EINVAL;
	}
	if (i >= n || p[i] != '/')
		return -EINVAL;
	i++;
	if (i < n && p[i] == '*')
		r.size = -1;
	else if ((r.size = parse_num(p, n, &i)) < 0 || (r.end >= 0 && r.end >= r.size))
		return -EINVAL;
	*ret = r;
	return 0;
}

/* ---- records ------------------------------------------------------------------------- */

/* The members of Suricata 7's "http" object (basic and extended), as its
 * default configuration writes them: no header arrays, no xff. */
static void http_members(om_json *j, htp_tx_t *tx, bool at_open)
{
	json_bstr(j, "hostname", tx->request_hostname);
	if (tx->request_port_number >= 0)
		om_json_u64(j, "http_port", (uint64_t)tx->request_port_number);
	json_bstr(j, "url", tx->request_uri);
	static const char *const req_names[] = {"user-agent", "referer"};
	static const char *const res_names[] = {"content-type", "content-range", "location"};
	const htp_header_t *rq[2], *rs[3];
	headers(tx->request_headers, req_names, 2, rq);
	headers(tx->response_headers, res_names, 3, rs);
	json_hvalue(j, "http_user_agent", rq[0]);
	const htp_header_t *ct = rs[0];
	if (ct && ct->value) {
		const uint8_t *p = bstr_ptr(ct->value);
		size_t n = bstr_len(ct->value), k = 0;
		while (k < n && p[k] != ';')
			k++;
		om_json_strn(j, "http_content_type", (const char *)p, k);
	}
	const htp_header_t *cr = rs[1];
	if (cr && cr->value) {
		om_json_obj_open(j, "content_range");
		json_bstr(j, "raw", cr->value);
		struct crange r;
		if (parse_crange(cr->value, &r) == 0) {
			if (r.start >= 0)
				om_json_u64(j, "start", (uint64_t)r.start);
			if (r.end >= 0)
				om_json_u64(j, "end", (uint64_t)r.end);
			if (r.size >= 0)
				om_json_u64(j, "size", (uint64_t)r.size);
		}
		om_json_obj_close(j);
	}
	json_hvalue(j, "http_refer", rq[1]);
	json_bstr(j, "http_method", tx->request_method);
	json_bstr(j, "protocol", tx->request_protocol);
	/* a file opened while the server had sent only "100 Continue" has no
	 * final status yet */
	bool interim =
	    at_open && tx->response_status_number >= 100 && tx->response_status_number < 200;
	if (tx->response_status_number > 0 && !interim)
		om_json_u64(j, "status", (uint64_t)tx->response_status_number);
	else if (tx->response_status && !interim)
		json_bstr(j, "status_string", tx->response_status);
	json_hvalue(j, "redirect", rs[2]);
	/* Suricata writes fileinfo when the file closes, with the body's
	 * final length; ours is written when it opens (the file interface
	 * keeps the context from then): the announced Content-Length, which
	 * is the final length of a complete body, or what came so far */
	int64_t len = tx->response_message_len;
	if (at_open && tx->response_content_length > len)
		len = tx->response_content_length;
	om_json_u64(j, "length", len > 0 ? (uint64_t)len : 0);
}

static void http_record(om_json *j, void *arg)
{
	struct http_tx *t = arg;
	htp_tx_t *tx = t->tx;
	om_json_u64(j, "tx_id", t->id);
	om_json_obj_open(j, "http");
	http_members(j, tx, false);
	om_json_obj_close(j);
	if (t->tunnel || t->upgrade) {
		/* ours: Suricata hands the tunnel to another parser instead */
		om_json_obj_open(j, "omamori");
		om_json_obj_open(j, "http");
		if (t->tunnel)
			om_json_str(j, "tunnel", "CONNECT");
		if (t->upgrade)
			json_header(j, "upgrade", tx->response_headers, "upgrade");
		om_json_obj_close(j);
		om_json_obj_close(j);
	}
}

/* fileinfo's "http" object: what is known of the transaction when the file
 * opens (a download: the request and the response headers). */
static void file_ctx(om_json *j, void *arg)
{
	struct http_tx *t = arg;
	om_json_obj_open(j, "http");
	http_members(j, t->tx, true);
	om_json_obj_close(j);
}

/* ---- bodies -------------------------------------------------------------------------- */

static void body_keep(struct body *b, uint64_t limit, const uint8_t *d, size_t n)
{
	b->seen += n;
	if (b->full || !n)
		return;
	if (b->len + n > limit) {
		n = (size_t)(limit - b->len);
		b->full = true;
	}
	if (!n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > limit)
			cap = (size_t)limit;
		uint8_t *nb = realloc(b->buf, cap);
		if (!nb) {
			b->full = true;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, d, n);
	b->len += n;
}

/* body_keep for the buffers only observers and subscribers read */
static void tx_keep(struct http_tx *t, struct body *b, uint64_t limit, const uint8_t *d, size_t n)
{
	if (t->s->keep)
		body_keep(b, limit, d, n);
	else
		b->seen += n;
}

/* A file name from the URI: its path (normalised by libhtp), or the raw URI. */
static void uri_name(htp_tx_t *tx, const uint8_t **ret, size_t *ret_len)
{
	const bstr *b =
	    tx->parsed_uri && tx->parsed_uri->path ? tx->parsed_uri->path : tx->request_uri;
	*ret = b ? bstr_ptr(b) : (const uint8_t *)"";
	*ret_len = b ? bstr_len(b) : 0;
	if (*ret_len > NAME_MAX_HTTP)
		*ret_len = NAME_MAX_HTTP;
}

static om_file *open_file(struct http_tx *t, int dir, const uint8_t *name, size_t n)
{
	return proto_file_open(t->s->f, dir, "http", name, n, t->id, file_ctx, t);
}

/* ---- multipart/form-data ---------------------------------------------------------------- */

static struct mpart *mp_new(const htp_header_t *ct)
{
	if (!ct || !ct->value)
		return NULL;
	const uint8_t *v = bstr_ptr(ct->value);
	size_t n = bstr_len(ct->value), blen;
	if (!ci_prefix(v, n, "multipart/form-data"))
		return NULL;
	const uint8_t *b = find_param(v, n, "boundary", &blen);
	if (!b || !blen || blen > MP_BOUNDARY_MAX)
		return NULL;
	for (size_t i = 0; i < blen; i++)
		if (b[i] == '\r' || b[i] == '\n' || b[i] == '\0')
			return NULL;
	struct mpart *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, b, blen);
	m->dlen = (uint32_t)blen + 4;
	m->st = MP_PREAMBLE;
	return m;
}

static void mp_header_line(struct mpart *m)
{
	const uint8_t *l = (const uint8_t *)m->line;
	size_t n = m->llen;
	if (!ci_prefix(l, n, "content-disposition:"))
		return;
	size_t k;
	const uint8_t *fn = find_param(l, n, "filename", &k);
	if (!fn)
		return;
	if (k > MP_NAME_MAX)
		k = MP_NAME_MAX;
	memcpy(m->name, fn, k);
	m->nlen = (uint32_t)k;
	m->has_name = true;
}

static void mp_part_end(struct mpart *m, enum om_file_state st)
{
	proto_file_close(m->file, st);
	m->file = NULL;
	m->has_name = false;
	m->nlen = 0;
}

static void mp_emit(struct http_tx *t, struct mpart *m, const uint8_t *d, size_t n)
{
	(void)t;
	if (m->st == MP_DATA && m->file && n)
		proto_file_data(m->file, d, n);
}

/* Feeds body bytes: the delimiter starts with CR, which a boundary cannot
 * hold, so a failed partial match never hides the start of another. */
static void mp_feed(struct http_tx *t, struct mpart *m, const uint8_t *d, size_t n)
{
	size_t s = 0; /* start of the data run not yet emitted */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = d[i];
		switch (m->st) {
		case MP_DONE: return;
		case MP_AFTER:
			if (c == '-' && !m->dash) {
				m->dash = true;
			} else if (c == '-' && m->dash) {
				m->st = MP_DONE;
				return;
			} else if (c == '\n') {
				m->st = MP_HEADERS;
				m->llen = 0;
				m->dash = false;
			} else {
				m->dash = false;
			}
			break;
		case MP_HEADERS:
			if (c != '\n') {
				if (m->llen < MP_LINE_MAX)
					m->line[m->llen++] = (char)c;
				break;
			}
			if (m->llen && m->line[m->llen - 1] == '\r')
				m->llen--;
			if (m->llen) {
				mp_header_line(m);
				m->llen = 0;
				break;
			}
			m->st = MP_DATA;
			s = i + 1;
			if (m->has_name) {
				if (m->files < MP_FILES_MAX) {
					m->files++;
					m->file = open_file(t, OM_DIR_TOSERVER, m->name, m->nlen);
				} else if (m->files++ == MP_FILES_MAX) {
					anomaly(t->s, OM_DIR_TOSERVER, "MULTIPART_TOO_MANY_FILES");
				}
			}
			break;
		case MP_PREAMBLE:
		case MP_DATA:
			if (c == m->delim[m->m]) {
				if (m->m == 0 && i > s)
					mp_emit(t, m, d + s, i - s);
				if (++m->m == m->dlen) {
					if (m->st == MP_DATA)
						mp_part_end(m, OM_FILE_CLOSED);
					m->st = MP_AFTER;
					m->m = 0;
					m->dash = false;
				}
				s = i + 1;
				break;
			}
			if (m->m) {
				mp_emit(t, m, m->delim, m->m);
				m->m = 0;
				s = i;
				if (c == m->delim[0]) {
					m->m = 1;
					s = i + 1;
				}
			}
			break;
		}
	}
	if ((m->st == MP_DATA) && m->m == 0 && n > s)
		mp_emit(t, m, d + s, n - s);
}

static void mp_free(struct http_tx *t, enum om_file_state st)
{
	if (!t->mp)
		return;
	if (t->mp->file)
		mp_part_end(t->mp, st);
	free(t->mp);
	t->mp = NULL;
}

/* ---- transactions ----------------------------------------------------------------------- */

static struct http_tx *tx_data(htp_tx_t *tx)
{
	struct http_tx *t = htp_tx_get_user_data(tx);
	if (t)
		return t;
	struct http_state *s = htp_connp_get_user_data(tx->connp);
	if (!s)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->s = s;
	t->tx = tx;
	t->id = tx->index;
	htp_tx_set_user_data(tx, t);
	return t;
}

static void tx_files_close(struct http_tx *t, enum om_file_state st)
{
	for (int d = 0; d < 2; d++) {
		enum om_file_state fs = st;
		if (fs == OM_FILE_CLOSED && (t->bomb[d] || t->gapped[d]))
			fs = OM_FILE_TRUNCATED;
		proto_file_close(t->file[d], fs);
		t->file[d] = NULL;
	}
	mp_free(t, st);
}

static void tx_log(struct http_tx *t)
{
	if (t->logged)
		return;
	t->logged = true;
	om_proto_event ev = {.event_type = "http",
	                     .dir = OM_DIR_TOSERVER,
	                     .body = http_record,
	                     .arg = t,
	                     .meta = NULL};
	proto_event(t->s->f, &ev);
}

static void tx_free_data(htp_tx_t *tx)
{
	struct http_tx *t = htp_tx_get_user_data(tx);
	if (!t)
		return;
	tx_files_close(t, OM_FILE_TRUNCATED);
	for (int d = 0; d < 2; d++) {
		free(t->body[d].buf);
		free(t->raw_hdr[d].buf);
	}
	for (size_t i = 0; i < OM_ARRAY_SIZE(t->built); i++)
		free(t->built[i].buf);
	free(t);
	htp_tx_set_user_data(tx, NULL);
}

/* Transactions finished in an earlier callback: their bodies stayed for the
 * rule engine until now. */
static void sweep_done(struct http_state *s)
{
	for (unsigned i = 0; i < s->ndone; i++) {
		tx_free_data(s->done[i]);
		htp_tx_destroy(s->done[i]);
	}
	s->ndone = 0;
}

/* With nobody to read the bodies kept (s->keep false), the transactions
 * finished during this call are destroyed as it returns, while their
 * memory is still in the cache, instead of at the flow's next callback
 * (the same libhtp state: nothing reaches libhtp in between). */
static void sweep_now(struct http_state *s)
{
	if (!s->keep)
		sweep_done(s);
}

static void check_tx_flags(struct http_state *s, htp_tx_t *tx)
{
	if (tx->flags & HTP_REQUEST_INVALID_T_E)
		anomaly(s, OM_DIR_TOSERVER, "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST");
	if (tx->flags & HTP_REQUEST_INVALID_C_L)
		anomaly(s, OM_DIR_TOSERVER, "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST");
	if (tx->flags & HTP_HOST_MISSING)
		anomaly(s, OM_DIR_TOSERVER, "MISSING_HOST_HEADER");
	if (tx->flags & HTP_HOST_AMBIGUOUS)
		anomaly(s, OM_DIR_TOSERVER, "HOST_HEADER_AMBIGUOUS");
	if (tx->flags & HTP_HOSTU_INVALID)
		anomaly(s, OM_DIR_TOSERVER, "URI_HOST_INVALID");
	if (tx->flags & HTP_HOSTH_INVALID)
		anomaly(s, OM_DIR_TOSERVER, "HEADER_HOST_INVALID");
	if (tx->request_auth_type == HTP_AUTH_UNRECOGNIZED)
		anomaly(s, OM_DIR_TOSERVER, "AUTH_UNRECOGNIZED");
	if (tx->is_protocol_0_9 && tx->request_method_number == HTP_M_UNKNOWN &&
	    (tx->request_protocol_number == HTP_PROTOCOL_INVALID ||
	     tx->request_protocol_number == HTP_PROTOCOL_UNKNOWN))
		anomaly(s, OM_DIR_TOSERVER, "REQUEST_LINE_INVALID");
}

/* ---- the transaction for the rule engine and the guards (om_proto_tx) ---------------- */

static const uint8_t *bstr_buf(const bstr *b, uint32_t *ret_len)
{
	if (!b)
		return NULL;
	*ret_len = (uint32_t)bstr_len(b);
	return bstr_ptr(b);
}

static const uint8_t *header_buf(htp_table_t *t, const char *name, uint32_t *ret_len)
{
	const htp_header_t *h = header(t, name);
	return h ? bstr_buf(h->value, ret_len) : NULL;
}

static void built_add(struct body *b, const void *d, size_t n)
{
	body_keep(b, 1u << 20, d, n); /* bounded by libhtp's header limits already */
}

/* "Name: value\r\n" for each header (Suricata's http.header and
 * http.response_header; the request's without cookie), or the names as
 * "\r\nName1\r\nName2\r\n\r\n" (http.header_names). */
static const uint8_t *headers_built(struct http_tx *t, int which, uint32_t *ret_len)
{
	struct body *b = &t->built[which];
	if (!b->seen) {
		htp_table_t *tab = which == BUILT_RESPONSE_HEADER ? t->tx->response_headers
		                                                  : t->tx->request_headers;
		size_t n = tab ? htp_table_size(tab) : 0;
		b->seen = 1;
		if (which == BUILT_HEADER_NAMES)
			built_add(b, "\r\n", 2);
		for (size_t i = 0; i < n; i++) {
			htp_header_t *h = htp_table_get_index(tab, i, NULL);
			if (!h || !h->name || !h->value)
				continue;
			if (which == BUILT_HEADER && bstr_cmp_c_nocase(h->name, "cookie") == 0)
				continue;
			built_add(b, bstr_ptr(h->name), bstr_len(h->name));
			if (which == BUILT_HEADER_NAMES) {
				built_add(b, "\r\n", 2);
				continue;
			}
			built_add(b, ": ", 2);
			built_add(b, bstr_ptr(h->value), bstr_len(h->value));
			built_add(b, "\r\n", 2);
		}
		if (which == BUILT_HEADER_NAMES)
			built_add(b, "\r\n", 2);
	}
	*ret_len = (uint32_t)b->len;
	return b->buf ? b->buf : (const uint8_t *)"";
}

/* http.uri: libhtp's normalised path, and the query after '?'. */
static const uint8_t *uri_built(struct http_tx *t, uint32_t *ret_len)
{
	struct body *b = &t->built[BUILT_URI];
	htp_uri_t *u = t->tx->parsed_uri;
	if (!u || !u->path)
		return bstr_buf(t->tx->request_uri, ret_len);
	if (!b->seen) {
		b->seen = 1;
		built_add(b, bstr_ptr(u->path), bstr_len(u->path));
		if (u->query) {
			built_add(b, "?", 1);
			built_add(b, bstr_ptr(u->query), bstr_len(u->query));
		}
	}
	*ret_len = (uint32_t)b->len;
	return b->buf ? b->buf : (const uint8_t *)"";
}

static const uint8_t *tx_buffer(const om_proto_tx *ptx, enum om_tx_buf which, uint32_t idx,
                                uint32_t *ret_len)
{
	struct http_tx *t = ptx->priv;
	htp_tx_t *tx = t->tx;
	if (idx > 0)
		return NULL;
	switch (which) {
	case OM_TXB_HTTP_METHOD: return bstr_buf(tx->request_method, ret_len);
	case OM_TXB_HTTP_URI: return uri_built(t, ret_len);
	case OM_TXB_HTTP_URI_RAW: return bstr_buf(tx->request_uri, ret_len);
	case OM_TXB_HTTP_HOST: return bstr_buf(tx->request_hostname, ret_len);
	case OM_TXB_HTTP_HOST_RAW: return header_buf(tx->request_headers, "host", ret_len);
	case OM_TXB_HTTP_PROTOCOL: return bstr_buf(tx->request_protocol, ret_len);
	case OM_TXB_HTTP_REQUEST_LINE: return bstr_buf(tx->request_line, ret_len);
	case OM_TXB_HTTP_HEADER: return headers_built(t, BUILT_HEADER, ret_len);
	case OM_TXB_HTTP_HEADER_RAW:
		*ret_len = (uint32_t)t->raw_hdr[0].len;
		return t->raw_hdr[0].buf ? t->raw_hdr[0].buf : NULL;
	case OM_TXB_HTTP_START: {
		/* the request line, CR LF, and the header block as sent */
		struct body *b = &t->built[BUILT_START];
		if (!tx->request_line)
			return NULL;
		if (!b->seen) {
			b->seen = 1;
			built_add(b, bstr_ptr(tx->request_line), bstr_len(tx->request_line));
			built_add(b, "\r\n", 2);
			if (t->raw_hdr[0].len)
				built_add(b, t->raw_hdr[0].buf, t->raw_hdr[0].len);
		}
		*ret_len = (uint32_t)b->len;
		return b->buf;
	}
	case OM_TXB_HTTP_HEADER_NAMES: return headers_built(t, BUILT_HEADER_NAMES, ret_len);
	case OM_TXB_HTTP_USER_AGENT: return header_buf(tx->request_headers, "user-agent", ret_len);
	case OM_TXB_HTTP_COOKIE: return header_buf(tx->request_headers, "cookie", ret_len);
	case OM_TXB_HTTP_CONTENT_TYPE:
		return header_buf(tx->request_headers, "content-type", ret_len);
	case OM_TXB_HTTP_REFERER: return header_buf(tx->request_headers, "referer", ret_len);
	case OM_TXB_HTTP_REQUEST_BODY:
		*ret_len = (uint32_t)t->body[0].len;
		return t->body[0].len ? t->body[0].buf : NULL;
	case OM_TXB_HTTP_STAT_CODE: return bstr_buf(tx->response_status, ret_len);
	case OM_TXB_HTTP_STAT_MSG: return bstr_buf(tx->response_message, ret_len);
	case OM_TXB_HTTP_RESPONSE_LINE: return bstr_buf(tx->response_line, ret_len);
	case OM_TXB_HTTP_RESPONSE_HEADER:
		return tx->response_headers ? headers_built(t, BUILT_RESPONSE_HEADER, ret_len)
		                            : NULL;
	case OM_TXB_HTTP_RESPONSE_BODY:
		*ret_len = (uint32_t)t->body[1].len;
		return t->body[1].len ? t->body[1].buf : NULL;
	case OM_TXB_HTTP_LOCATION: return header_buf(tx->response_headers, "location", ret_len);
	case OM_TXB_HTTP_SERVER: return header_buf(tx->response_headers, "server", ret_len);
	default: return NULL;
	}
}

/* The transaction's "http" object: called as json(j, tx->priv). */
static void tx_json(om_json *j, void *arg)
{
	struct http_tx *t = arg;
	om_json_obj_open(j, "http");
	http_members(j, t->tx, false);
	om_json_obj_close(j);
}

/* Shows the transaction to the observers: at the end of its request, and
 * again with its response. */
static void tx_show(struct http_tx *t, unsigned progress, int dir)
{
	om_proto_tx ptx = {.app_proto = "http",
	                   .tx_id = t->id,
	                   .progress = progress,
	                   .dir = dir,
	                   .buffer = tx_buffer,
	                   .json = tx_json,
	                   .priv = t};
	proto_tx_ready(t->s->f, &ptx);
}

/* ---- libhtp's callbacks ---------------------------------------------------------------- */

static int on_header_data(htp_tx_data_t *d, int dir)
{
	struct http_tx *t = tx_data(d->tx);
	if (!t)
		return HTP_OK;
	uint32_t max = t->s->c->max_header_bytes;
	if (t->hdr_over[dir])
		return HTP_OK;
	if (d->len > max || t->hdr_bytes[dir] + d->len > max) {
		t->hdr_over[dir] = true;
		char ev[48];
		snprintf(ev, sizeof(ev), "%s_HEADER_BLOCK_TOO_LONG", dir_name[dir]);
		anomaly(t->s, dir, ev);
		return HTP_ERROR; /* the connection's parser stops: a bound, not a crash */
	}
	t->hdr_bytes[dir] += (uint32_t)d->len;
	tx_keep(t, &t->raw_hdr[dir], max, d->data, d->len);
	return HTP_OK;
}

static int on_req_header_data(htp_tx_data_t *d)
{
	return on_header_data(d, OM_DIR_TOSERVER);
}

static int on_res_header_data(htp_tx_data_t *d)
{
	return on_header_data(d, OM_DIR_TOCLIENT);
}

static int on_req_headers(htp_tx_t *tx)
{
	struct http_tx *t = tx_data(tx);
	if (!t)
		return HTP_OK;
	check_tx_flags(t->s, tx);
	const htp_header_t *ct = header(tx->request_headers, "content-type");
	if (ct && ct->value &&
	    ci_prefix(bstr_ptr(ct->value), bstr_len(ct->value), "multipart/form-data")) {
		t->mp = mp_new(ct);
		if (!t->mp)
			anomaly(t->s, OM_DIR_TOSERVER, "MULTIPART_INVALID_HEADER");
		else
			mp_feed(t, t->mp, (const uint8_t *)"\r\n",
			        2); /* the first delimiter has no CR LF */
	}
	return HTP_OK;
}

/* Decompressed output past the ratio or the limit: the body stops being
 * inspected, and libhtp stops decompressing it (the rest passes by). */
static bool bomb(struct http_tx *t, int dir, uint64_t out, int64_t in, bool compressed)
{
	const struct om_proto_http_config *c = t->s->c;
	if (!compressed || t->bomb[dir])
		return t->bomb[dir];
	uint64_t inb = in > 0 ? (uint64_t)in : 1;
	if (out > c->decompress_limit ||
	    (out > RATIO_FLOOR && out / inb >= (uint64_t)c->decompress_ratio)) {
		t->bomb[dir] = true;
		anomaly(t->s, dir, "COMPRESSION_BOMB");
	}
	return t->bomb[dir];
}

/* Opens the file of a plain body (not multipart) at its first byte or gap:
 * an upload named by the URI's path, a download by Content-Disposition's
 * filename or the URI's path. */
static void body_file(struct http_tx *t, int dir)
{
	if (t->opened[dir] || (dir == OM_DIR_TOSERVER && t->mp))
		return;
	t->opened[dir] = true;
	const uint8_t *name = NULL;
	size_t n = 0;
	if (dir == OM_DIR_TOCLIENT) {
		const htp_header_t *cd = header(t->tx->response_headers, "content-disposition");
		if (cd && cd->value)
			name = find_param(bstr_ptr(cd->value), bstr_len(cd->value), "filename", &n);
	}
	if (!name || !n)
		uri_name(t->tx, &name, &n);
	t->file[dir] = open_file(t, dir, name, n);
}

/* libhtp passes a stream gap inside a body as data NULL, len > 0: the
 * file says so (no hashes) and closes TRUNCATED; a multipart body cannot
 * be followed across it. */
static void body_gap(struct http_tx *t, int dir, size_t len)
{
	t->gapped[dir] = true;
	t->body[dir].full = true; /* what follows is not contiguous with what is kept */
	body_file(t, dir);
	proto_file_gap(t->file[dir], len);
	if (dir == OM_DIR_TOSERVER && t->mp) {
		proto_file_gap(t->mp->file, len);
		mp_free(t, OM_FILE_TRUNCATED);
	}
}

static int on_req_body(htp_tx_data_t *d)
{
	struct http_tx *t = tx_data(d->tx);
	if (t && !d->data && d->len)
		body_gap(t, OM_DIR_TOSERVER, d->len);
	if (!t || !d->data || !d->len)
		return HTP_OK;
	htp_tx_t *tx = d->tx;
	bool compressed = tx->request_content_encoding == HTP_COMPRESSION_GZIP ||
	                  tx->request_content_encoding == HTP_COMPRESSION_DEFLATE;
	if (t->bomb[OM_DIR_TOSERVER])
		return HTP_OK;
	if (bomb(t, OM_DIR_TOSERVER, t->body[0].seen + d->len, tx->request_message_len,
	         compressed)) {
		/* libhtp has no switch for request decompression once started:
		 * stop the request side of the connection */
		return HTP_ERROR;
	}
	tx_keep(t, &t->body[0], t->s->c->request_body_limit, d->data, d->len);
	if (t->mp) {
		mp_feed(t, t->mp, d->data, d->len);
		return HTP_OK;
	}
	body_file(t, OM_DIR_TOSERVER);
	proto_file_data(t->file[0], d->data, d->len);
	return HTP_OK;
}

static int on_req_complete(htp_tx_t *tx)
{
	struct http_tx *t = tx_data(tx);
	if (!t)
		return HTP_OK;
	proto_file_close(t->file[0],
	                 t->bomb[0] || t->gapped[0] ? OM_FILE_TRUNCATED : OM_FILE_CLOSED);
	t->file[0] = NULL;
	mp_free(t, OM_FILE_TRUNCATED); /* a part still open had no closing delimiter */
	tx_show(t, OM_TX_REQUEST, OM_DIR_TOSERVER);
	return HTP_OK;
}

static int on_res_headers(htp_tx_t *tx)
{
	struct http_tx *t = tx_data(tx);
	if (!t)
		return HTP_OK;
	if (tx->response_status_number == 101)
		t->upgrade = true;
	if (tx->request_method_number == HTP_M_CONNECT && tx->response_status_number >= 200 &&
	    tx->response_status_number < 300)
		t->tunnel = true;
	/* a range is a file of its own, CLOSED when it came whole (as
	 * Suricata); which bytes it holds is in http.content_range */
	const htp_header_t *cr = header(tx->response_headers, "content-range");
	struct crange r;
	if (tx->response_status_number == 206 && cr && cr->value && parse_crange(cr->value, &r) < 0)
		anomaly(t->s, OM_DIR_TOCLIENT, "RANGE_INVALID");
	return HTP_OK;
}

static int on_res_body(htp_tx_data_t *d)
{
	struct http_tx *t = tx_data(d->tx);
	if (t && !d->data && d->len)
		body_gap(t, OM_DIR_TOCLIENT, d->len);
	if (!t || !d->data || !d->len)
		return HTP_OK;
	htp_tx_t *tx = d->tx;
	if (t->bomb[OM_DIR_TOCLIENT])
		return HTP_OK;
	bool compressed = tx->response_content_encoding_processing == HTP_COMPRESSION_GZIP ||
	                  tx->response_content_encoding_processing == HTP_COMPRESSION_DEFLATE ||
	                  tx->response_content_encoding_processing == HTP_COMPRESSION_LZMA;
	if (bomb(t, OM_DIR_TOCLIENT, t->body[1].seen + d->len, tx->response_message_len,
	         compressed)) {
		/* no more decompression for this body: the compressed rest goes
		 * by uninspected (libhtp frees the decompressor with the
		 * connection or the next response) */
		tx->response_content_encoding_processing = HTP_COMPRESSION_NONE;
		proto_file_close(t->file[1], OM_FILE_TRUNCATED);
		t->file[1] = NULL;
		return HTP_OK;
	}
	tx_keep(t, &t->body[1], t->s->c->response_body_limit, d->data, d->len);
	body_file(t, OM_DIR_TOCLIENT);
	proto_file_data(t->file[1], d->data, d->len);
	return HTP_OK;
}

static int on_res_complete(htp_tx_t *tx)
{
	/* the download closes with the transaction, after its record (the
	 * order Suricata writes them in) */
	(void)tx;
	return HTP_OK;
}

/* Both sides of the transaction are complete: its record goes out; its
 * bodies stay until the next callback. */
static int on_tx_complete(htp_tx_t *tx)
{
	struct http_tx *t = tx_data(tx);
	/* libhtp may call this twice for one transaction: it is shown,
	 * logged and destroyed once */
	if (!t || t->done)
		return HTP_OK;
	tx_show(t, OM_TX_REQUEST | OM_TX_RESPONSE, OM_DIR_TOCLIENT);
	tx_log(t);
	tx_files_close(t, OM_FILE_CLOSED);
	struct http_state *s = t->s;
	if (s->ndone == DONE_MAX)
		sweep_done(s);
	t->done = true;
	s->done[s->ndone++] = tx;
	return HTP_OK;
}

static int http_worker_setup(struct http_worker *w, const struct om_proto_http_config *c)
{
	w->ready = true;
	w->c = *c;
	htp_cfg_t *cfg = htp_config_create();
	if (!cfg) {
		w->failed = true;
		return -ENOMEM;
	}
	htp_config_set_server_personality(cfg, HTP_SERVER_IDS);
	/* the IDS personality lower-cases the path; Suricata turns that off
	 * (rules match the case as sent), and so do we */
	htp_config_set_convert_lowercase(cfg, HTP_DECODER_URL_PATH, 0);
	htp_config_set_log_level(cfg, HTP_LOG_WARNING);
	htp_config_register_log(cfg, on_log);
	htp_config_register_request_header_data(cfg, on_req_header_data);
	htp_config_register_response_header_data(cfg, on_res_header_data);
	htp_config_register_request_headers(cfg, on_req_headers);
	htp_config_register_request_body_data(cfg, on_req_body);
	htp_config_register_request_complete(cfg, on_req_complete);
	htp_config_register_response_headers(cfg, on_res_headers);
	htp_config_register_response_body_data(cfg, on_res_body);
	htp_config_register_response_complete(cfg, on_res_complete);
	htp_config_register_transaction_complete(cfg, on_tx_complete);
	htp_config_set_tx_auto_destroy(cfg, 0);
	htp_config_set_response_decompression(cfg, 1);
	htp_config_set_request_decompression(cfg, 1);
	htp_config_set_response_decompression_layer_limit(cfg, 2);
	htp_config_set_lzma_layers(cfg, 0);
	htp_config_set_lzma_memlimit(cfg, 1u << 20);
	htp_config_set_compression_bomb_limit(cfg, (size_t)c->decompress_limit);
	/* libhtp's time limit reads the wall clock: on a busy machine a small
	 * body took "too long" and became a bomb, so the same capture gave
	 * different events from run to run. What decompression can cost is
	 * already bounded by the output limit above and the ratio check in
	 * bomb(); the clock is left out (one minute, never reached). */
	htp_config_set_compression_time_limit(cfg, 60u * 1000u * 1000u);
	htp_config_set_field_limits(cfg, c->max_header_bytes, c->max_header_bytes);
	htp_config_set_number_headers_limit(cfg, 1024);
	htp_config_set_max_tx(cfg, c->max_tx);
	htp_config_set_parse_request_cookies(cfg, 0);
	htp_config_set_parse_request_auth(cfg, 0);
	w->cfg = cfg;
	return 0;
}

/* ---- the app-layer parser ------------------------------------------------------------------ */

static const char *const methods[] = {
    "GET ",    "POST ",      "HEAD ",     "PUT ",    "DELETE ",    "OPTIONS ", "CONNECT ",
    "TRACE ",  "PATCH ",     "PROPFIND ", "MKCOL ",  "COPY ",      "MOVE ",    "LOCK ",
    "UNLOCK ", "PROPPATCH ", "REPORT ",   "SEARCH ", "SUBSCRIBE ", "NOTIFY ",
};

static enum om_app_probe http_probe_ts(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f, (void)wctx;
	bool more = false;
	for (size_t i = 0; i < OM_ARRAY_SIZE(methods); i++) {
		size_t k = strlen(methods[i]);
		size_t m = n < k ? n : k;
		if (memcmp(d, methods[i], m) == 0) {
			if (n >= k)
				return OM_APP_PROBE_YES;
			more = true;
		}
	}
	return more ? OM_APP_PROBE_MORE : OM_APP_PROBE_NO;
}

static enum om_app_probe http_probe_tc(const om_flow *f, const uint8_t *d, uint32_t n, void *wctx)
{
	(void)f, (void)wctx;
	static const char p[] = "HTTP/1.";
	size_t m = n < sizeof(p) - 1 ? n : sizeof(p) - 1;
	if (memcmp(d, p, m) != 0)
		return OM_APP_PROBE_NO;
	return m == sizeof(p) - 1 ? OM_APP_PROBE_YES : OM_APP_PROBE_MORE;
}

static void *http_worker_new(void *user)
{
	(void)user;
	return calloc(1, sizeof(struct http_worker));
}

static void http_worker_free(void *wctx, void *user)
{
	(void)user;
	struct http_worker *w = wctx;
	if (!w)
		return;
	if (w->cfg)
		htp_config_destroy(w->cfg);
	free(w);
}

static struct om_proto_http_config default_config(void)
{
	struct om_proto_http_config c;
	http_defaults(&c);
	return c;
}

static void *http_state_new(om_flow *f, void *user, void *wctx)
{
	(void)user;
	struct http_worker *w = wctx;
	if (!w)
		return NULL;
	if (!w->ready) {
		struct om_proto_worker *pw = proto_worker(f);
		struct om_proto_http_config c = pw ? pw->p->cfg.http : default_config();
		http_worker_setup(w, &c);
	}
	if (w->failed)
		return NULL;
	struct http_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct om_proto_worker *pw = proto_worker(f);
	s->keep = !pw || pw->p->http_bodies_read;
	s->w = w;
	s->c = &w->c;
	s->f = f;
	s->connp = htp_connp_create(w->cfg);
	if (!s->connp) {
		free(s);
		return NULL;
	}
	htp_connp_set_user_data(s->connp, s);
	htp_time_t ts = {(time_t)(f->start / 1000000), (suseconds_t)(f->start % 1000000)};
	htp_connp_open(s->connp, NULL, f->cport, NULL, f->sport, &ts);
	/* bodies are followed to the end for files: the stream's depth must
	 * not cut them (files.max-file bounds what is kept) */
	om_app_set_depth(f, OM_DIR_TOSERVER, UINT64_MAX);
	om_app_set_depth(f, OM_DIR_TOCLIENT, UINT64_MAX);
	return s;
}

static void release_conn(struct http_state *s);

/* The parser cannot go on (libhtp's error, a gap, a tunnel): what is open
 * is closed, the transactions seen are logged, no more bytes are wanted. */
static void finish(struct http_state *s, enum om_file_state st)
{
	if (s->finished)
		return;
	s->finished = true;
	sweep_done(s);
	htp_conn_t *conn = htp_connp_get_connection(s->connp);
	if (conn && conn->transactions) {
		for (size_t i = 0; i < htp_list_size(conn->transactions); i++) {
			htp_tx_t *tx = htp_list_get(conn->transactions, i);
			if (!tx)
				continue;
			struct http_tx *t = htp_tx_get_user_data(tx);
			if (!t && tx->request_progress > HTP_REQUEST_NOT_STARTED)
				t = tx_data(tx);
			if (!t)
				continue;
			tx_files_close(t, st);
			if (tx->request_progress > HTP_REQUEST_NOT_STARTED)
				tx_log(t);
		}
	}
}

static void pend_keep(struct http_state *s, int dir, const uint8_t *d, size_t n)
{
	if (!n)
		return;
	if (s->pend[dir].len + n > PEND_MAX) {
		anomaly(s, dir,
		        dir == OM_DIR_TOSERVER ? "REQUEST_BUFFER_FULL" : "RESPONSE_BUFFER_FULL");
		s->error = true;
		return;
	}
	if (!s->pend[dir].buf) {
		s->pend[dir].buf = malloc(PEND_MAX);
		if (!s->pend[dir].buf) {
			s->error = true;
			return;
		}
	}
	memmove(s->pend[dir].buf + s->pend[dir].len, d, n);
	s->pend[dir].len += n;
}

/* One call into libhtp; what it did not take (it waits for the other
 * direction) is kept. Returns libhtp's status. A direction libhtp gave up
 * on is dead: it is fed no more, the other goes on. */
static int feed1(struct http_state *s, int dir, const uint8_t *d, size_t n)
{
	if (s->dead[dir])
		return HTP_STREAM_ERROR;
	htp_time_t ts = {(time_t)(s->f->last / 1000000), (suseconds_t)(s->f->last % 1000000)};
	s->dir = dir;
	int r = dir == OM_DIR_TOSERVER ? htp_connp_req_data(s->connp, &ts, d, n)
	                               : htp_connp_res_data(s->connp, &ts, d, n);
	if (r == HTP_STREAM_DATA_OTHER && !d) {
		r = HTP_STREAM_ERROR; /* a gap cannot wait for the other side */
	} else if (r == HTP_STREAM_DATA_OTHER) {
		size_t used = dir == OM_DIR_TOSERVER ? htp_connp_req_data_consumed(s->connp)
		                                     : htp_connp_res_data_consumed(s->connp);
		if (used > n)
			used = n;
		pend_keep(s, dir, d + used, n - used);
	}
	htp_conn_t *conn = htp_connp_get_connection(s->connp);
	bool extra09 = conn && (conn->flags & HTP_CONN_HTTP_0_9_EXTRA);
	if (r == HTP_STREAM_ERROR || s->error) {
		s->dead[dir] = true;
		s->pend[dir].len = 0;
		s->error = false;
		/* libhtp 0.5.50 gives up on a request that follows an HTTP/0.9
		 * one (which allows no second request) */
		size_t nt = conn && conn->transactions ? htp_list_size(conn->transactions) : 0;
		htp_tx_t *last = nt ? htp_list_get(conn->transactions, nt - 1) : NULL;
		if (dir == OM_DIR_TOSERVER && last && last->is_protocol_0_9)
			extra09 = true;
		/* libhtp refuses a transaction past max-tx without a message */
		size_t alive = 0;
		for (size_t i = 0; i < nt; i++)
			alive += htp_list_get(conn->transactions, i) != NULL;
		if (alive >= s->c->max_tx)
			anomaly(s, dir, "TOO_MANY_TRANSACTIONS");
	}
	if (dir == OM_DIR_TOSERVER && extra09 && !s->extra09_noted) {
		s->extra09_noted = true;
		anomaly(s, OM_DIR_TOSERVER, "REQUEST_AFTER_HTTP_0_9");
	}
	return r;
}

/* Feeds what a direction had kept back, now that the other moved on. */
static int feed_pending(struct http_state *s, int dir)
{
	if (!s->pend[dir].len)
		return HTP_STREAM_DATA;
	size_t n = s->pend[dir].len;
	s->pend[dir].len = 0;
	/* feed1 may keep a tail again: it moves it to the front */
	return feed1(s, dir, s->pend[dir].buf, n);
}

static int after_feed(struct http_state *s, int r)
{
	if (s->dead[0] && s->dead[1]) {
		finish(s, OM_FILE_ERROR);
		om_app_bypass(s->f, OM_APP_BYPASS_BOTH);
		return -EPROTO;
	}
	for (int d = 0; d < 2; d++)
		if (s->dead[d])
			om_app_bypass(s->f, 1u << d);
	if (r == HTP_STREAM_TUNNEL) {
		/* CONNECT accepted or protocol upgraded: the bytes that follow
		 * are another protocol, which the app-layer contract gives no
		 * way to hand on (docs/proto-http.md) */
		finish(s, OM_FILE_CLOSED);
		om_app_bypass(s->f, OM_APP_BYPASS_BOTH);
	}
	return 0;
}

static int http_data(void *st, om_flow *f, int dir, const uint8_t *d, uint32_t n, unsigned flags)
{
	(void)flags;
	struct http_state *s = st;
	s->f = f;
	if (s->finished || s->dead[dir])
		return 0;
	sweep_done(s);
	int r;
	if (s->pend[dir].len) {
		pend_keep(s, dir, d, n);
		r = feed_pending(s, dir);
	} else {
		r = feed1(s, dir, d, n);
	}
	/* the other direction may have been waiting for this one */
	int o = !dir;
	for (int round = 0; round < 4 && r != HTP_STREAM_TUNNEL && s->pend[o].len; round++) {
		size_t before = s->pend[o].len;
		int ro = feed_pending(s, o);
		if (ro == HTP_STREAM_TUNNEL) {
			r = ro;
			break;
		}
		if (s->pend[dir].len)
			r = feed_pending(s, dir);
		if (s->pend[o].len >= before)
			break;
	}
	r = after_feed(s, r);
	sweep_now(s);
	return r;
}

static void http_gap(void *st, om_flow *f, int dir, uint64_t len)
{
	struct http_state *s = st;
	s->f = f;
	if (s->finished || s->dead[dir])
		return;
	sweep_done(s);
	/* libhtp takes a gap inside a body (Suricata gives it gaps too) and
	 * goes on with the next message; a gap anywhere else, or while this
	 * direction waits for the other, ends the direction */
	if (s->pend[dir].len || len > SIZE_MAX) {
		s->dead[dir] = true;
		s->pend[dir].len = 0;
		(void)after_feed(s, HTP_STREAM_ERROR);
		return;
	}
	int r = feed1(s, dir, NULL, (size_t)len);
	(void)after_feed(s, r);
	sweep_now(s);
}

static void http_end(void *st, om_flow *f, int dir, enum om_app_end why)
{
	struct http_state *s = st;
	s->f = f;
	s->ended[dir] = true;
	if (!s->finished) {
		sweep_done(s);
		htp_time_t ts = {(time_t)(f->last / 1000000), (suseconds_t)(f->last % 1000000)};
		s->dir = dir;
		/* a direction that ends completes what its end delimits (a
		 * response body that runs to the close) */
		if (why == OM_APP_END_FIN || why == OM_APP_END_RST || why == OM_APP_END_SHUTDOWN ||
		    why == OM_APP_END_TIMEOUT) {
			if (dir == OM_DIR_TOSERVER)
				htp_connp_req_close(s->connp, &ts);
			else
				htp_connp_close(s->connp, &ts);
		}
	}
	if (s->ended[0] && s->ended[1]) {
		finish(s, OM_FILE_TRUNCATED);
		/* everything is logged and closed: the connection's memory
		 * goes now, while it is in the cache, rather than when the flow
		 * is released (unless the bodies may still be read) */
		if (!s->keep)
			release_conn(s);
	}
	sweep_now(s);
}

/* libhtp's connection and what hangs off it, freed (state_free, or as
 * soon as both directions ended and nobody can read the bodies). */
static void release_conn(struct http_state *s)
{
	if (!s->connp)
		return;
	htp_conn_t *conn = htp_connp_get_connection(s->connp);
	for (size_t i = 0; conn && conn->transactions && i < htp_list_size(conn->transactions);
	     i++) {
		htp_tx_t *tx = htp_list_get(conn->transactions, i);
		if (tx)
			tx_free_data(tx);
	}
	htp_connp_destroy_all(s->connp);
	s->connp = NULL;
	s->ndone = 0; /* they were in conn's list */
	free(s->pend[0].buf);
	free(s->pend[1].buf);
	s->pend[0].buf = s->pend[1].buf = NULL;
	s->pend[0].len = s->pend[1].len = 0;
}

static void http_state_free(void *st, void *user)
{
	(void)user;
	struct http_state *s = st;
	if (!s)
		return;
	release_conn(s);
	free(s);
}

static const om_app_parser http_parser = {
    .name = "http",
    .ipprotos = OM_APP_TCP,
    .ports = {80, 8080, 8000, 3128},
    .probe_ts = http_probe_ts,
    .probe_tc = http_probe_tc,
    .worker_new = http_worker_new,
    .worker_free = http_worker_free,
    .state_new = http_state_new,
    .data = http_data,
    .gap = http_gap,
    .end = http_end,
    .state_free = http_state_free,
    .user = NULL,
};

int proto_http_register(om_proto *p, om_app_registry *reg)
{
	if (!p->cfg.http.enabled)
		return 0;
	return om_app_register(reg, &http_parser, NULL);
}

/* ---- for the rule engine ---------------------------------------------------------------- */

int proto_http_body(const om_flow *f, uint64_t tx_id, int dir, const uint8_t **ret_data,
                    size_t *ret_len)
{
	const char *name = om_app_proto_name(f);
	if (!name || strcmp(name, "http") != 0 ||
	    (dir != OM_DIR_TOSERVER && dir != OM_DIR_TOCLIENT))
		return -ENOENT;
	struct http_state *s = om_app_state(f);
	if (!s || !s->connp)
		return -ENOENT;
	htp_conn_t *conn = htp_connp_get_connection(s->connp);
	if (!conn || !conn->transactions)
		return -ENOENT;
	for (size_t i = 0; i < htp_list_size(conn->transactions); i++) {
		htp_tx_t *tx = htp_list_get(conn->transactions, i);
		struct http_tx *t = tx ? htp_tx_get_user_data(tx) : NULL;
		if (!t || t->id != tx_id)
			continue;
		*ret_data = t->body[dir].buf ? t->body[dir].buf : (const uint8_t *)"";
		*ret_len = t->body[dir].len;
		return 0;
	}
	return -ENOENT;
}
