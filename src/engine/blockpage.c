/* blockpage.c: the gateway's block page, a small HTTP server on the
 * gateway's LAN address (site.block-page.address and .port).
 *
 * A blocked HTTP request is answered, as from the server, with a redirect
 * here; a blocked DNS name is answered with this address (the firewall
 * sends port 80 of it to the page's port). The page says what was blocked,
 * why, and whom to ask, in Japanese and then English; a quarantined host
 * gets the page that explains its isolation. No external resources, no
 * script, nothing from the request is shown but the blocked name, escaped.
 *
 * The server is one thread with poll over at most PAGE_CONNS connections,
 * each with a 4 KiB request buffer and a 5 s deadline; past that a new
 * connection is closed at once. What was blocked for whom comes from the
 * workers through om_gw_page_note: a ring of the last PAGE_NOTES blocks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "engine/engine.h"
#include "engine/internal.h"

#define PAGE_CONNS 32
#define PAGE_REQ_MAX 4096
#define PAGE_NOTES 256
#define PAGE_DEADLINE_USEC (5 * 1000 * 1000)

struct note {
	om_addr cli;
	om_usec ts;
	char host[256];
	char why[64];      /* catalogue key of the reason */
	char category[64]; /* "" when none */
};

struct conn {
	int fd;
	om_addr peer;
	om_usec deadline;
	size_t len;
	char buf[PAGE_REQ_MAX];
};

#define PAGE_LISTENERS 2 /* an IPv4 and an IPv6 address */

struct om_gw_page {
	int lfd[PAGE_LISTENERS];
	unsigned nl;
	char contact[256];
	om_gw_quar_fn quarantined;
	void *user;
	pthread_t thread;
	bool running;
	atomic_int stop;
	pthread_mutex_t lock; /* the notes */
	struct note notes[PAGE_NOTES];
	unsigned next;
	struct conn c[PAGE_CONNS];
	atomic_ullong served;
};

/* ---- requests ------------------------------------------------------------------ */

int om_gw_page_parse(const char *buf, size_t len, om_gw_req *ret)
{
	/* the request line and headers end with an empty line */
	const char *end = NULL;
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n') {
			end = buf + i;
			break;
		}
	}
	if (!end)
		return len >= PAGE_REQ_MAX ? -E2BIG : -EAGAIN;
	const char *sp = memchr(buf, ' ', (size_t)(end - buf));
	if (!sp || sp == buf || (size_t)(sp - buf) >= sizeof(ret->method))
		return -EINVAL;
	const char *path = sp + 1;
	const char *sp2 = memchr(path, ' ', (size_t)(end - path));
	const char *eol = memchr(path, '\r', (size_t)(end - path) + 1);
	if (!sp2 || (eol && eol < sp2) || sp2 == path || (size_t)(sp2 - path) >= sizeof(ret->path))
		return -EINVAL;
	if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -EINVAL;
	/* checked over the bytes, not as strings: a NUL is a bad byte too */
	for (const char *p = buf; p < sp; p++)
		if (*p < 'A' || *p > 'Z')
			return -EINVAL;
	for (const unsigned char *p = (const unsigned char *)path; p < (const unsigned char *)sp2;
	     p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -EINVAL;
	om_gw_req r;
	memset(&r, 0, sizeof(r));
	memcpy(r.method, buf, (size_t)(sp - buf));
	memcpy(r.path, path, (size_t)(sp2 - path));
	*ret = r;
	return 0;
}

/* ---- notes ------------------------------------------------------------------------ */

void om_gw_page_note(om_gw_page *pg, const om_addr *cli, const char *host, size_t hlen,
                     const char *why, const char *category)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->lock);
	struct note *n = &pg->notes[pg->next++ % PAGE_NOTES];
	n->cli = *cli;
	n->ts = om_time_now();
	snprintf(n->host, sizeof(n->host), "%.*s", (int)(hlen < 255 ? hlen : 255), host);
	snprintf(n->why, sizeof(n->why), "%s", why ? why : "gateway.page.why.policy");
	snprintf(n->category, sizeof(n->category), "%s", category ? category : "");
	pthread_mutex_unlock(&pg->lock);
}

/* The newest note for cli; false when there is none. */
static bool note_for(om_gw_page *pg, const om_addr *cli, struct note *ret)
{
	bool found = false;
	pthread_mutex_lock(&pg->lock);
	for (unsigned i = 0; i < PAGE_NOTES && !found; i++) {
		const struct note *n = &pg->notes[(pg->next - 1 - i) % PAGE_NOTES];
		if (n->ts && memcmp(n->cli.b, cli->b, 16) == 0) {
			*ret = *n;
			found = true;
		}
	}
	pthread_mutex_unlock(&pg->lock);
	return found;
}

