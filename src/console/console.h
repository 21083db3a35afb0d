/* console: the provider's web console (many companies, one place to look).
 * Uses base, store and report. */
#ifndef OMAMORI_CONSOLE_H
#define OMAMORI_CONSOLE_H

#include "base/base.h"

/* `omamori console [...]` and `omamori console user add|passwd|list`.
 * argv[0] is "console"; config_path (may be NULL) is the -c FILE whose
 * console: section gives the defaults of the options. Returns 0 ok, 1
 * failure, 2 usage error. */
int om_console_main(int argc, char **argv, enum om_lang lang, const char *config_path);

#endif
