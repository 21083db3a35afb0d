/* ftp.c: the ftp parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_ftp_config, m), sizeof(((struct om_proto_ftp_config *)0)->m)
static const om_config_key ftp_keys[] = {
    {"app-layer.ftp.enabled", OM_CK_BOOL, F(enabled), 0, 0, "config.help.app-layer.ftp.enabled",
     NULL, NULL},
};
#undef F

static void ftp_defaults(void *obj)
{
	struct om_proto_ftp_config *c = obj;
	c->enabled = true;
}

const om_config_schema proto_ftp_schema = {
    "proto",      ftp_keys, OM_ARRAY_SIZE(ftp_keys), sizeof(struct om_proto_ftp_config),
    ftp_defaults, NULL,
};

int proto_ftp_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
