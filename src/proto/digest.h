/* digest.h: the message digests the proto module computes (file hashes,
 * certificate fingerprints, JA3/JA4), looked up in OpenSSL's provider once
 * per process instead of at every EVP_DigestInit_ex (OpenSSL 3 fetches the
 * implementation again each time it is given EVP_md5() and the like). */
#ifndef OMAMORI_PROTO_DIGEST_H
#define OMAMORI_PROTO_DIGEST_H

#include <stddef.h>

#include <openssl/evp.h>

enum proto_md { PROTO_MD5 = 0, PROTO_SHA1, PROTO_SHA256, PROTO_MD_N };

/* The implementation of digest k, fetched on the first call (any thread);
 * never NULL (when the fetch fails, OpenSSL's built-in handle is given). */
const EVP_MD *proto_md(enum proto_md k);

/* One-shot digest of d[0..n) into out (at least EVP_MAX_MD_SIZE bytes);
 * returns the digest's length, 0 on failure. */
unsigned proto_digest(enum proto_md k, const void *d, size_t n, unsigned char *out);

#endif
