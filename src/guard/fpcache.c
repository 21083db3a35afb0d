/* fpcache.c: the guards' keyed fingerprint of a name, the last one
 * remembered per thread (fpcache.h). */
#include "guard/fpcache.h"

#include <string.h>

#include "base/base.h"

#define NAME_FP_MAX 256

static _Thread_local struct {
	size_t n; /* 0: none */
	uint64_t fp;
	unsigned char b[NAME_FP_MAX];
} last;

uint64_t om_guard_name_fp(const void *p, size_t n)
{
	if (n && n == last.n && !memcmp(p, last.b, n))
		return last.fp;
	uint64_t fp = om_siphash(om_hash_key_process(), p, n);
	fp = fp ? fp : 1;
	if (n && n <= NAME_FP_MAX) {
		memcpy(last.b, p, n);
		last.n = n;
		last.fp = fp;
	}
	return fp;
}
