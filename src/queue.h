/*
 * A bounded, blocking FIFO of job indices, shared by threads.
 *
 * The scheduler uses two: "todo" (main thread -> workers) and "done"
 * (workers -> main thread).  All functions are thread-safe.
 */
#ifndef IMGBAKE_QUEUE_H
#define IMGBAKE_QUEUE_H

#include <stddef.h>

struct queue;

/* A queue holding at most `capacity` (>= 1) items.  NULL on ENOMEM. */
struct queue *queue_new(size_t capacity);
void queue_free(struct queue *q);

/* Append, waiting while the queue is full.  -1 if the queue is closed. */
int queue_push(struct queue *q, size_t item);

/* Take the oldest item, waiting while the queue is empty.  Returns 0,
 * -1 when the queue is closed and drained, or 1 when `timeout_ms`
 * (if >= 0) passed with nothing to take. */
int queue_pop(struct queue *q, size_t *item, int timeout_ms);

/* Refuse further pushes and wake every waiter; items already queued
 * can still be popped. */
void queue_close(struct queue *q);

#endif
