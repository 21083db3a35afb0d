/* libFuzzer target: the .po catalogue parser. */
#include <stdint.h>
#include <string.h>

#include "base/base.h"

static void sink(void *user, const char *id, const char *str)
{
	size_t *n = user;
	*n += strlen(id) + strlen(str);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int line;
	om_po_parse((const char *)data, size, sink, &n, &line);
	return 0;
}
