/* Unit tests for the anti-virus engine (src/guard/av.c, yara.c). Every
 * signature is written here, in a fresh directory: an MD5 (.hdb), a body
 * pattern (.ndb) and a logical signature (.ldb) for the EICAR test string,
 * an MD5 of clam.exe from Debian's clamav-testfiles (each of those files
 * carries clam.exe inside some container, so each must be found), and a
 * YARA rule. Containers (zip, MIME) are built here byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/guard.h"

/* the EICAR test string, split so that this source file is not itself
 * found by a scanner */
static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static char eicar[80];
static size_t eicar_len;
#define TESTFILES "/usr/share/clamav-testfiles"

static void make_eicar(void)
{
	eicar_len = (size_t)snprintf(eicar, sizeof(eicar), "%s%s", eicar_a, eicar_b);
}

/* ---- small helpers: files, MD5 (RFC 1321), CRC-32 and hex -------------------- */

static void write_file(const char *dir, const char *name, const void *d, size_t n)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void write_str(const char *dir, const char *name, const char *s)
{
	write_file(dir, name, s, strlen(s));
}

static char *mkdir_tmp(void)
{
	char t[] = "/tmp/omamori-av-XXXXXX";
	char *d = mkdtemp(t);
	assert_non_null(d);
	return strdup(d);
}

