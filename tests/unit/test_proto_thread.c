/* test_proto_thread.c: the proto module's per-thread blocks
 * (proto_thread_block): one zeroed block per thread and slot, the same on
 * every call, given to its release function when the thread exits. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/internal.h"

struct blk {
	int marks;
	unsigned char rest[200];
};

static int released;
static pthread_mutex_t released_lock = PTHREAD_MUTEX_INITIALIZER;

static void release(void *p)
{
	struct blk *b = p;
	pthread_mutex_lock(&released_lock);
	released += b->marks;
	pthread_mutex_unlock(&released_lock);
}

static void *thread_main(void *arg)
{
	struct blk **out = arg;
	struct blk *b = proto_thread_block(PROTO_THREAD_MIME, sizeof(*b), release);
	if (b) {
		b->marks = 5;
		/* a second call of this thread gives the same block */
		if (proto_thread_block(PROTO_THREAD_MIME, sizeof(*b), release) != b)
			b->marks = 1000;
	}
	*out = b;
	return NULL;
}

static void test_block_zeroed_and_kept(void **state)
{
	(void)state;
	struct blk *a = proto_thread_block(PROTO_THREAD_MIME, sizeof(*a), release);
	assert_non_null(a);
	assert_int_equal(a->marks, 0);
	static const unsigned char zero[sizeof(a->rest)];
	assert_memory_equal(a->rest, zero, sizeof(zero));
	a->marks = 7;
	assert_ptr_equal(proto_thread_block(PROTO_THREAD_MIME, sizeof(*a), release), a);
	/* another slot is another block */
	struct blk *t = proto_thread_block(PROTO_THREAD_TLS, sizeof(*t), NULL);
	assert_non_null(t);
	assert_ptr_not_equal(t, a);
	assert_int_equal(t->marks, 0);
	/* a slot out of range is refused */
	assert_null(proto_thread_block(PROTO_THREAD_N, sizeof(*a), release));
}

static void test_block_per_thread_released_at_exit(void **state)
{
	(void)state;
	struct blk *mine = proto_thread_block(PROTO_THREAD_MIME, sizeof(*mine), release);
	assert_non_null(mine);
	released = 0;
	struct blk *theirs[2] = {NULL, NULL};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &theirs[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_non_null(theirs[0]);
	assert_non_null(theirs[1]);
	assert_ptr_not_equal(theirs[0], mine);
	assert_ptr_not_equal(theirs[1], mine);
	/* both threads' blocks went to release as they exited (5 each; 1000
	 * if a thread was given a new block on its second call), this
	 * thread's is still there */
	assert_int_equal(released, 10);
	assert_ptr_equal(proto_thread_block(PROTO_THREAD_MIME, sizeof(*mine), release), mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_zeroed_and_kept),
	    cmocka_unit_test(test_block_per_thread_released_at_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
