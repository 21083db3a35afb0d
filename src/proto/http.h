/* http.h: what the HTTP parser offers the rest of the proto module and,
 * once proto.h declares it, the rule engine (docs/proto-http.md). */
#ifndef OMAMORI_PROTO_HTTP_H
#define OMAMORI_PROTO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

/* The body of transaction tx_id of HTTP flow f in direction dir
 * (OM_DIR_TOSERVER: the request's, OM_DIR_TOCLIENT: the response's), as
 * inspected: chunked framing removed, gzip/deflate decoded, at most
 * app-layer.http.request-body-limit (or response-body-limit) bytes from its
 * start. Available from the transaction's first body byte until the
 * callback after the one that completed it (its http record written), on
 * the flow's worker thread. Returns 0 with *ret_data and *ret_len (valid until
 * the flow's next app-layer callback), or -ENOENT (not an HTTP flow, no
 * such transaction alive). The bodies are kept only when the module has an
 * observer or a file subscriber (the ones who can ask); without either the
 * body is empty. */
int proto_http_body(const om_flow *f, uint64_t tx_id, int dir, const uint8_t **ret_data,
                    size_t *ret_len);

#endif
