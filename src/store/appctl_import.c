/* store: an EVE "appctl" event into the application-use table (appctl.c).
 * Its own file, so that what links the store without the ingest (and its
 * jansson) does not pull jansson in through appctl.c. */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "store/internal.h"
#include "store/store.h"

/* An EVE "appctl" event (ingest.c has checked event_type, tenant and
 * gateway) into the row it stores, its strings pointing into ev: 1, or 0
 * for an application outside the report's groups. Bad fields are bad data:
 * -EINVAL. */
int store_appctl_parse(struct json_t *ev, const char *tenant, const char *gateway,
                       om_store_appctl_flow *ret)
{
	json_t *ac = json_object_get(ev, "appctl");
	json_t *om = json_object_get(ev, "omamori");
	const char *grp = json_string_value(json_object_get(ac, "group"));
	const char *app = json_string_value(json_object_get(ac, "application"));
	const char *host = json_string_value(json_object_get(ev, "src_ip"));
	const char *start = json_string_value(json_object_get(ac, "start"));
	const char *end = json_string_value(json_object_get(ac, "end"));
	const char *action = json_string_value(json_object_get(om, "action"));
	json_t *fid = json_object_get(ev, "flow_id");
	json_t *bts = json_object_get(ac, "bytes_toserver"),
	       *btc = json_object_get(ac, "bytes_toclient");
	if (!grp)
		return 0; /* an application with a policy but no group: not in the report */
	om_usec first, last;
	if (!json_is_object(ac) || !app || !host || !json_is_integer(fid) ||
	    json_integer_value(fid) < 0 || !json_is_integer(bts) || !json_is_integer(btc) ||
	    json_integer_value(bts) < 0 || json_integer_value(btc) < 0 ||
	    om_store_parse_time(start, &first) < 0 || om_store_parse_time(end, &last) < 0)
		return -EINVAL;
	*ret = (om_store_appctl_flow){
	    .tenant = tenant,
	    .gateway = gateway,
	    .flow_id = (uint64_t)json_integer_value(fid),
	    .first = first,
	    .last = last,
	    .group = grp,
	    .app = app,
	    .host = host,
	    .bytes = (uint64_t)json_integer_value(bts) + (uint64_t)json_integer_value(btc),
	    .blocked = action && !strcmp(action, "blocked"),
	};
	return 1;
}
