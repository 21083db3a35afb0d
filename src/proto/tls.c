/* tls.c: the tls parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_tls_config, m), sizeof(((struct om_proto_tls_config *)0)->m)
static const om_config_key tls_keys[] = {
    {"app-layer.tls.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.tls.enabled",
     NULL, NULL},
};
#undef F

static void tls_defaults(void *obj)
{
	struct om_proto_tls_config *c = obj;
	c->enabled = true;
}

const om_config_schema proto_tls_schema = {
    "proto",      tls_keys, OM_ARRAY_SIZE(tls_keys), sizeof(struct om_proto_tls_config),
    tls_defaults, NULL,
};

int proto_tls_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
