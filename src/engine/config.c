/* config.c: the engine's own settings (outputs) and the whole set of
 * settings the engine runs with, one part per module. */
#include <stddef.h>
#include <string.h>

#include "engine/engine.h"

#define F(m) offsetof(om_engine_config, m)
static const om_config_key engine_keys[] = {
    {"stats-interval", OM_CK_U32, F(stats_interval), 0, 1, 86400, "config.help.stats-interval",
     NULL, NULL},
    {"eve.rotate-size", OM_CK_U64, F(eve_rotate_bytes), 0, 0, UINT64_MAX,
     "config.help.eve.rotate-size", NULL, NULL},
    {"eve.rotate-daily", OM_CK_BOOL, F(eve_rotate_daily), 0, 0, 0, "config.help.eve.rotate-daily",
     NULL, NULL},
    {"capture-clock.max-ahead", OM_CK_U32, F(clock_ahead_max), 0, 60, 86400 * 366,
     "config.help.capture-clock.max-ahead", NULL, NULL},
    {"capture-clock.max-behind", OM_CK_U32, F(clock_behind_max), 0, 0, 86400 * 366,
     "config.help.capture-clock.max-behind", NULL, NULL},
};
#undef F

static void engine_defaults(void *obj)
{
	om_engine_config *c = obj;
	memset(c, 0, sizeof(*c));
	c->stats_interval = 300;
	c->eve_rotate_bytes = 0;
	c->eve_rotate_daily = false;
	c->clock_ahead_max = 3600;
	c->clock_behind_max = 0;
}

const om_config_schema om_engine_config_schema = {
    "engine",        engine_keys, OM_ARRAY_SIZE(engine_keys), sizeof(om_engine_config),
    engine_defaults, NULL,
};

void om_settings_parts(om_settings *s, om_config_part ret[OM_SETTINGS_PARTS])
{
	ret[0] = (om_config_part){&om_base_config_schema, &s->base};
	ret[1] = (om_config_part){&om_net_config_schema, &s->net};
	/* proto's keys continue net's app-layer section */
	om_proto_config_parts(&s->proto, ret + 2);
	ret[2 + OM_PROTO_CONFIG_PARTS] = (om_config_part){&om_guard_config_schema, &s->guard};
	ret[3 + OM_PROTO_CONFIG_PARTS] = (om_config_part){&om_engine_config_schema, &s->engine};
	ret[4 + OM_PROTO_CONFIG_PARTS] = (om_config_part){&om_detect_config_schema, &s->detect};
	ret[5 + OM_PROTO_CONFIG_PARTS] = (om_config_part){&om_gateway_config_schema, &s->gateway};
	ret[6 + OM_PROTO_CONFIG_PARTS] = (om_config_part){&om_av_config_schema, &s->av};
}

void om_settings_defaults(om_settings *s)
{
	memset(s, 0, sizeof(*s)); /* padding too: settings compare with memcmp */
	om_config_part parts[OM_SETTINGS_PARTS];
	om_settings_parts(s, parts);
	om_config_defaults(parts, OM_SETTINGS_PARTS);
}

int om_settings_load(om_settings *s, const char *path, char *err, size_t errlen)
{
	om_config_part parts[OM_SETTINGS_PARTS];
	om_settings_parts(s, parts);
	return om_config_load(parts, OM_SETTINGS_PARTS, path, err, errlen);
}

void om_settings_dump(om_settings *s, om_buf *out)
{
	om_config_part parts[OM_SETTINGS_PARTS];
	om_settings_parts(s, parts);
	om_config_dump(parts, OM_SETTINGS_PARTS, out);
}
