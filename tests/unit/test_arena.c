/*
 * Unit tests of server/arena.c: blocks are aligned and distinct, the budget is a hard bound
 * (an allocation past it fails and says so, an unpack under it fails cleanly), the first block
 * leads back to its owner, and a decoded Envelope lives in the arena it came from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "veille/v1/envelope.pb-c.h"

static void test_blocks_aligned_and_distinct(void **state)
{
	struct arena *a = arena_new(1 << 20);
	ProtobufCAllocator al = arena_allocator(a);
	char *p[100];

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 100; i++) {
		p[i] = al.alloc(al.allocator_data, (size_t)(i * 37 % 5000) + 1);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		memset(p[i], i, (size_t)(i * 37 % 5000) + 1); /* under asan: inside its block */
	}
	/* One block larger than a chunk. */
	assert_non_null(al.alloc(al.allocator_data, 200000));
	al.free(al.allocator_data, p[3]); /* a no-op */
	assert_ptr_equal(arena_first(a), p[0]);
	assert_false(arena_exhausted(a));
	arena_free(a);
	arena_free(NULL);
}

static void test_budget_is_a_hard_bound(void **state)
{
	struct arena *a = arena_new(4096);
	ProtobufCAllocator al = arena_allocator(a);

	(void)state;
	assert_non_null(al.alloc(al.allocator_data, 4000));
	assert_null(al.alloc(al.allocator_data, 200)); /* 4000 + 200 > 4096 */
	assert_true(arena_exhausted(a));
	arena_free(a);

	a = arena_new(100);
	al = arena_allocator(a);
	assert_null(al.alloc(al.allocator_data, SIZE_MAX)); /* no overflow in the rounding */
	assert_true(arena_exhausted(a));
	arena_free(a);
}

static void test_owner_and_unpack(void **state)
{
	Veille__V1__Envelope env = VEILLE__V1__ENVELOPE__INIT, *out;
	Veille__V1__Hello hello = VEILLE__V1__HELLO__INIT;
	uint8_t buf[256];
	size_t len;
	struct arena *a;
	ProtobufCAllocator al;
	int marker;

	(void)state;
	hello.client = "test";
	env.request_id = 7;
	env.body_case = VEILLE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	len = veille__v1__envelope__pack(&env, buf);

	a = arena_new(1 << 16);
	al = arena_allocator(a);
	out = veille__v1__envelope__unpack(&al, len, buf);
	assert_non_null(out);
	assert_ptr_equal(arena_first(a), out); /* protobuf-c allocates the message first */
	arena_set_owner(a, &marker);
	assert_ptr_equal(arena_owner(out), &marker);
	assert_int_equal(out->request_id, 7);
	assert_string_equal(out->hello->client, "test");
	arena_free(a);

	/* Too small a budget: the unpack fails, and the arena says it was the budget. */
	a = arena_new(16);
	al = arena_allocator(a);
	assert_null(veille__v1__envelope__unpack(&al, len, buf));
	assert_true(arena_exhausted(a));
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_aligned_and_distinct),
		cmocka_unit_test(test_budget_is_a_hard_bound),
		cmocka_unit_test(test_owner_and_unpack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
