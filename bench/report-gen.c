/* report-gen: a store of N companies with a month of events each, for
 * bench/report-pdf. Company i is "co-NNNN" with a Japanese display name,
 * industry, size and region (for the statistics), a device inventory entry,
 * recon and c2 watched every hour of the month (the tenant's Tokyo month),
 * and EVENTS events spread over the month (mostly scans from a few dozen
 * internet addresses, some spam and web malware, a c2 event every tenth
 * company). Deterministic: the same arguments give the same store.
 *
 * usage: report-gen DB N EVENTS      (month 2024-05, Asia/Tokyo) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define MAY1_2024_JST (1717200000ull - 31ull * 86400ull - 9ull * 3600ull)

int main(int argc, char **argv)
{
	static const char *const ind[] = {"小売", "飲食", "製造", "建設", "医療"};
	static const char *const size[] = {"1-9", "10-49", "50-299"};
	static const char *const reg[] = {"東京都", "大阪府", "愛知県", "福岡県", "北海道", "宮城県"};
	static const char *const cats[] = {"recon", "recon", "recon", "recon", "spam", "web_malware"};
	char err[512], tenant[32], name[64], src[32], dst[32], eve[160];
	om_store *s = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: report-gen DB N EVENTS\n");
		return 2;
	}
	long n = strtol(argv[2], NULL, 10), events = strtol(argv[3], NULL, 10);
	if (n <= 0 || n > 100000 || events < 0 || events > 1000000) {
		fprintf(stderr, "report-gen: N 1..100000, EVENTS 0..1000000\n");
		return 2;
	}
	if (om_store_open(argv[1], &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "report-gen: %s\n", err);
		return 1;
	}
	uint32_t x = 1;
	for (long i = 0; i < n; i++) {
		snprintf(tenant, sizeof(tenant), "co-%04ld", i);
		snprintf(name, sizeof(name), "株式会社テスト%04ld", i);
		if (om_store_tenant_meta_set(s, tenant, "display_name", name) < 0 ||
		    om_store_tenant_meta_set(s, tenant, "industry", ind[i % 5]) < 0 ||
		    om_store_tenant_meta_set(s, tenant, "size", size[i % 3]) < 0 ||
		    om_store_tenant_meta_set(s, tenant, "region", reg[i % 6]) < 0 ||
		    om_store_tenant_meta_set(s, tenant, "contact", "サポート株式会社 03-0000-0000") < 0 ||
		    om_store_device_set(s, tenant, "192.168.1.10", "レジのパソコン") < 0)
			goto fail;
		for (unsigned h = 0; h < 31 * 24; h++) {
			om_usec t = (MAY1_2024_JST + h * 3600ull) * 1000000ull;
			if (om_store_add_watched(s, tenant, "gw1", "recon", t, 100) < 0 ||
			    om_store_add_watched(s, tenant, "gw1", "c2", t, 100) < 0)
				goto fail;
		}
		for (long e = 0; e < events; e++) {
			x = x * 1103515245u + 12345u;
			const char *cat = i % 10 == 0 && e == 0 ? "c2" : cats[(x >> 16) % 6];
			snprintf(src, sizeof(src), "203.0.113.%u", (x >> 8) % 40 + 1);
			snprintf(dst, sizeof(dst), "192.168.1.%u", (x >> 4) % 5 + 10);
			snprintf(eve, sizeof(eve), "{\"event_type\":\"alert\",\"tenant\":\"%s\",\"n\":%ld}",
			         tenant, e);
			om_store_event ev = {
			    .ts = (MAY1_2024_JST + (uint64_t)(x % (31u * 86400u))) * 1000000ull,
			    .tenant = tenant,
			    .gateway = "gw1",
			    .event_type = "alert",
			    .category = cat,
			    .severity = 2,
			    .action = "blocked",
			    .src_ip = src,
			    .dest_ip = dst,
			    .proto = "TCP",
			    .eve_json = eve,
			};
			if (om_store_add_event(s, &ev) < 0)
				goto fail;
		}
	}
	if (om_store_flush(s) < 0)
		goto fail;
	om_store_close(s);
	return 0;
fail:
	fprintf(stderr, "report-gen: cannot write the store\n");
	om_store_close(s);
	return 1;
}