/* ---- the page ---------------------------------------------------------------------- */

static void page_lang(om_buf *b, enum om_lang lang, const om_gw_page *pg, bool isolated,
                      const struct note *n)
{
	om_buf_printf(b, "<section lang=\"%s\">\n<h1>", lang == OM_LANG_JA ? "ja" : "en");
	om_buf_put_html(b, om_msg(lang, isolated ? "gateway.page.isolated.title"
	                                         : "gateway.page.blocked.title"));
	om_buf_puts(b, "</h1>\n<p>");
	if (isolated) {
		om_buf_put_html(b, om_msg(lang, "gateway.page.isolated.text"));
	} else if (n) {
		om_buf_put_html(b, om_msg(lang, "gateway.page.blocked.site"));
		om_buf_puts(b, " <strong>");
		om_buf_put_html(b, n->host);
		om_buf_puts(b, "</strong></p>\n<p>");
		om_buf_put_html(b, om_msg(lang, n->why));
		if (n->category[0]) {
			om_buf_puts(b, " (");
			om_buf_put_html(b, n->category);
			om_buf_puts(b, ")");
		}
	} else {
		om_buf_put_html(b, om_msg(lang, "gateway.page.blocked.text"));
	}
	om_buf_puts(b, "</p>\n<p>");
	om_buf_put_html(
	    b, om_msg(lang, isolated ? "gateway.page.isolated.do" : "gateway.page.blocked.do"));
	om_buf_puts(b, "</p>\n<p>");
	if (pg->contact[0]) {
		om_buf_put_html(b, om_msg(lang, "gateway.page.contact"));
		om_buf_puts(b, " <strong>");
		om_buf_put_html(b, pg->contact);
		om_buf_puts(b, "</strong>");
	} else {
		om_buf_put_html(b, om_msg(lang, "gateway.page.contact_it"));
	}
	om_buf_puts(b, "</p>\n</section>\n");
}

int om_gw_page_render(om_gw_page *pg, const om_addr *cli, const om_gw_req *rq, om_buf *out)
{
	bool head = !strcmp(rq->method, "HEAD");
	if (!head && strcmp(rq->method, "GET") != 0) {
		return om_buf_puts(out, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
		                        "Content-Length: 0\r\nConnection: close\r\n\r\n");
	}
	bool isolated = pg->quarantined && pg->quarantined(pg->user, cli);
	struct note n;
	bool has = !isolated && note_for(pg, cli, &n);
	om_buf body;
	om_buf_init(&body, 64 * 1024);
	om_buf_puts(&body, "<!DOCTYPE html>\n<html lang=\"ja\">\n<head><meta charset=\"utf-8\">"
	                   "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	om_buf_put_html(&body, om_msg(OM_LANG_JA, isolated ? "gateway.page.isolated.title"
	                                                   : "gateway.page.blocked.title"));
	om_buf_puts(&body, "</title></head>\n<body>\n");
	page_lang(&body, OM_LANG_JA, pg, isolated, has ? &n : NULL);
	om_buf_puts(&body, "<hr>\n");
	page_lang(&body, OM_LANG_EN, pg, isolated, has ? &n : NULL);
	om_buf_puts(&body, "<p><small>omamori</small></p>\n</body>\n</html>\n");
	int r = om_buf_printf(out,
	                      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\n"
	                      "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	                      "Content-Security-Policy: default-src 'none'\r\n"
	                      "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
	                      "Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
	                      body.len);
	if (r == 0 && !head)
		r = om_buf_append(out, body.data, body.len);
	om_buf_free(&body);
	return r;
}

