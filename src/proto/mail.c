/* mail.c: the smtp/pop3/imap parser (placeholder: registers nothing
 * yet; its settings are read so that a configuration naming them loads). */
#include <stddef.h>

#include "proto/internal.h"

#define F(m) offsetof(struct om_proto_mail_config, m), sizeof(((struct om_proto_mail_config *)0)->m)
static const om_config_key mail_keys[] = {
    {"app-layer.smtp.enabled", OM_CK_BOOL, F(smtp), 0, 0, "config.help.app-layer.smtp.enabled",
     NULL, NULL},
    {"app-layer.pop3.enabled", OM_CK_BOOL, F(pop3), 0, 0, "config.help.app-layer.pop3.enabled",
     NULL, NULL},
    {"app-layer.imap.enabled", OM_CK_BOOL, F(imap), 0, 0, "config.help.app-layer.imap.enabled",
     NULL, NULL},
};
#undef F

static void mail_defaults(void *obj)
{
	struct om_proto_mail_config *c = obj;
	c->smtp = true;
	c->pop3 = true;
	c->imap = true;
}

const om_config_schema proto_mail_schema = {
    "proto",       mail_keys, OM_ARRAY_SIZE(mail_keys), sizeof(struct om_proto_mail_config),
    mail_defaults, NULL,
};

int proto_mail_register(om_proto *p, om_app_registry *reg)
{
	(void)p;
	(void)reg;
	return 0;
}
