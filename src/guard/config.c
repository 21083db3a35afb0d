/* config.c: the guard module's settings (the recon: section), described for
 * base's YAML loader. */
#include <stddef.h>
#include <string.h>

#include "guard/guard.h"

#define F(m) offsetof(om_guard_config, m)
static const om_config_key guard_keys[] = {
    {"recon.window", OM_CK_U32, F(recon_window), 0, 1, 86400, "config.help.recon.window", NULL,
     NULL},
    {"recon.vertical-ports", OM_CK_U32, F(recon_vertical_ports), 0, 2, 65536,
     "config.help.recon.vertical-ports", NULL, NULL},
    {"recon.horizontal-hosts", OM_CK_U32, F(recon_horizontal_hosts), 0, 2, 1u << 24,
     "config.help.recon.horizontal-hosts", NULL, NULL},
    {"recon.sweep-hosts", OM_CK_U32, F(recon_sweep_hosts), 0, 2, 1u << 24,
     "config.help.recon.sweep-hosts", NULL, NULL},
    {"recon.max-sources", OM_CK_U32, F(recon_max_sources), 0, 16, 1u << 24,
     "config.help.recon.max-sources", NULL, NULL},
};
#undef F

static void guard_defaults(void *obj)
{
	om_guard_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->recon_window = 60;
	c->recon_vertical_ports = 20;
	c->recon_horizontal_hosts = 20;
	c->recon_sweep_hosts = 10;
	c->recon_max_sources = 65536;
}

const om_config_schema om_guard_config_schema = {
    "guard", guard_keys, OM_ARRAY_SIZE(guard_keys), sizeof(om_guard_config), guard_defaults, NULL,
};
