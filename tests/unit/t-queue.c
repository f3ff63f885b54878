/* Unit tests: the bounded queue, alone and between threads. */
#include <pthread.h>
#include <stdlib.h>

#include "queue.h"
#include "tap.h"

#define ITEMS 100000

struct producer {
	struct queue *q;
	size_t first, count;
};

static void *
produce(void *p)
{
	struct producer *pr = p;
	size_t i;

	for (i = 0; i < pr->count; i++)
		queue_push(pr->q, pr->first + i);
	return NULL;
}

int
main(void)
{
	struct queue *q = queue_new(3);
	struct producer pr[2];
	pthread_t th[2];
	unsigned char *seen;
	size_t item, i, got = 0, dups = 0;
	size_t last[2] = { 0, ITEMS / 2 };
	int in_order = 1;

	ok(q != NULL, "queue_new");
	ok(queue_new(0) == NULL, "capacity 0 is refused");
	ok(queue_push(q, 7) == 0 && queue_push(q, 8) == 0, "push two");
	ok(queue_pop(q, &item, 0) == 0 && item == 7, "first in, first out");
	ok(queue_pop(q, &item, 0) == 0 && item == 8, "second out");
	ok(queue_pop(q, &item, 10) == 1, "pop on empty times out");
	queue_push(q, 9);
	queue_close(q);
	ok(queue_push(q, 10) == -1, "push after close fails");
	ok(queue_pop(q, &item, -1) == 0 && item == 9, "queued items survive close");
	ok(queue_pop(q, &item, -1) == -1, "closed and drained: pop fails");
	queue_free(q);

	/* two producers, one consumer, a queue much smaller than the load:
	 * every item arrives exactly once, each producer's in order */
	q = queue_new(4);
	seen = calloc(ITEMS, 1);
	for (i = 0; i < 2; i++) {
		pr[i] = (struct producer){ q, i * (ITEMS / 2), ITEMS / 2 };
		pthread_create(&th[i], NULL, produce, &pr[i]);
	}
	while (got < ITEMS && queue_pop(q, &item, 5000) == 0) {
		int who = item >= ITEMS / 2;

		if (seen[item]++)
			dups++;
		if (item != last[who])
			in_order = 0;
		last[who] = item + 1;
		got++;
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	is_int(got, ITEMS, "every item received");
	is_int(dups, 0, "no item twice");
	ok(in_order, "each producer's items in order");
	queue_free(q);
	free(seen);
	return done_testing();
}
