/* libFuzzer target: the store's placeholder rewrite for libpq
 * (om_db_rewrite_placeholders) on any text. It must never write past its
 * buffer, must end the output with a NUL, must number at most 65535
 * parameters, must keep the text outside placeholders byte for byte (every
 * '?' it leaves is inside quotes or a comment), and must agree with itself
 * when the buffer is exactly as large as the result. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	size_t cap = size * 6 + 16;
	char *out = malloc(cap);
	int n = -1;
	int r = out ? om_db_rewrite_placeholders(in, out, cap, &n) : -1;
	if (r == 0) {
		size_t len = strlen(out);
		if (len >= cap || n < 0 || n > 65535)
			abort();
		/* no placeholder left: every '$' came from one, or was in the input */
		size_t q_in = 0, q_out = 0, d_in = 0, d_out = 0;
		for (const char *p = in; *p; p++) {
			q_in += *p == '?';
			d_in += *p == '$';
		}
		for (const char *p = out; *p; p++) {
			q_out += *p == '?';
			d_out += *p == '$';
		}
		if (q_out > q_in || d_out - d_in != q_in - q_out)
			abort();
		if ((n == 0) != (q_in == q_out))
			abort();
		/* exactly big enough works; one byte less does not */
		char *tight = malloc(len + 1);
		int n2 = -1;
		if (tight) {
			if (om_db_rewrite_placeholders(in, tight, len + 1, &n2) != 0 || n2 != n ||
			    strcmp(tight, out) != 0)
				abort();
			if (len > 0 && om_db_rewrite_placeholders(in, tight, len, &n2) == 0)
				abort();
			free(tight);
		}
	}
	free(out);
	free(in);
	return 0;
}
