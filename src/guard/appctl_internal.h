/* appctl_internal.h: what the application control files share. */
#ifndef OMAMORI_GUARD_APPCTL_INTERNAL_H
#define OMAMORI_GUARD_APPCTL_INTERNAL_H

#include "guard/guard.h"

enum app_map_kind { APP_MAP_APP = 1, APP_MAP_CATEGORY, APP_MAP_HOST };

struct app_map_entry {
	uint8_t kind;  /* enum app_map_kind */
	uint8_t group; /* enum om_app_group */
	uint16_t host_len;
	char name[OM_APPCTL_NAME_MAX]; /* app/category: the nDPI name; host: the application */
	char host[OM_APPCTL_HOST_MAX]; /* host rules: normalised */
};

struct om_app_map {
	size_t n;
	struct app_map_entry e[OM_APPCTL_MAP_MAX];
};

#endif
