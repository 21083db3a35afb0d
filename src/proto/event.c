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
	return w;
}

om_proto_worker *om_proto_worker_free(om_proto_worker *w)
{
	if (!w)
		return NULL;
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
