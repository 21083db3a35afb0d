/* quic.c: the quic parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_quic_config, m), sizeof(((struct om_proto_quic_config *)0)->m)
static const om_config_key quic_keys[] = {
    {"app-layer.quic.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.quic.enabled",
     NULL, NULL},
};
#undef F

static void quic_defaults(void *obj)
{
	struct om_proto_quic_config *c = obj;
	c->enabled = true;
}

const om_config_schema proto_quic_schema = {
    "proto",       quic_keys, OM_ARRAY_SIZE(quic_keys), sizeof(struct om_proto_quic_config),
    quic_defaults, NULL,
};

int proto_quic_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
