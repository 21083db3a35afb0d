/* Unit tests for the capture-source interface (src/net/capture*.c): the
 * file source through om_capture, and the errors of the live sources when
 * what they need is missing. The live paths themselves run in the gateway's
 * end-to-end tests (tests/gateway). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"

/* A classic pcap file with three Ethernet frames of 60, 61 and 62 bytes at
 * 1.000001 s, 2.000002 s and 3.000003 s. */
static void write_pcap(const char *path)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	const uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	fwrite(gh, 1, 24, f);
	for (uint32_t i = 0; i < 3; i++) {
		uint32_t len = 60 + i;
		uint32_t rh[4] = {i + 1, i + 1, len, len};
		fwrite(rh, 1, 16, f);
		uint8_t frame[64];
		memset(frame, (int)i, sizeof(frame));
		fwrite(frame, 1, len, f);
	}
	fclose(f);
}

static void test_file_source(void **st)
{
	(void)st;
	char path[] = "/tmp/omamori-cap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_pcap(path);
	om_capture_opts o = {.kind = OM_CAPTURE_FILE, .path = path};
	om_capture *c = NULL;
	char err[256];
	assert_int_equal(om_capture_open(&o, &c, err, sizeof(err)), 0);
	assert_false(om_capture_is_inline(c));
	assert_false(om_capture_is_live(c));
	om_capture_pkt pk[8];
	for (uint32_t i = 0; i < 3; i++) {
		int n = om_capture_next_batch(c, pk, 8, 0);
		assert_int_equal(n, 1);
		assert_int_equal(pk[0].caplen, 60 + i);
		assert_int_equal(pk[0].wirelen, 60 + i);
		assert_int_equal(pk[0].ts, (om_usec)(i + 1) * 1000000u + (i + 1));
		assert_int_equal(pk[0].linktype, 1);
		assert_int_equal(pk[0].id, i + 1);
		assert_int_equal(pk[0].data[0], i);
		/* a passive source counts what would have happened */
		assert_int_equal(om_capture_verdict(c, &pk[0], i == 1 ? OM_VERDICT_DROP : OM_VERDICT_ACCEPT), 0);
		assert_int_equal(om_capture_release(c), 0);
	}
	assert_int_equal(om_capture_next_batch(c, pk, 8, 0), -ENODATA);
	assert_int_equal(om_capture_next_batch(c, pk, 8, 0), -ENODATA);
	om_capture_stats s;
	om_capture_stats_get(c, &s);
	assert_int_equal(s.packets, 3);
	assert_int_equal(s.bytes, 60 + 61 + 62);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.dropped, 1);
	assert_int_equal(om_capture_verdict_id(c, 1, OM_VERDICT_ACCEPT), -ENOENT);
	assert_null(om_capture_close(c));
	unlink(path);
}

static void test_open_errors(void **st)
{
	(void)st;
	om_capture *c = NULL;
	char err[512] = "";
	om_capture_opts o = {.kind = OM_CAPTURE_FILE, .path = "/nonexistent/x.pcap"};
	assert_true(om_capture_open(&o, &c, err, sizeof(err)) < 0);
	assert_null(c);
	o = (om_capture_opts){.kind = OM_CAPTURE_AFPACKET, .ifname = "omamori-none0"};
	err[0] = '\0';
	int r = om_capture_open(&o, &c, err, sizeof(err));
	/* without root the socket is refused; with it the interface is missing */
	assert_true(r == -ENODEV || r == -EPERM || r == -EACCES);
	assert_true(err[0] != '\0');
	o = (om_capture_opts){.kind = 99};
	assert_int_equal(om_capture_open(&o, &c, err, sizeof(err)), -EINVAL);
	assert_null(om_capture_close(NULL));
}

static void test_verdict_names(void **st)
{
	(void)st;
	assert_string_equal(om_verdict_name(OM_VERDICT_ACCEPT), "accept");
	assert_string_equal(om_verdict_name(OM_VERDICT_HOLD), "hold");
	assert_string_equal(om_verdict_name(OM_VERDICT_REJECT), "reject");
	assert_string_equal(om_verdict_name(OM_VERDICT_DROP), "drop");
	/* the order is the strictness the engine combines by */
	assert_true(OM_VERDICT_ACCEPT < OM_VERDICT_HOLD && OM_VERDICT_HOLD < OM_VERDICT_REJECT &&
	            OM_VERDICT_REJECT < OM_VERDICT_DROP);
}

int main(void)
{
	om_lang_set_thread(OM_LANG_EN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_source),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_verdict_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
