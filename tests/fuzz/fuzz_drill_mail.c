/* libFuzzer target: a mail read from the report mailbox (a forwarded
 * drill mail, an attached one in base64 or quoted-printable, a bounce).
 * No crash, every token found is 32 lower-case hex digits, at most
 * OM_DRILL_SCAN_TOKENS of them, and the bounce address is a C string;
 * and the UIDs of an IMAP SEARCH answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	om_drill_mailscan m;
	om_drill_mail_scan((const char *)data, size, &m);
	if (m.ntokens > OM_DRILL_SCAN_TOKENS)
		abort();
	for (unsigned i = 0; i < m.ntokens; i++)
		if (!om_drill_token_valid(m.token[i], strlen(m.token[i])))
			abort();
	if (strnlen(m.final_rcpt, sizeof(m.final_rcpt)) >= sizeof(m.final_rcpt))
		abort();
	if (m.failed && !m.dsn)
		abort();
	/* the same bytes as the server's answer to UID SEARCH */
	uint64_t uids[16];
	size_t n = om_drill_imap_uids((const char *)data, size, uids, 16);
	if (n > 16)
		abort();
	for (size_t i = 0; i < n; i++)
		if (uids[i] == 0 || uids[i] >= 1000000000000ULL)
			abort();
	return 0;
}
