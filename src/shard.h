/*
 * Sharding: one tree converted by N independent runs (the tasks of a
 * job array), each taking a fixed share of the sources.  A source's
 * share is a hash of its output name without the extension, width or
 * content hash, so it depends on nothing but that name: not on walk
 * order, the machine, or which other files exist; and two sources
 * that would write the same output always fall in the same share,
 * where the usual collision check sees them.
 */
#ifndef IMGBAKE_SHARD_H
#define IMGBAKE_SHARD_H

#include <stddef.h>

/* "K/N" with 0 <= K < N <= 1000000.  Returns 0 or -1. */
int shard_parse(const char *s, int *k, int *n);

/* --shard auto: the index and count from the environment of a job-array
 * engine.  `count` is --shards (0 if not given), needed by engines that
 * give only an index.  On success *from names the variable used. */
int shard_from_env(int count, int *k, int *n, const char **from,
	char *err, size_t errlen);

/* The share, 0..n-1, of a source whose output name skeleton is `key`. */
int shard_of(const char *key, int n);

#endif
