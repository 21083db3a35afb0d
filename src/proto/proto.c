/* proto.c: the proto module's life cycle: settings, registration of the
 * enabled parsers, file subscribers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"

void om_proto_config_parts(om_proto_config *c, om_config_part ret[OM_PROTO_CONFIG_PARTS])
{
	ret[0] = (om_config_part){&proto_http_schema, &c->http};
	ret[1] = (om_config_part){&proto_dns_schema, &c->dns};
	ret[2] = (om_config_part){&proto_tls_schema, &c->tls};
	ret[3] = (om_config_part){&proto_quic_schema, &c->quic};
	ret[4] = (om_config_part){&proto_mail_schema, &c->mail};
	ret[5] = (om_config_part){&proto_ftp_schema, &c->ftp};
	ret[6] = (om_config_part){&proto_files_schema, &c->files};
}

int om_proto_new(const om_proto_config *cfg, om_proto **ret, char *err, size_t errlen)
{
	om_proto *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	p->cfg = *cfg;
	p->ftp_id = -1;
	int r = proto_files_init(p, err, errlen);
	if (r < 0) {
		om_proto_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int om_proto_register(om_proto *p, om_app_registry *reg)
{
	/* ftp first: its data connections are recognised by expectation */
	int (*const regs[])(om_proto *, om_app_registry *) = {
	    proto_ftp_register, proto_http_register, proto_tls_register,
	    proto_dns_register, proto_quic_register, proto_mail_register,
	};
	for (size_t i = 0; i < OM_ARRAY_SIZE(regs); i++) {
		int r = regs[i](p, reg);
		if (r < 0)
			return r;
	}
	return 0;
}

om_proto *om_proto_free(om_proto *p)
{
	if (!p)
		return NULL;
	proto_files_fini(p);
	free(p);
	return NULL;
}

int om_proto_add_file_subscriber(om_proto *p, const om_file_subscriber *s)
{
	if (!s || !s->name)
		return -EINVAL;
	if (p->nsubs >= OM_PROTO_MAX_SUBSCRIBERS)
		return -ENOSPC;
	p->subs[p->nsubs++] = *s;
	if (!s->no_http_bodies)
		p->http_bodies_read = true;
	return 0;
}
