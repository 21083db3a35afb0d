/* av_internal.h: what av.c, av_sub.c and yara.c share inside guard. */
#ifndef OMAMORI_GUARD_AV_INTERNAL_H
#define OMAMORI_GUARD_AV_INTERNAL_H

#include "guard/guard.h"

/* ---- YARA (yara.c) */
typedef struct av_yara av_yara;
/* Compiles a rule file, or every *.yar / *.yara file of a directory.
 * -ENOENT, -EINVAL (a rule that does not compile: err names file and line). */
int av_yara_open(const char *path, av_yara **ret, char *err, size_t errlen);
void av_yara_close(av_yara *y);
/* The first matching rule's name into rule (""; none). 0 or -EIO. */
int av_yara_scan(av_yara *y, const uint8_t *buf, size_t len, char *rule, size_t rulesz);
unsigned av_yara_rules(const av_yara *y);

/* ---- the scanner (av.c), for av_sub.c */
/* Bytes of av.memory: reserve n more (false: the budget is used up), give back. */
bool av_mem_take(om_av *av, uint64_t n);
void av_mem_give(om_av *av, uint64_t n);
const om_av_config *av_config(const om_av *av);
void av_count_file(om_av *av, const om_av_result *r);
void av_count(om_av *av, int what); /* AV_C_* */
enum { AV_C_MEMORY = 0, AV_C_QUEUE_FULL, AV_C_LATE };

/* the subscriber's state, freed by om_av_close (av_sub.c) */
struct av_sub;
void av_sub_free(struct av_sub *s);
struct av_sub **av_sub_slot(om_av *av);

#endif
