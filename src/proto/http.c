/* http.c: the http parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_http_config, m), sizeof(((struct om_proto_http_config *)0)->m)
static const om_config_key http_keys[] = {
    {"app-layer.http.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.http.enabled",
     NULL, NULL},
};
#undef F

static void http_defaults(void *obj)
{
	struct om_proto_http_config *c = obj;
	c->enabled = true;
}

const om_config_schema proto_http_schema = {
    "proto",       http_keys, OM_ARRAY_SIZE(http_keys), sizeof(struct om_proto_http_config),
    http_defaults, NULL,
};

int proto_http_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
