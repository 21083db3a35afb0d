/* console: the provider's web console (many companies, one place to look).
 * Uses base, store and report. */
#ifndef OMAMORI_CONSOLE_H
#define OMAMORI_CONSOLE_H

#include "base/base.h"

/* `omamori console [...]` and `omamori console user add|passwd|list`.
 * argv[0] is "console". Returns 0 ok, 1 failure, 2 usage error. */
int om_console_main(int argc, char **argv, enum om_lang lang);

/* The gateway's side of the desk's command channel applies a command:
 * kind "quarantine", "release", "block" or "unblock", target an address or
 * a domain. Returns 0 when done (idempotent: an address already isolated is
 * done), a negative errno when not, with detail saying why. */
typedef int (*om_desk_apply_fn)(void *user, const char *kind, const char *target, char *detail,
                                size_t detail_len);
/* `omamori desk [...]`; argv[0] is "desk". apply is used by `desk poll`
 * (NULL: poll refuses to start). Returns 0 ok, 1 failure, 2 usage error. */
int om_desk_main(int argc, char **argv, enum om_lang lang, om_desk_apply_fn apply, void *user);

#endif
