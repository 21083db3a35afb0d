/* libFuzzer: the desk's parsers of outside data: an EVE line a gateway
 * pushed (does it open a ticket?), a mail to the desk's address, and the
 * console's answer to the gateway's poll. The first byte picks the parser,
 * so that one corpus grows inputs for each. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "console/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static con_desk_mail m;
	con_desk_candidate c;
	con_poll_command cmds[8];
	size_t n;

	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 3) {
	case 0:
		if (con_desk_auto_parse(p, len, &c) == 0 &&
		    (!con_desk_address_ok(c.device) || strlen(c.what) >= sizeof(c.what)))
			abort();
		break;
	case 1:
		if (con_desk_mail_parse(p, len, &m) == 0) {
			if (strlen(m.body) > OM_DESK_TEXT_MAX || !strchr(m.from, '@') ||
			    !m.subject[0])
				abort();
			for (const char *q = m.subject; *q; q++)
				if ((unsigned char)*q < 0x20)
					abort(); /* a control character would reach a title */
		}
		break;
	default:
		if (con_poll_parse(p, len, cmds, 8, &n) == 0 && n > 8)
			abort();
		break;
	}
	return 0;
}
