/* thread.c: per-thread blocks of the proto module (internal.h,
 * proto_thread_block). One pthread key holds a small table of the
 * thread's blocks, one per enum proto_thread_slot; each block is made
 * zeroed at the thread's first call and given to its release function
 * when the thread exits. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "proto/internal.h"

struct thread_blocks {
	void *b[PROTO_THREAD_N];
	void (*release[PROTO_THREAD_N])(void *);
};

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool key_ok;

static void blocks_free(void *p)
{
	struct thread_blocks *t = p;
	for (int k = 0; k < PROTO_THREAD_N; k++)
		if (t->b[k]) {
			if (t->release[k])
				t->release[k](t->b[k]);
			free(t->b[k]);
		}
	free(t);
}

static void key_init(void)
{
	key_ok = pthread_key_create(&key, blocks_free) == 0;
}

void *proto_thread_block(enum proto_thread_slot slot, size_t size, void (*release)(void *))
{
	pthread_once(&once, key_init);
	if (!key_ok || (unsigned)slot >= PROTO_THREAD_N)
		return NULL;
	struct thread_blocks *t = pthread_getspecific(key);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		if (pthread_setspecific(key, t) != 0) {
			free(t);
			return NULL;
		}
	}
	if (!t->b[slot]) {
		t->b[slot] = calloc(1, size);
		t->release[slot] = release;
	}
	return t->b[slot];
}
