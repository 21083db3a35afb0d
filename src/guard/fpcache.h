/* fpcache.h: the guards' memory of values their databases do not hold, as
 * keyed 64-bit fingerprints (never 0, which marks an empty way) in a
 * fixed array of sets of OM_FPC_WAYS: a lookup reads one set, half a cache
 * line; a new fingerprint goes first in its set and the oldest one of the
 * set is dropped. Four ways keep names whose fingerprints meet in a set
 * from pushing each other out, as they did in a direct-mapped table (an
 * office's 512 MiB asks about 30 000 distinct names: half of them shared a
 * slot with another in 32768). The array is aligned to 64 bytes by its
 * owner. */
#ifndef OMAMORI_GUARD_FPCACHE_H
#define OMAMORI_GUARD_FPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OM_FPC_WAYS 4u

static inline bool om_fpc_has(const uint64_t *v, uint32_t nsets, uint64_t fp)
{
	const uint64_t *s = v + (size_t)(fp & (nsets - 1)) * OM_FPC_WAYS;
	return s[0] == fp || s[1] == fp || s[2] == fp || s[3] == fp;
}

static inline void om_fpc_add(uint64_t *v, uint32_t nsets, uint64_t fp)
{
	uint64_t *s = v + (size_t)(fp & (nsets - 1)) * OM_FPC_WAYS;
	s[3] = s[2];
	s[2] = s[1];
	s[1] = s[0];
	s[0] = fp;
}

/* Whether the parser name ap is lit (a short literal): the byte compare
 * inlined, where a call of strcmp for each transaction of each guard was a
 * measurable part of their instructions. */
static inline bool om_guard_ap_is(const char *ap, const char *lit)
{
	size_t i = 0;
	for (; lit[i]; i++)
		if (ap[i] != lit[i])
			return false;
	return ap[i] == '\0';
}

/* The keyed 64-bit fingerprint of a name (om_siphash with the process's
 * key; never 0). The guards ask it of one transaction's name in turn
 * (application control, the web filter, threat intelligence: a DNS
 * question, a server name), so the last name's is remembered per thread
 * and handed out again for the same bytes. */
uint64_t om_guard_name_fp(const void *p, size_t n);

#endif
