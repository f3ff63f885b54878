/*
 * Ring buffer under one mutex and two condition variables.  Small on
 * purpose: the queues carry indices, never data, and hold at most a
 * few entries per worker, so contention is negligible next to the
 * seconds each image takes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "queue.h"

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;	/* signalled on push and close */
	pthread_cond_t not_full;	/* signalled on pop and close */
	size_t *items;			/* guarded by lock, as are the fields below */
	size_t capacity, head, count;
	int closed;
};

struct queue *
queue_new(size_t capacity)
{
	struct queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t attr;

	if (!q || capacity == 0 || !(q->items = calloc(capacity, sizeof(size_t)))) {
		free(q);
		return NULL;
	}
	q->capacity = capacity;
	pthread_mutex_init(&q->lock, NULL);
	/* timed waits use the monotonic clock: wall-clock jumps must not
	 * stall or spin the scheduler */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_empty, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&q->not_full, NULL);
	return q;
}

void
queue_free(struct queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->items);
	free(q);
}

int
queue_push(struct queue *q, size_t item)
{
	int ret = -1;

	pthread_mutex_lock(&q->lock);
	while (q->count == q->capacity && !q->closed)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (!q->closed) {
		q->items[(q->head + q->count) % q->capacity] = item;
		q->count++;
		pthread_cond_signal(&q->not_empty);
		ret = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int
queue_pop(struct queue *q, size_t *item, int timeout_ms)
{
	struct timespec deadline;
	int ret;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->not_empty, &q->lock);
		else if (pthread_cond_timedwait(&q->not_empty, &q->lock,
						&deadline) == ETIMEDOUT)
			break;
	}
	if (q->count) {
		*item = q->items[q->head];
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		pthread_cond_signal(&q->not_full);
		ret = 0;
	} else {
		ret = q->closed ? -1 : 1;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}
