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

/* The gateway's side of the desk's command channel applies a command:
 * kind "quarantine", "release", "block" or "unblock", target an address or
 * a domain. Returns 0 when done (idempotent: an address already isolated is
 * done), a negative errno when not, with detail saying why. */
typedef int (*om_desk_apply_fn)(void *user, const char *kind, const char *target, char *detail,
                                size_t detail_len);
/* `omamori desk [...]`; argv[0] is "desk". apply is used by `desk poll`
 * (NULL: poll refuses to start). Returns 0 ok, 1 failure, 2 usage error. */
int om_desk_main(int argc, char **argv, enum om_lang lang, om_desk_apply_fn apply, void *user);

/* The same poll in a thread of the caller (the gateway runs it beside its
 * workers): every interval seconds (0: 10) the commands for the gateway
 * whose credential is in credential_file are fetched from url, applied
 * through apply (in that thread) and reported. The thread blocks every
 * signal, so the caller's handlers see them. -ENOENT: no credential (the
 * push enrols first); -EINVAL a bad URL. */
typedef struct om_desk_poller om_desk_poller;
int om_desk_poller_start(const char *url, const char *credential_file, const char *cacert,
                         unsigned interval, enum om_lang lang, om_desk_apply_fn apply, void *user,
                         om_desk_poller **ret);
/* Stops and joins the thread (within about a tenth of a second plus a
 * request in flight); accepts NULL; returns NULL. */
om_desk_poller *om_desk_poller_stop(om_desk_poller *p);

#endif
