/* dns.c: the dns parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_dns_config, m), sizeof(((struct om_proto_dns_config *)0)->m)
static const om_config_key dns_keys[] = {
    {"app-layer.dns.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.dns.enabled",
     NULL, NULL},
};
#undef F

static void dns_defaults(void *obj)
{
	struct om_proto_dns_config *c = obj;
	c->enabled = true;
}

const om_config_schema proto_dns_schema = {
    "proto",      dns_keys, OM_ARRAY_SIZE(dns_keys), sizeof(struct om_proto_dns_config),
    dns_defaults, NULL,
};

int proto_dns_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
