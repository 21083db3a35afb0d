/* libFuzzer target: the anti-spam checks on a hostile message
 * (src/guard/spam*.c on top of proto's MIME decoder through
 * om_proto_mail_message): the tokenizer, the rules (addresses, domains,
 * Authentication-Results, attachment names and first bytes, URLs), the
 * targeted-mail signs and the EVE object. A small token database is
 * trained on the first message of the run so that the classifier's path
 * runs too. Byte 0 bit 0: the input is also learnt (as spam when bit 1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

static om_spam_db *db;
static om_spam_config cfg;

struct run {
	bool learn, spam;
};

static void on_tx(void *user, const om_proto_tx *tx)
{
	struct run *r = user;
	if (r->learn)
		(void)om_spam_db_train(db, tx, r->spam);
	om_spam_result res;
	om_spam_check(&cfg, tx, NULL, &res);
	if (res.nreasons > OM_SPAM_REASONS_MAX || res.nsigns > OM_SPAM_SIGNS_MAX)
		abort();
	om_buf b;
	om_json j;
	om_buf_init(&b, 1u << 16);
	om_json_init(&j, &b);
	om_json_obj_open(&j, NULL);
	om_spam_write(&j, &res);
	om_json_obj_close(&j);
	om_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		if (om_spam_db_new(&db) < 0)
			abort();
		om_spam_config_init(&cfg);
		om_spam_config_domains(&cfg, false, "example.co.jp");
		om_spam_config_domains(&cfg, true, "partner-trading.com");
		cfg.db = db;
	}
	if (!size)
		return 0;
	struct run r = {(data[0] & 1) != 0, (data[0] & 2) != 0};
	struct om_proto_mail_config mc;
	om_spam_mail_limits(&mc);
	om_proto_mail_message(&mc, data + 1, size - 1, on_tx, &r);
	return 0;
}
