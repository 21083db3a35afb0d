/* digest.c: the digests of the proto module, fetched once (digest.h). */
#include <pthread.h>

#include "proto/digest.h"

static const EVP_MD *mds[PROTO_MD_N];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	static const char *const names[PROTO_MD_N] = {"MD5", "SHA1", "SHA256"};
	const EVP_MD *builtin[PROTO_MD_N] = {EVP_md5(), EVP_sha1(), EVP_sha256()};
	for (int k = 0; k < PROTO_MD_N; k++) {
		EVP_MD *m = EVP_MD_fetch(NULL, names[k], NULL);
		mds[k] = m ? m : builtin[k]; /* kept for the process's life */
	}
}

const EVP_MD *proto_md(enum proto_md k)
{
	pthread_once(&once, fetch_all);
	return mds[k];
}

unsigned proto_digest(enum proto_md k, const void *d, size_t n, unsigned char *out)
{
	unsigned len = 0;
	if (!EVP_Digest(d, n, out, &len, proto_md(k), NULL))
		return 0;
	return len;
}