static void rm_tree(char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char p[600];
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

static uint32_t crc32(const uint8_t *d, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= d[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* MD5, RFC 1321, for the .hdb signatures */
static void md5(const uint8_t *msg, size_t len, uint8_t out[16])
{
	static const uint32_t K[64] = {
	    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	    0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	    0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	    0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	    0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	    0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	    0xeb86d391};
	static const uint8_t R[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	                              5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
	                              4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	                              6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
	uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	size_t total = ((len + 8) / 64 + 1) * 64;
	uint8_t *m = calloc(1, total);
	assert_non_null(m);
	memcpy(m, msg, len);
	m[len] = 0x80;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		m[total - 8 + i] = (uint8_t)(bits >> (8 * i));
	for (size_t off = 0; off < total; off += 64) {
		uint32_t w[16];
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)m[off + 4 * i] | (uint32_t)m[off + 4 * i + 1] << 8 |
			       (uint32_t)m[off + 4 * i + 2] << 16 | (uint32_t)m[off + 4 * i + 3] << 24;
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		for (int i = 0; i < 64; i++) {
			uint32_t f;
			int g;
			if (i < 16) {
				f = (b & c) | (~b & d);
				g = i;
			} else if (i < 32) {
				f = (d & b) | (~d & c);
				g = (5 * i + 1) % 16;
			} else if (i < 48) {
				f = b ^ c ^ d;
				g = (3 * i + 5) % 16;
			} else {
				f = c ^ (b | ~d);
				g = (7 * i) % 16;
			}
			uint32_t t = d;
			d = c;
			c = b;
			uint32_t x = a + f + K[i] + w[g];
			b = b + ((x << R[i]) | (x >> (32 - R[i])));
			a = t;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
	}
	free(m);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 4; k++)
			out[4 * i + k] = (uint8_t)(h[i] >> (8 * k));
}

static void hexs(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* a zip archive of one stored (uncompressed) member */
static size_t zip1(const char *name, const void *data, size_t n, uint8_t *out, size_t cap)
{
	size_t nl = strlen(name), k = 0;
	uint32_t crc = crc32(data, n);
	assert_true(30 + nl + n + 46 + nl + 22 <= cap);
#define U16(v) (out[k++] = (uint8_t)(v), out[k++] = (uint8_t)((v) >> 8))
#define U32(v) (U16((v)&0xffff), U16((uint32_t)(v) >> 16))
	U32(0x04034b50u);
	U16(20);
	U16(0);
	U16(0); /* stored */
	U16(0);
	U16(0x21);
	U32(crc);
	U32(n);
	U32(n);
	U16(nl);
	U16(0);
	memcpy(out + k, name, nl);
	k += nl;
	memcpy(out + k, data, n);
	k += n;
	size_t cd = k;
	U32(0x02014b50u);
	U16(20);
	U16(20);
	U16(0);
	U16(0);
	U16(0);
	U16(0x21);
	U32(crc);
	U32(n);
	U32(n);
	U16(nl);
	U16(0);
	U16(0);
	U16(0);
	U16(0);
	U32(0);
	U32(0);
	memcpy(out + k, name, nl);
	k += nl;
	size_t cdlen = k - cd;
	U32(0x06054b50u);
	U16(0);
	U16(0);
	U16(1);
	U16(1);
	U32(cdlen);
	U32(cd);
	U16(0);
#undef U16
#undef U32
	return k;
}

static size_t b64(const uint8_t *d, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t k = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
		             (i + 2 < n ? d[i + 2] : 0);
		out[k++] = t[v >> 18 & 63];
		out[k++] = t[v >> 12 & 63];
		out[k++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[k++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[k] = '\0';
	return k;
}

static void cfg_init(om_av_config *c, const char *dir)
{
	void *o = c;
	om_av_config_schema.defaults(o);
	c->enabled = true;
	snprintf(c->db_dir, sizeof(c->db_dir), "%s", dir);
	c->reload_interval = 0;
}

static om_av *open_dir(const char *dir)
{
	om_av_config c;
	cfg_init(&c, dir);
	om_av *av = NULL;
	char err[512] = "";
	int r = om_av_open(&c, &av, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "open: %s\n", err);
	assert_int_equal(r, 0);
	return av;
}

static void scan(om_av *av, const void *d, size_t n, om_av_result *r)
{
	assert_int_equal(om_av_scan_buffer(av, d, n, NULL, r), 0);
}

/* ---- the three signature kinds on EICAR ---------------------------------------- */

static void eicar_hdb(const char *dir)
{
	uint8_t h[16];
	char hx[33], line[128];
	md5((const uint8_t *)eicar, eicar_len, h);
	hexs(h, 16, hx);
	snprintf(line, sizeof(line), "%s:%zu:Omamori.Test.Eicar.Hdb\n", hx, eicar_len);
	write_str(dir, "test.hdb", line);
}

static void test_md5_vector(void **state)
{
	(void)state;
	/* RFC 1321's own vectors: the .hdb lines depend on this MD5 */
	uint8_t h[16];
	char hx[33];
	md5((const uint8_t *)"abc", 3, h);
	hexs(h, 16, hx);
	assert_string_equal(hx, "900150983cd24fb0d6963f7d28e17f72");
	md5((const uint8_t *)"", 0, h);
	hexs(h, 16, hx);
	assert_string_equal(hx, "d41d8cd98f00b204e9800998ecf8427e");
	/* CRC-32 check value of "123456789" */
	assert_int_equal(crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

static void test_hdb(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av *av = open_dir(dir);
	om_av_result r;
	scan(av, eicar, eicar_len, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	/* ClamAV marks signatures outside its signed databases */
	assert_string_equal(r.signature, "Omamori.Test.Eicar.Hdb.UNOFFICIAL");
	assert_string_equal(r.engine, "clamav");
	assert_string_equal(r.db_version, "local");
	assert_int_equal(r.skip, 0);
	/* one byte more is another MD5: clean */
	char more[96];
	snprintf(more, sizeof(more), "%s\n", eicar);
	scan(av, more, eicar_len + 1, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	char v[64];
	unsigned sigs = 0;
	om_av_db_version(av, v, sizeof(v), &sigs);
	assert_string_equal(v, "local");
	assert_int_equal(sigs, 1);
	om_av_close(av);
	rm_tree(dir);
}

static void test_ndb_ldb(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	char hx[200], line[400];
	/* .ndb: the body pattern anywhere in any file */
	hexs((const uint8_t *)eicar_b, 34, hx); /* "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" */
	snprintf(line, sizeof(line), "Omamori.Test.Eicar.Ndb:0:*:%s\n", hx);
	write_str(dir, "test.ndb", line);
	/* .ldb: both halves, the first at offset 0 */
	char h1[80], h2[80];
	hexs((const uint8_t *)eicar_a, 8, h1); /* "X5O!P%@A" */
	hexs((const uint8_t *)"ANTIVIRUS-TEST-FILE", 19, h2);
	snprintf(line, sizeof(line), "Omamori.Test.Eicar.Ldb;Engine:51-255,Target:0;0&1;0:%s;%s\n", h1,
	         h2);
	write_str(dir, "test.ldb", line);
	om_av *av = open_dir(dir);
	om_av_result r;
	/* the EICAR string padded so the .hdb-like exact match cannot be what hits */
	char buf[200];
	int n = snprintf(buf, sizeof(buf), "%s  padding after the string\n", eicar);
	scan(av, buf, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	/* both match: ClamAV reports one of them (its first) */
	assert_true(!strcmp(r.signature, "Omamori.Test.Eicar.Ndb.UNOFFICIAL") ||
	            !strcmp(r.signature, "Omamori.Test.Eicar.Ldb.UNOFFICIAL"));
	/* only the .ldb: the first half must be at offset 0 */
	n = snprintf(buf, sizeof(buf), "zz%sANTIVIRUS-TEST-FILE", eicar_a);
	scan(av, buf, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	n = snprintf(buf, sizeof(buf), "%s....ANTIVIRUS-TEST-FILE", eicar_a);
	scan(av, buf, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.signature, "Omamori.Test.Eicar.Ldb.UNOFFICIAL");
	/* only the .ndb */
	n = snprintf(buf, sizeof(buf), "see EICAR-STANDARD-ANTIVIRUS-TEST-FILE here");
	scan(av, buf, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.signature, "Omamori.Test.Eicar.Ndb.UNOFFICIAL");
	unsigned sigs = 0;
	char v[64];
	om_av_db_version(av, v, sizeof(v), &sigs);
	assert_int_equal(sigs, 2);
	om_av_close(av);
	rm_tree(dir);
}

/* ---- containers: zip, MIME, nested zip with limits --------------------------------- */

static void test_zip_mime(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av *av = open_dir(dir);
	om_av_result r;
	uint8_t zip[1024];
	size_t zn = zip1("eicar.com", eicar, eicar_len, zip, sizeof(zip));
	scan(av, zip, zn, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.signature, "Omamori.Test.Eicar.Hdb.UNOFFICIAL");
	/* the same zip holding something else is clean */
	uint8_t zc[1024];
	size_t zcn = zip1("readme.txt", "hello, world\n", 13, zc, sizeof(zc));
	scan(av, zc, zcn, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_int_equal(r.skip, 0);
	/* a mail with the zip as a base64 attachment (as a milter sees it) */
	char b[2048], mail[4096];
	b64(zip, zn, b);
	int n = snprintf(mail, sizeof(mail),
	                 "From: a@example.com\r\nTo: b@example.com\r\nSubject: invoice\r\n"
	                 "MIME-Version: 1.0\r\n"
	                 "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	                 "--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	                 "--XX\r\nContent-Type: application/zip; name=\"a.zip\"\r\n"
	                 "Content-Transfer-Encoding: base64\r\n"
	                 "Content-Disposition: attachment; filename=\"a.zip\"\r\n\r\n%s\r\n"
	                 "--XX--\r\n",
	                 b);
	scan(av, mail, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.signature, "Omamori.Test.Eicar.Hdb.UNOFFICIAL");
	/* the same mail with the clean zip */
	b64(zc, zcn, b);
	n = snprintf(mail, sizeof(mail),
	             "From: a@example.com\r\nSubject: notes\r\nMIME-Version: 1.0\r\n"
	             "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	             "--XX\r\nContent-Type: application/zip; name=\"a.zip\"\r\n"
	             "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n",
	             b);
	scan(av, mail, (size_t)n, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	om_av_close(av);
	rm_tree(dir);
}

static void test_limits(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av_config c;
	cfg_init(&c, dir);
	c.max_recursion = 1;
	om_av *av = NULL;
	char err[512];
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), 0);
	uint8_t z1[1024], z2[2048], z3[4096];
	size_t n1 = zip1("eicar.com", eicar, eicar_len, z1, sizeof(z1));
	size_t n2 = zip1("inner.zip", z1, n1, z2, sizeof(z2));
	size_t n3 = zip1("middle.zip", z2, n2, z3, sizeof(z3));
	om_av_result r;
	/* EICAR three archives deep, one level allowed: not reached, and said so */
	scan(av, z3, n3, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_true(r.skip & OM_AV_SKIP_RECURSION);
	char names[160];
	om_av_skip_names(r.skip, names, sizeof(names));
	assert_non_null(strstr(names, "max-recursion"));
	om_av_close(av);
	/* with the default depth the same archive is found */
	av = open_dir(dir);
	scan(av, z3, n3, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	om_av_close(av);
	/* max-scan: ClamAV reads at most this much inside a file */
	cfg_init(&c, dir);
	c.max_scan = 1024;
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), 0);
	size_t big = 64 * 1024;
	uint8_t *zb = malloc(big + 1024), *pad = calloc(1, big);
	assert_non_null(zb);
	assert_non_null(pad);
	memcpy(pad + big - eicar_len, eicar, eicar_len);
	size_t nb = zip1("big.bin", pad, big, zb, big + 1024);
	scan(av, zb, nb, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_true(r.skip & OM_AV_SKIP_MAX_SCAN);
	free(zb);
	om_av_close(av);
	/* a buffer larger than max-file is not looked at, even with EICAR first */
	cfg_init(&c, dir);
	c.max_file = 1024;
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), 0);
	memset(pad, ' ', 4096);
	memcpy(pad, eicar, eicar_len);
	scan(av, pad, 4096, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_true(r.skip & OM_AV_SKIP_MAX_FILE);
	/* the same bytes within max-file are: the .hdb is of the 68 bytes, so
	 * cut it to them */
	scan(av, pad, eicar_len, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	free(pad);
	om_av_close(av);
	rm_tree(dir);
}

/* ---- Debian's clamav-testfiles ----------------------------------------------------- */

static void test_testfiles(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	FILE *f = fopen(TESTFILES "/clam.exe", "rb");
	assert_non_null(f); /* scripts/install-deps installs clamav-testfiles */
	uint8_t exe[4096];
	size_t en = fread(exe, 1, sizeof(exe), f);
	fclose(f);
	assert_true(en > 0 && en < sizeof(exe));
	uint8_t h[16];
	char hx[33], line[128];
	md5(exe, en, h);
	hexs(h, 16, hx);
	snprintf(line, sizeof(line), "%s:%zu:Omamori.Test.ClamExe\n", hx, en);
	write_str(dir, "clam.hdb", line);
	om_av *av = open_dir(dir);
	DIR *d = opendir(TESTFILES);
	assert_non_null(d);
	struct dirent *e;
	unsigned files = 0, found = 0;
	uint8_t *buf = malloc(8u << 20);
	assert_non_null(buf);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[600];
		snprintf(p, sizeof(p), "%s/%s", TESTFILES, e->d_name);
		FILE *tf = fopen(p, "rb");
		assert_non_null(tf);
		size_t n = fread(buf, 1, 8u << 20, tf);
		fclose(tf);
		om_av_result r;
		assert_int_equal(om_av_scan_buffer(av, buf, n, e->d_name, &r), 0);
		files++;
		/* every test file is clam.exe in some container or packer */
		if (r.status == OM_AV_INFECTED &&
		    !strcmp(r.signature, "Omamori.Test.ClamExe.UNOFFICIAL"))
			found++;
		else
			fprintf(stderr, "not found: %s (skip 0x%x)\n", e->d_name, r.skip);
	}
	closedir(d);
	free(buf);
	assert_true(files >= 40);
	assert_int_equal(found, files);
	om_av_close(av);
	rm_tree(dir);
}

/* ---- clean files ------------------------------------------------------------------------ */

static void test_clean(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av *av = open_dir(dir);
	om_av_result r;
	static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	                          "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
	                          "trailer << /Root 1 0 R >>\n%%EOF\n";
	scan(av, pdf, sizeof(pdf) - 1, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_int_equal(r.skip, 0);
	static const char html[] = "<html><body><p>EICAR is a test file.</p></body></html>";
	scan(av, html, sizeof(html) - 1, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	uint8_t rnd[8192];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		x = x * 1103515245u + 12345u;
		rnd[i] = (uint8_t)(x >> 16);
	}
	scan(av, rnd, sizeof(rnd), &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	scan(av, "", 0, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	om_av_stats st;
	om_av_stats_get(av, &st);
	assert_int_equal(st.scanned, 4);
	assert_int_equal(st.bytes, sizeof(pdf) - 1 + sizeof(html) - 1 + sizeof(rnd));
	om_av_close(av);
	rm_tree(dir);
}

/* ---- errors: no directory, no signatures, a broken database -------------------------------- */

static void test_open_errors(void **state)
{
	(void)state;
	om_av_config c;
	om_av *av = NULL;
	char err[512];
	cfg_init(&c, "/nonexistent/omamori-av");
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/omamori-av"));
	assert_non_null(strstr(err, "freshclam"));
	char *dir = mkdir_tmp();
	cfg_init(&c, dir);
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "freshclam"));
	write_str(dir, "bad.ndb", "this is not a signature\n");
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, dir));
	assert_null(av);
	rm_tree(dir);
}

/* ---- reload without stopping the scans ---------------------------------------------- */

struct scanner {
	om_av *av;
	atomic_bool stop;
	atomic_uint scans, errors;
};

static void *scan_loop(void *arg)
{
	struct scanner *s = arg;
	while (!atomic_load(&s->stop)) {
		om_av_result r;
		if (om_av_scan_buffer(s->av, eicar, eicar_len, NULL, &r) < 0 ||
		    r.status != OM_AV_INFECTED)
			atomic_fetch_add(&s->errors, 1);
		atomic_fetch_add(&s->scans, 1);
	}
	return NULL;
}

static void test_reload(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av *av = open_dir(dir);
	char err[512];
	static const char marker[] = "omamori reload marker: a new signature finds this";
	om_av_result r;
	scan(av, marker, sizeof(marker) - 1, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	assert_int_equal(om_av_reload_check(av, err, sizeof(err)), 0); /* unchanged */
	struct scanner s = {.av = av};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, scan_loop, &s), 0);
	char hx[200], line[300];
	hexs((const uint8_t *)"reload marker", 13, hx);
	snprintf(line, sizeof(line), "Omamori.Test.Marker:0:*:%s\n", hx);
	write_str(dir, "marker.ndb", line);
	assert_int_equal(om_av_reload_check(av, err, sizeof(err)), 1);
	scan(av, marker, sizeof(marker) - 1, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.signature, "Omamori.Test.Marker.UNOFFICIAL");
	/* a broken file: the working databases stay in use */
	write_str(dir, "broken.ndb", "not a signature\n");
	assert_int_equal(om_av_reload_check(av, err, sizeof(err)), -EINVAL);
	scan(av, marker, sizeof(marker) - 1, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	atomic_store(&s.stop, true);
	pthread_join(t, NULL);
	/* the scans went on through both reloads and every one found EICAR */
	assert_true(atomic_load(&s.scans) > 0);
	assert_int_equal(atomic_load(&s.errors), 0);
	om_av_stats st;
	om_av_stats_get(av, &st);
	assert_int_equal(st.reloads, 1);
	assert_int_equal(st.reload_errors, 1);
	om_av_close(av);
	rm_tree(dir);
}

static void test_reload_thread(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	om_av_config c;
	cfg_init(&c, dir);
	c.reload_interval = 1;
	om_av *av = NULL;
	char err[512];
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), 0);
	char hx[200], line[300];
	hexs((const uint8_t *)"thread marker", 13, hx);
	snprintf(line, sizeof(line), "Omamori.Test.Thread:0:*:%s\n", hx);
	write_str(dir, "t.ndb", line);
	om_av_result r = {0};
	for (int i = 0; i < 100; i++) { /* up to 10 s */
		scan(av, "a thread marker", 15, &r);
		if (r.status == OM_AV_INFECTED)
			break;
		usleep(100000);
	}
	assert_int_equal(r.status, OM_AV_INFECTED);
	om_av_close(av);
	rm_tree(dir);
}

/* ---- YARA ----------------------------------------------------------------------------------- */

static void test_yara(void **state)
{
	(void)state;
	char *dir = mkdir_tmp();
	eicar_hdb(dir);
	char *ydir = mkdir_tmp();
	write_str(ydir, "t.yar",
	          "rule Omamori_Test_Invoice_Macro {\n"
	          "  strings: $a = \"AutoOpen\" $b = \"Shell(\"\n"
	          "  condition: $a and $b\n}\n");
	om_av_config c;
	cfg_init(&c, dir);
	snprintf(c.yara_rules, sizeof(c.yara_rules), "%s", ydir);
	om_av *av = NULL;
	char err[512];
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), 0);
	om_av_result r;
	static const char mac[] = "Sub AutoOpen()\n  Shell(\"cmd /c calc\")\nEnd Sub\n";
	scan(av, mac, sizeof(mac) - 1, &r);
	assert_int_equal(r.status, OM_AV_INFECTED);
	assert_string_equal(r.engine, "yara");
	assert_string_equal(r.signature, "Omamori_Test_Invoice_Macro");
	static const char half[] = "Sub AutoOpen()\nEnd Sub\n";
	scan(av, half, sizeof(half) - 1, &r);
	assert_int_equal(r.status, OM_AV_CLEAN);
	/* ClamAV's finding comes first; the YARA rule is reported beside it */
	char both[300];
	int n = snprintf(both, sizeof(both), "%s", eicar);
	scan(av, both, (size_t)n, &r);
	assert_string_equal(r.engine, "clamav");
	om_av_close(av);
	/* a rule that does not compile: file and line in the message */
	write_str(ydir, "u.yar", "rule broken {\n condition: $nothing\n}\n");
	assert_int_equal(om_av_open(&c, &av, err, sizeof(err)), -EINVAL);
	/* libyara names the line where it noticed (the rule's last) */
	assert_non_null(strstr(err, "u.yar:3"));
	assert_non_null(strstr(err, "$nothing"));
	rm_tree(ydir);
	rm_tree(dir);
}

int main(void)
{
	make_eicar();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_md5_vector), cmocka_unit_test(test_hdb),
	    cmocka_unit_test(test_ndb_ldb),    cmocka_unit_test(test_zip_mime),
	    cmocka_unit_test(test_limits),     cmocka_unit_test(test_testfiles),
	    cmocka_unit_test(test_clean),      cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_reload),     cmocka_unit_test(test_reload_thread),
	    cmocka_unit_test(test_yara),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
