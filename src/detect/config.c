/* config.c: the rule engine's settings ("rules." keys): the rule files the
 * gateway loads, the variables of the rule language, the
 * classification.config; and building a rule set from them. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "detect/internal.h"

static int parse_files(om_config_ctx *c, const om_config_node *n, void *obj)
{
	static const char key[] = "rules.files";
	om_detect_config *dc = obj;
	char files[OM_DETECT_MAX_FILES][OM_DETECT_PATH_MAX];
	memset(files, 0, sizeof(files));
	size_t count = 0;
	if (om_config_node_type(n) == OM_CN_SCALAR) {
		const char *s = om_config_node_scalar(n);
		if (s && *s) {
			if (strlen(s) >= OM_DETECT_PATH_MAX)
				return om_config_fail(c, n, key, "err.config.detect.path",
				                      OM_DETECT_PATH_MAX - 1);
			snprintf(files[0], OM_DETECT_PATH_MAX, "%s", s);
			count = 1;
		}
	} else if (om_config_node_type(n) == OM_CN_SEQUENCE) {
		count = om_config_node_count(n);
		if (count > OM_DETECT_MAX_FILES)
			return om_config_fail(c, n, key, "err.config.detect.files",
			                      OM_DETECT_MAX_FILES);
		for (size_t i = 0; i < count; i++) {
			const om_config_node *e = om_config_node_item(c, n, i, NULL);
			const char *s = e ? om_config_node_scalar(e) : NULL;
			if (!s || !*s || strlen(s) >= OM_DETECT_PATH_MAX)
				return om_config_fail(c, e ? e : n, key, "err.config.detect.path",
				                      OM_DETECT_PATH_MAX - 1);
			snprintf(files[i], OM_DETECT_PATH_MAX, "%s", s);
		}
	} else {
		return om_config_fail(c, n, key, "err.config.detect.files", OM_DETECT_MAX_FILES);
	}
	memcpy(dc->files, files, sizeof(files));
	dc->nfiles = (unsigned)count;
	return 0;
}

static void dump_files(const void *obj, om_buf *out, int indent)
{
	const om_detect_config *dc = obj;
	if (!dc->nfiles) {
		om_buf_puts(out, " []");
		return;
	}
	for (unsigned i = 0; i < dc->nfiles; i++)
		om_buf_printf(out, "\n%*s- \"%s\"", indent + 2, "", dc->files[i]);
}

static int parse_vars(om_config_ctx *c, const om_config_node *n, void *obj)
{
	static const char key[] = "rules.vars";
	om_detect_config *dc = obj;
	struct om_detect_var vars[OM_DETECT_MAX_VARS];
	memset(vars, 0, sizeof(vars));
	if (om_config_node_type(n) != OM_CN_MAPPING)
		return om_config_fail(c, n, key, "err.config.detect.vars", OM_DETECT_MAX_VARS);
	size_t count = om_config_node_count(n);
	if (count > OM_DETECT_MAX_VARS)
		return om_config_fail(c, n, key, "err.config.detect.vars", OM_DETECT_MAX_VARS);
	for (size_t i = 0; i < count; i++) {
		const char *name = NULL;
		const om_config_node *e = om_config_node_item(c, n, i, &name);
		const char *v = e ? om_config_node_scalar(e) : NULL;
		if (!name || !v || !*name || strlen(name) >= sizeof(vars[i].name) ||
		    strlen(v) >= sizeof(vars[i].value))
			return om_config_fail(c, e ? e : n, key, "err.config.detect.vars",
			                      OM_DETECT_MAX_VARS);
		snprintf(vars[i].name, sizeof(vars[i].name), "%s", name);
		snprintf(vars[i].value, sizeof(vars[i].value), "%s", v);
	}
	memcpy(dc->vars, vars, sizeof(vars));
	dc->nvars = (unsigned)count;
	return 0;
}

static void dump_vars(const void *obj, om_buf *out, int indent)
{
	const om_detect_config *dc = obj;
	if (!dc->nvars) {
		om_buf_puts(out, " {}");
		return;
	}
	for (unsigned i = 0; i < dc->nvars; i++)
		om_buf_printf(out, "\n%*s%s: \"%s\"", indent + 2, "", dc->vars[i].name,
		              dc->vars[i].value);
}

#define F(m) offsetof(om_detect_config, m)
static const om_config_key detect_keys[] = {
    {"rules.files", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.rules.files", parse_files, dump_files},
    {"rules.vars", OM_CK_CUSTOM, 0, 0, 0, 0, "config.help.rules.vars", parse_vars, dump_vars},
    {"rules.classification-file", OM_CK_STR, F(classification),
     sizeof(((om_detect_config *)0)->classification), 0, 0, "config.help.rules.classification-file",
     NULL, NULL},
};
#undef F

const om_config_schema om_detect_config_schema = {
    "detect", detect_keys, OM_ARRAY_SIZE(detect_keys), sizeof(om_detect_config), NULL, NULL,
};

int om_detect_from_config(const om_detect_config *cfg, const om_config_nets *home,
                          const char *const *extra, unsigned nextra, unsigned warn, om_detect **ret,
                          char *err, size_t errlen)
{
	return om_detect_from_config_stats(cfg, home, extra, nextra, warn, NULL, ret, err, errlen);
}

int om_detect_from_config_stats(const om_detect_config *cfg, const om_config_nets *home,
                                const char *const *extra, unsigned nextra, unsigned warn,
                                om_detect_load_stats *st, om_detect **ret, char *err, size_t errlen)
{
	om_detect *d = NULL;
	int rc = om_detect_new(home, &d);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; rc == 0 && cfg && i < cfg->nvars; i++)
		rc = om_detect_set_var(d, cfg->vars[i].name, cfg->vars[i].value);
	if (rc == 0 && cfg && cfg->classification[0]) {
		om_buf b;
		om_buf_init(&b, 16u << 20);
		FILE *f = fopen(cfg->classification, "rb");
		if (!f) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", cfg->classification, strerror(errno));
		} else {
			char chunk[8192];
			size_t n;
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				om_buf_append(&b, chunk, n);
			fclose(f);
			rc = om_detect_load_classification(d, b.len ? om_buf_cstr(&b) : "", b.len);
		}
		om_buf_free(&b);
	}
	for (unsigned i = 0; rc == 0 && cfg && i < cfg->nfiles; i++)
		rc = om_detect_add_file(d, cfg->files[i], warn, st, err, errlen);
	for (unsigned i = 0; rc == 0 && i < nextra; i++)
		rc = om_detect_add_file(d, extra[i], warn, st, err, errlen);
	if (rc == 0)
		rc = om_detect_compile(d, err, errlen);
	if (rc < 0) {
		om_detect_free(d);
		return rc;
	}
	*ret = d;
	return 0;
}

int om_detect_reload(om_detect_slot *slot, const om_detect_config *cfg, const om_config_nets *home,
                     char *err, size_t errlen)
{
	om_detect *d = NULL;
	int rc = om_detect_from_config(cfg, home, NULL, 0, OM_DETECT_WARN_ALL, &d, err, errlen);
	if (rc < 0)
		return rc; /* the running set stays */
	rc = om_detect_slot_swap(slot, d);
	if (rc < 0) {
		snprintf(err, errlen, "%s", strerror(-rc));
		om_detect_free(d);
	}
	return rc;
}
