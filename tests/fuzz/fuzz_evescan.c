/* libFuzzer target for the store's EVE field scanner (src/store/evescan.c):
 * any bytes as one line. Whenever the scanner answers, jansson must take
 * the line too (with JSON_REJECT_DUPLICATES) and give the same fields;
 * when it does not, nothing is checked (the full parse decides). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *scratch = malloc(size + 16);
	store_eve_fields a, b;

	if (!scratch)
		return 0;
	if (store_eve_scan((const char *)data, size, scratch, &a)) {
		json_error_t e;
		json_t *ev = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
		if (!json_is_object(ev))
			abort(); /* the scanner took a line jansson refuses */
		store_eve_fields_of(ev, &b);
		if (!same(a.event_type, b.event_type) || !same(a.timestamp, b.timestamp) ||
		    !same(a.src_ip, b.src_ip) || !same(a.dest_ip, b.dest_ip) ||
		    !same(a.proto, b.proto) || !same(a.tenant, b.tenant) ||
		    !same(a.gateway, b.gateway) || !same(a.category, b.category) ||
		    !same(a.action, b.action) || !same(a.signature, b.signature) ||
		    !same(a.anomaly_event, b.anomaly_event) || a.has_src_port != b.has_src_port ||
		    a.src_port != b.src_port || a.has_dest_port != b.has_dest_port ||
		    a.dest_port != b.dest_port || a.has_severity != b.has_severity ||
		    a.severity != b.severity || a.has_signature_id != b.has_signature_id ||
		    a.signature_id != b.signature_id || a.om_obj != b.om_obj ||
		    a.alert_obj != b.alert_obj || a.anomaly_obj != b.anomaly_obj)
			abort();
		json_decref(ev);
	}
	free(scratch);
	return 0;
}
