/* digest.c: the digests of the proto module, fetched once (digest.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "proto/digest.h"
#include "proto/internal.h"

static const EVP_MD *mds[PROTO_MD_N];
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* each thread's contexts for proto_digest, made at its first call and
 * freed when it exits: a one-shot EVP_Digest made and freed a context
 * (and the implementation's state inside it) every time */
struct ctxs {
	EVP_MD_CTX *c[PROTO_MD_N];
};

static void ctxs_release(void *p)
{
	struct ctxs *x = p;
	for (int k = 0; k < PROTO_MD_N; k++)
		EVP_MD_CTX_free(x->c[k]);
}

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

/* This thread's context for digest k, or NULL (then a one-shot digest). */
static EVP_MD_CTX *thread_ctx(enum proto_md k)
{
	struct ctxs *x = proto_thread_block(PROTO_THREAD_DIGEST, sizeof(*x), ctxs_release);
	if (!x)
		return NULL;
	if (!x->c[k])
		x->c[k] = EVP_MD_CTX_new();
	return x->c[k];
}

unsigned proto_digest(enum proto_md k, const void *d, size_t n, unsigned char *out)
{
	const EVP_MD *md = proto_md(k);
	unsigned len = 0;
	EVP_MD_CTX *c = thread_ctx(k);
	if (!c)
		return EVP_Digest(d, n, out, &len, md, NULL) ? len : 0;
	if (!EVP_DigestInit_ex(c, md, NULL) || !EVP_DigestUpdate(c, d, n) ||
	    !EVP_DigestFinal_ex(c, out, &len))
		return 0;
	return len;
}