/* ---- the server ---------------------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void conn_answer(om_gw_page *pg, struct conn *c, const om_gw_req *rq, int parsed)
{
	om_buf out;
	om_buf_init(&out, 128 * 1024);
	if (parsed == 0)
		om_gw_page_render(pg, &c->peer, rq, &out);
	else
		om_buf_puts(&out, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
		                  "Connection: close\r\n\r\n");
	/* the answer is a few kilobytes: the socket's buffer takes it whole;
	 * what does not fit (a client that reads nothing) is given up */
	size_t off = 0;
	while (off < out.len) {
		ssize_t n = send(c->fd, out.data + off, out.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	om_buf_free(&out);
	atomic_fetch_add(&pg->served, 1);
	conn_close(c);
}

static void conn_read(om_gw_page *pg, struct conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	om_gw_req rq;
	int r = om_gw_page_parse(c->buf, c->len, &rq);
	if (r == -EAGAIN)
		return;
	conn_answer(pg, c, &rq, r);
}

static void page_accept(om_gw_page *pg, int lfd, om_usec now)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			/* out of descriptors: the listener stays readable; do not
			 * spin on it */
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		return;
	}
	for (unsigned i = 0; i < PAGE_CONNS; i++) {
		struct conn *c = &pg->c[i];
		if (c->fd >= 0)
			continue;
		c->fd = fd;
		c->len = 0;
		c->deadline = now + PAGE_DEADLINE_USEC;
		memset(&c->peer, 0, sizeof(c->peer));
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
			c->peer.b[10] = c->peer.b[11] = 0xff;
			memcpy(c->peer.b + 12, &in->sin_addr, 4);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
			memcpy(c->peer.b, &in6->sin6_addr, 16);
		}
		return;
	}
	close(fd); /* full: the page is not worth more than PAGE_CONNS at once */
}

static void *page_main(void *arg)
{
	om_gw_page *pg = arg;
	struct pollfd pf[PAGE_CONNS + PAGE_LISTENERS];
	while (!atomic_load(&pg->stop)) {
		unsigned map[PAGE_CONNS + PAGE_LISTENERS], n = 0;
		for (unsigned l = 0; l < pg->nl; l++) {
			pf[n] = (struct pollfd){.fd = pg->lfd[l], .events = POLLIN};
			map[n++] = PAGE_CONNS + l;
		}
		for (unsigned i = 0; i < PAGE_CONNS; i++) {
			if (pg->c[i].fd < 0)
				continue;
			pf[n] = (struct pollfd){.fd = pg->c[i].fd, .events = POLLIN};
			map[n++] = i;
		}
		int r = poll(pf, n, 200);
		om_usec now = om_time_now();
		for (unsigned k = 0; r > 0 && k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (map[k] >= PAGE_CONNS)
				page_accept(pg, pf[k].fd, now);
			else
				conn_read(pg, &pg->c[map[k]]);
		}
		for (unsigned i = 0; i < PAGE_CONNS; i++)
			if (pg->c[i].fd >= 0 && now > pg->c[i].deadline)
				conn_close(&pg->c[i]);
	}
	return NULL;
}

int om_gw_page_new(const char *contact, om_gw_quar_fn quarantined, void *user, om_gw_page **ret)
{
	om_gw_page *pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	snprintf(pg->contact, sizeof(pg->contact), "%s", contact ? contact : "");
	pg->quarantined = quarantined;
	pg->user = user;
	pthread_mutex_init(&pg->lock, NULL);
	for (unsigned i = 0; i < PAGE_CONNS; i++)
		pg->c[i].fd = -1;
	*ret = pg;
	return 0;
}

int om_gw_page_listen(om_gw_page *pg, const om_addr *addr, uint16_t port, char *err, size_t errlen)
{
	if (pg->nl >= PAGE_LISTENERS)
		return -ENOSPC;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	socklen_t sl;
	if (om_addr_is_v4(addr)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr->b + 12, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr->b, 16);
		sl = sizeof(*in6);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	/* an IPv6 listener is for its own address only (the IPv4 one has its own) */
	if (fd >= 0 && ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		char a[64];
		om_addr_str(addr, a, sizeof(a));
		snprintf(err, errlen, om_tr("err.gateway.page_listen"), a, (unsigned)port,
		         strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	pg->lfd[pg->nl++] = fd;
	return 0;
}

int om_gw_page_run(om_gw_page *pg, char *err, size_t errlen)
{
	if (!pg->nl)
		return -EBADF;
	if (pthread_create(&pg->thread, NULL, page_main, pg) != 0) {
		snprintf(err, errlen, om_tr("err.engine.thread"), 0u);
		return -EAGAIN;
	}
	pg->running = true;
	return 0;
}

uint64_t om_gw_page_served(const om_gw_page *pg)
{
	return pg ? atomic_load(&pg->served) : 0;
}

om_gw_page *om_gw_page_free(om_gw_page *pg)
{
	if (!pg)
		return NULL;
	if (pg->running) {
		atomic_store(&pg->stop, 1);
		pthread_join(pg->thread, NULL);
	}
	for (unsigned i = 0; i < PAGE_CONNS; i++)
		conn_close(&pg->c[i]);
	for (unsigned l = 0; l < pg->nl; l++)
		close(pg->lfd[l]);
	pthread_mutex_destroy(&pg->lock);
	free(pg);
	return NULL;
}
